//! The decision service over real HTTP: each test starts a server on an ephemeral loopback
//! port (`127.0.0.1:0`) and calls it with an HTTP client.
//!
//! - `native`: `/v1/decide` and `/v1/batch`, their limits and errors;
//! - `authzen`: the AuthZEN 1.0 status-code table of the certification scenario, the three batch
//!   semantics, defaults, resource search and its pages, the metadata document;
//! - `ops`: tokens (401/403), health, status, metrics, concurrency and time limits;
//! - `reload`: reload while requests run, a broken file, the file watch, the reload gate;
//! - `page`: the staff page's routes, languages, errors and who is asking;
//!
//! (`aipolicy serve` as a process, with signals, is tested in `crates/aipolicy-cli/tests/serve.rs`.)

#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod authzen;
mod native;
mod ops;
mod page;
mod reload;

use std::sync::Arc;
use std::time::Duration;

use aipolicy_server::{ServeArgs, Server, State};
use serde_json::Value;

/// A server running in this process.
pub struct Running {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub client: reqwest::Client,
    pub state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// A client that opens a connection for each request: the server closes a connection that
/// stays idle past `--request-timeout` (some tests set it below a second), and a pooled one
/// reused at that moment would be reset.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Arguments for a test server: an ephemeral loopback port, no file watch.
pub fn args() -> ServeArgs {
    ServeArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        watch: Duration::ZERO,
        quiet: true,
        clock: aipolicy::Clock::fixed(today()),
        ..ServeArgs::default()
    }
}

/// The tests' day: every assessment of the bundled register holds on it.
pub fn today() -> aipolicy::clock::Date {
    aipolicy::clock::parse_date(aipolicy_test_support::TODAY).unwrap()
}

/// Starts a server and waits until it has loaded its policy (or `ready` is false).
pub async fn start_with(args: ServeArgs, ready: bool) -> Running {
    let server = Server::bind(args).await.unwrap();
    let addr = server.local_addr().unwrap();
    let state = server.state();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    let running = Running {
        base: format!("http://{addr}"),
        addr,
        client: client(),
        state,
        stop: Some(tx),
        handle: Some(handle),
    };
    if ready {
        for _ in 0..200 {
            if running.state.current().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            running.state.current().is_some(),
            "the server did not load its policy"
        );
    } else {
        // Let the first load run (and fail).
        for _ in 0..200 {
            if running.state.last_error().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    running
}

/// Starts a server with `args` that is ready.
pub async fn start(args: ServeArgs) -> Running {
    start_with(args, true).await
}

/// Starts a server with `args` that gives every decision to `sink`, and waits until it is
/// ready.
pub async fn start_with_sink(
    args: ServeArgs,
    sink: Arc<dyn aipolicy_server::AnswerSink>,
) -> Running {
    let server = Server::bind(args).await.unwrap().with_sink(sink);
    let addr = server.local_addr().unwrap();
    let state = server.state();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    for _ in 0..200 {
        if state.current().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        state.current().is_some(),
        "the server did not load its policy"
    );
    Running {
        base: format!("http://{addr}"),
        addr,
        client: client(),
        state,
        stop: Some(tx),
        handle: Some(handle),
    }
}

/// Opens a connection and sends a request whose body never comes: a request in flight.
pub async fn stalled(server: &Running, path: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs `body` as `application/json`; the status and the body (JSON, or a string).
    pub async fn post_json(&self, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        read(response).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        read(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    /// Stops it (as a signal would) and waits for it to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
    }
}

/// The status and body of a response: its JSON, else its text as a JSON string.
pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

pub use aipolicy_test_support::{suspend_copilot, ANNA_COPILOT};

/// A copy of the bundled policies, schema and register in a temporary folder, and the
/// arguments that serve them.
pub fn project() -> (tempfile::TempDir, ServeArgs) {
    let project = aipolicy_test_support::bundled_project();
    let args = ServeArgs {
        policies: Some(project.policies),
        schema: Some(project.schema),
        register: Some(project.register),
        ..args()
    };
    (project.dir, args)
}
