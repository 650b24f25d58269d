//! What `aipolicy validate` finds in a register that is valid but likely wrong, each at the
//! register's file and line: what the law rules cannot yet judge (`ai-act`), supplier settings
//! that contradict each other (`suppliers`), approvals that can never apply or are wider than
//! meant (`approvals`), assessments that are undated, dated ahead, about to lapse or lapsed
//! (`assessments`), and rights and channels that are missing (`routes`).

use crate::diagnostics::error::FieldError;
use crate::model::assessments::{Assessment, AssessmentKind, Standing};
use crate::model::clock::Date;
use crate::model::register::{
    AiActRisk, AiSystem, Hosting, PersonalData, Register, ThirdCountryTransfer,
};

use crate::authoring::yaml_findings::yaml_findings_at;
use crate::diagnostics::findings::{Check, Finding, Severity};

/// How many days before an assessment lapses `validate` warns.
pub const LAPSE_WARNING_DAYS: i32 = 30;

/// Every finding about a valid register, as of `day` (what lapses is told against it).
pub fn register_warnings(file: &str, text: &str, register: &Register, day: Date) -> Vec<Finding> {
    let mut findings = ai_act_findings(file, text, register);
    findings.extend(supplier_findings(file, text, register));
    findings.extend(approval_findings(file, text, register));
    findings.extend(assessment_findings(file, text, register, day));
    findings.extend(route_findings(file, text, register));
    findings.extend(text_class_findings(file, text, register));
    findings
}

/// The kinds of information the text finders find that no data class names in `finds`: a
/// query whose text holds one is denied (U2) until the register places it. A warning when the
/// register maps some kinds (likely a gap), a note when it maps none (it is not yet set up for
/// queries with text).
fn text_class_findings(file: &str, text: &str, register: &Register) -> Vec<Finding> {
    let unmapped = register.text_classes().unmapped_kinds();
    if unmapped.is_empty() {
        return Vec::new();
    }
    let severity = if unmapped.len() == crate::text::Kind::ALL.len() {
        Severity::Note
    } else {
        Severity::Warning
    };
    let names: Vec<String> = unmapped.iter().map(|k| format!("`{}`", k.name())).collect();
    let problem = FieldError::new(
        "dataClasses",
        format!(
            "no data class finds {} (`finds`): a query whose text holds such information is denied (U2), since the register does not say which class it belongs to",
            names.join(", ")
        ),
    );
    yaml_findings_at(
        Check::TextClasses,
        severity,
        file,
        text,
        &[problem],
        "name each kind in the `finds` of the data class it belongs to, e.g. `finds: [personnummer, email, phone]` on the class of personal data: `aipolicy schema register`",
    )
}

fn at(i: usize, key: &str) -> String {
    format!("aiSystems[{i}].{key}")
}

