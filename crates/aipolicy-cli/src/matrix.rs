//! `aipolicy matrix`: the access matrix (AI system × data class × role), computed by the engine.

use std::io::Write;

use clap::{Args, ValueEnum};

use super::check::ActionArg;
use super::{report, EngineArgs, Exit};
use aipolicy::matrix::{Audience, Matrix};
use aipolicy::query::{Action, Context};

/// Arguments of `aipolicy matrix`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Every cell is decided by the engine, exactly as `aipolicy check` would decide
it for a user with that one role (employee, contractor, elected). A deny names its paragraphs.
The caption says for whom: by default a user without the AI training (which high-risk AI asks
for, EU AI Act art. 26(2)) and, for a class restricted to some units, one of its own staff;
--ai-literacy and --unit choose otherwise.

Examples:
  aipolicy matrix                                    # Markdown, action `use`
  aipolicy matrix --format html > ai-matris.html     # one self-contained page for the intranet
  aipolicy matrix --format csv > matris.csv         # one line per cell, for spreadsheets
  aipolicy matrix --action publish --context humanReviewed=true --context aiDisclosure=true
  aipolicy matrix --action decide --context humanReview=true --ai-literacy
  aipolicy matrix --unit Socialförvaltningen         # what that unit's staff may do
  aipolicy matrix --register other/register.yaml --policies policies"
)]
pub struct MatrixArgs {
    /// The action decided in every cell
    #[arg(long, value_enum, default_value_t = ActionArg::Use)]
    pub action: ActionArg,
    /// A context flag every query carries, e.g. humanReview=true; repeat for several
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Decide for users who have had the AI training (default: for users who have not)
    #[arg(long)]
    pub ai_literacy: bool,
    /// Decide for users of this unit [default: for a class restricted to some units, its own
    /// staff; else no unit]
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = MatrixFormat::Md)]
    pub format: MatrixFormat,
    /// Where policies, schema and register come from (--lang sets the language of the reasons)
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `--format` values of `matrix`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum MatrixFormat {
    /// Markdown: a table per role, a row per AI system, a column per data class.
    #[default]
    Md,
    /// CSV: one line per cell, for spreadsheets.
    Csv,
    /// One self-contained HTML page, readable and printable.
    Html,
}

/// Runs `aipolicy matrix`: exit 0 when written, 2 on input errors.
pub fn run(args: &MatrixArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let (engine, _) = match args.engine.load(err) {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let mut context = Context::default();
    for pair in &args.context {
        let result = super::check::parse_context_pair(pair)
            .and_then(|(key, value)| context.set(&key, value));
        if let Err(e) = result {
            report(err, e);
            return Exit::InputError;
        }
    }
    let audience = Audience {
        ai_literacy: args.ai_literacy,
        unit: args.unit.clone(),
    };
    let matrix = match Matrix::compute_for(
        &engine,
        Action::from(args.action),
        context,
        &audience,
        engine.language(),
    ) {
        Ok(matrix) => matrix,
        Err(e) => {
            report(err, e);
            return Exit::InputError;
        }
    };
    let text = match args.format {
        MatrixFormat::Md => matrix.to_markdown(),
        MatrixFormat::Csv => matrix.to_csv(),
        MatrixFormat::Html => matrix.to_html(),
    };
    super::write_failure(out.write_all(text.as_bytes()), "the matrix", err).unwrap_or(Exit::Success)
}
