//! Each store, for real: SQLite and JSON Lines files in a temporary folder, PostgreSQL on the
//! server `AIPOLICY_TEST_POSTGRES` names (`.ci/run` starts one). Records go in through the
//! queue as a front end hands them over; the chain is checked, purged and checked again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::BTreeMap;

use aipolicy::log::{Cited, DecisionRecord, DecisionSink, Pseudonymizer};
use aipolicy::Verdict;
use aipolicy_log::audit::{self, Verification};
use aipolicy_log::filter::{Filter, Outcome, UserFilter};
use aipolicy_log::jsonl::{JsonlSource, JsonlStore};
use aipolicy_log::postgres::{PostgresSource, PostgresStore};
use aipolicy_log::sqlite::{SqliteSource, SqliteStore};
use aipolicy_log::{Log, Retention, Source, Store, TimeRange, WhenFull};

fn record(i: usize, time: &str) -> DecisionRecord {
    let deny = i.is_multiple_of(3);
    DecisionRecord {
        decision_id: format!("00000000-0000-7000-8000-{i:012}"),
        time: time.to_string(),
        policy_revision: "rev1".into(),
        request_id: Some(format!("r{i}")),
        caller: "test".into(),
        user: format!("user{}", i % 4),
        roles: vec!["employee".into()],
        unit: i
            .is_multiple_of(2)
            .then(|| "Socialförvaltningen".to_string()),
        ai: if deny { "chatgpt" } else { "copilot-chat" }.into(),
        action: "use".into(),
        data: if i.is_multiple_of(5) {
            vec!["intern".into(), "personuppgifter".into()]
        } else {
            vec!["intern".into()]
        },
        // Every fifth record is about a text with a personnummer in it (the rest had none):
        // both shapes of record go through each store and verify.
        found: if i.is_multiple_of(5) {
            vec!["personnummer".into()]
        } else {
            vec![]
        },
        context: BTreeMap::from([("humanReview".to_string(), true)]),
        decision: if deny { Verdict::Deny } else { Verdict::Allow },
        reasons: if deny {
            vec![Cited {
                policy: "u3-public-ai-open-only".into(),
                paragraph: "U3".into(),
            }]
        } else {
            vec![]
        },
        obligations: vec![],
        hash: String::new(),
        prev_hash: String::new(),
    }
}

fn options(
    retention: Retention,
    pseudonymizer: Option<Pseudonymizer>,
) -> aipolicy_log::QueueOptions {
    aipolicy_log::QueueOptions {
        capacity: 64,
        when_full: WhenFull::Wait,
        sync: true,
        pseudonymizer,
        retention,
    }
}

fn whole(source: &mut dyn Source) -> (u64, u64) {
    match audit::verify(source, &mut |_, _| {}).unwrap() {
        Verification::Whole { verified, anchor } => (verified.records, anchor.purged),
        other => panic!("the chain is not whole: {other:?}"),
    }
}

/// Old records (2020), then new ones, through the queue (two runs of a front end); a purge of what is older than a
/// year keeps the rest checkable; records written after the purge link on.
fn exercise(open_store: &dyn Fn() -> Box<dyn Store>, open_source: &dyn Fn() -> Box<dyn Source>) {
    // The old records in one batch, as a front end's run would write them when its writer
    // takes them together: a JSON Lines log rotates between batches and purges whole files,
    // so the new records begin a file of their own (a queue's batches depend on timing).
    let mut old: Vec<_> = (0..30)
        .map(|i| record(i, "2020-01-01T00:00:00.000Z"))
        .collect();
    open_store().append(&mut old, true).unwrap();
    let log = Log::start("test".into(), open_store(), options(Retention::Never, None)).unwrap();
    let now = aipolicy::log::rfc3339(std::time::SystemTime::now());
    for i in 30..100 {
        log.submit(record(i, &now)).unwrap();
    }
    log.close().unwrap();
    assert_eq!(whole(open_source().as_mut()), (100, 0));
    let summary = audit::summary(
        open_source().as_mut(),
        &audit::Selection::default(),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!((summary.total, summary.deny), (100, 34));
    // Filtered, as read from each store: a user's records (any case) among the denies of
    // one unit, and the filters said beside the counts.
    let selection = audit::Selection {
        filter: Filter {
            users: vec![UserFilter::new("USER0", None, None)],
            outcomes: vec![Outcome::Deny],
            units: vec!["Socialförvaltningen".into()],
            ..Filter::default()
        },
        ..audit::Selection::default()
    };
    let filtered = audit::summary(open_source().as_mut(), &selection, &mut |_, _| {}).unwrap();
    // user0 is every fourth record (so even: Socialförvaltningen), denied every third: i % 12 == 0.
    assert_eq!((filtered.total, filtered.deny, filtered.allow), (9, 9, 0));
    let said = filtered.filters.unwrap();
    assert_eq!(said.user, ["USER0"]);
    assert!(said.unmatched.is_empty(), "{said:?}");
    assert_eq!(summary.by_paragraph.get("U3"), Some(&34));
    assert_eq!(summary.by_ai_system.get("chatgpt"), Some(&34));
    // Every fifth record found a personnummer; the kinds come back from each store.
    assert_eq!(
        summary.by_found,
        BTreeMap::from([("personnummer".to_string(), 20)])
    );

    // Opening with a retention of one year purges the 2020 records.
    let retention: Retention = "1y".parse().unwrap();
    let log = Log::start("test".into(), open_store(), options(retention, None)).unwrap();
    log.submit(record(100, &now)).unwrap();
    log.close().unwrap();
    let (kept, purged) = whole(open_source().as_mut());
    assert_eq!(kept + purged, 101);
    assert!(purged >= 30 && kept >= 71, "kept {kept}, purged {purged}");
}

#[test]
fn sqlite_keeps_a_chain_through_a_purge() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    exercise(&|| Box::new(SqliteStore::open(&path).unwrap()), &|| {
        Box::new(SqliteSource::open(&path).unwrap())
    });
}

