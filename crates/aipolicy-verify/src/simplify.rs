//! Simplification of counterexamples: the solver's model sets whatever it likes, so a
//! counterexample is made as plain as it can be while it still breaks the invariant.

use std::str::FromStr;

use aipolicy::invariants::assumptions_condition;
use aipolicy::policies::Policies;
use aipolicy::query::UserRef;
use aipolicy::register::{AiSystem, PersonalData, Role, Status};
use aipolicy::{Assessment, AssessmentKind, Engine};
use cedar_policy::{Authorizer, PolicySet, Schema};

use crate::counterexample::{data_class_name, Counterexample, NOT_NAMED};

/// One way to make a counterexample simpler; `false` when it changes nothing.
type Simplification = fn(&mut Counterexample) -> bool;

/// Sets `value` to `simpler`; `false` when it was that already.
fn reset<T: PartialEq + Copy>(value: &mut T, simpler: T) -> bool {
    std::mem::replace(value, simpler) != simpler
}

/// Lowers a level to `to`; `false` when it was at or below it already.
fn lower(level: &mut u8, to: u8) -> bool {
    if *level > to {
        *level = to;
        true
    } else {
        false
    }
}

/// Sets the user's roles when that is simpler: fewer roles, then earlier ones.
fn set_roles(cex: &mut Counterexample, roles: &[Role]) -> bool {
    if (roles.len(), roles) >= (cex.user.roles.len(), cex.user.roles.as_slice()) {
        return false;
    }
    cex.user.roles = roles.to_vec();
    cex.query.user = UserRef::Inline(cex.user.clone());
    true
}

/// Records an assessment as not done; `false` when it was not done already.
fn not_done(ai: &mut AiSystem, kind: AssessmentKind) -> bool {
    let was = ai.assessment(kind);
    ai.set_assessment(kind, Assessment::NotDone);
    was != Assessment::NotDone
}

/// Changes the counterexample's AI system; `false` when it has none (not in the register).
fn on_ai(cex: &mut Counterexample, change: impl FnOnce(&mut AiSystem) -> bool) -> bool {
    cex.ai_system.as_mut().is_some_and(change)
}

/// Simplifications tried in order, each kept only when the counterexample still breaks the
/// invariant: fewer flags set, defaults where the register has them, fewer roles, lower levels.
const SIMPLIFICATIONS: &[Simplification] = &[
    |c| c.ai_system.take().is_some(),
    |c| {
        let unnamed = !c.query.data.is_empty() && !c.query.action.requires_data();
        if unnamed {
            c.query.data.clear();
            c.data_class.description = Some(NOT_NAMED.into());
        }
        unnamed
    },
    |c| reset(&mut c.query.context.human_review, false),
    |c| reset(&mut c.query.context.human_reviewed, false),
    |c| reset(&mut c.query.context.ai_disclosure, false),
    |c| reset(&mut c.query.context.security_review, false),
    |c| reset(&mut c.query.context.it_security_review, false),
    |c| reset(&mut c.query.context.data_protection_review, false),
    |c| reset(&mut c.query.context.values_review, false),
    |c| reset(&mut c.data_class.secrecy, false),
    |c| reset(&mut c.data_class.personal_data, PersonalData::None),
    |c| lower(&mut c.data_class.level, 0),
    |c| lower(&mut c.data_class.level, 1),
    |c| lower(&mut c.data_class.level, 2),
    |c| lower(&mut c.data_class.level, 3),
    |c| set_roles(c, &[Role::Employee]),
    |c| set_roles(c, &[Role::Contractor]),
    |c| set_roles(c, &[Role::Elected]),
    |c| {
        // The query gives the same user inline: both lose the unit.
        let had = c.user.unit.take().is_some();
        if had {
            c.query.user = UserRef::Inline(c.user.clone());
        }
        had
    },
    |c| {
        on_ai(c, |a| {
            a.user_groups != Role::ALL && {
                a.user_groups = Role::ALL.to_vec();
                true
            }
        })
    },
    |c| on_ai(c, |a| reset(&mut a.status, Status::Active)),
    |c| on_ai(c, |a| reset(&mut a.decision_support, false)),
    |c| on_ai(c, |a| not_done(a, AssessmentKind::FairnessAssessed)),
    |c| on_ai(c, |a| reset(&mut a.resident_facing, false)),
    |c| on_ai(c, |a| reset(&mut a.transparency_notice, false)),
    |c| on_ai(c, |a| not_done(a, AssessmentKind::AccessibilityReviewed)),
    |c| on_ai(c, |a| reset(&mut a.secrecy, false)),
    |c| on_ai(c, |a| reset(&mut a.personal_data, PersonalData::None)),
    |c| on_ai(c, |a| not_done(a, AssessmentKind::Verified)),
    |c| on_ai(c, |a| not_done(a, AssessmentKind::Fria)),
    |c| on_ai(c, |a| not_done(a, AssessmentKind::Dpia)),
    |c| on_ai(c, |a| reset(&mut a.approved, false)),
    |c| on_ai(c, |a| a.owner.take().is_some()),
    |c| {
        on_ai(c, |a| {
            a.owner.is_some() && a.owner.replace("IT-chef".into()).as_deref() != Some("IT-chef")
        })
    },
    |c| on_ai(c, |a| lower(&mut a.max_data_level, 0)),
    |c| on_ai(c, |a| lower(&mut a.max_data_level, 1)),
    |c| on_ai(c, |a| lower(&mut a.max_data_level, 2)),
    |c| on_ai(c, |a| lower(&mut a.max_data_level, 3)),
];

