//! `aipolicy diff [OLD] [NEW]`: what a change does to the decisions. Each side is a git
//! revision of the project (materialised with `git archive` into a temporary folder) or a
//! folder, loaded as the project would be (`Inputs::of_project`, `Inputs::resolve`, the one
//! engine builder); the comparison is the library's (`aipolicy::diff`) and the proof
//! `aipolicy-verify`'s.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::{Args, ValueEnum};

use super::{DayArgs, Exit, LangArg};
use aipolicy::clock::Clock;
use aipolicy::decision::Language;
use aipolicy::diff::{invariant_changes, Diff};
use aipolicy::engine::Engine;
use aipolicy::inputs::{find_project, is_project, Inputs, Overrides};
use aipolicy::invariants::Invariants;
use aipolicy::project::Sources;

/// Arguments of `aipolicy diff`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Each side is a git revision of the project (HEAD, origin/main, a commit)
or a folder (a folder of that name wins over a revision). Without NEW the working tree is
compared; without OLD and NEW, the working tree with HEAD. Each side is loaded as the project
would be: its aipolicy.toml, policies/, schemas/, register.yaml and invariants, else the
embedded Askersund files.

The decisions compared are every cell of the access matrix of both registers: every AI system
and data class of either, every role, with and without the AI training, each unit, every
action and every combination of the context flags its policies read. The proof (cvc5, as
`aipolicy verify`) shows for each action whether the two policy sets decide alike for every
request and register, or gives a request where they differ, replayed through the engine.

Exit codes: 0 no decision changes, 1 some do (with --fail-on newly-allowed: something is newly
allowed), 2 an error (a side that cannot be read or loaded, no solver), 3 the output could not
be written.

Examples:
  aipolicy diff                         # the working tree against HEAD
  aipolicy diff origin/main             # the working tree against origin/main
  aipolicy diff origin/main HEAD --format md > comment.md
  aipolicy diff old-copy/ . --lang en
  aipolicy diff origin/main HEAD --fail-on newly-allowed"
)]
pub struct DiffArgs {
    /// The old side: a git revision of the project or a folder [default: HEAD]
    #[arg(value_name = "OLD")]
    pub old: Option<String>,
    /// The new side: a git revision of the project or a folder [default: the working tree]
    #[arg(value_name = "NEW")]
    pub new: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// What makes the exit code 1
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = FailOn::AnyChange)]
    pub fail_on: FailOn,
    /// Compare the matrix only, without the proof (which needs the SMT solver cvc5)
    #[arg(long)]
    pub no_proof: bool,
    /// The day both sides decide at
    #[command(flatten)]
    pub day: DayArgs,
    /// Language of the text and the reasons
    #[arg(long, value_enum, default_value_t = LangArg::Sv)]
    pub lang: LangArg,
    /// Do not name the inputs of each side on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

/// `--format` values of `diff`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// For a person.
    #[default]
    Text,
    /// Markdown, for a pull-request comment.
    Md,
    /// JSON, every cell whose decision changed included.
    Json,
}

/// `--fail-on` values of `diff`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any decision that changes.
    #[default]
    AnyChange,
    /// Only a decision newly allowed (or a request the proof finds, or cannot rule out).
    NewlyAllowed,
}

/// A side of the comparison as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Spec {
    /// The project as it is on disk here.
    WorkTree,
    /// A folder.
    Folder(PathBuf),
    /// A git revision.
    Revision(String),
}

impl Spec {
    fn of(text: &str) -> Spec {
        if Path::new(text).is_dir() {
            Spec::Folder(PathBuf::from(text))
        } else {
            Spec::Revision(text.to_string())
        }
    }
}

/// A temporary folder, removed when dropped.
#[derive(Debug)]
struct TempTree(PathBuf);

impl Drop for TempTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One side, resolved: its label, its inputs and, for a revision, the folder it was
/// materialised in (and the name it stands for in messages).
struct Side {
    label: String,
    inputs: Inputs,
    tree: Option<(TempTree, String)>,
}

impl Side {
    /// `text` with the temporary folder's path replaced by `REV:`.
    fn unmask(&self, text: &str) -> String {
        match &self.tree {
            Some((tree, rev)) => {
                let with_slash = format!("{}/", tree.0.display());
                text.replace(&with_slash, &format!("{rev}:"))
                    .replace(&tree.0.display().to_string(), &format!("{rev}:"))
            }
            None => text.to_string(),
        }
    }

