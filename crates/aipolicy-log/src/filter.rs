//! Which records `audit summary`, `export` and `report` take beside the time range: by user
//! (an id, or its pseudonym), AI system, unit, decision, caller and paragraph. Values of one
//! filter are alternatives (any of them), different filters all hold (and). The filters
//! applied are said in every output, so that a supervisor sees what a count covers; a value
//! that no record of the range holds is named, with the closest one that a record does hold.

use std::collections::BTreeMap;
use std::str::FromStr;

use aipolicy::log::{DecisionRecord, Pseudonymizer};
use aipolicy::register::fold_user_id;
use aipolicy::{Language, Paragraph};
use serde::Serialize;

use crate::audit::{is_input_error, unit_name};

/// `--decision`: the three outcomes a summary counts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Allowed.
    Allow,
    /// Denied by the policy.
    Deny,
    /// Denied because the query could not be read or evaluated (`aipolicy-invalid-query`,
    /// `aipolicy-fail-closed`).
    InputError,
}

impl Outcome {
    /// The outcome of a record.
    pub fn of(record: &DecisionRecord) -> Outcome {
        if is_input_error(record) {
            Outcome::InputError
        } else if record.is_deny() {
            Outcome::Deny
        } else {
            Outcome::Allow
        }
    }

    /// As `--decision` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::InputError => "input-error",
        }
    }

    /// As a person reads it.
    pub fn name(self, language: Language) -> &'static str {
        match (self, language) {
            (Outcome::Allow, Language::Sv) => "tillåtna",
            (Outcome::Deny, Language::Sv) => "nekade",
            (Outcome::InputError, Language::Sv) => "felaktiga frågor",
            (Outcome::Allow, Language::En) => "allowed",
            (Outcome::Deny, Language::En) => "denied",
            (Outcome::InputError, Language::En) => "input errors",
        }
    }
}

/// A paragraph code as `--paragraph` takes it: `§3`, or `3`, `s3`; `U0` or `u0`.
pub fn parse_paragraph(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let code = if let Some(digits) = trimmed
        .strip_prefix('§')
        .or_else(|| trimmed.strip_prefix(['s', 'S']))
        .or_else(|| {
            trimmed
                .chars()
                .all(|c| c.is_ascii_digit())
                .then_some(trimmed)
        }) {
        format!("§{digits}")
    } else {
        trimmed.to_uppercase()
    };
    Paragraph::from_str(&code)
        .map(|p| p.code().to_string())
        .map_err(|_| {
            let known: Vec<&str> = Paragraph::ALL.iter().map(|p| p.code()).collect();
            format!(
                "`{text}` is not a paragraph of the policy; expected one of {} (`3` and `s3` are read as `§3`)",
                known.join(", ")
            )
        })
}

/// One `--user`: an id (compared as the register compares ids: without regard to case or
/// surrounding spaces) or a pseudonym, and with a key the pseudonyms the id would have in a
/// pseudonymized log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    /// As given.
    pub given: String,
    folded: String,
    pseudonyms: Vec<String>,
}

impl UserFilter {
    /// A user filter matching `given` (and, with `pseudonymizer`, the pseudonym of each id in
    /// `spellings`: the id as given, trimmed, case-folded, and the register's spelling of it).
    pub fn new(
        given: &str,
        pseudonymizer: Option<&Pseudonymizer>,
        register_id: Option<&str>,
    ) -> UserFilter {
        let folded = fold_user_id(given).into_owned();
        let mut pseudonyms = Vec::new();
        if let Some(p) = pseudonymizer {
            let mut spellings = vec![given, given.trim(), folded.as_str()];
            spellings.extend(register_id);
            for spelling in spellings {
                let pseudonym = p.pseudonym(spelling);
                if !pseudonyms.contains(&pseudonym) {
                    pseudonyms.push(pseudonym);
                }
            }
        }
        UserFilter {
            given: given.to_string(),
            folded,
            pseudonyms,
        }
    }

