//! JSON Schema validation of registers and queries, with errors at dotted paths.

use std::borrow::Cow;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::{Location, LocationSegment};
use jsonschema::Validator;
use serde_json::Value;

use crate::diagnostics::error::FieldError;
use crate::diagnostics::language::Language;

/// The register's JSON Schema, as shipped in `schemas/register.schema.json`.
pub const REGISTER_SCHEMA: &str = include_str!("../../schemas/register.schema.json");
/// The query's JSON Schema, as shipped in `schemas/query.schema.json`.
pub const QUERY_SCHEMA: &str = include_str!("../../schemas/query.schema.json");

/// The pattern of a date in the register's schema (`YYYY-MM-DD`).
const DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

/// An embedded schema, compiled once per process on first use.
pub(crate) type Compiled = std::sync::OnceLock<Result<CompiledSchema, String>>;

/// A compiled schema and its JSON (to name the keys an object may have).
#[derive(Debug)]
pub(crate) struct CompiledSchema {
    pub(crate) validator: Validator,
    schema: Value,
}

/// The validator of `cell`, compiling `schema_text` the first time. An `Err` is a bug in an
/// embedded schema, never a user's mistake.
pub(crate) fn compiled(
    cell: &'static Compiled,
    schema_text: &str,
) -> Result<&'static CompiledSchema, String> {
    cell.get_or_init(|| compile(schema_text))
        .as_ref()
        .map_err(Clone::clone)
}

/// Compiles an embedded schema. Failing here is a bug in aipolicy, not in user input.
pub(crate) fn compile(schema_text: &str) -> Result<CompiledSchema, String> {
    let schema: Value = serde_json::from_str(schema_text).map_err(|e| e.to_string())?;
    let validator = jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())?;
    Ok(CompiledSchema { validator, schema })
}

