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

    /// CSV, one line per cell: `ai,ai_name,data,data_name,role,decision,paragraphs,policies`.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("ai,ai_name,data,data_name,role,decision,paragraphs,policies\n");
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
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            csv.push_str(&line.join(","));
            csv.push('\n');
        }
        csv
    }

    /// A single self-contained HTML page (inline CSS, no external resources), readable on
    /// screen, on a phone and on paper: one table per role, each cell's reasons or duties in a
    /// numbered list below it (no tooltips), and the paragraphs behind a no.
    pub fn to_html(&self) -> String {
        let mut html = String::new();
        let title = self.title();
        let _ = write!(
            html,
            "<!DOCTYPE html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n\
             <h1>{}</h1>\n<p class=\"lead\">{}</p>\n",
            esc(&title),
            esc(&title),
            esc(&self.subtitle().replace('`', "")),
        );
        html.push_str(
            "<p class=\"legend\"><span class=\"yes\">Ja</span> tillåtet, med de skyldigheter \
             policyn anger. <span class=\"no\">Nej</span> inte tillåtet; koden anger paragrafen \
             i Policy för ansvarsfull AI. Numret i en cell leder till skälen eller \
             skyldigheterna, som står under varje tabell.</p>\n",
        );
        let columns = self.columns();
        for (role_index, role) in self.roles.iter().enumerate() {
            let role_name = esc(role_name_sv(*role));
            let _ = write!(
                html,
                "<section>\n<h2 id=\"roll-{role_index}\">{role_name}</h2>\n\
                 <div class=\"scroll\" role=\"region\" aria-labelledby=\"roll-{role_index}\" tabindex=\"0\">\n\
                 <table>\n<caption>{role_name}: AI-system och information</caption>\n\
                 <thead><tr><th scope=\"col\">AI-system</th>"
            );
            for (_, name) in &columns {
                let _ = write!(
                    html,
                    "<th scope=\"col\">{}</th>",
                    esc(&name.replace('`', ""))
                );
            }
            html.push_str("</tr></thead>\n<tbody>\n");
            // Each distinct explanation once, numbered, below the table: readable on touch
            // screens, by keyboard and screen reader, and on paper (no tooltips).
            let mut notes: Vec<(Verdict, Vec<String>)> = Vec::new();
            for ai in &self.systems {
                let _ = write!(
                    html,
                    "<tr><th scope=\"row\">{}<br><span class=\"id\">{}</span></th>",
                    esc(&ai.name),
                    esc(&ai.id)
                );
                for (data, _) in &columns {
                    let Some(cell) = self.cell(&ai.id, *data, *role) else {
                        html.push_str("<td>–</td>");
                        continue;
                    };
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
                    let (class, word, codes) = match cell.decision {
                        Verdict::Allow => ("yes", "Ja", String::new()),
                        Verdict::Deny => ("no", "Nej", format!(" {}", cell.paragraphs.join(" "))),
                    };
                    let _ = write!(
                        html,
                        "<td class=\"{class}\">{word}<span class=\"par\">{}</span> \
                         <a href=\"#skal-{role_index}-{number}\" class=\"ref\">[{number}]</a></td>",
                        esc(&codes)
                    );
                }
                html.push_str("</tr>\n");
            }
            html.push_str("</tbody>\n</table>\n</div>\n");
            let _ = write!(
                html,
                "<h3>Skäl och skyldigheter: {role_name}</h3>\n<ol class=\"notes\">\n"
            );
            for (i, (verdict, lines)) in notes.iter().enumerate() {
                let heading = match verdict {
                    Verdict::Allow => "Ja, med skyldigheterna",
                    Verdict::Deny => "Nej, därför att",
                };
                let _ = write!(
                    html,
                    "<li id=\"skal-{role_index}-{}\"><strong>{heading}</strong><ul>",
                    i + 1
                );
                for line in lines {
                    let _ = write!(html, "<li>{}</li>", esc(line));
                }
                html.push_str("</ul></li>\n");
            }
            html.push_str("</ol>\n</section>\n");
        }
        let used = self.paragraphs_used();
        if !used.is_empty() {
            html.push_str("<section>\n<h2>Paragrafer bakom ett nej</h2>\n<dl>\n");
            for p in used {
                let _ = writeln!(
                    html,
                    "<dt>{}</dt><dd>{}</dd>",
                    esc(p.code()),
                    esc(p.title_sv())
                );
            }
            html.push_str("</dl>\n</section>\n");
        }
        if !self.data_classes.is_empty() {
            html.push_str("<section>\n<h2>Informationsklasser</h2>\n<dl>\n");
            for class in &self.data_classes {
                let _ = writeln!(
                    html,
                    "<dt>{} <span class=\"id\">nivå {}</span></dt><dd>{}</dd>",
                    esc(&class.name),
                    class.level,
                    esc(class.description.as_deref().unwrap_or(""))
                );
            }
            html.push_str("</dl>\n</section>\n");
        }
        html.push_str(
            "<footer>Kontrollera alltid ett enskilt fall med <code>aipolicy check</code> \
             eller den som ansvarar för AI-systemet.</footer>\n</main>\n</body>\n</html>\n",
        );
        html
    }
}

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

/// Escapes text for HTML or XML content and attribute values (also JUnit XML of `aipolicy test`).
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            // XML 1.0 cannot carry other control characters at all.
            c if c.is_control() && !matches!(c, '\t' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn md_escape(text: &str) -> String {
    text.replace('|', "\\|")
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
