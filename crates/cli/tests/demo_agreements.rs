//! The reference scenario's deals as `oretrace demo` loads them: the
//! FWO–USSM MoU sealed, amended, countersigned, partly revealed and
//! tracked; the NLC–Mota-Engil MoU sealed and overdue; the Pasni and
//! "USD 6 trillion" reports; one resource estimate. The reveal is checked
//! as anyone would (the commands the demo prints, and the independent
//! Python checker), and no sealed clause reaches the server: not its
//! store, not its log, not any answer or export.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{Server, free_port, oretrace, path, project_root, vkey_of};

const MOU: &str = "fwo:mou-ussm-2025";
const NLC: &str = "nlc:mou-mota-engil-2025";

fn get(url: &str) -> (u16, Vec<u8>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::blocking::get(url).unwrap();
    (
        response.status().as_u16(),
        response.bytes().unwrap().to_vec(),
    )
}

fn get_json(url: &str) -> Value {
    let (status, body) = get(url);
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

/// A demo loaded into `data` (without serving), then served.
fn demo(data: &Path) -> (String, Server) {
    let run = oretrace(&["demo", "--data", path(data), "--no-serve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("loaded 54 signed records"),
        "{}",
        run.stdout
    );
    let operator = vkey_of(&data.join("keys/registry_operator.key"));
    let server = Server::start(data, free_port(), &operator);
    (run.stdout, server)
}

/// The line of `printed` that starts with `label`, and the line after it.
fn printed_after<'a>(printed: &'a str, label: &str) -> (&'a str, &'a str) {
    let mut lines = printed.lines();
    let first = lines
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} line in {printed}"));
    (first.trim(), lines.next().unwrap_or_default().trim())
}

