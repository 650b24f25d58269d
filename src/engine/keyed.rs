//! Deciding through the memo: the key of a query (everything its decision depends on, found
//! with what the request is then prepared from) and the one memoized step under
//! [`Engine::decide_memoized`], the batch and the decision service.

use super::*;

impl Engine {
    /// Whether the policies tell users apart only by their roles and AI training (see
    /// [`DecisionKey`]): then a user's unit matters only through the data's need-to-know.
    pub(crate) fn sees_users_only_by_roles(&self) -> bool {
        !self.role_representatives.is_empty()
    }

    /// Decides a query, or takes its decision from `memo` when an equal one was decided before
    /// (see [`Engine::decision_key`]). Decisions with errors are not kept.
    ///
    /// For a service or a batch that sees the same kinds of query again and again: Cedar is
    /// asked once per [`DecisionKey`].
    pub fn decide_memoized(
        &self,
        query: &Query,
        language: Language,
        memo: &DecisionMemo,
    ) -> Result<Decision, InputError> {
        // One day for the key and the decision it keeps: midnight cannot fall between them.
        let today = self.today();
        let (asked, findings) = self.with_text_classes(query)?;
        let decision = match self.key_in(memo, &asked, language, today) {
            Some((key, resolved)) => self
                .remember(memo, key, resolved, &asked, language, today)?
                .answer(query.request_id.clone()),
            None => self.decide_without_user_notes(&asked, language, today)?,
        };
        let decision = match findings {
            Some(findings) => self.with_findings(decision, query, findings, language),
            None => decision,
        };
        // The user's notes are this query's own (they name its id): not kept in the memo.
        Ok(self.with_user_notes(decision, &query.user, language))
    }

    /// The one memoized step under [`Engine::decide_memoized`] and the batch: the decision as
    /// the memo keeps it (without the query's `requestId`; see [`Remembered::answer`] and
    /// [`Remembered::write_line`]).
    pub(crate) fn decide_remembered(
        &self,
        query: &Query,
        language: Language,
        memo: &DecisionMemo,
    ) -> Result<Arc<Remembered>, InputError> {
        let today = self.today();
        let (asked, findings) = self.with_text_classes(query)?;
        let remembered = match self.key_in(memo, &asked, language, today) {
            Some((key, resolved)) => self.remember(memo, key, resolved, &asked, language, today)?,
            None => Arc::new(Remembered::new(
                self.decide_without_user_notes(&asked, language, today)?,
            )),
        };
        let remembered = match findings {
            // What was found is this query's own: not kept in the memo.
            Some(findings) => Arc::new(Remembered::new(self.with_findings(
                remembered.answer(None),
                query,
                findings,
                language,
            ))),
            None => remembered,
        };
        // So are the notes about its user.
        let user_notes = self.user_notes(&query.user, language);
        Ok(if user_notes.is_empty() {
            remembered
        } else {
            Arc::new(Remembered::new(with_notes_first(
                remembered.answer(None),
                user_notes,
            )))
        })
    }

