//! Scenario files: testers state in YAML what the policy must decide; the runner checks every
//! case against the engine and counts which policies the cases exercise (coverage).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostics::error::{FieldError, LoadError, SourceDiagnostic};
use crate::engine::Engine;
use crate::io::json_schema;
use crate::io::yaml_limits::YamlLimits;
use crate::model::clock::Date;
use crate::model::decision::{Decision, Language, Verdict};
use crate::model::query::Query;
use crate::model::register::Register;

/// The largest scenario file [`ScenarioFile::parse`] and [`ScenarioFile::load`] read: 16 MiB.
pub const MAX_SCENARIO_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting of YAML collections in a scenario file; a valid one nests 6 levels
/// (`cases` → a case → `query` → `user` → `roles`).
pub const MAX_SCENARIO_DEPTH: usize = 32;

/// The most YAML values a scenario file may hold once its aliases are expanded: 2,000,000
/// (over 100,000 cases). An alias bomb is stopped by this count before anything is built.
pub const MAX_SCENARIO_VALUES: usize = 2_000_000;

/// And at most this many YAML values per byte of the file's text, aliases expanded.
pub const MAX_SCENARIO_VALUES_PER_BYTE: usize = 16;

/// A scenario file's limits, checked while the YAML is read, before anything is built.
const SCENARIO_LIMITS: YamlLimits = YamlLimits {
    what: "scenario file",
    max_bytes: MAX_SCENARIO_BYTES,
    max_depth: MAX_SCENARIO_DEPTH,
    max_values: MAX_SCENARIO_VALUES,
    values_per_byte: MAX_SCENARIO_VALUES_PER_BYTE,
};

/// What a case expects to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// An allow.
    Allow,
    /// A deny.
    Deny,
    /// An input error: the query cannot be decided.
    Error,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Error => "error",
        }
    }
}

/// A case's expectation: the outcome, and paragraphs and policies that must all be among the
/// decision's reasons (deny) or obligations (allow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// Allow, deny or input error.
    pub decision: Outcome,
    /// Paragraph codes that must be among the reasons or obligations.
    pub paragraphs: Vec<String>,
    /// Policy `@id`s that must be among the reasons or obligations.
    pub policies: Vec<String>,
}

impl<'de> Deserialize<'de> for Expectation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Long {
            decision: Outcome,
            #[serde(default)]
            paragraphs: Vec<String>,
            #[serde(default)]
            policies: Vec<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Short(Outcome),
            Long(Long),
        }
        Ok(match Form::deserialize(d)? {
            Form::Short(decision) => Expectation {
                decision,
                paragraphs: Vec::new(),
                policies: Vec::new(),
            },
            Form::Long(long) => Expectation {
                decision: long.decision,
                paragraphs: long.paragraphs,
                policies: long.policies,
            },
        })
    }
}

/// One case of a scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case checks, in a sentence.
    pub name: String,
    /// The query, as written (checked when the case runs, so a case can expect an input error).
    pub query: Value,
    /// What must happen.
    pub expect: Expectation,
    /// 1-based line of the case's name in its file (0 when unknown).
    #[serde(skip)]
    pub line: usize,
}

/// A scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The register it runs against, resolved against the file's folder; `None` for the
    /// engine's own register.
    pub register: Option<PathBuf>,
    /// The day its cases are decided at, unless a case's query gives its own `at`; `None`:
    /// the engine's today.
    pub at: Option<Date>,
    /// Its cases, in order.
    pub cases: Vec<Case>,
}

