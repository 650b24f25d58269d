//! The bounded queue in front of a store, and its one writer thread.
//!
//! A front end's [`DecisionSink::submit`] is a push onto the queue; the decision service hands
//! over the records of one answer together ([`AnswerSink::submit_answer`]). The writer takes
//! what is queued in batches (up to [`BATCH`] records, never splitting one answer's records),
//! pseudonymizes, links and writes each batch in one transaction, then counts its records
//! durable: [`DecisionSink::wait_durable`] waits for that count. Records are numbered as they
//! are queued (the queue's order is the log's order), so "record N is durable" means every
//! record before it is settled too: written, or withdrawn.
//!
//! **Withdrawn** records are the answer to a decision that was not given: with `--log-sync`, an
//! answer waits for its records ([`AnswerSink::settle`]) until its deadline; records that are
//! not durable by then (or whose write failed) are withdrawn, and the writer skips them, so
//! that the log never holds a decision whose answer was a refusal. Records whose write has
//! begun cannot be taken back: their answer waits for that write, and is given if it holds.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use aipolicy::log::{DecisionRecord, DecisionSink, LogError, Pseudonymizer, Ticket};

use crate::{AnswerSink, Retention, Store, WhenFull};

/// Most records written in one transaction (one answer's records are never split, so a larger
/// answer is written alone, in one transaction of its own).
pub const BATCH: usize = 4096;

/// How often the writer purges what the retention no longer keeps.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// How long the writer waits before it tries a failed batch again.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// How a [`Log`] behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Records the queue holds.
    pub capacity: usize,
    /// What a full queue does.
    pub when_full: WhenFull,
    /// Whether each batch is synced to disk before it counts as durable, and decisions wait.
    pub sync: bool,
    /// Replaces user ids by pseudonyms, when set.
    pub pseudonymizer: Option<Pseudonymizer>,
    /// How long records are kept.
    pub retention: Retention,
}

/// The records of one answer, as queued: numbered `last - records.len() + 1 ..= last`.
struct Group {
    last: u64,
    records: Vec<DecisionRecord>,
}

/// What the writer has done, shared with those who wait for it.
#[derive(Debug, Default)]
struct Progress {
    /// Every ticket up to this is settled: written (and synced, when set to), or withdrawn.
    durable: u64,
    /// Why the last batch failed, while it is being tried again.
    failing: Option<String>,
    /// The last ticket of the last batch whose write failed: a record up to it that is not
    /// durable was in a failed write (or withdrawn before it).
    failed_through: u64,
    /// The tickets (first and last) of the batch being written now: its records can no longer
    /// be withdrawn, only waited for.
    writing: Option<(u64, u64)>,
    /// The last tickets of answers withdrawn and not yet skipped by the writer.
    withdrawn: BTreeSet<u64>,
    /// Set when the writer has stopped.
    stopped: bool,
    /// Set by [`Log::close`]: a batch that keeps failing is given up (and counted lost)
    /// instead of holding the shutdown forever.
    closing: bool,
}

/// What the writer thread and the front ends share.
#[derive(Debug, Default)]
struct Shared {
    /// Tickets handed out; also the lock that keeps ticket order and queue order the same, and
    /// the lock a front end waits on for room.
    queued: Mutex<u64>,
    /// Signalled when records leave the queue.
    room: Condvar,
    /// Records queued and not yet settled.
    depth: AtomicU64,
    progress: Mutex<Progress>,
    /// Signalled when the writer settles records, fails, or stops.
    changed: Condvar,
}

impl Shared {
    /// Counts `n` records out of the queue and wakes the front ends waiting for room. (The
    /// `queued` lock is taken first, so that a front end between its look at the depth and its
    /// wait cannot miss the wake-up.)
    fn left(&self, n: usize) {
        self.depth.fetch_sub(n as u64, Ordering::Relaxed);
        drop(self.queued.lock());
        self.room.notify_all();
    }
}

