//! Invariants: what the policy must decide for **every** request, in a YAML file that
//! `aipolicy verify` proves with Cedar's symbolic compiler (the `aipolicy-verify` crate).
//!
//! Each [`Invariant`] is a Cedar condition `C` with a kind: [`Kind::Never`] (no request meeting
//! `C` is ever allowed) or [`Kind::Always`] (every request meeting `C` is allowed). `A`, the
//! conjunction of the [`ASSUMPTIONS`], is what every request built by the
//! [`Engine`](crate::Engine) from a valid register and query satisfies, so that every
//! counterexample the solver finds is a real register and query.
//!
//! This module reads and checks the file (its format, ids, paragraphs, that every condition
//! parses and type-checks against the Cedar schema): `aipolicy validate` uses it without a
//! solver.
//!
//! ```
//! let invariants = aipolicy::invariants::Invariants::bundled().unwrap();
//! let schema = aipolicy::policy::bundled_schema().unwrap();
//! invariants.check(&schema).unwrap();
//! assert!(invariants.invariants.iter().any(|i| i.id == "never-public-ai-above-open"));
//! ```

use std::path::{Path, PathBuf};
use std::str::FromStr;

use cedar_policy::{Policy, PolicyId, PolicySet, Schema, ValidationMode, Validator};
use miette::Diagnostic;
use serde::{Deserialize, Serialize};

use crate::diagnostics::error::{FieldError, LoadError, SourceDiagnostic};
use crate::io::json_schema;
use crate::io::yaml_limits::YamlLimits;
use crate::model::paragraph::Paragraph;
use crate::model::query::Action;

/// The invariants that ship with aipolicy.
pub const BUNDLED_INVARIANTS: &str = include_str!("../../policies/invariants.yaml");
/// The display name of the bundled invariants.
pub const BUNDLED_INVARIANTS_NAME: &str = "the embedded invariants";
/// The JSON Schema of an invariants file, as shipped in `schemas/invariants.schema.json`.
pub const INVARIANTS_SCHEMA: &str = include_str!("../../schemas/invariants.schema.json");

/// What an invariant claims about the requests meeting its condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// No request meeting the condition is ever allowed.
    Never,
    /// Every request meeting the condition is allowed.
    Always,
}

impl Kind {
    /// `never` or `always`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Never => "never",
            Kind::Always => "always",
        }
    }
}

/// One invariant of the invariants file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invariant {
    /// Unique id, shown in the output.
    pub id: String,
    /// The paragraph code it protects (`§1`–`§6`, `U0`–`U5`).
    pub paragraph: String,
    /// `never` or `always`.
    pub kind: Kind,
    /// The statement in Swedish.
    pub sv: String,
    /// The statement in English.
    pub en: String,
    /// A Cedar condition over `principal`, `action`, `resource` and `context`.
    pub when: String,
}

/// Actions whose decision is intended not to depend on the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntendedActions {
    /// Allowed for every request (Askersund: `reportIncident`, U4).
    #[serde(default)]
    pub always_allowed: Vec<Action>,
    /// Denied for every request.
    #[serde(default)]
    pub always_denied: Vec<Action>,
}

/// A validated invariants file: the schema holds, ids are unique, every condition parses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invariants {
    /// Actions intended to be always allowed or always denied.
    #[serde(default)]
    pub actions: IntendedActions,
    /// The invariants, in file order.
    pub invariants: Vec<Invariant>,
    #[serde(skip)]
    file: String,
    /// The line of each invariant's `when` in its file, where known (for errors found later).
    #[serde(skip)]
    when_lines: Vec<Option<usize>>,
}

/// A fact about every request the engine can build, conjoined to every invariant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assumption {
    /// Short id.
    pub id: &'static str,
    /// Why it holds, in English.
    pub en: &'static str,
    /// The Cedar condition.
    pub when: &'static str,
}

