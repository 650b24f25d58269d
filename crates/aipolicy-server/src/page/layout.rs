//! What every page shares: the frame (skip link, navigation, language link, footer), the
//! styles, the words in both languages, and the headers that keep a page to itself.

use aipolicy::Language;
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::params::{with_pair, BadParameter};

/// `sv` or `en`, whichever `language` asks for.
pub fn tr(language: Language, sv: &'static str, en: &'static str) -> &'static str {
    match language {
        Language::Sv => sv,
        Language::En => en,
    }
}

/// The pages, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/` (and `/ask`, its answer).
    Ask,
    /// `/matrix`.
    Matrix,
    /// `/policy`.
    Policy,
    /// `/text`.
    Text,
    /// `/privacy`, linked from every page's foot.
    Privacy,
}

/// A link to `path` in `language` (Swedish needs no parameter).
pub fn link(path: &str, language: Language) -> String {
    match language {
        Language::Sv => path.to_string(),
        Language::En => format!("{path}?lang=en"),
    }
}

/// A link to `path` with `query` (an encoded query string, possibly empty).
pub fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// A whole page: `title` is also its one `h1`'s text when `heading` is `None`.
pub struct Frame<'a> {
    /// The language of the page.
    pub language: Language,
    /// The `<title>`.
    pub title: &'a str,
    /// Which page the navigation marks as current.
    pub route: Route,
    /// The path of this page, for the language link.
    pub path: &'a str,
    /// The query string's pairs, kept by the language link.
    pub pairs: &'a [(String, String)],
    /// A wide page (the matrix's tables).
    pub wide: bool,
    /// What becomes of a question asked here, said at the foot of the page; `None` on a page
    /// of a request refused before anything was asked.
    pub privacy: Option<&'a super::privacy::Privacy>,
}

