//! Parsing parameters: URL pairs and named-query JSON into restrictions and controls.

use serde_json::Value;

use super::extension::{Alternative, Comparison, ExtensionTest, Operand, ValueTest, parse_name};
use super::normalise::{expand_curie, identifier, vocabulary_value};
use super::pattern::parse_id_pattern;
use super::restriction::{
    Bound, Entries, Field, IdLists, Measure, NumberTest, Restriction, SensorKind, SensorMember,
    SensorTimeField, TimeField,
};
use super::{EventQuery, OrderBy, QueryError, invalid, timestamp_millis};
use crate::Context;
use crate::vocab::{self, TermSet};

/// A parameter value: URL text (lists split on `|`) or a JSON value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Input<'a> {
    Text(&'a str),
    Json(&'a Value),
}

fn json_scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null => Some(String::new()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// Most alternatives one parameter may list.
pub(super) const MAX_ALTERNATIVES: usize = 256;
/// Longest value (bytes) one alternative may be.
pub(super) const MAX_VALUE_BYTES: usize = 4096;

fn bounded(name: &str, value: String) -> Result<String, QueryError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(invalid(
            name,
            format!("a value is longer than {MAX_VALUE_BYTES} bytes"),
        ));
    }
    Ok(value)
}

/// `EXISTS_…`: empty, `true` or `1` (JSON `null`, `true`, `1`) restricts;
/// `false` or `0` does not.
fn exists(name: &str, input: Input<'_>) -> Result<bool, QueryError> {
    match input.scalar(name)?.as_str() {
        "" | "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(invalid(name, format!("{other:?} is not true or false"))),
    }
}

impl Input<'_> {
    /// The alternatives of a list parameter. An empty URL value (`EQ_x=`)
    /// or an empty JSON array is the empty list, which the parameter's
    /// restriction turns into "matches no event"; an empty alternative
    /// among others (`a||b`, `a|`, JSON `[""]`, a JSON `""` or `null` taken
    /// as a one-element list) is refused.
    fn list(self, name: &str) -> Result<Vec<String>, QueryError> {
        let count = match self {
            Input::Text(text) => text.bytes().filter(|b| *b == b'|').count() + 1,
            Input::Json(Value::Array(values)) => values.len(),
            Input::Json(_) => 1,
        };
        if count > MAX_ALTERNATIVES {
            return Err(invalid(
                name,
                format!("more than {MAX_ALTERNATIVES} alternatives"),
            ));
        }
        let values: Vec<String> = match self {
            // The whole value empty: the empty list (the REST binding's
            // pipe-delimited arrays have no `minItems`).
            Input::Text("") => Vec::new(),
            Input::Text(text) => text.split('|').map(str::to_owned).collect(),
            Input::Json(Value::Array(values)) => values
                .iter()
                .map(|value| {
                    json_scalar(value)
                        .ok_or_else(|| invalid(name, "list items must be strings or numbers"))
                })
                .collect::<Result<_, _>>()?,
            Input::Json(value) => {
                vec![json_scalar(value).ok_or_else(|| invalid(name, "expected a list of values"))?]
            }
        };
        if values.iter().any(String::is_empty) {
            return Err(invalid(name, "empty value"));
        }
        values
            .into_iter()
            .map(|value| bounded(name, value))
            .collect()
    }

    fn scalar(self, name: &str) -> Result<String, QueryError> {
        let value = match self {
            Input::Text(text) => text.to_owned(),
            Input::Json(value) => {
                json_scalar(value).ok_or_else(|| invalid(name, "expected a single value"))?
            }
        };
        bounded(name, value)
    }

    fn positive<T: std::str::FromStr + PartialEq + From<u8>>(
        self,
        name: &str,
    ) -> Result<T, QueryError> {
        let text = self.scalar(name)?;
        text.parse::<T>()
            .ok()
            .filter(|value| *value != T::from(0))
            .ok_or_else(|| invalid(name, format!("expected a positive integer, got {text:?}")))
    }

    fn time(self, name: &str) -> Result<i64, QueryError> {
        let text = self.scalar(name)?;
        timestamp_millis(&text)
            .or_else(|| {
                // A `+` of the offset decoded as a space by form decoding.
                let space = text.rfind(' ')?;
                timestamp_millis(&format!("{}+{}", &text[..space], &text[space + 1..]))
            })
            .ok_or_else(|| invalid(name, format!("not an ISO 8601 date-time: {text:?}")))
    }

    fn number(self, name: &str) -> Result<f64, QueryError> {
        let text = self.scalar(name)?;
        parse_number(name, &text)
    }
}

