//! The top layer: the inputs in force and the one way they are loaded. [`inputs`] finds which
//! policies, schema, register and invariants a command uses; [`validation`] runs every check of
//! `aipolicy validate` on them and is the gate a load passes.

pub mod inputs;
pub mod validation;

pub use validation::{gate, validate, Passed, Validation};
