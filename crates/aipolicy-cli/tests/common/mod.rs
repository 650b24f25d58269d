//! What the tests of the `aipolicy` binary share: running it, a fresh folder, and
//! `aipolicy serve` on an ephemeral port.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)] // tests may fail loudly

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

#[allow(unused_imports)] // not every test binary uses it
pub use aipolicy_test_support::repo;

/// Fails the test with the install advice when cvc5 cannot be started: a test that needs the
/// solver never passes silently without it.
pub fn require_cvc5() {
    if let Err(e) = aipolicy_verify::solver_version() {
        panic!(
            "this test needs the SMT solver cvc5 ({e}); install it with `apt-get install cvc5` \
             (CI's .ci/run does) or set CVC5 to the path of a cvc5 executable"
        );
    }
}

/// `aipolicy ARGS…`, its three streams piped: add a folder or variables, then [`output`].
pub fn aipolicy<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_aipolicy"));
    command
        .env(
            aipolicy::clock::TODAY_VARIABLE,
            aipolicy_test_support::TODAY,
        )
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `command` with `stdin` written to it, and waits for its output.
pub fn output(command: &mut Command, stdin: &str) -> Output {
    let stdin = stdin.as_bytes().to_vec();
    output_fed(command, move |mut pipe| {
        // A command may stop reading early (an input error); what it did is in its output.
        let _ = pipe.write_all(&stdin);
    })
}

/// Runs `command`, handing its stdin to `feed` on a thread of its own, so that a command
/// whose output fills its pipe never blocks the writing; waits for its output.
pub fn output_fed(command: &mut Command, feed: impl FnOnce(ChildStdin) + Send + 'static) -> Output {
    let mut child = command.spawn().unwrap();
    let stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || feed(stdin));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// A fresh, empty folder for one test (`kind` and `name` keep the tests' folders apart),
/// outside any project, so that the embedded default is in force there.
pub fn workdir(kind: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aipolicy-{kind}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Bytes a command wrote, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `aipolicy serve` with `args` on an ephemeral loopback port, its JSON log on stderr: the
/// child, its address once it listens and has loaded the policy (waiting at most `wait`), and
/// its log lines. The log is read to the end whether or not the lines are wanted, so the
/// server never blocks on a full pipe.
pub fn spawn_serve(args: &[&str], wait: Duration) -> (Child, String, Receiver<String>) {
    spawn_serve_in(None, args, wait)
}

/// [`spawn_serve`] with `dir` as the working folder (a project's), when given.
pub fn spawn_serve_in(
    dir: Option<&std::path::Path>,
    args: &[&str],
    wait: Duration,
) -> (Child, String, Receiver<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aipolicy"));
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .env(
            aipolicy::clock::TODAY_VARIABLE,
            aipolicy_test_support::TODAY,
        )
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

/// The answer to `GET path` from a server at `addr`, status line, headers and body (HTTP/1.1,
/// the connection closed after it).
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}
