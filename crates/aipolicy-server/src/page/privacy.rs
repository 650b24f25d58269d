//! What the staff page tells people about what is kept of their questions (GDPR art. 13; the
//! policy's §5, transparency): read off the service's own settings when it starts, so that
//! what every page says is true of this service, not of a service in general. Every page ends
//! with it and links `GET /privacy`, the privacy notice: these facts in full, the rights of the
//! person, and the municipality's own text (the project's `privacy.md`, or `--privacy-notice`).

use std::sync::Arc;

use aipolicy::policy_text::Block;
use aipolicy::Language;
use aipolicy_log::Retention;
use axum::extract::{RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::layout::{link, respond, tr, Frame, Route};
use super::{begin, Begun};
use crate::state::State;

/// The file a project's privacy notice is read from, in the project's folder.
pub const PROJECT_PRIVACY_NOTICE: &str = "privacy.md";

/// What becomes of a question asked on the staff page.
#[derive(Debug, Clone, Default)]
pub struct Privacy {
    /// How the page's decisions are logged; `None`: they are not (the service has no decision
    /// log).
    pub logged: Option<Logged>,
}

/// How the page's decisions are logged.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Who a record names.
    pub who: Who,
    /// How long records are kept; `None`: not known to the page (a log of an embedder's own).
    pub retention: Option<Retention>,
}

/// Who a record of the page's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Nobody: without single sign-on, only the role the visitor chose.
    RoleOnly,
    /// Behind single sign-on, a pseudonym of the signed-in person (`--log-pseudonymize`).
    Pseudonym,
    /// Behind single sign-on, the signed-in person's user id (`--staff-page-user-ids`).
    UserId,
}

impl Privacy {
    /// The sentences every page ends with: whether a question is logged, what of it, for what,
    /// for how long and who reads it.
    pub fn footer(&self, language: Language) -> String {
        let t = |sv, en| tr(language, sv, en);
        let Some(logged) = &self.logged else {
            return t(
                "Det du frågar sparas inte: tjänsten för ingen beslutslogg.",
                "What you ask is not kept: the service keeps no decision log.",
            )
            .to_string();
        };
        let whom = match logged.who {
            Who::RoleOnly => t(
                "och den roll du valt, men inte vem du är",
                "and the role you chose, but not who you are",
            ),
            Who::Pseudonym => t(
                "och en pseudonym i stället för ditt användar-id (bara den som har nyckeln kan koppla den till dig, till exempel när du begär ut dina uppgifter)",
                "and a pseudonym instead of your user id (only whoever holds the key can link it to you, for instance when you ask for your data)",
            ),
            Who::UserId => t("och ditt användar-id", "and your user id"),
        };
        let kept = match &logged.retention {
            Some(retention) => match language {
                Language::Sv => format!("sparas {}", kept_for(retention, language)),
                Language::En => format!("is kept {}", kept_for(retention, language)),
            },
            None => t(
                "sparas så länge kommunen har bestämt",
                "is kept for as long as the municipality has decided",
            )
            .to_string(),
        };
        match language {
            Language::Sv => format!(
                "Varje fråga du ställer här skrivs i kommunens beslutslogg: AI-systemet, informationen, handlingen, svaret och skälen, {whom}. Loggen finns för tillsyn, revision och utvärdering (policyns §6), {kept} och läses av dem kommunen gett behörighet, som dataskyddsombudet och internrevisionen. Texter du klistrar in under ”Vad innehåller min text?” sparas aldrig."
            ),
            Language::En => format!(
                "Every question you ask here is written to the municipality's decision log: the AI system, the information, the action, the answer and its reasons, {whom}. The log is there for supervision, audit and evaluation (the policy's §6), {kept} and is read by those the municipality has authorised, such as the data-protection officer and internal audit. Texts you paste under “What does my text hold?” are never kept."
            ),
        }
    }
}