/// A decision log: a queue, its writer thread and the store it writes.
pub struct Log {
    name: String,
    sender: Mutex<Option<Sender<Group>>>,
    shared: Arc<Shared>,
    capacity: u64,
    dropped: AtomicU64,
    when_full: WhenFull,
    sync: bool,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("name", &self.name)
            .field("when_full", &self.when_full)
            .field("sync", &self.sync)
            .finish_non_exhaustive()
    }
}

impl Log {
    /// Starts the writer thread over `store`; purges once before anything is written.
    pub fn start(
        name: String,
        mut store: Box<dyn Store>,
        options: Options,
    ) -> Result<Log, LogError> {
        if let Some(cutoff) = options.retention.cutoff(SystemTime::now()) {
            let purged = store.purge_before(&cutoff)?;
            if purged > 0 {
                tracing::info!(log = %name, purged, before = %cutoff, "decision log: purged records older than the retention");
            }
        }
        let (sender, receiver) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let writer = {
            let shared = Arc::clone(&shared);
            let name = name.clone();
            let options = options.clone();
            std::thread::Builder::new()
                .name("aipolicy-log".into())
                .spawn(move || write_loop(&name, store, &receiver, &options, &shared))
                .map_err(|e| LogError(format!("cannot start the log's writer thread: {e}")))?
        };
        Ok(Log {
            name,
            sender: Mutex::new(Some(sender)),
            shared,
            capacity: options.capacity.max(1) as u64,
            dropped: AtomicU64::new(0),
            when_full: options.when_full,
            sync: options.sync,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// The log's name (`sqlite:audit.db`; a PostgreSQL URL without its password).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes everything queued, stops the writer and waits for it: at shutdown, and before a
    /// command exits. Records submitted afterwards are dropped and counted.
    pub fn close(&self) -> Result<(), LogError> {
        let last = self.last_ticket();
        let flushed = self.wait_durable(last);
        if let Ok(mut p) = self.shared.progress.lock() {
            p.closing = true;
        }
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        flushed
    }

    /// Records written so far (and withdrawn ones: every record up to this is settled).
    pub fn durable(&self) -> u64 {
        self.shared.progress.lock().map_or(0, |p| p.durable)
    }

    fn drop_all(&self, n: usize) -> Option<Ticket> {
        self.dropped.fetch_add(n as u64, Ordering::Relaxed);
        None
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl DecisionSink for Log {
    fn submit(&self, record: DecisionRecord) -> Option<Ticket> {
        self.submit_answer(vec![record])
    }

    fn last_ticket(&self) -> Ticket {
        Ticket(self.shared.queued.lock().map_or(0, |q| *q))
    }

    fn wait_durable(&self, ticket: Ticket) -> Result<(), LogError> {
        let failed = || LogError("the log's writer failed".into());
        let mut progress = self.shared.progress.lock().map_err(|_| failed())?;
        loop {
            if progress.durable >= ticket.0 {
                return Ok(());
            }
            if let Some(failing) = &progress.failing {
                return Err(LogError(format!(
                    "{}: the record could not be written: {failing}",
                    self.name
                )));
            }
            if progress.stopped {
                return Err(LogError(format!(
                    "{}: the log's writer stopped before the record was written",
                    self.name
                )));
            }
            progress = self.shared.changed.wait(progress).map_err(|_| failed())?;
        }
    }

    fn is_sync(&self) -> bool {
        self.sync
    }

    fn queue_depth(&self) -> u64 {
        self.shared.depth.load(Ordering::Relaxed)
    }

    fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl AnswerSink for Log {
    fn submit_answer(&self, mut records: Vec<DecisionRecord>) -> Option<Ticket> {
        let n = records.len();
        if n == 0 {
            return Some(self.last_ticket());
        }
        let Ok(mut queued) = self.shared.queued.lock() else {
            return self.drop_all(n);
        };
        let Some(sender) = self.sender.lock().ok().and_then(|s| s.clone()) else {
            return self.drop_all(n);
        };
        // An answer larger than the whole queue goes in once the queue is empty.
        let full = |depth: u64| depth > 0 && depth + n as u64 > self.capacity;
        while full(self.shared.depth.load(Ordering::Relaxed)) {
            if self.when_full == WhenFull::Drop {
                return self.drop_all(n);
            }
            queued = match self.shared.room.wait(queued) {
                Ok(queued) => queued,
                Err(_) => return self.drop_all(n),
            };
        }
        let last = *queued + n as u64;
        self.shared.depth.fetch_add(n as u64, Ordering::Relaxed);
        records.shrink_to_fit();
        if sender.send(Group { last, records }).is_err() {
            self.shared.depth.fetch_sub(n as u64, Ordering::Relaxed);
            return self.drop_all(n);
        }
        *queued = last;
        Some(Ticket(last))
    }

    fn settle(&self, ticket: Ticket, deadline: Instant) -> Result<(), LogError> {
        let failed = || LogError(format!("{}: the log's writer failed", self.name));
        let mut progress = self.shared.progress.lock().map_err(|_| failed())?;
        loop {
            if progress.durable >= ticket.0 {
                return Ok(());
            }
            if progress.stopped {
                return Err(LogError(format!(
                    "{}: the log's writer stopped before the records were written",
                    self.name
                )));
            }
            let writing = progress
                .writing
                .is_some_and(|(first, last)| (first..=last).contains(&ticket.0));
            let its_write_failed = ticket.0 <= progress.failed_through;
            let now = Instant::now();
            if !writing && (its_write_failed || now >= deadline) {
                progress.withdrawn.insert(ticket.0);
                let why = match &progress.failing {
                    Some(failing) if its_write_failed => {
                        format!("they could not be written: {failing}")
                    }
                    _ => "they were not durable in time".to_string(),
                };
                return Err(LogError(format!(
                    "{}: the records were withdrawn, never to be written: {why}",
                    self.name
                )));
            }
            progress = if writing {
                // A write that has begun cannot be taken back: its outcome decides.
                self.shared.changed.wait(progress).map_err(|_| failed())?
            } else {
                self.shared
                    .changed
                    .wait_timeout(progress, deadline - now)
                    .map_err(|_| failed())?
                    .0
            };
        }
    }
}

/// The writer thread: batches, links and writes until every sender is gone and the queue is
/// empty.
fn write_loop(
    name: &str,
    mut store: Box<dyn Store>,
    receiver: &Receiver<Group>,
    options: &Options,
    shared: &Shared,
) {
    let mut pending: VecDeque<Group> = VecDeque::new();
    let mut last_purge = Instant::now();
    loop {
        if pending.is_empty() {
            match receiver.recv_timeout(PURGE_EVERY) {
                Ok(group) => pending.push_back(group),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let mut queued: usize = pending.iter().map(|g| g.records.len()).sum();
        while queued < BATCH {
            match receiver.try_recv() {
                Ok(group) => {
                    queued += group.records.len();
                    pending.push_back(group);
                }
                Err(_) => break,
            }
        }
        // Whole answers, up to the batch's size (an answer larger than it alone).
        let mut batch = Batch::default();
        while let Some(len) = pending.front().map(|g| g.records.len()) {
            if !batch.records.is_empty() && batch.records.len() + len > BATCH {
                break;
            }
            if let Some(group) = pending.pop_front() {
                batch.push(group, options.pseudonymizer.as_ref());
            }
        }
        if !batch.spans.is_empty() {
            write_batch(name, store.as_mut(), batch, options.sync, shared);
        }
        if last_purge.elapsed() >= PURGE_EVERY {
            last_purge = Instant::now();
            purge(name, store.as_mut(), options);
        }
    }
    lock(&shared.progress).stopped = true;
    shared.changed.notify_all();
}

/// The answers of one transaction: their records in order, and each answer's last ticket and
/// number of records.
#[derive(Default)]
struct Batch {
    records: Vec<DecisionRecord>,
    spans: Vec<(u64, usize)>,
}

impl Batch {
    fn push(&mut self, group: Group, pseudonymizer: Option<&Pseudonymizer>) {
        self.spans.push((group.last, group.records.len()));
        let start = self.records.len();
        self.records.extend(group.records);
        if let Some(pseudonymizer) = pseudonymizer {
            self.records[start..]
                .iter_mut()
                .for_each(|r| pseudonymizer.apply(r));
        }
    }

    /// Takes out the answers in `withdrawn` (removing them from it); returns how many records
    /// that was.
    fn skip(&mut self, withdrawn: &mut BTreeSet<u64>) -> usize {
        if withdrawn.is_empty() {
            return 0;
        }
        let mut records = std::mem::take(&mut self.records).into_iter();
        let mut skipped = 0;
        for (last, len) in std::mem::take(&mut self.spans) {
            let answer = records.by_ref().take(len);
            if withdrawn.remove(&last) {
                skipped += answer.count();
            } else {
                self.records.extend(answer);
                self.spans.push((last, len));
            }
        }
        skipped
    }
}

/// The progress, even after a thread panicked holding it: it is plain counters, never left
/// half-changed.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes one batch, trying again until it is written: a log that cannot be written holds up
/// the decisions (with `--log-when-full wait`) rather than losing them; a decision that waits
/// for its records (`--log-sync`) is told at once, and its records are skipped once it has
/// withdrawn them.
fn write_batch(name: &str, store: &mut dyn Store, mut batch: Batch, sync: bool, shared: &Shared) {
    let through = batch.spans.last().map_or(0, |(last, _)| *last);
    for attempt in 1u32.. {
        let skipped = {
            let mut progress = lock(&shared.progress);
            let skipped = batch.skip(&mut progress.withdrawn);
            match batch.spans.first() {
                Some((last, len)) => progress.writing = Some((last + 1 - *len as u64, through)),
                None => progress.durable = progress.durable.max(through),
            }
            skipped
        };
        if skipped > 0 {
            tracing::info!(log = %name, records = skipped, "decision log: records of answers that were not given are skipped");
            shared.left(skipped);
        }
        if batch.spans.is_empty() {
            shared.changed.notify_all();
            return;
        }
        match store.append(&mut batch.records, sync) {
            Ok(()) => {
                {
                    let mut progress = lock(&shared.progress);
                    progress.durable = progress.durable.max(through);
                    progress.failing = None;
                    progress.writing = None;
                }
                shared.changed.notify_all();
                shared.left(batch.records.len());
                return;
            }
            Err(e) => {
                tracing::error!(log = %name, records = batch.records.len(), "decision log: cannot write; trying again: {e}");
                let closing = {
                    let mut progress = lock(&shared.progress);
                    progress.failing = Some(e.0.clone());
                    progress.failed_through = progress.failed_through.max(through);
                    progress.writing = None;
                    progress.closing
                };
                shared.changed.notify_all();
                if closing && attempt >= 3 {
                    tracing::error!(log = %name, lost = batch.records.len(), "decision log: giving up at shutdown; these records are lost");
                    shared.left(batch.records.len());
                    return;
                }
                std::thread::sleep(RETRY_AFTER);
            }
        }
    }
}

/// Purges what the retention no longer keeps.
fn purge(name: &str, store: &mut dyn Store, options: &Options) {
    if let Some(cutoff) = options.retention.cutoff(SystemTime::now()) {
        match store.purge_before(&cutoff) {
            Ok(0) => {}
            Ok(purged) => {
                tracing::info!(log = %name, purged, before = %cutoff, "decision log: purged records older than the retention");
            }
            Err(e) => tracing::error!(log = %name, "decision log: the purge failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeMap;
    use std::sync::atomic::AtomicBool;

    use aipolicy::Verdict;

    use super::*;

    fn record(id: String) -> DecisionRecord {
        DecisionRecord {
            decision_id: id,
            time: "2026-11-01T00:00:00.000Z".into(),
            policy_revision: "rev".into(),
            request_id: None,
            caller: "test".into(),
            user: "anna".into(),
            roles: Vec::new(),
            unit: None,
            ai: "copilot-chat".into(),
            action: "use".into(),
            data: vec!["intern".into()],
            found: vec![],
            context: BTreeMap::new(),
            decision: Verdict::Allow,
            reasons: Vec::new(),
            obligations: Vec::new(),
            hash: String::new(),
            prev_hash: String::new(),
        }
    }

    fn answer(name: &str, n: usize) -> Vec<DecisionRecord> {
        (0..n).map(|i| record(format!("{name}{i}"))).collect()
    }

    /// Keeps each transaction's ids; fails while `failing` is set.
    struct Memory {
        transactions: Arc<Mutex<Vec<Vec<String>>>>,
        failing: Arc<AtomicBool>,
    }

    impl Store for Memory {
        fn append(&mut self, records: &mut [DecisionRecord], _: bool) -> Result<(), LogError> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(LogError("disk full".into()));
            }
            let ids = records.iter().map(|r| r.decision_id.clone()).collect();
            self.transactions.lock().unwrap().push(ids);
            Ok(())
        }

        fn purge_before(&mut self, _: &str) -> Result<u64, LogError> {
            Ok(0)
        }
    }

    #[test]
    fn an_answer_is_written_whole_in_one_transaction_or_withdrawn_and_never_written() {
        let transactions = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(AtomicBool::new(true));
        let store = Memory {
            transactions: Arc::clone(&transactions),
            failing: Arc::clone(&failing),
        };
        let options = Options {
            capacity: 100_000,
            when_full: WhenFull::Wait,
            sync: true,
            pseudonymizer: None,
            retention: Retention::Never,
        };
        let log = Log::start("memory".into(), Box::new(store), options).unwrap();
        let soon = || Instant::now() + Duration::from_secs(20);

        // Its write fails: withdrawn at once, and not written once the store works again.
        let refused = log.submit_answer(answer("refused-", 3)).unwrap();
        let error = log.settle(refused, soon()).unwrap_err();
        assert!(
            error.0.contains("withdrawn") && error.0.contains("disk full"),
            "{error}"
        );
        failing.store(false, Ordering::SeqCst);
        // Not durable by its deadline (here: already past): withdrawn as well.
        let late = log.submit_answer(answer("late-", 2)).unwrap();
        let late_settled = log.settle(late, Instant::now());
        // An answer larger than a batch, and one after it: each durable, the first in one
        // transaction of its own.
        let large = log.submit_answer(answer("large-", BATCH + 10)).unwrap();
        log.settle(large, soon()).unwrap();
        let small = log.submit_answer(answer("small-", 1)).unwrap();
        log.settle(small, soon()).unwrap();
        log.close().unwrap();

        let transactions = transactions.lock().unwrap();
        let written: Vec<&String> = transactions.iter().flatten().collect();
        assert!(!written.iter().any(|id| id.starts_with("refused-")));
        assert_eq!(
            written.iter().filter(|id| id.starts_with("late-")).count(),
            if late_settled.is_ok() { 2 } else { 0 },
            "{late_settled:?}"
        );
        let large: Vec<_> = transactions
            .iter()
            .filter(|t| t.iter().any(|id| id.starts_with("large-")))
            .collect();
        assert_eq!(large.len(), 1);
        assert_eq!(
            large[0]
                .iter()
                .filter(|id| id.starts_with("large-"))
                .count(),
            BATCH + 10
        );
        assert_eq!(log.queue_depth(), 0);
    }
}
