//! Restrictions: what one parameter demands of an event, and its index terms.

use std::collections::BTreeSet;

use serde_json::Value;

use super::extension::{ExtensionTest, ValueTest};
use super::normalise::{canonical_id, identifier, json_number};
use super::pattern::IdPattern;
use super::timestamp_millis;
use super::view::EventView;
use crate::Context;
use crate::vocab::{self, TermSet};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Restriction {
    /// Some value of `field` equals one of `values` (both normalised).
    AnyOf { field: Field, values: Vec<String> },
    /// Some identifier in `lists` matches one of `patterns`.
    Match {
        lists: IdLists,
        patterns: Vec<IdPattern>,
    },
    Time {
        field: TimeField,
        bound: Bound,
        millis: i64,
    },
    /// Some sensor report with this `uom` (any report when `None`) passes
    /// `test` on `measure`.
    Sensor {
        measure: Measure,
        uom: Option<String>,
        test: NumberTest,
    },
    /// Some sensor metadata / report time is within the bound.
    SensorTime {
        field: SensorTimeField,
        bound: Bound,
        millis: i64,
    },
    /// Some quantity element with this `uom` (`None`: without a uom) passes
    /// `test` on its `quantity`.
    Quantity {
        uom: Option<String>,
        test: NumberTest,
    },
    /// `EXISTS_errorDeclaration` (restricts only when `true`).
    ErrorDeclaration(bool),
    /// `EXISTS_sensorElementList` (restricts only when `true`).
    SensorElements(bool),
    /// An extension-field parameter.
    Extension(ExtensionTest),
}

impl Restriction {
    pub(super) fn holds(&self, view: &EventView<'_>, record_time_ms: i64) -> bool {
        match self {
            Restriction::AnyOf { field, values } => view
                .values(field)
                .iter()
                .any(|value| values.contains(value)),
            Restriction::Match { lists, patterns } => view.ids(*lists).iter().any(|id| {
                let canonical = canonical_id(id);
                patterns.iter().any(|pattern| match pattern {
                    IdPattern::Exact(value) => *value == canonical,
                    IdPattern::Epc(pattern) => pattern.matches(id, &canonical),
                })
            }),
            Restriction::Time {
                field,
                bound,
                millis,
            } => {
                let time = match field {
                    TimeField::Event => view.text("eventTime").and_then(timestamp_millis),
                    TimeField::Record => Some(record_time_ms),
                    TimeField::ErrorDeclaration => view
                        .error_declaration()
                        .and_then(|declaration| declaration.get("declarationTime"))
                        .and_then(Value::as_str)
                        .and_then(timestamp_millis),
                };
                time.is_some_and(|time| match bound {
                    Bound::AtLeast => time >= *millis,
                    Bound::Before => time < *millis,
                })
            }
            Restriction::Sensor { measure, uom, test } => view.sensor_reports().any(|report| {
                uom.as_ref()
                    .is_none_or(|uom| report.get("uom").and_then(Value::as_str) == Some(uom))
                    && report
                        .get(measure.key())
                        .and_then(json_number)
                        .is_some_and(|value| test.holds(value))
            }),
            Restriction::SensorTime {
                field,
                bound,
                millis,
            } => {
                let key = field.key();
                let reports = (*field == SensorTimeField::Time)
                    .then(|| view.sensor_reports())
                    .into_iter()
                    .flatten();
                view.sensor_metadata()
                    .chain(reports)
                    .filter_map(|object| object.get(key).and_then(Value::as_str))
                    .filter_map(timestamp_millis)
                    .any(|time| match bound {
                        Bound::AtLeast => time >= *millis,
                        Bound::Before => time < *millis,
                    })
            }
            Restriction::Quantity { uom, test } => view
                .quantities()
                .any(|(quantity, found)| found == uom.as_deref() && test.holds(quantity)),
            Restriction::ErrorDeclaration(required) => {
                !required || view.error_declaration().is_some()
            }
            Restriction::SensorElements(required) => !required || view.has_sensor_elements(),
            Restriction::Extension(test) => test.holds(view),
        }
    }