impl ScenarioFile {
    /// A case's query as it runs: with the file's `at` when the query gives none.
    pub fn query_of(&self, case: &Case) -> Value {
        let mut query = case.query.clone();
        if let (Some(day), Value::Object(map)) = (self.at, &mut query) {
            map.entry("at")
                .or_insert_with(|| Value::String(day.to_string()));
        }
        query
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    register: Option<PathBuf>,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    cases: Vec<Case>,
}

/// A scenario file or folder that cannot be used. `aipolicy test` exits 2.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum ScenarioError {
    /// Cannot read a file or folder.
    #[error("cannot read `{}`: {source}", path.display())]
    #[diagnostic(code(aipolicy::scenario_read))]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid YAML.
    #[error("scenario file `{file}` is not valid YAML")]
    #[diagnostic(code(aipolicy::scenario_syntax))]
    Syntax {
        /// The file.
        file: String,
        /// Where it broke.
        #[related]
        diagnostics: Vec<SourceDiagnostic>,
    },
    /// Valid YAML, but not a scenario file.
    #[error(
        "scenario file `{file}` is invalid: {}",
        crate::diagnostics::error::count(problems)
    )]
    #[diagnostic(
        code(aipolicy::scenario),
        help("the scenario file's keys: `aipolicy schema scenarios`")
    )]
    Invalid {
        /// The file.
        file: String,
        /// Every problem, with its path (and line where known).
        #[related]
        problems: Vec<FieldError>,
    },
    /// The register the file names cannot be loaded.
    #[error("scenario file `{file}`: its register cannot be loaded")]
    #[diagnostic(code(aipolicy::scenario_register))]
    Register {
        /// The file.
        file: String,
        /// Why.
        #[source]
        #[diagnostic_source]
        error: LoadError,
    },
    /// No scenario file under the given paths.
    #[error("no scenario files (*.yaml, *.yml) in {}", .0.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", "))]
    #[diagnostic(
        code(aipolicy::no_scenarios),
        help("give scenario files or folders, e.g. `aipolicy test tests/scenarios`")
    )]
    NoScenarios(Vec<PathBuf>),
}

fn scenarios_validator() -> Result<&'static json_schema::CompiledSchema, String> {
    static VALIDATOR: json_schema::Compiled = json_schema::Compiled::new();
    json_schema::compiled(&VALIDATOR, json_schema::SCENARIOS_SCHEMA)
}

