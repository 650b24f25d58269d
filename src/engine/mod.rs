//! The engine: loads policies, schema and register once, then decides many queries.
//!
//! **Where a decision is made:** [`Engine::decide_in`], in two steps.
//!
//! 0. When the query carries `text`, what is found in it joins its data classes (and the
//!    decision will say what was found): see `text`.
//! 1. [`Engine::prepare`] turns the query into Cedar's terms: the user as the register knows
//!    them (the register is the authority for the users it lists: only the roles it grants, its
//!    unit), the AI system (public AI when it is not in the register), the strictest
//!    [`DataProfile`] of the data classes (need-to-know included), and the context flags.
//! 2. [`Engine::decide_prepared`] asks Cedar, over the policies that can apply to the action,
//!    and explains the answer: each forbid that applied is a reason, each obligation of a permit
//!    or duty that applied is a duty of the allow. An evaluation error, or a role the register
//!    does not grant, makes it a deny.
//!
//! What is prepared at load only to make this fast sits in its own modules, each for one
//! reason: `slices` (Cedar evaluates only the policies an action can meet, proved equivalent by
//! `aipolicy verify`), `contexts` (a Cedar context is built once per data profile and flags),
//! [`crate::engine::memo`] (a decision keyed by what it depends on) and the role representatives below
//! (an inline user is asked about as a stored user with the same roles, when the policies see
//! only roles). The register's AI-system keys map to Cedar attributes in
//! [`crate::model::attributes`].

pub mod batch;
mod build;
pub(crate) mod contexts;
mod explain;
mod keyed;
pub mod memo;
mod names;
mod notes;
mod prepare;
pub mod search;
pub(crate) mod slices;
mod text;
mod users;

use build::schema_problem;
use explain::Explained;
use names::CedarNames;
pub use notes::Note;
pub use prepare::PreparedRequest;
use prepare::{Party, Resolved};

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Authorizer, Effect, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet,
    PrincipalConstraint, Request, ResourceConstraint, RestrictedExpression, Schema,
};

use crate::diagnostics::error::{FieldError, InputError, LoadError, SourceDiagnostic};
use crate::diagnostics::suggest::KnownNames;
use crate::model::assessments::{AssessmentKind, Standings, Windows};
use crate::model::clock::{Clock, Date};
pub use crate::model::data_profile::DataProfile;
use crate::model::decision::{
    fail_closed_reason, no_permit_reason, role_beyond_register_reason, unregistered_user_reason,
    Decision, Language, Reason, Verdict,
};
use crate::model::query::{Action, Query, UserRef};
use crate::model::register::{fold_user_id, AiSystem, Register, Role, User};
use crate::policy::{self, Policies};
use contexts::ContextCache;
use memo::{
    user_bits, DecisionKey, DecisionMemo, Remembered, UserKey, UNLISTED_USER_BIT, USER_CLASSES,
};
use slices::ActionSlices;
use users::with_notes_first;