    /// Whether a record's `user` is this user.
    pub fn matches(&self, user: &str) -> bool {
        fold_user_id(user) == self.folded || self.pseudonyms.iter().any(|p| p == user)
    }

    /// Whether the key's pseudonyms are looked for too.
    pub fn with_pseudonyms(&self) -> bool {
        !self.pseudonyms.is_empty()
    }
}

/// The filters of a command; empty takes every record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `--user`.
    pub users: Vec<UserFilter>,
    /// `--ai`.
    pub ai_systems: Vec<String>,
    /// `--unit` (`(none)` for a user without a unit).
    pub units: Vec<String>,
    /// `--decision`.
    pub outcomes: Vec<Outcome>,
    /// `--caller`.
    pub callers: Vec<String>,
    /// `--paragraph`: records whose reasons (a deny) or duties (an allow) cite it.
    pub paragraphs: Vec<String>,
}

/// The filters whose values are names a record holds, and which a mistyped value can miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    /// `--user`.
    User,
    /// `--ai`.
    Ai,
    /// `--unit`.
    Unit,
    /// `--caller`.
    Caller,
}

impl Field {
    /// The flag.
    pub fn flag(self) -> &'static str {
        match self {
            Field::User => "--user",
            Field::Ai => "--ai",
            Field::Unit => "--unit",
            Field::Caller => "--caller",
        }
    }

    /// What it names, as a person reads it.
    pub fn name(self, language: Language) -> &'static str {
        match (self, language) {
            (Field::User, Language::Sv) => "användare",
            (Field::Ai, Language::Sv) => "AI-system",
            (Field::Unit, Language::Sv) => "förvaltning",
            (Field::Caller, Language::Sv) => "anropare",
            (Field::User, Language::En) => "user",
            (Field::Ai, Language::En) => "AI system",
            (Field::Unit, Language::En) => "unit",
            (Field::Caller, Language::En) => "caller",
        }
    }
}

fn any_or_all<T>(list: &[T], matches: impl Fn(&T) -> bool) -> bool {
    list.is_empty() || list.iter().any(matches)
}

impl Filter {
    /// Whether no filter is given.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.ai_systems.is_empty()
            && self.units.is_empty()
            && self.outcomes.is_empty()
            && self.callers.is_empty()
            && self.paragraphs.is_empty()
    }

    /// Whether `record` passes every filter.
    pub fn matches(&self, record: &DecisionRecord) -> bool {
        any_or_all(&self.users, |u| u.matches(&record.user))
            && any_or_all(&self.ai_systems, |ai| *ai == record.ai)
            && any_or_all(&self.units, |unit| unit == unit_name(record))
            && any_or_all(&self.callers, |caller| *caller == record.caller)
            && any_or_all(&self.outcomes, |o| *o == Outcome::of(record))
            && any_or_all(&self.paragraphs, |code| {
                record
                    .reasons
                    .iter()
                    .chain(&record.obligations)
                    .any(|c| c.paragraph == *code)
            })
    }

    /// What is applied, for the output (`None` without filters).
    pub fn applied(&self) -> Option<Applied> {
        (!self.is_empty()).then(|| Applied {
            user: self.users.iter().map(|u| u.given.clone()).collect(),
            user_pseudonyms: self.users.iter().any(UserFilter::with_pseudonyms),
            ai: self.ai_systems.clone(),
            unit: self.units.clone(),
            decision: self.outcomes.clone(),
            caller: self.callers.clone(),
            paragraph: self.paragraphs.clone(),
            unmatched: Vec::new(),
        })
    }
}

/// The filters applied, as outputs state them (JSON key `filters`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// `--user` as given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<String>,
    /// Whether the users' pseudonyms under `--key` were looked for too.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub user_pseudonyms: bool,
    /// `--ai`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ai: Vec<String>,
    /// `--unit`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unit: Vec<String>,
    /// `--decision`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decision: Vec<Outcome>,
    /// `--caller`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub caller: Vec<String>,
    /// `--paragraph`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paragraph: Vec<String>,
    /// Values no record of the range holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmatched: Vec<Unmatched>,
}

