//! Duplicate member names in a JSON text. serde_json keeps the last value
//! of a name given twice in one object; other parsers keep the first or
//! refuse. A signed capture document must mean one thing to every parser
//! that reads it (I-JSON, RFC 7493 section 2.3), so the walk here finds the
//! first object that names a member twice, after unescaping (`"a"` and
//! `"\u0061"` are the same name).
//!
//! The walk is serde_json's own parser driving a [`Visitor`] that builds
//! the document's `Value` exactly as `serde_json::from_slice` would,
//! refusing a name already in the object being built, and keeps the JSON
//! pointer of where it is: the capture reads its body once, and the walk
//! is bounded by the body's size and by serde_json's recursion limit.

use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A member name given twice in one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Duplicate {
    /// The JSON pointer (RFC 6901) of the object.
    pub(crate) pointer: String,
    /// The name, unescaped.
    pub(crate) name: String,
}

impl fmt::Display for Duplicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = serde_json::to_string(&self.name).map_err(|_| fmt::Error)?;
        if self.pointer.is_empty() {
            write!(f, "the top-level object (pointer \"\")")?;
        } else {
            write!(f, "the object at {}", self.pointer)?;
        }
        write!(
            f,
            " has the member name {name} more than once: a name may appear once per object \
             (I-JSON, RFC 7493), as parsers differ in which value they read"
        )
    }
}

/// What the walk found wrong.
#[derive(Debug)]
pub(crate) enum Problem {
    /// Not JSON (or nested deeper than serde_json's recursion limit).
    Malformed(serde_json::Error),
    /// A member name given twice in one object.
    Duplicate(Duplicate),
}

/// Reads the JSON text `body` into a value, as `serde_json::from_slice`
/// would, refusing the first duplicate member name: one parse does both.
pub(crate) fn parse_unique_names(body: &[u8]) -> Result<Value, Problem> {
    let mut pointer = String::new();
    let mut found = None;
    let mut de = serde_json::Deserializer::from_slice(body);
    let walked = Walk {
        pointer: &mut pointer,
        found: &mut found,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    match (found, walked) {
        (Some(duplicate), _) => Err(Problem::Duplicate(duplicate)),
        (None, Err(e)) => Err(Problem::Malformed(e)),
        (None, Ok(value)) => Ok(value),
    }
}

/// One value of the walk: `pointer` is where it is; `found` takes the
/// first duplicate, which also ends the walk (as an error).
struct Walk<'a> {
    pointer: &'a mut String,
    found: &'a mut Option<Duplicate>,
}

impl Walk<'_> {
    fn inner(&mut self) -> Walk<'_> {
        Walk {
            pointer: self.pointer,
            found: self.found,
        }
    }
}

/// Appends a reference token to a JSON pointer (`~` → `~0`, `/` → `~1`).
fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Each value as serde_json's own `Value` deserializer builds it.
impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        let at = self.pointer.len();
        let mut items = Vec::new();
        loop {
            push_token(self.pointer, &items.len().to_string());
            let item = seq.next_element_seed(self.inner())?;
            self.pointer.truncate(at);
            match item {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let at = self.pointer.len();
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                let duplicate = Duplicate {
                    pointer: self.pointer.clone(),
                    name,
                };
                let message = duplicate.to_string();
                *self.found = Some(duplicate);
                return Err(A::Error::custom(message));
            }
            push_token(self.pointer, &name);
            let value = map.next_value_seed(self.inner())?;
            self.pointer.truncate(at);
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(text: &str) -> Option<(String, String)> {
        match parse_unique_names(text.as_bytes()) {
            Ok(value) => {
                // Read as serde_json reads it.
                assert_eq!(
                    value,
                    serde_json::from_str::<Value>(text).unwrap(),
                    "{text}"
                );
                None
            }
            Err(Problem::Duplicate(d)) => Some((d.pointer, d.name)),
            Err(Problem::Malformed(e)) => panic!("{text}: {e}"),
        }
    }

    fn dup(pointer: &str, name: &str) -> Option<(String, String)> {
        Some((pointer.to_owned(), name.to_owned()))
    }

    #[test]
    fn a_name_twice_at_the_top_level_is_found() {
        assert_eq!(duplicate(r#"{"a": 1, "b": 2, "a": 3}"#), dup("", "a"));
        // The same value twice is a duplicate too.
        assert_eq!(duplicate(r#"{"a": 1, "a": 1}"#), dup("", "a"));
    }

    #[test]
    fn a_duplicate_in_a_nested_object_is_found_with_its_pointer() {
        let text = r#"{"epcisBody": {"eventList": [{"type": "ObjectEvent"},
            {"bizLocation": {"id": "x"}, "readPoint": {}, "bizLocation": {"id": "y"}}]}}"#;
        assert_eq!(
            duplicate(text),
            dup("/epcisBody/eventList/1", "bizLocation")
        );
        let deeper = r#"{"a": [[{"b": {"c": 1, "c": 2}}]]}"#;
        assert_eq!(duplicate(deeper), dup("/a/0/0/b", "c"));
    }

    #[test]
    fn names_equal_after_unescaping_are_duplicates() {
        assert_eq!(duplicate(r#"{"a": 1, "\u0061": 2}"#), dup("", "a"));
        assert_eq!(
            duplicate(r#"{"x": {"bizLocation": 1, "biz\u004cocation": 2}}"#),
            dup("/x", "bizLocation")
        );
        assert_eq!(duplicate(r#"{"\/": 1, "/": 2}"#), dup("", "/"));
        // Escapes that differ after unescaping are different names.
        assert_eq!(duplicate(r#"{"a": 1, "\u0041": 2}"#), None);
    }

    #[test]
    fn the_pointer_escapes_tilde_and_slash() {
        assert_eq!(
            duplicate(r#"{"a/b": {"~c": {"d": 1, "d": 2}}}"#),
            dup("/a~1b/~0c", "d")
        );
    }

    #[test]
    fn the_same_name_in_sibling_or_nested_objects_is_no_duplicate() {
        assert_eq!(
            duplicate(r#"{"a": {"id": 1}, "b": {"id": 2}, "c": [{"id": 3}, {"id": 4}], "id": 5}"#),
            None
        );
        assert_eq!(duplicate(r#"{"a": {"a": {"a": 1}}}"#), None);
        assert_eq!(duplicate(r#"[1, "s", null, true, 1.5, -3, {}, []]"#), None);
    }

    #[test]
    fn not_json_is_malformed() {
        for text in ["{\"a\": 1,}", "{\"a\" 1}", "{} {}", "", "[1"] {
            assert!(
                matches!(
                    parse_unique_names(text.as_bytes()),
                    Err(Problem::Malformed(_))
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn nesting_deeper_than_the_recursion_limit_is_refused_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            parse_unique_names(deep.as_bytes()),
            Err(Problem::Malformed(_))
        ));
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_unique_names(fine.as_bytes()).is_ok());
    }

    #[test]
    fn the_message_names_the_object_and_the_name() {
        let d = Duplicate {
            pointer: "/epcisBody/eventList/0".into(),
            name: "bizLocation".into(),
        };
        let m = d.to_string();
        assert!(m.contains("/epcisBody/eventList/0"), "{m}");
        assert!(m.contains("\"bizLocation\""), "{m}");
    }
}
