//! `aipolicy batch`: JSON Lines in, one JSON decision per line out, in order.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use aipolicy::batch::{decide_lines_observed, BatchSummary, Observer};
use clap::Args;

use super::logging::Logging;
use super::output::{Progress, Watched};
use super::{write_failure, EngineArgs, Exit};

/// Arguments of `aipolicy batch`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Each input line is a query JSON; each output line the Decision JSON for it.
Every input line gives exactly one output line, in order: a line that cannot be read (a blank
line, or one over the 2 MiB query limit whatever it holds, included) gives a deny whose
`errors` name the line and the field, and the batch goes on. Exit 0 when every line was
decided, 2 when any line was an input error (its deny is still written).
Each line is decided at its own `at`, else at --at DATE, else today in Europe/Stockholm: with
--at, the register in force answers as its dated assessments stood (or will stand) on that day.

Examples:
  printf '%s\\n' '{\"user\":\"anna\",\"ai\":\"chatgpt\",\"data\":\"oppen\"}' | aipolicy batch
  aipolicy batch queries.jsonl --at 2027-01-01 > decisions.jsonl"
)]
pub struct BatchArgs {
    /// JSON Lines file of queries [default: stdin]
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Where policies, schema and register come from
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Users the register does not list
    #[command(flatten)]
    pub users: super::RegisteredUsersArgs,
    /// The decision log
    #[command(flatten)]
    pub log: aipolicy_log::LogArgs,
}

/// Runs `aipolicy batch` on `stdin` (or the file named in `args`). Shows progress on stderr
/// when stderr is a terminal. A failed write is exit 3, a failed read exit 2.
pub fn run(
    args: &BatchArgs,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let (engine, revision) = match args.users.apply(&args.engine).load_for_log(&args.log, err) {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let logging = match Logging::open(&args.log, "aipolicy batch", revision, err) {
        Ok(logging) => logging,
        Err(exit) => return exit,
    };
    let exit = decide(args, &engine, logging.as_ref(), stdin, out, err);
    match logging.map(|logging| logging.close(err)) {
        Some(Err(write_error)) => write_error,
        _ => exit,
    }
}

fn decide(
    args: &BatchArgs,
    engine: &aipolicy::Engine,
    logging: Option<&Logging>,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let observe = |query: &aipolicy::Query, decision: &aipolicy::Decision| {
        if let Some(logging) = logging {
            logging.record(engine, query, decision);
        }
    };
    let observer: Option<Observer<'_>> = logging.map(|_| &observe as Observer<'_>);
    let shown = Progress::new("line(s) decided", args.engine.inputs.policy.quiet, true);
    let mut progress = |summary: &BatchSummary| shown.set(summary.decided as u64, None);
    let mut watched = Watched::new(out);
    let result = match &args.input {
        Some(path) => match std::fs::File::open(path) {
            Ok(file) => decide_lines_observed(
                engine,
                &mut BufReader::new(file),
                &mut watched,
                &mut progress,
                observer,
            ),
            Err(e) => {
                let _ = writeln!(err, "error: cannot read `{}`: {e}", path.display());
                return Exit::InputError;
            }
        },
        None => decide_lines_observed(engine, stdin, &mut watched, &mut progress, observer),
    };
    drop(shown);
    if let Some(failed) = watched.write_error() {
        // A closed pipe (`aipolicy batch | head`) stops quietly; a full disk is exit 3.
        return write_failure(Err(failed), "the decisions", err).unwrap_or(Exit::Success);
    }
    let input = args
        .input
        .as_ref()
        .map_or("stdin".to_string(), |path| format!("`{}`", path.display()));
    match result {
        Ok(summary) if summary.input_errors == 0 => Exit::Success,
        Ok(summary) => {
            let _ = writeln!(
                err,
                "{} of {} line(s) were input errors (denied; see their `errors`)",
                summary.input_errors, summary.decided
            );
            Exit::InputError
        }
        // What failed is not the input (a worker that stopped): said as such, never a read.
        Err(e) if e.kind() == std::io::ErrorKind::Other => {
            let _ = writeln!(
                err,
                "error: the batch stopped: {e} (a bug: please report it)"
            );
            Exit::InputError
        }
        Err(e) => {
            let _ = writeln!(err, "error: cannot read {input}: {e}");
            Exit::InputError
        }
    }
}
