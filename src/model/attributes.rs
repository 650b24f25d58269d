//! The one table from the register's AI-system keys to the attributes Cedar sees on an
//! `AiSystem` entity. The engine builds entities from it and `aipolicy verify` reads
//! counterexamples back through it, so adding an attribute touches the register type, its JSON
//! Schema, the Cedar schema and this table.
//!
//! The five dated assessments are not attributes: whether each holds depends on the day of the
//! decision, so the engine gives them in the request's context (`context.current`, see
//! [`crate::model::assessments`]).

use crate::model::register::{
    AiActRisk, AiSystem, Hosting, PersonalData, Role, Status, ThirdCountryTransfer,
};

/// A Cedar attribute value, as the engine builds it from the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A `Bool`.
    Bool(bool),
    /// A `Long`.
    Long(i64),
    /// A `String`.
    String(String),
    /// A `Set<Role>`.
    Roles(Vec<Role>),
}

/// One attribute of an `AiSystem` entity.
#[derive(Debug, Clone, Copy)]
pub struct AiAttribute {
    /// The Cedar attribute's name (the register key's, in camelCase).
    pub name: &'static str,
    /// Its value for a system; `None` leaves an optional attribute out.
    pub read: fn(&AiSystem) -> Option<Value>,
    /// Sets the register field from a Cedar value (`None`: the attribute is absent).
    pub write: fn(&mut AiSystem, Option<Value>) -> Result<(), String>,
}

/// Every attribute of `AiSystem` entities but `registered` (which says whether the system is in
/// the register at all), in the Cedar schema's order.
pub const AI_SYSTEM: &[AiAttribute] = &[
    AiAttribute {
        name: "hosting",
        read: |ai| Some(Value::String(ai.hosting.as_str().into())),
        write: |ai, value| {
            ai.hosting = match string(value, "hosting")?.as_str() {
                "public" => Hosting::Public,
                "internal" => Hosting::Internal,
                other => return Err(format!("`{other}` is neither public nor internal")),
            };
            Ok(())
        },
    },
    AiAttribute {
        name: "approved",
        read: |ai| Some(Value::Bool(ai.approved)),
        write: |ai, value| set_bool(&mut ai.approved, value, "approved"),
    },
    AiAttribute {
        name: "status",
        read: |ai| Some(Value::String(ai.status.as_str().into())),
        write: |ai, value| {
            ai.status = match string(value, "status")?.as_str() {
                "active" => Status::Active,
                "suspended" => Status::Suspended,
                other => return Err(format!("`{other}` is neither active nor suspended")),
            };
            Ok(())
        },
    },
    AiAttribute {
        name: "owner",
        read: |ai| ai.owner.clone().map(Value::String),
        write: |ai, value| {
            ai.owner = optional_text(value, "owner")?;
            Ok(())
        },
    },
    AiAttribute {
        name: "maxDataLevel",
        read: |ai| Some(Value::Long(ai.max_data_level.into())),
        write: |ai, value| match value {
            Some(Value::Long(level @ 0..=4)) => {
                ai.max_data_level = u8::try_from(level).map_err(|e| e.to_string())?;
                Ok(())
            }
            other => Err(format!(
                "maxDataLevel: expected a level 0–4, found {other:?}"
            )),
        },
    },
    AiAttribute {
        name: "personalData",
        read: |ai| Some(Value::Long(ai.personal_data.rank())),
        write: |ai, value| {
            ai.personal_data = match value {
                Some(Value::Long(0)) => PersonalData::None,
                Some(Value::Long(1)) => PersonalData::Ordinary,
                Some(Value::Long(2)) => PersonalData::Sensitive,
                other => return Err(format!("personalData: expected 0, 1 or 2, found {other:?}")),
            };
            Ok(())
        },
    },
    AiAttribute {
        name: "secrecy",
        read: |ai| Some(Value::Bool(ai.secrecy)),
        write: |ai, value| set_bool(&mut ai.secrecy, value, "secrecy"),
    },
    AiAttribute {
        name: "userGroups",
        read: |ai| Some(Value::Roles(ai.user_groups.clone())),
        write: |ai, value| match value {
            Some(Value::Roles(mut roles)) => {
                roles.sort();
                roles.dedup();
                ai.user_groups = roles;
                Ok(())
            }
            other => Err(format!(
                "userGroups: expected a set of roles, found {other:?}"
            )),
        },
    },
    AiAttribute {
        name: "decisionSupport",
        read: |ai| Some(Value::Bool(ai.decision_support)),
        write: |ai, value| set_bool(&mut ai.decision_support, value, "decisionSupport"),
    },
    AiAttribute {
        name: "residentFacing",
        read: |ai| Some(Value::Bool(ai.resident_facing)),
        write: |ai, value| set_bool(&mut ai.resident_facing, value, "residentFacing"),
    },
    AiAttribute {
        name: "transparencyNotice",
        read: |ai| Some(Value::Bool(ai.transparency_notice)),
        write: |ai, value| set_bool(&mut ai.transparency_notice, value, "transparencyNotice"),
    },
    AiAttribute {
        name: "aiActRisk",
        read: |ai| {
            ai.ai_act_risk
                .map(|risk| Value::String(risk.as_str().into()))
        },
        write: |ai, value| {
            ai.ai_act_risk = optional_name(value, "aiActRisk", &AiActRisk::ALL, |r| r.as_str())?;
            Ok(())
        },
    },
    AiAttribute {
        name: "interactionDisclosure",
        read: |ai| Some(Value::Bool(ai.interaction_disclosure)),
        write: |ai, value| {
            set_bool(
                &mut ai.interaction_disclosure,
                value,
                "interactionDisclosure",
            )
        },
    },
    AiAttribute {
        name: "processor",
        read: |ai| ai.processor.clone().map(Value::String),
        write: |ai, value| {
            ai.processor = optional_text(value, "processor")?;
            Ok(())
        },
    },
    AiAttribute {
        name: "processorAgreement",
        read: |ai| Some(Value::Bool(ai.processor_agreement)),
        write: |ai, value| set_bool(&mut ai.processor_agreement, value, "processorAgreement"),
    },
    AiAttribute {
        name: "thirdCountryTransfer",
        read: |ai| {
            ai.third_country_transfer
                .map(|transfer| Value::String(transfer.as_str().into()))
        },
        write: |ai, value| {
            ai.third_country_transfer = optional_name(
                value,
                "thirdCountryTransfer",
                &ThirdCountryTransfer::ALL,
                |t| t.as_str(),
            )?;
            Ok(())
        },
    },
    AiAttribute {
        name: "technicalProcessingOnly",
        read: |ai| Some(Value::Bool(ai.technical_processing_only)),
        write: |ai, value| {
            set_bool(
                &mut ai.technical_processing_only,
                value,
                "technicalProcessingOnly",
            )
        },
    },
    AiAttribute {
        name: "euDatabaseId",
        read: |ai| ai.eu_database_id.clone().map(Value::String),
        write: |ai, value| {
            ai.eu_database_id = optional_text(value, "euDatabaseId")?;
            Ok(())
        },
    },
    AiAttribute {
        // The engine gives the route in force: the system's own, else the register's.
        name: "contestRoute",
        read: |ai| ai.contest_route.clone().map(Value::String),
        write: |ai, value| {
            ai.contest_route = optional_text(value, "contestRoute")?;
            Ok(())
        },
    },
];

