//! The generated register and queries of the benchmarks: deterministic, so that every run
//! measures the same.

#![allow(dead_code)] // each benchmark uses its part

use aipolicy::clock::{parse_date, Clock, Date};
use aipolicy::{
    Action, AiActRisk, AiSystem, Assessment, DataClass, Engine, Hosting, PersonalData, Query,
    Register, Role, Status, ThirdCountryTransfer, User, UserRef,
};

/// The day the benchmarks decide at: about half the dated assessments that hold 12 months have
/// lapsed on it (they are made within two years before it).
pub const TODAY: &str = "2026-12-07";

fn today() -> Date {
    parse_date(TODAY).unwrap_or_else(|e| panic!("{e}"))
}

/// Done with `percent` chance, and then most often dated in the two years before [`TODAY`],
/// sometimes undated.
fn assessment(rng: &mut Lcg, percent: u64) -> Assessment {
    if !rng.chance(percent) {
        return Assessment::NotDone;
    }
    if rng.chance(20) {
        return Assessment::Undated;
    }
    let days = i64::try_from(rng.below(730)).unwrap_or(0);
    today()
        .checked_sub(jiff::Span::new().days(days))
        .map_or(Assessment::Undated, Assessment::Made)
}

/// AI systems in the generated register.
pub const AIS: usize = 1_000;
/// Users in the generated register.
pub const USERS: usize = 10_000;

mod lcg;
pub use lcg::Lcg;

fn personal(rank: u64) -> PersonalData {
    match rank {
        0 => PersonalData::None,
        1 => PersonalData::Ordinary,
        _ => PersonalData::Sensitive,
    }
}

/// A register of `ais` AI systems, 10 data classes and `users` users.
pub fn generated_register(ais: usize, users: usize) -> Register {
    let mut rng = Lcg(7);
    let data_classes = (0..10)
        .map(|i| DataClass {
            id: format!("klass-{i}"),
            name: format!("Klass {i}"),
            level: (i % 5) as u8,
            personal_data: personal((i as u64) % 3),
            secrecy: i % 4 == 3,
            // One class of need-to-know, as social-services case files are in Askersund.
            units: (i == 9).then(|| vec!["Förvaltning 3".to_string()]),
            finds: Vec::new(),
            patterns: Vec::new(),
            words: Vec::new(),
            description: None,
        })
        .collect();
    let ai_systems = (0..ais)
        .map(|i| {
            let mut groups: Vec<Role> = Role::ALL.into_iter().filter(|_| rng.chance(70)).collect();
            if groups.is_empty() {
                groups.push(Role::Employee);
            }
            AiSystem {
                id: format!("ai-{i}"),
                name: format!("AI-system {i}"),
                hosting: if rng.chance(20) {
                    Hosting::Public
                } else {
                    Hosting::Internal
                },
                approved: rng.chance(80),
                status: if rng.chance(5) {
                    Status::Suspended
                } else {
                    Status::Active
                },
                owner: rng.chance(90).then(|| format!("Ägare {i}")),
                verified: assessment(&mut rng, 85),
                max_data_level: rng.below(5) as u8,
                personal_data: personal(rng.below(3)),
                secrecy: rng.chance(30),
                user_groups: groups,
                decision_support: rng.chance(30),
                fairness_assessed: assessment(&mut rng, 60),
                resident_facing: rng.chance(10),
                transparency_notice: rng.chance(60),
                accessibility_reviewed: assessment(&mut rng, 60),
                ai_act_risk: match rng.below(5) {
                    0 => None,
                    1 => Some(AiActRisk::High),
                    2 => Some(AiActRisk::Limited),
                    _ => Some(AiActRisk::Minimal),
                },
                fria: assessment(&mut rng, 70),
                dpia: assessment(&mut rng, 70),
                interaction_disclosure: rng.chance(70),
                processor: rng.chance(50).then(|| format!("Leverantör {i}")),
                processor_agreement: rng.chance(85),
                third_country_transfer: rng.chance(90).then_some(ThirdCountryTransfer::None),
                technical_processing_only: rng.chance(70),
                eu_database_id: rng.chance(80).then(|| format!("EUDB-{i}")),
                contest_route: rng.chance(70).then(|| format!("Nämnd {i}")),
                incident_channel: None,
                assessment_validity: None,
                endpoint: None,
                models: Vec::new(),
                credential: None,
                description: None,
            }
        })
        .collect();
    let users = (0..users)
        .map(|i| User {
            id: format!("user-{i}"),
            roles: Role::ALL.into_iter().filter(|_| rng.chance(45)).collect(),
            unit: Some(format!("Förvaltning {}", i % 12)),
            ai_literacy: Some(rng.chance(70)),
        })
        .collect();
    match Register::new(Some("Benchmark".into()), data_classes, ai_systems, users) {
        Ok(register) => register,
        Err(e) => panic!("the generated register is valid: {e}"),
    }
}

pub fn generated_engine(ais: usize, users: usize) -> Engine {
    Engine::builder()
        .register(generated_register(ais, users))
        .clock(Clock::fixed(today()))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Mixed queries: registered and inline users, registered and unknown AI, 1–3 data classes,
/// every action, random context flags. `seed` 0 gives the queries of the decide benchmarks.
pub fn generated_queries(n: usize, ais: usize, users: usize, seed: u64) -> Vec<Query> {
    let mut rng = Lcg(11 + seed * 7919);
    (0..n)
        .map(|_| {
            let user = if rng.chance(70) {
                UserRef::registered(format!("user-{}", rng.below(users as u64)))
            } else {
                UserRef::inline(format!("inline-{}", rng.below(1000)), [Role::Employee])
            };
            let ai = if rng.chance(95) {
                format!("ai-{}", rng.below(ais as u64))
            } else {
                format!("unknown-{}", rng.below(100))
            };
            let data: Vec<String> = (0..=rng.below(3))
                .map(|_| format!("klass-{}", rng.below(10)))
                .collect();
            let action = Action::ALL[rng.below(6) as usize];
            let mut query = Query::new(user, ai, data).with_action(action);
            for key in aipolicy::Context::KEYS {
                if rng.chance(70) {
                    query
                        .context
                        .set(key, true)
                        .unwrap_or_else(|e| panic!("{e}"));
                }
            }
            query
        })
        .collect()
}
