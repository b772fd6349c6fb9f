//! What a hostile party tried against the running server, each case named
//! after what broke: slots held by unauthenticated clients, other parties'
//! state evicted, memory held by failed jobs, tokens of revoked keys,
//! unbounded reads, refusals without problem bodies.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::faults::{Call, Faulty, Hooks, Interfere};
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

fn party(id: &str, keys: &[&NoteSigner], time: &str) -> Value {
    let keys: Vec<String> = keys.iter().map(|k| k.verifier().to_vkey()).collect();
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company", "country": "PK",
           "keys": keys, "time": time, "figures": "illustrative"})
}

fn site(id: &str, operator: &str) -> Value {
    json!({"kind": "site", "id": id, "name": format!("Site {id}"), "site_kind": "mine", "operator": operator,
           "country": "PK", "location": {"lat": "24.835", "lon": "66.982"}, "approximate": true,
           "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

fn lot(id: &str) -> Value {
    json!({"kind": "lot", "id": id, "commodity": "antimony", "form": "sample", "site": "fwo-chitral",
           "wet_mass": {"value": "25", "unit": "kg"}, "moisture_percent": "4",
           "time": "2025-09-02T00:00:00Z", "figures": "illustrative"})
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
    /// Asserts a problem body with this status and oretrace problem type
    /// slug; returns it.
    fn problem(&self, status: u16, slug: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        let p = self.json();
        let expected = format!("https://oretrace.org/problems/{slug}");
        // On the EPCIS binding's paths the type is the standard's
        // exception and oretrace's own type is kept beside it.
        if p["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("epcisException:"))
        {
            assert_eq!(p["oretraceType"], expected, "{p}");
        } else {
            assert_eq!(p["type"], expected, "{p}");
        }
        assert_eq!(p["status"], status, "{p}");
        p
    }
}

struct World<S: oretrace_ledger::Store = MemoryStore> {
    ledger: Arc<Ledger<S>>,
    app: Router,
    fwo: NoteSigner,
    ussm: NoteSigner,
}

async fn world_with(config: ServerConfig) -> World {
    let operator = key("operator/1", 1);
    let fwo = key("fwo/1", 2);
    let ussm = key("ussm/1", 3);
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
            party("fwo", &[&fwo], "2025-09-01T00:00:00Z"),
            &[&fwo, &operator],
        ),
        signed(
            party("ussm", &[&ussm], "2025-09-01T00:00:00Z"),
            &[&ussm, &operator],
        ),
        signed(site("fwo-chitral", "fwo"), &[&fwo]),
    ] {
        ledger.submit(record).await.unwrap();
    }
    let app = router(ledger.clone(), config).unwrap();
    World {
        ledger,
        app,
        fwo,
        ussm,
    }
}

async fn world() -> World {
    world_with(ServerConfig::default()).await
}

/// The signature line a signed note over `text` would carry, without the
/// leading em dash.
fn signature_line(signer: &NoteSigner, text: &str) -> String {
    let note = signer.sign(text).unwrap().to_bytes();
    let note = String::from_utf8(note).unwrap();
    let line = note.lines().last().unwrap();
    line.trim_start_matches('\u{2014}').trim().to_owned()
}

fn key_name(signer: &NoteSigner) -> String {
    format!("{}+{:08x}", signer.name(), signer.verifier().key_id())
}

impl<S: oretrace_ledger::Store> World<S> {
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

    async fn get_with(&self, uri: &str, token: &str) -> Answer {
        self.call(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn post_json(&self, uri: &str, body: &Value) -> Answer {
        self.call(
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// A token for `signer`'s key, or the refusal.
    async fn try_token(&self, signer: &NoteSigner) -> Result<String, Answer> {
        let challenge = self
            .post_json("/auth/challenge", &json!({"key": key_name(signer)}))
            .await;
        assert_eq!(challenge.status, StatusCode::OK, "{}", challenge.text());
        let text = challenge.json()["challenge"].as_str().unwrap().to_owned();
        let line = signature_line(signer, &text);
        let answer = self
            .post_json(
                "/auth/token",
                &json!({"challenge": text, "signature": line}),
            )
            .await;
        if answer.status == StatusCode::OK {
            Ok(answer.json()["access_token"].as_str().unwrap().to_owned())
        } else {
            Err(answer)
        }
    }

    async fn token(&self, signer: &NoteSigner) -> String {
        match self.try_token(signer).await {
            Ok(t) => t,
            Err(a) => panic!("no token: {}", a.text()),
        }
    }

    async fn capture_with_token(&self, token: &str, body: &[u8], behaviour: &str) -> Answer {
        self.call(
            Request::post("/capture")
                .header(header::CONTENT_TYPE, "application/ld+json")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header("GS1-Capture-Error-Behaviour", behaviour)
                .body(Body::from(body.to_vec()))
                .unwrap(),
        )
        .await
    }

    /// Waits for a capture job to finish; returns it.
    async fn finished(&self, accepted: &Answer) -> Value {
        assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text());
        let location = accepted.header("location").unwrap().to_owned();
        for _ in 0..3000 {
            let job = self.get(&location).await.json();
            if job["running"] == false {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("capture job {location} did not finish");
    }
}

#[tokio::test]
async fn a_query_of_three_thousand_parameters_gets_a_problem_not_a_bare_414() {
    let w = world().await;
    let mut uri = String::from("/events?");
    for i in 0..3000 {
        uri.push_str(&format!("EQ_bizStep=s{i}&"));
    }
    assert!(
        uri.len() < 65_534,
        "past hyper's own limit, no body can be given"
    );
    let p = w.get(&uri).await.problem(414, "uri-too-long");
    assert_eq!(p["limit"], oretrace_server::MAX_URI_BYTES as u64);
}

#[tokio::test]
async fn auth_challenge_errors_are_titled_as_requests_not_records() {
    let w = world().await;
    for body in [json!({}), json!({"key": "fwo/1+00000001", "colour": "red"})] {
        let p = w
            .post_json("/auth/challenge", &body)
            .await
            .problem(400, "invalid-request");
        assert_eq!(p["title"], "Invalid request", "{p}");
        assert!(p["field"].is_string(), "{p}");
    }
    let p = w
        .post_json("/auth/token", &json!({"challenge": "x"}))
        .await
        .problem(400, "invalid-request");
    assert_eq!(p["field"], "signature", "{p}");
}

#[tokio::test]
async fn a_rotated_away_keys_token_gets_401_on_events_queries_and_capture() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    assert_eq!(w.get_with("/events", &token).await.status, StatusCode::OK);
    assert_eq!(w.get_with("/queries", &token).await.status, StatusCode::OK);
    assert_eq!(w.get_with("/capture", &token).await.status, StatusCode::OK);
    // FWO rotates its key: a party update listing only the new key.
    let new = key("fwo/2", 12);
    w.ledger
        .submit(signed(
            party("fwo", &[&new], "2025-09-03T00:00:00Z"),
            &[&w.fwo, &new],
        ))
        .await
        .unwrap();
    let p = w
        .get_with("/events", &token)
        .await
        .problem(401, "unauthenticated");
    assert!(p["detail"].as_str().unwrap().contains("fwo/1"), "{p}");
    for uri in ["/events", "/queries", "/capture"] {
        w.get_with(uri, &token)
            .await
            .problem(401, "unauthenticated");
    }
    let document = oretrace_epcis_map::document(vec![], "2026-11-26T00:00:00Z");
    w.capture_with_token(&token, document.to_string().as_bytes(), "rollback")
        .await
        .problem(401, "unauthenticated");
    // The new key's token works.
    let fresh = w.token(&new).await;
    assert_eq!(w.get_with("/capture", &fresh).await.status, StatusCode::OK);
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

fn gs1_document(events: Vec<Value>) -> Value {
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-26T00:00:00Z",
        "epcisBody": {"eventList": events},
    })
}

impl<S: oretrace_ledger::Store> World<S> {
    async fn define_query(&self, token: &str, name: &str) -> Answer {
        self.call(
            Request::post("/queries")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"name": name, "query": {"eventType": ["ObjectEvent"]}}).to_string(),
                ))
                .unwrap(),
        )
        .await
    }
}

#[tokio::test]
async fn a_thousand_named_queries_never_evict_another_partys_query() {
    let w = world().await;
    let (fwo, ussm) = (w.token(&w.fwo).await, w.token(&w.ussm).await);
    assert_eq!(
        w.define_query(&ussm, "ussm-arrivals").await.status,
        StatusCode::CREATED
    );
    for i in 0..oretrace_server::epcis::QUERIES_PER_PARTY {
        let a = w.define_query(&fwo, &format!("q{i}")).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    }
    for i in 0..10 {
        let p = w
            .define_query(&fwo, &format!("more{i}"))
            .await
            .problem(429, "quota-exceeded");
        assert_eq!(p["limit"], oretrace_server::epcis::QUERIES_PER_PARTY, "{p}");
        assert!(
            p["detail"].as_str().unwrap().contains("named queries"),
            "{p}"
        );
    }
    // The list is paged: 101 queries, in name order.
    let first = w.get("/queries").await;
    assert_eq!(first.json().as_array().unwrap().len(), 100);
    let link = first.header("link").unwrap();
    let next = link.strip_prefix('<').unwrap().split_once('>').unwrap().0;
    let rest = w.get(next).await;
    assert_eq!(rest.json().as_array().unwrap().len(), 1, "{}", rest.text());
    assert_eq!(rest.json()[0]["name"], "ussm-arrivals");
    assert!(rest.header("link").is_none());
    let kept = w.get("/queries/ussm-arrivals").await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text());
    assert_eq!(kept.json()["owner"], "ussm");
    w.define_query(&fwo, "ussm-arrivals")
        .await
        .problem(409, "conflict");
    // Its own deletion makes room for its own next one.
    let deleted = w
        .call(
            Request::delete("/queries/q0")
                .header(header::AUTHORIZATION, format!("Bearer {fwo}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        w.define_query(&fwo, "again").await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn many_tokens_of_one_party_never_evict_anothers() {
    let w = world().await;
    let ussm = w.token(&w.ussm).await;
    for _ in 0..oretrace_server::epcis::TOKENS_PER_PARTY {
        w.token(&w.fwo).await;
    }
    let refused = w.try_token(&w.fwo).await.unwrap_err();
    let p = refused.problem(429, "quota-exceeded");
    assert_eq!(p["limit"], oretrace_server::epcis::TOKENS_PER_PARTY, "{p}");
    assert_eq!(w.get_with("/capture", &ussm).await.status, StatusCode::OK);
    w.token(&w.ussm).await;
}

#[tokio::test]
async fn many_capture_jobs_of_one_party_never_evict_anothers() {
    let w = world().await;
    let (fwo, ussm) = (w.token(&w.fwo).await, w.token(&w.ussm).await);
    let empty = gs1_document(vec![]).to_string();
    let theirs = w
        .capture_with_token(&ussm, empty.as_bytes(), "rollback")
        .await;
    let theirs = w.finished(&theirs).await["captureID"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut first = None;
    for _ in 0..oretrace_server::epcis::JOBS_PER_PARTY + 20 {
        let job = w
            .capture_with_token(&fwo, empty.as_bytes(), "rollback")
            .await;
        let job = w.finished(&job).await;
        first.get_or_insert(job["captureID"].as_str().unwrap().to_owned());
    }
    // FWO's oldest finished jobs made room for its newer ones; USSM's job
    // is still there.
    let own = w.get_with("/capture", &fwo).await.json();
    assert_eq!(
        own.as_array().unwrap().len(),
        oretrace_server::epcis::JOBS_PER_PARTY
    );
    assert_eq!(
        w.get(&format!("/capture/{}", first.unwrap())).await.status,
        StatusCode::NOT_FOUND
    );
    let kept = w.get(&format!("/capture/{theirs}")).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text());
    assert_eq!(kept.json()["capturedBy"], "ussm");
}

#[tokio::test]
async fn a_rolled_back_capture_keeps_a_bounded_list_of_warnings_and_counts_the_rest() {
    let w = world().await;
    let token = w.token(&w.ussm).await;
    let n = 1200;
    let mut events: Vec<Value> = (0..n)
        .map(|i| {
            // A declared ni: eventID that is not the event's hash: a warning.
            gs1_event(json!({
                "epcList": [format!("urn:epc:id:sgtin:0614141.107346.{i}")],
                "eventID": format!("ni:///sha-256;{:064x}?ver=CBV2.0", i),
            }))
        })
        .collect();
    // One event the ledger refuses (ussm does not hold the lot it ships),
    // so the whole document rolls back.
    let shipment = json!({"kind": "shipment", "id": "s-9", "lots": ["urn:oretrace:lot:fwo:none"],
        "from": "fwo-chitral", "to": "ussm-madison", "receiver": "ussm",
        "time": "2025-09-20T00:00:00Z", "figures": "illustrative"});
    let record = RecordJson::parse(shipment.to_string().as_bytes()).unwrap();
    events.push(oretrace_epcis_map::event_of_record(&record).unwrap());
    let mut body = gs1_document(events);
    body["@context"] = oretrace_epcis_map::context();
    let job = w
        .finished(
            &w.capture_with_token(&token, body.to_string().as_bytes(), "rollback")
                .await,
        )
        .await;
    assert_eq!(job["success"], false, "{}", job["errors"]);
    let warnings = job["warnings"].as_array().unwrap().len();
    let omitted = job["warningsOmitted"].as_u64().unwrap() as usize;
    assert!(warnings <= 1000, "{warnings} warnings kept");
    assert!(warnings + omitted >= n, "{warnings} + {omitted} < {n}");
}

/// A request body that sends nothing until `release` fires (then `bytes`),
/// and says on `polled` when the server first asks for it (it has taken a
/// slot by then).
fn held_body(
    bytes: Vec<u8>,
    polled: tokio::sync::oneshot::Sender<()>,
    release: tokio::sync::oneshot::Receiver<()>,
) -> Body {
    Body::from_stream(futures_util::stream::once(async move {
        let _ = polled.send(());
        let _ = release.await;
        Ok::<_, std::convert::Infallible>(Bytes::from(bytes))
    }))
}

/// A capture claiming `signer`'s key in a detached signature (over other
/// bytes: anyone may name a registered key), its body held back.
fn claimed_capture(signer: &NoteSigner, body: Body) -> Request<Body> {
    Request::post("/capture")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, 30_000_000)
        .header(
            "Oretrace-Signature",
            signature_line(signer, "not this body\n"),
        )
        .body(body)
        .unwrap()
}

#[tokio::test]
async fn stalled_unauthenticated_captures_cannot_hold_every_capture_slot() {
    let w = Arc::new(world().await);
    let fwo_token = w.token(&w.fwo).await;
    let mut releases = Vec::new();
    let mut stalled = Vec::new();
    // Two stalled captures naming two parties' keys take the two slots
    // signed captures may hold.
    for signer in [&w.fwo, &w.ussm] {
        let (polled_tx, polled_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel();
        let request = claimed_capture(signer, held_body(b"{}".to_vec(), polled_tx, release_rx));
        let world = w.clone();
        stalled.push(tokio::spawn(async move { world.call(request).await }));
        polled_rx.await.unwrap();
        releases.push(release_tx);
    }
    // More of them, under either name, get no slot.
    for signer in [&w.fwo, &w.ussm, &w.fwo, &w.ussm] {
        let (polled_tx, _polled) = tokio::sync::oneshot::channel();
        let (_release, release_rx) = tokio::sync::oneshot::channel();
        let answer = w
            .call(claimed_capture(
                signer,
                held_body(b"{}".to_vec(), polled_tx, release_rx),
            ))
            .await;
        assert!(
            matches!(answer.status.as_u16(), 429 | 503),
            "{}",
            answer.text()
        );
        answer.problem(
            answer.status.as_u16(),
            if answer.status == 429 {
                "quota-exceeded"
            } else {
                "overloaded"
            },
        );
    }
    // A party with a token still captures while they stall.
    let empty = gs1_document(vec![]).to_string();
    let job = w
        .capture_with_token(&fwo_token, empty.as_bytes(), "rollback")
        .await;
    assert_eq!(w.finished(&job).await["success"], true);
    // Released, the stalled ones are read and refused: their signatures
    // are not over these bodies.
    for release in releases {
        release.send(()).unwrap();
    }
    for s in stalled {
        s.await.unwrap().problem(401, "unauthenticated");
    }
}

#[tokio::test]
async fn one_party_cannot_hold_every_capture_slot_with_its_token() {
    let w = Arc::new(world().await);
    let token = w.token(&w.fwo).await;
    let mut releases = Vec::new();
    let mut held = Vec::new();
    let empty = gs1_document(vec![]).to_string().into_bytes();
    for _ in 0..oretrace_server::epcis::SLOTS_PER_PARTY {
        let (polled_tx, polled_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel();
        let request = Request::post("/capture")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(held_body(empty.clone(), polled_tx, release_rx))
            .unwrap();
        let world = w.clone();
        held.push(tokio::spawn(async move { world.call(request).await }));
        polled_rx.await.unwrap();
        releases.push(release_tx);
    }
    let refused = w.capture_with_token(&token, &empty, "rollback").await;
    let p = refused.problem(429, "quota-exceeded");
    assert_eq!(p["limit"], oretrace_server::epcis::SLOTS_PER_PARTY);
    // Another party's capture is admitted meanwhile.
    let ussm = w.token(&w.ussm).await;
    let job = w.capture_with_token(&ussm, &empty, "rollback").await;
    assert_eq!(w.finished(&job).await["success"], true);
    for release in releases {
        release.send(()).unwrap();
    }
    for h in held {
        assert_eq!(h.await.unwrap().status, StatusCode::ACCEPTED);
    }
}

#[tokio::test]
async fn a_stalled_capture_body_gets_408_with_a_problem() {
    let w = world_with(ServerConfig {
        capture_body_timeout: Duration::from_millis(50),
        ..ServerConfig::default()
    })
    .await;
    let token = w.token(&w.fwo).await;
    // A body that never arrives: only the deadline ends the request.
    let never = Body::from_stream(futures_util::stream::pending::<
        Result<Bytes, std::convert::Infallible>,
    >());
    let answer = w
        .call(
            Request::post("/capture")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_LENGTH, 1000)
                .body(never)
                .unwrap(),
        )
        .await;
    let p = answer.problem(408, "body-timeout");
    assert_eq!(p["limit"], 50);
    // The slot is free again: the next capture is admitted.
    let empty = gs1_document(vec![]).to_string();
    let job = w
        .capture_with_token(&token, empty.as_bytes(), "rollback")
        .await;
    assert_eq!(w.finished(&job).await["success"], true);
}

/// Follows `Link: <…>; rel="next"` from `first`; every page's items.
async fn follow(w: &World, first: &str, list: &str) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut next = Some(first.to_owned());
    while let Some(uri) = next.take() {
        let page = w.get(&uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.text());
        let body = page.json();
        pages += 1;
        ids.extend(
            body[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        next = page.header("link").map(|l| {
            let uri = l.strip_prefix('<').unwrap().split_once('>').unwrap().0;
            assert!(l.ends_with("rel=\"next\""), "{l}");
            // The token in the body is the one in the link.
            assert!(
                uri.ends_with(&format!(
                    "nextPageToken={}",
                    body["nextPageToken"].as_str().unwrap()
                )),
                "{uri} {body}"
            );
            uri.to_owned()
        });
        if next.is_none() {
            assert!(body.get("nextPageToken").is_none(), "{body}");
        }
    }
    (ids, pages)
}

#[tokio::test]
async fn listing_lots_parties_and_sites_is_paged_not_unbounded() {
    let w = world().await;
    let records: Vec<SignedRecord> = (0..250)
        .map(|i| signed(lot(&format!("urn:oretrace:lot:fwo:l-{i}")), &[&w.fwo]))
        .collect();
    let ledger = w.ledger.clone();
    let results = tokio::task::spawn_blocking(move || ledger.submit_all_blocking(records))
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut expected: Vec<String> = (0..250)
        .map(|i| format!("urn:oretrace:lot:fwo:l-{i}"))
        .collect();
    expected.sort();

    let first = w.get("/lots").await.json();
    assert_eq!(
        first["lots"].as_array().unwrap().len(),
        oretrace_server::DEFAULT_LIST_PER_PAGE
    );
    let (ids, pages) = follow(&w, "/lots", "lots").await;
    assert_eq!((ids.clone(), pages), (expected.clone(), 3));
    let (ids, pages) = follow(&w, "/lots?perPage=7", "lots").await;
    assert_eq!((ids, pages), (expected.clone(), 36));
    let (ids, pages) = follow(&w, "/lots?perPage=1000", "lots").await;
    assert_eq!((ids, pages), (expected, 1));
    let (ids, _) = follow(&w, "/parties?perPage=1", "parties").await;
    assert_eq!(ids, ["fwo", "ussm"]);
    let (ids, _) = follow(&w, "/sites?perPage=1", "sites").await;
    assert_eq!(ids, ["fwo-chitral"]);

    let lots_token = first["nextPageToken"].as_str().unwrap();
    for (uri, field) in [
        ("/lots?perPage=1001".to_owned(), "perPage"),
        ("/lots?perPage=0".to_owned(), "perPage"),
        ("/lots?perPage=ten".to_owned(), "perPage"),
        ("/lots?nextPageToken=zz".to_owned(), "nextPageToken"),
        (
            format!("/parties?nextPageToken={lots_token}"),
            "nextPageToken",
        ),
        ("/sites?colour=red".to_owned(), "colour"),
        // A parameter given twice is refused, not read as its last value.
        ("/sites?perPage=1&perPage=2".to_owned(), "perPage"),
        (
            format!("/lots?nextPageToken={lots_token}&nextPageToken={lots_token}"),
            "nextPageToken",
        ),
    ] {
        let p = w.get(&uri).await.problem(400, "invalid-request");
        assert_eq!(p["field"], field, "{uri}: {p}");
    }
    // Unknown parameters are refused by name on every list, as on /events.
    for list in ["lots", "parties", "sites"] {
        let p = w
            .get(&format!("/{list}?perPage=2&colour=red"))
            .await
            .problem(400, "invalid-request");
        assert_eq!(p["field"], "colour", "{p}");
        assert_eq!(
            p["detail"],
            format!(
                "colour: unknown query parameter `colour`: /{list} takes perPage and nextPageToken"
            ),
            "{p}"
        );
    }
}

fn from(client: [u8; 4], uri: &str) -> Request<Body> {
    let mut request = Request::get(uri).body(Body::empty()).unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            client, 40_000,
        ))));
    request
}

