//! Proved invariants: `aipolicy verify` with Cedar's symbolic compiler (cedar-policy-symcc and
//! the SMT solver cvc5), kept out of the core `aipolicy` library so that a service embedding the
//! engine does not build a solver interface it does not use.
//!
//! Tests show what the policy decides for the cases someone thought of; this module proves what
//! it decides for **every** request. Each [`Invariant`](aipolicy::invariants::Invariant) of `policies/invariants.yaml` is a Cedar
//! condition `C` with a kind:
//!
//! * `never`: no request meeting `C` is ever allowed. Proved as "the policy set plus
//!   `forbid (principal, action, resource) unless { A && C };` denies every request";
//! * `always`: every request meeting `C` is allowed. Proved as "`permit (principal,
//!   action, resource) when { A && C };` implies the policy set".
//!
//! `A` is the conjunction of the [`ASSUMPTIONS`](aipolicy::invariants::ASSUMPTIONS): what every request built by the
//! [`Engine`](aipolicy::Engine) from a valid register and query satisfies (levels 0–4, hosting
//! `public` or `internal`, user groups among the three roles, …). The solver ranges over every
//! value the Cedar schema permits, which is wider than that; with the assumptions every
//! counterexample is a real register and query, and [`verify`] replays each one through the
//! engine to confirm it.
//!
//! The solver is cvc5 (`apt-get install cvc5`), found on `PATH` or through the `CVC5`
//! environment variable.
//!
//! ```no_run
//! use aipolicy::invariants::Invariants;
//! use aipolicy_verify as verify;
//! let policies = aipolicy::Policies::bundled()?;
//! let schema = aipolicy::policies::bundled_schema()?;
//! let invariants = Invariants::bundled()?;
//! let report = verify::verify(&policies, &schema, &invariants, &verify::Options::default())?;
//! assert!(report.all_proved());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compare;
mod counterexample;
mod error;
mod report;
mod run;
mod simplify;

pub use compare::compare;
pub use counterexample::{
    Counterexample, COUNTEREXAMPLE_AI, COUNTEREXAMPLE_DATA, COUNTEREXAMPLE_USER,
};
pub use error::VerifyError;
pub use report::{CheckKind, CheckResult, Outcome, Report, Violation};
pub use run::{solver_version, verify, Options};
