//! Arbitrary bytes → `Query::from_json` → `Engine::decide` on the bundled engine.
//!
//! The bytes are read as UTF-8 *lossily* (invalid sequences become U+FFFD), so that every input
//! reaches the JSON reader, as it would in a service that decodes a request body leniently.
//!
//! Also: `Query::from_json`'s fast path (straight into the type) accepts exactly what the schema
//! path accepts (repeated keys included), and reads it the same.
#![no_main]

use aipolicy::Query;
use aipolicy_fuzz::{check_input_error, check_json_round_trip, decide_checked, ENGINE, MAX_INPUT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let text = String::from_utf8_lossy(data);
    let fast = Query::from_json(&text);
    let checked = Query::from_json_via_schema(&text);
    assert_eq!(
        fast.as_ref().ok(),
        checked.as_ref().ok(),
        "the fast path and the schema path disagree on {text:?}"
    );
    match fast {
        Ok(query) => {
            let decision = decide_checked(&ENGINE, &query);
            check_json_round_trip(&ENGINE, &query, &decision, true);
        }
        Err(e) => check_input_error(&e),
    }
});
