//! Timestamp normalisation: UTC, millisecond precision, `Z` suffix.

use std::num::NonZeroU8;

use time::format_description::well_known::Iso8601;
use time::format_description::well_known::iso8601::{Config, EncodedConfig, TimePrecision};
use time::{Date, Month, OffsetDateTime};

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`: ISO 8601 extended format, UTC, milliseconds.
const UTC_MILLIS: EncodedConfig = Config::DEFAULT
    .set_time_precision(TimePrecision::Second {
        decimal_digits: NonZeroU8::new(3),
    })
    .encode();

/// Normalises an ISO 8601 date-time to `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC.
///
/// Accepted input (the subset of what the reference's `dateutil` parser
/// accepts that is unambiguous): `YYYY-M-D` or `YYYYMMDD`, optionally followed
/// by `T`, `t` or a space and `H[:M[:S[.f]]]` or `HHMM[SS[.f]]` (`,` also
/// separates the fraction), optionally followed by `Z`, `UTC`, `GMT`, `±HH`,
/// `±HHMM` or `±HH:MM`. A value without a time zone is taken as UTC.
///
/// The fraction is truncated to microseconds and then rounded half-to-even to
/// milliseconds, as the reference does (`.1415` → `.142`, `.0005` → `.000`,
/// `.0015` → `.002`); a round-up to the next second carries over.
///
/// Returns `None` for anything else (invalid dates, `24:00`, leap seconds,
/// results outside years 1–9999); callers keep such values unchanged.
#[must_use]
pub fn normalise_timestamp(text: &str) -> Option<String> {
    format_timestamp_millis(timestamp_millis(text)?)
}

/// Milliseconds since the Unix epoch of what [`normalise_timestamp`]
/// accepts (the instant it writes); `None` where it returns `None`.
pub(crate) fn timestamp_millis(text: &str) -> Option<i64> {
    let parsed = parse(text.trim())?;
    let midnight = parsed.date.midnight().assume_utc().unix_timestamp();
    let seconds =
        midnight + parsed.hour * 3_600 + parsed.minute * 60 + parsed.second - parsed.offset_seconds;
    let millis = seconds * 1_000 + round_to_millis(parsed.micros);
    utc(millis).map(|_| millis)
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC),
/// the form [`normalise_timestamp`] writes; `None` outside years 1–9999.
///
/// ```
/// use oretrace_epcis::format_timestamp_millis as format;
/// assert_eq!(format(1_005_000).as_deref(), Some("1970-01-01T00:16:45.000Z"));
/// assert_eq!(format(-1).as_deref(), Some("1969-12-31T23:59:59.999Z"));
/// assert_eq!(format(253_402_300_800_000), None); // 10000-01-01
/// ```
#[must_use]
pub fn format_timestamp_millis(unix_millis: i64) -> Option<String> {
    utc(unix_millis)?.format(&Iso8601::<UTC_MILLIS>).ok()
}

/// The UTC date-time `unix_millis` names, if it falls in years 1–9999.
fn utc(unix_millis: i64) -> Option<OffsetDateTime> {
    let time =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_millis) * 1_000_000).ok()?;
    (1..=9999).contains(&time.year()).then_some(time)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parsed {
    date: Date,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
    offset_seconds: i64,
}

/// A cursor over ASCII bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.peek() == Some(byte);
        self.at += usize::from(hit);
        hit
    }

    /// Between `min` and `max` ASCII digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let start = self.at;
        while self.at - start < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let count = self.at - start;
        if count < min {
            return None;
        }
        let value = self.bytes[start..self.at]
            .iter()
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
        Some((value, count))
    }

    fn digit_run(&self) -> usize {
        self.bytes[self.at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    }

    fn rest(&self) -> &[u8] {
        &self.bytes[self.at..]
    }
}

