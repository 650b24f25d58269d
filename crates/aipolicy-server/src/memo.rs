//! Decisions remembered across requests, shared by every worker: the engine is asked once per
//! kind of query ([`aipolicy::DecisionKey`]), as `aipolicy batch` does.

use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use aipolicy::{Decision, DecisionMemo, Engine, InputError, Language, Query, UserRef};

/// Shards, so that workers rarely wait for each other.
const SHARDS: usize = 16;

/// A bounded map from decision keys to decisions (without `requestId`), in shards.
#[derive(Debug)]
pub struct SharedMemo {
    shards: Vec<Mutex<DecisionMemo<Arc<Decision>>>>,
    hasher: RandomState,
}

impl SharedMemo {
    /// A memo of about `capacity` decisions (0: none).
    pub fn new(capacity: usize) -> SharedMemo {
        let per_shard = capacity.div_ceil(SHARDS);
        SharedMemo {
            shards: if capacity == 0 {
                Vec::new()
            } else {
                (0..SHARDS)
                    .map(|_| Mutex::new(DecisionMemo::new(per_shard)))
                    .collect()
            },
            hasher: RandomState::new(),
        }
    }

    /// Decides `query` in `language`, from the memo when an equal query was decided before.
    /// The decision carries the query's `requestId`.
    pub fn decide(
        &self,
        engine: &Engine,
        query: &Query,
        language: Language,
    ) -> Result<Decision, InputError> {
        // One day for the key and the decision it keeps: midnight cannot fall between them.
        let today = engine.today();
        let key = if self.shards.is_empty() || !memoizable(engine, query) {
            None
        } else {
            engine.decision_key_on(query, language, today)
        };
        let Some(key) = key else {
            return engine.decide_on(query, language, today);
        };
        let shard = &self.shards[(self.hasher.hash_one(&key) as usize) % self.shards.len()];
        let found = shard.lock().ok().and_then(|memo| memo.get(&key).cloned());
        if let Some(decision) = found {
            return Ok(Decision::clone(&decision).with_request_id(query.request_id.clone()));
        }
        let decision = engine.decide_on(query, language, today)?;
        if decision.errors.is_empty() {
            if let Ok(mut memo) = shard.lock() {
                memo.insert(key, Arc::new(decision.clone().with_request_id(None)));
            }
        }
        Ok(decision)
    }
}

/// Whether a query's decision may be taken from another query with the same key. An inline
/// user whose id the register lists with another unit gets a note that names the user and the
/// unit, which the key does not hold: such a query is decided afresh.
fn memoizable(engine: &Engine, query: &Query) -> bool {
    match &query.user {
        UserRef::Registered(_) => true,
        UserRef::Inline(user) => match (engine.register().user(&user.id), &user.unit) {
            (Some(listed), Some(unit)) => listed.unit.as_deref() == Some(unit.as_str()),
            _ => true,
        },
    }
}
