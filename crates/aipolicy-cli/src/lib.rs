//! The `aipolicy` command line: a thin client of the `aipolicy` library (and of
//! `aipolicy-verify` for `verify`). Each command is a `pub fn` taking its parsed arguments and
//! writers, so tests call it without spawning a process.

use std::io::Write;
use std::path::PathBuf;
use std::process::{ExitCode, Termination};

use clap::{Args, Parser, Subcommand, ValueEnum};

use aipolicy::clock::Clock;
use aipolicy::engine::Engine;
use aipolicy::inputs::{Inputs, Overrides};

pub mod audit;
pub mod batch;
pub mod check;
pub mod diff;
pub mod fmt;
pub mod init;
pub mod logging;
pub mod matrix;
pub mod output;
pub mod schema;
pub mod test;
pub mod trace;
pub mod validate;
pub mod verify;

/// The exit codes of every command, one per outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: allowed, or everything passed.
    Success,
    /// 1: denied, or a check failed.
    Failure,
    /// 2: input that could not be read or used (query, register, policies, arguments).
    InputError,
    /// 3: the output could not be written (a full disk; a closed pipe is not an error).
    WriteError,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::InputError => 2,
            Exit::WriteError => 3,
        }
    }
}

impl Termination for Exit {
    fn report(self) -> ExitCode {
        ExitCode::from(self.code())
    }
}

/// aipolicy — may this user do this with this AI system on this information?
///
/// Decides requests against a municipality's "Policy för ansvarsfull AI", encoded in Cedar.
/// Without --register/--policies the embedded Askersund default is used, from any directory.
///
/// Exit codes: 0 allow (or success), 1 deny (or failed check), 2 input error, 3 output could not
/// be written.
#[derive(Debug, Parser)]
#[command(name = "aipolicy", version, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a project for a municipality: its own policies, register, policy text, scenarios and CI.
    Init(init::InitArgs),
    /// Decide one query and explain the decision.
    Check(check::CheckArgs),
    /// Decide JSON Lines queries (stdin or a file), one JSON decision per line, in order.
    Batch(batch::BatchArgs),
    /// Run scenario files (YAML cases of what the policy must decide) and report coverage.
    Test(test::TestArgs),
    /// Check policies, schema and register, and lint the policies (for policy authors).
    Validate(validate::ValidateArgs),
    /// Format .cedar policy files with Cedar's formatter, or check that they are formatted.
    Fmt(fmt::FmtArgs),
    /// Traceability: each paragraph of the policy document, its policies and their test cases.
    Trace(trace::TraceArgs),
    /// The access matrix: each AI system × data class × role, allowed or denied and why.
    Matrix(matrix::MatrixArgs),
    /// Prove the policy's invariants for every possible request (needs the SMT solver cvc5).
    Verify(verify::VerifyArgs),
    /// What a change does: the decisions that differ between two revisions (git or folders), proved.
    Diff(diff::DiffArgs),
    /// Print a format aipolicy reads (query, register, scenarios, invariants, Cedar schema).
    Schema(schema::SchemaArgs),
    /// The decision service: the native and the AuthZEN 1.0 API over HTTP (127.0.0.1:8282).
    Serve(aipolicy_server::ServeArgs),
    /// An OpenAI-compatible gateway in front of the register's AI systems: every request decided before it reaches a model (127.0.0.1:8283).
    Gateway(aipolicy_gateway::GatewayArgs),
    /// Read a decision log: check its hash chain, count, export, and report for a revision.
    Audit(audit::AuditArgs),
}

/// Output format of decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a person: the decision, each reason with its paragraph, the duties.
    #[default]
    Text,
    /// The pinned Decision JSON.
    Json,
}

/// Where the policies and the schema come from, for every command that reads policies (`verify`
/// too, which needs no register): a flag wins over the project's files (a folder with
/// `policies/`, `aipolicy.toml`, `register.yaml` or `policy.md`, here or above), which win over
/// the embedded default.
#[derive(Debug, Clone, Default, Args)]
pub struct PolicyArgs {
    /// Folder of .cedar policy files [default: the project's policies/, else the embedded policies]
    #[arg(long, value_name = "DIR", global = true)]
    pub policies: Option<PathBuf>,
    /// Cedar schema file [default: the project's schemas/aipolicy.cedarschema, else the embedded schema]
    #[arg(long, value_name = "FILE", global = true)]
    pub schema: Option<PathBuf>,
    /// Do not name the inputs in force on stderr, nor show a long command's progress there
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

impl PolicyArgs {
    /// The inputs in force with these flags and `register` and `invariants`, named on `err`
    /// (unless `--quiet`); a project that cannot be used is reported there and is an input
    /// error.
    pub fn resolve(
        &self,
        register: Option<PathBuf>,
        invariants: Option<PathBuf>,
        err: &mut dyn Write,
    ) -> Result<Inputs, Exit> {
        resolve_inputs(&self.overrides(register, invariants), self.quiet, err)
    }

