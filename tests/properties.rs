//! Property tests over random registers and queries:
//!
//! - the engine's decision is Cedar's own decision on the same request, built here
//!   independently in Cedar's JSON formats (not with the engine's `prepare`): the verdict, the
//!   deny reasons (exactly the forbids Cedar found satisfied) and the duties of an allow
//!   (exactly the satisfied permits that carry an obligation, and the satisfied duties);
//! - a decision remembered in a `DecisionMemo` (shared by users with the same roles) is the
//!   decision;
//! - adding data classes to a query never turns a deny into an allow;
//! - an input error is never an allow: a query with any invalid part is an `Err`, never a
//!   decision;
//! - reporting an incident is always allowed, for any user, AI system and valid data;
//! - an inline user never gets more than the registered user with that id (the register is
//!   the authority for the users it lists);
//! - what holds of the dated assessments on a query's day is computed here independently
//!   (made ≤ day ≤ made + months), so the comparison with Cedar covers lapses too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::BTreeSet;
use std::sync::OnceLock;

use aipolicy::assessments::AssessmentValidity;
use aipolicy::clock::{parse_date, Clock, Date};
use aipolicy::policies::bundled_schema;
use aipolicy::{
    Action, AiActRisk, AiSystem, Assessment, AssessmentKind, Context, DataClass, Decision,
    DecisionMemo, Engine, Hosting, Language, PersonalData, Policies, Query, Register, Role, Status,
    ThirdCountryTransfer, User, UserRef, Verdict,
};
use cedar_policy::{
    Authorizer, Context as CedarContext, Effect, Entities, EntityUid, PolicySet, Request, Response,
    Schema,
};
use proptest::prelude::*;
use proptest::sample::{subsequence, Index};
use serde_json::{json, Value};

/// Policies and schema, parsed once; each register gets an engine of clones.
fn parts() -> &'static (Policies, Schema) {
    static PARTS: OnceLock<(Policies, Schema)> = OnceLock::new();
    PARTS.get_or_init(|| {
        (
            Policies::bundled().expect("bundled policies"),
            bundled_schema().expect("bundled schema"),
        )
    })
}

/// The day the engines' clock tells; queries often ask for another (`at`).
fn today() -> Date {
    parse_date("2026-12-07").unwrap()
}

fn engine_for(register: Register) -> Engine {
    let (policies, schema) = parts();
    Engine::new(policies.clone(), schema.clone(), register)
        .expect("the engine loads")
        .with_clock(Clock::fixed(today()))
}

/// A day `offset` days from [`today`].
fn day(offset: i64) -> Date {
    today().checked_add(jiff::Span::new().days(offset)).unwrap()
}

/// An assessment as the register records it: mostly done, often dated within two years around
/// [`today`], so that a query's day falls before, within and after its window.
fn assessment() -> impl Strategy<Value = Assessment> {
    prop_oneof![
        1 => Just(Assessment::NotDone),
        3 => Just(Assessment::Undated),
        6 => (-800i64..=60).prop_map(|offset| Assessment::Made(day(offset))),
    ]
}

/// A system's own validity for each kind, sometimes.
fn validity() -> impl Strategy<Value = Option<AssessmentValidity>> {
    proptest::option::weighted(
        0.3,
        proptest::array::uniform5(proptest::option::weighted(0.5, 1u16..=36)).prop_map(|m| {
            AssessmentValidity {
                verified: m[0],
                fairness_assessed: m[1],
                accessibility_reviewed: m[2],
                fria: m[3],
                dpia: m[4],
            }
        }),
    )
}

// ------------------------------------------------------------------------------------------
// Random registers and queries
// ------------------------------------------------------------------------------------------

/// The id an AI system gets when it is not in the register (never a register id here).
const PUBLIC_AI: &str = "unregistered-ai";

/// Any subset of the roles, all three more often than not (so that allows are common).
fn roles() -> impl Strategy<Value = Vec<Role>> {
    prop_oneof![
        1 => Just(Role::ALL.to_vec()),
        1 => subsequence(Role::ALL.to_vec(), 0..=3),
    ]
}

/// Mostly true: the generated systems and contexts meet most requirements, so that allows
/// (and denies for a single reason) are frequent.
fn mostly() -> proptest::bool::Weighted {
    proptest::bool::weighted(0.93)
}

