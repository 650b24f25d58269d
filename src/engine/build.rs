//! Building an engine at load: the policies validated against the schema, the register turned
//! into Cedar entities, the policies sliced by action, every rule's explanation made once in
//! both languages, and the requests the engine will build checked against the schema.

use super::*;

/// Which assessments a policy reads (`context.current.<kind>`), from its JSON form.
pub(super) fn assessments_read(json: &serde_json::Value) -> u8 {
    match json {
        serde_json::Value::Array(items) => {
            items.iter().fold(0, |bits, v| bits | assessments_read(v))
        }
        serde_json::Value::Object(map) => {
            let own = map
                .get(".")
                .and_then(|access| {
                    let attr = access.get("attr")?.as_str()?;
                    let record = access.get("left")?.get(".")?;
                    let on_context = record.get("left")?.get("Var")?.as_str()? == "context";
                    (on_context && record.get("attr")?.as_str()? == "current")
                        .then(|| AssessmentKind::from_key(attr))
                        .flatten()
                })
                .map_or(0, AssessmentKind::bit);
            map.values().fold(own, |bits, v| bits | assessments_read(v))
        }
        _ => 0,
    }
}

/// A schema that does not declare what aipolicy builds: the user's mistake (a schema written
/// for other policies), not a bug, so it is a schema error with advice.
pub(super) fn schema_problem(message: String) -> LoadError {
    LoadError::Schema(vec![SourceDiagnostic::new(
        "the Cedar schema",
        std::sync::Arc::from(""),
        0.into(),
        message,
        Some(
            "the schema must declare the entities, attributes, actions and context aipolicy \
             builds; `aipolicy schema cedar` prints the embedded one"
                .into(),
        ),
    )])
}

/// The policies per action, found once at load (see [`crate::engine::slices`]).
pub(super) struct Sliced {
    /// The policies that decide, per action.
    pub(super) decisions: ActionSlices,
    /// The duties with a condition (or a principal or resource scope), per action.
    pub(super) conditional_duties: ActionSlices,
    /// Per action, the positions of the duties that apply to every request for it: those
    /// without a condition and with any principal and resource, whose action scope admits it.
    pub(super) whole_action_duties: HashMap<Action, Vec<usize>>,
}

/// Slices the policies and the duties by action.
pub(super) fn slice_by_action(
    policies: &Policies,
    names: &CedarNames,
    store: &Entities,
    with_json: &[(cedar_policy::Policy, Option<serde_json::Value>)],
) -> Result<Sliced, LoadError> {
    let action_uids: Vec<(Action, EntityUid)> = names
        .action_entities
        .iter()
        .map(|(action, entity)| (*action, entity.uid()))
        .collect();
    let (in_set, duties) = with_json.split_at(policies.set().policies().count());
    let decisions =
        ActionSlices::new(in_set, action_uids.clone(), store).map_err(LoadError::Internal)?;
    let (whole_action, conditional): (Vec<_>, Vec<_>) =
        duties.iter().cloned().partition(|(duty, _)| {
            !duty.has_non_scope_constraint()
                && matches!(duty.principal_constraint(), PrincipalConstraint::Any)
                && matches!(duty.resource_constraint(), ResourceConstraint::Any)
        });
    let conditional_duties =
        ActionSlices::new(&conditional, action_uids.clone(), store).map_err(LoadError::Internal)?;
    // A duty without a condition applies to every request its action scope admits: its slice.
    let whole_action_slices = ActionSlices::new(&whole_action, action_uids.clone(), store)
        .map_err(LoadError::Internal)?;
    let whole_action_duties = action_uids
        .iter()
        .map(|(action, _)| {
            let positions = whole_action_slices
                .get(*action)
                .into_iter()
                .flat_map(|slice| slice.policies())
                .filter_map(|duty| policies.position(duty.id()))
                .collect();
            (*action, positions)
        })
        .collect();
    Ok(Sliced {
        decisions,
        conditional_duties,
        whole_action_duties,
    })
}

