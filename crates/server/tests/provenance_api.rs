//! `GET /lots/{id}/provenance`: the worked example of
//! `docs/design/provenance.md` served over HTTP, 404 for an unknown lot,
//! and 413 naming the bound when a lot's upstream is over it (a long
//! chain, a wide fan-in), answered at once rather than after a hang.
//! `GET /lots/{id}/provenance/events`: the EPCIS 2.0 document of exactly
//! the records a provenance answer rests on, in log order, valid against
//! the official schema, with no event of another lot or downstream.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use oretrace_ledger::provenance::{Limits, ProvenanceLimits};
use oretrace_server::{ServerConfig, router};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tower::ServiceExt as _;

#[path = "../../ledger/tests/provenance_world/mod.rs"]
mod provenance_world;
use provenance_world::*;

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&body).unwrap_or_else(|_| json!(String::from_utf8_lossy(&body))),
    )
}

fn share(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap()).unwrap()
}

fn close(v: &Value, num: i64, den: i64) -> bool {
    (share(v) - Decimal::from(num) / Decimal::from(den)).abs() < Decimal::new(1, 20)
}

fn limits(lots: usize) -> ServerConfig {
    ServerConfig {
        provenance: ProvenanceLimits {
            graph: Limits {
                max_upstream_lots: lots,
                max_movements: 1000,
            },
            max_records: 10_000,
        },
        ..ServerConfig::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_blend_is_traced_to_its_origins_by_element() {
    let w = worked_example();
    runtime().block_on(blend_traced(w));
}

async fn blend_traced(w: World) {
    let app = router(Arc::new(w.ledger), ServerConfig::default()).unwrap();
    let (status, answer) = get(&app, &format!("/lots/{B}/provenance")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["lot"], B);
    assert_eq!(answer["figures"], "illustrative");
    let element = |symbol: &str| {
        answer["elements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["element"] == symbol)
            .unwrap()
            .clone()
    };
    let of = |e: &Value, list: &str, key: &str, name: &str| {
        e[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s[key] == name)
            .unwrap()["share"]
            .clone()
    };
    let cu = element("Cu");
    assert!(close(&of(&cu, "by_site", "site", "saindak"), 92, 149));
    assert!(close(&of(&cu, "by_site", "site", "reko-diq"), 69, 298));
    assert!(close(&of(&cu, "by_site", "site", "madison"), 45, 298));
    assert!(close(&of(&cu, "by_country", "country", "PK"), 253, 298));
    // By mass the blend is 67 % Pakistani; by copper 85 %, by cobalt 9 %.
    let co = element("Co");
    assert!(close(&of(&co, "by_country", "country", "PK"), 23, 248));
    assert!(close(&of(&co, "by_country", "country", "US"), 225, 248));
    assert_eq!(cu["contained_kg"], "2381.925");
    assert_eq!(co["contained_kg"], Value::Null);
    assert_eq!(cu["unknown"], "0");

    let steps: Vec<&str> = answer["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["transformation"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["conc-1", "blend-1"]);
    // Recovery per element in each step: conc-1's copper 2,024 / 2,090.
    let cu = answer["steps"][0]["balance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["element"] == "Cu")
        .unwrap();
    assert_eq!(
        (&cu["in_kg"], &cu["out_kg"]),
        (&json!("2090"), &json!("2024"))
    );
    assert!(close(&cu["recovery"], 2024, 2090));
    let sites: Vec<&str> = answer["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"].as_str().unwrap())
        .collect();
    assert!(sites.contains(&"karachi-port"), "{sites:?}");
    assert!(!answer["custody"].as_array().unwrap().is_empty());

    // Every record it rests on has a receipt.
    for e in answer["evidence"].as_array().unwrap() {
        let index = e["index"].as_u64().unwrap();
        let response = app
            .clone()
            .oneshot(
                Request::get(format!("/records/{index}/receipt"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "receipt of {index}");
    }

    let (status, problem) = get(&app, "/lots/urn:oretrace:lot:fwo:nope/provenance").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    // A parameter the read does not take is refused by name, not ignored.
    for path in ["provenance", "provenance/events"] {
        let (status, problem) = get(&app, &format!("/lots/{B}/{path}?asOf=2025-01-01")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("asOf")
                || problem.to_string().contains("asOf"),
            "{problem}"
        );
    }
}

#[test]
fn an_upstream_over_the_bound_is_413_naming_it() {
    let w = worked_example();
    runtime().block_on(over_the_bound(w));
}

async fn over_the_bound(w: World) {
    let app = router(Arc::new(w.ledger), limits(4)).unwrap();
    let (status, problem) = get(&app, &format!("/lots/{B}/provenance")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    assert_eq!(problem["limit"], 4);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("more than 4 lots"),
        "{problem}"
    );
}

/// A hostile custodian blends 200 lots into one: past a bound of 100
/// lots the answer is 413 at once, not a long walk.
#[test]
fn a_wide_fan_in_is_413_not_a_hang() {
    let w = worked_example();
    let mut inputs = Vec::new();
    for i in 0..200 {
        let id = format!("urn:oretrace:lot:fwo:crumb-{i}");
        w.ledger
            .submit_blocking(signed(
                &lot(&id, "saindak", "10", "5", "2025-09-02T00:00:00Z"),
                &[&w.fwo],
            ))
            .unwrap();
        inputs.push(json!({"lot": id, "mass": {"value": "10", "unit": "kg"}}));
    }
    let wide = "urn:oretrace:lot:fwo:wide";
    w.ledger
        .submit_blocking(signed(
            &json!({"kind": "transformation", "id": "t-wide", "site": "saindak", "process": "blending",
                "inputs": inputs,
                "outputs": [{"id": wide, "commodity": "copper", "form": "ore",
                             "wet_mass": {"value": "2000", "unit": "kg"}, "moisture_percent": "5"}],
                "time": "2025-09-04T00:00:00Z", "figures": "illustrative"}),
            &[&w.fwo],
        ))
        .unwrap();
    runtime().block_on(wide_fan_in(w, wide));
}

async fn wide_fan_in(w: World, wide: &str) {
    let ledger = Arc::new(w.ledger);
    let app = router(ledger.clone(), limits(100)).unwrap();
    let started = Instant::now();
    let (status, problem) = get(&app, &format!("/lots/{wide}/provenance")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    assert_eq!(problem["limit"], 100);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Within the default bounds it is answered: 201 lots, one origin site.
    let app = router(ledger, ServerConfig::default()).unwrap();
    let (status, answer) = get(&app, &format!("/lots/{wide}/provenance")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["upstream_lots"], 201);
    assert_eq!(answer["origins"].as_array().unwrap().len(), 200);
}

/// The upstream events of concentrate A: its ores' making, assays,
/// shipments and receipts, the concentration, A's own assays, shipment
/// and receipt — exactly the provenance answer's records, in log order —
/// and nothing of ussm's lot M, the blend B that consumed A, or a lot of
/// fwo's that never went into A.
#[test]
fn the_upstream_events_are_exactly_those_the_provenance_rests_on() {
    let w = worked_example();
    let other = "urn:oretrace:lot:fwo:other";
    w.ledger
        .submit_blocking(signed(
            &lot(other, "saindak", "10", "5", "2025-10-05T00:00:00Z"),
            &[&w.fwo],
        ))
        .unwrap();
    runtime().block_on(upstream_events(w, other));
}

async fn upstream_events(w: World, other: &str) {
    use oretrace_domain::envelope::SignedRecord;
    use oretrace_ledger::StateView as _;
    let ledger = Arc::new(w.ledger);
    let app = router(ledger.clone(), ServerConfig::default()).unwrap();
    let (status, answer) = get(&app, &format!("/lots/{A}/provenance")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let indices: Vec<u64> = answer["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] != "site")
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    // 2 ores, 4 ore assays, 2 shipments and 2 receipts of ores, the
    // concentration, 2 assays of A, its shipment and receipt.
    assert_eq!(indices.len(), 15, "{answer:#}");

    let response = app
        .clone()
        .oneshot(
            Request::get(format!("/lots/{A}/provenance/events"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/ld+json",
        "{:?}",
        response.headers()
    );
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let document: Value = serde_json::from_slice(&body).unwrap();
    oretrace_epcis_schema::EpcisValidator::shared()
        .unwrap()
        .validate_document(&document)
        .unwrap_or_else(|v| panic!("{v:?}\n{document:#}"));
    let events = document["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(events.len(), indices.len(), "{document:#}");
    // Each eventID is the event's CBV 2.0 hash.
    let hashes = oretrace_epcis::document_event_hashes(&document).unwrap();
    let ids: Vec<&str> = events
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, hashes);
    // Event i states exactly the record at the i-th index of the evidence.
    let context = document["@context"].clone();
    for (event, index) in events.iter().zip(&indices) {
        let mut event = event.clone();
        event["@context"] = context.clone();
        let mapped = oretrace_epcis_map::interpret(&event).unwrap();
        let entry = ledger.store().entry(*index).unwrap().unwrap();
        let logged = SignedRecord::from_entry(&entry).unwrap();
        assert_eq!(mapped.records, [logged.record().clone()], "index {index}");
        for named in [other, M, B] {
            assert!(!mapped.lots.iter().any(|l| l == named), "{event:#}");
        }
    }
    assert!(
        !events
            .iter()
            .any(|e| e["transformationID"] == "urn:oretrace:transformation:blend-1"),
        "nothing downstream"
    );

    let (status, problem) = get(&app, "/lots/urn:oretrace:lot:fwo:nope/provenance/events").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let app = router(ledger, limits(2)).unwrap();
    let (status, problem) = get(&app, &format!("/lots/{A}/provenance/events")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    assert_eq!(problem["limit"], 2);
}
