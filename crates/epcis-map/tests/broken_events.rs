//! Broken mineral-chain events: each is refused with the JSON field at
//! fault and the rule it breaks. Every case starts from a valid event of
//! the reference scenario and changes one thing.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod common;

use oretrace_domain::Record;
use oretrace_epcis_map::{MapError, event_of_record, interpret};
use serde_json::{Value, json};

const METHOD: &str = "https://oretrace.org/epcis/method/";

fn parent_and_key<'v>(event: &'v mut Value, pointer: &str) -> (&'v mut Value, String) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let key = key.replace("~1", "/").replace("~0", "~");
    (
        event
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("no {parent}")),
        key,
    )
}

/// Sets (or adds) the member or array item at a JSON pointer.
fn set(event: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = parent_and_key(event, pointer);
    match parent {
        Value::Object(map) => {
            map.insert(key, value);
        }
        Value::Array(items) => {
            let index: usize = key.parse().unwrap();
            if index == items.len() {
                items.push(value);
            } else {
                items[index] = value;
            }
        }
        other => panic!("cannot set {pointer} in {other}"),
    }
}

fn remove(event: &mut Value, pointer: &str) {
    let (parent, key) = parent_and_key(event, pointer);
    match parent {
        Value::Object(map) => {
            map.remove(&key).unwrap_or_else(|| panic!("no {pointer}"));
        }
        Value::Array(items) => {
            items.remove(key.parse().unwrap());
        }
        other => panic!("cannot remove {pointer} from {other}"),
    }
}

type Edit = Box<dyn Fn(&mut Value)>;

struct Case {
    base: fn() -> Record,
    edit: Edit,
    /// The error's Display, exactly.
    error: &'static str,
}

fn case(base: fn() -> Record, edit: impl Fn(&mut Value) + 'static, error: &'static str) -> Case {
    Case {
        base,
        edit: Box::new(edit),
        error,
    }
}

use common::{
    export_receipt as receipt, export_shipment as shipment, first_assay as assay,
    first_sample as lot, first_transformation as transformation,
};

const REPORT: &str = "/sensorElementList/0/sensorReport/0";

