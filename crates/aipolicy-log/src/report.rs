//! `aipolicy audit report --format html`: one self-contained page for a revision (the audit,
//! not the policy's): whether the chain is whole, the totals, the denies per paragraph over
//! time as a chart, the AI systems most often asked beyond their approval, the units, the
//! kinds of information found in the queries' texts and the policy revisions in force. No
//! script, no fetched resource; printable.

use std::collections::BTreeMap;
use std::str::FromStr;

use aipolicy::log::{BreakKind, ChainBreak, ChainVerifier, LogError};
use aipolicy::{Language, Paragraph};
use jiff::civil::DateTime;
use jiff::{Span, Unit};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use plotters::prelude::*;

use crate::audit::{
    listed_counts, paragraph_order, say, shown_key, sorted, Counting, Progress, Selection, Summary,
    Verification, BEYOND_APPROVAL, PROGRESS_EVERY,
};
use crate::{Source, TimeRange};

/// What the page shows.
#[derive(Debug, Clone)]
pub struct Report {
    /// The log's name.
    pub log: String,
    /// The chain's check over the whole log.
    pub verification: Verification,
    /// The counts of the selection.
    pub summary: Summary,
    /// Denies per hour (`YYYY-MM-DDTHH`, UTC), by paragraph: the chart's buckets are made
    /// from them.
    pub denies_per_hour: BTreeMap<String, BTreeMap<String, u64>>,
    /// When the page was made.
    pub made_at: String,
}

/// Reads the whole log once: checks the chain, and counts the records of the selection.
pub fn collect(
    log: &str,
    source: &mut dyn Source,
    selection: &Selection,
    progress: Progress<'_>,
) -> Result<Report, LogError> {
    let anchor = source.anchor()?;
    let total = source.count(&TimeRange::default())?;
    let mut verifier = ChainVerifier::new(&anchor);
    let mut broken = None;
    let mut summary = selection.summary();
    let mut counting = Counting::new(selection);
    let mut denies_per_hour: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut read = 0u64;
    source.scan(&TimeRange::default(), &mut |record| {
        read += 1;
        if read.is_multiple_of(PROGRESS_EVERY) {
            progress(read, total);
        }
        let record = match record {
            Ok(record) => record,
            Err(what) => {
                broken.get_or_insert(Verification::Unreadable {
                    position: read,
                    what,
                });
                return true;
            }
        };
        if broken.is_none() {
            if let Err(b) = verifier.check(&record) {
                broken = Some(Verification::Broken(b));
            }
        }
        if !selection.range.contains(&record.time) {
            return true;
        }
        if !counting.add(selection, &mut summary, &record) {
            return true;
        }
        if record.is_deny() && !crate::audit::is_input_error(&record) {
            let hour = record.time.get(..13).unwrap_or("?").to_string();
            let per = denies_per_hour.entry(hour).or_default();
            for paragraph in crate::audit::deny_paragraphs(&record) {
                *per.entry(paragraph.to_string()).or_default() += 1;
            }
        }
        true
    })?;
    counting.finish(selection, &mut summary);
    let verification = broken.unwrap_or_else(|| Verification::Whole {
        verified: verifier.finish(),
        anchor,
    });
    Ok(Report {
        log: log.to_string(),
        verification,
        summary,
        denies_per_hour,
        made_at: aipolicy::log::rfc3339(std::time::SystemTime::now()),
    })
}

/// The width of the chart's buckets, chosen by the span it covers: hours for a day, days for
/// a month, weeks for a quarter or half-year, months for a year and more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One bar of an hour (a span of at most two days; whole days are shown).
    Hour,
    /// A day (at most 92 days).
    Day,
    /// An ISO week, Monday to Sunday (at most 27 weeks).
    Week,
    /// A calendar month.
    Month,
}

impl Step {
    /// The step for a span from `first` to `last`.
    pub fn for_span(first: DateTime, last: DateTime) -> Step {
        let hours = first
            .until(last)
            .ok()
            .and_then(|span| span.total((Unit::Hour, first)).ok())
            .unwrap_or(0.0);
        if hours <= 48.0 {
            Step::Hour
        } else if hours <= 92.0 * 24.0 {
            Step::Day
        } else if hours <= 190.0 * 24.0 {
            Step::Week
        } else {
            Step::Month
        }
    }

