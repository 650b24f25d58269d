//! The native API: `POST /v1/decide` (a query JSON in, the Decision JSON out) and
//! `POST /v1/batch` (JSON Lines in and out, as `aipolicy batch`). Every body either answers is
//! a Decision JSON, errors included.

use std::sync::Arc;
use std::time::Instant;

use aipolicy::query::MAX_QUERY_BYTES;
use aipolicy::{Decision, Query};
use axum::extract::State as AxState;
use axum::http::header::HeaderValue;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::asked::{Asked, OneQuery, QueryLines};
use super::{json_response, sized};
use crate::http::{ApiError, Dialect};
use crate::state::State;

/// A decision as the native API writes it: the Decision JSON plus `decisionId` and
/// `policyRevision`.
#[derive(Serialize)]
struct NativeDecision<'a> {
    #[serde(flatten)]
    decision: &'a Decision,
    #[serde(rename = "decisionId")]
    decision_id: String,
    #[serde(rename = "policyRevision")]
    policy_revision: &'a str,
}

/// The `requestId` of a body that is not a valid query, when it is a JSON object with one.
fn request_id_of(body: &[u8]) -> Option<String> {
    if body.len() > MAX_QUERY_BYTES || crate::json::check_depth(body).is_err() {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let id = value.get("requestId")?.as_str()?;
    (!id.is_empty() && id.chars().count() <= 256).then(|| id.to_string())
}

/// `POST /v1/decide`.
pub(super) async fn decide(
    AxState(state): AxState<Arc<State>>,
    asked: Asked<OneQuery>,
) -> Response {
    let engine = &asked.policy.engine;
    let query = std::str::from_utf8(&asked.body)
        .map_err(|e| {
            aipolicy::InputError::in_both(
                "",
                format!(
                    "begärans kropp är inte giltig UTF-8 (från byte {})",
                    e.valid_up_to()
                ),
                format!("the request body is not valid UTF-8: {e}"),
            )
        })
        .and_then(Query::from_json);
    let (decision, query, status) = match query {
        Ok(query) => match engine.decide_memoized(&query, asked.language, &asked.policy.memo) {
            Ok(decision) => (decision, Some(query), StatusCode::OK),
            Err(e) => (
                Decision::input_error(e.problems_in(asked.language), asked.language)
                    .with_request_id(query.request_id.clone()),
                Some(query),
                StatusCode::BAD_REQUEST,
            ),
        },
        Err(e) => (
            Decision::input_error(e.problems_in(asked.language), asked.language)
                .with_request_id(request_id_of(&asked.body)),
            None,
            StatusCode::BAD_REQUEST,
        ),
    };
    let id = state.record(
        &asked.recorder,
        &asked.policy,
        &asked.caller,
        query.as_ref(),
        &decision,
    );
    let body = serde_json::to_vec(&NativeDecision {
        decision: &decision,
        decision_id: id.to_string(),
        policy_revision: &asked.policy.revision,
    })
    .unwrap_or_default();
    json_response(status, body, "application/json")
}

/// `POST /v1/batch`: JSON Lines in, JSON Lines out, in order, as `aipolicy batch`.
pub(super) async fn batch(
    AxState(state): AxState<Arc<State>>,
    asked: Asked<QueryLines>,
) -> Response {
    // Every line is decided, a blank one too, so every line counts: a body of line breaks
    // would otherwise ask for a deny a line, without bound.
    let lines = lines(&asked.body).count();
    if lines > state.config.max_batch {
        return ApiError::too_large(
            Dialect::Native,
            format!(
                "{lines} lines (a blank line is a line: each gets a decision); the limit is {} per request (--max-batch)",
                state.config.max_batch
            ),
        )
        .in_swedish(format!(
            "{lines} rader (en tom rad är en rad: varje rad får ett beslut); gränsen är {} per begäran (--max-batch)",
            state.config.max_batch
        ))
        .in_language(asked.language)
        .into_response();
    }
    let work = {
        let state = Arc::clone(&state);
        move || decide_lines(&state, &asked)
    };
    match sized(lines, Dialect::Native, work).await {
        Ok((out, input_errors)) => {
            let mut response = json_response(StatusCode::OK, out, "application/x-ndjson");
            if let Ok(value) = HeaderValue::from_str(&input_errors.to_string()) {
                response
                    .headers_mut()
                    .insert("x-aipolicy-input-errors", value);
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

/// The lines of a batch body, as `aipolicy batch` reads its input: a blank line is a line (an
/// input error, with its own deny); only the line break that ends the body ends no line, and
/// an empty body has none.
fn lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    body.split(|&b| b == b'\n')
        .take_while(move |_| !body.is_empty())
}

/// Decides each line of the body into its output line, as `aipolicy batch` does; returns the
/// output and how many lines were input errors.
fn decide_lines(state: &State, asked: &Asked<QueryLines>) -> Result<(Vec<u8>, usize), ApiError> {
    let started = Instant::now();
    let engine = &asked.policy.engine;
    let mut out = Vec::with_capacity(asked.body.len() * 2 + 256);
    let mut input_errors = 0;
    for (i, line) in lines(&asked.body).enumerate() {
        if i % 256 == 255 && started.elapsed() > state.config.request_timeout {
            return Err(ApiError::timed_out(
                Dialect::Native,
                state.config.request_timeout,
            ));
        }
        let aipolicy::batch::DecidedLine {
            query,
            decision,
            input_error,
            ..
        } = aipolicy::batch::decide_line_by(i + 1, line, asked.language, |query| {
            engine.decide_memoized(query, asked.language, &asked.policy.memo)
        });
        input_errors += usize::from(input_error);
        let id = state.record(
            &asked.recorder,
            &asked.policy,
            &asked.caller,
            query.as_ref(),
            &decision,
        );
        let written = serde_json::to_writer(
            &mut out,
            &NativeDecision {
                decision: &decision,
                decision_id: id.to_string(),
                policy_revision: &asked.policy.revision,
            },
        );
        if written.is_err() {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                Dialect::Native,
                "a decision could not be written",
            )
            .in_swedish("ett beslut kunde inte skrivas"));
        }
        out.push(b'\n');
    }
    Ok((out, input_errors))
}
