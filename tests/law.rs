//! The law read a second time, through the library: the ways around the high-risk rules that
//! a reading of the AI Act found are closed (every use, not only `decide`, needs the FRIA, a
//! trained user and the registration in the EU database), a transfer outside the EEA counts with
//! or without a processor, assessments lapse (and a memo does not outlive midnight), a decision
//! and a resident-facing system need a route to contest, every deny says where to report, a
//! decision or reply carries the official-document duty, and a role claimed beyond the register
//! is the one U0 reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use aipolicy::clock::{parse_date, Clock, Date};
use aipolicy::decision::ROLE_BEYOND_REGISTER_POLICY;
use aipolicy::{Decision, DecisionMemo, Engine, Language, Query, Register, Verdict};
use serde_json::{json, Value};

fn day(text: &str) -> Date {
    parse_date(text).unwrap()
}

/// An engine of the bundled policies with `register` (YAML), deciding as on `today`.
fn engine(register: &str, today: &str) -> Engine {
    let register = Register::from_yaml(register, "register.yaml").unwrap();
    Engine::builder()
        .register(register)
        .language(Language::En)
        .clock(Clock::fixed(day(today)))
        .build()
        .unwrap()
}

fn decide(engine: &Engine, query: Value) -> Decision {
    let query = Query::from_value(query.clone()).unwrap_or_else(|e| panic!("{query}: {e}"));
    engine.decide(&query).unwrap_or_else(|e| panic!("{e}"))
}

/// The issue's first register, as a new user wrote it from the README.
const HIGH_RISK_AS_USE: &str = "
dataClasses: [{id: pu, level: 2, personalData: ordinary, secrecy: false}]
aiSystems:
  - {id: hr, hosting: internal, approved: true, owner: Socialchef, verified: true, maxDataLevel: 2,
     personalData: ordinary, decisionSupport: true, fairnessAssessed: true, aiActRisk: high, dpia: true, fria: false}
users: [{id: olle, roles: [employee], unit: Soc}]
";

#[test]
fn a_high_risk_system_without_fria_by_an_untrained_user_is_denied_as_use_too() {
    let engine = engine(HIGH_RISK_AS_USE, "2026-12-07");
    let decision = decide(&engine, json!({"user": "olle", "ai": "hr", "data": "pu"}));
    assert_eq!(decision.decision, Verdict::Deny, "{decision:?}");
    let laws: Vec<(&str, Option<&str>)> = decision
        .reasons
        .iter()
        .map(|r| (&*r.policy, r.law.as_deref()))
        .collect();
    assert_eq!(
        laws,
        [
            ("law-ai-act-trained-oversight", Some("EU AI Act art. 26(2)")),
            (
                "law-ai-act-fundamental-rights-assessment",
                Some("EU AI Act art. 27")
            ),
            (
                "law-ai-act-eu-database-registration",
                Some("EU AI Act art. 26(8) and 49(3)")
            ),
        ]
    );
    // Every action but reporting an incident: the caller's choice of action is no way around.
    for action in [
        "use",
        "decide",
        "publish",
        "sendToResident",
        "offerToResidents",
        "develop",
    ] {
        let decision = decide(
            &engine,
            json!({"user": "olle", "ai": "hr", "data": "pu", "action": action,
                "context": {"humanReview": true, "humanReviewed": true, "aiDisclosure": true,
                    "securityReview": true, "itSecurityReview": true,
                    "dataProtectionReview": true, "valuesReview": true}}),
        );
        assert!(
            decision
                .policies()
                .contains(&"law-ai-act-fundamental-rights-assessment"),
            "{action}: {decision:?}"
        );
    }
    let report = decide(
        &engine,
        json!({"user": "olle", "ai": "hr", "action": "reportIncident"}),
    );
    assert!(report.is_allowed(), "{report:?}");
    assert!(report.policies().contains(&"law-ai-act-serious-incident"));
}

