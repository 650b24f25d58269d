//! Benchmark of issue 26: the matrix part of `aipolicy diff` on the Askersund project — every
//! cell of both revisions' matrices decided by each engine, compared and grouped — for a
//! register change (copilot-chat's user groups widened to contractors) and for no change.
//! The target: within 1 s. The proofs are cvc5's and are measured with the command line (see
//! BENCHMARKS.md).
//!
//! Run: `cargo bench --bench diff`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // a benchmark may stop loudly

use std::time::{Duration, Instant};

use aipolicy::diff::Diff;
use aipolicy::register::BUNDLED_REGISTER;
use aipolicy::{Clock, Engine, Language, Register};
use criterion::{criterion_group, criterion_main, Criterion};

/// The engines of the Askersund project, the new one with copilot-chat open to contractors.
fn engines() -> (Engine, Engine) {
    let day = aipolicy::clock::parse_date("2026-12-07").unwrap();
    let old = Engine::bundled().unwrap().with_clock(Clock::fixed(day));
    let text = BUNDLED_REGISTER.replacen(
        "    userGroups: [employee, elected]\n    aiActRisk: limited",
        "    userGroups: [employee, contractor, elected]\n    aiActRisk: limited",
        1,
    );
    assert_ne!(text, BUNDLED_REGISTER);
    let register = Register::from_yaml(&text, "register.yaml").unwrap();
    let new = Engine::builder()
        .register(register)
        .clock(Clock::fixed(day))
        .build()
        .unwrap();
    (old, new)
}

fn bench_diff(c: &mut Criterion) {
    let (old, new) = engines();
    let mut group = c.benchmark_group("diff");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("matrix part, Askersund, a user group widened", |b| {
        b.iter(|| Diff::compute(&old, &new, Language::En).unwrap())
    });
    group.bench_function("matrix part, Askersund, no change", |b| {
        b.iter(|| Diff::compute(&old, &old, Language::En).unwrap())
    });
    group.finish();
    // The summary: one run each, beside the target.
    let started = Instant::now();
    let diff = Diff::compute(&old, &new, Language::En).unwrap();
    let took = started.elapsed();
    println!(
        "diff, matrix part: {} cells per side, {} changed, in {:.0} ms (target: within 1 s)",
        diff.space.cells,
        diff.newly_allowed + diff.newly_denied + diff.other_reasons,
        took.as_secs_f64() * 1000.0
    );
}

criterion_group!(benches, bench_diff);
criterion_main!(benches);
