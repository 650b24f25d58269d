//! Running the checks: the request environments of the schema, cvc5 with a time limit per
//! check, and each check's queries to the symbolic compiler.

use std::str::FromStr;
use std::time::Instant;

use aipolicy::error::LoadError;
use aipolicy::invariants::{
    assumptions_condition, invariant_policy, IntendedActions, Invariant, Invariants, Kind,
};
use aipolicy::paragraph::Paragraph;
use aipolicy::policies::Policies;
use aipolicy::query::Action;
use aipolicy::register::{DataClass, PersonalData, Register};
use aipolicy::{Engine, Verdict};
use cedar_policy::{Policy, PolicyId, PolicySet, RequestEnv, Schema};
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicy, CompiledPolicySet, Env};

use crate::counterexample::{raw_env, Counterexample};
use crate::error::{solver_error, symcc_error, VerifyError};
use crate::report::{CheckKind, CheckResult, Outcome, Report, Violation};
use crate::simplify::simplify;

/// How [`verify`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Also run the generic checks: no policy can error, no action is trivially decided.
    pub generic: bool,
    /// Replay every counterexample through the [`Engine`].
    pub replay: bool,
    /// Simplify every counterexample before it is replayed (fewer flags, fewer roles, lower
    /// levels, defaults), keeping only changes after which the engine still decides the same
    /// and the invariant's condition still holds.
    pub simplify: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            generic: true,
            replay: true,
            simplify: true,
        }
    }
}

/// Proves every invariant (and, with [`Options::generic`], the generic checks) for every
/// request environment of `schema`.
///
/// `Err` only when verification could not run: an invalid invariant condition, a policy set
/// the symbolic compiler rejects, or a missing or failing solver. Violations are in the
/// [`Report`].
pub fn verify(
    policies: &Policies,
    schema: &Schema,
    invariants: &Invariants,
    options: &Options,
) -> Result<Report, VerifyError> {
    let problems = policies.validate(schema);
    if !problems.is_empty() {
        return Err(LoadError::Policies(problems).into());
    }
    invariants.check(schema)?;
    let solver = solver_version()?;
    block_on(run(policies, schema, invariants, options, solver))?
}

/// Runs `checks` to the end on a runtime of one thread: the symbolic compiler's API is async,
/// the solver one process.
pub(crate) fn block_on<T>(checks: impl std::future::Future<Output = T>) -> Result<T, VerifyError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| solver_error("start", format!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(checks))
}

/// The symbolic compiler on a cvc5 session with a time limit per check (not the default's one
/// limit for the whole session: a run of many checks on a busy machine must not be cut off
/// midway).
pub(crate) fn start_compiler() -> Result<CedarSymCompiler<LocalSolver>, VerifyError> {
    let cvc5 = LocalSolver::cvc5_with_args([SOLVER_TIME_LIMIT]).map_err(|e| match e {
        cedar_policy_symcc::solver::SolverError::Io(source) => VerifyError::SolverMissing {
            command: solver_command(),
            source,
        },
        other => solver_error("start", other),
    })?;
    CedarSymCompiler::new(cvc5).map_err(|e| solver_error("start", e))
}

/// The schema's request environments, one per action, in the order of [`Action::ALL`].
pub(crate) fn request_envs(schema: &Schema) -> Result<Vec<(Action, RequestEnv)>, VerifyError> {
    let mut envs = Vec::new();
    for env in schema.request_envs() {
        let name = env.action().id().unescaped().to_string();
        let action = Action::from_str(&name).map_err(|_| {
            VerifyError::Load(LoadError::Internal(format!(
                "the Cedar schema has action `{name}`, which aipolicy does not know"
            )))
        })?;
        envs.push((action, env));
    }
    envs.sort_by_key(|(action, _)| Action::ALL.iter().position(|a| a == action));
    Ok(envs)
}

/// The cvc5 to run: the `CVC5` environment variable lets a machine without cvc5 on `PATH` name
/// one.
fn solver_command() -> String {
    std::env::var("CVC5").unwrap_or_else(|_| "cvc5".into())
}

