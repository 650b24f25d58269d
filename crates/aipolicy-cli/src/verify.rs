//! `aipolicy verify`: prove the invariants of the policy with Cedar's symbolic compiler.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{report, Exit, LangArg, PolicyArgs};
use aipolicy::decision::Language;
use aipolicy::inputs::Inputs;
use aipolicy::invariants::{Invariants, ASSUMPTIONS};
use aipolicy::policies::{self, Policies};
use aipolicy::project::Sources;
use aipolicy_verify::{self as verify, CheckResult, Options, Outcome, Report, VerifyError};

/// Arguments of `aipolicy verify`.
#[derive(Debug, Clone, Args)]
#[command(after_help = after_help())]
pub struct VerifyArgs {
    /// Policies and schema
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Invariants YAML [default: invariants.yaml beside the policies, else the embedded invariants]
    #[arg(long, value_name = "FILE")]
    pub invariants: Option<PathBuf>,
    /// Skip the generic checks (no policy errors, no action trivially decided)
    #[arg(long)]
    pub no_generic: bool,
    /// Language of the statements
    #[arg(long, value_enum, default_value_t = LangArg::Sv)]
    pub lang: LangArg,
}

/// The help's closing text, with the well-formedness assumptions listed.
fn after_help() -> String {
    let assumptions: Vec<String> = ASSUMPTIONS
        .iter()
        .map(|a| format!("  - {}: {}", a.id, a.en))
        .collect();
    format!(
        "Every invariant is proved for every request the Cedar schema allows and that
aipolicy can build from a valid register and query (the well-formedness assumptions below).
A violation is shown with a counterexample: register entries and a scenario case, ready to
paste, which the engine has replayed to confirm the decision.

Well-formedness assumptions:
{}

Needs the SMT solver cvc5 (`apt-get install cvc5`, or set CVC5 to its path).

Exit codes: 0 every invariant proved, 1 a violation, 2 invalid input or no solver, 3 the report
could not be written.

Examples:
  aipolicy verify
  aipolicy verify --lang en
  aipolicy verify --policies my-policies/      # with my-policies/invariants.yaml when it exists
  CVC5=/opt/cvc5/bin/cvc5 aipolicy verify --no-generic",
        assumptions.join("\n")
    )
}

/// Runs `aipolicy verify`: exit 0 all proved, 1 a violation, 2 input error or missing solver.
pub fn run(args: &VerifyArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let inputs = match args.policy.resolve(None, args.invariants.clone(), err) {
        Ok(inputs) => inputs,
        Err(exit) => return exit,
    };
    let loaded = load(&inputs);
    let (policies, schema, invariants) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            report(err, e);
            return Exit::InputError;
        }
    };
    let options = Options {
        generic: !args.no_generic,
        replay: true,
        simplify: true,
    };
    let result = match verify::verify(&policies, &schema, &invariants, &options) {
        Ok(result) => result,
        Err(e) => {
            report(err, e);
            return Exit::InputError;
        }
    };
    let policies_from = inputs
        .policies
        .path()
        .map_or("the embedded policies".to_string(), |d| {
            d.display().to_string()
        });
    let written = write_report(
        out,
        &result,
        &policies_from,
        invariants.file(),
        args.lang.into(),
    );
    if let Some(exit) = super::write_failure(written, "the report", err) {
        return exit;
    }
    if result.all_proved() {
        Exit::Success
    } else {
        Exit::Failure
    }
}

fn load(inputs: &Inputs) -> Result<(Policies, cedar_policy::Schema, Invariants), VerifyError> {
    // Read as every load reads them (the register, which the proofs do not use, included).
    let sources = Sources::read(inputs);
    let policies = Policies::from_files(sources.policies.content?)?;
    let schema = policies::load_schema(&sources.schema.content?, &sources.schema.name)?;
    let invariants = match inputs.invariants.path() {
        Some(file) => Invariants::from_file(file)?,
        None => Invariants::bundled()?,
    };
    Ok((policies, schema, invariants))
}

fn millis(d: Duration) -> String {
    if d.as_millis() >= 1000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Writes the report for a person: one line per check, and each violation's counterexample.
pub fn write_report(
    out: &mut dyn Write,
    report: &Report,
    policies_from: &str,
    invariants_from: &str,
    language: Language,
) -> std::io::Result<()> {
    let actions: Vec<String> = report.actions.iter().map(ToString::to_string).collect();
    writeln!(
        out,
        "Verifying {policies_from} against {invariants_from} with {}",
        report.solver
    )?;
    writeln!(
        out,
        "for every request of the actions {} under {} well-formedness assumptions (`aipolicy verify --help` lists them).",
        actions.join(", "),
        ASSUMPTIONS.len()
    )?;
    writeln!(out)?;
    writeln!(out, "Invariants:")?;
    for check in &report.invariants {
        write_check(out, check, language)?;
    }
    if !report.generic.is_empty() {
        writeln!(out)?;
        writeln!(out, "Generic checks:")?;
        for check in &report.generic {
            write_check(out, check, language)?;
        }
    }
    let proved = report.checks().filter(|c| c.is_proved()).count();
    let violated = report.checks().count() - proved;
    writeln!(out)?;
    writeln!(
        out,
        "{proved} proved, {violated} violated in {}",
        millis(report.elapsed)
    )?;
    Ok(())
}

fn write_check(
    out: &mut dyn Write,
    check: &CheckResult,
    language: Language,
) -> std::io::Result<()> {
    let status = if check.is_proved() {
        "proved  "
    } else {
        "VIOLATED"
    };
    let paragraph = check
        .paragraph
        .map_or(String::new(), |p| format!("{} ", p.code()));
    let statement = match language {
        Language::Sv => &check.sv,
        Language::En => &check.en,
    };
    writeln!(
        out,
        "  {status} {}  ({})\n           {paragraph}{statement}",
        check.id,
        millis(check.elapsed)
    )?;
    let Outcome::Violated(violation) = &check.outcome else {
        return Ok(());
    };
    writeln!(out, "           {}", violation.message)?;
    if let Some(cex) = &violation.counterexample {
        let replay = match &cex.replayed {
            Some(Ok(verdict)) if *verdict == cex.decision => {
                format!("the engine confirms: {}", verdict_name(*verdict))
            }
            Some(Ok(verdict)) => format!(
                "the engine decides {} instead: the well-formedness assumptions may be incomplete",
                verdict_name(*verdict)
            ),
            Some(Err(e)) => format!("the engine cannot replay it: {e}"),
            None => "not replayed".to_string(),
        };
        writeln!(
            out,
            "           counterexample: Cedar decides {}; {replay}",
            verdict_name(cex.decision)
        )?;
        if let Ok(json) = cex.query_json() {
            writeln!(out, "           query: {json}")?;
        }
        if cex.ai_system.is_none() {
            writeln!(
                out,
                "           (`{}` is not in the register: the engine treats it as public AI)",
                cex.query.ai
            )?;
        }
        match cex.to_yaml(&format!("counterexample to {}", check.id)) {
            Ok(yaml) => {
                for line in yaml.lines() {
                    writeln!(out, "             {line}")?;
                }
            }
            Err(e) => writeln!(out, "             <cannot render: {e}>")?,
        }
    }
    if let Some(raw) = &violation.raw {
        for line in raw.lines() {
            writeln!(out, "             {line}")?;
        }
    }
    Ok(())
}

fn verdict_name(verdict: aipolicy::decision::Verdict) -> &'static str {
    match verdict {
        aipolicy::decision::Verdict::Allow => "allow",
        aipolicy::decision::Verdict::Deny => "deny",
    }
}
