//! `aipolicy init`: a new project for a municipality, made from the set embedded in aipolicy
//! (the Askersund policies, invariants, policy text and register), with the municipality's
//! name where Askersund's stood, so that it validates and its scenarios pass at once.
//!
//! The files are made from the embedded texts when the command runs (nothing is kept twice in
//! the repository), and written only if none of them exists yet: a project is never overwritten,
//! not even in part.
//!
//! ```
//! use aipolicy::project::init::{project_files, Municipality};
//!
//! let hallsberg = Municipality::new("Hallsbergs kommun").unwrap();
//! let files = project_files(&hallsberg);
//! let register = files.iter().find(|f| f.path.as_os_str() == "register.yaml").unwrap();
//! assert!(register.text.contains("municipality: Hallsbergs kommun"));
//! assert!(files.iter().all(|f| !f.text.to_lowercase().contains("askersund")));
//!
//! let err = Municipality::new("Hallsberg: kommun").unwrap_err();
//! assert!(err.to_string().starts_with("--name `Hallsberg: kommun`: `:` cannot be in"));
//! ```

use std::path::{Path, PathBuf};

use crate::authoring::invariants::BUNDLED_INVARIANTS;
use crate::model::register::BUNDLED_REGISTER;
use crate::policy::text::BUNDLED_POLICY_TEXT;
use crate::policy::BUNDLED_POLICY_FILES;
use crate::project::inputs::PROJECT_FILE;

/// What marks every place the author must fill in before the project is used for real
/// (`grep -rn FYLL-I .` finds them all).
pub const FILL_IN: &str = "FYLL-I";

/// What stands where the embedded files name Askersund's website: a placeholder that reads as
/// an address, so that the sentences around it still read, and carries [`FILL_IN`].
pub const WEBSITE_PLACEHOLDER: &str = "www.FYLL-I-KOMMUNENS-WEBBPLATS.se";

/// The longest name taken: what the register's `municipality` allows.
pub const MAX_NAME_CHARS: usize = 200;

/// A municipality's name as `aipolicy init` writes it into every file: letters, digits, spaces,
/// hyphens, full stops and apostrophes, starting with a letter. Nothing else is taken, because
/// the name goes into YAML scalars, Cedar comments, TOML comments and Markdown as it is, and
/// none of these characters can change what those files mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality(String);

impl Municipality {
    /// The name, trimmed, or why it cannot be used.
    pub fn new(name: &str) -> Result<Municipality, InitError> {
        let name = name.trim();
        let bad = |problem: String| InitError::Name {
            name: name.to_string(),
            problem,
        };
        let Some(first) = name.chars().next() else {
            return Err(bad("the name is empty".into()));
        };
        if !first.is_alphabetic() {
            return Err(bad(format!("it starts with `{first}`, not a letter")));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, ' ' | '-' | '.' | '\'' | '’')))
        {
            return Err(bad(format!(
                "`{}` cannot be in a name written into the project's files",
                c.escape_default()
            )));
        }
        if name.contains("  ") {
            return Err(bad("it has two spaces in a row".into()));
        }
        let chars = name.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(bad(format!(
                "it is {chars} characters long; the register takes at most {MAX_NAME_CHARS}"
            )));
        }
        Ok(Municipality(name.to_string()))
    }

    /// The name as given (`Hallsbergs kommun`).
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The name in the genitive (`Hallsbergs kommuns`): Swedish adds an `s`, except to a word
    /// that already ends in one (or in `x` or `z`).
    pub fn genitive(&self) -> String {
        if self.0.ends_with(['s', 'x', 'z', 'S', 'X', 'Z']) {
            self.0.clone()
        } else {
            format!("{}s", self.0)
        }
    }

    /// The embedded `text` made the municipality's: its name (and genitive) where Askersund's
    /// stood, the placeholder where Askersund's website did, and Askersund's example
    /// contractor renamed. The most specific phrase first, so that a shorter one never cuts
    /// into a longer one.
    fn adapt(&self, text: &str) -> String {
        let genitive = self.genitive();
        let replacements: [(&str, String); 8] = [
            ("www.askersund.se", WEBSITE_PLACEHOLDER.to_string()),
            ("askersund.se", WEBSITE_PLACEHOLDER.to_string()),
            ("Askersunds kommuns", genitive.clone()),
            // The embedded policy text writes the genitive so in two places.
            ("Askersund kommuns", genitive.clone()),
            ("Askersunds kommun", self.0.clone()),
            (
                "Askersunds invånarchatt",
                format!("{genitive} invånarchatt"),
            ),
            (
                "Hemtjänst i Askersund AB",
                "Hemtjänstbolaget AB".to_string(),
            ),
            ("Askersund", self.0.clone()),
        ];
        replacements
            .iter()
            .fold(text.to_string(), |text, (from, to)| text.replace(from, to))
    }
}

