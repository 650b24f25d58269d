//! The question put to the engine (pinned JSON shape, see DESIGN.md).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{FieldError, InputError};
use crate::json_schema;
use crate::register::{Role, User};

/// What the user wants to do with the AI system (pinned names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Process information with the AI.
    #[default]
    Use,
    /// AI output supports a decision about an individual.
    Decide,
    /// AI output is published or sent to residents.
    Publish,
    /// Deploy an AI service that residents interact with.
    OfferToResidents,
    /// Build a new application or integration.
    Develop,
    /// Report a deviation, error or misuse (always allowed).
    ReportIncident,
}

impl Action {
    /// Every action, in DESIGN.md's order.
    pub const ALL: [Action; 6] = [
        Action::Use,
        Action::Decide,
        Action::Publish,
        Action::OfferToResidents,
        Action::Develop,
        Action::ReportIncident,
    ];

    /// The pinned name, also the Cedar action id.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Use => "use",
            Action::Decide => "decide",
            Action::Publish => "publish",
            Action::OfferToResidents => "offerToResidents",
            Action::Develop => "develop",
            Action::ReportIncident => "reportIncident",
        }
    }

    /// Whether a query for this action must name its data classes (U2).
    pub fn requires_data(self) -> bool {
        matches!(self, Action::Use | Action::Decide | Action::Publish)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = InputError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| {
                InputError::at(
                    "action",
                    format!(
                        "unknown action `{name}`; expected one of {}",
                        Action::ALL.map(Action::as_str).join(", ")
                    ),
                )
            })
    }
}

/// Who asks: a user of the register, by id, or a user the calling service already knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserRef {
    /// Looked up in the register.
    Registered(String),
    /// Given in full; not looked up.
    Inline(User),
}

impl UserRef {
    /// A user of the register.
    pub fn registered(id: impl Into<String>) -> Self {
        UserRef::Registered(id.into())
    }

    /// A user given inline with their roles.
    pub fn inline(id: impl Into<String>, roles: impl IntoIterator<Item = Role>) -> Self {
        UserRef::Inline(User {
            id: id.into(),
            roles: roles.into_iter().collect(),
            unit: None,
        })
    }

    /// The user's id.
    pub fn id(&self) -> &str {
        match self {
            UserRef::Registered(id) => id,
            UserRef::Inline(user) => &user.id,
        }
    }
}

/// Facts about the request that only the asking service knows; all default to false.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Context {
    /// `decide`: a person reviews and takes the decision (§6).
    #[serde(default, skip_serializing_if = "is_false")]
    pub human_review: bool,
    /// `publish`: a person has reviewed the output (U1).
    #[serde(default, skip_serializing_if = "is_false")]
    pub human_reviewed: bool,
    /// `publish`: the output is marked as AI-generated (§5).
    #[serde(default, skip_serializing_if = "is_false")]
    pub ai_disclosure: bool,
    /// `develop`: information-security review done (U5).
    #[serde(default, skip_serializing_if = "is_false")]
    pub security_review: bool,
    /// `develop`: IT-security review done (U5).
    #[serde(default, skip_serializing_if = "is_false")]
    pub it_security_review: bool,
    /// `develop`: data-protection review done (U5).
    #[serde(default, skip_serializing_if = "is_false")]
    pub data_protection_review: bool,
    /// `develop`: values review done (U5).
    #[serde(default, skip_serializing_if = "is_false")]
    pub values_review: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Context {
    /// The pinned key names, as in the query JSON and the Cedar schema.
    pub const KEYS: [&'static str; 7] = [
        "humanReview",
        "humanReviewed",
        "aiDisclosure",
        "securityReview",
        "itSecurityReview",
        "dataProtectionReview",
        "valuesReview",
    ];

    /// Every flag with its pinned key.
    pub fn flags(&self) -> [(&'static str, bool); 7] {
        [
            ("humanReview", self.human_review),
            ("humanReviewed", self.human_reviewed),
            ("aiDisclosure", self.ai_disclosure),
            ("securityReview", self.security_review),
            ("itSecurityReview", self.it_security_review),
            ("dataProtectionReview", self.data_protection_review),
            ("valuesReview", self.values_review),
        ]
    }

    /// Sets a flag by its pinned key.
    pub fn set(&mut self, key: &str, value: bool) -> Result<(), InputError> {
        let flag = match key {
            "humanReview" => &mut self.human_review,
            "humanReviewed" => &mut self.human_reviewed,
            "aiDisclosure" => &mut self.ai_disclosure,
            "securityReview" => &mut self.security_review,
            "itSecurityReview" => &mut self.it_security_review,
            "dataProtectionReview" => &mut self.data_protection_review,
            "valuesReview" => &mut self.values_review,
            _ => {
                return Err(InputError::at(
                    format!("context.{key}"),
                    format!(
                        "unknown context key; expected one of {}",
                        Context::KEYS.join(", ")
                    ),
                ))
            }
        };
        *flag = value;
        Ok(())
    }
}

/// May this user do this action with this AI system on information of these data classes?
///
/// ```
/// use aipolicy::{Action, Query};
/// let query = Query::from_json(r#"{"user": "anna", "ai": "copilot-chat", "data": "intern"}"#).unwrap();
/// assert_eq!(query.action, Action::Use);
/// assert_eq!(query.data, ["intern"]);
///
/// let err = Query::from_json(r#"{"user": "anna", "ai": "copilot-chat", "data": []}"#).unwrap_err();
/// assert_eq!(err.problems[0].path, "data");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Who asks.
    pub user: UserRef,
    /// The AI system's id; one absent from the register is public AI.
    pub ai: String,
    /// Data class ids; empty when the query names none.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub data: Vec<String>,
    /// The action; `use` when not given.
    #[serde(default)]
    pub action: Action,
    /// Facts only the asking service knows.
    #[serde(default)]
    pub context: Context,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(id) => vec![id],
        OneOrMany::Many(ids) => ids,
    })
}

