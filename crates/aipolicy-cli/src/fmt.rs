//! `aipolicy fmt`: format `.cedar` files with Cedar's formatter, or check that they are.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{report, Exit};
use aipolicy::authoring::format::format_cedar;

/// Arguments of `aipolicy fmt`.
#[derive(Debug, Clone, Default, Args)]
#[command(
    after_help = "Formats with Cedar's own formatter (line width 80, indent 2), keeping every
annotation and comment; the formatter proves it changed nothing but layout.

Exit codes: 0 done (or, with --check, everything already formatted), 1 with --check: some file
would change, 2 a file cannot be read or parsed, 3 a file cannot be written.

Examples:
  aipolicy fmt                              # every .cedar file of the project's policies/
  aipolicy fmt --check                      # in CI: fail, name the files that would change
                                            # and show each change as a unified diff
  aipolicy fmt policies/u3-publik-ai.cedar  # one file
  aipolicy fmt --check other/policies"
)]
pub struct FmtArgs {
    /// Do not write: exit 1, name the files that would change and show how (a unified diff)
    #[arg(long)]
    pub check: bool,
    /// .cedar files, or folders searched for them [default: the project's policies/]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Do not name the policies in force on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

/// Runs `aipolicy fmt`.
pub fn run(args: &FmtArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let paths = if args.paths.is_empty() {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let project = aipolicy::inputs::find_project(&cwd)
            .map(|root| aipolicy::inputs::Inputs::of_project(&root));
        match project {
            Some(Ok(inputs)) if inputs.policies.path().is_some() => inputs
                .policies
                .path()
                .map(Path::to_path_buf)
                .into_iter()
                .collect(),
            Some(Err(e)) => {
                report(err, e);
                return Exit::InputError;
            }
            // A project of a register (or policy text) alone decides on the embedded policies,
            // which are not its to format.
            Some(Ok(inputs)) => {
                let root = inputs.project.unwrap_or_else(|| cwd.clone());
                let _ = writeln!(
                    err,
                    "error: the project `{}` has no policies of its own (it uses the embedded \
                     ones); name the .cedar files or folders to format, e.g. \
                     `aipolicy fmt path/to/policies`",
                    root.display()
                );
                return Exit::InputError;
            }
            None => {
                let _ = writeln!(
                    err,
                    "error: no project here: `{}` and the folders above it have no `policies/` \
                     folder with .cedar files (nor an aipolicy.toml); name the .cedar files or \
                     folders to format, e.g. `aipolicy fmt path/to/policies`",
                    cwd.display()
                );
                return Exit::InputError;
            }
        }
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    for path in &paths {
        // A file as given, or the `.cedar` files under a folder (recursively, in name order).
        match aipolicy::read::files_under(path, &["cedar"]) {
            Ok(found) => files.extend(found),
            Err((_, e)) => {
                let _ = writeln!(err, "error: cannot read `{}`: {e}", path.display());
                return Exit::InputError;
            }
        }
    }
    if files.is_empty() {
        let _ = writeln!(
            err,
            "error: no .cedar files in {}",
            paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Exit::InputError;
    }

    let (mut changed, mut unchanged, mut failed, mut unwritten) = (0usize, 0usize, 0usize, 0usize);
    for file in &files {
        let name = file.display().to_string();
        let max = aipolicy::policies::MAX_POLICY_BYTES;
        let text = match aipolicy::read::read_text_file(file, "policy", max) {
            Ok(Ok(text)) => text,
            Ok(Err(problem)) => {
                let _ = writeln!(err, "error: `{name}`: {problem}");
                failed += 1;
                continue;
            }
            Err(e) => {
                let _ = writeln!(err, "error: cannot read `{name}`: {e}");
                failed += 1;
                continue;
            }
        };
        let formatted = match format_cedar(&text, &name) {
            Ok(formatted) => formatted,
            Err(diagnostics) => {
                for d in diagnostics {
                    report(err, d);
                }
                failed += 1;
                continue;
            }
        };
        if formatted == text {
            unchanged += 1;
            continue;
        }
        changed += 1;
        if args.check {
            let _ = writeln!(out, "would reformat {name}");
            let _ = write!(out, "{}", layout_diff(&text, &formatted, &name));
        } else if let Err(e) = std::fs::write(file, formatted) {
            let _ = writeln!(err, "error: cannot write `{name}`: {e}");
            unwritten += 1;
        } else {
            let _ = writeln!(out, "reformatted {name}");
        }
    }
    let _ = if args.check {
        writeln!(
            err,
            "{changed} file(s) would be reformatted, {unchanged} already formatted"
        )
    } else {
        writeln!(
            err,
            "{changed} file(s) reformatted, {unchanged} already formatted"
        )
    };
    if failed > 0 {
        let _ = writeln!(err, "{failed} file(s) could not be formatted");
        Exit::InputError
    } else if unwritten > 0 {
        let _ = writeln!(err, "{unwritten} file(s) could not be written");
        Exit::WriteError
    } else if args.check && changed > 0 {
        let _ = if args.paths.is_empty() {
            writeln!(err, "run `aipolicy fmt` to format them")
        } else {
            let named: Vec<String> = args
                .paths
                .iter()
                .map(|p| shell_word(&p.display().to_string()))
                .collect();
            writeln!(err, "run `aipolicy fmt {}` to format them", named.join(" "))
        };
        Exit::Failure
    } else {
        Exit::Success
    }
}

/// What formatting changes in a file, as a unified diff (three lines of context) that a
/// reviewer reads in a CI log: `--- NAME` as it is, `+++ NAME` as `aipolicy fmt` writes it.
fn layout_diff(text: &str, formatted: &str, name: &str) -> String {
    similar::TextDiff::from_lines(text, formatted)
        .unified_diff()
        .context_radius(3)
        .header(name, &format!("{name} (formatted)"))
        .to_string()
}

/// A path as a shell word: quoted when it holds anything but plain characters.
fn shell_word(path: &str) -> String {
    let plain = path
        .chars()
        .all(|c| c.is_alphanumeric() || "/._-+:=@".contains(c));
    if plain && !path.is_empty() {
        path.to_string()
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    }
}
