//! `aipolicy validate` and the load gate: every check of every input at once, and the engine
//! built only when none of them finds an error.
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
//! [`policy::annotations`]: a policy set the loader refuses
//! fails here with the same words.
//!
//! ```
//! use aipolicy::{clock::parse_date, inputs::Inputs, project};
//! let validation = project::validate(&Inputs::embedded(), parse_date("2026-12-07").unwrap());
//! assert!(!validation.report.has_errors(), "{:?}", validation.report.findings);
//! ```

use cedar_policy::Schema;

use crate::authoring::lint::{lint_policies, load_findings, register_findings, LintReport};
use crate::authoring::register_checks::register_warnings;
use crate::authoring::yaml_findings::yaml_findings;
use crate::diagnostics::error::{LoadError, RegisterError};
use crate::diagnostics::findings::{Check, Finding, Severity};
use crate::engine::Engine;
use crate::model::clock::Date;
use std::path::Path;

use crate::authoring::invariants::{
    Invariants, InvariantsError, BUNDLED_INVARIANTS, BUNDLED_INVARIANTS_NAME,
};
use crate::model::register::Register;
use crate::policy::{self, Policies};
use crate::project::inputs::{Inputs, Source};
use crate::project::sources::Sources;

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
    /// The policy revision of what was read (see [`Sources::revision`]); `None` when an input
    /// could not be read.
    pub revision: Option<String>,
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
/// use aipolicy::{clock::parse_date, inputs::Inputs, project};
/// let passed = project::gate(&Inputs::embedded(), parse_date("2026-12-07").unwrap()).unwrap();
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
    validate_sources(Sources::read(inputs), &inputs.invariants, day)
}

/// [`validate`] on sources already read (see [`EngineBuilder::load`](crate::EngineBuilder::load)),
/// with the invariants of `invariants`.
pub fn validate_sources(sources: Sources, invariants: &Source, day: Date) -> Validation {
    let revision = sources.revision();
    let mut findings = Vec::new();

    let schema_name = sources.schema.name;
    let schema = sources
        .schema
        .content
        .and_then(|text| policy::load_schema(&text, &schema_name))
        .map_err(|e| findings.extend(load_findings(e, Check::SchemaFile, &schema_name)))
        .ok();

    let policies_name = sources.policies.name;
    let (files, mut report) = match sources.policies.content {
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
    let register_name = sources.register.name;
    let (register_text, register) = match sources.register.content {
        Ok(text) => {
            let register = Register::from_yaml(&text, &register_name);
            (text, register)
        }
        Err(e) => (String::new(), Err(e)),
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

    findings.extend(invariant_findings(invariants.path(), schema.as_ref()));
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
        revision,
        loaded_register: register,
        engine,
    }
}

/// The invariants `aipolicy verify` would prove: they must read, and type-check against the
/// schema (when it loaded), so that a broken invariants file fails `validate` too.
fn invariant_findings(file: Option<&Path>, schema: Option<&Schema>) -> Vec<Finding> {
    let help = "the invariants file's keys: `aipolicy schema invariants`";
    // Read once, within its limit: parsed, and kept for the lines of its findings (a pipe or
    // a link to a device stops at the limit, here as everywhere).
    let (name, text) = match file {
        Some(path) => (path.display().to_string(), Invariants::read_file_text(path)),
        None => (
            BUNDLED_INVARIANTS_NAME.to_string(),
            Ok(BUNDLED_INVARIANTS.to_string()),
        ),
    };
    let (text, checked) = match text {
        Ok(text) => {
            let checked = Invariants::from_yaml(&text, &name).and_then(|invariants| match schema {
                Some(schema) => invariants.check(schema),
                None => Ok(()),
            });
            (text, checked)
        }
        Err(e) => (String::new(), Err(e)),
    };
    match checked {
        Ok(()) => Vec::new(),
        Err(InvariantsError::Syntax { diagnostics, .. }) => diagnostics
            .into_iter()
            .map(|d| Finding::new(Check::Invariants, Severity::Error, d))
            .collect(),
        Err(InvariantsError::Invalid {
            file: shown,
            problems,
        }) => yaml_findings(Check::Invariants, &shown, &text, &problems, help),
        Err(other) => vec![Finding::about_file(
            Check::Invariants,
            Severity::Error,
            &name,
            other.to_string(),
            Some(help.to_string()),
        )],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sources_are_clean() {
        let validation = validate(
            &Inputs::embedded(),
            crate::model::clock::parse_date("2026-12-07").unwrap(),
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
}