/// What the engine guarantees about every request it builds from a valid register and query
/// (see `Engine::prepare`, `schemas/register.schema.json` and `AiSystem::unregistered`).
///
/// The solver only knows the Cedar schema, which allows e.g. `level == -7` or
/// `hosting == ""`; these facts narrow it to requests that exist, so that every counterexample
/// maps back to a register and a query. An assumption that the engine did not guarantee would
/// hide real violations: `tests/verify.rs` checks every one against the requests the engine
/// builds from the bundled register.
pub const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        id: "data-ranges",
        en: "the data profile has level 0–4 and personal data 0–2 (the register's data classes)",
        when: "context.data.level >= 0 && context.data.level <= 4 && \
               context.data.personalData >= 0 && context.data.personalData <= 2",
    },
    Assumption {
        id: "no-data-empty-profile",
        en: "a query naming no data class has the empty profile (level 0, none, no secrecy, no unit restriction)",
        when: "context.data.named || (context.data.level == 0 && \
               context.data.personalData == 0 && !context.data.secrecy && \
               context.data.withinUnits)",
    },
    Assumption {
        id: "data-required",
        en: "use, decide, publish and sendToResident always name their data (U2: otherwise an input error)",
        when: "!(action in [Action::\"use\", Action::\"decide\", Action::\"publish\", \
               Action::\"sendToResident\"]) || context.data.named",
    },
    Assumption {
        id: "ai-hosting-status",
        en: "hosting is \"public\" or \"internal\", status \"active\" or \"suspended\"",
        when: "(resource.hosting == \"public\" || resource.hosting == \"internal\") && \
               (resource.status == \"active\" || resource.status == \"suspended\")",
    },
    Assumption {
        id: "ai-ranges",
        en: "an AI system's maxDataLevel is 0–4 and its personalData 0–2",
        when: "resource.maxDataLevel >= 0 && resource.maxDataLevel <= 4 && \
               resource.personalData >= 0 && resource.personalData <= 2",
    },
    Assumption {
        id: "ai-owner",
        en: "an owner, when given, is not empty",
        when: "!(resource has owner && resource.owner == \"\")",
    },
    Assumption {
        id: "ai-user-groups",
        en: "user groups are among employee, contractor and elected",
        when: "[Role::\"employee\", Role::\"contractor\", Role::\"elected\"]\
               .containsAll(resource.userGroups)",
    },
    Assumption {
        id: "ai-law-values",
        en: "aiActRisk, when given, is prohibited, high, limited or minimal; thirdCountryTransfer \
             none, adequacy, safeguards or unprotected; a processor, an EU database id and a \
             contest route are not empty",
        when: "!(resource has aiActRisk && ![\"prohibited\", \"high\", \"limited\", \
               \"minimal\"].contains(resource.aiActRisk)) && \
               !(resource has thirdCountryTransfer && ![\"none\", \"adequacy\", \"safeguards\", \
               \"unprotected\"].contains(resource.thirdCountryTransfer)) && \
               !(resource has processor && resource.processor == \"\") && \
               !(resource has euDatabaseId && resource.euDatabaseId == \"\") && \
               !(resource has contestRoute && resource.contestRoute == \"\")",
    },
    Assumption {
        id: "unregistered-ai",
        en: "an AI system not in the register is public AI with open information only \
             (AiSystem::unregistered), with no assessment that holds",
        when: "resource.registered || (resource.hosting == \"public\" && !resource.approved && \
               resource.status == \"active\" && !(resource has owner) && \
               resource.maxDataLevel == 0 && resource.personalData == 0 && !resource.secrecy && \
               resource.userGroups.containsAll([Role::\"employee\", Role::\"contractor\", \
               Role::\"elected\"]) && !resource.decisionSupport && \
               !resource.residentFacing && !resource.transparencyNotice && \
               !(resource has aiActRisk) && !resource.interactionDisclosure && \
               !(resource has processor) && !resource.processorAgreement && \
               !(resource has thirdCountryTransfer) && !resource.technicalProcessingOnly && \
               !(resource has euDatabaseId) && !(resource has contestRoute) && \
               !context.current.verified && !context.current.fairnessAssessed && \
               !context.current.accessibilityReviewed && !context.current.fria && \
               !context.current.dpia)",
    },
];

