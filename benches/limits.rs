//! The worst input within the limits (issue 12): how long it takes and how much memory it
//! needs, to load the costliest register the limits accept, to refuse YAML nested at the size
//! limit, and to load or refuse policy text at its limits. Each case runs in a process of its
//! own (this benchmark started again with `AIPOLICY_LIMITS_CASE` set), so that its peak
//! resident memory (`VmHWM`) is its own. The README's limits table states these figures.
//!
//! Run: `cargo bench --bench limits`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // a benchmark may stop loudly

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use aipolicy::policies::{MAX_POLICY_BYTES, MAX_POLICY_NESTING};
use aipolicy::register::{MAX_REGISTER_BYTES, MAX_REGISTER_VALUES};
use aipolicy::{Engine, Policies, PolicyFile, Register};

/// The most users and AI systems the register schema allows.
const USERS: usize = 100_000;
const AIS: usize = 10_000;

/// The costliest register the limits accept: the most users and AI systems, with ids and names
/// as long as the size limit leaves room for.
fn largest_register() -> String {
    let mut text = String::from("dataClasses:\n");
    for i in 0..1_000 {
        writeln!(
            text,
            "  - {{id: class-{i}, name: Klass {i}, level: {}, personalData: none, secrecy: false}}",
            i % 5
        )
        .unwrap();
    }
    text.push_str("aiSystems:\n");
    for i in 0..AIS {
        writeln!(
            text,
            "  - {{id: ai-{i:0>60}, name: AI-system {i:0>100}, hosting: internal, approved: true, status: active, owner: Ägare {i}, verified: true, maxDataLevel: 3, personalData: ordinary, secrecy: true, userGroups: [employee, contractor, elected], decisionSupport: true, fairnessAssessed: true, residentFacing: true, transparencyNotice: true, accessibilityReviewed: true}}"
        )
        .unwrap();
    }
    text.push_str("users:\n");
    let room = (MAX_REGISTER_BYTES - text.len()) / USERS;
    for i in 0..USERS {
        let line = format!("  - {{id: u{i}, roles: [employee, contractor, elected], unit: ");
        let unit = room.saturating_sub(line.len() + 2).min(300);
        writeln!(text, "{line}{}}}", "x".repeat(unit)).unwrap();
    }
    assert!(text.len() <= MAX_REGISTER_BYTES, "{} bytes", text.len());
    text
}

/// YAML values just under the value limit, in as few bytes as possible: `[],` each.
fn densest_register() -> String {
    format!(
        "municipality: [{}]\ndataClasses: []\naiSystems: []\n",
        "[],".repeat(MAX_REGISTER_VALUES - 10)
    )
}

/// Strings just under the value limit, as long as the size limit leaves room for.
fn longest_values_register() -> String {
    let n = MAX_REGISTER_VALUES - 10;
    let each = MAX_REGISTER_BYTES / n - 2;
    format!(
        "municipality: [{}]\ndataClasses: []\naiSystems: []\n",
        vec!["x".repeat(each); n].join(", ")
    )
}

/// Aliases that expand to just under the value limit from the smallest file the per-byte
/// limit allows (an anchor of 62,000 values, used 31 times).
fn alias_register() -> String {
    let (values, uses) = (62_000, 31);
    let text = format!(
        "a: &a [{}]\nmunicipality: [{}]\n",
        vec!["x"; values].join(","),
        vec!["*a"; uses].join(",")
    );
    let needed = values * (uses + 1) / aipolicy::register::MAX_REGISTER_VALUES_PER_BYTE + 100;
    format!("{text}#{}\n", " ".repeat(needed.saturating_sub(text.len())))
}

/// 1 MiB of policies, in one file.
fn largest_policies() -> Vec<PolicyFile> {
    let mut files: Vec<PolicyFile> = aipolicy::policies::BUNDLED_POLICY_FILES
        .iter()
        .map(|(name, text)| PolicyFile {
            name: (*name).to_string(),
            text: (*text).into(),
        })
        .collect();
    let mut text = String::new();
    let room = MAX_POLICY_BYTES - files.iter().map(|f| f.text.len()).sum::<usize>();
    for i in 0.. {
        let policy = format!(
            "@id(\"extra-{i}\")\n@paragraph(\"U3\")\n@sv(\"x\")\n@en(\"x\")\nforbid (principal, action in Action::\"anyUse\", resource)\nwhen {{ resource.hosting == \"public\" && context.data.level > {} }};\n",
            i % 4
        );
        if text.len() + policy.len() > room {
            break;
        }
        text.push_str(&policy);
    }
    files.push(PolicyFile {
        name: "many.cedar".into(),
        text: text.into(),
    });
    files
}

