//! The AI register: data classes, AI systems and users, read from YAML (pinned keys).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diagnostics::error::{FieldError, LoadError, RegisterError};
use crate::io::json_schema;
use crate::io::read::read_text_file;
use crate::io::yaml_limits::YamlLimits;
use crate::io::yaml_path;
use crate::model::assessments::{Assessment, AssessmentKind, AssessmentValidity, Windows};
use crate::model::text_classes::{TextClasses, TextFindings};

/// The register that ships with aipolicy: Askersunds kommun's example register.
pub const BUNDLED_REGISTER: &str = include_str!("../../examples/askersund/register.yaml");
/// The display name of the bundled register.
pub const BUNDLED_REGISTER_NAME: &str = "examples/askersund/register.yaml";

/// The largest register [`Register::from_yaml`] and [`Register::from_file`] read: 16 MiB,
/// room for the schema's 100,000 users and 10,000 AI systems. Checked before parsing (a file
/// is not read past it). With the other limits it bounds what loading a register costs: the
/// costliest accepted register loads in under 1 GiB and a few seconds (`benches/limits.rs`).
pub const MAX_REGISTER_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting of YAML collections in a register; a valid one nests 4 levels
/// (`aiSystems` → a system → `userGroups`).
pub const MAX_REGISTER_DEPTH: usize = 32;

/// The most YAML values (scalars, lists and maps) a register may hold once its aliases are
/// expanded: 2,000,000, room for the schema's largest register (100,000 users and 10,000 AI
/// systems hold about 1,000,000). An alias bomb ("billion laughs") is stopped by this count
/// before anything is built.
pub const MAX_REGISTER_VALUES: usize = 2_000_000;

/// And at most this many YAML values per byte of the register's text, aliases expanded (text
/// without aliases holds about one value per byte or less; merge keys add a few): a small
/// alias bomb is stopped after a small count.
pub const MAX_REGISTER_VALUES_PER_BYTE: usize = 16;

/// The register's limits, checked while the YAML is read, before anything is built.
const REGISTER_LIMITS: YamlLimits = YamlLimits {
    what: "register",
    max_bytes: MAX_REGISTER_BYTES,
    max_depth: MAX_REGISTER_DEPTH,
    max_values: MAX_REGISTER_VALUES,
    values_per_byte: MAX_REGISTER_VALUES_PER_BYTE,
};

/// A role of the policy's "Användning av AI i tjänsten".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// Anställd personal.
    Employee,
    /// Privat utförare.
    Contractor,
    /// Förtroendevald.
    Elected,
}

impl Role {
    /// All three roles.
    pub const ALL: [Role; 3] = [Role::Employee, Role::Contractor, Role::Elected];

    /// The pinned name (`employee`, `contractor`, `elected`), also the Cedar entity id.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::Contractor => "contractor",
            Role::Elected => "elected",
        }
    }
}

/// How much personal data: the order is the strictness (`None < Ordinary < Sensitive`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub enum PersonalData {
    /// No personal data.
    #[default]
    None,
    /// Ordinary personal data.
    Ordinary,
    /// Special categories of GDPR art. 9.
    Sensitive,
}

impl PersonalData {
    /// The rank Cedar sees (0, 1, 2).
    pub fn rank(self) -> i64 {
        self as i64
    }
}

/// Where an AI system runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Hosting {
    /// Outside the municipality's agreements and security, e.g. a free chatbot on the web.
    Public,
    /// Within the municipality's agreements and security.
    Internal,
}

impl Hosting {
    /// The pinned name.
    pub fn as_str(self) -> &'static str {
        match self {
            Hosting::Public => "public",
            Hosting::Internal => "internal",
        }
    }
}

/// Whether an AI system may be used at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// In use.
    #[default]
    Active,
    /// Suspended (§6).
    Suspended,
}

impl Status {
    /// The pinned name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
        }
    }
}

