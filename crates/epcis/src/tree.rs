//! JSON event → element tree.
//!
//! The reference implementation hashes XML and JSON-LD events through one
//! intermediate model: a tree of elements, each with a name, a text value and
//! child elements. This module builds that tree from a JSON-LD event and then
//! reshapes it to what the XML binding would give:
//!
//! * object members become child elements named by their key (prefixed keys
//!   written `{namespace}local`); a JSON array becomes one element per item,
//!   all with the array's key;
//! * `rdfs:comment` / `comment` members are dropped, as is `@context`;
//! * children of an object are sorted, except in `bizTransaction`, `source`
//!   and `destination` entries, which keep `type` first;
//! * `xxxList` members are grouped under one `xxxList` element with `xxx`
//!   children (`epcList`/`epc`, `quantityList`/`quantityElement`,
//!   `inputEPCList`/`epc`, `sensorElementList`/`sensorElement`, …);
//!   `childEPCs` items become `epc` children;
//! * `bizTransactionList`, `sourceList` and `destinationList` items become
//!   [`Node::Entry`] pairs of (type, identifier).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::context::{Context, bare_string_expansion};
use crate::number::python_str;

/// One element of the tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) children: Vec<Node>,
}

/// A child in the tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Node {
    Element(Element),
    /// An entry of `bizTransactionList`, `sourceList` or `destinationList`:
    /// its first two members (`type`, then the identifier).
    Entry(Vec<Node>),
}

impl Node {
    /// The element name, if this is an element.
    pub(crate) fn name(&self) -> Option<&str> {
        match self {
            Node::Element(element) => Some(&element.name),
            Node::Entry(_) => None,
        }
    }
}

/// Lists whose entries become [`Node::Entry`] pairs.
const ENTRY_LISTS: [&str; 3] = ["bizTransactionList", "sourceList", "destinationList"];
/// Object members that keep an object's members in (type-first) order.
const ENTRY_KEYS: [&str; 3] = ["bizTransaction", "source", "destination"];
/// Members that never take part in the hash.
const COMMENT_KEYS: [&str; 2] = ["rdfs:comment", "comment"];

/// Converts JSON values to elements for one event.
pub(crate) struct Builder<'a> {
    pub(crate) context: &'a Context,
    pub(crate) vocabulary: &'a BTreeSet<String>,
}

impl Builder<'_> {
    /// Builds and reshapes the tree of an event object.
    pub(crate) fn event(&self, event: &Value) -> Element {
        restructure(self.convert(event))
    }

    /// Bare-string expansion (`"shipping"` → CBV Web URI).
    fn bare(&self, text: &str) -> String {
        bare_string_expansion(self.vocabulary, text).map_or_else(|| text.to_owned(), str::to_owned)
    }

    fn scalar(&self, value: &Value, expand_prefix: bool) -> String {
        match value {
            Value::String(text) => {
                let text = self.bare(text);
                if expand_prefix {
                    self.context.expand_value(&text).into_owned()
                } else {
                    text
                }
            }
            Value::Number(number) => python_str(number),
            // The XML binding (and the reference's XML path) write xsd:boolean
            // as `true` / `false`.
            Value::Bool(flag) => flag.to_string(),
            Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
        }
    }

    fn convert(&self, value: &Value) -> Element {
        match value {
            Value::Array(items) => Element {
                name: String::new(),
                value: String::new(),
                children: items
                    .iter()
                    .map(|item| Node::Element(self.convert(item)))
                    .collect(),
            },
            Value::Object(map) => self.convert_object(map),
            scalar => Element {
                name: String::new(),
                value: self.scalar(scalar, true),
                children: Vec::new(),
            },
        }
    }

    fn convert_object(&self, map: &Map<String, Value>) -> Element {
        let name = match map.get("type") {
            Some(Value::String(text)) => self.bare(text),
            _ => String::new(),
        };
        let value = map
            .get("#text")
            .map(|text| self.scalar(text, false))
            .unwrap_or_default();
        let mut children = Vec::new();
        for (key, member) in map {
            if key == "#text"
                || key == "@context"
                || key.starts_with("@xmlns")
                || COMMENT_KEYS.contains(&key.as_str())
            {
                continue;
            }
            let converted = self.convert(member);
            let key = self.context.expand_key(key).into_owned();
            if member.is_array() {
                for item in converted.children {
                    if let Node::Element(item) = item {
                        children.push(Node::Element(Element {
                            name: key.clone(),
                            value: item.value,
                            children: item.children,
                        }));
                    }
                }
            } else {
                children.push(Node::Element(Element {
                    name: key,
                    value: converted.value,
                    children: converted.children,
                }));
            }
        }
        if ENTRY_KEYS.iter().any(|key| map.contains_key(*key)) {
            // Entries keep document order in the reference, which then uses
            // their first two members; documents put `type` first and the
            // identifier second, so that order is used here whatever order
            // the JSON object had.
            children.sort_by_key(|child| match child.name() {
                Some("type") => 0,
                Some(name) if ENTRY_KEYS.contains(&name) => 1,
                _ => 2,
            });
        } else {
            children.sort();
        }
        Element {
            name,
            value,
            children,
        }
    }
}

