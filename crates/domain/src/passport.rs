//! The lot passport (`docs/design/passport.md`): a W3C Verifiable
//! Credential (VC Data Model 2.0) secured as VC-JOSE (a compact JWS,
//! `EdDSA`, `typ` `vc+jwt`), carrying the log checkpoint it was computed
//! at and a `tlog-proof` receipt for every record its subject rests on.
//!
//! This module is the offline check ([`verify`]) and the shape both sides
//! agree on (the header, the `evidence` members, which subject members
//! cite log indices). Building the subject is the server's.

use std::collections::{BTreeMap, BTreeSet};

use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::hash::leaf_hash;
use oretrace_tlog::note::NoteVerifier;
use oretrace_tlog::proof::verify_inclusion;
use oretrace_tlog::receipt::Receipt;
use serde_json::{Map, Value, json};

use crate::envelope::SignedRecord;
use crate::jose::{self, CredentialKey, JoseError, PublicJwk};

/// The media type of a passport (VC-JOSE-COSE §6.1).
pub const MEDIA_TYPE: &str = "application/vc+jwt";
/// The JWS `typ` (VC-JOSE-COSE §3.1.1).
pub const TYP: &str = "vc+jwt";
/// The JWS `cty`.
pub const CTY: &str = "vc";
/// The VC Data Model 2.0 base context.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// Most receipts one passport carries.
pub const MAX_PASSPORT_RECEIPTS: usize = 2_000;
/// Most bytes of receipts one passport carries.
pub const MAX_PASSPORT_RECEIPT_BYTES: usize = 8 * 1024 * 1024;

/// The protected header a passport is signed under.
pub fn header(key: &CredentialKey) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("alg".into(), json!("EdDSA"));
    header.insert("kid".into(), json!(key.public().kid()));
    header.insert("typ".into(), json!(TYP));
    header.insert("cty".into(), json!(CTY));
    header
}

/// The `evidence` member naming the checkpoint.
pub fn checkpoint_evidence(checkpoint: &Checkpoint, note: &str) -> Value {
    json!({
        "type": ["LogCheckpoint"],
        "origin": checkpoint.origin(),
        "size": checkpoint.size(),
        "note": note,
    })
}

/// The `evidence` member carrying the receipt of one record.
pub fn receipt_evidence(index: u64, kind: &str, receipt: &str) -> Value {
    json!({
        "type": ["LogReceipt"],
        "index": index,
        "kind": kind,
        "receipt": receipt,
    })
}

/// Every log index a subject cites: the numbers under a member named
/// `index` or ending in `Index`, anywhere in it.
pub fn cited_indices(subject: &Value) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    let mut stack = vec![subject];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (name, member) in map {
                    if (name == "index" || name.ends_with("Index"))
                        && let Some(n) = member.as_u64()
                    {
                        out.insert(n);
                    }
                    stack.push(member);
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}