fn level() -> impl Strategy<Value = u8> {
    prop_oneof![4 => 0u8..=1, 3 => 2u8..=3, 1 => Just(4u8)]
}

fn data_class(i: usize) -> impl Strategy<Value = DataClass> {
    let personal_data = prop_oneof![
        3 => Just(PersonalData::None),
        1 => Just(PersonalData::Ordinary),
        1 => Just(PersonalData::Sensitive),
    ];
    let units = prop_oneof![
        6 => Just(None),
        1 => Just(Some(vec!["Enhet".to_string()])),
        1 => Just(Some(vec!["Annan".to_string(), "Inline".to_string()])),
    ];
    (
        level(),
        personal_data,
        proptest::bool::weighted(0.25),
        units,
    )
        .prop_map(move |(level, personal_data, secrecy, units)| DataClass {
            id: format!("c{i}"),
            name: format!("Class {i}"),
            level,
            personal_data,
            secrecy,
            units,
            finds: Vec::new(),
            patterns: Vec::new(),
            words: Vec::new(),
            description: None,
        })
}

fn ai_system(i: usize) -> impl Strategy<Value = AiSystem> {
    (
        proptest::bool::weighted(0.1),
        proptest::bool::weighted(0.1),
        proptest::array::uniform10(mostly()),
        proptest::option::weighted(
            0.85,
            prop_oneof![Just("IT-chef".to_string()), Just("x".to_string())],
        ),
        prop_oneof![1 => 0u8..=2, 2 => 3u8..=4],
        prop_oneof![
            1 => Just(PersonalData::None),
            1 => Just(PersonalData::Ordinary),
            3 => Just(PersonalData::Sensitive),
        ],
        roles(),
        law(),
        (
            proptest::array::uniform5(assessment()),
            validity(),
            proptest::option::weighted(0.85, Just("EUDB-1".to_string())),
            proptest::option::weighted(0.8, Just("Nämnden".to_string())),
        ),
    )
        .prop_map(
            move |(
                public,
                suspended,
                b,
                owner,
                max_data_level,
                personal_data,
                user_groups,
                law,
                (assessments, assessment_validity, eu_database_id, contest_route),
            )| {
                let (ai_act_risk, done, processor, third_country_transfer) = law;
                AiSystem {
                    id: format!("a{i}"),
                    name: format!("AI {i}"),
                    hosting: if public {
                        Hosting::Public
                    } else {
                        Hosting::Internal
                    },
                    approved: b[0],
                    status: if suspended {
                        Status::Suspended
                    } else {
                        Status::Active
                    },
                    owner,
                    verified: assessments[0],
                    max_data_level,
                    personal_data,
                    secrecy: b[2],
                    user_groups,
                    decision_support: b[3],
                    fairness_assessed: assessments[1],
                    resident_facing: b[5],
                    transparency_notice: b[6],
                    accessibility_reviewed: assessments[2],
                    ai_act_risk,
                    fria: assessments[3],
                    dpia: assessments[4],
                    interaction_disclosure: done[2],
                    processor,
                    processor_agreement: done[3],
                    third_country_transfer,
                    technical_processing_only: done[4],
                    eu_database_id,
                    contest_route,
                    incident_channel: b[1].then(|| "Kanal".to_string()),
                    assessment_validity,
                    endpoint: None,
                    models: Vec::new(),
                    credential: None,
                    description: b[8].then(|| "d".to_string()),
                }
            },
        )
}

/// The register keys of the law rules: a classification (mostly given), the assessments and
/// agreements done (mostly), a processor (often) and where it takes personal data.
type LawKeys = (
    Option<AiActRisk>,
    [bool; 5],
    Option<String>,
    Option<ThirdCountryTransfer>,
);

fn law() -> impl Strategy<Value = LawKeys> {
    (
        proptest::option::weighted(0.85, proptest::sample::select(AiActRisk::ALL.to_vec())),
        proptest::array::uniform5(mostly()),
        proptest::option::weighted(0.5, Just("Leverantör AB".to_string())),
        proptest::option::weighted(
            0.85,
            proptest::sample::select(ThirdCountryTransfer::ALL.to_vec()),
        ),
    )
}

fn user(i: usize) -> impl Strategy<Value = User> {
    (
        roles(),
        proptest::option::of(Just("Enhet".to_string())),
        proptest::option::of(mostly()),
    )
        .prop_map(move |(roles, unit, ai_literacy)| User {
            id: format!("u{i}"),
            roles,
            unit,
            ai_literacy,
        })
}

