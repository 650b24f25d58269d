//! Arbitrary bytes → `ScenarioFile::parse` → every case run with `scenario::run_case` against
//! the bundled engine. A `register:` the file names is not loaded (it would be a path on disk).
#![no_main]

use std::path::Path;

use aipolicy::scenario::{self, Actual, Outcome, ScenarioFile};
use aipolicy::Language;
use aipolicy_fuzz::{check_decision, ENGINE, MAX_INPUT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = ScenarioFile::parse(text, Path::new("tests/scenarios/fuzz.yaml")) else {
        return;
    };
    for case in file.cases.iter().take(64) {
        for language in Language::ALL {
            let result = scenario::run_case(&ENGINE, case, "fuzz.yaml", language);
            assert_eq!(result.passed(), result.failures.is_empty());
            match &result.actual {
                Actual::Decision(d) => {
                    check_decision(d);
                    if case.expect.decision == Outcome::Error {
                        assert!(!result.passed(), "a decision passed as an expected error");
                    }
                }
                Actual::InputError(errors) => {
                    assert!(!errors.is_empty(), "an input error without a message");
                    assert_eq!(
                        result.passed(),
                        case.expect.decision == Outcome::Error,
                        "an input error passed as allow/deny, or failed as an expected error"
                    );
                }
            }
        }
    }
});
