#![doc = include_str!("../README.md")]

pub mod args;
pub mod authzen;
pub mod connections;
pub mod http;
pub mod json;
pub mod load;
pub mod metrics;
pub mod page;
pub mod record;
mod routes;
pub mod state;
pub mod time;
pub mod tokens;
pub mod watch;

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use aipolicy::inputs::{Inputs, Overrides};
use tokio::net::TcpListener;

pub use aipolicy_log::LogArgs;
pub use args::ServeArgs;
pub use authzen::parse_evaluation;
pub use state::{AnswerSink, DecisionRecord, DecisionSink, State};

/// Why the service could not start (exit code 2).
#[derive(Debug)]
pub enum StartError {
    /// The arguments do not allow a safe start (a non-loopback `--listen` without tokens).
    Unsafe(String),
    /// The project or the token file cannot be used.
    Inputs(String),
    /// The address cannot be listened on.
    Bind(SocketAddr, std::io::Error),
    /// The runtime could not be made.
    Runtime(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Unsafe(message) | StartError::Inputs(message) => f.write_str(message),
            StartError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            StartError::Runtime(e) => write!(f, "cannot start the runtime: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A bound, not yet running, service.
pub struct Server {
    state: Arc<State>,
    listener: TcpListener,
    args: ServeArgs,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// What a service of this crate (`serve`, `gateway`) starts from: the inputs in force in the
/// current folder (flags over the project's files over the embedded default), that folder, and
/// the callers' tokens.
#[derive(Debug)]
pub struct Started {
    /// The inputs in force.
    pub inputs: Inputs,
    /// The folder they were resolved in.
    pub cwd: std::path::PathBuf,
    /// The token file's callers, when there is one.
    pub tokens: Option<tokens::Tokens>,
}

impl Started {
    /// Refuses to listen on a non-loopback `listen` without a token file (every caller would
    /// be let in), resolves the inputs and reads the token file (warning when it names no
    /// caller).
    pub fn resolve(
        listen: SocketAddr,
        token_file: Option<&std::path::Path>,
        overrides: Overrides,
    ) -> Result<Started, StartError> {
        if token_file.is_none() && !listen.ip().is_loopback() {
            return Err(StartError::Unsafe(format!(
                "refusing to listen on {listen} without --token-file: every caller would be let in; listen on loopback (127.0.0.1) or give callers tokens"
            )));
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
        let inputs =
            Inputs::resolve(&overrides, &cwd).map_err(|e| StartError::Inputs(e.to_string()))?;
        let tokens = match token_file {
            Some(file) => {
                let tokens = tokens::Tokens::from_file(file)
                    .map_err(|e| StartError::Inputs(e.to_string()))?;
                if tokens.is_empty() {
                    tracing::warn!(file = %file.display(), "the token file names no caller: every request will get 401");
                }
                Some(tokens)
            }
            None => None,
        };
        Ok(Started {
            inputs,
            cwd,
            tokens,
        })
    }
}

impl Server {
    /// Resolves the inputs in force in the current folder (flags over the project's files over
    /// the embedded default), reads the token file and listens on `--listen`. Refuses a
    /// non-loopback address without a token file.
    pub async fn bind(args: ServeArgs) -> Result<Server, StartError> {
        let Started {
            inputs,
            cwd,
            tokens,
        } = Started::resolve(
            args.listen,
            args.token_file.as_deref(),
            Overrides {
                policies: args.policies.clone(),
                schema: args.schema.clone(),
                register: args.register.clone(),
                invariants: None,
                registered_users_only: args.registered_users_only,
            },
        )?;
        let config = state::Config {
            language: args.lang.into(),
            max_body: args.max_body,
            max_batch: args.max_batch,
            max_concurrent: args.max_concurrent,
            request_timeout: args.request_timeout,
            memo: args.memo,
            public_url: args.public_url.clone(),
            token_file: args.token_file.clone(),
            reload_gate: args.reload_gate.clone(),
            clock: args.clock.clone(),
        };
        let listener = TcpListener::bind(args.listen)
            .await
            .map_err(|e| StartError::Bind(args.listen, e))?;
        let mut page = page::Settings::resolve(
            args.policy_text.as_deref(),
            args.privacy_notice.as_deref(),
            &inputs,
            args.trust_user_header.clone(),
        )
        .map_err(|e| StartError::Inputs(e.to_string()))?;
        page.enabled = !args.no_staff_page;
        page.privacy = page_privacy(&args, page.enabled)?;
        if args.clock.is_fixed() {
            // Not an error, but never quiet: every decision is made as on that day, and the
            // decision log records them as made now.
            tracing::warn!(
                "day: {}: the service decides as on this day, not today (is {} set?){}; /v1/status shows it",
                args.clock.describe(),
                aipolicy::clock::TODAY_VARIABLE,
                if args.log.log.is_some() {
                    ", and the decision log records these decisions as made now"
                } else {
                    ""
                }
            );
        }
        if !args.quiet {
            tracing::info!("inputs: {}", inputs.describe(&cwd));
            if !args.clock.is_fixed() {
                tracing::info!("day: {}", args.clock.describe());
            }
            if page.enabled {
                // The address bound, so that `--listen 127.0.0.1:0` shows the port it got.
                let addr = listener.local_addr().unwrap_or(args.listen);
                tracing::info!(
                    "staff page: http://{addr}/ (policy text: {}; privacy notice: {})",
                    page.text_source,
                    page.privacy_notice_source
                );
            }
        }
        if page.enabled && page.user_header.is_none() && inputs.registered_users_only {
            tracing::warn!("only the register's users may use AI, and the staff page knows no one (no --trust-user-header): it answers every visitor no, and says why");
        }
        if let Some(header) = &page.user_header {
            tracing::warn!(header = %header, "the staff page decides as the user named in this header: safe only if every request comes through the sign-in proxy that sets it");
        }
        let mut state = State::new(config, inputs, tokens);
        state.page = page;
        Ok(Server {
            state: Arc::new(state),
            listener,
            args,
        })
    }

    /// The address it listens on (the port chosen, for `--listen 127.0.0.1:0`).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (for tests and embedders).
    pub fn state(&self) -> Arc<State> {
        Arc::clone(&self.state)
    }

    /// Gives every decision whose answer is given to `sink` (the decision log's seam), each
    /// answer's records together. Before [`Server::run`].
    pub fn with_sink(mut self, sink: Arc<dyn AnswerSink>) -> Server {
        if let Some(state) = Arc::get_mut(&mut self.state) {
            state.sink = Some(sink);
            // A sink of an embedder's own: the page says its questions are logged, for as long
            // as the municipality has decided.
            if state.page.privacy.logged.is_none() {
                state.page.privacy.logged = Some(page::privacy::Logged {
                    who: if state.page.user_header.is_some() {
                        page::privacy::Who::UserId
                    } else {
                        page::privacy::Who::RoleOnly
                    },
                    retention: None,
                });
            }
        }
        self
    }

    /// Loads the policy, then serves until `shutdown` completes; then stops taking connections,
    /// lets the requests in flight finish (at most `--shutdown-timeout`) and returns. Watches
    /// the files every `--watch`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state;
        let addr = self.listener.local_addr()?;
        tracing::info!(%addr, "listening");
        let watcher = watch::spawn(Arc::clone(&state), self.args.watch);
        let loader = {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let _ = state.reload("start").await;
            })
        };
        let app = routes::router(Arc::clone(&state));
        // A request's headers have the time of the whole request: a connection still sending
        // them is not yet a request that --max-concurrent counts, so this is its only bound.
        connections::serve_draining(
            self.listener,
            app,
            state.config.request_timeout,
            self.args.shutdown_timeout,
            shutdown,
        )
        .await;
        if let Some(watcher) = watcher {
            watcher.abort();
        }
        loader.abort();
        tracing::info!("stopped");
        Ok(())
    }
}

/// What the staff page says becomes of a question, from the service's settings. Behind single
/// sign-on with a decision log, the signed-in person's id is written only when the
/// municipality has chosen it (`--staff-page-user-ids`); else the log must pseudonymize, and a
/// service that would do neither does not start.
fn page_privacy(args: &ServeArgs, enabled: bool) -> Result<page::privacy::Privacy, StartError> {
    use page::privacy::{Logged, Privacy, Who};
    if args.log.log.is_none() {
        return Ok(Privacy::default());
    }
    let who = match (&args.trust_user_header, &args.log.log_pseudonymize) {
        (None, _) => Who::RoleOnly,
        (Some(_), Some(_)) => Who::Pseudonym,
        (Some(_), None) if args.staff_page_user_ids || !enabled => Who::UserId,
        (Some(header), None) => {
            return Err(StartError::Inputs(format!(
                "the staff page would write the id of everyone signed in (--trust-user-header {header}) into the decision log as it is: give --log-pseudonymize KEY to log a pseudonym instead (`aipolicy audit` can still find a person's records with the key), or --staff-page-user-ids if the municipality has decided to log the ids"
            )))
        }
    };
    Ok(Privacy {
        logged: Some(Logged {
            who,
            retention: Some(args.log.log_retention),
        }),
    })
}

/// Serves until SIGTERM or SIGINT, reloading on SIGHUP: what `aipolicy serve` runs. With
/// `--log`, every decision is logged; at shutdown the log's queue is written out before the
/// process ends.
pub async fn serve(args: ServeArgs) -> Result<(), StartError> {
    // Refused before the log is opened (and, for a new one, created).
    page_privacy(&args, !args.no_staff_page)?;
    let log = open_log(&args.log).await?;
    let mut server = Server::bind(args).await?;
    if let Some(log) = &log {
        tracing::info!(log = %log.name(), sync = server.args.log.log_sync, "decision log");
        server = server.with_sink(Arc::clone(log) as Arc<dyn AnswerSink>);
    }
    reload_on_hangup(server.state());
    let served = server
        .run(shutdown_signal())
        .await
        .map_err(StartError::Runtime);
    if let Some(log) = log {
        flush_log(log).await;
    }
    served
}

/// Opens the decision log `--log` names (`None` without one), off the runtime (opening may
/// connect to PostgreSQL with a blocking client), and says its warnings in the server's log.
pub async fn open_log(args: &LogArgs) -> Result<Option<Arc<aipolicy_log::Log>>, StartError> {
    let log_args = args.clone();
    let opened = tokio::task::spawn_blocking(move || log_args.open())
        .await
        .map_err(|e| StartError::Inputs(format!("cannot open the decision log: {e}")))?
        .map_err(|e| StartError::Inputs(e.to_string()))?;
    Ok(opened.map(|opened| {
        for warning in &opened.warnings {
            tracing::warn!("{warning}");
        }
        opened.log
    }))
}

/// Writes out the decision log's queue at shutdown, and says how it went.
pub async fn flush_log(log: Arc<aipolicy_log::Log>) {
    let queued = aipolicy::log::DecisionSink::queue_depth(&*log);
    match tokio::task::spawn_blocking(move || log.close().map(|()| log.durable())).await {
        Ok(Ok(written)) => tracing::info!(queued, written, "decision log flushed"),
        Ok(Err(e)) => {
            tracing::error!("decision log: not every record could be written at shutdown: {e}")
        }
        Err(e) => tracing::error!("decision log: the flush failed: {e}"),
    }
}

/// Completes on SIGTERM or SIGINT (on other systems, Ctrl-C): when a service should stop.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM"),
                    _ = int.recv() => tracing::info!("SIGINT"),
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Reloads `state`'s policy and token file on every SIGHUP (Unix; elsewhere nothing).
pub fn reload_on_hangup(state: Arc<State>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut hangup) = signal(SignalKind::hangup()) {
            tokio::spawn(async move {
                while hangup.recv().await.is_some() {
                    tracing::info!("SIGHUP: reloading");
                    let _ = state.reload("SIGHUP").await;
                }
            });
        }
    }
    #[cfg(not(unix))]
    drop(state);
}

/// Sets up the request log on stderr, runs the service on a multi-threaded runtime and turns
/// the outcome into an exit code: 0 after a clean shutdown, 2 when it could not start.
pub fn run(args: ServeArgs) -> ExitCode {
    init_logging(&args);
    exit_code_of(serve(args))
}

/// Runs `service` (`serve`'s or the gateway's) on a multi-threaded runtime and turns its
/// outcome into an exit code: 0 after a clean shutdown, 2 when it could not start (logged, and
/// said on stderr).
pub fn exit_code_of(service: impl Future<Output = Result<(), StartError>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("{}", StartError::Runtime(e));
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(service) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Structured logs on stderr: `RUST_LOG` filters (default `info`, or `warn` with `--quiet`).
pub fn init_logging(args: &ServeArgs) {
    init_logging_as(args.quiet, args.log_format);
}

/// Structured logs on stderr in `format`: `RUST_LOG` filters (default `info`, or `warn` when
/// `quiet`). For every service of this workspace, `aipolicy gateway` too.
pub fn init_logging_as(quiet: bool, format: args::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let default = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        args::LogFormat::Json => builder.json().flatten_event(true).try_init(),
        args::LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}