fn parse_number(name: &str, text: &str) -> Result<f64, QueryError> {
    text.parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
        .ok_or_else(|| invalid(name, format!("not a number: {text:?}")))
}

/// One parsed parameter.
enum Setting {
    Restrict(Restriction),
    PerPage(u32),
    NextPageToken(String),
    OrderBy(OrderBy),
    Descending(bool),
    EventCountLimit(u64),
    MaxEventCount(u64),
}

pub(super) struct Parser {
    /// Prefixes for CURIE values (a named query's `@context`).
    pub(super) context: Context,
    pub(super) query: EventQuery,
}

impl Parser {
    pub(super) fn parameter(&mut self, name: &str, input: Input<'_>) -> Result<(), QueryError> {
        let key = match name {
            "PerPage" => "perPage",
            "NextPageToken" => "nextPageToken",
            "GE_errorDeclaration_Time" => "GE_errorDeclarationTime",
            "LT_errorDeclaration_Time" => "LT_errorDeclarationTime",
            other => other,
        };
        // An empty orderBy names no field: the repository's order, as if
        // absent (the binding's schema takes any string there).
        if key == "orderBy" && matches!(input, Input::Text("")) {
            return Ok(());
        }
        let setting = self.parse(key, name, input)?;
        let query = &mut self.query;
        let repeated = match setting {
            Setting::Restrict(restriction) => query
                .restrictions
                .insert(key.to_owned(), restriction)
                .is_some(),
            Setting::PerPage(value) => query.per_page.replace(value).is_some(),
            Setting::NextPageToken(value) => query.next_page_token.replace(value).is_some(),
            Setting::OrderBy(value) => query.order_by.replace(value).is_some(),
            Setting::Descending(value) => query.descending.replace(value).is_some(),
            Setting::EventCountLimit(value) => query.event_count_limit.replace(value).is_some(),
            Setting::MaxEventCount(value) => query.max_event_count.replace(value).is_some(),
        };
        if repeated {
            return Err(invalid(name, "given more than once"));
        }
        Ok(())
    }

