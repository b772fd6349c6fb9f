//! `GET /sites/{id}/custody-model`: the worked example's blend plant
//! declares mass balance for "origin: Pakistan" and claims all of the
//! blend's copper as Pakistani: accepted on arrival, the account flags it
//! (2,381.925 kg claimed out, 2,024 kg of Pakistani copper in: all of
//! concentrate A's), with the log indices it rests on; a controlled
//! blending claim within the computed share holds; the period filters;
//! bad parameters are 400 naming them, an unknown site 404.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use oretrace_ledger::StateView;
use oretrace_ledger::provenance::ProvenanceLimits;
use oretrace_server::{ServerConfig, router};
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

fn declare(attribute: &str, model: &str, specified: &[&str]) -> Value {
    json!({"kind": "custody-model", "site": "ussm-plant", "attribute": attribute, "model": model,
           "specified": specified, "from": "2025-01-01T00:00:00Z",
           "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

fn claim(attribute: &str, share: &str) -> Value {
    json!({"kind": "attribute-claim", "lot": B, "attribute": attribute, "element": "Cu",
           "share": share, "time": "2025-10-27T00:00:00Z", "figures": "illustrative"})
}

#[test]
fn a_site_answers_its_declarations_judged_with_the_mass_balance_account() {
    let w = worked_example();
    let ussm = key("ussm/k1", 4);
    let submit = |v: Value| w.ledger.submit_blocking(signed(&v, &[&ussm])).unwrap();
    let mb = submit(declare(
        "origin: Pakistan",
        "mass-balance",
        &["saindak", "reko-diq"],
    ));
    let mb_claim = submit(claim("origin: Pakistan", "1"));
    let cb = submit(declare(
        "origin: Pakistan (blended)",
        "controlled-blending",
        &["saindak", "reko-diq"],
    ));
    submit(claim("origin: Pakistan (blended)", "0.848"));
    let blend = w.ledger.store().lot(B).unwrap().unwrap().index();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let app = router(Arc::new(w.ledger), ServerConfig::default()).unwrap();
            let (status, body) = get(&app, "/sites/ussm-plant/custody-model").await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["figures"], "illustrative");
            let declarations = body["declarations"].as_array().unwrap();
            assert_eq!(declarations.len(), 2, "{body}");
            let d = &declarations[0];
            assert_eq!(d["index"], mb);
            assert_eq!(d["model"], "mass-balance");
            assert_eq!(d["transformations"][0]["id"], "blend-1");
            assert_eq!(d["transformations"][0]["index"], blend);
            assert_eq!(d["claims"][0]["index"], mb_claim);
            let cu = d["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["element"] == "Cu")
                .unwrap();
            assert_eq!(cu["specified_in_kg"], "2024");
            assert_eq!(cu["claimed_out_kg"], "2381.925");
            assert_eq!(cu["holds"], false);
            assert_eq!(cu["evidence"], json!([blend, mb_claim]));
            assert_eq!(d["holds"], false);
            assert_eq!(
                d["findings"][0]["what"],
                "2381.925 kg of Cu claimed as specified over the period, 2024 kg came in"
            );
            let c = &declarations[1];
            assert_eq!(c["index"], cb);
            assert_eq!(c["model"], "controlled-blending");
            assert_eq!(c["holds"], true, "{c}");
            assert_eq!(c["claims"][0]["share"], "0.848");

            // A period after the blend: the declarations, nothing judged.
            let (status, body) = get(
                &app,
                "/sites/ussm-plant/custody-model?from=2025-11-01T00:00:00Z&to=2025-12-01T00:00:00Z",
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["declarations"][0]["transformations"], json!([]));
            assert_eq!(body["declarations"][0]["holds"], true);

            for (uri, field) in [
                ("/sites/ussm-plant/custody-model?since=2025", "since"),
                ("/sites/ussm-plant/custody-model?from=2025-11-01", "from"),
                (
                    "/sites/ussm-plant/custody-model?to=2025-11-01T00:00:00Z&to=2025-12-01T00:00:00Z",
                    "to",
                ),
            ] {
                let (status, body) = get(&app, uri).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
                assert!(
                    body["detail"].as_str().unwrap().starts_with(&format!("{field}:")),
                    "{uri}: {body}"
                );
            }
            // An empty period: the declarations in force then, nothing
            // judged.
            let (status, body) = get(
                &app,
                "/sites/ussm-plant/custody-model?from=2025-11-01T00:00:00Z&to=2025-11-01T00:00:00Z",
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            for d in body["declarations"].as_array().unwrap() {
                assert_eq!(d["transformations"], serde_json::json!([]), "{d}");
            }
            let (status, _) = get(&app, "/sites/atlantis/custody-model").await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        });
}

#[test]
fn an_answer_past_the_entries_bound_is_413_naming_it() {
    let w = worked_example();
    let ussm = key("ussm/k1", 4);
    let submit = |v: Value| w.ledger.submit_blocking(signed(&v, &[&ussm])).unwrap();
    submit(declare(
        "origin: Pakistan",
        "mass-balance",
        &["saindak", "reko-diq"],
    ));
    submit(claim("origin: Pakistan", "1"));
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let config = ServerConfig {
                provenance: ProvenanceLimits {
                    max_records: 1,
                    ..ProvenanceLimits::DEFAULT
                },
                ..ServerConfig::default()
            };
            let app = router(Arc::new(w.ledger), config).unwrap();
            let (status, body) = get(&app, "/sites/ussm-plant/custody-model").await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("site ussm-plant has 2 entries, more than the 1 one answer reads"),
                "{body}"
            );
        });
}
