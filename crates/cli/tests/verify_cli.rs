//! `oretrace verify` against good logs and every kind of bad one: each
//! failure exits 1 and names the file and the problem; operational errors
//! exit 2.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::fs;
use std::path::Path;

use support::{ORIGIN, oretrace, path, serve_folder, vkey, write_log};

fn verify(dir: &Path, vkey: &str) -> support::Run {
    oretrace(&["verify", path(dir), "--vkey", vkey, "--no-state"])
}

/// One tampering case: what to do to a fresh 600-entry log, and what the
/// failure message must mention.
fn check_tampering(name: &str, tamper: impl FnOnce(&Path), expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    write_log(&dir, 1, 600, "lot");
    tamper(&dir);
    let run = verify(&dir, &vkey(1));
    assert_eq!(
        run.code, 1,
        "{name}: expected exit 1, got {}: {}{}",
        run.code, run.stdout, run.stderr
    );
    for want in expect {
        assert!(
            run.stderr.contains(want),
            "{name}: {:?} should mention {want:?}",
            run.stderr
        );
    }
}

fn flip(file: &Path, at: usize) {
    let mut bytes = fs::read(file).unwrap();
    bytes[at] ^= 0x01;
    fs::write(file, bytes).unwrap();
}

#[test]
fn a_good_log_verifies_from_a_folder_and_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    write_log(&dir, 1, 70_000, "lot");
    let run = verify(&dir, &vkey(1));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("verified: {ORIGIN} size 70000")),
        "{}",
        run.stdout
    );

    let url = serve_folder(&dir);
    let run = oretrace(&["verify", &url, "--vkey", &vkey(1), "--no-state"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("size 70000"), "{}", run.stdout);
}

#[test]
fn tampered_logs_fail_with_the_file_and_the_problem() {
    check_tampering(
        "flipped level-0 hash",
        |d| flip(&d.join("tile/0/000"), 100),
        &["tile/entries/000", "entry 3"],
    );
    check_tampering(
        "flipped partial level-1 hash",
        |d| flip(&d.join("tile/1/000.p/2"), 40),
        &["tile/1/000.p/2", "hash 1"],
    );
    check_tampering(
        "flipped entry",
        |d| flip(&d.join("tile/entries/001"), 10),
        &["tile/entries/001", "entry"],
    );
    check_tampering(
        "truncated tile",
        |d| {
            let f = d.join("tile/0/001");
            let b = fs::read(&f).unwrap();
            fs::write(&f, &b[..b.len() - 1]).unwrap();
        },
        &["tile/0/001", "truncated"],
    );
    check_tampering(
        "oversized tile",
        |d| {
            let f = d.join("tile/0/002.p/88");
            let mut b = fs::read(&f).unwrap();
            b.extend_from_slice(&[0; 32]);
            fs::write(&f, b).unwrap();
        },
        &["tile/0/002.p/88", "oversized"],
    );
    check_tampering(
        "bundle with an extra entry",
        |d| {
            let f = d.join("tile/entries/002.p/88");
            let mut b = fs::read(&f).unwrap();
            b.extend_from_slice(&[0, 1, b'x']);
            fs::write(&f, b).unwrap();
        },
        &["tile/entries/002.p/88", "trailing"],
    );
    check_tampering(
        "missing tile",
        |d| fs::remove_file(d.join("tile/0/001")).unwrap(),
        &["tile/0/001", "missing"],
    );
    check_tampering(
        "checkpoint with a wrong signature",
        |d| {
            let f = d.join("checkpoint");
            let len = fs::read(&f).unwrap().len();
            flip(&f, len - 8);
        },
        &["checkpoint", "is invalid"],
    );
    check_tampering(
        "checkpoint with a forged size",
        |d| {
            let f = d.join("checkpoint");
            let text = fs::read_to_string(&f)
                .unwrap()
                .replacen("\n600\n", "\n599\n", 1);
            fs::write(&f, text).unwrap();
        },
        &["checkpoint", "invalid"],
    );
}

