//! `aipolicy audit`: what the people who supervise read from a decision log.

use std::io::Write;
use std::path::{Path, PathBuf};

use aipolicy::inputs::{Inputs, Overrides, Source as InputSource};
use aipolicy::{Language, Register};
use aipolicy_log::audit::{self, ExportFormat, Listed, Selection, Verification};
use aipolicy_log::filter::{parse_paragraph, Filter, Outcome, Unmatched, UserFilter};
use aipolicy_log::{open_source, SinkSpec, Source, TimeRange};
use clap::{Args, Subcommand, ValueEnum};

use super::output::{Progress, Watched};
use super::{Exit, LangArg};

/// Arguments of `aipolicy audit`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "A data-protection officer's commands:
  aipolicy audit verify  --log sqlite:audit.db          # exit 0: no record was edited, inserted or deleted
  aipolicy audit summary --log sqlite:audit.db --since 2026-11-01 --until 2026-11-30
  aipolicy audit report  --log sqlite:audit.db --since 2026-11-01 -o revision.html
  aipolicy audit summary --log sqlite:audit.db --ai copilot-chat --decision deny,input-error
  aipolicy audit export  --log sqlite:audit.db --format csv --user anna --key @pseudonym.key
  aipolicy audit pseudonym anna --key @pseudonym.key   # the pseudonym a pseudonymized log holds

summary, export and report take the same filters (--user, --ai, --unit, --decision, --caller,
--paragraph): values of one filter are alternatives, different filters all hold. Each output
says which filters it applied; a value no record holds is named, and one close to a value that
a record does hold (a slip: `copilt-chat` for `copilot-chat`) is refused.

The log is what `--log SINK` on check, batch and serve writes: sqlite:PATH, jsonl:PATH or
postgres://USER@HOST/DB. Records hold ids (user or its pseudonym, AI system, data classes,
paragraphs and policies), never the information itself.")]
pub struct AuditArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// The audit commands.
#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain: exit 0 when it is whole, 1 naming the first edited, inserted or
    /// deleted record.
    Verify(VerifyArgs),
    /// Count decisions by verdict, paragraph, rule, caller, AI system, unit and action, and
    /// set shadow AI apart (systems the register in force does not list); in Swedish, or
    /// English with --lang en.
    Summary(SummaryArgs),
    /// Write the records as CSV or JSON Lines.
    Export(ExportArgs),
    /// One self-contained, printable HTML page for a revision: the chain's check, totals,
    /// denies per paragraph over time, AI systems asked beyond their approval, shadow AI,
    /// units, callers, policy revisions; in Swedish, or English with --lang en.
    Report(ReportArgs),
    /// The pseudonym a log written with `--log-pseudonymize KEY` holds for a user id: to find
    /// a person's records for their request for their data (GDPR art. 15).
    Pseudonym(PseudonymArgs),
}

/// `audit pseudonym`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Prints the pseudonym (p- and 32 hex digits) that a decision log written with
`--log-pseudonymize KEY` holds instead of the user id, so that a person's records can be found
for their request for their data (GDPR art. 15), e.g. with `aipolicy audit export | grep`.
Without the key a pseudonym cannot be turned back into an id, nor an id into its pseudonym.

Examples:
  aipolicy audit pseudonym anna --key @/etc/aipolicy/pseudonym.key
  aipolicy audit pseudonym anna --key env:AIPOLICY_PSEUDONYM_KEY"
)]
pub struct PseudonymArgs {
    /// The user id, as the register (or the sign-in proxy) names the person
    #[arg(value_name = "ID")]
    pub id: String,
    /// The key the log was written with: the key itself, @FILE to read it from a file, or
    /// env:VAR
    #[arg(long, value_name = "KEY")]
    pub key: String,
}

