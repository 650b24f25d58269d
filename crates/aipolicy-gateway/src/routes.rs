//! The gateway's endpoints: the OpenAI-compatible ones (`/v1/chat/completions`,
//! `/v1/embeddings`, `/v1/models`), Envoy's ext_authz (`/ext-authz/…`) and health.

use std::sync::Arc;
use std::time::Instant;

use aipolicy::{Action, Query, Verdict};
use aipolicy_server::http::Dialect;
use aipolicy_server::record::Recorder;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::json;

use crate::decide::{self, Begun, Decided, Reach};
use crate::error::GatewayError;
use crate::openai::Operation;
use crate::Gateway;

/// The path prefix of Envoy's ext_authz HTTP service (`path_prefix` in Envoy's configuration):
/// Envoy asks `/ext-authz` + the original path.
pub const EXT_AUTHZ_PREFIX: &str = "/ext-authz";

/// The router of every endpoint.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/models", get(models))
        .route("/ext-authz", any(ext_authz))
        .route("/ext-authz/{*path}", any(ext_authz))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(gateway)
}

async fn chat(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    gateway.proxy(Operation::Chat, request).await
}

async fn embeddings(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    gateway.proxy(Operation::Embeddings, request).await
}

impl Gateway {
    /// Takes a place, lets the caller in and reads the body (`json_only`: its `Content-Type`
    /// must say JSON; Envoy's ext_authz does not send one by default).
    async fn begin(&self, request: Request, json_only: bool) -> Result<Begun, GatewayError> {
        let permit = Arc::clone(&self.state.concurrency)
            .try_acquire_owned()
            .map_err(|_| {
                GatewayError::unavailable(
                    "overloaded",
                    format!(
                        "the gateway is answering its limit of {} requests at once (--max-concurrent); retry shortly",
                        self.state.config.max_concurrent
                    ),
                )
            })?;
        let deadline = Instant::now() + self.state.config.request_timeout;
        let policy = self.state.current().ok_or_else(|| {
            GatewayError::unavailable(
                "not_ready",
                "no policy is loaded yet, so nothing is decided or forwarded; retry shortly",
            )
        })?;
        let (parts, body) = request.into_parts();
        let asker = self.asker(&parts.headers, policy.engine.register())?;
        let types: &[&str] = if json_only {
            &["application/json"]
        } else {
            &[]
        };
        let body = if json_only {
            aipolicy_server::http::read_body(
                &parts.headers,
                body,
                types,
                self.settings.max_body,
                Dialect::Plain,
            )
            .await
            .map_err(|e| GatewayError::from_api(&e))?
        } else {
            read_any(body, self.settings.max_body).await?
        };
        Ok(Begun {
            permit,
            asker,
            policy,
            headers: parts.headers,
            body,
            deadline,
        })
    }

    /// Decides a request and, allowed, forwards it to the AI system and streams its answer
    /// back; refused, answers 403 and forwards nothing.
    async fn proxy(self: Arc<Self>, operation: Operation, request: Request) -> Response {
        let timeout = self.state.config.request_timeout;
        let decided = tokio::time::timeout(timeout, async {
            let begun = self.begin(request, true).await?;
            let decided = self.decide(&begun, operation, Reach::Forward).await?;
            Ok::<_, GatewayError>((decided, begun.permit, begun.headers))
        })
        .await;
        let (decided, permit, headers) = match decided {
            Err(_) => return timed_out(timeout).into_response(),
            Ok(Err(e)) => return e.into_response(),
            Ok(Ok(decided)) => decided,
        };
        if decided.decision.decision != Verdict::Allow {
            return decide::refusal(&decided).into_response();
        }
        let body = match serde_json::to_vec(&decided.body) {
            Ok(body) => body,
            Err(e) => {
                return GatewayError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    crate::error::SERVER,
                    "internal",
                    format!("the request could not be written for the AI system: {e}"),
                )
                .into_response()
            }
        };
        let sent = self
            .upstream
            .send(
                &decided.system,
                operation.path(),
                body,
                headers.get(header::ACCEPT),
                &decided.decision_id,
                Some(permit),
            )
            .await;
        match sent {
            Ok(mut response) => {
                add_decision_headers(response.headers_mut(), &decided);
                response
            }
            Err(e) => e.into_response(),
        }
    }
}