/// Reshapes list members and renames list items (recursively).
fn restructure(element: Element) -> Element {
    let Element {
        name,
        value,
        children,
    } = element;
    let mut kept = Vec::with_capacity(children.len());
    let mut lists: Vec<(String, Vec<Element>)> = Vec::new();
    for child in children {
        match child {
            Node::Element(child) if child.name.ends_with("List") => {
                let item = Element {
                    name: child.name[..child.name.len() - 4].to_owned(),
                    value: child.value,
                    children: child.children,
                };
                match lists.iter_mut().find(|(list, _)| *list == child.name) {
                    Some((_, items)) => items.push(item),
                    None => lists.push((child.name, vec![item])),
                }
            }
            other => kept.push(other),
        }
    }
    for (list, items) in lists {
        let children = if ENTRY_LISTS.contains(&list.as_str()) {
            items
                .into_iter()
                .map(|item| Node::Entry(item.children.into_iter().take(2).collect()))
                .collect()
        } else {
            items.into_iter().map(Node::Element).collect()
        };
        kept.push(Node::Element(Element {
            name: list,
            value: String::new(),
            children,
        }));
    }

    let mut child_epcs = Vec::new();
    let mut children = Vec::with_capacity(kept.len());
    for child in kept {
        match child {
            Node::Element(child) if child.name == "childEPCs" => {
                child_epcs.push(Node::Element(Element {
                    name: "epc".to_owned(),
                    value: child.value,
                    children: Vec::new(),
                }));
            }
            other => children.push(other),
        }
    }
    if !child_epcs.is_empty() {
        children.push(Node::Element(Element {
            name: "childEPCs".to_owned(),
            value: String::new(),
            children: child_epcs,
        }));
    }

    let children: Vec<Node> = children
        .into_iter()
        .map(|child| match child {
            Node::Element(child) if !ENTRY_LISTS.contains(&child.name.as_str()) => {
                Node::Element(restructure(child))
            }
            other => other,
        })
        .collect();

    let name = match name.as_str() {
        "inputEPC" | "outputEPC" => "epc".to_owned(),
        "inputQuantity" | "outputQuantity" | "childQuantity" => "quantityElement".to_owned(),
        "quantity" if !children.is_empty() => "quantityElement".to_owned(),
        _ => name,
    };
    Element {
        name,
        value,
        children,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn leaf(name: &str, value: &str) -> Node {
        Node::Element(Element {
            name: name.to_owned(),
            value: value.to_owned(),
            children: Vec::new(),
        })
    }

    fn branch(name: &str, children: Vec<Node>) -> Node {
        Node::Element(Element {
            name: name.to_owned(),
            value: String::new(),
            children,
        })
    }

    #[test]
    fn lists_are_reshaped() {
        let context = Context::new().with_prefix("ex", "https://ex.example/");
        let vocabulary = BTreeSet::from(["https://ref.gs1.org/cbv/BTT-po".to_owned()]);
        let builder = Builder {
            context: &context,
            vocabulary: &vocabulary,
        };
        let event = builder.event(&json!({
            "type": "AggregationEvent",
            "childEPCs": ["b", "a"],
            "inputQuantityList": [{"epcClass": "c", "quantity": 2.0}],
            "bizTransactionList": [{"bizTransaction": "x", "type": "po"}],
            "rdfs:comment": "ignored",
            "ex:flag": true,
            "ex:nothing": null
        }));
        assert_eq!(event.name, "AggregationEvent");
        assert_eq!(
            event.children,
            vec![
                leaf("type", "AggregationEvent"),
                leaf("{https://ex.example/}flag", "true"),
                leaf("{https://ex.example/}nothing", ""),
                branch(
                    "bizTransactionList",
                    vec![Node::Entry(vec![
                        leaf("type", "https://ref.gs1.org/cbv/BTT-po"),
                        leaf("bizTransaction", "x"),
                    ])]
                ),
                branch(
                    "inputQuantityList",
                    vec![branch(
                        "quantityElement",
                        vec![leaf("epcClass", "c"), leaf("quantity", "2.0")]
                    )]
                ),
                branch("childEPCs", vec![leaf("epc", "a"), leaf("epc", "b")]),
            ]
        );
    }
}