/// The log to read.
#[derive(Debug, Clone, Args)]
pub struct LogSource {
    /// The log: sqlite:PATH, jsonl:PATH or postgres://USER@HOST/DB
    #[arg(long, value_name = "SINK")]
    pub log: SinkSpec,
    /// Show no progress on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

/// Which records.
#[derive(Debug, Clone, Args)]
pub struct RangeArgs {
    /// The first day (2026-11-01) or time (2026-11-01T08:00:00Z) taken
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// The last day taken (that whole day), or the time (excluded) where taking stops
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

/// Which records beside the time range, and the register in force: the filters `summary`,
/// `export` and `report` share.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Only this user: an id (compared without regard to case) or a pseudonym (p-…); with
    /// --key, an id also finds the pseudonym a pseudonymized log holds for it (repeatable, or
    /// a comma list)
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub user: Vec<String>,
    /// The key the log was pseudonymized with (@FILE or env:VAR, as --log-pseudonymize): each
    /// --user id is looked for by its pseudonym too (GDPR art. 15: a person's records)
    #[arg(long, value_name = "KEY", requires = "user")]
    pub key: Option<String>,
    /// Only this AI system (repeatable, or a comma list)
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub ai: Vec<String>,
    /// Only this unit, as the records name it; `(none)` for users without one (repeatable)
    #[arg(long, value_name = "UNIT")]
    pub unit: Vec<String>,
    /// Only these decisions: allow, deny (the policy's), input-error (a query that could not
    /// be read) (repeatable, or a comma list)
    #[arg(long, value_enum, value_name = "DECISION", value_delimiter = ',')]
    pub decision: Vec<Outcome>,
    /// Only this caller (a token's name, `staff-page`, `aipolicy check`, …) (repeatable, or
    /// a comma list)
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub caller: Vec<String>,
    /// Only records citing this paragraph: a deny's reasons or an allow's duties (`§3`, or
    /// `3`; `U0`) (repeatable, or a comma list)
    #[arg(long, value_name = "CODE", value_delimiter = ',', value_parser = parse_paragraph)]
    pub paragraph: Vec<String>,
    /// The register that tells shadow AI (systems it does not list) and users' ids [default:
    /// the project's register.yaml, else the embedded Askersund register]
    #[arg(long, value_name = "FILE")]
    pub register: Option<PathBuf>,
}

impl FilterArgs {
    fn is_empty(&self) -> bool {
        self.user.is_empty()
            && self.ai.is_empty()
            && self.unit.is_empty()
            && self.decision.is_empty()
            && self.caller.is_empty()
            && self.paragraph.is_empty()
    }
}

/// `audit verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// The log
    #[command(flatten)]
    pub source: LogSource,
}

/// `audit summary` formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// For a person.
    #[default]
    Text,
    /// JSON: total, allow, deny, byParagraph, byAiSystem, byUnit, byAction, and more.
    Json,
    /// Markdown tables.
    Md,
}

/// `audit summary`.
#[derive(Debug, Clone, Args)]
pub struct SummaryArgs {
    /// The log
    #[command(flatten)]
    pub source: LogSource,
    /// Which records
    #[command(flatten)]
    pub range: RangeArgs,
    /// Filters
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
    /// Language of the text and Markdown (JSON keys stay English)
    #[arg(long, value_enum, default_value_t = LangArg::Sv)]
    pub lang: LangArg,
}

/// `audit export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The log
    #[command(flatten)]
    pub source: LogSource,
    /// Which records
    #[command(flatten)]
    pub range: RangeArgs,
    /// Filters
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Output format
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write to this file [default: stdout]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `audit report` formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page.
    #[default]
    Html,
}

/// `audit report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The log
    #[command(flatten)]
    pub source: LogSource,
    /// Which records (the chain is checked whole, whatever the range and filters)
    #[command(flatten)]
    pub range: RangeArgs,
    /// Filters
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Language of the page
    #[arg(long, value_enum, default_value_t = LangArg::Sv)]
    pub lang: LangArg,
    /// Write to this file [default: stdout]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `aipolicy audit …`: 0 done (or the chain whole), 1 the chain broken, 2 a log or an
/// argument that cannot be used, 3 the output could not be written.
pub fn run(args: &AuditArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    match &args.command {
        AuditCommand::Verify(args) => verify(args, out, err),
        AuditCommand::Summary(args) => summary(args, out, err),
        AuditCommand::Export(args) => export(args, out, err),
        AuditCommand::Report(args) => report(args, out, err),
        AuditCommand::Pseudonym(args) => pseudonym(args, out, err),
    }
}