/// The conjunction of the [`ASSUMPTIONS`], as one Cedar condition.
pub fn assumptions_condition() -> String {
    ASSUMPTIONS
        .iter()
        .map(|a| format!("({})", a.when))
        .collect::<Vec<_>>()
        .join(" && ")
}

/// An invariants file that cannot be used.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum InvariantsError {
    /// The invariants file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    #[diagnostic(code(aipolicy::read))]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The invariants file is not valid YAML.
    #[error("invariants `{file}` are not valid YAML")]
    #[diagnostic(code(aipolicy::invariants_syntax))]
    Syntax {
        /// The file's name.
        file: String,
        /// Where the YAML broke.
        #[related]
        diagnostics: Vec<SourceDiagnostic>,
    },
    /// Valid YAML, but not valid invariants.
    #[error(
        "invariants `{file}` are invalid: {}",
        crate::diagnostics::error::count(problems)
    )]
    #[diagnostic(
        code(aipolicy::invariants),
        help("the invariants file's keys: `aipolicy schema invariants`; `when` is a Cedar condition over principal, action, resource and context")
    )]
    Invalid {
        /// The file's name.
        file: String,
        /// Every problem, each with its path.
        #[related]
        problems: Vec<FieldError>,
    },
    /// Policies or schema could not be loaded.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] LoadError),
}

fn invariants_validator() -> Result<&'static json_schema::CompiledSchema, LoadError> {
    static VALIDATOR: json_schema::Compiled = json_schema::Compiled::new();
    json_schema::compiled(&VALIDATOR, INVARIANTS_SCHEMA)
        .map_err(|e| LoadError::Internal(format!("invariants schema: {e}")))
}

impl Invariants {
    /// The bundled invariants (`policies/invariants.yaml`).
    pub fn bundled() -> Result<Invariants, InvariantsError> {
        Invariants::from_yaml(BUNDLED_INVARIANTS, BUNDLED_INVARIANTS_NAME)
    }

    /// Reads and validates an invariants file (UTF-8, at most 1 MiB, not read past it).
    pub fn from_file(path: &Path) -> Result<Invariants, InvariantsError> {
        let text = Invariants::read_file_text(path)?;
        Invariants::from_yaml(&text, &path.display().to_string())
    }

