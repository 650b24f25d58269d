//! `aipolicy trace`: the traceability matrix from the policy document to policies and cases.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{report, EngineArgs, Exit};
use aipolicy::engine::Engine;
use aipolicy::scenario::{self, ScenarioError};
use aipolicy::trace::Trace;

/// Arguments of `aipolicy trace`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "In the language of --lang (Swedish by default). For each paragraph of the policy document
(§1–§6, U0–U5): its title as the document has it, the
policies that implement it (id, file:line) and the scenario cases that exercise them. Bakgrund,
Syfte, Mål and Styrdokument are listed as context without rules. Then the law behind the
policy (Styrdokument; §6 \"AI ska följa relevanta lagar\"): each act and article named by a rule's
@law, with its rules, the paragraph each makes concrete, and the cases that exercise them.

Examples:
  aipolicy trace                                 # Markdown, cases from tests/scenarios
  aipolicy trace --format json | jq '.paragraphs[] | {code, cases: (.cases | length)}'
  aipolicy trace --policies policies --scenarios my/scenarios"
)]
pub struct TraceArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = TraceFormat::Md)]
    pub format: TraceFormat,
    /// Scenario files or folders whose cases count as exercising policies
    /// (a missing folder means no cases) [default: the project's tests/scenarios]
    #[arg(long, value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Where policies, schema and register come from
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `--format` values of `trace`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// Markdown: an overview table, then every paragraph in detail.
    #[default]
    Md,
    /// JSON, for tools.
    Json,
}

/// Runs `aipolicy trace`: exit 0 when written, 2 on input errors.
pub fn run(args: &TraceArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let (engine, inputs) = match args.engine.load(err) {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let scenarios = if args.scenarios.is_empty() {
        vec![inputs
            .scenarios
            .clone()
            .unwrap_or_else(|| PathBuf::from(super::test::DEFAULT_SCENARIOS))]
    } else {
        args.scenarios.clone()
    };
    let exercised = match exercised_cases(&engine, &scenarios, err) {
        Ok(exercised) => exercised,
        Err(exit) => return exit,
    };
    let trace = Trace::new(engine.policies(), &exercised);
    let written = match args.format {
        TraceFormat::Md => out.write_all(trace.to_markdown_in(engine.language()).as_bytes()),
        TraceFormat::Json => serde_json::to_writer_pretty(&mut *out, &trace)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
    };
    super::write_failure(written, "the trace", err).unwrap_or(Exit::Success)
}

/// The cases that exercise each policy, from running the scenarios at `paths` with
/// [`scenario::run_paths`]. Missing paths, or folders without scenario files, mean no cases
/// (said on stderr); a scenario file that cannot be used is an input error.
pub fn exercised_cases(
    engine: &Engine,
    paths: &[PathBuf],
    err: &mut dyn Write,
) -> Result<BTreeMap<String, Vec<String>>, Exit> {
    let existing: Vec<PathBuf> = paths
        .iter()
        .filter(|p| {
            let exists = p.exists();
            if !exists {
                let _ = writeln!(
                    err,
                    "note: no scenarios at `{}`; listing no cases from there",
                    p.display()
                );
            }
            exists
        })
        .cloned()
        .collect();
    if existing.is_empty() {
        return Ok(BTreeMap::new());
    }
    match scenario::run_paths(engine, &existing) {
        Ok(run) => {
            if run.failed() > 0 {
                let _ = writeln!(
                    err,
                    "note: {} of {} scenario cases fail; they are listed all the same \
                     (run `aipolicy test` for details)",
                    run.failed(),
                    run.results.len()
                );
            }
            Ok(run.coverage.by_policy)
        }
        Err(ScenarioError::NoScenarios(_)) => {
            let _ = writeln!(
                err,
                "note: no scenario files (*.yaml) under {}; listing no cases",
                existing
                    .iter()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(BTreeMap::new())
        }
        Err(e) => {
            report(err, e);
            Err(Exit::InputError)
        }
    }
}
