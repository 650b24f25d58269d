//! The OpenID AuthZEN Authorization API 1.0 requests, read and mapped onto aipolicy's query.
//!
//! | AuthZEN | aipolicy query |
//! |---|---|
//! | `subject {type: "user", id}` | `user: id` (a user of the register) |
//! | `subject {type: "user", id, properties: {roles, unit?, aiLiteracy?}}` | `user: {id, roles, unit, aiLiteracy}` (inline) |
//! | `resource {type: "ai_system", id}` | `ai: id` |
//! | `action {name}` | `action: name` |
//! | `context {data: [..], text, <flags>}` | `data`, `text`, `context: {<flags>}` |
//! | `X-Request-ID` header | `requestId` |
//!
//! A request that breaks the AuthZEN shape (a missing or mistyped `subject`, `action`,
//! `resource` or their `type`, `id`, `name`; `properties` or `context` not an object) is a
//! [`RequestError`] naming the field, and so is one that maps to no valid aipolicy query (an
//! unknown action, data class or role, a mistyped flag). Unknown fields are ignored; an unknown
//! key of `context` or of `subject.properties` that looks like a slip of a known one is noted.

use aipolicy::query::Context;
use aipolicy::{FieldError, Language, Query};
use serde_json::{Map, Value};

use crate::json;

/// The subject type aipolicy decides for.
pub const SUBJECT_TYPE: &str = "user";
/// The resource type aipolicy decides for.
pub const RESOURCE_TYPE: &str = "ai_system";

/// A request that cannot be evaluated: the field at fault and what is wrong (HTTP 400), in
/// Swedish and English as aipolicy's own input errors are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// The field at fault, by its JSON path in AuthZEN's terms (`subject.id`; empty for the
    /// whole body), and what is wrong.
    pub problem: FieldError,
    /// Whether a limit was exceeded (HTTP 413), not the shape broken.
    pub over_limit: bool,
}

impl RequestError {
    /// An error at `path`, said in Swedish (`sv`) and English (`en`).
    fn at(path: impl Into<String>, sv: impl Into<String>, en: impl Into<String>) -> RequestError {
        RequestError {
            problem: FieldError::in_both(path, sv, en),
            over_limit: false,
        }
    }

    /// `expected …, got …` at `path`, in both languages.
    fn expected(path: impl Into<String>, sv: &str, en: &str, got: &Value) -> RequestError {
        RequestError::at(
            path,
            format!("{sv} väntades, men här står {}", kind_sv(got)),
            format!("expected {en}, got {}", kind(got)),
        )
    }

    /// `missing required field` at `path`, in both languages.
    fn missing(path: impl Into<String>) -> RequestError {
        RequestError::at(path, "obligatoriskt fält saknas", "missing required field")
    }

    /// The error in `language`, as [`Display`](std::fmt::Display) says it in English.
    pub fn text_in(&self, language: Language) -> String {
        self.problem.text_in(language)
    }

    /// An error about the whole request, in English alone.
    pub fn whole(message: impl Into<String>) -> RequestError {
        RequestError {
            problem: FieldError::new("", message),
            over_limit: false,
        }
    }
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.problem.fmt(f)
    }
}

impl From<json::JsonError> for RequestError {
    fn from(e: json::JsonError) -> Self {
        RequestError::at("", e.sv, e.en)
    }
}

/// A subject or resource: its type, its id (absent only where a search leaves it out) and its
/// properties.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// `type`.
    pub kind: String,
    /// `id`.
    pub id: Option<String>,
    /// `properties`.
    pub properties: Option<Map<String, Value>>,
}

/// One access evaluation, every entity present.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// `subject` (with its id).
    pub subject: Entity,
    /// `action.name`.
    pub action: String,
    /// `resource` (with its id, except in a resource search).
    pub resource: Entity,
    /// `context`.
    pub context: Option<Map<String, Value>>,
}

/// `options.evaluations_semantic`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Semantic {
    /// Every evaluation, every result (the default).
    #[default]
    ExecuteAll,
    /// Stop at the first deny (or error), which is the last result.
    DenyOnFirstDeny,
    /// Stop at the first permit, which is the last result.
    PermitOnFirstPermit,
}

