//! `EventQuery` against the official EPCIS 2.0 example documents
//! (`shared/conformance/epcis/examples/`) and the events of the event-hash
//! vectors (`shared/conformance/event-hash/`): for every parameter family the
//! exact set of matching example events; candidate terms that never miss a
//! matching event; refusals that name the parameter; the REST binding's own
//! examples (`schema/epcis-rest-openapi.yaml`).

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use oretrace_epcis::query::{EventQuery, OrderBy, QueryError, event_terms, timestamp_millis};
use oretrace_epcis::{canonical_digital_link, document_events};
use serde_json::{Value, json};

fn conformance() -> PathBuf {
    oretrace_benchkit::conformance("")
}

/// The example documents and the short names used in expectations.
const EXAMPLES: &[(&str, &str)] = &[
    ("EPCISQueryDocument.jsonld", "query"),
    ("Example-TransactionEvents-2020_07_03y.jsonld", "rail"),
    (
        "Example-Type-sourceOrDestination,measurement,bizTransaction.jsonld",
        "assoc",
    ),
    (
        "Example_9.6.1-ObjectEvent-with-pseudo-SBDH-headers.jsonld",
        "sbdh",
    ),
    ("Example_9.6.1-ObjectEvent.jsonld", "961"),
    ("Example_9.6.1-with-comment.jsonld", "comment"),
    ("Example_9.6.2-ObjectEvent.jsonld", "962"),
    ("Example_9.6.3-AggregationEvent.jsonld", "963"),
    ("Example_9.6.4-TransformationEvent.jsonld", "964"),
    ("PersistentDisposition-example.jsonld", "persist"),
    (
        "WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld",
        "correct",
    ),
    (
        "WithErrorDeclaration/Example_9.6.1-ObjectEvent-with-error-declaration.jsonld",
        "error",
    ),
];

/// Record times given to the corpus: 2024-01-01T00:00:00Z plus one minute
/// per event, in corpus order.
const RECORD_BASE_MS: i64 = 1_704_067_200_000;

#[derive(Debug)]
struct Event {
    label: String,
    event: Value,
    record_time_ms: i64,
}

/// The events of `path`, each carrying its document's `@context` as a store
/// keeps it.
fn read_events(path: &Path, short: &str, out: &mut Vec<Event>) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let document: Value = serde_json::from_str(&text).expect("JSON");
    for (index, event) in document_events(&document)
        .expect("an EPCIS document")
        .into_iter()
        .enumerate()
    {
        let mut event = event.clone();
        if let (Some(context), Value::Object(map)) = (document.get("@context"), &mut event) {
            map.insert("@context".to_owned(), context.clone());
        }
        let position = i64::try_from(out.len()).unwrap();
        out.push(Event {
            label: format!("{short}#{index}"),
            event,
            record_time_ms: RECORD_BASE_MS + position * 60_000,
        });
    }
}

fn examples() -> Vec<Event> {
    let folder = conformance().join("epcis/examples");
    let mut events = Vec::new();
    for (file, short) in EXAMPLES {
        read_events(&folder.join(file), short, &mut events);
    }
    assert_eq!(events.len(), 20, "example events");
    events
}

/// The event-hash vector documents named `stem` (all of them when `None`).
fn vectors(stem: Option<&str>) -> Vec<Event> {
    let folder = conformance().join("event-hash");
    let mut files: Vec<PathBuf> = fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonld"))
        .collect();
    files.sort();
    let mut events = Vec::new();
    for path in files {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if stem.is_none_or(|stem| stem == name) {
            read_events(&path, &name, &mut events);
        }
    }
    assert!(!events.is_empty());
    events
}

#[test]
fn the_example_list_is_complete() {
    fn walk(dir: &Path, found: &mut usize) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "jsonld") {
                *found += 1;
            }
        }
    }
    let mut found = 0;
    walk(&conformance().join("epcis/examples"), &mut found);
    assert_eq!(found, EXAMPLES.len());
}