/// Runs one case; what it did, for the table.
fn run_case(case: &str) -> String {
    let refused = |text: &str| match Register::from_yaml(text, "bench.yaml") {
        Ok(_) => panic!("{case}: accepted"),
        Err(e) => {
            let message = format!("{e:?}");
            let why = [
                "levels deep",
                "YAML values",
                "expected string",
                "not allowed",
            ]
            .into_iter()
            .find(|why| message.contains(why))
            .unwrap_or("other");
            format!("refused: {why}")
        }
    };
    match case {
        "largest register: load, build the engine, decide" => {
            let text = largest_register();
            let started = Instant::now();
            let register = Register::from_yaml(&text, "bench.yaml").unwrap();
            let engine = Engine::new(
                Policies::bundled().unwrap(),
                aipolicy::policies::bundled_schema().unwrap(),
                register,
            )
            .unwrap();
            let query =
                aipolicy::Query::new(aipolicy::UserRef::registered("u1"), "ai-1", ["class-1"]);
            engine.decide(&query).unwrap();
            format!("{} bytes, {} s", text.len(), secs(started))
        }
        "densest register (values just under the limit)" => {
            let text = densest_register();
            let started = Instant::now();
            let why = refused(&text);
            format!("{} bytes, {} s, {why}", text.len(), secs(started))
        }
        "longest strings, just under the value limit" => {
            let text = longest_values_register();
            let started = Instant::now();
            let why = refused(&text);
            format!("{} bytes, {} s, {why}", text.len(), secs(started))
        }
        "alias expanding to just under the value limit" => {
            let text = alias_register();
            let started = Instant::now();
            let why = refused(&text);
            format!("{} bytes, {} s, {why}", text.len(), secs(started))
        }
        "register nested [[[[… to the size limit: refused" => {
            let text = format!("municipality: {}\n", "[".repeat(MAX_REGISTER_BYTES - 20));
            let started = Instant::now();
            let why = refused(&text);
            format!("{} bytes, {} s, {why}", text.len(), secs(started))
        }
        "register `key: - - - …` to the size limit: refused" => {
            let text = format!(
                "municipality: {}x\n",
                "- ".repeat((MAX_REGISTER_BYTES - 20) / 2)
            );
            let started = Instant::now();
            let why = refused(&text);
            format!("{} bytes, {} s, {why}", text.len(), secs(started))
        }
        "1 MiB of policies in one file: load and validate" => {
            let files = largest_policies();
            let started = Instant::now();
            let policies = Policies::from_files(files).unwrap();
            let n = policies.rules().len();
            Engine::new(
                policies,
                aipolicy::policies::bundled_schema().unwrap(),
                Register::bundled().unwrap(),
            )
            .unwrap();
            format!("{n} policies, {} s", secs(started))
        }
        "policy nested (((… to the size limit: refused" => {
            let body = "(".repeat(MAX_POLICY_BYTES - 200);
            let text =
                format!("@id(\"deep\")\npermit (principal, action, resource) when {{ {body}");
            let started = Instant::now();
            let Err(e) = Policies::from_files(vec![PolicyFile {
                name: "deep.cedar".into(),
                text: text.into(),
            }]) else {
                panic!("{case}: accepted")
            };
            assert!(format!("{e:?}").contains(&format!("deeper than {MAX_POLICY_NESTING}")));
            format!("{} s", secs(started))
        }
        other => panic!("unknown case `{other}`"),
    }
}

const CASES: [&str; 8] = [
    "largest register: load, build the engine, decide",
    "densest register (values just under the limit)",
    "longest strings, just under the value limit",
    "alias expanding to just under the value limit",
    "register nested [[[[… to the size limit: refused",
    "register `key: - - - …` to the size limit: refused",
    "1 MiB of policies in one file: load and validate",
    "policy nested (((… to the size limit: refused",
];

fn secs(started: Instant) -> String {
    format!("{:.2}", started.elapsed().as_secs_f64())
}

/// The peak resident memory of this process, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    if let Ok(case) = std::env::var("AIPOLICY_LIMITS_CASE") {
        let what = run_case(&case);
        println!("{what}; peak {:.0} MiB", peak_mib());
        return;
    }
    // `cargo bench` passes `--bench`; a filter that names another benchmark skips this one.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"limits".contains(a.as_str()))
    {
        return;
    }
    let me = std::env::current_exe().unwrap();
    println!();
    println!("aipolicy at its limits (one run; each case in a process of its own)");
    for case in CASES {
        let output = Command::new(&me)
            .env("AIPOLICY_LIMITS_CASE", case)
            .output()
            .unwrap();
        let result = String::from_utf8_lossy(&output.stdout);
        let result = if output.status.success() {
            result.trim().to_string()
        } else {
            format!("FAILED: {}", String::from_utf8_lossy(&output.stderr).trim())
        };
        println!("  {case:<52} {result}");
    }
}