/// A request to `/access/v1/evaluations`.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluations {
    /// No `evaluations`, or an empty array: a single evaluation.
    Single(Box<Evaluation>),
    /// The items, each resolved with the top-level defaults (or the error that item has).
    Many {
        /// How to run them.
        semantic: Semantic,
        /// Each item, in order.
        items: Vec<Result<Evaluation, RequestError>>,
    },
}

/// A resource search: the evaluation with the resource's id left out, and the page asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSearch {
    /// Subject, action, resource type and context.
    pub evaluation: Evaluation,
    /// `page.limit`.
    pub limit: Option<u64>,
    /// `page.token`.
    pub token: Option<String>,
}

/// Reads an Access Evaluation request (`POST /access/v1/evaluation`). The fuzz target's entry.
pub fn parse_evaluation(body: &[u8]) -> Result<Evaluation, RequestError> {
    let value = json::parse(body)?;
    let object = top_object(&value)?;
    evaluation(object, None, At::ROOT)
}

/// Reads an Access Evaluations request (`POST /access/v1/evaluations`); at most `max_items`
/// evaluations.
pub fn parse_evaluations(body: &[u8], max_items: usize) -> Result<Evaluations, RequestError> {
    let value = json::parse(body)?;
    let object = top_object(&value)?;
    let items = match object.get("evaluations") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) if items.is_empty() => None,
        Some(Value::Array(items)) => Some(items),
        Some(other) => {
            return Err(RequestError::expected(
                "evaluations",
                "en lista med utvärderingar",
                "an array of evaluations",
                other,
            ))
        }
    };
    let Some(items) = items else {
        return evaluation(object, None, At::ROOT).map(|e| Evaluations::Single(Box::new(e)));
    };
    if items.len() > max_items {
        return Err(RequestError {
            over_limit: true,
            ..RequestError::at(
                "evaluations",
                format!(
                    "{} utvärderingar; gränsen är {max_items} per begäran (--max-batch)",
                    items.len()
                ),
                format!(
                    "{} evaluations; the limit is {max_items} per request (--max-batch)",
                    items.len()
                ),
            )
        });
    }
    let semantic = semantic(object)?;
    // The top-level keys are defaults: each must be well-formed where given.
    let defaults = Defaults {
        subject: optional_entity(object, "subject", At::ROOT, true)?,
        action: optional_action(object, At::ROOT)?,
        resource: optional_entity(object, "resource", At::ROOT, true)?,
        context: optional_object(object, "context", At::ROOT)?,
    };
    let list = At::ROOT.key("evaluations");
    let items = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = list.index(i);
            match item {
                Value::Object(item) => evaluation(item, Some(&defaults), at),
                other => Err(RequestError::expected(
                    at.to_string(),
                    "ett utvärderingsobjekt",
                    "an evaluation object",
                    other,
                )),
            }
        })
        .collect();
    Ok(Evaluations::Many { semantic, items })
}

/// Reads a Resource Search request (`POST /access/v1/search/resource`): the resource's `id`,
/// when present, is ignored.
pub fn parse_resource_search(body: &[u8]) -> Result<ResourceSearch, RequestError> {
    let value = json::parse(body)?;
    let object = top_object(&value)?;
    let root = At::ROOT;
    let subject = required(object, "subject").and_then(|v| entity(v, root.key("subject"), true))?;
    let action = required(object, "action").and_then(|v| action(v, root.key("action")))?;
    let mut resource =
        required(object, "resource").and_then(|v| entity(v, root.key("resource"), false))?;
    resource.id = None;
    let context = optional_object(object, "context", root)?;
    let (limit, token) = match object.get("page") {
        None | Some(Value::Null) => (None, None),
        Some(Value::Object(page)) => {
            // A limit of 0 is refused, not taken: a page of no results would hand back a
            // token to the same place, and a client paging to the end would never get there.
            let (expected_sv, expected_en) = ("ett heltal från 1", "an integer of at least 1");
            let limit = match page.get("limit") {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => {
                    Some(n.as_u64().filter(|&n| n >= 1).ok_or_else(|| {
                        RequestError::at(
                            "page.limit",
                            format!("{expected_sv} väntades, men här står {n}"),
                            format!("expected {expected_en}, got {n}"),
                        )
                    })?)
                }
                Some(other) => {
                    return Err(RequestError::expected(
                        "page.limit",
                        expected_sv,
                        expected_en,
                        other,
                    ))
                }
            };
            let token = match page.get("token") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.is_empty() => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    return Err(RequestError::expected(
                        "page.token",
                        "en sträng",
                        "a string",
                        other,
                    ))
                }
            };
            (limit, token)
        }
        Some(other) => {
            return Err(RequestError::expected(
                "page",
                "ett objekt",
                "an object",
                other,
            ))
        }
    };
    Ok(ResourceSearch {
        evaluation: Evaluation {
            subject,
            action,
            resource,
            context,
        },
        limit,
        token,
    })
}

