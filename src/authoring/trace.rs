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

use crate::model::decision::Language;
use crate::model::paragraph::{Paragraph, CONTEXT_SECTIONS};
use crate::policy::law::law_in;
use crate::policy::Policies;

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
    /// What it says, in English (`@en`).
    pub en: String,
    /// For a rule from law, its `@law` (act and article).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub law: Option<String>,
    /// The scenario cases that exercise it.
    pub cases: Vec<String>,
}

/// One act of law (Styrdokument; §6 "AI ska följa relevanta lagar") with its articles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracedAct {
    /// The act, as the `@law` annotations name it, e.g. `EU AI Act` or `Förvaltningslagen
    /// (2017:900)`.
    pub act: String,
    /// Its articles that have rules, in the order their first rule is loaded.
    pub articles: Vec<TracedArticle>,
}

/// One article of an act with the rules that make it concrete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracedArticle {
    /// The article, e.g. `art. 5` or `32 §`.
    pub article: String,
    /// Its rules, each with the paragraph it makes concrete.
    pub policies: Vec<TracedLawPolicy>,
    /// Every case that exercises one of its rules, sorted, without repeats.
    pub cases: Vec<String>,
}

/// A rule from law, with the paragraph of the policy it makes concrete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracedLawPolicy {
    /// The paragraph code, e.g. `§6`.
    pub paragraph: &'static str,
    /// The rule.
    #[serde(flatten)]
    pub policy: TracedPolicy,
}

