//! Markings that say what a text is, written on it by whoever classified it: security
//! protection (säkerhetsskydd: the classification levels of säkerhetsskyddslagen, level 4 in the
//! register's terms, never in any AI system) and secrecy (sekretess: a marking, or a reference to
//! a chapter and section of offentlighets- och sekretesslagen, OSL).

use std::ops::Range;

use super::words::{self, char_before, is_word, skip_space, Hit, List};

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

/// Every marking of `text`, in text order, with where it stands (byte offsets).
///
/// Security protection: the classification levels as written on a document (upper case, whole
/// words, `KVALIFICERAT HEMLIG` one marking rather than `HEMLIG` within it) and the word
/// säkerhetsskydd with its compounds, any case. Secrecy: the word sekretess and its compounds, any
/// case, and a reference to OSL by chapter and section (`26 kap. 1 § OSL`, `21 kap. 7 § första
/// stycket offentlighets- och sekretesslagen`; the numbers in ASCII digits).
///
/// ```
/// use aipolicy::text::markings::{find, Marking};
/// let text = "KVALIFICERAT HEMLIG. Uppgifterna omfattas av 26 kap. 1 § OSL.";
/// let found = find(text);
/// assert_eq!(found.iter().map(|(m, _)| *m).collect::<Vec<_>>(), [Marking::SecurityProtection, Marking::Secrecy]);
/// assert_eq!(&text[found[1].1.clone()], "26 kap. 1 § OSL");
/// ```
pub fn find(text: &str) -> Vec<(Marking, Range<usize>)> {
    from_words(
        text,
        &words::candidates(text, &[List::Security, List::Secrecy]),
    )
}

/// The markings of `text`, given the word finders' candidates in it (of any lists).
pub(crate) fn from_words(
    text: &str,
    candidates: &[(Hit, Range<usize>)],
) -> Vec<(Marking, Range<usize>)> {
    let of = |wanted: Marking| {
        candidates.iter().filter_map(move |(hit, span)| match hit {
            Hit::Marking(m) if *m == wanted => Some((wanted, span.clone())),
            _ => None,
        })
    };
    let mut found = words::leftmost(of(Marking::SecurityProtection));
    // Secrecy's words and OSL references are one list: a reference that names
    // sekretesslagen is one marking, not also the word within it.
    let mut secrecy: Vec<(Marking, Range<usize>)> = of(Marking::Secrecy).collect();
    if memchr::memchr(0xA7, text.as_bytes()).is_some() {
        // `§` is `C2 A7`; a text without the byte has no reference.
        secrecy.extend(osl_references(text).map(|span| (Marking::Secrecy, span)));
        secrecy.sort_by_key(|(_, span)| span.start);
    }
    found.extend(words::leftmost(secrecy));
    found.sort_by_key(|(_, range)| range.start);
    found
}

/// The OSL references of `text`: `D kap. D §`, maybe a paragraph (`första stycket`, `2 st.`),
/// then `OSL` or `offentlighets- och sekretesslagen`, white space free between the parts. Each
/// has one `§`, so each is looked for from one.
fn osl_references(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    text.match_indices('§').filter_map(|(at, _)| {
        Some(reference_before(text, at)?..reference_after(text, at + '§'.len_utf8())?)
    })
}

/// Where the reference whose `§` is at byte `at` starts: `\b\d{1,2}\s*kap\.?\s*\d{1,2}\s*[a-z]?\s*`
/// read backwards.
fn reference_before(text: &str, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let space_before = |mut at: usize| {
        while let Some(c) = char_before(text, at).filter(|c| c.is_whitespace()) {
            at -= c.len_utf8();
        }
        at
    };
    // One or two digits ending at `at`, a whole number.
    let number_before = |at: usize| {
        let digits = bytes[..at]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        (1..=2).contains(&digits).then(|| at - digits)
    };
    let mut i = space_before(at);
    if i > 0 && bytes[i - 1].is_ascii_lowercase() {
        i = space_before(i - 1);
    }
    i = number_before(i)?;
    i = space_before(i);
    if i > 0 && bytes[i - 1] == b'.' {
        i -= 1;
    }
    i = i.checked_sub(3).filter(|&k| &bytes[k..k + 3] == b"kap")?;
    i = space_before(i);
    let start = number_before(i)?;
    // `\b` before the chapter's number: no word character before it.
    char_before(text, start)
        .is_none_or(|c| !is_word(c))
        .then_some(start)
}

/// Where the reference ends, its `§` ending at byte `at`: maybe a paragraph, then the law.
fn reference_after(text: &str, at: usize) -> Option<usize> {
    paragraph(text, at)
        .and_then(|after| law(text, after))
        .or_else(|| law(text, at))
}

/// `\s*(?:första|andra|tredje|\d)\s*st(?:\.|ycket)?` at `at`: where it ends.
fn paragraph(text: &str, at: usize) -> Option<usize> {
    let mut i = skip_space(text, at);
    let rest = text.get(i..)?;
    i += ["första", "andra", "tredje"]
        .iter()
        .find(|w| rest.starts_with(*w))
        .map(|w| w.len())
        .or_else(|| rest.bytes().next().filter(u8::is_ascii_digit).map(|_| 1))?;
    i = skip_space(text, i);
    let rest = text.get(i..)?.strip_prefix("st")?;
    Some(
        i + 2
            + if rest.starts_with("ycket") {
                5
            } else {
                usize::from(rest.starts_with('.'))
            },
    )
}

/// `\s*(?:OSL|offentlighets-\s*och\s*sekretesslagen)\b` at `at`: where it ends.
fn law(text: &str, at: usize) -> Option<usize> {
    let word = |i: usize, w: &str| text.get(i..)?.starts_with(w).then_some(i + w.len());
    let i = skip_space(text, at);
    let end = word(i, "OSL").or_else(|| {
        let i = word(i, "offentlighets-")?;
        let i = word(skip_space(text, i), "och")?;
        word(skip_space(text, i), "sekretesslagen")
    })?;
    words::char_at(text, end)
        .is_none_or(|(c, _)| !is_word(c))
        .then_some(end)
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
