#![doc = include_str!("../README.md")]

// The layers, each depending only on those above it in this list (one group each, so that
// the order stays as written).
pub mod diagnostics;

pub mod io;

pub mod text;

pub mod model;

pub mod policy;

pub mod engine;

pub mod authoring;

pub mod project;

pub mod log;

pub use diagnostics::error::{FieldError, InputError, LoadError, RegisterError, SourceDiagnostic};
pub use engine::memo::{DecisionKey, DecisionMemo};
pub use engine::{DataProfile, Engine, PreparedRequest};
pub use model::assessments::{Assessment, AssessmentKind};
pub use model::clock::Clock;
pub use model::decision::{Decision, FoundInText, Language, Obligation, Reason, Verdict};
pub use model::paragraph::Paragraph;
pub use model::query::{Action, Context, Query, UserRef};
pub use model::register::{
    AiActRisk, AiSystem, DataClass, Hosting, PersonalData, Register, Role, Status,
    ThirdCountryTransfer, User,
};
pub use policy::{Policies, PolicyFile, Rule};
pub use project::EngineBuilder;

// The module paths of the releases before the layers: kept, so that code written against them
// still compiles.
#[doc(no_inline)]
pub use authoring::{diff, invariants, lint, matrix, scenario, trace};
#[doc(no_inline)]
pub use diagnostics::{error, suggest};
#[doc(no_inline)]
pub use engine::{batch, memo, search};
#[doc(no_inline)]
pub use io::{json_schema, read, yaml_path};
#[doc(no_inline)]
pub use model::{assessments, attributes, clock, decision, paragraph, query, register};
#[doc(no_inline)]
pub use policy as policies;
#[doc(no_inline)]
pub use policy::text as policy_text;
#[doc(no_inline)]
pub use project::inputs;
