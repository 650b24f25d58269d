//! The one load: the inputs read once ([`Sources`]), hashed into the policy revision, checked
//! at the strictness the caller asks ([`Gate`]), and built into an [`Engine`] from exactly the
//! bytes that were hashed. The command line, the decision service and the decision log all
//! load through [`EngineBuilder::load`] (or [`EngineBuilder::build`], the same load without
//! the revision).

use std::fmt;
use std::path::Path;

use crate::diagnostics::error::LoadError;
use crate::diagnostics::findings::Finding;
use crate::engine::Engine;
use crate::model::clock::Clock;
use crate::model::decision::Language;
use crate::model::register::Register;
use crate::policy::{self, Policies};
use crate::project::inputs::{Inputs, Source};
use crate::project::sources::Sources;
use crate::project::validation::validate_sources;

/// How much a load checks before it puts an engine in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gate {
    /// Only what would make a decision wrong or impossible: a syntax error, a broken
    /// annotation, a type error against the schema, an invalid register. For an author trying
    /// rules out (`aipolicy check` and the other commands without `--log`).
    #[default]
    Build,
    /// Every check of `aipolicy validate` besides: also a paragraph without any policy
    /// (`uncovered-paragraph`), a policy that can never apply (`never-applies`) and invariants
    /// that do not type-check. For what decides for others and answers for it: the decision
    /// service (whose "last good policy" is then the last set that passed `validate`) and
    /// every command that writes the decision log.
    Validate,
}

/// An engine in force, with what names it.
#[derive(Debug)]
pub struct Loaded {
    /// The engine.
    pub engine: Engine,
    /// The policy revision of the bytes it was built from (see [`Sources::revision`]); `None`
    /// only for an engine whose register was given already read ([`EngineBuilder::register`]):
    /// no bytes name it.
    pub revision: Option<String>,
    /// What `aipolicy validate` warns about in them (empty under [`Gate::Build`], which does not
    /// look).
    pub warnings: Vec<Finding>,
}

