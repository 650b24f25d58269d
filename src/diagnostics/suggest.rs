//! "Did you mean …?": the known name closest to a mistyped one.

/// The candidate closest to `name` when it is close enough to be a likely slip of the keyboard
/// or of case (`copilot` for `copilot-chat`, `maxDatalevel` for `maxDataLevel`, `anan` for
/// `anna`: a swap of two letters counts as one edit), else `None`.
///
/// ```
/// use aipolicy::suggest::closest;
/// assert_eq!(closest("copilot", ["chatgpt", "copilot-chat"]), Some("copilot-chat"));
/// assert_eq!(closest("maxDatalevel", ["maxDataLevel", "secrecy"]), Some("maxDataLevel"));
/// assert_eq!(closest("zzz", ["chatgpt", "copilot-chat"]), None);
/// ```
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = Wanted::new(name);
    candidates
        .into_iter()
        .enumerate()
        .filter_map(|(at, candidate)| {
            Some((wanted.distance(candidate)?, candidate.len(), at, candidate))
        })
        .min()
        .map(|(_, _, _, candidate)| candidate)
}

/// Known names, kept for [`closest`] when there are many and the question is frequent (an AI
/// system the register does not list is named with the closest one it does, on every
/// decision): a lookup reads only the names whose length or start can make them close, and
/// gives what [`closest`] gives over all of them in their order.
///
/// ```
/// use aipolicy::suggest::KnownNames;
/// let names = KnownNames::new(["chatgpt", "copilot-chat"]);
/// assert_eq!(names.closest("copilot"), Some("copilot-chat"));
/// assert_eq!(names.closest("zzz"), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct KnownNames {
    names: Vec<Box<str>>,
    /// (length in characters, lowercased, position), by length.
    by_length: Vec<(usize, usize)>,
    /// (lowercase name, position), in order: the names a prefix starts are one range.
    by_lowercase: Vec<(Box<str>, usize)>,
}

impl KnownNames {
    /// Keeps `names`, in their order.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> KnownNames {
        let names: Vec<Box<str>> = names.into_iter().map(Box::from).collect();
        let mut by_length: Vec<(usize, usize)> = names
            .iter()
            .enumerate()
            .map(|(at, name)| (lowercase_chars(name, name.is_ascii()), at))
            .collect();
        by_length.sort_unstable();
        let mut by_lowercase: Vec<(Box<str>, usize)> = names
            .iter()
            .enumerate()
            .map(|(at, name)| (name.to_lowercase().into_boxed_str(), at))
            .collect();
        by_lowercase.sort_unstable();
        KnownNames {
            names,
            by_length,
            by_lowercase,
        }
    }

    /// [`closest`] over the known names.
    pub fn closest(&self, name: &str) -> Option<&str> {
        let wanted = Wanted::new(name);
        // The edit distance is at least the difference in length, and at most 4 is close.
        let low = self
            .by_length
            .partition_point(|(length, _)| *length + MOST_EDITS < wanted.length);
        let high = self
            .by_length
            .partition_point(|(length, _)| *length <= wanted.length + MOST_EDITS);
        let near = self.by_length[low..high].iter().map(|(_, at)| *at);
        // A name it starts is close whatever its length.
        let prefixed = if wanted.prefix_counts() {
            let start = self
                .by_lowercase
                .partition_point(|(lower, _)| **lower < *wanted.lower);
            let starting = self.by_lowercase[start..]
                .iter()
                .take_while(|(lower, _)| lower.starts_with(&wanted.lower));
            Some(starting.map(|(_, at)| *at))
        } else {
            None
        };
        near.chain(prefixed.into_iter().flatten())
            .filter_map(|at| {
                let candidate = &*self.names[at];
                Some((wanted.distance(candidate)?, candidate.len(), at, candidate))
            })
            .min()
            .map(|(_, _, _, candidate)| candidate)
    }
}

/// The most edits that are still a slip.
const MOST_EDITS: usize = 4;

/// A mistyped name, ready to be compared.
struct Wanted<'n> {
    name: &'n str,
    lower: String,
    ascii: bool,
    /// Characters of the name as given: how many edits are a slip depends on it.
    chars: usize,
    /// Characters of `lower` (lowercasing may change the count: `İ` is two).
    length: usize,
}

