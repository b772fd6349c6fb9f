//! Durable appends of signed records through the whole lifecycle
//! (authorise, sequence, integrate, checkpoint, acknowledge: see
//! `docs/design/append-lifecycle.md`), on the embedded SQLite store, each
//! reported against a raw SQLite insert bound measured in the same run (the
//! machines we run on are shared and noisy, so absolute figures alone mean
//! little).
//!
//! Every store lives in a fresh temporary directory on a real disk: the
//! point is durability (WAL with `synchronous=FULL`, so every commit waits
//! for an fsync), and on tmpfs (`/dev/shm`) an fsync costs nothing, so the
//! figures would mean nothing. The bench refuses a tmpfs directory. The
//! parent directory is `ORETRACE_BENCH_DIR` if set, else the system temp
//! directory.
//!
//! Records are one party (signed by its own key and the operator key) and
//! one site (signed by the party), appended before timing, then N lots
//! commissioned at the site (distinct ids, signed by the site's operator).
//! All are signed before timing: signing is the client's cost.
//!
//! Measurements, in this order, each on a fresh store:
//!
//! * `raw insert, 1 row/txn`: the bound for the batch-1 rows. A plain
//!   rusqlite table `(idx INTEGER PRIMARY KEY, entry BLOB)`, WAL,
//!   `synchronous=FULL`, inserting the same entry bytes
//!   (`SignedRecord::entry_bytes`), one row per transaction.
//! * `in-process, batch 1`: one caller, `Ledger::submit_blocking` one
//!   record at a time; latency is the call (to a durable, checkpointed
//!   index).
//! * `HTTP, 1 client`: one client posting JSON envelopes to `POST /records`
//!   sequentially over one keep-alive connection to `oretrace_server::serve`
//!   on 127.0.0.1 (in-process, its own 2-worker tokio runtime); latency is
//!   request to full response (201 with index and receipt).
//! * `raw insert, 1000 rows/txn`: the bound for the batched rows.
//! * `in-process, N callers`: `max_batch` (1000) callers at once (tasks on
//!   one client thread, each awaiting `Ledger::submit` for its records in
//!   turn; `ORETRACE_BENCH_CALLERS` overrides N), so group commit fills
//!   batches; latency per record is from enqueue to resolution. In a
//!   closed loop, latency is callers / throughput (Little's law): 1000
//!   callers meet a 50 ms latency only at 20,000 records/s and more.
//! * `in-process, 100 callers`: the same at moderate concurrency, for the
//!   latency side of the trade.
//! * `HTTP, 64 clients`: 64 concurrent keep-alive clients.
//! * `raw insert, 64 rows/txn`: context for the 64-client row, whose
//!   batches cannot exceed 64 records (its ratio column still uses the
//!   1000-row bound).
//!
//! Then phase breakdowns of the batched and batch-1 in-process cases: the
//! same runs (batch 1: a quarter of the records) on a store wrapper that times every store call the sequencer makes, which
//! splits the sequencer's time into authorisation (store reads vs CPU:
//! signature verification and rules), the integrate transaction, and the
//! checkpoint (hash reads for the consistency proof, proof check and
//! signing, the checkpoint swap transaction); plus micro-timings of one
//! signature verification and one vkey parse.
//!
//! Why not criterion: an append is stateful (every iteration grows the log
//! and a record can be appended once), durable appends are slow enough that
//! one pass over thousands of records is the sample, and what matters is
//! the per-record latency distribution of one pass, which criterion's
//! repeat-a-closure model does not give. So this is a plain
//! `std::time::Instant` measurement with a printed table.
//!
//! Quick mode (`cargo bench ... -- --test`, `cargo test --benches`,
//! nextest, or `ORETRACE_BENCH_QUICK=1`): tiny sizes, finishing in seconds,
//! on any disk (tmpfs too: its figures are not to be quoted). To a test
//! runner (nextest) it is one test, `quick_form_with_its_checks`, so CI
//! runs its checks: every acknowledged record is in the log, every raw row
//! in its table, every HTTP answer a 201.
//!
//! Run: `cargo bench -p oretrace-server --bench append`.

