//! `aipolicy serve` as a process: SIGTERM drains the requests in flight, SIGHUP reloads and a
//! broken file keeps the old policy. (The service's HTTP behaviour is tested in
//! `crates/aipolicy-server/tests`, in-process.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use aipolicy_test_support::{bundled_project, suspend_copilot, ANNA_COPILOT};

/// The binary, started with `args` on an ephemeral port; its address, read from its log.
fn spawn(args: &[&str]) -> (Child, String, std::sync::mpsc::Receiver<String>) {
    common::spawn_serve(args, Duration::from_secs(20))
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the server did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn decide(addr: &str) -> serde_json::Value {
    let body = ANNA_COPILOT;
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let json = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(json).unwrap_or_default()
}

#[test]
fn sigterm_finishes_the_requests_in_flight_then_exits_0() {
    let (mut child, addr, _log) = spawn(&[]);
    // A request in flight: its headers and half its body are sent.
    let body = ANNA_COPILOT;
    let (head, tail) = body.split_at(10);
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(stream, "POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}", body.len()).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server stopped with a request in flight"
    );
    // No new connection is taken.
    assert!(
        TcpStream::connect(&addr)
            .map(|mut s| {
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let _ = s.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
                let mut buf = [0u8; 16];
                s.read(&mut buf).unwrap_or(0)
            })
            .unwrap_or(0)
            == 0
    );
    stream.write_all(tail.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""decision":"allow""#), "{answer}");
    let status = wait(&mut child);
    assert!(status.success(), "{status:?}");
}

#[test]
fn sighup_reloads_and_a_broken_file_keeps_the_old_policy() {
    let project = bundled_project();
    let path = |path: &std::path::Path| path.display().to_string();
    let (policies, schema, register) = (
        path(&project.policies),
        path(&project.schema),
        path(&project.register),
    );
    let (mut child, addr, log) = spawn(&[
        "--policies",
        &policies,
        "--schema",
        &schema,
        "--register",
        &register,
    ]);
    let before = decide(&addr);
    assert_eq!(before["decision"], "allow", "{before}");
    suspend_copilot(&project.register);
    signal(&child, "HUP");
    let started = Instant::now();
    let mut after = before.clone();
    while started.elapsed() < Duration::from_secs(10)
        && after["policyRevision"] == before["policyRevision"]
    {
        std::thread::sleep(Duration::from_millis(50));
        after = decide(&addr);
    }
    assert_eq!(after["decision"], "deny", "{after}");
    std::fs::write(&project.register, "aiSystems: [").unwrap();
    signal(&child, "HUP");
    let started = Instant::now();
    let mut failed = None;
    while started.elapsed() < Duration::from_secs(10) && failed.is_none() {
        if let Ok(line) = log.recv_timeout(Duration::from_millis(100)) {
            if line.contains("policy load failed") {
                failed = Some(line);
            }
        }
    }
    let failed = failed.expect("the failed reload was not logged");
    assert!(failed.contains("register.yaml"), "{failed}");
    assert_eq!(decide(&addr)["policyRevision"], after["policyRevision"]);
    signal(&child, "INT");
    assert!(wait(&mut child).success());
}

/// Behind the sign-in proxy with a decision log, the service neither starts nor creates the
/// log until the municipality has chosen pseudonyms or ids for the staff page's records.
#[test]
fn behind_sign_on_a_log_without_a_pseudonym_key_or_a_choice_of_ids_is_refused_before_it_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let sink = format!("jsonl:{}", log.display());
    let out = common::output(
        &mut common::aipolicy([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--trust-user-header",
            "X-Remote-User",
            "--log",
            &sink,
        ]),
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", common::text(&out.stderr));
    let said = common::text(&out.stderr);
    assert!(
        said.contains("--log-pseudonymize") && said.contains("--staff-page-user-ids"),
        "{said}"
    );
    assert!(!log.exists(), "the log was created");
}
