//! `GET /text` and `POST /text`: "Vad innehåller min text?" A box to paste a text into; the
//! answer names what the finders found in it (a personnummer, an e-mail address, a health
//! word, …), where, and the information class each makes it, so that a person knows which AI
//! systems it may go to before pasting it anywhere. The text is posted (never put in an
//! address, which proxies and histories keep), read in memory, and forgotten with the answer:
//! nothing of it is logged or kept.

use std::sync::Arc;

use aipolicy::query::MAX_TEXT_BYTES;
use aipolicy::text::Kind;
use aipolicy::{FoundInText, Language};
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

use super::layout::{link, refusal, respond, tr, Frame, Route};
use super::{begin, Begun};
use crate::state::State;

/// The largest form body `POST /text` reads: a text of [`MAX_TEXT_BYTES`] with the form's
/// percent-encoding (up to three bytes for each byte of a non-ASCII letter).
pub const MAX_TEXT_FORM_BYTES: usize = 3 * MAX_TEXT_BYTES + 1024;

/// `GET /text`: the empty box.
pub async fn page(AxState(state): AxState<Arc<State>>, RawQuery(query): RawQuery) -> Response {
    let Begun { language, raw, .. } = match begin(&state, query.as_deref(), "/text") {
        Ok(begun) => begun,
        Err(page) => return *page,
    };
    let main = html! { (heading(language)) (form(language, "")) };
    respond(
        StatusCode::OK,
        frame(language, &raw.pairs, &state.page.privacy).render(main),
    )
}

/// `POST /text`: what the text holds.
pub async fn answer(
    AxState(state): AxState<Arc<State>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Begun {
        language,
        raw,
        policy,
    } = match begin(&state, query.as_deref(), "/text") {
        Ok(begun) => begun,
        Err(page) => return *page,
    };
    let t = |sv, en| tr(language, sv, en);
    let text = form_urlencoded::parse(&body)
        .find(|(key, _)| key == "text")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    if text.len() > MAX_TEXT_BYTES {
        return refusal(
            language,
            StatusCode::PAYLOAD_TOO_LARGE,
            "/text",
            &raw.pairs,
            t("Texten är för lång", "The text is too long"),
            &format!(
                "{} {} bytes; {} {MAX_TEXT_BYTES} bytes (1 MiB).",
                t("Texten är", "The text is"),
                text.len(),
                t("gränsen är", "the limit is")
            ),
        );
    }
    let register = policy.engine.register();
    let findings = register.find_in_text(std::slice::from_ref(&text));
    let class_name = |id: &str| {
        register
            .data_class(id)
            .map_or_else(|| id.to_string(), |c| format!("{} ({id})", c.name))
    };
    let strictest = findings
        .classes()
        .into_iter()
        .filter_map(|id| register.data_class(id))
        .max_by_key(|c| (c.level, c.personal_data, c.secrecy));
    let main = html! {
        (heading(language))
        section aria-labelledby="found-heading" {
            h2 #found-heading { (t("Det här hittades", "What was found")) }
            @if findings.found.is_empty() {
                p.verdict {
                    (t("Inget som aipolicy letar efter hittades i texten.", "Nothing aipolicy looks for was found in the text."))
                }
                p {
                    (t("Det betyder inte att texten är öppen information: aipolicy hittar personnummer, kontaktuppgifter, markeringar och vissa ord, inte allt. Du ansvarar för att välja rätt informationsklass (U2).",
                       "That does not make the text open information: aipolicy finds identity numbers, contact details, markings and certain words, not everything. Choosing the right information class is your responsibility (U2)."))
                }
            } @else {
                @if let Some(class) = strictest {
                    p.verdict {
                        (t("Texten innehåller minst: ", "The text holds at least: ")) strong { (class_name(&class.id)) }
                    }
                }
                @if !findings.unmapped.is_empty() {
                    p.verdict {
                        (t("Texten innehåller något som registret inte hänför till någon informationsklass; en fråga om den nekas tills registret kompletteras (U2).",
                           "The text holds something the register places in no information class; a question about it is denied until the register is completed (U2)."))
                    }
                }
                table {
                    thead { tr {
                        th scope="col" { (t("Vad", "What")) }
                        th scope="col" { (t("Var (tecken)", "Where (characters)")) }
                        th scope="col" { (t("Informationsklass", "Information class")) }
                    } }
                    tbody {
                        @for found in &findings.found {
                            tr {
                                td { (what(found, language)) }
                                td { (found.start + 1) "–" (found.end) }
                                td { @match &found.class {
                                    Some(id) => (class_name(id)),
                                    None => (t("ingen", "none")),
                                } }
                            }
                        }
                    }
                }
                p {
                    (t("Välj ett AI-system som är godkänt för den informationen: ", "Choose an AI system approved for that information: "))
                    a href=(link("/", language)) { (t("Får jag använda AI?", "May I use AI?")) }
                }
            }
            p.note {
                (t("Texten sparas inte och loggas inte: den finns bara i svaret du ser nu.",
                   "The text is neither kept nor logged: it exists only in the answer you see now."))
            }
        }
        (form(language, &text))
    };
    respond(
        StatusCode::OK,
        frame(language, &raw.pairs, &state.page.privacy).render(main),
    )
}

/// What a finding is, for a person.
fn what(found: &FoundInText, language: Language) -> String {
    match Kind::from_name(&found.kind) {
        Some(kind) => kind.described(language == Language::Sv).to_string(),
        None if found.kind == "pattern" => tr(
            language,
            "kommunens eget mönster",
            "the municipality's own pattern",
        )
        .to_string(),
        None if found.kind == "word" => tr(
            language,
            "ett av kommunens egna ord",
            "one of the municipality's own words",
        )
        .to_string(),
        None => found.kind.to_string(),
    }
}

fn heading(language: Language) -> Markup {
    let t = |sv, en| tr(language, sv, en);
    html! {
        h1 { (t("Vad innehåller min text?", "What does my text hold?")) }
        p.intro {
            (t("Klistra in en text innan du använder den med AI. Svaret visar vad i den som är personuppgifter, känsliga uppgifter eller sekretess, och vilken informationsklass texten därmed har.",
               "Paste a text before you use it with AI. The answer shows what in it is personal data, sensitive data or secret, and which information class that gives the text."))
        }
    }
}

fn form(language: Language, text: &str) -> Markup {
    let t = |sv, en| tr(language, sv, en);
    let action = link("/text", language);
    html! {
        form.noprint method="post" action=(action) {
            div.field {
                label for="text" { (t("Din text", "Your text")) }
                textarea #text name="text" rows="10" required { (text) }
            }
            button type="submit" { (t("Vad innehåller min text?", "What does my text hold?")) }
        }
    }
}

fn frame<'a>(
    language: Language,
    pairs: &'a [(String, String)],
    privacy: &'a super::privacy::Privacy,
) -> Frame<'a> {
    Frame {
        language,
        title: tr(
            language,
            "Vad innehåller min text?",
            "What does my text hold?",
        ),
        route: Route::Text,
        path: "/text",
        pairs,
        wide: false,
        privacy: Some(privacy),
    }
}
