//! One view of the demo's data: `/lots/{id}/provenance/events` gives, for
//! each concentrate, the same events as before records had stored events
//! (the eventIDs compared byte for byte with the event built as the
//! server built it then: `event_of_record`, the registry's `@context`, the
//! CBV 2.0 hash; a captured event's id as logged), and the query
//! interface now finds each of them by its id.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use oretrace_domain::wire::RecordJson;
use serde_json::Value;

fn get_json(url: &str) -> Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r = reqwest::blocking::get(url).unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    serde_json::from_slice(&r.bytes().unwrap()).unwrap()
}

/// The eventID of a record's event as the server computed it before
/// (a copy of the former `registry::event_at`).
fn former_event_id(record: &RecordJson) -> String {
    match record {
        RecordJson::EpcisEvent { event_id, .. } => event_id.clone(),
        other => {
            let record = other.to_record().unwrap();
            let mut event = oretrace_epcis_map::event_of_record(&record).unwrap();
            event["@context"] = oretrace_epcis_map::context();
            oretrace_epcis::event_hash(&event, &oretrace_epcis::Context::from_document(&event))
                .unwrap()
        }
    }
}

#[test]
fn the_demo_provenance_events_are_as_before_and_each_is_queryable() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let server = support::served_demo(&data);
    let base = server.base();
    let mut compared = 0;
    for lot in [
        "urn:oretrace:lot:fwo:sb-concentrate-0001",
        "urn:oretrace:lot:fwo:cu-concentrate-0001",
        "urn:oretrace:lot:fwo:ree-concentrate-0001",
    ] {
        let encoded = oretrace_epcis_map::percent_encode(lot);
        let answer = get_json(&format!("{base}/lots/{encoded}/provenance"));
        let indices: Vec<u64> = answer["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] != "site")
            .map(|e| e["index"].as_u64().unwrap())
            .collect();
        let document = get_json(&format!("{base}/lots/{encoded}/provenance/events"));
        let served: Vec<String> = document["epcisBody"]["eventList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventID"].as_str().unwrap().to_owned())
            .collect();
        let former: Vec<String> = indices
            .iter()
            .map(|index| {
                let view = get_json(&format!("{base}/records/{index}"));
                let record: RecordJson = serde_json::from_value(view["record"].clone()).unwrap();
                former_event_id(&record)
            })
            .collect();
        assert_eq!(served, former, "{lot}");
        assert!(!served.is_empty(), "{lot}");
        for id in &served {
            let found = get_json(&format!(
                "{base}/events/{}",
                oretrace_epcis_map::percent_encode(id)
            ));
            let event =
                match found["epcisBody"]["queryResults"]["resultsBody"]["eventList"].as_array() {
                    Some(list) => list[0].clone(),
                    None => found,
                };
            assert_eq!(event["eventID"].as_str(), Some(id.as_str()), "{lot}");
            compared += 1;
        }
    }
    assert!(compared > 10, "{compared}");
}
