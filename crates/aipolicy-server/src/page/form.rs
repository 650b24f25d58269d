//! `GET /`: the question, in four parts, as a plain form that works without JavaScript.

use std::sync::Arc;

use aipolicy::matrix::{action_in, role_name};
use aipolicy::query::Context;
use aipolicy::{Action, Hosting, Language, Role, Status};
use axum::extract::{RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};

use super::layout::{link, refusal, respond, tr, Frame, Route};
use super::params::units;
use super::Asker;
use super::{begin, Begun};
use crate::state::State;

/// What each context flag means to a person, and for which actions it counts.
pub(crate) fn flag_label(key: &str, language: Language) -> &'static str {
    match (key, language) {
        ("humanReview", Language::Sv) => {
            "En människa prövar och fattar beslutet (beslut om enskilda)"
        }
        ("humanReview", Language::En) => {
            "A person reviews and takes the decision (decisions about individuals)"
        }
        ("humanReviewed", Language::Sv) => {
            "En människa har granskat resultatet (publicering, utskick till invånare)"
        }
        ("humanReviewed", Language::En) => {
            "A person has reviewed the result (publishing, sending to a resident)"
        }
        ("aiDisclosure", Language::Sv) => "Det framgår att texten är skapad med AI (publicering)",
        ("aiDisclosure", Language::En) => {
            "It is stated that the text was made with AI (publishing)"
        }
        ("securityReview", Language::Sv) => "Informationssäkerheten är granskad (utveckling)",
        ("securityReview", Language::En) => "Information security has been reviewed (development)",
        ("itSecurityReview", Language::Sv) => "IT-säkerheten är granskad (utveckling)",
        ("itSecurityReview", Language::En) => "IT security has been reviewed (development)",
        ("dataProtectionReview", Language::Sv) => "Dataskyddet är granskat (utveckling)",
        ("dataProtectionReview", Language::En) => "Data protection has been reviewed (development)",
        ("valuesReview", Language::Sv) => "Kommunens värdegrund är beaktad (utveckling)",
        ("valuesReview", Language::En) => {
            "The municipality's values have been considered (development)"
        }
        (_, Language::Sv) => "Annan förutsättning",
        (_, Language::En) => "Other condition",
    }
}

