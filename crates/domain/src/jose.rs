//! JOSE, as much as the lot passport needs (`docs/design/passport.md`):
//! base64url without padding (RFC 7515 §2), Ed25519 JSON Web Keys
//! (RFC 8037 `OKP`), their RFC 7638 thumbprints as key ids, JWK sets
//! (RFC 7517 §5), and compact JWS signed and verified with `EdDSA`
//! (RFC 7515 §7.1, RFC 8037 §3.1). For EPCIS subscription deliveries
//! (`docs/design/epcis-binding.md` §4, "Signing"): the same JWS with a
//! detached, unencoded payload (RFC 7515 Appendix F, RFC 7797 `b64:
//! false`), and the `GS1-Signature-HMAC` shared-secret form
//! (HMAC-SHA256, RFC 2104, by the RustCrypto `hmac` crate).
//!
//! Written by hand over `ed25519-dalek` and `base64` (a few dozen lines)
//! rather than with a JOSE crate: the passport uses one algorithm and one
//! serialization, and refusing everything else (`alg` other than
//! `EdDSA`, `crit` (but the one `["b64"]` of a detached unencoded JWS),
//! unpadded-base64url violations, keys of other types) is simpler to see
//! here than to configure there. Pinned by the RFC 8037
//! Appendix A vectors and checked against PyPI `jwcrypto`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

/// The largest compact JWS read.
pub const MAX_JWS_BYTES: usize = 32 * 1024 * 1024;

/// The largest protected header of a detached JWS read, decoded.
pub const MAX_DETACHED_HEADER_BYTES: usize = 8 * 1024;

/// The largest detached JWS read: the header, base64url, two dots and an
/// Ed25519 signature (86 characters), with room to spare.
pub const MAX_DETACHED_JWS_BYTES: usize = 12 * 1024;

/// The largest JWK set read (keys beyond the first 100 are refused).
pub const MAX_JWK_SET_KEYS: usize = 100;

/// Why a key or a JWS is refused; each names what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// Not a well-formed key, key set or JWS.
    #[error("{what}: {why}")]
    Malformed { what: &'static str, why: String },
    /// A header the passport does not accept.
    #[error("the JWS header: {0}")]
    Header(String),
    /// The key the header names is not among those given.
    #[error("the JWS is signed by key {kid:?}, which is not in the issuer's key set ({known})")]
    UnknownKey { kid: String, known: String },
    /// The signature does not verify.
    #[error("the JWS signature does not verify with the issuer's key {kid}")]
    BadSignature { kid: String },
}

fn malformed(what: &'static str, why: impl Into<String>) -> JoseError {
    JoseError::Malformed {
        what,
        why: why.into(),
    }
}

/// A JWS protected header: a JSON object whose `alg` is `EdDSA`.
fn eddsa_header(bytes: &[u8]) -> Result<Map<String, Value>, JoseError> {
    let header: Map<String, Value> = serde_json::from_slice(bytes)
        .map_err(|e| malformed("JWS header", format!("not a JSON object: {e}")))?;
    match header.get("alg").and_then(Value::as_str) {
        Some("EdDSA") => Ok(header),
        Some(other) => Err(JoseError::Header(format!(
            "alg {other:?}: only EdDSA is accepted"
        ))),
        None => Err(JoseError::Header("no alg".into())),
    }
}

/// base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding, refusing padding, other alphabets
/// and non-canonical trailing bits.
pub fn b64url_decode(text: &str, what: &'static str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| malformed(what, format!("not unpadded base64url: {e}")))
}

/// The RFC 7638 thumbprint of an Ed25519 public key: base64url of the
/// SHA-256 of `{"crv":"Ed25519","kty":"OKP","x":"…"}`.
fn thumbprint(x: &str) -> String {
    let members = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    b64url(&Sha256::digest(members.as_bytes()))
}

