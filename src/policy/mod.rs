//! Policy files: parsing, naming each policy after its `@id`, reading its annotations, and
//! validating against the Cedar schema in strict mode.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{Effect, Policy, PolicyId, PolicySet, Schema, ValidationMode, Validator};
use miette::SourceSpan;

use crate::diagnostics::error::{LoadError, SourceDiagnostic};
use crate::diagnostics::findings::Severity;
use crate::io::cedar_text::{self, Dialect};
use crate::model::paragraph::Paragraph;

pub mod annotations;
pub mod law;
pub mod text;

include!(concat!(env!("OUT_DIR"), "/bundled_policies.rs"));

/// The Cedar schema that ships with aipolicy.
pub const BUNDLED_SCHEMA: &str = include_str!("../../schemas/aipolicy.cedarschema");
/// The display name of the bundled Cedar schema.
pub const BUNDLED_SCHEMA_NAME: &str = "schemas/aipolicy.cedarschema";

/// The most policy text aipolicy reads: 1 MiB, all files of a folder together (some 5,000
/// policies; the bundled ones are under 40 KiB). A file is not read past it.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// The deepest nesting of a policy: each bracket or `if` around a place counts one, and so
/// does each operator chained before it at each of those levels (`a && b && c` nests 2 deep,
/// `context.data.level > 3` 3). The bundled policies nest at most 15 deep. Checked on the
/// text before Cedar parses it: Cedar's parser recurses once per level and would overflow its
/// stack on deep text.
pub const MAX_POLICY_NESTING: usize = 200;

/// The largest Cedar schema aipolicy reads: 1 MiB.
pub const MAX_SCHEMA_BYTES: usize = 1024 * 1024;

/// The deepest nesting of a Cedar schema's types (`{`, `[`, `(`, `Set<`): 64.
pub const MAX_SCHEMA_NESTING: usize = 64;

/// A policy file's name and text.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// Display name, e.g. `policies/u3-publik-ai.cedar`.
    pub name: String,
    /// The file's text.
    pub text: Arc<str>,
}

/// One policy with what a person needs to read it: its annotations and where it is written.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `@id`, also the Cedar policy id.
    pub id: Arc<str>,
    /// `@paragraph`.
    pub paragraph: Paragraph,
    /// Permit or forbid.
    pub effect: Effect,
    /// `@sv`: what the rule says, in Swedish.
    pub sv: Arc<str>,
    /// `@en`: what the rule says, in English.
    pub en: Arc<str>,
    /// Whether this is a duty (`@kind("duty")`): a permit that grants nothing and only adds its
    /// `@sv`/`@en` as an obligation to every allow it applies to.
    pub duty: bool,
    /// `@obligation_sv` of a permit.
    pub obligation_sv: Option<Arc<str>>,
    /// `@obligation_en` of a permit.
    pub obligation_en: Option<Arc<str>>,
    /// `@law`: the act and article a rule from law comes from, e.g. `EU AI Act art. 5`.
    pub law: Option<Arc<str>>,
    /// The file it is written in.
    pub file: String,
    /// 1-based line of its first character (its first annotation).
    pub line: usize,
}

/// A loaded set of policies: every policy named after its `@id`, with its [`Rule`].
#[derive(Debug, Clone)]
pub struct Policies {
    files: Vec<PolicyFile>,
    set: PolicySet,
    duties: PolicySet,
    rules: Vec<Rule>,
    by_id: HashMap<PolicyId, usize>,
    spans: HashMap<PolicyId, (usize, SourceSpan)>,
}

impl Policies {
    /// The policies embedded in the binary (the `policies/` folder at build time).
    pub fn bundled() -> Result<Policies, LoadError> {
        Policies::from_files(bundled_policy_files())
    }

    /// Every `*.cedar` file of `dir`, in name order.
    pub fn from_dir(dir: &Path) -> Result<Policies, LoadError> {
        Policies::from_files(read_policy_dir(dir)?)
    }