#[test]
fn a_transfer_outside_the_eea_counts_without_a_processor() {
    let register = "
dataClasses: [{id: pu, level: 2, personalData: ordinary, secrecy: false}, {id: oppen, level: 0, personalData: none, secrecy: false}]
aiSystems:
  - {id: egen, hosting: internal, approved: true, owner: IT-chef, verified: true, maxDataLevel: 2,
     personalData: ordinary, aiActRisk: minimal, thirdCountryTransfer: unprotected}
  - {id: egen-okand, hosting: internal, approved: true, owner: IT-chef, verified: true, maxDataLevel: 2,
     personalData: ordinary, aiActRisk: minimal}
users: [{id: lisa, roles: [employee], aiLiteracy: true}]
";
    let engine = engine(register, "2026-12-07");
    let denied = decide(&engine, json!({"user": "lisa", "ai": "egen", "data": "pu"}));
    assert_eq!(denied.policies(), ["law-gdpr-third-country-transfer"]);
    assert_eq!(denied.reasons[0].law.as_deref(), Some("GDPR art. 44–46"));
    // Without personal data nothing leaves; run by the municipality without a transfer, the
    // register's silence is that nothing leaves either.
    assert!(decide(
        &engine,
        json!({"user": "lisa", "ai": "egen", "data": "oppen"})
    )
    .is_allowed());
    assert!(decide(
        &engine,
        json!({"user": "lisa", "ai": "egen-okand", "data": "pu"})
    )
    .is_allowed());
}

const DATED: &str = "
incidentChannel: Servicedesk
dataClasses: [{id: intern, level: 1, personalData: none, secrecy: false}]
aiSystems:
  - {id: verktyg, hosting: internal, approved: true, owner: IT-chef, verified: 2025-12-07,
     maxDataLevel: 1, aiActRisk: minimal}
  - {id: kort, hosting: internal, approved: true, owner: IT-chef, verified: 2026-10-01,
     maxDataLevel: 1, aiActRisk: minimal, assessmentValidity: {verified: 1}}
  - {id: planerad, hosting: internal, approved: true, owner: IT-chef, verified: 2027-01-10,
     maxDataLevel: 1, aiActRisk: minimal}
  - {id: odaterad, hosting: internal, approved: true, owner: IT-chef, verified: true,
     maxDataLevel: 1, aiActRisk: minimal}
users: [{id: anna, roles: [employee], aiLiteracy: true}]
";

#[test]
fn an_assessment_holds_through_its_lapse_and_counts_as_not_done_the_day_after() {
    let engine = engine(DATED, "2026-12-07");
    let query = |ai: &str, at: Option<&str>| {
        let mut query = json!({"user": "anna", "ai": ai, "data": "intern"});
        if let Some(at) = at {
            query["at"] = json!(at);
        }
        query
    };
    // Made 2025-12-07, 12 months: holds through 2026-12-07.
    assert!(decide(&engine, query("verktyg", None)).is_allowed());
    let lapsed = decide(&engine, query("verktyg", Some("2026-12-08")));
    assert_eq!(lapsed.policies(), ["s2-internal-ai-verified"]);
    assert!(
        lapsed.reasons[0]
            .message
            .ends_with("The municipality's testing and verification (§2) of 2025-12-07 held through 2026-12-07 and no longer counts as done."),
        "{lapsed:?}"
    );
    // An instant is the day it falls on in Stockholm: 23:30 UTC on 7 December is the 8th.
    let instant = decide(&engine, query("verktyg", Some("2026-12-07T23:30:00Z")));
    assert_eq!(instant.policies(), ["s2-internal-ai-verified"]);
    // Before it was made it did not hold either.
    let before = decide(&engine, query("verktyg", Some("2025-12-06")));
    assert!(before.reasons[0]
        .message
        .contains("is dated 2025-12-07 and counts only from that day"));
    // The system's own validity (one month) wins over the default.
    assert!(!decide(&engine, query("kort", None)).is_allowed());
    assert!(decide(&engine, query("kort", Some("2026-11-01"))).is_allowed());
    // Dated after today: not yet; undated: always.
    let planned = decide(&engine, query("planerad", None));
    assert!(
        planned.reasons[0].message.contains("is dated 2027-01-10"),
        "{planned:?}"
    );
    assert!(decide(&engine, query("planerad", Some("2027-01-10"))).is_allowed());
    assert!(decide(&engine, query("odaterad", Some("2099-01-01"))).is_allowed());
    // The Swedish explanation says the same.
    let swedish = engine
        .decide_in(
            &Query::from_value(query("verktyg", Some("2026-12-08"))).unwrap(),
            Language::Sv,
        )
        .unwrap();
    assert!(swedish.reasons[0]
        .message
        .contains("från 2025-12-07 gällde till och med 2026-12-07"));
}