/// An Ed25519 public key as a JWK, named by its thumbprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicJwk {
    key: VerifyingKey,
    kid: String,
}

impl PublicJwk {
    fn new(key: VerifyingKey) -> Self {
        let kid = thumbprint(&b64url(key.as_bytes()));
        PublicJwk { key, kid }
    }

    /// The key id: the RFC 7638 thumbprint.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `x`: the public key, base64url.
    pub fn x(&self) -> String {
        b64url(self.key.as_bytes())
    }

    /// The public JWK (`kty`, `crv`, `x`, `kid`, `use`, `alg`).
    pub fn to_json(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": self.x(),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        })
    }

    /// Reads one public JWK: `kty` `OKP`, `crv` `Ed25519`, `x` 32 bytes;
    /// a `kid`, when present, must be the thumbprint (a key cannot be
    /// passed off under another's name).
    pub fn from_json(jwk: &Value) -> Result<Self, JoseError> {
        let member = |name: &str| jwk.get(name).and_then(Value::as_str);
        if member("kty") != Some("OKP") || member("crv") != Some("Ed25519") {
            return Err(malformed(
                "JWK",
                "not an Ed25519 key (kty OKP, crv Ed25519)",
            ));
        }
        if let Some(alg) = member("alg")
            && alg != "EdDSA"
        {
            return Err(malformed("JWK", format!("alg {alg:?}, expected EdDSA")));
        }
        let x = member("x").ok_or_else(|| malformed("JWK", "no x"))?;
        let bytes: [u8; 32] = b64url_decode(x, "JWK x")?
            .try_into()
            .map_err(|_| malformed("JWK x", "not 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| malformed("JWK x", "not an Ed25519 public key"))?;
        let public = PublicJwk::new(key);
        if let Some(kid) = member("kid")
            && kid != public.kid
        {
            return Err(malformed(
                "JWK",
                format!(
                    "kid {kid:?} is not the key's RFC 7638 thumbprint {}",
                    public.kid
                ),
            ));
        }
        Ok(public)
    }

    /// Verifies a compact JWS with this key; returns its header and
    /// payload.
    pub fn verify_compact(&self, jws: &str) -> Result<(Map<String, Value>, Vec<u8>), JoseError> {
        let parts = Compact::parse(jws)?;
        let signature = Signature::from_slice(&parts.signature)
            .map_err(|_| malformed("JWS signature", "not 64 bytes"))?;
        self.key
            .verify_strict(parts.signing_input.as_bytes(), &signature)
            .map_err(|_| JoseError::BadSignature {
                kid: self.kid.clone(),
            })?;
        Ok((parts.header, parts.payload))
    }

    /// Verifies a compact JWS with a detached, unencoded payload (RFC 7515
    /// Appendix F, RFC 7797) over `payload`, as [`CredentialKey::sign_detached`]
    /// makes it: `header..signature`, the header with `alg` `EdDSA`, `b64`
    /// `false`, `crit` exactly `["b64"]` and this key's `kid`. Returns the
    /// protected header.
    pub fn verify_detached(
        &self,
        jws: &str,
        payload: &[u8],
    ) -> Result<Map<String, Value>, JoseError> {
        let parts = Detached::parse(jws)?;
        if parts.kid()? != self.kid {
            return Err(JoseError::UnknownKey {
                kid: parts.kid()?.to_owned(),
                known: self.kid.clone(),
            });
        }
        self.verify_detached_parts(parts, payload)
    }

    fn verify_detached_parts(
        &self,
        parts: Detached<'_>,
        payload: &[u8],
    ) -> Result<Map<String, Value>, JoseError> {
        let mut input = Vec::with_capacity(parts.header_b64.len() + 1 + payload.len());
        input.extend_from_slice(parts.header_b64.as_bytes());
        input.push(b'.');
        input.extend_from_slice(payload);
        self.key
            .verify_strict(&input, &parts.signature)
            .map_err(|_| JoseError::BadSignature {
                kid: self.kid.clone(),
            })?;
        Ok(parts.header)
    }
}

/// A JWK set (`{"keys": […]}`) of the given keys.
pub fn jwk_set(keys: &[PublicJwk]) -> Value {
    json!({ "keys": keys.iter().map(PublicJwk::to_json).collect::<Vec<_>>() })
}

/// Reads a JWK set, or a single JWK, keeping its Ed25519 keys (keys of
/// other types are skipped; a malformed Ed25519 key is refused). Refuses
/// a set with no Ed25519 key, or with a private key in it.
pub fn parse_jwk_set(text: &str) -> Result<Vec<PublicJwk>, JoseError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| malformed("JWK set", format!("not JSON: {e}")))?;
    let keys: Vec<Value> = match value.get("keys") {
        Some(Value::Array(keys)) => keys.clone(),
        Some(_) => return Err(malformed("JWK set", "keys is not an array")),
        None if value.get("kty").is_some() => vec![value],
        None => return Err(malformed("JWK set", "neither a JWK set nor a JWK")),
    };
    if keys.len() > MAX_JWK_SET_KEYS {
        return Err(malformed(
            "JWK set",
            format!("more than {MAX_JWK_SET_KEYS} keys"),
        ));
    }
    let mut out = Vec::new();
    for key in &keys {
        if key.get("d").is_some() {
            return Err(malformed(
                "JWK set",
                "holds a private key (d): publish and pass the public keys only",
            ));
        }
        if key.get("kty").and_then(Value::as_str) == Some("OKP")
            && key.get("crv").and_then(Value::as_str) == Some("Ed25519")
        {
            out.push(PublicJwk::from_json(key)?);
        }
    }
    if out.is_empty() {
        return Err(malformed("JWK set", "holds no Ed25519 key"));
    }
    Ok(out)
}

