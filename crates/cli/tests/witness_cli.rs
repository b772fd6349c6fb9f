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
    if let Some(p) = std::env::var_os("ORETRACE_INTEROP_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = project_root().join(".venv/interop/bin/python");
    assert!(
        venv.exists(),
        "no {}: run `bash .ci/run` (or .ci/interop-env) to install tlog-scales",
        venv.display()
    );
    venv
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
