//! The endpoints.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use aipolicy::query::MAX_QUERY_BYTES;
use aipolicy::{Decision, Language, Query, Reason, UserRef, Verdict};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::authzen::{self, Evaluation, Evaluations, MappingError, RequestError, Semantic};
use crate::http::{self, ApiError, CallerName, Dialect, RequestId};
use crate::load::Loaded;
use crate::state::State;
use crate::tokens::Caller;
use aipolicy::log::Origin;

/// Batches of more items than this are decided on a blocking thread, not on the async workers
/// (a few hundred decisions take well under a millisecond; handing them to another thread
/// would cost more than it saves).
const INLINE_ITEMS: usize = 256;

/// Runs `work` here when it is small (`items` up to [`INLINE_ITEMS`]), else on a blocking
/// thread, so that a large batch does not hold up the other requests of this worker.
async fn sized<T: Send + 'static>(
    items: usize,
    dialect: Dialect,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    if items <= INLINE_ITEMS {
        return work();
    }
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            dialect,
            "the request could not be decided",
        ))
    })
}

/// The router of every endpoint.
pub fn router(state: Arc<State>) -> Router {
    let decisions = Router::new()
        .route("/v1/decide", post(decide))
        .route("/v1/batch", post(batch))
        .route("/access/v1/evaluation", post(evaluation))
        .route("/access/v1/evaluations", post(evaluations))
        .route("/access/v1/search/resource", post(search_resource))
        .route("/v1/admin/reload", post(reload))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            http::limit,
        ));
    let page = if state.page.enabled {
        crate::page::router().route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            http::limit,
        ))
    } else {
        Router::new()
    };
    Router::new()
        .merge(decisions)
        .merge(page)
        .route("/.well-known/authzen-configuration", get(metadata))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/v1/status", get(status))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            http::observe,
        ))
        .with_state(state)
}

/// What every decision endpoint starts with: the caller, the language and the policy in force.
struct Asked {
    caller: Caller,
    language: Language,
    policy: Arc<Loaded>,
    request_id: Option<Arc<str>>,
}

fn asked(state: &State, request: &Request, dialect: Dialect) -> Result<Asked, ApiError> {
    let caller = http::authorize(state, request.headers(), dialect, false)
        .map_err(|e| e.in_language(state.config.language))?;
    let language = http::language(request.uri(), state.config.language, dialect)?;
    let policy = state
        .current()
        .ok_or_else(|| ApiError::not_ready(dialect).in_language(language))?;
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|r| r.0.clone());
    Ok(Asked {
        caller,
        language,
        policy,
        request_id,
    })
}

fn with_caller(mut response: Response, caller: &Caller) -> Response {
    response
        .extensions_mut()
        .insert(CallerName(caller.name.clone()));
    response
}

