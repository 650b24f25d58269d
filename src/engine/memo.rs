//! Remembering decisions: a key that holds everything a decision depends on, and a bounded map.
//!
//! A decision is a function of the request Cedar sees (the user's entity, the action, the AI
//! system, the context) and the engine's fixed policies and register. [`DecisionKey`] is that
//! request in a few bytes: the AI system's id, the action, the context's slot (data profile,
//! flags and the assessments in force), how the assessments stand on the day, and the user. For the user, when the policies look at the principal only through its
//! roles (`principal in Role::"employee"`, `principal in resource.userGroups`, `principal is
//! User`) and its AI training (`principal.aiLiteracy`) — which
//! `principal_seen_only_through_roles` checks on the policies at load — the key holds only
//! those, so that every trained employee shares one entry per AI system, action and context: an
//! audit that re-decides a register of thousands of users asks Cedar once per kind of user.
//! Otherwise the key holds the user's identity.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::model::decision::{Decision, Language};
use crate::model::query::Action;
use crate::model::register::Role;

/// Everything a decision depends on: two queries with equal keys get equal decisions from the
/// same engine. Made by [`Engine::decision_key`](crate::Engine::decision_key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DecisionKey {
    pub(crate) user: UserKey,
    pub(crate) ai: Box<str>,
    pub(crate) action: Action,
    pub(crate) context: u32,
    /// How the AI system's assessments stand on the day of the decision
    /// ([`Standings::code`](crate::model::assessments::Standings::code)): with the AI system, whose
    /// dates are fixed, this is all the day decides, so a key made on another day with the
    /// same standings has the same decision, and one made after a lapse does not.
    pub(crate) assessments: u16,
    pub(crate) language: Language,
}

/// The user as far as the decision can tell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum UserKey {
    /// The policies see only the roles and the AI training ([`user_bits`]).
    Roles(u8),
    /// A user of the register, by id.
    Registered(Box<str>),
    /// An inline user, in full.
    Inline(Box<str>, u8, Option<Box<str>>),
}

/// In a [`UserKey::Roles`], beside [`user_bits`]: a user the register does not list, when the
/// engine admits only the register's users (a deny, whatever the roles).
pub(crate) const UNLISTED_USER_BIT: u8 = 1 << 7;

/// The roles as bits, one per [`Role::ALL`].
pub(crate) fn role_bits(roles: &[Role]) -> u8 {
    roles.iter().fold(0, |bits, role| {
        let at = Role::ALL.iter().position(|r| r == role).unwrap_or(0);
        bits | (1 << at)
    })
}

/// The Cedar attribute of a user that the policies may read without telling users apart.
pub(crate) const TRAINING_ATTRIBUTE: &str = "aiLiteracy";

/// How many distinct users the policies can tell apart when they see only roles and training.
pub(crate) const USER_CLASSES: usize = 1 << (Role::ALL.len() + 1);

/// What the policies can see of a user when they look only at roles and AI training: the
/// roles' bits, and one bit above them for the training (not known counts as without).
pub(crate) fn user_bits(user: &crate::model::register::User) -> u8 {
    role_bits(&user.roles) | (u8::from(user.ai_literacy.unwrap_or(false)) << Role::ALL.len())
}

/// A decision as the memo keeps it: without the `requestId` each answer echoes, with its JSON
/// made once (a batch writes it as it is, a request id spliced in).
#[derive(Debug)]
pub(crate) struct Remembered {
    decision: Decision,
    /// `None` when the decision could not be written as JSON (it always can: a map whose keys
    /// are strings); then a line of it is an error, never a line without a verdict.
    json: OnceLock<Option<Box<[u8]>>>,
}

impl Remembered {
    pub(crate) fn new(decision: Decision) -> Remembered {
        Remembered {
            decision: decision.with_request_id(None),
            json: OnceLock::new(),
        }
    }

    /// The decision, without a `requestId`.
    #[cfg(test)]
    pub(crate) fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The decision as the answer to a query with `request_id`.
    pub(crate) fn answer(&self, request_id: Option<String>) -> Decision {
        self.decision.clone().with_request_id(request_id)
    }

