//! What the tests that start `aipolicy serve` share.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)] // tests may fail loudly

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// `aipolicy serve` with `args` on an ephemeral loopback port, its JSON log on stderr: the
/// child, its address once it listens and has loaded the policy (waiting at most `wait`), and
/// its log lines. The log is read to the end whether or not the lines are wanted, so the
/// server never blocks on a full pipe.
pub fn spawn_serve(args: &[&str], wait: Duration) -> (Child, String, Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aipolicy"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--watch",
            "0",
            "--log-format",
            "json",
        ])
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    let (mut addr, mut loaded) = (None, false);
    while started.elapsed() < wait && (addr.is_none() || !loaded) {
        let Ok(line) = rx.recv_timeout(wait) else {
            break;
        };
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if event["message"] == "listening" {
            addr = event["addr"].as_str().map(str::to_string);
        }
        loaded |= event["message"] == "policy loaded";
    }
    let addr = addr.expect("the server did not say where it listens");
    (child, addr, rx)
}