#![expect(
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::Store;
use oretrace_ledger::faults::{Call, Faulty, Hooks, Span};
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_server::ServerConfig;
use oretrace_store_sqlite::SqliteStore;
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Run configuration.

#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    /// Records for the in-process and HTTP batch-1 cases (an fsync or two
    /// each).
    single: usize,
    /// Records for the batched in-process case.
    batched: usize,
    /// Records for the concurrent HTTP case.
    http_concurrent: usize,
    /// Concurrent HTTP clients.
    http_clients: usize,
    /// Rows per transaction of the batched raw bound (the ledger's
    /// default `max_batch`).
    raw_batch: usize,
}

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let quick = oretrace_benchkit::quick_mode();
        let max_batch = LedgerConfig::default().max_batch;
        if quick {
            Config {
                quick,
                single: 50,
                batched: 2 * max_batch,
                http_concurrent: 500,
                http_clients: 64,
                raw_batch: max_batch,
            }
        } else {
            Config {
                quick,
                single: 2_000,
                batched: 20_000,
                http_concurrent: 10_000,
                http_clients: 64,
                raw_batch: max_batch,
            }
        }
    })
}

// ---------------------------------------------------------------------------
// Where the data goes: a real disk, never tmpfs.

// ---------------------------------------------------------------------------
// Records, signed before any timing.

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).expect("a valid key name")
}

fn signed(value: &Value, signers: &[&NoteSigner]) -> SignedRecord {
    let record = RecordJson::parse(value.to_string().as_bytes()).expect("a valid record");
    SignedRecord::sign(record, signers).expect("signing")
}

const PARTY: &str = "bench-mining";
const SITE: &str = "bench-mine";

struct Records {
    operator: NoteSigner,
    log_key: NoteSigner,
    party_key: NoteSigner,
    /// The party and the site, appended before timing.
    setup: Vec<SignedRecord>,
    /// Distinct lots commissioned at the site.
    lots: Vec<SignedRecord>,
}

fn lot_value(i: usize) -> Value {
    json!({"kind": "lot", "id": format!("urn:oretrace:lot:bench-{i:06}"), "commodity": "antimony",
           "form": "ore", "site": SITE, "wet_mass": {"value": format!("{}.5", 10 + i % 90), "unit": "t"},
           "moisture_percent": "4", "time": "2025-09-02T00:00:00Z", "figures": "illustrative"})
}

