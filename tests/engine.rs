//! The engine through the library: for every paragraph code, an allow and a deny that it
//! decides; the fold of several data classes; public AI for unregistered systems; fail-closed
//! behaviour; and input errors with their paths.
//!
//! Most cases run against `tests/fixtures/exempelby-register.yaml`, another municipality's
//! register written to the pinned keys, whose AI systems each differ from `full` in exactly
//! one attribute: the same query on `full` is allowed, so the deny is that one rule's doing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aipolicy::clock::{parse_date, Clock, Date};
use aipolicy::{Action, Decision, Engine, Language, Policies, Query, Register, Verdict};
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The day the tests decide at: every assessment of the bundled register holds on it.
fn today() -> Date {
    parse_date("2026-12-07").unwrap()
}

fn exempelby() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::builder()
            .register_file(fixture("exempelby-register.yaml"))
            .language(Language::En)
            .clock(Clock::fixed(today()))
            .build()
            .expect("the fixture register loads")
    })
}

fn askersund() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::bundled()
            .expect("the bundled engine loads")
            .with_clock(Clock::fixed(today()))
    })
}

fn decide(engine: &Engine, query: Value) -> Decision {
    let query = Query::from_value(query.clone()).unwrap_or_else(|e| panic!("{query}: {e}"));
    engine.decide(&query).unwrap_or_else(|e| panic!("{e}"))
}

fn set_ai(query: &Value, ai: &str) -> Value {
    let mut query = query.clone();
    query["ai"] = json!(ai);
    query
}

/// The query is allowed on `full`, and denied on `ai` with exactly `paragraphs` (by `policies`).
#[track_caller]
fn assert_only_rule(query: Value, ai: &str, paragraphs: &[&str], policies: &[&str]) {
    let engine = exempelby();
    let allowed = decide(engine, set_ai(&query, "full"));
    assert_eq!(allowed.decision, Verdict::Allow, "on `full`: {allowed:?}");
    assert!(!allowed.obligations.is_empty(), "an allow carries duties");
    let denied = decide(engine, set_ai(&query, ai));
    assert_eq!(denied.decision, Verdict::Deny, "on `{ai}`: {denied:?}");
    assert_eq!(denied.paragraphs(), paragraphs, "on `{ai}`: {denied:?}");
    assert_eq!(denied.policies(), policies, "on `{ai}`: {denied:?}");
    assert!(denied.errors.is_empty());
    assert!(denied.obligations.is_empty());
}

#[test]
fn s1_fairness_assessment_for_decisions_and_residents() {
    let decide_query = json!({"user": "emp", "ai": "-", "data": "halsa", "action": "decide",
        "context": {"humanReview": true}});
    assert_only_rule(
        decide_query,
        "no-fairness",
        &["§1"],
        // `no-fairness` is also resident-facing, so both §1 requirements fail.
        &["s1-fairness-for-decisions", "s1-fairness-for-residents"],
    );
    let plain = json!({"user": "emp", "ai": "-", "data": "halsa"});
    assert_only_rule(
        plain,
        "no-fairness",
        &["§1"],
        &["s1-fairness-for-residents"],
    );
    let offer = json!({"user": "emp", "ai": "-", "data": "person", "action": "offerToResidents"});
    assert_only_rule(
        offer,
        "no-fairness",
        &["§1"],
        &["s1-fairness-for-residents"],
    );
}

#[test]
fn s2_internal_ai_must_be_verified() {
    let query = json!({"user": "emp", "ai": "-", "data": "intern"});
    assert_only_rule(query, "unverified", &["§2"], &["s2-internal-ai-verified"]);
    // Developing is how a system gets verified: §2 does not stop it.
    let develop = json!({"user": "emp", "ai": "unverified", "data": "intern", "action": "develop",
        "context": {"securityReview": true, "itSecurityReview": true,
                    "dataProtectionReview": true, "valuesReview": true}});
    assert!(decide(exempelby(), develop).is_allowed());
}

#[test]
fn s3_data_within_the_systems_approval() {
    let person = json!({"user": "emp", "ai": "-", "data": "person"});
    assert_only_rule(
        person.clone(),
        "level-1",
        &["§3"],
        &["s3-data-level-within-approval"],
    );
    assert_only_rule(
        person,
        "no-personal-data",
        &["§3"],
        &["s3-personal-data-within-approval"],
    );
    let health = json!({"user": "emp", "ai": "-", "data": "halsa"});
    assert_only_rule(
        health,
        "ordinary-personal-data",
        &["§3"],
        &["s3-personal-data-within-approval"],
    );
    let secret = json!({"user": "emp", "ai": "-", "data": "sekretess"});
    assert_only_rule(
        secret,
        "no-secrecy",
        &["§3"],
        &["s3-secrecy-within-approval"],
    );
}

#[test]
fn s3_user_groups() {
    let query = json!({"user": "con", "ai": "-", "data": "intern"});
    assert_only_rule(
        query,
        "employees-only",
        &["§3"],
        &["s3-user-in-user-groups"],
    );
}

#[test]
fn s3_security_protected_data_is_denied_whatever_the_register_says() {
    let engine = exempelby();
    let denied = decide(
        engine,
        json!({"user": "emp", "ai": "claims-level-4", "data": "hemlig"}),
    );
    assert_eq!(denied.decision, Verdict::Deny);
    assert_eq!(denied.policies(), ["s3-no-security-protected-data"]);
    let allowed = decide(
        engine,
        json!({"user": "emp", "ai": "claims-level-4", "data": "sekretess"}),
    );
    assert!(allowed.is_allowed(), "{allowed:?}");
}

#[test]
fn s3_only_open_information_is_published() {
    let publish = |data: &str| {
        json!({"user": "emp", "ai": "full", "data": data, "action": "publish",
               "context": {"humanReviewed": true, "aiDisclosure": true}})
    };
    let allowed = decide(exempelby(), publish("oppen"));
    assert!(allowed.is_allowed());
    assert_eq!(allowed.paragraphs(), ["U1"]);
    let denied = decide(exempelby(), publish("intern"));
    assert_eq!(denied.policies(), ["s3-publish-open-only"]);
}

