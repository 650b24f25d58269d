//! `jsonl:PATH`: the log as JSON Lines, one record a line, rotated.
//!
//! PATH is the file written now. When it grows past the rotation size (`--log-rotate-mib`),
//! it is renamed `PATH.000001` (then `.000002`, …) and a new PATH is begun; the chain goes on
//! across the files, so the files are read in number order and PATH last. A purge deletes
//! whole rotated files whose every record is older than the retention, and writes the chain's
//! new start into `PATH.anchor`. A JSON Lines log has one writer: `PATH.lock` is held while
//! it is open, and a second writer is refused. A line cut off by a crash (an unfinished last
//! line, which was never reported durable) is removed when the log is opened again.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use aipolicy::log::{Anchor, DecisionRecord, LogError, GENESIS};
use serde::{Deserialize, Serialize};

use crate::{ReadRecord, Source, Store, TimeRange, Unreadable};

fn error(path: &Path, what: &str, e: impl std::fmt::Display) -> LogError {
    LogError(format!("jsonl:{}: {what}: {e}", path.display()))
}

/// `PATH.anchor`: where the chain starts after a purge.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnchorFile {
    prev_hash: String,
    purged: u64,
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The largest anchor file read.
const MAX_ANCHOR_BYTES: usize = 64 * 1024;

