//! `aipolicy check`: decide one query and explain it.

use std::io::Write;
use std::path::Path;

use clap::Args;
use serde_json::{Map, Value};

use super::logging::Logging;
use super::{report, EngineArgs, Exit, Format};
use aipolicy::decision::{Decision, Language, Verdict};
use aipolicy::error::InputError;
use aipolicy::query::{Action, Query};

/// Arguments of `aipolicy check`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  aipolicy check --user anna --ai copilot-chat --data intern
  aipolicy check --user t --role employee --ai some-public-chatbot --data oppen --lang en
  aipolicy check --user t --role employee --unit Socialförvaltningen --ai-literacy \\
      --ai lokal-sprakmodell --data socialtjanstarende
  aipolicy check --user bertil --ai lokal-sprakmodell --data socialtjanstarende \\
      --action decide --context humanReview=true
  aipolicy check --user anna --ai copilot-chat --data intern --at 2027-10-02   # a planned question
  aipolicy check --query '{\"user\":\"anna\",\"ai\":\"chatgpt\",\"data\":\"intern\"}' --format json")]
pub struct CheckArgs {
    /// A user id of the register; with --role, a user given inline instead
    #[arg(long, required_unless_present = "query", conflicts_with = "query")]
    pub user: Option<String>,
    /// Role of an inline user (employee, contractor, elected); repeat for several. For a user
    /// the register lists, only the roles the register also grants count
    #[arg(long = "role", value_name = "ROLE", requires = "user")]
    pub roles: Vec<String>,
    /// Unit (förvaltning, nämnd) of an inline user; the register's unit counts for a user it lists
    #[arg(long, value_name = "UNIT", requires = "roles")]
    pub unit: Option<String>,
    /// An inline user who has taken the municipality's AI training (`aiLiteracy`, EU AI Act
    /// art. 4); without it, allows carry the training duty and high-risk decision support is
    /// denied (art. 26(2)). The register's record counts for a user it lists
    #[arg(long, requires = "roles")]
    pub ai_literacy: bool,
    /// The AI system's id; one absent from the register is treated as public AI
    #[arg(long, required_unless_present = "query", conflicts_with = "query")]
    pub ai: Option<String>,
    /// A data class id of the register; repeat for several (the strictest counts)
    #[arg(long = "data", value_name = "CLASS", conflicts_with = "query")]
    pub data: Vec<String>,
    /// What the user wants to do
    #[arg(long, value_enum, default_value_t = ActionArg::Use, conflicts_with = "query")]
    pub action: ActionArg,
    /// A context flag, e.g. humanReview=true; repeat for several
    #[arg(long = "context", value_name = "KEY=VALUE", conflicts_with = "query")]
    pub context: Vec<String>,
    /// The whole query as JSON; `-` reads it from stdin, `@FILE` from a file
    #[arg(long, value_name = "JSON")]
    pub query: Option<String>,
    /// A text the question is about (a prompt, a document), read from FILE or `-` (stdin), at
    /// most 1 MiB of UTF-8: what is found in it (personnummer, contact details, markings,
    /// health and other special categories, the register's own patterns) joins the data
    /// classes, and the decision says what was found and where, never the text. With --query,
    /// it replaces the query's `text`
    #[arg(long, value_name = "FILE")]
    pub text: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Where policies, schema and register come from
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Users the register does not list
    #[command(flatten)]
    pub users: super::RegisteredUsersArgs,
    /// The decision log
    #[command(flatten)]
    pub log: aipolicy_log::LogArgs,
}

/// `--action` values: the pinned action names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ActionArg {
    /// Process information with the AI
    #[default]
    #[value(name = "use")]
    Use,
    /// AI output supports a decision about an individual (needs humanReview=true)
    #[value(name = "decide")]
    Decide,
    /// AI output is published (needs humanReviewed=true, aiDisclosure=true, open data)
    #[value(name = "publish")]
    Publish,
    /// AI output is sent to one resident about their own matter (needs humanReviewed=true)
    #[value(name = "sendToResident")]
    SendToResident,
    /// Deploy an AI service that residents interact with
    #[value(name = "offerToResidents")]
    OfferToResidents,
    /// Build a new application or integration (needs the four reviews)
    #[value(name = "develop")]
    Develop,
    /// Report a deviation, error or misuse (always allowed)
    #[value(name = "reportIncident")]
    ReportIncident,
}