/// One file of a new project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    /// Where it goes, relative to the project's folder.
    pub path: PathBuf,
    /// What it is, for the list `aipolicy init` prints (empty for a policy file: its name says).
    pub what: &'static str,
    /// Its text.
    pub text: String,
}

/// Every file of a new project for `municipality`, in the order they are listed: the settings,
/// the register, the policy text, the policies and invariants, a scenario file, a CI workflow.
pub fn project_files(municipality: &Municipality) -> Vec<ProjectFile> {
    let name = municipality.name();
    let mut files = vec![
        ProjectFile {
            path: PathBuf::from(PROJECT_FILE),
            what: "the project: where its files are",
            text: settings(name),
        },
        ProjectFile {
            path: PathBuf::from("register.yaml"),
            what: "the AI register, commented (its AI systems and users are examples)",
            text: format!(
                "{}{}",
                register_header(name),
                municipality.adapt(BUNDLED_REGISTER)
            ),
        },
        ProjectFile {
            path: PathBuf::from("policy.md"),
            what: "the policy's own words, for the staff page (replace with yours)",
            text: format!(
                "{}{}",
                policy_text_header(name),
                municipality.adapt(BUNDLED_POLICY_TEXT)
            ),
        },
    ];
    files.push(ProjectFile {
        path: PathBuf::from("privacy.md"),
        what: "the privacy notice the staff page links (fill in)",
        text: privacy_notice(name),
    });
    files.extend(BUNDLED_POLICY_FILES.iter().map(|(file, text)| ProjectFile {
        // The embedded names are `policies/NAME.cedar` already; a bare name is placed there too.
        path: Path::new("policies").join(Path::new(file).file_name().unwrap_or_default()),
        what: "",
        text: municipality.adapt(text),
    }));
    files.extend([
        ProjectFile {
            path: PathBuf::from("policies/invariants.yaml"),
            what: "what `aipolicy verify` proves of the policies",
            text: municipality.adapt(BUNDLED_INVARIANTS),
        },
        ProjectFile {
            path: PathBuf::from("tests/scenarios/exempel.yaml"),
            what: "scenarios: what the policy must decide (`aipolicy test`)",
            text: SCENARIOS.to_string(),
        },
        ProjectFile {
            path: PathBuf::from(".github/workflows/aipolicy.yml"),
            what: "CI (GitHub Actions): validate and test on every push",
            text: CI_WORKFLOW.to_string(),
        },
    ]);
    files
}

/// What `aipolicy init` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The project's folder, as given.
    pub dir: PathBuf,
    /// Every file written, relative to it, with what it is.
    pub files: Vec<ProjectFile>,
    /// Whether the folder was made (it did not exist).
    pub created_dir: bool,
}

/// Why `aipolicy init` wrote nothing.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum InitError {
    /// `--name` cannot be written into the project's files.
    #[error("--name `{name}`: {problem}")]
    #[diagnostic(
        code(aipolicy::init_name),
        help("give the municipality's name of letters, digits, spaces, hyphens, full stops and apostrophes, starting with a letter, e.g. --name \"Hallsbergs kommun\"")
    )]
    Name {
        /// The name given.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Files (or folders) of the project are there already.
    #[error("{} already holds {}; nothing was written:{}", show(dir), count(files.len()), list(files))]
    #[diagnostic(
        code(aipolicy::init_exists),
        help("aipolicy init never overwrites: remove or move these files, or name another folder (aipolicy init DIR)")
    )]
    Exists {
        /// The folder.
        dir: PathBuf,
        /// What is in the way, each as a path that includes the folder.
        files: Vec<PathBuf>,
    },
    /// A folder or file could not be made; what had been written was removed again.
    #[error("cannot write `{}`: {source}; nothing was kept", path.display())]
    #[diagnostic(code(aipolicy::init_write))]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl InitError {
    /// Whether the error is one of writing (exit 3), not of what was asked (exit 2).
    pub fn is_write(&self) -> bool {
        matches!(self, InitError::Write { .. })
    }
}

/// `dir` as a person names it in a message.
fn show(dir: &Path) -> String {
    if dir.as_os_str().is_empty() || dir == Path::new(".") {
        "the current folder".to_string()
    } else {
        format!("`{}`", dir.display())
    }
}

fn count(n: usize) -> String {
    match n {
        1 => "a file of the project".to_string(),
        n => format!("{n} files of the project"),
    }
}

