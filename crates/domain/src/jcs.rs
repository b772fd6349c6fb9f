//! RFC 8785, the JSON Canonicalization Scheme (JCS): the bytes of a
//! captured EPCIS event in the log.
//!
//! A JSON value has exactly one JCS text, which any implementation can
//! derive (the RFC's reference implementations, the PyPI `rfc8785`
//! package the tests cross-check with):
//!
//! * **White space** (§3.2.1): none between tokens.
//! * **Literals** (§3.2.2.1): `null`, `true`, `false`.
//! * **Strings** (§3.2.2.2): UTF-8; `"` and `\` escaped with a backslash;
//!   U+0008, U+0009, U+000A, U+000C, U+000D as `\b`, `\t`, `\n`, `\f`,
//!   `\r`; every other code point below U+0020 as `\u00hh` with lower-case
//!   hex; everything else (including U+007F, U+2028 and non-BMP
//!   characters) written as itself.
//! * **Numbers** (§3.2.2.3): the IEEE 754 double the number denotes,
//!   printed as ECMAScript's `Number.prototype.toString` prints it (the
//!   shortest digits that round-trip; `1e+21`, `1e-7`, `0.1`, `-0` as `0`).
//!   JSON integers beyond ±2^53 are first rounded to the nearest double, as
//!   I-JSON (RFC 7493 §2.2) and the RFC's number model require: the
//!   integer `9007199254740993` is written `9007199254740992`, and
//!   `18446744073709551615` is written `18446744073709552000`. NaN and the
//!   infinities have no JSON form (a JSON parser refuses `1e400`).
//! * **Objects** (§3.2.3): members sorted by their names as arrays of
//!   UTF-16 code units (not UTF-8 bytes: `"\u{e000}"` sorts before
//!   `"\u{1f600}"`, whose first code unit is the surrogate `0xd83d`);
//!   names are strings as above. Duplicate names cannot occur (a
//!   `serde_json::Value` holds each once).
//! * **Arrays**: elements in their order.
//!
//! Numbers are printed with the `ryu-js` crate, which implements
//! ECMAScript's algorithm (and is tested here against the RFC's examples).

use serde_json::{Map, Number, Value};

/// The JCS text of a JSON value.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(map, out),
    }
}

/// §3.2.2.3: the number as a double, in ECMAScript's form.
fn write_number(n: &Number, out: &mut String) {
    // u64 and i64 convert to the nearest double (ties to even), as a JSON
    // parser that reads numbers as doubles would read their text.
    let double = if let Some(u) = n.as_u64() {
        u as f64
    } else if let Some(i) = n.as_i64() {
        i as f64
    } else {
        n.as_f64().unwrap_or(f64::NAN)
    };
    if double == 0.0 {
        // -0 is written 0.
        out.push('0');
        return;
    }
    let mut buffer = ryu_js::Buffer::new();
    out.push_str(buffer.format(double));
}

/// §3.2.2.2.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// §3.2.3: members sorted by the UTF-16 code units of their names.
fn write_object(map: &Map<String, Value>, out: &mut String) {
    let mut members: Vec<(Vec<u16>, &String, &Value)> = map
        .iter()
        .map(|(k, v)| (k.encode_utf16().collect(), k, v))
        .collect();
    members.sort_by(|a, b| a.0.cmp(&b.0));
    out.push('{');
    for (i, (_, k, v)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(k, out);
        out.push(':');
        write_value(v, out);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jcs(text: &str) -> String {
        to_string(&serde_json::from_str(text).unwrap())
    }

    /// RFC 8785 §3.2.2.3 and Appendix B: IEEE 754 values and their JCS
    /// text (the ones a JSON number can denote).
    #[test]
    fn numbers_print_as_ecmascript_prints_them() {
        for (bits, want) in [
            (0x0000000000000000_u64, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ] {
            let value = serde_json::Number::from_f64(f64::from_bits(bits))
                .map(Value::Number)
                .unwrap();
            assert_eq!(to_string(&value), want, "{bits:#018x}");
        }
        // JSON numbers as written: integers beyond 2^53 become doubles.
        for (text, want) in [
            ("1e21", "1e+21"),
            ("1E30", "1e+30"),
            ("0.1", "0.1"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1.0", "1"),
            ("4.50", "4.5"),
            ("2e-3", "0.002"),
            ("0.000000000000000000000000001", "1e-27"),
            ("9007199254740993", "9007199254740992"),
            ("18446744073709551615", "18446744073709552000"),
            ("-9223372036854775808", "-9223372036854776000"),
            ("123456789012345678901234567890", "1.2345678901234568e+29"),
        ] {
            assert_eq!(jcs(text), want, "{text}");
        }
        assert!(serde_json::from_str::<Value>("1e400").is_err());
    }

    /// RFC 8785 §3.2.2.2 and the example of §3.2.4.
    #[test]
    fn strings_escape_as_the_rfc_says() {
        assert_eq!(
            jcs(r#""\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/""#),
            "\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\""
        );
        assert_eq!(
            jcs(r#""\u0000\u0008\u0009\u000c\u000d\u001f\u007f\u2028\ud83d\ude00""#),
            "\"\\u0000\\b\\t\\f\\r\\u001f\u{7f}\u{2028}\u{1f600}\""
        );
    }

    /// RFC 8785 §3.2.4 (the example) and §3.2.3 (the sorting example).
    #[test]
    fn the_rfc_examples_come_out_byte_for_byte() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        assert_eq!(
            jcs(input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
        let sorting = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let text = jcs(sorting);
        let order = [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small Letter O With Diaeresis",
            "Euro Sign",
            "Emoji: Grinning Face",
            "Hebrew Letter Dalet With Dagesh",
        ];
        let positions: Vec<usize> = order.iter().map(|n| text.find(n).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        // UTF-8 byte order would put U+FB33 before the emoji.
        assert!(text.find("\u{1f600}").unwrap() < text.find("\u{fb33}").unwrap());
    }

    #[test]
    fn nesting_and_idempotence() {
        let text = jcs(r#"{"b":[1,{"z":null,"a":[]}],"a":{"y":{},"x":-1.5e-9}}"#);
        assert_eq!(
            text,
            r#"{"a":{"x":-1.5e-9,"y":{}},"b":[1,{"a":[],"z":null}]}"#
        );
        assert_eq!(jcs(&text), text);
    }
}
