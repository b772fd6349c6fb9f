//! EPCIS from the command line: the demo's lots exported from one registry
//! with `oretrace export --lot`, imported into another with `oretrace
//! import` (detached signatures), exported again: the same events, the
//! same CBV 2.0 hashes — which the independent PyPI
//! `epcis-event-hash-generator` computes too. `oretrace auth token`
//! gives a token that `oretrace import --token` captures with.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::process::Command;

use oretrace_tlog::note::NoteSigner;
use serde_json::Value;
use support::{Server, free_port, oretrace, path, project_root};

/// The demo's lots, samples first (a concentrate's transformation needs
/// its sample; the one shipment carries the three concentrates).
const LOTS: &[&str] = &[
    "urn:oretrace:lot:fwo:sb-sample-0001",
    "urn:oretrace:lot:fwo:cu-sample-0001",
    "urn:oretrace:lot:fwo:ree-sample-0001",
    "urn:oretrace:lot:fwo:sb-concentrate-0001",
    "urn:oretrace:lot:fwo:cu-concentrate-0001",
    "urn:oretrace:lot:fwo:ree-concentrate-0001",
];
const CONCENTRATE: &str = "urn:oretrace:lot:fwo:sb-concentrate-0001";

fn http() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::new()
}

fn get_json(url: &str) -> Value {
    let r = http().get(url).send().unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    serde_json::from_slice(&r.bytes().unwrap()).unwrap()
}

