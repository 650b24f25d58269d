//! aipolicy's decision log: where [`aipolicy::log::DecisionRecord`]s are kept, and what the
//! people who supervise read from them.
//!
//! - [`LogArgs`]: the `--log SINK` options of `aipolicy check`, `batch` and `serve`;
//!   [`LogArgs::open`] gives a [`Log`], the core's [`DecisionSink`] over one of the stores.
//! - The stores: [`sqlite`] (`sqlite:PATH`, the embedded default), [`jsonl`] (`jsonl:PATH`,
//!   rotated) and [`postgres`] (`postgres://…`, several servers writing one log).
//! - [`audit`]: `aipolicy audit verify`, `summary`, `export` and `report` over any store.
//!
//! Writing never holds up a decision longer than a queue push: each [`Log`] has one writer
//! thread that takes what is queued in batches, links each record into the hash chain and
//! writes the batch in one transaction.

pub mod audit;
pub mod filter;
pub mod jsonl;
pub mod postgres;
mod queue;
pub mod report;
mod row;
pub mod sqlite;
pub mod time;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use aipolicy::log::{Anchor, DecisionRecord, DecisionSink, LogError, Pseudonymizer};

pub use queue::{Log, Options as QueueOptions};
pub use time::{Retention, TimeRange};

/// Where a decision log is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkSpec {
    /// `sqlite:PATH`: one SQLite file (WAL).
    Sqlite(PathBuf),
    /// `jsonl:PATH`: JSON Lines, rotated beside PATH.
    Jsonl(PathBuf),
    /// `postgres://…` (or `postgresql://…`): a PostgreSQL database.
    Postgres(String),
}

impl FromStr for SinkSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<SinkSpec, String> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            return non_empty(path, "sqlite:PATH").map(|p| SinkSpec::Sqlite(p.into()));
        }
        if let Some(path) = text.strip_prefix("jsonl:") {
            return non_empty(path, "jsonl:PATH").map(|p| SinkSpec::Jsonl(p.into()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(SinkSpec::Postgres(text.to_string()));
        }
        Err(format!(
            "`{text}` is not a decision log; write sqlite:PATH (e.g. sqlite:audit.db), jsonl:PATH or postgres://USER@HOST/DB"
        ))
    }
}

fn non_empty<'t>(path: &'t str, form: &str) -> Result<&'t str, String> {
    if path.is_empty() {
        Err(format!("`{form}` needs a file name after the colon"))
    } else {
        Ok(path)
    }
}

impl std::fmt::Display for SinkSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SinkSpec::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            SinkSpec::Jsonl(path) => write!(f, "jsonl:{}", path.display()),
            SinkSpec::Postgres(url) => f.write_str(&postgres::redacted(url)),
        }
    }
}

/// What a full queue does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum WhenFull {
    /// The decision waits until there is room: nothing is lost.
    #[default]
    Wait,
    /// The record is dropped and counted (`aipolicy_decision_log_dropped_total`).
    Drop,
}

/// The decision log options of `check`, `batch` and `serve`.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct LogArgs {
    /// Log every decision: sqlite:PATH (the embedded default), jsonl:PATH or postgres://USER@HOST/DB
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "SINK", help_heading = "Decision log")
    )]
    pub log: Option<SinkSpec>,
    /// Log a keyed hash of each user id instead of the id (the same user, the same pseudonym):
    /// the key itself, @FILE to read it from a file, or env:VAR
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "KEY",
            requires = "log",
            help_heading = "Decision log"
        )
    )]
    pub log_pseudonymize: Option<String>,
    /// Purge records older than this: e.g. 6months, 1y, 400d, or never (AI Act art. 26(6):
    /// at least six months)
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "AGE",
            default_value = "6months",
            help_heading = "Decision log"
        )
    )]
    pub log_retention: Retention,
    /// When the queue is full: wait (nothing is lost) or drop (counted in /metrics)
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = WhenFull::Wait, help_heading = "Decision log"))]
    pub log_when_full: WhenFull,
    /// Records the queue holds before --log-when-full applies
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "N",
            default_value_t = 65_536,
            help_heading = "Decision log"
        )
    )]
    pub log_queue: usize,
    /// Answer a decision only once its record is durable (synced to disk, or committed)
    #[cfg_attr(
        feature = "clap",
        arg(long, requires = "log", help_heading = "Decision log")
    )]
    pub log_sync: bool,
    /// jsonl: start a new file when the current one is larger than this many MiB
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "MIB",
            default_value_t = 100,
            help_heading = "Decision log"
        )
    )]
    pub log_rotate_mib: u64,
}

