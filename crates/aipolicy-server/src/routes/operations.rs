//! The operations endpoints: `GET /health/live`, `/health/ready`, `/metrics`, `/v1/status`
//! and `POST /v1/admin/reload`.

use std::sync::Arc;

use axum::extract::{FromRequestParts, State as AxState};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::http::{self, CallerSlot, Dialect};
use crate::state::State;
use crate::tokens::Caller;

/// A caller let in by its token; with `ADMIN`, only one whose token is an admin's (403 else).
pub(super) struct Admitted<const ADMIN: bool>(pub Caller);

impl<const ADMIN: bool> FromRequestParts<Arc<State>> for Admitted<ADMIN> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Self, Response> {
        let caller = http::authorize(state, &parts.headers, Dialect::Plain, ADMIN)
            .map_err(IntoResponse::into_response)?;
        CallerSlot::fill(&parts.extensions, &caller);
        Ok(Admitted(caller))
    }
}

/// `GET /health/live`: the process answers.
pub(super) async fn live() -> Response {
    Json(json!({"status": "live"})).into_response()
}

/// `GET /health/ready`: a policy is loaded (503 until the first good load).
pub(super) async fn ready(AxState(state): AxState<Arc<State>>) -> Response {
    match state.current() {
        Some(policy) => {
            Json(json!({"status": "ready", "policyRevision": &*policy.revision})).into_response()
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "not ready", "error": "no policy is loaded yet; see /v1/status"}),
            ),
        )
            .into_response(),
    }
}

/// `GET /metrics`.
pub(super) async fn metrics(AxState(state): AxState<Arc<State>>) -> Response {
    let text = state.metrics.render(&state.gauges());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `GET /v1/status`.
pub(super) async fn status(AxState(state): AxState<Arc<State>>, _: Admitted<false>) -> Response {
    let current = state.current();
    let (good, failed) = state.metrics.reloads();
    let cwd = std::env::current_dir().unwrap_or_default();
    let body = json!({
        "ready": current.is_some(),
        "policyRevision": current.as_ref().map(|c| &*c.revision),
        "loadedAt": current.as_ref().map(|c| crate::time::rfc3339(c.loaded_at)),
        "lastReloadError": state.last_error(),
        "lastReloadAt": state.last_reload(),
        "reloads": {"success": good, "failure": failed},
        // Null without a token file.
        "tokenFile": state.tokens.as_ref().map(crate::tokens::TokenFile::status),
        "inputs": state.inputs.describe(&cwd),
        // The day decisions are made at, and whether a fixed clock (AIPOLICY_TODAY) holds it.
        "day": state.config.clock.today().to_string(),
        "dayFixed": state.config.clock.is_fixed(),
        "startedAt": crate::time::rfc3339(state.started),
        "uptimeSeconds": state.uptime(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    Json(body).into_response()
}

/// `POST /v1/admin/reload`: reload now (an admin token). 200 with the revision in force (and
/// the token file's result), or 422 when the policy or the token file failed, with the error
/// (the old policy still serving; a broken token file letting in only what it and the last good
/// one both name).
pub(super) async fn reload(
    AxState(state): AxState<Arc<State>>,
    Admitted(caller): Admitted<true>,
) -> Response {
    tracing::info!(caller = &*caller.name, "reload asked");
    let reload = state.reload("admin").await;
    let status = if reload.failed() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut body = match &reload.policy {
        Ok(reloaded) => serde_json::to_value(reloaded).unwrap_or_default(),
        Err(error) => json!({
            "result": "failed",
            "error": error,
            "policyRevision": state.current().map(|c| c.revision.to_string()),
        }),
    };
    if let (Some(object), Some(tokens)) = (body.as_object_mut(), &reload.token_file) {
        object.insert(
            "tokenFile".into(),
            serde_json::to_value(tokens).unwrap_or_default(),
        );
    }
    (status, Json(body)).into_response()
}
