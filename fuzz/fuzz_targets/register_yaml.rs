//! Arbitrary bytes → `Register::from_yaml` → an engine with the bundled policies and schema →
//! a few fixed queries and queries built from the register's own ids.
#![no_main]

use aipolicy::{Action, Engine, Hosting, PersonalData, Query, Register, Role, UserRef, Verdict};
use aipolicy_fuzz::{decide_checked, ENGINE, MAX_INPUT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return; // `from_yaml` takes text; a file that is not UTF-8 fails in `read_to_string`.
    };
    let Ok(register) = Register::from_yaml(text, "fuzz.yaml") else {
        return;
    };
    let engine = match Engine::new(
        ENGINE.policies().clone(),
        ENGINE.schema().clone(),
        register.clone(),
    ) {
        Ok(engine) => engine,
        Err(e) => panic!("a register that validated does not load: {e}"),
    };
    let inline = UserRef::inline("fuzz-user", [Role::Employee]);
    // Fixed queries: the bundled ids, which this register may or may not have.
    for (user, ai, data) in [
        (UserRef::registered("anna"), "copilot-chat", "intern"),
        (inline.clone(), "chatgpt", "oppen"),
        (inline.clone(), "not-in-any-register", "intern"),
    ] {
        for action in Action::ALL {
            let _ = decide_checked(
                &engine,
                &Query::new(user.clone(), ai, [data]).with_action(action),
            );
        }
    }
    // Queries from the register's own ids (bounded, so that a large register stays fast).
    let users: Vec<UserRef> = register
        .users()
        .iter()
        .take(3)
        .map(|u| UserRef::registered(u.id.clone()))
        .chain([inline])
        .collect();
    let unregistered = "ai-not-in-this-register".to_string();
    let ais = register
        .ai_systems()
        .iter()
        .take(4)
        .map(|a| &a.id)
        .chain([&unregistered]);
    for ai in ais {
        let system = register.ai_system(ai);
        for class in register.data_classes().iter().take(4) {
            for user in &users {
                for action in Action::ALL {
                    let query = Query::new(user.clone(), ai.clone(), [class.id.clone()])
                        .with_action(action)
                        .with_context("humanReview", true)
                        .and_then(|q| q.with_context("humanReviewed", true))
                        .and_then(|q| q.with_context("aiDisclosure", true))
                        .expect("pinned context keys");
                    // Every id comes from the register, so this is never an input error.
                    let decision = match decide_checked(&engine, &query) {
                        Ok(decision) => decision,
                        Err(e) => panic!("register ids make an input error: {query:?}: {e}"),
                    };
                    if decision.decision != Verdict::Allow || action == Action::ReportIncident {
                        continue;
                    }
                    // Whatever the register says, these never allow (§3, U3):
                    assert!(
                        class.level < 4,
                        "level-4 class `{}` allowed: {query:?}",
                        class.id
                    );
                    // Open information for public AI is level 0 without personal data or secrecy.
                    let public = system.is_none_or(|s| s.hosting == Hosting::Public);
                    let open = class.level == 0
                        && class.personal_data == PersonalData::None
                        && !class.secrecy;
                    assert!(
                        !public || open,
                        "public or unregistered AI allowed with non-open information: {query:?}"
                    );
                    if let Some(system) = system {
                        assert!(
                            class.level <= system.max_data_level,
                            "level above the system's approval allowed: {query:?}"
                        );
                    }
                }
            }
        }
    }
});
