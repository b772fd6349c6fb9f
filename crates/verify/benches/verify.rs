//! Audit benchmark for `oretrace-verify`: [`oretrace_verify::audit`] of a
//! whole log, reported against a raw SHA-256 bound measured in the same run
//! (the machines we run on are shared and noisy, so absolute figures alone
//! mean little).
//!
//! The log: N entries of 100 bytes (`record 00000042 ...` padded), written
//! once per run with [`TileLog`] in batches of 10,000, under `/dev/shm` when
//! that directory exists (else a temporary directory). The writer fsyncs
//! every file; on tmpfs that is cheap, and this benchmark measures
//! verification, not writing. The folder is removed at the end of the run.
//!
//! Criterion groups (detailed statistics):
//!
//! * `bound/sha256_raw`: `Sha256::digest` over exactly the inputs an audit of
//!   N entries hashes: the N leaf inputs `0x00 || entry` (101 bytes, the same
//!   bytes as in the log) and N-1 node inputs `0x01 || left || right`
//!   (65 bytes), no I/O, no tree logic.
//! * `audit/folder/<N>`: `audit(&FolderSource::new(dir), &vkey, None,
//!   &NoProgress)`: checkpoint signature, every entry bundle and hash tile
//!   read and checked, root recomputed.
//! * `audit/http/<N>`: the same audit through [`HttpSource`], the folder
//!   served by a minimal static HTTP/1.1 server thread on 127.0.0.1 (one
//!   thread per connection, keep-alive). One client is reused across
//!   iterations. The server shares the machine's cores with the verifier.
//!
//! After the groups, a ratio table is printed from a separate, interleaved
//! `Instant` measurement (median of a few repetitions), with diagnostic
//! rows: the same audits fetching on the auditing thread (`inline`, no
//! fetch threads ahead of the hashing), the audit from memory (no I/O), and
//! fetching every resource the audit reads without checking anything
//! (`fetch_only/{folder,http}`), to show what I/O alone costs.
//!
//! Quick mode (`-- --test`, `cargo test --benches`, or
//! `ORETRACE_BENCH_QUICK=1`): N drops to 20,000 and the summary runs once.
//! `ORETRACE_BENCH_SUMMARY=0` skips the summary.

#![expect(
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use oretrace_logdir::TileLog;
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use oretrace_tlog::tile::{entry_bundles, hash_tiles_at_level, tile_levels};
use oretrace_verify::{FolderSource, HttpSource, NoProgress, Report, Source, VerifyError, audit};
use sha2::{Digest, Sha256};

/// Bytes per benchmark entry.
const ENTRY_LEN: usize = 100;
/// Entries per `TileLog::append` when writing the log.
const WRITE_BATCH: usize = 10_000;
/// Distinct 65-byte node inputs the SHA-256 bound cycles through (260 KiB:
/// cache-resident, as the node inputs of a tree are).
const NODE_RING: usize = 4096;
/// The log's origin (and key name).
const ORIGIN: &str = "oretrace.bench/verify";
/// The target of the issue: audit time at most twice the raw SHA-256 bound.
const TARGET_RATIO: f64 = 0.5;

// ---------------------------------------------------------------------------
// Run configuration.

#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    list: bool,
    entries: u64,
    entries_label: &'static str,
}

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let quick = oretrace_benchkit::quick_mode();
        let (entries, entries_label) = if quick {
            (20_000, "20K")
        } else {
            (1_000_000, "1M")
        };
        Config {
            quick,
            list: oretrace_benchkit::list_mode(),
            entries,
            entries_label,
        }
    })
}

// ---------------------------------------------------------------------------
// The log fixture, written once per run.

/// Entry `i`: `record <i:08> ...`, padded to exactly `ENTRY_LEN` bytes.
fn entry(i: u64) -> Vec<u8> {
    let mut e = format!(
        "record {i:08} lot=L{:05} mass_kg={}.{:03} site=pit-{} ",
        i % 99_991,
        (i * 7919) % 100_000,
        i % 1000,
        i % 7
    )
    .into_bytes();
    e.resize(ENTRY_LEN, b'.');
    e
}