impl From<ActionArg> for Action {
    fn from(action: ActionArg) -> Action {
        match action {
            ActionArg::Use => Action::Use,
            ActionArg::Decide => Action::Decide,
            ActionArg::Publish => Action::Publish,
            ActionArg::SendToResident => Action::SendToResident,
            ActionArg::OfferToResidents => Action::OfferToResidents,
            ActionArg::Develop => Action::Develop,
            ActionArg::ReportIncident => Action::ReportIncident,
        }
    }
}

/// Runs `aipolicy check`: exit 0 allow, 1 deny, 2 input error.
pub fn run(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let (engine, revision) = match args.users.apply(&args.engine).load_for_log(&args.log, err) {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let logging = match Logging::open(&args.log, "aipolicy check", revision, err) {
        Ok(logging) => logging,
        Err(exit) => return exit,
    };
    let exit = decide_and_write(args, &engine, logging.as_ref(), out, err);
    match logging.map(|logging| logging.close(err)) {
        Some(Err(write_error)) if exit != Exit::InputError => write_error,
        _ => exit,
    }
}

fn decide_and_write(
    args: &CheckArgs,
    engine: &aipolicy::Engine,
    logging: Option<&Logging>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let language = engine.language();
    let decided = args.to_query().and_then(|query| {
        let decision = engine.decide(&query)?;
        if let Some(logging) = logging {
            logging.record(engine, &query, &decision);
        }
        Ok(decision)
    });
    match decided {
        Ok(decision) => {
            let written = match args.format {
                Format::Json => write_json(out, &decision),
                Format::Text => write_text(out, &decision, language),
            };
            if let Some(exit) = super::write_failure(written, "the decision", err) {
                return exit;
            }
            match decision.decision {
                Verdict::Allow => Exit::Success,
                Verdict::Deny => Exit::Failure,
            }
        }
        Err(input_error) => {
            if args.format == Format::Json {
                let decision = Decision::input_error(input_error.problems_in(language), language);
                let _ = write_json(out, &decision);
            }
            report_input_error(err, input_error, language);
            Exit::InputError
        }
    }
}

impl CheckArgs {
    /// The query these arguments describe, validated like any query JSON.
    pub fn to_query(&self) -> Result<Query, InputError> {
        let mut query = self.described_query()?;
        if let Some(source) = &self.text {
            query.text = vec![read_text(source)?];
        }
        Ok(query)
    }

    /// The query of `--query`, or of the other flags.
    fn described_query(&self) -> Result<Query, InputError> {
        if let Some(text) = &self.query {
            return Query::from_json(&read_query_text(text)?);
        }
        let mut query = Map::new();
        let user = self.user.clone().unwrap_or_default();
        if self.roles.is_empty() {
            query.insert("user".into(), Value::String(user));
        } else {
            let roles = self.roles.iter().cloned().map(Value::String).collect();
            let mut inline = Map::from_iter([
                ("id".to_string(), Value::String(user)),
                ("roles".to_string(), Value::Array(roles)),
            ]);
            if let Some(unit) = &self.unit {
                inline.insert("unit".to_string(), Value::String(unit.clone()));
            }
            if self.ai_literacy {
                inline.insert("aiLiteracy".to_string(), Value::Bool(true));
            }
            query.insert("user".into(), Value::Object(inline));
        }
        query.insert(
            "ai".into(),
            Value::String(self.ai.clone().unwrap_or_default()),
        );
        if !self.data.is_empty() {
            let data = self.data.iter().cloned().map(Value::String).collect();
            query.insert("data".into(), Value::Array(data));
        }
        query.insert(
            "action".into(),
            Value::String(Action::from(self.action).as_str().into()),
        );
        if !self.context.is_empty() {
            let mut context = Map::new();
            for pair in &self.context {
                let (key, value) = parse_context_pair(pair)?;
                context.insert(key, Value::Bool(value));
            }
            query.insert("context".into(), Value::Object(context));
        }
        Query::from_value(Value::Object(query))
    }
}

/// The text of `--text`: `-` reads stdin, else a file; at most
/// [`MAX_TEXT_BYTES`](aipolicy::query::MAX_TEXT_BYTES) of UTF-8 (an endless stream stops there).
fn read_text(source: &str) -> Result<String, InputError> {
    let max = aipolicy::query::MAX_TEXT_BYTES;
    let (read, name, name_sv) = if source == "-" {
        let read = aipolicy::read::read_capped(std::io::stdin().lock(), max).map_err(|e| {
            InputError::in_both(
                "text",
                format!("kan inte läsa texten från stdin: {e}"),
                format!("cannot read the text from stdin: {e}"),
            )
        })?;
        (read, "stdin".to_string(), "stdin".to_string())
    } else {
        let cannot = |e: std::io::Error| {
            InputError::in_both(
                "text",
                format!("kan inte läsa textfilen `{source}`: {e}"),
                format!("cannot read the text file `{source}`: {e}"),
            )
        };
        let file = std::fs::File::open(source).map_err(cannot)?;
        (
            aipolicy::read::read_capped(file, max).map_err(cannot)?,
            format!("the text file `{source}`"),
            format!("textfilen `{source}`"),
        )
    };
    let Some(bytes) = read else {
        return Err(InputError::in_both(
            "text",
            format!(
                "{name_sv} innehåller mer än {max} byte; gränsen för en text är {max} byte (1 MiB): skicka en kortare del"
            ),
            format!(
                "{name} holds more than {max} bytes; the limit of a text is {max} bytes (1 MiB): send a shorter part"
            ),
        ));
    };
    let bytes = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        InputError::in_both(
            "text",
            format!("{name_sv} är inte text i UTF-8 (ogiltig byte vid position {offset}); spara den som UTF-8"),
            format!("{name} is not UTF-8 text (invalid byte at offset {offset}); save it as UTF-8"),
        )
    })
}