/// An AI system's risk class under the EU AI Act (Regulation (EU) 2024/1689), as the
/// municipality has classified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AiActRisk {
    /// A prohibited practice (art. 5), e.g. emotion recognition in a school.
    Prohibited,
    /// High-risk (art. 6 and annex III), e.g. assessing eligibility for public assistance.
    High,
    /// Limited risk: transparency duties only (art. 50), e.g. a chatbot.
    Limited,
    /// Minimal risk: no duties of its own beyond AI literacy (art. 4).
    Minimal,
}

impl AiActRisk {
    /// Every class, in the order of the register's schema.
    pub const ALL: [AiActRisk; 4] = [
        AiActRisk::Prohibited,
        AiActRisk::High,
        AiActRisk::Limited,
        AiActRisk::Minimal,
    ];

    /// The pinned name, also the value Cedar sees as `resource.aiActRisk`.
    pub fn as_str(self) -> &'static str {
        match self {
            AiActRisk::Prohibited => "prohibited",
            AiActRisk::High => "high",
            AiActRisk::Limited => "limited",
            AiActRisk::Minimal => "minimal",
        }
    }
}

/// Whether personal data handled by a processor leaves the EEA, and on what legal ground
/// (GDPR chapter V, art. 44 ff.).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ThirdCountryTransfer {
    /// Personal data stays within the EU/EEA.
    None,
    /// To a country with an adequacy decision of the Commission (art. 45).
    Adequacy,
    /// With appropriate safeguards such as standard contractual clauses (art. 46).
    Safeguards,
    /// Outside the EEA without an adequacy decision or safeguards.
    Unprotected,
}

impl ThirdCountryTransfer {
    /// Every value, in the order of the register's schema.
    pub const ALL: [ThirdCountryTransfer; 4] = [
        ThirdCountryTransfer::None,
        ThirdCountryTransfer::Adequacy,
        ThirdCountryTransfer::Safeguards,
        ThirdCountryTransfer::Unprotected,
    ];

    /// The register's name, also the value Cedar sees as `resource.thirdCountryTransfer`.
    pub fn as_str(self) -> &'static str {
        match self {
            ThirdCountryTransfer::None => "none",
            ThirdCountryTransfer::Adequacy => "adequacy",
            ThirdCountryTransfer::Safeguards => "safeguards",
            ThirdCountryTransfer::Unprotected => "unprotected",
        }
    }
}

/// A class of information, after SKR's KLASSA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataClass {
    /// Id used in queries, e.g. `intern`.
    pub id: String,
    /// Swedish display name (the id when the register gives none).
    #[serde(default)]
    pub name: String,
    /// Consequence level 0 (öppen) to 4 (säkerhetsskydd).
    pub level: u8,
    /// Personal data in the class.
    pub personal_data: PersonalData,
    /// Covered by offentlighets- och sekretesslagen.
    pub secrecy: bool,
    /// Need-to-know: the units (förvaltningar, nämnder) whose information this is. A user whose
    /// unit is not among them, or who has no unit, is denied the class (§3). `None`: not
    /// restricted by unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<Vec<String>>,
    /// What found in a query's text belongs to this class: names of the built-in finders
    /// (see [`crate::text::Kind::name`]), e.g. `personnummer`, `email`, `health`. A kind is
    /// named by one class at most.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finds: Vec<String>,
    /// The municipality's own patterns for this class (the `regex` crate's syntax, linear
    /// time), e.g. its case numbers `SOC \d{4}/\d+`; compiled when the register is loaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
    /// The municipality's own words for this class, matched as the start of a word in any
    /// case (as the built-in word list is): `orosanmäl` finds `Orosanmälningar`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    /// Free text for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl DataClass {
    /// Whether a user of `unit` may handle this class by need-to-know (§3): always when the
    /// class names no units, else only from one of them.
    ///
    /// ```
    /// let register = aipolicy::Register::bundled().unwrap();
    /// let case_files = register.data_class("socialtjanstarende").unwrap();
    /// assert!(case_files.open_to_unit(Some("Socialförvaltningen")));
    /// assert!(!case_files.open_to_unit(Some("Kommunstyrelseförvaltningen")));
    /// assert!(!case_files.open_to_unit(None));
    /// assert!(register.data_class("intern").unwrap().open_to_unit(None));
    /// ```
    pub fn open_to_unit(&self, unit: Option<&str>) -> bool {
        match (&self.units, unit) {
            (None, _) => true,
            (Some(units), Some(unit)) => units.iter().any(|u| u == unit),
            (Some(_), None) => false,
        }
    }
}

