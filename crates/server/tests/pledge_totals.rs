//! `GET /pledges/totals`: pledged against delivered per party, country
//! and agreement, in each unit, with deliveries year by year.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_server::{ServerConfig, router};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn signed(value: Value, signers: &[&NoteSigner]) -> SignedRecord {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    SignedRecord::sign(record, signers).unwrap()
}

fn party(id: &str, key: &NoteSigner, country: &str) -> Value {
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company", "country": country,
           "keys": [key.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "reported"})
}

fn agreement(id: &str, parties: &[&str], amount: &str, currency: &str) -> Value {
    json!({"kind": "agreement", "id": id, "version": 1, "title": "An MoU", "agreement_kind": "mou",
        "parties": parties, "signed": "2025-09-08", "place": "Islamabad", "status": "signed",
        "pledges": [{"id": "investment", "description": "Investment",
            "quantity": {"money": {"amount": amount, "currency": currency}}, "due": "2030-12-31"}],
        "terms": {"public": {"clauses": ["Article 1."]}},
        "time": "2025-09-08T12:00:00Z", "figures": "reported"})
}

fn progress(agreement: &str, amount: &str, currency: &str, date: &str, time: &str) -> Value {
    json!({"kind": "progress", "agreement": agreement, "pledge": "investment",
        "delivered": {"money": {"amount": amount, "currency": currency}}, "complete": false,
        "date": date, "note": "Transfer", "time": time, "figures": "illustrative"})
}

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
    (status, serde_json::from_slice(&body).unwrap())
}

#[test]
fn totals_add_up_per_party_country_and_agreement_by_year_and_never_across_units() {
    let operator = key("registry/operator", 1);
    let ledger = Arc::new(
        Ledger::start(
            MemoryStore::new(),
            key("oretrace.test/ledger", 2),
            operator.verifier(),
            LedgerConfig::default(),
        )
        .unwrap(),
    );
    let (fwo, ussm, nlc) = (key("fwo/k1", 3), key("ussm/k1", 4), key("nlc/k1", 5));
    for (id, k, c) in [
        ("fwo", &fwo, "PK"),
        ("ussm", &ussm, "US"),
        ("nlc", &nlc, "PK"),
    ] {
        ledger
            .submit_blocking(signed(party(id, k, c), &[k, &operator]))
            .unwrap();
    }
    let submit = |v: Value, k: &NoteSigner| ledger.submit_blocking(signed(v, &[k])).unwrap();
    submit(
        agreement("fwo:mou", &["fwo", "ussm"], "500000000", "USD"),
        &fwo,
    );
    submit(
        agreement("nlc:mou", &["nlc", "fwo"], "1000000", "EUR"),
        &nlc,
    );
    submit(
        progress(
            "fwo:mou",
            "10000000",
            "USD",
            "2025-10-01",
            "2025-10-02T00:00:00Z",
        ),
        &ussm,
    );
    submit(
        progress(
            "fwo:mou",
            "5000000",
            "USD",
            "2026-01-15",
            "2026-01-16T00:00:00Z",
        ),
        &ussm,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(check(ledger));
}

async fn check(ledger: Arc<Ledger<MemoryStore>>) {
    let app = router(ledger, ServerConfig::default()).unwrap();

    let (status, by_party) = get(&app, "/pledges/totals?by=party").await;
    assert_eq!(status, StatusCode::OK, "{by_party}");
    let row = |v: &Value, key: &str, unit: &str| -> Value {
        v["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == key && t["unit"] == unit)
            .cloned()
            .unwrap_or_else(|| panic!("no {key} {unit} in {v}"))
    };
    let fwo_usd = row(&by_party, "fwo", "USD");
    assert_eq!(
        (fwo_usd["pledged"].as_str(), fwo_usd["delivered"].as_str()),
        (Some("500000000"), Some("15000000"))
    );
    assert_eq!(
        fwo_usd["by_year"],
        json!([{"year": 2025, "delivered": "10000000", "cumulative": "10000000"},
               {"year": 2026, "delivered": "5000000", "cumulative": "15000000"}])
    );
    // Euros stay euros: fwo's EUR pledge is a row of its own.
    assert_eq!(row(&by_party, "fwo", "EUR")["pledged"], "1000000");
    assert_eq!(by_party["illustrative"], true);

    let (_, by_country) = get(&app, "/pledges/totals?by=country").await;
    // Both agreements bind a Pakistani party; only the USD one a US party.
    assert_eq!(row(&by_country, "PK", "USD")["pledged"], "500000000");
    assert_eq!(row(&by_country, "PK", "EUR")["pledged"], "1000000");
    assert_eq!(row(&by_country, "US", "USD")["delivered"], "15000000");
    let (_, by_agreement) = get(&app, "/pledges/totals?by=agreement").await;
    assert_eq!(by_agreement["totals"].as_array().unwrap().len(), 2);

    for bad in [
        "/pledges/totals?by=planet",
        "/pledges/totals?by=party&by=country",
        "/pledges/totals?group=party",
    ] {
        let (status, problem) = get(&app, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {problem}");
        assert!(problem["field"].is_string(), "{problem}");
    }
}
