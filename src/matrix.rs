//! The access matrix: for every AI system of the register × every data class × every role, what
//! the engine itself decides, and the paragraphs behind a deny. What staff read on the intranet:
//! "which AI may I use with what?".
//!
//! ```
//! use aipolicy::matrix::Matrix;
//! use aipolicy::{Action, Context, Engine, Language, Role, Verdict};
//!
//! let engine = Engine::bundled().unwrap();
//! let matrix = Matrix::compute(&engine, Action::Use, Context::default(), Language::Sv).unwrap();
//! let cell = matrix.cell("chatgpt", Some("intern"), Role::Employee).unwrap();
//! assert_eq!(cell.decision, Verdict::Deny);
//! assert!(cell.paragraphs.iter().any(|p| p == "U3"));
//! assert!(matrix.to_html().starts_with("<!DOCTYPE html>"));
//! ```

use std::fmt::Write as _;

use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Serialize;

use crate::decision::{Language, Reason, Verdict};
use crate::engine::Engine;
use crate::error::InputError;
use crate::paragraph::Paragraph;
use crate::query::{Action, Context, Query, UserRef};
use crate::register::{AiSystem, DataClass, Role};

/// One cell: what one role may do with one AI system on one data class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The AI system's id.
    pub ai: String,
    /// The data class's id; `None` for an action that handles no data class.
    pub data: Option<String>,
    /// The role of the (inline) user asking.
    pub role: Role,
    /// Allow or deny.
    pub decision: Verdict,
    /// The paragraphs behind a deny (empty for an allow), in order, without repeats.
    pub paragraphs: Vec<String>,
    /// The reasons of a deny, or the duties of an allow, in the matrix's language.
    pub reasons: Vec<Reason>,
}

/// The access matrix for one action, computed by the engine.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// The action decided in every cell.
    pub action: Action,
    /// The context flags every query carries.
    pub context: Context,
    /// The municipality's name from the register.
    pub municipality: Option<String>,
    /// The roles, in column-group order.
    pub roles: Vec<Role>,
    /// The AI systems of the register, in register order.
    pub systems: Vec<AiSystem>,
    /// The data classes of the register, in register order (a register without any gives one
    /// column per role, queries naming no data class).
    pub data_classes: Vec<DataClass>,
    /// Every cell: systems × data classes × roles, in that order.
    pub cells: Vec<Cell>,
}

/// The Swedish name of a role, as staff know it.
pub fn role_name_sv(role: Role) -> &'static str {
    match role {
        Role::Employee => "Anställd",
        Role::Contractor => "Privat utförare",
        Role::Elected => "Förtroendevald",
    }
}

/// What an action means, in Swedish.
pub fn action_sv(action: Action) -> &'static str {
    match action {
        Action::Use => "använda AI med information",
        Action::Decide => "AI som stöd för beslut om enskilda",
        Action::Publish => "publicera AI:s resultat",
        Action::SendToResident => "skicka AI:s resultat till en invånare i dennes ärende",
        Action::OfferToResidents => "erbjuda invånare en AI-tjänst",
        Action::Develop => "utveckla en ny tillämpning eller integration",
        Action::ReportIncident => "rapportera en avvikelse eller ett missbruk",
    }
}

/// The query of one cell: an inline user with the one role, the system, the class, the action.
/// For a class restricted to some units (need-to-know), the user is in the first of them: the
/// matrix shows what the class's own staff may do (others are denied it by §3).
pub fn cell_query(
    ai: &str,
    data: Option<&DataClass>,
    role: Role,
    action: Action,
    context: Context,
) -> Query {
    let mut user = crate::register::User::new(format!("matrix-{}", role.as_str()), [role]);
    if let Some(unit) = data.and_then(|c| c.units.as_ref()).and_then(|u| u.first()) {
        user = user.with_unit(unit.clone());
    }
    let mut query =
        Query::new(UserRef::Inline(user), ai, data.map(|c| c.id.as_str())).with_action(action);
    query.context = context;
    query
}