/// An AI system and what it is approved for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AiSystem {
    /// Id used in queries, e.g. `copilot-chat`.
    pub id: String,
    /// Display name (the id when the register gives none).
    #[serde(default)]
    pub name: String,
    /// Public or internal.
    pub hosting: Hosting,
    /// Decided by the municipality.
    pub approved: bool,
    /// Active (the default) or suspended.
    #[serde(default)]
    pub status: Status,
    /// Accountable role or person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Tested and verified (§2): not done, done (undated) or the day it was done.
    #[serde(default)]
    pub verified: Assessment,
    /// Highest data level approved (0–4; 0, open information only, when not given).
    #[serde(default)]
    pub max_data_level: u8,
    /// Widest personal-data category approved.
    #[serde(default)]
    pub personal_data: PersonalData,
    /// Approved for secrecy data.
    #[serde(default)]
    pub secrecy: bool,
    /// Roles that may use it.
    #[serde(default = "all_roles")]
    pub user_groups: Vec<Role>,
    /// Approved as support for decisions about individuals.
    #[serde(default)]
    pub decision_support: bool,
    /// Its fairness (non-discrimination) assessment (§1).
    #[serde(default)]
    pub fairness_assessed: Assessment,
    /// Meets residents.
    #[serde(default)]
    pub resident_facing: bool,
    /// Has a published transparency notice (§5).
    #[serde(default)]
    pub transparency_notice: bool,
    /// Its accessibility review (§4).
    #[serde(default)]
    pub accessibility_reviewed: Assessment,
    /// Risk class under the EU AI Act; `None`: not yet classified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_act_risk: Option<AiActRisk>,
    /// Its fundamental-rights impact assessment (AI Act art. 27).
    #[serde(default)]
    pub fria: Assessment,
    /// Its data-protection impact assessment (GDPR art. 35).
    #[serde(default)]
    pub dpia: Assessment,
    /// People are told that they interact with an AI system (AI Act art. 50(1)).
    #[serde(default)]
    pub interaction_disclosure: bool,
    /// The supplier that processes information on the municipality's behalf (a processor,
    /// GDPR art. 28); `None`: the municipality runs the system itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor: Option<String>,
    /// A processor agreement with the supplier is signed (GDPR art. 28(3)).
    #[serde(default)]
    pub processor_agreement: bool,
    /// Whether personal data leaves the EEA, and on what ground (GDPR art. 44 ff.); `None`:
    /// not known (which counts as unprotected for a system run by a processor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_country_transfer: Option<ThirdCountryTransfer>,
    /// The supplier only processes or stores the information technically, for the
    /// municipality (offentlighets- och sekretesslagen 10 kap. 2 a §).
    #[serde(default)]
    pub technical_processing_only: bool,
    /// The id of the system's registration in the EU database for high-risk AI systems (AI
    /// Act art. 49(3) and 71); `None`: not registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eu_database_id: Option<String>,
    /// Where a person contests, asks for an explanation of, or appeals a decision made with the
    /// system's support (§5, §6; AI Act art. 86, FL 33 §); `None`: the register's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contest_route: Option<String>,
    /// Where deviations, errors and misuse of the system are reported (U4); `None`: the
    /// register's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_channel: Option<String>,
    /// How long its assessments hold, where it differs from the register's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_validity: Option<AssessmentValidity>,
    /// Where the system is reached (pinned key `endpoint`): the base URL of an
    /// OpenAI-compatible API, e.g. `http://127.0.0.1:8000/v1`. `None`: not reachable through
    /// the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The model names the system answers to at its endpoint. A gateway request may name the
    /// system by its id or by one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Where the gateway reads the system's credential: never the secret itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
    /// Free text for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Where an AI system's credential is read from: an environment variable or a file (exactly
