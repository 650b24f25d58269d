//! Cedar contexts, built once per data profile, set of flags and set of assessments in force.
//!
//! A request's context is a function of the query's [`DataProfile`], its seven flags and which
//! of the AI system's five assessments hold on the day of the decision, and there are few of
//! those: 2 × 5 × 3 × 2 × 2 profiles (named, level 0–4, personal data, secrecy, within the
//! user's units) times 2⁷ flag sets times 2⁵ sets of assessments. Building a Cedar context
//! costs more than evaluating several policies, so each is built the first time it is asked
//! for and shared after that (a Cedar context is reference-counted: a clone is cheap). Slots
//! are filled without locks held across threads beyond the first build of each; the 2⁵
//! assessment slots of a profile and flags are made only when one of them is first asked for.

use std::sync::OnceLock;

use cedar_policy::{Context as CedarContext, RestrictedExpression};

use crate::model::assessments::AssessmentKind;
use crate::model::data_profile::DataProfile;
use crate::model::query::Context;

/// Levels the cache has slots for (the register allows 0–4).
const LEVELS: usize = 5;
/// Personal-data categories (none, ordinary, sensitive).
const PERSONAL: usize = 3;
const FLAG_SETS: usize = 1 << Context::KEYS.len();
/// Sets of assessments in force (`context.current`).
const CURRENT_SETS: usize = 1 << AssessmentKind::ALL.len();
const SLOTS: usize = 2 * LEVELS * PERSONAL * 2 * 2 * FLAG_SETS;

/// The contexts of one profile and set of flags, by the assessments in force.
type ByAssessments = Box<[OnceLock<CedarContext>]>;

/// The contexts asked for so far, by data profile and flags, then by assessments in force.
#[derive(Debug)]
pub(crate) struct ContextCache {
    slots: Box<[OnceLock<ByAssessments>]>,
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
    /// The Cedar context for this profile, these flags and these assessments in force
    /// ([`AssessmentKind::bit`]s).
    pub(crate) fn get(
        &self,
        profile: DataProfile,
        flags: &Context,
        current: u8,
    ) -> Result<CedarContext, String> {
        let current_index = usize::from(current);
        let Some(slot) = profile_slot(profile, flags)
            .and_then(|i| self.slots.get(i))
            .filter(|_| current_index < CURRENT_SETS)
        else {
            // Outside what the register allows: not cached, still built correctly.
            return build(profile, flags, current);
        };
        let by_current = slot.get_or_init(|| (0..CURRENT_SETS).map(|_| OnceLock::new()).collect());
        let Some(cell) = by_current.get(current_index) else {
            return build(profile, flags, current);
        };
        if let Some(context) = cell.get() {
            return Ok(context.clone());
        }
        let context = build(profile, flags, current)?;
        Ok(cell.get_or_init(|| context).clone())
    }
}

/// The number of a context: its profile and flags, and the assessments in force; `None`
/// outside the slots (a level above 4). Equal numbers are equal contexts.
pub(crate) fn slot(profile: DataProfile, flags: &Context, current: u8) -> Option<usize> {
    let current = usize::from(current);
    if current >= CURRENT_SETS {
        return None;
    }
    Some(profile_slot(profile, flags)? * CURRENT_SETS + current)
}

/// The slot of a profile and flags; `None` outside the slots (a level above 4).
fn profile_slot(profile: DataProfile, flags: &Context) -> Option<usize> {
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

/// The context Cedar sees: `data` (the profile), `current` (the assessments in force) and every
/// flag.
pub(crate) fn build(
    profile: DataProfile,
    flags: &Context,
    current: u8,
) -> Result<CedarContext, String> {
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
    let current = RestrictedExpression::new_record(AssessmentKind::ALL.map(|kind| {
        (
            kind.key().to_string(),
            RestrictedExpression::new_bool(current & kind.bit() != 0),
        )
    }))
    .map_err(|e| e.to_string())?;
    let pairs = [("data".to_string(), data), ("current".to_string(), current)]
        .into_iter()
        .chain(
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
    use crate::model::register::PersonalData;
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
    fn every_profile_flag_set_and_set_of_assessments_has_its_own_slot() {
        let mut seen = HashSet::new();
        for profile in profiles() {
            for flags in flag_sets() {
                for current in 0..CURRENT_SETS as u8 {
                    let i = slot(profile, &flags, current).unwrap();
                    assert!(i < SLOTS * CURRENT_SETS);
                    assert!(
                        seen.insert(i),
                        "{profile:?} {flags:?} {current} shares slot {i}"
                    );
                }
            }
        }
        assert_eq!(seen.len(), SLOTS * CURRENT_SETS);
        assert_eq!(slot(profiles()[0], &Context::default(), 32), None);
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
            for current in [0, 0b10101, 31] {
                let expected = build(profile, &flags, current).unwrap();
                assert_eq!(cache.get(profile, &flags, current).unwrap(), expected);
                assert_eq!(
                    cache.get(profile, &flags, current).unwrap(),
                    expected,
                    "second read"
                );
            }
        }
    }
}
