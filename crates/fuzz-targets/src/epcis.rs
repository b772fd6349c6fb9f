//! EPCIS documents and queries: the CBV 2.0 event hash, the mapping to
//! records, the official JSON Schema and the query parameters.

#![expect(
    clippy::expect_used,
    reason = "a fuzz target reports a broken invariant by panicking"
)]

use oretrace_domain::Record;
use oretrace_epcis::query::{EventQuery, event_terms, timestamp_millis};
use oretrace_epcis::{Context, document_events, event_hash, event_prehash, hash_prehash};
use oretrace_epcis_map::{event_of_record, interpret};
use oretrace_epcis_schema::EpcisValidator;
use serde_json::Value;

use crate::MAX_INPUT;

fn json(data: &[u8]) -> Option<Value> {
    if data.len() > MAX_INPUT {
        return None;
    }
    serde_json::from_slice(data).ok()
}

/// The events of a document, or the value itself when it is no document
/// (the mapping and the hash also read bare events).
fn events(document: &Value) -> Vec<&Value> {
    document_events(document).unwrap_or_else(|_| vec![document])
}

/// The CBV 2.0 event hash of every event of a JSON document: never a
/// panic, the hash is the hash of the pre-hash, and it depends on the
/// event alone (not on where the document put it).
pub fn hash(data: &[u8]) {
    let Some(document) = json(data) else {
        return;
    };
    let context = Context::from_document(&document);
    for event in events(&document) {
        let Ok(prehash) = event_prehash(event, &context) else {
            continue;
        };
        let hash = event_hash(event, &context).expect("an event with a pre-hash has a hash");
        assert_eq!(hash, hash_prehash(&prehash));
        assert!(hash.starts_with("ni:///sha-256;") && hash.ends_with("?ver=CBV2.0"));
        let reparsed: Value =
            serde_json::from_str(&event.to_string()).expect("serde_json writes JSON");
        assert_eq!(
            event_hash(&reparsed, &context).ok(),
            Some(hash),
            "the hash changes when the event is written and read again"
        );
    }
}

/// The mapping of events to records: never a panic, and every record it
/// reads maps back to an event that reads as exactly that record.
pub fn map(data: &[u8]) {
    let Some(document) = json(data) else {
        return;
    };
    for event in events(&document) {
        let Ok(mapped) = interpret(event) else {
            continue;
        };
        for record in &mapped.records {
            if matches!(
                record,
                Record::Party(_) | Record::Site(_) | Record::Event(_)
            ) {
                continue;
            }
            let Some(written) = event_of_record(record) else {
                continue;
            };
            let back = interpret(&written).expect("an event the mapping wrote reads back");
            assert_eq!(
                back.records,
                vec![record.clone()],
                "a record read from an event does not survive the mapping"
            );
        }
        let _ = event_terms(event);
    }
}

/// The official EPCIS 2.0 JSON Schema: never a panic, and every violation
/// names a JSON pointer.
pub fn schema(data: &[u8]) {
    let Some(document) = json(data) else {
        return;
    };
    let validator = EpcisValidator::shared().expect("the embedded schemas load");
    let results = [
        validator.validate_document(&document),
        validator.validate_event(&document),
        validator.validate_query(&document),
    ];
    for violations in results.into_iter().filter_map(Result::err) {
        assert!(!violations.is_empty(), "refused without a violation");
        for v in violations {
            let pointer = v.pointer.clone();
            assert!(
                pointer.is_empty() || pointer.starts_with('/'),
                "violation pointer {pointer:?} is not a JSON pointer"
            );
        }
    }
}

