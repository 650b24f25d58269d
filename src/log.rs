//! The decision log's record, its hash chain and the interface of its sinks.
//!
//! Every front end that decides (`aipolicy check`, `aipolicy batch`, `aipolicy serve`, a service
//! embedding this library) hands a [`DecisionRecord`] to a [`DecisionSink`]; the sinks
//! themselves (SQLite, JSON Lines, PostgreSQL) live outside the core, in `aipolicy-log`.
//!
//! A record holds what was asked and what was decided, never the information itself: the ids
//! of the data classes, the kinds of information found in the query's text (not the text, nor
//! where in it), the context's flags, the paragraphs and policies of the reasons and duties
//! (not their messages). Each record's [`hash`](DecisionRecord::hash) covers its content
//! and the previous record's hash ([`prev_hash`](DecisionRecord::prev_hash)), so that an edited,
//! inserted or deleted record breaks the chain ([`verify`]).

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::Engine;
use crate::model::decision::{Decision, FoundInText, Reason, Verdict};
use crate::model::query::Query;

/// The `prevHash` of the first record of a log: no record came before it.
pub const GENESIS: &str = "";

/// What the hash of a record starts with: a later format of the record hashes under another
/// prefix, so that records of two formats can never be taken for each other.
const HASH_DOMAIN: &[u8] = b"aipolicy decision log v1\n";

/// A reason or a duty as the log keeps it: the policy and its paragraph, not the message (the
/// message follows from the policy revision and the language).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cited {
    /// The policy's `@id`.
    pub policy: String,
    /// The policy's `@paragraph`.
    pub paragraph: String,
}

impl From<&Reason> for Cited {
    fn from(reason: &Reason) -> Cited {
        Cited {
            policy: reason.policy.to_string(),
            paragraph: reason.paragraph.to_string(),
        }
    }
}

/// One decision as the log keeps it (the pinned record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionRecord {
    /// The decision's id (a UUIDv7 from the service; a fresh one from the command line).
    pub decision_id: String,
    /// When it was decided, RFC 3339 in UTC with milliseconds (`2026-11-25T14:03:07.123Z`):
    /// one fixed width, so that times sort as text.
    pub time: String,
    /// The revision of policies, schema and register that decided.
    pub policy_revision: String,
    /// The query's `requestId`, when it had one.
    pub request_id: Option<String>,
    /// Who asked: the token's name in the service (`local` without a token file), the command
    /// (`aipolicy check`, `aipolicy batch`) on the command line.
    pub caller: String,
    /// The user's id, or its pseudonym (`--log-pseudonymize`).
    pub user: String,
    /// The user's roles as decided (for a user the register lists, the roles both grant; when
    /// the query claimed a role beyond the register, the register's, and the deny says so).
    pub roles: Vec<String>,
    /// The user's unit as decided (the register's for a user it lists).
    pub unit: Option<String>,
    /// The AI system's id.
    pub ai: String,
    /// The action.
    pub action: String,
    /// The data classes the decision was made on: the query's `data` as declared, then each
    /// class that what was found in its `text` raised and `data` did not already name (in the
    /// order of [`found`](Self::found) in the decision), or, when both are empty, the class
    /// the query was given to take instead (a gateway's default). A supervisor sees what the
    /// decision weighed, not only what the caller declared.
    pub data: Vec<String>,
    /// The kinds of information found in the query's `text` (`personnummer`, `email`, `health`,
    /// `pattern`, …: [`FoundInText::kind`]), sorted, without repeats. Never the text, nor
    /// where in it: a kind is not personal data. Absent (JSON key `found`) when the query had
    /// no text or nothing was found, so that a record without text is written, and hashed,
    /// exactly as before the key existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub found: Vec<String>,
    /// The context flags that were set (only `true` ones; the rest default to false).
    pub context: BTreeMap<String, bool>,
    /// `allow` or `deny`.
    pub decision: Verdict,
    /// Why a deny: each forbid that applied.
    pub reasons: Vec<Cited>,
    /// What an allow carries.
    pub obligations: Vec<Cited>,
    /// SHA-256 (hex) of this record's content and `prevHash`: set by the sink that writes it.
    pub hash: String,
    /// The hash of the record before it in the log ([`GENESIS`] for the first).
    pub prev_hash: String,
}

