//! The bottom layer: what goes wrong and how it is told. Errors of loading and of a query
//! ([`error`]), a finding of a check ([`findings`]), "did you mean" ([`suggest`]), and the
//! language a thing is said in ([`language`]). Every other layer reports through these; they
//! depend on nothing else in the crate.

pub mod error;
pub mod findings;
pub mod language;
pub mod suggest;
