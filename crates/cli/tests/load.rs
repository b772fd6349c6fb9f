//! A bounded load on loopback: writer threads post signed records (lots,
//! shipments, receipts) and reader threads read lots, the checkpoint,
//! tiles, entry bundles and EPCIS queries, for 15 s (`ORETRACE_LOAD_SECS`
//! sets another duration; the long form runs 60).
//!
//! Every client waits for its answer before sending the next request, so
//! at most `WRITERS` records are queued at once: far below the sequencer's
//! queue bound, so no 503 is deliberate and every 5xx is a failure (as is
//! any answer other than the one expected). The server's resident memory
//! (VmRSS) is sampled throughout; after a warm-up (the first fifth of the
//! run: caches and SQLite's page caches fill), the second half's peak must
//! not exceed the first half's by 50 % or by 64 MiB, a bound noise does
//! not reach and a leak on every request would.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use support::live::{Registry, Rng, client, env_number, get, post_record, wait_ready};
use support::{Server, free_port};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oretrace_tlog::checkpoint::Checkpoint;

const WRITERS: u32 = 3;
const READERS: u32 = 3;

/// The resident set size of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

#[derive(Default)]
struct Counts {
    writes: AtomicU64,
    reads: AtomicU64,
}

#[test]
fn steady_reads_and_writes_get_no_5xx_and_memory_stays_flat() {
    let secs = env_number("ORETRACE_LOAD_SECS", 15);
    assert!(secs >= 5, "ORETRACE_LOAD_SECS must be at least 5");
    let tmp = tempfile::tempdir().unwrap();
    let registry = Registry::new();
    let vkey = registry.operator_vkey();
    let server = Server::start(&tmp.path().join("data"), free_port(), &vkey);
    let base = server.base();
    wait_ready(&base);
    registry.register(&base);
    let log_key = support::live::log_key(&base);

    let stop = Arc::new(AtomicBool::new(false));
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let counts: Arc<Counts> = Arc::default();
    // Lots written so far, which readers pick from.
    let lots: Arc<Mutex<Vec<String>>> = Arc::default();
    let fail = |failures: &Mutex<Vec<String>>, what: String| {
        let mut failures = failures.lock().unwrap();
        if failures.len() < 20 {
            failures.push(what);
        }
    };
    let mut threads = Vec::new();
    for writer in 0..WRITERS {
        let (base, stop, failures, counts, lots) = (
            base.clone(),
            stop.clone(),
            failures.clone(),
            counts.clone(),
            lots.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let registry = Registry::new();
            let http = client();
            let post = |body: String| -> bool {
                match post_record(&http, &base, body) {
                    Ok(answer) if answer.status == 201 => {
                        counts.writes.fetch_add(1, Ordering::Relaxed);
                        true
                    }
                    Ok(answer) => {
                        fail(
                            &failures,
                            format!("POST /records: {} {}", answer.status, answer.text()),
                        );
                        false
                    }
                    Err(e) => {
                        fail(&failures, format!("POST /records: {e}"));
                        false
                    }
                }
            };
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let lot = format!("urn:oretrace:lot:load-{writer}-{i}");
                if post(registry.lot(&lot)) {
                    lots.lock().unwrap().push(lot.clone());
                    if i.is_multiple_of(3) {
                        let shipment = format!("load-{writer}-{i}");
                        let _ = post(registry.shipment(&shipment, &lot))
                            && post(registry.receipt(&shipment, &lot));
                    }
                }
                i += 1;
            }
        }));
    }
    for reader in 0..READERS {
        let (base, stop, failures, counts, lots, log_key) = (
            base.clone(),
            stop.clone(),
            failures.clone(),
            counts.clone(),
            lots.clone(),
            log_key.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let http = client();
            let mut rng = Rng::seeded(u64::from(reader) * 7919);
            let mut size = 0u64;
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let path = match round % 4 {
                    0 => {
                        let lots = lots.lock().unwrap();
                        if lots.is_empty() {
                            continue;
                        }
                        let lot = &lots[(rng.next() % lots.len() as u64) as usize];
                        format!("/lots/{}", support::live::encode(lot))
                    }
                    1 => "/checkpoint".to_owned(),
                    2 => {
                        let mut tiles = oretrace_tlog::tile::entry_bundles(size);
                        tiles.extend(oretrace_tlog::tile::hash_tiles_at_level(size, 0));
                        match tiles.get((rng.next() % tiles.len().max(1) as u64) as usize) {
                            Some(tile) => format!("/{}", tile.path()),
                            None => continue,
                        }
                    }
                    _ => "/events?eventType=ObjectEvent&perPage=20".to_owned(),
                };
                match get(&http, &base, &path) {
                    Ok(answer) if answer.status == 200 => {
                        counts.reads.fetch_add(1, Ordering::Relaxed);
                        if path == "/checkpoint" {
                            size = Checkpoint::open(&answer.body, &log_key).unwrap().0.size();
                        }
                    }
                    Ok(answer) => fail(
                        &failures,
                        format!("GET {path}: {} {}", answer.status, answer.text()),
                    ),
                    Err(e) => fail(&failures, format!("GET {path}: {e}")),
                }
            }
        }));
    }

    // Sample the server's memory until the time is up.
    let started = Instant::now();
    let duration = Duration::from_secs(secs);
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    while started.elapsed() < duration {
        samples.push((started.elapsed(), rss_kib(server.pid())));
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    threads.into_iter().for_each(|t| t.join().unwrap());
    let elapsed = started.elapsed().as_secs_f64();
    let failures = failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "answers other than expected: {failures:#?}"
    );

    let (writes, reads) = (
        counts.writes.load(Ordering::Relaxed),
        counts.reads.load(Ordering::Relaxed),
    );
    assert!(writes > 0 && reads > 0, "{writes} writes, {reads} reads");
    let peak = |from: f64, to: f64| {
        samples
            .iter()
            .filter(|(t, _)| {
                let at = t.as_secs_f64() / duration.as_secs_f64();
                at >= from && at < to
            })
            .map(|&(_, kib)| kib)
            .max()
            .unwrap()
    };
    let (first, second) = (peak(0.2, 0.6), peak(0.6, 1.0));
    eprintln!(
        "{secs} s: {writes} writes ({:.0}/s), {reads} reads ({:.0}/s); server VmRSS peak {} MiB after warm-up, then {} MiB",
        writes as f64 / elapsed,
        reads as f64 / elapsed,
        first / 1024,
        second / 1024,
    );
    let growth = second.saturating_sub(first);
    assert!(
        growth * 2 < first && growth < 64 * 1024,
        "the server's memory grew from {first} KiB to {second} KiB under a steady load"
    );
}