/// Percent-decodes one `application/x-www-form-urlencoded` component as
/// the server's query extractor does (`+` is a space; bad escapes stay).
fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The EPCIS query parameters, as a URL query string (`GET /events`) and
/// as a named query's JSON: never a panic, and a parsed query answers for
/// a few fixed events without one.
pub fn query(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let probes = [
        serde_json::json!({
            "type": "ObjectEvent", "eventTime": "2025-09-20T00:00:00.000Z",
            "eventTimeZoneOffset": "+05:00", "action": "OBSERVE",
            "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
            "bizStep": "shipping", "disposition": "in_transit",
            "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
            "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"},
        }),
        serde_json::json!({
            "type": "TransformationEvent", "eventTime": "2025-10-01T12:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "inputEPCList": ["https://id.gs1.org/01/09520123456788/21/1"],
            "outputQuantityList": [{"epcClass": "urn:oretrace:lot:x", "quantity": 3, "uom": "KGM"}],
        }),
    ];
    let mut queries = Vec::new();
    if let Ok(text) = std::str::from_utf8(data) {
        let pairs: Vec<(String, String)> = text
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (form_decode(k), form_decode(v)),
                None => (form_decode(p), String::new()),
            })
            .collect();
        if let Ok(q) = EventQuery::from_pairs(&pairs) {
            queries.push(q);
        }
        let _ = timestamp_millis(text);
    }
    if let Ok(value) = serde_json::from_slice::<Value>(data)
        && let Ok(q) = EventQuery::from_json(&value)
    {
        queries.push(q);
    }
    for q in queries {
        let _ = q.candidate_terms();
        let _ = (q.event_time_range(), q.record_time_range(), q.per_page());
        let _ = (q.order_by(), q.descending(), q.event_count_limit());
        for probe in &probes {
            let _ = q.matches(probe, 1_760_000_000_000);
        }
        let _ = q.clone().and(EventQuery::default());
    }
}

/// The `GS1-EPC-Format` rewrite of every event of a JSON document, in
/// every format: never a panic, the event's CBV 2.0 hash (its id) is the
/// same in every form, and rewriting an event twice changes nothing more.
pub fn format(data: &[u8]) {
    use oretrace_epcis::epc_format::{EpcFormat, rewrite_event};
    let Some(document) = json(data) else {
        return;
    };
    let context = Context::from_document(&document);
    for event in events(&document) {
        let before = event_hash(event, &context).ok();
        for format in [
            EpcFormat::NoPreference,
            EpcFormat::AlwaysDigitalLink,
            EpcFormat::AlwaysEpcUrn,
            EpcFormat::NeverTranslates,
        ] {
            assert_eq!(EpcFormat::parse(format.as_str()), Some(format));
            let mut once = event.clone();
            rewrite_event(&mut once, format);
            let mut twice = once.clone();
            rewrite_event(&mut twice, format);
            assert_eq!(once, twice, "a second rewrite changed the event");
            if before.is_some() {
                assert_eq!(
                    event_hash(&once, &context).ok(),
                    before,
                    "the rewrite changed the event's hash"
                );
            }
        }
    }
}

/// The subscription schedule, as `name=value` pairs joined by `&` (no
/// percent-decoding: brackets and commas as written): never a panic; a
/// schedule that parses answers for instants from `i64::MIN` to
/// `i64::MAX` with a firing strictly later that matches it, and a refusal
/// names the schedule.
pub fn schedule(data: &[u8]) {
    use oretrace_epcis::schedule::{MAX_INSTANT_MS, Schedule};
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pairs: Vec<(&str, &str)> = text
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let parsed = match Schedule::parse(&pairs) {
        Ok(parsed) => parsed,
        Err(error) => {
            assert!(error.to_string().starts_with("schedule"));
            return;
        }
    };
    let instants = [
        i64::MIN,
        -1,
        0,
        999,
        1_760_000_000_123,
        4_102_444_799_999,
        MAX_INSTANT_MS - 86_400_000,
        MAX_INSTANT_MS,
        MAX_INSTANT_MS + 1,
        i64::MAX,
    ];
    for t in instants {
        let Some(next) = parsed.next_after(t) else {
            continue;
        };
        assert!(next > t, "next_after({t}) = {next} is not later");
        assert!(
            next <= MAX_INSTANT_MS,
            "next_after({t}) = {next} is past 9999"
        );
        assert!(
            parsed.matches(next),
            "next_after({t}) = {next} does not match"
        );
        assert!(!parsed.matches(next + 1));
        if let Some(after) = parsed.next_after(next) {
            assert!(after > next);
            assert!(parsed.matches(after));
        }
    }
}
