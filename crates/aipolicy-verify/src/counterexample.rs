//! Counterexamples: the solver's model of a request read back into a register and a query a
//! person can read, paste and replay through the engine.

use std::collections::BTreeSet;

use aipolicy::error::LoadError;
use aipolicy::policies::Policies;
use aipolicy::query::{Action, Context, Query, UserRef};
use aipolicy::register::{AiSystem, DataClass, PersonalData, Register, Role, User};
use aipolicy::{Assessment, AssessmentKind, Engine, Verdict};
use cedar_policy::{Entities, EntityUid, EvalResult, Request, Schema};
use cedar_policy_symcc::Env;
use serde::Serialize;

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

/// The description of a counterexample's data class when the query names none: the register
/// still needs a class for the data profile.
pub(crate) const NOT_NAMED: &str = "Not named by the query.";

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
    pub(crate) fn from_env(
        env: &Env,
        action: Action,
        decision: Verdict,
    ) -> Result<Counterexample, String> {
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
            .filter_map(role_of)
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
            finds: Vec::new(),
            patterns: Vec::new(),
            words: Vec::new(),
            description: (!named).then(|| NOT_NAMED.to_string()),
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
                text: Vec::new(),
                default_data: None,
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

/// The role a `Role` entity stands for, `None` for an id aipolicy does not know.
fn role_of(uid: &EntityUid) -> Option<Role> {
    Role::ALL
        .into_iter()
        .find(|r| r.as_str() == uid.id().unescaped())
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
                        EvalResult::EntityUid(role) => role_of(role)
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

pub(crate) fn data_class_name(level: u8) -> String {
    format!("Motexempel, nivå {level}")
}

/// The solver's request and entities as Cedar JSON, for a counterexample that could not be
/// read back.
pub(crate) fn raw_env(env: &Env) -> String {
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