/// Within `--request-timeout`, nothing was decided: 503, nothing forwarded.
fn timed_out(limit: std::time::Duration) -> GatewayError {
    GatewayError::unavailable(
        "timeout",
        format!(
            "the request was not sent and decided within {} ms (--request-timeout); nothing was forwarded",
            limit.as_millis()
        ),
    )
}

/// What an allowed answer carries: the decision's id, the policy revision, the duties (policy
/// ids: ASCII, where paragraph codes are not) and the kinds of information found.
fn add_decision_headers(headers: &mut HeaderMap, decided: &Decided) {
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    put("x-aipolicy-decision-id", decided.decision_id.clone());
    put(
        "x-aipolicy-policy-revision",
        decided.policy.revision.to_string(),
    );
    let duties: Vec<&str> = decided
        .decision
        .obligations
        .iter()
        .map(|o| &*o.policy)
        .collect();
    if !duties.is_empty() {
        put("x-aipolicy-duties", duties.join(", "));
    }
    let found = decide::kinds_found(&decided.decision);
    if !found.is_empty() {
        put("x-aipolicy-found", found.join(", "));
    }
}

/// A body of any type, at most `limit` bytes (413 beyond).
async fn read_any(body: Body, limit: usize) -> Result<bytes::Bytes, GatewayError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(cause) = source {
            if cause.is::<http_body_util::LengthLimitError>() {
                return GatewayError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    crate::error::INVALID_REQUEST,
                    "request_too_large",
                    format!(
                        "the request body is larger than the limit of {limit} bytes (--max-body)"
                    ),
                );
            }
            source = cause.source();
        }
        GatewayError::bad_request(
            "invalid_request",
            format!("the request body could not be read: {e}"),
        )
    })
}

