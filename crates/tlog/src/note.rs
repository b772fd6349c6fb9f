//! C2SP `signed-note`: note text, signature lines, key ids, verifier keys
//! (`name+hex(id)+base64(type||key)`) and Ed25519 signing keys in the
//! `PRIVATE+KEY+name+hex(id)+base64(type||seed)` form of the Go note package.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::Error;

/// Signature type byte of plain Ed25519 note signatures.
pub const SIG_TYPE_ED25519: u8 = 0x01;
/// Signature type byte of timestamped Ed25519 checkpoint cosignatures.
pub const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;
/// Largest signed note accepted by [`SignedNote::parse`].
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Most signature lines accepted on one note (the spec asks for >= 16).
pub const MAX_SIGNATURES: usize = 64;

/// What starts every signature line: an em dash and a space.
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian.
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', sig_type]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Checks the key-name rules: non-empty, no Unicode spaces, no `+`, no
/// control characters. The error never repeats the name (which may be
/// anything a client sent, of any length): it names the offending
/// character and where it is.
pub fn check_key_name(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::malformed("key name", "is empty"));
    }
    if let Some((at, c)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_whitespace() || *c == '+' || c.is_control())
    {
        return Err(Error::malformed(
            "key name",
            format!("contains {c:?} (character {})", at + 1),
        ));
    }
    Ok(())
}

/// A reference to one key: `<key name>+<8 lower-case hex digits of the key
/// id>`, as a vkey starts. The one rule for this form wherever it appears
/// (auth challenges, bearer tokens, captured events, record envelopes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyRef {
    name: String,
    key_id: u32,
}

impl KeyRef {
    /// A reference from a name (checked with [`check_key_name`]) and id.
    pub fn new(name: &str, key_id: u32) -> Result<Self, Error> {
        check_key_name(name)?;
        Ok(KeyRef {
            name: name.to_owned(),
            key_id,
        })
    }

    /// Parses `<key name>+<8 lower-case hex digits>`: the name follows the
    /// key-name rules (so it holds no `+`), the id is exactly eight digits
    /// `0-9a-f`, so that one key has one spelling. The error never repeats
    /// the text (which may be anything a client sent, of any length): it
    /// names the offending character and where it is.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let (name, hex) = text.split_once('+').ok_or_else(|| {
            Error::malformed("key reference", "expected <key name>+<8 hex digit key id>")
        })?;
        check_key_name(name)?;
        if hex.len() != 8 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(Error::malformed(
                "key reference",
                format!(
                    "the key id after the + is not 8 lower-case hex digits ({} characters)",
                    hex.chars().count()
                ),
            ));
        }
        let key_id = u32::from_str_radix(hex, 16)
            .map_err(|_| Error::malformed("key reference", "bad key id"))?;
        Ok(KeyRef {
            name: name.to_owned(),
            key_id,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }
}

impl std::fmt::Display for KeyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}+{:08x}", self.name, self.key_id)
    }
}

impl std::str::FromStr for KeyRef {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        KeyRef::parse(text)
    }
}

/// A signature line of a signed note without its leading em dash and
/// space: `<key name> <base64 of key id (4 bytes, big-endian) ‖ signature>`.
/// Detached signatures (document signatures, signed auth challenges)
/// travel in this form. The one rule for it: a valid key name, one space,
/// standard padded base64 of at least five bytes, nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignatureLine(NoteSignature);

impl SignatureLine {
    /// Parses `<key name> <base64>`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let (name, b64) = text.split_once(' ').ok_or_else(|| {
            Error::malformed(
                "signature line",
                format!("{text:?} is not <key name> <base64>"),
            )
        })?;
        check_key_name(name)?;
        let raw = STANDARD.decode(b64).map_err(|_| Error::Base64 {
            what: "note signature",
        })?;
        if raw.len() < 5 {
            return Err(Error::malformed(
                "signature line",
                format!("signature by {name} is too short"),
            ));
        }
        let line = SignatureLine(NoteSignature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            bytes: raw[4..].to_vec(),
        });
        // One spelling per signature (base64 has none other here, but the
        // rule is stated, not assumed).
        if line.to_string() != text {
            return Err(Error::malformed(
                "signature line",
                "is not in its canonical form",
            ));
        }
        Ok(line)
    }

    /// The key that made it.
    pub fn key(&self) -> KeyRef {
        KeyRef {
            name: self.0.name.clone(),
            key_id: self.0.key_id,
        }
    }

    pub fn signature(&self) -> &NoteSignature {
        &self.0
    }

    /// Verifies this detached line over a note text with `key`, as the
    /// note `text`, blank line, this line would verify.
    pub fn verify(&self, text: &str, key: &NoteVerifier) -> Result<VerifiedSignature, Error> {
        check_text(text)?;
        SignedNote {
            text: text.to_owned(),
            signatures: vec![self.0.clone()],
        }
        .verify(key)
    }
}

