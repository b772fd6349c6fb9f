//! Writing events: [`crate::event_of_record`].

use oretrace_domain::Record;
use oretrace_domain::record::{Assay, Figures, Lot, Receipt, Shipment, Transformation};
use oretrace_domain::values::{LotId, Mass, Timestamp};
use serde_json::{Map, Value, json};

use crate::PREFIX;
use crate::number::number_of;
use crate::read::{analyte_prefix, method_prefix};
use crate::time::event_time;
use crate::uri::{CERTIFICATE, DOCUMENT, TRANSFORMATION, party_uri, site_uri, text_uri};
use crate::vocab::{self, GRADE_MEASUREMENT};

pub(crate) fn event_of_record(record: &Record) -> Option<Value> {
    match record {
        // Registry facts, not physical events: no EPCIS event states them.
        Record::Party(_)
        | Record::Site(_)
        | Record::Agreement(_)
        | Record::Countersignature(_)
        | Record::Disclosure(_)
        | Record::Progress(_)
        | Record::Report(_)
        | Record::Resource(_)
        | Record::CustodyModel(_)
        | Record::AttributeClaim(_) => None,
        Record::Lot(lot) => lot_event(lot),
        Record::Assay(assay) => assay_event(assay),
        Record::Shipment(shipment) => shipment_event(shipment),
        Record::Receipt(receipt) => receipt_event(receipt),
        Record::Transformation(transformation) => transformation_event(transformation),
        Record::Event(captured) => Some(captured.event().clone()),
    }
}

/// `oretrace:<local>`.
fn key(local: &str) -> String {
    format!("{PREFIX}:{local}")
}

fn base(event_type: &str, time: &Timestamp, figures: Figures) -> Map<String, Value> {
    let mut event = Map::new();
    event.insert("type".into(), event_type.into());
    event.insert("eventTime".into(), event_time(time));
    event.insert("eventTimeZoneOffset".into(), "+00:00".into());
    if figures == Figures::Illustrative {
        event.insert(key("figures"), figures.as_str().into());
    }
    event
}

fn observe(
    event: &mut Map<String, Value>,
    action: &str,
    biz_step: &str,
    disposition: Option<&str>,
) {
    event.insert("action".into(), action.into());
    event.insert("bizStep".into(), biz_step.into());
    if let Some(disposition) = disposition {
        event.insert("disposition".into(), disposition.into());
    }
}

fn weighed(lot: &LotId, mass: &Mass) -> Option<Value> {
    Some(json!({
        "epcClass": lot.as_str(),
        "quantity": number_of(&mass.value())?,
        "uom": vocab::mass_uom(mass.unit()),
    }))
}

fn weighed_list(items: &[(LotId, Mass)]) -> Option<Value> {
    items
        .iter()
        .map(|(lot, mass)| weighed(lot, mass))
        .collect::<Option<Vec<_>>>()
        .map(Value::Array)
}

fn lot_event(lot: &Lot) -> Option<Value> {
    let mut event = base("ObjectEvent", &lot.time, lot.figures);
    observe(&mut event, "ADD", "commissioning", Some("active"));
    event.insert(
        "quantityList".into(),
        json!([weighed(&lot.id, &lot.wet_mass)?]),
    );
    event.insert("bizLocation".into(), json!({"id": site_uri(&lot.site)}));
    let mut ilmd = Map::new();
    ilmd.insert(key("commodity"), lot.commodity.as_str().into());
    ilmd.insert(key("form"), lot.form.as_str().into());
    ilmd.insert(key("moisturePercent"), number_of(&lot.moisture)?);
    event.insert("ilmd".into(), Value::Object(ilmd));
    Some(Value::Object(event))
}

