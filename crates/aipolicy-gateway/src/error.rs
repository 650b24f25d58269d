//! Every answer the gateway gives that is not the model's: an OpenAI-style error body,
//! `{"error": {"message", "type", "code"}}`, so that an OpenAI client raises it as the error of
//! its status (`PermissionDeniedError` for 403, …) with `message` as what a chat app shows.

use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// `type` of a refusal by the policy (pinned).
pub const POLICY_VIOLATION: &str = "policy_violation";
/// `type` of an AI system that could not be reached, answered garbage or took too long.
pub const UPSTREAM_ERROR: &str = "upstream_error";
/// `type` of a request the gateway cannot read or serve.
pub const INVALID_REQUEST: &str = "invalid_request_error";
/// `type` of a request without a valid token.
pub const AUTHENTICATION: &str = "authentication_error";
/// `type` of a caller that may not ask what it asked (not the policy's refusal).
pub const PERMISSION: &str = "permission_error";
/// `type` of a gateway that cannot answer now (no policy loaded, a limit reached).
pub const SERVER: &str = "server_error";

/// An answer of the gateway's own: a status and an OpenAI-style error.
#[derive(Debug, Clone)]
pub struct GatewayError {
    /// The status.
    pub status: StatusCode,
    /// The error's `type`.
    pub kind: &'static str,
    /// The error's `code`: the first rule's id for a refusal, else a short name of the problem.
    pub code: String,
    /// What a person is shown (never a secret, never the request's text).
    pub message: String,
    /// Headers to add (the decision's id on a refusal).
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    code: &'a str,
}

impl GatewayError {
    /// An error of `status`, `type` `kind`, `code` and `message`.
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> GatewayError {
        GatewayError {
            status,
            kind,
            code: code.into(),
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// 400: a request that cannot be read or decided as sent.
    pub fn bad_request(code: &str, message: impl Into<String>) -> GatewayError {
        GatewayError::new(StatusCode::BAD_REQUEST, INVALID_REQUEST, code, message)
    }

    /// 403 by the caller's rights (not the policy's refusal).
    pub fn forbidden(code: &str, message: impl Into<String>) -> GatewayError {
        GatewayError::new(StatusCode::FORBIDDEN, PERMISSION, code, message)
    }

    /// 404: a path, or a model, the gateway does not serve.
    pub fn not_found(code: &str, message: impl Into<String>) -> GatewayError {
        GatewayError::new(StatusCode::NOT_FOUND, INVALID_REQUEST, code, message)
    }

    /// 502: the AI system could not be reached, refused the gateway or answered garbage.
    pub fn bad_gateway(code: &str, message: impl Into<String>) -> GatewayError {
        GatewayError::new(StatusCode::BAD_GATEWAY, UPSTREAM_ERROR, code, message)
    }

    /// 504: the AI system did not begin its answer in time.
    pub fn gateway_timeout(message: impl Into<String>) -> GatewayError {
        GatewayError::new(
            StatusCode::GATEWAY_TIMEOUT,
            UPSTREAM_ERROR,
            "upstream_timeout",
            message,
        )
    }

    /// 503: the gateway cannot decide now.
    pub fn unavailable(code: &str, message: impl Into<String>) -> GatewayError {
        GatewayError::new(StatusCode::SERVICE_UNAVAILABLE, SERVER, code, message)
    }

    /// The same error with a header added.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> GatewayError {
        self.headers.push((name, value.into()));
        self
    }

    /// The server crate's error (a token refused, a body too large, …) in the gateway's shape.
    pub fn from_api(e: &aipolicy_server::http::ApiError) -> GatewayError {
        let (kind, code) = match e.status {
            StatusCode::UNAUTHORIZED => (AUTHENTICATION, "invalid_api_key"),
            StatusCode::FORBIDDEN => (PERMISSION, "forbidden"),
            StatusCode::PAYLOAD_TOO_LARGE => (INVALID_REQUEST, "request_too_large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (INVALID_REQUEST, "unsupported_media_type"),
            s if s.is_server_error() => (SERVER, "unavailable"),
            _ => (INVALID_REQUEST, "invalid_request"),
        };
        GatewayError::new(e.status, kind, code, e.message.clone())
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            error: Inner {
                message: &self.message,
                kind: self.kind,
                code: &self.code,
            },
        })
        .unwrap_or_default();
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(*name, value);
            }
        }
        match self.status {
            StatusCode::UNAUTHORIZED => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"aipolicy\""),
                );
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}
