//! What every endpoint shares: errors in each API's own shape, reading bodies within limits,
//! callers, languages, and the middleware for request ids, metrics, logs, concurrency and time.

use std::sync::Arc;
use std::time::Instant;

use aipolicy::{Decision, Language, Verdict};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::metrics::{endpoint_index, Rejection, ENDPOINTS};
use crate::record::Recorder;
use crate::state::State;
use crate::tokens::{AuthError, Caller};

/// `X-Request-ID`.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Which API an endpoint belongs to: its errors take that API's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `/v1/decide`, `/v1/batch`: every body is a Decision JSON, an error a deny.
    Native,
    /// `/access/v1/…`: an error is a status code and a message string (AuthZEN 1.0, 8.2).
    AuthZen,
    /// The staff page (`/`, `/ask`, `/matrix`, `/policy`, its stylesheet): an error is a page,
    /// with the page's headers, for a person in a browser.
    Page,
    /// Everything else: `{"error": "…"}`.
    Plain,
}

impl Dialect {
    /// The dialect of a path on `state`'s server (the staff page's paths are the page's only
    /// while it is served).
    pub fn of(path: &str, state: &State) -> Dialect {
        if path.starts_with("/access/") {
            Dialect::AuthZen
        } else if path == "/v1/decide" || path == "/v1/batch" {
            Dialect::Native
        } else if state.page.enabled && crate::page::serves(path) {
            Dialect::Page
        } else {
            Dialect::Plain
        }
    }

    /// The language a refusal of this dialect is written in: the page's own `?lang=` (Swedish
    /// unless it asks for English), else the request's `?lang=` when it names one, else the
    /// server's.
    pub fn language(self, uri: &Uri, default: Language) -> Language {
        match self {
            Dialect::Page => crate::page::language_of(uri.query()),
            _ => language(uri, default, self).unwrap_or(default),
        }
    }
}

/// A request that is answered with an error.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// What went wrong (never a secret), in English.
    pub message: String,
    /// The same in Swedish, said when the answer's language is Swedish.
    pub message_sv: Option<String>,
    /// The API whose shape the body takes.
    pub dialect: Dialect,
    /// The language of a native deny's reason.
    pub language: Language,
    /// Counted as a rejection of this kind.
    pub rejection: Option<Rejection>,
}

impl ApiError {
    /// An error of `status` with `message`.
    pub fn new(status: StatusCode, dialect: Dialect, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            message_sv: None,
            dialect,
            language: Language::Sv,
            rejection: None,
        }
    }

    /// 400.
    pub fn bad_request(dialect: Dialect, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, dialect, message)
    }

    /// 413, counted.
    pub fn too_large(dialect: Dialect, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, dialect, message).counted(Rejection::TooLarge)
    }

    /// 503 before the first good load.
    pub fn not_ready(dialect: Dialect) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            dialect,
            "no policy is loaded yet (see /v1/status for the load error); the request is not decided",
        )
        .in_swedish("ingen policy är laddad ännu (/v1/status visar felet vid laddningen); frågan prövas inte")
    }

    /// 503 for a request that took longer than `limit`, counted.
    pub fn timed_out(dialect: Dialect, limit: std::time::Duration) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            dialect,
            format!(
                "the request took longer than the limit of {} ms (--request-timeout) and was not decided",
                limit.as_millis()
            ),
        )
        .in_swedish(format!(
            "begäran tog längre tid än gränsen {} ms (--request-timeout) och prövades inte",
            limit.as_millis()
        ))
        .counted(Rejection::Timeout)
    }

    /// The same error, counted as `rejection`.
    pub fn counted(mut self, rejection: Rejection) -> ApiError {
        self.rejection = Some(rejection);
        self
    }

    /// The same error, a native deny's reason in `language`.
    pub fn in_language(mut self, language: Language) -> ApiError {
        self.language = language;
        self
    }

    /// The same error, with its message in Swedish (`sv`) for an answer in Swedish.
    pub fn in_swedish(mut self, sv: impl Into<String>) -> ApiError {
        self.message_sv = Some(sv.into());
        self
    }

    /// The message in the answer's language (English where none was written in Swedish).
    pub fn message_in_language(&self) -> &str {
        match (self.language, &self.message_sv) {
            (Language::Sv, Some(sv)) => sv,
            _ => &self.message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self.dialect {
            Dialect::Native => {
                let decision = refusal(&self, self.language);
                let body = serde_json::to_vec(&decision).unwrap_or_default();
                (
                    self.status,
                    [(header::CONTENT_TYPE, "application/json")],
                    body,
                )
                    .into_response()
            }
            Dialect::AuthZen => (
                self.status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                self.message_in_language().to_string(),
            )
                .into_response(),
            Dialect::Page => crate::page::error_page(
                self.language,
                self.status,
                self.message_in_language(),
                self.language == Language::Sv && self.message_sv.is_some(),
            ),
            Dialect::Plain => {
                let body = serde_json::json!({ "error": self.message_in_language() });
                (self.status, axum::Json(body)).into_response()
            }
        };
        match self.status {
            StatusCode::UNAUTHORIZED => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"aipolicy\""),
                );
            }
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        if let Some(rejection) = self.rejection {
            response.extensions_mut().insert(rejection);
        }
        response
    }
}

