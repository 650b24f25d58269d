//! The fast finders find what the plain regexes they replace found: each regex as first written
//! (one pass over the whole text, `find_iter` or its capture loop) is kept here, and random
//! texts made of the lists' words, Swedish letters in both cases, digits, separators, `@`, `§`
//! and white space are searched both ways.

#![allow(clippy::unwrap_used)]

use std::ops::Range;

use proptest::prelude::*;
use regex::Regex;

use super::*;

fn sensitive_regex() -> Regex {
    let groups: Vec<String> = sensitive::WORDS
        .iter()
        .map(|(_, words)| {
            let words: Vec<String> = words
                .iter()
                .map(|w| regex::escape(w).replace(' ', r"\s+"))
                .collect();
            format!("({})", words.join("|"))
        })
        .collect();
    Regex::new(&format!(r"(?i)\b(?:{})[\w-]*", groups.join("|"))).unwrap()
}

fn sensitive_by_regex(re: &Regex, text: &str) -> Vec<(Category, Range<usize>)> {
    re.captures_iter(text)
        .map(|caps| {
            let group = (1..caps.len()).find(|&i| caps.get(i).is_some()).unwrap();
            (sensitive::WORDS[group - 1].0, caps.get(0).unwrap().range())
        })
        .collect()
}

fn markings_by_regex(text: &str) -> Vec<(Marking, Range<usize>)> {
    let security = Regex::new(
        r"\b(?:KVALIFICERAT HEMLIG|BEGRÄNSAT HEMLIG|HEMLIG|KONFIDENTIELL)\b|(?i:\bsäkerhetsskydd\w*)",
    )
    .unwrap();
    let secrecy = Regex::new(r"(?i:\bsekretess\w*)|\b\d{1,2}\s*kap\.?\s*\d{1,2}\s*[a-z]?\s*§(?:\s*(?:första|andra|tredje|\d)\s*st(?:\.|ycket)?)?\s*(?:OSL|offentlighets-\s*och\s*sekretesslagen)\b").unwrap();
    let mut found: Vec<(Marking, Range<usize>)> = Vec::new();
    for (marking, re) in [
        (Marking::SecurityProtection, security),
        (Marking::Secrecy, secrecy),
    ] {
        found.extend(re.find_iter(text).map(|m| (marking, m.range())));
    }
    found.sort_by_key(|(_, range)| range.start);
    found
}

fn emails_by_regex(text: &str) -> Vec<Range<usize>> {
    Regex::new(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
        .unwrap()
        .find_iter(text)
        .map(|m| m.range())
        .collect()
}

fn phones_by_regex(text: &str) -> Vec<Range<usize>> {
    let re = Regex::new(r"(?:^|[^\d+])((?:\+46|0046)[ -]?\(?0?\)?[ -]?[1-9](?:[ -]?\d){6,8}|\(?0[1-9]\)?(?:[ -]?\(?\d\)?){6,8}[ -]?\d)(?:$|[^\d])").unwrap();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(caps) = re.captures_at(text, at) {
        let number = caps.get(1).unwrap();
        found.push(number.range());
        at = number.end();
    }
    found
}

/// The identity numbers of `text` as first found: each run of digits and single separators of
/// the whole text looked at on its own (the finder now looks only within stretches of enough
/// digits).
fn identity_numbers_by_runs(text: &str) -> Vec<(IdentityKind, Range<usize>)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = (at..bytes.len()).find(|&i| bytes[i].is_ascii_digit()) {
        let mut end = start;
        while end < bytes.len()
            && (bytes[end].is_ascii_digit()
                || (matches!(bytes[end], b'-' | b'+' | b' ')
                    && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)))
        {
            end += 1;
        }
        found.extend(
            personnummer::find(&text[start..end])
                .into_iter()
                .map(|n| (n.kind, start + n.span.start..start + n.span.end)),
        );
        at = end;
    }
    found
}