/// `GET /v1/models`: the AI systems with an endpoint that this caller's user may use now, each
/// by its id and by every name of its `models`. "May use now" is decided as a `use` of the
/// classes the caller declares (`X-AIPolicy-Data`), else of `--default-data`, else of the
/// register's lowest class: the least a conversation can hold. Each decision is logged, as a
/// resource search of `aipolicy serve` is.
async fn models(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    match gateway.list_models(request).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

impl Gateway {
    async fn list_models(&self, request: Request) -> Result<Response, GatewayError> {
        let begun = self.begin(request, false).await?;
        let register = begun.policy.engine.register();
        let data = if !begun.asker.data.is_empty() {
            begun.asker.data.clone()
        } else if let Some(class) = &self.settings.default_data {
            vec![class.clone()]
        } else {
            register
                .data_classes()
                .iter()
                .min_by_key(|c| c.level)
                .map(|c| vec![c.id.clone()])
                .unwrap_or_default()
        };
        let recorder = Recorder::open();
        let mut listed = Vec::new();
        for system in register
            .ai_systems()
            .iter()
            .filter(|s| s.endpoint.is_some())
        {
            let query = Query::new(begun.asker.user.clone(), system.id.clone(), data.clone())
                .with_action(Action::Use);
            let decision = begun
                .policy
                .engine
                .decide_memoized(&query, begun.asker.language, &begun.policy.memo)
                .map_err(|e| {
                    GatewayError::bad_request(
                        "undecidable",
                        e.problems
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; "),
                    )
                })?;
            self.state.record(
                &recorder,
                &begun.policy,
                &begun.asker.caller,
                Some(&query),
                &decision,
            );
            if decision.is_allowed() {
                let owner = system.owner.clone().unwrap_or_else(|| "aipolicy".into());
                for name in std::iter::once(&system.id).chain(&system.models) {
                    listed.push(json!({
                        "id": name,
                        "object": "model",
                        "created": 0,
                        "owned_by": owner,
                    }));
                }
            }
        }
        self.state
            .hand_over(&recorder, begun.deadline)
            .await
            .map_err(|e| {
                tracing::error!("the answer is not given (--log-sync): {e}");
                GatewayError::unavailable(
                    "decision_log",
                    "the decisions could not be written to the decision log in time (--log-sync); retry shortly",
                )
            })?;
        Ok(axum::Json(json!({"object": "list", "data": listed})).into_response())
    }
}

/// Envoy's ext_authz HTTP service: Envoy sends the original request's method, its path under
/// [`EXT_AUTHZ_PREFIX`], its headers (those `allowed_headers` lets through; `Authorization`
/// always) and, with `with_request_body`, its body. 200 lets Envoy forward it (with the
/// decision's headers, for `allowed_upstream_headers`); any other status is Envoy's answer to
/// the client: 403 with the OpenAI-style refusal, 400 for what cannot be read.
async fn ext_authz(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    match gateway.authorize_for_envoy(request).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

impl Gateway {
    async fn authorize_for_envoy(&self, request: Request) -> Result<Response, GatewayError> {
        let path = request
            .uri()
            .path()
            .strip_prefix(EXT_AUTHZ_PREFIX)
            .unwrap_or_default()
            .to_string();
        let Some(operation) = Operation::of_path(&path) else {
            return Err(GatewayError::forbidden(
                "not_decided",
                format!(
                    "`{} {path}` is not a request the gateway decides on (chat completions and embeddings): refused; let Envoy skip ext_authz on other routes",
                    request.method()
                ),
            ));
        };
        if request.method() != axum::http::Method::POST {
            return Err(GatewayError::forbidden(
                "not_decided",
                format!(
                    "`{} {path}`: only POST is decided; refused",
                    request.method()
                ),
            ));
        }
        // Envoy cut the body at `max_request_bytes` (`allow_partial_message`): what was cut off
        // cannot be read, so the request is not let through.
        if request
            .headers()
            .get("x-envoy-auth-partial-body")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
        {
            return Err(GatewayError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                crate::error::INVALID_REQUEST,
                "request_too_large",
                "Envoy sent only part of the request's body (allow_partial_message), so its text cannot all be read; raise with_request_body.max_request_bytes",
            ));
        }
        let timeout = self.state.config.request_timeout;
        let decided = tokio::time::timeout(timeout, async {
            let begun = self.begin(request, false).await?;
            self.decide(&begun, operation, Reach::Decide).await
        })
        .await
        .map_err(|_| timed_out(timeout))??;
        if decided.decision.decision != Verdict::Allow {
            return Err(decide::refusal(&decided));
        }
        let mut response = StatusCode::OK.into_response();
        add_decision_headers(response.headers_mut(), &decided);
        Ok(response)
    }
}

async fn live() -> Response {
    axum::Json(json!({"status": "live"})).into_response()
}

async fn ready(State(gateway): State<Arc<Gateway>>) -> Response {
    match gateway.state.current() {
        Some(policy) => axum::Json(json!({"status": "ready", "policyRevision": &*policy.revision}))
            .into_response(),
        None => GatewayError::unavailable("not_ready", "no policy is loaded yet").into_response(),
    }
}

async fn method_not_allowed(request: Request) -> Response {
    GatewayError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        crate::error::INVALID_REQUEST,
        "method_not_allowed",
        format!(
            "`{} {}` is not served: /v1/models takes GET, the others POST",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

async fn not_found(request: Request) -> Response {
    GatewayError::not_found(
        "unknown_url",
        format!(
            "no endpoint `{} {}`; the gateway serves POST /v1/chat/completions, POST /v1/embeddings and GET /v1/models",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}