#[test]
fn jsonl_keeps_a_chain_through_rotation_and_a_purge() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    // Rotation at 2 KiB: a few records a file, so that whole files are purged.
    exercise(
        &|| Box::new(JsonlStore::open(&path, 2048).unwrap()),
        &|| Box::new(JsonlSource::open(&path).unwrap()),
    );
    // The purge above (of whole rotated files) wrote down where the chain now starts.
    assert!(dir.path().join("audit.jsonl.anchor").is_file());
}

#[test]
fn jsonl_refuses_a_second_writer_and_removes_a_cut_off_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let first = JsonlStore::open(&path, 1 << 20).unwrap();
    let second = JsonlStore::open(&path, 1 << 20).unwrap_err();
    assert!(second.0.contains("one writer"), "{second}");
    drop(first);
    let log = Log::start(
        "t".into(),
        Box::new(JsonlStore::open(&path, 1 << 20).unwrap()),
        options(Retention::Never, None),
    )
    .unwrap();
    for i in 0..5 {
        log.submit(record(i, "2026-11-01T00:00:00.000Z")).unwrap();
    }
    log.close().unwrap();
    drop(log);
    // A crash in the middle of a write: half a line at the end.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"decisionId\":\"half");
    std::fs::write(&path, text).unwrap();
    let log = Log::start(
        "t".into(),
        Box::new(JsonlStore::open(&path, 1 << 20).unwrap()),
        options(Retention::Never, None),
    )
    .unwrap();
    log.submit(record(5, "2026-11-01T00:00:00.000Z")).unwrap();
    log.close().unwrap();
    assert_eq!(whole(&mut JsonlSource::open(&path).unwrap()), (6, 0));
    // Cut off inside a character (the first byte of `ö`): only the cut line goes, to the byte.
    let mut bytes = std::fs::read(&path).unwrap();
    let durable = bytes.len();
    bytes.extend_from_slice(b"{\"unit\":\"Socialf\xc3");
    std::fs::write(&path, bytes).unwrap();
    drop(JsonlStore::open(&path, 1 << 20).unwrap());
    assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, durable);
    assert_eq!(whole(&mut JsonlSource::open(&path).unwrap()), (6, 0));
}

