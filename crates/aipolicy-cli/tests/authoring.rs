//! Policy authors' tools (issue 4): `validate`, `fmt`, `trace` and `matrix`, driven through the
//! same argument parsing as the binary, each test in its own temporary copy of the policies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use aipolicy::diagnostics::findings::{Check, Severity};
use aipolicy::inputs::{Inputs, Source};
use aipolicy::matrix::Matrix;
use aipolicy::project;
use aipolicy::{Action, Context, Engine, Language, Query, Role, Verdict};
use aipolicy_cli::{self as cli, Cli, Command, Exit};
use clap::Parser;

/// The repository's own `policies/` folder.
fn bundled_policies_dir() -> PathBuf {
    aipolicy_test_support::repo("policies")
}

/// A fresh temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "aipolicy-authoring-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// A temporary copy of the bundled policies.
    fn with_policies(name: &str) -> TempDir {
        let dir = TempDir::new(name);
        aipolicy_test_support::copy_policies(&dir.0);
        dir
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    /// Replaces `from` (which must occur exactly once) by `to` in `file`; returns the 1-based
    /// line where `from` stood.
    fn edit(&self, file: &str, from: &str, to: &str) -> usize {
        let path = self.path(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches(from).count(), 1, "`{from}` in {file}");
        let at = text.find(from).unwrap();
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        text[..at].matches('\n').count() + 1
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the command line `args` (without the program name); returns exit, stdout, stderr.
fn run(args: &[&str]) -> (Exit, String, String) {
    let cli = Cli::try_parse_from(std::iter::once("aipolicy").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = match cli.command {
        Command::Validate(a) => cli::validate::run(&a, &mut out, &mut err),
        Command::Fmt(a) => cli::fmt::run(&a, &mut out, &mut err),
        Command::Trace(a) => cli::trace::run(&a, &mut out, &mut err),
        Command::Matrix(a) => cli::matrix::run(&a, &mut out, &mut err),
        Command::Check(a) => cli::check::run(&a, &mut out, &mut err),
        other => panic!("not an authoring command: {other:?}"),
    };
    (
        exit,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn dir_arg(dir: &TempDir) -> String {
    dir.0.display().to_string()
}

// ---- validate ------------------------------------------------------------------------------

#[test]
fn validate_passes_on_the_bundled_policies_schema_and_register() {
    let (exit, out, err) = run(&["validate"]);
    assert_eq!(exit, Exit::Success, "{out}\n{err}");
    assert!(out.contains("ok: no errors"), "{out}");
    // Run in this crate's folder, inside the repository's project: it names the project's files
    // it checked, as a person in this folder would type them.
    assert!(
        err.starts_with(
            "inputs: policies ../../policies, schema ../../schemas/aipolicy.cedarschema,"
        ),
        "{err}"
    );

    let policies = bundled_policies_dir().display().to_string();
    let register = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("examples/askersund/register.yaml")
        .display()
        .to_string();
    let schema = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("schemas/aipolicy.cedarschema")
        .display()
        .to_string();
    let (exit, out, err) = run(&[
        "validate",
        "--policies",
        &policies,
        "--register",
        &register,
        "--schema",
        &schema,
    ]);
    assert_eq!(exit, Exit::Success, "{out}\n{err}");
}

#[test]
fn an_unknown_paragraph_fails_with_file_and_line() {
    let dir = TempDir::with_policies("unknown-paragraph");
    let line = dir.edit(
        "u3-publik-ai.cedar",
        "@paragraph(\"U3\")",
        "@paragraph(\"U9\")",
    );
    let (exit, out, err) = run(&["validate", "--policies", &dir_arg(&dir)]);
    assert_eq!(exit, Exit::Failure, "{out}\n{err}");
    let file = dir.path("u3-publik-ai.cedar").display().to_string();
    assert!(err.contains(&format!("{file}:{line}:")), "{err}");
    assert!(err.contains("unknown paragraph code `U9`"), "{err}");
    // With U3's only policy moved away, the paragraph is uncovered too.
    assert!(err.contains("paragraph `U3`"), "{err}");

    let validation = project::validate(
        &Inputs {
            policies: Source::Path(dir.0.clone()),
            ..Inputs::embedded()
        },
        today(),
    );
    let finding = validation
        .report
        .findings
        .iter()
        .find(|f| f.check == Check::UnknownParagraph)
        .unwrap();
    assert_eq!(finding.file(), file);
    assert_eq!(finding.line_column(), Some((line, 1)));
    assert!(finding.headline().starts_with("error[unknown-paragraph] "));
}

#[test]
fn a_removed_sv_fails_with_file_and_line() {
    let dir = TempDir::with_policies("removed-sv");
    let sv = "@sv(\"Publik AI får bara användas för information som är klassad som öppen.\")\n";
    dir.edit("u3-publik-ai.cedar", sv, "");
    let text = std::fs::read_to_string(dir.path("u3-publik-ai.cedar")).unwrap();
    let id_line = text
        .lines()
        .position(|l| l.starts_with("@id(\"u3-public-ai-open-only\")"))
        .unwrap()
        + 1;
    let (exit, out, err) = run(&["validate", "--policies", &dir_arg(&dir)]);
    assert_eq!(exit, Exit::Failure, "{out}\n{err}");
    let file = dir.path("u3-publik-ai.cedar").display().to_string();
    assert!(err.contains(&format!("{file}:{id_line}:")), "{err}");
    assert!(
        err.contains("policy `u3-public-ai-open-only` has no `@sv` annotation"),
        "{err}"
    );
}

#[test]
fn every_problem_of_every_file_is_reported_at_once() {
    let dir = TempDir::with_policies("many-problems");
    dir.edit(
        "u3-publik-ai.cedar",
        "@paragraph(\"U3\")",
        "@paragraph(\"U9\")",
    );
    dir.edit(
        "u4-avvikelser.cedar",
        "@id(\"u4-permit-report-incident\")",
        "@id(\"u3-public-ai-open-only\")",
    );
    dir.edit("s2-tillforlitlighet.cedar", "@en(\"", "@en(\"\")\n@note(\"");
    dir.edit(
        "u2-vilken-information.cedar",
        "context.data.named",
        "context.data.namd",
    );
    std::fs::write(
        dir.path("zz-broken.cedar"),
        "forbid (principal, action, resource",
    )
    .unwrap();
    let validation = project::validate(
        &Inputs {
            policies: Source::Path(dir.0.clone()),
            ..Inputs::embedded()
        },
        today(),
    );
    let checks: Vec<(Check, String)> = validation
        .report
        .findings
        .iter()
        .map(|f| {
            let file = Path::new(f.file())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (f.check, file)
        })
        .collect();
    for expected in [
        (Check::UnknownParagraph, "u3-publik-ai.cedar"),
        (Check::DuplicateId, "u4-avvikelser.cedar"),
        (Check::EmptyAnnotation, "s2-tillforlitlighet.cedar"),
        (Check::UnknownAnnotation, "s2-tillforlitlighet.cedar"),
        (Check::Schema, "u2-vilken-information.cedar"),
        (Check::Syntax, "zz-broken.cedar"),
    ] {
        assert!(
            checks.contains(&(expected.0, expected.1.to_string())),
            "{expected:?} not in {checks:#?}"
        );
    }
    let (exit, _, err) = run(&["validate", "--policies", &dir_arg(&dir)]);
    assert_eq!(exit, Exit::Failure);
    // One schema finding per place, not one per action of `anyUse`.
    assert_eq!(err.matches("context.data.namd").count(), 1, "{err}");
}

#[test]
fn a_paragraph_without_policy_is_an_error() {
    let dir = TempDir::with_policies("uncovered");
    std::fs::remove_file(dir.path("u5-utveckling.cedar")).unwrap();
    let (exit, out, err) = run(&["validate", "--policies", &dir_arg(&dir)]);
    assert_eq!(exit, Exit::Failure, "{out}\n{err}");
    assert!(
        err.contains("paragraph `U5` (Användning, punkt 5: utveckling) has no policy"),
        "{err}"
    );
}

#[test]
fn a_policy_that_can_never_apply_is_an_error() {
    let dir = TempDir::with_policies("never-applies");
    std::fs::write(
        dir.path("zz-never.cedar"),
        "@id(\"zz-never\")\n@paragraph(\"U3\")\n@sv(\"s\")\n@en(\"e\")\n\
         forbid (principal, action, resource)\nwhen { 1 > 2 && false };\n",
    )
    .unwrap();
    let validation = project::validate(
        &Inputs {
            policies: Source::Path(dir.0.clone()),
            ..Inputs::embedded()
        },
        today(),
    );
    let never: Vec<_> = validation
        .report
        .findings
        .iter()
        .filter(|f| f.check == Check::NeverApplies)
        .collect();
    assert_eq!(never.len(), 1, "{:#?}", validation.report.findings);
    assert_eq!(never[0].severity, Severity::Error);
    assert!(never[0].file().ends_with("zz-never.cedar"));
}

#[test]
fn an_invalid_register_fails_validate() {
    let dir = TempDir::new("register");
    let register = dir.path("register.yaml");
    std::fs::write(
        &register,
        "dataClasses:\n  - {id: oppen, name: Öppen, level: 7, personalData: none, secrecy: false}\naiSystems: []\n",
    )
    .unwrap();
    let (exit, out, err) = run(&["validate", "--register", &register.display().to_string()]);
    assert_eq!(exit, Exit::Failure, "{out}\n{err}");
    assert!(err.contains("dataClasses[0].level"), "{err}");
    assert!(
        err.contains(&format!("{}:2:", register.display())),
        "the line of the flow mapping: {err}"
    );
    assert!(out.contains("(invalid)"), "{out}");
}

#[test]
fn validate_json_lists_findings_with_positions() {
    let dir = TempDir::with_policies("json");
    let line = dir.edit(
        "u3-publik-ai.cedar",
        "@paragraph(\"U3\")",
        "@paragraph(\"X\")",
    );
    let (exit, out, _) = run(&["validate", "--policies", &dir_arg(&dir), "--format", "json"]);
    assert_eq!(exit, Exit::Failure);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["ok"], false);
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "unknown-paragraph")
        .unwrap();
    assert_eq!(finding["line"], line);
    assert_eq!(finding["column"], 1);
    assert_eq!(finding["severity"], "error");
}

// ---- fmt -----------------------------------------------------------------------------------

#[test]
fn the_bundled_policies_are_formatted() {
    let policies = bundled_policies_dir().display().to_string();
    let (exit, out, err) = run(&["fmt", "--check", &policies]);
    assert_eq!(exit, Exit::Success, "{out}\n{err}");
    assert!(out.is_empty(), "{out}");
}

#[test]
fn fmt_check_names_the_files_that_would_change_and_fmt_fixes_them() {
    let dir = TempDir::with_policies("fmt");
    dir.edit(
        "u3-publik-ai.cedar",
        "context.data.level > 0",
        "context.data.level>0",
    );
    let file = dir.path("u3-publik-ai.cedar");
    let before = std::fs::read_to_string(&file).unwrap();
    let (exit, out, _) = run(&["fmt", "--check", &dir_arg(&dir)]);
    assert_eq!(exit, Exit::Failure);
    let name = file.display().to_string();
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(format!("would reformat {name}").as_str())
    );
    // How it would change, as a unified diff: the line as it is, and as it would be.
    assert_eq!(lines.next(), Some(format!("--- {name}").as_str()), "{out}");
    assert_eq!(
        lines.next(),
        Some(format!("+++ {name} (formatted)").as_str()),
        "{out}"
    );
    let removed: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    let added: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert!(
        removed.len() == 1 && removed[0].contains("context.data.level>0"),
        "{out}"
    );
    assert!(
        added.len() == 1 && added[0].contains("context.data.level > 0"),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("@@ ")), "{out}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "--check wrote"
    );

    let (exit, out, _) = run(&["fmt", &file.display().to_string()]);
    assert_eq!(exit, Exit::Success);
    assert!(out.contains("reformatted"), "{out}");
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.contains("context.data.level > 0"));
    assert!(after.contains("// U3 Användning, punkt 3"), "comments kept");
    assert!(after.contains("@sv(\"Publik AI"), "annotations kept");
    let (exit, _, _) = run(&["fmt", "--check", &dir_arg(&dir)]);
    assert_eq!(exit, Exit::Success);
}

