//! `aipolicy init`: a new project for a municipality (the work is the library's,
//! [`aipolicy::project::init`]; this says what was written and what to run next).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{report, write_failure, Exit};
use aipolicy::project::init::{self, FILL_IN};

/// Arguments of `aipolicy init`.
#[derive(Debug, Clone, Args)]
#[command(
    long_about = "Start a project: write a municipality's own copy of the policies, invariants,
register and policy text embedded in aipolicy, with its name where Askersund's stood, and a
scenario file and a CI workflow, so that `aipolicy validate` and `aipolicy test` pass in it at
once. Then change what is the municipality's own.",
    after_help = "Writes into DIR (made if missing):
  aipolicy.toml                    the project: where its files are
  register.yaml                    the AI register, commented (its AI systems and users are examples)
  policy.md                        the policy's own words, for the staff page
  policies/*.cedar                 the rules, one file per paragraph and act of law
  policies/invariants.yaml         what `aipolicy verify` proves
  tests/scenarios/exempel.yaml     scenarios that pass (`aipolicy test`)
  .github/workflows/aipolicy.yml   CI: validate and test on every push
What the author must fill in (the municipality's website, where CI gets aipolicy) is marked
FYLL-I: `grep -rn FYLL-I DIR` lists it.

Never overwrites: if any of these files exists (or DIR/policies holds other .cedar files),
nothing is written and the files in the way are named.

Exit codes: 0 written, 2 a file in the way or a name that cannot be used, 3 a file could not be
written (what had been written is removed).

Examples:
  aipolicy init hallsberg --name \"Hallsbergs kommun\"
  cd hallsberg && aipolicy validate && aipolicy test
  aipolicy init --name \"Hallsbergs kommun\"      # into the current folder"
)]
pub struct InitArgs {
    /// The folder to write the project into [default: the current folder]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The municipality's name as it is written, e.g. "Hallsbergs kommun"
    #[arg(long, value_name = "NAME")]
    pub name: String,
}

/// Runs `aipolicy init`: writes the project, or nothing; lists what it wrote on `out` and what
/// to run next.
pub fn run(args: &InitArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let written = match init::init(&dir, &args.name) {
        Ok(written) => written,
        Err(e) => {
            let exit = if e.is_write() {
                Exit::WriteError
            } else {
                Exit::InputError
            };
            report(err, e);
            return exit;
        }
    };
    let here = dir == Path::new(".");
    let mut text = format!(
        "Wrote a project for {} in {}{}:\n",
        args.name.trim(),
        if here {
            "the current folder".to_string()
        } else {
            format!("`{}`", dir.display())
        },
        if written.created_dir { " (new)" } else { "" }
    );
    // Aligned on the files that say what they are; a policy file's name says it.
    let width = written
        .files
        .iter()
        .filter(|f| !f.what.is_empty())
        .map(|f| f.path.display().to_string().chars().count())
        .max()
        .unwrap_or(0);
    for file in &written.files {
        let path = file.path.display().to_string();
        if file.what.is_empty() {
            text.push_str(&format!("  {path}\n"));
        } else {
            text.push_str(&format!("  {path:width$}  {}\n", file.what));
        }
    }
    let grep_dir = if here {
        ".".to_string()
    } else {
        dir.display().to_string()
    };
    text.push_str(&format!(
        "\nNext, check it (both pass as written):\n{}  aipolicy validate\n  aipolicy test\n\
         Then make it the municipality's own: what is marked {FILL_IN} (`grep -rn {FILL_IN} {grep_dir}`), \
         and the example AI systems and users of register.yaml.\n",
        if here {
            String::new()
        } else {
            format!("  cd {}\n", shell_word(&dir))
        },
    ));
    match write_failure(out.write_all(text.as_bytes()), "the list of files", err) {
        Some(exit) => exit,
        None => Exit::Success,
    }
}

/// `dir` as a shell word: quoted when it holds anything a shell would read otherwise.
fn shell_word(dir: &Path) -> String {
    let text = dir.display().to_string();
    if text
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
