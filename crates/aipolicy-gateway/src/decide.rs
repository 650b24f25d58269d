//! Deciding one request before anything reaches a model: who asks (see [`crate::asker`]), which
//! AI system the `model` names, the text (see [`crate::openai`]) and the classes declared; then
//! the engine's decision, recorded for the decision log before the request goes anywhere.

use std::sync::Arc;
use std::time::Instant;

use aipolicy::{AiSystem, Decision, Language, Query, Register};
use aipolicy_server::load::Loaded;
use aipolicy_server::record::Recorder;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::asker::Asker;
use crate::error::{GatewayError, POLICY_VIOLATION};
use crate::openai::{self, Operation, Place};
use crate::Gateway;

/// What every deciding endpoint starts with: a place among `--max-concurrent`, the caller and
/// what it declares, the policy in force and the body, all within `--request-timeout`.
pub(crate) struct Begun {
    /// The place, held until the answer ends.
    pub permit: tokio::sync::OwnedSemaphorePermit,
    /// Who asks.
    pub asker: Asker,
    /// The policy in force, taken once.
    pub policy: Arc<Loaded>,
    /// The request's headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: bytes::Bytes,
    /// When `--request-timeout` runs out.
    pub deadline: Instant,
}

/// How the AI system a request names is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The gateway forwards: the system must be in the register, with an endpoint.
    Forward,
    /// Envoy forwards (ext_authz): any name is decided, one the register does not list as
    /// public AI.
    Decide,
}

/// A request decided.
pub(crate) struct Decided {
    /// The decision.
    pub decision: Decision,
    /// Its id in the decision log (and the response's `X-AIPolicy-Decision-Id`).
    pub decision_id: String,
    /// The policy that made it.
    pub policy: Arc<Loaded>,
    /// The AI system (an unregistered one as public AI, with ext_authz).
    pub system: AiSystem,
    /// The body as read, `model` set to the name the AI system answers to.
    pub body: Value,
    /// Where each entry of the text came from.
    pub places: Vec<Place>,
    /// The language of refusals.
    pub language: Language,
}

/// The AI system a `model` names: a system's id or one of its `models`; and the model name
/// it is sent on as: the one named, or for a system's id its first `models` name, else the id.
pub(crate) fn system_of<'r>(register: &'r Register, model: &str) -> Option<(&'r AiSystem, String)> {
    if let Some(system) = register.ai_system(model) {
        let forwarded = system
            .models
            .first()
            .cloned()
            .unwrap_or_else(|| system.id.clone());
        return Some((system, forwarded));
    }
    register
        .ai_systems()
        .iter()
        .find(|s| s.models.iter().any(|m| m == model))
        .map(|s| (s, model.to_string()))
}

impl Gateway {
    /// Decides `body`, sent for `operation` with `headers`, and hands the decision to the
    /// decision log (with `--log-sync`: durably) before returning: nothing is forwarded that
    /// was not first recorded.
    pub(crate) async fn decide(
        &self,
        begun: &Begun,
        operation: Operation,
        reach: Reach,
    ) -> Result<Decided, GatewayError> {
        let Begun {
            asker,
            policy,
            headers,
            body,
            deadline,
            ..
        } = begun;
        let register = policy.engine.register();
        let mut read = openai::read(body, operation)?;
        let (system, forwarded) = match (system_of(register, &read.model), reach) {
            (Some((system, _)), Reach::Forward) if system.endpoint.is_none() => {
                return Err(GatewayError::not_found(
                    "model_not_found",
                    format!("AI system `{}` is in the register but has no `endpoint`, so the gateway does not reach it; GET /v1/models lists the ones you may use", system.id),
                ))
            }
            (Some((system, forwarded)), _) => (system.clone(), forwarded),
            (None, Reach::Forward) => {
                return Err(GatewayError::not_found(
                    "model_not_found",
                    format!("`{}` is not an AI system of the register that the gateway reaches; GET /v1/models lists the ones you may use", read.model),
                ))
            }
            (None, Reach::Decide) => (AiSystem::unregistered(&read.model), read.model.clone()),
        };
        // `openai::read` has held the text to what a query takes (a 413 otherwise).
        let mut query = Query::new(asker.user.clone(), system.id.clone(), asker.data.clone())
            .with_action(asker.action)
            .with_text(std::mem::take(&mut read.text));
        if let Some(class) = &self.settings.default_data {
            query = query.with_default_data(class.clone());
        }
        if let Some(id) = request_id(headers)? {
            query = query.with_request_id(id);
        }
        let decision = policy
            .engine
            .decide_memoized(&query, asker.language, &policy.memo)
            .map_err(|e| input_error(&e, asker.language))?;
        let recorder = Recorder::open();
        let decision_id = self
            .state
            .record(&recorder, policy, &asker.caller, Some(&query), &decision)
            .to_string();
        if let Err(e) = self.state.hand_over(&recorder, *deadline).await {
            tracing::error!("the decision is not acted on (--log-sync): {e}");
            return Err(GatewayError::unavailable(
                "decision_log",
                "the decision could not be written to the decision log in time (--log-sync), so the request is not forwarded; retry shortly",
            ));
        }
        if let Value::Object(root) = &mut read.body {
            root.insert("model".into(), Value::String(forwarded));
        }
        Ok(Decided {
            decision,
            decision_id,
            policy: Arc::clone(policy),
            system,
            body: read.body,
            places: read.places,
            language: asker.language,
        })
    }
}

