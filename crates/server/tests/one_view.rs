//! One view of the data: records posted to `/records` (a lot, an assay, a
//! shipment, a receipt) are EPCIS events the query interface finds —
//! `GET /events?EQ_bizStep=…`, `GET /events/{eventID}`,
//! `GET /epcs/{epc}/events` — each the very event
//! `/lots/{id}/provenance/events` serves for the record, with the record's
//! signer as capturer; parties and sites are no events.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_server::{ServerConfig, router};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const LOT: &str = "urn:oretrace:lot:fwo:sb-1";

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn envelope(value: Value, signers: &[&NoteSigner]) -> Value {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    let signed = SignedRecord::sign(record, signers).unwrap();
    serde_json::to_value(signed.to_envelope()).unwrap()
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| json!(String::from_utf8_lossy(&body).into_owned()));
    (status, value)
}

async fn get(app: &Router, uri: &str) -> Value {
    let (status, body) = call(app, Request::get(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    body
}

async fn post(app: &Router, value: Value, signers: &[&NoteSigner]) -> u64 {
    let (status, body) = call(
        app,
        Request::post("/records")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(envelope(value, signers).to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["index"].as_u64().unwrap()
}

fn results(doc: &Value) -> Vec<Value> {
    doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn percent(text: &str) -> String {
    oretrace_epcis_map::percent_encode(text)
}

/// The event as the provenance events serve it, and as the query
/// interface does (which adds `recordTime`), compared without the
/// document's `@context` handling: member by member.
fn same_event(queried: &Value, served: &Value) {
    let mut queried = queried.clone();
    let mut served = served.clone();
    for e in [&mut queried, &mut served] {
        let map = e.as_object_mut().unwrap();
        map.remove("recordTime");
        map.remove("@context");
    }
    assert_eq!(queried, served);
}

#[tokio::test]
async fn records_posted_are_found_by_the_epcis_queries() {
    let operator = key("registry/operator", 1);
    let ledger = Arc::new(
        Ledger::start(
            MemoryStore::new(),
            key("oretrace.test/one-view", 2),
            operator.verifier(),
            LedgerConfig::default(),
        )
        .unwrap(),
    );
    let app = router(ledger.clone(), ServerConfig::default()).unwrap();
    let (fwo, ussm) = (key("fwo/k1", 3), key("ussm/k1", 4));
    for (id, k, country) in [("fwo", &fwo, "PK"), ("ussm", &ussm, "US")] {
        post(
            &app,
            json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company",
                   "country": country, "keys": [k.verifier().to_vkey()],
                   "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
            &[k, &operator],
        )
        .await;
    }
    for (id, by, kind, k) in [
        ("fwo-chitral", "fwo", "exploration-area", &fwo),
        ("ussm-madison", "ussm", "receiving-plant", &ussm),
    ] {
        post(
            &app,
            json!({"kind": "site", "id": id, "name": format!("Site {id}"), "site_kind": kind,
                   "operator": by, "country": "PK", "location": {"lat": "24.835", "lon": "66.982"},
                   "approximate": true, "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
            &[k],
        )
        .await;
    }
    // Nothing yet: parties and sites are master data, no events.
    assert_eq!(
        results(&get(&app, "/events?perPage=1000").await),
        Vec::<Value>::new()
    );

    let lot = post(
        &app,
        json!({"kind": "lot", "id": LOT, "commodity": "antimony", "form": "ore", "site": "fwo-chitral",
               "wet_mass": {"value": "25", "unit": "kg"}, "moisture_percent": "4",
               "time": "2025-09-02T00:00:00Z", "figures": "illustrative"}),
        &[&fwo],
    )
    .await;
    let assay = post(
        &app,
        json!({"kind": "assay", "lot": LOT, "analyte": "Sb", "value": "55.2", "unit": "%",
               "basis": "dry", "method": "XRF", "laboratory": "fwo",
               "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               "time": "2025-09-05T00:00:00Z", "figures": "illustrative"}),
        &[&fwo],
    )
    .await;
    let shipment = post(
        &app,
        json!({"kind": "shipment", "id": "s-1", "lots": [LOT], "from": "fwo-chitral",
               "to": "ussm-madison", "receiver": "ussm",
               "time": "2025-09-20T00:00:00Z", "figures": "illustrative"}),
        &[&fwo],
    )
    .await;
    let receipt = post(
        &app,
        json!({"kind": "receipt", "shipment": "s-1", "site": "ussm-madison",
               "lots": [{"lot": LOT, "mass": {"value": "24.8", "unit": "kg"}}],
               "time": "2025-10-01T00:00:00Z", "figures": "illustrative"}),
        &[&ussm],
    )
    .await;

    // The provenance events of the lot: the four records' events, as
    // served before records had stored events.
    let provenance = get(&app, &format!("/lots/{}/provenance/events", percent(LOT))).await;
    let served = provenance["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(served.len(), 4, "{provenance:#}");

    // Every event, in log order: one per record, none for master data.
    let document = get(&app, "/events?perPage=1000").await;
    let all = results(&document);
    assert_eq!(all.len(), 4, "{all:#?}");
    for (queried, served) in all.iter().zip(served) {
        same_event(queried, served);
        // The registry's context, on the event or hoisted to the document.
        let context = queried.get("@context").unwrap_or(&document["@context"]);
        assert_eq!(*context, oretrace_epcis_map::context());
        assert!(queried["recordTime"].is_string());
    }
    let ids: Vec<&str> = all.iter().map(|e| e["eventID"].as_str().unwrap()).collect();
    let served_ids: Vec<&str> = served
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, served_ids);

    // By business step: the shipment alone, and the receipt alone.
    let shipping = results(&get(&app, "/events?EQ_bizStep=shipping").await);
    assert_eq!(shipping.len(), 1, "{shipping:#?}");
    same_event(&shipping[0], &served[2]);
    let by_path = results(&get(&app, "/bizSteps/shipping/events").await);
    assert_eq!(by_path, shipping);
    let receiving = results(&get(&app, "/events?EQ_bizStep=receiving").await);
    assert_eq!(receiving.len(), 1, "{receiving:#?}");
    same_event(&receiving[0], &served[3]);
    let commissioning = results(&get(&app, "/events?EQ_bizStep=commissioning").await);
    assert_eq!(commissioning.len(), 1, "{commissioning:#?}");
    same_event(&commissioning[0], &served[0]);

    // By id, each.
    for (id, served) in ids.iter().zip(served) {
        let one = get(&app, &format!("/events/{}", percent(id))).await;
        let one = if one.get("epcisBody").is_some() {
            results(&one).remove(0)
        } else {
            one
        };
        same_event(&one, served);
    }

    // By the lot's EPC: every event naming it.
    let by_epc = results(&get(&app, &format!("/epcs/{}/events", percent(LOT))).await);
    let mut found: Vec<&str> = by_epc
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    found.sort_unstable();
    let mut expected = ids.clone();
    expected.sort_unstable();
    assert_eq!(found, expected);

    // Each stored event is its record's: capture `record`, the first
    // signer as capturer, the entry's index.
    let store = ledger.store();
    for (index, by) in [
        (lot, "fwo"),
        (assay, "fwo"),
        (shipment, "fwo"),
        (receipt, "ussm"),
    ] {
        let position = [lot, assay, shipment, receipt]
            .iter()
            .position(|i| *i == index)
            .unwrap();
        let state = oretrace_ledger::Store::event(store, ids[position])
            .unwrap()
            .unwrap();
        assert_eq!(state.index(), index);
        assert_eq!(state.captured_by().as_str(), by);
        assert!(state.is_record());
    }
}
