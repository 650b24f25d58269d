//! What a decision notes without changing it, as data until it is said: the engine finds a
//! note while it prepares a query (before it knows the reader's language) and says it in the
//! language of the decision. All the wording of the notes is here, in both languages.

use crate::model::decision::Language;
use crate::model::register::Role;
use crate::policy::law::law_in;

/// One thing a decision notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The AI system is not in the register, so it is decided as public AI (U3).
    UnregisteredAi {
        /// The id the query gave.
        id: String,
        /// The register's closest id, as a "did you mean".
        closest: Option<String>,
    },
    /// The query puts a user the register lists in another unit; the register's counts.
    OtherUnit {
        /// The register's id of the user.
        user: String,
        /// The register's unit for them.
        register: Option<String>,
        /// The query's.
        asserted: String,
    },
    /// The query says otherwise than the register about a listed user's AI training; the
    /// register counts.
    OtherTraining {
        /// The register's id of the user.
        user: String,
        /// What the query gave as `aiLiteracy`.
        asserted: bool,
    },
    /// A user the register does not list is said to be trained, for a high-risk system where
    /// the training decides (AI Act art. 26(2)): the caller's word alone.
    TrainingOnTheCallersWord {
        /// The query's id of the user.
        user: String,
        /// The AI system.
        ai: String,
    },
    /// Roles the register does not give a user it lists, on a report of an incident (which
    /// anyone may make, U4).
    RolesBeyondRegisterOnIncident {
        /// The query's id of the user.
        user: String,
        /// The roles beyond the register.
        roles: Vec<Role>,
    },
    /// An inline user whose id the register lists spelt another way: decided as the
    /// register's user.
    RegisteredUserSpeltOtherwise {
        /// The query's spelling.
        given: String,
        /// The register's.
        listed: String,
    },
    /// An inline user the register does not list.
    UnregisteredUser {
        /// The query's id.
        given: String,
        /// Only the register's users may use AI here ([`super::Engine::registered_users_only`]).
        denied: bool,
        /// The register's closest id, as a "did you mean".
        closest: Option<String>,
    },
}

/// The law behind trained oversight of high-risk AI, as the policies cite it.
const TRAINED_OVERSIGHT: &str = "EU AI Act art. 26(2)";