#[test]
fn s4_accessibility_review_for_residents() {
    let offer = json!({"user": "emp", "ai": "-", "data": "intern", "action": "offerToResidents"});
    assert_only_rule(
        offer,
        "no-accessibility",
        &["§4"],
        &["s4-accessibility-review"],
    );
}

#[test]
fn s5_transparency_notice_and_ai_disclosure() {
    let offer = json!({"user": "emp", "ai": "-", "data": "intern", "action": "offerToResidents"});
    assert_only_rule(
        offer.clone(),
        "no-notice",
        &["§5"],
        &["s5-transparency-notice"],
    );
    let allowed = decide(exempelby(), set_ai(&offer, "full"));
    assert_eq!(
        allowed.paragraphs(),
        ["§5", "U1"],
        "the offer permit's duty is §5's"
    );

    let undisclosed = json!({"user": "emp", "ai": "full", "data": "oppen", "action": "publish",
        "context": {"humanReviewed": true}});
    let denied = decide(exempelby(), undisclosed);
    assert_eq!(denied.policies(), ["s5-ai-disclosure"]);
}

#[test]
fn s6_owner_suspension_and_decisions() {
    let query = json!({"user": "emp", "ai": "-", "data": "intern"});
    assert_only_rule(
        query.clone(),
        "no-owner",
        &["§6"],
        &["s6-internal-ai-has-owner"],
    );
    assert_only_rule(query, "suspended", &["§6"], &["s6-not-suspended"]);
    let decide_query = json!({"user": "emp", "ai": "-", "data": "halsa", "action": "decide",
        "context": {"humanReview": true}});
    assert_only_rule(
        decide_query.clone(),
        "no-decision-support",
        &["§6"],
        &["s6-approved-for-decision-support"],
    );
    let allowed = decide(exempelby(), set_ai(&decide_query, "full"));
    assert_eq!(
        allowed.policies(),
        [
            // A high-risk system: tell the person (AI Act art. 26(11)).
            "law-ai-act-inform-affected-persons",
            "law-fl-reasons-for-decisions",
            // The output is an official document, to register and keep.
            "law-tf-official-documents",
            "s6-permit-decide",
            "u1-duty-responsible-for-result"
        ]
    );

    let unreviewed = json!({"user": "emp", "ai": "full", "data": "halsa", "action": "decide"});
    let denied = decide(exempelby(), unreviewed);
    assert_eq!(denied.policies(), ["s6-human-review-of-decisions"]);
}

#[test]
fn u0_only_users_and_only_decided_ai_beyond_open_information() {
    let engine = exempelby();
    let nobody = decide(
        engine,
        json!({"user": "nobody", "ai": "full", "data": "oppen"}),
    );
    assert_eq!(nobody.decision, Verdict::Deny);
    assert!(nobody.policies().contains(&"u0-only-users"), "{nobody:?}");
    for user in ["emp", "con", "ele"] {
        assert!(decide(engine, json!({"user": user, "ai": "full", "data": "oppen"})).is_allowed());
    }
    let internal = json!({"user": "emp", "ai": "-", "data": "intern"});
    assert_only_rule(
        internal,
        "unapproved",
        &["U0"],
        &["u0-decided-ai-beyond-open"],
    );
    let open = decide(
        engine,
        json!({"user": "emp", "ai": "unapproved", "data": "oppen"}),
    );
    assert!(
        open.is_allowed(),
        "undecided AI may be used with open information"
    );
    let offer =
        json!({"user": "emp", "ai": "unapproved", "action": "offerToResidents", "data": "oppen"});
    assert_eq!(
        decide(engine, offer).policies(),
        ["u0-decided-ai-for-residents"]
    );
}

#[test]
fn u1_publishing_needs_human_review_and_every_allow_carries_the_duty() {
    let engine = exempelby();
    let unreviewed = json!({"user": "emp", "ai": "full", "data": "oppen", "action": "publish",
        "context": {"aiDisclosure": true}});
    assert_eq!(
        decide(engine, unreviewed).policies(),
        ["u1-publish-needs-human-review"]
    );
    let used = decide(
        engine,
        json!({"user": "emp", "ai": "full", "data": "intern"}),
    );
    assert_eq!(
        used.policies(),
        ["u1-duty-responsible-for-result", "u2-permit-use"]
    );
    assert!(
        used.obligations[0].message.contains("responsible"),
        "{used:?}"
    );
}

#[test]
fn u2_information_must_be_named() {
    let reviews = json!({"securityReview": true, "itSecurityReview": true,
        "dataProtectionReview": true, "valuesReview": true});
    let engine = exempelby();
    let unnamed = decide(
        engine,
        json!({"user": "emp", "ai": "full", "action": "develop", "context": reviews}),
    );
    assert_eq!(unnamed.policies(), ["u2-data-must-be-named"]);
    let named = decide(
        engine,
        json!({"user": "emp", "ai": "full", "action": "develop",
        "data": "intern", "context": reviews}),
    );
    assert!(named.is_allowed());
    // For use, decide and publish the data classes are a required field: an input error.
    for action in ["use", "decide", "publish"] {
        let query = Query::from_value(json!({"user": "emp", "ai": "full", "action": action}))
            .expect("valid JSON shape");
        let error = engine
            .decide(&query)
            .expect_err("missing data is an input error");
        assert_eq!(error.problems[0].path, "data", "{error}");
    }
}

#[test]
fn u3_public_ai_only_with_open_information_whatever_the_register_says() {
    let query = json!({"user": "emp", "ai": "-", "data": "intern"});
    assert_only_rule(
        query,
        "public-claims-everything",
        &["U3"],
        &["u3-public-ai-open-only"],
    );
    let open = decide(
        exempelby(),
        json!({"user": "emp", "ai": "public-claims-everything", "data": "oppen"}),
    );
    assert!(open.is_allowed());
}

