//! Queries about a text: what is found in it joins the declared data classes (never lowering
//! them), the decision says what was found and where but never the text, every way of deciding
//! agrees, and information the register places in no class is denied (U2).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use aipolicy::clock::{parse_date, Clock};
use aipolicy::query::MAX_TEXT_BYTES;
use aipolicy::{Action, DecisionMemo, Engine, Language, Query, Register, UserRef, Verdict};

fn engine() -> Engine {
    Engine::bundled()
        .unwrap()
        .with_clock(Clock::fixed(parse_date("2026-12-07").unwrap()))
}

/// The bundled register with the data-class mapping of the kinds taken away, and one class
/// that finds only e-mail addresses.
fn engine_mapping_only_email() -> Engine {
    let mut yaml = aipolicy::register::BUNDLED_REGISTER.to_string();
    for line in [
        "    finds: [personnummer, samordningsnummer, email, phone]\n",
        "    finds: [health, ethnicity, political, religion, trade-union, sexuality, genetic-biometric]\n",
        "    finds: [secrecy]\n",
        "    finds: [security-protection]\n",
    ] {
        assert!(yaml.contains(line), "the bundled register maps {line}");
        yaml = yaml.replace(line, "");
    }
    let yaml = yaml.replacen(
        "    description: Namn, kontaktuppgifter",
        "    finds: [email]\n    description: Namn, kontaktuppgifter",
        1,
    );
    let register = Register::from_yaml(&yaml, "only-email.yaml").unwrap();
    Engine::builder()
        .register(register)
        .clock(Clock::fixed(parse_date("2026-12-07").unwrap()))
        .build()
        .unwrap()
}

const CASE_NOTE: &str = "Anteckning: 19811218-9876 ringde från 070-123 45 67 om sin diagnos.";

#[test]
fn every_way_of_deciding_gives_the_same_decision_with_what_was_found() {
    let engine = engine();
    let memo = DecisionMemo::new(64);
    for (ai, data) in [("chatgpt", "oppen"), ("lokal-sprakmodell", "intern")] {
        let query = Query::new(UserRef::registered("bertil"), ai, [data])
            .with_text([CASE_NOTE])
            .with_request_id("r1");
        let direct = engine.decide_in(&query, Language::En).unwrap();
        assert_eq!(
            direct.found.iter().map(|f| &*f.kind).collect::<Vec<_>>(),
            ["personnummer", "phone", "health"]
        );
        // Twice through the memo: the second from it, still with this query's findings.
        for _ in 0..2 {
            let memoized = engine.decide_memoized(&query, Language::En, &memo).unwrap();
            assert_eq!(memoized, direct);
        }
        let line = serde_json::to_string(&query).unwrap();
        let mut out = Vec::new();
        let in_english = engine.clone().with_language(Language::En);
        aipolicy::batch::decide_lines(&in_english, &mut line.as_bytes(), &mut out).unwrap();
        let from_batch: aipolicy::Decision = serde_json::from_slice(&out).unwrap();
        assert_eq!(from_batch, direct);
    }
    // The same question without the text is another decision: the text raised it.
    let without = Query::new(UserRef::registered("bertil"), "chatgpt", ["oppen"]);
    assert!(engine.decide(&without).unwrap().is_allowed());
}

#[test]
fn the_decision_holds_where_but_never_what() {
    let engine = engine();
    let query = Query::new(UserRef::registered("bertil"), "chatgpt", ["oppen"])
        .with_text(["Hej", CASE_NOTE]);
    let decision = engine.decide(&query).unwrap();
    let json = serde_json::to_string(&decision).unwrap();
    for secret in ["19811218-9876", "9876", "070-123", "diagnos"] {
        assert!(!json.contains(secret), "{secret} in {json}");
    }
    let first = &decision.found[0];
    assert_eq!(first.message, Some(1));
    let chars: String = CASE_NOTE
        .chars()
        .skip(first.start)
        .take(first.end - first.start)
        .collect();
    assert_eq!(chars, "19811218-9876");
    assert_eq!(first.class.as_deref(), Some("personuppgifter"));
}

#[test]
fn text_raises_a_query_and_never_lowers_it() {
    let engine = engine();
    let declared_strict = Query::new(
        UserRef::registered("bertil"),
        "lokal-sprakmodell",
        ["sakerhetsskydd"],
    )
    .with_text(["Ett vanligt mötesprotokoll."]);
    let decision = engine.decide(&declared_strict).unwrap();
    assert_eq!(decision.decision, Verdict::Deny);
    assert!(decision.found.is_empty());
}

