//! Batch decisions: JSON Lines of queries in, one Decision JSON per line out, in input order.
//!
//! Lines are read in chunks, decided on every core, and written in order; memory stays bounded
//! by one chunk and the memo its workers share, whatever the input's size. Every input line gives
//! exactly one output line: a line that cannot be read is a deny naming the line and field.

use std::io::{BufRead, BufWriter, Read, Write};

use crate::diagnostics::error::FieldError;
use crate::engine::memo::{DecisionMemo, Remembered};
use crate::engine::Engine;
use crate::model::decision::{Decision, Language};
use crate::model::query::Query;

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

/// And at most about this many bytes of lines per round (a line is at most 2 MiB, with text):
/// 4,096 lines of 2 MiB would be 8 GiB.
pub const CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// Decisions a batch remembers, by [`DecisionKey`](crate::DecisionKey), in one memo its
/// workers share: a batch asks Cedar once per kind of query, not once per line. At a few
/// hundred bytes each (a decision and its JSON) this bounds the memo at about 20 MiB.
pub const MEMO_DECISIONS: usize = 64 * 1024;

/// Decides every line of `input`, writing one Decision JSON per line, in input order.
pub fn decide_lines(
    engine: &Engine,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> std::io::Result<BatchSummary> {
    decide_lines_with_progress(engine, input, out, &mut |_| {})
}

/// [`decide_lines`], calling `progress` after each chunk. The lines of a chunk are decided
/// on every core; their decisions are written in input order. The workers share one
/// [`DecisionMemo`] of [`MEMO_DECISIONS`] decisions across chunks.
pub fn decide_lines_with_progress(
    engine: &Engine,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(&BatchSummary),
) -> std::io::Result<BatchSummary> {
    decide_lines_observed(engine, input, out, progress, None)
}

/// Called with each query that was read and its decision (lines that are not a query are
/// not), in input order: a decision log's hook.
pub type Observer<'o> = &'o (dyn Fn(&Query, &Decision) + Sync);

/// [`decide_lines_with_progress`], handing each decided query to `observer` in input order
/// (a chunk's lines are decided on every core, then observed in order, as they are written),
/// so that a log of a batch reads as its input.
pub fn decide_lines_observed(
    engine: &Engine,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(&BatchSummary),
    observer: Option<Observer<'_>>,
) -> std::io::Result<BatchSummary> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let language = engine.language();
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let mut summary = BatchSummary::default();
    let mut chunk: Vec<InputLine> = Vec::with_capacity(CHUNK_LINES);
    let mut first_line = 1usize;
    let memo = DecisionMemo::new(MEMO_DECISIONS);
    loop {
        let (read, ended) = read_chunk(input, &mut chunk)?;
        if read == 0 {
            break;
        }
        let slices: Vec<&[InputLine]> = chunk[..read].chunks(read.div_ceil(workers)).collect();
        let mut starts = Vec::with_capacity(slices.len());
        let mut next = first_line;
        for slice in &slices {
            starts.push(next);
            next += slice.len();
        }
        let watch = observer.is_some();
        let decided: Vec<std::io::Result<Decided>> = std::thread::scope(|scope| {
            let handles: Vec<_> = slices
                .iter()
                .zip(&starts)
                .map(|(lines, &start)| {
                    let memo = &memo;
                    scope.spawn(move || decide_slice(engine, lines, start, language, memo, watch))
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
            let Decided {
                bytes,
                summary: part_summary,
                observed,
            } = part?;
            if let Some(observe) = observer {
                for (query, decision) in &observed {
                    observe(query, decision);
                }
            }
            out.write_all(&bytes)?;
            summary.decided += part_summary.decided;
            summary.input_errors += part_summary.input_errors;
        }
        first_line = next;
        progress(&summary);
        // A long line's buffer is not kept for the next rounds.
        for line in &mut chunk {
            if line.bytes.capacity() > 4096 {
                line.bytes = Vec::new();
            }
        }
        if ended {
            break;
        }
    }
    out.flush()?;
    Ok(summary)
}

/// One input line as read: its bytes (without the line break), or, for a line over
/// [`MAX_QUERY_BYTES`](crate::model::query::MAX_QUERY_BYTES), only how long it was.
#[derive(Debug, Default)]
struct InputLine {
    bytes: Vec<u8>,
    /// The length of a line over the limit, whose bytes were skipped, not kept.
    over_limit: Option<u64>,
}

/// Reads up to [`CHUNK_LINES`] lines, or [`CHUNK_BYTES`], into `chunk` (reusing its
/// buffers); returns how many, and whether the input ended.
fn read_chunk(
    input: &mut dyn BufRead,
    chunk: &mut Vec<InputLine>,
) -> std::io::Result<(usize, bool)> {
    let (mut read, mut bytes) = (0, 0);
    while read < CHUNK_LINES && bytes < CHUNK_BYTES {
        if chunk.len() <= read {
            chunk.push(InputLine::default());
        }
        if !read_capped_line(input, &mut chunk[read])? {
            return Ok((read, true));
        }
        bytes += chunk[read].bytes.len();
        read += 1;
    }
    Ok((read, false))
}

/// Reads one line (`false` at the end of the input). A line over the query limit is measured
/// and skipped, never kept: a line of gigabytes without a newline never sits in memory, and
/// what it holds (spaces, then a query) is never read as a query.
fn read_capped_line(input: &mut dyn BufRead, line: &mut InputLine) -> std::io::Result<bool> {
    line.bytes.clear();
    line.over_limit = None;
    let max = crate::model::query::MAX_QUERY_BYTES as u64;
    // The line, its line break and one byte more: a longer line is over the limit.
    let read = Read::take(&mut *input, max + 2).read_until(b'\n', &mut line.bytes)? as u64;
    if read == 0 {
        return Ok(false);
    }
    if line.bytes.last() == Some(&b'\n') {
        line.bytes.pop();
    } else if read == max + 2 {
        let mut length = read;
        loop {
            let buffer = input.fill_buf()?;
            if buffer.is_empty() {
                break;
            }
            match buffer.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    input.consume(at + 1);
                    length += at as u64;
                    break;
                }
                None => {
                    let len = buffer.len();
                    input.consume(len);
                    length += len as u64;
                }
            }
        }
        line.bytes.clear();
        line.over_limit = Some(length);
        return Ok(true);
    }
    if line.bytes.len() as u64 > max {
        line.over_limit = Some(line.bytes.len() as u64);
        line.bytes.clear();
    }
    Ok(true)
}

/// What a worker decided of its lines: their output, their count, and (when `watch`) each
/// query with its decision, in order, for the observer.
struct Decided {
    bytes: Vec<u8>,
    summary: BatchSummary,
    observed: Vec<(Query, Decision)>,
}

/// Decides consecutive lines (numbered from `first`) into their JSON output, through the
/// batch's one memo.
fn decide_slice(
    engine: &Engine,
    lines: &[InputLine],
    first: usize,
    language: Language,
    memo: &DecisionMemo,
    watch: bool,
) -> std::io::Result<Decided> {
    let mut bytes = Vec::with_capacity(lines.len() * 256);
    let mut summary = BatchSummary::default();
    let mut observed = Vec::new();
    for (offset, line) in lines.iter().enumerate() {
        summary.decided += 1;
        let (query, decided) = read_and_decide(
            first + offset,
            &line.bytes,
            line.over_limit,
            language,
            |query| engine.decide_remembered(query, language, memo),
        );
        match decided {
            Ok(remembered) => {
                let request_id = query.as_ref().and_then(|q| q.request_id.as_deref());
                remembered.write_line(&mut bytes, request_id)?;
                if let (true, Some(query)) = (watch, query) {
                    let decision = remembered.answer(query.request_id.clone());
                    observed.push((query, decision));
                }
            }
            Err(decision) => {
                // A line that is not a query, or one that cannot be decided: its own deny,
                // never remembered.
                summary.input_errors += 1;
                let request_id = decision.request_id.clone();
                let watched = query
                    .filter(|_| watch)
                    .map(|query| (query, decision.clone()));
                Remembered::new(decision).write_line(&mut bytes, request_id.as_deref())?;
                observed.extend(watched);
            }
        }
    }
    Ok(Decided {
        bytes,
        summary,
        observed,
    })
}

/// One line of a batch, decided: what [`decide_line_by`] gives.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecidedLine {
    /// The query the line held, when it was one (a line that is not a query has none).
    pub query: Option<Query>,
    /// Its decision: a deny naming the line and field when the line was an input error.
    pub decision: Decision,
    /// Whether the line was an input error (not a query, or a query that cannot be decided).
    pub input_error: bool,
}

