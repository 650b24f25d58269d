//! The policy lint: every `.cedar` file parsed, every policy's annotations, the paragraphs
//! covered, Cedar's strict validation and its warnings, all found in one run, each finding with
//! file, line, column and a source snippet. Also the findings of a register or invariants file
//! that breaks its schema, at the line each problem names. The annotation checks are the
//! loader's own rules, written once in [`annotations`]: a policy set the loader refuses fails
//! here with the same words. `aipolicy validate` runs this with the other checks:
//! [`crate::project::validate`].
//!
//! ```
//! use aipolicy::authoring::lint::lint_policies;
//! use aipolicy::policy;
//! let report = lint_policies(&policy::bundled_policy_files(), None, "policies");
//! assert!(!report.has_errors(), "{:?}", report.findings);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cedar_policy::{
    Policy, PolicyId, PolicySet, Schema, ValidationMode, ValidationWarning, Validator,
};
use std::str::FromStr;

use miette::{Diagnostic, LabeledSpan, SourceSpan};

pub use crate::authoring::register_checks::{
    ai_act_findings, register_warnings, LAPSE_WARNING_DAYS,
};
use crate::authoring::yaml_findings::yaml_findings;
use crate::diagnostics::error::{LoadError, RegisterError, SourceDiagnostic};
pub use crate::diagnostics::findings::{Check, Finding, FindingRecord, Severity};
pub use crate::io::yaml_path::locate_yaml_path;
use crate::model::paragraph::Paragraph;
pub use crate::policy::annotations::KNOWN_ANNOTATIONS;
pub use crate::policy::read_policy_dir;
use crate::policy::{annotations, PolicyFile};

/// What [`lint_policies`] found, and what it looked at.
#[derive(Debug, Clone, Default)]
pub struct LintReport {
    /// Every finding, errors and warnings, in file order.
    pub findings: Vec<Finding>,
    /// How many policy files were read.
    pub files: usize,
    /// How many policies parsed.
    pub policies: usize,
    /// The `@id`s of the policies of each paragraph (every paragraph is a key, maybe empty).
    pub coverage: BTreeMap<Paragraph, Vec<String>>,
}

impl LintReport {
    /// The findings that are errors.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    /// The findings that are warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
    }

    /// The findings that are notes.
    pub fn notes(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Note)
    }

    /// Whether anything must be fixed.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// A policy as parsed from one file, with where it stands.
struct Parsed<'a> {
    file: &'a PolicyFile,
    offset: usize,
    /// 1-based line of `offset`.
    line: usize,
    text: String,
    policy: Policy,
}

/// Lints policy files: parses every file, checks every policy's annotations, the paragraph
/// coverage, and (with a schema) Cedar's strict validation and its warnings. Never stops at the
/// first problem. `folder` names the policy set in findings that concern no single file.
///
/// Runs on a thread with a stack for the deepest policy accepted: Cedar's parser and validator
/// recurse once per level of nesting.
pub fn lint_policies(files: &[PolicyFile], schema: Option<&Schema>, folder: &str) -> LintReport {
    crate::io::cedar_text::on_parser_stack(|| lint_policies_here(files, schema, folder))
        .unwrap_or_else(|e| LintReport {
            findings: vec![Finding::new(
                Check::Syntax,
                Severity::Error,
                SourceDiagnostic::whole_file(folder, e.to_string(), None),
            )],
            files: files.len(),
            ..LintReport::default()
        })
}