fn json_response(status: StatusCode, body: Vec<u8>, content_type: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

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

impl State {
    /// Counts and records one decision; returns its id.
    pub(crate) fn record(
        &self,
        policy: &Loaded,
        caller: &Caller,
        query: Option<&Query>,
        decision: &Decision,
    ) -> uuid::Uuid {
        let decision_id = uuid::Uuid::now_v7();
        let id = decision_id.to_string();
        let origin = Origin {
            decision_id: &id,
            time: SystemTime::now(),
            policy_revision: &policy.revision,
            caller: &caller.name,
        };
        self.decided(origin, &policy.engine, query, decision);
        decision_id
    }
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
async fn decide(AxState(state): AxState<Arc<State>>, request: Request) -> Response {
    let dialect = Dialect::Native;
    let asked = match asked(&state, &request, dialect) {
        Ok(asked) => asked,
        Err(e) => return e.into_response(),
    };
    let (parts, body) = request.into_parts();
    let types = ["application/json"];
    let body = match http::read_body(&parts.headers, body, &types, MAX_QUERY_BYTES, dialect).await {
        Ok(body) => body,
        Err(e) => return with_caller(e.in_language(asked.language).into_response(), &asked.caller),
    };
    let engine = &asked.policy.engine;
    let query = std::str::from_utf8(&body)
        .map_err(|e| {
            aipolicy::InputError::at("", format!("the request body is not valid UTF-8: {e}"))
        })
        .and_then(Query::from_json);
    let (decision, query, status) = match query {
        Ok(query) => match engine.decide_memoized(&query, asked.language, &asked.policy.memo) {
            Ok(decision) => (decision, Some(query), StatusCode::OK),
            Err(e) => (
                Decision::input_error(problems(&e), asked.language)
                    .with_request_id(query.request_id.clone()),
                Some(query),
                StatusCode::BAD_REQUEST,
            ),
        },
        Err(e) => (
            Decision::input_error(problems(&e), asked.language)
                .with_request_id(request_id_of(&body)),
            None,
            StatusCode::BAD_REQUEST,
        ),
    };
    let id = state.record(&asked.policy, &asked.caller, query.as_ref(), &decision);
    let body = serde_json::to_vec(&NativeDecision {
        decision: &decision,
        decision_id: id.to_string(),
        policy_revision: &asked.policy.revision,
    })
    .unwrap_or_default();
    with_caller(
        json_response(status, body, "application/json"),
        &asked.caller,
    )
}

fn problems(e: &aipolicy::InputError) -> Vec<String> {
    e.problems.iter().map(ToString::to_string).collect()
}

/// `POST /v1/batch`: JSON Lines in, JSON Lines out, in order, as `aipolicy batch`.
async fn batch(AxState(state): AxState<Arc<State>>, request: Request) -> Response {
    let dialect = Dialect::Native;
    let asked = match asked(&state, &request, dialect) {
        Ok(asked) => asked,
        Err(e) => return e.into_response(),
    };
    let (parts, body) = request.into_parts();
    let types = [
        "application/x-ndjson",
        "application/jsonl",
        "application/json-lines",
    ];
    let body = match http::read_body(&parts.headers, body, &types, state.config.max_body, dialect)
        .await
    {
        Ok(body) => body,
        Err(e) => return with_caller(e.in_language(asked.language).into_response(), &asked.caller),
    };
    let lines = body
        .split(|&b| b == b'\n')
        .filter(|line| !line.trim_ascii().is_empty())
        .count();
    if lines > state.config.max_batch {
        let e = ApiError::too_large(
            dialect,
            format!(
                "{lines} queries; the limit is {} per request (--max-batch)",
                state.config.max_batch
            ),
        );
        return with_caller(e.in_language(asked.language).into_response(), &asked.caller);
    }
    let caller = asked.caller.clone();
    let work = {
        let state = Arc::clone(&state);
        move || decide_lines(&state, &asked, &body)
    };
    let response = match sized(lines, dialect, work).await {
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
    };
    with_caller(response, &caller)
}

/// Decides each line of `body` into its output line, as `aipolicy batch` does (a blank line is
/// an input error too; only the line break that ends the body ends no line); returns the output
/// and how many lines were input errors.
fn decide_lines(state: &State, asked: &Asked, body: &[u8]) -> Result<(Vec<u8>, usize), ApiError> {
    let started = Instant::now();
    let engine = &asked.policy.engine;
    let mut out = Vec::with_capacity(body.len() * 2 + 256);
    let mut input_errors = 0;
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        if body.is_empty() {
            break;
        }
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
        let id = state.record(&asked.policy, &asked.caller, query.as_ref(), &decision);
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
            ));
        }
        out.push(b'\n');
    }
    Ok((out, input_errors))
}

/// An AuthZEN decision: `{decision, context: {decisionId, policyRevision, reasons,
/// obligations, notes?, errors?, error?}}`.
#[derive(Serialize)]
struct AuthZenDecision<'a> {
    decision: bool,
    context: AuthZenContext<'a>,
}

#[derive(Serialize)]
struct AuthZenContext<'a> {
    #[serde(rename = "decisionId")]
    decision_id: &'a str,
    #[serde(rename = "policyRevision")]
    policy_revision: &'a str,
    reasons: &'a [Reason],
    obligations: &'a [Reason],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    errors: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ItemError>,
    /// Where to report deviations (U4), as in the Decision JSON.
    #[serde(rename = "incidentChannel", skip_serializing_if = "Option::is_none")]
    incident_channel: Option<&'a str>,
}

/// The error of one evaluation of a batch, in its context.
#[derive(Debug, Clone, Serialize)]
struct ItemError {
    status: u16,
    message: String,
}

/// What one evaluation came to: its decision, its query (when it had one), the mapping's
/// notes and the error that made it a deny.
struct Evaluated {
    decision: Decision,
    query: Option<Query>,
    notes: Vec<String>,
    error: Option<RequestError>,
}

impl Evaluated {
    fn failed(error: RequestError, language: Language) -> Evaluated {
        Evaluated {
            decision: Decision::input_error(vec![error.to_string()], language),
            query: None,
            notes: Vec::new(),
            error: Some(error),
        }
    }

    fn allowed(&self) -> bool {
        self.decision.decision == Verdict::Allow && self.error.is_none()
    }
}

