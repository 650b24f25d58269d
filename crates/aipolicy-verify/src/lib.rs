//! Proved invariants: `aipolicy verify` with Cedar's symbolic compiler (cedar-policy-symcc and
//! the SMT solver cvc5), kept out of the core `aipolicy` library so that a service embedding the
//! engine does not build a solver interface it does not use.
//!
//! Tests show what the policy decides for the cases someone thought of; this module proves what
//! it decides for **every** request. Each [`Invariant`](aipolicy::invariants::Invariant) of `policies/invariants.yaml` is a Cedar
//! condition `C` with a kind:
//!
//! * `never`: no request meeting `C` is ever allowed. Proved as "the policy set plus
//!   `forbid (principal, action, resource) unless { A && C };` denies every request";
//! * `always`: every request meeting `C` is allowed. Proved as "`permit (principal,
//!   action, resource) when { A && C };` implies the policy set".
//!
//! `A` is the conjunction of the [`ASSUMPTIONS`](aipolicy::invariants::ASSUMPTIONS): what every request built by the
//! [`Engine`](aipolicy::Engine) from a valid register and query satisfies (levels 0–4, hosting
//! `public` or `internal`, user groups among the three roles, …). The solver ranges over every
//! value the Cedar schema permits, which is wider than that; with the assumptions every
//! counterexample is a real register and query, and [`verify`] replays each one through the
//! engine to confirm it.
//!
//! The solver is cvc5 (`apt-get install cvc5`), found on `PATH` or through the `CVC5`
//! environment variable.
//!
//! ```no_run
//! use aipolicy::invariants::Invariants;
//! use aipolicy_verify as verify;
//! let policies = aipolicy::Policies::bundled()?;
//! let schema = aipolicy::policies::bundled_schema()?;
//! let invariants = Invariants::bundled()?;
//! let report = verify::verify(&policies, &schema, &invariants, &verify::Options::default())?;
//! assert!(report.all_proved());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use aipolicy::error::LoadError;
use aipolicy::invariants::{
    assumptions_condition, invariant_policy, IntendedActions, Invariant, Invariants,
    InvariantsError, Kind,
};
use aipolicy::paragraph::Paragraph;
use aipolicy::policies::Policies;
use aipolicy::query::{Action, Context, Query, UserRef};
use aipolicy::register::{AiSystem, DataClass, PersonalData, Register, Role, Status, User};
use aipolicy::{Assessment, AssessmentKind, Engine, Verdict};
use cedar_policy::{
    Authorizer, Entities, EntityUid, EvalResult, Policy, PolicyId, PolicySet, Request, RequestEnv,
    Schema,
};
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicy, CompiledPolicySet, Env};
use miette::Diagnostic;
use serde::Serialize;

/// Why verification could not run (a violation is not an error: it is in the [`Report`]).
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum VerifyError {
    /// The invariants file cannot be used.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invariants(#[from] InvariantsError),
    /// Policies or schema could not be loaded.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] LoadError),
    /// cvc5 could not be started.
    #[error("the SMT solver cvc5 could not be started (`{command}`)")]
    #[diagnostic(
        code(aipolicy::solver_missing),
        help("install it with `apt-get install cvc5`, or set the environment variable CVC5 to the path of a cvc5 executable")
    )]
    SolverMissing {
        /// What was run.
        command: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The symbolic compiler or the solver failed on a check.
    #[error("cannot check `{check}`: {message}")]
    #[diagnostic(
        code(aipolicy::solver),
        help("a type error names the policy or invariant to fix; for a solver failure, note that cedar-policy-symcc is tested with cvc5 1.3 (`cvc5 --version` shows yours)")
    )]
    Solver {
        /// The check.
        check: String,
        /// What went wrong.
        message: String,
    },
}

/// How [`verify`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Also run the generic checks: no policy can error, no action is trivially decided.
    pub generic: bool,
    /// Replay every counterexample through the [`Engine`].
    pub replay: bool,
    /// Simplify every counterexample before it is replayed (fewer flags, fewer roles, lower
    /// levels, defaults), keeping only changes after which the engine still decides the same
    /// and the invariant's condition still holds.
    pub simplify: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            generic: true,
            replay: true,
            simplify: true,
        }
    }
}

/// What kind of check a [`CheckResult`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// An invariant of the invariants file.
    Invariant(Kind),
    /// Generic: no policy can error at evaluation.
    NeverErrors,
    /// Generic: an action is decided by the request (or is intended not to be).
    ActionNotTrivial,
    /// Generic: the engine's per-action slices of the policies decide as the whole set.
    SlicesArePolicy,
}

/// The outcome of one check.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Holds for every request.
    Proved,
    /// Does not hold.
    Violated(Box<Violation>),
}

/// Why a check failed, with a request that shows it where one exists.
#[derive(Debug, Clone)]
pub struct Violation {
    /// What is wrong, in English.
    pub message: String,
    /// The counterexample in aipolicy's terms: a register and a query.
    pub counterexample: Option<Counterexample>,
    /// The solver's request and entities in Cedar's JSON, when they could not be put in
    /// aipolicy's terms (with the reason).
    pub raw: Option<String>,
}