/// `GET /privacy`: how the page handles what is asked on it.
pub async fn page(AxState(state): AxState<Arc<State>>, RawQuery(query): RawQuery) -> Response {
    let Begun {
        language,
        raw,
        policy,
    } = match begin(&state, query.as_deref(), "/privacy") {
        Ok(begun) => begun,
        Err(page) => return *page,
    };
    let t = |sv, en| tr(language, sv, en);
    let privacy = &state.page.privacy;
    let municipality = policy
        .engine
        .register()
        .municipality()
        .map(str::to_string)
        .unwrap_or_else(|| t("kommunen", "the municipality").to_string());
    let title = t(
        "Så hanteras dina uppgifter",
        "How your information is handled",
    );
    let logged = privacy.logged.as_ref();
    let main = html! {
        h1 { (title) }
        p.intro { (privacy.footer(language)) }
        section {
            h2 { (t("Vad som sparas", "What is kept")) }
            @match logged {
                None => p { (t("Ingenting: tjänsten för ingen beslutslogg, och det du frågar försvinner när svaret är givet.",
                               "Nothing: the service keeps no decision log, and what you ask is gone once it is answered.")) }
                Some(logged) => {
                    p { (t("För varje fråga skrivs en post i beslutsloggen med:", "For each question, the decision log gets a record of:")) }
                    ul {
                        li { (t("när frågan ställdes och att den kom från den här sidan;", "when it was asked, and that it came from this page;")) }
                        li { (t("AI-systemet, informationsklasserna och handlingen du valde;", "the AI system, the information classes and the action you chose;")) }
                        li { (t("svaret (ja eller nej), skälen och skyldigheterna med paragraf och regel, och vilken version av policyn som gällde;",
                                "the answer (yes or no), its reasons and duties with paragraph and rule, and the revision of the policy in force;")) }
                        li {
                            @match logged.who {
                                Who::RoleOnly => (t("den roll du valde (anställd, privat utförare eller förtroendevald), men inte vem du är: sidan vet det inte.",
                                                    "the role you chose (employee, contractor or elected official), but not who you are: the page does not know.")),
                                Who::Pseudonym => (t("en pseudonym i stället för ditt användar-id: en kod som bara den som har kommunens nyckel kan koppla till dig.",
                                                     "a pseudonym instead of your user id: a code only whoever holds the municipality's key can link to you.")),
                                Who::UserId => (t("ditt användar-id, som kommunens inloggning anger.",
                                                  "your user id, as the municipality's sign-in gives it.")),
                            }
                        }
                    }
                    p { (t("Loggen är kedjad: varje post bär ett kontrollvärde av den före, så att en ändring i efterhand syns.",
                           "The log is chained: every record carries a check of the one before, so that a later change shows.")) }
                }
            }
            p { (t("Det du klistrar in under ”Vad innehåller min text?” sparas aldrig och skrivs inte i loggen.",
                   "What you paste under “What does my text hold?” is never kept nor written to the log.")) }
        }
        @if logged.is_some() {
            section {
                h2 { (t("Varför, hur länge och vem som läser", "Why, for how long, and who reads it")) }
                p { (t("Loggen finns för att kommunen ska kunna följa upp att AI används enligt policyn: tillsyn, revision och utvärdering (policyns §6).",
                       "The log is there so that the municipality can check that AI is used as the policy says: supervision, audit and evaluation (the policy's §6).")) }
                @if let Some(retention) = logged.and_then(|l| l.retention.as_ref()) {
                    p {
                        (t("Posterna sparas ", "Records are kept "))
                        (kept_for(retention, language))
                        (t(" och rensas sedan.", " and then cleared."))
                    }
                } @else {
                    p { (t("Posterna sparas så länge kommunen har bestämt.", "Records are kept for as long as the municipality has decided.")) }
                }
                p { (t("De läses av dem kommunen har gett behörighet, som dataskyddsombudet och internrevisionen.",
                       "They are read by those the municipality has authorised, such as the data-protection officer and internal audit.")) }
            }
            section {
                h2 { (t("Dina rättigheter", "Your rights")) }
                ul {
                    li { (t("Du får veta vilka uppgifter om dig som finns och få en kopia (dataskyddsförordningen art. 15).",
                            "You may learn what information about you is kept and get a copy (GDPR art. 15).")) }
                    @if logged.is_some_and(|l| l.who == Who::Pseudonym) {
                        li { (t("Dina poster bär en pseudonym: kommunen hittar dem med sin nyckel när du begär ut dem.",
                                "Your records carry a pseudonym: the municipality finds them with its key when you ask for them.")) }
                    }
                    li { (t("Du kan begära att felaktiga uppgifter rättas (art. 16) och att behandlingen begränsas (art. 18). Loggen är en allmän handling, så den kan inte alltid raderas (art. 17, arkivlagen).",
                            "You may ask for wrong information to be corrected (art. 16) and for its processing to be restricted (art. 18). The log is an official document, so it cannot always be erased (art. 17, the Archives Act).")) }
                    li { (t("Du kan klaga hos Integritetsskyddsmyndigheten (IMY), imy.se.",
                            "You may complain to the Swedish Authority for Privacy Protection (IMY), imy.se.")) }
                }
            }
        }
        section {
            h2 { (t("Kommunens information", "The municipality's information")) }
            @match &state.page.privacy_notice {
                Some(notice) => {
                    div lang="sv" {
                        @for section in &notice.sections {
                            @if !section.heading.is_empty() { h3 { (section.heading) } }
                            @for block in &section.blocks {
                                @match block {
                                    Block::Text(text) => p { (text) },
                                    Block::Item { text, .. } => p { "– " (text) },
                                }
                            }
                        }
                    }
                }
                None => {
                    p {
                        (t("Personuppgiftsansvarig är ", "The controller is "))
                        (municipality)
                        (t(". Frågor om hur dina uppgifter behandlas, och begäran om att få ut dem, ställer du till kommunens dataskyddsombud.",
                           ". Questions on how your information is handled, and requests for it, go to the municipality's data-protection officer."))
                    }
                    p.source { (t("Kommunen har inte lagt till någon egen integritetstext här; det som står ovan gäller den här tjänsten.",
                                  "The municipality has added no privacy text of its own here; what is said above holds for this service.")) }
                }
            }
        }
        p { a href=(link("/", language)) { (t("Tillbaka till frågan", "Back to the question")) } }
    };
    let frame = Frame {
        language,
        title,
        route: Route::Privacy,
        path: "/privacy",
        pairs: &raw.pairs,
        wide: false,
        privacy: Some(privacy),
    };
    respond(StatusCode::OK, frame.render(main))
}