/// The top-level defaults of an Access Evaluations request.
struct Defaults {
    subject: Option<Entity>,
    action: Option<String>,
    resource: Option<Entity>,
    context: Option<Map<String, Value>>,
}

fn top_object(value: &Value) -> Result<&Map<String, Value>, RequestError> {
    match value {
        Value::Object(object) => Ok(object),
        other => Err(RequestError::at(
            "",
            format!(
                "begärans kropp måste vara ett JSON-objekt, men här står {}",
                kind_sv(other)
            ),
            format!(
                "the request body must be a JSON object, got {}",
                kind(other)
            ),
        )),
    }
}

/// Where a field is: made into its path (`evaluations[2].subject.id`) only for an error.
#[derive(Clone, Copy)]
struct At<'a> {
    parent: Option<&'a At<'a>>,
    key: &'a str,
    index: Option<usize>,
}

impl<'a> At<'a> {
    const ROOT: At<'static> = At {
        parent: None,
        key: "",
        index: None,
    };

    fn key(&'a self, key: &'a str) -> At<'a> {
        At {
            parent: Some(self),
            key,
            index: None,
        }
    }

    fn index(&'a self, index: usize) -> At<'a> {
        At {
            parent: Some(self),
            key: "",
            index: Some(index),
        }
    }

    fn is_root(&self) -> bool {
        self.key.is_empty() && self.index.is_none() && self.parent.is_none_or(At::is_root)
    }

    fn missing(&self) -> RequestError {
        RequestError::missing(self.to_string())
    }

    fn expected(&self, sv: &str, en: &str, got: &Value) -> RequestError {
        RequestError::expected(self.to_string(), sv, en, got)
    }
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
            if !self.key.is_empty() && !parent.is_root() {
                f.write_str(".")?;
            }
        }
        f.write_str(self.key)?;
        if let Some(index) = self.index {
            write!(f, "[{index}]")?;
        }
        Ok(())
    }
}

/// One evaluation from `object` at `at` (an item when `defaults` are given: a key it leaves
/// out is taken whole from the defaults).
fn evaluation(
    object: &Map<String, Value>,
    defaults: Option<&Defaults>,
    at: At<'_>,
) -> Result<Evaluation, RequestError> {
    let missing = |key: &str| {
        if defaults.is_some() {
            RequestError::at(
                at.key(key).to_string(),
                format!("obligatoriskt fält saknas (varken utvärderingen eller begäran anger `{key}`)"),
                format!(
                    "missing required field (neither the evaluation nor the request gives a `{key}`)"
                ),
            )
        } else {
            at.key(key).missing()
        }
    };
    let subject = match (optional_entity(object, "subject", at, true)?, defaults) {
        (Some(subject), _) => subject,
        (
            None,
            Some(Defaults {
                subject: Some(s), ..
            }),
        ) => s.clone(),
        (None, _) => return Err(missing("subject")),
    };
    let action = match (optional_action(object, at)?, defaults) {
        (Some(action), _) => action,
        (
            None,
            Some(Defaults {
                action: Some(a), ..
            }),
        ) => a.clone(),
        (None, _) => return Err(missing("action")),
    };
    let resource = match (optional_entity(object, "resource", at, true)?, defaults) {
        (Some(resource), _) => resource,
        (
            None,
            Some(Defaults {
                resource: Some(r), ..
            }),
        ) => r.clone(),
        (None, _) => return Err(missing("resource")),
    };
    let context = match (optional_object(object, "context", at)?, defaults) {
        (Some(context), _) => Some(context),
        (None, Some(defaults)) => defaults.context.clone(),
        (None, None) => None,
    };
    Ok(Evaluation {
        subject,
        action,
        resource,
        context,
    })
}

