//! Numeric normalisation.
//!
//! The reference implementation passes every value through Python's `float()`;
//! if that succeeds the value is written as an integer when it is integral
//! (`"452.0"` → `452`, `"0012"` → `12`, `"1e3"` → `1000`) and otherwise as
//! Python's shortest round-trip `repr` (`"1.50"` → `1.5`, `"1e-7"` → `1e-07`).
//! JSON numbers reach that step as Python's `str()` of the parsed number, which
//! [`python_str`] reproduces.

use crate::text::py_strip;

/// Canonical form of a numeric string, or `None` if `text` is not a number
/// in Python's `float()` syntax (ASCII digits only) or is not finite.
pub(crate) fn canonical_number(text: &str) -> Option<String> {
    let value = parse_python_float(text)?;
    if !value.is_finite() {
        return None;
    }
    if value.fract() == 0.0 {
        Some(integer_string(value))
    } else {
        Some(python_repr(value))
    }
}

/// Python's `str()` of a JSON number as `json.loads` would produce it.
pub(crate) fn python_str(number: &serde_json::Number) -> String {
    if let Some(unsigned) = number.as_u64() {
        unsigned.to_string()
    } else if let Some(signed) = number.as_i64() {
        signed.to_string()
    } else {
        number
            .as_f64()
            .map_or_else(|| number.to_string(), python_repr)
    }
}

/// Parses `text` like Python's `float()`: optional surrounding whitespace,
/// sign, digits with single underscores between them, optional fraction and
/// exponent, or `inf`/`infinity`/`nan` in any case.
pub(crate) fn parse_python_float(text: &str) -> Option<f64> {
    let text = py_strip(text);
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let magnitude = if lower == "inf" || lower == "infinity" {
        f64::INFINITY
    } else if lower == "nan" {
        f64::NAN
    } else {
        parse_decimal(body.as_bytes())?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `digit (["_"] digit)*` starting at `*at`; returns the digits without
/// underscores and advances `*at`.
fn digit_part(bytes: &[u8], at: &mut usize) -> Option<String> {
    let mut digits = String::new();
    let mut i = *at;
    if !bytes.get(i)?.is_ascii_digit() {
        return None;
    }
    while let Some(&byte) = bytes.get(i) {
        if byte.is_ascii_digit() {
            digits.push(char::from(byte));
            i += 1;
        } else if byte == b'_' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
        } else {
            break;
        }
    }
    *at = i;
    Some(digits)
}

fn parse_decimal(bytes: &[u8]) -> Option<f64> {
    let mut at = 0;
    let integer = digit_part(bytes, &mut at);
    let mut fraction = None;
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        fraction = digit_part(bytes, &mut at);
    }
    if integer.is_none() && fraction.is_none() {
        return None;
    }
    let mut exponent = String::new();
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if let Some(&sign @ (b'+' | b'-')) = bytes.get(at) {
            exponent.push(char::from(sign));
            at += 1;
        }
        exponent.push_str(&digit_part(bytes, &mut at)?);
    }
    if at != bytes.len() {
        return None;
    }
    let literal = format!(
        "{}.{}e{}",
        integer.as_deref().unwrap_or("0"),
        fraction.as_deref().unwrap_or("0"),
        if exponent.is_empty() { "0" } else { &exponent }
    );
    literal.parse().ok()
}

/// Exact decimal digits of an integral, finite `f64` (`-0.0` gives `0`).
pub(crate) fn integer_string(value: f64) -> String {
    // 2^63: below it the conversion to i64 is exact.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if value.abs() < LIMIT {
        return (value as i64).to_string();
    }
    let bits = value.to_bits();
    let biased = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    // |value| = mantissa * 2^(biased - 1075), and the shift is positive here.
    let mut shift = u32::try_from(biased - 1075).unwrap_or(0);
    // Little-endian base-10^9 limbs.
    const BASE: u64 = 1_000_000_000;
    let mut limbs = vec![
        mantissa % BASE,
        (mantissa / BASE) % BASE,
        mantissa / (BASE * BASE),
    ];
    while shift > 0 {
        let step = shift.min(32);
        let mut carry = 0u64;
        for limb in &mut limbs {
            let product = (*limb << step) + carry;
            *limb = product % BASE;
            carry = product / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
        shift -= step;
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut out = String::new();
    if value.is_sign_negative() {
        out.push('-');
    }
    let mut iter = limbs.iter().rev();
    if let Some(first) = iter.next() {
        out.push_str(&first.to_string());
    }
    for limb in iter {
        out.push_str(&format!("{limb:09}"));
    }
    out
}

/// Python's `repr()` of a float: the shortest digits that round-trip, in
/// positional notation when the decimal exponent is in (-4, 16], otherwise
/// as `d.ddde±XX`.
pub(crate) fn python_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .to_owned();
    }
    // Rust's `{:e}` also yields the shortest round-trip digits.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let count = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    let point = exponent + 1;
    let body = if point > -4 && point <= 16 {
        if point <= 0 {
            format!(
                "0.{}{digits}",
                "0".repeat(usize::try_from(-point).unwrap_or(0))
            )
        } else if point >= count {
            format!(
                "{digits}{}.0",
                "0".repeat(usize::try_from(point - count).unwrap_or(0))
            )
        } else {
            let split = usize::try_from(point).unwrap_or(0);
            format!("{}.{}", &digits[..split], &digits[split..])
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{first}{fraction}e{exponent_sign}{:02}", exponent.abs())
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_numbers_match_python() {
        // Expected values produced by the reference implementation.
        let cases = [
            ("1_000", Some("1000")),
            ("0012", Some("12")),
            ("1.50", Some("1.5")),
            ("-0", Some("0")),
            ("1e-7", Some("1e-07")),
            ("1e16", Some("10000000000000000")),
            ("+5", Some("5")),
            ("1.", Some("1")),
            (".5", Some("0.5")),
            ("452.0", Some("452")),
            ("0.1", Some("0.1")),
            ("1e-5", Some("1e-05")),
            ("0.0001", Some("0.0001")),
            ("12345678.9", Some("12345678.9")),
            (
                "1e5_0",
                Some("100000000000000007629769841091887003294964970946560"),
            ),
            (
                "123456789012345678901234567890",
                Some("123456789012345677877719597056"),
            ),
            ("nan", None),
            ("Infinity", None),
            ("", None),
            ("0x10", None),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("1.5e", None),
            (".", None),
            ("e5", None),
            ("+01:00", None),
            ("４２", None),
        ];
        for (input, expected) in cases {
            assert_eq!(canonical_number(input).as_deref(), expected, "{input:?}");
        }
        assert_eq!(canonical_number("1e300").map(|s| s.len()), Some(301));
    }

    #[test]
    fn repr_matches_python() {
        let cases = [
            (452.0, "452.0"),
            (0.1, "0.1"),
            (12.1, "12.1"),
            (1e16, "1e+16"),
            (1e22, "1e+22"),
            (1_234_567_890_123_456.0, "1234567890123456.0"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (-0.0, "-0.0"),
            (1e-100, "1e-100"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_repr(value), expected);
        }
    }

    #[test]
    fn exact_integers() {
        assert_eq!(integer_string(9_007_199_254_740_993.0), "9007199254740992");
        assert_eq!(integer_string(-1e20), "-100000000000000000000");
        assert_eq!(integer_string(2f64.powi(64)), "18446744073709551616");
        assert_eq!(integer_string(-0.0), "0");
    }
}
