//! The day a decision is made at.
//!
//! Assessments in the register are dated and lapse (see [`crate::model::assessments::Assessment`]), so a
//! decision depends on its day: the query's `at`, or else today in the municipality's time
//! zone, Europe/Stockholm, as a [`Clock`] tells it. The engine takes the day once per decision;
//! every memo keys on what the day decides (which assessments hold), so a service or a batch
//! that runs across midnight decides the new day by the new day's rules.
//!
//! ```
//! use aipolicy::clock::{parse_day, Clock};
//! let clock = Clock::fixed(parse_day("2026-12-07").unwrap());
//! assert_eq!(clock.today().to_string(), "2026-12-07");
//! // An instant is the day it is in Stockholm: 23:30 UTC in winter is already the next day.
//! assert_eq!(parse_day("2026-12-07T23:30:00Z").unwrap().to_string(), "2026-12-08");
//! ```

use std::cell::Cell;
use std::fmt;
use std::sync::{Arc, Mutex};

pub use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Europe/Stockholm, compiled in from the IANA time-zone database, so that the day does not
/// depend on a machine's zoneinfo files (a fresh container may have none).
static STOCKHOLM: TimeZone = jiff::tz::get!("Europe/Stockholm");

/// The environment variable that fixes "today" for the `aipolicy` command (see
/// [`Clock::from_environment`]).
pub const TODAY_VARIABLE: &str = "AIPOLICY_TODAY";

/// The day an instant falls on in Europe/Stockholm.
///
/// ```
/// use aipolicy::clock::day_in_stockholm;
/// // Summer time: 22:30 UTC on 30 June is 00:30 on 1 July in Stockholm.
/// let instant = "2026-06-30T22:30:00Z".parse().unwrap();
/// assert_eq!(day_in_stockholm(instant).to_string(), "2026-07-01");
/// ```
pub fn day_in_stockholm(instant: Timestamp) -> Date {
    instant.to_zoned_datetime(STOCKHOLM.clone()).date()
}

/// Reads a day as a query's `at`, a scenario file's `at` or a flag gives it: an RFC 3339 date
/// (`2026-12-07`), or an RFC 3339 time with its offset (`2026-12-07T09:30:00+01:00`,
/// `…Z`), which is the day that instant falls on in Europe/Stockholm.
///
/// ```
/// use aipolicy::clock::parse_day;
/// assert_eq!(parse_day("2026-03-01").unwrap().to_string(), "2026-03-01");
/// assert!(parse_day("2026-02-30").is_err());
/// assert!(parse_day("2026-12-07T09:30").unwrap_err().contains("offset"));
/// ```
pub fn parse_day(text: &str) -> Result<Date, String> {
    let text = text.trim();
    if text.len() == 10 {
        return parse_date(text);
    }
    let time = match (text.get(..10).map(parse_date), text.get(10..)) {
        (Some(Ok(_)), Some(rest)) if rest.starts_with(['T', 't', ' ']) => &rest[1..],
        _ => {
            return Err(format!(
                "`{text}` is not an RFC 3339 date or time; expected e.g. `2026-12-07` or `2026-12-07T09:30:00+01:00`"
            ))
        }
    };
    // An RFC 9557 annotation (`[Europe/Stockholm]`) after the offset says no more about it.
    let time = time.split('[').next().unwrap_or(time);
    let has_offset = time.ends_with(['Z', 'z']) || time.contains(['+', '-']);
    if !has_offset {
        return Err(format!(
            "`{text}` has no offset; an RFC 3339 time needs one (`Z` or e.g. `+01:00`), or give the date alone"
        ));
    }
    text.parse::<Timestamp>()
        .map(day_in_stockholm)
        .map_err(|e| format!("`{text}` is not an RFC 3339 time: {e}"))
}

/// Reads a calendar date `YYYY-MM-DD` (the register's dates).
pub fn parse_date(text: &str) -> Result<Date, String> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !well_formed {
        return Err(format!("`{text}` is not a date; expected YYYY-MM-DD"));
    }
    text.parse::<Date>()
        .map_err(|_| format!("`{text}` is not a date of the calendar; expected YYYY-MM-DD"))
}

/// Where the engine takes "today" from when a query gives no `at`.
///
/// The default is the system clock in Europe/Stockholm. A fixed clock decides every query as
/// on one day (tests, demonstrations, re-deciding an audit); a manual clock is one a test moves
/// (see [`Clock::manual`]), to show that a running service decides a new day by the new day.
#[derive(Clone, Default)]
pub struct Clock(Kind);

#[derive(Clone, Default)]
enum Kind {
    #[default]
    System,
    Fixed(Date),
    Manual(Arc<Mutex<Date>>),
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The handle of a [`Clock::manual`]: sets the day its clock tells.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Date>>);

impl ManualClock {
    /// From now on, the clock tells `day`.
    pub fn set(&self, day: Date) {
        match self.0.lock() {
            Ok(mut current) => *current = day,
            Err(poisoned) => *poisoned.into_inner() = day,
        }
    }
}

impl Clock {
    /// Today in Europe/Stockholm, from the system clock.
    pub fn system() -> Clock {
        Clock(Kind::System)
    }

