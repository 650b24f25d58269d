//! The properties every fuzz target checks, shared so that each target states them once.
//!
//! A fuzz target panics (and libFuzzer saves the input) when one of these fails:
//! - a decision with non-empty `errors` is a deny (fail closed);
//! - a deny has at least one reason and no obligations; an allow has no reasons and no errors;
//! - the language of the explanations never changes the verdict, the policies named or whether
//!   the query is an input error;
//! - a decision survives a JSON round trip unchanged (the pinned Decision JSON);
//! - an input error names at least one problem, and `batch`'s rendering of it is a deny.

use std::sync::LazyLock;

use aipolicy::{Decision, Engine, InputError, Language, Query, Verdict};

/// The bundled Askersund engine, loaded once per fuzzing process.
pub static ENGINE: LazyLock<Engine> =
    LazyLock::new(|| Engine::bundled().expect("the bundled engine loads"));

/// The cap on bytes a target reads (libFuzzer's `-max_len` keeps inputs far below it anyway).
pub const MAX_INPUT: usize = 64 * 1024;

/// Checks the invariants of one decision.
pub fn check_decision(d: &Decision) {
    if !d.errors.is_empty() {
        assert_eq!(
            d.decision,
            Verdict::Deny,
            "a decision with errors must be a deny: {d:?}"
        );
    }
    match d.decision {
        Verdict::Allow => {
            assert!(d.reasons.is_empty(), "an allow with reasons: {d:?}");
            assert!(d.errors.is_empty(), "an allow with errors: {d:?}");
        }
        Verdict::Deny => {
            assert!(!d.reasons.is_empty(), "a deny without a reason: {d:?}");
            assert!(d.obligations.is_empty(), "a deny with obligations: {d:?}");
        }
    }
    let json = serde_json::to_string(d).expect("a decision serializes");
    let back: Decision = serde_json::from_str(&json).expect("the decision JSON reads back");
    assert_eq!(&back, d, "the decision JSON does not round-trip");
}

/// Checks an input error and what `batch` writes for it.
pub fn check_input_error(e: &InputError) {
    assert!(!e.problems.is_empty(), "an input error without a problem");
    let rendered = Decision::input_error(
        e.problems.iter().map(ToString::to_string).collect(),
        Language::En,
    );
    assert_eq!(rendered.decision, Verdict::Deny);
    check_decision(&rendered);
}

/// Decides `query` in both languages, checks every invariant, and returns the Swedish result.
pub fn decide_checked(engine: &Engine, query: &Query) -> Result<Decision, InputError> {
    let sv = engine.decide_in(query, Language::Sv);
    let en = engine.decide_in(query, Language::En);
    match (&sv, &en) {
        (Ok(a), Ok(b)) => {
            check_decision(a);
            check_decision(b);
            assert_eq!(
                a.decision, b.decision,
                "the language changed the verdict for {query:?}"
            );
            assert_eq!(
                a.policies(),
                b.policies(),
                "the language changed the policies"
            );
            assert_eq!(a.errors, b.errors, "the language changed the errors");
        }
        (Err(a), Err(b)) => {
            check_input_error(a);
            assert_eq!(a, b, "the language changed the input error");
        }
        _ => panic!("the language changed whether {query:?} is an input error: {sv:?} / {en:?}"),
    }
    sv
}

/// A query that the JSON reader accepts must decide exactly like the same query built in code:
/// serializes `query`, reads it back with [`Query::from_json`], and compares.
///
/// `must_read` says whether the JSON must be accepted (true for a query that came from JSON).
pub fn check_json_round_trip(
    engine: &Engine,
    query: &Query,
    direct: &Result<Decision, InputError>,
    must_read: bool,
) {
    let json = serde_json::to_string(query).expect("a query serializes");
    match Query::from_json(&json) {
        Ok(back) => {
            assert_eq!(&back, query, "the query JSON does not round-trip: {json}");
            let again = engine.decide(&back);
            match (direct, &again) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "the same query decided twice differently"),
                (Err(_), Err(_)) => {}
                _ => {
                    panic!("the JSON form of {query:?} decides differently: {direct:?} / {again:?}")
                }
            }
        }
        Err(e) => {
            check_input_error(&e);
            assert!(
                !must_read,
                "a query read from JSON does not read back: {json}: {e}"
            );
        }
    }
}
