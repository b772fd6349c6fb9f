//! Kill the server with SIGKILL at random moments under sustained signed
//! writes and restart it, again and again. After every restart:
//!
//! * every record acknowledged before any kill is still at its index with
//!   the same record hash (`GET /records/{index}` for the last round's,
//!   the served entry bundles for all);
//! * the projections the server shows (`/parties`, `/sites`, `/lots`, all
//!   pages, and a spread of `/lots/{id}` views) equal those of a server on
//!   a copy of the data directory rebuilt from the log by
//!   `oretrace rebuild`;
//! * every checkpoint published during the whole run verifies and is
//!   proven consistent with the served log (consistency proofs from the
//!   served tiles), and the served log passes the auditor, which also
//!   checks it against the checkpoint it remembered after the previous
//!   restart.
//!
//! One restart in three is itself killed within its first 100 ms, while
//! it opens the store and recovers (those kills come on top of the count).
//!
//! `ORETRACE_CRASH_KILLS` sets the number of kills (5 by default; the long
//! form runs 50 or more); `ORETRACE_CRASH_SEED` repeats a run's kill
//! moments (the seed is printed).

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use support::live::{
    Registry, Rng, assert_same_projections, check_checkpoints, client, env_number, get, get_json,
    post_record, projections, rebuilt_copy, served_record_hashes, wait_ready,
};
use support::{Server, free_port};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const WRITERS: u32 = 4;

/// What one round of writes saw.
#[derive(Default)]
struct Seen {
    /// (index, record hash) of every acknowledged record.
    acked: Vec<(u64, String)>,
    /// Answers that should not happen while the server is up.
    unexpected: Vec<String>,
    /// Every checkpoint note read from `/checkpoint`.
    checkpoints: Vec<Vec<u8>>,
}

