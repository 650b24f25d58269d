//! Tokens, health, status, metrics, and the limits on concurrency and time.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aipolicy_server::tokens::hash_secret;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

fn token_file(dir: &Path) -> PathBuf {
    let path = dir.join("tokens");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "# callers of the decision service").unwrap();
    writeln!(file, "gateway {}", hash_secret("gateway-secret")).unwrap();
    writeln!(
        file,
        "ops {} admin   # may reload",
        hash_secret("ops-secret")
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_let_callers_in_and_only_admins_reload() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(ServeArgs {
        token_file: Some(token_file(dir.path())),
        ..args()
    })
    .await;
    let post = |path: &str, token: Option<&str>| {
        let mut request = server
            .client
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(ANNA_COPILOT);
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        request.send()
    };
    for token in [
        None,
        Some("Bearer wrong"),
        Some("Basic Z2F0ZXdheQ=="),
        Some("Bearer"),
        Some("gateway-secret"),
    ] {
        let response = post("/v1/decide", token).await.unwrap();
        assert_eq!(response.status(), 401, "{token:?}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"aipolicy\""
        );
        let (_, body) = read(response).await;
        assert_eq!(body["decision"], "deny");
        let response = post("/access/v1/evaluation", token).await.unwrap();
        assert_eq!(response.status(), 401, "{token:?}");
    }
    let (status, body) = read(
        post("/v1/decide", Some("Bearer gateway-secret"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["decision"].as_str()), (200, Some("allow")));
    let (status, _) = read(post("/v1/decide", Some("bearer ops-secret")).await.unwrap()).await;
    assert_eq!(status, 200);
    // Reload needs an admin token.
    let (status, body) = read(
        post("/v1/admin/reload", Some("Bearer gateway-secret"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("anroparen `gateway`"),
        "{body}"
    );
    let (status, body) = read(
        post("/v1/admin/reload", Some("Bearer ops-secret"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("unchanged")),
        "{body}"
    );
    assert_eq!(
        read(post("/v1/admin/reload", None).await.unwrap()).await.0,
        401
    );
    // Status needs a token; health, metrics and the metadata do not.
    assert_eq!(server.get("/v1/status").await.0, 401);
    for path in [
        "/health/live",
        "/health/ready",
        "/metrics",
        "/.well-known/authzen-configuration",
    ] {
        assert_eq!(server.get(path).await.0, 200, "{path}");
    }
    let (_, metrics) = server.get("/metrics").await;
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains("aipolicy_http_rejected_total{reason=\"unauthenticated\"} 12"),
        "{metrics}"
    );
    assert!(metrics.contains("aipolicy_http_rejected_total{reason=\"forbidden\"} 1"));
    assert!(!metrics.contains("secret"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_file_only_loopback_is_served() {
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let error = Server::bind(ServeArgs {
            listen: listen.parse().unwrap(),
            ..args()
        })
        .await
        .unwrap_err();
        assert!(
            error.to_string().contains("without --token-file"),
            "{error}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("tokens");
    std::fs::write(&broken, "gateway abc\n").unwrap();
    let error = Server::bind(ServeArgs {
        token_file: Some(broken),
        ..args()
    })
    .await
    .unwrap_err();
    assert!(error.to_string().contains("tokens:1"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_status_and_metrics() {
    let server = start(args()).await;
    let (status, live) = server.get("/health/live").await;
    assert_eq!((status, live["status"].as_str()), (200, Some("live")));
    let (status, ready) = server.get("/health/ready").await;
    assert_eq!((status, ready["status"].as_str()), (200, Some("ready")));
    let (status, info) = server.get("/v1/status").await;
    assert_eq!(status, 200);
    assert_eq!(info["ready"], true);
    assert_eq!(info["policyRevision"], ready["policyRevision"]);
    assert!(info["loadedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(info["lastReloadError"], Value::Null);
    assert!(
        info["inputs"].as_str().unwrap().contains("policies"),
        "{info}"
    );

    server.post_json("/v1/decide", ANNA_COPILOT).await;
    server
        .post_json(
            "/v1/decide",
            r#"{"user":"anna","ai":"chatgpt","data":"intern"}"#,
        )
        .await;
    server.post_json("/v1/decide", "{").await;
    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    for line in [
        "aipolicy_http_requests_total{endpoint=\"/v1/decide\",status=\"200\"} 2",
        "aipolicy_http_requests_total{endpoint=\"/v1/decide\",status=\"400\"} 1",
        "aipolicy_http_request_duration_seconds_count{endpoint=\"/v1/decide\"} 3",
        "aipolicy_http_request_duration_seconds_bucket{endpoint=\"/v1/decide\",le=\"+Inf\"} 3",
        "aipolicy_decisions_total{decision=\"allow\"} 1",
        "aipolicy_decisions_total{decision=\"deny\"} 2",
        "aipolicy_decision_paragraphs_total{decision=\"deny\",paragraph=\"U3\"} 1",
        "aipolicy_decision_paragraphs_total{decision=\"allow\",paragraph=\"U1\"} 1",
        "aipolicy_decision_paragraphs_total{decision=\"deny\",paragraph=\"U2\"} 1",
        "aipolicy_reloads_total{result=\"success\"} 0",
        "aipolicy_reloads_total{result=\"failure\"} 0",
        "aipolicy_decision_log_queue_depth 0",
        "aipolicy_decision_log_dropped_total 0",
        "aipolicy_ready 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_until_a_good_load() {
    let (dir, args) = project();
    std::fs::write(
        dir.path().join("policies/broken.cedar"),
        "permit (principal, action, resource) when {",
    )
    .unwrap();
    let server = start_with(args, false).await;
    assert_eq!(server.get("/health/live").await.0, 200);
    assert_eq!(server.get("/health/ready").await.0, 503);
    let (status, body) = server.post_json("/v1/decide", ANNA_COPILOT).await;
    assert_eq!((status, body["decision"].as_str()), (503, Some("deny")));
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("ingen policy är laddad"),
        "{body}"
    );
    let (status, _) = server.post_json("/access/v1/evaluation", "{}").await;
    assert_eq!(status, 503);
    let (_, info) = server.get("/v1/status").await;
    assert_eq!(info["ready"], false);
    assert!(
        info["lastReloadError"]["file"]
            .as_str()
            .unwrap()
            .ends_with("broken.cedar"),
        "{info}"
    );
    // Fixed and reloaded: ready.
    std::fs::remove_file(dir.path().join("policies/broken.cedar")).unwrap();
    let (status, body) = server.post_json("/v1/admin/reload", "").await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("loaded")),
        "{body}"
    );
    assert_eq!(server.get("/health/ready").await.0, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_and_time_limits_are_503_naming_the_limit() {
    let server = start(ServeArgs {
        max_concurrent: 1,
        request_timeout: Duration::from_millis(300),
        ..args()
    })
    .await;
    let mut first = stalled(&server, "/v1/decide").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let response = server
        .client
        .post(server.url("/access/v1/evaluation"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let text = response.text().await.unwrap();
    assert!(
        text.contains("gräns av 1 begäranden samtidigt (--max-concurrent)"),
        "{text}"
    );
    // Health is not limited.
    assert_eq!(server.get("/health/ready").await.0, 200);
    // The stalled request runs out of time.
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), first.read_to_end(&mut answer))
        .await
        .ok();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("gränsen 300 ms (--request-timeout)"),
        "{answer}"
    );
    // And the server answers again.
    assert_eq!(server.post_json("/v1/decide", ANNA_COPILOT).await.0, 200);
    let (_, metrics) = server.get("/metrics").await;
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains("aipolicy_http_rejected_total{reason=\"overloaded\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("aipolicy_http_rejected_total{reason=\"timeout\"} 1"),
        "{metrics}"
    );
    server.stop().await;
}

/// A decision log that keeps what it is given.
#[derive(Default)]
struct Counting {
    records: std::sync::Mutex<Vec<(String, String, String)>>,
}

impl aipolicy_server::DecisionSink for Counting {
    fn submit(&self, record: aipolicy_server::DecisionRecord) -> Option<aipolicy::log::Ticket> {
        let mut records = self.records.lock().unwrap();
        let decision = if record.is_deny() { "deny" } else { "allow" };
        records.push((record.caller, decision.into(), record.ai));
        Some(aipolicy::log::Ticket(records.len() as u64))
    }

    fn last_ticket(&self) -> aipolicy::log::Ticket {
        aipolicy::log::Ticket(self.records.lock().unwrap().len() as u64)
    }

    fn wait_durable(&self, _: aipolicy::log::Ticket) -> Result<(), aipolicy::log::LogError> {
        Ok(())
    }

    fn queue_depth(&self) -> u64 {
        7
    }

    fn dropped(&self) -> u64 {
        3
    }
}

impl aipolicy_server::AnswerSink for Counting {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_decision_reaches_the_decision_log_seam() {
    let sink = Arc::new(Counting::default());
    let server = Server::bind(args()).await.unwrap().with_sink(sink.clone());
    let addr = server.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    let client = client();
    let post = |path: &str, body: &str| {
        client
            .post(format!("http://{addr}{path}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    for _ in 0..50 {
        if post("/v1/decide", ANNA_COPILOT).await.unwrap().status() == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = sink.records.lock().unwrap().len();
    // Two items: one a query, one that maps to none (decided nothing about anyone: not logged).
    post("/access/v1/evaluations", r#"{"subject":{"type":"user","id":"anna"},"action":{"name":"use"},"context":{"data":"intern"},"evaluations":[{"resource":{"type":"ai_system","id":"chatgpt"}},{}]}"#).await.unwrap();
    let records = sink.records.lock().unwrap().clone();
    assert_eq!(
        records[before - 1],
        ("local".into(), "allow".into(), "copilot-chat".into())
    );
    assert_eq!(
        records[before..],
        [("local".into(), "deny".into(), "chatgpt".into())]
    );
    let metrics = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("aipolicy_decision_log_queue_depth 7"),
        "{metrics}"
    );
    assert!(metrics.contains("aipolicy_decision_log_dropped_total 3"));
    let _ = tx.send(());
    handle.await.unwrap().unwrap();
}

/// `X-Request-ID` keeps the rule of a query's `requestId` (1 to 256 characters) on every
/// route: one that breaks it is a 400 in the route's own shape, and never echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_request_id_keeps_the_request_id_rule_on_every_route() {
    let server = start(args()).await;
    let long = "r".repeat(257);
    let huge = "r".repeat(200 * 1024);
    let evaluation = r#"{"subject":{"type":"user","id":"anna"},"action":{"name":"use"},"resource":{"type":"ai_system","id":"copilot-chat"},"context":{"data":"intern"}}"#;
    let post = |path: &str, id: &str, body: &str| {
        server
            .client
            .post(server.url(path))
            .header("content-type", "application/json")
            .header("x-request-id", id)
            .body(body.to_string())
            .send()
    };
    for id in [long.as_str(), huge.as_str(), ""] {
        let response = post("/v1/decide", id, ANNA_COPILOT).await.unwrap();
        assert_eq!(response.status(), 400, "{} characters", id.len());
        assert!(response.headers().get("x-request-id").is_none());
        let (_, body) = read(response).await;
        assert_eq!(body["decision"], "deny", "{body}");
        let error = body["errors"][0].as_str().unwrap();
        assert!(
            error.contains("X-Request-ID") && error.contains("1 till 256 tecken"),
            "{error}"
        );

        let response = post("/access/v1/evaluation", id, evaluation).await.unwrap();
        assert_eq!(response.status(), 400, "{} characters", id.len());
        assert!(response.headers().get("x-request-id").is_none());
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        let text = response.text().await.unwrap();
        assert!(
            text.contains("X-Request-ID") && text.contains("1 till 256 tecken"),
            "{text}"
        );

        let response = server
            .client
            .get(server.url("/health/live"))
            .header("x-request-id", id)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let (_, body) = read(response).await;
        assert!(
            body["error"].as_str().unwrap().contains("X-Request-ID"),
            "{body}"
        );
    }
    // Twice is not once.
    let response = server
        .client
        .post(server.url("/v1/decide"))
        .header("content-type", "application/json")
        .header("x-request-id", "a")
        .header("x-request-id", "b")
        .body(ANNA_COPILOT)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // 256 characters are within the rule: echoed, and the AuthZEN query's requestId.
    let fine = "r".repeat(256);
    for (path, body) in [
        ("/v1/decide", ANNA_COPILOT),
        ("/access/v1/evaluation", evaluation),
    ] {
        let response = post(path, &fine, body).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["x-request-id"], fine.as_str());
    }
    server.stop().await;
}

/// Reads until the server closes the connection (or resets it); `false` if it is still open
/// after `bound`.
async fn closed_within(stream: &mut (impl tokio::io::AsyncRead + Unpin), bound: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(bound, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// A connection must finish its headers within `--request-timeout`: one that dribbles them a
/// byte at a time, one that sends nothing, and one that idles after its first answer are all
/// closed, and the server answers on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_do_not_finish_their_headers_are_closed() {
    let server = start(ServeArgs {
        request_timeout: Duration::from_secs(1),
        ..args()
    })
    .await;
    let bound = Duration::from_secs(10);
    let dribbler = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = dribbler.into_split();
    let dribble = tokio::spawn(async move {
        writer
            .write_all(b"POST /v1/decide HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await?;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            writer.write_all(b"a").await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    });
    let mut silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut idle = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut reader, bound).await,
        "a connection dribbling its headers was still open after {bound:?}"
    );
    assert!(
        closed_within(&mut silent, bound).await,
        "a connection that sent nothing was still open after {bound:?}"
    );
    assert!(
        closed_within(&mut idle, bound).await,
        "a connection idle after its answer was still open after {bound:?}"
    );
    dribble.abort();
    assert_eq!(server.post_json("/v1/decide", ANNA_COPILOT).await.0, 200);
    server.stop().await;
}

/// What the scripted store does with the next batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Fails (a full disk).
    Fail,
    /// Blocks until the mode changes (a commit that hangs).
    Block,
    /// Writes.
    Write,
}

/// A store the test steers, behind the real queue of `aipolicy-log`.
struct Script {
    mode: std::sync::Mutex<Mode>,
    changed: std::sync::Condvar,
    blocked: std::sync::atomic::AtomicBool,
    written: std::sync::Mutex<Vec<aipolicy_server::DecisionRecord>>,
}

impl Script {
    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
        self.changed.notify_all();
    }

    fn written(&self) -> Vec<String> {
        self.written
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.decision_id.clone())
            .collect()
    }
}

struct Scripted(Arc<Script>);

impl aipolicy_log::Store for Scripted {
    fn append(
        &mut self,
        records: &mut [aipolicy_server::DecisionRecord],
        _sync: bool,
    ) -> Result<(), aipolicy::log::LogError> {
        let mut mode = self.0.mode.lock().unwrap();
        loop {
            match *mode {
                Mode::Fail => {
                    return Err(aipolicy::log::LogError(
                        "jsonl:/var/lib/aipolicy/audit.jsonl: No space left on device".into(),
                    ))
                }
                Mode::Block => {
                    self.0
                        .blocked
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    mode = self.0.changed.wait(mode).unwrap();
                }
                Mode::Write => break,
            }
        }
        drop(mode);
        self.0
            .written
            .lock()
            .unwrap()
            .extend(records.iter().cloned());
        Ok(())
    }

    fn purge_before(&mut self, _: &str) -> Result<u64, aipolicy::log::LogError> {
        Ok(0)
    }
}

/// With `--log-sync`, a decision answered 503 because its record could not be written (in
/// time) is never written afterwards; one whose record was being committed when its time ran
/// out is given once the commit holds. The log holds exactly the decisions given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_answered_503_is_never_logged() {
    let script = Arc::new(Script {
        mode: std::sync::Mutex::new(Mode::Fail),
        changed: std::sync::Condvar::new(),
        blocked: std::sync::atomic::AtomicBool::new(false),
        written: std::sync::Mutex::new(Vec::new()),
    });
    let log = Arc::new(
        aipolicy_log::Log::start(
            "jsonl:/var/lib/aipolicy/audit.jsonl".into(),
            Box::new(Scripted(Arc::clone(&script))),
            aipolicy_log::QueueOptions {
                capacity: 64,
                when_full: aipolicy_log::WhenFull::Wait,
                sync: true,
                pseudonymizer: None,
                retention: aipolicy_log::Retention::Never,
            },
        )
        .unwrap(),
    );
    let server = start_with_sink(
        ServeArgs {
            request_timeout: Duration::from_millis(500),
            ..args()
        },
        Arc::clone(&log) as Arc<dyn aipolicy_server::AnswerSink>,
    )
    .await;
    let server = Arc::new(server);

    // The log cannot be written: 503, and the record is not written once it can be.
    let (status, body) = server.post_json("/v1/decide", ANNA_COPILOT).await;
    assert_eq!(
        (status, body["decision"].as_str()),
        (503, Some("deny")),
        "{body}"
    );
    script.set(Mode::Write);
    // Once the log has caught up with its queue, it is written again.
    for _ in 0..500 {
        if aipolicy::log::DecisionSink::queue_depth(&*log) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, given) = server.post_json("/v1/decide", ANNA_COPILOT).await;
    assert_eq!(status, 200, "{given}");
    let mut expected = vec![given["decisionId"].as_str().unwrap().to_string()];

    // The log hangs in a commit: the decision whose record is in it waits for the commit, and
    // one queued behind it runs out of time and is not written.
    script.set(Mode::Block);
    let first = {
        let server = Arc::clone(&server);
        tokio::spawn(async move { server.post_json("/v1/decide", ANNA_COPILOT).await })
    };
    for _ in 0..500 {
        if script.blocked.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(script.blocked.load(std::sync::atomic::Ordering::SeqCst));
    let (status, body) = server.post_json("/v1/decide", ANNA_COPILOT).await;
    assert_eq!(
        (status, body["decision"].as_str()),
        (503, Some("deny")),
        "{body}"
    );
    script.set(Mode::Write);
    let (status, given) = first.await.unwrap();
    assert_eq!(status, 200, "{given}");
    expected.push(given["decisionId"].as_str().unwrap().to_string());

    Arc::into_inner(server).unwrap().stop().await;
    log.close().unwrap();
    assert_eq!(script.written(), expected);
}

/// A personnummer in a query's text, as the service's log test and the CLI's use it: what
/// must never reach the log, in any of its spellings.
const PERSONNUMMER: &str = "19811218-9876";
const PERSONNUMMER_SPELLINGS: [&str; 3] = ["19811218", "811218-9876", "8112189876"];

/// A query about a text with a personnummer in it, over `/v1/decide` and `/v1/batch`, with a
/// PostgreSQL decision log: each record holds the kind found and the class it raised, it
/// verifies, and no row of the table holds the number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_is_logged_by_the_kinds_found_in_it_never_by_itself() {
    // The PostgreSQL client blocks (it runs a runtime of its own): never on this runtime, nor
    // is the schema made or dropped on it.
    let (schema, log) = tokio::task::spawn_blocking(move || {
        let schema = aipolicy_test_support::postgres_schema("aipolicy_test_service_found");
        let url = schema.url.clone();
        let log = aipolicy_log::Log::start(
            aipolicy_log::postgres::redacted(&url),
            Box::new(aipolicy_log::postgres::PostgresStore::open(&url).unwrap()),
            aipolicy_log::QueueOptions {
                capacity: 64,
                when_full: aipolicy_log::WhenFull::Wait,
                sync: true,
                pseudonymizer: None,
                retention: aipolicy_log::Retention::Never,
            },
        )
        .unwrap();
        (schema, log)
    })
    .await
    .unwrap();
    let log = Arc::new(log);
    let server = start_with_sink(
        args(),
        Arc::clone(&log) as Arc<dyn aipolicy_server::AnswerSink>,
    )
    .await;
    let query = format!(
        r#"{{"user":"anna","ai":"copilot-chat","data":"intern","text":"Ring {PERSONNUMMER} om ärendet."}}"#
    );
    let (status, decided) = server.post_json("/v1/decide", &query).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["found"][0]["kind"], "personnummer", "{decided}");
    let response = server
        .client
        .post(server.url("/v1/batch"))
        .header("content-type", "application/x-ndjson")
        .body(format!("{query}\n{ANNA_COPILOT}\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    server.stop().await;

    let (rows, records, verification) = tokio::task::spawn_blocking(move || {
        log.close().unwrap();
        let url = schema.url.clone();
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        // Each whole row as text: every column, whatever it is named.
        let rows: Vec<String> = client
            .query("SELECT d::text FROM decisions d ORDER BY seq", &[])
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        let records: Vec<(String, String)> = client
            .query("SELECT found, data FROM decisions ORDER BY seq", &[])
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let mut source = aipolicy_log::postgres::PostgresSource::open(&url).unwrap();
        let verification = aipolicy_log::audit::verify(&mut source, &mut |_, _| {}).unwrap();
        drop(schema);
        (rows, records, verification)
    })
    .await
    .unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in &rows {
        for spelling in PERSONNUMMER_SPELLINGS {
            assert!(!row.contains(spelling), "a row holds `{spelling}`: {row}");
        }
        assert!(!row.contains("Ring") && !row.contains("ärendet"), "{row}");
    }
    let about_the_text = (
        r#"["personnummer"]"#.to_string(),
        r#"["intern","personuppgifter"]"#.to_string(),
    );
    assert_eq!(
        records,
        [
            about_the_text.clone(),
            about_the_text,
            ("[]".to_string(), r#"["intern"]"#.to_string())
        ]
    );
    assert!(
        matches!(
            verification,
            aipolicy_log::audit::Verification::Whole { ref verified, .. } if verified.records == 3
        ),
        "{verification:?}"
    );
}
