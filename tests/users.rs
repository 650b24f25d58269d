//! Users as the directory knows them (issue 25): ids compare without regard to case and
//! surrounding spaces; an inline user the register lists (however spelt) is decided as the
//! register's user, with a note; a near miss gets a "did you mean"; an inline user the register
//! does not list is noted on every decision; and an engine that admits only the register's
//! users denies the others (U0, `aipolicy-unregistered-user`), on every path to a decision.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::sync::OnceLock;

use aipolicy::clock::{parse_date, Clock};
use aipolicy::decision::UNREGISTERED_USER_POLICY;
use aipolicy::{Decision, DecisionMemo, Engine, Language, Query, Register, Verdict};
use serde_json::{json, Value};

fn askersund() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::bundled()
            .unwrap()
            .with_clock(Clock::fixed(parse_date("2026-12-07").unwrap()))
    })
}

fn registered_only() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| askersund().clone().registered_users_only(true))
}

fn query(value: Value) -> Query {
    Query::from_value(value.clone()).unwrap_or_else(|e| panic!("{value}: {e}"))
}

/// The decision in `language`, the same on the plain path, through a memo (asked twice, so that
/// the second answer is the memo's) and in a batch: every path gives it.
fn decide(engine: &Engine, value: Value, language: Language) -> Decision {
    let query = query(value);
    let plain = engine.decide_in(&query, language).unwrap();
    let memo = DecisionMemo::new(64);
    for _ in 0..2 {
        assert_eq!(
            engine.decide_memoized(&query, language, &memo).unwrap(),
            plain,
            "memoized"
        );
    }
    let line = serde_json::to_string(&query).unwrap();
    let mut out = Vec::new();
    let in_language = engine.clone().with_language(language);
    let input = format!("{line}\n{line}\n");
    aipolicy::batch::decide_lines(&in_language, &mut input.as_bytes(), &mut out).unwrap();
    for written in String::from_utf8(out).unwrap().lines() {
        let batched: Decision = serde_json::from_str(written).unwrap();
        assert_eq!(batched, plain, "batch");
    }
    plain
}

fn policies(decision: &Decision) -> Vec<&str> {
    decision.reasons.iter().map(|r| &*r.policy).collect()
}

// 1. Ids compare without regard to case and surrounding spaces.

#[test]
fn a_registered_user_is_found_whatever_the_case_and_surrounding_spaces() {
    let register = Register::bundled().unwrap();
    for id in ["gunilla", "Gunilla", "GUNILLA", " gunilla ", "gunilla\t"] {
        assert_eq!(
            register.user(id).map(|u| u.id.as_str()),
            Some("gunilla"),
            "{id:?}"
        );
    }
    assert!(register.user("gunila").is_none());
}

#[test]
fn a_registered_user_given_by_id_in_another_case_decides_as_that_user() {
    let engine = askersund();
    let exact = decide(
        engine,
        json!({"user": "anna", "ai": "copilot-chat", "data": "intern"}),
        Language::En,
    );
    assert!(exact.is_allowed());
    for id in ["ANNA", " Anna "] {
        let other = decide(
            engine,
            json!({"user": id, "ai": "copilot-chat", "data": "intern"}),
            Language::En,
        );
        assert_eq!(other, exact, "{id:?}");
    }
    // gunilla has left: no role, so a deny, whichever way she is spelt.
    let gone = decide(
        engine,
        json!({"user": "GUNILLA", "ai": "copilot-chat", "data": "intern"}),
        Language::En,
    );
    assert_eq!(gone.decision, Verdict::Deny);
    assert!(policies(&gone).contains(&"u0-only-users"), "{gone:#?}");
}

#[test]
fn two_register_users_one_to_a_directory_are_a_register_error_naming_both() {
    let yaml = "dataClasses:\n  - {id: oppen, level: 0, personalData: none, secrecy: false}\naiSystems: []\nusers:\n  - {id: gunilla, roles: []}\n  - {id: anna, roles: [employee]}\n  - {id: Gunilla, roles: [employee]}\n";
    let error = Register::from_yaml(yaml, "kommun/register.yaml").unwrap_err();
    let text = error.to_string();
    let aipolicy::LoadError::Register(aipolicy::RegisterError::Invalid { file, problems }) = error
    else {
        panic!("expected an invalid register, got {text}");
    };
    assert_eq!(file, "kommun/register.yaml");
    assert_eq!(problems.len(), 1, "{problems:?}");
    let problem = problems[0].to_string();
    assert_eq!(
        problem,
        "line 7: users[2].id: user id `Gunilla` is the same as `gunilla` (users[0], line 5) once case and surrounding spaces are ignored, as a directory compares ids; give each person one id"
    );
}

// 2. An inline user whose id the register lists, however spelt, is the register's user.

