//! `oretrace verify --inclusion` on the receipt of a captured EPCIS event
//! says who captured it and how (signed document or bearer token), and
//! names the log key as what logged it.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::path::Path;

use support::{oretrace, path, vkey_of};

fn get(url: &str) -> (u16, Vec<u8>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::blocking::get(url).unwrap();
    (
        response.status().as_u16(),
        response.bytes().unwrap().to_vec(),
    )
}

fn verify_receipt(receipt: &Path, vkey: &str) -> support::Run {
    oretrace(&["verify", "--inclusion", path(receipt), "--vkey", vkey])
}

#[test]
fn an_event_receipt_names_its_capturer_and_how_it_was_authenticated() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let server = support::served_demo(&data);
    let base = server.base();
    let (_, vkey) = get(&format!("{base}/vkey"));
    let vkey = String::from_utf8(vkey).unwrap().trim().to_owned();
    let origin = vkey.split('+').next().unwrap().to_owned();

    // The demo's material story is captured as documents its parties signed.
    let index = (0..54)
        .rev()
        .find(|i| {
            let (status, body) = get(&format!("{base}/records/{i}"));
            assert_eq!(status, 200);
            let view: serde_json::Value = serde_json::from_slice(&body).unwrap();
            view["kind"] == "epcis-event"
        })
        .unwrap();
    let (status, receipt) = get(&format!("{base}/records/{index}/receipt"));
    assert_eq!(status, 200);
    let file = tmp.path().join("signed.tlog-proof");
    std::fs::write(&file, receipt).unwrap();
    let run = verify_receipt(&file, &vkey);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("record:   epcis-event ni:///sha-256;")
            && run.stdout.contains("(signed document: ")
            && run.stdout.contains("/key-1")
            && run.stdout.contains(&format!("logged by: {origin}+"))
            && !run.stdout.contains("signed by:"),
        "{}",
        run.stdout
    );
    let captured_by = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("captured by: "))
        .unwrap();
    let party = captured_by.split(' ').next().unwrap();
    assert!(
        ["fwo", "pk-assay-lab", "nlc", "ussm"].contains(&party),
        "{captured_by}"
    );

    // A bearer-token capture names the token's key.
    let key = data.join("keys/fwo_key-1.key");
    let run = oretrace(&["auth", "token", "--server", &base, "--key", path(&key)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let token = run.stdout.trim().to_owned();
    let example =
        oretrace_benchkit::conformance("epcis/examples").join("Example_9.6.1-ObjectEvent.jsonld");
    let receipts = tmp.path().join("receipts");
    let run = oretrace(&[
        "import",
        path(&example),
        "--server",
        &base,
        "--token",
        &token,
        "--receipts",
        path(&receipts),
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let receipt = std::fs::read_dir(&receipts)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let run = verify_receipt(&receipt, &vkey);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A vkey is <name>+<hex id>+<base64>, and base64 may hold '+': the
    // reference is the first two parts.
    let vkey_text = vkey_of(&key);
    let mut parts = vkey_text.splitn(3, '+');
    let key_ref = format!("{}+{}", parts.next().unwrap(), parts.next().unwrap());
    assert!(
        run.stdout
            .contains(&format!("captured by: fwo (bearer token of {key_ref})\n"))
            && run.stdout.contains(&format!("logged by: {origin}+")),
        "{}",
        run.stdout
    );
}