fn cases() -> Vec<Case> {
    vec![
        // Lots: commissioning events.
        case(
            lot,
            |e| remove(e, "/quantityList/0/uom"),
            "quantityList[0].uom: KGM or TNE expected (a quantity without uom counts instances, not mass)",
        ),
        case(
            lot,
            |e| set(e, "/quantityList/0/uom", json!("P1")),
            "quantityList[0].uom: KGM or TNE expected, not \"P1\"",
        ),
        case(
            lot,
            |e| set(e, "/quantityList/0/quantity", json!(-60)),
            "quantityList[0].quantity: a mass may not be negative",
        ),
        case(
            lot,
            |e| set(e, "/quantityList/0/quantity", json!("60")),
            "quantityList[0].quantity: a JSON number expected",
        ),
        case(
            lot,
            |e| {
                set(
                    e,
                    "/quantityList/0/quantity",
                    json!(1_234_567_890_123_456u64),
                )
            },
            "quantityList[0].quantity: 1234567890123456 has more than 15 significant digits, more than a JSON number keeps exactly",
        ),
        case(
            lot,
            |e| {
                remove(e, "/quantityList/0/quantity");
                remove(e, "/quantityList/0/uom")
            },
            "quantityList[0]: a commissioned lot needs its mass: quantity with uom KGM or TNE expected",
        ),
        case(
            lot,
            |e| {
                remove(e, "/quantityList");
                set(e, "/epcList", json!([common::SB]))
            },
            "epcList[0]: a commissioned lot needs its mass: name the lot in the quantity list with quantity and uom KGM or TNE",
        ),
        case(
            lot,
            |e| {
                let q = e["quantityList"][0].clone();
                set(e, "/quantityList/1", q)
            },
            "quantityList[1]: names urn:oretrace:lot:fwo:sb-sample-0001 a second time (first at quantityList[0])",
        ),
        case(
            lot,
            |e| set(e, "/quantityList/0/epcClass", json!("lot 1")),
            "quantityList[0].epcClass: a lot id must be a URI (urn:…, https://…)",
        ),
        case(
            lot,
            |e| remove(e, "/ilmd/oretrace:commodity"),
            "ilmd.oretrace:commodity: the commodity (antimony, copper…) expected",
        ),
        case(
            lot,
            |e| set(e, "/ilmd/oretrace:moisturePercent", json!(100)),
            "ilmd.oretrace:moisturePercent: a percentage must be below 100",
        ),
        case(
            lot,
            |e| set(e, "/ilmd/oretrace:grade", json!(38.5)),
            "ilmd.oretrace:grade: not a field of the ilmd of a commissioning event",
        ),
        case(
            lot,
            |e| {
                set(
                    e,
                    "/bizLocation/id",
                    json!("urn:epc:id:sgln:0614141.07346.1234"),
                )
            },
            "bizLocation.id: urn:oretrace:site:<site id> expected, not \"urn:epc:id:sgln:0614141.07346.1234\"",
        ),
        case(
            lot,
            |e| set(e, "/action", json!("OBSERVE")),
            "action: ADD expected: the event commissions a lot (its ilmd carries oretrace fields)",
        ),
        case(
            lot,
            |e| set(e, "/bizStep", json!("sampling")),
            "bizStep: commissioning expected: the event commissions a lot (its ilmd carries oretrace fields)",
        ),
        case(
            lot,
            |e| set(e, "/eventTime", json!("2025-09-10T06:00:00.5Z")),
            "eventTime: 2025-09-10T06:00:00.5Z has a fraction of a second; the registry keeps whole seconds",
        ),
        case(
            lot,
            |e| set(e, "/eventTime", json!("2025-09-10T06:00:00")),
            "eventTime: an RFC 3339 date-time with a zone (2025-09-10T06:00:00Z or 2025-09-10T11:00:00+05:00) expected",
        ),
        case(
            lot,
            |e| set(e, "/oretrace:figures", json!("invented")),
            "oretrace:figures: \"reported\" or \"illustrative\" expected",
        ),
        // Assays: inspecting events.
        case(
            assay,
            |e| {
                set(
                    e,
                    &format!("{REPORT}/chemicalSubstance"),
                    json!("https://oretrace.org/epcis/analyte/Xx"),
                )
            },
            "sensorElementList[0].sensorReport[0].chemicalSubstance: \"Xx\" is not an element symbol this registry knows",
        ),
        case(
            assay,
            |e| {
                set(
                    e,
                    &format!("{REPORT}/chemicalSubstance"),
                    json!("https://oretrace.org/epcis/analyte/Nd1O3"),
                )
            },
            "sensorElementList[0].sensorReport[0].chemicalSubstance: \"Nd1O3\" is not an element (Nd) or oxide (Nd2O3) formula",
        ),
        case(
            assay,
            |e| set(e, &format!("{REPORT}/type"), json!("MassConcentration")),
            "sensorElementList[0].sensorReport[0].type: Dimensionless expected: a grade is a mass fraction",
        ),
        case(
            assay,
            |e| set(e, &format!("{REPORT}/uom"), json!("KGM")),
            "sensorElementList[0].sensorReport[0].uom: P1 (percent), 59 (ppm) or NA (mg/kg, that is g/t) expected",
        ),
        case(
            assay,
            |e| remove(e, &format!("{REPORT}/uom")),
            "sensorElementList[0].sensorReport[0].uom: P1 (percent), 59 (ppm) or NA (mg/kg, that is g/t) expected",
        ),
        case(
            assay,
            |e| set(e, &format!("{REPORT}/value"), json!(-1)),
            "sensorElementList[0].sensorReport[0].value: a grade may not be negative",
        ),
        case(
            assay,
            |e| set(e, &format!("{REPORT}/value"), json!(120)),
            "sensorElementList[0].sensorReport[0].value: a grade may not exceed 100 %",
        ),
        case(
            assay,
            |e| remove(e, &format!("{REPORT}/value")),
            "sensorElementList[0].sensorReport[0].value: a JSON number expected",
        ),
        case(
            assay,
            |e| remove(e, &format!("{REPORT}/dataProcessingMethod")),
            "sensorElementList[0].sensorReport[0].dataProcessingMethod: the method expected (here or in the element's sensorMetadata)",
        ),
        case(
            assay,
            |e| {
                set(
                    e,
                    &format!("{REPORT}/dataProcessingMethod"),
                    json!(format!("{METHOD}%zz")),
                )
            },
            "sensorElementList[0].sensorReport[0].dataProcessingMethod: \"https://oretrace.org/epcis/method/%zz\" has a broken percent-escape or is not UTF-8",
        ),
        case(
            assay,
            |e| set(e, &format!("{REPORT}/oretrace:basis"), json!("damp")),
            "sensorElementList[0].sensorReport[0].oretrace:basis: \"damp\" is not one of: dry, wet",
        ),
        case(
            assay,
            |e| remove(e, "/bizTransactionList"),
            "bizTransactionList: the assay certificate expected: {\"type\": \"testres\", \"bizTransaction\": \"urn:oretrace:certificate:sha256:<64 hex>\"}",
        ),
        case(
            assay,
            |e| {
                set(
                    e,
                    "/bizTransactionList/0/bizTransaction",
                    json!("urn:oretrace:certificate:sha256:ABC"),
                )
            },
            "bizTransactionList[0].bizTransaction: a digest is 64 lower-case hex digits (SHA-256)",
        ),
        case(
            assay,
            |e| set(e, "/bizTransactionList/0/type", json!("inv")),
            "bizTransactionList[0].type: testres expected for the assay certificate",
        ),
        case(
            assay,
            |e| {
                let c = e["bizTransactionList"][0].clone();
                set(e, "/bizTransactionList/1", c)
            },
            "bizTransactionList[1]: a second certificate (the first is bizTransactionList[0]); an assay event names one",
        ),
        case(
            assay,
            |e| remove(e, "/oretrace:laboratory"),
            "oretrace:laboratory: the laboratory's party id expected",
        ),
        case(
            assay,
            |e| remove(e, "/oretrace:basis"),
            "oretrace:basis: dry or wet expected (on the event or the report)",
        ),
        case(
            assay,
            |e| set(e, "/quantityList/1", json!({"epcClass": common::CU})),
            "quantityList: an assay event names exactly one lot, not 2",
        ),
        case(
            assay,
            |e| set(e, "/bizStep", json!("sampling")),
            "bizStep: inspecting expected: the event reports assays (oretrace:laboratory, oretrace:basis or an oretrace analyte)",
        ),
        case(
            assay,
            |e| {
                set(
                    e,
                    &format!("{REPORT}/chemicalSubstance"),
                    json!("https://identifiers.org/CAS:7440-36-0"),
                )
            },
            "sensorElementList: an assay event reports at least one analyte, as chemicalSubstance https://oretrace.org/epcis/analyte/<formula>",
        ),
        // Shipments.
        case(
            shipment,
            |e| remove(e, "/destinationList/1"),
            "destinationList: the destination site expected as {\"type\": \"location\", \"destination\": \"urn:oretrace:site:<site id>\"}",
        ),
        case(
            shipment,
            |e| remove(e, "/sourceList"),
            "sourceList: the origin site expected as {\"type\": \"location\", \"source\": \"urn:oretrace:site:<site id>\"}",
        ),
        case(
            shipment,
            |e| remove(e, "/destinationList/0"),
            "destinationList: the receiver expected as {\"type\": \"owning_party\", \"destination\": \"urn:oretrace:party:<party id>\"}",
        ),
        case(
            shipment,
            |e| {
                set(
                    e,
                    "/destinationList/2",
                    json!({"type": "owning_party", "destination": "urn:oretrace:party:nlc"}),
                )
            },
            "destinationList[2].destination: a second registry party of the same type (the first is destinationList[0].destination)",
        ),
        case(
            shipment,
            |e| {
                set(
                    e,
                    "/sourceList/0/source",
                    json!("urn:oretrace:site:ussm-madison"),
                )
            },
            "destinationList: a shipment goes to another site than the one it leaves",
        ),
        case(
            shipment,
            |e| set(e, "/sourceList/0/source", json!("urn:oretrace:site:Prep")),
            "sourceList[0].source: a site id must start with a lower-case letter or digit",
        ),
        case(
            shipment,
            |e| set(e, "/oretrace:via", json!("karachi-port")),
            "oretrace:via: an array expected",
        ),
        case(
            shipment,
            |e| set(e, "/oretrace:via", json!(["Karachi"])),
            "oretrace:via[0]: a site id must start with a lower-case letter or digit",
        ),
        case(
            shipment,
            |e| set(e, "/oretrace:shipment", json!("FWO-1")),
            "oretrace:shipment: a term must start with a lower-case letter or digit",
        ),
        case(
            shipment,
            |e| {
                set(
                    e,
                    "/bizTransactionList/0/type",
                    json!("https://oretrace.org/epcis/btt/permit"),
                )
            },
            "bizTransactionList[0].type: \"permit\" is not one of the registry's document types (export-permit, customs-declaration, other)",
        ),
        case(
            shipment,
            |e| {
                set(
                    e,
                    "/bizTransactionList/0/bizTransaction",
                    json!("urn:oretrace:doc:a%0Ab"),
                )
            },
            "bizTransactionList[0].bizTransaction: text may not contain control characters or line breaks",
        ),
        case(
            shipment,
            |e| set(e, "/quantityList/1/epcClass", json!(common::SB_C)),
            "quantityList[1]: names urn:oretrace:lot:fwo:sb-concentrate-0001 a second time (first at quantityList[0])",
        ),
        case(
            shipment,
            |e| set(e, "/quantityList/0/quantity", json!(32)),
            "quantityList[0].uom: KGM or TNE expected (a quantity without uom counts instances, not mass)",
        ),
        case(
            shipment,
            |e| set(e, "/bizStep", json!("departing")),
            "bizStep: shipping or receiving expected: the event carries oretrace:shipment",
        ),
        case(
            shipment,
            |e| set(e, "/action", json!("ADD")),
            "action: OBSERVE expected: a shipping event observes the lots leaving",
        ),
        // Receipts.
        case(
            receipt,
            |e| remove(e, "/quantityList/1/uom"),
            "quantityList[1].uom: KGM or TNE expected (a quantity without uom counts instances, not mass)",
        ),
        case(
            receipt,
            |e| set(e, "/quantityList/1/uom", json!("LTR")),
            "quantityList[1].uom: KGM or TNE expected, not \"LTR\"",
        ),
        case(
            receipt,
            |e| {
                remove(e, "/quantityList/0/quantity");
                remove(e, "/quantityList/0/uom")
            },
            "quantityList[0]: a received lot needs its mass: quantity with uom KGM or TNE expected",
        ),
        case(
            receipt,
            |e| remove(e, "/bizLocation"),
            "bizLocation.id: the site expected, as urn:oretrace:site:<site id>",
        ),
        case(
            receipt,
            |e| set(e, "/oretrace:via", json!(["karachi-port"])),
            "oretrace:via: not a field of a receiving event",
        ),
        // Transformations.
        case(
            transformation,
            |e| set(e, "/oretrace:outputs", json!([])),
            "oretrace:outputs: no entry for the output urn:oretrace:lot:fwo:sb-concentrate-0001 (at outputQuantityList[0])",
        ),
        case(
            transformation,
            |e| {
                set(
                    e,
                    "/oretrace:outputs/1",
                    json!({"oretrace:lot": "urn:oretrace:lot:fwo:x",
                "oretrace:commodity": "antimony", "oretrace:form": "concentrate", "oretrace:moisturePercent": 1}),
                )
            },
            "oretrace:outputs[1]: describes urn:oretrace:lot:fwo:x, which the output lists do not name",
        ),
        case(
            transformation,
            |e| {
                set(e, "/outputQuantityList/0/epcClass", json!(common::SB));
                set(e, "/oretrace:outputs/0/oretrace:lot", json!(common::SB))
            },
            "outputQuantityList[0]: an output cannot be one of the inputs",
        ),
        case(
            transformation,
            |e| remove(e, "/oretrace:outputs/0/oretrace:moisturePercent"),
            "oretrace:outputs[0].oretrace:moisturePercent: the moisture in percent expected",
        ),
        case(
            transformation,
            |e| set(e, "/oretrace:outputs/0/oretrace:grade", json!(62)),
            "oretrace:outputs[0].oretrace:grade: not a field of an output's attributes",
        ),
        case(
            transformation,
            |e| {
                set(
                    e,
                    "/transformationID",
                    json!("urn:uuid:6b1c2d4e-0000-4000-8000-000000000001"),
                )
            },
            "transformationID: urn:oretrace:transformation:<transformation id> expected",
        ),
        case(
            transformation,
            |e| remove(e, "/oretrace:process"),
            "oretrace:process: the process expected",
        ),
        case(
            transformation,
            |e| {
                remove(e, "/inputQuantityList/0/quantity");
                remove(e, "/inputQuantityList/0/uom")
            },
            "inputQuantityList[0]: an input needs its mass: quantity with uom KGM or TNE expected",
        ),
        case(
            transformation,
            |e| set(e, "/outputQuantityList/0/uom", json!("TNE")),
            // A unit of its own is fine for each list; what breaks is a grade unit.
            "OK",
        ),
        case(
            transformation,
            |e| set(e, "/ilmd", json!({"oretrace:commodity": "antimony"})),
            "ilmd.oretrace:commodity: not a field of the ilmd of a TransformationEvent (each output's attributes go in oretrace:outputs)",
        ),
        // Events that name no lot at all.
        case(
            lot,
            |e| set(e, "/quantityList", json!([])),
            "quantityList: a commissioning event names its lot with its wet mass",
        ),
        case(
            shipment,
            |e| set(e, "/quantityList", json!([])),
            "quantityList: a shipment names the lots it ships",
        ),
        case(
            receipt,
            |e| set(e, "/quantityList", json!([])),
            "quantityList: a receipt names every lot it receives, with its weighed mass",
        ),
        case(
            transformation,
            |e| set(e, "/inputQuantityList", json!([])),
            "inputQuantityList: a transformation names its inputs with the mass consumed",
        ),
        case(
            transformation,
            |e| set(e, "/outputQuantityList", json!([])),
            "outputQuantityList: a transformation names its outputs with their wet mass",
        ),
    ]
}

