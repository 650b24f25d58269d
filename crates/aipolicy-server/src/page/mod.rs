//! The staff page, "Får jag använda AI?": the same engine the services call, answering the
//! people the policy is about. Server-rendered HTML (maud, every value escaped) that needs no
//! JavaScript and loads nothing from elsewhere; Swedish by default, English with `?lang=en`.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the question: which AI system, which information, what to do, your role |
//! | `GET /ask?ai=ID&data=ID[&data=ID]&action=NAME&role=ROLE` | the answer: yes or no, each reason with its paragraph and the policy's words, the duties of a yes, and for a no the systems that are allowed instead |
//! | `GET /matrix` | the access matrix, every reason in words below its table |
//! | `GET /policy` | the policy's text, each paragraph linked to its rules and back |
//! | `GET /privacy` | how the page handles what is asked on it: what the decision log keeps of a question, why, how long, who reads it, the person's rights, and the municipality's own privacy notice |
//! | `GET /text`, `POST /text` | "Vad innehåller min text?": a box to paste a text into, answered with what was found in it and the information class it makes the text; nothing of the text is kept or logged |
//! | `GET /staff-page.css` | the styles (screen, phone, print) |
//!
//! The page needs no token: it is for people, whose browsers carry none, and it shows only
//! what the municipality publishes to its staff (the policy, the AI systems and the
//! information classes of the register, never its users). With `--trust-user-header NAME`
//! the page decides as the registered user a sign-in proxy names in that header.

mod ask;
mod form;
mod layout;
mod matrix;
mod params;
mod policy;
pub mod privacy;
mod text;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aipolicy::inputs::Inputs;
use aipolicy::policy_text::{PolicyText, PolicyTextError, BUNDLED_POLICY_TEXT_NAME};
use axum::http::HeaderName;
use axum::routing::get;
use axum::Router;

use crate::state::State;

/// The file a project's policy text is read from, in the project's folder.
pub const PROJECT_POLICY_TEXT: &str = "policy.md";

/// What the staff page is set up with at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The policy's own words (`/policy`, and the quotes of an answer).
    pub text: Arc<PolicyText>,
    /// Where they come from, as the start log names it.
    pub text_source: String,
    /// The file they were read from (`None`: the embedded Askersund text).
    pub text_file: Option<String>,
    /// `--trust-user-header`: the request header that names the registered user.
    pub user_header: Option<HeaderName>,
    /// Whether the page is served (`--no-staff-page`: not).
    pub enabled: bool,
    /// What becomes of a question asked on the page, as every page says.
    pub privacy: privacy::Privacy,
    /// The municipality's own privacy notice (`/privacy`), when it has one.
    pub privacy_notice: Option<Arc<PolicyText>>,
    /// Where it comes from, as the start log names it.
    pub privacy_notice_source: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            text: Arc::new(PolicyText::bundled().unwrap_or(PolicyText {
                title: None,
                sections: Vec::new(),
            })),
            text_source: format!("embedded ({BUNDLED_POLICY_TEXT_NAME})"),
            text_file: None,
            user_header: None,
            enabled: true,
            privacy: privacy::Privacy::default(),
            privacy_notice: None,
            privacy_notice_source: "none (the page says what the service does)".to_string(),
        }
    }
}

impl Settings {
    /// The policy text: `file` when given, else the project's `policy.md` when it has one,
    /// else the embedded Askersund text; the privacy notice: `privacy_notice` when given, else
    /// the project's `privacy.md` when it has one, else none.
    pub fn resolve(
        file: Option<&Path>,
        privacy_notice: Option<&Path>,
        inputs: &Inputs,
        user_header: Option<HeaderName>,
    ) -> Result<Settings, PolicyTextError> {
        let in_project = |name: &str| {
            inputs
                .project
                .as_ref()
                .map(|root| root.join(name))
                .filter(|file| file.is_file())
        };
        let chosen: Option<PathBuf> = file
            .map(Path::to_path_buf)
            .or_else(|| in_project(PROJECT_POLICY_TEXT));
        let mut settings = Settings {
            user_header,
            ..Settings::default()
        };
        if let Some(path) = chosen {
            settings.text = Arc::new(PolicyText::from_file(&path)?);
            settings.text_source = path.display().to_string();
            settings.text_file = Some(path.display().to_string());
        }
        let notice: Option<PathBuf> = privacy_notice
            .map(Path::to_path_buf)
            .or_else(|| in_project(privacy::PROJECT_PRIVACY_NOTICE));
        if let Some(path) = notice {
            settings.privacy_notice = Some(Arc::new(PolicyText::from_file(&path)?));
            settings.privacy_notice_source = path.display().to_string();
        }
        Ok(settings)
    }
}

/// The paths of [`router`].
const PATHS: [&str; 7] = [
    "/",
    "/ask",
    "/matrix",
    "/policy",
    "/privacy",
    "/text",
    "/staff-page.css",
];

/// Whether `path` is one of the staff page's.
pub fn serves(path: &str) -> bool {
    PATHS.contains(&path)
}

pub(crate) use layout::error_page;
pub(crate) use params::language_of;

/// The staff page's routes.
pub fn router() -> Router<Arc<State>> {
    Router::new()
        .route("/", get(form::page))
        .route("/ask", get(ask::page))
        .route("/matrix", get(matrix::page))
        .route("/policy", get(policy::page))
        .route("/privacy", get(privacy::page))
        .route(
            "/text",
            get(text::page)
                .post(text::answer)
                .layer(axum::extract::DefaultBodyLimit::max(
                    text::MAX_TEXT_FORM_BYTES,
                )),
        )
        .route("/staff-page.css", get(layout::stylesheet))
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Asker {
    /// A visitor, who names a role.
    Visitor,
    /// The registered user the sign-in proxy names.
    SignedIn(String),
    /// `--trust-user-header` is set, but the request has no such header (or an empty or
    /// unreadable one): the page answers for nobody.
    Nobody(HeaderName),
}

impl Asker {
    /// Who asks this request.
    pub(crate) fn of(state: &State, headers: &axum::http::HeaderMap) -> Asker {
        let Some(name) = &state.page.user_header else {
            return Asker::Visitor;
        };
        match headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
        {
            Some(id) if !id.is_empty() => Asker::SignedIn(id.to_string()),
            _ => Asker::Nobody(name.clone()),
        }
    }
}

/// What every page starts with: its language, its parameters and the policy in force.
pub(crate) struct Begun {
    /// The language asked for.
    pub language: aipolicy::Language,
    /// The parameters, read.
    pub raw: params::Raw,
    /// The policy in force.
    pub policy: Arc<crate::load::Loaded>,
}

/// Reads the language and the parameters and takes the policy in force, or the page that says
/// why not: a 400 naming a bad parameter, a 503 before the first policy is loaded.
pub(crate) fn begin(
    state: &State,
    query: Option<&str>,
    path: &str,
) -> Result<Begun, Box<axum::response::Response>> {
    let language = params::language_of(query);
    let t = |sv, en| layout::tr(language, sv, en);
    let raw =
        params::read(query).map_err(|bad| layout::bad_parameter(language, path, &[], &bad))?;
    let Some(policy) = state.current() else {
        return Err(Box::new(layout::refusal(
            language,
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            path,
            &raw.pairs,
            t("Ingen policy är inläst", "No policy is loaded"),
            t(
                "Tjänsten har ännu ingen policy inläst och kan inte svara. Försök igen om en stund.",
                "The service has no policy loaded yet and cannot answer. Try again shortly.",
            ),
        )));
    };
    Ok(Begun {
        language,
        raw,
        policy,
    })
}
