//! Reading input within its limits: files, pipes and devices read no further than their limit
//! ([`read`]), YAML checked for size, depth and aliases before it is parsed ([`yaml_limits`]) and
//! pointed into by path ([`yaml_path`]), JSON checked against its JSON Schema
//! ([`json_schema`]), Cedar text measured for nesting and parsed on a stack that holds it
//! ([`cedar_text`]). Depends only on [`crate::diagnostics`].

pub(crate) mod cedar_text;
pub mod json_schema;
pub mod read;
pub(crate) mod yaml_limits;
pub mod yaml_path;
