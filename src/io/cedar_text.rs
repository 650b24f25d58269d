//! Cedar text read from outside (policy files, the schema): its nesting measured before Cedar
//! parses it, and the thread Cedar's parser and validator run on.
//!
//! Cedar's parser, and what it does with the parsed tree, recurse once per level of nesting:
//! deeply nested text (582 parentheses, 5,000 nested `if`s, a chain of 100,000 `&&`) would
//! overflow the stack and abort the process. [`nesting_over`] refuses such text first, in one
//! pass over its bytes; [`on_parser_stack`] runs the parser on a thread whose stack holds the
//! deepest text accepted with a wide margin, whatever thread the caller is on.

use std::sync::Arc;

use crate::diagnostics::error::{LoadError, SourceDiagnostic};

/// The stack of the thread Cedar parses and validates on: 64 MiB (reserved, not used: only
/// the pages touched take memory). The deepest accepted policy needs between 1 and 4 MiB in a
/// debug build, more than a service's 2 MiB worker threads have; a unit test parses and
/// validates each kind of nesting at the limit on a sixteenth of this stack.
pub(crate) const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Which Cedar text is scanned: policies count operators too, a schema only its brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Policy text: `(`, `[`, `{`, `if`, and each operator chained at one level.
    Policy,
    /// Schema text: `{`, `[`, `(` and `<` (of `Set<…>`).
    Schema,
}

/// The first place where `text` nests deeper than `max`, as (byte offset, nesting there).
///
/// The nesting at a place is an upper bound on the depth of Cedar's tree there: each bracket
/// around it counts one, and so does, at each of those levels, each `if` and each operator
/// (`&&`, `||`, `==`, `<`, `+`, `!`, `.`, `::`, `in`, `has`, `like`, `is`, …) written since the
/// level's last `,` (a `,` ends one element of a list, a set or a record, and each element is
/// a tree of its own). Strings and `//` comments are skipped as Cedar's lexer skips them; text
/// after a string Cedar cannot read (unclosed, or a `\` before a line break) is never parsed,
/// so it is not scanned either.
pub(crate) fn nesting_over(text: &str, dialect: Dialect, max: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    // The operators written since the last `,` at each open bracket, and before any bracket.
    let mut levels: Vec<usize> = Vec::new();
    let mut outside = 0usize;
    let mut nesting = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let mut step = 1;
        let mut chained = 0;
        match b {
            b'"' => match string_end(bytes, i) {
                Some(end) => step = end - i,
                None => return None,
            },
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                step = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .unwrap_or(bytes.len() - i);
            }
            b'(' | b'[' | b'{' => {
                levels.push(0);
                nesting += 1;
            }
            b'<' if dialect == Dialect::Schema => {
                levels.push(0);
                nesting += 1;
            }
            b')' | b']' | b'}' => {
                if let Some(ops) = levels.pop() {
                    nesting -= ops + 1;
                }
            }
            b'>' if dialect == Dialect::Schema => {
                if let Some(ops) = levels.pop() {
                    nesting -= ops + 1;
                }
            }
            b',' => {
                if let Some(ops) = levels.last_mut() {
                    nesting -= *ops;
                    *ops = 0;
                }
            }
            b';' if levels.is_empty() => {
                nesting -= outside;
                outside = 0;
            }
            _ if dialect == Dialect::Schema => {}
            b'&' | b'|' | b'=' | b'!' | b'<' | b'>' | b':' => {
                // `&&`, `||`, `==`, `!=`, `<=`, `>=`, `::` are one operator.
                let pair = bytes.get(i + 1).is_some_and(|&c| {
                    (c == b && b != b'!' && b != b'<' && b != b'>') || (c == b'=' && b != b':')
                });
                step = if pair { 2 } else { 1 };
                chained = usize::from(b != b':' || pair);
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'.' => chained = 1,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                step = bytes[i..]
                    .iter()
                    .position(|&c| !(c == b'_' || c.is_ascii_alphanumeric()))
                    .unwrap_or(bytes.len() - i);
                let word = &bytes[i..i + step];
                chained = usize::from(matches!(word, b"if" | b"in" | b"has" | b"like" | b"is"));
            }
            _ => {}
        }
        if chained > 0 {
            match levels.last_mut() {
                Some(ops) => *ops += chained,
                None => outside += chained,
            }
            nesting += chained;
        }
        if nesting > max {
            return Some((i, nesting));
        }
        i += step;
    }
    None
}

