//! Recording decisions: every decision any endpoint makes is counted and handed to the
//! decision log here, and nowhere else.

use std::time::SystemTime;

use aipolicy::log::Origin;
use aipolicy::{Decision, Query};

use crate::load::Loaded;
use crate::state::{DecisionRecord, State};
use crate::tokens::Caller;

impl State {
    /// Counts and records one decision that `caller` asked of `policy`; returns its id.
    pub(crate) fn record(
        &self,
        policy: &Loaded,
        caller: &Caller,
        query: Option<&Query>,
        decision: &Decision,
    ) -> uuid::Uuid {
        let decision_id = uuid::Uuid::now_v7();
        let id = decision_id.to_string();
        let origin = Origin {
            decision_id: &id,
            time: SystemTime::now(),
            policy_revision: &policy.revision,
            caller: &caller.name,
        };
        self.decided(origin, &policy.engine, query, decision);
        decision_id
    }

    /// Counts a decision and hands its record to the decision log (a queue push). A request
    /// that was not a query (`query` is `None`: bad JSON) decided nothing about anyone and is
    /// not logged.
    pub fn decided(
        &self,
        origin: Origin<'_>,
        engine: &aipolicy::Engine,
        query: Option<&Query>,
        decision: &Decision,
    ) {
        self.metrics.decision(decision);
        if let (Some(sink), Some(query)) = (&self.sink, query) {
            let _ = sink.submit(DecisionRecord::new(origin, engine, query, decision));
        }
    }

    /// Waits, when the log is synchronous (`--log-sync`), until every record queued so far
    /// is durable: called before a decision's response is sent. `Err` when the log cannot
    /// be written: the decision must not be given.
    pub async fn logged(&self) -> Result<(), aipolicy::log::LogError> {
        let Some(sink) = self.sink.as_ref().filter(|s| s.is_sync()) else {
            return Ok(());
        };
        let ticket = sink.last_ticket();
        let sink = std::sync::Arc::clone(sink);
        tokio::task::spawn_blocking(move || sink.wait_durable(ticket))
            .await
            .unwrap_or_else(|e| Err(aipolicy::log::LogError(format!("the wait failed: {e}"))))
    }
}
