//! `sqlite:PATH`: the log in one SQLite file, in WAL mode.
//!
//! The table `decisions` holds one row a record (lists and maps as JSON text), `seq` its
//! place in the log; `log_meta` holds where the chain starts after a purge. Each batch is one
//! `BEGIN IMMEDIATE` transaction that reads the last row's hash first, so that several
//! processes writing one file (a service and `aipolicy check --log` beside it) keep one
//! chain. A file made before records had `found` gets the column when a writer opens it. `--log-sync` sets `synchronous = FULL` (each commit on disk before the decision is
//! answered); by default `synchronous = NORMAL`: a commit survives the process being killed,
//! and only the last commits before a power cut can be lost.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aipolicy::log::{Anchor, DecisionRecord, LogError, GENESIS};
use rusqlite::{params_from_iter, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::row::{self, COLUMNS, WIDTH};
use crate::{ReadRecord, Source, Store, TimeRange};

/// How long a writer waits for another process's transaction before it fails (and tries
/// again).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn error(path: &Path, what: &str, e: impl std::fmt::Display) -> LogError {
    LogError(format!("sqlite:{}: {what}: {e}", path.display()))
}

/// The writer's connection.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    connection: Connection,
    synchronous_full: bool,
}

impl SqliteStore {
    /// Opens (or creates) the log file and its tables.
    pub fn open(path: &Path) -> Result<SqliteStore, LogError> {
        let mut connection =
            Connection::open(path).map_err(|e| error(path, "cannot open or create", e))?;
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .and_then(|()| {
                connection.pragma_update(None, "journal_mode", "WAL")?;
                connection.pragma_update(None, "synchronous", "NORMAL")
            })
            .map_err(|e| error(path, "cannot set up", e))?;
        connection
            .execute_batch(&row::create_table("INTEGER"))
            .map_err(|e| error(path, "cannot create the tables", e))?;
        add_found(&mut connection).map_err(|e| error(path, "cannot add the column `found`", e))?;
        check_format(&connection, path)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            connection,
            synchronous_full: false,
        })
    }
}