#[derive(Debug)]
struct Fixture {
    /// The log folder (holds `checkpoint` and `tile/`).
    dir: PathBuf,
    /// What removes the folder; taken and dropped at the end of the run.
    holder: Mutex<Option<tempfile::TempDir>>,
    vkey: NoteVerifier,
    /// The leaf hash inputs `0x00 || entry`, back to back (101 bytes each).
    leaf_inputs: Vec<u8>,
    /// Every resource path an audit reads, in the order it reads them
    /// (upper tiles last rather than interleaved: same set of files).
    paths: Vec<String>,
}

/// The log, written on first use.
static FIXTURE: OnceLock<Fixture> = OnceLock::new();

fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(build_fixture)
}

fn build_fixture() -> Fixture {
    let n = config().entries;
    let shm = Path::new("/dev/shm");
    let builder = {
        let mut b = tempfile::Builder::new();
        b.prefix("oretrace-bench-verify-");
        b
    };
    let holder = if shm.is_dir() {
        builder.tempdir_in(shm)
    } else {
        builder.tempdir()
    }
    .expect("a temporary directory for the log");
    let dir = holder.path().join("log");

    let signer = NoteSigner::from_seed(ORIGIN, [7; 32]).expect("signer");
    let vkey = signer.verifier();
    let start = Instant::now();
    let mut log = TileLog::create(&dir, signer).expect("create the log");
    let mut leaf_inputs = Vec::with_capacity(n as usize * (ENTRY_LEN + 1));
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(WRITE_BATCH);
    for i in 0..n {
        let e = entry(i);
        leaf_inputs.push(0);
        leaf_inputs.extend_from_slice(&e);
        batch.push(e);
        if batch.len() == WRITE_BATCH || i + 1 == n {
            log.append(&batch).expect("append a batch");
            batch.clear();
        }
    }
    assert_eq!(log.size(), n);
    drop(log);
    eprintln!(
        "wrote a {n}-entry log to {} in {:.2?}",
        dir.display(),
        start.elapsed()
    );

    let mut paths = vec!["checkpoint".to_owned()];
    for (tile, bundle) in hash_tiles_at_level(n, 0).iter().zip(entry_bundles(n)) {
        paths.push(tile.path());
        paths.push(bundle.path());
    }
    for level in 1..tile_levels(n) {
        paths.extend(hash_tiles_at_level(n, level).iter().map(|t| t.path()));
    }

    Fixture {
        dir,
        holder: Mutex::new(Some(holder)),
        vkey,
        leaf_inputs,
        paths,
    }
}

/// Removes the log folder if it was written. Runs on drop, so also when a
/// benchmark panics (not when the process is killed: then look for
/// `oretrace-bench-verify-*` under /dev/shm or the temporary directory).
#[derive(Debug)]
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        // `get` never builds: nothing to remove if no benchmark ran.
        if let Some(f) = FIXTURE.get()
            && let Ok(mut holder) = f.holder.lock()
        {
            drop(holder.take());
        }
    }
}

/// The HTTP source of the fixture log, with its server, started once.
fn http_source() -> &'static HttpSource {
    static SOURCE: OnceLock<HttpSource> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let url = oretrace_benchkit::serve_folder(&fixture().dir).expect("a loopback server");
        HttpSource::new(&url).expect("an HTTP client")
    })
}

fn folder_source() -> FolderSource {
    FolderSource::new(&fixture().dir)
}

/// Every resource of the fixture log, held in memory: the audit without
/// file-system I/O (each `get` still copies the bytes, as a read would).
#[derive(Debug)]
struct MemorySource(HashMap<String, Vec<u8>>);

impl Source for MemorySource {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        Ok(self.0.get(path).cloned())
    }

    fn locate(&self, path: &str) -> String {
        format!("memory:{path}")
    }
}

/// A source fetching on the auditing thread, one resource after the other
/// (`fetch_threads` 0), to show what the background fetch threads gain.
#[derive(Debug)]
struct Inline<'a, S>(&'a S);

impl<S: Source> Source for Inline<'_, S> {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        self.0.get(path)
    }

    fn locate(&self, path: &str) -> String {
        self.0.locate(path)
    }

    fn fetch_threads(&self) -> usize {
        0
    }
}

