//! The policy document's own words, with each paragraph marked by its code, so that what a
//! rule says can be shown beside the sentence it comes from (the staff page's `/policy`, and
//! its answers).
//!
//! The format is a small subset of Markdown: `# ` the title, `## ` a section heading, `- ` a
//! list item, text lines joined into one paragraph up to a blank line, `<!-- … -->` comments
//! skipped. A heading or list item that ends with `{CODE}` (`{§3}`, `{U1}`) is the paragraph
//! of that code. Askersund's text is embedded ([`BUNDLED_POLICY_TEXT`]).
//!
//! ```
//! use aipolicy::policy_text::PolicyText;
//! use aipolicy::Paragraph;
//!
//! let text = PolicyText::bundled().unwrap();
//! assert_eq!(text.title.as_deref(), Some("Policy för ansvarsfull AI"));
//! assert!(text.words_of(Paragraph::U3).unwrap().starts_with("Publika AI får bara användas"));
//! assert!(text.words_of(Paragraph::S3).unwrap().contains("obehörig åtkomst"));
//!
//! let err = PolicyText::parse("## Rättvisa {§9}\n", "policy.md").unwrap_err();
//! assert_eq!(err.to_string(), "policy.md:1: unknown paragraph code `§9`; expected one of §1–§6, U0–U5");
//! ```

use std::fmt;

use crate::model::paragraph::Paragraph;

/// Askersund's "Policy för ansvarsfull AI", in the format above.
pub const BUNDLED_POLICY_TEXT: &str = include_str!("../../examples/askersund/policy.md");
/// Its display name.
pub const BUNDLED_POLICY_TEXT_NAME: &str = "examples/askersund/policy.md";
/// The largest policy text read: 1 MiB.
pub const MAX_POLICY_TEXT_BYTES: usize = 1024 * 1024;

/// A policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyText {
    /// The `# ` title, if any.
    pub title: Option<String>,
    /// Text before the first heading, then each section in order.
    pub sections: Vec<Section>,
}

/// A section: its heading (empty for text before the first) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The heading, without its code.
    pub heading: String,
    /// The paragraph the heading is marked with.
    pub paragraph: Option<Paragraph>,
    /// Its paragraphs and list items, in order.
    pub blocks: Vec<Block>,
}

/// A paragraph of text or a list item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph of text.
    Text(String),
    /// A list item, with the paragraph it is marked with.
    Item {
        /// Its text, without its code.
        text: String,
        /// Its code, if any.
        paragraph: Option<Paragraph>,
    },
}

/// A policy text that cannot be read: the file, the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyTextError {
    /// The file's display name.
    pub file: String,
    /// 1-based line; 0 for the whole file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "policy text {}: {}", self.file, self.message),
            line => write!(f, "{}:{line}: {}", self.file, self.message),
        }
    }
}

impl PolicyText {
    /// The embedded Askersund text.
    pub fn bundled() -> Result<PolicyText, PolicyTextError> {
        PolicyText::parse(BUNDLED_POLICY_TEXT, BUNDLED_POLICY_TEXT_NAME)
    }

    /// Reads a policy text file (UTF-8, at most [`MAX_POLICY_TEXT_BYTES`]).
    pub fn from_file(path: &std::path::Path) -> Result<PolicyText, PolicyTextError> {
        let name = path.display().to_string();
        let error = |line: usize, message: String| PolicyTextError {
            file: name.clone(),
            line,
            message,
        };
        let text = crate::io::read::read_text_file(path, "policy text", MAX_POLICY_TEXT_BYTES)
            .map_err(|e| error(0, format!("cannot be read: {e}")))?
            .map_err(|e| error(0, e.message))?;
        PolicyText::parse(&text, &name)
    }

