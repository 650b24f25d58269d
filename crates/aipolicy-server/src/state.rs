//! The service's state: the policy in force (swapped whole on reload), the callers, the limits
//! and the metrics.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aipolicy::inputs::Inputs;
use aipolicy::Language;
use arc_swap::ArcSwapOption;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::load::{self, LoadFailure, Loaded};
use crate::metrics::{Gauges, Metrics};
use crate::tokens::{TokenFile, Tokens, TokensReloaded};

pub use aipolicy::log::{DecisionRecord, DecisionSink};
pub use aipolicy_log::AnswerSink;

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The default language.
    pub language: Language,
    /// Largest batch body.
    pub max_body: usize,
    /// Most items of a batch.
    pub max_batch: usize,
    /// Most requests at once.
    pub max_concurrent: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Decisions remembered per revision.
    pub memo: usize,
    /// The base URL of the metadata document.
    pub public_url: Option<String>,
    /// The token file, if any.
    pub token_file: Option<PathBuf>,
    /// The reload gate's scenarios, if any.
    pub reload_gate: Option<PathBuf>,
    /// Where every engine loaded takes "today" from.
    pub clock: aipolicy::Clock,
}

/// A reload that failed, as `/v1/status` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadError {
    /// What failed, where.
    #[serde(flatten)]
    pub failure: LoadFailure,
    /// When (RFC 3339).
    pub at: String,
    /// What asked for the reload (`SIGHUP`, `watch`, `admin`, `start`).
    pub trigger: String,
}

impl ReloadError {
    /// `failure`, now, asked by `trigger`.
    pub fn new(failure: LoadFailure, trigger: &str) -> ReloadError {
        ReloadError {
            failure,
            at: crate::time::rfc3339(SystemTime::now()),
            trigger: trigger.to_string(),
        }
    }
}

/// What a reload did: the policy's load, and the token file's (each a load of its own).
#[derive(Debug, Clone)]
pub struct Reload {
    /// The policy: what the good load did, or why it failed (the old policy serves on).
    pub policy: Result<Reloaded, ReloadError>,
    /// The token file, when there is one and it was read again (not at start, where it was
    /// just read).
    pub token_file: Option<TokensReloaded>,
}

impl Reload {
    /// Whether the policy or the token file failed to load.
    pub fn failed(&self) -> bool {
        self.policy.is_err() || self.token_file.as_ref().is_some_and(|t| t.error.is_some())
    }
}

/// What a good reload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reloaded {
    /// `loaded` (the first policy), `reloaded` (a new revision is in force) or `unchanged`.
    pub result: &'static str,
    /// The revision now in force.
    pub policy_revision: String,
    /// The one before, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_revision: Option<String>,
}

/// The state every request shares.
pub struct State {
    /// Settings.
    pub config: Config,
    /// The inputs in force (resolved once, at start).
    pub inputs: Inputs,
    /// The policy in force; `None` until the first good load.
    pub policy: ArcSwapOption<Loaded>,
    /// The token file and its callers; `None` without one (every local caller is let in).
    pub tokens: Option<TokenFile>,
    /// The one load gate: loads run one at a time.
    gate: tokio::sync::Mutex<()>,
    last_error: Mutex<Option<ReloadError>>,
    last_reload: Mutex<Option<String>>,
    /// Metrics.
    pub metrics: Metrics,
    /// Permits for requests at once.
    pub concurrency: Arc<Semaphore>,
    /// The decision log's hook.
    pub sink: Option<Arc<dyn AnswerSink>>,
    /// The staff page's policy text and sign-in header.
    pub page: crate::page::Settings,
    /// When the service started.
    pub started: SystemTime,
    started_at: Instant,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("config", &self.config)
            .field("inputs", &self.inputs)
            .finish_non_exhaustive()
    }
}

impl State {
    /// A state with nothing loaded yet.
    pub fn new(config: Config, inputs: Inputs, tokens: Option<Tokens>) -> State {
        // A token file whose callers are not given lets nobody in until it is read again:
        // never every local caller.
        let tokens = match (&config.token_file, tokens) {
            (Some(path), tokens) => Some(TokenFile::new(path.clone(), tokens.unwrap_or_default())),
            (None, Some(tokens)) => Some(TokenFile::new(PathBuf::new(), tokens)),
            (None, None) => None,
        };
        State {
            concurrency: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            config,
            inputs,
            policy: ArcSwapOption::empty(),
            tokens,
            gate: tokio::sync::Mutex::new(()),
            last_error: Mutex::new(None),
            last_reload: Mutex::new(None),
            metrics: Metrics::default(),
            sink: None,
            page: crate::page::Settings::default(),
            started: SystemTime::now(),
            started_at: Instant::now(),
        }
    }

    /// The policy in force, when one is loaded.
    pub fn current(&self) -> Option<Arc<Loaded>> {
        self.policy.load_full()
    }

    /// Loads the policy and the token file again behind the load gate, each on its own: a
    /// policy is swapped in whole, or a failure keeps the one in force; the token file lets in
    /// whom it says, or, broken, only whom [`TokenFile`] says. Each failure is counted, logged
    /// and kept for `/v1/status`.
    pub async fn reload(self: &Arc<Self>, trigger: &str) -> Reload {
        let _gate = self.gate.lock().await;
        let policy = self.reload_policy(trigger).await;
        let token_file = if trigger == "start" {
            None
        } else {
            self.reload_tokens(trigger).await
        };
        Reload { policy, token_file }
    }