fn memory_source() -> &'static MemorySource {
    static SOURCE: OnceLock<MemorySource> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let folder = folder_source();
        MemorySource(
            fixture()
                .paths
                .iter()
                .map(|p| {
                    let bytes = folder.get(p).expect("fetch").expect("present");
                    (p.clone(), bytes)
                })
                .collect(),
        )
    })
}

// ---------------------------------------------------------------------------
// The measured routines.

/// `NODE_RING` node hash inputs `0x01 || left || right` (65 bytes each).
fn node_ring() -> &'static [[u8; 65]] {
    static RING: OnceLock<Vec<[u8; 65]>> = OnceLock::new();
    RING.get_or_init(|| {
        (0..NODE_RING as u32)
            .map(|i| {
                let mut input = [1u8; 65];
                let d: [u8; 32] = Sha256::digest(i.to_be_bytes()).into();
                input[1..33].copy_from_slice(&d);
                input[33..].copy_from_slice(&d);
                input[64] ^= 0x5a;
                input
            })
            .collect()
    })
}

/// Raw SHA-256 over the inputs an audit of `leaf_inputs.len() / 101`
/// entries hashes: every leaf input, then N-1 node inputs.
fn sha256_raw(leaf_inputs: &[u8], ring: &[[u8; 65]]) -> u8 {
    let mut acc = 0u8;
    let mut n = 0usize;
    for input in leaf_inputs.chunks_exact(ENTRY_LEN + 1) {
        acc ^= Sha256::digest(input)[0];
        n += 1;
    }
    for j in 0..n.saturating_sub(1) {
        acc ^= Sha256::digest(ring[j % NODE_RING])[0];
    }
    acc
}

/// One full audit, checked.
fn audit_once(source: &dyn Source) -> Report {
    let f = fixture();
    let report = audit(source, &f.vkey, None, &NoProgress)
        .unwrap_or_else(|e| panic!("the benchmark log must verify: {e}"));
    assert_eq!(report.entries_checked, config().entries);
    report
}

/// Fetches every resource the audit reads, checking nothing. Returns the
/// bytes fetched.
fn fetch_only(source: &dyn Source) -> usize {
    fixture()
        .paths
        .iter()
        .map(|p| {
            source
                .get(p)
                .expect("fetch")
                .unwrap_or_else(|| panic!("{p} is missing"))
                .len()
        })
        .sum()
}

// ---------------------------------------------------------------------------
// Criterion groups.

fn configure(group: &mut BenchmarkGroup<'_, WallTime>, samples: usize, warm_up: f64, measure: f64) {
    group.sample_size(samples);
    group.warm_up_time(Duration::from_secs_f64(warm_up));
    group.measurement_time(Duration::from_secs_f64(measure));
    // Iterations take 0.1-2 s: flat sampling, as few as 10.
    group.sampling_mode(SamplingMode::Flat);
}

fn bench_audit(c: &mut Criterion) {
    let cfg = config();
    let n = cfg.entries;
    let label = cfg.entries_label;

    let mut group = c.benchmark_group("bound");
    configure(&mut group, 10, 1.0, 4.0);
    group.throughput(Throughput::Elements(n));
    group.bench_function("sha256_raw", |b| {
        let (inputs, ring) = (&fixture().leaf_inputs, node_ring());
        b.iter(|| sha256_raw(black_box(inputs), ring));
    });
    group.finish();

    let mut group = c.benchmark_group("audit");
    configure(&mut group, 10, 1.0, 8.0);
    group.throughput(Throughput::Elements(n));
    group.bench_function(format!("folder/{label}"), |b| {
        let source = folder_source();
        b.iter(|| audit_once(black_box(&source)));
    });
    // An HTTP audit takes about a second here: room for 10 samples.
    group.measurement_time(Duration::from_secs(12));
    group.bench_function(format!("http/{label}"), |b| {
        let source = http_source();
        b.iter(|| audit_once(black_box(source)));
    });
    group.finish();
}

// ---------------------------------------------------------------------------
// Ratio summary: own interleaved measurement, median of `reps`.

use oretrace_benchkit::{interleaved, time};

