//! JOSE: the detached, unencoded JWS a subscription delivery carries
//! (`GS1-Signature`), as a receiver reads it.

use oretrace_domain::jose::{
    CredentialKey, check_delivery_hmac, delivery_hmac, verify_detached_with,
};
use serde_json::{Map, Value, json};

use crate::MAX_INPUT;

/// The input is a JWS, a line feed, then the body it is said to sign.
/// Verifying never panics, and accepts nothing the fixed key did not sign
/// (the fuzzer cannot forge an Ed25519 signature); a JWS signed here over
/// the body verifies, and fails over any other body; the HMAC of a body
/// checks against itself only.
pub fn detached(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let key = CredentialKey::from_seed([7; 32]);
    let keys = [key.public().clone()];
    let (jws, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    if let Ok(jws) = std::str::from_utf8(jws) {
        assert!(
            verify_detached_with(&keys, jws, body).is_err(),
            "an arbitrary JWS verified"
        );
    }
    let mut header = Map::new();
    header.insert("typ".into(), json!("epcis-delivery+jws"));
    header.insert("jti".into(), Value::String(format!("{:x}", body.len())));
    let signed = key.sign_detached(&header, body);
    let claims = match verify_detached_with(&keys, &signed, body) {
        Ok(claims) => claims,
        Err(e) => panic!("a JWS signed here does not verify: {e}"),
    };
    assert_eq!(claims.get("b64"), Some(&Value::Bool(false)));
    let mut other = body.to_vec();
    other.push(0);
    assert!(verify_detached_with(&keys, &signed, &other).is_err());
    let mac = delivery_hmac(b"token", "jti", body);
    assert!(check_delivery_hmac(b"token", "jti", body, &mac));
    assert!(!check_delivery_hmac(b"token", "jti", &other, &mac));
}