    /// Reads the token file again, when there is one.
    async fn reload_tokens(self: &Arc<Self>, trigger: &str) -> Option<TokensReloaded> {
        self.config.token_file.as_ref()?;
        let file = self.tokens.as_ref()?;
        let state = Arc::clone(self);
        let asked = trigger.to_string();
        let reread = tokio::task::spawn_blocking(move || {
            state.tokens.as_ref().map(|file| file.reread(&asked))
        })
        .await;
        let reloaded = match reread {
            Ok(reloaded) => reloaded?,
            // Whom the file lets in is not known: nobody, until it is read again.
            Err(e) => file.refuse_all(
                LoadFailure::plain(format!("the token file could not be read: {e}")),
                trigger,
            ),
        };
        self.metrics.token_file_reload(reloaded.error.is_none());
        Some(reloaded)
    }

    /// Loads the policy again and swaps it in whole; a failure keeps the policy in force.
    async fn reload_policy(self: &Arc<Self>, trigger: &str) -> Result<Reloaded, ReloadError> {
        let state = Arc::clone(self);
        let loaded = tokio::task::spawn_blocking(move || state.load_checked())
            .await
            .unwrap_or_else(|e| Err(LoadFailure::plain(format!("the load failed: {e}"))));
        let counted = trigger != "start";
        let now = crate::time::rfc3339(SystemTime::now());
        if let Ok(mut last) = self.last_reload.lock() {
            *last = Some(now.clone());
        }
        match loaded {
            Ok(loaded) => {
                let previous = self.current();
                let previous_revision = previous.as_ref().map(|p| p.revision.to_string());
                let revision = loaded.revision.to_string();
                let result = if previous.is_none() {
                    self.policy.store(Some(Arc::new(loaded)));
                    "loaded"
                } else if previous_revision.as_deref() == Some(revision.as_str()) {
                    "unchanged"
                } else {
                    self.policy.store(Some(Arc::new(loaded)));
                    "reloaded"
                };
                if counted {
                    self.metrics.reload(true);
                }
                if let Ok(mut last) = self.last_error.lock() {
                    *last = None;
                }
                tracing::info!(trigger, result, policy_revision = %revision, previous_revision = previous_revision.as_deref().unwrap_or("-"), "policy loaded");
                Ok(Reloaded {
                    result,
                    policy_revision: revision,
                    previous_revision,
                })
            }
            Err(failure) => {
                if counted {
                    self.metrics.reload(false);
                }
                let serving = self.current().map_or_else(
                    || "nothing (not ready)".to_string(),
                    |p| format!("revision {}", p.revision),
                );
                tracing::error!(
                    trigger,
                    file = failure.file.as_deref().unwrap_or("-"),
                    line = failure.line.unwrap_or(0),
                    still_serving = %serving,
                    "policy load failed: {failure}"
                );
                let error = ReloadError {
                    failure,
                    at: now,
                    trigger: trigger.to_string(),
                };
                if let Ok(mut last) = self.last_error.lock() {
                    *last = Some(error.clone());
                }
                Err(error)
            }
        }
    }

    /// Loads the policy and runs the reload gate on it.
    fn load_checked(&self) -> Result<Loaded, LoadFailure> {
        let mut loaded = load::load(&self.inputs, self.config.language, self.config.memo)?;
        loaded.engine = loaded.engine.with_clock(self.config.clock.clone());
        if let Some(gate) = &self.config.reload_gate {
            let report = aipolicy::scenario::run_paths(&loaded.engine, std::slice::from_ref(gate))
                .map_err(|e| {
                    LoadFailure::at(
                        format!("reload gate: {e}"),
                        gate.display().to_string(),
                        None,
                    )
                })?;
            let failed: Vec<_> = report.results.iter().filter(|r| !r.passed()).collect();
            if let Some(first) = failed.first() {
                let mut failure = LoadFailure::at(
                    format!(
                        "reload gate: {} of {} scenario case(s) failed with the new policy, first `{}`: {}",
                        failed.len(),
                        report.results.len(),
                        first.name,
                        first.failures.join("; ")
                    ),
                    first.file.clone(),
                    (first.line > 0).then_some(first.line),
                );
                failure.problems = failed
                    .iter()
                    .map(|r| format!("{}: {}: {}", r.location(), r.name, r.failures.join("; ")))
                    .collect();
                return Err(failure);
            }
        }
        // The service decides on its own clock: a caller cannot move a decision to another
        // day (`at` is an input error), where a lapsed assessment might still hold. (The gate
        // above runs first: its scenario files may name the day they were written for.)
        loaded.engine = loaded.engine.on_own_clock_only(true);
        Ok(loaded)
    }

    /// The last failed reload, when the last reload failed.
    pub fn last_error(&self) -> Option<ReloadError> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// When the last load ran (RFC 3339).
    pub fn last_reload(&self) -> Option<String> {
        self.last_reload.lock().ok().and_then(|e| e.clone())
    }

    /// Seconds since start.
    pub fn uptime(&self) -> f64 {
        self.started_at.elapsed().as_secs_f64()
    }

    /// The gauges `/metrics` reads.
    pub fn gauges(&self) -> Gauges {
        let current = self.current();
        Gauges {
            revision: current.as_ref().map(|c| c.revision.clone()),
            loaded_at: current
                .as_ref()
                .and_then(|c| c.loaded_at.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0.0, |d| d.as_secs_f64()),
            token_file_broken: self.tokens.as_ref().is_some_and(TokenFile::is_broken),
            log_queue_depth: self.sink.as_ref().map_or(0, |s| s.queue_depth()),
            log_dropped: self.sink.as_ref().map_or(0, |s| s.dropped()),
        }
    }
}
