//! Extension-field parameters: `EQ_`/`GT_`/`GE_`/`LT_`/`LE_`/`EXISTS_`
//! followed by an optional `INNER_`, an optional container (`ILMD_`,
//! `ERROR_DECLARATION_`, `SENSORELEMENT_`, `SENSORMETADATA_`,
//! `SENSORREPORT_`, `readPoint_`, `bizLocation_`) and a field name that is a
//! CURIE (`example:myField`) or a full IRI.
//!
//! Field names are compared as expanded IRIs: the event's keys with the
//! event's own `@context` (and the GS1 context's prefixes), the query's name
//! with the query's context (a named query's `@context`, the context given
//! to [`EventQuery::from_pairs_with_context`](super::EventQuery::from_pairs_with_context),
//! and the GS1 context's prefixes). A query prefix declared nowhere cannot be
//! expanded; such a name matches event keys spelt exactly the same
//! (`oretrace:commodity` matches the key `oretrace:commodity` whatever IRI
//! the event maps `oretrace` to).

use serde_json::{Map, Value};

use super::normalise::{expand_curie, json_number};
use super::timestamp_millis;
use super::view::EventView;
use crate::Context;
use crate::vocab;

/// How deep `INNER_` parameters look below a container's extension member
/// (the member itself is depth 0 and is not an inner field).
pub(super) const MAX_DEPTH: usize = 8;

/// Where an extension field is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Container {
    /// Top-level members of the event.
    Event,
    Ilmd,
    ErrorDeclaration,
    SensorElement,
    SensorMetadata,
    SensorReport,
    ReadPoint,
    BizLocation,
}

impl Container {
    /// (name infix, container, operators besides `EQ_` allowed, `EXISTS_INNER_` allowed)
    const PREFIXES: [(&'static str, Container, bool, bool); 7] = [
        ("ILMD_", Container::Ilmd, true, true),
        (
            "ERROR_DECLARATION_",
            Container::ErrorDeclaration,
            true,
            true,
        ),
        ("SENSORELEMENT_", Container::SensorElement, true, false),
        ("SENSORMETADATA_", Container::SensorMetadata, true, false),
        ("SENSORREPORT_", Container::SensorReport, true, false),
        ("readPoint_", Container::ReadPoint, false, false),
        ("bizLocation_", Container::BizLocation, false, false),
    ];
}

/// An extension field's name as the query gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FieldName {
    /// An expanded IRI (a full IRI, or a CURIE with a known prefix).
    Iri(String),
    /// A CURIE whose prefix the query does not declare: matched as spelt.
    Spelled(String),
}

impl FieldName {
    fn parse(name: &str, context: &Context) -> Option<FieldName> {
        let (prefix, local) = name.split_once(':')?;
        let prefix_ok = prefix
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
        if !prefix_ok || local.is_empty() || name.chars().any(char::is_whitespace) {
            return None;
        }
        let known = local.starts_with("//")
            || context.prefix(prefix).is_some()
            || vocab::CONTEXT_PREFIXES.iter().any(|(p, _)| *p == prefix);
        Some(if known {
            FieldName::Iri(expand_curie(name, context))
        } else {
            FieldName::Spelled(name.to_owned())
        })
    }

    fn matches(&self, key: &str, context: &Context) -> bool {
        if !key.contains(':') {
            return false;
        }
        match self {
            FieldName::Iri(iri) => expand_curie(key, context) == *iri,
            FieldName::Spelled(spelled) => key == spelled,
        }
    }
}

/// One alternative of an `EQ_` extension parameter, in every form it can
/// compare in.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Alternative {
    raw: String,
    expanded: String,
    number: Option<f64>,
    millis: Option<i64>,
}

impl Alternative {
    pub(super) fn new(raw: &str, context: &Context) -> Alternative {
        Alternative {
            raw: raw.to_owned(),
            expanded: expand_curie(raw, context),
            number: raw.parse::<f64>().ok().filter(|v| v.is_finite()),
            millis: timestamp_millis(raw),
        }
    }

    fn matches(&self, value: &Value, context: &Context) -> bool {
        match value {
            Value::String(text) => {
                *text == self.raw
                    || (text.contains(':') && expand_curie(text, context) == self.expanded)
                    || self.number.is_some_and(|n| json_number(value) == Some(n))
                    || self
                        .millis
                        .is_some_and(|m| timestamp_millis(text) == Some(m))
            }
            Value::Number(number) => self.number.is_some() && number.as_f64() == self.number,
            Value::Bool(flag) => self.raw == flag.to_string(),
            Value::Null | Value::Array(_) | Value::Object(_) => false,
        }
    }
}

