//! The bounded queue in front of a store, and its one writer thread.
//!
//! A front end's [`DecisionSink::submit`] is a push onto a bounded channel. The writer takes
//! what is queued in batches (up to [`BATCH`] records), pseudonymizes, links and writes each
//! batch in one transaction, then counts its records durable: [`DecisionSink::wait_durable`]
//! waits for that count. Records are numbered as they are queued (the queue's order is the
//! log's order), so "record N is durable" means every record before it is too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use aipolicy::log::{DecisionRecord, DecisionSink, LogError, Pseudonymizer, Ticket};

use crate::{Retention, Store, WhenFull};

/// Most records written in one transaction.
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

/// What the writer has done, shared with those who wait for it.
#[derive(Debug, Default)]
struct Progress {
    /// Records written (and synced, when set to): every ticket up to this is durable.
    durable: u64,
    /// Why the last batch failed, while it is being tried again.
    failing: Option<String>,
    /// Set when the writer has stopped.
    stopped: bool,
    /// Set by [`Log::close`]: a batch that keeps failing is given up (and counted lost)
    /// instead of holding the shutdown forever.
    closing: bool,
}

/// A decision log: a queue, its writer thread and the store it writes.
pub struct Log {
    name: String,
    sender: Mutex<Option<SyncSender<DecisionRecord>>>,
    /// Tickets handed out; also the lock that keeps ticket order and queue order the same.
    queued: Mutex<u64>,
    dropped: AtomicU64,
    when_full: WhenFull,
    sync: bool,
    progress: std::sync::Arc<(Mutex<Progress>, Condvar)>,
    writer: Mutex<Option<JoinHandle<()>>>,
    depth: std::sync::Arc<AtomicU64>,
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
        let (sender, receiver) = mpsc::sync_channel(options.capacity);
        let progress = std::sync::Arc::new((Mutex::new(Progress::default()), Condvar::new()));
        let depth = std::sync::Arc::new(AtomicU64::new(0));
        let writer = {
            let progress = std::sync::Arc::clone(&progress);
            let depth = std::sync::Arc::clone(&depth);
            let name = name.clone();
            let options = options.clone();
            std::thread::Builder::new()
                .name("aipolicy-log".into())
                .spawn(move || write_loop(&name, store, &receiver, &options, &progress, &depth))
                .map_err(|e| LogError(format!("cannot start the log's writer thread: {e}")))?
        };
        Ok(Log {
            name,
            sender: Mutex::new(Some(sender)),
            queued: Mutex::new(0),
            dropped: AtomicU64::new(0),
            when_full: options.when_full,
            sync: options.sync,
            progress,
            writer: Mutex::new(Some(writer)),
            depth,
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
        if let Ok(mut p) = self.progress.0.lock() {
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

    /// Records written so far.
    pub fn durable(&self) -> u64 {
        self.progress.0.lock().map_or(0, |p| p.durable)
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl DecisionSink for Log {
    fn submit(&self, record: DecisionRecord) -> Option<Ticket> {
        let Ok(mut queued) = self.queued.lock() else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let sender = self.sender.lock().ok().and_then(|s| s.clone());
        let Some(sender) = sender else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        self.depth.fetch_add(1, Ordering::Relaxed);
        let sent = match self.when_full {
            WhenFull::Wait => sender.send(record).map_err(|_| ()),
            WhenFull::Drop => sender.try_send(record).map_err(|e| match e {
                TrySendError::Full(_) | TrySendError::Disconnected(_) => (),
            }),
        };
        if sent.is_err() {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *queued += 1;
        Some(Ticket(*queued))
    }

    fn last_ticket(&self) -> Ticket {
        Ticket(self.queued.lock().map_or(0, |q| *q))
    }

    fn wait_durable(&self, ticket: Ticket) -> Result<(), LogError> {
        let (lock, changed) = &*self.progress;
        let mut progress = lock
            .lock()
            .map_err(|_| LogError("the log's writer failed".into()))?;
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
            progress = changed
                .wait(progress)
                .map_err(|_| LogError("the log's writer failed".into()))?;
        }
    }

    fn is_sync(&self) -> bool {
        self.sync
    }

    fn queue_depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed)
    }

    fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The writer thread: batches, links and writes until every sender is gone and the queue is
/// empty.
fn write_loop(
    name: &str,
    mut store: Box<dyn Store>,
    receiver: &Receiver<DecisionRecord>,
    options: &Options,
    progress: &(Mutex<Progress>, Condvar),
    depth: &AtomicU64,
) {
    let mut batch: Vec<DecisionRecord> = Vec::with_capacity(BATCH);
    let mut last_purge = Instant::now();
    loop {
        match receiver.recv_timeout(PURGE_EVERY) {
            Ok(record) => batch.push(record),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(record) => batch.push(record),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            if let Some(pseudonymizer) = &options.pseudonymizer {
                batch.iter_mut().for_each(|r| pseudonymizer.apply(r));
            }
            write_batch(name, store.as_mut(), &mut batch, options.sync, progress);
            depth.fetch_sub(batch.len() as u64, Ordering::Relaxed);
            batch.clear();
        }
        if last_purge.elapsed() >= PURGE_EVERY {
            last_purge = Instant::now();
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
    }
    if let Ok(mut p) = progress.0.lock() {
        p.stopped = true;
    }
    progress.1.notify_all();
}

/// Writes one batch, trying again until it is written: a log that cannot be written holds up
/// the decisions (with `--log-when-full wait`) rather than losing them; a decision that waits
/// for its record (`--log-sync`) is told at once.
fn write_batch(
    name: &str,
    store: &mut dyn Store,
    batch: &mut [DecisionRecord],
    sync: bool,
    progress: &(Mutex<Progress>, Condvar),
) {
    for attempt in 1u32.. {
        match store.append(batch, sync) {
            Ok(()) => {
                if let Ok(mut p) = progress.0.lock() {
                    p.durable += batch.len() as u64;
                    p.failing = None;
                }
                progress.1.notify_all();
                return;
            }
            Err(e) => {
                tracing::error!(log = %name, records = batch.len(), "decision log: cannot write; trying again: {e}");
                let closing = match progress.0.lock() {
                    Ok(mut p) => {
                        p.failing = Some(e.0.clone());
                        p.closing
                    }
                    Err(_) => true,
                };
                progress.1.notify_all();
                if closing && attempt >= 3 {
                    tracing::error!(log = %name, lost = batch.len(), "decision log: giving up at shutdown; these records are lost");
                    return;
                }
                std::thread::sleep(RETRY_AFTER);
            }
        }
    }
}
