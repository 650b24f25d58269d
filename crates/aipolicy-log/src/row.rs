//! A record as a row of text columns: one layout for SQLite and PostgreSQL.
//!
//! `found` came after the first logs were written: it is the table's last column, so that a
//! table made then and given the column ([`ADD_FOUND`]) has the layout of one made now, and a
//! log that was never opened by a writer since is read with `'[]'` in its place
//! ([`select_columns`]).

use aipolicy::log::{Cited, DecisionRecord};
use aipolicy::Verdict;

/// The columns after `seq`, in order; `"user"` is quoted (a reserved word in PostgreSQL).
pub const COLUMNS: &str = r#"decision_id, time, policy_revision, request_id, caller, "user", roles, unit, ai, action, data, context, decision, reasons, obligations, hash, prev_hash, found"#;

/// How many columns [`COLUMNS`] names.
pub const WIDTH: usize = 18;

/// Gives a table made before `found` existed its column: its records found nothing (they
/// were written without it, and are hashed without it). PostgreSQL's form adds `IF NOT EXISTS`.
pub const ADD_FOUND: &str = "ALTER TABLE decisions ADD COLUMN found TEXT NOT NULL DEFAULT '[]'";

/// The columns to read, [`COLUMNS`] in order: `found` is read as `'[]'` from a table that has
/// not got the column (a log no writer of this version has opened; a reader does not change
/// the log it reads).
pub fn select_columns(has_found: bool) -> String {
    if has_found {
        COLUMNS.to_string()
    } else {
        COLUMNS.replace(", found", ", '[]' AS found")
    }
}

/// The table's columns, their types named by the database (`TEXT`, and the key's type).
pub fn create_table(seq_type: &str) -> String {
    format!(
        r#"CREATE TABLE IF NOT EXISTS decisions (
    seq {seq_type} PRIMARY KEY,
    decision_id TEXT NOT NULL,
    time TEXT NOT NULL,
    policy_revision TEXT NOT NULL,
    request_id TEXT,
    caller TEXT NOT NULL,
    "user" TEXT NOT NULL,
    roles TEXT NOT NULL,
    unit TEXT,
    ai TEXT NOT NULL,
    action TEXT NOT NULL,
    data TEXT NOT NULL,
    context TEXT NOT NULL,
    decision TEXT NOT NULL,
    reasons TEXT NOT NULL,
    obligations TEXT NOT NULL,
    hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    found TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS decisions_time ON decisions (time);
CREATE TABLE IF NOT EXISTS log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"#
    )
}

/// A record's columns: lists and maps as JSON text.
pub fn to_columns(record: &DecisionRecord) -> [Option<String>; WIDTH] {
    let json = |value: &dyn erased::Json| value.json();
    [
        Some(record.decision_id.clone()),
        Some(record.time.clone()),
        Some(record.policy_revision.clone()),
        record.request_id.clone(),
        Some(record.caller.clone()),
        Some(record.user.clone()),
        Some(json(&record.roles)),
        record.unit.clone(),
        Some(record.ai.clone()),
        Some(record.action.clone()),
        Some(json(&record.data)),
        Some(json(&record.context)),
        Some(record.decision.to_string()),
        Some(json(&record.reasons)),
        Some(json(&record.obligations)),
        Some(record.hash.clone()),
        Some(record.prev_hash.clone()),
        Some(json(&record.found)),
    ]
}

mod erased {
    /// Serializes to JSON text (lists, maps and cited reasons cannot fail).
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

/// The record of the row `seq` of a database store: its columns as read (in [`COLUMNS`]
/// order), or `bad`, what made a column unreadable; else what is wrong, with where.
pub fn decode(
    seq: i64,
    columns: [Option<&str>; WIDTH],
    bad: Option<String>,
) -> Result<DecisionRecord, crate::Unreadable> {
    let read = match bad {
        Some(message) => Err(message),
        None => from_columns(columns),
    };
    read.map_err(|message| crate::Unreadable {
        location: format!("the row with seq {seq}"),
        message,
    })
}

/// The record of a row's columns (in [`COLUMNS`] order); what is wrong, naming the column.
fn from_columns(columns: [Option<&str>; WIDTH]) -> Result<DecisionRecord, String> {
    const NAMES: [&str; WIDTH] = [
        "decision_id",
        "time",
        "policy_revision",
        "request_id",
        "caller",
        "user",
        "roles",
        "unit",
        "ai",
        "action",
        "data",
        "context",
        "decision",
        "reasons",
        "obligations",
        "hash",
        "prev_hash",
        "found",
    ];
    let text = |i: usize| {
        columns[i]
            .map(str::to_string)
            .ok_or_else(|| format!("column `{}` is empty (NULL)", NAMES[i]))
    };
    fn json<T: serde::de::DeserializeOwned>(
        columns: &[Option<&str>; WIDTH],
        i: usize,
        name: &str,
    ) -> Result<T, String> {
        let text = columns[i].ok_or_else(|| format!("column `{name}` is empty (NULL)"))?;
        serde_json::from_str(text)
            .map_err(|e| format!("column `{name}` is not the JSON it was: {e}"))
    }
    let decision = match columns[12] {
        Some("allow") => Verdict::Allow,
        Some("deny") => Verdict::Deny,
        other => {
            return Err(format!(
                "column `decision` is `{}`, not allow or deny",
                other.unwrap_or("NULL")
            ))
        }
    };
    Ok(DecisionRecord {
        decision_id: text(0)?,
        time: text(1)?,
        policy_revision: text(2)?,
        request_id: columns[3].map(str::to_string),
        caller: text(4)?,
        user: text(5)?,
        roles: json(&columns, 6, NAMES[6])?,
        unit: columns[7].map(str::to_string),
        ai: text(8)?,
        action: text(9)?,
        data: json(&columns, 10, NAMES[10])?,
        found: json(&columns, 17, NAMES[17])?,
        context: json(&columns, 11, NAMES[11])?,
        decision,
        reasons: json::<Vec<Cited>>(&columns, 13, NAMES[13])?,
        obligations: json::<Vec<Cited>>(&columns, 14, NAMES[14])?,
        hash: text(15)?,
        prev_hash: text(16)?,
    })
}

/// The `WHERE` clause of a time range (empty for all time) and its values, with the
/// database's placeholders (`?1` in SQLite, `$1` in PostgreSQL).
pub fn range_clause(range: &crate::TimeRange, placeholder: &str) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    for (bound, op) in [(&range.since, ">="), (&range.until, "<")] {
        if let Some(time) = bound {
            values.push(time.clone());
            clauses.push(format!("time {op} {placeholder}{}", values.len()));
        }
    }
    let clause = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (clause, values)
}