    /// Parses the text; `file` names it in errors. A code that is not one of §1–§6, U0–U5, or
    /// that marks two places, is an error at its line.
    pub fn parse(text: &str, file: &str) -> Result<PolicyText, PolicyTextError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut parsed = PolicyText {
            title: None,
            sections: Vec::new(),
        };
        let mut seen: Vec<(Paragraph, usize)> = Vec::new();
        let mut open = Open::None;
        let mut in_comment = false;
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let error = |message: String| PolicyTextError {
                file: file.to_string(),
                line: number,
                message,
            };
            let line = raw.trim();
            if in_comment {
                in_comment = !line.contains("-->");
                continue;
            }
            if line.starts_with("<!--") {
                in_comment = !line.contains("-->");
                continue;
            }
            let mut mark = |code: Option<Paragraph>| -> Result<Option<Paragraph>, PolicyTextError> {
                if let Some(code) = code {
                    if let Some((_, first)) = seen.iter().find(|(p, _)| *p == code) {
                        return Err(error(format!(
                            "paragraph `{code}` is marked twice (first at line {first})"
                        )));
                    }
                    seen.push((code, number));
                }
                Ok(code)
            };
            if line.is_empty() {
                parsed.close(&mut open);
            } else if let Some(title) = line.strip_prefix("# ") {
                parsed.close(&mut open);
                parsed.title = Some(title.trim().to_string());
            } else if let Some(heading) = line.strip_prefix("## ") {
                parsed.close(&mut open);
                let (heading, code) = split_code(heading).map_err(&error)?;
                let paragraph = mark(code)?;
                parsed.sections.push(Section {
                    heading,
                    paragraph,
                    blocks: Vec::new(),
                });
            } else if let Some(item) = line.strip_prefix("- ") {
                parsed.close(&mut open);
                open = Open::Item(item.trim().to_string());
            } else {
                match &mut open {
                    Open::None => open = Open::Text(line.to_string()),
                    Open::Text(text) | Open::Item(text) => {
                        text.push(' ');
                        text.push_str(line);
                    }
                }
            }
            if let Open::Item(text) = &open {
                // An item's code ends its text, which may run over several lines.
                if let (text, Some(code)) = split_code(text).map_err(error)? {
                    let paragraph = mark(Some(code))?;
                    parsed.push(Block::Item { text, paragraph });
                    open = Open::None;
                }
            }
        }
        if in_comment {
            return Err(PolicyTextError {
                file: file.to_string(),
                line: text.lines().count(),
                message: "a comment `<!--` is not closed with `-->`".into(),
            });
        }
        parsed.close(&mut open);
        Ok(parsed)
    }

    /// The words of a paragraph: the text of the section it marks (its list items aside), or
    /// the list item it marks. `None` when the text does not mark it.
    pub fn words_of(&self, paragraph: Paragraph) -> Option<String> {
        for section in &self.sections {
            if section.paragraph == Some(paragraph) {
                let texts: Vec<&str> = section
                    .blocks
                    .iter()
                    .filter_map(|b| match b {
                        Block::Text(text) => Some(text.as_str()),
                        Block::Item { .. } => None,
                    })
                    .collect();
                return Some(texts.join("\n\n"));
            }
            for block in &section.blocks {
                if let Block::Item {
                    text,
                    paragraph: Some(p),
                } = block
                {
                    if *p == paragraph {
                        return Some(text.clone());
                    }
                }
            }
        }
        None
    }

    /// The heading of the section a paragraph is in (its own, or its list item's).
    pub fn heading_of(&self, paragraph: Paragraph) -> Option<&str> {
        self.sections
            .iter()
            .find(|s| {
                s.paragraph == Some(paragraph)
                    || s.blocks.iter().any(
                        |b| matches!(b, Block::Item { paragraph: Some(p), .. } if *p == paragraph),
                    )
            })
            .map(|s| s.heading.as_str())
    }

    /// The paragraphs the text marks, in document order.
    pub fn paragraphs(&self) -> Vec<Paragraph> {
        let mut codes = Vec::new();
        for section in &self.sections {
            codes.extend(section.paragraph);
            for block in &section.blocks {
                if let Block::Item {
                    paragraph: Some(p), ..
                } = block
                {
                    codes.push(*p);
                }
            }
        }
        codes
    }

    fn push(&mut self, block: Block) {
        if self.sections.is_empty() {
            self.sections.push(Section {
                heading: String::new(),
                paragraph: None,
                blocks: Vec::new(),
            });
        }
        if let Some(section) = self.sections.last_mut() {
            section.blocks.push(block);
        }
    }

    fn close(&mut self, open: &mut Open) {
        match std::mem::replace(open, Open::None) {
            Open::None => {}
            Open::Text(text) => self.push(Block::Text(text)),
            Open::Item(text) => self.push(Block::Item {
                text,
                paragraph: None,
            }),
        }
    }
}

