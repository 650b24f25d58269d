//! Swedish personal identity numbers in free text: personnummer and samordningsnummer, in every
//! written form, taken only with a real date and a correct check digit.
//!
//! The forms: ten digits (`YYMMDD-NNNN`, with `-`, `+` for a person of a hundred or more, a space
//! or nothing between) or twelve (`YYYYMMDD-NNNN`, likewise). A samordningsnummer is a
//! personnummer whose day is raised by 60. The last digit is the Luhn check digit of the ten-digit
//! form. An organisationsnummer of a legal person has a "month" of 20 or more (and, written with
//! twelve digits, the century `16`): it names no date, and is not taken for a person.
//!
//! A number is taken only as a whole: one run of digits and separators, not part of a longer
//! number on either side.

use std::ops::Range;

/// Which kind of identity number was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityKind {
    /// A personnummer.
    Personnummer,
    /// A samordningsnummer (the day raised by 60).
    Samordningsnummer,
}

/// An identity number found in a text: its kind and where it stands (byte offsets of the text,
/// on character boundaries). The number itself is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityNumber {
    /// Personnummer or samordningsnummer.
    pub kind: IdentityKind,
    /// Where in the text: byte offsets, start inclusive, end exclusive.
    pub span: Range<usize>,
}

/// Every personnummer and samordningsnummer in `text`, in text order. Linear in the text's
/// length: each run of digits is looked at once.
///
/// ```
/// use aipolicy::text::personnummer::{find, IdentityKind};
/// let text = "Ärendet gäller 19811218-9876 och 811278-9873, inte 556012-5790.";
/// let found = find(text);
/// let kinds: Vec<_> = found.iter().map(|f| f.kind).collect();
/// assert_eq!(kinds, [IdentityKind::Personnummer, IdentityKind::Samordningsnummer]);
/// assert_eq!(&text[found[0].span.clone()], "19811218-9876");
/// ```
pub fn find(text: &str) -> Vec<IdentityNumber> {
    let mut found = Vec::new();
    for stretch in super::stretches(text.as_bytes()) {
        find_in(text.as_bytes(), &stretch, &mut found);
    }
    found
}

/// The identity numbers within one stretch of digits and separators of `bytes`, added to
/// `found`: a number is one run of digits and single separators, and every run lies within
/// one stretch, so that a stretch of fewer than ten digits (a date, a time, an amount) is
/// passed over without a look at its runs.
pub(crate) fn find_in(bytes: &[u8], stretch: &super::Stretch, found: &mut Vec<IdentityNumber>) {
    if stretch.digits < 10 {
        return;
    }
    let bytes = &bytes[..stretch.span.end];
    let mut at = stretch.span.start;
    while let Some(start) = super::next_digit(bytes, at) {
        // A run: digits, and single separators between digits.
        let mut end = start;
        while end < bytes.len() {
            let b = bytes[end];
            if b.is_ascii_digit()
                || (matches!(b, b'-' | b'+' | b' ')
                    && bytes.get(end + 1).is_some_and(u8::is_ascii_digit))
            {
                end += 1;
            } else {
                break;
            }
        }
        let run = &bytes[start..end];
        at = end;
        if run.len() < 10 {
            // Fewer than the ten digits a number has: a year, a time, an amount.
            continue;
        }
        if let Some(kind) = whole(run) {
            found.push(IdentityNumber {
                kind,
                span: start..end,
            });
        } else if run.contains(&b' ') {
            // A run of several numbers separated by spaces ("ring 070 123 45 67, pnr 811218 9876"
            // is one run): look at each maximal piece that can be one number.
            pieces(run, start, found);
        }
    }
}

