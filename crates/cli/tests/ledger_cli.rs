//! The ledger from the command line: the demo's data served by `oretrace
//! serve`, a record signed and submitted with `oretrace record`, refusals
//! reported, and `oretrace rebuild` giving byte-identical answers.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use oretrace_tlog::note::NoteSigner;
use support::{Server, free_port, oretrace, path};

fn get(url: &str) -> (u16, Vec<u8>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r = reqwest::blocking::get(url).unwrap();
    (r.status().as_u16(), r.bytes().unwrap().to_vec())
}

#[test]
fn sign_submit_refuse_and_rebuild() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let run = oretrace(&["demo", "--data", path(&data), "--no-serve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let operator = std::fs::read_to_string(data.join("keys/registry_operator.key")).unwrap();
    let operator_vkey = NoteSigner::from_skey(operator.trim())
        .unwrap()
        .verifier()
        .to_vkey();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server::start(&data, port, &operator_vkey);

    // FWO commissions a new lot at one of its sites.
    let record = tmp.path().join("lot.json");
    std::fs::write(
        &record,
        r#"{"kind": "lot", "id": "urn:oretrace:lot:fwo:sb-sample-0002", "commodity": "antimony",
            "form": "sample", "site": "fwo-qila-abdullah", "wet_mass": {"value": "20", "unit": "kg"},
            "moisture_percent": "2.5", "time": "2025-11-01T06:00:00Z", "figures": "illustrative"}"#,
    )
    .unwrap();
    let fwo_key = data.join("keys/fwo_key-1.key");
    let run = oretrace(&["record", "sign", path(&record), "--key", path(&fwo_key)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let envelope = tmp.path().join("envelope.json");
    std::fs::write(&envelope, &run.stdout).unwrap();
    let receipt = tmp.path().join("r.tlog-proof");
    let run = oretrace(&[
        "record",
        "submit",
        path(&envelope),
        "--server",
        &base,
        "--receipt",
        path(&receipt),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("accepted at index 54"),
        "{}",
        run.stdout
    );
    // One record hash: the one submit prints is the one the receipt's
    // entry decodes to and the one /records/by-hash finds.
    let record_hash = run
        .stdout
        .split("record hash ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no record hash in {}", run.stdout));
    assert_eq!(record_hash.len(), 64, "{}", run.stdout);
    let (_, vkey) = get(&format!("{base}/vkey"));
    let vkey = String::from_utf8(vkey).unwrap();
    let run = oretrace(&[
        "verify",
        "--inclusion",
        path(&receipt),
        "--vkey",
        vkey.trim(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for line in [
        "verified: entry 54 is in oretrace.example/demo/".to_owned(),
        "record:   lot urn:oretrace:lot:fwo:sb-sample-0002".to_owned(),
        format!("record hash: {record_hash}"),
        "signed by: fwo/key-1+".to_owned(),
    ] {
        assert!(run.stdout.contains(&line), "{line:?} in {}", run.stdout);
    }
    let (status, found) = get(&format!("{base}/records/by-hash/{record_hash}"));
    assert_eq!(status, 200);
    let found: serde_json::Value = serde_json::from_slice(&found).unwrap();
    assert_eq!(
        (found["index"].as_u64(), found["record_hash"].as_str()),
        (Some(54), Some(record_hash.as_str()))
    );

    // The same record again is already in the log: reported at its index
    // (exit 0), and --receipt fetches and saves its receipt.
    let again = tmp.path().join("again.tlog-proof");
    let run = oretrace(&[
        "record",
        "submit",
        path(&envelope),
        "--server",
        &base,
        "--receipt",
        path(&again),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "already in the log at index 54 (logged before); record hash {record_hash}"
        )),
        "{}",
        run.stdout
    );
    let run = oretrace(&["verify", "--inclusion", path(&again), "--vkey", vkey.trim()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("verified: entry 54 "), "{}", run.stdout);

    // What is not a signed envelope is refused before anything is sent,
    // saying what to do.
    let run = oretrace(&["record", "submit", path(&record), "--server", &base]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("is an unsigned record; sign it and submit the envelope")
            && run.stderr.contains("oretrace record sign "),
        "{}",
        run.stderr
    );
    let empty = tmp.path().join("empty.json");
    std::fs::write(&empty, "\n").unwrap();
    let run = oretrace(&["record", "submit", path(&empty), "--server", &base]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("empty.json is empty"), "{}", run.stderr);
    let bare = base.trim_start_matches("http://");
    let run = oretrace(&["record", "submit", path(&envelope), "--server", bare]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!(
            "--server {bare}: give a URL starting with http:// or https://"
        )),
        "{}",
        run.stderr
    );

    // A refusal prints the problem's detail, field and rule, not its JSON.
    let late = tmp.path().join("late.json");
    std::fs::write(
        &late,
        std::fs::read_to_string(&record)
            .unwrap()
            .replace("0002", "0004")
            .replace("2025-11-01T06:00:00Z", "2025-01-01T06:00:00Z"),
    )
    .unwrap();
    let run = oretrace(&["record", "sign", path(&late), "--key", path(&fwo_key)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(&late, &run.stdout).unwrap();
    let run = oretrace(&["record", "submit", path(&late), "--server", &base]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr
            .starts_with("refused: 422 Unprocessable Entity: ")
            && run.stderr.contains("(field time, rule ")
            && !run.stderr.contains('{'),
        "{}",
        run.stderr
    );

    // A lot signed by another party is forbidden.
    let ussm_key = data.join("keys/ussm_key-1.key");
    std::fs::write(
        &record,
        std::fs::read_to_string(&record)
            .unwrap()
            .replace("0002", "0003"),
    )
    .unwrap();
    let run = oretrace(&["record", "sign", path(&record), "--key", path(&ussm_key)]);
    std::fs::write(&envelope, &run.stdout).unwrap();
    let run = oretrace(&["record", "submit", path(&envelope), "--server", &base]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("403"), "{}", run.stderr);

    // A malformed record is refused before signing, naming the field.
    std::fs::write(
        &record,
        std::fs::read_to_string(&record)
            .unwrap()
            .replace("\"kg\"", "\"lb\""),
    )
    .unwrap();
    let run = oretrace(&["record", "sign", path(&record), "--key", path(&fwo_key)]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("wet_mass.unit"), "{}", run.stderr);

    let reads = [
        "lots",
        "parties",
        "sites",
        "lots/urn:oretrace:lot:fwo:ree-concentrate-0001",
        "checkpoint",
    ];
    let before: Vec<(u16, Vec<u8>)> = reads.iter().map(|r| get(&format!("{base}/{r}"))).collect();
    drop(server);

    let run = oretrace(&[
        "rebuild",
        "--data",
        path(&data),
        "--operator-vkey",
        &operator_vkey,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("from 55 entries"), "{}", run.stdout);
    // The element balance tolerance is a rule: given as it was served
    // (the default, 2 %), the rebuild replays; a percentage it must be.
    for (tolerance, code) in [("2", 0), ("101", 2)] {
        let run = oretrace(&[
            "rebuild",
            "--data",
            path(&data),
            "--operator-vkey",
            &operator_vkey,
            "--element-balance-tolerance",
            tolerance,
        ]);
        assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
        if code == 2 {
            assert!(
                run.stderr.contains("--element-balance-tolerance"),
                "{}",
                run.stderr
            );
        }
    }

    let _server = Server::start(&data, port, &operator_vkey);
    let after: Vec<(u16, Vec<u8>)> = reads.iter().map(|r| get(&format!("{base}/{r}"))).collect();
    assert_eq!(before, after, "answers after a rebuild are byte-identical");
    assert!(before.iter().all(|(status, _)| *status == 200));
}

/// A data directory whose log key is not the one its checkpoint was
/// signed with (a key file restored from the wrong backup): `serve` and
/// `rebuild` stop with a sentence naming the directory, what failed and
/// what to do, not a debug dump, and change nothing.
#[test]
fn a_store_the_log_key_does_not_open_is_reported_in_a_sentence() {
    use oretrace_ledger::Store as _;
    use oretrace_ledger::ledger::{Ledger, LedgerConfig};

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let operator = NoteSigner::from_seed("registry/operator", [1; 32]).unwrap();
    let store = oretrace_store_sqlite::SqliteStore::open(&data).unwrap();
    Ledger::start(
        store,
        support::signer(1),
        operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    std::fs::write(data.join("log.key"), support::signer(2).to_skey()).unwrap();
    let checkpoint = || {
        oretrace_store_sqlite::SqliteStore::open(&data)
            .unwrap()
            .checkpoint()
            .unwrap()
    };
    let before = checkpoint();
    assert!(before.is_some());

    let expected = |doing: &str| {
        format!(
            "error: {doing} {}: the stored checkpoint does not verify with the log key of {}; \
             start with the log key this store was created with: note has no signature by a \
             known key (expected {}+{:08x})\n",
            data.display(),
            support::ORIGIN,
            support::ORIGIN,
            support::signer(2).key_id()
        )
    };
    let vkey = operator.verifier().to_vkey();
    let run = oretrace(&[
        "serve",
        "--data",
        path(&data),
        "--operator-vkey",
        &vkey,
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    // The server's log lines may come first.
    assert!(
        run.stderr.ends_with(&expected("starting the ledger on")),
        "{}",
        run.stderr
    );
    let run = oretrace(&["rebuild", "--data", path(&data), "--operator-vkey", &vkey]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, expected("rebuilding the projections in"));
    assert_eq!(checkpoint(), before, "nothing was written");
}