/// Who asked and under which revision: what a record holds beside the query and decision.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The decision's id.
    pub decision_id: &'a str,
    /// When it was decided.
    pub time: SystemTime,
    /// The revision that decided.
    pub policy_revision: &'a str,
    /// Who asked.
    pub caller: &'a str,
}

impl DecisionRecord {
    /// The record of `decision`, made by `engine` for `query`: the user's roles and unit as the
    /// engine took them. Not yet linked: a sink sets [`hash`](Self::hash) and
    /// [`prev_hash`](Self::prev_hash) when it writes the record.
    pub fn new(
        origin: Origin<'_>,
        engine: &Engine,
        query: &Query,
        decision: &Decision,
    ) -> DecisionRecord {
        let (roles, unit) = match engine.user_as_decided(&query.user) {
            Some(user) => (
                user.roles.iter().map(|r| r.as_str().to_string()).collect(),
                user.unit.clone(),
            ),
            None => (Vec::new(), None),
        };
        // The flags that are set, by their pinned keys (no JSON value built per decision).
        let context = query
            .context
            .flags()
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(key, set)| (key.to_string(), set))
            .collect();
        DecisionRecord {
            decision_id: origin.decision_id.to_string(),
            time: rfc3339(origin.time),
            policy_revision: origin.policy_revision.to_string(),
            request_id: query.request_id.clone(),
            caller: origin.caller.to_string(),
            // The register's own id for a user it lists (ids compare without regard to case):
            // one person, one id in the log, and one pseudonym.
            user: engine
                .register()
                .user(query.user.id())
                .map_or_else(|| query.user.id().to_string(), |listed| listed.id.clone()),
            roles,
            unit,
            ai: query.ai.clone(),
            action: query.action.as_str().to_string(),
            data: decided_on(query, &decision.found),
            found: found_kinds(&decision.found),
            context,
            decision: decision.decision,
            reasons: decision.reasons.iter().map(Cited::from).collect(),
            obligations: decision.obligations.iter().map(Cited::from).collect(),
            hash: String::new(),
            prev_hash: String::new(),
        }
    }

    /// The hash this record's content and `prevHash` give: what [`hash`](Self::hash) must be.
    /// The content is the record's JSON without `hash`, its fields in the pinned order.
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(HASH_DOMAIN);
        let content = Content {
            decision_id: &self.decision_id,
            time: &self.time,
            policy_revision: &self.policy_revision,
            request_id: self.request_id.as_deref(),
            caller: &self.caller,
            user: &self.user,
            roles: &self.roles,
            unit: self.unit.as_deref(),
            ai: &self.ai,
            action: &self.action,
            data: &self.data,
            found: &self.found,
            context: &self.context,
            decision: self.decision,
            reasons: &self.reasons,
            obligations: &self.obligations,
            prev_hash: &self.prev_hash,
        };
        // Serializing plain strings, lists and a sorted map cannot fail.
        let _ = serde_json::to_writer(HashWriter(&mut hasher), &content);
        hex(&hasher.finalize())
    }

    /// Links the record after the one whose hash is `prev_hash`: sets both hashes.
    pub fn link(&mut self, prev_hash: &str) {
        prev_hash.clone_into(&mut self.prev_hash);
        self.hash = self.content_hash();
    }

    /// Whether this is a deny.
    pub fn is_deny(&self) -> bool {
        self.decision == Verdict::Deny
    }
}

