//! Per-action policy slices: the policies that can apply to one action, found once at load.
//!
//! Cedar evaluates every policy of a set on every request, scope included; an action scope
//! such as `action in [Action::"use", Action::"decide"]` builds a set value each time. A request
//! names exactly one action, so a policy whose action scope excludes it can never apply, and for
//! one whose scope includes it the scope is always true. Each slice therefore holds only the
//! policies whose scope admits its action, with that scope lifted to `action` (any action). The
//! decision, reasons and duties are the same as over the whole set; `tests/properties.rs`
//! compares the engine with Cedar over the whole set on random registers and queries.

use std::collections::{HashMap, HashSet};

use cedar_policy::{ActionConstraint, Entities, EntityUid, Policy, PolicySet};
use serde_json::Value;

use crate::model::query::Action;

/// For each action, the policies of a set that can apply to it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActionSlices {
    by_action: HashMap<Action, PolicySet>,
}

impl ActionSlices {
    /// Slices `policies` (each with its JSON form, see [`with_json`]) for every action.
    /// `actions` gives each action's uid; `store` holds the action entities with their groups
    /// (e.g. `use in anyUse`).
    pub(crate) fn new(
        policies: &[(Policy, Option<Value>)],
        actions: impl IntoIterator<Item = (Action, EntityUid)>,
        store: &Entities,
    ) -> Result<ActionSlices, String> {
        let actions: Vec<(Action, EntityUid, HashSet<&EntityUid>)> = actions
            .into_iter()
            .map(|(action, uid)| {
                let groups = store
                    .ancestors(&uid)
                    .map(|ancestors| ancestors.collect())
                    .unwrap_or_default();
                (action, uid, groups)
            })
            .collect();
        let mut by_action: HashMap<Action, PolicySet> = actions
            .iter()
            .map(|(action, _, _)| (*action, PolicySet::new()))
            .collect();
        for (policy, json) in policies {
            let constraint = policy.action_constraint();
            let mut lifted_once = None;
            for (action, uid, groups) in &actions {
                if !admits(&constraint, uid, groups) {
                    continue;
                }
                let lifted = lifted_once.get_or_insert_with(|| lifted(policy, json.as_ref()));
                if let Some(slice) = by_action.get_mut(action) {
                    slice
                        .add(lifted.clone())
                        .map_err(|e| format!("slice for action `{action}`: {e}"))?;
                }
            }
        }
        Ok(ActionSlices { by_action })
    }

    /// The slice for `action`; `None` only for an action the slices were not built for.
    pub(crate) fn get(&self, action: Action) -> Option<&PolicySet> {
        self.by_action.get(&action)
    }
}

/// Each policy with its JSON form (`None` if it has none). Cedar makes the JSON form by
/// parsing the policy's text again, which costs more than the first parse: done once per
/// policy at load, for the slices and [`crate::engine::memo`] alike.
pub(crate) fn with_json<'a>(
    policies: impl IntoIterator<Item = &'a Policy>,
) -> Vec<(Policy, Option<Value>)> {
    policies
        .into_iter()
        .map(|policy| (policy.clone(), policy.to_json().ok()))
        .collect()
}

/// Whether an action scope admits the action `uid`, member of `groups`.
fn admits(constraint: &ActionConstraint, uid: &EntityUid, groups: &HashSet<&EntityUid>) -> bool {
    match constraint {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(one) => one == uid,
        ActionConstraint::In(any_of) => any_of.iter().any(|a| a == uid || groups.contains(a)),
    }
}

/// The policy with its action scope lifted to `action`. Should the policy not round-trip
/// through Cedar's JSON form, it is kept as it is: its scope is then evaluated, which is slower
/// but gives the same answer.
fn lifted(policy: &Policy, json: Option<&Value>) -> Policy {
    if matches!(policy.action_constraint(), ActionConstraint::Any) {
        return policy.clone();
    }
    let Some(mut json) = json.cloned() else {
        return policy.clone();
    };
    let Some(scope) = json.get_mut("action") else {
        return policy.clone();
    };
    *scope = serde_json::json!({ "op": "All" });
    Policy::from_json(Some(policy.id().clone()), json).unwrap_or_else(|_| policy.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn uid(s: &str) -> EntityUid {
        EntityUid::from_str(s).unwrap()
    }

    #[test]
    fn a_slice_keeps_only_the_policies_whose_scope_admits_the_action_and_lifts_their_scope() {
        let set = PolicySet::from_str(
            r#"
            @id("any") permit (principal, action, resource);
            @id("eq-use") forbid (principal, action == Action::"use", resource);
            @id("eq-develop") forbid (principal, action == Action::"develop", resource);
            @id("in-group") forbid (principal, action in Action::"anyUse", resource) when { context.x };
            @id("in-list") forbid (principal, action in [Action::"decide", Action::"develop"], resource);
            "#,
        )
        .unwrap();
        let store = Entities::from_json_str(
            r#"[
              {"uid": {"type": "Action", "id": "use"}, "attrs": {}, "parents": [{"type": "Action", "id": "anyUse"}]},
              {"uid": {"type": "Action", "id": "develop"}, "attrs": {}, "parents": []},
              {"uid": {"type": "Action", "id": "anyUse"}, "attrs": {}, "parents": []}
            ]"#,
            None,
        )
        .unwrap();
        let slices = ActionSlices::new(
            &with_json(set.policies()),
            [
                (Action::Use, uid(r#"Action::"use""#)),
                (Action::Develop, uid(r#"Action::"develop""#)),
            ],
            &store,
        )
        .unwrap();
        let ids = |action| {
            let mut ids: Vec<String> = slices
                .get(action)
                .unwrap()
                .policies()
                .filter_map(|p| p.annotation("id").map(str::to_string))
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(Action::Use), ["any", "eq-use", "in-group"]);
        assert_eq!(ids(Action::Develop), ["any", "eq-develop", "in-list"]);
        let use_slice = slices.get(Action::Use).unwrap();
        for policy in use_slice.policies() {
            assert_eq!(policy.action_constraint(), ActionConstraint::Any);
        }
        let in_group = use_slice
            .policies()
            .find(|p| p.annotation("id") == Some("in-group"))
            .expect("annotations survive");
        let original = set
            .policies()
            .find(|p| p.annotation("id") == Some("in-group"));
        assert_eq!(Some(in_group.id()), original.map(|p| p.id()), "ids survive");
        assert!(
            in_group.has_non_scope_constraint(),
            "the condition survives"
        );
        assert!(slices.get(Action::Publish).is_none());
    }
}