/// In a run (at byte `start` of the text) that is not one identity number as a whole, the
/// identity numbers among its space-separated pieces: a number may stand beside others in a
/// list. One piece, or two joined by their space, the two first.
fn pieces(run: &[u8], start: usize, found: &mut Vec<IdentityNumber>) {
    let mut words = run
        .split(|&b| b == b' ')
        .scan(0usize, |offset, word| {
            let at = *offset;
            *offset += word.len() + 1;
            Some((at, word))
        })
        .peekable();
    while let Some((at, word)) = words.next() {
        if let Some(&(next_at, next)) = words.peek() {
            let pair_end = next_at + next.len();
            if let Some(kind) = whole(&run[at..pair_end]) {
                found.push(IdentityNumber {
                    kind,
                    span: start + at..start + pair_end,
                });
                words.next();
                continue;
            }
        }
        if let Some(kind) = whole(word) {
            found.push(IdentityNumber {
                kind,
                span: start + at..start + at + word.len(),
            });
        }
    }
}

/// `candidate` (digits and separators) as one identity number, when it is one.
fn whole(candidate: &[u8]) -> Option<IdentityKind> {
    let mut digits = [0u8; 12];
    let mut count = 0;
    let mut separator = None;
    for &b in candidate {
        if b.is_ascii_digit() {
            *digits.get_mut(count)? = b - b'0';
            count += 1;
        } else if separator.replace((count, b)).is_some() {
            return None;
        }
    }
    identity(&digits[..count], separator)
}

/// The kind of identity number these digits are, with the separator (after how many digits,
/// which byte) where it stands; `None` when they are none.
fn identity(digits: &[u8], separator: Option<(usize, u8)>) -> Option<IdentityKind> {
    let (century, ten): (Option<u32>, &[u8]) = match digits.len() {
        10 => (None, digits),
        12 => {
            let century = u32::from(digits[0]) * 10 + u32::from(digits[1]);
            (Some(century), &digits[2..])
        }
        _ => return None,
    };
    // At most one separator, before the last four digits.
    let birth_digits = digits.len() - 4;
    let plus = match separator {
        None => false,
        Some((after, separator)) if after == birth_digits => separator == b'+',
        Some(_) => return None,
    };
    if plus && century.is_some() {
        // `+` tells the century of a ten-digit number; with the century written it is none.
        return None;
    }
    let number = |i: usize| u32::from(ten[i]);
    let year = number(0) * 10 + number(1);
    let month = number(2) * 10 + number(3);
    let day = number(4) * 10 + number(5);
    let (kind, day) = match day {
        61..=91 => (IdentityKind::Samordningsnummer, day - 60),
        _ => (IdentityKind::Personnummer, day),
    };
    // The centuries the number can be of: the written one, or (ten digits) the two a living
    // person's can be, `+` telling a hundred years more.
    let centuries: [Option<u32>; 2] = match century {
        Some(c @ 18..=20) => [Some(c), None],
        Some(_) => return None,
        None if plus => [Some(18), Some(19)],
        None => [Some(19), Some(20)],
    };
    let dated = centuries
        .iter()
        .flatten()
        .any(|c| is_date(c * 100 + year, month, day));
    (dated && luhn(ten)).then_some(kind)
}

/// Whether year-month-day is a day of the calendar.
fn is_date(year: u32, month: u32, day: u32) -> bool {
    match (i16::try_from(year), i8::try_from(month), i8::try_from(day)) {
        (Ok(year), Ok(month), Ok(day)) => jiff::civil::Date::new(year, month, day).is_ok(),
        _ => false,
    }
}

/// The Luhn check over the ten digits: the last is the check digit of the first nine.
fn luhn(ten: &[u8]) -> bool {
    ten.split_last()
        .is_some_and(|(last, nine)| check_digit(nine) == *last)
}