impl From<NoteSignature> for SignatureLine {
    fn from(signature: NoteSignature) -> Self {
        SignatureLine(signature)
    }
}

impl std::fmt::Display for SignatureLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = self.0.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.0.bytes);
        write!(f, "{} {}", self.0.name, STANDARD.encode(raw))
    }
}

impl std::str::FromStr for SignatureLine {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        SignatureLine::parse(text)
    }
}

/// An Ed25519 note signer (signature type 0x01): the log's key.
pub struct NoteSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteSigner({}+{:08x})", self.name, self.key_id)
    }
}

impl NoteSigner {
    /// A signer from a name and a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, Error> {
        check_key_name(name)?;
        let key = SigningKey::from_bytes(&seed);
        let key_id = key_id(name, SIG_TYPE_ED25519, key.verifying_key().as_bytes());
        Ok(NoteSigner {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
    pub fn from_skey(text: &str) -> Result<Self, Error> {
        let text = text.trim_end_matches('\n');
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| Error::malformed("signing key", "does not start with PRIVATE+KEY+"))?;
        let (name, id, material) = split_key_parts(rest, "signing key")?;
        if material.len() != 33 || material[0] != SIG_TYPE_ED25519 {
            return Err(Error::malformed(
                "signing key",
                "is not a 32-byte Ed25519 seed of type 0x01",
            ));
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&material[1..]);
        let signer = NoteSigner::from_seed(name, seed)?;
        if signer.key_id != id {
            return Err(Error::malformed(
                "signing key",
                format!(
                    "key id {id:08x} does not match the key ({:08x})",
                    signer.key_id
                ),
            ));
        }
        Ok(signer)
    }

    /// The `PRIVATE+KEY+...` text of this key. Keep it secret.
    pub fn to_skey(&self) -> String {
        let mut material = vec![SIG_TYPE_ED25519];
        material.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(material)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            sig_type: SIG_TYPE_ED25519,
            key: self.key.verifying_key(),
        }
    }

    /// Signs a note text (which must end in a newline).
    pub fn sign(&self, text: &str) -> Result<SignedNote, Error> {
        check_text(text)?;
        let signature = self.key.sign(text.as_bytes());
        Ok(SignedNote {
            text: text.to_owned(),
            signatures: vec![NoteSignature {
                name: self.name.clone(),
                key_id: self.key_id,
                bytes: signature.to_bytes().to_vec(),
            }],
        })
    }
}

pub(crate) fn split_key_parts<'a>(
    text: &'a str,
    what: &'static str,
) -> Result<(&'a str, u32, Vec<u8>), Error> {
    // The key name holds no '+', but base64 may: split off two parts only.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Error::malformed(
            what,
            "is not of the form name+hex(key id)+base64(type||key)",
        ));
    };
    check_key_name(name)?;
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::malformed(
            what,
            format!("key id {hex:?} is not 8 hex digits"),
        ));
    }
    let id = u32::from_str_radix(hex, 16).map_err(|_| Error::malformed(what, "bad key id"))?;
    let material = STANDARD.decode(b64).map_err(|_| Error::Base64 {
        what: "key material",
    })?;
    if material.is_empty() {
        return Err(Error::malformed(what, "has no key material"));
    }
    Ok((name, id, material))
}

/// A verifier key: Ed25519 note signatures (0x01) or Ed25519 cosignatures
/// (0x04). Parsed from, and printed as, a C2SP vkey.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    sig_type: u8,
    key: VerifyingKey,
}

