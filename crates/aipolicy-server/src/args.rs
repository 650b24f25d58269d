//! The command line of `aipolicy serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use aipolicy::Language;

/// `--lang` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum LangArg {
    /// Swedish.
    #[default]
    Sv,
    /// English.
    En,
}

impl From<LangArg> for Language {
    fn from(lang: LangArg) -> Language {
        match lang {
            LangArg::Sv => Language::Sv,
            LangArg::En => Language::En,
        }
    }
}

/// The default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8282";

/// Arguments of `aipolicy serve`.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[cfg_attr(
    feature = "clap",
    command(after_help = "Endpoints:
  POST /v1/decide                  a query JSON -> the Decision JSON with decisionId and policyRevision
  POST /v1/batch                   JSON Lines (application/x-ndjson) in -> JSON Lines out, in order
  POST /access/v1/evaluation       AuthZEN 1.0 Access Evaluation
  POST /access/v1/evaluations      AuthZEN 1.0 Access Evaluations (execute_all, deny_on_first_deny, permit_on_first_permit)
  POST /access/v1/search/resource  AuthZEN 1.0 Resource Search: which AI systems may this user use?
  GET  /.well-known/authzen-configuration
  GET  /health/live, /health/ready, /metrics (Prometheus), /v1/status
  (the decision log, --log, has no endpoint: read it with `aipolicy audit`)
  POST /v1/admin/reload            reload now (an admin token); also on SIGHUP and when a file changes

Staff page, for people in a browser (no token; never shows the register's users; --no-staff-page: off):
  GET  /                           \"Får jag använda AI?\": which AI system, which information, what to do, your role
  GET  /ask?ai=ID&data=ID[&data=ID]&action=NAME&role=ROLE[&unit=UNIT][&lang=en]
                                   the answer: yes or no, each reason with its paragraph and the
                                   policy's words, the duties of a yes, what is allowed instead
  GET  /matrix[?action=NAME], /policy   the access matrix; the policy text linked to its rules

Token file: one caller a line, `NAME SHA256HEX [admin] [names-users]` (SHA-256 of the caller's secret,
`printf %s SECRET | sha256sum`); callers send `Authorization: Bearer SECRET`. Without a token
file the server only listens on loopback, and every local caller is let in. It is read again on
every reload, on its own: a broken one (in /v1/status and /metrics) lets in only the callers it
and the last good file both name, until it is mended, and never holds up a policy reload.

Example:
  aipolicy serve --listen 127.0.0.1:8282
  curl -s localhost:8282/v1/decide -H 'Content-Type: application/json' \\
    -d '{\"user\":\"anna\",\"ai\":\"chatgpt\",\"data\":\"intern\"}'")
)]
pub struct ServeArgs {
    /// Address to listen on (a non-loopback address needs --token-file)
    #[cfg_attr(feature = "clap", arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN))]
    pub listen: SocketAddr,
    /// Register YAML [default: the project's register.yaml, else the embedded Askersund register]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FILE"))]
    pub register: Option<PathBuf>,
    /// Folder of .cedar policy files [default: the project's policies/, else the embedded policies]
    #[cfg_attr(feature = "clap", arg(long, value_name = "DIR"))]
    pub policies: Option<PathBuf>,
    /// Cedar schema file [default: the project's schemas/aipolicy.cedarschema, else the embedded schema]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FILE"))]
    pub schema: Option<PathBuf>,
    /// Deny every user the register does not list (U0, `aipolicy-unregistered-user`), on every API and the staff page: for a register that lists every user. Also `registered-users-only = true` in aipolicy.toml
    #[cfg_attr(feature = "clap", arg(long))]
    pub registered_users_only: bool,
    /// Callers and the SHA-256 of their secrets, `NAME SHA256HEX [admin] [names-users]` a line
    #[cfg_attr(feature = "clap", arg(long, value_name = "FILE"))]
    pub token_file: Option<PathBuf>,
    /// Scenario folder (or file) every new policy must pass before it is swapped in
    #[cfg_attr(feature = "clap", arg(long, value_name = "DIR"))]
    pub reload_gate: Option<PathBuf>,
    /// How often the policies, schema, register and token file are checked for changes (0: never; SIGHUP and /v1/admin/reload still reload)
    #[cfg_attr(feature = "clap", arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration))]
    pub watch: Duration,
    /// Default language of reasons and duties (a request may ask `?lang=en`)
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = LangArg::Sv))]
    pub lang: LangArg,
    /// Largest request body of /v1/batch and /access/v1/evaluations, in bytes (single queries: 2 MiB)
    #[cfg_attr(feature = "clap", arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024))]
    pub max_body: usize,
    /// Most lines in one /v1/batch request (a blank line counts: it gets a decision too), and most evaluations in one /access/v1/evaluations request
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "N", default_value_t = 10_000)
    )]
    pub max_batch: usize,
    /// Most requests answered at once; more get 503 with Retry-After
    #[cfg_attr(feature = "clap", arg(long, value_name = "N", default_value_t = 512))]
    pub max_concurrent: usize,
    /// Longest a request may take before it gets 503; a connection that has not sent a request's whole headers by then (its first, or the next after an answer) is closed
    #[cfg_attr(feature = "clap", arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration))]
    pub request_timeout: Duration,
    /// Longest a shutdown waits for requests in flight
    #[cfg_attr(feature = "clap", arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration))]
    pub shutdown_timeout: Duration,
    /// Decisions remembered per policy revision, by kind of query (0: none)
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "N", default_value_t = 65_536)
    )]
    pub memo: usize,
    /// Base URL announced in /.well-known/authzen-configuration [default: from the request's Host]
    #[cfg_attr(feature = "clap", arg(long, value_name = "URL"))]
    pub public_url: Option<String>,
    /// Staff page: take the registered user's id from this request header, set by the
    /// municipality's sign-in proxy, instead of asking the visitor's role. Only safe when
    /// every request comes through that proxy, which must remove the header from what clients
    /// send: anyone who can reach the server directly can name any user
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME", value_parser = parse_header_name))]
    pub trust_user_header: Option<axum::http::HeaderName>,
    /// Serve only the APIs: no staff page (/, /ask, /matrix, /policy answer 404)
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_staff_page: bool,
    /// Behind --trust-user-header with --log: write the signed-in person's user id into the
    /// decision log as it is. Without it, such a service must pseudonymize
    /// (--log-pseudonymize), and refuses to start otherwise
    #[cfg_attr(feature = "clap", arg(long))]
    pub staff_page_user_ids: bool,
    /// Staff page: the policy's own text (`/policy`) [default: the project's policy.md, else the embedded Askersund text]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FILE"))]
    pub policy_text: Option<PathBuf>,
    /// Staff page: the municipality's privacy notice, shown on /privacy below what the service
    /// itself keeps [default: the project's privacy.md, else none]
    #[cfg_attr(feature = "clap", arg(long, value_name = "FILE"))]
    pub privacy_notice: Option<PathBuf>,
    /// Format of the request log on stderr
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = LogFormat::Text))]
    pub log_format: LogFormat,
    /// Do not name the inputs in force, nor log each request (errors are still logged)
    #[cfg_attr(feature = "clap", arg(short, long))]
    pub quiet: bool,
    /// The decision log
    #[cfg_attr(feature = "clap", command(flatten))]
    pub log: aipolicy_log::LogArgs,
    /// Where the service takes "today" from: the system clock in Europe/Stockholm (the
    /// `aipolicy` command fixes it with `AIPOLICY_TODAY`; a test moves a manual clock). A
    /// request cannot give its own day: the service refuses `at`.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub clock: aipolicy::Clock,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 8282)),
            register: None,
            policies: None,
            schema: None,
            registered_users_only: false,
            token_file: None,
            reload_gate: None,
            watch: Duration::from_secs(2),
            lang: LangArg::Sv,
            max_body: 4 * 1024 * 1024,
            max_batch: 10_000,
            max_concurrent: 512,
            request_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
            memo: 65_536,
            public_url: None,
            log_format: LogFormat::Text,
            quiet: false,
            trust_user_header: None,
            policy_text: None,
            privacy_notice: None,
            no_staff_page: false,
            staff_page_user_ids: false,
            log: aipolicy_log::LogArgs::default(),
            clock: aipolicy::Clock::system(),
        }
    }
}