    /// Parses the files and reads every policy's annotations. Fails on a syntax error or on
    /// any error of the [annotation rules](annotations) (a missing or duplicate `@id`, an
    /// unknown `@paragraph`, an empty `@sv`/`@en`, obligations in one language or on a forbid, a
    /// bad `@kind`), each with its file, line and column: the same rules, and the same words,
    /// as `aipolicy validate`. A policy author's slip is found at load, never at decision time. Text over [`MAX_POLICY_BYTES`] in all or nested over
    /// [`MAX_POLICY_NESTING`] is refused before Cedar parses it.
    pub fn from_files(files: Vec<PolicyFile>) -> Result<Policies, LoadError> {
        let mut total = 0usize;
        for file in &files {
            total = total.saturating_add(file.text.len());
            if total > MAX_POLICY_BYTES {
                return Err(LoadError::Policies(vec![too_much_policy_text(&file.name)]));
            }
        }
        cedar_text::on_parser_stack(move || Policies::parse_files(files))?
    }

    pub(crate) fn parse_files(files: Vec<PolicyFile>) -> Result<Policies, LoadError> {
        let mut problems = Vec::new();
        let mut set = PolicySet::new();
        let mut duties = PolicySet::new();
        let mut rules = Vec::new();
        let mut by_id = HashMap::new();
        let mut spans = HashMap::new();
        let mut checker = annotations::Checker::default();
        for (file_index, file) in files.iter().enumerate() {
            if let Some(problem) = nesting_problem(file) {
                problems.push(problem);
                continue;
            }
            let parsed = match PolicySet::from_str(&file.text) {
                Ok(parsed) => parsed,
                Err(errors) => {
                    problems.extend(errors.iter().map(|e| {
                        SourceDiagnostic::from_diagnostic(e, &file.name, file.text.clone())
                    }));
                    continue;
                }
            };
            for (offset, line, policy) in in_text_order(&file.text, &parsed) {
                let span = SourceSpan::from((offset, policy.to_string().len()));
                let checked = checker.check(file, offset, line, &policy);
                let Some(rule) = checked.rule else {
                    problems.extend(
                        checked
                            .findings
                            .into_iter()
                            .filter(|f| f.severity == Severity::Error)
                            .map(|f| f.diagnostic),
                    );
                    continue;
                };
                let id = PolicyId::new(&*rule.id);
                let target = if rule.duty { &mut duties } else { &mut set };
                if let Err(e) = target.add(policy.new_id(id.clone())) {
                    problems.push(SourceDiagnostic::new(
                        &file.name,
                        file.text.clone(),
                        span,
                        e.to_string(),
                        None,
                    ));
                    continue;
                }
                by_id.insert(id.clone(), rules.len());
                spans.insert(id, (file_index, span));
                rules.push(rule);
            }
        }
        if !problems.is_empty() {
            return Err(LoadError::Policies(problems));
        }
        Ok(Policies {
            files,
            set,
            duties,
            rules,
            by_id,
            spans,
        })
    }

    /// Validates the policies against `schema` in Cedar's strict mode; one diagnostic per error.
    pub fn validate(&self, schema: &Schema) -> Vec<SourceDiagnostic> {
        self.strict_validation(schema).0
    }

    /// Cedar's validation warnings (e.g. confusable identifiers), as diagnostics.
    pub fn warnings(&self, schema: &Schema) -> Vec<SourceDiagnostic> {
        self.strict_validation(schema).1
    }

    /// Errors and warnings of Cedar's strict validation of both sets (decisions and duties).
    /// Cedar's validator recurses once per level of a policy: it runs on a thread with a stack
    /// for the deepest policy accepted.
    fn strict_validation(&self, schema: &Schema) -> (Vec<SourceDiagnostic>, Vec<SourceDiagnostic>) {
        cedar_text::on_parser_stack(|| self.strict_validation_here(schema)).unwrap_or_else(|e| {
            let message = e.to_string();
            let problem = SourceDiagnostic::whole_file("<policies>", message, None);
            (vec![problem], Vec::new())
        })
    }

