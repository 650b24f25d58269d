//! Reading a JSON request body: its nesting is measured before it is parsed, and every object's
//! keys must be unique (`{"data": "sakerhetsskydd", "data": "intern"}` is ambiguous: a proxy
//! that reads the first key would see another question than the one decided).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The deepest nesting of arrays and objects read: the query limit
/// ([`aipolicy::query::MAX_QUERY_DEPTH`]).
pub const MAX_DEPTH: usize = aipolicy::query::MAX_QUERY_DEPTH;

/// Why a body is not a JSON value we read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(pub String);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `bytes` as one JSON value nested at most [`MAX_DEPTH`] levels, with unique keys.
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(JsonError(
            "the request body is empty; send a JSON object".into(),
        ));
    }
    check_depth(bytes)?;
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let UniqueKeys(value) = UniqueKeys::deserialize(&mut reader).map_err(syntax)?;
    reader.end().map_err(syntax)?;
    Ok(value)
}

fn syntax(e: serde_json::Error) -> JsonError {
    JsonError(format!(
        "invalid JSON at line {} column {}: {e}",
        e.line(),
        e.column()
    ))
}

/// Fails when arrays and objects nest more than [`MAX_DEPTH`] levels (found by scanning the
/// bytes, before anything is parsed).
pub fn check_depth(bytes: &[u8]) -> Result<(), JsonError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in bytes {
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
                if depth > MAX_DEPTH {
                    return Err(JsonError(format!(
                        "the request nests arrays and objects more than {MAX_DEPTH} levels deep; the limit is {MAX_DEPTH} levels"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// A JSON value whose objects have unique keys.
struct UniqueKeys(Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor).map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
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

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_and_refuses_what_is_ambiguous_or_deep() {
        assert!(parse(br#"{"a": [1, {"b": null}]}"#).is_ok());
        assert!(parse(b"").unwrap_err().0.contains("empty"));
        assert!(parse(b"  \n").unwrap_err().0.contains("empty"));
        assert!(parse(br#"{"a": 1, "a": 2}"#)
            .unwrap_err()
            .0
            .contains("duplicate key `a`"));
        assert!(parse(br#"{"a": 1} x"#)
            .unwrap_err()
            .0
            .contains("invalid JSON"));
        let deep = format!("{}{}", "[".repeat(17), "]".repeat(17));
        assert!(parse(deep.as_bytes()).unwrap_err().0.contains("16 levels"));
        let fine = format!("{}{}", "[".repeat(16), "]".repeat(16));
        assert!(parse(fine.as_bytes()).is_ok());
        let in_string = format!("{{\"a\": \"{}\"}}", "[".repeat(100));
        assert!(parse(in_string.as_bytes()).is_ok());
    }
}
