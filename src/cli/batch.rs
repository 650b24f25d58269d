//! `aipolicy batch`: JSON Lines in, one JSON decision per line out, in order.

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

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

/// Runs `aipolicy batch` on `stdin` (or the file named in `args`). Shows progress on stderr
/// when stderr is a terminal.
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
    let show_progress = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut last_shown = started;
    let mut progress = |summary: &BatchSummary| {
        if show_progress && last_shown.elapsed() >= Duration::from_millis(500) {
            last_shown = Instant::now();
            let rate = summary.decided as f64 / started.elapsed().as_secs_f64().max(1e-9);
            let _ = write!(err, "\r{} line(s) decided ({rate:.0}/s)", summary.decided);
            let _ = err.flush();
        }
    };
    let result = match &args.input {
        Some(path) => match std::fs::File::open(path) {
            Ok(file) => {
                decide_lines_with_progress(&engine, &mut BufReader::new(file), out, &mut progress)
            }
            Err(e) => {
                let _ = writeln!(err, "error: cannot read `{}`: {e}", path.display());
                return Exit::InputError;
            }
        },
        None => decide_lines_with_progress(&engine, stdin, out, &mut progress),
    };
    if show_progress && last_shown > started {
        let _ = writeln!(err);
    }
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

/// Lines read, decided in parallel and written, per round: memory stays bounded by one chunk
/// whatever the input's size.
pub const CHUNK_LINES: usize = 4096;

/// Decides every line of `input`, writing one Decision JSON per non-blank line, in input order.
pub fn decide_lines(
    engine: &Engine,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> std::io::Result<BatchSummary> {
    decide_lines_with_progress(engine, input, out, &mut |_| {})
}

/// [`decide_lines`], calling `progress` after each chunk. The lines of a chunk are decided
/// on every core; their decisions are written in input order.
pub fn decide_lines_with_progress(
    engine: &Engine,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(&BatchSummary),
) -> std::io::Result<BatchSummary> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let language = engine.language();
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let mut summary = BatchSummary::default();
    let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(CHUNK_LINES);
    let mut first_line = 1usize;
    loop {
        let read = read_chunk(input, &mut chunk)?;
        if read == 0 {
            break;
        }
        let slices: Vec<&[Vec<u8>]> = chunk[..read].chunks(read.div_ceil(workers)).collect();
        let mut starts = Vec::with_capacity(slices.len());
        let mut next = first_line;
        for slice in &slices {
            starts.push(next);
            next += slice.len();
        }
        let decided: Vec<std::io::Result<(Vec<u8>, BatchSummary)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = slices
                .iter()
                .zip(&starts)
                .map(|(lines, &start)| {
                    scope.spawn(move || decide_slice(engine, lines, start, language))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(std::io::Error::other("a batch worker failed")))
                })
                .collect()
        });
        for part in decided {
            let (bytes, part_summary) = part?;
            out.write_all(&bytes)?;
            summary.decided += part_summary.decided;
            summary.input_errors += part_summary.input_errors;
        }
        first_line = next;
        progress(&summary);
        if read < CHUNK_LINES {
            break;
        }
    }
    out.flush()?;
    Ok(summary)
}

/// Reads up to [`CHUNK_LINES`] lines into `chunk` (reusing its buffers); returns how many.
fn read_chunk(input: &mut dyn BufRead, chunk: &mut Vec<Vec<u8>>) -> std::io::Result<usize> {
    let mut read = 0;
    while read < CHUNK_LINES {
        if chunk.len() <= read {
            chunk.push(Vec::new());
        }
        let line = &mut chunk[read];
        line.clear();
        if read_capped_line(input, line)? == 0 {
            break;
        }
        read += 1;
    }
    Ok(read)
}

/// Reads one line, keeping at most one byte more than a query may have (so that the query's
/// own size check rejects it) and skipping the rest: a line of gigabytes without a newline
/// never sits in memory.
fn read_capped_line(input: &mut dyn BufRead, line: &mut Vec<u8>) -> std::io::Result<usize> {
    let cap = crate::query::MAX_QUERY_BYTES as u64 + 1;
    let read = Read::take(&mut *input, cap).read_until(b'\n', line)?;
    if read == 0 || line.last() == Some(&b'\n') {
        return Ok(read);
    }
    let mut skipped = 0;
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => {
                input.consume(at + 1);
                skipped += at + 1;
                break;
            }
            None => {
                let len = buffer.len();
                input.consume(len);
                skipped += len;
            }
        }
    }
    Ok(read + skipped)
}

/// Decides consecutive lines (numbered from `first`) into their JSON output.
fn decide_slice(
    engine: &Engine,
    lines: &[Vec<u8>],
    first: usize,
    language: Language,
) -> std::io::Result<(Vec<u8>, BatchSummary)> {
    let mut bytes = Vec::with_capacity(lines.len() * 256);
    let mut summary = BatchSummary::default();
    for (offset, line) in lines.iter().enumerate() {
        let (decision, input_error) = match decide_line(engine, first + offset, line, language) {
            None => continue,
            Some(Ok(decision)) => (decision, false),
            Some(Err(decision)) => (decision, true),
        };
        summary.decided += 1;
        summary.input_errors += usize::from(input_error);
        serde_json::to_writer(&mut bytes, &decision)?;
        bytes.push(b'\n');
    }
    Ok((bytes, summary))
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
