//! `aipolicy verify`: the bundled policies prove every invariant; removing a rule is caught with
//! a counterexample that the engine, replaying it, confirms; the well-formedness assumptions
//! hold for every request the engine builds; invariants files with mistakes are refused.
//!
//! These tests need the SMT solver cvc5 (`apt-get install cvc5`, or `CVC5=<path>`); CI's
//! `.ci/run` installs it. Without it they fail with that advice, they never pass silently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::sync::Arc;

use aipolicy::invariants::{Invariants, InvariantsError, Kind, ASSUMPTIONS};
use aipolicy::policies::{bundled_schema, BUNDLED_POLICY_FILES};
use aipolicy::{Action, Engine, Policies, PolicyFile, Query, Register, Role, UserRef, Verdict};
use aipolicy_cli::verify::{run, VerifyArgs};
use aipolicy_cli::{Exit, LangArg, PolicyArgs};
use aipolicy_verify::{self as verify, Options, Report};
use cedar_policy::{Authorizer, Decision, PolicySet};

/// The bundled policy files with the policy `id` cut out of its file (Cedar keeps each
/// policy's exact source text, so the text is found and removed as written).
fn policies_without(id: &str) -> Policies {
    let files = BUNDLED_POLICY_FILES
        .iter()
        .map(|(name, text)| {
            let set: PolicySet = text.parse().expect("a bundled file parses");
            let mut text = text.to_string();
            for policy in set.policies() {
                if policy.annotation("id") == Some(id) {
                    text = text.replacen(&policy.to_string(), "", 1);
                }
            }
            PolicyFile {
                name: name.to_string(),
                text: Arc::from(text),
            }
        })
        .collect();
    let policies = Policies::from_files(files).expect("the cut policies load");
    assert!(
        policies.rules().iter().all(|r| &*r.id != id),
        "policy `{id}` was not removed"
    );
    policies
}

fn verify_with(policies: &Policies, invariants: &Invariants, options: Options) -> Report {
    common::require_cvc5();
    let schema = bundled_schema().expect("the bundled schema loads");
    verify::verify(policies, &schema, invariants, &options).expect("verification runs")
}

#[test]
fn bundled_policies_prove_every_invariant_and_generic_check() {
    let policies = Policies::bundled().expect("the bundled policies load");
    let invariants = Invariants::bundled().expect("the bundled invariants load");
    let report = verify_with(&policies, &invariants, Options::default());
    let failed: Vec<_> = report
        .checks()
        .filter(|c| !c.is_proved())
        .map(|c| format!("{}: {:?}", c.id, c.violation().map(|v| &v.message)))
        .collect();
    assert!(failed.is_empty(), "violated: {failed:#?}");
    assert_eq!(report.invariants.len(), invariants.invariants.len());
    assert_eq!(report.actions.len(), Action::ALL.len());
    // The generic checks: never-errors, the slices, and one per action.
    assert_eq!(report.generic.len(), 2 + Action::ALL.len());
    // The invariants are all there.
    for id in [
        "never-public-ai-above-open",
        "never-suspended-ai",
        "never-internal-ai-without-owner",
        "never-unverified-internal-ai",
        "never-decide-without-human-review",
        "never-develop-without-reviews",
        "never-publish-without-human-review",
        "never-publish-without-ai-disclosure",
        "never-user-without-role",
        "always-report-incident",
    ] {
        assert!(report.check(id).is_some_and(|c| c.is_proved()), "{id}");
    }
    // How long it takes is a benchmark's question, not a test's: these machines are shared.
}

