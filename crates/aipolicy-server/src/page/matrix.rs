//! `GET /matrix[?action=NAME]`: the access matrix of the core library, every reason in words
//! below its table (no tooltips), in the page's frame.

use std::sync::Arc;

use aipolicy::matrix::Matrix;
use aipolicy::{Action, Context};
use axum::extract::{RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::form::action_label;
use super::layout::{bad_parameter, link, refusal, respond, tr, Frame, Route};
use super::params::{self, language_of};
use crate::state::State;

/// `GET /matrix`.
pub async fn page(AxState(state): AxState<Arc<State>>, RawQuery(query): RawQuery) -> Response {
    let language = language_of(query.as_deref(), state.config.language);
    let t = |sv, en| tr(language, sv, en);
    let raw = match params::read(query.as_deref()) {
        Ok(raw) => raw,
        Err(bad) => return bad_parameter(language, "/matrix", &[], &bad),
    };
    let action = match params::action(raw.action.as_deref()) {
        Ok(action) => action,
        Err(bad) => return bad_parameter(language, "/matrix", &raw.pairs, &bad),
    };
    let Some(policy) = state.current() else {
        return refusal(
            language,
            StatusCode::SERVICE_UNAVAILABLE,
            "/matrix",
            &raw.pairs,
            t("Ingen policy är inläst", "No policy is loaded"),
            t(
                "Tjänsten har ännu ingen policy inläst. Försök igen om en stund.",
                "The service has no policy loaded yet. Try again shortly.",
            ),
        );
    };
    let context: Context = raw.context;
    let computed = tokio::task::spawn_blocking(move || {
        Matrix::compute(&policy.engine, action, context, language)
    })
    .await;
    let matrix = match computed {
        Ok(Ok(matrix)) => matrix,
        Ok(Err(e)) => {
            return refusal(
                language,
                StatusCode::BAD_REQUEST,
                "/matrix",
                &raw.pairs,
                t(
                    "Matrisen kunde inte beräknas",
                    "The matrix could not be computed",
                ),
                &e.to_string(),
            )
        }
        Err(_) => {
            return refusal(
                language,
                StatusCode::INTERNAL_SERVER_ERROR,
                "/matrix",
                &raw.pairs,
                t(
                    "Matrisen kunde inte beräknas",
                    "The matrix could not be computed",
                ),
                "",
            )
        }
    };
    let title = matrix.title_in(language);
    let main = html! {
        h1 { (title) }
        form.noprint method="get" action="/matrix" {
            @if language == aipolicy::Language::En { input type="hidden" name="lang" value="en"; }
            div.field {
                label for="action" { (t("Handling", "Action")) }
                select #action name="action" {
                    @for a in Action::ALL {
                        option value=(a.as_str()) selected[a == action] { (action_label(a, language)) }
                    }
                }
            }
            button type="submit" { (t("Visa", "Show")) }
        }
        (matrix.html_content(language))
        p { a href=(link("/", language)) { (t("Fråga om ett enskilt fall", "Ask about a single case")) } }
    };
    let frame = Frame {
        language,
        title: &title,
        route: Route::Matrix,
        path: "/matrix",
        pairs: &raw.pairs,
        wide: true,
    };
    respond(StatusCode::OK, frame.render(main))
}
