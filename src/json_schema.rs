//! JSON Schema validation of registers and queries, with errors at dotted paths.

use std::borrow::Cow;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::{Location, LocationSegment};
use jsonschema::Validator;
use serde_json::Value;

use crate::error::FieldError;

/// The register's JSON Schema, as shipped in `schemas/register.schema.json`.
pub const REGISTER_SCHEMA: &str = include_str!("../schemas/register.schema.json");
/// The query's JSON Schema, as shipped in `schemas/query.schema.json`.
pub const QUERY_SCHEMA: &str = include_str!("../schemas/query.schema.json");

/// An embedded schema, compiled once per process on first use.
pub(crate) type Compiled = std::sync::OnceLock<Result<Validator, String>>;

/// The validator of `cell`, compiling `schema_text` the first time. An `Err` is a bug in an
/// embedded schema, never a user's mistake.
pub(crate) fn compiled(
    cell: &'static Compiled,
    schema_text: &str,
) -> Result<&'static Validator, String> {
    cell.get_or_init(|| compile(schema_text))
        .as_ref()
        .map_err(Clone::clone)
}

/// Compiles an embedded schema. Failing here is a bug in aipolicy, not in user input.
pub(crate) fn compile(schema_text: &str) -> Result<Validator, String> {
    let schema: Value = serde_json::from_str(schema_text).map_err(|e| e.to_string())?;
    jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())
}

/// Every schema violation of `instance`, each at its dotted path.
pub(crate) fn violations(validator: &Validator, instance: &Value) -> Vec<FieldError> {
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
                    vec![FieldError::new(
                        join(&path, &name),
                        "missing required field",
                    )]
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
                    .iter()
                    .map(|name| FieldError::new(join(&path, name), "unknown field"))
                    .collect(),
                ValidationErrorKind::Enum { options } => vec![FieldError::new(
                    path,
                    format!("{} is not one of {}", short(error.instance()), options),
                )],
                ValidationErrorKind::Type { kind } => vec![FieldError::new(
                    path,
                    format!(
                        "expected {}, found {}",
                        type_name(kind),
                        short(error.instance())
                    ),
                )],
                // The count and the limit, not the list's opening JSON.
                ValidationErrorKind::MaxItems { limit } => {
                    let count = error.instance().as_array().map_or(0, Vec::len);
                    vec![FieldError::new(
                        path,
                        format!("has {count} items, more than {limit} items; the limit is {limit}"),
                    )]
                }
                _ => vec![FieldError::new(
                    path,
                    shorten_instance(error.to_string(), error.instance()),
                )],
            }
        })
        .collect();
    problems.dedup();
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

fn type_name(kind: &jsonschema::error::TypeKind) -> String {
    match kind {
        jsonschema::error::TypeKind::Single(t) => format!("{t}"),
        jsonschema::error::TypeKind::Multiple(ts) => ts
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" or "),
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
pub const SCENARIOS_SCHEMA: &str = include_str!("../schemas/scenarios.schema.json");
