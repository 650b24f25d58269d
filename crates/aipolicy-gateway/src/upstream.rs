//! Forwarding an allowed request to its AI system: the register's `endpoint` (nothing in a
//! request can name another host), the register's credential (read from a file or an
//! environment variable at each request, so that a rotated secret is used at once; never the
//! caller's token), and the answer streamed back piece by piece as it comes, never buffered.
//!
//! Timeouts: connecting (`--upstream-connect-timeout`, then 502), the answer's beginning
//! (`--upstream-timeout`, then 504) and each pause while it streams
//! (`--upstream-idle-timeout`, then the answer is cut off: a client sees a broken answer, never
//! a complete-looking one). A client that goes away drops the answer, and with it the
//! connection to the AI system.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use aipolicy::AiSystem;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, Request, StatusCode, Uri};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::OwnedSemaphorePermit;

use crate::error::GatewayError;

/// The largest credential file read.
const MAX_CREDENTIAL_BYTES: usize = 64 * 1024;

/// The client that reaches the AI systems.
#[derive(Clone)]
pub struct Upstream {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    first_byte: Duration,
    idle: Duration,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("first_byte", &self.first_byte)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

/// An answer being streamed from an AI system to the client.
pub struct Streamed {
    inner: hyper::body::Incoming,
    idle: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    system: Arc<str>,
    decision_id: Arc<str>,
    ended: bool,
    /// Held while the answer streams: a stream counts toward `--max-concurrent`.
    _permit: Option<OwnedSemaphorePermit>,
}

impl Upstream {
    /// A client with these timeouts; `Err` when TLS cannot be set up.
    pub fn new(
        connect: Duration,
        first_byte: Duration,
        idle: Duration,
    ) -> Result<Upstream, String> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect));
        // ring builds with a C compiler alone, where aws-lc-rs (whose key exchange is also
        // post-quantum) needs CMake; rustls marks ring's provider deprecated for that only.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)
            .map_err(|e| format!("cannot set up TLS for the AI systems' endpoints: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Upstream {
            client,
            first_byte,
            idle,
        })
    }

    /// Sends `body` to `system`'s endpoint for `operation`, with the register's credential;
    /// the answer's head, its body streaming. `permit` is held until the body ends.
    pub async fn send(
        &self,
        system: &AiSystem,
        operation: &str,
        body: Vec<u8>,
        accept: Option<&HeaderValue>,
        decision_id: &str,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Result<axum::response::Response, GatewayError> {
        let endpoint = system.endpoint.as_deref().ok_or_else(|| {
            GatewayError::not_found(
                "model_not_reachable",
                format!("AI system `{}` has no endpoint in the register", system.id),
            )
        })?;
        let uri = url(endpoint, operation).map_err(|e| {
            tracing::error!(ai = %system.id, "the register's endpoint cannot be used: {e}");
            GatewayError::bad_gateway(
                "upstream_misconfigured",
                format!(
                    "the register's endpoint of AI system `{}` cannot be used: {e}",
                    system.id
                ),
            )
        })?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::USER_AGENT,
                concat!("aipolicy-gateway/", env!("CARGO_PKG_VERSION")),
            )
            .header(
                header::ACCEPT,
                accept
                    .cloned()
                    .unwrap_or(HeaderValue::from_static("application/json")),
            )
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| GatewayError::bad_gateway("upstream_misconfigured", e.to_string()))?;
        if let Some((name, value)) = credential(system)? {
            request.headers_mut().insert(name, value);
        }
        let sent = tokio::time::timeout(self.first_byte, self.client.request(request)).await;
        let response = match sent {
            Err(_) => {
                tracing::warn!(ai = %system.id, decision_id, "the AI system did not begin its answer within {} ms", self.first_byte.as_millis());
                return Err(GatewayError::gateway_timeout(format!(
                    "AI system `{}` did not begin its answer within {} s (--upstream-timeout); the request was allowed but not answered",
                    system.id,
                    self.first_byte.as_secs_f64()
                ))
                .with_header("x-aipolicy-decision-id", decision_id));
            }
            Ok(Err(e)) => {
                let why = cause(&e);
                tracing::warn!(ai = %system.id, decision_id, "the AI system could not be reached or answered garbage: {why}");
                let (code, what) = if e.is_connect() {
                    ("upstream_unreachable", "could not be reached")
                } else {
                    ("upstream_garbled", "did not give a readable HTTP answer")
                };
                return Err(GatewayError::bad_gateway(
                    code,
                    format!(
                        "AI system `{}` {what} ({why}); the request was allowed but not answered",
                        system.id
                    ),
                )
                .with_header("x-aipolicy-decision-id", decision_id));
            }
            Ok(Ok(response)) => response,
        };
        let (parts, incoming) = response.into_parts();
        let status = match parts.status {
            // The AI system refused the gateway's own credential: the caller cannot mend that,
            // and a 401 or 403 passed on would read as the caller's token, or as the policy.
            StatusCode::UNAUTHORIZED
            | StatusCode::FORBIDDEN
            | StatusCode::PROXY_AUTHENTICATION_REQUIRED => {
                tracing::error!(ai = %system.id, decision_id, status = parts.status.as_u16(), "the AI system refused the register's credential");
                return Err(GatewayError::bad_gateway(
                    "upstream_refused_credential",
                    format!("AI system `{}` refused the gateway's credential (HTTP {}); the register's `credential` needs mending", system.id, parts.status.as_u16()),
                )
                .with_header("x-aipolicy-decision-id", decision_id));
            }
            status => status,
        };
        let mut response = axum::response::Response::new(axum::body::Body::new(Streamed {
            inner: incoming,
            idle: self.idle,
            timer: Box::pin(tokio::time::sleep(self.idle)),
            system: system.id.as_str().into(),
            decision_id: decision_id.into(),
            ended: false,
            _permit: permit,
        }));
        *response.status_mut() = status;
        copy_headers(&parts.headers, response.headers_mut());
        Ok(response)
    }
}

