//! Reading events: the values of an event that restrictions look at.

use serde_json::{Map, Value};

use super::extension::{self, Container};
use super::normalise::{
    context_of, expand_curie, identifier, items, json_number, vocabulary_value,
};
use super::restriction::{Entries, Field, IdLists};
use crate::Context;
use crate::vocab::{self, TermSet};

pub(super) struct EventView<'a> {
    event: &'a Map<String, Value>,
    context: Context,
}

impl<'a> EventView<'a> {
    pub(super) fn new(event: &'a Value) -> Option<Self> {
        let event = event.as_object()?;
        let context = event.get("@context").map_or_else(Context::new, context_of);
        Some(EventView { event, context })
    }

    pub(super) fn text(&self, key: &str) -> Option<&'a str> {
        self.event.get(key).and_then(Value::as_str)
    }

    /// A location's `id` (also accepted as a bare string).
    fn location(&self, key: &str) -> Option<&'a str> {
        match self.event.get(key)? {
            Value::String(id) => Some(id),
            Value::Object(location) => location.get("id").and_then(Value::as_str),
            _ => None,
        }
    }

    pub(super) fn error_declaration(&self) -> Option<&'a Map<String, Value>> {
        self.event
            .get("errorDeclaration")
            .and_then(Value::as_object)
    }

    pub(super) fn context(&self) -> &Context {
        &self.context
    }

    /// The objects extension fields of `container` are members of.
    pub(super) fn containers(&self, container: Container) -> Vec<&'a Map<String, Value>> {
        extension::containers(self.event, container)
    }

    pub(super) fn has_sensor_elements(&self) -> bool {
        !items(self.event.get("sensorElementList")).is_empty()
    }

    pub(super) fn sensor_metadata(&self) -> impl Iterator<Item = &'a Map<String, Value>> {
        items(self.event.get("sensorElementList"))
            .iter()
            .filter_map(|element| element.get("sensorMetadata"))
            .filter_map(Value::as_object)
    }

    /// (quantity, uom) of every quantity element of the four quantity lists
    /// that has a numeric `quantity`.
    pub(super) fn quantities(&self) -> impl Iterator<Item = (f64, Option<&'a str>)> {
        [
            "quantityList",
            "childQuantityList",
            "inputQuantityList",
            "outputQuantityList",
        ]
        .into_iter()
        .flat_map(|key| items(self.event.get(key)))
        .filter_map(|element| {
            let quantity = json_number(element.get("quantity")?)?;
            Some((quantity, element.get("uom").and_then(Value::as_str)))
        })
    }

    pub(super) fn sensor_reports(&self) -> impl Iterator<Item = &'a Map<String, Value>> {
        items(self.event.get("sensorElementList"))
            .iter()
            .flat_map(|element| items(element.get("sensorReport")))
            .filter_map(Value::as_object)
    }

    /// Identifiers in `lists` (CURIE-expanded, otherwise as written).
    pub(super) fn ids(&self, lists: IdLists) -> Vec<String> {
        let mut ids = Vec::new();
        for key in lists.keys() {
            let values: &[Value] = match self.event.get(*key) {
                Some(Value::Array(values)) => values,
                Some(value) => std::slice::from_ref(value),
                None => &[],
            };
            for value in values {
                let id = match value {
                    Value::String(id) => Some(id.as_str()),
                    Value::Object(quantity) if lists.is_class() => {
                        quantity.get("epcClass").and_then(Value::as_str)
                    }
                    _ => None,
                };
                ids.extend(id.map(|id| expand_curie(id, &self.context)));
            }
        }
        ids
    }

    /// (normalised type or "", normalised identifier) of each entry.
    pub(super) fn entries(&self, list: Entries) -> Vec<(String, String)> {
        let spec = list.spec();
        items(self.event.get(spec.list))
            .iter()
            .filter_map(|entry| {
                let id = entry.get(spec.id).and_then(Value::as_str)?;
                let kind = entry
                    .get("type")
                    .and_then(Value::as_str)
                    .map_or_else(String::new, |kind| {
                        vocabulary_value(kind, &spec.types, &self.context)
                    });
                Some((kind, identifier(id, &self.context)))
            })
            .collect()
    }

    /// Normalised values of `field`.
    pub(super) fn values(&self, field: &Field) -> Vec<String> {
        let context = &self.context;
        let vocabulary = |value: Option<&str>, terms: &TermSet| -> Vec<String> {
            value
                .map(|value| vocabulary_value(value, terms, context))
                .into_iter()
                .collect()
        };
        let strings = |values: &[Value], terms: &TermSet| -> Vec<String> {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(|value| vocabulary_value(value, terms, context))
                .collect()
        };
        match field {
            Field::Type => self
                .text("type")
                .map(|kind| expand_curie(kind, context))
                .into_iter()
                .collect(),
            Field::EventId => self
                .text("eventID")
                .map(str::to_owned)
                .into_iter()
                .collect(),
            Field::Action => self.text("action").map(str::to_owned).into_iter().collect(),
            Field::BizStep => vocabulary(self.text("bizStep"), &vocab::BIZ_STEP),
            Field::Disposition => vocabulary(self.text("disposition"), &vocab::DISPOSITION),
            Field::ReadPoint | Field::BizLocation | Field::TransformationId => {
                let key = match field {
                    Field::ReadPoint => self.location("readPoint"),
                    Field::BizLocation => self.location("bizLocation"),
                    _ => self.text("transformationID"),
                };
                key.map(|id| identifier(id, context)).into_iter().collect()
            }
            Field::Entry { list, kind } => self
                .entries(*list)
                .into_iter()
                .filter(|(found, _)| found == kind)
                .map(|(_, id)| id)
                .collect(),
            Field::PersistentSet | Field::PersistentUnset => {
                let member = if *field == Field::PersistentSet {
                    "set"
                } else {
                    "unset"
                };
                let persistent = self.event.get("persistentDisposition");
                strings(
                    items(persistent.and_then(|p| p.get(member))),
                    &vocab::DISPOSITION,
                )
            }
            Field::SensorType => self
                .sensor_reports()
                .filter_map(|report| report.get("type").and_then(Value::as_str))
                .map(|kind| vocabulary_value(kind, &vocab::MEASUREMENT_TYPE, context))
                .collect(),
            Field::Sensor(member) => self
                .sensor_metadata()
                .chain(self.sensor_reports())
                .filter_map(|object| object.get(member.key()))
                .filter_map(|value| member.event_value(value, context))
                .collect(),
            Field::ErrorReason => vocabulary(
                self.error_declaration()
                    .and_then(|declaration| declaration.get("reason"))
                    .and_then(Value::as_str),
                &vocab::ERROR_REASON,
            ),
            Field::CorrectiveEventId => items(
                self.error_declaration()
                    .and_then(|declaration| declaration.get("correctiveEventIDs")),
            )
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        }
    }
}
