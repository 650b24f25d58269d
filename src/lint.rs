//! Everything `aipolicy validate` checks, collected at once: a policy author sees every problem
//! of every file in one run, each with file, line, column and a source snippet.
//!
//! The checks, each with a stable name (shown as `lint::<name>` and in JSON):
//!
//! | name | severity | what it finds |
//! |---|---|---|
//! | `syntax` | error | a `.cedar` file that does not parse |
//! | `schema` | error | a policy that breaks the Cedar schema in strict mode |
//! | `missing-annotation` | error | no `@id`, `@paragraph`, `@sv` or `@en`; or only one of `@obligation_sv`/`@obligation_en` |
//! | `empty-annotation` | error | one of those annotations is empty |
//! | `duplicate-id` | error | an `@id` used twice, in any files |
//! | `unknown-paragraph` | error | a `@paragraph` that is not §1–§6 or U0–U5 |
//! | `obligations` | error | obligations on a `forbid` (they belong on permits) |
//! | `kind` | error | a `@kind` other than `duty`, or a duty that is not a `permit` |
//! | `uncovered-paragraph` | error | a rule-bearing paragraph without any policy |
//! | `never-applies` | error | Cedar's validator proves the policy can never apply (impossible condition, or a scope no request can meet) |
//! | `unknown-annotation` | warning | an annotation aipolicy does not read (often a typo, e.g. `@se`) |
//! | `paragraph-file` | warning | a policy in a file named for another paragraph (`s3-….cedar` holds §3) |
//! | `law-file` | warning | a rule from law (`@law`) outside the files for law (`law-….cedar`), or a rule in one of them without `@law` |
//! | `ai-act` | warning | an AI system of the register without `aiActRisk` (not yet classified); a high-risk one without `fria`, `dpia` or `euDatabaseId`; decision support classified below high risk (annex III) |
//! | `suppliers` | warning | an internal system run by a processor without a processor agreement; public AI approved for personal data; a transfer outside the EEA on a system without a processor |
//! | `approvals` | warning | an approval for level 4 (never applies); sensitive personal data or secrecy approved for every role by default |
//! | `assessments` | warning, note | an assessment dated after the day, lapsed, or lapsing within 30 days (warnings); one without a date (a note: it never lapses) |
//! | `routes` | warning | no incident channel in the register (U4); a decision-support or resident-facing system without a contest route (§5, §6) |
//! | `cedar-warning` | warning | any other warning of Cedar's validator (e.g. confusable characters) |
//! | `schema-file` | error | the Cedar schema does not parse or cannot be read |
//! | `register` | error | the register is not valid YAML or breaks its JSON Schema |
//! | `read` | error | a file or folder cannot be read |
//! | `engine` | error | the parts are each valid but the engine cannot be built from them |
//!
//! The annotation checks (`missing-annotation` to `kind`, `unknown-annotation`,
//! `paragraph-file`, `law-file`) are the loader's own rules, written once in
//! [`policies::annotations`]: a policy set the loader refuses
//! fails here with the same words.
//!
//! [`format_cedar`] is the formatter behind `aipolicy fmt`.
//!
//! ```
//! use aipolicy::{clock::parse_date, inputs::Inputs, lint};
//! let validation = lint::validate(&Inputs::embedded(), parse_date("2026-12-07").unwrap());
//! assert!(!validation.report.has_errors(), "{:?}", validation.report.findings);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Policy, PolicyId, PolicySet, Schema, ValidationMode, ValidationWarning, Validator,
};
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::clock::Date;
use crate::engine::Engine;
use crate::error::{LoadError, RegisterError, SourceDiagnostic};
use crate::inputs::Inputs;
use crate::paragraph::Paragraph;
use crate::policies::{self, annotations, Policies, PolicyFile};
use crate::register::{self, Register};

pub use crate::policies::annotations::KNOWN_ANNOTATIONS;

mod register_checks;
pub use register_checks::{ai_act_findings, register_warnings, LAPSE_WARNING_DAYS};

