//! What a text holds, found in the text itself rather than declared by whoever sends it: the
//! information the policy's data classes are about. Linear-time finders (hand-written for
//! identity numbers, the `regex` crate's automata for the rest), no model.
//!
//! - [`personnummer`]: personnummer and samordningsnummer, with a real date and check digit;
//! - [`contacts`]: e-mail addresses and Swedish phone numbers;
//! - [`markings`]: security-protection classifications and secrecy markings (OSL references);
//! - [`sensitive`]: the special categories of personal data (GDPR art. 9), by a Swedish word list.
//!
//! Each finder is linear in the text's length and looks at most bytes once: the digit finders
//! share one pass that skips to the next digit eight bytes at a time and looks further only at
//! stretches of digits long enough to be a number, e-mail addresses are looked for only around
//! an `@`, and the word lists of the markings and the special categories are matched in one
//! pass that finds the text's word starts sixteen bytes at a time (see `words.rs`), so that a
//! text costs about one pass over its bytes whatever it holds.
//!
//! The finders report what they found and where (byte offsets), never the matched text, so that
//! a decision or a log line built from them holds none of the information.

pub mod contacts;
pub mod markings;
pub mod personnummer;
pub mod sensitive;
mod words;

#[cfg(test)]
mod equivalence;

use std::ops::Range;
use std::sync::OnceLock;

use markings::Marking;
use personnummer::IdentityKind;
use regex::Regex;
use sensitive::Category;

/// A finder's pattern, compiled the first time it is used. `None` only if it does not compile:
/// each pattern is a constant, and its finder's tests, which find with it, rule that out.
fn compiled(
    cell: &'static OnceLock<Option<Regex>>,
    pattern: impl FnOnce() -> String,
) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(&pattern()).ok()).as_ref()
}

/// What a finder found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A personnummer or a samordningsnummer.
    Identity(IdentityKind),
    /// An e-mail address.
    Email,
    /// A Swedish phone number.
    Phone,
    /// A security-protection or secrecy marking.
    Marking(Marking),
    /// A word of a special category of personal data (GDPR art. 9).
    Sensitive(Category),
}

impl Kind {
    /// Every kind, in the order of [`Kind::name`]'s table: what a register's data class can
    /// name in `finds`.
    pub const ALL: [Kind; 13] = [
        Kind::Identity(IdentityKind::Personnummer),
        Kind::Identity(IdentityKind::Samordningsnummer),
        Kind::Email,
        Kind::Phone,
        Kind::Marking(Marking::SecurityProtection),
        Kind::Marking(Marking::Secrecy),
        Kind::Sensitive(Category::Health),
        Kind::Sensitive(Category::Ethnicity),
        Kind::Sensitive(Category::Political),
        Kind::Sensitive(Category::Religion),
        Kind::Sensitive(Category::TradeUnion),
        Kind::Sensitive(Category::Sexuality),
        Kind::Sensitive(Category::GeneticOrBiometric),
    ];

