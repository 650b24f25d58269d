//! The paragraph codes of Askersund's "Policy för ansvarsfull AI": `§1`–`§6` for the policy's
//! six paragraphs, `U0`–`U5` for "Användning av AI i tjänsten" (its introduction and five points).

use std::fmt;
use std::str::FromStr;

/// A paragraph of the policy document that yields rules.
///
/// `§1`–`§6` are the principles, `U0`–`U5` the section "Användning av AI i tjänsten"
/// (its introduction and its five points).
///
/// ```
/// use aipolicy::Paragraph;
/// let p: Paragraph = "U3".parse().unwrap();
/// assert_eq!(p.code(), "U3");
/// assert_eq!(p.title_sv(), "Användning, punkt 3: publik AI");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Paragraph {
    /// §1 Rättvisa.
    S1,
    /// §2 Tillförlitlighet.
    S2,
    /// §3 Integritet och säkerhet.
    S3,
    /// §4 Inkludering och delaktighet.
    S4,
    /// §5 Transparens.
    S5,
    /// §6 Ansvarighet.
    S6,
    /// Användning av AI i tjänsten, inledning.
    U0,
    /// Användning, punkt 1.
    U1,
    /// Användning, punkt 2.
    U2,
    /// Användning, punkt 3.
    U3,
    /// Användning, punkt 4.
    U4,
    /// Användning, punkt 5.
    U5,
}

/// What to write in `@paragraph`, for an author who wrote something else.
pub const CODES_HELP: &str = "use one of §1 Rättvisa, §2 Tillförlitlighet, §3 Integritet och \
    säkerhet, §4 Inkludering och delaktighet, §5 Transparens, §6 Ansvarighet, U0 Användning \
    (inledning), U1–U5 (its points 1–5); `aipolicy trace` shows each with its policies";

/// Parts of the document that carry no rule; the traceability report lists them as context.
pub const CONTEXT_SECTIONS: [&str; 4] = ["Bakgrund", "Syfte", "Mål", "Styrdokument"];

impl Paragraph {
    /// Every paragraph, in document order.
    pub const ALL: [Paragraph; 12] = [
        Paragraph::S1,
        Paragraph::S2,
        Paragraph::S3,
        Paragraph::S4,
        Paragraph::S5,
        Paragraph::S6,
        Paragraph::U0,
        Paragraph::U1,
        Paragraph::U2,
        Paragraph::U3,
        Paragraph::U4,
        Paragraph::U5,
    ];

