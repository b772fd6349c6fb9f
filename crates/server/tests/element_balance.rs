//! Per-element mass balance over HTTP: an assay of a transformation's
//! output that would make the outputs hold more copper than the inputs
//! did, beyond the default tolerance (2 % of each grade), is refused with
//! a 422 naming the field, the element, out and in in kg, the tolerance
//! and the transformation's log index, and nothing is written; through
//! `POST /records` and through EPCIS capture (the transformation and the
//! assay in one document).
//!
//! The case, by hand (as in the ledger's test): ore R, 980 kg dry at Cu
//! 10 % = 98 kg in; concentrate C, 200 kg dry. Cu 51 % in C is 102 kg
//! out, allowance 980 × 10 % × 2 % + 200 × 51 % × 2 % = 1.96 + 2.04 = 4 kg:
//! holds at the edge. Cu 51.01 % is 102.02 kg, allowance 4.0004 kg,
//! 0.0196 kg beyond: refused.

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
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::{StateView, Store};
use oretrace_server::{ServerConfig, router};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const R: &str = "urn:oretrace:lot:fwo:r";
const C: &str = "urn:oretrace:lot:fwo:c";
const CERT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn envelope(value: &Value, signers: &[&NoteSigner]) -> Value {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    serde_json::to_value(SignedRecord::sign(record, signers).unwrap().to_envelope()).unwrap()
}

fn assay(lot: &str, cu: &str) -> Value {
    json!({"kind": "assay", "lot": lot, "analyte": "Cu", "value": cu, "unit": "%", "basis": "dry",
           "method": "ICP-OES", "laboratory": "lab", "certificate_sha256": CERT,
           "time": "2025-09-16T00:00:00Z", "figures": "illustrative"})
}

fn transformation() -> Value {
    json!({"kind": "transformation", "id": "flot-1", "site": "conc", "process": "flotation",
           "inputs": [{"lot": R, "mass": {"value": "980", "unit": "kg"}}],
           "outputs": [{"id": C, "commodity": "copper", "form": "concentrate",
                        "wet_mass": {"value": "200", "unit": "kg"}, "moisture_percent": "0"}],
           "time": "2025-09-15T00:00:00Z", "figures": "illustrative"})
}

struct World {
    ledger: Arc<Ledger<MemoryStore>>,
    app: Router,
    fwo: NoteSigner,
    lab: NoteSigner,
}

impl World {
    async fn call(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let mut json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if let Some(l) = location {
            json["_location"] = Value::String(l);
        }
        (status, json)
    }

