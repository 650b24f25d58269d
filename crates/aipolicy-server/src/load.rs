//! Loading the policy in force: the files named by [`Inputs`], read once, hashed into the
//! `policyRevision`, and built into an [`Engine`] from exactly the bytes that were hashed (a
//! file that changes while it is read can never give a revision that names other rules).

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use aipolicy::inputs::{Inputs, Source};
use aipolicy::policies::{self, Policies, PolicyFile};
use aipolicy::register::{Register, BUNDLED_REGISTER, BUNDLED_REGISTER_NAME, MAX_REGISTER_BYTES};
use aipolicy::{Engine, Language, LoadError, RegisterError, SourceDiagnostic};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::memo::SharedMemo;

/// A policy in force: the engine, its revision, and when it was loaded. Requests take an
/// `Arc<Loaded>` once and use it to the end, so that each sees one revision whole.
#[derive(Debug)]
pub struct Loaded {
    /// The engine.
    pub engine: Engine,
    /// The hash of the policies, schema and register (`policyRevision`).
    pub revision: Arc<str>,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// Decisions this engine made, by [`aipolicy::DecisionKey`]; dropped with the engine.
    pub memo: SharedMemo,
}

/// A load that failed: what went wrong, and where (the first file and line named).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadFailure {
    /// One line: what failed.
    pub message: String,
    /// The file at fault, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Every problem, each `file:line:column: message` where known.
    pub problems: Vec<String>,
}

impl LoadFailure {
    /// A failure with no file to point at.
    pub fn plain(message: impl Into<String>) -> LoadFailure {
        let message = message.into();
        LoadFailure {
            problems: vec![message.clone()],
            message,
            file: None,
            line: None,
        }
    }

    /// A failure in `file` (at `line`, when known).
    pub fn at(message: impl Into<String>, file: impl Into<String>, line: Option<usize>) -> Self {
        let message = message.into();
        let file = file.into();
        let place = match line {
            Some(line) => format!("{file}:{line}"),
            None => file.clone(),
        };
        LoadFailure {
            problems: vec![format!("{place}: {message}")],
            message,
            file: Some(file),
            line,
        }
    }

    /// The failure of `aipolicy validate`'s findings: its errors, each with file and line (its
    /// warnings do not stop a load).
    pub fn from_findings(findings: &[aipolicy::lint::Finding]) -> LoadFailure {
        let errors: Vec<&aipolicy::lint::Finding> = findings
            .iter()
            .filter(|f| f.severity == aipolicy::lint::Severity::Error)
            .collect();
        let Some(first) = errors.first() else {
            return LoadFailure::plain("the policies do not pass `aipolicy validate`");
        };
        LoadFailure {
            message: first.headline(),
            file: Some(first.file().to_string()),
            line: first.line_column().map(|(line, _)| line),
            problems: errors.iter().map(|f| f.headline()).collect(),
        }
    }

    /// The failure of a load error, with every diagnostic's file and line.
    pub fn from_load_error(error: &LoadError) -> LoadFailure {
        let mut problems = Vec::new();
        let mut first: Option<(String, Option<usize>)> = None;
        let mut note = |file: String, line: Option<usize>, problem: String| {
            if first.is_none() {
                first = Some((file, line));
            }
            problems.push(problem);
        };
        let diagnostics =
            |diags: &[SourceDiagnostic], note: &mut dyn FnMut(String, Option<usize>, String)| {
                for d in diags {
                    let at = d.line_column();
                    let place = match at {
                        Some((line, column)) => format!("{}:{line}:{column}", d.file()),
                        None => d.file().to_string(),
                    };
                    note(
                        d.file().to_string(),
                        at.map(|(line, _)| line),
                        format!("{place}: {}", d.headline()),
                    );
                }
            };
        match error {
            LoadError::Read { path, .. } | LoadError::NoPolicies(path) => {
                let file = path.display().to_string();
                note(file, None, error.to_string());
            }
            LoadError::Policies(diags) | LoadError::Schema(diags) => diagnostics(diags, &mut note),
            LoadError::Register(RegisterError::Syntax {
                diagnostics: diags, ..
            }) => diagnostics(diags, &mut note),
            LoadError::Register(RegisterError::Invalid {
                file,
                problems: found,
            }) => {
                for p in found {
                    let place = match p.line {
                        Some(line) => format!("{file}:{line}"),
                        None => file.clone(),
                    };
                    let problem = p.clone().at_line(None);
                    note(file.clone(), p.line, format!("{place}: {problem}"));
                }
            }
            // An internal error, or a kind this version does not know: its message alone.
            _ => {}
        }
        let (file, line) = first.map_or((None, None), |(file, line)| (Some(file), line));
        if problems.is_empty() {
            problems.push(error.to_string());
        }
        LoadFailure {
            message: error
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
            file,
            line,
            problems,
        }
    }
}

impl std::fmt::Display for LoadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        for p in &self.problems {
            if *p != self.message {
                write!(f, "\n  {p}")?;
            }
        }
        Ok(())
    }
}

