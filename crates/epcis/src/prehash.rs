//! Pre-hash string assembly from the element tree.
//!
//! Fields named in the canonical property order are written first, in that
//! order, as `name=value` (values normalised) or `name` followed by their
//! sub-fields; repeated fields are sorted by their rendered text. Everything
//! the order does not consume (business transactions, sources, destinations,
//! ILMD, user extensions, unknown fields) follows, rendered generically and
//! sorted. User extensions inside `readPoint`, `bizLocation`, sensor elements
//! and similar (keys `{namespace/}local`) are appended to their parent.

use crate::dl::canonical_digital_link;
use crate::number::canonical_number;
use crate::text::py_strip;
use crate::time::normalise_timestamp;
use crate::tree::{Element, Node};
use crate::vocab::CBV_URNS;

/// A field in the canonical property order.
struct Field {
    name: &'static str,
    children: Option<&'static [Field]>,
}

const fn value(name: &'static str) -> Field {
    Field {
        name,
        children: None,
    }
}

const fn nested(name: &'static str, children: &'static [Field]) -> Field {
    Field {
        name,
        children: Some(children),
    }
}

const EPC: &[Field] = &[value("epc")];
const QUANTITY_ELEMENT: &[Field] = &[value("epcClass"), value("quantity"), value("uom")];
const QUANTITY_LIST: &[Field] = &[nested("quantityElement", QUANTITY_ELEMENT)];
const ID: &[Field] = &[value("id")];
const PERSISTENT_DISPOSITION: &[Field] = &[value("set"), value("unset")];
const SENSOR_METADATA: &[Field] = &[
    value("time"),
    value("startTime"),
    value("endTime"),
    value("deviceID"),
    value("deviceMetadata"),
    value("rawData"),
    value("dataProcessingMethod"),
    value("bizRules"),
];
const SENSOR_REPORT: &[Field] = &[
    value("type"),
    value("exception"),
    value("deviceID"),
    value("deviceMetadata"),
    value("rawData"),
    value("dataProcessingMethod"),
    value("time"),
    value("microorganism"),
    value("chemicalSubstance"),
    value("value"),
    value("component"),
    value("stringValue"),
    value("booleanValue"),
    value("hexBinaryValue"),
    value("uriValue"),
    value("minValue"),
    value("maxValue"),
    value("meanValue"),
    value("sDev"),
    value("percRank"),
    value("percValue"),
    value("uom"),
    value("coordinateReferenceSystem"),
];
const SENSOR_ELEMENT: &[Field] = &[
    nested("sensorMetadata", SENSOR_METADATA),
    nested("sensorReport", SENSOR_REPORT),
];
const SENSOR_ELEMENT_LIST: &[Field] = &[nested("sensorElement", SENSOR_ELEMENT)];

/// The canonical property order after `eventType`, as implemented by the
/// reference (and its vectors): `certificationInfo` and `parentID` come
/// before `epcList`. `bizTransactionList`, `sourceList` and
/// `destinationList` are never matched by the reference's order and end up,
/// sorted, among the remaining fields after `sensorElementList`.
const EVENT: &[Field] = &[
    value("eventTime"),
    value("eventTimeZoneOffset"),
    value("certificationInfo"),
    value("parentID"),
    nested("epcList", EPC),
    nested("inputEPCList", EPC),
    nested("childEPCs", EPC),
    nested("quantityList", QUANTITY_LIST),
    nested("childQuantityList", QUANTITY_LIST),
    nested("inputQuantityList", QUANTITY_LIST),
    nested("outputEPCList", EPC),
    nested("outputQuantityList", QUANTITY_LIST),
    value("action"),
    value("transformationID"),
    value("bizStep"),
    value("disposition"),
    nested("persistentDisposition", PERSISTENT_DISPOSITION),
    nested("readPoint", ID),
    nested("bizLocation", ID),
    nested("sensorElementList", SENSOR_ELEMENT_LIST),
];

/// Top-level fields excluded from the hash.
const EXCLUDED: [&str; 4] = ["recordTime", "eventID", "type", "errorDeclaration"];

/// The pre-hash string of a restructured event tree.
pub(crate) fn event_prehash(event: Element) -> String {
    let Element {
        name, mut children, ..
    } = event;
    let ordered = ordered(&mut children, EVENT);
    let rest: Vec<Node> = children
        .into_iter()
        .filter(|child| !child.name().is_some_and(|name| EXCLUDED.contains(&name)))
        .collect();
    format!("eventType={name}{ordered}{}", generic(&rest))
}

