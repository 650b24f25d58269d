//! The annotation rules of a policy, written once: the loader ([`Policies::from_files`]) refuses
//! a policy set with any error found here, and the linter ([`lint_policies`], `aipolicy
//! validate`) reports every finding with its check name, file:line:column and snippet.
//!
//! The rules:
//! - `@id`, `@paragraph`, `@sv` and `@en` are required and not empty (`missing-annotation`,
//!   `empty-annotation`); `@id` is unique across all files (`duplicate-id`);
//! - `@paragraph` is a known code, §1–§6 or U0–U5 (`unknown-paragraph`);
//! - `@obligation_sv` and `@obligation_en` come both or neither (`missing-annotation`) and only
//!   on a permit (`obligations`);
//! - `@kind`, when present, is `duty`, and only on a permit (`kind`);
//! - `@law`, when present, names the act and article the rule comes from and is not empty
//!   (`empty-annotation`);
//! - warnings: an annotation aipolicy does not read (`unknown-annotation`), a policy in the
//!   file named for another paragraph (`paragraph-file`), a rule from law outside the files
//!   for law (`law-….cedar`) or one of those files' rules without `@law` (`law-file`).
//!
//! ```
//! use std::str::FromStr;
//! use aipolicy::diagnostics::findings::Check;
//! use aipolicy::policy::annotations::Checker;
//! use aipolicy::PolicyFile;
//!
//! let text = "@id(\"x\")\n@paragraph(\"U9\")\n@sv(\"s\")\n@en(\"e\")\nforbid (principal, action, resource);\n";
//! let file = PolicyFile { name: "x.cedar".into(), text: text.into() };
//! let policy = cedar_policy::Policy::from_str(text).unwrap();
//! let checked = Checker::default().check(&file, 0, 1, &policy);
//! assert!(checked.rule.is_none());
//! assert_eq!(checked.findings[0].check, Check::UnknownParagraph);
//! assert_eq!(
//!     checked.findings[0].diagnostic.headline(),
//!     "x.cedar:2:1: policy `x`: unknown paragraph code `U9`; expected one of §1–§6, U0–U5"
//! );
//! ```
//!
//! [`Policies::from_files`]: crate::Policies::from_files
//! [`lint_policies`]: crate::authoring::lint::lint_policies

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{Effect, Policy};
use miette::SourceSpan;

use super::{PolicyFile, Rule};
use crate::diagnostics::error::SourceDiagnostic;
use crate::diagnostics::findings::{Check, Finding, Severity};
use crate::model::paragraph::Paragraph;

/// The annotations aipolicy reads; any other is reported as `unknown-annotation`.
pub const KNOWN_ANNOTATIONS: [&str; 8] = [
    "id",
    "paragraph",
    "sv",
    "en",
    "obligation_sv",
    "obligation_en",
    "kind",
    "law",
];

/// What the annotations of one policy say, and what is wrong with them.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The `@id`, trimmed, when it is there and not empty (also when it is a duplicate).
    pub id: Option<Arc<str>>,
    /// The `@paragraph`, when it is a known code.
    pub paragraph: Option<Paragraph>,
    /// The rule, when no finding is an error.
    pub rule: Option<Rule>,
    /// Every problem, errors and warnings, in text order.
    pub findings: Vec<Finding>,
}

impl Checked {
    /// Whether the policy's `@id` was used before (by an earlier policy given to the same
    /// [`Checker`]).
    pub fn is_duplicate(&self) -> bool {
        self.findings.iter().any(|f| f.check == Check::DuplicateId)
    }
}

/// Checks the annotations of the policies of one policy set, one after the other: each on its
/// own, and their `@id`s unique across all of them.
#[derive(Debug, Clone, Default)]
pub struct Checker {
    /// Each `@id` seen, with the file and line of its first use.
    first_seen: HashMap<Arc<str>, (String, usize)>,
}

