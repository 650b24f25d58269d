//! What a change does: the decisions that differ between two revisions of a project, over the
//! whole access matrix of both registers, and what changed in the register, the policies, the
//! schema and the invariants. `aipolicy diff` is a client of this module; the proof that the two
//! policy sets decide alike for *every* request (or a request where they differ) comes from
//! `aipolicy-verify` and is carried here as a [`Proof`].
//!
//! The matrix part decides, with each revision's engine, every cell of
//! [`matrix`](crate::matrix): every AI system of either register × every data class of either
//! register × every role, with and without the AI training, for the unit of a class's own
//! staff and for every unit of either register, for every action and every combination of the
//! context flags the policies of that action look at. Each cell is the query of
//! [`cell_query`]; a system one register lacks is decided there as the engine decides any
//! system it does not know (public AI), a class one register lacks is an input error there
//! (never an allow).
//!
//! ```
//! use aipolicy::diff::Diff;
//! use aipolicy::{Engine, Language};
//! let engine = Engine::bundled().unwrap();
//! let diff = Diff::compute(&engine, &engine, Language::En).unwrap();
//! assert!(diff.unchanged());
//! assert!(diff.to_text().contains("No decision changes"));
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::authoring::invariants::Invariants;
use crate::authoring::matrix::{cell_query, explained, units_of, Audience};
use crate::diagnostics::error::InputError;
use crate::engine::memo::DecisionMemo;
use crate::engine::Engine;
use crate::model::decision::{Decision, Language, Reason, Verdict};
use crate::model::query::{Action, Context};
use crate::model::register::{DataClass, Register, Role};

/// How many decisions each side's memo keeps while the matrix is decided: the cells that differ
/// only by unit or context flags the policies do not see are asked of Cedar once.
const MEMO_CAPACITY: usize = 1 << 16;

/// What a cell's user was told, on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// Allow or deny (an input error is a deny).
    pub decision: Verdict,
    /// The paragraphs behind a deny, in the document's order.
    pub paragraphs: Vec<String>,
    /// The reasons of a deny, or the duties of an allow (in JSON, their policies' ids:
    /// `policies`; the text says them in full).
    #[serde(skip)]
    pub reasons: Vec<Reason>,
    /// The `@id` of each reason or duty, in the order given.
    pub policies: Vec<String>,
    /// The data class this side's register lacks, when the query could not be decided for
    /// that (an input error: refused, never allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_class: Option<String>,
}

impl Answer {
    fn of(decision: Decision) -> Answer {
        let verdict = decision.decision;
        let (paragraphs, reasons) = explained(decision);
        Answer {
            decision: verdict,
            paragraphs,
            policies: reasons.iter().map(|r| r.policy.to_string()).collect(),
            reasons,
            unknown_class: None,
        }
    }

    fn unknown_class(class: &str) -> Answer {
        Answer {
            decision: Verdict::Deny,
            paragraphs: Vec::new(),
            reasons: Vec::new(),
            policies: Vec::new(),
            unknown_class: Some(class.to_string()),
        }
    }

    /// The policies behind it, sorted: two answers with the same verdict and these differ
    /// only in wording.
    fn policies(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.reasons.iter().map(|r| &*r.policy).collect();
        ids.sort_unstable();
        ids
    }

    /// What tells two answers of a changed verdict apart in a group: the verdict, a deny's
    /// reasons (not an allow's duties, which differ by the user's training), the error.
    fn verdict_signature(&self) -> (Verdict, Vec<String>, Option<String>) {
        match self.decision {
            Verdict::Allow => (Verdict::Allow, Vec::new(), self.unknown_class.clone()),
            Verdict::Deny => self.signature(),
        }
    }

    /// What tells two answers apart: the verdict, the policies, the error.
    fn signature(&self) -> (Verdict, Vec<String>, Option<String>) {
        (
            self.decision,
            self.policies().into_iter().map(str::to_string).collect(),
            self.unknown_class.clone(),
        )
    }

    /// `deny (§3 s3-user-in-user-groups)`, `allow`, `input error (…)`.
    fn describe(&self, language: Language) -> String {
        if let Some(class) = &self.unknown_class {
            return match language {
                Language::Sv => {
                    format!("indatafel (registret har ingen informationsklass `{class}`)")
                }
                Language::En => format!("input error (the register has no data class `{class}`)"),
            };
        }
        match self.decision {
            Verdict::Allow => tr(language, "tillåtet", "allow").to_string(),
            Verdict::Deny => {
                let reasons: Vec<String> = self
                    .reasons
                    .iter()
                    .map(|r| format!("{} {}", r.paragraph, r.policy))
                    .collect();
                format!("{} ({})", tr(language, "nekat", "deny"), reasons.join(", "))
            }
        }
    }
}

/// How a cell changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Shift {
    /// Denied before, allowed now.
    NewlyAllowed,
    /// Allowed before, denied now.
    NewlyDenied,
    /// The same decision, for other reasons (or with other duties).
    OtherReasons,
}

/// One cell whose answer changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// How it changed.
    pub shift: Shift,
    /// The action.
    pub action: Action,
    /// The context flags of the query.
    pub context: Context,
    /// Whether the user has had the AI training.
    pub ai_literacy: bool,
    /// The unit asked for (`None`: a restricted class's own staff, else no unit).
    pub unit: Option<String>,
    /// The user's one role.
    pub role: Role,
    /// The AI system.
    pub ai: String,
    /// The data class.
    pub data: Option<String>,
    /// The answer of the old revision.
    pub old: Answer,
    /// The answer of the new revision.
    pub new: Answer,
}

/// Which of the variants of a cell (context flags, AI training, unit) a group holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    /// The cases of the group, of `of` variants of its cells.
    pub cases: usize,
    /// The variants of a cell of its action.
    pub of: usize,
    /// Only these contexts (`None`: every one of the action's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contexts: Option<Vec<Context>>,
    /// Only users with (`true`) or without the training (`None`: both).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai_literacy: Option<bool>,
    /// Only these units (`None`: every unit of the matrix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<Vec<Option<String>>>,
}

/// Changed cells as a person reads them: the roles, the AI system and the data classes whose
/// answer moved the same way, in the same cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// How the cells changed.
    pub shift: Shift,
    /// The action.
    pub action: Action,
    /// The roles.
    pub roles: Vec<Role>,
    /// The AI system.
    pub ai: String,
    /// The data classes.
    pub data: Vec<Option<String>>,
    /// The answer of the old revision (of the first cell).
    pub old: Answer,
    /// The answer of the new revision (of the first cell).
    pub new: Answer,
    /// In which cases.
    pub scope: Scope,
    /// How many cells.
    pub cells: usize,
}

/// Cells that keep their decision for other reasons (or with other duties), as a person reads
/// them: the roles and AI system, the reasons that no longer apply and those that now do, over
/// every action and data class where that is so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasonGroup {
    /// The roles.
    pub roles: Vec<Role>,
    /// The AI system.
    pub ai: String,
    /// The decision both revisions give.
    pub decision: Verdict,
    /// Reasons (or duties) that no longer apply, `paragraph policy`.
    pub removed: Vec<String>,
    /// Reasons (or duties) that now apply.
    pub added: Vec<String>,
    /// The actions.
    pub actions: Vec<Action>,
    /// The data classes.
    pub data: Vec<Option<String>>,
    /// How many cells.
    pub cells: usize,
}

/// Whether an item of the register was added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemStatus {
    /// Only in the new register.
    Added,
    /// Only in the old register.
    Removed,
    /// In both, with keys changed.
    Changed,
}