impl ScenarioFile {
    /// Reads and validates a scenario file (UTF-8, at most [`MAX_SCENARIO_BYTES`]).
    pub fn load(path: &Path) -> Result<ScenarioFile, ScenarioError> {
        let text = crate::io::read::read_text_file(path, "scenario", MAX_SCENARIO_BYTES)
            .map_err(|source| ScenarioError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .map_err(|problem| ScenarioError::Invalid {
                file: path.display().to_string(),
                problems: vec![problem],
            })?;
        ScenarioFile::parse(&text, path)
    }

    /// Parses scenario YAML; `path` names it in errors and anchors a relative `register`.
    /// A text over [`MAX_SCENARIO_BYTES`], nested over [`MAX_SCENARIO_DEPTH`] or with more
    /// than [`MAX_SCENARIO_VALUES`] (or [`MAX_SCENARIO_VALUES_PER_BYTE`]) values, aliases
    /// expanded, is invalid, found before it is built.
    pub fn parse(text: &str, path: &Path) -> Result<ScenarioFile, ScenarioError> {
        let file = path.display().to_string();
        let (text, json) =
            crate::io::yaml_limits::to_json(text, &file, &SCENARIO_LIMITS).map_err(|problem| {
                problem.into_error(
                    |diagnostics| ScenarioError::Syntax {
                        file: file.clone(),
                        diagnostics,
                    },
                    |problems| ScenarioError::Invalid {
                        file: file.clone(),
                        problems,
                    },
                )
            })?;
        let invalid = |problems: Vec<FieldError>| ScenarioError::Invalid {
            file: file.clone(),
            problems,
        };
        let validator = scenarios_validator().map_err(|e| invalid(vec![FieldError::new("", e)]))?;
        let problems = json_schema::violations(validator, &json);
        if !problems.is_empty() {
            let lines = case_lines(text, &json);
            let problems = problems
                .into_iter()
                .map(|p| with_case_line(p, &lines))
                .collect();
            return Err(invalid(problems));
        }
        let raw: RawFile = serde_json::from_value(json.clone())
            .map_err(|e| invalid(vec![FieldError::new("", e.to_string())]))?;
        let at = match raw.at.as_deref().map(crate::model::clock::parse_day) {
            None => None,
            Some(Ok(day)) => Some(day),
            Some(Err(message)) => {
                let line = crate::io::yaml_path::line_of_yaml_path(text, "at");
                return Err(invalid(vec![FieldError::new("at", message).at_line(line)]));
            }
        };
        let lines = case_lines(text, &json);
        let cases = raw
            .cases
            .into_iter()
            .zip(lines.into_iter().chain(std::iter::repeat(0)))
            .map(|(case, line)| Case { line, ..case })
            .collect();
        let register = raw.register.map(|register| {
            path.parent()
                .map_or_else(|| register.clone(), |dir| dir.join(&register))
        });
        Ok(ScenarioFile {
            path: path.to_path_buf(),
            register,
            at,
            cases,
        })
    }
}

/// The line of each case's `name`, found in order in the text (YAML values keep no positions).
fn case_lines(text: &str, json: &Value) -> Vec<usize> {
    let names = json
        .get("cases")
        .and_then(Value::as_array)
        .map(|cases| {
            cases
                .iter()
                .map(|c| c.get("name").and_then(Value::as_str).unwrap_or(""))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let mut from = 0;
    names
        .iter()
        .map(|name| {
            if name.is_empty() {
                return 0;
            }
            match text.get(from..).and_then(|rest| rest.find(name)) {
                Some(at) => {
                    from += at + name.len();
                    crate::diagnostics::error::line_column(text, from - name.len()).0
                }
                None => 0,
            }
        })
        .collect()
}

fn with_case_line(problem: FieldError, lines: &[usize]) -> FieldError {
    let index = problem
        .path
        .strip_prefix("cases[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse::<usize>().ok());
    match index.and_then(|i| lines.get(i)).filter(|&&line| line > 0) {
        Some(line) => FieldError::new(
            problem.path,
            format!("{} (case at line {line})", problem.message),
        ),
        None => problem,
    }
}

/// Every scenario file under `paths` (files as given; folders searched for `*.yaml`/`*.yml`),
/// sorted by path.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut files = Vec::new();
    for path in paths {
        let found = crate::io::read::files_under(path, &["yaml", "yml"])
            .map_err(|(path, source)| ScenarioError::Read { path, source })?;
        files.extend(found);
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(ScenarioError::NoScenarios(paths.to_vec()));
    }
    Ok(files)
}

/// What actually happened to a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Actual {
    /// The engine decided.
    Decision(Decision),
    /// The query was an input error.
    InputError(Vec<String>),
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseResult {
    /// The scenario file.
    pub file: String,
    /// The case's name.
    pub name: String,
    /// Line of the case in its file (0 when unknown).
    pub line: usize,
    /// The query as written.
    pub query: Value,
    /// What was expected.
    pub expect: Expectation,
    /// What happened.
    pub actual: Actual,
    /// Why the case failed; empty when it passed.
    pub failures: Vec<String>,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// `file:line` (or just the file when the line is unknown).
    pub fn location(&self) -> String {
        if self.line > 0 {
            format!("{}:{}", self.file, self.line)
        } else {
            self.file.clone()
        }
    }

    /// How coverage names the case: `file: name`.
    pub fn label(&self) -> String {
        format!("{}: {}", self.file, self.name)
    }
}

/// For each policy of the policy set, the cases in which it was a reason or an obligation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Policy `@id` → labels of the cases that exercised it (`file: case name`).
    pub by_policy: BTreeMap<String, Vec<String>>,
}

impl Coverage {
    /// Policies no case exercised.
    pub fn unexercised(&self) -> Vec<&str> {
        self.by_policy
            .iter()
            .filter(|(_, cases)| cases.is_empty())
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

/// The outcome of a scenario run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunReport {
    /// Every case, sorted by file and then in file order.
    pub results: Vec<CaseResult>,
    /// Which policies the cases exercised.
    pub coverage: Coverage,
}

impl RunReport {
    /// Number of cases that passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    /// Number of cases that failed.
    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }
}

/// Runs every scenario file under `paths` against `engine` (or, for a file that names its own
/// register, against the engine's policies with that register).
///
/// ```
/// use std::path::PathBuf;
/// let engine = aipolicy::Engine::bundled().unwrap();
/// let dir = std::env::temp_dir().join(format!("aipolicy-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("u3.yaml"), "cases:\n  - name: Public AI with internal information\n    query: {user: anna, ai: chatgpt, data: intern}\n    expect: {decision: deny, paragraphs: [U3]}\n").unwrap();
/// let report = aipolicy::scenario::run_paths(&engine, &[dir.clone()]).unwrap();
/// assert_eq!((report.passed(), report.failed()), (1, 0));
/// assert_eq!(report.coverage.by_policy["u3-public-ai-open-only"].len(), 1);
/// # std::fs::remove_dir_all(dir).unwrap();
/// ```
pub fn run_paths(engine: &Engine, paths: &[PathBuf]) -> Result<RunReport, ScenarioError> {
    run_paths_on(engine, paths, None)
}

/// [`run_paths`], with every file's cases decided as on `day` when it is given, instead of the
/// file's own `at` (a case whose query gives its own `at` keeps it): "which of these cases still
/// hold on that day?".
pub fn run_paths_on(
    engine: &Engine,
    paths: &[PathBuf],
    day: Option<Date>,
) -> Result<RunReport, ScenarioError> {
    let files = discover(paths)?;
    let mut engines: HashMap<PathBuf, Engine> = HashMap::new();
    let mut report = RunReport {
        results: Vec::new(),
        coverage: Coverage {
            by_policy: engine
                .policies()
                .rules()
                .iter()
                .map(|r| (r.id.to_string(), Vec::new()))
                .collect(),
        },
    };
    for path in files {
        let mut file = ScenarioFile::load(&path)?;
        if day.is_some() {
            file.at = day;
        }
        check_policy_ids(engine, &file)?;
        let file_engine = match &file.register {
            None => engine,
            Some(register_path) => {
                if !engines.contains_key(register_path) {
                    if let Some(loaded) = engine_for_file(engine, &file)? {
                        engines.insert(register_path.clone(), loaded);
                    }
                }
                engines.get(register_path).unwrap_or(engine)
            }
        };
        for result in run_file(file_engine, &file) {
            if let Actual::Decision(decision) = &result.actual {
                for policy in decision.policies() {
                    if let Some(cases) = report.coverage.by_policy.get_mut(policy) {
                        cases.push(result.label());
                    }
                }
            }
            report.results.push(result);
        }
    }
    Ok(report)
}

/// Every policy a case expects must exist: a mistyped id would make a case fail for the wrong
/// reason (or, in a deny, hide which rule was meant), so it is an error in the file.
pub fn check_policy_ids(engine: &Engine, file: &ScenarioFile) -> Result<(), ScenarioError> {
    let known: Vec<&str> = engine
        .policies()
        .rules()
        .iter()
        .map(|r| &*r.id)
        .chain(crate::model::decision::ENGINE_POLICIES)
        .collect();
    let mut problems = Vec::new();
    for (i, case) in file.cases.iter().enumerate() {
        for (j, id) in case.expect.policies.iter().enumerate() {
            if known.contains(&id.as_str()) {
                continue;
            }
            let hint = crate::diagnostics::suggest::closest(id, known.iter().copied())
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_default();
            problems.push(
                FieldError::new(
                    format!("cases[{i}].expect.policies[{j}]"),
                    format!("no policy has the id `{id}`{hint}"),
                )
                .at_line((case.line > 0).then_some(case.line)),
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ScenarioError::Invalid {
            file: file.path.display().to_string(),
            problems,
        })
    }
}

/// The engine a scenario file runs against: `None` when it names no register (use `base`),
/// else `base`'s policies and schema with the file's register.
pub fn engine_for_file(
    base: &Engine,
    file: &ScenarioFile,
) -> Result<Option<Engine>, ScenarioError> {
    let Some(register_path) = &file.register else {
        return Ok(None);
    };
    Register::from_file(register_path)
        .and_then(|register| Engine::new(base.policies().clone(), base.schema().clone(), register))
        .map(|engine| {
            Some(
                engine
                    .with_language(base.language())
                    .with_clock(base.clock().clone()),
            )
        })
        .map_err(|error| ScenarioError::Register {
            file: file.path.display().to_string(),
            error,
        })
}

/// Runs the cases of one file against `engine`.
pub fn run_file(engine: &Engine, file: &ScenarioFile) -> Vec<CaseResult> {
    let name = file.path.display().to_string();
    file.cases
        .iter()
        .map(|case| {
            let case = Case {
                query: file.query_of(case),
                ..case.clone()
            };
            run_case(engine, &case, &name, engine.language())
        })
        .collect()
}

/// Runs one case and compares with its expectation.
pub fn run_case(engine: &Engine, case: &Case, file: &str, language: Language) -> CaseResult {
    let actual =
        match Query::from_value(case.query.clone()).and_then(|q| engine.decide_in(&q, language)) {
            Ok(decision) => Actual::Decision(decision),
            Err(e) => Actual::InputError(e.problems.iter().map(ToString::to_string).collect()),
        };
    let failures = compare(&case.expect, &actual);
    CaseResult {
        file: file.to_string(),
        name: case.name.clone(),
        line: case.line,
        query: case.query.clone(),
        expect: case.expect.clone(),
        actual,
        failures,
    }
}

fn compare(expect: &Expectation, actual: &Actual) -> Vec<String> {
    let decision = match (expect.decision, actual) {
        (Outcome::Error, Actual::InputError(_)) => return Vec::new(),
        (Outcome::Error, Actual::Decision(d)) => {
            return vec![format!("expected an input error, got {}", d.decision)]
        }
        (outcome, Actual::InputError(errors)) => {
            return vec![format!(
                "expected {}, got an input error: {}",
                outcome.as_str(),
                errors.join("; ")
            )]
        }
        (_, Actual::Decision(d)) => d,
    };
    let mut failures = Vec::new();
    let got = match decision.decision {
        Verdict::Allow => Outcome::Allow,
        Verdict::Deny => Outcome::Deny,
    };
    if got != expect.decision {
        failures.push(format!(
            "expected {}, got {}",
            expect.decision.as_str(),
            got.as_str()
        ));
    }
    let where_ = match got {
        Outcome::Allow => "obligations",
        _ => "reasons",
    };
    // What the case expects among the reasons (of a deny) or the obligations (of an allow).
    for (what, expected, found) in [
        ("paragraphs", &expect.paragraphs, decision.paragraphs()),
        ("policies", &expect.policies, decision.policies()),
    ] {
        let missing: Vec<&str> = expected
            .iter()
            .map(String::as_str)
            .filter(|p| !found.contains(p))
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{what} [{}] not among the {where_} (which have [{}])",
                missing.join(", "),
                found.join(", ")
            ));
        }
    }
    failures
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A case may expect any reason the engine gives itself, each of which no policy file
    /// holds; a mistyped one is still refused.
    #[test]
    fn every_reason_of_the_engine_itself_may_be_expected() {
        let engine = Engine::bundled().unwrap();
        for id in crate::model::decision::ENGINE_POLICIES {
            let text = format!(
                "cases:\n  - name: x\n    query: {{user: anna, ai: chatgpt, data: oppen}}\n    expect: {{decision: deny, policies: [{id}]}}\n"
            );
            let file = ScenarioFile::parse(&text, Path::new("x.yaml")).unwrap();
            assert!(check_policy_ids(&engine, &file).is_ok(), "{id}");
        }
        let text = "cases:\n  - name: x\n    query: {user: anna, ai: chatgpt, data: oppen}\n    expect: {decision: deny, policies: [aipolicy-text-unmaped]}\n";
        let file = ScenarioFile::parse(text, Path::new("x.yaml")).unwrap();
        assert!(check_policy_ids(&engine, &file).is_err());
    }
}