    /// The bucket `time` falls in (its start).
    fn floor(self, time: DateTime) -> DateTime {
        let date = time.date();
        let start = match self {
            Step::Hour => return date.at(time.hour(), 0, 0, 0),
            Step::Day => date,
            Step::Week => date
                .checked_sub(Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
                .unwrap_or(date),
            Step::Month => date.first_of_month(),
        };
        start.to_datetime(jiff::civil::Time::midnight())
    }

    fn next(self, start: DateTime) -> Option<DateTime> {
        let span = match self {
            Step::Hour => Span::new().hours(1),
            Step::Day => Span::new().days(1),
            Step::Week => Span::new().weeks(1),
            Step::Month => Span::new().months(1),
        };
        start.checked_add(span).ok()
    }

    /// The x axis's title.
    pub fn axis(self, language: Language) -> &'static str {
        match self {
            Step::Hour => say(language, "timme (UTC)", "hour (UTC)"),
            Step::Day => say(language, "dag (UTC)", "day (UTC)"),
            Step::Week => say(
                language,
                "vecka (ISO, måndag–söndag, UTC)",
                "week (ISO, Monday–Sunday, UTC)",
            ),
            Step::Month => say(language, "månad (UTC)", "month (UTC)"),
        }
    }

    /// What one point of the chart counts, for its caption.
    pub fn per(self, language: Language) -> &'static str {
        match self {
            Step::Hour => say(language, "per timme", "per hour"),
            Step::Day => say(language, "per dag", "per day"),
            Step::Week => say(language, "per vecka", "per week"),
            Step::Month => say(language, "per månad", "per month"),
        }
    }

    /// The label of the bucket starting at `start` (`several_days`: an hour's label names
    /// its day too; `several_years`: a week's or a day's its year).
    fn label(self, start: DateTime, several: bool, language: Language) -> String {
        match self {
            Step::Hour if several => format!(
                "{:02}-{:02} {:02}:00",
                start.month(),
                start.day(),
                start.hour()
            ),
            Step::Hour => format!("{:02}:00", start.hour()),
            Step::Day if several => start.date().to_string(),
            Step::Day => format!("{:02}-{:02}", start.month(), start.day()),
            Step::Week => {
                let week = start.date().iso_week_date();
                let w = say(language, "v", "w");
                if several {
                    format!("{} {w}{}", week.year(), week.week())
                } else {
                    format!("{w}{}", week.week())
                }
            }
            Step::Month => format!("{}-{:02}", start.year(), start.month()),
        }
    }
}

/// The chart's buckets: every step from the span's first to its last, empty ones included
/// (so that a quiet hour reads as zero, not as a line drawn past it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// The buckets' width.
    pub step: Step,
    /// Each bucket's label and its denies by paragraph, in time order.
    pub buckets: Vec<(String, BTreeMap<String, u64>)>,
}

/// A log time (`2026-11-25T14:03:07.123Z`, or its first 13 characters, an hour) as a civil
/// time in UTC.
fn civil(time: &str) -> Option<DateTime> {
    let hour = time.get(..13)?;
    format!("{hour}:00:00").parse::<DateTime>().ok()
}

/// The buckets of denies per hour over `first` to `last` (log times: the range asked for, or
/// else the first and last record); `None` when they cannot be read.
pub fn timeline(
    per_hour: &BTreeMap<String, BTreeMap<String, u64>>,
    first: &str,
    last: &str,
    language: Language,
) -> Option<Timeline> {
    let (first, last) = (civil(first)?, civil(last)?);
    let step = Step::for_span(first, last);
    let (mut at, end) = match step {
        // Whole days: a day's chart runs from midnight to midnight.
        Step::Hour => (
            Step::Day.floor(first),
            Step::Day.next(Step::Day.floor(last))?,
        ),
        _ => (step.floor(first), step.next(step.floor(last))?),
    };
    let several = match step {
        Step::Hour => first.date() != last.date(),
        _ => first.year() != last.year(),
    };
    let mut starts = Vec::new();
    while at < end && starts.len() < 10_000 {
        starts.push(at);
        at = step.next(at)?;
    }
    let mut buckets: Vec<(String, BTreeMap<String, u64>)> = starts
        .iter()
        .map(|s| (step.label(*s, several, language), BTreeMap::new()))
        .collect();
    for (hour, counts) in per_hour {
        let Some(time) = civil(hour) else { continue };
        let start = step.floor(time);
        let Ok(at) = starts.binary_search(&start) else {
            continue;
        };
        if let Some((_, bucket)) = buckets.get_mut(at) {
            for (paragraph, n) in counts {
                *bucket.entry(paragraph.clone()).or_default() += n;
            }
        }
    }
    Some(Timeline { step, buckets })
}

