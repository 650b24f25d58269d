//! What a check finds: a [`Finding`] with its [`Check`], [`Severity`], file, line and snippet.
//! The vocabulary every check speaks, from the loader's annotation rules up to `aipolicy
//! validate`, so that the lower layers can report a finding without knowing who runs them.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource};
use serde::Serialize;

use crate::diagnostics::error::SourceDiagnostic;

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
    /// Information the text finders find that no data class of the register names
    /// (`finds`): a query whose text holds it is denied (U2).
    TextClasses,
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
            Check::TextClasses => "text-classes",
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
