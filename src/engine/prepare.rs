//! The first step of a decision: a query turned into Cedar's terms, checked against the
//! register (the user as the register knows them, the AI system, the data profile, the day's
//! assessments), with the notes the decision will carry.

use super::*;

/// A query turned into Cedar's terms: the request and the entities it needs.
///
/// Exposed so that a caller (or a benchmark) can ask Cedar directly with exactly what the
/// engine asks it.
#[derive(Debug, Clone)]
pub struct PreparedRequest<'e> {
    /// The Cedar request.
    pub request: Request,
    /// The entities: the engine's own store of every register entity when the user and the AI
    /// system are both registered (nothing is built per request), else a small store with the
    /// user, the AI system and the action.
    pub entities: Cow<'e, Entities>,
    /// The action asked about.
    pub action: Action,
    /// The policies that can apply to this action, as the engine gives them to Cedar: the
    /// policy set sliced by action at load, with each action scope lifted (see
    /// [`Engine::policies_for`]). Cedar gives the same answer over the whole set.
    pub policies: &'e PolicySet,
    /// Roles the query asserted for a user whom the register lists without them: the register
    /// is the authority, so Cedar is asked about the user with the roles both grant, and any
    /// decision but reporting an incident is a deny that names these roles (U0).
    pub roles_beyond_register: Vec<Role>,
    /// The user is one the register does not list, and the engine admits only the register's
    /// users ([`Engine::registered_users_only`]): any decision but reporting an incident is a
    /// deny that says so (U0).
    pub unregistered_user: bool,
    /// What the decision will note without changing it (e.g. an AI system not in the register),
    /// said in the decision's language when it is made.
    pub notes: Vec<Note>,
    /// The query's `requestId`.
    pub request_id: Option<String>,
    /// How the AI system's assessments stand on the day of the decision (the query's `at`,
    /// else the engine clock's today; none done for a system not in the register); Cedar sees
    /// which hold as `context.current`.
    pub assessments: Standings,
    /// Where incidents with this AI system are reported (U4), when the register names it.
    pub incident_channel: Option<Arc<str>>,
}

/// What a query asserted about a user that the register, the authority, does not grant.
#[derive(Debug, Default)]
pub(super) struct Conflict<'u> {
    /// Roles the register does not give the user.
    pub(super) roles: Vec<Role>,
    /// A unit other than the register's.
    pub(super) other_unit: Option<&'u str>,
    /// An AI training (`aiLiteracy`) other than the register's.
    pub(super) other_training: Option<bool>,
}

/// What a decision key is made from and a request prepared from alike: found once per query
/// on the memoized path ([`Engine::decide_remembered`]).
pub(super) struct Resolved<'q> {
    /// An inline user as the register knows them (with no conflict: a key is made only then).
    pub(super) inline: Option<Cow<'q, User>>,
    /// The strictest profile of the query's data classes.
    pub(super) profile: DataProfile,
    /// How the AI system's assessments stand on the day.
    pub(super) assessments: Standings,
}

impl Conflict<'_> {
    pub(super) fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.other_unit.is_none() && self.other_training.is_none()
    }
}

/// The user or the AI system of a request: one of the register (in the engine's store), or one
/// built for this request (an inline user, an AI system not in the register).
pub(super) enum Party<'a> {
    Registered(&'a EntityUid),
    Built(Box<Entity>),
}

impl Party<'_> {
    pub(super) fn uid(&self) -> EntityUid {
        match self {
            Party::Registered(uid) => (*uid).clone(),
            Party::Built(entity) => entity.uid(),
        }
    }

    pub(super) fn into_entity(self, store: &Entities) -> Result<Entity, String> {
        match self {
            Party::Built(entity) => Ok(*entity),
            Party::Registered(uid) => store
                .get(uid)
                .cloned()
                .ok_or_else(|| format!("`{uid}` is missing from the engine's store")),
        }
    }
}

