//! What `aipolicy audit` reads from a log: the chain's check, the counts, the export.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use aipolicy::log::{Anchor, ChainBreak, ChainVerifier, DecisionRecord, LogError, Verified};
use aipolicy::matrix::{md_escape, no_formula};
use aipolicy::{Language, Paragraph};
use serde::Serialize;

use crate::filter::{Applied, Field, Filter, Seen, Unmatched};
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
    /// The filters applied beside the range, and the values no record held (absent without
    /// filters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Applied>,
    /// Records in the range (that pass the filters).
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
    /// AI systems asked about that the register in force does not list (absent when no
    /// register was given to tell them by).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow_ai: Option<ShadowAi>,
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

/// The register that tells shadow AI: the AI systems it lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listed {
    /// Which register (`register.yaml`, `embedded Askersund register`).
    pub register: String,
    /// The policy revision of the inputs in force with it, when known: records decided under
    /// another revision may have been decided on another register.
    pub revision: Option<String>,
    /// The ids of the AI systems it lists.
    pub ai_systems: BTreeSet<String>,
}

/// Shadow AI: AI systems asked about that the register does not list (JSON key `shadowAi`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShadowAi {
    /// The register they are not in.
    pub register: String,
    /// The policy revision of the inputs in force with that register, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Each name asked about, with how often, by whom and when.
    pub systems: BTreeMap<String, ShadowSystem>,
    #[serde(skip)]
    listed: BTreeSet<String>,
}

/// One AI system the register does not list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShadowSystem {
    /// Records about it.
    pub decisions: u64,
    /// Of them denied (by the policy or as input errors).
    pub deny: u64,
    /// The first record's time.
    pub first: String,
    /// The last record's time.
    pub last: String,
    /// Records by caller.
    pub by_caller: BTreeMap<String, u64>,
    /// Records by unit.
    pub by_unit: BTreeMap<String, u64>,
    /// The listed system closest to the name, when one is close: a caller's slip rather than
    /// another AI system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closest_listed: Option<String>,
}

impl ShadowAi {
    /// Shadow AI as `listed` tells it, nothing counted yet.
    pub fn new(listed: &Listed) -> ShadowAi {
        ShadowAi {
            register: listed.register.clone(),
            revision: listed.revision.clone(),
            systems: BTreeMap::new(),
            listed: listed.ai_systems.clone(),
        }
    }

    /// Counts one record, when its AI system is not listed.
    pub fn add(&mut self, record: &DecisionRecord) {
        // A record names its AI system; one that names none asked about no system.
        if record.ai.is_empty() || self.listed.contains(&record.ai) {
            return;
        }
        let system = self
            .systems
            .entry(record.ai.clone())
            .or_insert_with(|| ShadowSystem {
                first: record.time.clone(),
                last: record.time.clone(),
                ..ShadowSystem::default()
            });
        system.decisions += 1;
        if record.is_deny() {
            system.deny += 1;
        }
        if record.time < system.first {
            system.first.clone_from(&record.time);
        }
        if record.time > system.last {
            system.last.clone_from(&record.time);
        }
        bump(&mut system.by_caller, &record.caller);
        bump(&mut system.by_unit, unit_name(record));
    }

    /// Names the listed system closest to each shadow name.
    pub fn finish(&mut self) {
        for (name, system) in &mut self.systems {
            system.closest_listed =
                aipolicy::suggest::closest(name, self.listed.iter().map(String::as_str))
                    .map(str::to_string);
        }
    }

    /// The systems, most asked first.
    pub fn sorted(&self) -> Vec<(&str, &ShadowSystem)> {
        let mut list: Vec<(&str, &ShadowSystem)> =
            self.systems.iter().map(|(k, v)| (k.as_str(), v)).collect();
        list.sort_by(|a, b| b.1.decisions.cmp(&a.1.decisions).then(a.0.cmp(b.0)));
        list
    }
}

/// Which records a summary, export or report takes, and the register that tells shadow AI.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--since` and `--until`.
    pub range: TimeRange,
    /// The filters.
    pub filter: Filter,
    /// The register in force, when given.
    pub listed: Option<Listed>,
}

