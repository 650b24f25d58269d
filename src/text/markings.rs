//! Markings that say what a text is, written on it by whoever classified it: security
//! protection (säkerhetsskydd: the classification levels of säkerhetsskyddslagen, level 4 in the
//! register's terms, never in any AI system) and secrecy (sekretess: a marking, or a reference to
//! a chapter and section of offentlighets- och sekretesslagen, OSL).

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

/// Which kind of marking was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Marking {
    /// A security-protection classification (`KVALIFICERAT HEMLIG`, `HEMLIG`, `KONFIDENTIELL`,
    /// `BEGRÄNSAT HEMLIG`) or the word säkerhetsskydd and its compounds.
    SecurityProtection,
    /// A secrecy marking (`sekretess`, `sekretessbelagd`, …) or an OSL reference (`26 kap. 1 §
    /// OSL`).
    Secrecy,
}

/// The classification levels as written on a document: upper case, whole words. The longer
/// levels first, so that `KVALIFICERAT HEMLIG` is one marking, not `HEMLIG` within it.
fn security() -> Option<&'static Regex> {
    static SECURITY: OnceLock<Option<Regex>> = OnceLock::new();
    super::compiled(&SECURITY, || {
        r"\b(?:KVALIFICERAT HEMLIG|BEGRÄNSAT HEMLIG|HEMLIG|KONFIDENTIELL)\b|(?i:\bsäkerhetsskydd\w*)".into()
    })
}

/// Secrecy: the word and its compounds, any case, and a reference to OSL by chapter and section.
fn secrecy() -> Option<&'static Regex> {
    static SECRECY: OnceLock<Option<Regex>> = OnceLock::new();
    super::compiled(&SECRECY, || {
        (r"(?i:\bsekretess\w*)|\b\d{1,2}\s*kap\.?\s*\d{1,2}\s*[a-z]?\s*§(?:\s*(?:första|andra|tredje|\d)\s*st(?:\.|ycket)?)?\s*(?:OSL|offentlighets-\s*och\s*sekretesslagen)\b").into()
    })
}

/// Every marking of `text`, in text order, with where it stands (byte offsets).
///
/// ```
/// use aipolicy::text::markings::{find, Marking};
/// let text = "KVALIFICERAT HEMLIG. Uppgifterna omfattas av 26 kap. 1 § OSL.";
/// let found = find(text);
/// assert_eq!(found.iter().map(|(m, _)| *m).collect::<Vec<_>>(), [Marking::SecurityProtection, Marking::Secrecy]);
/// assert_eq!(&text[found[1].1.clone()], "26 kap. 1 § OSL");
/// ```
pub fn find(text: &str) -> Vec<(Marking, Range<usize>)> {
    let mut found: Vec<(Marking, Range<usize>)> = Vec::new();
    for (marking, re) in [
        (Marking::SecurityProtection, security()),
        (Marking::Secrecy, secrecy()),
    ] {
        if let Some(re) = re {
            found.extend(re.find_iter(text).map(|m| (marking, m.range())));
        }
    }
    found.sort_by_key(|(_, range)| range.start);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Marking> {
        find(text).into_iter().map(|(m, _)| m).collect()
    }

    #[test]
    fn every_classification_level_is_a_security_marking_once() {
        for level in [
            "KVALIFICERAT HEMLIG",
            "HEMLIG",
            "KONFIDENTIELL",
            "BEGRÄNSAT HEMLIG",
        ] {
            let text = format!("Handling: {level}\nInnehåll …");
            let found = find(&text);
            assert_eq!(found.len(), 1, "{level}: {found:?}");
            assert_eq!(&text[found[0].1.clone()], level);
        }
        assert_eq!(
            kinds("Uppgifter som rör Säkerhetsskyddet och säkerhetsskyddsklassificering"),
            [Marking::SecurityProtection, Marking::SecurityProtection]
        );
    }

    #[test]
    fn secrecy_markings_and_osl_references_are_secrecy() {
        for text in [
            "Sekretess enligt beslut",
            "Handlingen är sekretessbelagd.",
            "Se 26 kap. 1 § OSL",
            "enligt 21 kap. 7 § offentlighets- och sekretesslagen",
            "25 kap. 1 § första stycket OSL",
        ] {
            assert_eq!(kinds(text), [Marking::Secrecy], "{text}");
        }
    }

    #[test]
    fn ordinary_words_are_no_marking() {
        for text in [
            "en hemlig ingrediens i receptet",
            "Konfidentiellt samtal? Nej, ett öppet möte.",
            "HEMLIGHETSFULL",
            "se 3 kap. 2 § kommunallagen",
        ] {
            assert!(kinds(text).is_empty(), "{text}: {:?}", find(text));
        }
    }
}