/// How bad a finding is: errors make `validate` fail, warnings and notes do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Must be fixed: the policies would not load, or would not mean what they should.
    Error,
    /// Worth a look; does not fail `validate`.
    Warning,
    /// Allowed, but worth knowing (an assessment without a date never lapses).
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// Which check produced a finding (see the table in the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// A `.cedar` file does not parse.
    Syntax,
    /// A policy breaks the Cedar schema (strict mode).
    Schema,
    /// A required annotation is missing.
    MissingAnnotation,
    /// A required annotation is empty.
    EmptyAnnotation,
    /// An `@id` is used more than once.
    DuplicateId,
    /// A `@paragraph` is not a known code.
    UnknownParagraph,
    /// Obligations on a forbid.
    Obligations,
    /// A bad `@kind`.
    Kind,
    /// A rule-bearing paragraph has no policy.
    UncoveredParagraph,
    /// Cedar's validator proves the policy can never apply.
    NeverApplies,
    /// An annotation aipolicy does not read.
    UnknownAnnotation,
    /// A policy in the file of another paragraph.
    ParagraphFile,
    /// A rule from law (`@law`) outside a `law-….cedar` file, or a rule without it inside one.
    LawFile,
    /// An AI system of the register not classified under the AI Act, a high-risk one without
    /// its impact assessments or registration, or decision support below high risk.
    AiAct,
    /// Supplier settings of an AI system that contradict each other.
    Suppliers,
    /// An approval that can never apply, or wider than likely meant.
    Approvals,
    /// A dated assessment: ahead of the day, lapsed, lapsing soon, or undated.
    Assessments,
    /// A missing incident channel or contest route.
    Routes,
    /// Another warning of Cedar's validator.
    CedarWarning,
    /// The Cedar schema file does not parse or cannot be read.
    SchemaFile,
    /// The register is invalid.
    Register,
    /// A file or folder cannot be read.
    Read,
    /// The engine cannot be built from parts that are each valid.
    Engine,
    /// The invariants file (`aipolicy verify`) is invalid or does not type-check.
    Invariants,
}

impl Check {
    /// The stable kebab-case name, e.g. `unknown-paragraph`.
    pub fn name(self) -> &'static str {
        match self {
            Check::Syntax => "syntax",
            Check::Schema => "schema",
            Check::MissingAnnotation => "missing-annotation",
            Check::EmptyAnnotation => "empty-annotation",
            Check::DuplicateId => "duplicate-id",
            Check::UnknownParagraph => "unknown-paragraph",
            Check::Obligations => "obligations",
            Check::Kind => "kind",
            Check::UncoveredParagraph => "uncovered-paragraph",
            Check::NeverApplies => "never-applies",
            Check::UnknownAnnotation => "unknown-annotation",
            Check::ParagraphFile => "paragraph-file",
            Check::LawFile => "law-file",
            Check::AiAct => "ai-act",
            Check::Suppliers => "suppliers",
            Check::Approvals => "approvals",
            Check::Assessments => "assessments",
            Check::Routes => "routes",
            Check::CedarWarning => "cedar-warning",
            Check::SchemaFile => "schema-file",
            Check::Register => "register",
            Check::Read => "read",
            Check::Engine => "engine",
            Check::Invariants => "invariants",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One problem found, pointing into a file where it can.
///
/// Renders with miette like Cedar's own errors (file:line:column and a snippet with a caret);
/// [`Finding::headline`] gives the one-line form.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .diagnostic.message)]
pub struct Finding {
    /// The check that found it.
    pub check: Check,
    /// Error or warning.
    pub severity: Severity,
    /// Message, file, marked places and help.
    pub diagnostic: SourceDiagnostic,
}

impl Finding {
    /// A finding from a diagnostic.
    pub fn new(check: Check, severity: Severity, diagnostic: SourceDiagnostic) -> Finding {
        Finding {
            check,
            severity,
            diagnostic,
        }
    }

    /// An error that concerns a whole file (or folder) rather than a place in it.
    pub fn about_file(
        check: Check,
        severity: Severity,
        file: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Finding {
        Finding::new(
            check,
            severity,
            SourceDiagnostic {
                message: message.into(),
                source_code: NamedSource::new(file, Arc::from("")),
                labels: Vec::new(),
                help,
            },
        )
    }

    /// The file the finding is about.
    pub fn file(&self) -> &str {
        self.diagnostic.file()
    }

    /// 1-based line and column, when the finding points at a place.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        self.diagnostic.line_column()
    }

    /// `error[unknown-paragraph] policies/u3-publik-ai.cedar:8:1: …`, for logs and tests.
    pub fn headline(&self) -> String {
        format!(
            "{}[{}] {}",
            self.severity,
            self.check,
            self.diagnostic.headline()
        )
    }
}

impl Diagnostic for Finding {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("lint::{}", self.check)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.diagnostic.labels.is_empty() {
            None
        } else {
            Some(&self.diagnostic.source_code)
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.diagnostic.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.diagnostic.labels.iter().cloned()))
        }
    }
}

