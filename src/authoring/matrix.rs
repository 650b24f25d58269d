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

use crate::diagnostics::error::InputError;
use crate::engine::Engine;
use crate::model::decision::{Decision, Language, Reason, Verdict};
use crate::model::paragraph::Paragraph;
use crate::model::query::{Action, Context, Query, UserRef};
use crate::model::register::{AiSystem, DataClass, Role};

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
    /// The paragraphs behind a deny (empty for an allow), in the document's order.
    pub paragraphs: Vec<String>,
    /// The reasons of a deny, or the duties of an allow, in the matrix's language.
    pub reasons: Vec<Reason>,
}

impl Cell {
    /// The cell of `decision`, made for the query of this system, class and role
    /// ([`cell_query`]): a deny's paragraphs in the document's order and its reasons, or an
    /// allow's duties.
    pub fn of(ai: String, data: Option<String>, role: Role, decision: Decision) -> Cell {
        let verdict = decision.decision;
        let (paragraphs, reasons) = explained(decision);
        Cell {
            ai,
            data,
            role,
            decision: verdict,
            paragraphs,
            reasons,
        }
    }
}

/// What a cell shows of a decision: a deny's paragraphs, in the document's order whichever
/// file a rule is in, and its reasons; or an allow's duties.
pub fn explained(decision: Decision) -> (Vec<String>, Vec<Reason>) {
    match decision.decision {
        Verdict::Deny => {
            let codes: Vec<String> = Paragraph::ALL
                .into_iter()
                .map(Paragraph::code)
                .filter(|code| decision.reasons.iter().any(|r| &*r.paragraph == *code))
                .map(str::to_string)
                .collect();
            (codes, decision.reasons)
        }
        Verdict::Allow => (Vec::new(), decision.obligations),
    }
}

/// For whom a matrix decides: besides the one role of a cell, what every cell's user is. The
/// caption of every form of the matrix states it, so that a "no" for an untrained user is not
/// read as a "no" for everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Audience {
    /// Whether the user has had the municipality's AI training (`aiLiteracy`), which a
    /// high-risk system asks of its users (EU AI Act art. 26(2)). Default: not.
    pub ai_literacy: bool,
    /// The user's unit. `None` (the default): for a data class restricted to some units, a
    /// user of the first of them (the class's own staff), else a user of no unit.
    pub unit: Option<String>,
}

/// The access matrix for one action, computed by the engine.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// The action decided in every cell.
    pub action: Action,
    /// The context flags every query carries.
    pub context: Context,
    /// For whom every cell is decided (beside its role).
    pub audience: Audience,
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
    /// The language the cells' reasons and duties are in, and the Markdown and HTML pages.
    pub language: Language,
}

/// The units of `register`, each once, in order: those its data classes are restricted to,
/// then those its users are in. What a matrix's [`Audience::unit`] may name.
pub fn units_of(register: &crate::model::register::Register) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let classes = register
        .data_classes()
        .iter()
        .flat_map(|c| c.units.iter().flatten());
    let users = register.users().iter().filter_map(|u| u.unit.as_ref());
    for unit in classes.chain(users) {
        if !units.contains(unit) {
            units.push(unit.clone());
        }
    }
    units
}

/// The Swedish name of a role, as staff know it.
pub fn role_name_sv(role: Role) -> &'static str {
    match role {
        Role::Employee => "Anställd",
        Role::Contractor => "Privat utförare",
        Role::Elected => "Förtroendevald",
    }
}

/// The English name of a role.
pub fn role_name_en(role: Role) -> &'static str {
    match role {
        Role::Employee => "Employee",
        Role::Contractor => "Private contractor",
        Role::Elected => "Elected official",
    }
}

/// The name of a role in `language`.
pub fn role_name(role: Role, language: Language) -> &'static str {
    match language {
        Language::Sv => role_name_sv(role),
        Language::En => role_name_en(role),
    }
}

/// What an action means, in English.
pub fn action_en(action: Action) -> &'static str {
    match action {
        Action::Use => "use AI with information",
        Action::Decide => "AI as support for a decision about an individual",
        Action::Publish => "publish what the AI produced",
        Action::SendToResident => "send what the AI produced to a resident about their own matter",
        Action::OfferToResidents => "offer residents an AI service",
        Action::Develop => "develop a new application or integration",
        Action::ReportIncident => "report a deviation or misuse",
    }
}

