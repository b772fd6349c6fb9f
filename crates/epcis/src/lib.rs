//! The CBV 2.0 canonical EPCIS event hash (`ni:///sha-256;…?ver=CBV2.0`).
//!
//! The EPCIS Event Hash ID of GS1's Core Business Vocabulary 2.0 identifies an
//! EPCIS event by the SHA-256 of a canonical *pre-hash string* built from the
//! event's content, independently of its serialisation. This crate computes
//! it for EPCIS 2.0 JSON-LD events, following the reference implementation
//! (GitHub `RalphTro/epcis-event-hash-generator`, PyPI
//! `epcis-event-hash-generator` 1.9.3); where its README prose and its code
//! differ, the code and its test vectors are followed. Pure: no I/O.
//!
//! ```
//! use oretrace_epcis::{document_event_hashes, Context, event_prehash};
//! use serde_json::json;
//!
//! let document = json!({
//!     "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
//!     "type": "EPCISDocument",
//!     "schemaVersion": "2.0",
//!     "creationDate": "2022-02-17T11:30:47.0Z",
//!     "epcisBody": {"eventList": [{
//!         "type": "ObjectEvent",
//!         "eventTime": "2020-04-01T15:00:00+01:00",
//!         "eventTimeZoneOffset": "+01:00",
//!         "epcList": ["urn:epc:id:sgtin:4012345.011111.9876"],
//!         "action": "OBSERVE",
//!         "bizStep": "shipping"
//!     }]}
//! });
//! let event = &document["epcisBody"]["eventList"][0];
//! assert_eq!(
//!     event_prehash(event, &Context::from_document(&document)).unwrap(),
//!     "eventType=ObjectEventeventTime=2020-04-01T14:00:00.000ZeventTimeZoneOffset=+01:00\
//!      epcListepc=https://id.gs1.org/01/04012345111118/21/9876action=OBSERVE\
//!      bizStep=https://ref.gs1.org/cbv/BizStep-shipping"
//! );
//! let hashes = document_event_hashes(&document).unwrap();
//! assert!(hashes[0].starts_with("ni:///sha-256;") && hashes[0].ends_with("?ver=CBV2.0"));
//! ```
//!
//! # The pre-hash string
//!
//! `eventType=<type>` followed, without separators, by the fields in the
//! canonical order `eventTime`, `eventTimeZoneOffset`, `certificationInfo`,
//! `parentID`, `epcList`, `inputEPCList`, `childEPCs`, `quantityList`,
//! `childQuantityList`, `inputQuantityList`, `outputEPCList`,
//! `outputQuantityList`, `action`, `transformationID`, `bizStep`,
//! `disposition`, `persistentDisposition`, `readPoint`, `bizLocation`,
//! `sensorElementList` (each with its own sub-field order), then everything
//! else — `bizTransactionList`, `destinationList`, `sourceList`, `ilmd`, user
//! extensions — rendered `key=value`/`key<children>` and sorted. List items
//! are sorted by their rendered text; business-transaction, source and
//! destination entries render `type` before the identifier. `recordTime`,
//! `eventID`, `errorDeclaration` and comments (`rdfs:comment`, `comment`)
//! are excluded.
//!
//! Values are normalised: bare CBV/GS1 vocabulary to Web URIs (via the GS1
//! JSON-LD context), `urn:epcglobal:cbv:` URNs to Web URIs, CURIEs with an
//! inline-declared prefix to full URIs (keys become `{namespace}local`; as in
//! the reference, `gs1:`/`cbv:` values are only expanded — to
//! `https://gs1.org/voc/`, not the README's `https://ref.gs1.org/voc/` — when
//! the document declares the prefix inline, and user extensions nested in
//! standard fields are only recognised for namespaces ending in `/`),
//! numbers to Python-`float` canonical form, times (`eventTime`, sensor
//! `time`/`startTime`/`endTime`) to UTC with milliseconds, and EPC URIs / GS1
//! Digital Link URIs to constrained canonical Digital Link URIs
//! ([`canonical_digital_link`]).
//!
//! # Where this differs from the reference implementation
//!
//! The reference's observable behaviour is reproduced, quirks included (for
//! example, bare strings are expanded against the vocabulary of the *whole*
//! document, so a user-extension value `"in_transit"` becomes a disposition
//! URI if any event of the document uses that disposition — use
//! [`Context::from_document`] to get the same result). The exceptions, all on
//! inputs the conformance vectors do not contain:
//!
//! * JSON `true`/`false` are written `true`/`false` (the XML form, and what the
//!   reference's XML path and vectors produce); the reference's JSON path
//!   writes Python's `True`/`False`. JSON `null` is an empty value (the
//!   reference writes `None`).
//! * Business-transaction, source and destination entries render `type`, then
//!   the identifier (further members are ignored, as in the reference); the
//!   reference takes the first two members in JSON member order, which is the
//!   same for documents that write `type` first. An entry without `type` is
//!   rendered with its identifier alone (the reference fails on the whole
//!   document).
//! * `@context` members inside an event are not event data and are skipped
//!   (the reference hashes them as a field).
//! * `@context` given as a single object (not an array) is honoured for
//!   prefixes; term definitions with object values are ignored (the reference
//!   fails on them).
//! * Timestamps: a value without zone is taken as UTC (the reference uses the
//!   machine's local zone); a millisecond round-up to 1000 carries into the
//!   next second (the reference drops the event); only ISO 8601 forms are
//!   recognised and anything else is kept as written (the reference's
//!   `dateutil` guesses dates from free text such as `"7.0"`, filling in parts
//!   from today's date, or drops the event when it raises).
//! * Numbers: only ASCII digits are recognised; infinite values are left as
//!   written (the reference drops the event).
//! * Prefixes from a `@context` nested inside the document body, `@vocab`,
//!   and `@xmlns…` members are not interpreted.
//! * `EPCISQueryDocument`s and `epcisBody.event` are supported (the PyPI
//!   release 1.9.3 fails on query documents; the reference's GitHub head
//!   supports them). The reference head's non-standard `ignoreFields`
//!   extension is not implemented.