/// The check digit (Luhn, weights 2, 1, 2, …) of a personnummer's first nine digits, each
/// given as its value 0–9: what the tenth digit must be.
///
/// ```
/// use aipolicy::text::personnummer::check_digit;
/// assert_eq!(check_digit(&[8, 1, 1, 2, 1, 8, 9, 8, 7]), 6); // 811218-9876
/// ```
pub fn check_digit(nine: &[u8]) -> u8 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d) * if i % 2 == 0 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The ten-digit number of a birth date and serial, with its check digit.
    fn ten_digits(year: u32, month: u32, day: u32, serial: u32) -> String {
        checked(&format!("{:02}{month:02}{day:02}{serial:03}", year % 100))
    }

    proptest! {
        /// A real number, written in any form amid words, is found, with its span and kind.
        #[test]
        fn a_real_number_in_any_form_is_found(
            year in 1900u32..2026,
            month in 1u32..=12,
            day in 1u32..=28,
            serial in 0u32..1000,
            samordning in any::<bool>(),
            form in 0usize..7,
            before in "[a-zåäö,.:]{0,6} ?",
            after in " ?[a-zåäö,.:]{0,6}",
        ) {
            let ten = ten_digits(year, month, day + if samordning { 60 } else { 0 }, serial);
            let (birth, rest) = ten.split_at(6);
            let century = year / 100;
            let written = match form {
                0 => format!("{birth}-{rest}"),
                1 => format!("{birth} {rest}"),
                2 => ten.clone(),
                3 => format!("{century}{birth}-{rest}"),
                4 => format!("{century}{birth} {rest}"),
                5 => format!("{century}{ten}"),
                _ if year < 2000 => format!("{birth}+{rest}"),
                _ => format!("{birth}-{rest}"),
            };
            let text = format!("{before}{written}{after}");
            let found = find(&text);
            prop_assert_eq!(found.len(), 1, "{} in {:?}", written, text);
            prop_assert_eq!(&text[found[0].span.clone()], written.as_str());
            let kind = if samordning { IdentityKind::Samordningsnummer } else { IdentityKind::Personnummer };
            prop_assert_eq!(found[0].kind, kind);
        }

        /// The same number with another check digit is no number.
        #[test]
        fn a_wrong_check_digit_is_never_taken(
            year in 1900u32..2026, month in 1u32..=12, day in 1u32..=28, serial in 0u32..1000, wrong in 1u8..10,
        ) {
            let ten = ten_digits(year, month, day, serial);
            let check = ten.as_bytes()[9] - b'0';
            let other = format!("{}{}", &ten[..9], (check + wrong) % 10);
            prop_assert!(find(&format!("{}-{}", &other[..6], &other[6..])).is_empty(), "{}", other);
        }
    }

    /// Ten digits of these nine with their Luhn check digit.
    fn checked(nine: &str) -> String {
        let digits: Vec<u8> = nine.bytes().map(|b| b - b'0').collect();
        format!("{nine}{}", check_digit(&digits))
    }

    proptest! {
        /// An organisationsnummer (a "month" of 20 or more) with a correct check digit, in each
        /// of its forms, is never a person's.
        #[test]
        fn an_organisation_number_is_never_taken(
            first in 1u32..10, second in 0u32..10, month in 20u32..100, rest in 0u32..100_000, form in 0usize..4,
        ) {
            let ten = checked(&format!("{first}{second}{month:02}{rest:05}"));
            let written = match form {
                0 => format!("{}-{}", &ten[..6], &ten[6..]),
                1 => ten.clone(),
                2 => format!("16{}-{}", &ten[..6], &ten[6..]),
                _ => format!("16{ten}"),
            };
            prop_assert!(find(&format!("org.nr {written}.")).is_empty(), "{}", written);
        }

        /// A day that is none (month 0 or 13–19, day 0, 32–60 or 92–99), with a correct check
        /// digit, is no number.
        #[test]
        fn an_impossible_date_is_never_taken(
            year in 0u32..100, month in 0u32..20, day in 0u32..100, serial in 0u32..1000, dash in any::<bool>(),
        ) {
            prop_assume!(!(1..=12).contains(&month) || !(1..=31).contains(&day) && !(61..=91).contains(&day));
            let ten = checked(&format!("{year:02}{month:02}{day:02}{serial:03}"));
            let written = if dash { format!("{}-{}", &ten[..6], &ten[6..]) } else { ten };
            prop_assert!(find(&written).is_empty(), "{}", written);
        }

        /// Dates, whatever day they are, are no number: `2026-12-07`, `20261207`, `261207`.
        #[test]
        fn a_date_is_never_taken(year in 1900u32..2100, month in 1u32..=12, day in 1u32..=31, form in 0usize..4) {
            let written = match form {
                0 => format!("{year}-{month:02}-{day:02}"),
                1 => format!("{year}{month:02}{day:02}"),
                2 => format!("{:02}{month:02}{day:02}", year % 100),
                _ => format!("{year}-{month:02}-{day:02} kl. 13.30"),
            };
            prop_assert!(find(&format!("den {written}")).is_empty(), "{}", written);
        }

        /// Phone numbers written as phone numbers (groups, area code apart, `+46`) are no number.
        #[test]
        fn a_phone_number_in_its_groups_is_never_taken(
            mobile in 0u32..10, a in 0u32..1000, b in 0u32..100, c in 0u32..100, form in 0usize..5,
        ) {
            let written = match form {
                0 => format!("07{mobile}-{a:03} {b:02} {c:02}"),
                1 => format!("07{mobile} {a:03} {b:02} {c:02}"),
                2 => format!("+46 7{mobile} {a:03} {b:02} {c:02}"),
                3 => format!("+467{mobile}{a:03}{b:02}{c:02}"),
                _ => format!("08-{a:03} {b:02} {c:02}"),
            };
            prop_assert!(find(&format!("ring {written}")).is_empty(), "{}", written);
        }
    }

    fn kinds(text: &str) -> Vec<IdentityKind> {
        find(text).iter().map(|f| f.kind).collect()
    }

    const P: IdentityKind = IdentityKind::Personnummer;
    const S: IdentityKind = IdentityKind::Samordningsnummer;

    #[test]
    fn every_written_form_of_a_personnummer_is_found() {
        // 811218-9876: Skatteverket's example form, a valid check digit.
        for form in [
            "811218-9876",
            "811218+9876",
            "811218 9876",
            "8112189876",
            "19811218-9876",
            "19811218 9876",
            "198112189876",
        ] {
            assert_eq!(kinds(&format!("pnr {form}.")), [P], "{form}");
            let found = find(&format!("pnr {form}."));
            assert_eq!(found[0].span, 4..4 + form.len(), "{form}");
        }
    }

    #[test]
    fn a_samordningsnummer_is_the_day_plus_sixty() {
        assert_eq!(kinds("811278-9873"), [S]);
        assert_eq!(kinds("19811278-9873"), [S]);
    }

    #[test]
    fn a_wrong_check_digit_a_date_that_is_none_or_an_organisation_is_not_a_person() {
        for text in [
            "811218-9877",    // check digit
            "811318-9874",    // month 13
            "810230-1234",    // 30 February
            "556012-5790",    // organisationsnummer (month 60)
            "16556012-5790",  // organisationsnummer with century 16
            "2021-03-04",     // a date
            "20210304",       // a date, eight digits
            "12345",          // a short number
            "1234567890123",  // thirteen digits
            "19811218-98765", // part of a longer number
            "x8112189876123",
            "19811218+9876", // `+` with the century written
        ] {
            assert!(kinds(text).is_empty(), "{text}: {:?}", find(text));
        }
    }

    #[test]
    fn leap_days_hold_only_in_leap_years() {
        // 000229: 2000 was a leap year; 19000229 was not a day.
        let check = |nine: &str| {
            let digits: Vec<u8> = nine.bytes().map(|b| b - b'0').collect();
            (0..10u8)
                .map(|c| format!("{nine}{c}"))
                .find(|s| {
                    let mut d = digits.clone();
                    d.push(s.as_bytes()[9] - b'0');
                    luhn(&d)
                })
                .unwrap_or_default()
        };
        let leap = check("000229123");
        assert_eq!(kinds(&format!("20{leap}")), [P]);
        assert!(kinds(&format!("19{leap}")).is_empty());
    }

    #[test]
    fn numbers_in_a_list_are_each_found_and_phone_numbers_are_not() {
        assert_eq!(kinds("811218-9876, 811278-9873"), [P, S]);
        assert_eq!(kinds("ring 070 123 45 67 eller 811218 9876"), [P]);
        assert!(kinds("070-123 45 67").is_empty());
        assert!(kinds("+46 70 123 45 67").is_empty());
    }

    #[test]
    fn offsets_are_bytes_of_the_text_on_character_boundaries() {
        let text = "Åsa 811218-9876";
        let found = find(text);
        assert_eq!(&text[found[0].span.clone()], "811218-9876");
    }
}
