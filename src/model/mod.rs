//! What a decision is about, as data: the register of AI systems, users and roles
//! ([`register`]), a query ([`query`]), a decision with its reasons and duties ([`decision`]),
//! the paragraphs of the policy ([`paragraph`]), the day ([`clock`]) and the assessments that
//! lapse with it ([`assessments`]), and how the register becomes Cedar entities
//! ([`attributes`]); which data classes information found in a text belongs to
//! ([`text_classes`]). Reads through [`crate::io`]; knows nothing of policies or the engine.

pub mod assessments;
pub mod attributes;
pub mod clock;
pub(crate) mod data_profile;
pub mod decision;
pub mod paragraph;
pub mod query;
pub mod register;
pub mod text_classes;