#[test]
fn an_edited_jsonl_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = Log::start(
        "t".into(),
        Box::new(JsonlStore::open(&path, 1 << 20).unwrap()),
        options(Retention::Never, None),
    )
    .unwrap();
    for i in 0..10 {
        log.submit(record(i, "2026-11-01T00:00:00.000Z")).unwrap();
    }
    log.close().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen(r#""decision":"deny""#, r#""decision":"allow""#, 1);
    std::fs::write(&path, edited).unwrap();
    match audit::verify(&mut JsonlSource::open(&path).unwrap(), &mut |_, _| {}).unwrap() {
        Verification::Broken(broken) => {
            assert_eq!(broken.position, 1);
            assert_eq!(broken.decision_id, "00000000-0000-7000-8000-000000000000");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pseudonyms_replace_user_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let key = Pseudonymizer::new(b"a key of sixteen bytes or more");
    let log = Log::start(
        "t".into(),
        Box::new(SqliteStore::open(&path).unwrap()),
        options(Retention::Never, Some(key.clone())),
    )
    .unwrap();
    for i in 0..8 {
        log.submit(record(i, "2026-11-01T00:00:00.000Z")).unwrap();
    }
    log.close().unwrap();
    let mut users = Vec::new();
    SqliteSource::open(&path)
        .unwrap()
        .scan(&TimeRange::default(), &mut |r| {
            users.push(r.unwrap().user);
            true
        })
        .unwrap();
    assert_eq!(users[0], key.pseudonym("user0"));
    assert_eq!(users[0], users[4]);
    assert_ne!(users[0], users[1]);
    assert!(users.iter().all(|u| !u.starts_with("user")), "{users:?}");
}

#[test]
fn a_full_queue_drops_and_counts_when_set_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut opts = options(Retention::Never, None);
    opts.capacity = 1;
    opts.when_full = WhenFull::Drop;
    opts.sync = false;
    let log = Log::start(
        "t".into(),
        Box::new(SqliteStore::open(&path).unwrap()),
        opts,
    )
    .unwrap();
    let mut kept = 0;
    for i in 0..2000 {
        kept += u64::from(log.submit(record(i, "2026-11-01T00:00:00.000Z")).is_some());
    }
    log.close().unwrap();
    assert_eq!(kept + log.dropped(), 2000);
    assert!(log.dropped() > 0, "a queue of one never filled");
    assert_eq!(whole(&mut SqliteSource::open(&path).unwrap()).0, kept);
}

#[test]
fn postgres_keeps_a_chain_through_a_purge() {
    let schema = aipolicy_test_support::postgres_schema("aipolicy_test_purge");
    let url = schema.url.clone();
    exercise(&|| Box::new(PostgresStore::open(&url).unwrap()), &|| {
        Box::new(PostgresSource::open(&url).unwrap())
    });
}

#[test]
fn several_postgres_writers_keep_one_chain() {
    let schema = aipolicy_test_support::postgres_schema("aipolicy_test_writers");
    let url = schema.url.clone();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut opts = options(Retention::Never, None);
                opts.sync = w % 2 == 0;
                let log = Log::start(
                    format!("writer {w}"),
                    Box::new(PostgresStore::open(&url).unwrap()),
                    opts,
                )
                .unwrap();
                for i in 0..250 {
                    log.submit(record(w * 1000 + i, "2026-11-01T00:00:00.000Z"))
                        .unwrap();
                }
                log.close().unwrap();
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(whole(&mut PostgresSource::open(&url).unwrap()), (1000, 0));
    // An edited row is named.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .execute(
            "UPDATE decisions SET ai = ai || '-edited' WHERE seq = 500",
            &[],
        )
        .unwrap();
    match audit::verify(&mut PostgresSource::open(&url).unwrap(), &mut |_, _| {}).unwrap() {
        Verification::Broken(broken) => assert_eq!(broken.position, 500),
        other => panic!("{other:?}"),
    }
}

/// Two linked records as `aipolicy` wrote them before records had `found` (commit b51cbc5),
/// with the hashes that code computed.
const BEFORE_FOUND: &str = include_str!("fixtures/before-found.jsonl");

fn before_found() -> Vec<DecisionRecord> {
    BEFORE_FOUND
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The tables as `aipolicy` made them before records had `found` (commit b51cbc5), and
/// [`BEFORE_FOUND`]'s records in them as it wrote them: SQL for either database.
fn old_layout_sql(seq_type: &str) -> String {
    let quote = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let json = |value: &dyn erased_json::Json| quote(&value.json());
    let mut sql = format!(
        r#"CREATE TABLE decisions (
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
    prev_hash TEXT NOT NULL
);
CREATE INDEX decisions_time ON decisions (time);
CREATE TABLE log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO log_meta (key, value) VALUES ('format', '1');
"#
    );
    for (seq, r) in before_found().iter().enumerate() {
        let values = [
            quote(&r.decision_id),
            quote(&r.time),
            quote(&r.policy_revision),
            r.request_id.as_deref().map_or("NULL".into(), quote),
            quote(&r.caller),
            quote(&r.user),
            json(&r.roles),
            r.unit.as_deref().map_or("NULL".into(), quote),
            quote(&r.ai),
            quote(&r.action),
            json(&r.data),
            json(&r.context),
            quote(&r.decision.to_string()),
            json(&r.reasons),
            json(&r.obligations),
            quote(&r.hash),
            quote(&r.prev_hash),
        ];
        sql.push_str(&format!(
            r#"INSERT INTO decisions (seq, decision_id, time, policy_revision, request_id, caller, "user", roles, unit, ai, action, data, context, decision, reasons, obligations, hash, prev_hash) VALUES ({}, {});
"#,
            seq + 1,
            values.join(", ")
        ));
    }
    sql
}

mod erased_json {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}

/// The `found` of each record of `source`, in log order.
fn founds(source: &mut dyn Source) -> Vec<Vec<String>> {
    let mut founds = Vec::new();
    source
        .scan(&TimeRange::default(), &mut |r| {
            founds.push(r.unwrap().found);
            true
        })
        .unwrap();
    founds
}