fn pseudonym(args: &PseudonymArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    match aipolicy_log::pseudonymizer(&args.key) {
        Ok(pseudonymizer) => {
            let written = writeln!(out, "{}", pseudonymizer.pseudonym(&args.id));
            super::write_failure(written, "the pseudonym", err).unwrap_or(Exit::Success)
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            Exit::InputError
        }
    }
}

fn open(source: &LogSource, err: &mut dyn Write) -> Result<Box<dyn Source>, Exit> {
    open_source(&source.log).map_err(|e| {
        let _ = writeln!(err, "error: {e}");
        Exit::InputError
    })
}

/// The register in force (the flag, else the project's, else the embedded one, as every
/// command resolves it), named on `err` unless `quiet`, with the AI systems it lists.
fn register_in_force(
    file: Option<&PathBuf>,
    quiet: bool,
    err: &mut dyn Write,
) -> Result<(Register, Listed), Exit> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let overrides = Overrides {
        register: file.cloned(),
        ..Overrides::default()
    };
    let inputs = Inputs::resolve(&overrides, &cwd).map_err(|e| {
        super::report(err, e);
        Exit::InputError
    })?;
    let loaded = match &inputs.register {
        InputSource::Embedded => Register::bundled(),
        InputSource::Path(path) => Register::from_file(path),
    };
    let register = loaded.map_err(|e| {
        super::report(err, e);
        Exit::InputError
    })?;
    let name = register_name(&inputs, &cwd);
    if !quiet {
        let _ = writeln!(err, "register: {name}");
    }
    let revision = aipolicy::project::sources::Sources::read(&inputs).revision();
    let listed = Listed {
        register: name,
        revision,
        ai_systems: register
            .ai_systems()
            .iter()
            .map(|ai| ai.id.clone())
            .collect(),
    };
    Ok((register, listed))
}

/// `register.yaml (project .)`, `embedded Askersund register`.
fn register_name(inputs: &Inputs, cwd: &Path) -> String {
    let mut name = match &inputs.register {
        InputSource::Embedded => "embedded Askersund register".to_string(),
        InputSource::Path(path) => match path.strip_prefix(cwd) {
            Ok(rest) if path.is_absolute() => rest.display().to_string(),
            _ => path.display().to_string(),
        },
    };
    if let (InputSource::Path(_), Some(project)) = (&inputs.register, &inputs.project) {
        let project = match project.strip_prefix(cwd) {
            Ok(rest) if rest.as_os_str().is_empty() => ".".to_string(),
            Ok(rest) => rest.display().to_string(),
            Err(_) => project.display().to_string(),
        };
        name.push_str(&format!(" (project {project})"));
    }
    name
}

/// The time range asked for, the filters (with the register in force when `register` is
/// wanted), then the log opened: what cannot be used is said before the log is touched.
fn open_selection(
    source: &LogSource,
    range: &RangeArgs,
    filters: &FilterArgs,
    register: bool,
    err: &mut dyn Write,
) -> Result<(Selection, Box<dyn Source>), Exit> {
    let range = TimeRange::parse(range.since.as_deref(), range.until.as_deref()).map_err(|e| {
        let _ = writeln!(err, "error: {e}");
        Exit::InputError
    })?;
    let pseudonymizer = match &filters.key {
        Some(key) => Some(aipolicy_log::pseudonymizer(key).map_err(|e| log_error(err, e))?),
        None => None,
    };
    let (register, listed) = if register {
        let (register, listed) = register_in_force(filters.register.as_ref(), source.quiet, err)?;
        (Some(register), Some(listed))
    } else {
        (None, None)
    };
    let users = filters
        .user
        .iter()
        .map(|given| {
            let listed_id = register
                .as_ref()
                .and_then(|r| r.user(given))
                .map(|u| u.id.as_str());
            UserFilter::new(given, pseudonymizer.as_ref(), listed_id)
        })
        .collect();
    let mut outcomes = filters.decision.clone();
    outcomes.dedup();
    let filter = Filter {
        users,
        ai_systems: filters.ai.clone(),
        units: filters.unit.clone(),
        outcomes,
        callers: filters.caller.clone(),
        paragraphs: filters.paragraph.clone(),
    };
    let selection = Selection {
        range,
        filter,
        listed,
    };
    Ok((selection, open(source, err)?))
}