    /// The decision's JSON (one object, no `requestId`), made the first time it is asked for.
    fn json(&self) -> Option<&[u8]> {
        self.json
            .get_or_init(|| {
                serde_json::to_vec(&self.decision)
                    .ok()
                    .map(Vec::into_boxed_slice)
            })
            .as_deref()
    }

    /// Appends the decision's JSON as the answer to a query with `request_id` (added as the
    /// object's last key), and a newline: one line of `aipolicy batch`.
    pub(crate) fn write_line(
        &self,
        out: &mut Vec<u8>,
        request_id: Option<&str>,
    ) -> std::io::Result<()> {
        let json = self
            .json()
            .ok_or_else(|| std::io::Error::other("a decision cannot be written as JSON"))?;
        match (request_id, json.split_last()) {
            (Some(id), Some((b'}', object))) => {
                out.extend_from_slice(object);
                out.extend_from_slice(br#","requestId":"#);
                serde_json::to_writer(&mut *out, id)?;
                out.push(b'}');
            }
            _ => out.extend_from_slice(json),
        }
        out.push(b'\n');
        Ok(())
    }
}

/// Shards, so that the threads of a batch or the workers of the service rarely wait for each
/// other.
const SHARDS: usize = 16;

/// The decisions an engine has made, by [`DecisionKey`]: the one kind of memo behind
/// [`Engine::decide_memoized`](crate::Engine::decide_memoized), the batch and the decision
/// service. Bounded: when a shard is full it starts over empty (simple, and bounded whatever the
/// input). Shared between threads by reference.
///
/// A memo belongs to one engine: keys say nothing of the policies or the register, so a memo
/// must be dropped with its engine (the decision service keeps one per policy in force).
///
/// ```
/// use aipolicy::{DecisionMemo, Engine, Language, Query, UserRef};
/// let engine = Engine::bundled().unwrap();
/// let memo = DecisionMemo::new(1024);
/// let query = Query::new(UserRef::registered("anna"), "copilot-chat", ["intern"]);
/// let first = engine.decide_memoized(&query, Language::Sv, &memo).unwrap();
/// let again = engine.decide_memoized(&query, Language::Sv, &memo).unwrap();
/// assert_eq!(first, again);
/// assert_eq!(memo.len(), 1);
/// ```
#[derive(Debug)]
pub struct DecisionMemo {
    shards: Vec<Mutex<HashMap<DecisionKey, Arc<Remembered>>>>,
    per_shard: usize,
    hasher: RandomState,
}

impl DecisionMemo {
    /// A memo that holds about `capacity` decisions (0: none; every decision is made afresh).
    pub fn new(capacity: usize) -> Self {
        let shards = if capacity == 0 {
            0
        } else {
            SHARDS.min(capacity)
        };
        let per_shard = capacity.div_ceil(shards.max(1));
        DecisionMemo {
            shards: (0..shards)
                .map(|_| Mutex::new(HashMap::with_capacity(per_shard.min(1 << 12))))
                .collect(),
            per_shard,
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &DecisionKey) -> Option<&Mutex<HashMap<DecisionKey, Arc<Remembered>>>> {
        if self.shards.is_empty() {
            return None;
        }
        let at = usize::try_from(self.hasher.hash_one(key) % self.shards.len() as u64).ok()?;
        self.shards.get(at)
    }

    /// What was kept for `key`.
    pub(crate) fn get(&self, key: &DecisionKey) -> Option<Arc<Remembered>> {
        let shard = self.shard(key)?.lock().ok()?;
        shard.get(key).cloned()
    }

    /// Keeps `remembered` for `key`; when its shard is full, the shard is emptied first.
    pub(crate) fn insert(&self, key: DecisionKey, remembered: Arc<Remembered>) {
        let Some(Ok(mut shard)) = self.shard(&key).map(Mutex::lock) else {
            return;
        };
        if shard.len() >= self.per_shard {
            shard.clear();
        }
        shard.insert(key, remembered);
    }

    /// Whether the memo keeps anything at all (a memo of capacity 0 does not).
    pub fn is_enabled(&self) -> bool {
        !self.shards.is_empty()
    }

    /// How many decisions are kept.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .filter_map(|s| s.lock().ok().map(|s| s.len()))
            .sum()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether the policies can tell users apart only by their roles and AI training: the
/// principal appears only on the left of `in` or `is` (its ancestors, its type) or of
/// `.aiLiteracy` and `has aiLiteracy`, no policy names an entity of the
/// principal's type, and the principal scope is `principal`, `principal in …` or
/// `principal is …`. Anything else (`principal.unit`, `principal == User::"anna"`, a template)
/// makes the answer `false`, and then decisions are remembered per user.
///
/// The other half of the argument is in the engine: the entities it builds hold no reference to
/// a user (AI systems refer to roles, users to roles), and a user's only parents are roles.
pub(crate) fn principal_seen_only_through_roles<'a>(
    policies: impl IntoIterator<Item = Option<&'a Value>>,
    principal_type: &str,
) -> bool {
    policies.into_iter().all(|json| {
        let Some(json) = json else {
            return false;
        };
        let scope_ok = json.get("principal").is_some_and(|scope| {
            let not_principal_type =
                |entity: &Value| entity.get("type").and_then(Value::as_str) != Some(principal_type);
            match scope.get("op").and_then(Value::as_str) {
                Some("All") => true,
                Some("in") => scope.get("entity").is_some_and(not_principal_type),
                Some("is") => match scope.get("in") {
                    None => true,
                    Some(inner) => inner.get("entity").is_some_and(not_principal_type),
                },
                _ => false,
            }
        });
        scope_ok
            && json
                .get("conditions")
                .is_some_and(|conditions| membership_only(conditions, principal_type))
    })
}

/// Walks a policy's JSON: `false` at any `principal` that is not the left operand of `in` or
/// `is`, any entity of the principal's type, any template slot.
fn membership_only(value: &Value, principal_type: &str) -> bool {
    match value {
        Value::Array(items) => items.iter().all(|v| membership_only(v, principal_type)),
        Value::Object(map) => {
            if map.get("Var").and_then(Value::as_str) == Some("principal")
                || map.contains_key("Slot")
            {
                return false;
            }
            if let Some(entity) = map.get("__entity") {
                if entity.get("type").and_then(Value::as_str) == Some(principal_type) {
                    return false;
                }
            }
            if map.len() == 1 {
                // `principal.aiLiteracy` and `principal has aiLiteracy`: the one attribute the
                // key holds beside the roles (see [`user_bits`]).
                for op in [".", "has"] {
                    let operands = map.get(op).and_then(Value::as_object);
                    if let Some(operands) = operands {
                        let on_principal = operands
                            .get("left")
                            .and_then(|left| left.get("Var"))
                            .and_then(Value::as_str)
                            == Some("principal");
                        if on_principal {
                            return operands.get("attr").and_then(Value::as_str)
                                == Some(TRAINING_ATTRIBUTE);
                        }
                    }
                }
                for op in ["in", "is"] {
                    // The operator has a `left` operand; a record field named `in` does not.
                    let operands = map.get(op).and_then(Value::as_object);
                    if let Some(operands) = operands.filter(|o| o.contains_key("left")) {
                        let left_is_principal = operands
                            .get("left")
                            .and_then(|left| left.get("Var"))
                            .and_then(Value::as_str)
                            == Some("principal");
                        return operands.iter().all(|(name, operand)| {
                            (left_is_principal && name == "left")
                                || membership_only(operand, principal_type)
                        });
                    }
                }
            }
            map.values().all(|v| membership_only(v, principal_type))
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn roles_only(policies: &str) -> bool {
        let set = cedar_policy::PolicySet::from_str(policies).unwrap();
        let jsons: Vec<Value> = set.policies().map(|p| p.to_json().unwrap()).collect();
        principal_seen_only_through_roles(jsons.iter().map(Some), "User")
    }

    #[test]
    fn membership_and_type_tests_see_only_roles() {
        assert!(roles_only(
            r#"
            permit (principal, action, resource);
            forbid (principal in Role::"x", action, resource);
            forbid (principal is User in Role::"x", action, resource);
            forbid (principal, action, resource) unless { principal in resource.userGroups };
            forbid (principal, action, resource)
              unless { principal in Role::"employee" || principal is User };
            forbid (principal, action, resource) when { context.data.level > resource.maxDataLevel };
            forbid (principal, action, resource) unless { principal.aiLiteracy };
            forbid (principal, action, resource) when { principal has aiLiteracy && !principal["aiLiteracy"] };
            "#
        ));
    }

    #[test]
    fn anything_that_can_tell_users_apart_sees_more_than_roles() {
        for policy in [
            r#"permit (principal == User::"anna", action, resource);"#,
            r#"permit (principal in User::"anna", action, resource);"#,
            r#"permit (principal is User in User::"anna", action, resource);"#,
            r#"permit (principal, action, resource) when { principal == User::"anna" };"#,
            r#"permit (principal, action, resource) when { principal.unit == "IT" };"#,
            r#"permit (principal, action, resource) when { principal has unit };"#,
            r#"permit (principal, action, resource) when { principal.aiLiteracy && principal.unit == "IT" };"#,
            r#"permit (principal, action, resource) when { principal in User::"anna" };"#,
            r#"permit (principal, action, resource) when { [principal].contains(User::"a") };"#,
            r#"permit (principal, action, resource) when { resource in principal };"#,
            r#"permit (principal, action, resource) when { principal in principal };"#,
            r#"permit (principal, action, resource) when { {"in": principal} == {"in": principal} };"#,
            r#"permit (principal, action, resource) when { if principal in Role::"x" then principal.unit == "a" else true };"#,
        ] {
            let seen_only_roles = roles_only(policy);
            assert!(!seen_only_roles, "{policy}");
        }
    }

    #[test]
    fn the_bundled_policies_see_users_only_through_their_roles() {
        let policies = crate::Policies::bundled().unwrap();
        let jsons = crate::engine::slices::with_json(
            policies
                .set()
                .policies()
                .chain(policies.duties().policies()),
        );
        assert!(principal_seen_only_through_roles(
            jsons.iter().map(|(_, json)| json.as_ref()),
            "User"
        ));
        assert!(
            !principal_seen_only_through_roles([None], "User"),
            "no JSON, no claim"
        );
    }

    #[test]
    fn a_full_memo_starts_over() {
        // One decision: one shard of one entry.
        let memo = DecisionMemo::new(1);
        let key = |ai: &str| DecisionKey {
            assessments: 0,
            user: UserKey::Roles(1),
            ai: ai.into(),
            action: Action::Use,
            context: 0,
            language: Language::Sv,
        };
        let kept = |problem: &str| {
            Arc::new(Remembered::new(Decision::input_error(
                vec![problem.to_string()],
                Language::Sv,
            )))
        };
        memo.insert(key("a"), kept("a"));
        assert_eq!(
            memo.get(&key("a")).map(|r| r.decision().errors.clone()),
            Some(vec!["a".to_string()])
        );
        memo.insert(key("b"), kept("b"));
        assert_eq!(memo.len(), 1);
        assert!(memo.get(&key("a")).is_none());
        assert!(memo.get(&key("b")).is_some());
        // Capacity 0 keeps nothing.
        let none = DecisionMemo::new(0);
        none.insert(key("a"), kept("a"));
        assert!(none.is_empty() && !none.is_enabled());
    }

    #[test]
    fn a_remembered_line_carries_its_request_id_last() {
        let kept = Remembered::new(
            Decision::input_error(vec!["x".to_string()], Language::En)
                .with_request_id(Some("old".into())),
        );
        let mut line = Vec::new();
        kept.write_line(&mut line, Some("r-1")).unwrap();
        let text = String::from_utf8(line).unwrap();
        assert!(text.ends_with("\"requestId\":\"r-1\"}\n"), "{text}");
        assert!(
            !text.contains("old"),
            "the kept decision has no request id of its own: {text}"
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["requestId"], "r-1");
        let mut plain = Vec::new();
        kept.write_line(&mut plain, None).unwrap();
        assert!(!String::from_utf8(plain).unwrap().contains("requestId"));
    }

    #[test]
    fn role_bits_are_a_set() {
        assert_eq!(
            role_bits(&[Role::Elected, Role::Employee]),
            role_bits(&[Role::Employee, Role::Elected, Role::Employee])
        );
        assert_ne!(role_bits(&[Role::Employee]), role_bits(&[Role::Contractor]));
        assert_eq!(role_bits(&[]), 0);
    }
}
