//! The EPCIS 2.0 interface on the embedded SQLite store: capture of one
//! large `EPCISDocument` end to end, and queries over a large store, each
//! reported against a bound measured in the same run (the machines we run
//! on are shared and noisy, so absolute figures alone mean little).
//!
//! Every store lives in a fresh temporary directory on a real disk (WAL
//! with `synchronous=FULL`: every commit waits for an fsync; the bench
//! refuses tmpfs, where an fsync is free). The parent directory is
//! `ORETRACE_BENCH_DIR` if set, else the system temp directory.
//!
//! The events are mineral-chain-like `ObjectEvent`s, each distinct:
//! action `OBSERVE`, a `bizStep` (a quarter each of `sensor_reporting`,
//! `storing`, `inspecting`, `loading`, less 0.1 % `sampling`), one of
//! 1,000 business locations (0.1 % of the events each) with a read point
//! inside it, a `quantityList` naming one lot as an LGTIN class (100
//! events per lot), a `sourceList` (the owning party, the same for all,
//! and a location), a `destinationList`, and a `sensorElementList` with a
//! temperature and a humidity report; no `eventID` (the server populates
//! it). Event times are one minute apart, increasing with the log index.
//! None names a registered lot and none uses the registry's namespace, so
//! no custody rule applies: each event is one log entry and one row of the
//! query index. The capturing party is registered first; documents carry
//! a detached signature (`Oretrace-Signature`, over the note naming the
//! registry, the body's SHA-256, the party and the `rollback` behaviour)
//! made before timing: signing is the client's cost.
//!
//! # Capture
//!
//! `capture (HTTP, in-process)`: `POST /capture` through
//! `oretrace_server::router` (tower `oneshot`, on a two-worker tokio
//! runtime as the server runs), then `GET /capture/{id}` every 2 ms until
//! the job has finished; the time is from the request to the finished job
//! (the 202 alone is printed too). That is: reading the body, checking the
//! signature, parsing, schema validation, CBV 2.0 hashing (the document,
//! then each event on its own as logged), mapping, signing every entry
//! with the log key, the ledger's checks (each entry's signature and event
//! hash again, the rules, the query terms), one durable SQLite transaction
//! with the entries, hashes, events and terms, and the checkpoint. Each
//! repetition starts from a fresh store holding only the party.
//!
//! Bounds, interleaved with it, on the same document:
//!
//! * `raw insert`: the same entries' bytes (read back from the store)
//!   into a bare table `(idx INTEGER PRIMARY KEY, entry BLOB)`, WAL,
//!   `synchronous=FULL`, in one transaction, in a fresh database;
//! * `validate`: `EpcisValidator::validate_document` on the parsed
//!   document;
//! * `hash`: `oretrace_epcis::document_event_hashes`;
//! * diagnostics: `parse` (`serde_json::from_slice` of the body) and
//!   `sign + verify` (one Ed25519 note signature and its verification per
//!   event over its entry's text, as capture does once each).
//!
//! # Query
//!
//! A store of N events (1,000,000 in the full run) is built once, by
//! capturing N / 10,000 documents of 10,000 events through the same HTTP
//! path (two documents in flight, so one is prepared while the other is
//! integrated); its build time is printed. Then, with parameters drawn
//! afresh each run (fixed seed), each query through `GET /events` (time
//! from the request to the full response body, one request at a time),
//! interleaved with:
//!
//! * `store`: the `select_events` calls the server makes for that request
//!   (512 candidates each, the cursor after the last event returned),
//!   replayed on the store: how much of the latency is the selection;
//! * `bound`: the same events (index, event id, times, event JSON) in SQL
//!   on the store's `events` / `event_terms` tables through a separate
//!   read-only rusqlite connection, by the index the selection needs: the
//!   irreducible index lookup.
//!
//! The kinds:
//!
//! * (a) `EQ_bizLocation=<one of 1,000 locations>&perPage=100`: a
//!   selective term (0.1 % of events); bound: `event_terms` by term, first
//!   100 by index, joined to `events`;
//! * (b) `MATCH_anyEPCClass=<one lot>&perPage=100`: one lot's 100 events;
//!   bound as (a);
//! * (c) `GE_eventTime=…&LT_eventTime=…&perPage=1000`: a window of 1,000
//!   events; bound: the `events_by_event_time` index range;
//! * (d) `EQ_bizStep=<a common step>&perPage=100`, following the `Link`
//!   header through 10 pages (25 % of events match); bound: 10 keyset
//!   pages of 100 on `event_terms`;
//! * (f) diagnostic: `GE_eventTime=<the last 1 % of the log>&perPage=100`
//!   ("recent events"); bound: the time index;
//! * (e) diagnostic, once and last: `EQ_bizStep=sampling` (0.1 %) with
//!   `EQ_source_owning_party=<the party every event names>`, first page;
//!   the server's candidate loop is first replayed on the store (it may
//!   take longer than the server's request timeout, after which the
//!   request is answered 503 and the handler runs on in the background).
//!
//! Each server answer is checked against its bound (the same event ids).
//! Then a table of single store selections (`select_events` as the server
//! asks, against SQL by the needed index) and the plans SQLite picks for
//! the server's statements, with representative values bound.
//!
//! Why not criterion: a capture is stateful (an event is captured once),
//! takes seconds, and the query store takes minutes to build; what matters
//! is the latency distribution of queries with varying parameters. So this
//! is a plain `Instant` measurement with printed tables, medians of
//! interleaved repetitions (`oretrace_benchkit`).
//!
//! Quick mode (`cargo bench ... -- --test`, `cargo test --benches`,
//! nextest, or `ORETRACE_BENCH_QUICK=1`): a 200-event capture, a
//! 1,500-event store, a few runs of each query; seconds, even unoptimised,
//! on any disk (tmpfs too: its figures are not to be quoted). To a test
//! runner (nextest) it is one test, `quick_form_with_its_checks`, so CI
//! runs its checks: each server answer against its SQL bound, every
//! captured event in the store.
//!
//! For iterating on the queries: `ORETRACE_BENCH_EPCIS_DOCS=<n>` builds a
//! store of n documents; `ORETRACE_BENCH_EPCIS_STORE=<dir>` builds it in
//! `<dir>` and keeps it, or reuses what an earlier run built there (full
//! form only).
//!
//! Run: `cargo bench -p oretrace-server --bench epcis`.

