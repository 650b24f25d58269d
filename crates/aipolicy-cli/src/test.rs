//! `aipolicy test`: run scenario files, show what broke and why, and report coverage.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{report, EngineArgs, Exit};
use aipolicy::decision::Decision;
use aipolicy::engine::Engine;
use aipolicy::scenario::{self, Actual, CaseResult, Outcome, RunReport};

/// The default place of the scenario suite.
pub const DEFAULT_SCENARIOS: &str = "tests/scenarios";

/// Arguments of `aipolicy test`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "A scenario file:
  register: ../../examples/askersund/register.yaml   # optional, relative to this file
  at: 2026-12-07                                     # optional: the day the cases are decided at
                                                     # (--at DATE decides every file as on DATE)
  cases:
    - name: Public chatbot with internal information
      query: {user: anna, ai: chatgpt, data: intern}
      expect: {decision: deny, paragraphs: [U3]}      # or: allow | deny | error

Exit codes: 0 every case passed, 1 a case failed (or a policy is unexercised with
--require-full-coverage), 2 a scenario file could not be read.

Examples:
  aipolicy test
  aipolicy test tests/scenarios/u3-publik-ai.yaml --verbose
  aipolicy test --format junit > scenarios.xml")]
pub struct TestArgs {
    /// Scenario files or folders [default: the project's tests/scenarios]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
    /// Exit 1 when some policy is exercised by no case
    #[arg(long)]
    pub require_full_coverage: bool,
    /// Also list the cases that passed
    #[arg(short, long)]
    pub verbose: bool,
    /// Where policies, schema and register come from
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `aipolicy test --format` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// Failures, coverage and a summary line, for a person.
    #[default]
    Text,
    /// JUnit XML for CI systems (the summary goes to stderr).
    Junit,
    /// The whole report as JSON.
    Json,
}

/// Runs `aipolicy test`.
pub fn run(args: &TestArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let (engine, inputs) = match args.engine.load(err) {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let paths = if args.paths.is_empty() {
        vec![inputs
            .scenarios
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SCENARIOS))]
    } else {
        args.paths.clone()
    };
    // `--at` decides every file as on that day (the engine's clock, fixed at it), whatever day
    // the file names.
    let day = args.engine.day.at.is_some().then(|| engine.today());
    let run = match scenario::run_paths_on(&engine, &paths, day) {
        Ok(run) => run,
        Err(e) => {
            report(err, e);
            return Exit::InputError;
        }
    };
    let written = match args.format {
        TestFormat::Text => write_text(out, &run, &engine, args.verbose),
        TestFormat::Junit => write_junit(out, &run).and_then(|()| write_summary(err, &run)),
        TestFormat::Json => serde_json::to_writer_pretty(&mut *out, &run)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
            .and_then(|()| write_summary(err, &run)),
    };
    if let Some(exit) = super::write_failure(written, "the report", err) {
        return exit;
    }
    let uncovered = run.coverage.unexercised();
    if args.require_full_coverage && !uncovered.is_empty() {
        let _ = writeln!(
            err,
            "error: {} policies are exercised by no case (--require-full-coverage): {}",
            uncovered.len(),
            uncovered.join(", ")
        );
        return Exit::Failure;
    }
    if run.failed() > 0 {
        Exit::Failure
    } else {
        Exit::Success
    }
}

fn write_summary(out: &mut dyn Write, run: &RunReport) -> std::io::Result<()> {
    writeln!(out, "{} passed, {} failed", run.passed(), run.failed())
}