    /// Writes `error` as a diagnostic, with this side's name in front and its paths unmasked.
    fn report(&self, err: &mut dyn Write, error: impl miette::Diagnostic + Send + Sync + 'static) {
        let text = format!("{:?}", miette::Report::new(error));
        let _ = writeln!(err, "{}: {}", self.label, self.unmask(&text));
    }
}

/// Runs `git` in `dir` with `args`; its stdout, trimmed, or what it said on stderr.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

/// How many temporary trees this process has made (each its own folder).
static TREES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The project folder at `rev`, written into a temporary folder by `git archive`: the project
/// whose root is `project` (in a git work tree), as it was committed.
fn materialise(project: &Path, rev: &str) -> Result<(TempTree, PathBuf, String), String> {
    let top = git(project, &["rev-parse", "--show-toplevel"]).map_err(|e| {
        format!(
            "`{rev}` is no folder, and `{}` is not in a git repository to read it as a revision from ({e})",
            project.display()
        )
    })?;
    let prefix = git(project, &["rev-parse", "--show-prefix"])?;
    let commit = git(
        project,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| format!("`{rev}` is neither a folder nor a git revision of `{top}`"))?;
    let short = git(project, &["rev-parse", "--short", &commit]).unwrap_or(commit.clone());
    let n = TREES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tree =
        TempTree(std::env::temp_dir().join(format!("aipolicy-diff-{}-{n}", std::process::id())));
    let _ = std::fs::remove_dir_all(&tree.0);
    std::fs::create_dir_all(&tree.0)
        .map_err(|e| format!("cannot make `{}`: {e}", tree.0.display()))?;
    let mut archive = Command::new("git");
    archive
        .arg("-C")
        .arg(&top)
        .args(["archive", "--format=tar", &commit]);
    if !prefix.is_empty() {
        archive.args(["--", &prefix]);
    }
    let mut archive = archive
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git archive: {e}"))?;
    let Some(tar_input) = archive.stdout.take() else {
        return Err("git archive gave no output".into());
    };
    let untar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&tree.0)
        .stdin(tar_input)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let archived = archive
        .wait_with_output()
        .map_err(|e| format!("git archive: {e}"))?;
    if !archived.status.success() {
        return Err(format!(
            "the project folder `{}` is not in `{rev}`: {}",
            if prefix.is_empty() { "." } else { &prefix },
            String::from_utf8_lossy(&archived.stderr).trim()
        ));
    }
    if !untar.status.success() {
        return Err(format!(
            "cannot unpack `{rev}`: {}",
            String::from_utf8_lossy(&untar.stderr).trim()
        ));
    }
    let root = tree.0.join(&prefix);
    Ok((tree, root, short))
}

/// Resolves one side: the working tree and a folder as any command run there would, a
/// revision as the project folder was committed in it.
fn resolve(spec: &Spec, cwd: &Path, language: Language) -> Result<Side, String> {
    let overrides = Overrides::default();
    match spec {
        Spec::WorkTree => Ok(Side {
            label: match language {
                Language::Sv => "arbetskatalogen".into(),
                Language::En => "the working tree".into(),
            },
            inputs: Inputs::resolve(&overrides, cwd).map_err(|e| e.to_string())?,
            tree: None,
        }),
        Spec::Folder(dir) => Ok(Side {
            label: dir.display().to_string(),
            inputs: Inputs::resolve(&overrides, dir).map_err(|e| e.to_string())?,
            tree: None,
        }),
        Spec::Revision(rev) => {
            let project = find_project(cwd).unwrap_or_else(|| cwd.to_path_buf());
            let (tree, root, short) = materialise(&project, rev)?;
            // As the project would be loaded: the folder is a project at that revision, or it
            // was not one then and the embedded files were in force.
            let inputs = if is_project(&root) {
                Inputs::of_project(&root).map_err(|e| {
                    e.to_string()
                        .replace(&format!("{}/", tree.0.display()), &format!("{rev}:"))
                })?
            } else {
                Inputs::embedded()
            };
            Ok(Side {
                label: format!("{rev} ({short})"),
                inputs,
                tree: Some((tree, rev.clone())),
            })
        }
    }
}

/// One side loaded: its engine, its invariants, its schema's text.
struct Loaded {
    engine: Engine,
    invariants: Invariants,
    schema_text: String,
}