/// `name=value&…` with decoded values (a value may contain `=`).
fn pairs(query: &str) -> Vec<(String, String)> {
    if query.is_empty() {
        return Vec::new();
    }
    query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

fn parse(query: &str) -> EventQuery {
    EventQuery::from_pairs(&pairs(query)).unwrap_or_else(|e| panic!("{query}: {e}"))
}

/// Labels in expectations; `SHIP` and `RECV` stand for the two events of
/// EPCIS example 9.6.1, which five documents repeat.
fn expand(labels: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for label in labels {
        match *label {
            "SHIP" => {
                out.extend(["query#0", "sbdh#0", "961#0", "comment#0", "error#0"].map(String::from))
            }
            "RECV" => {
                out.extend(["query#1", "sbdh#1", "961#1", "comment#1", "error#1"].map(String::from))
            }
            other => {
                out.insert(other.to_owned());
            }
        }
    }
    out
}

fn matching(query: &EventQuery, corpus: &[Event]) -> BTreeSet<String> {
    corpus
        .iter()
        .filter(|event| query.matches(&event.event, event.record_time_ms))
        .map(|event| event.label.clone())
        .collect()
}

fn check(corpus: &[Event], cases: &[(&str, &[&str])]) {
    let labels: BTreeSet<String> = corpus.iter().map(|e| e.label.clone()).collect();
    let mut failures = Vec::new();
    for (query, expected) in cases {
        let expected = expand(expected);
        assert!(expected.is_subset(&labels), "{query}: unknown label");
        let found = matching(&parse(query), corpus);
        if found != expected {
            failures.push(format!(
                "{query}\n  expected {expected:?}\n  found    {found:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A query string and the labels of the events it matches.
type Case = (&'static str, &'static [&'static str]);

/// Per parameter family, the example events that match.
const EXAMPLE_CASES: &[Case] = &[
    // eventType
    ("eventType=AggregationEvent", &["963#0"]),
    (
        "eventType=TransactionEvent|AssociationEvent",
        &["rail#0", "rail#1", "assoc#0"],
    ),
    (
        "eventType=TransformationEvent",
        &["964#0", "correct#0", "correct#1"],
    ),
    // GE_/LT_eventTime: instants, offsets honoured, LT strict.
    (
        "GE_eventTime=2020-01-01T00:00:00Z",
        &["persist#0", "persist#1", "correct#0", "correct#1"],
    ),
    (
        "GE_eventTime=2020-01-13T23:00:00Z&LT_eventTime=2020-01-13T23:00:00.001Z",
        &["correct#0"],
    ),
    (
        "GE_eventTime=2020-01-14T00:00:00.001+01:00&LT_eventTime=2021-01-01T00:00:00Z",
        &["persist#0", "persist#1"],
    ),
    ("LT_eventTime=2005-04-04T02:33:31.117Z", &["SHIP"]),
    ("LT_eventTime=2005-04-04T02:33:31.116Z", &[]),
    // A `+` decoded as a space.
    (
        "GE_eventTime=2020-06-08T20:11:16 02:00",
        &["persist#1", "correct#1"],
    ),
    // GE_/LT_recordTime (the corpus' record times, one minute apart).
    (
        "GE_recordTime=2024-01-01T00:18:00Z",
        &["error#0", "error#1"],
    ),
    (
        "GE_recordTime=2024-01-01T01:02:00+01:00&LT_recordTime=2024-01-01T00:04:00Z",
        &["rail#0", "rail#1"],
    ),
    // EQ_action
    ("EQ_action=ADD", &["rail#0", "rail#1", "assoc#0"]),
    ("EQ_action=DELETE", &[]),
    (
        "EQ_action=OBSERVE",
        &["SHIP", "RECV", "962#0", "963#0", "persist#0", "persist#1"],
    ),
    // EQ_bizStep: bare, URN, Web URI and CURIE forms are one value.
    ("EQ_bizStep=shipping", &["SHIP"]),
    ("EQ_bizStep=urn:epcglobal:cbv:bizstep:shipping", &["SHIP"]),
    (
        "EQ_bizStep=https://ref.gs1.org/cbv/BizStep-shipping",
        &["SHIP"],
    ),
    ("EQ_bizStep=cbv:BizStep-shipping", &["SHIP"]),
    ("EQ_bizStep=transporting|installing", &["rail#1", "assoc#0"]),
    (
        "EQ_bizStep=http://epcis.example.org/hc/bizstep/summarising_discharge",
        &["rail#0"],
    ),
    ("EQ_bizStep=departing", &[]),
    // EQ_disposition
    ("EQ_disposition=in_transit", &["SHIP", "rail#1"]),
    (
        "EQ_disposition=urn:epcglobal:cbv:disp:in_progress",
        &[
            "RECV",
            "assoc#0",
            "962#0",
            "963#0",
            "964#0",
            "persist#0",
            "persist#1",
        ],
    ),
    ("EQ_disposition=destroyed", &[]),
    // EQ_persistentDisposition_set / _unset
    (
        "EQ_persistentDisposition_set=completeness_inferred",
        &["persist#0"],
    ),
    (
        "EQ_persistentDisposition_unset=completeness_inferred",
        &["persist#1"],
    ),
    (
        "EQ_persistentDisposition_set=completeness_verified|completeness_inferred",
        &["persist#0", "persist#1"],
    ),
    // EQ_readPoint / WD_readPoint
    (
        "EQ_readPoint=urn:epc:id:sgln:0614141.07346.1234",
        &["SHIP", "correct#0", "correct#1"],
    ),
    (
        "WD_readPoint=urn:epc:id:sgln:0614141.00777.0",
        &["962#0", "963#0"],
    ),
    ("EQ_readPoint=urn:epc:id:sgln:0614141.00777.1", &[]),
    // EQ_bizLocation / WD_bizLocation
    ("EQ_bizLocation=urn:epc:id:sgln:0012345.11111.0", &["RECV"]),
    (
        "WD_bizLocation=urn:epc:id:sgln:9529999.99999.0",
        &["persist#0", "persist#1"],
    ),
    ("EQ_bizLocation=urn:epc:id:sgln:0614141.07346.1234", &[]),
    // EQ_transformationID (no example has one; see the vector test)
    (
        "EQ_transformationID=urn:epc:id:gdti:4012345.55555.1234",
        &[],
    ),
    // MATCH_epc: epcList and childEPCs, exact or pattern.
    (
        "MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017",
        &["SHIP", "963#0"],
    ),
    (
        "MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.*",
        &["SHIP", "RECV", "963#0"],
    ),
    (
        "MATCH_epc=urn:epc:idpat:sgtin:0614141.*.*",
        &["SHIP", "RECV", "963#0"],
    ),
    (
        "MATCH_epc=urn:epc:idpat:sgtin:0614141.*",
        &["SHIP", "RECV", "963#0"],
    ),
    (
        "MATCH_epc=urn:epc:idpat:sgtin:9520001.012346.*",
        &["persist#0", "persist#1"],
    ),
    ("MATCH_epc=urn:epc:idpat:giai:952005385.*", &["rail#1"]),
    ("MATCH_epc=urn:epc:idpat:sscc:0614141.*", &[]),
    ("MATCH_epc=urn:epc:id:sgtin:4012345.011122.25", &[]),
    // MATCH_parentID
    (
        "MATCH_parentID=urn:epc:id:sscc:0614141.1234567890",
        &["963#0"],
    ),
    (
        "MATCH_parentID=urn:epc:idpat:grai:4012345.55555.*",
        &["assoc#0"],
    ),
    ("MATCH_parentID=urn:epc:id:sgtin:0614141.107346.2017", &[]),
    // MATCH_inputEPC / MATCH_outputEPC
    (
        "MATCH_inputEPC=urn:epc:id:sgtin:4012345.011122.25",
        &["964#0"],
    ),
    (
        "MATCH_inputEPC=urn:epc:idpat:sgtin:4012345.*.*",
        &["964#0", "correct#0", "correct#1"],
    ),
    ("MATCH_inputEPC=urn:epc:id:sgtin:4012345.077889.25", &[]),
    (
        "MATCH_outputEPC=urn:epc:idpat:sgtin:4012345.077889.*",
        &["964#0"],
    ),
    (
        "MATCH_outputEPC=urn:epc:id:sgtin:4012345.033333.AGHFG",
        &["correct#0", "correct#1"],
    ),
    ("MATCH_outputEPC=urn:epc:id:sgtin:4012345.011122.25", &[]),
    // MATCH_anyEPC
    (
        "MATCH_anyEPC=urn:epc:id:sscc:0614141.1234567890|urn:epc:id:sgtin:4012345.077889.26",
        &["963#0", "964#0"],
    ),
    ("MATCH_anyEPC=urn:epc:idpat:giai:4000001.*", &["assoc#0"]),
    ("MATCH_anyEPC=urn:epc:id:sgtin:0000000.000000.0", &[]),
    // MATCH_epcClass: LGTINs, class patterns, patterns matching LGTINs.
    (
        "MATCH_epcClass=urn:epc:class:lgtin:4012345.012345.998877",
        &["962#0", "963#0"],
    ),
    (
        "MATCH_epcClass=urn:epc:idpat:sgtin:4012345.012345.*",
        &["962#0", "963#0"],
    ),
    (
        "MATCH_epcClass=urn:epc:idpat:sgtin:4012345.098765.*",
        &["963#0"],
    ),
    (
        "MATCH_epcClass=urn:epc:idpat:sgtin:4023333.*.*",
        &["assoc#0"],
    ),
    (
        "MATCH_epcClass=urn:epc:class:lgtin:4012345.011111.4444",
        &[],
    ),
    // MATCH_inputEPCClass / MATCH_outputEPCClass / MATCH_anyEPCClass
    (
        "MATCH_inputEPCClass=urn:epc:idpat:sgtin:4012345.066666.*",
        &["964#0"],
    ),
    (
        "MATCH_inputEPCClass=urn:epc:class:lgtin:4012345.022222.87545GHGH",
        &["correct#0", "correct#1"],
    ),
    (
        "MATCH_inputEPCClass=urn:epc:idpat:sgtin:4012345.044444.*",
        &[],
    ),
    (
        "MATCH_outputEPCClass=urn:epc:idpat:sgtin:4012345.044444.*",
        &["correct#0", "correct#1"],
    ),
    (
        "MATCH_outputEPCClass=urn:epc:idpat:sgtin:4012345.066666.*",
        &[],
    ),
    (
        "MATCH_anyEPCClass=urn:epc:idpat:sgtin:0614141.*.*",
        &["964#0"],
    ),
    (
        "MATCH_anyEPCClass=urn:epc:idpat:sgtin:4012345.*.*",
        &["962#0", "963#0", "964#0", "correct#0", "correct#1"],
    ),
    (
        "MATCH_anyEPCClass=urn:epc:class:lgtin:9999999.000000.1",
        &[],
    ),
    // EQ_eventID
    (
        "EQ_eventID=ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0",
        &["query#0", "sbdh#0", "961#0"],
    ),
    (
        "EQ_eventID=urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8|urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8",
        &["correct#0", "correct#1"],
    ),
    (
        "EQ_eventID=urn:uuid:00000000-0000-0000-0000-000000000000",
        &[],
    ),
    // EXISTS_errorDeclaration, GE_/LT_errorDeclarationTime, EQ_errorReason,
    // EQ_correctiveEventID
    ("EXISTS_errorDeclaration=", &["correct#0", "error#0"]),
    ("EXISTS_errorDeclaration=true", &["correct#0", "error#0"]),
    ("GE_errorDeclarationTime=2021-01-01T00:00:00Z", &["error#0"]),
    ("LT_errorDeclarationTime=2020-01-15T00:00:00+01:00", &[]),
    (
        "LT_errorDeclarationTime=2020-01-14T23:00:00.001Z",
        &["correct#0"],
    ),
    ("EQ_errorReason=incorrect_data", &["correct#0", "error#0"]),
    ("EQ_errorReason=did_not_occur", &[]),
    (
        "EQ_correctiveEventID=urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8",
        &["correct#0"],
    ),
    (
        "EQ_correctiveEventID=urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
        &[],
    ),
    // EQ_bizTransaction_{type}
    (
        "EQ_bizTransaction_po=http://transaction.acme.com/po/12345678",
        &["SHIP", "RECV", "assoc#0"],
    ),
    (
        "EQ_bizTransaction_desadv=urn:epcglobal:cbv:bt:0614141073467:1152",
        &["RECV", "assoc#0"],
    ),
    (
        "EQ_bizTransaction_inv=http://transaction.acme.com/po/12345678",
        &[],
    ),
    (
        "EQ_bizTransaction_urn:gs1:epcisapp:rail:btt:passage=http://transaction.examplerail.com/passage/xyz12345",
        &["rail#1"],
    ),
    (
        "EQ_bizTransaction_urn:epcglobal:cbv:btt:po=urn:epcglobal:cbv:bt:9529999999991:XYZ567",
        &["persist#0", "persist#1"],
    ),
    // EQ_source_{type} / EQ_destination_{type}
    (
        "EQ_source_possessing_party=urn:epc:id:sgln:4012345.00001.0",
        &["962#0"],
    ),
    (
        "EQ_source_location=urn:epc:id:sgln:952005385.481.0|urn:epc:id:sgln:4012345.00225.0",
        &["rail#1", "962#0"],
    ),
    (
        "EQ_source_owning_party=urn:epc:id:pgln:9520001.11111",
        &["persist#0", "persist#1"],
    ),
    (
        "EQ_source_owning_party=urn:epc:id:sgln:4012345.00001.0",
        &[],
    ),
    (
        "EQ_destination_owning_party=urn:epc:id:sgln:0614141.00001.0",
        &["962#0"],
    ),
    (
        "EQ_destination_possessing_party=urn:epc:id:pgln:4012345.00000",
        &["assoc#0"],
    ),
    (
        "EQ_destination_location=urn:epc:id:sgln:4012345.00225.0",
        &[],
    ),
    // Sensor reports: type and the uom-suffixed comparisons.
    ("EQ_type=AbsoluteHumidity", &["assoc#0"]),
    ("EQ_type=gs1:Temperature", &[]),
    ("GE_minValue_A93=12.1", &["assoc#0"]),
    ("GT_minValue_A93=12.1", &[]),
    ("LE_maxValue_A93=12.2", &["assoc#0"]),
    ("LT_maxValue_A93=12.2", &[]),
    ("GE_value_A93=0", &[]),
    // Conjunctions.
    (
        "EQ_bizStep=receiving&MATCH_epc=urn:epc:idpat:sgtin:0614141.*.*",
        &["RECV", "963#0"],
    ),
    (
        "eventType=ObjectEvent&EQ_disposition=in_progress&GE_eventTime=2010-01-01T00:00:00Z",
        &["962#0", "persist#0", "persist#1"],
    ),
];

#[test]
fn parameter_families_on_the_examples() {
    check(&examples(), EXAMPLE_CASES);
    // No restriction: everything; EXISTS_errorDeclaration=false restricts nothing.
    let all: Vec<String> = examples().into_iter().map(|e| e.label).collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    check(
        &examples(),
        &[("", &all), ("EXISTS_errorDeclaration=false", &all)],
    );
}

/// Families the examples have no data for, on the event-hash vectors.
const VECTOR_CASES: &[(&str, &[Case])] = &[
    (
        "epcisDocWithVariousEventTypes",
        &[
            (
                "EQ_transformationID=urn:epc:id:gdti:4012345.55555.1234",
                &[
                    "epcisDocWithVariousEventTypes#10",
                    "epcisDocWithVariousEventTypes#12",
                ],
            ),
            (
                "EQ_transformationID=urn:epc:id:gdti:4012345.55555.1235",
                &[],
            ),
            (
                "EQ_action=DELETE",
                &[
                    "epcisDocWithVariousEventTypes#6",
                    "epcisDocWithVariousEventTypes#7",
                ],
            ),
        ],
    ),
    (
        "epcisDocWithSensorDataObjectEvent",
        &[
            (
                "GE_value_CEL=26.2",
                &["epcisDocWithSensorDataObjectEvent#0"],
            ),
            ("GT_value_CEL=26.2", &[]),
            ("LE_value_CEL=26", &["epcisDocWithSensorDataObjectEvent#0"]),
            ("LT_value_CEL=26", &[]),
            (
                "EQ_value_KMH=161|999",
                &["epcisDocWithSensorDataObjectEvent#0"],
            ),
            ("EQ_value_KMH=163", &[]),
            ("GE_value_KGM=0", &[]),
            (
                "EQ_type=Temperature",
                &["epcisDocWithSensorDataObjectEvent#0"],
            ),
            ("EQ_type=Mass", &[]),
        ],
    ),
];

#[test]
fn parameter_families_on_the_vectors() {
    for (stem, cases) in VECTOR_CASES {
        check(&vectors(Some(stem)), cases);
    }
}

#[test]
fn event_terms_of_one_vector_event() {
    let events = vectors(Some("epcisDocWithSensorDataObjectEvent"));
    assert_eq!(
        event_terms(&events[0].event),
        [
            "action=OBSERVE",
            "bizStep=https://ref.gs1.org/cbv/BizStep-inspecting",
            "epc=https://id.gs1.org/01/04012345111118/21/9876",
            "readPoint=https://id.gs1.org/414/4012345000054",
            "type=ObjectEvent",
        ]
    );
    let events = examples();
    let terms = event_terms(&events.iter().find(|e| e.label == "rail#0").unwrap().event);
    assert!(
        terms.iter().any(|t| t.starts_with("bizTransaction=|")),
        "an untyped business transaction has an empty type: {terms:?}"
    );
    assert_eq!(event_terms(&json!("not an event")), Vec::<String>::new());
}

/// Every query of the case tables and of `term_queries`: when it matches an
/// event, its candidate terms (if any) include one of the event's terms.
#[test]
fn candidate_terms_never_miss_a_match() {
    let mut corpus = examples();
    corpus.extend(vectors(None));
    let mut queries: Vec<EventQuery> = EXAMPLE_CASES.iter().map(|(q, _)| parse(q)).collect();
    for (_, cases) in VECTOR_CASES {
        queries.extend(cases.iter().map(|(q, _)| parse(q)));
    }
    for event in &corpus {
        queries.extend(term_queries(&event.event).into_iter().map(|(_, q)| q));
    }
    let mut checked = 0;
    for query in &queries {
        let Some(candidates) = query.candidate_terms() else {
            continue;
        };
        assert!(!candidates.is_empty(), "{query:?}");
        for event in &corpus {
            if query.matches(&event.event, event.record_time_ms) {
                let terms = event_terms(&event.event);
                assert!(
                    candidates.iter().any(|c| terms.contains(c)),
                    "{}: candidates {candidates:?} not in {terms:?}",
                    event.label
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 3_000,
        "only {checked} matches with candidate terms"
    );
}

/// For each index term of an event, the query that asks for exactly that
/// value (via `from_json`, so values are never split on `|`).
fn term_queries(event: &Value) -> Vec<(String, EventQuery)> {
    let mut out = Vec::new();
    for term in event_terms(event) {
        let (name, value) = term.split_once('=').unwrap();
        let query = match name {
            "type" => json!({"eventType": [value]}),
            "eventID" => json!({"EQ_eventID": [value]}),
            "action" => json!({"EQ_action": [value]}),
            "bizStep" => json!({"EQ_bizStep": [value]}),
            "disposition" => json!({"EQ_disposition": [value]}),
            "readPoint" => json!({"EQ_readPoint": [value]}),
            "bizLocation" => json!({"EQ_bizLocation": [value]}),
            "transformationID" => json!({"EQ_transformationID": [value]}),
            "epc" => json!({"MATCH_anyEPC": [value]}),
            "epcClass" => json!({"MATCH_anyEPCClass": [value]}),
            "bizTransaction" | "source" | "destination" => {
                let (kind, id) = value.split_once('|').unwrap();
                if kind.is_empty() {
                    continue; // an untyped entry cannot be asked for
                }
                json!({format!("EQ_{name}_{kind}"): [id]})
            }
            other => panic!("unexpected term {other}"),
        };
        let query = EventQuery::from_json(&query).unwrap_or_else(|e| panic!("{term}: {e}"));
        out.push((term, query));
    }
    out
}

#[test]
fn every_event_term_finds_its_event() {
    let mut corpus = examples();
    corpus.extend(vectors(None));
    let mut count = 0;
    for event in &corpus {
        for (term, query) in term_queries(&event.event) {
            assert!(
                query.matches(&event.event, event.record_time_ms),
                "{}: {term}",
                event.label
            );
            assert_eq!(query.candidate_terms(), Some(vec![term.clone()]), "{term}");
            count += 1;
        }
    }
    assert!(count >= 400, "{count}");
}

#[test]
fn candidate_terms_prefer_selective_restrictions() {
    let cases: &[(&str, Option<&[&str]>)] = &[
        (
            "EQ_bizStep=shipping",
            Some(&["bizStep=https://ref.gs1.org/cbv/BizStep-shipping"]),
        ),
        (
            "EQ_bizStep=shipping&EQ_eventID=urn:uuid:1&MATCH_epc=urn:epc:id:sgtin:4012345.011111.9876",
            Some(&["eventID=urn:uuid:1"]),
        ),
        (
            "EQ_bizStep=shipping&MATCH_epc=urn:epc:id:sgtin:4012345.011111.9876",
            Some(&["epc=https://id.gs1.org/01/04012345111118/21/9876"]),
        ),
        (
            "EQ_bizStep=shipping&MATCH_epc=urn:epc:idpat:sgtin:4012345.011111.*",
            Some(&["bizStep=https://ref.gs1.org/cbv/BizStep-shipping"]),
        ),
        (
            "MATCH_epc=urn:epc:id:sgtin:4012345.011111.9876|urn:epc:idpat:sgtin:4012345.011111.*",
            None,
        ),
        (
            "EQ_bizTransaction_po=urn:x|urn:y&EQ_readPoint=urn:epc:id:sgln:4012345.00005.0",
            Some(&[
                "bizTransaction=https://ref.gs1.org/cbv/BTT-po|urn:x",
                "bizTransaction=https://ref.gs1.org/cbv/BTT-po|urn:y",
            ]),
        ),
        (
            "EQ_source_location=urn:a&EQ_bizLocation=urn:b",
            Some(&["source=https://ref.gs1.org/cbv/SDT-location|urn:a"]),
        ),
        (
            "EQ_bizLocation=urn:b&WD_readPoint=urn:c",
            Some(&["bizLocation=urn:b"]),
        ),
        (
            "eventType=ObjectEvent&EQ_disposition=in_transit|in_progress",
            Some(&[
                "disposition=https://ref.gs1.org/cbv/Disp-in_progress",
                "disposition=https://ref.gs1.org/cbv/Disp-in_transit",
            ]),
        ),
        (
            "eventType=ObjectEvent|ObjectEvent&EQ_action=ADD",
            Some(&["type=ObjectEvent"]),
        ),
        ("EQ_action=ADD", Some(&["action=ADD"])),
        (
            "GE_eventTime=2020-01-01T00:00:00Z&EXISTS_errorDeclaration=&EQ_type=Temperature",
            None,
        ),
        ("", None),
    ];
    for (query, expected) in cases {
        let expected = expected.map(|terms| terms.iter().map(|t| (*t).to_owned()).collect());
        assert_eq!(parse(query).candidate_terms(), expected, "{query}");
    }
}

#[test]
fn vocabulary_forms_are_one_value() {
    let bare = parse("EQ_bizStep=shipping&EQ_disposition=in_transit&EQ_bizTransaction_po=urn:x");
    for other in [
        "EQ_bizStep=urn:epcglobal:cbv:bizstep:shipping&EQ_disposition=https://ref.gs1.org/cbv/Disp-in_transit&EQ_bizTransaction_po=urn:x",
        "EQ_bizStep=cbv:BizStep-shipping&EQ_disposition=urn:epcglobal:cbv:disp:in_transit&EQ_bizTransaction_po=urn:x",
    ] {
        assert_eq!(parse(other), bare, "{other}");
    }
    // The event side too: an event written with URNs has the same terms.
    let urn_event = json!({"type": "ObjectEvent", "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
                           "disposition": "cbv:Disp-in_transit"});
    let bare_event =
        json!({"type": "ObjectEvent", "bizStep": "shipping", "disposition": "in_transit"});
    assert_eq!(event_terms(&urn_event), event_terms(&bare_event));
    assert!(bare.matches(
        &json!({"type": "ObjectEvent", "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
                "disposition": "https://ref.gs1.org/cbv/Disp-in_transit",
                "bizTransactionList": [{"type": "urn:epcglobal:cbv:btt:po", "bizTransaction": "urn:x"}]}),
        0
    ));
}

#[test]
fn digital_link_identifiers() {
    let dl = |uri: &str| canonical_digital_link(uri).unwrap();
    // Example events carry EPC URNs; a Digital Link query value finds them.
    check(
        &examples(),
        &[
            (
                &format!("MATCH_epc={}", dl("urn:epc:id:sgtin:0614141.107346.2018")),
                &["SHIP", "RECV", "963#0"],
            ),
            (
                &format!("EQ_readPoint={}", dl("urn:epc:id:sgln:0614141.00777.0")),
                &["962#0", "963#0"],
            ),
        ],
    );
    // An event carrying (non-canonical) Digital Link URIs.
    let event = json!({
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "epcList": ["https://example.com/01/04012345111118/21/9876?17=201231"],
        "quantityList": [{"epcClass": "https://example.com/gtin/04012345111118/lot/LOT1", "quantity": 1}],
    });
    let cases: &[(&str, bool)] = &[
        ("MATCH_epc=urn:epc:id:sgtin:4012345.011111.9876", true),
        (
            "MATCH_epc=https://id.gs1.org/01/04012345111118/21/9876",
            true,
        ),
        ("MATCH_epc=urn:epc:idpat:sgtin:4012345.011111.*", true),
        ("MATCH_epc=urn:epc:idpat:sgtin:4012345.*.*", true),
        ("MATCH_epc=urn:epc:idpat:sgtin:*.*.*", true),
        ("MATCH_epc=urn:epc:idpat:sgtin:4012345.011111.9876", true),
        ("MATCH_epc=urn:epc:id:sgtin:4012345.011111.9877", false),
        ("MATCH_epc=urn:epc:idpat:sgtin:4012346.*.*", false),
        ("MATCH_epc=urn:epc:idpat:sgtin:4012345.011112.*", false),
        ("MATCH_epc=urn:epc:idpat:sscc:*.*", false),
        (
            "MATCH_epcClass=urn:epc:class:lgtin:4012345.011111.LOT1",
            true,
        ),
        ("MATCH_epcClass=urn:epc:idpat:sgtin:4012345.011111.*", true),
        ("MATCH_epcClass=urn:epc:idpat:sgtin:4012345.*.*", true),
        (
            "MATCH_epcClass=urn:epc:class:lgtin:4012345.011111.LOT2",
            false,
        ),
        ("MATCH_epcClass=urn:epc:idpat:sgtin:4012345.011112.*", false),
    ];
    for (query, expected) in cases {
        assert_eq!(parse(query).matches(&event, 0), *expected, "{query}");
    }
    let terms = event_terms(&event);
    assert!(terms.contains(&"epc=https://id.gs1.org/01/04012345111118/21/9876".to_owned()));
    assert!(terms.contains(&"epcClass=https://id.gs1.org/01/04012345111118/10/LOT1".to_owned()));
}

#[test]
fn prefixes_of_the_query_and_of_the_event() {
    let query = EventQuery::from_json(&json!({
        "@context": [{"ex": "https://ns.example.com/vocab/"}],
        "EQ_bizStep": ["ex:sorting"],
    }))
    .unwrap();
    let web = json!({"type": "ObjectEvent", "bizStep": "https://ns.example.com/vocab/sorting"});
    let curie = json!({"@context": [{"ex": "https://ns.example.com/vocab/"}],
                       "type": "ObjectEvent", "bizStep": "ex:sorting"});
    let other = json!({"@context": [{"ex": "https://other.example.com/"}],
                       "type": "ObjectEvent", "bizStep": "ex:sorting"});
    assert!(query.matches(&web, 0));
    assert!(query.matches(&curie, 0));
    assert!(!query.matches(&other, 0));
    assert_eq!(event_terms(&web), event_terms(&curie));
    assert!(!query.matches(&json!("not an event"), 0));
}

#[test]
fn record_time_comes_from_the_caller() {
    let query = parse("GE_recordTime=2024-01-01T00:00:00Z&LT_recordTime=2024-01-01T00:00:01Z");
    // The event's own recordTime member is not the repository's record time.
    let event = json!({"type": "ObjectEvent", "recordTime": "2000-01-01T00:00:00Z"});
    assert!(query.matches(&event, RECORD_BASE_MS));
    assert!(query.matches(&event, RECORD_BASE_MS + 999));
    assert!(!query.matches(&event, RECORD_BASE_MS + 1_000));
    assert!(!query.matches(&event, RECORD_BASE_MS - 1));
    assert_eq!(
        query.record_time_range(),
        (Some(RECORD_BASE_MS), Some(RECORD_BASE_MS + 1_000))
    );
    assert_eq!(query.event_time_range(), (None, None));
}

#[test]
fn time_ranges_and_timestamps() {
    let query = parse(
        "GE_eventTime=2005-04-03T20:33:31.116-06:00&LT_eventTime=2015-03-15T00:00:00.000-04:00",
    );
    assert_eq!(
        query.event_time_range(),
        (Some(1_112_582_011_116), Some(1_426_392_000_000))
    );
    assert_eq!(query.record_time_range(), (None, None));
    let cases: &[(&str, Option<i64>)] = &[
        ("1970-01-01T00:00:00Z", Some(0)),
        ("1970-01-01T01:00:00+01:00", Some(0)),
        ("1969-12-31T23:59:59.999Z", Some(-1)),
        ("2005-04-03T20:33:31.116000-06:00", Some(1_112_582_011_116)),
        ("2024-01-01T00:00:00.000Z", Some(RECORD_BASE_MS)),
        (
            "2024-02-29T23:30:00-01:00",
            Some(RECORD_BASE_MS + (60 * 86_400 + 1_800) * 1_000),
        ),
        ("yesterday", None),
        ("2020-02-30T00:00:00Z", None),
        ("2020-01-01T00:00:00+25:00", None),
        ("", None),
    ];
    for (text, expected) in cases {
        assert_eq!(timestamp_millis(text), *expected, "{text}");
    }
}

#[test]
fn paging_and_ordering_controls() {
    let query = parse(
        "perPage=30&nextPageToken=3A15506738749783AU6D7DENAKwM2gQRRwGrataeq&orderBy=eventTime&orderDirection=ASC&eventCountLimit=5",
    );
    assert_eq!(query.per_page(), Some(30));
    assert_eq!(
        query.next_page_token(),
        Some("3A15506738749783AU6D7DENAKwM2gQRRwGrataeq")
    );
    assert_eq!(query.order_by(), OrderBy::EventTime);
    assert!(!query.descending());
    assert_eq!(query.event_count_limit(), Some(5));
    assert_eq!(query.max_event_count(), None);
    assert_eq!(query.candidate_terms(), None);
    // Paging and ordering do not restrict.
    assert_eq!(matching(&query, &examples()).len(), 20);

    let defaults = parse("");
    assert_eq!(defaults.order_by(), OrderBy::Index);
    assert!(!defaults.descending());
    assert_eq!(
        (defaults.per_page(), defaults.next_page_token()),
        (None, None)
    );
    assert_eq!(defaults.event_count_limit(), None);
    assert_eq!(defaults, EventQuery::default());

    let by_record_time = parse("orderBy=recordTime&maxEventCount=100");
    assert_eq!(by_record_time.order_by(), OrderBy::RecordTime);
    assert!(
        by_record_time.descending(),
        "DESC is the default with orderBy"
    );
    assert_eq!(by_record_time.max_event_count(), Some(100));
    assert!(parse("orderDirection=DESC").descending());

    let spelled = parse("PerPage=7&NextPageToken=abc");
    assert_eq!(spelled.per_page(), Some(7));
    assert_eq!(spelled.next_page_token(), Some("abc"));
}

fn unknown(name: &str) -> QueryError {
    QueryError::UnknownParameter(name.to_owned())
}

#[test]
fn refusals_name_the_parameter() {
    let unknown_names = [
        "EQ_colour=red",
        "foo=1",
        "GE_value_kgm=1",
        "GE_value_KILOGRAM=1",
        "GE_volume_KGM=1",
        "EQ_minValue_KGM=1",
        "EQ_bizTransaction_notatype=urn:x",
        "EQ_bizTransaction_=urn:x",
        "EQ_source_po=urn:x",
        "EQ_quantity_kg=1",
        "GE_sensorTime=2020-01-01T00:00:00Z",
        "NE_INNER_ex:field=1",
        "eventtype=ObjectEvent",
        "=x",
    ];
    for query in unknown_names {
        let (name, _) = query.split_once('=').unwrap();
        let error = EventQuery::from_pairs(&pairs(query)).unwrap_err();
        assert_eq!(error, unknown(name), "{query}");
        assert!(error.to_string().contains(&format!("`{name}`")), "{error}");
    }
    let invalid_values = [
        ("GE_eventTime=yesterday", "GE_eventTime"),
        ("LT_recordTime=2020-13-01T00:00:00Z", "LT_recordTime"),
        ("orderDirection=UP", "orderDirection"),
        ("orderBy=quantity", "orderBy"),
        ("perPage=0", "perPage"),
        ("perPage=ten", "perPage"),
        ("perPage=-1", "perPage"),
        ("perPage=99999999999", "perPage"),
        ("nextPageToken=", "nextPageToken"),
        ("eventCountLimit=5", "eventCountLimit"),
        (
            "orderBy=eventTime&eventCountLimit=5&maxEventCount=5",
            "eventCountLimit",
        ),
        ("maxEventCount=0", "maxEventCount"),
        ("EQ_action=SELL", "EQ_action"),
        ("eventType=QuantityEvent", "eventType"),
        ("EQ_bizStep=shippping", "EQ_bizStep"),
        ("EQ_bizStep=shipping|", "EQ_bizStep"),
        ("EQ_bizStep=|", "EQ_bizStep"),
        ("EQ_bizStep=shipping||receiving", "EQ_bizStep"),
        ("EQ_disposition=sold", "EQ_disposition"),
        ("EQ_type=Heat", "EQ_type"),
        ("MATCH_epc=urn:epc:idpat:sgtin:*.107346.*", "MATCH_epc"),
        ("MATCH_anyEPC=urn:epc:idpat:sgtin:", "MATCH_anyEPC"),
        ("MATCH_epcClass=urn:epc:idpat:sgtin:1..*", "MATCH_epcClass"),
        ("GE_value_KGM=heavy", "GE_value_KGM"),
        ("GE_value_KGM=NaN", "GE_value_KGM"),
        ("EQ_value_KGM=1|x", "EQ_value_KGM"),
        ("EXISTS_errorDeclaration=maybe", "EXISTS_errorDeclaration"),
        ("EQ_bizStep=shipping&EQ_bizStep=receiving", "EQ_bizStep"),
        ("perPage=5&PerPage=5", "PerPage"),
        (
            "GE_errorDeclarationTime=2020-01-01T00:00:00Z&GE_errorDeclaration_Time=2020-01-01T00:00:00Z",
            "GE_errorDeclaration_Time",
        ),
    ];
    for (query, parameter) in invalid_values {
        let error = EventQuery::from_pairs(&pairs(query)).unwrap_err();
        assert!(
            matches!(&error, QueryError::InvalidValue { parameter: p, .. } if p == parameter),
            "{query}: {error:?}"
        );
        assert!(
            error.to_string().contains(&format!("`{parameter}`")),
            "{error}"
        );
    }
}

#[test]
fn named_query_json() {
    let good = EventQuery::from_json(&json!({
        "eventType": ["ObjectEvent"],
        "EQ_bizStep": "shipping",
        "GE_minValue_A93": 12.1,
        "EQ_value_KMH": [161],
        "EXISTS_errorDeclaration": null,
        "orderBy": "eventTime",
        "eventCountLimit": 1,
        "PerPage": 10,
    }))
    .unwrap();
    assert_eq!(good.event_count_limit(), Some(1));
    assert_eq!(good.per_page(), Some(10));
    // JSON strings are single values even with a `|` in them.
    let piped = EventQuery::from_json(&json!({"EQ_eventID": ["urn:a|b"]})).unwrap();
    assert!(piped.matches(&json!({"eventID": "urn:a|b"}), 0));
    assert!(!piped.matches(&json!({"eventID": "urn:a"}), 0));
    // Same answers as the URL form.
    assert_eq!(
        EventQuery::from_json(&json!({"EQ_bizStep": ["shipping", "receiving"],
                                      "GE_eventTime": "2005-04-03T20:33:31.116-06:00"}))
        .unwrap(),
        parse("EQ_bizStep=shipping|receiving&GE_eventTime=2005-04-03T20:33:31.116-06:00")
    );
    assert_eq!(
        EventQuery::from_json(&json!({"EXISTS_errorDeclaration": 0})).unwrap(),
        parse("EXISTS_errorDeclaration=false")
    );

    let refused: &[(Value, QueryError)] = &[
        (
            json!("EQ_bizStep=shipping"),
            QueryError::InvalidValue {
                parameter: "query".into(),
                message: "a query must be a JSON object".into(),
            },
        ),
        (json!({"EQ_colour": ["red"]}), unknown("EQ_colour")),
    ];
    for (query, error) in refused {
        assert_eq!(EventQuery::from_json(query).unwrap_err(), *error, "{query}");
    }
    let invalid: &[(Value, &str)] = &[
        (json!({"EQ_bizStep": [{}]}), "EQ_bizStep"),
        (json!({"EQ_bizStep": ["shipping", ""]}), "EQ_bizStep"),
        (json!({"EQ_bizStep": ""}), "EQ_bizStep"),
        (json!({"EQ_bizStep": [1]}), "EQ_bizStep"),
        (
            json!({"GE_eventTime": ["2020-01-01T00:00:00Z"]}),
            "GE_eventTime",
        ),
        (
            json!({"orderBy": "eventTime", "eventCountLimit": 1.5}),
            "eventCountLimit",
        ),
        (
            json!({"EXISTS_errorDeclaration": 2}),
            "EXISTS_errorDeclaration",
        ),
        (json!({"GE_value_CEL": "warm"}), "GE_value_CEL"),
    ];
    for (query, parameter) in invalid {
        let error = EventQuery::from_json(query).unwrap_err();
        assert!(
            matches!(&error, QueryError::InvalidValue { parameter: p, .. } if p == parameter),
            "{query}: {error:?}"
        );
    }
    // Two spellings of one parameter (which one is named depends on the
    // map's member order).
    let error = EventQuery::from_json(&json!({"perPage": 5, "PerPage": 6})).unwrap_err();
    assert!(
        matches!(&error, QueryError::InvalidValue { parameter: p, .. } if p == "perPage" || p == "PerPage"),
        "{error:?}"
    );
}

#[test]
fn the_example_query_document_has_no_query() {
    // The query document holds results only; the named-query example is the
    // REST binding's (next test).
    let text =
        fs::read_to_string(conformance().join("epcis/examples/EPCISQueryDocument.jsonld")).unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();
    assert!(document.pointer("/epcisBody/queryResults/query").is_none());
    assert_eq!(
        document.pointer("/epcisBody/queryResults/queryName"),
        Some(&json!("SimpleEventQuery"))
    );
}

fn openapi() -> String {
    fs::read_to_string(conformance().join("epcis/schema/epcis-rest-openapi.yaml")).unwrap()
}

/// The JSON object that starts at the first `{` after `marker`.
fn json_after(text: &str, marker: &str) -> Value {
    let start = text.find(marker).expect(marker) + marker.len();
    let open = start + text[start..].find('{').unwrap();
    let mut depth = 0;
    for (offset, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return serde_json::from_str(&text[open..=open + offset]).unwrap();
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced JSON after {marker}");
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn the_rest_bindings_own_examples() {
    let spec = openapi();
    // The named-query body of `QueryDefinition`.
    let body = json_after(&spec, "    QueryDefinition:\n      example:");
    assert_eq!(body["name"], "UniqueQueryName");
    let named = EventQuery::from_json(&body["query"]).unwrap();
    assert_eq!(
        matching(&named, &examples()),
        expand(&["SHIP", "RECV", "962#0", "persist#0"])
    );

    // The URL example of GET /eventTypes/{eventType}/events: list values
    // are `|`-separated (`%7C`), and the path adds `eventType`.
    let marker = "https://example.com/eventTypes/ObjectEvent/events?";
    let start = spec.find(marker).unwrap() + marker.len();
    let query_string = spec[start..].lines().next().unwrap().trim();
    assert!(query_string.contains("%7C"));
    let decoded: Vec<(String, String)> = query_string
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap();
            (percent_decode(name), percent_decode(value))
        })
        .collect();
    let query = EventQuery::from_pairs(&decoded).unwrap();
    assert_eq!(
        query.candidate_terms(),
        Some(vec![
            "bizStep=https://ref.gs1.org/cbv/BizStep-decommissioning".to_owned(),
            "bizStep=https://ref.gs1.org/cbv/BizStep-shipping".to_owned(),
        ])
    );
    assert_eq!(query.event_time_range(), (Some(1_426_392_000_000), None));
    let path = EventQuery::from_json(&json!({"eventType": ["ObjectEvent"]})).unwrap();
    let query = query.and(path).unwrap();
    let event = |kind: &str, step: &str, time: &str| json!({"type": kind, "bizStep": step, "eventTime": time, "eventTimeZoneOffset": "+00:00"});
    assert!(query.matches(
        &event("ObjectEvent", "decommissioning", "2015-03-15T04:00:00Z"),
        0
    ));
    assert!(!query.matches(
        &event("ObjectEvent", "decommissioning", "2015-03-15T03:59:59.999Z"),
        0
    ));
    assert!(!query.matches(
        &event("AggregationEvent", "shipping", "2020-01-01T00:00:00Z"),
        0
    ));
    assert!(!query.matches(
        &event("ObjectEvent", "receiving", "2020-01-01T00:00:00Z"),
        0
    ));
    assert_eq!(
        query.candidate_terms().unwrap().len(),
        2,
        "bizStep beats eventType"
    );
}

#[test]
fn resource_paths_add_restrictions() {
    let path = EventQuery::from_json(&json!({"EQ_bizStep": ["receiving"]})).unwrap();
    let query = parse("MATCH_epc=urn:epc:idpat:sgtin:0614141.*.*&perPage=2");
    let combined = query.and(path).unwrap();
    assert_eq!(matching(&combined, &examples()), expand(&["RECV", "963#0"]));
    assert_eq!(combined.per_page(), Some(2));
    assert_eq!(
        combined.candidate_terms(),
        Some(vec![
            "bizStep=https://ref.gs1.org/cbv/BizStep-receiving".to_owned()
        ])
    );

    let conflicts = [
        ("EQ_bizStep=shipping", "EQ_bizStep"),
        ("perPage=5", "perPage"),
        ("maxEventCount=1", "eventCountLimit"),
        ("orderBy=eventTime", "orderBy"),
    ];
    let path = parse("EQ_bizStep=receiving&perPage=3&orderBy=recordTime&eventCountLimit=1");
    for (query, parameter) in conflicts {
        let error = parse(query).and(path.clone()).unwrap_err();
        assert!(
            matches!(&error, QueryError::InvalidValue { parameter: p, .. } if p == parameter),
            "{query}: {error:?}"
        );
    }
    // WD_ and EQ_ are different parameters: both apply.
    let both = parse("EQ_readPoint=urn:epc:id:sgln:0614141.00777.0")
        .and(parse("WD_readPoint=urn:epc:id:sgln:0614141.00777.0|urn:x"))
        .unwrap();
    assert_eq!(matching(&both, &examples()), expand(&["962#0", "963#0"]));
}

/// An empty `orderBy` names no field: the repository's order, as if the
/// parameter were absent (so `eventCountLimit` still needs a real one).
#[test]
fn an_empty_order_by_is_the_repositorys_order() {
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let query = EventQuery::from_pairs(&pairs(&[("orderBy", "")])).unwrap();
    assert_eq!(query.order_by(), oretrace_epcis::query::OrderBy::Index);
    assert!(!query.descending());
    assert!(EventQuery::from_pairs(&pairs(&[("orderBy", ""), ("eventCountLimit", "3")])).is_err());
}
