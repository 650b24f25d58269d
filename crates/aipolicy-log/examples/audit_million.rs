//! How long `aipolicy audit summary` and `verify` take over a large log: writes N records
//! (default 1,000,000) of a realistic mix into a fresh log, then times the summary, the chain's
//! check and the report's pass.
//!
//! `cargo run --release -p aipolicy-log --example audit_million -- [N] [sqlite|jsonl] [REPORT.html]`

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement, not a product

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use aipolicy::log::{Cited, DecisionRecord};
use aipolicy::Verdict;
use aipolicy_log::{audit, jsonl, report, sqlite, Source, Store};

fn record(i: usize) -> DecisionRecord {
    const AI: [&str; 6] = [
        "copilot-chat",
        "chatgpt",
        "lokal-sprakmodell",
        "tolk-ai",
        "diktera",
        "bildgen",
    ];
    const UNITS: [&str; 5] = [
        "Socialförvaltningen",
        "Kommunstyrelseförvaltningen",
        "Barn- och utbildningsförvaltningen",
        "Samhällsbyggnadsförvaltningen",
        "Kultur- och fritidsförvaltningen",
    ];
    const PARAGRAPHS: [(&str, &str); 4] = [
        ("U3", "u3-public-ai-open-only"),
        ("§3", "s3-data-level-within-approval"),
        ("U0", "u0-decided-ai-beyond-open"),
        ("§6", "s6-human-review-of-decisions"),
    ];
    let deny = i.is_multiple_of(4);
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000 + (i as u64) * 13);
    DecisionRecord {
        decision_id: format!("01900000-0000-7000-8000-{i:012}"),
        time: aipolicy::log::rfc3339(time),
        policy_revision: if i < 600_000 {
            "58e05ea578d4a590"
        } else {
            "7a1c2f09b3d4e511"
        }
        .into(),
        request_id: Some(format!("r-{i}")),
        caller: "intranet".into(),
        user: format!("user{}", i % 5000),
        roles: vec!["employee".into()],
        unit: Some(UNITS[i % UNITS.len()].into()),
        ai: AI[i % AI.len()].into(),
        action: if i.is_multiple_of(10) {
            "decide"
        } else {
            "use"
        }
        .into(),
        data: vec!["intern".into()],
        found: vec![],
        context: BTreeMap::new(),
        decision: if deny { Verdict::Deny } else { Verdict::Allow },
        reasons: if deny {
            let (paragraph, policy) = PARAGRAPHS[i / 4 % PARAGRAPHS.len()];
            vec![Cited {
                policy: policy.into(),
                paragraph: paragraph.into(),
            }]
        } else {
            vec![]
        },
        obligations: if deny {
            vec![]
        } else {
            vec![
                Cited {
                    policy: "u1-duty-responsible-for-result".into(),
                    paragraph: "U1".into(),
                },
                Cited {
                    policy: "u2-permit-use".into(),
                    paragraph: "U2".into(),
                },
            ]
        },
        hash: String::new(),
        prev_hash: String::new(),
    }
}

/// A fresh store, and how to open a reader of it.
type Opened = (Box<dyn Store>, Box<dyn Fn() -> Box<dyn Source>>);

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("N: a number"));
    let kind = args.next().unwrap_or_else(|| "sqlite".into());
    let dir = tempfile::tempdir().unwrap();
    let (mut store, open): Opened = match kind.as_str() {
        "jsonl" => {
            let path = dir.path().join("audit.jsonl");
            let store = jsonl::JsonlStore::open(&path, 1 << 30).unwrap();
            (
                Box::new(store),
                Box::new(move || Box::new(jsonl::JsonlSource::open(&path).unwrap())),
            )
        }
        _ => {
            let path = dir.path().join("audit.db");
            let store = sqlite::SqliteStore::open(&path).unwrap();
            (
                Box::new(store),
                Box::new(move || Box::new(sqlite::SqliteSource::open(&path).unwrap())),
            )
        }
    };
    let started = Instant::now();
    let mut batch = Vec::with_capacity(4096);
    for i in 0..n {
        batch.push(record(i));
        if batch.len() == 4096 || i + 1 == n {
            store.append(&mut batch, false).unwrap();
            batch.clear();
        }
    }
    drop(store);
    println!(
        "{kind}: wrote {n} records in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let summary = audit::summary(
        open().as_mut(),
        &audit::Selection::default(),
        &mut |_, _| {},
    )
    .unwrap();
    println!(
        "audit summary: {:.2} s ({} records, {} denies)",
        started.elapsed().as_secs_f64(),
        summary.total,
        summary.deny
    );
    assert_eq!(summary.total, n as u64);

    let started = Instant::now();
    let verified = audit::verify(open().as_mut(), &mut |_, _| {}).unwrap();
    println!(
        "audit verify:  {:.2} s ({})",
        started.elapsed().as_secs_f64(),
        matches!(verified, audit::Verification::Whole { .. })
    );

    let started = Instant::now();
    let report = report::collect(
        "bench",
        open().as_mut(),
        &audit::Selection::default(),
        &mut |_, _| {},
    )
    .unwrap();
    let page = report::html(&report, aipolicy::Language::Sv);
    println!(
        "audit report:  {:.2} s ({} bytes of HTML)",
        started.elapsed().as_secs_f64(),
        page.len()
    );
}
