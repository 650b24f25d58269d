//! Each store, for real: SQLite and JSON Lines files in a temporary folder, PostgreSQL on the
//! server `AIPOLICY_TEST_POSTGRES` names (`.ci/run` starts one). Records go in through the
//! queue as a front end hands them over; the chain is checked, purged and checked again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::BTreeMap;

use aipolicy::log::{Cited, DecisionRecord, DecisionSink, Pseudonymizer};
use aipolicy::Verdict;
use aipolicy_log::audit::{self, Verification};
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
        data: vec!["intern".into()],
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
        &TimeRange::default(),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!((summary.total, summary.deny), (100, 34));
    assert_eq!(summary.by_paragraph.get("U3"), Some(&34));
    assert_eq!(summary.by_ai_system.get("chatgpt"), Some(&34));

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