    /// The key of `query`, when `memo` keeps anything and the query has one.
    fn key_in<'q>(
        &'q self,
        memo: &DecisionMemo,
        query: &'q Query,
        language: Language,
        today: Date,
    ) -> Option<(DecisionKey, Resolved<'q>)> {
        memo.is_enabled()
            .then(|| self.keyed(query, language, today))
            .flatten()
    }

    /// The decision of a keyed query: from `memo`, or decided and kept there (when it has no
    /// errors). On a miss, what the key was made from (the user as the register knows them,
    /// the data profile, the assessments on the day) is what the request is prepared from:
    /// nothing is looked up twice.
    fn remember(
        &self,
        memo: &DecisionMemo,
        key: DecisionKey,
        resolved: Resolved<'_>,
        query: &Query,
        language: Language,
        today: Date,
    ) -> Result<Arc<Remembered>, InputError> {
        if let Some(remembered) = memo.get(&key) {
            return Ok(remembered);
        }
        let prepared = self.prepare_as(query, true, today, Some(resolved))?;
        let decision = self.decide_prepared(&prepared, language);
        let clean = decision.errors.is_empty();
        let remembered = Arc::new(Remembered::new(decision));
        if clean {
            memo.insert(key, remembered.clone());
        }
        Ok(remembered)
    }

    /// What the decision of `query` in `language` depends on: queries with equal keys get
    /// equal decisions from this engine (but for the `requestId` each answer echoes). When the
    /// policies tell users apart only by their roles and AI training (the bundled ones do),
    /// users with the same roles and training share keys.
    ///
    /// `None` for a query that would be an input error, whose context has no key, whose
    /// inline user asserts roles the register does not grant (a deny that names them), or
    /// that carries a text (its decision says what was found in it).
    ///
    /// ```
    /// use aipolicy::{Engine, Language, Query, Role, User, UserRef};
    /// let engine = Engine::bundled().unwrap();
    /// // anna is a trained employee in the register.
    /// let anna = Query::new(UserRef::registered("anna"), "copilot-chat", ["intern"]);
    /// let trained = UserRef::Inline(User::new("x", [Role::Employee]).with_ai_literacy(true));
    /// let other = Query::new(trained, "copilot-chat", ["intern"]);
    /// assert_eq!(engine.decision_key(&anna, Language::Sv), engine.decision_key(&other, Language::Sv));
    /// let untrained = Query::new(UserRef::inline("x", [Role::Employee]), "copilot-chat", ["intern"]);
    /// assert_ne!(engine.decision_key(&anna, Language::Sv), engine.decision_key(&untrained, Language::Sv));
    /// let unknown = Query::new(UserRef::registered("nobody"), "copilot-chat", ["intern"]);
    /// assert_eq!(engine.decision_key(&unknown, Language::Sv), None);
    /// ```
    pub fn decision_key(&self, query: &Query, language: Language) -> Option<DecisionKey> {
        self.decision_key_on(query, language, self.today())
    }

    /// [`Engine::decision_key`], with `today` as the day of a query without `at` (see
    /// [`Engine::decide_on`]).
    pub fn decision_key_on(
        &self,
        query: &Query,
        language: Language,
        today: Date,
    ) -> Option<DecisionKey> {
        self.keyed(query, language, today).map(|(key, _)| key)
    }

    /// The decision key, and what it was made from, for preparing the request on a miss.
    pub(super) fn keyed<'q>(
        &'q self,
        query: &'q Query,
        language: Language,
        today: Date,
    ) -> Option<(DecisionKey, Resolved<'q>)> {
        if (query.data.is_empty() && query.action.requires_data())
            || !query.text.is_empty()
            || (query.data.is_empty() && query.default_data.is_some())
        {
            return None;
        }
        if self.own_clock_only && query.at.is_some() {
            return None;
        }
        let classes = query
            .data
            .iter()
            .map(|id| self.register.data_class(id))
            .collect::<Option<Vec<_>>>()?;
        let by_roles = !self.role_representatives.is_empty();
        let mut inline = None;
        let user = match &query.user {
            UserRef::Registered(id) => {
                let user = self.register.user(id)?;
                if by_roles {
                    UserKey::Roles(user_bits(user))
                } else {
                    // The register's spelling: `GUNILLA` and `gunilla` are one user.
                    UserKey::Registered(user.id.as_str().into())
                }
            }
            UserRef::Inline(asserted) => {
                // A claim the decision notes is the caller's: the note names the user.
                if self.training_on_the_callers_word(asserted, &query.ai) {
                    return None;
                }
                let (user, conflict) = self.as_registered(asserted);
                if !conflict.is_empty() {
                    return None;
                }
                // Admitting only the register's users, one it does not list is denied: its
                // decision is not that of a listed user with the same roles.
                let unlisted = self.registered_users_only && self.register.user(&user.id).is_none();
                let key = if by_roles {
                    UserKey::Roles(user_bits(&user) | (u8::from(unlisted) * UNLISTED_USER_BIT))
                } else {
                    UserKey::Inline(
                        user.id.as_str().into(),
                        user_bits(&user),
                        user.unit.as_deref().map(Into::into),
                    )
                };
                inline = Some(user);
                key
            }
        };
        let profile = DataProfile::fold(classes, self.unit_of(&query.user));
        let assessments = self.assessments_on(&query.ai, query.at.unwrap_or(today));
        let context = contexts::slot(profile, &query.context, assessments.current_bits())?;
        let key = DecisionKey {
            user,
            ai: query.ai.as_str().into(),
            action: query.action,
            context: u32::try_from(context).ok()?,
            assessments: assessments.code(),
            language,
        };
        Some((
            key,
            Resolved {
                inline,
                profile,
                assessments,
            },
        ))
    }
}
