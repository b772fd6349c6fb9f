//! Restrictions: what one parameter demands of an event, and its index terms.

use std::collections::BTreeSet;

use serde_json::Value;

use super::normalise::{canonical_id, json_number};
use super::pattern::IdPattern;
use super::timestamp_millis;
use super::view::EventView;
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
    /// Some sensor report with this `uom` passes `test` on `measure`.
    Sensor {
        measure: Measure,
        uom: String,
        test: NumberTest,
    },
    /// `EXISTS_errorDeclaration` (restricts only when `true`).
    ErrorDeclaration(bool),
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
                report.get("uom").and_then(Value::as_str) == Some(uom.as_str())
                    && report
                        .get(measure.key())
                        .and_then(json_number)
                        .is_some_and(|value| test.holds(value))
            }),
            Restriction::ErrorDeclaration(required) => {
                !required || view.error_declaration().is_some()
            }
        }
    }

    /// (priority, terms): the index terms one of which a matching event has.
    pub(super) fn index_terms(&self) -> Option<(u8, Vec<String>)> {
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
}

impl Measure {
    pub(super) const ALL: [Measure; 6] = [
        Measure::Value,
        Measure::MinValue,
        Measure::MaxValue,
        Measure::MeanValue,
        Measure::SDev,
        Measure::PercValue,
    ];

    pub(super) fn key(self) -> &'static str {
        match self {
            Measure::Value => "value",
            Measure::MinValue => "minValue",
            Measure::MaxValue => "maxValue",
            Measure::MeanValue => "meanValue",
            Measure::SDev => "sDev",
            Measure::PercValue => "percValue",
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
    fn holds(&self, value: f64) -> bool {
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
