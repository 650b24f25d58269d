//! `aipolicy gateway`: an OpenAI-compatible proxy that the municipality points its chat apps and
//! integrations at instead of the model. Every request is decided by the policy before anything
//! reaches a model: allowed, it is forwarded to the AI system's `endpoint` in the register and
//! the answer streamed back with the decision's id and duties in headers; refused, the caller
//! gets 403 with an OpenAI-style error whose message is the reasons, and the model never sees
//! the prompt. The same decision is offered to gateways that exist, as Envoy's ext_authz HTTP
//! service. The guide is `docs/gateway.md`.
//!
//! The parts: [`asker`] (who asks, for whom, declaring what), [`openai`] (the model and the
//! text of a request), `decide` (the decision, recorded before anything is forwarded),
//! [`upstream`] (the AI system's endpoint, credential and streamed answer), [`routes`] (the
//! endpoints), [`error`] (the gateway's own answers). Callers, the policy in force, reloads,
//! limits and the decision log are `aipolicy serve`'s, from `aipolicy-server`.

pub mod args;
pub mod asker;
mod decide;
pub mod error;
pub mod openai;
pub mod routes;
pub mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use aipolicy::inputs::Overrides;
use aipolicy_server::state::{AnswerSink, Config, State};
use aipolicy_server::StartError;
use axum::http::HeaderName;
use tokio::net::TcpListener;

pub use args::GatewayArgs;

/// What the gateway is set up with at start, beside the server's [`Config`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--default-data`.
    pub default_data: Option<String>,
    /// `--trust-user-header`.
    pub user_header: Option<HeaderName>,
    /// `--max-body`.
    pub max_body: usize,
}

/// The gateway's state: the decision service's (policy in force, callers, limits, the decision
/// log's hook) and the client that reaches the AI systems.
#[derive(Debug)]
pub struct Gateway {
    /// The policy in force, the callers, the limits and the decision log's hook.
    pub state: Arc<State>,
    /// The gateway's own settings.
    pub settings: Settings,
    /// The client of the AI systems.
    pub upstream: upstream::Upstream,
}

/// A bound, not yet running, gateway.
#[derive(Debug)]
pub struct Bound {
    gateway: Gateway,
    listener: TcpListener,
    args: GatewayArgs,
}

impl Bound {
    /// Resolves the inputs in force in the current folder (flags over the project's files over
    /// the embedded default), reads the token file and listens on `--listen`. Refuses a
    /// non-loopback address without a token file, and a `--default-data` class the register
    /// in force at start does not have.
    pub async fn bind(args: GatewayArgs) -> Result<Bound, StartError> {
        let aipolicy_server::Started {
            inputs,
            cwd,
            tokens,
        } = aipolicy_server::Started::resolve(
            args.listen,
            args.token_file.as_deref(),
            Overrides {
                policies: args.policies.clone(),
                schema: args.schema.clone(),
                register: args.register.clone(),
                invariants: None,
                // The project's `registered-users-only` holds here too; no flag of its own yet.
                ..Overrides::default()
            },
        )?;
        let config = Config {
            language: args.lang.into(),
            max_body: args.max_body,
            max_batch: 0,
            max_concurrent: args.max_concurrent,
            request_timeout: args.request_timeout,
            memo: args.memo,
            public_url: None,
            token_file: args.token_file.clone(),
            reload_gate: None,
            clock: args.clock.clone(),
        };
        let upstream = upstream::Upstream::new(
            args.upstream_connect_timeout,
            args.upstream_timeout,
            args.upstream_idle_timeout,
        )
        .map_err(StartError::Inputs)?;
        let listener = TcpListener::bind(args.listen)
            .await
            .map_err(|e| StartError::Bind(args.listen, e))?;
        if !args.quiet {
            tracing::info!("inputs: {}", inputs.describe(&cwd));
            tracing::info!("day: {}", args.clock.describe());
        }
        if let Some(header) = &args.trust_user_header {
            tracing::warn!(header = %header, "the gateway decides as the user named in this header: safe only if every request comes through the sign-in proxy that sets it");
        }
        let mut state = State::new(config, inputs, tokens);
        state.page.enabled = false;
        Ok(Bound {
            gateway: Gateway {
                state: Arc::new(state),
                settings: Settings {
                    default_data: args.default_data.clone(),
                    user_header: args.trust_user_header.clone(),
                    max_body: args.max_body,
                },
                upstream,
            },
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
        Arc::clone(&self.gateway.state)
    }

    /// Gives every decision to `sink` (the decision log's seam). Before [`Bound::run`].
    pub fn with_sink(mut self, sink: Arc<dyn AnswerSink>) -> Bound {
        if let Some(state) = Arc::get_mut(&mut self.gateway.state) {
            state.sink = Some(sink);
        }
        self
    }

    /// Loads the policy, then serves until `shutdown` completes; then stops taking connections
    /// and lets the requests in flight, streams included, finish (at most `--shutdown-timeout`).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let gateway = Arc::new(self.gateway);
        let state = Arc::clone(&gateway.state);
        let addr = self.listener.local_addr()?;
        tracing::info!(%addr, "gateway listening");
        let watcher = aipolicy_server::watch::spawn(Arc::clone(&state), self.args.watch);
        let loader = {
            let state = Arc::clone(&state);
            let default_data = gateway.settings.default_data.clone();
            tokio::spawn(async move {
                let _ = state.reload("start").await;
                let missing = |policy: &aipolicy_server::load::Loaded, class: &str| {
                    policy.engine.register().data_class(class).is_none()
                };
                if let (Some(class), Some(policy)) = (default_data, state.current()) {
                    if missing(&policy, &class) {
                        tracing::error!("--default-data `{class}` is not a data class of the register: a request that needs it is refused (400) until the register has it");
                    }
                }
            })
        };
        let app = routes::router(Arc::clone(&gateway));
        aipolicy_server::connections::serve_draining(
            self.listener,
            app,
            state.config.request_timeout,
            self.args.shutdown_timeout,
            shutdown,
        )
        .await;
        loader.abort();
        if let Some(watcher) = watcher {
            watcher.abort();
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Serves until SIGTERM or SIGINT, reloading on SIGHUP: what `aipolicy gateway` runs. With
/// `--log`, every decision is logged; at shutdown the log's queue is written out.
pub async fn serve(args: GatewayArgs) -> Result<(), StartError> {
    let log = aipolicy_server::open_log(&args.log).await?;
    let mut bound = Bound::bind(args).await?;
    if let Some(log) = &log {
        tracing::info!(log = %log.name(), sync = bound.args.log.log_sync, "decision log");
        bound = bound.with_sink(Arc::clone(log) as Arc<dyn AnswerSink>);
    }
    aipolicy_server::reload_on_hangup(bound.state());
    let served = bound
        .run(aipolicy_server::shutdown_signal())
        .await
        .map_err(StartError::Runtime);
    if let Some(log) = log {
        aipolicy_server::flush_log(log).await;
    }
    served
}

/// Sets up the request log on stderr, runs the gateway on a multi-threaded runtime and turns
/// the outcome into an exit code: 0 after a clean shutdown, 2 when it could not start.
pub fn run(args: GatewayArgs) -> ExitCode {
    aipolicy_server::init_logging_as(args.quiet, args.log_format);
    aipolicy_server::exit_code_of(serve(args))
}