fn hashes(file: &std::path::Path) -> Vec<String> {
    let run = oretrace(&["epcis", "hash", path(file)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout.lines().map(str::to_owned).collect()
}

#[test]
fn lots_round_trip_between_registries_with_the_same_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let run = oretrace(&["demo", "--data", path(&a), "--no-serve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let operator = std::fs::read_to_string(a.join("keys/registry_operator.key")).unwrap();
    let operator_vkey = NoteSigner::from_skey(operator.trim())
        .unwrap()
        .verifier()
        .to_vkey();
    let server_a = Server::start(&a, free_port(), &operator_vkey);
    let base_a = server_a.base();

    // Export every lot.
    let mut exported = Vec::new();
    for (name, lot) in LOTS.iter().enumerate() {
        let file = tmp.path().join(format!("{name}-a.jsonld"));
        let run = oretrace(&[
            "export",
            "--server",
            &base_a,
            "--lot",
            lot,
            "--out",
            path(&file),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let run = oretrace(&["epcis", "validate", path(&file)]);
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            doc["epcisBody"]["eventList"].as_array().unwrap().len() >= 2,
            "{doc:#}"
        );
        exported.push(file);
    }

    // Registry B: the same parties and sites (their signed entries, copied),
    // nothing else.
    let b = tmp.path().join("b");
    let server_b = Server::start_with(
        &b,
        free_port(),
        &operator_vkey,
        &[
            "--capture-max-events",
            "50",
            "--capture-max-bytes",
            "1000000",
        ],
    );
    let base_b = server_b.base();
    let mut index = 0;
    loop {
        let view = get_json(&format!("{base_a}/records/{index}"));
        if view["kind"] != "party" && view["kind"] != "site" {
            break;
        }
        let posted = http()
            .post(format!("{base_b}/records"))
            .header("content-type", "text/plain")
            .body(view["entry"].as_str().unwrap().to_owned())
            .send()
            .unwrap();
        assert_eq!(posted.status().as_u16(), 201, "{}", posted.text().unwrap());
        index += 1;
    }
    assert!(index > 5);

    // Import into B, signed by every party whose events the documents hold.
    let keys: Vec<String> = ["fwo", "pk-assay-lab", "nlc", "ussm"]
        .iter()
        .map(|p| a.join(format!("keys/{p}_key-1.key")).display().to_string())
        .collect();
    for file in &exported {
        let mut args = vec!["import", path(file), "--server", &base_b];
        for k in &keys {
            args.extend(["--key", k.as_str()]);
        }
        let run = oretrace(&args);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("0 refused"), "{}", run.stdout);
        assert!(run.stdout.contains(" captured at index "), "{}", run.stdout);
    }
    // Importing the same document again: duplicates, nothing new, each
    // named with the index it is at; receipts saved for them.
    let receipts = tmp.path().join("receipts");
    let mut args = vec![
        "import",
        path(&exported[3]),
        "--server",
        &base_b,
        "--receipts",
        path(&receipts),
    ];
    for k in &keys {
        args.extend(["--key", k.as_str()]);
    }
    let run = oretrace(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(" 0 captured"), "{}", run.stdout);
    let duplicates: Vec<u64> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_suffix(" (duplicate)"))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert!(!duplicates.is_empty(), "{}", run.stdout);
    let vkey = reqwest::blocking::get(format!("{base_b}/vkey"))
        .unwrap()
        .text()
        .unwrap();
    for index in duplicates {
        let receipt = receipts.join(format!("{index}.tlog-proof"));
        let check = oretrace(&[
            "verify",
            "--inclusion",
            path(&receipt),
            "--vkey",
            vkey.trim(),
        ]);
        assert_eq!(check.code, 0, "{}", check.stderr);
        assert!(
            check.stdout.contains(&format!("verified: entry {index} "))
                && check
                    .stdout
                    .contains("record:   epcis-event ni:///sha-256;"),
            "{}",
            check.stdout
        );
    }

    // B's exports hold the same events: the same hashes, in the same order.
    for (name, (lot, file_a)) in LOTS.iter().zip(&exported).enumerate() {
        let file_b = tmp.path().join(format!("{name}-b.jsonld"));
        let run = oretrace(&[
            "export",
            "--server",
            &base_b,
            "--lot",
            lot,
            "--out",
            path(&file_b),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(hashes(file_a), hashes(&file_b), "{name}");
    }
    // The lot in B is where A has it.
    let lot_a = get_json(&format!("{base_a}/lots/{CONCENTRATE}"));
    let lot_b = get_json(&format!("{base_b}/lots/{CONCENTRATE}"));
    for field in [
        "custodian",
        "site",
        "status",
        "wet_mass",
        "received_mass",
        "element_percent",
    ] {
        assert_eq!(lot_a[field], lot_b[field], "{field}");
    }

    // The independent reference computes the same hashes for the exports.
    let python = project_root().join(".venv/interop/bin/python");
    assert!(python.exists(), "run bash .ci/interop-env first");
    for file in &exported {
        let out = Command::new(&python)
            .args(["-m", "epcis_event_hash_generator", path(file)])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let theirs: Vec<String> = stdout
            .lines()
            .filter(|l| l.starts_with("ni:///"))
            .map(str::to_owned)
            .collect();
        assert_eq!(
            theirs,
            hashes(file),
            "{}\n{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The limits given to `serve` are the ones announced.
    let options = http()
        .request(reqwest::Method::OPTIONS, format!("{base_b}/capture"))
        .send()
        .unwrap();
    assert_eq!(options.headers()["GS1-EPCIS-Capture-Limit"], "50");
    assert_eq!(
        options.headers()["GS1-EPCIS-Capture-File-Size-Limit"],
        "1000000"
    );

    // A token from a signed challenge captures too.
    let run = oretrace(&["auth", "token", "--server", &base_b, "--key", &keys[0]]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let token = run.stdout.trim().to_owned();
    let example =
        oretrace_benchkit::conformance("epcis/examples").join("Example_9.6.1-ObjectEvent.jsonld");
    let run = oretrace(&[
        "import",
        path(&example),
        "--server",
        &base_b,
        "--token",
        &token,
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let run = oretrace(&[
        "import",
        path(&example),
        "--server",
        &base_b,
        "--token",
        "nonsense",
    ]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("401"), "{}", run.stderr);
}
