//! The inputs in force: which policies, schema, register, invariants and scenarios a command
//! uses. Files of a project in the current folder (or an ancestor) win over the embedded
//! Askersund default, and flags win over both.
//!
//! A **project** is the nearest folder, from the current one up, that holds an `aipolicy.toml`,
//! a `register.yaml` or a `policy.md` (the staff page's policy text), or a `policies/` folder
//! with `.cedar` files ([`is_project`]). What it lacks is embedded. In it, by convention:
//!
//! | input | file | when absent |
//! |---|---|---|
//! | policies | `policies/*.cedar` | the embedded Askersund policies |
//! | Cedar schema | `schemas/aipolicy.cedarschema` | the embedded schema |
//! | register | `register.yaml` | the embedded Askersund register |
//! | invariants | `policies/invariants.yaml`, else `invariants.yaml` | the embedded invariants |
//! | scenarios | `tests/scenarios/` | none |
//!
//! An `aipolicy.toml` may name other places (paths relative to it):
//!
//! ```toml
//! policies = "rules"
//! schema = "rules/aipolicy.cedarschema"
//! register = "register/ai-register.yaml"
//! invariants = "rules/invariants.yaml"
//! scenarios = "scenario-tests"
//! registered-users-only = true   # deny users the register does not list
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostics::error::LoadError;
use crate::policy::{self, PolicyFile};

/// The name of a project's settings file.
pub const PROJECT_FILE: &str = "aipolicy.toml";

/// Where one input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Embedded in aipolicy (the Askersund default).
    Embedded,
    /// A file or folder.
    Path(PathBuf),
}

impl Source {
    /// The path, for a file or folder.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::Embedded => None,
            Source::Path(path) => Some(path),
        }
    }
}

/// What a command was told on its command line; anything not given comes from the project, or
/// else is embedded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--policies DIR`.
    pub policies: Option<PathBuf>,
    /// `--schema FILE`.
    pub schema: Option<PathBuf>,
    /// `--register FILE`.
    pub register: Option<PathBuf>,
    /// `--invariants FILE`.
    pub invariants: Option<PathBuf>,
    /// `--registered-users-only`: deny users the register does not list, whatever the
    /// project's `aipolicy.toml` says (a flag can turn it on, never off).
    pub registered_users_only: bool,
}

/// The inputs in force, resolved once and named on stderr by every command.
///
/// ```
/// use aipolicy::project::inputs::{Inputs, Overrides, Source};
/// let empty = std::env::temp_dir();
/// let inputs = Inputs::resolve(&Overrides::default(), &empty).unwrap();
/// # if inputs.project.is_none() {
/// assert_eq!(inputs.policies, Source::Embedded);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// The project folder, when one was found.
    pub project: Option<PathBuf>,
    /// The folder of `.cedar` files.
    pub policies: Source,
    /// The Cedar schema.
    pub schema: Source,
    /// The register.
    pub register: Source,
    /// The invariants `aipolicy verify` proves.
    pub invariants: Source,
    /// The scenario folder of the project, when it has one.
    pub scenarios: Option<PathBuf>,
    /// Whether users the register does not list are denied (`registered-users-only = true` in
    /// `aipolicy.toml`, or `--registered-users-only`): every engine built from these inputs
    /// decides so (see [`crate::Engine::registered_users_only`]).
    pub registered_users_only: bool,
}

/// A project whose settings cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum ProjectError {
    /// `aipolicy.toml` cannot be read.
    #[error("cannot read `{}`: {source}", path.display())]
    #[diagnostic(code(aipolicy::project_read))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `aipolicy.toml` is not valid.
    #[error("`{}` is invalid: {message}", path.display())]
    #[diagnostic(
        code(aipolicy::project),
        help("its keys are policies, schema, register, invariants and scenarios, each a path relative to the file, and registered-users-only (true or false)")
    )]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line.
        message: String,
    },
    /// A path the settings name does not exist.
    #[error("`{}` names {what} `{}`, which does not exist", file.display(), path.display())]
    #[diagnostic(code(aipolicy::project_path))]
    Missing {
        /// The settings file.
        file: PathBuf,
        /// Which input.
        what: &'static str,
        /// The path it names.
        path: PathBuf,
    },
}

/// The keys of `aipolicy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    policies: Option<PathBuf>,
    schema: Option<PathBuf>,
    register: Option<PathBuf>,
    invariants: Option<PathBuf>,
    scenarios: Option<PathBuf>,
    /// Deny users the register does not list: for a municipality whose register lists every
    /// user (pinned key `registered-users-only`).
    #[serde(default, rename = "registered-users-only")]
    registered_users_only: bool,
}