fn parse(text: &str) -> Option<Parsed> {
    let mut cursor = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };
    let (year, month, day) = if cursor.digit_run() == 8 {
        let (year, _) = cursor.digits(4, 4)?;
        let (month, _) = cursor.digits(2, 2)?;
        let (day, _) = cursor.digits(2, 2)?;
        (year, month, day)
    } else {
        let (year, _) = cursor.digits(4, 4)?;
        if !cursor.eat(b'-') {
            return None;
        }
        let (month, _) = cursor.digits(1, 2)?;
        if !cursor.eat(b'-') {
            return None;
        }
        let (day, _) = cursor.digits(1, 2)?;
        (year, month, day)
    };
    if !(1..=9999).contains(&year) {
        return None;
    }
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let mut parsed = Parsed {
        date,
        hour: 0,
        minute: 0,
        second: 0,
        micros: 0,
        offset_seconds: 0,
    };
    if cursor.peek().is_none() {
        return Some(parsed);
    }
    if !(cursor.eat(b'T') || cursor.eat(b't') || cursor.eat(b' ')) {
        return None;
    }
    parse_time(&mut cursor, &mut parsed)?;
    while cursor.eat(b' ') {}
    parse_zone(&mut cursor, &mut parsed)?;
    if cursor.peek().is_some() {
        return None;
    }
    Some(parsed)
}

fn parse_time(cursor: &mut Cursor<'_>, parsed: &mut Parsed) -> Option<()> {
    let run = cursor.digit_run();
    let with_seconds = if run == 4 || run == 6 {
        // Basic format HHMM[SS].
        parsed.hour = cursor.digits(2, 2)?.0;
        parsed.minute = cursor.digits(2, 2)?.0;
        if run == 6 {
            parsed.second = cursor.digits(2, 2)?.0;
        }
        run == 6
    } else {
        parsed.hour = cursor.digits(1, 2)?.0;
        if cursor.eat(b':') {
            parsed.minute = cursor.digits(1, 2)?.0;
            if cursor.eat(b':') {
                parsed.second = cursor.digits(1, 2)?.0;
                true
            } else {
                false
            }
        } else {
            false
        }
    };
    if with_seconds && (cursor.peek() == Some(b'.') || cursor.peek() == Some(b',')) {
        cursor.at += 1;
        let start = cursor.at;
        let run = cursor.digit_run();
        if run == 0 {
            return None;
        }
        cursor.at += run;
        // Truncate to microseconds like dateutil.
        let micros = cursor.bytes[start..start + run.min(6)]
            .iter()
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
        parsed.micros = micros * 10i64.pow(u32::try_from(6 - run.min(6)).unwrap_or(0));
    }
    if parsed.hour > 23 || parsed.minute > 59 || parsed.second > 59 {
        return None;
    }
    Some(())
}