    /// The pinned code, as in `@paragraph("§3")`.
    pub fn code(self) -> &'static str {
        match self {
            Paragraph::S1 => "§1",
            Paragraph::S2 => "§2",
            Paragraph::S3 => "§3",
            Paragraph::S4 => "§4",
            Paragraph::S5 => "§5",
            Paragraph::S6 => "§6",
            Paragraph::U0 => "U0",
            Paragraph::U1 => "U1",
            Paragraph::U2 => "U2",
            Paragraph::U3 => "U3",
            Paragraph::U4 => "U4",
            Paragraph::U5 => "U5",
        }
    }

    /// The heading in the policy document (Swedish).
    pub fn title_sv(self) -> &'static str {
        match self {
            Paragraph::S1 => "Rättvisa",
            Paragraph::S2 => "Tillförlitlighet",
            Paragraph::S3 => "Integritet och säkerhet",
            Paragraph::S4 => "Inkludering och delaktighet",
            Paragraph::S5 => "Transparens",
            Paragraph::S6 => "Ansvarighet",
            Paragraph::U0 => "Användning av AI i tjänsten, inledning",
            Paragraph::U1 => "Användning, punkt 1: ansvar för resultatet",
            Paragraph::U2 => "Användning, punkt 2: vilken information",
            Paragraph::U3 => "Användning, punkt 3: publik AI",
            Paragraph::U4 => "Användning, punkt 4: avvikelser",
            Paragraph::U5 => "Användning, punkt 5: utveckling",
        }
    }

    /// The heading in English.
    pub fn title_en(self) -> &'static str {
        match self {
            Paragraph::S1 => "Fairness",
            Paragraph::S2 => "Reliability",
            Paragraph::S3 => "Privacy and security",
            Paragraph::S4 => "Inclusion and participation",
            Paragraph::S5 => "Transparency",
            Paragraph::S6 => "Accountability",
            Paragraph::U0 => "Use of AI at work, introduction",
            Paragraph::U1 => "Use, point 1: responsibility for the result",
            Paragraph::U2 => "Use, point 2: which information",
            Paragraph::U3 => "Use, point 3: public AI",
            Paragraph::U4 => "Use, point 4: deviations",
            Paragraph::U5 => "Use, point 5: development",
        }
    }

    /// The heading in `language`.
    pub fn title(self, language: crate::Language) -> &'static str {
        match language {
            crate::Language::Sv => self.title_sv(),
            crate::Language::En => self.title_en(),
        }
    }

    /// The rule the project reads from the paragraph, in Swedish.
    pub fn rule_sv(self) -> &'static str {
        match self {
            Paragraph::S1 => "AI som stödjer beslut om enskilda, eller möter invånare, måste ha en bedömning av rättvisa",
            Paragraph::S2 => "ett internt AI-system måste vara testat och verifierat innan det används",
            Paragraph::S3 => "information över systemets godkännande, och användare utanför dess användargrupper, nekas; nivå 4 aldrig",
            Paragraph::S4 => "AI som erbjuds invånare måste ha en tillgänglighetsgranskning",
            Paragraph::S5 => "AI som erbjuds invånare har en transparensinformation; publicerat AI-resultat redovisas; varje beslut förklarar sig",
            Paragraph::S6 => "varje internt AI-system har en ägare; pausade system nekas; beslut kräver godkännande som beslutsstöd och en människa som granskar",
            Paragraph::U0 => "bara anställda, privata utförare och förtroendevalda är användare; bara beslutad AI för annat än öppen information",
            Paragraph::U1 => "användaren ansvarar för resultatet; publicering kräver mänsklig granskning",
            Paragraph::U2 => "varje fråga anger vilken information den hanterar",
            Paragraph::U3 => "publik AI bara med öppen information",
            Paragraph::U4 => "att rapportera en avvikelse är alltid tillåtet",
            Paragraph::U5 => "utveckling kräver granskning av informationssäkerhet, IT-säkerhet, dataskydd och värdegrund",
        }
    }

    /// The rule the project reads from the paragraph, in `language`.
    pub fn rule(self, language: crate::Language) -> &'static str {
        match language {
            crate::Language::Sv => self.rule_sv(),
            crate::Language::En => self.rule_en(),
        }
    }

    /// The rule the project reads from the paragraph, in English.
    pub fn rule_en(self) -> &'static str {
        match self {
            Paragraph::S1 => "AI that supports decisions about individuals, or meets residents, must have a fairness assessment",
            Paragraph::S2 => "an internal AI system must be tested and verified before use",
            Paragraph::S3 => "data above the system's approval, and users outside its user groups, are denied; level-4 data never",
            Paragraph::S4 => "AI offered to residents must have an accessibility review",
            Paragraph::S5 => "AI offered to residents has a transparency notice; published AI output is disclosed; every decision explains itself",
            Paragraph::S6 => "every internal AI system has an owner; suspended systems are denied; decisions need decision-support approval and a human reviewer",
            Paragraph::U0 => "only employees, contractors and elected officials are users; only decided AI beyond open information",
            Paragraph::U1 => "the user is responsible for the output; publishing needs human review",
            Paragraph::U2 => "every query names the information it handles",
            Paragraph::U3 => "public AI only with open information",
            Paragraph::U4 => "reporting an incident is always allowed",
            Paragraph::U5 => "development needs information-security, IT-security, data-protection and values reviews",
        }
    }
}

impl fmt::Display for Paragraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The error for a code that is not one of the pinned paragraph codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown paragraph code `{0}`; expected one of §1–§6, U0–U5")]
pub struct UnknownParagraph(pub String);

impl FromStr for Paragraph {
    type Err = UnknownParagraph;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Paragraph::ALL
            .into_iter()
            .find(|p| p.code() == code)
            .ok_or_else(|| UnknownParagraph(code.to_string()))
    }
}
