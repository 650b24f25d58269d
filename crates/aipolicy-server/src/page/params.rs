//! Reading a question from the query string: every parameter checked against the register,
//! and a mistake named with the closest valid value (never guessed, never an allow).

use aipolicy::query::Context;
use aipolicy::register::Register;
use aipolicy::suggest::closest;
use aipolicy::{Action, Language, Role};

/// The longest query string read (a form with every data class of a large register fits).
pub const MAX_QUERY_STRING: usize = 16 * 1024;

/// The parameters a question may have, besides the context flags.
const KEYS: [&str; 7] = ["ai", "data", "action", "role", "unit", "aiLiteracy", "lang"];

/// A parameter that cannot be used: which, what was given, why, and the closest valid value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    /// The parameter's name.
    pub name: String,
    /// What was given (empty when it was missing).
    pub given: String,
    /// What is wrong, in Swedish.
    pub sv: String,
    /// What is wrong, in English.
    pub en: String,
    /// The closest valid value and its name for people, when there is one.
    pub closest: Option<Box<(String, String)>>,
}

impl BadParameter {
    pub(crate) fn new(name: &str, given: &str, sv: String, en: String) -> BadParameter {
        BadParameter {
            name: name.to_string(),
            given: given.to_string(),
            sv,
            en,
            closest: None,
        }
    }

    pub(crate) fn closest(mut self, value: Option<(String, String)>) -> BadParameter {
        self.closest = value.map(Box::new);
        self
    }

    /// What is wrong, in `language`.
    pub fn message(&self, language: Language) -> &str {
        match language {
            Language::Sv => &self.sv,
            Language::En => &self.en,
        }
    }
}

/// The parameters as given, each checked for its shape only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Raw {
    /// Every pair, in order (for links that change one of them).
    pub pairs: Vec<(String, String)>,
    /// `ai`.
    pub ai: Option<String>,
    /// Every `data`.
    pub data: Vec<String>,
    /// `action`.
    pub action: Option<String>,
    /// `role`.
    pub role: Option<String>,
    /// `unit` (empty: none).
    pub unit: Option<String>,
    /// `lang`, read.
    pub language: Option<Language>,
    /// `aiLiteracy`: the visitor has had the municipality's AI training.
    pub ai_literacy: bool,
    /// The context flags set.
    pub context: Context,
}

/// The language of a query string: English for `lang=en`, else Swedish (the page is Swedish
/// by default whatever `--lang` says, which is the APIs' default). Read on its own, so that
/// even the error about another parameter is in the language asked for.
pub fn language_of(query: Option<&str>) -> Language {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(key, _)| key == "lang")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(Language::Sv)
}

