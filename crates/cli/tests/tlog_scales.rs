//! Cross-checks with PyPI `tlog-scales`, an implementation nobody here
//! wrote: it verifies the logs oretrace writes (from a folder and over
//! HTTP), and `oretrace verify` verifies the logs it writes.
//!
//! `.ci/run` installs it into `.venv/interop`; set ORETRACE_INTEROP_PYTHON
//! to use another interpreter. Without one, these tests fail: they never
//! pass by skipping.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::{oretrace, path, project_root, serve_folder, vkey, write_log};

fn python() -> PathBuf {
    support::interop_python()
}

fn script(name: &str) -> PathBuf {
    project_root().join("tests/interop").join(name)
}

fn tlog_scales_verify(location: &str, vkey: &str) -> (i32, String) {
    let out = Command::new(python())
        .arg(script("tlog_scales_verify.py"))
        .args([location, vkey])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn tlog_scales_verifies_logs_written_by_oretrace() {
    let tmp = tempfile::tempdir().unwrap();
    for size in [1u64, 256, 70_000] {
        let dir = tmp.path().join(format!("log{size}"));
        write_log(&dir, 3, size, "lot");
        let (code, text) = tlog_scales_verify(path(&dir), &vkey(3));
        assert_eq!(code, 0, "size {size}: {text}");
        assert!(text.contains(&format!("size={size}")), "{text}");
    }
    let dir = tmp.path().join("log70000");
    let (code, text) = tlog_scales_verify(&serve_folder(&dir), &vkey(3));
    assert_eq!(code, 0, "over HTTP: {text}");

    // And it notices tampering, so its agreement above means something.
    let tile = dir.join("tile/0/005");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    let (code, text) = tlog_scales_verify(path(&dir), &vkey(3));
    assert_eq!(code, 1, "{text}");
}

#[test]
fn oretrace_verifies_logs_written_by_tlog_scales() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let out = Command::new(python())
        .arg(script("tlog_scales_write.py"))
        .args([path(&dir), "70000", "333"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let their_vkey = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let run = oretrace(&["verify", path(&dir), "--vkey", &their_vkey, "--no-state"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("size 70000"), "{}", run.stdout);

    let tile = dir.join("tile/entries/100");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    let run = oretrace(&["verify", path(&dir), "--vkey", &their_vkey, "--no-state"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("tile/entries/100"), "{}", run.stderr);
}

#[test]
fn tlog_scales_verifies_the_live_server() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let run = oretrace(&["demo", "--data", path(&data), "--no-serve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let server = support::Server::start(
        &data,
        support::free_port(),
        &support::vkey_of(&data.join("keys/registry_operator.key")),
    );
    let base = server.base();
    let vkey = support::vkey_of(&data.join("log.key"));
    let (code, text) = tlog_scales_verify(&base, &vkey);
    let ours = oretrace(&["verify", &base, "--vkey", &vkey, "--no-state"]);
    drop(server);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("size=54"), "{text}");
    assert_eq!(ours.code, 0, "{}", ours.stderr);
}
