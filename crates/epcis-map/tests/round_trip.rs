//! Record → event → record: every record of the reference scenario and
//! random records of every kind come back exactly, and every event
//! validates against GS1's EPCIS JSON Schema.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod common;

use std::str::FromStr as _;

use oretrace_domain::Record;
use oretrace_domain::chemistry::{Analyte, GradeUnit};
use oretrace_domain::record::{
    Assay, Basis, Document, DocumentKind, Figures, Lot, LotForm, OutputLot, Receipt, Shipment,
    Transformation,
};
use oretrace_domain::values::{
    Digest, LotId, Mass, MassUnit, PartyId, SiteId, Text, Timestamp, Token,
};
use oretrace_epcis_map::{document, event_of_record, interpret};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// The lot ids a record names, as `Mapped::lots` should list them.
fn lots_of(record: &Record) -> Vec<String> {
    let ids: Vec<&LotId> = match record {
        Record::Lot(l) => vec![&l.id],
        Record::Assay(a) => vec![&a.lot],
        Record::Shipment(s) => s.lots.iter().collect(),
        Record::Receipt(r) => r.lots.iter().map(|(id, _)| id).collect(),
        Record::Transformation(t) => t
            .inputs
            .iter()
            .map(|(id, _)| id)
            .chain(t.outputs.iter().map(|o| &o.id))
            .collect(),
        _ => Vec::new(),
    };
    ids.into_iter().map(ToString::to_string).collect()
}

/// Round trip of one record, plus what the event says about moving lots.
fn check_round_trip(record: &Record) -> Result<Value, String> {
    let event = event_of_record(record).ok_or("no event")?;
    let mapped = interpret(&event).map_err(|e| format!("{e}\n{event:#}"))?;
    if mapped.records != [record.clone()] {
        return Err(format!(
            "records differ:\n{:?}\n{:?}\n{event:#}",
            mapped.records, record
        ));
    }
    if mapped.figures != record.figures() {
        return Err("figures differ".into());
    }
    if mapped.lots != lots_of(record) {
        return Err(format!("lots {:?}", mapped.lots));
    }
    let moves = matches!(
        record,
        Record::Shipment(_) | Record::Receipt(_) | Record::Transformation(_)
    );
    if mapped.moves != moves {
        return Err(format!("moves = {}", mapped.moves));
    }
    // The same event inside a document, with the document's context copied
    // in as the ledger does.
    let mut with_context = event.clone();
    with_context["@context"] = oretrace_epcis_map::context();
    let again = interpret(&with_context).map_err(|e| e.to_string())?;
    if again != mapped {
        return Err("the document's @context changes the reading".into());
    }
    let violations = common::violations(&document(vec![event.clone()], "2025-10-25T00:00:00Z"));
    if !violations.is_empty() {
        return Err(format!("schema: {violations:#?}\n{event:#}"));
    }
    Ok(event)
}

#[test]
fn every_scenario_record_round_trips_and_validates() {
    let records = common::scenario();
    assert_eq!(records.len(), 25);
    let mut events = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let event = check_round_trip(record)
            .unwrap_or_else(|e| panic!("record {i} ({}): {e}", record.kind()));
        events.push(event);
    }
    let whole = document(events, "2025-10-25T00:00:00Z");
    assert_eq!(common::violations(&whole), Vec::<String>::new());
    // The document's hashes are computable and distinct: no two records
    // became the same event.
    let mut hashes = oretrace_epcis::document_event_hashes(&whole).unwrap();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), records.len());
}

#[test]
fn master_data_has_no_event() {
    let site = common::record(
        json!({"kind": "site", "id": "karachi-port", "name": "Karachi Port",
        "site_kind": "port", "operator": "gov-pk", "country": "PK",
        "location": {"lat": "24.835", "lon": "66.982"}, "time": "2025-09-01T00:00:00Z",
        "figures": "reported"}),
    );
    assert_eq!(event_of_record(&site), None);
}

#[test]
fn a_decimal_no_json_number_holds_gives_no_event() {
    let Record::Lot(mut lot) = common::first_sample() else {
        unreachable!()
    };
    lot.wet_mass = Mass::new(
        Decimal::from_str("1234567890.1234567").unwrap(),
        MassUnit::Kilogram,
    )
    .unwrap();
    assert_eq!(event_of_record(&Record::Lot(lot.clone())), None);
    lot.wet_mass = Mass::new(
        Decimal::from_str("123456789.123456").unwrap(),
        MassUnit::Tonne,
    )
    .unwrap();
    let event = event_of_record(&Record::Lot(lot.clone())).unwrap();
    assert_eq!(event["quantityList"][0]["uom"], "TNE");
    assert_eq!(interpret(&event).unwrap().records, vec![Record::Lot(lot)]);
}