/// The end (one past the closing quote) of the string that starts at `start`, read as Cedar's
/// lexer reads it (`"(\\.|[^"\\])*"`, where `.` is any character but a line feed); `None` for
/// a string it cannot read.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        match *bytes.get(i)? {
            b'"' => return Some(i + 1),
            // The escaped character's first byte; the rest of a multi-byte one is plain text.
            b'\\' if bytes.get(i + 1).is_some_and(|&c| c != b'\n') => i += 2,
            b'\\' => return None,
            _ => i += 1,
        }
    }
}

/// The problem of Cedar text nested deeper than `max`, pointing at where the limit is passed.
pub(crate) fn nesting_problem(
    text: &Arc<str>,
    file: &str,
    dialect: Dialect,
    max: usize,
) -> Option<SourceDiagnostic> {
    let (offset, _) = nesting_over(text, dialect, max)?;
    let (kind, help) = match dialect {
        Dialect::Policy => (
            "policy",
            "each bracket or `if` around a place, and each operator chained before it at each \
             of those levels, counts one; split the condition into several policies or name \
             its parts in the schema",
        ),
        Dialect::Schema => (
            "schema",
            "each `{`, `[`, `(` or `Set<` around a place counts one; name inner record types \
             with `type`",
        ),
    };
    Some(SourceDiagnostic::new(
        file,
        text.clone(),
        offset.into(),
        format!("{kind} nests deeper than {max} levels here; the limit is {max}"),
        Some(help.to_string()),
    ))
}

