//! `aipolicy schema`: print the formats aipolicy reads, as it checks them.

use std::io::Write;

use clap::{Args, ValueEnum};

use super::Exit;

/// Arguments of `aipolicy schema`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "The JSON Schemas are those aipolicy validates its input against; each key
has a description, and an optional key its default. The Cedar schema names what policies see.

Examples:
  aipolicy schema register            # the register's keys and their defaults
  aipolicy schema query | jq '.properties | keys'"
)]
pub struct SchemaArgs {
    /// Which format
    #[arg(value_enum)]
    pub format: SchemaKind,
}

/// The formats `aipolicy schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// The query JSON (check, batch, scenario cases): JSON Schema
    Query,
    /// The register YAML (data classes, AI systems, users): JSON Schema
    Register,
    /// Scenario files (`aipolicy test`): JSON Schema
    Scenarios,
    /// Invariants (`aipolicy verify`): JSON Schema
    Invariants,
    /// What Cedar policies see (principal, resource, context): Cedar schema
    Cedar,
}

/// Runs `aipolicy schema`: writes the embedded schema on stdout.
pub fn run(args: &SchemaArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let text = match args.format {
        SchemaKind::Query => aipolicy::json_schema::QUERY_SCHEMA,
        SchemaKind::Register => aipolicy::json_schema::REGISTER_SCHEMA,
        SchemaKind::Scenarios => aipolicy::json_schema::SCENARIOS_SCHEMA,
        SchemaKind::Invariants => aipolicy::invariants::INVARIANTS_SCHEMA,
        SchemaKind::Cedar => aipolicy::policies::BUNDLED_SCHEMA,
    };
    super::write_failure(out.write_all(text.as_bytes()), "the schema", err).unwrap_or(Exit::Success)
}