#[tokio::test]
async fn scans_no_index_serves_are_held_to_a_budget_per_client() {
    let w = world_with(ServerConfig {
        client_scan_budget: 1000,
        // Refilled over a day: nothing refills while the test runs.
        client_scan_refill: Duration::from_secs(86_400),
        ..ServerConfig::default()
    })
    .await;
    let token = w.token(&w.ussm).await;
    let events: Vec<Value> = (0..600)
        .map(|i| gs1_event(json!({"epcList": [format!("urn:epc:id:sgtin:0614141.107346.{i}")]})))
        .collect();
    let job = w
        .capture_with_token(
            &token,
            gs1_document(events).to_string().as_bytes(),
            "rollback",
        )
        .await;
    assert_eq!(w.finished(&job).await["success"], true);
    // No index serves an EPC pattern: every event is examined, none matches.
    let scan = "/events?MATCH_epc=urn:epc:idpat:sgtin:9999999.999999.*";
    let (a, b) = ([192, 0, 2, 1], [192, 0, 2, 2]);
    let first = w.call(from(a, scan)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let refused = w.call(from(a, scan)).await;
    let p = refused.problem(429, "rate-limited");
    assert!(p["detail"].as_str().unwrap().contains("1000"), "{p}");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 1, "{retry}");
    // Another client is not held to the first one's budget; reads that
    // are not queries are not refused.
    assert_eq!(w.call(from(b, scan)).await.status, StatusCode::OK);
    assert_eq!(w.call(from(a, "/lots")).await.status, StatusCode::OK);
    assert_eq!(w.call(from(a, "/eventTypes")).await.status, StatusCode::OK);
    // Every query route counts.
    w.call(from(a, "/eventTypes/ObjectEvent/events"))
        .await
        .problem(429, "rate-limited");
}