/// Strategies for the `i`-th element of a list of 1..=max (0..=max for `min` 0).
fn list<T: std::fmt::Debug, S: Strategy<Value = T>>(
    min: usize,
    max: usize,
    element: fn(usize) -> S,
) -> impl Strategy<Value = Vec<T>> {
    (min..=max).prop_flat_map(move |n| (0..n).map(element).collect::<Vec<_>>())
}

#[derive(Debug, Clone)]
struct Spec {
    data_classes: Vec<DataClass>,
    ai_systems: Vec<AiSystem>,
    users: Vec<User>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        list(1, 4, data_class),
        prop_oneof![1 => list(0, 0, ai_system), 6 => list(1, 4, ai_system)],
        list(0, 3, user),
    )
        .prop_map(|(data_classes, ai_systems, users)| Spec {
            data_classes,
            ai_systems,
            users,
        })
}

impl Spec {
    fn register(&self) -> Register {
        Register::new(
            Some("Propby".to_string()),
            self.data_classes.clone(),
            self.ai_systems.clone(),
            self.users.clone(),
        )
        .expect("a generated register is valid")
    }
}

/// A query, by choices to resolve against a register.
#[derive(Debug, Clone)]
struct QuerySpec {
    /// `Some(i)`: the register's user `i` (when it has users); `None`: an inline user.
    registered_user: Option<Index>,
    /// For an inline user, `Some(i)`: the id of the register's user `i` (when it has users).
    inline_as: Option<Index>,
    inline_roles: Vec<Role>,
    inline_unit: Option<String>,
    inline_training: Option<bool>,
    /// `Some(i)`: the register's AI system `i` (when it has any); `None`: one not in it.
    registered_ai: Option<Index>,
    data: Vec<Index>,
    action: Action,
    flags: [bool; 7],
    /// `Some(offset)`: the query's `at`, that many days from [`today`].
    at: Option<i64>,
}

fn action() -> impl Strategy<Value = Action> {
    proptest::sample::select(Action::ALL.to_vec())
}

fn query_spec(min_data: usize) -> impl Strategy<Value = QuerySpec> {
    (
        proptest::option::of(any::<Index>()),
        proptest::option::weighted(0.3, any::<Index>()),
        roles(),
        (
            proptest::option::of(Just("Inline".to_string())),
            proptest::option::of(mostly()),
        ),
        proptest::option::weighted(0.85, any::<Index>()),
        proptest::collection::vec(any::<Index>(), min_data..=3),
        (action(), proptest::option::weighted(0.4, -900i64..=900)),
        proptest::array::uniform7(mostly()),
    )
        .prop_map(
            |(
                registered_user,
                inline_as,
                inline_roles,
                (inline_unit, inline_training),
                registered_ai,
                data,
                (action, at),
                flags,
            )| {
                QuerySpec {
                    registered_user,
                    inline_as,
                    inline_roles,
                    inline_unit,
                    inline_training,
                    registered_ai,
                    data,
                    action,
                    flags,
                    at,
                }
            },
        )
}