/// A key of the register whose value changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    /// The key, e.g. `userGroups`.
    pub key: String,
    /// Its old value (`None`: not given).
    pub old: Option<Value>,
    /// Its new value (`None`: not given).
    pub new: Option<Value>,
}

/// One AI system, data class or user (or the register's own keys) that changed, with the
/// decisions of the matrix it is in that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemChange {
    /// `aiSystems`, `dataClasses`, `users`, or `register` for its top-level keys.
    pub part: &'static str,
    /// The item's id (`None` for the register's own keys).
    pub id: Option<String>,
    /// Added, removed or changed.
    pub status: ItemStatus,
    /// The keys changed (for a changed item).
    pub keys: Vec<KeyChange>,
    /// Cells of this system or class now allowed.
    pub newly_allowed: usize,
    /// Cells of this system or class now denied.
    pub newly_denied: usize,
    /// Cells of this system or class with other reasons.
    pub other_reasons: usize,
}

/// A policy added, removed or changed (by `@id`; a policy reads the same when its Cedar is
/// the same, whatever its layout and comments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyChange {
    /// The policy's `@id`.
    pub id: String,
    /// Added, removed or changed.
    pub status: ItemStatus,
    /// Its `@paragraph`.
    pub paragraph: String,
    /// `permit` or `forbid`.
    pub effect: String,
    /// Where it is written (in the new revision, or the old for one removed), `file:line`.
    pub at: String,
}

/// Policies, schema and invariants that changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleChanges {
    /// Policies added, removed or changed.
    pub policies: Vec<PolicyChange>,
    /// Policy files whose text changed (by file name).
    pub files_changed: Vec<String>,
    /// Whether the Cedar schema's text changed (`None`: not compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_changed: Option<bool>,
    /// Invariants added, removed or changed (by id; `None`: not compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invariants: Option<Vec<(String, ItemStatus)>>,
    /// `registered-users-only` of the two revisions, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_users_only: Option<(bool, bool)>,
}

/// What the solver proved about the two policy sets (filled in by `aipolicy-verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proof {
    /// The solver, e.g. `cvc5 version 1.0.3`.
    pub solver: String,
    /// Each action's result.
    pub actions: Vec<ActionProof>,
    /// Whether the two revisions' Cedar schemas differ: both policy sets were then compared
    /// under the new one.
    pub schemas_differ: bool,
    /// Time taken, in milliseconds.
    pub millis: u128,
}

/// The two implications of one action: does the new set allow anything the old did not, and
/// the other way round. Both proved: the sets decide alike for every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionProof {
    /// The action.
    pub action: Action,
    /// Whether the new set allows a request the old denies.
    pub new_allows_more: Finding,
    /// Whether the old set allows a request the new denies.
    pub old_allows_more: Finding,
}

/// The answer of one implication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "result")]
pub enum Finding {
    /// Proved: no such request exists.
    Proved,
    /// A request where the sets differ.
    Counterexample(Witness),
    /// Could not be proved (with why): never read as "proved".
    Unknown {
        /// Why.
        reason: String,
    },
}

/// A request where the two policy sets decide differently, replayed through both engines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Witness {
    /// The query JSON, on one line.
    pub query: String,
    /// The register entries it needs, as YAML.
    pub register: String,
    /// What the old revision's engine decides for it (`allow`, `deny`, or why it cannot).
    pub old: String,
    /// What the new revision's engine decides for it.
    pub new: String,
}

impl Proof {
    /// Whether the sets decide alike for every request of every action.
    pub fn equivalent(&self) -> bool {
        self.actions
            .iter()
            .all(|a| a.new_allows_more == Finding::Proved && a.old_allows_more == Finding::Proved)
    }

    /// Whether the new set allows nothing the old did not (the change only takes away).
    pub fn only_takes_away(&self) -> bool {
        self.actions
            .iter()
            .all(|a| a.new_allows_more == Finding::Proved)
    }
}

/// The cells compared: what the matrix of the two revisions ranges over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Space {
    /// Every AI system of either register (the new register's order, then the old's others).
    pub systems: Vec<String>,
    /// Every data class of either register.
    pub data_classes: Vec<String>,
    /// The units decided for (`None`: a restricted class's own staff, else no unit).
    pub units: Vec<Option<String>>,
    /// Each action with the context flags its policies look at.
    pub actions: Vec<(Action, Vec<&'static str>)>,
    /// How many cells were decided on each side.
    pub cells: usize,
}

/// What a change does: see the [module](self).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    /// The old revision, as the caller names it (`HEAD`, a folder).
    pub old_label: String,
    /// The new revision.
    pub new_label: String,
    /// The language of the text.
    #[serde(skip)]
    pub language: Language,
    /// What was compared.
    pub space: Space,
    /// Cells now allowed.
    pub newly_allowed: usize,
    /// Cells now denied.
    pub newly_denied: usize,
    /// Cells with the same decision and other reasons or duties.
    pub other_reasons: usize,
    /// The cells whose decision changed, grouped for a person: newly allowed first.
    pub groups: Vec<Group>,
    /// The cells that keep their decision for other reasons, grouped for a person.
    pub reason_groups: Vec<ReasonGroup>,
    /// Every cell whose decision changed (those that keep it for other reasons are in
    /// [`Diff::reason_groups`], and counted in [`Diff::other_reasons`]).
    pub changes: Vec<Change>,
    /// The register's systems, classes, users and keys that changed.
    pub register: Vec<ItemChange>,
    /// The policies, schema and invariants that changed.
    pub rules: RuleChanges,
    /// The proof over every request, when it was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<Proof>,
}

/// The units a cell is decided for: `None` (a restricted class's own staff, else no unit) and
/// each unit of either register. When both revisions' policies tell users apart only by roles
/// and training, a unit matters only through need-to-know: then the units classes are
/// restricted to, and one other unit standing for all the rest.
fn units_that_matter(old: &Engine, new: &Engine) -> Vec<Option<String>> {
    let mut all: Vec<String> = Vec::new();
    for unit in units_of(new.register())
        .into_iter()
        .chain(units_of(old.register()))
    {
        if !all.contains(&unit) {
            all.push(unit);
        }
    }
    if old.sees_users_only_by_roles() && new.sees_users_only_by_roles() {
        let restricted = |unit: &String| {
            [old.register(), new.register()].iter().any(|r| {
                r.data_classes()
                    .iter()
                    .any(|c| c.units.as_ref().is_some_and(|u| u.contains(unit)))
            })
        };
        let other = all.iter().find(|u| !restricted(u)).cloned();
        all.retain(|u| restricted(u) || Some(u) == other.as_ref());
    }
    std::iter::once(None)
        .chain(all.into_iter().map(Some))
        .collect()
}

/// The context flags the policies (and duties) of `action` look at, on either engine.
fn flags_of(action: Action, engines: [&Engine; 2]) -> Vec<&'static str> {
    let mut texts = String::new();
    for engine in engines {
        for policy in engine.policies_for(action).policies() {
            texts.push_str(&policy.to_string());
            texts.push('\n');
        }
        if let Some(duties) = engine.duties_for(action) {
            for policy in duties.policies() {
                texts.push_str(&policy.to_string());
                texts.push('\n');
            }
        }
    }
    Context::KEYS
        .into_iter()
        .filter(|key| contains_word(&texts, key))
        .collect()
}

/// Whether `word` is in `text` as a whole identifier (`humanReview` is not in `humanReviewed`).
fn contains_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// Every combination of `flags`, none set first.
fn contexts_of(flags: &[&str]) -> Result<Vec<Context>, InputError> {
    let mut contexts = Vec::with_capacity(1 << flags.len());
    for bits in 0u32..(1 << flags.len()) {
        let mut context = Context::default();
        for (i, key) in flags.iter().enumerate() {
            context.set(key, bits & (1 << i) != 0)?;
        }
        contexts.push(context);
    }
    Ok(contexts)
}