/// An engine of [`DATED`] whose clock tells 2026-12-07 until the test moves it.
fn dated_engine_on_a_manual_clock() -> (Engine, aipolicy::clock::ManualClock) {
    let register = Register::from_yaml(DATED, "register.yaml").unwrap();
    let (clock, hand) = Clock::manual(day("2026-12-07"));
    let engine = Engine::builder()
        .register(register)
        .clock(clock)
        .build()
        .unwrap();
    (engine, hand)
}

#[test]
fn a_remembered_decision_does_not_outlive_midnight() {
    let (engine, hand) = dated_engine_on_a_manual_clock();
    let query =
        Query::from_value(json!({"user": "anna", "ai": "verktyg", "data": "intern"})).unwrap();
    let memo = DecisionMemo::new(64);
    let before = engine.decide_memoized(&query, Language::En, &memo).unwrap();
    assert!(before.is_allowed());
    let key_before = engine.decision_key(&query, Language::En);
    hand.set(day("2026-12-08"));
    let after = engine.decide_memoized(&query, Language::En, &memo).unwrap();
    assert_eq!(
        after.decision,
        Verdict::Deny,
        "the memo gave yesterday's allow: {after:?}"
    );
    assert_ne!(engine.decision_key(&query, Language::En), key_before);
    // A day on which nothing changes for this system shares the key: the memo still serves.
    hand.set(day("2026-12-09"));
    let later = engine.decision_key(&query, Language::En);
    hand.set(day("2026-12-08"));
    assert_eq!(engine.decision_key(&query, Language::En), later);
    // A batch, too, decides a line by the clock when it is decided.
    let mut out = Vec::new();
    let line = br#"{"user":"anna","ai":"verktyg","data":"intern"}
"#;
    aipolicy::batch::decide_lines(&engine, &mut &line[..], &mut out).unwrap();
    assert!(String::from_utf8(out)
        .unwrap()
        .starts_with(r#"{"decision":"deny""#));
}

#[test]
fn an_engine_on_its_own_clock_refuses_a_querys_day() {
    let engine = engine(DATED, "2026-12-07").on_own_clock_only(true);
    let query = Query::from_value(
        json!({"user": "anna", "ai": "verktyg", "data": "intern", "at": "2026-12-08"}),
    )
    .unwrap();
    let error = engine.decide(&query).unwrap_err();
    assert_eq!(error.problems[0].path, "at");
    assert!(error.problems[0].message.contains("own clock"), "{error}");
    assert_eq!(engine.decision_key(&query, Language::En), None);
    // An `at` that is no day is an input error at its path, wherever it is decided.
    for bad in ["2026-02-30", "tomorrow", "2026-12-07T10:00"] {
        let error =
            Query::from_value(json!({"user": "anna", "ai": "x", "data": "intern", "at": bad}))
                .unwrap_err();
        assert_eq!(error.problems[0].path, "at", "{bad}: {error}");
    }
}

#[test]
fn decisions_and_resident_facing_systems_need_a_route_to_contest() {
    let register = "
dataClasses: [{id: pu, level: 2, personalData: ordinary, secrecy: false}]
aiSystems:
  - &stod {id: stod, hosting: internal, approved: true, owner: Chef, verified: true, maxDataLevel: 2,
     personalData: ordinary, decisionSupport: true, fairnessAssessed: true, aiActRisk: limited, dpia: true}
  - {<<: *stod, id: stod-med-vag, contestRoute: Nämnden}
  - {id: chatt, hosting: internal, approved: true, owner: Chef, verified: true, maxDataLevel: 2,
     personalData: ordinary, residentFacing: true, fairnessAssessed: true, transparencyNotice: true,
     accessibilityReviewed: true, aiActRisk: limited, interactionDisclosure: true}
users: [{id: lisa, roles: [employee], aiLiteracy: true}]
";
    let decide_on = |engine: &Engine, ai: &str| {
        decide(
            engine,
            json!({"user": "lisa", "ai": ai, "data": "pu", "action": "decide", "context": {"humanReview": true}}),
        )
    };
    let without = engine(register, "2026-12-07");
    let denied = decide_on(&without, "stod");
    assert_eq!(denied.policies(), ["law-fl-contest-route"]);
    assert_eq!(
        denied.reasons[0].law.as_deref(),
        Some("Administrative Procedure Act (2017:900) section 33")
    );
    assert!(decide_on(&without, "stod-med-vag").is_allowed());
    let chat = decide(
        &without,
        json!({"user": "lisa", "ai": "chatt", "data": "pu"}),
    );
    assert_eq!(chat.policies(), ["s5-contest-route-for-residents"]);
    // The register's own route counts for every system without one.
    let with_route = engine(
        &format!("contestRoute: Kommunens kontaktcenter\n{register}"),
        "2026-12-07",
    );
    assert!(decide_on(&with_route, "stod").is_allowed());
    assert!(decide(
        &with_route,
        json!({"user": "lisa", "ai": "chatt", "data": "pu"})
    )
    .is_allowed());
}

#[test]
fn every_deny_and_every_report_says_where_to_report() {
    let register = "
incidentChannel: Kommunens servicedesk
dataClasses: [{id: intern, level: 1, personalData: none, secrecy: false}]
aiSystems:
  - {id: egen-kanal, hosting: internal, approved: true, owner: Chef, verified: true, maxDataLevel: 1,
     aiActRisk: minimal, incidentChannel: Systemförvaltaren}
  - {id: vanlig, hosting: internal, approved: true, owner: Chef, verified: true, maxDataLevel: 1, aiActRisk: minimal}
users: [{id: lisa, roles: [employee], aiLiteracy: true}]
";
    let engine = engine(register, "2026-12-07");
    let channel = |d: &Decision| d.incident_channel.as_deref().map(str::to_string);
    let allowed = decide(
        &engine,
        json!({"user": "lisa", "ai": "vanlig", "data": "intern"}),
    );
    assert!(allowed.is_allowed());
    assert_eq!(channel(&allowed), None, "an allow of use names no channel");
    let denied = decide(
        &engine,
        json!({"user": "lisa", "ai": "vanlig", "data": "intern", "action": "publish"}),
    );
    assert_eq!(channel(&denied).as_deref(), Some("Kommunens servicedesk"));
    let own = decide(
        &engine,
        json!({"user": "lisa", "ai": "egen-kanal", "data": "intern", "action": "publish"}),
    );
    assert_eq!(channel(&own).as_deref(), Some("Systemförvaltaren"));
    let unregistered = decide(
        &engine,
        json!({"user": "lisa", "ai": "chatbot", "data": "intern"}),
    );
    assert_eq!(
        channel(&unregistered).as_deref(),
        Some("Kommunens servicedesk")
    );
    let report = decide(
        &engine,
        json!({"user": "lisa", "ai": "egen-kanal", "action": "reportIncident"}),
    );
    assert!(report.is_allowed());
    assert_eq!(channel(&report).as_deref(), Some("Systemförvaltaren"));
    let laws: Vec<Option<&str>> = report
        .obligations
        .iter()
        .map(|o| o.law.as_deref())
        .collect();
    assert!(laws.contains(&Some("GDPR art. 33")), "{report:?}");
    // In the Decision JSON.
    let json = serde_json::to_value(&denied).unwrap();
    assert_eq!(json["incidentChannel"], "Kommunens servicedesk");
}

#[test]
fn a_decision_or_a_reply_to_a_resident_is_an_official_document() {
    let engine = Engine::bundled()
        .unwrap()
        .with_clock(Clock::fixed(day("2026-12-07")));
    let decided = decide(
        &engine,
        json!({"user": "bertil", "ai": "lokal-sprakmodell", "data": "socialtjanstarende",
            "action": "decide", "context": {"humanReview": true}}),
    );
    let reply = decide(
        &engine,
        json!({"user": "fredrik", "ai": "invanarchatt", "data": "personuppgifter",
            "action": "sendToResident", "context": {"humanReviewed": true}}),
    );
    let used = decide(
        &engine,
        json!({"user": "anna", "ai": "copilot-chat", "data": "intern"}),
    );
    for (decision, expected) in [(&decided, true), (&reply, true), (&used, false)] {
        assert!(decision.is_allowed(), "{decision:?}");
        assert_eq!(
            decision.policies().contains(&"law-tf-official-documents"),
            expected,
            "{decision:?}"
        );
    }
    // A high-risk decision also carries the duty to tell the person (AI Act art. 26(11)).
    assert!(decided
        .policies()
        .contains(&"law-ai-act-inform-affected-persons"));
    assert!(!reply
        .policies()
        .contains(&"law-ai-act-inform-affected-persons"));
}

#[test]
fn a_role_claimed_beyond_the_register_is_the_one_u0_reason() {
    let engine = Engine::bundled()
        .unwrap()
        .with_clock(Clock::fixed(day("2026-12-07")));
    // cecilia is the register's home-care contractor, trained, in Hemtjänst i Askersund AB.
    let as_employee = decide(
        &engine,
        json!({"user": {"id": "cecilia", "roles": ["employee"]}, "ai": "tal-till-text-sot", "data": "intern"}),
    );
    assert_eq!(as_employee.policies(), [ROLE_BEYOND_REGISTER_POLICY]);
    // Other true reasons stay: the contractor is not in Copilot Chat's user groups.
    let other = decide(
        &engine,
        json!({"user": {"id": "cecilia", "roles": ["employee"]}, "ai": "copilot-chat", "data": "intern"}),
    );
    assert_eq!(
        other.policies(),
        [ROLE_BEYOND_REGISTER_POLICY, "s3-user-in-user-groups"]
    );
    // A role the register grants, asked alone, is decided on that role.
    let as_contractor = decide(
        &engine,
        json!({"user": {"id": "cecilia", "roles": ["contractor"]}, "ai": "tal-till-text-sot", "data": "intern"}),
    );
    assert!(as_contractor.is_allowed(), "{as_contractor:?}");
}

#[test]
fn a_batch_that_runs_across_midnight_decides_the_lines_after_it_by_the_new_day() {
    let (engine, hand) = dated_engine_on_a_manual_clock();
    // One chunk and one line more, all the same query: the workers remember the first chunk's
    // decision, and the clock passes midnight before the last line is decided.
    let line = r#"{"user":"anna","ai":"verktyg","data":"intern"}"#;
    let input = format!("{line}\n").repeat(aipolicy::batch::CHUNK_LINES + 1);
    let mut out = Vec::new();
    let mut midnight = |_: &aipolicy::batch::BatchSummary| hand.set(day("2026-12-08"));
    aipolicy::batch::decide_lines_with_progress(
        &engine,
        &mut input.as_bytes(),
        &mut out,
        &mut midnight,
    )
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    let verdicts: Vec<&str> = out
        .lines()
        .map(|l| {
            if l.starts_with(r#"{"decision":"allow""#) {
                "allow"
            } else {
                "deny"
            }
        })
        .collect();
    assert_eq!(verdicts.len(), aipolicy::batch::CHUNK_LINES + 1);
    assert!(verdicts[..aipolicy::batch::CHUNK_LINES]
        .iter()
        .all(|v| *v == "allow"));
    assert_eq!(verdicts.last(), Some(&"deny"), "the memo outlived midnight");
}

#[test]
fn training_the_register_cannot_vouch_for_is_named_on_a_high_risk_system() {
    let register = "
dataClasses: [{id: pu, level: 2, personalData: ordinary, secrecy: false}]
aiSystems:
  - {id: hog, hosting: internal, approved: true, owner: Chef, verified: true, maxDataLevel: 2,
     personalData: ordinary, aiActRisk: high, fria: true, dpia: true, euDatabaseId: EUDB-1}
  - {id: lag, hosting: internal, approved: true, owner: Chef, verified: true, maxDataLevel: 2,
     personalData: ordinary, aiActRisk: minimal}
users: [{id: lisa, roles: [employee], aiLiteracy: true}]
";
    let engine = engine(register, "2026-12-07");
    let inline = |ai: &str| json!({"user": {"id": "extern-1", "roles": ["employee"], "aiLiteracy": true}, "ai": ai, "data": "pu"});
    // Taken as given (the register does not list the user), but never quietly.
    let decision = decide(&engine, inline("hog"));
    assert!(decision.is_allowed(), "{decision:?}");
    assert!(
        decision
            .notes
            .iter()
            .any(|n| n.contains("is the caller's word") && n.contains("art. 26(2)")),
        "{decision:?}"
    );
    let query = Query::from_value(inline("hog")).unwrap();
    assert_eq!(
        engine.decision_key(&query, Language::En),
        None,
        "a note about the user is not shared"
    );
    // Where training decides nothing, and for a user the register lists, there is no such note
    // (the unlisted user is still noted as one).
    let low = decide(&engine, inline("lag"));
    assert!(
        low.notes
            .iter()
            .all(|n| !n.contains("is the caller's word")),
        "{low:?}"
    );
    assert!(low.notes[0].contains("is not in the register"), "{low:?}");
    let listed = decide(&engine, json!({"user": "lisa", "ai": "hog", "data": "pu"}));
    assert!(listed.notes.is_empty(), "{listed:?}");
}
