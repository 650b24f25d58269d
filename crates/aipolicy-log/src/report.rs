//! `aipolicy audit report --format html`: one self-contained page for a revision (the audit,
//! not the policy's): whether the chain is whole, the totals, the denies per paragraph over
//! time as a chart, the AI systems most often asked beyond their approval, the units, the
//! kinds of information found in the queries' texts and the policy revisions in force. No
//! script, no fetched resource; printable.

use std::collections::BTreeMap;
use std::str::FromStr;

use aipolicy::log::{ChainVerifier, LogError};
use aipolicy::Paragraph;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use plotters::prelude::*;

use crate::audit::{sorted, Progress, Summary, Verification, BEYOND_APPROVAL, PROGRESS_EVERY};
use crate::{Source, TimeRange};

/// What the page shows.
#[derive(Debug, Clone)]
pub struct Report {
    /// The log's name.
    pub log: String,
    /// The chain's check over the whole log.
    pub verification: Verification,
    /// The counts of the range.
    pub summary: Summary,
    /// Denies per day (`YYYY-MM-DD`), by paragraph.
    pub denies_per_day: BTreeMap<String, BTreeMap<String, u64>>,
    /// When the page was made.
    pub made_at: String,
}

/// Reads the whole log once: checks the chain, and counts the records of `range`.
pub fn collect(
    log: &str,
    source: &mut dyn Source,
    range: &TimeRange,
    progress: Progress<'_>,
) -> Result<Report, LogError> {
    let anchor = source.anchor()?;
    let total = source.count(&TimeRange::default())?;
    let mut verifier = ChainVerifier::new(&anchor);
    let mut broken = None;
    let mut summary = Summary {
        since: range.since.clone(),
        until: range.until.clone(),
        ..Summary::default()
    };
    let mut denies_per_day: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
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
        if !range.contains(&record.time) {
            return true;
        }
        summary.add(&record);
        if record.is_deny() && !crate::audit::is_input_error(&record) {
            let day = record.time.get(..10).unwrap_or("?").to_string();
            let per = denies_per_day.entry(day).or_default();
            for paragraph in crate::audit::deny_paragraphs(&record) {
                *per.entry(paragraph.to_string()).or_default() += 1;
            }
        }
        true
    })?;
    let verification = broken.unwrap_or_else(|| Verification::Whole {
        verified: verifier.finish(),
        anchor,
    });
    Ok(Report {
        log: log.to_string(),
        verification,
        summary,
        denies_per_day,
        made_at: aipolicy::log::rfc3339(std::time::SystemTime::now()),
    })
}

/// Days, weeks or months: the chart's buckets, so that a long period still reads.
fn buckets(
    per_day: &BTreeMap<String, BTreeMap<String, u64>>,
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let days = per_day.len();
    if days <= 62 {
        return per_day.clone();
    }
    // Months: the first seven characters of a date.
    let mut months: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (day, counts) in per_day {
        let month = months
            .entry(day.get(..7).unwrap_or(day).to_string())
            .or_default();
        for (paragraph, n) in counts {
            *month.entry(paragraph.clone()).or_default() += n;
        }
    }
    months
}