/// A finding as plain data, for JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRecord {
    /// `error` or `warning`.
    pub severity: Severity,
    /// The check's name.
    pub check: Check,
    /// The file.
    pub file: String,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl From<&Finding> for FindingRecord {
    fn from(finding: &Finding) -> FindingRecord {
        let position = finding.line_column();
        FindingRecord {
            severity: finding.severity,
            check: finding.check,
            file: finding.file().to_string(),
            line: position.map(|(line, _)| line),
            column: position.map(|(_, column)| column),
            message: finding.diagnostic.message.clone(),
            help: finding.diagnostic.help.clone(),
        }
    }
}

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
    crate::cedar_text::on_parser_stack(|| lint_policies_here(files, schema, folder)).unwrap_or_else(
        |e| LintReport {
            findings: vec![Finding::new(
                Check::Syntax,
                Severity::Error,
                SourceDiagnostic::whole_file(folder, e.to_string(), None),
            )],
            files: files.len(),
            ..LintReport::default()
        },
    )
}

fn lint_policies_here(files: &[PolicyFile], schema: Option<&Schema>, folder: &str) -> LintReport {
    let mut report = LintReport {
        files: files.len(),
        coverage: Paragraph::ALL.iter().map(|p| (*p, Vec::new())).collect(),
        ..LintReport::default()
    };
    let mut parsed = Vec::new();
    for file in files {
        if let Some(problem) = crate::policies::nesting_problem(file) {
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
    crate::policies::in_text_order(&file.text, set)
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

/// Formats Cedar policy text with Cedar's own formatter (`cedar-policy-formatter`), keeping
/// annotations and comments: line width 80, indent 2, as `cedar format` does. A text that does
/// not parse gives diagnostics pointing into it.
///
/// ```
/// let text = "@id(\"x\")\nforbid(principal,action,resource) when {context.data.level>0};\n";
/// let formatted = aipolicy::lint::format_cedar(text, "x.cedar").unwrap();
/// assert_eq!(formatted, "@id(\"x\")\nforbid (principal, action, resource)\nwhen { context.data.level > 0 };\n");
/// ```
///
/// Text nested over [`MAX_POLICY_NESTING`](crate::policies::MAX_POLICY_NESTING) is refused
/// before Cedar parses it, and Cedar parses and formats on a thread with a stack for the
/// deepest text accepted.
pub fn format_cedar(text: &str, file: &str) -> Result<String, Vec<SourceDiagnostic>> {
    let policy_file = PolicyFile {
        name: file.to_string(),
        text: Arc::from(text),
    };
    if let Some(problem) = crate::policies::nesting_problem(&policy_file) {
        return Err(vec![problem]);
    }
    crate::cedar_text::on_parser_stack(|| format_cedar_here(text, file)).unwrap_or_else(|e| {
        Err(vec![SourceDiagnostic::whole_file(
            file,
            e.to_string(),
            None,
        )])
    })
}

fn format_cedar_here(text: &str, file: &str) -> Result<String, Vec<SourceDiagnostic>> {
    match PolicySet::from_str(text) {
        Err(errors) => {
            let text: Arc<str> = Arc::from(text);
            return Err(errors
                .iter()
                .map(|e| SourceDiagnostic::from_diagnostic(e, file, text.clone()))
                .collect());
        }
        // Nothing to lay out (an empty or comment-only file): leave it as it is.
        Ok(set) if set.is_empty() => return Ok(text.to_string()),
        Ok(_) => {}
    }
    let config = cedar_policy_formatter::Config {
        line_width: 80,
        indent_width: 2,
    };
    cedar_policy_formatter::policies_str_to_pretty(text, &config).map_err(|report| {
        vec![SourceDiagnostic::from_diagnostic(
            report.as_ref(),
            file,
            Arc::from(text),
        )]
    })
}

/// What [`validate`] looked at and found.
#[derive(Debug, Clone)]
pub struct Validation {
    /// The policy lint, with the schema, register and engine findings added.
    pub report: LintReport,
    /// The policies' folder, or `embedded policies/`.
    pub policies: String,
    /// The schema's file name.
    pub schema: String,
    /// The register's file name.
    pub register: String,
    /// The register, when it is valid.
    pub loaded_register: Option<Register>,
    /// The engine built from the sources: `Some` exactly when no finding is an error (the
    /// [`gate`] let them through).
    pub engine: Option<Engine>,
}

impl Validation {
    /// The [`gate`]'s verdict on this validation: the engine and the warnings when no finding is
    /// an error, else every finding (errors and warnings, in report order).
    pub fn passed(self) -> Result<Passed, Vec<Finding>> {
        match self.engine {
            Some(engine) if !self.report.has_errors() => Ok(Passed {
                engine,
                warnings: self.report.warnings().cloned().collect(),
            }),
            _ => Err(self.report.findings),
        }
    }
}

/// What passed the [`gate`].
#[derive(Debug, Clone)]
pub struct Passed {
    /// The engine built from the sources (in the default language; see
    /// [`Engine::with_language`]).
    pub engine: Engine,
    /// The warnings `aipolicy validate` shows for them (they do not stop the gate).
    pub warnings: Vec<Finding>,
}

/// The load gate: loads policies, schema and register from `sources` and runs every check of
/// `aipolicy validate` on them, returning the built engine only when none of them finds an
/// error; otherwise every finding, each with file, line and column, as `validate` reports them.
///
/// This gate refuses more than [`Engine::new`] and [`Engine::builder`], which refuse only what
/// would make a decision wrong or impossible (a syntax error, a broken annotation, a type error
/// against the schema): a paragraph without any policy (`uncovered-paragraph`), a policy that
/// can never apply (`never-applies`) or an invariants file that does not type-check loads
/// there, and fails here. A service that reloads its files while running should load them
/// through this gate, and keep its current engine when it fails: then "the last good policy"
/// it goes on deciding with is the last set that passed `aipolicy validate`.
///
/// ```
/// use aipolicy::{clock::parse_date, inputs::Inputs, lint};
/// let passed = lint::gate(&Inputs::embedded(), parse_date("2026-12-07").unwrap()).unwrap();
/// assert!(passed.warnings.is_empty());
/// assert!(passed.engine.policies().rules().len() > 12);
/// ```
pub fn gate(inputs: &Inputs, day: Date) -> Result<Passed, Vec<Finding>> {
    validate(inputs, day).passed()
}

/// Validates policies, schema and register together, as `aipolicy validate` does: every
/// problem of every file at once. When each part is clean, also builds the [`Engine`] from
/// them, so a clean validation means the engine loads (it is [`Validation::engine`]; [`gate`]
/// gives it only then). What lapses in the register is told as of `day`.
pub fn validate(inputs: &Inputs, day: Date) -> Validation {
    let mut findings = Vec::new();

    let (schema_name, schema) = match inputs.schema.path() {
        Some(path) => (path.display().to_string(), policies::load_schema_file(path)),
        None => (
            format!("embedded {}", policies::BUNDLED_SCHEMA_NAME),
            policies::bundled_schema(),
        ),
    };
    let schema = schema
        .map_err(|e| findings.extend(load_findings(e, Check::SchemaFile, &schema_name)))
        .ok();

    let (policies_name, files) = inputs.policy_files();
    let (files, mut report) = match files {
        Ok(files) => {
            let report = lint_policies(&files, schema.as_ref(), &policies_name);
            (Some(files), report)
        }
        Err(e) => {
            findings.extend(load_findings(e, Check::Read, &policies_name));
            (None, LintReport::default())
        }
    };

    // Read once: parsed, and kept for the lines of its findings.
    let (register_name, register_text, register) = match inputs.register.path() {
        Some(path) => {
            let name = path.display().to_string();
            match Register::read_file_text(path) {
                Ok(text) => {
                    let register = Register::from_yaml(&text, &name);
                    (name, text, register)
                }
                Err(e) => (name, String::new(), Err(e)),
            }
        }
        None => (
            format!("embedded {}", register::BUNDLED_REGISTER_NAME),
            register::BUNDLED_REGISTER.to_string(),
            Register::bundled(),
        ),
    };
    let register = match register {
        Ok(register) => {
            findings.extend(register_warnings(
                &register_name,
                &register_text,
                &register,
                day,
            ));
            Some(register)
        }
        Err(LoadError::Register(RegisterError::Invalid { file, problems })) => {
            findings.extend(register_findings(&file, &register_text, &problems));
            None
        }
        Err(e) => {
            findings.extend(load_findings(e, Check::Register, &register_name));
            None
        }
    };

    findings.extend(invariant_findings(
        inputs.invariants.path(),
        schema.as_ref(),
    ));
    report.findings.extend(findings);
    let mut engine = None;
    if let (false, Some(files), Some(schema), Some(register)) =
        (report.has_errors(), files, schema, register.clone())
    {
        match Policies::from_files(files).and_then(|p| Engine::new(p, schema, register)) {
            Ok(built) => engine = Some(built),
            Err(e) => {
                let mut found = load_findings(e, Check::Engine, &policies_name);
                if found.is_empty() {
                    found.push(Finding::about_file(
                        Check::Engine,
                        Severity::Error,
                        &policies_name,
                        "the engine cannot be built from these policies, schema and register",
                        None,
                    ));
                }
                report.findings.extend(found);
            }
        }
    }
    Validation {
        report,
        policies: policies_name,
        schema: schema_name,
        register: register_name,
        loaded_register: register,
        engine,
    }
}

pub use crate::policies::read_policy_dir;

/// Findings for a register that is valid YAML but breaks its schema: each problem points at
/// the line its path (e.g. `aiSystems[3].maxDataLevel`) names in `text`, where it can be found.
pub fn register_findings(
    file: &str,
    text: &str,
    problems: &[crate::error::FieldError],
) -> Vec<Finding> {
    yaml_findings(
        Check::Register,
        file,
        text,
        problems,
        "the register's keys and their defaults: `aipolicy schema register`",
    )
}

/// Findings for problems at dotted paths of a YAML file, each at its line where it can be
/// found.
fn yaml_findings(
    check: Check,
    file: &str,
    text: &str,
    problems: &[crate::error::FieldError],
    help: &str,
) -> Vec<Finding> {
    yaml_findings_at(check, Severity::Error, file, text, problems, help)
}

/// [`yaml_findings`] with a severity.
fn yaml_findings_at(
    check: Check,
    severity: Severity,
    file: &str,
    text: &str,
    problems: &[crate::error::FieldError],
    help: &str,
) -> Vec<Finding> {
    let source: Arc<str> = Arc::from(text);
    problems
        .iter()
        .map(|p| {
            let message = if p.path.is_empty() {
                p.message.clone()
            } else {
                format!("`{}`: {}", p.path, p.message)
            };
            let help = Some(help.to_string());
            match locate_yaml_path(text, &p.path) {
                Some(span) => Finding::new(
                    check,
                    severity,
                    SourceDiagnostic::new(file, source.clone(), span, message, help),
                ),
                None => Finding::about_file(check, severity, file, message, help),
            }
        })
        .collect()
}

pub use crate::yaml_path::locate_yaml_path;

/// The invariants `aipolicy verify` would prove: they must read, and type-check against the
/// schema (when it loaded), so that a broken invariants file fails `validate` too.
fn invariant_findings(file: Option<&std::path::Path>, schema: Option<&Schema>) -> Vec<Finding> {
    use crate::invariants::{Invariants, InvariantsError};
    let (name, invariants) = match file {
        Some(path) => (path.display().to_string(), Invariants::from_file(path)),
        None => (
            crate::invariants::BUNDLED_INVARIANTS_NAME.to_string(),
            Invariants::bundled(),
        ),
    };
    let checked = invariants.and_then(|invariants| match schema {
        Some(schema) => invariants.check(schema),
        None => Ok(()),
    });
    let help = "the invariants file's keys: `aipolicy schema invariants`";
    match checked {
        Ok(()) => Vec::new(),
        Err(InvariantsError::Syntax { diagnostics, .. }) => diagnostics
            .into_iter()
            .map(|d| Finding::new(Check::Invariants, Severity::Error, d))
            .collect(),
        Err(InvariantsError::Invalid {
            file: shown,
            problems,
        }) => {
            let text = match file {
                Some(path) => std::fs::read_to_string(path).unwrap_or_default(),
                None => crate::invariants::BUNDLED_INVARIANTS.to_string(),
            };
            yaml_findings(Check::Invariants, &shown, &text, &problems, help)
        }
        Err(other) => vec![Finding::about_file(
            Check::Invariants,
            Severity::Error,
            &name,
            other.to_string(),
            Some(help.to_string()),
        )],
    }
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

    fn file(name: &str, text: &str) -> PolicyFile {
        PolicyFile {
            name: name.into(),
            text: Arc::from(text),
        }
    }

    #[test]
    fn bundled_sources_are_clean() {
        let validation = validate(
            &Inputs::embedded(),
            crate::clock::parse_date("2026-12-07").unwrap(),
        );
        let headlines: Vec<_> = validation
            .report
            .findings
            .iter()
            .map(Finding::headline)
            .collect();
        assert!(headlines.is_empty(), "{headlines:#?}");
        assert!(validation.report.policies > 12);
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
        let schema = policies::bundled_schema().unwrap();
        let mut files: Vec<PolicyFile> = policies::BUNDLED_POLICY_FILES
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
            locate_yaml_path(text, path)
                .map(|span| crate::error::line_column(text, span.offset()).0)
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
            crate::policies::annotations::paragraph_of_file("other/name.cedar"),
            None
        );
    }
}