/// The largest query JSON [`Query::from_json`] reads (and so the longest `batch` line): 64 KiB.
/// Checked before parsing; a valid query is far smaller (ids ≤ 256 characters, ≤ 100 classes).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// The deepest nesting of arrays and objects in a query; a valid query nests 3 levels
/// (`{"user": {"roles": [...]}}`). Checked before parsing JSON text and on a JSON value.
pub const MAX_QUERY_DEPTH: usize = 16;

/// The query's size and nesting, checked before the JSON is parsed.
fn check_text_limits(text: &str) -> Result<(), InputError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(InputError::at(
            "",
            format!(
                "query is {} bytes; the limit is {MAX_QUERY_BYTES} bytes (64 KiB)",
                text.len()
            ),
        ));
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (offset, byte) in text.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_QUERY_DEPTH {
                    let (line, column) = crate::error::line_column(text, offset);
                    return Err(InputError::at(
                        "",
                        format!(
                            "query nests arrays and objects more than {MAX_QUERY_DEPTH} levels deep (at line {line} column {column}); the limit is {MAX_QUERY_DEPTH}"
                        ),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Whether `value` nests arrays and objects more than [`MAX_QUERY_DEPTH`] levels deep
/// (iteratively, so that a value of any depth is measured without recursion).
fn too_deep(value: &Value) -> bool {
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        match value {
            Value::Array(items) if depth < MAX_QUERY_DEPTH => {
                stack.extend(items.iter().map(|child| (child, depth + 1)));
            }
            Value::Object(map) if depth < MAX_QUERY_DEPTH => {
                stack.extend(map.values().map(|child| (child, depth + 1)));
            }
            Value::Array(_) | Value::Object(_) => return true,
            _ => {}
        }
    }
    false
}

/// A JSON value read with every object's keys unique. serde_json keeps the last of duplicate
/// keys, so `{"data": "sakerhetsskydd", "data": "intern"}` would be decided as `intern` while a
/// proxy or log that reads the first key sees `sakerhetsskydd`: ambiguous input is an input error.
struct UniqueKeys(Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor).map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate key `{key}`"
                )));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

fn query_validator() -> Result<&'static jsonschema::Validator, InputError> {
    static VALIDATOR: json_schema::Compiled = json_schema::Compiled::new();
    json_schema::compiled(&VALIDATOR, json_schema::QUERY_SCHEMA)
        .map_err(|e| InputError::at("", format!("internal error in the query schema: {e}")))
}

impl Query {
    /// A `use` query with no context.
    pub fn new(
        user: UserRef,
        ai: impl Into<String>,
        data: impl IntoIterator<Item = impl Into<String>>,
    ) -> Query {
        Query {
            user,
            ai: ai.into(),
            data: data.into_iter().map(Into::into).collect(),
            action: Action::Use,
            context: Context::default(),
        }
    }

    /// The same query for another action.
    pub fn with_action(mut self, action: Action) -> Query {
        self.action = action;
        self
    }

    /// The same query with a context flag set.
    pub fn with_context(mut self, key: &str, value: bool) -> Result<Query, InputError> {
        self.context.set(key, value)?;
        Ok(self)
    }

    /// Parses a query from JSON text, validated against `schemas/query.schema.json`.
    ///
    /// A text over [`MAX_QUERY_BYTES`] or nested over [`MAX_QUERY_DEPTH`] levels is an input
    /// error that names the limit, found before any parsing.
    pub fn from_json(text: &str) -> Result<Query, InputError> {
        check_text_limits(text)?;
        let UniqueKeys(value) = serde_json::from_str(text).map_err(|e| {
            InputError::at(
                "",
                format!(
                    "invalid JSON at line {} column {}: {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        Query::from_value(value)
    }

    /// Reads a query from a JSON value, validated against `schemas/query.schema.json`.
    pub fn from_value(value: Value) -> Result<Query, InputError> {
        if too_deep(&value) {
            return Err(InputError::at(
                "",
                format!(
                    "query nests arrays and objects more than {MAX_QUERY_DEPTH} levels deep; the limit is {MAX_QUERY_DEPTH}"
                ),
            ));
        }
        let problems = json_schema::violations(query_validator()?, &value);
        if !problems.is_empty() {
            return Err(InputError { problems });
        }
        serde_json::from_value(value).map_err(|e| InputError {
            problems: vec![FieldError::new("", e.to_string())],
        })
    }
}
