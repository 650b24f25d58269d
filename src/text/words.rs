//! The word finders' one pass (markings and the special categories): the words of their lists
//! looked for at the start of each word of the text, in one left-to-right walk, instead of a
//! regex per list. The regexes these lists were first written as (`(?i)\b(?:…)[\w-]*`) need
//! Unicode word boundaries, which the `regex` crate's fast automata cannot do on non-ASCII text,
//! so it fell back to its slowest engine on every text with an `å`.
//!
//! What matches is what those regexes matched: a word of the list at a word boundary (Unicode
//! `\w`), the list's order deciding between two words that both match at one place, then the
//! rest of the word; within one list, matches do not overlap and the leftmost wins. Case is
//! ignored for ASCII letters and the Latin-1 letters (`å`, `ä`, `ö`, `é`, …), which is all the
//! lists hold; the few other characters Unicode folds onto them (the Kelvin sign for `k`, the
//! long s for `s`, the Ångström sign for `å`) are not taken for them.

use std::ops::Range;
use std::sync::OnceLock;

use super::markings::Marking;
use super::sensitive::{Category, WORDS};

/// The lists, each matched on its own (matches of one list never overlap; of two lists may).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum List {
    /// Security-protection markings.
    Security,
    /// Secrecy markings.
    Secrecy,
    /// The special categories of personal data.
    Sensitive,
}

/// What a word of a list says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hit {
    /// A marking.
    Marking(Marking),
    /// A special category.
    Sensitive(Category),
}

impl Hit {
    fn list(self) -> List {
        match self {
            Hit::Marking(Marking::SecurityProtection) => List::Security,
            Hit::Marking(Marking::Secrecy) => List::Secrecy,
            Hit::Sensitive(_) => List::Sensitive,
        }
    }
}

/// What may follow a word of a list for it to match, and what of it belongs to the match.
#[derive(Debug, Clone, Copy)]
enum Tail {
    /// The word ends there (`\b`): a classification level is a whole word.
    Boundary,
    /// The rest of the word (`\w*`).
    Word,
    /// The rest of the word, hyphens included (`[\w-]*`): `lss-insatsen`, `dna-prov`.
    WordOrHyphen,
}

/// One word of a list.
struct Entry {
    /// Lower case (or, `exact`, as written); a space stands for one or more white-space
    /// characters unless `exact`.
    word: &'static [u8],
    /// Case and spaces as written.
    exact: bool,
    tail: Tail,
    hit: Hit,
}

/// The classification levels, the longer first so that `KVALIFICERAT HEMLIG` is one marking.
const LEVELS: [&str; 4] = [
    "KVALIFICERAT HEMLIG",
    "BEGRÄNSAT HEMLIG",
    "HEMLIG",
    "KONFIDENTIELL",
];

/// The entries, each list's in its order, and an index from a word's first three bytes (case
/// folded) to the entries that start so.
struct Table {
    entries: Vec<Entry>,
    /// A bit per hash of an entry's [`rough_key`]: most words of a text are rejected by one
    /// look.
    seen: [u64; SEEN_BITS / 64],
    /// Three folded bytes → entries starting so, in list order; sorted by key.
    starts: Vec<(u32, Vec<usize>)>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut entries: Vec<Entry> = LEVELS
            .iter()
            .map(|level| Entry {
                word: level.as_bytes(),
                exact: true,
                tail: Tail::Boundary,
                hit: Hit::Marking(Marking::SecurityProtection),
            })
            .collect();
        entries.push(Entry {
            word: "säkerhetsskydd".as_bytes(),
            exact: false,
            tail: Tail::Word,
            hit: Hit::Marking(Marking::SecurityProtection),
        });
        entries.push(Entry {
            word: b"sekretess",
            exact: false,
            tail: Tail::Word,
            hit: Hit::Marking(Marking::Secrecy),
        });
        for (category, words) in WORDS {
            for word in *words {
                entries.push(Entry {
                    word: word.as_bytes(),
                    exact: false,
                    tail: Tail::WordOrHyphen,
                    hit: Hit::Sensitive(*category),
                });
            }
        }
        let mut seen = [0u64; SEEN_BITS / 64];
        let mut starts: Vec<(u32, Vec<usize>)> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            // The bytes of the key the entry fixes: a word of three bytes (`hiv`) may be
            // followed by any fourth, and a space of the list by any white space.
            let fixed = entry
                .word
                .iter()
                .take(4)
                .position(|&b| b == b' ' && !entry.exact)
                .unwrap_or(entry.word.len().min(4));
            let prefix = rough_key(&entry.word[..fixed], 0);
            match fixed {
                4 => set(&mut seen, prefix),
                3 => (0..=255u32).for_each(|b| set(&mut seen, prefix | (b << 24))),
                _ => seen = [u64::MAX; SEEN_BITS / 64],
            }
            let key = key(entry.word, 0);
            match starts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) => list.push(i),
                None => starts.push((key, vec![i])),
            }
        }
        starts.sort_by_key(|(k, _)| *k);
        Table {
            entries,
            seen,
            starts,
        }
    })
}