#[test]
fn checkpoints_in_non_canonical_form_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    write_log(&dir, 1, 600, "lot");
    let cp = fs::read_to_string(dir.join("checkpoint")).unwrap();
    let body_end = cp.find("\n\n").unwrap() + 1;
    let body = cp[..body_end].replacen("\n600\n", "\n0600\n", 1);
    // Re-sign so that only the form is wrong.
    let note = support::signer(1).sign(&body).unwrap();
    fs::write(dir.join("checkpoint"), note.to_bytes()).unwrap();
    let run = verify(&dir, &vkey(1));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("leading zeros"), "{}", run.stderr);
}

/// `tlog-checkpoint` allows extension lines: a log that signs some is
/// audited as any other (they are opaque; the tree is what is checked).
#[test]
fn checkpoints_with_extension_lines_are_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    write_log(&dir, 1, 600, "lot");
    let cp = fs::read_to_string(dir.join("checkpoint")).unwrap();
    let body_end = cp.find("\n\n").unwrap() + 1;
    let body = format!("{}extension one\nextension two\n", &cp[..body_end]);
    let note = support::signer(1).sign(&body).unwrap();
    fs::write(dir.join("checkpoint"), note.to_bytes()).unwrap();
    let run = verify(&dir, &vkey(1));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn an_unknown_key_fails_and_a_malformed_vkey_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    write_log(&dir, 1, 10, "lot");
    let run = verify(&dir, &vkey(2));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no signature by a known key"),
        "{}",
        run.stderr
    );

    let run = verify(&dir, "not-a-vkey");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--vkey"), "{}", run.stderr);

    let run = verify(&tmp.path().join("absent"), &vkey(1));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a folder"), "{}", run.stderr);
}

