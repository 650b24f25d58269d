//! The policy authors' tools, on top of the engine: the policy lint ([`lint`]) and the
//! register's checks ([`register_checks`]), the formatter ([`format`](mod@format)), scenarios
//! ([`scenario`]), invariants ([`invariants`]), the trace from policy text to rules
//! ([`trace`]), the decision matrix ([`matrix`]) and what a change does to
//! the decisions ([`diff`]). `aipolicy validate` itself, which runs
//! them all on the inputs in force, is [`crate::project::validate`].

pub mod diff;
pub mod format;
pub mod invariants;
pub mod lint;
pub mod matrix;
pub mod register_checks;
pub mod scenario;
pub mod trace;
pub mod yaml_findings;