#[test]
fn removing_the_u3_forbid_is_caught_with_a_counterexample_the_engine_confirms() {
    let policies = policies_without("u3-public-ai-open-only");
    let invariants = Invariants::bundled().expect("the bundled invariants load");
    let options = Options {
        generic: false,
        replay: false, // replayed by hand below
        simplify: true,
    };
    let report = verify_with(&policies, &invariants, options);
    let check = report
        .check("never-public-ai-above-open")
        .expect("the U3 invariant is checked");
    let violation = check.violation().expect("the U3 invariant is violated");
    let cex = violation
        .counterexample
        .as_ref()
        .expect("the violation has a counterexample in aipolicy's terms");
    assert_eq!(cex.decision, Verdict::Allow);
    // The counterexample meets the invariant's condition …
    let ai = cex.ai_system.as_ref().expect("a public AI in the register");
    assert_eq!(ai.hosting, aipolicy::Hosting::Public);
    assert!(cex.data_class.level > 0);
    // … and the engine, built from it with Register::new, allows it.
    let register = Register::new(
        None,
        vec![cex.data_class.clone()],
        vec![ai.clone()],
        vec![cex.user.clone()],
    )
    .expect("the counterexample is a valid register");
    let schema = bundled_schema().expect("the bundled schema loads");
    let engine = Engine::new(policies, schema, register).expect("the engine loads");
    let decision = engine.decide(&cex.query).expect("the query is valid");
    assert_eq!(decision.decision, Verdict::Allow, "{decision:?}");
    // Every other invariant still holds: only U3's two invariants were guarded by this rule.
    let violated: Vec<_> = report
        .checks()
        .filter(|c| !c.is_proved())
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(
        violated,
        [
            "never-public-ai-above-open",
            "never-public-ai-with-secrecy-or-personal-data"
        ]
    );
    // The paste-ready YAML parses back into the same register and query.
    let yaml = cex.to_yaml("u3").expect("renders");
    let value: serde_yaml::Value = serde_yaml::from_str(&yaml).expect("valid YAML");
    let register_yaml = serde_yaml::to_string(&value["register"]).expect("register YAML");
    let reread = Register::from_yaml(&register_yaml, "<counterexample>").expect("a register");
    assert_eq!(reread.ai_systems(), std::slice::from_ref(ai));
    let query: Query =
        serde_yaml::from_value(value["case"]["query"].clone()).expect("the case's query");
    assert_eq!(query, cex.query);
}

/// Forbids whose requirement another forbid already guarantees for every real register, so
/// that removing them alone breaks no invariant.
const REDUNDANT: &[(&str, &str)] = &[(
    "u0-only-users",
    "s3-user-in-user-groups: user groups are among the three roles, so a user with no role is never in them",
)];

#[test]
fn removing_any_rule_is_caught_by_an_invariant_of_its_paragraph_or_a_generic_check() {
    let bundled = Policies::bundled().expect("the bundled policies load");
    let all = Invariants::bundled().expect("the bundled invariants load");
    let options = Options {
        generic: false,
        replay: true,
        simplify: false, // faster; the solver's own request is replayed
    };
    let only = |invariants| {
        let mut subset = all.clone();
        subset.invariants = invariants;
        subset
    };
    let mut uncaught = Vec::new();
    for rule in bundled.rules() {
        let id: &str = &rule.id;
        // A duty (`@kind("duty")`) grants nothing and decides nothing: only obligations.
        if rule.duty || REDUNDANT.iter().any(|(r, _)| *r == id) {
            continue;
        }
        let policies = policies_without(id);
        // A forbid is caught by an invariant of its own paragraph, a permit by an `always`
        // invariant or by the generic check that its action is never allowed. One violation
        // is enough: each candidate runs alone, until one is violated.
        let candidates: Vec<Invariants> = if rule.effect == cedar_policy::Effect::Forbid {
            all.invariants
                .iter()
                .filter(|i| i.paragraph == rule.paragraph.code())
                .map(|i| only(vec![i.clone()]))
                .collect()
        } else {
            vec![only(
                all.invariants
                    .iter()
                    .filter(|i| i.kind == Kind::Always)
                    .cloned()
                    .collect(),
            )]
        };
        let generic = rule.effect == cedar_policy::Effect::Permit;
        let mut caught = false;
        for invariants in &candidates {
            let report = verify_with(&policies, invariants, Options { generic, ..options });
            for violation in report.checks().filter_map(|c| c.violation()) {
                caught = true;
                if let Some(cex) = &violation.counterexample {
                    assert_eq!(
                        cex.replayed.as_ref().map(|r| r.as_ref().ok()),
                        Some(Some(&cex.decision)),
                        "{id}: the engine does not confirm the counterexample {cex:#?}"
                    );
                }
                assert!(
                    violation.raw.is_none(),
                    "{id}: a counterexample could not be read as a register and query: {:?}",
                    violation.raw
                );
            }
            if caught {
                break;
            }
        }
        if !caught {
            uncaught.push(format!(
                "{id}: every check of {} still proved",
                rule.paragraph.code()
            ));
        }
    }
    assert!(
        uncaught.is_empty(),
        "rules whose removal is not caught: {uncaught:#?}"
    );
}