impl Checker {
    /// Checks `policy`, written in `file` at byte `offset`, on 1-based `line`.
    pub fn check(
        &mut self,
        file: &PolicyFile,
        offset: usize,
        line: usize,
        policy: &Policy,
    ) -> Checked {
        let p = Located {
            file,
            offset,
            text: policy.to_string(),
        };
        let mut findings = Vec::new();
        let mut error = |check: Check, span: SourceSpan, message: String, help: String| {
            findings.push(Finding::new(
                check,
                Severity::Error,
                p.diagnostic(span, message, help),
            ));
        };

        let id = nonempty(policy.annotation("id"));
        let label = match &id {
            Some(id) => format!("policy `{id}`"),
            None => format!("the policy at line {line}"),
        };
        let effect = policy.effect();
        let mut required = vec!["id", "paragraph", "sv", "en"];
        // Obligations are optional, but always in both languages, and only on a permit.
        let has = |key: &str| policy.annotation(key).is_some();
        if effect == Effect::Forbid {
            for key in ["obligation_sv", "obligation_en"]
                .into_iter()
                .filter(|k| has(k))
            {
                error(
                    Check::Obligations,
                    p.annotation_span(key),
                    format!("{label}: a forbid has no obligations, but has `@{key}`"),
                    "obligations belong on permits; for a duty that comes with every allow, \
                     write a permit with @kind(\"duty\")"
                        .to_string(),
                );
            }
        } else if has("obligation_sv") || has("obligation_en") {
            required.extend(["obligation_sv", "obligation_en"]);
        }
        let duty = match policy.annotation("kind").map(str::trim) {
            None => false,
            Some("duty") if effect == Effect::Permit => true,
            Some(kind) => {
                error(
                    Check::Kind,
                    p.annotation_span("kind"),
                    if kind == "duty" {
                        format!("{label}: a duty must be a `permit`")
                    } else {
                        format!("{label}: unknown `@kind(\"{kind}\")`")
                    },
                    "the only kind is `duty`: a permit that grants nothing and adds its @sv/@en \
                     as an obligation to every allow it applies to; leave @kind out otherwise"
                        .to_string(),
                );
                false
            }
        };
        if has("law") {
            required.push("law");
        }
        for key in required {
            match policy.annotation(key).map(str::trim) {
                None => error(
                    Check::MissingAnnotation,
                    p.head_span(),
                    format!("{label} has no `@{key}` annotation"),
                    annotation_help(key, effect),
                ),
                Some("") => error(
                    Check::EmptyAnnotation,
                    p.annotation_span(key),
                    format!("{label}: `@{key}` is empty"),
                    annotation_help(key, effect),
                ),
                Some(_) => {}
            }
        }

        let paragraph = match policy.annotation("paragraph").map(str::trim) {
            // Missing or empty: reported above.
            None | Some("") => None,
            Some(code) => match Paragraph::from_str(code) {
                Ok(paragraph) => Some(paragraph),
                Err(e) => {
                    error(
                        Check::UnknownParagraph,
                        p.annotation_span("paragraph"),
                        format!("{label}: {e}"),
                        crate::model::paragraph::CODES_HELP.to_string(),
                    );
                    None
                }
            },
        };

        let id_line = line + newlines(p.text.get(..p.annotation_start("id")).unwrap_or(""));
        if let Some(id) = &id {
            match self.first_seen.get(id) {
                Some((first_file, first_line)) => error(
                    Check::DuplicateId,
                    p.annotation_span("id"),
                    format!("duplicate policy id `{id}`"),
                    format!(
                        "first used at {first_file}:{first_line}; every @id must be unique \
                         across all policy files"
                    ),
                ),
                None => {
                    self.first_seen
                        .insert(id.clone(), (file.name.clone(), id_line));
                }
            }
        }

        if let Some((paragraph, named)) = paragraph
            .zip(paragraph_of_file(&file.name))
            .filter(|(paragraph, named)| paragraph != named)
        {
            findings.push(Finding::new(
                Check::ParagraphFile,
                Severity::Warning,
                p.diagnostic(
                    p.annotation_span("paragraph"),
                    format!(
                        "{label} belongs to paragraph `{paragraph}`, but its file is named for \
                         `{named}`"
                    ),
                    format!(
                        "keep one file per paragraph: move the policy to the file for \
                         {paragraph} ({}), or correct @paragraph",
                        paragraph.title_sv()
                    ),
                ),
            ));
        }
        let in_law_file = is_law_file(&file.name);
        if in_law_file != has("law") {
            let (span, message, help) = if in_law_file {
                (
                    p.head_span(),
                    format!("{label} is in a file for rules from law, but has no `@law`"),
                    "name the act and article with @law(\"…\"), e.g. @law(\"EU AI Act art. 5\"), \
                     or move the policy to the file of its paragraph",
                )
            } else {
                (
                    p.annotation_span("law"),
                    format!("{label} comes from law (`@law`), but its file is not one for law"),
                    "keep rules from law in files grouped by act, named `law-<act>.cedar` \
                     (e.g. policies/law-gdpr.cedar), so that an author finds them by the act",
                )
            };
            findings.push(Finding::new(
                Check::LawFile,
                Severity::Warning,
                p.diagnostic(span, message, help.to_string()),
            ));
        }
        for (key, _) in policy.annotations() {
            if !KNOWN_ANNOTATIONS.contains(&key) {
                let suggestion = KNOWN_ANNOTATIONS
                    .iter()
                    .find(|known| near(key, known))
                    .map_or_else(String::new, |known| format!("did you mean `@{known}`? "));
                findings.push(Finding::new(
                    Check::UnknownAnnotation,
                    Severity::Warning,
                    p.diagnostic(
                        p.annotation_span(key),
                        format!("{label}: aipolicy does not read the annotation `@{key}`"),
                        format!(
                            "{suggestion}the annotations aipolicy reads are {}",
                            KNOWN_ANNOTATIONS.map(|k| format!("@{k}")).join(", ")
                        ),
                    ),
                ));
            }
        }
        findings.sort_by_key(|f| f.diagnostic.labels.first().map(|l| l.offset()));

        let text = |key: &str| nonempty(policy.annotation(key));
        let rule = match (&id, paragraph, text("sv"), text("en")) {
            (Some(id), Some(paragraph), Some(sv), Some(en))
                if !findings.iter().any(|f| f.severity == Severity::Error) =>
            {
                Some(Rule {
                    id: id.clone(),
                    paragraph,
                    effect,
                    sv,
                    en,
                    duty,
                    obligation_sv: text("obligation_sv"),
                    obligation_en: text("obligation_en"),
                    law: text("law"),
                    file: file.name.clone(),
                    // The line of `@id(`, where an author looks for the rule.
                    line: id_line,
                })
            }
            _ => None,
        };
        Checked {
            id,
            paragraph,
            rule,
            findings,
        }
    }
}