/// The result of one check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The invariant's id, or the generic check's name.
    pub id: String,
    /// The paragraph it protects, for invariants.
    pub paragraph: Option<Paragraph>,
    /// What kind of check.
    pub kind: CheckKind,
    /// The statement in Swedish.
    pub sv: String,
    /// The statement in English.
    pub en: String,
    /// Proved or violated.
    pub outcome: Outcome,
    /// Time taken (compilation and solving).
    pub elapsed: Duration,
}

impl CheckResult {
    /// Whether the check was proved.
    pub fn is_proved(&self) -> bool {
        matches!(self.outcome, Outcome::Proved)
    }

    /// The violation, if any.
    pub fn violation(&self) -> Option<&Violation> {
        match &self.outcome {
            Outcome::Proved => None,
            Outcome::Violated(v) => Some(v),
        }
    }
}

/// Everything [`verify`] found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The solver's version, e.g. `cvc5 version 1.0.3`.
    pub solver: String,
    /// The actions (request environments of the schema) checked.
    pub actions: Vec<Action>,
    /// Invariant checks, in file order.
    pub invariants: Vec<CheckResult>,
    /// Generic checks (empty unless [`Options::generic`]).
    pub generic: Vec<CheckResult>,
    /// Total time.
    pub elapsed: Duration,
}

impl Report {
    /// Whether every check was proved.
    pub fn all_proved(&self) -> bool {
        self.checks().all(CheckResult::is_proved)
    }

    /// Every check: invariants first, then the generic ones.
    pub fn checks(&self) -> impl Iterator<Item = &CheckResult> {
        self.invariants.iter().chain(&self.generic)
    }

    /// The result for the invariant or check with this id.
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks().find(|c| c.id == id)
    }
}

/// A request that breaks a check, in aipolicy's terms: the register entries and the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counterexample {
    /// The query (user given inline).
    pub query: Query,
    /// The data class of the query's data profile (always one: the register needs one).
    pub data_class: DataClass,
    /// The AI system; `None` when the query names an AI system that is not in the register.
    pub ai_system: Option<AiSystem>,
    /// The user, as a register entry (the query gives the same user inline).
    pub user: User,
    /// What Cedar decides for this request: `allow` for a `never` invariant, `deny` for an
    /// `always` one.
    pub decision: Verdict,
    /// What the engine decided when the counterexample was replayed through it; `None` when
    /// not replayed, `Err` when the engine refused the register or the query.
    pub replayed: Option<Result<Verdict, String>>,
}

/// Ids used in counterexamples (the solver's own ids are often empty strings).
pub const COUNTEREXAMPLE_USER: &str = "counterexample-user";
/// The AI system's id in a counterexample.
pub const COUNTEREXAMPLE_AI: &str = "counterexample-ai";
/// The data class's id in a counterexample.
pub const COUNTEREXAMPLE_DATA: &str = "counterexample-data";

impl Counterexample {
    /// The register holding the counterexample's data class, AI system and user.
    pub fn register(&self) -> Result<Register, LoadError> {
        Register::new(
            None,
            vec![self.data_class.clone()],
            self.ai_system.iter().cloned().collect(),
            vec![self.user.clone()],
        )
    }

    /// Replays the counterexample through an engine with these policies and schema.
    pub fn replay(&self, policies: &Policies, schema: &Schema) -> Result<Verdict, String> {
        let register = self.register().map_err(|e| e.to_string())?;
        let engine =
            Engine::new(policies.clone(), schema.clone(), register).map_err(|e| e.to_string())?;
        engine
            .decide(&self.query)
            .map(|d| d.decision)
            .map_err(|e| e.to_string())
    }

    /// The query as the pinned query JSON on one line, e.g. for `aipolicy check --query`.
    pub fn query_json(&self) -> Result<String, String> {
        serde_json::to_string(&self.query).map_err(|e| e.to_string())
    }

    /// YAML ready to paste: `register` is a register file, `case` a case of a scenario file
    /// that uses that register.
    pub fn to_yaml(&self, name: &str) -> Result<String, String> {
        #[derive(Serialize)]
        struct Case<'a> {
            name: &'a str,
            query: &'a Query,
            expect: Verdict,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct RegisterEntries<'a> {
            data_classes: [&'a DataClass; 1],
            // Always written, empty too: a register needs the key.
            ai_systems: Vec<&'a AiSystem>,
            users: [&'a User; 1],
        }
        #[derive(Serialize)]
        struct Paste<'a> {
            register: RegisterEntries<'a>,
            case: Case<'a>,
        }
        serde_yaml::to_string(&Paste {
            register: RegisterEntries {
                data_classes: [&self.data_class],
                ai_systems: self.ai_system.iter().collect(),
                users: [&self.user],
            },
            case: Case {
                name,
                query: &self.query,
                expect: self.decision,
            },
        })
        .map_err(|e| e.to_string())
    }

