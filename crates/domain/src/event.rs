//! EPCIS events captured into the registry. A captured event is a record
//! like any other: one log entry, authorised by the ledger's rules. It
//! keeps the event exactly as the capturing document stated it (extension
//! namespaces included, the document's `@context` copied in so the entry
//! stands alone), its CBV 2.0 event hash, who captured it and how the
//! registry knows who that was:
//!
//! * [`CaptureAuth::Token`]: the registry authenticated the party with a
//!   bearer token it issued for one of the party's keys (the party signed
//!   a challenge); the entry is signed by the registry's log key, which
//!   vouches for that authentication.
//! * [`CaptureAuth::Signed`]: the party (and any co-signers) signed the
//!   capturing document itself: a detached Ed25519 signature over
//!   [`document_note`], a C2SP signed-note text naming the registry, the
//!   document's SHA-256, the capturing party and the error behaviour.
//!   The entry carries the document digest and the signature lines, so
//!   anyone holding the document can check them without trusting the
//!   registry.

use serde_json::Value;

use crate::Error;
use crate::record::Figures;
use crate::values::{Digest, PartyId, Timestamp, Token};

/// Largest event, as canonical JSON (an entry is at most 64 KiB).
pub const MAX_EVENT_BYTES: usize = 60_000;

/// Most detached signatures one document may carry.
pub const MAX_DOCUMENT_SIGNATURES: usize = 8;

/// First line of the note a party signs to sign a capture document.
pub const DOCUMENT_NOTE_HEADER: &str = "oretrace.epcis-document/v1";

/// The capture error behaviours a signed document may ask for.
pub const BEHAVIOURS: &[&str] = &["rollback", "proceed", "all"];

/// The text a detached document signature signs: a signed-note text
/// naming the registry (its log origin), the document's SHA-256, the
/// capturing party and the error behaviour, so that the signature is good
/// for this capture only — not at another registry, not for another
/// capturer, not with `proceed` where the signers asked for all or
/// nothing — and can never be mistaken for a signature on anything else.
pub fn document_note(
    origin: &str,
    document: &Digest,
    captured_by: &str,
    behaviour: &str,
) -> String {
    format!(
        "{DOCUMENT_NOTE_HEADER}\n{origin}\nsha256 {document}\ncaptured-by {captured_by}\nbehaviour {behaviour}\n"
    )
}

/// How the registry knows who captured an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureAuth {
    /// A bearer token issued for this key (`<key name>+<hex key id>`).
    Token { key: String },
    /// Detached signatures over [`document_note`] of the document's digest;
    /// each line is `<key name> <base64 of key id ‖ signature>`, as in a
    /// signed note without its leading em dash.
    Signed {
        document: Digest,
        /// The `GS1-Capture-Error-Behaviour` the signers signed for.
        behaviour: String,
        signatures: Vec<String>,
    },
}

/// One EPCIS event as captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedEvent {
    /// The CBV 2.0 event hash, `ni:///sha-256;<hex>?ver=CBV2.0`.
    pub event_id: String,
    /// The event as canonical JSON ([`canonical_json`]).
    pub event: String,
    pub captured_by: PartyId,
    /// The capture job that brought it.
    pub capture: Token,
    pub auth: CaptureAuth,
    /// When the registry recorded it (the EPCIS `recordTime`).
    pub time: Timestamp,
    /// From the event's `https://oretrace.org/epcis/figures` extension.
    pub figures: Figures,
}

/// Checks an event id is a CBV 2.0 SHA-256 event hash.
pub fn check_event_id(id: &str) -> Result<(), Error> {
    let hex = id
        .strip_prefix("ni:///sha-256;")
        .and_then(|rest| rest.strip_suffix("?ver=CBV2.0"));
    match hex {
        Some(h)
            if h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Ok(())
        }
        _ => Err(Error::invalid(
            "event_id",
            "an event id is ni:///sha-256;<64 lower-case hex>?ver=CBV2.0",
        )),
    }
}

fn check_signature_line(line: &str) -> Result<(), Error> {
    let bad = || Error::invalid("", "a signature line is <key name> <base64>");
    let (name, sig) = line.split_once(' ').ok_or_else(bad)?;
    oretrace_tlog::note::check_key_name(name).map_err(|e| Error::invalid("", e.to_string()))?;
    if sig.is_empty() || sig.contains(' ') {
        return Err(bad());
    }
    Ok(())
}