/// A native error's body: a deny whose `errors` say what went wrong. A request that could not
/// be read has the reason of an invalid query; any other the fail-closed reason.
fn refusal(error: &ApiError, language: Language) -> Decision {
    let unreadable = matches!(
        error.status,
        StatusCode::BAD_REQUEST
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    if unreadable {
        return Decision::input_error(vec![error.message_in_language().to_string()], language);
    }
    Decision {
        decision: Verdict::Deny,
        reasons: vec![aipolicy::decision::fail_closed_reason(language)],
        obligations: Vec::new(),
        errors: vec![error.message_in_language().to_string()],
        notes: Vec::new(),
        request_id: None,
        incident_channel: None,
        found: Vec::new(),
    }
}

/// Whether the `Content-Type` is one of `allowed` (parameters such as `charset` aside).
fn content_type_is(headers: &HeaderMap, allowed: &[&str]) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|media| allowed.iter().any(|a| media.eq_ignore_ascii_case(a)))
}

/// Reads a request body of at most `limit` bytes whose `Content-Type` is one of `types`.
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    types: &[&str],
    limit: usize,
    dialect: Dialect,
) -> Result<Bytes, ApiError> {
    if !content_type_is(headers, types) {
        let got = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| "none".to_string(), |v| format!("`{v}`"));
        let status = match dialect {
            // AuthZEN 1.0 asks for 400 here.
            Dialect::AuthZen => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        };
        let got_sv = if got == "none" {
            "ingen".to_string()
        } else {
            got.clone()
        };
        return Err(ApiError::new(
            status,
            dialect,
            format!("the Content-Type must be {}; got {got}", types.join(" or ")),
        )
        .in_swedish(format!(
            "Content-Type måste vara {}; här är den {got_sv}",
            types.join(" eller ")
        )));
    }
    let over = || {
        ApiError::too_large(
            dialect,
            format!(
                "the request body is larger than the limit of {limit} bytes{}",
                describe_limit(limit)
            ),
        )
        .in_swedish(format!(
            "begärans kropp är större än gränsen {limit} byte{}",
            describe_limit(limit)
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        // Read a moderately oversized body to its end before answering, so that a client still
        // writing it gets the 413 instead of a broken connection; a huge one is cut off.
        if declared.is_some_and(|n| n <= DRAIN_LIMIT) {
            drain(body).await;
        }
        return Err(over());
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(cause) = source {
                if cause.is::<http_body_util::LengthLimitError>() {
                    return Err(over());
                }
                source = cause.source();
            }
            Err(
                ApiError::bad_request(dialect, format!("the request body could not be read: {e}"))
                    .in_swedish(format!("begärans kropp kunde inte läsas: {e}")),
            )
        }
    }
}

/// The most of an oversized body that is read (and thrown away) before the 413 is sent.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

/// Reads a body to its end (at most [`DRAIN_LIMIT`] bytes), keeping nothing.
async fn drain(body: Body) {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut read = 0u64;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            read = read.saturating_add(data.len() as u64);
        }
        if read > DRAIN_LIMIT {
            break;
        }
    }
}

