//! "Which AI systems may I use for this instead?": the register's systems for which a query,
//! asked of each in turn, is allowed. The AuthZEN resource search and the staff page's
//! alternatives both ask it here.
//!
//! ```
//! use aipolicy::{Engine, Language, Query, Role, User, UserRef};
//!
//! let engine = Engine::bundled().unwrap();
//! # // The day these lines were written: the register's dated assessments all hold on it.
//! # let engine = engine.with_clock(aipolicy::Clock::fixed(aipolicy::clock::parse_date("2026-12-07").unwrap()));
//! // An employee with the AI training, which the high-risk language model asks (AI Act art. 26(2)).
//! let trained = UserRef::Inline(User::new("t", [Role::Employee]).with_ai_literacy(true));
//! let query = Query::new(trained, "copilot-chat", ["personuppgifter"]);
//! let allowed = engine.allowed_systems(&query, Language::Sv).unwrap();
//! let ids: Vec<&str> = allowed.iter().map(|(system, _)| system.id.as_str()).collect();
//! assert!(ids.contains(&"lokal-sprakmodell"));
//! assert!(!ids.contains(&"copilot-chat"));
//! ```

use crate::diagnostics::error::InputError;
use crate::engine::Engine;
use crate::model::decision::{Decision, Language};
use crate::model::query::Query;
use crate::model::register::{AiSystem, Register};

/// The AI systems of `register`, in register order, for which `decide` allows `query` with its
/// `ai` replaced by the system's id, each with its decision (the duties of that allow).
/// `decide` is how the caller decides (a memo, a log, a deadline); its first error ends the
/// search.
pub fn allowed_systems<'r, E>(
    register: &'r Register,
    query: &Query,
    mut decide: impl FnMut(&Query) -> Result<Decision, E>,
) -> Result<Vec<(&'r AiSystem, Decision)>, E> {
    let mut allowed = Vec::new();
    let mut asked = query.clone();
    for system in register.ai_systems() {
        asked.ai.clone_from(&system.id);
        let decision = decide(&asked)?;
        if decision.is_allowed() {
            allowed.push((system, decision));
        }
    }
    Ok(allowed)
}

impl Engine {
    /// The AI systems of the register for which `query` (its `ai` replaced by each system's
    /// id) is allowed, in register order, each with the decision and its duties, explained in
    /// `language`. `Err` when the query is not valid input (an unknown data class, say).
    pub fn allowed_systems(
        &self,
        query: &Query,
        language: Language,
    ) -> Result<Vec<(&AiSystem, Decision)>, InputError> {
        allowed_systems(self.register(), query, |q| self.decide_in(q, language))
    }
}