impl CapturedEvent {
    pub fn check(&self) -> Result<(), Error> {
        check_event_id(&self.event_id)?;
        if self.event.len() > MAX_EVENT_BYTES {
            return Err(Error::invalid(
                "event",
                format!(
                    "the event is {} bytes as JSON, at most {MAX_EVENT_BYTES}",
                    self.event.len()
                ),
            ));
        }
        let value: Value = serde_json::from_str(&self.event)
            .map_err(|e| Error::invalid("event", e.to_string()))?;
        if !value.is_object() {
            return Err(Error::invalid("event", "an event is a JSON object"));
        }
        if canonical_json(&value) != self.event {
            return Err(Error::invalid("event", "not in canonical JSON form"));
        }
        match &self.auth {
            CaptureAuth::Token { key } => {
                let (name, id) = key
                    .rsplit_once('+')
                    .ok_or_else(|| Error::invalid("auth", "expected <key name>+<hex key id>"))?;
                oretrace_tlog::note::check_key_name(name)
                    .map_err(|e| Error::invalid("auth", e.to_string()))?;
                if id.len() != 8
                    || !id
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    return Err(Error::invalid(
                        "auth",
                        "the key id is 8 lower-case hex digits",
                    ));
                }
            }
            CaptureAuth::Signed {
                signatures,
                behaviour,
                ..
            } => {
                if !BEHAVIOURS.contains(&behaviour.as_str()) {
                    return Err(Error::invalid(
                        "auth.behaviour",
                        format!("one of {}", BEHAVIOURS.join(", ")),
                    ));
                }
                if signatures.is_empty() || signatures.len() > MAX_DOCUMENT_SIGNATURES {
                    return Err(Error::invalid(
                        "auth.signatures",
                        format!(
                            "a signed document carries 1 to {MAX_DOCUMENT_SIGNATURES} signatures"
                        ),
                    ));
                }
                for (i, s) in signatures.iter().enumerate() {
                    check_signature_line(s)
                        .map_err(|e| e.within(&format!("auth.signatures[{i}]")))?;
                }
            }
        }
        Ok(())
    }

    /// The event as JSON.
    pub fn event_value(&self) -> Value {
        serde_json::from_str(&self.event).unwrap_or(Value::Null)
    }
}

/// Canonical JSON: no insignificant white space, object keys sorted by
/// their UTF-8 bytes, strings escaped as serde_json escapes them, numbers
/// as serde_json prints them. Independent of serde_json's map ordering
/// feature, so one event has one text whatever else is linked in.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_json(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_is_stable() {
        let v: Value =
            serde_json::from_str(r#"{"b": [1, 2.5, {"z": null, "a": "x\ny"}], "a": true}"#)
                .unwrap();
        let text = canonical_json(&v);
        assert_eq!(text, r#"{"a":true,"b":[1,2.5,{"a":"x\ny","z":null}]}"#);
        let again: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(canonical_json(&again), text);
    }

    fn captured(auth: CaptureAuth) -> CapturedEvent {
        CapturedEvent {
            event_id: format!("ni:///sha-256;{}?ver=CBV2.0", "ab".repeat(32)),
            event: canonical_json(&serde_json::json!({
                "type": "ObjectEvent", "action": "OBSERVE", "example:x": "a\nb",
                "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                             {"example": "https://example.org/"}]})),
            captured_by: PartyId::parse("fwo").unwrap(),
            capture: Token::parse("c0ffee").unwrap(),
            auth,
            time: Timestamp::parse("2026-11-26T21:00:00Z").unwrap(),
            figures: Figures::Illustrative,
        }
    }

    #[test]
    fn captured_events_have_one_canonical_encoding() {
        use crate::Record;
        use crate::canonical::{decode, encode};
        for auth in [
            CaptureAuth::Token {
                key: "fwo/key-1+0a0b0c0d".into(),
            },
            CaptureAuth::Signed {
                document: Digest::of(b"doc"),
                behaviour: "rollback".into(),
                signatures: vec!["fwo/key-1 AAAA".into(), "lab/key-1 BBBB".into()],
            },
        ] {
            let record = Record::Event(captured(auth));
            let bytes = encode(&record);
            let text = String::from_utf8(bytes.clone()).unwrap();
            // The event is one line: its newline is escaped inside the JSON.
            assert_eq!(text.lines().filter(|l| l.starts_with("event ")).count(), 1);
            assert_eq!(decode(&bytes).unwrap(), record);
            // Not canonical JSON (a space), an unknown behaviour, a bad id:
            // refused.
            for (from, to) in [
                ("\"action\":\"OBSERVE\"", "\"action\": \"OBSERVE\""),
                (" rollback\n", " maybe\n"),
                ("sha-256;abab", "sha-256;ABAB"),
            ] {
                if text.contains(from) {
                    let changed = text.replacen(from, to, 1);
                    assert!(decode(changed.as_bytes()).is_err(), "{changed}");
                }
            }
        }
    }

    #[test]
    fn the_document_note_names_registry_document_capturer_and_behaviour() {
        let note = document_note("oretrace.example/log", &Digest::of(b""), "fwo", "proceed");
        assert_eq!(
            note,
            "oretrace.epcis-document/v1\noretrace.example/log\n\
             sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             captured-by fwo\nbehaviour proceed\n"
        );
    }

    #[test]
    fn event_ids_are_cbv_hashes() {
        let good = format!("ni:///sha-256;{}?ver=CBV2.0", "ab".repeat(32));
        assert!(check_event_id(&good).is_ok());
        for bad in [
            "ni:///sha-256;abc?ver=CBV2.0".to_owned(),
            format!("ni:///sha-256;{}?ver=CBV2.0", "AB".repeat(32)),
            format!("urn:uuid:{}", "ab".repeat(16)),
            format!("ni:///sha-256;{}", "ab".repeat(32)),
        ] {
            assert!(check_event_id(&bad).is_err(), "{bad}");
        }
    }
}