#[test]
fn broken_events_name_the_field_and_the_rule() {
    let mut failures = Vec::new();
    let cases = cases();
    for (i, case) in cases.iter().enumerate() {
        let mut event = event_of_record(&(case.base)()).unwrap();
        (case.edit)(&mut event);
        let got = match interpret(&event) {
            Ok(mapped) if case.error == "OK" => {
                assert_eq!(mapped.records.len(), 1, "case {i}");
                continue;
            }
            Ok(mapped) => format!("Ok({:?})", mapped.records),
            Err(e) => e.to_string(),
        };
        if got != case.error {
            failures.push(format!(
                "case {i}:\n  expected {}\n  got      {got}",
                case.error
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.len() > 60);
}

#[test]
fn stray_registry_fields_on_plain_gs1_events_are_refused() {
    let mut event = json!({
        "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "departing",
        "eventTime": "2025-10-02T06:00:00Z", "eventTimeZoneOffset": "+00:00",
        "epcList": ["urn:epc:id:sscc:0614141.1234567890"],
        "oretrace:via": ["karachi-port"],
    });
    let error = interpret(&event).unwrap_err();
    assert_eq!(
        error.to_string(),
        "oretrace:via: not a field of this event: it has no mineral-chain shape (see docs/design/epcis-mapping.md)"
    );
    remove(&mut event, "/oretrace:via");
    assert!(interpret(&event).unwrap().records.is_empty());
}

#[test]
fn one_field_written_under_two_prefixes_is_refused() {
    let mut event = event_of_record(&lot()).unwrap();
    event["@context"] = json!([oretrace_epcis_map::GS1_CONTEXT, {"oretrace": oretrace_epcis_map::NAMESPACE, "ot": oretrace_epcis_map::NAMESPACE}]);
    event["ot:figures"] = json!("reported");
    let error = interpret(&event).unwrap_err();
    let field = error.field().unwrap().to_owned();
    assert!(
        field == "ot:figures" || field == "oretrace:figures",
        "{error}"
    );
    assert!(
        error.to_string().contains("names the same field as"),
        "{error}"
    );
}

#[test]
fn non_events_are_refused() {
    for value in [
        json!([]),
        json!("ObjectEvent"),
        json!({"action": "ADD"}),
        json!({"type": 5}),
    ] {
        assert_eq!(interpret(&value), Err(MapError::NotAnEvent), "{value}");
    }
}