impl QuerySpec {
    /// The user the query names: registered when asked for and possible, else inline.
    fn user<'a>(&self, spec: &'a Spec) -> Result<&'a User, User> {
        match &self.registered_user {
            Some(i) if !spec.users.is_empty() => Ok(i.get(&spec.users)),
            _ => Err(User {
                id: match &self.inline_as {
                    Some(i) if !spec.users.is_empty() => i.get(&spec.users).id.clone(),
                    _ => "inline".to_string(),
                },
                roles: self.inline_roles.clone(),
                unit: self.inline_unit.clone(),
                ai_literacy: self.inline_training,
            }),
        }
    }

    /// The user as the register is the authority for it: an inline user whose id the register
    /// lists has the roles both grant and the register's unit. With the roles asserted beyond.
    fn effective_user(&self, spec: &Spec) -> (User, Vec<Role>) {
        match self.user(spec) {
            Ok(user) => (user.clone(), Vec::new()),
            Err(inline) => match spec.users.iter().find(|u| u.id == inline.id) {
                None => (inline, Vec::new()),
                Some(listed) => {
                    let (granted, beyond): (Vec<Role>, Vec<Role>) =
                        inline.roles.iter().partition(|r| listed.roles.contains(r));
                    // With a role beyond the register, the deny names it and its other reasons
                    // are those of the user the register knows, with every role it grants.
                    let roles = if beyond.is_empty() {
                        granted
                    } else {
                        listed.roles.clone()
                    };
                    let user = User {
                        id: listed.id.clone(),
                        roles,
                        unit: listed.unit.clone(),
                        ai_literacy: listed.ai_literacy,
                    };
                    (user, beyond)
                }
            },
        }
    }

    fn ai<'a>(&self, spec: &'a Spec) -> Option<&'a AiSystem> {
        match &self.registered_ai {
            Some(i) if !spec.ai_systems.is_empty() => Some(i.get(&spec.ai_systems)),
            _ => None,
        }
    }

    fn classes<'a>(&self, spec: &'a Spec) -> Vec<&'a DataClass> {
        self.data
            .iter()
            .map(|i| i.get(&spec.data_classes))
            .collect()
    }

    fn query(&self, spec: &Spec) -> Query {
        let user = match self.user(spec) {
            Ok(user) => UserRef::registered(user.id.clone()),
            Err(inline) => UserRef::Inline(inline),
        };
        let ai = self
            .ai(spec)
            .map_or(PUBLIC_AI.to_string(), |a| a.id.clone());
        let mut query = Query::new(
            user,
            ai,
            self.classes(spec).into_iter().map(|c| c.id.clone()),
        )
        .with_action(self.action);
        for (key, value) in Context::KEYS.into_iter().zip(self.flags) {
            query = query.with_context(key, value).unwrap();
        }
        match self.at {
            Some(offset) => query.on_day(day(offset)),
            None => query,
        }
    }

    /// The day of the decision.
    fn day(&self) -> Date {
        self.at.map_or_else(today, day)
    }
}

// ------------------------------------------------------------------------------------------
// Cedar's own decision, built independently of the engine
// ------------------------------------------------------------------------------------------

fn rank(p: PersonalData) -> i64 {
    match p {
        PersonalData::None => 0,
        PersonalData::Ordinary => 1,
        PersonalData::Sensitive => 2,
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Employee => "employee",
        Role::Contractor => "contractor",
        Role::Elected => "elected",
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Use => "use",
        Action::Decide => "decide",
        Action::Publish => "publish",
        Action::SendToResident => "sendToResident",
        Action::OfferToResidents => "offerToResidents",
        Action::Develop => "develop",
        Action::ReportIncident => "reportIncident",
    }
}

fn role_refs(roles: &[Role]) -> Value {
    Value::Array(
        roles
            .iter()
            .map(|&r| json!({"type": "Role", "id": role_name(r)}))
            .collect(),
    )
}

/// The user entity, per schemas/aipolicy.cedarschema:
/// `User in [Role] { unit?: String, aiLiteracy: Bool }` (not known: false).
fn user_json(user: &User) -> Value {
    let mut attrs = serde_json::Map::new();
    if let Some(unit) = &user.unit {
        attrs.insert("unit".into(), json!(unit));
    }
    attrs.insert("aiLiteracy".into(), json!(user.ai_literacy == Some(true)));
    json!({
        "uid": {"type": "User", "id": user.id},
        "attrs": attrs,
        "parents": role_refs(&user.roles),
    })
}