/// The most of `aipolicy.toml` that is read: it holds five short paths and a switch.
const MAX_PROJECT_FILE_BYTES: usize = 64 * 1024;

impl Inputs {
    /// The embedded Askersund default, whatever the current folder holds.
    pub fn embedded() -> Inputs {
        Inputs {
            project: None,
            policies: Source::Embedded,
            schema: Source::Embedded,
            register: Source::Embedded,
            invariants: Source::Embedded,
            scenarios: None,
            registered_users_only: false,
        }
    }

    /// The inputs for a command run in `cwd`: each override as given, else the project's file
    /// (the project found from `cwd` up), else the embedded default. `--policies DIR` without
    /// `--invariants` takes `DIR/invariants.yaml` when it exists.
    pub fn resolve(overrides: &Overrides, cwd: &Path) -> Result<Inputs, ProjectError> {
        let mut inputs = match find_project(cwd) {
            Some(root) => {
                let mut inputs = Inputs::of_project(&root)?;
                if std::env::current_dir().is_ok_and(|here| here == cwd) {
                    inputs.relative_to(&root, cwd);
                }
                inputs
            }
            None => Inputs::embedded(),
        };
        if let Some(dir) = &overrides.policies {
            inputs.policies = Source::Path(dir.clone());
            let beside = dir.join("invariants.yaml");
            if overrides.invariants.is_none() && beside.is_file() {
                inputs.invariants = Source::Path(beside);
            }
        }
        if let Some(file) = &overrides.schema {
            inputs.schema = Source::Path(file.clone());
        }
        if let Some(file) = &overrides.register {
            inputs.register = Source::Path(file.clone());
        }
        if let Some(file) = &overrides.invariants {
            inputs.invariants = Source::Path(file.clone());
        }
        inputs.registered_users_only |= overrides.registered_users_only;
        Ok(inputs)
    }

    /// The inputs of the project in `root`: its `aipolicy.toml`, else the conventional places.
    pub fn of_project(root: &Path) -> Result<Inputs, ProjectError> {
        let settings_file = root.join(PROJECT_FILE);
        let settings = if settings_file.is_file() {
            read_settings(&settings_file)?
        } else {
            Settings::default()
        };
        let named =
            |what: &'static str, path: &Option<PathBuf>| -> Result<Option<PathBuf>, ProjectError> {
                match path {
                    None => Ok(None),
                    Some(path) => {
                        let full = root.join(path);
                        if full.exists() {
                            Ok(Some(full))
                        } else {
                            Err(ProjectError::Missing {
                                file: settings_file.clone(),
                                what,
                                path: full,
                            })
                        }
                    }
                }
            };
        let existing = |candidates: &[&str]| {
            candidates
                .iter()
                .map(|c| root.join(c))
                .find(|p| p.exists())
                .map_or(Source::Embedded, Source::Path)
        };
        let policies = named("policies", &settings.policies)?
            .map_or_else(|| existing(&["policies"]), Source::Path);
        let schema = named("schema", &settings.schema)?
            .map_or_else(|| existing(&["schemas/aipolicy.cedarschema"]), Source::Path);
        let register = named("register", &settings.register)?
            .map_or_else(|| existing(&["register.yaml"]), Source::Path);
        let invariants = named("invariants", &settings.invariants)?.map_or_else(
            || existing(&["policies/invariants.yaml", "invariants.yaml"]),
            Source::Path,
        );
        let scenarios = named("scenarios", &settings.scenarios)?
            .or_else(|| Some(root.join("tests/scenarios")).filter(|p| p.is_dir()));
        Ok(Inputs {
            project: Some(root.to_path_buf()),
            policies,
            schema,
            register,
            invariants,
            scenarios,
            registered_users_only: settings.registered_users_only,
        })
    }

    /// Rewrites the project's paths (under `root`) relative to `cwd`, a folder in it, so that
    /// files are named as a person in `cwd` would type them (`policies/…`, `../policies/…`).
    fn relative_to(&mut self, root: &Path, cwd: &Path) {
        let Ok(below) = cwd.strip_prefix(root) else {
            return;
        };
        let up: PathBuf = below.components().map(|_| "..").collect();
        let rebase = |path: &mut PathBuf| {
            if let Ok(rest) = path.strip_prefix(root) {
                *path = if rest.as_os_str().is_empty() {
                    up.clone()
                } else {
                    up.join(rest)
                };
            }
        };
        for source in [
            &mut self.policies,
            &mut self.schema,
            &mut self.register,
            &mut self.invariants,
        ] {
            if let Source::Path(path) = source {
                rebase(path);
            }
        }
        if let Some(path) = &mut self.scenarios {
            rebase(path);
        }
        if let Some(path) = &mut self.project {
            rebase(path);
            if path.as_os_str().is_empty() {
                *path = PathBuf::from(".");
            }
        }
    }

    /// The policy files in force, and the name findings give their folder (the folder, or
    /// `embedded policies/`): read as the engine, `validate` and the service's load read them.
    pub fn policy_files(&self) -> (String, Result<Vec<PolicyFile>, LoadError>) {
        match &self.policies {
            Source::Embedded => (
                policy::BUNDLED_POLICIES_NAME.to_string(),
                Ok(policy::bundled_policy_files()),
            ),
            Source::Path(dir) => (dir.display().to_string(), policy::read_policy_dir(dir)),
        }
    }

    /// One line naming every input, paths shown relative to `cwd` where they can be, e.g.
    /// `policies policies, invariants policies/invariants.yaml; embedded Askersund schema and
    /// register (project .)`.
    pub fn describe(&self, cwd: &Path) -> String {
        let all = [
            ("policies", &self.policies),
            ("schema", &self.schema),
            ("register", &self.register),
            ("invariants", &self.invariants),
        ];
        let named: Vec<String> = all
            .iter()
            .filter_map(|(name, source)| {
                source
                    .path()
                    .map(|path| format!("{name} {}", relative(path, cwd)))
            })
            .collect();
        let embedded: Vec<&str> = all
            .iter()
            .filter(|(_, source)| **source == Source::Embedded)
            .map(|(name, _)| *name)
            .collect();
        let mut named = named;
        if let Some(scenarios) = &self.scenarios {
            named.push(format!("scenarios {}", relative(scenarios, cwd)));
        }
        let mut line = named.join(", ");
        if !embedded.is_empty() {
            if !line.is_empty() {
                line.push_str("; ");
            }
            line.push_str("embedded Askersund ");
            line.push_str(&match embedded.split_last() {
                Some((last, [])) => (*last).to_string(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => String::new(),
            });
        }
        if let Some(root) = &self.project {
            line.push_str(&format!(" (project {})", relative(root, cwd)));
        }
        // Said where the inputs are, since it changes every decision about an unlisted user.
        if self.registered_users_only {
            line.push_str("; registered users only");
        }
        line
    }
}