/// A log made before records had `found` (the tables made by `old_layout_sql`), read as it
/// is, then opened by a writer of this version (which adds the column), written, read and
/// verified; `has_found` tells whether the table has the column now.
fn an_old_layout_keeps_working(
    open_store: &dyn Fn() -> Box<dyn Store>,
    open_source: &dyn Fn() -> Box<dyn Source>,
    has_found: &dyn Fn() -> bool,
) {
    assert!(!has_found());
    // A reader does not change the log it reads: the old rows verify without the column.
    assert_eq!(whole(open_source().as_mut()), (2, 0));
    assert_eq!(
        founds(open_source().as_mut()),
        [vec![], vec![]] as [Vec<String>; 2]
    );
    assert!(!has_found());
    // A writer adds the column, and links its records after the old ones.
    let log = Log::start("t".into(), open_store(), options(Retention::Never, None)).unwrap();
    assert!(has_found());
    log.submit(record(5, "2026-11-26T00:00:00.000Z")).unwrap();
    log.submit(record(6, "2026-11-26T00:00:01.000Z")).unwrap();
    log.close().unwrap();
    assert_eq!(whole(open_source().as_mut()), (4, 0));
    assert_eq!(
        founds(open_source().as_mut()),
        [vec![], vec![], vec!["personnummer".to_string()], vec![]]
    );
    // Opened again, the column is there: nothing to add, and the chain goes on.
    let log = Log::start("t".into(), open_store(), options(Retention::Never, None)).unwrap();
    log.submit(record(10, "2026-11-26T00:00:02.000Z")).unwrap();
    log.close().unwrap();
    assert_eq!(whole(open_source().as_mut()), (5, 0));
    let export = {
        let mut out = Vec::new();
        audit::export(
            open_source().as_mut(),
            &audit::Selection::default(),
            audit::ExportFormat::Jsonl,
            &mut out,
            &mut |_, _| {},
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    };
    // The old records come out as they went in, byte for byte.
    assert!(export.starts_with(BEFORE_FOUND), "{export}");
}

#[test]
fn a_sqlite_log_made_before_found_existed_is_read_then_given_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&old_layout_sql("INTEGER"))
        .unwrap();
    let has_found = || {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT count(*) FROM pragma_table_info('decisions') WHERE name = 'found'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            == 1
    };
    an_old_layout_keeps_working(
        &|| Box::new(SqliteStore::open(&path).unwrap()),
        &|| Box::new(SqliteSource::open(&path).unwrap()),
        &has_found,
    );
    // The old rows got the column's default: the empty list, as the new rows without text.
    let stored: Vec<String> = rusqlite::Connection::open(&path)
        .unwrap()
        .prepare("SELECT found FROM decisions ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        stored,
        [
            "[]",
            "[]",
            r#"["personnummer"]"#,
            "[]",
            r#"["personnummer"]"#
        ]
    );
}

#[test]
fn a_postgres_log_made_before_found_existed_is_read_then_given_the_column() {
    let schema = aipolicy_test_support::postgres_schema("aipolicy_test_old_layout");
    let url = schema.url.clone();
    let client = || postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client().batch_execute(&old_layout_sql("BIGINT")).unwrap();
    let has_found = || {
        client()
            .query_one(
                "SELECT count(*) FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = 'decisions' AND column_name = 'found'",
                &[],
            )
            .unwrap()
            .get::<_, i64>(0)
            == 1
    };
    an_old_layout_keeps_working(
        &|| Box::new(PostgresStore::open(&url).unwrap()),
        &|| Box::new(PostgresSource::open(&url).unwrap()),
        &has_found,
    );
    let stored: Vec<String> = client()
        .query("SELECT found FROM decisions ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        stored,
        [
            "[]",
            "[]",
            r#"["personnummer"]"#,
            "[]",
            r#"["personnummer"]"#
        ]
    );
}

#[test]
fn a_jsonl_log_written_before_found_existed_verifies_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, BEFORE_FOUND).unwrap();
    assert_eq!(whole(&mut JsonlSource::open(&path).unwrap()), (2, 0));
    let log = Log::start(
        "t".into(),
        Box::new(JsonlStore::open(&path, 1 << 20).unwrap()),
        options(Retention::Never, None),
    )
    .unwrap();
    log.submit(record(5, "2026-11-26T00:00:00.000Z")).unwrap();
    log.submit(record(6, "2026-11-26T00:00:01.000Z")).unwrap();
    log.close().unwrap();
    assert_eq!(whole(&mut JsonlSource::open(&path).unwrap()), (4, 0));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(BEFORE_FOUND));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[2].contains(r#""found":["personnummer"]"#),
        "{}",
        lines[2]
    );
    // Written without text, a record has no `found` key at all: the shape of before.
    assert!(!lines[3].contains("found"), "{}", lines[3]);
}
