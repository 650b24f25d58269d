//! The question put to the engine (its JSON shape is fixed: services rely on it).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostics::error::{FieldError, InputError};
use crate::io::json_schema;
use crate::model::clock::Date;
use crate::model::register::{Role, User};

/// What the user wants to do with the AI system (pinned names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Process information with the AI.
    #[default]
    Use,
    /// AI output supports a decision about an individual.
    Decide,
    /// AI output is published: on the web, in print, to the public.
    Publish,
    /// AI output is sent to one resident about their own matter (a drafted reply or letter).
    SendToResident,
    /// Deploy an AI service that residents interact with.
    OfferToResidents,
    /// Build a new application or integration.
    Develop,
    /// Report a deviation, error or misuse (always allowed).
    ReportIncident,
}

impl Action {
    /// Every action, in the order the documentation lists them.
    pub const ALL: [Action; 7] = [
        Action::Use,
        Action::Decide,
        Action::Publish,
        Action::SendToResident,
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
            Action::SendToResident => "sendToResident",
            Action::OfferToResidents => "offerToResidents",
            Action::Develop => "develop",
            Action::ReportIncident => "reportIncident",
        }
    }

    /// Whether a query for this action must name its data classes (U2).
    pub fn requires_data(self) -> bool {
        matches!(
            self,
            Action::Use | Action::Decide | Action::Publish | Action::SendToResident
        )
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
                let all = Action::ALL.map(Action::as_str).join(", ");
                InputError::in_both(
                    "action",
                    format!("okänd handling `{name}`; handlingarna är {all}"),
                    format!("unknown action `{name}`; expected one of {all}"),
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
    /// Given by the calling service. When the register lists the id, the register is the
    /// authority: the user has only the roles both grant, and the register's unit.
    #[serde(deserialize_with = "from_object")]
    Inline(User),
}

impl UserRef {
    /// A user of the register.
    pub fn registered(id: impl Into<String>) -> Self {
        UserRef::Registered(id.into())
    }

    /// A user given inline with their roles.
    pub fn inline(id: impl Into<String>, roles: impl IntoIterator<Item = Role>) -> Self {
        UserRef::Inline(User::new(id, roles))
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
    /// `publish`, `sendToResident`: a person has reviewed the output (U1).
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
                let keys = Context::KEYS.join(", ");
                return Err(InputError::in_both(
                    format!("context.{key}"),
                    format!("okänd nyckel i context; nycklarna är {keys}"),
                    format!("unknown context key; expected one of {keys}"),
                ));
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
    #[serde(default, deserialize_with = "from_object")]
    pub context: Context,
    /// The caller's id for this question, echoed in the decision so that answers can be
    /// paired with questions (`batch`, a service).
    #[serde(
        default,
        rename = "requestId",
        deserialize_with = "crate::model::register::present_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    /// The day to decide at (an RFC 3339 date or time, read by [`crate::model::clock::parse_day`]):
    /// for re-deciding a past question or trying a planned one. `None`: today, by the engine's
    /// [`Clock`](crate::model::clock::Clock). The decision service refuses it: it decides on its own
    /// clock.
    #[serde(
        default,
        deserialize_with = "day",
        serialize_with = "write_day",
        skip_serializing_if = "Option::is_none"
    )]
    pub at: Option<Date>,
    /// The text the question is about (pinned key `text`): a string, or a list of strings such
    /// as the messages of a chat. The engine finds information in it (identity numbers,
    /// contact details, markings, special categories, the register's own patterns) and the
    /// data classes the register maps them to join `data`: text can raise a query, never lower
    /// it. At most [`MAX_TEXT_BYTES`] in all. Empty: no text.
    #[serde(
        default,
        deserialize_with = "texts",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub text: Vec<String>,
    /// The data class taken when the query names none and nothing in its `text` maps to one
    /// (a gateway's `--default-data`). Not read from JSON: whoever runs the engine decides it.
    /// `None`: such a query is an input error, never taken as open information.
    #[serde(skip)]
    pub default_data: Option<String>,
}

/// The most text a query may carry, in UTF-8 bytes, all its strings together: 1 MiB, a long
/// document or a long chat. A larger text is an input error at `text` that names the limit.
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// The most strings a query's `text` list may hold (a chat's messages).
pub const MAX_TEXT_PARTS: usize = 10_000;

