//! What `aipolicy batch` gives on the same queries (BENCHMARKS.md), two ways, with its own
//! library loop `aipolicy::batch::decide_lines` (every core, output in order, thrown away):
//! - one run on the file as it is, as a service that calls `aipolicy batch` for each batch
//!   would: the engine loaded (`Engine::bundled`), then the lines decided (the process's own
//!   start is not counted);
//! - the loop alone over the file repeated until it holds `LINES` lines, the engine loaded once
//!   (its memo answers every repeat).
//!
//! ```sh
//! cargo run --release --example batch_rate -- QUERIES.jsonl LINES
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark tool

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).unwrap();
    let lines: usize = args[2].parse().unwrap();
    let queries: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut input = String::new();
    for i in 0..lines {
        input.push_str(queries[i % queries.len()]);
        input.push('\n');
    }
    let mut once = f64::INFINITY;
    for _ in 0..20 {
        let started = Instant::now();
        let engine = aipolicy::Engine::bundled().unwrap();
        let summary =
            aipolicy::batch::decide_lines(&engine, &mut text.as_bytes(), &mut std::io::sink())
                .unwrap();
        assert_eq!(summary.decided, queries.len());
        once = once.min(started.elapsed().as_secs_f64());
    }
    println!(
        "aipolicy batch, one run on the {} queries (engine load included, best of 20): {:.1} ms, {:.0} decisions/s",
        queries.len(),
        once * 1000.0,
        queries.len() as f64 / once
    );
    let engine = aipolicy::Engine::bundled().unwrap();
    let mut best = 0.0f64;
    for _ in 0..5 {
        let started = Instant::now();
        let summary =
            aipolicy::batch::decide_lines(&engine, &mut input.as_bytes(), &mut std::io::sink())
                .unwrap();
        let rate = summary.decided as f64 / started.elapsed().as_secs_f64();
        best = best.max(rate);
    }
    println!("aipolicy batch loop: {lines} lines of {} distinct queries, best of 5: {best:.0} decisions/s", queries.len());
}