/// The annotation's value, trimmed, unless it is missing or empty.
fn nonempty(value: Option<&str>) -> Option<Arc<str>> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(Arc::from)
}

fn annotation_help(key: &str, effect: Effect) -> String {
    match key {
        "id" => "give the policy a unique @id(\"…\"), e.g. @id(\"u3-public-ai-open-only\"); \
                 reasons name the policy by it"
            .into(),
        "paragraph" => "name the paragraph of the policy document the rule comes from, \
                        e.g. @paragraph(\"U3\"); codes §1–§6, U0–U5"
            .into(),
        "sv" => "write what the rule means for a person, in Swedish: @sv(\"…\")".into(),
        "en" => "write what the rule means for a person, in English: @en(\"…\")".into(),
        _ if effect == Effect::Permit => format!(
            "an obligation is given in both languages: @{key}(\"…\") (Swedish in \
             @obligation_sv, English in @obligation_en), or not at all"
        ),
        _ => format!("write @{key}(\"…\")"),
    }
}

/// A policy with where it is written.
struct Located<'a> {
    file: &'a PolicyFile,
    offset: usize,
    /// The policy's own text (from its first annotation to its `;`).
    text: String,
}

impl Located<'_> {
    /// A diagnostic at `span` of the policy's file.
    fn diagnostic(&self, span: SourceSpan, message: String, help: String) -> SourceDiagnostic {
        SourceDiagnostic::new(
            &self.file.name,
            self.file.text.clone(),
            span,
            message,
            Some(help),
        )
    }

    /// The policy's first line: where a missing annotation belongs.
    fn head_span(&self) -> SourceSpan {
        (self.offset, self.head_len()).into()
    }

    fn head_len(&self) -> usize {
        self.text.find('\n').unwrap_or(self.text.len())
    }

    /// `@key(…)` in the policy (not in a comment), or the policy's first line.
    fn annotation_span(&self, key: &str) -> SourceSpan {
        match self.find_annotation(key) {
            Some((start, len)) => (self.offset + start, len).into(),
            None => self.head_span(),
        }
    }

    /// Where `@key(` starts in the policy's text (0 when it is not there).
    fn annotation_start(&self, key: &str) -> usize {
        self.find_annotation(key).map_or(0, |(start, _)| start)
    }

    /// The start and length of `@key(…)` in the policy's text, outside comments.
    fn find_annotation(&self, key: &str) -> Option<(usize, usize)> {
        let text = self.text.as_str();
        let needle = format!("@{key}");
        let mut from = 0;
        while let Some(found) = text.get(from..).and_then(|rest| rest.find(&needle)) {
            let start = from + found;
            from = start + needle.len();
            let after = text.get(from..).unwrap_or("").trim_start();
            let line_start = text
                .get(..start)
                .and_then(|b| b.rfind('\n'))
                .map_or(0, |i| i + 1);
            let in_comment = text
                .get(line_start..start)
                .is_some_and(|before| before.contains("//"));
            if after.starts_with('(') && !in_comment {
                let rest = text.get(start..).unwrap_or("");
                let len = rest
                    .find("\")")
                    .map(|e| e + 2)
                    .or_else(|| rest.find('\n'))
                    .unwrap_or(rest.len());
                return Some((start, len));
            }
        }
        None
    }
}

