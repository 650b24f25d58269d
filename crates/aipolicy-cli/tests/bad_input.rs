//! The bad-input catalogue: each input gives a clear error (naming its field, path or line and
//! what was expected) or a deny — never a panic, never an allow — and `aipolicy batch` goes on
//! past it. Queries go through `Query::from_json` + `Engine::decide` and through the batch CLI;
//! registers through `Register::from_yaml`/`from_file`; scenario files through
//! `ScenarioFile::parse`/`load`; policy files, schemas and invariants through the library and
//! the CLI. The limits (query, register, scenario, policy and schema size, nesting, values after
//! alias expansion) are checked here too, with the numbers their errors must name, and so is
//! that no input aborts the process (deep Cedar nesting), hangs it (deep YAML nesting, endless
//! streams) or loses a line of a batch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aipolicy::query::{MAX_QUERY_BYTES, MAX_QUERY_DEPTH};
use aipolicy::register::{
    MAX_REGISTER_BYTES, MAX_REGISTER_DEPTH, MAX_REGISTER_VALUES, MAX_REGISTER_VALUES_PER_BYTE,
};
use aipolicy::scenario::{ScenarioError, ScenarioFile, MAX_SCENARIO_BYTES, MAX_SCENARIO_DEPTH};
use aipolicy::{
    Decision, Engine, FieldError, InputError, LoadError, Query, Register, RegisterError, Role,
    UserRef, Verdict,
};
use serde_json::{json, Value};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        // The tests' day: the register's dated assessments all hold on it.
        Engine::bundled()
            .expect("the bundled engine loads")
            .with_clock(aipolicy::Clock::fixed(
                aipolicy::clock::parse_date(aipolicy_test_support::TODAY).unwrap(),
            ))
    })
}

/// What became of a query: an input error, or a decision.
#[derive(Debug)]
enum Outcome {
    Error(InputError),
    Decided(Decision),
}

/// Reads and decides `text` with the bundled engine; an allow here is the caller's to expect.
fn outcome(text: &str) -> Outcome {
    match Query::from_json(text).and_then(|q| engine().decide(&q)) {
        Ok(decision) => Outcome::Decided(decision),
        Err(error) => Outcome::Error(error),
    }
}

/// `text` is an input error with a problem at `path` whose message contains `needle`.
#[track_caller]
fn assert_error(text: &str, path: &str, needle: &str) -> InputError {
    match outcome(text) {
        Outcome::Error(error) => {
            assert!(!error.problems.is_empty(), "an error says what is wrong");
            assert!(
                error
                    .problems
                    .iter()
                    .any(|p| p.path == path && p.message.contains(needle)),
                "expected a problem at `{path}` containing `{needle}`; got {:?} for {}",
                error.problems,
                cut(text)
            );
            error
        }
        Outcome::Decided(decision) => panic!(
            "expected an input error, got {decision:?} for {}",
            cut(text)
        ),
    }
}

/// `text` is decided, and denied without errors (a valid query that the policy forbids).
#[track_caller]
fn assert_denied(text: &str) -> Decision {
    match outcome(text) {
        Outcome::Decided(decision) => {
            assert_eq!(
                decision.decision,
                Verdict::Deny,
                "{}: {decision:?}",
                cut(text)
            );
            assert!(!decision.reasons.is_empty());
            assert!(decision.errors.is_empty(), "{decision:?}");
            decision
        }
        Outcome::Error(error) => panic!("expected a deny, got {error} for {}", cut(text)),
    }
}

#[track_caller]
fn assert_allowed(text: &str) -> Decision {
    match outcome(text) {
        Outcome::Decided(decision) if decision.is_allowed() => decision,
        other => panic!("expected an allow, got {other:?} for {}", cut(text)),
    }
}

/// The start of a long text, for messages.
fn cut(text: &str) -> String {
    text.chars().take(200).collect()
}

fn paragraphs(decision: &Decision) -> Vec<&str> {
    decision.paragraphs()
}

// ------------------------------------------------------------------------------------------
// Queries through the library
// ------------------------------------------------------------------------------------------

const ALLOWED: &str = r#"{"user": {"id": "t", "roles": ["employee"], "unit": "IT"}, "ai": "copilot-chat", "data": ["intern", "oppen"], "action": "use", "context": {"humanReview": false}}"#;

#[test]
fn the_base_query_of_these_tests_is_allowed() {
    assert_allowed(ALLOWED);
}

#[test]
fn truncated_json_is_an_error_at_every_cut_point() {
    for (cut_at, _) in ALLOWED.char_indices() {
        let prefix = &ALLOWED[..cut_at];
        let error = assert_error(prefix, "", "JSON");
        let message = &error.problems[0].message;
        assert!(
            message.starts_with("invalid JSON at line 1 column"),
            "cut at {cut_at}: {message}"
        );
    }
    // Cut inside a multi-byte character: the bytes are not even UTF-8 (see the batch test);
    // cut after a complete value with trailing garbage:
    assert_error(&format!("{ALLOWED}}}"), "", "invalid JSON");
    assert_error(&format!("{ALLOWED} {ALLOWED}"), "", "invalid JSON");
}

#[test]
fn deeply_nested_json_is_refused_before_parsing() {
    // 100,000 `[` are over the size limit, which is checked first.
    assert_error(&"[".repeat(3_000_000), "", "the limit is 2097152 bytes");
    let limit = format!("the limit is {MAX_QUERY_DEPTH}");
    for text in [
        "[".repeat(60_000),
        "{\"a\":".repeat(10_000),
        format!("{{\"user\": {}", "[".repeat(60_000)),
        format!("{}{}", "[".repeat(30_000), "]".repeat(30_000)),
        format!(
            r#"{{"user": "anna", "ai": "copilot-chat", "data": "intern", "context": {}1{}}}"#,
            "{\"humanReview\": ".repeat(MAX_QUERY_DEPTH),
            "}".repeat(MAX_QUERY_DEPTH)
        ),
    ] {
        assert_error(&text, "", &limit);
    }
    // Nesting up to the limit is only a schema error, at its path.
    let nested = format!(
        r#"{{"user": "anna", "ai": "copilot-chat", "data": {}"intern"{}}}"#,
        "[".repeat(MAX_QUERY_DEPTH - 1),
        "]".repeat(MAX_QUERY_DEPTH - 1)
    );
    assert_error(&nested, "data[0]", "");
    // Brackets inside strings are text, not nesting.
    let text = format!(
        r#"{{"user": "{}\"{}", "ai": "copilot-chat", "data": "intern"}}"#,
        "[{".repeat(60),
        "[".repeat(100)
    );
    assert_error(&text, "user", "unknown user");
}

#[test]
fn deeply_nested_json_values_are_refused_without_recursion() {
    let mut value = json!("intern");
    for _ in 0..1_000 {
        value = json!([value]);
    }
    let query = json!({"user": "anna", "ai": "copilot-chat", "data": value});
    let error = Query::from_value(query).unwrap_err();
    assert_eq!(error.problems[0].path, "");
    assert!(
        error.problems[0]
            .message
            .contains(&format!("the limit is {MAX_QUERY_DEPTH}")),
        "{error}"
    );
}