/// An action's name for people, with a capital letter.
pub(crate) fn action_label(action: Action, language: Language) -> String {
    let text = action_in(action, language);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `GET /`.
pub async fn page(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Begun {
        language,
        raw,
        policy,
    } = match begin(&state, query.as_deref(), "/") {
        Ok(begun) => begun,
        Err(page) => return *page,
    };
    let t = |sv, en| tr(language, sv, en);
    let register = policy.engine.register();
    let asker = Asker::of(&state, &headers);
    let title = t("Får jag använda AI?", "May I use AI?");
    let units = units(register);
    let chosen_data = |id: &str| raw.data.iter().any(|d| d == id);
    let chosen_action = raw
        .action
        .as_deref()
        .and_then(|a| a.parse::<Action>().ok())
        .unwrap_or_default();
    let flags = raw.context.flags();
    let municipality = register.municipality();
    let visitor_of_register_only =
        matches!(asker, Asker::Visitor) && policy.engine.is_registered_users_only();
    let main: Markup = html! {
        h1 { (title) }
        @if visitor_of_register_only { (register_only_notice(language)) }
        p.intro {
            (t("Svara på frågorna nedan, så får du besked om du får använda AI-systemet enligt ",
               "Answer the questions below to learn whether you may use the AI system under "))
            @match municipality {
                Some(m) => { (t("policyn för ansvarsfull AI i ", "the policy for responsible AI of ")) (m) }
                None => { (t("kommunens policy för ansvarsfull AI", "the municipality's policy for responsible AI")) }
            }
            (t(", och varför.", ", and why."))
        }
        form method="get" action="/ask" {
            @if language == Language::En {
                input type="hidden" name="lang" value="en";
            }
            div.field {
                label for="ai" { "1. " (t("Vilket AI-system?", "Which AI system?")) }
                p.hint #ai-hint {
                    (t("Skriv namnet och välj i listan. Finns systemet inte i listan räknas det som publik AI: bara öppen information.",
                       "Type the name and pick from the list. A system that is not on the list counts as public AI: open information only."))
                }
                input #ai type="text" name="ai" list="ai-list" required autocomplete="off"
                    aria-describedby="ai-hint" value=[raw.ai.as_deref()];
                datalist #ai-list {
                    @for system in register.ai_systems() {
                        option value=(system.id) { (system.name) }
                    }
                }
            }
            fieldset {
                legend { "2. " (t("Vilken information?", "Which information?")) }
                p.hint { (t("Kryssa i allt du ska använda. Den strängaste klassen avgör.",
                            "Tick everything you will use. The strictest class decides.")) }
                @for class in register.data_classes() {
                    @let id = format!("data-{}", class.id);
                    div.choice {
                        input type="checkbox" id=(id) name="data" value=(class.id) checked[chosen_data(&class.id)];
                        label for=(id) {
                            strong { (class.name) }
                            " " span.level { "(" (t("nivå ", "level ")) (class.level) ")" }
                            @if let Some(description) = &class.description {
                                span.desc { (description) }
                            }
                        }
                    }
                }
            }
            fieldset {
                legend { "3. " (t("Vad vill du göra?", "What do you want to do?")) }
                @for action in Action::ALL {
                    @let id = format!("action-{}", action.as_str());
                    div.choice {
                        input type="radio" id=(id) name="action" value=(action.as_str()) checked[action == chosen_action];
                        label for=(id) { (action_label(action, language)) }
                    }
                }
            }
            @match &asker {
                Asker::Visitor => {
                    fieldset {
                        legend { "4. " (t("Vilken roll har du?", "What is your role?")) }
                        @for (i, role) in Role::ALL.into_iter().enumerate() {
                            @let id = format!("role-{}", role.as_str());
                            div.choice {
                                input type="radio" id=(id) name="role" value=(role.as_str())
                                    required[i == 0] checked[raw.role.as_deref() == Some(role.as_str())];
                                label for=(id) { (role_name(role, language)) }
                            }
                        }
                        div.choice {
                            input type="checkbox" id="ai-literacy" name="aiLiteracy" value="true" checked[raw.ai_literacy];
                            label for="ai-literacy" {
                                (t("Jag har gått kommunens AI-utbildning", "I have had the municipality's AI training"))
                                span.desc { (t("Beslutsstöd med AI med hög risk kräver den (EU:s AI-förordning art. 26).",
                                               "High-risk AI for decision support needs it (EU AI Act art. 26).")) }
                            }
                        }
                        @if !units.is_empty() {
                            div.field {
                                label for="unit" { (t("Din förvaltning eller enhet", "Your department or unit")) }
                                p.hint #unit-hint {
                                    (t("Behövs bara för information som bara vissa förvaltningar får hantera.",
                                       "Only needed for information that only some departments may handle."))
                                }
                                select #unit name="unit" aria-describedby="unit-hint" {
                                    option value="" { (t("Ingen av dessa / vet inte", "None of these / don't know")) }
                                    @for unit in &units {
                                        option value=(unit) selected[raw.unit.as_deref() == Some(unit.as_str())] { (unit) }
                                    }
                                }
                            }
                        }
                    }
                }
                Asker::SignedIn(id) => {
                    (signed_in(id, register, language))
                }
                Asker::Nobody(_) => {}
            }
            fieldset {
                legend { (t("Förutsättningar (för vissa handlingar)", "Conditions (for some actions)")) }
                p.hint { (t("Kryssa i det som gäller. Beslut, publicering, utskick och utveckling kräver några av dem.",
                            "Tick what applies. Decisions, publishing, sending and development need some of them.")) }
                @for (key, on) in flags {
                    @let id = format!("flag-{key}");
                    div.choice {
                        input type="checkbox" id=(id) name=(key) value="true" checked[on];
                        label for=(id) { (flag_label(key, language)) }
                    }
                }
            }
            button type="submit" { (t("Fråga", "Ask")) }
        }
        (systems_table(register, language))
    };
    if let Asker::Nobody(header) = &asker {
        return refusal(
            language,
            StatusCode::UNAUTHORIZED,
            "/",
            &raw.pairs,
            t("Du är inte inloggad", "You are not signed in"),
            &nobody_message(header, language),
        );
    }
    let frame = Frame {
        language,
        title,
        route: Route::Ask,
        path: "/",
        pairs: &raw.pairs,
        wide: false,
        privacy: Some(&state.page.privacy),
    };
    respond(StatusCode::OK, frame.render(main))
}