/// `X-Request-ID`, held to the rule of a query's `requestId` (1 to 256 characters).
fn request_id(headers: &HeaderMap) -> Result<Option<String>, GatewayError> {
    let mut values = headers.get_all("x-request-id").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let text = std::str::from_utf8(value.as_bytes()).unwrap_or_default();
    let count = text.chars().count();
    if values.next().is_some() || !(1..=256).contains(&count) {
        return Err(GatewayError::bad_request(
            "invalid_header",
            "X-Request-ID: expected one header of 1 to 256 characters, as a query's `requestId`",
        ));
    }
    Ok(Some(text.to_string()))
}

/// A query the engine cannot decide: 400 naming what is wrong, in the terms of the gateway's
/// headers and flags (never an answer).
fn input_error(e: &aipolicy::InputError, language: Language) -> GatewayError {
    let mut message = e.problems_in(language).join("; ");
    let at = |field: &str| e.problems.iter().any(|p| p.path.starts_with(field));
    if at("data") {
        message.push_str(match language {
            Language::Sv => " (klasserna kommer från X-AIPolicy-Data och det som hittas i texten; där inget anges eller hittas gäller gatewayens --default-data, och utan den nekas begäran)",
            Language::En => " (the classes come from X-AIPolicy-Data and what is found in the text; where nothing is declared or found, the gateway's --default-data counts, and without one the request is refused)",
        });
    }
    if at("text") {
        return GatewayError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            crate::error::INVALID_REQUEST,
            "text_too_large",
            message,
        );
    }
    GatewayError::bad_request("undecidable", message)
}

/// The refusal a chat app shows its user: 403 `policy_violation`, the code the first rule's
/// id, the message every reason with its paragraph in the caller's language, what was found
/// in the text (the kinds and where, never the text) and where deviations are reported.
pub(crate) fn refusal(decided: &Decided) -> GatewayError {
    let decision = &decided.decision;
    let sv = decided.language == Language::Sv;
    let mut message = String::from(if sv {
        "Nekat enligt kommunens AI-policy:"
    } else {
        "Refused under the municipality's AI policy:"
    });
    for reason in &decision.reasons {
        message.push_str(&format!("\n{} {}", reason.paragraph, reason.message));
    }
    for error in &decision.errors {
        message.push_str(&format!("\n{error}"));
    }
    let found = found_in_text(decision, &decided.places);
    if !found.is_empty() {
        message.push_str(if sv {
            "\nHittat i texten: "
        } else {
            "\nFound in the text: "
        });
        message.push_str(&found.join(", "));
    }
    if let Some(channel) = &decision.incident_channel {
        message.push_str(if sv {
            "\nAvvikelser rapporteras till: "
        } else {
            "\nReport deviations to: "
        });
        message.push_str(channel);
    }
    let code = decision.reasons.first().map_or_else(
        || "aipolicy-fail-closed".to_string(),
        |r| r.policy.to_string(),
    );
    GatewayError::new(StatusCode::FORBIDDEN, POLICY_VIOLATION, code, message)
        .with_header("x-aipolicy-decision-id", decided.decision_id.clone())
        .with_header(
            "x-aipolicy-policy-revision",
            decided.policy.revision.to_string(),
        )
}

/// `personnummer (messages[1])`: each kind found and where, never what.
pub(crate) fn found_in_text(decision: &Decision, places: &[Place]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for found in &decision.found {
        // A text of one string has no index: it is the first.
        let at = places
            .get(found.message.unwrap_or(0))
            .map(|place| place.path_at(found.start))
            .unwrap_or_default();
        let item = if at.is_empty() {
            found.kind.to_string()
        } else {
            format!("{} ({at})", found.kind)
        };
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The kinds found, for `X-AIPolicy-Found`.
pub(crate) fn kinds_found(decision: &Decision) -> Vec<&str> {
    let mut kinds: Vec<&str> = Vec::new();
    for found in &decision.found {
        if !kinds.contains(&&*found.kind) {
            kinds.push(&found.kind);
        }
    }
    kinds
}
