//! What a person sees: each command's exit code, stdout and stderr, run as a user runs the
//! binary, as reviewed snapshots (`cargo insta review` after a change of wording or decision).
//!
//! Every run is in a fresh folder outside any project, so the embedded Askersund default is
//! in force unless the case writes its own files there. Timings are replaced by `[time]`;
//! in the decision log's and the server's output, what differs on every run (clock times,
//! decision ids, hashes, the policy revision, the port) by a name in brackets.

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
    snapshot_with(name, text, &[]);
}

/// What differs on every run of the decision log and the server.
const RUN_FILTERS: &[(&str, &str)] = &[
    (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[clock]"),
    (
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[decision-id]",
    ),
    (r"\b[0-9a-f]{64}\b", "[hash]"),
    (r"\b[0-9a-f]{16}\b", "[revision]"),
    // A port the system chose; `:0` (none chosen yet) would show as it is.
    (r"127\.0\.0\.1:[1-9][0-9]*", "127.0.0.1:[port]"),
];

fn snapshot_with(name: &str, text: &str, more: &[(&str, &str)]) {
    let mut filters = vec![
        (r"\(\d+ ms\)", "([time])"),
        (r"\(\d+\.\d+ s\)", "([time])"),
        (r" in \d+(\.\d+)? (ms|s)", " in [time]"),
        (r"cvc5 version [0-9.]+", "cvc5 version [version]"),
    ];
    filters.extend_from_slice(more);
    insta::with_settings!({
        snapshot_suffix => name,
        filters => filters,
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

#[test]
fn fmt_check_and_fix() {
    let dir = common::workdir("snap", "fmt");
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(
        dir.join("policies/u3.cedar"),
        "@id(\"u3-public-ai-open-only\")\n@paragraph(\"U3\")\n@sv(\"Publik AI endast med öppen information.\")\n@en(\"Public AI with open information only.\")\nforbid(principal,action,resource) when {resource.hosting==\"public\"&&context.data.level>0};\n",
    )
    .unwrap();
    let mut text = run(&dir, &["fmt", "--check", "policies"], "");
    text.push_str(&run(&dir, &["fmt", "policies"], ""));
    text.push_str(&run(&dir, &["fmt", "--check", "policies"], ""));
    text.push_str("--- policies/u3.cedar\n");
    text.push_str(&std::fs::read_to_string(dir.join("policies/u3.cedar")).unwrap());
    snapshot("fmt", &text);
}

#[test]
fn audit_verify_summary_export_and_a_changed_record() {
    let dir = common::workdir("snap", "audit");
    let queries = [
        r#"{"user":"anna","ai":"copilot-chat","data":"intern","requestId":"1"}"#,
        r#"{"user":"anna","ai":"chatgpt","data":"intern","requestId":"2"}"#,
        r#"{"user":"bertil","ai":"lokal-sprakmodell","data":"intern","requestId":"3"}"#,
    ]
    .join("\n");
    let log = "jsonl:decisions.jsonl";
    let mut text = run(&dir, &["batch", "--log", log], &format!("{queries}\n"));
    text.push_str(&run(&dir, &["audit", "verify", "--log", log], ""));
    text.push_str(&run(&dir, &["audit", "summary", "--log", log], ""));
    text.push_str(&run(
        &dir,
        &["audit", "export", "--log", log, "--format", "csv"],
        "",
    ));
    // Someone turns the deny of record 2 into an allow.
    let path = dir.join("decisions.jsonl");
    let records = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = records.lines().map(String::from).collect();
    let denied = lines
        .iter()
        .position(|line| line.contains(r#""requestId":"2""#))
        .unwrap();
    assert!(
        lines[denied].contains(r#""decision":"deny""#),
        "{}",
        lines[denied]
    );
    lines[denied] = lines[denied].replace(r#""decision":"deny""#, r#""decision":"allow""#);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    text.push_str(&run(&dir, &["audit", "verify", "--log", log], ""));
    snapshot_with("audit", &text, RUN_FILTERS);
}

/// `aipolicy serve` as its operator sees it start and stop (SIGTERM).
#[test]
fn serve_start_and_stop() {
    let dir = common::workdir("snap", "serve");
    let args = ["serve", "--listen", "127.0.0.1:0", "--watch", "0"];
    let mut child = common::aipolicy(args)
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let loaded = line.contains("policy loaded");
        seen.push(line);
        if loaded {
            break;
        }
    }
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().unwrap();
    let text = format!(
        "$ aipolicy {}   (then SIGTERM)\nexit: {}\n--- stderr\n{}\n",
        args.join(" "),
        status.code().map_or("signal".into(), |c| c.to_string()),
        seen.join("\n")
    );
    snapshot_with("serve", &text, RUN_FILTERS);
}