impl Default for LogArgs {
    fn default() -> LogArgs {
        LogArgs {
            log: None,
            log_pseudonymize: None,
            log_retention: Retention::default(),
            log_when_full: WhenFull::Wait,
            log_queue: 65_536,
            log_sync: false,
            log_rotate_mib: 100,
        }
    }
}

/// An opened decision log, and what its options mean for the user.
#[derive(Debug)]
pub struct Opened {
    /// The log.
    pub log: Arc<Log>,
    /// Likely mistakes to name (a retention shorter than the law's six months).
    pub warnings: Vec<String>,
}

impl LogArgs {
    /// Opens the log `--log` names (creating it when new), with its writer thread; `None`
    /// without `--log`. Purges what the retention says is too old.
    pub fn open(&self) -> Result<Option<Opened>, LogError> {
        let Some(spec) = &self.log else {
            return Ok(None);
        };
        let pseudonymizer = match &self.log_pseudonymize {
            Some(key) => Some(Pseudonymizer::new(&read_key(key)?)),
            None => None,
        };
        let mut warnings = Vec::new();
        if let Some(warning) = self.log_retention.below_the_law() {
            warnings.push(warning);
        }
        let store = open_store(spec, self)?;
        let options = queue::Options {
            capacity: self.log_queue.max(1),
            when_full: self.log_when_full,
            sync: self.log_sync,
            pseudonymizer,
            retention: self.log_retention,
        };
        let log = Log::start(spec.to_string(), store, options)?;
        Ok(Some(Opened {
            log: Arc::new(log),
            warnings,
        }))
    }
}

/// The largest pseudonymization key file read.
const MAX_KEY_FILE_BYTES: usize = 64 * 1024;

/// The pseudonymizer of a key given as `--log-pseudonymize` takes it (the text, `@FILE`, or
/// `env:VAR`): what `aipolicy audit pseudonym` computes a person's pseudonym with.
pub fn pseudonymizer(key: &str) -> Result<Pseudonymizer, LogError> {
    Ok(Pseudonymizer::new(&read_key(key)?))
}

/// The pseudonymization key of `--log-pseudonymize`: the text, `@FILE`'s content, or `env:VAR`.
fn read_key(arg: &str) -> Result<Vec<u8>, LogError> {
    let key = if let Some(path) = arg.strip_prefix('@') {
        // Read within a limit, as every input is: a key is a few dozen bytes, never a stream.
        let text = std::fs::File::open(path)
            .and_then(|file| aipolicy::io::read::read_capped(file, MAX_KEY_FILE_BYTES))
            .map_err(|e| {
                LogError(format!(
                    "cannot read the pseudonymization key file `{path}`: {e}"
                ))
            })?
            .ok_or_else(|| {
                LogError(format!(
                    "the pseudonymization key file `{path}` is larger than {MAX_KEY_FILE_BYTES} bytes; a key is a line of text"
                ))
            })?;
        // A trailing line break from an editor or `echo` is not part of the key.
        let end = text
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |at| at + 1);
        text[..end].to_vec()
    } else if let Some(var) = arg.strip_prefix("env:") {
        std::env::var(var)
            .map_err(|_| {
                LogError(format!(
                    "the environment variable `{var}` (--log-pseudonymize env:{var}) is not set"
                ))
            })?
            .into_bytes()
    } else {
        arg.as_bytes().to_vec()
    };
    if key.len() < 16 {
        return Err(LogError(format!(
            "the pseudonymization key is {} bytes; use at least 16 random bytes (e.g. `openssl rand -hex 32 > key`, then --log-pseudonymize @key): a short key lets anyone who guesses it turn user ids into pseudonyms",
            key.len()
        )));
    }
    Ok(key)
}

/// What writes records: one store, used by one writer thread.
pub trait Store: Send {
    /// Appends `records` in one transaction, each linked after the log's last record (read in
    /// the same transaction, so that several writers keep one chain); durable on return when
    /// `sync`.
    fn append(&mut self, records: &mut [DecisionRecord], sync: bool) -> Result<(), LogError>;
    /// Purges the records before the first one at or after `cutoff` (an RFC 3339 time), and
    /// writes down where the chain now starts; returns how many were purged.
    fn purge_before(&mut self, cutoff: &str) -> Result<u64, LogError>;
}

/// A record as read back, or why it cannot be read (a damaged row or line: a bad record).
pub type ReadRecord = Result<DecisionRecord, Unreadable>;