impl Selection {
    /// The register's AI systems, to suggest from beside what the records hold.
    fn also_known(&self) -> Vec<(Field, Vec<String>)> {
        self.listed
            .iter()
            .map(|l| (Field::Ai, l.ai_systems.iter().cloned().collect()))
            .collect()
    }

    /// An empty summary of this selection.
    pub fn summary(&self) -> Summary {
        Summary {
            filters: self.filter.applied(),
            shadow_ai: self.listed.as_ref().map(ShadowAi::new),
            since: self.range.since.clone(),
            until: self.range.until.clone(),
            ..Summary::default()
        }
    }
}

/// What counting a selection found beside the counts: the filter values no record held.
#[derive(Debug, Default)]
pub struct Counting {
    seen: Seen,
}

impl Counting {
    /// Counting for `selection`.
    pub fn new(selection: &Selection) -> Counting {
        Counting {
            seen: Seen::for_filter(&selection.filter),
        }
    }

    /// Takes a record of the range into `summary` when it passes the filters; whether it did.
    pub fn add(
        &mut self,
        selection: &Selection,
        summary: &mut Summary,
        record: &DecisionRecord,
    ) -> bool {
        self.seen.add(record);
        let taken = selection.filter.matches(record);
        if taken {
            summary.add(record);
        }
        taken
    }

    /// The filter values no record held, said in `summary`'s filters.
    pub fn finish(self, selection: &Selection, summary: &mut Summary) {
        let unmatched = self
            .seen
            .unmatched(&selection.filter, &selection.also_known());
        if let Some(filters) = &mut summary.filters {
            filters.unmatched = unmatched;
        }
        if let Some(shadow) = &mut summary.shadow_ai {
            shadow.finish();
        }
    }
}

/// The unit of a record as summaries name it.
pub fn unit_name(record: &DecisionRecord) -> &str {
    record.unit.as_deref().unwrap_or(NO_UNIT)
}

/// The unit of a record without one, as summaries (and `--unit`) name it.
pub const NO_UNIT: &str = "(none)";

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(count) => *count += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

/// `sv` or `en` words.
pub(crate) fn say(language: Language, sv: &'static str, en: &'static str) -> &'static str {
    match language {
        Language::Sv => sv,
        Language::En => en,
    }
}

/// A key of a count as a person reads it: a paragraph with its title, the unit of none in
/// the language.
pub(crate) fn shown_key(key: &str, paragraphs: bool, language: Language) -> String {
    if paragraphs {
        if let Ok(p) = key.parse::<Paragraph>() {
            return format!("{key} {}", p.title(language));
        }
    }
    if key == NO_UNIT {
        return say(language, "(ingen)", "(none)").to_string();
    }
    key.to_string()
}

