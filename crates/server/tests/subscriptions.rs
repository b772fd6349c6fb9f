//! EPCIS subscriptions end to end: a registry in-process, receivers on
//! loopback that fail, answer 413 and recover; signed deliveries checked
//! with the registry's public key; the same batch and `jti` after a
//! failure and after a restart; pause and resume; who may see and end a
//! subscription; what is refused, with nothing stored.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::jose::{CredentialKey, check_delivery_hmac};
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::Store;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::{MemoryPlace, MemoryStore};
use oretrace_server::{ServerConfig, router_with_credential};
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

fn party(id: &str, key: &NoteSigner) -> Value {
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company",
           "country": "PK", "keys": [key.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z",
           "figures": "illustrative"})
}

fn lot(n: u32) -> Value {
    json!({"kind": "lot", "id": format!("urn:oretrace:lot:fwo:sb-{n:04}"), "commodity": "antimony",
           "form": "sample", "site": "fwo-chitral", "wet_mass": {"value": "25", "unit": "kg"},
           "moisture_percent": "4", "time": "2025-09-02T00:00:00Z", "figures": "illustrative"})
}

/// What a receiver got: the headers and body of each request.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// The statuses to answer, in turn; 200 once they run out.
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start(answers: &[u16]) -> (Receiver, String) {
        let r = Receiver::default();
        r.answers.lock().unwrap().extend(answers);
        let app = Router::new().route(
            "/hook",
            axum::routing::post({
                let r = r.clone();
                move |headers: HeaderMap, body: Bytes| {
                    let r = r.clone();
                    async move {
                        r.got.lock().unwrap().push((headers, body));
                        let status = r.answers.lock().unwrap().pop_front().unwrap_or(200);
                        StatusCode::from_u16(status).unwrap()
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, url)
    }

    fn got(&self) -> Vec<(HeaderMap, Bytes)> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<(HeaderMap, Bytes)> {
        for _ in 0..600 {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{} requests arrived, not {n}", self.got().len());
    }
}

struct World {
    ledger: Arc<Ledger<MemoryStore>>,
    app: Router,
    fwo: NoteSigner,
    ussm: NoteSigner,
    credential: CredentialKey,
}

fn config() -> ServerConfig {
    ServerConfig {
        subscription_loopback: true,
        subscription_retry: Duration::from_millis(2),
        ..ServerConfig::default()
    }
}

fn operator() -> NoteSigner {
    key("operator/1", 1)
}

fn log_key() -> NoteSigner {
    key("registry.example/log", 9)
}

async fn world_at(place: &MemoryPlace, fresh: bool) -> World {
    world_with(place, fresh, true).await
}

async fn world_with(place: &MemoryPlace, fresh: bool, signs: bool) -> World {
    let (fwo, ussm) = (key("fwo/1", 2), key("ussm/1", 3));
    let ledger = Arc::new(
        Ledger::start(
            MemoryStore::open_at(place).unwrap(),
            log_key(),
            operator().verifier(),
            LedgerConfig::default(),
        )
        .unwrap(),
    );
    if fresh {
        let operator = operator();
        for record in [
            signed(party("fwo", &fwo), &[&fwo, &operator]),
            signed(party("ussm", &ussm), &[&ussm, &operator]),
            signed(
                json!({"kind": "site", "id": "fwo-chitral", "name": "Chitral", "site_kind": "mine",
                       "operator": "fwo", "country": "PK", "location": {"lat": "35.85", "lon": "71.78"},
                       "approximate": true, "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
                &[&fwo],
            ),
        ] {
            ledger.submit(record).await.unwrap();
        }
    }
    let credential = CredentialKey::from_seed([5; 32]);
    let app = router_with_credential(ledger.clone(), config(), signs.then(|| credential.clone()))
        .unwrap();
    World {
        ledger,
        app,
        fwo,
        ussm,
        credential,
    }
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
}

fn signature_line(signer: &NoteSigner, text: &str) -> String {
    let note = String::from_utf8(signer.sign(text).unwrap().to_bytes()).unwrap();
    let line = note.lines().last().unwrap();
    line.trim_start_matches('\u{2014}').trim().to_owned()
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

    async fn token(&self, signer: &NoteSigner) -> String {
        let key = format!("{}+{:08x}", signer.name(), signer.verifier().key_id());
        let challenge = self
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
        let answer = self
            .call(
                Request::post("/auth/token")
                    .body(Body::from(
                        json!({"challenge": challenge, "signature": signature_line(signer, &challenge)})
                            .to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        answer.json()["access_token"].as_str().unwrap().to_owned()
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = body.map_or(Body::empty(), |b| Body::from(b.to_string()));
        self.call(request.body(body).unwrap()).await
    }

    async fn lots(&self, numbers: std::ops::Range<u32>) {
        for n in numbers {
            self.ledger
                .submit(signed(lot(n), &[&self.fwo]))
                .await
                .unwrap();
        }
    }
}

/// The events of a delivery body, by `eventID`.
fn delivered_ids(body: &[u8]) -> Vec<String> {
    let doc: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(doc["type"], "EPCISQueryDocument");
    doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventID"].as_str().unwrap().to_owned())
        .collect()
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers.get(name).unwrap().to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_delivers_signed_batches_retries_the_same_batch_and_halves_on_413() {
    let place = MemoryPlace::default();
    let w = world_at(&place, true).await;
    let ussm = w.token(&w.ussm).await;
    let define = json!({"name": "fwo-lots", "query": {"eventType": ["ObjectEvent"], "EQ_bizStep": ["commissioning"]}});
    assert_eq!(
        w.send("POST", "/queries", Some(&ussm), Some(define))
            .await
            .status,
        StatusCode::CREATED
    );
    // A 500, then a 413 to the batch of three, then success.
    let (receiver, url) = Receiver::start(&[500, 413]).await;
    let created = w
        .send(
            "POST",
            "/queries/fwo-lots/subscriptions",
            Some(&ussm),
            Some(json!({"dest": url, "stream": true, "signatureToken": "shared-secret"})),
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let sub = created.json();
    let id = sub["subscriptionID"].as_str().unwrap().to_owned();
    assert_eq!(
        created.headers.get(header::LOCATION).unwrap(),
        &format!("/queries/fwo-lots/subscriptions/{id}")
    );
    assert!(sub.get("signatureToken").is_none() && sub["stream"] == true);

    w.lots(0..3).await;
    // 1: 500; 2: the same batch, same jti: 413; 3: one event; 4, 5: the rest.
    let got = receiver.wait_for(5).await;
    let jwks = [w.credential.public().clone()];
    for (headers, body) in &got {
        let claims = oretrace_domain::jose::verify_detached_with(
            &jwks,
            header(headers, "GS1-Signature"),
            body,
        )
        .unwrap();
        assert_eq!(claims["typ"], "epcis-delivery+jws");
        assert_eq!(claims["sub"], id.as_str());
        assert_eq!(claims["iss"], w.ledger.origin());
        let jti = header(headers, "Idempotency-Key");
        assert_eq!(claims["jti"], jti);
        assert!(check_delivery_hmac(
            b"shared-secret",
            jti,
            body,
            header(headers, "GS1-Signature-HMAC")
        ));
        // Another body under the same signature does not verify.
        let mut forged = body.to_vec();
        forged.push(b' ');
        assert!(
            oretrace_domain::jose::verify_detached_with(
                &jwks,
                header(headers, "GS1-Signature"),
                &forged
            )
            .is_err()
        );
        let doc: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            doc["epcisBody"]["queryResults"]["subscriptionID"],
            id.as_str()
        );
        assert_eq!(doc["epcisBody"]["queryResults"]["queryName"], "fwo-lots");
    }
    assert_eq!(
        header(&got[0].0, "Idempotency-Key"),
        header(&got[1].0, "Idempotency-Key")
    );
    assert_eq!(
        delivered_ids(&got[0].1),
        delivered_ids(&got[1].1),
        "a retry sends the same events"
    );
    assert_eq!(delivered_ids(&got[1].1).len(), 3);
    let mut after: Vec<String> = Vec::new();
    for (headers, body) in &got[2..] {
        assert_ne!(
            header(headers, "Idempotency-Key"),
            header(&got[1].0, "Idempotency-Key")
        );
        let ids = delivered_ids(body);
        assert_eq!(
            ids.len(),
            1,
            "after a 413 the batch is halved and stays small"
        );
        after.extend(ids);
    }
    assert_eq!(
        after,
        delivered_ids(&got[1].1),
        "each event once, in log order"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.got().len(),
        5,
        "nothing delivered twice once acknowledged"
    );
    let state = w
        .send(
            "GET",
            &format!("/queries/fwo-lots/subscriptions/{id}"),
            Some(&ussm),
            None,
        )
        .await
        .json();
    assert_eq!(state["state"], "active");
    assert_eq!(state["eventsDelivered"], 3);
    assert!(state["lastNotifiedAt"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_is_backed_off_then_paused_and_resumed_by_its_owner() {
    let place = MemoryPlace::default();
    let w = world_at(&place, true).await;
    let ussm = w.token(&w.ussm).await;
    let define = json!({"name": "all", "query": {"eventType": ["ObjectEvent"]}});
    assert_eq!(
        w.send("POST", "/queries", Some(&ussm), Some(define))
            .await
            .status,
        StatusCode::CREATED
    );
    let (receiver, url) = Receiver::start(&[503; 10]).await;
    let id = w
        .send(
            "POST",
            "/queries/all/subscriptions",
            Some(&ussm),
            Some(json!({"dest": url, "stream": true})),
        )
        .await
        .json()["subscriptionID"]
        .as_str()
        .unwrap()
        .to_owned();
    w.lots(0..1).await;
    let path = format!("/queries/all/subscriptions/{id}");
    let mut state = Value::Null;
    for _ in 0..600 {
        state = w.send("GET", &path, Some(&ussm), None).await.json();
        if state["state"] == "paused" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state["state"], "paused", "{state:#}");
    assert_eq!(state["failures"], 10);
    assert!(
        state["lastError"].as_str().unwrap().contains("503"),
        "{state:#}"
    );
    assert!(state.get("nextAttemptAt").is_none());
    let jtis: Vec<String> = receiver
        .got()
        .iter()
        .map(|(h, _)| header(h, "Idempotency-Key").to_owned())
        .collect();
    assert_eq!(jtis.len(), 10);
    assert!(
        jtis.iter().all(|j| *j == jtis[0]),
        "every retry is the same delivery"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.got().len(),
        10,
        "a paused subscription is not tried"
    );

    // Another party can neither see nor resume it.
    let fwo = w.token(&w.fwo).await;
    assert_eq!(
        w.send("GET", &path, Some(&fwo), None).await.status,
        StatusCode::NOT_FOUND
    );
    let other = w
        .send("POST", &format!("{path}/resume"), Some(&fwo), None)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.json()["type"],
        "epcisException:NoSuchSubscriptionException"
    );
    // Its owner resumes it: the receiver now answers 200.
    let resumed = w
        .send("POST", &format!("{path}/resume"), Some(&ussm), None)
        .await;
    assert_eq!(resumed.status, StatusCode::OK);
    let got = receiver.wait_for(11).await;
    assert_eq!(header(&got[10].0, "Idempotency-Key"), jtis[0]);
    for _ in 0..100 {
        state = w.send("GET", &path, Some(&ussm), None).await.json();
        if state["failures"] == 0 && state["deliveries"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        (state["state"].as_str(), &state["deliveries"]),
        (Some("active"), &json!(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_stored_before_a_restart_is_sent_again_with_its_jti() {
    let place = MemoryPlace::default();
    let (receiver, url) = Receiver::start(&[500; 100]).await;
    let first_jti = {
        let w = world_at(&place, true).await;
        let ussm = w.token(&w.ussm).await;
        let define = json!({"name": "all", "query": {"eventType": ["ObjectEvent"]}});
        w.send("POST", "/queries", Some(&ussm), Some(define)).await;
        let created = w
            .send(
                "POST",
                "/queries/all/subscriptions",
                Some(&ussm),
                Some(json!({"dest": url, "stream": true})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        w.lots(0..2).await;
        let got = receiver.wait_for(1).await;
        header(&got[0].0, "Idempotency-Key").to_owned()
    };
    // The registry stops (its ledger dropped; the delivery task ends with
    // it) and starts again over the same store, the receiver now well.
    tokio::time::sleep(Duration::from_millis(200)).await;
    receiver.answers.lock().unwrap().clear();
    let before = receiver.got().len();
    let w = world_at(&place, false).await;
    let got = receiver.wait_for(before + 1).await;
    let (headers, body) = got.last().unwrap();
    assert_eq!(header(headers, "Idempotency-Key"), first_jti);
    assert_eq!(delivered_ids(body).len(), 2);
    drop(w);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_subscriptions_are_refused_with_nothing_stored_and_only_owners_see_theirs() {
    let place = MemoryPlace::default();
    let w = world_at(&place, true).await;
    let (ussm, fwo) = (w.token(&w.ussm).await, w.token(&w.fwo).await);
    let define = json!({"name": "q", "query": {"eventType": ["ObjectEvent"]}});
    assert_eq!(
        w.send("POST", "/queries", Some(&fwo), Some(define))
            .await
            .status,
        StatusCode::CREATED
    );
    let no_token = w
        .send(
            "POST",
            "/queries/q/subscriptions",
            None,
            Some(json!({"dest": "https://x.example/", "stream": true})),
        )
        .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    for (body, why) in [
        (json!({"dest": "ftp://x.example/", "stream": true}), "https"),
        (
            json!({"dest": "http://x.example/", "stream": true}),
            "loopback",
        ),
        (
            json!({"dest": "https://10.1.2.3/", "stream": true}),
            "public",
        ),
        (json!({"dest": "https://x.example/"}), "stream: true, or"),
        (
            json!({"dest": "https://x.example/", "schedule": {"minute": "[5-2]"}}),
            "schedule.minute",
        ),
        (
            json!({"dest": "https://x.example/", "schedule": {"second": "1,2"}}),
            "schedule.second",
        ),
        (
            json!({"dest": "https://x.example/", "stream": true, "extra": 1}),
            "extra",
        ),
        (json!({"dest": 7, "stream": true}), "dest"),
        (
            json!({"dest": "https://x.example/", "stream": true, "signatureToken": ""}),
            "signatureToken",
        ),
        (
            json!({"dest": "https://x.example/", "schedule": {"month": "2", "dayOfMonth": "31"}}),
            "never fires",
        ),
    ] {
        let answer = w
            .send(
                "POST",
                "/queries/q/subscriptions",
                Some(&ussm),
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        let problem = answer.json();
        assert_eq!(
            problem["type"], "epcisException:SubscriptionControlsException",
            "{body}"
        );
        assert!(
            problem["detail"].as_str().unwrap().contains(why),
            "{body}: {problem}"
        );
    }
    let listed = w
        .send("GET", "/queries/q/subscriptions", Some(&ussm), None)
        .await;
    assert_eq!(listed.json(), json!([]), "nothing stored");
    let missing = w
        .send(
            "POST",
            "/queries/nope/subscriptions",
            Some(&ussm),
            Some(json!({"dest": "https://x.example/", "stream": true})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // The quota: 16 per party.
    let mut ids = Vec::new();
    for i in 0..16 {
        let answer = w
            .send(
                "POST",
                "/queries/q/subscriptions",
                Some(&ussm),
                Some(json!({"dest": format!("https://buyer.example/{i}"), "schedule": {"hour": "1", "minute": "5"}})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED);
        let made = answer.json();
        // A schedule is first due at its first firing (01:05 UTC), not at
        // once.
        let (created, due) = (
            made["createdAt"].as_str().unwrap(),
            made["nextAttemptAt"].as_str().unwrap(),
        );
        assert!(due > created && due.contains("T01:05:00"), "{made}");
        ids.push(made["subscriptionID"].as_str().unwrap().to_owned());
    }
    let over = w
        .send(
            "POST",
            "/queries/q/subscriptions",
            Some(&ussm),
            Some(json!({"dest": "https://buyer.example/x", "stream": true})),
        )
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
    assert!(over.json()["detail"].as_str().unwrap().contains("16"));
    // Each party lists its own.
    let mine = w
        .send(
            "GET",
            "/queries/q/subscriptions?perPage=1000",
            Some(&ussm),
            None,
        )
        .await
        .json();
    assert_eq!(mine.as_array().unwrap().len(), 16);
    assert!(mine[0]["schedule"]["hour"] == "1" && mine[0].get("stream").is_none());
    let theirs = w
        .send("GET", "/queries/q/subscriptions", Some(&fwo), None)
        .await
        .json();
    assert_eq!(theirs, json!([]));
    let path = format!("/queries/q/subscriptions/{}", ids[0]);
    assert_eq!(
        w.send("GET", &path, Some(&fwo), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.send("DELETE", &path, Some(&fwo), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.send("GET", &path, None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The query's owner cannot delete it under another party's subscriptions.
    let refused = w.send("DELETE", "/queries/q", Some(&fwo), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("16 subscriptions")
    );
    for id in &ids {
        let path = format!("/queries/q/subscriptions/{id}");
        assert_eq!(
            w.send("DELETE", &path, Some(&ussm), None).await.status,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        w.send("DELETE", "/queries/q", Some(&fwo), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(w.ledger.store().named_query("q").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_credential_key_no_subscription_is_taken() {
    let w = world_with(&MemoryPlace::default(), true, false).await;
    let ussm = w.token(&w.ussm).await;
    let define = json!({"name": "q", "query": {"eventType": ["ObjectEvent"]}});
    assert_eq!(
        w.send("POST", "/queries", Some(&ussm), Some(define))
            .await
            .status,
        StatusCode::CREATED
    );
    let answer = w
        .send(
            "POST",
            "/queries/q/subscriptions",
            Some(&ussm),
            Some(json!({"dest": "https://x.example/", "stream": true})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(
        answer.json()["type"],
        "epcisException:ImplementationException"
    );
    assert!(
        w.ledger
            .store()
            .subscriptions("ussm", None, 10)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_streams_the_query_while_it_is_open() {
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

    let w = world_at(&MemoryPlace::default(), true).await;
    let ussm = w.token(&w.ussm).await;
    let define = json!({"name": "all", "query": {"eventType": ["ObjectEvent"]}});
    assert_eq!(
        w.send("POST", "/queries", Some(&ussm), Some(define))
            .await
            .status,
        StatusCode::CREATED
    );
    // Without Upgrade, the subscription parameters are refused by name.
    let plain = w
        .send("GET", "/queries/all/events?stream=true", Some(&ussm), None)
        .await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        plain.json()["type"],
        "epcisException:SubscriptionControlsException"
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, w.app.clone()).into_future());
    let connect = |token: Option<&str>, query: &str| {
        let mut request = format!("ws://{address}/queries/all/events?{query}")
            .into_client_request()
            .unwrap();
        if let Some(t) = token {
            request
                .headers_mut()
                .insert("Authorization", format!("Bearer {t}").parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    // No token, no socket.
    let refused = connect(None, "stream=true").await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");
    let (mut socket, response) = connect(Some(&ussm), "stream=true").await.unwrap();
    assert!(response.headers().contains_key("GS1-Query-Min-Record-Time"));

    w.lots(0..2).await;
    let mut ids = Vec::new();
    while ids.len() < 2 {
        let frame = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a frame within 20 s")
            .unwrap()
            .unwrap();
        let Message::Text(text) = frame else {
            continue;
        };
        let doc: Value = serde_json::from_str(text.as_str()).unwrap();
        assert!(
            doc["epcisBody"]["queryResults"]["subscriptionID"]
                .as_str()
                .unwrap()
                .starts_with("ws-")
        );
        ids.extend(delivered_ids(text.as_bytes()));
    }
    assert_eq!(ids.len(), 2);

    // Four sockets a party: three more open, the fifth is refused.
    let mut more = Vec::new();
    for _ in 0..3 {
        more.push(connect(Some(&ussm), "stream=true").await.unwrap().0);
    }
    let fifth = connect(Some(&ussm), "stream=true").await.unwrap_err();
    assert!(fifth.to_string().contains("400"), "{fifth}");
    // A closed socket frees its place.
    let mut first = more.pop().unwrap();
    first.close(None).await.unwrap();
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        if let Ok((s, _)) = connect(Some(&ussm), "stream=true").await {
            again = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "a closed socket's place is given back");
    let bad = connect(Some(&ussm), "stream=true&dest=https%3A%2F%2Fx.example%2F")
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("400"), "{bad}");
}