impl Matrix {
    /// Decides every cell with `engine`, explained in `language`.
    ///
    /// `Err` only if the engine refuses a query as input (it never should for the register's
    /// own systems and classes).
    pub fn compute(
        engine: &Engine,
        action: Action,
        context: Context,
        language: Language,
    ) -> Result<Matrix, InputError> {
        let register = engine.register();
        // Every action is decided per data class: U2 asks every query to name its information.
        let data_classes: Vec<DataClass> = register.data_classes().to_vec();
        let data_ids: Vec<Option<&DataClass>> = if data_classes.is_empty() {
            vec![None]
        } else {
            data_classes.iter().map(Some).collect()
        };
        let mut cells = Vec::new();
        for ai in register.ai_systems() {
            for data in &data_ids {
                for role in Role::ALL {
                    let query = cell_query(&ai.id, *data, role, action, context);
                    let decision = engine.decide_in(&query, language)?;
                    let (paragraphs, reasons) = match decision.decision {
                        Verdict::Deny => {
                            let mut codes: Vec<String> = Vec::new();
                            for r in &decision.reasons {
                                if !codes.iter().any(|c| **c == *r.paragraph) {
                                    codes.push(r.paragraph.to_string());
                                }
                            }
                            (codes, decision.reasons)
                        }
                        Verdict::Allow => (Vec::new(), decision.obligations),
                    };
                    cells.push(Cell {
                        ai: ai.id.clone(),
                        data: data.map(|c| c.id.clone()),
                        role,
                        decision: decision.decision,
                        paragraphs,
                        reasons,
                    });
                }
            }
        }
        Ok(Matrix {
            action,
            context,
            municipality: register.municipality().map(str::to_string),
            roles: Role::ALL.to_vec(),
            systems: register.ai_systems().to_vec(),
            data_classes,
            cells,
        })
    }