/// Decides one AuthZEN evaluation.
fn evaluate(asked: &Asked, evaluation: &Evaluation) -> Evaluated {
    let (query, notes) = match evaluation.to_query(None, asked.request_id.as_deref()) {
        Ok(mapped) => mapped,
        Err(e) => return Evaluated::failed(e.error().clone(), asked.language),
    };
    match asked
        .policy
        .engine
        .decide_memoized(&query, asked.language, &asked.policy.memo)
    {
        Ok(decision) => Evaluated {
            decision,
            query: Some(query),
            notes,
            error: None,
        },
        Err(e) => {
            let error = authzen::input_error(&e);
            Evaluated {
                query: Some(query),
                ..Evaluated::failed(error, asked.language)
            }
        }
    }
}

fn authzen_json(state: &State, asked: &Asked, evaluated: Evaluated) -> AuthZenOwned {
    let id = state.record(
        &asked.policy,
        &asked.caller,
        evaluated.query.as_ref(),
        &evaluated.decision,
    );
    let mut notes = evaluated.decision.notes.clone();
    notes.extend(evaluated.notes);
    AuthZenOwned {
        allowed: evaluated.decision.decision == Verdict::Allow && evaluated.error.is_none(),
        decision: evaluated.decision,
        notes,
        decision_id: id.to_string(),
        error: evaluated.error.map(|e| ItemError {
            status: 400,
            message: e.to_string(),
        }),
    }
}

/// An evaluation's answer, ready to be written.
struct AuthZenOwned {
    allowed: bool,
    decision: Decision,
    notes: Vec<String>,
    decision_id: String,
    error: Option<ItemError>,
}

impl AuthZenOwned {
    fn view<'a>(&'a self, revision: &'a str) -> AuthZenDecision<'a> {
        AuthZenDecision {
            decision: self.allowed,
            context: AuthZenContext {
                decision_id: &self.decision_id,
                policy_revision: revision,
                reasons: &self.decision.reasons,
                obligations: &self.decision.obligations,
                notes: &self.notes,
                errors: &self.decision.errors,
                error: self.error.as_ref(),
                incident_channel: self.decision.incident_channel.as_deref(),
            },
        }
    }
}

fn authzen_error(e: RequestError) -> ApiError {
    if e.over_limit {
        ApiError::too_large(Dialect::AuthZen, e.to_string())
    } else {
        ApiError::bad_request(Dialect::AuthZen, e.to_string())
    }
}

/// `POST /access/v1/evaluation`.
async fn evaluation(AxState(state): AxState<Arc<State>>, request: Request) -> Response {
    let dialect = Dialect::AuthZen;
    let asked = match asked(&state, &request, dialect) {
        Ok(asked) => asked,
        Err(e) => return e.into_response(),
    };
    let (parts, body) = request.into_parts();
    let response = match read_authzen(&parts.headers, body, MAX_QUERY_BYTES).await {
        Ok(body) => single_evaluation(&state, &asked, authzen::parse_evaluation(&body)),
        Err(e) => e.into_response(),
    };
    with_caller(response, &asked.caller)
}

async fn read_authzen(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    http::read_body(
        headers,
        body,
        &["application/json"],
        limit,
        Dialect::AuthZen,
    )
    .await
}

/// Answers one evaluation: 400 when it cannot be read or maps to no query, else the decision.
fn single_evaluation(
    state: &State,
    asked: &Asked,
    parsed: Result<Evaluation, RequestError>,
) -> Response {
    let evaluation = match parsed {
        Ok(evaluation) => evaluation,
        Err(e) => return authzen_error(e).into_response(),
    };
    let evaluated = evaluate(asked, &evaluation);
    if let Some(error) = &evaluated.error {
        // Still a decision (a deny), counted and logged; the answer is the error.
        let error = error.clone();
        authzen_json(state, asked, evaluated);
        return authzen_error(error).into_response();
    }
    let answer = authzen_json(state, asked, evaluated);
    let body = serde_json::to_vec(&answer.view(&asked.policy.revision)).unwrap_or_default();
    json_response(StatusCode::OK, body, "application/json")
}