/// Splits a `@law` into act and article: `EU AI Act art. 27` → (`EU AI Act`, `art. 27`);
/// `Förvaltningslagen (2017:900) 32 §` → (`Förvaltningslagen (2017:900)`, `32 §`). A value of
/// neither form is an act without an article.
///
/// ```
/// use aipolicy::trace::split_law;
/// assert_eq!(split_law("GDPR art. 44–46"), ("GDPR", "art. 44–46"));
/// assert_eq!(
///     split_law("Offentlighets- och sekretesslagen (2009:400) 10 kap. 2 a §"),
///     ("Offentlighets- och sekretesslagen (2009:400)", "10 kap. 2 a §")
/// );
/// assert_eq!(split_law("Diskrimineringslagen"), ("Diskrimineringslagen", ""));
/// ```
pub fn split_law(law: &str) -> (&str, &str) {
    let law = law.trim();
    if let Some(at) = law.find(" art. ") {
        return (law[..at].trim(), law[at..].trim());
    }
    // A Swedish act: its SFS number in brackets ends the name.
    if let Some(at) = law.find(") ") {
        return (law[..=at].trim(), law[at + 1..].trim());
    }
    (law, "")
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
    /// The same in Swedish.
    pub rule_sv: &'static str,
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
    /// The acts of law behind Styrdokument and §6, with the rules (`@law`) of each article.
    pub laws: Vec<TracedAct>,
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
                            en: rule.en.to_string(),
                            law: rule.law.as_deref().map(str::to_string),
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
                    rule_sv: paragraph.rule_sv(),
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
        let mut laws: Vec<TracedAct> = Vec::new();
        // In file order: the acts as their files are named, each act's rules as written.
        let mut from_law: Vec<(&'static str, &TracedPolicy)> = paragraphs
            .iter()
            .flat_map(|p| p.policies.iter().map(move |t| (p.code, t)))
            .filter(|(_, t)| t.law.is_some())
            .collect();
        from_law.sort_by(|(_, a), (_, b)| (&a.file, a.line).cmp(&(&b.file, b.line)));
        for (paragraph, policy) in from_law {
            let Some(law) = &policy.law else { continue };
            let (act, article) = split_law(law);
            let at = match laws.iter().position(|a| a.act == act) {
                Some(at) => at,
                None => {
                    laws.push(TracedAct {
                        act: act.to_string(),
                        articles: Vec::new(),
                    });
                    laws.len() - 1
                }
            };
            let articles = &mut laws[at].articles;
            let entry = match articles.iter().position(|a| a.article == article) {
                Some(i) => &mut articles[i],
                None => {
                    articles.push(TracedArticle {
                        article: article.to_string(),
                        policies: Vec::new(),
                        cases: Vec::new(),
                    });
                    let last = articles.len() - 1;
                    &mut articles[last]
                }
            };
            entry.cases.extend(policy.cases.iter().cloned());
            entry.cases.sort();
            entry.cases.dedup();
            entry.policies.push(TracedLawPolicy {
                paragraph,
                policy: policy.clone(),
            });
        }
        Trace {
            paragraphs,
            context: CONTEXT_SECTIONS.to_vec(),
            laws,
            summary,
            unknown_policies,
        }
    }

    /// Markdown in Swedish: an overview table, then each paragraph with its policies and cases.
    pub fn to_markdown(&self) -> String {
        self.to_markdown_in(Language::Sv)
    }

    /// Markdown in `language`: an overview table, then each paragraph with its policies and
    /// cases, then the law. The paragraphs' titles are the document's own (Swedish) in both.
    pub fn to_markdown_in(&self, language: Language) -> String {
        let t = |sv: &'static str, en: &'static str| match language {
            Language::Sv => sv,
            Language::En => en,
        };
        let says = |policy: &TracedPolicy| match language {
            Language::Sv => policy.sv.clone(),
            Language::En => policy.en.clone(),
        };
        let mut md = String::new();
        let s = &self.summary;
        let covered = s.policies - s.unexercised_policies;
        let _ = match language {
            Language::Sv => writeln!(
                md,
                "# Spårbarhet: Policy för ansvarsfull AI → policyer → testfall\n\n\
                 {} av {} paragrafer med regler har policyer, {} prövas av testfall; \
                 {covered} av {} policyer prövas.\n",
                s.implemented, s.paragraphs, s.exercised, s.policies
            ),
            Language::En => writeln!(
                md,
                "# Traceability: Policy för ansvarsfull AI → policies → test cases\n\n\
                 {} of {} paragraphs with rules have policies, {} are exercised by test cases; \
                 {covered} of {} policies are exercised.\n",
                s.implemented, s.paragraphs, s.exercised, s.policies
            ),
        };
        let _ = writeln!(
            md,
            "{}\n|---|---|---|---|",
            t(
                "| Paragraf | Rubrik | Policyer | Testfall |",
                "| Paragraph | Heading | Policies | Test cases |"
            )
        );
        for p in &self.paragraphs {
            let policies = if p.policies.is_empty() {
                format!("**{}**", t("saknas", "missing"))
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
            "\n{} {}.\n",
            t(
                "Sammanhang utan regler:",
                "Sections of context, without rules:"
            ),
            self.context.join(", ")
        );
        for p in &self.paragraphs {
            let rule = match language {
                Language::Sv => p.rule_sv,
                Language::En => p.rule,
            };
            let _ = writeln!(md, "## {} {}\n\n{}.\n", p.code, p.title, capitalize(rule));
            for t in &p.policies {
                let law = t
                    .law
                    .as_deref()
                    .map(|law| format!(", {}", law_in(law, language)))
                    .unwrap_or_default();
                let _ = writeln!(
                    md,
                    "- `{}` ({}, {}:{}{law}): {}",
                    t.id,
                    t.effect,
                    t.file,
                    t.line,
                    says(t)
                );
                if t.cases.is_empty() {
                    let _ = writeln!(md, "  - *{}*", no_case(language));
                }
                for case in &t.cases {
                    let _ = writeln!(md, "  - {case}");
                }
            }
            if p.policies.is_empty() {
                let _ = writeln!(md, "- **{}**", t("ingen policy", "no policy"));
            }
            md.push('\n');
        }
        if !self.laws.is_empty() {
            let _ = writeln!(
                md,
                "{}\n",
                t(
                    "## Styrdokument och §6: lagarna bakom policyn\n\n\
                     \"AI ska följa relevanta lagar, förordningar och etiska standarder.\" \
                     Varje lag och artikel med de regler (`@law`) som gör den konkret.",
                    "## Styrdokument and §6: the law behind the policy\n\n\
                     \"AI ska följa relevanta lagar, förordningar och etiska standarder\" (AI \
                     shall follow relevant laws, regulations and ethical standards). Each act and \
                     article with the rules (`@law`) that make it concrete."
                )
            );
            for act in &self.laws {
                let _ = writeln!(md, "### {}\n", law_in(&act.act, language));
                for article in &act.articles {
                    let heading = if article.article.is_empty() {
                        law_in(&act.act, language).into_owned()
                    } else {
                        let whole = law_in(&format!("{} {}", act.act, article.article), language)
                            .into_owned();
                        split_law(&whole).1.to_string()
                    };
                    let cases = article.cases.len();
                    let _ = match language {
                        Language::Sv => writeln!(md, "- **{heading}** ({cases} testfall)"),
                        Language::En if cases == 1 => writeln!(md, "- **{heading}** (1 test case)"),
                        Language::En => writeln!(md, "- **{heading}** ({cases} test cases)"),
                    };
                    for t in &article.policies {
                        let _ = writeln!(
                            md,
                            "  - `{}` ({}, {}, {}:{}): {}",
                            t.policy.id,
                            t.paragraph,
                            t.policy.effect,
                            t.policy.file,
                            t.policy.line,
                            says(&t.policy)
                        );
                    }
                }
                md.push('\n');
            }
        }
        if !self.unknown_policies.is_empty() {
            let _ = writeln!(
                md,
                "{} {}\n",
                t(
                    "Testfall nämner policyer som inte finns:",
                    "Cases name policies that do not exist:"
                ),
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

fn no_case(language: Language) -> &'static str {
    match language {
        Language::Sv => "inget testfall",
        Language::En => "no test case",
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