/// The keys the schema declares for the object at `evaluation_path` (the path of an
/// `additionalProperties` keyword, `$ref`s included), following `$ref`s within the schema.
fn declared_keys<'s>(schema: &'s Value, evaluation_path: &Location) -> Vec<&'s str> {
    let mut node = schema;
    let segments: Vec<String> = evaluation_path
        .segments()
        .map(|segment| match segment {
            LocationSegment::Index(i) => i.to_string(),
            LocationSegment::Property(name) => name.to_string(),
        })
        .collect();
    // The last segment is the `additionalProperties` keyword itself.
    for segment in segments.iter().take(segments.len().saturating_sub(1)) {
        if segment == "$ref" {
            let Some(target) = node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| schema.pointer(pointer))
            else {
                return Vec::new();
            };
            node = target;
            continue;
        }
        let next = match node {
            Value::Object(map) => map.get(segment.as_str()),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        let Some(next) = next else {
            return Vec::new();
        };
        node = next;
    }
    node.get("properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// "unknown field", with the declared key closest to `name` when one is close enough to be a
/// likely slip (`maxDatalevel` for `maxDataLevel`).
fn unknown_field(path: String, name: &str, declared: &[&str]) -> FieldError {
    match crate::diagnostics::suggest::closest(name, declared.iter().copied()) {
        Some(known) => FieldError::in_both(
            path,
            format!("okänt fält; menade du `{known}`?"),
            format!("unknown field; did you mean `{known}`?"),
        ),
        None if declared.is_empty() => FieldError::in_both(path, "okänt fält", "unknown field"),
        None => FieldError::in_both(
            path,
            format!("okänt fält; fälten är {}", declared.join(", ")),
            format!("unknown field; expected one of {}", declared.join(", ")),
        ),
    }
}

/// Every schema violation of `instance`, each at its dotted path.
pub(crate) fn violations(compiled: &CompiledSchema, instance: &Value) -> Vec<FieldError> {
    let validator = &compiled.validator;
    if validator.is_valid(instance) {
        return Vec::new();
    }
    let mut problems: Vec<FieldError> = validator
        .iter_errors(instance)
        .flat_map(|error| {
            let path = dotted_path(error.instance_path());
            match error.kind() {
                ValidationErrorKind::Required { property } => {
                    let name = property
                        .as_str()
                        .map_or(Cow::Owned(property.to_string()), Cow::Borrowed);
                    vec![FieldError::in_both(
                        join(&path, &name),
                        "obligatoriskt fält saknas",
                        "missing required field",
                    )]
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    let declared = declared_keys(&compiled.schema, error.evaluation_path());
                    unexpected
                        .iter()
                        .map(|name| unknown_field(join(&path, name), name, &declared))
                        .collect()
                }
                ValidationErrorKind::Enum { options } => vec![FieldError::in_both(
                    path,
                    format!("{} är inte ett av {}", short(error.instance()), options),
                    format!("{} is not one of {}", short(error.instance()), options),
                )],
                ValidationErrorKind::Type { kind } => vec![FieldError::in_both(
                    path,
                    format!(
                        "{} väntades, men här står {}",
                        type_name(kind, Language::Sv),
                        short(error.instance())
                    ),
                    format!(
                        "expected {}, found {}",
                        type_name(kind, Language::En),
                        short(error.instance())
                    ),
                )],
                // A register's assessment: the schema's pattern is a date.
                ValidationErrorKind::Pattern { pattern } if pattern == DATE_PATTERN => {
                    vec![FieldError::in_both(
                        path,
                        format!(
                            "true, false eller dagen den gjordes (ÅÅÅÅ-MM-DD) väntades, men här står {}",
                            short(error.instance())
                        ),
                        format!(
                            "expected true, false or the day it was made (YYYY-MM-DD), found {}",
                            short(error.instance())
                        ),
                    )]
                }
                // The count and the limit, not the list's opening JSON.
                ValidationErrorKind::MaxItems { limit } => {
                    let count = error.instance().as_array().map_or(0, Vec::len);
                    vec![FieldError::in_both(
                        path,
                        format!("har {count} element, fler än {limit}; gränsen är {limit}"),
                        format!("has {count} items, more than {limit} items; the limit is {limit}"),
                    )]
                }
                ValidationErrorKind::MinItems { limit: 1 } => vec![FieldError::in_both(
                    path,
                    "får inte vara en tom lista",
                    "must not be an empty list",
                )],
                ValidationErrorKind::MinItems { limit } => vec![FieldError::in_both(
                    path,
                    format!("måste ha minst {limit} element"),
                    format!("must have at least {limit} items"),
                )],
                ValidationErrorKind::UniqueItems => vec![FieldError::in_both(
                    path,
                    "samma värde står flera gånger; varje värde får stå en gång",
                    "has the same value more than once; each value may appear once",
                )],
                ValidationErrorKind::MinLength { limit: 1 } => vec![FieldError::in_both(
                    path,
                    "får inte vara tom",
                    "must not be empty",
                )],
                ValidationErrorKind::MinLength { limit } => vec![FieldError::in_both(
                    path,
                    format!("är kortare än {limit} tecken"),
                    format!("is shorter than {limit} characters"),
                )],
                ValidationErrorKind::MaxLength { limit } => vec![FieldError::in_both(
                    path,
                    format!("är längre än {limit} tecken; gränsen är {limit}"),
                    format!("is longer than {limit} characters; the limit is {limit}"),
                )],
                _ => vec![FieldError::in_both(
                    path,
                    "värdet följer inte schemat (se `aipolicy schema query`)",
                    shorten_instance(error.to_string(), error.instance()),
                )],
            }
        })
        .collect();
    problems.dedup();
    for problem in &mut problems {
        // A query's `text` may hold the very information the decision must never repeat.
        if problem.path == "text" || problem.path.starts_with("text[") {
            problem.message = "expected a text (a string) or a non-empty list of texts (the value is not repeated: it may hold the information itself)".to_string();
            problem.message_sv = Some("en text (en sträng) eller en lista med texter som inte är tom väntades (värdet upprepas inte: det kan innehålla själva informationen)".to_string());
        }
    }
    problems
}

/// `/aiSystems/3/maxDataLevel` → `aiSystems[3].maxDataLevel`.
pub fn dotted_path(location: &Location) -> String {
    let mut path = String::new();
    for segment in location.segments() {
        match segment {
            LocationSegment::Index(i) => path.push_str(&format!("[{i}]")),
            LocationSegment::Property(name) => {
                path = join(&path, &name);
            }
        }
    }
    path
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn type_name(kind: &jsonschema::error::TypeKind, language: Language) -> String {
    let named = |t: jsonschema::JsonType| match language {
        Language::En => t.to_string(),
        Language::Sv => match t.to_string().as_str() {
            "string" => "en sträng".to_string(),
            "array" => "en lista".to_string(),
            "object" => "ett objekt".to_string(),
            "boolean" => "true eller false".to_string(),
            "integer" => "ett heltal".to_string(),
            "number" => "ett tal".to_string(),
            "null" => "null".to_string(),
            other => other.to_string(),
        },
    };
    match kind {
        jsonschema::error::TypeKind::Single(t) => named(*t),
        jsonschema::error::TypeKind::Multiple(ts) => {
            ts.iter()
                .map(named)
                .collect::<Vec<_>>()
                .join(match language {
                    Language::Sv => " eller ",
                    Language::En => " or ",
                })
        }
    }
}

/// A value as shown in an error: JSON, cut to a readable length.
fn short(value: &Value) -> String {
    shorten(value.to_string())
}

const MAX_SHOWN: usize = 120;

/// A validator's message with the offending value in it cut to a readable length, so that what
/// was expected (`is longer than 256 characters`) is never what gets cut off.
fn shorten_instance(message: String, instance: &Value) -> String {
    let shown = instance.to_string();
    if shown.chars().count() <= MAX_SHOWN {
        return shorten_keeping_end(message);
    }
    if message.contains(&shown) {
        shorten_keeping_end(message.replacen(&shown, &shorten(shown.clone()), 1))
    } else {
        shorten(message)
    }
}

/// Messages are short once their value is; a long one is kept whole up to a generous bound.
fn shorten_keeping_end(message: String) -> String {
    if message.chars().count() <= 4 * MAX_SHOWN {
        message
    } else {
        shorten(message)
    }
}

fn shorten(text: String) -> String {
    if text.chars().count() <= MAX_SHOWN {
        return text;
    }
    let cut: String = text.chars().take(MAX_SHOWN).collect();
    format!("{cut}…")
}

/// The scenario file's JSON Schema, as shipped in `schemas/scenarios.schema.json`.
pub const SCENARIOS_SCHEMA: &str = include_str!("../../schemas/scenarios.schema.json");