/// `(key, value)` of each key of an item as the register serializes it.
fn fields(item: &impl Serialize) -> BTreeMap<String, Value> {
    match serde_json::to_value(item) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

/// The keys whose values differ between two items.
fn key_changes(old: &impl Serialize, new: &impl Serialize) -> Vec<KeyChange> {
    let (old, new) = (fields(old), fields(new));
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| KeyChange {
            key: k.clone(),
            old: old.get(k).cloned(),
            new: new.get(k).cloned(),
        })
        .collect()
}

/// Every item of one part of two registers, by id: added, removed, or with keys changed.
fn items<T: Serialize>(
    part: &'static str,
    old: &[T],
    new: &[T],
    id: fn(&T) -> &str,
) -> Vec<ItemChange> {
    let item = |id: &str, status, keys| ItemChange {
        part,
        id: Some(id.to_string()),
        status,
        keys,
        newly_allowed: 0,
        newly_denied: 0,
        other_reasons: 0,
    };
    let mut changes = Vec::new();
    for n in new {
        match old.iter().find(|o| id(o) == id(n)) {
            None => changes.push(item(id(n), ItemStatus::Added, Vec::new())),
            Some(o) => {
                let keys = key_changes(o, n);
                if !keys.is_empty() {
                    changes.push(item(id(n), ItemStatus::Changed, keys));
                }
            }
        }
    }
    for o in old {
        if !new.iter().any(|n| id(n) == id(o)) {
            changes.push(item(id(o), ItemStatus::Removed, Vec::new()));
        }
    }
    changes
}

/// What changed in the register: its own keys, AI systems, data classes and users.
fn register_changes(old: &Register, new: &Register) -> Vec<ItemChange> {
    let mut changes = Vec::new();
    let top = |r: &Register| {
        let mut map = fields(r);
        for part in ["dataClasses", "aiSystems", "users"] {
            map.remove(part);
        }
        map
    };
    let (old_top, new_top) = (top(old), top(new));
    let keys = key_changes(&old_top, &new_top);
    if !keys.is_empty() {
        changes.push(ItemChange {
            part: "register",
            id: None,
            status: ItemStatus::Changed,
            keys,
            newly_allowed: 0,
            newly_denied: 0,
            other_reasons: 0,
        });
    }
    changes.extend(items(
        "aiSystems",
        old.ai_systems(),
        new.ai_systems(),
        |a| &a.id,
    ));
    changes.extend(items(
        "dataClasses",
        old.data_classes(),
        new.data_classes(),
        |c| &c.id,
    ));
    changes.extend(items("users", old.users(), new.users(), |u| &u.id));
    changes
}

/// The file name of a policy file's display name.
fn file_name(name: &str) -> String {
    Path::new(name)
        .file_name()
        .map_or_else(|| name.to_string(), |n| n.to_string_lossy().into_owned())
}

/// Policies added, removed or changed (their Cedar, not their layout), and the files whose
/// text changed.
fn policy_changes(old: &Engine, new: &Engine) -> (Vec<PolicyChange>, Vec<String>) {
    let (old, new) = (old.policies(), new.policies());
    let cedar = |set: &cedar_policy::PolicySet, id: &str| {
        set.policy(&cedar_policy::PolicyId::new(id))
            .and_then(|p| p.to_json().ok())
    };
    let in_set = |policies: &crate::policy::Policies, id: &str| {
        cedar(policies.set(), id).or_else(|| cedar(policies.duties(), id))
    };
    let change = |rule: &crate::policy::Rule, status| PolicyChange {
        id: rule.id.to_string(),
        status,
        paragraph: rule.paragraph.code().to_string(),
        effect: match rule.effect {
            cedar_policy::Effect::Permit => "permit".into(),
            cedar_policy::Effect::Forbid => "forbid".into(),
        },
        at: format!("{}:{}", rule.file, rule.line),
    };
    let mut changes = Vec::new();
    for rule in new.rules() {
        match old.rules().iter().find(|r| r.id == rule.id) {
            None => changes.push(change(rule, ItemStatus::Added)),
            Some(_) if in_set(old, &rule.id) != in_set(new, &rule.id) => {
                changes.push(change(rule, ItemStatus::Changed));
            }
            Some(_) => {}
        }
    }
    for rule in old.rules() {
        if !new.rules().iter().any(|r| r.id == rule.id) {
            changes.push(change(rule, ItemStatus::Removed));
        }
    }
    let texts = |p: &crate::policy::Policies| -> BTreeMap<String, String> {
        p.files()
            .iter()
            .map(|f| (file_name(&f.name), f.text.to_string()))
            .collect()
    };
    let (old_files, new_files) = (texts(old), texts(new));
    let names: BTreeSet<&String> = old_files.keys().chain(new_files.keys()).collect();
    let files = names
        .into_iter()
        .filter(|n| old_files.get(*n) != new_files.get(*n))
        .cloned()
        .collect();
    (changes, files)
}

/// Invariants added, removed or changed, by id.
pub fn invariant_changes(old: &Invariants, new: &Invariants) -> Vec<(String, ItemStatus)> {
    let mut changes = Vec::new();
    for n in &new.invariants {
        match old.invariants.iter().find(|o| o.id == n.id) {
            None => changes.push((n.id.clone(), ItemStatus::Added)),
            Some(o) if o != n => changes.push((n.id.clone(), ItemStatus::Changed)),
            Some(_) => {}
        }
    }
    for o in &old.invariants {
        if !new.invariants.iter().any(|n| n.id == o.id) {
            changes.push((o.id.clone(), ItemStatus::Removed));
        }
    }
    if old.actions != new.actions {
        changes.push(("actions".into(), ItemStatus::Changed));
    }
    changes
}

/// One cell's answer from `engine`. A data class its register lacks makes the query an
/// input error there: refused, never allowed.
fn answer(
    engine: &Engine,
    memo: &DecisionMemo,
    query: &crate::model::query::Query,
    language: Language,
) -> Result<Answer, InputError> {
    match engine.decide_memoized(query, language, memo) {
        Ok(decision) => Ok(Answer::of(decision)),
        Err(e) => match query
            .data
            .iter()
            .find(|d| engine.register().data_class(d).is_none())
        {
            Some(class) => Ok(Answer::unknown_class(class)),
            None => Err(e),
        },
    }
}

/// One variant of a cell: its context flags, the user's training and unit.
type Variant = (Context, bool, Option<String>);