/// Writers commission lots and ship every third to the smelter, which
/// receives it; each writer goes on until the server dies under it. A
/// watcher keeps every checkpoint the server publishes.
fn writes(
    base: &str,
    round: u64,
    seen: &Arc<Mutex<Seen>>,
    killed: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    let mut threads = Vec::new();
    for writer in 0..WRITERS {
        let (base, seen, killed) = (base.to_owned(), seen.clone(), killed.clone());
        threads.push(std::thread::spawn(move || {
            let registry = Registry::new();
            let http = client();
            // Posts one record; false once the server is gone.
            let post = |body: String| -> bool {
                match post_record(&http, &base, body) {
                    Ok(answer) if answer.status == 201 => {
                        let answer = answer.json();
                        seen.lock().unwrap().acked.push((
                            answer["index"].as_u64().unwrap(),
                            answer["record_hash"].as_str().unwrap().to_owned(),
                        ));
                        true
                    }
                    _ if killed.load(Ordering::SeqCst) => false,
                    Ok(answer) => {
                        seen.lock().unwrap().unexpected.push(format!(
                            "{}: {}",
                            answer.status,
                            answer.text()
                        ));
                        false
                    }
                    Err(e) => {
                        seen.lock().unwrap().unexpected.push(e.to_string());
                        false
                    }
                }
            };
            for i in 0u64.. {
                let lot = format!("urn:oretrace:lot:crash-{round}-{writer}-{i}");
                if !post(registry.lot(&lot)) {
                    return;
                }
                if i.is_multiple_of(3) {
                    let shipment = format!("crash-{round}-{writer}-{i}");
                    if !post(registry.shipment(&shipment, &lot))
                        || !post(registry.receipt(&shipment, &lot))
                    {
                        return;
                    }
                }
            }
        }));
    }
    let (base, seen, killed) = (base.to_owned(), seen.clone(), killed.clone());
    threads.push(std::thread::spawn(move || {
        let http = client();
        while !killed.load(Ordering::SeqCst) {
            if let Ok(answer) = get(&http, &base, "/checkpoint")
                && answer.status == 200
            {
                seen.lock().unwrap().checkpoints.push(answer.body);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }));
    threads
}

/// A spread of at most 300 lots of the listing, always with the last.
fn spread(lots: &[Value]) -> Vec<String> {
    let step = lots.len().div_ceil(300).max(1);
    lots.iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i + 1 == lots.len())
        .map(|(_, lot)| lot["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn acknowledged_records_survive_repeated_sigkills_and_projections_equal_a_rebuild() {
    let kills = env_number("ORETRACE_CRASH_KILLS", 5);
    assert!(kills >= 1, "ORETRACE_CRASH_KILLS must be at least 1");
    let mut rng = Rng::from_env("ORETRACE_CRASH_SEED");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let copy = tmp.path().join("rebuilt");
    let state = oretrace_verify::StateStore::new(&tmp.path().join("verify-state"));
    let registry = Registry::new();
    let vkey = registry.operator_vkey();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Server::start(&data, port, &vkey);
    wait_ready(&base);
    registry.register(&base);

    let mut acked: Vec<(u64, String)> = Vec::new();
    let mut checkpoints: Vec<Vec<u8>> = Vec::new();
    let mut recovery_kills = 0;
    let http = client();
    for round in 0..kills {
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let killed = Arc::new(AtomicBool::new(false));
        let threads = writes(&base, round, &seen, &killed);
        // The kill comes at a random moment once the round has some
        // acknowledged writes.
        let deadline = Instant::now() + Duration::from_secs(30);
        while seen.lock().unwrap().acked.len() < 10 {
            assert!(
                Instant::now() < deadline,
                "round {round}: fewer than 10 writes acknowledged in 30 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(rng.between(0, 1000)));
        killed.store(true, Ordering::SeqCst);
        drop(server); // SIGKILL, then reaped
        threads.into_iter().for_each(|t| t.join().unwrap());
        let seen = std::mem::take(&mut *seen.lock().unwrap());
        assert!(
            seen.unexpected.is_empty(),
            "round {round}: answers while the server was up: {:?}",
            seen.unexpected
        );
        acked.extend(seen.acked.iter().cloned());
        checkpoints.extend(seen.checkpoints);

        // A copy of the data directory as the kill left it, rebuilt from
        // its log; then both are served.
        rebuilt_copy(&data, &copy, &vkey);
        // One restart in three is itself killed within its first 100 ms,
        // while it opens the store and recovers the tree (or before).
        if rng.between(0, 3) == 0 {
            let starting = Server::spawn(&data, port, &vkey, &[]);
            std::thread::sleep(Duration::from_millis(rng.between(0, 100)));
            drop(starting);
            recovery_kills += 1;
        }
        server = Server::start(&data, port, &vkey);
        wait_ready(&base);
        let rebuilt = Server::start(&copy, free_port(), &vkey);
        wait_ready(&rebuilt.base());

        let size = check_checkpoints(&base, &checkpoints, &state);
        let hashes = served_record_hashes(&base, size);
        for (index, record_hash) in &acked {
            assert_eq!(
                hashes.get(*index as usize),
                Some(record_hash),
                "round {round}: acknowledged index {index} (log size {size})"
            );
        }
        for (index, record_hash) in &seen.acked {
            let record = get_json(&http, &base, &format!("/records/{index}"));
            assert_eq!(
                record["record_hash"].as_str(),
                Some(record_hash.as_str()),
                "round {round}: GET /records/{index}"
            );
        }
        let served = projections(&http, &base, &spread);
        let from_log = projections(&http, &rebuilt.base(), &spread);
        assert_same_projections(&served, &from_log);
        assert!(served["lots"].as_array().unwrap().len() as u64 >= acked.len() as u64 / 3);
        drop(rebuilt);
    }
    drop(server);
    eprintln!(
        "{kills} kills under writes and {recovery_kills} while starting, {} records acknowledged, {} checkpoints seen",
        acked.len(),
        checkpoints.len()
    );
}