    /// The cell of this system, class (or `None` for an action without data) and role.
    pub fn cell(&self, ai: &str, data: Option<&str>, role: Role) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.ai == ai && c.data.as_deref() == data && c.role == role)
    }

    /// The columns of a role's table: each data class, or one column when there is no data.
    fn columns(&self) -> Vec<(Option<&str>, String)> {
        if self.data_classes.is_empty() {
            vec![(None, format!("`{}`", self.action))]
        } else {
            self.data_classes
                .iter()
                .map(|c| (Some(c.id.as_str()), c.name.clone()))
                .collect()
        }
    }

    fn title(&self) -> String {
        let municipality = self.municipality.as_deref().unwrap_or("kommunen");
        format!("Vilken AI får jag använda? Åtkomstmatris för {municipality}")
    }

    fn subtitle(&self) -> String {
        let flags: Vec<&str> = self
            .context
            .flags()
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(key, _)| key)
            .collect();
        let context = if flags.is_empty() {
            String::new()
        } else {
            format!(", med {}", flags.join(", "))
        };
        let restricted: Vec<String> = self
            .data_classes
            .iter()
            .filter_map(|c| {
                c.units
                    .as_ref()
                    .map(|units| format!("{} ({})", c.name, units.join(", ")))
            })
            .collect();
        let need_to_know = if restricted.is_empty() {
            String::new()
        } else {
            format!(
                " Behovsprövad information visas för personal i de förvaltningar den tillhör; \
                 andra nekas den (§3): {}.",
                restricted.join("; ")
            )
        };
        format!(
            "Handling: `{}` ({}){context}. Beräknad av aipolicy med kommunens policyer och \
             AI-register.{need_to_know}",
            self.action,
            action_sv(self.action)
        )
    }

    /// The paragraphs that appear in some deny, in document order.
    fn paragraphs_used(&self) -> Vec<Paragraph> {
        Paragraph::ALL
            .into_iter()
            .filter(|p| {
                self.cells
                    .iter()
                    .any(|c| c.paragraphs.iter().any(|code| code == p.code()))
            })
            .collect()
    }

    /// Markdown: one table per role, a row per AI system, a column per data class.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# {}\n\n{}\n", self.title(), self.subtitle());
        let columns = self.columns();
        for role in &self.roles {
            let _ = writeln!(md, "## {} (`{}`)\n", role_name_sv(*role), role.as_str());
            let header: Vec<String> = columns.iter().map(|(_, name)| md_escape(name)).collect();
            let _ = writeln!(md, "| AI-system | {} |", header.join(" | "));
            let _ = writeln!(md, "|---|{}", "---|".repeat(columns.len()));
            for ai in &self.systems {
                let row: Vec<String> = columns
                    .iter()
                    .map(|(data, _)| match self.cell(&ai.id, *data, *role) {
                        Some(cell) => match cell.decision {
                            Verdict::Allow => "ja".to_string(),
                            Verdict::Deny => format!("**nej** ({})", cell.paragraphs.join(", ")),
                        },
                        None => "–".to_string(),
                    })
                    .collect();
                let _ = writeln!(
                    md,
                    "| {} (`{}`) | {} |",
                    md_escape(&ai.name),
                    ai.id,
                    row.join(" | ")
                );
            }
            md.push('\n');
        }
        let used = self.paragraphs_used();
        if !used.is_empty() {
            let _ = writeln!(md, "Paragrafer bakom ett nej:\n");
            for p in used {
                let _ = writeln!(md, "- **{}** {}", p.code(), p.title_sv());
            }
        }
        md
    }

    /// CSV, one line per cell: `ai,ai_name,data,data_name,role,decision,paragraphs,policies`,
    /// written with the `csv` crate (RFC 4180 quoting, `\n` line ends). A value that a
    /// spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
    /// carriage return, e.g. a register's name `=HYPERLINK(…)`) is written with a `'` before it.
    pub fn to_csv(&self) -> String {
        let mut bytes = Vec::new();
        // Writing to memory does not fail: there is no I/O, and every record has 8 fields.
        let _ = self.write_csv(&mut bytes);
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    fn write_csv(&self, out: &mut Vec<u8>) -> csv::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record([
            "ai",
            "ai_name",
            "data",
            "data_name",
            "role",
            "decision",
            "paragraphs",
            "policies",
        ])?;
        for cell in &self.cells {
            let ai_name = self
                .systems
                .iter()
                .find(|a| a.id == cell.ai)
                .map_or("", |a| a.name.as_str());
            let data_name = cell
                .data
                .as_deref()
                .and_then(|d| self.data_classes.iter().find(|c| c.id == d))
                .map_or("", |c| c.name.as_str());
            let policies: Vec<&str> = match cell.decision {
                Verdict::Deny => cell.reasons.iter().map(|r| &*r.policy).collect(),
                Verdict::Allow => Vec::new(),
            };
            let fields = [
                cell.ai.as_str(),
                ai_name,
                cell.data.as_deref().unwrap_or(""),
                data_name,
                cell.role.as_str(),
                match cell.decision {
                    Verdict::Allow => "allow",
                    Verdict::Deny => "deny",
                },
                &cell.paragraphs.join(" "),
                &policies.join(" "),
            ];
            writer.write_record(fields.map(no_formula).iter().map(|f| f.as_bytes()))?;
        }
        writer.flush()?;
        Ok(())
    }

    /// A single self-contained HTML page (inline CSS, no external resources), readable on
    /// screen, on a phone and on paper: one table per role, each cell's reasons or duties in a
    /// numbered list below it (no tooltips), and the paragraphs behind a no. A `maud` template:
    /// every value from the register or the policies is escaped.
    pub fn to_html(&self) -> String {
        let title = self.title();
        let columns = self.columns();
        let page = html! {
            (DOCTYPE) "\n"
            html lang="sv" {
                "\n"
                head {
                    "\n" meta charset="utf-8";
                    "\n" meta name="viewport" content="width=device-width, initial-scale=1";
                    "\n" title { (title) }
                    "\n" style { "\n" (PreEscaped(CSS)) }
                    "\n"
                }
                "\n"
                body {
                    "\n"
                    main {
                        "\n" h1 { (title) }
                        "\n" p.lead { (self.subtitle().replace('`', "")) }
                        "\n"
                        p.legend {
                            span.yes { "Ja" } " tillåtet, med de skyldigheter policyn anger. "
                            span.no { "Nej" } " inte tillåtet; koden anger paragrafen i Policy \
                            för ansvarsfull AI. Numret i en cell leder till skälen eller \
                            skyldigheterna, som står under varje tabell."
                        }
                        "\n"
                        @for (role_index, role) in self.roles.iter().enumerate() {
                            (self.role_section(role_index, *role, &columns))
                        }
                        @let used = self.paragraphs_used();
                        @if !used.is_empty() {
                            section {
                                "\n" h2 { "Paragrafer bakom ett nej" }
                                "\n"
                                dl {
                                    "\n"
                                    @for p in used {
                                        dt { (p.code()) } dd { (p.title_sv()) } "\n"
                                    }
                                }
                                "\n"
                            }
                            "\n"
                        }
                        @if !self.data_classes.is_empty() {
                            section {
                                "\n" h2 { "Informationsklasser" }
                                "\n"
                                dl {
                                    "\n"
                                    @for class in &self.data_classes {
                                        dt { (class.name) " " span.id { "nivå " (class.level) } }
                                        dd { (class.description.as_deref().unwrap_or("")) }
                                        "\n"
                                    }
                                }
                                "\n"
                            }
                            "\n"
                        }
                        footer {
                            "Kontrollera alltid ett enskilt fall med " code { "aipolicy check" }
                            " eller den som ansvarar för AI-systemet."
                        }
                        "\n"
                    }
                    "\n"
                }
                "\n"
            }
            "\n"
        };
        page.into_string()
    }

    /// A role's section of the HTML page: its table in a scroll region, and below it each
    /// distinct explanation once, numbered: readable on touch screens, by keyboard and screen
    /// reader, and on paper (no tooltips).
    fn role_section(
        &self,
        role_index: usize,
        role: Role,
        columns: &[(Option<&str>, String)],
    ) -> Markup {
        let role_name = role_name_sv(role);
        let mut notes: Vec<(Verdict, Vec<String>)> = Vec::new();
        // Each row's cells: the cell (if any) and the number of its note.
        let rows: Vec<(&AiSystem, Vec<NumberedCell<'_>>)> = self
            .systems
            .iter()
            .map(|ai| {
                let cells = columns
                    .iter()
                    .map(|(data, _)| {
                        let cell = self.cell(&ai.id, *data, role)?;
                        let lines: Vec<String> = cell
                            .reasons
                            .iter()
                            .map(|r| format!("{} {}", r.paragraph, r.message))
                            .collect();
                        let note = (cell.decision, lines);
                        let number = match notes.iter().position(|n| *n == note) {
                            Some(i) => i + 1,
                            None => {
                                notes.push(note);
                                notes.len()
                            }
                        };
                        Some((cell, number))
                    })
                    .collect();
                (ai, cells)
            })
            .collect();
        html! {
            section {
                "\n" h2 id={ "roll-" (role_index) } { (role_name) }
                "\n"
                div.scroll role="region" aria-labelledby={ "roll-" (role_index) } tabindex="0" {
                    "\n"
                    table {
                        "\n" caption { (role_name) ": AI-system och information" }
                        "\n"
                        thead {
                            tr {
                                th scope="col" { "AI-system" }
                                @for (_, name) in columns {
                                    th scope="col" { (name.replace('`', "")) }
                                }
                            }
                        }
                        "\n"
                        tbody {
                            "\n"
                            @for (ai, cells) in &rows {
                                tr {
                                    th scope="row" { (ai.name) br; span.id { (ai.id) } }
                                    @for cell in cells {
                                        @match cell {
                                            None => { td { "–" } }
                                            Some((cell, number)) => {
                                                @let (class, word, codes) = match cell.decision {
                                                    Verdict::Allow => ("yes", "Ja", String::new()),
                                                    Verdict::Deny => {
                                                        ("no", "Nej", format!(" {}", cell.paragraphs.join(" ")))
                                                    }
                                                };
                                                td class=(class) {
                                                    (word) span.par { (codes) } " "
                                                    a href={ "#skal-" (role_index) "-" (number) } class="ref" {
                                                        "[" (number) "]"
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                                "\n"
                            }
                        }
                        "\n"
                    }
                    "\n"
                }
                "\n" h3 { "Skäl och skyldigheter: " (role_name) }
                "\n"
                ol.notes {
                    "\n"
                    @for (i, (verdict, lines)) in notes.iter().enumerate() {
                        li id={ "skal-" (role_index) "-" (i + 1) } {
                            strong {
                                @match verdict {
                                    Verdict::Allow => "Ja, med skyldigheterna",
                                    Verdict::Deny => "Nej, därför att",
                                }
                            }
                            ul { @for line in lines { li { (line) } } }
                        }
                        "\n"
                    }
                }
                "\n"
            }
            "\n"
        }
    }
}

/// A cell of the HTML page with the number of its note (`None`: no cell there).
type NumberedCell<'a> = Option<(&'a Cell, usize)>;

const CSS: &str = "\
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1a1a1a; \
margin: 0; background: #fff; line-height: 1.4; }
main { max-width: 80rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
.scroll { overflow-x: auto; max-width: 100%; }
.scroll:focus { outline: 3px solid #1a4d8f; outline-offset: 2px; }
a.ref { color: inherit; font-weight: normal; }
a.ref:focus { outline: 3px solid #1a4d8f; }
ol.notes { padding-left: 1.5rem; font-size: .9rem; }
ol.notes ul { margin: .2rem 0 .6rem; padding-left: 1.2rem; }
.lead, .legend, footer { color: #333; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #999; padding: .35rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #e8e8e8; }
tbody th { font-weight: 600; background: #f6f6f6; }
.id { font-weight: normal; font-size: .8rem; color: #555; font-family: ui-monospace, monospace; }
td.yes, span.yes { background: #d9f2d9; color: #0b4d0b; font-weight: 600; }
td.no, span.no { background: #fbdcdc; color: #7a0b0b; font-weight: 600; }
span.yes, span.no { padding: 0 .3rem; }
.par { font-weight: normal; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
footer { margin-top: 2rem; font-size: .85rem; }
@media (max-width: 40rem) {
  main { padding: .75rem; }
  table { font-size: .8rem; }
  th, td { padding: .25rem .3rem; }
  dl { grid-template-columns: 1fr; }
}
@media print {
  .scroll { overflow: visible; }
  @page { size: landscape; margin: 1cm; }
  main { max-width: none; padding: 0; }
  section { break-inside: avoid; }
  td.yes, td.no, span.yes, span.no, thead th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
";

/// Text fit for a Markdown table cell: `|` escaped.
pub fn md_escape(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A CSV value a spreadsheet cannot take for a formula: one that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a `'` before it (OWASP's advice on CSV injection).
pub fn no_formula(field: &str) -> std::borrow::Cow<'_, str> {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}").into()
    } else {
        field.into()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::register::{Register, BUNDLED_REGISTER};

    /// The matrix of `use` for the bundled register with `edits` made to its text.
    fn matrix(edits: &[(&str, &str)]) -> Matrix {
        let mut text = BUNDLED_REGISTER.to_string();
        for (from, to) in edits {
            assert!(text.contains(from), "{from}");
            text = text.replacen(from, to, 1);
        }
        let register = Register::from_yaml(&text, "register.yaml").unwrap();
        let engine = Engine::builder().register(register).build().unwrap();
        Matrix::compute(&engine, Action::Use, Context::default(), Language::Sv).unwrap()
    }

    #[test]
    fn csv_cells_cannot_be_formulas() {
        let matrix = matrix(&[
            (
                "name: Intern information",
                "name: \"=HYPERLINK(\\\"http://x\\\", \\\"y\\\")\"",
            ),
            ("name: Personuppgifter", "name: \"+1\""),
            ("name: Öppen information", "name: \"-2, \\\"tre\\\"\""),
            ("name: Sekretessbelagd information", "name: \"@SUM(A1)\""),
        ]);
        let csv = matrix.to_csv();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("ai,ai_name,data,data_name,role,decision,paragraphs,policies")
        );
        assert!(
            csv.contains(",intern,\"'=HYPERLINK(\"\"http://x\"\", \"\"y\"\")\",employee,"),
            "{csv}"
        );
        assert!(csv.contains(",personuppgifter,'+1,employee,"), "{csv}");
        assert!(
            csv.contains(",oppen,\"'-2, \"\"tre\"\"\",employee,"),
            "{csv}"
        );
        assert!(csv.contains(",sekretess,'@SUM(A1),employee,"), "{csv}");
        // Every line has its 8 fields, and nothing else starts with a formula character.
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        for record in reader.records() {
            let record = record.unwrap();
            assert_eq!(record.len(), 8);
            for field in &record {
                assert!(!field.starts_with(['=', '+', '-', '@']), "{field}");
            }
        }
    }

    #[test]
    fn html_escapes_what_the_register_says() {
        let matrix = matrix(&[
            (
                "municipality: Askersunds kommun",
                "municipality: \"A & <b>\"",
            ),
            (
                "name: Intern information",
                "name: \"<script>alert(1)</script>\"",
            ),
        ]);
        let html = matrix.to_html();
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
        assert!(html.contains(
            "<title>Vilken AI får jag använda? Åtkomstmatris för A &amp; &lt;b&gt;</title>"
        ));
        assert!(html.contains("<th scope=\"col\">&lt;script&gt;alert(1)&lt;/script&gt;</th>"));
        // The structure: a scroll region per role with its caption, numbered notes below.
        assert_eq!(
            html.matches("<div class=\"scroll\" role=\"region\"")
                .count(),
            3
        );
        assert!(html.contains("<caption>Anställd: AI-system och information</caption>"));
        assert!(html.contains("<a href=\"#skal-0-1\" class=\"ref\">[1]</a>"));
        assert!(html.contains("<li id=\"skal-0-1\"><strong>"));
        assert!(html.ends_with("</html>\n"));
    }
}