impl Diff {
    /// Decides every cell of the two revisions' matrices (see the [module](self)) with `old`
    /// and `new`, and compares their registers and policies; explained in `language`.
    /// Labels, schema, invariants and the proof are the caller's to fill in.
    ///
    /// `Err` only when an engine refuses a query for a reason other than a data class its
    /// register lacks (it never should).
    pub fn compute(old: &Engine, new: &Engine, language: Language) -> Result<Diff, InputError> {
        // A cell is about a role: as in the matrix, users the register does not list are not
        // denied for that alone.
        let old = old.clone().registered_users_only(false);
        let new = new.clone().registered_users_only(false);
        let (old_register, new_register) = (old.register(), new.register());

        let mut systems: Vec<String> = Vec::new();
        for ai in new_register
            .ai_systems()
            .iter()
            .chain(old_register.ai_systems())
        {
            if !systems.contains(&ai.id) {
                systems.push(ai.id.clone());
            }
        }
        let mut classes: Vec<&DataClass> = Vec::new();
        for class in new_register
            .data_classes()
            .iter()
            .chain(old_register.data_classes())
        {
            if !classes.iter().any(|c| c.id == class.id) {
                classes.push(class);
            }
        }
        let data: Vec<Option<&DataClass>> = if classes.is_empty() {
            vec![None]
        } else {
            classes.iter().copied().map(Some).collect()
        };
        let units = units_that_matter(&old, &new);
        let mut actions = Vec::new();
        for action in Action::ALL {
            actions.push((action, flags_of(action, [&old, &new])));
        }

        let memos = [
            DecisionMemo::new(MEMO_CAPACITY),
            DecisionMemo::new(MEMO_CAPACITY),
        ];
        // Every variant of a cell: the action, its flags, the training, the unit.
        let mut variants: Vec<(Action, Context, bool, Option<String>)> = Vec::new();
        for (action, flags) in &actions {
            for context in contexts_of(flags)? {
                for ai_literacy in [false, true] {
                    for unit in &units {
                        variants.push((*action, context, ai_literacy, unit.clone()));
                    }
                }
            }
        }
        let cells_of = |variants: &[(Action, Context, bool, Option<String>)]| {
            let mut changes = Vec::new();
            let mut cells = 0usize;
            for (action, context, ai_literacy, unit) in variants {
                let audience = Audience {
                    ai_literacy: *ai_literacy,
                    unit: unit.clone(),
                };
                for ai in &systems {
                    for class in &data {
                        for role in Role::ALL {
                            let query = cell_query(ai, *class, role, *action, *context, &audience);
                            let [old_memo, new_memo] = &memos;
                            let before = answer(&old, old_memo, &query, language)?;
                            let after = answer(&new, new_memo, &query, language)?;
                            cells += 1;
                            let shift = match (before.decision, after.decision) {
                                (Verdict::Deny, Verdict::Allow) => Shift::NewlyAllowed,
                                (Verdict::Allow, Verdict::Deny) => Shift::NewlyDenied,
                                _ if before.signature() != after.signature() => Shift::OtherReasons,
                                _ => continue,
                            };
                            changes.push(Change {
                                shift,
                                action: *action,
                                context: *context,
                                ai_literacy: *ai_literacy,
                                unit: unit.clone(),
                                role,
                                ai: ai.clone(),
                                data: class.map(|c| c.id.clone()),
                                old: before,
                                new: after,
                            });
                        }
                    }
                }
            }
            Ok::<_, InputError>((cells, changes))
        };
        // On every core, each a run of the variants; their changes joined in order.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let chunk = variants.len().div_ceil(threads).max(1);
        let parts: Vec<Result<(usize, Vec<Change>), InputError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = variants
                .chunks(chunk)
                .map(|part| scope.spawn(move || cells_of(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(InputError::at(
                            "diff",
                            "a thread deciding the matrix stopped".to_string(),
                        ))
                    })
                })
                .collect()
        });
        let mut changes = Vec::new();
        let mut cells = 0;
        for part in parts {
            let (n, part) = part?;
            cells += n;
            changes.extend(part);
        }

        let count = |shift| changes.iter().filter(|c| c.shift == shift).count();
        let (newly_allowed, newly_denied, other_reasons) = (
            count(Shift::NewlyAllowed),
            count(Shift::NewlyDenied),
            count(Shift::OtherReasons),
        );
        let mut register = register_changes(old_register, new_register);
        for item in &mut register {
            let of_item = |c: &&Change| match item.part {
                "aiSystems" => item.id.as_deref() == Some(c.ai.as_str()),
                "dataClasses" => item.id.is_some() && item.id == c.data,
                _ => false,
            };
            for change in changes.iter().filter(of_item) {
                match change.shift {
                    Shift::NewlyAllowed => item.newly_allowed += 1,
                    Shift::NewlyDenied => item.newly_denied += 1,
                    Shift::OtherReasons => item.other_reasons += 1,
                }
            }
        }
        let (policies, files_changed) = policy_changes(&old, &new);
        let space = Space {
            systems,
            data_classes: classes.iter().map(|c| c.id.clone()).collect(),
            units,
            actions,
            cells,
        };
        let groups = group(&changes, &space);
        let reason_groups = group_reasons(&changes, &space);
        // The cells that keep their decision are many when a rule goes (every cell it was a
        // reason in): counted and grouped, not listed one by one.
        changes.retain(|c| c.shift != Shift::OtherReasons);
        Ok(Diff {
            old_label: "old".into(),
            new_label: "new".into(),
            language,
            newly_allowed,
            newly_denied,
            other_reasons,
            space,
            groups,
            reason_groups,
            changes,
            register,
            rules: RuleChanges {
                policies,
                files_changed,
                schema_changed: None,
                invariants: None,
                registered_users_only: None,
            },
            proof: None,
        })
    }

    /// Whether no decision changes: no cell's verdict moved, and the proof (when made) found
    /// the policy sets equivalent. Other reasons for the same decision do not count.
    pub fn unchanged(&self) -> bool {
        self.newly_allowed == 0
            && self.newly_denied == 0
            && self.proof.as_ref().is_none_or(Proof::equivalent)
            && self
                .rules
                .registered_users_only
                .is_none_or(|(old, new)| old == new)
    }

    /// Whether anything is newly allowed: a cell, or a request the proof found (or could not
    /// rule out), or users the register does not list no longer denied.
    pub fn newly_allows(&self) -> bool {
        self.newly_allowed > 0
            || self.proof.as_ref().is_some_and(|p| !p.only_takes_away())
            || self.rules.registered_users_only == Some((true, false))
    }
}

/// Groups the changes for a person: first the variants of each cell (context, training, unit)
/// into a [`Scope`], then the data classes, then the roles whose cells moved alike.
fn group(changes: &[Change], space: &Space) -> Vec<Group> {
    type Key = (
        Shift,
        Action,
        Role,
        String,
        Option<String>,
        (Verdict, Vec<String>, Option<String>),
        (Verdict, Vec<String>, Option<String>),
    );
    // 1. Each cell with the variants in which it moved so.
    let mut cells: Vec<(Key, Vec<Variant>, &Change)> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    for change in changes.iter().filter(|c| c.shift != Shift::OtherReasons) {
        let key: Key = (
            change.shift,
            change.action,
            change.role,
            change.ai.clone(),
            change.data.clone(),
            change.old.verdict_signature(),
            change.new.verdict_signature(),
        );
        let variant = (change.context, change.ai_literacy, change.unit.clone());
        match index.get(&key) {
            Some(&i) => {
                if let Some(entry) = cells.get_mut(i) {
                    entry.1.push(variant);
                }
            }
            None => {
                index.insert(key.clone(), cells.len());
                cells.push((key, vec![variant], change));
            }
        }
    }
    // 2. Merge data classes, then roles, with the same movement in the same cases.
    let mut groups: Vec<Group> = Vec::new();
    for (key, variants, first) in cells {
        let scope = scope_of(&variants, first.action, space);
        let found = groups.iter_mut().find(|g| {
            g.shift == key.0
                && g.action == key.1
                && g.roles == [key.2]
                && g.ai == key.3
                && g.old.verdict_signature() == key.5
                && g.new.verdict_signature() == key.6
                && g.scope == scope
        });
        match found {
            Some(g) => {
                g.data.push(key.4.clone());
                g.cells += variants.len();
            }
            None => groups.push(Group {
                shift: key.0,
                action: key.1,
                roles: vec![key.2],
                ai: key.3.clone(),
                data: vec![key.4.clone()],
                old: first.old.clone(),
                new: first.new.clone(),
                scope,
                cells: variants.len(),
            }),
        }
    }
    let mut merged: Vec<Group> = Vec::new();
    for g in groups {
        let found = merged.iter_mut().find(|m| {
            m.shift == g.shift
                && m.action == g.action
                && m.ai == g.ai
                && m.data == g.data
                && m.old.verdict_signature() == g.old.verdict_signature()
                && m.new.verdict_signature() == g.new.verdict_signature()
                && m.scope == g.scope
        });
        match found {
            Some(m) => {
                m.roles.extend(g.roles.iter().copied());
                m.cells += g.cells;
            }
            None => merged.push(g),
        }
    }
    let position = |ai: &str| space.systems.iter().position(|s| s == ai);
    for g in &mut merged {
        g.roles
            .sort_by_key(|r| Role::ALL.iter().position(|x| x == r));
    }
    merged.sort_by_key(|g| {
        (
            g.shift,
            Action::ALL.iter().position(|a| *a == g.action),
            g.roles
                .first()
                .and_then(|r| Role::ALL.iter().position(|x| x == r)),
            position(&g.ai),
        )
    });
    merged
}

