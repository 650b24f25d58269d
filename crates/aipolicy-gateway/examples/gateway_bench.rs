//! The gateway's benchmark (BENCHMARKS.md, run by `bench/run.sh`): a fake AI system and a
//! gateway in front of it, in this process, for the open-loop load tool
//! (`aipolicy-server`'s `load` example) to drive directly and through the gateway.
//!
//! - The fake AI system is a minimal hyper server on a thread and runtime of its own (so the
//!   gateway's runtime does not serve it): `POST /v1/chat/completions` answers a fixed small
//!   chat completion at once, or, when the request asks `"stream": true`, an SSE answer of
//!   `STREAM_MB` MiB (10 unless told) in 64 KiB events, pausing `CHUNK_PAUSE_MS` (2 unless
//!   told) between them: a model that answers slower than loopback can carry, so the gateway
//!   must hold the answer back rather than let it pile up.
//! - The gateway is `aipolicy gateway` as the command runs it (`Bound::bind`, `run`), quiet,
//!   with no decision log, the repository's policies and schema, and a register of the
//!   Askersund data classes and users with `copilot-chat` (internal) and `chatgpt` (public)
//!   at the fake's endpoint. One caller, `bench` (token `bench-secret`), may name users.
//!
//! Prints `upstream URL`, `gateway URL` and `pid PID` (for sampling `VmRSS`), then serves
//! until its standard input closes.
//!
//! ```sh
//! cargo run --release -p aipolicy-gateway --example gateway_bench
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark tool
#![allow(missing_docs)]

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aipolicy_gateway::{Bound, GatewayArgs};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The caller's secret the load tool sends.
const SECRET: &str = "bench-secret";

/// A chat completion's fixed answer: small, as a short model reply is.
const ANSWER: &str = r#"{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hej från modellen"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}"#;

/// The size of one SSE event of the streamed answer.
const CHUNK: usize = 64 * 1024;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().unwrap())
}

/// One SSE event of `CHUNK` bytes: a chat completion chunk whose content pads it.
fn event() -> Bytes {
    let head = r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":""#;
    let tail = "\"},\"finish_reason\":null}]}\n\n";
    let pad = CHUNK - head.len() - tail.len();
    Bytes::from(format!("{head}{}{tail}", "a".repeat(pad)))
}

async fn answer(
    request: Request<Incoming>,
    stream_bytes: u64,
    pause: Duration,
) -> Result<Response<BoxBody<Bytes, Infallible>>, Infallible> {
    let body = request.into_body().collect().await.map(|b| b.to_bytes());
    let asked_stream = body
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("stream").and_then(serde_json::Value::as_bool))
        .unwrap_or(false);
    if !asked_stream {
        return Ok(Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(ANSWER.as_bytes())).boxed())
            .unwrap());
    }
    let chunks = stream_bytes.div_ceil(CHUNK as u64);
    let event = event();
    let events = futures_util::stream::unfold(0u64, move |sent| {
        let event = event.clone();
        async move {
            if sent > chunks {
                return None;
            }
            if sent == chunks {
                let done = Bytes::from_static(b"data: [DONE]\n\n");
                return Some((Ok::<_, Infallible>(Frame::data(done)), sent + 1));
            }
            if sent > 0 {
                tokio::time::sleep(pause).await;
            }
            Some((Ok(Frame::data(event)), sent + 1))
        }
    });
    Ok(Response::builder()
        .header("content-type", "text/event-stream")
        .body(BodyExt::boxed(StreamBody::new(events)))
        .unwrap())
}

/// Starts the fake AI system on a thread of its own; its address.
fn start_upstream(stream_bytes: u64, pause: Duration) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        answer(request, stream_bytes, pause)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

/// The register: the Askersund data classes and users, and two AI systems at `endpoint`.
fn register(endpoint: &str, dir: &Path) -> PathBuf {
    let askersund = std::fs::read_to_string(repo("examples/askersund/register.yaml")).unwrap();
    let before = &askersund[..askersund.find("\naiSystems:").unwrap()];
    let users = &askersund[askersund.find("\nusers:").unwrap()..];
    let systems = format!(
        r#"
aiSystems:
  - id: chatgpt
    name: ChatGPT (gratisversion på webben)
    hosting: public
    approved: false
    maxDataLevel: 0
    aiActRisk: limited
    endpoint: {endpoint}
    models: [gpt-4o-mini]
  - id: copilot-chat
    name: Microsoft 365 Copilot Chat
    hosting: internal
    approved: true
    owner: IT-chef
    verified: true
    maxDataLevel: 1
    userGroups: [employee, elected]
    aiActRisk: limited
    endpoint: {endpoint}
    models: [gpt-4o]
"#
    );
    let path = dir.join("register.yaml");
    std::fs::write(&path, format!("{before}\n{systems}{users}")).unwrap();
    path
}

fn main() {
    let stream_bytes = env_or("STREAM_MB", 10) * 1024 * 1024;
    let pause = Duration::from_millis(env_or("CHUNK_PAUSE_MS", 2));
    let upstream = start_upstream(stream_bytes, pause);
    let dir = std::env::temp_dir().join(format!("gateway_bench.{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tokens = dir.join("tokens");
    std::fs::write(
        &tokens,
        format!(
            "bench {} names-users\n",
            aipolicy_server::tokens::hash_secret(SECRET)
        ),
    )
    .unwrap();
    let args = GatewayArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        register: Some(register(&format!("http://{upstream}/v1"), &dir)),
        policies: Some(repo("policies")),
        schema: Some(repo("schemas/aipolicy.cedarschema")),
        token_file: Some(tokens),
        watch: Duration::ZERO,
        quiet: true,
        ..GatewayArgs::default()
    };
    // The runtime `aipolicy gateway` runs on: multi-threaded, a worker a core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let bound = Bound::bind(args).await.unwrap();
        let addr = bound.local_addr().unwrap();
        let state = bound.state();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(bound.run(async {
            let _ = stopped.await;
        }));
        for _ in 0..500 {
            if state.current().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            state.current().is_some(),
            "the gateway did not load its policy: {:?}",
            state.last_error()
        );
        println!("upstream http://{upstream}");
        println!("gateway http://{addr}");
        println!("pid {}", std::process::id());
        // Serve until the standard input closes (the script's end), then stop cleanly.
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        })
        .await
        .unwrap();
        let _ = stop.send(());
        let _ = serving.await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