/// Runs `work` (Cedar's parser or validator) on a thread with [`PARSER_STACK_BYTES`] of stack,
/// so that the deepest accepted text cannot overflow the caller's stack (a service's worker
/// threads may have 2 MiB). A thread that cannot be started is an error, never a guess.
pub(crate) fn on_parser_stack<T: Send>(work: impl FnOnce() -> T + Send) -> Result<T, LoadError> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("aipolicy-cedar".into())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(scope, work)
            .map_err(|e| LoadError::Internal(format!("cannot start Cedar's parser thread: {e}")))?;
        handle
            .join()
            .map_err(|_| LoadError::Internal("Cedar's parser thread failed".into()))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::policy::{Policies, PolicyFile, MAX_POLICY_NESTING};

    /// A policy whose condition is `body`.
    pub(crate) fn deep_policy(body: &str) -> String {
        format!(
            "@id(\"deep\")\n@paragraph(\"U3\")\n@sv(\"x\")\n@en(\"x\")\nforbid (principal, action in Action::\"anyUse\", resource)\nwhen {{ {body} }};\n"
        )
    }

    /// Each kind of nesting, as a condition of `n` levels.
    #[allow(clippy::type_complexity)]
    pub(crate) const KINDS: [(&str, fn(usize) -> String); 10] = [
        ("parentheses", |n| {
            format!("{}context.data.level > 3{}", "(".repeat(n), ")".repeat(n))
        }),
        ("nested if", |n| {
            format!(
                "{}true{}",
                "if context.data.secrecy then ".repeat(n),
                " else false".repeat(n)
            )
        }),
        ("if in if's condition", |n| {
            format!(
                "{}context.data.secrecy{}",
                "if ".repeat(n),
                " then true else false".repeat(n)
            )
        }),
        ("set literal", |n| {
            format!("{}1{}.contains([1])", "[".repeat(n), "]".repeat(n))
        }),
        ("record literal", |n| {
            format!("{}1{} == {{a: 1}}", "{a: ".repeat(n), "}".repeat(n))
        }),
        ("&& chain", |n| {
            format!("{}true", "context.data.secrecy && ".repeat(n))
        }),
        ("|| chain", |n| {
            format!("{}true", "context.data.secrecy || ".repeat(n))
        }),
        ("+ chain", |n| {
            format!("context.data.level{} > 3", " + 1".repeat(n))
        }),
        ("negations", |n| {
            format!("{}context.data.secrecy{}", "!(".repeat(n), ")".repeat(n))
        }),
        ("attribute chain", |n| {
            format!("context{}.level > 3", ".data".repeat(n))
        }),
    ];

    /// The deepest policy of `kind` that the nesting check accepts.
    pub(crate) fn deepest_accepted(kind: fn(usize) -> String) -> String {
        let accepted = |n: usize| {
            nesting_over(&deep_policy(&kind(n)), Dialect::Policy, MAX_POLICY_NESTING).is_none()
        };
        let n = (1..=MAX_POLICY_NESTING)
            .rev()
            .find(|&n| accepted(n))
            .unwrap();
        assert!(!accepted(n + 1));
        deep_policy(&kind(n))
    }

    #[test]
    fn cedar_parses_and_validates_the_deepest_accepted_policy_on_a_sixteenth_of_its_stack() {
        let schema = crate::policy::bundled_schema().unwrap();
        for (name, kind) in KINDS {
            let text = deepest_accepted(kind);
            let schema = &schema;
            let work = move || {
                let file = PolicyFile {
                    name: format!("{name}.cedar"),
                    text: Arc::from(text.as_str()),
                };
                let policies = Policies::parse_files(vec![file]).unwrap();
                let _ = policies.strict_validation_here(schema);
                policies.rules().len()
            };
            let rules = std::thread::scope(|scope| {
                std::thread::Builder::new()
                    .stack_size(PARSER_STACK_BYTES / 16)
                    .spawn_scoped(scope, work)
                    .unwrap()
                    .join()
                    .unwrap()
            });
            assert_eq!(rules, 1, "{name}");
        }
    }

    fn nesting(text: &str) -> usize {
        (0..)
            .find(|&max| nesting_over(text, Dialect::Policy, max).is_none())
            .unwrap_or(0)
    }

    #[test]
    fn brackets_ifs_and_chained_operators_count() {
        assert_eq!(nesting("permit (principal, action, resource);"), 1);
        assert_eq!(nesting("when { ((a)) }"), 3);
        assert_eq!(nesting("when { a && b || c }"), 3);
        assert_eq!(nesting("when { context.data.level > 3 }"), 4);
        assert_eq!(nesting("when { [a.b, c.d, e.f] }"), 3);
        assert_eq!(nesting("when { if a then b else c }"), 2);
        assert_eq!(nesting("when { principal in Group::\"x\" }"), 3);
        // `;` ends a policy; strings and comments hold nothing.
        assert_eq!(nesting("a && b; c"), 1);
        assert_eq!(nesting("when { \"((((\\\"((\" } // ((((((\n"), 1);
        // A string Cedar cannot read ends what Cedar parses.
        assert_eq!(nesting("when { \"open ((((((((((((("), 1);
        assert_eq!(nesting("when { \"a\\\n\" (((((((((("), 1);
    }

    #[test]
    fn the_bundled_policies_and_schema_nest_far_below_the_limits() {
        let deepest = crate::policy::BUNDLED_POLICY_FILES
            .iter()
            .map(|(_, text)| nesting(text))
            .max();
        assert_eq!(
            deepest,
            Some(15),
            "MAX_POLICY_NESTING's documentation says 15"
        );
        let schema = crate::policy::BUNDLED_SCHEMA;
        let schema_nesting = (0..)
            .find(|&max| nesting_over(schema, Dialect::Schema, max).is_none())
            .unwrap_or(0);
        assert_eq!(schema_nesting, 2, "schema");
    }

    #[test]
    fn the_scan_stops_where_the_limit_is_passed() {
        let text = format!("when {{ {}true{} }}", "(".repeat(1_000), ")".repeat(1_000));
        assert_eq!(nesting_over(&text, Dialect::Policy, 10), Some((16, 11)));
        let schema = "type A = { a: Set<Set<Long>> };";
        assert_eq!(nesting_over(schema, Dialect::Schema, 2), Some((21, 3)));
        assert_eq!(nesting_over(schema, Dialect::Schema, 3), None);
    }
}
