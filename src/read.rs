//! Reading input within its limit: a file, a pipe or a device is never read past the size it
//! may have, so an endless stream (`/dev/zero`, a symlink to it) stops at the limit.

use std::path::Path;

use crate::error::FieldError;

/// Reads at most `max_bytes` bytes of `reader` and one more: `None` when there was more (the
/// rest is never read, so an endless stream such as `/dev/zero` stops at the limit).
pub fn read_capped(
    reader: impl std::io::Read,
    max_bytes: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let limit = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    reader.take(limit).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= max_bytes).then_some(bytes))
}

/// What a text over `max_bytes` is told: its size when the file system knows it (a regular
/// file), else how far it was read (a device or a pipe, e.g. `/dev/zero`).
pub fn too_large(what: &str, path: &Path, size: Option<u64>, max_bytes: usize) -> String {
    match size {
        Some(size) if size > max_bytes as u64 => {
            format!("{what} is {size} bytes; the limit is {max_bytes} bytes")
        }
        _ => format!(
            "{what} `{}` goes on past the limit: reading stopped after {} bytes; the limit is {max_bytes} bytes",
            path.display(),
            max_bytes as u64 + 1
        ),
    }
}

/// Reads a UTF-8 text file of at most `max_bytes` bytes without reading past the limit: the
/// outer `Err` is an I/O error, the inner one a file too large or not UTF-8 (`what` names it).
pub fn read_text_file(
    path: &Path,
    what: &str,
    max_bytes: usize,
) -> std::io::Result<Result<String, FieldError>> {
    let file = std::fs::File::open(path)?;
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let Some(bytes) = read_capped(file, max_bytes)? else {
        return Ok(Err(FieldError::new(
            "",
            too_large(what, path, size, max_bytes),
        )));
    };
    Ok(utf8_text(bytes, what))
}

/// `bytes` as text, or where they stop being UTF-8 (`what` names the file's kind).
pub fn utf8_text(bytes: Vec<u8>, what: &str) -> Result<String, FieldError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = e
            .as_bytes()
            .get(..valid)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("");
        let (line, column) = crate::error::line_column(prefix, prefix.len());
        FieldError::new(
            "",
            format!(
                "not valid UTF-8 at line {line} column {column} (byte {valid}); a {what} file must be UTF-8 text"
            ),
        )
    })
}