/// Decides queries against a policy set, a schema and a register.
///
/// Load once, decide many times; `Send + Sync`, so one engine serves every thread.
/// Fails closed: an evaluation error gives a deny whose `errors` say why.
///
/// ```
/// use aipolicy::{Engine, Language, Query, UserRef, Verdict};
/// let engine = Engine::bundled().unwrap();
/// # // The day these lines were written: the register's dated assessments all hold on it.
/// # let engine = engine.with_clock(aipolicy::Clock::fixed(aipolicy::clock::parse_date("2026-12-07").unwrap()));
///
/// let query = Query::new(UserRef::registered("anna"), "chatgpt", ["intern"]);
/// let decision = engine.decide_in(&query, Language::En).unwrap();
/// assert_eq!(decision.decision, Verdict::Deny);
/// assert!(decision.reasons.iter().any(|r| &*r.paragraph == "U3"));
///
/// let query = Query::new(UserRef::registered("anna"), "copilot-chat", ["intern"]);
/// let decision = engine.decide(&query).unwrap();
/// assert!(decision.is_allowed());
/// assert_eq!(&*decision.obligations[0].paragraph, "U1");
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    policies: Policies,
    schema: Schema,
    register: Register,
    explained: Vec<Explained>,
    names: CedarNames,
    /// Every register user and AI system, and the actions, with their hierarchy: built once.
    store: Entities,
    /// Per registered AI system, a store with it alone: an inline user and the action are added
    /// to a copy of it instead of building every entity anew (the fewer entities a store holds,
    /// the less Cedar's transitive closure costs when they are added).
    ai_stores: HashMap<EntityUid, Entities>,
    /// Duties that apply to a whole action whatever the request (no condition, any principal and
    /// resource), by action: found once at load, not evaluated per request.
    static_duties: HashMap<Action, Vec<usize>>,
    /// The other duties, evaluated on every allow, by action.
    conditional_duties: ActionSlices,
    /// The policies that can apply to each action, found at load (see [`crate::engine::slices`]).
    slices: ActionSlices,
    /// Cedar contexts by data profile and flags, built on first use.
    contexts: ContextCache,
    /// When the policies tell users apart only by their roles and AI training (see
    /// [`crate::engine::memo`]): per set of them (by [`user_bits`]), a user in the store with exactly
    /// those, which Cedar is asked about in place of an inline user with the same (see
    /// [`Engine::prepare`]), and [`DecisionKey`]s hold them instead of the user. Empty otherwise.
    role_representatives: Vec<EntityUid>,
    /// The register's AI systems by id: their entity, when their assessments hold, and where
    /// their incidents are reported.
    ai_index: HashMap<String, RegisteredAi>,
    /// Where incidents are reported for an AI system not in the register: the register's
    /// channel.
    incident_channel: Option<Arc<str>>,
    /// Where "today" comes from for a query without `at`.
    clock: Clock,
    /// Whether a query's `at` is refused (see [`Engine::on_own_clock_only`]).
    own_clock_only: bool,
    /// The register's AI-system ids, for the "did you mean" of a system it does not list,
    /// which every decision about such a system gives.
    ai_names: KnownNames,
    /// The register's user ids, for the "did you mean" of an inline user it does not list.
    user_names: KnownNames,
    /// The register's users' entities, by folded id ([`fold_user_id`]).
    user_uids: HashMap<String, EntityUid>,
    /// Whether a user the register does not list is denied (see
    /// [`Engine::registered_users_only`]).
    registered_users_only: bool,
    authorizer: Authorizer,
    language: Language,
}

/// What the engine keeps of an AI system of the register.
#[derive(Debug, Clone)]
struct RegisteredAi {
    uid: EntityUid,
    windows: Windows,
    incident_channel: Option<Arc<str>>,
}

impl Engine {
    /// The same engine with another default language.
    pub fn with_language(mut self, language: Language) -> Engine {
        self.language = language;
        self
    }

    /// The same engine, taking "today" from `clock` for a query without `at`.
    ///
    /// ```
    /// use aipolicy::clock::{parse_date, Clock};
    /// use aipolicy::{Engine, Query, UserRef};
    /// let engine = Engine::bundled().unwrap().with_clock(Clock::fixed(parse_date("2026-12-07").unwrap()));
    /// assert_eq!(engine.today().to_string(), "2026-12-07");
    /// ```
    pub fn with_clock(mut self, clock: Clock) -> Engine {
        self.clock = clock;
        self
    }

    /// The engine's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The same engine, refusing a query's `at` as an input error when `refuse` is true: it
    /// decides only on its own clock. For a decision service, whose callers must not move a
    /// decision to a day when a lapsed assessment still held, and for a command that logs its
    /// decisions as made today.
    ///
    /// ```
    /// use aipolicy::clock::parse_date;
    /// use aipolicy::{Engine, Query, UserRef};
    /// let engine = Engine::bundled().unwrap().on_own_clock_only(true);
    /// let query = Query::new(UserRef::registered("anna"), "copilot-chat", ["intern"])
    ///     .on_day(parse_date("2026-01-01").unwrap());
    /// assert_eq!(engine.decide(&query).unwrap_err().problems[0].path, "at");
    /// ```
    pub fn on_own_clock_only(mut self, refuse: bool) -> Engine {
        self.own_clock_only = refuse;
        self
    }

    /// The same engine, denying (U0, [`UNREGISTERED_USER_POLICY`](crate::decision::UNREGISTERED_USER_POLICY))
    /// every decision about a user the register does not list when `only` is true: for a
    /// municipality whose register lists every user, so that a service cannot bring in a person
    /// of its own with the roles it likes. Reporting an incident stays open to anyone (U4).
    /// `--registered-users-only` and `registered-users-only = true` in `aipolicy.toml` turn it
    /// on for every front end (`check`, `batch`, `serve`: native, AuthZEN and the staff page).
    ///
    /// ```
    /// use aipolicy::{Engine, Query, UserRef, Role};
    /// # let engine = Engine::bundled().unwrap().with_clock(aipolicy::Clock::fixed(aipolicy::clock::parse_date("2026-12-07").unwrap()));
    /// let engine = engine.registered_users_only(true);
    /// let stranger = Query::new(UserRef::inline("x", [Role::Employee]), "copilot-chat", ["oppen"]);
    /// let decision = engine.decide(&stranger).unwrap();
    /// assert!(!decision.is_allowed());
    /// assert_eq!(&*decision.reasons[0].policy, "aipolicy-unregistered-user");
    /// ```
    pub fn registered_users_only(mut self, only: bool) -> Engine {
        self.registered_users_only = only;
        self
    }

