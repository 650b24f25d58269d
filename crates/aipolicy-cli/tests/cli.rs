//! The `aipolicy` binary as a user runs it: from a directory outside the project (the
//! embedded default must work anywhere), with exit codes 0 allow, 1 deny, 2 input error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;

fn aipolicy(dir: &Path, args: &[&str], stdin: &str) -> Output {
    common::output(common::aipolicy(args).current_dir(dir), stdin)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn public_chatbot_with_internal_information_is_denied_by_u3_from_any_directory() {
    let dir = common::workdir("cli", "u3");
    let query =
        r#"{"user":{"id":"t","roles":["employee"]},"ai":"some-public-chatbot","data":"intern"}"#;
    let output = aipolicy(&dir, &["check", "--query", query, "--format", "json"], "");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(decision["decision"], "deny");
    let paragraphs: Vec<&str> = decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["paragraph"].as_str().unwrap())
        .collect();
    assert!(paragraphs.contains(&"U3"), "{decision}");
    assert_eq!(decision["errors"], Value::Array(vec![]));

    let query = query.replace("intern", "oppen");
    let output = aipolicy(&dir, &["check", "--query", &query, "--format", "json"], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(decision["decision"], "allow");
    assert!(
        decision["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["paragraph"] == "U1"),
        "{decision}"
    );
}

#[test]
fn text_output_is_for_a_person() {
    let dir = common::workdir("cli", "text");
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "intern",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.starts_with("NEKAT (deny)\nSkäl:\n"), "{text}");
    assert!(text.contains("U3  Publik AI får bara användas för information som är klassad som öppen.  [u3-public-ai-open-only]"), "{text}");

    let output = aipolicy(
        &dir,
        &[
            "check",
            "--user",
            "t",
            "--role",
            "employee",
            "--ai",
            "copilot-chat",
            "--data",
            "intern",
            "--lang",
            "en",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "ALLOWED (allow)\nDuties:\n  §6  The municipality has no record of your AI training"
        ),
        "{text}"
    );
}

#[test]
fn flags_for_actions_and_context() {
    let dir = common::workdir("cli", "flags");
    let base = [
        "check",
        "--user",
        "bertil",
        "--ai",
        "lokal-sprakmodell",
        "--data",
        "socialtjanstarende",
        "--action",
        "decide",
    ];
    let denied = aipolicy(&dir, &base, "");
    assert_eq!(denied.status.code(), Some(1));
    assert!(stdout(&denied).contains("s6-human-review-of-decisions"));
    let mut args = base.to_vec();
    args.extend(["--context", "humanReview=true"]);
    assert_eq!(aipolicy(&dir, &args, "").status.code(), Some(0));
    let mut args = base.to_vec();
    args.extend(["--context", "humanReview=maybe"]);
    let bad = aipolicy(&dir, &args, "");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("context.humanReview"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn input_errors_exit_2_and_name_the_field() {
    let dir = common::workdir("cli", "input");
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "hemligt",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
    // In the answer's language: Swedish by default, English with --lang en; never both.
    let said = stderr(&output);
    assert!(
        said.contains("ogiltig fråga: data[0]: okänd informationsklass `hemligt`"),
        "{said}"
    );
    assert!(
        !said.contains("unknown") && !said.contains("expected"),
        "{said}"
    );
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "hemligt", "--lang", "en",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    let said = stderr(&output);
    assert!(
        said.contains("invalid query: data[0]: unknown data class `hemligt`"),
        "{said}"
    );
    assert!(!said.contains("okänd"), "{said}");

    // With --format json the error is also a (non-allow) decision on stdout, for scripts.
    let output = aipolicy(
        &dir,
        &[
            "check",
            "--query",
            r#"{"user":"anna","ai":"x","data":"oppen","action":"delete"}"#,
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(decision["decision"], "deny");
    assert!(
        decision["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("action:"),
        "{decision}"
    );

    for bad in [
        "{",
        "[]",
        r#"{"user":"anna"}"#,
        r#"{"user":"anna","ai":"x","data":[]}"#,
    ] {
        let output = aipolicy(&dir, &["check", "--query", bad], "");
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", stderr(&output));
    }
    let output = aipolicy(
        &dir,
        &["check", "--query", "-"],
        r#"{"user":"anna","ai":"copilot-chat","data":"intern"}"#,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_bad_register_exits_2_with_its_path() {
    let dir = common::workdir("cli", "register");
    std::fs::write(dir.join("bad.yaml"), "dataClasses:\n  - {id: oppen, name: Öppen, level: 9, personalData: none, secrecy: false}\naiSystems: []\n").unwrap();
    let output = aipolicy(
        &dir,
        &[
            "check",
            "--register",
            "bad.yaml",
            "--user",
            "t",
            "--role",
            "employee",
            "--ai",
            "x",
            "--data",
            "oppen",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("dataClasses[0].level"),
        "{}",
        stderr(&output)
    );
    let output = aipolicy(&dir, &["batch", "--register", "missing.yaml"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing.yaml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn batch_keeps_order_and_goes_on_past_a_bad_line() {
    let dir = common::workdir("cli", "batch");
    let input = [
        r#"{"user":"anna","ai":"copilot-chat","data":"intern"}"#,
        r#"{"user":"anna","ai":"chatgpt","data":"intern"}"#,
        "not json",
        "",
        r#"{"user":"anna","ai":"copilot-chat","data":"nope"}"#,
        r#"{"user":"gunilla","ai":"anything","action":"reportIncident"}"#,
    ]
    .join("\n");
    let output = aipolicy(&dir, &["batch", "--lang", "en"], &input);
    assert_eq!(
        output.status.code(),
        Some(2),
        "input errors are reported in the exit code"
    );
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let verdicts: Vec<&str> = lines
        .iter()
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    // One output line per input line, the blank one included (an input error).
    assert_eq!(verdicts, ["allow", "deny", "deny", "deny", "deny", "allow"]);
    for (line, error) in [
        (2, "line 3: invalid JSON"),
        (3, "line 4: blank line"),
        (4, "line 5: data[0]"),
    ] {
        let first = lines[line]["errors"][0].as_str().unwrap_or_default();
        assert!(first.starts_with(error), "{}", lines[line]);
    }
    assert_eq!(lines[4]["reasons"][0]["policy"], "aipolicy-invalid-query");
    assert!(stderr(&output).contains("3 of 6"), "{}", stderr(&output));
}

#[test]
fn batch_decides_for_another_municipalitys_register() {
    let dir = common::workdir("cli", "other");
    let register = common::repo("tests/fixtures/exempelby-register.yaml");
    let input = [
        r#"{"user":"emp","ai":"full","data":"halsa"}"#,
        r#"{"user":"con","ai":"employees-only","data":"intern"}"#,
        r#"{"user":"emp","ai":"public-claims-everything","data":"intern"}"#,
        r#"{"user":"emp","ai":"full","data":"hemlig"}"#,
    ]
    .join("\n");
    let output = aipolicy(
        &dir,
        &["batch", "--register", register.to_str().unwrap()],
        &input,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, String)> = lines
        .iter()
        .map(|d| {
            (
                d["decision"].as_str().unwrap().to_string(),
                d["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["policy"].as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(","),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("allow".to_string(), String::new()),
            ("deny".to_string(), "s3-user-in-user-groups".to_string()),
            ("deny".to_string(), "u3-public-ai-open-only".to_string()),
            (
                "deny".to_string(),
                "s3-data-level-within-approval,s3-no-security-protected-data".to_string()
            ),
        ]
    );
}

#[test]
fn scenario_tests_pass_fail_and_error_with_the_right_exit_codes() {
    let dir = common::workdir("cli", "scenarios");
    let suite = common::repo("tests/scenarios");
    let output = aipolicy(
        &dir,
        &["test", suite.to_str().unwrap(), "--require-full-coverage"],
        "",
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output)
            .lines()
            .any(|l| l.ends_with(" passed, 0 failed")),
        "{}",
        stdout(&output)
    );

    std::fs::write(dir.join("wrong.yaml"), "cases:\n  - name: Public AI with internal information\n    query: {user: anna, ai: chatgpt, data: intern}\n    expect: {decision: allow}\n").unwrap();
    let output = aipolicy(&dir, &["test", "wrong.yaml"], "");
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("FAIL  wrong.yaml:2  Public AI with internal information"),
        "{text}"
    );
    assert!(
        text.contains("expected: allow")
            && text.contains("actual:   deny")
            && text.contains("u3-public-ai-open-only"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "0 passed, 1 failed"), "{text}");

    let output = aipolicy(&dir, &["test", "wrong.yaml", "--format", "junit"], "");
    assert_eq!(output.status.code(), Some(1));
    let junit = stdout(&output);
    assert!(
        junit.contains(
            r#"<testsuites name="aipolicy" tests="1" skipped="0" failures="1" errors="0">"#
        ) && junit.contains(
            r#"<testcase name="Public AI with internal information" classname="wrong.yaml">"#
        ) && junit.contains(r#"<failure message="expected allow, got deny">"#),
        "{junit}"
    );
    assert!(
        stdout(&output).contains("<failure message=\"expected allow, got deny\">"),
        "{}",
        stdout(&output)
    );

    std::fs::write(
        dir.join("broken.yaml"),
        "cases:\n  - name: x\n    query: {user: anna\n",
    )
    .unwrap();
    let output = aipolicy(&dir, &["test", "broken.yaml"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("broken.yaml"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(":4:") || stderr(&output).contains("line 4"),
        "{}",
        stderr(&output)
    );

    std::fs::write(
        dir.join("shape.yaml"),
        "cases:\n  - name: x\n    query: {}\n    expect: maybe\n",
    )
    .unwrap();
    let output = aipolicy(&dir, &["test", "shape.yaml"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cases[0].expect"),
        "{}",
        stderr(&output)
    );

    let output = aipolicy(&dir, &["test"], "");
    assert_eq!(output.status.code(), Some(2), "no tests/scenarios here");
}

#[test]
fn help_teaches() {
    let dir = common::workdir("cli", "help");
    let output = aipolicy(&dir, &["check", "--help"], "");
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for needle in [
        "--user",
        "--data",
        "--context",
        "--query",
        "Examples:",
        "offerToResidents",
    ] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
}

// ---- nothing passes silently ---------------------------------------------------------------

/// Text without whitespace and the frame of a diagnostic, so that a message matches however
/// the terminal renderer wrapped it.
fn flat(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect()
}

fn reasons(decision: &Value) -> Vec<String> {
    decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["paragraph"].as_str().unwrap(),
                r["policy"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_person_who_has_left_gets_no_access_through_a_service_that_remembers_an_old_role() {
    let dir = common::workdir("cli", "gunilla");
    let query = r#"{"user":{"id":"gunilla","roles":["employee"]},"ai":"lokal-sprakmodell","data":"socialtjanstarende"}"#;
    let output = aipolicy(&dir, &["check", "--query", query, "--format", "json"], "");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(decision["decision"], "deny");
    assert!(
        reasons(&decision).contains(&"U0 aipolicy-role-beyond-register".to_string()),
        "{decision}"
    );
    assert!(decision["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("`employee`"));

    let flags = [
        "check",
        "--user",
        "gunilla",
        "--role",
        "employee",
        "--ai",
        "lokal-sprakmodell",
        "--data",
        "socialtjanstarende",
        "--lang",
        "en",
    ];
    let output = aipolicy(&dir, &flags, "");
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("The register does not give the user the role `employee`"),
        "{}",
        stdout(&output)
    );

    let output = aipolicy(&dir, &["batch"], &format!("{query}\n"));
    let decision: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(decision["decision"], "deny", "{decision}");
    assert_eq!(
        decision["reasons"][0]["policy"],
        "aipolicy-role-beyond-register"
    );
}

/// A municipality's own project: the bundled policies copied into `dir/policies`, with a
/// scenario that passes.
fn local_project(name: &str) -> PathBuf {
    let dir = common::workdir("cli", name);
    aipolicy_test_support::copy_policies(&dir.join("policies"));
    std::fs::create_dir_all(dir.join("tests/scenarios")).unwrap();
    std::fs::write(
        dir.join("tests/scenarios/u3.yaml"),
        "cases:\n  - name: Public AI with internal information\n    query: {user: anna, ai: chatgpt, data: intern}\n    expect: {decision: deny, paragraphs: [U3]}\n",
    )
    .unwrap();
    dir
}

#[test]
fn local_policies_win_over_the_embedded_ones_and_a_broken_one_fails_every_command() {
    let dir = local_project("local-wins");
    // A good local project: every command names its files.
    for args in [
        &["validate"][..],
        &["test"],
        &["matrix"],
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen",
        ],
    ] {
        let output = aipolicy(&dir, args, "");
        assert!(
            stderr(&output).starts_with("inputs: policies policies, scenarios tests/scenarios; embedded Askersund schema, register and invariants (project .)"),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}{}",
            stdout(&output),
            stderr(&output)
        );
    }
    // From a folder inside it, the project is found above.
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    let output = aipolicy(
        &dir.join("docs"),
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen",
        ],
        "",
    );
    assert!(
        stderr(&output).starts_with("inputs: policies ../policies, scenarios ../tests/scenarios;"),
        "{}",
        stderr(&output)
    );
    // A rule changed in the local file changes the decision: U3 now allows level 1.
    let u3 = dir.join("policies/u3-publik-ai.cedar");
    let text = std::fs::read_to_string(&u3).unwrap();
    std::fs::write(
        &u3,
        text.replace("context.data.level > 0", "context.data.level > 1"),
    )
    .unwrap();
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "intern", "--format", "json",
        ],
        "",
    );
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(
        !reasons(&decision)
            .iter()
            .any(|r| r.contains("u3-public-ai-open-only")),
        "{decision}"
    );

    // A syntax error in a local policy file: nothing goes green.
    std::fs::write(
        dir.join("policies/broken.cedar"),
        "permit (principal, action, resource) when { ;\n",
    )
    .unwrap();
    for (args, code) in [
        (&["validate"][..], 1),
        (&["test"], 2),
        (&["matrix"], 2),
        (&["trace"], 2),
        (
            &[
                "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen",
            ],
            2,
        ),
        (&["batch"], 2),
    ] {
        let output = aipolicy(&dir, args, "");
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}{}",
            stdout(&output),
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("broken.cedar"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    // Flags still win: the embedded policies are one flag away.
    let output = aipolicy(
        &dir,
        &[
            "validate",
            "--policies",
            common::repo("policies").to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn an_ai_system_not_in_the_register_is_public_ai_and_the_decision_says_so() {
    let dir = common::workdir("cli", "unregistered-ai");
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "copilot", "--data", "oppen", "--format", "json",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let note = decision["notes"][0].as_str().unwrap();
    assert_eq!(
        note,
        "AI-systemet `copilot` finns inte i registret och prövas därför som publik AI (bara öppen information, U3); menade du `copilot-chat`?"
    );
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "copilot", "--data", "oppen", "--format", "json",
            "--lang", "en",
        ],
        "",
    );
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let note = decision["notes"][0].as_str().unwrap();
    assert!(note.contains("`copilot` is not in the register"), "{note}");
    assert!(note.contains("did you mean `copilot-chat`?"), "{note}");
    // The same query with internal information is still a deny, not an input error.
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "copilot", "--data", "intern",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("menade du `copilot-chat`?"),
        "{}",
        stdout(&output)
    );
    // A registered system gets no note.
    let output = aipolicy(
        &dir,
        &[
            "check",
            "--user",
            "anna",
            "--ai",
            "copilot-chat",
            "--data",
            "oppen",
            "--format",
            "json",
        ],
        "",
    );
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(decision.get("notes").is_none(), "{decision}");
}

#[test]
fn batch_echoes_each_lines_request_id_even_for_remembered_decisions_and_input_errors() {
    let dir = common::workdir("cli", "request-id");
    let input = [
        r#"{"user":"anna","ai":"copilot-chat","data":"intern","requestId":"r-1"}"#,
        r#"{"user":"anna","ai":"copilot-chat","data":"intern","requestId":"r-2"}"#,
        r#"{"user":"anna","ai":"copilot-chat","data":"intern"}"#,
        r#"{"user":"anna","ai":"copilot-chat","data":"hemligt","requestId":"r-4"}"#,
        r#"{"user":"anna","ai":"chatgpt","data":"intern","requestId":"r \"5\""}"#,
    ]
    .join("\n");
    let output = aipolicy(&dir, &["batch"], &input);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["requestId"], "r-1");
    assert_eq!(lines[1]["requestId"], "r-2");
    assert_eq!(lines[0]["decision"], "allow");
    assert_eq!(lines[1]["decision"], "allow");
    assert!(lines[2].get("requestId").is_none(), "{}", lines[2]);
    assert_eq!(lines[3]["requestId"], "r-4");
    assert_eq!(lines[3]["reasons"][0]["policy"], "aipolicy-invalid-query");
    assert_eq!(lines[4]["requestId"], "r \"5\"");
    assert_eq!(lines[4]["decision"], "deny");
}

#[test]
fn a_scenario_naming_a_policy_that_does_not_exist_is_an_error_in_the_file() {
    let dir = common::workdir("cli", "scenario-policy-id");
    std::fs::write(
        dir.join("typo.yaml"),
        "cases:\n  - name: Public AI with internal information\n    query: {user: anna, ai: chatgpt, data: intern}\n    expect: {decision: deny, policies: [u3-public-ai-open-onyl]}\n",
    )
    .unwrap();
    let output = aipolicy(&dir, &["test", "typo.yaml"], "");
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        flat(&err).contains(&flat("line 2: cases[0].expect.policies[0]: no policy has the id `u3-public-ai-open-onyl`; did you mean `u3-public-ai-open-only`?")),
        "{err}"
    );
}

#[test]
fn register_errors_at_load_name_file_and_line_and_a_likely_key() {
    let dir = common::workdir("cli", "register-lines");
    std::fs::write(
        dir.join("register.yaml"),
        "dataClasses:\n  - id: oppen\n    level: 0\n    personalData: none\n    secrecy: false\naiSystems:\n  - id: chatgpt\n    hosting: public\n    approved: false\n    maxDatalevel: 0\n",
    )
    .unwrap();
    let output = aipolicy(
        &dir,
        &[
            "check",
            "--register",
            "register.yaml",
            "--user",
            "t",
            "--role",
            "employee",
            "--ai",
            "chatgpt",
            "--data",
            "oppen",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        flat(&err).contains(&flat(
            "line 10: aiSystems[0].maxDatalevel: unknown field; did you mean `maxDataLevel`?"
        )),
        "{err}"
    );
    assert!(
        // Advice points at the binary itself, never at a document a user of it does not have.
        !err.contains(".md") && err.contains("aipolicy schema register"),
        "{err}"
    );
}

#[test]
fn a_register_of_minimal_entries_loads_with_the_least_approvals() {
    let dir = common::workdir("cli", "minimal-register");
    std::fs::write(
        dir.join("register.yaml"),
        "dataClasses:\n  - {id: oppen, level: 0, personalData: none, secrecy: false}\n  - {id: intern, level: 1, personalData: none, secrecy: false}\naiSystems:\n  - {id: chatgpt, name: ChatGPT, hosting: public, approved: false, status: active}\n  - {id: pilot, hosting: internal, approved: true}\n",
    )
    .unwrap();
    let check = |ai: &str, data: &str| {
        let output = aipolicy(
            &dir,
            &[
                "check",
                "--register",
                "register.yaml",
                "--user",
                "t",
                "--role",
                "contractor",
                "--ai",
                ai,
                "--data",
                data,
                "--format",
                "json",
            ],
            "",
        );
        assert_ne!(output.status.code(), Some(2), "{}", stderr(&output));
        serde_json::from_str::<Value>(&stdout(&output)).unwrap()
    };
    assert_eq!(check("chatgpt", "oppen")["decision"], "allow");
    let denied = check("chatgpt", "intern");
    assert!(
        reasons(&denied).contains(&"§3 s3-data-level-within-approval".to_string()),
        "{denied}"
    );
    let pilot = reasons(&check("pilot", "oppen"));
    assert!(
        pilot.contains(&"§2 s2-internal-ai-verified".to_string()),
        "{pilot:?}"
    );
    assert!(
        pilot.contains(&"§6 s6-internal-ai-has-owner".to_string()),
        "{pilot:?}"
    );
}

/// Output that cannot be written (a full disk: `/dev/full`) is exit 3 with the reason, never
/// the input error's 2, for every command that writes a report; a closed pipe stops quietly.
#[test]
fn a_failed_write_exits_3_and_says_what_could_not_be_written() {
    let dir = common::workdir("cli", "full");
    std::fs::write(
        dir.join("queries.jsonl"),
        "{\"user\":\"anna\",\"ai\":\"chatgpt\",\"data\":\"oppen\"}\n",
    )
    .unwrap();
    for (args, what) in [
        (&["batch", "queries.jsonl"][..], "the decisions"),
        (&["schema", "query"][..], "the schema"),
        (
            &[
                "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen",
            ][..],
            "the decision",
        ),
        (&["matrix"][..], "the matrix"),
        (&["validate"][..], "the result"),
    ] {
        let full = std::fs::File::create("/dev/full").expect("/dev/full");
        let output = common::aipolicy(args)
            .current_dir(&dir)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .expect("the binary runs");
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains(&format!("cannot write {what}")),
            "{args:?}: {err}"
        );
    }
}

/// `aipolicy batch | head -1`: a reader that stops early ends the batch quietly, exit 0.
#[test]
fn batch_stops_quietly_when_its_reader_goes_away() {
    use std::io::{BufRead, Write};
    let mut child = common::aipolicy(["batch", "-q"]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let line = "{\"user\":\"anna\",\"ai\":\"chatgpt\",\"data\":\"oppen\"}\n";
        for _ in 0..200_000 {
            if stdin.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("\"decision\":\"allow\""), "{first}");
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
}

/// `--registered-users-only` (and `registered-users-only = true` in aipolicy.toml): `check` and
/// `batch` deny a user the register does not list (U0, `aipolicy-unregistered-user`), and still
/// allow the register's own, however their id is spelt.
#[test]
fn registered_users_only_denies_users_the_register_does_not_list() {
    let dir = common::workdir("cli", "registered-only");
    let stranger =
        r#"{"user":{"id":"tove.extern","roles":["employee"]},"ai":"copilot-chat","data":"intern"}"#;
    let anna = r#"{"user":{"id":"Anna","roles":["employee"]},"ai":"copilot-chat","data":"intern"}"#;

    // Without the flag, an unlisted user is decided on the roles given, and told so.
    let output = aipolicy(
        &dir,
        &["check", "--query", stranger, "--format", "json", "-q"],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let decision: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(decision["notes"][0]
        .as_str()
        .unwrap()
        .starts_with("Användaren `tove.extern` finns inte i registret"));

    let check = |query: &str, extra: &[&str]| {
        let mut args = vec![
            "check", "--query", query, "--format", "json", "--lang", "en",
        ];
        args.extend_from_slice(extra);
        let output = aipolicy(&dir, &args, "");
        let decision: Value = serde_json::from_str(&stdout(&output))
            .unwrap_or_else(|e| panic!("{e}: {}", stderr(&output)));
        (output.status.code(), decision, stderr(&output))
    };
    let (code, decision, err) = check(stranger, &["--registered-users-only"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        decision["reasons"][0]["policy"],
        "aipolicy-unregistered-user"
    );
    assert_eq!(decision["reasons"][0]["paragraph"], "U0");
    assert!(err.contains("; registered users only"), "{err}");
    let (code, decision, _) = check(anna, &["--registered-users-only"]);
    assert_eq!(code, Some(0), "{decision}");
    assert!(decision["notes"][0]
        .as_str()
        .unwrap()
        .starts_with("User `Anna` is the register's `anna`"));

    // The text a person reads gives the reason too.
    let output = aipolicy(
        &dir,
        &[
            "check",
            "--user",
            "tove.extern",
            "--role",
            "employee",
            "--ai",
            "copilot-chat",
            "--data",
            "intern",
            "--registered-users-only",
            "-q",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("[aipolicy-unregistered-user]"),
        "{}",
        stdout(&output)
    );

    // batch: one deny and one allow, in order.
    let lines = format!("{stranger}\n{anna}\n");
    let output = aipolicy(&dir, &["batch", "--registered-users-only", "-q"], &lines);
    let decisions: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(decisions.len(), 2, "{}", stderr(&output));
    assert_eq!(decisions[0]["decision"], "deny");
    assert_eq!(
        decisions[0]["reasons"][0]["policy"],
        "aipolicy-unregistered-user"
    );
    assert_eq!(decisions[1]["decision"], "allow");
    let output = aipolicy(&dir, &["batch", "-q"], &lines);
    assert!(stdout(&output)
        .lines()
        .all(|line| line.contains("\"allow\"")));

    // The project's aipolicy.toml says the same, for every command that decides.
    std::fs::write(dir.join("aipolicy.toml"), "registered-users-only = true\n").unwrap();
    let (code, decision, err) = check(stranger, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        decision["reasons"][0]["policy"],
        "aipolicy-unregistered-user"
    );
    let output = aipolicy(&dir, &["batch", "-q"], &lines);
    assert!(stdout(&output)
        .lines()
        .next()
        .unwrap()
        .contains("aipolicy-unregistered-user"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Words that give a language away.
const ENGLISH_WORDS: [&str; 9] = [
    " the ",
    " is not ",
    "unknown",
    "expected",
    "did you mean",
    "EU AI Act",
    "GDPR",
    "Notes",
    "law:",
];
const SWEDISH_WORDS: [&str; 9] = [
    " inte ",
    "okänd",
    "menade du",
    " är ",
    "registret",
    "AI-förordningen",
    "dataskyddsförordningen",
    "Att notera",
    "lag:",
];

#[test]
fn check_matrix_and_trace_speak_one_language() {
    let dir = common::workdir("cli", "one-language");
    // A user the register does not list, said to be trained, asks for decision support on a
    // high-risk system: duties from law and two notes; then a near miss of an AI system.
    let checks: [&[&str]; 3] = [
        &[
            "check",
            "--user",
            "gunila",
            "--role",
            "employee",
            "--ai-literacy",
            "--ai",
            "lokal-sprakmodell",
            "--data",
            "personuppgifter",
            "--action",
            "decide",
            "--context",
            "humanReview=true",
        ],
        &[
            "check", "--user", "anna", "--ai", "copilot", "--data", "intern",
        ],
        &["matrix", "--action", "decide", "--format", "md"],
    ];
    for args in checks {
        for (lang, other_language) in [("sv", ENGLISH_WORDS), ("en", SWEDISH_WORDS)] {
            let mut args = args.to_vec();
            args.extend(["--lang", lang]);
            let output = aipolicy(&dir, &args, "");
            let said = stdout(&output);
            assert!(!said.is_empty(), "{args:?}: {}", stderr(&output));
            for word in other_language {
                assert!(!said.contains(word), "{args:?}: {word:?} in\n{said}");
            }
        }
    }
    let output = aipolicy(&dir, &["trace", "--lang", "en"], "");
    let trace = stdout(&output);
    assert!(trace.starts_with("# Traceability"), "{trace}");
    for word in [
        "Paragraf",
        "testfall",
        "Sammanhang",
        "AI-förordningen",
        "kap.",
    ] {
        assert!(!trace.contains(word), "{word:?} in the English trace");
    }
    let output = aipolicy(&dir, &["trace"], "");
    let trace = stdout(&output);
    assert!(trace.contains("### AI-förordningen"), "{trace}");
    assert!(!trace.contains("### EU AI Act"), "{trace}");
}
