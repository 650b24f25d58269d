//! The traceability matrix from the policy document to the code: each paragraph with its
//! title, the policies that implement it (with file and line), and the scenario cases that
//! exercise them. What an auditor reads to see that the whole document is covered.
//!
//! The cases come in as a map from policy `@id` to case labels, so this module does not depend
//! on how scenarios are run (the scenario runner's coverage is exactly such a map).
//!
//! ```
//! use std::collections::BTreeMap;
//! use aipolicy::{trace::Trace, Policies};
//!
//! let policies = Policies::bundled().unwrap();
//! let mut cases = BTreeMap::new();
//! cases.insert("u3-public-ai-open-only".to_string(), vec!["u3.yaml: chatbot with intern".to_string()]);
//! let trace = Trace::new(&policies, &cases);
//! let u3 = trace.paragraphs.iter().find(|p| p.code == "U3").unwrap();
//! assert_eq!(u3.cases, ["u3.yaml: chatbot with intern"]);
//! assert!(trace.to_markdown().contains("| U3 |"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cedar_policy::Effect;
use serde::Serialize;

use crate::paragraph::{Paragraph, CONTEXT_SECTIONS};
use crate::policies::Policies;

/// A policy as the trace shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracedPolicy {
    /// `@id`.
    pub id: String,
    /// `permit`, `forbid` or `duty` (a permit with `@kind("duty")`).
    pub effect: &'static str,
    /// The file it is written in.
    pub file: String,
    /// 1-based line of its first annotation.
    pub line: usize,
    /// What it says, in Swedish (`@sv`).
    pub sv: String,
    /// The scenario cases that exercise it.
    pub cases: Vec<String>,
}

/// One rule-bearing paragraph of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracedParagraph {
    /// The pinned code, e.g. `§3` or `U3`.
    pub code: &'static str,
    /// The heading in the document (Swedish).
    pub title: &'static str,
    /// The rule the project reads from it (English).
    pub rule: &'static str,
    /// The policies that implement it, in file order.
    pub policies: Vec<TracedPolicy>,
    /// Every case that exercises one of its policies, sorted, without repeats.
    pub cases: Vec<String>,
}

/// Counts for the auditor's first glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TraceSummary {
    /// Rule-bearing paragraphs (12).
    pub paragraphs: usize,
    /// Paragraphs with at least one policy.
    pub implemented: usize,
    /// Paragraphs with at least one case.
    pub exercised: usize,
    /// Policies.
    pub policies: usize,
    /// Policies that no case exercises.
    pub unexercised_policies: usize,
}

/// The whole traceability matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The rule-bearing paragraphs, in document order.
    pub paragraphs: Vec<TracedParagraph>,
    /// The sections that carry no rule (Bakgrund, Syfte, Mål, Styrdokument).
    pub context: Vec<&'static str>,
    /// Counts.
    pub summary: TraceSummary,
    /// Policy ids named by cases that no loaded policy has (stale coverage data).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_policies: Vec<String>,
}

impl Trace {
    /// Builds the trace from the loaded policies and the cases that exercised each policy
    /// (policy `@id` → case labels such as `"u3.yaml: chatbot with intern"`).
    pub fn new(policies: &Policies, exercised: &BTreeMap<String, Vec<String>>) -> Trace {
        let paragraphs: Vec<TracedParagraph> = Paragraph::ALL
            .into_iter()
            .map(|paragraph| {
                let traced: Vec<TracedPolicy> = policies
                    .rules()
                    .iter()
                    .filter(|rule| rule.paragraph == paragraph)
                    .map(|rule| {
                        let mut cases = exercised.get(&*rule.id).cloned().unwrap_or_default();
                        cases.sort();
                        cases.dedup();
                        TracedPolicy {
                            id: rule.id.to_string(),
                            effect: match rule.effect {
                                Effect::Permit if rule.duty => "duty",
                                Effect::Permit => "permit",
                                Effect::Forbid => "forbid",
                            },
                            file: rule.file.clone(),
                            line: rule.line,
                            sv: rule.sv.to_string(),
                            cases,
                        }
                    })
                    .collect();
                let mut cases: Vec<String> = traced.iter().flat_map(|p| p.cases.clone()).collect();
                cases.sort();
                cases.dedup();
                TracedParagraph {
                    code: paragraph.code(),
                    title: paragraph.title_sv(),
                    rule: paragraph.rule_en(),
                    policies: traced,
                    cases,
                }
            })
            .collect();
        let unknown_policies = exercised
            .keys()
            .filter(|id| !policies.rules().iter().any(|r| &*r.id == id.as_str()))
            .cloned()
            .collect();
        let all: Vec<&TracedPolicy> = paragraphs.iter().flat_map(|p| &p.policies).collect();
        let summary = TraceSummary {
            paragraphs: paragraphs.len(),
            implemented: paragraphs.iter().filter(|p| !p.policies.is_empty()).count(),
            exercised: paragraphs.iter().filter(|p| !p.cases.is_empty()).count(),
            policies: all.len(),
            unexercised_policies: all.iter().filter(|p| p.cases.is_empty()).count(),
        };
        Trace {
            paragraphs,
            context: CONTEXT_SECTIONS.to_vec(),
            summary,
            unknown_policies,
        }
    }

    /// Markdown: an overview table, then each paragraph with its policies and cases.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let s = &self.summary;
        let _ = writeln!(
            md,
            "# Spårbarhet: Policy för ansvarsfull AI → policyer → testfall\n\n\
             {} av {} paragrafer med regler har policyer, {} prövas av testfall; \
             {} av {} policyer prövas.\n",
            s.implemented,
            s.paragraphs,
            s.exercised,
            s.policies - s.unexercised_policies,
            s.policies
        );
        md.push_str("| Paragraf | Rubrik | Policyer | Testfall |\n|---|---|---|---|\n");
        for p in &self.paragraphs {
            let policies = if p.policies.is_empty() {
                "**saknas**".to_string()
            } else {
                p.policies
                    .iter()
                    .map(|t| format!("`{}` ({}:{})", t.id, t.file, t.line))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                p.code,
                p.title,
                policies,
                p.cases.len()
            );
        }
        let _ = writeln!(
            md,
            "\nSammanhang utan regler (context, no rule): {}.\n",
            self.context.join(", ")
        );
        for p in &self.paragraphs {
            let _ = writeln!(md, "## {} {}\n\n{}.\n", p.code, p.title, capitalize(p.rule));
            for t in &p.policies {
                let _ = writeln!(
                    md,
                    "- `{}` ({}, {}:{}): {}",
                    t.id, t.effect, t.file, t.line, t.sv
                );
                if t.cases.is_empty() {
                    let _ = writeln!(md, "  - *inget testfall (no case)*");
                }
                for case in &t.cases {
                    let _ = writeln!(md, "  - {case}");
                }
            }
            if p.policies.is_empty() {
                let _ = writeln!(md, "- **ingen policy (no policy)**");
            }
            md.push('\n');
        }
        if !self.unknown_policies.is_empty() {
            let _ = writeln!(
                md,
                "Cases name policies that do not exist: {}\n",
                self.unknown_policies
                    .iter()
                    .map(|id| format!("`{id}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        md
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