/// The registry's credential key: an Ed25519 signing key.
#[derive(Clone)]
pub struct CredentialKey {
    key: SigningKey,
    public: PublicJwk,
}

impl std::fmt::Debug for CredentialKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CredentialKey({})", self.public.kid)
    }
}

impl CredentialKey {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let public = PublicJwk::new(key.verifying_key());
        CredentialKey { key, public }
    }

    /// Reads a private JWK (`kty` `OKP`, `crv` `Ed25519`, `d`, and `x`,
    /// which must be `d`'s public key).
    pub fn from_private_jwk(text: &str) -> Result<Self, JoseError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| malformed("private JWK", format!("not JSON: {e}")))?;
        let public = PublicJwk::from_json(&value)?;
        let d = value
            .get("d")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("private JWK", "no d"))?;
        let seed: [u8; 32] = b64url_decode(d, "JWK d")?
            .try_into()
            .map_err(|_| malformed("JWK d", "not 32 bytes"))?;
        let key = CredentialKey::from_seed(seed);
        if key.public != public {
            return Err(malformed("private JWK", "x is not the public key of d"));
        }
        Ok(key)
    }

    /// The private JWK (with `d`): the file a data directory keeps.
    pub fn to_private_jwk(&self) -> String {
        let mut jwk = self.public.to_json();
        jwk["d"] = Value::String(b64url(self.key.as_bytes()));
        jwk.to_string()
    }

    pub fn public(&self) -> &PublicJwk {
        &self.public
    }

    /// A compact JWS of `payload` under the protected `header` (serialized
    /// as given, members in name order).
    pub fn sign_compact(&self, header: &Map<String, Value>, payload: &[u8]) -> String {
        let header = Value::Object(header.clone()).to_string();
        let input = format!("{}.{}", b64url(header.as_bytes()), b64url(payload));
        let signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", b64url(&signature.to_bytes()))
    }

    /// A compact JWS with a detached, unencoded payload (RFC 7515 Appendix
    /// F, RFC 7797): `header..signature`, signed over
    /// `BASE64URL(header) || '.' || payload` with the payload's raw bytes.
    /// The protected `header` is serialized as given (members in name
    /// order) with `alg` `EdDSA`, `kid` this key's thumbprint, `b64`
    /// `false` and `crit` `["b64"]` set over whatever it says of them.
    pub fn sign_detached(&self, header: &Map<String, Value>, payload: &[u8]) -> String {
        let mut header = header.clone();
        header.insert("alg".into(), Value::String("EdDSA".into()));
        header.insert("kid".into(), Value::String(self.public.kid.clone()));
        header.insert("b64".into(), Value::Bool(false));
        header.insert("crit".into(), json!(["b64"]));
        let header = b64url(Value::Object(header).to_string().as_bytes());
        let mut input = Vec::with_capacity(header.len() + 1 + payload.len());
        input.extend_from_slice(header.as_bytes());
        input.push(b'.');
        input.extend_from_slice(payload);
        let signature = self.key.sign(&input);
        format!("{header}..{}", b64url(&signature.to_bytes()))
    }
}