/// The chart of denies per paragraph over time, as SVG (plotters' SVG backend); `None`
/// without denies.
pub fn chart(per_day: &BTreeMap<String, BTreeMap<String, u64>>) -> Option<String> {
    if per_day.is_empty() {
        return None;
    }
    let buckets = buckets(per_day);
    let labels: Vec<&String> = buckets.keys().collect();
    let mut paragraphs: Vec<&str> = buckets
        .values()
        .flat_map(|counts| counts.keys().map(String::as_str))
        .collect();
    paragraphs.sort_by_key(|p| paragraph_order(p));
    paragraphs.dedup();
    let max = buckets
        .values()
        .flat_map(|c| c.values())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 380)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let last = labels.len().saturating_sub(1).max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0usize..last, 0u64..(max + max / 10 + 1))
            .ok()?;
        let label_at = |i: &usize| labels.get(*i).map(|s| s.to_string()).unwrap_or_default();
        chart
            .configure_mesh()
            .x_labels(labels.len().min(12))
            .x_label_formatter(&label_at)
            .y_desc("denies")
            .light_line_style(RGBColor(238, 238, 238))
            .label_style(("sans-serif", 13))
            .draw()
            .ok()?;
        for (i, paragraph) in paragraphs.iter().enumerate() {
            let color = COLORS[i % COLORS.len()].to_rgba();
            let points: Vec<(usize, u64)> = buckets
                .values()
                .enumerate()
                .map(|(x, counts)| (x, counts.get(*paragraph).copied().unwrap_or(0)))
                .collect();
            let series = if points.len() == 1 {
                // One day: a flat line across, so that it shows.
                vec![(0, points[0].1), (last, points[0].1)]
            } else {
                points
            };
            chart
                .draw_series(LineSeries::new(series, color.stroke_width(2)))
                .ok()?
                .label(paragraph.to_string())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
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

/// Paragraphs in the document's order (§1 … §6, U0 … U5), any other code after.
fn paragraph_order(code: &str) -> (usize, String) {
    let at = Paragraph::from_str(code)
        .ok()
        .and_then(|p| Paragraph::ALL.iter().position(|q| *q == p))
        .unwrap_or(Paragraph::ALL.len());
    (at, code.to_string())
}

fn paragraph_title(code: &str) -> &'static str {
    Paragraph::from_str(code).map_or("", |p| p.title_sv())
}

const STYLE: &str = r#"
body { font-family: system-ui, "Segoe UI", Arial, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: #111; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #bbb; }
.meta { color: #444; margin-top: 0; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid #bbb; padding: .25rem .6rem; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { border-left: 6px solid #2a7; padding: .4rem .8rem; background: #eef8f1; }
.bad { border-left: 6px solid #c22; padding: .4rem .8rem; background: #fbeeee; }
.totals td { font-size: 1.3rem; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, figure { break-inside: avoid; } }
"#;

/// The page.
pub fn html(report: &Report) -> String {
    let s = &report.summary;
    let chart = chart(&report.denies_per_day);
    let beyond = sorted(&s.beyond_approval_by_ai_system);
    let page: Markup = html! {
        (DOCTYPE)
        html lang="sv" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Beslutslogg: granskning – aipolicy" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Beslutslogg: tillsyn och revision" }
                p.meta {
                    "Decision log audit · logg " code { (report.log) } " · " (s.period())
                    " · skapad " (report.made_at)
                }
                (verification(&report.verification))
                h2 { "Totalt · Totals" }
                table.totals {
                    tr { th { "Beslut (decisions)" } th { "Tillåtna (allow)" } th { "Nekade (deny)" } th { "Felaktiga frågor (input errors)" } }
                    tr { td.n { (s.total) } td.n { (s.allow) } td.n { (s.deny) } td.n { (s.input_errors) } }
                }
                h2 { "Nekanden per paragraf över tid · Denies per paragraph over time" }
                @match &chart {
                    Some(svg) => figure { (PreEscaped(svg)) figcaption { "Antal nekanden per dag (per månad över längre perioder), per paragraf i policyn." } },
                    None => p { "Inga nekanden under perioden. No denies in the period." },
                }
                (counts_table("Nekanden per paragraf · Denies by paragraph", "Paragraf", &s.by_paragraph, true))
                h2 { "AI-system som oftast tillfrågas utöver sitt godkännande · AI systems most often asked beyond their approval" }
                p.meta { "Nekanden under " (BEYOND_APPROVAL.join(", ")) ": information över systemets godkända nivå, personuppgifter eller sekretess utöver godkännandet, användare utanför dess grupper, icke beslutad eller publik AI med annat än öppen information." }
                @if beyond.is_empty() {
                    p { "Inga under perioden. None in the period." }
                } @else {
                    table {
                        tr { th { "AI-system" } th.n { "Nekanden utöver godkännande" } th.n { "Alla beslut" } }
                        @for (ai, count) in beyond.iter().take(15) {
                            tr { td { code { (ai) } } td.n { (count) } td.n { (s.by_ai_system.get(*ai).copied().unwrap_or(0)) } }
                        }
                    }
                }
                h2 { "Förvaltningar · Units" }
                table {
                    tr { th { "Förvaltning (unit)" } th.n { "Beslut" } th.n { "Nekade" } }
                    @for (unit, count) in sorted(&s.by_unit) {
                        tr { td { (unit) } td.n { (count) } td.n { (s.deny_by_unit.get(unit).copied().unwrap_or(0)) } }
                    }
                }
                (counts_table("Handlingar · Actions", "Handling (action)", &s.by_action, false))
                (found_table(&s.by_found))
                h2 { "Policyrevisioner i kraft · Policy revisions in force" }
                @if s.policy_revisions.is_empty() {
                    p { "Inga beslut under perioden." }
                } @else {
                    table {
                        tr { th { "Revision (policyRevision)" } th { "Första beslut" } th { "Sista beslut" } th.n { "Beslut" } }
                        @for (revision, span) in &s.policy_revisions {
                            tr { td { code { (revision) } } td { (span.first) } td { (span.last) } td.n { (span.decisions) } }
                        }
                    }
                }
                p.meta { "Loggen innehåller inte informationen själv, bara vilka informationsklasser beslutet gällde och vilka slag av uppgifter som hittades i frågans text, aldrig texten. The log holds no information itself, only the ids of the data classes the decision was made on and the kinds of information found in the query's text, never the text." }
            }
        }
    };
    page.into_string()
}

