//! What a person sees: each command's exit code, stdout and stderr, run as a user runs the
//! binary, as reviewed snapshots (`cargo insta review` after a change of wording or decision).
//!
//! Every run is in a fresh folder outside any project, so the embedded Askersund default is
//! in force unless the case writes its own files there. Timings are replaced by `[time]`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::path::Path;

/// Runs `aipolicy args…` in `dir` with `stdin`; the exit code, stdout and stderr as one text.
fn run(dir: &Path, args: &[&str], stdin: &str) -> String {
    let output = common::output(
        common::aipolicy(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100"),
        stdin,
    );
    format!(
        "$ aipolicy {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        output
            .status
            .code()
            .map_or("signal".into(), |c| c.to_string()),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    )
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_suffix => name,
        filters => vec![
            (r"\(\d+ ms\)", "([time])"),
            (r"\(\d+\.\d+ s\)", "([time])"),
            (r" in \d+(\.\d+)? (ms|s)", " in [time]"),
            (r"cvc5 version [0-9.]+", "cvc5 version [version]"),
        ],
    }, {
        insta::assert_snapshot!("cli", text);
    });
}

#[test]
fn check() {
    let dir = common::workdir("snap", "check");
    let mut text = run(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "intern",
        ],
        "",
    );
    text.push_str(&run(
        &dir,
        &[
            "check",
            "--user",
            "t",
            "--role",
            "employee",
            "--ai",
            "copilot-chat",
            "--data",
            "intern",
            "--lang",
            "en",
        ],
        "",
    ));
    text.push_str(&run(
        &dir,
        &["check", "--query", r#"{"user":{"id":"gunilla","roles":["employee"]},"ai":"lokal-sprakmodell","data":"socialtjanstarende","requestId":"r-1"}"#, "--format", "json"],
        "",
    ));
    text.push_str(&run(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "copilot", "--data", "oppen", "--lang", "en",
        ],
        "",
    ));
    text.push_str(&run(
        &dir,
        &[
            "check",
            "--user",
            "anan",
            "--ai",
            "copilot-chat",
            "--data",
            "hemligt",
        ],
        "",
    ));
    snapshot("check", &text);
}

#[test]
fn batch() {
    let dir = common::workdir("snap", "batch");
    let input = [
        r#"{"user":"anna","ai":"copilot-chat","data":"intern","requestId":"1"}"#,
        r#"{"user":"anna","ai":"copilot-chat","data":"intern","requestId":"2"}"#,
        "",
        r#"{"user":"anna","ai":"chatgpt","data":["intern","hemligt"],"requestId":"4"}"#,
    ]
    .join("\n");
    snapshot(
        "batch",
        &run(&dir, &["batch", "--lang", "en"], &format!("{input}\n")),
    );
}

#[test]
fn test_failure_text_and_junit() {
    let dir = common::workdir("snap", "test");
    std::fs::write(
        dir.join("wrong.yaml"),
        "cases:\n  - name: Public AI with internal information\n    query: {user: anna, ai: chatgpt, data: intern}\n    expect: allow\n  - name: Copilot Chat with internal information\n    query: {user: anna, ai: copilot-chat, data: intern}\n    expect: {decision: allow, paragraphs: [U1]}\n",
    )
    .unwrap();
    let mut text = run(&dir, &["test", "wrong.yaml"], "");
    text.push_str(&run(&dir, &["test", "wrong.yaml", "--format", "junit"], ""));
    snapshot("test", &text);
}

#[test]
fn validate_with_a_slip() {
    let dir = common::workdir("snap", "validate");
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    for entry in std::fs::read_dir(common::repo("policies")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "cedar") {
            let mut text = std::fs::read_to_string(&path).unwrap();
            if path.ends_with("u3-publik-ai.cedar") {
                text = text.replace("@paragraph(\"U3\")", "@paragraph(\"U9\")");
            }
            std::fs::write(dir.join("policies").join(path.file_name().unwrap()), text).unwrap();
        }
    }
    snapshot("validate", &run(&dir, &["validate"], ""));
}

#[test]
fn matrix_md_csv_html() {
    let dir = common::workdir("snap", "matrix");
    let mut text = run(&dir, &["matrix"], "");
    text.push_str(&run(&dir, &["matrix", "--format", "csv"], ""));
    text.push_str(&run(&dir, &["matrix", "--format", "html"], ""));
    snapshot("matrix", &text);
}

#[test]
fn trace_and_schema() {
    let dir = common::workdir("snap", "trace");
    let mut text = run(
        &dir,
        &[
            "trace",
            "--scenarios",
            common::repo("tests/scenarios/u3-publik-ai.yaml")
                .to_str()
                .unwrap(),
        ],
        "",
    );
    // The scenario path is the repository's; show it as a person in the repository would.
    text = text.replace(common::repo("").to_str().unwrap(), "");
    text.push_str(&run(&dir, &["schema", "query"], ""));
    snapshot("trace-schema", &text);
}

#[test]
fn verify_report() {
    let dir = common::workdir("snap", "verify");
    snapshot("verify", &run(&dir, &["verify", "--lang", "en"], ""));
}