/// The query text of `--query`: `-` reads stdin, `@FILE` a file, each at most
/// [`MAX_QUERY_BYTES`](aipolicy::query::MAX_QUERY_BYTES) (an endless stream stops at the limit).
fn read_query_text(arg: &str) -> Result<String, InputError> {
    let max = aipolicy::query::MAX_QUERY_BYTES;
    let (bytes, source, source_sv) = if arg == "-" {
        let read = aipolicy::read::read_capped(std::io::stdin().lock(), max).map_err(|e| {
            InputError::in_both(
                "",
                format!("kan inte läsa frågan från stdin: {e}"),
                format!("cannot read the query from stdin: {e}"),
            )
        })?;
        (read, "stdin".to_string(), "stdin".to_string())
    } else if let Some(path) = arg.strip_prefix('@') {
        let cannot = |e: std::io::Error| {
            InputError::in_both(
                "",
                format!("kan inte läsa frågefilen `{path}`: {e}"),
                format!("cannot read the query file `{path}`: {e}"),
            )
        };
        let file = std::fs::File::open(path).map_err(cannot)?;
        let size = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        match aipolicy::read::read_capped(file, max).map_err(cannot)? {
            Some(bytes) => (
                Some(bytes),
                format!("the query file `{path}`"),
                format!("frågefilen `{path}`"),
            ),
            None => {
                let sv = match size {
                    Some(size) if size > max as u64 => {
                        format!("frågefilen `{path}` är {size} byte; gränsen är {max} byte")
                    }
                    _ => format!(
                        "frågefilen `{path}` fortsätter förbi gränsen: läsningen slutade efter {} byte; gränsen är {max} byte",
                        max + 1
                    ),
                };
                return Err(InputError::in_both(
                    "",
                    sv,
                    aipolicy::read::too_large("query file", Path::new(path), size, max),
                ));
            }
        }
    } else {
        return Ok(arg.to_string());
    };
    let Some(bytes) = bytes else {
        let size = aipolicy::query::MAX_QUERY_SIZE;
        return Err(InputError::in_both(
            "",
            format!(
                "frågan på {source_sv} fortsätter förbi gränsen: läsningen slutade efter {} byte; gränsen är {max} byte ({size})",
                max + 1,
            ),
            format!(
                "the query on {source} goes on past the limit: reading stopped after {} bytes; the limit is {max} bytes ({size})",
                max + 1,
            ),
        ));
    };
    String::from_utf8(bytes).map_err(|e| {
        InputError::in_both(
            "",
            format!(
                "{source_sv} är inte giltig UTF-8 (från byte {})",
                e.utf8_error().valid_up_to()
            ),
            format!("{source} is not valid UTF-8: {e}"),
        )
    })
}