/// What an action means, in `language`.
pub fn action_in(action: Action, language: Language) -> &'static str {
    match language {
        Language::Sv => action_sv(action),
        Language::En => action_en(action),
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

/// The query of one cell: an inline user with the one role and the `audience`'s training and
/// unit, the system, the class, the action. Without a unit in `audience`, for a class restricted
/// to some units (need-to-know) the user is in the first of them: the matrix shows what the
/// class's own staff may do (others are denied it by §3).
pub fn cell_query(
    ai: &str,
    data: Option<&DataClass>,
    role: Role,
    action: Action,
    context: Context,
    audience: &Audience,
) -> Query {
    let mut user = crate::model::register::User::new(format!("matrix-{}", role.as_str()), [role])
        .with_ai_literacy(audience.ai_literacy);
    let class_unit = || data.and_then(|c| c.units.as_ref()).and_then(|u| u.first());
    if let Some(unit) = audience.unit.as_ref().or_else(class_unit) {
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
        Matrix::compute_for(engine, action, context, &Audience::default(), language)
    }

    /// Decides every cell for `audience` (a user with the AI training, of a unit) with
    /// `engine`, explained in `language`. Each cell is about its role: an engine that denies
    /// users the register does not list ([`Engine::registered_users_only`]) decides the cells
    /// as for a listed user of that role. A unit no data class of the register is restricted
    /// to and no user of the register is in is an input error at `unit`, naming the closest.
    ///
    /// ```
    /// use aipolicy::matrix::{Audience, Matrix};
    /// use aipolicy::{Action, Context, Engine, Language, Role, Verdict};
    /// # let engine = Engine::bundled().unwrap().with_clock(aipolicy::Clock::fixed(aipolicy::clock::parse_date("2026-12-07").unwrap()));
    /// // The approved decision support asks for trained users (EU AI Act art. 26(2)).
    /// let context = Context { human_review: true, ..Context::default() };
    /// let untrained = Matrix::compute(&engine, Action::Decide, context, Language::Sv).unwrap();
    /// let trained = Audience { ai_literacy: true, ..Audience::default() };
    /// let trained = Matrix::compute_for(&engine, Action::Decide, context, &trained, Language::Sv).unwrap();
    /// let cell = |m: &Matrix| m.cell("lokal-sprakmodell", Some("personuppgifter"), Role::Employee).unwrap().decision;
    /// assert_eq!(cell(&untrained), Verdict::Deny);
    /// assert_eq!(cell(&trained), Verdict::Allow);
    /// ```
    pub fn compute_for(
        engine: &Engine,
        action: Action,
        context: Context,
        audience: &Audience,
        language: Language,
    ) -> Result<Matrix, InputError> {
        // A cell is about a role, decided for a stand-in user of it: with registered users
        // only, every stand-in would be denied as unlisted, and the matrix would say nothing
        // about the roles. The register's users are decided as the cell's user would be.
        let unrestricted;
        let engine = if engine.is_registered_users_only() {
            unrestricted = engine.clone().registered_users_only(false);
            &unrestricted
        } else {
            engine
        };
        let register = engine.register();
        if let Some(unit) = &audience.unit {
            let units = units_of(register);
            if !units.iter().any(|u| u == unit) {
                let hint =
                    crate::diagnostics::suggest::closest(unit, units.iter().map(String::as_str))
                        .map(|near| format!("; did you mean `{near}`?"))
                        .unwrap_or_default();
                return Err(InputError::at(
                    "unit",
                    format!(
                        "`{unit}` is no unit of the register (those its data classes are restricted to and its users are in: {}){hint}",
                        if units.is_empty() { "none".to_string() } else { units.join(", ") }
                    ),
                ));
            }
        }
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
                    let query = cell_query(&ai.id, *data, role, action, context, audience);
                    let decision = engine.decide_in(&query, language)?;
                    cells.push(Cell::of(
                        ai.id.clone(),
                        data.map(|c| c.id.clone()),
                        role,
                        decision,
                    ));
                }
            }
        }
        Ok(Matrix {
            action,
            context,
            audience: audience.clone(),
            municipality: register.municipality().map(str::to_string),
            roles: Role::ALL.to_vec(),
            systems: register.ai_systems().to_vec(),
            data_classes,
            cells,
            language,
        })
    }

    /// The unit of the user a cell was decided for (see [`cell_query`]).
    pub fn unit_of(&self, cell: &Cell) -> Option<&str> {
        self.audience.unit.as_deref().or_else(|| {
            let class = self
                .data_classes
                .iter()
                .find(|c| Some(&c.id) == cell.data.as_ref())?;
            class.units.as_ref()?.first().map(String::as_str)
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
        self.title_in(self.language)
    }

    /// The page's title in `language`: "Which AI may I use? …".
    pub fn title_in(&self, language: Language) -> String {
        match language {
            Language::Sv => {
                let municipality = self.municipality.as_deref().unwrap_or("kommunen");
                format!("Vilken AI får jag använda? Åtkomstmatris för {municipality}")
            }
            Language::En => {
                let municipality = self.municipality.as_deref().unwrap_or("the municipality");
                format!("Which AI may I use? Access matrix of {municipality}")
            }
        }
    }

    fn subtitle(&self) -> String {
        self.subtitle_in(self.language)
    }

    fn subtitle_in(&self, language: Language) -> String {
        let flags: Vec<&str> = self
            .context
            .flags()
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(key, _)| key)
            .collect();
        let with = tr(language, "med", "with");
        let context = if flags.is_empty() {
            String::new()
        } else {
            format!(", {with} {}", flags.join(", "))
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
        let training = match (language, self.audience.ai_literacy) {
            (Language::Sv, false) => " För en användare utan kommunens AI-utbildning (högrisk-AI kräver den, AI-förordningen art. 26.2).",
            (Language::Sv, true) => " För en användare som har gått kommunens AI-utbildning.",
            (Language::En, false) => " For a user without the municipality's AI training (high-risk AI asks for it, EU AI Act art. 26(2)).",
            (Language::En, true) => " For a user who has had the municipality's AI training.",
        };
        let need_to_know = if let Some(unit) = &self.audience.unit {
            match language {
                Language::Sv => format!(" Användaren hör till {unit}: behovsprövad information som tillhör andra förvaltningar nekas (§3)."),
                Language::En => format!(" The user belongs to {unit}: information restricted to other units by need-to-know is denied (§3)."),
            }
        } else if restricted.is_empty() {
            String::new()
        } else {
            let text = tr(
                language,
                " Behovsprövad information visas för personal i de förvaltningar den tillhör; \
                 andra nekas den (§3): ",
                " Information restricted by need-to-know is shown for the staff of the units it \
                 belongs to; others are denied it (§3): ",
            );
            format!("{text}{}.", restricted.join("; "))
        };
        match language {
            Language::Sv => format!(
                "Handling: `{}` ({}){context}. Beräknad av aipolicy med kommunens policyer och \
                 AI-register.{training}{need_to_know}",
                self.action,
                action_sv(self.action)
            ),
            Language::En => format!(
                "Action: `{}` ({}){context}. Computed by aipolicy from the municipality's \
                 policies and AI register.{training}{need_to_know}",
                self.action,
                action_en(self.action)
            ),
        }
    }

    /// The acts and articles (`@law`) behind some deny, in the order first met.
    fn laws_used(&self) -> Vec<&str> {
        let mut laws: Vec<&str> = Vec::new();
        for law in self
            .cells
            .iter()
            .filter(|c| c.decision == Verdict::Deny)
            .flat_map(cell_laws)
        {
            if !laws.contains(&law) {
                laws.push(law);
            }
        }
        laws
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

    /// Markdown in the matrix's language: one table per role, a row per AI system, a column
    /// per data class.
    pub fn to_markdown(&self) -> String {
        let language = self.language;
        let t = |sv, en| tr(language, sv, en);
        let (yes, no, law) = (t("ja", "yes"), t("nej", "no"), t("lag", "law"));
        let mut md = String::new();
        let _ = writeln!(md, "# {}\n\n{}\n", self.title(), self.subtitle());
        let columns = self.columns();
        for role in &self.roles {
            let _ = writeln!(
                md,
                "## {} (`{}`)\n",
                role_name(*role, language),
                role.as_str()
            );
            let header: Vec<String> = columns.iter().map(|(_, name)| md_escape(name)).collect();
            let _ = writeln!(
                md,
                "| {} | {} |",
                t("AI-system", "AI system"),
                header.join(" | ")
            );
            let _ = writeln!(md, "|---|{}", "---|".repeat(columns.len()));
            for ai in &self.systems {
                let row: Vec<String> = columns
                    .iter()
                    .map(|(data, _)| match self.cell(&ai.id, *data, *role) {
                        Some(cell) => match cell.decision {
                            Verdict::Allow => yes.to_string(),
                            Verdict::Deny => {
                                let laws = cell_laws(cell);
                                if laws.is_empty() {
                                    format!("**{no}** ({})", cell.paragraphs.join(", "))
                                } else {
                                    format!(
                                        "**{no}** ({}; {law}: {})",
                                        cell.paragraphs.join(", "),
                                        laws.join(", ")
                                    )
                                }
                            }
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
            let _ = writeln!(
                md,
                "{}\n",
                t("Paragrafer bakom ett nej:", "Paragraphs behind a no:")
            );
            for p in used {
                let _ = writeln!(md, "- **{}** {}", p.code(), p.title(language));
            }
        }
        let laws = self.laws_used();
        if !laws.is_empty() {
            let _ = writeln!(
                md,
                "\n{}\n",
                t(
                    "Lagar bakom ett nej (regler med `@law`):",
                    "Laws behind a no (rules with `@law`):"
                )
            );
            for law in laws {
                let _ = writeln!(md, "- {}", md_escape(law));
            }
        }
        md
    }

    /// CSV, one line per cell:
    /// `ai,ai_name,data,data_name,role,decision,paragraphs,policies,laws,ai_literacy,unit`
    /// (`laws`: the `@law` of the rules from law behind a deny, separated by `; `;
    /// `ai_literacy` and `unit`: whom the cell was decided for, see [`Audience`]),
    /// written with the `csv` crate (RFC 4180 quoting, `\n` line ends). A value that a
    /// spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
    /// carriage return, e.g. a register's name `=HYPERLINK(…)`) is written with a `'` before it.
    pub fn to_csv(&self) -> String {
        let mut bytes = Vec::new();
        // Writing to memory does not fail: there is no I/O, and every record has 11 fields.
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
            "laws",
            "ai_literacy",
            "unit",
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
                &match cell.decision {
                    Verdict::Deny => cell_laws(cell).join("; "),
                    Verdict::Allow => String::new(),
                },
                if self.audience.ai_literacy {
                    "true"
                } else {
                    "false"
                },
                self.unit_of(cell).unwrap_or(""),
            ];
            writer.write_record(fields.map(no_formula).iter().map(|f| f.as_bytes()))?;
        }
        writer.flush()?;
        Ok(())
    }

    /// A single self-contained HTML page (inline CSS, no external resources), readable on
    /// screen, on a phone and on paper: one table per role, each cell's reasons or duties in a
    /// numbered list below it (no tooltips), and the paragraphs behind a no. A `maud` template:
    /// every value from the register or the policies is escaped. In the matrix's language; to
    /// place the matrix in a page of one's own, see [`Matrix::html_content`].
    pub fn to_html(&self) -> String {
        let title = self.title();
        let language = self.language;
        let page = html! {
            (DOCTYPE) "\n"
            html lang=(language.as_str()) {
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
                        "\n"
                        (self.html_content(language))
                        footer {
                            (tr(language, "Kontrollera alltid ett enskilt fall med ", "Always check a single case with "))
                            code { "aipolicy check" }
                            (tr(language, " eller den som ansvarar för AI-systemet.", " or with whoever is accountable for the AI system."))
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

    /// The matrix's content without the page around it, for a page that has its own `h1`
    /// ([`Matrix::title_in`]) and styles ([`HTML_CSS`]): the lead, the legend, a section
    /// (`h2`) per role with its table and its numbered reasons and duties, the paragraphs
    /// behind a no and the data classes, with the headings and words in `language` (the
    /// reasons are in the language the matrix was computed in).
    pub fn html_content(&self, language: Language) -> Markup {
        let columns = self.columns();
        let t = |sv, en| tr(language, sv, en);
        html! {
            p.lead { (self.subtitle_in(language).replace('`', "")) }
            "\n"
            p.legend {
                span.yes { (t("Ja", "Yes")) }
                (t(" tillåtet, med de skyldigheter policyn anger. ", " allowed, with the duties the policy sets. "))
                span.no { (t("Nej", "No")) }
                (t(" inte tillåtet; koden anger paragrafen i Policy för ansvarsfull AI. Numret i \
                    en cell leder till skälen eller skyldigheterna, som står under varje tabell.",
                   " not allowed; the code names the paragraph of the policy. The number in a \
                    cell leads to the reasons or duties, listed below each table."))
            }
            "\n"
            @for (role_index, role) in self.roles.iter().enumerate() {
                (self.role_section(role_index, *role, &columns, language))
            }
            @let used = self.paragraphs_used();
            @if !used.is_empty() {
                section {
                    "\n" h2 { (t("Paragrafer bakom ett nej", "Paragraphs behind a no")) }
                    "\n"
                    dl {
                        "\n"
                        @for p in used {
                            dt { (p.code()) } dd { (p.title(language)) } "\n"
                        }
                    }
                    "\n"
                }
                "\n"
            }
            @let laws = self.laws_used();
            @if !laws.is_empty() {
                section {
                    "\n" h2 { (t("Lagar bakom ett nej", "Laws behind a no")) }
                    "\n"
                    p {
                        (t("Regler som kommer från lag snarare än från policyns egna meningar \
                            (§6: \"AI ska följa relevanta lagar\"). I skälen står de som \"lag: …\".",
                           "Rules that come from law rather than from the policy's own sentences \
                            (§6: \"AI shall follow relevant laws\"). The reasons name them as \"law: …\"."))
                    }
                    "\n"
                    ul { @for law in laws { li { (law) } "\n" } }
                    "\n"
                }
                "\n"
            }
            @if !self.data_classes.is_empty() {
                section {
                    "\n" h2 { (t("Informationsklasser", "Information classes")) }
                    "\n"
                    dl {
                        "\n"
                        @for class in &self.data_classes {
                            dt { (class.name) " " span.id { (t("nivå ", "level ")) (class.level) } }
                            dd { (class.description.as_deref().unwrap_or("")) }
                            "\n"
                        }
                    }
                    "\n"
                }
                "\n"
            }
        }
    }

    /// A role's section of the HTML page: its table in a scroll region, and below it each
    /// distinct explanation once, numbered: readable on touch screens, by keyboard and screen
    /// reader, and on paper (no tooltips).
    fn role_section(
        &self,
        role_index: usize,
        role: Role,
        columns: &[(Option<&str>, String)],
        language: Language,
    ) -> Markup {
        let t = |sv, en| tr(language, sv, en);
        let role_name = role_name(role, language);
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
                            .map(|r| match &r.law {
                                Some(law) => format!(
                                    "{} ({}{law}) {}",
                                    r.paragraph,
                                    t("lag: ", "law: "),
                                    r.message
                                ),
                                None => format!("{} {}", r.paragraph, r.message),
                            })
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
                        "\n" caption { (role_name) (t(": AI-system och information", ": AI systems and information")) }
                        "\n"
                        thead {
                            tr {
                                th scope="col" { (t("AI-system", "AI system")) }
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
                                                    Verdict::Allow => ("yes", t("Ja", "Yes"), String::new()),
                                                    Verdict::Deny => {
                                                        ("no", t("Nej", "No"), format!(" {}", cell.paragraphs.join(" ")))
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
                "\n" h3 { (t("Skäl och skyldigheter: ", "Reasons and duties: ")) (role_name) }
                "\n"
                ol.notes {
                    "\n"
                    @for (i, (verdict, lines)) in notes.iter().enumerate() {
                        li id={ "skal-" (role_index) "-" (i + 1) } {
                            strong {
                                @match verdict {
                                    Verdict::Allow => (t("Ja, med skyldigheterna", "Yes, with the duties")),
                                    Verdict::Deny => (t("Nej, därför att", "No, because")),
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

/// `sv` or `en`, whichever `language` asks for.
fn tr(language: Language, sv: &'static str, en: &'static str) -> &'static str {
    match language {
        Language::Sv => sv,
        Language::En => en,
    }
}

/// The acts and articles of the rules from law among a cell's reasons, without repeats.
fn cell_laws(cell: &Cell) -> Vec<&str> {
    let mut laws: Vec<&str> = Vec::new();
    for law in cell.reasons.iter().filter_map(|r| r.law.as_deref()) {
        if !laws.contains(&law) {
            laws.push(law);
        }
    }
    laws
}

/// A cell of the HTML page with the number of its note (`None`: no cell there).
type NumberedCell<'a> = Option<(&'a Cell, usize)>;

/// The matrix page's styles, for a page that shows [`Matrix::html_content`].
pub const HTML_CSS: &str = CSS;

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
    use crate::model::register::{Register, BUNDLED_REGISTER};

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
            Some(
                "ai,ai_name,data,data_name,role,decision,paragraphs,policies,laws,ai_literacy,unit"
            )
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
        // Every line has its 11 fields, and nothing else starts with a formula character.
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        for record in reader.records() {
            let record = record.unwrap();
            assert_eq!(record.len(), 11);
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