#[test]
fn the_worked_examples_of_the_mapping_document_are_what_the_code_writes() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/design/epcis-mapping.md"
    );
    let doc = std::fs::read_to_string(path).unwrap();
    let section = doc
        .split_once("## Worked examples")
        .expect("the mapping document has a Worked examples section")
        .1;
    let examples: Vec<Value> = section
        .split("```json\n")
        .skip(1)
        .map(|block| {
            let text = block.split_once("```").expect("closed code block").0;
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
        })
        .collect();
    let records = [
        common::first_sample(),
        common::first_assay(),
        common::first_transformation(),
        common::export_shipment(),
        common::export_receipt(),
    ];
    assert_eq!(examples.len(), records.len());
    for (example, record) in examples.iter().zip(&records) {
        assert_eq!(
            example,
            &event_of_record(record).unwrap(),
            "the {} example",
            record.kind()
        );
    }
}

// Random records of every kind.

fn lot_id() -> impl Strategy<Value = LotId> {
    prop_oneof![
        "urn:oretrace:lot:[a-z]{1,8}:[a-z0-9-]{1,16}",
        "urn:epc:class:lgtin:[0-9]{7}\\.[0-9]{6}\\.[0-9A-Za-z]{1,10}",
        "urn:epc:id:sscc:[0-9]{7}\\.[0-9]{10}",
        "https://id\\.gs1\\.org/01/[0-9]{14}/10/[A-Z0-9]{1,10}",
    ]
    // The registry holds lot ids in the form the query index keeps them
    // (EPC URNs as canonical Digital Links): the form records carry.
    .prop_map(|s| {
        let canonical = oretrace_epcis::query::canonical_identifier(&s, &Default::default());
        LotId::parse(&canonical).unwrap()
    })
}

fn site_id() -> impl Strategy<Value = SiteId> {
    "[a-z0-9][a-z0-9.-]{0,30}".prop_map(|s| SiteId::parse(&s).unwrap())
}

fn party_id() -> impl Strategy<Value = PartyId> {
    "[a-z0-9][a-z0-9.-]{0,20}".prop_map(|s| PartyId::parse(&s).unwrap())
}

fn token() -> impl Strategy<Value = Token> {
    "[a-z0-9][a-z0-9-]{0,30}".prop_map(|s| Token::parse(&s).unwrap())
}

/// One-line text: methods and document references, URIs among them.
fn text() -> impl Strategy<Value = Text> {
    prop_oneof![
        "[A-Za-z0-9(][ -~\u{e9}\u{2014}]{0,40}[A-Za-z0-9)%#]",
        "[a-z]{1,6}:[A-Za-z0-9:@/?()%._~-]{1,30}",
        "https://[a-z]{1,10}\\.example/[a-z0-9/]{0,20}",
        "urn:oretrace:doc:[A-Za-z0-9%]{1,12}",
    ]
    .prop_filter_map("valid text", |s| Text::parse(&s).ok())
}

/// A decimal with at most 15 significant digits, 12 places, below `bound`.
fn decimal(bound: u64) -> impl Strategy<Value = Decimal> {
    (0u32..=12).prop_flat_map(move |scale| {
        let limit = (bound as i128 * 10i128.pow(scale)).min(10i128.pow(15) - 1) as i64;
        (0..=limit).prop_map(move |m| Decimal::new(m, scale).normalize())
    })
}

fn mass() -> impl Strategy<Value = Mass> {
    (decimal(10_000_000), prop::bool::ANY).prop_map(|(v, kg)| {
        Mass::new(
            v,
            if kg {
                MassUnit::Kilogram
            } else {
                MassUnit::Tonne
            },
        )
        .unwrap()
    })
}

fn moisture() -> impl Strategy<Value = Decimal> {
    decimal(99)
}

fn time() -> impl Strategy<Value = Timestamp> {
    (-2_208_988_800i64..253_402_300_799).prop_map(Timestamp::from_unix)
}

fn figures() -> impl Strategy<Value = Figures> {
    prop::bool::ANY.prop_map(|i| {
        if i {
            Figures::Illustrative
        } else {
            Figures::Reported
        }
    })
}

fn form() -> impl Strategy<Value = LotForm> {
    prop::sample::select(LotForm::ALL)
}

fn lot() -> impl Strategy<Value = Record> {
    (
        lot_id(),
        token(),
        form(),
        site_id(),
        mass(),
        moisture(),
        time(),
        figures(),
    )
        .prop_map(
            |(id, commodity, form, site, wet_mass, moisture, time, figures)| {
                Record::Lot(Lot {
                    id,
                    commodity,
                    form,
                    site,
                    wet_mass,
                    moisture,
                    time,
                    figures,
                })
            },
        )
}

