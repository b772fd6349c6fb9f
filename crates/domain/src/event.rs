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

/// The key references and signature lines an entry's auth holds.
pub use oretrace_tlog::note::{KeyRef, SignatureLine};

use crate::Error;
use crate::record::Figures;
use crate::values::{Digest, PartyId, Timestamp, Token};

/// Largest event, as logged (an entry is at most 64 KiB).
pub const MAX_EVENT_BYTES: usize = 60_000;

/// Most detached signatures one document may carry.
pub const MAX_DOCUMENT_SIGNATURES: usize = 8;

/// First line of the note a party signs to sign a capture document.
pub const DOCUMENT_NOTE_HEADER: &str = "oretrace.epcis-document/v1";

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
    behaviour: CaptureBehaviour,
) -> String {
    format!(
        "{DOCUMENT_NOTE_HEADER}\n{origin}\nsha256 {document}\ncaptured-by {captured_by}\nbehaviour {behaviour}\n"
    )
}

/// A CBV 2.0 event hash used as an event id:
/// `ni:///sha-256;<64 lower-case hex>?ver=CBV2.0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

impl EventId {
    pub fn parse(id: &str) -> Result<Self, Error> {
        let hex = id
            .strip_prefix("ni:///sha-256;")
            .and_then(|rest| rest.strip_suffix("?ver=CBV2.0"));
        match hex {
            Some(h)
                if h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                Ok(EventId(id.to_owned()))
            }
            _ => Err(Error::invalid(
                "event_id",
                "an event id is ni:///sha-256;<64 lower-case hex>?ver=CBV2.0",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for EventId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// The `type` of an EPCIS event: one of the five event types of EPCIS
/// 2.0, or an extension event type, which the EPCIS schema requires to be
/// a URI (`https://ns.example.com/epcis/SampleEvent`, or a compact
/// `example:SampleEvent`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Object,
    Aggregation,
    Transaction,
    Transformation,
    Association,
    Extension(ExtensionType),
}

/// An extension event type: a URI, as written (a scheme, `:`, the rest,
/// with no white space or control characters).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtensionType(String);

impl ExtensionType {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl EventType {
    /// The five event types of EPCIS 2.0.
    pub const STANDARD: [EventType; 5] = [
        EventType::Object,
        EventType::Aggregation,
        EventType::Transaction,
        EventType::Transformation,
        EventType::Association,
    ];

    pub fn parse(text: &str) -> Result<Self, Error> {
        if let Some(standard) = EventType::STANDARD.into_iter().find(|t| t.as_str() == text) {
            return Ok(standard);
        }
        let scheme = text.split_once(':').map(|(scheme, _)| scheme);
        let uri = scheme.is_some_and(|s| {
            s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }) && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if uri {
            Ok(EventType::Extension(ExtensionType(text.to_owned())))
        } else {
            Err(Error::invalid(
                "",
                format!(
                    "{text:?} is not an EPCIS event type (ObjectEvent, AggregationEvent, \
                     TransactionEvent, TransformationEvent, AssociationEvent, or a URI)"
                ),
            ))
        }
    }

    /// The type as an event's `type` states it.
    pub fn as_str(&self) -> &str {
        match self {
            EventType::Object => "ObjectEvent",
            EventType::Aggregation => "AggregationEvent",
            EventType::Transaction => "TransactionEvent",
            EventType::Transformation => "TransformationEvent",
            EventType::Association => "AssociationEvent",
            EventType::Extension(uri) => uri.as_str(),
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `GS1-Capture-Error-Behaviour`: what a capture does with the events of
/// a document when some are refused.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum CaptureBehaviour {
    /// All or nothing (the default).
    #[default]
    Rollback,
    /// Every acceptable event is captured.
    Proceed,
    /// Listed by the REST binding without a definition; treated as
    /// `proceed` and reported as given.
    All,
}

impl CaptureBehaviour {
    /// Every behaviour, in the order the interface lists them.
    pub const ALL: [CaptureBehaviour; 3] = [
        CaptureBehaviour::Rollback,
        CaptureBehaviour::Proceed,
        CaptureBehaviour::All,
    ];

    pub fn parse(text: &str) -> Result<Self, Error> {
        CaptureBehaviour::ALL
            .into_iter()
            .find(|b| b.as_str() == text)
            .ok_or_else(|| {
                Error::invalid(
                    "behaviour",
                    format!("{text:?}: expected rollback, proceed or all"),
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaptureBehaviour::Rollback => "rollback",
            CaptureBehaviour::Proceed => "proceed",
            CaptureBehaviour::All => "all",
        }
    }

    /// Whether one refused event keeps every event of the document out.
    pub fn is_atomic(self) -> bool {
        self == CaptureBehaviour::Rollback
    }
}

impl std::fmt::Display for CaptureBehaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the registry knows who captured an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureAuth {
    /// A bearer token issued for this key.
    Token { key: KeyRef },
    /// Detached signatures over [`document_note`] of the document's digest.
    Signed {
        document: Digest,
        /// The `GS1-Capture-Error-Behaviour` the signers signed for.
        behaviour: CaptureBehaviour,
        /// 1 to [`MAX_DOCUMENT_SIGNATURES`] lines.
        signatures: Vec<SignatureLine>,
    },
}

impl CaptureAuth {
    fn check(&self) -> Result<(), Error> {
        if let CaptureAuth::Signed { signatures, .. } = self
            && (signatures.is_empty() || signatures.len() > MAX_DOCUMENT_SIGNATURES)
        {
            return Err(Error::invalid(
                "auth.signatures",
                format!("a signed document carries 1 to {MAX_DOCUMENT_SIGNATURES} signatures"),
            ));
        }
        Ok(())
    }
}

/// How the event of an `epcis-event` entry is written: the entry's
/// `event-encoding` line names it, and an entry without one is in the
/// first encoding. See `docs/design/epcis-capture.md`, "The bytes of a
/// captured event".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventEncoding {
    /// RFC 8785, the JSON Canonicalization Scheme ([`crate::jcs`]):
    /// `event-encoding rfc8785`. Every new entry.
    Rfc8785,
    /// The first encoding, of entries without an `event-encoding` line:
    /// no white space, keys sorted by their UTF-8 bytes, strings escaped
    /// as RFC 8785 escapes them, numbers as serde_json 1.x prints them
    /// (integers in full, other numbers in ryu's shortest form with
    /// `.0` for integral values and an `e` exponent). Read, never written.
    Legacy,
}

impl EventEncoding {
    /// The value of the entry's `event-encoding` line; none for
    /// [`EventEncoding::Legacy`].
    pub fn marker(self) -> Option<&'static str> {
        match self {
            EventEncoding::Rfc8785 => Some("rfc8785"),
            EventEncoding::Legacy => None,
        }
    }

    /// Parses the value of an `event-encoding` line.
    pub fn parse_marker(text: &str) -> Result<Self, Error> {
        match text {
            "rfc8785" => Ok(EventEncoding::Rfc8785),
            other => Err(Error::invalid(
                "event-encoding",
                format!("{other:?} is not an event encoding (rfc8785)"),
            )),
        }
    }

    /// The text of `value` in this encoding.
    pub fn encode(self, value: &Value) -> String {
        match self {
            EventEncoding::Rfc8785 => crate::jcs::to_string(value),
            EventEncoding::Legacy => legacy_json(value),
        }
    }
}

/// One EPCIS event as captured. Its fields are checked when it is made
/// ([`CapturedEvent::new`], [`CapturedEvent::from_logged`]) and cannot
/// change after: the event as JSON and its logged text agree, and the
/// text is the event's one text in its encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedEvent {
    event_id: EventId,
    event: Value,
    text: String,
    encoding: EventEncoding,
    captured_by: PartyId,
    capture: Token,
    auth: CaptureAuth,
    time: Timestamp,
    figures: Figures,
}

impl CapturedEvent {
    /// A captured event, written in RFC 8785 form. Refuses an event that
    /// is not a JSON object, is larger than [`MAX_EVENT_BYTES`] as
    /// written, or an auth with no or too many signatures.
    pub fn new(
        event_id: EventId,
        event: Value,
        captured_by: PartyId,
        capture: Token,
        auth: CaptureAuth,
        time: Timestamp,
        figures: Figures,
    ) -> Result<Self, Error> {
        let encoding = EventEncoding::Rfc8785;
        if !event.is_object() {
            return Err(Error::invalid("event", "an event is a JSON object"));
        }
        let text = encoding.encode(&event);
        // Made exactly as a log entry is read back, so that whatever is
        // captured decodes: the event as the log holds it (a number that
        // JCS rounds to a double, an integer beyond 2^53, reads back as
        // that double) and its text in one encoding.
        Self::from_logged(
            event_id,
            encoding,
            &text,
            captured_by,
            capture,
            auth,
            time,
            figures,
        )
    }

    /// A captured event as a log entry states it: `text` must be the
    /// event's one text in `encoding`.
    #[expect(
        clippy::too_many_arguments,
        reason = "the fields of a logged entry, each checked here"
    )]
    pub fn from_logged(
        event_id: EventId,
        encoding: EventEncoding,
        text: &str,
        captured_by: PartyId,
        capture: Token,
        auth: CaptureAuth,
        time: Timestamp,
        figures: Figures,
    ) -> Result<Self, Error> {
        if text.len() > MAX_EVENT_BYTES {
            return Err(too_large(text.len()));
        }
        let event: Value =
            serde_json::from_str(text).map_err(|e| Error::invalid("event", e.to_string()))?;
        if !event.is_object() {
            return Err(Error::invalid("event", "an event is a JSON object"));
        }
        if encoding.encode(&event) != text {
            return Err(Error::invalid(
                "event",
                match encoding {
                    EventEncoding::Rfc8785 => "not in RFC 8785 (JCS) form",
                    EventEncoding::Legacy => "not in the first encoding's form",
                },
            ));
        }
        let made = CapturedEvent {
            event_id,
            event,
            text: text.to_owned(),
            encoding,
            captured_by,
            capture,
            auth,
            time,
            figures,
        };
        made.check()?;
        Ok(made)
    }

    /// The rules a captured event keeps (already kept by construction).
    pub fn check(&self) -> Result<(), Error> {
        if self.text.len() > MAX_EVENT_BYTES {
            return Err(too_large(self.text.len()));
        }
        self.auth.check()
    }

    /// The CBV 2.0 event hash the entry states.
    pub fn event_id(&self) -> &EventId {
        &self.event_id
    }

    /// The event as JSON (as the logged text reads).
    pub fn event(&self) -> &Value {
        &self.event
    }

    /// The event as logged, in [`CapturedEvent::encoding`].
    pub fn event_text(&self) -> &str {
        &self.text
    }

    pub fn encoding(&self) -> EventEncoding {
        self.encoding
    }

    pub fn captured_by(&self) -> &PartyId {
        &self.captured_by
    }

    /// The capture job that brought it.
    pub fn capture(&self) -> &Token {
        &self.capture
    }

    pub fn auth(&self) -> &CaptureAuth {
        &self.auth
    }

    /// When the registry recorded it (the EPCIS `recordTime`).
    pub fn time(&self) -> Timestamp {
        self.time
    }

    /// From the event's `https://oretrace.org/epcis/figures` extension.
    pub fn figures(&self) -> Figures {
        self.figures
    }
}

fn too_large(len: usize) -> Error {
    Error::invalid(
        "event",
        format!("the event is {len} bytes as JSON, at most {MAX_EVENT_BYTES}"),
    )
}

/// The first encoding ([`EventEncoding::Legacy`]): no insignificant white
/// space, object keys sorted by their UTF-8 bytes, strings escaped as
/// serde_json escapes them, numbers as serde_json prints them.
fn legacy_json(value: &Value) -> String {
    let mut out = String::new();
    write_legacy(value, &mut out);
    out
}

fn write_legacy(value: &Value, out: &mut String) {
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
                write_legacy(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_legacy(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Record;
    use crate::canonical::{decode, encode};

    fn id() -> EventId {
        EventId::parse(&format!("ni:///sha-256;{}?ver=CBV2.0", "ab".repeat(32))).unwrap()
    }

    fn event_json() -> Value {
        serde_json::json!({
            "type": "ObjectEvent", "action": "OBSERVE", "example:x": "a\nb",
            "example:n": [1.0, 1e21, -0.0, 0.1, 0.000001],
            // U+FB33 sorts after U+1F600 by UTF-16 code units, before by UTF-8.
            "example:\u{fb33}": "dalet", "example:\u{1f600}": "grin",
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                         {"example": "https://example.org/"}]})
    }

    fn token_auth() -> CaptureAuth {
        CaptureAuth::Token {
            key: KeyRef::parse("fwo/key-1+0a0b0c0d").unwrap(),
        }
    }

    fn signed_auth() -> CaptureAuth {
        CaptureAuth::Signed {
            document: Digest::of(b"doc"),
            behaviour: CaptureBehaviour::Rollback,
            signatures: vec![
                SignatureLine::parse("fwo/key-1 AAAAAAAA").unwrap(),
                SignatureLine::parse("lab/key-1 BBBBBBBB").unwrap(),
            ],
        }
    }

    fn captured(auth: CaptureAuth) -> CapturedEvent {
        CapturedEvent::new(
            id(),
            event_json(),
            PartyId::parse("fwo").unwrap(),
            Token::parse("c0ffee").unwrap(),
            auth,
            Timestamp::parse("2026-11-26T21:00:00Z").unwrap(),
            Figures::Illustrative,
        )
        .unwrap()
    }

    #[test]
    fn event_types_are_the_five_or_a_uri_and_print_as_read() {
        for text in [
            "ObjectEvent",
            "AggregationEvent",
            "TransactionEvent",
            "TransformationEvent",
            "AssociationEvent",
        ] {
            let t = EventType::parse(text).unwrap();
            assert!(EventType::STANDARD.contains(&t), "{text}");
            assert_eq!(t.to_string(), text);
        }
        for text in [
            "https://ns.example.com/epcis/SampleEvent",
            "example:SampleEvent",
            "urn:x-acme:ev.1",
            "a+b.c-d:",
        ] {
            let t = EventType::parse(text).unwrap();
            assert!(matches!(t, EventType::Extension(_)), "{text}");
            assert_eq!(t.as_str(), text);
        }
        for text in [
            "",
            "SampleEvent",
            "objectEvent",
            "ObjectEvent ",
            ":SampleEvent",
            "1x:SampleEvent",
            "ex ample:SampleEvent",
            "example:Sample Event",
            "example:Sample\nEvent",
            "ex_ample:SampleEvent",
        ] {
            let e = EventType::parse(text).unwrap_err().to_string();
            assert!(e.contains("is not an EPCIS event type"), "{text:?}: {e}");
        }
    }

    #[test]
    fn legacy_json_sorts_keys_by_bytes_and_prints_numbers_as_serde_json() {
        let v: Value = serde_json::from_str(
            r#"{"b": [1, 2.5, 1.0, 1e21, {"z": null, "a": "x\ny"}], "a": true}"#,
        )
        .unwrap();
        let text = legacy_json(&v);
        assert_eq!(
            text,
            r#"{"a":true,"b":[1,2.5,1.0,1e+21,{"a":"x\ny","z":null}]}"#
        );
        let again: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(legacy_json(&again), text);
        assert_eq!(
            crate::jcs::to_string(&v),
            r#"{"a":true,"b":[1,2.5,1,1e+21,{"a":"x\ny","z":null}]}"#
        );
    }

    #[test]
    fn captured_events_have_one_canonical_encoding() {
        for auth in [token_auth(), signed_auth()] {
            let record = Record::Event(captured(auth));
            let bytes = encode(&record);
            let text = String::from_utf8(bytes.clone()).unwrap();
            // The event is one line: its newline is escaped inside the JSON.
            assert_eq!(text.lines().filter(|l| l.starts_with("event ")).count(), 1);
            assert!(text.contains("\nevent-encoding rfc8785\nevent {"), "{text}");
            assert!(
                text.contains(r#""example:n":[1,1e+21,0,0.1,0.000001]"#),
                "{text}"
            );
            assert_eq!(decode(&bytes).unwrap(), record);
            // Not canonical JSON (a space, a number not in JCS form, keys in
            // another order), an unknown behaviour or encoding, a bad id or
            // key reference, a malformed signature line: refused.
            for (from, to) in [
                ("\"action\":\"OBSERVE\"", "\"action\": \"OBSERVE\""),
                ("[1,1e+21,0,0.1,0.000001]", "[1.0,1e+21,0,0.1,0.000001]"),
                ("[1,1e+21,0,0.1,0.000001]", "[1,1e21,0,0.1,0.000001]"),
                ("[1,1e+21,0,0.1,0.000001]", "[1,1e+21,-0,0.1,0.000001]"),
                (
                    "\"action\":\"OBSERVE\",\"example:n\"",
                    "\"example:n\":[1,1e+21,0,0.1,0.000001],\"action\":\"OBSERVE\",\"example:x\"",
                ),
                (" rollback\n", " maybe\n"),
                ("event-encoding rfc8785", "event-encoding rfc8785/2"),
                ("sha-256;abab", "sha-256;ABAB"),
                ("+0a0b0c0d", "+0A0B0C0D"),
                ("lab/key-1 BBBBBBBB", "lab/key-1 BBBBBBB"),
            ] {
                if text.contains(from) {
                    let changed = text.replacen(from, to, 1);
                    assert!(decode(changed.as_bytes()).is_err(), "{changed}");
                }
            }
        }
    }

    /// Entries written before the `event-encoding` line keep decoding,
    /// and re-encode byte for byte; an entry whose event is in one form
    /// but claims the other is refused.
    #[test]
    fn legacy_entries_decode_and_re_encode_byte_for_byte() {
        let jcs = String::from_utf8(encode(&Record::Event(captured(token_auth())))).unwrap();
        let legacy_event = legacy_json(&event_json());
        let legacy = jcs
            .lines()
            .filter(|l| !l.starts_with("event-encoding "))
            .map(|l| {
                if l.starts_with("event ") {
                    format!("event {legacy_event}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect::<String>();
        assert!(
            legacy.contains(r#""example:n":[1.0,1e+21,-0.0,0.1,1e-6]"#),
            "{legacy}"
        );
        assert!(
            legacy.find('\u{fb33}') < legacy.find('\u{1f600}'),
            "UTF-8 order"
        );
        assert!(jcs.find('\u{fb33}') > jcs.find('\u{1f600}'), "UTF-16 order");
        let record = decode(legacy.as_bytes()).unwrap();
        let Record::Event(event) = &record else {
            panic!("not an event")
        };
        assert_eq!(event.encoding(), EventEncoding::Legacy);
        assert_eq!(event.event_text(), legacy_event);
        assert_eq!(encode(&record), legacy.as_bytes());
        // The same event, both ways: the same JSON value.
        let Record::Event(new) = decode(jcs.as_bytes()).unwrap() else {
            panic!("not an event")
        };
        assert_eq!(new.encoding(), EventEncoding::Rfc8785);
        assert_eq!(
            crate::jcs::to_string(event.event()),
            new.event_text(),
            "one event, two encodings"
        );
        // JCS text without the marker, first-encoding text with it: refused.
        let unmarked = jcs.replace("event-encoding rfc8785\n", "");
        assert!(decode(unmarked.as_bytes()).is_err());
        let marked = legacy.replace("\nevent {", "\nevent-encoding rfc8785\nevent {");
        assert!(decode(marked.as_bytes()).is_err());
    }

    #[test]
    fn construction_refuses_what_an_entry_cannot_hold() {
        let make = |event: Value, auth: CaptureAuth| {
            CapturedEvent::new(
                id(),
                event,
                PartyId::parse("fwo").unwrap(),
                Token::parse("c0ffee").unwrap(),
                auth,
                Timestamp::parse("2026-11-26T21:00:00Z").unwrap(),
                Figures::Illustrative,
            )
        };
        let err = make(serde_json::json!([1]), token_auth()).unwrap_err();
        assert_eq!(err.field(), Some("event"), "{err}");
        let big = serde_json::json!({"type": "ObjectEvent", "x": "y".repeat(MAX_EVENT_BYTES)});
        let err = make(big, token_auth()).unwrap_err();
        assert!(err.to_string().contains("at most 60000"), "{err}");
        for n in [0, MAX_DOCUMENT_SIGNATURES + 1] {
            let auth = CaptureAuth::Signed {
                document: Digest::of(b"doc"),
                behaviour: CaptureBehaviour::Proceed,
                signatures: vec![SignatureLine::parse("fwo/key-1 AAAAAAAA").unwrap(); n],
            };
            let err = make(event_json(), auth).unwrap_err();
            assert_eq!(err.field(), Some("auth.signatures"), "{err}");
        }
        // What the entry holds reads back as the JSON it was made from,
        // except that integers beyond 2^53 become the nearest double.
        let made = make(
            serde_json::json!({"type": "ObjectEvent", "n": 9007199254740993_u64, "s": "Gwādar 瓜达尔"}),
            token_auth(),
        )
        .unwrap();
        assert_eq!(
            made.event_text(),
            r#"{"n":9007199254740992,"s":"Gwādar 瓜达尔","type":"ObjectEvent"}"#
        );
        assert_eq!(made.event()["n"].as_u64(), Some(9007199254740992));
    }

    #[test]
    fn the_document_note_names_registry_document_capturer_and_behaviour() {
        let note = document_note(
            "oretrace.example/log",
            &Digest::of(b""),
            "fwo",
            CaptureBehaviour::Proceed,
        );
        assert_eq!(
            note,
            "oretrace.epcis-document/v1\noretrace.example/log\n\
             sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             captured-by fwo\nbehaviour proceed\n"
        );
    }

    #[test]
    fn capture_behaviours_have_one_spelling() {
        for b in CaptureBehaviour::ALL {
            assert_eq!(CaptureBehaviour::parse(b.as_str()), Ok(b));
            assert_eq!(b.to_string(), b.as_str());
        }
        assert_eq!(CaptureBehaviour::default(), CaptureBehaviour::Rollback);
        for b in CaptureBehaviour::ALL {
            let json = serde_json::to_string(&b).unwrap();
            assert_eq!(json, format!("\"{b}\""));
            assert_eq!(serde_json::from_str::<CaptureBehaviour>(&json).unwrap(), b);
        }
        assert!(CaptureBehaviour::Rollback.is_atomic());
        assert!(!CaptureBehaviour::All.is_atomic());
        for bad in ["", "Rollback", "rollback ", "none"] {
            assert!(CaptureBehaviour::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn event_ids_are_cbv_hashes() {
        let good = format!("ni:///sha-256;{}?ver=CBV2.0", "ab".repeat(32));
        assert_eq!(EventId::parse(&good).unwrap().as_str(), good);
        assert_eq!(EventId::parse(&good).unwrap().to_string(), good);
        for bad in [
            "ni:///sha-256;abc?ver=CBV2.0".to_owned(),
            format!("ni:///sha-256;{}?ver=CBV2.0", "AB".repeat(32)),
            format!("urn:uuid:{}", "ab".repeat(16)),
            format!("ni:///sha-256;{}", "ab".repeat(32)),
        ] {
            assert!(EventId::parse(&bad).is_err(), "{bad}");
        }
    }
}