    fn parse(&self, key: &str, name: &str, input: Input<'_>) -> Result<Setting, QueryError> {
        let any_of = |field: Field, values: Vec<String>| -> Result<Setting, QueryError> {
            Ok(Setting::Restrict(Restriction::AnyOf { field, values }))
        };
        let time = |field: TimeField, bound: Bound| -> Result<Setting, QueryError> {
            Ok(Setting::Restrict(Restriction::Time {
                field,
                bound,
                millis: input.time(name)?,
            }))
        };
        let matching = |lists: IdLists| -> Result<Setting, QueryError> {
            let patterns = input
                .list(name)?
                .iter()
                .map(|value| parse_id_pattern(name, value, &self.context))
                .collect::<Result<_, _>>()?;
            Ok(Setting::Restrict(Restriction::Match { lists, patterns }))
        };
        let sensor_time = |field: SensorTimeField, bound: Bound| -> Result<Setting, QueryError> {
            Ok(Setting::Restrict(Restriction::SensorTime {
                field,
                bound,
                millis: input.time(name)?,
            }))
        };
        if let Some(member) = key
            .strip_prefix("EQ_")
            .and_then(|rest| SensorMember::ALL.into_iter().find(|m| m.key() == rest))
        {
            let values = if member.kind() == SensorKind::Boolean {
                vec![input.scalar(name)?]
            } else {
                input.list(name)?
            };
            let values = values
                .iter()
                .map(|value| {
                    member.query_value(value, &self.context).ok_or_else(|| {
                        invalid(
                            name,
                            format!(
                                "{value:?} is not {}",
                                match member.kind() {
                                    SensorKind::Uri => "a URI",
                                    SensorKind::Hex => "hexadecimal binary",
                                    SensorKind::Boolean => "true or false",
                                    SensorKind::Text => "a string",
                                }
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
            return any_of(Field::Sensor(member), values);
        }
        match key {
            "perPage" => Ok(Setting::PerPage(input.positive(name)?)),
            "nextPageToken" => {
                let token = input.scalar(name)?;
                if token.is_empty() {
                    return Err(invalid(name, "empty token"));
                }
                Ok(Setting::NextPageToken(token))
            }
            "orderBy" => match input.scalar(name)?.as_str() {
                "eventTime" => Ok(Setting::OrderBy(OrderBy::EventTime)),
                "recordTime" => Ok(Setting::OrderBy(OrderBy::RecordTime)),
                other => Err(invalid(
                    name,
                    format!("{other:?} is not supported; use eventTime or recordTime"),
                )),
            },
            "orderDirection" => match input.scalar(name)?.as_str() {
                "ASC" => Ok(Setting::Descending(false)),
                "DESC" => Ok(Setting::Descending(true)),
                other => Err(invalid(name, format!("{other:?} is not ASC or DESC"))),
            },
            "eventCountLimit" => Ok(Setting::EventCountLimit(input.positive(name)?)),
            "maxEventCount" => Ok(Setting::MaxEventCount(input.positive(name)?)),
            "eventType" => {
                let mut types = Vec::new();
                for kind in input.list(name)? {
                    if !(EVENT_TYPES.contains(&kind.as_str()) || kind.contains(':')) {
                        return Err(invalid(
                            name,
                            format!("{kind:?} is not an EPCIS event type"),
                        ));
                    }
                    types.push(expand_curie(&kind, &self.context));
                }
                any_of(Field::Type, types)
            }
            "GE_eventTime" => time(TimeField::Event, Bound::AtLeast),
            "LT_eventTime" => time(TimeField::Event, Bound::Before),
            "GE_recordTime" => time(TimeField::Record, Bound::AtLeast),
            "LT_recordTime" => time(TimeField::Record, Bound::Before),
            "GE_errorDeclarationTime" => time(TimeField::ErrorDeclaration, Bound::AtLeast),
            "LT_errorDeclarationTime" => time(TimeField::ErrorDeclaration, Bound::Before),
            "EQ_action" => {
                let actions = input.list(name)?;
                if let Some(bad) = actions
                    .iter()
                    .find(|action| !["ADD", "OBSERVE", "DELETE"].contains(&action.as_str()))
                {
                    return Err(invalid(
                        name,
                        format!("{bad:?} is not ADD, OBSERVE or DELETE"),
                    ));
                }
                any_of(Field::Action, actions)
            }
            "EQ_bizStep" => any_of(
                Field::BizStep,
                self.vocabulary(name, input, &vocab::BIZ_STEP)?,
            ),
            "EQ_disposition" => any_of(
                Field::Disposition,
                self.vocabulary(name, input, &vocab::DISPOSITION)?,
            ),
            "EQ_persistentDisposition_set" => any_of(
                Field::PersistentSet,
                self.vocabulary(name, input, &vocab::DISPOSITION)?,
            ),
            "EQ_persistentDisposition_unset" => any_of(
                Field::PersistentUnset,
                self.vocabulary(name, input, &vocab::DISPOSITION)?,
            ),
            "EQ_errorReason" => any_of(
                Field::ErrorReason,
                self.vocabulary(name, input, &vocab::ERROR_REASON)?,
            ),
            "EQ_type" => any_of(
                Field::SensorType,
                self.vocabulary(name, input, &vocab::MEASUREMENT_TYPE)?,
            ),
            "EQ_readPoint" | "WD_readPoint" => {
                any_of(Field::ReadPoint, self.identifiers(name, input)?)
            }
            "EQ_bizLocation" | "WD_bizLocation" => {
                any_of(Field::BizLocation, self.identifiers(name, input)?)
            }
            "EQ_transformationID" => {
                any_of(Field::TransformationId, self.identifiers(name, input)?)
            }
            "EQ_eventID" => any_of(Field::EventId, event_ids(name, input)?),
            "EQ_correctiveEventID" => any_of(Field::CorrectiveEventId, event_ids(name, input)?),
            "EXISTS_errorDeclaration" => Ok(Setting::Restrict(Restriction::ErrorDeclaration(
                exists(name, input)?,
            ))),
            "EXISTS_sensorElementList" => Ok(Setting::Restrict(Restriction::SensorElements(
                exists(name, input)?,
            ))),
            "GE_time" => sensor_time(SensorTimeField::Time, Bound::AtLeast),
            "LT_time" => sensor_time(SensorTimeField::Time, Bound::Before),
            "GE_startTime" => sensor_time(SensorTimeField::Start, Bound::AtLeast),
            "LT_startTime" => sensor_time(SensorTimeField::Start, Bound::Before),
            "GE_endTime" => sensor_time(SensorTimeField::End, Bound::AtLeast),
            "LT_endTime" => sensor_time(SensorTimeField::End, Bound::Before),
            "MATCH_epc" => matching(IdLists::Epc),
            "MATCH_parentID" => matching(IdLists::ParentId),
            "MATCH_inputEPC" => matching(IdLists::InputEpc),
            "MATCH_outputEPC" => matching(IdLists::OutputEpc),
            "MATCH_anyEPC" => matching(IdLists::AnyEpc),
            "MATCH_epcClass" => matching(IdLists::EpcClass),
            "MATCH_inputEPCClass" => matching(IdLists::InputEpcClass),
            "MATCH_outputEPCClass" => matching(IdLists::OutputEpcClass),
            "MATCH_anyEPCClass" => matching(IdLists::AnyEpcClass),
            _ => self.parse_family(key, name, input),
        }
    }

    /// Parameters whose name carries a type or a unit of measure.
    fn parse_family(&self, key: &str, name: &str, input: Input<'_>) -> Result<Setting, QueryError> {
        let unknown = || QueryError::UnknownParameter(name.to_owned());
        for (prefix, list) in [
            ("EQ_bizTransaction_", Entries::BizTransaction),
            ("EQ_source_", Entries::Source),
            ("EQ_destination_", Entries::Destination),
        ] {
            if let Some(kind) = key.strip_prefix(prefix) {
                let types = list.spec().types;
                let kind = if kind.contains(':') {
                    vocabulary_value(kind, &types, &self.context)
                } else {
                    types.expand(kind).ok_or_else(unknown)?
                };
                return Ok(Setting::Restrict(Restriction::AnyOf {
                    field: Field::Entry { list, kind },
                    values: self.identifiers(name, input)?,
                }));
            }
        }
        if key.starts_with("EQ_ATTR_") || key.starts_with("HASATTR_") {
            return Err(invalid(
                name,
                "master-data attributes are not supported: this repository holds no master data",
            ));
        }
        if key.contains(':') {
            return self.parse_extension(key, name, input);
        }
        let (operator, rest) = key.split_once('_').ok_or_else(unknown)?;
        let (measure, uom) = match rest.split_once('_') {
            Some((measure, uom)) => (measure, Some(uom)),
            None => (rest, None),
        };
        if let Some(uom) = uom {
            let uom_ok = (2..=4).contains(&uom.len())
                && uom
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if !uom_ok {
                return Err(unknown());
            }
        }
        // The name first: a bad value of an unknown name is an unknown name.
        let sensor = if measure == "quantity" {
            None
        } else {
            let measure = Measure::ALL
                .into_iter()
                .find(|candidate| candidate.key() == measure)
                .ok_or_else(unknown)?;
            // `percRank` has no uom; every other sensor number has one.
            if (measure == Measure::PercRank) != uom.is_none() {
                return Err(unknown());
            }
            Some(measure)
        };
        let equality = matches!(sensor, None | Some(Measure::Value));
        let test = match operator {
            "GE" => NumberTest::Ge(input.number(name)?),
            "GT" => NumberTest::Gt(input.number(name)?),
            "LE" => NumberTest::Le(input.number(name)?),
            "LT" => NumberTest::Lt(input.number(name)?),
            "EQ" if equality => NumberTest::Eq(
                input
                    .list(name)?
                    .iter()
                    .map(|text| parse_number(name, text))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(unknown()),
        };
        let uom = uom.map(str::to_owned);
        Ok(Setting::Restrict(match sensor {
            None => Restriction::Quantity { uom, test },
            Some(measure) => Restriction::Sensor { measure, uom, test },
        }))
    }

    /// Extension-field parameters ([`super::extension`]).
    fn parse_extension(
        &self,
        key: &str,
        name: &str,
        input: Input<'_>,
    ) -> Result<Setting, QueryError> {
        let parsed = parse_name(key, &self.context)
            .ok_or_else(|| QueryError::UnknownParameter(name.to_owned()))?;
        let test = match parsed.operator {
            "EXISTS" => ValueTest::Exists(exists(name, input)?),
            "EQ" => ValueTest::Equals(
                input
                    .list(name)?
                    .iter()
                    .map(|value| Alternative::new(value, &self.context))
                    .collect(),
            ),
            operator => {
                let comparison = match operator {
                    "GT" => Comparison::Gt,
                    "GE" => Comparison::Ge,
                    "LT" => Comparison::Lt,
                    _ => Comparison::Le,
                };
                let text = input.scalar(name)?;
                let operand = if let Ok(number) = parse_number(name, &text) {
                    Operand::Number(number)
                } else if let Ok(millis) = input.time(name) {
                    Operand::Millis(millis)
                } else {
                    return Err(invalid(
                        name,
                        format!("not a number or an ISO 8601 date-time: {text:?}"),
                    ));
                };
                ValueTest::Compare(comparison, operand)
            }
        };
        Ok(Setting::Restrict(Restriction::Extension(ExtensionTest {
            container: parsed.container,
            inner: parsed.inner,
            name: parsed.name,
            test,
        })))
    }

    /// Vocabulary values as Web URIs; bare words must be standard terms.
    fn vocabulary(
        &self,
        name: &str,
        input: Input<'_>,
        terms: &TermSet,
    ) -> Result<Vec<String>, QueryError> {
        input
            .list(name)?
            .iter()
            .map(|value| {
                if value.contains(':') || terms.expand(value).is_some() {
                    Ok(vocabulary_value(value, terms, &self.context))
                } else {
                    Err(invalid(
                        name,
                        format!(
                            "{value:?} is not a standard value; custom values must be URIs or CURIEs"
                        ),
                    ))
                }
            })
            .collect()
    }

    fn identifiers(&self, name: &str, input: Input<'_>) -> Result<Vec<String>, QueryError> {
        Ok(input
            .list(name)?
            .iter()
            .map(|value| identifier(value, &self.context))
            .collect())
    }
}

/// `EQ_eventID` / `EQ_correctiveEventID` values: event IDs are URIs.
fn event_ids(name: &str, input: Input<'_>) -> Result<Vec<String>, QueryError> {
    let ids = input.list(name)?;
    if let Some(bad) = ids.iter().find(|id| !is_uri(id)) {
        return Err(invalid(
            name,
            format!("{bad:?} is not a URI (an event ID is a URI such as urn:uuid:… or ni:///…)"),
        ));
    }
    Ok(ids)
}

/// Whether `value` starts with an RFC 3986 scheme (`ALPHA *( ALPHA / DIGIT /
/// "+" / "-" / "." ) ":"`) and has no control character or whitespace.
fn is_uri(value: &str) -> bool {
    let Some((scheme, _)) = value.split_once(':') else {
        return false;
    };
    let mut scheme = scheme.bytes();
    scheme.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !value.chars().any(|c| c.is_control() || c.is_whitespace())
}

const EVENT_TYPES: [&str; 5] = [
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
];