    /// Always `day`.
    pub fn fixed(day: Date) -> Clock {
        Clock(Kind::Fixed(day))
    }

    /// A clock that tells `day` until its handle sets another: for tests of what happens at
    /// midnight, without waiting for one.
    pub fn manual(day: Date) -> (Clock, ManualClock) {
        let shared = Arc::new(Mutex::new(day));
        (Clock(Kind::Manual(shared.clone())), ManualClock(shared))
    }

    /// The clock the `aipolicy` command uses: fixed at the day of the environment variable
    /// [`TODAY_VARIABLE`] (`AIPOLICY_TODAY=2026-12-07`) when it is set, else the system clock.
    /// `Err` names the variable when its value is not a day.
    pub fn from_environment() -> Result<Clock, String> {
        match std::env::var(TODAY_VARIABLE) {
            // Set to nothing, as `AIPOLICY_TODAY= aipolicy …` does: not set.
            Ok(value) if value.trim().is_empty() => Ok(Clock::system()),
            Ok(value) => parse_day(&value)
                .map(Clock::fixed)
                .map_err(|e| format!("{TODAY_VARIABLE}: {e}")),
            Err(std::env::VarError::NotPresent) => Ok(Clock::system()),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("{TODAY_VARIABLE} is not valid UTF-8"))
            }
        }
    }

    /// Whether the clock is fixed (or moved by hand) rather than the system's.
    pub fn is_fixed(&self) -> bool {
        !matches!(self.0, Kind::System)
    }

    /// The day it tells now.
    pub fn today(&self) -> Date {
        match &self.0 {
            Kind::System => system_today(),
            Kind::Fixed(day) => *day,
            Kind::Manual(shared) => match shared.lock() {
                Ok(day) => *day,
                Err(poisoned) => *poisoned.into_inner(),
            },
        }
    }

    /// What a command says of the clock: `today (Europe/Stockholm)`, or the fixed day.
    pub fn describe(&self) -> String {
        match &self.0 {
            Kind::System => format!("{} (today, Europe/Stockholm)", self.today()),
            Kind::Fixed(day) => format!("{day} (fixed)"),
            Kind::Manual(_) => format!("{} (set by hand)", self.today()),
        }
    }
}

thread_local! {
    /// The day this thread last found, with the instants (Unix seconds) it begins and ends:
    /// a decision asks the clock for its day, and most of them fall on the day before.
    static SYSTEM_DAY: Cell<Option<(i64, i64, Date)>> = const { Cell::new(None) };
}

/// Today in Stockholm from the system clock, remembered per thread until the day ends.
fn system_today() -> Date {
    let now = Timestamp::now();
    let seconds = now.as_second();
    if let Some((start, end, day)) = SYSTEM_DAY.get() {
        if (start..end).contains(&seconds) {
            return day;
        }
    }
    let day = day_in_stockholm(now);
    let bounds = day.to_zoned_datetime(STOCKHOLM.clone()).ok().zip(
        day.tomorrow()
            .ok()
            .and_then(|t| t.to_zoned_datetime(STOCKHOLM.clone()).ok()),
    );
    if let Some((start, end)) = bounds {
        SYSTEM_DAY.set(Some((
            start.timestamp().as_second(),
            end.timestamp().as_second(),
            day,
        )));
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        parse_date(text).unwrap()
    }

    #[test]
    fn an_instant_is_the_day_it_falls_on_in_stockholm_in_winter_and_in_summer() {
        for (instant, expected) in [
            ("2026-12-07T22:59:59Z", "2026-12-07"),
            ("2026-12-07T23:00:00Z", "2026-12-08"),
            ("2026-07-01T21:59:59Z", "2026-07-01"),
            ("2026-07-01T22:00:00Z", "2026-07-02"),
            ("2026-12-08T00:30:00+01:00", "2026-12-08"),
            ("2026-12-07T23:30:00Z[Europe/Stockholm]", "2026-12-08"),
            ("2026-12-07T20:00:00-05:00", "2026-12-08"),
        ] {
            assert_eq!(parse_day(instant).unwrap(), day(expected), "{instant}");
        }
    }

    #[test]
    fn what_is_not_a_day_is_refused_with_what_was_expected() {
        for (text, expected) in [
            ("2026-13-01", "not a date of the calendar"),
            ("26-12-07", "not an RFC 3339 date"),
            ("2026-12-07T09:30:00", "no offset"),
            ("yesterday", "not an RFC 3339"),
            ("2026-12-07T25:00:00Z", "not an RFC 3339 time"),
        ] {
            let error = parse_day(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn a_manual_clock_tells_the_day_its_handle_sets() {
        let (clock, handle) = Clock::manual(day("2026-12-07"));
        assert_eq!(clock.today(), day("2026-12-07"));
        handle.set(day("2026-12-08"));
        assert_eq!(clock.clone().today(), day("2026-12-08"));
        assert!(clock.is_fixed());
        assert!(!Clock::system().is_fixed());
    }

    #[test]
    fn the_system_clock_tells_the_day_in_stockholm() {
        let before = day_in_stockholm(Timestamp::now());
        let today = Clock::system().today();
        let after = day_in_stockholm(Timestamp::now());
        assert!(today == before || today == after);
    }
}