/// Groups the cells that keep their decision by roles, AI system and the reasons that came and
/// went, over every action and data class.
fn group_reasons(changes: &[Change], space: &Space) -> Vec<ReasonGroup> {
    let named = |r: &Reason| format!("{} {}", r.paragraph, r.policy);
    let mut groups: Vec<ReasonGroup> = Vec::new();
    for change in changes.iter().filter(|c| c.shift == Shift::OtherReasons) {
        let old: BTreeSet<String> = change.old.reasons.iter().map(named).collect();
        let new: BTreeSet<String> = change.new.reasons.iter().map(named).collect();
        let removed: Vec<String> = old.difference(&new).cloned().collect();
        let added: Vec<String> = new.difference(&old).cloned().collect();
        let found = groups.iter_mut().find(|g| {
            g.roles == [change.role]
                && g.ai == change.ai
                && g.decision == change.new.decision
                && g.removed == removed
                && g.added == added
        });
        let group = match found {
            Some(g) => g,
            None => {
                groups.push(ReasonGroup {
                    roles: vec![change.role],
                    ai: change.ai.clone(),
                    decision: change.new.decision,
                    removed,
                    added,
                    actions: Vec::new(),
                    data: Vec::new(),
                    cells: 0,
                });
                let Some(g) = groups.last_mut() else {
                    continue;
                };
                g
            }
        };
        group.cells += 1;
        if !group.actions.contains(&change.action) {
            group.actions.push(change.action);
        }
        if !group.data.contains(&change.data) {
            group.data.push(change.data.clone());
        }
    }
    // Roles whose cells moved alike, one line.
    let mut merged: Vec<ReasonGroup> = Vec::new();
    for g in groups {
        let found = merged.iter_mut().find(|m| {
            m.ai == g.ai
                && m.decision == g.decision
                && m.removed == g.removed
                && m.added == g.added
                && m.actions == g.actions
                && m.data == g.data
        });
        match found {
            Some(m) => {
                m.roles.extend(g.roles.iter().copied());
                m.cells += g.cells;
            }
            None => merged.push(g),
        }
    }
    let order = |data: &Option<String>| {
        space
            .data_classes
            .iter()
            .position(|d| Some(d) == data.as_ref())
    };
    for g in &mut merged {
        g.actions
            .sort_by_key(|a| Action::ALL.iter().position(|x| x == a));
        g.data.sort_by_key(order);
        g.roles
            .sort_by_key(|r| Role::ALL.iter().position(|x| x == r));
    }
    let position = |ai: &str| space.systems.iter().position(|s| s == ai);
    merged.sort_by_key(|g| {
        (
            g.roles
                .first()
                .and_then(|r| Role::ALL.iter().position(|x| x == r)),
            position(&g.ai),
        )
    });
    merged
}

/// The cases `variants` cover among those of a cell of `action`: every one, or the contexts,
/// training and units they are the product of, or just how many.
fn scope_of(variants: &[Variant], action: Action, space: &Space) -> Scope {
    let flags = space
        .actions
        .iter()
        .find(|(a, _)| *a == action)
        .map_or(0, |(_, f)| f.len());
    let all_contexts = 1usize << flags;
    let of = all_contexts * 2 * space.units.len();
    let mut contexts: Vec<Context> = Vec::new();
    let mut literacy: BTreeSet<bool> = BTreeSet::new();
    let mut units: Vec<Option<String>> = Vec::new();
    for (context, trained, unit) in variants {
        if !contexts.contains(context) {
            contexts.push(*context);
        }
        literacy.insert(*trained);
        if !units.contains(unit) {
            units.push(unit.clone());
        }
    }
    let product = contexts.len() * literacy.len() * units.len() == variants.len();
    let unit_order = |u: &Option<String>| space.units.iter().position(|x| x == u);
    units.sort_by_key(unit_order);
    Scope {
        cases: variants.len(),
        of,
        contexts: (product && contexts.len() < all_contexts).then_some(contexts),
        ai_literacy: if product && literacy.len() == 1 {
            literacy.first().copied()
        } else {
            None
        },
        units: (product && units.len() < space.units.len()).then_some(units),
    }
}

/// `sv` or `en`.
fn tr(language: Language, sv: &'static str, en: &'static str) -> &'static str {
    match language {
        Language::Sv => sv,
        Language::En => en,
    }
}

/// The name of a group of users of a role.
pub fn role_plural(role: Role, language: Language) -> &'static str {
    match role {
        Role::Employee => tr(language, "anställda", "employees"),
        Role::Contractor => tr(language, "privata utförare", "private contractors"),
        Role::Elected => tr(language, "förtroendevalda", "elected officials"),
    }
}

/// What a user does with an AI system under an action, as a verb phrase before its id.
fn verb(action: Action, language: Language) -> &'static str {
    match action {
        Action::Use => tr(language, "använda", "use"),
        Action::Decide => tr(
            language,
            "använda som beslutsstöd",
            "use as decision support",
        ),
        Action::Publish => tr(language, "publicera resultat från", "publish output of"),
        Action::SendToResident => tr(
            language,
            "skicka en invånare resultat från",
            "send a resident output of",
        ),
        Action::OfferToResidents => tr(language, "erbjuda invånare", "offer residents"),
        Action::Develop => tr(language, "utveckla på", "develop on"),
        Action::ReportIncident => tr(
            language,
            "rapportera en avvikelse om",
            "report an incident about",
        ),
    }
}

/// `a`, `a and b`, `a, b and c` (`och` in Swedish).
fn list(items: &[String], language: Language) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {} {last}", rest.join(", "), tr(language, "och", "and")),
    }
}

/// The flags set in a context, or `no flags`.
fn context_label(context: &Context, language: Language) -> String {
    let set: Vec<&str> = context
        .flags()
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(key, _)| key)
        .collect();
    if set.is_empty() {
        tr(language, "inga flaggor", "no flags").to_string()
    } else {
        set.join("+")
    }
}

/// A unit of the space: its name, or what `None` stands for.
fn unit_label(unit: &Option<String>, language: Language) -> String {
    match unit {
        Some(unit) => unit.clone(),
        None => tr(
            language,
            "informationens egen förvaltning (standard)",
            "the information's own unit (default)",
        )
        .to_string(),
    }
}