mod context;
mod dl;
pub mod epc_format;
mod number;
mod prehash;
pub mod query;
pub mod schedule;
mod text;
mod time;
mod tree;
mod vocab;

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use context::Context;

/// The standard CBV 2.0 business steps, as bare words (`shipping`); any
/// other business step is a URI or a CURIE.
pub const STANDARD_BIZ_STEPS: &[&str] = vocab::BIZ_STEP.terms;
/// The standard CBV 2.0 dispositions, as bare words (`in_transit`).
pub const STANDARD_DISPOSITIONS: &[&str] = vocab::DISPOSITION.terms;
pub use self::time::{format_timestamp_millis, normalise_timestamp};
pub use dl::{canonical_digital_link, gs1_check_digit_holds};
pub use vocab::CBV_URNS;

/// Why no hash could be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An event is not a JSON object.
    #[error("an EPCIS event must be a JSON object")]
    EventNotObject,
    /// An event's `type` member is not a string.
    #[error("the \"type\" of an EPCIS event must be a string")]
    EventTypeNotString,
    /// The document is neither an EPCIS (query) document nor an event.
    #[error("not an EPCIS document or event: {0}")]
    NotADocument(&'static str),
}

/// The pre-hash string of one event.
///
/// `context` supplies the inline namespace prefixes and the vocabulary of the
/// enclosing document ([`Context::from_document`]); the event's own
/// vocabulary is always taken into account.
///
/// # Errors
///
/// [`Error::EventNotObject`] or [`Error::EventTypeNotString`].
pub fn event_prehash(event: &Value, context: &Context) -> Result<String, Error> {
    let Value::Object(map) = event else {
        return Err(Error::EventNotObject);
    };
    if map.get("type").is_some_and(|kind| !kind.is_string()) {
        return Err(Error::EventTypeNotString);
    }
    let vocabulary = context.vocabulary_for(event);
    let builder = tree::Builder {
        context,
        vocabulary: &vocabulary,
    };
    Ok(prehash::event_prehash(builder.event(event)))
}

/// The EPCIS Event Hash ID of one event: `ni:///sha-256;<hex>?ver=CBV2.0`.
///
/// # Errors
///
/// As [`event_prehash`].
pub fn event_hash(event: &Value, context: &Context) -> Result<String, Error> {
    event_prehash(event, context).map(|prehash| hash_prehash(&prehash))
}

