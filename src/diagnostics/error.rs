//! Errors, one enum per phase: loading (policies, schema, register) and reading a query.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::diagnostics::language::Language;

/// One problem at one place in a JSON or YAML document, e.g. `aiSystems[3].maxDataLevel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where: a dotted path such as `user.roles[0]`; empty for the whole document.
    pub path: String,
    /// What was wrong and what was expected.
    pub message: String,
    /// 1-based line in the file the document was read from, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The message in Swedish, for a problem a query's caller meets (a decision, the API and
    /// the CLI answer in the language asked for). `None` for what only authors meet (a
    /// register, a scenario file), which is said in English.
    #[serde(skip)]
    pub message_sv: Option<String>,
}

impl FieldError {
    /// A problem at `path`, said in English only.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            message: message.into(),
            line: None,
            message_sv: None,
        }
    }

    /// A problem at `path`, said in Swedish (`sv`) and English (`en`).
    ///
    /// ```
    /// use aipolicy::{FieldError, Language};
    /// let problem = FieldError::in_both("data", "fält saknas", "missing required field");
    /// assert_eq!(problem.text_in(Language::Sv), "data: fält saknas");
    /// assert_eq!(problem.to_string(), "data: missing required field");
    /// ```
    pub fn in_both(path: impl Into<String>, sv: impl Into<String>, en: impl Into<String>) -> Self {
        FieldError {
            message_sv: Some(sv.into()),
            ..FieldError::new(path, en)
        }
    }

    /// The message in `language` (English where no Swedish was written).
    pub fn message_in(&self, language: Language) -> &str {
        match (language, &self.message_sv) {
            (Language::Sv, Some(sv)) => sv,
            _ => &self.message,
        }
    }

    /// The problem as [`Display`](fmt::Display) shows it, in `language`: line, path and
    /// message.
    pub fn text_in(&self, language: Language) -> String {
        let mut text = String::new();
        if let Some(line) = self.line {
            text.push_str(&match language {
                Language::Sv => format!("rad {line}: "),
                Language::En => format!("line {line}: "),
            });
        }
        if !self.path.is_empty() {
            text.push_str(&self.path);
            text.push_str(": ");
        }
        text.push_str(self.message_in(language));
        text
    }

    /// The same problem, found at `line` of its file.
    pub fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

fn join(problems: &[FieldError]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl std::error::Error for FieldError {}

/// Each problem of a file is shown as a diagnostic of its own, below the file's one-line error.
impl Diagnostic for FieldError {}

/// `1 problem`, `3 problems`.
pub(crate) fn count(problems: &[FieldError]) -> String {
    match problems.len() {
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    }
}

/// A query that cannot be decided: bad JSON, a missing or mistyped field, an unknown data class,
/// user or role. Never an allow: the CLI exits 2, `batch` writes a deny with these errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Diagnostic)]
#[error("invalid query: {}", join(.problems))]
#[diagnostic(
    code(aipolicy::invalid_query),
    help("the query's keys: `aipolicy schema query`")
)]
pub struct InputError {
    /// Every problem found, each with its JSON path.
    pub problems: Vec<FieldError>,
}

impl InputError {
    /// An input error with a single problem, said in English only.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            problems: vec![FieldError::new(path, message)],
        }
    }

    /// An input error with a single problem, said in Swedish (`sv`) and English (`en`).
    pub fn in_both(path: impl Into<String>, sv: impl Into<String>, en: impl Into<String>) -> Self {
        InputError {
            problems: vec![FieldError::in_both(path, sv, en)],
        }
    }

    /// Each problem in `language`, as a decision's `errors` list them.
    pub fn problems_in(&self, language: Language) -> Vec<String> {
        self.problems.iter().map(|p| p.text_in(language)).collect()
    }

    /// The whole error in `language`, as [`Display`](fmt::Display) says it in English.
    ///
    /// ```
    /// use aipolicy::{InputError, Language};
    /// let e = InputError::in_both("data", "fält saknas", "missing required field");
    /// assert_eq!(e.text_in(Language::Sv), "ogiltig fråga: data: fält saknas");
    /// assert_eq!(e.text_in(Language::En), e.to_string());
    /// ```
    pub fn text_in(&self, language: Language) -> String {
        let lead = match language {
            Language::Sv => "ogiltig fråga",
            Language::En => "invalid query",
        };
        format!("{lead}: {}", self.problems_in(language).join("; "))
    }
}

