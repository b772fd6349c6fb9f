//! The EPCIS 2.0 query schedule of a scheduled subscription (EPCIS 2.0
//! §8.2.5.3 `QuerySchedule`; the REST binding's `schedule` object and the
//! `second` … `dayOfWeek` query parameters), parsed and evaluated. Pure: no
//! I/O, no clock; times are Unix milliseconds, evaluated in UTC (the
//! standard lets the service choose the time zone).
//!
//! ```
//! use oretrace_epcis::schedule::Schedule;
//!
//! // The binding's example: "every morning at 1.05am".
//! let daily = Schedule::parse(&[("hour", "1"), ("minute", "5")]).unwrap();
//! // 2025-01-01T00:00:00Z → 2025-01-01T01:05:00Z
//! assert_eq!(daily.next_after(1_735_689_600_000), Some(1_735_693_500_000));
//! let err = Schedule::parse(&[("second", "[0-5]")]).unwrap_err();
//! assert_eq!(err.to_string(), "schedule.second: must be a single number (at most one firing a minute)");
//! ```
//!
//! # Grammar
//!
//! Six optional fields, `second` (0–59), `minute` (0–59), `hour` (0–23),
//! `dayOfMonth` (1–31), `month` (1–12) and `dayOfWeek` (1–7, 1 = Monday …
//! 7 = Sunday). A field is `Element ("," Element)*`, an element a `Number`
//! or a `Range` `"[" Number "-" Number "]"` (inclusive). Strict: no
//! whitespace anywhere, no empty field or element; a number is one or two
//! ASCII digits (leading zero allowed: `05`); a range needs `a <= b`; every
//! number within the field's bounds. At most 256 bytes and 64 elements a
//! field. Each field at most once; any other name is refused.
//!
//! # Our reading of the standard
//!
//! The standard (EPCIS 1.0 §8.2.5.3, carried into 2.0 §8.2.5.3) says: "The
//! time value matches the QuerySchedule if each of the values extracted
//! above matches … the corresponding field of the QuerySchedule, for all
//! QuerySchedule fields that are not omitted." So:
//!
//! * an omitted field means all values, with one exception: an omitted
//!   `second` means `0`. Literally, `{"hour": "1", "minute": "5"}` would fire
//!   sixty times (01:05:00 … 01:05:59), yet the REST binding's OpenAPI
//!   document gives exactly that schedule as "every morning at 1.05am"; and
//!   our policy (`docs/design/epcis-binding.md` §4) allows at most one
//!   firing a minute, so `second`, when given, must be a single number;
//! * `dayOfMonth` and `dayOfWeek` both restrict: a day fires only if it
//!   matches both (cron's OR rule does not apply);
//! * an empty schedule (no field) fires every minute at second 0.

use std::fmt;

/// The schedule's fields, most significant last.
pub const FIELDS: [&str; 6] = [
    "second",
    "minute",
    "hour",
    "dayOfMonth",
    "month",
    "dayOfWeek",
];
const BOUNDS: [(u8, u8); 6] = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (1, 7)];
const SECOND: usize = 0;
const MINUTE: usize = 1;
const HOUR: usize = 2;
const DAY_OF_MONTH: usize = 3;
const MONTH: usize = 4;
const DAY_OF_WEEK: usize = 5;

/// Longest field value, in bytes.
pub const MAX_FIELD_BYTES: usize = 256;
/// Most elements (numbers or ranges) in one field.
pub const MAX_ELEMENTS: usize = 64;
/// How far [`Schedule::next_after`] looks ahead: 2,928 days (8 × 366).
pub const HORIZON_DAYS: i64 = 8 * 366;
/// The last instant [`Schedule::next_after`] handles or returns:
/// 9999-12-31T23:59:59.999Z, in Unix milliseconds.
pub const MAX_INSTANT_MS: i64 = 253_402_300_799_999;

/// A parsed query schedule: the allowed values of each field, as bit sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Schedule {
    /// Bit `v` set when value `v` is allowed, indexed as [`FIELDS`].
    bits: [u64; 6],
}

/// Why a schedule was refused: the field (`second` … `dayOfWeek`, or empty
/// for an error of the whole schedule such as an unknown field name) and
/// the reason. Displayed `schedule.<field>: <why>` (or `schedule: <why>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    /// The field at fault, as the standard spells it; empty when no known
    /// field is at fault.
    pub field: &'static str,
    /// What is wrong, in words.
    pub why: String,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "schedule: {}", self.why)
        } else {
            write!(f, "schedule.{}: {}", self.field, self.why)
        }
    }
}

