//! How events written by other systems read: other prefixes, the CBV's
//! URN and Web URI forms, several analytes in one event, foreign URIs
//! beside the registry's, and what `moves` and `lots` say.

mod common;

use oretrace_domain::Record;
use oretrace_domain::chemistry::{Analyte, GradeUnit};
use oretrace_domain::event::{CaptureAuth, CapturedEvent, EventId, KeyRef};
use oretrace_domain::record::{Assay, Basis, DocumentKind, Figures};
use oretrace_domain::values::{PartyId, Text, Timestamp, Token};
use oretrace_epcis_map::{GS1_CONTEXT, NAMESPACE, event_of_record, interpret};
use serde_json::{Map, Value, json};

fn records(event: &Value) -> Vec<Record> {
    interpret(event)
        .unwrap_or_else(|e| panic!("{e}\n{event:#}"))
        .records
}

/// Renames every key `oretrace:x` to `rename(x)`, at any depth.
fn rename_keys(value: &Value, rename: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match k.strip_prefix("oretrace:") {
                        Some(local) => rename(local),
                        None => k.clone(),
                    };
                    (key, rename_keys(v, rename))
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| rename_keys(v, rename)).collect()),
        other => other.clone(),
    }
}

#[test]
fn any_prefix_declared_for_the_namespace_works() {
    for record in [
        common::first_sample(),
        common::first_assay(),
        common::first_transformation(),
        common::export_shipment(),
    ] {
        let event = event_of_record(&record).unwrap();
        let mut other = rename_keys(&event, &|local| format!("ot:{local}"));
        other["@context"] = json!([GS1_CONTEXT, {"ot": NAMESPACE}]);
        assert_eq!(records(&other), vec![record.clone()], "ot: prefix");
        let full = rename_keys(&event, &|local| format!("{NAMESPACE}{local}"));
        assert_eq!(records(&full), vec![record.clone()], "full IRIs");
        // A document that binds `oretrace` to another namespace says
        // nothing to the registry with those keys; an assay or a
        // transformation still names registry URIs (the analyte, the
        // transformation id), so it is incomplete without them.
        let mut foreign = event.clone();
        foreign["@context"] = json!([GS1_CONTEXT, {"oretrace": "https://example.com/other/"}]);
        let outcome = interpret(&foreign).map(|m| (m.records, m.figures));
        let expected = match record {
            Record::Assay(_) => Err(Some("oretrace:laboratory".to_owned())),
            Record::Transformation(_) => Err(Some("oretrace:process".to_owned())),
            _ => Ok((vec![], Figures::Reported)),
        };
        assert_eq!(
            outcome.map_err(|e| e.field().map(str::to_owned)),
            expected,
            "{}",
            record.kind()
        );
    }
}

#[test]
fn an_inspecting_event_with_several_analytes_gives_one_assay_each() {
    let lot = common::REE_C;
    let certificate = "ab".repeat(32);
    let event = json!({
        "@context": [GS1_CONTEXT, {"ot": NAMESPACE}],
        "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "urn:epcglobal:cbv:bizstep:inspecting",
        "eventTime": "2025-10-24T20:00:00+05:00", "eventTimeZoneOffset": "+05:00",
        "epcList": [lot],
        "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
        "sensorElementList": [
            {"sensorMetadata": {"dataProcessingMethod": "urn:example:lab:method:icp-ms-fusion"},
             "sensorReport": [
                {"type": "gs1:MT-Dimensionless", "chemicalSubstance": "ot:analyte/Nd2O3", "value": 168000, "uom": "59"},
                {"type": "Temperature", "value": 21.5, "uom": "CEL"},
                {"type": "Dimensionless", "chemicalSubstance": "https://oretrace.org/epcis/analyte/Pr6O11",
                 "value": 4.7, "uom": "P1",
                 "dataProcessingMethod": "https://oretrace.org/epcis/method/ICP-MS%20after%20fusion"},
             ]},
            {"sensorReport": [
                {"type": "https://gs1.org/voc/MT-Dimensionless", "chemicalSubstance": "ot:analyte/Tb4O7",
                 "value": 900, "uom": "NA", "ot:basis": "wet", "dataProcessingMethod": "ot:method/XRF"},
            ]},
        ],
        "bizTransactionList": [
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:1152"},
            {"type": "https://ref.gs1.org/cbv/BTT-testres", "bizTransaction": format!("urn:oretrace:certificate:sha256:{certificate}")},
        ],
        "ot:laboratory": "ussm",
        "ot:basis": "dry",
        "ot:figures": "illustrative",
    });
    let mapped = interpret(&event).unwrap();
    let assay = |analyte: &str, value: &str, unit, basis, method: &str| {
        Record::Assay(Assay {
            lot: oretrace_domain::values::LotId::parse(lot).unwrap(),
            analyte: Analyte::parse(analyte).unwrap(),
            value: value.parse().unwrap(),
            unit,
            basis,
            uncertainty: None,
            method: Text::parse(method).unwrap(),
            laboratory: PartyId::parse("ussm").unwrap(),
            certificate: oretrace_domain::values::Digest::parse(&certificate).unwrap(),
            time: Timestamp::parse("2025-10-24T15:00:00Z").unwrap(),
            figures: Figures::Illustrative,
        })
    };
    assert_eq!(
        mapped.records,
        vec![
            assay(
                "Nd2O3",
                "168000",
                GradeUnit::Ppm,
                Basis::Dry,
                "urn:example:lab:method:icp-ms-fusion"
            ),
            assay(
                "Pr6O11",
                "4.7",
                GradeUnit::Percent,
                Basis::Dry,
                "ICP-MS after fusion"
            ),
            assay("Tb4O7", "900", GradeUnit::GramsPerTonne, Basis::Wet, "XRF"),
        ]
    );
    assert_eq!(mapped.lots, vec![lot.to_owned()]);
    assert!(!mapped.moves);
    assert_eq!(mapped.figures, Figures::Illustrative);
}

