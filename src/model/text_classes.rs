//! Which of the register's data classes the information found in a text belongs to: the
//! built-in finders ([`crate::text`]) by the kinds each class `finds`, and the municipality's
//! own `patterns` and `words`, compiled once when the register is loaded.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use regex::{Regex, RegexBuilder};

use crate::diagnostics::error::FieldError;
use crate::model::decision::FoundInText;
use crate::model::register::DataClass;
use crate::text::Kind;

/// The most a register pattern may compile to: 1 MiB. A longer or more repetitive pattern is a
/// load error that names it, before any text is searched with it.
pub const MAX_PATTERN_COMPILED_BYTES: usize = 1024 * 1024;

/// The kind a decision's `found` gives for a match of a register's `patterns`.
pub const PATTERN_KIND: &str = "pattern";
/// The kind a decision's `found` gives for a match of a register's `words`.
pub const WORD_KIND: &str = "word";

/// The register's mapping from what is found in a text to its data classes.
#[derive(Debug, Clone, Default)]
pub struct TextClasses {
    /// The class that names each built-in kind in `finds`.
    by_kind: HashMap<Kind, Arc<str>>,
    /// The register's own finders: one per class and key (its patterns, its words).
    own: Vec<OwnFinder>,
}

/// One finding before its offsets are counted in characters: kind, class, byte range.
type Span = (Cow<'static, str>, Option<Arc<str>>, std::ops::Range<usize>);

#[derive(Debug, Clone)]
struct OwnFinder {
    kind: &'static str,
    class: Arc<str>,
    regex: Regex,
}

/// Equal when they map the same kinds to the same classes and compiled the same patterns.
impl PartialEq for TextClasses {
    fn eq(&self, other: &Self) -> bool {
        self.by_kind == other.by_kind
            && self.own.len() == other.own.len()
            && self.own.iter().zip(&other.own).all(|(a, b)| {
                a.kind == b.kind && a.class == b.class && a.regex.as_str() == b.regex.as_str()
            })
    }
}

impl Eq for TextClasses {}

/// What was found in a query's text, each with the class it raised, and the kinds found that
/// no class of the register names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextFindings {
    /// Everything found, message by message, in text order.
    pub found: Vec<FoundInText>,
    /// The kinds found that the register maps to no class (by [`Kind::name`]), without repeats.
    pub unmapped: Vec<&'static str>,
}

impl TextFindings {
    /// The classes the findings raise, without repeats, in the order first found.
    pub fn classes(&self) -> Vec<&str> {
        let mut classes: Vec<&str> = Vec::new();
        for class in self.found.iter().filter_map(|f| f.class.as_deref()) {
            if !classes.contains(&class) {
                classes.push(class);
            }
        }
        classes
    }
}

impl TextClasses {
    /// Compiles the mapping of `classes`; each problem names its path in the register
    /// (`dataClasses[2].patterns[0]`).
    pub(crate) fn compile(classes: &[DataClass]) -> Result<TextClasses, Vec<FieldError>> {
        let mut problems = Vec::new();
        let mut mapping = TextClasses::default();
        for (i, class) in classes.iter().enumerate() {
            let id: Arc<str> = class.id.as_str().into();
            for (j, name) in class.finds.iter().enumerate() {
                let path = format!("dataClasses[{i}].finds[{j}]");
                match Kind::from_name(name) {
                    None => problems.push(FieldError::new(
                        path,
                        format!(
                            "unknown kind `{name}`; expected one of {}",
                            Kind::ALL.map(Kind::name).join(", ")
                        ),
                    )),
                    Some(kind) => {
                        if let Some(other) = mapping.by_kind.get(&kind) {
                            problems.push(FieldError::new(
                                path,
                                format!(
                                    "`{name}` is already found by data class `{other}`; name each kind in one class (the strictest it belongs to)"
                                ),
                            ));
                        } else {
                            mapping.by_kind.insert(kind, id.clone());
                        }
                    }
                }
            }
            let mut patterns = Vec::new();
            for (j, pattern) in class.patterns.iter().enumerate() {
                match compile_one(pattern) {
                    Ok(()) => patterns.push(format!("(?:{pattern})")),
                    Err(message) => problems.push(FieldError::new(
                        format!("dataClasses[{i}].patterns[{j}]"),
                        message,
                    )),
                }
            }
            if !patterns.is_empty() && problems.is_empty() {
                match build(&patterns.join("|")) {
                    Ok(regex) => mapping.own.push(OwnFinder {
                        kind: PATTERN_KIND,
                        class: id.clone(),
                        regex,
                    }),
                    Err(message) => problems.push(FieldError::new(
                        format!("dataClasses[{i}].patterns"),
                        format!("the patterns together: {message}"),
                    )),
                }
            }
            for (j, word) in class.words.iter().enumerate() {
                if word.trim() != word || !word.chars().next().is_some_and(char::is_alphanumeric) {
                    problems.push(FieldError::new(
                        format!("dataClasses[{i}].words[{j}]"),
                        format!(
                            "`{word}` does not start with a letter or digit, or has spaces around it; a word is found where a word of the text starts"
                        ),
                    ));
                }
            }
            if !class.words.is_empty() {
                let words: Vec<String> = class.words.iter().map(|w| regex::escape(w)).collect();
                match build(&format!(r"(?i)\b(?:{})[\w-]*", words.join("|"))) {
                    Ok(regex) => mapping.own.push(OwnFinder {
                        kind: WORD_KIND,
                        class: id.clone(),
                        regex,
                    }),
                    Err(message) => problems.push(FieldError::new(
                        format!("dataClasses[{i}].words"),
                        format!("the words together: {message}"),
                    )),
                }
            }
        }
        if problems.is_empty() {
            Ok(mapping)
        } else {
            Err(problems)
        }
    }

