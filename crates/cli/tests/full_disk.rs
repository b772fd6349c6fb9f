//! A real full disk: the data directory lives on a 16 MiB tmpfs the test
//! mounts (it runs as root, as CI does), and a ballast file takes every
//! free block. While the disk is full a write is refused cleanly (503,
//! `Retry-After`, a "Ledger unavailable" problem body) unless it finds
//! room SQLite freed, and nothing is half written: the published log holds
//! the acknowledged records and, whole, at most some refused ones, the
//! served log verifies, the projections equal a rebuild from the log. Once
//! the ballast is removed, without a restart, each refused record posted
//! again answers 201 or 409 (it had been stored), new writes succeed and
//! the log holds exactly the acknowledged records; after a restart every
//! one is there. See `docs/testing.md`.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use support::live::{
    Answer, Registry, assert_same_projections, check_checkpoints, client, get, get_json,
    post_record, projections, rebuilt_copy, record_hash_of, served_record_hashes, wait_ready,
};
use support::{Server, free_port, oretrace, path};

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The records `Registry::register` writes first.
const REGISTERED: u64 = 4;

/// A tmpfs mounted for the test; unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs to fill it, which needs root (CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem of `file` with it until a write fails with
/// ENOSPC; returns the bytes written.
fn fill(file: &Path) -> u64 {
    let mut out = std::fs::File::create(file).unwrap();
    let mut written = 0u64;
    for chunk in [1 << 20, 4096, 512, 1] {
        let block = vec![0x5au8; chunk];
        loop {
            match out.write(&block) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
    }
    let _ = out.sync_all();
    written
}

fn lot(registry: &Registry, name: &str) -> String {
    registry.lot(&format!("urn:oretrace:lot:disk-{name}"))
}

fn index_of(answer: &Answer) -> (u64, String) {
    let body = answer.json();
    (
        body["index"].as_u64().unwrap(),
        body["record_hash"].as_str().unwrap().to_owned(),
    )
}

/// A 503 with `Retry-After` and a "Ledger unavailable" problem body.
fn assert_unavailable(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 503, "{what}: {}", answer.text());
    assert!(answer.retry_after.is_some(), "{what}: no Retry-After");
    assert!(
        answer
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/problem+json")),
        "{what}: {:?}",
        answer.content_type
    );
    let problem = answer.json();
    assert_eq!(problem["title"], "Ledger unavailable", "{what}");
    // A record refused as unavailable may have been stored (its checkpoint
    // could not be swapped in): the answer must not promise otherwise.
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        !detail.contains("nothing was written"),
        "{what}: the refusal says {detail:?}, but a retry may find the record written"
    );
}

/// The size of the checkpoint the server publishes.
fn size(base: &str) -> u64 {
    let note = get(&client(), base, "/checkpoint").unwrap();
    assert_eq!(note.status, 200, "{}", note.text());
    let (checkpoint, _) =
        oretrace_tlog::checkpoint::Checkpoint::open(&note.body, &support::live::log_key(base))
            .unwrap();
    checkpoint.size()
}