#[test]
fn a_commissioning_event_may_commission_several_lots() {
    let mut event = event_of_record(&common::first_sample()).unwrap();
    event["quantityList"]
        .as_array_mut()
        .unwrap()
        .push(json!({"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 1.5, "uom": "TNE"}));
    let got = records(&event);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], common::first_sample());
    let Record::Lot(second) = &got[1] else {
        panic!("{got:?}")
    };
    assert_eq!(second.wet_mass.to_string(), "1.5 t");
    assert_eq!(second.commodity.as_str(), "antimony");
}

#[test]
fn cbv_terms_in_urn_and_web_uri_forms_and_foreign_ids_beside_the_registry_s() {
    let record = common::export_shipment();
    let event = json!({
        "type": "ObjectEvent", "action": "OBSERVE",
        "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping",
        "disposition": "urn:epcglobal:cbv:disp:in_transit",
        "eventTime": "2025-10-01T11:00:00+05:00", "eventTimeZoneOffset": "+05:00",
        "epcList": [common::SB_C, common::CU_C],
        "quantityList": [{"epcClass": common::REE_C, "quantity": 4.5, "uom": "KGM"}],
        "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
        "sourceList": [
            {"type": "urn:epcglobal:cbv:sdt:owning_party", "source": "urn:epc:id:pgln:0614141.00000"},
            {"type": "urn:epcglobal:cbv:sdt:location", "source": "urn:epc:id:sgln:0614141.07346.0"},
            {"type": "https://ref.gs1.org/cbv/SDT-location", "source": "urn:oretrace:site:fwo-prep-plant"},
        ],
        "destinationList": [
            {"type": "https://ref.gs1.org/cbv/SDT-owning_party", "destination": "urn:oretrace:party:ussm"},
            {"type": "possessing_party", "destination": "urn:oretrace:party:nlc"},
            {"type": "location", "destination": "urn:oretrace:site:ussm-madison"},
        ],
        "bizTransactionList": [
            {"type": "https://oretrace.org/epcis/btt/export-permit", "bizTransaction": "urn:oretrace:doc:EXP-2025-0001%20%28illustrative%29"},
            {"type": "https://ref.gs1.org/cbv/BTT-bol", "bizTransaction": "urn:oretrace:doc:BL-KHI-2025-0001%20%28illustrative%29"},
            {"type": "urn:epcglobal:cbv:btt:inv", "bizTransaction": "urn:oretrace:doc:INV-FWO-2025-0001%20%28illustrative%29"},
        ],
        "oretrace:shipment": "fwo-export-2025-0001",
        "oretrace:via": ["karachi-port"],
        "oretrace:figures": "illustrative",
    });
    assert_eq!(records(&event), vec![record]);
}

#[test]
fn foreign_documents_are_other_documents_and_possession_names_the_receiver() {
    let mut event = event_of_record(&common::export_shipment()).unwrap();
    event["bizTransactionList"] = json!([
        {"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:1152"},
        {"bizTransaction": "urn:example:invoice:42"},
    ]);
    event["destinationList"][0]["type"] = json!("possessing_party");
    let read = records(&event);
    let [Record::Shipment(shipment)] = read.as_slice() else {
        panic!()
    };
    assert_eq!(shipment.receiver.as_str(), "ussm");
    let documents: Vec<(DocumentKind, &str)> = shipment
        .documents
        .iter()
        .map(|d| (d.kind, d.reference.as_str()))
        .collect();
    assert_eq!(
        documents,
        vec![
            (
                DocumentKind::Other,
                "urn:epcglobal:cbv:bt:0614141073467:1152"
            ),
            (DocumentKind::Other, "urn:example:invoice:42"),
        ]
    );
}

#[test]
fn moves_and_lots_follow_the_event_not_the_shape() {
    let plain = |fields: Value| {
        let mut event = json!({"type": "ObjectEvent", "action": "OBSERVE",
            "eventTime": "2025-10-02T06:00:00Z", "eventTimeZoneOffset": "+00:00",
            "epcList": ["urn:epc:id:sscc:0614141.1234567890"]});
        for (k, v) in fields.as_object().unwrap() {
            event[k] = v.clone();
        }
        interpret(&event).unwrap()
    };
    for (fields, moves) in [
        (json!({"bizStep": "receiving"}), true),
        (
            json!({"bizStep": "urn:epcglobal:cbv:bizstep:departing"}),
            true,
        ),
        (json!({"bizStep": "arriving"}), true),
        (json!({"bizStep": "unpacking"}), true),
        (json!({"bizStep": "transforming"}), true),
        (json!({"bizStep": "inspecting"}), false),
        (json!({"bizStep": "transporting"}), false),
        (
            json!({"action": "DELETE", "bizStep": "decommissioning"}),
            true,
        ),
        (json!({"action": "ADD", "bizStep": "commissioning"}), false),
        (
            json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                "parentID": "urn:epc:id:sscc:0614141.1234567891"}),
            true,
        ),
        (
            json!({"type": "TransformationEvent", "inputEPCList": ["urn:epc:id:sgtin:0614141.107346.1"],
                "outputEPCList": ["urn:epc:id:sgtin:0614141.107346.2"]}),
            true,
        ),
        (
            json!({"type": "TransformationEvent", "inputEPCList": [],
                "outputEPCList": ["urn:epc:id:sgtin:0614141.107346.2"]}),
            false,
        ),
    ] {
        let mapped = plain(fields.clone());
        assert_eq!(mapped.moves, moves, "{fields}");
        assert_eq!(mapped.records, vec![], "{fields}");
        assert!(
            mapped
                .lots
                .contains(&"https://id.gs1.org/00/106141412345678908".to_owned()),
            "{:?}",
            mapped.lots
        );
    }
    // A malformed sensor list on a GS1 event is not the registry's concern.
    let mapped = plain(json!({"bizStep": "inspecting", "sensorElementList": {"sensorReport": []}}));
    assert_eq!((mapped.records.len(), mapped.moves), (0, false));
    // A receiving event without oretrace:shipment is a GS1 event only.
    let mut event = event_of_record(&common::export_receipt()).unwrap();
    event.as_object_mut().unwrap().remove("oretrace:shipment");
    let mapped = interpret(&event).unwrap();
    assert_eq!(
        (mapped.records.len(), mapped.moves, mapped.lots.len()),
        (0, true, 3)
    );
    assert_eq!(mapped.figures, Figures::Illustrative);
}

