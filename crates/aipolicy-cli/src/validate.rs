//! `aipolicy validate`: check policies, schema and register together, and lint the policies.

use clap::Args;
use serde::Serialize;
use std::io::Write;

use super::{report, DayArgs, Exit, InputArgs};
use aipolicy::diagnostics::findings::FindingRecord;
use aipolicy::project::{self, Validation};

/// Arguments of `aipolicy validate`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = "What is checked, every problem of every file at once:
  - each .cedar file parses, and every policy validates against the Cedar schema (strict mode)
  - every policy has a unique @id, a @paragraph among §1–§6 and U0–U5, non-empty @sv and @en
    (obligations in both languages, only on permits; @kind is `duty` on a permit, or absent)
  - every rule-bearing paragraph (§1–§6, U0–U5) has at least one policy
  - no policy is useless: Cedar's validator proves its condition or scope can never apply
  - the register is valid YAML with the register's keys (`aipolicy schema register`)
  - the engine builds from the three together
  - the invariants `aipolicy verify` proves read and type-check against the schema
A service embedding the engine loads through the same gate (`aipolicy::project::gate`): what
passes here is what it accepts on a reload.
Warnings: an annotation aipolicy does not read (e.g. @se for @sv), a policy in the file of
another paragraph (s3-*.cedar holds §3), any other warning of Cedar's validator; in the
register, what the law's rules cannot judge or what cannot all be right (ai-act, suppliers,
approvals, routes), and an assessment that has lapsed, lapses within 30 days or is dated after
the day (assessments; one without a date is a note). The day is today in Europe/Stockholm, or
--at DATE (what will be due?).
Errors and warnings show file:line:column and the lines concerned; warnings do not fail.

In a project (a folder with policies/, aipolicy.toml, register.yaml or policy.md, here or above)
its files are checked, and the embedded ones for what it lacks; elsewhere the embedded Askersund
policies, schema and register. stderr names what is checked.

Exit codes: 0 no errors (warnings allowed), 1 at least one error in the policies, schema or
register, 3 the result could not be written.

Examples:
  aipolicy validate                                  # the project's files (or the embedded ones)
  aipolicy validate --policies my-policies           # another folder of policy files
  aipolicy validate --register tests/fixtures/exempelby-register.yaml
  aipolicy validate --at 2027-09-15                  # what lapses by then
  aipolicy validate --format json | jq '.findings[]'")]
pub struct ValidateArgs {
    /// Policies, schema and register
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The day lapses are told against
    #[command(flatten)]
    pub day: DayArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// `validate --format` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// For a person: each finding with file:line:column and a snippet on stderr, a summary on stdout
    #[default]
    Text,
    /// Every finding and the summary as one JSON document on stdout, for tools
    Json,
}

/// The JSON output of `validate --format json`.
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    ok: bool,
    errors: usize,
    warnings: usize,
    notes: usize,
    policies: &'a str,
    schema: &'a str,
    register: &'a str,
    files: usize,
    rules: usize,
    /// Each paragraph, in document order, with the `@id`s of its policies.
    coverage: Vec<CoverageEntry<'a>>,
    findings: Vec<FindingRecord>,
}

/// One paragraph's policies in the JSON output.
#[derive(Debug, Serialize)]
struct CoverageEntry<'a> {
    paragraph: &'static str,
    policies: &'a [String],
}

/// Runs `aipolicy validate`: exit 0 when there is no error, 1 otherwise.
pub fn run(args: &ValidateArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let inputs = match args.inputs.resolve(err) {
        Ok(inputs) => inputs,
        Err(exit) => return exit,
    };
    let clock = match args.day.clock(args.inputs.policy.quiet, err) {
        Ok(clock) => clock,
        Err(exit) => return exit,
    };
    let validation = project::validate(&inputs, clock.today());
    let written = match args.format {
        ReportFormat::Json => write_json(out, &validation),
        ReportFormat::Text => {
            for finding in &validation.report.findings {
                report(err, finding.clone());
            }
            write_summary(out, &validation)
        }
    };
    if let Some(exit) = super::write_failure(written, "the result", err) {
        return exit;
    }
    // The load gate's verdict (`project::gate`): what a service reloading these files accepts.
    if validation.engine.is_some() {
        Exit::Success
    } else {
        Exit::Failure
    }
}

fn write_json(out: &mut dyn Write, validation: &Validation) -> std::io::Result<()> {
    let report = &validation.report;
    let json = JsonReport {
        ok: !report.has_errors(),
        errors: report.errors().count(),
        warnings: report.warnings().count(),
        notes: report.notes().count(),
        policies: &validation.policies,
        schema: &validation.schema,
        register: &validation.register,
        files: report.files,
        rules: report.policies,
        coverage: report
            .coverage
            .iter()
            .map(|(paragraph, ids)| CoverageEntry {
                paragraph: paragraph.code(),
                policies: ids,
            })
            .collect(),
        findings: report.findings.iter().map(FindingRecord::from).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &json)?;
    writeln!(out)
}

/// Writes what was checked and the outcome, for a person.
pub fn write_summary(out: &mut dyn Write, validation: &Validation) -> std::io::Result<()> {
    let report = &validation.report;
    writeln!(
        out,
        "policies: {} ({} files, {} policies)",
        validation.policies, report.files, report.policies
    )?;
    writeln!(out, "schema:   {}", validation.schema)?;
    match &validation.loaded_register {
        Some(register) => writeln!(
            out,
            "register: {} ({} data classes, {} AI systems, {} users)",
            validation.register,
            register.data_classes().len(),
            register.ai_systems().len(),
            register.users().len()
        )?,
        None => writeln!(out, "register: {} (invalid)", validation.register)?,
    }
    let coverage: Vec<String> = report
        .coverage
        .iter()
        .map(|(paragraph, ids)| format!("{paragraph} {}", ids.len()))
        .collect();
    if coverage.is_empty() {
        writeln!(
            out,
            "policies per paragraph: (the policies could not be read)"
        )?;
    } else {
        writeln!(out, "policies per paragraph: {}", coverage.join(", "))?;
    }
    let (errors, warnings) = (report.errors().count(), report.warnings().count());
    // Notes are named only when there are some: they are allowed, and most runs have none.
    let notes = match report.notes().count() {
        0 => String::new(),
        n => format!(", {n} note(s)"),
    };
    if errors == 0 {
        writeln!(out, "ok: no errors, {warnings} warning(s){notes}")
    } else {
        writeln!(
            out,
            "failed: {errors} error(s), {warnings} warning(s){notes} (details on stderr)"
        )
    }
}
