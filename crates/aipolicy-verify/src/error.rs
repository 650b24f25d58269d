//! Why verification could not run, as opposed to a check that failed (that is in the report).

use std::fmt;

use aipolicy::error::LoadError;
use aipolicy::invariants::InvariantsError;
use miette::Diagnostic;

/// Why verification could not run (a violation is not an error: it is in the
/// [`Report`](crate::Report)).
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum VerifyError {
    /// The invariants file cannot be used.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invariants(#[from] InvariantsError),
    /// Policies or schema could not be loaded.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] LoadError),
    /// cvc5 could not be started.
    #[error("the SMT solver cvc5 could not be started (`{command}`)")]
    #[diagnostic(
        code(aipolicy::solver_missing),
        help("install it with `apt-get install cvc5`, or set the environment variable CVC5 to the path of a cvc5 executable")
    )]
    SolverMissing {
        /// What was run.
        command: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The symbolic compiler or the solver failed on a check.
    #[error("cannot check `{check}`: {message}")]
    #[diagnostic(
        code(aipolicy::solver),
        help("a type error names the policy or invariant to fix; for a solver failure, note that cedar-policy-symcc is tested with cvc5 1.3 (`cvc5 --version` shows yours)")
    )]
    Solver {
        /// The check.
        check: String,
        /// What went wrong.
        message: String,
    },
}

pub(crate) fn solver_error(check: &str, e: impl fmt::Display) -> VerifyError {
    VerifyError::Solver {
        check: check.to_string(),
        message: e.to_string(),
    }
}

/// A symbolic-compiler error with its related diagnostics (e.g. the type errors).
pub(crate) fn symcc_error(check: &str, e: cedar_policy_symcc::err::Error) -> VerifyError {
    let mut message = e.to_string();
    if let Some(related) = e.related() {
        for r in related {
            message.push_str(&format!("; {r}"));
        }
    }
    solver_error(check, message)
}