    /// The kind's name in a register's `finds` and in a decision's `found` (pinned):
    /// `personnummer`, `samordningsnummer`, `email`, `phone`, `security-protection`, `secrecy`,
    /// `health`, `ethnicity`, `political`, `religion`, `trade-union`, `sexuality`,
    /// `genetic-biometric`.
    ///
    /// ```
    /// use aipolicy::text::Kind;
    /// assert_eq!(Kind::Email.name(), "email");
    /// assert_eq!(Kind::from_name("trade-union").map(Kind::name), Some("trade-union"));
    /// assert_eq!(Kind::from_name("e-mail"), None);
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Kind::Identity(IdentityKind::Personnummer) => "personnummer",
            Kind::Identity(IdentityKind::Samordningsnummer) => "samordningsnummer",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Marking(Marking::SecurityProtection) => "security-protection",
            Kind::Marking(Marking::Secrecy) => "secrecy",
            Kind::Sensitive(Category::Health) => "health",
            Kind::Sensitive(Category::Ethnicity) => "ethnicity",
            Kind::Sensitive(Category::Political) => "political",
            Kind::Sensitive(Category::Religion) => "religion",
            Kind::Sensitive(Category::TradeUnion) => "trade-union",
            Kind::Sensitive(Category::Sexuality) => "sexuality",
            Kind::Sensitive(Category::GeneticOrBiometric) => "genetic-biometric",
        }
    }

    /// The kind of a name of [`Kind::name`].
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// What it is, in a sentence's words, in Swedish and English.
    pub fn described(self, language_is_swedish: bool) -> &'static str {
        let (sv, en) = match self {
            Kind::Identity(IdentityKind::Personnummer) => {
                ("ett personnummer", "a personal identity number")
            }
            Kind::Identity(IdentityKind::Samordningsnummer) => {
                ("ett samordningsnummer", "a coordination number")
            }
            Kind::Email => ("en e-postadress", "an e-mail address"),
            Kind::Phone => ("ett telefonnummer", "a phone number"),
            Kind::Marking(Marking::SecurityProtection) => (
                "en säkerhetsskyddsmarkering",
                "a security-protection marking",
            ),
            Kind::Marking(Marking::Secrecy) => ("en sekretessmarkering", "a secrecy marking"),
            Kind::Sensitive(Category::Health) => ("uppgifter om hälsa", "health information"),
            Kind::Sensitive(Category::Ethnicity) => (
                "uppgifter om etniskt ursprung",
                "information on ethnic origin",
            ),
            Kind::Sensitive(Category::Political) => (
                "uppgifter om politiska åsikter",
                "information on political opinions",
            ),
            Kind::Sensitive(Category::Religion) => (
                "uppgifter om religion eller övertygelse",
                "information on religion or beliefs",
            ),
            Kind::Sensitive(Category::TradeUnion) => (
                "uppgifter om fackligt medlemskap",
                "information on trade-union membership",
            ),
            Kind::Sensitive(Category::Sexuality) => (
                "uppgifter om sexualliv eller sexuell läggning",
                "information on sex life or sexual orientation",
            ),
            Kind::Sensitive(Category::GeneticOrBiometric) => (
                "genetiska eller biometriska uppgifter",
                "genetic or biometric information",
            ),
        };
        if language_is_swedish {
            sv
        } else {
            en
        }
    }
}

/// One thing found in a text: what, and where (byte offsets, on character boundaries). Never the
/// matched text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// What was found.
    pub kind: Kind,
    /// Where: start inclusive, end exclusive.
    pub span: Range<usize>,
}

/// The first ASCII digit of `bytes` at or after `from`: eight bytes at a time, as most bytes of
/// a text are no digit.
#[inline]
pub(crate) fn next_digit(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let rest = bytes.get(from..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut offset = from;
    for chunk in &mut chunks {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        // After the xor, exactly the digits are bytes below 10; the test is the classic "has a
        // byte less than n", exact as to whether there is one.
        let x = u64::from_le_bytes(eight) ^ (ONES * 0x30);
        if x.wrapping_sub(ONES * 10) & !x & (ONES * 0x80) != 0 {
            return chunk
                .iter()
                .position(u8::is_ascii_digit)
                .map(|i| offset + i);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(u8::is_ascii_digit)
        .map(|i| offset + i)
}

/// A stretch of a text: digits and the separators numbers are written with (a space, `-`,
/// `+`, brackets), holding at least one digit, with neither on either side. Every phone number
/// and every identity number stands within one, so the digit finders read a text's digits once
/// and look further only at stretches with digits enough.
pub(crate) struct Stretch {
    /// Where it stands: byte offsets.
    pub(crate) span: Range<usize>,
    /// How many digits it holds.
    pub(crate) digits: usize,
    /// Whether it holds a `0` or a `+`, as a phone number's trunk prefix or country code does.
    pub(crate) trunk: bool,
}

/// The stretches of `bytes`, in order.
pub(crate) fn stretches(bytes: &[u8]) -> impl Iterator<Item = Stretch> + '_ {
    let part = |b: u8| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'+' | b'(' | b')');
    let mut at = 0;
    std::iter::from_fn(move || {
        let digit = next_digit(bytes, at)?;
        // Back over separators (never past the stretch before, which ended at a byte that is
        // none), then forward over all it holds.
        let start = digit
            - bytes[at..digit]
                .iter()
                .rev()
                .take_while(|&&b| part(b))
                .count();
        let mut end = start;
        let (mut digits, mut trunk) = (0, false);
        while let Some(&b) = bytes.get(end) {
            if !part(b) {
                break;
            }
            digits += usize::from(b.is_ascii_digit());
            trunk |= b == b'0' || b == b'+';
            end += 1;
        }
        at = end;
        Some(Stretch {
            span: start..end,
            digits,
            trunk,
        })
    })
}

/// The words that, just before ten bare digits, say that they are a phone number (any case,
/// then maybe `.` or `:` and white space): `tel 0701234567`.
const PHONE_LABELS: [&str; 12] = [
    "tel",
    "tfn",
    "telefon",
    "telefonnr",
    "telefonnummer",
    "mobil",
    "mob",
    "mobilnr",
    "mobilnummer",
    "mobiltelefon",
    "sms",
    "fax",
];

/// Whether the word just before byte `at` of `text` (past white space, `:` and `.`) is one of
/// [`PHONE_LABELS`].
fn labelled_phone(text: &str, at: usize) -> bool {
    let bytes = &text.as_bytes()[..at];
    let gap = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace() || matches!(b, b':' | b'.'))
        .count();
    let before = &bytes[..at - gap];
    let letters = before
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let word = &before[before.len() - letters..];
    // The label is a whole word: no letter of another alphabet (`å`) just before it.
    let whole = before.len() == letters || before[before.len() - letters - 1].is_ascii();
    whole
        && PHONE_LABELS
            .iter()
            .any(|label| label.as_bytes().eq_ignore_ascii_case(word))
}