/// How long a retention keeps records, in words: `i 6 månader`, `for 1 year`.
fn kept_for(retention: &Retention, language: Language) -> String {
    let Retention::For(span) = retention else {
        return tr(
            language,
            "tills den rensas för hand",
            "until it is cleared by hand",
        )
        .to_string();
    };
    let parts: Vec<String> = [
        (i64::from(span.get_years()), "år", "år", "year", "years"),
        (
            i64::from(span.get_months()),
            "månad",
            "månader",
            "month",
            "months",
        ),
        (
            i64::from(span.get_weeks()),
            "vecka",
            "veckor",
            "week",
            "weeks",
        ),
        (i64::from(span.get_days()), "dag", "dagar", "day", "days"),
    ]
    .into_iter()
    .filter(|(n, ..)| *n != 0)
    .map(|(n, sv_one, sv_many, en_one, en_many)| {
        let unit = match (language, n.abs() == 1) {
            (Language::Sv, true) => sv_one,
            (Language::Sv, false) => sv_many,
            (Language::En, true) => en_one,
            (Language::En, false) => en_many,
        };
        format!("{} {unit}", n.abs())
    })
    .collect();
    let and = tr(language, " och ", " and ");
    let span = if parts.is_empty() {
        tr(language, "en kort tid", "a short time").to_string()
    } else {
        parts.join(and)
    };
    match language {
        Language::Sv => format!("i {span}"),
        Language::En => format!("for {span}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_footer_says_what_the_service_does() {
        let none = Privacy::default().footer(Language::Sv);
        assert!(none.contains("sparas inte"), "{none}");
        let pseudonym = Privacy {
            logged: Some(Logged {
                who: Who::Pseudonym,
                retention: Some(Retention::default()),
            }),
        };
        let sv = pseudonym.footer(Language::Sv);
        assert!(
            sv.contains("beslutslogg") && sv.contains("pseudonym") && sv.contains("i 6 månader"),
            "{sv}"
        );
        let en = pseudonym.footer(Language::En);
        assert!(
            en.contains("for 6 months") && en.contains("pseudonym"),
            "{en}"
        );
        let ids = Privacy {
            logged: Some(Logged {
                who: Who::UserId,
                retention: Some("1y".parse().unwrap()),
            }),
        };
        assert!(ids.footer(Language::Sv).contains("ditt användar-id"));
        assert!(ids.footer(Language::En).contains("for 1 year"));
        let never = Privacy {
            logged: Some(Logged {
                who: Who::RoleOnly,
                retention: Some("never".parse().unwrap()),
            }),
        };
        assert!(never.footer(Language::Sv).contains("inte vem du är"));
        assert!(never
            .footer(Language::Sv)
            .contains("tills den rensas för hand"));
    }
}
