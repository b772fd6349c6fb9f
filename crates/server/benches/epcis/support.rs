//! The events, the keys, the ledger and the server, and timing helpers shared by the sections.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::event::document_note;
use oretrace_domain::values::Digest;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_server::{ServerConfig, router};
use oretrace_store_sqlite::SqliteStore;
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// Business locations (each carried by 0.1 % of the events).
pub(crate) const LOCATIONS: u64 = 1_000;

/// Events per lot.
pub(crate) const EVENTS_PER_LOT: u64 = 100;

/// Common business steps (the rest, 0.1 %, is `sampling`).
pub(crate) const STEPS: [&str; 4] = ["sensor_reporting", "storing", "inspecting", "loading"];

/// The owning party every event names in its `sourceList`.
pub(crate) const OWNER: &str = "urn:epc:id:pgln:0614141.00001";

/// The first event's time (2000-01-01T00:00:00Z); events are a minute apart,
/// so the capture document's (from event 10,000,000) fall in 2019: the
/// registry refuses events dated in the future.
pub(crate) const EPOCH_SECS: i64 = 946_684_800;

pub(crate) fn location(loc: u64) -> String {
    format!("urn:epc:id:sgln:0614141.{:05}.0", loc + 1)
}

pub(crate) fn lot_class(lot: u64) -> String {
    format!("urn:epc:class:lgtin:0614141.012345.LOT-{lot:06}")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of milliseconds since the epoch.
pub(crate) fn iso_millis(ms: i64) -> String {
    oretrace_epcis::format_timestamp_millis(ms).expect("benchmark times are in years 1-9999")
}

pub(crate) fn event_millis(g: u64) -> i64 {
    (EPOCH_SECS + 60 * g as i64) * 1000 + (g % 1000) as i64
}

pub(crate) fn step_of(g: u64) -> &'static str {
    if g % 1000 == 3 {
        "sampling"
    } else {
        STEPS[(g % 4) as usize]
    }
}

pub(crate) fn location_of(g: u64) -> u64 {
    (g / 7) % LOCATIONS
}

pub(crate) fn lot_of(g: u64, lots: u64) -> u64 {
    g % lots
}

/// Event number `g` of a store with `lots` lots.
pub(crate) fn event(g: u64, lots: u64) -> Value {
    let ms = event_millis(g);
    let loc = location_of(g);
    json!({
        "type": "ObjectEvent",
        "eventTime": iso_millis(ms),
        "eventTimeZoneOffset": "+05:00",
        "action": "OBSERVE",
        "bizStep": step_of(g),
        "disposition": "in_progress",
        "readPoint": {"id": format!("urn:epc:id:sgln:0614141.{:05}.{}", loc + 1, g % 3 + 1)},
        "bizLocation": {"id": location(loc)},
        "quantityList": [{
            "epcClass": lot_class(lot_of(g, lots)),
            "quantity": 1000 + (g % 9000) as i64,
            "uom": "KGM"
        }],
        "sourceList": [
            {"type": "owning_party", "source": OWNER},
            {"type": "location", "source": location((loc + 17) % LOCATIONS)}
        ],
        "destinationList": [
            {"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00002"},
            {"type": "location", "destination": location((loc + 1) % LOCATIONS)}
        ],
        "sensorElementList": [{
            "sensorMetadata": {
                "time": iso_millis(ms - 30_000),
                "deviceID": format!("urn:epc:id:giai:0614141.{}", 100 + g % 50),
            },
            "sensorReport": [
                {"type": "Temperature", "value": 15 + (g % 200) as i64 / 10, "uom": "CEL"},
                {"type": "RelativeHumidity", "value": 30 + (g % 500) as i64 / 10, "uom": "P1"}
            ]
        }]
    })
}

/// The document of events `first..first + n`, serialised.
pub(crate) fn document(first: u64, n: usize, lots: u64) -> Vec<u8> {
    let events: Vec<Value> = (first..first + n as u64).map(|g| event(g, lots)).collect();
    let doc = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-26T00:00:00.000Z",
        "epcisBody": {"eventList": events},
    });
    serde_json::to_vec(&doc).expect("encoding a document")
}

pub(crate) const PARTY: &str = "bench-mining";

pub(crate) struct Keys {
    operator: NoteSigner,
    pub(crate) log_key: NoteSigner,
    pub(crate) party_key: NoteSigner,
    party: SignedRecord,
}

pub(crate) fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).expect("a valid key name")
}

/// The log key (one per ledger: a signer is not `Clone`).
pub(crate) fn log_key() -> NoteSigner {
    key("oretrace.bench/ledger", 2)
}

