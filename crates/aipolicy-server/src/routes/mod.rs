//! The router: which path and method each endpoint answers, and the layers around them. The
//! endpoints themselves are by API: [`native`] (`/v1/decide`, `/v1/batch`), [`authzen`]
//! (`/access/v1/…` and its metadata) and [`operations`] (health, metrics, status, reload);
//! [`asked`] reads what every decision endpoint starts with.

mod asked;
mod authzen;
mod native;
mod operations;

use std::sync::Arc;

use axum::extract::{Request, State as AxState};
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::http::{self, ApiError, Dialect};
use crate::state::State;

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
        )
        .in_swedish("begäran kunde inte prövas"))
    })
}

/// A response of `status` with `body`, of `content_type`.
fn json_response(status: StatusCode, body: Vec<u8>, content_type: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The router of every endpoint.
pub fn router(state: Arc<State>) -> Router {
    let decisions = Router::new()
        .route("/v1/decide", post(native::decide))
        .route("/v1/batch", post(native::batch))
        .route("/access/v1/evaluation", post(authzen::evaluation))
        .route("/access/v1/evaluations", post(authzen::evaluations))
        .route("/access/v1/search/resource", post(authzen::search_resource))
        .route("/v1/admin/reload", post(operations::reload))
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
        .route("/.well-known/authzen-configuration", get(authzen::metadata))
        .route("/health/live", get(operations::live))
        .route("/health/ready", get(operations::ready))
        .route("/metrics", get(operations::metrics))
        .route("/v1/status", get(operations::status))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            http::observe,
        ))
        .with_state(state)
}

/// The method each path takes: the decision endpoints and reload take POST, the staff page's
/// text box both, the rest GET.
fn method_of(path: &str) -> &'static str {
    if path == "/text" {
        "GET or POST"
    } else if path.starts_with("/access/v1/")
        || ["/v1/decide", "/v1/batch", "/v1/admin/reload"].contains(&path)
    {
        "POST"
    } else {
        "GET"
    }
}

/// A method the path does not take: 405 in the path's API shape (on the native API a deny, as
/// every answer there), naming the method it takes. (axum adds the `Allow` header.)
async fn method_not_allowed(AxState(state): AxState<Arc<State>>, request: Request) -> Response {
    let path = request.uri().path();
    let dialect = Dialect::of(path, &state);
    let language = dialect.language(request.uri(), state.config.language);
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        dialect,
        format!(
            "`{} {path}` is not served: {path} takes {}",
            request.method(),
            method_of(path)
        ),
    )
    .in_swedish(format!(
        "`{} {path}` besvaras inte: {path} tar {}",
        request.method(),
        method_of(path)
    ))
    .in_language(language)
    .into_response()
}

/// Any other path.
async fn not_found(AxState(state): AxState<Arc<State>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let dialect = Dialect::of(&path, &state);
    ApiError::new(
        StatusCode::NOT_FOUND,
        dialect,
        format!(
            "no endpoint `{} {path}`; see `aipolicy serve --help`",
            request.method()
        ),
    )
    .in_swedish(format!(
        "ingen ändpunkt `{} {path}`; se `aipolicy serve --help`",
        request.method()
    ))
    .in_language(dialect.language(request.uri(), state.config.language))
    .into_response()
}
