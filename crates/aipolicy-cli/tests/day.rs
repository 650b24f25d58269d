//! The day of a decision and the law's second reading, as a user runs the binary: the issue's
//! reproducers are denies naming their article, `--at` re-decides a past or planned question,
//! `AIPOLICY_TODAY` fixes today, a logged decision is made today, `validate` warns before an
//! assessment lapses, and `aipolicy schema register` describes every new key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> Output {
    common::output(common::aipolicy(args).current_dir(dir), "")
}

fn text(bytes: &[u8]) -> String {
    common::text(bytes)
}

/// The register of the issue's first reproducer, and a system of the second.
const REGISTER: &str = "
dataClasses: [{id: pu, level: 2, personalData: ordinary, secrecy: false}]
aiSystems:
  - {id: hr, hosting: internal, approved: true, owner: Socialchef, verified: true, maxDataLevel: 2,
     personalData: ordinary, decisionSupport: true, fairnessAssessed: true, aiActRisk: high, dpia: true, fria: false}
  - {id: utland, hosting: internal, approved: true, owner: IT-chef, verified: true, maxDataLevel: 2,
     personalData: ordinary, aiActRisk: minimal, thirdCountryTransfer: unprotected}
users: [{id: olle, roles: [employee], unit: Soc}]
";

/// `validate --format json`'s findings: check, line and message.
fn findings(dir: &Path, args: &[&str]) -> Vec<(String, u64, String)> {
    let output = run(dir, args);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_issues_reproducers_are_denies_naming_their_article() {
    let dir = common::workdir("day", "reproducers");
    std::fs::write(dir.join("r.yaml"), REGISTER).unwrap();
    let output = run(
        &dir,
        &[
            "check",
            "--register",
            "r.yaml",
            "--user",
            "olle",
            "--ai",
            "hr",
            "--data",
            "pu",
            "--lang",
            "en",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(out.starts_with("DENIED (deny)"), "{out}");
    for article in [
        "EU AI Act art. 27",
        "EU AI Act art. 26(2)",
        "EU AI Act art. 26(8) and 49(3)",
    ] {
        assert!(out.contains(&format!("· {article}]")), "{article}: {out}");
    }
    let output = run(
        &dir,
        &[
            "check",
            "--register",
            "r.yaml",
            "--user",
            "olle",
            "--ai",
            "utland",
            "--data",
            "pu",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let decision: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        decision["reasons"][0]["policy"],
        "law-gdpr-third-country-transfer"
    );
    // The article as the answer's language cites it: Swedish by default.
    assert_eq!(
        decision["reasons"][0]["law"],
        "dataskyddsförordningen art. 44–46"
    );
    // `validate` names what cannot be right in this register, at its lines, and counts the
    // undated assessments as notes (four), beside the note that it maps nothing found in a
    // text to its classes (one).
    let output = run(
        &dir,
        &["validate", "--register", "r.yaml", "--format", "json"],
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["notes"], 5, "{report}");
    let findings = findings(
        &dir,
        &["validate", "--register", "r.yaml", "--format", "json"],
    );
    assert!(
        findings
            .iter()
            .any(|(check, line, message)| check == "ai-act"
                && *line == 5
                && message.contains("lacks `fria` and `euDatabaseId`")),
        "{findings:#?}"
    );
    assert!(
        findings
            .iter()
            .any(|(check, line, message)| check == "suppliers"
                && *line == 7
                && message.contains("no `processor`")),
        "{findings:#?}"
    );
}

#[test]
fn at_re_decides_a_past_or_planned_question_and_the_day_is_named() {
    let dir = common::workdir("day", "at");
    // Copilot Chat's verification (2026-10-01, 12 months) holds through 2027-10-01.
    let check = |at: &str| {
        run(
            &dir,
            &[
                "check",
                "--user",
                "anna",
                "--ai",
                "copilot-chat",
                "--data",
                "intern",
                "--lang",
                "en",
                "--at",
                at,
            ],
        )
    };
    let held = check("2027-10-01");
    assert_eq!(held.status.code(), Some(0), "{}", text(&held.stdout));
    assert!(
        text(&held.stderr).contains("day: 2027-10-01 (--at)"),
        "{}",
        text(&held.stderr)
    );
    let lapsed = check("2027-10-02");
    assert_eq!(lapsed.status.code(), Some(1));
    let out = text(&lapsed.stdout);
    assert!(
        out.contains("The municipality's testing and verification (§2) of 2026-10-01 held through 2027-10-01 and no longer counts as done."),
        "{out}"
    );
    assert!(
        out.contains("Report deviations to:\n  IT-servicedesk"),
        "{out}"
    );
    // A query's own `at` wins over the flag.
    let output = run(
        &dir,
        &[
            "check",
            "--at",
            "2027-10-02",
            "--format",
            "json",
            "--query",
            r#"{"user":"anna","ai":"copilot-chat","data":"intern","at":"2027-01-01"}"#,
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    // What is not a day is an input error naming the flag.
    let bad = check("2027-02-30");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("--at: `2027-02-30` is not a date of the calendar"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn a_batch_decides_each_line_at_its_own_day_or_the_flags() {
    let dir = common::workdir("day", "batch");
    let input = concat!(
        r#"{"user":"anna","ai":"copilot-chat","data":"intern","requestId":"flag"}"#,
        "\n",
        r#"{"user":"anna","ai":"copilot-chat","data":"intern","at":"2027-01-01","requestId":"own"}"#,
        "\n",
        r#"{"user":"anna","ai":"copilot-chat","data":"intern","at":"2027-13-01","requestId":"bad"}"#,
        "\n",
    );
    let output = common::output(
        common::aipolicy(["batch", "--at", "2027-10-02"]).current_dir(&dir),
        input,
    );
    assert_eq!(output.status.code(), Some(2), "one line is an input error");
    let lines: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0]["decision"], "deny",
        "the flag's day: the verification lapsed"
    );
    assert_eq!(lines[1]["decision"], "allow", "the line's own day");
    assert_eq!(lines[2]["decision"], "deny");
    assert!(
        lines[2]["errors"][0]
            .as_str()
            .unwrap()
            .contains("rad 3: at: `2027-13-01` är ingen dag"),
        "{}",
        lines[2]
    );
}

#[test]
fn the_environment_fixes_today_and_says_so() {
    let dir = common::workdir("day", "env");
    let with_today = |value: &str| {
        common::output(
            common::aipolicy([
                "check",
                "--user",
                "anna",
                "--ai",
                "copilot-chat",
                "--data",
                "intern",
            ])
            .current_dir(&dir)
            .env(aipolicy::clock::TODAY_VARIABLE, value),
            "",
        )
    };
    let output = with_today("2027-10-02");
    assert_eq!(output.status.code(), Some(1));
    let err = text(&output.stderr);
    assert!(
        err.contains("day: 2027-10-02 (fixed by AIPOLICY_TODAY)"),
        "{err}"
    );
    let output = with_today("soon");
    assert_eq!(output.status.code(), Some(2));
    let err = text(&output.stderr);
    assert!(err.contains("AIPOLICY_TODAY: `soon`"), "{err}");
    // Set to nothing is not set: today.
    let output = with_today("");
    let err = text(&output.stderr);
    assert!(err.contains("(today, Europe/Stockholm)"), "{err}");
}

#[test]
fn a_logged_decision_is_made_today() {
    let dir = common::workdir("day", "log");
    let log = format!("jsonl:{}", dir.join("log.jsonl").display());
    let output = run(
        &dir,
        &[
            "check",
            "--user",
            "anna",
            "--ai",
            "copilot-chat",
            "--data",
            "intern",
            "--at",
            "2027-01-01",
            "--log",
            &log,
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("--at with --log"),
        "{}",
        text(&output.stderr)
    );
    let output = run(
        &dir,
        &[
            "check",
            "--log",
            &log,
            "--format",
            "json",
            "--query",
            r#"{"user":"anna","ai":"copilot-chat","data":"intern","at":"2027-01-01"}"#,
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("at: tas inte emot här"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn validate_warns_thirty_days_before_an_assessment_lapses() {
    let dir = common::workdir("day", "validate");
    // On the tests' day the embedded register is clean.
    let clean = run(&dir, &["validate"]);
    assert_eq!(clean.status.code(), Some(0));
    assert!(
        text(&clean.stdout).contains("ok: no errors, 0 warning(s)"),
        "{}",
        text(&clean.stdout)
    );
    assert!(
        !text(&clean.stderr).contains("lint::"),
        "{}",
        text(&clean.stderr)
    );
    // Copilot Chat's verification lapses on 2027-10-01: warned from 2027-09-01, lapsed after.
    let soon = findings(
        &dir,
        &["validate", "--at", "2027-09-15", "--format", "json"],
    );
    assert!(
        soon.iter().any(|(check, line, message)| check == "assessments"
            && *line > 0
            && message.ends_with("`verified` of AI system `copilot-chat` (made 2026-10-01, holds 12 months) lapses on 2027-10-01, in 16 days: from the day after it counts as not done")),
        "{soon:#?}"
    );
    let lapsed = findings(
        &dir,
        &["validate", "--at", "2027-10-02", "--format", "json"],
    );
    assert!(
        lapsed.iter().any(|(_, _, message)| message
            .contains("`copilot-chat` (made 2026-10-01, holds 12 months) lapsed on 2027-10-01")),
        "{lapsed:#?}"
    );
}

#[test]
fn the_register_schema_describes_every_new_key() {
    let dir = common::workdir("day", "schema");
    let output = run(&dir, &["schema", "register"]);
    let schema = text(&output.stdout);
    for key in [
        "euDatabaseId",
        "contestRoute",
        "incidentChannel",
        "assessmentValidity",
        "\"default\": 24",
        "YYYY-MM-DD",
    ] {
        assert!(schema.contains(key), "{key}");
    }
    let output = run(&dir, &["schema", "query"]);
    assert!(text(&output.stdout).contains("\"at\""));
}

#[test]
fn test_at_a_later_day_shows_which_cases_no_longer_hold() {
    let dir = common::workdir("day", "test");
    let file = common::repo("tests/scenarios/s2-tillforlitlighet.yaml");
    let file = file.display().to_string();
    // The file names the day it was written for: every case holds.
    let output = run(&dir, &["test", &file]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    // After Copilot Chat's verification lapses, the case that uses it fails (a case with its own
    // `at` keeps it).
    let output = run(&dir, &["test", &file, "--at", "2027-10-02"]);
    assert_eq!(output.status.code(), Some(1));
    let out = text(&output.stdout);
    assert!(
        out.contains("FAIL") && out.contains("Using a verified internal system is allowed"),
        "{out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("still holds on its last day")),
        "{out}"
    );
}