fn lint_policies_here(files: &[PolicyFile], schema: Option<&Schema>, folder: &str) -> LintReport {
    let mut report = LintReport {
        files: files.len(),
        coverage: Paragraph::ALL.iter().map(|p| (*p, Vec::new())).collect(),
        ..LintReport::default()
    };
    let mut parsed = Vec::new();
    for file in files {
        if let Some(problem) = crate::policy::nesting_problem(file) {
            report
                .findings
                .push(Finding::new(Check::Syntax, Severity::Error, problem));
            continue;
        }
        match PolicySet::from_str(&file.text) {
            Ok(set) => parsed.extend(in_text_order(file, &set)),
            Err(errors) => report.findings.extend(errors.iter().map(|e| {
                Finding::new(
                    Check::Syntax,
                    Severity::Error,
                    SourceDiagnostic::from_diagnostic(e, &file.name, file.text.clone()),
                )
            })),
        }
    }
    report.policies = parsed.len();

    // Annotations (the loader's rules), and a unique Cedar id for each policy (its @id where it
    // has a usable one).
    let mut checker = annotations::Checker::default();
    let mut set = PolicySet::new();
    let mut origin: HashMap<PolicyId, usize> = HashMap::new();
    for (index, p) in parsed.iter().enumerate() {
        let checked = checker.check(p.file, p.offset, p.line, &p.policy);
        let unique = !checked.is_duplicate();
        if let (Some(id), Some(paragraph)) = (&checked.id, checked.paragraph) {
            report
                .coverage
                .entry(paragraph)
                .or_default()
                .push(id.to_string());
        }
        report.findings.extend(checked.findings);
        let cedar_id = match checked.id.filter(|_| unique) {
            Some(id) => PolicyId::new(&*id),
            None => PolicyId::new(format!("{}#{}", p.file.name, p.line)),
        };
        if set.add(p.policy.new_id(cedar_id.clone())).is_ok() {
            origin.insert(cedar_id, index);
        }
    }

    for (paragraph, ids) in &report.coverage {
        if ids.is_empty() {
            report.findings.push(Finding::about_file(
                Check::UncoveredParagraph,
                Severity::Error,
                folder,
                format!(
                    "paragraph `{}` ({}) has no policy",
                    paragraph.code(),
                    paragraph.title_sv()
                ),
                Some(format!(
                    "every rule-bearing paragraph needs at least one policy with @paragraph(\"{}\"); \
                     its rule: {}",
                    paragraph.code(),
                    paragraph.rule_en()
                )),
            ));
        }
    }

    if let Some(schema) = schema {
        validate_strict(&parsed, &set, &origin, schema, &mut report);
    }
    report.findings = merge_per_action(std::mem::take(&mut report.findings));
    // In file order, then position; findings about no place in a file last.
    report.findings.sort_by_key(|f| {
        let offset = f.diagnostic.labels.first().map(LabeledSpan::offset);
        (offset.is_none(), f.file().to_string(), offset)
    });
    report
}

/// Cedar reports a type error once per action a policy's scope covers; one finding per place,
/// naming every action, is what a person wants to read.
fn merge_per_action(findings: Vec<Finding>) -> Vec<Finding> {
    let mut merged: Vec<(Finding, Vec<String>)> = Vec::new();
    for finding in findings {
        let key = |f: &Finding| {
            let (generic, _) = split_action(&f.diagnostic.message);
            let label = f.diagnostic.labels.first().map(|l| (l.offset(), l.len()));
            (f.check, f.file().to_string(), label, generic)
        };
        let (_, action) = split_action(&finding.diagnostic.message);
        match merged.iter_mut().find(|(m, _)| key(m) == key(&finding)) {
            // The same finding again (for another action, or twice): keep one.
            Some((_, actions)) => actions.extend(action),
            None => merged.push((finding, action.into_iter().collect())),
        }
    }
    merged
        .into_iter()
        .map(|(mut finding, mut actions)| {
            if actions.len() > 1 {
                actions.sort();
                actions.dedup();
                let (generic, _) = split_action(&finding.diagnostic.message);
                finding.diagnostic.message = generic.replace("\u{0}", &actions.join(", "));
            }
            finding
        })
        .collect()
}

/// The message with its first `Action::"…"` replaced by a placeholder, and that action.
fn split_action(message: &str) -> (String, Option<String>) {
    let Some(start) = message.find("Action::\"") else {
        return (message.to_string(), None);
    };
    let name_start = start + "Action::\"".len();
    let Some(len) = message.get(name_start..).and_then(|rest| rest.find('"')) else {
        return (message.to_string(), None);
    };
    let end = name_start + len + 1;
    let action = message.get(start..end).map(str::to_string);
    let generic = format!(
        "{}\u{0}{}",
        message.get(..start).unwrap_or(""),
        message.get(end..).unwrap_or("")
    );
    (generic, action)
}

