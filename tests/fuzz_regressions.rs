//! Regression tests from fuzzing (`fuzz/`, see `fuzz/README.md`): the nastiest inputs the fuzz
//! targets met or were seeded with, each replayed as a plain test that asserts what must happen
//! — an input error or a deny, never a panic and never an allow. Runs without `cargo fuzz`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::Path;
use std::sync::OnceLock;

use aipolicy::scenario::{self, Actual, ScenarioFile};
use aipolicy::{
    Action, Context, Decision, Engine, Language, Query, Register, Role, UserRef, Verdict,
};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        // The day these tests were written: the register's dated assessments all hold on it.
        Engine::bundled()
            .expect("the bundled engine loads")
            .with_clock(aipolicy::Clock::fixed(
                aipolicy::clock::parse_date("2026-12-07").unwrap(),
            ))
    })
}

/// The fuzz targets' shared decision invariants (`fuzz/src/lib.rs`).
fn check(d: &Decision) {
    if !d.errors.is_empty() {
        assert_eq!(d.decision, Verdict::Deny, "errors without a deny: {d:?}");
    }
    match d.decision {
        Verdict::Allow => assert!(d.reasons.is_empty() && d.errors.is_empty(), "{d:?}"),
        Verdict::Deny => assert!(!d.reasons.is_empty() && d.obligations.is_empty(), "{d:?}"),
    }
}

/// Reads and decides a query as the `query_json` target does; `Err` is the input error's text.
fn decide_json(text: &str) -> Result<Decision, String> {
    let query = Query::from_json(text).map_err(|e| e.to_string())?;
    let decision = engine().decide(&query).map_err(|e| e.to_string())?;
    check(&decision);
    Ok(decision)
}

fn deny(text: &str) -> Decision {
    let decision = decide_json(text).unwrap_or_else(|e| panic!("expected a deny, got {e}"));
    assert_eq!(decision.decision, Verdict::Deny, "{text} → {decision:?}");
    decision
}

fn input_error(text: &str) -> String {
    match decide_json(text) {
        Err(e) => e,
        Ok(d) => panic!("expected an input error for {text:?}, got {d:?}"),
    }
}

// ---- query_json ----------------------------------------------------------------------------