/// One path a line, so that a long list stays readable however the message is wrapped.
fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| format!("\n  {}", f.display()))
        .collect()
}

/// Writes a new project for the municipality `name` into `dir` (made if missing): every file of
/// [`project_files`], or none. Everything in the way is found first (a file of the project that
/// exists, a `.cedar` file already in `policies/`, a file where a folder must go) and then
/// nothing is written; files are made with `create_new`, so that one that appears meanwhile is
/// not overwritten either, and a write that fails removes what this call had written.
pub fn init(dir: &Path, name: &str) -> Result<Written, InitError> {
    let municipality = Municipality::new(name)?;
    let files = project_files(&municipality);
    let in_the_way = in_the_way(dir, &files);
    if !in_the_way.is_empty() {
        return Err(InitError::Exists {
            dir: dir.to_path_buf(),
            files: in_the_way,
        });
    }
    let created_dir = !dir.exists();
    let mut made = Made::default();
    if let Err(e) = write_all(dir, &files, &mut made) {
        made.undo();
        return Err(e);
    }
    Ok(Written {
        dir: dir.to_path_buf(),
        files,
        created_dir,
    })
}

/// What is in the way of writing `files` into `dir`, in the order found.
fn in_the_way(dir: &Path, files: &[ProjectFile]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if dir.exists() && !dir.is_dir() {
        found.push(dir.to_path_buf());
        return found;
    }
    for file in files {
        // A folder on the way that is a file (or a link to nowhere) blocks the file.
        let mut on_the_way = PathBuf::new();
        for part in file.path.parent().into_iter().flat_map(Path::components) {
            on_the_way.push(part);
            let full = dir.join(&on_the_way);
            if full.symlink_metadata().is_ok() && !full.is_dir() && !found.contains(&full) {
                found.push(full);
            }
        }
        let full = dir.join(&file.path);
        // `symlink_metadata`: a link to nowhere is in the way too.
        if full.symlink_metadata().is_ok() {
            found.push(full);
        }
    }
    // Policies already there under other names would join the new ones, and decide with them.
    let policies = dir.join("policies");
    if let Ok(entries) = std::fs::read_dir(&policies) {
        let mut others: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "cedar") && !found.contains(p))
            .collect();
        others.sort();
        found.extend(others);
    }
    found
}