    /// These flags, with `register` and `invariants`, as the library's overrides.
    fn overrides(&self, register: Option<PathBuf>, invariants: Option<PathBuf>) -> Overrides {
        Overrides {
            policies: self.policies.clone(),
            schema: self.schema.clone(),
            register,
            invariants,
            ..Overrides::default()
        }
    }
}

/// Where the policies, schema and register come from: a flag wins over the project's files,
/// which win over the embedded Askersund default.
#[derive(Debug, Clone, Default, Args)]
pub struct InputArgs {
    /// Register YAML [default: the project's register.yaml, else the embedded Askersund register]
    #[arg(long, value_name = "FILE", global = true)]
    pub register: Option<PathBuf>,
    /// Policies and schema
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Deny users the register does not list: set by the commands that decide for a service
    /// (`check`, `batch`: their `--registered-users-only`), not a flag of every command.
    #[arg(skip)]
    pub registered_users_only: bool,
}

impl InputArgs {
    /// The inputs in force for a command run in the current folder, named on `err` (unless
    /// `--quiet`); a project that cannot be used is reported there and is an input error.
    pub fn resolve(&self, err: &mut dyn Write) -> Result<Inputs, Exit> {
        let overrides = Overrides {
            registered_users_only: self.registered_users_only,
            ..self.policy.overrides(self.register.clone(), None)
        };
        resolve_inputs(&overrides, self.policy.quiet, err)
    }
}

/// `--registered-users-only`, the flag `check` and `batch` share.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct RegisteredUsersArgs {
    /// Deny every user the register does not list (U0, `aipolicy-unregistered-user`): for a
    /// register that lists every user. Reporting an incident stays open to anyone. Also
    /// `registered-users-only = true` in aipolicy.toml
    #[arg(long)]
    pub registered_users_only: bool,
}

impl RegisteredUsersArgs {
    /// `engine` with this flag applied to its inputs (a flag turns it on, never off).
    pub fn apply(self, engine: &EngineArgs) -> EngineArgs {
        let mut engine = engine.clone();
        engine.inputs.registered_users_only |= self.registered_users_only;
        engine
    }
}

/// [`Inputs::resolve`] in the current folder, named on `err` unless `quiet`.
pub fn resolve_inputs(
    overrides: &Overrides,
    quiet: bool,
    err: &mut dyn Write,
) -> Result<Inputs, Exit> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    match Inputs::resolve(overrides, &cwd) {
        Ok(inputs) => {
            if !quiet {
                let _ = writeln!(err, "inputs: {}", inputs.describe(&cwd));
            }
            Ok(inputs)
        }
        Err(e) => {
            report(err, e);
            Err(Exit::InputError)
        }
    }
}

/// The day decisions are made at: assessments in the register are dated and lapse.
#[derive(Debug, Clone, Default, Args)]
pub struct DayArgs {
    /// The day to decide at (and to tell lapses against), an RFC 3339 date (2026-12-07) or
    /// time with its offset, instead of today in Europe/Stockholm; a query's own `at` wins
    /// [default: today, or the day in the environment variable AIPOLICY_TODAY]
    #[arg(long, value_name = "DATE", global = true)]
    pub at: Option<String>,
}

impl DayArgs {
    /// The clock these flags and the environment give, named on `err` as `day: …` (unless
    /// `quiet`); a day that cannot be read is reported there and is an input error.
    pub fn clock(&self, quiet: bool, err: &mut dyn Write) -> Result<Clock, Exit> {
        let clock = match &self.at {
            Some(text) => aipolicy::clock::parse_day(text)
                .map(|day| (Clock::fixed(day), format!("{day} (--at)")))
                .map_err(|e| format!("--at: {e}")),
            None => Clock::from_environment().map(|clock| {
                let said = if clock.is_fixed() {
                    format!(
                        "{} (fixed by {})",
                        clock.today(),
                        aipolicy::clock::TODAY_VARIABLE
                    )
                } else {
                    clock.describe()
                };
                (clock, said)
            }),
        };
        match clock {
            Ok((clock, said)) => {
                if !quiet {
                    let _ = writeln!(err, "day: {said}");
                }
                Ok(clock)
            }
            Err(message) => {
                let _ = writeln!(err, "error: {message}");
                Err(Exit::InputError)
            }
        }
    }
}

/// Where the engine's policies, schema and register come from, its language, and its day.
#[derive(Debug, Clone, Default, Args)]
pub struct EngineArgs {
    /// Policies, schema and register
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The day
    #[command(flatten)]
    pub day: DayArgs,
    /// Language of reasons and duties
    #[arg(long, value_enum, default_value_t = LangArg::Sv, global = true)]
    pub lang: LangArg,
}

