//! `GET /value-addition` on a hand-built case: Pakistan exports two
//! copper concentrates to China; China refines one into cathode and
//! exports it to the US, and re-exports the other as it came; a shipment
//! inside Pakistan is no export. Worked out by hand:
//!
//! * PK, Cu, concentrate: 100 kg × 18 % + 10 kg × 30 % = 18 + 3 = 21 kg
//!   (2 lots, 100 % of PK's copper exports);
//! * CN, Cu, metal: 15 kg × 100 % = 15 kg, entered as concentrate, added
//!   locally: 15 / 18 = 83.333333 %;
//! * CN, Cu, concentrate: 10 kg × 30 % = 3 kg, re-exported as it came:
//!   3 / 18 = 16.666667 %.

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

const ORE: &str = "urn:oretrace:lot:fwo:ore-1";
const ORE2: &str = "urn:oretrace:lot:fwo:ore-2";
const CONC: &str = "urn:oretrace:lot:fwo:conc-1";
const CONC2: &str = "urn:oretrace:lot:fwo:conc-2";
const CATHODE: &str = "urn:oretrace:lot:cnr:cathode-1";
const CERT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn signed(value: Value, signers: &[&NoteSigner]) -> Value {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    serde_json::to_value(SignedRecord::sign(record, signers).unwrap().to_envelope()).unwrap()
}

fn party(id: &str, key: &NoteSigner, country: &str) -> Value {
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company", "country": country,
           "keys": [key.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "reported"})
}

fn site(id: &str, operator: &str, kind: &str, country: &str) -> Value {
    json!({"kind": "site", "id": id, "name": format!("Site {id}"), "site_kind": kind, "operator": operator,
           "country": country, "location": {"lat": "24.835", "lon": "66.982"}, "approximate": true,
           "time": "2025-09-01T00:00:00Z", "figures": "reported"})
}

fn lot(id: &str, form: &str, kg: &str) -> Value {
    json!({"kind": "lot", "id": id, "commodity": "copper", "form": form, "site": "fwo-mine",
           "wet_mass": {"value": kg, "unit": "kg"}, "moisture_percent": "0",
           "time": "2025-09-02T00:00:00Z", "figures": "reported"})
}

fn assay(lot: &str, cu: &str, lab: &str, time: &str) -> Value {
    json!({"kind": "assay", "lot": lot, "analyte": "Cu", "value": cu, "unit": "%", "basis": "dry",
           "method": "ICP-OES", "laboratory": lab, "certificate_sha256": CERT,
           "time": time, "figures": "reported"})
}

fn shipment(id: &str, lot: &str, from: &str, to: &str, receiver: &str, time: &str) -> Value {
    json!({"kind": "shipment", "id": id, "lots": [lot], "from": from, "to": to,
           "receiver": receiver, "time": time, "figures": "reported"})
}

fn receipt(shipment: &str, site: &str, lot: &str, kg: &str, time: &str) -> Value {
    json!({"kind": "receipt", "shipment": shipment, "site": site,
           "lots": [{"lot": lot, "mass": {"value": kg, "unit": "kg"}}],
           "time": time, "figures": "reported"})
}

fn transformation(id: &str, site: &str, input: (&str, &str), output: (&str, &str, &str)) -> Value {
    json!({"kind": "transformation", "id": id, "site": site, "process": "processing",
           "inputs": [{"lot": input.0, "mass": {"value": input.1, "unit": "kg"}}],
           "outputs": [{"id": output.0, "commodity": "copper", "form": output.1,
                        "wet_mass": {"value": output.2, "unit": "kg"}, "moisture_percent": "0"}],
           "time": "2025-09-05T00:00:00Z", "figures": "reported"})
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

/// (country, element, stage, kg, reexported kg, lots, share %).
fn totals(body: &Value) -> Vec<(String, String, String, String, String, u64, String)> {
    body["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap().to_owned();
            (
                s("country"),
                s("element"),
                s("stage"),
                s("kg"),
                s("reexported_kg"),
                t["lots"].as_u64().unwrap(),
                s("share_percent"),
            )
        })
        .collect()
}