const SEEN_BITS: usize = 1 << 16;

/// Sets the bit of `rough_key` in `seen`.
fn set(seen: &mut [u64; SEEN_BITS / 64], rough_key: u32) {
    let bit = bit(rough_key);
    seen[bit / 64] |= 1 << (bit % 64);
}

/// The first four bytes at `at` with the case bit (0x20) set in each, zero past the end: the
/// same for a word as for its [`fold`]ed form, since folding only ever sets that bit, and
/// cheaper than folding. [`Table::seen`] is of these, so that a word start costs a load, a
/// multiplication and a bit test unless an entry may start there. Four bytes, not three: `med`
/// (with), the commonest word of Swedish text, must not be taken for `medicinering`.
#[inline]
fn rough_key(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at + 4) {
        Some(four) => u32::from_le_bytes(four.try_into().unwrap_or_default()) | ROUGH,
        None => rough_key_at_end(bytes, at),
    }
}

/// [`rough_key`] within four bytes of the end.
#[cold]
fn rough_key_at_end(bytes: &[u8], at: usize) -> u32 {
    let byte = |i: usize| bytes.get(at + i).copied().unwrap_or(0);
    u32::from_le_bytes([byte(0), byte(1), byte(2), byte(3)]) | ROUGH
}

/// The case bit of each byte of a [`rough_key`].
const ROUGH: u32 = 0x2020_2020;

/// The bit of a key in [`Table::seen`].
#[inline]
fn bit(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 16) as usize
}

/// `b` case-folded, `before` being the byte before it: ASCII capitals, and the Latin-1
/// capitals (UTF-8 `C3 80`–`C3 9E` but `×`), whose small letter is 32 further on.
#[inline]
fn fold(before: u8, b: u8) -> u8 {
    if b.is_ascii_uppercase() || (before == 0xC3 && (0x80..=0x9E).contains(&b) && b != 0x97) {
        b | 0x20
    } else {
        b
    }
}

/// The first three bytes at `at`, folded (zero past the end).
#[inline]
fn key(bytes: &[u8], at: usize) -> u32 {
    let byte = |i: usize| bytes.get(at + i).copied().unwrap_or(0);
    let (a, b, c) = (byte(0), byte(1), byte(2));
    (u32::from(fold(0, a)) << 16) | (u32::from(fold(a, b)) << 8) | u32::from(fold(b, c))
}

/// Whether `c` is a word character (`\w`: letters, marks, digits, connectors), as the regexes'
/// `\b` and `\w` saw it. The common cases first; the rest from the `regex` crate's own tables.
#[inline]
pub(crate) fn is_word(c: char) -> bool {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => true,
        '\0'..='\u{7f}' => false,
        '×' | '÷' => false,
        '\u{c0}'..='\u{24f}' => true,
        '\u{2000}'..='\u{206f}' => false,
        _ => regex_syntax::try_is_word_character(c).unwrap_or(false),
    }
}

/// The character at byte `at` of `text` and its length; `None` at the end (or off a character
/// boundary, which the callers never are).
#[inline]
pub(crate) fn char_at(text: &str, at: usize) -> Option<(char, usize)> {
    let c = text.get(at..)?.chars().next()?;
    Some((c, c.len_utf8()))
}

/// The character before byte `at` of `text`.
#[inline]
pub(crate) fn char_before(text: &str, at: usize) -> Option<char> {
    text.get(..at)?.chars().next_back()
}

/// Where the white space (`\s*`: Unicode White_Space) from byte `at` ends.
pub(crate) fn skip_space(text: &str, mut at: usize) -> usize {
    while let Some((c, len)) = char_at(text, at) {
        if !c.is_whitespace() {
            break;
        }
        at += len;
    }
    at
}