/// Makes a counterexample easier to read: tries each of [`SIMPLIFICATIONS`] and keeps it when
/// the engine still decides the same and the request still meets the assumptions and
/// `condition`. A counterexample the engine does not confirm is returned unchanged.
pub(crate) fn simplify(
    cex: Counterexample,
    condition: &str,
    policies: &Policies,
    schema: &Schema,
) -> Counterexample {
    match still_breaks(condition, policies, schema) {
        Some(still_breaks) => simplify_while(cex, still_breaks),
        None => cex,
    }
}

/// Whether a counterexample still breaks: with these policies the engine decides as
/// [`Counterexample::decision`] says, and the request meets the assumptions and `condition`.
/// `None` when `condition` is not Cedar.
pub(crate) fn still_breaks<'a>(
    condition: &str,
    policies: &'a Policies,
    schema: &'a Schema,
) -> Option<impl Fn(&Counterexample) -> bool + 'a> {
    let text = format!(
        "permit (principal, action, resource) when {{ ({}) && ({condition}) }};",
        assumptions_condition()
    );
    let meets = PolicySet::from_str(&text).ok()?;
    let authorizer = Authorizer::new();
    Some(move |c: &Counterexample| -> bool {
        let Ok(register) = c.register() else {
            return false;
        };
        let Ok(engine) = Engine::new(policies.clone(), schema.clone(), register) else {
            return false;
        };
        let decided = engine.decide(&c.query).map(|d| d.decision);
        let Ok(prepared) = engine.prepare_exact(&c.query) else {
            return false;
        };
        let response = authorizer.is_authorized(&prepared.request, &meets, &prepared.entities);
        decided == Ok(c.decision) && response.decision() == cedar_policy::Decision::Allow
    })
}

/// Makes a counterexample easier to read: tries each of [`SIMPLIFICATIONS`] and keeps it while
/// `holds` still holds of it. A counterexample of which it does not hold is returned unchanged.
pub(crate) fn simplify_while(
    cex: Counterexample,
    holds: impl Fn(&Counterexample) -> bool,
) -> Counterexample {
    let still_breaks = holds;
    if !still_breaks(&cex) {
        return cex;
    }
    let mut best = cex;
    // Until nothing changes: one simplification can make an earlier one possible.
    for _pass in 0..4 {
        let mut changed = false;
        for simplification in SIMPLIFICATIONS {
            let mut candidate = best.clone();
            if simplification(&mut candidate) && still_breaks(&candidate) {
                best = candidate;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    best.data_class.name = data_class_name(best.data_class.level);
    best
}