fn semantic(object: &Map<String, Value>) -> Result<Semantic, RequestError> {
    let options = match object.get("options") {
        None | Some(Value::Null) => return Ok(Semantic::default()),
        Some(Value::Object(options)) => options,
        Some(other) => {
            return Err(RequestError::expected(
                "options",
                "ett objekt",
                "an object",
                other,
            ))
        }
    };
    match options.get("evaluations_semantic") {
        None | Some(Value::Null) => Ok(Semantic::default()),
        Some(Value::String(s)) => match s.as_str() {
            "execute_all" => Ok(Semantic::ExecuteAll),
            "deny_on_first_deny" => Ok(Semantic::DenyOnFirstDeny),
            "permit_on_first_permit" => Ok(Semantic::PermitOnFirstPermit),
            other => Err(RequestError::at(
                "options.evaluations_semantic",
                format!("okänd semantik `{other}`; execute_all, deny_on_first_deny eller permit_on_first_permit väntades"),
                format!("unknown semantic `{other}`; expected execute_all, deny_on_first_deny or permit_on_first_permit"),
            )),
        },
        Some(other) => Err(RequestError::expected(
            "options.evaluations_semantic",
            "en sträng",
            "a string",
            other,
        )),
    }
}

fn required<'v>(object: &'v Map<String, Value>, key: &str) -> Result<&'v Value, RequestError> {
    match object.get(key) {
        None | Some(Value::Null) => Err(At::ROOT.key(key).missing()),
        Some(value) => Ok(value),
    }
}

/// The entity `at.key`, when given.
fn optional_entity(
    object: &Map<String, Value>,
    key: &str,
    at: At<'_>,
    need_id: bool,
) -> Result<Option<Entity>, RequestError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => entity(value, at.key(key), need_id).map(Some),
    }
}

/// `at.action.name`, when an action is given.
fn optional_action(
    object: &Map<String, Value>,
    at: At<'_>,
) -> Result<Option<String>, RequestError> {
    match object.get("action") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => action(value, at.key("action")).map(Some),
    }
}

/// The object `at.key`, when given.
fn optional_object(
    object: &Map<String, Value>,
    key: &str,
    at: At<'_>,
) -> Result<Option<Map<String, Value>>, RequestError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(other) => Err(at.key(key).expected("ett objekt", "an object", other)),
    }
}

fn entity(value: &Value, at: At<'_>, need_id: bool) -> Result<Entity, RequestError> {
    let Value::Object(object) = value else {
        return Err(at.expected(
            "ett objekt med `type` och `id`",
            "an object with `type` and `id`",
            value,
        ));
    };
    let kind = string(object, "type", at)?.ok_or_else(|| at.key("type").missing())?;
    let id = string(object, "id", at)?;
    if need_id && id.is_none() {
        return Err(at.key("id").missing());
    }
    let properties = optional_object(object, "properties", at)?;
    Ok(Entity {
        kind,
        id,
        properties,
    })
}

fn action(value: &Value, at: At<'_>) -> Result<String, RequestError> {
    let Value::Object(object) = value else {
        return Err(at.expected("ett objekt med `name`", "an object with a `name`", value));
    };
    if let Some(properties) = object
        .get("properties")
        .filter(|v| !v.is_null() && !v.is_object())
    {
        return Err(at
            .key("properties")
            .expected("ett objekt", "an object", properties));
    }
    string(object, "name", at)?.ok_or_else(|| at.key("name").missing())
}

