//! The engine: loads policies, schema and register once, then decides many queries.
//!
//! **Where a decision is made:** [`Engine::decide_in`], in two steps.
//!
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
pub(crate) mod contexts;
pub mod memo;
pub mod search;
pub(crate) mod slices;

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
    fail_closed_reason, no_permit_reason, role_beyond_register_reason, Decision, Language, Reason,
    Verdict,
};
use crate::model::query::{Action, Query, UserRef};
use crate::model::register::{AiSystem, Register, Role, User};
use crate::policy::{self, Policies};
use contexts::ContextCache;
use memo::{user_bits, DecisionKey, DecisionMemo, Remembered, UserKey, USER_CLASSES};
use slices::ActionSlices;

/// A query turned into Cedar's terms: the request and the entities it needs.
///
/// Exposed so that a caller (or a benchmark) can ask Cedar directly with exactly what the
/// engine asks it.
#[derive(Debug, Clone)]
pub struct PreparedRequest<'e> {
    /// The Cedar request.
    pub request: Request,
    /// The entities: the engine's own store of every register entity when the user and the AI
    /// system are both registered (nothing is built per request), else a small store with the
    /// user, the AI system and the action.
    pub entities: Cow<'e, Entities>,
    /// The action asked about.
    pub action: Action,
    /// The policies that can apply to this action, as the engine gives them to Cedar: the
    /// policy set sliced by action at load, with each action scope lifted (see
    /// [`Engine::policies_for`]). Cedar gives the same answer over the whole set.
    pub policies: &'e PolicySet,
    /// Roles the query asserted for a user whom the register lists without them: the register
    /// is the authority, so Cedar is asked about the user with the roles both grant, and any
    /// decision but reporting an incident is a deny that names these roles (U0).
    pub roles_beyond_register: Vec<Role>,
    /// What the decision will note without changing it (e.g. an AI system not in the register).
    pub notes: Vec<String>,
    /// The query's `requestId`.
    pub request_id: Option<String>,
    /// How the AI system's assessments stand on the day of the decision (the query's `at`,
    /// else the engine clock's today; none done for a system not in the register); Cedar sees
    /// which hold as `context.current`.
    pub assessments: Standings,
    /// Where incidents with this AI system are reported (U4), when the register names it.
    pub incident_channel: Option<Arc<str>>,
}

/// A rule's explanations, built once at load in both languages.
#[derive(Debug, Clone)]
struct Explained {
    effect: Effect,
    reason: [Reason; 2],
    obligation: Option<[Reason; 2]>,
    /// The assessments the rule reads (`context.current.…`, as [`AssessmentKind::bit`]s): a
    /// deny it gives names those that lapsed.
    reads_assessments: u8,
}

fn pick(pair: &[Reason; 2], language: Language) -> Reason {
    match language {
        Language::Sv => pair[0].clone(),
        Language::En => pair[1].clone(),
    }
}