fn row(
    c: &str,
    e: &str,
    stage: &str,
    kg: &str,
    re: &str,
    lots: u64,
    share: &str,
) -> (String, String, String, String, String, u64, String) {
    (
        c.into(),
        e.into(),
        stage.into(),
        kg.into(),
        re.into(),
        lots,
        share.into(),
    )
}

struct World {
    app: Router,
    fwo: NoteSigner,
    /// Log indices: (conc-1's transformation, its assay, s-1).
    conc: (u64, u64, u64),
    s4: u64,
}

async fn world() -> World {
    let operator = key("registry/operator", 1);
    let ledger = Ledger::start(
        MemoryStore::new(),
        key("oretrace.test/ledger", 2),
        operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    let app = router(Arc::new(ledger), ServerConfig::default()).unwrap();
    let (fwo, cnr, ussm) = (key("fwo/k1", 3), key("cnr/k1", 4), key("ussm/k1", 5));
    for (id, k, c) in [
        ("fwo", &fwo, "PK"),
        ("cnr", &cnr, "CN"),
        ("ussm", &ussm, "US"),
    ] {
        submit(&app, signed(party(id, k, c), &[k, &operator])).await;
    }
    for (id, op, kind, c, k) in [
        ("fwo-mine", "fwo", "mine", "PK", &fwo),
        ("fwo-plant", "fwo", "concentrator", "PK", &fwo),
        ("cn-refinery", "cnr", "refinery", "CN", &cnr),
        ("ussm-madison", "ussm", "receiving-plant", "US", &ussm),
    ] {
        submit(&app, signed(site(id, op, kind, c), &[k])).await;
    }
    // PK: ore 1,000 kg at Cu 2 % → concentrate 100 kg at Cu 18 %.
    submit(&app, signed(lot(ORE, "ore", "1000"), &[&fwo])).await;
    submit(
        &app,
        signed(assay(ORE, "2", "fwo", "2025-09-03T00:00:00Z"), &[&fwo]),
    )
    .await;
    let t = submit(
        &app,
        signed(
            transformation(
                "conc-1",
                "fwo-mine",
                (ORE, "1000"),
                (CONC, "concentrate", "100"),
            ),
            &[&fwo],
        ),
    )
    .await;
    let a = submit(
        &app,
        signed(assay(CONC, "18", "fwo", "2025-09-06T00:00:00Z"), &[&fwo]),
    )
    .await;
    // A second concentrate, commissioned: 10 kg at Cu 30 %.
    submit(&app, signed(lot(CONC2, "concentrate", "10"), &[&fwo])).await;
    submit(
        &app,
        signed(assay(CONC2, "30", "fwo", "2025-09-06T00:00:00Z"), &[&fwo]),
    )
    .await;
    // Inside PK: no export.
    submit(&app, signed(lot(ORE2, "ore", "50"), &[&fwo])).await;
    submit(
        &app,
        signed(assay(ORE2, "1", "fwo", "2025-09-06T00:00:00Z"), &[&fwo]),
    )
    .await;
    submit(
        &app,
        signed(
            shipment(
                "s-0",
                ORE2,
                "fwo-mine",
                "fwo-plant",
                "fwo",
                "2025-09-08T00:00:00Z",
            ),
            &[&fwo],
        ),
    )
    .await;
    // PK → CN, both concentrates.
    let s1 = submit(
        &app,
        signed(
            shipment(
                "s-1",
                CONC,
                "fwo-mine",
                "cn-refinery",
                "cnr",
                "2025-09-10T00:00:00Z",
            ),
            &[&fwo],
        ),
    )
    .await;
    submit(
        &app,
        signed(
            receipt("s-1", "cn-refinery", CONC, "100", "2025-10-01T00:00:00Z"),
            &[&cnr],
        ),
    )
    .await;
    submit(
        &app,
        signed(
            shipment(
                "s-3",
                CONC2,
                "fwo-mine",
                "cn-refinery",
                "cnr",
                "2025-09-12T00:00:00Z",
            ),
            &[&fwo],
        ),
    )
    .await;
    submit(
        &app,
        signed(
            receipt("s-3", "cn-refinery", CONC2, "10", "2025-10-01T00:00:00Z"),
            &[&cnr],
        ),
    )
    .await;
    // CN: the concentrate refined to 15 kg of cathode at Cu 100 %.
    let mut refine = transformation(
        "refine-1",
        "cn-refinery",
        (CONC, "100"),
        (CATHODE, "cathode", "15"),
    );
    refine["time"] = json!("2025-10-10T00:00:00Z");
    submit(&app, signed(refine, &[&cnr])).await;
    submit(
        &app,
        signed(
            assay(CATHODE, "100", "cnr", "2025-10-11T00:00:00Z"),
            &[&cnr],
        ),
    )
    .await;
    submit(
        &app,
        signed(
            shipment(
                "s-2",
                CATHODE,
                "cn-refinery",
                "ussm-madison",
                "ussm",
                "2025-11-01T00:00:00Z",
            ),
            &[&cnr],
        ),
    )
    .await;
    // CN re-exports the other concentrate as it came, in 2026.
    let s4 = submit(
        &app,
        signed(
            shipment(
                "s-4",
                CONC2,
                "cn-refinery",
                "ussm-madison",
                "ussm",
                "2026-01-15T00:00:00Z",
            ),
            &[&cnr],
        ),
    )
    .await;
    World {
        app,
        fwo,
        conc: (t, a, s1),
        s4,
    }
}

#[tokio::test]
async fn exports_count_at_their_stage_per_country_element_and_stage() {
    let w = world().await;
    let (status, body) = call(&w.app, "/value-addition").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["exports"], 4, "s-0 stays in PK: {body:#}");
    assert_eq!(body["shipmentsRead"], 5);
    assert_eq!(body["figures"], "reported");
    assert_eq!(
        totals(&body),
        vec![
            row("CN", "Cu", "concentrate", "3", "3", 1, "16.666667"),
            row("CN", "Cu", "metal", "15", "0", 1, "83.333333"),
            row("PK", "Cu", "concentrate", "21", "0", 2, "100"),
        ]
    );
    // Lines in shipment and lot order, each with its evidence.
    let lines = body["lines"].as_array().unwrap();
    let keys: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["shipment"].as_str().unwrap(), l["lot"].as_str().unwrap()))
        .collect();
    assert_eq!(
        keys,
        [
            ("s-1", CONC),
            ("s-2", CATHODE),
            ("s-3", CONC2),
            ("s-4", CONC2)
        ]
    );
    let s1 = &lines[0];
    assert_eq!(
        (
            s1["country"].as_str(),
            s1["destination"].as_str(),
            s1["stage"].as_str(),
            &s1["entered_at"],
            s1["dry_mass_kg"].as_str()
        ),
        (
            Some("PK"),
            Some("CN"),
            Some("concentrate"),
            &Value::Null,
            Some("100")
        )
    );
    assert_eq!(
        s1["elements"],
        json!([{"element": "Cu", "kg": "18", "assay_index": w.conc.1}])
    );
    let evidence: Vec<u64> = s1["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(evidence, [w.conc.0, w.conc.1, w.conc.2]);
    let s2 = &lines[1];
    assert_eq!(
        (
            s2["stage"].as_str(),
            s2["entered_at"].as_str(),
            s2["added_locally"].as_bool()
        ),
        (Some("metal"), Some("concentrate"), Some(true))
    );
    let s4 = &lines[3];
    assert_eq!(
        (
            s4["stage"].as_str(),
            s4["entered_at"].as_str(),
            s4["added_locally"].as_bool(),
            s4["dry_mass_kg"].as_str(),
            s4["shipment_index"].as_u64()
        ),
        (
            Some("concentrate"),
            Some("concentrate"),
            Some(false),
            Some("10"),
            Some(w.s4)
        )
    );

    // One country, one period.
    let (status, body) = call(&w.app, "/value-addition?country=CN").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["exports"], 2);
    assert_eq!(totals(&body).len(), 2);
    let (status, body) = call(&w.app, "/value-addition?from=2026-01-01&to=2027-01-01").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        totals(&body),
        vec![row("CN", "Cu", "concentrate", "3", "3", 1, "100")]
    );
    assert_eq!(
        body["period"],
        json!({"from": "2026-01-01", "to": "2027-01-01"})
    );
    let (_, body) = call(&w.app, "/value-addition?to=2025-09-11").await;
    assert_eq!(
        totals(&body),
        vec![row("PK", "Cu", "concentrate", "18", "0", 1, "100")]
    );
}

