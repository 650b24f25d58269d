//! The Cedar names the schema gives aipolicy's entities, and the entities of the register's
//! users, roles and AI systems built with them.

use super::*;

#[derive(Debug, Clone)]
pub(super) struct CedarNames {
    pub(super) user: EntityTypeName,
    pub(super) role: EntityTypeName,
    pub(super) ai: EntityTypeName,
    /// Action entities with their groups (e.g. `use in anyUse`), from the schema: without them
    /// `action in Action::"anyUse"` would be false and every such forbid silently skipped.
    pub(super) action_entities: HashMap<Action, Entity>,
}

impl CedarNames {
    pub(super) fn new(schema: &Schema) -> Result<CedarNames, LoadError> {
        let name =
            |s: &str| EntityTypeName::from_str(s).map_err(|e| LoadError::Internal(e.to_string()));
        let action_type = name("Action")?;
        let actions = Action::ALL
            .into_iter()
            .map(|a| {
                (
                    a,
                    EntityUid::from_type_name_and_id(
                        action_type.clone(),
                        EntityId::new(a.as_str()),
                    ),
                )
            })
            .collect::<HashMap<_, _>>();
        let declared = schema
            .action_entities()
            .map_err(|e| schema_problem(format!("the schema's actions cannot be read: {e}")))?;
        let mut action_entities = HashMap::new();
        for (action, uid) in &actions {
            let entity = declared.get(uid).cloned().ok_or_else(|| {
                schema_problem(format!("the Cedar schema declares no action `{action}`"))
            })?;
            action_entities.insert(*action, entity);
        }
        Ok(CedarNames {
            user: name("User")?,
            role: name("Role")?,
            ai: name("AiSystem")?,
            action_entities,
        })
    }

    /// Per set of roles and AI training (indexed by [`user_bits`]), a user with exactly those,
    /// whose id no register user can have (register ids are letters, digits, `.`, `_` and `-`).
    pub(super) fn role_representatives(&self) -> Result<Vec<Entity>, LoadError> {
        let trained_bit = 1 << Role::ALL.len();
        (0..USER_CLASSES)
            .map(|bits| {
                let roles: Vec<Role> = Role::ALL
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| bits & (1 << i) != 0)
                    .map(|(_, role)| role)
                    .collect();
                let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                let trained = bits & trained_bit != 0;
                let mut user = User::new(
                    format!(
                        "(any user with roles: {}{})",
                        names.join(" "),
                        if trained { "; trained" } else { "" }
                    ),
                    roles,
                );
                user.ai_literacy = Some(trained);
                let entity = self.user_entity(&user)?;
                debug_assert_eq!(usize::from(user_bits(&user)), bits);
                Ok(entity)
            })
            .collect()
    }

    pub(super) fn role_uid(&self, role: crate::model::register::Role) -> EntityUid {
        EntityUid::from_type_name_and_id(self.role.clone(), EntityId::new(role.as_str()))
    }

    pub(super) fn user_entity(&self, user: &User) -> Result<Entity, LoadError> {
        let uid = EntityUid::from_type_name_and_id(self.user.clone(), EntityId::new(&user.id));
        let mut attrs = HashMap::new();
        if let Some(unit) = &user.unit {
            attrs.insert(
                "unit".to_string(),
                RestrictedExpression::new_string(unit.clone()),
            );
        }
        // Not known counts as not trained: the AI Act's duties then apply (art. 4, 26(2)).
        attrs.insert(
            "aiLiteracy".to_string(),
            RestrictedExpression::new_bool(user.ai_literacy.unwrap_or(false)),
        );
        let parents: HashSet<EntityUid> = user.roles.iter().map(|&r| self.role_uid(r)).collect();
        Entity::new(uid, attrs, parents).map_err(|e| LoadError::Internal(e.to_string()))
    }

    pub(super) fn ai_entity(&self, ai: &AiSystem, registered: bool) -> Result<Entity, LoadError> {
        use crate::model::attributes::{Value, AI_SYSTEM};
        let uid = EntityUid::from_type_name_and_id(self.ai.clone(), EntityId::new(&ai.id));
        let mut attrs: HashMap<String, RestrictedExpression> = HashMap::with_capacity(16);
        attrs.insert(
            "registered".to_string(),
            RestrictedExpression::new_bool(registered),
        );
        for attribute in AI_SYSTEM {
            let Some(value) = (attribute.read)(ai) else {
                continue;
            };
            let expression = match value {
                Value::Bool(b) => RestrictedExpression::new_bool(b),
                Value::Long(n) => RestrictedExpression::new_long(n),
                Value::String(s) => RestrictedExpression::new_string(s),
                Value::Roles(roles) => RestrictedExpression::new_set(
                    roles
                        .into_iter()
                        .map(|r| RestrictedExpression::new_entity_uid(self.role_uid(r))),
                ),
            };
            attrs.insert(attribute.name.to_string(), expression);
        }
        Entity::new(uid, attrs, HashSet::new()).map_err(|e| LoadError::Internal(e.to_string()))
    }
}