/// Normalises one value: CBV URN vocabulary to Web URIs, numbers, and GS1
/// identifiers to canonical Digital Link URIs.
pub(crate) fn canonical_value(text: &str) -> String {
    let text = web_vocabulary(text);
    let text = canonical_number(&text).unwrap_or(text);
    canonical_digital_link(&text).unwrap_or(text)
}

/// `urn:epcglobal:cbv:…` standard vocabulary to CBV Web URIs (anywhere in
/// the value, as the reference does).
fn web_vocabulary(text: &str) -> String {
    CBV_URNS
        .iter()
        .fold(text.to_owned(), |text, (urn, web)| text.replace(urn, web))
}

fn is_timestamp_field(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.contains("time") && !lower.contains("offset")
}

/// Removes and returns user extensions (`{namespace/}local` keys) of a
/// standard field with an extension point. Not done at event level (any
/// sibling named like `eventTime` / `action`) nor for single children.
fn take_extensions(children: &mut Vec<Node>) -> Vec<Node> {
    if children.len() <= 1
        || children.iter().any(|child| {
            child
                .name()
                .is_some_and(|name| name.contains("eventTime") || name.contains("action"))
        })
    {
        return Vec::new();
    }
    let (extensions, rest) = std::mem::take(children).into_iter().partition(|child| {
        child
            .name()
            .is_some_and(|name| name.contains('{') && name.contains("/}"))
    });
    *children = rest;
    extensions
}

/// Renders the fields of `order` found in `children`, consuming the fully
/// rendered ones, then the extensions taken from `children`.
fn ordered(children: &mut Vec<Node>, order: &[Field]) -> String {
    let extensions = take_extensions(children);
    let mut out = String::new();
    for field in order {
        let mut rendered = Vec::new();
        let mut consumed = vec![false; children.len()];
        for (index, child) in children.iter_mut().enumerate() {
            let Node::Element(element) = child else {
                continue;
            };
            if element.name != field.name {
                continue;
            }
            let text = ordered_field(element, field.children);
            if !text.is_empty() {
                rendered.push(text);
            }
            consumed[index] = element.children.is_empty();
        }
        let mut index = 0;
        children.retain(|_| {
            index += 1;
            !consumed[index - 1]
        });
        rendered.sort();
        out.extend(rendered);
    }
    if !extensions.is_empty() {
        out.push_str(&generic(&extensions));
    }
    out
}

fn ordered_field(element: &mut Element, order: Option<&[Field]>) -> String {
    let nested = order.map_or_else(String::new, |order| ordered(&mut element.children, order));
    let mut text = String::new();
    if !element.value.is_empty() {
        let stripped = py_strip(&element.value);
        let normalised = if is_timestamp_field(&element.name) {
            normalise_timestamp(stripped).unwrap_or_else(|| stripped.to_owned())
        } else {
            canonical_value(stripped)
        };
        if !normalised.is_empty() {
            text = format!("={normalised}");
        }
    }
    if text.is_empty() && nested.is_empty() {
        String::new()
    } else {
        format!("{}{text}{nested}", element.name)
    }
}

/// Renders nodes outside the canonical order: `name=value` plus children,
/// sorted, except among `bizTransaction` / `source` / `destination` members.
fn generic(nodes: &[Node]) -> String {
    let mut rendered: Vec<String> = nodes
        .iter()
        .map(|node| match node {
            Node::Entry(members) => generic(members),
            Node::Element(element) => {
                let stripped = py_strip(&element.value);
                let value = if stripped.is_empty() {
                    String::new()
                } else {
                    format!("={}", canonical_value(stripped))
                };
                format!("{}{value}{}", element.name, generic(&element.children))
            }
        })
        .collect();
    let keep_order = nodes.iter().any(|node| {
        node.name()
            .is_some_and(|name| ["bizTransaction", "source", "destination"].contains(&name))
    });
    if nodes.len() > 1 && !keep_order {
        rendered.sort();
    }
    rendered.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(
            canonical_value("urn:epcglobal:cbv:bizstep:receiving"),
            "https://ref.gs1.org/cbv/BizStep-receiving"
        );
        assert_eq!(canonical_value("452.0"), "452");
        assert_eq!(canonical_value("0012"), "12");
        assert_eq!(
            canonical_value("urn:epc:id:sscc:4012345.1112223334"),
            "https://id.gs1.org/00/140123451122233341"
        );
        assert_eq!(canonical_value("OBSERVE"), "OBSERVE");
        assert!(is_timestamp_field("eventTime"));
        assert!(is_timestamp_field("startTime"));
        assert!(!is_timestamp_field("eventTimeZoneOffset"));
        assert!(!is_timestamp_field("value"));
    }
}