#[test]
fn u4_reporting_an_incident_is_always_allowed() {
    let engine = exempelby();
    for user in ["emp", "con", "ele", "nobody"] {
        for ai in [
            "full",
            "suspended",
            "no-owner",
            "unapproved",
            "not-in-any-register",
        ] {
            for data in [json!(null), json!("hemlig"), json!(["oppen", "halsa"])] {
                let mut query = json!({"user": user, "ai": ai, "action": "reportIncident"});
                if !data.is_null() {
                    query["data"] = data.clone();
                }
                let decision = decide(engine, query);
                assert!(decision.is_allowed(), "{user} {ai} {data}: {decision:?}");
                assert_eq!(decision.paragraphs(), ["U4"]);
            }
        }
    }
}

#[test]
fn u5_development_needs_all_four_reviews() {
    let all = [
        "securityReview",
        "itSecurityReview",
        "dataProtectionReview",
        "valuesReview",
    ];
    let ids = [
        "u5-information-security-review",
        "u5-it-security-review",
        "u5-data-protection-review",
        "u5-values-review",
    ];
    let engine = exempelby();
    let with = |reviews: &[&str]| {
        let context: serde_json::Map<String, Value> = reviews
            .iter()
            .map(|r| (r.to_string(), json!(true)))
            .collect();
        decide(
            engine,
            json!({"user": "emp", "ai": "full", "data": "intern", "action": "develop",
            "context": context}),
        )
    };
    let allowed = with(&all);
    assert!(allowed.is_allowed());
    assert_eq!(allowed.paragraphs(), ["U1", "U5"]);
    for (missing, id) in all.iter().zip(ids) {
        let reviews: Vec<&str> = all.iter().copied().filter(|r| r != missing).collect();
        assert_eq!(with(&reviews).policies(), [id], "without {missing}");
    }
    assert_eq!(with(&[]).policies(), ids);
}

#[test]
fn several_data_classes_fold_into_the_strictest_profile() {
    let engine = exempelby();
    // Each class alone is within `level-1`'s approval only for the first two.
    assert!(decide(
        engine,
        json!({"user": "emp", "ai": "level-1", "data": ["oppen", "intern"]})
    )
    .is_allowed());
    let mixed = decide(
        engine,
        json!({"user": "emp", "ai": "level-1", "data": ["oppen", "intern", "person"]}),
    );
    assert_eq!(mixed.policies(), ["s3-data-level-within-approval"]);
    // Level from one class, secrecy from another.
    let secret = decide(
        engine,
        json!({"user": "emp", "ai": "no-secrecy", "data": ["halsa", "sekretess"]}),
    );
    assert_eq!(secret.policies(), ["s3-secrecy-within-approval"]);
}

#[test]
fn an_ai_system_not_in_the_register_is_public_ai() {
    let engine = askersund();
    let user = json!({"id": "t", "roles": ["employee"]});
    let open = decide(
        engine,
        json!({"user": user, "ai": "some-public-chatbot", "data": "oppen"}),
    );
    assert!(open.is_allowed());
    // An inline user without `aiLiteracy` is taken as untrained: the AI Act's art. 4 duty.
    assert_eq!(open.paragraphs(), ["§6", "U1", "U2"]);
    assert!(
        open.policies().contains(&"law-ai-act-ai-literacy"),
        "{open:?}"
    );
    let internal = decide(
        engine,
        json!({"user": user, "ai": "some-public-chatbot", "data": "intern"}),
    );
    assert_eq!(internal.decision, Verdict::Deny);
    assert!(internal.paragraphs().contains(&"U3"), "{internal:?}");
}

#[test]
fn the_askersund_register_decides_its_own_systems() {
    let engine = askersund();
    let cases = [
        (
            json!({"user": "anna", "ai": "copilot-chat", "data": "intern"}),
            true,
        ),
        (
            json!({"user": "anna", "ai": "copilot-chat", "data": "personuppgifter"}),
            false,
        ),
        (
            json!({"user": "cecilia", "ai": "copilot-chat", "data": "intern"}),
            false,
        ),
        (
            json!({"user": "cecilia", "ai": "tal-till-text-sot", "data": "socialtjanstarende"}),
            true,
        ),
        (
            json!({"user": "bertil", "ai": "lokal-sprakmodell", "data": "socialtjanstarende",
            "action": "decide", "context": {"humanReview": true}}),
            true,
        ),
        (
            json!({"user": "bertil", "ai": "bistandspilot", "data": "intern"}),
            false,
        ),
        (
            json!({"user": "anna", "ai": "larplattform-ai", "data": "intern"}),
            false,
        ),
        (
            json!({"user": "anna", "ai": "protokollsassistent", "data": "intern"}),
            false,
        ),
        (
            json!({"user": "fredrik", "ai": "invanarchatt", "data": "personuppgifter",
            "action": "offerToResidents"}),
            true,
        ),
        (
            json!({"user": "eva", "ai": "bygglovsguide", "data": "intern", "action": "offerToResidents"}),
            false,
        ),
        (
            json!({"user": "anna", "ai": "deepl-webb", "data": "oppen"}),
            true,
        ),
        (
            json!({"user": "anna", "ai": "deepl-webb", "data": "intern"}),
            false,
        ),
        (
            json!({"user": "gunilla", "ai": "copilot-chat", "data": "oppen"}),
            false,
        ),
    ];
    for (query, allowed) in cases {
        let decision = decide(engine, query.clone());
        assert_eq!(decision.is_allowed(), allowed, "{query}: {decision:?}");
        if !allowed {
            assert!(!decision.reasons.is_empty(), "a deny explains itself");
        }
    }
}

#[test]
fn explanations_come_in_swedish_and_english() {
    let engine = askersund();
    let query =
        Query::from_value(json!({"user": "anna", "ai": "chatgpt", "data": "intern"})).unwrap();
    let sv = engine.decide_in(&query, Language::Sv).unwrap();
    let en = engine.decide_in(&query, Language::En).unwrap();
    assert_eq!(sv.policies(), en.policies());
    let u3 = |d: &Decision| {
        d.reasons
            .iter()
            .find(|r| &*r.paragraph == "U3")
            .unwrap()
            .message
            .to_string()
    };
    assert!(u3(&sv).starts_with("Publik AI"), "{}", u3(&sv));
    assert!(u3(&en).starts_with("Public AI"), "{}", u3(&en));
}

