//! What a decision says about its user when the caller gave the user inline: that the register
//! took the user over (an id spelt another way, which a directory would take for the same
//! person), or that the register does not list them at all (and which id it lists that is
//! close). These notes name the query's own id, so they are added to a decision after the memo
//! (which users with the same roles share) has given it.

use super::*;

impl Engine {
    /// The notes about the query's user, in `language`, user first:
    ///
    /// - an inline user whose id the register lists spelt another way (`Gunilla`, `gunilla `)
    ///   is decided as the register's user (the register is the source of truth: one who has
    ///   left, with no roles, stays without them), and the note says so;
    /// - an inline user the register does not list: the note says that what the caller gave
    ///   (roles, unit, AI training) is its word alone, and names an id of the register that is
    ///   close, as a "did you mean" (`gunila` for `gunilla`).
    ///
    /// A user given by id has no note: an id the register does not list is an input error.
    ///
    /// ```
    /// use aipolicy::{Engine, Language, Role, UserRef};
    /// let engine = Engine::bundled().unwrap();
    /// let notes = engine.user_notes(&UserRef::inline("Gunilla", [Role::Employee]), Language::En);
    /// assert!(notes[0].contains("is the register's `gunilla`"));
    /// let notes = engine.user_notes(&UserRef::inline("gunila", [Role::Employee]), Language::En);
    /// assert!(notes[0].contains("did you mean `gunilla`?"));
    /// assert!(engine.user_notes(&UserRef::registered("anna"), Language::En).is_empty());
    /// ```
    pub fn user_notes(&self, user: &UserRef, language: Language) -> Vec<String> {
        let UserRef::Inline(asserted) = user else {
            return Vec::new();
        };
        let given = &asserted.id;
        let note = match self.register.user(given) {
            // The same spelling: nothing to say that the reasons and the other notes do not.
            Some(listed) if listed.id == *given => return Vec::new(),
            Some(listed) => Note::RegisteredUserSpeltOtherwise {
                given: given.clone(),
                listed: listed.id.clone(),
            },
            None => Note::UnregisteredUser {
                given: given.clone(),
                denied: self.registered_users_only,
                closest: self.user_names.closest(given).map(str::to_string),
            },
        };
        vec![note.text(language)]
    }

    /// `decision` with the notes about `user` (see [`Engine::user_notes`]) before its own.
    pub(super) fn with_user_notes(
        &self,
        decision: Decision,
        user: &UserRef,
        language: Language,
    ) -> Decision {
        let notes = self.user_notes(user, language);
        if notes.is_empty() {
            decision
        } else {
            with_notes_first(decision, notes)
        }
    }
}

/// `decision` with `notes` before the notes it has: the user comes first in a query, and so in
/// what is noted about it.
pub(super) fn with_notes_first(mut decision: Decision, mut notes: Vec<String>) -> Decision {
    notes.append(&mut decision.notes);
    decision.notes = notes;
    decision
}