/// The string `at.key`, when given.
fn string(
    object: &Map<String, Value>,
    key: &str,
    at: At<'_>,
) -> Result<Option<String>, RequestError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(at.key(key).expected("en sträng", "a string", other)),
    }
}

/// What a JSON value is, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What a JSON value is, for messages in Swedish.
pub fn kind_sv(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "ett sanningsvärde",
        Value::Number(_) => "ett tal",
        Value::String(_) => "en sträng",
        Value::Array(_) => "en lista",
        Value::Object(_) => "ett objekt",
    }
}

/// The keys of `subject.properties` aipolicy reads.
const SUBJECT_PROPERTIES: [&str; 3] = ["roles", "unit", "aiLiteracy"];

/// Why an evaluation maps to no query of aipolicy's: an entity of a type it does not decide
/// (a search then finds nothing), or a field no query can have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingError {
    /// `subject.type` or `resource.type` is not one aipolicy decides.
    UnknownType(RequestError),
    /// The request maps to no valid query.
    Invalid(RequestError),
}

impl MappingError {
    /// The error, whichever kind.
    pub fn error(&self) -> &RequestError {
        match self {
            MappingError::UnknownType(e) | MappingError::Invalid(e) => e,
        }
    }
}

impl Evaluation {
    /// The aipolicy query this evaluation asks (with `request_id` as its `requestId`), and notes
    /// on keys that were ignored. `resource_id` stands in for the resource's id (a search asks
    /// about each AI system in turn).
    pub fn to_query(
        &self,
        resource_id: Option<&str>,
        request_id: Option<&str>,
        language: Language,
    ) -> Result<(Query, Vec<String>), MappingError> {
        let mut notes = Vec::new();
        if self.subject.kind != SUBJECT_TYPE {
            return Err(MappingError::UnknownType(RequestError::at(
                "subject.type",
                format!(
                    "`{}` är ingen subjekttyp som den här PDP:n beslutar om; `{SUBJECT_TYPE}` väntades",
                    self.subject.kind
                ),
                format!(
                    "`{}` is not a subject type this PDP decides for; expected `{SUBJECT_TYPE}`",
                    self.subject.kind
                ),
            )));
        }
        if self.resource.kind != RESOURCE_TYPE {
            return Err(MappingError::UnknownType(RequestError::at(
                "resource.type",
                format!(
                    "`{}` är ingen resurstyp som den här PDP:n beslutar om; `{RESOURCE_TYPE}` väntades (ett AI-system i registret)",
                    self.resource.kind
                ),
                format!(
                    "`{}` is not a resource type this PDP decides for; expected `{RESOURCE_TYPE}` (an AI system of the register)",
                    self.resource.kind
                ),
            )));
        }

        let subject_id = self.subject.id.clone().unwrap_or_default();
        let user = match &self.subject.properties {
            Some(properties)
                if SUBJECT_PROPERTIES
                    .iter()
                    .any(|k| properties.contains_key(*k)) =>
            {
                if !properties.contains_key("roles") {
                    return Err(MappingError::Invalid(RequestError::at(
                        "subject.properties.roles",
                        "obligatoriskt fält saknas: ett subjekt med `unit` eller `aiLiteracy` är en användare som anges direkt och behöver `roles` (utelämna `properties` för en användare i registret)",
                        "missing required field: a subject given with `unit` or `aiLiteracy` is a user given inline, who needs `roles` (leave out `properties` for a user of the register)",
                    )));
                }
                let mut user = Map::new();
                user.insert("id".into(), Value::String(subject_id));
                for key in SUBJECT_PROPERTIES {
                    if let Some(value) = properties.get(key) {
                        user.insert(key.into(), value.clone());
                    }
                }
                note_unknown(
                    &mut notes,
                    Ignored::SubjectProperty,
                    properties.keys(),
                    &SUBJECT_PROPERTIES,
                    language,
                );
                Value::Object(user)
            }
            Some(properties) => {
                note_unknown(
                    &mut notes,
                    Ignored::SubjectProperty,
                    properties.keys(),
                    &SUBJECT_PROPERTIES,
                    language,
                );
                Value::String(subject_id)
            }
            None => Value::String(subject_id),
        };
        let ai = resource_id
            .map(str::to_string)
            .or_else(|| self.resource.id.clone())
            .unwrap_or_default();
        let mut query = Map::new();
        query.insert("user".into(), user);
        query.insert("ai".into(), Value::String(ai));
        query.insert("action".into(), Value::String(self.action.clone()));
        if let Some(context) = &self.context {
            let mut flags = Map::new();
            for (key, value) in context {
                // `at` is passed on so that the engine refuses it by name: the service decides
                // on its own clock, and a caller who sends a day should hear that it did not count.
                if key == "data" || key == "at" || key == "text" {
                    query.insert(key.clone(), value.clone());
                } else if Context::KEYS.contains(&key.as_str()) {
                    flags.insert(key.clone(), value.clone());
                }
            }
            let known: Vec<&str> = Context::KEYS
                .iter()
                .copied()
                .chain(["data", "at", "text"])
                .collect();
            note_unknown(
                &mut notes,
                Ignored::ContextKey,
                context.keys(),
                &known,
                language,
            );
            if !flags.is_empty() {
                query.insert("context".into(), Value::Object(flags));
            }
        }
        // The service refuses an `X-Request-ID` beyond the rule before it gets here; the check
        // keeps this mapping to the query's rule for any other caller.
        let within =
            |id: &&str| (1..=crate::http::MAX_REQUEST_ID_CHARS).contains(&id.chars().count());
        if let Some(id) = request_id.filter(within) {
            query.insert("requestId".into(), Value::String(id.to_string()));
        }
        // As JSON text, the query takes the reader's fast typed path (the schema is checked only
        // for a query that fails it, and gives the same errors as `Query::from_value`).
        let query = Query::from_json(&Value::Object(query).to_string())
            .map_err(|e| MappingError::Invalid(input_error(&e)))?;
        Ok((query, notes))
    }
}