/// Refuses the filter values taken for slips (each named, with the value meant); says the
/// others, which no record holds, as notes. Exit 2 when any was refused.
fn refuse_slips(unmatched: &[Unmatched], err: &mut dyn Write) -> Result<(), Exit> {
    let mut refused = false;
    for value in unmatched {
        let kind = if value.is_slip() { "error" } else { "note" };
        refused |= value.is_slip();
        let _ = writeln!(
            err,
            "{kind}: {} ({})",
            value.message(Language::En),
            value.field.flag()
        );
    }
    if refused {
        let _ = writeln!(
            err,
            "error: nothing is counted over a filter value no record holds; correct it, or leave it out"
        );
        Err(Exit::InputError)
    } else {
        Ok(())
    }
}

fn log_error(err: &mut dyn Write, e: impl std::fmt::Display) -> Exit {
    let _ = writeln!(err, "error: {e}");
    Exit::InputError
}

fn written(result: std::io::Result<()>, err: &mut dyn Write) -> Exit {
    super::write_failure(result, "the output", err).unwrap_or(Exit::Success)
}

fn verify(args: &VerifyArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let mut source = match open(&args.source, err) {
        Ok(source) => source,
        Err(exit) => return exit,
    };
    let outcome = reading(args.source.quiet, |shown| {
        audit::verify(source.as_mut(), shown)
    });
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => return log_error(err, e),
    };
    let log = &args.source.log;
    match outcome {
        Verification::Whole { verified, anchor } => {
            let mut text = format!(
                "{log}: the hash chain is whole: {} record(s)",
                verified.records
            );
            if let (Some(first), Some(last)) = (&verified.first_time, &verified.last_time) {
                text.push_str(&format!(" from {first} to {last}"));
            }
            if anchor.purged > 0 {
                text.push_str(&format!(
                    "; {} older record(s) were purged by the retention, and the chain is checked from the first kept one",
                    anchor.purged
                ));
            }
            if let Some(hash) = &verified.last_hash {
                text.push_str(&format!(
                    "\nlast hash: {hash} (keep it: a later verify shows whether the log still ends with this record)"
                ));
            }
            written(writeln!(out, "{text}"), err)
        }
        Verification::Broken(broken) => {
            let said = writeln!(out, "{log}: the hash chain is broken: {broken}");
            broken_chain(said, err)
        }
        Verification::Unreadable { position, what } => {
            let said = writeln!(
                out,
                "{log}: the hash chain is broken: record {position}: {what}"
            );
            broken_chain(said, err)
        }
    }
}

/// `read` with progress on stderr (on a terminal, unless `quiet`), which it is handed.
fn reading<T>(quiet: bool, read: impl FnOnce(audit::Progress<'_>) -> T) -> T {
    let shown = Progress::new("record(s) read", quiet, false);
    read(&mut |done, total| shown.set(done, total))
}

/// A broken chain is exit 1, once it is said; exit 3 when it could not be said.
fn broken_chain(said: std::io::Result<()>, err: &mut dyn Write) -> Exit {
    match written(said, err) {
        Exit::Success => Exit::Failure,
        failed => failed,
    }
}

fn summary(args: &SummaryArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let (selection, mut source) =
        match open_selection(&args.source, &args.range, &args.filters, true, err) {
            Ok(opened) => opened,
            Err(exit) => return exit,
        };
    let counted = reading(args.source.quiet, |shown| {
        audit::summary(source.as_mut(), &selection, shown)
    });
    let summary = match counted {
        Ok(summary) => summary,
        Err(e) => return log_error(err, e),
    };
    if let Some(filters) = &summary.filters {
        if let Err(exit) = refuse_slips(&filters.unmatched, err) {
            return exit;
        }
    }
    let language = Language::from(args.lang);
    let result = match args.format {
        SummaryFormat::Text => summary.write_text(out, language),
        SummaryFormat::Md => summary.write_md(out, language),
        SummaryFormat::Json => serde_json::to_writer_pretty(&mut *out, &summary)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
    };
    written(result, err)
}

/// `out`, or the file of `--output` (created, or an input error naming it).
fn output<'o>(
    file: Option<&PathBuf>,
    out: &'o mut dyn Write,
    err: &mut dyn Write,
) -> Result<Box<dyn Write + 'o>, Exit> {
    match file {
        None => Ok(Box::new(out)),
        Some(path) => std::fs::File::create(path)
            .map(|f| Box::new(std::io::BufWriter::new(f)) as Box<dyn Write>)
            .map_err(|e| {
                let _ = writeln!(err, "error: cannot create `{}`: {e}", path.display());
                Exit::InputError
            }),
    }
}