/// Where the word characters (and hyphens, `hyphens`) from byte `at` end.
fn skip_word(text: &str, mut at: usize, hyphens: bool) -> usize {
    let bytes = text.as_bytes();
    while at < bytes.len() {
        let b = bytes[at];
        if b < 0x80 {
            if !(b.is_ascii_alphanumeric() || b == b'_' || (hyphens && b == b'-')) {
                break;
            }
            at += 1;
        } else {
            match char_at(text, at) {
                Some((c, len)) if is_word(c) => at += len,
                _ => break,
            }
        }
    }
    at
}

/// Where `entry` ends when it matches at byte `at` of `text`, its tail included.
fn matches(text: &str, at: usize, entry: &Entry) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = at;
    let mut before = 0u8;
    for &w in entry.word {
        if w == b' ' && !entry.exact {
            let after = skip_space(text, i);
            if after == i {
                return None;
            }
            i = after;
            before = b' ';
            continue;
        }
        let b = *bytes.get(i)?;
        let b_folded = if entry.exact { b } else { fold(before, b) };
        if b_folded != w {
            return None;
        }
        before = b;
        i += 1;
    }
    Some(match entry.tail {
        Tail::Boundary => match char_at(text, i) {
            Some((c, _)) if is_word(c) => return None,
            _ => i,
        },
        Tail::Word => skip_word(text, i, false),
        Tail::WordOrHyphen => skip_word(text, i, true),
    })
}

/// Every match of the lists `lists` in `text`, in text order: at each word start, the first
/// entry of each list that matches there. Matches of one list may still overlap here (a word
/// within a longer match of its list): [`leftmost`] keeps the ones a regex would have found.
///
/// The word starts are found sixteen bytes at a time (see [`Chunk`]): a text's bytes are ASCII
/// or the Latin-1 letters (`å`, `ä`, `ö`, `é`) in all but a few places, and those sixteen
/// bytes are classified at once, without a branch per byte. Sixteen bytes that hold any other
/// character (`–`, `”`, `§`, a no-break space) are walked a character at a time.
pub(crate) fn candidates(text: &str, lists: &[List]) -> Vec<(Hit, Range<usize>)> {
    let table = table();
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at_word_start = |start: usize| {
        // The entries starting with the word's first three bytes are tried, most words being
        // rejected by one look at `seen`.
        let bit = bit(rough_key(bytes, start));
        if table.seen[bit / 64] & (1 << (bit % 64)) != 0 {
            try_entries(text, start, table, lists, &mut found);
        }
    };
    // Whether the character before `at` is a word character.
    let mut after_word = false;
    let mut at = 0;
    while let Some(sixteen) = bytes.get(at..at + CHUNK) {
        match Chunk::of(sixteen).words() {
            Some((words, width)) => {
                let mut starts = bits(words & !((words << 8) | u128::from(after_word) << 7));
                while starts != 0 {
                    at_word_start(at + starts.trailing_zeros() as usize);
                    starts &= starts - 1;
                }
                after_word = (words >> (8 * width - 1)) & 1 != 0;
                at += width;
            }
            None => at = walk(text, at, at + CHUNK, &mut after_word, &mut at_word_start),
        }
    }
    walk(text, at, bytes.len(), &mut after_word, &mut at_word_start);
    found
}

/// One character at a time from byte `at` (a character boundary) to the first character
/// boundary at or past `until`, calling `at_word_start` at each word start; `after_word` says
/// whether the character before `at` is a word character, and is left saying it of the last
/// one walked. Returns where it stopped.
fn walk(
    text: &str,
    mut at: usize,
    until: usize,
    after_word: &mut bool,
    at_word_start: &mut impl FnMut(usize),
) -> usize {
    let bytes = text.as_bytes();
    while at < until {
        let Some(&b) = bytes.get(at) else { break };
        let (word, len) = if b < 0x80 {
            (ASCII_WORD[usize::from(b)], 1)
        } else {
            wide(text, at)
        };
        if word && !*after_word {
            at_word_start(at);
        }
        *after_word = word;
        at += len;
    }
    at
}

/// The bytes classified at once.
const CHUNK: usize = 16;