/// Cedar's strict validation: errors are errors; an impossible policy or one whose scope no
/// request can meet is an error too (it is useless); other warnings stay warnings.
fn validate_strict(
    parsed: &[Parsed<'_>],
    set: &PolicySet,
    origin: &HashMap<PolicyId, usize>,
    schema: &Schema,
    report: &mut LintReport,
) {
    let result = Validator::new(schema.clone()).validate(set, ValidationMode::Strict);
    let diagnostic = |id: &PolicyId, d: &dyn Diagnostic| -> SourceDiagnostic {
        let Some(p) = origin.get(id).and_then(|&i| parsed.get(i)) else {
            return SourceDiagnostic::from_diagnostic(d, "<policies>", Arc::from(""));
        };
        let mut diagnostic =
            SourceDiagnostic::from_diagnostic(d, &p.file.name, p.file.text.clone());
        if diagnostic.labels.is_empty() {
            diagnostic.labels = vec![LabeledSpan::underline(policy_span(p))];
        }
        if !diagnostic.message.contains(&format!("policy `{id}`")) {
            diagnostic.message = format!("policy `{id}`: {}", diagnostic.message);
        }
        diagnostic
    };
    for error in result.validation_errors() {
        report.findings.push(Finding::new(
            Check::Schema,
            Severity::Error,
            diagnostic(error.policy_id(), error),
        ));
    }
    // A scope no request can meet also makes the policy "impossible": report it once.
    let inapplicable: Vec<&PolicyId> = result
        .validation_warnings()
        .filter(|w| matches!(w, ValidationWarning::InvalidActionApplication(_)))
        .map(ValidationWarning::policy_id)
        .collect();
    for warning in result.validation_warnings() {
        if matches!(warning, ValidationWarning::ImpossiblePolicy(_))
            && inapplicable.contains(&warning.policy_id())
        {
            continue;
        }
        let (check, severity, help) = match warning {
            ValidationWarning::ImpossiblePolicy(_) => (
                Check::NeverApplies,
                Severity::Error,
                "its condition is false for every request the schema allows, so the policy is \
                 useless; fix the condition or remove the policy",
            ),
            ValidationWarning::InvalidActionApplication(_) => (
                Check::NeverApplies,
                Severity::Error,
                "no action of its scope applies to the principal and resource types of its \
                 scope, so the policy is useless; check the scope against the schema",
            ),
            _ => (
                Check::CedarWarning,
                Severity::Warning,
                "Cedar's validator warns about this policy",
            ),
        };
        let mut d = diagnostic(warning.policy_id(), warning);
        if d.help.is_none() {
            d.help = Some(help.to_string());
        }
        report.findings.push(Finding::new(check, severity, d));
    }
}

/// The policies of one file in the order they are written, each with its byte offset.
fn in_text_order<'a>(file: &'a PolicyFile, set: &PolicySet) -> Vec<Parsed<'a>> {
    crate::policy::in_text_order(&file.text, set)
        .into_iter()
        .map(|(offset, line, policy)| Parsed {
            file,
            offset,
            line,
            text: policy.to_string(),
            policy,
        })
        .collect()
}

/// The whole policy.
fn policy_span(p: &Parsed<'_>) -> SourceSpan {
    (p.offset, p.text.len()).into()
}

/// Findings for a register that is valid YAML but breaks its schema: each problem points at
/// the line its path (e.g. `aiSystems[3].maxDataLevel`) names in `text`, where it can be found.
pub fn register_findings(
    file: &str,
    text: &str,
    problems: &[crate::diagnostics::error::FieldError],
) -> Vec<Finding> {
    yaml_findings(
        Check::Register,
        file,
        text,
        problems,
        "the register's keys and their defaults: `aipolicy schema register`",
    )
}