/// The chart of denies per paragraph over time, as SVG (plotters' SVG backend), with both
/// axes titled; `None` without denies.
pub fn chart(timeline: &Timeline, language: Language) -> Option<String> {
    if timeline.buckets.iter().all(|(_, c)| c.is_empty()) {
        return None;
    }
    let buckets = &timeline.buckets;
    let labels: Vec<&String> = buckets.iter().map(|(label, _)| label).collect();
    let mut paragraphs: Vec<&str> = buckets
        .iter()
        .flat_map(|(_, counts)| counts.keys().map(String::as_str))
        .collect();
    paragraphs.sort_by_key(|p| paragraph_order(p));
    paragraphs.dedup();
    let max = buckets
        .iter()
        .flat_map(|(_, c)| c.values())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 400)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let last = labels.len().saturating_sub(1).max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(52)
            .y_label_area_size(64)
            .build_cartesian_2d(0usize..last, 0u64..(max + max / 10 + 1))
            .ok()?;
        let label_at = |i: &usize| labels.get(*i).map(|s| s.to_string()).unwrap_or_default();
        chart
            .configure_mesh()
            .x_labels(labels.len().min(13))
            .x_label_formatter(&label_at)
            .y_labels(((max + 1) as usize).min(10))
            .y_label_formatter(&|y: &u64| y.to_string())
            .x_desc(timeline.step.axis(language))
            .y_desc(say(
                language,
                "nekanden under paragrafen",
                "denies under the paragraph",
            ))
            .light_line_style(RGBColor(238, 238, 238))
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .ok()?;
        for (i, paragraph) in paragraphs.iter().enumerate() {
            let color = COLORS[i % COLORS.len()].to_rgba();
            let points: Vec<(usize, u64)> = buckets
                .iter()
                .enumerate()
                .map(|(x, (_, counts))| (x, counts.get(*paragraph).copied().unwrap_or(0)))
                .collect();
            let marked = points.clone();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .ok()?
                .label(paragraph_label(paragraph, language))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            // A point where a bucket has denies, so that a single hour's shows as one.
            chart
                .draw_series(
                    marked
                        .into_iter()
                        .filter(|(_, n)| *n > 0)
                        .map(|p| Circle::new(p, 3, color.filled())),
                )
                .ok()?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

fn paragraph_label(code: &str, language: Language) -> String {
    shown_key(code, true, language)
}

/// Line colours that read on white and on a black-and-white print (dark, far apart).
const COLORS: [RGBColor; 8] = [
    RGBColor(0, 90, 181),
    RGBColor(220, 50, 32),
    RGBColor(0, 140, 70),
    RGBColor(120, 60, 160),
    RGBColor(200, 110, 0),
    RGBColor(0, 0, 0),
    RGBColor(0, 150, 160),
    RGBColor(150, 80, 40),
];

const STYLE: &str = r#"
body { font-family: system-ui, "Segoe UI", Arial, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: #111; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #bbb; }
.meta { color: #444; margin-top: 0; }
.filters { border-left: 6px solid #05a; padding: .4rem .8rem; background: #eef3fb; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid #bbb; padding: .25rem .6rem; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { border-left: 6px solid #2a7; padding: .4rem .8rem; background: #eef8f1; }
.bad { border-left: 6px solid #c22; padding: .4rem .8rem; background: #fbeeee; }
.totals td { font-size: 1.3rem; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, figure { break-inside: avoid; } }
"#;

/// The span the chart covers: the range asked for where given, else the first and last
/// record.
fn chart_span(s: &Summary) -> Option<(String, String)> {
    let first = s.since.clone().or_else(|| s.first.clone())?;
    // `--until` is exclusive: the chart ends at the millisecond before it.
    let last = match &s.until {
        Some(until) => until
            .parse::<jiff::Timestamp>()
            .ok()
            .and_then(|t| t.checked_sub(Span::new().milliseconds(1)).ok())
            .map(|t| aipolicy::log::rfc3339(std::time::SystemTime::from(t)))?,
        None => s.last.clone()?,
    };
    Some((first, last))
}

/// The page, in `language` (Swedish by default, English with `--lang en`).
pub fn html(report: &Report, language: Language) -> String {
    let s = &report.summary;
    let timeline = chart_span(s)
        .and_then(|(first, last)| timeline(&report.denies_per_hour, &first, &last, language));
    let chart = timeline.as_ref().and_then(|t| chart(t, language));
    let beyond = sorted(&s.beyond_approval_by_ai_system);
    let none = say(language, "Inga under perioden.", "None in the period.");
    let decisions = say(language, "Beslut", "Decisions");
    let page: Markup = html! {
        (DOCTYPE)
        html lang=(language.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (say(language, "Beslutslogg: granskning – aipolicy", "Decision log: audit – aipolicy")) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (say(language, "Beslutslogg: tillsyn och revision", "Decision log: supervision and revision")) }
                p.meta {
                    (say(language, "Logg ", "Log ")) code { (report.log) } " · " (s.period(language))
                    " · " (say(language, "skapad ", "made ")) (report.made_at)
                }
                @if let Some(filters) = &s.filters {
                    p.filters {
                        strong { (say(language, "Urval: ", "Filters: ")) }
                        (filters.describe(language))
                        ". " (say(language, "Alla tal nedan gäller bara de poster som urvalet tar med.", "Every count below covers only the records the filters take."))
                        @for unmatched in &filters.unmatched {
                            br; (say(language, "Obs: ", "Note: ")) (unmatched.message(language)) "."
                        }
                    }
                }
                (verification(&report.verification, language))
                h2 { (say(language, "Totalt", "Totals")) }
                table.totals {
                    tr { th { (decisions) } th { (say(language, "Tillåtna", "Allowed")) } th { (say(language, "Nekade", "Denied")) } th { (say(language, "Felaktiga frågor", "Input errors")) } }
                    tr { td.n { (s.total) } td.n { (s.allow) } td.n { (s.deny) } td.n { (s.input_errors) } }
                }
                h2 { (say(language, "Nekanden per paragraf över tid", "Denies per paragraph over time")) }
                @match (&chart, &timeline) {
                    (Some(svg), Some(t)) => figure {
                        (PreEscaped(svg))
                        figcaption {
                            (say(language, "Antal nekanden ", "Denies ")) (t.step.per(language))
                            (say(language, " under varje paragraf i policyn (ett nekande med skäl under två paragrafer räknas under båda); tider i UTC.",
                                " under each paragraph of the policy (a deny with reasons under two paragraphs counts under both); times in UTC."))
                        }
                    },
                    _ => p { (say(language, "Inga nekanden under perioden.", "No denies in the period.")) },
                }
                (counts_table(say(language, "Nekanden per paragraf", "Denies by paragraph"), say(language, "Paragraf", "Paragraph"), &s.by_paragraph, true, language))
                (counts_table(say(language, "Nekanden per regel", "Denies by rule"), say(language, "Regel (@id)", "Rule (@id)"), &s.by_rule, false, language))
                h2 { (say(language, "AI-system som oftast tillfrågas utöver sitt godkännande", "AI systems most often asked beyond their approval")) }
                p.meta { (say(language, "Nekanden under ", "Denies under ")) (BEYOND_APPROVAL.join(", ")) (say(language,
                    ": information över systemets godkända nivå, personuppgifter eller sekretess utöver godkännandet, användare utanför dess grupper, icke beslutad eller publik AI med annat än öppen information.",
                    ": information above the system's approved level, personal or secrecy data beyond its approval, users outside its groups, AI not decided on or public AI with anything but open information.")) }
                @if beyond.is_empty() {
                    p { (none) }
                } @else {
                    table {
                        tr { th { (say(language, "AI-system", "AI system")) } th.n { (say(language, "Nekanden utöver godkännande", "Denies beyond approval")) } th.n { (say(language, "Alla beslut", "All decisions")) } }
                        @for (ai, count) in beyond.iter().take(15) {
                            tr { td { code { (ai) } } td.n { (count) } td.n { (s.by_ai_system.get(*ai).copied().unwrap_or(0)) } }
                        }
                    }
                }
                (shadow_section(s, language))
                h2 { (say(language, "Förvaltningar", "Units")) }
                table {
                    tr { th { (say(language, "Förvaltning", "Unit")) } th.n { (decisions) } th.n { (say(language, "Nekade", "Denied")) } }
                    @for (unit, count) in sorted(&s.by_unit) {
                        tr { td { (shown_key(unit, false, language)) } td.n { (count) } td.n { (s.deny_by_unit.get(unit).copied().unwrap_or(0)) } }
                    }
                }
                (counts_table(say(language, "Anropare", "Callers"), say(language, "Anropare", "Caller"), &s.by_caller, false, language))
                (counts_table(say(language, "Handlingar", "Actions"), say(language, "Handling (action)", "Action"), &s.by_action, false, language))
                (found_table(&s.by_found, language))
                h2 { (say(language, "Policyrevisioner i kraft", "Policy revisions in force")) }
                @if s.policy_revisions.is_empty() {
                    p { (say(language, "Inga beslut under perioden.", "No decisions in the period.")) }
                } @else {
                    table {
                        tr { th { "Revision (policyRevision)" } th { (say(language, "Första beslut", "First decision")) } th { (say(language, "Sista beslut", "Last decision")) } th.n { (decisions) } }
                        @for (revision, span) in &s.policy_revisions {
                            tr { td { code { (revision) } } td { (span.first) } td { (span.last) } td.n { (span.decisions) } }
                        }
                    }
                }
                p.meta { (say(language,
                    "Loggen innehåller inte informationen själv, bara vilka informationsklasser beslutet gällde och vilka slag av uppgifter som hittades i frågans text, aldrig texten.",
                    "The log holds no information itself, only the ids of the data classes the decision was made on and the kinds of information found in the query's text, never the text.")) }
            }
        }
    };
    page.into_string()
}

/// AI systems asked about that the register does not list.
fn shadow_section(s: &Summary, language: Language) -> Markup {
    let Some(shadow) = &s.shadow_ai else {
        return html! {};
    };
    html! {
        h2 { (say(language, "Skugg-AI: AI-system som registret inte listar", "Shadow AI: AI systems the register does not list")) }
        p.meta { (s.shadow_intro(shadow, language)) }
        @if shadow.systems.is_empty() {
            p { (say(language, "Inga under perioden: varje tillfrågat AI-system finns i registret.", "None in the period: every AI system asked about is in the register.")) }
        } @else {
            table {
                tr {
                    th { (say(language, "AI-system", "AI system")) } th.n { (say(language, "Beslut", "Decisions")) } th.n { (say(language, "Nekade", "Denied")) }
                    th { (say(language, "Först", "First")) } th { (say(language, "Sist", "Last")) }
                    th { (say(language, "Anropare", "Callers")) } th { (say(language, "Förvaltningar", "Units")) }
                    th { (say(language, "Närmast i registret", "Closest listed")) }
                }
                @for (name, system) in shadow.sorted() {
                    tr {
                        td { code { (name) } } td.n { (system.decisions) } td.n { (system.deny) }
                        td { (system.first) } td { (system.last) }
                        td { (listed_counts(&system.by_caller, language)) }
                        td { (listed_counts(&system.by_unit, language)) }
                        td { @if let Some(close) = &system.closest_listed { code { (close) } } }
                    }
                }
            }
        }
    }
}

fn verification(v: &Verification, language: Language) -> Markup {
    let sv = language == Language::Sv;
    match v {
        Verification::Whole { verified, anchor } => html! {
            p.ok {
                @if sv {
                    strong { "Kedjan är hel: " } (verified.records) " poster kontrollerade"
                    @if anchor.purged > 0 { ", efter att " (anchor.purged) " äldre poster gallrats enligt lagringstiden" }
                    @if let Some(last) = &verified.last_hash { ". Sista hash " code { (last) } " (anteckna den: en senare kontroll visar att loggen fortfarande slutar där)" }
                } @else {
                    strong { "The hash chain is whole: " } (verified.records) " record(s) checked"
                    @if anchor.purged > 0 { ", after " (anchor.purged) " older record(s) purged by the retention" }
                    @if let Some(last) = &verified.last_hash { ". Last hash " code { (last) } " (note it: a later check shows the log still ends there)" }
                }
                "."
            }
        },
        Verification::Broken(broken) => html! {
            p.bad { strong { (say(language, "Kedjan är bruten: ", "The hash chain is broken: ")) } (chain_break(broken, language)) ". " (say(language, "Talen nedan räknar med poster efter brottet.", "Counts below include records after the break.")) }
        },
        Verification::Unreadable { position, what } => html! {
            p.bad {
                strong { (say(language, "Kedjan är bruten: ", "The hash chain is broken: ")) }
                @if sv {
                    "post " (position) " (" (what.location) ") kan inte läsas som en post (" (what.message) ")."
                } @else {
                    "record " (position) ", " (what.to_string()) "."
                }
            }
        },
    }
}

/// Where and how the chain breaks, in the language.
fn chain_break(broken: &ChainBreak, language: Language) -> String {
    if language == Language::En {
        return broken.to_string();
    }
    let record = format!(
        "post {} (decisionId {}, tid {})",
        broken.position, broken.decision_id, broken.time
    );
    match &broken.kind {
        BreakKind::Edited => format!(
            "{record} ändrades efter att den skrevs: dess innehåll ger inte dess hash"
        ),
        BreakKind::NotLinked { .. } if broken.position == 1 => format!(
            "{record} är inte där loggen börjar: poster före den togs bort, eller den lades till"
        ),
        BreakKind::NotLinked { .. } => format!(
            "{record} följer inte post {}: en post mellan dem togs bort, eller en av dem lades till",
            broken.position - 1
        ),
        BreakKind::Duplicate => format!(
            "{record} upprepar en tidigare posts decisionId: en kopia lades till"
        ),
    }
}

/// What a kind found in a text is, in the language (`personnummer`: "ett personnummer");
/// empty for a kind this version does not know.
fn kind_described(kind: &str, language: Language) -> String {
    use aipolicy::model::text_classes::{PATTERN_KIND, WORD_KIND};
    match kind {
        PATTERN_KIND => say(
            language,
            "registrets eget mönster",
            "the register's own pattern",
        )
        .to_string(),
        WORD_KIND => say(language, "registrets egna ord", "the register's own words").to_string(),
        _ => aipolicy::text::Kind::from_name(kind).map_or_else(String::new, |k| {
            k.described(language == Language::Sv).to_string()
        }),
    }
}

/// The records by the kinds of information found in their texts.
fn found_table(by_found: &BTreeMap<String, u64>, language: Language) -> Markup {
    html! {
        h2 { (say(language, "Hittat i texten", "Found in the text")) }
        p.meta { (say(language,
            "Beslut vars fråga hade en text där uppgifter av slaget hittades (ett beslut räknas under varje slag som hittades). Bara slaget loggas, aldrig texten eller var i den.",
            "Decisions whose query had a text in which information of the kind was found (a decision counts under each kind found). Only the kind is logged, never the text nor where in it.")) }
        @if by_found.is_empty() {
            p { (say(language, "Inga under perioden.", "None in the period.")) }
        } @else {
            table {
                tr { th { (say(language, "Slag (found)", "Kind (found)")) } th { (say(language, "Vad det är", "What it is")) } th.n { (say(language, "Beslut", "Decisions")) } }
                @for (kind, count) in sorted(by_found) {
                    tr { td { code { (kind) } } td { (kind_described(kind, language)) } td.n { (count) } }
                }
            }
        }
    }
}

fn counts_table(
    title: &str,
    column: &str,
    counts: &BTreeMap<String, u64>,
    paragraphs: bool,
    language: Language,
) -> Markup {
    let mut rows = sorted(counts);
    if paragraphs {
        rows.sort_by_key(|(code, _)| paragraph_order(code));
    }
    html! {
        h2 { (title) }
        @if rows.is_empty() {
            p { (say(language, "Inga under perioden.", "None in the period.")) }
        } @else {
            table {
                tr { th { (column) } @if paragraphs { th { (say(language, "Rubrik", "Heading")) } } th.n { (say(language, "Antal", "Count")) } }
                @for (key, count) in rows {
                    tr { td { (key) } @if paragraphs { td { (paragraph_title(key, language)) } } td.n { (count) } }
                }
            }
        }
    }
}

fn paragraph_title(code: &str, language: Language) -> &'static str {
    Paragraph::from_str(code).map_or("", |p| p.title(language))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Denies per hour at these times, each under `§3`.
    fn per_hour(times: &[&str]) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut per = BTreeMap::new();
        for time in times {
            let hour: &mut BTreeMap<String, u64> =
                per.entry(time.get(..13).unwrap().to_string()).or_default();
            *hour.entry("§3".to_string()).or_default() += 1;
        }
        per
    }

    fn counts(timeline: &Timeline) -> Vec<u64> {
        timeline
            .buckets
            .iter()
            .map(|(_, c)| c.values().sum())
            .collect()
    }

    #[test]
    fn a_day_is_charted_by_the_hour_from_midnight_to_midnight() {
        let times = [
            "2026-12-07T08:05:00.000Z",
            "2026-12-07T08:55:00.000Z",
            "2026-12-07T13:30:00.000Z",
            "2026-12-07T16:59:59.999Z",
        ];
        let t = timeline(&per_hour(&times), times[0], times[3], Language::Sv).unwrap();
        assert_eq!(t.step, Step::Hour);
        assert_eq!(t.buckets.len(), 24);
        assert_eq!(t.buckets[0].0, "00:00");
        assert_eq!(t.buckets[8].0, "08:00");
        let n = counts(&t);
        assert_eq!((n[8], n[13], n[16]), (2, 1, 1));
        assert_eq!(n.iter().sum::<u64>(), 4, "quiet hours are zero: {n:?}");
        let svg = chart(&t, Language::Sv).unwrap();
        assert!(svg.contains("timme (UTC)") && svg.contains("nekanden under paragrafen"));
        assert!(svg.contains("08:00"), "hours label the x axis");
        let svg = chart(&t, Language::En).unwrap();
        assert!(svg.contains("hour (UTC)") && svg.contains("denies under the paragraph"));
        assert!(!svg.contains("timme"));
    }

    #[test]
    fn a_month_is_charted_by_the_day() {
        let times = [
            "2026-11-01T09:00:00.000Z",
            "2026-11-15T10:00:00.000Z",
            "2026-11-15T11:00:00.000Z",
            "2026-11-30T23:00:00.000Z",
        ];
        let t = timeline(&per_hour(&times), times[0], times[3], Language::Sv).unwrap();
        assert_eq!(t.step, Step::Day);
        assert_eq!(t.buckets.len(), 30);
        assert_eq!(t.buckets[14].0, "11-15");
        let n = counts(&t);
        assert_eq!((n[0], n[14], n[29]), (1, 2, 1));
        assert!(chart(&t, Language::Sv).unwrap().contains("dag (UTC)"));
    }

    #[test]
    fn a_year_is_charted_by_the_month_and_half_a_year_by_the_week() {
        let times = [
            "2026-01-03T09:00:00.000Z",
            "2026-03-10T10:00:00.000Z",
            "2026-03-20T10:00:00.000Z",
            "2026-12-30T10:00:00.000Z",
        ];
        let t = timeline(&per_hour(&times), times[0], times[3], Language::Sv).unwrap();
        assert_eq!(t.step, Step::Month);
        assert_eq!(t.buckets.len(), 12);
        assert_eq!(t.buckets[2].0, "2026-03");
        assert_eq!(counts(&t), [1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert!(chart(&t, Language::Sv).unwrap().contains("månad (UTC)"));
        // Half a year: ISO weeks, Monday to Sunday (2026-03-10 and -11 are in week 11).
        let quarter = [
            "2026-01-05T09:00:00.000Z",
            "2026-03-10T10:00:00.000Z",
            "2026-03-11T10:00:00.000Z",
        ];
        let t = timeline(
            &per_hour(&quarter),
            quarter[0],
            "2026-06-30T00:00:00.000Z",
            Language::En,
        )
        .unwrap();
        assert_eq!(t.step, Step::Week);
        assert_eq!(t.buckets[0].0, "w2");
        let week11 = t.buckets.iter().position(|(l, _)| l == "w11").unwrap();
        assert_eq!(counts(&t)[week11], 2);
        assert!(chart(&t, Language::En).unwrap().contains("week (ISO"));
    }

    #[test]
    fn a_single_deny_is_drawn_as_a_point_not_a_line_across() {
        let times = ["2026-12-07T10:00:00.000Z"];
        let t = timeline(&per_hour(&times), times[0], times[0], Language::Sv).unwrap();
        assert_eq!((t.step, t.buckets.len()), (Step::Hour, 24));
        let svg = chart(&t, Language::Sv).unwrap();
        assert!(svg.contains("<circle"), "the hour's deny is marked");
    }
}