/// A store whose appends wait while `closed` is set: capture jobs stay
/// running for as long as the test wants. Lookups of the key named in
/// `held_key` wait too (counted in `held` while they do).
type Gated = Faulty<MemoryStore, Gates>;

#[derive(Default)]
struct Gates {
    closed: Arc<std::sync::atomic::AtomicBool>,
    held_key: Arc<std::sync::Mutex<Option<String>>>,
    held: Arc<std::sync::atomic::AtomicUsize>,
}

impl Hooks for Gates {
    fn before(&self, call: Call<'_>) -> Interfere {
        use std::sync::atomic::Ordering;
        match call {
            Call::Key { name, .. } => {
                let mut counted = false;
                while self.held_key.lock().unwrap().as_deref() == Some(name) {
                    if !counted {
                        self.held.fetch_add(1, Ordering::SeqCst);
                        counted = true;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                if counted {
                    self.held.fetch_sub(1, Ordering::SeqCst);
                }
            }
            Call::Integrate { .. } => {
                while self.closed.load(Ordering::SeqCst) {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
            _ => {}
        }
        Interfere::Proceed
    }
}

#[tokio::test]
async fn a_party_cannot_pile_up_running_capture_jobs() {
    let operator = key("operator/1", 1);
    let fwo = key("fwo/1", 2);
    let store = Gated::default();
    let closed = store.hooks().closed.clone();
    let ledger = Arc::new(
        Ledger::start(
            store,
            key("registry.example/log", 9),
            operator.verifier(),
            LedgerConfig::default(),
        )
        .unwrap(),
    );
    ledger
        .submit(signed(
            party("fwo", &[&fwo], "2025-09-01T00:00:00Z"),
            &[&fwo, &operator],
        ))
        .await
        .unwrap();
    let app = router(ledger.clone(), ServerConfig::default()).unwrap();
    let call = |request: Request<Body>| {
        let app = app.clone();
        async move {
            let response = app.oneshot(request).await.unwrap();
            let (parts, body) = response.into_parts();
            Answer {
                status: parts.status,
                headers: parts.headers,
                body: axum::body::to_bytes(body, usize::MAX).await.unwrap(),
            }
        }
    };
    let challenge = call(
        Request::post("/auth/challenge")
            .body(Body::from(json!({"key": key_name(&fwo)}).to_string()))
            .unwrap(),
    )
    .await
    .json()["challenge"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = call(
        Request::post("/auth/token")
            .body(Body::from(
                json!({"challenge": challenge, "signature": signature_line(&fwo, &challenge)})
                    .to_string(),
            ))
            .unwrap(),
    )
    .await
    .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let capture = |i: usize| {
        let document = gs1_document(vec![gs1_event(
            json!({"epcList": [format!("urn:epc:id:sgtin:0614141.107346.{i}")]}),
        )]);
        Request::post("/capture")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(document.to_string()))
            .unwrap()
    };
    // The ledger stalls: every job stays running.
    closed.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut locations = Vec::new();
    for i in 0..oretrace_server::epcis::RUNNING_JOBS_PER_PARTY {
        let accepted = call(capture(i)).await;
        assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text());
        locations.push(accepted.header("location").unwrap().to_owned());
    }
    let p = call(capture(99)).await.problem(429, "quota-exceeded");
    assert_eq!(p["limit"], oretrace_server::epcis::RUNNING_JOBS_PER_PARTY);
    // Once the ledger moves, they finish, and the party captures again.
    closed.store(false, std::sync::atomic::Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for location in locations {
        loop {
            let job = call(Request::get(&location).body(Body::empty()).unwrap())
                .await
                .json();
            if job["running"] == false {
                assert_eq!(job["success"], true, "{job}");
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the job at {location} still runs 30 s after the ledger moved: {job}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    assert_eq!(call(capture(99)).await.status, StatusCode::ACCEPTED);
}

/// A log size, to prove a refused capture wrote nothing.
async fn log_size(w: &World) -> u64 {
    w.get("/checkpoint")
        .await
        .text()
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_large_context_copied_into_every_event_is_refused_before_any_event_is_worked_on() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let before = log_size(&w).await;
    let events = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| {
                gs1_event(json!({"epcList": [format!("urn:epc:id:sgtin:0614141.107346.{i}")]}))
            })
            .collect()
    };
    // A context alone larger than an event may be: one violation, at the
    // context, however many events there are.
    let mut terms = serde_json::Map::new();
    for i in 0..2000 {
        terms.insert(
            format!("ex{i}"),
            json!(format!("https://example.org/{i:040}/")),
        );
    }
    let mut body = gs1_document(events(1000));
    body["@context"] = json!([
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        Value::Object(terms.clone())
    ]);
    let started = std::time::Instant::now();
    let p = w
        .capture_with_token(&token, body.to_string().as_bytes(), "rollback")
        .await
        .problem(400, "epcis-validation");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let violations = p["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{p}");
    assert_eq!(violations[0]["pointer"], "/@context", "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("at most 60000"),
        "{p}"
    );
    // A context that fits, with an event that fits on its own but not
    // once the context is copied in: that event is named, up front.
    terms.retain(|k, _| k.trim_start_matches("ex").parse::<usize>().unwrap() < 700);
    let mut events = events(3);
    events[1]["ex:note"] = json!("n".repeat(30_000));
    let mut body = gs1_document(events);
    body["@context"] = json!([
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        Value::Object(terms)
    ]);
    let p = w
        .capture_with_token(&token, body.to_string().as_bytes(), "rollback")
        .await
        .problem(400, "epcis-validation");
    let violations = p["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{p}");
    assert_eq!(violations[0]["pointer"], "/epcisBody/eventList/1", "{p}");
    assert!(
        violations[0]["message"]
            .as_str()
            .unwrap()
            .contains("@context"),
        "{p}"
    );
    assert_eq!(log_size(&w).await, before);
}

#[tokio::test]
async fn an_ni_event_id_in_upper_or_mixed_case_is_replaced_by_the_hash() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let victim = "c786c3c2da21f2e69ac271d7a551335643a957b791fe8082d106be7a11200ffb";
    for (i, scheme) in ["NI", "Ni", "nI"].into_iter().enumerate() {
        let declared = format!("{scheme}:///sha-256;{victim}?ver=CBV2.0");
        let body = gs1_document(vec![gs1_event(json!({
            "epcList": [format!("urn:epc:id:sgtin:0614141.107346.{i}")],
            "eventID": declared,
        }))]);
        let job = w
            .finished(
                &w.capture_with_token(&token, body.to_string().as_bytes(), "rollback")
                    .await,
            )
            .await;
        assert_eq!(job["success"], true, "{job}");
        let id = job["events"][0]["eventID"].as_str().unwrap().to_owned();
        assert!(
            id.starts_with("ni:///sha-256;") && !id.contains(victim),
            "{job}"
        );
        let warning = job["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["type"] == "https://oretrace.org/problems/event-id-mismatch")
            .unwrap_or_else(|| panic!("no mismatch warning: {job}"));
        assert_eq!(warning["eventID"], id.as_str());
        let logged = w
            .get(&format!(
                "/events/{}",
                oretrace_epcis_map::percent_encode(&id)
            ))
            .await;
        assert_eq!(logged.status, StatusCode::OK, "{}", logged.text());
        assert_eq!(
            logged.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["eventID"],
            id.as_str()
        );
    }
}

#[tokio::test]
async fn a_capture_whose_request_is_gone_holds_its_slot_until_its_work_ends() {
    let operator = key("operator/1", 1);
    let (first, second) = (key("fwo/1", 2), key("fwo/2", 4));
    let store = Gated::default();
    let (held_key, held) = (store.hooks().held_key.clone(), store.hooks().held.clone());
    let ledger = Arc::new(
        Ledger::start(
            store,
            key("registry.example/log", 9),
            operator.verifier(),
            LedgerConfig::default(),
        )
        .unwrap(),
    );
    ledger
        .submit(signed(
            party("fwo", &[&first, &second], "2025-09-01T00:00:00Z"),
            &[&first, &second, &operator],
        ))
        .await
        .unwrap();
    let w = Arc::new(World {
        app: router(ledger.clone(), ServerConfig::default()).unwrap(),
        ledger,
        fwo: first,
        ussm: second,
    });
    let (token, held_token) = (w.token(&w.fwo).await, w.token(&w.ussm).await);
    let body = gs1_document(vec![gs1_event(
        json!({"epcList": ["urn:epc:id:sgtin:0614141.107346.1"]}),
    )])
    .to_string()
    .into_bytes();
    // Two captures take the party's slots; once their bodies are read,
    // their work waits (on the second key's lookup), and their requests
    // are dropped.
    let mut requests = Vec::new();
    let mut releases = Vec::new();
    for _ in 0..oretrace_server::epcis::SLOTS_PER_PARTY {
        let (polled_tx, polled_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel();
        let request = Request::post("/capture")
            .header(header::AUTHORIZATION, format!("Bearer {held_token}"))
            .body(held_body(body.clone(), polled_tx, release_rx))
            .unwrap();
        let world = w.clone();
        requests.push(tokio::spawn(async move { world.call(request).await }));
        polled_rx.await.unwrap();
        releases.push(release_tx);
    }
    // Opened again however the test ends: the runtime waits for the work.
    struct Open(Arc<std::sync::Mutex<Option<String>>>);
    impl Drop for Open {
        fn drop(&mut self) {
            *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
    }
    let _open = Open(held_key.clone());
    *held_key.lock().unwrap() = Some("fwo/2".into());
    for release in releases {
        release.send(()).unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while held.load(std::sync::atomic::Ordering::SeqCst) < oretrace_server::epcis::SLOTS_PER_PARTY {
        assert!(
            std::time::Instant::now() < deadline,
            "the work never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for request in requests {
        request.abort();
        assert!(request.await.is_err_and(|e| e.is_cancelled()));
    }
    // Their work has not ended: the party's slots are still taken.
    let p = w
        .capture_with_token(&token, &body, "rollback")
        .await
        .problem(429, "quota-exceeded");
    assert_eq!(p["limit"], oretrace_server::epcis::SLOTS_PER_PARTY);
    // Once it ends (it stops: nobody waits for it), they are free again.
    *held_key.lock().unwrap() = None;
    loop {
        let answer = w.capture_with_token(&token, &body, "rollback").await;
        if answer.status == StatusCode::ACCEPTED {
            assert_eq!(w.finished(&answer).await["success"], true);
            break;
        }
        answer.problem(429, "quota-exceeded");
        assert!(
            std::time::Instant::now() < deadline,
            "the slots were never given back"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The abandoned work wrote nothing: one event in the log, the last one.
    let found = w.get("/events?eventType=ObjectEvent").await.json();
    let events = found["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events, 1, "{found}");
}

/// A problem body repeats a client's value at most once and briefly: a
/// large hostile key, or a long unknown parameter name, gets a small answer
/// (not the input several times over, escaped).
#[tokio::test]
async fn a_large_hostile_value_gets_a_small_problem_body() {
    const SMALL: usize = 8 * 1024;
    let w = world().await;
    // 240 KB of U+0378 (two bytes each in UTF-8) as the key to challenge.
    let key = "\u{378}".repeat(120_000);
    let answer = w.post_json("/auth/challenge", &json!({ "key": key })).await;
    let p = answer.problem(400, "bad-request");
    assert!(
        answer.body.len() < SMALL,
        "{} bytes: {p}",
        answer.body.len()
    );
    // A 24 KB parameter name (percent-encoded U+0378) on every list and on
    // /events, named (bounded) in the answer.
    let name = "%CD%B8".repeat(4_000);
    for list in ["parties", "sites", "lots"] {
        let answer = w.get(&format!("/{list}?{name}=1")).await;
        let p = answer.problem(400, "invalid-request");
        assert!(
            answer.body.len() < SMALL,
            "{} bytes: {p}",
            answer.body.len()
        );
        let field = p["field"].as_str().unwrap();
        assert!(
            field.starts_with("\u{378}\u{378}") && field.ends_with('…'),
            "{p}"
        );
    }
    let answer = w.get(&format!("/events?{name}=1")).await;
    let p = answer.problem(400, "query-parameter");
    assert!(
        answer.body.len() < SMALL,
        "{} bytes: {p}",
        answer.body.len()
    );
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("query: unknown query parameter `\u{378}"),
        "{p}"
    );
}

#[tokio::test]
async fn a_document_over_the_node_or_nesting_bounds_is_refused_as_it_is_read() {
    let w = world().await;
    let token = w.token(&w.fwo).await;
    let before = log_size(&w).await;
    // Small nested objects: a few bytes of JSON each, hundreds of bytes
    // each once parsed.
    let heavy = |i: usize, items: usize| {
        let h: Vec<Value> = (0..items)
            .map(|j| json!({format!("ex:k{j}"): {"ex:m": [1, 2, 3, {"ex:n": "w"}]}}))
            .collect();
        gs1_event(json!({
            "epcList": [format!("urn:epc:id:sgtin:0614141.107346.{i}")],
            "ex:h": h,
        }))
    };
    let context = json!([
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        {"ex": "https://example.org/ex/"}
    ]);
    let with_ex = |events: Vec<Value>| {
        let mut body = gs1_document(events);
        body["@context"] = context.clone();
        body
    };
    // The finding: 1,500 events of 400 such objects each (3,200 values an
    // event, 4.8 million in all, 25 MB as compact JSON; 2.75 GB once parsed and
    // worked on). Refused at the document's node bound as it is read:
    // nothing else is done. (Written as text: parsed here, it would take
    // the memory the bound saves.)
    let events: Vec<String> = (0..1500).map(|i| heavy(i, 400).to_string()).collect();
    let text = format!(
        r#"{{"@context":{context},"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-26T00:00:00Z","epcisBody":{{"eventList":[{}]}}}}"#,
        events.join(",")
    );
    drop(events);
    assert!(text.len() > 25_000_000, "{}", text.len());
    let started = std::time::Instant::now();
    let p = w
        .capture_with_token(&token, text.as_bytes(), "rollback")
        .await
        .problem(400, "epcis-validation");
    drop(text);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let violations = p["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{p}");
    assert_eq!(violations[0]["pointer"], "", "{p}");
    assert!(
        violations[0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1000000 (capture document node bound)"),
        "{p}"
    );
    // One event of 700 such objects (5,600 values, 31 kB: within a log
    // entry's size) is named, before any event is worked on.
    let body = with_ex(vec![heavy(0, 2), heavy(1, 700), heavy(2, 2)]);
    let p = w
        .capture_with_token(&token, body.to_string().as_bytes(), "rollback")
        .await
        .problem(400, "epcis-validation");
    let violations = p["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{p}");
    assert_eq!(violations[0]["pointer"], "/epcisBody/eventList/1", "{p}");
    assert!(
        violations[0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 5000 (capture event node bound)"),
        "{p}"
    );
    // Nesting deeper than the bound (well within serde_json's own limit).
    let mut deep = json!("w");
    for _ in 0..40 {
        deep = json!({"ex:d": deep});
    }
    let body = with_ex(vec![gs1_event(json!({"ex:d": deep}))]);
    let p = w
        .capture_with_token(&token, body.to_string().as_bytes(), "rollback")
        .await
        .problem(400, "epcis-validation");
    assert!(
        p["violations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 32 (capture nesting bound)"),
        "{p}"
    );
    // POST /events: its body is one event, held to the event bound.
    let mut event = heavy(0, 700);
    event["@context"] = context.clone();
    let single = w
        .call(
            Request::post("/events")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(event.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(single.status, StatusCode::BAD_REQUEST, "{}", single.text());
    assert!(
        single.text().contains("capture event node bound"),
        "{}",
        single.text()
    );
    // Nothing of any of them was written.
    assert_eq!(log_size(&w).await, before);
    // A normal document, with events well under the bound, still passes.
    let mut events: Vec<Value> = (0..50)
        .map(|i| gs1_event(json!({"epcList": [format!("urn:epc:id:sgtin:0614141.107346.n{i}")]})))
        .collect();
    events.extend((0..50).map(|i| heavy(1000 + i, 20)));
    let body = with_ex(events);
    let job = w
        .finished(
            &w.capture_with_token(&token, body.to_string().as_bytes(), "rollback")
                .await,
        )
        .await;
    assert_eq!(job["success"], true, "{}", job["errors"]);
    assert!(log_size(&w).await >= before + 100);
}