/// Reads the inputs, hashes them and builds the engine (explaining in `language`); `memo` is
/// how many decisions the new engine may remember.
pub fn load(inputs: &Inputs, language: Language, memo: usize) -> Result<Loaded, LoadFailure> {
    let mut hash = Sha256::new();
    let (policies_name, files) = inputs.policy_files();
    let files = files.map_err(|e| LoadFailure::from_load_error(&e))?;
    hash_policy_files(&mut hash, &files);
    let schema = match &inputs.schema {
        Source::Embedded => {
            hash_part(&mut hash, "schema", policies::BUNDLED_SCHEMA.as_bytes());
            policies::bundled_schema()
        }
        Source::Path(file) => {
            let name = file.display().to_string();
            let text = read_text(file, MAX_SCHEMA_BYTES)?;
            hash_part(&mut hash, "schema", text.as_bytes());
            policies::load_schema(&text, &name)
        }
    }
    .map_err(|e| LoadFailure::from_load_error(&e))?;
    // The policy checks of `aipolicy validate` (strict schema validation, every paragraph
    // covered, no rule that can never apply), on exactly these bytes: what `validate` refuses,
    // the server never puts in force.
    let report = aipolicy::lint::lint_policies(&files, Some(&schema), &policies_name);
    if report.has_errors() {
        return Err(LoadFailure::from_findings(&report.findings));
    }
    let policies = Policies::from_files(files).map_err(|e| LoadFailure::from_load_error(&e))?;
    let register = match &inputs.register {
        Source::Embedded => {
            hash_part(&mut hash, "register", BUNDLED_REGISTER.as_bytes());
            Register::from_yaml(BUNDLED_REGISTER, BUNDLED_REGISTER_NAME)
        }
        Source::Path(file) => {
            let text = read_text(file, MAX_REGISTER_BYTES)?;
            hash_part(&mut hash, "register", text.as_bytes());
            Register::from_yaml(&text, &file.display().to_string())
        }
    }
    .map_err(|e| LoadFailure::from_load_error(&e))?;
    let engine = Engine::new(policies, schema, register)
        .map_err(|e| LoadFailure::from_load_error(&e))?
        .with_language(language);
    Ok(Loaded {
        engine,
        revision: hex(&hash.finalize()[..8]).into(),
        loaded_at: SystemTime::now(),
        memo: SharedMemo::new(memo),
    })
}

pub use aipolicy::log::hex;

fn hash_policy_files(hash: &mut Sha256, files: &[PolicyFile]) {
    for file in files {
        // The file's name (not its folder) and its text: the same rules served from another
        // folder have the same revision.
        let name = Path::new(&file.name)
            .file_name()
            .map_or_else(|| file.name.clone(), |n| n.to_string_lossy().into_owned());
        hash_part(hash, &format!("policy {name}"), file.text.as_bytes());
    }
}

fn hash_part(hash: &mut Sha256, what: &str, bytes: &[u8]) {
    hash.update(what.as_bytes());
    hash.update([0]);
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

/// A UTF-8 file of at most `max` bytes, read without reading past the limit.
fn read_text(path: &Path, max: usize) -> Result<String, LoadFailure> {
    let file_name = path.display().to_string();
    let read = std::fs::File::open(path).and_then(|file| {
        let mut bytes = Vec::new();
        let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
        file.take(limit).read_to_end(&mut bytes)?;
        Ok(bytes)
    });
    let bytes = read.map_err(|e| {
        LoadFailure::at(format!("cannot read `{file_name}`: {e}"), &file_name, None)
    })?;
    if bytes.len() > max {
        return Err(LoadFailure::at(
            format!("`{file_name}` is larger than the limit of {max} bytes"),
            &file_name,
            None,
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e
            .as_bytes()
            .get(..valid)
            .map_or(1, |b| b.iter().filter(|&&c| c == b'\n').count() + 1);
        LoadFailure::at(
            format!("`{file_name}` is not valid UTF-8"),
            &file_name,
            Some(line),
        )
    })
}

/// The files a watcher looks at for these inputs: every `.cedar` file of the policy folder (and
/// the folder itself, for files added or removed), the schema and the register.
pub fn watched_files(inputs: &Inputs) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Some(dir) = inputs.policies.path() {
        files.push(dir.to_path_buf());
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut cedar: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
                .collect();
            cedar.sort();
            files.extend(cedar);
        }
    }
    files.extend(inputs.schema.path().map(Path::to_path_buf));
    files.extend(inputs.register.path().map(Path::to_path_buf));
    files
}

/// The largest Cedar schema read (the bundled one is a few KiB).
pub const MAX_SCHEMA_BYTES: usize = 16 * 1024 * 1024;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

    use super::*;
    use aipolicy::inputs::Overrides;

    /// A policy set that `aipolicy validate` refuses (here: no policy for U5) is never put in
    /// force, though the engine alone would build from it; the failure names the check.
    #[test]
    fn the_server_loads_only_what_validate_passes() {
        let dir = std::env::temp_dir().join(format!("aipolicy-load-gate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in policies::BUNDLED_POLICY_FILES {
            let file = Path::new(name).file_name().unwrap();
            if !name.contains("u5-") {
                std::fs::write(dir.join(file), text).unwrap();
            }
        }
        let overrides = Overrides {
            policies: Some(dir.clone()),
            ..Overrides::default()
        };
        let inputs = Inputs::resolve(&overrides, &dir).unwrap();
        let files = policies::read_policy_dir(&dir).unwrap();
        let without_u5 = Policies::from_files(files).unwrap();
        assert!(
            Engine::new(
                without_u5,
                policies::bundled_schema().unwrap(),
                Register::bundled().unwrap()
            )
            .is_ok(),
            "the engine alone builds from it"
        );
        let failure = load(&inputs, Language::En, 16).expect_err("the gate refuses it");
        assert!(
            failure.message.contains("uncovered-paragraph"),
            "{failure:?}"
        );
        assert!(failure.message.contains("U5"), "{failure:?}");
        std::fs::remove_dir_all(&dir).unwrap();
        // The bundled set passes.
        let bundled = Inputs::resolve(&Overrides::default(), &std::env::temp_dir()).unwrap();
        assert!(load(&bundled, Language::En, 16).is_ok());
    }
}
