//! Cedar contexts, built once per data profile and set of flags.
//!
//! A request's context is a function of the query's [`DataProfile`] and its seven flags only,
//! and there are few of those: 2 × 5 × 3 × 2 × 2 profiles (named, level 0–4, personal data,
//! secrecy, within the user's units) times 2⁷ flag sets. Building a Cedar context costs more than evaluating several
//! policies, so each is built the first time it is asked for and shared after that (a Cedar
//! context is reference-counted: a clone is cheap). Slots are filled without locks held across
//! threads beyond the first build of each.

use std::sync::OnceLock;

use cedar_policy::{Context as CedarContext, RestrictedExpression};

use crate::data_profile::DataProfile;
use crate::query::Context;

/// Levels the cache has slots for (the register allows 0–4).
const LEVELS: usize = 5;
/// Personal-data categories (none, ordinary, sensitive).
const PERSONAL: usize = 3;
const FLAG_SETS: usize = 1 << Context::KEYS.len();
const SLOTS: usize = 2 * LEVELS * PERSONAL * 2 * 2 * FLAG_SETS;

/// The contexts asked for so far, by data profile and flags.
#[derive(Debug)]
pub(crate) struct ContextCache {
    slots: Box<[OnceLock<CedarContext>]>,
}

impl Default for ContextCache {
    fn default() -> Self {
        ContextCache {
            slots: (0..SLOTS).map(|_| OnceLock::new()).collect(),
        }
    }
}

impl Clone for ContextCache {
    /// A fresh cache: the contexts are rebuilt on demand, which gives the same values.
    fn clone(&self) -> Self {
        ContextCache::default()
    }
}

impl ContextCache {
    /// The Cedar context for this profile and these flags.
    pub(crate) fn get(
        &self,
        profile: DataProfile,
        flags: &Context,
    ) -> Result<CedarContext, String> {
        let Some(slot) = slot(profile, flags).and_then(|i| self.slots.get(i)) else {
            // Outside what the register allows: not cached, still built correctly.
            return build(profile, flags);
        };
        if let Some(context) = slot.get() {
            return Ok(context.clone());
        }
        let context = build(profile, flags)?;
        Ok(slot.get_or_init(|| context).clone())
    }
}

/// The slot of a profile and flags; `None` outside the slots (a level above 4).
pub(crate) fn slot(profile: DataProfile, flags: &Context) -> Option<usize> {
    let level = usize::from(profile.level);
    let personal = usize::try_from(profile.personal_data.rank()).ok()?;
    if level >= LEVELS || personal >= PERSONAL {
        return None;
    }
    let bits = flags
        .flags()
        .iter()
        .enumerate()
        .fold(0usize, |bits, (i, (_, on))| bits | (usize::from(*on) << i));
    let profile_index = (((usize::from(profile.named) * LEVELS + level) * PERSONAL + personal) * 2
        + usize::from(profile.secrecy))
        * 2
        + usize::from(profile.within_units);
    Some(profile_index * FLAG_SETS + bits)
}

/// The context Cedar sees: `data` (the profile) and every flag.
pub(crate) fn build(profile: DataProfile, flags: &Context) -> Result<CedarContext, String> {
    let data = RestrictedExpression::new_record([
        (
            "named".to_string(),
            RestrictedExpression::new_bool(profile.named),
        ),
        (
            "level".to_string(),
            RestrictedExpression::new_long(profile.level.into()),
        ),
        (
            "personalData".to_string(),
            RestrictedExpression::new_long(profile.personal_data.rank()),
        ),
        (
            "secrecy".to_string(),
            RestrictedExpression::new_bool(profile.secrecy),
        ),
        (
            "withinUnits".to_string(),
            RestrictedExpression::new_bool(profile.within_units),
        ),
    ])
    .map_err(|e| e.to_string())?;
    let pairs = std::iter::once(("data".to_string(), data)).chain(
        flags
            .flags()
            .into_iter()
            .map(|(key, value)| (key.to_string(), RestrictedExpression::new_bool(value))),
    );
    CedarContext::from_pairs(pairs).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::PersonalData;
    use std::collections::HashSet;

    fn profiles() -> Vec<DataProfile> {
        let mut all = Vec::new();
        for named in [false, true] {
            for level in 0..LEVELS as u8 {
                for personal_data in [
                    PersonalData::None,
                    PersonalData::Ordinary,
                    PersonalData::Sensitive,
                ] {
                    for secrecy in [false, true] {
                        for within_units in [false, true] {
                            all.push(DataProfile {
                                named,
                                level,
                                personal_data,
                                secrecy,
                                within_units,
                            });
                        }
                    }
                }
            }
        }
        all
    }

    fn flag_sets() -> Vec<Context> {
        (0..FLAG_SETS)
            .map(|bits| {
                let mut context = Context::default();
                for (i, key) in Context::KEYS.iter().enumerate() {
                    context.set(key, bits & (1 << i) != 0).unwrap();
                }
                context
            })
            .collect()
    }

    #[test]
    fn every_profile_and_flag_set_has_its_own_slot() {
        let mut seen = HashSet::new();
        for profile in profiles() {
            for flags in flag_sets() {
                let i = slot(profile, &flags).unwrap();
                assert!(i < SLOTS);
                assert!(seen.insert(i), "{profile:?} {flags:?} shares slot {i}");
            }
        }
        assert_eq!(seen.len(), SLOTS);
    }

    #[test]
    fn a_cached_context_is_the_one_built_for_it_and_levels_beyond_the_slots_are_built() {
        let cache = ContextCache::default();
        let mut flags = Context::default();
        flags.set("humanReview", true).unwrap();
        for profile in profiles().into_iter().step_by(7).chain([DataProfile {
            named: true,
            level: 9,
            personal_data: PersonalData::Sensitive,
            secrecy: true,
            within_units: true,
        }]) {
            let expected = build(profile, &flags).unwrap();
            assert_eq!(cache.get(profile, &flags).unwrap(), expected);
            assert_eq!(cache.get(profile, &flags).unwrap(), expected, "second read");
        }
    }
}