/// `gateway 3, staff-page 1`: counts in a line, largest first.
pub(crate) fn listed_counts(counts: &BTreeMap<String, u64>, language: Language) -> String {
    sorted(counts)
        .into_iter()
        .map(|(k, n)| format!("{} {n}", shown_key(k, false, language)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` with its first letter a capital (a heading of the Markdown).
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

impl Summary {
    /// The tables of counts the text and Markdown show, in order: title, the column's name,
    /// the counts, and whether the keys are paragraphs.
    fn count_tables(
        &self,
        language: Language,
    ) -> [(&'static str, &'static str, &BTreeMap<String, u64>, bool); 9] {
        let ai = say(language, "AI-system", "AI system");
        [
            (
                say(language, "nekanden per paragraf", "denies by paragraph"),
                say(language, "paragraf", "paragraph"),
                &self.by_paragraph,
                true,
            ),
            (
                say(language, "nekanden per regel", "denies by rule"),
                say(language, "regel", "rule"),
                &self.by_rule,
                false,
            ),
            (
                say(language, "per anropare", "by caller"),
                say(language, "anropare", "caller"),
                &self.by_caller,
                false,
            ),
            (
                say(language, "per AI-system", "by AI system"),
                ai,
                &self.by_ai_system,
                false,
            ),
            (
                say(language, "per förvaltning", "by unit"),
                say(language, "förvaltning", "unit"),
                &self.by_unit,
                false,
            ),
            (
                say(language, "per handling", "by action"),
                say(language, "handling", "action"),
                &self.by_action,
                false,
            ),
            (
                say(
                    language,
                    "hittat i texten (slag)",
                    "found in the text (kinds)",
                ),
                say(language, "slag", "kind"),
                &self.by_found,
                false,
            ),
            (
                say(language, "nekanden per AI-system", "denies by AI system"),
                ai,
                &self.deny_by_ai_system,
                false,
            ),
            (
                say(
                    language,
                    "nekanden utöver AI-systemets godkännande (§3, U0, U3)",
                    "denies beyond the AI system's approval (§3, U0, U3)",
                ),
                ai,
                &self.beyond_approval_by_ai_system,
                false,
            ),
        ]
    }

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
        if let Some(shadow) = &mut self.shadow_ai {
            shadow.add(record);
        }
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

    /// The filter values taken for slips (a close value exists): a command refuses them.
    pub fn slips(&self) -> Vec<&Unmatched> {
        self.filters
            .iter()
            .flat_map(|f| f.unmatched.iter())
            .filter(|u| u.is_slip())
            .collect()
    }

    /// `urval: …` / `filters: …` when filters were applied, then a line for each value no
    /// record held.
    pub fn filter_lines(&self, language: Language) -> Vec<String> {
        let Some(filters) = &self.filters else {
            return Vec::new();
        };
        let mut lines = vec![format!(
            "{}: {}",
            say(language, "urval", "filters"),
            filters.describe(language)
        )];
        for unmatched in &filters.unmatched {
            lines.push(format!(
                "{}: {}",
                say(language, "obs", "note"),
                unmatched.message(language)
            ));
        }
        lines
    }

    /// Whether records were decided under a revision other than the one in force with the
    /// register that tells shadow AI (then that register may not be the one they were
    /// decided on).
    pub fn shadow_register_differs(&self) -> bool {
        match self.shadow_ai.as_ref().and_then(|s| s.revision.as_ref()) {
            Some(revision) => self.policy_revisions.keys().any(|r| r != revision),
            None => false,
        }
    }

    /// The sentence under the shadow-AI heading: which register, and its caveat.
    pub fn shadow_intro(&self, shadow: &ShadowAi, language: Language) -> String {
        let mut text = match language {
            Language::Sv => format!(
                "AI-system som frågorna gällde men som registret i kraft inte listar (register: {}); de behandlas som publik AI (bara öppen information, U3).",
                shadow.register
            ),
            Language::En => format!(
                "AI systems asked about that the register in force does not list (register: {}); they are treated as public AI (open information only, U3).",
                shadow.register
            ),
        };
        if self.shadow_register_differs() {
            text.push(' ');
            text.push_str(say(
                language,
                "Några poster beslutades under en annan policyrevision än den i kraft nu: registret då kan ha listat andra system.",
                "Some records were decided under another policy revision than the one in force now: the register then may have listed other systems.",
            ));
        }
        text
    }

    /// Writes the summary for a person, in `language`.
    pub fn write_text(&self, out: &mut dyn Write, language: Language) -> std::io::Result<()> {
        let sv = language == Language::Sv;
        for line in self.filter_lines(language) {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "{}", self.period(language))?;
        if sv {
            writeln!(
                out,
                "beslut: {} (tillåtna {}, nekade {}, felaktiga frågor {})",
                self.total, self.allow, self.deny, self.input_errors
            )?;
        } else {
            writeln!(
                out,
                "decisions: {} (allow {}, deny {}, input errors {})",
                self.total, self.allow, self.deny, self.input_errors
            )?;
        }
        for (title, _, counts, paragraphs) in self.count_tables(language) {
            if counts.is_empty() {
                continue;
            }
            writeln!(out, "\n{title}:")?;
            let mut rows = sorted(counts);
            if paragraphs {
                rows.sort_by_key(|(code, _)| paragraph_order(code));
            }
            let rows: Vec<(String, u64)> = rows
                .into_iter()
                .map(|(k, n)| (shown_key(k, paragraphs, language), n))
                .collect();
            let width = rows
                .iter()
                .map(|(k, _)| k.chars().count())
                .max()
                .unwrap_or(0);
            for (key, count) in rows {
                writeln!(out, "  {key:<width$}  {count:>8}")?;
            }
        }
        if let Some(shadow) = &self.shadow_ai {
            writeln!(out, "\n{}:", say(language, "skugg-AI", "shadow AI"))?;
            writeln!(out, "  {}", self.shadow_intro(shadow, language))?;
            if shadow.systems.is_empty() {
                writeln!(out, "  {}", say(language, "inga", "none"))?;
            }
            for (name, system) in shadow.sorted() {
                let (decisions, denied) = if sv {
                    ("beslut", "nekade")
                } else {
                    ("decision(s)", "denied")
                };
                write!(
                    out,
                    "  {name}  {} {decisions}, {} {denied}, {} – {}",
                    system.decisions, system.deny, system.first, system.last
                )?;
                if let Some(close) = &system.closest_listed {
                    write!(
                        out,
                        "; {} `{close}`?",
                        say(language, "menade anroparen", "did the caller mean")
                    )?;
                }
                writeln!(out)?;
                let list = |counts: &BTreeMap<String, u64>| listed_counts(counts, language);
                writeln!(
                    out,
                    "    {}: {}",
                    say(language, "anropare", "callers"),
                    list(&system.by_caller)
                )?;
                writeln!(
                    out,
                    "    {}: {}",
                    say(language, "förvaltningar", "units"),
                    list(&system.by_unit)
                )?;
            }
        }
        if !self.policy_revisions.is_empty() {
            writeln!(
                out,
                "\n{}:",
                say(
                    language,
                    "policyrevisioner i kraft",
                    "policy revisions in force"
                )
            )?;
            for (revision, span) in &self.policy_revisions {
                writeln!(
                    out,
                    "  {revision}  {} – {}  {:>8} {}",
                    span.first,
                    span.last,
                    span.decisions,
                    say(language, "beslut", "decision(s)")
                )?;
            }
        }
        Ok(())
    }

    /// Writes the summary as Markdown tables, in `language`.
    pub fn write_md(&self, out: &mut dyn Write, language: Language) -> std::io::Result<()> {
        writeln!(
            out,
            "# {}\n",
            say(
                language,
                "Sammanställning av beslutsloggen",
                "Decision log summary"
            )
        )?;
        for line in self.filter_lines(language) {
            writeln!(out, "{}\n", md_escape(&line))?;
        }
        writeln!(out, "{}\n", self.period(language))?;
        writeln!(
            out,
            "| {} |\n|---:|---:|---:|---:|",
            say(
                language,
                "beslut | tillåtna | nekade | felaktiga frågor",
                "decisions | allow | deny | input errors"
            )
        )?;
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            self.total, self.allow, self.deny, self.input_errors
        )?;
        let count = say(language, "antal", "count");
        let ai = say(language, "AI-system", "AI system");
        for (title, column, counts, paragraphs) in self.count_tables(language) {
            let title = capitalized(title);
            if counts.is_empty() {
                continue;
            }
            writeln!(out, "\n## {title}\n\n| {column} | {count} |\n|---|---:|")?;
            let mut rows = sorted(counts);
            if paragraphs {
                rows.sort_by_key(|(code, _)| paragraph_order(code));
            }
            for (key, n) in rows {
                writeln!(
                    out,
                    "| {} | {n} |",
                    md_escape(&shown_key(key, paragraphs, language))
                )?;
            }
        }
        if let Some(shadow) = &self.shadow_ai {
            writeln!(
                out,
                "\n## {}\n\n{}\n",
                say(language, "Skugg-AI", "Shadow AI"),
                md_escape(&self.shadow_intro(shadow, language))
            )?;
            if shadow.systems.is_empty() {
                writeln!(out, "{}", say(language, "Inga.", "None."))?;
            } else {
                writeln!(
                    out,
                    "| {ai} | {} |\n|---|---:|---:|---|---|---|---|---|",
                    say(
                        language,
                        "beslut | nekade | först | sist | anropare | förvaltningar | närmast i registret",
                        "decisions | denied | first | last | callers | units | closest listed"
                    )
                )?;
                for (name, system) in shadow.sorted() {
                    let list = |counts: &BTreeMap<String, u64>| listed_counts(counts, language);
                    writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | {} | {} | {} |",
                        md_escape(name),
                        system.decisions,
                        system.deny,
                        system.first,
                        system.last,
                        md_escape(&list(&system.by_caller)),
                        md_escape(&list(&system.by_unit)),
                        md_escape(system.closest_listed.as_deref().unwrap_or(""))
                    )?;
                }
            }
        }
        if !self.policy_revisions.is_empty() {
            writeln!(
                out,
                "\n## {}\n\n| {} |\n|---|---|---|---:|",
                say(
                    language,
                    "Policyrevisioner i kraft",
                    "Policy revisions in force"
                ),
                say(
                    language,
                    "revision | första | sista | beslut",
                    "revision | first | last | decisions"
                )
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

    /// `poster från … till …` / `records from … to …` (or that the range holds none).
    pub fn period(&self, language: Language) -> String {
        let sv = language == Language::Sv;
        let asked = match (&self.since, &self.until) {
            (None, None) => String::new(),
            (since, until) => {
                let since = since
                    .as_deref()
                    .unwrap_or(say(language, "början", "the start"));
                let until = until.as_deref().unwrap_or(say(language, "nu", "now"));
                if sv {
                    format!(" (begärt: {since} till {until})")
                } else {
                    format!(" (asked: {since} to {until})")
                }
            }
        };
        match (&self.first, &self.last, sv) {
            (Some(first), Some(last), true) => format!("poster från {first} till {last}{asked}"),
            (Some(first), Some(last), false) => format!("records from {first} to {last}{asked}"),
            (_, _, true) => format!("inga poster{asked}"),
            (_, _, false) => format!("no records{asked}"),
        }
    }
}

/// Paragraphs in the document's order (§1 … §6, U0 … U5), any other code after.
pub(crate) fn paragraph_order(code: &str) -> (usize, String) {
    let at = code
        .parse::<Paragraph>()
        .ok()
        .and_then(|p| Paragraph::ALL.iter().position(|q| *q == p))
        .unwrap_or(Paragraph::ALL.len());
    (at, code.to_string())
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

/// The counts of a selection (the filter values no record held are in its `filters`).
pub fn summary(
    source: &mut dyn Source,
    selection: &Selection,
    progress: Progress<'_>,
) -> Result<Summary, LogError> {
    let mut summary = selection.summary();
    let mut counting = Counting::new(selection);
    for_each_record(source, &selection.range, progress, &mut |record| {
        counting.add(selection, &mut summary, record);
        Ok(())
    })?;
    counting.finish(selection, &mut summary);
    Ok(summary)
}

/// The filter values of `selection` that no record of its range holds (read before an
/// export, so that a slip is refused before anything is written).
pub fn unmatched(
    source: &mut dyn Source,
    selection: &Selection,
    progress: Progress<'_>,
) -> Result<Vec<Unmatched>, LogError> {
    let mut seen = Seen::for_filter(&selection.filter);
    for_each_record(source, &selection.range, progress, &mut |record| {
        seen.add(record);
        Ok(())
    })?;
    Ok(seen.unmatched(&selection.filter, &selection.also_known()))
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

/// Writes every record of the selection (its range, that passes its filters) to `out` in
/// `format`; returns how many.
pub fn export(
    source: &mut dyn Source,
    selection: &Selection,
    format: ExportFormat,
    out: &mut dyn Write,
    progress: Progress<'_>,
) -> Result<u64, LogError> {
    let write_error = |e: &dyn std::fmt::Display| LogError(format!("cannot write the export: {e}"));
    match format {
        ExportFormat::Jsonl => {
            let mut out = std::io::BufWriter::new(out);
            let mut count = 0;
            for_each_record(source, &selection.range, progress, &mut |record| {
                if !selection.filter.matches(record) {
                    return Ok(());
                }
                count += 1;
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
            let mut count = 0;
            for_each_record(source, &selection.range, progress, &mut |r| {
                if !selection.filter.matches(r) {
                    return Ok(());
                }
                count += 1;
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