/// Whether the table `decisions` has the column `found`.
fn has_found(connection: &Connection) -> rusqlite::Result<bool> {
    connection.query_row(
        "SELECT count(*) FROM pragma_table_info('decisions') WHERE name = 'found'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )
}

/// Gives a table made before `found` existed its column. SQLite has no `ADD COLUMN IF NOT
/// EXISTS`: the check and the change are one write transaction, so that two processes opening
/// the old file together do not both add it.
fn add_found(connection: &mut Connection) -> rusqlite::Result<()> {
    if has_found(connection)? {
        return Ok(());
    }
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !has_found(&tx)? {
        tx.execute_batch(row::ADD_FOUND)?;
    }
    tx.commit()
}

/// The log's format version, written into a new log and checked in an old one.
const FORMAT: &str = "1";

fn check_format(connection: &Connection, path: &Path) -> Result<(), LogError> {
    let found: Option<String> = connection
        .query_row("SELECT value FROM log_meta WHERE key = 'format'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| error(path, "cannot read log_meta", e))?;
    match found.as_deref() {
        None => connection
            .execute(
                "INSERT OR IGNORE INTO log_meta (key, value) VALUES ('format', ?1)",
                [FORMAT],
            )
            .map(drop)
            .map_err(|e| error(path, "cannot write log_meta", e)),
        Some(FORMAT) => Ok(()),
        Some(other) => Err(error(
            path,
            "not a log this version writes",
            format!("its format is `{other}`, this aipolicy writes format {FORMAT}"),
        )),
    }
}

fn anchor_of(connection: &Connection) -> rusqlite::Result<Anchor> {
    let get = |key: &str| -> rusqlite::Result<Option<String>> {
        connection
            .query_row("SELECT value FROM log_meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
    };
    Ok(Anchor {
        prev_hash: get("anchor")?.unwrap_or_else(|| GENESIS.to_string()),
        purged: get("purged")?.and_then(|p| p.parse().ok()).unwrap_or(0),
    })
}

impl Store for SqliteStore {
    fn append(&mut self, records: &mut [DecisionRecord], sync: bool) -> Result<(), LogError> {
        if sync != self.synchronous_full {
            let mode = if sync { "FULL" } else { "NORMAL" };
            self.connection
                .pragma_update(None, "synchronous", mode)
                .map_err(|e| error(&self.path, "cannot set synchronous", e))?;
            self.synchronous_full = sync;
        }
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| error(&path, "cannot write", e);
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        let last: Option<String> = tx
            .query_row(
                "SELECT hash FROM decisions ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(fail)?;
        let mut prev = match last {
            Some(hash) => hash,
            None => anchor_of(&tx).map_err(fail)?.prev_hash,
        };
        {
            let placeholders = (1..=WIDTH)
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut insert = tx
                .prepare_cached(&format!(
                    "INSERT INTO decisions ({COLUMNS}) VALUES ({placeholders})"
                ))
                .map_err(fail)?;
            for record in records.iter_mut() {
                record.link(&prev);
                insert
                    .execute(params_from_iter(row::to_columns(record)))
                    .map_err(fail)?;
                prev.clone_from(&record.hash);
            }
        }
        tx.commit().map_err(fail)
    }

    fn purge_before(&mut self, cutoff: &str) -> Result<u64, LogError> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| error(&path, "cannot purge", e);
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        // The purge takes a prefix of the log (never a record from the middle), up to the
        // first record at or after the cutoff: the rest stays one chain.
        let keep_from: Option<i64> = tx
            .query_row(
                "SELECT min(seq) FROM decisions WHERE time >= ?1",
                [cutoff],
                |r| r.get(0),
            )
            .map_err(fail)?;
        let last_purged: Option<(i64, String)> = match keep_from {
            Some(first) => tx.query_row(
                "SELECT seq, hash FROM decisions WHERE seq < ?1 ORDER BY seq DESC LIMIT 1",
                [first],
                |r| Ok((r.get(0)?, r.get(1)?)),
            ),
            None => tx.query_row(
                "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            ),
        }
        .optional()
        .map_err(fail)?;
        let Some((through, hash)) = last_purged else {
            return Ok(0);
        };
        let purged = tx
            .execute("DELETE FROM decisions WHERE seq <= ?1", [through])
            .map_err(fail)? as u64;
        let total = anchor_of(&tx).map_err(fail)?.purged + purged;
        tx.execute(
            "INSERT INTO log_meta (key, value) VALUES ('anchor', ?1), ('purged', ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [hash, total.to_string()],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(purged)
    }
}

/// A reader of a log file.
#[derive(Debug)]
pub struct SqliteSource {
    path: PathBuf,
    connection: Connection,
    /// The columns read ([`row::select_columns`]): a file no writer has opened since `found`
    /// existed is read as it is, not changed.
    columns: String,
}

impl SqliteSource {
    /// Opens an existing log file for reading.
    pub fn open(path: &Path) -> Result<SqliteSource, LogError> {
        if !path.is_file() {
            return Err(error(
                path,
                "no such log",
                "the file does not exist (a log is made by --log sqlite:PATH on check, batch or serve)",
            ));
        }
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| error(path, "cannot open", e))?;
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| error(path, "cannot open", e))?;
        let columns =
            row::select_columns(has_found(&connection).map_err(|e| error(path, "cannot read", e))?);
        Ok(SqliteSource {
            path: path.to_path_buf(),
            connection,
            columns,
        })
    }
}

impl Source for SqliteSource {
    fn anchor(&mut self) -> Result<Anchor, LogError> {
        anchor_of(&self.connection).map_err(|e| error(&self.path, "cannot read log_meta", e))
    }

    fn count(&mut self, range: &TimeRange) -> Result<Option<u64>, LogError> {
        let (clause, values) = row::range_clause(range, "?");
        self.connection
            .query_row(
                &format!("SELECT count(*) FROM decisions{clause}"),
                params_from_iter(values),
                |r| r.get::<_, i64>(0),
            )
            .map(|n| Some(n.max(0) as u64))
            .map_err(|e| error(&self.path, "cannot read", e))
    }

    fn scan(
        &mut self,
        range: &TimeRange,
        visit: &mut dyn FnMut(ReadRecord) -> bool,
    ) -> Result<(), LogError> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| error(&path, "cannot read", e);
        let (clause, values) = row::range_clause(range, "?");
        let mut statement = self
            .connection
            .prepare(&format!(
                "SELECT seq, {} FROM decisions{clause} ORDER BY seq",
                self.columns
            ))
            .map_err(fail)?;
        let mut rows = statement.query(params_from_iter(values)).map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let seq: i64 = row.get(0).map_err(fail)?;
            let mut columns: [Option<&str>; WIDTH] = [None; WIDTH];
            let mut bad = None;
            for (i, column) in columns.iter_mut().enumerate() {
                match row.get_ref(i + 1).map_err(fail)? {
                    rusqlite::types::ValueRef::Null => {}
                    rusqlite::types::ValueRef::Text(text) => match std::str::from_utf8(text) {
                        Ok(text) => *column = Some(text),
                        Err(_) => bad = Some(format!("column {} is not UTF-8 text", i + 1)),
                    },
                    _ => bad = Some(format!("column {} is not text", i + 1)),
                }
            }
            if !visit(row::decode(seq, columns, bad)) {
                break;
            }
        }
        Ok(())
    }
}