/// What kind of key a request gave that aipolicy does not read.
#[derive(Clone, Copy)]
enum Ignored {
    SubjectProperty,
    ContextKey,
}

/// Notes, in `language`, each key of `keys` that is not `known` but close to a known one.
fn note_unknown<'a>(
    notes: &mut Vec<String>,
    what: Ignored,
    keys: impl Iterator<Item = &'a String>,
    known: &[&str],
    language: Language,
) {
    for key in keys {
        if known.contains(&key.as_str()) {
            continue;
        }
        if let Some(near) = aipolicy::suggest::closest(key, known.iter().copied()) {
            notes.push(match (language, what) {
                (Language::Sv, Ignored::SubjectProperty) => format!(
                    "Subjektets egenskap `{key}` läser aipolicy inte, så den bortsågs från; menade du `{near}`?"
                ),
                (Language::Sv, Ignored::ContextKey) => format!(
                    "Nyckeln `{key}` i context läser aipolicy inte, så den bortsågs från; menade du `{near}`?"
                ),
                (Language::En, Ignored::SubjectProperty) => format!(
                    "Subject property `{key}` is not one aipolicy reads, so it was ignored; did you mean `{near}`?"
                ),
                (Language::En, Ignored::ContextKey) => format!(
                    "Context key `{key}` is not one aipolicy reads, so it was ignored; did you mean `{near}`?"
                ),
            });
        }
    }
}

/// The first problem of an input error of the engine, named in AuthZEN's terms.
pub fn input_error(e: &aipolicy::InputError) -> RequestError {
    e.problems
        .first()
        .map_or_else(|| RequestError::whole(e.to_string()), field_error)
}

/// An error of aipolicy's query (or engine) with its path given in AuthZEN's terms.
pub fn field_error(problem: &FieldError) -> RequestError {
    RequestError {
        problem: FieldError {
            path: authzen_path(&problem.path),
            ..problem.clone()
        },
        over_limit: false,
    }
}

