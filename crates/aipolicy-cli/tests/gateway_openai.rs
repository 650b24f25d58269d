//! `aipolicy gateway` as a process, called by the official `openai` Python client: the pytest
//! suite of `crates/aipolicy-gateway/tests/openai/` run with this build's binary. `.ci/run`
//! installs its pinned requirements into `crates/aipolicy-gateway/tests/openai/.venv`; without
//! that virtual environment this test fails, never skips, and says how to make it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::process::Command;

#[test]
fn the_openai_python_client_against_the_gateway() {
    let suite = aipolicy_test_support::repo("crates/aipolicy-gateway/tests/openai");
    let python = suite.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run .ci/run, or `python3 -m venv {venv} && {venv}/bin/pip install -r {requirements}`",
        python.display(),
        venv = suite.join(".venv").display(),
        requirements = suite.join("requirements.txt").display(),
    );
    let output = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(&suite)
        .env("AIPOLICY_BIN", env!("CARGO_BIN_EXE_aipolicy"))
        .current_dir(&suite)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the openai client's tests failed:\n{said}"
    );
    assert!(said.contains(" passed"), "{said}");
}
