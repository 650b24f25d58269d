//! The limits of YAML read from outside (registers, scenario files), checked while a streaming
//! parser reads the text, before serde_yaml builds anything.
//!
//! serde_yaml (libyaml) reads the whole document before anything can look at it, and its work
//! grows with the square of the nesting of flow collections (`[[[[…`: 200,000 brackets took
//! 38 s before a nesting error); it also keeps every event of the document in memory (64 MiB
//! of `[],` took 4 GB before the value limit refused it). Here a streaming parser
//! (saphyr-parser) reads the events one at a time and stops at the first one over a limit:
//! too deep, too many values (aliases expanded, so that an alias bomb is stopped), or a key
//! written twice in one mapping (found here with its line; serde_yaml names none). What this
//! parser cannot read is refused too, with its line: serde_yaml never reads text that was not
//! measured.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::diagnostics::error::{FieldError, SourceDiagnostic};

/// What is wrong with a YAML text before it is built.
#[derive(Debug)]
pub(crate) enum YamlProblem {
    /// Over a limit (size, nesting, values), or not data JSON can hold.
    Limit(FieldError),
    /// Not readable as YAML, or a key twice in one mapping: where, in the text.
    Syntax(Box<SourceDiagnostic>),
}

impl YamlProblem {
    /// This problem as the error of a file of one kind: `syntax` makes the error of YAML that
    /// does not read, `invalid` the error of one that breaks a limit or cannot be data.
    pub(crate) fn into_error<E>(
        self,
        syntax: impl FnOnce(Vec<SourceDiagnostic>) -> E,
        invalid: impl FnOnce(Vec<FieldError>) -> E,
    ) -> E {
        match self {
            YamlProblem::Limit(problem) => invalid(vec![problem]),
            YamlProblem::Syntax(diagnostic) => syntax(vec![*diagnostic]),
        }
    }
}

/// A YAML document read into JSON-like data, as every YAML file aipolicy reads is (register,
/// scenarios, invariants): a byte-order mark dropped, the limits checked before anything is
/// built, merge keys (`<<: *anchor`) applied. Returns the text without its mark, for the lines
/// of later problems.
pub(crate) fn to_json<'t>(
    text: &'t str,
    file: &str,
    limits: &YamlLimits,
) -> Result<(&'t str, serde_json::Value), YamlProblem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check(text, file, limits)?;
    let syntax = |e: serde_yaml::Error| {
        YamlProblem::Syntax(Box::new(SourceDiagnostic::from_yaml_error(&e, file, text)))
    };
    let mut yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(syntax)?;
    yaml.apply_merge().map_err(syntax)?;
    let json = serde_json::to_value(&yaml).map_err(|e| {
        YamlProblem::Limit(FieldError::new(
            "",
            format!("cannot be read as JSON-like data: {e}"),
        ))
    })?;
    Ok((text, json))
}

/// The limits of one kind of YAML document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct YamlLimits {
    /// What the document is, in messages: `register`, `scenario file`.
    pub what: &'static str,
    /// The most bytes.
    pub max_bytes: usize,
    /// The deepest nesting of lists and maps.
    pub max_depth: usize,
    /// The most values (scalars, lists and maps), aliases expanded.
    pub max_values: usize,
    /// And at most this many per byte of the text (at least 1,000 in all).
    pub values_per_byte: usize,
}

/// The keys of a map being read, each with the line it is on (a plain scalar that is not a
/// string kept apart from the string of the same text), and whether the next event is a key.
type Keys = (HashMap<(bool, String), usize>, bool);

/// A list or map being read.
struct Open {
    /// Its anchor id (0 for none).
    anchor: usize,
    /// Values counted when it started.
    values_before: usize,
    /// The deepest nesting within it, itself counted.
    height: usize,
    /// For a map: its keys so far; `None` for a list.
    keys: Option<Keys>,
}