/// What is being read: nothing, a paragraph of text, or a list item.
enum Open {
    None,
    Text(String),
    Item(String),
}

/// A code in braces is short and has no spaces; anything else in braces is text.
fn looks_like_code(text: &str) -> bool {
    !text.is_empty() && text.chars().count() <= 4 && !text.contains(' ')
}

/// A heading and its `{CODE}`, when it ends with one.
fn split_code(heading: &str) -> Result<(String, Option<Paragraph>), String> {
    let heading = heading.trim();
    if let Some(rest) = heading.strip_suffix('}') {
        if let Some(at) = rest.rfind('{') {
            let code = &rest[at + 1..];
            if looks_like_code(code) {
                let paragraph = code.parse::<Paragraph>().map_err(|e| e.to_string())?;
                return Ok((rest[..at].trim_end().to_string(), Some(paragraph)));
            }
        }
    }
    Ok((heading.to_string(), None))
}

impl fmt::Display for PolicyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(title) = &self.title {
            writeln!(f, "# {title}")?;
        }
        for section in &self.sections {
            if !section.heading.is_empty() {
                writeln!(f, "\n## {}", section.heading)?;
            }
            for block in &section.blocks {
                match block {
                    Block::Text(text) => writeln!(f, "\n{text}")?,
                    Block::Item { text, .. } => writeln!(f, "- {text}")?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_text_marks_every_paragraph_once_in_document_order() {
        let text = PolicyText::bundled().unwrap();
        assert_eq!(text.paragraphs(), Paragraph::ALL.to_vec());
        assert_eq!(
            text.heading_of(Paragraph::U3),
            Some("Användning av AI i tjänsten")
        );
        assert!(text
            .words_of(Paragraph::U0)
            .unwrap()
            .starts_with("Gäller för anställd personal"));
        // Every word of the document is kept (its layout aside).
        let original = include_str!("../../examples/askersund/policy.md");
        assert!(original.contains("www.askersund.se"));
    }

    #[test]
    fn errors_name_the_line() {
        let err = PolicyText::parse("# T\n\n## A {§1}\n\n- x {§1}\n", "p.md").unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.md:5: paragraph `§1` is marked twice (first at line 3)"
        );
        let err = PolicyText::parse("<!-- open\n\n## A\n", "p.md").unwrap_err();
        assert_eq!(err.line, 3);
        // Braces that are not a code are text.
        let text = PolicyText::parse("## A {not a code}\n- an item {with text}\n", "p.md").unwrap();
        assert_eq!(text.sections[0].heading, "A {not a code}");
        assert_eq!(text.paragraphs(), Vec::<Paragraph>::new());
    }

    #[test]
    fn an_item_may_run_over_lines() {
        let text =
            PolicyText::parse("## A\n- first line\n  second line {U1}\n- other\n", "p.md").unwrap();
        assert_eq!(
            text.words_of(Paragraph::U1).as_deref(),
            Some("first line second line")
        );
        assert_eq!(text.sections[0].blocks.len(), 2);
    }
}