/// The hashed content of a record: every field but `hash`, in the pinned order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Content<'a> {
    decision_id: &'a str,
    time: &'a str,
    policy_revision: &'a str,
    request_id: Option<&'a str>,
    caller: &'a str,
    user: &'a str,
    roles: &'a [String],
    unit: Option<&'a str>,
    ai: &'a str,
    action: &'a str,
    data: &'a [String],
    /// Left out when empty, as in the record: the content of a record without text is what it
    /// was before `found` existed, so that every log written before still verifies.
    #[serde(skip_serializing_if = "is_empty")]
    found: &'a [String],
    context: &'a BTreeMap<String, bool>,
    decision: Verdict,
    reasons: &'a [Cited],
    obligations: &'a [Cited],
    prev_hash: &'a str,
}

fn is_empty(list: &&[String]) -> bool {
    list.is_empty()
}

/// The data classes a decision was made on: what the engine decided `query` on, taken from
/// what it found ([`Engine::decide`] joins the classes found in the text to the declared ones,
/// and takes the query's default class when it then has none).
fn decided_on(query: &Query, found: &[FoundInText]) -> Vec<String> {
    let mut data = query.data.clone();
    for class in found.iter().filter_map(|f| f.class.as_deref()) {
        if !data.iter().any(|id| id == class) {
            data.push(class.to_string());
        }
    }
    if data.is_empty() {
        data.extend(query.default_data.iter().cloned());
    }
    data
}

/// The kinds of what was found, sorted, each once: what the log keeps of a text.
fn found_kinds(found: &[FoundInText]) -> Vec<String> {
    let mut kinds: Vec<String> = found.iter().map(|f| f.kind.to_string()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// Feeds serialized JSON straight into the hash, without a buffer.
struct HashWriter<'h>(&'h mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where a chain may start: at the first record ever ([`GENESIS`]), or, after old records were
/// purged, at the record whose `prevHash` the purge wrote down.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Anchor {
    /// The `prevHash` the first kept record must have.
    pub prev_hash: String,
    /// How many records were purged before it (for the report).
    pub purged: u64,
}

/// A record that breaks the chain, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// Its place in the log, counted from 1 (the first kept record).
    pub position: u64,
    /// Its `decisionId`.
    pub decision_id: String,
    /// Its time.
    pub time: String,
    /// What is wrong.
    pub kind: BreakKind,
}

/// How a record breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakKind {
    /// Its content does not give its hash: it was edited (or made up).
    Edited,
    /// Its `prevHash` is not the hash of the record before it: a record was deleted before it,
    /// or it was inserted.
    NotLinked {
        /// The hash of the record before it (the anchor for the first record).
        expected: String,
    },
    /// Its `decisionId` was seen before: a copy was inserted.
    Duplicate,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let record = format!(
            "record {} (decisionId {}, time {})",
            self.position, self.decision_id, self.time
        );
        match &self.kind {
            BreakKind::Edited => write!(
                f,
                "{record} was changed after it was written: its content does not give its hash"
            ),
            BreakKind::NotLinked { expected } if self.position == 1 => write!(
                f,
                "{record} is not where the log starts: its prevHash is not `{}`; records before it were deleted, or it was inserted",
                if expected.is_empty() { "(none)" } else { expected }
            ),
            BreakKind::NotLinked { .. } => write!(
                f,
                "{record} does not follow record {}: its prevHash is not that record's hash; a record between them was deleted, or one of them was inserted",
                self.position - 1
            ),
            BreakKind::Duplicate => write!(
                f,
                "{record} repeats the decisionId of an earlier record: a copy was inserted"
            ),
        }
    }
}

/// What [`verify`] found in a whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verified {
    /// Records checked.
    pub records: u64,
    /// The first record's time, when there is one.
    pub first_time: Option<String>,
    /// The last record's time.
    pub last_time: Option<String>,
    /// The last record's hash: write it down, and a later check shows the log still ends
    /// there (a chain cannot show that records were cut off its end).
    pub last_hash: Option<String>,
}

/// Checks the chain of `records`, in log order, from `anchor`: `Ok` when each record's content
/// gives its hash and each links to the one before; else the first record that breaks it. A
/// record that cannot be read is the caller's error `E`, returned as it is.
pub fn verify<E>(
    records: impl IntoIterator<Item = Result<DecisionRecord, E>>,
    anchor: &Anchor,
) -> Result<Result<Verified, ChainBreak>, E> {
    let mut verifier = ChainVerifier::new(anchor);
    for record in records {
        if let Err(broken) = verifier.check(&record?) {
            return Ok(Err(broken));
        }
    }
    Ok(Ok(verifier.finish()))
}

