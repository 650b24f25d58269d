//! Findings at the lines of a YAML file: each problem, named by its path (e.g.
//! `aiSystems[3].maxDataLevel`), points at the line the path names, where it can be found.

use std::sync::Arc;

use crate::diagnostics::error::{FieldError, SourceDiagnostic};
use crate::diagnostics::findings::{Check, Finding, Severity};
use crate::io::yaml_path::locate_yaml_path;

/// Findings for problems at dotted paths of a YAML file, each at its line where it can be
/// found.
pub fn yaml_findings(
    check: Check,
    file: &str,
    text: &str,
    problems: &[FieldError],
    help: &str,
) -> Vec<Finding> {
    yaml_findings_at(check, Severity::Error, file, text, problems, help)
}

/// [`yaml_findings`] with a severity.
pub fn yaml_findings_at(
    check: Check,
    severity: Severity,
    file: &str,
    text: &str,
    problems: &[FieldError],
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