#[test]
fn rollback_and_fork_are_caught_through_the_state_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let big = tmp.path().join("big");
    let small = tmp.path().join("small");
    let forked = tmp.path().join("forked");
    write_log(&big, 1, 800, "lot");
    write_log(&small, 1, 500, "lot");
    write_log(&forked, 1, 900, "other");
    let with_state = |dir: &Path| {
        oretrace(&[
            "verify",
            path(dir),
            "--vkey",
            &vkey(1),
            "--state",
            path(&state),
        ])
    };

    let run = with_state(&small);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("first checkpoint seen"),
        "{}",
        run.stdout
    );
    let run = with_state(&big);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("consistent with the checkpoint verified before: size 500"),
        "{}",
        run.stdout
    );

    let run = with_state(&small);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("rollback") && run.stderr.contains("size 800"),
        "{}",
        run.stderr
    );

    let run = with_state(&forked);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("fork: the first 800 entries"),
        "{}",
        run.stderr
    );

    // The failures did not overwrite what was remembered.
    let run = with_state(&big);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn receipts_verify_offline_and_tampering_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    write_log(&dir, 1, 300, "lot");
    let receipt = tmp.path().join("r.tlog-proof");
    let run = oretrace(&[
        "log",
        "receipt",
        path(&dir),
        "--index",
        "257",
        "--vkey",
        &vkey(1),
        "--out",
        path(&receipt),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = oretrace(&["verify", "--inclusion", path(&receipt), "--vkey", &vkey(1)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("entry 257"), "{}", run.stdout);

    // The user's own copy of the entry must match.
    let entry = tmp.path().join("entry");
    fs::write(&entry, "lot 257").unwrap();
    let run = oretrace(&[
        "verify",
        "--inclusion",
        path(&receipt),
        "--vkey",
        &vkey(1),
        "--entry",
        path(&entry),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    fs::write(&entry, "lot 258").unwrap();
    let run = oretrace(&[
        "verify",
        "--inclusion",
        path(&receipt),
        "--vkey",
        &vkey(1),
        "--entry",
        path(&entry),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("inclusion proof does not verify")
            && run.stderr.contains("they first differ at byte 6"),
        "{}",
        run.stderr
    );
    // A copy with a trailing newline is told apart from a different entry.
    fs::write(&entry, "lot 257\n").unwrap();
    let run = oretrace(&[
        "verify",
        "--inclusion",
        path(&receipt),
        "--vkey",
        &vkey(1),
        "--entry",
        path(&entry),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("FAILED: entry: ")
            && run.stderr.contains(
                "the entry given (8 bytes) is not the receipt's entry (7 bytes): they differ only \
                 in the line ending at the end (1 trailing newline byte(s) in the file, 0 in the \
                 receipt's entry)"
            ),
        "{}",
        run.stderr
    );

    // A proof with one hash fewer has the wrong length.
    let text = fs::read_to_string(&receipt).unwrap();
    let mut lines: Vec<&str> = text.split('\n').collect();
    lines.remove(3);
    fs::write(&receipt, lines.join("\n")).unwrap();
    let run = oretrace(&["verify", "--inclusion", path(&receipt), "--vkey", &vkey(1)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("has 6 hashes, expected 7"),
        "{}",
        run.stderr
    );
}

#[test]
fn keygen_log_and_demo_work_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("log.key");
    let run = oretrace(&["keygen", "--name", "example.org/log", "--out", path(&key)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let vkey = run.stdout.trim().to_owned();
    assert!(vkey.starts_with("example.org/log+"), "{vkey}");
    let again = oretrace(&["keygen", "--name", "example.org/log", "--out", path(&key)]);
    assert_eq!(again.code, 2, "a key must never be overwritten");

    let dir = tmp.path().join("log");
    assert_eq!(
        oretrace(&["log", "create", path(&dir), "--key", path(&key)]).code,
        0
    );
    let input = tmp.path().join("entries.txt");
    fs::write(
        &input,
        (0..1234)
            .map(|i| format!("record {i}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let run = oretrace(&[
        "log",
        "append",
        path(&dir),
        "--key",
        path(&key),
        path(&input),
        "--batch",
        "500",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("size 1234"), "{}", run.stdout);
    assert_eq!(verify(&dir, &vkey).code, 0);

    let data = tmp.path().join("demo");
    let run = oretrace(&["demo", "--data", path(&data), "--no-serve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("loaded 54 signed records"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ILLUSTRATIVE"), "{}", run.stdout);
    // A second run finds the data loaded and appends nothing.
    let run = oretrace(&["demo", "--data", path(&data), "--no-serve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("already loaded; log size 54"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_signed_checkpoint_claiming_an_absurd_size_fails_without_exhausting_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    write_log(&dir, 1, 10, "lot");
    let cp = fs::read_to_string(dir.join("checkpoint")).unwrap();
    let body = cp[..cp.find("\n\n").unwrap() + 1].replacen("\n10\n", "\n18446744073709551615\n", 1);
    let note = support::signer(1).sign(&body).unwrap();
    fs::write(dir.join("checkpoint"), note.to_bytes()).unwrap();
    let run = verify(&dir, &vkey(1));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("missing"), "{}", run.stderr);
}

/// The auditor remembers checkpoints by origin: a log under a known
/// origin signed by another key is refused (exit 2), naming the
/// remembered file and what to do, and the memory is left as it was.
#[test]
fn a_known_origin_under_a_new_key_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let first = tmp.path().join("first");
    let second = tmp.path().join("second");
    write_log(&first, 1, 10, "lot");
    write_log(&second, 2, 10, "lot");
    let with_state = |dir: &Path, seed: u8| {
        oretrace(&[
            "verify",
            path(dir),
            "--vkey",
            &vkey(seed),
            "--state",
            path(&state),
        ])
    };
    let run = with_state(&first, 1);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let remembered: Vec<_> = fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let before = fs::read(&remembered[0]).unwrap();

    let run = with_state(&second, 2);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("does not verify with this key")
            && run
                .stderr
                .contains("an origin of its own (oretrace serve --origin")
            && run
                .stderr
                .contains("use another --state folder (or --no-state)"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(&remembered[0]).unwrap(), before);
    assert_eq!(with_state(&first, 1).code, 0);
}
