//! `--log SINK` for the commands that decide (`check`, `batch`): each decision is logged as the
//! service logs it, with the command as the caller.

use std::io::Write;
use std::sync::Arc;
use std::time::SystemTime;

use aipolicy::engine::Engine;
use aipolicy::log::{DecisionRecord, DecisionSink, Origin};
use aipolicy::project::Gate;
use aipolicy::{Decision, Query};
use aipolicy_log::{Log, LogArgs};

use super::{EngineArgs, Exit};

/// An open decision log, and what each of its records says about where it came from.
#[derive(Debug)]
pub struct Logging {
    log: Arc<Log>,
    revision: String,
    caller: &'static str,
}

impl Logging {
    /// Opens `--log` (nothing without it), naming any likely mistake on `err`; a log that
    /// cannot be opened is an input error, before anything is decided.
    pub fn open(
        args: &LogArgs,
        caller: &'static str,
        revision: Option<String>,
        err: &mut dyn Write,
    ) -> Result<Option<Logging>, Exit> {
        match args.open() {
            Ok(None) => Ok(None),
            Ok(Some(opened)) => {
                for warning in &opened.warnings {
                    let _ = writeln!(err, "warning: {warning}");
                }
                Ok(Some(Logging {
                    log: opened.log,
                    revision: revision.unwrap_or_default(),
                    caller,
                }))
            }
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                Err(Exit::InputError)
            }
        }
    }

    /// Queues the record of one decision.
    pub fn record(&self, engine: &Engine, query: &Query, decision: &Decision) {
        let decision_id = aipolicy_log::new_decision_id();
        let origin = Origin {
            decision_id: &decision_id,
            time: SystemTime::now(),
            policy_revision: &self.revision,
            caller: self.caller,
        };
        let _ = self
            .log
            .submit(DecisionRecord::new(origin, engine, query, decision));
    }

    /// Writes what is queued and closes the log; a log that could not be written is reported
    /// on `err` and is a write error (the decisions were given, their records were not kept).
    pub fn close(self, err: &mut dyn Write) -> Result<(), Exit> {
        let dropped = self.log.dropped();
        let closed = self.log.close();
        if dropped > 0 {
            let _ = writeln!(
                err,
                "warning: {dropped} decision(s) were not logged: the queue was full (--log-when-full drop)"
            );
        }
        closed.map_err(|e| {
            let _ = writeln!(err, "error: {e}");
            Exit::WriteError
        })
    }
}

impl EngineArgs {
    /// [`EngineArgs::load`], with the policy revision the service would report when `log`
    /// asks for a log (the records name it).
    pub fn load_for_log(
        &self,
        log: &LogArgs,
        err: &mut dyn Write,
    ) -> Result<(Engine, Option<String>), Exit> {
        if log.log.is_none() {
            return self.load(err).map(|(engine, _)| (engine, None));
        }
        let inputs = self.inputs.resolve(err)?;
        if self.day.at.is_some() {
            let _ = writeln!(
                err,
                "error: --at with --log: the decision log records decisions made today; re-decide a past or planned question without --log"
            );
            return Err(Exit::InputError);
        }
        let clock = self.day.clock(self.inputs.policy.quiet, err)?;
        if clock.is_fixed() {
            // The operator's setting, not the caller's: said, whatever `--quiet` says.
            let _ = writeln!(
                err,
                "warning: {} fixes the day at {}: the decision log records these decisions as made now",
                aipolicy::clock::TODAY_VARIABLE,
                clock.today()
            );
        }
        // Logged decisions are made today: a query's own `at` is an input error. Loaded as the
        // service loads, through the gate of `aipolicy validate`, for the revision the records
        // name.
        match inputs
            .engine_builder()
            .gate(Gate::Validate)
            .language(self.lang.into())
            .clock(clock)
            .load()
        {
            Ok(loaded) => Ok((loaded.engine.on_own_clock_only(true), loaded.revision)),
            Err(refused) => {
                super::report_refused(err, refused);
                Err(Exit::InputError)
            }
        }
    }
}
