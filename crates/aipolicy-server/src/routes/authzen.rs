//! The AuthZEN 1.0 API: `POST /access/v1/evaluation`, `/access/v1/evaluations`,
//! `/access/v1/search/resource` and the PDP metadata `GET /.well-known/authzen-configuration`.
//! (Reading and mapping the requests is [`crate::authzen`]'s; deciding and answering is here.)

use std::sync::Arc;
use std::time::Instant;

use aipolicy::{Decision, FoundInText, Language, Query, Reason, UserRef, Verdict};
use axum::extract::State as AxState;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::asked::{Asked, AuthZenMany, AuthZenOne};
use super::{json_response, sized};
use crate::authzen::{self, Evaluation, Evaluations, MappingError, RequestError, Semantic};
use crate::http::{ApiError, Dialect};
use crate::state::State;

/// An AuthZEN decision: `{decision, context: {decisionId, policyRevision, reasons,
/// obligations, notes?, errors?, error?, incidentChannel?, found?}}`.
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
    /// What was found in `context.text`, as in the Decision JSON.
    #[serde(skip_serializing_if = "<[FoundInText]>::is_empty")]
    found: &'a [FoundInText],
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
            decision: Decision::input_error(vec![error.text_in(language)], language),
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
fn evaluate<B>(asked: &Asked<B>, evaluation: &Evaluation) -> Evaluated {
    let (query, notes) =
        match evaluation.to_query(None, asked.request_id.as_deref(), asked.language) {
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

fn authzen_json<B>(state: &State, asked: &Asked<B>, evaluated: Evaluated) -> AuthZenOwned {
    let id = state.record(
        &asked.recorder,
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
            message: e.text_in(asked.language),
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
                found: &self.decision.found,
            },
        }
    }
}

fn authzen_error(e: RequestError, language: Language) -> ApiError {
    let error = if e.over_limit {
        ApiError::too_large(Dialect::AuthZen, e.to_string())
    } else {
        ApiError::bad_request(Dialect::AuthZen, e.to_string())
    };
    let error = match e.problem.message_sv {
        Some(_) => error.in_swedish(e.text_in(Language::Sv)),
        None => error,
    };
    error.in_language(language)
}

/// `POST /access/v1/evaluation`.
pub(super) async fn evaluation(
    AxState(state): AxState<Arc<State>>,
    asked: Asked<AuthZenOne>,
) -> Response {
    single_evaluation(&state, &asked, authzen::parse_evaluation(&asked.body))
}

/// Answers one evaluation: 400 when it cannot be read or maps to no query, else the decision.
fn single_evaluation<B>(
    state: &State,
    asked: &Asked<B>,
    parsed: Result<Evaluation, RequestError>,
) -> Response {
    let evaluation = match parsed {
        Ok(evaluation) => evaluation,
        Err(e) => return authzen_error(e, asked.language).into_response(),
    };
    let evaluated = evaluate(asked, &evaluation);
    if let Some(error) = &evaluated.error {
        // Still a decision (a deny), counted and logged; the answer is the error.
        let error = error.clone();
        authzen_json(state, asked, evaluated);
        return authzen_error(error, asked.language).into_response();
    }
    let answer = authzen_json(state, asked, evaluated);
    let body = serde_json::to_vec(&answer.view(&asked.policy.revision)).unwrap_or_default();
    json_response(StatusCode::OK, body, "application/json")
}

/// `POST /access/v1/evaluations`.
pub(super) async fn evaluations(
    AxState(state): AxState<Arc<State>>,
    asked: Asked<AuthZenMany>,
) -> Response {
    let (semantic, items) = match authzen::parse_evaluations(&asked.body, state.config.max_batch) {
        Err(e) => return authzen_error(e, asked.language).into_response(),
        Ok(Evaluations::Single(evaluation)) => {
            return single_evaluation(&state, &asked, Ok(*evaluation));
        }
        Ok(Evaluations::Many { semantic, items }) => (semantic, items),
    };
    let count = items.len();
    let work = {
        let state = Arc::clone(&state);
        move || run_evaluations(&state, &asked, semantic, items)
    };
    match sized(count, Dialect::AuthZen, work).await {
        Ok(body) => json_response(StatusCode::OK, body, "application/json"),
        Err(e) => e.into_response(),
    }
}

fn run_evaluations<B>(
    state: &State,
    asked: &Asked<B>,
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
        .in_swedish("svaret kunde inte skrivas")
        .in_language(asked.language)
    })
}

/// `POST /access/v1/search/resource`: which AI systems of the register may this subject use
/// for this action and data? In register order, paged by `page.limit` and `page.token`.
pub(super) async fn search_resource(
    AxState(state): AxState<Arc<State>>,
    asked: Asked<AuthZenOne>,
) -> Response {
    let search = match authzen::parse_resource_search(&asked.body) {
        Ok(search) => search,
        Err(e) => return authzen_error(e, asked.language).into_response(),
    };
    let systems = asked.policy.engine.register().ai_systems().len();
    let work = {
        let state = Arc::clone(&state);
        move || run_search(&state, &asked, &search)
    };
    match sized(systems, Dialect::AuthZen, work).await {
        Ok(body) => json_response(StatusCode::OK, body, "application/json"),
        Err(e) => e.into_response(),
    }
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

fn run_search<B>(
    state: &State,
    asked: &Asked<B>,
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
                .in_swedish("page.token: ingen token från den här sökningen (varje entitet och gränsen måste vara som i begäran som gav den)")
                .in_language(asked.language)
            })?,
    };
    let engine = &asked.policy.engine;
    let systems = engine.register().ai_systems();
    let empty = || serde_json::to_vec(&json!({ "results": [] })).unwrap_or_default();
    let probe = systems.first().map_or("x", |s| s.id.as_str());
    let query =
        match search
            .evaluation
            .to_query(Some(probe), asked.request_id.as_deref(), asked.language)
        {
            Ok((query, _)) => query,
            // An entity type this PDP does not decide for: nothing matches.
            Err(MappingError::UnknownType(_)) => return Ok(empty()),
            Err(MappingError::Invalid(e)) => return Err(authzen_error(e, asked.language)),
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
                .map_err(|e| authzen_error(authzen::input_error(&e), asked.language))?;
            state.record(
                &asked.recorder,
                &asked.policy,
                &asked.caller,
                Some(query),
                &decision,
            );
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
        .in_swedish("svaret kunde inte skrivas")
        .in_language(asked.language)
    })
}

/// `GET /.well-known/authzen-configuration`.
pub(super) async fn metadata(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
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