    /// Whether this is a disjunction over no values (an `EQ_…`/`MATCH_…`
    /// parameter given the empty list), which no event satisfies.
    fn lists_no_values(&self) -> bool {
        match self {
            Restriction::AnyOf { values, .. } => values.is_empty(),
            Restriction::Match { patterns, .. } => patterns.is_empty(),
            Restriction::Sensor {
                test: NumberTest::Eq(values),
                ..
            }
            | Restriction::Quantity {
                test: NumberTest::Eq(values),
                ..
            } => values.is_empty(),
            Restriction::Extension(ExtensionTest {
                test: ValueTest::Equals(alternatives),
                ..
            }) => alternatives.is_empty(),
            _ => false,
        }
    }

    /// (priority, terms): the index terms one of which a matching event has.
    /// A restriction over no values has no terms at the best priority: no
    /// event can match, so a store need scan nothing.
    pub(super) fn index_terms(&self) -> Option<(u8, Vec<String>)> {
        if self.lists_no_values() {
            return Some((0, Vec::new()));
        }
        let terms: Vec<String> = match self {
            Restriction::AnyOf { field, values } => values
                .iter()
                .filter_map(|value| field.term(value))
                .collect(),
            Restriction::Match { lists, patterns } => patterns
                .iter()
                .map(|pattern| match pattern {
                    IdPattern::Exact(value) => Some(format!("{}={value}", lists.term_name())),
                    IdPattern::Epc(_) => None,
                })
                .collect::<Option<_>>()?,
            _ => return None,
        };
        let priority = match self {
            Restriction::AnyOf { field, .. } => field.priority()?,
            _ => 1,
        };
        let unique: BTreeSet<String> = terms.into_iter().collect();
        Some((priority, unique.into_iter().collect()))
    }
}

/// An event field compared by equality of normalised values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Field {
    Type,
    EventId,
    Action,
    BizStep,
    Disposition,
    ReadPoint,
    BizLocation,
    TransformationId,
    /// Identifiers of the entries of `list` whose (normalised) type is `kind`.
    Entry {
        list: Entries,
        kind: String,
    },
    PersistentSet,
    PersistentUnset,
    SensorType,
    /// A member of sensor metadata or sensor reports.
    Sensor(SensorMember),
    ErrorReason,
    CorrectiveEventId,
}

impl Field {
    /// The index term of one value, for indexed fields.
    pub(super) fn term(&self, value: &str) -> Option<String> {
        let name = match self {
            Field::Type => "type",
            Field::EventId => "eventID",
            Field::Action => "action",
            Field::BizStep => "bizStep",
            Field::Disposition => "disposition",
            Field::ReadPoint => "readPoint",
            Field::BizLocation => "bizLocation",
            Field::TransformationId => "transformationID",
            Field::Entry { list, kind } => {
                return Some(format!("{}={kind}|{value}", list.spec().term));
            }
            Field::PersistentSet
            | Field::PersistentUnset
            | Field::SensorType
            | Field::Sensor(_)
            | Field::ErrorReason
            | Field::CorrectiveEventId => return None,
        };
        Some(format!("{name}={value}"))
    }

    /// Selectivity rank of the field's index terms (lower is better).
    fn priority(&self) -> Option<u8> {
        Some(match self {
            Field::EventId => 0,
            // 1: exact EPC / EPC class matches.
            Field::Entry {
                list: Entries::BizTransaction,
                ..
            } => 2,
            Field::Entry { .. } => 3,
            Field::BizLocation => 4,
            Field::ReadPoint => 5,
            Field::TransformationId => 6,
            Field::BizStep => 7,
            Field::Disposition => 8,
            Field::Type => 9,
            Field::Action => 10,
            Field::PersistentSet
            | Field::PersistentUnset
            | Field::SensorType
            | Field::Sensor(_)
            | Field::ErrorReason
            | Field::CorrectiveEventId => return None,
        })
    }
}