impl Scope {
    /// `only for …; only with …`, or nothing for every case.
    fn describe(&self, language: Language) -> String {
        let mut parts = Vec::new();
        if let Some(trained) = self.ai_literacy {
            parts.push(if trained {
                tr(
                    language,
                    "bara för användare med AI-utbildningen",
                    "only for users with the AI training",
                )
                .to_string()
            } else {
                tr(
                    language,
                    "bara för användare utan AI-utbildningen",
                    "only for users without the AI training",
                )
                .to_string()
            });
        }
        if let Some(units) = &self.units {
            let names: Vec<String> = units.iter().map(|u| unit_label(u, language)).collect();
            parts.push(format!(
                "{} {}",
                tr(language, "bara för användare i", "only for users of"),
                list(&names, language)
            ));
        }
        if let Some(contexts) = &self.contexts {
            let names: Vec<String> = contexts
                .iter()
                .map(|c| context_label(c, language))
                .collect();
            parts.push(format!(
                "{} {}",
                tr(language, "bara med", "only with"),
                names.join(tr(language, " eller ", " or "))
            ));
        }
        let product = self.contexts.is_some() || self.ai_literacy.is_some() || self.units.is_some();
        if self.cases < self.of && !product {
            parts.push(format!(
                "{} {} {} {}",
                tr(language, "i", "in"),
                self.cases,
                tr(language, "av", "of"),
                match language {
                    Language::Sv => format!("{} fall (flaggor, utbildning, förvaltning)", self.of),
                    Language::En => format!("{} cases (flags, training, unit)", self.of),
                }
            ));
        }
        parts.join("; ")
    }
}

/// The roles of a group as its sentence starts: `Private contractors and elected officials`.
fn who(roles: &[Role], language: Language) -> String {
    let names: Vec<String> = roles
        .iter()
        .map(|r| role_plural(*r, language).to_string())
        .collect();
    capitalised(&list(&names, language))
}

/// The data classes of a group, each in backticks.
fn data_names(data: &[Option<String>], language: Language) -> Vec<String> {
    data.iter()
        .map(|d| match d {
            Some(d) => format!("`{d}`"),
            None => tr(language, "ingen angiven information", "no data named").to_string(),
        })
        .collect()
}

impl Group {
    /// The group as one sentence, e.g. `private contractors may now use `copilot-chat` with
    /// `intern`: deny (§3 s3-user-in-user-groups) → allow`.
    pub fn sentence(&self, language: Language) -> String {
        let who = who(&self.roles, language);
        let what = format!(
            "{} `{}` {} {}",
            verb(self.action, language),
            self.ai,
            tr(language, "med", "with"),
            list(&data_names(&self.data, language), language)
        );
        let sentence = match (self.shift, language) {
            (Shift::NewlyAllowed, Language::Sv) => format!("{who} får nu {what}"),
            (Shift::NewlyAllowed, Language::En) => format!("{who} may now {what}"),
            (Shift::NewlyDenied, Language::Sv) => format!("{who} får inte längre {what}"),
            (Shift::NewlyDenied, Language::En) => format!("{who} may no longer {what}"),
            // Grouped as a `ReasonGroup` instead; said plainly should one be asked for.
            (Shift::OtherReasons, Language::Sv) => format!("{who}, {what}"),
            (Shift::OtherReasons, Language::En) => format!("{who}, to {what}"),
        };
        let scope = self.scope.describe(language);
        let scope = if scope.is_empty() {
            String::new()
        } else {
            format!(" ({scope})")
        };
        format!(
            "{sentence}{scope}: {} → {}",
            self.old.describe(language),
            self.new.describe(language)
        )
    }
}

impl ReasonGroup {
    /// The group as one sentence, e.g. `private contractors, `copilot-chat` (use, decide;
    /// `personuppgifter`): still deny, no longer for §3 s3-user-in-user-groups`.
    pub fn sentence(&self, language: Language) -> String {
        let who = who(&self.roles, language);
        let actions: Vec<&str> = self.actions.iter().map(|a| a.as_str()).collect();
        let data = data_names(&self.data, language);
        let still = match (self.decision, language) {
            (Verdict::Allow, Language::Sv) => "fortfarande tillåtet",
            (Verdict::Allow, Language::En) => "still allow",
            (Verdict::Deny, Language::Sv) => "fortfarande nekat",
            (Verdict::Deny, Language::En) => "still deny",
        };
        let mut line = format!(
            "{who}, `{}` ({}; {}): {still}",
            self.ai,
            actions.join(", "),
            data.join(", ")
        );
        if !self.removed.is_empty() {
            line.push_str(&format!(
                ", {} {}",
                tr(language, "inte längre", "no longer"),
                self.removed.join(", ")
            ));
        }
        if !self.added.is_empty() {
            line.push_str(&format!(
                ", {} {}",
                tr(language, "nu också", "now also"),
                self.added.join(", ")
            ));
        }
        line
    }
}

/// `text` with its first letter in upper case.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A value of the register as YAML-ish text on one line (`[employee, contractor]`).
fn value_text(value: &Option<Value>, language: Language) -> String {
    match value {
        None => tr(language, "(inte angiven)", "(not given)").to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => {
            let items: Vec<String> = items
                .iter()
                .map(|v| value_text(&Some(v.clone()), language))
                .collect();
            format!("[{}]", items.join(", "))
        }
        Some(other) => other.to_string(),
    }
}

impl ItemChange {
    /// `AI system `x` changed: userGroups [a] → [a, b]; 14 decisions changed (…)`.
    fn describe(&self, language: Language) -> String {
        let kind = match self.part {
            "aiSystems" => tr(language, "AI-system", "AI system"),
            "dataClasses" => tr(language, "Informationsklass", "Data class"),
            "users" => tr(language, "Användare", "User"),
            _ => tr(
                language,
                "Registrets egna nycklar",
                "The register's own keys",
            ),
        };
        let id = self
            .id
            .as_ref()
            .map_or(String::new(), |id| format!(" `{id}`"));
        // Swedish agrees with the noun: ett AI-system, en informationsklass, en användare,
        // nycklarna.
        let (added, removed, changed) = match self.part {
            "aiSystems" => ("tillagt", "borttaget", "ändrat"),
            "dataClasses" | "users" => ("tillagd", "borttagen", "ändrad"),
            _ => ("tillagda", "borttagna", "ändrade"),
        };
        let status = match self.status {
            ItemStatus::Added => tr(language, added, "added"),
            ItemStatus::Removed => tr(language, removed, "removed"),
            ItemStatus::Changed => tr(language, changed, "changed"),
        };
        let mut line = format!("{kind}{id} {status}");
        if !self.keys.is_empty() {
            let keys: Vec<String> = self
                .keys
                .iter()
                .map(|k| {
                    format!(
                        "{} {} → {}",
                        k.key,
                        value_text(&k.old, language),
                        value_text(&k.new, language)
                    )
                })
                .collect();
            line.push_str(": ");
            line.push_str(&keys.join("; "));
        }
        match self.part {
            "aiSystems" | "dataClasses" => {
                let changed = self.newly_allowed + self.newly_denied;
                line.push_str(&match language {
                    Language::Sv => format!(
                        " — {changed} beslut ändrade ({} nu tillåtna, {} nu nekade)",
                        self.newly_allowed, self.newly_denied
                    ),
                    Language::En => format!(
                        " — {changed} decisions changed ({} newly allowed, {} newly denied)",
                        self.newly_allowed, self.newly_denied
                    ),
                });
            }
            "users" => line.push_str(tr(
                language,
                " (matrisen beslutar per roll; beslut om användaren själv: `aipolicy check --user`)",
                " (the matrix decides per role; decisions about this user: `aipolicy check --user`)",
            )),
            _ => {}
        }
        line
    }
}

