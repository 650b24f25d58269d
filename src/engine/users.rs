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
            Some(listed) => match language {
                Language::Sv => format!(
                    "Användaren `{given}` är registrets `{}` (användar-id jämförs utan hänsyn till versaler och omgivande blanksteg, som i en katalogtjänst), så frågan prövas med de roller, den enhet och den AI-utbildning som registret anger, inte med frågans.",
                    listed.id
                ),
                Language::En => format!(
                    "user `{given}` is the register's `{}` (user ids compare without regard to case and surrounding spaces, as in a directory), so it is decided with the roles, unit and AI training the register gives, not the query's",
                    listed.id
                ),
            },
            None => {
                let close = self.user_names.closest(given);
                let denied = self.registered_users_only;
                match language {
                    Language::Sv => {
                        let mut note = format!(
                            "Användaren `{given}` finns inte i registret, så rollerna, enheten och AI-utbildningen i frågan är den anropande tjänstens uppgifter som registret inte kan bekräfta"
                        );
                        if denied {
                            note.push_str("; här får bara registrets användare använda AI (anmälan av avvikelser är öppen för alla)");
                        }
                        if let Some(known) = close {
                            note.push_str(&format!("; menade du `{known}`?"));
                        } else {
                            note.push('.');
                        }
                        note
                    }
                    Language::En => {
                        let mut note = format!(
                            "user `{given}` is not in the register, so the roles, unit and AI training the query gives are the calling service's word, which the register cannot confirm"
                        );
                        if denied {
                            note.push_str("; only the register's users may use AI here (reporting an incident is open to anyone)");
                        }
                        if let Some(known) = close {
                            note.push_str(&format!("; did you mean `{known}`?"));
                        }
                        note
                    }
                }
            }
        };
        vec![note]
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