impl std::fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

/// What a verified signature line said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub key_id: u32,
    /// The cosignature's timestamp; `None` for plain note signatures.
    pub timestamp: Option<u64>,
}

impl NoteVerifier {
    /// Parses `<name>+<hex key id>+<base64(type || public key)>`.
    pub fn from_vkey(vkey: &str) -> Result<Self, Error> {
        let (name, id, material) = split_key_parts(vkey.trim(), "verifier key")?;
        let sig_type = material[0];
        if sig_type != SIG_TYPE_ED25519 && sig_type != SIG_TYPE_COSIGNATURE_V1 {
            return Err(Error::malformed(
                "verifier key",
                format!("signature type 0x{sig_type:02x} is not supported (0x01 or 0x04)"),
            ));
        }
        let public: [u8; 32] = material[1..].try_into().map_err(|_| {
            Error::malformed(
                "verifier key",
                format!("public key is {} bytes, expected 32", material.len() - 1),
            )
        })?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| Error::malformed("verifier key", "is not a valid Ed25519 point"))?;
        if key.is_weak() {
            // A small-order key "verifies" signatures nobody made.
            return Err(Error::malformed(
                "verifier key",
                "is a small-order (weak) Ed25519 point",
            ));
        }
        let expected = key_id(name, sig_type, &public);
        if expected != id {
            return Err(Error::malformed(
                "verifier key",
                format!("key id {id:08x} does not match the key ({expected:08x})"),
            ));
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            key_id: id,
            sig_type,
            key,
        })
    }

    pub(crate) fn cosigner(name: &str, key: VerifyingKey) -> Self {
        let key_id = key_id(name, SIG_TYPE_COSIGNATURE_V1, key.as_bytes());
        NoteVerifier {
            name: name.to_owned(),
            key_id,
            sig_type: SIG_TYPE_COSIGNATURE_V1,
            key,
        }
    }

    pub fn to_vkey(&self) -> String {
        let mut material = vec![self.sig_type];
        material.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(material)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 public key's 32 bytes (two vkeys wrapping the same key
    /// under other names or types are the same key).
    pub fn public_key(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    pub fn sig_type(&self) -> u8 {
        self.sig_type
    }

    /// Verifies one signature (key id already stripped) over `text`.
    fn verify(&self, text: &str, sig: &[u8]) -> Option<VerifiedSignature> {
        match self.sig_type {
            SIG_TYPE_ED25519 => {
                let signature = Signature::from_slice(sig).ok()?;
                self.key.verify_strict(text.as_bytes(), &signature).ok()?;
                Some(VerifiedSignature {
                    key_id: self.key_id,
                    timestamp: None,
                })
            }
            SIG_TYPE_COSIGNATURE_V1 => {
                if sig.len() != 72 {
                    return None;
                }
                let timestamp = u64::from_be_bytes(sig[..8].try_into().ok()?);
                if timestamp > i64::MAX as u64 {
                    return None;
                }
                let signature = Signature::from_slice(&sig[8..]).ok()?;
                let message = crate::cosignature::signed_message(text, timestamp);
                self.key
                    .verify_strict(message.as_bytes(), &signature)
                    .ok()?;
                Some(VerifiedSignature {
                    key_id: self.key_id,
                    timestamp: Some(timestamp),
                })
            }
            _ => None,
        }
    }
}

/// One signature line: key name, key id and the signature bytes after it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    pub bytes: Vec<u8>,
}

impl NoteSignature {
    fn line(&self) -> String {
        format!("{SIGNATURE_PREFIX}{}\n", SignatureLine(self.clone()))
    }

    /// The key that made it.
    pub fn key(&self) -> KeyRef {
        KeyRef {
            name: self.name.clone(),
            key_id: self.key_id,
        }
    }
}

/// A parsed signed note. Its text includes the final newline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

fn check_text(text: &str) -> Result<(), Error> {
    if !text.ends_with('\n') {
        return Err(Error::malformed("note", "text does not end in a newline"));
    }
    if let Some(c) = text.chars().find(|c| (*c as u32) < 0x20 && *c != '\n') {
        return Err(Error::malformed(
            "note",
            format!("contains control character {c:?}"),
        ));
    }
    Ok(())
}

