//! Reading input within its limits: files, pipes and devices read no further than their limit
//! ([`read`]), YAML checked for size, depth and aliases before it is parsed (`yaml_limits`) and
//! pointed into by path ([`yaml_path`]), JSON checked against its JSON Schema
//! ([`json_schema`]), Cedar text measured for nesting and parsed on a stack that holds it
//! (`cedar_text`). Depends only on [`crate::diagnostics`].

pub(crate) mod cedar_text;
pub mod json_schema;
pub mod read;
pub(crate) mod yaml_limits;
pub mod yaml_path;

/// Bytes in lowercase hexadecimal.
///
/// ```
/// assert_eq!(aipolicy::io::hex(&[0x0a, 0xff]), "0aff");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}