/// one), and the header it is sent in. The register never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// The environment variable that holds the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// The file that holds the secret (its first line, trimmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The header the secret is sent in, e.g. `api-key` (Azure OpenAI). `None`:
    /// `Authorization: Bearer <secret>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

fn all_roles() -> Vec<Role> {
    Role::ALL.to_vec()
}

impl AiSystem {
    /// How an AI system absent from the register is treated: public AI, open information only.
    pub fn unregistered(id: &str) -> AiSystem {
        AiSystem {
            id: id.to_string(),
            name: id.to_string(),
            hosting: Hosting::Public,
            approved: false,
            status: Status::Active,
            owner: None,
            verified: Assessment::NotDone,
            max_data_level: 0,
            personal_data: PersonalData::None,
            secrecy: false,
            user_groups: all_roles(),
            decision_support: false,
            fairness_assessed: Assessment::NotDone,
            resident_facing: false,
            transparency_notice: false,
            accessibility_reviewed: Assessment::NotDone,
            ai_act_risk: None,
            fria: Assessment::NotDone,
            dpia: Assessment::NotDone,
            interaction_disclosure: false,
            processor: None,
            processor_agreement: false,
            third_country_transfer: None,
            technical_processing_only: false,
            eu_database_id: None,
            contest_route: None,
            incident_channel: None,
            assessment_validity: None,
            endpoint: None,
            models: Vec::new(),
            credential: None,
            description: None,
        }
    }

    /// The register's record of an assessment of `kind`.
    pub fn assessment(&self, kind: AssessmentKind) -> Assessment {
        match kind {
            AssessmentKind::Verified => self.verified,
            AssessmentKind::FairnessAssessed => self.fairness_assessed,
            AssessmentKind::AccessibilityReviewed => self.accessibility_reviewed,
            AssessmentKind::Fria => self.fria,
            AssessmentKind::Dpia => self.dpia,
        }
    }

    /// Sets the register's record of an assessment of `kind`.
    pub fn set_assessment(&mut self, kind: AssessmentKind, assessment: Assessment) {
        let slot = match kind {
            AssessmentKind::Verified => &mut self.verified,
            AssessmentKind::FairnessAssessed => &mut self.fairness_assessed,
            AssessmentKind::AccessibilityReviewed => &mut self.accessibility_reviewed,
            AssessmentKind::Fria => &mut self.fria,
            AssessmentKind::Dpia => &mut self.dpia,
        };
        *slot = assessment;
    }
}

/// A person who uses AI on the municipality's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Id used in queries.
    pub id: String,
    /// Roles; empty means "not a user in the policy's sense" (U0).
    pub roles: Vec<Role>,
    /// Förvaltning or unit.
    #[serde(
        default,
        deserialize_with = "present_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub unit: Option<String>,
    /// Has had the municipality's AI training (AI Act art. 4), when known.
    #[serde(
        default,
        rename = "aiLiteracy",
        deserialize_with = "present_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub ai_literacy: Option<bool>,
}

impl User {
    /// A user with these roles, no unit and nothing known of their AI training.
    pub fn new(id: impl Into<String>, roles: impl IntoIterator<Item = Role>) -> User {
        User {
            id: id.into(),
            roles: roles.into_iter().collect(),
            unit: None,
            ai_literacy: None,
        }
    }

    /// The same user in `unit`.
    pub fn with_unit(mut self, unit: impl Into<String>) -> User {
        self.unit = Some(unit.into());
        self
    }

