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
pub fn emails(text: &str) -> Vec<Range<usize>> {
    email()
        .map(|re| re.find_iter(text).map(|m| m.range()).collect())
        .unwrap_or_default()
}

/// Where the phone numbers of `text` are (byte offsets).
///
/// ```
/// let text = "Ring 070-123 45 67 eller +46 8 123 456 78, inte 2026-12-07.";
/// let found = aipolicy::text::contacts::phones(text);
/// let numbers: Vec<&str> = found.iter().map(|r| &text[r.clone()]).collect();
/// assert_eq!(numbers, ["070-123 45 67", "+46 8 123 456 78"]);
/// ```
pub fn phones(text: &str) -> Vec<Range<usize>> {
    let Some(re) = phone() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut at = 0;
    // The pattern takes the character before and after to see that the number stands alone;
    // the search goes on from the number's end, so that two numbers a space apart are two.
    while let Some(caps) = re.captures_at(text, at) {
        let Some(number) = caps.get(1) else { break };
        found.push(number.range());
        at = number.end();
    }
    found
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