/// The served log verifies with `oretrace verify` (remembering its
/// checkpoint in `state`), and the served projections equal those of a
/// copy of the data directory rebuilt from its log.
fn log_and_projections_hold(base: &str, data: &Path, scratch: &Path, operator_vkey: &str) {
    let vkey = support::live::log_key(base).to_vkey();
    let run = oretrace(&[
        "verify",
        base,
        "--vkey",
        &vkey,
        "--state",
        path(&scratch.join("verify-state")),
    ]);
    assert_eq!(run.code, 0, "oretrace verify: {}{}", run.stdout, run.stderr);
    let copy = scratch.join("rebuilt");
    rebuilt_copy(data, &copy, operator_vkey);
    let rebuilt = Server::start(&copy, free_port(), operator_vkey);
    wait_ready(&rebuilt.base());
    let all = |lots: &[Value]| -> Vec<String> {
        lots.iter()
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let http = client();
    assert_same_projections(
        &projections(&http, base, &all),
        &projections(&http, &rebuilt.base(), &all),
    );
}

#[test]
fn a_full_disk_refuses_writes_cleanly_and_they_resume_when_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(&tmp.path().join("disk"), "16m");
    let data = disk.0.join("data");
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let registry = Registry::new();
    let vkey = registry.operator_vkey();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Server::start(&data, port, &vkey);
    wait_ready(&base);
    registry.register(&base);
    let http = client();
    let mut acked: Vec<(u64, String)> = Vec::new();
    for i in 0..50 {
        let answer = post_record(&http, &base, lot(&registry, &format!("before-{i}"))).unwrap();
        assert_eq!(answer.status, 201, "{}", answer.text());
        acked.push(index_of(&answer));
    }

    // Three times: fill the disk, leaving a different margin each time so
    // that the failure lands at a different point of a write.
    let ballast = disk.0.join("ballast");
    for (cycle, margin) in [0u64, 24 << 10, 200 << 10].into_iter().enumerate() {
        // Writes may still land in the margin or in space SQLite holds
        // already (its write-ahead log); they are acknowledged and must
        // last. The first refusal comes within a few thousand writes.
        let filled = fill(&ballast);
        assert!(filled > margin, "the tmpfs had no room for the ballast");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&ballast)
            .unwrap();
        file.set_len(filled - margin).unwrap();
        file.sync_all().unwrap();
        drop(file); // An open file keeps its blocks after removal.
        // Records refused with 503: their outcome is unknown to the client
        // (a batch stored before its checkpoint could not be swapped in is
        // published later), so they are posted again once space returns.
        let mut refused: Vec<String> = Vec::new();
        for i in 0..5_000 {
            let record = lot(&registry, &format!("filling-{cycle}-{i}"));
            let answer = post_record(&http, &base, record.clone()).unwrap();
            if answer.status == 201 {
                acked.push(index_of(&answer));
            } else {
                assert_unavailable(&answer, "the first write refused on a full disk");
                refused.push(record);
                break;
            }
        }
        assert!(
            !refused.is_empty(),
            "5,000 writes were acknowledged on a full disk"
        );

        // While the disk stays full, every write is either acknowledged (it
        // found room SQLite freed, say by restarting its write-ahead log)
        // or refused cleanly.
        for i in 0..20 {
            let record = lot(&registry, &format!("full-{cycle}-{i}"));
            let answer = post_record(&http, &base, record.clone()).unwrap();
            if answer.status == 201 {
                acked.push(index_of(&answer));
            } else {
                assert_unavailable(&answer, &format!("cycle {cycle}: write {i} on a full disk"));
                refused.push(record);
            }
        }
        // The published log holds the acknowledged records and possibly
        // some refused ones (a batch stored before its checkpoint swap
        // failed, published by a later reload), each whole; nothing else.
        let full_size = size(&base);
        let hashes = served_record_hashes(&base, full_size);
        let known: std::collections::HashSet<&String> = acked.iter().map(|(_, h)| h).collect();
        let refused_hashes: Vec<String> = refused.iter().map(|r| record_hash_of(r)).collect();
        for (index, hash) in hashes.iter().enumerate().skip(REGISTERED as usize) {
            assert!(
                known.contains(hash) || refused_hashes.contains(hash),
                "cycle {cycle}: entry {index} of the published log was neither acknowledged nor refused"
            );
        }
        assert!(
            full_size >= REGISTERED + acked.len() as u64,
            "cycle {cycle}: the published log lacks acknowledged records"
        );
        // The health check answers: 200 when the sequencer reloaded its
        // tree after the failed batch (reads work on a full disk), 503 with
        // a problem body when it could not (the sequencer is degraded).
        let health = get(&http, &base, "/healthz").unwrap();
        eprintln!(
            "cycle {cycle}: {} records, {} refused; /healthz on a full disk: {} {}",
            full_size,
            refused.len(),
            health.status,
            health.text()
        );
        if health.status != 200 {
            assert_unavailable(&health, "/healthz on a full disk");
        }
        let next = get(&http, &base, &format!("/records/{full_size}")).unwrap();
        assert_eq!(next.status, 404, "an entry past the log: {}", next.text());
        for (index, record_hash) in &acked {
            assert_eq!(
                hashes.get(*index as usize),
                Some(record_hash),
                "index {index}"
            );
        }
        log_and_projections_hold(&base, &data, &scratch, &vkey);

        // Space returns: without a restart, each refused record posted
        // again is written now (201) or was written whole despite its 503
        // (409 naming its index), and new writes succeed.
        std::fs::remove_file(&ballast).unwrap();
        let mut written_despite_503 = 0;
        for record in refused {
            let answer = post_record(&http, &base, record.clone()).unwrap();
            match answer.status {
                201 => acked.push(index_of(&answer)),
                409 => {
                    let index = answer.json()["index"].as_u64().unwrap();
                    acked.push((index, record_hash_of(&record)));
                    written_despite_503 += 1;
                }
                _ => panic!(
                    "cycle {cycle}: a refused record posted again once space returned: {}",
                    answer.text()
                ),
            }
        }
        for i in 0..20 {
            let answer =
                post_record(&http, &base, lot(&registry, &format!("after-{cycle}-{i}"))).unwrap();
            assert_eq!(
                answer.status,
                201,
                "cycle {cycle}: write {i} once space returned: {}",
                answer.text()
            );
            acked.push(index_of(&answer));
        }
        eprintln!("cycle {cycle}: {written_despite_503} refused records had been written whole");
        let health = get(&http, &base, "/healthz").unwrap();
        assert_eq!(health.status, 200, "{}", health.text());
        assert_eq!(size(&base), REGISTERED + acked.len() as u64);
    }

    // And after a restart everything acknowledged is there.
    drop(server);
    server = Server::start(&data, port, &vkey);
    wait_ready(&base);
    let state = oretrace_verify::StateStore::new(&scratch.join("state-after"));
    let size = check_checkpoints(&base, &[], &state);
    let hashes = served_record_hashes(&base, size);
    assert_eq!(size, REGISTERED + acked.len() as u64);
    for (index, record_hash) in &acked {
        assert_eq!(
            hashes.get(*index as usize),
            Some(record_hash),
            "index {index}"
        );
        let record = get_json(&http, &base, &format!("/records/{index}"));
        assert_eq!(record["record_hash"].as_str(), Some(record_hash.as_str()));
    }
    log_and_projections_hold(&base, &data, &scratch, &vkey);
    drop(server);
    drop(disk);
}
