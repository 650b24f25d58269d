//! The gateway over real HTTP: each test starts a fake AI system of its own (`upstream`, which
//! records what it receives) and a gateway in front of it on ephemeral loopback ports, and
//! calls the gateway with an HTTP client.
//!
//! - `proxy`: allowed requests forwarded and streamed through, refused ones never forwarded,
//!   who asks (tokens, named users, the sign-in proxy's header), `/v1/models`, the decision log;
//! - `bad_input`: bodies too large, not UTF-8, not JSON, content that cannot be read; AI
//!   systems that are down, hang, answer garbage or never end; a client that goes away;
//! - `ext_authz`: Envoy's HTTP ext_authz protocol, with requests shaped as Envoy sends them.
//!
//! (The official `openai` Python client against the gateway: `crates/aipolicy-gateway/tests/openai/`,
//! run by `crates/aipolicy-cli/tests/gateway_openai.rs`.)

#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod bad_input;
mod ext_authz;
mod proxy;
mod upstream;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aipolicy_gateway::{Bound, GatewayArgs};
use aipolicy_server::State;
use serde_json::Value;
use upstream::{Fake, Mode};

/// A personnummer with a valid check digit (Skatteverket's test number).
pub const PERSONNUMMER: &str = "19121212-1212";

/// The secret the register's credential file holds for `copilot-chat`.
pub const UPSTREAM_SECRET: &str = "sk-register-secret";

/// The callers' secrets.
pub const CHAT_APP: &str = "chat-app-secret";
pub const INTEGRATION: &str = "integration-secret";

/// A gateway running in this process, in front of a fake AI system.
pub struct Running {
    pub base: String,
    pub client: reqwest::Client,
    pub state: Arc<State>,
    pub fake: Fake,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// The register of the tests: the Askersund register's data classes (with what their text
/// finders map to) and users, and AI systems that the gateway reaches at `endpoint`:
/// `chatgpt` (public AI), `copilot-chat` (internal, for internal information, with a credential
/// in a file, answering to the model name `gpt-4o`), `lokal-utan-endpoint` (no endpoint), and
/// `nere` (an endpoint where nothing listens).
pub fn register(endpoint: &str, dir: &std::path::Path) -> PathBuf {
    let askersund = std::fs::read_to_string(aipolicy_test_support::repo(
        "examples/askersund/register.yaml",
    ))
    .unwrap();
    let before = &askersund[..askersund.find("\naiSystems:").unwrap()];
    let users = &askersund[askersund.find("\nusers:").unwrap()..];
    let key = dir.join("copilot.key");
    std::fs::write(&key, format!("{UPSTREAM_SECRET}\n")).unwrap();
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down_port = down.local_addr().unwrap().port();
    drop(down);
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
    credential: {{file: {key}}}
  - id: lokal-utan-endpoint
    hosting: internal
    approved: true
    owner: IT-chef
    verified: true
    maxDataLevel: 1
    aiActRisk: minimal
  - id: nere
    hosting: internal
    approved: true
    owner: IT-chef
    verified: true
    maxDataLevel: 1
    aiActRisk: minimal
    endpoint: http://127.0.0.1:{down_port}/v1
"#,
        key = key.display()
    );
    let path = dir.join("register.yaml");
    std::fs::write(&path, format!("{before}\n{systems}{users}")).unwrap();
    path
}

/// A token file: `chat-app` may name its users, `integration` may not, `anna` asks as herself.
pub fn tokens(dir: &std::path::Path) -> PathBuf {
    use aipolicy_server::tokens::hash_secret;
    let path = dir.join("tokens");
    std::fs::write(
        &path,
        format!(
            "chat-app {} names-users\nintegration {}\nanna {}\n",
            hash_secret(CHAT_APP),
            hash_secret(INTEGRATION),
            hash_secret("anna-secret")
        ),
    )
    .unwrap();
    path
}

/// Arguments for a test gateway: ephemeral port, the tests' register and tokens, short
/// upstream timeouts, the tests' day.
pub fn args(register: PathBuf, tokens: PathBuf) -> GatewayArgs {
    GatewayArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        register: Some(register),
        policies: Some(aipolicy_test_support::repo("policies")),
        schema: Some(aipolicy_test_support::repo("schemas/aipolicy.cedarschema")),
        token_file: Some(tokens),
        watch: Duration::ZERO,
        quiet: true,
        upstream_connect_timeout: Duration::from_secs(2),
        upstream_timeout: Duration::from_millis(800),
        upstream_idle_timeout: Duration::from_millis(800),
        clock: aipolicy::Clock::fixed(
            aipolicy::clock::parse_date(aipolicy_test_support::TODAY).unwrap(),
        ),
        ..GatewayArgs::default()
    }
}

/// Starts a fake AI system in `mode` and a gateway in front of it, changing its arguments
/// with `change`, with an optional decision log; waits until the policy is loaded.
pub async fn start_with(
    mode: Mode,
    change: impl FnOnce(&mut GatewayArgs),
    sink: Option<Arc<dyn aipolicy_server::AnswerSink>>,
) -> Running {
    let fake = Fake::start(mode).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = args(register(&fake.endpoint(), dir.path()), tokens(dir.path()));
    change(&mut args);
    let mut bound = Bound::bind(args).await.unwrap();
    if let Some(sink) = sink {
        bound = bound.with_sink(sink);
    }
    let addr = bound.local_addr().unwrap();
    let state = bound.state();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(bound.run(async {
        let _ = rx.await;
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
    Running {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap(),
        state,
        fake,
        dir,
        stop: Some(tx),
        handle: Some(handle),
    }
}

/// A gateway in front of a fake AI system that answers.
pub async fn start() -> Running {
    start_with(Mode::Answer, |_| {}, None).await
}

/// A chat completion body for `model` with one user message.
pub fn chat(model: &str, text: &str, stream: bool) -> String {
    serde_json::json!({
        "model": model,
        "stream": stream,
        "messages": [
            {"role": "system", "content": "Du är kommunens assistent."},
            {"role": "user", "content": text},
        ],
    })
    .to_string()
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A POST of `body` as JSON to `path` as the caller `secret`, with `headers`.
    pub fn post(
        &self,
        path: &str,
        secret: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .post(self.url(path))
            .bearer_auth(secret)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
    }

    /// POSTs a chat completion as `chat-app` for `user` declaring `data`; status, headers, body.
    pub async fn ask(
        &self,
        user: &str,
        data: Option<&str>,
        body: &str,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut headers = vec![("x-aipolicy-user", user)];
        if let Some(data) = data {
            headers.push(("x-aipolicy-data", data));
        }
        let response = self
            .post("/v1/chat/completions", CHAT_APP, &headers, body.to_string())
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// Stops it and waits for it to end.
    pub async fn stop(mut self) {
        self.fake
            .stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
    }
}

/// The status, headers and body (JSON, or the text as a JSON string) of a response.
pub async fn read(response: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, value)
}

/// The `error` object of an OpenAI-style error body, with its `type` and `code`.
pub fn error_of(body: &Value) -> (&str, &str, &str) {
    let error = &body["error"];
    (
        error["type"].as_str().unwrap_or_default(),
        error["code"].as_str().unwrap_or_default(),
        error["message"].as_str().unwrap_or_default(),
    )
}