#[derive(Debug, Clone)]
struct CedarNames {
    user: EntityTypeName,
    role: EntityTypeName,
    ai: EntityTypeName,
    /// Action entities with their groups (e.g. `use in anyUse`), from the schema: without them
    /// `action in Action::"anyUse"` would be false and every such forbid silently skipped.
    action_entities: HashMap<Action, Entity>,
}

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
    user_uids: HashMap<String, EntityUid>,
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
    /// The bundled Askersund policies, schema and register, embedded in the binary.
    pub fn bundled() -> Result<Engine, LoadError> {
        Engine::new(
            Policies::bundled()?,
            policy::bundled_schema()?,
            Register::bundled()?,
        )
    }

    /// An engine from loaded parts. The policies must validate against the schema in Cedar's
    /// strict mode, so that no policy can meet a type error at decision time. Built on a
    /// thread with a stack for the deepest policy accepted (Cedar re-reads each policy's text
    /// for the engine's per-action slices, recursing once per level).
    pub fn new(
        policies: Policies,
        schema: Schema,
        register: Register,
    ) -> Result<Engine, LoadError> {
        crate::io::cedar_text::on_parser_stack(move || {
            Engine::new_here(policies, schema, register)
        })?
    }

    fn new_here(
        policies: Policies,
        schema: Schema,
        register: Register,
    ) -> Result<Engine, LoadError> {
        let problems = policies.validate(&schema);
        if !problems.is_empty() {
            return Err(LoadError::Policies(problems));
        }
        let names = CedarNames::new(&schema)?;
        // One JSON form per policy (Cedar makes it by parsing again): for the slices, for the
        // check that the policies see users only through their roles, and for the assessments
        // each rule reads.
        let with_json = slices::with_json(
            policies
                .set()
                .policies()
                .chain(policies.duties().policies()),
        );
        let mut reads_assessments = vec![0u8; policies.rules().len()];
        for (policy, json) in &with_json {
            if let (Some(i), Some(json)) = (policies.position(policy.id()), json) {
                if let Some(reads) = reads_assessments.get_mut(i) {
                    *reads = assessments_read(json);
                }
            }
        }
        let explained = policies
            .rules()
            .iter()
            .zip(reads_assessments)
            .map(|(rule, reads_assessments)| {
                let reason = |message: &std::sync::Arc<str>| Reason {
                    policy: rule.id.clone(),
                    paragraph: rule.paragraph.code().into(),
                    message: message.clone(),
                    law: rule.law.clone(),
                };
                Explained {
                    effect: rule.effect,
                    reason: [reason(&rule.sv), reason(&rule.en)],
                    obligation: match (&rule.obligation_sv, &rule.obligation_en) {
                        _ if rule.duty => Some([reason(&rule.sv), reason(&rule.en)]),
                        (Some(sv), Some(en)) => Some([reason(sv), reason(en)]),
                        _ => None,
                    },
                    reads_assessments,
                }
            })
            .collect();
        let ai_entities = register
            .ai_systems()
            .iter()
            .map(|ai| {
                // Cedar sees the contest route in force: the system's own, else the register's.
                let route = register.contest_route_of(ai);
                let in_force = if route == ai.contest_route.as_deref() {
                    Cow::Borrowed(ai)
                } else {
                    Cow::Owned(AiSystem {
                        contest_route: route.map(Into::into),
                        ..ai.clone()
                    })
                };
                Ok((ai.id.clone(), names.ai_entity(&in_force, true)?))
            })
            .collect::<Result<HashMap<_, _>, LoadError>>()?;
        let user_entities = register
            .users()
            .iter()
            .map(|user| Ok((user.id.clone(), names.user_entity(user)?)))
            .collect::<Result<HashMap<_, _>, LoadError>>()?;
        let incident_channel: Option<Arc<str>> = register.incident_channel().map(Into::into);
        let ai_index = register
            .ai_systems()
            .iter()
            .filter_map(|ai| {
                let entity = ai_entities.get(&ai.id)?;
                Some((
                    ai.id.clone(),
                    RegisteredAi {
                        uid: entity.uid(),
                        windows: register.windows(ai),
                        incident_channel: register.incident_channel_of(ai).map(Arc::from),
                    },
                ))
            })
            .collect();
        let ai_stores = ai_entities
            .values()
            .map(|ai| {
                let store = Entities::from_entities(std::iter::once(ai.clone()), None)
                    .map_err(|e| LoadError::Internal(format!("store of `{}`: {e}", ai.uid())))?;
                Ok((ai.uid(), store))
            })
            .collect::<Result<HashMap<_, _>, LoadError>>()?;
        let user_uids = user_entities
            .iter()
            .map(|(id, e)| (id.clone(), e.uid()))
            .collect();
        let users_by_roles = memo::principal_seen_only_through_roles(
            with_json.iter().map(|(_, json)| json.as_ref()),
            &names.user.to_string(),
        );
        let representatives = if users_by_roles {
            names.role_representatives()?
        } else {
            Vec::new()
        };
        let role_representatives = representatives.iter().map(Entity::uid).collect();
        // Checked once, at load, against the schema: what the engine builds is what it declares.
        let store = Entities::from_entities(
            ai_entities
                .into_values()
                .chain(user_entities.into_values())
                .chain(representatives)
                .chain(names.action_entities.values().cloned()),
            Some(&schema),
        )
        .map_err(|e| {
            schema_problem(format!(
                "the register's entities do not match the Cedar schema: {e}"
            ))
        })?;
        let sliced = slice_by_action(&policies, &names, &store, &with_json)?;
        let ai_names = KnownNames::new(register.ai_systems().iter().map(|ai| ai.id.as_str()));
        let engine = Engine {
            policies,
            schema,
            register,
            explained,
            names,
            store,
            ai_stores,
            static_duties: sliced.whole_action_duties,
            conditional_duties: sliced.conditional_duties,
            slices: sliced.decisions,
            contexts: ContextCache::default(),
            role_representatives,
            ai_index,
            incident_channel,
            clock: Clock::default(),
            own_clock_only: false,
            ai_names,
            user_uids,
            authorizer: Authorizer::new(),
            language: Language::default(),
        };
        engine.check_requests_against_the_schema()?;
        Ok(engine)
    }

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
        let prepared = self.prepare_as(query, true, today, None)?;
        Ok(self.decide_prepared(&prepared, language))
    }

    /// Decides a query, or takes its decision from `memo` when an equal one was decided before
    /// (see [`Engine::decision_key`]). Decisions with errors are not kept.
    ///
    /// For a service or a batch that sees the same kinds of query again and again: Cedar is
    /// asked once per [`DecisionKey`].
    pub fn decide_memoized(
        &self,
        query: &Query,
        language: Language,
        memo: &DecisionMemo,
    ) -> Result<Decision, InputError> {
        let remembered = self.decide_remembered(query, language, memo)?;
        Ok(remembered.answer(query.request_id.clone()))
    }

    /// The one memoized step under [`Engine::decide_memoized`], the batch and the decision
    /// service: the decision as the memo keeps it (without the query's `requestId`; see
    /// [`Remembered::answer`] and [`Remembered::write_line`]). On a miss, what the key was made
    /// from (the user as the register knows them, the data profile, the assessments on the
    /// day) is what the request is prepared from: nothing is looked up twice.
    pub fn decide_remembered(
        &self,
        query: &Query,
        language: Language,
        memo: &DecisionMemo,
    ) -> Result<Arc<Remembered>, InputError> {
        // One day for the key and the decision it keeps: midnight cannot fall between them.
        let today = self.today();
        let keyed = memo
            .is_enabled()
            .then(|| self.keyed(query, language, today))
            .flatten();
        let Some((key, resolved)) = keyed else {
            let prepared = self.prepare_as(query, true, today, None)?;
            let decision = self.decide_prepared(&prepared, language);
            return Ok(Arc::new(Remembered::new(decision)));
        };
        if let Some(remembered) = memo.get(&key) {
            return Ok(remembered);
        }
        let prepared = self.prepare_as(query, true, today, Some(resolved))?;
        let decision = self.decide_prepared(&prepared, language);
        let clean = decision.errors.is_empty();
        let remembered = Arc::new(Remembered::new(decision));
        if clean {
            memo.insert(key, remembered.clone());
        }
        Ok(remembered)
    }

    /// What the decision of `query` in `language` depends on: queries with equal keys get
    /// equal decisions from this engine (but for the `requestId` each answer echoes). When the
    /// policies tell users apart only by their roles and AI training (the bundled ones do),
    /// users with the same roles and training share keys.
    ///
    /// `None` for a query that would be an input error, whose context has no key, or whose
    /// inline user asserts roles the register does not grant (a deny that names them).
    ///
    /// ```
    /// use aipolicy::{Engine, Language, Query, Role, User, UserRef};
    /// let engine = Engine::bundled().unwrap();
    /// // anna is a trained employee in the register.
    /// let anna = Query::new(UserRef::registered("anna"), "copilot-chat", ["intern"]);
    /// let trained = UserRef::Inline(User::new("x", [Role::Employee]).with_ai_literacy(true));
    /// let other = Query::new(trained, "copilot-chat", ["intern"]);
    /// assert_eq!(engine.decision_key(&anna, Language::Sv), engine.decision_key(&other, Language::Sv));
    /// let untrained = Query::new(UserRef::inline("x", [Role::Employee]), "copilot-chat", ["intern"]);
    /// assert_ne!(engine.decision_key(&anna, Language::Sv), engine.decision_key(&untrained, Language::Sv));
    /// let unknown = Query::new(UserRef::registered("nobody"), "copilot-chat", ["intern"]);
    /// assert_eq!(engine.decision_key(&unknown, Language::Sv), None);
    /// ```
    pub fn decision_key(&self, query: &Query, language: Language) -> Option<DecisionKey> {
        self.decision_key_on(query, language, self.today())
    }

    /// [`Engine::decision_key`], with `today` as the day of a query without `at` (see
    /// [`Engine::decide_on`]).
    pub fn decision_key_on(
        &self,
        query: &Query,
        language: Language,
        today: Date,
    ) -> Option<DecisionKey> {
        self.keyed(query, language, today).map(|(key, _)| key)
    }

    /// The decision key, and what it was made from, for preparing the request on a miss.
    fn keyed<'q>(
        &'q self,
        query: &'q Query,
        language: Language,
        today: Date,
    ) -> Option<(DecisionKey, Resolved<'q>)> {
        if query.data.is_empty() && query.action.requires_data() {
            return None;
        }
        if self.own_clock_only && query.at.is_some() {
            return None;
        }
        let classes = query
            .data
            .iter()
            .map(|id| self.register.data_class(id))
            .collect::<Option<Vec<_>>>()?;
        let by_roles = !self.role_representatives.is_empty();
        let mut inline = None;
        let user = match &query.user {
            UserRef::Registered(id) => {
                let user = self.register.user(id)?;
                if by_roles {
                    UserKey::Roles(user_bits(user))
                } else {
                    UserKey::Registered(id.as_str().into())
                }
            }
            UserRef::Inline(asserted) => {
                // A claim the decision notes is the caller's: the note names the user.
                if self.training_on_the_callers_word(asserted, &query.ai) {
                    return None;
                }
                let (user, conflict) = self.as_registered(asserted);
                if !conflict.is_empty() {
                    return None;
                }
                let key = if by_roles {
                    UserKey::Roles(user_bits(&user))
                } else {
                    UserKey::Inline(
                        user.id.as_str().into(),
                        user_bits(&user),
                        user.unit.as_deref().map(Into::into),
                    )
                };
                inline = Some(user);
                key
            }
        };
        let profile = DataProfile::fold(classes, self.unit_of(&query.user));
        let assessments = self.assessments_on(&query.ai, query.at.unwrap_or(today));
        let context = contexts::slot(profile, &query.context, assessments.current_bits())?;
        let key = DecisionKey {
            user,
            ai: query.ai.as_str().into(),
            action: query.action,
            context: u32::try_from(context).ok()?,
            assessments: assessments.code(),
            language,
        };
        Some((
            key,
            Resolved {
                inline,
                profile,
                assessments,
            },
        ))
    }

    /// Turns a query into Cedar's request and entities, checking it against the register:
    /// exactly what [`Engine::decide`] asks Cedar.
    ///
    /// When the policies tell users apart only by their roles (see [`crate::engine::memo`]), an inline
    /// user is asked about as a user of the engine's store with the same roles: Cedar then
    /// finds every entity in the store instead of one built and linked for this request, and
    /// gives the same decision. [`Engine::prepare_exact`] keeps the user as given.
    pub fn prepare(&self, query: &Query) -> Result<PreparedRequest<'_>, InputError> {
        self.prepare_as(query, true, self.today(), None)
    }

    /// [`Engine::prepare`] with the query's own user always: for asking Cedar about other
    /// policies (such as `aipolicy verify`'s invariants), which may look at more than roles.
    pub fn prepare_exact(&self, query: &Query) -> Result<PreparedRequest<'_>, InputError> {
        self.prepare_as(query, false, self.today(), None)
    }

    /// `today`: the day of a query without `at`; `resolved`: what [`Engine::keyed`] found for
    /// it, when the key was made first (then it is not looked up again).
    fn prepare_as<'q>(
        &self,
        query: &'q Query,
        representatives: bool,
        today: Date,
        resolved: Option<Resolved<'q>>,
    ) -> Result<PreparedRequest<'_>, InputError> {
        let (resolved_user, resolved_parts) = match resolved {
            Some(Resolved {
                inline,
                profile,
                assessments,
            }) => (inline, Some((profile, assessments))),
            None => (None, None),
        };
        let mut problems = Vec::new();
        let mut notes = Vec::new();
        let mut roles_beyond_register = Vec::new();
        let user = match &query.user {
            UserRef::Registered(id) => match self.user_uids.get(id) {
                Some(uid) => Some(Party::Registered(uid)),
                None => {
                    let hint = crate::diagnostics::suggest::closest(
                        id,
                        self.register.users().iter().map(|u| u.id.as_str()),
                    )
                    .map(|known| format!("did you mean `{known}`? Else "))
                    .unwrap_or_default();
                    problems.push(FieldError::new(
                        "user",
                        format!(
                            "unknown user `{id}`; {hint}name a user of the register or give the user inline as {{\"id\": …, \"roles\": […]}}"
                        ),
                    ));
                    None
                }
            },
            UserRef::Inline(asserted) => {
                let (user, conflict) = match resolved_user {
                    // The key was made only for a user without conflict.
                    Some(user) => (user, Conflict::default()),
                    None => self.as_registered(asserted),
                };
                if let Some(other) = conflict.other_unit {
                    notes.push(format!(
                        "the register puts user `{}` in unit `{}`, not `{other}`; the register's unit counts",
                        user.id,
                        user.unit.as_deref().unwrap_or("(none)")
                    ));
                }
                if let Some(asserted_training) = conflict.other_training {
                    notes.push(format!(
                        "the query gives user `{}` `aiLiteracy: {asserted_training}`, but the register {}; the register counts",
                        user.id,
                        if asserted_training {
                            "does not record the AI training"
                        } else {
                            "records the AI training"
                        }
                    ));
                }
                roles_beyond_register = conflict.roles;
                // The store's user with the same roles, when the policies see only roles (an
                // inline user's entity, a string attribute and roles, always builds).
                let representative = self
                    .role_representatives
                    .get(usize::from(user_bits(&user)))
                    .filter(|_| representatives);
                match representative {
                    Some(uid) => Some(Party::Registered(uid)),
                    None => match self.names.user_entity(&user) {
                        Ok(entity) => Some(Party::Built(Box::new(entity))),
                        Err(e) => {
                            problems.push(FieldError::new("user", e.to_string()));
                            None
                        }
                    },
                }
            }
        };
        let mut classes = Vec::with_capacity(query.data.len());
        let looked_up = if resolved_parts.is_some() {
            // Every class was found when the key was made.
            &[][..]
        } else {
            &query.data[..]
        };
        for (i, id) in looked_up.iter().enumerate() {
            match self.register.data_class(id) {
                Some(class) => classes.push(class),
                None => problems.push(FieldError::new(
                    format!("data[{i}]"),
                    format!(
                        "unknown data class `{id}`; expected one of {}",
                        self.register
                            .data_classes()
                            .iter()
                            .map(|c| c.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        }
        if self.own_clock_only && query.at.is_some() {
            problems.push(FieldError::new(
                "at",
                format!(
                    "not accepted here: this engine decides on its own clock (today, {}); re-decide a past or planned question with `aipolicy check` or `aipolicy batch`, without `--log`",
                    self.clock.today()
                ),
            ));
        }
        if query.data.is_empty() && query.action.requires_data() {
            problems.push(FieldError::new(
                "data",
                format!(
                    "missing required field: action `{}` must name the data classes it handles (U2)",
                    query.action
                ),
            ));
        }
        let registered_ai = self.ai_index.get(&query.ai);
        let ai = match registered_ai {
            Some(registered) => Some(Party::Registered(&registered.uid)),
            None => match self
                .names
                .ai_entity(&AiSystem::unregistered(&query.ai), false)
            {
                Ok(entity) => Some(Party::Built(Box::new(entity))),
                Err(e) => {
                    problems.push(FieldError::new("ai", e.to_string()));
                    None
                }
            },
        };
        let (Some(user), Some(ai), true) = (user, ai, problems.is_empty()) else {
            return Err(InputError { problems });
        };
        if registered_ai.is_none() {
            notes.push(self.unregistered_ai_note(&query.ai));
        }
        if let UserRef::Inline(asserted) = &query.user {
            if self.training_on_the_callers_word(asserted, &query.ai) {
                notes.push(format!(
                    "user `{}` is not in the register, so the AI training it is given (`aiLiteracy: true`) is the caller's word; `{}` is high-risk and only trained users may use it (EU AI Act art. 26(2)): list the user in the register",
                    asserted.id, query.ai
                ));
            }
        }
        if !roles_beyond_register.is_empty() && query.action == Action::ReportIncident {
            notes.push(format!(
                "the register does not give user `{}` the role {}; reporting an incident is allowed for anyone (U4)",
                query.user.id(),
                roles_beyond_register.iter().map(|r| format!("`{}`", r.as_str())).collect::<Vec<_>>().join(", ")
            ));
        }
        let (profile, assessments) = match resolved_parts {
            Some(parts) => parts,
            None => (
                DataProfile::fold(classes, self.unit_of(&query.user)),
                registered_ai
                    .map(|registered| registered.windows.on(query.at.unwrap_or(today)))
                    .unwrap_or_default(),
            ),
        };
        let mut prepared = self
            .build_request(user, ai, query, profile, assessments)
            .map_err(|e| InputError::at("", e))?;
        prepared.roles_beyond_register = roles_beyond_register;
        prepared.notes = notes;
        prepared.request_id.clone_from(&query.request_id);
        prepared.incident_channel = match registered_ai {
            Some(registered) => registered.incident_channel.clone(),
            None => self.incident_channel.clone(),
        };
        Ok(prepared)
    }

    /// An inline user as the register knows them: for an id the register lists, the roles
    /// both grant and the register's unit and AI training. Beside it, what the query asserted
    /// that the register does not grant: roles, and a unit other than the register's. An id
    /// the register does not list is taken as given.
    ///
    /// A query that asserts a role beyond the register is denied for that (U0) whatever else
    /// holds; Cedar is then asked about the user with every role the register grants, so that
    /// the other reasons of the deny are true of the person the register knows (a contractor
    /// sent as an employee is not also told that only contractors, employees and elected
    /// officials may use AI).
    fn as_registered<'u>(&'u self, asserted: &'u User) -> (Cow<'u, User>, Conflict<'u>) {
        let Some(listed) = self.register.user(&asserted.id) else {
            return (Cow::Borrowed(asserted), Conflict::default());
        };
        let (granted, beyond): (Vec<Role>, Vec<Role>) = asserted
            .roles
            .iter()
            .partition(|role| listed.roles.contains(role));
        let other_unit = asserted
            .unit
            .as_deref()
            .filter(|unit| listed.unit.as_deref() != Some(*unit));
        let other_training = asserted
            .ai_literacy
            .filter(|&trained| trained != listed.ai_literacy.unwrap_or(false));
        let user = User {
            id: listed.id.clone(),
            roles: if beyond.is_empty() {
                granted
            } else {
                listed.roles.clone()
            },
            unit: listed.unit.clone(),
            ai_literacy: listed.ai_literacy,
        };
        (
            Cow::Owned(user),
            Conflict {
                roles: beyond,
                other_unit,
                other_training,
            },
        )
    }

    /// Whether `asserted`, a user the register does not list, is given the AI training for a
    /// high-risk system, where the training decides access (AI Act art. 26(2)): the register
    /// cannot vouch for it, so the decision notes it.
    fn training_on_the_callers_word(&self, asserted: &User, ai: &str) -> bool {
        asserted.ai_literacy == Some(true)
            && self.register.user(&asserted.id).is_none()
            && self
                .register
                .ai_system(ai)
                .is_some_and(|ai| ai.ai_act_risk == Some(crate::model::register::AiActRisk::High))
    }

    /// The user as the engine decides about them: the register's user for a registered id,
    /// an inline user as the register knows them (see the query's `user`); `None` for an id the
    /// register does not list.
    pub fn user_as_decided<'u>(&'u self, user: &'u UserRef) -> Option<Cow<'u, User>> {
        match user {
            UserRef::Registered(id) => self.register.user(id).map(Cow::Borrowed),
            UserRef::Inline(asserted) => Some(self.as_registered(asserted).0),
        }
    }

    /// The unit a user is taken to be in: the register's for a user it lists, else the
    /// query's.
    fn unit_of<'q>(&'q self, user: &'q UserRef) -> Option<&'q str> {
        match self.register.user(user.id()) {
            Some(listed) => listed.unit.as_deref(),
            None => match user {
                UserRef::Inline(user) => user.unit.as_deref(),
                UserRef::Registered(_) => None,
            },
        }
    }

    /// The note for an AI system the register does not list, with the closest id it does.
    fn unregistered_ai_note(&self, id: &str) -> String {
        let hint = self
            .ai_names
            .closest(id)
            .map(|known| format!("; did you mean `{known}`?"))
            .unwrap_or_default();
        format!(
            "AI system `{id}` is not in the register, so it is treated as public AI (open information only, U3){hint}"
        )
    }

    fn build_request(
        &self,
        user: Party<'_>,
        ai: Party<'_>,
        query: &Query,
        profile: DataProfile,
        assessments: Standings,
    ) -> Result<PreparedRequest<'_>, String> {
        let action_entity = self
            .names
            .action_entities
            .get(&query.action)
            .ok_or_else(|| format!("no Cedar action for `{}`", query.action))?;
        let context = self
            .contexts
            .get(profile, &query.context, assessments.current_bits())?;
        let request = Request::new(user.uid(), action_entity.uid(), ai.uid(), context, None)
            .map_err(|e| e.to_string())?;
        let entities = match (user, ai) {
            (Party::Registered(_), Party::Registered(_)) => Cow::Borrowed(&self.store),
            (Party::Built(user), Party::Registered(ai)) if self.ai_stores.contains_key(ai) => {
                let store = self.ai_stores.get(ai).cloned().unwrap_or_default();
                Cow::Owned(
                    store
                        .add_entities([*user, action_entity.clone()], None)
                        .map_err(|e| e.to_string())?,
                )
            }
            (user, ai) => {
                let owned = [user, ai]
                    .into_iter()
                    .map(|party| party.into_entity(&self.store))
                    .collect::<Result<Vec<_>, _>>()?;
                Cow::Owned(
                    Entities::from_entities(owned.into_iter().chain([action_entity.clone()]), None)
                        .map_err(|e| e.to_string())?,
                )
            }
        };
        Ok(PreparedRequest {
            request,
            entities,
            action: query.action,
            policies: self.policies_for(query.action),
            roles_beyond_register: Vec::new(),
            notes: Vec::new(),
            request_id: None,
            assessments,
            incident_channel: None,
        })
    }

    /// Asks Cedar and explains its answer. Any evaluation error is a deny.
    pub fn decide_prepared(&self, prepared: &PreparedRequest, language: Language) -> Decision {
        let response =
            self.authorizer
                .is_authorized(&prepared.request, prepared.policies, &prepared.entities);
        let diagnostics = response.diagnostics();
        let mut applied: Vec<usize> = diagnostics
            .reason()
            .filter_map(|id| self.policies.position(id))
            .collect();
        let mut errors: Vec<String> = diagnostics.errors().map(ToString::to_string).collect();
        let mut allowed = response.decision() == cedar_policy::Decision::Allow && errors.is_empty();
        // The register is the authority for its users: a role it does not grant is a deny
        // (reporting an incident, open to anyone, aside).
        let beyond_register =
            !prepared.roles_beyond_register.is_empty() && prepared.action != Action::ReportIncident;
        if beyond_register {
            allowed = false;
        }
        if allowed {
            if let Some(duties) = self.static_duties.get(&prepared.action) {
                applied.extend(duties);
            }
        }
        let conditional_duties = self
            .conditional_duties
            .get(prepared.action)
            .filter(|duties| !duties.is_empty());
        if let (true, Some(conditional_duties)) = (allowed, conditional_duties) {
            // The duties that come with this allow; one that cannot be evaluated fails closed.
            let duties = self.authorizer.is_authorized(
                &prepared.request,
                conditional_duties,
                &prepared.entities,
            );
            let duty_errors: Vec<String> = duties
                .diagnostics()
                .errors()
                .map(ToString::to_string)
                .collect();
            if duty_errors.is_empty() {
                applied.extend(
                    duties
                        .diagnostics()
                        .reason()
                        .filter_map(|id| self.policies.position(id)),
                );
            } else {
                errors.extend(duty_errors);
                allowed = false;
            }
        }
        applied.sort_unstable();
        let explained = applied.iter().filter_map(|&i| self.explained.get(i));
        if allowed {
            return Decision {
                decision: Verdict::Allow,
                reasons: Vec::new(),
                obligations: explained
                    .filter_map(|e| e.obligation.as_ref())
                    .map(|pair| pick(pair, language))
                    .collect(),
                errors,
                notes: prepared.notes.clone(),
                request_id: prepared.request_id.as_deref().map(Into::into),
                incident_channel: match prepared.action {
                    Action::ReportIncident => prepared.incident_channel.clone(),
                    _ => None,
                },
            };
        }
        let mut reasons: Vec<Reason> = Vec::new();
        if beyond_register {
            reasons.push(role_beyond_register_reason(
                &prepared.roles_beyond_register,
                language,
            ));
        }
        let lapsed = lapsed_bits(&prepared.assessments);
        reasons.extend(explained.filter(|e| e.effect == Effect::Forbid).map(|e| {
            match e.reads_assessments & lapsed {
                0 => pick(&e.reason, language),
                bits => with_lapses(
                    pick(&e.reason, language),
                    bits,
                    &prepared.assessments,
                    language,
                ),
            }
        }));
        if !errors.is_empty() {
            reasons.push(fail_closed_reason(language));
        } else if reasons.is_empty() {
            reasons.push(no_permit_reason(language));
        }
        Decision {
            decision: Verdict::Deny,
            reasons,
            obligations: Vec::new(),
            errors,
            notes: prepared.notes.clone(),
            request_id: prepared.request_id.as_deref().map(Into::into),
            incident_channel: prepared.incident_channel.clone(),
        }
    }

    /// Builds one request per action with the schema's check, so that a schema and an engine
    /// that disagree on the context's shape fail at load instead of erroring at decision time.
    fn check_requests_against_the_schema(&self) -> Result<(), LoadError> {
        let user = self
            .names
            .user_entity(&User::new("load-check", []))
            .map_err(|e| LoadError::Internal(e.to_string()))?;
        let ai = self
            .names
            .ai_entity(&AiSystem::unregistered("load-check"), false)?;
        for action in Action::ALL {
            let query = Query::new(UserRef::registered("load-check"), "load-check", ["-"])
                .with_action(action);
            let prepared = self
                .build_request(
                    Party::Built(Box::new(user.clone())),
                    Party::Built(Box::new(ai.clone())),
                    &query,
                    DataProfile::default(),
                    Standings::default(),
                )
                .map_err(LoadError::Internal)?;
            let r = &prepared.request;
            let (Some(p), Some(a), Some(res)) = (r.principal(), r.action(), r.resource()) else {
                return Err(LoadError::Internal(
                    "request without principal, action or resource".into(),
                ));
            };
            let context = r
                .context()
                .cloned()
                .ok_or_else(|| LoadError::Internal("request without context".into()))?;
            Request::new(
                p.clone(),
                a.clone(),
                res.clone(),
                context,
                Some(&self.schema),
            )
            .map_err(|e| {
                schema_problem(format!(
                    "the request aipolicy builds for action `{action}` does not match the Cedar schema: {e}"
                ))
            })?;
        }
        Ok(())
    }
}

/// The assessments that lapsed or are dated after the day, as [`AssessmentKind::bit`]s.
fn lapsed_bits(assessments: &Standings) -> u8 {
    AssessmentKind::ALL
        .into_iter()
        .filter(|kind| assessments.of(*kind).is_explained())
        .fold(0, |bits, kind| bits | kind.bit())
}

/// A reason whose rule reads assessments that lapsed (`bits`), with which and when.
fn with_lapses(
    mut reason: Reason,
    bits: u8,
    assessments: &Standings,
    language: Language,
) -> Reason {
    let mut message = reason.message.to_string();
    for kind in AssessmentKind::ALL {
        if bits & kind.bit() != 0 {
            if let Some(explained) = assessments.of(kind).explain(kind, language) {
                message.push(' ');
                message.push_str(&explained);
            }
        }
    }
    reason.message = message.into();
    reason
}

/// Which assessments a policy reads (`context.current.<kind>`), from its JSON form.
fn assessments_read(json: &serde_json::Value) -> u8 {
    match json {
        serde_json::Value::Array(items) => {
            items.iter().fold(0, |bits, v| bits | assessments_read(v))
        }
        serde_json::Value::Object(map) => {
            let own = map
                .get(".")
                .and_then(|access| {
                    let attr = access.get("attr")?.as_str()?;
                    let record = access.get("left")?.get(".")?;
                    let on_context = record.get("left")?.get("Var")?.as_str()? == "context";
                    (on_context && record.get("attr")?.as_str()? == "current")
                        .then(|| AssessmentKind::from_key(attr))
                        .flatten()
                })
                .map_or(0, AssessmentKind::bit);
            map.values().fold(own, |bits, v| bits | assessments_read(v))
        }
        _ => 0,
    }
}

/// A schema that does not declare what aipolicy builds: the user's mistake (a schema written
/// for other policies), not a bug, so it is a schema error with advice.
fn schema_problem(message: String) -> LoadError {
    LoadError::Schema(vec![SourceDiagnostic::new(
        "the Cedar schema",
        std::sync::Arc::from(""),
        0.into(),
        message,
        Some(
            "the schema must declare the entities, attributes, actions and context aipolicy \
             builds; `aipolicy schema cedar` prints the embedded one"
                .into(),
        ),
    )])
}

/// The policies per action, found once at load (see [`crate::engine::slices`]).
struct Sliced {
    /// The policies that decide, per action.
    decisions: ActionSlices,
    /// The duties with a condition (or a principal or resource scope), per action.
    conditional_duties: ActionSlices,
    /// Per action, the positions of the duties that apply to every request for it: those
    /// without a condition and with any principal and resource, whose action scope admits it.
    whole_action_duties: HashMap<Action, Vec<usize>>,
}

/// Slices the policies and the duties by action.
fn slice_by_action(
    policies: &Policies,
    names: &CedarNames,
    store: &Entities,
    with_json: &[(cedar_policy::Policy, Option<serde_json::Value>)],
) -> Result<Sliced, LoadError> {
    let action_uids: Vec<(Action, EntityUid)> = names
        .action_entities
        .iter()
        .map(|(action, entity)| (*action, entity.uid()))
        .collect();
    let (in_set, duties) = with_json.split_at(policies.set().policies().count());
    let decisions =
        ActionSlices::new(in_set, action_uids.clone(), store).map_err(LoadError::Internal)?;
    let (whole_action, conditional): (Vec<_>, Vec<_>) =
        duties.iter().cloned().partition(|(duty, _)| {
            !duty.has_non_scope_constraint()
                && matches!(duty.principal_constraint(), PrincipalConstraint::Any)
                && matches!(duty.resource_constraint(), ResourceConstraint::Any)
        });
    let conditional_duties =
        ActionSlices::new(&conditional, action_uids.clone(), store).map_err(LoadError::Internal)?;
    // A duty without a condition applies to every request its action scope admits: its slice.
    let whole_action_slices = ActionSlices::new(&whole_action, action_uids.clone(), store)
        .map_err(LoadError::Internal)?;
    let whole_action_duties = action_uids
        .iter()
        .map(|(action, _)| {
            let positions = whole_action_slices
                .get(*action)
                .into_iter()
                .flat_map(|slice| slice.policies())
                .filter_map(|duty| policies.position(duty.id()))
                .collect();
            (*action, positions)
        })
        .collect();
    Ok(Sliced {
        decisions,
        conditional_duties,
        whole_action_duties,
    })
}

/// What a query asserted about a user that the register, the authority, does not grant.
#[derive(Debug, Default)]
struct Conflict<'u> {
    /// Roles the register does not give the user.
    roles: Vec<Role>,
    /// A unit other than the register's.
    other_unit: Option<&'u str>,
    /// An AI training (`aiLiteracy`) other than the register's.
    other_training: Option<bool>,
}

