//! The HTTP API end to end: the app built by `router` driven in-process
//! with `oneshot`, on a ledger over the memory store, plus one test
//! against a real listener that the log auditor checks.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::{StateView, Store};
use oretrace_server::{ServerConfig, router, routes, serve};
use oretrace_tlog::hash::Hash;
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use oretrace_tlog::receipt::Receipt;
use oretrace_tlog::tile::TileId;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const LOT: &str = "urn:oretrace:lot:sb-1";

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn signed(value: Value, signers: &[&NoteSigner]) -> SignedRecord {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    SignedRecord::sign(record, signers).unwrap()
}

fn party(id: &str, key: &NoteSigner) -> Value {
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company", "country": "PK",
           "keys": [key.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

fn site(id: &str, operator: &str, kind: &str) -> Value {
    json!({"kind": "site", "id": id, "name": format!("Site {id}"), "site_kind": kind, "operator": operator,
           "country": "PK", "location": {"lat": "24.835", "lon": "66.982"}, "approximate": true,
           "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

fn lot(id: &str, site: &str) -> Value {
    json!({"kind": "lot", "id": id, "commodity": "antimony", "form": "sample", "site": site,
           "wet_mass": {"value": "25", "unit": "kg"}, "moisture_percent": "4",
           "time": "2025-09-02T00:00:00Z", "figures": "illustrative"})
}

fn shipment(id: &str, lots: &[&str]) -> Value {
    json!({"kind": "shipment", "id": id, "lots": lots, "from": "fwo-chitral", "to": "ussm-madison",
           "receiver": "ussm", "time": "2025-09-20T00:00:00Z", "figures": "illustrative"})
}

fn assay() -> Value {
    json!({"kind": "assay", "lot": LOT, "analyte": "Sb", "value": "55.2", "unit": "%", "basis": "dry",
           "method": "XRF", "laboratory": "lab",
           "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "time": "2025-09-05T00:00:00Z", "figures": "reported"})
}

fn envelope(record: &SignedRecord) -> Value {
    serde_json::to_value(record.to_envelope()).unwrap()
}

fn post(content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post("/records")
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

fn post_json(body: &Value) -> Request<Body> {
    post("application/json", body.to_string())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header"))
    }
}

async fn call(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

struct World {
    ledger: Arc<Ledger<MemoryStore>>,
    app: Router,
    operator: NoteSigner,
    fwo: NoteSigner,
    ussm: NoteSigner,
    lab: NoteSigner,
    /// The index of the commissioning of [`LOT`].
    lot_index: u64,
}

impl World {
    fn size(&self) -> u64 {
        self.ledger.store().size().unwrap()
    }

    async fn accept(&self, request: Request<Body>) -> Value {
        let answer = call(&self.app, request).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.json()
    }

    fn log_key(&self) -> NoteVerifier {
        NoteVerifier::from_vkey(&self.ledger.vkey()).unwrap()
    }
}

/// Three parties, three sites and one lot, all registered over HTTP.
async fn world() -> World {
    let operator = key("registry/operator", 1);
    let ledger = Ledger::start(
        MemoryStore::new(),
        key("oretrace.test/ledger", 2),
        operator.verifier(),
        LedgerConfig::default(),
    );
    let ledger = Arc::new(ledger.unwrap());
    let app = router(ledger.clone(), ServerConfig::default()).unwrap();
    let (fwo, ussm, lab) = (key("fwo/k1", 3), key("ussm/k1", 4), key("lab/k1", 5));
    let mut w = World {
        ledger,
        app,
        operator,
        fwo,
        ussm,
        lab,
        lot_index: 0,
    };
    for (id, k) in [("fwo", &w.fwo), ("ussm", &w.ussm), ("lab", &w.lab)] {
        w.accept(post_json(&envelope(&signed(
            party(id, k),
            &[k, &w.operator],
        ))))
        .await;
    }
    for (id, operator, kind, k) in [
        ("fwo-chitral", "fwo", "exploration-area", &w.fwo),
        ("karachi-port", "fwo", "port", &w.fwo),
        ("ussm-madison", "ussm", "receiving-plant", &w.ussm),
    ] {
        w.accept(post_json(&envelope(&signed(
            site(id, operator, kind),
            &[k],
        ))))
        .await;
    }
    let answer = w
        .accept(post_json(&envelope(&signed(
            lot(LOT, "fwo-chitral"),
            &[&w.fwo],
        ))))
        .await;
    w.lot_index = answer["index"].as_u64().unwrap();
    w
}

#[tokio::test]
async fn an_accepted_record_gets_its_index_location_and_a_receipt_that_verifies() {
    let w = world().await;
    let record = signed(assay(), &[&w.fwo, &w.lab]);
    let answer = call(&w.app, post_json(&envelope(&record))).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let body = answer.json();
    let index = body["index"].as_u64().unwrap();
    assert_eq!(index, w.lot_index + 1);
    assert_eq!(answer.header(header::LOCATION), format!("/records/{index}"));
    assert_eq!(body["record_hash"], Hash(record.record_hash()).to_hex());

    let receipt = Receipt::parse(body["receipt"].as_str().unwrap().as_bytes()).unwrap();
    let verified = receipt.verify_embedded_entry(&w.log_key()).unwrap();
    assert_eq!(
        (verified.index, verified.checkpoint.size()),
        (index, w.size())
    );
    assert_eq!(receipt.extra.unwrap(), record.entry_bytes());
    assert!(answer.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn a_signed_note_entry_is_accepted_as_text_plain() {
    let w = world().await;
    let record = signed(shipment("s-1", &[LOT]), &[&w.fwo]);
    let body = w
        .accept(post("text/plain; charset=utf-8", record.entry_bytes()))
        .await;
    let index = body["index"].as_u64().unwrap();
    let read = call(&w.app, get(&format!("/records/{index}"))).await.json();
    assert_eq!(
        read["entry"].as_str().unwrap().as_bytes(),
        record.entry_bytes()
    );
    assert_eq!(read["kind"], "shipment");
    assert_eq!(
        w.ledger
            .store()
            .lot(LOT)
            .unwrap()
            .unwrap()
            .custodian()
            .as_str(),
        "fwo"
    );
}

/// One refused request: what it must be answered, and that it wrote nothing.
struct Refused {
    name: &'static str,
    request: Request<Body>,
    status: u16,
    slug: &'static str,
    /// Members the problem must have, with these values.
    members: Value,
    detail_contains: &'static str,
}

fn refused(name: &'static str, request: Request<Body>, status: u16, slug: &'static str) -> Refused {
    Refused {
        name,
        request,
        status,
        slug,
        members: json!({}),
        detail_contains: "",
    }
}

impl Refused {
    fn members(mut self, members: Value) -> Self {
        self.members = members;
        self
    }

    fn detail(mut self, contains: &'static str) -> Self {
        self.detail_contains = contains;
        self
    }
}

async fn check_refusals(w: &World, cases: Vec<Refused>) {
    for case in cases {
        let before = w.size();
        let answer = call(&w.app, case.request).await;
        let name = case.name;
        assert_eq!(
            answer.status.as_u16(),
            case.status,
            "{name}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(
            answer.header(header::CONTENT_TYPE),
            "application/problem+json",
            "{name}"
        );
        let problem = answer.json();
        assert_eq!(
            problem["type"],
            format!("https://oretrace.org/problems/{}", case.slug),
            "{name}: {problem}"
        );
        assert_eq!(problem["status"], case.status, "{name}");
        assert!(problem["title"].is_string(), "{name}");
        for (member, value) in case.members.as_object().unwrap() {
            assert_eq!(
                &problem[member], value,
                "{name}: member {member} of {problem}"
            );
        }
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(case.detail_contains),
            "{name}: {detail:?} lacks {:?}",
            case.detail_contains
        );
        assert_eq!(w.size(), before, "{name}: a refused request writes nothing");
    }
}

#[tokio::test]
async fn every_refusal_is_a_problem_with_its_status_and_writes_nothing() {
    let w = world().await;
    let stranger = key("fwo/stolen", 9);
    let mut unknown_field = envelope(&signed(assay(), &[&w.fwo, &w.lab]));
    unknown_field["record"]["colour"] = json!("red");
    let mut bad_unit = envelope(&signed(
        lot("urn:oretrace:lot:sb-2", "fwo-chitral"),
        &[&w.fwo],
    ));
    bad_unit["record"]["wet_mass"]["unit"] = json!("stone");
    let mut offset_time = envelope(&signed(
        lot("urn:oretrace:lot:sb-2", "fwo-chitral"),
        &[&w.fwo],
    ));
    offset_time["record"]["time"] = json!("2025-09-02T05:00:00+05:00");
    let replay = signed(lot(LOT, "fwo-chitral"), &[&w.fwo, &w.operator]);
    let oversized = format!(
        "{{\"record\": \"{}\"}}",
        "x".repeat(ServerConfig::default().max_body_bytes)
    );
    let mut oversized_with_length = post("application/json", oversized.clone());
    oversized_with_length
        .headers_mut()
        .insert(header::CONTENT_LENGTH, oversized.len().into());

    check_refusals(&w, vec![
        refused("unknown field", post_json(&unknown_field), 400, "invalid-record")
            .members(json!({"field": "record"}))
            .detail("colour"),
        refused("unknown unit", post_json(&bad_unit), 400, "invalid-record").members(json!({"field": "wet_mass.unit"})),
        refused("malformed JSON", post("application/json", "{\"record\": "), 400, "malformed-json"),
        // What to do instead, not only what the parser expected.
        refused("not JSON", post("application/json", "nonsense"), 400, "malformed-json")
            .detail("the body is not JSON (expected ident at line 1 column 2); POST /records takes a signed envelope"),
        refused("an unsigned record", post_json(&lot("urn:oretrace:lot:sb-2", "fwo-chitral")), 400, "invalid-record")
            .members(json!({"field": "record"}))
            .detail("the body is an unsigned record; sign it and post the envelope"),
        refused("a time with an offset", post_json(&offset_time), 400, "invalid-record")
            .members(json!({"field": "time"}))
            .detail("write 2025-09-02T05:00:00+05:00 as 2025-09-02T00:00:00Z"),
        refused("no signatures", post_json(&json!({"record": lot("urn:oretrace:lot:sb-2", "fwo-chitral"), "signatures": []})), 400, "invalid-record")
            .members(json!({"field": "signatures"})),
        refused("garbage entry", post("text/plain", "not a signed note"), 400, "invalid-record"),
        refused("unknown key", post_json(&envelope(&signed(shipment("s-1", &[LOT]), &[&stranger]))), 401, "unauthenticated")
            .detail("fwo/stolen"),
        refused("not the custodian", post_json(&envelope(&signed(shipment("s-1", &[LOT]), &[&w.ussm]))), 403, "forbidden")
            .detail("custodian"),
        refused("replay", post_json(&envelope(&replay)), 409, "replay").members(json!({"index": w.lot_index})),
        refused("unknown lot", post_json(&envelope(&signed(shipment("s-1", &["urn:oretrace:lot:ghost"]), &[&w.fwo]))), 422, "unprocessable")
            .members(json!({"field": "lots[0]"}))
            .detail("does not exist"),
        refused("oversized body, streamed", post("application/json", oversized), 413, "payload-too-large"),
        refused("oversized body, by Content-Length", oversized_with_length, 413, "payload-too-large"),
        refused("XML", post("application/xml", "<record/>"), 415, "unsupported-media-type"),
        refused("no content type", Request::post("/records").body(Body::from("{}")).unwrap(), 415, "unsupported-media-type"),
        refused("unknown route", get("/nope"), 404, "not-found").detail("/nope"),
        refused("wrong method", Request::delete("/records").body(Body::empty()).unwrap(), 405, "method-not-allowed"),
        refused("unknown party", get("/parties/nobody"), 404, "not-found"),
        refused("unknown site", get("/sites/nowhere"), 404, "not-found"),
        refused("unknown lot read", get("/lots/urn:oretrace:lot:ghost"), 404, "not-found"),
        refused("unpublished index", get("/records/999"), 404, "not-found"),
        refused("unpublished receipt", get("/records/999/receipt"), 404, "not-found"),
        refused("index with leading zero", get("/records/01"), 400, "bad-request"),
        refused("index not a number", get("/records/first"), 400, "bad-request"),
        refused("hash not hex", get("/records/by-hash/xyz"), 400, "bad-request"),
        refused("unknown hash", get(&format!("/records/by-hash/{}", "0".repeat(64))), 404, "not-found"),
        refused("malformed tile path", get("/tile/0/1"), 404, "not-found"),
        refused("tile beyond the checkpoint", get("/tile/0/001"), 404, "not-found"),
        // Regression: index·256 and end<<level overflowed u64 inside the
        // ledger's tile bounds check.
        refused("tile index past u64", get("/tile/entries/x018/x446/x744/x073/x709/x551/615"), 404, "not-found"),
        refused("tile level past u64", get("/tile/7/000"), 404, "not-found"),
    ])
    .await;
}

#[tokio::test]
async fn wrong_method_keeps_the_allow_header() {
    let w = world().await;
    let answer = call(
        &w.app,
        Request::delete("/records").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(answer.header(header::ALLOW).contains("POST"));
}

#[tokio::test]
async fn an_event_id_pasted_unencoded_into_a_path_is_told_how_to_write_it() {
    let w = world().await;
    let id = format!("ni:///sha-256;{}?ver=CBV2.0", "ab".repeat(32));
    let answer = call(
        &w.app,
        Request::get(format!("/events/{id}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let detail = answer.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("an eventID in a path is percent-encoded (ni%3A%2F%2F%2Fsha-256%3B"),
        "{detail}"
    );
    // Any other missing route says only that.
    let other = call(
        &w.app,
        Request::get("/nowhere").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(other.json()["detail"], "no route for GET /nowhere");
}

#[tokio::test]
async fn the_registry_reads_back_what_was_logged() {
    let w = world().await;
    w.accept(post_json(&envelope(&signed(assay(), &[&w.fwo, &w.lab]))))
        .await;

    let parties = call(&w.app, get("/parties")).await.json();
    let ids: Vec<&str> = parties["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["fwo", "lab", "ussm"]);
    let fwo = call(&w.app, get("/parties/fwo")).await.json();
    assert_eq!(
        (fwo["index"].as_u64(), &fwo["record"]["figures"]),
        (Some(0), &json!("illustrative"))
    );
    assert_eq!(fwo["record"]["keys"][0], w.fwo.verifier().to_vkey());

    let sites = call(&w.app, get("/sites")).await.json();
    assert_eq!(sites["sites"].as_array().unwrap().len(), 3);
    let port = call(&w.app, get("/sites/karachi-port")).await.json();
    assert_eq!(
        (&port["operator"], &port["record"]["site_kind"]),
        (&json!("fwo"), &json!("port"))
    );

    let lots = call(&w.app, get("/lots")).await.json();
    assert_eq!(lots["lots"][0]["id"], LOT);
    let lot = call(&w.app, get(&format!("/lots/{LOT}"))).await.json();
    assert_eq!(
        (&lot["custodian"], &lot["status"], &lot["figures"]),
        (&json!("fwo"), &json!("held"), &json!("illustrative"))
    );
    assert_eq!(lot["element_percent"], json!([["Sb", "55.2"]]));
    let events = lot["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[0]["index"].as_u64(), &events[0]["record"]["kind"]),
        (Some(w.lot_index), &json!("lot"))
    );
    assert_eq!(
        (
            &events[1]["record"]["kind"],
            &events[1]["record"]["figures"]
        ),
        (&json!("assay"), &json!("reported"))
    );

    let record = call(&w.app, get(&format!("/records/{}", w.lot_index)))
        .await
        .json();
    assert_eq!(
        (record["index"].as_u64(), &record["kind"]),
        (Some(w.lot_index), &json!("lot"))
    );
    assert_eq!(record["record"]["figures"], "illustrative");
    assert_eq!(
        record["signatures"][0]["key"],
        format!("fwo/k1+{:08x}", w.fwo.key_id())
    );
    let entry = SignedRecord::from_entry(record["entry"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(record["record_hash"], Hash(entry.record_hash()).to_hex());

    let found = call(
        &w.app,
        get(&format!(
            "/records/by-hash/{}",
            record["record_hash"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(found.status, StatusCode::SEE_OTHER);
    assert_eq!(
        found.header(header::LOCATION),
        format!("/records/{}", w.lot_index)
    );

    let receipt = call(&w.app, get(&format!("/records/{}/receipt", w.lot_index))).await;
    assert_eq!(
        receipt.header(header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    let receipt = Receipt::parse(&receipt.body).unwrap();
    assert_eq!(
        receipt.verify_embedded_entry(&w.log_key()).unwrap().index,
        w.lot_index
    );
    assert_eq!(receipt.extra.unwrap(), entry.entry_bytes());
}

#[tokio::test]
async fn the_log_is_served_as_tlog_tiles() {
    let w = world().await;
    let size = w.size();
    let checkpoint = call(&w.app, get("/checkpoint")).await;
    assert_eq!(checkpoint.status, StatusCode::OK);
    assert_eq!(
        checkpoint.header(header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    assert_eq!(checkpoint.header(header::CACHE_CONTROL), "no-cache");
    assert_eq!(checkpoint.body, w.ledger.checkpoint().unwrap().1);

    for path in [
        format!("tile/0/000.p/{size}"),
        format!("tile/entries/000.p/{size}"),
    ] {
        let answer = call(&w.app, get(&format!("/{path}"))).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(
            answer.header(header::CONTENT_TYPE),
            "application/octet-stream"
        );
        assert!(answer.header(header::CACHE_CONTROL).contains("immutable"));
        let expected = w
            .ledger
            .tile(&TileId::parse_path(&path).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(answer.body, expected, "{path}");
    }

    let vkey = call(&w.app, get("/vkey")).await;
    assert_eq!(vkey.body, format!("{}\n", w.ledger.vkey()));
}

#[tokio::test]
async fn healthz_reports_the_published_size() {
    let w = world().await;
    let answer = call(&w.app, get("/healthz")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({"status": "ok", "size": w.size(), "role": "sequencer"})
    );
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let w = world().await;
    let document = call(&w.app, get("/openapi.json")).await.json();
    assert_eq!(document["openapi"], "3.1.0");
    for (method, path) in routes::<MemoryStore>() {
        let path = oretrace_server::openapi::openapi_path(path);
        let operation = &document["paths"][&path][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {path} is not in /openapi.json"
        );
    }
    let paths: std::collections::BTreeSet<&str> = routes::<MemoryStore>()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(document["paths"].as_object().unwrap().len(), paths.len());
    for schema in ["Envelope", "Signature", "Record", "Problem"] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
    // Every route in the table is served (not answered by the fallback).
    for (method, path) in routes::<MemoryStore>() {
        let uri = path
            .replace("{index}", "0")
            .replace("{*path}", "0/000.p/1")
            .replace("{id}", "fwo")
            .replace("{value}", "shipping")
            .replace("{epc}", "urn:epc:id:sgtin:0614141.107346.2017")
            .replace("{name}", "q")
            .replace("{hash}", &"0".repeat(64));
        let request = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .body(Body::empty())
            .unwrap();
        let answer = call(&w.app, request).await;
        if answer.status == StatusCode::NOT_FOUND {
            assert!(
                !answer.json()["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("no route"),
                "{method} {uri} is not routed"
            );
        }
    }
    assert!(routes::<MemoryStore>().contains(&(Method::POST, "/records")));
}

/// Sends one HTTP/1.1 request over a plain TCP stream and returns the
/// response head and body.
async fn raw_http(address: std::net::SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_listener_serves_a_log_the_auditor_accepts() {
    let w = world().await;
    // More than one full tile of entries, so full and partial tiles and a
    // level-1 tile are all served.
    let lots: Vec<SignedRecord> = (0..300)
        .map(|i| {
            signed(
                lot(&format!("urn:oretrace:lot:bulk-{i}"), "fwo-chitral"),
                &[&w.fwo],
            )
        })
        .collect();
    let ledger = w.ledger.clone();
    let outcomes = tokio::task::spawn_blocking(move || ledger.submit_all_blocking(lots))
        .await
        .unwrap();
    assert!(outcomes.iter().all(Result::is_ok));
    let size = w.size();
    assert!(size > 256);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        w.ledger.clone(),
        ServerConfig::default(),
        None,
        listener,
        async {
            let _ = stopped.await;
        },
    ));

    let (head, body) = raw_http(address, "/healthz").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("x-request-id:"),
        "{head}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"status": "ok", "size": size, "role": "sequencer"})
    );

    // The auditor (`oretrace verify http://…`) checks every tile and entry
    // bundle against the checkpoint, with the log's public key only.
    let log_key = w.log_key();
    let url = format!("http://{address}");
    let report = tokio::task::spawn_blocking(move || {
        let source = oretrace_verify::HttpSource::new(&url).unwrap();
        oretrace_verify::audit(&source, &log_key, None, &oretrace_verify::NoProgress)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        (report.checkpoint.size(), report.entries_checked),
        (size, size)
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "the listener is closed after shutdown"
    );
}

/// The record schemas state what the validator enforces: the vocabularies
/// as enums (each value accepted, anything else refused) and defaults only
/// on fields the validator lets a record leave out.
#[tokio::test]
async fn openapi_record_schemas_state_the_validators_enums_and_defaults() {
    let w = world().await;
    let document = call(&w.app, get("/openapi.json")).await.json();
    let schemas = &document["components"]["schemas"];
    // Every default is on an optional field; figures is required, without one.
    fn check_defaults(name: &str, schema: &Value) {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            assert!(
                property.get("default").is_none() || !required.contains(&field.as_str()),
                "{name}.{field} is required but claims a default"
            );
            check_defaults(&format!("{name}.{field}"), property);
            check_defaults(&format!("{name}.{field}[]"), &property["items"]);
        }
    }
    for kind in [
        "Party",
        "Site",
        "Lot",
        "Assay",
        "Shipment",
        "Receipt",
        "Transformation",
    ] {
        let schema = &schemas[kind];
        check_defaults(kind, schema);
        assert!(
            schema["required"]
                .as_array()
                .unwrap()
                .contains(&json!("figures")),
            "{kind}"
        );
        assert!(
            schema["properties"]["figures"].get("default").is_none(),
            "{kind}"
        );
    }
    // Each enum against the validator: the base record with each listed
    // value is accepted by RecordJson::parse, an unlisted one refused.
    let base = |kind: &str| match kind {
        "Party" => party("fwo", &w.fwo),
        "Site" => site("s", "fwo", "mine"),
        "Lot" => lot("urn:oretrace:lot:x", "fwo-chitral"),
        "Assay" => assay(),
        _ => {
            let mut s = shipment("s-1", &[LOT]);
            s["documents"] = json!([{"kind": "bol", "reference": "BL-1"}]);
            s
        }
    };
    let enums: [(&str, &[&str]); 8] = [
        ("Party", &["party_kind"]),
        ("Site", &["site_kind"]),
        ("Lot", &["form"]),
        ("Lot", &["wet_mass", "unit"]),
        ("Assay", &["unit"]),
        ("Assay", &["basis"]),
        ("Shipment", &["documents", "kind"]),
        ("Lot", &["figures"]),
    ];
    for (kind, path) in enums {
        let mut property = &schemas[kind];
        for step in path {
            property = &property["properties"][step];
            if property["type"] == "array" {
                property = &property["items"];
            }
        }
        let listed = property["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{kind}.{path:?} lists no enum: {property}"));
        let with = |value: &str| {
            let mut record = base(kind);
            let mut at = &mut record;
            for step in &path[..path.len() - 1] {
                at = &mut at[*step];
                if at.is_array() {
                    at = &mut at[0];
                }
            }
            at[path[path.len() - 1]] = json!(value);
            RecordJson::parse(record.to_string().as_bytes())
        };
        for value in listed {
            let value = value.as_str().unwrap();
            let parsed = with(value);
            assert!(parsed.is_ok(), "{kind}.{path:?} = {value}: {parsed:?}");
        }
        assert!(with("not-listed").is_err(), "{kind}.{path:?}");
    }
}

/// A follower (a node over a shared store that does not hold the
/// sequencer lease) serves every read and refuses writes with 503,
/// Retry-After and a not-sequencer problem naming the sequencer; once
/// promoted, it takes writes again.
#[tokio::test]
async fn a_follower_serves_reads_and_refuses_writes_naming_the_sequencer() {
    let w = world().await;
    let ledger = w.ledger.clone();
    tokio::task::spawn_blocking(move || ledger.demote())
        .await
        .unwrap();
    w.ledger
        .set_node_status(oretrace_ledger::ledger::NodeStatus {
            node: Some("node-2".into()),
            epoch: None,
            sequencer: Some("http://node-1.example:8080".into()),
        });
    let record = envelope(&signed(
        lot("urn:oretrace:lot:fwo:follower-1", "fwo-chitral"),
        &[&w.fwo],
    ));
    let answer = call(&w.app, post_json(&record)).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.header(header::RETRY_AFTER), "1");
    let problem = answer.json();
    assert!(
        problem["type"].as_str().unwrap().ends_with("not-sequencer"),
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("http://node-1.example:8080"),
        "{problem}"
    );
    assert_eq!(
        call(&w.app, get(&format!("/lots/{}", LOT.replace(':', "%3A"))))
            .await
            .status,
        StatusCode::OK
    );
    let health = call(&w.app, get("/healthz")).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(
        health.json(),
        json!({"status": "ok", "size": w.size(), "role": "follower", "node": "node-2",
               "sequencer": "http://node-1.example:8080"})
    );

    let ledger = w.ledger.clone();
    tokio::task::spawn_blocking(move || ledger.promote())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        call(&w.app, post_json(&record)).await.status,
        StatusCode::CREATED
    );
}