    /// The same user, with (`true`) or without the municipality's AI training (`aiLiteracy`,
    /// AI Act art. 4).
    pub fn with_ai_literacy(mut self, trained: bool) -> User {
        self.ai_literacy = Some(trained);
        self
    }
}

/// An optional bool that, when present, is a bool.
fn present_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    bool::deserialize(d).map(Some)
}

/// An optional string that, when present, is a string: `null` is refused as the schemas do.
pub(crate) fn present_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// A validated register: every id unique, every field as `schemas/register.schema.json` says.
///
/// ```
/// let register = aipolicy::Register::bundled().unwrap();
/// assert!(register.data_class("oppen").is_some());
/// assert_eq!(register.data_class("intern").unwrap().level, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Register {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    municipality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contest_route: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    incident_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assessment_validity: Option<AssessmentValidity>,
    data_classes: Vec<DataClass>,
    ai_systems: Vec<AiSystem>,
    #[serde(default)]
    users: Vec<User>,
    #[serde(skip)]
    index: RegisterIndex,
    /// What its data classes find in a text, compiled at load.
    #[serde(skip)]
    text_classes: TextClasses,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RegisterIndex {
    data_classes: HashMap<String, usize>,
    ai_systems: HashMap<String, usize>,
    users: HashMap<String, usize>,
    /// The positions of the AI systems that give no `userGroups` (and so have every role).
    user_groups_by_default: Vec<usize>,
}

fn register_validator() -> Result<&'static json_schema::CompiledSchema, LoadError> {
    static VALIDATOR: json_schema::Compiled = json_schema::Compiled::new();
    json_schema::compiled(&VALIDATOR, json_schema::REGISTER_SCHEMA)
        .map_err(|e| LoadError::Internal(format!("register schema: {e}")))
}

impl Register {
    /// The bundled Askersund register.
    pub fn bundled() -> Result<Register, LoadError> {
        Register::from_yaml(BUNDLED_REGISTER, BUNDLED_REGISTER_NAME)
    }

    /// Reads and validates a register file (UTF-8, at most [`MAX_REGISTER_BYTES`]).
    pub fn from_file(path: &Path) -> Result<Register, LoadError> {
        let text = Register::read_file_text(path)?;
        Register::from_yaml(&text, &path.display().to_string())
    }