/// The operand of a `GT_`/`GE_`/`LT_`/`LE_` extension parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Operand {
    Number(f64),
    Millis(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Comparison {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Comparison {
    fn holds<T: PartialOrd>(self, value: &T, bound: &T) -> bool {
        match self {
            Comparison::Gt => value > bound,
            Comparison::Ge => value >= bound,
            Comparison::Lt => value < bound,
            Comparison::Le => value <= bound,
        }
    }
}

/// What the field's value must satisfy.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ValueTest {
    /// `EQ_`: equal to one alternative.
    Equals(Vec<Alternative>),
    /// `GT_`…: numbers compare with numbers, date-times with date-times.
    Compare(Comparison, Operand),
    /// `EXISTS_`: the field is present (any value); `false` (`EXISTS_…=false`)
    /// does not restrict.
    Exists(bool),
}

impl ValueTest {
    fn holds(&self, value: &Value, context: &Context) -> bool {
        if let ValueTest::Exists(_) = self {
            return true;
        }
        match value {
            Value::Array(values) => {
                return values
                    .iter()
                    .any(|value| !value.is_array() && self.holds(value, context));
            }
            Value::Object(object) => {
                // A JSON-LD value object.
                return object.get("@value").is_some_and(|value| {
                    !value.is_array() && !value.is_object() && self.holds(value, context)
                });
            }
            _ => {}
        }
        match self {
            ValueTest::Exists(_) => true,
            ValueTest::Equals(alternatives) => alternatives
                .iter()
                .any(|alternative| alternative.matches(value, context)),
            ValueTest::Compare(comparison, Operand::Number(bound)) => {
                !value.is_boolean()
                    && json_number(value).is_some_and(|v| comparison.holds(&v, bound))
            }
            ValueTest::Compare(comparison, Operand::Millis(bound)) => value
                .as_str()
                .and_then(timestamp_millis)
                .is_some_and(|v| comparison.holds(&v, bound)),
        }
    }
}

/// One extension-field parameter.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ExtensionTest {
    pub(super) container: Container,
    pub(super) inner: bool,
    pub(super) name: FieldName,
    pub(super) test: ValueTest,
}

/// A parsed extension parameter name: operator, `INNER_`, container, field.
pub(super) struct ExtensionName<'a> {
    pub(super) operator: &'a str,
    pub(super) inner: bool,
    pub(super) container: Container,
    pub(super) name: FieldName,
}

/// Splits `key` into an extension parameter, or `None` when it is not one
/// (or names a combination the standard does not define).
pub(super) fn parse_name<'a>(key: &'a str, context: &Context) -> Option<ExtensionName<'a>> {
    let (operator, rest) = key.split_once('_')?;
    if !["EQ", "GT", "GE", "LT", "LE", "EXISTS"].contains(&operator) {
        return None;
    }
    let (inner, rest) = match rest.strip_prefix("INNER_") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (container, rest) = Container::PREFIXES
        .iter()
        .find_map(|(infix, container, compare, exists_inner)| {
            let rest = rest.strip_prefix(infix)?;
            let allowed = match operator {
                "EQ" => true,
                "EXISTS" => *compare && (!inner || *exists_inner),
                _ => *compare,
            };
            allowed.then_some((*container, rest))
        })
        .or_else(|| {
            // A top-level field; a container infix with a refused operator
            // must not fall through to a top-level name.
            let taken = Container::PREFIXES
                .iter()
                .any(|(infix, ..)| rest.starts_with(infix));
            (!taken).then_some((Container::Event, rest))
        })?;
    Some(ExtensionName {
        operator,
        inner,
        container,
        name: FieldName::parse(rest, context)?,
    })
}

impl ExtensionTest {
    pub(super) fn holds(&self, view: &EventView<'_>) -> bool {
        if self.test == ValueTest::Exists(false) {
            return true;
        }
        let context = view.context();
        view.containers(self.container).into_iter().any(|members| {
            members.iter().any(|(key, value)| {
                if key.starts_with('@') {
                    return false;
                }
                if self.inner {
                    key.contains(':') && self.inner_holds(value, context, 1)
                } else {
                    self.name.matches(key, context) && self.test.holds(value, context)
                }
            })
        })
    }

    /// Whether some field below `value` (at `depth`, at most [`MAX_DEPTH`])
    /// has the name and passes the test.
    fn inner_holds(&self, value: &Value, context: &Context, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match value {
            Value::Object(members) => members.iter().any(|(key, value)| {
                (!key.starts_with('@')
                    && self.name.matches(key, context)
                    && self.test.holds(value, context))
                    || self.inner_holds(value, context, depth + 1)
            }),
            Value::Array(values) => values
                .iter()
                .any(|value| self.inner_holds(value, context, depth + 1)),
            _ => false,
        }
    }
}

/// The members of `container` objects found in `event`.
pub(super) fn containers(
    event: &Map<String, Value>,
    container: Container,
) -> Vec<&Map<String, Value>> {
    let object = |key: &str| event.get(key).and_then(Value::as_object);
    let elements = || {
        event
            .get("sensorElementList")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(Value::as_object)
    };
    match container {
        Container::Event => vec![event],
        Container::Ilmd => object("ilmd").into_iter().collect(),
        Container::ErrorDeclaration => object("errorDeclaration").into_iter().collect(),
        Container::ReadPoint => object("readPoint").into_iter().collect(),
        Container::BizLocation => object("bizLocation").into_iter().collect(),
        Container::SensorElement => elements().collect(),
        Container::SensorMetadata => elements()
            .filter_map(|element| element.get("sensorMetadata").and_then(Value::as_object))
            .collect(),
        Container::SensorReport => elements()
            .flat_map(|element| {
                element
                    .get("sensorReport")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice)
            })
            .filter_map(Value::as_object)
            .collect(),
    }
}
