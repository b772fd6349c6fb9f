//! `oretrace witness` as its users run it: a key from `witness keygen`, a
//! log list, the service on loopback. A client written from the spec in
//! Python (`tests/interop/witness_client.py`, `requests` only) drives
//! `add-checkpoint` through every status code against a log written by
//! PyPI `tlog-scales`, whose verifier checks the cosignatures; a witness
//! killed mid-stream keeps its state; bad keys and log lists are refused
//! naming the file (and line).

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::hash::leaf_hash;
use oretrace_tlog::tree::{MemoryTree, prove_consistency};
use oretrace_tlog::witness::{parse_size, request_body};
use support::{free_port, oretrace, path, project_root, signer, vkey};

fn python() -> PathBuf {
    support::interop_python()
}

/// A running `oretrace witness`; killed (SIGKILL) on drop.
struct WitnessProcess {
    child: Child,
    port: u16,
}

impl WitnessProcess {
    fn start(data: &Path, key: &Path, logs: &Path, port: u16) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_oretrace"))
            .args(["witness", "--data", path(data), "--key", path(key)])
            .args([
                "--logs",
                path(logs),
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Owned at once, so that it is killed and reaped whatever happens.
        let witness = WitnessProcess { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return witness;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        drop(witness);
        panic!("oretrace witness did not start on port {port}");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("witness.key");
    let run = oretrace(&[
        "witness",
        "keygen",
        "--name",
        "witness.example/w1",
        "--out",
        path(&key),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    (key, run.stdout.trim().to_owned())
}

#[test]
fn a_spec_client_drives_every_status_code_on_a_tlog_scales_log() {
    let tmp = tempfile::tempdir().unwrap();
    let client = tmp.path().join("client");
    let out = Command::new(python())
        .arg(project_root().join("tests/interop/witness_client.py"))
        .args(["keygen", path(&client)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log_vkey = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let logs = tmp.path().join("logs.txt");
    std::fs::write(
        &logs,
        format!("# the logs this witness witnesses\nlog {log_vkey}\n"),
    )
    .unwrap();
    let (key, witness_vkey) = keygen(tmp.path());
    let w = WitnessProcess::start(&tmp.path().join("state"), &key, &logs, free_port());
    let out = Command::new(python())
        .arg(project_root().join("tests/interop/witness_client.py"))
        .args(["drive", path(&client), &w.url(), &witness_vkey])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("all answers as the spec says"), "{text}");
}

fn post(url: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::blocking::Client::new()
        .post(format!("{url}/add-checkpoint"))
        .body(body)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().unwrap().to_vec())
}

#[test]
fn a_witness_killed_mid_stream_keeps_its_state() {
    let tmp = tempfile::tempdir().unwrap();
    let log = signer(21);
    let logs = tmp.path().join("logs.txt");
    std::fs::write(&logs, format!("log {}\n", vkey(21))).unwrap();
    let (key, _) = keygen(tmp.path());
    let state = tmp.path().join("state");
    let origin = log.name().to_owned();
    let mut tree = MemoryTree::new();
    let mut held = 0u64;
    let port = free_port();
    for round in 0..3 {
        let w = WitnessProcess::start(&state, &key, &logs, port);
        // After a restart the witness still holds what it cosigned.
        let probe = Checkpoint::new(&origin, tree.size(), tree.root())
            .unwrap()
            .sign(&log)
            .unwrap()
            .to_bytes();
        if held > 0 {
            let (status, body) = post(&w.url(), request_body(0, &[], &probe));
            assert_eq!(status, 409, "round {round}");
            assert_eq!(parse_size(&body).unwrap(), held, "round {round}");
        }
        for _ in 0..5 {
            let old = tree.size();
            for i in 0..7 {
                tree.append(leaf_hash(format!("{round} {old} {i}").as_bytes()));
            }
            let note = Checkpoint::new(&origin, tree.size(), tree.root())
                .unwrap()
                .sign(&log)
                .unwrap()
                .to_bytes();
            let proof = if held == 0 {
                Vec::new()
            } else {
                prove_consistency(held, tree.size(), &tree).unwrap()
            };
            let (status, body) = post(&w.url(), request_body(held, &proof, &note));
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            held = tree.size();
        }
        // SIGKILL, no shutdown: the state must already be on disk.
        drop(w);
    }
    assert_eq!(held, 105);
}

#[test]
fn bad_keys_and_log_lists_are_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, _) = keygen(tmp.path());
    let logs = tmp.path().join("logs.txt");
    let data = tmp.path().join("state");
    let run_with = |key: &Path, logs: &Path| {
        oretrace(&[
            "witness",
            "--data",
            path(&data),
            "--key",
            path(key),
            "--logs",
            path(logs),
            "--listen",
            "127.0.0.1:0",
        ])
    };
    // A log list that does not parse: the file and the line.
    std::fs::write(&logs, format!("log {}\nwitness A not-a-vkey\n", vkey(1))).unwrap();
    let run = run_with(&key, &logs);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("logs.txt") && run.stderr.contains("line 2"),
        "{}",
        run.stderr
    );
    // No log at all.
    std::fs::write(&logs, "# nothing\n").unwrap();
    let run = run_with(&key, &logs);
    assert!(run.stderr.contains("no log to witness"), "{}", run.stderr);
    // A log's key (type 0x01) is not a witness key.
    std::fs::write(&logs, format!("log {}\n", vkey(1))).unwrap();
    let log_key = tmp.path().join("log.key");
    let run = oretrace(&["keygen", "--name", "log.example", "--out", path(&log_key)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = run_with(&log_key, &logs);
    assert!(run.stderr.contains("type 0x04"), "{}", run.stderr);
    // A key others may read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let run = run_with(&key, &logs);
        assert!(run.stderr.contains("readable by others"), "{}", run.stderr);
    }
    // Missing arguments name what is needed.
    let run = oretrace(&["witness", "--data", path(&data)]);
    assert!(run.stderr.contains("--key FILE"), "{}", run.stderr);
    // keygen never overwrites a key.
    let run = oretrace(&[
        "witness",
        "keygen",
        "--name",
        "w.example",
        "--out",
        path(&key),
    ]);
    assert_ne!(run.code, 0);
}

fn get(url: &str) -> (u16, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::blocking::get(url).unwrap();
    let status = response.status().as_u16();
    (status, response.text().unwrap())
}

/// Signs `lot` (a lot record naming its id) with FWO's demo key and
/// submits it to the server at `base`.
fn submit_lot(data: &Path, dir: &Path, base: &str, id: &str) {
    let record = dir.join(format!("{id}.json"));
    std::fs::write(
        &record,
        format!(
            r#"{{"kind": "lot", "id": "urn:oretrace:lot:fwo:{id}", "commodity": "antimony",
            "form": "sample", "site": "fwo-qila-abdullah", "wet_mass": {{"value": "20", "unit": "kg"}},
            "moisture_percent": "2.5", "time": "2025-11-01T06:00:00Z", "figures": "illustrative"}}"#
        ),
    )
    .unwrap();
    let run = oretrace(&[
        "record",
        "sign",
        path(&record),
        "--key",
        path(&data.join("keys/fwo_key-1.key")),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let envelope = dir.join(format!("{id}.envelope.json"));
    std::fs::write(&envelope, &run.stdout).unwrap();
    let run = oretrace(&["record", "submit", path(&envelope), "--server", base]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Polls `/checkpoint` until a checkpoint of at least `min_size` carries
/// cosignatures meeting `policy`'s quorum; its size and the witnesses.
fn wait_for_quorum(
    base: &str,
    policy: &oretrace_tlog::policy::Policy,
    min_size: u64,
) -> (u64, Vec<String>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, text) = get(&format!("{base}/checkpoint"));
        assert_eq!(status, 200, "{text}");
        let note = oretrace_tlog::note::SignedNote::parse(text.as_bytes()).unwrap();
        let size = Checkpoint::from_text(note.text()).unwrap().size();
        let by: Vec<String> = policy
            .cosigned_by(&note)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let names: Vec<&str> = by.iter().map(String::as_str).collect();
        if size >= min_size && policy.quorum_met(&names) {
            return (size, by);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint of size {min_size} or more met the quorum: {text}\n{}",
            get(&format!("{base}/healthz")).1
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The log's side: three witnesses on loopback, a 2-of-3 policy; the
/// served checkpoint is cosigned by a quorum, still accepted by the log
/// auditors; one witness stopped, appends go on and the quorum still
/// holds, and `/healthz` names the missing witness.
#[test]
fn a_served_log_is_cosigned_by_a_quorum_of_its_witnesses() {
    use oretrace_tlog::policy::Policy;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let run = oretrace(&["demo", "--data", path(&data), "--no-serve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log_vkey = support::vkey_of(&data.join("log.key"));
    let operator_vkey = support::vkey_of(&data.join("keys/registry_operator.key"));
    let logs = tmp.path().join("logs.txt");
    std::fs::write(&logs, format!("log {log_vkey}\n")).unwrap();
    let mut witnesses = Vec::new();
    let mut policy_text = format!("log {log_vkey}\n");
    for i in 1..=3 {
        let dir = tmp.path().join(format!("w{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("witness.key");
        let run = oretrace(&[
            "witness",
            "keygen",
            "--name",
            &format!("witness.example/w{i}"),
            "--out",
            path(&key),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let w = WitnessProcess::start(&dir.join("state"), &key, &logs, free_port());
        policy_text.push_str(&format!("witness W{i} {} {}\n", run.stdout.trim(), w.url()));
        witnesses.push(w);
    }
    policy_text.push_str("group two-of-three 2 W1 W2 W3\nquorum two-of-three\n");
    let policy_file = tmp.path().join("policy.txt");
    std::fs::write(&policy_file, &policy_text).unwrap();
    let policy = Policy::parse(policy_text.as_bytes()).unwrap();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = support::Server::start_with(
        &data,
        port,
        &operator_vkey,
        &["--witness-policy", path(&policy_file)],
    );
    let (size, by) = wait_for_quorum(&base, &policy, 1);
    assert!(by.len() >= 2, "{by:?}");
    // The cosigned log still audits, by oretrace and by tlog-scales.
    let run = oretrace(&["verify", &base, "--vkey", &log_vkey]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = Command::new(python())
        .arg(project_root().join("tests/interop/tlog_scales_verify.py"))
        .args([base.as_str(), log_vkey.as_str()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The monitor checks the quorum and each witness's own checkpoint.
    let run = oretrace(&[
        "verify",
        &base,
        "--vkey",
        &log_vkey,
        "--no-state",
        "--witness-policy",
        path(&policy_file),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("cosigned by: W"), "{}", run.stdout);
    assert!(run.stdout.contains("seen at witness W1"), "{}", run.stdout);
    // Receipts carry the cosigned checkpoint.
    let (status, receipt) = get(&format!("{base}/records/0/receipt"));
    assert_eq!(status, 200, "{receipt}");
    assert!(receipt.contains("witness.example/w"), "{receipt}");

    // One witness down: a new record is appended and cosigned by the two
    // others; /healthz names the one that failed.
    drop(witnesses.pop());
    submit_lot(&data, tmp.path(), &base, "sb-sample-0099");
    let (after, by) = wait_for_quorum(&base, &policy, size + 1);
    assert_eq!(after, size + 1);
    assert!(!by.contains(&"W3".to_owned()), "{by:?}");
    // A second witness down: the quorum is not met any more, so the served
    // checkpoint stays while the last witness cosigns newer ones; the
    // monitor must not call that a rollback.
    drop(witnesses.pop());
    submit_lot(&data, tmp.path(), &base, "sb-sample-0100");
    let w1_checkpoint = format!(
        "{}/{}/checkpoint",
        witnesses[0].url(),
        oretrace_witness::origin_hash(log_vkey.split('+').next().unwrap())
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !get(&w1_checkpoint)
        .1
        .contains(&format!("\n{}\n", after + 1))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "W1 never cosigned {}",
            after + 1
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let run = oretrace(&[
        "verify",
        &base,
        "--vkey",
        &log_vkey,
        "--no-state",
        "--witness-policy",
        path(&policy_file),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("not compared yet"), "{}", run.stdout);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, health) = get(&format!("{base}/healthz"));
        let v: serde_json::Value = serde_json::from_str(&health).unwrap();
        let w3 = &v["witnessing"]["witnesses"][2];
        if w3["name"] == "W3" && w3["error"].is_string() {
            assert_eq!(v["witnessing"]["cosigned_size"], after, "{health}");
            let (status, metrics) = get(&format!("{base}/metrics"));
            assert_eq!(status, 200, "{metrics}");
            assert!(
                metrics.contains(&format!("oretrace_cosigned_size {after}\n")),
                "{metrics}"
            );
            assert!(
                metrics.contains("oretrace_witness_up{witness=\"W3\"} 0\n"),
                "{metrics}"
            );
            assert!(
                metrics.contains("oretrace_witness_up{witness=\"W1\"} 1\n"),
                "{metrics}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{health}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// A witness shown a fork of a log it witnessed refuses it (422), and the
/// monitor, given the witness in its policy, reports the fork with the
/// witness's cosigned checkpoint and the forked one as evidence.
#[test]
fn a_forked_log_is_refused_by_the_witness_and_reported_by_the_monitor() {
    let tmp = tempfile::tempdir().unwrap();
    let honest = tmp.path().join("honest");
    support::write_log(&honest, 31, 400, "entry");
    let forked = tmp.path().join("forked");
    support::write_log(&forked, 31, 500, "forked entry");
    let logs = tmp.path().join("logs.txt");
    std::fs::write(&logs, format!("log {}\n", vkey(31))).unwrap();
    let (key, witness_vkey) = keygen(tmp.path());
    let w = WitnessProcess::start(&tmp.path().join("state"), &key, &logs, free_port());
    // The witness cosigns the honest log at 400.
    let note = std::fs::read(honest.join("checkpoint")).unwrap();
    let (status, body) = post(&w.url(), request_body(0, &[], &note));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // The fork, from the size it holds: its proof does not lead there.
    let mut fork_tree = MemoryTree::new();
    for i in 0..500 {
        fork_tree.append(leaf_hash(format!("forked entry {i}").as_bytes()));
    }
    let proof = prove_consistency(400, 500, &fork_tree).unwrap();
    let forked_note = std::fs::read(forked.join("checkpoint")).unwrap();
    let (status, _) = post(&w.url(), request_body(400, &proof, &forked_note));
    assert_eq!(status, 422);
    // The monitor, given the witness, sees the fork.
    let policy = tmp.path().join("policy.txt");
    std::fs::write(
        &policy,
        format!(
            "log {}\nwitness w1 {witness_vkey} {}\nquorum none\n",
            vkey(31),
            w.url()
        ),
    )
    .unwrap();
    let run = oretrace(&[
        "verify",
        path(&forked),
        "--vkey",
        &vkey(31),
        "--no-state",
        "--witness-policy",
        path(&policy),
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("fork: the first 400 entries"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--- seen at witness w1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("witness.example/w1"),
        "the witness's cosignature is in the evidence: {}",
        run.stderr
    );
}