fn parse_zone(cursor: &mut Cursor<'_>, parsed: &mut Parsed) -> Option<()> {
    let rest = cursor.rest();
    if rest.is_empty() {
        return Some(());
    }
    if rest == b"Z" || rest == b"z" || rest == b"UTC" || rest == b"GMT" {
        cursor.at += rest.len();
        return Some(());
    }
    let sign = match rest[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    cursor.at += 1;
    let (hours, minutes) = match cursor.digit_run() {
        2 => {
            let (hours, _) = cursor.digits(2, 2)?;
            let minutes = if cursor.eat(b':') {
                cursor.digits(2, 2)?.0
            } else {
                0
            };
            (hours, minutes)
        }
        4 => (cursor.digits(2, 2)?.0, cursor.digits(2, 2)?.0),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    parsed.offset_seconds = sign * (hours * 3_600 + minutes * 60);
    Some(())
}

/// Microseconds rounded half-to-even to milliseconds (may give 1000).
fn round_to_millis(micros: i64) -> i64 {
    let (quotient, remainder) = (micros / 1000, micros % 1000);
    if remainder > 500 || (remainder == 500 && quotient % 2 == 1) {
        quotient + 1
    } else {
        quotient
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference() {
        // Expected values produced by the reference implementation.
        let cases = [
            (
                "2020-03-04T11:00:30.000+01:00",
                Some("2020-03-04T10:00:30.000Z"),
            ),
            (
                "2020-04-01T15:00:00+01:00",
                Some("2020-04-01T14:00:00.000Z"),
            ),
            (
                "2022-02-16T20:33:31.116000-06:00",
                Some("2022-02-17T02:33:31.116Z"),
            ),
            (
                "2023-02-02T11:04:03.1415Z",
                Some("2023-02-02T11:04:03.142Z"),
            ),
            (
                "2023-02-02T11:04:03.1414Z",
                Some("2023-02-02T11:04:03.141Z"),
            ),
            ("2020-01-01T00:00Z", Some("2020-01-01T00:00:00.000Z")),
            ("2020-01-01", Some("2020-01-01T00:00:00.000Z")),
            (
                "2020-01-01T00:00:00.123456789+01:00",
                Some("2019-12-31T23:00:00.123Z"),
            ),
            ("2020-01-01 00:00:00Z", Some("2020-01-01T00:00:00.000Z")),
            ("2020-01-01T00:00:00+0100", Some("2019-12-31T23:00:00.000Z")),
            ("2020-01-01T00:00:00+01", Some("2019-12-31T23:00:00.000Z")),
            ("2020-01-01t00:00:00z", Some("2020-01-01T00:00:00.000Z")),
            ("2020-01-01T00:00:00,5Z", Some("2020-01-01T00:00:00.500Z")),
            (
                "2020-01-01T00:00:00.0005Z",
                Some("2020-01-01T00:00:00.000Z"),
            ),
            (
                "2020-01-01T00:00:00.0015Z",
                Some("2020-01-01T00:00:00.002Z"),
            ),
            (
                "2020-01-01T00:00:00.1425Z",
                Some("2020-01-01T00:00:00.142Z"),
            ),
            ("20200101T000000Z", Some("2020-01-01T00:00:00.000Z")),
            ("2020-01-01T00:00:00.5", Some("2020-01-01T00:00:00.500Z")),
            (
                "2020-01-01T00:00:00+01:30",
                Some("2019-12-31T22:30:00.000Z"),
            ),
            (
                "2020-01-01T00:00:00-00:00",
                Some("2020-01-01T00:00:00.000Z"),
            ),
            (
                "2020-01-01T00:00:00 +01:00",
                Some("2019-12-31T23:00:00.000Z"),
            ),
            ("2020-01-01T00:00:00UTC", Some("2020-01-01T00:00:00.000Z")),
            ("2020-1-1T0:0:0Z", Some("2020-01-01T00:00:00.000Z")),
            ("2020-01-01T00Z", Some("2020-01-01T00:00:00.000Z")),
            (
                "2024-02-29T23:30:00-01:00",
                Some("2024-03-01T00:30:00.000Z"),
            ),
            ("2020-02-30T00:00:00Z", None),
            ("2020-01-01T24:00:00Z", None),
            ("2020-01-01T23:59:60Z", None),
            ("2020-01-01T00:00:00.Z", None),
            ("2020-01-01T00:00:00+01:00:30", None),
            ("2020-13-01T00:00:00Z", None),
            ("2020-01-01T00:00:00+25:00", None),
            ("abc", None),
            ("12", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalise_timestamp(input).as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn carries_and_bounds() {
        // The reference fails on these (microsecond overflow, year 0); we
        // carry into the next second and reject years outside 1-9999.
        assert_eq!(
            normalise_timestamp("2020-12-31T23:59:59.9999Z").as_deref(),
            Some("2021-01-01T00:00:00.000Z")
        );
        assert_eq!(normalise_timestamp("0001-01-01T00:30:00+01:00"), None);
        assert_eq!(normalise_timestamp("9999-12-31T23:59:59-01:00"), None);
    }

    #[test]
    fn millis_round_trip_through_the_text() {
        for millis in [
            -62_135_596_800_000, // 0001-01-01T00:00:00.000Z
            -1,
            0,
            951_782_400_000, // 2000-02-29
            1_709_251_199_999,
            253_402_300_799_999, // 9999-12-31T23:59:59.999Z
        ] {
            let text = format_timestamp_millis(millis).unwrap();
            assert_eq!(timestamp_millis(&text), Some(millis), "{text}");
        }
        assert_eq!(
            format_timestamp_millis(-62_135_596_800_000).as_deref(),
            Some("0001-01-01T00:00:00.000Z")
        );
        assert_eq!(
            format_timestamp_millis(951_782_400_000).as_deref(),
            Some("2000-02-29T00:00:00.000Z")
        );
        assert_eq!(format_timestamp_millis(-62_135_596_800_001), None);
        assert_eq!(format_timestamp_millis(253_402_300_800_000), None);
        assert_eq!(format_timestamp_millis(i64::MIN), None);
        assert_eq!(format_timestamp_millis(i64::MAX), None);
    }
}