impl fmt::Display for Inputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Path::new(".")))
    }
}

/// `path` relative to `cwd` when it is inside it (`./policies`), else as it is.
fn relative(path: &Path, cwd: &Path) -> String {
    if path.is_relative() {
        return path.display().to_string();
    }
    match path.strip_prefix(cwd) {
        Ok(rest) if rest.as_os_str().is_empty() => ".".to_string(),
        Ok(rest) => format!("./{}", rest.display()),
        Err(_) => path.display().to_string(),
    }
}

/// The nearest folder from `start` up that is a project.
pub fn find_project(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| is_project(dir))
        .map(Path::to_path_buf)
}

/// The files whose presence makes a folder a project, besides a `policies/` folder with
/// `.cedar` files: the settings, a register, a policy text. A folder that holds only its own
/// register is a project too, so that the register is used (and a broken one refused) rather
/// than the embedded Askersund register decided on in its place.
pub const PROJECT_MARKERS: [&str; 3] = [PROJECT_FILE, "register.yaml", "policy.md"];

/// Whether `dir` holds an `aipolicy.toml`, a `register.yaml` or a `policy.md`, or a `policies/`
/// folder with `.cedar` files.
pub fn is_project(dir: &Path) -> bool {
    if PROJECT_MARKERS.iter().any(|file| dir.join(file).is_file()) {
        return true;
    }
    std::fs::read_dir(dir.join("policies"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "cedar"))
        })
        .unwrap_or(false)
}

fn read_settings(path: &Path) -> Result<Settings, ProjectError> {
    let text = crate::io::read::read_text_file(path, "project file", MAX_PROJECT_FILE_BYTES)
        .map_err(|source| ProjectError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .map_err(|problem| ProjectError::Invalid {
            path: path.to_path_buf(),
            message: problem.message,
        })?;
    toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|span| {
                let (line, column) = crate::diagnostics::error::line_column(&text, span.start);
                format!(" (line {line} column {column})")
            })
            .unwrap_or_default();
        ProjectError::Invalid {
            path: path.to_path_buf(),
            message: format!("{}{at}", e.message()),
        }
    })
}
