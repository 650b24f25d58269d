//! Reading a JSON request body: its nesting is measured before it is parsed, and every object's
//! keys must be unique (`{"data": "sakerhetsskydd", "data": "intern"}` is ambiguous: a proxy
//! that reads the first key would see another question than the one decided).

use std::fmt;

use serde_json::Value;

/// The deepest nesting of arrays and objects read: the query limit
/// ([`aipolicy::query::MAX_QUERY_DEPTH`]).
pub const MAX_DEPTH: usize = aipolicy::query::MAX_QUERY_DEPTH;

/// Why a body is not a JSON value we read, in Swedish and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// In Swedish.
    pub sv: String,
    /// In English (as [`Display`](fmt::Display) says it).
    pub en: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// Parses `bytes` as one JSON value nested at most [`MAX_DEPTH`] levels, with unique keys.
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(JsonError {
            sv: "begärans kropp är tom; skicka ett JSON-objekt".into(),
            en: "the request body is empty; send a JSON object".into(),
        });
    }
    check_depth(bytes)?;
    aipolicy::query::json_with_unique_keys(bytes).map_err(syntax)
}

fn syntax(e: serde_json::Error) -> JsonError {
    JsonError {
        sv: aipolicy::query::json_error_sv(&e),
        en: format!(
            "invalid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ),
    }
}

/// Fails when arrays and objects nest more than [`MAX_DEPTH`] levels (found by scanning the
/// bytes, before anything is parsed).
pub fn check_depth(bytes: &[u8]) -> Result<(), JsonError> {
    match aipolicy::query::json_nesting_over(bytes, MAX_DEPTH) {
        None => Ok(()),
        Some(_) => Err(JsonError {
            sv: format!(
                "begäran har listor och objekt i mer än {MAX_DEPTH} nivåer; gränsen är {MAX_DEPTH} nivåer"
            ),
            en: format!(
                "the request nests arrays and objects more than {MAX_DEPTH} levels deep; the limit is {MAX_DEPTH} levels"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_and_refuses_what_is_ambiguous_or_deep() {
        assert!(parse(br#"{"a": [1, {"b": null}]}"#).is_ok());
        assert!(parse(b"").unwrap_err().en.contains("empty"));
        assert!(parse(b"  \n").unwrap_err().en.contains("empty"));
        assert!(parse(br#"{"a": 1, "a": 2}"#)
            .unwrap_err()
            .en
            .contains("duplicate key `a`"));
        assert!(parse(br#"{"a": 1} x"#)
            .unwrap_err()
            .en
            .contains("invalid JSON"));
        let deep = format!("{}{}", "[".repeat(17), "]".repeat(17));
        assert!(parse(deep.as_bytes()).unwrap_err().en.contains("16 levels"));
        let fine = format!("{}{}", "[".repeat(16), "]".repeat(16));
        assert!(parse(fine.as_bytes()).is_ok());
        let in_string = format!("{{\"a\": \"{}\"}}", "[".repeat(100));
        assert!(parse(in_string.as_bytes()).is_ok());
    }
}
