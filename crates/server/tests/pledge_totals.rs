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
use oretrace_ledger::StateView as _;
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
    // nlc delivers more than it pledged: shown, not capped.
    submit(
        json!({"kind": "progress", "agreement": "nlc:mou", "pledge": "investment",
            "delivered": {"money": {"amount": "2000000", "currency": "EUR"}}, "complete": false,
            "date": "2025-11-01", "note": "Transfer", "time": "2025-11-02T00:00:00Z", "figures": "illustrative"}),
        &nlc,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = router(ledger.clone(), ServerConfig::default()).unwrap();
    // Before USSM countersigns, fwo's pledge is charged to fwo (and PK)
    // alone; nlc's agreement names fwo, which never confirmed it, so it is
    // nlc's (and PK's) alone.
    runtime.block_on(async {
        let (_, by_party) = get(&app, "/pledges/totals?by=party").await;
        assert!(find(&by_party, "ussm", "USD").is_none(), "{by_party}");
        assert!(find(&by_party, "fwo", "EUR").is_none(), "{by_party}");
        let (_, by_country) = get(&app, "/pledges/totals?by=country").await;
        assert!(find(&by_country, "US", "USD").is_none(), "{by_country}");
    });
    let version = ledger
        .store()
        .agreement_version("fwo:mou", 1)
        .unwrap()
        .unwrap();
    submit(
        json!({"kind": "countersignature", "agreement": "fwo:mou", "version": 1,
            "digest": version.digest().to_string(), "time": "2025-09-09T00:00:00Z", "figures": "reported"}),
        &ussm,
    );
    runtime.block_on(check(app));
}

fn find(v: &Value, key: &str, unit: &str) -> Option<Value> {
    v["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == key && t["unit"] == unit)
        .cloned()
}

async fn check(app: Router) {
    // The answers cached before the countersignature are not served after.
    let (status, by_party) = get(&app, "/pledges/totals?by=party").await;
    assert_eq!(status, StatusCode::OK, "{by_party}");
    let row = |v: &Value, key: &str, unit: &str| -> Value {
        find(v, key, unit).unwrap_or_else(|| panic!("no {key} {unit} in {v}"))
    };
    assert_eq!(row(&by_party, "ussm", "USD")["pledged"], "500000000");
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
    // Euros stay euros: nlc's EUR pledge is a row of its own.
    let nlc_eur = row(&by_party, "nlc", "EUR");
    assert_eq!(nlc_eur["pledged"], "1000000");
    assert_eq!(nlc_eur["over_pledged"], true);
    assert!(fwo_usd.get("over_pledged").is_none());
    assert!(find(&by_party, "fwo", "EUR").is_none());
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