use oretrace_epcis_map::percent_encode;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::event::document_note;
use oretrace_domain::values::{Digest, Timestamp};
use oretrace_domain::wire::RecordJson;
use oretrace_epcis::query::EventQuery;
use oretrace_ledger::Store;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::store::EventSelect;
use oretrace_server::{ServerConfig, router};
use oretrace_store_sqlite::SqliteStore;
use oretrace_tlog::note::{NoteSigner, NoteVerifier, SignedNote};
use serde_json::{Value, json};
use tower::ServiceExt as _;

// ---------------------------------------------------------------------------
// Run configuration.

#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    /// Events in the capture document.
    capture_events: usize,
    /// Interleaved repetitions of the capture and its bounds.
    capture_reps: usize,
    /// Documents captured to build the query store, and events in each.
    store_docs: usize,
    doc_events: usize,
    /// Runs of each query kind.
    reps: Reps,
    /// Interleaved runs of each store-selection diagnostic.
    diag_reps: usize,
}

impl Config {
    fn get() -> Config {
        let quick = oretrace_benchkit::quick_mode();
        let mut cfg = if quick {
            Config {
                quick,
                capture_events: 200,
                capture_reps: 1,
                store_docs: 3,
                doc_events: 500,
                reps: Reps {
                    common: 4,
                    window: 4,
                    paging: 2,
                    recent: 1,
                },
                diag_reps: 1,
            }
        } else {
            Config {
                quick,
                capture_events: 10_000,
                capture_reps: 5,
                store_docs: 100,
                doc_events: 10_000,
                reps: Reps {
                    common: 200,
                    window: 60,
                    paging: 30,
                    recent: 5,
                },
                diag_reps: 5,
            }
        };
        // A smaller query store for trying things out (full form only).
        if let Some(docs) = std::env::var("ORETRACE_BENCH_EPCIS_DOCS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|_| !quick)
        {
            cfg.store_docs = docs;
        }
        cfg
    }

    fn store_events(&self) -> u64 {
        (self.store_docs * self.doc_events) as u64
    }
}

// ---------------------------------------------------------------------------
// Where the data goes: a real disk, never tmpfs.

// ---------------------------------------------------------------------------
// The events.

/// Business locations (each carried by 0.1 % of the events).
const LOCATIONS: u64 = 1_000;
/// Events per lot.
const EVENTS_PER_LOT: u64 = 100;
/// Common business steps (the rest, 0.1 %, is `sampling`).
const STEPS: [&str; 4] = ["sensor_reporting", "storing", "inspecting", "loading"];
/// The owning party every event names in its `sourceList`.
const OWNER: &str = "urn:epc:id:pgln:0614141.00001";
/// The first event's time (2024-01-01T00:00:00Z); events are a minute apart.
const EPOCH_SECS: i64 = 1_704_067_200;

fn location(loc: u64) -> String {
    format!("urn:epc:id:sgln:0614141.{:05}.0", loc + 1)
}

fn lot_class(lot: u64) -> String {
    format!("urn:epc:class:lgtin:0614141.012345.LOT-{lot:06}")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of milliseconds since the epoch.
fn iso_millis(ms: i64) -> String {
    let t = Timestamp::from_unix(ms.div_euclid(1000)).to_string();
    format!("{}.{:03}Z", t.trim_end_matches('Z'), ms.rem_euclid(1000))
}

fn event_millis(g: u64) -> i64 {
    (EPOCH_SECS + 60 * g as i64) * 1000 + (g % 1000) as i64
}

fn step_of(g: u64) -> &'static str {
    if g % 1000 == 3 {
        "sampling"
    } else {
        STEPS[(g % 4) as usize]
    }
}

fn location_of(g: u64) -> u64 {
    (g / 7) % LOCATIONS
}

fn lot_of(g: u64, lots: u64) -> u64 {
    g % lots
}

/// Event number `g` of a store with `lots` lots.
fn event(g: u64, lots: u64) -> Value {
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
fn document(first: u64, n: usize, lots: u64) -> Vec<u8> {
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

// ---------------------------------------------------------------------------
// Keys, the ledger and the server.

const PARTY: &str = "bench-mining";

struct Keys {
    operator: NoteSigner,
    log_key: NoteSigner,
    party_key: NoteSigner,
    party: SignedRecord,
}

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).expect("a valid key name")
}

/// The log key (one per ledger: a signer is not `Clone`).
fn log_key() -> NoteSigner {
    key("oretrace.bench/ledger", 2)
}

fn keys() -> Keys {
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

type BenchLedger = Arc<Ledger<SqliteStore>>;

/// A ledger on a fresh store in `dir`, holding the party, and its router.
fn start(dir: &Path, keys: &Keys) -> (BenchLedger, Router) {
    open(dir, keys, true)
}

/// A ledger on the store in `dir` (registering the party first if
/// `register`), and its router.
fn open(dir: &Path, keys: &Keys, register: bool) -> (BenchLedger, Router) {
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
fn signature_line(signer: &NoteSigner, text: &str) -> String {
    let note = signer.sign(text).expect("signing").to_bytes();
    let note = String::from_utf8(note).expect("a note is UTF-8");
    let line = note.lines().last().expect("a signature line");
    line.trim_start_matches('\u{2014}').trim().to_owned()
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Bytes) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("the response body");
    (parts.status, parts.headers, body)
}

/// A capture ready to post: the body and its detached signature line.
struct Signed {
    body: Bytes,
    signature: String,
}

/// Signs a capture of `body` by [`PARTY`] at the bench's registry, with
/// the default error behaviour (`rollback`).
fn sign_document(body: Vec<u8>, signer: &NoteSigner) -> Signed {
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
async fn post_capture(app: &Router, doc: &Signed) -> String {
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
async fn finished(app: &Router, location: &str, events: usize) -> Value {
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

// ---------------------------------------------------------------------------
// Capture and its bounds.

/// One capture on a fresh store: (seconds to the finished job, seconds to
/// the 202, the entries' bytes).
fn capture_once(
    rt: &tokio::runtime::Runtime,
    keys: &Keys,
    doc: &Signed,
    events: usize,
) -> (f64, f64, Vec<Vec<u8>>) {
    let dir = oretrace_benchkit::fresh_dir("epcis-capture");
    let (ledger, app) = start(dir.path(), keys);
    let before = ledger.store().size().expect("the log size");
    let (secs, accepted) = rt.block_on(async {
        let start = Instant::now();
        let location = post_capture(&app, doc).await;
        let accepted = start.elapsed().as_secs_f64();
        finished(&app, &location, events).await;
        (start.elapsed().as_secs_f64(), accepted)
    });
    let entries = ledger
        .store()
        .read_entries(before, events as u64)
        .expect("reading the entries back");
    drop(app);
    drop(ledger);
    (secs, accepted, entries)
}

/// The raw bound: `entries` into a bare WAL table in one durable
/// transaction, in a fresh database; seconds.
fn raw_insert(entries: &[Vec<u8>]) -> f64 {
    let dir = oretrace_benchkit::fresh_dir("epcis-raw");
    let mut conn = rusqlite::Connection::open(dir.path().join("raw.db")).expect("opening raw.db");
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .expect("WAL mode");
    assert!(mode.eq_ignore_ascii_case("wal"), "journal_mode is {mode}");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous=FULL");
    conn.execute_batch("CREATE TABLE entries (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
        .expect("creating the table");
    let start = Instant::now();
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("begin");
    {
        let mut insert = tx
            .prepare_cached("INSERT INTO entries (idx, entry) VALUES (?1, ?2)")
            .expect("prepare");
        for (i, entry) in entries.iter().enumerate() {
            insert
                .execute(rusqlite::params![i as i64, entry])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    let secs = start.elapsed().as_secs_f64();
    let count: i64 = conn
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count as usize, entries.len());
    secs
}

/// One Ed25519 note signature and one verification per entry, over each
/// entry's text (what capture does once each with the log key); seconds.
fn sign_verify(texts: &[String], signer: &NoteSigner, verifier: &NoteVerifier) -> f64 {
    let start = Instant::now();
    for text in texts {
        let note = signer.sign(text).expect("signing").to_bytes();
        let note = SignedNote::parse(&note).expect("parsing");
        note.verify(verifier).expect("verifying");
    }
    start.elapsed().as_secs_f64()
}

#[derive(Debug, Clone, Copy, Default)]
struct CaptureFigures {
    events: usize,
    body_bytes: usize,
    mean_entry: f64,
    capture: f64,
    accepted: f64,
    raw: f64,
    parse: f64,
    validate: f64,
    hash: f64,
    sign_verify: f64,
}

fn capture_section(rt: &tokio::runtime::Runtime, cfg: &Config, keys: &Keys) -> CaptureFigures {
    let n = cfg.capture_events;
    // Its own range of events, after the full query store's, and in the
    // past: the registry refuses events more than an hour ahead of its
    // clock (10,000,000 minutes after the first event was 2043).
    let doc = sign_document(
        document(1_000_000, n, (n as u64 / EVENTS_PER_LOT).max(1)),
        &keys.party_key,
    );
    let parsed: Value = serde_json::from_slice(&doc.body).expect("the document parses");
    let validator = oretrace_epcis_schema::EpcisValidator::shared().expect("the validator");
    if let Err(v) = validator.validate_document(&parsed) {
        panic!("the bench document is not valid EPCIS: {v:?}");
    }
    // A first capture, untimed: the entries' bytes for the raw bound, and
    // warm-up (schema compilation, page cache).
    let (_, _, entries) = capture_once(rt, keys, &doc, n);
    let texts: Vec<String> = entries
        .iter()
        .map(|e| {
            let note = SignedNote::parse(e).expect("an entry is a signed note");
            note.text().to_owned()
        })
        .collect();
    let verifier = keys.log_key.verifier();
    let mut samples: Vec<[f64; 7]> = Vec::new();
    for _ in 0..cfg.capture_reps {
        let (capture, accepted, _) = capture_once(rt, keys, &doc, n);
        let raw = raw_insert(&entries);
        let parse =
            oretrace_benchkit::time(|| serde_json::from_slice::<Value>(&doc.body).expect("parses"));
        let validate = oretrace_benchkit::time(|| validator.validate_document(&parsed).is_ok());
        let hash = oretrace_benchkit::time(|| {
            oretrace_epcis::document_event_hashes(&parsed).expect("hashes")
        });
        let sv = sign_verify(&texts, &keys.log_key, &verifier);
        samples.push([capture, accepted, raw, parse, validate, hash, sv]);
    }
    let med = |k: usize| oretrace_benchkit::median(samples.iter().map(|s| s[k]).collect());
    CaptureFigures {
        events: n,
        body_bytes: doc.body.len(),
        mean_entry: entries.iter().map(Vec::len).sum::<usize>() as f64 / n as f64,
        capture: med(0),
        accepted: med(1),
        raw: med(2),
        parse: med(3),
        validate: med(4),
        hash: med(5),
        sign_verify: med(6),
    }
}

// ---------------------------------------------------------------------------
// The query store.

struct QueryStore {
    _dir: Option<tempfile::TempDir>,
    path: PathBuf,
    ledger: BenchLedger,
    app: Router,
    events: u64,
    lots: u64,
    /// None when an existing store was reused.
    build_secs: Option<f64>,
    db_bytes: u64,
}

/// Builds the query store in a fresh temporary directory; or, with
/// `ORETRACE_BENCH_EPCIS_STORE=<dir>` (full form only, for iterating on
/// the queries), builds it there and keeps it, or reuses what an earlier
/// run built there.
fn build_store(rt: &tokio::runtime::Runtime, cfg: &Config, keys: &Keys) -> QueryStore {
    let kept = std::env::var_os("ORETRACE_BENCH_EPCIS_STORE")
        .filter(|_| !cfg.quick)
        .map(PathBuf::from);
    let (temp, path) = match &kept {
        Some(path) => (None, path.clone()),
        None => {
            let dir = oretrace_benchkit::fresh_dir("epcis-query");
            let path = dir.path().to_owned();
            (Some(dir), path)
        }
    };
    let reuse = kept.is_some() && path.join("oretrace.db").exists();
    let (ledger, app) = open(&path, keys, !reuse);
    let events = cfg.store_events();
    let lots = (events / EVENTS_PER_LOT).max(1);
    let start = Instant::now();
    if !reuse {
        rt.block_on(async {
            // Two documents in flight: the next is made, posted and prepared
            // while the last is integrated.
            let mut in_flight: Option<String> = None;
            for d in 0..cfg.store_docs {
                let doc = sign_document(
                    document((d * cfg.doc_events) as u64, cfg.doc_events, lots),
                    &keys.party_key,
                );
                let location = post_capture(&app, &doc).await;
                drop(doc);
                if let Some(previous) = in_flight.replace(location) {
                    finished(&app, &previous, cfg.doc_events).await;
                }
                if (d + 1) % 10 == 0 {
                    eprintln!(
                        "  {} documents posted, {:.1} s",
                        d + 1,
                        start.elapsed().as_secs_f64()
                    );
                }
            }
            if let Some(last) = in_flight {
                finished(&app, &last, cfg.doc_events).await;
            }
        });
    }
    let build_secs = (!reuse).then(|| start.elapsed().as_secs_f64());
    let size = ledger.store().size().expect("the log size");
    assert_eq!(
        size,
        events + 1,
        "every event is one entry, after the party (a reused store must have the configured size)"
    );
    let db_bytes = ["oretrace.db", "oretrace.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(path.join(f)).ok())
        .map(|m| m.len())
        .sum();
    QueryStore {
        _dir: temp,
        path,
        ledger,
        app,
        events,
        lots,
        build_secs,
        db_bytes,
    }
}

// ---------------------------------------------------------------------------
// Queries and their SQL bounds.

/// A query string from pairs.
fn query_string(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The index term the server selects candidates by for `pairs`.
fn term_of(pairs: &[(&str, String)]) -> String {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let terms = EventQuery::from_pairs(&owned)
        .expect("a valid query")
        .candidate_terms()
        .expect("an indexed restriction");
    assert_eq!(terms.len(), 1, "{terms:?}");
    terms.into_iter().next().unwrap_or_default()
}

/// What one page of `GET /events` gave.
struct Page {
    ids: Vec<String>,
}

async fn get_events(app: &Router, uri: &str) -> (Bytes, Option<String>) {
    let (status, headers, body) = call(
        app,
        Request::get(uri).body(Body::empty()).expect("a request"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "GET {uri}: {}",
        String::from_utf8_lossy(&body)
    );
    let next = headers
        .get(header::LINK)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| Some(l.strip_prefix('<')?.split_once('>')?.0.to_owned()));
    (body, next)
}

fn page_of(body: &[u8]) -> Page {
    let doc: Value = serde_json::from_slice(body).expect("a query document");
    let ids = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .expect("an event list")
        .iter()
        .map(|e| e["eventID"].as_str().expect("an eventID").to_owned())
        .collect();
    Page { ids }
}

/// A row as the bound reads it: what a response needs of each event.
struct Row {
    event_id: String,
    idx: i64,
    _event_time: i64,
    _record_time: i64,
    _event: String,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        idx: r.get(0)?,
        event_id: r.get(1)?,
        _event_time: r.get(2)?,
        _record_time: r.get(3)?,
        _event: r.get(4)?,
    })
}

const BY_TERM: &str = "SELECT e.idx, e.event_id, e.event_time, e.record_time, e.event \
     FROM event_terms t JOIN events e ON e.idx = t.idx \
     WHERE t.term = ?1 AND t.idx > ?2 ORDER BY t.idx LIMIT ?3";
const BY_TIME: &str = "SELECT idx, event_id, event_time, record_time, event FROM events \
     WHERE event_time >= ?1 AND event_time < ?2 ORDER BY event_time, idx LIMIT ?3";

/// Up to `limit` events carrying `term`, after index `after`.
fn sql_by_term(conn: &rusqlite::Connection, term: &str, after: i64, limit: usize) -> Vec<Row> {
    let mut stmt = conn.prepare_cached(BY_TERM).expect("prepare");
    stmt.query_map(rusqlite::params![term, after, limit as i64], row)
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

fn sql_by_time(conn: &rusqlite::Connection, from: i64, to: i64, limit: usize) -> Vec<Row> {
    let mut stmt = conn.prepare_cached(BY_TIME).expect("prepare");
    stmt.query_map(rusqlite::params![from, to, limit as i64], row)
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// Candidates the server reads per store call, and per request at most:
/// private constants of `oretrace_server`'s query handler, mirrored here
/// to replay its store calls.
const CHUNK: usize = 512;
const SCAN_BUDGET: usize = 50_000;

/// Latencies of one query kind, in seconds: through HTTP, in the
/// `select_events` calls the server makes for it (replayed on the store),
/// and of its SQL bound.
#[derive(Debug, Default)]
struct QueryFigures {
    name: String,
    events: usize,
    server: Vec<f64>,
    store: Vec<f64>,
    bound: Vec<f64>,
    /// What the server answered, when not 200.
    note: Option<String>,
}

/// Nearest-rank percentile of seconds, in milliseconds.
fn pct_ms(xs: &[f64], p: f64) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
    xs[rank - 1] * 1e3
}

impl QueryFigures {
    fn new(name: &str) -> Self {
        QueryFigures {
            name: name.to_owned(),
            ..QueryFigures::default()
        }
    }

    fn push(&mut self, server: f64, store: f64, bound: f64) {
        self.server.push(server);
        self.store.push(store);
        self.bound.push(bound);
    }
}

fn time_async<T>(rt: &tokio::runtime::Runtime, f: impl Future<Output = T>) -> (f64, T) {
    rt.block_on(async {
        let start = Instant::now();
        let value = f.await;
        (start.elapsed().as_secs_f64(), value)
    })
}

fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let value = f();
    (start.elapsed().as_secs_f64(), value)
}

fn assert_same(what: &str, server: &[String], bound: &[Row]) {
    let bound: Vec<&str> = bound.iter().map(|r| r.event_id.as_str()).collect();
    assert_eq!(
        server.len(),
        bound.len(),
        "{what}: the server returned {} events, the bound {}",
        server.len(),
        bound.len()
    );
    assert!(
        server.iter().zip(&bound).all(|(a, b)| a == b),
        "{what}: the server and the bound returned different events"
    );
}

/// The selection the server makes for one index term and/or an event time
/// range, in capture order, after index `after`.
fn selection(
    term: Option<&str>,
    event_time: (Option<i64>, Option<i64>),
    after: Option<i64>,
) -> EventSelect {
    EventSelect {
        any_terms: term.map(|t| vec![t.to_owned()]),
        event_time,
        after: after.map(|i| (i, i as u64)),
        limit: CHUNK,
        ..EventSelect::default()
    }
}

/// Seconds in `select_events` for `selects`, one after the other.
fn store_time(store: &SqliteStore, selects: &[EventSelect]) -> f64 {
    let start = Instant::now();
    for s in selects {
        std::hint::black_box(store.select_events(s).expect("select_events"));
    }
    start.elapsed().as_secs_f64()
}

/// What one replay of the server's candidate loop did.
#[derive(Debug, Default, Clone, Copy)]
struct LoopFigures {
    secs: f64,
    select_secs: f64,
    calls: usize,
    scanned: usize,
    found: usize,
}

/// The server's candidate loop for a first page (a mirror of
/// `answer` in `crates/server/src/epcis/query.rs`): store calls of
/// `CHUNK` candidates, each event parsed and matched, until `want` events
/// match, the candidates run out, or `SCAN_BUDGET` have been scanned.
fn server_loop(store: &SqliteStore, query: &EventQuery, want: usize) -> LoopFigures {
    let start = Instant::now();
    let mut f = LoopFigures::default();
    let mut select = EventSelect {
        any_terms: query.candidate_terms(),
        event_time: query.event_time_range(),
        record_time: query.record_time_range(),
        descending: query.descending(),
        limit: CHUNK,
        ..EventSelect::default()
    };
    'chunks: loop {
        let (t, rows) = timed(|| store.select_events(&select).expect("select_events"));
        f.select_secs += t;
        f.calls += 1;
        let n = rows.len();
        let mut last = None;
        for row in rows {
            f.scanned += 1;
            last = Some(select.key_of(&row));
            let value: Value = serde_json::from_str(row.event_text()).unwrap_or(Value::Null);
            if query.matches(&value, row.record_time()) {
                if f.found == want {
                    break 'chunks;
                }
                f.found += 1;
            }
        }
        if n < select.limit || f.scanned >= SCAN_BUDGET {
            break;
        }
        select.after = last;
    }
    f.secs = start.elapsed().as_secs_f64();
    f
}

async fn get_status(app: &Router, uri: &str) -> (StatusCode, Bytes) {
    let (status, _, body) = call(
        app,
        Request::get(uri).body(Body::empty()).expect("a request"),
    )
    .await;
    (status, body)
}

/// How many runs of each query kind.
#[derive(Debug, Clone, Copy)]
struct Reps {
    /// (a), (b).
    common: usize,
    /// (c).
    window: usize,
    /// (d): ten requests each.
    paging: usize,
    /// (f): a scan of most of the table each.
    recent: usize,
}

fn query_section(rt: &tokio::runtime::Runtime, reps: Reps, qs: &QueryStore) -> Vec<QueryFigures> {
    let conn = rusqlite::Connection::open_with_flags(
        qs.path.join(oretrace_store_sqlite::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("a read-only connection");
    conn.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    let store = qs.ledger.store();
    let app = &qs.app;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let n = qs.events;

    let mut a = QueryFigures::new("(a) EQ_bizLocation (0.1 %), perPage=100");
    let mut b = QueryFigures::new("(b) MATCH_anyEPCClass (one lot), perPage=100");
    let mut c = QueryFigures::new("(c) GE_/LT_eventTime window (1,000), perPage=1000");
    let mut d = QueryFigures::new("(d) EQ_bizStep (25 %), 10 pages of 100");
    let mut f = QueryFigures::new("(f) diag: GE_eventTime (last 1 %), perPage=100");
    for rep in 0..reps.common {
        // (a) One location.
        // (Quick stores use only the first n / 7 locations.)
        let pairs = [(
            "EQ_bizLocation",
            location(rng.below(LOCATIONS.min(n.div_ceil(7)))),
        )];
        let term = term_of(&pairs);
        let uri = format!("/events?{}&perPage=100", query_string(&pairs));
        let (t, (body, _)) = time_async(rt, get_events(app, &uri));
        let ts = store_time(store, &[selection(Some(&term), (None, None), None)]);
        let (tb, rows) = timed(|| sql_by_term(&conn, &term, -1, 100));
        assert_same(&a.name, &page_of(&body).ids, &rows);
        a.push(t, ts, tb);
        a.events = rows.len();

        // (b) One lot.
        let pairs = [("MATCH_anyEPCClass", lot_class(rng.below(qs.lots)))];
        let term = term_of(&pairs);
        let uri = format!("/events?{}&perPage=100", query_string(&pairs));
        let (t, (body, _)) = time_async(rt, get_events(app, &uri));
        let ts = store_time(store, &[selection(Some(&term), (None, None), None)]);
        let (tb, rows) = timed(|| sql_by_term(&conn, &term, -1, 100));
        assert_same(&b.name, &page_of(&body).ids, &rows);
        b.push(t, ts, tb);
        b.events = rows.len();

        if rep < reps.window {
            // (c) A window of 1,000 events (times increase with the index).
            let window = 1_000.min(n / 4).max(1);
            let first = rng.below(n - window + 1);
            let (from, to) = (event_millis(first), event_millis(first + window));
            let pairs = [
                ("GE_eventTime", iso_millis(from)),
                ("LT_eventTime", iso_millis(to)),
            ];
            let uri = format!("/events?{}&perPage=1000", query_string(&pairs));
            let (t, (body, _)) = time_async(rt, get_events(app, &uri));
            let (tb, rows) = timed(|| sql_by_time(&conn, from, to, 1000));
            assert_same(&c.name, &page_of(&body).ids, &rows);
            assert_eq!(rows.len() as u64, window);
            // The server reads CHUNK candidates per call: two calls here.
            let selects: Vec<EventSelect> = std::iter::once(None)
                .chain(rows.get(CHUNK - 1).map(|r| Some(r.idx)))
                .map(|after| selection(None, (Some(from), Some(to)), after))
                .collect();
            let ts = store_time(store, &selects);
            c.push(t, ts, tb);
            c.events = rows.len();
        }

        // (d) Ten pages of a broad query.
        if rep < reps.paging {
            let pairs = [("EQ_bizStep", STEPS[rep % STEPS.len()].to_owned())];
            let term = term_of(&pairs);
            let first_uri = format!("/events?{}&perPage=100", query_string(&pairs));
            let (t, bodies) = time_async(rt, async {
                let mut bodies = Vec::new();
                let mut uri = Some(first_uri);
                for _ in 0..10 {
                    let Some(u) = uri.take() else { break };
                    let (body, next) = get_events(app, &u).await;
                    bodies.push(body);
                    uri = next;
                }
                bodies
            });
            let ids: Vec<String> = bodies.iter().flat_map(|b| page_of(b).ids).collect();
            let (tb, rows) = timed(|| {
                let mut rows: Vec<Row> = Vec::new();
                for _ in 0..10 {
                    let after = rows.last().map_or(-1, |r| r.idx);
                    let page = sql_by_term(&conn, &term, after, 100);
                    if page.is_empty() {
                        break;
                    }
                    rows.extend(page);
                }
                rows
            });
            assert_same(&d.name, &ids, &rows);
            // One call per page, after the last event of the page before.
            let selects: Vec<EventSelect> = std::iter::once(None)
                .chain(rows.chunks(100).take(9).map(|p| p.last().map(|r| r.idx)))
                .map(|after| selection(Some(&term), (None, None), after))
                .collect();
            let ts = store_time(store, &selects);
            d.push(t, ts, tb);
            d.events = rows.len();
        }

        // (f) Recent events: a lower time bound only, near the end.
        if rep < reps.recent {
            let from = event_millis(n - (n / 100).max(1) - rng.below((n / 1000).max(1)));
            let pairs = [("GE_eventTime", iso_millis(from))];
            let uri = format!("/events?{}&perPage=100", query_string(&pairs));
            let (t, (body, _)) = time_async(rt, get_events(app, &uri));
            let ts = store_time(store, &[selection(None, (Some(from), None), None)]);
            let (tb, rows) = timed(|| sql_by_time(&conn, from, i64::MAX, 100));
            assert_same(&f.name, &page_of(&body).ids, &rows);
            f.push(t, ts, tb);
            f.events = rows.len();
        }
    }

    vec![a, b, c, d, f]
}

/// (e), once and last: a rare step, with a restriction the planner prefers
/// (sources rank above business steps) that every event carries. First the
/// server's loop replayed on the store, then over HTTP, which may time out:
/// the handler then runs on in the background to its scan budget, so
/// nothing is measured after it.
fn planner_trap(rt: &tokio::runtime::Runtime, qs: &QueryStore) -> (QueryFigures, LoopFigures) {
    let conn = rusqlite::Connection::open_with_flags(
        qs.path.join(oretrace_store_sqlite::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("a read-only connection");
    let mut e = QueryFigures::new("(e) diag: EQ_bizStep (0.1 %) + EQ_source (100 %)");
    let pairs = [
        ("EQ_bizStep", "sampling".to_owned()),
        ("EQ_source_owning_party", OWNER.to_owned()),
    ];
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let query = EventQuery::from_pairs(&owned).expect("a valid query");
    let replay = server_loop(qs.ledger.store(), &query, 100);
    let term = term_of(&[("EQ_bizStep", "sampling".to_owned())]);
    let (tb, rows) = timed(|| sql_by_term(&conn, &term, -1, 100));
    let uri = format!("/events?{}&perPage=100", query_string(&pairs));
    let (t, (status, body)) = time_async(rt, get_status(&qs.app, &uri));
    if status == StatusCode::OK {
        let ids = page_of(&body).ids;
        // At its scan budget the server returns what it found so far.
        assert_same(&e.name, &ids, &rows[..ids.len().min(rows.len())]);
        e.events = ids.len();
    } else {
        e.note = Some(format!("HTTP {}", status.as_u16()));
    }
    e.push(t, replay.select_secs, tb);
    (e, replay)
}

/// The server's store selections against SQL that uses the index the
/// selection needs, on the same connection type, interleaved (medians of
/// `reps`): (name, rows, select_events seconds, SQL seconds).
fn selection_diagnostics(qs: &QueryStore, reps: usize) -> Vec<(String, usize, f64, f64)> {
    let conn = rusqlite::Connection::open_with_flags(
        qs.path.join(oretrace_store_sqlite::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("a read-only connection");
    let store = qs.ledger.store();
    let n = qs.events as i64;
    let broad = term_of(&[("EQ_bizStep", STEPS[1].to_owned())]);
    let everyone = term_of(&[("EQ_source_owning_party", OWNER.to_owned())]);
    let recent = event_millis(qs.events - (qs.events / 100).max(1));
    let mut out = Vec::new();
    let mut case = |name: &str, select: EventSelect, sql: &dyn Fn() -> usize| {
        let rows = store.select_events(&select).expect("select_events").len();
        let [ts, tb] = oretrace_benchkit::interleaved(
            reps,
            [
                &|| store_time(store, std::slice::from_ref(&select)),
                &|| timed(sql).0,
            ],
        );
        out.push((name.to_owned(), rows, ts, tb));
    };
    case(
        "term on 25 % of events, first chunk",
        selection(Some(&broad), (None, None), None),
        &|| sql_by_term(&conn, &broad, -1, CHUNK).len(),
    );
    case(
        "term on 25 %, chunk after a cursor mid-log",
        selection(Some(&broad), (None, None), Some(n / 2)),
        &|| sql_by_term(&conn, &broad, n / 2, CHUNK).len(),
    );
    case(
        "term on every event, first chunk",
        selection(Some(&everyone), (None, None), None),
        &|| sql_by_term(&conn, &everyone, -1, CHUNK).len(),
    );
    let first = qs.events / 10;
    let window = 1_000.min(qs.events / 4).max(1);
    let (from, to) = (event_millis(first), event_millis(first + window));
    let cursor = (first + (CHUNK as u64).min(window / 2)) as i64;
    case(
        "event-time window (1,000), chunk after a cursor",
        selection(None, (Some(from), Some(to)), Some(cursor)),
        &|| sql_by_time(&conn, event_millis(cursor as u64), to, CHUNK).len(),
    );
    case(
        "GE_eventTime only (last 1 %), first chunk",
        selection(None, (Some(recent), None), None),
        &|| sql_by_time(&conn, recent, i64::MAX, CHUNK).len(),
    );
    out
}

/// How SQLite plans the server's selections (the statements
/// `SqliteStore::select_events` issues), for the report.
fn plans(qs: &QueryStore) -> Vec<(String, String)> {
    use rusqlite::types::Value as Sql;
    let conn = rusqlite::Connection::open_with_flags(
        qs.path.join(oretrace_store_sqlite::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("a read-only connection");
    let cols =
        "idx, event_id, event_type, event_time, record_time, captured_by, capture, terms, event";
    // Representative values: SQLite plans with the values bound (with
    // NULLs it may show another plan than the one it runs).
    let term = Sql::Text(term_of(&[("EQ_bizStep", STEPS[1].to_owned())]));
    let mid = Sql::Integer(qs.events as i64 / 2);
    let from = Sql::Integer(event_millis(qs.events / 2));
    let to = Sql::Integer(event_millis(qs.events / 2 + 1_000));
    let limit = Sql::Integer(CHUNK as i64);
    let statements = [
        (
            "by term",
            format!(
                "SELECT {cols} FROM events WHERE 1 AND idx IN (SELECT idx FROM event_terms WHERE term IN (?)) ORDER BY idx ASC, idx ASC LIMIT ?"
            ),
            vec![term.clone(), limit.clone()],
        ),
        (
            "by term, after a cursor",
            format!(
                "SELECT {cols} FROM events WHERE 1 AND idx IN (SELECT idx FROM event_terms WHERE term IN (?)) AND (idx, idx) > (?, ?) ORDER BY idx ASC, idx ASC LIMIT ?"
            ),
            vec![term, mid.clone(), mid.clone(), limit.clone()],
        ),
        (
            "by event time",
            format!(
                "SELECT {cols} FROM events WHERE 1 AND event_time >= ? AND event_time < ? ORDER BY idx ASC, idx ASC LIMIT ?"
            ),
            vec![from.clone(), to.clone(), limit.clone()],
        ),
        (
            "by event time, after a cursor",
            format!(
                "SELECT {cols} FROM events WHERE 1 AND event_time >= ? AND event_time < ? AND (idx, idx) > (?, ?) ORDER BY idx ASC, idx ASC LIMIT ?"
            ),
            vec![from.clone(), to, mid.clone(), mid, limit.clone()],
        ),
        (
            "by event time, lower bound only",
            format!(
                "SELECT {cols} FROM events WHERE 1 AND event_time >= ? ORDER BY idx ASC, idx ASC LIMIT ?"
            ),
            vec![from, limit],
        ),
    ];
    statements
        .into_iter()
        .map(|(name, sql, values)| {
            let mut stmt = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("explain");
            let mut rows = stmt
                .query(rusqlite::params_from_iter(values))
                .expect("explain");
            let mut detail = Vec::new();
            while let Some(r) = rows.next().expect("explain") {
                detail.push(r.get::<_, String>(3).expect("a plan row"));
            }
            (name.to_owned(), detail.join("; "))
        })
        .collect()
}

// ---------------------------------------------------------------------------

fn main() {
    if !oretrace_benchkit::plain_bench("quick_form_with_its_checks") {
        return;
    }
    let cfg = Config::get();
    let wall = Instant::now();
    let (parent, fstype) = oretrace_benchkit::durable_parent("durable capture");
    if cfg.quick {
        eprintln!("quick mode: small sizes");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let keys = keys();
    let step = |what: &str| eprintln!("[{:>6.1} s] {what}", wall.elapsed().as_secs_f64());

    step("capture");
    let cap = capture_section(&rt, &cfg, &keys);
    step("building the query store");
    let qs = build_store(&rt, &cfg, &keys);
    step("queries");
    let mut queries = query_section(&rt, cfg.reps, &qs);
    step("store selections");
    let diagnostics = selection_diagnostics(&qs, cfg.diag_reps);
    let plans = plans(&qs);
    step("the planner diagnostic (e)");
    let (e, replay) = planner_trap(&rt, &qs);
    queries.push(e);
    step("done");

    let n = cap.events as f64;
    let rate = |secs: f64| n / secs;
    println!();
    println!(
        "== oretrace EPCIS capture, SQLite (WAL, synchronous=FULL) on {fstype} under {}; one document of {} events, {:.1} MiB, mean entry {:.0} bytes; median of {} interleaved runs; ratio = bound time / time ==",
        parent.display(),
        cap.events,
        cap.body_bytes as f64 / (1024.0 * 1024.0),
        cap.mean_entry,
        cfg.capture_reps
    );
    println!(
        "{:<52} {:>10} {:>12} {:>14}",
        "benchmark", "time s", "events/s", "ratio"
    );
    let crow = |name: &str, secs: f64, ratio: Option<f64>| {
        println!(
            "{:<52} {:>10.3} {:>12.0} {:>14}",
            name,
            secs,
            rate(secs),
            ratio.map_or("-".to_owned(), |r| format!("{r:.3}"))
        );
    };
    crow(
        "capture, HTTP in-process, to the finished job",
        cap.capture,
        None,
    );
    crow(
        "  of which: POST /capture until 202 (prepare)",
        cap.accepted,
        None,
    );
    crow(
        "bound: raw insert of the entries, 1 txn",
        cap.raw,
        Some(cap.raw / cap.capture),
    );
    crow(
        "bound: schema validation + CBV hashing",
        cap.validate + cap.hash,
        Some((cap.validate + cap.hash) / cap.capture),
    );
    crow(
        "  schema validation (validate_document)",
        cap.validate,
        None,
    );
    crow("  CBV 2.0 hashing (document_event_hashes)", cap.hash, None);
    crow("diag: JSON parse of the body", cap.parse, None);
    crow(
        "diag: Ed25519 sign + verify, one each per entry",
        cap.sign_verify,
        None,
    );
    println!(
        "ratio: bound time / capture time (1.00 = capture as fast as the bound alone). capture/raw-insert {:.3}, capture/(validate+hash) {:.3}",
        cap.raw / cap.capture,
        (cap.validate + cap.hash) / cap.capture
    );

    println!();
    println!(
        "== oretrace EPCIS queries over {} events ({:.2} GiB database) {}; runs: (a), (b) {}, (c) {}, (d) {}, (f) {}, (e) 1; parameters drawn per run; ratio = bound p50 / query p50 ==",
        qs.events,
        qs.db_bytes as f64 / (1024.0 * 1024.0 * 1024.0),
        match qs.build_secs {
            Some(secs) => format!(
                "built in {secs:.1} s ({:.0} events/s: {} captures of {} events, 2 in flight)",
                qs.events as f64 / secs,
                cfg.store_docs,
                cfg.doc_events
            ),
            None => "reused from ORETRACE_BENCH_EPCIS_STORE".to_owned(),
        },
        cfg.reps.common,
        cfg.reps.window,
        cfg.reps.paging,
        cfg.reps.recent,
    );
    println!(
        "{:<52} {:>6} {:>9} {:>9} {:>10} {:>10} {:>10} {:>8}",
        "query (GET /events)",
        "events",
        "p50 ms",
        "p99 ms",
        "store p50",
        "bound p50",
        "bound p99",
        "ratio"
    );
    for q in &queries {
        let med = oretrace_benchkit::median(q.server.clone());
        let bmed = oretrace_benchkit::median(q.bound.clone());
        let smed = oretrace_benchkit::median(q.store.clone());
        println!(
            "{:<52} {:>6} {:>9.2} {:>9.2} {:>10.2} {:>10.3} {:>10.3} {:>8.4}{}",
            q.name,
            q.events,
            med * 1e3,
            pct_ms(&q.server, 0.99),
            smed * 1e3,
            bmed * 1e3,
            pct_ms(&q.bound, 0.99),
            bmed / med,
            q.note
                .as_ref()
                .map_or(String::new(), |n| format!("  ({n})"))
        );
    }
    println!(
        "events: returned per request ((d): over the 10 pages). Latency: request to the full response body, one request at a time, warm page cache. store: the select_events calls the server makes for the request, replayed on the store. bound: the same rows (index, eventID, times, event JSON) in SQL by the index the selection needs, separate read-only connection."
    );
    println!(
        "(e) the server's loop replayed on the store: {:.2} s ({:.2} s in {} select_events calls), {} candidates scanned, {} events found",
        replay.secs, replay.select_secs, replay.calls, replay.scanned, replay.found
    );
    println!();
    println!(
        "== store selections: SqliteStore::select_events ({CHUNK} candidates, as the server asks) vs SQL by the needed index; median of {} interleaved runs ==",
        cfg.diag_reps
    );
    println!(
        "{:<52} {:>6} {:>14} {:>10} {:>8}",
        "selection", "rows", "select_events", "SQL", "ratio"
    );
    for (name, rows, ts, tb) in &diagnostics {
        println!(
            "{:<52} {:>6} {:>11.2} ms {:>7.2} ms {:>8.4}",
            name,
            rows,
            ts * 1e3,
            tb * 1e3,
            tb / ts
        );
    }
    println!("SQLite plans of the server's selections (EXPLAIN QUERY PLAN):");
    for (name, plan) in plans {
        println!("  {name}: {plan}");
    }
    drop(qs);
    // A timed-out (e) request may still be running on a blocking thread.
    rt.shutdown_timeout(Duration::from_secs(120));
    eprintln!("total {:.1?}", wall.elapsed());
}
