//! What `aipolicy audit` reads from a log: the chain's check, the counts, the export.

use std::collections::BTreeMap;
use std::io::Write;

use aipolicy::log::{Anchor, ChainBreak, ChainVerifier, DecisionRecord, LogError, Verified};
use aipolicy::matrix::{md_escape, no_formula};
use serde::Serialize;

use crate::{Source, TimeRange, Unreadable};

/// Called now and then with the records read so far (and the total, when known).
pub type Progress<'p> = &'p mut dyn FnMut(u64, Option<u64>);

/// How often progress is reported, in records.
pub const PROGRESS_EVERY: u64 = 65_536;

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every record gives its hash and links to the one before, from the anchor.
    Whole {
        /// What was checked.
        verified: Verified,
        /// Where the chain starts.
        anchor: Anchor,
    },
    /// The first record that breaks the chain.
    Broken(ChainBreak),
    /// A row or line that is no record any more (edited beyond reading), and its place.
    Unreadable {
        /// Its place in the log, counted from 1.
        position: u64,
        /// Where and what.
        what: Unreadable,
    },
}

/// Checks the whole chain of `source`.
pub fn verify(source: &mut dyn Source, progress: Progress<'_>) -> Result<Verification, LogError> {
    let anchor = source.anchor()?;
    let total = source.count(&TimeRange::default())?;
    let mut verifier = ChainVerifier::new(&anchor);
    let mut outcome = None;
    source.scan(&TimeRange::default(), &mut |read| {
        let checked = verifier.checked();
        if checked > 0 && checked.is_multiple_of(PROGRESS_EVERY) {
            progress(checked, total);
        }
        match read {
            Ok(record) => match verifier.check(&record) {
                Ok(()) => true,
                Err(broken) => {
                    outcome = Some(Verification::Broken(broken));
                    false
                }
            },
            Err(what) => {
                outcome = Some(Verification::Unreadable {
                    position: checked + 1,
                    what,
                });
                false
            }
        }
    })?;
    Ok(outcome.unwrap_or_else(|| Verification::Whole {
        verified: verifier.finish(),
        anchor,
    }))
}

/// Denies under these paragraphs are requests beyond what an AI system is approved for: data
/// above its class, personal or secrecy data beyond its approval, users outside its groups
/// (§3), an AI not decided by the municipality with anything but open information (U0),
/// public AI with anything but open information (U3).
pub const BEYOND_APPROVAL: [&str; 3] = ["§3", "U0", "U3"];

/// The paragraphs a record's reasons name, each once, in their order: a deny counts once
/// under each paragraph, however many of its rules applied.
pub(crate) fn deny_paragraphs(record: &DecisionRecord) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::with_capacity(record.reasons.len());
    for reason in &record.reasons {
        if !seen.contains(&reason.paragraph.as_str()) {
            seen.push(&reason.paragraph);
        }
    }
    seen
}

/// Whether a record is a deny because its query could not be read or evaluated, not the
/// policy's answer: every reason is `aipolicy-invalid-query` or `aipolicy-fail-closed`.
pub fn is_input_error(record: &DecisionRecord) -> bool {
    use aipolicy::decision::{FAIL_CLOSED_POLICY, INVALID_QUERY_POLICY};
    record.is_deny()
        && !record.reasons.is_empty()
        && record
            .reasons
            .iter()
            .all(|r| r.policy == INVALID_QUERY_POLICY || r.policy == FAIL_CLOSED_POLICY)
}