impl Applied {
    /// One line: `AI-system copilot-chat; beslut nekade` (the language's words).
    pub fn describe(&self, language: Language) -> String {
        let sv = language == Language::Sv;
        let mut parts = Vec::new();
        let mut part = |name: &str, values: Vec<String>| {
            if !values.is_empty() {
                parts.push(format!("{name} {}", values.join(" / ")));
            }
        };
        let mut users: Vec<String> = self.user.clone();
        if self.user_pseudonyms {
            users = users
                .into_iter()
                .map(|u| {
                    if sv {
                        format!("{u} (och dess pseudonym)")
                    } else {
                        format!("{u} (and its pseudonym)")
                    }
                })
                .collect();
        }
        part(Field::User.name(language), users);
        part(Field::Ai.name(language), self.ai.clone());
        part(Field::Unit.name(language), self.unit.clone());
        part(
            if sv { "beslut" } else { "decision" },
            self.decision
                .iter()
                .map(|o| o.name(language).to_string())
                .collect(),
        );
        part(Field::Caller.name(language), self.caller.clone());
        part(
            if sv { "paragraf" } else { "paragraph" },
            self.paragraph.clone(),
        );
        parts.join("; ")
    }
}

/// A filter value no record of the range holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unmatched {
    /// Which filter.
    pub field: Field,
    /// The value.
    pub value: String,
    /// The closest value a record of the range holds (or the register lists), when one is
    /// close: then the value is taken for a slip and refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
    /// Every user of the range is a pseudonym and the value is not: `--key` finds it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub needs_key: bool,
}

impl Unmatched {
    /// `no record has AI system `copilt-chat`; did you mean `copilot-chat`?`, in the language.
    pub fn message(&self, language: Language) -> String {
        let name = self.field.name(language);
        let mut text = match language {
            Language::Sv => format!("ingen post har {name} `{}`", self.value),
            Language::En => format!("no record has {name} `{}`", self.value),
        };
        if let Some(close) = &self.did_you_mean {
            text.push_str(&match language {
                Language::Sv => format!("; menade du `{close}`?"),
                Language::En => format!("; did you mean `{close}`?"),
            });
        }
        if self.needs_key {
            text.push_str(match language {
                Language::Sv => {
                    "; loggens användare är pseudonymer: ange --key för att söka på ett id"
                }
                Language::En => "; the log's users are pseudonyms: give --key to look for an id",
            });
        }
        text
    }

    /// Whether it is taken for a slip (a close value exists) and the command refuses it.
    pub fn is_slip(&self) -> bool {
        self.did_you_mean.is_some()
    }
}

/// The names the records of a range hold, for the filters given: to tell which filter values
/// no record holds.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    values: BTreeMap<Field, BTreeMap<String, ()>>,
    fields: Vec<Field>,
}

impl Seen {
    /// Keeps the names of the fields `filter` filters on.
    pub fn for_filter(filter: &Filter) -> Seen {
        let mut fields = Vec::new();
        if !filter.users.is_empty() {
            fields.push(Field::User);
        }
        if !filter.ai_systems.is_empty() {
            fields.push(Field::Ai);
        }
        if !filter.units.is_empty() {
            fields.push(Field::Unit);
        }
        if !filter.callers.is_empty() {
            fields.push(Field::Caller);
        }
        Seen {
            values: BTreeMap::new(),
            fields,
        }
    }

    /// Notes a record of the range (before the filters).
    pub fn add(&mut self, record: &DecisionRecord) {
        for field in &self.fields {
            let value = match field {
                Field::User => record.user.as_str(),
                Field::Ai => record.ai.as_str(),
                Field::Unit => unit_name(record),
                Field::Caller => record.caller.as_str(),
            };
            let known = self.values.entry(*field).or_default();
            if !known.contains_key(value) {
                known.insert(value.to_string(), ());
            }
        }
    }