/// A copy of the bundled policies in a fresh folder, with `edit` applied to the file list.
fn policies_copy(name: &str, edit: impl FnOnce(&mut Vec<(String, String)>)) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aipolicy-engine-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut files: Vec<(String, String)> = std::fs::read_dir(source)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    edit(&mut files);
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

#[test]
fn an_evaluation_error_is_a_deny_never_an_allow() {
    // This forbid validates but overflows at run time. Cedar skips a policy that errors, which
    // would leave the permit standing: the engine must deny instead.
    let dir = policies_copy("overflow", |files| {
        files.push((
            "zz-overflow.cedar".into(),
            r#"
@id("overflowing-rule")
@paragraph("§3")
@sv("Test")
@en("Test")
forbid (principal, action, resource)
when { context.data.level + 9223372036854775807 > 0 };
"#
            .into(),
        ));
    });
    let engine = Engine::builder().policies_dir(&dir).build().unwrap();
    let query =
        Query::from_value(json!({"user": "anna", "ai": "copilot-chat", "data": "intern"})).unwrap();
    let decision = engine.decide_in(&query, Language::En).unwrap();
    assert_eq!(decision.decision, Verdict::Deny, "{decision:?}");
    assert!(
        decision
            .errors
            .iter()
            .any(|e| e.contains("overflowing-rule")),
        "{decision:?}"
    );
    assert_eq!(
        decision.reasons.last().unwrap().policy.as_ref(),
        aipolicy::decision::FAIL_CLOSED_POLICY
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn without_a_permit_the_deny_still_explains_itself() {
    let dir = policies_copy("no-permit", |files| {
        for (name, text) in files.iter_mut() {
            if name.starts_with("u2-") {
                let scope = "action == Action::\"use\",\n  resource\n);";
                assert!(text.contains(scope), "the use permit's scope, as formatted");
                *text = text.replace(
                    scope,
                    "action == Action::\"use\",\n  resource\n)\nwhen { false };",
                );
            }
        }
    });
    let engine = Engine::builder().policies_dir(&dir).build().unwrap();
    let query =
        Query::from_value(json!({"user": "anna", "ai": "copilot-chat", "data": "intern"})).unwrap();
    let decision = engine.decide(&query).unwrap();
    assert_eq!(decision.decision, Verdict::Deny);
    assert_eq!(decision.policies(), [aipolicy::decision::NO_PERMIT_POLICY]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn policies_that_break_the_schema_do_not_load() {
    let dir = policies_copy("bad-attribute", |files| {
        files.push((
            "zz-typo.cedar".into(),
            r#"
@id("typo")
@paragraph("§2")
@sv("Test")
@en("Test")
forbid (principal, action == Action::"use", resource)
unless { resource.verifeid };
"#
            .into(),
        ));
    });
    let error = Engine::builder().policies_dir(&dir).build().unwrap_err();
    let aipolicy::LoadError::Policies(problems) = error else {
        panic!("{error:?}")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    let headline = problems[0].headline();
    assert!(headline.contains("zz-typo.cedar:7:"), "{headline}");
    assert!(headline.contains("verifeid"), "{headline}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_bundled_policies_validate_in_strict_mode() {
    let policies = Policies::bundled().unwrap();
    let schema = aipolicy::policies::bundled_schema().unwrap();
    assert_eq!(policies.validate(&schema).len(), 0);
    assert!(
        policies.rules().len() >= 30,
        "one permit per action, one forbid per requirement"
    );
    // One permit per action.
    let permits = policies
        .rules()
        .iter()
        .filter(|r| r.effect == cedar_policy::Effect::Permit && !r.duty)
        .count();
    assert_eq!(permits, aipolicy::Action::ALL.len());
    // Every allow of a governed action carries U1's duty.
    assert!(policies
        .rules()
        .iter()
        .any(|r| r.duty && r.paragraph.code() == "U1"));
}

mod input_errors {
    use super::*;

    #[track_caller]
    fn query_error(query: &str, path: &str, contains: &str) {
        let error = Query::from_json(query)
            .and_then(|q| askersund().decide(&q))
            .expect_err("an input error, never a decision");
        assert!(
            error
                .problems
                .iter()
                .any(|p| p.path == path && p.message.contains(contains)),
            "expected `{path}` with `{contains}` in: {error}"
        );
    }

    #[test]
    fn malformed_json() {
        query_error(r#"{"user": "anna", "ai": "#, "", "invalid JSON at line 1");
        query_error("", "", "invalid JSON");
    }

    #[test]
    fn missing_fields() {
        query_error(
            r#"{"user": "anna", "data": "oppen"}"#,
            "ai",
            "missing required field",
        );
        query_error(
            r#"{"ai": "chatgpt", "data": "oppen"}"#,
            "user",
            "missing required field",
        );
        query_error(
            r#"{"user": {"id": "t"}, "ai": "chatgpt", "data": "oppen"}"#,
            "user.roles",
            "missing",
        );
    }

    #[test]
    fn wrong_types() {
        query_error(
            r#"{"user": 7, "ai": "chatgpt", "data": "oppen"}"#,
            "user",
            "expected string",
        );
        query_error(
            r#"{"user": "anna", "ai": ["chatgpt"], "data": "oppen"}"#,
            "ai",
            "expected string",
        );
        query_error(
            r#"{"user": "anna", "ai": "chatgpt", "data": [1]}"#,
            "data[0]",
            "expected string",
        );
        query_error(
            r#"{"user": "anna", "ai": "x", "data": "oppen", "context": {"humanReview": "yes"}}"#,
            "context.humanReview",
            "expected boolean",
        );
    }

    #[test]
    fn unknown_names() {
        query_error(
            r#"{"user": "anna", "ai": "chatgpt", "data": ["oppen", "hemligt"]}"#,
            "data[1]",
            "unknown data class `hemligt`",
        );
        query_error(
            r#"{"user": {"id": "t", "roles": ["admin"]}, "ai": "x", "data": "oppen"}"#,
            "user.roles[0]",
            "\"admin\" is not one of",
        );
        query_error(
            r#"{"user": "anna", "ai": "x", "data": "oppen", "action": "delete"}"#,
            "action",
            "\"delete\" is not one of",
        );
        query_error(
            r#"{"user": "zelda", "ai": "x", "data": "oppen"}"#,
            "user",
            "unknown user `zelda`",
        );
        query_error(
            r#"{"user": "anna", "ai": "x", "data": "oppen", "context": {"override": true}}"#,
            "context.override",
            "unknown field",
        );
        query_error(
            r#"{"user": "anna", "ai": "x", "data": "oppen", "admin": true}"#,
            "admin",
            "unknown field",
        );
    }

    #[test]
    fn empty_data() {
        query_error(
            r#"{"user": "anna", "ai": "chatgpt", "data": []}"#,
            "data",
            "",
        );
        query_error(
            r#"{"user": "anna", "ai": "chatgpt", "data": ""}"#,
            "data",
            "",
        );
        query_error(
            r#"{"user": "anna", "ai": "chatgpt"}"#,
            "data",
            "must name the data classes",
        );
    }
}

mod register_errors {
    use super::*;

    fn problems(yaml: &str) -> Vec<String> {
        match Register::from_yaml(yaml, "test.yaml") {
            Err(aipolicy::LoadError::Register(aipolicy::RegisterError::Invalid {
                problems,
                ..
            })) => problems
                .iter()
                .map(|p| p.clone().at_line(None).to_string())
                .collect(),
            other => panic!("expected an invalid register, got {other:?}"),
        }
    }

    const BASE: &str = "dataClasses:\n  - {id: oppen, name: Öppen, level: 0, personalData: none, secrecy: false}\n";

    #[test]
    fn a_wrong_value_is_named_by_its_path() {
        let yaml = format!("{BASE}aiSystems:\n  - {{id: a, name: A, hosting: internal, approved: true, status: active, maxDataLevel: 7}}\n");
        let problems = problems(&yaml);
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("aiSystems[0].maxDataLevel:") && p.contains('4')),
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_and_missing_fields_and_duplicates() {
        let yaml = format!("{BASE}  - {{id: oppen, name: X, level: 0, personalData: none, secrecy: false}}\naiSystems:\n  - {{id: a, name: A, hosting: internal, approved: true, status: active, maxDataLevel: 1, maxDatalevel: 2}}\n  - {{id: b, name: B, hosting: cloud, status: active}}\n");
        let problems = problems(&yaml);
        // A likely slip is named with the key it was meant to be.
        assert!(
            problems
                .iter()
                .any(|p| p
                    == "aiSystems[0].maxDatalevel: unknown field; did you mean `maxDataLevel`?"),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p == "aiSystems[1].approved: missing required field"),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("aiSystems[1].hosting:") && p.contains("\"cloud\"")),
            "{problems:?}"
        );
        // Duplicates are found once the shape is right.
        let yaml = format!("{BASE}  - {{id: oppen, name: X, level: 0, personalData: none, secrecy: false}}\naiSystems: []\nusers:\n  - {{id: u, roles: [employee]}}\n  - {{id: u, roles: [elected]}}\n");
        let problems = self::problems(&yaml);
        assert!(
            problems.contains(
                &"dataClasses[1].id: duplicate id `oppen` (first used at dataClasses[0])"
                    .to_string()
            ),
            "{problems:?}"
        );
        assert!(
            problems
                .contains(&"users[1].id: duplicate id `u` (first used at users[0])".to_string()),
            "{problems:?}"
        );
    }

    #[test]
    fn bad_yaml_names_the_line() {
        let error =
            Register::from_yaml("dataClasses:\n  - {id: oppen\naiSystems: []\n", "bad.yaml")
                .unwrap_err();
        let aipolicy::LoadError::Register(aipolicy::RegisterError::Syntax { diagnostics, .. }) =
            error
        else {
            panic!("{error:?}")
        };
        let headline = diagnostics[0].headline();
        assert!(headline.starts_with("bad.yaml:3:"), "{headline}");
    }

    #[test]
    fn a_register_file_that_does_not_exist() {
        let error = Engine::builder()
            .register_file("/nonexistent/register.yaml")
            .build()
            .unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/register.yaml"),
            "{error}"
        );
    }
}

#[test]
fn conditional_duties_apply_only_when_their_condition_holds_and_fail_closed() {
    let dir = policies_copy("duties", |files| {
        files.push((
            "zz-duty.cedar".into(),
            r#"
@id("log-personal-data")
@paragraph("§6")
@kind("duty")
@sv("Logga behandlingen av personuppgifter.")
@en("Log the processing of personal data.")
permit (principal, action == Action::"use", resource)
when { context.data.personalData > 0 };

@id("overflowing-duty")
@paragraph("§6")
@kind("duty")
@sv("Test")
@en("Test")
permit (principal, action == Action::"decide", resource)
when { context.data.level + 9223372036854775807 > 0 };
"#
            .into(),
        ));
    });
    let engine = Engine::builder()
        .policies_dir(&dir)
        .register_file(fixture("exempelby-register.yaml"))
        .build()
        .unwrap();
    let with_personal = decide(
        &engine,
        json!({"user": "emp", "ai": "full", "data": "person"}),
    );
    assert!(with_personal.is_allowed());
    assert!(
        with_personal.policies().contains(&"log-personal-data"),
        "{with_personal:?}"
    );
    let without = decide(
        &engine,
        json!({"user": "emp", "ai": "full", "data": "intern"}),
    );
    assert!(without.is_allowed());
    assert!(
        !without.policies().contains(&"log-personal-data"),
        "{without:?}"
    );
    // A duty that cannot be evaluated leaves the duties unknown: deny.
    let decided = decide(
        &engine,
        json!({"user": "emp", "ai": "full", "data": "halsa", "action": "decide",
        "context": {"humanReview": true}}),
    );
    assert_eq!(decided.decision, Verdict::Deny, "{decided:?}");
    assert!(
        decided
            .errors
            .iter()
            .any(|e| e.contains("overflowing-duty")),
        "{decided:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A batch remembers decisions in the memo its workers share, by users with the same roles: every line it
/// writes must still be the decision of that line alone. Two passes over every user, AI system,
/// action and a few data sets and contexts (with bad lines between), so that most lines of the
/// second pass, and many of the first, come from the memo.
#[test]
fn a_batch_writes_each_lines_own_decision_whatever_it_remembers() {
    let engine = Engine::bundled().unwrap().with_clock(Clock::fixed(today()));
    let register = engine.register();
    let mut users: Vec<serde_json::Value> = register.users().iter().map(|u| json!(u.id)).collect();
    users.push(json!({"id": "inline", "roles": ["employee"]}));
    users.push(json!({"id": "inline-2", "roles": ["contractor", "elected"], "unit": "IT"}));
    let mut ais: Vec<String> = register.ai_systems().iter().map(|a| a.id.clone()).collect();
    ais.push("not-in-the-register".into());
    let data = [
        json!("oppen"),
        json!(["intern", "personuppgifter"]),
        json!("sekretess"),
    ];
    let contexts = [
        json!({}),
        json!({"humanReview": true, "humanReviewed": true, "aiDisclosure": true,
            "securityReview": true, "itSecurityReview": true, "dataProtectionReview": true,
            "valuesReview": true}),
    ];
    let mut lines = Vec::new();
    for user in &users {
        for ai in &ais {
            for action in Action::ALL {
                for data in &data {
                    for context in &contexts {
                        lines.push(
                            json!({"user": user, "ai": ai, "action": action.as_str(),
                                "data": data, "context": context})
                            .to_string(),
                        );
                    }
                }
            }
            lines.push(format!(
                r#"{{"user": {user}, "ai": "{ai}", "data": "okänd"}}"#
            ));
        }
    }
    let one_pass = lines.len();
    lines.extend_from_within(..);
    let input = lines.join("\n");
    let mut output = Vec::new();
    let summary = aipolicy::batch::decide_lines(
        &engine,
        &mut std::io::Cursor::new(input.as_bytes()),
        &mut output,
    )
    .unwrap();
    assert_eq!(summary.decided, 2 * one_pass);
    let written: Vec<&str> = std::str::from_utf8(&output).unwrap().lines().collect();
    assert_eq!(written.len(), lines.len());
    let mut allows = 0;
    for (i, (line, json)) in lines.iter().zip(&written).enumerate() {
        let alone = match aipolicy::batch::decide_line(
            &engine,
            i + 1,
            line.as_bytes(),
            engine.language(),
        ) {
            Ok(decision) | Err(decision) => decision,
        };
        allows += usize::from(alone.is_allowed());
        assert_eq!(
            *json,
            serde_json::to_string(&alone).unwrap(),
            "line {}: {line}",
            i + 1
        );
    }
    assert!(allows > 100, "the lines include many allows ({allows})");
}

/// A batch's observer (the decision log's hook) sees every query in input order, with the
/// decision written for it, remembered decisions and several chunks on every core included.
#[test]
fn a_batch_observer_sees_the_queries_in_input_order_with_their_decisions() {
    let engine = Engine::bundled().unwrap().with_clock(Clock::fixed(today()));
    let kinds = [
        r#""user":"anna","ai":"copilot-chat","data":"intern""#,
        r#""user":"anna","ai":"chatgpt","data":"intern""#,
        r#""user":"bertil","ai":"lokal-sprakmodell","data":"intern""#,
    ];
    let lines: Vec<String> = (0..10_000)
        .map(|i| match i % 1000 {
            999 => String::new(), // a blank line: an input error, and no query to observe
            _ => format!(r#"{{{},"requestId":"r{i}"}}"#, kinds[i % kinds.len()]),
        })
        .collect();
    let seen = std::sync::Mutex::new(Vec::new());
    let observe = |query: &Query, decision: &Decision| {
        seen.lock()
            .unwrap()
            .push((query.request_id.clone().unwrap(), decision.decision));
    };
    let mut output = Vec::new();
    aipolicy::batch::decide_lines_observed(
        &engine,
        &mut std::io::Cursor::new(lines.join("\n")),
        &mut output,
        &mut |_| {},
        Some(&observe),
    )
    .unwrap();
    let written: Vec<(String, Verdict)> = std::str::from_utf8(&output)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Decision>(line).unwrap())
        .filter_map(|d| Some((d.request_id?.to_string(), d.decision)))
        .collect();
    assert_eq!(written.len(), 9_990);
    assert_eq!(seen.into_inner().unwrap(), written);
}

/// Policies that look at a user's attributes: users are no longer told apart by roles alone, so
/// an inline user is built as given and the memo keys hold the user, not the roles.
#[test]
fn policies_that_look_at_more_than_roles_see_each_user_as_given() {
    let dir = std::env::temp_dir().join(format!("aipolicy-unit-rule-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap()
    {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "cedar") {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(
        dir.join("s3-unit-rule.cedar"),
        r#"@id("s3-test-blocked-unit")
@paragraph("§3")
@sv("Enheten får inte använda AI.")
@en("The unit may not use AI.")
forbid (principal, action in Action::"anyUse", resource)
when { principal has unit && principal.unit == "Spärrad" };
"#,
    )
    .unwrap();
    let engine = Engine::builder().policies_dir(&dir).build().unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    let user = |unit: Option<&str>| {
        let mut user = aipolicy::UserRef::inline("k.karlsson", [aipolicy::Role::Employee]);
        if let aipolicy::UserRef::Inline(u) = &mut user {
            u.unit = unit.map(str::to_string);
        }
        user
    };
    let blocked = Query::new(user(Some("Spärrad")), "copilot-chat", ["intern"]);
    let open = Query::new(user(Some("IT")), "copilot-chat", ["intern"]);
    let decided = engine.decide(&blocked).unwrap();
    assert_eq!(decided.decision, Verdict::Deny);
    assert!(
        decided.policies().contains(&"s3-test-blocked-unit"),
        "{decided:?}"
    );
    assert!(engine.decide(&open).unwrap().is_allowed());

    assert_ne!(
        engine.decision_key(&blocked, Language::Sv),
        engine.decision_key(&open, Language::Sv),
        "users with the same roles but different units must not share a key"
    );
    let memo = aipolicy::DecisionMemo::new(16);
    for query in [&open, &blocked, &open, &blocked] {
        assert_eq!(
            engine.decide_memoized(query, Language::Sv, &memo),
            engine.decide_in(query, Language::Sv)
        );
    }
    // `prepare` keeps the user as given: Cedar sees the unit.
    let prepared = engine.prepare(&blocked).unwrap();
    assert_eq!(
        prepared.request.principal().map(ToString::to_string),
        Some(r#"User::"k.karlsson""#.to_string())
    );
}

#[test]
fn the_load_gate_refuses_a_paragraph_without_policy_that_the_engine_loads() {
    use aipolicy::diagnostics::findings::Check;
    use aipolicy::inputs::{Inputs, Source};
    use aipolicy::project;
    let dir = policies_copy("uncovered", |files| {
        files.retain(|(name, _)| !name.starts_with("u5-"));
    });
    // The engine's own gate: the policies parse, their annotations are right and they
    // type-check, so it loads (and decides).
    let schema = aipolicy::policies::bundled_schema().unwrap();
    let policies = Policies::from_dir(&dir).unwrap();
    assert!(Engine::new(policies, schema, Register::bundled().unwrap()).is_ok());
    // The gate of `aipolicy validate` refuses it: U5 has no policy.
    let inputs = Inputs {
        policies: Source::Path(dir.clone()),
        ..Inputs::embedded()
    };
    let findings = project::gate(&inputs, today()).unwrap_err();
    let uncovered: Vec<_> = findings
        .iter()
        .filter(|f| f.check == Check::UncoveredParagraph)
        .collect();
    assert_eq!(uncovered.len(), 1, "{findings:#?}");
    assert!(
        uncovered[0].headline().contains("paragraph `U5`"),
        "{}",
        uncovered[0].headline()
    );
    // The same verdict as `validate`'s.
    let validation = project::validate(&inputs, today());
    assert!(validation.report.has_errors() && validation.engine.is_none());
    // With U5 back, the gate gives the engine.
    std::fs::remove_dir_all(&dir).unwrap();
    let dir = policies_copy("covered", |_| {});
    let passed = project::gate(
        &Inputs {
            policies: Source::Path(dir.clone()),
            ..Inputs::embedded()
        },
        today(),
    )
    .unwrap();
    assert!(passed.warnings.is_empty(), "{:#?}", passed.warnings);
    let query =
        Query::from_value(json!({"user": "anna", "ai": "copilot-chat", "data": "intern"})).unwrap();
    assert!(passed.engine.decide(&query).unwrap().is_allowed());
    std::fs::remove_dir_all(dir).unwrap();
}

/// An invariants file that never ends (a link to `/dev/zero`) is read no further than its limit
/// by `validate`, as by every other reader: one finding, no hang. (It was read whole a second
/// time, for the lines of its findings, after the capped reader had refused it.)
#[cfg(unix)]
#[test]
fn validate_reads_an_endless_invariants_file_within_its_limit() {
    use aipolicy::diagnostics::findings::Check;
    use aipolicy::inputs::{Inputs, Source};
    let dir = std::env::temp_dir().join(format!("aipolicy-endless-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("invariants.yaml");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let inputs = Inputs {
        invariants: Source::Path(link.clone()),
        ..Inputs::embedded()
    };
    let validation = aipolicy::project::validate(&inputs, today());
    let invariants: Vec<String> = validation
        .report
        .findings
        .iter()
        .filter(|f| f.check == Check::Invariants)
        .map(|f| f.headline())
        .collect();
    assert_eq!(invariants.len(), 1, "{invariants:#?}");
    assert!(
        invariants[0].contains("past the limit"),
        "{}",
        invariants[0]
    );
    // The same load refuses it at the gate of `validate`, and builds it at the engine's own.
    let refused = Inputs {
        invariants: Source::Path(link.clone()),
        ..Inputs::embedded()
    }
    .engine_builder()
    .gate(aipolicy::project::Gate::Validate)
    .load();
    assert!(matches!(
        refused,
        Err(aipolicy::project::Refused::Findings(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The one load reads what it hashes: the revision of the embedded default is the revision of
/// the same files read from a folder, and changes with one byte of the register.
#[test]
fn the_revision_names_the_bytes_the_engine_was_built_from() {
    use aipolicy::inputs::{Inputs, Source};
    use aipolicy::project::Gate;
    let embedded = Inputs::embedded()
        .engine_builder()
        .gate(Gate::Validate)
        .load()
        .unwrap();
    let dir = policies_copy("revision", |_| {});
    let register = dir.join("register.yaml");
    std::fs::write(&register, aipolicy::register::BUNDLED_REGISTER).unwrap();
    let from_files = Inputs {
        policies: Source::Path(dir.clone()),
        register: Source::Path(register.clone()),
        ..Inputs::embedded()
    };
    let loaded = from_files.engine_builder().load().unwrap();
    assert_eq!(loaded.revision, embedded.revision);
    std::fs::write(
        &register,
        format!(
            "{}\n# one more line\n",
            aipolicy::register::BUNDLED_REGISTER
        ),
    )
    .unwrap();
    let changed = from_files.engine_builder().load().unwrap();
    assert_ne!(changed.revision, embedded.revision);
    std::fs::remove_dir_all(dir).unwrap();
}

/// The law rules (policies/law-*.cedar), each the one rule that turns `full`'s allow into a
/// deny, with the article in the reason's `law`.
#[test]
fn law_rules_each_deny_with_their_article() {
    let use_sensitive = json!({"user": "emp", "ai": "-", "data": "halsa"});
    let decide_person = json!({"user": "emp", "ai": "-", "data": "person", "action": "decide",
        "context": {"humanReview": true}});
    let use_person = json!({"user": "emp", "ai": "-", "data": "person"});
    let use_secret = json!({"user": "emp", "ai": "-", "data": "sekretess"});
    let cases = [
        (
            use_sensitive.clone(),
            "prohibited",
            "law-ai-act-prohibited-practice",
            "EU AI Act art. 5",
        ),
        (
            decide_person.clone(),
            "unclassified",
            "law-ai-act-classified-for-decisions",
            "EU AI Act art. 6 and annex III",
        ),
        (
            decide_person.clone(),
            "no-fria",
            "law-ai-act-fundamental-rights-assessment",
            "EU AI Act art. 27",
        ),
        (
            use_person.clone(),
            "no-interaction-disclosure",
            "law-ai-act-interaction-disclosure",
            "EU AI Act art. 50(1)",
        ),
        (
            use_sensitive.clone(),
            "no-dpia",
            "law-gdpr-impact-assessment",
            "GDPR art. 35",
        ),
        (
            decide_person.clone(),
            "no-dpia",
            "law-gdpr-impact-assessment",
            "GDPR art. 35",
        ),
        (
            use_person.clone(),
            "no-processor-agreement",
            "law-gdpr-processor-agreement",
            "GDPR art. 28",
        ),
        (
            use_person.clone(),
            "unprotected-transfer",
            "law-gdpr-third-country-transfer",
            "GDPR art. 44–46",
        ),
        (
            use_person.clone(),
            "transfer-not-known",
            "law-gdpr-third-country-transfer",
            "GDPR art. 44–46",
        ),
        (
            use_secret,
            "supplier-beyond-technical",
            "law-osl-technical-processing-only",
            "Offentlighets- och sekretesslagen (2009:400) 10 kap. 2 a §",
        ),
    ];
    for (query, ai, policy, law) in cases {
        let paragraph = if policy.starts_with("law-ai-act") {
            "§6"
        } else {
            "§3"
        };
        assert_only_rule(query.clone(), ai, &[paragraph], &[policy]);
        let denied = decide(exempelby(), set_ai(&query, ai));
        let in_english = aipolicy::policies::law::law_in(law, aipolicy::Language::En);
        assert_eq!(
            denied.reasons[0].law.as_deref(),
            Some(&*in_english),
            "{denied:?}"
        );
        // In Swedish, the act by its Swedish name and the article as Swedish cites it.
        let query = Query::from_value(set_ai(&query, ai)).unwrap();
        let denied = exempelby()
            .decide_in(&query, aipolicy::Language::Sv)
            .unwrap();
        let said = denied.reasons[0].law.as_deref().unwrap_or_default();
        assert_eq!(
            said,
            aipolicy::policies::law::law_in(law, aipolicy::Language::Sv)
        );
        assert!(
            !said.contains("GDPR") && !said.contains("EU AI Act"),
            "{said}"
        );
    }
}

#[test]
fn a_prohibited_practice_may_only_be_reported() {
    let engine = exempelby();
    for action in Action::ALL {
        let query = json!({"user": "emp", "ai": "prohibited", "data": "oppen",
            "action": action.as_str(), "context": {"humanReview": true, "humanReviewed": true,
            "aiDisclosure": true, "securityReview": true, "itSecurityReview": true,
            "dataProtectionReview": true, "valuesReview": true}});
        let decision = decide(engine, query);
        assert_eq!(
            decision.is_allowed(),
            action == Action::ReportIncident,
            "{action}: {decision:?}"
        );
        if action != Action::ReportIncident {
            assert!(decision
                .policies()
                .contains(&"law-ai-act-prohibited-practice"));
        }
    }
}

#[test]
fn high_risk_decisions_need_a_trained_user_and_everyone_untrained_gets_the_training_duty() {
    let engine = exempelby();
    let decide_query = |user: &str, ai: &str| {
        json!({"user": user, "ai": ai, "data": "person", "action": "decide",
            "context": {"humanReview": true}})
    };
    let denied = decide(engine, decide_query("emp-untrained", "full"));
    assert_eq!(denied.decision, Verdict::Deny);
    assert_eq!(denied.policies(), ["law-ai-act-trained-oversight"]);
    assert_eq!(
        denied.reasons[0].law.as_deref(),
        Some("EU AI Act art. 26(2)")
    );
    // A minimal-risk system needs no trained overseer, but the untrained user gets the duty.
    let allowed = decide(engine, decide_query("emp-untrained", "minimal-risk"));
    assert!(allowed.is_allowed(), "{allowed:?}");
    assert!(allowed.policies().contains(&"law-ai-act-ai-literacy"));
    let trained = decide(engine, decide_query("emp", "minimal-risk"));
    assert!(!trained.policies().contains(&"law-ai-act-ai-literacy"));
    // Every decision support carries the duty to state reasons (förvaltningslagen 32 §).
    assert!(trained.policies().contains(&"law-fl-reasons-for-decisions"));
    // Personal data through a supplier in an adequate third country is allowed.
    let adequacy = decide(
        engine,
        json!({"user": "emp", "ai": "adequacy-transfer", "data": "person"}),
    );
    assert!(adequacy.is_allowed(), "{adequacy:?}");
}

#[test]
fn an_inline_user_cannot_claim_the_training_the_register_does_not_record() {
    let engine = exempelby();
    let query = json!({"user": {"id": "emp-untrained", "roles": ["employee"], "aiLiteracy": true},
        "ai": "full", "data": "person", "action": "decide", "context": {"humanReview": true}});
    let decision = decide(engine, query);
    assert_eq!(decision.decision, Verdict::Deny, "{decision:?}");
    assert_eq!(decision.policies(), ["law-ai-act-trained-oversight"]);
    assert!(
        decision
            .notes
            .iter()
            .any(|n| n.contains("does not record the AI training")),
        "{decision:?}"
    );
}
