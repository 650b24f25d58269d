//! `GET /matrix[?action=NAME]`: the access matrix of the core library, every reason in words
//! below its table (no tooltips), in the page's frame.

use std::sync::Arc;

use aipolicy::matrix::{Audience, Matrix};
use aipolicy::{Action, Context};
use axum::extract::{RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::form::action_label;
use super::layout::{bad_parameter, link, refusal, respond, tr, Frame, Route};
use super::params::{self};
use super::{begin, Begun};
use crate::state::State;

/// `GET /matrix`.
pub async fn page(AxState(state): AxState<Arc<State>>, RawQuery(query): RawQuery) -> Response {
    let Begun {
        language,
        raw,
        policy,
    } = match begin(&state, query.as_deref(), "/matrix") {
        Ok(begun) => begun,
        Err(page) => return *page,
    };
    let t = |sv, en| tr(language, sv, en);
    let action = match params::action(raw.action.as_deref()) {
        Ok(action) => action,
        Err(bad) => return bad_parameter(language, "/matrix", &raw.pairs, &bad),
    };
    let context: Context = raw.context;
    let audience = Audience {
        ai_literacy: raw.ai_literacy,
        unit: raw.unit.clone().filter(|unit| !unit.is_empty()),
    };
    // The units information is restricted to: never the units the register's users are in,
    // which no page shows.
    let units = params::units(policy.engine.register());
    if let Some(unit) = audience
        .unit
        .as_deref()
        .filter(|u| !units.iter().any(|known| known == u))
    {
        let near = aipolicy::suggest::closest(unit, units.iter().map(String::as_str))
            .map(|u| (u.to_string(), u.to_string()));
        let bad = params::BadParameter::new(
            "unit",
            unit,
            format!("Enheten `{unit}` är inte en av dem som registrets information är begränsad till; välj en av listan."),
            format!("The unit `{unit}` is not one of those the register's information is restricted to; choose one from the list."),
        )
        .closest(near);
        return bad_parameter(language, "/matrix", &raw.pairs, &bad);
    }
    let for_matrix = audience.clone();
    let computed = tokio::task::spawn_blocking(move || {
        Matrix::compute_for(&policy.engine, action, context, &for_matrix, language)
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
                &e.text_in(language),
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
            div.field {
                label for="unit" { (t("Enhet", "Unit")) }
                select #unit name="unit" {
                    option value="" selected[audience.unit.is_none()] {
                        (t("informationens egen förvaltning", "the information's own unit"))
                    }
                    @for unit in &units {
                        option value=(unit) selected[audience.unit.as_deref() == Some(unit.as_str())] { (unit) }
                    }
                }
            }
            div.choice {
                input #ai-literacy type="checkbox" name="aiLiteracy" value="true" checked[audience.ai_literacy];
                label for="ai-literacy" { (t("Har gått kommunens AI-utbildning", "Has had the municipality's AI training")) }
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
        privacy: Some(&state.page.privacy),
    };
    respond(StatusCode::OK, frame.render(main))
}