/// What the page says when the sign-in header is missing.
pub(crate) fn nobody_message(header: &axum::http::HeaderName, language: Language) -> String {
    match language {
        Language::Sv => format!(
            "Sidan svarar bara för inloggade användare, och frågan kom utan inloggning (rubriken `{header}` saknas). Öppna sidan via kommunens inloggning."
        ),
        Language::En => format!(
            "The page only answers for signed-in users, and the request came without a sign-in (the header `{header}` is missing). Open the page through the municipality's sign-in."
        ),
    }
}

/// Who the sign-in proxy says is asking: their own entry of the register, no one else's.
fn signed_in(id: &str, register: &aipolicy::Register, language: Language) -> Markup {
    let t = |sv, en| tr(language, sv, en);
    match register.user(id) {
        Some(user) => html! {
            div.field {
                p {
                    strong { "4. " (t("Du är inloggad som ", "You are signed in as ")) code { (user.id) } }
                    ". " (t("Dina roller enligt registret: ", "Your roles according to the register: "))
                    @if user.roles.is_empty() {
                        (t("inga", "none"))
                    }
                    @for (i, role) in user.roles.iter().enumerate() {
                        @if i > 0 { ", " }
                        (role_name(*role, language))
                    }
                    @if let Some(unit) = &user.unit {
                        "; " (unit)
                    }
                    "."
                }
            }
        },
        None => html! {
            div.verdict.problem {
                p {
                    (t("Du är inloggad som ", "You are signed in as ")) code { (id) } ", "
                    (t("men finns inte bland AI-registrets användare, så sidan kan inte svara att du får använda AI. Kontakta den som ansvarar för registret.",
                       "but you are not among the AI register's users, so the page cannot answer that you may use AI. Contact whoever keeps the register."))
                }
            }
        },
    }
}

/// The AI systems of the register, for reading and for search by name (the browser's own find).
fn systems_table(register: &aipolicy::Register, language: Language) -> Markup {
    let t = |sv, en| tr(language, sv, en);
    html! {
        section {
            h2 #systems { (t("AI-systemen i kommunens register", "The AI systems of the municipality's register")) }
            div.scroll role="region" aria-labelledby="systems" tabindex="0" {
                table.systems {
                    caption { (t("AI-system, var de körs och vem som ansvarar", "AI systems, where they run and who is accountable")) }
                    thead {
                        tr {
                            th scope="col" { (t("Namn", "Name")) }
                            th scope="col" { (t("Slag", "Kind")) }
                            th scope="col" { (t("Ansvarig", "Owner")) }
                            th scope="col" { (t("Om systemet", "About")) }
                        }
                    }
                    tbody {
                        @for system in register.ai_systems() {
                            tr {
                                th scope="row" { (system.name) br; span.id { (system.id) } }
                                td {
                                    (match system.hosting { Hosting::Public => t("Publik AI", "Public AI"), Hosting::Internal => t("Kommunens AI", "The municipality's AI") })
                                    @if !system.approved { br; (t("ej beslutad", "not decided")) }
                                    @if system.status == Status::Suspended { br; (t("pausad", "suspended")) }
                                }
                                td { (system.owner.as_deref().unwrap_or(t("ingen utsedd", "none named"))) }
                                td { (system.description.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            p { a href=(link("/matrix", language)) { (t("Se alla svar i matrisen", "See every answer in the matrix")) } }
        }
    }
}

/// The flags a context has set, as people read them.
pub(crate) fn flags_set(context: &Context, language: Language) -> Vec<&'static str> {
    context
        .flags()
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(key, _)| flag_label(key, language))
        .collect()
}

/// What a visitor is told where only the register's users may use AI
/// ([`aipolicy::Engine::is_registered_users_only`]) and the page does not know who they are
/// (no sign-in proxy): every answer is no, and why.
pub(super) fn register_only_notice(language: Language) -> Markup {
    let t = |sv, en| tr(language, sv, en);
    html! {
        div.verdict.problem role="note" {
            p {
                (t("Här får bara de som finns i kommunens AI-register använda AI, och sidan vet inte vem du är (du är inte inloggad). Därför blir svaret nej, vilken roll du än väljer. Logga in via kommunens inloggning, eller fråga den som ansvarar för AI-registret.",
                   "Here only those in the municipality's AI register may use AI, and the page does not know who you are (you are not signed in). So the answer is no, whichever role you choose. Sign in through the municipality's sign-in, or ask whoever keeps the AI register."))
            }
        }
    }
}