    /// An invariants file's text, read as [`Invariants::from_file`] reads it: within its limit,
    /// never past it (a pipe or a link to a device stops at the limit).
    pub fn read_file_text(path: &Path) -> Result<String, InvariantsError> {
        crate::io::read::read_text_file(path, "invariants", INVARIANTS_LIMITS.max_bytes)
            .map_err(|source| InvariantsError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .map_err(|problem| InvariantsError::Invalid {
                file: path.display().to_string(),
                problems: vec![problem],
            })
    }

    /// Parses and validates invariants YAML; `file` names it in errors. Every condition must
    /// parse as Cedar; it is checked against the Cedar schema by [`Invariants::check`]. The
    /// YAML's size, nesting and values are checked before it is built, as a register's are.
    pub fn from_yaml(text: &str, file: &str) -> Result<Invariants, InvariantsError> {
        let (text, json) = crate::io::yaml_limits::to_json(text, file, &INVARIANTS_LIMITS)
            .map_err(|problem| {
                problem.into_error(
                    |diagnostics| InvariantsError::Syntax {
                        file: file.to_string(),
                        diagnostics,
                    },
                    |problems| InvariantsError::Invalid {
                        file: file.to_string(),
                        problems,
                    },
                )
            })?;
        let invalid = |problems: Vec<FieldError>| InvariantsError::Invalid {
            file: file.to_string(),
            problems: problems
                .into_iter()
                .map(|p| {
                    let line = crate::io::yaml_path::line_of_yaml_path(text, &p.path);
                    p.at_line(line)
                })
                .collect(),
        };
        let problems = json_schema::violations(invariants_validator()?, &json);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        let mut invariants: Invariants = serde_json::from_value(json)
            .map_err(|e| invalid(vec![FieldError::new("", e.to_string())]))?;
        invariants.file = file.to_string();
        invariants.when_lines = (0..invariants.invariants.len())
            .map(|i| {
                crate::io::yaml_path::line_of_yaml_path(text, &format!("invariants[{i}].when"))
            })
            .collect();
        let mut problems = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for (i, invariant) in invariants.invariants.iter().enumerate() {
            if let Some(first) = seen.insert(invariant.id.as_str(), i) {
                problems.push(FieldError::new(
                    format!("invariants[{i}].id"),
                    format!(
                        "duplicate id `{}` (first used at invariants[{first}])",
                        invariant.id
                    ),
                ));
            }
            if let Err(e) = Paragraph::from_str(&invariant.paragraph) {
                problems.push(FieldError::new(
                    format!("invariants[{i}].paragraph"),
                    e.to_string(),
                ));
            }
            if let Err(e) = invariant_policy(invariant, "true") {
                problems.push(FieldError::new(format!("invariants[{i}].when"), e));
            }
        }
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Ok(invariants)
    }

    /// The file the invariants were read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Type-checks every condition against the Cedar schema (strict mode), so that a typo such
    /// as `resource.hostng` is an error at its path instead of a vacuous proof.
    pub fn check(&self, schema: &Schema) -> Result<(), InvariantsError> {
        let mut problems = Vec::new();
        for (i, invariant) in self.invariants.iter().enumerate() {
            let policy = match invariant_policy(invariant, "true") {
                Ok(policy) => policy,
                Err(e) => {
                    problems.push(FieldError::new(format!("invariants[{i}].when"), e));
                    continue;
                }
            };
            let mut set = PolicySet::new();
            if let Err(e) = set.add(policy) {
                problems.push(FieldError::new(
                    format!("invariants[{i}].when"),
                    e.to_string(),
                ));
                continue;
            }
            let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
            let line = self.when_lines.get(i).copied().flatten();
            problems.extend(result.validation_errors().map(|e| {
                FieldError::new(
                    format!("invariants[{i}].when"),
                    format!("does not type-check against the Cedar schema: {e}"),
                )
                .at_line(line)
            }));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvariantsError::Invalid {
                file: self.file.clone(),
                problems,
            })
        }
    }
}

/// The limits of an invariants file: 1 MiB, nested 32 deep, 100,000 values (aliases expanded).
const INVARIANTS_LIMITS: YamlLimits = YamlLimits {
    what: "invariants file",
    max_bytes: 1024 * 1024,
    max_depth: 32,
    max_values: 100_000,
    values_per_byte: 16,
};

/// The Cedar policy that turns an invariant into a question for the solver, with
/// `assumptions` conjoined. A condition nested over
/// [`MAX_POLICY_NESTING`](crate::policy::MAX_POLICY_NESTING), assumptions included, is
/// refused before Cedar parses it; Cedar parses on a thread with a stack for the deepest one.
pub fn invariant_policy(invariant: &Invariant, assumptions: &str) -> Result<Policy, String> {
    let when = &invariant.when;
    let text = match invariant.kind {
        Kind::Never => {
            format!(
                "forbid (principal, action, resource) unless {{ ({assumptions}) && ({when}) }};"
            )
        }
        Kind::Always => {
            format!("permit (principal, action, resource) when {{ ({assumptions}) && ({when}) }};")
        }
    };
    let max = crate::policy::MAX_POLICY_NESTING;
    if crate::io::cedar_text::nesting_over(&text, crate::io::cedar_text::Dialect::Policy, max)
        .is_some()
    {
        return Err(format!(
            "the condition nests deeper than {max} levels (with the assumptions around it); the limit is {max}"
        ));
    }
    let id = PolicyId::new(format!("invariant:{}", invariant.id));
    crate::io::cedar_text::on_parser_stack(move || {
        Policy::parse(Some(id), text).map_err(|e| format!("not a valid Cedar condition: {e}"))
    })
    .map_err(|e| e.to_string())?
}