/// [`verify`] one record at a time, for a caller that shows progress.
#[derive(Debug)]
pub struct ChainVerifier {
    expected: String,
    seen: std::collections::HashSet<[u8; 16]>,
    verified: Verified,
}

impl ChainVerifier {
    /// A verifier of a chain that starts at `anchor`.
    pub fn new(anchor: &Anchor) -> ChainVerifier {
        ChainVerifier {
            expected: anchor.prev_hash.clone(),
            seen: std::collections::HashSet::new(),
            verified: Verified::default(),
        }
    }

    /// Checks the next record.
    pub fn check(&mut self, record: &DecisionRecord) -> Result<(), ChainBreak> {
        let position = self.verified.records + 1;
        let broken = |kind| ChainBreak {
            position,
            decision_id: record.decision_id.clone(),
            time: record.time.clone(),
            kind,
        };
        if record.content_hash() != record.hash {
            return Err(broken(BreakKind::Edited));
        }
        if record.prev_hash != self.expected {
            return Err(broken(BreakKind::NotLinked {
                expected: self.expected.clone(),
            }));
        }
        // A copy of a record with its hash recomputed would link; its id gives it away.
        let id_key: [u8; 16] = Sha256::digest(record.decision_id.as_bytes())[..16]
            .try_into()
            .unwrap_or_default();
        if !self.seen.insert(id_key) {
            return Err(broken(BreakKind::Duplicate));
        }
        record.hash.clone_into(&mut self.expected);
        self.verified.records = position;
        if self.verified.first_time.is_none() {
            self.verified.first_time = Some(record.time.clone());
        }
        self.verified.last_time = Some(record.time.clone());
        Ok(())
    }

    /// Records checked so far.
    pub fn checked(&self) -> u64 {
        self.verified.records
    }

    /// What was checked.
    pub fn finish(mut self) -> Verified {
        if self.verified.records > 0 {
            self.verified.last_hash = Some(self.expected);
        }
        self.verified
    }
}

/// A keyed hash of user ids (HMAC-SHA-256): the same user always gets the same pseudonym, and
/// without the key a pseudonym cannot be turned back into an id, nor an id into its pseudonym.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: Hmac<Sha256>,
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonymizer(key hidden)")
    }
}

impl Pseudonymizer {
    /// What every pseudonym starts with, so that a reader sees it is one.
    pub const PREFIX: &'static str = "p-";

    /// A pseudonymizer with `key` (any length; a long random one is best).
    pub fn new(key: &[u8]) -> Pseudonymizer {
        // HMAC takes a key of any length.
        let key = <Hmac<Sha256> as Mac>::new_from_slice(key)
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        Pseudonymizer { key }
    }

    /// The pseudonym of `id`: `p-` and 32 hex digits (128 bits of the keyed hash).
    pub fn pseudonym(&self, id: &str) -> String {
        let mut mac = self.key.clone();
        mac.update(id.as_bytes());
        let bytes = mac.finalize().into_bytes();
        format!("{}{}", Self::PREFIX, hex(&bytes[..16]))
    }

    /// Replaces the record's user id by its pseudonym. Nothing else changes: the kinds found
    /// in a text (`found`) and the data classes are not personal data.
    pub fn apply(&self, record: &mut DecisionRecord) {
        record.user = self.pseudonym(&record.user);
    }
}

/// A record handed to a sink: its place in the sink's queue, to wait for with
/// [`DecisionSink::wait_durable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// Why a record could not be logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("decision log: {0}")]
pub struct LogError(pub String);

