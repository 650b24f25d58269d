//! `GET /ask`: the answer, in words, with each reason's paragraph and the policy's own words,
//! the duties of a yes, and for a no the systems that are allowed instead.

use std::sync::Arc;

use aipolicy::matrix::role_name;
use aipolicy::policies::law::is_cited_in;
use aipolicy::{Decision, Language, Paragraph, Query, Reason, User, UserRef, Verdict};
use axum::extract::{RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use maud::{html, Markup};

use super::form::{action_label, flags_set, nobody_message, register_only_notice};
use super::layout::{
    bad_parameter, link, refusal, respond, tr, with_code, with_query, Frame, Route,
};
use super::params::{self, with_pair, Question};
use super::policy::{paragraph_anchor, rule_anchor};
use super::Asker;
use super::{begin, Begun};
use crate::load::Loaded;
use crate::record::Recorder;
use crate::state::State;
use crate::tokens::Caller;

/// The caller the decision log names for the page's decisions.
pub const CALLER: &str = "staff-page";

/// `GET /ask`.
pub async fn page(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    Extension(recorder): Extension<Recorder>,
    RawQuery(query): RawQuery,
) -> Response {
    let Begun {
        language,
        raw,
        policy,
    } = match begin(&state, query.as_deref(), "/ask") {
        Ok(begun) => begun,
        Err(page) => return *page,
    };
    let t = |sv, en| tr(language, sv, en);
    let engine = &policy.engine;
    let register = engine.register();
    let asker = Asker::of(&state, &headers);
    let user = match &asker {
        Asker::Nobody(header) => {
            return refusal(
                language,
                StatusCode::UNAUTHORIZED,
                "/ask",
                &raw.pairs,
                t("Du är inte inloggad", "You are not signed in"),
                &nobody_message(header, language),
            )
        }
        Asker::SignedIn(id) if register.user(id).is_none() => {
            let message = match language {
                Language::Sv => format!("Du är inloggad som `{id}`, men finns inte bland AI-registrets användare, så sidan kan inte svara att du får använda AI. Kontakta den som ansvarar för registret."),
                Language::En => format!("You are signed in as `{id}`, but you are not among the AI register's users, so the page cannot answer that you may use AI. Contact whoever keeps the register."),
            };
            return refusal(
                language,
                StatusCode::FORBIDDEN,
                "/ask",
                &raw.pairs,
                t(
                    "Du finns inte i AI-registret",
                    "You are not in the AI register",
                ),
                &message,
            );
        }
        Asker::SignedIn(id) => Some(UserRef::registered(id.clone())),
        Asker::Visitor => None,
    };
    let question = match params::resolve(&raw, register, user.is_none()) {
        Ok(question) => question,
        Err(bad) => return bad_parameter(language, "/ask", &raw.pairs, &bad),
    };
    let user_is_visitor = user.is_none();
    let user = user.unwrap_or_else(|| visitor(&question));
    let mut query =
        Query::new(user, question.ai.clone(), question.data.clone()).with_action(question.action);
    query.context = question.context;
    let decision = match engine.decide_memoized(&query, language, &policy.memo) {
        // A visitor is asked about as a stand-in user of the role chosen, whom no register
        // lists: what the engine notes about that user (not in the register, a "did you mean"
        // naming a user of the register) is not the visitor's to read.
        Ok(mut decision) if user_is_visitor => {
            let about_the_stand_in = engine.user_notes(&query.user, language);
            decision
                .notes
                .retain(|note| !about_the_stand_in.contains(note));
            decision
        }
        Ok(decision) => decision,
        Err(e) => {
            return refusal(
                language,
                StatusCode::BAD_REQUEST,
                "/ask",
                &raw.pairs,
                t(
                    "Frågan kunde inte besvaras",
                    "The question could not be answered",
                ),
                &e.text_in(language),
            )
        }
    };
    let caller = Caller {
        name: CALLER.into(),
        admin: false,
        names_users: false,
    };
    state.record(&recorder, &policy, &caller, Some(&query), &decision);
    let instead = if decision.is_allowed() {
        Vec::new()
    } else {
        // Hypothetical questions, not the visitor's: decided, not logged.
        aipolicy::search::allowed_systems(register, &query, |q| {
            engine.decide_memoized(q, language, &policy.memo)
        })
        .unwrap_or_default()
        .into_iter()
        .map(|(system, _)| (system.id.clone(), system.name.clone()))
        .collect()
    };
    let answer = Answer {
        state: &state,
        policy: &policy,
        question: &question,
        query: &query,
        decision: &decision,
        instead: &instead,
        pairs: &raw.pairs,
        language,
        visitor_of_register_only: user_is_visitor && engine.is_registered_users_only(),
    };
    let title = match decision.decision {
        Verdict::Allow => t(
            "Ja, det får du – Får jag använda AI?",
            "Yes, you may – May I use AI?",
        ),
        Verdict::Deny => t(
            "Nej, det får du inte – Får jag använda AI?",
            "No, you may not – May I use AI?",
        ),
    };
    let frame = Frame {
        language,
        title,
        route: Route::Ask,
        path: "/ask",
        pairs: &raw.pairs,
        wide: false,
        privacy: Some(&state.page.privacy),
    };
    respond(StatusCode::OK, frame.render(answer.render()))
}

/// The visitor, as the role (and unit) they chose. The id cannot be a registered user's (the
/// register's ids have no `:`), so the register's authority over its users never applies.
fn visitor(question: &Question) -> UserRef {
    let role = question.role.unwrap_or(aipolicy::Role::Employee);
    let mut user = User::new(format!("{CALLER}:{}", role.as_str()), [role]);
    if let Some(unit) = &question.unit {
        user = user.with_unit(unit.clone());
    }
    if question.ai_literacy {
        user.ai_literacy = Some(true);
    }
    UserRef::Inline(user)
}

struct Answer<'a> {
    state: &'a State,
    policy: &'a Loaded,
    question: &'a Question,
    query: &'a Query,
    decision: &'a Decision,
    instead: &'a [(String, String)],
    pairs: &'a [(String, String)],
    language: Language,
    /// A visitor, where only the register's users may use AI: every answer is no, and why.
    visitor_of_register_only: bool,
}

