//! What every decision endpoint starts with, read by one extractor: the caller (by token), the
//! language, the policy in force, the request's `X-Request-ID` and the body — each refusal in
//! the endpoint's own API shape, in this order, so that a caller without a token learns
//! nothing about the body it sent.

use std::marker::PhantomData;
use std::sync::Arc;

use aipolicy::query::MAX_QUERY_BYTES;
use aipolicy::Language;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};

use crate::http::{self, ApiError, Dialect, RequestId};
use crate::load::Loaded;
use crate::record::Recorder;
use crate::state::{Config, State};
use crate::tokens::Caller;

/// How an endpoint takes its body: the content types, the size limit, and the API whose shape
/// its refusals take.
pub(crate) trait Body {
    /// The `Content-Type`s taken (parameters such as `charset` aside).
    const TYPES: &'static [&'static str];
    /// The API of the endpoint.
    const DIALECT: Dialect;
    /// The largest body taken.
    fn limit(config: &Config) -> usize;
}

/// One query JSON (`/v1/decide`).
pub(crate) struct OneQuery;

impl Body for OneQuery {
    const TYPES: &'static [&'static str] = &["application/json"];
    const DIALECT: Dialect = Dialect::Native;
    fn limit(_: &Config) -> usize {
        MAX_QUERY_BYTES
    }
}

/// JSON Lines of queries (`/v1/batch`), up to `--max-body`.
pub(crate) struct QueryLines;

impl Body for QueryLines {
    const TYPES: &'static [&'static str] = &[
        "application/x-ndjson",
        "application/jsonl",
        "application/json-lines",
    ];
    const DIALECT: Dialect = Dialect::Native;
    fn limit(config: &Config) -> usize {
        config.max_body
    }
}

/// One AuthZEN request (`/access/v1/evaluation`, `/access/v1/search/resource`).
pub(crate) struct AuthZenOne;

impl Body for AuthZenOne {
    const TYPES: &'static [&'static str] = &["application/json"];
    const DIALECT: Dialect = Dialect::AuthZen;
    fn limit(_: &Config) -> usize {
        MAX_QUERY_BYTES
    }
}

/// An AuthZEN request of many evaluations (`/access/v1/evaluations`), up to `--max-body`.
pub(crate) struct AuthZenMany;

impl Body for AuthZenMany {
    const TYPES: &'static [&'static str] = &["application/json"];
    const DIALECT: Dialect = Dialect::AuthZen;
    fn limit(config: &Config) -> usize {
        config.max_body
    }
}

/// A decision request that may be decided: its caller is let in, a policy is in force and its
/// body is read.
pub(crate) struct Asked<B> {
    /// Who asks.
    pub caller: Caller,
    /// The language of reasons and duties.
    pub language: Language,
    /// The policy in force, taken once: the whole request is decided by this revision.
    pub policy: Arc<Loaded>,
    /// The request's `X-Request-ID`.
    pub request_id: Option<Arc<str>>,
    /// The body.
    pub body: Bytes,
    /// Where the request's decisions are kept until its answer is given.
    pub recorder: Recorder,
    kind: PhantomData<fn() -> B>,
}

impl<B: Body> FromRequest<Arc<State>> for Asked<B> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &Arc<State>) -> Result<Self, Response> {
        let dialect = B::DIALECT;
        let refuse = |e: ApiError, language| e.in_language(language).into_response();
        // Put there by the limit layer, which gives the answer (or refuses it) and hands the
        // decisions over; without one, a decision could not be recorded.
        let recorder = request
            .extensions()
            .get::<Recorder>()
            .cloned()
            .ok_or_else(|| {
                refuse(
                    ApiError::new(
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        dialect,
                        "the request cannot be decided: its decisions could not be recorded",
                    )
                    .in_swedish("begäran kan inte prövas: dess beslut kunde inte registreras"),
                    state.config.language,
                )
            })?;
        let caller = http::authorize(state, request.headers(), dialect, false)
            .map_err(|e| refuse(e, state.config.language))?;
        http::CallerSlot::fill(request.extensions(), &caller);
        let language = http::language(request.uri(), state.config.language, dialect)
            .map_err(|e| refuse(e, state.config.language))?;
        let policy = state
            .current()
            .ok_or_else(|| refuse(ApiError::not_ready(dialect), language))?;
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .and_then(|r| r.0.clone());
        let (parts, body) = request.into_parts();
        let body = http::read_body(
            &parts.headers,
            body,
            B::TYPES,
            B::limit(&state.config),
            dialect,
        )
        .await
        .map_err(|e| refuse(e, language))?;
        Ok(Asked {
            caller,
            language,
            policy,
            request_id,
            body,
            recorder,
            kind: PhantomData,
        })
    }
}