#[tokio::test]
async fn lines_come_a_page_at_a_time_and_totals_are_over_all() {
    let w = world().await;
    let mut seen = Vec::new();
    let mut uri = "/value-addition?perPage=3".to_owned();
    loop {
        let (status, body) = call(&w.app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["exports"], 4);
        assert_eq!(totals(&body).len(), 3, "every page has every total");
        for l in body["lines"].as_array().unwrap() {
            seen.push(l["shipment"].as_str().unwrap().to_owned());
        }
        match body["nextPageToken"].as_str() {
            Some(token) => uri = format!("/value-addition?perPage=3&nextPageToken={token}"),
            None => break,
        }
    }
    assert_eq!(seen, ["s-1", "s-2", "s-3", "s-4"]);
}

#[tokio::test]
async fn a_new_record_is_counted_and_illustrative_figures_are_labelled() {
    let w = world().await;
    let (_, before) = call(&w.app, "/value-addition?country=PK").await;
    assert_eq!(before["exports"], 2);
    // A further PK export, illustrative: the kept answer is not served
    // for the new log size.
    let mut s = shipment(
        "s-5",
        "urn:oretrace:lot:fwo:ore-2",
        "fwo-plant",
        "ussm-madison",
        "ussm",
        "2025-12-01T00:00:00Z",
    );
    s["figures"] = json!("illustrative");
    // ore-2 must first be received at fwo-plant by fwo.
    submit(
        &w.app,
        signed(
            receipt(
                "s-0",
                "fwo-plant",
                "urn:oretrace:lot:fwo:ore-2",
                "50",
                "2025-09-09T00:00:00Z",
            ),
            &[&w.fwo],
        ),
    )
    .await;
    submit(&w.app, signed(s, &[&w.fwo])).await;
    let (status, after) = call(&w.app, "/value-addition?country=PK").await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["exports"], 3);
    assert_eq!(after["figures"], "illustrative");
    assert_eq!(
        totals(&after),
        vec![
            // 50 kg × 1 % = 0.5 kg: 0.5 / 21.5 and 21 / 21.5, in chain order.
            row("PK", "Cu", "ore", "0.5", "0", 1, "2.325581"),
            row("PK", "Cu", "concentrate", "21", "0", 2, "97.674419"),
        ]
    );
}

#[tokio::test]
async fn bad_parameters_are_refused_by_name() {
    let w = world().await;
    for (query, field) in [
        ("country=pk", "country"),
        ("country=PAK", "country"),
        ("from=2025-13-01", "from"),
        ("to=2025-1-01", "to"),
        ("from=0000-01-01", "from"),
        ("perPage=0", "perPage"),
        ("nextPageToken=zz", "nextPageToken"),
        ("country=PK&country=US", "country"),
        ("by=country", "by"),
    ] {
        let (status, problem) = call(&w.app, &format!("/value-addition?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
        assert_eq!(problem["field"], field, "{query}: {problem}");
    }
}