/// The AI system entity: the register's attributes, or public AI when it is not registered.
fn ai_json(ai: Option<&AiSystem>) -> Value {
    let Some(ai) = ai else {
        return json!({
            "uid": {"type": "AiSystem", "id": PUBLIC_AI},
            "attrs": {
                "registered": false, "hosting": "public", "approved": false, "status": "active",
                "maxDataLevel": 0, "personalData": 0, "secrecy": false,
                "userGroups": role_refs(&Role::ALL),
                "decisionSupport": false, "residentFacing": false,
                "transparencyNotice": false, "interactionDisclosure": false,
                "processorAgreement": false, "technicalProcessingOnly": false,
            },
            "parents": [],
        });
    };
    let mut attrs = json!({
        "registered": true,
        "hosting": match ai.hosting { Hosting::Public => "public", Hosting::Internal => "internal" },
        "approved": ai.approved,
        "status": match ai.status { Status::Active => "active", Status::Suspended => "suspended" },
        "maxDataLevel": ai.max_data_level,
        "personalData": rank(ai.personal_data),
        "secrecy": ai.secrecy,
        "userGroups": role_refs(&ai.user_groups),
        "decisionSupport": ai.decision_support,
        "residentFacing": ai.resident_facing,
        "transparencyNotice": ai.transparency_notice,
        "interactionDisclosure": ai.interaction_disclosure,
        "processorAgreement": ai.processor_agreement,
        "technicalProcessingOnly": ai.technical_processing_only,
    });
    if let Some(owner) = &ai.owner {
        attrs["owner"] = json!(owner);
    }
    if let Some(risk) = ai.ai_act_risk {
        attrs["aiActRisk"] = json!(match risk {
            AiActRisk::Prohibited => "prohibited",
            AiActRisk::High => "high",
            AiActRisk::Limited => "limited",
            AiActRisk::Minimal => "minimal",
        });
    }
    if let Some(processor) = &ai.processor {
        attrs["processor"] = json!(processor);
    }
    if let Some(transfer) = ai.third_country_transfer {
        attrs["thirdCountryTransfer"] = json!(match transfer {
            ThirdCountryTransfer::None => "none",
            ThirdCountryTransfer::Adequacy => "adequacy",
            ThirdCountryTransfer::Safeguards => "safeguards",
            ThirdCountryTransfer::Unprotected => "unprotected",
        });
    }
    if let Some(id) = &ai.eu_database_id {
        attrs["euDatabaseId"] = json!(id);
    }
    if let Some(route) = &ai.contest_route {
        attrs["contestRoute"] = json!(route);
    }
    json!({"uid": {"type": "AiSystem", "id": ai.id}, "attrs": attrs, "parents": []})
}

/// Whether an assessment holds on `day`: undated always, dated from the day it was made
/// through the same day `months` later (the end of a shorter month for the 29th–31st).
fn holds(assessment: Assessment, months: u16, day: Date) -> bool {
    match assessment {
        Assessment::NotDone => false,
        Assessment::Undated => true,
        Assessment::Made(made) => {
            let lapses = made.checked_add(jiff::Span::new().months(months)).unwrap();
            made <= day && day <= lapses
        }
    }
}

/// `context.current`: which of the AI system's assessments hold on `day` (none for an AI
/// system not in the register).
fn current_json(ai: Option<&AiSystem>, day: Date) -> Value {
    let mut current = serde_json::Map::new();
    for kind in AssessmentKind::ALL {
        let held = ai.is_some_and(|ai| {
            let months = ai
                .assessment_validity
                .and_then(|v| v.months(kind))
                .unwrap_or_else(|| kind.default_months());
            holds(ai.assessment(kind), months, day)
        });
        current.insert(kind.key().to_string(), json!(held));
    }
    Value::Object(current)
}

/// The context record: the strictest profile of the classes, and all seven flags.
fn context_json(
    classes: &[&DataClass],
    unit: Option<&str>,
    flags: [bool; 7],
    current: Value,
) -> Value {
    let data = json!({
        "named": !classes.is_empty(),
        "level": classes.iter().map(|c| i64::from(c.level)).max().unwrap_or(0),
        "personalData": classes.iter().map(|c| rank(c.personal_data)).max().unwrap_or(0),
        "secrecy": classes.iter().any(|c| c.secrecy),
        "withinUnits": classes.iter().all(|c| match (&c.units, unit) {
            (None, _) => true,
            (Some(units), Some(unit)) => units.iter().any(|u| u == unit),
            (Some(_), None) => false,
        }),
    });
    let mut context = json!({"data": data, "current": current});
    for (key, value) in [
        "humanReview",
        "humanReviewed",
        "aiDisclosure",
        "securityReview",
        "itSecurityReview",
        "dataProtectionReview",
        "valuesReview",
    ]
    .into_iter()
    .zip(flags)
    {
        context[key] = json!(value);
    }
    context
}

struct CedarAnswer {
    response: Response,
    duties: Response,
}

fn uid(json: Value) -> EntityUid {
    EntityUid::from_json(json).unwrap()
}

