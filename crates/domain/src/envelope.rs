//! Signed records. A log entry is a C2SP signed note whose text is the
//! record's canonical bytes and whose signature lines are its signers'.
//! Over HTTP the same thing travels as a JSON envelope: the record as JSON
//! and the signature lines as `{key, signature}` pairs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use oretrace_tlog::note::{
    KeyRef, NoteSignature, NoteSigner, NoteVerifier, SignatureLine, SignedNote,
};

use crate::wire::RecordJson;
use crate::{Error, Record, canonical};

/// Largest log entry (the tlog-tiles entry bound).
pub const MAX_ENTRY_BYTES: usize = 65_535;

/// A record with its canonical bytes and signature lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRecord {
    record: Record,
    note: SignedNote,
}

/// One signature line in JSON: `key` is `<key name>+<hex key id>`,
/// `signature` the base64 of the 64-byte Ed25519 signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureJson {
    pub key: String,
    pub signature: String,
}

/// What clients post to `POST /records`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeJson {
    pub record: RecordJson,
    pub signatures: Vec<SignatureJson>,
}

impl SignedRecord {
    /// Signs a record's canonical bytes with each signer.
    pub fn sign(record: Record, signers: &[&NoteSigner]) -> Result<Self, Error> {
        record.check()?;
        let text = String::from_utf8(canonical::encode(&record))
            .map_err(|_| Error::Signature("not UTF-8".into()))?;
        // Values built in code may lie outside what the text form holds
        // (more than 12 decimals, years outside 1900–9999): never sign
        // bytes that `from_entry` would refuse.
        canonical::decode(text.as_bytes())?;
        let mut note: Option<SignedNote> = None;
        for signer in signers {
            let signed = signer
                .sign(&text)
                .map_err(|e| Error::Signature(e.to_string()))?;
            match &mut note {
                None => note = Some(signed),
                Some(n) => signed
                    .signatures()
                    .iter()
                    .for_each(|s| n.push_signature(s.clone())),
            }
        }
        let note =
            note.ok_or_else(|| Error::Signature("a record needs at least one signature".into()))?;
        let signed = SignedRecord { record, note };
        signed.check_size()?;
        Ok(signed)
    }

    fn check_size(&self) -> Result<(), Error> {
        let len = self.note.to_bytes().len();
        if len > MAX_ENTRY_BYTES {
            return Err(Error::invalid(
                "record",
                format!("the signed record is {len} bytes, at most {MAX_ENTRY_BYTES}"),
            ));
        }
        Ok(())
    }

    /// Parses a log entry: a signed note over canonical record bytes.
    /// Signatures are parsed, not verified: that is the ledger's job.
    pub fn from_entry(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(Error::invalid(
                "record",
                format!(
                    "the entry is {} bytes, at most {MAX_ENTRY_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let note = SignedNote::parse(bytes).map_err(|e| Error::Signature(e.to_string()))?;
        let record = canonical::decode(note.text().as_bytes())?;
        Ok(SignedRecord { record, note })
    }

    /// Builds a signed record from the JSON envelope.
    pub fn from_envelope(envelope: &EnvelopeJson) -> Result<Self, Error> {
        let record = envelope.record.to_record()?;
        let text = String::from_utf8(canonical::encode(&record))
            .map_err(|_| Error::Signature("not UTF-8".into()))?;
        if envelope.signatures.is_empty() {
            return Err(Error::invalid(
                "signatures",
                "a record needs at least one signature",
            ));
        }
        let mut lines = Vec::with_capacity(envelope.signatures.len());
        for (i, sig) in envelope.signatures.iter().enumerate() {
            let field = format!("signatures[{i}]");
            // One rule for `<key name>+<key id>`; a name with a line break
            // could otherwise smuggle lines into the signed text.
            let key = KeyRef::parse(&sig.key)
                .map_err(|e| Error::invalid(format!("{field}.key"), e.to_string()))?;
            let raw = STANDARD
                .decode(&sig.signature)
                .map_err(|_| Error::invalid(format!("{field}.signature"), "not base64"))?;
            if raw.len() != 64 {
                return Err(Error::invalid(
                    format!("{field}.signature"),
                    "an Ed25519 signature is 64 bytes",
                ));
            }
            lines.push(SignatureLine::from(NoteSignature {
                name: key.name().to_owned(),
                key_id: key.key_id(),
                bytes: raw,
            }));
        }
        let note = SignedNote::from_lines(&text, lines)
            .map_err(|e| Error::invalid("signatures", e.to_string()))?;
        let signed = SignedRecord { record, note };
        signed.check_size()?;
        Ok(signed)
    }

    /// The JSON envelope of this record.
    pub fn to_envelope(&self) -> EnvelopeJson {
        EnvelopeJson {
            record: RecordJson::of(&self.record),
            signatures: self
                .note
                .signatures()
                .iter()
                .map(|s| SignatureJson {
                    key: s.key().to_string(),
                    signature: STANDARD.encode(&s.bytes),
                })
                .collect(),
        }
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The canonical bytes that were signed.
    pub fn canonical(&self) -> &[u8] {
        self.note.text().as_bytes()
    }

    /// The record's identity for replay detection: SHA-256 of the
    /// canonical bytes (re-signing the same record does not make it new),
    /// and for a captured EPCIS event SHA-256 of its event hash, so that
    /// capturing the same event again, by anyone, in any job, is a
    /// duplicate.
    pub fn record_hash(&self) -> [u8; 32] {
        match &self.record {
            Record::Event(e) => {
                oretrace_tlog::hash::sha256(format!("epcis-event {}", e.event_id()).as_bytes())
            }
            _ => oretrace_tlog::hash::sha256(self.canonical()),
        }
    }

    pub fn signatures(&self) -> &[NoteSignature] {
        self.note.signatures()
    }

    /// The log entry: the signed note's bytes.
    pub fn entry_bytes(&self) -> Vec<u8> {
        self.note.to_bytes()
    }

    /// Whether `key` signed this record validly. `Ok(false)` if it did not
    /// sign; an error if its signature line is there but invalid.
    pub fn signed_by(&self, key: &NoteVerifier) -> Result<bool, Error> {
        if !self
            .note
            .signatures()
            .iter()
            .any(|s| s.name == key.name() && s.key_id == key.key_id())
        {
            return Ok(false);
        }
        self.note
            .verify(key)
            .map(|_| true)
            .map_err(|e| Error::Signature(format!("{}: {e}", key.name())))
    }
}
