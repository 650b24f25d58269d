//! The scenario suite under `tests/scenarios/`: every case passes, every policy is exercised,
//! and each file's full decisions (reasons and duties in Swedish and English) are snapshotted,
//! so that any change of a decision or of its wording shows up in `cargo insta review`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::{Path, PathBuf};

use aipolicy::clock::{parse_date, Clock};
use aipolicy::scenario::{self, ScenarioFile};
use aipolicy::{Decision, Engine, Language, Query};
use serde_json::{json, Value};

/// The bundled engine deciding as on the tests' day (every assessment of the bundled register
/// holds on it), so that the suite decides the same whatever day it runs.
fn bundled() -> Engine {
    Engine::bundled()
        .unwrap()
        .with_clock(Clock::fixed(parse_date("2026-12-07").unwrap()))
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

#[test]
fn every_case_passes_and_every_policy_is_exercised() {
    let engine = bundled();
    let report = scenario::run_paths(&engine, &[scenarios_dir()]).unwrap();
    let failures: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| format!("{}  {}: {}", r.location(), r.name, r.failures.join("; ")))
        .collect();
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
    assert!(
        report.results.len() >= 80,
        "the suite has {} cases",
        report.results.len()
    );
    assert_eq!(report.coverage.unexercised(), Vec::<&str>::new());
}

/// Both languages side by side, for a reviewer.
fn bilingual(sv: &Decision, en: &Decision) -> Value {
    let pair = |sv: &[aipolicy::Reason], en: &[aipolicy::Reason]| -> Vec<Value> {
        sv.iter()
            .zip(en)
            .map(|(s, e)| {
                let mut pair = json!({"policy": &*s.policy, "paragraph": &*s.paragraph, "sv": &*s.message, "en": &*e.message});
                if let Some(law) = &s.law {
                    pair["law"] = json!(&**law);
                }
                pair
            })
            .collect()
    };
    let mut view = json!({"decision": sv.decision.to_string()});
    if !sv.reasons.is_empty() {
        view["reasons"] = json!(pair(&sv.reasons, &en.reasons));
    }
    if !sv.obligations.is_empty() {
        view["obligations"] = json!(pair(&sv.obligations, &en.obligations));
    }
    if !sv.errors.is_empty() {
        view["errors"] = json!(sv.errors);
    }
    if let Some(channel) = &sv.incident_channel {
        view["incidentChannel"] = json!(&**channel);
    }
    if !sv.found.is_empty() {
        view["found"] = json!(sv.found);
    }
    view
}

#[test]
fn decision_snapshots() {
    let base = bundled();
    insta::glob!("scenarios/*.yaml", |path| {
        let file = ScenarioFile::load(path).unwrap();
        let own = scenario::engine_for_file(&base, &file).unwrap();
        let engine = own.as_ref().unwrap_or(&base);
        let cases: Vec<Value> = file
            .cases
            .iter()
            .map(|case| {
                let decided = Query::from_value(file.query_of(case)).and_then(|q| {
                    Ok((engine.decide_in(&q, Language::Sv)?, engine.decide_in(&q, Language::En)?))
                });
                let outcome = match decided {
                    Ok((sv, en)) => bilingual(&sv, &en),
                    Err(e) => json!({"inputError": e.problems.iter().map(ToString::to_string).collect::<Vec<_>>()}),
                };
                json!({"name": case.name, "query": case.query, "outcome": outcome})
            })
            .collect();
        insta::with_settings!({sort_maps => true, omit_expression => true}, {
            insta::assert_yaml_snapshot!(cases);
        });
    });
}
