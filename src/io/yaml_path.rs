//! Where in a YAML file a dotted path (`aiSystems[3].maxDataLevel`) is written: YAML values
//! keep no positions once parsed, so errors found on the parsed value are located in the text.

use miette::SourceSpan;

/// The line of block-style YAML `text` that a dotted path such as `aiSystems[3].maxDataLevel`
/// names, as a span over that line (the deepest part of the path that could be found).
pub fn locate_yaml_path(text: &str, path: &str) -> Option<SourceSpan> {
    if path.is_empty() {
        return None;
    }
    // (indent, offset of the first non-space character, trimmed content) of each line.
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end();
        let trimmed = content.trim_start();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            let indent = content.len() - trimmed.len();
            lines.push((indent, offset + indent, trimmed));
        }
        offset += line.len();
    }
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            segments.push(Err(key));
        }
        for index in rest.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse::<usize>() {
                segments.push(Ok(i));
            }
        }
    }
    // Search lines[from..to] for each segment in turn, narrowing to the block it opens.
    let (mut from, mut to) = (0, lines.len());
    let mut found: Option<usize> = None;
    for segment in segments {
        let line = |i: usize| lines.get(i).copied().unwrap_or((0, 0, ""));
        let hit = match segment {
            Err(key) => (from..to).find(|&i| {
                let t = line(i).2;
                let t = t.strip_prefix("- ").unwrap_or(t);
                t.starts_with(&format!("{key}:"))
                    || t.contains(&format!("{{{key}:"))
                    || t.contains(&format!(", {key}:"))
                    || t.contains(&format!("{{ {key}:"))
            }),
            Ok(index) => {
                let item_indent = (from..to)
                    .map(line)
                    .find(|l| l.2.starts_with('-'))
                    .map(|l| l.0);
                (from..to)
                    .filter(|&i| Some(line(i).0) == item_indent && line(i).2.starts_with('-'))
                    .nth(index)
            }
        };
        let Some(i) = hit else { break };
        let (indent, _, content) = line(i);
        let is_item = content.starts_with('-');
        // A list item's block: lines indented deeper. A key's: deeper lines, and list items at
        // its own indent (`key:` followed by `- …` without extra indent is valid YAML).
        let end = (i + 1..to)
            .find(|&j| {
                let (d, _, t) = line(j);
                d < indent || (d == indent && (is_item || !t.starts_with('-')))
            })
            .unwrap_or(to);
        found = Some(i);
        // The next segment may sit on this very line (`- id: x`, or a flow mapping).
        from = i;
        to = end;
    }
    let (_, start, content) = lines.get(found?)?;
    Some((*start, content.len()).into())
}

/// The 1-based line of `text` that `path` names, where it can be found.
pub fn line_of_yaml_path(text: &str, path: &str) -> Option<usize> {
    let span = locate_yaml_path(text, path)?;
    Some(crate::diagnostics::error::line_column(text, span.offset()).0)
}