/// The AuthZEN path of a query path: `user` → `subject.id`, `user.roles[0]` →
/// `subject.properties.roles[0]`, `ai` → `resource.id`, `data[1]` → `context.data[1]`,
/// `action` → `action.name`, `context.humanReview` stays.
pub fn authzen_path(path: &str) -> String {
    let (head, rest) = path
        .find(['.', '['])
        .map_or((path, ""), |at| path.split_at(at));
    match (head, rest) {
        ("user", "" | ".id") => "subject.id".to_string(),
        ("user", rest) => format!("subject.properties{rest}"),
        ("ai", rest) => format!("resource.id{rest}"),
        ("data", rest) => format!("context.data{rest}"),
        ("text", rest) => format!("context.text{rest}"),
        ("action", rest) => format!("action.name{rest}"),
        ("requestId", _) => "X-Request-ID".to_string(),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        parse_evaluation(body.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn the_shape_errors_of_the_certification_scenario_name_the_field() {
        let ok = r#"{"subject":{"type":"user","id":"anna"},"action":{"name":"use"},"resource":{"type":"ai_system","id":"chatgpt"}}"#;
        assert!(parse_evaluation(ok.as_bytes()).is_ok());
        assert_eq!(
            err(r#"{"action":{"name":"use"},"resource":{"type":"ai_system","id":"x"}}"#),
            "subject: missing required field"
        );
        assert_eq!(
            err(
                r#"{"subject":{"id":"a"},"action":{"name":"use"},"resource":{"type":"ai_system","id":"x"}}"#
            ),
            "subject.type: missing required field"
        );
        assert_eq!(
            err(
                r#"{"subject":{"type":"user"},"action":{"name":"use"},"resource":{"type":"ai_system","id":"x"}}"#
            ),
            "subject.id: missing required field"
        );
        assert_eq!(
            err(
                r#"{"subject":{"type":"user","id":"a"},"action":{},"resource":{"type":"ai_system","id":"x"}}"#
            ),
            "action.name: missing required field"
        );
        assert_eq!(
            err(
                r#"{"subject":{"type":"user","id":"a"},"action":{"name":"use"},"resource":{"type":"ai_system"}}"#
            ),
            "resource.id: missing required field"
        );
        assert_eq!(
            err(
                r#"{"subject":"alice","action":{"name":"use"},"resource":{"type":"ai_system","id":"x"}}"#
            ),
            "subject: expected an object with `type` and `id`, got a string"
        );
        assert_eq!(
            err(
                r#"{"subject":{"type":"user","id":"a"},"action":{"name":123},"resource":{"type":"ai_system","id":"x"}}"#
            ),
            "action.name: expected a string, got a number"
        );
        assert_eq!(
            err("[]"),
            "the request body must be a JSON object, got an array"
        );
        assert!(err("{").starts_with("invalid JSON"));
        assert!(err("").contains("empty"));
    }

    #[test]
    fn items_take_missing_keys_whole_from_the_defaults() {
        let body = r#"{"subject":{"type":"user","id":"anna"},"action":{"name":"use"},
            "resource":{"type":"ai_system","id":"chatgpt"},"context":{"data":"oppen"},
            "options":{"evaluations_semantic":"deny_on_first_deny"},
            "evaluations":[{}, {"resource":{"type":"ai_system","id":"copilot-chat"},"context":{"data":"intern"}}, {"action":{}}, 7]}"#;
        let Evaluations::Many { semantic, items } = parse_evaluations(body.as_bytes(), 10).unwrap()
        else {
            panic!("expected items");
        };
        assert_eq!(semantic, Semantic::DenyOnFirstDeny);
        let first = items[0].as_ref().unwrap();
        assert_eq!(first.resource.id.as_deref(), Some("chatgpt"));
        assert_eq!(first.context.as_ref().unwrap()["data"], "oppen");
        let second = items[1].as_ref().unwrap();
        assert_eq!(second.resource.id.as_deref(), Some("copilot-chat"));
        assert_eq!(second.context.as_ref().unwrap()["data"], "intern");
        assert_eq!(
            items[2].as_ref().unwrap_err().to_string(),
            "evaluations[2].action.name: missing required field"
        );
        assert!(items[3]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("got a number"));
        assert!(parse_evaluations(body.as_bytes(), 3)
            .unwrap_err()
            .to_string()
            .contains("the limit is 3"));
        let empty = r#"{"subject":{"type":"user","id":"a"},"action":{"name":"use"},"resource":{"type":"ai_system","id":"x"},"evaluations":[]}"#;
        assert!(matches!(
            parse_evaluations(empty.as_bytes(), 10).unwrap(),
            Evaluations::Single(_)
        ));
    }

    #[test]
    fn maps_onto_the_query_and_names_fields_in_authzen_terms() {
        let e = parse_evaluation(br#"{"subject":{"type":"user","id":"t","properties":{"roles":["employee"],"department":"x","role":"y"}},
            "action":{"name":"decide"},"resource":{"type":"ai_system","id":"lokal-sprakmodell"},
            "context":{"data":["intern"],"humanReview":true,"humanreview":false,"time":"now"}}"#).unwrap();
        let (query, notes) = e.to_query(None, Some("r-1"), Language::En).unwrap();
        assert_eq!(query.action, aipolicy::Action::Decide);
        assert!(query.context.human_review);
        assert_eq!(query.request_id.as_deref(), Some("r-1"));
        assert_eq!(notes.len(), 2, "{notes:?}");
        let bad = parse_evaluation(br#"{"subject":{"type":"user","id":"t","properties":{"roles":["admin"]}},
            "action":{"name":"use"},"resource":{"type":"ai_system","id":"x"},"context":{"data":"oppen"}}"#).unwrap();
        let e = bad.to_query(None, None, Language::En).unwrap_err();
        assert!(
            e.error()
                .problem
                .path
                .starts_with("subject.properties.roles"),
            "{e:?}"
        );
        assert_eq!(authzen_path("data[1]"), "context.data[1]");
        assert_eq!(authzen_path("user"), "subject.id");
        assert_eq!(authzen_path("context.humanReview"), "context.humanReview");
    }

    /// What the fuzz target does, on a few thousand deterministic mutations of its seeds:
    /// nothing panics, and every error has a message.
    #[test]
    fn the_reader_takes_any_bytes() {
        let seeds: [&[u8]; 3] = [
            include_bytes!("../fuzz/corpus/authzen_request/eval"),
            include_bytes!("../fuzz/corpus/authzen_request/evals"),
            include_bytes!("../fuzz/corpus/authzen_request/search"),
        ];
        let specials: &[u8] = b"{}[]\":,0-e.tfn \\u\x00\xff";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..6000 {
            let mut bytes = seeds[round % seeds.len()].to_vec();
            for _ in 0..=(next() % 4) {
                let at = (next() as usize) % bytes.len().max(1);
                match next() % 4 {
                    0 => bytes.truncate(at),
                    1 => bytes.insert(
                        at.min(bytes.len()),
                        specials[(next() as usize) % specials.len()],
                    ),
                    2 if !bytes.is_empty() => {
                        bytes.remove(at.min(bytes.len() - 1));
                    }
                    _ if !bytes.is_empty() => {
                        let i = at.min(bytes.len() - 1);
                        bytes[i] = specials[(next() as usize) % specials.len()];
                    }
                    _ => {}
                }
            }
            match parse_evaluation(&bytes) {
                Ok(e) => drop(e.to_query(None, Some("x"), Language::Sv)),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
            match parse_evaluations(&bytes, 8) {
                Ok(Evaluations::Single(e)) => drop(e.to_query(None, None, Language::Sv)),
                Ok(Evaluations::Many { items, .. }) => {
                    assert!(!items.is_empty() && items.len() <= 8);
                    for item in items.iter().flatten() {
                        drop(item.to_query(None, None, Language::Sv));
                    }
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
            if let Ok(search) = parse_resource_search(&bytes) {
                assert!(search.evaluation.resource.id.is_none());
                drop(
                    search
                        .evaluation
                        .to_query(Some("chatgpt"), None, Language::Sv),
                );
            }
        }
    }
}
