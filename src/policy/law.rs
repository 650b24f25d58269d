//! A rule's `@law` in the reader's language: the act by the name that language gives it, the
//! article as that language cites it. Authors write `@law` once (in either language); a
//! decision, the matrix, the trace and the staff page show it in the language they speak.
//!
//! ```
//! use aipolicy::policies::law::law_in;
//! use aipolicy::Language;
//!
//! assert_eq!(law_in("EU AI Act art. 26(2)", Language::Sv), "AI-förordningen art. 26.2");
//! assert_eq!(law_in("GDPR art. 35", Language::Sv), "dataskyddsförordningen art. 35");
//! assert_eq!(law_in("EU AI Act art. 6 and annex III", Language::Sv), "AI-förordningen art. 6 och bilaga III");
//! assert_eq!(law_in("EU AI Act art. 26(2)", Language::En), "EU AI Act art. 26(2)");
//! assert_eq!(
//!     law_in("Förvaltningslagen (2017:900) 32 §", Language::En),
//!     "Administrative Procedure Act (2017:900) section 32"
//! );
//! assert_eq!(
//!     law_in("Offentlighets- och sekretesslagen (2009:400) 10 kap. 2 a §", Language::En),
//!     "Public Access to Information and Secrecy Act (2009:400) chapter 10, section 2 a"
//! );
//! assert_eq!(
//!     law_in("Tryckfrihetsförordningen (1949:105) 2 kap. 4 §", Language::En),
//!     "Freedom of the Press Act (1949:105) chapter 2, section 4"
//! );
//! // Written in Swedish, shown in English, and an act the table does not know, as written.
//! assert_eq!(law_in("AI-förordningen art. 26.2", Language::En), "EU AI Act art. 26(2)");
//! assert_eq!(law_in("Kommunallagen (2017:725) 6 kap. 37 §", Language::Sv), "Kommunallagen (2017:725) 6 kap. 37 §");
//! ```

use std::borrow::Cow;

use crate::model::decision::Language;

/// How an act is cited.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Citation {
    /// An EU act: `art. 26(2)` in English, `art. 26.2` in Swedish.
    Eu,
    /// A Swedish act: `10 kap. 2 a §` in Swedish, `chapter 10, section 2 a` in English.
    Swedish,
}

/// Acts by their Swedish and English names, as `@law` names them (the SFS number, when it has
/// one, follows the name and stays as it is).
const ACTS: [(&str, &str, Citation); 11] = [
    ("AI-förordningen", "EU AI Act", Citation::Eu),
    ("dataskyddsförordningen", "GDPR", Citation::Eu),
    (
        "Offentlighets- och sekretesslagen",
        "Public Access to Information and Secrecy Act",
        Citation::Swedish,
    ),
    (
        "Förvaltningslagen",
        "Administrative Procedure Act",
        Citation::Swedish,
    ),
    (
        "Tryckfrihetsförordningen",
        "Freedom of the Press Act",
        Citation::Swedish,
    ),
    (
        "Regeringsformen",
        "Instrument of Government",
        Citation::Swedish,
    ),
    (
        "Diskrimineringslagen",
        "Discrimination Act",
        Citation::Swedish,
    ),
    ("Arkivlagen", "Archives Act", Citation::Swedish),
    ("Kommunallagen", "Local Government Act", Citation::Swedish),
    (
        "Lagen om tillgänglighet till digital offentlig service",
        "Act on Accessibility to Digital Public Services",
        Citation::Swedish,
    ),
    ("Dataskyddslagen", "Data Protection Act", Citation::Swedish),
];

/// `law` (a rule's `@law`) in `language`; a law whose act the table does not know is shown as
/// written.
pub fn law_in(law: &str, language: Language) -> Cow<'_, str> {
    let law = law.trim();
    let Some((name, citation, rest)) = act_of(law, language) else {
        return Cow::Borrowed(law);
    };
    // The SFS number stays with the name: `(2017:900)`.
    let (number, article) = match rest.strip_prefix(" (") {
        Some(after) => match after.find(')') {
            Some(end) => (&rest[..end + 3], &after[end + 1..]),
            None => ("", rest),
        },
        None => ("", rest),
    };
    let article = article.trim();
    let article = match citation {
        Citation::Eu => eu_article(article, language),
        Citation::Swedish => swedish_section(article, language),
    };
    let mut shown = format!("{name}{number}");
    if !article.is_empty() {
        shown.push(' ');
        shown.push_str(&article);
    }
    Cow::Owned(shown)
}

/// The act `law` starts with, by its name in `language`, how it is cited, and what follows its
/// name (the SFS number and the article); `None` for an act the table does not know.
fn act_of(law: &str, language: Language) -> Option<(&'static str, Citation, &str)> {
    ACTS.iter().find_map(|&(sv, en, citation)| {
        let name = match language {
            Language::Sv => sv,
            Language::En => en,
        };
        [sv, en]
            .into_iter()
            .find_map(|written| strip_name(law, written))
            .map(|rest| (name, citation, rest))
    })
}

/// What follows `name` at the start of `law`, when `law` starts with it as a whole word
/// (case-insensitive for the first letter, as Swedish writes an act's name mid-sentence).
fn strip_name<'l>(law: &'l str, name: &str) -> Option<&'l str> {
    let head = law.get(..name.len())?;
    let mut expected = name.chars();
    let mut found = head.chars();
    let first_matches = match (expected.next(), found.next()) {
        (Some(e), Some(f)) => e.to_lowercase().eq(f.to_lowercase()),
        _ => false,
    };
    if !first_matches || expected.as_str() != found.as_str() {
        return None;
    }
    let rest = &law[name.len()..];
    (rest.is_empty() || rest.starts_with(' ')).then_some(rest)
}

