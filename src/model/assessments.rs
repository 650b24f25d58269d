//! Assessments of an AI system that lapse: testing and verification (§2), the fairness
//! assessment (§1), the accessibility review (§4), the fundamental-rights impact assessment
//! (AI Act art. 27) and the data-protection impact assessment (GDPR art. 35).
//!
//! The register records each as not done (`false`), done without a date (`true`: it holds
//! until the register says otherwise) or done on a day (`2026-03-01`). A dated assessment
//! holds for the months the register gives its kind (`assessmentValidity`, municipality-wide
//! and per system; else [`AssessmentKind::default_months`]): it lapses on the day that many
//! months after it was made, and counts as not done from the day after. Before the day it is
//! dated it does not count either. What holds on a decision's day is what the policies see, as
//! `context.current` (see the Cedar schema).
//!
//! ```
//! use aipolicy::assessments::{Assessment, AssessmentKind, Standing};
//! use aipolicy::clock::parse_date;
//! let dpia = Assessment::Made(parse_date("2024-03-01").unwrap());
//! let through = dpia.window(24).through();
//! assert_eq!(through.unwrap().to_string(), "2026-03-01");
//! assert_eq!(dpia.window(24).standing(parse_date("2026-03-01").unwrap()), Standing::Current);
//! assert!(matches!(dpia.window(24).standing(parse_date("2026-03-02").unwrap()), Standing::Lapsed { .. }));
//! assert_eq!(AssessmentKind::Dpia.key(), "dpia");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::clock::{parse_date, Date};
use crate::model::decision::Language;

/// A kind of assessment of an AI system that the register records and that lapses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssessmentKind {
    /// Tested and verified (§2, `verified`).
    Verified,
    /// Fairness (non-discrimination) assessment (§1, `fairnessAssessed`).
    FairnessAssessed,
    /// Accessibility review (§4, `accessibilityReviewed`).
    AccessibilityReviewed,
    /// Fundamental-rights impact assessment (AI Act art. 27, `fria`).
    Fria,
    /// Data-protection impact assessment (GDPR art. 35, `dpia`).
    Dpia,
}

impl AssessmentKind {
    /// Every kind, in the order of the register's schema (and of `context.current`).
    pub const ALL: [AssessmentKind; 5] = [
        AssessmentKind::Verified,
        AssessmentKind::FairnessAssessed,
        AssessmentKind::AccessibilityReviewed,
        AssessmentKind::Fria,
        AssessmentKind::Dpia,
    ];

    /// The register key, also the attribute of `context.current` in Cedar.
    pub fn key(self) -> &'static str {
        match self {
            AssessmentKind::Verified => "verified",
            AssessmentKind::FairnessAssessed => "fairnessAssessed",
            AssessmentKind::AccessibilityReviewed => "accessibilityReviewed",
            AssessmentKind::Fria => "fria",
            AssessmentKind::Dpia => "dpia",
        }
    }

    /// The kind of the register key `key`.
    pub fn from_key(key: &str) -> Option<AssessmentKind> {
        AssessmentKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// How many months an assessment of this kind holds when the register does not say
    /// (docs/law.md gives the reasons): a year for what tests the system's behaviour, which
    /// every model update can change; two years for the impact assessments, which look at the
    /// processing and its context (both laws ask for an update on any change as well).
    pub fn default_months(self) -> u16 {
        match self {
            AssessmentKind::Verified
            | AssessmentKind::FairnessAssessed
            | AssessmentKind::AccessibilityReviewed => 12,
            AssessmentKind::Fria | AssessmentKind::Dpia => 24,
        }
    }

    /// Its name for people.
    pub fn name(self, language: Language) -> &'static str {
        match (self, language) {
            (AssessmentKind::Verified, Language::Sv) => "testning och verifiering (§2)",
            (AssessmentKind::Verified, Language::En) => "testing and verification (§2)",
            (AssessmentKind::FairnessAssessed, Language::Sv) => "bedömning av rättvisa (§1)",
            (AssessmentKind::FairnessAssessed, Language::En) => "fairness assessment (§1)",
            (AssessmentKind::AccessibilityReviewed, Language::Sv) => {
                "tillgänglighetsgranskning (§4)"
            }
            (AssessmentKind::AccessibilityReviewed, Language::En) => "accessibility review (§4)",
            (AssessmentKind::Fria, Language::Sv) => {
                "konsekvensbedömning avseende grundläggande rättigheter (AI-förordningen art. 27)"
            }
            (AssessmentKind::Fria, Language::En) => {
                "fundamental-rights impact assessment (EU AI Act art. 27)"
            }
            (AssessmentKind::Dpia, Language::Sv) => {
                "konsekvensbedömning avseende dataskydd (dataskyddsförordningen art. 35)"
            }
            (AssessmentKind::Dpia, Language::En) => {
                "data-protection impact assessment (GDPR art. 35)"
            }
        }
    }

    /// Its bit in a set of kinds (`context.current`, [`Standings::current_bits`]).
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for AssessmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// An assessment as the register records it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Assessment {
    /// Not done (`false`, or the key left out).
    #[default]
    NotDone,
    /// Done, without a date (`true`): it holds until the register says otherwise.
    Undated,
    /// Done on this day (`2026-03-01`): it holds for its kind's validity from then.
    Made(Date),
}

