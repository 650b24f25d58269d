//! What [`verify`](crate::verify) reports: each check, its outcome and, for a violation, the
//! request that shows it.

use std::time::Duration;

use aipolicy::invariants::Kind;
use aipolicy::paragraph::Paragraph;
use aipolicy::query::Action;

use crate::counterexample::Counterexample;

/// What kind of check a [`CheckResult`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// An invariant of the invariants file.
    Invariant(Kind),
    /// Generic: no policy can error at evaluation.
    NeverErrors,
    /// Generic: an action is decided by the request (or is intended not to be).
    ActionNotTrivial,
    /// Generic: the engine's per-action slices of the policies decide as the whole set.
    SlicesArePolicy,
}

/// The outcome of one check.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Holds for every request.
    Proved,
    /// Does not hold.
    Violated(Box<Violation>),
}

/// Why a check failed, with a request that shows it where one exists.
#[derive(Debug, Clone)]
pub struct Violation {
    /// What is wrong, in English.
    pub message: String,
    /// The counterexample in aipolicy's terms: a register and a query.
    pub counterexample: Option<Counterexample>,
    /// The solver's request and entities in Cedar's JSON, when they could not be put in
    /// aipolicy's terms (with the reason).
    pub raw: Option<String>,
}

impl Violation {
    /// A violation no single request shows: the check is about the policies themselves, or
    /// about every request of an action at once.
    pub(crate) fn without_request(message: String) -> Violation {
        Violation {
            message,
            counterexample: None,
            raw: None,
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The invariant's id, or the generic check's name.
    pub id: String,
    /// The paragraph it protects, for invariants.
    pub paragraph: Option<Paragraph>,
    /// What kind of check.
    pub kind: CheckKind,
    /// The statement in Swedish.
    pub sv: String,
    /// The statement in English.
    pub en: String,
    /// Proved or violated.
    pub outcome: Outcome,
    /// Time taken (compilation and solving).
    pub elapsed: Duration,
}

impl CheckResult {
    /// Whether the check was proved.
    pub fn is_proved(&self) -> bool {
        matches!(self.outcome, Outcome::Proved)
    }

    /// The violation, if any.
    pub fn violation(&self) -> Option<&Violation> {
        match &self.outcome {
            Outcome::Proved => None,
            Outcome::Violated(v) => Some(v),
        }
    }
}

/// Everything [`verify`](crate::verify) found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The solver's version, e.g. `cvc5 version 1.0.3`.
    pub solver: String,
    /// The actions (request environments of the schema) checked.
    pub actions: Vec<Action>,
    /// Invariant checks, in file order.
    pub invariants: Vec<CheckResult>,
    /// Generic checks (empty unless [`Options::generic`](crate::Options::generic)).
    pub generic: Vec<CheckResult>,
    /// Total time.
    pub elapsed: Duration,
}

impl Report {
    /// Whether every check was proved.
    pub fn all_proved(&self) -> bool {
        self.checks().all(CheckResult::is_proved)
    }

    /// Every check: invariants first, then the generic ones.
    pub fn checks(&self) -> impl Iterator<Item = &CheckResult> {
        self.invariants.iter().chain(&self.generic)
    }

    /// The result for the invariant or check with this id.
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks().find(|c| c.id == id)
    }
}