/// An EU article list: `art. 26(5) and 73`, `art. 6 and annex III` ⇄ `art. 26.5 och 73`,
/// `art. 6 och bilaga III`.
fn eu_article(article: &str, language: Language) -> String {
    let words: Vec<String> = article
        .split(' ')
        .map(|word| match (language, word) {
            (Language::Sv, "and") => "och".to_string(),
            (Language::Sv, "annex") => "bilaga".to_string(),
            (Language::En, "och") => "and".to_string(),
            (Language::En, "bilaga") => "annex".to_string(),
            (Language::Sv, word) => sub_article_sv(word),
            (Language::En, word) => sub_article_en(word),
        })
        .collect();
    words.join(" ")
}

/// `26(2)` → `26.2` (and `44–46`, `5` as they are).
fn sub_article_sv(word: &str) -> String {
    match word.split_once('(') {
        Some((article, paragraph)) if word.ends_with(')') && is_number(article) => {
            let paragraph = &paragraph[..paragraph.len() - 1];
            if is_number(paragraph) {
                return format!("{article}.{paragraph}");
            }
            word.to_string()
        }
        _ => word.to_string(),
    }
}

/// `26.2` → `26(2)`.
fn sub_article_en(word: &str) -> String {
    match word.split_once('.') {
        Some((article, paragraph)) if is_number(article) && is_number(paragraph) => {
            format!("{article}({paragraph})")
        }
        _ => word.to_string(),
    }
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A Swedish section: `10 kap. 2 a §` ⇄ `chapter 10, section 2 a`, as the policies' English
/// texts cite it.
fn swedish_section(article: &str, language: Language) -> String {
    match language {
        Language::Sv => {
            // From English; Swedish stays as it is.
            let (chapter, section) = match article
                .strip_prefix("chapter ")
                .and_then(|rest| rest.split_once(", "))
            {
                Some((chapter, section)) => (Some(chapter), section),
                None => (None, article),
            };
            let Some(section) = section.strip_prefix("section ") else {
                return article.to_string();
            };
            match chapter {
                Some(chapter) => format!("{chapter} kap. {section} §"),
                None => format!("{section} §"),
            }
        }
        Language::En => {
            let Some(without_sign) = article.strip_suffix('§') else {
                return article.to_string();
            };
            let without_sign = without_sign.trim();
            match without_sign.split_once(" kap. ") {
                Some((chapter, section)) => format!("chapter {chapter}, section {section}"),
                None => format!("section {without_sign}"),
            }
        }
    }
}

/// Whether `message` (a reason or duty in `language`) already names the act of `law`, so
/// that a page need not repeat the law after it.
///
/// ```
/// use aipolicy::policies::law::is_cited_in;
/// use aipolicy::Language;
/// let message = "Gå kommunens AI-utbildning (AI-förordningen art. 4, AI-kunnighet).";
/// assert!(is_cited_in("EU AI Act art. 4", message, Language::Sv));
/// assert!(!is_cited_in("GDPR art. 35", message, Language::Sv));
/// assert!(is_cited_in("Förvaltningslagen (2017:900) 32 §", "… (förvaltningslagen 32 §).", Language::Sv));
/// ```
pub fn is_cited_in(law: &str, message: &str, language: Language) -> bool {
    let law = law.trim();
    let act = act_of(law, language).map_or(law, |(name, ..)| name);
    message.to_lowercase().contains(&act.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_law_of_the_bundled_policies_reads_in_both_languages_and_back() {
        let policies = crate::Policies::bundled().unwrap();
        let laws: Vec<&str> = policies
            .rules()
            .iter()
            .filter_map(|rule| rule.law.as_deref())
            .collect();
        assert!(laws.len() > 10);
        for law in laws {
            let sv = law_in(law, Language::Sv);
            let en = law_in(law, Language::En);
            assert!(
                !sv.contains("EU AI Act") && !sv.contains("GDPR") && !sv.contains(" and "),
                "{law} → {sv}"
            );
            assert!(
                !en.contains('§') && !en.contains("kap.") && !en.contains("lagen"),
                "{law} → {en}"
            );
            assert_eq!(law_in(&sv, Language::En), en, "{law}");
            assert_eq!(law_in(&en, Language::Sv), sv, "{law}");
        }
    }

    #[test]
    fn swedish_sections_in_english_and_back() {
        assert_eq!(
            law_in("Förvaltningslagen (2017:900) 33 §", Language::En),
            "Administrative Procedure Act (2017:900) section 33"
        );
        assert_eq!(
            law_in(
                "Administrative Procedure Act (2017:900) section 33",
                Language::Sv
            ),
            "Förvaltningslagen (2017:900) 33 §"
        );
        assert_eq!(
            law_in(
                "Freedom of the Press Act (1949:105) chapter 2, section 4",
                Language::Sv
            ),
            "Tryckfrihetsförordningen (1949:105) 2 kap. 4 §"
        );
        assert_eq!(law_in("Arkivlagen", Language::En), "Archives Act");
    }

    #[test]
    fn a_name_that_only_begins_like_an_act_is_left_alone() {
        assert_eq!(law_in("GDPRX art. 5", Language::Sv), "GDPRX art. 5");
        assert_eq!(law_in("", Language::Sv), "");
    }
}