#[test]
fn a_captured_event_is_its_own_event() {
    let event = json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
        "eventTime": "2025-10-02T06:00:00Z", "eventTimeZoneOffset": "+00:00",
        "epcList": ["urn:epc:id:sscc:0614141.1234567890"]});
    let captured = Record::Event(
        CapturedEvent::new(
            EventId::parse(&format!("ni:///sha-256;{}?ver=CBV2.0", "ab".repeat(32))).unwrap(),
            event.clone(),
            PartyId::parse("nlc").unwrap(),
            Token::parse("capture-1").unwrap(),
            CaptureAuth::Token {
                key: KeyRef::parse("nlc/key-1+0a1b2c3d").unwrap(),
            },
            Timestamp::parse("2025-10-02T06:00:05Z").unwrap(),
            Figures::Reported,
        )
        .unwrap(),
    );
    assert_eq!(event_of_record(&captured), Some(event));
}

/// One lot, one spelling: a CURIE, an EPC URN and a Digital Link of the
/// same lot are named (and stated) as the query index keeps it, so the
/// custody rules and the index see the same identifier.
#[test]
fn aliases_of_a_lot_read_as_the_identifier_the_index_keeps() {
    let mut event = event_of_record(&common::first_sample()).unwrap();
    let lot = common::SB.to_owned();
    let local = lot.strip_prefix("urn:oretrace:lot:").unwrap();
    event["@context"] = json!([GS1_CONTEXT, {"x": "urn:oretrace:lot:"}]);
    event["quantityList"][0]["epcClass"] = json!(format!("x:{local}"));
    let mapped = interpret(&event).unwrap();
    assert_eq!(mapped.lots, vec![lot.clone()]);
    assert_eq!(mapped.records, vec![common::first_sample()]);

    let gs1 = json!({"type": "ObjectEvent", "action": "OBSERVE", "eventTime": "2025-09-10T06:00:00Z",
        "eventTimeZoneOffset": "+00:00", "bizStep": "shipping",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"]});
    assert_eq!(
        interpret(&gs1).unwrap().lots,
        vec!["https://id.gs1.org/01/10614141073464/21/2017".to_owned()]
    );
}
