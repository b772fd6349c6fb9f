//! JOSE, as much as the lot passport needs (`docs/design/passport.md`):
//! base64url without padding (RFC 7515 §2), Ed25519 JSON Web Keys
//! (RFC 8037 `OKP`), their RFC 7638 thumbprints as key ids, JWK sets
//! (RFC 7517 §5), and compact JWS signed and verified with `EdDSA`
//! (RFC 7515 §7.1, RFC 8037 §3.1).
//!
//! Written by hand over `ed25519-dalek` and `base64` (a few dozen lines)
//! rather than with a JOSE crate: the passport uses one algorithm and one
//! serialization, and refusing everything else (`alg` other than
//! `EdDSA`, `crit`, unpadded-base64url violations, keys of other types)
//! is simpler to see here than to configure there. Pinned by the RFC 8037
//! Appendix A vectors and checked against PyPI `jwcrypto`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

/// The largest compact JWS read.
pub const MAX_JWS_BYTES: usize = 32 * 1024 * 1024;

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
        let header: Map<String, Value> = serde_json::from_slice(&header_bytes)
            .map_err(|e| malformed("JWS header", format!("not a JSON object: {e}")))?;
        match header.get("alg").and_then(Value::as_str) {
            Some("EdDSA") => {}
            Some(other) => {
                return Err(JoseError::Header(format!(
                    "alg {other:?}: only EdDSA is accepted"
                )));
            }
            None => return Err(JoseError::Header("no alg".into())),
        }
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
    let key = keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| JoseError::UnknownKey {
            kid: kid.to_owned(),
            known: keys
                .iter()
                .map(|k| k.kid.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
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
}