fn assay_event(assay: &Assay) -> Option<Value> {
    let mut event = base("ObjectEvent", &assay.time, assay.figures);
    observe(&mut event, "OBSERVE", "inspecting", None);
    event.insert(
        "quantityList".into(),
        json!([{"epcClass": assay.lot.as_str()}]),
    );
    let mut report = json!({
        "type": GRADE_MEASUREMENT,
        "chemicalSubstance": format!("{}{}", analyte_prefix(), assay.analyte),
        "value": number_of(&assay.value)?,
        "uom": vocab::grade_uom(assay.unit),
        "dataProcessingMethod": text_uri(&method_prefix(), &assay.method),
    });
    if let (Some(u), Some(report)) = (&assay.uncertainty, report.as_object_mut()) {
        // ± in the report's uom, on the assay's basis.
        report.insert(key("uncertainty"), number_of(u)?);
    }
    event.insert(
        "sensorElementList".into(),
        json!([{ "sensorReport": [report] }]),
    );
    event.insert(
        "bizTransactionList".into(),
        json!([{"type": "testres", "bizTransaction": format!("{CERTIFICATE}{}", assay.certificate)}]),
    );
    event.insert(key("laboratory"), assay.laboratory.as_str().into());
    event.insert(key("basis"), assay.basis.as_str().into());
    Some(Value::Object(event))
}

fn shipment_event(shipment: &Shipment) -> Option<Value> {
    let mut event = base("ObjectEvent", &shipment.time, shipment.figures);
    observe(&mut event, "OBSERVE", "shipping", Some("in_transit"));
    event.insert(
        "quantityList".into(),
        shipment
            .lots
            .iter()
            .map(|lot| json!({"epcClass": lot.as_str()}))
            .collect(),
    );
    event.insert(
        "sourceList".into(),
        json!([{"type": "location", "source": site_uri(&shipment.from)}]),
    );
    event.insert(
        "destinationList".into(),
        json!([
            {"type": "owning_party", "destination": party_uri(&shipment.receiver)},
            {"type": "location", "destination": site_uri(&shipment.to)},
        ]),
    );
    if !shipment.documents.is_empty() {
        event.insert(
            "bizTransactionList".into(),
            shipment
                .documents
                .iter()
                .map(|d| {
                    json!({
                        "type": vocab::document_type(d.kind),
                        "bizTransaction": text_uri(DOCUMENT, &d.reference),
                    })
                })
                .collect(),
        );
    }
    event.insert(key("shipment"), shipment.id.as_str().into());
    if !shipment.via.is_empty() {
        event.insert(
            key("via"),
            shipment
                .via
                .iter()
                .map(|s| Value::from(s.as_str()))
                .collect(),
        );
    }
    Some(Value::Object(event))
}

fn receipt_event(receipt: &Receipt) -> Option<Value> {
    let mut event = base("ObjectEvent", &receipt.time, receipt.figures);
    observe(&mut event, "OBSERVE", "receiving", Some("in_progress"));
    event.insert("quantityList".into(), weighed_list(&receipt.lots)?);
    event.insert("bizLocation".into(), json!({"id": site_uri(&receipt.site)}));
    event.insert(key("shipment"), receipt.shipment.as_str().into());
    Some(Value::Object(event))
}

fn transformation_event(transformation: &Transformation) -> Option<Value> {
    let mut event = base(
        "TransformationEvent",
        &transformation.time,
        transformation.figures,
    );
    event.insert(
        "transformationID".into(),
        format!("{TRANSFORMATION}{}", transformation.id).into(),
    );
    // CBV 2.0 has no `transforming` step; GS1's own TransformationEvent
    // example uses `commissioning` (the outputs come into being).
    event.insert("bizStep".into(), "commissioning".into());
    event.insert(
        "bizLocation".into(),
        json!({"id": site_uri(&transformation.site)}),
    );
    event.insert(
        "inputQuantityList".into(),
        weighed_list(&transformation.inputs)?,
    );
    let outputs: Vec<(LotId, Mass)> = transformation
        .outputs
        .iter()
        .map(|o| (o.id.clone(), o.wet_mass))
        .collect();
    event.insert("outputQuantityList".into(), weighed_list(&outputs)?);
    event.insert(key("process"), transformation.process.as_str().into());
    let attributes = transformation
        .outputs
        .iter()
        .map(|o| {
            let mut item = Map::new();
            item.insert(key("lot"), o.id.as_str().into());
            item.insert(key("commodity"), o.commodity.as_str().into());
            item.insert(key("form"), o.form.as_str().into());
            item.insert(key("moisturePercent"), number_of(&o.moisture)?);
            Some(Value::Object(item))
        })
        .collect::<Option<Vec<_>>>()?;
    event.insert(key("outputs"), Value::Array(attributes));
    Some(Value::Object(event))
}
