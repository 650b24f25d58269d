//! Arbitrary bytes → `Query::from_json` → `Engine::decide` on the bundled engine.
//!
//! The bytes are read as UTF-8 *lossily* (invalid sequences become U+FFFD), so that every input
//! reaches the JSON reader, as it would in a service that decodes a request body leniently.
#![no_main]

use aipolicy::Query;
use aipolicy_fuzz::{check_input_error, check_json_round_trip, decide_checked, ENGINE, MAX_INPUT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let text = String::from_utf8_lossy(data);
    match Query::from_json(&text) {
        Ok(query) => {
            let decision = decide_checked(&ENGINE, &query);
            check_json_round_trip(&ENGINE, &query, &decision, true);
        }
        Err(e) => check_input_error(&e),
    }
});