/// Reads the query string: an unknown parameter, one given twice, an unknown language or a
/// flag that is not `true`/`false` is an error.
pub fn read(query: Option<&str>) -> Result<Raw, BadParameter> {
    let query = query.unwrap_or("");
    if query.len() > MAX_QUERY_STRING {
        return Err(BadParameter::new(
            "",
            "",
            format!(
                "Frågan är för lång ({} byte; högst {MAX_QUERY_STRING}).",
                query.len()
            ),
            format!(
                "The question is too long ({} bytes; at most {MAX_QUERY_STRING}).",
                query.len()
            ),
        ));
    }
    let mut raw = Raw::default();
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let (key, value) = (key.into_owned(), value.into_owned());
        raw.pairs.push((key.clone(), value.clone()));
        if key != "data" {
            if seen.contains(&key) {
                return Err(BadParameter::new(
                    &key,
                    &value,
                    format!("`{key}` är angiven mer än en gång; ange den en gång."),
                    format!("`{key}` is given more than once; give it once."),
                ));
            }
            seen.push(key.clone());
        }
        match key.as_str() {
            "ai" => raw.ai = Some(value),
            "data" => raw.data.push(value),
            "action" => raw.action = Some(value),
            "role" => raw.role = Some(value),
            "unit" => raw.unit = Some(value),
            "lang" => {
                raw.language = Some(value.parse().map_err(|_| {
                    BadParameter::new(
                        "lang",
                        &value,
                        format!(
                            "Okänt språk `{value}`; välj `sv` (svenska) eller `en` (engelska)."
                        ),
                        format!(
                            "Unknown language `{value}`; choose `sv` (Swedish) or `en` (English)."
                        ),
                    )
                    .closest(Some(("sv".into(), "svenska".into())))
                })?);
            }
            flag if Context::KEYS.contains(&flag) || flag == "aiLiteracy" => {
                let on = match value.as_str() {
                    "true" | "on" => true,
                    "false" => false,
                    _ => {
                        return Err(BadParameter::new(
                            flag,
                            &value,
                            format!("`{flag}` ska vara `true` eller `false`, inte `{value}`."),
                            format!("`{flag}` must be `true` or `false`, not `{value}`."),
                        )
                        .closest(Some(("true".into(), "true".into()))))
                    }
                };
                if flag == "aiLiteracy" {
                    raw.ai_literacy = on;
                } else {
                    // The key is one of Context::KEYS, so setting it cannot fail.
                    let _ = raw.context.set(flag, on);
                }
            }
            other => {
                let known = KEYS.iter().copied().chain(Context::KEYS);
                let near = closest(other, known).map(|k| (k.to_string(), k.to_string()));
                return Err(BadParameter::new(
                    other,
                    &value,
                    format!(
                        "Okänd parameter `{other}`; frågan tar {}.",
                        KEYS.iter()
                            .copied()
                            .chain(Context::KEYS)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    format!(
                        "Unknown parameter `{other}`; the question takes {}.",
                        KEYS.iter()
                            .copied()
                            .chain(Context::KEYS)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .closest(near));
            }
        }
    }
    Ok(raw)
}

/// A question every part of which the register knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The AI system's id; for one the register does not list (public AI), the name given.
    pub ai: String,
    /// For an AI system the register does not list, the closest one it does (id and name).
    pub ai_closest: Option<Box<(String, String)>>,
    /// The data classes' ids, each once, in the order given.
    pub data: Vec<String>,
    /// The action.
    pub action: Action,
    /// The role chosen (`None` when the user comes from the sign-in header).
    pub role: Option<Role>,
    /// The unit chosen, if any.
    pub unit: Option<String>,
    /// Whether the visitor says they have had the AI training.
    pub ai_literacy: bool,
    /// The context flags.
    pub context: Context,
}

/// Checks every parameter against the register. `need_role`: whether the visitor must name a
/// role (not when the sign-in proxy names the user).
pub fn resolve(raw: &Raw, register: &Register, need_role: bool) -> Result<Question, BadParameter> {
    let (ai, ai_closest) = resolve_ai(raw.ai.as_deref(), register)?;
    let action = action(raw.action.as_deref())?;
    let mut data: Vec<String> = Vec::new();
    for id in &raw.data {
        let class = register.data_class(id).ok_or_else(|| {
            let ids = register.data_classes().iter().map(|c| c.id.as_str());
            let names = register.data_classes().iter().map(|c| c.name.as_str());
            let near = closest(id, ids.chain(names)).and_then(|near| {
                register
                    .data_classes()
                    .iter()
                    .find(|c| c.id == near || c.name == near)
                    .map(|c| (c.id.clone(), c.name.clone()))
            });
            BadParameter::new(
                "data",
                id,
                format!("Informationsklassen `{id}` finns inte i kommunens AI-register."),
                format!("The information class `{id}` is not in the municipality's AI register."),
            )
            .closest(near)
        })?;
        if !data.contains(&class.id) {
            data.push(class.id.clone());
        }
    }
    if data.is_empty() && action.requires_data() {
        return Err(BadParameter::new(
            "data",
            "",
            "Välj vilken information du ska använda (minst en informationsklass).".into(),
            "Choose which information you will use (at least one information class).".into(),
        ));
    }
    let role = match raw.role.as_deref() {
        _ if !need_role => None,
        None | Some("") => {
            return Err(BadParameter::new(
                "role",
                "",
                "Välj din roll: anställd, privat utförare eller förtroendevald.".into(),
                "Choose your role: employee, private contractor or elected official.".into(),
            ))
        }
        Some(name) => Some(
            Role::ALL
                .into_iter()
                .find(|r| r.as_str() == name)
                .ok_or_else(|| {
                    let near = closest(name, Role::ALL.map(Role::as_str))
                        .map(|r| (r.to_string(), r.to_string()));
                    BadParameter::new(
                        "role",
                        name,
                        format!("Okänd roll `{name}`; välj employee, contractor eller elected."),
                        format!("Unknown role `{name}`; choose employee, contractor or elected."),
                    )
                    .closest(near)
                })?,
        ),
    };
    let unit = match raw.unit.as_deref() {
        None | Some("") => None,
        Some(_) if !need_role => None,
        Some(unit) => {
            let units = units(register);
            if !units.iter().any(|u| u == unit) {
                let near = closest(unit, units.iter().map(String::as_str))
                    .map(|u| (u.to_string(), u.to_string()));
                return Err(BadParameter::new(
                    "unit",
                    unit,
                    format!("Enheten `{unit}` är inte en av dem som registrets information är begränsad till; välj en av listan eller ”ingen av dessa”."),
                    format!("The unit `{unit}` is not one of those the register's information is restricted to; choose one from the list or “none of these”."),
                )
                .closest(near));
            }
            Some(unit.to_string())
        }
    };
    Ok(Question {
        ai,
        ai_closest,
        data,
        action,
        role,
        unit,
        ai_literacy: raw.ai_literacy && need_role,
        context: raw.context,
    })
}

/// The action of `action` (`use` when none is given).
pub fn action(action: Option<&str>) -> Result<Action, BadParameter> {
    match action {
        None | Some("") => Ok(Action::Use),
        Some(name) => name.parse::<Action>().map_err(|_| {
            let near = closest(name, Action::ALL.map(Action::as_str))
                .map(|a| (a.to_string(), a.to_string()));
            BadParameter::new(
                "action",
                name,
                format!(
                    "Okänd handling `{name}`; välj en av {}.",
                    Action::ALL.map(Action::as_str).join(", ")
                ),
                format!(
                    "Unknown action `{name}`; choose one of {}.",
                    Action::ALL.map(Action::as_str).join(", ")
                ),
            )
            .closest(near)
        }),
    }
}

/// The AI system of `ai`: its id, or its name (any case) when exactly one system has it; else
/// the name as given (an AI system the register does not list, public AI) with the register's
/// closest system, if one is close.
fn resolve_ai(ai: Option<&str>, register: &Register) -> Result<ResolvedAi, BadParameter> {
    let given = ai.map(str::trim).unwrap_or("");
    if given.is_empty() {
        return Err(BadParameter::new(
            "ai",
            "",
            "Välj vilket AI-system du vill använda.".into(),
            "Choose which AI system you want to use.".into(),
        ));
    }
    if let Some(system) = register.ai_system(given) {
        return Ok((system.id.clone(), None));
    }
    let lower = given.to_lowercase();
    let named: Vec<_> = register
        .ai_systems()
        .iter()
        .filter(|s| s.name.to_lowercase() == lower || s.id.to_lowercase() == lower)
        .collect();
    if let [system] = named.as_slice() {
        return Ok((system.id.clone(), None));
    }
    let ids = register.ai_systems().iter().map(|s| s.id.as_str());
    let names = register.ai_systems().iter().map(|s| s.name.as_str());
    let near = closest(given, ids.chain(names))
        .or_else(|| {
            // A word of a name (`Copilot` of `Microsoft 365 Copilot Chat`) is close too.
            let hits: Vec<_> = register
                .ai_systems()
                .iter()
                .filter(|s| lower.len() >= 3 && s.name.to_lowercase().contains(&lower))
                .collect();
            match hits.as_slice() {
                [one] => Some(one.id.as_str()),
                _ => None,
            }
        })
        .and_then(|near| {
            register
                .ai_systems()
                .iter()
                .find(|s| s.id == near || s.name == near)
                .map(|s| (s.id.clone(), s.name.clone()))
        });
    // Not in the register: public AI, which the engine answers for (open information only,
    // U3), as the CLI and the API do; the closest system of the register is offered beside
    // the answer.
    Ok((given.to_string(), near.map(Box::new)))
}

/// An AI system's id (or, for one the register does not list, the name given) and, for one it
/// does not list, the closest it does: id and name.
type ResolvedAi = (String, Option<Box<(String, String)>>);

/// The units the register's information classes are restricted to, each once, in order.
pub fn units(register: &Register) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    for class in register.data_classes() {
        for unit in class.units.iter().flatten() {
            if !units.contains(unit) {
                units.push(unit.clone());
            }
        }
    }
    units
}