/// The first line of `cvc5 --version`, or [`VerifyError::SolverMissing`].
pub fn solver_version() -> Result<String, VerifyError> {
    let command = solver_command();
    let output = std::process::Command::new(&command)
        .arg("--version")
        .output()
        .map_err(|source| VerifyError::SolverMissing {
            command: command.clone(),
            source,
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or("cvc5").trim();
    Ok(first.trim_start_matches("This is ").to_string())
}

/// cvc5's time limit for one check (ms). Each check of the bundled policies takes about a
/// second; a check that takes a minute is answered as an error, never as proved.
const SOLVER_TIME_LIMIT: &str = "--tlimit-per=60000";

/// One run of the checks: one solver session serves them all, and every check goes through the
/// schema's request environments, one per action.
struct Run<'a> {
    compiler: CedarSymCompiler<LocalSolver>,
    policies: &'a Policies,
    schema: &'a Schema,
    options: &'a Options,
    envs: Vec<(Action, RequestEnv)>,
}

async fn run(
    policies: &Policies,
    schema: &Schema,
    invariants: &Invariants,
    options: &Options,
    solver: String,
) -> Result<Report, VerifyError> {
    let started = Instant::now();
    let compiler = start_compiler()?;
    let envs = request_envs(schema)?;
    let mut run = Run {
        compiler,
        policies,
        schema,
        options,
        envs,
    };
    let assumptions = assumptions_condition();
    let mut results = Vec::new();
    for invariant in &invariants.invariants {
        results.push(run.invariant(invariant, &assumptions).await?);
    }
    let mut generic = Vec::new();
    if options.generic {
        generic.push(run.never_errors().await?);
        generic.push(run.slices_are_the_policy().await?);
        for i in 0..run.envs.len() {
            generic.push(
                run.action_not_trivial(i, &invariants.actions, &assumptions)
                    .await?,
            );
        }
    }
    Ok(Report {
        solver,
        actions: run.envs.iter().map(|(a, _)| *a).collect(),
        invariants: results,
        generic,
        elapsed: started.elapsed(),
    })
}

/// An engine of these policies and schema, for its slices: they depend on the policies and the
/// schema's actions only, so a register of one data class serves.
fn slicing_engine(policies: &Policies, schema: &Schema) -> Result<Engine, VerifyError> {
    let register = Register::new(
        None,
        vec![DataClass {
            id: "slices".into(),
            name: "slices".into(),
            level: 0,
            personal_data: PersonalData::None,
            secrecy: false,
            units: None,
            finds: Vec::new(),
            patterns: Vec::new(),
            words: Vec::new(),
            description: None,
        }],
        Vec::new(),
        Vec::new(),
    )?;
    Ok(Engine::new(policies.clone(), schema.clone(), register)?)
}

impl Run<'_> {
    fn compile(
        &self,
        check: &str,
        set: &PolicySet,
        env: &RequestEnv,
    ) -> Result<CompiledPolicySet, VerifyError> {
        CompiledPolicySet::compile(set, env, self.schema).map_err(|e| symcc_error(check, e))
    }

    fn with_policy(&self, check: &str, policy: Policy) -> Result<PolicySet, VerifyError> {
        let mut set = self.policies.set().clone();
        set.add(policy).map_err(|e| solver_error(check, e))?;
        Ok(set)
    }

    /// A counterexample read back, simplified and replayed, or the raw request when it cannot
    /// be read back. `condition` is the invariant's condition (`None`: do not simplify).
    fn violation(
        &self,
        message: String,
        env: &Env,
        action: Action,
        decision: Verdict,
        condition: Option<&str>,
    ) -> Violation {
        match Counterexample::from_env(env, action, decision) {
            Ok(mut cex) => {
                if self.options.simplify {
                    if let Some(condition) = condition {
                        cex = simplify(cex, condition, self.policies, self.schema);
                    }
                }
                if self.options.replay {
                    cex.replayed = Some(cex.replay(self.policies, self.schema));
                }
                Violation {
                    message,
                    counterexample: Some(cex),
                    raw: None,
                }
            }
            Err(why) => Violation {
                message,
                counterexample: None,
                raw: Some(format!(
                    "cannot be read as a register and query ({why}); {}\n{}",
                    if condition.is_some() {
                        "a well-formedness assumption may be missing"
                    } else {
                        "this check covers every request the Cedar schema allows, not only those the engine builds"
                    },
                    raw_env(env)
                )),
            },
        }
    }

    async fn invariant(
        &mut self,
        invariant: &Invariant,
        assumptions: &str,
    ) -> Result<CheckResult, VerifyError> {
        let started = Instant::now();
        let check = invariant.id.as_str();
        let policy =
            invariant_policy(invariant, assumptions).map_err(|e| solver_error(check, e))?;
        let mut outcome = Outcome::Proved;
        // `never`: policies + forbid-unless-(A && C) must deny everything.
        // `always`: permit-when-(A && C) must imply the policies.
        let (combined, alone) = match invariant.kind {
            Kind::Never => (self.with_policy(check, policy)?, None),
            Kind::Always => {
                let mut alone = PolicySet::new();
                alone.add(policy).map_err(|e| solver_error(check, e))?;
                (self.policies.set().clone(), Some(alone))
            }
        };
        for &(action, ref env) in &self.envs {
            let counterexample = match &alone {
                None => {
                    let compiled = self.compile(check, &combined, env)?;
                    self.compiler
                        .check_always_denies_with_counterexample_opt(&compiled)
                        .await
                }
                Some(alone) => {
                    let lhs = self.compile(check, alone, env)?;
                    let rhs = self.compile(check, &combined, env)?;
                    self.compiler
                        .check_implies_with_counterexample_opt(&lhs, &rhs)
                        .await
                }
            }
            .map_err(|e| solver_error(check, e))?;
            if let Some(found) = counterexample {
                let (message, decision) = match invariant.kind {
                    Kind::Never => (
                        format!("a request for `{action}` meeting the condition is allowed"),
                        Verdict::Allow,
                    ),
                    Kind::Always => (
                        format!("a request for `{action}` meeting the condition is denied"),
                        Verdict::Deny,
                    ),
                };
                outcome = Outcome::Violated(Box::new(self.violation(
                    message,
                    &found,
                    action,
                    decision,
                    Some(&invariant.when),
                )));
                break;
            }
        }
        Ok(CheckResult {
            id: invariant.id.clone(),
            paragraph: Paragraph::from_str(&invariant.paragraph).ok(),
            kind: CheckKind::Invariant(invariant.kind),
            sv: invariant.sv.clone(),
            en: invariant.en.clone(),
            outcome,
            elapsed: started.elapsed(),
        })
    }

    async fn never_errors(&mut self) -> Result<CheckResult, VerifyError> {
        let started = Instant::now();
        let check = "never-errors";
        let mut outcome = Outcome::Proved;
        let policies: Vec<Policy> = self.policies.set().policies().cloned().collect();
        'outer: for policy in &policies {
            for &(action, ref env) in &self.envs {
                let compiled = CompiledPolicy::compile(policy, env, self.schema)
                    .map_err(|e| solver_error(check, e))?;
                let found = self
                    .compiler
                    .check_never_errors_with_counterexample_opt(&compiled)
                    .await
                    .map_err(|e| solver_error(check, e))?;
                if let Some(found) = found {
                    let message = format!(
                        "policy `{}` errors at evaluation for a request for `{action}` (the engine then denies and reports the error)",
                        policy.id()
                    );
                    outcome = Outcome::Violated(Box::new(self.violation(
                        message,
                        &found,
                        action,
                        Verdict::Deny,
                        None,
                    )));
                    break 'outer;
                }
            }
        }
        Ok(CheckResult {
            id: check.into(),
            paragraph: None,
            kind: CheckKind::NeverErrors,
            sv: "Ingen policy kan ge fel vid utvärdering, för någon begäran.".into(),
            en: "No policy can error at evaluation, for any request.".into(),
            outcome,
            elapsed: started.elapsed(),
        })
    }

    /// The engine gives Cedar, per action, only the policies whose action scope admits it,
    /// with that scope lifted (see [`Engine::policies_for`]). Proved here for every request of
    /// each action: a policy of the slice matches exactly when the original does, and a policy
    /// left out never matches. So the decision, its reasons and its duties are the same.
    async fn slices_are_the_policy(&mut self) -> Result<CheckResult, VerifyError> {
        let started = Instant::now();
        let check = "slices";
        let engine = slicing_engine(self.policies, self.schema)?;
        let mut outcome = Outcome::Proved;
        let originals: Vec<Policy> = self
            .policies
            .set()
            .policies()
            .chain(self.policies.duties().policies())
            .cloned()
            .collect();
        'outer: for &(action, ref env) in &self.envs {
            let slice = engine.policies_for(action);
            let duties = engine.duties_for(action);
            let whole_action = engine.whole_action_duties(action);
            for original in &originals {
                let sliced = slice
                    .policy(original.id())
                    .or_else(|| duties.and_then(|d| d.policy(original.id())));
                let compiled_original = CompiledPolicy::compile(original, env, self.schema)
                    .map_err(|e| symcc_error(check, e))?;
                let (answer, message) = match sliced {
                    None if whole_action.contains(&original.id().as_ref()) => (
                        self.compiler
                            .check_always_matches_opt(&compiled_original)
                            .await,
                        format!(
                            "duty `{}` is added to every allow of `{action}`, but it does not apply to every request",
                            original.id()
                        ),
                    ),
                    Some(sliced) => {
                        let compiled_sliced = CompiledPolicy::compile(sliced, env, self.schema)
                            .map_err(|e| symcc_error(check, e))?;
                        (
                            self.compiler
                                .check_matches_equivalent_opt(&compiled_original, &compiled_sliced)
                                .await,
                            format!(
                                "policy `{}` as the engine gives it to Cedar for `{action}` does not match the same requests as the policy itself",
                                original.id()
                            ),
                        )
                    }
                    None => (
                        self.compiler
                            .check_never_matches_opt(&compiled_original)
                            .await,
                        format!(
                            "policy `{}` can apply to `{action}`, but the engine leaves it out of that action's policies",
                            original.id()
                        ),
                    ),
                };
                let holds = answer.map_err(|e| solver_error(check, e))?;
                let problem = (!holds).then_some(message);
                if let Some(message) = problem {
                    outcome = Outcome::Violated(Box::new(Violation::without_request(message)));
                    break 'outer;
                }
            }
        }
        Ok(CheckResult {
            id: check.into(),
            paragraph: None,
            kind: CheckKind::SlicesArePolicy,
            sv: "Motorns urval av policyer per handling beslutar som hela policyuppsättningen, för varje begäran.".into(),
            en: "The engine's policies per action decide as the whole policy set, for every request.".into(),
            outcome,
            elapsed: started.elapsed(),
        })
    }

    async fn action_not_trivial(
        &mut self,
        index: usize,
        intended: &IntendedActions,
        assumptions: &str,
    ) -> Result<CheckResult, VerifyError> {
        let started = Instant::now();
        let Some((action, env)) = self.envs.get(index).cloned() else {
            return Err(solver_error("actions", "no such request environment"));
        };
        let check = format!("action-{action}");
        let parse = |text: String| {
            Policy::parse(Some(PolicyId::new(format!("assumptions:{action}"))), text)
                .map_err(|e| solver_error(&check, e))
        };
        // Allowed for every request ⇔ `permit when { A }` implies the policies.
        let mut permit_a = PolicySet::new();
        permit_a
            .add(parse(format!(
                "permit (principal, action, resource) when {{ {assumptions} }};"
            ))?)
            .map_err(|e| solver_error(&check, e))?;
        let lhs = self.compile(&check, &permit_a, &env)?;
        let rhs = self.compile(&check, self.policies.set(), &env)?;
        let denied = self
            .compiler
            .check_implies_with_counterexample_opt(&lhs, &rhs)
            .await
            .map_err(|e| solver_error(&check, e))?;
        // Denied for every request ⇔ the policies plus `forbid unless { A }` deny everything.
        let forbid_a = self.with_policy(
            &check,
            parse(format!(
                "forbid (principal, action, resource) unless {{ {assumptions} }};"
            ))?,
        )?;
        let compiled = self.compile(&check, &forbid_a, &env)?;
        let allowed = self
            .compiler
            .check_always_denies_with_counterexample_opt(&compiled)
            .await
            .map_err(|e| solver_error(&check, e))?;
        let want_allow = intended.always_allowed.contains(&action);
        let want_deny = intended.always_denied.contains(&action);
        let (sv, en) = if want_allow {
            (
                format!("`{action}` är alltid tillåten (avsett)."),
                format!("`{action}` is allowed for every request (intended)."),
            )
        } else if want_deny {
            (
                format!("`{action}` är alltid nekad (avsett)."),
                format!("`{action}` is denied for every request (intended)."),
            )
        } else {
            (
                format!("`{action}` är varken alltid tillåten eller alltid nekad."),
                format!(
                    "`{action}` is neither allowed for every request nor denied for every request."
                ),
            )
        };
        let violation = match (want_allow, want_deny, &denied, &allowed) {
            (true, _, Some(found), _) => Some(self.violation(
                format!("`{action}` is meant to be always allowed, but this request is denied"),
                found,
                action,
                Verdict::Deny,
                Some("true"),
            )),
            (_, true, _, Some(found)) => Some(self.violation(
                format!("`{action}` is meant to be always denied, but this request is allowed"),
                found,
                action,
                Verdict::Allow,
                Some("true"),
            )),
            (false, false, None, _) => Some(Violation::without_request(format!(
                "every request for `{action}` is allowed: no forbid can apply (list it under actions.alwaysAllowed if intended)"
            ))),
            (false, false, _, None) => Some(Violation::without_request(format!(
                "no request for `{action}` is ever allowed: its permit is missing or can never apply (list it under actions.alwaysDenied if intended)"
            ))),
            _ => None,
        };
        Ok(CheckResult {
            id: check,
            paragraph: None,
            kind: CheckKind::ActionNotTrivial,
            sv,
            en,
            outcome: match violation {
                None => Outcome::Proved,
                Some(v) => Outcome::Violated(Box::new(v)),
            },
            elapsed: started.elapsed(),
        })
    }
}
