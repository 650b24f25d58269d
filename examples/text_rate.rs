//! Texts per second and MB per second of `aipolicy::text::find` on one core, on the generated
//! Swedish corpora of `benches/text/corpus.rs`, in the same terms as Presidio's figures
//! (`benches/presidio/bench.py`); and the corpora written to files, so that Presidio and
//! `aipolicy batch` read the same bytes.
//!
//! ```sh
//! cargo build --release --example text_rate
//! X=target/release/examples/text_rate
//! $X write /tmp/corpus        # prompts.jsonl, documents.jsonl (a JSON string a line), their
//!                             # *.truth.jsonl, and *.queries.jsonl for `aipolicy batch`
//!                             # (each corpus five times over)
//! taskset -c 0 $X rate prompts 5      # 5 seconds of rounds over the prompts; documents likewise
//! $X check                    # what is found against what was written into the corpora
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a measuring tool

#[path = "../benches/text/corpus.rs"]
mod corpus;

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use aipolicy::text::{find, Kind};
use corpus::Text;

/// Prompts in the corpus.
const PROMPTS: usize = 20_000;
/// Documents in the corpus.
const DOCUMENTS: usize = 256;

/// How many times the batch's input holds the corpus.
const QUERY_ROUNDS: usize = 5;

fn corpus(name: &str) -> Vec<Text> {
    match name {
        "prompts" => corpus::prompts(PROMPTS),
        "documents" => corpus::documents(DOCUMENTS),
        other => panic!("no corpus {other}: prompts or documents"),
    }
}

/// The measured loop: every text found in once.
#[inline(never)]
fn round(texts: &[&str]) -> usize {
    texts
        .iter()
        .map(|t| black_box(find(black_box(t))).len())
        .sum()
}

fn rate(name: &str, seconds: f64) {
    let texts = corpus(name);
    let texts: Vec<&str> = texts.iter().map(|t| t.text.as_str()).collect();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    round(&texts); // warm up: compile the patterns, fill the caches
    let mut rounds = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs_f64(seconds) || rounds.len() < 3 {
        let t = Instant::now();
        black_box(round(&texts));
        rounds.push(t.elapsed().as_secs_f64());
    }
    rounds.sort_by(f64::total_cmp);
    let median = rounds[rounds.len() / 2];
    println!(
        "aipolicy text::find {name}: {} texts, {bytes} B (mean {:.0} B); median of {} rounds: {:.0} texts/s, {:.1} MB/s ({:.2} µs a text)",
        texts.len(),
        bytes as f64 / texts.len() as f64,
        rounds.len(),
        texts.len() as f64 / median,
        bytes as f64 / median / 1e6,
        median / texts.len() as f64 * 1e6,
    );
}

fn write(dir: &str) {
    std::fs::create_dir_all(dir).unwrap();
    for name in ["prompts", "documents"] {
        let texts = corpus(name);
        let mut lines =
            std::io::BufWriter::new(std::fs::File::create(format!("{dir}/{name}.jsonl")).unwrap());
        let mut truth = std::io::BufWriter::new(
            std::fs::File::create(format!("{dir}/{name}.truth.jsonl")).unwrap(),
        );
        let mut queries = std::io::BufWriter::new(
            std::fs::File::create(format!("{dir}/{name}.queries.jsonl")).unwrap(),
        );
        for t in &texts {
            writeln!(lines, "{}", serde_json::to_string(&t.text).unwrap()).unwrap();
            let held = serde_json::json!({"identities": t.identities, "ambiguous": t.ambiguous});
            writeln!(truth, "{held}").unwrap();
        }
        // The batch's input: the corpus QUERY_ROUNDS times over, so that the command's start-up
        // (loading and validating the policies) is a small part of its time.
        for _ in 0..QUERY_ROUNDS {
            for t in &texts {
                let query = serde_json::json!({"user": "anna", "ai": "copilot-chat", "data": "intern", "text": t.text});
                writeln!(queries, "{query}").unwrap();
            }
        }
        let bytes: usize = texts.iter().map(|t| t.text.len()).sum();
        println!("{dir}/{name}.jsonl: {} texts, {bytes} B", texts.len());
    }
}

/// What `find` takes for an identity number, against what was written in.
fn check() {
    for name in ["prompts", "documents"] {
        let texts = corpus(name);
        let (mut written, mut found, mut ambiguous, mut ambiguous_taken, mut other) =
            (0, 0, 0, 0, 0);
        let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
        for t in &texts {
            written += t.identities.len();
            ambiguous += t.ambiguous.len();
            let mut left = t.identities.clone();
            let mut left_ambiguous = t.ambiguous.clone();
            for f in find(&t.text) {
                *kinds.entry(f.kind.name()).or_default() += 1;
                if !matches!(f.kind, Kind::Identity(_)) {
                    continue;
                }
                let taken = &t.text[f.span.clone()];
                if let Some(i) = left.iter().position(|n| n == taken) {
                    left.swap_remove(i);
                    found += 1;
                } else if let Some(i) = left_ambiguous.iter().position(|n| n == taken) {
                    left_ambiguous.swap_remove(i);
                    ambiguous_taken += 1;
                } else {
                    other += 1;
                    println!("  taken, not written as one: {taken:?}");
                }
            }
        }
        println!(
            "{name}: {written} identity numbers written, {found} found; {other} other numbers taken for one; \
             {ambiguous_taken} of {ambiguous} bare ten-digit phone numbers that are also valid personnummer taken for one"
        );
        println!("  found, by kind: {kinds:?}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["write", dir] => write(dir),
        ["rate", name] => rate(name, 5.0),
        ["rate", name, seconds] => rate(name, seconds.parse().unwrap()),
        ["check"] => check(),
        _ => eprintln!("usage: text_rate write DIR | rate prompts|documents [SECONDS] | check"),
    }
}