impl Frame<'_> {
    /// The page around `main`.
    pub fn render(&self, main: Markup) -> Markup {
        let language = self.language;
        let t = |sv, en| tr(language, sv, en);
        let (other, other_name, other_lang) = match language {
            Language::Sv => (Some("en"), "English", "en"),
            Language::En => (None, "Svenska", "sv"),
        };
        let switch = with_query(self.path, &with_pair(self.pairs, "lang", other));
        let nav = [
            (Route::Ask, "/", t("Får jag använda AI?", "May I use AI?")),
            (Route::Matrix, "/matrix", t("Matrisen", "The matrix")),
            (Route::Policy, "/policy", t("Policyn", "The policy")),
            (Route::Text, "/text", t("Min text", "My text")),
        ];
        html! {
            (DOCTYPE)
            html lang=(language.as_str()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="referrer" content="no-referrer";
                    title { (self.title) }
                    link rel="stylesheet" href="/staff-page.css";
                }
                body {
                    a.skip href="#main" { (t("Hoppa till innehållet", "Skip to the content")) }
                    header.site {
                        nav aria-label=(t("Sidor", "Pages")) {
                            ul {
                                @for (route, path, name) in nav {
                                    li {
                                        @if route == self.route {
                                            a href=(link(path, language)) aria-current="page" { (name) }
                                        } @else {
                                            a href=(link(path, language)) { (name) }
                                        }
                                    }
                                }
                                li.lang {
                                    a href=(switch) lang=(other_lang) hreflang=(other_lang) { (other_name) }
                                }
                            }
                        }
                    }
                    main id="main" class=[self.wide.then_some("wide")] tabindex="-1" {
                        (main)
                    }
                    footer.site {
                        p {
                            (t("Svaren kommer från kommunens AI-policy och AI-register, tillämpade av aipolicy.",
                               "The answers come from the municipality's AI policy and AI register, applied by aipolicy."))
                        }
                        @if let Some(privacy) = self.privacy {
                            p.privacy {
                                (privacy.footer(language)) " "
                                @if self.route == Route::Privacy {
                                    a href=(link("/privacy", language)) aria-current="page" { (t("Så hanteras dina uppgifter", "How your information is handled")) }
                                } @else {
                                    a href=(link("/privacy", language)) { (t("Så hanteras dina uppgifter", "How your information is handled")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An HTML response with the headers every page carries: nothing may be loaded from
/// elsewhere, no script runs, no form posts elsewhere, no other site may frame it, and the
/// question in the address is neither cached nor sent on as a referrer.
pub fn respond(status: StatusCode, page: Markup) -> Response {
    let mut response = (status, page.into_string()).into_response();
    with_headers(
        &mut response,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
    );
    response
}

fn with_headers<const N: usize>(
    response: &mut Response,
    headers: [(header::HeaderName, &'static str); N],
) {
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
}

/// The 400 page of a parameter that cannot be used: which, what was given, why, and a link to
/// the same question with the closest valid value.
pub fn bad_parameter(
    language: Language,
    path: &str,
    pairs: &[(String, String)],
    bad: &BadParameter,
) -> Response {
    let t = |sv, en| tr(language, sv, en);
    let title = t(
        "Frågan kunde inte besvaras",
        "The question could not be answered",
    );
    let content = html! {
        div.verdict.problem role="alert" {
            @if bad.name.is_empty() {
                p { (with_code(bad.message(language))) }
            } @else {
                p {
                    (t("Parametern ", "The parameter ")) code { (bad.name) }
                    @if !bad.given.is_empty() {
                        (t(" har värdet ", " has the value ")) code { (bad.given) }
                    }
                    ": " (with_code(bad.message(language)))
                }
            }
        }
        @if let Some(closest) = &bad.closest {
            @let (value, name) = &**closest;
            p {
                (t("Menade du ", "Did you mean ")) strong { (name) }
                @if name != value { " (" code { (value) } ")" }
                "? "
                a href=(with_query(path, &with_pair(pairs, &bad.name, Some(value)))) {
                    (t("Ställ frågan med ", "Ask with ")) (name)
                }
            }
        }
    };
    problem_page(
        language,
        StatusCode::BAD_REQUEST,
        path,
        pairs,
        title,
        content,
    )
}

/// A message of the engine or the page (which mark names and values as `code`, as a terminal
/// or a log shows them) for a page: each backtick-quoted span as a `<code>` element, so that
/// no Markdown syntax reaches a person; a lone backtick stays as it is.
pub fn with_code(message: &str) -> Markup {
    let spans: Vec<&str> = message.split('`').collect();
    // An even number of spans means an odd number of backticks: the last one is no pair.
    let paired = if spans.len().is_multiple_of(2) {
        spans.len() - 1
    } else {
        spans.len()
    };
    html! {
        @for (i, span) in spans.iter().enumerate() {
            @if i >= paired {
                "`" (span)
            } @else if i % 2 == 1 {
                code { (span) }
            } @else {
                (span)
            }
        }
    }
}

/// A page that says the answer cannot be given (who is asking is unknown, nothing is loaded).
pub fn refusal(
    language: Language,
    status: StatusCode,
    path: &str,
    pairs: &[(String, String)],
    title: &str,
    message: &str,
) -> Response {
    let content = html! { div.verdict.problem role="alert" { p { (with_code(message)) } } };
    problem_page(language, status, path, pairs, title, content)
}

/// The page of a request the service refused before the page could answer it (beyond a limit,
/// a decision log that cannot be written, a header that breaks its rule, a method the page does
/// not take): what happened in the page's language, and the service's own words (naming a limit
/// or a rule, never where a file or the log is; in English where they were written in English
/// only, `detail_in_language` false), with every page's headers.
pub fn error_page(
    language: Language,
    status: StatusCode,
    detail: &str,
    detail_in_language: bool,
) -> Response {
    let t = |sv, en| tr(language, sv, en);
    let again = t("Försök igen om en stund.", "Try again shortly.");
    let (title, message) = match status {
        StatusCode::SERVICE_UNAVAILABLE => (
            t(
                "Tjänsten kan inte svara just nu",
                "The service cannot answer right now",
            ),
            again,
        ),
        StatusCode::NOT_FOUND => (
            t("Sidan finns inte", "There is no such page"),
            t(
                "Adressen leder inte till någon sida här.",
                "The address leads to no page here.",
            ),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            t(
                "Sidan kan inte användas så",
                "The page cannot be used this way",
            ),
            t(
                "Sidorna här öppnas bara, inget skickas till dem.",
                "The pages here are only opened; nothing is sent to them.",
            ),
        ),
        status if status.is_client_error() => (
            t(
                "Frågan kunde inte besvaras",
                "The question could not be answered",
            ),
            t(
                "Det som skickades kunde inte läsas.",
                "What was sent could not be read.",
            ),
        ),
        _ => (t("Något gick fel", "Something went wrong"), again),
    };
    let content = html! {
        div.verdict.problem role="alert" {
            p { (message) }
            @if detail_in_language {
                p { (with_code(detail)) }
            } @else {
                p lang="en" { (with_code(detail)) }
            }
        }
    };
    problem_page(language, status, "/", &[], title, content)
}

/// A question's page that gives no answer: `title`, `content` (what went wrong), and the way
/// back to the question form.
fn problem_page(
    language: Language,
    status: StatusCode,
    path: &str,
    pairs: &[(String, String)],
    title: &str,
    content: Markup,
) -> Response {
    let main = html! {
        h1 { (title) }
        (content)
        p { a href=(link("/", language)) { (tr(language, "Till frågeformuläret", "To the question form")) } }
    };
    let frame = Frame {
        language,
        title,
        route: Route::Ask,
        path,
        pairs,
        wide: false,
        privacy: None,
    };
    respond(status, frame.render(main))
}

/// `GET /staff-page.css`.
pub async fn stylesheet() -> Response {
    let mut response = CSS.as_str().into_response();
    with_headers(
        &mut response,
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
    );
    response
}

/// The styles: the matrix's own, then the page's. Colours pass WCAG AA contrast (4.5:1 for
/// text, 3:1 for the focus ring); nothing is told by colour alone; 400 px wide works; paper
/// gets the text without the navigation.
static CSS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{}\n{PAGE_CSS}", aipolicy::matrix::HTML_CSS));

const PAGE_CSS: &str = "\
*, *::before, *::after { box-sizing: border-box; }
main { max-width: 60rem; }
main.wide { max-width: 80rem; }
a { color: #0b4f9c; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid #1a4d8f; outline-offset: 2px; }
main:focus { outline: none; }
.skip { position: absolute; left: -100vw; top: 0; background: #fff; padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
header.site { background: #1a3d6b; color: #fff; }
header.site ul { list-style: none; margin: 0 auto; padding: .5rem 1.5rem; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; max-width: 80rem; }
header.site a { color: #fff; text-decoration: none; padding: .35rem 0; display: inline-block; }
header.site a:hover, header.site a[aria-current] { text-decoration: underline; text-underline-offset: .3rem; }
header.site a:focus-visible { outline-color: #fff; }
header.site li.lang { margin-left: auto; }
footer.site { max-width: 80rem; margin: 0 auto; padding: 1rem 1.5rem 2rem; color: #333; font-size: .9rem; border-top: 1px solid #ccc; }
.intro { font-size: 1.05rem; }
form fieldset { border: 1px solid #888; border-radius: 4px; margin: 0 0 1.25rem; padding: .75rem 1rem 1rem; }
form legend { font-weight: 700; font-size: 1.1rem; padding: 0 .3rem; }
.field { margin: 0 0 1.25rem; }
.field > label { display: block; font-weight: 700; font-size: 1.1rem; margin-bottom: .25rem; }
.hint { color: #444; margin: 0 0 .5rem; font-size: .95rem; }
.choice { display: flex; gap: .6rem; align-items: flex-start; margin: .45rem 0; }
.choice input { width: 1.25rem; height: 1.25rem; margin: .15rem 0 0; flex: none; }
.choice .desc { display: block; color: #444; font-size: .9rem; }
.level { font-weight: normal; color: #444; }
input[type=text], select { font: inherit; padding: .45rem .5rem; border: 2px solid #555; border-radius: 4px; width: 100%; max-width: 32rem; background: #fff; color: #1a1a1a; }
button { font: inherit; font-weight: 700; padding: .6rem 1.6rem; border: 2px solid #0b3d7a; border-radius: 4px; background: #0b4f9c; color: #fff; cursor: pointer; }
button:hover { background: #0b3d7a; }
.verdict { border: 3px solid; border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1.5rem; }
.verdict p { margin: .25rem 0; }
.verdict .word { font-size: 1.6rem; font-weight: 800; }
.verdict.yes { border-color: #0b6b0b; background: #e9f7e9; }
.verdict.no { border-color: #a30d0d; background: #fdeaea; }
.verdict.problem { border-color: #8a5a00; background: #fff4dd; }
dl.question { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
.reason { border-left: 4px solid #888; padding: .1rem 0 .1rem 1rem; margin: 0 0 1.25rem; }
.reason h3 { margin-top: .25rem; }
.code { font-weight: 700; font-family: ui-monospace, monospace; }
blockquote { margin: .5rem 0; padding: .5rem 1rem; background: #f3f3f3; border-left: 4px solid #555; }
blockquote p { margin: .25rem 0; }
.source { font-size: .9rem; color: #444; }
.rules { margin: .5rem 0 1rem; }
.rules li { margin: .4rem 0; }
.kind { font-weight: 700; }
.law { font-size: .9rem; }
table.systems { margin: .5rem 0 1rem; }
@media (max-width: 40rem) {
  header.site ul, footer.site { padding-left: .75rem; padding-right: .75rem; }
  dl.question { grid-template-columns: 1fr; }
  dl.question dd { margin-bottom: .4rem; }
  .verdict .word { font-size: 1.3rem; }
}
@media print {
  header.site, .skip, form button, .noprint { display: none; }
  a { color: inherit; }
  .verdict, blockquote { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
";