/// Pieces random texts are made of: the lists' words (and their starts, and longer words that
/// hold them), markings, numbers and their separators, addresses, white space of several kinds,
/// letters that are and are not word characters.
fn piece() -> impl Strategy<Value = String> {
    let words: Vec<String> = sensitive::WORDS
        .iter()
        .flat_map(|(_, words)| words.iter().map(|w| w.to_string()))
        .chain(
            [
                "KVALIFICERAT HEMLIG",
                "BEGRÄNSAT HEMLIG",
                "HEMLIG",
                "KONFIDENTIELL",
                "säkerhetsskydd",
                "sekretess",
                "26 kap. 1 § OSL",
                "7 kap 2 a § första stycket OSL",
                "21 kap. 7 § offentlighets- och sekretesslagen",
                "3 kap. 2 § 2 st. OSL",
                "kap.",
                "§",
                "OSL",
                "anna.svensson@askersund.se",
                "@",
                "070-123 45 67",
                "+46 70 123 45 67",
                "0046 8-123 456 78",
                "(0583) 123 45",
                "811218-9876",
                "19811218 9876",
                "811278+9873",
                "0701235673",
                "2026-12-07",
                "556012-5790",
            ]
            .map(String::from),
        )
        .collect();
    prop_oneof![
        4 => proptest::sample::select(words).prop_flat_map(|w| {
            // As written, in capitals, capitalised, or cut short.
            let len = w.chars().count();
            (Just(w), 0..4usize, 1..=len)
        }).prop_map(|(w, case, cut)| match case {
            0 => w.to_uppercase(),
            1 => {
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
            }
            2 => w.chars().take(cut).collect(),
            _ => w,
        }),
        3 => "[a-zåäöÅÄÖéA-Z0-9_]{1,6}",
        3 => "[ \t\n\u{a0}\u{2003}.,:;()\\-+/§@–”]{1,3}",
        // Not the Kelvin sign or the long s: the regexes' `(?i)` folds them onto `k` and `s`,
        // and the finders, which fold only ASCII and Latin-1 letters, do not (on purpose).
        1 => "[\u{30a}×÷ß𝔘]",
    ]
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(piece(), 0..24).prop_map(|pieces| pieces.concat())
}

/// The word starts are found eight bytes at a time: every character that can stand on either
/// side of a chunk's edge (a Latin-1 letter or sign split between two chunks, a character of
/// three or four bytes, a word ending or starting at the edge) is tried at every offset.
#[test]
fn the_word_lists_find_what_their_regexes_found_whatever_falls_on_an_eight_byte_edge() {
    let re = sensitive_regex();
    let samples = [
        "Åsa sjukdom ×sjukdom ÷sekretess –diagnos ”HEMLIG” §sekretess",
        "ÄÖsjukdomÖ é\u{a0}depression\u{2003}cancer𝔘cancer ßdiabetes",
        "SJUKDOM_sjukdom SEKRETESSEN säkerhetsskyddsklassad KVALIFICERAT  HEMLIG",
        "psykisk\u{a0}ohälsa, psykisk – ohälsa, Ångestsyndrom; ångestsyndromen.",
    ];
    for sample in samples {
        for pad in ["", "a", "å", "×", "–"] {
            for k in 0..17 {
                let text = format!("{}{sample}", pad.repeat(k));
                assert_eq!(
                    sensitive::find(&text),
                    sensitive_by_regex(&re, &text),
                    "{text:?}"
                );
                assert_eq!(markings::find(&text), markings_by_regex(&text), "{text:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_word_list_finds_what_its_regex_found(text in text()) {
        let re = sensitive_regex();
        prop_assert_eq!(sensitive::find(&text), sensitive_by_regex(&re, &text), "{:?}", text);
    }

    #[test]
    fn the_markings_are_what_their_regexes_found(text in text()) {
        prop_assert_eq!(markings::find(&text), markings_by_regex(&text), "{:?}", text);
    }

    #[test]
    fn e_mail_addresses_are_what_their_regex_found(text in text()) {
        prop_assert_eq!(contacts::emails(&text), emails_by_regex(&text), "{:?}", text);
    }

    #[test]
    fn identity_numbers_are_what_each_run_of_digits_holds(text in text()) {
        let found: Vec<(IdentityKind, Range<usize>)> =
            personnummer::find(&text).into_iter().map(|n| (n.kind, n.span)).collect();
        prop_assert_eq!(found, identity_numbers_by_runs(&text), "{:?}", text);
    }

    #[test]
    fn phone_numbers_are_what_their_regex_found(text in text()) {
        prop_assert_eq!(contacts::phones(&text), phones_by_regex(&text), "{:?}", text);
    }

    #[test]
    fn whatever_the_text_what_is_found_is_in_order_on_character_boundaries(text in text()) {
        let found = find(&text);
        for f in &found {
            prop_assert!(text.get(f.span.clone()).is_some_and(|s| !s.is_empty()), "{:?} in {:?}", f, text);
        }
        prop_assert!(found.windows(2).all(|w| (w[0].span.start, w[0].span.end) <= (w[1].span.start, w[1].span.end)));
    }
}