    /// The class that names `kind` in its `finds`.
    pub fn class_of(&self, kind: Kind) -> Option<&str> {
        self.by_kind.get(&kind).map(|class| &**class)
    }

    /// The built-in kinds no class names.
    pub fn unmapped_kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|kind| !self.by_kind.contains_key(kind))
            .collect()
    }

    /// Everything found in `texts` (a query's `text`: one string or a chat's messages), with
    /// the class each raises. Offsets are in characters (Unicode scalar values) of the string
    /// they are in; `message` is the string's index when there are several.
    pub fn find(&self, texts: &[String]) -> TextFindings {
        let mut findings = TextFindings::default();
        let several = texts.len() > 1;
        for (message, text) in texts.iter().enumerate() {
            let mut spans: Vec<Span> = Vec::new();
            for found in crate::text::find(text) {
                let class = self.by_kind.get(&found.kind).cloned();
                if class.is_none() && !findings.unmapped.contains(&found.kind.name()) {
                    findings.unmapped.push(found.kind.name());
                }
                spans.push((Cow::Borrowed(found.kind.name()), class, found.span));
            }
            for own in &self.own {
                for m in own.regex.find_iter(text) {
                    if !m.is_empty() {
                        spans.push((Cow::Borrowed(own.kind), Some(own.class.clone()), m.range()));
                    }
                }
            }
            spans.sort_by_key(|(_, _, span)| (span.start, span.end));
            let chars = CharOffsets::of(
                text,
                spans.iter().flat_map(|(_, _, span)| [span.start, span.end]),
            );
            for (kind, class, span) in spans {
                findings.found.push(FoundInText {
                    kind,
                    message: several.then_some(message),
                    start: chars.at(span.start),
                    end: chars.at(span.end),
                    class,
                });
            }
        }
        findings
    }
}

/// Compiles one pattern alone, for its own error: invalid, too large, or matching the empty
/// text (which would raise every text to the class).
fn compile_one(pattern: &str) -> Result<(), String> {
    let regex = build(pattern)?;
    if regex.is_match("") {
        return Err(format!(
            "pattern `{pattern}` matches the empty text, so it would find the class in every text; make it match at least one character"
        ));
    }
    Ok(())
}

fn build(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(MAX_PATTERN_COMPILED_BYTES)
        .dfa_size_limit(MAX_PATTERN_COMPILED_BYTES)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => format!(
                "pattern compiles to more than {limit} bytes; the limit is {MAX_PATTERN_COMPILED_BYTES} bytes (1 MiB): make it shorter or less repetitive"
            ),
            other => format!("invalid pattern: {}", other.to_string().replace('\n', " ")),
        })
}

/// Byte offsets of one text turned into character offsets: the offsets sorted, the text
/// walked once to count the characters before each (however many findings overlap).
struct CharOffsets {
    /// Each byte offset with the characters before it, in increasing order.
    counted: Vec<(usize, usize)>,
}