impl Assessment {
    /// Whether the register records it as done at all, dated or not (lapsed or not).
    pub fn recorded(self) -> bool {
        !matches!(self, Assessment::NotDone)
    }

    /// On which days it holds, when one of its kind holds for `months`.
    pub fn window(self, months: u16) -> Window {
        match self {
            Assessment::NotDone => Window::Never,
            Assessment::Undated => Window::Always,
            Assessment::Made(made) => Window::Between {
                made,
                // A date near the end of the calendar holds to its end.
                through: made
                    .checked_add(jiff::Span::new().months(i64::from(months)))
                    .unwrap_or(Date::MAX),
            },
        }
    }
}

impl From<bool> for Assessment {
    fn from(done: bool) -> Assessment {
        if done {
            Assessment::Undated
        } else {
            Assessment::NotDone
        }
    }
}

impl Serialize for Assessment {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Assessment::NotDone => serializer.serialize_bool(false),
            Assessment::Undated => serializer.serialize_bool(true),
            Assessment::Made(day) => serializer.collect_str(day),
        }
    }
}

impl<'de> Deserialize<'de> for Assessment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Assessment;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false or the date it was made (YYYY-MM-DD)")
            }
            fn visit_bool<E: serde::de::Error>(self, done: bool) -> Result<Assessment, E> {
                Ok(Assessment::from(done))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Assessment, E> {
                parse_date(text).map(Assessment::Made).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// The days on which an assessment holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Window {
    /// On none: not done.
    #[default]
    Never,
    /// On every day: done, undated.
    Always,
    /// From the day it was made through the day it lapses, both included.
    Between {
        /// The day it was made.
        made: Date,
        /// The day it lapses; from the day after, it counts as not done.
        through: Date,
    },
}

impl Window {
    /// The last day it holds, for a dated assessment.
    pub fn through(self) -> Option<Date> {
        match self {
            Window::Between { through, .. } => Some(through),
            _ => None,
        }
    }

    /// How it stands on `day`.
    pub fn standing(self, day: Date) -> Standing {
        match self {
            Window::Never => Standing::NotDone,
            Window::Always => Standing::Current,
            Window::Between { made, .. } if day < made => Standing::NotYet { made },
            Window::Between { made, through } if day > through => {
                Standing::Lapsed { made, through }
            }
            Window::Between { .. } => Standing::Current,
        }
    }
}

/// How an assessment stands on a decision's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standing {
    /// It holds.
    Current,
    /// It was never done.
    NotDone,
    /// It was made on `made` and lapsed after `through`.
    Lapsed {
        /// The day it was made.
        made: Date,
        /// The last day it held.
        through: Date,
    },
    /// It is dated after the decision's day.
    NotYet {
        /// The day it is dated.
        made: Date,
    },
}

impl Standing {
    /// Whether it holds.
    pub fn is_current(self) -> bool {
        self == Standing::Current
    }

    /// Two bits: current, not done, lapsed, not yet.
    fn code(self) -> u16 {
        match self {
            Standing::Current => 0,
            Standing::NotDone => 1,
            Standing::Lapsed { .. } => 2,
            Standing::NotYet { .. } => 3,
        }
    }

    /// Whether a deny that this assessment decided has more to say ([`Standing::explain`]): it
    /// lapsed, or is dated after the day.
    pub fn is_explained(self) -> bool {
        matches!(self, Standing::Lapsed { .. } | Standing::NotYet { .. })
    }

    /// What a deny that this assessment decided adds: which one lapsed (or is not yet made)
    /// and when. `None` when it holds or was never done.
    pub fn explain(self, kind: AssessmentKind, language: Language) -> Option<String> {
        let name = kind.name(language);
        match (self, language) {
            (Standing::Lapsed { made, through }, Language::Sv) => Some(format!(
                "Kommunens {name} från {made} gällde till och med {through} och räknas inte längre som gjord."
            )),
            (Standing::Lapsed { made, through }, Language::En) => Some(format!(
                "The municipality's {name} of {made} held through {through} and no longer counts as done."
            )),
            (Standing::NotYet { made }, Language::Sv) => Some(format!(
                "Kommunens {name} är daterad {made} och räknas först från den dagen."
            )),
            (Standing::NotYet { made }, Language::En) => Some(format!(
                "The municipality's {name} is dated {made} and counts only from that day."
            )),
            _ => None,
        }
    }
}

/// The windows of one AI system's five assessments, in [`AssessmentKind::ALL`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Windows(pub [Window; 5]);

impl Windows {
    /// How each stands on `day`.
    pub fn on(&self, day: Date) -> Standings {
        Standings(self.0.map(|window| window.standing(day)))
    }