impl Answer<'_> {
    fn render(&self) -> Markup {
        let language = self.language;
        let t = |sv, en| tr(language, sv, en);
        let register = self.policy.engine.register();
        let system = register.ai_system(&self.question.ai);
        let system_name = system.map_or(self.question.ai.as_str(), |s| s.name.as_str());
        let data_names: Vec<String> = self
            .question
            .data
            .iter()
            .filter_map(|id| register.data_class(id))
            .map(|c| match language {
                Language::Sv => format!("{} (nivå {})", c.name, c.level),
                Language::En => format!("{} (level {})", c.name, c.level),
            })
            .collect();
        let allowed = self.decision.is_allowed();
        let action = action_label(self.query.action, language);
        let change = with_query(
            "/",
            &with_pair(
                self.pairs,
                "lang",
                (language == Language::En).then_some("en"),
            ),
        );
        html! {
            h1 {
                @if allowed { (t("Ja, det får du", "Yes, you may")) }
                @else { (t("Nej, det får du inte", "No, you may not")) }
            }
            div class={ "verdict " (if allowed { "yes" } else { "no" }) } {
                p.word { @if allowed { (t("Ja", "Yes")) } @else { (t("Nej", "No")) } }
                p {
                    @if allowed {
                        (t("Du får använda ", "You may use ")) strong { (system_name) }
                        (t(" till detta: ", " for this: ")) (aipolicy::matrix::action_in(self.query.action, language)) "."
                        @if !self.decision.obligations.is_empty() {
                            " " (t("Det kommer med skyldigheter, se nedan.", "It comes with duties, see below."))
                        }
                    } @else {
                        (t("Du får inte använda ", "You may not use ")) strong { (system_name) }
                        (t(" till detta: ", " for this: ")) (aipolicy::matrix::action_in(self.query.action, language)) "."
                    }
                }
            }
            section {
                h2 { (t("Din fråga", "Your question")) }
                dl.question {
                    dt { (t("AI-system", "AI system")) }
                    dd {
                        (system_name) " " span.id { "(" (self.question.ai) ")" }
                        @if system.is_none() {
                            br;
                            (t("Finns inte i kommunens AI-register, så det räknas som publik AI: det får bara användas med öppen information (U3).",
                               "Not in the municipality's AI register, so it counts as public AI: it may only be used with open information (U3)."))
                            @if let Some(closest) = &self.question.ai_closest {
                                @let (id, name) = &**closest;
                                " " (t("Menade du ", "Did you mean ")) strong { (name) } "? "
                                a href=(with_query("/ask", &with_pair(self.pairs, "ai", Some(id)))) {
                                    (t("Ställ frågan om ", "Ask about ")) (name)
                                }
                            }
                        }
                    }
                    dt { (t("Information", "Information")) }
                    dd { @if data_names.is_empty() { (t("ingen angiven", "none given")) } @else { (data_names.join(", ")) } }
                    dt { (t("Handling", "Action")) }
                    dd { (action) }
                    dt { (t("Du", "You")) }
                    dd { (self.who()) }
                    dt { (t("Förutsättningar", "Conditions")) }
                    dd {
                        @let flags = flags_set(&self.query.context, language);
                        @if flags.is_empty() { (t("inga ikryssade", "none ticked")) } @else { (flags.join("; ")) }
                    }
                }
                p.noprint { a href=(change) { (t("Ändra frågan", "Change the question")) } }
            }
            @if allowed {
                (self.duties())
            } @else {
                @if self.visitor_of_register_only { (register_only_notice(language)) }
                @if needs_conditions(self.query.action) && flags_set(&self.query.context, language).is_empty() {
                    p.hint {
                        (t("Inga förutsättningar är ikryssade, och den här handlingen kräver några. ",
                           "No conditions are ticked, and this action needs some. "))
                        a href=(change) { (t("Kryssa i det som gäller", "Tick what applies")) }
                    }
                }
                (self.reasons())
                (self.alternatives())
            }
            @if !self.decision.notes.is_empty() {
                section {
                    h2 { (t("Bra att veta", "Good to know")) }
                    ul { @for note in &self.decision.notes { li { (with_code(note)) } } }
                }
            }
            @if !self.decision.errors.is_empty() {
                section {
                    h2 { (t("Frågan kunde inte prövas helt", "The question could not be fully evaluated")) }
                    p { (t("Svaret är därför nej. Felet:", "The answer is therefore no. The error:")) }
                    ul { @for error in &self.decision.errors { li lang="en" { (error) } } }
                }
            }
            @if let Some(channel) = self.decision.incident_channel.as_deref() {
                p.source { (t("Avvikelser, fel och missbruk rapporteras till: ", "Report deviations, errors and misuse to: ")) (channel) }
            }
            @if let Some(owner) = system.and_then(|s| s.owner.as_deref()) {
                p.source { (t("Ansvarig för AI-systemet: ", "Accountable for the AI system: ")) (owner) "." }
            }
        }
    }

    fn who(&self) -> String {
        let language = self.language;
        match &self.query.user {
            UserRef::Inline(user) => {
                let mut parts: Vec<String> = user
                    .roles
                    .iter()
                    .map(|r| role_name(*r, language).to_string())
                    .collect();
                parts.extend(user.unit.clone());
                if user.ai_literacy == Some(true) {
                    parts.push(
                        tr(
                            language,
                            "har gått AI-utbildningen",
                            "has had the AI training",
                        )
                        .to_string(),
                    );
                }
                parts.join(", ")
            }
            UserRef::Registered(id) => {
                let user = self.policy.engine.register().user(id);
                let roles: Vec<&str> = user
                    .map(|u| u.roles.iter().map(|r| role_name(*r, language)).collect())
                    .unwrap_or_default();
                let unit = user
                    .and_then(|u| u.unit.as_deref())
                    .map(|u| format!(", {u}"))
                    .unwrap_or_default();
                format!("{id} ({}{unit})", roles.join(", "))
            }
        }
    }

    /// The reasons of a no, by paragraph, each with the policy's words.
    fn reasons(&self) -> Markup {
        let language = self.language;
        let t = |sv, en| tr(language, sv, en);
        let groups = by_paragraph(&self.decision.reasons);
        html! {
            section {
                h2 { (t("Därför inte", "Why not")) }
                @for (code, reasons) in &groups {
                    (self.paragraph_block(code, reasons, true))
                }
            }
        }
    }

    /// The duties of a yes.
    fn duties(&self) -> Markup {
        let language = self.language;
        let t = |sv, en| tr(language, sv, en);
        let groups = by_paragraph(&self.decision.obligations);
        html! {
            section {
                h2 { (t("Dina skyldigheter", "Your duties")) }
                @if groups.is_empty() {
                    p { (t("Policyn lägger inga särskilda skyldigheter på just detta.", "The policy sets no particular duties for this.")) }
                }
                @for (code, duties) in &groups {
                    (self.paragraph_block(code, duties, false))
                }
            }
        }
    }

    /// One paragraph's reasons or duties: its code and heading, what each rule says, and the
    /// policy's own words for it.
    fn paragraph_block(&self, code: &str, reasons: &[&Reason], quote: bool) -> Markup {
        let language = self.language;
        let t = |sv, en| tr(language, sv, en);
        let paragraph = code.parse::<Paragraph>().ok();
        let text = &self.state.page.text;
        let words = paragraph.and_then(|p| text.words_of(p));
        let policies = self.policy.engine.policies();
        let anchor = paragraph.map(paragraph_anchor);
        html! {
            div.reason {
                h3 {
                    span.code { (code) } " "
                    @if let Some(p) = paragraph { (p.title(language)) }
                }
                ul {
                    @for reason in reasons {
                        li {
                            (reason.message)
                            @if let Some(law) = reason.law.as_deref().filter(|law| !is_cited_in(law, &reason.message, language)) {
                                " " span.law { "(" (law) ")" }
                            }
                            " "
                            @if policies.rule(&cedar_policy::PolicyId::new(&*reason.policy)).is_some() {
                                a href={ (link("/policy", language)) "#" (rule_anchor(&reason.policy)) } {
                                    (t("regeln", "the rule")) " " code { (reason.policy) }
                                }
                            }
                        }
                    }
                }
                @if let (true, Some(words), Some(anchor)) = (quote, &words, &anchor) {
                    p.source { (t("Policyn säger:", "The policy says (in Swedish):")) }
                    blockquote lang="sv" cite={ "/policy#" (anchor) } {
                        @for part in words.split("\n\n") { p { (part) } }
                    }
                }
                @if let Some(anchor) = &anchor {
                    p.source {
                        a href={ (link("/policy", language)) "#" (anchor) } {
                            (t("Läs ", "Read ")) (code) (t(" i policyn", " in the policy"))
                        }
                    }
                }
            }
        }
    }

    /// For a no: the systems the register allows for the same information, action and person.
    fn alternatives(&self) -> Markup {
        let language = self.language;
        let t = |sv, en| tr(language, sv, en);
        html! {
            section {
                h2 { (t("Det här får du använda i stället", "What you may use instead")) }
                @if self.instead.is_empty() {
                    p { (t("Inget AI-system i kommunens register är tillåtet för dig med den här informationen och handlingen.",
                           "No AI system of the municipality's register is allowed for you with this information and action.")) }
                } @else {
                    p { (t("Med samma information och handling tillåter kommunens register dig att använda:",
                           "With the same information and action, the municipality's register allows you to use:")) }
                    ul {
                        @for (id, name) in self.instead {
                            li {
                                a href=(with_query("/ask", &with_pair(self.pairs, "ai", Some(id)))) { (name) }
                                " " span.id { "(" (id) ")" }
                            }
                        }
                    }
                    p.hint { (t("Följ en länk för att se skyldigheterna som hör till.", "Follow a link to see the duties that come with it.")) }
                }
            }
        }
    }
}

/// Whether an action is allowed only with some context flags (a person who reviews, the
/// reviews of a development).
fn needs_conditions(action: aipolicy::Action) -> bool {
    use aipolicy::Action;
    matches!(
        action,
        Action::Decide | Action::Publish | Action::SendToResident | Action::Develop
    )
}

/// Reasons grouped by paragraph, in the order each paragraph first appears.
fn by_paragraph(reasons: &[Reason]) -> Vec<(String, Vec<&Reason>)> {
    let mut groups: Vec<(String, Vec<&Reason>)> = Vec::new();
    for reason in reasons {
        match groups
            .iter_mut()
            .find(|(code, _)| *code == *reason.paragraph)
        {
            Some((_, list)) => list.push(reason),
            None => groups.push((reason.paragraph.to_string(), vec![reason])),
        }
    }
    groups
}
