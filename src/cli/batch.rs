//! `aipolicy batch`: JSON Lines in, one JSON decision per line out, in order.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;

use super::{is_broken_pipe, report, EngineArgs, Exit};
use crate::decision::{Decision, Language};
use crate::engine::Engine;
use crate::query::Query;

/// Arguments of `aipolicy batch`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Each input line is a query JSON; each output line the Decision JSON for it.
A line that cannot be read gives a deny whose `errors` name the line and the field, and the
batch goes on. Blank lines are skipped. Exit 0 when every line was decided, 2 when any line
was an input error (its deny is still written).

Example:
  printf '%s\\n' '{\"user\":\"anna\",\"ai\":\"chatgpt\",\"data\":\"oppen\"}' | aipolicy batch"
)]
pub struct BatchArgs {
    /// JSON Lines file of queries [default: stdin]
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Where policies, schema and register come from
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Runs `aipolicy batch` on `stdin` (or the file named in `args`).
pub fn run(
    args: &BatchArgs,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let engine = match args.engine.load() {
        Ok(engine) => engine,
        Err(e) => {
            report(err, e);
            return Exit::InputError;
        }
    };
    let result = match &args.input {
        Some(path) => match std::fs::File::open(path) {
            Ok(file) => decide_lines(&engine, &mut BufReader::new(file), out),
            Err(e) => {
                let _ = writeln!(err, "error: cannot read `{}`: {e}", path.display());
                return Exit::InputError;
            }
        },
        None => decide_lines(&engine, stdin, out),
    };
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
        Err(e) if is_broken_pipe(&e) => Exit::Success,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            Exit::InputError
        }
    }
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Lines decided (input errors included).
    pub decided: usize,
    /// Lines that were input errors.
    pub input_errors: usize,
}

/// Decides every line of `input`, writing one Decision JSON per non-blank line.
pub fn decide_lines(
    engine: &Engine,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> std::io::Result<BatchSummary> {
    let mut out = BufWriter::new(out);
    let mut summary = BatchSummary::default();
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        let (decision, input_error) = match decide_line(engine, number, &line, engine.language()) {
            None => continue,
            Some(Ok(decision)) => (decision, false),
            Some(Err(decision)) => (decision, true),
        };
        summary.decided += 1;
        summary.input_errors += usize::from(input_error);
        serde_json::to_writer(&mut out, &decision)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(summary)
}

/// Decides one input line: `None` for a blank line, `Err` with a deny naming the line and
/// field for input that cannot be decided.
pub fn decide_line(
    engine: &Engine,
    number: usize,
    line: &[u8],
    language: Language,
) -> Option<Result<Decision, Decision>> {
    let text = match std::str::from_utf8(line) {
        Ok(text) => text.trim(),
        Err(e) => {
            return Some(Err(Decision::input_error(
                vec![format!("line {number}: not valid UTF-8: {e}")],
                language,
            )))
        }
    };
    if text.is_empty() {
        return None;
    }
    let decided = Query::from_json(text).and_then(|q| engine.decide_in(&q, language));
    Some(decided.map_err(|e| {
        Decision::input_error(
            e.problems
                .iter()
                .map(|p| format!("line {number}: {p}"))
                .collect(),
            language,
        )
    }))
}