fn verification(v: &Verification) -> Markup {
    match v {
        Verification::Whole { verified, anchor } => html! {
            p.ok {
                strong { "Kedjan är hel. " }
                "The hash chain is whole: " (verified.records) " record(s) checked"
                @if anchor.purged > 0 { ", after " (anchor.purged) " older record(s) purged by the retention" }
                @if let Some(last) = &verified.last_hash { ". Last hash " code { (last) } " (note it: a later check shows the log still ends there)" }
                "."
            }
        },
        Verification::Broken(broken) => html! {
            p.bad { strong { "Kedjan är bruten. The hash chain is broken: " } (broken.to_string()) ". Counts below include records after the break." }
        },
        Verification::Unreadable { position, what } => html! {
            p.bad { strong { "Kedjan är bruten. The hash chain is broken: " } "record " (position) ", " (what.to_string()) "." }
        },
    }
}

/// What a kind found in a text is, in Swedish and English (`personnummer`: "ett personnummer ·
/// a personal identity number"); empty for a kind this version does not know.
fn kind_described(kind: &str) -> String {
    use aipolicy::model::text_classes::{PATTERN_KIND, WORD_KIND};
    match kind {
        PATTERN_KIND => "registrets eget mönster · the register's own pattern".to_string(),
        WORD_KIND => "registrets egna ord · the register's own words".to_string(),
        _ => aipolicy::text::Kind::from_name(kind).map_or_else(String::new, |k| {
            format!("{} · {}", k.described(true), k.described(false))
        }),
    }
}

/// The records by the kinds of information found in their texts.
fn found_table(by_found: &BTreeMap<String, u64>) -> Markup {
    html! {
        h2 { "Hittat i texten · Found in the text" }
        p.meta { "Beslut vars fråga hade en text där uppgifter av slaget hittades (ett beslut räknas under varje slag som hittades). Bara slaget loggas, aldrig texten eller var i den. Decisions whose query had a text in which information of the kind was found; only the kind is logged, never the text." }
        @if by_found.is_empty() {
            p { "Inga under perioden. None in the period." }
        } @else {
            table {
                tr { th { "Slag (found)" } th { "Vad det är · What it is" } th.n { "Beslut" } }
                @for (kind, count) in sorted(by_found) {
                    tr { td { code { (kind) } } td { (kind_described(kind)) } td.n { (count) } }
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
) -> Markup {
    let mut rows = sorted(counts);
    if paragraphs {
        rows.sort_by_key(|(code, _)| paragraph_order(code));
    }
    html! {
        h2 { (title) }
        @if rows.is_empty() {
            p { "Inga under perioden. None in the period." }
        } @else {
            table {
                tr { th { (column) } @if paragraphs { th { "Rubrik" } } th.n { "Antal" } }
                @for (key, count) in rows {
                    tr { td { (key) } @if paragraphs { td { (paragraph_title(key)) } } td.n { (count) } }
                }
            }
        }
    }
}