/// Checks `text` against `limits`, reading it once as a stream of YAML events.
pub(crate) fn check(text: &str, file: &str, limits: &YamlLimits) -> Result<(), YamlProblem> {
    let what = limits.what;
    if text.len() > limits.max_bytes {
        return Err(YamlProblem::Limit(FieldError::new(
            "",
            format!(
                "{what} is {} bytes; the limit is {} bytes",
                text.len(),
                limits.max_bytes
            ),
        )));
    }
    let max_values = text
        .len()
        .saturating_mul(limits.values_per_byte)
        .max(1_000)
        .min(limits.max_values);
    let too_deep = || {
        let max = limits.max_depth;
        YamlProblem::Limit(FieldError::new(
            "",
            format!("{what} nests lists and maps more than {max} levels deep; the limit is {max}"),
        ))
    };
    let too_many = || {
        YamlProblem::Limit(FieldError::new(
            "",
            if max_values == limits.max_values {
                format!(
                    "{what} has more than {max_values} YAML values once its aliases are expanded; the limit is {max_values}"
                )
            } else {
                format!(
                    "{what} has more than {max_values} YAML values once its aliases are expanded; the limit is {max_values} ({} per byte of its {} bytes)",
                    limits.values_per_byte,
                    text.len()
                )
            },
        ))
    };
    let at = |line: usize, column: usize, message: String| {
        YamlProblem::Syntax(Box::new(SourceDiagnostic::new(
            file,
            Arc::from(text),
            byte_offset(text, line, column).into(),
            message,
            None,
        )))
    };
    // Each anchored value's size and nesting, by anchor id, for its aliases.
    let mut anchors: HashMap<usize, (usize, usize)> = HashMap::new();
    let mut open: Vec<Open> = Vec::new();
    let mut values = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(event) => event,
            // The parser's own bound on flow nesting (deeper than any limit here).
            Err(e) if e.info() == "recursion limit exceeded" => return Err(too_deep()),
            Err(e) => {
                let mark = e.marker();
                return Err(at(mark.line(), mark.col(), e.info().to_string()));
            }
        };
        // A key of the map being read: checked against the map's other keys.
        if let Some(Open {
            keys: Some((keys, expecting_key)),
            ..
        }) = open.last_mut()
        {
            let is_key = *expecting_key;
            *expecting_key = !is_key && !matches!(event, Event::MappingEnd);
            if let (true, Event::Scalar(value, style, _, None)) = (is_key, &event) {
                let key = (
                    style == &ScalarStyle::Plain && !plain_string(value),
                    value.to_string(),
                );
                let line = span.start.line();
                if let Some(first) = keys.insert(key, line) {
                    return Err(at(
                        line,
                        span.start.col(),
                        format!(
                            "duplicate entry with key {value:?} (first at line {first}); a map gives each key once"
                        ),
                    ));
                }
            }
        }
        // This value's own size and nesting, once it is complete (a list or map: at its end).
        let (anchor, size, height) = match event {
            Event::Scalar(_, _, anchor, _) => (anchor, 1, 0),
            Event::Alias(id) => {
                let (size, height) = anchors.get(&id).copied().unwrap_or((1, 0));
                (0, size, height)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if open.len() >= limits.max_depth {
                    return Err(too_deep());
                }
                values += 1;
                if values > max_values {
                    return Err(too_many());
                }
                let keys = matches!(event, Event::MappingStart(..)).then(|| (HashMap::new(), true));
                open.push(Open {
                    anchor,
                    values_before: values - 1,
                    height: 1,
                    keys,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(done) = open.pop() else { continue };
                let size = values - done.values_before;
                if let Some(parent) = open.last_mut() {
                    parent.height = parent.height.max(done.height + 1);
                }
                if done.anchor != 0 {
                    anchors.insert(done.anchor, (size, done.height));
                }
                continue;
            }
            _ => continue,
        };
        if open.len() + height > limits.max_depth {
            return Err(too_deep());
        }
        values = values.saturating_add(size);
        if values > max_values {
            return Err(too_many());
        }
        if let Some(parent) = open.last_mut() {
            parent.height = parent.height.max(height + 1);
        }
        if anchor != 0 {
            anchors.insert(anchor, (size, height));
        }
    }
    Ok(())
}

/// Whether a plain scalar is read as a string (not null, a boolean or a number), so that it
/// is the same key as the quoted string of the same text.
fn plain_string(value: &str) -> bool {
    let not_string = matches!(
        value,
        "" | "~"
            | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
    ) || value.starts_with([
        '+', '-', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
    ]);
    !not_string
}

/// The byte offset of a 1-based line and 0-based column (in characters) of `text`.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(at, _)| at + 1)
    };
    text.get(start..)
        .and_then(|rest| rest.char_indices().nth(column).map(|(at, _)| start + at))
        .unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    const LIMITS: YamlLimits = YamlLimits {
        what: "test",
        max_bytes: 1 << 20,
        max_depth: 3,
        max_values: 100,
        values_per_byte: 16,
    };

    fn problem(text: &str) -> String {
        match check(text, "t.yaml", &LIMITS) {
            Ok(()) => String::new(),
            Err(YamlProblem::Limit(e)) => e.message,
            Err(YamlProblem::Syntax(d)) => d.headline(),
        }
    }

    #[test]
    fn nesting_counts_lists_and_maps_and_what_aliases_bring() {
        assert_eq!(problem("a: [[x]]"), "");
        assert!(problem("a: [[[x]]]").contains("more than 3 levels"));
        assert!(problem("- - - - x").contains("more than 3 levels"));
        // An alias brings its anchor's nesting where it is used.
        assert_eq!(problem("a: &a [x]\nb: [*a]"), "");
        assert!(problem("a: &a [[x]]\nb: [*a]").contains("more than 3 levels"));
    }

    #[test]
    fn values_count_aliases_expanded() {
        let bomb = format!(
            "a: &a [{}]\nb: [{}]",
            ["x"; 10].join(","),
            ["*a"; 10].join(",")
        );
        assert!(
            problem(&bomb).contains("more than 100 YAML values"),
            "{}",
            problem(&bomb)
        );
    }

    #[test]
    fn a_key_twice_in_one_map_is_found_with_its_line() {
        assert_eq!(
            problem("a: 1\nb:\n  c: 2\n  'c': 3\n"),
            "t.yaml:4:3: duplicate entry with key \"c\" (first at line 3); a map gives each key once"
        );
        // The same text as a string and as a number are two keys; so are keys of two maps.
        assert_eq!(problem("{1: a, '1': b}"), "");
        assert_eq!(problem("- {a: 1}\n- {a: 2}\n"), "");
    }

    #[test]
    fn byte_offsets_count_characters_within_the_line() {
        assert_eq!(byte_offset("åäö\nåx", 2, 1), 9);
        assert_eq!(byte_offset("ab", 1, 5), 2);
    }
}