    /// Reads the solver's request and entities back into a register and a query.
    fn from_env(env: &Env, action: Action, decision: Verdict) -> Result<Counterexample, String> {
        let request = &env.request;
        let entities = &env.entities;
        let principal = request.principal().ok_or("the request has no principal")?;
        let resource = request.resource().ok_or("the request has no resource")?;
        let context = request.context().ok_or("the request has no context")?;

        let roles: BTreeSet<Role> = entities
            .ancestors(principal)
            .into_iter()
            .flatten()
            .filter(|uid| uid.type_name().to_string() == "Role")
            .filter_map(|uid| {
                Role::ALL
                    .into_iter()
                    .find(|r| r.as_str() == uid.id().unescaped())
            })
            .collect();
        let unit = match entity_attr(entities, principal, "unit")? {
            Some(EvalResult::String(unit)) => Some(unit),
            _ => None,
        };
        let ai_literacy = match entity_attr(entities, principal, "aiLiteracy")? {
            Some(EvalResult::Bool(trained)) => Some(trained),
            other => {
                return Err(format!(
                    "the user's aiLiteracy must be a Bool; found {other:?}"
                ))
            }
        };
        let user = User {
            id: COUNTEREXAMPLE_USER.into(),
            roles: roles.into_iter().collect(),
            unit,
            ai_literacy,
        };

        let ai = read_ai_system(entities, resource)?;
        let registered = ai.1;
        let mut ai = ai.0;
        if !registered && ai != AiSystem::unregistered(COUNTEREXAMPLE_AI) {
            return Err(format!(
                "an AI system not in the register must be built as AiSystem::unregistered; found {ai:?}"
            ));
        }
        // The assessments that hold on the day are in the context; in the register, one that
        // holds is done without a date (it holds on any day), one that does not is not done.
        let current = match context.get("current") {
            Some(EvalResult::Record(record)) => record,
            other => return Err(format!("context.current is not a record: {other:?}")),
        };
        for kind in AssessmentKind::ALL {
            let path = format!("context.current.{}", kind.key());
            let holds = as_bool(
                current
                    .get(kind.key())
                    .cloned()
                    .ok_or_else(|| format!("{path} is missing"))?,
                &path,
            )?;
            if holds && !registered {
                return Err(format!(
                    "an AI system not in the register has no assessments; found {path}"
                ));
            }
            ai.set_assessment(kind, Assessment::from(holds));
        }

        let data = match context.get("data") {
            Some(EvalResult::Record(record)) => record,
            other => return Err(format!("context.data is not a record: {other:?}")),
        };
        let field = |name: &str| {
            data.get(name)
                .cloned()
                .ok_or_else(|| format!("context.data.{name} is missing"))
        };
        let named = as_bool(field("named")?, "context.data.named")?;
        let level = as_level(field("level")?, "context.data.level")?;
        let personal_data = as_personal_data(field("personalData")?, "context.data.personalData")?;
        let secrecy = as_bool(field("secrecy")?, "context.data.secrecy")?;
        let within_units = as_bool(field("withinUnits")?, "context.data.withinUnits")?;
        if !named
            && (level, personal_data, secrecy, within_units) != (0, PersonalData::None, false, true)
        {
            return Err("a query naming no data class has the empty data profile".into());
        }
        // Outside the user's units: the class belongs to a unit the user is not in.
        let units = (!within_units).then(|| {
            let other = "Annan förvaltning".to_string();
            if user.unit.as_deref() == Some(other.as_str()) {
                vec!["Ytterligare en förvaltning".to_string()]
            } else {
                vec![other]
            }
        });
        let data_class = DataClass {
            id: COUNTEREXAMPLE_DATA.into(),
            name: data_class_name(level),
            level,
            personal_data,
            secrecy,
            units,
            description: (!named).then(|| "Not named by the query.".to_string()),
        };

        let mut flags = Context::default();
        for key in Context::KEYS {
            let value = match context.get(key) {
                Some(v) => as_bool(v, &format!("context.{key}"))?,
                None => false,
            };
            flags.set(key, value).map_err(|e| e.to_string())?;
        }

        Ok(Counterexample {
            query: Query {
                user: UserRef::Inline(user.clone()),
                ai: COUNTEREXAMPLE_AI.into(),
                data: if named {
                    vec![COUNTEREXAMPLE_DATA.into()]
                } else {
                    Vec::new()
                },
                action,
                context: flags,
                request_id: None,
                at: None,
            },
            data_class,
            ai_system: registered.then_some(ai),
            user,
            decision,
            replayed: None,
        })
    }
}

fn entity_attr(
    entities: &Entities,
    uid: &EntityUid,
    name: &str,
) -> Result<Option<EvalResult>, String> {
    let entity = entities
        .get(uid)
        .ok_or_else(|| format!("entity `{uid}` is missing"))?;
    match entity.attr(name) {
        None => Ok(None),
        Some(Ok(value)) => Ok(Some(value)),
        Some(Err(e)) => Err(format!("{uid}.{name}: {e}")),
    }
}

fn as_bool(value: EvalResult, path: &str) -> Result<bool, String> {
    match value {
        EvalResult::Bool(b) => Ok(b),
        other => Err(format!("{path}: expected a Bool, found {other:?}")),
    }
}

fn as_level(value: EvalResult, path: &str) -> Result<u8, String> {
    match value {
        EvalResult::Long(n) if (0..=4).contains(&n) => u8::try_from(n).map_err(|e| e.to_string()),
        other => Err(format!("{path}: expected a level 0–4, found {other:?}")),
    }
}

fn as_personal_data(value: EvalResult, path: &str) -> Result<PersonalData, String> {
    match value {
        EvalResult::Long(0) => Ok(PersonalData::None),
        EvalResult::Long(1) => Ok(PersonalData::Ordinary),
        EvalResult::Long(2) => Ok(PersonalData::Sensitive),
        other => Err(format!("{path}: expected 0, 1 or 2, found {other:?}")),
    }
}