#[test]
fn the_query_size_limit_is_checked_before_parsing_and_named() {
    // Valid JSON just over the limit: the size, not the content, is the error.
    let padding = " ".repeat(MAX_QUERY_BYTES);
    let text = format!(r#"{{"user": "anna", "ai": "copilot-chat", "data": "intern"{padding}}}"#);
    let error = assert_error(&text, "", "");
    assert_eq!(
        error.problems[0].message,
        format!(
            "query is {} bytes; the limit is {MAX_QUERY_BYTES} bytes (2 MiB)",
            text.len()
        )
    );
    // Exactly at the limit is read.
    let base = r#"{"user": "anna", "ai": "copilot-chat", "data": "intern"}"#;
    let at_limit = format!(
        "{}{}}}",
        &base[..base.len() - 1],
        " ".repeat(MAX_QUERY_BYTES - base.len())
    );
    assert_eq!(at_limit.len(), MAX_QUERY_BYTES);
    assert_allowed(&at_limit);
}

#[test]
fn huge_strings_and_arrays_in_query_json_hit_the_size_limit() {
    let huge = "x".repeat(10 * 1024 * 1024);
    let limit = format!("the limit is {MAX_QUERY_BYTES} bytes");
    for text in [
        format!(r#"{{"user": "{huge}", "ai": "copilot-chat", "data": "intern"}}"#),
        format!(
            r#"{{"user": {{"id": "{huge}", "roles": ["employee"]}}, "ai": "x", "data": "oppen"}}"#
        ),
        format!(r#"{{"user": "anna", "ai": "{huge}", "data": "intern"}}"#),
        format!(r#"{{"user": "anna", "ai": "copilot-chat", "data": "{huge}"}}"#),
        format!(
            r#"{{"user": "anna", "ai": "copilot-chat", "data": [{}"intern"]}}"#,
            "\"intern\", ".repeat(1_000_000)
        ),
    ] {
        assert_error(&text, "", &limit);
    }
    // Under the size limit, the schema's own caps name the field.
    let long_id = "x".repeat(257);
    assert_error(
        &format!(r#"{{"user": "{long_id}", "ai": "copilot-chat", "data": "intern"}}"#),
        "user",
        "longer than 256",
    );
    assert_error(
        &format!(r#"{{"user": "anna", "ai": "{long_id}", "data": "intern"}}"#),
        "ai",
        "longer than 256",
    );
    assert_error(
        &format!(r#"{{"user": "anna", "ai": "copilot-chat", "data": "{long_id}"}}"#),
        "data",
        "longer than 128",
    );
    let many = vec!["intern"; 101];
    let text = json!({"user": "anna", "ai": "copilot-chat", "data": many}).to_string();
    assert_error(&text, "data", "more than 100 items");
}

#[test]
fn huge_strings_and_arrays_through_the_typed_api_are_decided_or_refused() {
    let huge = "x".repeat(10 * 1024 * 1024);
    let inline = UserRef::inline(huge.clone(), [Role::Employee]);
    // A huge unregistered AI id is public AI: denied for internal information.
    let decision = engine()
        .decide(&Query::new(inline.clone(), huge.clone(), ["intern"]))
        .unwrap();
    assert_eq!(decision.decision, Verdict::Deny);
    assert!(paragraphs(&decision).contains(&"U3"), "{decision:?}");
    // A huge registered-user id or data class id is unknown: an error at its field.
    let error = engine()
        .decide(&Query::new(
            UserRef::registered(huge.clone()),
            "copilot-chat",
            ["intern"],
        ))
        .unwrap_err();
    assert_eq!(error.problems[0].path, "user");
    let error = engine()
        .decide(&Query::new(inline.clone(), "copilot-chat", [huge.as_str()]))
        .unwrap_err();
    assert_eq!(error.problems[0].path, "data[0]");
    // A million data classes fold like one.
    let many = vec!["intern"; 1_000_000];
    let decision = engine()
        .decide(&Query::new(inline.clone(), "copilot-chat", many.clone()))
        .unwrap();
    assert!(decision.is_allowed(), "{decision:?}");
    let mut strict = many;
    strict.push("sakerhetsskydd");
    let decision = engine()
        .decide(&Query::new(inline, "copilot-chat", strict))
        .unwrap();
    assert_eq!(decision.decision, Verdict::Deny);
}

#[test]
fn nul_bytes_in_ids_are_plain_characters() {
    // Escaped NUL: a valid JSON string, and an id like any other.
    assert_error(
        r#"{"user": "anna\u0000", "ai": "copilot-chat", "data": "intern"}"#,
        "user",
        "unknown user",
    );
    assert_error(
        r#"{"user": "anna", "ai": "copilot-chat", "data": "intern\u0000"}"#,
        "data[0]",
        "unknown data class",
    );
    // An AI id with a NUL is not in the register: public AI.
    let decision =
        assert_denied(r#"{"user": "anna", "ai": "copilot-chat\u0000", "data": "intern"}"#);
    assert!(paragraphs(&decision).contains(&"U3"), "{decision:?}");
    assert_allowed(r#"{"user": "anna", "ai": "copilot-chat\u0000", "data": "oppen"}"#);
    assert_allowed(
        r#"{"user": {"id": "\u0000", "roles": ["employee"]}, "ai": "\u0000", "data": "oppen"}"#,
    );
    // A raw NUL byte is not JSON.
    assert_error(
        "{\"user\": \"anna\0\", \"ai\": \"copilot-chat\", \"data\": \"intern\"}",
        "",
        "invalid JSON",
    );
    assert_error("\0", "", "invalid JSON");
}

#[test]
fn wrong_types_in_every_query_field_name_the_field() {
    let cases: &[(Value, &str)] = &[
        (json!({"user": 5, "ai": "x", "data": "oppen"}), "user"),
        (json!({"user": true, "ai": "x", "data": "oppen"}), "user"),
        (json!({"user": null, "ai": "x", "data": "oppen"}), "user"),
        (
            json!({"user": ["anna"], "ai": "x", "data": "oppen"}),
            "user",
        ),
        (json!({"user": "", "ai": "x", "data": "oppen"}), "user"),
        (
            json!({"user": {"id": 5, "roles": []}, "ai": "x", "data": "oppen"}),
            "user.id",
        ),
        (
            json!({"user": {"id": "", "roles": []}, "ai": "x", "data": "oppen"}),
            "user.id",
        ),
        (
            json!({"user": {"id": "t", "roles": "employee"}, "ai": "x", "data": "oppen"}),
            "user.roles",
        ),
        (
            json!({"user": {"id": "t", "roles": [1]}, "ai": "x", "data": "oppen"}),
            "user.roles[0]",
        ),
        (
            json!({"user": {"id": "t", "roles": ["admin"]}, "ai": "x", "data": "oppen"}),
            "user.roles[0]",
        ),
        (
            json!({"user": {"id": "t", "roles": ["employee", "employee"]}, "ai": "x", "data": "oppen"}),
            "user.roles",
        ),
        (
            json!({"user": {"id": "t", "roles": null}, "ai": "x", "data": "oppen"}),
            "user.roles",
        ),
        (
            json!({"user": {"id": "t", "roles": [], "unit": 5}, "ai": "x", "data": "oppen"}),
            "user.unit",
        ),
        (
            json!({"user": {"id": "t"}, "ai": "x", "data": "oppen"}),
            "user.roles",
        ),
        (
            json!({"user": {"roles": []}, "ai": "x", "data": "oppen"}),
            "user.id",
        ),
        (json!({"user": "anna", "ai": 5, "data": "oppen"}), "ai"),
        (json!({"user": "anna", "ai": null, "data": "oppen"}), "ai"),
        (
            json!({"user": "anna", "ai": {"id": "x"}, "data": "oppen"}),
            "ai",
        ),
        (json!({"user": "anna", "ai": ["x"], "data": "oppen"}), "ai"),
        (json!({"user": "anna", "ai": "", "data": "oppen"}), "ai"),
        (json!({"user": "anna", "data": "oppen"}), "ai"),
        (json!({"ai": "x", "data": "oppen"}), "user"),
        (json!({"user": "anna", "ai": "x", "data": 5}), "data"),
        (json!({"user": "anna", "ai": "x", "data": true}), "data"),
        (json!({"user": "anna", "ai": "x", "data": null}), "data"),
        (
            json!({"user": "anna", "ai": "x", "data": {"id": "oppen"}}),
            "data",
        ),
        (json!({"user": "anna", "ai": "x", "data": []}), "data"),
        (json!({"user": "anna", "ai": "x", "data": [5]}), "data[0]"),
        (
            json!({"user": "anna", "ai": "x", "data": [null]}),
            "data[0]",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": ["oppen", ["intern"]]}),
            "data[1]",
        ),
        (json!({"user": "anna", "ai": "x", "data": ""}), "data"),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "action": 5}),
            "action",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "action": null}),
            "action",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "action": "USE"}),
            "action",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "action": ["use"]}),
            "action",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "context": []}),
            "context",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "context": "humanReview"}),
            "context",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "context": null}),
            "context",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "context": 1}),
            "context",
        ),
        (json!([]), ""),
        (json!("anna"), ""),
        (json!(null), ""),
        (json!(5), ""),
    ];
    for (query, path) in cases {
        assert_error(&query.to_string(), path, "");
    }
    for key in aipolicy::Context::KEYS {
        for wrong in [
            json!("true"),
            json!(1),
            json!(null),
            json!([true]),
            json!({}),
        ] {
            let query =
                json!({"user": "anna", "ai": "x", "data": "oppen", "context": {key: wrong}});
            assert_error(
                &query.to_string(),
                &format!("context.{key}"),
                "expected boolean",
            );
        }
    }
}

#[test]
fn unknown_fields_in_queries_are_errors_at_their_path() {
    for (query, path) in [
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "admin": true}),
            "admin",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "decision": "allow"}),
            "decision",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "context": {"override": true}}),
            "context.override",
        ),
        (
            json!({"user": "anna", "ai": "x", "data": "oppen", "context": {"humanreview": true}}),
            "context.humanreview",
        ),
        (
            json!({"user": {"id": "t", "roles": [], "admin": true}, "ai": "x", "data": "oppen"}),
            "user.admin",
        ),
    ] {
        assert_error(&query.to_string(), path, "unknown field");
    }
}

const CEDAR_LOOKALIKES: [&str; 8] = [
    r#"x" || true || ""#,
    r#"User::"admin""#,
    "principal",
    "*",
    r#"" } permit(principal, action, resource); // "#,
    "resource.hosting == \"internal\"",
    "Action::\"reportIncident\"",
    "copilot-chat\" || resource.approved",
];

#[test]
fn ids_that_look_like_cedar_are_plain_ids() {
    for id in CEDAR_LOOKALIKES {
        // As an AI id: not in the register, so public AI — open data only.
        let query = json!({"user": "anna", "ai": id, "data": "intern"});
        let decision = assert_denied(&query.to_string());
        assert!(
            decision.policies().contains(&"u3-public-ai-open-only"),
            "{id}: {decision:?}"
        );
        let query = json!({"user": {"id": "t", "roles": ["employee"]}, "ai": id, "data": "oppen"});
        assert_allowed(&query.to_string());
        for action in ["decide", "publish", "offerToResidents", "develop"] {
            let query = json!({"user": "anna", "ai": id, "data": "intern", "action": action,
                "context": {"humanReview": true, "humanReviewed": true, "aiDisclosure": true,
                    "securityReview": true, "itSecurityReview": true,
                    "dataProtectionReview": true, "valuesReview": true}});
            assert_denied(&query.to_string());
        }
        // As a registered user's id: unknown.
        let query = json!({"user": id, "ai": "copilot-chat", "data": "intern"});
        assert_error(&query.to_string(), "user", "unknown user");
        // As an inline user's id: decided exactly like any other id.
        for roles in [json!([]), json!(["employee"]), json!(["contractor"])] {
            let with = |user_id: &str| {
                let query = json!({"user": {"id": user_id, "roles": roles}, "ai": "copilot-chat", "data": "intern"});
                match outcome(&query.to_string()) {
                    // The first note is about the user, and names its id (not in the register).
                    Outcome::Decided(mut d) => {
                        let about_the_user = d.notes.remove(0);
                        assert!(about_the_user.contains(user_id), "{about_the_user}");
                        d
                    }
                    Outcome::Error(e) => panic!("{e}"),
                }
            };
            assert_eq!(with(id), with("plain-user"), "{id} with roles {roles}");
        }
        let query =
            json!({"user": {"id": id, "roles": []}, "ai": "copilot-chat", "data": "intern"});
        let decision = assert_denied(&query.to_string());
        assert!(paragraphs(&decision).contains(&"U0"), "{decision:?}");
        // As a data class id: unknown.
        let query = json!({"user": "anna", "ai": "copilot-chat", "data": ["oppen", id]});
        assert_error(&query.to_string(), "data[1]", "unknown data class");
    }
}

