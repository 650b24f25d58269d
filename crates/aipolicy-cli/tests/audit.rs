//! The decision log end to end, through the `aipolicy` binary: `check`, `batch` and `serve`
//! (over real HTTP) with `--log`, then `aipolicy audit`: the counts equal what was sent, an
//! edited, deleted or inserted row is named, a server killed with SIGKILL under load leaves
//! a log that verifies and holds every decision it answered (`--log-sync`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::text;

fn aipolicy(args: &[&str], stdin: &str) -> Output {
    common::output(&mut common::aipolicy(args), stdin)
}

fn summary(log: &str) -> serde_json::Value {
    let out = aipolicy(&["audit", "summary", "--log", log, "--format", "json"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn verify(log: &str) -> (i32, String) {
    let out = aipolicy(&["audit", "verify", "--log", log], "");
    (
        out.status.code().unwrap(),
        text(&out.stdout) + &text(&out.stderr),
    )
}

/// Queries of a known mix: `n` lines, a third of them denied under U3.
fn queries(n: usize) -> String {
    (0..n)
        .map(|i| {
            if i % 3 == 0 {
                format!(r#"{{"user":"anna","ai":"chatgpt","data":"intern","requestId":"q{i}"}}"#)
            } else {
                format!(
                    r#"{{"user":"anna","ai":"copilot-chat","data":"intern","requestId":"q{i}"}}"#
                )
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn check_and_batch_log_to_sqlite_and_the_summary_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = format!("sqlite:{}", dir.path().join("audit.db").display());
    let out = aipolicy(
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "intern", "--log", &log, "-q",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let out = aipolicy(&["batch", "--log", &log, "-q"], &queries(300));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = summary(&log);
    assert_eq!(s["total"], 301);
    assert_eq!(s["deny"], 101);
    assert_eq!(s["allow"], 200);
    assert_eq!(s["byAiSystem"]["chatgpt"], 101);
    assert_eq!(s["byAiSystem"]["copilot-chat"], 200);
    assert_eq!(s["byParagraph"]["U3"], 101);
    assert_eq!(s["byAction"]["use"], 301);
    assert_eq!(s["byUnit"]["Kommunstyrelseförvaltningen"], 301);
    let (code, said) = verify(&log);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("whole: 301 record(s)"), "{said}");
    // The record holds ids, never the information or the messages.
    let export = aipolicy(&["audit", "export", "--log", &log, "--format", "jsonl"], "");
    let first: serde_json::Value =
        serde_json::from_str(text(&export.stdout).lines().next().unwrap()).unwrap();
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "action",
            "ai",
            "caller",
            "context",
            "data",
            "decision",
            "decisionId",
            "hash",
            "obligations",
            "policyRevision",
            "prevHash",
            "reasons",
            "requestId",
            "roles",
            "time",
            "unit",
            "user"
        ]
    );
    assert_eq!(first["caller"], "aipolicy check");
    assert_eq!(first["reasons"][0].as_object().unwrap().len(), 2);
}

fn sqlite(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn an_edited_a_deleted_and_an_inserted_row_are_each_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let log = format!("sqlite:{}", path.display());
    let out = aipolicy(&["batch", "--log", &log, "-q"], &queries(20));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(verify(&log).0, 0);
    let id_of = |seq: i64| -> String {
        sqlite(&path)
            .query_row(
                "SELECT decision_id FROM decisions WHERE seq = ?1",
                [seq],
                |r| r.get(0),
            )
            .unwrap()
    };
    let fresh = |name: &str| {
        let target = dir.path().join(name);
        std::fs::copy(&path, &target).unwrap();
        target
    };

    // Edited: a deny turned into an allow. The batch decides on both cores, so which record
    // is a deny is read from the log, not assumed from the input's order.
    let deny_seq: i64 = sqlite(&path)
        .query_row(
            "SELECT seq FROM decisions WHERE decision = 'deny' ORDER BY seq LIMIT 1 OFFSET 2",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let edited = fresh("edited.db");
    let changed = sqlite(&edited)
        .execute(
            "UPDATE decisions SET decision = 'allow', reasons = '[]' WHERE seq = ?1",
            [deny_seq],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let (code, said) = verify(&format!("sqlite:{}", edited.display()));
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains(&format!("record {deny_seq}")) && said.contains(&id_of(deny_seq)),
        "{said}"
    );
    assert!(said.contains("changed after it was written"), "{said}");

    // Deleted: the record after the hole is named.
    let deleted = fresh("deleted.db");
    sqlite(&deleted)
        .execute("DELETE FROM decisions WHERE seq = 12", [])
        .unwrap();
    let (code, said) = verify(&format!("sqlite:{}", deleted.display()));
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains(&id_of(13)) && said.contains("deleted"),
        "{said}"
    );

    // Inserted: a copy of a record, put in at the end.
    let inserted = fresh("inserted.db");
    sqlite(&inserted)
        .execute(
            r#"INSERT INTO decisions (decision_id, time, policy_revision, request_id, caller, "user", roles, unit, ai, action, data, context, decision, reasons, obligations, hash, prev_hash)
               SELECT decision_id, time, policy_revision, request_id, caller, "user", roles, unit, ai, action, data, context, decision, reasons, obligations, hash, prev_hash FROM decisions WHERE seq = 3"#,
            [],
        )
        .unwrap();
    let (code, said) = verify(&format!("sqlite:{}", inserted.display()));
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("record 21") && said.contains(&id_of(3)),
        "{said}"
    );

    // A log that is not there is an input error, not an empty log.
    let (code, said) = verify(&format!("sqlite:{}", dir.path().join("none.db").display()));
    assert_eq!(code, 2, "{said}");
}

#[test]
fn the_summary_counts_input_errors_apart_from_denies_and_by_rule_and_caller() {
    let dir = tempfile::tempdir().unwrap();
    let log = format!("sqlite:{}", dir.path().join("audit.db").display());
    // 30 queries (10 denied under U3), 2 that cannot be decided (no data class, an unknown
    // one) and 2 lines that are no query at all, which name no user or AI system to log.
    let input = queries(30)
        + "{\"user\":\"anna\",\"ai\":\"chatgpt\"}\n"
        + "{\"user\":\"anna\",\"ai\":\"chatgpt\",\"data\":\"nope\"}\n"
        + "not json\n"
        + "{\"ai\":\"chatgpt\",\"data\":\"intern\"}\n";
    let out = aipolicy(&["batch", "--log", &log, "-q"], &input);
    assert!(out.status.code().is_some(), "{}", text(&out.stderr));
    let s = summary(&log);
    assert_eq!(s["total"], 32, "{s}");
    assert_eq!(s["allow"], 20, "{s}");
    assert_eq!(s["deny"], 10, "the policy's denies only: {s}");
    assert_eq!(s["inputErrors"], 2, "{s}");
    // No paragraph is charged with a query that could not be read.
    assert_eq!(s["byParagraph"]["U3"], 10, "{s}");
    assert!(s["byParagraph"].get("U2").is_none(), "{s}");
    assert_eq!(s["byRule"]["u3-public-ai-open-only"], 10, "{s}");
    let callers: u64 = s["byCaller"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(callers, 32, "{s}");
    let out = aipolicy(&["audit", "summary", "--log", &log], "");
    let said = text(&out.stdout);
    assert!(said.contains("nekade 10, felaktiga frågor 2"), "{said}");
    assert!(said.contains("nekanden per regel:"), "{said}");
    let out = aipolicy(&["audit", "summary", "--log", &log, "--lang", "en"], "");
    let said = text(&out.stdout);
    assert!(said.contains("deny 10, input errors 2"), "{said}");
    assert!(said.contains("denies by rule:"), "{said}");
}

#[test]
fn jsonl_logs_pseudonymize_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = format!("jsonl:{}", path.display());
    let key = dir.path().join("key");
    std::fs::write(&key, "0123456789abcdef0123456789abcdef\n").unwrap();
    let key_arg = format!("@{}", key.display());
    let out = aipolicy(
        &["batch", "--log", &log, "--log-pseudonymize", &key_arg, "-q"],
        &queries(30),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let logged = std::fs::read_to_string(&path).unwrap();
    assert_eq!(logged.lines().count(), 30);
    assert!(!logged.contains("\"anna\""), "the user id was logged");
    let users: std::collections::BTreeSet<String> = logged
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["user"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(users.len(), 1, "one user, one pseudonym: {users:?}");
    assert!(users.iter().all(|u| u.starts_with("p-")));
    // With the key, the data-protection officer finds a person's pseudonym (GDPR art. 15).
    let out = aipolicy(&["audit", "pseudonym", "anna", "--key", &key_arg], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        users.iter().next().map(String::as_str),
        Some(text(&out.stdout).trim())
    );
    let out = aipolicy(&["audit", "pseudonym", "bertil", "--key", &key_arg], "");
    assert!(
        !users.contains(text(&out.stdout).trim()),
        "another person, another pseudonym"
    );
    let out = aipolicy(
        &["audit", "pseudonym", "anna", "--key", "@/no/such/key"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("/no/such/key"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(summary(&log)["deny"], 10);
    assert_eq!(verify(&log).0, 0);

    let report = dir.path().join("report.html");
    let out = aipolicy(
        &[
            "audit",
            "report",
            "--log",
            &log,
            "-o",
            &report.display().to_string(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(page.contains("<svg"), "no chart");
    assert!(
        page.contains("Kedjan är hel"),
        "the chain's check is missing"
    );
    assert!(page.contains("chatgpt"));
    assert!(
        !page.contains("<script") && !page.contains(" src="),
        "the page loads nothing"
    );

    // An edited line is named.
    std::fs::write(&path, logged.replacen("\"deny\"", "\"allow\"", 1)).unwrap();
    let (code, said) = verify(&log);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("record 1 "), "{said}");

    let out = aipolicy(&["batch", "--log", &log, "--log-pseudonymize", "short"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("at least 16"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn csv_export_has_the_records_names_and_is_formula_safe() {
    let dir = tempfile::tempdir().unwrap();
    let log = format!("sqlite:{}", dir.path().join("audit.db").display());
    let out = aipolicy(
        &["batch", "--log", &log, "-q"],
        "{\"user\":\"anna\",\"ai\":\"=cmd\",\"data\":\"oppen\"}\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = aipolicy(&["audit", "export", "--log", &log, "--format", "csv"], "");
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("decisionId,time,policyRevision,requestId,caller,user,roles,unit,ai,action"));
    assert!(lines.next().unwrap().contains(",'=cmd,"), "{csv}");
    // A full disk is exit 3, said as such, not a broken log (exit 2).
    let out = common::aipolicy(["audit", "export", "--log", &log, "--format", "csv"])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cannot write the output"),
        "{}",
        text(&out.stderr)
    );
}

/// `aipolicy serve` with `args` on an ephemeral port; its address once the policy is loaded.
fn serve(args: &[&str]) -> (Child, String) {
    let (child, addr, _log) = common::spawn_serve(args, Duration::from_secs(30));
    (child, addr)
}

/// One request on a connection of its own: the status and the body.
fn post(addr: &str, path: &str, token: Option<&str>, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let kind = if path == "/v1/batch" {
        "application/x-ndjson"
    } else {
        "application/json"
    };
    write!(stream, "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.get(9..12)?.parse().ok()?;
    Some((status, answer.split("\r\n\r\n").nth(1)?.to_string()))
}

fn stop(child: &mut Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_served_log_holds_every_decision_with_its_caller_after_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let log = format!("sqlite:{}", path.display());
    // One caller, `intranet`, whose secret is `s3cret`.
    let tokens = dir.path().join("tokens");
    std::fs::write(
        &tokens,
        "intranet 1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0\n",
    )
    .unwrap();
    let (mut child, addr) = serve(&["--log", &log, "--token-file", &tokens.display().to_string()]);
    let lines = queries(120);
    for line in lines.lines() {
        let (status, body) = post(&addr, "/v1/decide", Some("s3cret"), line).unwrap();
        assert_eq!(status, 200, "{body}");
    }
    // AuthZEN asks are logged too, and a batch of 30 lines.
    let evaluation = r#"{"subject":{"type":"user","id":"anna"},"resource":{"type":"ai_system","id":"chatgpt"},"action":{"name":"use"},"context":{"data":["intern"]}}"#;
    assert_eq!(
        post(&addr, "/access/v1/evaluation", Some("s3cret"), evaluation)
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        post(&addr, "/v1/batch", Some("s3cret"), &queries(30))
            .unwrap()
            .0,
        200
    );
    let metrics = common::http_get(&addr, "/metrics");
    assert!(
        metrics.contains("aipolicy_decision_log_queue_depth "),
        "{metrics}"
    );
    assert!(
        metrics.contains("aipolicy_decision_log_dropped_total 0"),
        "{metrics}"
    );
    // No endpoint reads the log.
    assert!(common::http_get(&addr, "/v1/log").starts_with("HTTP/1.1 404"));
    stop(&mut child, "TERM");
    let s = summary(&log);
    assert_eq!(s["total"], 151, "{s}");
    assert_eq!(s["deny"], 51, "{s}");
    assert_eq!(verify(&log).0, 0);
    let caller: String = sqlite(&path)
        .query_row("SELECT DISTINCT caller FROM decisions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(caller, "intranet");
}

#[test]
fn a_server_killed_under_load_with_log_sync_loses_no_answered_decision() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let log = format!("sqlite:{}", path.display());
    let (mut child, addr) = serve(&["--log", &log, "--log-sync"]);
    let answered: Arc<Mutex<Vec<String>>> = Arc::default();
    let running = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (addr, answered, running) = (addr.clone(), Arc::clone(&answered), Arc::clone(&running));
            std::thread::spawn(move || {
                let mut i = 0;
                while running.load(Ordering::Relaxed) {
                    i += 1;
                    let body = format!(r#"{{"user":"anna","ai":"copilot-chat","data":"intern","requestId":"c{c}-{i}"}}"#);
                    // After the kill, requests fail: only answers count.
                    let Some((200, body)) = post(&addr, "/v1/decide", None, &body) else {
                        continue;
                    };
                    let decision: serde_json::Value = serde_json::from_str(&body).unwrap();
                    answered.lock().unwrap().push(decision["decisionId"].as_str().unwrap().to_string());
                }
            })
        })
        .collect();
    let started = Instant::now();
    while answered.lock().unwrap().len() < 300 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop(&mut child, "KILL");
    running.store(false, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= 300, "only {} answers", answered.len());

    // The log opens again (a restarted server writes on), and verifies.
    let (mut again, addr) = serve(&["--log", &log, "--log-sync"]);
    let after = r#"{"user":"anna","ai":"chatgpt","data":"intern"}"#;
    assert_eq!(post(&addr, "/v1/decide", None, after).unwrap().0, 200);
    stop(&mut again, "TERM");
    let (code, said) = verify(&log);
    assert_eq!(code, 0, "{said}");
    let logged: std::collections::HashSet<String> = {
        let connection = sqlite(&path);
        let mut statement = connection
            .prepare("SELECT decision_id FROM decisions")
            .unwrap();
        statement
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let missing: Vec<&String> = answered.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} answered decision(s) not in the log, e.g. {:?}",
        missing.len(),
        missing.first()
    );
}

#[test]
fn two_servers_log_to_one_postgres_log_that_counts_and_verifies() {
    let schema = aipolicy_test_support::postgres_schema("aipolicy_cli_served");
    let url = schema.url.clone();
    let (mut first, first_addr) = serve(&["--log", &url]);
    let (mut second, second_addr) = serve(&["--log", &url, "--log-sync"]);
    for (i, line) in queries(90).lines().enumerate() {
        let addr = if i % 2 == 0 {
            &first_addr
        } else {
            &second_addr
        };
        assert_eq!(post(addr, "/v1/decide", None, line).unwrap().0, 200);
    }
    let out = aipolicy(&["batch", "--log", &url, "-q"], &queries(30));
    assert!(out.status.success(), "{}", text(&out.stderr));
    stop(&mut first, "TERM");
    stop(&mut second, "TERM");
    let s = summary(&url);
    assert_eq!(
        (s["total"].as_u64(), s["deny"].as_u64()),
        (Some(120), Some(40)),
        "{s}"
    );
    assert_eq!(s["byParagraph"]["U3"], 40);
    let (code, said) = verify(&url);
    assert_eq!(code, 0, "{said}");

    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .execute("UPDATE decisions SET decision = 'allow', reasons = '[]' WHERE seq = 31 AND decision = 'deny'", &[])
        .unwrap();
    client
        .execute(
            "UPDATE decisions SET \"user\" = 'bertil' WHERE seq = 31",
            &[],
        )
        .unwrap();
    let (code, said) = verify(&url);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("record 31 "), "{said}");
}

/// The report in a real browser (headless Chromium): the page renders, and the chart's lines
/// are drawn.
#[test]
fn the_report_renders_in_a_browser_with_its_chart() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| {
            panic!("no Chromium: the report is tested in a real browser; install Debian's chromium (.ci/run does)")
        });
    let dir = tempfile::tempdir().unwrap();
    let log = format!("sqlite:{}", dir.path().join("audit.db").display());
    let out = aipolicy(&["batch", "--log", &log, "-q"], &queries(60));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = dir.path().join("report.html");
    let out = aipolicy(
        &[
            "audit",
            "report",
            "--log",
            &log,
            "-o",
            &report.display().to_string(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shot = dir.path().join("report.png");
    let status = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1100,1000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "chromium failed: {status:?}");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    // Below the chain's (green) box, the only coloured pixels are the chart's: its lines run
    // across the plot (hundreds of pixels long), its legend has a few short strokes.
    let width = info.width as usize * channels;
    let line = pixels
        .chunks(width)
        .skip(300)
        .flat_map(|row| row.chunks(channels))
        .filter(|p| {
            let (max, min) = (p[..3].iter().max().unwrap(), p[..3].iter().min().unwrap());
            max - min > 50
        })
        .count();
    assert!(
        line > 800,
        "the chart's lines are not drawn ({line} coloured pixels)"
    );
}

/// A personnummer in a query's text: what must never reach the log, in any of its spellings.
const PERSONNUMMER: &str = "19811218-9876";
const PERSONNUMMER_SPELLINGS: [&str; 3] = ["19811218", "811218-9876", "8112189876"];

/// Whether any file in `dir` (a log and what a database keeps beside it: `-wal`, `-shm`)
/// holds one of the personnummer's spellings, byte for byte.
fn personnummer_in_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        for spelling in PERSONNUMMER_SPELLINGS {
            if bytes
                .windows(spelling.len())
                .any(|w| w == spelling.as_bytes())
            {
                found.push(format!("{}: {spelling}", path.display()));
            }
        }
    }
    found
}

#[test]
fn a_text_is_logged_by_the_kinds_found_in_it_never_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    let sqlite_log = format!("sqlite:{}", db.display());
    let jsonl = dir.path().join("audit.jsonl");
    let jsonl_log = format!("jsonl:{}", jsonl.display());
    let query = format!(
        r#"{{"user":"anna","ai":"copilot-chat","data":"intern","text":"Ring {PERSONNUMMER} om ärendet."}}"#
    );
    let out = aipolicy(
        &["check", "--query", &query, "--log", &sqlite_log, "-q"],
        "",
    );
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1));
    let key = dir.path().join("key");
    std::fs::write(&key, "0123456789abcdef0123456789abcdef\n").unwrap();
    let key_arg = format!("@{}", key.display());
    let out = aipolicy(
        &[
            "batch",
            "--log",
            &jsonl_log,
            "--log-pseudonymize",
            &key_arg,
            "-q",
        ],
        &format!("{query}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The decision says where it found the number (never the number itself)...
    let decided: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decided["found"][0]["kind"], "personnummer", "{decided}");

    // ...and the log keeps the kind and the class it raised: the SQLite row of `check`,
    let row: (String, String) = sqlite(&db)
        .query_row("SELECT found, data FROM decisions", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        row,
        (
            r#"["personnummer"]"#.to_string(),
            r#"["intern","personuppgifter"]"#.to_string()
        )
    );
    // the JSON Lines record of `batch`, pseudonymized: the user, not the kinds.
    let line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&jsonl).unwrap().trim()).unwrap();
    assert_eq!(line["found"], serde_json::json!(["personnummer"]));
    assert_eq!(
        line["data"],
        serde_json::json!(["intern", "personuppgifter"])
    );
    assert!(line["user"].as_str().unwrap().starts_with("p-"), "{line}");
    // No file of either log holds the number.
    assert_eq!(personnummer_in_files(dir.path()), Vec::<String>::new());

    for log in [&sqlite_log, &jsonl_log] {
        assert_eq!(verify(log).0, 0, "{}", verify(log).1);
        assert_eq!(summary(log)["byFound"]["personnummer"], 1);
        // The CSV export has the kinds in a column of their own.
        let out = aipolicy(&["audit", "export", "--log", log, "--format", "csv"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let csv = text(&out.stdout);
        // No field of these records has a comma or a quote: a split reads them.
        let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
        let at = lines[0].iter().position(|h| *h == "found").unwrap();
        assert_eq!(lines[0][at - 1], "data");
        assert_eq!(lines[1][at], "personnummer");
        assert_eq!(lines[1][at - 1], "intern;personuppgifter");
        // The report counts the kinds, in Swedish (and in English with --lang en).
        let report = dir.path().join("report.html");
        let out = aipolicy(
            &[
                "audit",
                "report",
                "--log",
                log,
                "-o",
                &report.display().to_string(),
            ],
            "",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let page = std::fs::read_to_string(&report).unwrap();
        assert!(
            page.contains("<h2>Hittat i texten</h2>"),
            "no table of what was found"
        );
        assert!(page.contains("<code>personnummer</code>"), "{page}");
        assert!(page.contains("<td>ett personnummer</td>"), "{page}");
        let english = aipolicy(&["audit", "report", "--log", log, "--lang", "en"], "");
        assert!(text(&english.stdout).contains("<td>a personal identity number</td>"));
        for output in [&csv, &page] {
            for spelling in PERSONNUMMER_SPELLINGS {
                assert!(!output.contains(spelling), "`{spelling}` in {output}");
            }
        }
        std::fs::remove_file(&report).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Filters, shadow AI, one language, and charts by the span: over logs written here record by
// record (a real hash chain), so that times, callers and units are the test's own.

/// One record of a crafted log: `reasons` make it a deny.
struct Crafted {
    time: &'static str,
    user: &'static str,
    ai: &'static str,
    unit: Option<&'static str>,
    caller: &'static str,
    reasons: &'static [(&'static str, &'static str)],
    obligations: &'static [(&'static str, &'static str)],
}

const U1_DUTY: &[(&str, &str)] = &[("u1-duty-responsible-for-result", "U1")];
const U3_DENY: &[(&str, &str)] = &[("u3-public-ai-open-only", "U3")];
const S3_U3_DENY: &[(&str, &str)] = &[
    ("s3-data-level-within-approval", "§3"),
    ("u3-public-ai-open-only", "U3"),
];
const UNREADABLE: &[(&str, &str)] = &[("aipolicy-invalid-query", "U2")];
const KSF: Option<&str> = Some("Kommunstyrelseförvaltningen");
const SOC: Option<&str> = Some("Socialförvaltningen");

/// Seven records: anna, bertil and cecilia; chatgpt and copilot-chat (in the register),
/// copilt-chat and mystery-bot (not); four callers; one user without a unit.
const MIXED: [Crafted; 7] = [
    Crafted {
        time: "2026-11-02T08:00:00.000Z",
        user: "anna",
        ai: "copilot-chat",
        unit: KSF,
        caller: "gateway",
        reasons: &[],
        obligations: U1_DUTY,
    },
    Crafted {
        time: "2026-11-02T09:00:00.000Z",
        user: "anna",
        ai: "chatgpt",
        unit: KSF,
        caller: "gateway",
        reasons: S3_U3_DENY,
        obligations: &[],
    },
    Crafted {
        time: "2026-11-03T10:00:00.000Z",
        user: "bertil",
        ai: "chatgpt",
        unit: SOC,
        caller: "staff-page",
        reasons: U3_DENY,
        obligations: &[],
    },
    Crafted {
        time: "2026-11-04T11:00:00.000Z",
        user: "bertil",
        ai: "copilt-chat",
        unit: SOC,
        caller: "gateway",
        reasons: U3_DENY,
        obligations: &[],
    },
    Crafted {
        time: "2026-11-05T12:00:00.000Z",
        user: "cecilia",
        ai: "copilt-chat",
        unit: None,
        caller: "intranet",
        reasons: &[],
        obligations: U1_DUTY,
    },
    Crafted {
        time: "2026-11-06T13:00:00.000Z",
        user: "anna",
        ai: "chatgpt",
        unit: KSF,
        caller: "gateway",
        reasons: UNREADABLE,
        obligations: &[],
    },
    Crafted {
        time: "2026-11-20T14:00:00.000Z",
        user: "anna",
        ai: "mystery-bot",
        unit: KSF,
        caller: "staff-page",
        reasons: &[],
        obligations: U1_DUTY,
    },
];

/// A JSON Lines log in `dir` holding `records`, chained as a writer chains them.
fn crafted_log(dir: &Path, name: &str, records: &[Crafted]) -> String {
    use aipolicy::log::{Cited, DecisionRecord};
    let cited = |list: &[(&str, &str)]| -> Vec<Cited> {
        list.iter()
            .map(|(policy, paragraph)| Cited {
                policy: (*policy).to_string(),
                paragraph: (*paragraph).to_string(),
            })
            .collect()
    };
    let mut prev = aipolicy::log::GENESIS.to_string();
    let mut lines = String::new();
    for (i, c) in records.iter().enumerate() {
        let mut record = DecisionRecord {
            decision_id: format!("00000000-0000-7000-8000-{i:012}"),
            time: c.time.to_string(),
            policy_revision: "rev1".into(),
            request_id: None,
            caller: c.caller.to_string(),
            user: c.user.to_string(),
            roles: vec!["employee".into()],
            unit: c.unit.map(str::to_string),
            ai: c.ai.to_string(),
            action: "use".into(),
            data: vec!["intern".into()],
            found: vec![],
            context: Default::default(),
            decision: if c.reasons.is_empty() {
                aipolicy::Verdict::Allow
            } else {
                aipolicy::Verdict::Deny
            },
            reasons: cited(c.reasons),
            obligations: cited(c.obligations),
            hash: String::new(),
            prev_hash: String::new(),
        };
        record.link(&prev);
        prev.clone_from(&record.hash);
        lines.push_str(&serde_json::to_string(&record).unwrap());
        lines.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, lines).unwrap();
    format!("jsonl:{}", path.display())
}

/// `aipolicy args` run in `dir` (so that its project, or none, gives the register).
fn aipolicy_in(dir: &Path, args: &[&str]) -> Output {
    common::output(common::aipolicy(args).current_dir(dir), "")
}

fn json_in(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = aipolicy_in(dir, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn summary_export_and_report_take_the_same_filters_and_say_which() {
    let dir = tempfile::tempdir().unwrap();
    let log = crafted_log(dir.path(), "mixed.jsonl", &MIXED);
    let summary = |filters: &[&str]| {
        let mut args = vec!["audit", "summary", "--log", &log, "--format", "json", "-q"];
        args.extend(filters);
        json_in(dir.path(), &args)
    };
    let all = summary(&[]);
    assert_eq!(all["total"], 7);
    assert!(all.get("filters").is_none(), "no filters, none said: {all}");
    let s = summary(&["--ai", "chatgpt", "--decision", "deny"]);
    assert_eq!(
        (s["total"].as_u64(), s["deny"].as_u64()),
        (Some(2), Some(2)),
        "{s}"
    );
    assert_eq!(
        s["filters"],
        serde_json::json!({"ai": ["chatgpt"], "decision": ["deny"]})
    );
    // A user in any case; two decisions as a comma list (alternatives), the user and the
    // decisions both holding.
    let s = summary(&["--user", "ANNA", "--decision", "deny,input-error"]);
    assert_eq!(
        (
            s["total"].as_u64(),
            s["deny"].as_u64(),
            s["inputErrors"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{s}"
    );
    // A paragraph: a deny's reasons (`3` is `§3`) or an allow's duties.
    assert_eq!(summary(&["--paragraph", "3"])["total"], 1);
    assert_eq!(summary(&["--paragraph", "U1"])["allow"], 3);
    assert_eq!(
        summary(&["--paragraph", "§3", "--paragraph", "U3"])["total"],
        3
    );
    assert_eq!(
        summary(&["--unit", "(none)"])["byAiSystem"],
        serde_json::json!({"copilt-chat": 1})
    );
    let s = summary(&[
        "--caller",
        "gateway",
        "--ai",
        "chatgpt,copilt-chat",
        "--decision",
        "deny",
    ]);
    assert_eq!(s["total"], 2, "{s}");

    // The text says what it covers before it counts.
    let out = aipolicy_in(
        dir.path(),
        &[
            "audit",
            "summary",
            "--log",
            &log,
            "--ai",
            "chatgpt",
            "--decision",
            "deny",
            "-q",
        ],
    );
    let said = text(&out.stdout);
    assert!(
        said.starts_with("urval: AI-system chatgpt; beslut nekade\n"),
        "{said}"
    );
    assert!(
        said.contains("beslut: 2 (tillåtna 0, nekade 2, felaktiga frågor 0)"),
        "{said}"
    );
    let out = aipolicy_in(
        dir.path(),
        &[
            "audit", "summary", "--log", &log, "--ai", "chatgpt", "--format", "md", "--lang", "en",
            "-q",
        ],
    );
    assert!(
        text(&out.stdout).contains("filters: AI system chatgpt\n"),
        "{}",
        text(&out.stdout)
    );

    // The export takes the same records, and says the filters where its format has no room.
    let out = aipolicy_in(
        dir.path(),
        &[
            "audit",
            "export",
            "--log",
            &log,
            "--format",
            "jsonl",
            "--ai",
            "chatgpt",
            "--decision",
            "deny",
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(exported.len(), 2);
    assert!(exported
        .iter()
        .all(|r| r["ai"] == "chatgpt" && r["decision"] == "deny"));
    assert!(
        text(&out.stderr)
            .contains("filters: AI system chatgpt; decision denied; 2 record(s) taken"),
        "{}",
        text(&out.stderr)
    );
    let out = aipolicy_in(
        dir.path(),
        &[
            "audit", "export", "--log", &log, "--format", "csv", "--user", "bertil", "-q",
        ],
    );
    assert_eq!(
        text(&out.stdout).lines().count(),
        3,
        "a header and bertil's two"
    );

    // The report too.
    let out = aipolicy_in(
        dir.path(),
        &[
            "audit",
            "report",
            "--log",
            &log,
            "--ai",
            "chatgpt",
            "--decision",
            "deny",
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert!(
        page.contains("Urval: </strong>AI-system chatgpt; beslut nekade"),
        "{page}"
    );
    assert!(page.contains("<td class=\"n\">2</td>"), "{page}");
}

#[test]
fn a_mistyped_filter_value_is_named_with_the_value_meant_and_never_counted_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    let log = crafted_log(dir.path(), "mixed.jsonl", &MIXED);
    for command in [
        vec!["audit", "summary", "--log", &log, "--ai", "copilot-cht"],
        vec![
            "audit",
            "export",
            "--log",
            &log,
            "--format",
            "csv",
            "--ai",
            "copilot-cht",
        ],
        vec!["audit", "report", "--log", &log, "--ai", "copilot-cht"],
    ] {
        let out = aipolicy_in(dir.path(), &command);
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        assert!(
            out.stdout.is_empty(),
            "{command:?} wrote {}",
            text(&out.stdout)
        );
        assert!(
            text(&out.stderr).contains(
                "no record has AI system `copilot-cht`; did you mean `copilot-chat`? (--ai)"
            ),
            "{command:?}: {}",
            text(&out.stderr)
        );
    }
    let out = aipolicy_in(
        dir.path(),
        &[
            "audit",
            "summary",
            "--log",
            &log,
            "--unit",
            "Socialförvaltningn",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean `Socialförvaltningen`?"),
        "{}",
        text(&out.stderr)
    );
    // A value like no other is a true zero: counted, and said.
    let s = json_in(
        dir.path(),
        &[
            "audit", "summary", "--log", &log, "--caller", "payroll", "--format", "json", "-q",
        ],
    );
    assert_eq!(s["total"], 0);
    assert_eq!(
        s["filters"]["unmatched"],
        serde_json::json!([{"field": "caller", "value": "payroll"}])
    );
    let out = aipolicy_in(
        dir.path(),
        &[
            "audit", "summary", "--log", &log, "--caller", "payroll", "-q",
        ],
    );
    assert!(
        text(&out.stdout).contains("obs: ingen post har anropare `payroll`"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("note: no record has caller `payroll`"),
        "{}",
        text(&out.stderr)
    );
    // Values that are no paragraph or decision are refused by name.
    let out = aipolicy_in(
        dir.path(),
        &["audit", "summary", "--log", &log, "--paragraph", "§9"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("`§9` is not a paragraph of the policy"),
        "{}",
        text(&out.stderr)
    );
    let out = aipolicy_in(
        dir.path(),
        &[
            "audit",
            "export",
            "--log",
            &log,
            "--format",
            "csv",
            "--decision",
            "denied",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("input-error"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_subject_access_request_finds_a_persons_records_in_a_pseudonymized_log_by_id_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let log = format!("sqlite:{}", dir.path().join("audit.db").display());
    let key = dir.path().join("key");
    std::fs::write(&key, "0123456789abcdef0123456789abcdef\n").unwrap();
    let key_arg = format!("@{}", key.display());
    // anna three times (once as a service spells her), bertil twice.
    let input = [
        r#"{"user":"anna","ai":"copilot-chat","data":"intern"}"#,
        r#"{"user":"bertil","ai":"copilot-chat","data":"intern"}"#,
        r#"{"user":{"id":"ANNA","roles":["employee"]},"ai":"chatgpt","data":"intern"}"#,
        r#"{"user":"bertil","ai":"chatgpt","data":"oppen"}"#,
        r#"{"user":"anna","ai":"chatgpt","data":"oppen"}"#,
    ]
    .join("\n");
    let out = aipolicy_in(
        dir.path(),
        &["batch", "--log", &log, "--log-pseudonymize", &key_arg, "-q"],
    );
    drop(out);
    let out = common::output(
        common::aipolicy(["batch", "--log", &log, "--log-pseudonymize", &key_arg, "-q"])
            .current_dir(dir.path()),
        &input,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pseudonym = text(
        &aipolicy_in(
            dir.path(),
            &["audit", "pseudonym", "anna", "--key", &key_arg],
        )
        .stdout,
    )
    .trim()
    .to_string();
    let out = aipolicy_in(
        dir.path(),
        &[
            "audit", "export", "--log", &log, "--format", "jsonl", "--user", "Anna", "--key",
            &key_arg, "-q",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let users: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["user"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        users,
        [pseudonym.clone(), pseudonym.clone(), pseudonym.clone()],
        "anna's three records, and only hers"
    );
    let s = json_in(
        dir.path(),
        &[
            "audit", "summary", "--log", &log, "--user", "anna", "--key", &key_arg, "--format",
            "json", "-q",
        ],
    );
    assert_eq!(s["total"], 3);
    assert_eq!(s["filters"]["userPseudonyms"], true);
    // The pseudonym itself finds them without the key.
    assert_eq!(
        json_in(
            dir.path(),
            &["audit", "summary", "--log", &log, "--user", &pseudonym, "--format", "json", "-q"]
        )["total"],
        3
    );
    // An id without the key finds nothing in a pseudonymized log, and is told why.
    let out = aipolicy_in(
        dir.path(),
        &["audit", "summary", "--log", &log, "--user", "anna", "-q"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(
            "ingen post har användare `anna`; loggens användare är pseudonymer: ange --key"
        ),
        "{}",
        text(&out.stdout)
    );
    let out = aipolicy_in(
        dir.path(),
        &["audit", "summary", "--log", &log, "--key", &key_arg],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "--key without --user is refused"
    );
}

#[test]
fn shadow_ai_is_the_systems_the_register_in_force_does_not_list() {
    let dir = tempfile::tempdir().unwrap();
    let log = crafted_log(dir.path(), "mixed.jsonl", &MIXED);
    let out = aipolicy_in(
        dir.path(),
        &["audit", "summary", "--log", &log, "--format", "json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("register: embedded Askersund register"),
        "{}",
        text(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shadow = &s["shadowAi"];
    assert_eq!(shadow["register"], "embedded Askersund register");
    let names: Vec<&String> = shadow["systems"].as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        ["copilt-chat", "mystery-bot"],
        "chatgpt and copilot-chat are listed"
    );
    assert_eq!(
        shadow["systems"]["copilt-chat"],
        serde_json::json!({
            "decisions": 2, "deny": 1,
            "first": "2026-11-04T11:00:00.000Z", "last": "2026-11-05T12:00:00.000Z",
            "byCaller": {"gateway": 1, "intranet": 1},
            "byUnit": {"(none)": 1, "Socialförvaltningen": 1},
            "closestListed": "copilot-chat"
        })
    );
    assert!(shadow["systems"]["mystery-bot"]
        .get("closestListed")
        .is_none());
    let out = aipolicy_in(dir.path(), &["audit", "summary", "--log", &log, "-q"]);
    let said = text(&out.stdout);
    assert!(said.contains("skugg-AI:\n"), "{said}");
    // These records were decided under a revision ("rev1") other than the one in force.
    assert!(
        said.contains("Några poster beslutades under en annan policyrevision än den i kraft nu: registret då kan ha listat andra system."),
        "{said}"
    );
    assert!(said.contains("copilt-chat  2 beslut, 1 nekade, 2026-11-04T11:00:00.000Z – 2026-11-05T12:00:00.000Z; menade anroparen `copilot-chat`?"), "{said}");
    assert!(
        said.contains("    förvaltningar: (ingen) 1, Socialförvaltningen 1"),
        "{said}"
    );
    let out = aipolicy_in(dir.path(), &["audit", "report", "--log", &log, "-q"]);
    let page = text(&out.stdout);
    assert!(
        page.contains("Skugg-AI: AI-system som registret inte listar"),
        "{page}"
    );
    assert!(page.contains("<code>mystery-bot</code>"), "{page}");

    // A project's register in force lists mystery-bot: no longer shadow AI, and said whose.
    let project = dir.path().join("kommun");
    std::fs::create_dir(&project).unwrap();
    let register = aipolicy::register::BUNDLED_REGISTER.replacen(
        "aiSystems:\n",
        "aiSystems:\n  - {id: mystery-bot, hosting: public, approved: false}\n",
        1,
    );
    assert_ne!(register, aipolicy::register::BUNDLED_REGISTER);
    std::fs::write(project.join("register.yaml"), register).unwrap();
    let out = aipolicy_in(
        &project,
        &["audit", "summary", "--log", &log, "--format", "json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("register: register.yaml (project .)"),
        "{}",
        text(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["shadowAi"]["register"], "register.yaml (project .)");
    let names: Vec<&String> = s["shadowAi"]["systems"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(names, ["copilt-chat"]);
    // A broken register is refused, never replaced by the embedded one.
    std::fs::write(project.join("register.yaml"), "aiSystems: [{id: x}]\n").unwrap();
    let out = aipolicy_in(&project, &["audit", "summary", "--log", &log]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn summary_and_report_speak_swedish_by_default_and_english_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let log = crafted_log(dir.path(), "mixed.jsonl", &MIXED);
    let run = |args: &[&str]| {
        let mut all = vec!["audit", args[0], "--log", &log, "-q"];
        all.extend(&args[1..]);
        let out = aipolicy_in(dir.path(), &all);
        assert!(out.status.success(), "{all:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let sv = run(&["summary"]);
    for said in [
        "beslut: 7 (tillåtna 3, nekade 3, felaktiga frågor 1)",
        "nekanden per paragraf:",
        "§3 Integritet och säkerhet",
        "per förvaltning:",
        "skugg-AI:",
        "policyrevisioner i kraft:",
    ] {
        assert!(sv.contains(said), "{said}: {sv}");
    }
    let en = run(&["summary", "--lang", "en"]);
    for said in [
        "decisions: 7 (allow 3, deny 3, input errors 1)",
        "denies by paragraph:",
        "§3 Privacy and security",
        "by unit:",
        "shadow AI:",
    ] {
        assert!(en.contains(said), "{said}: {en}");
    }
    for swedish in [
        "nekanden",
        "beslut",
        "per förvaltning",
        "skugg-AI",
        "Integritet",
        "(ingen)",
        "menade",
    ] {
        assert!(!en.contains(swedish), "`{swedish}` in English: {en}");
    }
    let md_sv = run(&["summary", "--format", "md"]);
    assert!(
        md_sv.starts_with("# Sammanställning av beslutsloggen"),
        "{md_sv}"
    );
    let md_en = run(&["summary", "--format", "md", "--lang", "en"]);
    assert!(
        md_en.starts_with("# Decision log summary") && !md_en.contains("Nekanden"),
        "{md_en}"
    );
    // JSON is for programs: its keys do not change with the language.
    assert_eq!(
        run(&["summary", "--format", "json"]),
        run(&["summary", "--format", "json", "--lang", "en"])
    );
    let page = run(&["report"]);
    assert!(
        page.contains("<html lang=\"sv\">") && page.contains("Nekanden per paragraf över tid"),
        "{page}"
    );
    assert!(
        page.contains("Kedjan är hel: </strong>7 poster kontrollerade"),
        "{page}"
    );
    let page = run(&["report", "--lang", "en"]);
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("Denies per paragraph over time"),
        "{page}"
    );
    assert!(
        page.contains("The hash chain is whole: </strong>7 record(s) checked"),
        "{page}"
    );
    for swedish in [
        "Nekanden",
        "Kedjan",
        "Förvaltning",
        "Beslut",
        "Integritet",
        "timme",
        "Skugg",
    ] {
        assert!(!page.contains(swedish), "`{swedish}` in the English page");
    }
    // A broken chain is told in the page's language too.
    let path = dir.path().join("mixed.jsonl");
    let logged = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, logged.replacen("\"bertil\"", "\"berit\"", 1)).unwrap();
    let page = run(&["report"]);
    assert!(
        page.contains("post 3 (decisionId 00000000-0000-7000-8000-000000000002, tid 2026-11-03T10:00:00.000Z) ändrades efter att den skrevs"),
        "{page}"
    );
    assert!(run(&["report", "--lang", "en"]).contains("was changed after it was written"));
}

/// `n` denies under U3 at each of `times`.
fn denies_at(times: &[&'static str]) -> Vec<Crafted> {
    times
        .iter()
        .map(|time| Crafted {
            time,
            user: "anna",
            ai: "chatgpt",
            unit: KSF,
            caller: "gateway",
            reasons: U3_DENY,
            obligations: &[],
        })
        .collect()
}

#[test]
fn the_reports_chart_is_by_the_hour_for_a_day_by_the_day_for_a_month_and_by_the_month_for_a_year() {
    let dir = tempfile::tempdir().unwrap();
    let chart_of = |name: &str, times: &[&'static str], extra: &[&str]| {
        let log = crafted_log(dir.path(), name, &denies_at(times));
        let mut args = vec!["audit", "report", "--log", &log, "-q"];
        args.extend(extra);
        let out = aipolicy_in(dir.path(), &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let page = text(&out.stdout);
        let start = page.find("<figure>").unwrap();
        let end = page.find("</figure>").unwrap();
        page[start..end].to_string()
    };
    let day = chart_of(
        "day.jsonl",
        &[
            "2026-12-07T08:10:00.000Z",
            "2026-12-07T08:40:00.000Z",
            "2026-12-07T15:00:00.000Z",
        ],
        &[],
    );
    assert!(
        day.contains("timme (UTC)") && day.contains("nekanden under paragrafen"),
        "{day}"
    );
    assert!(
        day.contains("\n00:00\n") && day.contains("Antal nekanden per timme"),
        "{day}"
    );
    let month = chart_of(
        "month.jsonl",
        &[
            "2026-11-01T08:00:00.000Z",
            "2026-11-12T08:00:00.000Z",
            "2026-11-30T08:00:00.000Z",
        ],
        &[],
    );
    assert!(
        month.contains("dag (UTC)") && month.contains("\n11-01\n") && month.contains("per dag"),
        "{month}"
    );
    let year = chart_of(
        "year.jsonl",
        &[
            "2026-01-15T08:00:00.000Z",
            "2026-06-12T08:00:00.000Z",
            "2026-12-30T08:00:00.000Z",
        ],
        &["--lang", "en"],
    );
    assert!(
        year.contains("month (UTC)")
            && year.contains("\n2026-01\n")
            && year.contains("Denies per month"),
        "{year}"
    );
    // The range asked for sets the span: one day of a month's log is charted by the hour.
    let one_day = chart_of(
        "month2.jsonl",
        &[
            "2026-11-01T08:00:00.000Z",
            "2026-11-12T08:00:00.000Z",
            "2026-11-30T08:00:00.000Z",
        ],
        &["--since", "2026-11-12", "--until", "2026-11-12"],
    );
    assert!(one_day.contains("timme (UTC)"), "{one_day}");
}