    pub(crate) fn strict_validation_here(
        &self,
        schema: &Schema,
    ) -> (Vec<SourceDiagnostic>, Vec<SourceDiagnostic>) {
        let validator = Validator::new(schema.clone());
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        for set in [&self.set, &self.duties] {
            let result = validator.validate(set, ValidationMode::Strict);
            errors.extend(
                result
                    .validation_errors()
                    .map(|e| self.diagnostic_for(e.policy_id(), e)),
            );
            warnings.extend(
                result
                    .validation_warnings()
                    .map(|w| self.diagnostic_for(w.policy_id(), w)),
            );
        }
        (errors, warnings)
    }

    fn diagnostic_for(&self, id: &PolicyId, e: &dyn miette::Diagnostic) -> SourceDiagnostic {
        match self.spans.get(id).and_then(|(f, _)| self.files.get(*f)) {
            Some(file) => SourceDiagnostic::from_diagnostic(e, &file.name, file.text.clone()),
            None => SourceDiagnostic::from_diagnostic(e, "<policies>", Arc::from("")),
        }
    }

    /// The Cedar policy set that decides allow or deny, every policy named after its `@id`.
    /// Duties are not in it: they grant nothing.
    pub fn set(&self) -> &PolicySet {
        &self.set
    }

    /// The duties (`@kind("duty")`), evaluated on an allow to find the obligations that apply.
    pub fn duties(&self) -> &PolicySet {
        &self.duties
    }

    /// Every rule, in file order and, within a file, in text order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The files the policies were read from.
    pub fn files(&self) -> &[PolicyFile] {
        &self.files
    }

    /// The rule with this `@id`.
    pub fn rule(&self, id: &PolicyId) -> Option<&Rule> {
        self.by_id.get(id).and_then(|&i| self.rules.get(i))
    }

    /// The position of the rule with this `@id` in [`Policies::rules`].
    pub fn position(&self, id: &PolicyId) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The file and span of the policy with this `@id`, for diagnostics that point at it.
    pub fn source(&self, id: &PolicyId) -> Option<(&PolicyFile, SourceSpan)> {
        let (file, span) = self.spans.get(id)?;
        Some((self.files.get(*file)?, *span))
    }
}

/// The problem of policy text nested over [`MAX_POLICY_NESTING`], if `file` is.
pub(crate) fn nesting_problem(file: &PolicyFile) -> Option<SourceDiagnostic> {
    cedar_text::nesting_problem(&file.text, &file.name, Dialect::Policy, MAX_POLICY_NESTING)
}

/// The problem of policy text over [`MAX_POLICY_BYTES`], found at `file`.
fn too_much_policy_text(file: &str) -> SourceDiagnostic {
    SourceDiagnostic::whole_file(
        file,
        format!(
            "`{file}`: the policy files go over {MAX_POLICY_BYTES} bytes together with this one; the limit is {MAX_POLICY_BYTES} bytes (1 MiB)"
        ),
        Some("split the policies into fewer, shorter rules".into()),
    )
}

/// The embedded policy files ([`BUNDLED_POLICY_FILES`]), as files.
pub fn bundled_policy_files() -> Vec<PolicyFile> {
    BUNDLED_POLICY_FILES
        .iter()
        .map(|(name, text)| PolicyFile {
            name: (*name).to_string(),
            text: Arc::from(*text),
        })
        .collect()
}

/// The name findings give the embedded policies' folder.
pub const BUNDLED_POLICIES_NAME: &str = "embedded policies/";

/// Every `*.cedar` file of `dir`, in name order; an empty folder is an error, and so is more
/// than [`MAX_POLICY_BYTES`] of text in all (the files are not read past it) or a file that is
/// not UTF-8.
pub fn read_policy_dir(dir: &Path) -> Result<Vec<PolicyFile>, LoadError> {
    let read_error = |source| LoadError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_error)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(LoadError::NoPolicies(dir.to_path_buf()));
    }
    let mut left = MAX_POLICY_BYTES;
    paths
        .into_iter()
        .map(|path| {
            let name = path.display().to_string();
            let read_error = |source| LoadError::Read {
                path: path.clone(),
                source,
            };
            let file = std::fs::File::open(&path).map_err(read_error)?;
            let Some(bytes) = crate::io::read::read_capped(file, left).map_err(read_error)? else {
                return Err(LoadError::Policies(vec![too_much_policy_text(&name)]));
            };
            let text = crate::io::read::utf8_text(bytes, "policy").map_err(|problem| {
                LoadError::Policies(vec![SourceDiagnostic::whole_file(
                    &name,
                    format!("`{name}`: {}", problem.message),
                    None,
                )])
            })?;
            left -= text.len();
            Ok(PolicyFile {
                name,
                text: Arc::from(text.strip_prefix('\u{feff}').unwrap_or(&text)),
            })
        })
        .collect()
}