    async fn post(&self, value: &Value, signers: &[&NoteSigner]) -> (StatusCode, Value) {
        self.call(
            Request::post("/records")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(envelope(value, signers).to_string()))
                .unwrap(),
        )
        .await
    }

    async fn ok(&self, value: Value, signers: &[&NoteSigner]) {
        let (status, body) = self.post(&value, signers).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    fn size(&self) -> u64 {
        self.ledger.store().size().unwrap()
    }

    /// Captures `events` (records as EPCIS events) in one document signed
    /// by fwo and the laboratory; returns the finished job.
    async fn capture(&self, records: &[Value]) -> Value {
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
            "registry.example/log",
            &Digest::of(&body),
            "fwo",
            oretrace_domain::event::CaptureBehaviour::Rollback,
        );
        let mut request =
            Request::post("/capture").header(header::CONTENT_TYPE, "application/json");
        for s in [&self.fwo, &self.lab] {
            let signed = s.sign(&note).unwrap().to_bytes();
            let signed = String::from_utf8(signed).unwrap();
            let line = signed.lines().last().unwrap();
            request = request.header(
                "Oretrace-Signature",
                line.trim_start_matches('\u{2014}').trim().to_owned(),
            );
        }
        let (status, accepted) = self.call(request.body(Body::from(body)).unwrap()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        let location = accepted["_location"].as_str().unwrap().to_owned();
        for _ in 0..500 {
            let (_, job) = self
                .call(Request::get(&location).body(Body::empty()).unwrap())
                .await;
            if job["running"] == false {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("capture job {location} did not finish");
    }
}

/// fwo, the laboratory, fwo's concentrator and ore R assayed at Cu 10 %.
async fn world() -> World {
    let operator = key("operator/1", 1);
    let fwo = key("fwo/1", 2);
    let lab = key("lab/1", 4);
    let ledger = Arc::new(
        Ledger::start(
            MemoryStore::new(),
            key("registry.example/log", 9),
            operator.verifier(),
            LedgerConfig::default(),
        )
        .unwrap(),
    );
    let app = router(ledger.clone(), ServerConfig::default()).unwrap();
    let w = World {
        ledger,
        app,
        fwo,
        lab,
    };
    for (id, kind, k) in [("fwo", "company", &w.fwo), ("lab", "laboratory", &w.lab)] {
        w.ok(
            json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": kind,
                   "country": "PK", "keys": [k.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z",
                   "figures": "illustrative"}),
            &[k, &operator],
        )
        .await;
    }
    w.ok(
        json!({"kind": "site", "id": "conc", "name": "Concentrator", "site_kind": "concentrator",
               "operator": "fwo", "country": "PK", "location": {"lat": "29", "lon": "62"},
               "approximate": true, "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
        &[&w.fwo],
    )
    .await;
    w.ok(
        json!({"kind": "lot", "id": R, "commodity": "copper", "form": "ore", "site": "conc",
               "wet_mass": {"value": "980", "unit": "kg"}, "moisture_percent": "0",
               "time": "2025-09-02T00:00:00Z", "figures": "illustrative"}),
        &[&w.fwo],
    )
    .await;
    let mut ore = assay(R, "10");
    ore["time"] = json!("2025-09-03T00:00:00Z");
    w.ok(ore, &[&w.fwo, &w.lab]).await;
    w
}

fn names_the_balance(text: &str, index: u64) {
    for part in [
        "mass balance of Cu".to_owned(),
        format!("transformation flot-1 (log index {index})"),
        "contain 102.02 kg of Cu".to_owned(),
        "the 98 kg its inputs contained".to_owned(),
        "4.0004 kg tolerance (2 % of each grade".to_owned(),
        "0.0196 kg beyond".to_owned(),
    ] {
        assert!(text.contains(&part), "{part:?} not in {text}");
    }
}

#[tokio::test]
async fn an_assay_beyond_the_balance_is_refused_through_post_records() {
    let w = world().await;
    w.ok(transformation(), &[&w.fwo]).await;
    let made_at = w.size() - 1;
    let before = w.size();
    let (status, problem) = w.post(&assay(C, "51.01"), &[&w.fwo, &w.lab]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["status"], 422);
    assert_eq!(problem["field"], "value");
    names_the_balance(problem["rule"].as_str().unwrap(), made_at);
    names_the_balance(problem["detail"].as_str().unwrap(), made_at);
    assert_eq!(w.size(), before, "nothing written");
    assert!(
        w.ledger
            .store()
            .lot(C)
            .unwrap()
            .unwrap()
            .element_percent()
            .is_empty()
    );
    // At the edge of the tolerance: accepted.
    let (status, body) = w.post(&assay(C, "51"), &[&w.fwo, &w.lab]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_assay_beyond_the_balance_is_refused_through_epcis_capture() {
    let w = world().await;
    let before = w.size();
    // The transformation and its output's assay in one document: the
    // assay is judged against the transformation captured just before it.
    let job = w.capture(&[transformation(), assay(C, "51.01")]).await;
    assert_eq!(job["success"], false, "{job:#}");
    let error = job["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["status"] == 422)
        .unwrap_or_else(|| panic!("no 422 in {job:#}"));
    let detail = error["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("event (statement 0, assay).value: "),
        "{error:#}"
    );
    assert_eq!(error["instance"], "/epcisBody/eventList/1", "{error:#}");
    names_the_balance(detail, before);
    assert_eq!(w.size(), before, "nothing written (rollback)");
    assert!(w.ledger.store().lot(C).unwrap().is_none());
    // At the edge: both captured, the assay after the transformation.
    let job = w.capture(&[transformation(), assay(C, "51")]).await;
    assert_eq!(job["success"], true, "{job:#}");
    assert_eq!(w.size(), before + 2);
    assert_eq!(
        w.ledger.store().lot_events(C).unwrap(),
        [before, before + 1]
    );
}
