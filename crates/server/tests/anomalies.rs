//! `GET /anomalies` over HTTP: a clean registry, custody gaps (the kind
//! the ledger's rules let through) found, filtered by kind, paged, proven
//! by receipts, in records and in captured EPCIS events alike; bad parameters refused with 400 naming the field; a log
//! over the scan's bound refused with 413 naming it.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::event::document_note;
use oretrace_domain::values::Digest;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::anomalies::AnomalyLimits;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_server::{ServerConfig, router};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn signed(value: Value, signers: &[&NoteSigner]) -> Value {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    serde_json::to_value(SignedRecord::sign(record, signers).unwrap().to_envelope()).unwrap()
}

fn site(id: &str) -> Value {
    json!({"kind": "site", "id": id, "name": format!("Site {id}"), "site_kind": "mine", "operator": "fwo",
           "country": "PK", "location": {"lat": "24.835", "lon": "66.982"}, "approximate": true,
           "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

fn lot(id: &str, time: &str) -> Value {
    json!({"kind": "lot", "id": id, "commodity": "antimony", "form": "ore", "site": "mine",
           "wet_mass": {"value": "100", "unit": "kg"}, "moisture_percent": "0",
           "time": time, "figures": "illustrative"})
}

fn ship(id: &str, lot: &str, time: &str) -> Value {
    json!({"kind": "shipment", "id": id, "lots": [lot], "from": "mine", "to": "plant", "via": [],
           "receiver": "fwo", "time": time, "figures": "illustrative"})
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Option<String>, Value) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let link = response
        .headers()
        .get(header::LINK)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        link,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

async fn submit(app: &Router, envelope: Value) -> u64 {
    let request = Request::post("/records")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(envelope.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice::<Value>(&body).unwrap()["index"]
        .as_u64()
        .unwrap()
}

fn count(body: &Value, kind: &str) -> u64 {
    body["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap()["findings"]
        .as_u64()
        .unwrap()
}

/// fwo, its mine and plant, three lots shipped on 3, 4 and 5 September
/// and never received. Returns the shipments' indices.
async fn registry(config: ServerConfig) -> (Router, Vec<u64>, NoteSigner) {
    let operator = key("registry/operator", 1);
    let ledger = Ledger::start(
        MemoryStore::new(),
        key("oretrace.test/ledger", 2),
        operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    let app = router(Arc::new(ledger), config).unwrap();
    let fwo = key("fwo/k1", 3);
    submit(
        &app,
        signed(
            json!({"kind": "party", "id": "fwo", "name": "FWO", "party_kind": "company", "country": "PK",
                   "keys": [fwo.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "reported"}),
            &[&fwo, &operator],
        ),
    )
    .await;
    submit(&app, signed(site("mine"), &[&fwo])).await;
    submit(&app, signed(site("plant"), &[&fwo])).await;
    let mut shipped = Vec::new();
    for n in 1..=3 {
        let l = format!("urn:oretrace:lot:fwo:l{n}");
        submit(&app, signed(lot(&l, "2025-09-02T00:00:00Z"), &[&fwo])).await;
        let time = format!("2025-09-0{}T00:00:00Z", n + 2);
        shipped.push(submit(&app, signed(ship(&format!("s-{n}"), &l, &time), &[&fwo])).await);
    }
    (app, shipped, fwo)
}

#[tokio::test]
async fn custody_gaps_are_found_filtered_paged_and_proven() {
    let (app, shipped, fwo) = registry(ServerConfig::default()).await;
    // Newest record 5 September: no shipment is 30 days old yet.
    let (status, _, body) = get(&app, "/anomalies").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["log_size"], 9);
    assert_eq!(body["total"], 0);
    assert_eq!(body["custody_gap_days"], 30);
    assert_eq!(body["newest"], "2025-09-05T00:00:00Z");
    assert!(body["findings"].as_array().unwrap().is_empty());
    assert_eq!(body["counts"].as_array().unwrap().len(), 6);
    // A lot made on 5 October: s-1 (3 Sept) and s-2 (4 Sept) are gaps,
    // s-3 (5 Sept, 30 days exactly) not yet.
    submit(
        &app,
        signed(
            lot("urn:oretrace:lot:fwo:later", "2025-10-05T00:00:00Z"),
            &[&fwo],
        ),
    )
    .await;
    let (status, _, body) = get(&app, "/anomalies").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["log_size"], 10);
    assert_eq!(body["total"], 2);
    assert_eq!(count(&body, "custody-gap"), 2);
    assert_eq!(count(&body, "no-origin"), 0);
    let first = &body["findings"][0];
    assert_eq!(first["kind"], "custody-gap");
    assert_eq!(first["shipments"], json!(["s-1"]));
    assert_eq!(first["lots"], json!(["urn:oretrace:lot:fwo:l1"]));
    assert_eq!(first["evidence"], json!([shipped[0]]));
    assert_eq!(first["figures"], "illustrative");
    assert!(first["what"].as_str().unwrap().contains("never received"));
    // Its evidence is proven.
    let (status, _, _) = get(&app, &format!("/records/{}/receipt", shipped[0])).await;
    assert_eq!(status, StatusCode::OK);
    // Filtered: the counts stay those of the whole log.
    let (_, _, none) = get(&app, "/anomalies?kind=no-origin").await;
    assert_eq!(none["kind"], "no-origin");
    assert_eq!(none["total"], 0);
    assert_eq!(count(&none, "custody-gap"), 2);
    // Paged, one at a time, with a Link to the next page.
    let (status, link, page1) = get(&app, "/anomalies?kind=custody-gap&perPage=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page1["findings"].as_array().unwrap().len(), 1);
    let token = page1["nextPageToken"].as_str().unwrap();
    let link = link.unwrap();
    assert!(
        link.contains("kind=custody-gap") && link.contains(token),
        "{link}"
    );
    let (_, link, page2) = get(
        &app,
        &format!("/anomalies?kind=custody-gap&perPage=1&nextPageToken={token}"),
    )
    .await;
    assert_eq!(page2["findings"][0]["shipments"], json!(["s-2"]));
    assert!(page2.get("nextPageToken").is_none());
    assert!(link.is_none());
}

#[tokio::test]
async fn bad_parameters_are_refused_naming_the_field() {
    let (app, _, _) = registry(ServerConfig::default()).await;
    for (uri, field) in [
        ("/anomalies?kind=ghosts", "kind"),
        ("/anomalies?kind=no-origin&kind=custody-gap", "kind"),
        ("/anomalies?perPage=0", "perPage"),
        ("/anomalies?perPage=1001", "perPage"),
        ("/anomalies?nextPageToken=zz", "nextPageToken"),
        ("/anomalies?since=yesterday", "since"),
    ] {
        let (status, _, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["field"], field, "{uri}: {body}");
    }
}

#[tokio::test]
async fn a_log_over_the_bound_is_refused_with_413_naming_it() {
    let config = ServerConfig {
        anomalies: AnomalyLimits {
            max_entries: 5,
            ..AnomalyLimits::DEFAULT
        },
        ..ServerConfig::default()
    };
    let (app, _, _) = registry(config).await;
    let (status, _, body) = get(&app, "/anomalies").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["limit"], 5);
    assert!(
        body["detail"].as_str().unwrap().contains("9 entries"),
        "{body}"
    );
}

/// Captures `records` as EPCIS events in one document signed by fwo and
/// waits for the job.
async fn capture(app: &Router, fwo: &NoteSigner, records: &[Value]) {
    let events = records
        .iter()
        .map(|r| {
            let record = RecordJson::parse(r.to_string().as_bytes()).unwrap();
            oretrace_epcis_map::event_of_record(&record).unwrap()
        })
        .collect();
    let body = serde_json::to_vec(&oretrace_epcis_map::document(
        events,
        "2026-11-26T00:00:00Z",
    ))
    .unwrap();
    let note = document_note(
        "oretrace.test/ledger",
        &Digest::of(&body),
        "fwo",
        oretrace_domain::event::CaptureBehaviour::Rollback,
    );
    let signed = String::from_utf8(fwo.sign(&note).unwrap().to_bytes()).unwrap();
    let line = signed.lines().last().unwrap();
    let request = Request::post("/capture")
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            "Oretrace-Signature",
            line.trim_start_matches('\u{2014}').trim().to_owned(),
        )
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = response
        .headers()
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for _ in 0..500 {
        let (_, _, job) = get(app, &location).await;
        if job["running"] == false {
            assert_eq!(job["success"], true, "{job}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("capture job {location} did not finish");
}

#[tokio::test]
async fn a_shipment_captured_as_an_epcis_event_and_never_received_is_found() {
    let (app, _, fwo) = registry(ServerConfig::default()).await;
    let l = "urn:oretrace:lot:fwo:captured";
    capture(
        &app,
        &fwo,
        &[
            lot(l, "2025-09-02T00:00:00Z"),
            ship("s-captured", l, "2025-09-03T12:00:00Z"),
        ],
    )
    .await;
    submit(
        &app,
        signed(
            lot("urn:oretrace:lot:fwo:later", "2025-10-20T00:00:00Z"),
            &[&fwo],
        ),
    )
    .await;
    let (status, _, body) = get(&app, "/anomalies?kind=custody-gap").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 4, "{body:#}");
    let found = body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["shipments"] == json!(["s-captured"]))
        .unwrap_or_else(|| panic!("no finding of s-captured in {body:#}"));
    assert_eq!(found["lots"], json!([l]));
    let index = found["evidence"][0].as_u64().unwrap();
    let (status, _, entry) = get(&app, &format!("/records/{index}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(entry["kind"], "epcis-event", "{entry:#}");
}