impl Finding {
    fn describe(&self, language: Language) -> String {
        match self {
            Finding::Proved => tr(language, "bevisat: ingen", "proved: none").to_string(),
            Finding::Counterexample(w) => match language {
                Language::Sv => {
                    let sv = |word: &str| match word {
                        "allow" => "tillåtet".to_string(),
                        "deny" => "nekat".to_string(),
                        other => other.to_string(),
                    };
                    format!(
                        "JA, till exempel {} (gamla: {}, nya: {}; motorn har spelat upp den)",
                        w.query,
                        sv(&w.old),
                        sv(&w.new)
                    )
                }
                Language::En => format!(
                    "YES, e.g. {} (old: {}, new: {}; replayed through the engine)",
                    w.query, w.old, w.new
                ),
            },
            Finding::Unknown { reason } => {
                format!("{} ({reason})", tr(language, "OBEVISAT", "NOT PROVED"))
            }
        }
    }
}

impl Diff {
    /// The counts at the top: how many cells, and how many changed how.
    fn headline(&self) -> String {
        let l = self.language;
        let cells = self.space.cells;
        if self.newly_allowed + self.newly_denied == 0 {
            let mut line = match l {
                Language::Sv => format!("Inga beslut ändras i matrisens {cells} celler"),
                Language::En => format!("No decision changes in the {cells} cells of the matrix"),
            };
            if self.other_reasons > 0 {
                line.push_str(&match l {
                    Language::Sv => {
                        format!(
                            "; {} behåller sitt beslut med andra skäl",
                            self.other_reasons
                        )
                    }
                    Language::En => format!(
                        "; {} keep their decision with other reasons",
                        self.other_reasons
                    ),
                });
            }
            match &self.proof {
                Some(p) if p.equivalent() => line.push_str(tr(
                    l,
                    ", bevisat likvärdiga för varje begäran.",
                    ", proved equivalent for every request.",
                )),
                Some(_) => line.push_str(tr(
                    l,
                    "; men beviset hittar begäranden som beslutas olika (se Bevis).",
                    "; but the proof finds requests decided differently (see Proof).",
                )),
                None => line.push('.'),
            }
            return line;
        }
        match l {
            Language::Sv => format!(
                "Beslut: {} av {cells} celler ändras: {} nu tillåtna, {} nu nekade; {} behåller sitt beslut med andra skäl.",
                self.newly_allowed + self.newly_denied,
                self.newly_allowed,
                self.newly_denied,
                self.other_reasons
            ),
            Language::En => format!(
                "Decisions: {} of {cells} cells change: {} newly allowed, {} newly denied; {} keep their decision with other reasons.",
                self.newly_allowed + self.newly_denied,
                self.newly_allowed,
                self.newly_denied,
                self.other_reasons
            ),
        }
    }

    /// What the matrix ranges over, in one sentence.
    fn space_line(&self) -> String {
        let s = &self.space;
        let contexts: usize = s.actions.iter().map(|(_, f)| 1usize << f.len()).sum();
        match self.language {
            Language::Sv => format!(
                "Jämfört: {} AI-system × {} informationsklasser × 3 roller × med/utan AI-utbildning × {} förvaltningsval, för {} handlingar med {} kombinationer av de flaggor policyerna läser.",
                s.systems.len(), s.data_classes.len(), s.units.len(), s.actions.len(), contexts
            ),
            Language::En => format!(
                "Compared: {} AI systems × {} data classes × 3 roles × with/without the AI training × {} unit choices, over {} actions with {} combinations of the flags the policies read.",
                s.systems.len(), s.data_classes.len(), s.units.len(), s.actions.len(), contexts
            ),
        }
    }

    /// The proof in one line, for the top.
    fn proof_line(&self) -> String {
        let l = self.language;
        match &self.proof {
            None => tr(
                l,
                "Bevis: inte gjort (--no-proof); bara matrisen är jämförd.",
                "Proof: not made (--no-proof); only the matrix was compared.",
            )
            .to_string(),
            Some(p) if p.equivalent() => {
                let mut line = tr(
                    l,
                    "Bevis: policyerna beslutar lika för varje begäran och varje register (likvärdiga)",
                    "Proof: the policies decide alike for every request and every register (equivalent)",
                )
                .to_string();
                line.push_str(if self.newly_allowed + self.newly_denied > 0 {
                    tr(l, "; ändringarna kommer från registret.", "; the changes come from the register.")
                } else {
                    "."
                });
                line
            }
            Some(p) if p.only_takes_away() => tr(
                l,
                "Bevis: de nya policyerna tillåter inget som de gamla nekade; ändringen tar bara bort.",
                "Proof: the new policies allow nothing the old denied; the change only takes away.",
            )
            .to_string(),
            Some(p) if p.actions.iter().any(|a| matches!(a.new_allows_more, Finding::Unknown { .. })) => tr(
                l,
                "Bevis: kunde inte göras för alla handlingar; se nedan.",
                "Proof: could not be made for every action; see below.",
            )
            .to_string(),
            Some(_) => tr(
                l,
                "Bevis: de nya policyerna tillåter begäranden som de gamla nekade; se nedan.",
                "Proof: the new policies allow requests the old denied; see below.",
            )
            .to_string(),
        }
    }

    /// Each kind of change that has cells, with its lines: newly allowed, newly denied, other
    /// reasons.
    fn sections(&self) -> Vec<(Shift, Vec<String>)> {
        let l = self.language;
        let mut sections = Vec::new();
        for shift in [Shift::NewlyAllowed, Shift::NewlyDenied] {
            let lines: Vec<String> = self
                .groups
                .iter()
                .filter(|g| g.shift == shift)
                .map(|g| g.sentence(l))
                .collect();
            if !lines.is_empty() {
                sections.push((shift, lines));
            }
        }
        if !self.reason_groups.is_empty() {
            let lines = self.reason_groups.iter().map(|g| g.sentence(l)).collect();
            sections.push((Shift::OtherReasons, lines));
        }
        sections
    }

    fn shift_title(&self, shift: Shift) -> String {
        let cells = match shift {
            Shift::NewlyAllowed => self.newly_allowed,
            Shift::NewlyDenied => self.newly_denied,
            Shift::OtherReasons => self.other_reasons,
        };
        let l = self.language;
        let title = match shift {
            Shift::NewlyAllowed => tr(l, "Nu tillåtet", "Newly allowed"),
            Shift::NewlyDenied => tr(l, "Nu nekat", "Newly denied"),
            Shift::OtherReasons => tr(
                l,
                "Samma beslut, andra skäl",
                "Same decision, other reasons",
            ),
        };
        format!("{title} ({cells} {})", tr(l, "celler", "cells"))
    }