/// The counts of `audit summary` (pinned keys: `total`, `allow`, `deny`, `byParagraph`,
/// `byAiSystem`, `byUnit`, `byAction`, `byFound`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Records in the range.
    pub total: u64,
    /// Allowed.
    pub allow: u64,
    /// Denied by the policy (input errors apart).
    pub deny: u64,
    /// Denied because the query could not be read or evaluated (`aipolicy-invalid-query`,
    /// `aipolicy-fail-closed`): a caller's mistake or a fault, not the policy's answer, so
    /// counted apart from `deny` and under no paragraph.
    pub input_errors: u64,
    /// Denies by the paragraph of their reasons (a deny with reasons under two paragraphs
    /// counts under each).
    pub by_paragraph: BTreeMap<String, u64>,
    /// Denies by the rule (`@id`) of their reasons (a deny with two rules counts under each).
    pub by_rule: BTreeMap<String, u64>,
    /// Records by caller (a token's name, `staff-page`, `cli`, …).
    pub by_caller: BTreeMap<String, u64>,
    /// Records by AI system.
    pub by_ai_system: BTreeMap<String, u64>,
    /// Records by the user's unit (`(none)` for a user without one).
    pub by_unit: BTreeMap<String, u64>,
    /// Records by action.
    pub by_action: BTreeMap<String, u64>,
    /// Records by the kind of information found in the query's text (`personnummer`, …; a
    /// record with two kinds counts under each). Records without text count under none.
    pub by_found: BTreeMap<String, u64>,
    /// Denies by AI system.
    pub deny_by_ai_system: BTreeMap<String, u64>,
    /// Denies by unit.
    pub deny_by_unit: BTreeMap<String, u64>,
    /// Denies beyond an AI system's approval ([`BEYOND_APPROVAL`]) by AI system.
    pub beyond_approval_by_ai_system: BTreeMap<String, u64>,
    /// The policy revisions that decided, each with its first and last time and its count.
    pub policy_revisions: BTreeMap<String, RevisionSpan>,
    /// The range asked for (`--since`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The range asked for (`--until`, exclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The first record's time.
    pub first: Option<String>,
    /// The last record's time.
    pub last: Option<String>,
}

/// When a policy revision decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionSpan {
    /// Its first decision's time.
    pub first: String,
    /// Its last decision's time.
    pub last: String,
    /// Its decisions.
    pub decisions: u64,
}