/// `--log-format` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum LogFormat {
    /// One line a request, `key=value` fields.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

/// A request header's name, as `--trust-user-header` takes it.
pub fn parse_header_name(text: &str) -> Result<axum::http::HeaderName, String> {
    let name = axum::http::HeaderName::from_bytes(text.trim().as_bytes())
        .map_err(|_| format!("`{text}` is not a header name; write e.g. X-Remote-User"))?;
    let reserved = [
        axum::http::header::AUTHORIZATION,
        axum::http::header::COOKIE,
        axum::http::header::HOST,
        axum::http::header::CONTENT_TYPE,
        axum::http::header::CONTENT_LENGTH,
    ];
    if reserved.contains(&name) {
        return Err(format!("`{name}` carries something else; name the header your sign-in proxy sets, e.g. X-Remote-User"));
    }
    Ok(name)
}

/// `250ms`, `2s`, `1m` or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |at| text.split_at(at));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 250ms, 2s or 1m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        other => return Err(format!("unknown unit `{other}`; use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_header_is_a_header_of_its_own() {
        assert_eq!(parse_header_name("X-Remote-User").unwrap(), "x-remote-user");
        assert!(parse_header_name("Authorization")
            .unwrap_err()
            .contains("sign-in proxy"));
        assert!(parse_header_name("not a header").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("1h").is_err());
        assert!(parse_duration("x").is_err());
    }
}