#[test]
fn an_inline_user_spelt_otherwise_is_decided_as_the_register_knows_them_and_told_so() {
    let engine = askersund();
    for id in ["Gunilla", "gunilla ", " GUNILLA"] {
        let value = json!({"user": {"id": id, "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"});
        let en = decide(engine, value.clone(), Language::En);
        // The register says she has no role: never an allow on the inline one.
        assert_eq!(en.decision, Verdict::Deny, "{id:?}");
        assert_eq!(policies(&en)[0], "aipolicy-role-beyond-register", "{en:#?}");
        assert!(policies(&en).contains(&"u0-only-users"), "{en:#?}");
        assert_eq!(
            en.notes[0],
            format!("User `{id}` is the register's `gunilla` (user ids compare without regard to case and surrounding spaces, as in a directory), so it is decided with the roles, unit and AI training the register gives, not the query's.")
        );
        let sv = decide(engine, value, Language::Sv);
        assert_eq!(sv.decision, Verdict::Deny);
        assert!(
            sv.notes[0].starts_with(&format!("Användaren `{id}` är registrets `gunilla`")),
            "{:?}",
            sv.notes
        );
    }
    // The same decision as the register's own gunilla asked with that role, but for the note.
    let exact = decide(
        engine,
        json!({"user": {"id": "gunilla", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"}),
        Language::En,
    );
    let spelt = decide(
        engine,
        json!({"user": {"id": "Gunilla", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"}),
        Language::En,
    );
    assert_eq!(spelt.reasons, exact.reasons);
    assert_eq!(spelt.notes[1..], exact.notes[..]);
}

#[test]
fn an_inline_user_spelt_otherwise_without_a_conflict_is_allowed_as_the_register_user() {
    let decision = decide(
        askersund(),
        json!({"user": {"id": "Anna", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"}),
        Language::En,
    );
    assert!(decision.is_allowed(), "{decision:#?}");
    assert!(
        decision.notes[0].contains("is the register's `anna`"),
        "{:?}",
        decision.notes
    );
}

// 3. A near miss gets a "did you mean".

#[test]
fn a_near_miss_inline_id_gets_a_did_you_mean() {
    let value = json!({"user": {"id": "gunila", "roles": ["employee"]}, "ai": "copilot-chat", "data": "oppen"});
    let en = decide(askersund(), value.clone(), Language::En);
    assert!(
        en.notes[0].ends_with("did you mean `gunilla`?"),
        "{:?}",
        en.notes
    );
    let sv = decide(askersund(), value, Language::Sv);
    assert!(
        sv.notes[0].ends_with("menade du `gunilla`?"),
        "{:?}",
        sv.notes
    );
}

// 4. Every decision about an inline user the register does not list says so.

#[test]
fn every_decision_about_an_unlisted_inline_user_says_so() {
    let engine = askersund();
    for (action, data) in [
        ("use", json!("intern")),
        ("reportIncident", json!("oppen")),
        ("use", json!("sekretess")),
    ] {
        let value = json!({"user": {"id": "tove.extern", "roles": ["employee"]}, "ai": "copilot-chat", "data": data, "action": action});
        let en = decide(engine, value.clone(), Language::En);
        assert_eq!(
            en.notes[0],
            "User `tove.extern` is not in the register, so the roles, unit and AI training the query gives are the calling service's word, which the register cannot confirm.",
            "{action}"
        );
        let sv = decide(engine, value, Language::Sv);
        assert!(
            sv.notes[0].starts_with("Användaren `tove.extern` finns inte i registret"),
            "{:?}",
            sv.notes
        );
    }
    // Without the switch, such a user is still decided on the roles given.
    let allowed = decide(
        engine,
        json!({"user": {"id": "tove.extern", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"}),
        Language::En,
    );
    assert!(allowed.is_allowed());
    // A registered user has no such note.
    let anna = decide(
        engine,
        json!({"user": "anna", "ai": "copilot-chat", "data": "intern"}),
        Language::En,
    );
    assert!(anna.notes.is_empty(), "{:?}", anna.notes);
}

// 5. Registered users only.

#[test]
fn registered_users_only_denies_users_the_register_does_not_list() {
    let engine = registered_only();
    let value = json!({"user": {"id": "tove.extern", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"});
    let en = decide(engine, value.clone(), Language::En);
    assert_eq!(en.decision, Verdict::Deny);
    assert_eq!(en.reasons.len(), 1, "{en:#?}");
    assert_eq!(&*en.reasons[0].policy, UNREGISTERED_USER_POLICY);
    assert_eq!(&*en.reasons[0].paragraph, "U0");
    assert_eq!(
        &*en.reasons[0].message,
        "The user is not in the register, and here only the register's users may use AI; the register decides who is a user."
    );
    assert!(en.incident_channel.is_some());
    let sv = decide(engine, value, Language::Sv);
    assert_eq!(&*sv.reasons[0].policy, UNREGISTERED_USER_POLICY);
    assert!(sv.reasons[0]
        .message
        .starts_with("Användaren finns inte i registret"));
    // Its other reasons are still given.
    let public = decide(
        engine,
        json!({"user": {"id": "tove.extern", "roles": ["employee"]}, "ai": "chatgpt", "data": "intern"}),
        Language::En,
    );
    assert_eq!(policies(&public)[0], UNREGISTERED_USER_POLICY);
    assert!(
        policies(&public).contains(&"u3-public-ai-open-only"),
        "{public:#?}"
    );
}

#[test]
fn registered_users_only_keeps_the_registers_users_and_incident_reports() {
    let engine = registered_only();
    for value in [
        json!({"user": "anna", "ai": "copilot-chat", "data": "intern"}),
        json!({"user": {"id": "anna", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"}),
        json!({"user": {"id": "ANNA", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"}),
        json!({"user": {"id": "tove.extern", "roles": []}, "ai": "copilot-chat", "action": "reportIncident"}),
    ] {
        let decision = decide(engine, value.clone(), Language::En);
        assert!(decision.is_allowed(), "{value}: {decision:#?}");
    }
    // The same query asked of the same memo for a listed and an unlisted user with the same
    // roles: the memo keeps them apart.
    let memo = DecisionMemo::new(64);
    let listed = query(
        json!({"user": {"id": "anna", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"}),
    );
    let unlisted = query(
        json!({"user": {"id": "x", "roles": ["employee"], "aiLiteracy": true}, "ai": "copilot-chat", "data": "intern"}),
    );
    assert!(engine
        .decide_memoized(&listed, Language::En, &memo)
        .unwrap()
        .is_allowed());
    assert!(!engine
        .decide_memoized(&unlisted, Language::En, &memo)
        .unwrap()
        .is_allowed());
    assert!(engine
        .decide_memoized(&listed, Language::En, &memo)
        .unwrap()
        .is_allowed());
}

#[test]
fn registered_users_only_holds_for_the_systems_search() {
    let engine = registered_only();
    let stranger = query(
        json!({"user": {"id": "x", "roles": ["employee"], "aiLiteracy": true}, "ai": "copilot-chat", "data": "oppen"}),
    );
    assert!(engine
        .allowed_systems(&stranger, Language::En)
        .unwrap()
        .is_empty());
    let anna = query(json!({"user": "anna", "ai": "copilot-chat", "data": "oppen"}));
    assert!(!engine
        .allowed_systems(&anna, Language::En)
        .unwrap()
        .is_empty());
}

#[test]
fn registered_users_only_comes_from_the_project_file() {
    let dir = std::env::temp_dir().join(format!("aipolicy-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("aipolicy.toml"), "registered-users-only = true\n").unwrap();
    let inputs = aipolicy::project::inputs::Inputs::of_project(&dir).unwrap();
    assert!(inputs.registered_users_only);
    assert!(inputs.describe(&dir).ends_with("; registered users only"));
    let engine = inputs.engine_builder().build().unwrap();
    assert!(engine.is_registered_users_only());
    std::fs::write(
        dir.join("aipolicy.toml"),
        "registered-users-only = \"yes\"\n",
    )
    .unwrap();
    assert!(aipolicy::project::inputs::Inputs::of_project(&dir).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A matrix cell is about a role: admitting only the register's users does not make every
/// cell a no.
#[test]
fn the_matrix_under_registered_users_only_still_describes_the_roles() {
    use aipolicy::matrix::Matrix;
    use aipolicy::{Action, Context};
    let open = Matrix::compute(askersund(), Action::Use, Context::default(), Language::Sv).unwrap();
    let only = Matrix::compute(
        registered_only(),
        Action::Use,
        Context::default(),
        Language::Sv,
    )
    .unwrap();
    assert!(only.cells.iter().any(|c| c.decision == Verdict::Allow));
    let verdicts = |m: &Matrix| m.cells.iter().map(|c| c.decision).collect::<Vec<_>>();
    assert_eq!(verdicts(&only), verdicts(&open));
}

/// The decision log names a listed user by the register's own id, however the query spelt it:
/// one person, one id, and one pseudonym.
#[test]
fn the_log_names_a_listed_user_by_the_registers_id() {
    use aipolicy::log::{DecisionRecord, Origin};
    let engine = askersund();
    let record = |value: Value| {
        let query = query(value);
        let decision = engine.decide_in(&query, Language::Sv).unwrap();
        let origin = Origin {
            decision_id: "d",
            time: std::time::SystemTime::UNIX_EPOCH,
            policy_revision: "r",
            caller: "c",
        };
        DecisionRecord::new(origin, engine, &query, &decision).user
    };
    assert_eq!(
        record(json!({"user": "ANNA", "ai": "copilot-chat", "data": "intern"})),
        "anna"
    );
    assert_eq!(
        record(
            json!({"user": {"id": " Anna ", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"})
        ),
        "anna"
    );
    assert_eq!(
        record(
            json!({"user": {"id": "Tove.Extern", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"})
        ),
        "Tove.Extern"
    );
}
