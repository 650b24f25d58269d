//! What Cedar sees of the information a query names: the strictest profile of its data classes.

use crate::model::register::{DataClass, PersonalData};

/// The strictest profile of the data classes named in a query: highest level, widest
/// personal-data category, any secrecy, and whether the user's unit may see every class
/// (need-to-know). This is what Cedar sees as `context.data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataProfile {
    /// Whether the query named any data class.
    pub named: bool,
    /// Highest level.
    pub level: u8,
    /// Widest personal-data category.
    pub personal_data: PersonalData,
    /// Whether any class is covered by secrecy.
    pub secrecy: bool,
    /// Whether every class is open to the user's unit (see [`DataClass::open_to_unit`]).
    pub within_units: bool,
}

impl Default for DataProfile {
    /// The profile of no data: level 0, no personal data, no secrecy, no unit restriction.
    fn default() -> Self {
        DataProfile {
            named: false,
            level: 0,
            personal_data: PersonalData::None,
            secrecy: false,
            within_units: true,
        }
    }
}

impl DataProfile {
    /// Folds data classes into their strictest profile, as seen by a user of `unit`.
    ///
    /// ```
    /// use aipolicy::{DataProfile, PersonalData, Register};
    /// let register = Register::bundled().unwrap();
    /// let classes = ["intern", "sekretess"].map(|id| register.data_class(id).unwrap());
    /// let profile = DataProfile::fold(classes, None);
    /// assert_eq!((profile.level, profile.secrecy), (3, true));
    /// assert_eq!(profile.personal_data, PersonalData::None);
    /// assert!(profile.within_units);
    ///
    /// let case_files = [register.data_class("socialtjanstarende").unwrap()];
    /// assert!(!DataProfile::fold(case_files, Some("Kommunstyrelseförvaltningen")).within_units);
    /// assert!(DataProfile::fold(case_files, Some("Socialförvaltningen")).within_units);
    /// ```
    pub fn fold<'a>(
        classes: impl IntoIterator<Item = &'a DataClass>,
        unit: Option<&str>,
    ) -> DataProfile {
        classes
            .into_iter()
            .fold(DataProfile::default(), |profile, class| DataProfile {
                named: true,
                level: profile.level.max(class.level),
                personal_data: profile.personal_data.max(class.personal_data),
                secrecy: profile.secrecy || class.secrecy,
                within_units: profile.within_units && class.open_to_unit(unit),
            })
    }
}