impl Engine {
    /// Turns a query into Cedar's request and entities, checking it against the register:
    /// exactly what [`Engine::decide`] asks Cedar.
    ///
    /// When the policies tell users apart only by their roles (see [`crate::engine::memo`]), an inline
    /// user is asked about as a user of the engine's store with the same roles: Cedar then
    /// finds every entity in the store instead of one built and linked for this request, and
    /// gives the same decision. [`Engine::prepare_exact`] keeps the user as given.
    pub fn prepare(&self, query: &Query) -> Result<PreparedRequest<'_>, InputError> {
        let asked = self.for_preparing(query)?;
        self.prepare_as(&asked, true, self.today(), None)
    }

    /// [`Engine::prepare`] with the query's own user always: for asking Cedar about other
    /// policies (such as `aipolicy verify`'s invariants), which may look at more than roles.
    pub fn prepare_exact(&self, query: &Query) -> Result<PreparedRequest<'_>, InputError> {
        let asked = self.for_preparing(query)?;
        self.prepare_as(&asked, false, self.today(), None)
    }

    /// `today`: the day of a query without `at`; `resolved`: what [`Engine::keyed`] found for
    /// it, when the key was made first (then it is not looked up again).
    pub(super) fn prepare_as<'q>(
        &self,
        query: &'q Query,
        representatives: bool,
        today: Date,
        resolved: Option<Resolved<'q>>,
    ) -> Result<PreparedRequest<'_>, InputError> {
        let (resolved_user, resolved_parts) = match resolved {
            Some(Resolved {
                inline,
                profile,
                assessments,
            }) => (inline, Some((profile, assessments))),
            None => (None, None),
        };
        let mut problems = Vec::new();
        let mut notes = Vec::new();
        let mut roles_beyond_register = Vec::new();
        let mut unregistered_user = false;
        let user = match &query.user {
            UserRef::Registered(id) => match self.user_uids.get(&*fold_user_id(id)) {
                Some(uid) => Some(Party::Registered(uid)),
                None => {
                    let closest = self.user_names.closest(id);
                    let hint_sv = closest
                        .map(|known| format!("menade du `{known}`? Ange annars "))
                        .unwrap_or_else(|| "ange ".to_string());
                    let hint_en = closest
                        .map(|known| format!("did you mean `{known}`? Else "))
                        .unwrap_or_default();
                    problems.push(FieldError::in_both(
                        "user",
                        format!(
                            "okänd användare `{id}`; {hint_sv}en användare i registret eller användaren direkt som {{\"id\": …, \"roles\": […]}}"
                        ),
                        format!(
                            "unknown user `{id}`; {hint_en}name a user of the register or give the user inline as {{\"id\": …, \"roles\": […]}}"
                        ),
                    ));
                    None
                }
            },
            UserRef::Inline(asserted) => {
                unregistered_user =
                    self.registered_users_only && self.register.user(&asserted.id).is_none();
                let (user, conflict) = match resolved_user {
                    // The key was made only for a user without conflict.
                    Some(user) => (user, Conflict::default()),
                    None => self.as_registered(asserted),
                };
                if let Some(other) = conflict.other_unit {
                    notes.push(Note::OtherUnit {
                        user: user.id.clone(),
                        register: user.unit.clone(),
                        asserted: other.to_string(),
                    });
                }
                if let Some(asserted) = conflict.other_training {
                    notes.push(Note::OtherTraining {
                        user: user.id.clone(),
                        asserted,
                    });
                }
                roles_beyond_register = conflict.roles;
                // The store's user with the same roles, when the policies see only roles (an
                // inline user's entity, a string attribute and roles, always builds).
                let representative = self
                    .role_representatives
                    .get(usize::from(user_bits(&user)))
                    .filter(|_| representatives);
                match representative {
                    Some(uid) => Some(Party::Registered(uid)),
                    None => match self.names.user_entity(&user) {
                        Ok(entity) => Some(Party::Built(Box::new(entity))),
                        Err(e) => {
                            problems.push(FieldError::new("user", e.to_string()));
                            None
                        }
                    },
                }
            }
        };
        let mut classes = Vec::with_capacity(query.data.len());
        let looked_up = if resolved_parts.is_some() {
            // Every class was found when the key was made.
            &[][..]
        } else {
            &query.data[..]
        };
        for (i, id) in looked_up.iter().enumerate() {
            match self.register.data_class(id) {
                Some(class) => classes.push(class),
                None => {
                    let ids: Vec<&str> = self
                        .register
                        .data_classes()
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect();
                    let all = ids.join(", ");
                    let (sv, en) =
                        match crate::diagnostics::suggest::closest(id, ids.iter().copied()) {
                            Some(known) => (
                                format!("menade du `{known}`? Registrets klasser är {all}"),
                                format!("did you mean `{known}`? Expected one of {all}"),
                            ),
                            None => (
                                format!("registrets klasser är {all}"),
                                format!("expected one of {all}"),
                            ),
                        };
                    problems.push(FieldError::in_both(
                        format!("data[{i}]"),
                        format!("okänd informationsklass `{id}`; {sv}"),
                        format!("unknown data class `{id}`; {en}"),
                    ))
                }
            }
        }
        if self.own_clock_only && query.at.is_some() {
            let today = self.clock.today();
            problems.push(FieldError::in_both(
                "at",
                format!(
                    "tas inte emot här: den här motorn beslutar efter sin egen klocka (i dag, {today}); pröva en tidigare eller planerad fråga med `aipolicy check` eller `aipolicy batch`, utan `--log`"
                ),
                format!(
                    "not accepted here: this engine decides on its own clock (today, {today}); re-decide a past or planned question with `aipolicy check` or `aipolicy batch`, without `--log`"
                ),
            ));
        }
        if query.data.is_empty() && query.action.requires_data() {
            problems.push(FieldError::in_both(
                "data",
                format!(
                    "obligatoriskt fält saknas: handlingen `{}` måste ange vilka informationsklasser den hanterar (U2)",
                    query.action
                ),
                format!(
                    "missing required field: action `{}` must name the data classes it handles (U2)",
                    query.action
                ),
            ));
        }
        let registered_ai = self.ai_index.get(&query.ai);
        let ai = match registered_ai {
            Some(registered) => Some(Party::Registered(&registered.uid)),
            None => match self
                .names
                .ai_entity(&AiSystem::unregistered(&query.ai), false)
            {
                Ok(entity) => Some(Party::Built(Box::new(entity))),
                Err(e) => {
                    problems.push(FieldError::new("ai", e.to_string()));
                    None
                }
            },
        };
        let (Some(user), Some(ai), true) = (user, ai, problems.is_empty()) else {
            return Err(InputError { problems });
        };
        if registered_ai.is_none() {
            notes.push(self.unregistered_ai_note(&query.ai));
        }
        if let UserRef::Inline(asserted) = &query.user {
            if self.training_on_the_callers_word(asserted, &query.ai) {
                notes.push(Note::TrainingOnTheCallersWord {
                    user: asserted.id.clone(),
                    ai: query.ai.clone(),
                });
            }
        }
        if !roles_beyond_register.is_empty() && query.action == Action::ReportIncident {
            notes.push(Note::RolesBeyondRegisterOnIncident {
                user: query.user.id().to_string(),
                roles: roles_beyond_register.clone(),
            });
        }
        let (profile, assessments) = match resolved_parts {
            Some(parts) => parts,
            None => (
                DataProfile::fold(classes, self.unit_of(&query.user)),
                registered_ai
                    .map(|registered| registered.windows.on(query.at.unwrap_or(today)))
                    .unwrap_or_default(),
            ),
        };
        let mut prepared = self
            .build_request(user, ai, query, profile, assessments)
            .map_err(|e| InputError::at("", e))?;
        prepared.roles_beyond_register = roles_beyond_register;
        prepared.unregistered_user = unregistered_user;
        prepared.notes = notes;
        prepared.request_id.clone_from(&query.request_id);
        prepared.incident_channel = self.incident_channel_of(registered_ai);
        Ok(prepared)
    }

    /// An inline user as the register knows them: for an id the register lists, the roles
    /// both grant and the register's unit and AI training. Beside it, what the query asserted
    /// that the register does not grant: roles, and a unit other than the register's. An id
    /// the register does not list is taken as given.
    ///
    /// A query that asserts a role beyond the register is denied for that (U0) whatever else
    /// holds; Cedar is then asked about the user with every role the register grants, so that
    /// the other reasons of the deny are true of the person the register knows (a contractor
    /// sent as an employee is not also told that only contractors, employees and elected
    /// officials may use AI).
    pub(super) fn as_registered<'u>(&'u self, asserted: &'u User) -> (Cow<'u, User>, Conflict<'u>) {
        let Some(listed) = self.register.user(&asserted.id) else {
            return (Cow::Borrowed(asserted), Conflict::default());
        };
        let (granted, beyond): (Vec<Role>, Vec<Role>) = asserted
            .roles
            .iter()
            .partition(|role| listed.roles.contains(role));
        let other_unit = asserted
            .unit
            .as_deref()
            .filter(|unit| listed.unit.as_deref() != Some(*unit));
        let other_training = asserted
            .ai_literacy
            .filter(|&trained| trained != listed.ai_literacy.unwrap_or(false));
        let user = User {
            id: listed.id.clone(),
            roles: if beyond.is_empty() {
                granted
            } else {
                listed.roles.clone()
            },
            unit: listed.unit.clone(),
            ai_literacy: listed.ai_literacy,
        };
        (
            Cow::Owned(user),
            Conflict {
                roles: beyond,
                other_unit,
                other_training,
            },
        )
    }

    /// Whether `asserted`, a user the register does not list, is given the AI training for a
    /// high-risk system, where the training decides access (AI Act art. 26(2)): the register
    /// cannot vouch for it, so the decision notes it.
    pub(super) fn training_on_the_callers_word(&self, asserted: &User, ai: &str) -> bool {
        asserted.ai_literacy == Some(true)
            && self.register.user(&asserted.id).is_none()
            && self
                .register
                .ai_system(ai)
                .is_some_and(|ai| ai.ai_act_risk == Some(crate::model::register::AiActRisk::High))
    }

    /// The user as the engine decides about them: the register's user for a registered id,
    /// an inline user as the register knows them (see the query's `user`); `None` for an id the
    /// register does not list.
    pub fn user_as_decided<'u>(&'u self, user: &'u UserRef) -> Option<Cow<'u, User>> {
        match user {
            UserRef::Registered(id) => self.register.user(id).map(Cow::Borrowed),
            UserRef::Inline(asserted) => Some(self.as_registered(asserted).0),
        }
    }

    /// The unit a user is taken to be in: the register's for a user it lists, else the
    /// query's.
    pub(super) fn unit_of<'q>(&'q self, user: &'q UserRef) -> Option<&'q str> {
        match self.register.user(user.id()) {
            Some(listed) => listed.unit.as_deref(),
            None => match user {
                UserRef::Inline(user) => user.unit.as_deref(),
                UserRef::Registered(_) => None,
            },
        }
    }

    /// Where incidents with an AI system are reported (U4): its own channel for a system of
    /// the register (`registered`), else the register's.
    pub(super) fn incident_channel_of(
        &self,
        registered: Option<&RegisteredAi>,
    ) -> Option<Arc<str>> {
        match registered {
            Some(registered) => registered.incident_channel.clone(),
            None => self.incident_channel.clone(),
        }
    }

    /// The note for an AI system the register does not list, with the closest id it does.
    pub(super) fn unregistered_ai_note(&self, id: &str) -> Note {
        Note::UnregisteredAi {
            id: id.to_string(),
            closest: self.ai_names.closest(id).map(str::to_string),
        }
    }

    pub(super) fn build_request(
        &self,
        user: Party<'_>,
        ai: Party<'_>,
        query: &Query,
        profile: DataProfile,
        assessments: Standings,
    ) -> Result<PreparedRequest<'_>, String> {
        let action_entity = self
            .names
            .action_entities
            .get(&query.action)
            .ok_or_else(|| format!("no Cedar action for `{}`", query.action))?;
        let context = self
            .contexts
            .get(profile, &query.context, assessments.current_bits())?;
        let request = Request::new(user.uid(), action_entity.uid(), ai.uid(), context, None)
            .map_err(|e| e.to_string())?;
        let entities = match (user, ai) {
            (Party::Registered(_), Party::Registered(_)) => Cow::Borrowed(&self.store),
            (Party::Built(user), Party::Registered(ai)) if self.ai_stores.contains_key(ai) => {
                let store = self.ai_stores.get(ai).cloned().unwrap_or_default();
                Cow::Owned(
                    store
                        .add_entities([*user, action_entity.clone()], None)
                        .map_err(|e| e.to_string())?,
                )
            }
            (user, ai) => {
                let owned = [user, ai]
                    .into_iter()
                    .map(|party| party.into_entity(&self.store))
                    .collect::<Result<Vec<_>, _>>()?;
                Cow::Owned(
                    Entities::from_entities(owned.into_iter().chain([action_entity.clone()]), None)
                        .map_err(|e| e.to_string())?,
                )
            }
        };
        Ok(PreparedRequest {
            request,
            entities,
            action: query.action,
            policies: self.policies_for(query.action),
            roles_beyond_register: Vec::new(),
            unregistered_user: false,
            notes: Vec::new(),
            request_id: None,
            assessments,
            incident_channel: None,
        })
    }
}