/// The text report: each failure with query, expected and actual; coverage; summary line.
pub fn write_text(
    out: &mut dyn Write,
    run: &RunReport,
    engine: &Engine,
    verbose: bool,
) -> std::io::Result<()> {
    for result in &run.results {
        if result.passed() {
            if verbose {
                writeln!(out, "ok    {}  {}", result.location(), result.name)?;
            }
            continue;
        }
        write_failure(out, result)?;
    }
    if run.failed() > 0 || verbose {
        writeln!(out)?;
    }
    let total = run.coverage.by_policy.len();
    let uncovered = run.coverage.unexercised();
    writeln!(
        out,
        "Coverage: {} of {total} policies exercised",
        total - uncovered.len()
    )?;
    let width = engine
        .policies()
        .rules()
        .iter()
        .map(|rule| rule.id.chars().count())
        .max()
        .unwrap_or(0);
    for rule in engine.policies().rules() {
        let cases = run.coverage.by_policy.get(&*rule.id).map_or(0, Vec::len);
        let mark = if cases == 0 { "!!" } else { "  " };
        writeln!(
            out,
            "  {mark} {:<3} {:<width$} {cases:>3} case(s)",
            rule.paragraph.code(),
            rule.id
        )?;
    }
    if !uncovered.is_empty() {
        writeln!(out, "Not exercised by any case:")?;
        for rule in engine.policies().rules() {
            if uncovered.contains(&&*rule.id) {
                writeln!(
                    out,
                    "  {} {}  ({}:{})",
                    rule.paragraph.code(),
                    rule.id,
                    rule.file,
                    rule.line
                )?;
            }
        }
    }
    writeln!(out)?;
    write_summary(out, run)
}

fn write_failure(out: &mut dyn Write, result: &CaseResult) -> std::io::Result<()> {
    writeln!(out, "FAIL  {}  {}", result.location(), result.name)?;
    writeln!(out, "  query:    {}", result.query)?;
    let expect = &result.expect;
    let mut expected = match expect.decision {
        Outcome::Allow => "allow".to_string(),
        Outcome::Deny => "deny".to_string(),
        Outcome::Error => "an input error".to_string(),
    };
    if !expect.paragraphs.is_empty() {
        expected.push_str(&format!(
            " with paragraphs [{}]",
            expect.paragraphs.join(", ")
        ));
    }
    if !expect.policies.is_empty() {
        expected.push_str(&format!(" by policies [{}]", expect.policies.join(", ")));
    }
    writeln!(out, "  expected: {expected}")?;
    match &result.actual {
        Actual::InputError(errors) => {
            writeln!(out, "  actual:   input error")?;
            for e in errors {
                writeln!(out, "            {e}")?;
            }
        }
        Actual::Decision(decision) => write_actual(out, decision)?,
    }
    for failure in &result.failures {
        writeln!(out, "  ✗ {failure}")?;
    }
    writeln!(out)
}

fn write_actual(out: &mut dyn Write, decision: &Decision) -> std::io::Result<()> {
    writeln!(out, "  actual:   {}", decision.decision)?;
    for r in &decision.reasons {
        writeln!(
            out,
            "            reason     {:<3} {}  {}",
            r.paragraph, r.policy, r.message
        )?;
    }
    for o in &decision.obligations {
        writeln!(
            out,
            "            obligation {:<3} {}  {}",
            o.paragraph, o.policy, o.message
        )?;
    }
    for e in &decision.errors {
        writeln!(out, "            error      {e}")?;
    }
    Ok(())
}

/// JUnit XML (written with quick-junit): one `<testsuite>` per scenario file, one `<testcase>`
/// per case; a failed case carries the failure text a person reads.
pub fn write_junit(out: &mut dyn Write, run: &RunReport) -> std::io::Result<()> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("aipolicy");
    let mut files: Vec<&str> = run.results.iter().map(|r| r.file.as_str()).collect();
    files.dedup();
    for file in files {
        let mut suite = TestSuite::new(file);
        for case in run.results.iter().filter(|r| r.file == file) {
            let status = if case.passed() {
                TestCaseStatus::success()
            } else {
                let mut detail = Vec::new();
                write_failure(&mut detail, case)?;
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(case.failures.join("; "))
                    .set_description(String::from_utf8_lossy(&detail).into_owned());
                status
            };
            let mut test_case = TestCase::new(case.name.as_str(), status);
            test_case.set_classname(file);
            suite.add_test_case(test_case);
        }
        report.add_test_suite(suite);
    }
    report.serialize(out).map_err(std::io::Error::other)
}
