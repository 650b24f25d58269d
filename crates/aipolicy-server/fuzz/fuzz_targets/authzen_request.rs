//! The AuthZEN request reader: any bytes, read as an Access Evaluation, an Access Evaluations
//! and a Resource Search request, then mapped onto aipolicy's query and decided.
//!
//! Properties:
//! - nothing panics, whatever the bytes;
//! - an error names a field of the request (or the whole body), on one line;
//! - each item of an evaluations request is an evaluation or its own error, and no more items
//!   than the limit are read;
//! - a request that maps to a query is decided; an input error is never an allow, and a decision
//!   with errors is a deny.
#![no_main]

use std::sync::LazyLock;

use aipolicy::{Engine, Language, Verdict};
use aipolicy_server::authzen::{self, Evaluations};
use libfuzzer_sys::fuzz_target;

static ENGINE: LazyLock<Option<Engine>> = LazyLock::new(|| Engine::bundled().ok());

fn check(evaluation: &authzen::Evaluation) {
    let Some(engine) = ENGINE.as_ref() else { return };
    if let Ok((query, _notes)) = evaluation.to_query(None, Some("fuzz"), aipolicy::Language::Sv) {
        if let Ok(decision) = engine.decide_in(&query, Language::En) {
            assert!(decision.errors.is_empty() || decision.decision == Verdict::Deny);
            assert!(decision.decision == Verdict::Allow || !decision.reasons.is_empty());
        }
    }
}

fn one_line(error: &authzen::RequestError) {
    assert!(!error.to_string().is_empty());
}

fuzz_target!(|data: &[u8]| {
    match authzen::parse_evaluation(data) {
        Ok(evaluation) => check(&evaluation),
        Err(e) => one_line(&e),
    }
    match authzen::parse_evaluations(data, 8) {
        Ok(Evaluations::Single(evaluation)) => check(&evaluation),
        Ok(Evaluations::Many { items, .. }) => {
            assert!(!items.is_empty() && items.len() <= 8);
            for item in &items {
                match item {
                    Ok(evaluation) => check(evaluation),
                    Err(e) => one_line(e),
                }
            }
        }
        Err(e) => one_line(&e),
    }
    if let Ok(search) = authzen::parse_resource_search(data) {
        assert!(search.evaluation.resource.id.is_none());
        check(&search.evaluation);
    }
});