/// An optional attribute whose value, when present, is a non-empty string.
fn optional_text(value: Option<Value>, attribute: &str) -> Result<Option<String>, String> {
    match value {
        None => Ok(None),
        Some(Value::String(text)) if !text.is_empty() => Ok(Some(text)),
        Some(other) => Err(format!(
            "{attribute}: expected a non-empty String, found {other:?}"
        )),
    }
}

/// An optional attribute whose value is one of `names`' names.
fn optional_name<T: Copy>(
    value: Option<Value>,
    attribute: &str,
    names: &[T],
    name: fn(T) -> &'static str,
) -> Result<Option<T>, String> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => names
            .iter()
            .copied()
            .find(|n| name(*n) == s)
            .map(Some)
            .ok_or_else(|| {
                let expected: Vec<&str> = names.iter().map(|n| name(*n)).collect();
                format!("{attribute}: `{s}` is none of {}", expected.join(", "))
            }),
        Some(other) => Err(format!("{attribute}: expected a String, found {other:?}")),
    }
}

fn set_bool(field: &mut bool, value: Option<Value>, name: &str) -> Result<(), String> {
    match value {
        Some(Value::Bool(b)) => {
            *field = b;
            Ok(())
        }
        other => Err(format!("{name}: expected a Bool, found {other:?}")),
    }
}

fn string(value: Option<Value>, name: &str) -> Result<String, String> {
    match value {
        Some(Value::String(s)) => Ok(s),
        other => Err(format!("{name}: expected a String, found {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every attribute read from a system and written back gives the same system.
    #[test]
    fn reading_and_writing_every_attribute_round_trips() {
        let register = crate::Register::bundled().unwrap();
        for original in register.ai_systems() {
            let mut copy = AiSystem::unregistered(&original.id);
            for attribute in AI_SYSTEM {
                (attribute.write)(&mut copy, (attribute.read)(original)).unwrap();
            }
            // What Cedar does not see as attributes: names, the dated assessments (in the
            // context), the incident channel, the validity of assessments and how the gateway
            // reaches the system.
            copy.name.clone_from(&original.name);
            copy.description.clone_from(&original.description);
            for kind in crate::model::assessments::AssessmentKind::ALL {
                copy.set_assessment(kind, original.assessment(kind));
            }
            copy.incident_channel.clone_from(&original.incident_channel);
            copy.assessment_validity = original.assessment_validity;
            copy.endpoint.clone_from(&original.endpoint);
            copy.models.clone_from(&original.models);
            copy.credential.clone_from(&original.credential);
            let mut expected = original.clone();
            expected.user_groups.sort();
            assert_eq!(copy, expected);
        }
    }
}
