//! `postgres://…`: the log in a PostgreSQL database, written by several servers.
//!
//! The tables are SQLite's (`decisions`, `log_meta`). Several servers keep ONE chain: each
//! batch is a transaction that first takes a transaction-level advisory lock
//! (`pg_advisory_xact_lock`), then reads the last record's `seq` and hash, links its records
//! after it and inserts them with the next numbers. The lock is held until the commit, so
//! batches of different servers follow each other whole, and `seq` order is the chain's
//! order. Only the short insert is serialized; deciding is not. Without `--log-sync` a batch
//! commits with `synchronous_commit = off` (a crash of the database server can lose its last
//! moments of commits; a crash of an aipolicy server loses only its queue); with it, each
//! commit is on disk before the decisions wait for it are answered. A table made before records
//! had `found` gets the column when a writer connects.

use aipolicy::log::{Anchor, DecisionRecord, LogError, GENESIS};
use postgres::{Client, NoTls};

use crate::row::{self, COLUMNS, WIDTH};
use crate::{ReadRecord, Source, Store, TimeRange};

/// The advisory lock's key: "aipolicy" in its first eight bytes' ASCII, to stay clear of
/// other applications' locks in a shared database.
const LOCK_KEY: i64 = 0x6169_706f_6c69_6379;

/// `url` without its password, fit to print.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or("");
            if credentials.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{credentials}@{host}")
            }
        }
        None => url.to_string(),
    }
}

fn error(url: &str, what: &str, e: impl std::fmt::Display) -> LogError {
    LogError(format!("{}: {what}: {e}", redacted(url)))
}

fn connect(url: &str) -> Result<Client, LogError> {
    Client::connect(url, NoTls).map_err(|e| {
        error(
            url,
            "cannot connect",
            format!(
                "{e} (is the server running, and does the URL name its user, host and database?)"
            ),
        )
    })
}

fn anchor_of(client: &mut impl postgres::GenericClient) -> Result<Anchor, postgres::Error> {
    let mut get = |key: &str| -> Result<Option<String>, postgres::Error> {
        client
            .query_opt("SELECT value FROM log_meta WHERE key = $1", &[&key])?
            .map(|row| row.try_get(0))
            .transpose()
    };
    Ok(Anchor {
        prev_hash: get("anchor")?.unwrap_or_else(|| GENESIS.to_string()),
        purged: get("purged")?.and_then(|p| p.parse().ok()).unwrap_or(0),
    })
}

/// Whether the table `decisions` (the one the search path finds) has the column `found`.
fn has_found(client: &mut impl postgres::GenericClient) -> Result<bool, postgres::Error> {
    client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute
             WHERE attrelid = to_regclass('decisions') AND attname = 'found' AND NOT attisdropped)",
            &[],
        )?
        .try_get(0)
}

/// A writer's connection.
pub struct PostgresStore {
    url: String,
    client: Client,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &redacted(&self.url))
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects and creates the tables when they are missing (under the lock: servers that
    /// start together do not race).
    pub fn open(url: &str) -> Result<PostgresStore, LogError> {
        let mut client = connect(url)?;
        let fail = |e: postgres::Error| error(url, "cannot create the tables", e);
        let mut tx = client.transaction().map_err(fail)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
            .map_err(fail)?;
        tx.batch_execute(&row::create_table("BIGINT"))
            .map_err(fail)?;
        // Looked up first: `ALTER TABLE` takes the table's exclusive lock even when the column
        // is there, and would wait for (and hold up behind it) every audit reading the log.
        if !has_found(&mut tx).map_err(fail)? {
            // `IF NOT EXISTS` as well: a writer of another program may have added it.
            tx.batch_execute(
                "ALTER TABLE decisions ADD COLUMN IF NOT EXISTS found TEXT NOT NULL DEFAULT '[]'",
            )
            .map_err(fail)?;
        }
        tx.execute(
            "INSERT INTO log_meta (key, value) VALUES ('format', '1') ON CONFLICT (key) DO NOTHING",
            &[],
        )
        .map_err(fail)?;
        let format: String = tx
            .query_one("SELECT value FROM log_meta WHERE key = 'format'", &[])
            .and_then(|row| row.try_get(0))
            .map_err(fail)?;
        if format != "1" {
            return Err(error(
                url,
                "not a log this version writes",
                format!("its format is `{format}`, this aipolicy writes format 1"),
            ));
        }
        tx.commit().map_err(fail)?;
        Ok(PostgresStore {
            url: url.to_string(),
            client,
        })
    }

    fn reconnect_if_closed(&mut self) -> Result<(), LogError> {
        if self.client.is_closed() {
            self.client = connect(&self.url)?;
        }
        Ok(())
    }
}

