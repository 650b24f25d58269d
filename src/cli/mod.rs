//! The `aipolicy` command line: a thin client of the library. Each command is a `pub fn`
//! taking its parsed arguments and writers, so tests call it without spawning a process.

use std::io::Write;
use std::path::PathBuf;
use std::process::{ExitCode, Termination};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::decision::Language;
use crate::engine::Engine;
use crate::error::LoadError;

pub mod batch;
pub mod check;
pub mod fmt;
pub mod matrix;
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
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::InputError => 2,
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
/// Exit codes: 0 allow (or success), 1 deny (or failed check), 2 input error.
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

/// Where the engine's policies, schema and register come from.
#[derive(Debug, Clone, Default, Args)]
pub struct EngineArgs {
    /// Register YAML (data classes, AI systems, users) [default: the embedded Askersund register]
    #[arg(long, value_name = "FILE", global = true)]
    pub register: Option<PathBuf>,
    /// Folder of .cedar policy files [default: the embedded policies]
    #[arg(long, value_name = "DIR", global = true)]
    pub policies: Option<PathBuf>,
    /// Cedar schema file [default: the embedded schema]
    #[arg(long, value_name = "FILE", global = true)]
    pub schema: Option<PathBuf>,
    /// Language of reasons and duties
    #[arg(long, value_enum, default_value_t = LangArg::Sv, global = true)]
    pub lang: LangArg,
}

/// `--lang` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    /// Swedish.
    #[default]
    Sv,
    /// English.
    En,
}

impl From<LangArg> for Language {
    fn from(lang: LangArg) -> Language {
        match lang {
            LangArg::Sv => Language::Sv,
            LangArg::En => Language::En,
        }
    }
}

impl EngineArgs {
    /// Loads the engine these arguments name.
    pub fn load(&self) -> Result<Engine, LoadError> {
        let mut builder = Engine::builder().language(self.lang.into());
        if let Some(dir) = &self.policies {
            builder = builder.policies_dir(dir);
        }
        if let Some(file) = &self.schema {
            builder = builder.schema_file(file);
        }
        if let Some(file) = &self.register {
            builder = builder.register_file(file);
        }
        builder.build()
    }
}

/// Writes a diagnostic for a person, with file, line and snippet where known.
pub fn report(stderr: &mut dyn Write, error: impl miette::Diagnostic + Send + Sync + 'static) {
    let _ = writeln!(stderr, "{:?}", miette::Report::new(error));
}

/// Whether an I/O error is a closed pipe (`aipolicy batch | head`): stop quietly.
pub fn is_broken_pipe(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}

/// Parses the process arguments and runs the command.
pub fn main() -> Exit {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    match cli.command {
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
    }
}