#[test]
fn reporting_an_incident_stays_allowed_for_odd_ids() {
    for id in CEDAR_LOOKALIKES.into_iter().chain(["\u{0}", "x"]) {
        let query = json!({"user": {"id": id, "roles": []}, "ai": id, "action": "reportIncident"});
        assert_allowed(&query.to_string());
    }
}

// ------------------------------------------------------------------------------------------
// Queries through `aipolicy batch`
// ------------------------------------------------------------------------------------------

/// Runs `aipolicy batch --lang en` on `input`; the exit code and the parsed output lines.
fn batch(input: Vec<u8>) -> (Option<i32>, Vec<Value>, String) {
    let output = common::output_fed(
        &mut common::aipolicy(["batch", "--lang", "en"]),
        move |mut stdin| {
            let _ = stdin.write_all(&input);
        },
    );
    let stdout = String::from_utf8(output.stdout).expect("batch writes UTF-8");
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (
        output.status.code(),
        lines,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What one batch line must give: allow, deny (no errors), or an input error whose first
/// message starts with `line N: ` and contains the text.
enum Expect {
    Allow,
    Deny,
    Error(&'static str),
}

#[test]
fn batch_goes_on_past_every_bad_line_in_order() {
    let huge = "x".repeat(10 * 1024 * 1024);
    let good = br#"{"user":"anna","ai":"copilot-chat","data":"intern"}"#.to_vec();
    let lines: Vec<(Vec<u8>, Expect)> = vec![
        (good.clone(), Expect::Allow),
        (br#"{"user":"anna","ai":"copilot-chat","da"#.to_vec(), Expect::Error("invalid JSON")),
        ("[".repeat(60_000).into_bytes(), Expect::Error("levels deep")),
        ("[".repeat(3_000_000).into_bytes(), Expect::Error("the limit is 2097152 bytes")),
        (b"{\"user\":\"anna\xff\",\"ai\":\"x\",\"data\":\"oppen\"}".to_vec(), Expect::Error("not valid UTF-8")),
        // A multi-byte character cut in half.
        ("{\"user\":\"Å".as_bytes()[..10].to_vec(), Expect::Error("not valid UTF-8")),
        (format!(r#"{{"user":"{huge}","ai":"copilot-chat","data":"intern"}}"#).into_bytes(), Expect::Error("the limit is 2097152 bytes")),
        (Vec::new(), Expect::Error("blank line; expected a query JSON object")),
        (br#"{"user":"anna","ai":"copilot-chat\u0000","data":"intern"}"#.to_vec(), Expect::Deny),
        (b"{\"user\":\"anna\0\",\"ai\":\"x\",\"data\":\"oppen\"}".to_vec(), Expect::Error("invalid JSON")),
        (br#"{"user":"anna","ai":5,"data":"intern"}"#.to_vec(), Expect::Error("ai: expected string")),
        (br#"{"user":"anna","ai":"x\" || true || \"","data":"intern"}"#.to_vec(), Expect::Deny),
        (br#"{"user":"User::\"admin\"","ai":"copilot-chat","data":"intern"}"#.to_vec(), Expect::Error("user: unknown user")),
        (br#"{"user":"anna","ai":"*","data":"intern"}"#.to_vec(), Expect::Deny),
        (br#"{"user":"anna","ai":"copilot-chat","data":"intern","admin":true}"#.to_vec(), Expect::Error("admin: unknown field")),
        (format!(r#"{{"user":"anna","ai":"copilot-chat","data":[{}"intern"]}}"#, "\"intern\",".repeat(1_000_000)).into_bytes(), Expect::Error("the limit is 2097152 bytes")),
        (json!({"user": "anna", "ai": "copilot-chat", "data": vec!["intern"; 101]}).to_string().into_bytes(), Expect::Error("data: ")),
        (br#"{"user":"anna","ai":"copilot-chat","data":"intern","context":{"humanReview":"true"}}"#.to_vec(), Expect::Error("context.humanReview: expected boolean")),
        (b"   \t ".to_vec(), Expect::Error("blank line")),
        (good.clone(), Expect::Allow),
        (br#"{"user":{"id":"*","roles":[]},"ai":"principal","action":"reportIncident"}"#.to_vec(), Expect::Allow),
        (br#"{"user":"anna","ai":"chatgpt","data":"oppen"}"#.to_vec(), Expect::Allow),
    ];
    let mut input = Vec::new();
    for (i, (line, _)) in lines.iter().enumerate() {
        input.extend_from_slice(line);
        if i + 1 < lines.len() {
            input.push(b'\n'); // the last line has no newline
        }
    }
    let (code, output, stderr) = batch(input);
    let expected: Vec<(usize, &Expect)> = lines
        .iter()
        .enumerate()
        .map(|(i, (_, e))| (i + 1, e))
        .collect();
    assert_eq!(
        output.len(),
        expected.len(),
        "one output line per input line"
    );
    for ((number, expect), decision) in expected.iter().zip(&output) {
        let verdict = decision["decision"].as_str().unwrap();
        let errors = decision["errors"].as_array().unwrap();
        match expect {
            Expect::Allow => {
                assert_eq!(verdict, "allow", "line {number}: {decision}");
                assert!(errors.is_empty());
            }
            Expect::Deny => {
                assert_eq!(verdict, "deny", "line {number}: {decision}");
                assert!(errors.is_empty(), "line {number}: {decision}");
                let reasons = decision["reasons"].as_array().unwrap();
                assert!(
                    reasons
                        .iter()
                        .any(|r| r["policy"] == "u3-public-ai-open-only"),
                    "line {number}: {decision}"
                );
            }
            Expect::Error(needle) => {
                assert_eq!(verdict, "deny", "line {number}: {decision}");
                assert_eq!(decision["reasons"][0]["policy"], "aipolicy-invalid-query");
                let first = errors[0].as_str().unwrap();
                assert!(
                    first.starts_with(&format!("line {number}: ")) && first.contains(needle),
                    "line {number}: expected `{needle}` in {first:.300}"
                );
                assert!(first.len() < 2_000, "the error does not echo a huge line");
            }
        }
    }
    assert_eq!(code, Some(2), "input errors make exit code 2");
    let input_errors = expected
        .iter()
        .filter(|(_, e)| matches!(e, Expect::Error(_)))
        .count();
    assert!(
        stderr.contains(&format!("{input_errors} of {} line(s)", expected.len())),
        "{stderr}"
    );
}

const OPEN_DATA: &str = r#"{"user":"anna","ai":"chatgpt","data":"oppen"}"#;
const LEVEL_4: &str = r#"{"user":"anna","ai":"copilot-chat","data":"sakerhetsskydd"}"#;

/// Each output line's verdict and first error (empty for none).
fn verdicts(output: &[Value]) -> Vec<(String, String)> {
    output
        .iter()
        .map(|d| {
            (
                d["decision"].as_str().unwrap().to_string(),
                d["errors"][0]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(300)
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn a_batch_line_over_the_limit_is_an_input_error_whatever_it_holds() {
    let spaces = " ".repeat(MAX_QUERY_BYTES + 1_000);
    // Spaces past the limit, then a level-4 query: one line, never skipped as blank, never
    // decided.
    let input = format!("{OPEN_DATA}\n{spaces}{LEVEL_4}\n{OPEN_DATA}\n");
    let (code, output, _) = batch(input.into_bytes());
    let got = verdicts(&output);
    assert_eq!(got.len(), 3, "three lines in, three out: {got:?}");
    assert_eq!(got[0].0, "allow");
    assert_eq!(got[1].0, "deny");
    let length = MAX_QUERY_BYTES + 1_000 + LEVEL_4.len();
    assert_eq!(
        got[1].1,
        format!("line 2: query is {length} bytes; the limit is {MAX_QUERY_BYTES} bytes (2 MiB)")
    );
    assert_eq!(got[2].0, "allow");
    assert_eq!(code, Some(2));
    // A good query padded past the limit (75 KB) is no allow: the whole line counts, spaces
    // included, not only what the first 2 MiB held once trimmed.
    for line in [
        format!("{OPEN_DATA}{spaces}garbage"),
        format!("{OPEN_DATA}{spaces}"),
        format!("{spaces}{OPEN_DATA}"),
        format!(
            "{OPEN_DATA}{}",
            " ".repeat(MAX_QUERY_BYTES + 1 - OPEN_DATA.len())
        ),
    ] {
        for end in ["", "\n", "\r\n"] {
            let (code, output, _) = batch(format!("{line}{end}").into_bytes());
            let got = verdicts(&output);
            assert_eq!(got.len(), 1, "{got:?}");
            assert_eq!(got[0].0, "deny", "{got:?}");
            assert!(
                got[0].1.starts_with(&format!(
                    "line 1: query is {} bytes; the limit is",
                    line.len() + usize::from(end == "\r\n")
                )),
                "{got:?}"
            );
            assert_eq!(code, Some(2));
        }
    }
    // Exactly at the limit the line is read (and decided).
    let line = format!(
        "{OPEN_DATA}{}",
        " ".repeat(MAX_QUERY_BYTES - OPEN_DATA.len())
    );
    let (code, output, _) = batch(format!("{line}\n{line}").into_bytes());
    assert_eq!(verdicts(&output), vec![("allow".into(), String::new()); 2]);
    assert_eq!(code, Some(0));
    // `check --query @file` refuses the same text alike.
    let path = temp_file(
        "padded-query.json",
        format!("{OPEN_DATA}{spaces}garbage").as_bytes(),
    );
    let output = common::aipolicy(["check", "--lang", "en", "--query"])
        .arg(format!("@{}", path.display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("the limit is 2097152 bytes"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn long_lines_over_several_chunks_keep_their_order() {
    // 300 lines of 60 KB: several chunks of at most 8 MiB each, one output line per line.
    let pad = |query: &str| format!("{query}{}", " ".repeat(60_000 - query.len()));
    let lines: Vec<String> = (0..300)
        .map(|i| pad(if i % 3 == 0 { LEVEL_4 } else { OPEN_DATA }))
        .collect();
    let (code, output, _) = batch(lines.join("\n").into_bytes());
    let got = verdicts(&output);
    assert_eq!(got.len(), 300);
    for (i, (verdict, error)) in got.iter().enumerate() {
        assert_eq!(
            verdict,
            if i % 3 == 0 { "deny" } else { "allow" },
            "line {}",
            i + 1
        );
        assert!(error.is_empty(), "line {}: {error}", i + 1);
    }
    assert_eq!(code, Some(0));
}

#[test]
fn every_batch_line_gives_one_output_line_blank_lines_included() {
    let input = format!("{OPEN_DATA}\n\n   \n{LEVEL_4}\r\n\n{OPEN_DATA}");
    let (code, output, stderr) = batch(input.into_bytes());
    let got = verdicts(&output);
    assert_eq!(got.len(), 6, "{got:?}");
    assert_eq!(got[0], ("allow".into(), String::new()));
    for (i, blank) in [(1, true), (2, true), (3, false), (4, true)] {
        assert_eq!(got[i].0, "deny", "{got:?}");
        assert_eq!(
            got[i].1.starts_with(&format!("line {}: blank line", i + 1)),
            blank,
            "{got:?}"
        );
    }
    assert!(
        got[3].1.is_empty(),
        "the level-4 query is a plain deny: {got:?}"
    );
    assert_eq!(got[5], ("allow".into(), String::new()));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("3 of 6 line(s)"), "{stderr}");
}

#[test]
fn batch_of_only_good_lines_exits_0_and_truncated_lines_exit_2() {
    let good = r#"{"user":"anna","ai":"copilot-chat","data":"intern"}"#;
    let (code, output, _) = batch(format!("{good}\n{good}\n").into_bytes());
    assert_eq!((code, output.len()), (Some(0), 2));
    // Every cut of a good line, one per line: each an input error, in order.
    let input: Vec<String> = (1..good.len()).map(|i| good[..i].to_string()).collect();
    let (code, output, _) = batch(input.join("\n").into_bytes());
    assert_eq!(code, Some(2));
    assert_eq!(output.len(), input.len());
    for (i, decision) in output.iter().enumerate() {
        assert_eq!(decision["decision"], "deny");
        let first = decision["errors"][0].as_str().unwrap();
        assert!(
            first.starts_with(&format!("line {}: invalid JSON", i + 1)),
            "{first}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Registers
// ------------------------------------------------------------------------------------------

/// A small valid register as JSON, to break one field at a time.
fn base_register() -> Value {
    json!({
        "municipality": "Testby",
        "dataClasses": [
            {"id": "oppen", "name": "Öppen", "level": 0, "personalData": "none", "secrecy": false, "description": "d"},
            {"id": "intern", "name": "Intern", "level": 1, "personalData": "none", "secrecy": false}
        ],
        "aiSystems": [
            {"id": "full", "name": "Full", "hosting": "internal", "approved": true, "status": "active",
             "owner": "IT", "verified": true, "maxDataLevel": 1, "personalData": "none", "secrecy": false,
             "userGroups": ["employee"], "decisionSupport": false, "fairnessAssessed": false,
             "residentFacing": false, "transparencyNotice": false, "accessibilityReviewed": false,
             "description": "d"}
        ],
        "users": [{"id": "emp", "roles": ["employee"], "unit": "IT"}]
    })
}

fn yaml(value: &Value) -> String {
    serde_yaml::to_string(value).unwrap()
}

/// The register's problems, or a panic if it loads.
#[track_caller]
fn register_problems(text: &str) -> Vec<FieldError> {
    match Register::from_yaml(text, "test.yaml") {
        Ok(_) => panic!("expected an invalid register: {}", cut(text)),
        Err(LoadError::Register(RegisterError::Invalid { file, problems })) => {
            assert_eq!(file, "test.yaml");
            assert!(!problems.is_empty());
            problems
        }
        Err(other) => panic!("expected RegisterError::Invalid, got {other:?}"),
    }
}

#[track_caller]
fn assert_register_problem(text: &str, path: &str, needle: &str) {
    let problems = register_problems(text);
    assert!(
        problems
            .iter()
            .any(|p| p.path == path && p.message.contains(needle)),
        "expected a problem at `{path}` containing `{needle}`; got {problems:?}"
    );
}

/// Loading the register fails with some error (syntax or invalid) whose text contains `needle`.
#[track_caller]
fn assert_register_fails(text: &str, needle: &str) {
    match Register::from_yaml(text, "test.yaml") {
        Ok(_) => panic!("expected an error: {}", cut(text)),
        Err(e) => {
            let shown = format!("{e} {e:?}");
            assert!(
                shown.contains(needle),
                "expected `{needle}` in {}",
                cut(&shown)
            );
        }
    }
}

fn with(mut register: Value, pointer: &str, value: Value) -> String {
    *register.pointer_mut(pointer).unwrap() = value;
    yaml(&register)
}

#[test]
fn the_base_register_loads() {
    Register::from_yaml(&yaml(&base_register()), "test.yaml").unwrap();
}

#[test]
fn wrong_types_in_every_register_field_name_the_path() {
    let string = [
        json!(5),
        json!(["x"]),
        json!({"a": 1}),
        json!(null),
        json!(true),
    ];
    let boolean = [
        json!("true"),
        json!(1),
        json!(null),
        json!(["x"]),
        json!("yes"),
    ];
    let level = [
        json!("2"),
        json!(1.5),
        json!(-1),
        json!(5),
        json!(null),
        json!(true),
    ];
    let personal = [json!("some"), json!(1), json!(null), json!(["none"])];
    let mut cases: Vec<(&str, Vec<Value>)> = vec![
        ("/dataClasses/0/id", string.to_vec()),
        ("/dataClasses/0/name", string.to_vec()),
        ("/dataClasses/0/description", string.to_vec()),
        ("/dataClasses/0/level", level.to_vec()),
        ("/dataClasses/0/personalData", personal.to_vec()),
        ("/dataClasses/0/secrecy", boolean.to_vec()),
        ("/aiSystems/0/id", string.to_vec()),
        ("/aiSystems/0/name", string.to_vec()),
        ("/aiSystems/0/owner", string.to_vec()),
        ("/aiSystems/0/description", string.to_vec()),
        (
            "/aiSystems/0/hosting",
            vec![json!("cloud"), json!(1), json!(null), json!(true)],
        ),
        (
            "/aiSystems/0/status",
            vec![json!("paused"), json!(1), json!(null), json!(false)],
        ),
        ("/aiSystems/0/maxDataLevel", level.to_vec()),
        ("/aiSystems/0/personalData", personal.to_vec()),
        (
            "/aiSystems/0/userGroups",
            vec![
                json!("employee"),
                json!(1),
                json!(null),
                json!({"employee": true}),
            ],
        ),
        (
            "/aiSystems/0/userGroups/0",
            vec![json!("admin"), json!(1), json!(null), json!(["employee"])],
        ),
        ("/users/0/id", string.to_vec()),
        (
            "/users/0/roles",
            vec![json!("employee"), json!(1), json!(null)],
        ),
        (
            "/users/0/roles/0",
            vec![json!("admin"), json!(1), json!(null)],
        ),
        (
            "/users/0/unit",
            vec![json!(5), json!(["x"]), json!(null), json!(true)],
        ),
        ("/municipality", string.to_vec()),
        (
            "/dataClasses",
            vec![json!({}), json!("oppen"), json!(null), json!([5])],
        ),
        (
            "/aiSystems",
            vec![json!({}), json!("full"), json!(null), json!([5])],
        ),
        (
            "/users",
            vec![json!({}), json!("emp"), json!(null), json!([5])],
        ),
    ];
    for key in [
        "approved",
        "verified",
        "secrecy",
        "decisionSupport",
        "fairnessAssessed",
        "residentFacing",
        "transparencyNotice",
        "accessibilityReviewed",
    ] {
        cases.push((
            Box::leak(format!("/aiSystems/0/{key}").into_boxed_str()),
            boolean.to_vec(),
        ));
    }
    for (pointer, values) in cases {
        // `/aiSystems/0/userGroups/0` → `aiSystems[0].userGroups[0]`
        let mut path = String::new();
        for part in pointer.trim_start_matches('/').split('/') {
            if part.parse::<usize>().is_ok() {
                path.push_str(&format!("[{part}]"));
            } else {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(part);
            }
        }
        for value in values {
            let text = with(base_register(), pointer, value.clone());
            let problems = register_problems(&text);
            assert!(
                problems
                    .iter()
                    .any(|p| p.path == path || p.path.starts_with(&format!("{path}["))),
                "{pointer} = {value}: expected a problem at `{path}`; got {problems:?}"
            );
        }
    }
}

#[test]
fn levels_out_of_range_or_not_integers_are_errors() {
    for (pointer, path, value, needle) in [
        (
            "/dataClasses/1/level",
            "dataClasses[1].level",
            json!(-1),
            "less than the minimum of 0",
        ),
        (
            "/dataClasses/1/level",
            "dataClasses[1].level",
            json!(5),
            "greater than the maximum of 4",
        ),
        (
            "/dataClasses/1/level",
            "dataClasses[1].level",
            json!(1.5),
            "integer",
        ),
        (
            "/dataClasses/1/level",
            "dataClasses[1].level",
            json!("2"),
            "expected integer",
        ),
        (
            "/dataClasses/1/level",
            "dataClasses[1].level",
            json!(256),
            "greater than the maximum of 4",
        ),
        (
            "/dataClasses/1/level",
            "dataClasses[1].level",
            json!(1e300),
            "greater than the maximum of 4",
        ),
        (
            "/aiSystems/0/maxDataLevel",
            "aiSystems[0].maxDataLevel",
            json!(99),
            "greater than the maximum of 4",
        ),
        (
            "/aiSystems/0/maxDataLevel",
            "aiSystems[0].maxDataLevel",
            json!(-1),
            "less than the minimum of 0",
        ),
        (
            "/aiSystems/0/maxDataLevel",
            "aiSystems[0].maxDataLevel",
            json!(i64::MIN),
            "less than the minimum of 0",
        ),
        (
            "/aiSystems/0/maxDataLevel",
            "aiSystems[0].maxDataLevel",
            json!(u64::MAX),
            "greater than the maximum of 4",
        ),
    ] {
        assert_register_problem(&with(base_register(), pointer, value), path, needle);
    }
    // In YAML as people write it, too.
    for (level, needle) in [
        ("-1", "less than the minimum"),
        ("5", "greater than the maximum"),
        ("1.5", "integer"),
        ("\"2\"", "expected integer"),
        ("'2'", "expected integer"),
        ("two", "expected integer"),
        (".inf", "expected integer"),
        (".nan", "expected integer"),
        ("~", "expected integer"),
    ] {
        let text = format!(
            "dataClasses:\n  - {{id: oppen, name: Öppen, level: {level}, personalData: none, secrecy: false}}\naiSystems: []\n"
        );
        assert_register_problem(&text, "dataClasses[0].level", needle);
    }
    // Too large even for a 64-bit number: YAML's own error, at its path and line.
    let text = "dataClasses:\n  - {id: oppen, name: Öppen, level: 99999999999999999999999, personalData: none, secrecy: false}\naiSystems: []\n";
    assert_register_fails(text, "dataClasses[0].level");
    assert_register_fails(text, "line 2");
}

#[test]
fn a_whole_number_written_as_a_decimal_is_read_as_that_number() {
    // `level: 2.0` is the integer 2 to the JSON Schema; it must load as 2 or fail at its path,
    // never as an error without a path.
    let text = "dataClasses:\n  - {id: x, name: X, level: 2.0, personalData: none, secrecy: false}\naiSystems: []\n";
    match Register::from_yaml(text, "test.yaml") {
        Ok(register) => assert_eq!(register.data_class("x").unwrap().level, 2),
        Err(LoadError::Register(RegisterError::Invalid { problems, .. })) => {
            assert!(
                problems.iter().all(|p| p.path == "dataClasses[0].level"),
                "{problems:?}"
            );
        }
        Err(other) => panic!("{other:?}"),
    }
}

#[test]
fn unknown_fields_in_registers_are_errors_at_their_path() {
    for (pointer, key, path) in [
        ("", "admins", "admins"),
        ("/dataClasses/0", "levle", "dataClasses[0].levle"),
        ("/aiSystems/0", "maxDatalevel", "aiSystems[0].maxDatalevel"),
        ("/aiSystems/0", "allowAll", "aiSystems[0].allowAll"),
        ("/users/0", "role", "users[0].role"),
    ] {
        let mut register = base_register();
        register
            .pointer_mut(pointer)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(key.to_string(), json!(true));
        assert_register_problem(&yaml(&register), path, "unknown field");
    }
}

#[test]
fn duplicate_ids_in_the_register_are_errors() {
    for (list, path) in [
        ("dataClasses", "dataClasses[2].id"),
        ("aiSystems", "aiSystems[1].id"),
        ("users", "users[1].id"),
    ] {
        let mut register = base_register();
        let items = register[list].as_array_mut().unwrap();
        let first = items[0].clone();
        items.push(first);
        assert_register_problem(&yaml(&register), path, "duplicate id");
    }
}

#[test]
fn empty_register_lists() {
    // No data class: nothing could ever be asked about.
    assert_register_problem(
        &with(base_register(), "/dataClasses", json!([])),
        "dataClasses",
        "",
    );
    let mut register = base_register();
    register.as_object_mut().unwrap().remove("aiSystems");
    assert_register_problem(&yaml(&register), "aiSystems", "missing required field");
    // No AI system and no user: every AI is public, every user inline.
    let mut register = base_register();
    register["aiSystems"] = json!([]);
    register["users"] = json!([]);
    let register = Register::from_yaml(&yaml(&register), "test.yaml").unwrap();
    let engine = Engine::builder().register(register).build().unwrap();
    let decide = |query: Value| {
        let query = Query::from_value(query).unwrap();
        engine.decide(&query)
    };
    let employee = json!({"id": "t", "roles": ["employee"]});
    let denied = decide(json!({"user": employee, "ai": "full", "data": "intern"})).unwrap();
    assert!(
        denied.policies().contains(&"u3-public-ai-open-only"),
        "{denied:?}"
    );
    assert!(
        decide(json!({"user": employee, "ai": "full", "data": "oppen"}))
            .unwrap()
            .is_allowed()
    );
    let error = decide(json!({"user": "emp", "ai": "full", "data": "oppen"})).unwrap_err();
    assert_eq!(error.problems[0].path, "user");
}

#[test]
fn an_unknown_role_in_user_groups_is_an_error() {
    let text = with(
        base_register(),
        "/aiSystems/0/userGroups",
        json!(["employee", "admin"]),
    );
    assert_register_problem(
        &text,
        "aiSystems[0].userGroups[1]",
        "\"admin\" is not one of",
    );
    let text = with(
        base_register(),
        "/aiSystems/0/userGroups",
        json!(["employee", "employee"]),
    );
    assert_register_problem(&text, "aiSystems[0].userGroups", "");
}

#[test]
fn register_ids_with_cedar_syntax_nul_or_huge_are_refused_or_plain() {
    for id in [
        r#"x" || true || ""#,
        r#"User::"admin""#,
        "*",
        "a\u{0}b",
        "",
        " x",
    ] {
        for pointer in ["/dataClasses/0/id", "/aiSystems/0/id", "/users/0/id"] {
            let path = pointer.trim_start_matches('/').replacen("/0/", "[0].", 1);
            assert_register_problem(&with(base_register(), pointer, json!(id)), &path, "");
        }
    }
    let huge = "x".repeat(10 * 1024 * 1024);
    assert_register_problem(
        &with(base_register(), "/dataClasses/0/id", json!(huge)),
        "dataClasses[0].id",
        "is longer than 128 characters",
    );
    let long = "x".repeat(100_000);
    for pointer in [
        "/aiSystems/0/id",
        "/users/0/id",
        "/aiSystems/0/name",
        "/aiSystems/0/owner",
        "/users/0/unit",
    ] {
        let path = pointer.trim_start_matches('/').replacen("/0/", "[0].", 1);
        assert_register_problem(
            &with(base_register(), pointer, json!(long)),
            &path,
            "longer than",
        );
    }
    // `principal` is a valid id, and only an id.
    let mut register = base_register();
    register["aiSystems"][0]["id"] = json!("principal");
    register["users"][0]["id"] = json!("principal");
    let register = Register::from_yaml(&yaml(&register), "test.yaml").unwrap();
    let engine = Engine::builder().register(register).build().unwrap();
    let query =
        Query::from_json(r#"{"user": "principal", "ai": "principal", "data": "intern"}"#).unwrap();
    assert!(engine.decide(&query).unwrap().is_allowed());
    let query =
        Query::from_json(r#"{"user": "principal", "ai": "resource", "data": "intern"}"#).unwrap();
    assert_eq!(engine.decide(&query).unwrap().decision, Verdict::Deny);
}

#[test]
fn a_huge_array_in_a_register_is_refused_at_its_path() {
    // 1,001 data classes: over the schema's 1,000.
    let mut register = base_register();
    register["dataClasses"] = Value::Array(
        (0..1_001)
            .map(|i| json!({"id": format!("c{i}"), "name": "C", "level": 0, "personalData": "none", "secrecy": false}))
            .collect(),
    );
    assert_register_problem(&yaml(&register), "dataClasses", "more than 1000 items");
    // A user with a million roles.
    let text = format!(
        "dataClasses: [{{id: x, name: X, level: 0, personalData: none, secrecy: false}}]\naiSystems: []\nusers: [{{id: u, roles: [{}]}}]\n",
        "employee, ".repeat(100_000)
    );
    assert_register_problem(&text, "users[0].roles", "");
}

#[test]
fn deeply_nested_yaml_is_refused_with_the_limit() {
    let limit = format!("the limit is {MAX_REGISTER_DEPTH}");
    for text in [
        "[".repeat(3_000_000),
        format!("{}{}", "[".repeat(3_000_000), "]".repeat(100_000)),
        format!("dataClasses: {}\naiSystems: []\n", "{a: ".repeat(10_000)),
        format!(
            "dataClasses: {}x{}\naiSystems: []\n",
            "[".repeat(MAX_REGISTER_DEPTH),
            "]".repeat(MAX_REGISTER_DEPTH)
        ),
        // Block style, one level per line.
        (0..200)
            .map(|i| format!("{}a:\n", "  ".repeat(i)))
            .collect::<String>(),
        (0..200)
            .map(|i| format!("{}-\n", "  ".repeat(i)))
            .collect::<String>(),
    ] {
        match Register::from_yaml(&text, "test.yaml") {
            Err(LoadError::Register(RegisterError::Invalid { problems, .. })) => {
                assert_eq!(problems[0].path, "");
                assert!(problems[0].message.contains(&limit), "{problems:?}");
            }
            other => panic!("expected the nesting limit, got {other:?}"),
        }
    }
    // Unclosed nesting below the limit is a syntax error with its place.
    assert_register_fails(&"[".repeat(5), "not valid YAML");
}

/// "Billion laughs": nine levels of nine aliases each.
fn billion_laughs(tail: &str) -> String {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let prev = format!("*a{}", level - 1);
        text.push_str(&format!(
            "a{level}: &a{level} [{}]\n",
            [prev.as_str(); 9].join(", ")
        ));
    }
    text.push_str(tail);
    text
}

/// One anchor of `n` values and `n` aliases to it: n² values, which serde_yaml's own
/// repetition limit (100 alias jumps per event) lets through.
fn quadratic_bomb(n: usize, key: &str) -> String {
    format!(
        "a: &a [{}]\n{key}: [{}]\n",
        vec!["x"; n].join(","),
        vec!["*a"; n].join(",")
    )
}

#[test]
fn yaml_alias_bombs_in_a_register_are_refused() {
    let text = billion_laughs("dataClasses: *a9\naiSystems: []\n");
    assert!(Register::from_yaml(&text, "test.yaml").is_err());
    assert_register_fails(&text, "limit");
    // Aliases inside the register's own lists.
    let text = billion_laughs("dataClasses: [{id: x, name: X, level: 0, personalData: none, secrecy: false, description: *a9}]\naiSystems: []\n");
    assert_register_fails(&text, "limit");
    // A million values from a 5 kB file: over 16 per byte.
    let text = quadratic_bomb(1_000, "users");
    let limit = text.len() * MAX_REGISTER_VALUES_PER_BYTE;
    let problems = register_problems(&text);
    assert_eq!(
        problems[0].message,
        format!(
            "register has more than {limit} YAML values once its aliases are expanded; the limit is {limit} ({MAX_REGISTER_VALUES_PER_BYTE} per byte of its {} bytes)",
            text.len()
        )
    );
    // Merge keys, which the README allows for variants of a system, are well within it.
    let text = "dataClasses: [{id: x, name: X, level: 0, personalData: none, secrecy: false}]\naiSystems:\n  - &base {id: a, name: A, hosting: internal, approved: true, status: active, maxDataLevel: 1}\n  - {<<: *base, id: b}\n  - {<<: *base, id: c, status: suspended}\n";
    let register = Register::from_yaml(text, "test.yaml").unwrap();
    assert_eq!(register.ai_systems().len(), 3);
    // How fast a bomb is refused is a benchmark's business (benches/limits.rs), not a test's.
}

#[test]
fn register_size_limit_is_checked_before_parsing() {
    let text = format!("dataClasses: []\n#{}\n", "x".repeat(MAX_REGISTER_BYTES));
    let problems = register_problems(&text);
    assert_eq!(
        problems[0].message,
        format!(
            "register is {} bytes; the limit is {MAX_REGISTER_BYTES} bytes",
            text.len()
        )
    );
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aipolicy-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn register_files_that_are_not_utf8_or_too_large_are_refused_with_their_place() {
    let mut bytes = b"dataClasses:\n  - id: oppen\n    name: \xc3\x96ppen \xff\xfe\n".to_vec();
    bytes.extend_from_slice(b"aiSystems: []\n");
    let path = temp_file("latin1-register.yaml", &bytes);
    match Register::from_file(&path) {
        Err(LoadError::Register(RegisterError::Invalid { file, problems })) => {
            assert_eq!(file, path.display().to_string());
            assert_eq!(
                problems[0].message,
                "not valid UTF-8 at line 3 column 17 (byte 44); a register file must be UTF-8 text"
            );
        }
        other => panic!("{other:?}"),
    }
    let big = vec![b'#'; MAX_REGISTER_BYTES + 1];
    let path = temp_file("big-register.yaml", &big);
    match Register::from_file(&path) {
        Err(LoadError::Register(RegisterError::Invalid { problems, .. })) => assert_eq!(
            problems[0].message,
            format!(
                "register is {} bytes; the limit is {MAX_REGISTER_BYTES} bytes",
                MAX_REGISTER_BYTES + 1
            )
        ),
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_file(&path);
    // And through the CLI: exit 2, never a decision.
    let output = common::aipolicy([
        "check",
        "--user",
        "t",
        "--role",
        "employee",
        "--ai",
        "x",
        "--data",
        "oppen",
        "--register",
    ])
    .arg(temp_file("latin1-register-cli.yaml", &bytes))
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty() || !String::from_utf8_lossy(&output.stdout).contains("allow"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("UTF-8"));
}

// ------------------------------------------------------------------------------------------
// Scenario files
// ------------------------------------------------------------------------------------------

#[track_caller]
fn scenario_problems(text: &str) -> Vec<FieldError> {
    match ScenarioFile::parse(text, Path::new("test.yaml")) {
        Err(ScenarioError::Invalid { problems, .. }) => problems,
        other => panic!("expected ScenarioError::Invalid, got {other:?}"),
    }
}

const CASE: &str =
    "  - name: ok\n    query: {user: anna, ai: chatgpt, data: oppen}\n    expect: allow\n";

#[test]
fn the_base_scenario_parses() {
    ScenarioFile::parse(&format!("cases:\n{CASE}"), Path::new("test.yaml")).unwrap();
}

#[test]
fn yaml_alias_bombs_in_a_scenario_file_are_refused() {
    let text = billion_laughs(&format!("cases:\n{CASE}"));
    let error = ScenarioFile::parse(&text, Path::new("test.yaml")).unwrap_err();
    assert!(format!("{error} {error:?}").contains("limit"), "{error:?}");
    let text = billion_laughs("cases:\n  - name: bomb\n    query: *a9\n    expect: error\n");
    let error = ScenarioFile::parse(&text, Path::new("test.yaml")).unwrap_err();
    assert!(format!("{error} {error:?}").contains("limit"), "{error:?}");
    let problems = scenario_problems(&quadratic_bomb(1_000, "cases"));
    assert!(
        problems[0]
            .message
            .contains("once its aliases are expanded; the limit is"),
        "{problems:?}"
    );
}

#[test]
fn deeply_nested_scenario_yaml_is_refused() {
    for text in [
        "[".repeat(3_000_000),
        format!(
            "cases:\n  - name: deep\n    query: {}x{}\n    expect: error\n",
            "[".repeat(MAX_SCENARIO_DEPTH),
            "]".repeat(MAX_SCENARIO_DEPTH)
        ),
    ] {
        let problems = scenario_problems(&text);
        assert!(
            problems[0]
                .message
                .contains(&format!("the limit is {MAX_SCENARIO_DEPTH}")),
            "{problems:?}"
        );
    }
}

#[test]
fn scenario_files_too_large_not_utf8_or_with_unknown_fields_are_refused() {
    let text = format!("cases:\n{CASE}#{}\n", "x".repeat(MAX_SCENARIO_BYTES));
    let problems = scenario_problems(&text);
    assert_eq!(
        problems[0].message,
        format!(
            "scenario file is {} bytes; the limit is {MAX_SCENARIO_BYTES} bytes",
            text.len()
        )
    );
    let path = temp_file("latin1-scenario.yaml", b"cases:\n  - name: \xe5\n");
    match ScenarioFile::load(&path) {
        Err(ScenarioError::Invalid { problems, .. }) => assert!(
            problems[0]
                .message
                .starts_with("not valid UTF-8 at line 2 column 11"),
            "{problems:?}"
        ),
        other => panic!("{other:?}"),
    }
    for (text, path) in [
        (format!("cases:\n{CASE}extra: 1\n"), "extra"),
        (format!("cases:\n{CASE}    skip: true\n"), "cases[0].skip"),
        (
            "cases:\n  - name: x\n    query: {}\n    expect: {decision: allow, because: x}\n"
                .to_string(),
            "cases[0].expect.because",
        ),
    ] {
        let problems = scenario_problems(&text);
        assert!(
            problems
                .iter()
                .any(|p| p.path == path && p.message.contains("unknown field")),
            "{path}: {problems:?}"
        );
    }
    // A case's query with wrong types and Cedar lookalikes runs as an input error or a deny.
    let text = "cases:\n  - name: odd\n    query: {user: 5, ai: '*', data: [intern]}\n    expect: error\n  - name: cedar\n    query: {user: anna, ai: 'x\" || true || \"', data: intern}\n    expect: deny\n";
    let file = ScenarioFile::parse(text, Path::new("test.yaml")).unwrap();
    let results = aipolicy::scenario::run_file(engine(), &file);
    assert!(results.iter().all(|r| r.passed()), "{results:?}");
}

// ------------------------------------------------------------------------------------------
// Policy files
// ------------------------------------------------------------------------------------------

/// A policy of the bundled schema's vocabulary, `@id("{id}")`, with `body` as its condition.
fn policy_text(id: &str, body: &str) -> String {
    format!(
        "@id(\"{id}\")\n@paragraph(\"U3\")\n@sv(\"x\")\n@en(\"x\")\nforbid (principal, action in Action::\"anyUse\", resource)\nwhen {{ {body} }};\n"
    )
}

fn policy_file(name: &str, text: String) -> aipolicy::PolicyFile {
    aipolicy::PolicyFile {
        name: name.to_string(),
        text: text.into(),
    }
}

#[test]
fn many_policies_in_one_file_each_get_their_own_place() {
    // 3,000 policies in one file: each rule's line is where its `@id` is written (found in
    // one pass over the file, not by searching the whole file once per policy).
    let policies: Vec<String> = (0..3_000)
        .map(|i| policy_text(&format!("p{i}"), &format!("context.data.level > {}", i % 4)))
        .collect();
    let loaded =
        aipolicy::Policies::from_files(vec![policy_file("many.cedar", policies.concat())]).unwrap();
    assert_eq!(loaded.rules().len(), 3_000);
    for (i, rule) in loaded.rules().iter().enumerate() {
        assert_eq!(
            (&*rule.id, rule.line),
            (format!("p{i}").as_str(), 6 * i + 1)
        );
    }
    // The same policy twice: the duplicate is the second copy, and the error points at it
    // (a search of the whole file found the first copy for both).
    let twice = format!("{}\n{}", policies[0], policies[0]);
    let Err(LoadError::Policies(problems)) =
        aipolicy::Policies::from_files(vec![policy_file("twice.cedar", twice)])
    else {
        panic!("a duplicate id is an error")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].message.contains("duplicate policy id `p0`"),
        "{problems:?}"
    );
    assert_eq!(
        problems[0].line_column(),
        Some((8, 1)),
        "{}",
        problems[0].headline()
    );
}

/// A copy of the bundled policies with one more file, `deep.cedar`, holding `text`.
fn policies_with(name: &str, text: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("aipolicy-bad-input-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in
        std::fs::read_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("policies"))
            .unwrap()
    {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "cedar") {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(dir.join("deep.cedar"), text).unwrap();
    dir
}

/// `aipolicy ARGS… --policies DIR` with `stdin`: exit code and stderr.
fn run_with_policies(args: &[&str], dir: &Path, stdin: &str) -> (Option<i32>, String) {
    let output = common::output(common::aipolicy(args).arg("--policies").arg(dir), stdin);
    (output.status.code(), common::text(&output.stderr))
}

#[test]
fn deeply_nested_policies_are_refused_with_their_place_never_a_crash() {
    use aipolicy::policies::MAX_POLICY_NESTING;
    let header = "@id(\"deep\")\n@paragraph(\"U3\")\n@sv(\"x\")\n@en(\"x\")\nforbid (principal, action, resource)\n";
    let deep = [
        (
            "parens-582",
            format!(
                "when {{ {}context.data.level > 3{} }};",
                "(".repeat(582),
                ")".repeat(582)
            ),
        ),
        (
            "parens-100k",
            format!(
                "when {{ {}context.data.level > 3{} }};",
                "(".repeat(100_000),
                ")".repeat(100_000)
            ),
        ),
        (
            "ifs-5000",
            format!(
                "when {{ {}true{} }};",
                "if true then ".repeat(5_000),
                " else false".repeat(5_000)
            ),
        ),
        (
            "set-10000",
            format!(
                "when {{ {}1{}.contains([1]) }};",
                "[".repeat(10_000),
                "]".repeat(10_000)
            ),
        ),
        (
            "and-100k",
            format!("when {{ {}true }};", "true && ".repeat(100_000)),
        ),
        ("unclosed", format!("when {{ {}", "(".repeat(500_000))),
    ];
    for (name, body) in &deep {
        let dir = policies_with(name, &format!("{header}{body}\n"));
        let file = dir.join("deep.cedar").display().to_string();
        let expected = format!("{file}:6:");
        for (args, exit) in [
            (&["validate", "--format", "json"][..], 1),
            (
                &[
                    "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen",
                ][..],
                2,
            ),
            (&["batch"][..], 2),
        ] {
            let (code, stderr) = run_with_policies(args, &dir, &format!("{OPEN_DATA}\n"));
            assert_eq!(code, Some(exit), "{name} {args:?}: {stderr:.2000}");
            if args[0] != "validate" {
                assert!(
                    stderr.contains(&format!("policy nests deeper than {MAX_POLICY_NESTING} levels here; the limit is {MAX_POLICY_NESTING}")),
                    "{name} {args:?}: {stderr:.2000}"
                );
                assert!(stderr.contains("deep.cedar:6:"), "{name}: {stderr:.2000}");
            }
        }
        // Through the library: the error names the file, line and column.
        let Err(LoadError::Policies(problems)) = aipolicy::Policies::from_dir(&dir) else {
            panic!("{name}: deep policies load")
        };
        assert!(
            problems[0].headline().starts_with(&expected),
            "{}",
            problems[0].headline()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The deepest condition of `kind` that loads: the largest `n` whose policy is not refused.
fn deepest_loading(kind: impl Fn(usize) -> String) -> String {
    let loads = |n: usize| {
        let text = policy_text("deep", &kind(n));
        !matches!(
            aipolicy::Policies::from_files(vec![policy_file("deep.cedar", text)]),
            Err(LoadError::Policies(p)) if p[0].message.contains("nests deeper")
        )
    };
    let (mut low, mut high) = (1, 1_000);
    assert!(loads(low) && !loads(high));
    while high - low > 1 {
        let mid = (low + high) / 2;
        if loads(mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    kind(low)
}

#[test]
fn cedar_validates_and_evaluates_the_deepest_policy_accepted_on_a_small_stack() {
    type Kind = (&'static str, fn(usize) -> String);
    let kinds: [Kind; 5] = [
        ("parentheses", |n| {
            format!("{}context.data.level > 3{}", "(".repeat(n), ")".repeat(n))
        }),
        ("nested if", |n| {
            format!(
                "{}context.data.level > 3{}",
                "if true then ".repeat(n),
                " else false".repeat(n)
            )
        }),
        ("&& chain", |n| {
            format!(
                "{}context.data.level > 3",
                "context.data.level > 3 && ".repeat(n)
            )
        }),
        ("|| chain", |n| {
            format!(
                "{}context.data.level > 3",
                "context.data.level > 4 || ".repeat(n)
            )
        }),
        ("+ chain", |n| {
            format!("context.data.level{} > 3", " + 0".repeat(n))
        }),
    ];
    for (name, kind) in kinds {
        let mut files: Vec<aipolicy::PolicyFile> = aipolicy::policies::BUNDLED_POLICY_FILES
            .iter()
            .map(|(n, t)| policy_file(n, t.to_string()))
            .collect();
        files.push(policy_file(
            "deep.cedar",
            policy_text("deep-forbid", &deepest_loading(kind)),
        ));
        // A service's worker thread: 2 MiB of stack. Loading, validating and deciding there
        // must not overflow; the decision is the deep forbid's.
        let decided = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                let policies = aipolicy::Policies::from_files(files).unwrap();
                let engine = Engine::new(
                    policies,
                    aipolicy::policies::bundled_schema().unwrap(),
                    Register::bundled().unwrap(),
                )
                .unwrap();
                let query = |data: &str| {
                    Query::new(
                        UserRef::inline("t", [Role::Employee]),
                        "lokal-sprakmodell",
                        [data],
                    )
                };
                let high = engine.decide(&query("sakerhetsskydd")).unwrap();
                let open = engine.decide(&query("oppen")).unwrap();
                (high, open)
            })
            .unwrap()
            .join()
            .unwrap();
        let (high, open) = decided;
        assert_eq!(high.decision, Verdict::Deny, "{name}");
        assert!(high.errors.is_empty(), "{name}: {high:?}");
        assert!(high.policies().contains(&"deep-forbid"), "{name}: {high:?}");
        assert!(
            !open.policies().contains(&"deep-forbid"),
            "{name}: {open:?}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Nesting at the size limits, readers capped at their limits, messages
// ------------------------------------------------------------------------------------------

#[test]
fn deep_yaml_nesting_within_the_size_limits_is_a_depth_error() {
    // Flow nesting made serde_yaml's work grow with its square (200,000 `[` took 38 s); the
    // streaming check refuses it at the first level over the limit, whatever the file's size.
    // (How long that takes is measured in `benches/limits.rs`, not asserted here.)
    let depth = format!("the limit is {MAX_REGISTER_DEPTH}");
    let room = MAX_REGISTER_BYTES - 100;
    for text in [
        format!("municipality: {}\n", "[".repeat(1_000_000)),
        format!("municipality: {}\n", "[".repeat(room)),
        format!("municipality: {}\n", "{a: ".repeat(room / 4)),
        format!("municipality:\n{}x\n", "- ".repeat(room / 2)),
        format!("{}x\n", "? ".repeat(room / 2)),
    ] {
        let problems = register_problems(&text);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].message,
            format!(
                "register nests lists and maps more than {MAX_REGISTER_DEPTH} levels deep; {depth}"
            ),
            "{}",
            cut(&text)
        );
    }
    // Empty lists at the size limit: refused by the value count before anything is built.
    let text = format!("municipality: [{}]\n", "[],".repeat(room / 3));
    let problems = register_problems(&text);
    assert_eq!(
        problems[0].message,
        format!(
            "register has more than {MAX_REGISTER_VALUES} YAML values once its aliases are expanded; the limit is {MAX_REGISTER_VALUES}"
        )
    );
    // Scenario files alike.
    let room = MAX_SCENARIO_BYTES - 100;
    for text in [
        format!("cases: {}\n", "[".repeat(room)),
        format!("cases: {}\n", "{a: ".repeat(room / 4)),
    ] {
        let problems = scenario_problems(&text);
        assert_eq!(
            problems[0].message,
            format!(
                "scenario file nests lists and maps more than {MAX_SCENARIO_DEPTH} levels deep; the limit is {MAX_SCENARIO_DEPTH}"
            )
        );
    }
}

#[test]
fn a_yaml_key_given_twice_points_at_the_second_one() {
    let text = "dataClasses: []\naiSystems: []\nusers: []\ndataClasses: []\n";
    match Register::from_yaml(text, "dup.yaml") {
        Err(LoadError::Register(RegisterError::Syntax { diagnostics, .. })) => assert_eq!(
            diagnostics[0].headline(),
            "dup.yaml:4:1: duplicate entry with key \"dataClasses\" (first at line 1); a map gives each key once"
        ),
        other => panic!("{other:?}"),
    }
    let text = "cases:\n  - name: a\n    query: {user: anna, ai: chatgpt, data: oppen}\n    expect: allow\n    name: b\n";
    match ScenarioFile::parse(text, Path::new("dup.yaml")) {
        Err(ScenarioError::Syntax { diagnostics, .. }) => {
            assert!(diagnostics[0]
                .headline()
                .starts_with("dup.yaml:5:5: duplicate entry with key \"name\""))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_utf8_byte_order_mark_is_skipped() {
    let bom = "\u{feff}";
    let register = format!("{bom}{}", yaml(&base_register()));
    Register::from_yaml(&register, "bom.yaml").unwrap();
    let path = temp_file("bom-register.yaml", register.as_bytes());
    Register::from_file(&path).unwrap();
    ScenarioFile::parse(&format!("{bom}cases:\n{CASE}"), Path::new("bom.yaml")).unwrap();
    assert_allowed(&format!("{bom}{OPEN_DATA}"));
    let path = temp_file("bom-query.json", format!("{bom}{OPEN_DATA}").as_bytes());
    let output = common::aipolicy(["check", "--format", "json", "--query"])
        .arg(format!("@{}", path.display()))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (code, output, _) = batch(format!("{bom}{OPEN_DATA}\n{OPEN_DATA}\n").into_bytes());
    assert_eq!(verdicts(&output), vec![("allow".into(), String::new()); 2]);
    assert_eq!(code, Some(0));
}

#[test]
fn a_list_over_its_limit_is_told_by_its_count() {
    let mut register = base_register();
    register["dataClasses"] = Value::Array(
        (0..1_001)
            .map(|i| json!({"id": format!("c{i}"), "name": "C", "level": 0, "personalData": "none", "secrecy": false}))
            .collect(),
    );
    let problems = register_problems(&yaml(&register));
    assert_eq!(problems[0].path, "dataClasses");
    assert_eq!(
        problems[0].message,
        "has 1001 items, more than 1000 items; the limit is 1000"
    );
}

/// `aipolicy ARGS…` with `stdin` written from another thread (until the reader stops, at most
/// `stdin_bytes`, in blocks of `block`): exit code and stderr.
fn run_streaming(args: &[&str], block: &'static [u8], stdin_bytes: usize) -> (Option<i32>, String) {
    let output = common::output_fed(&mut common::aipolicy(args), move |mut stdin| {
        let mut written = 0;
        while written < stdin_bytes && stdin.write_all(block).is_ok() {
            written += block.len();
        }
    });
    (
        output.status.code(),
        flat(&String::from_utf8_lossy(&output.stderr)),
    )
}

/// A report as one line: miette's frame characters dropped, line breaks and runs of spaces as
/// one space (it wraps long messages at the terminal's width).
fn flat(report: &str) -> String {
    report
        .replace(['│', '×', '╭', '╰', '─', '·', '▲', '┬'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn endless_inputs_are_read_only_up_to_their_limit() {
    let check = [
        "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen",
    ];
    // `--query @/dev/zero` and `--query -` from an endless stream (1 GiB offered).
    let (code, stderr) = run_streaming(&["check", "--query", "@/dev/zero"], b"", 0);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("frågefilen `/dev/zero` fortsätter förbi gränsen: läsningen slutade efter 2097153 byte; gränsen är 2097152 byte"),
        "{stderr}"
    );
    let (code, stderr) = run_streaming(&["check", "--query", "@/dev/zero", "--lang", "en"], b"", 0);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("query file `/dev/zero` goes on past the limit: reading stopped after 2097153 bytes; the limit is 2097152 bytes"),
        "{stderr}"
    );
    static SPACES: [u8; 1 << 16] = [b' '; 1 << 16];
    let (code, stderr) =
        run_streaming(&["check", "--query", "-", "--lang", "en"], &SPACES, 1 << 30);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the query on stdin goes on past the limit"),
        "{stderr}"
    );
    // `--register /dev/zero` names what was read, not "0 bytes".
    let mut args = check.to_vec();
    args.extend(["--register", "/dev/zero"]);
    let (code, stderr) = run_streaming(&args, b"", 0);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("register `/dev/zero` goes on past the limit: reading stopped after {} bytes; the limit is {MAX_REGISTER_BYTES} bytes", MAX_REGISTER_BYTES + 1)),
        "{stderr}"
    );
    // `--schema /dev/zero`.
    let mut args = check.to_vec();
    args.extend(["--schema", "/dev/zero"]);
    let (code, stderr) = run_streaming(&args, b"", 0);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("schema `/dev/zero` goes on past the limit"),
        "{stderr}"
    );
    // A `.cedar` symlink to `/dev/zero` in the policy folder, for every command that reads it.
    let dir = policies_with("zero", "");
    std::fs::remove_file(dir.join("deep.cedar")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.cedar")).unwrap();
    for args in [&check[..], &["validate"][..], &["fmt", "--check"][..]] {
        let mut args = args.to_vec();
        let dir = dir.display().to_string();
        if args[0] == "fmt" {
            args.push(&dir);
        } else {
            args.extend(["--policies", &dir]);
        }
        let (code, stderr) = run_streaming(&args, b"", 0);
        assert!(matches!(code, Some(1 | 2)), "{args:?}: {code:?} {stderr}");
        assert!(stderr.contains("zero.cedar"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("the limit is 1048576 bytes"),
            "{args:?}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_deeply_nested_schema_is_refused_with_its_place() {
    use aipolicy::policies::MAX_SCHEMA_NESTING;
    let schema = format!(
        "{}\ntype Deep = {}Long{};\n",
        aipolicy::policies::BUNDLED_SCHEMA,
        "{a: ".repeat(10_000),
        "}".repeat(10_000)
    );
    let path = temp_file("deep.cedarschema", schema.as_bytes());
    let line = schema.lines().count();
    for args in [
        &["validate"][..],
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen",
        ][..],
    ] {
        let output = common::aipolicy(args)
            .arg("--schema")
            .arg(&path)
            .output()
            .unwrap();
        let stderr = flat(&String::from_utf8_lossy(&output.stderr));
        assert!(matches!(output.status.code(), Some(1 | 2)), "{stderr}");
        assert!(
            stderr.contains(&format!("schema nests deeper than {MAX_SCHEMA_NESTING} levels here; the limit is {MAX_SCHEMA_NESTING}")),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("deep.cedarschema:{line}:")),
            "{stderr}"
        );
    }
}

#[test]
fn a_deeply_nested_invariant_condition_is_refused_never_a_crash() {
    let text = format!(
        "actions:\n  alwaysAllowed: []\n  alwaysDenied: []\ninvariants:\n  - id: deep\n    paragraph: U3\n    kind: never\n    sv: x\n    en: x\n    when: \"{}true{}\"\n",
        "(".repeat(5_000),
        ")".repeat(5_000)
    );
    match aipolicy::invariants::Invariants::from_yaml(&text, "deep.yaml") {
        Err(aipolicy::invariants::InvariantsError::Invalid { problems, .. }) => {
            assert_eq!(problems[0].path, "invariants[0].when");
            assert!(
                problems[0].message.contains("nests deeper than 200 levels"),
                "{problems:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let deep_yaml = format!("invariants: {}\n", "[".repeat(1_000_000));
    match aipolicy::invariants::Invariants::from_yaml(&deep_yaml, "deep.yaml") {
        Err(aipolicy::invariants::InvariantsError::Invalid { problems, .. }) => {
            assert!(
                problems[0].message.contains("the limit is 32"),
                "{problems:?}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn registers_over_the_user_or_ai_system_count_are_refused_by_count() {
    // The counts that bound a register's memory at load (see `benches/limits.rs`).
    let mut text = String::from(
        "dataClasses: [{id: x, name: X, level: 0, personalData: none, secrecy: false}]\naiSystems:\n",
    );
    for i in 0..10_001 {
        text.push_str(&format!(
            "  - {{id: a{i}, name: A, hosting: internal, approved: true, status: active, maxDataLevel: 1}}\n"
        ));
    }
    text.push_str("users:\n");
    for i in 0..100_001 {
        text.push_str(&format!("  - {{id: u{i}, roles: []}}\n"));
    }
    let problems = register_problems(&text);
    let messages: Vec<String> = problems
        .iter()
        .map(|p| p.clone().at_line(None).to_string())
        .collect();
    assert!(
        messages.contains(
            &"aiSystems: has 10001 items, more than 10000 items; the limit is 10000".to_string()
        ),
        "{messages:?}"
    );
    assert!(
        messages.contains(
            &"users: has 100001 items, more than 100000 items; the limit is 100000".to_string()
        ),
        "{messages:?}"
    );
}