#[test]
fn the_demo_registers_the_deals_and_anyone_checks_the_reveal() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let (printed, server) = demo(&data);
    let base = server.base();

    // The MoU: sealed, amended to cover the sample consignment, partly
    // revealed, overdue; version 1 confirmed by USSM, version 2 not.
    let mou = get_json(&format!("{base}/agreements/{MOU}"));
    assert_eq!(mou["disclosure"], "partly-disclosed", "{mou:#}");
    assert_eq!(
        (mou["clauses"].as_u64(), mou["revealed"].as_u64()),
        (Some(6), Some(3))
    );
    assert_eq!(mou["disclosure_overdue"], true);
    assert_eq!(mou["figures"], "illustrative");
    let versions = mou["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["confirmed_by"][0]["party"], "ussm");
    assert_eq!(versions[1]["not_yet_confirmed_by"][0], "ussm");
    let status: Vec<(&str, &str)> = mou["pledge_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert_eq!(status, [("p1", "open"), ("m1", "met"), ("m2", "not-met")]);
    assert_eq!(mou["pledge_status"][0]["delivered"], "55000000");

    // The milestone's evidence is the sample consignment's shipping and
    // receiving events, as captured.
    let progress = get_json(&format!("{base}/agreements/{MOU}/progress"));
    let m1 = progress["progress"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["record"]["pledge"] == "m1")
        .unwrap_or_else(|| panic!("{progress:#}"));
    for index in m1["record"]["records"].as_array().unwrap() {
        let entry = get_json(&format!("{base}/records/{index}"));
        assert_eq!(entry["kind"], "epcis-event", "{entry:#}");
    }

    // The parallel MoU: sealed, never confirmed, overdue.
    let nlc = get_json(&format!("{base}/agreements/{NLC}"));
    assert_eq!(nlc["disclosure"], "sealed");
    assert_eq!(nlc["overdue"], true);
    assert_eq!(
        nlc["versions"][0]["confirmation"],
        "registered by nlc, not yet confirmed by mota-engil"
    );

    // Reports are reports, not agreements; the estimate is illustrative.
    let reports = get_json(&format!("{base}/reports"));
    let ids: Vec<&str> = reports["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "minerals-watch:pasni-port-offer",
            "minerals-watch:usd-6-trillion"
        ]
    );
    assert!(
        reports["reports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "unconfirmed")
    );
    let agreements = get_json(&format!("{base}/agreements"));
    assert_eq!(agreements["agreements"].as_array().unwrap().len(), 2);
    let resources = get_json(&format!("{base}/resources"));
    assert_eq!(
        resources["resources"][0]["record"]["figures"],
        "illustrative"
    );

    // The printed reveal commands, with the server's address.
    let (fetch, verify) = printed_after(&printed, "Reveal:");
    let record = fetch
        .split("/records/")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap();
    let receipt = fetch
        .split("/records/")
        .nth(2)
        .and_then(|r| r.strip_suffix("/receipt > mou.tlog-proof"))
        .unwrap();
    let reveal = tmp.path().join("reveal.json");
    let proof = tmp.path().join("mou.tlog-proof");
    std::fs::write(&reveal, get(&format!("{base}/records/{record}")).1).unwrap();
    std::fs::write(&proof, get(&format!("{base}/records/{receipt}/receipt")).1).unwrap();
    let vkey = verify.split('\'').nth(1).unwrap();
    let run = oretrace(&[
        "agreement",
        "verify",
        path(&reveal),
        "--receipt",
        path(&proof),
        "--vkey",
        vkey,
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("verified: 3 clause(s) (0, 1, 2)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("sealed in: agreement {MOU} version 2")),
        "{}",
        run.stdout
    );

    // The independent checker, from the format document alone.
    let sealed = get_json(&format!("{base}/agreements/{MOU}/versions/2"));
    let root = sealed["record"]["terms"]["sealed"]["root"]
        .as_str()
        .unwrap();
    let python = |file: &Path| {
        Command::new("python3")
            .arg(project_root().join("tests/disclosure/check_vectors.py"))
            .args(["--reveal", path(file), root, "6"])
            .output()
            .unwrap()
    };
    let out = python(&reveal);
    assert!(out.status.success(), "{out:?}");

    // A changed text fails both checks, naming the clause.
    let text = std::fs::read_to_string(&reveal).unwrap();
    let mut value: Value = serde_json::from_str(&text).unwrap();
    value["record"]["clauses"][1]["text"] = Value::from("Article 2. USD 5 billion.");
    let tampered = tmp.path().join("tampered.json");
    std::fs::write(&tampered, value.to_string()).unwrap();
    let run = oretrace(&[
        "agreement",
        "verify",
        path(&tampered),
        "--receipt",
        path(&proof),
        "--vkey",
        vkey,
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("FAILED: clause 1 "),
        "{}",
        run.stdout
    );
    let out = python(&tampered);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("clause 1 does not open"),
        "{out:?}"
    );
}

/// Every byte sequence under `dir`, except the parties' keys folder,
/// that contains `needle`: the files' names.
fn files_holding(dir: &Path, needle: &[u8], keys: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let p = entry.path();
        if p == keys {
            continue;
        }
        if p.is_dir() {
            files_holding(&p, needle, keys, found);
        } else {
            let bytes = std::fs::read(&p).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                found.push(p.display().to_string());
            }
        }
    }
}

#[test]
fn sealed_clauses_reach_neither_the_store_the_log_nor_any_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let (_, server) = demo(&data);
    let base = server.base();
    let keys = data.join("keys");

    // What must stay on the parties' side: the texts and salts of every
    // clause still sealed (FWO's clauses 3 to 5, all of NLC's), kept in
    // their openings beside their keys.
    let mut secrets: Vec<String> = Vec::new();
    // Lines that revealed clauses show too (the headings' shared label).
    let mut shown: Vec<String> = Vec::new();
    for (file, sealed_from) in [
        ("fwo_mou-ussm-2025.opening.json", 3),
        ("nlc_mou-mota-engil-2025.opening.json", 0),
    ] {
        let opening: Value =
            serde_json::from_str(&std::fs::read_to_string(keys.join(file)).unwrap()).unwrap();
        let clauses = opening["clauses"].as_array().unwrap();
        for clause in &clauses[..sealed_from] {
            shown.extend(clause["text"].as_str().unwrap().lines().map(str::to_owned));
        }
        for clause in &clauses[sealed_from..] {
            secrets.push(clause["text"].as_str().unwrap().to_owned());
            secrets.push(clause["salt"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(secrets.len(), 2 * (3 + 3));
    let marker = "7f3c9e2a-annex-a-offtake";
    assert!(secrets.iter().any(|s| s.contains(marker)));
    secrets.push(marker.to_owned());

    // Drive every read: lists, each agreement, version, clause, pledge
    // and progress view, totals, reports, resources, every export, every
    // log entry and its receipt, and the log's tiles.
    let mut answers: Vec<(String, Vec<u8>)> = Vec::new();
    let mut read = |url: String| {
        let (status, body) = get(&url);
        assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
        answers.push((url, body));
    };
    for p in [
        "/agreements",
        "/agreements?overdue=true",
        "/reports",
        "/resources",
        "/pledges/totals?by=party",
        "/pledges/totals?by=country",
        "/pledges/totals?by=agreement",
        "/exports/agreements.csv",
        "/exports/pledges.csv",
        "/exports/reports.csv",
        "/openapi.json",
        "/checkpoint",
    ] {
        read(format!("{base}{p}"));
    }
    for id in [MOU, NLC] {
        for p in [
            "",
            "/pledges",
            "/progress",
            "/versions/1",
            "/versions/1/clauses",
            "/ocds",
            "/ocds/releases",
        ] {
            read(format!("{base}/agreements/{id}{p}"));
        }
    }
    read(format!("{base}/agreements/{MOU}/versions/2"));
    read(format!("{base}/agreements/{MOU}/versions/2/clauses"));
    let size = get_json(&format!("{base}/healthz"))["size"]
        .as_u64()
        .unwrap();
    assert_eq!(size, 54);
    for i in 0..size {
        read(format!("{base}/records/{i}"));
        read(format!("{base}/records/{i}/receipt"));
    }
    // The log as tiles: every entry bundle, through an independent audit
    // of the whole log too.
    let vkey = String::from_utf8(get(&format!("{base}/vkey")).1).unwrap();
    let audit = oretrace(&["verify", &base, "--vkey", vkey.trim(), "--no-state"]);
    assert_eq!(audit.code, 0, "{}{}", audit.stdout, audit.stderr);
    read(format!("{base}/tile/entries/000.p/{size}"));

    // The CLI's exports say the same.
    for args in [
        vec!["export", "--server", &base, "--agreement", MOU],
        vec![
            "export",
            "--server",
            &base,
            "--agreement",
            NLC,
            "--ocds",
            "releases",
        ],
        vec!["export", "--server", &base, "--csv", "agreements"],
    ] {
        let run = oretrace(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        answers.push((format!("{args:?}"), run.stdout.into_bytes()));
    }
    drop(server);

    for secret in &secrets {
        // As written, as JSON writes it, and line by line: a text kept in
        // a JSON column or a canonical record is escaped.
        let escaped = serde_json::to_string(secret).unwrap();
        let mut needles: Vec<&str> = vec![secret, &escaped[1..escaped.len() - 1]];
        needles.extend(
            secret
                .lines()
                .filter(|l| l.len() >= 20 && !shown.iter().any(|s| s == l)),
        );
        for needle in &needles {
            for (url, body) in &answers {
                assert!(
                    !body.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{url} holds a sealed clause's text or salt: {needle}"
                );
            }
            let mut found = Vec::new();
            files_holding(&data, needle.as_bytes(), &keys, &mut found);
            assert!(
                found.is_empty(),
                "the server's files hold a sealed clause's text or salt ({needle}): {found:?}"
            );
        }
        // The search finds what is there: the party's opening holds it.
        let mut in_keys = Vec::new();
        for needle in &needles {
            files_holding(
                &keys,
                needle.as_bytes(),
                Path::new("/nonexistent"),
                &mut in_keys,
            );
        }
        assert!(!in_keys.is_empty(), "{secret} is in no opening");
    }
}