impl Engine {
    /// The bundled Askersund policies, schema and register, embedded in the binary.
    pub fn bundled() -> Result<Engine, LoadError> {
        Engine::new(
            Policies::bundled()?,
            policy::bundled_schema()?,
            Register::bundled()?,
        )
    }

    /// An engine from loaded parts. The policies must validate against the schema in Cedar's
    /// strict mode, so that no policy can meet a type error at decision time. Built on a
    /// thread with a stack for the deepest policy accepted (Cedar re-reads each policy's text
    /// for the engine's per-action slices, recursing once per level).
    pub fn new(
        policies: Policies,
        schema: Schema,
        register: Register,
    ) -> Result<Engine, LoadError> {
        crate::io::cedar_text::on_parser_stack(move || {
            Engine::new_here(policies, schema, register)
        })?
    }

    pub(super) fn new_here(
        policies: Policies,
        schema: Schema,
        register: Register,
    ) -> Result<Engine, LoadError> {
        let problems = policies.validate(&schema);
        if !problems.is_empty() {
            return Err(LoadError::Policies(problems));
        }
        let names = CedarNames::new(&schema)?;
        // One JSON form per policy (Cedar makes it by parsing again): for the slices, for the
        // check that the policies see users only through their roles, and for the assessments
        // each rule reads.
        let with_json = slices::with_json(
            policies
                .set()
                .policies()
                .chain(policies.duties().policies()),
        );
        let mut reads_assessments = vec![0u8; policies.rules().len()];
        for (policy, json) in &with_json {
            if let (Some(i), Some(json)) = (policies.position(policy.id()), json) {
                if let Some(reads) = reads_assessments.get_mut(i) {
                    *reads = assessments_read(json);
                }
            }
        }
        let explained = policies
            .rules()
            .iter()
            .zip(reads_assessments)
            .map(|(rule, reads_assessments)| {
                // The law as the reader's language names and cites it.
                let law = |language| {
                    rule.law
                        .as_deref()
                        .map(|law| std::sync::Arc::from(crate::policy::law::law_in(law, language)))
                };
                let (law_sv, law_en) = (law(Language::Sv), law(Language::En));
                let reason =
                    |message: &std::sync::Arc<str>, law: &Option<std::sync::Arc<str>>| Reason {
                        policy: rule.id.clone(),
                        paragraph: rule.paragraph.code().into(),
                        message: message.clone(),
                        law: law.clone(),
                    };
                let pair = |sv, en| [reason(sv, &law_sv), reason(en, &law_en)];
                Explained {
                    effect: rule.effect,
                    reason: pair(&rule.sv, &rule.en),
                    obligation: match (&rule.obligation_sv, &rule.obligation_en) {
                        _ if rule.duty => Some(pair(&rule.sv, &rule.en)),
                        (Some(sv), Some(en)) => Some(pair(sv, en)),
                        _ => None,
                    },
                    reads_assessments,
                }
            })
            .collect();
        let ai_entities = register
            .ai_systems()
            .iter()
            .map(|ai| {
                // Cedar sees the contest route in force: the system's own, else the register's.
                let route = register.contest_route_of(ai);
                let in_force = if route == ai.contest_route.as_deref() {
                    Cow::Borrowed(ai)
                } else {
                    Cow::Owned(AiSystem {
                        contest_route: route.map(Into::into),
                        ..ai.clone()
                    })
                };
                Ok((ai.id.clone(), names.ai_entity(&in_force, true)?))
            })
            .collect::<Result<HashMap<_, _>, LoadError>>()?;
        let user_entities = register
            .users()
            .iter()
            .map(|user| Ok((user.id.clone(), names.user_entity(user)?)))
            .collect::<Result<HashMap<_, _>, LoadError>>()?;
        let incident_channel: Option<Arc<str>> = register.incident_channel().map(Into::into);
        let ai_index = register
            .ai_systems()
            .iter()
            .filter_map(|ai| {
                let entity = ai_entities.get(&ai.id)?;
                Some((
                    ai.id.clone(),
                    RegisteredAi {
                        uid: entity.uid(),
                        windows: register.windows(ai),
                        incident_channel: register.incident_channel_of(ai).map(Arc::from),
                    },
                ))
            })
            .collect();
        let ai_stores = ai_entities
            .values()
            .map(|ai| {
                let store = Entities::from_entities(std::iter::once(ai.clone()), None)
                    .map_err(|e| LoadError::Internal(format!("store of `{}`: {e}", ai.uid())))?;
                Ok((ai.uid(), store))
            })
            .collect::<Result<HashMap<_, _>, LoadError>>()?;
        // By folded id: a query's user id is compared as a directory compares it.
        let user_uids = user_entities
            .iter()
            .map(|(id, e)| (fold_user_id(id).into_owned(), e.uid()))
            .collect();
        let user_names = KnownNames::new(register.users().iter().map(|u| u.id.as_str()));
        let users_by_roles = memo::principal_seen_only_through_roles(
            with_json.iter().map(|(_, json)| json.as_ref()),
            &names.user.to_string(),
        );
        let representatives = if users_by_roles {
            names.role_representatives()?
        } else {
            Vec::new()
        };
        let role_representatives = representatives.iter().map(Entity::uid).collect();
        // Checked once, at load, against the schema: what the engine builds is what it declares.
        let store = Entities::from_entities(
            ai_entities
                .into_values()
                .chain(user_entities.into_values())
                .chain(representatives)
                .chain(names.action_entities.values().cloned()),
            Some(&schema),
        )
        .map_err(|e| {
            schema_problem(format!(
                "the register's entities do not match the Cedar schema: {e}"
            ))
        })?;
        let sliced = slice_by_action(&policies, &names, &store, &with_json)?;
        let ai_names = KnownNames::new(register.ai_systems().iter().map(|ai| ai.id.as_str()));
        let engine = Engine {
            policies,
            schema,
            register,
            explained,
            names,
            store,
            ai_stores,
            static_duties: sliced.whole_action_duties,
            conditional_duties: sliced.conditional_duties,
            slices: sliced.decisions,
            contexts: ContextCache::default(),
            role_representatives,
            ai_index,
            incident_channel,
            clock: Clock::default(),
            own_clock_only: false,
            ai_names,
            user_names,
            user_uids,
            registered_users_only: false,
            authorizer: Authorizer::new(),
            language: Language::default(),
        };
        engine.check_requests_against_the_schema()?;
        Ok(engine)
    }

