//! The `aipolicy` binary as a user runs it: from a directory outside the project (the
//! embedded default must work anywhere), with exit codes 0 allow, 1 deny, 2 input error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn project(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A fresh, empty working directory for one test.
fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aipolicy-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn aipolicy(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aipolicy"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn public_chatbot_with_internal_information_is_denied_by_u3_from_any_directory() {
    let dir = workdir("u3");
    let query =
        r#"{"user":{"id":"t","roles":["employee"]},"ai":"some-public-chatbot","data":"intern"}"#;
    let output = aipolicy(&dir, &["check", "--query", query, "--format", "json"], "");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(decision["decision"], "deny");
    let paragraphs: Vec<&str> = decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["paragraph"].as_str().unwrap())
        .collect();
    assert!(paragraphs.contains(&"U3"), "{decision}");
    assert_eq!(decision["errors"], Value::Array(vec![]));

    let query = query.replace("intern", "oppen");
    let output = aipolicy(&dir, &["check", "--query", &query, "--format", "json"], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(decision["decision"], "allow");
    assert!(
        decision["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["paragraph"] == "U1"),
        "{decision}"
    );
}

#[test]
fn text_output_is_for_a_person() {
    let dir = workdir("text");
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "intern",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.starts_with("NEKAT (deny)\nSkäl:\n"), "{text}");
    assert!(text.contains("U3  Publik AI får bara användas för information som är klassad som öppen.  [u3-public-ai-open-only]"), "{text}");

    let output = aipolicy(
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
    );
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.starts_with("ALLOWED (allow)\nDuties:\n  U1  You are responsible"),
        "{text}"
    );
}

