//! Times of the log: how long records are kept, and which records `--since`/`--until` take.
//!
//! Records carry their time as RFC 3339 in UTC with milliseconds, always the same width
//! ([`aipolicy::log::rfc3339`]), so that times compare as text, in SQL as in Rust.

use std::str::FromStr;
use std::time::SystemTime;

use jiff::tz::TimeZone;
use jiff::{civil::Date, Span, Timestamp};

/// How long records are kept (`--log-retention`).
#[derive(Debug, Clone, Copy)]
pub enum Retention {
    /// Records are never purged.
    Never,
    /// Records older than this are purged.
    For(Span),
}

impl Default for Retention {
    fn default() -> Retention {
        Retention::For(Span::new().months(6))
    }
}

impl FromStr for Retention {
    type Err = String;

    fn from_str(text: &str) -> Result<Retention, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("never") {
            return Ok(Retention::Never);
        }
        let span: Span = text.parse().map_err(|e| {
            format!("`{text}` is not an age: write e.g. 6months, 1y, 400d or never ({e})")
        })?;
        if span.is_negative() || span.is_zero() {
            return Err(format!(
                "`{text}`: a retention must be longer than nothing (or `never`)"
            ));
        }
        Ok(Retention::For(span))
    }
}

impl Retention {
    /// The oldest time kept at `now` (records before it are purged); `None` for `never`.
    pub fn cutoff(&self, now: SystemTime) -> Option<String> {
        let Retention::For(span) = self else {
            return None;
        };
        let now = Timestamp::try_from(now).ok()?;
        let then = now.to_zoned(TimeZone::UTC).checked_sub(*span).ok()?;
        Some(aipolicy::log::rfc3339(SystemTime::from(then.timestamp())))
    }

    /// The warning for a retention shorter than six months (AI Act art. 26(6)).
    pub fn below_the_law(&self) -> Option<String> {
        let now = SystemTime::now();
        let law = Retention::default().cutoff(now)?;
        let ours = self.cutoff(now)?;
        (ours > law).then(|| {
            "--log-retention is shorter than six months: the AI Act (art. 26(6)) makes deployers of high-risk AI systems keep their logs at least six months".to_string()
        })
    }
}

/// Which records a command reads: `--since` (inclusive) and `--until` (exclusive; a date
/// includes its whole day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// The first time taken, when limited.
    pub since: Option<String>,
    /// The first time no longer taken, when limited.
    pub until: Option<String>,
}

impl TimeRange {
    /// The range of `--since` and `--until` (each a date, `2026-11-01`, or an RFC 3339 time).
    pub fn parse(since: Option<&str>, until: Option<&str>) -> Result<TimeRange, String> {
        let since = since.map(|s| parse_time(s, "--since", false)).transpose()?;
        let until = until.map(|s| parse_time(s, "--until", true)).transpose()?;
        if let (Some(since), Some(until)) = (&since, &until) {
            if since >= until {
                return Err(format!(
                    "--since ({since}) is not before --until ({until}): no record can be in between"
                ));
            }
        }
        Ok(TimeRange { since, until })
    }

    /// Whether a record of `time` is in the range.
    pub fn contains(&self, time: &str) -> bool {
        self.since.as_deref().is_none_or(|since| time >= since)
            && self.until.as_deref().is_none_or(|until| time < until)
    }

    /// Whether the range takes every record.
    pub fn is_all(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

/// A date (midnight UTC; the next midnight when `end_of_day`) or an RFC 3339 time, in the
/// log's own form.
fn parse_time(text: &str, flag: &str, end_of_day: bool) -> Result<String, String> {
    let text = text.trim();
    let timestamp = if let Ok(date) = text.parse::<Date>() {
        let date = if end_of_day {
            date.tomorrow()
                .map_err(|e| format!("{flag} `{text}`: {e}"))?
        } else {
            date
        };
        date.to_zoned(TimeZone::UTC)
            .map_err(|e| format!("{flag} `{text}`: {e}"))?
            .timestamp()
    } else {
        text.parse::<Timestamp>().map_err(|_| {
            format!(
                "{flag} `{text}` is not a date (2026-11-01) or an RFC 3339 time (2026-11-01T08:00:00Z)"
            )
        })?
    };
    Ok(aipolicy::log::rfc3339(SystemTime::from(timestamp)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn retentions() {
        assert!(matches!("never".parse::<Retention>(), Ok(Retention::Never)));
        assert!("6months".parse::<Retention>().is_ok());
        assert!("1y".parse::<Retention>().is_ok());
        assert!("400d".parse::<Retention>().is_ok());
        assert!("soon".parse::<Retention>().is_err());
        assert!("0d".parse::<Retention>().is_err());
        assert!(Retention::default().below_the_law().is_none());
        assert!("1y".parse::<Retention>().unwrap().below_the_law().is_none());
        assert!("30d"
            .parse::<Retention>()
            .unwrap()
            .below_the_law()
            .is_some());
    }

    #[test]
    fn cutoffs_are_in_the_log_form() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_780_000_000);
        let cutoff = Retention::default().cutoff(now).unwrap();
        assert_eq!(cutoff.len(), "2026-05-28T20:26:40.000Z".len());
        assert!(cutoff < aipolicy::log::rfc3339(now));
    }

    #[test]
    fn ranges() {
        let range = TimeRange::parse(Some("2026-11-01"), Some("2026-11-30")).unwrap();
        assert!(range.contains("2026-11-01T00:00:00.000Z"));
        assert!(range.contains("2026-11-30T23:59:59.999Z"));
        assert!(!range.contains("2026-12-01T00:00:00.000Z"));
        assert!(!range.contains("2026-10-31T23:59:59.999Z"));
        let exact = TimeRange::parse(Some("2026-11-01T08:00:00Z"), None).unwrap();
        assert_eq!(exact.since.as_deref(), Some("2026-11-01T08:00:00.000Z"));
        assert!(TimeRange::parse(Some("yesterday"), None).is_err());
        assert!(TimeRange::parse(Some("2026-11-02"), Some("2026-11-01")).is_err());
    }
}
