//! A plain loop over the benchmarks' generated queries, for profilers: criterion's timings are
//! noisy on a shared machine, instruction counts are not.
//!
//! ```sh
//! cargo build --release --example profile
//! valgrind --tool=callgrind --toggle-collect='profile::measured' \
//!   target/release/examples/profile decide 4096    # then: raw, slice, prepare
//! ```
//!
//! `batch N` runs the batch's loop over N lines (count it with `--collect-atstart=yes`, less a
//! run of `batch 0`). Divide the instructions callgrind reports by the count. `ONLY=registered|inline|unknown`
//! keeps one kind of query (registered user and AI system, inline user, AI system not in the
//! register).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a measuring tool

#[path = "../benches/common/mod.rs"]
mod common;

use std::time::Instant;

use aipolicy::{Engine, Language, PreparedRequest, Query, UserRef};
use cedar_policy::Authorizer;
use common::{generated_engine, generated_queries, AIS, USERS};

/// The measured loop: `count` calls of `mode` over the queries, round and round.
#[inline(never)]
fn measured(
    mode: &str,
    count: usize,
    engine: &Engine,
    queries: &[Query],
    prepared: &[PreparedRequest<'_>],
) -> usize {
    let authorizer = Authorizer::new();
    let whole = engine.policies().set();
    let mut allows = 0;
    for i in 0..count {
        let (query, prepared) = (&queries[i % queries.len()], &prepared[i % prepared.len()]);
        let allowed = match mode {
            "raw" => {
                authorizer
                    .is_authorized(&prepared.request, whole, &prepared.entities)
                    .decision()
                    == cedar_policy::Decision::Allow
            }
            "slice" => {
                authorizer
                    .is_authorized(&prepared.request, prepared.policies, &prepared.entities)
                    .decision()
                    == cedar_policy::Decision::Allow
            }
            "prepare" => engine.prepare(query).is_ok(),
            "decide" => engine
                .decide_in(query, Language::Sv)
                .is_ok_and(|d| d.is_allowed()),
            other => panic!("unknown mode `{other}`: raw, slice, prepare or decide"),
        };
        allows += usize::from(allowed);
    }
    allows
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "decide".into());
    let count: usize = std::env::args()
        .nth(2)
        .map_or(100_000, |n| n.parse().expect("a count"));
    let engine = generated_engine(AIS, USERS);
    let mut queries = generated_queries(4096, AIS, USERS, 0);
    if let Ok(only) = std::env::var("ONLY") {
        queries.retain(|q| {
            let registered_ai = engine.register().ai_system(&q.ai).is_some();
            match only.as_str() {
                "registered" => matches!(q.user, UserRef::Registered(_)) && registered_ai,
                "inline" => matches!(q.user, UserRef::Inline(_)) && registered_ai,
                "unknown" => !registered_ai,
                other => panic!("ONLY={other}: registered, inline or unknown"),
            }
        });
    }
    if mode == "batch" {
        // The batch's library loop (both cores, through its memo) over `count` lines, the
        // queries round and round: run under callgrind with `--collect-atstart=yes` and
        // subtract a run of 0 lines (its workers are threads of their own, outside `measured`).
        let mut lines = String::new();
        for i in 0..count {
            lines.push_str(&serde_json::to_string(&queries[i % queries.len()]).unwrap());
            lines.push('\n');
        }
        let start = Instant::now();
        let summary =
            aipolicy::batch::decide_lines(&engine, &mut lines.as_bytes(), &mut std::io::sink())
                .unwrap();
        println!(
            "batch: {} lines in {:?}, {} input errors",
            summary.decided,
            start.elapsed(),
            summary.input_errors
        );
        return;
    }
    let prepared: Vec<_> = queries.iter().map(|q| engine.prepare(q).unwrap()).collect();
    let start = Instant::now();
    let allows = measured(&mode, count, &engine, &queries, &prepared);
    let elapsed = start.elapsed();
    println!(
        "{mode}: {count} calls, {:?} per call, {allows} allowed",
        elapsed / count as u32
    );
}