pub(crate) fn keys() -> Keys {
    let operator = key("registry/operator", 1);
    let log_key = log_key();
    let party_key = key("bench-mining/k1", 3);
    let party = json!({"kind": "party", "id": PARTY, "name": "Bench Mining", "party_kind": "company",
        "country": "PK", "keys": [party_key.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z",
        "figures": "illustrative"});
    let record = RecordJson::parse(party.to_string().as_bytes()).expect("a valid record");
    let party = SignedRecord::sign(record, &[&party_key, &operator]).expect("signing");
    Keys {
        operator,
        log_key,
        party_key,
        party,
    }
}

pub(crate) type BenchLedger = Arc<Ledger<SqliteStore>>;

/// A ledger on a fresh store in `dir`, holding the party, and its router.
pub(crate) fn start(dir: &Path, keys: &Keys) -> (BenchLedger, Router) {
    open(dir, keys, true)
}

/// A ledger on the store in `dir` (registering the party first if
/// `register`), and its router.
pub(crate) fn open(dir: &Path, keys: &Keys, register: bool) -> (BenchLedger, Router) {
    let store = SqliteStore::open(dir).expect("opening the store");
    let ledger = Arc::new(
        Ledger::start(
            store,
            log_key(),
            keys.operator.verifier(),
            LedgerConfig::default(),
        )
        .expect("starting the ledger"),
    );
    if register {
        ledger
            .submit_blocking(keys.party.clone())
            .expect("registering the party");
    }
    let app = router(ledger.clone(), ServerConfig::default()).unwrap();
    (ledger, app)
}

/// The signature line a signed note over `text` would carry, without the
/// leading em dash.
pub(crate) fn signature_line(signer: &NoteSigner, text: &str) -> String {
    let note = signer.sign(text).expect("signing").to_bytes();
    let note = String::from_utf8(note).expect("a note is UTF-8");
    let line = note.lines().last().expect("a signature line");
    line.trim_start_matches('\u{2014}').trim().to_owned()
}

pub(crate) async fn call(
    app: &Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Bytes) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("the response body");
    (parts.status, parts.headers, body)
}

/// A capture ready to post: the body and its detached signature line.
pub(crate) struct Signed {
    pub(crate) body: Bytes,
    signature: String,
}

/// Signs a capture of `body` by [`PARTY`] at the bench's registry, with
/// the default error behaviour (`rollback`).
pub(crate) fn sign_document(body: Vec<u8>, signer: &NoteSigner) -> Signed {
    let note = document_note(
        log_key().name(),
        &Digest::of(&body),
        PARTY,
        oretrace_domain::event::CaptureBehaviour::Rollback,
    );
    let signature = signature_line(signer, &note);
    Signed {
        body: Bytes::from(body),
        signature,
    }
}

/// Posts a capture; returns the job's location once accepted.
pub(crate) async fn post_capture(app: &Router, doc: &Signed) -> String {
    let request = Request::post("/capture")
        .header(header::CONTENT_TYPE, "application/ld+json")
        .header("Oretrace-Signature", &doc.signature)
        .body(Body::from(doc.body.clone()))
        .expect("a request");
    let (status, headers, body) = call(app, request).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "POST /capture: {}",
        String::from_utf8_lossy(&body)
    );
    headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a job location")
        .to_owned()
}

/// Polls a capture job every 2 ms until it has finished; returns it,
/// having checked that every event was captured.
pub(crate) async fn finished(app: &Router, location: &str, events: usize) -> Value {
    loop {
        let request = Request::get(location)
            .body(Body::empty())
            .expect("a request");
        let (status, _, body) = call(app, request).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let job: Value = serde_json::from_slice(&body).expect("a job");
        if job["running"] == false {
            assert_eq!(
                job["success"],
                true,
                "capture failed: {:.2000}",
                job.to_string()
            );
            let outcomes = job["events"].as_array().expect("outcomes");
            assert_eq!(outcomes.len(), events);
            assert!(
                outcomes.iter().all(|o| o["status"] == "captured"),
                "not every event was captured"
            );
            return job;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A small deterministic generator (xorshift64*).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// Nearest-rank percentile of seconds, in milliseconds.
pub(crate) fn pct_ms(xs: &[f64], p: f64) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
    xs[rank - 1] * 1e3
}

pub(crate) fn time_async<T>(rt: &tokio::runtime::Runtime, f: impl Future<Output = T>) -> (f64, T) {
    rt.block_on(async {
        let start = Instant::now();
        let value = f.await;
        (start.elapsed().as_secs_f64(), value)
    })
}

pub(crate) fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let value = f();
    (start.elapsed().as_secs_f64(), value)
}
