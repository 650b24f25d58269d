//! The two languages aipolicy speaks: Swedish, the policy's own, and English. Here, in the
//! lowest layer, because every layer says things in one of them (an input error as much as a
//! decision); [`crate::decision::Language`] is the same type.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The language of the explanations, notes and errors of an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Swedish, the policy's own language.
    #[default]
    Sv,
    /// English.
    En,
}

impl Language {
    /// Both languages.
    pub const ALL: [Language; 2] = [Language::Sv, Language::En];

    /// `sv` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Sv => "sv",
            Language::En => "en",
        }
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sv" => Ok(Language::Sv),
            "en" => Ok(Language::En),
            other => Err(format!("unknown language `{other}`; expected `sv` or `en`")),
        }
    }
}
