//! Loading the policy in force through the core's one load ([`aipolicy::project::EngineBuilder::load`]
//! at [`Gate::Validate`]), and what `/v1/status` shows of a load that failed.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use aipolicy::inputs::Inputs;
use aipolicy::project::{Gate, Refused};
use aipolicy::{Engine, Language, LoadError, RegisterError, SourceDiagnostic};
use serde::Serialize;

use aipolicy::DecisionMemo;

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
    pub memo: DecisionMemo,
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

/// Loads the inputs through the core's one load, at the gate of `aipolicy validate`: read once,
/// hashed into the revision, checked, and built from the bytes that were hashed (explaining in
/// `language`); `memo` is how many decisions the new engine may remember.
pub fn load(inputs: &Inputs, language: Language, memo: usize) -> Result<Loaded, LoadFailure> {
    let loaded = inputs
        .engine_builder()
        .gate(Gate::Validate)
        .language(language)
        .load()
        .map_err(|refused| match refused {
            Refused::Error(e) => LoadFailure::from_load_error(&e),
            Refused::Findings(findings) => LoadFailure::from_findings(&findings),
        })?;
    Ok(Loaded {
        engine: loaded.engine,
        // At the gate of `validate` every input is read, so there is always a revision.
        revision: loaded
            .revision
            .ok_or_else(|| LoadFailure::plain("the inputs have no policy revision"))?
            .into(),
        loaded_at: SystemTime::now(),
        memo: DecisionMemo::new(memo),
    })
}

pub use aipolicy::io::hex;

/// The files a watcher looks at for these inputs: every `.cedar` file of the policy folder (and
/// the folder itself, for files added or removed), the schema, the register and the
/// invariants.
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
    // The load's gate type-checks the invariants too: a change to them is a reload.
    files.extend(inputs.invariants.path().map(Path::to_path_buf));
    files
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

    use super::*;
    use aipolicy::inputs::Overrides;
    use aipolicy::policies::{self, Policies};
    use aipolicy::Register;

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