/// The AI system entity as a register entry, and its `registered` flag.
fn read_ai_system(entities: &Entities, uid: &EntityUid) -> Result<(AiSystem, bool), String> {
    use aipolicy::attributes::{Value, AI_SYSTEM};
    let mut ai = AiSystem::unregistered(COUNTEREXAMPLE_AI);
    for attribute in AI_SYSTEM {
        let value = match entity_attr(entities, uid, attribute.name)? {
            None => None,
            Some(EvalResult::Bool(b)) => Some(Value::Bool(b)),
            Some(EvalResult::Long(n)) => Some(Value::Long(n)),
            Some(EvalResult::String(s)) => Some(Value::String(s)),
            Some(EvalResult::Set(set)) => Some(Value::Roles(
                set.iter()
                    .map(|v| match v {
                        EvalResult::EntityUid(role) => Role::ALL
                            .into_iter()
                            .find(|r| r.as_str() == role.id().unescaped())
                            .ok_or_else(|| format!("resource.userGroups: unknown role `{role}`")),
                        other => Err(format!(
                            "resource.{}: expected a Role, found {other:?}",
                            attribute.name
                        )),
                    })
                    .collect::<Result<Vec<Role>, String>>()?,
            )),
            Some(other) => {
                return Err(format!(
                    "resource.{}: unexpected value {other:?}",
                    attribute.name
                ))
            }
        };
        (attribute.write)(&mut ai, value).map_err(|e| format!("resource.{e}"))?;
    }
    let registered = match entity_attr(entities, uid, "registered")? {
        Some(value) => as_bool(value, "resource.registered")?,
        None => return Err("resource.registered is missing".into()),
    };
    Ok((ai, registered))
}

/// One way to make a counterexample simpler; `false` when it changes nothing.
type Simplification = fn(&mut Counterexample) -> bool;

fn set_flag(flag: &mut bool) -> bool {
    std::mem::replace(flag, false)
}

/// Sets the user's roles when that is simpler: fewer roles, then earlier ones.
fn set_roles(cex: &mut Counterexample, roles: &[Role]) -> bool {
    if (roles.len(), roles) >= (cex.user.roles.len(), cex.user.roles.as_slice()) {
        return false;
    }
    cex.user.roles = roles.to_vec();
    cex.query.user = UserRef::Inline(cex.user.clone());
    true
}

/// Records an assessment as not done; `false` when it was not done already.
fn not_done(ai: &mut AiSystem, kind: AssessmentKind) -> bool {
    let was = ai.assessment(kind);
    ai.set_assessment(kind, Assessment::NotDone);
    was != Assessment::NotDone
}

fn on_ai(cex: &mut Counterexample, change: impl FnOnce(&mut AiSystem) -> bool) -> bool {
    cex.ai_system.as_mut().is_some_and(change)
}

/// Simplifications tried in order, each kept only when the counterexample still breaks the
/// invariant: fewer flags set, defaults where the register has them, fewer roles, lower levels.
const SIMPLIFICATIONS: &[Simplification] = &[
    |c| c.ai_system.take().is_some(),
    |c| {
        let unnamed = !c.query.data.is_empty() && !c.query.action.requires_data();
        if unnamed {
            c.query.data.clear();
            c.data_class.description = Some("Not named by the query.".into());
        }
        unnamed
    },
    |c| set_flag(&mut c.query.context.human_review),
    |c| set_flag(&mut c.query.context.human_reviewed),
    |c| set_flag(&mut c.query.context.ai_disclosure),
    |c| set_flag(&mut c.query.context.security_review),
    |c| set_flag(&mut c.query.context.it_security_review),
    |c| set_flag(&mut c.query.context.data_protection_review),
    |c| set_flag(&mut c.query.context.values_review),
    |c| set_flag(&mut c.data_class.secrecy),
    |c| {
        std::mem::replace(&mut c.data_class.personal_data, PersonalData::None) != PersonalData::None
    },
    |c| lower(&mut c.data_class.level, 0),
    |c| lower(&mut c.data_class.level, 1),
    |c| lower(&mut c.data_class.level, 2),
    |c| lower(&mut c.data_class.level, 3),
    |c| set_roles(c, &[Role::Employee]),
    |c| set_roles(c, &[Role::Contractor]),
    |c| set_roles(c, &[Role::Elected]),
    |c| c.user.unit.take().is_some(),
    |c| {
        on_ai(c, |a| {
            a.user_groups != Role::ALL && {
                a.user_groups = Role::ALL.to_vec();
                true
            }
        })
    },
    |c| {
        on_ai(c, |a| {
            std::mem::replace(&mut a.status, Status::Active) != Status::Active
        })
    },
    |c| on_ai(c, |a| set_flag(&mut a.decision_support)),
    |c| on_ai(c, |a| not_done(a, AssessmentKind::FairnessAssessed)),
    |c| on_ai(c, |a| set_flag(&mut a.resident_facing)),
    |c| on_ai(c, |a| set_flag(&mut a.transparency_notice)),
    |c| on_ai(c, |a| not_done(a, AssessmentKind::AccessibilityReviewed)),
    |c| on_ai(c, |a| set_flag(&mut a.secrecy)),
    |c| {
        on_ai(c, |a| {
            std::mem::replace(&mut a.personal_data, PersonalData::None) != PersonalData::None
        })
    },
    |c| on_ai(c, |a| not_done(a, AssessmentKind::Verified)),
    |c| on_ai(c, |a| not_done(a, AssessmentKind::Fria)),
    |c| on_ai(c, |a| not_done(a, AssessmentKind::Dpia)),
    |c| on_ai(c, |a| set_flag(&mut a.approved)),
    |c| on_ai(c, |a| a.owner.take().is_some()),
    |c| {
        on_ai(c, |a| {
            a.owner.is_some() && a.owner.replace("IT-chef".into()).as_deref() != Some("IT-chef")
        })
    },
    |c| on_ai(c, |a| lower(&mut a.max_data_level, 0)),
    |c| on_ai(c, |a| lower(&mut a.max_data_level, 1)),
    |c| on_ai(c, |a| lower(&mut a.max_data_level, 2)),
    |c| on_ai(c, |a| lower(&mut a.max_data_level, 3)),
];