    /// Builds one request per action with the schema's check, so that a schema and an engine
    /// that disagree on the context's shape fail at load instead of erroring at decision time.
    pub(super) fn check_requests_against_the_schema(&self) -> Result<(), LoadError> {
        let user = self
            .names
            .user_entity(&User::new("load-check", []))
            .map_err(|e| LoadError::Internal(e.to_string()))?;
        let ai = self
            .names
            .ai_entity(&AiSystem::unregistered("load-check"), false)?;
        for action in Action::ALL {
            let query = Query::new(UserRef::registered("load-check"), "load-check", ["-"])
                .with_action(action);
            let prepared = self
                .build_request(
                    Party::Built(Box::new(user.clone())),
                    Party::Built(Box::new(ai.clone())),
                    &query,
                    DataProfile::default(),
                    Standings::default(),
                )
                .map_err(LoadError::Internal)?;
            let r = &prepared.request;
            let (Some(p), Some(a), Some(res)) = (r.principal(), r.action(), r.resource()) else {
                return Err(LoadError::Internal(
                    "request without principal, action or resource".into(),
                ));
            };
            let context = r
                .context()
                .cloned()
                .ok_or_else(|| LoadError::Internal("request without context".into()))?;
            Request::new(
                p.clone(),
                a.clone(),
                res.clone(),
                context,
                Some(&self.schema),
            )
            .map_err(|e| {
                schema_problem(format!(
                    "the request aipolicy builds for action `{action}` does not match the Cedar schema: {e}"
                ))
            })?;
        }
        Ok(())
    }
}
