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
    /// A bound of [`Bounds`] exceeded: the walk stops there, before the
    /// rest of the document is built.
    Bound(Bound),
}

/// How many JSON values (nodes: each object, array, string, number,
/// boolean and null counts one) a document may hold, and how deep they
/// may nest. A parsed value takes far more memory
/// than its text (a one-member object is a few bytes of JSON and over
/// 600 bytes as a `Value`), and every later stage of a capture (schema,
/// hash, log entry) works per node: these bound that work before it is
/// done, as the document is read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    /// Nodes in the whole document.
    pub(crate) document_nodes: usize,
    /// Nesting depth (the top-level value is at depth 1).
    pub(crate) depth: usize,
}

/// A bound exceeded: where, and which.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Bound {
    /// The JSON pointer of the value where the bound was crossed (the
    /// document's, "", for the node bound).
    pub(crate) pointer: String,
    /// What was exceeded, naming the bound.
    pub(crate) message: String,
}

/// The walk's count: nodes so far, and the bound exceeded, if any.
struct Count {
    bounds: Bounds,
    nodes: usize,
    exceeded: Option<Bound>,
}

impl Count {
    /// Counts one node at `depth`, below `pointer`; a bound exceeded is
    /// kept and returned as the error that ends the walk.
    fn node(&mut self, pointer: &str, depth: usize) -> Result<(), String> {
        self.nodes += 1;
        let b = self.bounds;
        let exceeded = if depth > b.depth {
            Some(Bound {
                pointer: pointer.to_owned(),
                message: format!(
                    "the value is nested {depth} levels deep, at most {} (capture nesting bound)",
                    b.depth
                ),
            })
        } else if self.nodes > b.document_nodes {
            Some(Bound {
                pointer: String::new(),
                message: format!(
                    "the document holds more than {} JSON values (objects, arrays, strings, \
                     numbers, booleans, nulls), at most {} (capture document node bound)",
                    b.document_nodes, b.document_nodes
                ),
            })
        } else {
            None
        };
        match exceeded {
            Some(bound) => {
                let message = bound.message.clone();
                self.exceeded = Some(bound);
                Err(message)
            }
            None => Ok(()),
        }
    }
}

/// Reads the JSON text `body` into a value, as `serde_json::from_slice`
/// would, refusing the first duplicate member name and stopping at the
/// first bound exceeded: one parse does all.
pub(crate) fn parse_unique_names(body: &[u8], bounds: Bounds) -> Result<Value, Problem> {
    let mut pointer = String::new();
    let mut found = None;
    let mut count = Count {
        bounds,
        nodes: 0,
        exceeded: None,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let walked = Walk {
        pointer: &mut pointer,
        found: &mut found,
        count: &mut count,
        depth: 1,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    match (found, count.exceeded, walked) {
        (Some(duplicate), _, _) => Err(Problem::Duplicate(duplicate)),
        (None, Some(bound), _) => Err(Problem::Bound(bound)),
        (None, None, Err(e)) => Err(Problem::Malformed(e)),
        (None, None, Ok(value)) => Ok(value),
    }
}

/// One value of the walk: `pointer` is where it is; `found` takes the
/// first duplicate, which also ends the walk (as an error).
struct Walk<'a> {
    pointer: &'a mut String,
    found: &'a mut Option<Duplicate>,
    count: &'a mut Count,
    /// The depth of the value walked (the top level is 1).
    depth: usize,
}

impl Walk<'_> {
    fn inner(&mut self) -> Walk<'_> {
        Walk {
            pointer: self.pointer,
            found: self.found,
            count: self.count,
            depth: self.depth + 1,
        }
    }

    /// Counts this value as one node.
    fn node<E: serde::de::Error>(&mut self) -> Result<(), E> {
        self.count.node(self.pointer, self.depth).map_err(E::custom)
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

    fn visit_bool<E: serde::de::Error>(mut self, b: bool) -> Result<Value, E> {
        self.node()?;
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: serde::de::Error>(mut self, n: i64) -> Result<Value, E> {
        self.node()?;
        Ok(Value::from(n))
    }
    fn visit_u64<E: serde::de::Error>(mut self, n: u64) -> Result<Value, E> {
        self.node()?;
        Ok(Value::from(n))
    }
    fn visit_f64<E: serde::de::Error>(mut self, n: f64) -> Result<Value, E> {
        self.node()?;
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: serde::de::Error>(mut self, s: &str) -> Result<Value, E> {
        self.node()?;
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E: serde::de::Error>(mut self, s: String) -> Result<Value, E> {
        self.node()?;
        Ok(Value::String(s))
    }
    fn visit_unit<E: serde::de::Error>(mut self) -> Result<Value, E> {
        self.node()?;
        Ok(Value::Null)
    }
    fn visit_none<E: serde::de::Error>(mut self) -> Result<Value, E> {
        self.node()?;
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        self.node()?;
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
        self.node()?;
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

    const UNBOUNDED: Bounds = Bounds {
        document_nodes: usize::MAX,
        depth: usize::MAX,
    };

    fn bounded(text: &str, bounds: Bounds) -> Result<Value, Problem> {
        parse_unique_names(text.as_bytes(), bounds)
    }

    #[test]
    fn the_bounds_stop_the_walk_at_the_node_count_or_the_depth() {
        let b = |document_nodes, depth| Bounds {
            document_nodes,
            depth,
        };
        let doc = r#"{"epcisBody":{"eventList":[{"a":1},{"a":[1,2,3,4]}]},"z":[1,2,3]}"#;
        // 15 nodes in all; depth 6.
        assert!(bounded(doc, b(15, 6)).is_ok());
        match bounded(doc, b(14, 6)) {
            Err(Problem::Bound(bound)) => {
                assert_eq!(bound.pointer, "");
                assert!(
                    bound
                        .message
                        .contains("at most 14 (capture document node bound)"),
                    "{}",
                    bound.message
                );
            }
            other => panic!("{other:?}"),
        }
        match bounded(doc, b(15, 5)) {
            Err(Problem::Bound(bound)) => {
                assert_eq!(bound.pointer, "/epcisBody/eventList/1/a/0");
                assert!(
                    bound.message.contains("at most 5 (capture nesting bound)"),
                    "{}",
                    bound.message
                );
            }
            other => panic!("{other:?}"),
        }
    }

    fn duplicate(text: &str) -> Option<(String, String)> {
        match parse_unique_names(text.as_bytes(), UNBOUNDED) {
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
            Err(Problem::Bound(b)) => panic!("{text}: {b:?}"),
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
                    parse_unique_names(text.as_bytes(), UNBOUNDED),
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
            parse_unique_names(deep.as_bytes(), UNBOUNDED),
            Err(Problem::Malformed(_))
        ));
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_unique_names(fine.as_bytes(), UNBOUNDED).is_ok());
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