#[test]
fn fmt_reports_a_file_that_does_not_parse() {
    let dir = TempDir::new("fmt-broken");
    std::fs::write(dir.path("a.cedar"), "forbid (principal, action, resource").unwrap();
    let (exit, _, err) = run(&["fmt", "--check", &dir_arg(&dir)]);
    assert_eq!(exit, Exit::InputError);
    assert!(err.contains("a.cedar:1:"), "{err}");
}

// ---- trace ---------------------------------------------------------------------------------

#[test]
fn trace_lists_every_paragraph_with_its_policies_and_the_context_sections() {
    let (exit, out, err) = run(&["trace", "--scenarios", "/nonexistent/scenarios"]);
    assert_eq!(exit, Exit::Success, "{err}");
    for paragraph in aipolicy::Paragraph::ALL {
        assert!(
            out.contains(&format!(
                "| {} | {} |",
                paragraph.code(),
                paragraph.title_sv()
            )),
            "{paragraph} missing:\n{out}"
        );
    }
    assert!(out.contains("Bakgrund, Syfte, Mål, Styrdokument"), "{out}");
    // Run in this crate's folder, inside the repository's project: its policies one level up.
    assert!(
        out.contains("`u3-public-ai-open-only` (../../policies/u3-publik-ai.cedar:"),
        "{out}"
    );
    assert!(err.contains("/nonexistent/scenarios"), "{err}");

    let (exit, out, _) = run(&[
        "trace",
        "--format",
        "json",
        "--scenarios",
        "/nonexistent/scenarios",
    ]);
    assert_eq!(exit, Exit::Success);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["paragraphs"].as_array().unwrap().len(), 12);
    assert_eq!(json["context"][0], "Bakgrund");
    assert_eq!(json["summary"]["implemented"], 12);
}