impl Store for PostgresStore {
    fn append(&mut self, records: &mut [DecisionRecord], sync: bool) -> Result<(), LogError> {
        self.reconnect_if_closed()?;
        let url = self.url.clone();
        let fail = |e: postgres::Error| error(&url, "cannot write", e);
        let mut tx = self.client.transaction().map_err(fail)?;
        if !sync {
            tx.batch_execute("SET LOCAL synchronous_commit = off")
                .map_err(fail)?;
        }
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
            .map_err(fail)?;
        let last = tx
            .query_opt(
                "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1",
                &[],
            )
            .map_err(fail)?;
        let (mut seq, mut prev): (i64, String) = match last {
            Some(row) => (row.try_get(0).map_err(fail)?, row.try_get(1).map_err(fail)?),
            None => {
                let anchor = anchor_of(&mut tx).map_err(fail)?;
                let purged = i64::try_from(anchor.purged).unwrap_or(0);
                (purged, anchor.prev_hash)
            }
        };
        // One statement a batch: each column as an array, turned back into rows by `unnest`
        // (a round trip per record would cap the log at the network's pace).
        let mut seqs: Vec<i64> = Vec::with_capacity(records.len());
        let mut columns: Vec<Vec<Option<String>>> = (0..WIDTH)
            .map(|_| Vec::with_capacity(records.len()))
            .collect();
        for record in records.iter_mut() {
            record.link(&prev);
            seq += 1;
            seqs.push(seq);
            for (column, value) in columns.iter_mut().zip(row::to_columns(record)) {
                column.push(value);
            }
            prev.clone_from(&record.hash);
        }
        let arrays = (2..=WIDTH + 1)
            .map(|i| format!("${i}::text[]"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = Vec::with_capacity(WIDTH + 1);
        params.push(&seqs);
        params.extend(
            columns
                .iter()
                .map(|c| c as &(dyn postgres::types::ToSql + Sync)),
        );
        tx.execute(
            &format!("INSERT INTO decisions (seq, {COLUMNS}) SELECT * FROM unnest($1::bigint[], {arrays})"),
            &params,
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)
    }

    fn purge_before(&mut self, cutoff: &str) -> Result<u64, LogError> {
        self.reconnect_if_closed()?;
        let url = self.url.clone();
        let fail = |e: postgres::Error| error(&url, "cannot purge", e);
        let mut tx = self.client.transaction().map_err(fail)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
            .map_err(fail)?;
        let keep_from: Option<i64> = tx
            .query_one(
                "SELECT min(seq) FROM decisions WHERE time >= $1",
                &[&cutoff],
            )
            .and_then(|row| row.try_get(0))
            .map_err(fail)?;
        let last_purged = match keep_from {
            Some(first) => tx.query_opt(
                "SELECT seq, hash FROM decisions WHERE seq < $1 ORDER BY seq DESC LIMIT 1",
                &[&first],
            ),
            None => tx.query_opt(
                "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1",
                &[],
            ),
        }
        .map_err(fail)?;
        let Some(row) = last_purged else {
            return Ok(0);
        };
        let (through, hash): (i64, String) =
            (row.try_get(0).map_err(fail)?, row.try_get(1).map_err(fail)?);
        let purged = tx
            .execute("DELETE FROM decisions WHERE seq <= $1", &[&through])
            .map_err(fail)?;
        let total = anchor_of(&mut tx).map_err(fail)?.purged + purged;
        tx.execute(
            "INSERT INTO log_meta (key, value) VALUES ('anchor', $1), ('purged', $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&hash, &total.to_string()],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(purged)
    }
}

/// A reader of a PostgreSQL log.
pub struct PostgresSource {
    url: String,
    client: Client,
    /// The columns read ([`row::select_columns`]): a log no writer has opened since `found`
    /// existed is read as it is, not changed.
    columns: String,
}

impl std::fmt::Debug for PostgresSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSource")
            .field("url", &redacted(&self.url))
            .finish_non_exhaustive()
    }
}

impl PostgresSource {
    /// Connects to an existing log.
    pub fn open(url: &str) -> Result<PostgresSource, LogError> {
        let mut client = connect(url)?;
        let exists: bool = client
            .query_one("SELECT to_regclass('decisions') IS NOT NULL", &[])
            .and_then(|row| row.try_get(0))
            .map_err(|e| error(url, "cannot read", e))?;
        if !exists {
            return Err(error(
                url,
                "no such log",
                "the database has no table `decisions` (a log is made by --log postgres://… on check, batch or serve)",
            ));
        }
        let columns =
            row::select_columns(has_found(&mut client).map_err(|e| error(url, "cannot read", e))?);
        Ok(PostgresSource {
            url: url.to_string(),
            client,
            columns,
        })
    }
}

impl Source for PostgresSource {
    fn anchor(&mut self) -> Result<Anchor, LogError> {
        anchor_of(&mut self.client).map_err(|e| error(&self.url, "cannot read log_meta", e))
    }

    fn count(&mut self, range: &TimeRange) -> Result<Option<u64>, LogError> {
        let (clause, values) = row::range_clause(range, "$");
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let count: i64 = self
            .client
            .query_one(&format!("SELECT count(*) FROM decisions{clause}"), &params)
            .and_then(|row| row.try_get(0))
            .map_err(|e| error(&self.url, "cannot read", e))?;
        Ok(Some(count.max(0) as u64))
    }

    fn scan(
        &mut self,
        range: &TimeRange,
        visit: &mut dyn FnMut(ReadRecord) -> bool,
    ) -> Result<(), LogError> {
        use postgres::fallible_iterator::FallibleIterator;
        let url = self.url.clone();
        let fail = |e: postgres::Error| error(&url, "cannot read", e);
        let (clause, values) = row::range_clause(range, "$");
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        // One transaction: a snapshot of the log as it was when the read began, streamed.
        let mut tx = self.client.transaction().map_err(fail)?;
        let mut rows = tx
            .query_raw(
                &format!(
                    "SELECT seq, {} FROM decisions{clause} ORDER BY seq",
                    self.columns
                ),
                params,
            )
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let seq: i64 = row.try_get(0).map_err(fail)?;
            let mut columns: [Option<&str>; WIDTH] = [None; WIDTH];
            let mut bad = None;
            for (i, column) in columns.iter_mut().enumerate() {
                match row.try_get(i + 1) {
                    Ok(text) => *column = text,
                    Err(e) => bad = Some(format!("column {}: {e}", i + 1)),
                }
            }
            if !visit(row::decode(seq, columns, bad)) {
                break;
            }
        }
        drop(rows);
        tx.commit().map_err(fail)
    }
}