/// `POST /access/v1/evaluations`.
async fn evaluations(AxState(state): AxState<Arc<State>>, request: Request) -> Response {
    let dialect = Dialect::AuthZen;
    let asked = match asked(&state, &request, dialect) {
        Ok(asked) => asked,
        Err(e) => return e.into_response(),
    };
    let caller = asked.caller.clone();
    let (parts, body) = request.into_parts();
    let body = match read_authzen(&parts.headers, body, state.config.max_body).await {
        Ok(body) => body,
        Err(e) => return with_caller(e.into_response(), &caller),
    };
    let (semantic, items) = match authzen::parse_evaluations(&body, state.config.max_batch) {
        Err(e) => return with_caller(authzen_error(e).into_response(), &caller),
        Ok(Evaluations::Single(evaluation)) => {
            let response = single_evaluation(&state, &asked, Ok(*evaluation));
            return with_caller(response, &caller);
        }
        Ok(Evaluations::Many { semantic, items }) => (semantic, items),
    };
    let count = items.len();
    let work = {
        let state = Arc::clone(&state);
        move || run_evaluations(&state, &asked, semantic, items)
    };
    let response = match sized(count, dialect, work).await {
        Ok(body) => json_response(StatusCode::OK, body, "application/json"),
        Err(e) => e.into_response(),
    };
    with_caller(response, &caller)
}

fn run_evaluations(
    state: &State,
    asked: &Asked,
    semantic: Semantic,
    items: Vec<Result<Evaluation, RequestError>>,
) -> Result<Vec<u8>, ApiError> {
    let started = Instant::now();
    let mut answers = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        if i % 256 == 255 && started.elapsed() > state.config.request_timeout {
            return Err(ApiError::timed_out(
                Dialect::AuthZen,
                state.config.request_timeout,
            ));
        }
        let evaluated = match item {
            Ok(evaluation) => evaluate(asked, &evaluation),
            Err(e) => Evaluated::failed(e, asked.language),
        };
        let allowed = evaluated.allowed();
        answers.push(authzen_json(state, asked, evaluated));
        match semantic {
            Semantic::DenyOnFirstDeny if !allowed => break,
            Semantic::PermitOnFirstPermit if allowed => break,
            _ => {}
        }
    }
    #[derive(Serialize)]
    struct Answer<'a> {
        evaluations: Vec<AuthZenDecision<'a>>,
    }
    let evaluations = answers
        .iter()
        .map(|a| a.view(&asked.policy.revision))
        .collect();
    serde_json::to_vec(&Answer { evaluations }).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Dialect::AuthZen,
            "the answer could not be written",
        )
    })
}

/// `POST /access/v1/search/resource`: which AI systems of the register may this subject use
/// for this action and data? In register order, paged by `page.limit` and `page.token`.
async fn search_resource(AxState(state): AxState<Arc<State>>, request: Request) -> Response {
    let dialect = Dialect::AuthZen;
    let asked = match asked(&state, &request, dialect) {
        Ok(asked) => asked,
        Err(e) => return e.into_response(),
    };
    let caller = asked.caller.clone();
    let (parts, body) = request.into_parts();
    let body = match read_authzen(&parts.headers, body, MAX_QUERY_BYTES).await {
        Ok(body) => body,
        Err(e) => return with_caller(e.into_response(), &caller),
    };
    let search = match authzen::parse_resource_search(&body) {
        Ok(search) => search,
        Err(e) => return with_caller(authzen_error(e).into_response(), &caller),
    };
    let systems = asked.policy.engine.register().ai_systems().len();
    let work = {
        let state = Arc::clone(&state);
        move || run_search(&state, &asked, &search)
    };
    let response = match sized(systems, dialect, work).await {
        Ok(body) => json_response(StatusCode::OK, body, "application/json"),
        Err(e) => e.into_response(),
    };
    with_caller(response, &caller)
}

/// The fingerprint a page token carries: of every entity and the limit, so that a token is
/// only good for the search that gave it.
fn search_fingerprint(search: &authzen::ResourceSearch) -> String {
    let canonical = json!({
        "subject": {"type": search.evaluation.subject.kind, "id": search.evaluation.subject.id, "properties": search.evaluation.subject.properties},
        "action": search.evaluation.action,
        "resource": {"type": search.evaluation.resource.kind, "properties": search.evaluation.resource.properties},
        "context": search.evaluation.context,
        "limit": search.limit,
    });
    crate::load::hex(&Sha256::digest(canonical_json(&canonical).as_bytes())[..8])
}

/// JSON text with every object's keys sorted.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