/// What a decision key is made from and a request prepared from alike: found once per query
/// on the memoized path ([`Engine::decide_remembered`]).
struct Resolved<'q> {
    /// An inline user as the register knows them (with no conflict: a key is made only then).
    inline: Option<Cow<'q, User>>,
    /// The strictest profile of the query's data classes.
    profile: DataProfile,
    /// How the AI system's assessments stand on the day.
    assessments: Standings,
}

impl Conflict<'_> {
    fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.other_unit.is_none() && self.other_training.is_none()
    }
}

/// The user or the AI system of a request: one of the register (in the engine's store), or one
/// built for this request (an inline user, an AI system not in the register).
enum Party<'a> {
    Registered(&'a EntityUid),
    Built(Box<Entity>),
}

impl Party<'_> {
    fn uid(&self) -> EntityUid {
        match self {
            Party::Registered(uid) => (*uid).clone(),
            Party::Built(entity) => entity.uid(),
        }
    }

    fn into_entity(self, store: &Entities) -> Result<Entity, String> {
        match self {
            Party::Built(entity) => Ok(*entity),
            Party::Registered(uid) => store
                .get(uid)
                .cloned()
                .ok_or_else(|| format!("`{uid}` is missing from the engine's store")),
        }
    }
}

impl CedarNames {
    fn new(schema: &Schema) -> Result<CedarNames, LoadError> {
        let name =
            |s: &str| EntityTypeName::from_str(s).map_err(|e| LoadError::Internal(e.to_string()));
        let action_type = name("Action")?;
        let actions = Action::ALL
            .into_iter()
            .map(|a| {
                (
                    a,
                    EntityUid::from_type_name_and_id(
                        action_type.clone(),
                        EntityId::new(a.as_str()),
                    ),
                )
            })
            .collect::<HashMap<_, _>>();
        let declared = schema
            .action_entities()
            .map_err(|e| schema_problem(format!("the schema's actions cannot be read: {e}")))?;
        let mut action_entities = HashMap::new();
        for (action, uid) in &actions {
            let entity = declared.get(uid).cloned().ok_or_else(|| {
                schema_problem(format!("the Cedar schema declares no action `{action}`"))
            })?;
            action_entities.insert(*action, entity);
        }
        Ok(CedarNames {
            user: name("User")?,
            role: name("Role")?,
            ai: name("AiSystem")?,
            action_entities,
        })
    }