    /// The lines of the rules part: policies, files, schema, invariants, settings.
    fn rule_lines(&self) -> Vec<String> {
        let l = self.language;
        let mut lines = Vec::new();
        for p in &self.rules.policies {
            let status = match p.status {
                ItemStatus::Added => tr(l, "tillagd", "added"),
                ItemStatus::Removed => tr(l, "borttagen", "removed"),
                ItemStatus::Changed => tr(l, "ändrad", "changed"),
            };
            lines.push(format!(
                "{} `{}` {status} ({} {}, {})",
                tr(l, "Policy", "Policy"),
                p.id,
                p.paragraph,
                p.effect,
                p.at
            ));
        }
        if !self.rules.files_changed.is_empty() {
            let files: Vec<String> = self
                .rules
                .files_changed
                .iter()
                .map(|f| format!("`{f}`"))
                .collect();
            let same = if self.rules.policies.is_empty() {
                tr(
                    l,
                    "; varje policy lyder som förut (layout eller kommentarer)",
                    "; every policy reads as before (layout or comments)",
                )
            } else {
                ""
            };
            lines.push(format!(
                "{} {}{same}",
                tr(l, "Text ändrad i", "Text changed in"),
                list(&files, l)
            ));
        }
        if self.rules.schema_changed == Some(true) {
            lines.push(tr(l, "Cedar-schemat ändrat", "The Cedar schema changed").to_string());
        }
        if let Some(invariants) = &self.rules.invariants {
            for (id, status) in invariants {
                let status = match status {
                    ItemStatus::Added => tr(l, "tillagd", "added"),
                    ItemStatus::Removed => tr(l, "borttagen", "removed"),
                    ItemStatus::Changed => tr(l, "ändrad", "changed"),
                };
                lines.push(format!(
                    "{} `{id}` {status}",
                    tr(l, "Invariant", "Invariant")
                ));
            }
        }
        if let Some((old, new)) = self.rules.registered_users_only {
            lines.push(format!("registered-users-only: {old} → {new}"));
        }
        lines
    }

    fn proof_lines(&self) -> Vec<String> {
        let l = self.language;
        let Some(proof) = &self.proof else {
            return Vec::new();
        };
        let mut lines = vec![match l {
            Language::Sv => format!(
                "Jämfört för varje begäran och varje register med {} ({} ms); per handling: tillåter de nya något som de gamla nekade? tillåter de gamla något som de nya nekar?",
                proof.solver, proof.millis
            ),
            Language::En => format!(
                "Compared for every request and every register with {} ({} ms); for each action: do the new policies allow anything the old denied? do the old allow anything the new deny?",
                proof.solver, proof.millis
            ),
        }];
        if proof.schemas_differ {
            lines.push(format!(
                "  {}",
                tr(
                    l,
                    "Cedar-schemana skiljer sig: båda policyuppsättningarna jämförs under det nya.",
                    "The Cedar schemas differ: both policy sets are compared under the new one.",
                )
            ));
        }
        let witness = |lines: &mut Vec<String>, finding: &Finding| {
            if let Finding::Counterexample(w) = finding {
                lines.push(format!(
                    "  {:<17} {}",
                    "",
                    tr(l, "registret och fallet:", "register and case:")
                ));
                for line in w.register.lines() {
                    lines.push(format!("  {:<17}   {line}", ""));
                }
            }
        };
        for a in &proof.actions {
            let alike =
                a.new_allows_more == Finding::Proved && a.old_allows_more == Finding::Proved;
            if alike {
                lines.push(format!(
                    "  {:<17} {}",
                    a.action.as_str(),
                    tr(l, "likvärdiga", "equivalent")
                ));
                continue;
            }
            lines.push(format!(
                "  {:<17} {}: {}",
                a.action.as_str(),
                tr(l, "nya tillåter mer", "new allows more"),
                a.new_allows_more.describe(l)
            ));
            witness(&mut lines, &a.new_allows_more);
            lines.push(format!(
                "  {:<17} {}: {}",
                "",
                tr(l, "gamla tillät mer", "old allowed more"),
                a.old_allows_more.describe(l)
            ));
            witness(&mut lines, &a.old_allows_more);
        }
        lines
    }

    /// The diff for a person, in its language.
    pub fn to_text(&self) -> String {
        let l = self.language;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {} → {}",
            tr(l, "Ändringen", "The change"),
            self.old_label,
            self.new_label
        );
        let _ = writeln!(out, "{}", self.headline());
        let _ = writeln!(out, "{}", self.proof_line());
        let _ = writeln!(out, "{}", self.space_line());
        for (shift, lines) in self.sections() {
            let _ = writeln!(out, "\n{}:", self.shift_title(shift));
            for line in lines {
                let _ = writeln!(out, "  - {line}");
            }
        }
        if !self.register.is_empty() {
            let _ = writeln!(out, "\n{}:", tr(l, "Registret", "Register"));
            for item in &self.register {
                let _ = writeln!(out, "  - {}", item.describe(l));
            }
        }
        let rules = self.rule_lines();
        if !rules.is_empty() {
            let _ = writeln!(
                out,
                "\n{}:",
                tr(
                    l,
                    "Policyer, schema, invarianter",
                    "Policies, schema, invariants"
                )
            );
            for line in rules {
                let _ = writeln!(out, "  - {line}");
            }
        }
        let proof = self.proof_lines();
        if !proof.is_empty() {
            let _ = writeln!(out, "\n{}:", tr(l, "Bevis", "Proof"));
            for line in proof {
                let _ = writeln!(out, "  {line}");
            }
        }
        out
    }

    /// The diff as a pull-request comment (GitHub-flavoured Markdown): the counts and the proof
    /// at the top, each kind of change in a section that opens on a click when it is long.
    pub fn to_markdown(&self) -> String {
        let l = self.language;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### aipolicy diff: {} → {}\n",
            md(&self.old_label),
            md(&self.new_label)
        );
        let _ = writeln!(out, "**{}**\n", md(&self.headline()));
        let _ = writeln!(out, "{}\n", md(&self.proof_line()));
        let _ = writeln!(out, "{}\n", md(&self.space_line()));
        for (shift, lines) in self.sections() {
            let title = self.shift_title(shift);
            // Newly allowed always open: it is what a reviewer must see.
            let open = shift == Shift::NewlyAllowed || lines.len() <= 10;
            if open {
                let _ = writeln!(out, "#### {title}\n");
            } else {
                let _ = writeln!(out, "<details><summary>{title}</summary>\n");
            }
            for line in lines {
                let _ = writeln!(out, "- {}", md(&line));
            }
            let _ = writeln!(out, "{}", if open { "" } else { "\n</details>\n" });
        }
        if !self.register.is_empty() {
            let _ = writeln!(out, "#### {}\n", tr(l, "Registret", "Register"));
            for item in &self.register {
                let _ = writeln!(out, "- {}", md(&item.describe(l)));
            }
            let _ = writeln!(out);
        }
        let rules = self.rule_lines();
        if !rules.is_empty() {
            let _ = writeln!(
                out,
                "#### {}\n",
                tr(
                    l,
                    "Policyer, schema, invarianter",
                    "Policies, schema, invariants"
                )
            );
            for line in rules {
                let _ = writeln!(out, "- {}", md(&line));
            }
            let _ = writeln!(out);
        }
        let proof = self.proof_lines();
        if let Some((first, rest)) = proof.split_first() {
            let _ = writeln!(out, "#### {}\n\n{}\n", tr(l, "Bevis", "Proof"), md(first));
            if !rest.is_empty() {
                let _ = writeln!(out, "```text");
                for line in rest {
                    let _ = writeln!(out, "{}", line.trim_start_matches("  "));
                }
                let _ = writeln!(out, "```");
            }
        }
        out
    }

    /// The diff as JSON on one line (a change to a whole system can move thousands of cells),
    /// every cell whose decision changed included.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// Text fit for a Markdown line: no HTML from the register reaches the comment.
fn md(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_is_found_as_a_whole_word() {
        assert!(contains_word("context.humanReview &&", "humanReview"));
        assert!(!contains_word("context.humanReviewed", "humanReview"));
        assert!(contains_word("context.humanReviewed)", "humanReviewed"));
    }

    #[test]
    fn every_combination_of_flags() {
        let contexts = contexts_of(&["humanReviewed", "aiDisclosure"]).unwrap();
        assert_eq!(contexts.len(), 4);
        assert_eq!(contexts[0], Context::default());
        assert!(contexts[3].human_reviewed && contexts[3].ai_disclosure);
    }
}