    /// A register file's text, read as [`Register::from_file`] reads it (at most
    /// [`MAX_REGISTER_BYTES`], UTF-8), for a caller that also needs the text itself.
    pub fn read_file_text(path: &Path) -> Result<String, LoadError> {
        read_text_file(path, "register", MAX_REGISTER_BYTES)
            .map_err(|source| LoadError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .map_err(|problem| {
                LoadError::Register(RegisterError::Invalid {
                    file: path.display().to_string(),
                    problems: vec![problem],
                })
            })
    }

    /// Parses and validates register YAML; `file` names it in errors. A text over
    /// [`MAX_REGISTER_BYTES`], nested over [`MAX_REGISTER_DEPTH`] or with more than
    /// [`MAX_REGISTER_VALUES`] (or [`MAX_REGISTER_VALUES_PER_BYTE`]) values, aliases expanded,
    /// is invalid, found before it is built.
    pub fn from_yaml(text: &str, file: &str) -> Result<Register, LoadError> {
        let (text, mut json) = crate::io::yaml_limits::to_json(text, file, &REGISTER_LIMITS)
            .map_err(|problem| {
                problem.into_error(
                    |diagnostics| RegisterError::Syntax {
                        file: file.to_string(),
                        diagnostics,
                    },
                    |problems| RegisterError::Invalid {
                        file: file.to_string(),
                        problems,
                    },
                )
            })?;
        whole_numbers_as_integers(&mut json);
        Register::from_json_value(json, file, Some(text))
    }

    /// Builds a register in code; it is validated exactly like a file.
    pub fn new(
        municipality: Option<String>,
        data_classes: Vec<DataClass>,
        ai_systems: Vec<AiSystem>,
        users: Vec<User>,
    ) -> Result<Register, LoadError> {
        let register = Register {
            municipality,
            contest_route: None,
            incident_channel: None,
            assessment_validity: None,
            data_classes,
            ai_systems,
            users,
            index: RegisterIndex::default(),
            text_classes: TextClasses::default(),
        };
        let json = serde_json::to_value(&register)
            .map_err(|e| LoadError::Internal(format!("register to JSON: {e}")))?;
        Register::from_json_value(json, "<register>", None)
    }

    /// Validates the register's JSON form; `text`, the YAML it was read from, gives each
    /// problem its line.
    fn from_json_value(
        json: serde_json::Value,
        file: &str,
        text: Option<&str>,
    ) -> Result<Register, LoadError> {
        let invalid = |problems: Vec<FieldError>| RegisterError::Invalid {
            file: file.to_string(),
            problems: problems
                .into_iter()
                .map(|p| {
                    let line = text.and_then(|text| yaml_path::line_of_yaml_path(text, &p.path));
                    p.at_line(line)
                })
                .collect(),
        };
        let mut problems = json_schema::violations(register_validator()?, &json);
        if problems.is_empty() {
            problems = date_problems(&json);
        }
        if !problems.is_empty() {
            return Err(invalid(problems).into());
        }
        let user_groups_by_default = json
            .get("aiSystems")
            .and_then(serde_json::Value::as_array)
            .map(|systems| {
                systems
                    .iter()
                    .enumerate()
                    .filter(|(_, ai)| ai.get("userGroups").is_none())
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default();
        let mut register: Register = serde_json::from_value(json)
            .map_err(|e| invalid(vec![FieldError::new("", e.to_string())]))?;
        register.index.user_groups_by_default = user_groups_by_default;
        register.fill_default_names();
        let problems = register.build_index(text);
        if !problems.is_empty() {
            return Err(invalid(problems).into());
        }
        register.text_classes = TextClasses::compile(&register.data_classes).map_err(invalid)?;
        Ok(register)
    }

    /// Display name of the municipality, if the register gives one.
    pub fn municipality(&self) -> Option<&str> {
        self.municipality.as_deref()
    }

    /// Where a person contests or appeals a decision, municipality-wide (`contestRoute`).
    pub fn contest_route(&self) -> Option<&str> {
        self.contest_route.as_deref()
    }

    /// Where incidents are reported, municipality-wide (`incidentChannel`, U4).
    pub fn incident_channel(&self) -> Option<&str> {
        self.incident_channel.as_deref()
    }

    /// Where a person contests a decision made with `ai`'s support: its own route, else the
    /// register's.
    pub fn contest_route_of<'a>(&'a self, ai: &'a AiSystem) -> Option<&'a str> {
        ai.contest_route.as_deref().or(self.contest_route())
    }

    /// Where incidents with `ai` are reported: its own channel, else the register's.
    pub fn incident_channel_of<'a>(&'a self, ai: &'a AiSystem) -> Option<&'a str> {
        ai.incident_channel.as_deref().or(self.incident_channel())
    }

    /// How many months `ai`'s assessments of `kind` hold: its own setting, else the register's,
    /// else the kind's default.
    pub fn validity_months(&self, ai: &AiSystem, kind: AssessmentKind) -> u16 {
        ai.assessment_validity
            .and_then(|v| v.months(kind))
            .or_else(|| self.assessment_validity.and_then(|v| v.months(kind)))
            .unwrap_or_else(|| kind.default_months())
    }

    /// On which days each of `ai`'s assessments holds.
    pub fn windows(&self, ai: &AiSystem) -> Windows {
        Windows(
            AssessmentKind::ALL
                .map(|kind| ai.assessment(kind).window(self.validity_months(ai, kind))),
        )
    }

    /// Data classes, in register order.
    pub fn data_classes(&self) -> &[DataClass] {
        &self.data_classes
    }

    /// AI systems, in register order.
    pub fn ai_systems(&self) -> &[AiSystem] {
        &self.ai_systems
    }

    /// Users, in register order.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// `name` defaults to the id.
    fn fill_default_names(&mut self) {
        for class in &mut self.data_classes {
            if class.name.is_empty() {
                class.name.clone_from(&class.id);
            }
        }
        for ai in &mut self.ai_systems {
            if ai.name.is_empty() {
                ai.name.clone_from(&ai.id);
            }
        }
    }

    /// Indexes ids; every duplicate id is a problem. `text`, the YAML the register was read
    /// from, gives the line of the first of two users who are one.
    fn build_index(&mut self, text: Option<&str>) -> Vec<FieldError> {
        let mut problems = Vec::new();
        self.index.data_classes = index_ids(
            "dataClasses",
            self.data_classes.iter().map(|c| c.id.as_str()),
            &mut problems,
        );
        self.index.ai_systems = index_ids(
            "aiSystems",
            self.ai_systems.iter().map(|a| a.id.as_str()),
            &mut problems,
        );
        self.index.users = index_user_ids(&self.users, text, &mut problems);
        problems
    }

    /// The data class with this id.
    pub fn data_class(&self, id: &str) -> Option<&DataClass> {
        self.index
            .data_classes
            .get(id)
            .and_then(|&i| self.data_classes.get(i))
    }

    /// The AI system with this id.
    pub fn ai_system(&self, id: &str) -> Option<&AiSystem> {
        self.index
            .ai_systems
            .get(id)
            .and_then(|&i| self.ai_systems.get(i))
    }

    /// Whether the AI system at `position` (in [`Register::ai_systems`]) gives no
    /// `userGroups`, and so is open to every role.
    pub fn user_groups_by_default(&self, position: usize) -> bool {
        self.index.user_groups_by_default.contains(&position)
    }

    /// The user with this id, compared as a directory compares ids: without regard to case
    /// or surrounding spaces (see [`fold_user_id`]), so that `"Gunilla"` and `" gunilla "` find
    /// the register's `gunilla`. The user keeps the register's spelling.
    ///
    /// ```
    /// let register = aipolicy::Register::bundled().unwrap();
    /// assert_eq!(register.user(" ANNA ").map(|u| u.id.as_str()), Some("anna"));
    /// assert!(register.user("ann").is_none());
    /// ```
    pub fn user(&self, id: &str) -> Option<&User> {
        self.index
            .users
            .get(&*fold_user_id(id))
            .and_then(|&i| self.users.get(i))
    }

    /// How information found in a text maps to the data classes (their `finds`, `patterns`
    /// and `words`).
    pub fn text_classes(&self) -> &TextClasses {
        &self.text_classes
    }

    /// Everything found in `texts` (a query's `text`), each with the class it raises: what the
    /// engine adds to a query's data, and what "Vad innehåller min text?" answers.
    ///
    /// ```
    /// let register = aipolicy::Register::bundled().unwrap();
    /// let findings = register.find_in_text(&["Ring 070-123 45 67 om 19811218-9876.".to_string()]);
    /// assert_eq!(findings.classes(), ["personuppgifter"]);
    /// assert_eq!(findings.found[1].kind, "personnummer");
    /// assert_eq!((findings.found[1].start, findings.found[1].end), (22, 35));
    /// ```
    pub fn find_in_text(&self, texts: &[String]) -> TextFindings {
        self.text_classes.find(texts)
    }
}

/// The assessment dates that match the schema's `YYYY-MM-DD` but are no day of the calendar
/// (`2026-02-30`), each at its path: the schema's pattern cannot tell.
fn date_problems(json: &serde_json::Value) -> Vec<FieldError> {
    let systems = json
        .get("aiSystems")
        .and_then(serde_json::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut problems = Vec::new();
    for (i, system) in systems.iter().enumerate() {
        for kind in AssessmentKind::ALL {
            if let Some(text) = system.get(kind.key()).and_then(serde_json::Value::as_str) {
                if let Err(message) = crate::model::clock::parse_date(text) {
                    problems.push(FieldError::new(
                        format!("aiSystems[{i}].{}", kind.key()),
                        format!(
                            "{message}; give `true`, `false` or the date the assessment was made"
                        ),
                    ));
                }
            }
        }
    }
    problems
}

fn index_ids<'a>(
    list: &str,
    ids: impl Iterator<Item = &'a str>,
    problems: &mut Vec<FieldError>,
) -> HashMap<String, usize> {
    let mut index = HashMap::new();
    for (i, id) in ids.enumerate() {
        if let Some(first) = index.insert(id.to_string(), i) {
            index.insert(id.to_string(), first);
            problems.push(FieldError::new(
                format!("{list}[{i}].id"),
                format!("duplicate id `{id}` (first used at {list}[{first}])"),
            ));
        }
    }
    index
}

/// A user id as it is compared: without surrounding white space, and case-folded.
///
/// Directories compare their ids (sAMAccountName, userPrincipalName, e-mail) without regard to
/// case, and services copy them with stray spaces, so `Gunilla`, `GUNILLA` and `gunilla ` are
/// one person. Folding is Unicode's default case folding (`caseless`), not
/// [`str::to_lowercase`]: lowercasing is for display and does not make every caseless-equal
/// pair equal (`ß`/`ẞ`/`ss`, a final `ς` and `σ`, Cherokee), while folding is the mapping
/// Unicode defines for comparing without case. An id that is already folded (the common case:
/// lowercase ASCII without surrounding spaces) is borrowed, not copied.
///
/// ```
/// use aipolicy::register::fold_user_id;
/// assert_eq!(fold_user_id(" Gunilla "), "gunilla");
/// assert_eq!(fold_user_id("STRAßE"), fold_user_id("strasse"));
/// assert!(matches!(fold_user_id("anna"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn fold_user_id(id: &str) -> Cow<'_, str> {
    let trimmed = id.trim();
    if trimmed
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        Cow::Borrowed(trimmed)
    } else {
        Cow::Owned(caseless::default_case_fold_str(trimmed))
    }
}

/// Indexes the users by folded id ([`fold_user_id`]): an id the register gives twice, or two ids
/// that differ only by case or surrounding spaces (one person to a directory), is a problem
/// that names both (the problem's path gives the second's line; the first's is in the message
/// when `text`, the register's YAML, is known).
fn index_user_ids(
    users: &[User],
    text: Option<&str>,
    problems: &mut Vec<FieldError>,
) -> HashMap<String, usize> {
    let mut index: HashMap<String, usize> = HashMap::with_capacity(users.len());
    for (i, user) in users.iter().enumerate() {
        let folded = fold_user_id(&user.id).into_owned();
        match index.get(&folded) {
            Some(&first) => {
                let first_id = users.get(first).map_or("", |u| u.id.as_str());
                let first_line = text
                    .and_then(|text| {
                        yaml_path::line_of_yaml_path(text, &format!("users[{first}].id"))
                    })
                    .map(|line| format!(", line {line}"))
                    .unwrap_or_default();
                let message = if first_id == user.id {
                    format!("duplicate id `{}` (first used at users[{first}])", user.id)
                } else {
                    format!(
                        "user id `{}` is the same as `{first_id}` (users[{first}]{first_line}) once case and surrounding spaces are ignored, as a directory compares ids; give each person one id",
                        user.id
                    )
                };
                problems.push(FieldError::new(format!("users[{i}].id"), message));
            }
            None => {
                index.insert(folded, i);
            }
        }
    }
    index
}

/// `level: 2.0` is the integer 2, as the JSON Schema already counts it: without this, the
/// schema would pass it and reading it as a `u8` would fail with no path to show.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64() {
                // Within ±2^53 an f64 holds whole numbers exactly.
                if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                    *value = serde_json::Value::from(f as i64);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}
