//! Memory per 10,000 users (issue 6): the bytes an engine keeps alive for the generated register
//! of 1,000 AI systems, 10 data classes and 10,000 users, minus those it keeps for the same
//! register without users. Counted by an instrumented allocator (exact, unlike the resident
//! set, which also holds what the allocator keeps after frees). A benchmark of its own, so that
//! the counting does not slow the timed benchmarks.
//!
//! Run: `cargo bench --bench memory`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // a benchmark may stop loudly

use std::alloc::System;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

mod common;
use common::{generated_engine, generated_register, AIS, USERS};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes still allocated when `build` returns, with its value alive; and the value.
fn live_bytes<T>(build: impl FnOnce() -> T) -> (isize, T) {
    let region = Region::new(GLOBAL);
    let value = build();
    let change = region.change();
    let live = change.bytes_allocated as isize - change.bytes_deallocated as isize
        + change.bytes_reallocated;
    (live, value)
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that names another benchmark skips this one.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"memory".contains(a.as_str()))
    {
        return;
    }
    let (with_users, engine) = live_bytes(|| generated_engine(AIS, USERS));
    drop(engine);
    let (without_users, engine) = live_bytes(|| generated_engine(AIS, 0));
    drop(engine);
    let (register_only, register) = live_bytes(|| generated_register(AIS, USERS));
    drop(register);
    let per_users = with_users - without_users;
    println!();
    println!("aipolicy memory ({AIS} AI systems, 10 data classes; one run)");
    println!(
        "  engine with {USERS} users {:>8.1} MiB, without users {:>8.1} MiB",
        mib(with_users),
        mib(without_users)
    );
    println!(
        "  memory per {USERS} users   {:>8.1} MiB  target < 50 MiB  {}",
        mib(per_users),
        if mib(per_users) < 50.0 {
            "met"
        } else {
            "NOT MET"
        }
    );
    println!(
        "  (the register alone, users included: {:.1} MiB)",
        mib(register_only)
    );
}