fn load(side: &Side, clock: &Clock, language: Language, err: &mut dyn Write) -> Option<Loaded> {
    let engine = match side
        .inputs
        .engine_builder()
        .language(language)
        .clock(clock.clone())
        .build()
    {
        Ok(engine) => engine,
        Err(e) => {
            side.report(err, e);
            return None;
        }
    };
    let invariants = match side.inputs.invariants.path() {
        Some(file) => Invariants::from_file(file),
        None => Invariants::bundled(),
    };
    let invariants = match invariants {
        Ok(invariants) => invariants,
        Err(e) => {
            side.report(err, e);
            return None;
        }
    };
    let schema_text = match Sources::read(&side.inputs).schema.content {
        Ok(text) => text,
        Err(e) => {
            side.report(err, e);
            return None;
        }
    };
    Some(Loaded {
        engine,
        invariants,
        schema_text,
    })
}

/// Runs `aipolicy diff`: exit 0 no decision changes, 1 some do, 2 on an error.
pub fn run(args: &DiffArgs, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let language: Language = args.lang.into();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let old_spec = Spec::of(args.old.as_deref().unwrap_or("HEAD"));
    let new_spec = args.new.as_deref().map_or(Spec::WorkTree, Spec::of);
    let mut sides = Vec::new();
    for (name, spec) in [("old", &old_spec), ("new", &new_spec)] {
        match resolve(spec, &cwd, language) {
            Ok(side) => {
                if !args.quiet {
                    // A revision's files by their names in it (`HEAD:policies`), others as any
                    // command names them here.
                    let described = match &side.tree {
                        Some(_) => side.unmask(&side.inputs.describe(Path::new("/aipolicy-none"))),
                        None => side.inputs.describe(&cwd),
                    };
                    let _ = writeln!(err, "{name}: {}: {described}", side.label);
                }
                sides.push(side);
            }
            Err(message) => {
                let _ = writeln!(err, "error: {name}: {message}");
                return Exit::InputError;
            }
        }
    }
    let clock = match args.day.clock(args.quiet, err) {
        Ok(clock) => clock,
        Err(exit) => return exit,
    };
    let [old_side, new_side] = sides.as_slice() else {
        return Exit::InputError;
    };
    let (Some(old), Some(new)) = (
        load(old_side, &clock, language, err),
        load(new_side, &clock, language, err),
    ) else {
        return Exit::InputError;
    };
    let mut diff = match Diff::compute(&old.engine, &new.engine, language) {
        Ok(diff) => diff,
        Err(e) => {
            super::report(err, e);
            return Exit::InputError;
        }
    };
    diff.old_label = old_side.label.clone();
    diff.new_label = new_side.label.clone();
    let schema_changed = old.schema_text != new.schema_text;
    diff.rules.schema_changed = Some(schema_changed);
    diff.rules.invariants = Some(invariant_changes(&old.invariants, &new.invariants));
    let (old_only, new_only) = (
        old_side.inputs.registered_users_only,
        new_side.inputs.registered_users_only,
    );
    if old_only != new_only {
        diff.rules.registered_users_only = Some((old_only, new_only));
    }
    if !args.no_proof {
        match aipolicy_verify::compare(
            old.engine.policies(),
            new.engine.policies(),
            new.engine.schema(),
            schema_changed,
        ) {
            Ok(proof) => diff.proof = Some(proof),
            Err(e) => {
                super::report(err, e);
                let _ = writeln!(
                    err,
                    "(`aipolicy diff --no-proof` compares the matrix alone, without the proof)"
                );
                return Exit::InputError;
            }
        }
    }
    let text = match args.format {
        DiffFormat::Text => diff.to_text(),
        DiffFormat::Md => diff.to_markdown(),
        DiffFormat::Json => match diff.to_json() {
            Ok(json) => json + "\n",
            Err(e) => {
                let _ = writeln!(err, "error: cannot write the diff as JSON: {e}");
                return Exit::InputError;
            }
        },
    };
    if let Some(exit) = super::write_failure(out.write_all(text.as_bytes()), "the diff", err) {
        return exit;
    }
    let fails = match args.fail_on {
        FailOn::AnyChange => !diff.unchanged(),
        FailOn::NewlyAllowed => diff.newly_allows(),
    };
    if fails {
        Exit::Failure
    } else {
        Exit::Success
    }
}
