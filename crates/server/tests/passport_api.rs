//! `GET /lots/{id}/passport`: the worked example's blend B issued as a
//! lot passport (a compact JWS, `application/vc+jwt`) that verifies
//! offline with the key of `/.well-known/jwks.json` and the log's vkey,
//! carrying the provenance answer's shares and a receipt of every record
//! it cites; 404 for an unknown lot or a registry without a credential
//! key; 413 naming the bound over the provenance bounds and over 2,000
//! receipts.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use oretrace_domain::jose::{CredentialKey, parse_jwk_set};
use oretrace_domain::passport::{MAX_PASSPORT_RECEIPTS, verify};
use oretrace_ledger::provenance::{Limits, ProvenanceLimits};
use oretrace_server::{ServerConfig, router, router_with_credential};
use oretrace_tlog::note::NoteVerifier;
use serde_json::{Value, json};
use tower::ServiceExt as _;

#[path = "../../ledger/tests/provenance_world/mod.rs"]
mod provenance_world;
use provenance_world::*;

async fn get(app: &Router, uri: &str) -> (StatusCode, Option<String>, String) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn credential() -> CredentialKey {
    CredentialKey::from_seed([7; 32])
}

#[test]
fn the_blends_passport_verifies_offline_with_its_shares_and_receipts() {
    let w = worked_example();
    runtime().block_on(blend_passport(w));
}

