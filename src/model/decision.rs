//! The engine's answer, with its explanations (its JSON shape is fixed: services rely on it).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use crate::diagnostics::language::Language;

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The user may go ahead, with the decision's obligations.
    Allow,
    /// The user may not; the decision's reasons say why.
    Deny,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        })
    }
}

/// One explanation: the policy behind it, the paragraph it comes from, and a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reason {
    /// The policy's `@id`.
    pub policy: Arc<str>,
    /// The policy's `@paragraph` (§1–§6, U0–U5).
    pub paragraph: Arc<str>,
    /// The explanation in the chosen language.
    pub message: Arc<str>,
    /// For a rule from law, the act and article (its `@law`), e.g. `EU AI Act art. 5`.
    /// Absent for the policy's own rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub law: Option<Arc<str>>,
}

impl Reason {
    /// A reason of the policy's own (no `@law`).
    pub fn new(
        policy: impl Into<Arc<str>>,
        paragraph: impl Into<Arc<str>>,
        message: impl Into<Arc<str>>,
    ) -> Reason {
        Reason {
            policy: policy.into(),
            paragraph: paragraph.into(),
            message: message.into(),
            law: None,
        }
    }
}

/// A duty that comes with an allow; the same shape as a [`Reason`].
pub type Obligation = Reason;

/// The answer to a [`Query`](crate::Query).
///
/// A deny always has at least one reason; an allow carries the obligations of the permits that
/// applied. A non-empty `errors` always goes with a deny (fail closed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Allow or deny.
    pub decision: Verdict,
    /// Why (for a deny): each forbid that applied, in policy order.
    pub reasons: Vec<Reason>,
    /// What the user takes on (for an allow).
    pub obligations: Vec<Obligation>,
    /// What went wrong, if the request could not be evaluated cleanly.
    pub errors: Vec<String>,
    /// What the caller should know that did not change the decision, e.g. that the AI system
    /// is not in the register (and so was treated as public AI). Absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The query's `requestId`, when it had one.
    #[serde(default, rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Box<str>>,
    /// Where deviations, errors and misuse are reported (U4): on every deny, and on an allowed
    /// `reportIncident`, the AI system's channel, else the register's. Absent when the
    /// register names none.
    #[serde(
        default,
        rename = "incidentChannel",
        skip_serializing_if = "Option::is_none"
    )]
    pub incident_channel: Option<Arc<str>>,
    /// What was found in the query's `text`: each kind, where, and the class it raised (never
    /// the text itself). Absent when the query had no text or nothing was found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub found: Vec<FoundInText>,
}

/// One thing found in a query's text: what, where, and the data class it raised. Never the
/// matched text.
///
/// JSON: `{"kind": "personnummer", "start": 14, "end": 27, "class": "personuppgifter"}`, with
/// `"message": 1` when the text was a list (the index of the string it is in).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FoundInText {
    /// What was found: a built-in kind (`personnummer`, `email`, `health`, …; see
    /// [`crate::text::Kind::name`]), or `pattern` or `word` for the register's own.
    pub kind: std::borrow::Cow<'static, str>,
    /// The index of the string it is in, when the text was a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<usize>,
    /// Where it starts: a character offset (Unicode scalar values) in its string.
    pub start: usize,
    /// Where it ends (exclusive), in characters.
    pub end: usize,
    /// The data class it raised; `None` when the register maps the kind to none (the decision
    /// is then a deny, U2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<Arc<str>>,
}

impl Decision {
    /// Whether the decision is an allow.
    pub fn is_allowed(&self) -> bool {
        self.decision == Verdict::Allow
    }

    /// The paragraph codes of the reasons (deny) or obligations (allow), in order, without repeats.
    pub fn paragraphs(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = Vec::new();
        for r in self.reasons.iter().chain(&self.obligations) {
            if !codes.contains(&&*r.paragraph) {
                codes.push(&r.paragraph);
            }
        }
        codes
    }

    /// The policy ids of the reasons and obligations.
    pub fn policies(&self) -> Vec<&str> {
        self.reasons
            .iter()
            .chain(&self.obligations)
            .map(|r| &*r.policy)
            .collect()
    }

    /// A deny for input that could not be read; used by `batch` for a bad line.
    pub fn input_error(errors: Vec<String>, language: Language) -> Decision {
        Decision {
            decision: Verdict::Deny,
            reasons: vec![invalid_query_reason(language)],
            obligations: Vec::new(),
            errors,
            notes: Vec::new(),
            request_id: None,
            incident_channel: None,
            found: Vec::new(),
        }
    }

    /// The same decision, answering the request with this id.
    pub fn with_request_id(mut self, request_id: Option<String>) -> Decision {
        self.request_id = request_id.map(String::into_boxed_str);
        self
    }
}