fn describe_limit(limit: usize) -> String {
    match limit {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!(" ({} MiB)", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!(" ({} KiB)", n >> 10),
        _ => String::new(),
    }
}

/// The caller of a request: with a token file, the one whose secret it carries (401 else);
/// without, every caller (the server is on loopback). `admin` asks for an admin token (403).
pub fn authorize(
    state: &State,
    headers: &HeaderMap,
    dialect: Dialect,
    admin: bool,
) -> Result<Caller, ApiError> {
    let Some(tokens) = state.tokens.as_ref().map(crate::tokens::TokenFile::callers) else {
        return Ok(Caller {
            name: "local".into(),
            admin: true,
            names_users: true,
        });
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let caller = tokens.check(authorization).map_err(|e| {
        let (message, sv) = match e {
            AuthError::Missing => (
                "authentication required: send `Authorization: Bearer SECRET` with a secret of the token file",
                "inloggning krävs: skicka `Authorization: Bearer HEMLIGHET` med en hemlighet ur tokenfilen",
            ),
            AuthError::Invalid => (
                "the bearer token is not one of the token file's",
                "bearer-token hör inte till tokenfilens",
            ),
        };
        ApiError::new(StatusCode::UNAUTHORIZED, dialect, message)
            .in_swedish(sv)
            .counted(Rejection::Unauthenticated)
    })?;
    if admin && !caller.admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            dialect,
            format!(
                "caller `{}` may not do this: it needs an `admin` token",
                caller.name
            ),
        )
        .in_swedish(format!(
            "anroparen `{}` får inte göra detta: det kräver en `admin`-token",
            caller.name
        ))
        .counted(Rejection::Forbidden));
    }
    Ok(caller)
}

/// The language a request asks for with `?lang=sv|en`, else the server's.
pub fn language(uri: &Uri, default: Language, dialect: Dialect) -> Result<Language, ApiError> {
    let Some(query) = uri.query() else {
        return Ok(default);
    };
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("lang=") {
            return value.parse().map_err(|e: String| {
                ApiError::bad_request(dialect, format!("lang: {e}"))
                    .in_swedish(format!(
                        "lang: okänt språk `{value}`; `sv` eller `en` väntades"
                    ))
                    .in_language(default)
            });
        }
    }
    Ok(default)
}

/// The request's `X-Request-ID`, kept for its answer.
#[derive(Debug, Clone)]
pub struct RequestId(pub Option<Arc<str>>);

/// Where the extractor that lets a caller in names it, for the request log (the layer that
/// writes the log puts an empty one in every request).
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(Arc<std::sync::OnceLock<Arc<str>>>);

impl CallerSlot {
    /// Names `caller` in the slot of a request's `extensions`.
    pub fn fill(extensions: &axum::http::Extensions, caller: &Caller) {
        if let Some(slot) = extensions.get::<CallerSlot>() {
            let _ = slot.0.set(caller.name.clone());
        }
    }
}

/// The longest `X-Request-ID`, in characters: a query's `requestId` keeps the same limit
/// (`schemas/query.schema.json`).
pub const MAX_REQUEST_ID_CHARS: usize = 256;

/// Why an `X-Request-ID` breaks the rule: in English, and in Swedish.
type BrokenRule = (String, String);

/// The request's `X-Request-ID`, held to the rule of a query's `requestId`: given at most once,
/// 1 to [`MAX_REQUEST_ID_CHARS`] characters of text. `Err` says what breaks the rule.
fn request_id(headers: &HeaderMap) -> Result<Option<(HeaderValue, Arc<str>)>, BrokenRule> {
    let broken = |en: String, sv: String| {
        (
            format!("X-Request-ID: {en}; expected one header of 1 to {MAX_REQUEST_ID_CHARS} characters, as a query's `requestId`"),
            format!("X-Request-ID: {sv}; ett huvud med 1 till {MAX_REQUEST_ID_CHARS} tecken väntades, som en frågas `requestId`"),
        )
    };
    let mut values = headers.get_all(&X_REQUEST_ID).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(broken(
            "given more than once".into(),
            "angivet mer än en gång".into(),
        ));
    }
    let text = std::str::from_utf8(value.as_bytes())
        .map_err(|_| broken("not UTF-8 text".into(), "inte text i UTF-8".into()))?;
    let count = text.chars().count();
    if !(1..=MAX_REQUEST_ID_CHARS).contains(&count) {
        return Err(broken(
            format!("{count} characters"),
            format!("{count} tecken"),
        ));
    }
    Ok(Some((value.clone(), Arc::from(text))))
}

