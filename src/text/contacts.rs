//! Contact details in free text: e-mail addresses and Swedish phone numbers (personal data, U2
//! and §3, though no identity number).

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

/// E-mail addresses: a local part, `@`, a domain with a dot.
fn email() -> Option<&'static Regex> {
    static EMAIL: OnceLock<Option<Regex>> = OnceLock::new();
    super::compiled(&EMAIL, || {
        r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}".into()
    })
}

/// Swedish phone numbers: `+46`, `0046` or a trunk `0`, then eight or nine digits (the area code
/// without its `0` and the subscriber's number), in groups separated by a space or `-`, the area
/// code maybe in brackets. Not inside a longer number.
fn phone() -> Option<&'static Regex> {
    static PHONE: OnceLock<Option<Regex>> = OnceLock::new();
    super::compiled(&PHONE, || {
        (r"(?:^|[^\d+])((?:\+46|0046)[ -]?\(?0?\)?[ -]?[1-9](?:[ -]?\d){6,8}|\(?0[1-9]\)?(?:[ -]?\(?\d\)?){6,8}[ -]?\d)(?:$|[^\d])").into()
    })
}

/// Where the e-mail addresses of `text` are (byte offsets).
///
/// Only the text around each `@` is searched: an address holds exactly one, with its local part
/// just before it and its domain just after, so the pattern is run on the window from the start
/// of the characters that can be a local part (no further back than the address before) to the
/// end of those that can be a domain. Texts without `@` cost one `memchr`.
pub fn emails(text: &str) -> Vec<Range<usize>> {
    let Some(re) = email() else {
        return Vec::new();
    };
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut done = 0;
    for at in memchr::memchr_iter(b'@', bytes) {
        if at < done {
            continue;
        }
        // Generous bounds (any non-ASCII character may be a word character): the pattern
        // decides within them, and no other `@` is in them.
        let local = |b: &u8| !b.is_ascii() || b.is_ascii_alphanumeric() || b"_.%+-".contains(b);
        let domain = |b: &u8| !b.is_ascii() || b.is_ascii_alphanumeric() || b"_.-".contains(b);
        let start = at
            - bytes[done..at]
                .iter()
                .rev()
                .take_while(|b| local(b))
                .count();
        let end = at + 1 + bytes[at + 1..].iter().take_while(|b| domain(b)).count();
        // On character boundaries: the bounds stop at ASCII bytes or the address before.
        let Some(window) = text.get(start..end) else {
            continue;
        };
        if let Some(m) = re.find(window) {
            found.push(start + m.start()..start + m.end());
            done = start + m.end();
        }
    }
    found
}

/// The fewest digits a phone number has: a trunk `0` (or `46`), the area code and a
/// subscriber's number of at least six.
const PHONE_DIGITS: usize = 9;

/// Where the phone numbers of `text` are (byte offsets).
///
/// The pattern is run only on each stretch of digits, spaces, `-`, `+` and brackets that holds
/// at least nine digits and a `0` or `+`, since a phone number is written with nothing else and
/// holds them; texts without such a stretch cost one pass over their bytes (see `Stretch`).
///
/// ```
/// let text = "Ring 070-123 45 67 eller +46 8 123 456 78, inte 2026-12-07.";
/// let found = aipolicy::text::contacts::phones(text);
/// let numbers: Vec<&str> = found.iter().map(|r| &text[r.clone()]).collect();
/// assert_eq!(numbers, ["070-123 45 67", "+46 8 123 456 78"]);
/// ```
pub fn phones(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    for stretch in super::stretches(text.as_bytes()) {
        phones_in(text, &stretch, &mut found);
    }
    found
}

/// The phone numbers within one stretch of digits and separators of `text`, added to `found`.
pub(crate) fn phones_in(text: &str, stretch: &super::Stretch, found: &mut Vec<Range<usize>>) {
    if stretch.digits < PHONE_DIGITS || !stretch.trunk {
        return;
    }
    let Some(re) = phone() else {
        return;
    };
    // The stretch's neighbours are neither digits nor `+`, as the pattern's `^` and `$` within
    // it assume. The pattern takes the character before and after to see that the number
    // stands alone; the search goes on from the number's end, so that two numbers a space
    // apart are two.
    let start = stretch.span.start;
    let Some(window) = text.get(stretch.span.clone()) else {
        return;
    };
    let mut from = 0;
    while let Some(caps) = re.captures_at(window, from) {
        let Some(number) = caps.get(1) else { break };
        found.push(start + number.start()..start + number.end());
        from = number.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, found: Vec<Range<usize>>) -> Vec<&str> {
        found.into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn email_addresses_are_found() {
        let text = "Skriv till anna.svensson@askersund.se eller it-support@kommun.example.org.";
        assert_eq!(
            shown(text, emails(text)),
            [
                "anna.svensson@askersund.se",
                "it-support@kommun.example.org"
            ]
        );
        assert!(emails("inte @ här, inte a@b").is_empty());
    }

    #[test]
    fn swedish_phone_numbers_in_their_written_forms_are_found() {
        for number in [
            "070-123 45 67",
            "0701234567",
            "070 123 45 67",
            "+46 70 123 45 67",
            "+46701234567",
            "0046 70-123 45 67",
            "08-123 456 78",
            "0583-123 45",
            "(0583) 123 45",
            "+46 (0)70 123 45 67",
        ] {
            let text = format!("Tel: {number}.");
            assert_eq!(shown(&text, phones(&text)), [number], "{number}");
        }
    }

    #[test]
    fn dates_amounts_and_long_numbers_are_not_phone_numbers() {
        for text in [
            "2026-12-07",
            "12 345 kr",
            "ärende 2026/123",
            "1234567890123456",
            "811218-9876",
        ] {
            assert!(phones(text).is_empty(), "{text}: {:?}", phones(text));
        }
    }
}