impl CharOffsets {
    fn of(text: &str, offsets: impl Iterator<Item = usize>) -> CharOffsets {
        let mut bytes: Vec<usize> = offsets.collect();
        bytes.sort_unstable();
        bytes.dedup();
        let mut counted = Vec::with_capacity(bytes.len());
        let (mut byte, mut chars) = (0, 0);
        for offset in bytes {
            chars += text.get(byte..offset).map_or(0, |t| t.chars().count());
            byte = offset;
            counted.push((offset, chars));
        }
        CharOffsets { counted }
    }

    fn at(&self, byte: usize) -> usize {
        self.counted
            .binary_search_by_key(&byte, |&(offset, _)| offset)
            .ok()
            .and_then(|i| self.counted.get(i))
            .map_or(0, |&(_, chars)| chars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::register::PersonalData;

    fn class(id: &str) -> DataClass {
        DataClass {
            id: id.into(),
            name: id.into(),
            level: 2,
            personal_data: PersonalData::Ordinary,
            secrecy: false,
            units: None,
            finds: Vec::new(),
            patterns: Vec::new(),
            words: Vec::new(),
            description: None,
        }
    }

    #[test]
    fn a_kind_named_twice_an_unknown_kind_and_a_bad_pattern_are_each_named_by_path() {
        let mut a = class("a");
        a.finds = vec!["email".into(), "e-mail".into()];
        let mut b = class("b");
        b.finds = vec!["email".into()];
        b.patterns = vec!["SOC (".into(), "x*".into(), "ok\\d".into()];
        let problems = TextClasses::compile(&[a, b]).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "dataClasses[0].finds[1]",
                "dataClasses[1].finds[0]",
                "dataClasses[1].patterns[0]",
                "dataClasses[1].patterns[1]"
            ]
        );
        assert!(problems[1]
            .message
            .contains("already found by data class `a`"));
        assert!(problems[3].message.contains("matches the empty text"));
    }

    #[test]
    fn a_word_that_cannot_start_a_word_is_refused() {
        let mut a = class("a");
        a.words = vec!["  ".into(), " lvu".into(), "-x".into(), "LVU".into()];
        let problems = TextClasses::compile(&[a]).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "dataClasses[0].words[0]",
                "dataClasses[0].words[1]",
                "dataClasses[0].words[2]"
            ]
        );
    }

    #[test]
    fn a_pattern_that_compiles_too_large_is_refused_with_the_limit() {
        let mut a = class("a");
        a.patterns = vec![r"\w{1000}\w{1000}".into()];
        let problems = TextClasses::compile(&[a]).unwrap_err();
        assert!(
            problems[0].message.contains("1 MiB"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn own_patterns_and_words_find_their_class_with_character_offsets() {
        let mut a = class("soc");
        a.patterns = vec![r"SOC \d{4}/\d+".into()];
        a.words = vec!["orosanmälan".into()];
        a.finds = vec!["personnummer".into()];
        let mapping = TextClasses::compile(&[a]).unwrap();
        let text = "Åäö SOC 2026/123: Orosanmälan om 19811218-9876, tel 070-123 45 67.";
        let findings = mapping.find(&[text.to_string()]);
        let got: Vec<(&str, usize, usize, Option<&str>)> = findings
            .found
            .iter()
            .map(|f| (&*f.kind, f.start, f.end, f.class.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("pattern", 4, 16, Some("soc")),
                ("word", 18, 29, Some("soc")),
                ("personnummer", 33, 46, Some("soc")),
                ("phone", 52, 65, None),
            ]
        );
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(chars[4..16].iter().collect::<String>(), "SOC 2026/123");
        assert_eq!(findings.unmapped, ["phone"]);
        assert_eq!(findings.classes(), ["soc"]);
        assert!(findings.found.iter().all(|f| f.message.is_none()));
    }

    #[test]
    fn several_messages_are_told_apart() {
        let mut a = class("a");
        a.finds = vec!["email".into()];
        let mapping = TextClasses::compile(&[a]).unwrap();
        let findings = mapping.find(&["hej".into(), "skriv till a@b.se".into()]);
        assert_eq!(findings.found.len(), 1);
        assert_eq!(findings.found[0].message, Some(1));
        assert_eq!((findings.found[0].start, findings.found[0].end), (11, 17));
    }
}