/// A compact JWS taken apart (nothing verified yet).
#[derive(Debug)]
struct Compact<'a> {
    header: Map<String, Value>,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> Compact<'a> {
    fn parse(jws: &'a str) -> Result<Self, JoseError> {
        if jws.len() > MAX_JWS_BYTES {
            return Err(malformed(
                "JWS",
                format!("{} bytes, at most {MAX_JWS_BYTES}", jws.len()),
            ));
        }
        let (signing_input, signature) = jws
            .rsplit_once('.')
            .ok_or_else(|| malformed("JWS", "not header.payload.signature"))?;
        let (header, payload) = signing_input
            .split_once('.')
            .ok_or_else(|| malformed("JWS", "not header.payload.signature"))?;
        if payload.contains('.') {
            return Err(malformed(
                "JWS",
                "more than three parts (a JWE, or not compact)",
            ));
        }
        let header_bytes = b64url_decode(header, "JWS header")?;
        let header = eddsa_header(&header_bytes)?;
        if header.contains_key("crit") {
            return Err(JoseError::Header(
                "crit names extensions this verifier does not understand".into(),
            ));
        }
        Ok(Compact {
            header,
            signing_input,
            payload: b64url_decode(payload, "JWS payload")?,
            signature: b64url_decode(signature, "JWS signature")?,
        })
    }
}

/// A detached, unencoded compact JWS taken apart (nothing verified yet).
#[derive(Debug)]
struct Detached<'a> {
    header: Map<String, Value>,
    header_b64: &'a str,
    signature: Signature,
}

impl<'a> Detached<'a> {
    fn parse(jws: &'a str) -> Result<Self, JoseError> {
        if jws.len() > MAX_DETACHED_JWS_BYTES {
            return Err(malformed(
                "detached JWS",
                format!("{} bytes, at most {MAX_DETACHED_JWS_BYTES}", jws.len()),
            ));
        }
        let mut parts = jws.split('.');
        let (Some(header_b64), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed(
                "detached JWS",
                "not three parts header..signature",
            ));
        };
        if !payload.is_empty() {
            return Err(malformed(
                "detached JWS",
                "the payload part is not empty (the payload travels apart, as the body)",
            ));
        }
        let header_bytes = b64url_decode(header_b64, "JWS header")?;
        if header_bytes.len() > MAX_DETACHED_HEADER_BYTES {
            return Err(malformed(
                "JWS header",
                format!(
                    "{} bytes, at most {MAX_DETACHED_HEADER_BYTES}",
                    header_bytes.len()
                ),
            ));
        }
        let header = eddsa_header(&header_bytes)?;
        if header.get("b64") != Some(&Value::Bool(false)) {
            return Err(JoseError::Header(
                "b64 is not false: a detached JWS here has an unencoded payload (RFC 7797)".into(),
            ));
        }
        if header.get("crit") != Some(&json!(["b64"])) {
            return Err(JoseError::Header(
                "crit is not exactly [\"b64\"]: other extensions are not understood".into(),
            ));
        }
        let signature = Signature::from_slice(&b64url_decode(signature, "JWS signature")?)
            .map_err(|_| malformed("JWS signature", "not 64 bytes"))?;
        Ok(Detached {
            header,
            header_b64,
            signature,
        })
    }

    fn kid(&self) -> Result<&str, JoseError> {
        self.header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or_else(|| JoseError::Header("no kid naming the issuer's key".into()))
    }
}