#[test]
fn information_the_register_places_in_no_class_is_denied_with_u2() {
    let engine = engine_mapping_only_email();
    // Allowed without the text; the personnummer in it is a kind no class names.
    let query = Query::new(
        UserRef::registered("bertil"),
        "lokal-sprakmodell",
        ["intern"],
    );
    assert!(engine.decide(&query).unwrap().is_allowed());
    let with_text = query.clone().with_text(["Gäller 19811218-9876, a@b.se"]);
    for language in Language::ALL {
        let decision = engine.decide_in(&with_text, language).unwrap();
        assert_eq!(decision.decision, Verdict::Deny);
        assert!(decision.obligations.is_empty());
        let reason = decision.reasons.last().unwrap();
        assert_eq!(&*reason.policy, "aipolicy-text-unmapped");
        assert_eq!(&*reason.paragraph, "U2");
        assert!(decision.incident_channel.is_some());
        let said = match language {
            Language::Sv => "ett personnummer",
            Language::En => "a personal identity number",
        };
        assert!(reason.message.contains(said), "{}", reason.message);
        assert!(!reason.message.contains("e-"), "{}", reason.message);
        // Found, with the class for the one the register maps.
        let classes: Vec<_> = decision.found.iter().map(|f| f.class.as_deref()).collect();
        assert_eq!(classes, [None, Some("personuppgifter")]);
        // The memo gives the same.
        let memo = DecisionMemo::new(8);
        assert_eq!(
            engine.decide_memoized(&with_text, language, &memo).unwrap(),
            decision
        );
    }
    // Every other action on the text is denied too, and a prepared request refuses it rather
    // than hand on what Cedar alone would allow.
    let develop = with_text.clone().with_action(Action::Develop);
    let decision = engine.decide(&develop).unwrap();
    assert!(decision
        .reasons
        .iter()
        .any(|r| &*r.policy == "aipolicy-text-unmapped"));
    for prepared in [engine.prepare(&with_text), engine.prepare_exact(&with_text)] {
        assert_eq!(prepared.unwrap_err().problems[0].path, "text");
    }
    // Reporting an incident holds whatever the text: anyone may report one (U4).
    let report = with_text.with_action(Action::ReportIncident);
    assert!(engine.decide(&report).unwrap().is_allowed());
}

#[test]
fn a_text_of_nothing_but_numbers_is_decided_in_time_proportional_to_it() {
    // Each is both a mobile number and a personnummer, and overlapping finders meet at every
    // one: the whole megabyte is found and its offsets counted without going back over it
    // (a quadratic step here would take minutes; `benches/text.rs` measures the rate).
    let engine = engine();
    let numbers = "0701235673 tel 0701235673 a@b.se ".repeat(30_000);
    let query = Query::new(
        UserRef::registered("bertil"),
        "lokal-sprakmodell",
        ["intern"],
    )
    .with_text([numbers]);
    let decision = engine.decide(&query).unwrap();
    assert_eq!(decision.found.len(), 90_000);
    assert!(decision.found.windows(2).all(|w| w[0].start <= w[1].start));
    let last = decision.found.last().unwrap();
    assert_eq!(last.end, 30_000 * 33 - 1);
}