/// Decides one input line (without its line break) with `decide`, the one reading of a batch
/// line that `aipolicy batch` and the service's `/v1/batch` share: a line that is not a query
/// (a blank line included), or a query `decide` refuses, is a deny naming the line and field,
/// with the line's `requestId` when it has one.
///
/// ```
/// use aipolicy::{Engine, Language};
/// let engine = Engine::bundled().unwrap();
/// # // The day these lines were written: the register's dated assessments all hold on it.
/// # let engine = engine.with_clock(aipolicy::Clock::fixed(aipolicy::clock::parse_date("2026-12-07").unwrap()));
/// let line = br#"{"user":"anna","ai":"copilot-chat","data":"intern"}"#;
/// let decided = aipolicy::batch::decide_line_by(1, line, Language::Sv, |query| {
///     engine.decide_in(query, Language::Sv)
/// });
/// assert!(decided.decision.is_allowed() && !decided.input_error);
/// let blank = aipolicy::batch::decide_line_by(2, b"", Language::Sv, |query| {
///     engine.decide_in(query, Language::Sv)
/// });
/// assert!(blank.input_error && blank.decision.errors[0].starts_with("rad 2: tom rad"));
/// ```
pub fn decide_line_by(
    number: usize,
    line: &[u8],
    language: Language,
    decide: impl FnOnce(&Query) -> Result<Decision, crate::InputError>,
) -> DecidedLine {
    let (query, decided) = read_and_decide(number, line, None, language, decide);
    let (decision, input_error) = match decided {
        Ok(decision) => (decision, false),
        Err(decision) => (decision, true),
    };
    DecidedLine {
        query,
        decision,
        input_error,
    }
}

