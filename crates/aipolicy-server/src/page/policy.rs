//! `GET /policy`: the policy's own words, each paragraph followed by the rules made from it,
//! each rule linking back to its paragraph. Whatever policies are loaded are shown: a rule
//! whose paragraph the text does not mark is listed at the end, never left out.

use std::sync::Arc;

use aipolicy::policy_text::Block;
use aipolicy::{Language, Paragraph, Rule};
use axum::extract::{RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

use super::layout::{respond, tr, Frame, Route};
use super::{begin, Begun};
use crate::state::State;

/// The `id` of a paragraph's place on `/policy`: `par-s3`, `par-u1`.
pub fn paragraph_anchor(paragraph: Paragraph) -> String {
    format!("par-{}", paragraph.code().replace('§', "s").to_lowercase())
}

/// The `id` of a rule's place on `/policy`: `rule-` and its `@id`, any character that needs
/// escaping in an address replaced by `_`.
pub fn rule_anchor(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("rule-{safe}")
}

/// `GET /policy`.
pub async fn page(AxState(state): AxState<Arc<State>>, RawQuery(query): RawQuery) -> Response {
    let Begun {
        language,
        raw,
        policy,
    } = match begin(&state, query.as_deref(), "/policy") {
        Ok(begun) => begun,
        Err(page) => return *page,
    };
    let t = |sv, en| tr(language, sv, en);
    let text = &state.page.text;
    let policies = policy.engine.policies();
    let rules = policies.rules();
    let marked = text.paragraphs();
    let unplaced: Vec<&Rule> = rules
        .iter()
        .filter(|r| !marked.contains(&r.paragraph))
        .collect();
    let title = text
        .title
        .clone()
        .unwrap_or_else(|| t("Policyn", "The policy").to_string());
    let rules_of = |paragraph: Paragraph| -> Markup {
        let of: Vec<&Rule> = rules.iter().filter(|r| r.paragraph == paragraph).collect();
        rule_list(&of, paragraph, language)
    };
    let main = html! {
        h1 { (title) }
        p.intro {
            (t("Policyns egen text. Under varje paragraf står de regler som aipolicy tillämpar på den; varje regel leder tillbaka till sin paragraf.",
               "The policy's own text (in Swedish). Below each paragraph are the rules aipolicy applies from it; each rule leads back to its paragraph."))
        }
        p.source {
            @match &state.page.text_file {
                Some(file) => { (t("Texten är läst ur ", "The text is read from ")) code { (file) } "." }
                None => { (t("Texten är Askersunds kommuns, inbyggd i aipolicy.", "The text is Askersunds kommun's, embedded in aipolicy.")) }
            }
        }
        div lang="sv" {
            @for section in &text.sections {
                @let anchor = section.paragraph.map(paragraph_anchor);
                @if !section.heading.is_empty() {
                    h2 id=[anchor.as_deref()] {
                        (section.heading)
                        // The code, unless the heading already says it (`§ 3 …`).
                        @if let Some(p) = section.paragraph.filter(|p| !section.heading.replace(' ', "").contains(p.code())) {
                            " " span.code { "(" (p.code()) ")" }
                        }
                    }
                }
                @let items: Vec<&Block> = section.blocks.iter().filter(|b| matches!(b, Block::Item { .. })).collect();
                @for block in &section.blocks {
                    @if let Block::Text(text) = block { p { (text) } }
                }
                @if let Some(p) = section.paragraph { (rules_of(p)) }
                @if !items.is_empty() {
                    ol {
                        @for block in items {
                            @if let Block::Item { text, paragraph } = block {
                                li id=[paragraph.map(paragraph_anchor)] {
                                    p {
                                        @if let Some(p) = paragraph { span.code { "(" (p.code()) ")" } " " }
                                        (text)
                                    }
                                    @if let Some(p) = paragraph { (rules_of(*p)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !unplaced.is_empty() {
            section {
                h2 #unplaced { (t("Regler vars paragraf texten inte har", "Rules whose paragraph the text lacks")) }
                ul.rules {
                    @for rule in &unplaced { (rule_item(rule, language, None)) }
                }
            }
        }
    };
    let frame = Frame {
        language,
        title: &title,
        route: Route::Policy,
        path: "/policy",
        pairs: &raw.pairs,
        wide: false,
        privacy: Some(&state.page.privacy),
    };
    respond(StatusCode::OK, frame.render(main))
}

/// The rules of one paragraph (in the page's language, so marked with it).
fn rule_list(rules: &[&Rule], paragraph: Paragraph, language: Language) -> Markup {
    let t = |sv, en| tr(language, sv, en);
    html! {
        div.rules lang=(language.as_str()) {
            @if rules.is_empty() {
                p.source { (t("Ingen regel bygger på ", "No rule is made from ")) (paragraph.code()) "." }
            } @else {
                p.source { strong { (t("Regler från ", "Rules from ")) (paragraph.code()) } }
                ul {
                    @for rule in rules { (rule_item(rule, language, Some(paragraph))) }
                }
            }
        }
    }
}

/// One rule: what kind, what it says, its duty, its law, its id, and the way back.
fn rule_item(rule: &Rule, language: Language, back: Option<Paragraph>) -> Markup {
    let t = |sv, en| tr(language, sv, en);
    let kind = if rule.duty {
        t("Skyldighet", "Duty")
    } else if rule.effect == cedar_policy::Effect::Forbid {
        t("Förbud", "Forbids")
    } else {
        t("Tillåter", "Permits")
    };
    let says = match language {
        Language::Sv => &rule.sv,
        Language::En => &rule.en,
    };
    let obligation = match language {
        Language::Sv => rule.obligation_sv.as_deref(),
        Language::En => rule.obligation_en.as_deref(),
    };
    html! {
        li id=(rule_anchor(&rule.id)) {
            span.kind { (kind) ": " } (says)
            @if let Some(duty) = obligation {
                " " (t("Skyldighet: ", "Duty: ")) (duty)
            }
            @if let Some(law) = rule.law.as_deref() {
                " " span.law { "(" (t("lag: ", "law: ")) (aipolicy::policies::law::law_in(law, language)) ")" }
            }
            " " span.id { (rule.id) }
            @if let Some(p) = back {
                " " a href={ "#" (paragraph_anchor(p)) } { (t("till ", "to ")) (p.code()) }
            }
        }
    }
}