/// What one call has made, to take back if a later write fails.
#[derive(Default)]
struct Made {
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

impl Made {
    /// Removes the files made, then the folders made (deepest first; only if empty).
    fn undo(self) {
        for file in self.files.iter().rev() {
            let _ = std::fs::remove_file(file);
        }
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn write_all(dir: &Path, files: &[ProjectFile], made: &mut Made) -> Result<(), InitError> {
    for file in files {
        let full = dir.join(&file.path);
        if let Some(parent) = full.parent() {
            make_dirs(parent, made)?;
        }
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&full)
            .and_then(|mut handle| {
                made.files.push(full.clone());
                std::io::Write::write_all(&mut handle, file.text.as_bytes())
            });
        if let Err(source) = written {
            return Err(InitError::Write { path: full, source });
        }
    }
    Ok(())
}

/// Makes `dir` and the folders above it that are missing, noting each one made.
fn make_dirs(dir: &Path, made: &mut Made) -> Result<(), InitError> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .collect();
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(d) {
            Ok(()) => made.dirs.push(d.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(source) => {
                return Err(InitError::Write {
                    path: d.to_path_buf(),
                    source,
                })
            }
        }
    }
    Ok(())
}

/// `aipolicy.toml`: the conventional places, named so that the author sees where each file is.
fn settings(name: &str) -> String {
    format!(
        "# The aipolicy project of {name}, written by `aipolicy init`.
#
# Every aipolicy command run in this folder, or in a folder below it, uses the files named here
# instead of those embedded in aipolicy. Paths are relative to this file; a key left out takes
# the conventional place, and a path that does not exist is an error.
policies = \"policies\"
register = \"register.yaml\"
invariants = \"policies/invariants.yaml\"
scenarios = \"tests/scenarios\"
# The Cedar schema (what the policies see of users, AI systems and information) is the one
# embedded in aipolicy, which builds those from the register; only a change of aipolicy itself
# changes it. `aipolicy schema cedar` prints it.
# schema = \"schemas/aipolicy.cedarschema\"
"
    )
}

/// The register's first lines: what the example is and what must be done with it. Swedish, as
/// the register's own comments.
fn register_header(name: &str) -> String {
    format!(
        "# Skapat av `aipolicy init` för {name}: aipolicys exempelregister, med kommunens namn insatt.
# Informationsklasserna följer KLASSA och kan ofta behållas; AI-systemen, användarna och
# datumen nedan är EXEMPEL som ska ersättas med kommunens egna innan registret används på
# riktigt. Det som måste fyllas i är märkt {FILL_IN}. Kontrollera med `aipolicy validate`.
#
"
    )
}

/// The policy text's first lines: whose words these are until the municipality's own replace
/// them.
fn policy_text_header(name: &str) -> String {
    format!(
        "<!--
{FILL_IN}: written by `aipolicy init` for {name}. This is aipolicy's example policy text (a
municipality's adopted \"Policy för ansvarsfull AI\") with the name put in: replace it with the
policy {name} has adopted, keeping a {{CODE}} at the end of each heading or list item that a
paragraph's rules come from (§1–§6, U0–U5).
-->
"
    )
}

/// The privacy notice of the staff page (GDPR art. 13), to fill in: the staff page shows it on
/// `/privacy` below what the service itself keeps (its decision log, how long, who reads it),
/// which the page says from the service's own settings.
fn privacy_notice(name: &str) -> String {
    format!(
        "<!--
{FILL_IN}: written by `aipolicy init` for {name}. The staff page shows this text on /privacy,
below what the service itself says it keeps (read off its settings: the decision log, for how
long, whether a person is named by id, by pseudonym or not at all). Fill in what only {name}
can say, and have the data-protection officer read it.
-->
# Integritet: frågor på sidan ”Får jag använda AI?”

## Personuppgiftsansvarig

{name} ({FILL_IN}: nämnd eller styrelse som är personuppgiftsansvarig), organisationsnummer
{FILL_IN}.

## Dataskyddsombud

Du når kommunens dataskyddsombud på {FILL_IN}: e-postadress eller telefonnummer.

## Ändamål och rättslig grund

Frågorna loggas för att kommunen ska kunna följa upp att AI används enligt policyn för
ansvarsfull AI: tillsyn, revision och utvärdering. Den rättsliga grunden är {FILL_IN}: till
exempel att behandlingen är nödvändig för en uppgift av allmänt intresse
(dataskyddsförordningen art. 6.1 e).

## Mottagare

Loggen läses av {FILL_IN}: till exempel dataskyddsombudet, informationssäkerhetssamordnaren och
internrevisionen. Den lämnas inte ut till någon annan, utom när lag kräver det.

## Dina rättigheter

Du har rätt att få veta vilka uppgifter om dig som behandlas, att få felaktiga uppgifter rättade
och att klaga hos Integritetsskyddsmyndigheten (IMY). Vänd dig till dataskyddsombudet.
"
    )
}

/// A scenario file that passes on the register as written and after its examples are replaced:
/// it names no AI system or user of the register, only the data classes `oppen` and `intern`,
/// which every KLASSA register has.
const SCENARIOS: &str = "\
# Scenarios: what the policy must decide, run by `aipolicy test` (every file in this folder).
# The format: `aipolicy schema scenarios`. Write a case for each rule you change, and for each
# AI system of the register that matters.
cases:
  - name: Publik AI med öppen information är tillåten
    query: {user: {id: exempel, roles: [employee]}, ai: en-publik-chattbot, data: oppen}
    expect: allow
  - name: Publik AI med intern information nekas (U3)
    query: {user: {id: exempel, roles: [employee]}, ai: en-publik-chattbot, data: intern}
    expect: {decision: deny, paragraphs: [U3], policies: [u3-public-ai-open-only]}
  - name: En informationsklass som registret saknar är ett inmatningsfel
    query: {user: {id: exempel, roles: [employee]}, ai: en-publik-chattbot, data: finns-inte}
    expect: error
";

/// A GitHub Actions workflow: the two checks of the project on every push and pull request.
const CI_WORKFLOW: &str = "\
# Checks the policies, the register and the scenarios on every push and pull request, as
# `aipolicy validate` and `aipolicy test` do on your machine. Written by `aipolicy init`.
name: aipolicy
on:
  push:
  pull_request:
jobs:
  policy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      # FYLL-I: where your organisation gets aipolicy (the version you run locally), e.g. its
      # git repository; the runner's Rust toolchain builds the `aipolicy` binary from it.
      - name: Install aipolicy
        run: cargo install --locked --git https://FYLL-I-AIPOLICY-REPOSITORY aipolicy-cli
      - name: Validate the policies and the register
        run: aipolicy validate
      - name: Run the scenarios
        run: aipolicy test
";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

    use super::*;
    use crate::authoring::invariants::Invariants;
    use crate::engine::Engine;
    use crate::model::register::Register;
    use crate::policy::text::PolicyText;
    use crate::policy::{load_schema, Policies, PolicyFile, BUNDLED_SCHEMA};

