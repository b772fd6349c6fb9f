//! Kill the server with SIGKILL in the middle of a sustained append and
//! restart it: every index acknowledged before the kill is still there
//! with the same record, and the log after restart is consistent with
//! every checkpoint published before the kill.

mod support;

use support::{Server, free_port};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use serde_json::json;

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn envelope(value: serde_json::Value, signers: &[&NoteSigner]) -> String {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    serde_json::to_string(&SignedRecord::sign(record, signers).unwrap().to_envelope()).unwrap()
}

fn client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client()
            .get(format!("{base}/healthz"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not become ready");
}

fn post(base: &str, body: String) -> Option<serde_json::Value> {
    let response = client()
        .post(format!("{base}/records"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .ok()?;
    if response.status().as_u16() != 201 {
        return None;
    }
    serde_json::from_slice(&response.bytes().ok()?).ok()
}

#[test]
fn acknowledged_entries_survive_sigkill_and_the_log_stays_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let operator = key("registry/operator", 1);
    let fwo = key("fwo/k1", 2);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server::start(&data, port, &operator.verifier().to_vkey());
    wait_ready(&base);

    let party = json!({"kind": "party", "id": "fwo", "name": "Frontier Works Organisation", "party_kind": "state-body",
        "country": "PK", "keys": [fwo.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "reported"});
    post(&base, envelope(party, &[&fwo, &operator])).expect("party accepted");
    let site = json!({"kind": "site", "id": "fwo-site", "name": "Site", "site_kind": "mine", "operator": "fwo",
        "country": "PK", "location": {"lat": "30", "lon": "66"}, "time": "2025-09-01T00:00:00Z", "figures": "illustrative"});
    post(&base, envelope(site, &[&fwo])).expect("site accepted");

    // Writers append lots as fast as they can; a watcher keeps every
    // checkpoint the server publishes.
    let acked: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    let checkpoints: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for writer in 0..4u32 {
        let (acked, stop, base, fwo) =
            (acked.clone(), stop.clone(), base.clone(), key("fwo/k1", 2));
        threads.push(std::thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) && i < 5_000 {
                let lot = json!({"kind": "lot", "id": format!("urn:oretrace:lot:crash-{writer}-{i}"), "commodity": "antimony",
                    "form": "sample", "site": "fwo-site", "wet_mass": {"value": "1", "unit": "kg"},
                    "moisture_percent": "0", "time": "2025-09-02T00:00:00Z", "figures": "illustrative"});
                if let Some(answer) = post(&base, envelope(lot, &[&fwo])) {
                    let index = answer["index"].as_u64().unwrap();
                    acked.lock().unwrap().push((index, answer["record_hash"].as_str().unwrap().to_owned()));
                }
                i += 1;
            }
        }));
    }
    {
        let (checkpoints, stop, base) = (checkpoints.clone(), stop.clone(), base.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(r) = client().get(format!("{base}/checkpoint")).send()
                    && let Ok(bytes) = r.bytes()
                {
                    checkpoints.lock().unwrap().push(bytes.to_vec());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }));
    }
    // Kill once a good number of appends were acknowledged.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 300 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server); // SIGKILL, then reaped
    stop.store(true, Ordering::Relaxed);
    threads.into_iter().for_each(|t| t.join().unwrap());
    let acked = acked.lock().unwrap().clone();
    let checkpoints = checkpoints.lock().unwrap().clone();
    assert!(
        acked.len() >= 300,
        "only {} appends acknowledged",
        acked.len()
    );

    let server = Server::start(&data, port, &operator.verifier().to_vkey());
    wait_ready(&base);
    for (index, record_hash) in &acked {
        let body = client()
            .get(format!("{base}/records/{index}"))
            .send()
            .unwrap()
            .bytes()
            .unwrap();
        let record: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            record["record_hash"].as_str(),
            Some(record_hash.as_str()),
            "acknowledged index {index}"
        );
    }
    // The log after restart extends every checkpoint seen before the kill.
    let vkey = client()
        .get(format!("{base}/vkey"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let log_key = NoteVerifier::from_vkey(vkey.trim()).unwrap();
    let source = oretrace_verify::HttpSource::new(&base).unwrap();
    let mut seen: Vec<Vec<u8>> = checkpoints.into_iter().filter(|n| !n.is_empty()).collect();
    seen.dedup();
    assert!(!seen.is_empty());
    // Every distinct checkpoint is checked when there are few; otherwise
    // an even spread of them, always including the last one seen.
    let step = seen.len().div_ceil(12);
    let last = seen.len() - 1;
    let chosen: Vec<&Vec<u8>> = seen
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == last)
        .map(|(_, n)| n)
        .collect();
    for note in chosen {
        let state_dir = tempfile::tempdir().unwrap();
        let state = oretrace_verify::StateStore::new(state_dir.path());
        let (cp, _) = oretrace_tlog::checkpoint::Checkpoint::open(note, &log_key).unwrap();
        state.save(note, &cp).unwrap();
        let report = oretrace_verify::audit(
            &source,
            &log_key,
            Some(&state),
            &oretrace_verify::NoProgress,
        )
        .unwrap_or_else(|e| {
            panic!(
                "not consistent with the checkpoint of size {}: {e}",
                cp.size()
            )
        });
        assert!(report.checkpoint.size() >= cp.size());
    }
    drop(server);
}
