//! `aipolicy batch`: JSON Lines in, one JSON decision per line out, in order.

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

use super::{is_broken_pipe, EngineArgs, Exit};
use crate::decision::{Decision, Language};
use crate::engine::Engine;
use crate::memo::DecisionMemo;
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
    let (engine, _) = match args.engine.load(err) {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
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

/// Decisions each worker remembers (as JSON), by [`DecisionKey`](crate::DecisionKey): a
/// batch asks Cedar once per kind of query, not once per line. At a few hundred bytes each this
/// bounds the memo at about 10 MiB per worker.
pub const MEMO_PER_WORKER: usize = 32 * 1024;

/// Decides every line of `input`, writing one Decision JSON per non-blank line, in input order.
pub fn decide_lines(
    engine: &Engine,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> std::io::Result<BatchSummary> {
    decide_lines_with_progress(engine, input, out, &mut |_| {})
}

/// [`decide_lines`], calling `progress` after each chunk. The lines of a chunk are decided
/// on every core; their decisions are written in input order. Each worker keeps a
/// [`DecisionMemo`] of [`MEMO_PER_WORKER`] decisions across chunks.
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
    let mut memos: Vec<DecisionMemo<Box<[u8]>>> = (0..workers)
        .map(|_| DecisionMemo::new(MEMO_PER_WORKER))
        .collect();
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
                .zip(memos.iter_mut())
                .map(|((lines, &start), memo)| {
                    scope.spawn(move || decide_slice(engine, lines, start, language, memo))
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

/// Decides consecutive lines (numbered from `first`) into their JSON output, taking what it
/// can from `memo` and keeping what it decides there.
fn decide_slice(
    engine: &Engine,
    lines: &[Vec<u8>],
    first: usize,
    language: Language,
    memo: &mut DecisionMemo<Box<[u8]>>,
) -> std::io::Result<(Vec<u8>, BatchSummary)> {
    let mut bytes = Vec::with_capacity(lines.len() * 256);
    let mut summary = BatchSummary::default();
    for (offset, line) in lines.iter().enumerate() {
        let query = match read_line(first + offset, line, language) {
            None => continue,
            Some(query) => query,
        };
        summary.decided += 1;
        let key = query
            .as_ref()
            .ok()
            .and_then(|query| engine.decision_key(query, language));
        let request_id = match &query {
            Ok(query) => query.request_id.clone(),
            Err(decision) => decision.request_id.clone(),
        };
        if let Some(json) = key.as_ref().and_then(|key| memo.get(key)) {
            push_with_request_id(&mut bytes, json, request_id.as_deref())?;
            continue;
        }
        let decision = match query {
            Ok(query) => engine
                .decide_in(&query, language)
                .map_err(|e| input_error(first + offset, e.problems, language)),
            Err(decision) => Err(decision),
        };
        let (decision, input_error) = match decision {
            Ok(decision) => (decision, false),
            Err(decision) => (decision, true),
        };
        summary.input_errors += usize::from(input_error);
        let clean = decision.errors.is_empty();
        // Kept (and remembered) without the request's id, which each line adds for itself.
        let json = serde_json::to_vec(&decision.with_request_id(None))?;
        push_with_request_id(&mut bytes, &json, request_id.as_deref())?;
        if let (Some(key), true) = (key, clean) {
            memo.insert(key, json.into());
        }
    }
    Ok((bytes, summary))
}

/// Appends one output line: a decision's JSON object, with `requestId` added when the query
/// had one, and a newline.
fn push_with_request_id(
    bytes: &mut Vec<u8>,
    json: &[u8],
    request_id: Option<&str>,
) -> std::io::Result<()> {
    match (request_id, json.split_last()) {
        (Some(id), Some((b'}', object))) => {
            bytes.extend_from_slice(object);
            bytes.extend_from_slice(br#","requestId":"#);
            serde_json::to_writer(&mut *bytes, id)?;
            bytes.push(b'}');
        }
        _ => bytes.extend_from_slice(json),
    }
    bytes.push(b'\n');
    Ok(())
}

/// Decides one input line: `None` for a blank line, `Err` with a deny naming the line and
/// field for input that cannot be decided.
pub fn decide_line(
    engine: &Engine,
    number: usize,
    line: &[u8],
    language: Language,
) -> Option<Result<Decision, Decision>> {
    let query = read_line(number, line, language)?;
    Some(match query {
        Ok(query) => engine
            .decide_in(&query, language)
            .map_err(|e| input_error(number, e.problems, language)),
        Err(decision) => Err(decision),
    })
}

/// Reads one input line: `None` for a blank line, `Err` with a deny naming the line and field
/// for input that cannot be read.
fn read_line(number: usize, line: &[u8], language: Language) -> Option<Result<Query, Decision>> {
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
    Some(Query::from_json(text).map_err(|e| {
        input_error(number, e.problems, language).with_request_id(request_id_of(text))
    }))
}

/// The `requestId` of a line that is not a valid query, when it is a JSON object with one:
/// so that even an input error can be paired with its question.
fn request_id_of(text: &str) -> Option<String> {
    if text.len() > crate::query::MAX_QUERY_BYTES {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let id = value.get("requestId")?.as_str()?;
    (!id.is_empty() && id.chars().count() <= 256).then(|| id.to_string())
}

/// The deny for a line that is an input error, each problem prefixed with the line number.
fn input_error(
    number: usize,
    problems: Vec<crate::error::FieldError>,
    language: Language,
) -> Decision {
    Decision::input_error(
        problems
            .iter()
            .map(|p| format!("line {number}: {p}"))
            .collect(),
        language,
    )
}
