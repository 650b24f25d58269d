//! A structured target: a `Query` built from arbitrary parts (the register's ids mixed with
//! arbitrary strings), decided by the bundled engine.
//!
//! Properties, besides the shared ones (`aipolicy_fuzz`):
//! - an input error is never an allow, and `batch`'s rendering of it is a deny;
//! - a decision with errors is a deny;
//! - no allow for a query whose data includes the level-4 class `sakerhetsskydd`, unless the
//!   action is `reportIncident`;
//! - adding `sakerhetsskydd` to an allowed query (not `reportIncident`) makes it a deny;
//! - adding a known data class to a denied query that already names data keeps it a deny;
//! - the JSON form of the query, when the reader accepts it, decides the same;
//! - a decision remembered for another user with the same roles (same `DecisionKey`) is this
//!   query's own decision.
#![no_main]

use aipolicy::{Action, Context, DecisionMemo, Query, Role, UserRef, Verdict};
use aipolicy_fuzz::{check_json_round_trip, decide_checked, ENGINE};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const USERS: [&str; 7] = [
    "anna", "bertil", "cecilia", "david", "eva", "fredrik", "gunilla",
];
const AIS: [&str; 11] = [
    "chatgpt",
    "deepl-webb",
    "copilot-chat",
    "lokal-sprakmodell",
    "tal-till-text-sot",
    "invanarchatt",
    "bygglovsguide",
    "bistandspilot",
    "larplattform-ai",
    "protokollsassistent",
    "ekonomiprognos",
];
const CLASSES: [&str; 7] = [
    "oppen",
    "intern",
    "personuppgifter",
    "kansliga-personuppgifter",
    "sekretess",
    "socialtjanstarende",
    "sakerhetsskydd",
];
const LEVEL_4: &str = "sakerhetsskydd";

/// An id: mostly a known one, sometimes anything.
#[derive(Debug, Arbitrary)]
enum Id {
    Known(u8),
    Other(String),
}

impl Id {
    fn pick(&self, known: &[&str]) -> String {
        match self {
            Id::Known(i) => known[usize::from(*i) % known.len()].to_string(),
            Id::Other(s) => s.clone(),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum FuzzUser {
    Registered(Id),
    Inline {
        id: String,
        employee: bool,
        contractor: bool,
        elected: bool,
        unit: Option<String>,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    user: FuzzUser,
    ai: Id,
    data: Vec<Id>,
    action: u8,
    flags: [bool; 7],
    /// A data class added to a denied query to check that it stays denied.
    extra: u8,
}

fuzz_target!(|input: Input| {
    let user = match &input.user {
        FuzzUser::Registered(id) => UserRef::registered(id.pick(&USERS)),
        FuzzUser::Inline {
            id,
            employee,
            contractor,
            elected,
            unit,
        } => {
            let roles = [
                (*employee, Role::Employee),
                (*contractor, Role::Contractor),
                (*elected, Role::Elected),
            ]
            .into_iter()
            .filter_map(|(has, role)| has.then_some(role));
            let mut user = UserRef::inline(id.clone(), roles);
            if let UserRef::Inline(u) = &mut user {
                u.unit.clone_from(unit);
            }
            user
        }
    };
    let data: Vec<String> = input
        .data
        .iter()
        .take(16)
        .map(|d| d.pick(&CLASSES))
        .collect();
    let mut context = Context::default();
    for ((key, _), value) in Context::default().flags().into_iter().zip(input.flags) {
        context.set(key, value).expect("pinned context key");
    }
    let query = Query {
        user,
        ai: input.ai.pick(&AIS),
        data,
        action: Action::ALL[usize::from(input.action) % Action::ALL.len()],
        context,
        request_id: None,
        at: None,
    };

    let decision = decide_checked(&ENGINE, &query);
    check_json_round_trip(&ENGINE, &query, &decision, false);
    check_memo(&query, &decision);
    let Ok(decision) = decision else {
        return;
    };
    let has_level_4 = query.data.iter().any(|d| d == LEVEL_4);
    if decision.decision == Verdict::Allow && query.action != Action::ReportIncident {
        assert!(!has_level_4, "level-4 data allowed: {query:?}");
        let mut stricter = query.clone();
        stricter.data.push(LEVEL_4.to_string());
        let again =
            decide_checked(&ENGINE, &stricter).expect("a known class added to a decided query");
        assert_eq!(
            again.decision,
            Verdict::Deny,
            "adding `{LEVEL_4}` kept an allow: {stricter:?}"
        );
        assert!(
            again
                .reasons
                .iter()
                .any(|r| &*r.policy == "s3-no-security-protected-data"),
            "the level-4 deny does not name §3's rule: {again:?}"
        );
    }
    if decision.decision == Verdict::Deny && !query.data.is_empty() {
        let mut more = query.clone();
        more.data
            .push(CLASSES[usize::from(input.extra) % CLASSES.len()].to_string());
        let again = decide_checked(&ENGINE, &more).expect("a known class added to a decided query");
        assert_eq!(
            again.decision,
            Verdict::Deny,
            "adding a data class turned a deny into an allow: {more:?}"
        );
    }
});

/// Decides, through one memo, another user with the same roles and then `query`: the memo's
/// answer for `query` must be `decided`, whatever it remembered.
fn check_memo(query: &Query, decided: &Result<aipolicy::Decision, aipolicy::InputError>) {
    let language = aipolicy::Language::Sv; // as `decide_checked` returns
    let roles = match &query.user {
        UserRef::Registered(id) => match ENGINE.register().user(id) {
            Some(user) => user.roles.clone(),
            None => return,
        },
        UserRef::Inline(user) => user.roles.clone(),
    };
    let mut sibling = query.clone();
    sibling.user = UserRef::inline("another-user-with-the-same-roles", roles);
    let memo = DecisionMemo::new(4);
    let _ = ENGINE.decide_memoized(&sibling, language, &memo);
    let remembered = ENGINE.decide_memoized(query, language, &memo);
    assert_eq!(
        &remembered, decided,
        "a remembered decision differs from the decision: {query:?}"
    );
}