fn export(args: &ExportArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let filtered = !args.filters.is_empty();
    let (selection, mut source) =
        match open_selection(&args.source, &args.range, &args.filters, filtered, err) {
            Ok(opened) => opened,
            Err(exit) => return exit,
        };
    // A slip is refused before anything is written: the range is read once for the values
    // its records hold.
    if filtered {
        let checked = reading(args.source.quiet, |shown| {
            audit::unmatched(source.as_mut(), &selection, shown)
        });
        let unmatched = match checked {
            Ok(unmatched) => unmatched,
            Err(e) => return log_error(err, e),
        };
        if let Err(exit) = refuse_slips(&unmatched, err) {
            return exit;
        }
    }
    let mut target = match output(args.output.as_ref(), out, err) {
        Ok(target) => target,
        Err(exit) => return exit,
    };
    let mut watched = Watched::new(&mut target);
    let exported = reading(args.source.quiet, |shown| {
        audit::export(
            source.as_mut(),
            &selection,
            args.format,
            &mut watched,
            shown,
        )
    });
    // A failed flush is kept by `watched`, as every failed write.
    let _ = watched.flush();
    if let Some(failed) = watched.write_error() {
        // A closed pipe (`… | head`) stops quietly; a full disk is exit 3.
        return written(Err(failed), err);
    }
    match exported {
        Ok(count) => {
            // The export's own format has no place for them: the filters are said here.
            if let Some(applied) = selection.filter.applied() {
                let _ = writeln!(
                    err,
                    "filters: {}; {count} record(s) taken",
                    applied.describe(Language::En)
                );
            }
            if let Some(path) = &args.output {
                let _ = writeln!(err, "{count} record(s) written to {}", path.display());
            }
            Exit::Success
        }
        Err(e) => log_error(err, e),
    }
}

fn report(args: &ReportArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let ReportFormat::Html = args.format;
    let (selection, mut source) =
        match open_selection(&args.source, &args.range, &args.filters, true, err) {
            Ok(opened) => opened,
            Err(exit) => return exit,
        };
    let collected = reading(args.source.quiet, |shown| {
        aipolicy_log::report::collect(
            &args.source.log.to_string(),
            source.as_mut(),
            &selection,
            shown,
        )
    });
    let report = match collected {
        Ok(report) => report,
        Err(e) => return log_error(err, e),
    };
    if let Some(filters) = &report.summary.filters {
        if let Err(exit) = refuse_slips(&filters.unmatched, err) {
            return exit;
        }
    }
    let page = aipolicy_log::report::html(&report, args.lang.into());
    let mut target = match output(args.output.as_ref(), out, err) {
        Ok(target) => target,
        Err(exit) => return exit,
    };
    let result = target
        .write_all(page.as_bytes())
        .and_then(|()| target.flush());
    if let (Ok(()), Some(path)) = (&result, &args.output) {
        let _ = writeln!(err, "report written to {}", path.display());
    }
    if !matches!(report.verification, Verification::Whole { .. }) {
        let _ = writeln!(
            err,
            "warning: the hash chain is broken (the report says where); run `aipolicy audit verify --log {}`",
            args.source.log
        );
    }
    written(result, err)
}