impl SignedNote {
    /// Parses a signed note without verifying any signature.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(Error::malformed(
                "note",
                format!("is {} bytes, at most {MAX_NOTE_BYTES}", bytes.len()),
            ));
        }
        let all = std::str::from_utf8(bytes)
            .map_err(|_| Error::malformed("note", "is not valid UTF-8"))?;
        check_text(all)?;
        let split = all
            .rfind("\n\n")
            .ok_or_else(|| Error::malformed("note", "has no blank line before its signatures"))?;
        let text = &all[..split + 1];
        let block = &all[split + 2..];
        if block.is_empty() {
            return Err(Error::malformed("note", "has no signature lines"));
        }
        let mut signatures = Vec::new();
        for line in block.strip_suffix('\n').unwrap_or(block).split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(Error::malformed(
                    "note",
                    format!("has more than {MAX_SIGNATURES} signatures"),
                ));
            }
            let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(|| {
                Error::malformed(
                    "note",
                    format!("signature line {line:?} does not start with an em dash and a space"),
                )
            })?;
            signatures.push(SignatureLine::parse(rest)?.0);
        }
        Ok(SignedNote {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note of `text` signed by `lines`: the note [`SignedNote::parse`]
    /// reads from the text, a blank line and the lines, under the same
    /// rules (the text, 1 to [`MAX_SIGNATURES`] lines, at most
    /// [`MAX_NOTE_BYTES`] in all), without writing and reading it.
    pub fn from_lines(text: &str, lines: Vec<SignatureLine>) -> Result<Self, Error> {
        check_text(text)?;
        if lines.is_empty() {
            return Err(Error::malformed("note", "has no signature lines"));
        }
        if lines.len() > MAX_SIGNATURES {
            return Err(Error::malformed(
                "note",
                format!("has more than {MAX_SIGNATURES} signatures"),
            ));
        }
        let signatures: Vec<NoteSignature> = lines.into_iter().map(|l| l.0).collect();
        let len = text.len() + 1 + signatures.iter().map(|s| s.line().len()).sum::<usize>();
        if len > MAX_NOTE_BYTES {
            return Err(Error::malformed(
                "note",
                format!("is {len} bytes, at most {MAX_NOTE_BYTES}"),
            ));
        }
        Ok(SignedNote {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text, final newline included.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line (a cosignature, say).
    pub fn push_signature(&mut self, signature: NoteSignature) {
        self.signatures.push(signature);
    }

    /// Verifies the note against one known key as the signed-note spec
    /// says: lines of unknown keys are ignored, a known key's bad signature
    /// rejects the note, and the note needs a good signature by the key.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<VerifiedSignature, Error> {
        let mut verified = None;
        for sig in &self.signatures {
            if sig.name != verifier.name || sig.key_id != verifier.key_id {
                continue;
            }
            match verifier.verify(&self.text, &sig.bytes) {
                Some(v) => verified = Some(v),
                None => {
                    return Err(Error::BadSignature {
                        name: verifier.name.clone(),
                        key_id: verifier.key_id,
                    });
                }
            }
        }
        verified.ok_or_else(|| Error::UnknownKey {
            name: verifier.name.clone(),
            key_id: verifier.key_id,
        })
    }

    /// The note's bytes: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.text.clone();
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.line());
        }
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the signed-note specification.
    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    /// A small-order public key (here the identity point) "verifies"
    /// forged signatures under a lax check: it is refused as a key.
    #[test]
    fn small_order_keys_are_refused() {
        let mut public = [0u8; 32];
        public[0] = 1;
        let mut material = vec![SIG_TYPE_ED25519];
        material.extend_from_slice(&public);
        let vkey = format!(
            "weak.example/k+{:08x}+{}",
            key_id("weak.example/k", SIG_TYPE_ED25519, &public),
            STANDARD.encode(material)
        );
        let error = NoteVerifier::from_vkey(&vkey).unwrap_err();
        assert!(error.to_string().contains("small-order"), "{error}");
    }

    #[test]
    fn specification_example_verifies() {
        let verifier = NoteVerifier::from_vkey(SPEC_VKEY).unwrap();
        assert_eq!(verifier.to_vkey(), SPEC_VKEY);
        let note = SignedNote::parse(SPEC_NOTE.as_bytes()).unwrap();
        assert_eq!(note.text(), "This is an example message.\n");
        assert_eq!(note.verify(&verifier).unwrap().key_id, 0x530d903a);
        assert_eq!(note.to_bytes(), SPEC_NOTE.as_bytes());
    }

    #[test]
    fn tampered_text_is_a_bad_signature() {
        let verifier = NoteVerifier::from_vkey(SPEC_VKEY).unwrap();
        let tampered = SPEC_NOTE.replace("an example", "a forged");
        let err = SignedNote::parse(tampered.as_bytes())
            .unwrap()
            .verify(&verifier)
            .unwrap_err();
        assert!(matches!(err, Error::BadSignature { .. }), "{err}");
    }

    #[test]
    fn skey_round_trips_and_signs() {
        let signer = NoteSigner::from_seed("oretrace.example/log", [7u8; 32]).unwrap();
        let again = NoteSigner::from_skey(&signer.to_skey()).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
        let note = signer.sign("hello\n").unwrap();
        let parsed = SignedNote::parse(&note.to_bytes()).unwrap();
        parsed
            .verify(&NoteVerifier::from_vkey(&signer.verifier().to_vkey()).unwrap())
            .unwrap();
    }

    #[test]
    fn a_note_from_lines_is_the_note_its_bytes_parse_to() {
        let spec = SignedNote::parse(SPEC_NOTE.as_bytes()).unwrap();
        let line = SignatureLine::from(spec.signatures()[0].clone());
        let note = SignedNote::from_lines(spec.text(), vec![line.clone()]).unwrap();
        assert_eq!(note, spec);
        assert_eq!(note.to_bytes(), SPEC_NOTE.as_bytes());
        // Texts with blank lines, or ending in one, and several lines.
        for text in ["a\n\nb\n", "a\n\n", "\n", "x\n\n\n"] {
            let note = SignedNote::from_lines(text, vec![line.clone(), line.clone()]).unwrap();
            assert_eq!(
                SignedNote::parse(&note.to_bytes()).unwrap(),
                note,
                "{text:?}"
            );
        }
        for (text, lines, want) in [
            ("no newline", 1, "does not end in a newline"),
            ("te\x01xt\n", 1, "control character"),
            ("text\n", 0, "no signature lines"),
            ("text\n", MAX_SIGNATURES + 1, "more than 64 signatures"),
        ] {
            let err = SignedNote::from_lines(text, vec![line.clone(); lines])
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err:?} should mention {want:?}");
            let mut bytes = format!("{text}\n");
            for _ in 0..lines {
                bytes.push_str(&format!("{SIGNATURE_PREFIX}{line}\n"));
            }
            assert!(SignedNote::parse(bytes.as_bytes()).is_err(), "{text:?}");
        }
        let long = format!("{}\n", "x".repeat(MAX_NOTE_BYTES));
        let err = SignedNote::from_lines(&long, vec![line.clone()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most 65536"), "{err}");
        let fits = format!(
            "{}\n",
            "x".repeat(MAX_NOTE_BYTES - 2 - SIGNATURE_PREFIX.len() - line.to_string().len() - 1)
        );
        let note = SignedNote::from_lines(&fits, vec![line.clone()]).unwrap();
        assert_eq!(note.to_bytes().len(), MAX_NOTE_BYTES);
        assert_eq!(SignedNote::parse(&note.to_bytes()).unwrap(), note);
    }

    #[test]
    fn malformed_notes_are_errors() {
        for (bytes, want) in [
            (&b"no newline"[..], "does not end in a newline"),
            (b"text\n", "no blank line"),
            (b"text\n\n", "no signature lines"),
            (b"te\x01xt\n\n- x AAAA\n", "control character"),
            (b"text\n\n- x AAAAAAA=\n", "em dash"),
            (b"\xff\n\n", "UTF-8"),
        ] {
            let err = SignedNote::parse(bytes).unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} should mention {want:?}");
        }
    }

    #[test]
    fn vkey_whose_base64_holds_a_plus_parses() {
        // Regression: base64 key material may contain '+'.
        let vkey =
            "oretrace.example/demo-log+85659ab7+AQXpMIK4jNGEDYO+Lo3Tw/awau3hgQoLZ5Gf0rv1JSJr";
        assert_eq!(NoteVerifier::from_vkey(vkey).unwrap().to_vkey(), vkey);
    }

    #[test]
    fn key_refs_have_one_spelling() {
        let key = KeyRef::parse("example.com/foo+530d903a").unwrap();
        assert_eq!((key.name(), key.key_id()), ("example.com/foo", 0x530d903a));
        assert_eq!(key.to_string(), "example.com/foo+530d903a");
        assert_eq!(
            KeyRef::new("fwo/k1", 0x0a).unwrap().to_string(),
            "fwo/k1+0000000a"
        );
        for (bad, want) in [
            ("example.com/foo", "expected <key name>+"),
            ("example.com/foo+530D903A", "lower-case"),
            ("example.com/foo+530d903", "8 lower-case"),
            ("example.com/foo+530d903a0", "8 lower-case"),
            ("example.com/foo++30d903a", "8 lower-case"),
            ("example.com/foo+-30d903a", "8 lower-case"),
            ("+530d903a", "is empty"),
            ("a b+530d903a", "contains"),
            ("a\nb+530d903a", "contains"),
            ("a+b+530d903a", "8 lower-case"),
        ] {
            let err = KeyRef::parse(bad).unwrap_err().to_string();
            assert!(err.contains(want), "{bad:?}: {err}");
        }
        assert!(KeyRef::new("a+b", 1).is_err());
        // The error names what is wrong, never the text: a long name or id
        // gives a short error.
        let long_name = format!("{}+530d903a", "\u{378}x ".repeat(50_000));
        let long_id = format!("fwo/k1+{}", "\u{378}".repeat(100_000));
        for bad in [long_name, long_id] {
            let err = KeyRef::parse(&bad).unwrap_err().to_string();
            assert!(err.len() < 200, "{} bytes: {err}", err.len());
        }
        let err = KeyRef::parse("ab c+530d903a").unwrap_err().to_string();
        assert!(err.contains("' ' (character 3)"), "{err}");
    }

    #[test]
    fn signature_lines_parse_as_note_lines_do() {
        let note = SignedNote::parse(SPEC_NOTE.as_bytes()).unwrap();
        let text = SPEC_NOTE
            .lines()
            .last()
            .unwrap()
            .strip_prefix(SIGNATURE_PREFIX)
            .unwrap();
        let line = SignatureLine::parse(text).unwrap();
        assert_eq!(line.to_string(), text);
        assert_eq!(line.signature(), &note.signatures()[0]);
        assert_eq!(line.key().to_string(), "example.com/foo+530d903a");
        assert_eq!(note.signatures()[0].key(), line.key());
        let verifier = NoteVerifier::from_vkey(SPEC_VKEY).unwrap();
        assert_eq!(
            line.verify("This is an example message.\n", &verifier)
                .unwrap()
                .key_id,
            0x530d903a
        );
        assert!(matches!(
            line.verify("This is another message.\n", &verifier),
            Err(Error::BadSignature { .. })
        ));
        // A text a note cannot carry is refused before any verification.
        assert!(line.verify("no newline", &verifier).is_err());
        let (name, b64) = text.split_once(' ').unwrap();
        for (bad, want) in [
            (name.to_owned(), "is not <key name> <base64>"),
            (format!("{name}  {b64}"), "base64"),
            (format!("{name} {b64} "), "base64"),
            (format!("{name} {}", b64.trim_end_matches('=')), "base64"),
            (format!("{name} AAAAAA=="), "too short"),
            (format!("a+b {b64}"), "contains"),
            (format!(" {b64}"), "is empty"),
        ] {
            let err = SignatureLine::parse(&bad).unwrap_err().to_string();
            assert!(err.contains(want), "{bad:?}: {err}");
        }
    }

    #[test]
    fn vkey_with_wrong_id_is_refused() {
        let bad = SPEC_VKEY.replace("530d903a", "530d903b");
        let err = NoteVerifier::from_vkey(&bad).unwrap_err().to_string();
        assert!(err.contains("does not match"), "{err}");
    }
}