    /// Per set of roles and AI training (indexed by [`user_bits`]), a user with exactly those,
    /// whose id no register user can have (register ids are letters, digits, `.`, `_` and `-`).
    fn role_representatives(&self) -> Result<Vec<Entity>, LoadError> {
        let trained_bit = 1 << Role::ALL.len();
        (0..USER_CLASSES)
            .map(|bits| {
                let roles: Vec<Role> = Role::ALL
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| bits & (1 << i) != 0)
                    .map(|(_, role)| role)
                    .collect();
                let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                let trained = bits & trained_bit != 0;
                let mut user = User::new(
                    format!(
                        "(any user with roles: {}{})",
                        names.join(" "),
                        if trained { "; trained" } else { "" }
                    ),
                    roles,
                );
                user.ai_literacy = Some(trained);
                let entity = self.user_entity(&user)?;
                debug_assert_eq!(usize::from(user_bits(&user)), bits);
                Ok(entity)
            })
            .collect()
    }

    fn role_uid(&self, role: crate::model::register::Role) -> EntityUid {
        EntityUid::from_type_name_and_id(self.role.clone(), EntityId::new(role.as_str()))
    }

    fn user_entity(&self, user: &User) -> Result<Entity, LoadError> {
        let uid = EntityUid::from_type_name_and_id(self.user.clone(), EntityId::new(&user.id));
        let mut attrs = HashMap::new();
        if let Some(unit) = &user.unit {
            attrs.insert(
                "unit".to_string(),
                RestrictedExpression::new_string(unit.clone()),
            );
        }
        // Not known counts as not trained: the AI Act's duties then apply (art. 4, 26(2)).
        attrs.insert(
            "aiLiteracy".to_string(),
            RestrictedExpression::new_bool(user.ai_literacy.unwrap_or(false)),
        );
        let parents: HashSet<EntityUid> = user.roles.iter().map(|&r| self.role_uid(r)).collect();
        Entity::new(uid, attrs, parents).map_err(|e| LoadError::Internal(e.to_string()))
    }

    fn ai_entity(&self, ai: &AiSystem, registered: bool) -> Result<Entity, LoadError> {
        use crate::model::attributes::{Value, AI_SYSTEM};
        let uid = EntityUid::from_type_name_and_id(self.ai.clone(), EntityId::new(&ai.id));
        let mut attrs: HashMap<String, RestrictedExpression> = HashMap::with_capacity(16);
        attrs.insert(
            "registered".to_string(),
            RestrictedExpression::new_bool(registered),
        );
        for attribute in AI_SYSTEM {
            let Some(value) = (attribute.read)(ai) else {
                continue;
            };
            let expression = match value {
                Value::Bool(b) => RestrictedExpression::new_bool(b),
                Value::Long(n) => RestrictedExpression::new_long(n),
                Value::String(s) => RestrictedExpression::new_string(s),
                Value::Roles(roles) => RestrictedExpression::new_set(
                    roles
                        .into_iter()
                        .map(|r| RestrictedExpression::new_entity_uid(self.role_uid(r))),
                ),
            };
            attrs.insert(attribute.name.to_string(), expression);
        }
        Entity::new(uid, attrs, HashSet::new()).map_err(|e| LoadError::Internal(e.to_string()))
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