fn assay() -> impl Strategy<Value = Record> {
    let analyte = prop::sample::select(vec![
        "Sb", "Cu", "Nd2O3", "Pr6O11", "Au", "Li", "CeO2", "Tb4O7",
    ])
    .prop_map(|a| Analyte::parse(a).unwrap());
    let grade = prop_oneof![
        decimal(100).prop_map(|v| (v, GradeUnit::Percent)),
        decimal(1_000_000).prop_map(|v| (v, GradeUnit::Ppm)),
        decimal(1_000_000).prop_map(|v| (v, GradeUnit::GramsPerTonne)),
    ];
    (
        lot_id(),
        analyte,
        grade,
        prop::sample::select(Basis::ALL),
        text(),
        party_id(),
        any::<[u8; 8]>(),
        time(),
        figures(),
        prop::option::of(decimal(5)),
    )
        .prop_map(
            |(
                lot,
                analyte,
                (value, unit),
                basis,
                method,
                laboratory,
                seed,
                time,
                figures,
                uncertainty,
            )| {
                Record::Assay(Assay {
                    lot,
                    analyte,
                    value,
                    unit,
                    basis,
                    uncertainty,
                    method,
                    laboratory,
                    certificate: Digest::of(&seed),
                    time,
                    figures,
                })
            },
        )
}

fn shipment() -> impl Strategy<Value = Record> {
    let document = (prop::sample::select(DocumentKind::ALL), text())
        .prop_map(|(kind, reference)| Document { kind, reference });
    (
        token(),
        prop::collection::btree_set(lot_id(), 1..5),
        (site_id(), site_id()).prop_filter("another site", |(a, b)| a != b),
        prop::collection::vec(site_id(), 0..3),
        party_id(),
        prop::collection::vec(document, 0..4),
        time(),
        figures(),
    )
        .prop_map(
            |(id, lots, (from, to), via, receiver, documents, time, figures)| {
                Record::Shipment(Shipment {
                    id,
                    lots: lots.into_iter().collect(),
                    from,
                    to,
                    via,
                    receiver,
                    documents,
                    time,
                    figures,
                })
            },
        )
}

fn receipt() -> impl Strategy<Value = Record> {
    (
        token(),
        site_id(),
        prop::collection::btree_map(lot_id(), mass(), 1..5),
        time(),
        figures(),
    )
        .prop_map(|(shipment, site, lots, time, figures)| {
            Record::Receipt(Receipt {
                shipment,
                site,
                lots: lots.into_iter().collect(),
                time,
                figures,
            })
        })
}

fn transformation() -> impl Strategy<Value = Record> {
    (
        token(),
        site_id(),
        text(),
        prop::collection::btree_map(lot_id(), mass(), 2..7),
        prop::collection::vec((token(), form(), moisture()), 6),
        1usize..6,
        time(),
        figures(),
    )
        .prop_map(
            |(id, site, process, lots, attributes, split, time, figures)| {
                let lots: Vec<(LotId, Mass)> = lots.into_iter().collect();
                let split = split.min(lots.len() - 1);
                let (inputs, outputs) = lots.split_at(split);
                Record::Transformation(Transformation {
                    id,
                    site,
                    process,
                    inputs: inputs.to_vec(),
                    outputs: outputs
                        .iter()
                        .zip(attributes)
                        .map(|((id, wet_mass), (commodity, form, moisture))| OutputLot {
                            id: id.clone(),
                            commodity,
                            form,
                            wet_mass: *wet_mass,
                            moisture,
                        })
                        .collect(),
                    time,
                    figures,
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_records_round_trip_and_validate(
        record in prop_oneof![lot(), assay(), shipment(), receipt(), transformation()]
    ) {
        prop_assert_eq!(record.check(), Ok(()));
        if let Err(e) = check_round_trip(&record) {
            prop_assert!(false, "{}", e);
        }
    }

    /// The same instant written with any zone offset reads the same.
    #[test]
    fn event_times_with_offsets_read_as_utc(
        record in prop_oneof![lot(), receipt()],
        minutes in -(14 * 60i64)..=(14 * 60),
    ) {
        let mut event = event_of_record(&record).unwrap();
        let local = Timestamp::from_unix(record.time().unix() + minutes * 60).to_string();
        let sign = if minutes < 0 { '-' } else { '+' };
        let offset = format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60);
        event["eventTime"] = Value::String(format!("{}{offset}", &local[..19]));
        event["eventTimeZoneOffset"] = Value::String(offset);
        match interpret(&event) {
            Ok(mapped) => prop_assert_eq!(mapped.records, vec![record]),
            // Shifting across the domain's year range is refused, with the field named.
            Err(e) => prop_assert_eq!(e.field(), Some("eventTime")),
        }
    }
}