fn texts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    one_or_many_of(d, "a text or a non-empty list of texts")
}

/// The longest `at` a query may give, in characters (as the schema counts).
pub const MAX_AT_CHARS: usize = 64;

fn day<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    let text = String::deserialize(d)?;
    if !(10..=MAX_AT_CHARS).contains(&text.chars().count()) {
        return Err(serde::de::Error::custom(format!(
            "`at` is 10 to {MAX_AT_CHARS} characters"
        )));
    }
    crate::model::clock::parse_day(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn write_day<S: serde::Serializer>(day: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match day {
        Some(day) => s.collect_str(day),
        None => s.serialize_none(),
    }
}

/// Reads a `T` from a JSON object only: serde also reads a struct from an array of its fields
/// (`"context": [true]`), which the schema refuses.
fn from_object<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    struct ObjectOnly<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectOnly<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(ObjectOnly(std::marker::PhantomData))
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    one_or_many_of(d, "one data class id or a non-empty list of them")
}

/// One string or a non-empty list of them (`expected` says which, in an error). `[]` is not
/// "none": the schema refuses it, and so does the type.
fn one_or_many_of<'de, D: serde::Deserializer<'de>>(
    d: D,
    expected: &'static str,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    match OneOrMany::deserialize(d)? {
        OneOrMany::One(one) => Ok(vec![one]),
        OneOrMany::Many(many) if many.is_empty() => {
            Err(serde::de::Error::invalid_length(0, &expected))
        }
        OneOrMany::Many(many) => Ok(many),
    }
}

/// The largest query JSON [`Query::from_json`] reads (and so the longest `batch` line): 2 MiB,
/// room for a [`MAX_TEXT_BYTES`] text and its JSON escapes. Checked before parsing; a query
/// without text is far smaller (ids ≤ 256 characters, ≤ 100 classes).
pub const MAX_QUERY_BYTES: usize = 2 * 1024 * 1024;

/// [`MAX_QUERY_BYTES`] as people read it.
pub const MAX_QUERY_SIZE: &str = "2 MiB";

/// The deepest nesting of arrays and objects in a query; a valid query nests 3 levels
/// (`{"user": {"roles": [...]}}`). Checked before parsing JSON text and on a JSON value.
pub const MAX_QUERY_DEPTH: usize = 16;

/// What a query of `length` bytes, over [`MAX_QUERY_BYTES`], is told.
pub fn too_large(length: u64) -> FieldError {
    FieldError::in_both(
        "",
        format!("frågan är {length} byte; gränsen är {MAX_QUERY_BYTES} byte ({MAX_QUERY_SIZE})"),
        format!("query is {length} bytes; the limit is {MAX_QUERY_BYTES} bytes ({MAX_QUERY_SIZE})"),
    )
}

/// The query's size and nesting, checked before the JSON is parsed.
fn check_text_limits(text: &str) -> Result<(), InputError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(InputError {
            problems: vec![too_large(text.len() as u64)],
        });
    }
    if let Some(offset) = json_nesting_over(text.as_bytes(), MAX_QUERY_DEPTH) {
        let (line, column) = crate::diagnostics::error::line_column(text, offset);
        return Err(InputError::in_both(
            "",
            format!(
                "frågan har listor och objekt i mer än {MAX_QUERY_DEPTH} nivåer (på rad {line}, kolumn {column}); gränsen är {MAX_QUERY_DEPTH}"
            ),
            format!(
                "query nests arrays and objects more than {MAX_QUERY_DEPTH} levels deep (at line {line} column {column}); the limit is {MAX_QUERY_DEPTH}"
            ),
        ));
    }
    Ok(())
}