/// Everything every finder finds in `text`, in text order.
///
/// A phone number that is also an identity number is taken for the identity number, the
/// stricter, with one exception. Ten bare digits such as `0701234567` can be both a mobile
/// number and the personnummer of someone born 2007-01-23 (if the check digit fits, as for one
/// such number in ten with a date); they are a phone number only when the phone finder finds
/// exactly them and a word just before them says so (`tel`, `telefon`, `mobil`, `sms`, `fax`
/// and their short forms, see the source: `tel: 0701234567`, `Mobil 0701234567`). Written
/// with a separator (`070123-4567`) or a label of any other kind, they stay a personnummer.
///
/// ```
/// use aipolicy::text::{find, Kind};
/// use aipolicy::text::personnummer::IdentityKind;
/// let found = find("Klient 811218-9876, tel 070-123 45 67, diagnos F32.");
/// assert_eq!(found.len(), 3);
/// assert_eq!(found[0].kind, Kind::Identity(IdentityKind::Personnummer));
/// assert_eq!(found[1].kind, Kind::Phone);
/// // Both a mobile number and a personnummer: the label decides.
/// assert_eq!(find("pnr 0701235673")[0].kind, Kind::Identity(IdentityKind::Personnummer));
/// assert_eq!(find("tel 0701235673")[0].kind, Kind::Phone);
/// ```
pub fn find(text: &str) -> Vec<Found> {
    let bytes = text.as_bytes();
    let mut phones = Vec::new();
    let mut numbers = Vec::new();
    for stretch in stretches(bytes) {
        contacts::phones_in(text, &stretch, &mut phones);
        personnummer::find_in(bytes, &stretch, &mut numbers);
    }
    let mut found: Vec<Found> = Vec::new();
    let mut identities: Vec<Range<usize>> = Vec::new();
    for n in numbers {
        let bare_ten = n.span.len() == 10 && bytes[n.span.start] == b'0';
        // `phones` is in text order: a binary search, so that a text of many numbers costs
        // n log n, not n².
        let also_phone = phones
            .binary_search_by_key(&n.span.start, |p| p.start)
            .is_ok_and(|i| phones.get(i) == Some(&n.span));
        if bare_ten && also_phone && labelled_phone(text, n.span.start) {
            // The phone finder has it; `phones` below adds it.
            continue;
        }
        identities.push(n.span.clone());
        found.push(Found {
            kind: Kind::Identity(n.kind),
            span: n.span,
        });
    }
    // `identities` is in text order and its spans do not overlap: the first that ends after
    // `span` starts is the only one that can overlap it.
    let overlaps_identity = |span: &Range<usize>| {
        let first = identities.partition_point(|i| i.end <= span.start);
        identities.get(first).is_some_and(|i| i.start < span.end)
    };
    found.extend(
        phones
            .into_iter()
            .filter(|span| !overlaps_identity(span))
            .map(|span| Found {
                kind: Kind::Phone,
                span,
            }),
    );
    found.extend(contacts::emails(text).into_iter().map(|span| Found {
        kind: Kind::Email,
        span,
    }));
    let candidates = words::candidates(
        text,
        &[
            words::List::Security,
            words::List::Secrecy,
            words::List::Sensitive,
        ],
    );
    found.extend(
        markings::from_words(text, &candidates)
            .into_iter()
            .map(|(marking, span)| Found {
                kind: Kind::Marking(marking),
                span,
            }),
    );
    found.extend(
        sensitive::from_words(&candidates)
            .into_iter()
            .map(|(category, span)| Found {
                kind: Kind::Sensitive(category),
                span,
            }),
    );
    found.sort_by_key(|f| (f.span.start, f.span.end));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_bare_digits_that_are_an_identity_number_are_not_also_a_phone_number() {
        // 0701235673 would pass for a mobile number; it is also the personnummer of someone born
        // 2007-01-23, with a correct check digit: the identity number is what counts.
        let ten = (0..10)
            .map(|c| format!("070123567{c}"))
            .find(|t| !personnummer::find(t).is_empty())
            .unwrap_or_default();
        let found = find(&format!("nummer {ten}"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, Kind::Identity(IdentityKind::Personnummer));
    }

    #[test]
    fn ten_bare_digits_labelled_as_a_phone_number_are_one() {
        // 0701235673: a mobile number, and the personnummer of someone born 2007-01-23.
        let phone = [Kind::Phone];
        let person = [Kind::Identity(IdentityKind::Personnummer)];
        for (text, kinds) in [
            ("tel 0701235673", &phone),
            ("Tel: 0701235673.", &phone),
            ("mobil:0701235673", &phone),
            ("Mobilnummer 0701235673", &phone),
            ("SMS till 0701235673", &person), // a word between: no label
            ("pnr 0701235673", &person),
            ("0701235673", &person),
            ("hotel 0701235673", &person), // `tel` within another word
            ("tel 070123-5673", &person),  // written as a personnummer
            ("tel 070-123 56 73", &phone), // not ten bare digits: no personnummer
        ] {
            let found: Vec<Kind> = find(text).iter().map(|f| f.kind).collect();
            assert_eq!(found, kinds, "{text}");
        }
    }

    #[test]
    fn organisation_numbers_dates_and_phone_numbers_are_not_taken_for_identity_numbers() {
        let text = "Leverantör 556012-5790 (16556012-5790, 2120001355), beslut 2026-12-07 och \
                    20261207, ring 070-123 45 67, 08-123 456 78, +46 70 123 45 67 eller \
                    (0583) 123 45; belopp 12 345 kr, dnr KS 2026/123.";
        let found = find(text);
        assert!(
            found.iter().all(|f| !matches!(f.kind, Kind::Identity(_))),
            "{found:?}"
        );
        assert_eq!(found.iter().filter(|f| f.kind == Kind::Phone).count(), 4);
    }

    #[test]
    fn everything_in_one_text_is_found_in_order() {
        let text = "HEMLIG. Åsa Öberg, 19811218-9876, tel 0701234567, asa.oberg@kommun.se, \
                    är sjukskriven (DEPRESSION); sekretess enligt 26 kap. 1 § OSL.";
        let names: Vec<&str> = find(text).iter().map(|f| f.kind.name()).collect();
        assert_eq!(
            names,
            [
                "security-protection",
                "personnummer",
                "phone",
                "email",
                "health",
                "health",
                "secrecy",
                "secrecy"
            ]
        );
    }

    #[test]
    fn nothing_is_found_in_a_text_without_information() {
        assert!(find("Vi ses på mötet den 7 december kl. 13 i rum 2026.").is_empty());
    }
}