/// A stored record that is not a record any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Where it is (`row 17`, `audit.jsonl:17`).
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cannot be read as a record: {}",
            self.location, self.message
        )
    }
}

/// What reads records back, in log order.
pub trait Source {
    /// Where the chain starts (after a purge, the first kept record's predecessor).
    fn anchor(&mut self) -> Result<Anchor, LogError>;
    /// How many records there are in `range`, when the store can tell cheaply (for progress).
    fn count(&mut self, range: &TimeRange) -> Result<Option<u64>, LogError>;
    /// Calls `visit` with each record in `range`, in log order, until it returns `false`.
    fn scan(
        &mut self,
        range: &TimeRange,
        visit: &mut dyn FnMut(ReadRecord) -> bool,
    ) -> Result<(), LogError>;
}

fn open_store(spec: &SinkSpec, args: &LogArgs) -> Result<Box<dyn Store>, LogError> {
    Ok(match spec {
        SinkSpec::Sqlite(path) => Box::new(sqlite::SqliteStore::open(path)?),
        SinkSpec::Jsonl(path) => Box::new(jsonl::JsonlStore::open(
            path,
            args.log_rotate_mib.saturating_mul(1024 * 1024).max(1),
        )?),
        SinkSpec::Postgres(url) => Box::new(postgres::PostgresStore::open(url)?),
    })
}

/// Opens the log `spec` names for reading (`aipolicy audit`); a file that does not exist is
/// an error, not an empty log.
pub fn open_source(spec: &SinkSpec) -> Result<Box<dyn Source>, LogError> {
    Ok(match spec {
        SinkSpec::Sqlite(path) => Box::new(sqlite::SqliteSource::open(path)?),
        SinkSpec::Jsonl(path) => Box::new(jsonl::JsonlSource::open(path)?),
        SinkSpec::Postgres(url) => Box::new(postgres::PostgresSource::open(url)?),
    })
}

/// A sink the decision service hands each answer's records to: together, once the answer is
/// about to be given, so that the log holds the decisions that were answered, and only those.
///
/// [`Log`] writes one answer's records in one transaction, and with `--log-sync` takes them
/// back when they cannot be made durable in time ([`AnswerSink::settle`]): a decision answered
/// with a refusal is never written afterwards. A sink of one's own gets the defaults: the
/// records handed over one by one, and an answer that waits for them without a deadline and
/// cannot take them back (so with it, a refused decision may still be written later).
pub trait AnswerSink: DecisionSink {
    /// Queues the records of one answer, to be written together; returns the ticket of the
    /// last, or `None` when they were dropped (a full queue set to drop, a failed sink).
    fn submit_answer(&self, records: Vec<DecisionRecord>) -> Option<aipolicy::log::Ticket> {
        let mut last = Some(self.last_ticket());
        for record in records {
            last = last.and(self.submit(record));
        }
        last
    }

    /// Waits until the answer whose last record is `ticket` is durable, at most until
    /// `deadline`. `Err` when it is not: its records are then withdrawn, never to be written —
    /// unless their write had begun, which is waited for (`Ok` if it holds).
    fn settle(
        &self,
        ticket: aipolicy::log::Ticket,
        deadline: std::time::Instant,
    ) -> Result<(), LogError> {
        let _ = deadline;
        self.wait_durable(ticket)
    }
}

/// A fresh decision id (UUIDv7: ids sort by time), for a front end without its own.
pub fn new_decision_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The sink a front end hands records to, as the core's trait object.
pub fn as_sink(log: &Arc<Log>) -> Arc<dyn DecisionSink> {
    Arc::clone(log) as Arc<dyn DecisionSink>
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sink_specs() {
        assert_eq!(
            "sqlite:a.db".parse::<SinkSpec>(),
            Ok(SinkSpec::Sqlite("a.db".into()))
        );
        assert_eq!(
            "jsonl:/var/log/a.jsonl".parse::<SinkSpec>(),
            Ok(SinkSpec::Jsonl("/var/log/a.jsonl".into()))
        );
        assert!(matches!(
            "postgres://u@h/db".parse::<SinkSpec>(),
            Ok(SinkSpec::Postgres(_))
        ));
        assert!("audit.db"
            .parse::<SinkSpec>()
            .unwrap_err()
            .contains("sqlite:PATH"));
        assert!("sqlite:".parse::<SinkSpec>().is_err());
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(read_key("short").is_err());
        assert_eq!(read_key("0123456789abcdef").unwrap().len(), 16);
        assert!(read_key("env:AIPOLICY_SURELY_UNSET_VARIABLE").is_err());
    }
}