/// The 0x80 flags of sixteen bytes (as [`Chunk`] holds them) as sixteen bits, the first
/// byte's lowest: a multiplication gathers each eight flags into one byte.
#[inline]
fn bits(flags: u128) -> u32 {
    let eight = |flags: u64| {
        let ones = (flags >> 7) & 0x0101_0101_0101_0101;
        (ones.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
    };
    eight(flags as u64) | (eight((flags >> 64) as u64) << 8)
}

/// What each of sixteen bytes is, as the 0x80 bit of its byte in each field (little-endian:
/// the first byte lowest). Computed by one loop over the bytes without a branch, which the
/// compiler turns into a few vector instructions (SSE2 on x86-64).
struct Chunk {
    /// ASCII letters and digits and `_`.
    ascii_word: u128,
    /// `C3`: the first byte of a Latin-1 character (`å`, `Ä`, `é`, `×`).
    latin: u128,
    /// `97` and `B7`: the second bytes of `×` and `÷`, the Latin-1 characters that are no
    /// letters (and of some characters of three bytes).
    sign: u128,
    /// Any byte not ASCII.
    wide: u128,
}

impl Chunk {
    #[inline]
    fn of(sixteen: &[u8]) -> Chunk {
        let mut ascii_word = [0u8; CHUNK];
        let mut latin = [0u8; CHUNK];
        let mut sign = [0u8; CHUNK];
        let mut wide = [0u8; CHUNK];
        for (i, &b) in sixteen.iter().take(CHUNK).enumerate() {
            let letter = (b | 0x20).wrapping_sub(b'a') < 26;
            let digit = b.wrapping_sub(b'0') < 10;
            ascii_word[i] = u8::from(letter | digit | (b == b'_')) << 7;
            latin[i] = u8::from(b == 0xC3) << 7;
            sign[i] = u8::from((b == 0x97) | (b == 0xB7)) << 7;
            wide[i] = b & 0x80;
        }
        Chunk {
            ascii_word: u128::from_le_bytes(ascii_word),
            latin: u128::from_le_bytes(latin),
            sign: u128::from_le_bytes(sign),
            wide: u128::from_le_bytes(wide),
        }
    }

    /// Which bytes are of word characters (the chunk starting on a character boundary), and
    /// how many bytes that covers: all, or all but the last when it is the first byte of a
    /// Latin-1 character, whose second byte is in the next chunk. `None` when they hold a
    /// character other than ASCII and the Latin-1 letters, to be walked one at a time.
    ///
    /// No branch on which bytes they are: in Swedish text, chunks of ASCII and chunks with an
    /// `å` come in no order a processor could predict.
    #[inline]
    fn words(&self) -> Option<(u128, usize)> {
        let pair = self.latin | (self.latin << 8);
        let split = (self.latin >> 127) as usize;
        let keep = u128::MAX >> (8 * split);
        if ((self.wide & !pair) | self.sign) & keep != 0 {
            return None;
        }
        Some(((self.ascii_word | pair) & keep, CHUNK - split))
    }
}

/// At a word start, the first entry of each list that matches there, of those starting with
/// the word's first three bytes. Not inlined: most word starts never get here.
#[inline(never)]
fn try_entries(
    text: &str,
    at: usize,
    table: &Table,
    lists: &[List],
    found: &mut Vec<(Hit, Range<usize>)>,
) {
    let key = key(text.as_bytes(), at);
    let Ok(i) = table.starts.binary_search_by_key(&key, |(k, _)| *k) else {
        return;
    };
    let mut done = [false; 3];
    for &e in &table.starts[i].1 {
        let entry = &table.entries[e];
        let list = entry.hit.list();
        let slot = list as usize;
        if done[slot] || !lists.contains(&list) {
            continue;
        }
        if let Some(end) = matches(text, at, entry) {
            found.push((entry.hit, at..end));
            done[slot] = true;
        }
    }
}

/// Per ASCII byte: whether it is a word character.
const ASCII_WORD: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    table
};

/// Whether the non-ASCII character at byte `at` is a word character, and its length. The
/// Latin-1 letters (`å`, `ä`, `ö`, `é`: UTF-8 `C3 80`–`C3 BF` but `×` and `÷`) without decoding.
#[inline]
fn wide(text: &str, at: usize) -> (bool, usize) {
    let bytes = text.as_bytes();
    if bytes[at] == 0xC3 {
        if let Some(&next) = bytes.get(at + 1) {
            return (next != 0x97 && next != 0xB7, 2);
        }
    }
    match char_at(text, at) {
        Some((c, len)) => (is_word(c), len),
        None => (false, 1),
    }
}

/// Of `found` (one list's matches, in text order), those a leftmost-first regex finds: each
/// starting at or after the end of the one before.
pub(crate) fn leftmost<T>(
    found: impl IntoIterator<Item = (T, Range<usize>)>,
) -> Vec<(T, Range<usize>)> {
    let mut kept: Vec<(T, Range<usize>)> = Vec::new();
    for (what, span) in found {
        if kept.last().is_none_or(|(_, last)| span.start >= last.end) {
            kept.push((what, span));
        }
    }
    kept
}