/// Where decisions are logged. Handing a record over costs a queue push: the sink writes it
/// (and links it into the chain) on a thread of its own.
pub trait DecisionSink: Send + Sync {
    /// Queues one record; returns its ticket, or `None` when it was dropped because the queue
    /// was full (a sink set to drop, not wait) or the sink has failed.
    fn submit(&self, record: DecisionRecord) -> Option<Ticket>;
    /// The ticket of the last record queued so far.
    fn last_ticket(&self) -> Ticket;
    /// Waits until every record up to `ticket` is durable (written, and synced to disk where
    /// the sink is set to). Blocks.
    fn wait_durable(&self, ticket: Ticket) -> Result<(), LogError>;
    /// Whether each decision waits for its record to be durable before it is answered
    /// (`--log-sync`).
    fn is_sync(&self) -> bool {
        false
    }
    /// Records queued, not yet written.
    fn queue_depth(&self) -> u64;
    /// Records dropped because the queue was full (or the sink failed).
    fn dropped(&self) -> u64;
    /// Writes everything queued and waits for it: at shutdown, and before a command exits.
    fn flush(&self) -> Result<(), LogError> {
        self.wait_durable(self.last_ticket())
    }
}

/// `2026-11-25T14:03:07.123Z`: RFC 3339 in UTC with milliseconds, always this width.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// Howard Hinnant's `civil_from_days`: the date of a day counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub use crate::io::hex;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::time::Duration;

    fn record(id: &str) -> DecisionRecord {
        DecisionRecord {
            decision_id: id.into(),
            time: "2026-11-25T14:03:07.123Z".into(),
            policy_revision: "abc".into(),
            request_id: None,
            caller: "test".into(),
            user: "anna".into(),
            roles: vec!["employee".into()],
            unit: Some("Socialförvaltningen".into()),
            ai: "copilot-chat".into(),
            action: "use".into(),
            data: vec!["intern".into()],
            found: vec![],
            context: BTreeMap::new(),
            decision: Verdict::Deny,
            reasons: vec![Cited {
                policy: "p".into(),
                paragraph: "U3".into(),
            }],
            obligations: vec![],
            hash: String::new(),
            prev_hash: String::new(),
        }
    }

    #[test]
    fn a_record_holds_the_context_flags_that_were_set_by_their_keys() {
        let engine = Engine::bundled().unwrap();
        let query = crate::Query::new(
            crate::UserRef::registered("anna"),
            "copilot-chat",
            ["intern"],
        )
        .with_action(crate::Action::Decide)
        .with_context("humanReview", true)
        .unwrap()
        .with_context("valuesReview", false)
        .unwrap();
        let decision = engine.decide(&query).unwrap();
        let record = DecisionRecord::new(
            Origin {
                decision_id: "d",
                time: std::time::SystemTime::UNIX_EPOCH,
                policy_revision: "r",
                caller: "test",
            },
            &engine,
            &query,
            &decision,
        );
        assert_eq!(
            record.context,
            BTreeMap::from([("humanReview".to_string(), true)])
        );
    }

    #[test]
    fn a_record_keeps_the_kinds_found_and_the_classes_decided_on_never_the_text() {
        let engine = Engine::bundled()
            .unwrap()
            .with_clock(crate::clock::Clock::fixed(
                crate::clock::parse_date("2026-12-07").unwrap(),
            ));
        let note = "Anteckning: 19811218-9876 ringde från 070-123 45 67 om sin diagnos.";
        let query = crate::Query::new(
            crate::UserRef::registered("bertil"),
            "lokal-sprakmodell",
            ["intern"],
        )
        .with_text([note, "Och 19811218-9876 igen."]);
        let decision = engine.decide(&query).unwrap();
        assert!(decision.found.len() >= 4, "{:?}", decision.found);
        let origin = Origin {
            decision_id: "d",
            time: std::time::SystemTime::UNIX_EPOCH,
            policy_revision: "r",
            caller: "test",
        };
        let mut record = DecisionRecord::new(origin, &engine, &query, &decision);
        // Sorted, each once, though the personnummer was found twice and after the phone.
        assert_eq!(record.found, ["health", "personnummer", "phone"]);
        // Declared first, then the classes found, in the order found.
        assert_eq!(
            record.data,
            ["intern", "personuppgifter", "kansliga-personuppgifter"]
        );
        record.link(GENESIS);
        let line = serde_json::to_string(&record).unwrap();
        assert!(
            line.contains(r#""found":["health","personnummer","phone"]"#),
            "{line}"
        );
        for text in ["19811218", "9876", "070", "diagnos", "Anteckning"] {
            assert!(!line.contains(text), "the record holds `{text}`: {line}");
        }
        // The kinds are hashed: an edited kind breaks the chain.
        let mut edited = record.clone();
        edited.found.pop();
        assert_ne!(edited.content_hash(), record.hash);
        // A pseudonym replaces the user, and only the user.
        let mut pseudonymized = record.clone();
        Pseudonymizer::new(b"a key of sixteen bytes or more").apply(&mut pseudonymized);
        assert_ne!(pseudonymized.user, record.user);
        assert_eq!(pseudonymized.found, record.found);
        assert_eq!(pseudonymized.data, record.data);
        // Read back as written.
        let back: DecisionRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(back, record);
        assert_eq!(back.content_hash(), back.hash);
    }

    #[test]
    fn a_query_without_text_is_recorded_on_its_declared_or_default_data() {
        let engine = Engine::bundled().unwrap();
        let origin = Origin {
            decision_id: "d",
            time: std::time::SystemTime::UNIX_EPOCH,
            policy_revision: "r",
            caller: "test",
        };
        let declared = crate::Query::new(
            crate::UserRef::registered("anna"),
            "copilot-chat",
            ["intern"],
        );
        let decision = engine.decide(&declared).unwrap();
        let record = DecisionRecord::new(origin, &engine, &declared, &decision);
        assert_eq!(
            (record.data.as_slice(), record.found.len()),
            (&["intern".to_string()][..], 0)
        );
        assert!(!serde_json::to_string(&record).unwrap().contains("found"));
        // A text where nothing is found, no data declared: the default class decided.
        let defaulted = crate::Query::new(
            crate::UserRef::registered("anna"),
            "copilot-chat",
            Vec::<String>::new(),
        )
        .with_text(["Hur skriver jag en bra kallelse?"])
        .with_default_data("intern");
        let decision = engine.decide(&defaulted).unwrap();
        let record = DecisionRecord::new(origin, &engine, &defaulted, &decision);
        assert_eq!(record.data, ["intern"]);
        assert!(record.found.is_empty());
    }

    /// Two linked records as `aipolicy` wrote them before `found` existed (commit b51cbc5), with
    /// the hashes that code computed: a log written then must verify now, unchanged.
    const BEFORE_FOUND: [&str; 2] = [
        r#"{"decisionId":"0192f7a4-3c1e-7000-8000-000000000001","time":"2026-11-25T14:03:07.123Z","policyRevision":"sha256:4f2a","requestId":"req-1","caller":"aipolicy check","user":"anna","roles":["employee"],"unit":"Socialförvaltningen","ai":"copilot-chat","action":"use","data":["personuppgifter","intern"],"context":{"humanReview":true},"decision":"deny","reasons":[{"policy":"u3-public-ai","paragraph":"U3"}],"obligations":[],"hash":"f18164a769fbedabe8bd352fb128a50eff8a3c16f0a8d038e5a2a61f3fa4d93b","prevHash":""}"#,
        r#"{"decisionId":"0192f7a4-3c1e-7000-8000-000000000002","time":"2026-11-25T14:03:08.000Z","policyRevision":"sha256:4f2a","requestId":null,"caller":"aipolicy check","user":"anna","roles":["employee"],"unit":null,"ai":"copilot-chat","action":"use","data":["oppen"],"context":{},"decision":"allow","reasons":[],"obligations":[{"policy":"u1-review","paragraph":"U1"}],"hash":"31a72b23160c8a73457d90278eff06490c565f519b048a1fa79e5e5de68e9583","prevHash":"f18164a769fbedabe8bd352fb128a50eff8a3c16f0a8d038e5a2a61f3fa4d93b"}"#,
    ];

    #[test]
    fn a_log_written_before_found_existed_still_verifies_and_is_written_back_the_same() {
        let records: Vec<DecisionRecord> = BEFORE_FOUND
            .iter()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert!(records.iter().all(|r| r.found.is_empty()));
        let verified = check(&records).unwrap();
        assert_eq!(verified.records, 2);
        assert_eq!(
            verified.last_hash.as_deref(),
            Some("31a72b23160c8a73457d90278eff06490c565f519b048a1fa79e5e5de68e9583")
        );
        // Written again (an export), each line is what it was.
        for (record, line) in records.iter().zip(BEFORE_FOUND) {
            assert_eq!(serde_json::to_string(record).unwrap(), line);
        }
        // An old record given kinds is no longer the record that was hashed.
        let mut added = records[0].clone();
        added.found = vec!["personnummer".into()];
        assert_ne!(added.content_hash(), added.hash);
    }

    fn chain(n: usize) -> Vec<DecisionRecord> {
        let mut prev = GENESIS.to_string();
        (0..n)
            .map(|i| {
                let mut r = record(&format!("d{i}"));
                r.link(&prev);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn check(records: &[DecisionRecord]) -> Result<Verified, ChainBreak> {
        verify(records.iter().cloned().map(Ok::<_, ()>), &Anchor::default()).unwrap()
    }

    #[test]
    fn a_whole_chain_verifies() {
        let records = chain(5);
        let verified = check(&records).unwrap();
        assert_eq!(verified.records, 5);
        assert_eq!(
            verified.last_hash.as_deref(),
            Some(records[4].hash.as_str())
        );
    }

    #[test]
    fn an_edit_is_named() {
        let mut records = chain(5);
        records[2].decision = Verdict::Allow;
        let broken = check(&records).unwrap_err();
        assert_eq!((broken.position, broken.kind), (3, BreakKind::Edited));
    }

    #[test]
    fn a_deletion_is_named_at_the_next_record() {
        let mut records = chain(5);
        records.remove(2);
        let broken = check(&records).unwrap_err();
        assert_eq!(broken.position, 3);
        assert_eq!(broken.decision_id, "d3");
        assert!(matches!(broken.kind, BreakKind::NotLinked { .. }));
    }

    #[test]
    fn a_relinked_copy_is_a_duplicate() {
        let mut records = chain(3);
        let mut copy = records[1].clone();
        copy.link(&records[2].hash);
        records.push(copy);
        assert_eq!(check(&records).unwrap_err().kind, BreakKind::Duplicate);
    }

    #[test]
    fn a_purged_head_verifies_from_its_anchor_only() {
        let records = chain(5);
        let anchor = Anchor {
            prev_hash: records[1].hash.clone(),
            purged: 2,
        };
        let kept = records[2..].iter().cloned().map(Ok::<_, ()>);
        assert_eq!(verify(kept, &anchor).unwrap().unwrap().records, 3);
        let broken = check(&records[2..]).unwrap_err();
        assert_eq!(broken.position, 1);
    }

    #[test]
    fn the_hash_is_of_the_pinned_content() {
        // A fixed record gives a fixed hash: a change of the canonical form breaks every log.
        let mut r = record("d0");
        r.link(GENESIS);
        assert_eq!(r.hash.len(), 64);
        let again = r.content_hash();
        assert_eq!(r.hash, again);
        r.unit = None;
        assert_ne!(r.content_hash(), again);
    }

    #[test]
    fn pseudonyms_are_stable_and_keyed() {
        let a = Pseudonymizer::new(b"key one");
        let b = Pseudonymizer::new(b"key two");
        assert_eq!(a.pseudonym("anna"), a.pseudonym("anna"));
        assert_ne!(a.pseudonym("anna"), a.pseudonym("bertil"));
        assert_ne!(a.pseudonym("anna"), b.pseudonym("anna"));
        assert!(a.pseudonym("anna").starts_with("p-"));
        assert_eq!(a.pseudonym("anna").len(), 34);
    }

    #[test]
    fn formats_utc() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }
}