    /// Whether a user the register does not list is denied (see
    /// [`Engine::registered_users_only`]).
    pub fn is_registered_users_only(&self) -> bool {
        self.registered_users_only
    }

    /// The day a query without `at` is decided at: today, by the engine's clock.
    pub fn today(&self) -> Date {
        self.clock.today()
    }

    /// How `ai`'s assessments stand on `day` (none done for a system not in the register).
    pub fn assessments_on(&self, ai: &str, day: Date) -> Standings {
        self.ai_index
            .get(ai)
            .map(|registered| registered.windows.on(day))
            .unwrap_or_default()
    }

    /// The default language of [`Engine::decide`].
    pub fn language(&self) -> Language {
        self.language
    }

    /// The loaded policies.
    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// The Cedar schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The register.
    pub fn register(&self) -> &Register {
        &self.register
    }

    /// The policies that can apply to `action`, as the engine gives them to Cedar: those whose
    /// action scope admits `action`, with that scope lifted to any action. Over a request for
    /// `action`, Cedar decides the same with this slice as with [`Policies::set`], and faster.
    ///
    /// ```
    /// use aipolicy::{Action, Engine};
    /// let engine = aipolicy::Engine::bundled().unwrap();
    /// let develop = engine.policies_for(Action::Develop);
    /// assert!(develop.policies().count() < engine.policies().set().policies().count());
    /// assert!(develop.policies().any(|p| p.annotation("id") == Some("u5-information-security-review")));
    /// ```
    pub fn policies_for(&self, action: Action) -> &PolicySet {
        self.slices
            .get(action)
            .unwrap_or_else(|| self.policies.set())
    }

    /// The duties with a condition that can apply to `action`, sliced like
    /// [`Engine::policies_for`] (duties without one are in [`Engine::whole_action_duties`]).
    pub fn duties_for(&self, action: Action) -> Option<&PolicySet> {
        self.conditional_duties.get(action)
    }

    /// The `@id`s of the duties without a condition (nor a principal or resource scope) that
    /// apply to every request for `action`: found once at load, not asked of Cedar per request.
    pub fn whole_action_duties(&self, action: Action) -> Vec<&str> {
        self.static_duties
            .get(&action)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.policies.rules().get(i))
            .map(|rule| &*rule.id)
            .collect()
    }

    /// Decides a query, explained in the engine's language.
    pub fn decide(&self, query: &Query) -> Result<Decision, InputError> {
        self.decide_in(query, self.language)
    }

    /// Decides a query, explained in `language`.
    ///
    /// `Err` only for input that cannot be decided (unknown user or data class, missing data);
    /// everything else is a [`Decision`], and any evaluation error makes it a deny.
    pub fn decide_in(&self, query: &Query, language: Language) -> Result<Decision, InputError> {
        self.decide_on(query, language, self.today())
    }

    /// [`Engine::decide_in`], with `today` as the day of a query without `at`, instead of the
    /// clock's: for a caller that takes the day once for several steps (a memo's key and the
    /// decision it keeps), so that midnight cannot fall between them.
    pub fn decide_on(
        &self,
        query: &Query,
        language: Language,
        today: Date,
    ) -> Result<Decision, InputError> {
        let decision = self.decide_without_user_notes(query, language, today)?;
        Ok(self.with_user_notes(decision, &query.user, language))
    }

    /// [`Engine::decide_on`] without the notes about the query's user (see
    /// [`Engine::user_notes`]): what the memo keeps, which users with the same roles share.
    pub(super) fn decide_without_user_notes(
        &self,
        query: &Query,
        language: Language,
        today: Date,
    ) -> Result<Decision, InputError> {
        let (asked, findings) = self.with_text_classes(query)?;
        let prepared = self.prepare_as(&asked, true, today, None)?;
        let decision = self.decide_prepared(&prepared, language);
        Ok(match findings {
            Some(findings) => self.with_findings(decision, query, findings, language),
            None => decision,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Engine>();
    }
}