impl Note {
    /// The note in `language`: one sentence or two, ids in backticks.
    ///
    /// ```
    /// use aipolicy::engine::Note;
    /// use aipolicy::Language;
    /// let note = Note::UnregisteredAi { id: "Gemini".into(), closest: None };
    /// assert_eq!(
    ///     note.text(Language::Sv),
    ///     "AI-systemet `Gemini` finns inte i registret och prövas därför som publik AI (bara öppen information, U3)."
    /// );
    /// assert!(note.text(Language::En).starts_with("AI system `Gemini` is not in the register"));
    /// ```
    pub fn text(&self, language: Language) -> String {
        let sv = language == Language::Sv;
        match self {
            Note::UnregisteredAi { id, closest } => {
                let mut text = if sv {
                    format!("AI-systemet `{id}` finns inte i registret och prövas därför som publik AI (bara öppen information, U3)")
                } else {
                    format!("AI system `{id}` is not in the register, so it is treated as public AI (open information only, U3)")
                };
                push_closest(&mut text, closest.as_deref(), language);
                text
            }
            Note::OtherUnit {
                user,
                register,
                asserted,
            } => {
                let none = if sv { "(ingen)" } else { "(none)" };
                let unit = register.as_deref().unwrap_or(none);
                if sv {
                    format!("Registret för användaren `{user}` till enheten `{unit}`, inte `{asserted}`; registrets enhet gäller.")
                } else {
                    format!("The register puts user `{user}` in unit `{unit}`, not `{asserted}`; the register's unit counts.")
                }
            }
            Note::OtherTraining { user, asserted } => match (sv, asserted) {
                (true, true) => format!("Frågan anger att användaren `{user}` har gått AI-utbildningen (`aiLiteracy: true`), men registret har den inte noterad; registrets uppgift gäller."),
                (true, false) => format!("Frågan anger att användaren `{user}` inte har gått AI-utbildningen (`aiLiteracy: false`), men registret har den noterad; registrets uppgift gäller."),
                (false, true) => format!("The query gives user `{user}` `aiLiteracy: true`, but the register does not record the AI training; the register counts."),
                (false, false) => format!("The query gives user `{user}` `aiLiteracy: false`, but the register records the AI training; the register counts."),
            },
            Note::TrainingOnTheCallersWord { user, ai } => {
                let law = law_in(TRAINED_OVERSIGHT, language);
                if sv {
                    format!("Användaren `{user}` finns inte i registret, så AI-utbildningen i frågan (`aiLiteracy: true`) är den anropande tjänstens uppgift; `{ai}` är högrisk-AI som bara den som har gått utbildningen får använda ({law}): för in användaren i registret.")
                } else {
                    format!("User `{user}` is not in the register, so the AI training it is given (`aiLiteracy: true`) is the caller's word; `{ai}` is high-risk and only trained users may use it ({law}): list the user in the register.")
                }
            }
            Note::RolesBeyondRegisterOnIncident { user, roles } => {
                let listed = roles
                    .iter()
                    .map(|r| format!("`{}`", r.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ");
                match (sv, roles.len()) {
                    (true, 1) => format!("Registret ger inte användaren `{user}` rollen {listed}; alla får anmäla en avvikelse (U4)."),
                    (true, _) => format!("Registret ger inte användaren `{user}` rollerna {listed}; alla får anmäla en avvikelse (U4)."),
                    (false, 1) => format!("The register does not give user `{user}` the role {listed}; reporting an incident is allowed for anyone (U4)."),
                    (false, _) => format!("The register does not give user `{user}` the roles {listed}; reporting an incident is allowed for anyone (U4)."),
                }
            }
            Note::RegisteredUserSpeltOtherwise { given, listed } => {
                if sv {
                    format!("Användaren `{given}` är registrets `{listed}` (användar-id jämförs utan hänsyn till versaler och omgivande blanksteg, som i en katalogtjänst), så frågan prövas med de roller, den enhet och den AI-utbildning som registret anger, inte med frågans.")
                } else {
                    format!("User `{given}` is the register's `{listed}` (user ids compare without regard to case and surrounding spaces, as in a directory), so it is decided with the roles, unit and AI training the register gives, not the query's.")
                }
            }
            Note::UnregisteredUser {
                given,
                denied,
                closest,
            } => {
                let mut text = if sv {
                    format!("Användaren `{given}` finns inte i registret, så rollerna, enheten och AI-utbildningen i frågan är den anropande tjänstens uppgifter som registret inte kan bekräfta")
                } else {
                    format!("User `{given}` is not in the register, so the roles, unit and AI training the query gives are the calling service's word, which the register cannot confirm")
                };
                if *denied {
                    text.push_str(if sv {
                        "; här får bara registrets användare använda AI (anmälan av avvikelser är öppen för alla)"
                    } else {
                        "; only the register's users may use AI here (reporting an incident is open to anyone)"
                    });
                }
                push_closest(&mut text, closest.as_deref(), language);
                text
            }
        }
    }
}

/// Ends a note with "did you mean" and the closest id, when there is one, else with a period.
fn push_closest(text: &mut String, closest: Option<&str>, language: Language) {
    match (closest, language) {
        (Some(known), Language::Sv) => text.push_str(&format!("; menade du `{known}`?")),
        (Some(known), Language::En) => text.push_str(&format!("; did you mean `{known}`?")),
        (None, _) => text.push('.'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_note() -> Vec<Note> {
        vec![
            Note::UnregisteredAi {
                id: "Gemini".into(),
                closest: Some("gemini-pro".into()),
            },
            Note::UnregisteredAi {
                id: "x".into(),
                closest: None,
            },
            Note::OtherUnit {
                user: "anna".into(),
                register: None,
                asserted: "Skola".into(),
            },
            Note::OtherTraining {
                user: "anna".into(),
                asserted: true,
            },
            Note::OtherTraining {
                user: "anna".into(),
                asserted: false,
            },
            Note::TrainingOnTheCallersWord {
                user: "x".into(),
                ai: "lokal-sprakmodell".into(),
            },
            Note::RolesBeyondRegisterOnIncident {
                user: "x".into(),
                roles: vec![Role::Elected],
            },
            Note::RolesBeyondRegisterOnIncident {
                user: "x".into(),
                roles: vec![Role::Elected, Role::Contractor],
            },
            Note::RegisteredUserSpeltOtherwise {
                given: "Anna".into(),
                listed: "anna".into(),
            },
            Note::UnregisteredUser {
                given: "gunila".into(),
                denied: true,
                closest: Some("gunilla".into()),
            },
        ]
    }

    /// Words that give a language away: a note in one has none of the other's.
    const ENGLISH: [&str; 6] = [" the ", " is ", " not ", " user ", "EU AI Act", " only "];
    const SWEDISH: [&str; 6] = [
        " och ",
        " inte ",
        "registret",
        " är ",
        "AI-förordningen",
        " för ",
    ];

    #[test]
    fn each_note_speaks_one_language_as_a_sentence() {
        for note in every_note() {
            let sv = note.text(Language::Sv);
            let en = note.text(Language::En);
            for word in ENGLISH {
                assert!(!sv.contains(word), "{word:?} in the Swedish note: {sv}");
            }
            for word in SWEDISH {
                assert!(!en.contains(word), "{word:?} in the English note: {en}");
            }
            for text in [&sv, &en] {
                assert!(
                    text.chars().next().is_some_and(char::is_uppercase),
                    "{text}"
                );
                assert!(text.ends_with('.') || text.ends_with('?'), "{text}");
            }
        }
    }
}