/// Reads line `number` and decides its query with `decide`: the query, when the line held one,
/// and what `decide` gave, or the line's own deny naming the line and field (a line that is not
/// a query, or a query `decide` refuses), with the line's `requestId` when it has one. The one
/// reading of a line under [`decide_line_by`] and the batch's workers.
fn read_and_decide<T>(
    number: usize,
    line: &[u8],
    over_limit: Option<u64>,
    language: Language,
    decide: impl FnOnce(&Query) -> Result<T, crate::InputError>,
) -> (Option<Query>, Result<T, Decision>) {
    match read_line(number, line, over_limit, language) {
        Ok(query) => {
            let decided = decide(&query).map_err(|e| {
                input_error(number, e.problems, language).with_request_id(query.request_id.clone())
            });
            (Some(query), decided)
        }
        Err(decision) => (None, Err(decision)),
    }
}

/// [`decide_line_by`] with `engine`: `Err` with a deny naming the line and field for input
/// that cannot be decided (a blank line included).
// Both sides are a decision to write out, of the same size: boxing the error would only add an
// allocation per bad line.
#[allow(clippy::result_large_err)]
pub fn decide_line(
    engine: &Engine,
    number: usize,
    line: &[u8],
    language: Language,
) -> Result<Decision, Decision> {
    let decided = decide_line_by(number, line, language, |query| {
        engine.decide_in(query, language)
    });
    if decided.input_error {
        Err(decided.decision)
    } else {
        Ok(decided.decision)
    }
}

/// Reads one input line: `Err` with a deny naming the line and field for input that cannot be
/// read: a line over the size limit whatever it holds (`over_limit`: its length, its bytes
/// skipped), a line that is not UTF-8, a blank line.
// The error is the deny written for the line, not a value passed up a chain of calls.
#[allow(clippy::result_large_err)]
fn read_line(
    number: usize,
    bytes: &[u8],
    over_limit: Option<u64>,
    language: Language,
) -> Result<Query, Decision> {
    let error = |problem: FieldError| input_error(number, vec![problem], language);
    if let Some(length) = over_limit {
        return Err(error(crate::model::query::too_large(length)));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.trim(),
        Err(e) => {
            return Err(error(FieldError::in_both(
                "",
                format!("inte giltig UTF-8 (från byte {})", e.valid_up_to()),
                format!("not valid UTF-8: {e}"),
            )))
        }
    };
    if text.is_empty() {
        return Err(error(FieldError::in_both(
            "",
            "tom rad; ett JSON-objekt med en fråga väntades (varje rad får ett beslut)",
            "blank line; expected a query JSON object (every line gets a decision)",
        )));
    }
    Query::from_json(text)
        .map_err(|e| input_error(number, e.problems, language).with_request_id(request_id_of(text)))
}

/// The `requestId` of a line that is not a valid query, when it is a JSON object with one:
/// so that even an input error can be paired with its question.
fn request_id_of(text: &str) -> Option<String> {
    if text.len() > crate::model::query::MAX_QUERY_BYTES {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let id = value.get("requestId")?.as_str()?;
    (!id.is_empty() && id.chars().count() <= 256).then(|| id.to_string())
}

/// The deny for a line that is an input error, each problem in `language` and prefixed with
/// the line number.
fn input_error(number: usize, problems: Vec<FieldError>, language: Language) -> Decision {
    Decision::input_error(
        problems
            .into_iter()
            .map(|p| p.at_line(Some(number)).text_in(language))
            .collect(),
        language,
    )
}