async fn blend_passport(w: World) {
    let log_key = NoteVerifier::from_vkey(&w.ledger.vkey()).unwrap();
    let app = router_with_credential(
        Arc::new(w.ledger),
        ServerConfig::default(),
        Some(credential()),
    )
    .unwrap();
    let (status, content_type, jws) = get(&app, &format!("/lots/{B}/passport")).await;
    assert_eq!(status, StatusCode::OK, "{jws}");
    assert_eq!(content_type.as_deref(), Some("application/vc+jwt"));
    let (status, _, jwks) = get(&app, "/.well-known/jwks.json").await;
    assert_eq!(status, StatusCode::OK, "{jwks}");
    let keys = parse_jwk_set(&jwks).unwrap();
    assert_eq!(keys, vec![credential().public().clone()]);

    let passport = verify(&jws, &keys, &log_key).unwrap();
    assert_eq!(passport.lot, B);
    assert_eq!(passport.figures, "illustrative");
    let c = &passport.credential;
    assert_eq!(
        c["@context"],
        json!(["https://www.w3.org/ns/credentials/v2"])
    );
    assert_eq!(
        c["type"],
        json!(["VerifiableCredential", "DigitalProductPassport"])
    );
    let s = &c["credentialSubject"];
    assert_eq!(s["type"], json!(["Product"]));
    assert_eq!(s["name"], "copper concentrate");
    // B: 14,000 kg wet at 2.5 % = 13,650 kg dry.
    assert_eq!(
        s["dimensions"]["weight"],
        json!({"value": "14000", "unit": "KGM"})
    );
    assert_eq!(s["dryMassKg"], "13650");
    // Cu of B by site: Saindak 92/149, Reko Diq 69/298, Madison 45/298
    // (the worked example); by country PK 253/298.
    let cu = s["materialsProvenance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["element"] == "Cu")
        .unwrap();
    let share = |list: &str, key: &str, name: &str| -> rust_decimal::Decimal {
        cu[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x[key] == name)
            .unwrap()["share"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let close = |d: rust_decimal::Decimal, n: i64, den: i64| {
        (d - rust_decimal::Decimal::from(n) / rust_decimal::Decimal::from(den)).abs()
            < rust_decimal::Decimal::new(1, 20)
    };
    assert!(close(share("bySite", "site", "saindak"), 92, 149));
    assert!(close(share("bySite", "site", "madison"), 45, 298));
    assert!(close(share("byCountry", "country", "PK"), 253, 298));
    // Every record of the provenance evidence and of the verdicts has its
    // receipt, and nothing else does (the verdicts add the parties'
    // records their ownership rules rest on).
    let records = s["records"].as_array().unwrap();
    let mut cited: std::collections::BTreeSet<u64> = records
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    cited.extend(
        s["verdictRecords"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["index"].as_u64().unwrap()),
    );
    assert!(cited.len() > records.len(), "party records are cited");
    assert_eq!(passport.records.len(), cited.len());
    assert_eq!(c["evidence"].as_array().unwrap().len(), cited.len() + 1);
    assert_eq!(passport.checkpoint.origin(), "oretrace.test/ledger");
    // B was never shipped: no reconciliation. Its verdicts: the blend is
    // 85 % Pakistani copper, so the EU single-country benchmark fails;
    // every pack loaded is judged.
    assert_eq!(s["reconciliation"], json!([]));
    let packs = s["compliance"].as_array().unwrap();
    assert_eq!(packs.len(), 4, "{packs:#?}");
    let crma = packs.iter().find(|p| p["pack"] == "eu-crma").unwrap();
    assert_eq!(crma["verdict"], "fail", "{crma:#}");
    // A, shipped and received: its reconciliation is in its passport.
    let (status, _, jws) = get(&app, &format!("/lots/{A}/passport")).await;
    assert_eq!(status, StatusCode::OK, "{jws}");
    let a = verify(&jws, &keys, &log_key).unwrap();
    let r = &a.credential["credentialSubject"]["reconciliation"];
    assert_eq!(r.as_array().unwrap().len(), 1, "{r:#}");
    assert_eq!(r[0]["status"], "received");
    assert_eq!(r[0]["lots"][0]["lot"], A);
}

#[test]
fn no_passport_for_an_unknown_lot_or_without_a_credential_key() {
    let w = worked_example();
    runtime().block_on(async move {
        let ledger = Arc::new(w.ledger);
        let app = router(ledger.clone(), ServerConfig::default()).unwrap();
        let (status, _, body) = get(&app, &format!("/lots/{B}/passport")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(body.contains("no credential key"), "{body}");
        let (status, _, _) = get(&app, "/.well-known/jwks.json").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let app =
            router_with_credential(ledger, ServerConfig::default(), Some(credential())).unwrap();
        let (status, _, body) = get(&app, "/lots/urn:oretrace:lot:fwo:nope/passport").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    });
}

#[test]
fn over_the_provenance_bound_is_413_naming_it() {
    let w = worked_example();
    runtime().block_on(async move {
        let config = ServerConfig {
            provenance: ProvenanceLimits {
                graph: Limits {
                    max_upstream_lots: 4,
                    max_movements: 1000,
                },
                max_records: 10_000,
            },
            ..ServerConfig::default()
        };
        let app = router_with_credential(Arc::new(w.ledger), config, Some(credential())).unwrap();
        let (status, _, body) = get(&app, &format!("/lots/{B}/passport")).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["limit"], 4);
    });
}

/// A custodian assays its own lot 2,001 times (within the element
/// balance): the passport would carry more than 2,000 receipts, so it is
/// refused, naming the bound.
#[test]
fn more_receipts_than_the_bound_is_413_naming_it() {
    let w = worked_example();
    let (ussm, lab) = (key("ussm/k1", 4), key("lab/k1", 5));
    let records: Vec<_> = (0..=MAX_PASSPORT_RECEIPTS)
        .map(|i| {
            let value = format!("17.4{i:04}");
            signed(
                &assay(B, "Cu", &value, "2025-11-20T00:00:00Z"),
                &[&ussm, &lab],
            )
        })
        .collect();
    for result in w.ledger.submit_all_blocking(records) {
        result.unwrap();
    }
    runtime().block_on(async move {
        let app = router_with_credential(
            Arc::new(w.ledger),
            ServerConfig::default(),
            Some(credential()),
        )
        .unwrap();
        let (status, _, body) = get(&app, &format!("/lots/{B}/passport")).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["limit"], MAX_PASSPORT_RECEIPTS);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("at most 2000 receipts"),
            "{problem}"
        );
    });
}
