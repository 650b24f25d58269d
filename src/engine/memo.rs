//! Remembering decisions: a key that holds everything a decision depends on, and a bounded map.
//!
//! A decision is a function of the request Cedar sees (the user's entity, the action, the AI
//! system, the context) and the engine's fixed policies and register. [`DecisionKey`] is that
//! request in a few bytes: the AI system's id, the action, the context's slot (data profile,
//! flags and the assessments in force), how the assessments stand on the day, and the user. For the user, when the policies look at the principal only through its
//! roles (`principal in Role::"employee"`, `principal in resource.userGroups`, `principal is
//! User`) and its AI training (`principal.aiLiteracy`) — which
//! [`principal_seen_only_through_roles`] checks on the policies at load — the key holds only
//! those, so that every trained employee shares one entry per AI system, action and context: an
//! audit that re-decides a register of thousands of users asks Cedar once per kind of user.
//! Otherwise the key holds the user's identity.

use std::collections::HashMap;
use std::hash::Hash;

use serde_json::Value;

use crate::model::decision::Language;
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

/// A bounded map from [`DecisionKey`] to what a caller keeps of a decision (the
/// [`Decision`](crate::Decision) itself, or its JSON). When full it starts over empty: simple,
/// and bounded whatever the input.
///
/// ```
/// use aipolicy::{DecisionMemo, Engine, Language, Query, UserRef};
/// let engine = Engine::bundled().unwrap();
/// let mut memo = DecisionMemo::new(1024);
/// let query = Query::new(UserRef::registered("anna"), "copilot-chat", ["intern"]);
/// let first = engine.decide_memoized(&query, Language::Sv, &mut memo).unwrap();
/// let again = engine.decide_memoized(&query, Language::Sv, &mut memo).unwrap();
/// assert_eq!(first, again);
/// assert_eq!(memo.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct DecisionMemo<V> {
    entries: HashMap<DecisionKey, V>,
    capacity: usize,
}

impl<V> DecisionMemo<V> {
    /// A memo that holds at most `capacity` decisions.
    pub fn new(capacity: usize) -> Self {
        DecisionMemo {
            entries: HashMap::with_capacity(capacity.min(1 << 16)),
            capacity: capacity.max(1),
        }
    }

    /// What was kept for `key`.
    pub fn get(&self, key: &DecisionKey) -> Option<&V> {
        self.entries.get(key)
    }

    /// Keeps `value` for `key`; when the memo is full it is emptied first.
    pub fn insert(&mut self, key: DecisionKey, value: V) {
        if self.entries.len() >= self.capacity {
            self.entries.clear();
        }
        self.entries.insert(key, value);
    }

    /// How many decisions are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
        let mut memo = DecisionMemo::new(2);
        let key = |ai: &str| DecisionKey {
            assessments: 0,
            user: UserKey::Roles(1),
            ai: ai.into(),
            action: Action::Use,
            context: 0,
            language: Language::Sv,
        };
        memo.insert(key("a"), 1);
        memo.insert(key("b"), 2);
        assert_eq!(memo.get(&key("b")), Some(&2));
        memo.insert(key("c"), 3);
        assert_eq!(memo.len(), 1);
        assert_eq!(memo.get(&key("a")), None);
        assert_eq!(memo.get(&key("c")), Some(&3));
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