#[test]
fn validate_warns_about_systems_the_ai_act_rules_cannot_judge() {
    let dir = TempDir::new("ai-act");
    let register = dir.path("register.yaml");
    std::fs::write(
        &register,
        "dataClasses:\n  - {id: oppen, name: Öppen, level: 0, personalData: none, secrecy: false}\n\
         aiSystems:\n\
         \x20 - {id: classified, hosting: internal, approved: true, aiActRisk: minimal}\n\
         \x20 - {id: nobody-classified, hosting: internal, approved: true}\n\
         \x20 - id: high-without-fria\n    hosting: internal\n    approved: true\n    aiActRisk: high\n    dpia: true\n",
    )
    .unwrap();
    let shown = register.display().to_string();
    let (exit, out, err) = run(&["validate", "--register", &shown]);
    // Warnings do not fail validation: the engine loads and decides.
    assert_eq!(exit, Exit::Success, "{out}\n{err}");
    // The two systems the AI Act's rules cannot judge, and the register's missing incident
    // channel (U4).
    assert!(out.contains("3 warning(s)"), "{out}");
    assert!(err.contains("ai-act"), "{err}");
    assert!(
        err.contains("lint::routes") && err.contains("no incident channel"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{shown}:5:")) && err.contains("`nobody-classified`"),
        "the unclassified system, at its line: {err}"
    );
    assert!(
        err.contains(&format!("{shown}:9:")) && err.contains("`high-without-fria`"),
        "the high-risk system without its FRIA, at its aiActRisk line: {err}"
    );
    assert!(!err.contains("`classified`"), "{err}");
}

#[test]
fn trace_lists_every_rule_from_law_under_its_act_and_article() {
    let (exit, out, err) = run(&["trace", "--format", "json"]);
    assert_eq!(exit, Exit::Success, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let listed: Vec<(String, String, String)> = json["laws"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|act| {
            act["articles"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(move |article| {
                    article["policies"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(move |p| {
                            (
                                act["act"].as_str().unwrap().to_string(),
                                article["article"].as_str().unwrap().to_string(),
                                p["id"].as_str().unwrap().to_string(),
                            )
                        })
                })
        })
        .collect();
    let policies = aipolicy::Policies::bundled().unwrap();
    let from_law: Vec<_> = policies
        .rules()
        .iter()
        .filter(|r| r.law.is_some())
        .collect();
    assert!(from_law.len() >= 11, "the law rules are bundled");
    for rule in from_law {
        let law = rule.law.as_deref().unwrap();
        assert!(
            listed
                .iter()
                .any(|(act, article, id)| id == &*rule.id && law == format!("{act} {article}")),
            "`{}` ({law}) is listed under its act and article: {listed:?}",
            rule.id
        );
    }
    // The tests/scenarios cases reach every rule from law.
    for act in json["laws"].as_array().unwrap() {
        for article in act["articles"].as_array().unwrap() {
            assert!(
                !article["cases"].as_array().unwrap().is_empty(),
                "{} {} has no case",
                act["act"],
                article["article"]
            );
        }
    }
}

#[test]
fn trace_lists_the_scenario_cases_that_exercise_each_policy() {
    let dir = TempDir::new("trace-scenarios");
    std::fs::write(
        dir.path("u3.yaml"),
        "cases:\n  - name: Public AI with internal information\n    \
         query: {user: anna, ai: chatgpt, data: intern}\n    \
         expect: {decision: deny, paragraphs: [U3]}\n",
    )
    .unwrap();
    let (exit, out, err) = run(&["trace", "--format", "json", "--scenarios", &dir_arg(&dir)]);
    assert_eq!(exit, Exit::Success, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let u3 = json["paragraphs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "U3")
        .unwrap();
    let case = u3["cases"][0].as_str().unwrap();
    assert!(
        case.ends_with("u3.yaml: Public AI with internal information"),
        "{case}"
    );
    assert_eq!(u3["policies"][0]["id"], "u3-public-ai-open-only");
    assert_eq!(u3["policies"][0]["cases"][0], case);
    // A paragraph the one case does not touch has no cases.
    let u5 = json["paragraphs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "U5")
        .unwrap();
    assert_eq!(u5["cases"].as_array().unwrap().len(), 0);
}

// ---- matrix --------------------------------------------------------------------------------

/// Every cell of the matrix, decided again independently: by `Engine::decide` on a query read
/// from JSON, and by the `check` command.
#[test]
fn matrix_agrees_with_check_on_every_cell() {
    // The day `check` decides at too (`AIPOLICY_TODAY`): the same day for both.
    let engine = Engine::bundled()
        .unwrap()
        .with_clock(aipolicy::Clock::fixed(today()));
    let matrix = Matrix::compute(&engine, Action::Use, Context::default(), Language::Sv).unwrap();
    let register = engine.register();
    let mut cells = 0;
    for ai in register.ai_systems() {
        for class in register.data_classes() {
            for role in [Role::Employee, Role::Contractor, Role::Elected] {
                let cell = matrix
                    .cell(&ai.id, Some(&class.id), role)
                    .unwrap_or_else(|| panic!("no cell {} {} {role:?}", ai.id, class.id));
                // A class of need-to-know is shown for its own unit's staff.
                let mut user = serde_json::json!({"id": "someone", "roles": [role.as_str()]});
                if let Some(unit) = class.units.as_ref().and_then(|u| u.first()) {
                    user["unit"] = serde_json::json!(unit);
                }
                let json = serde_json::json!({
                    "user": user,
                    "ai": ai.id,
                    "data": [class.id],
                    "action": "use",
                });
                let decision = engine
                    .decide(&Query::from_json(&json.to_string()).unwrap())
                    .unwrap();
                assert_eq!(cell.decision, decision.decision, "{json}");
                if decision.decision == Verdict::Deny {
                    let mut paragraphs: Vec<&str> =
                        decision.reasons.iter().map(|r| &*r.paragraph).collect();
                    paragraphs.dedup();
                    let mut expected = cell.paragraphs.clone();
                    expected.sort();
                    paragraphs.sort();
                    paragraphs.dedup();
                    assert_eq!(expected, paragraphs, "{json}");
                }

                let mut args = vec![
                    "check",
                    "--user",
                    "someone",
                    "--role",
                    role.as_str(),
                    "--ai",
                    &ai.id,
                    "--data",
                    &class.id,
                    "--format",
                    "json",
                ];
                if let Some(unit) = class.units.as_ref().and_then(|u| u.first()) {
                    args.extend(["--unit", unit.as_str()]);
                }
                let (exit, out, err) = run(&args);
                let checked: serde_json::Value = serde_json::from_str(&out).unwrap();
                let expected_exit = match cell.decision {
                    Verdict::Allow => Exit::Success,
                    Verdict::Deny => Exit::Failure,
                };
                assert_eq!(exit, expected_exit, "{json}: {err}");
                assert_eq!(checked["decision"], cell.decision.to_string(), "{json}");
                cells += 1;
            }
        }
    }
    assert_eq!(cells, matrix.cells.len());
    assert_eq!(
        cells,
        register.ai_systems().len() * register.data_classes().len() * 3
    );
}

#[test]
fn matrix_formats() {
    let (exit, md, err) = run(&["matrix"]);
    assert_eq!(exit, Exit::Success, "{err}");
    assert!(md.contains("Askersunds kommun"));
    assert!(md.contains("| Microsoft 365 Copilot Chat (`copilot-chat`) | ja | ja | **nej** (§3)"));

    let (exit, csv, _) = run(&["matrix", "--format", "csv"]);
    assert_eq!(exit, Exit::Success);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("ai,ai_name,data,data_name,role,decision,paragraphs,policies,laws,ai_literacy,unit")
    );
    assert!(csv.contains(
        "chatgpt,ChatGPT (gratisversion på webben),intern,Intern information,employee,deny,"
    ));

    let (exit, html, _) = run(&["matrix", "--format", "html"]);
    assert_eq!(exit, Exit::Success);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>") && html.contains("@media print"));
    for external in ["http://", "https://", "<link", "<script", "src=", "@import"] {
        assert!(!html.contains(external), "external resource `{external}`");
    }
    assert!(html.contains("Askersunds kommun"));
    assert!(html.contains("Känsliga personuppgifter"));
    assert!(html.contains("Kommunens lokala språkmodell (on-premises)"));
    assert!(html.contains("Förtroendevald"));
}

#[test]
fn matrix_for_another_action_with_context() {
    let (exit, md, err) = run(&[
        "matrix",
        "--action",
        "publish",
        "--context",
        "humanReviewed=true",
        "--context",
        "aiDisclosure=true",
    ]);
    assert_eq!(exit, Exit::Success, "{err}");
    assert!(md.contains("`publish`"), "{md}");
    let (exit, _, err) = run(&["matrix", "--context", "nope=true"]);
    assert_eq!(exit, Exit::InputError);
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn the_matrix_says_for_whom_it_decides_and_decides_for_whom_it_is_asked() {
    // The approved decision support asks for trained users (EU AI Act art. 26(2)): an
    // untrained employee is refused it, a trained one is not, and each table says which.
    let row = |md: &str| {
        md.lines()
            .find(|l| l.contains("(`lokal-sprakmodell`)"))
            .unwrap_or_default()
            .to_string()
    };
    let args = [
        "matrix",
        "--action",
        "decide",
        "--context",
        "humanReview=true",
    ];
    let (exit, untrained, err) = run(&args);
    assert_eq!(exit, Exit::Success, "{err}");
    assert!(
        untrained.contains("För en användare utan kommunens AI-utbildning"),
        "{untrained}"
    );
    assert!(row(&untrained).contains("**nej**"), "{}", row(&untrained));
    let (exit, trained, err) = run(&[&args[..], &["--ai-literacy"]].concat());
    assert_eq!(exit, Exit::Success, "{err}");
    assert!(
        trained.contains("För en användare som har gått kommunens AI-utbildning"),
        "{trained}"
    );
    assert!(row(&trained).contains("| ja |"), "{}", row(&trained));
    // A unit: the caption names it, and the CSV says whom each cell was decided for.
    let (exit, csv, err) = run(&["matrix", "--unit", "Socialförvaltningen", "--format", "csv"]);
    assert_eq!(exit, Exit::Success, "{err}");
    assert!(
        csv.lines().next().unwrap().ends_with(",ai_literacy,unit"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.ends_with(",false,Socialförvaltningen")),
        "{csv}"
    );
    let (exit, md, _) = run(&["matrix", "--unit", "Socialförvaltningen"]);
    assert_eq!(exit, Exit::Success);
    assert!(
        md.contains("Användaren hör till Socialförvaltningen"),
        "{md}"
    );
    // A unit the register does not know is named, with the closest.
    let (exit, _, err) = run(&["matrix", "--unit", "Socialforvaltningen"]);
    assert_eq!(exit, Exit::InputError);
    assert!(err.contains("did you mean `Socialförvaltningen`?"), "{err}");
}

/// The tests' day, as a date.
fn today() -> aipolicy::clock::Date {
    aipolicy::clock::parse_date(aipolicy_test_support::TODAY).unwrap()
}