#[test]
fn redundant_rules_are_really_redundant() {
    // Documented above: removing them breaks nothing. If this fails, the rule is no longer
    // redundant and must leave REDUNDANT (and gets caught by the test above).
    for (id, _) in REDUNDANT {
        let policies = policies_without(id);
        let invariants = Invariants::bundled().expect("the bundled invariants load");
        let report = verify_with(&policies, &invariants, Options::default());
        assert!(report.all_proved(), "{id} is no longer redundant");
    }
}

#[test]
fn the_assumptions_hold_for_every_request_the_engine_builds() {
    let engine = Engine::bundled().expect("the bundled engine loads");
    let register = engine.register();
    let assumptions = aipolicy::invariants::assumptions_condition();
    let policy = format!("permit (principal, action, resource) when {{ {assumptions} }};");
    let set: PolicySet = policy.parse().expect("the assumptions parse");
    let authorizer = Authorizer::new();
    let mut users: Vec<UserRef> = register
        .users()
        .iter()
        .map(|u| UserRef::registered(&u.id))
        .collect();
    users.push(UserRef::inline("nobody", []));
    users.push(UserRef::inline("everybody", Role::ALL));
    let mut ais: Vec<String> = register.ai_systems().iter().map(|a| a.id.clone()).collect();
    ais.push("not-in-the-register".into());
    let mut datas: Vec<Vec<String>> = register
        .data_classes()
        .iter()
        .map(|c| vec![c.id.clone()])
        .collect();
    datas.push(
        register
            .data_classes()
            .iter()
            .map(|c| c.id.clone())
            .collect(),
    );
    datas.push(Vec::new());
    let mut checked = 0;
    for user in &users {
        for ai in &ais {
            for data in &datas {
                for action in Action::ALL {
                    let query =
                        Query::new(user.clone(), ai.clone(), data.clone()).with_action(action);
                    let Ok(prepared) = engine.prepare_exact(&query) else {
                        continue; // an input error: no request at all
                    };
                    let response =
                        authorizer.is_authorized(&prepared.request, &set, &prepared.entities);
                    assert_eq!(
                        response.decision(),
                        Decision::Allow,
                        "an assumption fails for {query:?}: {:?}",
                        response.diagnostics().errors().collect::<Vec<_>>()
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} requests checked");
    assert!(!ASSUMPTIONS.is_empty());
}

/// An error's message with each of its related problems, as the terminal shows them.
fn full(err: &dyn miette::Diagnostic) -> String {
    let mut text = err.to_string();
    for related in err.related().into_iter().flatten() {
        text.push('\n');
        text.push_str(&related.to_string());
    }
    text
}

#[test]
fn invariants_with_mistakes_are_refused_with_their_path() {
    let bad_kind =
        "invariants:\n  - {id: a, paragraph: U3, kind: sometimes, sv: x, en: x, when: 'true'}\n";
    let err = Invariants::from_yaml(bad_kind, "bad.yaml").expect_err("bad kind");
    let text = full(&err);
    assert!(
        text.contains("bad.yaml") && text.contains("invariants[0].kind"),
        "{text}"
    );

    let duplicate = "invariants:\n  - {id: a, paragraph: U3, kind: never, sv: x, en: x, when: 'true'}\n  - {id: a, paragraph: U3, kind: never, sv: x, en: x, when: 'true'}\n";
    let err = Invariants::from_yaml(duplicate, "dup.yaml").expect_err("duplicate");
    assert!(full(&err).contains("invariants[1].id"), "{err}");

    let syntax = "invariants:\n  - {id: a, paragraph: U3, kind: never, sv: x, en: x, when: 'resource.hosting =='}\n";
    let err = Invariants::from_yaml(syntax, "syntax.yaml").expect_err("Cedar syntax");
    assert!(full(&err).contains("invariants[0].when"), "{err}");

    let typo = "invariants:\n  - {id: a, paragraph: U3, kind: never, sv: x, en: x, when: 'resource.hostng == \"public\"'}\n";
    let invariants = Invariants::from_yaml(typo, "typo.yaml").expect("parses");
    let schema = bundled_schema().expect("the bundled schema loads");
    let err = invariants.check(&schema).expect_err("type error");
    assert!(
        matches!(&err, InvariantsError::Invalid { problems, .. } if problems[0].path == "invariants[0].when"),
        "{err}"
    );
    let err = Invariants::from_yaml("invariants: [", "broken.yaml").expect_err("YAML");
    assert!(matches!(err, InvariantsError::Syntax { .. }));
}

#[test]
fn the_bundled_invariants_cover_both_kinds() {
    let invariants = Invariants::bundled().expect("the bundled invariants load");
    assert!(invariants.invariants.iter().any(|i| i.kind == Kind::Always));
    assert!(invariants.invariants.iter().any(|i| i.kind == Kind::Never));
    assert_eq!(invariants.actions.always_allowed, [Action::ReportIncident]);
}

/// `policies`' files written to a temporary folder, as an author's `--policies` folder.
fn policies_dir(policies: &Policies) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in policies.files() {
        let name = std::path::Path::new(&file.name)
            .file_name()
            .expect("a file name");
        std::fs::write(dir.path().join(name), &*file.text).expect("write a policy");
    }
    dir
}

/// `aipolicy verify [--policies DIR] [--no-generic] --lang en`: exit, stdout and stderr.
fn verify_cli(policies: Option<&std::path::Path>, no_generic: bool) -> (Exit, String, String) {
    let args = VerifyArgs {
        policy: PolicyArgs {
            policies: policies.map(std::path::Path::to_path_buf),
            ..PolicyArgs::default()
        },
        invariants: None,
        no_generic,
        lang: LangArg::En,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = run(&args, &mut out, &mut err);
    (
        exit,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

#[test]
fn cli_proves_the_bundled_policies_and_exits_0() {
    common::require_cvc5();
    let (exit, out, err) = verify_cli(None, false);
    assert_eq!(exit, Exit::Success, "{out}\n{err}");
    assert!(out.contains("proved   never-public-ai-above-open"), "{out}");
    // The engine's per-action slices are proved to decide as the whole set.
    assert!(out.contains("proved   slices"), "{out}");
    assert!(out.contains(" 0 violated in "), "{out}");
}

#[test]
fn cli_reports_a_violation_with_the_counterexample_and_exits_1() {
    common::require_cvc5();
    let dir = policies_dir(&policies_without("s6-human-review-of-decisions"));
    let (exit, out, _) = verify_cli(Some(dir.path()), true);
    assert_eq!(exit, Exit::Failure, "{out}");
    assert!(
        out.contains("VIOLATED never-decide-without-human-review"),
        "{out}"
    );
    assert!(out.contains("the engine confirms: allow"), "{out}");
    assert!(out.contains("action: decide"), "{out}");
}

#[test]
fn a_missing_solver_exits_2_with_install_advice() {
    let output = common::aipolicy(["verify"])
        .env("CVC5", "/nonexistent/cvc5")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("apt-get install cvc5"), "{stderr}");
    assert!(stderr.contains("CVC5"), "{stderr}");
}

#[test]
fn cli_proves_the_invariants_beside_the_policies_it_is_given() {
    common::require_cvc5();
    let dir = policies_dir(&Policies::bundled().expect("bundled policies"));
    // A false invariant beside the policies: public AI is allowed with open information.
    std::fs::write(
        dir.path().join("invariants.yaml"),
        "invariants:\n  - id: never-any-public-ai\n    paragraph: U3\n    kind: never\n    sv: Publik AI används aldrig.\n    en: Public AI is never used.\n    when: action == Action::\"use\" && resource.hosting == \"public\"\n",
    )
    .expect("write invariants");
    let (exit, out, err) = verify_cli(Some(dir.path()), true);
    assert_eq!(exit, Exit::Failure, "{out}\n{err}");
    assert!(out.contains("VIOLATED never-any-public-ai"), "{out}");
    assert!(out.contains("0 proved, 1 violated"), "{out}");
    assert!(err.contains("invariants.yaml"), "{err}");
}