fn lower(level: &mut u8, to: u8) -> bool {
    if *level > to {
        *level = to;
        true
    } else {
        false
    }
}

/// Makes a counterexample easier to read: tries each of [`SIMPLIFICATIONS`] and keeps it when
/// the engine still decides the same and the request still meets the assumptions and
/// `condition`. A counterexample the engine does not confirm is returned unchanged.
fn simplify(
    cex: Counterexample,
    condition: &str,
    policies: &Policies,
    schema: &Schema,
) -> Counterexample {
    let text = format!(
        "permit (principal, action, resource) when {{ ({}) && ({condition}) }};",
        assumptions_condition()
    );
    let Ok(meets) = PolicySet::from_str(&text) else {
        return cex;
    };
    let authorizer = Authorizer::new();
    let still_breaks = |c: &Counterexample| -> bool {
        let Ok(register) = c.register() else {
            return false;
        };
        let Ok(engine) = Engine::new(policies.clone(), schema.clone(), register) else {
            return false;
        };
        let decided = engine.decide(&c.query).map(|d| d.decision);
        let Ok(prepared) = engine.prepare_exact(&c.query) else {
            return false;
        };
        let response = authorizer.is_authorized(&prepared.request, &meets, &prepared.entities);
        decided == Ok(c.decision) && response.decision() == cedar_policy::Decision::Allow
    };
    if !still_breaks(&cex) {
        return cex;
    }
    let mut best = cex;
    // Until nothing changes: one simplification can make an earlier one possible.
    for _pass in 0..4 {
        let mut changed = false;
        for simplification in SIMPLIFICATIONS {
            let mut candidate = best.clone();
            if simplification(&mut candidate) && still_breaks(&candidate) {
                best = candidate;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    best.data_class.name = data_class_name(best.data_class.level);
    best
}

fn data_class_name(level: u8) -> String {
    format!("Motexempel, nivå {level}")
}

/// The solver's request and entities as Cedar JSON, for a counterexample that could not be
/// read back.
fn raw_env(env: &Env) -> String {
    let request = request_text(&env.request);
    let entities = env
        .entities
        .to_json_value()
        .map(|v| v.to_string())
        .unwrap_or_else(|e| format!("<entities: {e}>"));
    format!("request: {request}\nentities: {entities}")
}

fn request_text(request: &Request) -> String {
    let uid = |u: Option<&EntityUid>| u.map_or("?".to_string(), ToString::to_string);
    let context = request
        .context()
        .and_then(|c| c.clone().to_json_value().ok())
        .map_or("?".to_string(), |v| v.to_string());
    format!(
        "principal {}, action {}, resource {}, context {}",
        uid(request.principal()),
        uid(request.action()),
        uid(request.resource()),
        context
    )
}

/// Proves every invariant (and, with [`Options::generic`], the generic checks) for every
/// request environment of `schema`.
///
/// `Err` only when verification could not run: an invalid invariant condition, a policy set
/// the symbolic compiler rejects, or a missing or failing solver. Violations are in the
/// [`Report`].
pub fn verify(
    policies: &Policies,
    schema: &Schema,
    invariants: &Invariants,
    options: &Options,
) -> Result<Report, VerifyError> {
    let problems = policies.validate(schema);
    if !problems.is_empty() {
        return Err(LoadError::Policies(problems).into());
    }
    invariants.check(schema)?;
    let solver = solver_version()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| VerifyError::Solver {
            check: "start".into(),
            message: format!("cannot start the async runtime: {e}"),
        })?;
    runtime.block_on(run(policies, schema, invariants, options, solver))
}

/// An engine of these policies and schema, for its slices: they depend on the policies and the
/// schema's actions only, so a register of one data class serves.
fn slicing_engine(policies: &Policies, schema: &Schema) -> Result<Engine, VerifyError> {
    let register = Register::new(
        None,
        vec![DataClass {
            id: "slices".into(),
            name: "slices".into(),
            level: 0,
            personal_data: PersonalData::None,
            secrecy: false,
            units: None,
            description: None,
        }],
        Vec::new(),
        Vec::new(),
    )?;
    Ok(Engine::new(policies.clone(), schema.clone(), register)?)
}

/// The first line of `cvc5 --version`, or [`VerifyError::SolverMissing`].
pub fn solver_version() -> Result<String, VerifyError> {
    let command = std::env::var("CVC5").unwrap_or_else(|_| "cvc5".into());
    let output = std::process::Command::new(&command)
        .arg("--version")
        .output()
        .map_err(|source| VerifyError::SolverMissing {
            command: command.clone(),
            source,
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or("cvc5").trim();
    Ok(first.trim_start_matches("This is ").to_string())
}

/// cvc5's time limit for one check (ms). Each check of the bundled policies takes about a
/// second; a check that takes a minute is answered as an error, never as proved.
const SOLVER_TIME_LIMIT: &str = "--tlimit-per=60000";

struct Run<'a> {
    compiler: CedarSymCompiler<LocalSolver>,
    policies: &'a Policies,
    schema: &'a Schema,
    options: &'a Options,
    envs: Vec<(Action, RequestEnv)>,
}

fn solver_error(check: &str, e: impl fmt::Display) -> VerifyError {
    VerifyError::Solver {
        check: check.to_string(),
        message: e.to_string(),
    }
}

/// A symbolic-compiler error with its related diagnostics (e.g. the type errors).
fn symcc_error(check: &str, e: cedar_policy_symcc::err::Error) -> VerifyError {
    let mut message = e.to_string();
    if let Some(related) = e.related() {
        for r in related {
            message.push_str(&format!("; {r}"));
        }
    }
    solver_error(check, message)
}

async fn run(
    policies: &Policies,
    schema: &Schema,
    invariants: &Invariants,
    options: &Options,
    solver: String,
) -> Result<Report, VerifyError> {
    let started = Instant::now();
    // A time limit per check, not the default's one limit for the solver's whole session: a
    // run of many checks on a busy machine must not be cut off midway.
    let cvc5 = LocalSolver::cvc5_with_args([SOLVER_TIME_LIMIT]).map_err(|e| match e {
        cedar_policy_symcc::solver::SolverError::Io(source) => VerifyError::SolverMissing {
            command: std::env::var("CVC5").unwrap_or_else(|_| "cvc5".into()),
            source,
        },
        other => solver_error("start", other),
    })?;
    let compiler = CedarSymCompiler::new(cvc5).map_err(|e| solver_error("start", e))?;
    let mut envs = Vec::new();
    for env in schema.request_envs() {
        let name = env.action().id().unescaped().to_string();
        let action = Action::from_str(&name).map_err(|_| {
            VerifyError::Load(LoadError::Internal(format!(
                "the Cedar schema has action `{name}`, which aipolicy does not know"
            )))
        })?;
        envs.push((action, env));
    }
    envs.sort_by_key(|(action, _)| Action::ALL.iter().position(|a| a == action));
    let mut run = Run {
        compiler,
        policies,
        schema,
        options,
        envs,
    };
    let assumptions = assumptions_condition();
    let mut results = Vec::new();
    for invariant in &invariants.invariants {
        results.push(run.invariant(invariant, &assumptions).await?);
    }
    let mut generic = Vec::new();
    if options.generic {
        generic.push(run.never_errors().await?);
        generic.push(run.slices_are_the_policy().await?);
        for i in 0..run.envs.len() {
            generic.push(
                run.action_not_trivial(i, &invariants.actions, &assumptions)
                    .await?,
            );
        }
    }
    Ok(Report {
        solver,
        actions: run.envs.iter().map(|(a, _)| *a).collect(),
        invariants: results,
        generic,
        elapsed: started.elapsed(),
    })
}

impl Run<'_> {
    fn compile(
        &self,
        check: &str,
        set: &PolicySet,
        env: &RequestEnv,
    ) -> Result<CompiledPolicySet, VerifyError> {
        CompiledPolicySet::compile(set, env, self.schema).map_err(|e| symcc_error(check, e))
    }

    fn with_policy(&self, check: &str, policy: Policy) -> Result<PolicySet, VerifyError> {
        let mut set = self.policies.set().clone();
        set.add(policy).map_err(|e| solver_error(check, e))?;
        Ok(set)
    }

    /// A counterexample read back, simplified and replayed, or the raw request when it cannot
    /// be read back. `condition` is the invariant's condition (`None`: do not simplify).
    fn violation(
        &self,
        message: String,
        env: &Env,
        action: Action,
        decision: Verdict,
        condition: Option<&str>,
    ) -> Violation {
        match Counterexample::from_env(env, action, decision) {
            Ok(mut cex) => {
                if self.options.simplify {
                    if let Some(condition) = condition {
                        cex = simplify(cex, condition, self.policies, self.schema);
                    }
                }
                if self.options.replay {
                    cex.replayed = Some(cex.replay(self.policies, self.schema));
                }
                Violation {
                    message,
                    counterexample: Some(cex),
                    raw: None,
                }
            }
            Err(why) => Violation {
                message,
                counterexample: None,
                raw: Some(format!(
                    "cannot be read as a register and query ({why}); {}\n{}",
                    if condition.is_some() {
                        "a well-formedness assumption may be missing"
                    } else {
                        "this check covers every request the Cedar schema allows, not only those the engine builds"
                    },
                    raw_env(env)
                )),
            },
        }
    }

    async fn invariant(
        &mut self,
        invariant: &Invariant,
        assumptions: &str,
    ) -> Result<CheckResult, VerifyError> {
        let started = Instant::now();
        let check = invariant.id.as_str();
        let policy =
            invariant_policy(invariant, assumptions).map_err(|e| solver_error(check, e))?;
        let mut outcome = Outcome::Proved;
        // `never`: policies + forbid-unless-(A && C) must deny everything.
        // `always`: permit-when-(A && C) must imply the policies.
        let (combined, alone) = match invariant.kind {
            Kind::Never => (self.with_policy(check, policy)?, None),
            Kind::Always => {
                let mut alone = PolicySet::new();
                alone.add(policy).map_err(|e| solver_error(check, e))?;
                (self.policies.set().clone(), Some(alone))
            }
        };
        for i in 0..self.envs.len() {
            let Some((action, env)) = self.envs.get(i).cloned() else {
                continue;
            };
            let counterexample = match &alone {
                None => {
                    let compiled = self.compile(check, &combined, &env)?;
                    self.compiler
                        .check_always_denies_with_counterexample_opt(&compiled)
                        .await
                }
                Some(alone) => {
                    let lhs = self.compile(check, alone, &env)?;
                    let rhs = self.compile(check, &combined, &env)?;
                    self.compiler
                        .check_implies_with_counterexample_opt(&lhs, &rhs)
                        .await
                }
            }
            .map_err(|e| solver_error(check, e))?;
            if let Some(found) = counterexample {
                let (message, decision) = match invariant.kind {
                    Kind::Never => (
                        format!("a request for `{action}` meeting the condition is allowed"),
                        Verdict::Allow,
                    ),
                    Kind::Always => (
                        format!("a request for `{action}` meeting the condition is denied"),
                        Verdict::Deny,
                    ),
                };
                outcome = Outcome::Violated(Box::new(self.violation(
                    message,
                    &found,
                    action,
                    decision,
                    Some(&invariant.when),
                )));
                break;
            }
        }
        Ok(CheckResult {
            id: invariant.id.clone(),
            paragraph: Paragraph::from_str(&invariant.paragraph).ok(),
            kind: CheckKind::Invariant(invariant.kind),
            sv: invariant.sv.clone(),
            en: invariant.en.clone(),
            outcome,
            elapsed: started.elapsed(),
        })
    }

    async fn never_errors(&mut self) -> Result<CheckResult, VerifyError> {
        let started = Instant::now();
        let check = "never-errors";
        let mut outcome = Outcome::Proved;
        let policies: Vec<Policy> = self.policies.set().policies().cloned().collect();
        'outer: for policy in &policies {
            for i in 0..self.envs.len() {
                let Some((action, env)) = self.envs.get(i).cloned() else {
                    continue;
                };
                let compiled = CompiledPolicy::compile(policy, &env, self.schema)
                    .map_err(|e| solver_error(check, e))?;
                let found = self
                    .compiler
                    .check_never_errors_with_counterexample_opt(&compiled)
                    .await
                    .map_err(|e| solver_error(check, e))?;
                if let Some(found) = found {
                    let message = format!(
                        "policy `{}` errors at evaluation for a request for `{action}` (the engine then denies and reports the error)",
                        policy.id()
                    );
                    outcome = Outcome::Violated(Box::new(self.violation(
                        message,
                        &found,
                        action,
                        Verdict::Deny,
                        None,
                    )));
                    break 'outer;
                }
            }
        }
        Ok(CheckResult {
            id: check.into(),
            paragraph: None,
            kind: CheckKind::NeverErrors,
            sv: "Ingen policy kan ge fel vid utvärdering, för någon begäran.".into(),
            en: "No policy can error at evaluation, for any request.".into(),
            outcome,
            elapsed: started.elapsed(),
        })
    }

    /// The engine gives Cedar, per action, only the policies whose action scope admits it,
    /// with that scope lifted (see [`Engine::policies_for`]). Proved here for every request of
    /// each action: a policy of the slice matches exactly when the original does, and a policy
    /// left out never matches. So the decision, its reasons and its duties are the same.
    async fn slices_are_the_policy(&mut self) -> Result<CheckResult, VerifyError> {
        let started = Instant::now();
        let check = "slices";
        let engine = slicing_engine(self.policies, self.schema)?;
        let mut outcome = Outcome::Proved;
        let originals: Vec<Policy> = self
            .policies
            .set()
            .policies()
            .chain(self.policies.duties().policies())
            .cloned()
            .collect();
        'outer: for i in 0..self.envs.len() {
            let Some((action, env)) = self.envs.get(i).cloned() else {
                continue;
            };
            let slice = engine.policies_for(action);
            let duties = engine.duties_for(action);
            let whole_action = engine.whole_action_duties(action);
            for original in &originals {
                let sliced = slice
                    .policy(original.id())
                    .or_else(|| duties.and_then(|d| d.policy(original.id())));
                let compiled_original = CompiledPolicy::compile(original, &env, self.schema)
                    .map_err(|e| symcc_error(check, e))?;
                let problem = match sliced {
                    None if whole_action.contains(&original.id().as_ref()) => {
                        let always = self
                            .compiler
                            .check_always_matches_opt(&compiled_original)
                            .await
                            .map_err(|e| solver_error(check, e))?;
                        (!always).then(|| {
                            format!(
                                "duty `{}` is added to every allow of `{action}`, but it does not apply to every request",
                                original.id()
                            )
                        })
                    }
                    Some(sliced) => {
                        let compiled_sliced = CompiledPolicy::compile(sliced, &env, self.schema)
                            .map_err(|e| symcc_error(check, e))?;
                        let same = self
                            .compiler
                            .check_matches_equivalent_opt(&compiled_original, &compiled_sliced)
                            .await
                            .map_err(|e| solver_error(check, e))?;
                        (!same).then(|| {
                            format!(
                                "policy `{}` as the engine gives it to Cedar for `{action}` does not match the same requests as the policy itself",
                                original.id()
                            )
                        })
                    }
                    None => {
                        let never = self
                            .compiler
                            .check_never_matches_opt(&compiled_original)
                            .await
                            .map_err(|e| solver_error(check, e))?;
                        (!never).then(|| {
                            format!(
                                "policy `{}` can apply to `{action}`, but the engine leaves it out of that action's policies",
                                original.id()
                            )
                        })
                    }
                };
                if let Some(message) = problem {
                    outcome = Outcome::Violated(Box::new(Violation {
                        message,
                        counterexample: None,
                        raw: None,
                    }));
                    break 'outer;
                }
            }
        }
        Ok(CheckResult {
            id: check.into(),
            paragraph: None,
            kind: CheckKind::SlicesArePolicy,
            sv: "Motorns urval av policyer per handling beslutar som hela policyuppsättningen, för varje begäran.".into(),
            en: "The engine's policies per action decide as the whole policy set, for every request.".into(),
            outcome,
            elapsed: started.elapsed(),
        })
    }

    async fn action_not_trivial(
        &mut self,
        index: usize,
        intended: &IntendedActions,
        assumptions: &str,
    ) -> Result<CheckResult, VerifyError> {
        let started = Instant::now();
        let Some((action, env)) = self.envs.get(index).cloned() else {
            return Err(solver_error("actions", "no such request environment"));
        };
        let check = format!("action-{action}");
        let parse = |text: String| {
            Policy::parse(Some(PolicyId::new(format!("assumptions:{action}"))), text)
                .map_err(|e| solver_error(&check, e))
        };
        // Allowed for every request ⇔ `permit when { A }` implies the policies.
        let mut permit_a = PolicySet::new();
        permit_a
            .add(parse(format!(
                "permit (principal, action, resource) when {{ {assumptions} }};"
            ))?)
            .map_err(|e| solver_error(&check, e))?;
        let lhs = self.compile(&check, &permit_a, &env)?;
        let rhs = self.compile(&check, self.policies.set(), &env)?;
        let denied = self
            .compiler
            .check_implies_with_counterexample_opt(&lhs, &rhs)
            .await
            .map_err(|e| solver_error(&check, e))?;
        // Denied for every request ⇔ the policies plus `forbid unless { A }` deny everything.
        let forbid_a = self.with_policy(
            &check,
            parse(format!(
                "forbid (principal, action, resource) unless {{ {assumptions} }};"
            ))?,
        )?;
        let compiled = self.compile(&check, &forbid_a, &env)?;
        let allowed = self
            .compiler
            .check_always_denies_with_counterexample_opt(&compiled)
            .await
            .map_err(|e| solver_error(&check, e))?;
        let want_allow = intended.always_allowed.contains(&action);
        let want_deny = intended.always_denied.contains(&action);
        let (sv, en) = if want_allow {
            (
                format!("`{action}` är alltid tillåten (avsett)."),
                format!("`{action}` is allowed for every request (intended)."),
            )
        } else if want_deny {
            (
                format!("`{action}` är alltid nekad (avsett)."),
                format!("`{action}` is denied for every request (intended)."),
            )
        } else {
            (
                format!("`{action}` är varken alltid tillåten eller alltid nekad."),
                format!(
                    "`{action}` is neither allowed for every request nor denied for every request."
                ),
            )
        };
        let violation = match (want_allow, want_deny, &denied, &allowed) {
            (true, _, Some(found), _) => Some(self.violation(
                format!("`{action}` is meant to be always allowed, but this request is denied"),
                found,
                action,
                Verdict::Deny,
                Some("true"),
            )),
            (_, true, _, Some(found)) => Some(self.violation(
                format!("`{action}` is meant to be always denied, but this request is allowed"),
                found,
                action,
                Verdict::Allow,
                Some("true"),
            )),
            (false, false, None, _) => Some(Violation {
                message: format!(
                    "every request for `{action}` is allowed: no forbid can apply (list it under actions.alwaysAllowed if intended)"
                ),
                counterexample: None,
                raw: None,
            }),
            (false, false, _, None) => Some(Violation {
                message: format!(
                    "no request for `{action}` is ever allowed: its permit is missing or can never apply (list it under actions.alwaysDenied if intended)"
                ),
                counterexample: None,
                raw: None,
            }),
            _ => None,
        };
        Ok(CheckResult {
            id: check,
            paragraph: None,
            kind: CheckKind::ActionNotTrivial,
            sv,
            en,
            outcome: match violation {
                None => Outcome::Proved,
                Some(v) => Outcome::Violated(Box::new(v)),
            },
            elapsed: started.elapsed(),
        })
    }
}