/// Parses a Cedar schema; errors point into its text. A text over [`MAX_SCHEMA_BYTES`] or
/// nested over [`MAX_SCHEMA_NESTING`] is refused before Cedar parses it.
pub fn load_schema(text: &str, file: &str) -> Result<Schema, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > MAX_SCHEMA_BYTES {
        return Err(LoadError::Schema(vec![SourceDiagnostic::whole_file(
            file,
            format!(
                "`{file}`: schema is {} bytes; the limit is {MAX_SCHEMA_BYTES} bytes (1 MiB)",
                text.len()
            ),
            None,
        )]));
    }
    let source: Arc<str> = Arc::from(text);
    if let Some(problem) =
        cedar_text::nesting_problem(&source, file, Dialect::Schema, MAX_SCHEMA_NESTING)
    {
        return Err(LoadError::Schema(vec![problem]));
    }
    cedar_text::on_parser_stack(|| {
        Schema::from_cedarschema_str(text)
            .map(|(schema, _warnings)| schema)
            .map_err(|e| {
                LoadError::Schema(vec![SourceDiagnostic::from_diagnostic(
                    &e,
                    file,
                    source.clone(),
                )])
            })
    })?
}

/// Reads and parses a Cedar schema file (UTF-8, at most [`MAX_SCHEMA_BYTES`], not read past
/// it).
pub fn load_schema_file(path: &Path) -> Result<Schema, LoadError> {
    let text = read_schema_file(path)?;
    load_schema(&text, &path.display().to_string())
}

/// A Cedar schema file's text, read within [`MAX_SCHEMA_BYTES`] (not past it: a pipe or a device
/// stops at the limit).
pub fn read_schema_file(path: &Path) -> Result<String, LoadError> {
    let file = path.display().to_string();
    crate::io::read::read_text_file(path, "schema", MAX_SCHEMA_BYTES)
        .map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .map_err(|problem| {
            LoadError::Schema(vec![SourceDiagnostic::whole_file(
                &file,
                format!("`{file}`: {}", problem.message),
                None,
            )])
        })
}

/// The bundled Cedar schema.
pub fn bundled_schema() -> Result<Schema, LoadError> {
    load_schema(BUNDLED_SCHEMA, BUNDLED_SCHEMA_NAME)
}

/// The policies Cedar parsed from `text`, in the order they are written, each with the byte
/// offset and the 1-based line of its first character. Cedar names them policy0, policy1, … in
/// text order and keeps each one's exact source text, so each is found after the one before
/// it: one pass over the text, however many policies it holds.
pub(crate) fn in_text_order(text: &str, set: &PolicySet) -> Vec<(usize, usize, Policy)> {
    let mut policies: Vec<(usize, Policy)> = set
        .policies()
        .map(|p| {
            let n = p
                .id()
                .to_string()
                .strip_prefix("policy")
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(usize::MAX);
            (n, p.clone())
        })
        .collect();
    policies.sort_by_key(|(n, _)| *n);
    let (mut from, mut line) = (0, 1);
    policies
        .into_iter()
        .map(|(_, policy)| {
            let source = policy.to_string();
            let offset = text
                .get(from..)
                .and_then(|rest| rest.find(&source))
                .map_or(from, |at| from + at);
            line += newlines(text.get(from..offset).unwrap_or(""));
            let at = (offset, line);
            line += newlines(&source);
            from = offset + source.len();
            (at.0, at.1, policy)
        })
        .collect()
}

/// How many line breaks `text` holds.
fn newlines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}