/// The hash ID of a pre-hash string (SHA-256 of its UTF-8 bytes).
#[must_use]
pub fn hash_prehash(prehash: &str) -> String {
    let digest = Sha256::digest(prehash.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    format!("ni:///sha-256;{hex}?ver=CBV2.0")
}

/// The events of an `EPCISDocument` (`epcisBody.eventList` or
/// `epcisBody.event`), of an `EPCISQueryDocument`
/// (`epcisBody.queryResults.resultsBody.eventList`), or a bare event (an
/// object with a string `type` and no `epcisBody`), in document order.
///
/// # Errors
///
/// [`Error::NotADocument`] when none of these shapes applies.
pub fn document_events(document: &Value) -> Result<Vec<&Value>, Error> {
    let Value::Object(map) = document else {
        return Err(Error::NotADocument("not a JSON object"));
    };
    let Some(body) = map.get("epcisBody") else {
        return match map.get("type").and_then(Value::as_str) {
            Some("EPCISDocument" | "EPCISQueryDocument") => {
                Err(Error::NotADocument("document without epcisBody"))
            }
            Some(_) => Ok(vec![document]),
            None => Err(Error::NotADocument("no epcisBody and no event type")),
        };
    };
    let list = if let Some(list) = body.get("eventList") {
        list
    } else if let Some(results) = body.get("queryResults") {
        results
            .get("resultsBody")
            .and_then(|results| results.get("eventList"))
            .ok_or(Error::NotADocument(
                "queryResults without resultsBody.eventList",
            ))?
    } else if let Some(event) = body.get("event") {
        return Ok(vec![event]);
    } else {
        return Err(Error::NotADocument("epcisBody without eventList"));
    };
    match list {
        Value::Array(events) => Ok(events.iter().collect()),
        _ => Err(Error::NotADocument("eventList is not an array")),
    }
}

/// The hash IDs of all events of a document (see [`document_events`]), in
/// document order, with the document's [`Context`].
///
/// # Errors
///
/// [`Error::NotADocument`], or the error of the first event that has none.
pub fn document_event_hashes(document: &Value) -> Result<Vec<String>, Error> {
    let context = Context::from_document(document);
    document_events(document)?
        .into_iter()
        .map(|event| event_hash(event, &context))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_format() {
        assert_eq!(
            hash_prehash(""),
            "ni:///sha-256;e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855?ver=CBV2.0"
        );
    }

    #[test]
    fn document_shapes() {
        let event = json!({"type": "ObjectEvent", "action": "OBSERVE"});
        let documents = [
            json!({"type": "EPCISDocument", "epcisBody": {"eventList": [event.clone()]}}),
            json!({"type": "EPCISDocument", "epcisBody": {"event": event.clone()}}),
            json!({"type": "EPCISQueryDocument",
                   "epcisBody": {"queryResults": {"resultsBody": {"eventList": [event.clone()]}}}}),
            event.clone(),
        ];
        for document in &documents {
            assert_eq!(document_events(document).unwrap(), vec![&event]);
        }
        assert!(document_events(&json!({"type": "EPCISDocument"})).is_err());
        assert!(document_events(&json!([])).is_err());
        assert!(document_events(&json!({"epcisBody": {"eventList": {}}})).is_err());
        assert_eq!(
            event_prehash(&json!("x"), &Context::new()),
            Err(Error::EventNotObject)
        );
        assert_eq!(
            event_prehash(&json!({"type": 1}), &Context::new()),
            Err(Error::EventTypeNotString)
        );
        assert_eq!(
            event_prehash(&json!({}), &Context::new()).unwrap(),
            "eventType="
        );
    }

    #[test]
    fn extensions_and_exclusions() {
        let document = json!({
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                         {"ex": "https://ns.example.com/epcis/"}],
            "type": "EPCISDocument",
            "epcisBody": {"eventList": [{
                "type": "ObjectEvent",
                "eventID": "urn:uuid:1",
                "recordTime": "2020-01-01T00:00:00Z",
                "eventTime": "2020-01-01T00:00:00Z",
                "eventTimeZoneOffset": "+00:00",
                "action": "OBSERVE",
                "readPoint": {"id": "urn:epc:id:sgln:4012345.00005.0", "ex:b": "2", "ex:a": "1"},
                "errorDeclaration": {"declarationTime": "2020-01-02T00:00:00Z"},
                "rdfs:comment": "no",
                "ex:z": {"ex:y": ["3", "1"]},
                "sourceList": [{"source": "urn:epc:id:pgln:4012345.00000", "type": "owning_party"}]
            }]}
        });
        let context = Context::from_document(&document);
        let event = document_events(&document).unwrap()[0];
        assert_eq!(
            event_prehash(event, &context).unwrap(),
            "eventType=ObjectEventeventTime=2020-01-01T00:00:00.000ZeventTimeZoneOffset=+00:00\
             action=OBSERVEreadPointid=https://id.gs1.org/414/4012345000054\
             {https://ns.example.com/epcis/}a=1{https://ns.example.com/epcis/}b=2\
             sourceListtype=https://ref.gs1.org/cbv/SDT-owning_party\
             source=https://id.gs1.org/417/4012345000009\
             {https://ns.example.com/epcis/}z{https://ns.example.com/epcis/}y=1\
             {https://ns.example.com/epcis/}y=3"
        );
    }
}
