//! `GET /shipments/{id}/reconciliation` on a hand-built case: two lots
//! shipped by fwo to ussm, one received within tolerance and one short and
//! lower in grade, with the differences worked out by hand.

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

const A: &str = "urn:oretrace:lot:fwo:a";
const B: &str = "urn:oretrace:lot:fwo:b";

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn signed(value: Value, signers: &[&NoteSigner]) -> Value {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    serde_json::to_value(SignedRecord::sign(record, signers).unwrap().to_envelope()).unwrap()
}

fn party(id: &str, key: &NoteSigner) -> Value {
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company", "country": "PK",
           "keys": [key.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "reported"})
}

fn site(id: &str, operator: &str, kind: &str) -> Value {
    json!({"kind": "site", "id": id, "name": format!("Site {id}"), "site_kind": kind, "operator": operator,
           "country": "PK", "location": {"lat": "24.835", "lon": "66.982"}, "approximate": true,
           "time": "2025-09-01T00:00:00Z", "figures": "reported"})
}

fn lot(id: &str, kg: &str, moisture: &str) -> Value {
    json!({"kind": "lot", "id": id, "commodity": "antimony", "form": "concentrate", "site": "fwo-chitral",
           "wet_mass": {"value": kg, "unit": "kg"}, "moisture_percent": moisture,
           "time": "2025-09-02T00:00:00Z", "figures": "reported"})
}