    /// The window of `kind`.
    pub fn of(&self, kind: AssessmentKind) -> Window {
        self.0[kind as usize]
    }
}

/// How an AI system's five assessments stand on a decision's day, in
/// [`AssessmentKind::ALL`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Standings(pub [Standing; 5]);

impl Default for Standings {
    /// None done: an AI system not in the register.
    fn default() -> Self {
        Standings([Standing::NotDone; 5])
    }
}

impl Standings {
    /// The kinds that hold, as bits ([`AssessmentKind::bit`]).
    pub fn current_bits(&self) -> u8 {
        AssessmentKind::ALL
            .into_iter()
            .filter(|kind| self.of(*kind).is_current())
            .fold(0, |bits, kind| bits | kind.bit())
    }

    /// Two bits per kind: what a decision's explanations depend on (with the AI system, whose
    /// dates are fixed), for a memo's key.
    pub fn code(&self) -> u16 {
        self.0
            .iter()
            .enumerate()
            .fold(0, |code, (i, standing)| code | (standing.code() << (2 * i)))
    }

    /// How `kind` stands.
    pub fn of(&self, kind: AssessmentKind) -> Standing {
        self.0[kind as usize]
    }
}

/// How many months each kind of assessment holds, where the register says (`assessmentValidity`,
/// municipality-wide or for one system); a kind left out takes the wider setting, then
/// [`AssessmentKind::default_months`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssessmentValidity {
    /// Testing and verification (§2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<u16>,
    /// Fairness assessment (§1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness_assessed: Option<u16>,
    /// Accessibility review (§4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessibility_reviewed: Option<u16>,
    /// Fundamental-rights impact assessment (AI Act art. 27).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fria: Option<u16>,
    /// Data-protection impact assessment (GDPR art. 35).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpia: Option<u16>,
}

impl AssessmentValidity {
    /// The months this setting gives `kind`, if it gives any.
    pub fn months(&self, kind: AssessmentKind) -> Option<u16> {
        match kind {
            AssessmentKind::Verified => self.verified,
            AssessmentKind::FairnessAssessed => self.fairness_assessed,
            AssessmentKind::AccessibilityReviewed => self.accessibility_reviewed,
            AssessmentKind::Fria => self.fria,
            AssessmentKind::Dpia => self.dpia,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        parse_date(text).unwrap()
    }

    #[test]
    fn a_dated_assessment_holds_from_its_day_through_its_lapse_and_not_after() {
        let window = Assessment::Made(day("2025-12-07")).window(12);
        assert_eq!(window.through(), Some(day("2026-12-07")));
        assert_eq!(
            window.standing(day("2025-12-06")),
            Standing::NotYet {
                made: day("2025-12-07")
            }
        );
        for current in ["2025-12-07", "2026-06-01", "2026-12-07"] {
            assert_eq!(
                window.standing(day(current)),
                Standing::Current,
                "{current}"
            );
        }
        assert_eq!(
            window.standing(day("2026-12-08")),
            Standing::Lapsed {
                made: day("2025-12-07"),
                through: day("2026-12-07")
            }
        );
    }

    #[test]
    fn the_end_of_a_month_lapses_at_the_end_of_the_shorter_month() {
        let window = Assessment::Made(day("2024-01-31")).window(1);
        assert_eq!(window.through(), Some(day("2024-02-29")));
    }

    #[test]
    fn undated_holds_always_and_not_done_never() {
        for d in ["1990-01-01", "2026-12-07", "9999-12-31"] {
            assert_eq!(
                Assessment::Undated.window(1).standing(day(d)),
                Standing::Current
            );
            assert_eq!(
                Assessment::NotDone.window(1).standing(day(d)),
                Standing::NotDone
            );
        }
        let late = Assessment::Made(day("9999-06-01")).window(120);
        assert_eq!(late.through(), Some(Date::MAX));
    }

    #[test]
    fn standings_codes_tell_every_combination_apart() {
        let made = day("2026-01-01");
        let choices = [
            Standing::Current,
            Standing::NotDone,
            Standing::Lapsed {
                made,
                through: made,
            },
            Standing::NotYet { made },
        ];
        let mut seen = std::collections::HashSet::new();
        for n in 0..choices.len().pow(5) {
            let mut standings = [Standing::Current; 5];
            let mut rest = n;
            for slot in &mut standings {
                *slot = choices[rest % choices.len()];
                rest /= choices.len();
            }
            assert!(seen.insert(Standings(standings).code()));
        }
    }

    #[test]
    fn the_register_writes_an_assessment_as_it_reads_it() {
        for yaml in ["true", "false", "2026-03-01"] {
            let assessment: Assessment = serde_yaml::from_str(yaml).unwrap();
            assert_eq!(serde_yaml::to_string(&assessment).unwrap().trim(), yaml);
        }
        assert!(serde_yaml::from_str::<Assessment>("2026-02-30").is_err());
        assert!(serde_yaml::from_str::<Assessment>("yes please").is_err());
    }
}