/// The unit of a record as summaries name it.
pub fn unit_name(record: &DecisionRecord) -> &str {
    record.unit.as_deref().unwrap_or("(none)")
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(count) => *count += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

impl Summary {
    /// Counts one record.
    pub fn add(&mut self, record: &DecisionRecord) {
        self.total += 1;
        bump(&mut self.by_ai_system, &record.ai);
        bump(&mut self.by_unit, unit_name(record));
        bump(&mut self.by_action, &record.action);
        for kind in &record.found {
            bump(&mut self.by_found, kind);
        }
        bump(&mut self.by_caller, &record.caller);
        if is_input_error(record) {
            self.input_errors += 1;
        } else if record.is_deny() {
            self.deny += 1;
            let mut rules: Vec<&str> = Vec::with_capacity(record.reasons.len());
            for reason in &record.reasons {
                if !rules.contains(&reason.policy.as_str()) {
                    rules.push(&reason.policy);
                    bump(&mut self.by_rule, &reason.policy);
                }
            }
            bump(&mut self.deny_by_ai_system, &record.ai);
            bump(&mut self.deny_by_unit, unit_name(record));
            let seen = deny_paragraphs(record);
            for paragraph in &seen {
                bump(&mut self.by_paragraph, paragraph);
            }
            if seen.iter().any(|p| BEYOND_APPROVAL.contains(p)) {
                bump(&mut self.beyond_approval_by_ai_system, &record.ai);
            }
        } else {
            self.allow += 1;
        }
        match self.policy_revisions.get_mut(&record.policy_revision) {
            Some(span) => {
                span.decisions += 1;
                if record.time < span.first {
                    span.first.clone_from(&record.time);
                }
                if record.time > span.last {
                    span.last.clone_from(&record.time);
                }
            }
            None => {
                self.policy_revisions.insert(
                    record.policy_revision.clone(),
                    RevisionSpan {
                        first: record.time.clone(),
                        last: record.time.clone(),
                        decisions: 1,
                    },
                );
            }
        }
        if self.first.as_ref().is_none_or(|first| record.time < *first) {
            self.first = Some(record.time.clone());
        }
        if self.last.as_ref().is_none_or(|last| record.time > *last) {
            self.last = Some(record.time.clone());
        }
    }

    /// Writes the summary for a person.
    pub fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.period())?;
        writeln!(
            out,
            "decisions: {} (allow {}, deny {}, input errors {})",
            self.total, self.allow, self.deny, self.input_errors
        )?;
        let tables: [(&str, &BTreeMap<String, u64>); 9] = [
            ("denies by paragraph", &self.by_paragraph),
            ("denies by rule", &self.by_rule),
            ("by caller", &self.by_caller),
            ("by AI system", &self.by_ai_system),
            ("by unit", &self.by_unit),
            ("by action", &self.by_action),
            ("found in the text (kinds)", &self.by_found),
            ("denies by AI system", &self.deny_by_ai_system),
            (
                "denies beyond the AI system's approval (§3, U0, U3)",
                &self.beyond_approval_by_ai_system,
            ),
        ];
        for (title, counts) in tables {
            if counts.is_empty() {
                continue;
            }
            writeln!(out, "\n{title}:")?;
            let width = counts.keys().map(|k| k.chars().count()).max().unwrap_or(0);
            for (key, count) in sorted(counts) {
                writeln!(out, "  {key:<width$}  {count:>8}")?;
            }
        }
        if !self.policy_revisions.is_empty() {
            writeln!(out, "\npolicy revisions in force:")?;
            for (revision, span) in &self.policy_revisions {
                writeln!(
                    out,
                    "  {revision}  {} – {}  {:>8} decision(s)",
                    span.first, span.last, span.decisions
                )?;
            }
        }
        Ok(())
    }

    /// Writes the summary as Markdown tables.
    pub fn write_md(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "# Decision log summary\n\n{}\n", self.period())?;
        writeln!(
            out,
            "| decisions | allow | deny | input errors |\n|---:|---:|---:|---:|"
        )?;
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            self.total, self.allow, self.deny, self.input_errors
        )?;
        let tables: [(&str, &str, &BTreeMap<String, u64>); 8] = [
            ("Denies by paragraph", "paragraph", &self.by_paragraph),
            ("Denies by rule", "rule", &self.by_rule),
            ("By caller", "caller", &self.by_caller),
            ("By AI system", "AI system", &self.by_ai_system),
            ("By unit", "unit", &self.by_unit),
            ("By action", "action", &self.by_action),
            ("Found in the text", "kind", &self.by_found),
            (
                "Denies beyond the AI system's approval (§3, U0, U3)",
                "AI system",
                &self.beyond_approval_by_ai_system,
            ),
        ];
        for (title, column, counts) in tables {
            if counts.is_empty() {
                continue;
            }
            writeln!(out, "\n## {title}\n\n| {column} | count |\n|---|---:|")?;
            for (key, count) in sorted(counts) {
                writeln!(out, "| {} | {count} |", md_escape(key))?;
            }
        }
        if !self.policy_revisions.is_empty() {
            writeln!(
                out,
                "\n## Policy revisions in force\n\n| revision | first | last | decisions |\n|---|---|---|---:|"
            )?;
            for (revision, span) in &self.policy_revisions {
                writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md_escape(revision),
                    span.first,
                    span.last,
                    span.decisions
                )?;
            }
        }
        Ok(())
    }

    /// `records from … to …` (or that the range holds none).
    pub fn period(&self) -> String {
        let asked = match (&self.since, &self.until) {
            (None, None) => String::new(),
            (since, until) => format!(
                " (asked: {} to {})",
                since.as_deref().unwrap_or("the start"),
                until.as_deref().unwrap_or("now")
            ),
        };
        match (&self.first, &self.last) {
            (Some(first), Some(last)) => format!("records from {first} to {last}{asked}"),
            _ => format!("no records{asked}"),
        }
    }
}

/// Counts, largest first (then by name).
pub fn sorted(counts: &BTreeMap<String, u64>) -> Vec<(&str, u64)> {
    let mut list: Vec<(&str, u64)> = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    list
}