fn assay(lot: &str, analyte: &str, value: &str, basis: &str, lab: &str, time: &str) -> Value {
    json!({"kind": "assay", "lot": lot, "analyte": analyte, "value": value, "unit": "%", "basis": basis,
           "method": "XRF", "laboratory": lab,
           "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "time": time, "figures": "reported"})
}

async fn call(app: &Router, uri: &str) -> (StatusCode, Value) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap())
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

/// The figures of one compared quantity: shipped, received, difference,
/// relative difference, tolerance, within.
fn figures(
    lot: &Value,
    quantity: &str,
    element: Option<&str>,
) -> (String, String, String, String, String, bool) {
    let d = lot["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["quantity"] == quantity && element.is_none_or(|e| d["element"] == e))
        .unwrap_or_else(|| panic!("no {quantity} {element:?} in {lot}"));
    let s = |k: &str| d[k].as_str().unwrap().to_owned();
    (
        s("shipped"),
        s("received"),
        s("difference"),
        s("relative_percent"),
        s("tolerance"),
        d["within"].as_bool().unwrap(),
    )
}

fn t(
    s: &str,
    r: &str,
    d: &str,
    rel: &str,
    tol: &str,
    within: bool,
) -> (String, String, String, String, String, bool) {
    (s.into(), r.into(), d.into(), rel.into(), tol.into(), within)
}

fn indices(records: &Value) -> Vec<(u64, String)> {
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let signers: Vec<&str> = r["signers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            (r["index"].as_u64().unwrap(), signers.join("+"))
        })
        .collect()
}

#[tokio::test]
async fn a_shipment_reconciles_lot_by_lot_with_both_sides_records() {
    let operator = key("registry/operator", 1);
    let ledger = Ledger::start(
        MemoryStore::new(),
        key("oretrace.test/ledger", 2),
        operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    let app = router(Arc::new(ledger), ServerConfig::default()).unwrap();
    let (fwo, ussm, lab) = (key("fwo/k1", 3), key("ussm/k1", 4), key("lab/k1", 5));
    for (id, k) in [("fwo", &fwo), ("ussm", &ussm), ("lab", &lab)] {
        submit(&app, signed(party(id, k), &[k, &operator])).await;
    }
    submit(
        &app,
        signed(site("fwo-chitral", "fwo", "exploration-area"), &[&fwo]),
    )
    .await;
    submit(
        &app,
        signed(site("ussm-madison", "ussm", "receiving-plant"), &[&ussm]),
    )
    .await;
    let lot_a = submit(&app, signed(lot(A, "1000", "5"), &[&fwo])).await;
    let lot_b = submit(&app, signed(lot(B, "500", "10"), &[&fwo])).await;
    let before = "2025-09-05T00:00:00Z";
    let assay_a = submit(
        &app,
        signed(assay(A, "Sb", "40", "dry", "lab", before), &[&fwo, &lab]),
    )
    .await;
    let assay_b = submit(
        &app,
        signed(assay(B, "Sb", "20", "dry", "lab", before), &[&fwo, &lab]),
    )
    .await;
    // 1.8 % Cu on the wet basis at 10 % moisture: 2 % dry. Never re-assayed.
    let assay_b_cu = submit(
        &app,
        signed(assay(B, "Cu", "1.8", "wet", "lab", before), &[&fwo, &lab]),
    )
    .await;
    let shipment = submit(
        &app,
        signed(
            json!({"kind": "shipment", "id": "s-1", "lots": [A, B], "from": "fwo-chitral", "to": "ussm-madison",
                   "receiver": "ussm", "time": "2025-09-20T00:00:00Z", "figures": "reported"}),
            &[&fwo],
        ),
    )
    .await;

    // In transit: the shipped side only.
    let (status, body) = call(&app, "/shipments/s-1/reconciliation").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "in transit");
    assert_eq!(body["receipt_record"], Value::Null);
    assert_eq!(body["illustrative"], false);
    assert_eq!(body["flagged"], 0);
    let a = &body["lots"][0];
    assert_eq!(a["received"], Value::Null);
    assert_eq!(
        (
            a["shipped"]["wet_mass_kg"].as_str(),
            a["shipped"]["dry_mass_kg"].as_str()
        ),
        (Some("1000"), Some("950"))
    );
    assert_eq!(
        indices(&a["shipped"]["records"]),
        vec![
            (lot_a, "fwo".into()),
            (assay_a, "fwo+lab".into()),
            (shipment, "fwo".into())
        ]
    );
    assert_eq!(
        body["lots"][1]["shipped"]["assays"][0]["element_percent"],
        "2"
    );

    let receipt = submit(
        &app,
        signed(
            json!({"kind": "receipt", "shipment": "s-1", "site": "ussm-madison",
                   "lots": [{"lot": A, "mass": {"value": "995", "unit": "kg"}},
                            {"lot": B, "mass": {"value": "480", "unit": "kg"}}],
                   "time": "2025-10-20T00:00:00Z", "figures": "illustrative"}),
            &[&ussm],
        ),
    )
    .await;
    let after = "2025-10-24T00:00:00Z";
    let reassay_a = submit(
        &app,
        signed(assay(A, "Sb", "39.9", "dry", "ussm", after), &[&ussm]),
    )
    .await;
    let reassay_b = submit(
        &app,
        signed(assay(B, "Sb", "19", "dry", "ussm", after), &[&ussm]),
    )
    .await;

    let (status, body) = call(&app, "/shipments/s-1/reconciliation").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "received");
    assert_eq!(
        (body["shipper"].as_str(), body["receiver"].as_str()),
        (Some("fwo"), Some("ussm"))
    );
    assert_eq!(body["receipt_record"]["index"], receipt);
    assert_eq!(body["receipt_record"]["signers"], json!(["ussm"]));
    assert_eq!(body["illustrative"], true, "the receipt is illustrative");
    assert_eq!(
        body["tolerance"],
        json!({"wet_mass_percent": "0.5", "dry_mass_percent": "0.5", "grade_points": null,
               "grade_relative_percent": "2", "contained_percent": "2"})
    );

    // Lot A, 1000 kg at 5 % moisture (950 kg dry), Sb 40 %; received
    // 995 kg (945.25 kg dry at the shipped moisture), re-assayed Sb 39.9 %.
    let a = &body["lots"][0];
    assert_eq!(a["lot"], A);
    assert_eq!(
        figures(a, "wet_mass", None),
        t("1000", "995", "-5", "-0.5", "5", true)
    );
    assert_eq!(
        figures(a, "grade", Some("Sb")),
        t("40", "39.9", "-0.1", "-0.25", "0.8", true)
    );
    // 380 kg of Sb shipped, 945.25 × 0.399 = 377.15475 received: −2.84525 kg
    // = −0.74875 %, within 2 % (7.6 kg).
    assert_eq!(
        figures(a, "contained", Some("Sb")),
        t("380", "377.15475", "-2.84525", "-0.74875", "7.6", true)
    );
    assert!(
        a["differences"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["quantity"] != "dry_mass"),
        "a receipt states no moisture"
    );
    assert_eq!(a["flagged"], 0);
    assert_eq!(a["received"]["dry_mass_kg"], "945.25");
    assert_eq!(
        indices(&a["received"]["records"]),
        vec![(receipt, "ussm".into()), (reassay_a, "ussm".into())]
    );

    // Lot B, 500 kg at 10 % (450 kg dry), Sb 20 %; received 480 kg (432 kg
    // dry), Sb 19 %: −20 kg (−4 %, allowed 2.5 kg), −1 point (allowed 2 %
    // of 20 = 0.4), contained 90 → 82.08 kg (−8.8 %, allowed 1.8 kg).
    let b = &body["lots"][1];
    assert_eq!(
        figures(b, "wet_mass", None),
        t("500", "480", "-20", "-4", "2.5", false)
    );
    assert_eq!(
        figures(b, "grade", Some("Sb")),
        t("20", "19", "-1", "-5", "0.4", false)
    );
    assert_eq!(
        figures(b, "contained", Some("Sb")),
        t("90", "82.08", "-7.92", "-8.8", "1.8", false)
    );
    assert_eq!(b["not_compared"], json!(["Cu"]));
    assert_eq!(b["flagged"], 3);
    assert_eq!(body["flagged"], 3);
    assert_eq!(
        indices(&b["shipped"]["records"]),
        vec![
            (lot_b, "fwo".into()),
            (assay_b_cu, "fwo+lab".into()),
            (assay_b, "fwo+lab".into()),
            (shipment, "fwo".into())
        ]
    );
    assert_eq!(
        indices(&b["received"]["records"]).last().unwrap().0,
        reassay_b
    );

    // Wider tolerances: 5 % on masses and 1 point on grades leave only
    // B's contained antimony (still judged at 2 %) outside.
    let (status, body) = call(
        &app,
        "/shipments/s-1/reconciliation?massTolerancePercent=5&gradeTolerancePoints=1",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["tolerance"]["grade_points"], "1");
    let b = &body["lots"][1];
    assert_eq!(
        figures(b, "wet_mass", None),
        t("500", "480", "-20", "-4", "25", true)
    );
    assert_eq!(
        figures(b, "grade", Some("Sb")),
        t("20", "19", "-1", "-5", "1", true)
    );
    assert_eq!(body["flagged"], 1);
}

#[tokio::test]
async fn bad_tolerances_and_unknown_shipments_are_refused() {
    let operator = key("registry/operator", 1);
    let ledger = Ledger::start(
        MemoryStore::new(),
        key("oretrace.test/ledger", 2),
        operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    let app = router(Arc::new(ledger), ServerConfig::default()).unwrap();
    let (status, body) = call(&app, "/shipments/nothing/reconciliation").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for (query, field) in [
        ("massTolerancePercent=-1", "massTolerancePercent"),
        ("massTolerancePercent=101", "massTolerancePercent"),
        ("massTolerancePercent=lots", "massTolerancePercent"),
        ("gradeTolerancePoints=1e3", "gradeTolerancePoints"),
        ("gradeTolerancePoints=", "gradeTolerancePoints"),
        (
            "gradeTolerancePoints=1&gradeTolerancePoints=2",
            "gradeTolerancePoints",
        ),
        ("tolerance=1", "tolerance"),
    ] {
        let (status, body) =
            call(&app, &format!("/shipments/nothing/reconciliation?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
}
