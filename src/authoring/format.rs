//! The formatter behind `aipolicy fmt`: Cedar's own, with aipolicy's line width, run on a
//! stack that holds the deepest policy accepted.

use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::PolicySet;

use crate::diagnostics::error::SourceDiagnostic;
use crate::policy::PolicyFile;

/// Formats Cedar policy text with Cedar's own formatter (`cedar-policy-formatter`), keeping
/// annotations and comments: line width 80, indent 2, as `cedar format` does. A text that does
/// not parse gives diagnostics pointing into it.
///
/// ```
/// let text = "@id(\"x\")\nforbid(principal,action,resource) when {context.data.level>0};\n";
/// let formatted = aipolicy::authoring::format::format_cedar(text, "x.cedar").unwrap();
/// assert_eq!(formatted, "@id(\"x\")\nforbid (principal, action, resource)\nwhen { context.data.level > 0 };\n");
/// ```
///
/// Text nested over [`MAX_POLICY_NESTING`](crate::policy::MAX_POLICY_NESTING) is refused
/// before Cedar parses it, and Cedar parses and formats on a thread with a stack for the
/// deepest text accepted.
pub fn format_cedar(text: &str, file: &str) -> Result<String, Vec<SourceDiagnostic>> {
    let policy_file = PolicyFile {
        name: file.to_string(),
        text: Arc::from(text),
    };
    if let Some(problem) = crate::policy::nesting_problem(&policy_file) {
        return Err(vec![problem]);
    }
    crate::io::cedar_text::on_parser_stack(|| format_cedar_here(text, file)).unwrap_or_else(|e| {
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