impl<'n> Wanted<'n> {
    fn new(name: &'n str) -> Wanted<'n> {
        let lower = name.to_lowercase();
        let ascii = lower.is_ascii() && name.is_ascii();
        Wanted {
            name,
            chars: name.chars().count(),
            length: lower.chars().count(),
            lower,
            ascii,
        }
    }

    /// Whether a name it starts counts as one edit away (`copilot` of `copilot-chat`).
    fn prefix_counts(&self) -> bool {
        self.lower.len() >= 3
    }

    /// The distance to `candidate` when it is close enough to be a slip, else `None`.
    fn distance(&self, candidate: &str) -> Option<usize> {
        if candidate == self.name {
            return None;
        }
        let candidate_ascii = candidate.is_ascii();
        // At most a third of the longer name may differ, and never more than 4 edits.
        let longest = self.chars.max(chars(candidate, candidate_ascii));
        let most = (longest / 3).clamp(1, MOST_EDITS);
        let both_ascii = self.ascii && candidate_ascii;
        if self.prefix_counts() && starts_with_ignoring_case(candidate, &self.lower, both_ascii) {
            return Some(1);
        }
        // Cheap lower bounds of the distance (of the lowercased names) rule most candidates
        // out before it is computed.
        if self
            .length
            .abs_diff(lowercase_chars(candidate, candidate_ascii))
            > most
            || (both_ascii && bag_distance(&self.lower, candidate) > most)
        {
            return None;
        }
        let distance = strsim::osa_distance(&self.lower, &candidate.to_lowercase());
        (distance <= most).then_some(distance)
    }
}

/// How many characters `text` has (its length, when it is ASCII).
fn chars(text: &str, ascii: bool) -> usize {
    if ascii {
        text.len()
    } else {
        text.chars().count()
    }
}

/// How many characters `text` has once lowercased.
fn lowercase_chars(text: &str, ascii: bool) -> usize {
    if ascii {
        text.len()
    } else {
        text.chars().flat_map(char::to_lowercase).count()
    }
}

/// Whether lowercased `candidate` starts with `lower_prefix` (`both_ascii`: a byte compare).
fn starts_with_ignoring_case(candidate: &str, lower_prefix: &str, both_ascii: bool) -> bool {
    if both_ascii {
        candidate.len() >= lower_prefix.len()
            && candidate.as_bytes()[..lower_prefix.len()]
                .eq_ignore_ascii_case(lower_prefix.as_bytes())
    } else {
        candidate.to_lowercase().starts_with(lower_prefix)
    }
}

/// A lower bound of the edit distance of two ASCII names, case ignored: how many characters
/// one has that the other lacks. A swap of two letters keeps them all, and every other edit
/// changes at most one on each side.
fn bag_distance(lower: &str, candidate: &str) -> usize {
    let mut counts = [0i32; 128];
    for byte in lower.bytes() {
        counts[usize::from(byte & 0x7f)] += 1;
    }
    for byte in candidate.bytes() {
        counts[usize::from(byte.to_ascii_lowercase() & 0x7f)] -= 1;
    }
    // Each count is taken once, by the first byte that meets it.
    let (mut surplus, mut lack) = (0, 0);
    for byte in lower
        .bytes()
        .chain(candidate.bytes().map(|b| b.to_ascii_lowercase()))
    {
        let count = std::mem::take(&mut counts[usize::from(byte & 0x7f)]);
        surplus += count.max(0);
        lack += (-count).max(0);
    }
    usize::try_from(surplus.max(lack)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// `closest` as it was before the bounds and the index: every candidate compared.
    fn reference<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        let lower = name.to_lowercase();
        candidates
            .into_iter()
            .filter(|candidate| *candidate != name)
            .map(|candidate| {
                let other = candidate.to_lowercase();
                let distance = if other.starts_with(&lower) && lower.len() >= 3 {
                    1
                } else {
                    strsim::osa_distance(&lower, &other)
                };
                (distance, candidate)
            })
            .filter(|(distance, candidate)| {
                let longest = name.chars().count().max(candidate.chars().count());
                *distance <= (longest / 3).clamp(1, 4)
            })
            .min_by_key(|(distance, candidate)| (*distance, candidate.len()))
            .map(|(_, candidate)| candidate)
    }

    #[test]
    fn the_bound_never_exceeds_the_edit_distance() {
        let names = [
            "copilot-chat",
            "Copilot-Chat",
            "chatgpt",
            "chatpgt",
            "ai-123",
            "ai-124",
            "unknown-42",
            "lokal-sprakmodell",
            "maxDataLevel",
            "anna",
            "anan",
            "",
        ];
        for a in names {
            for b in names {
                let lower = a.to_lowercase();
                let distance = strsim::osa_distance(&lower, &b.to_lowercase());
                let bound = bag_distance(&lower, b);
                assert!(
                    bound <= distance,
                    "{a} ~ {b}: bound {bound} > distance {distance}"
                );
            }
        }
    }

    #[test]
    fn closest_and_known_names_suggest_what_comparing_every_name_suggests() {
        let mut names: Vec<String> = (0..120).map(|i| format!("ai-{i}")).collect();
        names.extend(
            [
                "copilot-chat",
                "Copilot",
                "chatgpt",
                "lokal-sprakmodell",
                "Språkmodell",
                "ÅÄÖ-tjänst",
                "anna",
                "ab",
                "a-very-long-system-name-for-prefixes",
                "İİİİİab",
                "\u{212A}elvin",
                "ΣΑΣ-tjänst",
            ]
            .map(String::from),
        );
        let known = KnownNames::new(names.iter().map(String::as_str));
        let mut asked: Vec<String> = names.clone();
        for name in &names {
            let chars: Vec<char> = name.chars().collect();
            for cut in 0..chars.len() {
                asked.push(chars[..cut].iter().collect());
                let mut swapped = chars.clone();
                if cut + 1 < chars.len() {
                    swapped.swap(cut, cut + 1);
                }
                asked.push(swapped.into_iter().collect());
                asked.push(name.to_uppercase());
                asked.push(format!("{name}x"));
            }
        }
        asked.extend(
            [
                "unknown-42",
                "",
                "språk",
                "a-very",
                "ÅÄÖ",
                "i\u{307}i\u{307}i\u{307}i\u{307}i\u{307}ax",
                "kel",
                "σας-tjänst",
            ]
            .map(String::from),
        );
        for name in &asked {
            let all = || names.iter().map(String::as_str);
            let expected = reference(name, all());
            assert_eq!(closest(name, all()), expected, "closest({name:?})");
            assert_eq!(
                known.closest(name),
                expected,
                "KnownNames::closest({name:?})"
            );
        }
    }

    #[test]
    fn a_thousand_far_candidates_give_no_suggestion_and_a_near_one_is_found() {
        let ids: Vec<String> = (0..1000).map(|i| format!("ai-{i}")).collect();
        assert_eq!(closest("unknown-42", ids.iter().map(String::as_str)), None);
        assert_eq!(
            closest("ai-42x", ids.iter().map(String::as_str)),
            Some("ai-42")
        );
        assert_eq!(closest("AI-4", ["ai-4x", "zz"]), Some("ai-4x"));
    }
}