impl std::error::Error for ScheduleError {}

fn err(field: &'static str, why: impl Into<String>) -> ScheduleError {
    ScheduleError {
        field,
        why: why.into(),
    }
}

/// A number: one or two ASCII digits within `lo..=hi`.
fn number(field: &'static str, text: &str, (lo, hi): (u8, u8)) -> Result<u8, ScheduleError> {
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(
            field,
            format!(
                "{text:?} is not a number of one or two digits (a field is numbers, a,b lists and [a-b] ranges)"
            ),
        ));
    }
    let value = text.bytes().fold(0u8, |acc, b| acc * 10 + (b - b'0'));
    if value < lo || value > hi {
        return Err(err(field, format!("{value} is outside {lo}..={hi}")));
    }
    Ok(value)
}

/// The bit set of one field's value.
fn field_bits(index: usize, text: &str) -> Result<u64, ScheduleError> {
    let field = FIELDS[index];
    let bounds = BOUNDS[index];
    if text.len() > MAX_FIELD_BYTES {
        return Err(err(field, format!("longer than {MAX_FIELD_BYTES} bytes")));
    }
    if text.is_empty() {
        return Err(err(field, "empty"));
    }
    if index == SECOND {
        if text.contains(',') || text.contains('[') {
            return Err(err(
                field,
                "must be a single number (at most one firing a minute)",
            ));
        }
        return number(field, text, bounds).map(|v| 1u64 << v);
    }
    let mut bits = 0u64;
    for (count, element) in text.split(',').enumerate() {
        if count == MAX_ELEMENTS {
            return Err(err(field, format!("more than {MAX_ELEMENTS} elements")));
        }
        if element.is_empty() {
            return Err(err(field, "empty element"));
        }
        if let Some(inner) = element.strip_prefix('[') {
            let Some((a, b)) = inner.strip_suffix(']').and_then(|r| r.split_once('-')) else {
                return Err(err(field, format!("{element:?} is not a range [a-b]")));
            };
            let (a, b) = (number(field, a, bounds)?, number(field, b, bounds)?);
            if a > b {
                return Err(err(field, format!("range [{a}-{b}] is empty")));
            }
            for v in a..=b {
                bits |= 1u64 << v;
            }
        } else {
            bits |= 1u64 << number(field, element, bounds)?;
        }
    }
    Ok(bits)
}

/// All values of a field.
fn all(index: usize) -> u64 {
    let (lo, hi) = BOUNDS[index];
    (lo..=hi).fold(0, |acc, v| acc | 1u64 << v)
}

/// Year, month (1–12) and day (1–31) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`). Exact for any day count whose year
/// fits (far beyond what is used here).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// ISO day of week (1 = Monday … 7 = Sunday) of a day count since
/// 1970-01-01 (a Thursday).
fn weekday(days: i64) -> u32 {
    let w = (days + 3).rem_euclid(7) as u32;
    w + 1
}

impl Schedule {
    /// Parses a schedule from its fields, `(name, value)` as given (the
    /// members of the `schedule` object, or the query parameters), names
    /// exactly `second`, `minute`, `hour`, `dayOfMonth`, `month`,
    /// `dayOfWeek`. See the module documentation for the grammar and for
    /// omitted fields.
    ///
    /// # Errors
    ///
    /// A [`ScheduleError`] naming the first field at fault: an unknown name
    /// (field empty, the name in `why`), a name given twice, or a value
    /// that breaks the grammar, a bound or a limit.
    pub fn parse(fields: &[(&str, &str)]) -> Result<Schedule, ScheduleError> {
        let mut bits = [0u64; 6];
        let mut seen = [false; 6];
        for &(name, value) in fields {
            let Some(index) = FIELDS.iter().position(|n| *n == name) else {
                let shown: String = name.chars().take(64).collect();
                return Err(err("", format!("unknown field {shown:?}")));
            };
            if seen[index] {
                return Err(err(FIELDS[index], "given more than once"));
            }
            seen[index] = true;
            bits[index] = field_bits(index, value)?;
        }
        for (index, given) in seen.iter().enumerate() {
            if !given {
                bits[index] = if index == SECOND { 1 } else { all(index) };
            }
        }
        Ok(Schedule { bits })
    }