/// `--lang` values: one definition for every command, `serve` included.
pub use aipolicy_server::args::LangArg;

impl EngineArgs {
    /// Loads the engine of the inputs in force (named on `err`); a load error is reported
    /// there, with file and line, and is an input error.
    pub fn load(&self, err: &mut dyn Write) -> Result<(Engine, Inputs), Exit> {
        let inputs = self.inputs.resolve(err)?;
        let clock = self.day.clock(self.inputs.policy.quiet, err)?;
        match inputs
            .engine_builder()
            .language(self.lang.into())
            .clock(clock)
            .build()
        {
            Ok(engine) => Ok((engine, inputs)),
            Err(e) => {
                report(err, e);
                Err(Exit::InputError)
            }
        }
    }
}

/// Writes a diagnostic for a person, with file, line and snippet where known.
pub fn report(stderr: &mut dyn Write, error: impl miette::Diagnostic + Send + Sync + 'static) {
    let _ = writeln!(stderr, "{:?}", miette::Report::new(error));
}

/// Writes why a load was refused: the load error, or each error `aipolicy validate` finds (the
/// gate of the decision service and of `--log`), with file, line and snippet.
pub fn report_refused(stderr: &mut dyn Write, refused: aipolicy::project::Refused) {
    match refused {
        aipolicy::project::Refused::Error(e) => report(stderr, e),
        aipolicy::project::Refused::Findings(findings) => {
            let errors = findings
                .into_iter()
                .filter(|f| f.severity == aipolicy::diagnostics::findings::Severity::Error);
            for finding in errors {
                report(stderr, finding);
            }
            let _ = writeln!(
                stderr,
                "error: these inputs do not pass `aipolicy validate`, and nothing is logged from policies that do not"
            );
        }
    }
}

/// Whether an I/O error is a closed pipe (`aipolicy batch | head`): stop quietly.
pub fn is_broken_pipe(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}

/// What writing a command's output came to: `None` when it was written, or when the reader
/// closed the pipe (`aipolicy … | head`: stop quietly); else the failure, said on `err` as
/// "cannot write `what`", and its exit (3, never the input error's 2).
pub fn write_failure(
    result: std::io::Result<()>,
    what: &str,
    err: &mut dyn std::io::Write,
) -> Option<Exit> {
    match result {
        Ok(()) => None,
        Err(e) if is_broken_pipe(&e) => None,
        Err(e) => {
            let _ = writeln!(err, "error: cannot write {what}: {e}");
            Some(Exit::WriteError)
        }
    }
}

/// Parses the process arguments and runs the command.
pub fn main() -> Exit {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    match cli.command {
        Command::Init(args) => init::run(&args, &mut out, &mut err),
        Command::Check(args) => check::run(&args, &mut out, &mut err),
        Command::Batch(args) => {
            let stdin = std::io::stdin();
            batch::run(&args, &mut stdin.lock(), &mut out, &mut err)
        }
        Command::Test(args) => test::run(&args, &mut out, &mut err),
        Command::Validate(args) => validate::run(&args, &mut out, &mut err),
        Command::Fmt(args) => fmt::run(&args, &mut out, &mut err),
        Command::Trace(args) => trace::run(&args, &mut out, &mut err),
        Command::Matrix(args) => matrix::run(&args, &mut out, &mut err),
        Command::Verify(args) => verify::run(&args, &mut out, &mut err),
        Command::Diff(args) => diff::run(&args, &mut out, &mut err),
        Command::Schema(args) => schema::run(&args, &mut out, &mut err),
        Command::Audit(args) => audit::run(&args, &mut out, &mut err),
        // The services take "today" from AIPOLICY_TODAY too, and say so when it is set.
        Command::Serve(mut args) => match Clock::from_environment() {
            Ok(clock) => {
                args.clock = clock;
                drop((out, err));
                exit_of(aipolicy_server::run(args))
            }
            Err(message) => bad_clock(&mut err, &message),
        },
        Command::Gateway(mut args) => match Clock::from_environment() {
            Ok(clock) => {
                args.clock = clock;
                drop((out, err));
                exit_of(aipolicy_gateway::run(args))
            }
            Err(message) => bad_clock(&mut err, &message),
        },
    }
}

/// A service's exit: 0 after a clean shutdown, else 2 (it could not start).
fn exit_of(code: std::process::ExitCode) -> Exit {
    if code == std::process::ExitCode::SUCCESS {
        Exit::Success
    } else {
        Exit::InputError
    }
}

/// `AIPOLICY_TODAY` holds no day: said, and an input error.
fn bad_clock(err: &mut impl Write, message: &str) -> Exit {
    let _ = writeln!(err, "error: {message}");
    Exit::InputError
}
