//! Recording decisions: every decision any endpoint makes is counted and kept here, and handed
//! to the decision log once its answer is given — and only then.
//!
//! A request's records wait in its [`Recorder`] while it is answered. When the answer is ready
//! within `--request-timeout`, they are handed to the log together; with `--log-sync` the
//! answer then waits until they are durable, and is a 503 when they are not (in time), their
//! records withdrawn so that they are never written. A request that runs out of time hands over
//! nothing, and a decision made after that (a batch still running on a blocking thread) finds
//! its recorder closed. So the log holds exactly the decisions whose answers were given.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use aipolicy::log::{LogError, Origin};
use aipolicy::{Decision, Query};

use crate::load::Loaded;
use crate::state::{DecisionRecord, State};
use crate::tokens::Caller;

/// The records of one request's decisions, until its answer is given. Closed once the answer
/// is decided on (given or refused): a record kept after that is dropped.
#[derive(Debug, Clone)]
pub struct Recorder(Arc<Mutex<Option<Vec<DecisionRecord>>>>);

impl Recorder {
    /// An open recorder, for one request.
    pub fn open() -> Recorder {
        Recorder(Arc::new(Mutex::new(Some(Vec::new()))))
    }

    fn keep(&self, record: DecisionRecord) {
        if let Ok(mut records) = self.0.lock() {
            if let Some(records) = records.as_mut() {
                records.push(record);
            }
        }
    }

    /// Closes it; the records kept, or `Err` when they cannot be told (a thread panicked while
    /// keeping one).
    fn close(&self) -> Result<Vec<DecisionRecord>, LogError> {
        self.0
            .lock()
            .map(|mut records| records.take().unwrap_or_default())
            .map_err(|_| LogError("the request's decisions could not be recorded".into()))
    }

    /// Closes it without handing anything over: the answer is not given.
    pub fn discard(&self) {
        let _ = self.close();
    }
}

impl State {
    /// Counts one decision that `caller` asked of `policy`, and keeps its record in `recorder`
    /// for the decision log; returns its id. A request that was not a query (`query` is
    /// `None`: bad JSON) decided nothing about anyone and is not logged.
    pub fn record(
        &self,
        recorder: &Recorder,
        policy: &Loaded,
        caller: &Caller,
        query: Option<&Query>,
        decision: &Decision,
    ) -> uuid::Uuid {
        let decision_id = uuid::Uuid::now_v7();
        self.metrics.decision(decision);
        if let (Some(_), Some(query)) = (&self.sink, query) {
            let id = decision_id.to_string();
            let origin = Origin {
                decision_id: &id,
                time: SystemTime::now(),
                policy_revision: &policy.revision,
                caller: &caller.name,
            };
            recorder.keep(DecisionRecord::new(origin, &policy.engine, query, decision));
        }
        decision_id
    }

    /// Hands the records of an answer about to be given to the decision log (a queue push).
    /// With `--log-sync`, waits until they are durable, at most until `deadline`: `Err` when
    /// they are not, and then they are never written — the answer must not be given.
    pub async fn hand_over(&self, recorder: &Recorder, deadline: Instant) -> Result<(), LogError> {
        let records = recorder.close()?;
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        if records.is_empty() {
            return Ok(());
        }
        if !sink.is_sync() {
            // A dropped record is counted by the sink (`--log-when-full drop`).
            let _ = sink.submit_answer(records);
            return Ok(());
        }
        let sink = Arc::clone(sink);
        tokio::task::spawn_blocking(move || {
            let ticket = sink.submit_answer(records).ok_or_else(|| {
                LogError(
                    "the records could not be queued (the queue is full, or the log has failed)"
                        .into(),
                )
            })?;
            sink.settle(ticket, deadline)
        })
        .await
        .unwrap_or_else(|e| Err(LogError(format!("the wait failed: {e}"))))
    }
}