/// The policy id of the reason given when a request could not be evaluated safely.
pub const FAIL_CLOSED_POLICY: &str = "aipolicy-fail-closed";
/// The policy id of the reason given for a query that could not be read (`batch`, `check --format json`).
pub const INVALID_QUERY_POLICY: &str = "aipolicy-invalid-query";
/// The policy id of the reason given when no permit applies to a request.
pub const NO_PERMIT_POLICY: &str = "aipolicy-no-permit";
/// The policy id of the reason given when a service asserts a role that the register does not
/// grant the user (the register is the authority for the users it lists).
pub const ROLE_BEYOND_REGISTER_POLICY: &str = "aipolicy-role-beyond-register";

/// The policy id of the reason given, when the engine admits only the register's users (see
/// [`Engine::registered_users_only`](crate::Engine::registered_users_only)), for a user the
/// register does not list.
pub const UNREGISTERED_USER_POLICY: &str = "aipolicy-unregistered-user";

/// The policy id of the reason given when a query's text holds information that the register
/// maps to no data class: it cannot be weighed, so it is denied (fail closed).
pub const TEXT_UNMAPPED_POLICY: &str = "aipolicy-text-unmapped";

/// Every reason the engine gives itself, beside the policies' own `@id`s: what a scenario may
/// expect although no policy file holds it.
pub const ENGINE_POLICIES: [&str; 6] = [
    FAIL_CLOSED_POLICY,
    INVALID_QUERY_POLICY,
    NO_PERMIT_POLICY,
    ROLE_BEYOND_REGISTER_POLICY,
    UNREGISTERED_USER_POLICY,
    TEXT_UNMAPPED_POLICY,
];

/// The U2 reason for information found in a text that no data class of the register names
/// (`kinds`: [`crate::text::Kind::name`]s).
pub(crate) fn text_unmapped_reason(kinds: &[&str], language: Language) -> Reason {
    let swedish = language == Language::Sv;
    let described: Vec<&str> = kinds
        .iter()
        .filter_map(|name| crate::text::Kind::from_name(name))
        .map(|kind| kind.described(swedish))
        .collect();
    let list = described.join(", ");
    let message = match language {
        Language::Sv => format!(
            "Texten innehåller {list}, som registret inte hänför till någon informationsklass; därför kan det inte prövas om informationen får användas här. Ange informationsklassen eller be den som förvaltar registret att komplettera det."
        ),
        Language::En => format!(
            "The text holds {list}, which the register places in no data class; so whether the information may be used here cannot be weighed. Name the data class, or ask whoever keeps the register to complete it."
        ),
    };
    Reason::new(TEXT_UNMAPPED_POLICY, "U2", message)
}

/// The U0 reason for roles a service asserted that the register does not grant.
pub(crate) fn role_beyond_register_reason(roles: &[crate::Role], language: Language) -> Reason {
    let names = roles
        .iter()
        .map(|r| format!("`{}`", r.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match language {
        Language::Sv => format!(
            "Registret ger inte användaren rollen {names}; det är registret som avgör vilka roller en användare har."
        ),
        Language::En => format!(
            "The register does not give the user the role {names}; the register decides which roles a user has."
        ),
    };
    Reason::new(ROLE_BEYOND_REGISTER_POLICY, "U0", message)
}

/// The U0 reason for a user the register does not list, when the engine admits only the
/// register's users: who is a user in the policy's sense is the municipality's own record.
pub(crate) fn unregistered_user_reason(language: Language) -> Reason {
    Reason::new(
        UNREGISTERED_USER_POLICY,
        "U0",
        match language {
            Language::Sv => "Användaren finns inte i registret, och här får bara registrets användare använda AI; det är registret som avgör vem som är användare.",
            Language::En => "The user is not in the register, and here only the register's users may use AI; the register decides who is a user.",
        },
    )
}

/// The reason of a request that could not be evaluated safely and so is denied (fail closed).
pub fn fail_closed_reason(language: Language) -> Reason {
    Reason::new(
        FAIL_CLOSED_POLICY,
        "§3",
        match language {
                Language::Sv => "Frågan kunde inte prövas säkert och nekas därför för att skydda informationen.",
                Language::En => "The request could not be evaluated safely, so it is denied to protect the information.",
            },
    )
}

pub(crate) fn no_permit_reason(language: Language) -> Reason {
    Reason::new(
        NO_PERMIT_POLICY,
        "U0",
        match language {
            Language::Sv => "Ingen regel i policyn tillåter den här användningen av AI.",
            Language::En => "No rule of the policy permits this use of AI.",
        },
    )
}

fn invalid_query_reason(language: Language) -> Reason {
    Reason::new(
        INVALID_QUERY_POLICY,
        "U2",
        match language {
                Language::Sv => "Frågan kunde inte läsas och nekas därför: ange användare, AI-system och information korrekt.",
                Language::En => "The query could not be read, so it is denied: state the user, the AI system and the information correctly.",
            },
    )
}
