//! The EPCIS 2.0 interface end to end, in-process: bearer tokens from
//! signed challenges, detached document signatures, capture jobs and their
//! error behaviours, the limits, queries, paging and named queries — on
//! the official examples and on mineral-chain events.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_epcis_map::percent_encode;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::event::document_note;
use oretrace_domain::values::Digest;
use oretrace_domain::wire::RecordJson;
use oretrace_domain::{Record, envelope};
use oretrace_epcis_schema::EpcisValidator;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::{StateView, Store};
use oretrace_server::{ServerConfig, router};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn shared() -> PathBuf {
    oretrace_benchkit::conformance("epcis/examples")
}

fn example(name: &str) -> Value {
    let path = shared().join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// The examples that are capture documents (the query document is not).
fn example_documents() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for dir in [shared(), shared().join("WithErrorDeclaration")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "jsonld") {
                let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                out.push((
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    doc,
                ));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn signed(value: Value, signers: &[&NoteSigner]) -> SignedRecord {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    SignedRecord::sign(record, signers).unwrap()
}

fn party(id: &str, kind: &str, key: &NoteSigner) -> Value {
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": kind, "country": "PK",
           "keys": [key.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

fn site(id: &str, operator: &str, kind: &str) -> Value {
    json!({"kind": "site", "id": id, "name": format!("Site {id}"), "site_kind": kind, "operator": operator,
           "country": "PK", "location": {"lat": "24.835", "lon": "66.982"}, "approximate": true,
           "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
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
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

struct World {
    ledger: Arc<Ledger<MemoryStore>>,
    app: Router,
    fwo: NoteSigner,
    ussm: NoteSigner,
    lab: NoteSigner,
}

async fn world_with(config: ServerConfig) -> World {
    let operator = key("operator/1", 1);
    let fwo = key("fwo/1", 2);
    let ussm = key("ussm/1", 3);
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
    for record in [
        signed(
            party("fwo", "state-controlled-company", &fwo),
            &[&fwo, &operator],
        ),
        signed(party("ussm", "company", &ussm), &[&ussm, &operator]),
        signed(party("lab", "laboratory", &lab), &[&lab, &operator]),
        signed(site("fwo-chitral", "fwo", "mine"), &[&fwo]),
        signed(site("ussm-madison", "ussm", "receiving-plant"), &[&ussm]),
    ] {
        ledger.submit(record).await.unwrap();
    }
    let app = router(ledger.clone(), config).unwrap();
    World {
        ledger,
        app,
        fwo,
        ussm,
        lab,
    }
}

async fn world() -> World {
    world_with(ServerConfig::default()).await
}

impl World {
    async fn call(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: axum::body::to_bytes(body, usize::MAX).await.unwrap(),
        }
    }

    async fn get(&self, uri: &str) -> Answer {
        self.call(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    async fn token(&self, signer: &NoteSigner) -> String {
        let key = format!("{}+{:08x}", signer.name(), signer.verifier().key_id());
        let challenge = self
            .call(
                Request::post("/auth/challenge")
                    .body(Body::from(json!({"key": key}).to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(challenge.status, StatusCode::OK, "{}", challenge.text());
        let text = challenge.json()["challenge"].as_str().unwrap().to_owned();
        let line = signature_line(signer, &text);
        let answer = self
            .call(
                Request::post("/auth/token")
                    .body(Body::from(
                        json!({"challenge": text, "signature": line}).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        answer.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// Posts a capture with a bearer token; returns the answer.
    async fn capture_with_token(
        &self,
        token: &str,
        body: &[u8],
        behaviour: Option<&str>,
    ) -> Answer {
        let mut request = Request::post("/capture")
            .header(header::CONTENT_TYPE, "application/ld+json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(b) = behaviour {
            request = request.header("GS1-Capture-Error-Behaviour", b);
        }
        self.call(request.body(Body::from(body.to_vec())).unwrap())
            .await
    }

    /// Posts a capture with detached signatures.
    async fn capture_signed(
        &self,
        signers: &[&NoteSigner],
        body: &[u8],
        behaviour: Option<&str>,
    ) -> Answer {
        let mut request =
            Request::post("/capture").header(header::CONTENT_TYPE, "application/json");
        let party = signers[0].name().split_once('/').unwrap().0;
        let note = document_note(
            "registry.example/log",
            &Digest::of(body),
            party,
            // A behaviour the server refuses is signed as rollback.
            oretrace_domain::event::CaptureBehaviour::parse(behaviour.unwrap_or("rollback"))
                .unwrap_or_default(),
        );
        for s in signers {
            request = request.header("Oretrace-Signature", signature_line(s, &note));
        }
        if let Some(b) = behaviour {
            request = request.header("GS1-Capture-Error-Behaviour", b);
        }
        self.call(request.body(Body::from(body.to_vec())).unwrap())
            .await
    }

    /// Waits for a capture job to finish; returns it.
    async fn finished(&self, accepted: &Answer) -> Value {
        assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text());
        let location = accepted.header("location").unwrap().to_owned();
        for _ in 0..500 {
            let job = self.get(&location).await.json();
            if job["running"] == false {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("capture job {location} did not finish");
    }

    fn size(&self) -> u64 {
        self.ledger.store().size().unwrap()
    }

    async fn get_with_token(&self, uri: &str, token: &str) -> Answer {
        self.call(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Expects `job` to have captured its one event as the entry at
    /// `index`, the end of the log; returns the event's id.
    fn captured_at(&self, job: &Value, index: u64) -> String {
        assert_eq!(job["success"], true, "{job:#}");
        let events = job["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{job:#}");
        assert_eq!(events[0]["status"], "captured", "{job:#}");
        assert_eq!(events[0]["index"], index, "{job:#}");
        assert_eq!(self.size(), index + 1, "{job:#}");
        events[0]["eventID"].as_str().unwrap().to_owned()
    }

    /// Captures one GS1 event with `token` and expects the job to refuse
    /// it with `status`, writing nothing; returns the job.
    async fn refused_event(&self, token: &str, event: &Value, status: u16) -> Value {
        let size = self.size();
        let job = self
            .finished(
                &self
                    .capture_with_token(token, &gs1_document(vec![event.clone()]), None)
                    .await,
            )
            .await;
        assert_eq!(job["success"], false, "{event}: {job:#}");
        assert_eq!(job["errors"][0]["status"], status, "{event}: {job:#}");
        assert_eq!(self.size(), size, "{event}: nothing written");
        job
    }
}

/// The signature line a signed note over `text` would carry, without the
/// leading em dash.
fn signature_line(signer: &NoteSigner, text: &str) -> String {
    let note = signer.sign(text).unwrap().to_bytes();
    let note = String::from_utf8(note).unwrap();
    let line = note.lines().last().unwrap();
    line.trim_start_matches('\u{2014}').trim().to_owned()
}

fn document(events: Vec<Value>) -> Value {
    oretrace_epcis_map::document(events, "2026-11-26T00:00:00Z")
}

fn record_event(value: Value) -> Value {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    oretrace_epcis_map::event_of_record(&record).unwrap()
}

fn lot_record(id: &str) -> Value {
    json!({"kind": "lot", "id": id, "commodity": "antimony", "form": "sample", "site": "fwo-chitral",
           "wet_mass": {"value": "25", "unit": "kg"}, "moisture_percent": "4",
           "time": "2025-09-02T00:00:00Z", "figures": "illustrative"})
}

fn shipment_record(id: &str, lots: &[&str]) -> Value {
    json!({"kind": "shipment", "id": id, "lots": lots, "from": "fwo-chitral", "to": "ussm-madison",
           "receiver": "ussm", "time": "2025-09-20T00:00:00Z", "figures": "illustrative"})
}

/// The one event of a `GET /events/{eventID}` answer (a query
/// document), with the document's `@context`, as it hashes.
fn only_event(doc: &Value) -> Value {
    assert_query_document(doc);
    let events = results(doc);
    assert_eq!(events.len(), 1, "{doc:#}");
    let mut event = events[0].clone();
    event["@context"] = doc["@context"].clone();
    event
}

fn assert_query_document(doc: &Value) {
    if let Err(v) = EpcisValidator::shared()
        .unwrap()
        .validate_query_document(doc)
    {
        panic!("not a valid EPCISQueryDocument: {v:?}\n{doc:#}");
    }
}

fn results(doc: &Value) -> Vec<Value> {
    doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn every_example_is_captured_and_every_event_found_by_its_hash() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let mut total = 0;
    let mut distinct = std::collections::BTreeSet::new();
    for (name, doc) in example_documents() {
        if name == "EPCISQueryDocument.jsonld" {
            continue;
        }
        let body = serde_json::to_vec(&doc).unwrap();
        let accepted = w.capture_with_token(&token, &body, None).await;
        assert_eq!(accepted.header("GS1-EPCIS-Version"), Some("2.0.0"));
        let job = w.finished(&accepted).await;
        assert_eq!(job["success"], true, "{name}: {job:#}");
        assert_eq!(job["capturedBy"], "fwo");
        let hashes = oretrace_epcis::document_event_hashes(&doc).unwrap();
        assert!(!hashes.is_empty(), "{name}");
        distinct.extend(hashes.iter().map(|h| h.as_str().to_owned()));
        assert_eq!(
            job["events"].as_array().unwrap().len(),
            hashes.len(),
            "{name}"
        );
        for (outcome, hash) in job["events"].as_array().unwrap().iter().zip(&hashes) {
            assert_eq!(outcome["eventID"], hash.as_str());
            let found = w.get(&format!("/events/{}", percent_encode(hash))).await;
            assert_eq!(found.status, StatusCode::OK, "{name}: {}", found.text());
            // The event as returned hashes to the same id.
            let event = only_event(&found.json());
            let again =
                oretrace_epcis::event_hash(&event, &oretrace_epcis::Context::from_document(&event))
                    .unwrap();
            assert_eq!(&again, hash, "{name}");
            total += usize::from(outcome["status"] == "captured");
        }
    }
    // The variants of example 9.6.1 share events: those are duplicates,
    // and every distinct event is captured once.
    assert!(total >= 10, "{total}");
    assert_eq!(total, distinct.len());
    // Every captured event is one entry, and the entry records who and how.
    let entry = w.ledger.store().read_entries(5, 1).unwrap().remove(0);
    let record = SignedRecord::from_entry(&entry).unwrap();
    let Record::Event(e) = record.record() else {
        panic!("not an event entry")
    };
    assert_eq!(e.captured_by().as_str(), "fwo");
    assert!(matches!(
        e.auth(),
        oretrace_domain::event::CaptureAuth::Token { .. }
    ));
    let _ = envelope::MAX_ENTRY_BYTES;
}

#[tokio::test]
async fn the_query_document_is_captured_too() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let doc = example("EPCISQueryDocument.jsonld");
    let before = w.size();
    let job = w
        .finished(
            &w.capture_with_token(&token, &serde_json::to_vec(&doc).unwrap(), None)
                .await,
        )
        .await;
    assert_eq!(job["success"], true, "{job:#}");
    // Its events, each captured once under its CBV 2.0 hash.
    let hashes = oretrace_epcis::document_event_hashes(&doc).unwrap();
    assert!(!hashes.is_empty());
    let outcomes = job["events"].as_array().unwrap();
    assert_eq!(outcomes.len(), hashes.len(), "{job:#}");
    for ((outcome, hash), index) in outcomes.iter().zip(&hashes).zip(before..) {
        assert_eq!(outcome["status"], "captured", "{job:#}");
        assert_eq!(outcome["eventID"], hash.as_str());
        assert_eq!(outcome["index"], index, "{job:#}");
    }
    assert_eq!(w.size(), before + hashes.len() as u64);
}

#[tokio::test]
async fn capture_and_query_round_trip_for_every_event_type() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let mut by_type: std::collections::BTreeMap<String, usize> = Default::default();
    for (name, doc) in example_documents() {
        if name == "EPCISQueryDocument.jsonld" {
            continue;
        }
        let job = w
            .finished(
                &w.capture_with_token(&token, &serde_json::to_vec(&doc).unwrap(), None)
                    .await,
            )
            .await;
        for (event, outcome) in oretrace_epcis::document_events(&doc)
            .unwrap()
            .into_iter()
            .zip(job["events"].as_array().unwrap())
        {
            if outcome["status"] == "captured" {
                *by_type
                    .entry(event["type"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
        }
    }
    for (kind, count) in &by_type {
        let answer = w
            .get(&format!("/events?eventType={kind}&perPage=1000"))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let doc = answer.json();
        assert_query_document(&doc);
        let events = results(&doc);
        assert_eq!(events.len(), *count, "{kind}");
        assert!(
            events
                .iter()
                .all(|e| e["type"] == kind.as_str() && e["recordTime"].is_string())
        );
        let resource = w
            .get(&format!("/eventTypes/{kind}/events?perPage=1000"))
            .await
            .json();
        assert_eq!(results(&resource).len(), *count, "{kind}");
    }
    for kind in [
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    ] {
        assert!(by_type.contains_key(kind), "no {kind} among the examples");
    }
    // A few parameters against the examples.
    let shipping = results(
        &w.get("/events?EQ_bizStep=shipping&perPage=1000")
            .await
            .json(),
    );
    assert!(!shipping.is_empty());
    let by_path = results(&w.get("/bizSteps/shipping/events?perPage=1000").await.json());
    assert_eq!(shipping.len(), by_path.len());
    assert!(
        shipping.iter().all(|e| e["bizStep"] == "shipping"),
        "{shipping:?}"
    );
    let ids = |events: &[Value]| -> Vec<String> {
        let mut ids: Vec<String> = events
            .iter()
            .map(|e| e["eventID"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&shipping), ids(&by_path));
    // LT_eventTime returns exactly the events before the bound, compared
    // as instants (the examples carry offsets).
    let everything = results(&w.get("/events?perPage=1000").await.json());
    let bound = oretrace_epcis::query::timestamp_millis("2006-01-01T00:00:00Z").unwrap();
    let expected: Vec<Value> = everything
        .iter()
        .filter(|e| {
            oretrace_epcis::query::timestamp_millis(e["eventTime"].as_str().unwrap()).unwrap()
                < bound
        })
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert!(expected.len() < everything.len());
    let before_2006 = results(
        &w.get("/events?LT_eventTime=2006-01-01T00:00:00Z&perPage=1000")
            .await
            .json(),
    );
    assert_eq!(ids(&before_2006), ids(&expected));
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_by_name() {
    let w = world().await;
    for (uri, name) in [
        ("/events?EQ_colour=red", "EQ_colour"),
        ("/events?foo=1", "foo"),
        ("/bizSteps/shipping/events?bar=2", "bar"),
    ] {
        let answer = w.get(uri).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(
            answer.json()["detail"].as_str().unwrap().contains(name),
            "{}",
            answer.text()
        );
    }
    let answer = w.get("/events?GE_eventTime=yesterday").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.text().contains("GE_eventTime"));
}

#[tokio::test]
async fn paging_returns_every_event_once() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    for (name, doc) in example_documents() {
        if name == "EPCISQueryDocument.jsonld" {
            continue;
        }
        w.finished(
            &w.capture_with_token(&token, &serde_json::to_vec(&doc).unwrap(), None)
                .await,
        )
        .await;
    }
    let all = results(&w.get("/events?perPage=1000").await.json());
    assert!(all.len() > 10);
    for order in [
        "",
        "&orderBy=eventTime&orderDirection=DESC",
        "&orderBy=recordTime",
    ] {
        let mut seen = Vec::new();
        let mut uri = format!("/events?perPage=3{order}");
        let mut pages = 0;
        loop {
            let answer = w.get(&uri).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
            let doc = answer.json();
            assert_query_document(&doc);
            let page = results(&doc);
            assert!(page.len() <= 3);
            seen.extend(
                page.iter()
                    .map(|e| e["eventID"].as_str().unwrap().to_owned()),
            );
            pages += 1;
            match answer.header("link") {
                Some(link) => {
                    assert!(link.ends_with("; rel=\"next\""), "{link}");
                    uri = link[1..link.find('>').unwrap()].to_owned();
                }
                None => break,
            }
        }
        assert_eq!(seen.len(), all.len(), "{order}");
        let unique: std::collections::BTreeSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{order}: an event came twice");
        assert!(pages >= all.len() / 3, "{order}");
        if order.contains("eventTime") {
            let times: Vec<i64> = seen
                .iter()
                .map(|id| {
                    let e = all.iter().find(|e| e["eventID"] == id.as_str()).unwrap();
                    oretrace_epcis::query::timestamp_millis(e["eventTime"].as_str().unwrap())
                        .unwrap()
                })
                .collect();
            assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
        }
    }
    // A token is good only for the query that made it.
    let first = w.get("/events?perPage=2").await;
    let link = first.header("link").unwrap().to_owned();
    let token_at = link.find("nextPageToken=").unwrap() + "nextPageToken=".len();
    let token_value = &link[token_at..link.find('>').unwrap()];
    let other = w
        .get(&format!(
            "/events?perPage=2&eventType=ObjectEvent&nextPageToken={token_value}"
        ))
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    // eventCountLimit caps the whole result.
    let capped = w
        .get("/events?perPage=2&eventCountLimit=3&orderBy=eventTime")
        .await;
    assert_eq!(capped.status, StatusCode::OK, "{}", capped.text());
    assert_eq!(results(&capped.json()).len(), 2);
    let next = capped.header("link").unwrap().to_owned();
    let second = w.get(&next[1..next.find('>').unwrap()]).await;
    assert_eq!(results(&second.json()).len(), 1);
    assert!(second.header("link").is_none());
    // maxEventCount: all in one answer, or QueryTooLarge.
    let n = all.len();
    let whole = w.get(&format!("/events?maxEventCount={n}")).await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.text());
    assert_eq!(results(&whole.json()).len(), n);
    let too_many = w.get(&format!("/events?maxEventCount={}", n - 1)).await;
    assert_eq!(
        too_many.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        too_many.text()
    );
    assert_eq!(too_many.json()["limit"], n - 1);
}

#[tokio::test]
async fn schema_violations_are_listed_with_pointers_and_nothing_is_written() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let mut doc = example("Example_9.6.1-ObjectEvent.jsonld");
    doc["epcisBody"]["eventList"][0]["eventTime"] = json!("2005-04-03T20:33:31.116");
    doc["epcisBody"]["eventList"][1]["action"] = json!("JUMP");
    let before = w.size();
    let answer = w
        .capture_with_token(&token, &serde_json::to_vec(&doc).unwrap(), None)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    let problem = answer.json();
    let pointers: Vec<&str> = problem["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["pointer"].as_str().unwrap())
        .collect();
    assert!(
        pointers.contains(&"/epcisBody/eventList/0/eventTime"),
        "{pointers:?}"
    );
    assert!(
        pointers
            .iter()
            .any(|p| p.starts_with("/epcisBody/eventList/1/action")),
        "{pointers:?}"
    );
    assert_eq!(w.size(), before);
    // Not JSON at all.
    let answer = w.capture_with_token(&token, b"{not json", None).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn capture_needs_credentials_and_tokens_come_from_signed_challenges() {
    let w = world().await;
    let body = serde_json::to_vec(&example("Example_9.6.1-ObjectEvent.jsonld")).unwrap();
    let none = w
        .call(
            Request::post("/capture")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    let bad = w.capture_with_token("0123", &body, None).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    // A challenge is good once, and only with the key it was issued for.
    let key = format!("fwo/1+{:08x}", w.fwo.verifier().key_id());
    let challenge = w
        .call(
            Request::post("/auth/challenge")
                .body(Body::from(json!({"key": key}).to_string()))
                .unwrap(),
        )
        .await
        .json()["challenge"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = signature_line(&w.ussm, &challenge);
    let answer = w
        .call(
            Request::post("/auth/token")
                .body(Body::from(
                    json!({"challenge": challenge, "signature": wrong}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let right = signature_line(&w.fwo, &challenge);
    let redeem = |challenge: &str, signature: &str| {
        Request::post("/auth/token")
            .body(Body::from(
                json!({"challenge": challenge, "signature": signature}).to_string(),
            ))
            .unwrap()
    };
    assert_eq!(
        w.call(redeem(&challenge, &right)).await.status,
        StatusCode::OK
    );
    let again = w.call(redeem(&challenge, &right)).await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "a used challenge was accepted again"
    );
    // A challenge the server did not issue (its stamp altered), or one
    // naming another key than the one it was issued for.
    let forged = challenge.replace("nonce ", "nonce 0");
    let answer = w
        .call(redeem(&forged, &signature_line(&w.fwo, &forged)))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let ussm_key = format!("ussm/1+{:08x}", w.ussm.verifier().key_id());
    let retargeted = challenge.replace(&key, &ussm_key);
    let answer = w
        .call(redeem(&retargeted, &signature_line(&w.ussm, &retargeted)))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // Anyone may ask for challenges without crowding out others': a
    // challenge issued before a flood is still good after it.
    let early = w
        .call(
            Request::post("/auth/challenge")
                .body(Body::from(json!({"key": key}).to_string()))
                .unwrap(),
        )
        .await
        .json()["challenge"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..200 {
        w.call(
            Request::post("/auth/challenge")
                .body(Body::from(json!({"key": key}).to_string()))
                .unwrap(),
        )
        .await;
    }
    assert_eq!(
        w.call(redeem(&early, &signature_line(&w.fwo, &early)))
            .await
            .status,
        StatusCode::OK
    );
    // Unknown keys get no challenge.
    let answer = w
        .call(
            Request::post("/auth/challenge")
                .body(Body::from(json!({"key": "nobody/1+00000001"}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // A detached signature by a key that did not sign these bytes.
    let note = document_note(
        "registry.example/log",
        &Digest::of(b"other bytes"),
        "fwo",
        oretrace_domain::event::CaptureBehaviour::Rollback,
    );
    let answer = w
        .call(
            Request::post("/capture")
                .header("Oretrace-Signature", signature_line(&w.fwo, &note))
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
}

#[tokio::test]
async fn the_limits_are_announced_and_enforced() {
    let w = world_with(ServerConfig {
        capture_max_events: 1,
        capture_max_bytes: 4096,
        ..ServerConfig::default()
    })
    .await;
    let options = w
        .call(Request::options("/capture").body(Body::empty()).unwrap())
        .await;
    assert_eq!(options.status, StatusCode::NO_CONTENT);
    assert_eq!(options.header("GS1-EPCIS-Capture-Limit"), Some("1"));
    assert_eq!(
        options.header("GS1-EPCIS-Capture-File-Size-Limit"),
        Some("4096")
    );
    let token = w.token(&w.fwo).await;
    let two = serde_json::to_vec(&example("Example_9.6.1-ObjectEvent.jsonld")).unwrap();
    let answer = w.capture_with_token(&token, &two, None).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.text()
    );
    assert_eq!(answer.json()["limit"], 1);
    let big = vec![b' '; 5000];
    let answer = w.capture_with_token(&token, &big, None).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json()["limit"], 4096);
    // Versions other than 2.0 are refused.
    let answer = w
        .call(
            Request::post("/capture")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header("GS1-EPCIS-Version", "1.2")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn mineral_chain_events_follow_the_custody_rules_and_error_behaviours() {
    let w = world().await;
    let lot = "urn:oretrace:lot:fwo:sb-0001";
    // fwo commissions a lot by capturing the event, signing the document.
    let body = serde_json::to_vec(&document(vec![record_event(lot_record(lot))])).unwrap();
    let job = w
        .finished(&w.capture_signed(&[&w.fwo], &body, None).await)
        .await;
    assert_eq!(job["success"], true, "{job:#}");
    let state = w.ledger.store().lot(lot).unwrap().expect("the lot exists");
    assert_eq!(state.custodian().as_str(), "fwo");
    let entry_index = job["events"][0]["index"].as_u64().unwrap();
    let entry = w
        .ledger
        .store()
        .read_entries(entry_index, 1)
        .unwrap()
        .remove(0);
    let record = SignedRecord::from_entry(&entry).unwrap();
    let Record::Event(e) = record.record() else {
        panic!()
    };
    // The entry carries fwo's detached signature, checkable against the body.
    let oretrace_domain::event::CaptureAuth::Signed {
        document: digest,
        signatures,
        ..
    } = e.auth()
    else {
        panic!("not signed")
    };
    assert_eq!(*digest, Digest::of(&body));
    assert_eq!(signatures.len(), 1);

    // ussm (not the custodian) ships it, in a document with a good event
    // (ussm commissions its own lot? no: ussm has no site at fwo) — the
    // rollback leaves nothing written.
    let other = "urn:oretrace:lot:ussm:x-1";
    let mut own = lot_record(other);
    own["site"] = json!("ussm-madison");
    let mixed = serde_json::to_vec(&document(vec![
        record_event(own.clone()),
        record_event(shipment_record("s-1", &[lot])),
    ]))
    .unwrap();
    let before = w.size();
    let job = w
        .finished(&w.capture_signed(&[&w.ussm], &mixed, None).await)
        .await;
    assert_eq!(job["success"], false, "{job:#}");
    assert_eq!(job["events"][0]["status"], "rolled-back");
    assert_eq!(job["events"][1]["status"], "refused");
    assert_eq!(job["errors"][0]["status"], 403, "{job:#}");
    assert_eq!(job["errors"][0]["instance"], "/epcisBody/eventList/1");
    assert_eq!(w.size(), before, "rollback wrote something");
    assert!(w.ledger.store().lot(other).unwrap().is_none());
    // proceed: the good event is written, the bad one reported.
    let job = w
        .finished(&w.capture_signed(&[&w.ussm], &mixed, Some("proceed")).await)
        .await;
    assert_eq!(job["success"], false);
    assert_eq!(job["captureErrorBehaviour"], "proceed");
    assert_eq!(job["events"][0]["status"], "captured");
    assert_eq!(job["events"][1]["status"], "refused");
    assert_eq!(w.size(), before + 1);
    assert!(w.ledger.store().lot(other).unwrap().is_some());
    // The same document again: the captured event is a duplicate, not an error.
    let job = w
        .finished(&w.capture_signed(&[&w.ussm], &mixed, Some("proceed")).await)
        .await;
    assert_eq!(job["events"][0]["status"], "duplicate");
    assert_eq!(job["events"][0]["index"], before);
    assert_eq!(w.size(), before + 1);
    // `all` (listed by the binding, undefined) behaves as proceed and is
    // reported as given; an unknown behaviour is refused.
    let job = w
        .finished(&w.capture_signed(&[&w.ussm], &mixed, Some("all")).await)
        .await;
    assert_eq!(job["captureErrorBehaviour"], "all");
    assert_eq!(job["events"][0]["status"], "duplicate");
    assert_eq!(job["events"][1]["status"], "refused");
    let answer = w
        .capture_signed(&[&w.ussm], &mixed, Some("sometimes"))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    // An assay needs the custodian and the laboratory: a co-signed
    // document. Signed by either alone, it is refused and writes nothing.
    let assay = serde_json::to_vec(&document(vec![record_event(json!({
        "kind": "assay", "lot": lot, "analyte": "Sb", "value": "55.2", "unit": "%", "basis": "dry",
        "method": "XRF", "laboratory": "lab",
        "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "time": "2025-09-05T00:00:00Z", "figures": "illustrative"}))]))
    .unwrap();
    let before = w.size();
    let lot_events = w.ledger.store().lot_events(lot).unwrap();
    assert!(
        w.ledger
            .store()
            .lot(lot)
            .unwrap()
            .unwrap()
            .element_percent()
            .is_empty()
    );
    for (alone, missing) in [(&w.fwo, "laboratory"), (&w.lab, "custodian")] {
        let job = w
            .finished(&w.capture_signed(&[alone], &assay, None).await)
            .await;
        assert_eq!(job["success"], false, "without the {missing}: {job:#}");
        assert_eq!(job["events"][0]["status"], "refused", "{job:#}");
        assert_eq!(job["errors"][0]["status"], 403, "{job:#}");
        assert_eq!(
            w.size(),
            before,
            "without the {missing}: something was written"
        );
    }
    // A bearer token speaks for one party: the refusal says how an assay
    // is captured instead.
    let token = w.token(&w.fwo).await;
    let job = w
        .finished(&w.capture_with_token(&token, &assay, None).await)
        .await;
    assert_eq!(job["errors"][0]["status"], 403, "{job:#}");
    let detail = job["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("detached document signatures")
            && detail.contains("oretrace import FILE --key custodian.key --key lab.key")
            && detail.ends_with("must be signed by lab"),
        "{detail}"
    );
    assert_eq!(w.size(), before);
    // The laboratory's line must verify over this document's note: a line
    // it made for other bytes is refused at the door.
    let note = |bytes: &[u8]| {
        document_note(
            "registry.example/log",
            &Digest::of(bytes),
            "fwo",
            oretrace_domain::event::CaptureBehaviour::Rollback,
        )
    };
    let forged = w
        .call(
            Request::post("/capture")
                .header(header::CONTENT_TYPE, "application/json")
                .header("Oretrace-Signature", signature_line(&w.fwo, &note(&assay)))
                .header(
                    "Oretrace-Signature",
                    signature_line(&w.lab, &note(b"other bytes")),
                )
                .body(Body::from(assay.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{}", forged.text());
    assert_eq!(w.size(), before);
    // Co-signed: captured, one entry, attributed to the custodian with
    // both signatures, the laboratory's verifying over the document note.
    let job = w
        .finished(&w.capture_signed(&[&w.fwo, &w.lab], &assay, None).await)
        .await;
    assert_eq!(job["success"], true, "{job:#}");
    assert_eq!(job["capturedBy"], "fwo", "{job:#}");
    assert_eq!(job["events"][0]["status"], "captured", "{job:#}");
    let index = job["events"][0]["index"].as_u64().unwrap();
    assert_eq!(index, before);
    assert_eq!(w.size(), before + 1);
    let entry = w.ledger.store().read_entries(index, 1).unwrap().remove(0);
    let record = SignedRecord::from_entry(&entry).unwrap();
    let Record::Event(e) = record.record() else {
        panic!("not an event entry")
    };
    assert_eq!(e.captured_by().as_str(), "fwo");
    let oretrace_domain::event::CaptureAuth::Signed {
        document: digest,
        behaviour,
        signatures,
    } = e.auth()
    else {
        panic!("not signed: {:?}", e.auth())
    };
    assert_eq!(*digest, Digest::of(&assay));
    assert_eq!(
        *behaviour,
        oretrace_domain::event::CaptureBehaviour::Rollback
    );
    assert_eq!(signatures.len(), 2, "{signatures:?}");
    let text = note(&assay);
    assert_eq!(signatures[0].key().name(), "fwo/1", "{signatures:?}");
    assert_eq!(signatures[1].key().name(), "lab/1", "{signatures:?}");
    signatures[0]
        .verify(&text, &w.fwo.verifier())
        .expect("the custodian's signature verifies");
    signatures[1]
        .verify(&text, &w.lab.verifier())
        .expect("the laboratory's signature verifies");
    assert!(signatures[1].verify(&text, &w.fwo.verifier()).is_err());
    // The assay is the lot's: its grade recorded, the entry in its history.
    let state = w.ledger.store().lot(lot).unwrap().unwrap();
    assert_eq!(
        state
            .element_percent()
            .iter()
            .map(|(e, _)| e.symbol())
            .collect::<Vec<_>>(),
        ["Sb"]
    );
    let mut expected_events = lot_events.clone();
    expected_events.push(index);
    assert_eq!(w.ledger.store().lot_events(lot).unwrap(), expected_events);

    // The custodian ships it: accepted, the lot is in transit.
    let ship = serde_json::to_vec(&document(vec![record_event(shipment_record(
        "s-1",
        &[lot],
    ))]))
    .unwrap();
    let job = w
        .finished(&w.capture_signed(&[&w.fwo], &ship, None).await)
        .await;
    assert_eq!(job["success"], true, "{job:#}");
    let state = w.ledger.store().lot(lot).unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(state.status()).unwrap(),
        json!({"status": "in-transit", "shipment": "s-1"})
    );
    // The lot's events by EPC class.
    let answer = w
        .get(&format!("/epcs/{}/events", percent_encode(lot)))
        .await;
    let events = results(&answer.json());
    assert_eq!(events.len(), 3, "{}", answer.text());
}

#[tokio::test]
async fn post_events_captures_one_event_synchronously() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let mut event =
        example("Example_9.6.1-ObjectEvent.jsonld")["epcisBody"]["eventList"][0].clone();
    event["@context"] = json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]);
    let request = |event: &Value| {
        Request::post("/events")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(event.to_string()))
            .unwrap()
    };
    let answer = w.call(request(&event)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let location = answer.header("location").unwrap().to_owned();
    let found = w.get(&location).await;
    assert_eq!(found.status, StatusCode::OK);
    let found = only_event(&found.json());
    let hash = oretrace_epcis::event_hash(&found, &oretrace_epcis::Context::from_document(&found))
        .unwrap();
    assert_eq!(answer.json()["eventID"], hash.as_str());
    let again = w.call(request(&event)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // A declared CBV eventID that is not the event's hash: captured under
    // its true hash, the mismatch reported.
    event["eventID"] = json!(format!("ni:///sha-256;{}?ver=CBV2.0", "0".repeat(64)));
    event["eventTime"] = json!("2005-04-05T20:33:31.116-06:00");
    let wrong = w.call(request(&event)).await;
    assert_eq!(wrong.status, StatusCode::CREATED, "{}", wrong.text());
    let body = wrong.json();
    assert_ne!(body["eventID"], event["eventID"]);
    assert!(
        body["warnings"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("is not the event's CBV 2.0 hash")
    );
}

#[tokio::test]
async fn named_queries_are_defined_listed_run_and_deleted() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    for (name, doc) in example_documents() {
        if name == "EPCISQueryDocument.jsonld" {
            continue;
        }
        w.finished(
            &w.capture_with_token(&token, &serde_json::to_vec(&doc).unwrap(), None)
                .await,
        )
        .await;
    }
    let define = |body: Value| {
        Request::post("/queries")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    // Defining a query takes a token.
    let anonymous = w
        .call(
            Request::post("/queries")
                .body(Body::from(json!({"name": "x", "query": {}}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let answer = w
        .call(define(
            json!({"name": "objects", "query": {"eventType": ["ObjectEvent"]}}),
        ))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    assert_eq!(answer.header("location"), Some("/queries/objects"));
    let again = w
        .call(define(
            json!({"name": "objects", "query": {"eventType": ["ObjectEvent"]}}),
        ))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let bad = w
        .call(define(
            json!({"name": "bad", "query": {"EQ_colour": ["red"]}}),
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let listed = w.get("/queries").await.json();
    assert_eq!(listed[0]["name"], "objects");
    let doc = w.get("/queries/objects/events?perPage=1000").await.json();
    assert_query_document(&doc);
    assert_eq!(doc["epcisBody"]["queryResults"]["queryName"], "objects");
    let direct = results(
        &w.get("/events?eventType=ObjectEvent&perPage=1000")
            .await
            .json(),
    );
    assert_eq!(results(&doc).len(), direct.len());
    let extra = w.get("/queries/objects/events?EQ_bizStep=shipping").await;
    assert_eq!(extra.status, StatusCode::BAD_REQUEST);
    // Only the party that defined it may delete it.
    let other = w.token(&w.ussm).await;
    let delete = |token: &str| {
        Request::delete("/queries/objects")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(w.call(delete(&other)).await.status, StatusCode::FORBIDDEN);
    let deleted = w.call(delete(&token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        w.get("/queries/objects/events").await.status,
        StatusCode::NOT_FOUND
    );
}

fn gs1_event(extra: Value) -> Value {
    let mut event = json!({
        "type": "ObjectEvent",
        "eventTime": "2025-09-25T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
    });
    for (k, v) in extra.as_object().unwrap() {
        event[k] = v.clone();
    }
    event
}

fn gs1_document(events: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-26T00:00:00Z",
        "epcisBody": {"eventList": events},
    }))
    .unwrap()
}

#[tokio::test]
async fn only_the_custodian_names_its_lots_in_events_the_registry_cannot_read() {
    let w = world().await;
    let lot = "urn:oretrace:lot:fwo:sb-0001";
    let body = serde_json::to_vec(&document(vec![record_event(lot_record(lot))])).unwrap();
    assert_eq!(
        w.finished(&w.capture_signed(&[&w.fwo], &body, None).await)
            .await["success"],
        true
    );
    let ussm = w.token(&w.ussm).await;
    let fwo = w.token(&w.fwo).await;
    let quantity = json!([{"epcClass": lot, "quantity": 1, "uom": "KGM"}]);
    for event in [
        gs1_event(json!({"bizStep": "loading", "quantityList": quantity})),
        gs1_event(
            json!({"bizStep": "destroying", "disposition": "destroyed", "quantityList": quantity}),
        ),
        gs1_event(
            json!({"bizStep": "https://example.org/steps/relabel", "quantityList": quantity}),
        ),
        json!({"type": "AggregationEvent", "eventTime": "2025-09-25T10:00:00Z", "eventTimeZoneOffset": "+00:00",
               "action": "ADD", "parentID": "urn:epc:id:sscc:0614141.1234567890", "childQuantityList": quantity}),
    ] {
        let body = gs1_document(vec![event.clone()]);
        let job = w
            .finished(&w.capture_with_token(&ussm, &body, None).await)
            .await;
        assert_eq!(job["success"], false, "{event}: {job:#}");
        assert_eq!(job["errors"][0]["status"], 403, "{job:#}");
        // Its custodian may.
        let size = w.size();
        let job = w
            .finished(&w.capture_with_token(&fwo, &body, None).await)
            .await;
        w.captured_at(&job, size);
    }
}

#[tokio::test]
async fn a_document_signature_is_good_for_its_capturer_and_behaviour_only() {
    let w = world().await;
    let own = {
        let mut r = lot_record("urn:oretrace:lot:ussm:x-1");
        r["site"] = json!("ussm-madison");
        r
    };
    let mixed = serde_json::to_vec(&document(vec![
        record_event(own),
        record_event(shipment_record("s-1", &["urn:oretrace:lot:ussm:nothing"])),
    ]))
    .unwrap();
    // Signed for rollback; reposted as proceed by someone holding the bytes
    // and the header: refused.
    let party = "ussm";
    let note = document_note(
        "registry.example/log",
        &Digest::of(&mixed),
        party,
        oretrace_domain::event::CaptureBehaviour::Rollback,
    );
    let line = signature_line(&w.ussm, &note);
    let answer = w
        .call(
            Request::post("/capture")
                .header("Oretrace-Signature", line.clone())
                .header("GS1-Capture-Error-Behaviour", "proceed")
                .body(Body::from(mixed.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
    // Co-signed by fwo and ussm for ussm as capturer: reordering the
    // headers to make fwo the capturer breaks the signatures.
    let both = document_note(
        "registry.example/log",
        &Digest::of(&mixed),
        "ussm",
        oretrace_domain::event::CaptureBehaviour::Rollback,
    );
    let answer = w
        .call(
            Request::post("/capture")
                .header("Oretrace-Signature", signature_line(&w.fwo, &both))
                .header("Oretrace-Signature", signature_line(&w.ussm, &both))
                .body(Body::from(mixed.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
    // Signed for another registry: refused.
    let elsewhere = document_note(
        "other.example/log",
        &Digest::of(&mixed),
        party,
        oretrace_domain::event::CaptureBehaviour::Rollback,
    );
    let answer = w
        .call(
            Request::post("/capture")
                .header("Oretrace-Signature", signature_line(&w.ussm, &elsewhere))
                .body(Body::from(mixed))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
}

#[tokio::test]
async fn event_ids_are_the_events_own_hashes() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let ussm = w.token(&w.ussm).await;
    let y =
        gs1_event(json!({"bizStep": "shipping", "epcList": ["urn:epc:id:sgtin:0614141.107346.1"]}));
    let y_hash = oretrace_epcis::event_hash(&y, &oretrace_epcis::Context::default()).unwrap();
    // ussm declares Y's id on another event: recorded under its own hash.
    let mut x = gs1_event(
        json!({"bizStep": "receiving", "epcList": ["urn:epc:id:sgtin:0614141.107346.2"]}),
    );
    x["eventID"] = json!(y_hash);
    let job = w
        .finished(
            &w.capture_with_token(&ussm, &gs1_document(vec![x]), None)
                .await,
        )
        .await;
    assert_eq!(job["success"], true, "{job:#}");
    assert_ne!(job["events"][0]["eventID"], y_hash.as_str());
    assert!(
        job["warnings"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("replaces it"),
        "{job:#}"
    );
    assert_eq!(
        w.get(&format!("/events/{}", percent_encode(&y_hash)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        results(
            &w.get(&format!("/events?EQ_eventID={}", percent_encode(&y_hash)))
                .await
                .json()
        )
        .is_empty()
    );
    let job = w
        .finished(
            &w.capture_with_token(&token, &gs1_document(vec![y.clone()]), None)
                .await,
        )
        .await;
    assert_eq!(job["events"][0]["eventID"], y_hash.as_str());
    let found = only_event(
        &w.get(&format!("/events/{}", percent_encode(&y_hash)))
            .await
            .json(),
    );
    assert_eq!(found["bizStep"], "shipping");
    let by_query = results(
        &w.get(&format!("/events?EQ_eventID={}", percent_encode(&y_hash)))
            .await
            .json(),
    );
    assert_eq!(by_query.len(), 1);

    // An event whose hash within a document depends on its siblings is
    // recorded under its own hash: captured beside others, it is still a
    // duplicate of itself captured alone.
    let z = gs1_event(
        json!({"epcList": ["urn:epc:id:sgtin:0614141.107346.3"], "example:note": "shipping"}),
    );
    let ctx = json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"example": "https://example.org/"}]);
    let doc = |events: Vec<Value>| {
        serde_json::to_vec(
            &json!({"@context": ctx, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-26T00:00:00Z", "epcisBody": {"eventList": events}}),
        )
        .unwrap()
    };
    let alone = w
        .finished(
            &w.capture_with_token(&token, &doc(vec![z.clone()]), None)
                .await,
        )
        .await;
    assert_eq!(alone["events"][0]["status"], "captured", "{alone:#}");
    let beside = w
        .finished(&w.capture_with_token(&token, &doc(vec![z, y]), None).await)
        .await;
    assert_eq!(beside["events"][0]["status"], "duplicate", "{beside:#}");
    assert_eq!(
        beside["events"][0]["eventID"],
        alone["events"][0]["eventID"]
    );
}

#[tokio::test]
async fn a_rolled_back_document_reports_no_index_it_did_not_write() {
    let w = world().await;
    let token = w.token(&w.ussm).await;
    let e = gs1_event(json!({"epcList": ["urn:epc:id:sgtin:0614141.107346.9"]}));
    let bad = record_event(shipment_record("s-9", &["urn:oretrace:lot:fwo:none"]));
    let mut body: Value = serde_json::from_slice(&gs1_document(vec![e.clone(), e, bad])).unwrap();
    body["@context"] = oretrace_epcis_map::context();
    let before = w.size();
    let job = w
        .finished(
            &w.capture_with_token(&token, &serde_json::to_vec(&body).unwrap(), None)
                .await,
        )
        .await;
    assert_eq!(job["success"], false, "{job:#}");
    assert_eq!(w.size(), before);
    let outcomes = job["events"].as_array().unwrap();
    assert_eq!(outcomes.len(), 3, "{job:#}");
    for outcome in outcomes {
        assert!(outcome["index"].is_null(), "{job:#}");
    }
}

/// A page token is a position in the query's order (`<key>_<index>_<returned
/// so far>_<fingerprint of the query>`), not a secret: a client may write
/// any position a real token could hold and gets that page, as it could
/// by paging there. What no real token holds is refused with 400, and
/// nothing a token says is taken for more than a position.
#[tokio::test]
async fn page_tokens_are_checked_not_trusted() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let doc = example("Example_9.6.1-ObjectEvent.jsonld");
    let job = w
        .finished(
            &w.capture_with_token(&token, &serde_json::to_vec(&doc).unwrap(), None)
                .await,
        )
        .await;
    let ids: Vec<&str> = job["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{job:#}");
    let first = w.get("/events?perPage=1").await;
    assert_eq!(
        results(&first.json())
            .iter()
            .map(|e| e["eventID"].clone())
            .collect::<Vec<_>>(),
        [ids[0]]
    );
    let link = first.header("link").unwrap().to_owned();
    let at = link.find("nextPageToken=").unwrap() + "nextPageToken=".len();
    let real = &link[at..link.find('>').unwrap()];
    let fp = real.rsplit('_').next().unwrap();
    // The real token: the second event, and no further page.
    let second = w
        .get(&format!("/events?perPage=1&nextPageToken={real}"))
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text());
    assert_eq!(results(&second.json())[0]["eventID"], ids[1]);
    assert_eq!(results(&second.json()).len(), 1);
    assert!(
        second.header("link").is_none(),
        "{:?}",
        second.header("link")
    );

    // Not a position any token holds: refused, naming the parameter.
    for forged in [
        // An index past what SQLite's integers hold.
        format!("0_9223372036854775808_0_{fp}"),
        // Fields that are not numbers, or too few of them.
        format!("x_1_0_{fp}"),
        format!("0_1_{fp}"),
        "garbage".to_owned(),
        // Another query's fingerprint.
        "0_1_0_0123456789abcdef".to_owned(),
    ] {
        let answer = w
            .get(&format!("/events?perPage=1&nextPageToken={forged}"))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{forged}: {}",
            answer.text()
        );
        assert_eq!(
            answer.json()["detail"],
            "nextPageToken: not a token this query issued",
            "{forged}"
        );
    }
    // The real token of another query is refused too.
    let other = w
        .get(&format!(
            "/events?perPage=1&eventType=ObjectEvent&nextPageToken={real}"
        ))
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST, "{}", other.text());

    // A position written by hand, before everything captured, with an
    // absurd count of events returned so far: the page after that
    // position (the first event), and a next token whose count saturates
    // instead of overflowing.
    let forged = format!("0_1_18446744073709551615_{fp}");
    let answer = w
        .get(&format!("/events?perPage=1&nextPageToken={forged}"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(results(&answer.json()).len(), 1);
    assert_eq!(results(&answer.json())[0]["eventID"], ids[0]);
    let next = answer.header("link").unwrap();
    assert!(
        next.contains("_18446744073709551615_"),
        "the count saturates: {next}"
    );
    // With eventCountLimit, that count leaves nothing to return.
    let limited = w
        .get("/events?perPage=1&eventCountLimit=5&orderBy=eventTime")
        .await
        .header("link")
        .unwrap()
        .to_owned();
    let at = limited.find("nextPageToken=").unwrap() + "nextPageToken=".len();
    let limited_fp = limited[at..limited.find('>').unwrap()]
        .rsplit('_')
        .next()
        .unwrap();
    let answer = w
        .get(&format!(
            "/events?perPage=1&eventCountLimit=5&orderBy=eventTime&nextPageToken=0_1_18446744073709551615_{limited_fp}"
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(results(&answer.json()).is_empty(), "{}", answer.text());
    assert!(answer.header("link").is_none());
}

#[tokio::test]
async fn while_a_lot_travels_its_receiver_may_record_it_arriving_and_nothing_else() {
    let w = world().await;
    let lot = "urn:oretrace:lot:fwo:sb-0002";
    for event in [
        record_event(lot_record(lot)),
        record_event(shipment_record("s-2", &[lot])),
    ] {
        let body = serde_json::to_vec(&document(vec![event])).unwrap();
        let job = w
            .finished(&w.capture_signed(&[&w.fwo], &body, None).await)
            .await;
        assert_eq!(job["success"], true, "{job:#}");
    }
    let ussm = w.token(&w.ussm).await;
    let quantity = json!([{"epcClass": lot, "quantity": 1, "uom": "KGM"}]);
    for (step, allowed) in [
        ("arriving", true),
        ("https://ref.gs1.org/cbv/BizStep-receiving", true),
        ("https://example.org/steps/not-receiving", false),
        ("loading", false),
    ] {
        let body = gs1_document(vec![gs1_event(
            json!({"bizStep": step, "quantityList": quantity}),
        )]);
        let size = w.size();
        let job = w
            .finished(&w.capture_with_token(&ussm, &body, None).await)
            .await;
        if allowed {
            w.captured_at(&job, size);
        } else {
            assert_eq!(job["success"], false, "{step}: {job:#}");
            assert_eq!(job["errors"][0]["status"], 403, "{step}: {job:#}");
            assert_eq!(w.size(), size, "{step}: something was written");
        }
    }
}

/// The hole: a document declaring `x` → `urn:oretrace:lot:` named fwo's
/// lot as `x:fwo:…`; the custody rule compared the raw string (no such
/// lot) while the index filed the event under the expanded id, so ussm's
/// "destroying" event showed in fwo's lot history. The rules now read the
/// identifier the index keeps.
#[tokio::test]
async fn a_curie_alias_of_another_party_s_lot_cannot_write_into_its_history() {
    let w = world().await;
    let lot = "urn:oretrace:lot:fwo:sb-0001";
    let body = serde_json::to_vec(&document(vec![record_event(lot_record(lot))])).unwrap();
    assert_eq!(
        w.finished(&w.capture_signed(&[&w.fwo], &body, None).await)
            .await["success"],
        true
    );
    let uri = format!("/epcs/{}/events", oretrace_epcis_map::percent_encode(lot));
    let before = results(&w.get(&uri).await.json()).len();
    assert_eq!(before, 1, "the lot's commissioning is in its history");
    let ussm = w.token(&w.ussm).await;
    let destroy = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"x": "urn:oretrace:lot:"}],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-26T00:00:00Z",
        "epcisBody": {"eventList": [gs1_event(json!({"bizStep": "destroying", "disposition": "destroyed",
            "quantityList": [{"epcClass": "x:fwo:sb-0001", "quantity": 1, "uom": "KGM"}]}))]},
    });
    let size = w.size();
    let job = w
        .finished(
            &w.capture_with_token(&ussm, &serde_json::to_vec(&destroy).unwrap(), None)
                .await,
        )
        .await;
    assert_eq!(job["success"], false, "{job:#}");
    assert_eq!(job["errors"][0]["status"], 403, "{job:#}");
    assert_eq!(w.size(), size, "nothing written");
    assert_eq!(
        results(&w.get(&uri).await.json()).len(),
        before,
        "the lot's history is unchanged"
    );
    // Whoever captured an event is shown beside it: in the query results
    // and on the event itself.
    let fwo = w.token(&w.fwo).await;
    let fwo_event = gs1_event(json!({"bizStep": "loading",
        "quantityList": [{"epcClass": lot, "quantity": 1, "uom": "KGM"}]}));
    let job = w
        .finished(
            &w.capture_with_token(&fwo, &gs1_document(vec![fwo_event]), None)
                .await,
        )
        .await;
    let loading = w.captured_at(&job, size);
    let doc = w.get(&uri).await.json();
    let by = &doc["epcisBody"]["queryResults"]["https://oretrace.org/epcis/capturedBy"];
    let events = results(&doc);
    assert_eq!(
        events.len(),
        2,
        "the commissioning and the loading: {doc:#}"
    );
    assert_eq!(events[1]["eventID"], loading.as_str());
    for event in events {
        let id = event["eventID"].as_str().unwrap();
        assert_eq!(by[id]["party"], "fwo", "{doc:#}");
        let single = w
            .get(&format!(
                "/events/{}",
                oretrace_epcis_map::percent_encode(id)
            ))
            .await;
        assert_eq!(single.header("oretrace-captured-by"), Some("fwo"));
        assert_eq!(
            single.header("oretrace-log-index").map(str::to_owned),
            Some(by[id]["index"].to_string())
        );
    }
}

/// The hole: a TransformationEvent consuming `1e26` TNE overflowed the
/// kilogram conversion on the sequencer thread, and every later write
/// failed. Now the quantity is refused naming its field, and the next
/// capture goes through.
#[tokio::test]
async fn a_transformation_event_of_1e26_tonnes_is_refused_and_writes_go_on() {
    let w = world().await;
    let lot = "urn:oretrace:lot:fwo:sb-0001";
    let body = serde_json::to_vec(&document(vec![record_event(lot_record(lot))])).unwrap();
    assert_eq!(
        w.finished(&w.capture_signed(&[&w.fwo], &body, None).await)
            .await["success"],
        true
    );
    let fwo = w.token(&w.fwo).await;
    let huge = json!({"type": "TransformationEvent", "eventTime": "2025-09-26T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "inputQuantityList": [{"epcClass": lot, "quantity": 1e26, "uom": "TNE"}],
        "outputQuantityList": [{"epcClass": "urn:oretrace:lot:fwo:out", "quantity": 1e26, "uom": "TNE"}],
        "transformationID": "urn:oretrace:transformation:t-huge", "oretrace:process": "crushing",
        "oretrace:outputs": [{"oretrace:lot": "urn:oretrace:lot:fwo:out", "oretrace:commodity": "antimony",
            "oretrace:form": "ore", "oretrace:moisturePercent": 0}],
        "bizLocation": {"id": "urn:oretrace:site:fwo-chitral"}});
    let size = w.size();
    let job = w
        .finished(
            &w.capture_with_token(&fwo, &gs1_document(vec![huge]), None)
                .await,
        )
        .await;
    assert_eq!(job["success"], false, "{job:#}");
    let error = job["errors"][0].to_string();
    assert!(error.contains("a mass may not exceed"), "{job:#}");
    assert!(error.contains("inputQuantityList[0].quantity"), "{job:#}");
    assert_eq!(w.size(), size);
    let health = w.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text());
    let body = serde_json::to_vec(&document(vec![record_event(lot_record(
        "urn:oretrace:lot:fwo:sb-0002",
    ))]))
    .unwrap();
    assert_eq!(
        w.finished(&w.capture_with_token(&fwo, &body, None).await)
            .await["success"],
        true
    );
}

/// Events the registry cannot read as its records went unchecked past
/// custody: a commissioning at another party's mine, a lot in another
/// party's namespace, a transformation "consuming" registered lots, an
/// event dated before its lot, case and escape spellings of a lot. Each is
/// refused now, and nothing is written.
#[tokio::test]
async fn unreadable_events_follow_the_site_namespace_date_and_spelling_rules() {
    let w = world().await;
    let lot = "urn:oretrace:lot:fwo:sb-0001";
    let body = serde_json::to_vec(&document(vec![record_event(lot_record(lot))])).unwrap();
    assert_eq!(
        w.finished(&w.capture_signed(&[&w.fwo], &body, None).await)
            .await["success"],
        true
    );
    let ussm = w.token(&w.ussm).await;
    let fwo = w.token(&w.fwo).await;
    let at_mine = json!({"id": "urn:oretrace:site:fwo-chitral"});
    let qty = |id: &str| json!([{"epcClass": id, "quantity": 5000, "uom": "KGM"}]);
    for (event, status) in [
        // ussm places its own lot at fwo's mine.
        (
            gs1_event(
                json!({"action": "ADD", "bizStep": "commissioning", "bizLocation": at_mine, "quantityList": qty("urn:uuid:7f6c5b2e-0000-4000-8000-000000000001")}),
            ),
            403,
        ),
        // ussm names a lot in fwo's namespace that fwo never registered.
        (
            gs1_event(
                json!({"action": "ADD", "bizStep": "commissioning", "quantityList": qty("urn:oretrace:lot:fwo:fake-1")}),
            ),
            403,
        ),
        // ussm names fwo's lot in another spelling.
        (
            gs1_event(
                json!({"bizStep": "destroying", "quantityList": qty("URN:oretrace:lot:fwo:sb-0001")}),
            ),
            422,
        ),
        (
            gs1_event(
                json!({"bizStep": "destroying", "quantityList": qty("urn:oretrace:lot:fwo:sb-%30001")}),
            ),
            422,
        ),
    ] {
        w.refused_event(&ussm, &event, status).await;
    }
    // Even its custodian may not record, unread, that its lot was
    // consumed, nor date an event before the lot existed.
    for event in [
        json!({"type": "TransformationEvent", "eventTime": "2025-09-25T10:00:00Z", "eventTimeZoneOffset": "+00:00",
            "inputQuantityList": [{"epcClass": lot, "quantity": 1, "uom": "KGM"}],
            "outputQuantityList": [{"epcClass": "urn:oretrace:lot:fwo:metal-x", "quantity": 50000, "uom": "KGM"}]}),
        gs1_event(
            json!({"eventTime": "1971-01-01T00:00:00Z", "bizStep": "loading",
            "quantityList": [{"epcClass": lot, "quantity": 1, "uom": "KGM"}]}),
        ),
    ] {
        w.refused_event(&fwo, &event, 422).await;
    }
    // At its own site, with its own lot, it may.
    let own = gs1_event(
        json!({"action": "ADD", "bizStep": "commissioning", "bizLocation": at_mine, "quantityList": qty("urn:oretrace:lot:fwo:own-1")}),
    );
    let size = w.size();
    let job = w
        .finished(
            &w.capture_with_token(&fwo, &gs1_document(vec![own]), None)
                .await,
        )
        .await;
    w.captured_at(&job, size);
}

/// The hole: one event with 200,000 EPCs (8 MB, under the body limit) kept
/// a worker busy for minutes (duplicate checks that grew with the square
/// of the list) after its request had timed out. An event over the size
/// of one log entry is now refused before any work is spent on it.
#[tokio::test]
async fn an_event_larger_than_a_log_entry_is_refused_before_it_is_checked() {
    let w = world().await;
    let fwo = w.token(&w.fwo).await;
    let epcs: Vec<String> = (0..200_000)
        .map(|i| format!("urn:epc:id:sgtin:0614141.107346.{i}"))
        .collect();
    let event = gs1_event(json!({"epcList": epcs}));
    let answer = w
        .capture_with_token(&fwo, &gs1_document(vec![event.clone()]), None)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["violations"][0]["pointer"], "/epcisBody/eventList/0");
    assert!(
        body["violations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 60000"),
        "{body}"
    );
    let single = w
        .call(
            Request::post("/events")
                .header(header::AUTHORIZATION, format!("Bearer {fwo}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(event.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(single.status, StatusCode::BAD_REQUEST, "{}", single.text());
}

/// An event just under the size of a log entry as sent, over it once the
/// server adds its eventID: refused by `POST /events` with the reason
/// named once ("event: the event is …"), not "event: event: …".
#[tokio::test]
async fn post_events_names_an_oversized_event_once() {
    let w = world().await;
    let fwo = w.token(&w.fwo).await;
    let mut event = gs1_event(json!({"epcList": ["urn:epc:id:sgtin:0614141.107346.1"]}));
    event["@context"] = json!([
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        {"ex": "https://example.com/ns/"}
    ]);
    event["ex:note"] = json!("");
    let base = event.to_string().len();
    let max = oretrace_domain::event::MAX_EVENT_BYTES;
    event["ex:note"] = json!("x".repeat(max - base - 10));
    assert!(event.to_string().len() < max);
    let answer = w
        .call(
            Request::post("/events")
                .header(header::AUTHORIZATION, format!("Bearer {fwo}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(event.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    let body = answer.json();
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.starts_with("event: the event is "), "{body}");
    assert!(!detail.contains("event: event:"), "{body}");
    assert_eq!(body["field"], "event", "{body}");
    assert!(
        body["rule"].as_str().unwrap().starts_with("the event is "),
        "{body}"
    );
}

/// Second round: a pattern commissioned as a "lot", a reworded Digital
/// Link consumed while the registry's lot stays held, look-alike site
/// URIs placing events at another party's plant. Each is refused.
#[tokio::test]
async fn patterns_reworded_digital_links_and_look_alike_sites_are_refused() {
    let w = world().await;
    let ussm = w.token(&w.ussm).await;
    let mut pattern = record_event(lot_record("urn:oretrace:lot:ussm:x"));
    pattern["quantityList"][0]["epcClass"] = json!("urn:epc:idpat:sgtin:9506000.013435.*");
    let size = w.size();
    let answer = w
        .capture_with_token(
            &ussm,
            &serde_json::to_vec(&document(vec![pattern])).unwrap(),
            None,
        )
        .await;
    // Refused by the schema at once, or by the mapping in the job.
    if answer.status != StatusCode::BAD_REQUEST {
        let job = w.finished(&answer).await;
        assert_eq!(job["errors"][0]["status"], 400, "{job:#}");
        assert!(
            job["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("pattern"),
            "{job:#}"
        );
    }
    assert_eq!(w.size(), size);
    let cases = [
        (
            json!({"type": "TransformationEvent", "eventTime": "2025-09-25T10:00:00Z", "eventTimeZoneOffset": "+00:00",
                "inputQuantityList": [{"epcClass": "https://id.gs1.org/01/09506000134352/10/LOTA/22/x", "quantity": 1, "uom": "KGM"}],
                "outputQuantityList": [{"epcClass": "https://id.gs1.org/01/09506000134352/10/OUT9", "quantity": 5, "uom": "KGM"}]}),
            422,
        ),
        (
            gs1_event(
                json!({"bizLocation": {"id": "urn:oretrace:SITE:fwo-chitral"}, "epcList": ["urn:epc:id:sgtin:0614141.107346.1"]}),
            ),
            422,
        ),
        (
            gs1_event(
                json!({"readPoint": {"id": "urn:oretrace:site:fwo-chitral/"}, "epcList": ["urn:epc:id:sgtin:0614141.107346.1"]}),
            ),
            422,
        ),
        (
            gs1_event(
                json!({"bizLocation": {"id": "urn:oretrace:site:fwo-chitral"}, "epcList": ["urn:epc:id:sgtin:0614141.107346.1"]}),
            ),
            403,
        ),
    ];
    for (event, status) in cases {
        w.refused_event(&ussm, &event, status).await;
    }
}

/// A mass in `kg` (the record's unit) rather than the Rec. 20 code an
/// EPCIS quantity takes: refused, naming the field and the code to write,
/// whether the schema catches it (`kg`) or the mapping does (`KG`).
#[tokio::test]
async fn a_quantity_in_kg_is_refused_with_the_code_to_write() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let mut event = record_event(lot_record("urn:oretrace:lot:fwo:sb-0001"));
    assert_eq!(event["quantityList"][0]["uom"], "KGM", "{event:#}");
    event["@context"] = json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]);
    for (uom, expected) in [
        (
            "kg",
            "\"kg\" does not match \"^[A-Z0-9]{2,3}$\" (for a mass write KGM, its UN/ECE Rec. 20 code)",
        ),
        (
            "KG",
            "KGM or TNE expected, not \"KG\" (write KGM, the UN/ECE Rec. 20 code for \"KG\")",
        ),
    ] {
        event["quantityList"][0]["uom"] = json!(uom);
        let size = w.size();
        let answer = w
            .call(
                Request::post("/events")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(event.to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
        let detail = answer.json()["detail"].as_str().unwrap().to_owned();
        assert!(
            detail.contains("quantityList") && detail.contains(expected),
            "{uom}: {detail}"
        );
        assert_eq!(w.size(), size);
    }
}

#[tokio::test]
async fn a_member_name_given_twice_is_refused_naming_the_object_and_the_name() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let at = |site: &str| json!({"id": format!("urn:oretrace:site:{site}")});
    let event = gs1_event(json!({
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2018"],
        "bizLocation": at("fwo-chitral"),
    }));
    let body = String::from_utf8(gs1_document(vec![event.clone()])).unwrap();
    let own = r#""bizLocation":{"id":"urn:oretrace:site:fwo-chitral"}"#;
    assert!(body.contains(own), "{body}");
    let size = w.size();
    let jobs = w.get_with_token("/capture", &token).await.json();
    // Another party's site first, its own last: serde_json would keep the
    // last, a co-signer's parser may read the first. Spelled plainly or
    // with an escape that unescapes to the same name.
    for other in [
        r#""bizLocation":{"id":"urn:oretrace:site:ussm-madison"}"#,
        r#""biz\u004cocation":{"id":"urn:oretrace:site:ussm-madison"}"#,
    ] {
        let twice = body.replacen(own, &format!("{other},{own}"), 1);
        let answer = w.capture_with_token(&token, twice.as_bytes(), None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
        let p = answer.json();
        assert_eq!(
            (&p["type"], &p["oretraceType"]),
            (
                &"epcisException:ValidationException".into(),
                &"https://oretrace.org/problems/malformed-json".into()
            ),
            "{p}"
        );
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("the object at /epcisBody/eventList/0 "),
            "{p}"
        );
        assert!(detail.contains(r#""bizLocation""#), "{p}");
        assert_eq!(w.size(), size, "nothing written");
    }
    // No job was made for them.
    assert_eq!(w.get_with_token("/capture", &token).await.json(), jobs);
    // Before the schema: a document that would not validate either is
    // refused for the duplicate, at the top level.
    let answer = w
        .capture_with_token(&token, br#"{"type": "EPCISDocument", "type": "x"}"#, None)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    let detail = answer.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("top-level object"), "{detail}");
    assert!(detail.contains(r#""type""#), "{detail}");
    // POST /events: the pointer is the event's own.
    let mut single = event.clone();
    single["@context"] = json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]);
    let text = single.to_string();
    let inner = r#""id":"urn:oretrace:site:fwo-chitral""#;
    let twice = text.replacen(
        inner,
        &format!(r#""id":"urn:oretrace:site:ussm-madison",{inner}"#),
        1,
    );
    let answer = w
        .call(
            Request::post("/events")
                .header(header::CONTENT_TYPE, "application/ld+json")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(twice))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    let detail = answer.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("the object at /bizLocation "), "{detail}");
    assert!(detail.contains(r#""id""#), "{detail}");
    assert_eq!(w.size(), size, "nothing written");
    // The same document with each name once is captured.
    let job = w
        .finished(&w.capture_with_token(&token, body.as_bytes(), None).await)
        .await;
    w.captured_at(&job, size);
}

#[tokio::test]
async fn the_same_key_signing_a_capture_twice_is_refused_naming_the_key() {
    let w = world().await;
    let body = gs1_document(vec![gs1_event(
        json!({"epcList": ["urn:epc:id:sgtin:0614141.107346.2019"]}),
    )]);
    let note = document_note(
        "registry.example/log",
        &Digest::of(&body),
        "fwo",
        oretrace_domain::event::CaptureBehaviour::Rollback,
    );
    let fwo = format!("{}+{:08x}", w.fwo.name(), w.fwo.verifier().key_id());
    let size = w.size();
    // The same line twice, the same key's line around another's, and a
    // second line by the same key over other text.
    let same = signature_line(&w.fwo, &note);
    for lines in [
        vec![same.clone(), same.clone()],
        vec![same.clone(), signature_line(&w.ussm, &note), same.clone()],
        vec![same.clone(), signature_line(&w.fwo, "other text\n")],
    ] {
        for uri in ["/capture", "/events"] {
            let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
            for line in &lines {
                request = request.header("Oretrace-Signature", line.as_str());
            }
            let answer = w
                .call(request.body(Body::from(body.clone())).unwrap())
                .await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
            let p = answer.json();
            assert_eq!(
                (&p["type"], &p["oretraceType"]),
                (
                    &"epcisException:ValidationException".into(),
                    &"https://oretrace.org/problems/bad-request".into()
                ),
                "{p}"
            );
            let detail = p["detail"].as_str().unwrap();
            assert!(
                detail.contains(&format!("key {fwo} signs more than once")),
                "{p}"
            );
            assert_eq!(w.size(), size, "nothing written");
        }
    }
    // Signed once, the same document is captured.
    let job = w
        .finished(&w.capture_signed(&[&w.fwo], &body, None).await)
        .await;
    w.captured_at(&job, size);
}

// The binding's discovery, listings, exceptions and EPC formats
// (`docs/design/epcis-binding.md`).

/// A path of the table with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{*path}", "x")
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "ObjectEvent"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_binding_resource_answers_options_with_its_methods_and_the_gs1_headers() {
    let w = world().await;
    let table = oretrace_server::routes::<MemoryStore>();
    let binding: Vec<&str> = table
        .iter()
        .filter(|(m, _)| m == axum::http::Method::OPTIONS)
        .map(|(_, p)| *p)
        .collect();
    for path in [
        "/",
        "/capture",
        "/events",
        "/events/{id}",
        "/eventTypes",
        "/epcs",
        "/bizSteps/{value}/events",
        "/queries",
        "/queries/{name}/events",
    ] {
        assert!(binding.contains(&path), "no OPTIONS for {path}");
    }
    for path in binding {
        let answer = w
            .call(
                Request::options(concrete(path))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{path}");
        let allow: Vec<&str> = answer.header("allow").unwrap().split(", ").collect();
        let mut expected: Vec<String> = table
            .iter()
            .filter(|(_, p)| *p == path)
            .map(|(m, _)| m.to_string())
            .collect();
        expected.sort();
        let mut allow_sorted: Vec<String> = allow.iter().map(|m| (*m).to_owned()).collect();
        allow_sorted.sort();
        assert_eq!(allow_sorted, expected, "{path}");
        for header in [
            "GS1-EPCIS-Version",
            "GS1-EPCIS-Min",
            "GS1-EPCIS-Max",
            "GS1-CBV-Version",
            "GS1-CBV-Min",
            "GS1-CBV-Max",
            "GS1-EPC-Format",
            "GS1-CBV-XML-Format",
            "GS1-Extensions",
            "GS1-Vendor-Version",
        ] {
            assert!(answer.header(header).is_some(), "{path}: no {header}");
        }
    }
    let capture = w
        .call(Request::options("/capture").body(Body::empty()).unwrap())
        .await;
    assert_eq!(capture.header("GS1-Capture-Error-Behaviour"), Some("all"));
    assert!(capture.header("GS1-EPCIS-Capture-Limit").is_some());
}

#[tokio::test]
async fn the_top_level_resources_and_event_types_are_collections() {
    let w = world().await;
    let top = w.get("/").await;
    assert_eq!(top.status, StatusCode::OK, "{}", top.text());
    let top = top.json();
    assert_eq!(top["type"], "Collection");
    let members: std::collections::BTreeSet<&str> = top["member"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(members.len(), 9, "{top}");
    for m in ["events", "capture", "queries", "epcs", "bizSteps"] {
        assert!(members.contains(m), "{top}");
    }
    let types = w.get("/eventTypes").await.json();
    assert_eq!(types["type"], "Collection");
    assert_eq!(types["member"].as_array().unwrap().len(), 5);
    let one = w.get("/eventTypes/ObjectEvent").await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["member"], json!(["events"]));
    let none = w.get("/eventTypes/ColourEvent").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(none.json()["type"], "epcisException:NoSuchNameException");
}

#[tokio::test]
async fn errors_on_binding_paths_are_the_standard_exceptions() {
    let w = world().await;
    for (request, status, exception, oretrace) in [
        (
            Request::get("/events?EQ_colour=red"),
            400,
            "QueryParameterException",
            "query-parameter",
        ),
        (
            Request::get("/queries/no-such-query"),
            404,
            "NoSuchNameException",
            "not-found",
        ),
        (
            Request::get("/events/no-such-event"),
            404,
            "NoSuchNameException",
            "not-found",
        ),
        (
            Request::delete("/nextPageToken/abc"),
            501,
            "ImplementationException",
            "not-implemented",
        ),
        (
            Request::delete("/events"),
            405,
            "ImplementationException",
            "method-not-allowed",
        ),
        (
            Request::post("/queries"),
            401,
            "SecurityException",
            "unauthenticated",
        ),
        (
            Request::get("/events").header("GS1-EPCIS-Version", "1.2"),
            406,
            "NotAcceptableException",
            "not-acceptable",
        ),
        (
            Request::get("/events").header("GS1-EPC-Format", "Sometimes"),
            406,
            "NotAcceptableException",
            "not-acceptable",
        ),
    ] {
        let answer = w.call(request.body(Body::empty()).unwrap()).await;
        let p = answer.json();
        assert_eq!(answer.status.as_u16(), status, "{p}");
        assert_eq!(p["type"], format!("epcisException:{exception}"), "{p}");
        assert_eq!(p["status"], status, "{p}");
        assert_eq!(
            p["oretraceType"],
            format!("https://oretrace.org/problems/{oretrace}"),
            "{p}"
        );
        assert_eq!(answer.header("GS1-EPCIS-Version"), Some("2.0.0"), "{p}");
    }
    // Other paths keep oretrace's own problem types.
    let lot = w.get("/lots/no-such-lot").await.json();
    assert_eq!(lot["type"], "https://oretrace.org/problems/not-found");
    assert!(lot.get("oretraceType").is_none(), "{lot}");
}

#[tokio::test]
async fn the_listings_page_the_values_events_carry_and_name_their_resources() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let doc = serde_json::to_vec(&example("Example_9.6.1-ObjectEvent.jsonld")).unwrap();
    w.finished(&w.capture_with_token(&token, &doc, None).await)
        .await;
    // The EPCs, one page of one at a time, each once, in Digital Link form.
    let mut seen = Vec::new();
    let mut next = Some("/epcs?perPage=1".to_owned());
    while let Some(uri) = next.take() {
        let answer = w.get(&uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let page = answer.json();
        assert_eq!(page["type"], "Collection");
        let members = page["member"].as_array().unwrap().clone();
        assert!(members.len() <= 1);
        seen.extend(members.into_iter().map(|m| m.as_str().unwrap().to_owned()));
        next = answer.header("link").map(|link| {
            link.trim_start_matches('<')
                .split_once('>')
                .unwrap()
                .0
                .to_owned()
        });
        assert!(seen.len() < 100, "paging does not end: {seen:?}");
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "{seen:?}");
    assert!(
        seen.contains(&"https://id.gs1.org/01/10614141073464/21/2017".to_owned()),
        "{seen:?}"
    );
    let steps = w.get("/bizSteps").await.json();
    assert!(
        steps["member"]
            .as_array()
            .unwrap()
            .contains(&json!("shipping")),
        "{steps}"
    );
    let dispositions = w.get("/dispositions").await.json();
    assert!(
        dispositions["member"]
            .as_array()
            .unwrap()
            .contains(&json!("in_transit")),
        "{dispositions}"
    );
    // A value an event carries is a resource whichever way it is spelt;
    // one no event carries is not.
    for uri in [
        "/bizSteps/shipping",
        "/bizSteps/https%3A%2F%2Fref.gs1.org%2Fcbv%2FBizStep-shipping",
        "/epcs/urn%3Aepc%3Aid%3Asgtin%3A0614141.107346.2017",
        "/epcs/https%3A%2F%2Fid.gs1.org%2F01%2F10614141073464%2F21%2F2017",
        "/readPoints/urn%3Aepc%3Aid%3Asgln%3A0614141.07346.1234",
    ] {
        let answer = w.get(uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text());
        assert_eq!(answer.json()["member"], json!(["events"]), "{uri}");
    }
    for uri in [
        "/bizSteps/destroying",
        "/epcs/urn%3Aepc%3Aid%3Asgtin%3A0614141.107346.9999",
        "/dispositions/recalled",
    ] {
        let answer = w.get(uri).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(answer.json()["type"], "epcisException:NoSuchNameException");
    }
    let bad = w.get("/epcs?colour=red").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn answers_write_epcs_as_gs1_epc_format_asks() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let doc = serde_json::to_vec(&example("Example_9.6.1-ObjectEvent.jsonld")).unwrap();
    let job = w
        .finished(&w.capture_with_token(&token, &doc, None).await)
        .await;
    let id = job["events"][0]["eventID"].as_str().unwrap().to_owned();
    let urn = "urn:epc:id:sgtin:0614141.107346.2017";
    let link = "https://id.gs1.org/01/10614141073464/21/2017";
    for (format, expected, stated) in [
        (None, link, "Always_GS1_Digital_Link"),
        (
            Some("Always_GS1_Digital_Link"),
            link,
            "Always_GS1_Digital_Link",
        ),
        (Some("Never_Translates"), urn, "Never_Translates"),
        (Some("No_Preference"), urn, "No_Preference"),
        (Some("Always_EPC_URN"), urn, "Always_EPC_URN"),
    ] {
        for uri in [
            format!("/events/{}", percent_encode(&id)),
            format!("/events?EQ_eventID={}", percent_encode(&id)),
        ] {
            let mut request = Request::get(&uri);
            if let Some(format) = format {
                request = request.header("GS1-EPC-Format", format);
            }
            let answer = w.call(request.body(Body::empty()).unwrap()).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
            assert_eq!(answer.header("GS1-EPC-Format"), Some(stated), "{uri}");
            let event = only_event(&answer.json());
            assert_eq!(event["epcList"][0], expected, "{uri} {format:?}");
            // The event keeps its id, and hashes to it, whatever the form.
            assert_eq!(event["eventID"], id.as_str());
            let again =
                oretrace_epcis::event_hash(&event, &oretrace_epcis::Context::from_document(&event))
                    .unwrap();
            assert_eq!(again.as_str(), id);
        }
    }
}

#[tokio::test]
async fn extension_fields_are_queried_by_the_prefixes_gs1_extensions_declares() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let document = serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"ext": "https://ext.example/ns/"}],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-26T00:00:00Z",
        "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2026-11-25T00:00:00Z",
            "eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
            "epcList": ["urn:epc:id:sgtin:0614141.107346.4242"], "ext:colour": "red"}]}
    }))
    .unwrap();
    w.finished(&w.capture_with_token(&token, &document, None).await)
        .await;
    let found = |header: Option<&'static str>, query: &'static str| {
        let mut request = Request::get(format!("/events?{query}"));
        if let Some(h) = header {
            request = request.header("GS1-Extensions", h);
        }
        let request = request.body(Body::empty()).unwrap();
        async { results(&w.call(request).await.json()).len() }
    };
    // The client's own prefix for the namespace, declared in the header.
    assert_eq!(
        found(Some("paint=https://ext.example/ns/"), "EQ_paint:colour=red").await,
        1
    );
    assert_eq!(
        found(
            Some("paint=https://ext.example/ns/"),
            "EQ_paint:colour=blue"
        )
        .await,
        0
    );
    // Undeclared, the prefix names another namespace than the event's.
    assert_eq!(found(None, "EQ_paint:colour=red").await, 0);
    // Declared for another namespace: no match either.
    assert_eq!(
        found(Some("paint=https://other.example/"), "EQ_paint:colour=red").await,
        0
    );
    // A full IRI needs no header.
    assert_eq!(
        found(None, "EQ_https%3A%2F%2Fext.example%2Fns%2Fcolour=red").await,
        1
    );
}