/// Typed lists of identifiers: business transactions, sources, destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entries {
    BizTransaction,
    Source,
    Destination,
}

pub(super) struct EntriesSpec {
    pub(super) list: &'static str,
    pub(super) id: &'static str,
    pub(super) types: TermSet,
    term: &'static str,
}

impl Entries {
    pub(super) fn spec(self) -> EntriesSpec {
        match self {
            Entries::BizTransaction => EntriesSpec {
                list: "bizTransactionList",
                id: "bizTransaction",
                types: vocab::BIZ_TRANSACTION_TYPE,
                term: "bizTransaction",
            },
            Entries::Source => EntriesSpec {
                list: "sourceList",
                id: "source",
                types: vocab::SOURCE_DESTINATION_TYPE,
                term: "source",
            },
            Entries::Destination => EntriesSpec {
                list: "destinationList",
                id: "destination",
                types: vocab::SOURCE_DESTINATION_TYPE,
                term: "destination",
            },
        }
    }
}

/// The identifier lists a `MATCH_` parameter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IdLists {
    Epc,
    ParentId,
    InputEpc,
    OutputEpc,
    AnyEpc,
    EpcClass,
    InputEpcClass,
    OutputEpcClass,
    AnyEpcClass,
}

impl IdLists {
    pub(super) fn keys(self) -> &'static [&'static str] {
        match self {
            IdLists::Epc => &["epcList", "childEPCs"],
            IdLists::ParentId => &["parentID"],
            IdLists::InputEpc => &["inputEPCList"],
            IdLists::OutputEpc => &["outputEPCList"],
            IdLists::AnyEpc => &[
                "epcList",
                "childEPCs",
                "parentID",
                "inputEPCList",
                "outputEPCList",
            ],
            IdLists::EpcClass => &["quantityList", "childQuantityList"],
            IdLists::InputEpcClass => &["inputQuantityList"],
            IdLists::OutputEpcClass => &["outputQuantityList"],
            IdLists::AnyEpcClass => &[
                "quantityList",
                "childQuantityList",
                "inputQuantityList",
                "outputQuantityList",
            ],
        }
    }

    pub(super) fn is_class(self) -> bool {
        matches!(
            self,
            IdLists::EpcClass
                | IdLists::InputEpcClass
                | IdLists::OutputEpcClass
                | IdLists::AnyEpcClass
        )
    }

    pub(super) fn term_name(self) -> &'static str {
        if self.is_class() { "epcClass" } else { "epc" }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeField {
    Event,
    Record,
    ErrorDeclaration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bound {
    /// `GE_`: at or after.
    AtLeast,
    /// `LT_`: strictly before.
    Before,
}

/// A numeric member of a sensor report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Measure {
    Value,
    MinValue,
    MaxValue,
    MeanValue,
    SDev,
    PercValue,
    /// `percRank`: compared without a uom.
    PercRank,
}

impl Measure {
    pub(super) const ALL: [Measure; 7] = [
        Measure::Value,
        Measure::MinValue,
        Measure::MaxValue,
        Measure::MeanValue,
        Measure::SDev,
        Measure::PercValue,
        Measure::PercRank,
    ];

    pub(super) fn key(self) -> &'static str {
        match self {
            Measure::Value => "value",
            Measure::MinValue => "minValue",
            Measure::MaxValue => "maxValue",
            Measure::MeanValue => "meanValue",
            Measure::SDev => "sDev",
            Measure::PercValue => "percValue",
            Measure::PercRank => "percRank",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum NumberTest {
    Ge(f64),
    Gt(f64),
    Le(f64),
    Lt(f64),
    Eq(Vec<f64>),
}

impl NumberTest {
    pub(super) fn holds(&self, value: f64) -> bool {
        match self {
            NumberTest::Ge(bound) => value >= *bound,
            NumberTest::Gt(bound) => value > *bound,
            NumberTest::Le(bound) => value <= *bound,
            NumberTest::Lt(bound) => value < *bound,
            // Exact comparison of values parsed from decimal text is intended.
            NumberTest::Eq(values) => values.contains(&value),
        }
    }
}

/// The sensor times `GE_`/`LT_` + `time`, `startTime`, `endTime` compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SensorTimeField {
    /// `time` of sensor metadata or of a sensor report.
    Time,
    /// `startTime` of sensor metadata.
    Start,
    /// `endTime` of sensor metadata.
    End,
}

impl SensorTimeField {
    fn key(self) -> &'static str {
        match self {
            SensorTimeField::Time => "time",
            SensorTimeField::Start => "startTime",
            SensorTimeField::End => "endTime",
        }
    }
}