/// The query string of `pairs` with `key` set to `value` (or removed, for `None`), every other
/// pair kept in its order.
pub fn with_pair(pairs: &[(String, String)], key: &str, value: Option<&str>) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    let mut placed = false;
    for (k, v) in pairs {
        if k == key {
            if let (Some(value), false) = (value, placed) {
                out.append_pair(k, value);
                placed = true;
            }
        } else {
            out.append_pair(k, v);
        }
    }
    if let (Some(value), false) = (value, placed) {
        out.append_pair(key, value);
    }
    out.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn register() -> Register {
        Register::bundled().unwrap()
    }

    #[test]
    fn a_question_of_ids_or_names() {
        let raw = read(Some(
            "ai=Microsoft+365+Copilot+Chat&data=intern&data=intern&role=employee",
        ))
        .unwrap();
        let question = resolve(&raw, &register(), true).unwrap();
        assert_eq!(question.ai, "copilot-chat");
        assert_eq!(question.data, ["intern"]);
        assert_eq!(question.action, Action::Use);
        assert_eq!(question.role, Some(Role::Employee));
    }

    #[test]
    fn mistakes_name_the_parameter_and_the_closest_value() {
        let bad = |q: &str| match read(Some(q)) {
            Err(e) => e,
            Ok(raw) => resolve(&raw, &register(), true).unwrap_err(),
        };
        // An AI system the register does not list is public AI, asked about as such; the
        // closest system of the register is offered beside the answer.
        let raw = read(Some("ai=copilot&data=intern&role=employee")).unwrap();
        let question = resolve(&raw, &register(), true).unwrap();
        assert_eq!(question.ai, "copilot");
        assert_eq!(
            question.ai_closest,
            Some(Box::new((
                "copilot-chat".into(),
                "Microsoft 365 Copilot Chat".into()
            )))
        );
        let raw = read(Some("ai=Gemini&data=oppen&role=employee")).unwrap();
        let question = resolve(&raw, &register(), true).unwrap();
        assert_eq!(
            (question.ai.as_str(), question.ai_closest),
            ("Gemini", None)
        );
        let e = bad("ai=chatgpt&data=intrn&role=employee");
        assert_eq!(
            (e.name.as_str(), e.closest.unwrap().0.as_str()),
            ("data", "intern")
        );
        let e = bad("ai=chatgpt&data=intern&role=employe");
        assert_eq!(
            (e.name.as_str(), e.closest.unwrap().0.as_str()),
            ("role", "employee")
        );
        let e = bad("ai=chatgpt&data=intern&role=employee&action=usee");
        assert_eq!(
            (e.name.as_str(), e.closest.unwrap().0.as_str()),
            ("action", "use")
        );
        let e = bad("ai=chatgpt&role=employee");
        assert_eq!(e.name, "data");
        let e = bad("ai=chatgpt&data=intern");
        assert_eq!(e.name, "role");
        let e = bad("ai=chatgpt&data=intern&role=employee&humanreview=true");
        assert_eq!(
            (e.name.as_str(), e.closest.unwrap().0.as_str()),
            ("humanreview", "humanReview")
        );
        let e = bad("ai=chatgpt&ai=copilot-chat&data=intern&role=employee");
        assert_eq!(e.name, "ai");
        let e = bad("ai=chatgpt&data=intern&role=employee&lang=de");
        assert_eq!(e.name, "lang");
        let e = bad("ai=chatgpt&data=intern&role=employee&unit=Socialforvaltningen");
        assert_eq!(e.closest.unwrap().0, "Socialförvaltningen");
    }

    #[test]
    fn links_change_one_pair() {
        let pairs = read(Some("ai=x&data=a&data=b&lang=en")).unwrap().pairs;
        assert_eq!(
            with_pair(&pairs, "ai", Some("y z")),
            "ai=y+z&data=a&data=b&lang=en"
        );
        assert_eq!(with_pair(&pairs, "lang", None), "ai=x&data=a&data=b");
        assert_eq!(
            with_pair(&pairs, "role", Some("employee")),
            "ai=x&data=a&data=b&lang=en&role=employee"
        );
    }
}
