//! Reading input within its limit: a file, a pipe or a device is never read past the size it
//! may have, so an endless stream (`/dev/zero`, a symlink to it) stops at the limit.

use std::path::{Path, PathBuf};

use crate::diagnostics::error::FieldError;

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
        let (line, column) = crate::diagnostics::error::line_column(prefix, prefix.len());
        FieldError::new(
            "",
            format!(
                "not valid UTF-8 at line {line} column {column} (byte {valid}); a {what} file must be UTF-8 text"
            ),
        )
    })
}

/// `path` itself when it is not a folder; else every file under it, in any depth, with one of
/// `extensions`: in name order within each folder, the files of a subfolder where its name sorts.
/// Symbolic links are followed; a loop of them is an error, not an endless walk. `Err` names
/// the path that could not be read.
pub fn files_under(
    path: &Path,
    extensions: &[&str],
) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
    let mut files = Vec::new();
    let walk = walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walk {
        let entry = entry.map_err(|e| {
            let at = e.path().unwrap_or(path).to_path_buf();
            let source = match (e.loop_ancestor(), e.path()) {
                (Some(ancestor), Some(link)) => std::io::Error::other(format!(
                    "a loop of symbolic links: `{}` leads back to `{}`",
                    link.display(),
                    ancestor.display()
                )),
                _ => e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("cannot walk the folder")),
            };
            (at, source)
        })?;
        let wanted = entry.depth() == 0
            || entry
                .path()
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| extensions.contains(&x));
        if wanted && !entry.file_type().is_dir() {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn files_under_a_folder_in_name_order_with_their_extensions() {
        let dir = std::env::temp_dir().join(format!("aipolicy-files-under-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for file in [
            "b.cedar",
            "a/z.cedar",
            "a/y.txt",
            "c.cedar/d.cedar",
            "a.cedar",
        ] {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let names = |files: Vec<PathBuf>| -> Vec<String> {
            files
                .iter()
                .map(|f| f.strip_prefix(&dir).unwrap().display().to_string())
                .collect()
        };
        let found = files_under(&dir, &["cedar"]).unwrap();
        assert_eq!(
            names(found),
            ["a/z.cedar", "a.cedar", "b.cedar", "c.cedar/d.cedar"]
        );
        // A file is taken as given, whatever its extension.
        let given = files_under(&dir.join("a/y.txt"), &["cedar"]).unwrap();
        assert_eq!(names(given), ["a/y.txt"]);
        let (at, error) = files_under(&dir.join("missing"), &["cedar"]).unwrap_err();
        assert_eq!(at, dir.join("missing"));
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&dir, dir.join("a/loop")).unwrap();
            let (at, error) = files_under(&dir, &["cedar"]).unwrap_err();
            assert_eq!(at, dir.join("a/loop"));
            assert!(
                error.to_string().starts_with("a loop of symbolic links"),
                "{error}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