    fn allows(&self, index: usize, value: u32) -> bool {
        value < 64 && self.bits[index] >> value & 1 == 1
    }

    fn day_allowed(&self, days: i64) -> bool {
        let (_, month, day) = civil_from_days(days);
        self.allows(MONTH, month)
            && self.allows(DAY_OF_MONTH, day)
            && self.allows(DAY_OF_WEEK, weekday(days))
    }

    /// The one second of the minute at which this schedule fires.
    fn second(&self) -> u32 {
        self.bits[SECOND].trailing_zeros()
    }

    /// Whether the schedule fires at this instant (Unix milliseconds, UTC):
    /// a whole second that matches every field. False outside
    /// `0..=`[`MAX_INSTANT_MS`].
    #[must_use]
    pub fn matches(&self, unix_ms: i64) -> bool {
        if !(0..=MAX_INSTANT_MS).contains(&unix_ms) || unix_ms % 1000 != 0 {
            return false;
        }
        let secs = unix_ms / 1000;
        let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let sod = sod as u32;
        self.day_allowed(days)
            && self.allows(HOUR, sod / 3600)
            && self.allows(MINUTE, sod / 60 % 60)
            && sod % 60 == self.second()
    }

    /// The first firing strictly after `after_ms` (Unix milliseconds, UTC),
    /// or `None` if there is none within [`HORIZON_DAYS`] days of it (for
    /// example `dayOfMonth` 31 with `month` 2 only), or if `after_ms` or
    /// the firing is outside 1970-01-01T00:00:00Z ..= [`MAX_INSTANT_MS`].
    /// Walks day by day (at most [`HORIZON_DAYS`] days) and, on the first
    /// matching day, minute by minute (at most 1,440).
    #[must_use]
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        if !(0..=MAX_INSTANT_MS).contains(&after_ms) {
            return None;
        }
        // Firings are whole seconds: the first candidate second.
        let start = after_ms / 1000 + 1;
        let first_day = start / 86_400;
        let second = self.second();
        for days in first_day..=first_day + HORIZON_DAYS {
            if !self.day_allowed(days) {
                continue;
            }
            let from = if days == first_day {
                start - days * 86_400
            } else {
                0
            };
            for minute_of_day in 0..1440u32 {
                let sod = i64::from(minute_of_day * 60 + second);
                if sod < from
                    || !self.allows(HOUR, minute_of_day / 60)
                    || !self.allows(MINUTE, minute_of_day % 60)
                {
                    continue;
                }
                let at = (days * 86_400 + sod) * 1000;
                return (at <= MAX_INSTANT_MS).then_some(at);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Unix milliseconds of a UTC date and time (Hinnant's
    /// `days_from_civil`).
    fn at(y: i64, m: i64, d: i64, hh: i64, mm: i64, ss: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        ((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000
    }

    fn parse(fields: &[(&str, &str)]) -> Schedule {
        Schedule::parse(fields).unwrap()
    }

    fn message(fields: &[(&str, &str)]) -> String {
        Schedule::parse(fields).unwrap_err().to_string()
    }

    #[test]
    fn calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(weekday(0), 4);
        assert_eq!(at(2000, 3, 1, 0, 0, 0), 951_868_800_000);
        let days = at(2024, 2, 29, 0, 0, 0) / 86_400_000;
        assert_eq!(civil_from_days(days), (2024, 2, 29));
        assert_eq!(weekday(days), 4);
        assert_eq!(civil_from_days(MAX_INSTANT_MS / 86_400_000), (9999, 12, 31));
    }

    #[test]
    fn good_forms() {
        let s = parse(&[
            ("second", "05"),
            ("minute", "0,[10-12],59"),
            ("hour", "[0-23]"),
            ("dayOfMonth", "1,31"),
            ("month", "[2-2]"),
            ("dayOfWeek", "7"),
        ]);
        assert_eq!(s.bits[SECOND], 1 << 5);
        assert_eq!(s.bits[MINUTE], 1 | 1 << 10 | 1 << 11 | 1 << 12 | 1 << 59);
        assert_eq!(s.bits[HOUR], all(HOUR));
        assert_eq!(s.bits[DAY_OF_MONTH], 1 << 1 | 1 << 31);
        assert_eq!(s.bits[MONTH], 1 << 2);
        assert_eq!(s.bits[DAY_OF_WEEK], 1 << 7);
        let empty = parse(&[]);
        assert_eq!(empty.bits[SECOND], 1);
        assert_eq!(empty.bits[MINUTE], all(MINUTE));
        assert_eq!(empty.bits[DAY_OF_WEEK], 0b1111_1110);
        let many = vec!["1"; MAX_ELEMENTS].join(",");
        assert!(Schedule::parse(&[("minute", &many)]).is_ok());
    }

    #[test]
    fn bad_forms() {
        assert_eq!(
            message(&[("second", "0,30")]),
            "schedule.second: must be a single number (at most one firing a minute)"
        );
        assert_eq!(
            message(&[("minute", "60")]),
            "schedule.minute: 60 is outside 0..=59"
        );
        assert_eq!(
            message(&[("dayOfMonth", "0")]),
            "schedule.dayOfMonth: 0 is outside 1..=31"
        );
        assert_eq!(
            message(&[("hour", "[5-3]")]),
            "schedule.hour: range [5-3] is empty"
        );
        assert_eq!(
            message(&[("minute", " 5")]),
            "schedule.minute: \" 5\" is not a number of one or two digits (a field is numbers, a,b lists and [a-b] ranges)"
        );
        assert_eq!(
            message(&[("minute", "005")]),
            "schedule.minute: \"005\" is not a number of one or two digits (a field is numbers, a,b lists and [a-b] ranges)"
        );
        assert_eq!(
            message(&[("year", "2025")]),
            "schedule: unknown field \"year\""
        );
        assert_eq!(
            message(&[("hour", "1"), ("hour", "2")]),
            "schedule.hour: given more than once"
        );
        assert_eq!(message(&[("month", "")]), "schedule.month: empty");
        assert_eq!(message(&[("month", "1,")]), "schedule.month: empty element");
        assert_eq!(
            message(&[("dayOfWeek", "[1-7")]),
            "schedule.dayOfWeek: \"[1-7\" is not a range [a-b]"
        );
        let many = vec!["1"; MAX_ELEMENTS + 1].join(",");
        assert_eq!(
            message(&[("minute", &many)]),
            "schedule.minute: more than 64 elements"
        );
        let long = "1".repeat(MAX_FIELD_BYTES + 1);
        assert_eq!(
            message(&[("minute", &long)]),
            "schedule.minute: longer than 256 bytes"
        );
        for bad in [
            "a", "-1", "1-2", "[1-2", "1-2]", "[1,2]", "[-]", "[1-]", "[]", "1 ", "１", "+1",
            "[1-2]]", "[[1-2]", ",1", "1,,2",
        ] {
            assert!(Schedule::parse(&[("hour", bad)]).is_err(), "{bad:?}");
        }
        for bad in ["", "[0-0]", "60", "a", "0 "] {
            assert!(Schedule::parse(&[("second", bad)]).is_err(), "{bad:?}");
        }
        assert!(Schedule::parse(&[("Second", "0")]).is_err());
        let error = Schedule::parse(&[("dayOfWeek", "8")]).unwrap_err();
        assert_eq!(error.field, "dayOfWeek");
        let _: &dyn std::error::Error = &error;
    }

    #[test]
    fn fixed_instants() {
        let t = at(2025, 3, 14, 10, 20, 30) + 123;
        // Every minute at second 0 (the empty schedule).
        let every = parse(&[]);
        assert_eq!(every.next_after(t), Some(at(2025, 3, 14, 10, 21, 0)));
        assert_eq!(
            every.next_after(at(2025, 3, 14, 10, 21, 0)),
            Some(at(2025, 3, 14, 10, 22, 0)),
            "strictly after"
        );
        assert_eq!(
            every.next_after(at(2025, 12, 31, 23, 59, 0)),
            Some(at(2026, 1, 1, 0, 0, 0))
        );
        // Hourly at minute 15.
        let hourly = parse(&[("second", "0"), ("minute", "15")]);
        assert_eq!(hourly.next_after(t), Some(at(2025, 3, 14, 11, 15, 0)));
        assert_eq!(
            hourly.next_after(at(2025, 3, 14, 11, 14, 59) + 999),
            Some(at(2025, 3, 14, 11, 15, 0))
        );
        // Second 30 of the current minute is still ahead.
        let s45 = parse(&[("second", "45")]);
        assert_eq!(s45.next_after(t), Some(at(2025, 3, 14, 10, 20, 45)));
        // Sundays at 06:00 (2025-03-14 is a Friday).
        let sundays = parse(&[("minute", "0"), ("hour", "6"), ("dayOfWeek", "7")]);
        assert_eq!(sundays.next_after(t), Some(at(2025, 3, 16, 6, 0, 0)));
        assert_eq!(
            sundays.next_after(at(2025, 3, 16, 6, 0, 0)),
            Some(at(2025, 3, 23, 6, 0, 0))
        );
        // Feb 29 only: the next leap year.
        let leap = parse(&[
            ("minute", "0"),
            ("hour", "0"),
            ("dayOfMonth", "29"),
            ("month", "2"),
        ]);
        assert_eq!(leap.next_after(t), Some(at(2028, 2, 29, 0, 0, 0)));
        assert_eq!(
            leap.next_after(at(2096, 3, 1, 0, 0, 0)),
            Some(at(2104, 2, 29, 0, 0, 0)),
            "2100 is not a leap year"
        );
        // Both day fields restrict: Friday the 13th.
        let friday13 = parse(&[
            ("minute", "0"),
            ("hour", "0"),
            ("dayOfMonth", "13"),
            ("dayOfWeek", "5"),
        ]);
        assert_eq!(friday13.next_after(t), Some(at(2025, 6, 13, 0, 0, 0)));
        // Impossible dates.
        for (day, month) in [("31", "2"), ("30", "2"), ("31", "4,6,9,11")] {
            let never = parse(&[("dayOfMonth", day), ("month", month)]);
            assert_eq!(never.next_after(t), None, "{day} {month}");
        }
        // Bounds.
        assert_eq!(every.next_after(-1), None);
        assert_eq!(every.next_after(i64::MIN), None);
        assert_eq!(every.next_after(i64::MAX), None);
        assert_eq!(every.next_after(0), Some(60_000));
        assert_eq!(every.next_after(MAX_INSTANT_MS), None);
        assert_eq!(
            every.next_after(MAX_INSTANT_MS - 60_000),
            Some(MAX_INSTANT_MS - 59_999)
        );
        assert!(!every.matches(-60_000));
        assert!(!every.matches(60_001));
        assert!(every.matches(60_000));
    }

    /// A small random schedule: few values per field, so that firings are
    /// sparse but usually within the brute-force window.
    fn small_schedule() -> impl Strategy<Value = Vec<(&'static str, String)>> {
        let field = |index: usize| {
            let (lo, hi) = BOUNDS[index];
            proptest::option::weighted(
                0.5,
                proptest::collection::vec(
                    (lo..=hi, 0u8..4).prop_map(move |(a, w)| {
                        let b = a.saturating_add(w).min(hi);
                        if a == b {
                            format!("{a:02}")
                        } else {
                            format!("[{a}-{b}]")
                        }
                    }),
                    1..4,
                )
                .prop_map(|elements| elements.join(",")),
            )
            .prop_map(move |value| value.map(|v| (FIELDS[index], v)))
        };
        (
            proptest::option::of(0u8..60),
            field(MINUTE),
            field(HOUR),
            field(DAY_OF_MONTH),
            field(MONTH),
            field(DAY_OF_WEEK),
        )
            .prop_map(|(second, m, h, dom, mon, dow)| {
                let mut fields: Vec<_> = [m, h, dom, mon, dow].into_iter().flatten().collect();
                if let Some(s) = second {
                    fields.push(("second", s.to_string()));
                }
                fields
            })
    }

    proptest! {
        #[test]
        fn next_after_is_the_next_firing(
            fields in small_schedule(),
            t in 0i64..4_102_444_800_000, // 1970 ..= 2100
        ) {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let s = Schedule::parse(&pairs).unwrap();
            let next = s.next_after(t);
            if let Some(r) = next {
                prop_assert!(r > t);
                prop_assert!(s.matches(r));
                prop_assert!(r - t <= (HORIZON_DAYS + 1) * 86_400_000);
            }
            // Brute force, minute by minute, over 40 days after t.
            let window_end = next.unwrap_or(i64::MAX).min(t + 40 * 86_400_000);
            let mut minute = t.div_euclid(60_000) * 60_000;
            let second = i64::from(s.second()) * 1000;
            while minute + second < window_end {
                let candidate = minute + second;
                prop_assert!(
                    candidate <= t || !s.matches(candidate),
                    "{candidate} fires before {next:?}"
                );
                minute += 60_000;
            }
        }
    }
}
