//! `oretrace verify` as a monitor: a saved checkpoint the log is no longer
//! consistent with (a fork, a rollback) is reported with both signed
//! checkpoints as evidence, exit 1; `--follow` keeps checking every new
//! checkpoint and stops at the first fork.

mod support;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};

use support::{oretrace, path, vkey, write_log};

/// `oretrace verify LOG` (key 1, no state) against one saved checkpoint.
fn verify_against(log: &Path, saved: &Path) -> support::Run {
    oretrace(&[
        "verify",
        path(log),
        "--vkey",
        &vkey(1),
        "--no-state",
        "--checkpoint",
        path(saved),
    ])
}

#[test]
fn a_saved_checkpoint_the_log_contradicts_is_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    write_log(&log, 1, 600, "lot");
    let saved = tmp.path().join("saved-600.checkpoint");
    std::fs::copy(log.join("checkpoint"), &saved).unwrap();
    // Consistent: the same log, grown.
    let grown = tmp.path().join("grown");
    write_log(&grown, 1, 900, "lot");
    let run = verify_against(&grown, &saved);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("consistent with size 600"),
        "{}",
        run.stdout
    );

    // A fork: the same key, another history.
    let forked = tmp.path().join("forked");
    write_log(&forked, 1, 900, "other");
    let run = verify_against(&forked, &saved);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("fork: the first 600 entries"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("--- seen at").count(),
        2,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&std::fs::read_to_string(&saved).unwrap()),
        "{}",
        run.stderr
    );

    // A rollback: a smaller log than a checkpoint it signed.
    let small = tmp.path().join("small");
    write_log(&small, 1, 300, "lot");
    let run = verify_against(&small, &saved);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("rollback"), "{}", run.stderr);

    // A saved checkpoint that another key signed is no evidence: the check
    // cannot be made with it (exit 2, not 1).
    let other = tmp.path().join("other");
    write_log(&other, 2, 10, "lot");
    let run = verify_against(&grown, &other.join("checkpoint"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("not a checkpoint signed by this log's key"),
        "{}",
        run.stderr
    );
}

#[test]
fn following_a_log_stops_at_the_first_fork() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    write_log(&log, 1, 300, "lot");
    let mut child = Command::new(env!("CARGO_BIN_EXE_oretrace"))
        .args([
            "verify",
            path(&log),
            "--vkey",
            &vkey(1),
            "--no-state",
            "--follow",
            "--interval",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It grows honestly, then a forked history replaces it.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let grown = tmp.path().join("grown");
    write_log(&grown, 1, 500, "lot");
    std::fs::remove_dir_all(&log).unwrap();
    std::fs::rename(&grown, &log).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let forked = tmp.path().join("forked");
    write_log(&forked, 1, 700, "other");
    std::fs::remove_dir_all(&log).unwrap();
    std::fs::rename(&forked, &log).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the monitor did not stop at the fork");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("size 300") && out.contains("size 500"),
        "{out}"
    );
    assert!(err.contains("fork"), "{err}");
    assert_eq!(err.matches("--- seen at").count(), 2, "{err}");
}