fn run_search(
    state: &State,
    asked: &Asked,
    search: &authzen::ResourceSearch,
) -> Result<Vec<u8>, ApiError> {
    let started = Instant::now();
    let fingerprint = search_fingerprint(search);
    let offset = match &search.token {
        None => 0,
        Some(token) => token
            .split_once('.')
            .filter(|(_, print)| *print == fingerprint)
            .and_then(|(offset, _)| offset.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::bad_request(
                    Dialect::AuthZen,
                    "page.token: not a token of this search (every entity and the limit must be as in the request that gave it)",
                )
            })?,
    };
    let engine = &asked.policy.engine;
    let systems = engine.register().ai_systems();
    let empty = || serde_json::to_vec(&json!({ "results": [] })).unwrap_or_default();
    let probe = systems.first().map_or("x", |s| s.id.as_str());
    let query = match search
        .evaluation
        .to_query(Some(probe), asked.request_id.as_deref())
    {
        Ok((query, _)) => query,
        // An entity type this PDP does not decide for: nothing matches.
        Err(MappingError::UnknownType(_)) => return Ok(empty()),
        Err(MappingError::Invalid(e)) => return Err(authzen_error(e)),
    };
    // A user the register does not list (given without properties): nothing matches.
    if let UserRef::Registered(id) = &query.user {
        if engine.register().user(id).is_none() {
            return Ok(empty());
        }
    }
    let mut asked_so_far = 0usize;
    let allowed: Vec<&str> =
        aipolicy::search::allowed_systems(engine.register(), &query, |query| {
            asked_so_far += 1;
            if asked_so_far.is_multiple_of(256) && started.elapsed() > state.config.request_timeout
            {
                return Err(ApiError::timed_out(
                    Dialect::AuthZen,
                    state.config.request_timeout,
                ));
            }
            let decision = engine
                .decide_memoized(query, asked.language, &asked.policy.memo)
                .map_err(|e| authzen_error(authzen::input_error(&e)))?;
            state.record(&asked.policy, &asked.caller, Some(query), &decision);
            Ok(decision)
        })?
        .into_iter()
        .map(|(system, _)| system.id.as_str())
        .collect();
    let total = allowed.len();
    let limit = search
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let page: Vec<Value> = allowed
        .iter()
        .skip(offset)
        .take(limit)
        .map(|id| json!({"type": authzen::RESOURCE_TYPE, "id": id}))
        .collect();
    let end = offset.saturating_add(page.len());
    let next_token = if end < total {
        format!("{end}.{fingerprint}")
    } else {
        String::new()
    };
    let paged = search.limit.is_some() || search.token.is_some() || !next_token.is_empty();
    let body = if paged {
        json!({"page": {"next_token": next_token, "count": page.len(), "total": total}, "results": page})
    } else {
        json!({ "results": page })
    };
    serde_json::to_vec(&body).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Dialect::AuthZen,
            "the answer could not be written",
        )
    })
}

/// `GET /.well-known/authzen-configuration`.
async fn metadata(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    let base = match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| {
                    !h.is_empty()
                        && h.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
                })
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    let body = json!({
        "policy_decision_point": base,
        "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
        "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
        "search_resource_endpoint": format!("{base}/access/v1/search/resource"),
    });
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    response
}

/// `GET /health/live`: the process answers.
async fn live() -> Response {
    Json(json!({"status": "live"})).into_response()
}

/// `GET /health/ready`: a policy is loaded (503 until the first good load).
async fn ready(AxState(state): AxState<Arc<State>>) -> Response {
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
async fn metrics(AxState(state): AxState<Arc<State>>) -> Response {
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
async fn status(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    let caller = match http::authorize(&state, &headers, Dialect::Plain, false) {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
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
        "inputs": state.inputs.describe(&cwd),
        // The day decisions are made at, and whether a fixed clock (AIPOLICY_TODAY) holds it.
        "day": state.config.clock.today().to_string(),
        "dayFixed": state.config.clock.is_fixed(),
        "startedAt": crate::time::rfc3339(state.started),
        "uptimeSeconds": state.uptime(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    with_caller(Json(body).into_response(), &caller)
}

/// `POST /v1/admin/reload`: reload now (an admin token). 200 with the revision in force, or 422
/// with the load error (the old policy still serving).
async fn reload(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    let caller = match http::authorize(&state, &headers, Dialect::Plain, true) {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    tracing::info!(caller = &*caller.name, "reload asked");
    let response = match state.reload("admin").await {
        Ok(reloaded) => Json(reloaded).into_response(),
        Err(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "result": "failed",
                "error": error,
                "policyRevision": state.current().map(|c| c.revision.to_string()),
            })),
        )
            .into_response(),
    };
    with_caller(response, &caller)
}

/// Any other path.
async fn not_found(request: Request) -> Response {
    let path = request.uri().path().to_string();
    ApiError::new(
        StatusCode::NOT_FOUND,
        Dialect::of(&path),
        format!(
            "no endpoint `{} {path}`; see `aipolicy serve --help`",
            request.method()
        ),
    )
    .into_response()
}