    /// The filter values no record held, each with the closest one held (or in
    /// `also_known`, e.g. the register's AI systems), in the filters' order.
    pub fn unmatched(
        &self,
        filter: &Filter,
        also_known: &[(Field, Vec<String>)],
    ) -> Vec<Unmatched> {
        let empty = BTreeMap::new();
        let held = |field: Field| self.values.get(&field).unwrap_or(&empty);
        let closest = |field: Field, value: &str| -> Option<String> {
            let extra = also_known
                .iter()
                .filter(|(f, _)| *f == field)
                .flat_map(|(_, names)| names.iter().map(String::as_str));
            let names = held(field).keys().map(String::as_str).chain(extra);
            aipolicy::suggest::closest(value, names)
                .filter(|close| *close != value)
                .map(str::to_string)
        };
        let mut unmatched = Vec::new();
        for user in &filter.users {
            let users = held(Field::User);
            if !users.keys().any(|u| user.matches(u)) {
                let all_pseudonyms = !users.is_empty() && users.keys().all(|u| is_pseudonym(u));
                let candidates: Vec<&str> = users
                    .keys()
                    .map(String::as_str)
                    .filter(|u| !is_pseudonym(u))
                    .collect();
                unmatched.push(Unmatched {
                    field: Field::User,
                    value: user.given.clone(),
                    did_you_mean: aipolicy::suggest::closest(&user.given, candidates)
                        .filter(|close| fold_user_id(close) != fold_user_id(&user.given))
                        .map(str::to_string),
                    needs_key: all_pseudonyms
                        && !user.with_pseudonyms()
                        && !is_pseudonym(&user.given),
                });
            }
        }
        for (field, values) in [
            (Field::Ai, &filter.ai_systems),
            (Field::Unit, &filter.units),
            (Field::Caller, &filter.callers),
        ] {
            for value in values {
                if !held(field).contains_key(value) {
                    unmatched.push(Unmatched {
                        field,
                        value: value.clone(),
                        did_you_mean: closest(field, value),
                        needs_key: false,
                    });
                }
            }
        }
        unmatched
    }
}

/// Whether a user id is a pseudonym of the log (`p-` and 32 hex digits).
pub fn is_pseudonym(user: &str) -> bool {
    user.strip_prefix(Pseudonymizer::PREFIX)
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paragraphs_are_read_as_a_shell_lets_them_be_typed() {
        assert_eq!(parse_paragraph("§3").unwrap(), "§3");
        assert_eq!(parse_paragraph("3").unwrap(), "§3");
        assert_eq!(parse_paragraph("s3").unwrap(), "§3");
        assert_eq!(parse_paragraph("u0").unwrap(), "U0");
        let refused = parse_paragraph("§9").unwrap_err();
        assert!(
            refused.contains("`§9`") && refused.contains("U5"),
            "{refused}"
        );
    }

    #[test]
    fn a_user_is_found_by_id_in_any_case_and_by_pseudonym_with_the_key() {
        let key = Pseudonymizer::new(b"a key of sixteen bytes or more");
        let plain = UserFilter::new("Anna", None, None);
        assert!(plain.matches("anna") && plain.matches(" ANNA "));
        assert!(!plain.matches(&key.pseudonym("anna")));
        let keyed = UserFilter::new("Anna ", Some(&key), Some("anna"));
        assert!(keyed.matches(&key.pseudonym("anna")));
        assert!(
            keyed.matches("anna"),
            "a log not pseudonymized still matches"
        );
        assert!(!keyed.matches(&key.pseudonym("bertil")));
        assert!(is_pseudonym(&key.pseudonym("anna")));
        assert!(!is_pseudonym("p-anna"));
    }
}