fn ask_cedar(engine: &Engine, spec: &Spec, q: &QuerySpec) -> CedarAnswer {
    let schema = &parts().1;
    let (user, _) = q.effective_user(spec);
    let ai = q.ai(spec);
    let user_entity = user_json(&user);
    let ai_entity = ai_json(ai);
    let principal = uid(user_entity["uid"].clone());
    let resource = uid(ai_entity["uid"].clone());
    // With a schema, Cedar adds the schema's action entities (with `use in anyUse` and so on).
    let entities =
        Entities::from_json_value(json!([user_entity, ai_entity]), Some(schema)).unwrap();
    let action = uid(json!({"type": "Action", "id": action_name(q.action)}));
    assert!(
        entities.get(&action).is_some(),
        "the schema's action entities are there"
    );
    let context = CedarContext::from_json_value(
        context_json(
            &q.classes(spec),
            user.unit.as_deref(),
            q.flags,
            current_json(ai, q.day()),
        ),
        Some((schema, &action)),
    )
    .unwrap();
    let request = Request::new(principal, action, resource, context, Some(schema)).unwrap();
    let authorizer = Authorizer::new();
    let policies: &PolicySet = engine.policies().set();
    CedarAnswer {
        response: authorizer.is_authorized(&request, policies, &entities),
        duties: authorizer.is_authorized(&request, engine.policies().duties(), &entities),
    }
}

fn ids(reasons: &[aipolicy::Reason]) -> BTreeSet<String> {
    reasons.iter().map(|r| r.policy.to_string()).collect()
}

