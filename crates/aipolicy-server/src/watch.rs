//! Reload when a watched file changes: the policy folder and its `.cedar` files, the schema,
//! the register and the token file are looked at every `--watch`; a change is loaded once the
//! files have stayed the same for one more look (an editor's save, or a copy, is finished).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::state::State;

/// Files up to this size are hashed as well as looked at: a change within the same second
/// that keeps the size is still seen.
const HASHED_BYTES: u64 = 1024 * 1024;

/// Starts watching (none for a zero interval).
pub fn spawn(state: Arc<State>, interval: Duration) -> Option<tokio::task::JoinHandle<()>> {
    if interval.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut loaded = fingerprint_of(&state).await;
        let mut pending: Option<Vec<u8>> = None;
        loop {
            tokio::time::sleep(interval).await;
            let now = fingerprint_of(&state).await;
            if now == loaded {
                pending = None;
                continue;
            }
            if pending.as_ref() == Some(&now) {
                tracing::info!("a watched file changed: reloading");
                let _ = state.reload("watch").await;
                loaded = now;
                pending = None;
            } else {
                pending = Some(now);
            }
        }
    }))
}

async fn fingerprint_of(state: &Arc<State>) -> Vec<u8> {
    let mut files = crate::load::watched_files(&state.inputs);
    files.extend(state.config.token_file.iter().cloned());
    tokio::task::spawn_blocking(move || fingerprint(&files))
        .await
        .unwrap_or_default()
}

/// What the files are now: each one's size, time and (when small) contents, or that it is
/// missing.
pub fn fingerprint(files: &[PathBuf]) -> Vec<u8> {
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.as_os_str().as_encoded_bytes());
        match std::fs::metadata(file) {
            Ok(meta) => {
                hash.update(meta.len().to_le_bytes());
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .unwrap_or_default();
                hash.update(modified.as_nanos().to_le_bytes());
                if meta.is_file() && meta.len() <= HASHED_BYTES {
                    if let Ok(bytes) = std::fs::read(file) {
                        hash.update(&bytes);
                    }
                }
            }
            Err(_) => hash.update(b"missing"),
        }
    }
    hash.finalize().to_vec()
}
