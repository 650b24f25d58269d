//! The top layer of the engine (the decision log sits beside it): the inputs in force and the one way they are loaded. [`inputs`] finds which
//! policies, schema, register and invariants a command uses; [`sources`] reads each once within
//! its limit and hashes them into the policy revision; [`validation`] runs every check of
//! `aipolicy validate` on them; [`load`] builds the engine from them, through the gate the
//! caller asks for. [`init`] writes a new project for a municipality from the embedded set.

pub mod init;
pub mod inputs;
pub mod load;
pub mod sources;
pub mod validation;

pub use load::{EngineBuilder, Gate, Loaded, Refused};
pub use sources::{Read, Sources};
pub use validation::{gate, validate, validate_sources, Passed, Validation};