/// Verifies a detached, unencoded compact JWS over `payload` with the key
/// its `kid` names among `keys` (see [`PublicJwk::verify_detached`]);
/// returns the protected header.
pub fn verify_detached_with(
    keys: &[PublicJwk],
    jws: &str,
    payload: &[u8],
) -> Result<Map<String, Value>, JoseError> {
    let parts = Detached::parse(jws)?;
    let key = find_key(keys, parts.kid()?)?;
    key.verify_detached_parts(parts, payload)
}

fn find_key<'k>(keys: &'k [PublicJwk], kid: &str) -> Result<&'k PublicJwk, JoseError> {
    keys.iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| JoseError::UnknownKey {
            kid: kid.to_owned(),
            known: keys
                .iter()
                .map(|k| k.kid.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The keyed MAC of a delivery: HMAC-SHA256 under the subscriber's
/// `signatureToken` of `jti ‖ LF ‖ body`.
fn delivery_mac(token: &[u8], jti: &str, body: &[u8]) -> Hmac<Sha256> {
    #[expect(
        clippy::expect_used,
        reason = "HMAC takes a key of any length (RFC 2104 §2): new_from_slice never fails"
    )]
    let mut mac = Hmac::<Sha256>::new_from_slice(token).expect("HMAC takes keys of any length");
    mac.update(jti.as_bytes());
    mac.update(b"\n");
    mac.update(body);
    mac
}