/// A diagnostic that points into a file: file name, line, column and a source snippet.
///
/// Cedar's own parse and validation errors, YAML syntax errors and lint findings are all turned
/// into this one shape, so every tool renders them alike (with miette).
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub struct SourceDiagnostic {
    /// One-line description.
    pub message: String,
    /// The file's name and text.
    #[source_code]
    pub source_code: NamedSource<Arc<str>>,
    /// Marked places in the file.
    #[label(collection)]
    pub labels: Vec<LabeledSpan>,
    /// What to do about it.
    #[help]
    pub help: Option<String>,
}

impl SourceDiagnostic {
    /// A diagnostic with one label at `span` of `text`.
    pub fn new(
        file: &str,
        text: Arc<str>,
        span: SourceSpan,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Self {
        SourceDiagnostic {
            message: message.into(),
            source_code: NamedSource::new(file, text),
            labels: vec![LabeledSpan::underline(span)],
            help,
        }
    }

    /// A problem of a whole file, pointing at no place in it (e.g. a file over a size limit,
    /// whose text was not kept).
    pub fn whole_file(file: &str, message: impl Into<String>, help: Option<String>) -> Self {
        SourceDiagnostic {
            message: message.into(),
            source_code: NamedSource::new(file, Arc::from("")),
            labels: Vec::new(),
            help,
        }
    }

    /// A YAML syntax error of `text`, pointing at where the parser stopped.
    pub fn from_yaml_error(error: &serde_yaml::Error, file: &str, text: &str) -> Self {
        let offset = error.location().map_or(0, |l| l.index()).min(text.len());
        SourceDiagnostic::new(
            file,
            Arc::from(text),
            offset.into(),
            error.to_string(),
            None,
        )
    }

    /// Copies message, labels and help of any diagnostic (e.g. Cedar's) that points into `text`.
    pub fn from_diagnostic(diagnostic: &dyn Diagnostic, file: &str, text: Arc<str>) -> Self {
        let len = text.len();
        let labels = diagnostic
            .labels()
            .map(|labels| {
                labels
                    .filter(|l| l.offset() + l.len() <= len)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        SourceDiagnostic {
            message: diagnostic.to_string(),
            source_code: NamedSource::new(file, text),
            labels,
            help: diagnostic.help().map(|h| h.to_string()),
        }
    }

    /// The file's name.
    pub fn file(&self) -> &str {
        self.source_code.name()
    }

    /// 1-based line and column of the first label, if any.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        let offset = self.labels.first()?.offset();
        Some(line_column(self.source_code.inner(), offset))
    }

    /// `file:line:column: message`, for one-line output (JSON, logs).
    pub fn headline(&self) -> String {
        match self.line_column() {
            Some((line, column)) => format!("{}:{line}:{column}: {}", self.file(), self.message),
            None => format!("{}: {}", self.file(), self.message),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Loading policies, schema or register failed. The engine never starts half-loaded.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    #[diagnostic(code(aipolicy::read))]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The policy folder holds no `.cedar` file.
    #[error("no `.cedar` files in `{}`", .0.display())]
    #[diagnostic(
        code(aipolicy::no_policies),
        help("point --policies at the folder with the policy files")
    )]
    NoPolicies(PathBuf),
    /// The policies do not parse, do not validate against the schema, or lack annotations.
    #[error("{} problem(s) in the policies", .0.len())]
    #[diagnostic(code(aipolicy::policies))]
    Policies(#[related] Vec<SourceDiagnostic>),
    /// The Cedar schema does not parse.
    #[error("the Cedar schema is invalid")]
    #[diagnostic(code(aipolicy::schema))]
    Schema(#[related] Vec<SourceDiagnostic>),
    /// The register is not valid YAML or breaks its JSON Schema.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Register(#[from] RegisterError),
    /// An invariant of aipolicy itself was broken (a bug: please report it).
    #[error("internal error: {0}")]
    #[diagnostic(code(aipolicy::internal))]
    Internal(String),
}

/// The register could not be used.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum RegisterError {
    /// Not valid YAML.
    #[error("register `{file}` is not valid YAML")]
    #[diagnostic(code(aipolicy::register_syntax))]
    Syntax {
        /// The register's file name.
        file: String,
        /// Where the YAML broke.
        #[related]
        diagnostics: Vec<SourceDiagnostic>,
    },
    /// Valid YAML, but not a valid register.
    #[error("register `{file}` is invalid: {}", count(problems))]
    #[diagnostic(
        code(aipolicy::register),
        help("the register's keys and their defaults: `aipolicy schema register`")
    )]
    Invalid {
        /// The register's file name.
        file: String,
        /// Every problem, each with its path (and line where known).
        #[related]
        problems: Vec<FieldError>,
    },
}
