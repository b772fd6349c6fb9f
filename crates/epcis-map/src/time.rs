//! `eventTime` ↔ the registry's UTC-to-the-second [`Timestamp`].

use oretrace_domain::values::Timestamp;
use serde_json::Value;

use crate::MapError;

const SHAPE: &str = "an RFC 3339 date-time with a zone (2025-09-10T06:00:00Z or \
                     2025-09-10T11:00:00+05:00) expected";

/// Reads an RFC 3339 date-time with `Z` or a `±HH:MM` offset as a UTC
/// timestamp. A fraction of a second is accepted only when it is zero:
/// the registry keeps whole seconds.
pub(crate) fn timestamp_of(value: &Value, field: &str) -> Result<Timestamp, MapError> {
    let Value::String(text) = value else {
        return Err(MapError::invalid(field, SHAPE));
    };
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let head_ok = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !head_ok {
        return Err(MapError::invalid(field, SHAPE));
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if count == 0 {
            return Err(MapError::invalid(field, SHAPE));
        }
        if fraction[..count].iter().any(|&c| c != b'0') {
            return Err(MapError::invalid(
                field,
                format!("{text} has a fraction of a second; the registry keeps whole seconds"),
            ));
        }
        rest = &fraction[count..];
    }
    let zone_ok = match rest {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    };
    if !zone_ok {
        return Err(MapError::invalid(field, SHAPE));
    }
    let utc = oretrace_epcis::normalise_timestamp(text)
        .ok_or_else(|| MapError::invalid(field, format!("{text} is not a valid date-time")))?;
    // `YYYY-MM-DDTHH:MM:SS.000Z`: the fraction is zero, checked above.
    let whole = format!("{}Z", &utc[..19]);
    Timestamp::parse(&whole).map_err(|e| MapError::domain(field, e))
}

/// The `eventTime` of a record time: UTC with `Z`.
pub(crate) fn event_time(time: &Timestamp) -> Value {
    Value::String(time.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<String, MapError> {
        timestamp_of(&Value::String(text.into()), "eventTime").map(|t| t.to_string())
    }

    #[test]
    fn offsets_become_utc() {
        for (text, utc) in [
            ("2025-09-10T06:00:00Z", "2025-09-10T06:00:00Z"),
            ("2025-09-10T11:00:00+05:00", "2025-09-10T06:00:00Z"),
            ("2025-09-10T00:30:00.000-06:00", "2025-09-10T06:30:00Z"),
            ("2025-12-31T23:00:00-01:00", "2026-01-01T00:00:00Z"),
        ] {
            assert_eq!(read(text).unwrap(), utc, "{text}");
        }
    }

    #[test]
    fn fractions_zoneless_times_and_nonsense_are_refused() {
        for bad in [
            "2025-09-10T06:00:00.5Z",
            "2025-09-10T06:00:00.0001Z",
            "2025-09-10T06:00:00",
            "2025-09-10T06:00:00+05",
            "2025-09-10 06:00:00Z",
            "2025-02-30T06:00:00Z",
            "1800-01-01T00:00:00Z",
            "2025-09-10T06:00:00.Z",
        ] {
            let error = read(bad).unwrap_err();
            assert_eq!(error.field(), Some("eventTime"), "{bad}");
        }
        assert!(
            read("2025-09-10T06:00:00.5Z")
                .unwrap_err()
                .to_string()
                .contains("whole seconds")
        );
    }
}
