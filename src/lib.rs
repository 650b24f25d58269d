#![doc = include_str!("../README.md")]

pub mod assessments;
pub mod attributes;
pub mod batch;
mod cedar_text;
pub mod clock;
mod contexts;
mod data_profile;
pub mod decision;
pub mod engine;
pub mod error;
pub mod inputs;
pub mod invariants;
pub mod json_schema;
pub mod lint;
pub mod log;
pub mod matrix;
pub mod memo;
pub mod paragraph;
pub mod policies;
pub mod policy_text;
pub mod query;
pub mod read;
pub mod register;
pub mod scenario;
pub mod search;
mod slices;
pub mod suggest;
pub mod trace;
mod yaml_limits;
pub mod yaml_path;

pub use assessments::{Assessment, AssessmentKind};
pub use clock::Clock;
pub use decision::{Decision, Language, Obligation, Reason, Verdict};
pub use engine::{DataProfile, Engine, EngineBuilder, PreparedRequest};
pub use error::{FieldError, InputError, LoadError, RegisterError, SourceDiagnostic};
pub use memo::{DecisionKey, DecisionMemo};
pub use paragraph::Paragraph;
pub use policies::{Policies, PolicyFile, Rule};
pub use query::{Action, Context, Query, UserRef};
pub use register::{
    AiActRisk, AiSystem, DataClass, Hosting, PersonalData, Register, Role, Status,
    ThirdCountryTransfer, User,
};