/// The engine's decision is Cedar's: verdict, deny reasons, and the duties of an allow.
fn check_against_cedar(engine: &Engine, spec: &Spec, q: &QuerySpec) -> Result<(), TestCaseError> {
    let query = q.query(spec);
    let decided = engine.decide_in(&query, Language::En);
    if query.data.is_empty() && query.action.requires_data() {
        prop_assert!(decided.is_err(), "missing data is an input error");
        return Ok(());
    }
    let decision = decided.map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let cedar = ask_cedar(engine, spec, q);
    let errors: Vec<String> = cedar
        .response
        .diagnostics()
        .errors()
        .map(ToString::to_string)
        .collect();
    prop_assert!(errors.is_empty(), "Cedar evaluated cleanly: {errors:?}");
    prop_assert!(decision.errors.is_empty(), "{decision:?}");
    let set = engine.policies().set();
    let satisfied = |effect: Effect| -> BTreeSet<String> {
        cedar
            .response
            .diagnostics()
            .reason()
            .filter(|id| set.policy(id).is_some_and(|p| p.effect() == effect))
            .map(ToString::to_string)
            .collect()
    };
    let (_, beyond) = q.effective_user(spec);
    if !beyond.is_empty() && q.action != Action::ReportIncident {
        // A role the register does not grant: a deny that names it, beside Cedar's forbids.
        prop_assert_eq!(decision.decision, Verdict::Deny, "{:?}", decision);
        let mut expected = satisfied(Effect::Forbid);
        expected.insert(aipolicy::decision::ROLE_BEYOND_REGISTER_POLICY.to_string());
        prop_assert_eq!(ids(&decision.reasons), expected);
        return Ok(());
    }
    match cedar.response.decision() {
        cedar_policy::Decision::Allow => {
            prop_assert_eq!(decision.decision, Verdict::Allow, "{:?}", decision);
            prop_assert!(decision.reasons.is_empty());
            let mut duties: BTreeSet<String> = satisfied(Effect::Permit)
                .into_iter()
                .filter(|id| {
                    let policy = set.policy(&cedar_policy::PolicyId::new(id)).unwrap();
                    policy.annotation("obligation_sv").is_some()
                        && policy.annotation("obligation_en").is_some()
                })
                .collect();
            duties.extend(cedar.duties.diagnostics().reason().map(ToString::to_string));
            prop_assert!(!duties.is_empty(), "every allow carries a duty");
            prop_assert_eq!(ids(&decision.obligations), duties);
        }
        cedar_policy::Decision::Deny => {
            prop_assert_eq!(decision.decision, Verdict::Deny, "{:?}", decision);
            prop_assert!(decision.obligations.is_empty());
            let forbids = satisfied(Effect::Forbid);
            if forbids.is_empty() {
                prop_assert_eq!(
                    ids(&decision.reasons),
                    BTreeSet::from([aipolicy::decision::NO_PERMIT_POLICY.to_string()])
                );
            } else {
                prop_assert_eq!(ids(&decision.reasons), forbids);
            }
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_engine_decides_as_cedar_does(
        spec in spec(),
        queries in proptest::collection::vec(query_spec(0), 1..=8),
    ) {
        let engine = engine_for(spec.register());
        for q in &queries {
            check_against_cedar(&engine, &spec, q)?;
        }
    }

    #[test]
    fn a_remembered_decision_is_the_decision(
        spec in spec(),
        queries in proptest::collection::vec(query_spec(0), 1..=16),
    ) {
        // Users with the same roles share memo entries: any difference the policies could see
        // between them would show here as a remembered decision that is not the decision.
        let engine = engine_for(spec.register());
        let memo = DecisionMemo::new(64);
        for q in queries.iter().chain(&queries) {
            let query = q.query(&spec);
            let direct = engine.decide(&query);
            let remembered = engine.decide_memoized(&query, engine.language(), &memo);
            prop_assert_eq!(remembered, direct, "{:?}", q);
        }
        prop_assert!(!memo.is_empty() || queries.iter().all(|q| engine.decision_key(&q.query(&spec), engine.language()).is_none()));
    }

    #[test]
    fn adding_data_classes_never_turns_a_deny_into_an_allow(
        spec in spec(),
        queries in proptest::collection::vec(
            (query_spec(1), proptest::collection::vec(any::<Index>(), 1..=3)),
            1..=8,
        ),
    ) {
        let engine = engine_for(spec.register());
        for (q, more) in &queries {
            let before = engine.decide(&q.query(&spec)).unwrap();
            let mut wider = q.clone();
            wider.data.extend(more.iter().cloned());
            let after = engine.decide(&wider.query(&spec)).unwrap();
            if before.decision == Verdict::Deny {
                prop_assert_eq!(after.decision, Verdict::Deny, "{:?} then {:?}", q, wider);
                // The profile only gets stricter, so every requirement that failed still fails.
                let (b, a) = (ids(&before.reasons), ids(&after.reasons));
                prop_assert!(
                    b.is_subset(&a) || b.contains(aipolicy::decision::NO_PERMIT_POLICY),
                    "reasons {:?} became {:?}", b, a
                );
            }
        }
    }

    #[test]
    fn an_inline_user_never_gets_more_than_the_registered_user(
        spec in spec(),
        queries in proptest::collection::vec((query_spec(0), any::<Index>()), 1..=8),
    ) {
        prop_assume!(!spec.users.is_empty());
        let engine = engine_for(spec.register());
        for (q, who) in &queries {
            let mut registered = q.clone();
            registered.registered_user = Some(*who);
            let listed = registered.user(&spec).unwrap().clone();
            let mut inline = q.clone();
            inline.registered_user = None;
            let inline_query = Query {
                user: UserRef::Inline(User { id: listed.id.clone(), ..inline.user(&spec).unwrap_err() }),
                ..inline.query(&spec)
            };
            let as_inline = engine.decide(&inline_query);
            let as_registered = engine.decide(&registered.query(&spec));
            match (as_inline, as_registered) {
                (Ok(i), Ok(r)) => prop_assert!(
                    !i.is_allowed() || r.is_allowed(),
                    "inline {:?} allowed where the registered user is denied: {:?} vs {:?}", inline_query, i, r
                ),
                (Ok(i), Err(_)) => prop_assert!(!i.is_allowed(), "{:?}", i),
                (Err(_), _) => {}
            }
        }
    }

    #[test]
    fn reporting_an_incident_is_always_allowed(
        spec in spec(),
        queries in proptest::collection::vec(query_spec(0), 1..=8),
    ) {
        let engine = engine_for(spec.register());
        for q in &queries {
            let mut q = q.clone();
            q.action = Action::ReportIncident;
            let decision: Decision = engine.decide(&q.query(&spec)).unwrap();
            prop_assert!(decision.is_allowed(), "{:?}: {:?}", q, decision);
        }
    }
}

// ------------------------------------------------------------------------------------------
// An input error is never an allow
// ------------------------------------------------------------------------------------------

/// A value for one field of a query: valid, or not (with the reason it is not).
#[derive(Debug, Clone)]
struct Field {
    value: Option<Value>,
    valid: bool,
}

fn field(valid: Vec<Value>, invalid: Vec<Value>, optional: bool) -> impl Strategy<Value = Field> {
    let good = proptest::sample::select(valid).prop_map(|v| Field {
        value: Some(v),
        valid: true,
    });
    let bad = proptest::sample::select(invalid).prop_map(|v| Field {
        value: Some(v),
        valid: false,
    });
    let absent = Just(Field {
        value: None,
        valid: optional,
    });
    prop_oneof![4 => good, 2 => bad, 1 => absent]
}

fn json_query() -> impl Strategy<Value = (Value, bool)> {
    let user = field(
        vec![
            json!("anna"),
            json!("gunilla"),
            json!({"id": "t", "roles": ["employee"]}),
            json!({"id": "t", "roles": [], "unit": "U"}),
            json!({"id": "x\" || true || \"", "roles": ["elected", "contractor"]}),
        ],
        vec![
            json!("nobody"),
            json!(""),
            json!(5),
            json!(null),
            json!(["anna"]),
            json!({"id": "t"}),
            json!({"id": "t", "roles": ["admin"]}),
            json!({"id": "t", "roles": ["employee"], "admin": true}),
            json!({"id": 1, "roles": []}),
        ],
        false,
    );
    let ai = field(
        vec![
            json!("copilot-chat"),
            json!("chatgpt"),
            json!("lokal-sprakmodell"),
            json!("*"),
            json!("principal"),
        ],
        vec![
            json!(""),
            json!(5),
            json!(null),
            json!({"id": "chatgpt"}),
            json!(["chatgpt"]),
        ],
        false,
    );
    let data = field(
        vec![
            json!("oppen"),
            json!(["intern"]),
            json!(["oppen", "sekretess"]),
            json!("socialtjanstarende"),
        ],
        vec![
            json!("hemligt"),
            json!([]),
            json!(["oppen", "hemligt"]),
            json!(5),
            json!([null]),
            json!({"oppen": true}),
            json!(""),
        ],
        // Absent data is valid only for some actions: decided below.
        true,
    );
    let action = field(
        Action::ALL.iter().map(|a| json!(a.as_str())).collect(),
        vec![json!("USE"), json!("admin"), json!(5), json!(null)],
        true,
    );
    let context = field(
        vec![
            json!({}),
            json!({"humanReview": true}),
            json!({"humanReviewed": true, "aiDisclosure": true}),
            json!({"securityReview": true, "itSecurityReview": true, "dataProtectionReview": true, "valuesReview": true}),
        ],
        vec![
            json!({"humanReview": "true"}),
            json!({"override": true}),
            json!([]),
            json!(null),
            json!({"humanReview": 1}),
        ],
        true,
    );
    let extra = proptest::option::weighted(0.1, Just(("admin", json!(true))));
    (user, ai, data, action, context, extra).prop_map(|(user, ai, data, action, context, extra)| {
        let mut query = serde_json::Map::new();
        let mut valid = true;
        for (key, field) in [
            ("user", &user),
            ("ai", &ai),
            ("data", &data),
            ("action", &action),
            ("context", &context),
        ] {
            valid &= field.valid;
            if let Some(value) = &field.value {
                query.insert(key.to_string(), value.clone());
            }
        }
        if data.value.is_none() {
            let action = action
                .value
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or("use");
            valid &= matches!(action, "offerToResidents" | "develop" | "reportIncident");
        }
        if let Some((key, value)) = extra {
            query.insert(key.to_string(), value);
            valid = false;
        }
        (Value::Object(query), valid)
    })
}

fn bundled() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::bundled().unwrap().with_clock(Clock::fixed(today())))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn an_input_error_is_never_an_allow((query, valid) in json_query()) {
        let text = query.to_string();
        let decided = Query::from_json(&text).and_then(|q| bundled().decide(&q));
        if valid {
            let decision = decided.map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert!(decision.errors.is_empty());
        } else {
            match decided {
                Err(error) => {
                    prop_assert!(!error.problems.is_empty());
                    prop_assert!(error.problems.iter().all(|p| !p.message.is_empty()));
                }
                Ok(decision) => {
                    return Err(TestCaseError::fail(format!("{text}: an invalid query was decided: {decision:?}")));
                }
            }
        }
        // Any cut of it is an input error too.
        for cut in [text.len() / 2, text.len().saturating_sub(1)] {
            if let Some(prefix) = text.get(..cut) {
                prop_assert!(Query::from_json(prefix).is_err(), "{}", prefix);
            }
        }
    }
}
