//! Special categories of personal data (GDPR art. 9) named in Swedish text: a curated word list
//! per category, matched as the start of a word (Swedish writes compounds as one word:
//! `sjukskrivningen`, `fackmedlemskap`), any case. A word tells that the text is *about* such
//! things; whether it concerns a person is for the other finders and the data classes declared.
//!
//! The list is a starting point a register may extend; it errs towards finding (a deny a person
//! can correct by choosing a system approved for the data) over missing.

use std::ops::Range;

use super::words::{self, Hit, List};

/// A category of article 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Health, care and disability (hälsa).
    Health,
    /// Racial or ethnic origin (etniskt ursprung).
    Ethnicity,
    /// Political opinions (politiska åsikter).
    Political,
    /// Religious or philosophical beliefs (religiös eller filosofisk övertygelse).
    Religion,
    /// Trade-union membership (medlemskap i fackförening).
    TradeUnion,
    /// Sex life or sexual orientation (sexualliv, sexuell läggning).
    Sexuality,
    /// Genetic or biometric data (genetiska och biometriska uppgifter).
    GeneticOrBiometric,
}

/// The words of each category: the start of a word, lower case.
pub const WORDS: &[(Category, &[&str])] = &[
    (
        Category::Health,
        &[
            "diagnos",
            "sjukdom",
            "sjukskriv",
            "sjukhusvistelse",
            "psykisk ohälsa",
            "psykiatri",
            "psykos",
            "depression",
            "ångestsyndrom",
            "cancer",
            "diabetes",
            "epilepsi",
            "demens",
            "missbruk",
            "alkoholberoende",
            "narkotikaberoende",
            "funktionsnedsättning",
            "funktionshinder",
            "adhd",
            "autism",
            "graviditet",
            "abort",
            "hiv",
            "patientjournal",
            "läkarintyg",
            "medicinering",
            "rehabilitering",
            "lss-insats",
        ],
    ),
    (
        Category::Ethnicity,
        &[
            "etnicitet",
            "etniskt ursprung",
            "etnisk tillhörighet",
            "hudfärg",
        ],
    ),
    (
        Category::Political,
        &[
            "politisk åsikt",
            "politiska åsikter",
            "partitillhörighet",
            "partimedlem",
        ],
    ),
    (
        Category::Religion,
        &[
            "religiös",
            "religionstillhörighet",
            "trosuppfattning",
            "trostillhörighet",
            "livsåskådning",
        ],
    ),
    (
        Category::TradeUnion,
        &[
            "fackmedlem",
            "facklig tillhörighet",
            "fackligt medlemskap",
            "fackförbund",
        ],
    ),
    (
        Category::Sexuality,
        &[
            "sexuell läggning",
            "sexualliv",
            "homosexu",
            "bisexu",
            "hbtq",
            "könsidentitet",
        ],
    ),
    (
        Category::GeneticOrBiometric,
        &[
            "genetisk",
            "dna-",
            "biometrisk",
            "fingeravtryck",
            "ansiktsigenkänning",
        ],
    ),
];

/// Every word of the list in `text`, with its category and where it stands (byte offsets): a
/// word of the list at the start of a word, any case, a space in it standing for any white
/// space, the rest of the word (and hyphens) with it; two words of the list never overlap.
///
/// ```
/// use aipolicy::text::sensitive::{find, Category};
/// let found = find("Hon är sjukskriven sedan maj och fackmedlem.");
/// let categories: Vec<_> = found.iter().map(|(c, _)| *c).collect();
/// assert_eq!(categories, [Category::Health, Category::TradeUnion]);
/// ```
pub fn find(text: &str) -> Vec<(Category, Range<usize>)> {
    from_words(&words::candidates(text, &[List::Sensitive]))
}

/// The list's words, given the word finders' candidates in a text (of any lists).
pub(crate) fn from_words(candidates: &[(Hit, Range<usize>)]) -> Vec<(Category, Range<usize>)> {
    words::leftmost(candidates.iter().filter_map(|(hit, span)| match hit {
        Hit::Sensitive(category) => Some((*category, span.clone())),
        Hit::Marking(_) => None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn categories(text: &str) -> Vec<Category> {
        find(text).into_iter().map(|(c, _)| c).collect()
    }

    #[test]
    fn every_word_of_the_list_is_found_in_its_category_any_case_and_compounded() {
        for (category, words) in WORDS {
            for word in *words {
                for written in [word.to_string(), word.to_uppercase(), format!("{word}en")] {
                    let text = format!("Anteckning: {written} noterad.");
                    assert_eq!(categories(&text), [*category], "{text}");
                }
            }
        }
    }

    #[test]
    fn a_word_inside_another_word_is_not_found() {
        // Only a word that starts a word counts: `diagnos` inside `prediagnostisk` does not,
        // nor `cancer` inside `precancerös`.
        for text in [
            "prediagnostisk",
            "en precancerös förändring",
            "Mötet handlar om budgeten och lokalerna.",
        ] {
            assert!(categories(text).is_empty(), "{text}: {:?}", find(text));
        }
    }

    #[test]
    fn offsets_name_the_whole_word() {
        let text = "Ärendet: sjukskrivningen fortsätter.";
        let found = find(text);
        assert_eq!(&text[found[0].1.clone()], "sjukskrivningen");
    }
}