fn summary() {
    let cfg = config();
    let reps = if cfg.quick { 1 } else { 5 };
    let f = fixture();
    let (inputs, ring) = (&f.leaf_inputs, node_ring());
    let (folder, http) = (folder_source(), http_source());
    let n = cfg.entries as f64;
    let label = cfg.entries_label;

    let memory = memory_source();
    let (folder_inline, http_inline) = (Inline(&folder), Inline(http));
    let [
        t_bound,
        t_folder,
        t_http,
        t_memory,
        t_folder_inline,
        t_http_inline,
        t_fetch_folder,
        t_fetch_http,
    ] = interleaved(
        reps,
        [
            &|| time(|| sha256_raw(black_box(inputs), ring)),
            &|| time(|| audit_once(&folder)),
            &|| time(|| audit_once(http)),
            &|| time(|| audit_once(memory)),
            &|| time(|| audit_once(&folder_inline)),
            &|| time(|| audit_once(&http_inline)),
            &|| time(|| fetch_only(&folder)),
            &|| time(|| fetch_only(http)),
        ],
    );
    let bytes = fetch_only(&folder);

    println!();
    println!(
        "== oretrace-verify audit summary (median of {reps} interleaved runs; ratio = bound time / time, 1.00 = at the raw SHA-256 bound) =="
    );
    println!(
        "log: {} entries of {ENTRY_LEN} bytes, {} resources, {:.1} MiB, in {}",
        cfg.entries,
        f.paths.len(),
        bytes as f64 / (1024.0 * 1024.0),
        f.dir.display()
    );
    println!(
        "{:<30} {:>10} {:>14} {:>8}",
        "benchmark", "Melem/s", "time", "ratio"
    );
    let row = |name: String, t: f64, ratio: String| {
        println!(
            "{:<30} {:>10.3} {:>11.1} ms {:>8}",
            name,
            n / t / 1e6,
            t * 1e3,
            ratio
        );
    };
    row(
        format!("bound/sha256_raw ({label})"),
        t_bound,
        "1.00".into(),
    );
    row(
        format!("audit/folder/{label}"),
        t_folder,
        format!("{:.2}", t_bound / t_folder),
    );
    row(
        format!("audit/http/{label}"),
        t_http,
        format!("{:.2}", t_bound / t_http),
    );
    let ratio = |t: f64| format!("{:.2}", t_bound / t);
    row(
        format!("audit/folder/{label} inline"),
        t_folder_inline,
        ratio(t_folder_inline),
    );
    row(
        format!("audit/http/{label} inline"),
        t_http_inline,
        ratio(t_http_inline),
    );
    row(format!("audit/memory/{label}"), t_memory, ratio(t_memory));
    row(
        format!("fetch_only/folder/{label}"),
        t_fetch_folder,
        "-".into(),
    );
    row(format!("fetch_only/http/{label}"), t_fetch_http, "-".into());
    println!(
        "Threads fetching ahead of the hashing: folder {}, http {}. Diagnostics: inline = the same audit",
        folder.fetch_threads(),
        http.fetch_threads()
    );
    println!(
        "fetching on the auditing thread; audit/memory = every resource held in memory (no I/O, inline);"
    );
    println!("fetch_only = reading every resource the audit reads, one by one, checking nothing.");
    let verdict = |t: f64| {
        let r = t_bound / t;
        let met = if r >= TARGET_RATIO { "met" } else { "NOT met" };
        format!("{r:.3} ({met})")
    };
    println!(
        "Target: audit >= {TARGET_RATIO:.1}x the raw SHA-256 bound: folder {}, http {}.",
        verdict(t_folder),
        verdict(t_http)
    );
}

fn main() {
    let cfg = *config();
    let _cleanup = Cleanup;
    if cfg.quick && !cfg.list {
        eprintln!("quick mode: {} entries", cfg.entries);
    }
    let mut c = Criterion::default().configure_from_args();
    if !cfg.list {
        // Write the log and fail fast (before any timing) if it does not
        // verify, either way.
        audit_once(&folder_source());
        audit_once(http_source());
    }
    let start = Instant::now();
    bench_audit(&mut c);
    c.final_summary();
    let criterion_time = start.elapsed();
    let summary_on = std::env::var("ORETRACE_BENCH_SUMMARY").map_or(true, |v| v != "0");
    if !cfg.list && summary_on {
        let start = Instant::now();
        summary();
        eprintln!(
            "criterion groups took {criterion_time:.1?}, summary {:.1?}",
            start.elapsed()
        );
    }
}