/// Where JSON text first nests arrays and objects more than `max` levels deep (the byte
/// offset of the bracket that does), found by scanning the bytes before anything is parsed:
/// the check a service reading JSON around a query applies too.
///
/// ```
/// use aipolicy::query::json_nesting_over;
/// assert_eq!(json_nesting_over(br#"{"a": [1, "[[["]}"#, 2), None);
/// assert_eq!(json_nesting_over(b"[[[1]]]", 2), Some(2));
/// ```
pub fn json_nesting_over(bytes: &[u8], max: usize) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (offset, &byte) in bytes.iter().enumerate() {
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
                if depth > max {
                    return Some(offset);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// A JSON reader's error ([`json_with_unique_keys`]) in Swedish: where, and what in words
/// (serde_json says the details in English only).
///
/// ```
/// use aipolicy::query::{json_error_sv, json_with_unique_keys};
/// let e = json_with_unique_keys(br#"{"a": 1, "a": 2}"#).unwrap_err();
/// assert_eq!(json_error_sv(&e), "nyckeln `a` står två gånger i samma objekt (rad 1, kolumn 12)");
/// let e = json_with_unique_keys(br#"{"a": "#).unwrap_err();
/// assert_eq!(json_error_sv(&e), "texten tar slut mitt i JSON (rad 1, kolumn 6)");
/// ```
pub fn json_error_sv(e: &serde_json::Error) -> String {
    let place = format!("rad {}, kolumn {}", e.line(), e.column());
    let message = e.to_string();
    let duplicate = message
        .strip_prefix("duplicate key `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(key, _)| key);
    match (e.classify(), duplicate) {
        (_, Some(key)) => format!("nyckeln `{key}` står två gånger i samma objekt ({place})"),
        (serde_json::error::Category::Eof, _) => format!("texten tar slut mitt i JSON ({place})"),
        (serde_json::error::Category::Syntax, _) => format!("ogiltig JSON-syntax ({place})"),
        _ => format!("ogiltig JSON ({place})"),
    }
}

/// Reads JSON (one value, nothing after it) with every object's keys unique: serde_json keeps
/// the last of duplicate keys, so `{"data": "sakerhetsskydd", "data": "intern"}` would be
/// read as `intern` while a proxy or log that reads the first key sees `sakerhetsskydd`. The
/// reader queries use, for services that read other JSON around a query.
///
/// ```
/// use aipolicy::query::json_with_unique_keys;
/// assert!(json_with_unique_keys(br#"{"a": [1, {"b": null}]}"#).is_ok());
/// assert!(json_with_unique_keys(br#"{"a": 1, "a": 2}"#).unwrap_err().to_string().contains("duplicate key `a`"));
/// ```
pub fn json_with_unique_keys(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let UniqueKeys(value) = UniqueKeys::deserialize(&mut reader)?;
    reader.end()?;
    Ok(value)
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

fn query_validator() -> Result<&'static json_schema::CompiledSchema, InputError> {
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
            request_id: None,
            at: None,
            text: Vec::new(),
            default_data: None,
        }
    }

    /// The same query about `text`: one string, or several (a chat's messages).
    ///
    /// ```
    /// use aipolicy::{Engine, Query, UserRef};
    /// let engine = Engine::bundled().unwrap();
    /// let query = Query::new(UserRef::registered("anna"), "chatgpt", ["oppen"])
    ///     .with_text(["Sammanfatta ärendet för 19811218-9876."]);
    /// let decision = engine.decide(&query).unwrap();
    /// assert!(!decision.is_allowed());
    /// assert_eq!(decision.found[0].kind, "personnummer");
    /// ```
    pub fn with_text(mut self, text: impl IntoIterator<Item = impl Into<String>>) -> Query {
        self.text = text.into_iter().map(Into::into).collect();
        self
    }

    /// The same query, taking `class` as its information when it names no data class and
    /// nothing in its text maps to one (see [`Query::default_data`]).
    pub fn with_default_data(mut self, class: impl Into<String>) -> Query {
        self.default_data = Some(class.into());
        self
    }

    /// The size of the query's text in UTF-8 bytes, all its strings together.
    pub fn text_bytes(&self) -> usize {
        self.text.iter().map(String::len).sum()
    }

    /// The same query, decided at `day` instead of today.
    pub fn on_day(mut self, day: Date) -> Query {
        self.at = Some(day);
        self
    }

    /// The same query with the caller's `requestId`, echoed in its decision.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Query {
        self.request_id = Some(request_id.into());
        self
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
    /// error that names the limit, found before any parsing. A leading UTF-8 byte-order mark
    /// (as some editors write) is skipped.
    pub fn from_json(text: &str) -> Result<Query, InputError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // Fast path for the common case, a valid query: read it straight into its type and
        // check the schema's few limits on what was read. The types are no more lenient than
        // the schema (unknown and repeated keys, `null`, `[]` and arrays for objects are
        // refused), so what passes is what the schema path accepts, read the same; `tests`
        // compare the two on random texts. Anything else takes the schema path, which also
        // gives the errors.
        if text.len() <= MAX_QUERY_BYTES {
            let mut reader = serde_json::Deserializer::from_str(text);
            let typed = from_object::<_, Query>(&mut reader).and_then(|query| {
                reader.end()?;
                Ok(query)
            });
            if let Ok(query) = typed {
                if query.within_schema_limits() {
                    return query.within_text_limit();
                }
            }
        }
        Query::from_json_via_schema(text)
    }

    /// Whether a query read into its type keeps the limits `schemas/query.schema.json` sets
    /// beyond types: id lengths (in characters, as JSON Schema counts), at most 100 data
    /// classes, at most 3 roles and none twice. A unit test holds these to the schema.
    fn within_schema_limits(&self) -> bool {
        let length = |s: &str, max: usize| (1..=max).contains(&s.chars().count());
        let user = match &self.user {
            UserRef::Registered(id) => length(id, 256),
            UserRef::Inline(user) => {
                length(&user.id, 256)
                    && user.roles.len() <= 3
                    && !user
                        .roles
                        .iter()
                        .enumerate()
                        .any(|(i, r)| user.roles[..i].contains(r))
                    && user
                        .unit
                        .as_deref()
                        .is_none_or(|unit| unit.chars().count() <= 300)
            }
        };
        user && length(&self.ai, 256)
            && self.request_id.as_deref().is_none_or(|id| length(id, 256))
            && self.data.len() <= 100
            && self.data.iter().all(|id| length(id, 128))
            && self.text.len() <= MAX_TEXT_PARTS
    }

    /// [`Query::from_json`] without its fast path: the text is read as a JSON value (every
    /// object's keys unique), checked against the schema, then read into a query. Gives the
    /// same result; exposed so that tests and fuzzers can compare the two.
    #[doc(hidden)]
    pub fn from_json_via_schema(text: &str) -> Result<Query, InputError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        check_text_limits(text)?;
        let value = json_with_unique_keys(text.as_bytes()).map_err(|e| {
            InputError::in_both(
                "",
                json_error_sv(&e),
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
            return Err(InputError::in_both(
                "",
                format!(
                    "frågan har listor och objekt i mer än {MAX_QUERY_DEPTH} nivåer; gränsen är {MAX_QUERY_DEPTH}"
                ),
                format!(
                    "query nests arrays and objects more than {MAX_QUERY_DEPTH} levels deep; the limit is {MAX_QUERY_DEPTH}"
                ),
            ));
        }
        let problems = json_schema::violations(query_validator()?, &value);
        if !problems.is_empty() {
            return Err(InputError { problems });
        }
        // The schema checks `at`'s type and length; whether it is a day, only reading it can.
        if let Some((at, Err(message))) = value
            .get("at")
            .and_then(Value::as_str)
            .map(|at| (at, crate::model::clock::parse_day(at)))
        {
            return Err(InputError::in_both(
                "at",
                format!("`{}` är ingen dag som kan läsas: ett datum (`2026-12-07`) eller en tid med tidszon (`2026-12-07T09:30:00+01:00`) väntades", at.trim()),
                message,
            ));
        }
        serde_json::from_value::<Query>(value)
            .map_err(|e| InputError {
                problems: vec![FieldError::in_both(
                    "",
                    "frågan följer inte frågans schema (se `aipolicy schema query`)",
                    e.to_string(),
                )],
            })?
            .within_text_limit()
    }

    /// The query, when its text keeps [`MAX_TEXT_BYTES`].
    fn within_text_limit(self) -> Result<Query, InputError> {
        self.check_text_limit()?;
        Ok(self)
    }

    /// Whether the query's text keeps [`MAX_TEXT_BYTES`] (a limit in bytes, which the schema,
    /// counting characters, cannot state): checked when a query is read, and by the engine for
    /// a query built in code.
    pub(crate) fn check_text_limit(&self) -> Result<(), InputError> {
        let length = self.text_bytes();
        if length > MAX_TEXT_BYTES {
            return Err(InputError::in_both(
                "text",
                format!("texten är {length} byte (UTF-8); gränsen är {MAX_TEXT_BYTES} byte (1 MiB) sammanlagt"),
                format!("the text is {length} bytes (UTF-8); the limit is {MAX_TEXT_BYTES} bytes (1 MiB) in all"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// JSON text for a value that is, now and then, what a query field expects.
    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            Just("0".to_string()),
            Just("-1".to_string()),
            Just("[]".to_string()),
            Just("{}".to_string()),
            Just(r#""""#.to_string()),
            Just(r#""anna""#.to_string()),
            Just(r#""intern""#.to_string()),
            Just(r#""employee""#.to_string()),
            Just(r#""develop""#.to_string()),
            Just(r#""2026-12-07""#.to_string()),
            Just(r#""2026-02-30""#.to_string()),
            Just(r#""2026-12-07T23:30:00Z""#.to_string()),
            Just(r#""2026-12-07T23:30:00""#.to_string()),
            Just(format!("\"{}\"", "x".repeat(300))),
            proptest::sample::select(vec![127usize, 128, 129, 255, 256, 257, 300, 301])
                .prop_map(|n| format!("\"{}\"", "å".repeat(n))),
            (95usize..105).prop_map(|n| format!("[{}]", vec![r#""intern""#; n].join(","))),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                proptest::collection::vec((key(), inner), 0..5).prop_map(|pairs| {
                    let fields: Vec<String> = pairs
                        .into_iter()
                        .map(|(k, v)| format!("\"{k}\":{v}"))
                        .collect();
                    format!("{{{}}}", fields.join(","))
                }),
            ]
        })
    }

    fn key() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "user",
            "ai",
            "data",
            "action",
            "context",
            "id",
            "roles",
            "unit",
            "humanReview",
            "valuesReview",
            "at",
            "other",
        ])
    }

    /// Query-shaped texts: any keys with any values, or the five fields with values that are
    /// mostly right, sometimes with a key twice or an unknown key.
    fn query_text() -> impl Strategy<Value = String> {
        let anything = proptest::collection::vec((key(), value()), 0..7);
        let user = prop_oneof![
            3 => Just(r#""anna""#.to_string()),
            1 => value(),
            3 => (
                proptest::sample::select(vec![r#""u""#, r#""""#, "null"]),
                proptest::collection::vec(
                    proptest::sample::select(vec![r#""employee""#, r#""elected""#, r#""x""#]),
                    0..5
                ),
                proptest::sample::select(vec!["", r#","unit":"IT""#, r#","unit":null"#, r#","other":1"#]),
            )
                .prop_map(|(id, roles, rest)| {
                    format!(r#"{{"id":{id},"roles":[{}]{rest}}}"#, roles.join(","))
                }),
        ];
        let data = prop_oneof![
            Just(r#""intern""#.to_string()),
            Just(r#"["intern","oppen"]"#.to_string()),
            value(),
        ];
        let action = prop_oneof![
            Just(r#""use""#.to_string()),
            Just(r#""develop""#.to_string()),
            value()
        ];
        let context = prop_oneof![
            Just(r#"{"humanReview":true}"#.to_string()),
            Just(r#"{"valuesReview":false,"aiDisclosure":true}"#.to_string()),
            value()
        ];
        let shaped = (
            user,
            prop_oneof![Just(r#""copilot-chat""#.to_string()), value()],
            proptest::option::of(data),
            proptest::option::of(action),
            proptest::option::of(context),
            proptest::collection::vec((key(), value()), 0..2),
        )
            .prop_map(|(user, ai, data, action, context, extra)| {
                let mut pairs = vec![("user", user), ("ai", ai)];
                pairs.extend(data.map(|v| ("data", v)));
                pairs.extend(action.map(|v| ("action", v)));
                pairs.extend(context.map(|v| ("context", v)));
                pairs.extend(extra);
                pairs
            });
        prop_oneof![anything, shaped, shaped_clean()].prop_map(|pairs| {
            let fields: Vec<String> = pairs
                .into_iter()
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect();
            format!("{{{}}}", fields.join(","))
        })
    }

    /// Queries that are valid but for one limit at a time, mostly: so that the test sees many
    /// accepted ones, and each of the schema's limits from both sides.
    fn shaped_clean() -> impl Strategy<Value = Vec<(&'static str, String)>> {
        let text = |n: usize| format!("\"{}\"", "å".repeat(n));
        let users = vec![
            r#""anna""#.to_string(),
            r#"{"id":"u","roles":["employee"]}"#.to_string(),
            text(256),
            text(257),
            format!(r#"{{"id":{},"roles":[]}}"#, text(256)),
            format!(r#"{{"id":{},"roles":[]}}"#, text(257)),
            format!(r#"{{"id":"u","roles":[],"unit":{}}}"#, text(300)),
            format!(r#"{{"id":"u","roles":[],"unit":{}}}"#, text(301)),
            r#"{"id":"u","roles":["employee","contractor","elected"]}"#.to_string(),
            r#"{"id":"u","roles":["employee","employee"]}"#.to_string(),
        ];
        let ais = vec![r#""x""#.to_string(), text(256), text(257)];
        let many = |n: usize| format!("[{}]", vec![r#""a""#; n].join(","));
        let data = vec![
            r#""intern""#.to_string(),
            r#"["oppen","intern"]"#.to_string(),
            text(128),
            text(129),
            format!("[{}]", text(128)),
            format!("[{}]", text(129)),
            many(100),
            many(101),
        ];
        (
            proptest::sample::select(users),
            proptest::sample::select(ais),
            proptest::sample::select(data),
            proptest::sample::select(vec![r#""use""#, r#""decide""#]),
        )
            .prop_map(|(user, ai, data, action)| {
                vec![
                    ("user", user),
                    ("ai", ai),
                    ("data", data),
                    ("action", action.to_string()),
                ]
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6000, ..ProptestConfig::default() })]

        /// The fast path accepts exactly what the schema path accepts, and reads it the same.
        #[test]
        fn the_fast_path_reads_what_the_schema_path_reads(text in query_text()) {
            let fast = Query::from_json(&text);
            let checked = Query::from_json_via_schema(&text);
            match (&fast, &checked) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                // A refusal is reported by the schema path in both cases.
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                _ => prop_assert!(false, "{text}: fast {fast:?}, schema path {checked:?}"),
            }
        }
    }

    #[test]
    fn the_fast_paths_limits_are_the_schemas() {
        let schema: Value = serde_json::from_str(json_schema::QUERY_SCHEMA).unwrap();
        let at = |pointer: &str| schema.pointer(pointer).and_then(Value::as_u64).unwrap();
        assert_eq!(at("/properties/user/else/minLength"), 1);
        assert_eq!(at("/properties/user/else/maxLength"), 256);
        assert_eq!(at("/properties/ai/minLength"), 1);
        assert_eq!(at("/properties/ai/maxLength"), 256);
        assert_eq!(at("/properties/data/then/minItems"), 1);
        assert_eq!(at("/properties/data/then/maxItems"), 100);
        assert_eq!(at("/properties/data/then/items/minLength"), 1);
        assert_eq!(at("/properties/data/then/items/maxLength"), 128);
        assert_eq!(at("/properties/data/else/minLength"), 1);
        assert_eq!(at("/properties/data/else/maxLength"), 128);
        assert_eq!(at("/$defs/inlineUser/properties/id/minLength"), 1);
        assert_eq!(at("/$defs/inlineUser/properties/id/maxLength"), 256);
        assert_eq!(at("/$defs/inlineUser/properties/roles/maxItems"), 3);
        assert_eq!(at("/$defs/inlineUser/properties/unit/maxLength"), 300);
        assert_eq!(at("/properties/at/minLength"), 10);
        assert_eq!(at("/properties/at/maxLength"), MAX_AT_CHARS as u64);
        assert_eq!(
            schema.pointer("/$defs/inlineUser/properties/roles/uniqueItems"),
            Some(&Value::Bool(true))
        );
    }

    #[test]
    fn what_the_types_alone_would_let_through_is_refused() {
        for text in [
            r#"["anna","x",["intern"],"use",{}]"#,
            r#"{"user":"anna","ai":"x","data":"intern","context":[true]}"#,
            r#"{"user":["u",["employee"]],"ai":"x","data":"intern"}"#,
            r#"{"user":"anna","ai":"x","data":[]}"#,
            r#"{"user":{"id":"u","roles":[],"unit":null},"ai":"x","data":"intern"}"#,
            r#"{"user":"anna","ai":"x","data":"intern","data":"oppen"}"#,
            r#"{"user":{"id":"u","id":"v","roles":[]},"ai":"x","data":"intern"}"#,
            r#"{"user":{"id":"u","roles":["employee","employee"]},"ai":"x","data":"intern"}"#,
            r#"{"user":"","ai":"x","data":"intern"}"#,
        ] {
            assert!(Query::from_json(text).is_err(), "{text}");
            assert!(Query::from_json_via_schema(text).is_err(), "{text}");
        }
    }
}