/// A member of sensor metadata or a sensor report compared by equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SensorMember {
    DeviceId,
    DeviceMetadata,
    RawData,
    DataProcessingMethod,
    BizRules,
    Microorganism,
    ChemicalSubstance,
    StringValue,
    BooleanValue,
    HexBinaryValue,
    UriValue,
}

/// How a sensor member's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SensorKind {
    /// URIs: normalised as identifiers (CURIEs expanded, EPCs as Digital Link).
    Uri,
    /// Strings, exactly.
    Text,
    /// Hex digits, case-insensitively (upper case).
    Hex,
    /// `true` / `false`.
    Boolean,
}

impl SensorMember {
    pub(super) const ALL: [SensorMember; 11] = [
        SensorMember::DeviceId,
        SensorMember::DeviceMetadata,
        SensorMember::RawData,
        SensorMember::DataProcessingMethod,
        SensorMember::BizRules,
        SensorMember::Microorganism,
        SensorMember::ChemicalSubstance,
        SensorMember::StringValue,
        SensorMember::BooleanValue,
        SensorMember::HexBinaryValue,
        SensorMember::UriValue,
    ];

    pub(super) fn key(self) -> &'static str {
        match self {
            SensorMember::DeviceId => "deviceID",
            SensorMember::DeviceMetadata => "deviceMetadata",
            SensorMember::RawData => "rawData",
            SensorMember::DataProcessingMethod => "dataProcessingMethod",
            SensorMember::BizRules => "bizRules",
            SensorMember::Microorganism => "microorganism",
            SensorMember::ChemicalSubstance => "chemicalSubstance",
            SensorMember::StringValue => "stringValue",
            SensorMember::BooleanValue => "booleanValue",
            SensorMember::HexBinaryValue => "hexBinaryValue",
            SensorMember::UriValue => "uriValue",
        }
    }

    pub(super) fn kind(self) -> SensorKind {
        match self {
            SensorMember::StringValue => SensorKind::Text,
            SensorMember::BooleanValue => SensorKind::Boolean,
            SensorMember::HexBinaryValue => SensorKind::Hex,
            _ => SensorKind::Uri,
        }
    }

    /// A query value in compared form; `None` when it cannot be one.
    pub(super) fn query_value(self, value: &str, context: &Context) -> Option<String> {
        match self.kind() {
            SensorKind::Uri => value.contains(':').then(|| identifier(value, context)),
            SensorKind::Text => Some(value.to_owned()),
            SensorKind::Hex => (value.len().is_multiple_of(2)
                && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| value.to_ascii_uppercase()),
            SensorKind::Boolean => ["true", "false"].contains(&value).then(|| value.to_owned()),
        }
    }

    /// An event's value in compared form.
    pub(super) fn event_value(self, value: &Value, context: &Context) -> Option<String> {
        match (self.kind(), value) {
            (SensorKind::Boolean, Value::Bool(flag)) => Some(flag.to_string()),
            (SensorKind::Boolean, Value::String(text)) => ["true", "false"]
                .contains(&text.as_str())
                .then(|| text.clone()),
            (SensorKind::Uri, Value::String(text)) => Some(identifier(text, context)),
            (SensorKind::Text, Value::String(text)) => Some(text.clone()),
            (SensorKind::Hex, Value::String(text)) => Some(text.to_ascii_uppercase()),
            _ => None,
        }
    }
}