/// Turns a load error into findings, keeping every file position it carries.
pub fn load_findings(error: LoadError, check: Check, file: &str) -> Vec<Finding> {
    let error_at = |d: SourceDiagnostic| Finding::new(check, Severity::Error, d);
    match error {
        LoadError::Policies(diagnostics) | LoadError::Schema(diagnostics) => {
            diagnostics.into_iter().map(error_at).collect()
        }
        LoadError::Register(RegisterError::Syntax { diagnostics, .. }) => {
            diagnostics.into_iter().map(error_at).collect()
        }
        LoadError::Register(RegisterError::Invalid { file, problems }) => problems
            .into_iter()
            .map(|p| {
                Finding::about_file(
                    check,
                    Severity::Error,
                    &file,
                    if p.path.is_empty() {
                        p.message
                    } else {
                        format!("`{}`: {}", p.path, p.message)
                    },
                    Some(
                        "the register's keys and their defaults: `aipolicy schema register`".into(),
                    ),
                )
            })
            .collect(),
        LoadError::Read { ref path, .. } | LoadError::NoPolicies(ref path) => {
            let name = path.display().to_string();
            vec![Finding::about_file(
                check,
                Severity::Error,
                &name,
                error.to_string(),
                error.help().map(|h| h.to_string()),
            )]
        }
        LoadError::Internal(_) => vec![Finding::about_file(
            check,
            Severity::Error,
            file,
            error.to_string(),
            None,
        )],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::policy::{self, Policies};

    fn file(name: &str, text: &str) -> PolicyFile {
        PolicyFile {
            name: name.into(),
            text: Arc::from(text),
        }
    }

    #[test]
    fn all_annotation_problems_of_a_policy_are_found() {
        let text = "// c\n@id(\"x\")\n@paragraph(\"Z9\")\n@se(\"hej\")\nforbid (principal, action, resource);\n";
        let report = lint_policies(&[file("a.cedar", text)], None, "p");
        let checks: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.check, f.line_column()))
            .collect();
        assert!(
            checks.contains(&(Check::UnknownParagraph, Some((3, 1)))),
            "{checks:?}"
        );
        assert!(
            checks.contains(&(Check::MissingAnnotation, Some((2, 1)))),
            "{checks:?}"
        );
        assert!(
            checks.contains(&(Check::UnknownAnnotation, Some((4, 1)))),
            "{checks:?}"
        );
        assert!(report.findings.iter().any(|f| f
            .diagnostic
            .help
            .as_deref()
            .is_some_and(|h| h.contains("did you mean `@sv`"))));
        // every paragraph is uncovered here
        assert_eq!(
            report
                .findings
                .iter()
                .filter(|f| f.check == Check::UncoveredParagraph)
                .count(),
            12
        );
    }

    #[test]
    fn duplicate_ids_across_files() {
        let policy = "@id(\"x\")\n@paragraph(\"U4\")\n@sv(\"s\")\n@en(\"e\")\nforbid (principal, action, resource);\n";
        let report = lint_policies(
            &[file("a.cedar", policy), file("b.cedar", policy)],
            None,
            "p",
        );
        let duplicate: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.check == Check::DuplicateId)
            .collect();
        assert_eq!(duplicate.len(), 1);
        assert_eq!(duplicate[0].file(), "b.cedar");
        assert!(duplicate[0]
            .diagnostic
            .help
            .as_deref()
            .is_some_and(|h| h.contains("a.cedar:1")));
    }

    #[test]
    fn impossible_policy_is_an_error() {
        let schema = policy::bundled_schema().unwrap();
        let mut files: Vec<PolicyFile> = policy::BUNDLED_POLICY_FILES
            .iter()
            .map(|(n, t)| file(n, t))
            .collect();
        files.push(file(
            "z.cedar",
            "@id(\"never\")\n@paragraph(\"U4\")\n@sv(\"s\")\n@en(\"e\")\nforbid (principal, action, resource)\nwhen { false };\n",
        ));
        let report = lint_policies(&files, Some(&schema), "p");
        let never: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.check == Check::NeverApplies)
            .collect();
        assert_eq!(never.len(), 1, "{:?}", report.findings);
        assert_eq!(never[0].file(), "z.cedar");
        assert_eq!(never[0].severity, Severity::Error);
    }

    #[test]
    fn obligations_and_kinds() {
        let text =
            "@id(\"a\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n@obligation_sv(\"o\")\n\
                    forbid (principal, action, resource);\n\n\
                    @id(\"b\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n@kind(\"duty\")\n\
                    forbid (principal, action, resource);\n\n\
                    @id(\"c\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n@obligation_en(\"o\")\n\
                    permit (principal, action, resource);\n\n\
                    @id(\"d\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n@kind(\"duty\")\n\
                    permit (principal, action, resource);\n";
        let report = lint_policies(&[file("a.cedar", text)], None, "p");
        let found: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.check != Check::UncoveredParagraph)
            .map(|f| (f.check, f.line_column().map(|(line, _)| line)))
            .collect();
        assert_eq!(
            found,
            [
                (Check::Obligations, Some(5)),
                (Check::Kind, Some(12)),
                (Check::MissingAnnotation, Some(15)),
            ]
        );
    }

    #[test]
    fn the_loader_refuses_what_the_lint_finds_in_the_same_words() {
        let broken = [
            "@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\nforbid (principal, action, resource);\n",
            "@id(\"a\")\n@paragraph(\"U1\")\n@sv(\" \")\n@en(\"e\")\nforbid (principal, action, resource);\n",
            "@id(\"b\")\n@paragraph(\"U9\")\n@sv(\"s\")\n@en(\"e\")\nforbid (principal, action, resource);\n",
            "@id(\"c\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n@obligation_sv(\"o\")\n\
             permit (principal, action, resource);\n",
            "@id(\"d\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n@obligation_sv(\"o\")\n\
             @obligation_en(\"o\")\nforbid (principal, action, resource);\n",
            "@id(\"e\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n@kind(\"duty\")\n\
             forbid (principal, action, resource);\n",
            "@id(\"f\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n@kind(\"rule\")\n\
             permit (principal, action, resource);\n",
            "// two problems\n@id(\"g\")\n@paragraph(\"\")\n@en(\"e\")\n\
             forbid (principal, action, resource);\n\n\
             @id(\"g\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n\
             forbid (principal, action, resource);\n",
        ];
        for text in broken {
            let files = vec![file("x.cedar", text)];
            let mut lint: Vec<String> = lint_policies(&files, None, "p")
                .errors()
                .filter(|f| f.check != Check::UncoveredParagraph)
                .map(Finding::headline)
                .map(|h| h.split_once("] ").map(|(_, h)| h.to_string()).unwrap_or(h))
                .collect();
            let Err(LoadError::Policies(problems)) = Policies::from_files(files) else {
                panic!("loads: {text}")
            };
            let mut loader: Vec<String> = problems.iter().map(|p| p.headline()).collect();
            lint.sort();
            loader.sort();
            assert!(!loader.is_empty());
            assert_eq!(loader, lint, "{text}");
        }
    }

    #[test]
    fn yaml_paths_are_found() {
        let text = "# c\ndataClasses:\n  - {id: a, level: 0}\n  - id: b\n    level: 7\naiSystems:\n- id: x\n  maxDataLevel: 9\n  userGroups: [nobody]\n";
        let line = |path: &str| {
            crate::io::yaml_path::locate_yaml_path(text, path)
                .map(|span| crate::diagnostics::error::line_column(text, span.offset()).0)
        };
        assert_eq!(line("dataClasses[1].level"), Some(5));
        assert_eq!(line("dataClasses[0].level"), Some(3));
        assert_eq!(line("dataClasses[1]"), Some(4));
        assert_eq!(line("aiSystems[0].maxDataLevel"), Some(8));
        assert_eq!(line("aiSystems[0].userGroups[0]"), Some(9));
        assert_eq!(line("aiSystems[3].owner"), Some(6));
        assert_eq!(line("users"), None);
    }

    #[test]
    fn a_policy_in_the_file_of_another_paragraph_is_a_warning() {
        let policy = "@id(\"x\")\n@paragraph(\"U3\")\n@sv(\"s\")\n@en(\"e\")\nforbid (principal, action, resource);\n";
        let report = lint_policies(
            &[
                file("policies/s3-integritet.cedar", policy),
                file(
                    "policies/u3-publik-ai.cedar",
                    &policy.replace("\"x\"", "\"y\""),
                ),
            ],
            None,
            "p",
        );
        let misplaced: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.check == Check::ParagraphFile)
            .collect();
        assert_eq!(misplaced.len(), 1, "{misplaced:?}");
        assert_eq!(misplaced[0].file(), "policies/s3-integritet.cedar");
        assert_eq!(misplaced[0].severity, Severity::Warning);
        assert_eq!(
            crate::policy::annotations::paragraph_of_file("other/name.cedar"),
            None
        );
    }
}
