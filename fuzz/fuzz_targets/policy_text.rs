//! A structured target: policy text built from pieces that nest (brackets, `if`, set and
//! record literals, chains of `&&`, `||`, `+`, `.`, `!`), each repeated up to 200,000 times,
//! with arbitrary text between them and after the policy. The text goes through the
//! loader (`Policies::from_files`), the lint (`lint::lint_policies`), the formatter
//! (`authoring::format::format_cedar`) and, when it loads, an engine (the bundled schema and register, this
//! policy alone) that decides a few queries.
//!
//! Properties, besides the shared ones (`aipolicy_fuzz`):
//! - no input aborts the process (a stack overflow in Cedar's parser, validator or evaluator
//!   is a crash libFuzzer reports): text nested over `MAX_POLICY_NESTING` is refused first;
//! - every refusal names the file and, for text that does not parse or nests too deep, a line;
//! - text the loader accepts, the lint accepts too (no syntax finding), and the reverse;
//! - a loaded set of policies that validates decides every query, fail-closed.
#![no_main]

use std::sync::Arc;

use aipolicy::authoring::format::format_cedar;
use aipolicy::authoring::lint::lint_policies;
use aipolicy::policies::MAX_POLICY_BYTES;
use aipolicy::{Action, Engine, LoadError, Policies, PolicyFile, Query, Role, UserRef};
use aipolicy_fuzz::{decide_checked, ENGINE};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

/// One piece of a condition, written `times` times (opening pieces are closed after the
/// core, in reverse order, unless `unclosed`).
#[derive(Debug, Arbitrary)]
enum Piece {
    Parens,
    If,
    IfCondition,
    Set,
    Record,
    Not,
    And,
    Or,
    Plus,
    Attribute,
    Raw(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    pieces: Vec<(Piece, u32)>,
    core: String,
    unclosed: bool,
    effect_forbid: bool,
    tail: String,
}

fn opening(piece: &Piece) -> (&str, &str) {
    match piece {
        Piece::Parens => ("(", ")"),
        Piece::If => ("if context.data.secrecy then ", " else false"),
        Piece::IfCondition => ("if ", " then true else false"),
        Piece::Set => ("[", "].contains(1)"),
        Piece::Record => ("{a: ", "}.a"),
        Piece::Not => ("!(", ")"),
        Piece::And => ("context.data.secrecy && ", ""),
        Piece::Or => ("context.data.secrecy || ", ""),
        Piece::Plus => ("", " + 1 > 0"),
        Piece::Attribute => ("", ".data"),
        Piece::Raw(_) => ("", ""),
    }
}

fuzz_target!(|input: Input| {
    let mut head = String::new();
    let mut tail = String::new();
    for (piece, times) in input.pieces.iter().take(8) {
        let times = (*times % 200_001) as usize;
        let (open, close) = opening(piece);
        if let Piece::Raw(text) = piece {
            head.push_str(text);
            continue;
        }
        if head.len() + tail.len() + times * (open.len() + close.len()) > 2 * MAX_POLICY_BYTES {
            return;
        }
        head.push_str(&open.repeat(times));
        tail.insert_str(0, &close.repeat(times));
    }
    let core = if input.core.is_empty() {
        "context.data.level > 3"
    } else {
        &input.core
    };
    let body = if input.unclosed {
        format!("{head}{core}")
    } else {
        format!("{head}{core}{tail}")
    };
    let effect = if input.effect_forbid {
        "forbid"
    } else {
        "permit"
    };
    let text = format!(
        "@id(\"fuzz\")\n@paragraph(\"U3\")\n@sv(\"x\")\n@en(\"x\")\n{effect} (principal, action in Action::\"anyUse\", resource)\nwhen {{ {body} }};\n{}",
        input.tail
    );
    // The generated file alone: the bundled policies would make every input cost their
    // strict validation, and they are fuzzed through the other targets.
    let files = vec![PolicyFile {
        name: "fuzz.cedar".into(),
        text: Arc::from(text.as_str()),
    }];

    let _ = format_cedar(&text, "fuzz.cedar");
    let lint = lint_policies(&files, Some(ENGINE.schema()), "fuzz");
    let lint_syntax = lint
        .errors()
        .any(|f| f.check == aipolicy::lint::Check::Syntax && f.file() == "fuzz.cedar");
    let policies = match Policies::from_files(files) {
        Ok(policies) => policies,
        Err(LoadError::Policies(problems)) => {
            assert!(!problems.is_empty(), "a refusal without a problem");
            for p in &problems {
                assert!(!p.file().is_empty(), "a problem without its file: {p:?}");
                if p.message.contains("nests deeper") {
                    assert!(
                        p.line_column().is_some(),
                        "a nesting error without its line: {p:?}"
                    );
                }
            }
            return;
        }
        Err(e) => panic!("policies refused without a policy problem: {e}"),
    };
    assert!(
        !lint_syntax,
        "the loader read text the lint calls a syntax error"
    );
    let Ok(engine) = Engine::new(policies, ENGINE.schema().clone(), ENGINE.register().clone())
    else {
        return;
    };
    for data in ["oppen", "sakerhetsskydd"] {
        for action in [Action::Use, Action::ReportIncident] {
            let query = Query::new(
                UserRef::inline("t", [Role::Employee]),
                "lokal-sprakmodell",
                [data],
            )
            .with_action(action);
            let _ = decide_checked(&engine, &query);
        }
    }
});