fn records(n: usize) -> Records {
    let operator = key("registry/operator", 1);
    let log_key = key("oretrace.bench/ledger", 2);
    let party_key = key("bench-mining/k1", 3);
    let party = json!({"kind": "party", "id": PARTY, "name": "Bench Mining", "party_kind": "company",
        "country": "PK", "keys": [party_key.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z",
        "figures": "illustrative"});
    let site = json!({"kind": "site", "id": SITE, "name": "Bench Mine", "site_kind": "mine",
        "operator": PARTY, "country": "PK", "location": {"lat": "35.85", "lon": "71.78"},
        "approximate": true, "time": "2025-09-01T00:00:00Z", "figures": "illustrative"});
    let setup = vec![
        signed(&party, &[&party_key, &operator]),
        signed(&site, &[&party_key]),
    ];
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let mut lots: Vec<(usize, SignedRecord)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let party_key = &party_key;
                s.spawn(move || {
                    (t..n)
                        .step_by(threads)
                        .map(|i| (i, signed(&lot_value(i), &[party_key])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a signing thread"))
            .collect()
    });
    lots.sort_by_key(|(i, _)| *i);
    Records {
        operator,
        log_key,
        party_key,
        setup,
        lots: lots.into_iter().map(|(_, r)| r).collect(),
    }
}

// ---------------------------------------------------------------------------
// A store wrapper: counts batches, and (when asked) times every call the
// sequencer makes, by phase.

#[derive(Debug, Default, Clone, Copy)]
struct ReadStat {
    calls: u64,
    time: Duration,
}

#[derive(Debug, Default, Clone)]
struct Phases {
    batches: u64,
    entries: u64,
    /// Timing of the phases below is on.
    timing: bool,
    /// A batch is being processed: its first store read has happened and
    /// its checkpoint is not yet swapped in.
    in_batch: bool,
    batch_start: Option<Instant>,
    integrate_end: Option<Instant>,
    /// First store read of a batch to the start of its integrate.
    authorise: Duration,
    reads: HashMap<&'static str, ReadStat>,
    integrate: Duration,
    /// End of integrate to end of the checkpoint swap.
    checkpoint: Duration,
    read_hashes: Duration,
    swap: Duration,
}

/// The hooks of the store wrapper: they only watch, after each call.
#[derive(Debug, Default)]
struct Probe {
    phases: Mutex<Phases>,
}

impl Probe {
    fn lock(&self) -> MutexGuard<'_, Phases> {
        self.phases.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Clears the counters; `timing` turns the phase timing on or off.
    fn reset(&self, timing: bool) {
        *self.lock() = Phases {
            timing,
            ..Phases::default()
        };
    }

    fn snapshot(&self) -> Phases {
        self.lock().clone()
    }
}

impl Hooks for Probe {
    fn after(&self, call: Call<'_>, Span { start, end }: Span) {
        let mut p = self.lock();
        match call {
            _ if call.is_state_read() => {
                if !p.timing {
                    return;
                }
                if !p.in_batch {
                    p.in_batch = true;
                    p.batch_start = Some(start);
                }
                let stat = p.reads.entry(call.method()).or_default();
                stat.calls += 1;
                stat.time += end - start;
            }
            Call::Integrate { batch } => {
                p.batches += 1;
                p.entries += batch.entries.len() as u64;
                if p.timing && p.in_batch {
                    if let Some(batch_start) = p.batch_start {
                        p.authorise += start - batch_start;
                    }
                    p.integrate += end - start;
                    p.integrate_end = Some(end);
                }
            }
            Call::ReadHashes { .. } if p.timing && p.integrate_end.is_some() => {
                p.read_hashes += end - start;
            }
            Call::SwapCheckpoint { .. } => {
                if p.timing
                    && let Some(integrate_end) = p.integrate_end.take()
                {
                    p.swap += end - start;
                    p.checkpoint += end - integrate_end;
                    p.in_batch = false;
                    p.batch_start = None;
                }
            }
            _ => {}
        }
    }
}

type BenchLedger = Ledger<Faulty<SqliteStore, Probe>>;

/// A ledger on a fresh SQLite store in `dir`, with the party and site
/// appended (not timed).
fn start_ledger(dir: &Path, recs: &Records) -> Arc<BenchLedger> {
    let store = SqliteStore::open(dir).expect("opening the SQLite store");
    let ledger = Ledger::start(
        Faulty::new(store, Probe::default()),
        recs.log_key.clone_signer(),
        recs.operator.verifier(),
        LedgerConfig::default(),
    )
    .expect("starting the ledger");
    for r in &recs.setup {
        ledger
            .submit_blocking(r.clone())
            .expect("the setup records are accepted");
    }
    ledger.store().hooks().reset(false);
    Arc::new(ledger)
}

/// Checks that the log holds the setup records and `n` more, all covered
/// by the published checkpoint.
fn check_log(ledger: &BenchLedger, recs: &Records, n: usize) {
    let (checkpoint, _) = ledger.checkpoint().expect("a published checkpoint");
    let expected = (recs.setup.len() + n) as u64;
    assert_eq!(checkpoint.size(), expected, "every record is in the log");
    assert_eq!(ledger.store().size().expect("size"), expected);
}

trait CloneSigner {
    fn clone_signer(&self) -> NoteSigner;
}

impl CloneSigner for NoteSigner {
    /// `NoteSigner` is deliberately not `Clone`; a round trip through its
    /// text form makes a copy.
    fn clone_signer(&self) -> NoteSigner {
        NoteSigner::from_skey(&self.to_skey()).expect("a key's own text parses")
    }
}

// ---------------------------------------------------------------------------
// Results.

#[derive(Debug, Clone)]
struct Measured {
    name: String,
    records: usize,
    secs: f64,
    /// Per-record latency, sorted.
    latencies: Vec<Duration>,
    /// Mean records per group commit, when known.
    mean_batch: Option<f64>,
}

impl Measured {
    fn new(name: String, records: usize, secs: f64, mut latencies: Vec<Duration>) -> Self {
        latencies.sort();
        Measured {
            name,
            records,
            secs,
            latencies,
            mean_batch: None,
        }
    }

    fn rate(&self) -> f64 {
        self.records as f64 / self.secs
    }

    /// Nearest-rank percentile, in milliseconds.
    fn pct_ms(&self, p: f64) -> f64 {
        let n = self.latencies.len();
        if n == 0 {
            return f64::NAN;
        }
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
        self.latencies[rank - 1].as_secs_f64() * 1e3
    }
}

// ---------------------------------------------------------------------------
// The raw bound: the same entry bytes into a plain table.

fn raw_insert(entries: &[Vec<u8>], rows_per_txn: usize) -> Measured {
    let dir = oretrace_benchkit::fresh_dir("raw");
    let mut conn = rusqlite::Connection::open(dir.path().join("raw.db")).expect("opening raw.db");
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .expect("WAL mode");
    assert!(mode.eq_ignore_ascii_case("wal"), "journal_mode is {mode}");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous=FULL");
    conn.execute_batch("CREATE TABLE entries (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
        .expect("creating the table");
    let mut latencies = Vec::with_capacity(entries.len());
    let start = Instant::now();
    for (c, chunk) in entries.chunks(rows_per_txn).enumerate() {
        let t0 = Instant::now();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .expect("begin");
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO entries (idx, entry) VALUES (?1, ?2)")
                .expect("prepare");
            for (i, entry) in chunk.iter().enumerate() {
                let idx = (c * rows_per_txn + i) as i64;
                insert
                    .execute(rusqlite::params![idx, entry])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
        // Every row of the transaction waits for its commit.
        let t = t0.elapsed();
        latencies.extend(std::iter::repeat_n(t, chunk.len()));
    }
    let secs = start.elapsed().as_secs_f64();
    let count: i64 = conn
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count as usize, entries.len());
    Measured::new(
        format!("raw insert, {rows_per_txn} row(s)/txn"),
        entries.len(),
        secs,
        latencies,
    )
}

// ---------------------------------------------------------------------------
// In-process.

fn inproc_single(recs: &Records, n: usize, timing: bool) -> (Measured, Phases) {
    let dir = oretrace_benchkit::fresh_dir("single");
    let ledger = start_ledger(dir.path(), recs);
    ledger.store().hooks().reset(timing);
    let todo: Vec<SignedRecord> = recs.lots[..n].to_vec();
    let mut latencies = Vec::with_capacity(n);
    let start = Instant::now();
    for record in todo {
        let t0 = Instant::now();
        ledger.submit_blocking(record).expect("accepted");
        latencies.push(t0.elapsed());
    }
    let secs = start.elapsed().as_secs_f64();
    check_log(&ledger, recs, n);
    let mut m = Measured::new(
        "in-process, batch 1 (submit_blocking)".into(),
        n,
        secs,
        latencies,
    );
    m.mean_batch = Some(mean_batch(&ledger));
    (m, ledger.store().hooks().snapshot())
}

fn mean_batch(ledger: &BenchLedger) -> f64 {
    let p = ledger.store().hooks().snapshot();
    p.entries as f64 / p.batches.max(1) as f64
}

/// Runs `n` records through `callers` concurrent callers (tasks on a
/// two-worker runtime, as the HTTP server's handlers are), each awaiting
/// `submit` for its share in turn. Returns
/// the measurement, the probe's phases and the data directory (removed
/// on drop).
fn inproc_batched(
    recs: &Records,
    n: usize,
    callers: usize,
    timing: bool,
) -> (Measured, Phases, tempfile::TempDir) {
    let dir = oretrace_benchkit::fresh_dir("batched");
    let ledger = start_ledger(dir.path(), recs);
    ledger.store().hooks().reset(timing);
    let mut shares: Vec<Vec<SignedRecord>> = vec![Vec::new(); callers];
    for (i, r) in recs.lots[..n].iter().enumerate() {
        shares[i % callers].push(r.clone());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    let start = Instant::now();
    let latencies: Vec<Duration> = rt.block_on(async {
        let tasks: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let ledger = ledger.clone();
                tokio::spawn(async move {
                    let mut lat = Vec::with_capacity(share.len());
                    for record in share {
                        let t0 = Instant::now();
                        ledger.submit(record).await.expect("accepted");
                        lat.push(t0.elapsed());
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::with_capacity(n);
        for t in tasks {
            all.extend(t.await.expect("a caller task"));
        }
        all
    });
    let secs = start.elapsed().as_secs_f64();
    check_log(&ledger, recs, n);
    let phases = ledger.store().hooks().snapshot();
    let mut m = Measured::new(
        format!("in-process, {callers} callers (group commit)"),
        n,
        secs,
        latencies,
    );
    m.mean_batch = Some(phases.entries as f64 / phases.batches.max(1) as f64);
    drop(ledger);
    (m, phases, dir)
}

// ---------------------------------------------------------------------------
// Over HTTP.

fn http(recs: &Records, n: usize, clients: usize) -> Measured {
    let dir = oretrace_benchkit::fresh_dir("http");
    let ledger = start_ledger(dir.path(), recs);
    // JSON envelopes, encoded before timing.
    let mut shares: Vec<Vec<Vec<u8>>> = vec![Vec::new(); clients];
    for (i, r) in recs.lots[..n].iter().enumerate() {
        shares[i % clients]
            .push(serde_json::to_vec(&r.to_envelope()).expect("encoding an envelope"));
    }

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the server runtime");
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("binding 127.0.0.1:0");
    let addr = listener.local_addr().expect("the bound address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(oretrace_server::serve(
        ledger.clone(),
        ServerConfig::default(),
        None,
        listener,
        async {
            let _ = stopped.await;
        },
    ));

    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the client runtime");
    let url = format!("http://{addr}/records");
    let start = Instant::now();
    let latencies: Vec<Duration> = client_rt.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        let tasks: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let mut lat = Vec::with_capacity(share.len());
                    for body in share {
                        let t0 = Instant::now();
                        let response = client
                            .post(&url)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await
                            .expect("POST /records");
                        let status = response.status();
                        let text = response.bytes().await.expect("the response body");
                        assert_eq!(
                            status.as_u16(),
                            201,
                            "POST /records: {}",
                            String::from_utf8_lossy(&text)
                        );
                        lat.push(t0.elapsed());
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::with_capacity(n);
        for t in tasks {
            all.extend(t.await.expect("a client task"));
        }
        all
    });
    let secs = start.elapsed().as_secs_f64();
    let _ = stop.send(());
    server_rt
        .block_on(server)
        .expect("the server task")
        .expect("the server");
    check_log(&ledger, recs, n);
    let name = if clients == 1 {
        "HTTP, 1 client (sequential POST)".to_owned()
    } else {
        format!("HTTP, {clients} clients (keep-alive)")
    };
    let mut m = Measured::new(name, n, secs, latencies);
    m.mean_batch = Some(mean_batch(&ledger));
    m
}

// ---------------------------------------------------------------------------
// Micro-timings for the phase breakdown.

/// Mean seconds of one signature verification and of one vkey parse (what
/// the rules do per signature line).
fn signature_costs(recs: &Records, n: usize) -> (f64, f64) {
    let verifier = recs.party_key.verifier();
    let vkey = verifier.to_vkey();
    let lots = &recs.lots[..n];
    let start = Instant::now();
    for r in lots {
        assert!(r.signed_by(&verifier).expect("verifies"));
    }
    let verify = start.elapsed().as_secs_f64() / n as f64;
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(NoteVerifier::from_vkey(std::hint::black_box(&vkey)).expect("parses"));
    }
    let parse = start.elapsed().as_secs_f64() / n as f64;
    (verify, parse)
}

fn print_phases(case: &str, p: &Phases, total_secs: f64) {
    let n = p.entries.max(1) as f64;
    let us = |d: Duration| d.as_secs_f64() / n * 1e6;
    let share = |d: Duration| d.as_secs_f64() / total_secs * 100.0;
    let reads: Duration = p.reads.values().map(|s| s.time).sum();
    let auth_cpu = p.authorise.saturating_sub(reads);
    let ckpt_cpu = p.checkpoint.saturating_sub(p.read_hashes + p.swap);
    let busy = p.authorise + p.integrate + p.checkpoint;
    let idle = Duration::from_secs_f64(total_secs).saturating_sub(busy);
    println!();
    println!(
        "== phases of the {case} case: {} records in {} batches (mean {:.0}), {:.2} s wall ==",
        p.entries,
        p.batches,
        n / p.batches.max(1) as f64,
        total_secs
    );
    println!(
        "{:<52} {:>12} {:>9}",
        "sequencer phase", "µs/record", "% wall"
    );
    let row = |name: &str, d: Duration| {
        println!("{:<52} {:>12.2} {:>8.1}%", name, us(d), share(d));
    };
    row("authorise (wall)", p.authorise);
    // Keys, sites and parties come from the sequencer's cache after their
    // first read: few or no calls reach the store.
    for name in ["find_record", "lot", "key", "site", "party", "shipment"] {
        let stat = p.reads.get(name).copied().unwrap_or_default();
        if stat.calls == 0 && matches!(name, "party" | "shipment") {
            continue;
        }
        row(
            &format!(
                "  store read {name} ({:.2} calls/record)",
                stat.calls as f64 / n
            ),
            stat.time,
        );
    }
    row("  CPU: signatures, rules, overlay, leaf hashes", auth_cpu);
    row("integrate (one durable transaction)", p.integrate);
    row("checkpoint (wall)", p.checkpoint);
    row("  read_hashes (consistency proof)", p.read_hashes);
    row("  CPU: verify proof, sign checkpoint", ckpt_cpu);
    row("  swap_checkpoint (second durable transaction)", p.swap);
    row("sequencer idle (waiting for records, waking callers)", idle);
}

// ---------------------------------------------------------------------------

fn main() {
    if !oretrace_benchkit::plain_bench("quick_form_with_its_checks") {
        return;
    }
    let cfg = *config();
    let wall = Instant::now();
    // reqwest is built without a default TLS provider (and speaks plain
    // HTTP here), but a client cannot be built until one is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (parent, fstype) = oretrace_benchkit::durable_parent("durable-append");
    let callers = std::env::var("ORETRACE_BENCH_CALLERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(LedgerConfig::default().max_batch);
    let n_lots = cfg.batched.max(cfg.http_concurrent).max(cfg.single);
    if cfg.quick {
        eprintln!("quick mode: tiny sizes");
    }
    eprintln!(
        "data directories under {} ({fstype}); signing {} records...",
        parent.display(),
        n_lots + 2
    );
    let t = Instant::now();
    let recs = records(n_lots);
    let entries: Vec<Vec<u8>> = recs.lots.iter().map(SignedRecord::entry_bytes).collect();
    let mean_entry = entries.iter().map(Vec::len).sum::<usize>() as f64 / entries.len() as f64;
    eprintln!("signed in {:.1?}", t.elapsed());

    let step = |what: &str| eprintln!("[{:>6.1} s] {what}", wall.elapsed().as_secs_f64());
    step("raw insert, 1 row/txn");
    let raw1 = raw_insert(&entries[..cfg.single], 1);
    step("in-process, batch 1");
    let (single, _) = inproc_single(&recs, cfg.single, false);
    step("HTTP, 1 client");
    let http1 = http(&recs, cfg.single, 1);
    step("raw insert, 1000 rows/txn");
    let raw_b = raw_insert(&entries[..cfg.batched], cfg.raw_batch);
    step("in-process, batched");
    let (batched, _, dir) = inproc_batched(&recs, cfg.batched, callers, false);
    drop(dir);
    step("in-process, 100 callers");
    let (moderate, _, dir) = inproc_batched(&recs, cfg.http_concurrent, 100, false);
    drop(dir);
    step("HTTP, concurrent clients");
    let http_c = http(&recs, cfg.http_concurrent, cfg.http_clients);
    step("raw insert, 64 rows/txn");
    let raw64 = raw_insert(&entries[..cfg.http_concurrent], cfg.http_clients);
    step("phase breakdowns");
    let (timed, phases, dir) = inproc_batched(&recs, cfg.batched, callers, true);
    drop(dir);
    let (timed_single, phases_single) = inproc_single(&recs, (cfg.single / 4).max(20), true);
    let (verify, parse) = signature_costs(&recs, cfg.batched.min(5_000));
    step("done");

    println!();
    println!(
        "== oretrace durable appends, SQLite (WAL, synchronous=FULL) on {fstype} under {}; mean entry {mean_entry:.0} bytes; ratio = records/s / bound records/s ==",
        parent.display()
    );
    println!(
        "{:<44} {:>7} {:>9} {:>11} {:>9} {:>9} {:>7} {:>8}",
        "benchmark", "records", "time s", "records/s", "p50 ms", "p99 ms", "batch", "ratio"
    );
    let row = |m: &Measured, bound: Option<&Measured>| {
        let ratio = bound.map_or("bound".to_owned(), |b| {
            format!("{:.2}", m.rate() / b.rate())
        });
        let batch = m.mean_batch.map_or("-".to_owned(), |b| format!("{b:.0}"));
        println!(
            "{:<44} {:>7} {:>9.2} {:>11.0} {:>9.2} {:>9.2} {:>7} {:>8}",
            m.name,
            m.records,
            m.secs,
            m.rate(),
            m.pct_ms(0.50),
            m.pct_ms(0.99),
            batch,
            ratio
        );
    };
    row(&raw1, None);
    row(&single, Some(&raw1));
    row(&http1, Some(&raw1));
    row(&raw_b, None);
    row(&batched, Some(&raw_b));
    row(&moderate, Some(&raw_b));
    row(&http_c, Some(&raw_b));
    row(&raw64, None);
    println!(
        "{} clients vs the {}-row bound: {:.2}. Latency: to a durable, checkpointed index (HTTP: to the full 201 response); raw rows: their transaction.",
        cfg.http_clients,
        cfg.http_clients,
        http_c.rate() / raw64.rate()
    );
    println!(
        "batch: mean records per group commit. Target (2 cores): >= 20,000 records/s in-process, p99 < 50 ms: batched in-process {:.0} records/s ({}), p99 {:.1} ms ({}).",
        batched.rate(),
        if batched.rate() >= 20_000.0 {
            "met"
        } else {
            "NOT met"
        },
        batched.pct_ms(0.99),
        if batched.pct_ms(0.99) < 50.0 {
            "met"
        } else {
            "NOT met"
        },
    );
    print_phases(
        &format!("batched in-process ({callers} callers)"),
        &phases,
        timed.secs,
    );
    print_phases("in-process batch 1", &phases_single, timed_single.secs);
    println!(
        "micro: one Ed25519 signature verification {:.1} µs; one NoteVerifier::from_vkey {:.1} µs",
        verify * 1e6,
        parse * 1e6
    );
    eprintln!("total {:.1?}", wall.elapsed());
}