#[test]
fn flags_for_actions_and_context() {
    let dir = workdir("flags");
    let base = [
        "check",
        "--user",
        "bertil",
        "--ai",
        "lokal-sprakmodell",
        "--data",
        "socialtjanstarende",
        "--action",
        "decide",
    ];
    let denied = aipolicy(&dir, &base, "");
    assert_eq!(denied.status.code(), Some(1));
    assert!(stdout(&denied).contains("s6-human-review-of-decisions"));
    let mut args = base.to_vec();
    args.extend(["--context", "humanReview=true"]);
    assert_eq!(aipolicy(&dir, &args, "").status.code(), Some(0));
    let mut args = base.to_vec();
    args.extend(["--context", "humanReview=maybe"]);
    let bad = aipolicy(&dir, &args, "");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("context.humanReview"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn input_errors_exit_2_and_name_the_field() {
    let dir = workdir("input");
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "hemligt",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
    assert!(
        stderr(&output).contains("data[0]: unknown data class `hemligt`"),
        "{}",
        stderr(&output)
    );

    // With --format json the error is also a (non-allow) decision on stdout, for scripts.
    let output = aipolicy(
        &dir,
        &[
            "check",
            "--query",
            r#"{"user":"anna","ai":"x","data":"oppen","action":"delete"}"#,
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(decision["decision"], "deny");
    assert!(
        decision["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("action:"),
        "{decision}"
    );

    for bad in [
        "{",
        "[]",
        r#"{"user":"anna"}"#,
        r#"{"user":"anna","ai":"x","data":[]}"#,
    ] {
        let output = aipolicy(&dir, &["check", "--query", bad], "");
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", stderr(&output));
    }
    let output = aipolicy(
        &dir,
        &["check", "--query", "-"],
        r#"{"user":"anna","ai":"copilot-chat","data":"intern"}"#,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_bad_register_exits_2_with_its_path() {
    let dir = workdir("register");
    std::fs::write(dir.join("bad.yaml"), "dataClasses:\n  - {id: oppen, name: Öppen, level: 9, personalData: none, secrecy: false}\naiSystems: []\n").unwrap();
    let output = aipolicy(
        &dir,
        &[
            "check",
            "--register",
            "bad.yaml",
            "--user",
            "t",
            "--role",
            "employee",
            "--ai",
            "x",
            "--data",
            "oppen",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("dataClasses[0].level"),
        "{}",
        stderr(&output)
    );
    let output = aipolicy(&dir, &["batch", "--register", "missing.yaml"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing.yaml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn batch_keeps_order_and_goes_on_past_a_bad_line() {
    let dir = workdir("batch");
    let input = [
        r#"{"user":"anna","ai":"copilot-chat","data":"intern"}"#,
        r#"{"user":"anna","ai":"chatgpt","data":"intern"}"#,
        "not json",
        "",
        r#"{"user":"anna","ai":"copilot-chat","data":"nope"}"#,
        r#"{"user":"gunilla","ai":"anything","action":"reportIncident"}"#,
    ]
    .join("\n");
    let output = aipolicy(&dir, &["batch", "--lang", "en"], &input);
    assert_eq!(
        output.status.code(),
        Some(2),
        "input errors are reported in the exit code"
    );
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let verdicts: Vec<&str> = lines
        .iter()
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    // One output line per input line, the blank one included (an input error).
    assert_eq!(verdicts, ["allow", "deny", "deny", "deny", "deny", "allow"]);
    assert!(
        lines[2]["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("line 3: invalid JSON"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3]["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("line 4: blank line"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4]["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("line 5: data[0]"),
        "{}",
        lines[4]
    );
    assert_eq!(lines[4]["reasons"][0]["policy"], "aipolicy-invalid-query");
    assert!(stderr(&output).contains("3 of 6"), "{}", stderr(&output));
}

#[test]
fn batch_decides_for_another_municipalitys_register() {
    let dir = workdir("other");
    let register = project("tests/fixtures/exempelby-register.yaml");
    let input = [
        r#"{"user":"emp","ai":"full","data":"halsa"}"#,
        r#"{"user":"con","ai":"employees-only","data":"intern"}"#,
        r#"{"user":"emp","ai":"public-claims-everything","data":"intern"}"#,
        r#"{"user":"emp","ai":"full","data":"hemlig"}"#,
    ]
    .join("\n");
    let output = aipolicy(
        &dir,
        &["batch", "--register", register.to_str().unwrap()],
        &input,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, String)> = lines
        .iter()
        .map(|d| {
            (
                d["decision"].as_str().unwrap().to_string(),
                d["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["policy"].as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(","),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("allow".to_string(), String::new()),
            ("deny".to_string(), "s3-user-in-user-groups".to_string()),
            ("deny".to_string(), "u3-public-ai-open-only".to_string()),
            (
                "deny".to_string(),
                "s3-data-level-within-approval,s3-no-security-protected-data".to_string()
            ),
        ]
    );
}

#[test]
fn scenario_tests_pass_fail_and_error_with_the_right_exit_codes() {
    let dir = workdir("scenarios");
    let suite = project("tests/scenarios");
    let output = aipolicy(
        &dir,
        &["test", suite.to_str().unwrap(), "--require-full-coverage"],
        "",
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output)
            .lines()
            .any(|l| l.ends_with(" passed, 0 failed")),
        "{}",
        stdout(&output)
    );

    std::fs::write(dir.join("wrong.yaml"), "cases:\n  - name: Public AI with internal information\n    query: {user: anna, ai: chatgpt, data: intern}\n    expect: {decision: allow}\n").unwrap();
    let output = aipolicy(&dir, &["test", "wrong.yaml"], "");
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("FAIL  wrong.yaml:2  Public AI with internal information"),
        "{text}"
    );
    assert!(
        text.contains("expected: allow")
            && text.contains("actual:   deny")
            && text.contains("u3-public-ai-open-only"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "0 passed, 1 failed"), "{text}");

    let output = aipolicy(&dir, &["test", "wrong.yaml", "--format", "junit"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains(r#"<testsuites name="aipolicy" tests="1" failures="1">"#),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("<failure message=\"expected allow, got deny\">"),
        "{}",
        stdout(&output)
    );

    std::fs::write(
        dir.join("broken.yaml"),
        "cases:\n  - name: x\n    query: {user: anna\n",
    )
    .unwrap();
    let output = aipolicy(&dir, &["test", "broken.yaml"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("broken.yaml"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(":4:") || stderr(&output).contains("line 4"),
        "{}",
        stderr(&output)
    );

    std::fs::write(
        dir.join("shape.yaml"),
        "cases:\n  - name: x\n    query: {}\n    expect: maybe\n",
    )
    .unwrap();
    let output = aipolicy(&dir, &["test", "shape.yaml"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cases[0].expect"),
        "{}",
        stderr(&output)
    );

    let output = aipolicy(&dir, &["test"], "");
    assert_eq!(output.status.code(), Some(2), "no tests/scenarios here");
}

#[test]
fn help_teaches() {
    let dir = workdir("help");
    let output = aipolicy(&dir, &["check", "--help"], "");
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for needle in [
        "--user",
        "--data",
        "--context",
        "--query",
        "Examples:",
        "offerToResidents",
    ] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
}