/// A load that was refused.
#[derive(Debug)]
pub enum Refused {
    /// The first input that cannot be read or built, with every problem in it (file, line and
    /// snippet): what [`Gate::Build`] refuses; at [`Gate::Validate`], only a misuse of the
    /// builder.
    Error(LoadError),
    /// What [`Gate::Validate`] refuses: every finding of `aipolicy validate`, errors and
    /// warnings, in its order.
    Findings(Vec<Finding>),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Error(e) => e.fmt(f),
            Refused::Findings(findings) => {
                let errors: Vec<String> = findings
                    .iter()
                    .filter(|f| f.severity == crate::diagnostics::findings::Severity::Error)
                    .map(Finding::headline)
                    .collect();
                write!(f, "the inputs do not pass `aipolicy validate`")?;
                for error in errors {
                    write!(f, "\n  {error}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Refused {}

/// Chooses what an [`Engine`] is loaded from (anything not given is the bundled Askersund
/// default), how strictly it is checked, and how it explains and tells the day.
///
/// ```no_run
/// let engine = aipolicy::Engine::builder()
///     .register_file("other-municipality/register.yaml")
///     .language(aipolicy::Language::En)
///     .build()?;
/// # Ok::<(), aipolicy::LoadError>(())
/// ```
///
/// A service loads with the revision and through the gate of `aipolicy validate`:
///
/// ```
/// use aipolicy::project::inputs::Inputs;
/// use aipolicy::project::Gate;
/// # let day = aipolicy::clock::parse_date("2026-12-07").unwrap();
/// # let clock = aipolicy::Clock::fixed(day);
/// let loaded = Inputs::embedded().engine_builder().gate(Gate::Validate).clock(clock).load().unwrap();
/// assert_eq!(loaded.revision.map(|r| r.len()), Some(16));
/// assert!(loaded.warnings.is_empty());
/// ```
#[derive(Debug, Default)]
pub struct EngineBuilder {
    inputs: Option<Inputs>,
    register: Option<Register>,
    language: Language,
    clock: Clock,
    gate: Gate,
    registered_users_only: bool,
}

impl EngineBuilder {
    /// A builder for the inputs in force.
    pub fn of(inputs: &Inputs) -> EngineBuilder {
        EngineBuilder {
            inputs: Some(inputs.clone()),
            ..EngineBuilder::default()
        }
    }

    fn inputs(&mut self) -> &mut Inputs {
        self.inputs.get_or_insert_with(Inputs::embedded)
    }

    /// Policies from every `*.cedar` file of this folder.
    pub fn policies_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.inputs().policies = Source::Path(dir.as_ref().to_path_buf());
        self
    }

    /// The Cedar schema from this file.
    pub fn schema_file(mut self, file: impl AsRef<Path>) -> Self {
        self.inputs().schema = Source::Path(file.as_ref().to_path_buf());
        self
    }

    /// The register from this YAML file.
    pub fn register_file(mut self, file: impl AsRef<Path>) -> Self {
        self.inputs().register = Source::Path(file.as_ref().to_path_buf());
        self
    }

    /// A register already loaded (instead of a file, which is then not read): it was checked
    /// when it was read; the load has no revision (see [`Loaded::revision`]), and
    /// [`Gate::Validate`], which checks the register's file, refuses it.
    pub fn register(mut self, register: Register) -> Self {
        self.register = Some(register);
        self
    }

    /// The language of [`Engine::decide`]'s explanations.
    pub fn language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// Where "today" comes from for a query without `at` (default: the system clock in
    /// Europe/Stockholm). [`Gate::Validate`] also tells what lapses in the register as of its
    /// day.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Deny users the register does not list (see [`Engine::registered_users_only`]), besides
    /// when the inputs say so ([`Inputs::registered_users_only`]): this can turn it on, never
    /// off.
    pub fn registered_users_only(mut self, only: bool) -> Self {
        self.registered_users_only = only;
        self
    }

    /// How much the load checks (default: [`Gate::Build`]).
    pub fn gate(mut self, gate: Gate) -> Self {
        self.gate = gate;
        self
    }

    /// Loads: reads every input once, hashes it, checks it at the builder's [`Gate`] and builds
    /// the engine from the bytes that were hashed.
    pub fn load(self) -> Result<Loaded, Refused> {
        let inputs = self.inputs.unwrap_or_else(Inputs::embedded);
        let (engine, revision, warnings) = match (self.gate, self.register) {
            (Gate::Validate, Some(_)) => {
                return Err(Refused::Error(LoadError::Internal(
                    "the gate of `aipolicy validate` checks the register's file: name the file (`register_file`), not a register already read".into(),
                )));
            }
            (Gate::Validate, None) => {
                let sources = Sources::read(&inputs);
                let validation = validate_sources(sources, &inputs.invariants, self.clock.today());
                let revision = validation.revision.clone();
                let passed = validation.passed().map_err(Refused::Findings)?;
                (passed.engine, revision, passed.warnings)
            }
            (Gate::Build, register) => {
                let sources = Sources::read_parts(&inputs, register.is_none());
                let revision = sources.revision();
                let engine = build(sources, register).map_err(Refused::Error)?;
                (engine, revision, Vec::new())
            }
        };
        let registered_users_only = self.registered_users_only || inputs.registered_users_only;
        Ok(Loaded {
            engine: engine
                .with_language(self.language)
                .with_clock(self.clock)
                .registered_users_only(registered_users_only),
            revision,
            warnings,
        })
    }

    /// The load at [`Gate::Build`] (whatever [`EngineBuilder::gate`] said), for the engine
    /// alone; for the gate of `aipolicy validate` and the revision, [`EngineBuilder::load`].
    pub fn build(self) -> Result<Engine, LoadError> {
        match self.gate(Gate::Build).load() {
            Ok(loaded) => Ok(loaded.engine),
            Err(Refused::Error(e)) => Err(e),
            // Not given at `Gate::Build`; said, not dropped, should that ever change.
            Err(refused @ Refused::Findings(_)) => Err(LoadError::Internal(refused.to_string())),
        }
    }
}

impl Inputs {
    /// An engine builder for these policies, schema and register: the one load (see
    /// [`EngineBuilder`]).
    pub fn engine_builder(&self) -> EngineBuilder {
        EngineBuilder::of(self)
    }
}

/// The engine from sources read, refusing only what [`Engine::new`] refuses.
fn build(sources: Sources, register: Option<Register>) -> Result<Engine, LoadError> {
    let policies = Policies::from_files(sources.policies.content?)?;
    let schema = policy::load_schema(&sources.schema.content?, &sources.schema.name)?;
    let register = match register {
        Some(register) => register,
        None => Register::from_yaml(&sources.register.content?, &sources.register.name)?,
    };
    Engine::new(policies, schema, register)
}

impl Engine {
    /// Starts an [`EngineBuilder`] for the bundled Askersund default.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }
}
