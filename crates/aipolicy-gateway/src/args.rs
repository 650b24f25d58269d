//! The command line of `aipolicy gateway`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[cfg(feature = "clap")]
use aipolicy_server::args::{parse_duration, parse_header_name};
use aipolicy_server::args::{LangArg, LogFormat};

/// The default address: loopback only, beside `aipolicy serve`'s 8282.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8283";

/// The default largest request body: a long conversation's text, well within the 1 MiB of text
/// the engine reads, with room for the JSON around it.
pub const DEFAULT_MAX_BODY: usize = 2 * 1024 * 1024;

/// Arguments of `aipolicy gateway`.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[cfg_attr(
    feature = "clap",
    command(
        after_help = "Endpoints (OpenAI-compatible; `model` names an AI system of the register, or one of its `models`):
  POST /v1/chat/completions        decided, then forwarded to the system's `endpoint` (streamed or not)
  POST /v1/embeddings              decided, then forwarded
  GET  /v1/models                  the systems with an endpoint this caller's user may use now
  ANY  /ext-authz/<original path>  Envoy's ext_authz HTTP service: 200 (allowed) or 403 (refused)
  GET  /health/live, /health/ready

Request headers: Authorization: Bearer SECRET (a caller of --token-file); X-AIPolicy-User: ID
(the end user; only for tokens marked `names-users`); X-AIPolicy-Data: class,class (declared
information classes); X-AIPolicy-Action: use|decide|publish|...; X-AIPolicy-Language: sv|en
(else Accept-Language).
Answers: allowed -> the model's answer with X-AIPolicy-Decision-Id, X-AIPolicy-Duties;
refused -> 403 {\"error\": {\"message\", \"type\": \"policy_violation\", \"code\": \"<first rule id>\"}};
upstream down or garbled -> 502, slow -> 504 (\"type\": \"upstream_error\"). See docs/gateway.md.

Example:
  aipolicy gateway --token-file tokens --default-data oppen
  curl -s localhost:8283/v1/chat/completions -H 'Authorization: Bearer SECRET' \\
    -H 'Content-Type: application/json' -H 'X-AIPolicy-Data: intern' \\
    -d '{\"model\":\"lokal-sprakmodell\",\"messages\":[{\"role\":\"user\",\"content\":\"Hej\"}]}'"
    )
)]
pub struct GatewayArgs {
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
    /// Callers and the SHA-256 of their secrets, `NAME SHA256HEX [admin] [names-users]` a line (as for `aipolicy serve`)
    #[cfg_attr(feature = "clap", arg(long, value_name = "FILE"))]
    pub token_file: Option<PathBuf>,
    /// Take the signed-in user's register id from this request header, set by the municipality's
    /// sign-in proxy (as the staff page does). Only safe when every request comes through that
    /// proxy, which must remove the header from what clients send
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME", value_parser = parse_header_name))]
    pub trust_user_header: Option<axum::http::HeaderName>,
    /// The class of a text in which nothing is found and for which the caller declared none;
    /// without it such a request is refused, never taken as open
    #[cfg_attr(feature = "clap", arg(long, value_name = "CLASS"))]
    pub default_data: Option<String>,
    /// Default language of refusals (a request may ask with X-AIPolicy-Language or Accept-Language)
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = LangArg::Sv))]
    pub lang: LangArg,
    /// Largest request body, in bytes (more: 413)
    #[cfg_attr(feature = "clap", arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY))]
    pub max_body: usize,
    /// Most requests answered at once, streams included; more get 503 with Retry-After
    #[cfg_attr(feature = "clap", arg(long, value_name = "N", default_value_t = 512))]
    pub max_concurrent: usize,
    /// Longest a request may take to send its headers and body and be decided (then 503; a connection still sending headers is closed)
    #[cfg_attr(feature = "clap", arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration))]
    pub request_timeout: Duration,
    /// Longest the connection to an AI system's endpoint may take (then 502)
    #[cfg_attr(feature = "clap", arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration))]
    pub upstream_connect_timeout: Duration,
    /// Longest an AI system may take to begin its answer (its headers; then 504). A request that is not streamed waits this long for the whole answer to begin
    #[cfg_attr(feature = "clap", arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration))]
    pub upstream_timeout: Duration,
    /// Longest an answer may pause between two pieces while it streams (then the answer is cut off)
    #[cfg_attr(feature = "clap", arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration))]
    pub upstream_idle_timeout: Duration,
    /// How often the policies, schema, register and token file are checked for changes (0: never; SIGHUP still reloads)
    #[cfg_attr(feature = "clap", arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration))]
    pub watch: Duration,
    /// Longest a shutdown waits for requests in flight, streams included
    #[cfg_attr(feature = "clap", arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration))]
    pub shutdown_timeout: Duration,
    /// Decisions remembered per policy revision, by kind of query (0: none)
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "N", default_value_t = 65_536)
    )]
    pub memo: usize,
    /// Format of the request log on stderr
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = LogFormat::Text))]
    pub log_format: LogFormat,
    /// Do not name the inputs in force, nor log each request (errors are still logged)
    #[cfg_attr(feature = "clap", arg(short, long))]
    pub quiet: bool,
    /// The decision log
    #[cfg_attr(feature = "clap", command(flatten))]
    pub log: aipolicy_log::LogArgs,
    /// Where the gateway takes "today" from (the `aipolicy` command fixes it with
    /// `AIPOLICY_TODAY`; a test fixes it in code).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub clock: aipolicy::Clock,
}

impl Default for GatewayArgs {
    fn default() -> Self {
        GatewayArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 8283)),
            register: None,
            policies: None,
            schema: None,
            token_file: None,
            trust_user_header: None,
            default_data: None,
            lang: LangArg::Sv,
            max_body: DEFAULT_MAX_BODY,
            max_concurrent: 512,
            request_timeout: Duration::from_secs(10),
            upstream_connect_timeout: Duration::from_secs(5),
            upstream_timeout: Duration::from_secs(120),
            upstream_idle_timeout: Duration::from_secs(60),
            watch: Duration::from_secs(2),
            shutdown_timeout: Duration::from_secs(30),
            memo: 65_536,
            log_format: LogFormat::Text,
            quiet: false,
            log: aipolicy_log::LogArgs::default(),
            clock: aipolicy::Clock::system(),
        }
    }
}