    fn text_of<'a>(files: &'a [ProjectFile], path: &str) -> &'a str {
        &files
            .iter()
            .find(|f| f.path == Path::new(path))
            .unwrap()
            .text
    }

    /// Every name of these shapes gives files that load, and none names Askersund.
    #[test]
    fn the_files_load_and_name_the_municipality_for_every_shape_of_name() {
        for name in [
            "Hallsbergs kommun",
            "Malung-Sälens kommun",
            "Upplands Väsby kommun",
            "Alingsås kommun",
            "Region Gotland",
        ] {
            let municipality = Municipality::new(name).unwrap();
            let files = project_files(&municipality);
            for file in &files {
                assert!(
                    !file.text.to_lowercase().contains("askersund"),
                    "{name}: {} names Askersund",
                    file.path.display()
                );
            }
            let register_text = text_of(&files, "register.yaml");
            assert!(register_text.contains(&format!("\nmunicipality: {name}\n")));
            let register = Register::from_yaml(register_text, "register.yaml")
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let policies: Vec<PolicyFile> = files
                .iter()
                .filter(|f| f.path.extension().is_some_and(|x| x == "cedar"))
                .map(|f| PolicyFile {
                    name: f.path.display().to_string(),
                    text: f.text.as_str().into(),
                })
                .collect();
            assert_eq!(policies.len(), BUNDLED_POLICY_FILES.len());
            let schema = load_schema(BUNDLED_SCHEMA, "schema").unwrap();
            Engine::new(Policies::from_files(policies).unwrap(), schema, register).unwrap();
            Invariants::from_yaml(text_of(&files, "policies/invariants.yaml"), "invariants")
                .unwrap();
            let text = PolicyText::parse(text_of(&files, "policy.md"), "policy.md").unwrap();
            assert_eq!(text.title.as_deref(), Some("Policy för ansvarsfull AI"));
            // The privacy notice reads as the staff page reads it, names the municipality and
            // marks what only it can say.
            let privacy = text_of(&files, "privacy.md");
            let notice = PolicyText::parse(privacy, "privacy.md").unwrap();
            assert!(notice
                .sections
                .iter()
                .any(|s| s.heading == "Personuppgiftsansvarig"));
            assert!(
                privacy.contains(name) && privacy.contains(FILL_IN),
                "{privacy}"
            );
        }
    }

    #[test]
    fn the_name_stands_where_askersunds_stood_and_the_website_is_a_placeholder() {
        let files = project_files(&Municipality::new("Hallsbergs kommun").unwrap());
        let policy = text_of(&files, "policy.md");
        assert!(
            policy.contains("för Hallsbergs kommuns räkning"),
            "{policy}"
        );
        assert!(policy.contains("använda Hallsbergs kommuns beslutade AI"));
        assert!(policy.contains(&format!("publiceras på {WEBSITE_PLACEHOLDER}")));
        let register = text_of(&files, "register.yaml");
        assert!(register.contains("Chatt på www.FYLL-I-KOMMUNENS-WEBBPLATS.se"));
        assert!(register.contains("name: Hallsbergs kommuns invånarchatt"));
        let u0 = text_of(&files, "policies/u0-anvandare-och-beslutad-ai.cedar");
        assert!(u0.contains("Hallsbergs kommuns"), "{u0}");
    }

    #[test]
    fn names_that_would_change_a_file_are_refused() {
        for (name, problem) in [
            ("", "the name is empty"),
            ("   ", "the name is empty"),
            ("1 kommun", "it starts with `1`, not a letter"),
            (
                "Hallsberg # kommun",
                "`#` cannot be in a name written into the project's files",
            ),
            (
                "Hallsberg\nkommun",
                "`\\n` cannot be in a name written into the project's files",
            ),
            ("Hallsbergs  kommun", "it has two spaces in a row"),
        ] {
            match Municipality::new(name) {
                Err(InitError::Name { problem: p, .. }) => assert_eq!(p, problem, "{name:?}"),
                other => panic!("{name:?}: {other:?}"),
            }
        }
        let long = "A".repeat(MAX_NAME_CHARS + 1);
        assert!(Municipality::new(&long).is_err());
        assert_eq!(
            Municipality::new("  Hallsbergs kommun ").unwrap().name(),
            "Hallsbergs kommun"
        );
        assert_eq!(
            Municipality::new("Alingsås kommun").unwrap().genitive(),
            "Alingsås kommuns"
        );
        assert_eq!(
            Municipality::new("Region Gotland").unwrap().genitive(),
            "Region Gotlands"
        );
    }
}
