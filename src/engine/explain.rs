//! The second step of a decision: Cedar asked over the policies the action can meet, and its
//! answer explained: each forbid that applied is a reason (with the assessments that lapsed),
//! each obligation of a permit or duty that applied is a duty. Any evaluation error is a deny.

use super::*;

/// A rule's explanations, built once at load in both languages.
#[derive(Debug, Clone)]
pub(super) struct Explained {
    pub(super) effect: Effect,
    pub(super) reason: [Reason; 2],
    pub(super) obligation: Option<[Reason; 2]>,
    /// The assessments the rule reads (`context.current.…`, as [`AssessmentKind::bit`]s): a
    /// deny it gives names those that lapsed.
    pub(super) reads_assessments: u8,
}

pub(super) fn pick(pair: &[Reason; 2], language: Language) -> Reason {
    match language {
        Language::Sv => pair[0].clone(),
        Language::En => pair[1].clone(),
    }
}

/// The assessments that lapsed or are dated after the day, as [`AssessmentKind::bit`]s.
pub(super) fn lapsed_bits(assessments: &Standings) -> u8 {
    AssessmentKind::ALL
        .into_iter()
        .filter(|kind| assessments.of(*kind).is_explained())
        .fold(0, |bits, kind| bits | kind.bit())
}

/// A reason whose rule reads assessments that lapsed (`bits`), with which and when.
pub(super) fn with_lapses(
    mut reason: Reason,
    bits: u8,
    assessments: &Standings,
    language: Language,
) -> Reason {
    let mut message = reason.message.to_string();
    for kind in AssessmentKind::ALL {
        if bits & kind.bit() != 0 {
            if let Some(explained) = assessments.of(kind).explain(kind, language) {
                message.push(' ');
                message.push_str(&explained);
            }
        }
    }
    reason.message = message.into();
    reason
}

impl Engine {
    /// Asks Cedar and explains its answer. Any evaluation error is a deny.
    pub fn decide_prepared(&self, prepared: &PreparedRequest, language: Language) -> Decision {
        let response =
            self.authorizer
                .is_authorized(&prepared.request, prepared.policies, &prepared.entities);
        let diagnostics = response.diagnostics();
        let mut applied: Vec<usize> = diagnostics
            .reason()
            .filter_map(|id| self.policies.position(id))
            .collect();
        let mut errors: Vec<String> = diagnostics.errors().map(ToString::to_string).collect();
        let mut allowed = response.decision() == cedar_policy::Decision::Allow && errors.is_empty();
        // The register is the authority for its users: a role it does not grant is a deny
        // (reporting an incident, open to anyone, aside).
        let beyond_register =
            !prepared.roles_beyond_register.is_empty() && prepared.action != Action::ReportIncident;
        // Likewise a user it does not list, when it lists every user.
        let unregistered = prepared.unregistered_user && prepared.action != Action::ReportIncident;
        if beyond_register || unregistered {
            allowed = false;
        }
        if allowed {
            if let Some(duties) = self.static_duties.get(&prepared.action) {
                applied.extend(duties);
            }
        }
        let conditional_duties = self
            .conditional_duties
            .get(prepared.action)
            .filter(|duties| !duties.is_empty());
        if let (true, Some(conditional_duties)) = (allowed, conditional_duties) {
            // The duties that come with this allow; one that cannot be evaluated fails closed.
            let duties = self.authorizer.is_authorized(
                &prepared.request,
                conditional_duties,
                &prepared.entities,
            );
            let duty_errors: Vec<String> = duties
                .diagnostics()
                .errors()
                .map(ToString::to_string)
                .collect();
            if duty_errors.is_empty() {
                applied.extend(
                    duties
                        .diagnostics()
                        .reason()
                        .filter_map(|id| self.policies.position(id)),
                );
            } else {
                errors.extend(duty_errors);
                allowed = false;
            }
        }
        applied.sort_unstable();
        let explained = applied.iter().filter_map(|&i| self.explained.get(i));
        if allowed {
            return Decision {
                decision: Verdict::Allow,
                reasons: Vec::new(),
                obligations: explained
                    .filter_map(|e| e.obligation.as_ref())
                    .map(|pair| pick(pair, language))
                    .collect(),
                errors,
                notes: prepared
                    .notes
                    .iter()
                    .map(|note| note.text(language))
                    .collect(),
                request_id: prepared.request_id.as_deref().map(Into::into),
                incident_channel: match prepared.action {
                    Action::ReportIncident => prepared.incident_channel.clone(),
                    _ => None,
                },
                found: Vec::new(),
            };
        }
        let mut reasons: Vec<Reason> = Vec::new();
        if unregistered {
            reasons.push(unregistered_user_reason(language));
        }
        if beyond_register {
            reasons.push(role_beyond_register_reason(
                &prepared.roles_beyond_register,
                language,
            ));
        }
        let lapsed = lapsed_bits(&prepared.assessments);
        reasons.extend(explained.filter(|e| e.effect == Effect::Forbid).map(|e| {
            match e.reads_assessments & lapsed {
                0 => pick(&e.reason, language),
                bits => with_lapses(
                    pick(&e.reason, language),
                    bits,
                    &prepared.assessments,
                    language,
                ),
            }
        }));
        if !errors.is_empty() {
            reasons.push(fail_closed_reason(language));
        } else if reasons.is_empty() {
            reasons.push(no_permit_reason(language));
        }
        Decision {
            decision: Verdict::Deny,
            reasons,
            obligations: Vec::new(),
            errors,
            notes: prepared
                .notes
                .iter()
                .map(|note| note.text(language))
                .collect(),
            request_id: prepared.request_id.as_deref().map(Into::into),
            incident_channel: prepared.incident_channel.clone(),
            found: Vec::new(),
        }
    }
}