/// The URL of `operation` under `endpoint` (its query, such as Azure's `api-version`, kept).
pub fn url(endpoint: &str, operation: &str) -> Result<Uri, String> {
    let uri: Uri = endpoint
        .parse()
        .map_err(|e| format!("`{endpoint}` is not a URL: {e}"))?;
    let scheme = uri.scheme_str().unwrap_or_default();
    if scheme != "http" && scheme != "https" {
        return Err(format!("`{endpoint}`: expected an http or https URL"));
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("`{endpoint}`: no host"))?;
    let path = uri.path().trim_end_matches('/');
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}{path}/{operation}{query}")
        .parse()
        .map_err(|e| format!("`{endpoint}`: {e}"))
}

/// The register's credential of `system` as a header: `Authorization: Bearer SECRET` unless
/// the register names another header (`api-key` for Azure: `api-key: SECRET`). `None` when the
/// register gives no credential (a local model server). A credential that cannot be read is an
/// error: the request is not forwarded without it.
fn credential(system: &AiSystem) -> Result<Option<(HeaderName, HeaderValue)>, GatewayError> {
    let Some(credential) = &system.credential else {
        return Ok(None);
    };
    let fail = |why: String| {
        tracing::error!(ai = %system.id, "the credential cannot be read: {why}");
        GatewayError::bad_gateway(
            "upstream_credential",
            format!("the gateway cannot read the credential of AI system `{}` ({why}); the request was allowed but not forwarded", system.id),
        )
    };
    let secret = match (&credential.env, &credential.file) {
        (Some(name), _) => std::env::var(name)
            .map_err(|_| fail(format!("the environment variable `{name}` is not set")))?,
        (None, Some(path)) => aipolicy::io::read::read_text_file(
            std::path::Path::new(path),
            "credential file",
            MAX_CREDENTIAL_BYTES,
        )
        .map_err(|e| fail(format!("`{path}`: {e}")))?
        .map_err(|problem| fail(format!("`{path}`: {}", problem.message)))?,
        (None, None) => return Err(fail("the register names neither `env` nor `file`".into())),
    };
    // A file's first line, as the register's `credential.file` says.
    let secret = secret.lines().next().unwrap_or_default().trim();
    if secret.is_empty() {
        return Err(fail("it is empty".into()));
    }
    let (name, value) = match &credential.header {
        None => (header::AUTHORIZATION, format!("Bearer {secret}")),
        Some(name) => (
            HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| fail(format!("`{name}` is not a header name")))?,
            secret.to_string(),
        ),
    };
    let mut value = HeaderValue::from_str(&value)
        .map_err(|_| fail("it holds characters a header cannot carry".into()))?;
    value.set_sensitive(true);
    Ok(Some((name, value)))
}

/// The headers of the AI system's answer passed on: all but those of the connection, its
/// length (the body sets it) and any `X-AIPolicy-*` (the gateway's own say what was decided).
fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    const DROPPED: [&str; 9] = [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    ];
    for (name, value) in from {
        let name_str = name.as_str();
        if DROPPED.contains(&name_str) || name_str.starts_with("x-aipolicy-") {
            continue;
        }
        to.append(name.clone(), value.clone());
    }
}

/// The innermost cause of an error, for a message.
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        last = inner.to_string();
        source = inner.source();
    }
    last
}

impl Body for Streamed {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = tokio::time::Instant::now() + this.idle;
                this.timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.ended = true;
                tracing::warn!(ai = %this.system, decision_id = %this.decision_id, "the AI system's answer broke off: {}; the client's answer is cut off", cause(&e));
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                this.ended = true;
                Poll::Ready(None)
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.ended = true;
                    tracing::warn!(ai = %this.system, decision_id = %this.decision_id, "the AI system's answer paused longer than {} ms (--upstream-idle-timeout); the client's answer is cut off", this.idle.as_millis());
                    Poll::Ready(Some(Err(format!(
                        "the AI system's answer paused longer than {} ms",
                        this.idle.as_millis()
                    )
                    .into())))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Streamed {
    fn drop(&mut self) {
        if !self.ended {
            // The client went away (or the gateway is shutting down): the connection to the AI
            // system is dropped with this body, so a never-ending answer ends here.
            tracing::info!(ai = %self.system, decision_id = %self.decision_id, "the answer was dropped before it ended (the client went away); the AI system's connection is closed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_under_the_endpoint() {
        assert_eq!(
            url("http://127.0.0.1:8000/v1", "chat/completions")
                .unwrap()
                .to_string(),
            "http://127.0.0.1:8000/v1/chat/completions"
        );
        assert_eq!(
            url("https://x.openai.azure.com/openai/v1/", "embeddings")
                .unwrap()
                .to_string(),
            "https://x.openai.azure.com/openai/v1/embeddings"
        );
        assert_eq!(
            url("https://x.openai.azure.com/openai/deployments/gpt?api-version=2024-10-21", "chat/completions")
                .unwrap()
                .to_string(),
            "https://x.openai.azure.com/openai/deployments/gpt/chat/completions?api-version=2024-10-21"
        );
        assert!(url("ftp://x/v1", "embeddings")
            .unwrap_err()
            .contains("http or https"));
        assert!(url("/v1", "embeddings").is_err());
    }
}