/// Warnings for the AI systems that the AI Act's rules cannot yet judge fairly: one not
/// classified (`decide` is then denied, and a prohibited practice would go unnoticed), a
/// high-risk one without its fundamental-rights (AI Act art. 27) or data-protection (GDPR
/// art. 35) impact assessment or its registration in the EU database (art. 49(3)), and decision
/// support classified below high risk (annex III).
pub fn ai_act_findings(file: &str, text: &str, register: &Register) -> Vec<Finding> {
    let mut problems = Vec::new();
    for (i, ai) in register.ai_systems().iter().enumerate() {
        match ai.ai_act_risk {
            None => problems.push(FieldError::new(
                at(i, "id"),
                format!(
                    "AI system `{}` is not classified under the AI Act (no `aiActRisk`); it is denied `decide`, and a prohibited practice would pass unnoticed{}",
                    ai.id,
                    if ai.decision_support {
                        "; it supports decisions about individuals, which in a municipality is in most uses high-risk under annex III (point 5(a): eligibility for public assistance benefits and services; point 4: employment)"
                    } else {
                        ""
                    }
                ),
            )),
            Some(AiActRisk::High) => {
                let missing: Vec<String> = [
                    (ai.fria.recorded(), "`fria`"),
                    (ai.dpia.recorded(), "`dpia`"),
                    (ai.eu_database_id.is_some(), "`euDatabaseId`"),
                ]
                .into_iter()
                .filter(|(done, _)| !done)
                .map(|(_, key)| key.to_string())
                .collect();
                if !missing.is_empty() {
                    problems.push(FieldError::new(
                        at(i, "aiActRisk"),
                        format!(
                            "high-risk AI system `{}` lacks {}: every action with it but reporting an incident needs a fundamental-rights impact assessment (AI Act art. 27) and its registration in the EU database (art. 26(8), 49(3)); sensitive personal data, and `decide` with personal data, a data-protection impact assessment (GDPR art. 35)",
                            ai.id,
                            missing.join(" and ")
                        ),
                    ));
                }
            }
            Some(risk @ (AiActRisk::Limited | AiActRisk::Minimal)) if ai.decision_support => {
                problems.push(FieldError::new(
                    at(i, "decisionSupport"),
                    format!(
                        "AI system `{}` supports decisions about individuals (`decisionSupport: true`) but is classified `{}`: in a municipality such a system is in most uses high-risk under annex III of the AI Act (point 5(a): eligibility for public assistance benefits and services; point 4: employment), with its FRIA, trained oversight and registration; classify it `high`, or record in its `description` why art. 6(3) exempts it",
                        ai.id,
                        risk.as_str()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    yaml_findings_at(
        Check::AiAct,
        Severity::Warning,
        file,
        text,
        &problems,
        "classify each system with `aiActRisk: prohibited | high | limited | minimal`, and record for a high-risk one its assessments (`fria`, `dpia`, dated) and `euDatabaseId`; the keys: `aipolicy schema register`",
    )
}

/// Supplier settings that cannot all be right: an internal system run by a processor without a
/// processor agreement, public AI approved for personal data, and a transfer outside the EEA
/// on a system said to be run by the municipality itself.
fn supplier_findings(file: &str, text: &str, register: &Register) -> Vec<Finding> {
    let mut problems = Vec::new();
    for (i, ai) in register.ai_systems().iter().enumerate() {
        if let (Hosting::Internal, Some(processor), false) =
            (ai.hosting, &ai.processor, ai.processor_agreement)
        {
            problems.push(FieldError::new(
                at(i, "processor"),
                format!(
                    "internal AI system `{}` is run by `{processor}` without a processor agreement (`processorAgreement: true`): internal means within the municipality's agreements, and personal data is denied until one is signed (GDPR art. 28)",
                    ai.id
                ),
            ));
        }
        if ai.hosting == Hosting::Public && ai.personal_data != PersonalData::None {
            problems.push(FieldError::new(
                at(i, "personalData"),
                format!(
                    "public AI system `{}` is approved for personal data, which U3 never allows public AI (open information only): the approval cannot apply; a system under the municipality's agreements is `hosting: internal`",
                    ai.id
                ),
            ));
        }
        match (ai.third_country_transfer, &ai.processor) {
            (Some(ThirdCountryTransfer::None) | None, _) | (_, Some(_)) => {}
            (Some(transfer), None) => problems.push(FieldError::new(
                at(i, "thirdCountryTransfer"),
                format!(
                    "AI system `{}` names a transfer outside the EU/EEA (`{}`) but no `processor`, which says the municipality runs it itself: name the supplier that takes the data abroad, or say `none`",
                    ai.id,
                    transfer.as_str()
                ),
            )),
        }
    }
    yaml_findings_at(
        Check::Suppliers,
        Severity::Warning,
        file,
        text,
        &problems,
        "`processor`, `processorAgreement`, `thirdCountryTransfer` and `hosting` describe who runs the system and where the data goes: docs/law.md (GDPR)",
    )
}

/// Approvals that can never apply (level 4) or that are wider than one likely meant (sensitive
/// personal data or secrecy for every role by default).
fn approval_findings(file: &str, text: &str, register: &Register) -> Vec<Finding> {
    let mut problems = Vec::new();
    for (i, ai) in register.ai_systems().iter().enumerate() {
        if ai.max_data_level >= 4 {
            problems.push(FieldError::new(
                at(i, "maxDataLevel"),
                format!(
                    "AI system `{}` is approved for level 4 (säkerhetsskydd), which is denied in every AI system whatever the register says (§3; säkerhetsskyddslagen (2018:585)): the approval cannot apply; give 3 at most",
                    ai.id
                ),
            ));
        }
        let wide = ai.personal_data == PersonalData::Sensitive || ai.secrecy;
        if wide && register.user_groups_by_default(i) {
            let what = match (ai.personal_data == PersonalData::Sensitive, ai.secrecy) {
                (true, true) => "sensitive personal data and secrecy",
                (true, false) => "sensitive personal data",
                _ => "information under secrecy",
            };
            problems.push(FieldError::new(
                at(i, "id"),
                format!(
                    "AI system `{}` is approved for {what} but gives no `userGroups`, so every role may use it, private contractors and elected officials included: name who may (`userGroups: [employee]`)",
                    ai.id
                ),
            ));
        }
        // A gateway request names a system by its id or a model name: one name, one system.
        for (j, model) in ai.models.iter().enumerate() {
            let taken = register
                .ai_systems()
                .iter()
                .take(i)
                .find(|other| other.id == *model || other.models.contains(model))
                .or_else(|| register.ai_system(model).filter(|other| other.id != ai.id));
            if let Some(other) = taken {
                problems.push(FieldError::new(
                    format!("aiSystems[{i}].models[{j}]"),
                    format!(
                        "model name `{model}` of AI system `{}` also names AI system `{}`: a gateway request for `{model}` is decided for the first system the register lists; give each system its own names",
                        ai.id, other.id
                    ),
                ));
            }
        }
    }
    yaml_findings_at(
        Check::Approvals,
        Severity::Warning,
        file,
        text,
        &problems,
        "what an AI system is approved for, and for whom: `aipolicy schema register`",
    )
}

/// The dated assessments as of `day`: one dated after it (counts only from then), lapsed
/// (counts as not done), or lapsing within [`LAPSE_WARNING_DAYS`] days is a warning; one
/// without a date a note (it never lapses).
fn assessment_findings(file: &str, text: &str, register: &Register, day: Date) -> Vec<Finding> {
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    for (i, ai) in register.ai_systems().iter().enumerate() {
        for kind in AssessmentKind::ALL {
            let months = register.validity_months(ai, kind);
            let key = kind.key();
            match ai.assessment(kind) {
                Assessment::NotDone => {}
                Assessment::Undated => notes.push(FieldError::new(
                    at(i, key),
                    format!(
                        "`{key}: true` of AI system `{}` has no date, so it never lapses: give the day it was made (`{key}: 2026-03-01`), after which it holds for {months} months",
                        ai.id
                    ),
                )),
                assessment @ Assessment::Made(made) => {
                    let window = assessment.window(months);
                    let message = match window.standing(day) {
                        Standing::NotYet { .. } => Some(format!(
                            "`{key}` of AI system `{}` is dated {made}, after {day}: it counts only from that day",
                            ai.id
                        )),
                        Standing::Lapsed { through, .. } => Some(format!(
                            "`{key}` of AI system `{}` (made {made}, holds {months} months) lapsed on {through}: it counts as not done; record the new assessment with its date",
                            ai.id
                        )),
                        Standing::Current => window
                            .through()
                            .filter(|through| days_until(day, *through) <= LAPSE_WARNING_DAYS)
                            .map(|through| {
                                format!(
                                    "`{key}` of AI system `{}` (made {made}, holds {months} months) lapses on {through}, in {} days: from the day after it counts as not done",
                                    ai.id,
                                    days_until(day, through)
                                )
                            }),
                        Standing::NotDone => None,
                    };
                    warnings.extend(message.map(|m| FieldError::new(at(i, key), m)));
                }
            }
        }
    }
    let help = "an assessment is `true`, `false` or the day it was made; how long each kind holds: `assessmentValidity` (`aipolicy schema register`)";
    let mut findings = yaml_findings_at(
        Check::Assessments,
        Severity::Warning,
        file,
        text,
        &warnings,
        help,
    );
    findings.extend(yaml_findings_at(
        Check::Assessments,
        Severity::Note,
        file,
        text,
        &notes,
        help,
    ));
    findings
}

/// Days from `from` to `to` (negative when `to` is earlier).
fn days_until(from: Date, to: Date) -> i32 {
    from.until(to).map_or(i32::MAX, |span| span.get_days())
}

/// Rights and channels: a register that names no incident channel (U4), and a system that
/// supports decisions or meets residents without a route to contest (§5, §6).
fn route_findings(file: &str, text: &str, register: &Register) -> Vec<Finding> {
    let mut problems = Vec::new();
    let every_system_has_a_channel = register
        .ai_systems()
        .iter()
        .all(|ai| ai.incident_channel.is_some());
    if register.incident_channel().is_none() && !every_system_has_a_channel {
        // At the register's first key, where the municipality-wide keys go.
        let place = if register.municipality().is_some() {
            "municipality"
        } else {
            "dataClasses"
        };
        problems.push(FieldError::new(
            place,
            "the register names no incident channel (`incidentChannel`): U4 asks that deviations, errors and misuse are reported in the municipality's ordinary channels, and a deny cannot say which",
        ));
    }
    for (i, ai) in register.ai_systems().iter().enumerate() {
        if register.contest_route_of(ai).is_some() {
            continue;
        }
        let (key, what) = match (ai.decision_support, ai.resident_facing) {
            (true, _) => ("decisionSupport", "supports decisions about individuals"),
            (false, true) => ("residentFacing", "meets residents"),
            (false, false) => continue,
        };
        problems.push(FieldError::new(at(i, key), contest_route_missing(ai, what)));
    }
    yaml_findings_at(
        Check::Routes,
        Severity::Warning,
        file,
        text,
        &problems,
        "`contestRoute` and `incidentChannel`, municipality-wide at the top of the register or for one system: `aipolicy schema register`",
    )
}

fn contest_route_missing(ai: &AiSystem, what: &str) -> String {
    format!(
        "AI system `{}` {what}, but neither it nor the register names where a person contests a decision (`contestRoute`): `decide` with it, and any use of a resident-facing system, is denied (§5, §6; AI Act art. 86, förvaltningslagen 33 §)",
        ai.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::clock::parse_date;

    /// A register with one thing wrong a line (and the system `klar` with nothing wrong).
    const REGISTER: &str = "\
municipality: Prov
dataClasses: [{id: oppen, level: 0, personalData: none, secrecy: false}]
aiSystems:
  - {id: klar, hosting: internal, approved: true, owner: A, verified: 2026-06-01, maxDataLevel: 1, aiActRisk: minimal}
  - {id: oklassad, hosting: internal, approved: true}
  - {id: hog, hosting: internal, approved: true, aiActRisk: high, fria: 2026-01-01}
  - {id: stod, hosting: internal, approved: true, aiActRisk: minimal, decisionSupport: true, contestRoute: Nämnden}
  - {id: utan-avtal, hosting: internal, approved: true, aiActRisk: minimal, processor: Lev AB}
  - {id: publik, hosting: public, approved: false, aiActRisk: limited, personalData: ordinary}
  - {id: egen-overforing, hosting: internal, approved: true, aiActRisk: minimal, thirdCountryTransfer: adequacy}
  - {id: niva-fyra, hosting: internal, approved: true, aiActRisk: minimal, maxDataLevel: 4}
  - {id: kanslig, hosting: internal, approved: true, aiActRisk: minimal, personalData: sensitive}
  - {id: odaterad, hosting: internal, approved: true, aiActRisk: minimal, verified: true}
  - {id: utgangen, hosting: internal, approved: true, aiActRisk: minimal, verified: 2025-11-01}
  - {id: snart, hosting: internal, approved: true, aiActRisk: minimal, verified: 2025-12-20}
  - {id: framtida, hosting: internal, approved: true, aiActRisk: minimal, verified: 2027-01-01}
  - {id: chatt, hosting: internal, approved: true, aiActRisk: limited, residentFacing: true}
  - {id: stod-oklassat, hosting: internal, approved: true, decisionSupport: true, contestRoute: N}
";

    fn found() -> Vec<(Check, Severity, usize, String)> {
        let register = Register::from_yaml(REGISTER, "r.yaml").unwrap();
        let day = parse_date("2026-12-07").unwrap();
        register_warnings("r.yaml", REGISTER, &register, day)
            .into_iter()
            .map(|f| {
                let line = f.line_column().map_or(0, |(line, _)| line);
                (f.check, f.severity, line, f.diagnostic.message.clone())
            })
            .collect()
    }

    /// The finding of `check` at `line`, whose message holds `words`.
    #[track_caller]
    fn assert_found(check: Check, severity: Severity, line: usize, words: &str) {
        let all = found();
        assert!(
            all.iter().any(|(c, s, l, m)| *c == check
                && *s == severity
                && *l == line
                && m.contains(words)),
            "no {check} {severity} at line {line} with `{words}` in {all:#?}"
        );
    }

    #[test]
    fn each_likely_mistake_is_found_at_its_line() {
        assert_found(Check::AiAct, Severity::Warning, 5, "not classified");
        assert_found(Check::AiAct, Severity::Warning, 18, "annex III (point 5(a)");
        assert_found(
            Check::AiAct,
            Severity::Warning,
            6,
            "lacks `dpia` and `euDatabaseId`",
        );
        assert_found(Check::AiAct, Severity::Warning, 7, "annex III");
        assert_found(
            Check::Suppliers,
            Severity::Warning,
            8,
            "without a processor agreement",
        );
        assert_found(
            Check::Suppliers,
            Severity::Warning,
            9,
            "public AI system `publik` is approved for personal data",
        );
        assert_found(Check::Suppliers, Severity::Warning, 10, "no `processor`");
        assert_found(Check::Approvals, Severity::Warning, 11, "level 4");
        assert_found(
            Check::Approvals,
            Severity::Warning,
            12,
            "gives no `userGroups`",
        );
        assert_found(Check::Assessments, Severity::Note, 13, "has no date");
        assert_found(
            Check::Assessments,
            Severity::Warning,
            14,
            "lapsed on 2026-11-01",
        );
        assert_found(
            Check::Assessments,
            Severity::Warning,
            15,
            "lapses on 2026-12-20, in 13 days",
        );
        assert_found(
            Check::Assessments,
            Severity::Warning,
            16,
            "dated 2027-01-01, after 2026-12-07",
        );
        assert_found(Check::Routes, Severity::Warning, 17, "meets residents");
        assert_found(Check::Routes, Severity::Warning, 1, "no incident channel");
    }

    #[test]
    fn a_system_with_nothing_wrong_is_not_named() {
        let all = found();
        assert!(
            !all.iter()
                .any(|(_, _, line, message)| *line == 4 || message.contains("`klar`")),
            "{all:#?}"
        );
        // The decision-support system has its own contest route: no routes warning for it.
        assert!(!all
            .iter()
            .any(|(c, _, l, _)| *c == Check::Routes && *l == 7));
    }
}
