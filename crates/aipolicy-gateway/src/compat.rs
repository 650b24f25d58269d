//! TEMPORARY: the core's text-in-queries API, until it is merged from main.
#![allow(dead_code, unused_variables, missing_docs)]
use aipolicy::{AiSystem, Decision, Query};

pub struct Credential {
    pub env: Option<String>,
    pub file: Option<String>,
    pub header: Option<String>,
}
pub fn endpoint(s: &AiSystem) -> Option<&str> {
    None
}
pub fn models(s: &AiSystem) -> &[String] {
    &[]
}
pub fn credential(s: &AiSystem) -> Option<&Credential> {
    None
}
pub fn with_text(q: Query, t: Vec<String>) -> Query {
    q
}
pub fn with_default_data(q: Query, c: String) -> Query {
    q
}
pub fn found(d: &Decision) -> Vec<serde_json::Value> {
    Vec::new()
}
pub const MAX_TEXT_BYTES: usize = 1 << 20;