/// How many line breaks `text` holds.
fn newlines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

/// Whether a policy file is one for rules from law (`law-….cedar`), grouped by act.
pub(crate) fn is_law_file(name: &str) -> bool {
    Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("law-"))
}

/// The paragraph a policy file is named for (`s3-….cedar` → §3, `u2-….cedar` → U2), if any.
pub(crate) fn paragraph_of_file(name: &str) -> Option<Paragraph> {
    let stem = Path::new(name).file_name()?.to_str()?;
    let mut chars = stem.chars();
    let code = match (chars.next()?, chars.next()?, chars.next()?) {
        ('s', digit, '-') => format!("§{digit}"),
        ('u', digit, '-') => format!("U{digit}"),
        _ => return None,
    };
    Paragraph::from_str(&code).ok()
}

/// Whether two annotation names are one typo apart (edit distance ≤ 1, or a prefix).
fn near(a: &str, b: &str) -> bool {
    (a.len() >= 2 && (b.starts_with(a) || a.starts_with(b))) || strsim::levenshtein(a, b) <= 1
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check(text: &str) -> Checked {
        let file = PolicyFile {
            name: "a.cedar".into(),
            text: Arc::from(text),
        };
        let policy = Policy::from_str(text).unwrap();
        Checker::default().check(&file, 0, 1, &policy)
    }

    #[test]
    fn near_names() {
        assert!(near("se", "sv"));
        assert!(near("paragrap", "paragraph"));
        assert!(!near("author", "sv"));
    }

    #[test]
    fn a_clean_policy_gives_its_rule() {
        let checked = check(
            "@id(\" x \")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n@obligation_sv(\"o\")\n\
             @obligation_en(\"p\")\npermit (principal, action, resource);\n",
        );
        assert!(checked.findings.is_empty(), "{:?}", checked.findings);
        let rule = checked.rule.unwrap();
        assert_eq!(&*rule.id, "x");
        assert_eq!(rule.paragraph, Paragraph::U1);
        assert_eq!(rule.obligation_en.as_deref(), Some("p"));
        assert!(!rule.duty);
    }

    #[test]
    fn a_warning_alone_keeps_the_rule() {
        let checked = check(
            "@id(\"x\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n@se(\"s\")\n\
             forbid (principal, action, resource);\n",
        );
        assert_eq!(checked.findings.len(), 1);
        assert_eq!(checked.findings[0].severity, Severity::Warning);
        assert!(checked.rule.is_some());
    }

    #[test]
    fn the_second_use_of_an_id_is_a_duplicate() {
        let text = "@id(\"x\")\n@paragraph(\"U1\")\n@sv(\"s\")\n@en(\"e\")\n\
                    forbid (principal, action, resource);\n";
        let file = PolicyFile {
            name: "a.cedar".into(),
            text: Arc::from(text),
        };
        let policy = Policy::from_str(text).unwrap();
        let mut checker = Checker::default();
        assert!(!checker.check(&file, 0, 1, &policy).is_duplicate());
        let again = checker.check(&file, 0, 1, &policy);
        assert!(again.is_duplicate() && again.rule.is_none());
        assert_eq!(again.id.as_deref(), Some("x"));
    }
}
