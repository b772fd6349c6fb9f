//! Exact decimals as JSON numbers.
//!
//! EPCIS quantities and sensor values are JSON numbers, which serde_json
//! (like most JSON readers) holds as IEEE doubles. A decimal with at most
//! 15 significant digits survives that trip exactly: its shortest
//! round-trip form is the decimal itself. So a number is accepted only with
//! at most 15 significant digits and 12 decimal places (the domain's
//! limit), and a record whose decimals exceed that has no event.

use std::str::FromStr as _;

use oretrace_domain::values::format_decimal;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::MapError;

/// Most significant digits a JSON number carries exactly.
pub const MAX_SIGNIFICANT_DIGITS: u32 = 15;
/// Most decimal places of a registry decimal.
pub const MAX_DECIMAL_PLACES: u32 = 12;

fn significant_digits(value: &Decimal) -> u32 {
    let mut mantissa = value.mantissa().unsigned_abs();
    if mantissa == 0 {
        return 1;
    }
    while mantissa.is_multiple_of(10) {
        mantissa /= 10;
    }
    mantissa.ilog10() + 1
}

/// The decimal a JSON number states, exactly.
pub(crate) fn decimal_of(value: &Value, field: &str) -> Result<Decimal, MapError> {
    let Value::Number(number) = value else {
        return Err(MapError::invalid(field, "a JSON number expected"));
    };
    let text = number.to_string();
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(&text)
    } else {
        Decimal::from_str(&text)
    };
    let decimal = parsed
        .map_err(|_| MapError::invalid(field, format!("{text} is out of range")))?
        .normalize();
    if decimal.scale() > MAX_DECIMAL_PLACES {
        return Err(MapError::invalid(
            field,
            format!("{text} has more than {MAX_DECIMAL_PLACES} decimal places"),
        ));
    }
    if significant_digits(&decimal) > MAX_SIGNIFICANT_DIGITS {
        return Err(MapError::invalid(
            field,
            format!(
                "{text} has more than {MAX_SIGNIFICANT_DIGITS} significant digits, \
                 more than a JSON number keeps exactly"
            ),
        ));
    }
    Ok(decimal)
}

/// The JSON number for a decimal, or `None` when no JSON number states it
/// exactly (see the module docs).
pub(crate) fn number_of(decimal: &Decimal) -> Option<Value> {
    let value: Value = serde_json::from_str(&format_decimal(decimal)).ok()?;
    (decimal_of(&value, "").ok()? == decimal.normalize()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn exact_decimals_round_trip_through_json_numbers() {
        for text in [
            "0",
            "60",
            "38.5",
            "0.55",
            "4.49",
            "0.000000000001",
            "123456789012345",
            "100000000000000000000",
            "99.999999999999",
        ] {
            let value = number_of(&d(text)).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(decimal_of(&value, "x").unwrap(), d(text), "{text}");
        }
    }

    #[test]
    fn inexact_decimals_have_no_number() {
        for text in [
            "1234567890123456",
            "0.1234567890123456",
            "0.0000000000001",
            "18446744073709551615",
        ] {
            assert_eq!(number_of(&d(text)), None, "{text}");
        }
    }

    #[test]
    fn numbers_that_lost_digits_are_refused() {
        let value: Value = serde_json::from_str("0.12345678901234567").unwrap();
        let error = decimal_of(&value, "quantity").unwrap_err();
        assert!(error.to_string().starts_with("quantity: "), "{error}");
        assert!(decimal_of(&Value::String("1".into()), "q").is_err());
        let value: Value = serde_json::from_str("1e-7").unwrap();
        assert_eq!(decimal_of(&value, "q").unwrap(), d("0.0000001"));
    }
}