/// The `GS1-Signature-HMAC` header value of a delivery:
/// `sha256=<lowercase hex HMAC-SHA256(token, jti ‖ LF ‖ body)>`.
pub fn delivery_hmac(token: &[u8], jti: &str, body: &[u8]) -> String {
    let tag = delivery_mac(token, jti, body).finalize().into_bytes();
    let mut out = String::with_capacity(7 + 2 * tag.len());
    out.push_str("sha256=");
    for byte in tag {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `header_value` is the delivery's `GS1-Signature-HMAC`
/// (`sha256=` and 64 lowercase hex digits), the tags compared in
/// constant time.
pub fn check_delivery_hmac(token: &[u8], jti: &str, body: &[u8], header_value: &str) -> bool {
    let Some(hex) = header_value.strip_prefix("sha256=") else {
        return false;
    };
    if hex.len() != 64 {
        return false;
    }
    let mut tag = [0u8; 32];
    for (byte, pair) in tag.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let digit = |c: u8| HEX.iter().position(|&h| h == c);
        let (Some(high), Some(low)) = (digit(pair[0]), digit(pair[1])) else {
            return false;
        };
        *byte = ((high as u8) << 4) | low as u8;
    }
    delivery_mac(token, jti, body).verify_slice(&tag).is_ok()
}

/// What [`verify_compact`] proved: the key that signed, the header and the
/// payload.
#[derive(Debug)]
pub struct VerifiedJws {
    pub kid: String,
    pub header: Map<String, Value>,
    pub payload: Vec<u8>,
}

/// Verifies a compact JWS with the key its `kid` names among `keys`.
pub fn verify_compact(jws: &str, keys: &[PublicJwk]) -> Result<VerifiedJws, JoseError> {
    let parts = Compact::parse(jws)?;
    let kid = parts
        .header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(|| JoseError::Header("no kid naming the issuer's key".into()))?;
    let key = find_key(keys, kid)?;
    let (header, payload) = key.verify_compact(jws)?;
    Ok(VerifiedJws {
        kid: key.kid.clone(),
        header,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8037 Appendix A.1 (the key), A.3 (its thumbprint), A.4 (the
    // JWS of "Example of Ed25519 signing" under {"alg":"EdDSA"}).
    const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
    const JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    fn rfc_key() -> CredentialKey {
        CredentialKey::from_private_jwk(&format!(
            r#"{{"kty":"OKP","crv":"Ed25519","d":"{D}","x":"{X}"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn rfc8037_a4_signs_byte_for_byte() {
        let key = rfc_key();
        assert_eq!(key.public().x(), X);
        assert_eq!(key.public().kid(), THUMBPRINT);
        let mut header = Map::new();
        header.insert("alg".into(), Value::String("EdDSA".into()));
        assert_eq!(
            key.sign_compact(&header, b"Example of Ed25519 signing"),
            JWS
        );
    }

    #[test]
    fn rfc8037_a5_verifies_and_a_changed_byte_does_not() {
        let key = rfc_key();
        let (header, payload) = key.public().verify_compact(JWS).unwrap();
        assert_eq!(payload, b"Example of Ed25519 signing");
        assert_eq!(header.get("alg"), Some(&Value::String("EdDSA".into())));
        for at in 0..JWS.len() {
            let mut bytes = JWS.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(
                key.public().verify_compact(&changed).is_err(),
                "byte {at} changed still verifies"
            );
        }
    }

    #[test]
    fn another_alg_is_refused_before_any_key_is_used() {
        let header = b64url(br#"{"alg":"none"}"#);
        let jws = format!("{header}.{}.", b64url(b"x"));
        assert!(matches!(
            rfc_key().public().verify_compact(&jws),
            Err(JoseError::Header(_))
        ));
    }

    #[test]
    fn a_key_set_round_trips_and_refuses_a_wrong_kid_or_a_private_key() {
        let key = rfc_key();
        let set = jwk_set(&[key.public().clone()]).to_string();
        assert_eq!(parse_jwk_set(&set).unwrap(), vec![key.public().clone()]);
        let wrong = set.replace(THUMBPRINT, "not-the-thumbprint");
        assert!(parse_jwk_set(&wrong).is_err());
        assert!(parse_jwk_set(&key.to_private_jwk()).is_err());
        let mut header = Map::new();
        header.insert("alg".into(), Value::String("EdDSA".into()));
        header.insert("kid".into(), Value::String("someone-else".into()));
        let jws = key.sign_compact(&header, b"{}");
        assert!(matches!(
            verify_compact(&jws, &parse_jwk_set(&set).unwrap()),
            Err(JoseError::UnknownKey { .. })
        ));
    }

    fn delivery_header() -> Map<String, Value> {
        let mut header = Map::new();
        for (name, value) in [
            ("typ", json!("epcis-delivery+jws")),
            ("iss", json!("oretrace.example/log")),
            ("sub", json!("0123456789abcdef0123456789abcdef")),
            ("jti", json!("01JD0000000000000000000000")),
            ("iat", json!(1_780_000_000)),
            // Overridden by sign_detached.
            ("alg", json!("none")),
            ("b64", json!(true)),
        ] {
            header.insert(name.into(), value);
        }
        header
    }

    const BODY: &[u8] = br#"{"type":"EPCISQueryDocument","epcisBody":{}}"#;

    /// A detached JWS whose header is `header` (as given), signed by `key`
    /// over `payload` as RFC 7797 says, whatever the header claims.
    fn detached_with_header(key: &CredentialKey, header: &Value, payload: &[u8]) -> String {
        let header = b64url(header.to_string().as_bytes());
        let mut input = format!("{header}.").into_bytes();
        input.extend_from_slice(payload);
        format!("{header}..{}", b64url(&key.key.sign(&input).to_bytes()))
    }

    #[test]
    fn a_detached_jws_round_trips_with_its_header() {
        let key = rfc_key();
        let jws = key.sign_detached(&delivery_header(), BODY);
        let (header_b64, rest) = jws.split_once('.').unwrap();
        assert!(rest.starts_with('.'), "the payload part is empty: {jws}");
        let written: Value =
            serde_json::from_slice(&b64url_decode(header_b64, "h").unwrap()).unwrap();
        assert_eq!(written["alg"], "EdDSA");
        assert_eq!(written["kid"], THUMBPRINT);
        assert_eq!(written["b64"], false);
        assert_eq!(written["crit"], json!(["b64"]));
        let header = key.public().verify_detached(&jws, BODY).unwrap();
        assert_eq!(header["typ"], "epcis-delivery+jws");
        assert_eq!(header["jti"], "01JD0000000000000000000000");
        assert_eq!(header["iat"], 1_780_000_000);
        let keys = [
            CredentialKey::from_seed([7; 32]).public().clone(),
            key.public().clone(),
        ];
        assert_eq!(verify_detached_with(&keys, &jws, BODY).unwrap(), header);
        // Any bytes, a '.' and none at all included.
        for payload in [&b""[..], b"a.b..c", &[0, 0xff, b'\n']] {
            let jws = key.sign_detached(&Map::new(), payload);
            key.public().verify_detached(&jws, payload).unwrap();
        }
    }

    #[test]
    fn a_changed_payload_header_or_signature_is_refused() {
        let key = rfc_key();
        let jws = key.sign_detached(&delivery_header(), BODY);
        let public = key.public();
        for at in 0..BODY.len() {
            let mut body = BODY.to_vec();
            body[at] ^= 1;
            assert!(matches!(
                public.verify_detached(&jws, &body),
                Err(JoseError::BadSignature { .. })
            ));
        }
        let mut longer = BODY.to_vec();
        longer.push(b'\n');
        assert!(public.verify_detached(&jws, &longer).is_err());
        for at in 0..jws.len() {
            let mut bytes = jws.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(
                public.verify_detached(&changed, BODY).is_err(),
                "byte {at} changed still verifies"
            );
        }
        // The header re-encoded (another kid, another jti) under the old
        // signature.
        let (_, signature) = jws.rsplit_once('.').unwrap();
        let mut header = delivery_header();
        header.insert("jti".into(), json!("another"));
        let forged = key.sign_detached(&header, BODY);
        let (forged_header, _) = forged.split_once('.').unwrap();
        assert!(matches!(
            public.verify_detached(&format!("{forged_header}..{signature}"), BODY),
            Err(JoseError::BadSignature { .. })
        ));
        // Signed by another key under this key's kid, or naming a kid not
        // in the set.
        let other = CredentialKey::from_seed([7; 32]);
        let mut header = delivery_header();
        header.insert("kid".into(), json!(THUMBPRINT));
        let impostor = detached_with_header(
            &other,
            &json!({"alg": "EdDSA", "kid": THUMBPRINT, "b64": false, "crit": ["b64"]}),
            BODY,
        );
        assert!(matches!(
            verify_detached_with(std::slice::from_ref(public), &impostor, BODY),
            Err(JoseError::BadSignature { .. })
        ));
        let theirs = other.sign_detached(&header, BODY);
        assert!(matches!(
            verify_detached_with(std::slice::from_ref(public), &theirs, BODY),
            Err(JoseError::UnknownKey { .. })
        ));
        assert!(matches!(
            public.verify_detached(&theirs, BODY),
            Err(JoseError::UnknownKey { .. })
        ));
    }

    #[test]
    fn a_detached_jws_of_another_shape_is_refused() {
        let key = rfc_key();
        let refused = |header: Value| {
            let jws = detached_with_header(&key, &header, BODY);
            let got = key.public().verify_detached(&jws, BODY);
            assert!(
                matches!(got, Err(JoseError::Header(_))),
                "{header}: {got:?}"
            );
        };
        refused(json!({"alg": "EdDSA", "kid": THUMBPRINT, "b64": true, "crit": ["b64"]}));
        refused(json!({"alg": "EdDSA", "kid": THUMBPRINT, "b64": false}));
        refused(json!({"alg": "EdDSA", "kid": THUMBPRINT, "crit": ["b64"]}));
        refused(json!({"alg": "EdDSA", "kid": THUMBPRINT, "b64": "false", "crit": ["b64"]}));
        refused(json!({"alg": "EdDSA", "kid": THUMBPRINT, "b64": false, "crit": ["b64", "exp"]}));
        refused(json!({"alg": "EdDSA", "kid": THUMBPRINT, "b64": false, "crit": "b64"}));
        refused(json!({"alg": "HS256", "kid": THUMBPRINT, "b64": false, "crit": ["b64"]}));
        refused(json!({"alg": "EdDSA", "b64": false, "crit": ["b64"]}));
        // An ordinary, attached JWS; the payload in the middle; four parts;
        // a header past the bound.
        let mut header = Map::new();
        header.insert("alg".into(), json!("EdDSA"));
        header.insert("kid".into(), json!(THUMBPRINT));
        let attached = key.sign_compact(&header, BODY);
        assert!(key.public().verify_detached(&attached, BODY).is_err());
        let jws = key.sign_detached(&Map::new(), b"abc");
        let (h, s) = jws.split_once("..").unwrap();
        for bad in [
            format!("{h}.abc.{s}"),
            format!("{h}...{s}"),
            format!("{h}.{s}"),
        ] {
            assert!(matches!(
                key.public().verify_detached(&bad, b"abc"),
                Err(JoseError::Malformed { .. })
            ));
        }
        let mut big = Map::new();
        big.insert("pad".into(), json!("x".repeat(MAX_DETACHED_HEADER_BYTES)));
        let jws = key.sign_detached(&big, BODY);
        assert!(matches!(
            key.public().verify_detached(&jws, BODY),
            Err(JoseError::Malformed { .. })
        ));
    }

    #[test]
    fn the_delivery_hmac_is_hmac_sha256_of_jti_lf_body() {
        // Python: hmac.new(b"s3cret-token", jti + b"\n" + body, "sha256").
        let jti = "01JD0000000000000000000000";
        let body = br#"{"type":"EPCISQueryDocument"}"#;
        let value = delivery_hmac(b"s3cret-token", jti, body);
        assert_eq!(
            value,
            "sha256=4f724bde776569eab2da8a50954ad07f22a2d4a52bde2488a46c8fb4ca8fe7e5"
        );
        assert_eq!(
            delivery_hmac(b"", "", b""),
            "sha256=5863f0511c4ad028837500b3cb413d976127c3d5fef9de907c7ccd15f5a3ccf0"
        );
        assert!(check_delivery_hmac(b"s3cret-token", jti, body, &value));
        assert!(!check_delivery_hmac(b"s3cret-tokem", jti, body, &value));
        assert!(!check_delivery_hmac(b"s3cret-token", "other", body, &value));
        assert!(!check_delivery_hmac(b"s3cret-token", jti, b"{}", &value));
        for bad in [
            value.to_uppercase(),
            value.replace("sha256=", "sha512="),
            value.replace("sha256=", ""),
            value[..value.len() - 1].to_owned(),
            format!("{value}0"),
            format!("{value} "),
            value.replacen('4', "g", 1),
        ] {
            assert!(
                !check_delivery_hmac(b"s3cret-token", jti, body, &bad),
                "{bad}"
            );
        }
        // A key past the block size is hashed first (RFC 2104 §2).
        let long = [0xaa; 131];
        let value = delivery_hmac(&long, jti, body);
        assert!(check_delivery_hmac(&long, jti, body, &value));
    }
}
