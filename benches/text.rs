//! Benchmarks of `aipolicy::text::find` (issue 24): every finder over generated Swedish text
//! (`benches/text/corpus.rs`): chat-sized prompts (100 B–2 KB, mean about 350 B), 16 KB
//! documents, and a text packed with near-miss numbers, the digit finders' worst case (its time
//! per byte should be of the order of the others': the finders are linear).
//!
//! Run: `cargo bench -p aipolicy --bench text`. Criterion reports bytes and texts per second;
//! for figures side by side with Presidio's on one core, see `examples/text_rate.rs` and
//! BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // a benchmark may stop loudly

use std::hint::black_box;

use aipolicy::text::find;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "text/corpus.rs"]
mod corpus;

/// Finds in every text once; what is found, counted, so that nothing is optimised away.
fn all(texts: &[String]) -> usize {
    texts
        .iter()
        .map(|t| black_box(find(black_box(t))).len())
        .sum()
}

fn bench_find(c: &mut Criterion) {
    let prompts: Vec<String> = corpus::prompts(2_000).into_iter().map(|t| t.text).collect();
    let documents: Vec<String> = corpus::documents(32).into_iter().map(|t| t.text).collect();
    let near_misses = vec![corpus::near_misses(corpus::DOCUMENT)];
    let mut group = c.benchmark_group("text::find");
    for (name, texts) in [
        ("prompts", &prompts),
        ("documents 16 KB", &documents),
        ("near-miss numbers 16 KB", &near_misses),
    ] {
        let bytes: usize = texts.iter().map(String::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(format!("{name} (bytes)"), |b| b.iter(|| all(texts)));
        group.throughput(Throughput::Elements(texts.len() as u64));
        group.bench_function(format!("{name} (texts)"), |b| b.iter(|| all(texts)));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench_find
}
criterion_main!(benches);