/// Reads every record of `range` into `each` (a record that cannot be read is an error: run
/// `audit verify` to find it).
pub fn for_each_record(
    source: &mut dyn Source,
    range: &TimeRange,
    progress: Progress<'_>,
    each: &mut dyn FnMut(&DecisionRecord) -> Result<(), LogError>,
) -> Result<u64, LogError> {
    let total = source.count(range)?;
    let mut read = 0u64;
    let mut failed = None;
    source.scan(range, &mut |record| {
        let record = match record {
            Ok(record) => record,
            Err(what) => {
                failed = Some(LogError(format!(
                    "{what} (run `aipolicy audit verify` on this log)"
                )));
                return false;
            }
        };
        if let Err(e) = each(&record) {
            failed = Some(e);
            return false;
        }
        read += 1;
        if read.is_multiple_of(PROGRESS_EVERY) {
            progress(read, total);
        }
        true
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(read),
    }
}

/// The counts of `range`.
pub fn summary(
    source: &mut dyn Source,
    range: &TimeRange,
    progress: Progress<'_>,
) -> Result<Summary, LogError> {
    let mut summary = Summary {
        since: range.since.clone(),
        until: range.until.clone(),
        ..Summary::default()
    };
    for_each_record(source, range, progress, &mut |record| {
        summary.add(record);
        Ok(())
    })?;
    Ok(summary)
}

/// `audit export` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ExportFormat {
    /// One row a record; lists joined with `;` (`found`: the kinds found in the text, never
    /// the text), reasons and duties as `PARAGRAPH policy`.
    Csv,
    /// The records as they are kept, one JSON object a line (the chain checkable as is).
    Jsonl,
}

/// The CSV header of `audit export --format csv`: the record's names, in its order.
pub const CSV_HEADER: [&str; 18] = [
    "decisionId",
    "time",
    "policyRevision",
    "requestId",
    "caller",
    "user",
    "roles",
    "unit",
    "ai",
    "action",
    "data",
    "found",
    "context",
    "decision",
    "reasons",
    "obligations",
    "hash",
    "prevHash",
];

fn cited(list: &[aipolicy::log::Cited]) -> String {
    list.iter()
        .map(|c| format!("{} {}", c.paragraph, c.policy))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Writes every record of `range` to `out` in `format`; returns how many.
pub fn export(
    source: &mut dyn Source,
    range: &TimeRange,
    format: ExportFormat,
    out: &mut dyn Write,
    progress: Progress<'_>,
) -> Result<u64, LogError> {
    let write_error = |e: &dyn std::fmt::Display| LogError(format!("cannot write the export: {e}"));
    match format {
        ExportFormat::Jsonl => {
            let mut out = std::io::BufWriter::new(out);
            let count = for_each_record(source, range, progress, &mut |record| {
                serde_json::to_writer(&mut out, record).map_err(|e| write_error(&e))?;
                out.write_all(b"\n").map_err(|e| write_error(&e))
            })?;
            out.flush().map_err(|e| write_error(&e))?;
            Ok(count)
        }
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer
                .write_record(CSV_HEADER)
                .map_err(|e| write_error(&e))?;
            let count = for_each_record(source, range, progress, &mut |r| {
                let context: Vec<&str> = r.context.keys().map(String::as_str).collect();
                let fields = [
                    r.decision_id.clone(),
                    r.time.clone(),
                    r.policy_revision.clone(),
                    r.request_id.clone().unwrap_or_default(),
                    r.caller.clone(),
                    r.user.clone(),
                    r.roles.join(";"),
                    r.unit.clone().unwrap_or_default(),
                    r.ai.clone(),
                    r.action.clone(),
                    r.data.join(";"),
                    r.found.join(";"),
                    context.join(";"),
                    r.decision.to_string(),
                    cited(&r.reasons),
                    cited(&r.obligations),
                    r.hash.clone(),
                    r.prev_hash.clone(),
                ];
                writer
                    .write_record(fields.iter().map(|f| no_formula(f).into_owned()))
                    .map_err(|e| write_error(&e))
            })?;
            writer.flush().map_err(|e| write_error(&e))?;
            Ok(count)
        }
    }
}