/// Why a passport does not verify: each names what failed.
#[derive(Debug, thiserror::Error)]
pub enum PassportError {
    /// The JWS (its form, header or signature).
    #[error("the signature: {0}")]
    Signature(#[from] JoseError),
    /// The credential is not the shape a passport has.
    #[error("the credential: {0}")]
    Credential(String),
    /// The embedded checkpoint.
    #[error("the checkpoint: {0}")]
    Checkpoint(String),
    /// One embedded receipt.
    #[error("the receipt of record {index} (evidence item {position}): {why}")]
    Receipt {
        position: usize,
        index: u64,
        why: String,
    },
    /// A record the subject cites has no verified receipt, or not of the
    /// kind it states.
    #[error("record {index}: {why}")]
    Record { index: u64, why: String },
}

/// What a verified passport proved.
#[derive(Debug)]
pub struct VerifiedPassport {
    /// The issuer's key that signed it.
    pub kid: String,
    /// The credential (the JWS payload).
    pub credential: Value,
    /// The lot it is about.
    pub lot: String,
    /// The checkpoint it was computed at.
    pub checkpoint: Checkpoint,
    /// Records proved in the log: index → kind.
    pub records: BTreeMap<u64, String>,
    /// Log indices the subject cites (each among `records`).
    pub cited: usize,
    /// `illustrative` or `reported`.
    pub figures: String,
}

fn credential(why: impl Into<String>) -> PassportError {
    PassportError::Credential(why.into())
}

/// Checks a passport offline: the JWS with the issuer's keys, the
/// checkpoint with the log's key, every receipt against that checkpoint,
/// that every record the subject cites is among them, of the kind it
/// states, and that the subject's figures are `illustrative` when any of
/// those records is.
pub fn verify(
    jws: &str,
    issuer: &[PublicJwk],
    log_key: &NoteVerifier,
) -> Result<VerifiedPassport, PassportError> {
    let jws = jws.trim_end();
    let verified = jose::verify_compact(jws, issuer)?;
    if verified.header.get("typ").and_then(Value::as_str) != Some(TYP) {
        return Err(JoseError::Header(format!("typ is not {TYP}")).into());
    }
    let credential_json: Value = serde_json::from_slice(&verified.payload)
        .map_err(|e| credential(format!("the payload is not JSON: {e}")))?;
    let context_ok = credential_json
        .get("@context")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        == Some(VC_CONTEXT);
    if !context_ok {
        return Err(credential(format!(
            "@context does not begin with {VC_CONTEXT}"
        )));
    }
    let types = credential_json.get("type").and_then(Value::as_array);
    if !types.is_some_and(|t| t.iter().any(|t| t == "VerifiableCredential")) {
        return Err(credential("type does not include VerifiableCredential"));
    }
    for member in ["issuer", "validFrom"] {
        if credential_json.get(member).is_none() {
            return Err(credential(format!("no {member}")));
        }
    }
    let subject = credential_json
        .get("credentialSubject")
        .filter(|s| s.is_object())
        .ok_or_else(|| credential("no credentialSubject object"))?;
    let lot = subject
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| credential("the subject has no id"))?
        .to_owned();
    let evidence = credential_json
        .get("evidence")
        .and_then(Value::as_array)
        .ok_or_else(|| credential("no evidence array"))?;
    let (first, receipts) = evidence
        .split_first()
        .ok_or_else(|| credential("evidence is empty"))?;
    if receipts.len() > MAX_PASSPORT_RECEIPTS {
        return Err(credential(format!(
            "{} receipts, more than {MAX_PASSPORT_RECEIPTS}",
            receipts.len()
        )));
    }
    let note = first
        .get("note")
        .and_then(Value::as_str)
        .filter(|_| first["type"] == json!(["LogCheckpoint"]))
        .ok_or_else(|| {
            PassportError::Checkpoint("the first evidence item is not a LogCheckpoint".into())
        })?;
    let (checkpoint, _) = Checkpoint::open(note.as_bytes(), log_key)
        .map_err(|e| PassportError::Checkpoint(format!("does not verify with the log key: {e}")))?;
    if first.get("size").and_then(Value::as_u64) != Some(checkpoint.size())
        || first.get("origin").and_then(Value::as_str) != Some(checkpoint.origin())
    {
        return Err(PassportError::Checkpoint(
            "its size or origin is not what the signed note says".into(),
        ));
    }
    let mut records = BTreeMap::new();
    let mut illustrative = false;
    for (i, item) in receipts.iter().enumerate() {
        let position = i + 1;
        let index = item
            .get("index")
            .and_then(Value::as_u64)
            .ok_or_else(|| credential(format!("evidence item {position} has no index")))?;
        let fail = |why: String| PassportError::Receipt {
            position,
            index,
            why,
        };
        if item["type"] != json!(["LogReceipt"]) {
            return Err(fail("not a LogReceipt".into()));
        }
        let kind = item
            .get("kind")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("no kind".into()))?;
        let text = item
            .get("receipt")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("no receipt".into()))?;
        let receipt = Receipt::parse(text.as_bytes()).map_err(|e| fail(e.to_string()))?;
        if receipt.index != index {
            return Err(fail(format!("the receipt proves index {}", receipt.index)));
        }
        if receipt.checkpoint != note.as_bytes() {
            return Err(fail("its checkpoint is not the passport's".into()));
        }
        let entry = receipt
            .extra
            .as_deref()
            .ok_or_else(|| fail("it carries no entry".into()))?;
        verify_inclusion(
            index,
            checkpoint.size(),
            &leaf_hash(entry),
            &receipt.proof,
            checkpoint.root(),
        )
        .map_err(|e| {
            fail(format!(
                "the entry is not in the log at the checkpoint: {e}"
            ))
        })?;
        let signed = SignedRecord::from_entry(entry)
            .map_err(|e| fail(format!("the entry is not a signed record: {e}")))?;
        if signed.record().kind() != kind {
            return Err(fail(format!(
                "the entry is a {} record, not {kind}",
                signed.record().kind()
            )));
        }
        illustrative |= signed.record().figures() == crate::record::Figures::Illustrative;
        if records.insert(index, kind.to_owned()).is_some() {
            return Err(fail("a second receipt of the same record".into()));
        }
    }
    let cited = cited_indices(subject);
    for index in &cited {
        if !records.contains_key(index) {
            return Err(PassportError::Record {
                index: *index,
                why: "the subject cites it, but no receipt proves it".into(),
            });
        }
    }
    if let Some(listed) = subject.get("records").and_then(Value::as_array) {
        for item in listed {
            let index = item.get("index").and_then(Value::as_u64);
            let kind = item.get("kind").and_then(Value::as_str);
            if let (Some(index), Some(kind)) = (index, kind)
                && records.get(&index).map(String::as_str) != Some(kind)
            {
                return Err(PassportError::Record {
                    index,
                    why: format!("listed as a {kind} record, which its receipt does not prove"),
                });
            }
        }
    }
    let figures = subject
        .get("figures")
        .and_then(Value::as_str)
        .ok_or_else(|| credential("the subject states no figures"))?
        .to_owned();
    // Figures a record marks illustrative stay labelled so.
    if illustrative && figures != "illustrative" {
        return Err(credential(format!(
            "the subject's figures are {figures:?}, but records it rests on are illustrative"
        )));
    }
    Ok(VerifiedPassport {
        kid: verified.kid,
        credential: credential_json.clone(),
        lot,
        checkpoint,
        records,
        cited: cited.len(),
        figures,
    })
}