fn read_anchor(path: &Path) -> Result<Anchor, LogError> {
    let file = sidecar(path, ".anchor");
    // Read within a limit, as every input is (an anchor is two short fields).
    match aipolicy::io::read::read_text_file(&file, "anchor", MAX_ANCHOR_BYTES) {
        Ok(Err(problem)) => Err(LogError(format!(
            "`{}`: {}",
            file.display(),
            problem.message
        ))),
        Ok(Ok(text)) => {
            let anchor: AnchorFile =
                serde_json::from_str(&text).map_err(|e| error(&file, "not an anchor file", e))?;
            Ok(Anchor {
                prev_hash: anchor.prev_hash,
                purged: anchor.purged,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Anchor {
            prev_hash: GENESIS.to_string(),
            purged: 0,
        }),
        Err(e) => Err(error(&file, "cannot read", e)),
    }
}

/// The rotated files of `path`, oldest first, with their numbers.
fn rotated(path: &Path) -> Result<Vec<(u32, PathBuf)>, LogError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err(error(path, "not a file name", "expected a UTF-8 file name"));
    };
    let prefix = format!("{name}.");
    let mut files = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(error(&dir, "cannot list", e)),
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        if rest.len() == 6 {
            if let Ok(number) = rest.parse::<u32>() {
                files.push((number, entry.path()));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The last line of a file (without its line break), read from the end, as bytes: a line cut
/// off inside a character is measured as it is on disk.
fn last_line(file: &Path) -> Result<Option<Vec<u8>>, LogError> {
    let mut handle = match File::open(file) {
        Ok(handle) => handle,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(error(file, "cannot read", e)),
    };
    let len = handle
        .metadata()
        .map_err(|e| error(file, "cannot read", e))?
        .len();
    let mut tail = Vec::new();
    let mut start = len;
    // Records are a few hundred bytes; read back in growing steps until a line break.
    let mut step = 4096u64;
    loop {
        start = start.saturating_sub(step);
        handle
            .seek(SeekFrom::Start(start))
            .map_err(|e| error(file, "cannot read", e))?;
        tail.clear();
        Read::by_ref(&mut handle)
            .take(len - start)
            .read_to_end(&mut tail)
            .map_err(|e| error(file, "cannot read", e))?;
        let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
        if let Some(at) = body.iter().rposition(|&b| b == b'\n') {
            return Ok(Some(body[at + 1..].to_vec()));
        }
        if start == 0 {
            return Ok((!body.is_empty()).then(|| body.to_vec()));
        }
        step *= 4;
    }
}

/// The writer of a JSON Lines log.
#[derive(Debug)]
pub struct JsonlStore {
    path: PathBuf,
    file: File,
    size: u64,
    rotate_at: u64,
    last_hash: String,
    _lock: File,
}

impl JsonlStore {
    /// Opens (or begins) the log at `path`, rotating past `rotate_at` bytes.
    pub fn open(path: &Path, rotate_at: u64) -> Result<JsonlStore, LogError> {
        let lock_path = sidecar(path, ".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| error(&lock_path, "cannot create", e))?;
        lock.try_lock().map_err(|_| {
            error(
                path,
                "another process writes this log",
                format!("`{}` is held; a JSON Lines log has one writer (use sqlite: or postgres:// for several)", lock_path.display()),
            )
        })?;
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| error(path, "cannot open or create", e))?;
        cut_unfinished_line(path, &file)?;
        let size = file
            .metadata()
            .map_err(|e| error(path, "cannot read", e))?
            .len();
        let mut last = last_line(path)?;
        if last.is_none() {
            if let Some((_, newest)) = rotated(path)?.pop() {
                last = last_line(&newest)?;
            }
        }
        let last_hash = match last {
            Some(line) => {
                serde_json::from_slice::<DecisionRecord>(&line)
                    .map_err(|e| {
                        error(
                            path,
                            "its last record cannot be read, so the chain cannot go on",
                            e,
                        )
                    })?
                    .hash
            }
            None => read_anchor(path)?.prev_hash,
        };
        Ok(JsonlStore {
            path: path.to_path_buf(),
            file,
            size,
            rotate_at,
            last_hash,
            _lock: lock,
        })
    }

    fn rotate(&mut self) -> Result<(), LogError> {
        let next = rotated(&self.path)?.last().map_or(1, |(n, _)| n + 1);
        let target = sidecar(&self.path, &format!(".{next:06}"));
        self.file
            .sync_all()
            .map_err(|e| error(&self.path, "cannot sync", e))?;
        std::fs::rename(&self.path, &target).map_err(|e| error(&target, "cannot rotate to", e))?;
        self.file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| error(&self.path, "cannot begin", e))?;
        self.size = 0;
        Ok(())
    }
}

/// Removes an unfinished last line (a write cut off by a crash).
fn cut_unfinished_line(path: &Path, file: &File) -> Result<(), LogError> {
    let len = file
        .metadata()
        .map_err(|e| error(path, "cannot read", e))?
        .len();
    if len == 0 {
        return Ok(());
    }
    let mut reader = File::open(path).map_err(|e| error(path, "cannot read", e))?;
    let mut last = [0u8; 1];
    reader
        .seek(SeekFrom::Start(len - 1))
        .and_then(|_| reader.read_exact(&mut last))
        .map_err(|e| error(path, "cannot read", e))?;
    if last[0] == b'\n' {
        return Ok(());
    }
    let keep = match last_line(path)? {
        Some(line) => len - line.len() as u64,
        None => 0,
    };
    tracing::warn!(log = %path.display(), bytes = len - keep, "decision log: removing an unfinished last line (a write cut off by a crash; it was never reported durable)");
    file.set_len(keep)
        .map_err(|e| error(path, "cannot remove an unfinished line", e))
}

impl Store for JsonlStore {
    fn append(&mut self, records: &mut [DecisionRecord], sync: bool) -> Result<(), LogError> {
        if self.size >= self.rotate_at {
            self.rotate()?;
        }
        let mut bytes = Vec::with_capacity(records.len() * 512);
        let mut prev = self.last_hash.clone();
        for record in records.iter_mut() {
            record.link(&prev);
            serde_json::to_writer(&mut bytes, &*record)
                .map_err(|e| error(&self.path, "cannot write", e))?;
            bytes.push(b'\n');
            prev.clone_from(&record.hash);
        }
        self.file
            .write_all(&bytes)
            .map_err(|e| error(&self.path, "cannot write", e))?;
        if sync {
            self.file
                .sync_data()
                .map_err(|e| error(&self.path, "cannot sync", e))?;
        }
        self.size += bytes.len() as u64;
        self.last_hash = prev;
        Ok(())
    }

    fn purge_before(&mut self, cutoff: &str) -> Result<u64, LogError> {
        let mut anchor = read_anchor(&self.path)?;
        let mut purged = 0;
        for (_, file) in rotated(&self.path)? {
            let Some(line) = last_line(&file)? else {
                continue;
            };
            let last: DecisionRecord =
                serde_json::from_slice(&line).map_err(|e| error(&file, "cannot read", e))?;
            if last.time.as_str() >= cutoff {
                break;
            }
            let lines =
                BufReader::new(File::open(&file).map_err(|e| error(&file, "cannot read", e))?)
                    .lines()
                    .count() as u64;
            anchor.prev_hash = last.hash;
            anchor.purged += lines;
            // The new start is written down before the file goes: a purge cut off between the
            // two leaves a file the anchor already skips, never a chain with no start.
            let anchor_path = sidecar(&self.path, ".anchor");
            let temporary = sidecar(&self.path, ".anchor.new");
            let text = serde_json::to_string(&AnchorFile {
                prev_hash: anchor.prev_hash.clone(),
                purged: anchor.purged,
            })
            .map_err(|e| error(&anchor_path, "cannot write", e))?;
            std::fs::write(&temporary, text)
                .and_then(|()| std::fs::rename(&temporary, &anchor_path))
                .map_err(|e| error(&anchor_path, "cannot write", e))?;
            std::fs::remove_file(&file).map_err(|e| error(&file, "cannot purge", e))?;
            purged += lines;
        }
        Ok(purged)
    }
}

/// A reader of a JSON Lines log: its rotated files in order, then PATH.
#[derive(Debug)]
pub struct JsonlSource {
    path: PathBuf,
}

impl JsonlSource {
    /// Opens an existing log for reading.
    pub fn open(path: &Path) -> Result<JsonlSource, LogError> {
        if !path.is_file() && rotated(path)?.is_empty() {
            return Err(error(
                path,
                "no such log",
                "the file does not exist (a log is made by --log jsonl:PATH on check, batch or serve)",
            ));
        }
        Ok(JsonlSource {
            path: path.to_path_buf(),
        })
    }

    fn files(&self) -> Result<Vec<PathBuf>, LogError> {
        let mut files: Vec<PathBuf> = rotated(&self.path)?.into_iter().map(|(_, f)| f).collect();
        if self.path.is_file() {
            files.push(self.path.clone());
        }
        Ok(files)
    }
}

impl Source for JsonlSource {
    fn anchor(&mut self) -> Result<Anchor, LogError> {
        read_anchor(&self.path)
    }

    fn count(&mut self, _range: &TimeRange) -> Result<Option<u64>, LogError> {
        Ok(None)
    }

    fn scan(
        &mut self,
        range: &TimeRange,
        visit: &mut dyn FnMut(ReadRecord) -> bool,
    ) -> Result<(), LogError> {
        let mut line = String::new();
        for file in self.files()? {
            let mut reader = BufReader::with_capacity(
                1 << 16,
                File::open(&file).map_err(|e| error(&file, "cannot read", e))?,
            );
            let mut number = 0u64;
            loop {
                line.clear();
                let read = reader
                    .read_line(&mut line)
                    .map_err(|e| error(&file, "cannot read", e))?;
                if read == 0 {
                    break;
                }
                number += 1;
                let record = serde_json::from_str::<DecisionRecord>(line.trim_end_matches('\n'))
                    .map_err(|e| Unreadable {
                        location: format!("{}:{number}", file.display()),
                        message: e.to_string(),
                    });
                if let Ok(record) = &record {
                    if !range.contains(&record.time) {
                        continue;
                    }
                }
                if !visit(record) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}
