//! Benchmarks of issue 6: `Engine::decide` against raw Cedar on the same prepared request,
//! batch throughput (distinct queries, and an audit of a register), start-up, and memory per
//! 10,000 users.
//!
//! Run: `cargo bench --bench engine`. Criterion measures each function; the summary at the
//! end prints the ratios and rates measured in this one run, beside their targets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // a benchmark may stop loudly

use std::io::Cursor;
use std::time::{Duration, Instant};

use aipolicy::{Engine, Language, Policies, PreparedRequest, Query};
use cedar_policy::Authorizer;
use criterion::{criterion_group, criterion_main, Criterion};

mod common;
use common::{generated_engine, generated_queries, AIS, USERS};

/// What the engine gives Cedar for each query, prepared once outside the measured loops.
fn prepare_all<'e>(engine: &'e Engine, queries: &[Query]) -> Vec<PreparedRequest<'e>> {
    queries
        .iter()
        .map(|q| engine.prepare(q).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn bench_decide(c: &mut Criterion) {
    let engine = generated_engine(AIS, USERS);
    let queries = generated_queries(1024, AIS, USERS, 0);
    let prepared = prepare_all(&engine, &queries);
    let authorizer = Authorizer::new();
    let mut group = c.benchmark_group("decide");
    group.bench_function("engine (query → explained decision)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % queries.len();
            engine.decide_in(&queries[i], Language::Sv)
        })
    });
    for (name, whole_set) in [("whole policy set", true), ("the engine's slice", false)] {
        group.bench_function(
            format!("raw cedar is_authorized (prepared request, {name})"),
            |b| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % prepared.len();
                    let p = &prepared[i];
                    let policies = if whole_set {
                        engine.policies().set()
                    } else {
                        p.policies
                    };
                    authorizer.is_authorized(&p.request, policies, &p.entities)
                })
            },
        );
    }
    group.finish();
}

fn bench_startup(c: &mut Criterion) {
    c.bench_function("start-up: Engine::bundled (load, validate, index)", |b| {
        b.iter(|| Engine::bundled().unwrap_or_else(|e| panic!("{e}")))
    });
}

/// Time per call of `f` over all `items`, best of several rounds (less noise from neighbours).
fn per_call<T>(items: &[T], rounds: usize, mut f: impl FnMut(&T)) -> Duration {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for item in items {
                f(item);
            }
            start.elapsed() / items.len() as u32
        })
        .min()
        .unwrap_or_default()
}

/// `n` lines of queries generated independently (no line repeats another on purpose): what
/// the batch does when nearly every line needs Cedar.
fn distinct_input(n: usize) -> Vec<u8> {
    let mut input = Vec::with_capacity(n * 160);
    let mut seed = 0;
    while input.len() < n * 16 || input.iter().filter(|&&b| b == b'\n').count() < n {
        seed += 1;
        let done = input.iter().filter(|&&b| b == b'\n').count();
        for query in generated_queries((n - done).min(4096), AIS, USERS, seed) {
            serde_json::to_writer(&mut input, &query).unwrap_or_else(|e| panic!("{e}"));
            input.push(b'\n');
        }
    }
    input
}

/// `n` lines of an audit that re-decides the register: for 1,000 users in turn, whether they
/// may use each of 100 AI systems with each of the 10 data classes.
fn audit_input(n: usize) -> Vec<u8> {
    let mut input = Vec::with_capacity(n * 64);
    let lines = (0..USERS)
        .flat_map(|user| (0..100).flat_map(move |ai| (0..10).map(move |class| (user, ai, class))));
    for (user, ai, class) in lines.take(n) {
        let line = format!(r#"{{"user":"user-{user}","ai":"ai-{ai}","data":"klass-{class}"}}"#);
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    input
}

/// Decisions per second of `aipolicy batch`'s library loop on `input`.
fn batch_rate(engine: &Engine, input: &[u8]) -> f64 {
    let start = Instant::now();
    let summary =
        aipolicy::batch::decide_lines(engine, &mut Cursor::new(input), &mut std::io::sink())
            .unwrap_or_else(|e| panic!("{e}"));
    summary.decided as f64 / start.elapsed().as_secs_f64()
}

/// The figures of issue 6, measured in this one run, beside their targets.
fn summary(_: &mut Criterion) {
    let engine = generated_engine(AIS, USERS);
    let queries = generated_queries(4096, AIS, USERS, 0);
    let prepared = prepare_all(&engine, &queries);
    let authorizer = Authorizer::new();
    let policies = engine.policies().set();
    // Interleaved rounds, best of each: neighbours on a shared machine slow all three alike.
    let (mut raw_whole, mut raw_slice, mut decide) = (Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..15 {
        raw_whole = raw_whole.min(per_call(&prepared, 1, |p| {
            std::hint::black_box(authorizer.is_authorized(&p.request, policies, &p.entities));
        }));
        raw_slice = raw_slice.min(per_call(&prepared, 1, |p| {
            std::hint::black_box(authorizer.is_authorized(&p.request, p.policies, &p.entities));
        }));
        decide = decide.min(per_call(&queries, 1, |q| {
            std::hint::black_box(engine.decide_in(q, Language::Sv).ok());
        }));
    }
    let ratio_slice = decide.as_secs_f64() / raw_slice.as_secs_f64();
    let ratio_whole = decide.as_secs_f64() / raw_whole.as_secs_f64();

    let lines = 1_000_000;
    let distinct_rate = batch_rate(&engine, &distinct_input(lines));
    let audit_rate = batch_rate(&engine, &audit_input(lines));

    let startup = (0..20)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(Engine::bundled().unwrap_or_else(|e| panic!("{e}")));
            start.elapsed()
        })
        .min()
        .unwrap_or_default();

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!();
    println!("aipolicy figures ({AIS} AI systems, 10 data classes, {USERS} users; {cores} cores; one run)");
    println!("  decide (query → explained decision)              {decide:>9.2?}");
    println!("  raw Cedar is_authorized, same request, the engine's slice {raw_slice:>9.2?}");
    println!("  raw Cedar is_authorized, same request, whole policy set   {raw_whole:>9.2?}");
    println!(
        "  decide / raw Cedar (slice)          {ratio_slice:>9.2}×  target ≤ 1.25×  {}",
        verdict(ratio_slice <= 1.25)
    );
    println!(
        "  decide / raw Cedar (whole set)      {ratio_whole:>9.2}×  target ≤ 1.25×  {}",
        verdict(ratio_whole <= 1.25)
    );
    println!(
        "  batch, audit of the register ({lines} lines)  {audit_rate:>9.0}/s  target ≥ 200000/s  {}",
        verdict(audit_rate >= 200_000.0)
    );
    println!(
        "  batch, distinct queries ({lines} lines)       {distinct_rate:>9.0}/s  (each line asks Cedar)"
    );
    println!(
        "  start-up, bundled policy            {:>9.2?}   target < 50 ms  {}",
        startup,
        verdict(startup < Duration::from_millis(50))
    );
    println!("  memory per {USERS} users: `cargo bench --bench memory`");
    let _ = Policies::bundled();
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT MET"
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench_decide, bench_startup, summary
}
criterion_main!(benches);