/// The outermost layer: holds `X-Request-ID` to its rule (a 400 in the route's own shape when
/// it breaks it, never echoed) and echoes it, counts the request and its latency by endpoint,
/// and logs it.
pub async fn observe(
    AxState(state): AxState<Arc<State>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let caller = CallerSlot::default();
    let (mut response, request_id) = match request_id(request.headers()) {
        Ok(request_id) => {
            request.extensions_mut().insert(RequestId(
                request_id.as_ref().map(|(_, text)| Arc::clone(text)),
            ));
            request.extensions_mut().insert(caller.clone());
            state.metrics.in_flight(true);
            let response = next.run(request).await;
            state.metrics.in_flight(false);
            (response, request_id)
        }
        Err((message, sv)) => {
            let dialect = Dialect::of(&path, &state);
            let language = dialect.language(request.uri(), state.config.language);
            let response = ApiError::bad_request(dialect, message)
                .in_swedish(sv)
                .in_language(language)
                .into_response();
            (response, None)
        }
    };
    if let Some((value, _)) = &request_id {
        response
            .headers_mut()
            .insert(X_REQUEST_ID.clone(), value.clone());
    }
    let elapsed = started.elapsed();
    let endpoint = endpoint_index(&path);
    let status = response.status();
    state.metrics.request(endpoint, status.as_u16(), elapsed);
    if let Some(rejection) = response.extensions().get::<Rejection>() {
        state.metrics.rejected(*rejection);
    }
    let caller = caller.0.get().map_or_else(|| "-".into(), Arc::clone);
    let request_id = request_id.as_ref().map_or("-", |(_, text)| &**text);
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let endpoint = ENDPOINTS[endpoint];
    if status.is_server_error() {
        tracing::warn!(target: "aipolicy::request", %method, path = endpoint, status = status.as_u16(), micros, caller = &*caller, request_id, "request");
    } else {
        tracing::info!(target: "aipolicy::request", %method, path = endpoint, status = status.as_u16(), micros, caller = &*caller, request_id, "request");
    }
    response
}

/// Limits a decision endpoint to `--max-concurrent` requests at once and `--request-timeout`
/// each; beyond either, 503 naming the limit. Gives the answer only once its decisions are
/// handed to the decision log (with `--log-sync`: durable), and hands over nothing for an
/// answer it refuses.
pub async fn limit(
    AxState(state): AxState<Arc<State>>,
    mut request: Request,
    next: Next,
) -> Response {
    let dialect = Dialect::of(request.uri().path(), &state);
    let language = dialect.language(request.uri(), state.config.language);
    let Ok(_permit) = Arc::clone(&state.concurrency).try_acquire_owned() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            dialect,
            format!(
                "the server is answering its limit of {} requests at once (--max-concurrent); retry shortly",
                state.config.max_concurrent
            ),
        )
        .in_swedish(format!(
            "servern besvarar redan sin gräns av {} begäranden samtidigt (--max-concurrent); försök igen om en stund",
            state.config.max_concurrent
        ))
        .in_language(language)
        .counted(Rejection::Overloaded)
        .into_response();
    };
    let timeout = state.config.request_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let recorder = Recorder::open();
    request.extensions_mut().insert(recorder.clone());
    let Ok(response) = tokio::time::timeout_at(deadline, next.run(request)).await else {
        recorder.discard();
        return ApiError::timed_out(dialect, timeout)
            .in_language(language)
            .into_response();
    };
    match state.hand_over(&recorder, deadline.into_std()).await {
        Ok(()) => response,
        Err(e) => {
            // Where the log is and why it failed is the operator's to read, in the server's
            // log; the answer goes to callers and, on the staff page, to anyone.
            tracing::error!("the answer is not given (--log-sync): {e}");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                dialect,
                "the decision could not be written to the decision log in time (--log-sync), so it is not given (nor logged); the server's log says why; retry shortly",
            )
            .in_swedish("beslutet kunde inte skrivas till beslutsloggen i tid (--log-sync), så det ges inte (och loggas inte); serverns logg säger varför; försök igen om en stund")
            .in_language(language)
            .into_response()
        }
    }
}
