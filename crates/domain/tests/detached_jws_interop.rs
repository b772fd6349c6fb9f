//! The detached, unencoded JWS of a subscription delivery
//! (`GS1-Signature`, `docs/design/epcis-binding.md` §4) and its
//! `GS1-Signature-HMAC` against independent implementations, both ways:
//! PyPI `jwcrypto` (pinned in `tests/interop/requirements.txt`, installed
//! into `.venv/interop` by `bash .ci/interop-env`) verifies what
//! `CredentialKey::sign_detached` writes and refuses it over a changed
//! body; `verify_detached_with` verifies what jwcrypto signs (RFC 7797
//! `b64: false`, payload detached) and refuses it over a changed body; the
//! standard library's `hmac` computes the same `sha256=` value.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use oretrace_domain::jose::{
    CredentialKey, check_delivery_hmac, delivery_hmac, jwk_set, verify_detached_with,
};
use serde_json::{Map, Value, json};

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ORETRACE_INTEROP_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = project_root().join(".venv/interop/bin/python");
    assert!(
        venv.exists(),
        "no {}: run `bash .ci/interop-env` to install jwcrypto",
        venv.display()
    );
    venv
}

/// The script's verdict: (exit code, stdout, stderr).
fn script(args: &[&Path]) -> (i32, String, String) {
    let out = Command::new(python())
        .arg(project_root().join("tests/interop/verify_detached_jws.py"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn key() -> CredentialKey {
    CredentialKey::from_seed([0x5a; 32])
}

fn delivery_header(jti: &str) -> Map<String, Value> {
    let Value::Object(header) = json!({
        "typ": "epcis-delivery+jws",
        "iss": "oretrace.example/log",
        "sub": "6f1c0b7e2d4a49e8a3b5c7d9e1f20304",
        "jti": jti,
        "iat": 1_780_000_000,
    }) else {
        unreachable!()
    };
    header
}

/// Bodies as a delivery sends them, and some awkward ones: dots, newlines,
/// non-ASCII, bytes that are not UTF-8, nothing.
fn bodies() -> Vec<Vec<u8>> {
    vec![
        br#"{"@context":["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],"type":"EPCISQueryDocument","schemaVersion":"2.0","creationDate":"2026-12-05T02:00:00.000Z","epcisBody":{"queryResults":{"subscriptionID":"6f1c","queryName":"ree","resultsBody":{"eventList":[{"type":"ObjectEvent","eventTime":"2026-12-05T01:59:00.5Z","quantity":12.5}]}}}}"#.to_vec(),
        b"a.b..c\n\r\n.".to_vec(),
        "Grube Wolfsberg \u{2013} Bergbau \u{1f4a0}".as_bytes().to_vec(),
        vec![0, 0xff, 0xfe, b'.', 0x80],
        Vec::new(),
    ]
}

#[test]
fn jwcrypto_verifies_our_detached_jws_and_refuses_a_changed_body() {
    let dir = tempfile::tempdir().unwrap();
    let key = key();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, jwk_set(&[key.public().clone()]).to_string()).unwrap();
    for (n, body) in bodies().iter().enumerate() {
        let jti = format!("01JD{n:022}");
        let jws = key.sign_detached(&delivery_header(&jti), body);
        let (jws_file, body_file) = (dir.path().join("jws"), dir.path().join("body"));
        std::fs::write(&jws_file, &jws).unwrap();
        std::fs::write(&body_file, body).unwrap();
        let (code, out, err) = script(&[&jwks, &jws_file, &body_file]);
        assert_eq!(code, 0, "body {n}: jwcrypto refused {jws}: {err}");
        let header: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(header["kid"], key.public().kid());
        assert_eq!(header["jti"], jti.as_str());
        assert_eq!(header["typ"], "epcis-delivery+jws");
        assert_eq!(header["b64"], false);

        let mut changed = body.clone();
        changed.push(b' ');
        std::fs::write(&body_file, &changed).unwrap();
        let (code, _, err) = script(&[&jwks, &jws_file, &body_file]);
        assert_eq!(code, 1, "body {n}: jwcrypto accepted a changed body: {err}");
        assert!(err.contains("jwcrypto"), "{err}");
    }
}

#[test]
fn we_verify_jwcrypto_s_detached_jws_and_refuse_a_changed_body() {
    let dir = tempfile::tempdir().unwrap();
    let key = key();
    let keys = [
        CredentialKey::from_seed([1; 32]).public().clone(),
        key.public().clone(),
    ];
    let private = dir.path().join("key.jwk");
    std::fs::write(&private, key.to_private_jwk()).unwrap();
    for (n, body) in bodies().iter().enumerate() {
        let jti = format!("01JE{n:022}");
        let (header_file, body_file) = (dir.path().join("header.json"), dir.path().join("body"));
        std::fs::write(
            &header_file,
            Value::Object(delivery_header(&jti)).to_string(),
        )
        .unwrap();
        std::fs::write(&body_file, body).unwrap();
        let sign = Path::new("--sign");
        let (code, out, err) = script(&[sign, &private, &header_file, &body_file]);
        assert_eq!(code, 0, "body {n}: jwcrypto did not sign: {err}");
        let jws = out.trim();
        assert!(jws.contains(".."), "body {n}: not detached: {jws}");
        let header = verify_detached_with(&keys, jws, body)
            .unwrap_or_else(|e| panic!("body {n}: refused jwcrypto's {jws}: {e}"));
        assert_eq!(header["kid"], key.public().kid());
        assert_eq!(header["jti"], jti.as_str());
        assert_eq!(header["crit"], json!(["b64"]));

        let mut changed = body.clone();
        changed.push(b' ');
        assert!(verify_detached_with(&keys, jws, &changed).is_err());
        assert!(verify_detached_with(&keys[..1], jws, body).is_err());
    }
}

#[test]
fn the_standard_library_s_hmac_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    let body_file = dir.path().join("body");
    let hmac = Path::new("--hmac");
    for (n, body) in bodies().iter().enumerate() {
        let secret = format!("token-{n}-{}", "x".repeat(n * 40)).into_bytes();
        let jti = format!("01JF{n:022}");
        std::fs::write(&token, &secret).unwrap();
        std::fs::write(&body_file, body).unwrap();
        let (code, out, err) = script(&[hmac, &token, Path::new(&jti), &body_file]);
        assert_eq!(code, 0, "{err}");
        let theirs = out.trim();
        assert_eq!(delivery_hmac(&secret, &jti, body), theirs, "body {n}");
        assert!(check_delivery_hmac(&secret, &jti, body, theirs));
    }
}