/// One `--context KEY=VALUE` flag (`check`, `matrix`): a context key and `true` or `false`.
pub fn parse_context_pair(pair: &str) -> Result<(String, bool), InputError> {
    let Some((key, value)) = pair.split_once('=') else {
        return Err(InputError::in_both(
            "context",
            format!("`{pair}` är inte NYCKEL=VÄRDE, t.ex. humanReview=true"),
            format!("`{pair}` is not KEY=VALUE, e.g. humanReview=true"),
        ));
    };
    let value = match value.trim() {
        "true" => true,
        "false" => false,
        other => {
            return Err(InputError::in_both(
                format!("context.{key}"),
                format!("true eller false väntades, men här står `{other}`"),
                format!("expected true or false, found `{other}`"),
            ))
        }
    };
    Ok((key.trim().to_string(), value))
}

/// Says why a query cannot be decided, in `language` (`aipolicy::invalid_query`, as in
/// English).
pub fn report_input_error(err: &mut dyn Write, error: InputError, language: Language) {
    match language {
        Language::En => report(err, error),
        Language::Sv => report(
            err,
            SaidInSwedish {
                text: error.text_in(Language::Sv),
            },
        ),
    }
}

/// An input error said in Swedish.
#[derive(Debug)]
struct SaidInSwedish {
    text: String,
}

impl std::fmt::Display for SaidInSwedish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for SaidInSwedish {}

impl miette::Diagnostic for SaidInSwedish {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("aipolicy::invalid_query"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("frågans nycklar: `aipolicy schema query`"))
    }
}

/// Writes the pinned Decision JSON on one line.
pub fn write_json(out: &mut dyn Write, decision: &Decision) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, decision)?;
    writeln!(out)
}

/// Writes a decision for a person.
pub fn write_text(
    out: &mut dyn Write,
    decision: &Decision,
    language: Language,
) -> std::io::Result<()> {
    let (allowed, denied, reasons, duties, errors, notes) = match language {
        Language::Sv => (
            "TILLÅTET",
            "NEKAT",
            "Skäl",
            "Skyldigheter",
            "Fel",
            "Att notera",
        ),
        Language::En => ("ALLOWED", "DENIED", "Reasons", "Duties", "Errors", "Notes"),
    };
    match decision.decision {
        Verdict::Allow => writeln!(out, "{allowed} (allow)")?,
        Verdict::Deny => writeln!(out, "{denied} (deny)")?,
    }
    for (title, list) in [
        (reasons, &decision.reasons),
        (duties, &decision.obligations),
    ] {
        if list.is_empty() {
            continue;
        }
        writeln!(out, "{title}:")?;
        for r in list {
            match &r.law {
                Some(law) => writeln!(
                    out,
                    "  {:<3} {}  [{} · {law}]",
                    r.paragraph, r.message, r.policy
                )?,
                None => writeln!(out, "  {:<3} {}  [{}]", r.paragraph, r.message, r.policy)?,
            }
        }
    }
    for (title, list) in [(errors, &decision.errors), (notes, &decision.notes)] {
        if list.is_empty() {
            continue;
        }
        writeln!(out, "{title}:")?;
        for line in list {
            writeln!(out, "  {line}")?;
        }
    }
    if !decision.found.is_empty() {
        let (title, characters, no_class) = match language {
            Language::Sv => ("Hittat i texten", "tecken", "ingen informationsklass"),
            Language::En => ("Found in the text", "characters", "no data class"),
        };
        writeln!(out, "{title}:")?;
        for found in &decision.found {
            let place = match found.message {
                Some(message) => format!("#{message} "),
                None => String::new(),
            };
            let what = aipolicy::text::Kind::from_name(&found.kind).map_or(&*found.kind, |kind| {
                kind.described(language == Language::Sv)
            });
            writeln!(
                out,
                "  {what} [{}], {place}{characters} {}–{} → {}",
                found.kind,
                // As people count: the first character is 1, the range inclusive (the JSON's
                // `start` is 0-based, `end` exclusive).
                found.start + 1,
                found.end,
                found.class.as_deref().unwrap_or(no_class)
            )?;
        }
    }
    if let Some(channel) = &decision.incident_channel {
        let title = match language {
            Language::Sv => "Avvikelser rapporteras till",
            Language::En => "Report deviations to",
        };
        writeln!(out, "{title}:\n  {channel}")?;
    }
    Ok(())
}