#[test]
fn a_malformed_text_is_not_repeated_in_the_error() {
    let error = Query::from_json(r#"{"user":"anna","ai":"chatgpt","text":{"a":"19811218-9876"}}"#)
        .unwrap_err();
    assert_eq!(error.problems[0].path, "text");
    assert!(!error.problems[0].message.contains("9876"), "{error:?}");
}

#[test]
fn a_text_over_the_limit_is_an_input_error_at_text() {
    let engine = engine();
    let long = "a".repeat(MAX_TEXT_BYTES + 1);
    let query = Query::new(UserRef::registered("anna"), "chatgpt", ["oppen"]).with_text([long]);
    let error = engine.decide(&query).unwrap_err();
    assert_eq!(error.problems[0].path, "text");
    assert!(error.problems[0].message.contains("1048576 bytes (1 MiB)"));
    // Read from JSON, the same limit, before anything is decided.
    let json = serde_json::to_string(&query).unwrap();
    let error = Query::from_json(&json).unwrap_err();
    assert_eq!(error.problems[0].path, "text");
    // Just within it: decided.
    let at_limit = Query::new(UserRef::registered("anna"), "chatgpt", ["oppen"])
        .with_text(["a".repeat(MAX_TEXT_BYTES)]);
    assert!(engine.decide(&at_limit).is_ok());
}

#[test]
fn the_default_class_counts_only_when_nothing_is_declared_or_found() {
    let engine = engine();
    let plain = Query::new(UserRef::registered("anna"), "chatgpt", Vec::<String>::new())
        .with_text(["Skriv en dikt om hösten."]);
    assert_eq!(engine.decide(&plain).unwrap_err().problems[0].path, "data");
    let with_default = plain.clone().with_default_data("oppen");
    assert!(engine.decide(&with_default).unwrap().is_allowed());
    let raised = Query::new(UserRef::registered("anna"), "chatgpt", Vec::<String>::new())
        .with_text(["Mejla a.b@askersund.se"])
        .with_default_data("oppen");
    assert!(!engine.decide(&raised).unwrap().is_allowed());
    let memo = DecisionMemo::new(8);
    assert!(engine
        .decide_memoized(&with_default, Language::Sv, &memo)
        .unwrap()
        .is_allowed());
}

#[test]
fn a_bad_register_pattern_is_a_load_error_at_its_line() {
    let yaml = aipolicy::register::BUNDLED_REGISTER.replacen(
        "    patterns: ['\\bSOC[ -]?\\d{4}/\\d{1,6}\\b']",
        "    patterns: ['SOC (']",
        1,
    );
    assert_ne!(yaml, aipolicy::register::BUNDLED_REGISTER);
    let error = Register::from_yaml(&yaml, "register.yaml").unwrap_err();
    let aipolicy::LoadError::Register(aipolicy::RegisterError::Invalid { file, problems }) = error
    else {
        panic!("not an invalid register: {error:?}");
    };
    let line = yaml
        .lines()
        .position(|l| l.contains("SOC ("))
        .map(|i| i + 1);
    assert_eq!(file, "register.yaml");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "dataClasses[5].patterns[0]");
    assert_eq!(problems[0].line, line);
    assert!(
        problems[0].message.contains("invalid pattern"),
        "{problems:?}"
    );
}

#[test]
fn text_is_read_from_json_as_a_string_or_a_list() {
    let one = Query::from_json(r#"{"user":"anna","ai":"chatgpt","text":"hej"}"#).unwrap();
    assert_eq!(one.text, ["hej"]);
    let many = Query::from_json(r#"{"user":"anna","ai":"chatgpt","text":["a","b"]}"#).unwrap();
    assert_eq!(many.text, ["a", "b"]);
    for bad in [
        r#"{"user":"anna","ai":"chatgpt","text":[]}"#,
        r#"{"user":"anna","ai":"chatgpt","text":[1]}"#,
        r#"{"user":"anna","ai":"chatgpt","text":{"a":"b"}}"#,
        r#"{"user":"anna","ai":"chatgpt","text":null}"#,
    ] {
        let error = Query::from_json(bad).unwrap_err();
        assert!(
            error.problems[0].path.starts_with("text"),
            "{bad}: {error:?}"
        );
    }
}

#[test]
fn a_model_name_of_two_systems_is_named_by_validate() {
    let yaml = "dataClasses:\n  - {id: oppen, level: 0, personalData: none, secrecy: false}\naiSystems:\n  - {id: a, hosting: public, approved: true, endpoint: 'http://127.0.0.1:8000/v1', models: [llama]}\n  - {id: b, hosting: public, approved: true, endpoint: 'http://127.0.0.1:8001/v1', models: [llama, a]}\n";
    let register = Register::from_yaml(yaml, "r.yaml").unwrap();
    let findings = aipolicy::authoring::register_checks::register_warnings(
        "r.yaml",
        yaml,
        &register,
        parse_date("2026-12-07").unwrap(),
    );
    let said: Vec<String> = findings
        .iter()
        .filter(|f| f.check == aipolicy::lint::Check::Approvals)
        .map(|f| f.diagnostic.to_string())
        .collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].contains("model name `llama` of AI system `b` also names AI system `a`"),
        "{said:?}"
    );
    assert!(
        said[1].contains("model name `a` of AI system `b` also names AI system `a`"),
        "{said:?}"
    );
}