#[test]
fn deeply_nested_json_is_an_input_error() {
    for depth in [200, 100_000] {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        input_error(&text);
        let text = format!(
            r#"{{"user": {}"anna"{}, "ai": "chatgpt", "data": "oppen"}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        input_error(&text);
        let text = format!(
            r#"{{"user": "anna", "ai": "chatgpt", "data": "oppen", "context": {}1{}}}"#,
            r#"{"a":"#.repeat(depth),
            "}".repeat(depth)
        );
        input_error(&text);
    }
}

#[test]
fn truncated_json_is_an_input_error() {
    let full =
        r#"{"user": {"id": "k", "roles": ["employee"]}, "ai": "copilot-chat", "data": ["intern"]}"#;
    for end in 0..full.len() {
        if let Some(prefix) = full.get(..end) {
            input_error(prefix);
        }
    }
}

#[test]
fn invalid_utf8_read_lossily_is_an_input_error() {
    // The query_json target reads bytes as lossy UTF-8: a broken sequence in an id becomes
    // U+FFFD, which names no user or data class.
    let bytes = b"{\"user\": \"anna\xff\", \"ai\": \"copilot-chat\", \"data\": \"intern\"}";
    input_error(&String::from_utf8_lossy(bytes));
    let bytes = b"{\"user\": \"anna\", \"ai\": \"copilot-chat\", \"data\": \"intern\xc3\"}";
    input_error(&String::from_utf8_lossy(bytes));
    // In the AI id it makes an unregistered system: public AI, so internal information is denied.
    let bytes = b"{\"user\": \"anna\", \"ai\": \"copilot-chat\xfe\", \"data\": \"intern\"}";
    deny(&String::from_utf8_lossy(bytes));
}

#[test]
fn ids_that_look_like_cedar_are_plain_ids() {
    let cedar = r#"x\" || true || \""#;
    // As an AI id: not in the register, so public AI; internal information is denied (U3).
    let d = deny(&format!(
        r#"{{"user": "anna", "ai": "{cedar}", "data": "intern"}}"#
    ));
    assert!(d
        .reasons
        .iter()
        .any(|r| &*r.policy == "u3-public-ai-open-only"));
    // As a user id, a data class or a role: unknown, so an input error.
    input_error(&format!(
        r#"{{"user": "{cedar}", "ai": "copilot-chat", "data": "intern"}}"#
    ));
    input_error(&format!(
        r#"{{"user": "anna", "ai": "copilot-chat", "data": "{cedar}"}}"#
    ));
    input_error(&format!(
        r#"{{"user": {{"id": "k", "roles": ["{cedar}"]}}, "ai": "copilot-chat", "data": "intern"}}"#
    ));
    // A Cedar entity reference as an AI id is still only an id.
    let d = deny(r#"{"user": "anna", "ai": "AiSystem::\"copilot-chat\"", "data": "intern"}"#);
    assert!(d.reasons.iter().any(|r| &*r.paragraph == "U3"));
}

#[test]
fn nul_bytes_and_control_characters_in_ids() {
    // `copilot-chat` followed by NUL is another (unregistered, public) system.
    deny(r#"{"user": "anna", "ai": "copilot-chat\u0000", "data": "intern"}"#);
    input_error(r#"{"user": "anna\u0000", "ai": "copilot-chat", "data": "intern"}"#);
    input_error(r#"{"user": "anna", "ai": "copilot-chat", "data": "intern\u0000"}"#);
    // An unpaired surrogate escape is not valid JSON text.
    input_error(r#"{"user": "anna", "ai": "\ud800", "data": "intern"}"#);
}

#[test]
fn wrong_types_everywhere_are_input_errors() {
    for text in [
        "null",
        "[]",
        "\"anna\"",
        "1e999",
        r#"{"user": 1, "ai": "copilot-chat", "data": "intern"}"#,
        r#"{"user": "anna", "ai": null, "data": "intern"}"#,
        r#"{"user": "anna", "ai": "copilot-chat", "data": 1e999}"#,
        r#"{"user": "anna", "ai": "copilot-chat", "data": [["intern"]]}"#,
        r#"{"user": "anna", "ai": "copilot-chat", "data": "intern", "action": "Use"}"#,
        r#"{"user": "anna", "ai": "copilot-chat", "data": "intern", "context": {"humanReview": "true"}}"#,
        r#"{"user": "anna", "ai": "copilot-chat", "data": "intern", "context": {"humanreview": true}}"#,
        r#"{"user": "anna", "ai": "copilot-chat", "data": "intern", "extra": true}"#,
        r#"{"user": {"id": "k", "roles": ["employee", "employee"]}, "ai": "copilot-chat", "data": "intern"}"#,
        r#"{"user": {"id": "k", "roles": "employee"}, "ai": "copilot-chat", "data": "intern"}"#,
        r#"{"user": {"id": "", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"}"#,
        r#"{"user": "anna", "ai": "", "data": "intern"}"#,
        r#"{"user": "anna", "ai": "copilot-chat", "data": []}"#,
        r#"{"user": "anna", "ai": "copilot-chat"}"#,
    ] {
        input_error(text);
    }
}

#[test]
fn huge_strings_and_arrays_are_input_errors() {
    let long = "a".repeat(1 << 20);
    input_error(&format!(
        r#"{{"user": "anna", "ai": "{long}", "data": "intern"}}"#
    ));
    let many = vec!["\"oppen\""; 100_000].join(",");
    input_error(&format!(
        r#"{{"user": "anna", "ai": "copilot-chat", "data": [{many}]}}"#
    ));
}

#[test]
fn level_4_is_denied_for_every_user_system_and_action_but_report_incident() {
    let register = engine().register();
    let users = register
        .users()
        .iter()
        .map(|u| UserRef::registered(u.id.clone()))
        .chain([UserRef::inline(
            "k",
            [Role::Employee, Role::Contractor, Role::Elected],
        )]);
    let ais: Vec<String> = register
        .ai_systems()
        .iter()
        .map(|a| a.id.clone())
        .chain(["not-registered".to_string()])
        .collect();
    let mut context = Context::default();
    for key in Context::KEYS {
        context.set(key, true).unwrap();
    }
    for user in users {
        for ai in &ais {
            for action in Action::ALL {
                let query = Query {
                    user: user.clone(),
                    ai: ai.clone(),
                    data: vec!["oppen".into(), "sakerhetsskydd".into()],
                    action,
                    context,
                    request_id: None,
                    at: None,
                    text: Vec::new(),
                    default_data: None,
                };
                let d = engine().decide_in(&query, Language::En).unwrap();
                check(&d);
                if action == Action::ReportIncident {
                    continue;
                }
                assert_eq!(d.decision, Verdict::Deny, "{query:?}");
                assert!(
                    d.reasons
                        .iter()
                        .any(|r| &*r.policy == "s3-no-security-protected-data"),
                    "{query:?} → {d:?}"
                );
            }
        }
    }
}

#[test]
fn duplicate_keys_in_query_json_are_input_errors() {
    // Found while fuzzing: serde_json keeps the last of duplicate keys, so this query naming
    // säkerhetsskydd was *allowed* as `intern` (a proxy or log reading the first key sees
    // level-4 data). Ambiguous JSON is now an input error, in whichever object it occurs.
    for text in [
        r#"{"user": "anna", "ai": "copilot-chat", "data": "sakerhetsskydd", "data": "intern"}"#,
        r#"{"user": "anna", "ai": "copilot-chat", "data": "intern", "data": "sakerhetsskydd"}"#,
        r#"{"user": "gunilla", "user": "anna", "ai": "copilot-chat", "data": "intern"}"#,
        r#"{"user": "anna", "ai": "chatgpt", "ai": "copilot-chat", "data": "intern"}"#,
        r#"{"user": {"id": "k", "roles": [], "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"}"#,
        r#"{"user": "anna", "ai": "lokal-sprakmodell", "data": "socialtjanstarende", "action": "decide", "context": {"humanReview": false, "humanReview": true}}"#,
    ] {
        let e = input_error(text);
        assert!(e.contains("duplicate key"), "{text} → {e}");
    }
    // The same key in different objects is not a duplicate.
    let d = decide_json(
        r#"{"user": {"id": "k", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern", "context": {"humanReview": true}}"#,
    )
    .unwrap();
    assert_eq!(d.decision, Verdict::Allow);
}

#[test]
fn duplicate_keys_in_yaml_are_errors() {
    register_error(&MINIMAL_REGISTER.replace("level: 4,", "level: 4, level: 0,"));
    register_error(
        &MINIMAL_REGISTER.replace("maxDataLevel: 4,", "maxDataLevel: 0, maxDataLevel: 4,"),
    );
    let text = "cases:\n  - {name: a, query: {user: anna, ai: copilot-chat, data: sakerhetsskydd, data: intern}, expect: allow}\n";
    assert!(ScenarioFile::parse(text, Path::new("fuzz.yaml")).is_err());
}

// ---- register_yaml -------------------------------------------------------------------------

fn register_error(text: &str) -> String {
    match Register::from_yaml(text, "fuzz.yaml") {
        Err(e) => e.to_string(),
        Ok(r) => panic!("expected an invalid register, got {r:?}"),
    }
}

const MINIMAL_REGISTER: &str = "\
dataClasses:
  - {id: oppen, name: Öppen, level: 0, personalData: none, secrecy: false}
  - {id: topp, name: Topp, level: 4, personalData: none, secrecy: false}
aiSystems:
  - {id: ai, name: AI, hosting: internal, approved: true, status: active, verified: true, maxDataLevel: 4, personalData: sensitive, secrecy: true}
users:
  - {id: u, roles: [employee]}
";

#[test]
fn yaml_alias_bomb_is_an_invalid_register() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    text.push_str(MINIMAL_REGISTER);
    register_error(&text);
}

#[test]
fn deeply_nested_yaml_is_an_invalid_register() {
    for depth in [100, 20_000] {
        let text = format!(
            "{}municipality: {}x{}",
            MINIMAL_REGISTER,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        register_error(&text);
        let text = format!("{}{}", "- ".repeat(depth), "x");
        register_error(&text);
    }
}

#[test]
fn out_of_range_levels_are_invalid_registers() {
    for level in [
        "-1", "5", "256", "1e3", "4.5", ".nan", ".inf", "\"2\"", "null", "0x10",
    ] {
        let text = MINIMAL_REGISTER.replace("level: 4", &format!("level: {level}"));
        register_error(&text);
        let text = MINIMAL_REGISTER.replace("maxDataLevel: 4", &format!("maxDataLevel: {level}"));
        register_error(&text);
    }
}

#[test]
fn odd_yaml_is_an_invalid_register() {
    for text in [
        "",
        "~",
        "---\n...\n",
        "[]",
        "!!binary aGVsbG8=",
        "? [a, b]\n: c\n",
        "dataClasses: !!str x\naiSystems: []\n",
        "<<: *missing\n",
        "a: &a [*a]\n",
        "\u{0}",
    ] {
        register_error(text);
    }
    // Non-string keys, duplicate ids, unknown fields.
    register_error(&MINIMAL_REGISTER.replace("users:", "1: x\nusers:"));
    register_error(&MINIMAL_REGISTER.replace("id: topp", "id: oppen"));
    register_error(&MINIMAL_REGISTER.replace("secrecy: true}", "secrecy: true, root: true}"));
}

#[test]
fn a_fuzzed_register_never_allows_level_4_or_public_ai_beyond_open() {
    let register = Register::from_yaml(MINIMAL_REGISTER, "fuzz.yaml").unwrap();
    let bundled = engine();
    let engine = Engine::new(
        bundled.policies().clone(),
        bundled.schema().clone(),
        register,
    )
    .unwrap();
    let mut context = Context::default();
    for key in Context::KEYS {
        context.set(key, true).unwrap();
    }
    for action in Action::ALL {
        for (ai, data, allow_possible) in [
            ("ai", "topp", false),
            ("unregistered", "topp", false),
            ("ai", "oppen", true),
        ] {
            let query = Query {
                user: UserRef::registered("u"),
                ai: ai.into(),
                data: vec![data.into()],
                action,
                context,
                request_id: None,
                at: None,
                text: Vec::new(),
                default_data: None,
            };
            let d = engine.decide(&query).unwrap();
            check(&d);
            if action != Action::ReportIncident && !allow_possible {
                assert_eq!(d.decision, Verdict::Deny, "{query:?}");
            }
        }
    }
}

// ---- scenario_yaml -------------------------------------------------------------------------

#[test]
fn scenario_with_a_nasty_query_runs_as_a_failed_or_error_case() {
    let text = format!(
        r#"
cases:
  - name: Cedar-looking AI id with internal data
    query: {{user: anna, ai: 'x" || true || "', data: intern}}
    expect: allow
  - name: Nested query
    query: {{user: {open}anna{close}, ai: chatgpt, data: oppen}}
    expect: allow
  - name: Level 4 with every flag
    query:
      user: {{id: k, roles: [employee, contractor, elected]}}
      ai: lokal-sprakmodell
      data: [oppen, sakerhetsskydd]
      action: use
      context: {{humanReview: true, humanReviewed: true, aiDisclosure: true}}
    expect: allow
"#,
        open = "[".repeat(20),
        close = "]".repeat(20)
    );
    let file = ScenarioFile::parse(&text, Path::new("tests/scenarios/fuzz.yaml")).unwrap();
    assert_eq!(file.cases.len(), 3);
    for case in &file.cases {
        let result = scenario::run_case(engine(), case, "fuzz.yaml", Language::En);
        assert!(!result.passed(), "{} passed as an allow", case.name);
        match &result.actual {
            Actual::Decision(d) => {
                check(d);
                assert_eq!(d.decision, Verdict::Deny, "{}", case.name);
            }
            Actual::InputError(errors) => assert!(!errors.is_empty()),
        }
    }
}

#[test]
fn odd_scenario_yaml_is_an_error() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    bomb.push_str("cases: []\n");
    let deep = format!("cases: {}x{}", "[".repeat(20_000), "]".repeat(20_000));
    for text in [
        "",
        "cases:",
        "cases: x",
        "cases: [{name: a, query: {}, expect: maybe}]",
        "cases: [{name: a, query: {}, expect: allow, extra: 1}]",
        "a: &a [*a]\n",
        bomb.as_str(),
        deep.as_str(),
    ] {
        assert!(
            ScenarioFile::parse(text, Path::new("fuzz.yaml")).is_err(),
            "{:.80}",
            text
        );
    }
}
