//! Two policy sets compared for every request: `aipolicy diff`'s proof. For each action, two
//! implications under the well-formedness assumptions `A` (as [`verify`](crate::verify) proves
//! its invariants under them): does the new set allow a request the old denies, and the other
//! way round. Both proved, the sets decide alike for every request and every register
//! (equivalent); the first proved alone, the change only takes away. Each request the solver
//! finds is read back into a register and a query, simplified while the two sets still decide
//! it differently, and replayed through both engines.
//!
//! ```no_run
//! use aipolicy_verify::compare;
//! let policies = aipolicy::Policies::bundled()?;
//! let schema = aipolicy::policies::bundled_schema()?;
//! let proof = compare(&policies, &policies, &schema, false)?;
//! assert!(proof.equivalent());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Instant;

use aipolicy::diff::{ActionProof, Finding, Proof, Witness};
use aipolicy::invariants::assumptions_condition;
use aipolicy::policies::Policies;
use aipolicy::query::Action;
use aipolicy::Verdict;
use cedar_policy::{Policy, PolicyId, PolicySet, RequestEnv, Schema};
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicySet, Env};

use crate::counterexample::Counterexample;
use crate::error::{solver_error, VerifyError};
use crate::run::{block_on, request_envs, solver_version, start_compiler};
use crate::simplify::{simplify_while, still_breaks};

/// Proves, for each action of `schema`, whether `new` allows any request `old` denies and the
/// other way round. `schema` is the new revision's; when the old revision's differs
/// (`schemas_differ`, which the proof says), both sets are compared under the new one, and
/// an old set that does not type-check against it leaves every action unproved, never proved.
///
/// `Err` only when the solver cannot be started or the runtime fails; a check the solver or
/// the compiler cannot answer is a [`Finding::Unknown`].
pub fn compare(
    old: &Policies,
    new: &Policies,
    schema: &Schema,
    schemas_differ: bool,
) -> Result<Proof, VerifyError> {
    let solver = solver_version()?;
    block_on(run(old, new, schema, schemas_differ, solver))?
}

async fn run(
    old: &Policies,
    new: &Policies,
    schema: &Schema,
    schemas_differ: bool,
    solver: String,
) -> Result<Proof, VerifyError> {
    let started = Instant::now();
    let mut compiler = start_compiler()?;
    let envs = request_envs(schema)?;
    // Outside the assumptions both sets deny: the solver ranges over the requests the engine
    // can build, so every difference it finds is a real register and query.
    let unless_a = Policy::parse(
        Some(PolicyId::new("aipolicy-diff:assumptions")),
        format!(
            "forbid (principal, action, resource) unless {{ {} }};",
            assumptions_condition()
        ),
    )
    .map_err(|e| solver_error("assumptions", e))?;
    let guarded = |policies: &Policies| -> Result<PolicySet, String> {
        let problems = policies.validate(schema);
        if let Some(first) = problems.first() {
            return Err(format!(
                "the policies do not type-check against the schema compared under: {first}"
            ));
        }
        let mut set = policies.set().clone();
        set.add(unless_a.clone()).map_err(|e| e.to_string())?;
        Ok(set)
    };
    let (old_set, new_set) = (guarded(old), guarded(new));
    let mut actions = Vec::new();
    for (action, env) in &envs {
        let (old_set, new_set) = match (&old_set, &new_set) {
            (Ok(o), Ok(n)) => (o, n),
            (Err(why), _) | (_, Err(why)) => {
                let unknown = Finding::Unknown {
                    reason: why.clone(),
                };
                actions.push(ActionProof {
                    action: *action,
                    new_allows_more: unknown.clone(),
                    old_allows_more: unknown,
                });
                continue;
            }
        };
        let new_allows_more = implies(
            &mut compiler,
            (new_set, old_set),
            (env, schema),
            *action,
            (new, old),
            true,
        )
        .await;
        let old_allows_more = implies(
            &mut compiler,
            (old_set, new_set),
            (env, schema),
            *action,
            (old, new),
            false,
        )
        .await;
        actions.push(ActionProof {
            action: *action,
            new_allows_more,
            old_allows_more,
        });
    }
    Ok(Proof {
        solver,
        actions,
        schemas_differ,
        millis: started.elapsed().as_millis(),
    })
}

/// Whether every request `allows` allows is allowed by `denies` too; else a request where
/// `more` (the policies of `allows`) allows and `less` denies, simplified and replayed
/// through both.
async fn implies(
    compiler: &mut CedarSymCompiler<LocalSolver>,
    (allows, denies): (&PolicySet, &PolicySet),
    (env, schema): (&RequestEnv, &Schema),
    action: Action,
    (more, less): (&Policies, &Policies),
    more_is_new: bool,
) -> Finding {
    let check = format!("diff-{action}");
    let compile = |set: &PolicySet| {
        CompiledPolicySet::compile(set, env, schema).map_err(|e| {
            let mut message = e.to_string();
            if let Some(related) = miette::Diagnostic::related(&e) {
                for r in related {
                    message.push_str(&format!("; {r}"));
                }
            }
            message
        })
    };
    let (lhs, rhs) = match (compile(allows), compile(denies)) {
        (Ok(lhs), Ok(rhs)) => (lhs, rhs),
        (Err(why), _) | (_, Err(why)) => {
            return Finding::Unknown {
                reason: format!("cannot compile `{check}`: {why}"),
            }
        }
    };
    match compiler
        .check_implies_with_counterexample_opt(&lhs, &rhs)
        .await
    {
        Ok(None) => Finding::Proved,
        Ok(Some(found)) => {
            Finding::Counterexample(witness(&found, action, (more, less), more_is_new, schema))
        }
        Err(e) => Finding::Unknown {
            reason: solver_error(&check, e).to_string(),
        },
    }
}

/// The request the solver found, as a query and register entries: simplified while `more`
/// still allows it and `less` still denies it, then replayed through both (`more_is_new`:
/// which of them is the new revision's).
fn witness(
    env: &Env,
    action: Action,
    (more, less): (&Policies, &Policies),
    more_is_new: bool,
    schema: &Schema,
) -> Witness {
    let replayed = |c: &Counterexample, policies: &Policies| match c.replay(policies, schema) {
        Ok(Verdict::Allow) => "allow".to_string(),
        Ok(Verdict::Deny) => "deny".to_string(),
        Err(e) => format!("cannot be replayed: {e}"),
    };
    match Counterexample::from_env(env, action, Verdict::Allow) {
        Ok(cex) => {
            let cex = match still_breaks("true", more, schema) {
                Some(allowed) => simplify_while(cex, |c| {
                    allowed(c) && c.replay(less, schema) == Ok(Verdict::Deny)
                }),
                None => cex,
            };
            let (by_more, by_less) = (replayed(&cex, more), replayed(&cex, less));
            let (old, new) = if more_is_new {
                (by_less, by_more)
            } else {
                (by_more, by_less)
            };
            Witness {
                query: cex.query_json().unwrap_or_else(|e| format!("<{e}>")),
                register: cex
                    .to_yaml("decided differently")
                    .unwrap_or_else(|e| format!("<{e}>")),
                old,
                new,
            }
        }
        Err(why) => Witness {
            query: format!("<cannot be read as a query: {why}>"),
            register: crate::counterexample::raw_env(env),
            old: "?".into(),
            new: "?".into(),
        },
    }
}
