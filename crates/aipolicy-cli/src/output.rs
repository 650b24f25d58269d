//! What long commands share about their output: progress on a terminal (indicatif), and
//! telling a failed write from a failed read.

use std::io::Write;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress on stderr while a long command works: drawn only when stderr is a terminal and
/// the user did not ask for quiet, at most twice a second, so that a pipe or a log file
/// never receives it.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    keep: bool,
}

impl Progress {
    /// A progress line counting `what` (e.g. "line(s) decided"), with a total when one is
    /// known. `keep`: leave the last count on the screen when done (else it is cleared).
    pub fn new(what: &str, quiet: bool, keep: bool) -> Progress {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            // indicatif draws nothing when stderr is not a terminal.
            ProgressDrawTarget::stderr_with_hz(2)
        };
        let template = format!("{{human_pos}}{{total}} {what} ({{rate}}/s)");
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .with_key(
                "total",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    if let Some(total) = state.len() {
                        let _ = write!(w, " of {total}");
                    }
                },
            )
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}", state.per_sec());
                },
            );
        let bar = ProgressBar::with_draw_target(None, target).with_style(style);
        Progress { bar, keep }
    }

    /// How far the work is: `done`, of `total` when known.
    pub fn set(&self, done: u64, total: Option<u64>) {
        if let Some(total) = total {
            self.bar.set_length(total);
        }
        self.bar.set_position(done);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.keep {
            self.bar.finish();
        } else {
            self.bar.finish_and_clear();
        }
    }
}

/// A writer that remembers the first error a write met, for a command whose work fails in
/// reading as well as in writing: a failed write is exit 3 ([`write_failure`](crate::write_failure)),
/// a failed read exit 2.
pub struct Watched<'w> {
    inner: &'w mut dyn Write,
    failed: Option<(std::io::ErrorKind, String)>,
}

impl<'w> Watched<'w> {
    /// Watches `inner`.
    pub fn new(inner: &'w mut dyn Write) -> Watched<'w> {
        Watched {
            inner,
            failed: None,
        }
    }

    /// The first write error, if any write failed.
    pub fn write_error(&self) -> Option<std::io::Error> {
        self.failed
            .as_ref()
            .map(|(kind, message)| std::io::Error::new(*kind, message.clone()))
    }

    fn watch<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let (Err(e), None) = (&result, &self.failed) {
            // An interrupted write is tried again by whoever writes (`write_all`, `BufWriter`).
            if e.kind() != std::io::ErrorKind::Interrupted {
                self.failed = Some((e.kind(), e.to_string()));
            }
        }
        result
    }
}

impl Write for Watched<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(bytes);
        self.watch(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.watch(result)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "no space left",
            ))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_watched_writer_keeps_the_first_write_error_and_only_that() {
        let mut sink = Vec::new();
        let mut fine = Watched::new(&mut sink);
        fine.write_all(b"ok").unwrap();
        assert!(fine.write_error().is_none());
        let mut full = Full;
        let mut watched = Watched::new(&mut full);
        assert!(watched.write_all(b"x").is_err());
        let error = watched.write_error().unwrap();
        assert_eq!(error.kind(), std::io::ErrorKind::StorageFull);
        assert!(error.to_string().contains("no space left"));
    }
}
