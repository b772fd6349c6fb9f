//! The rows a captured event leaves in `events` and `event_terms`, pinned
//! byte for byte (`tests/golden/event-rows.jsonl`), and the events as the
//! memory store keeps them: events of each EPCIS type, an extension event
//! type, a capture by token and one by detached document signature,
//! awkward numbers and non-ASCII text, captured through the ledger on
//! both stores. A database written by an earlier build must read the
//! same. `ORETRACE_UPDATE_GOLDEN=1` rewrites the file.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_domain::Record;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::event::{
    CaptureAuth, CaptureBehaviour, CapturedEvent, EventId, KeyRef, SignatureLine, document_note,
};
use oretrace_domain::record::Figures;
use oretrace_domain::values::{Digest, PartyId, Timestamp, Token};
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::store::{EventSelect, Store};
use oretrace_store_sqlite::{DB_FILE, SqliteStore};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};

const GS1: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
const LOG: &str = "oretrace.test/events";
const DOCUMENT: &[u8] = b"the capturing document";

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn signed(value: Value, signers: &[&NoteSigner]) -> SignedRecord {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    SignedRecord::sign(record, signers).unwrap()
}

/// The records of the world (two parties, a site, a lot) and the captured
/// events, in log order.
fn records() -> Vec<SignedRecord> {
    let operator = key("registry/operator", 1);
    let log = key(LOG, 2);
    let fwo = key("fwo/k1", 3);
    let ussm = key("ussm/k1", 4);
    let party = |id: &str, k: &NoteSigner, country: &str| {
        signed(
            json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company",
                   "country": country, "keys": [k.verifier().to_vkey()],
                   "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
            &[k, &operator],
        )
    };
    let mut out = vec![
        party("fwo", &fwo, "PK"),
        party("ussm", &ussm, "US"),
        signed(
            json!({"kind": "site", "id": "fwo-chitral", "name": "Chitral", "site_kind": "exploration-area",
                   "operator": "fwo", "country": "PK", "location": {"lat": "24.835", "lon": "66.982"},
                   "approximate": true, "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
            &[&fwo],
        ),
        signed(
            json!({"kind": "lot", "id": "urn:oretrace:lot:sb-1", "commodity": "antimony", "form": "sample",
                   "site": "fwo-chitral", "wet_mass": {"value": "25", "unit": "kg"},
                   "moisture_percent": "4", "time": "2025-09-02T00:00:00Z", "figures": "illustrative"}),
            &[&fwo],
        ),
    ];
    let token = |k: &NoteSigner| CaptureAuth::Token {
        key: KeyRef::new(k.name(), k.key_id()).unwrap(),
    };
    let by_document = |k: &NoteSigner, captured_by: &str| {
        let note = document_note(
            LOG,
            &Digest::of(DOCUMENT),
            captured_by,
            CaptureBehaviour::Proceed,
        );
        CaptureAuth::Signed {
            document: Digest::of(DOCUMENT),
            behaviour: CaptureBehaviour::Proceed,
            signatures: vec![SignatureLine::from(
                k.sign(&note).unwrap().signatures()[0].clone(),
            )],
        }
    };
    let sscc = |n: u32| format!("urn:epc:id:sscc:0614141.{n:010}");
    let events = [
        (
            json!({"@context": [GS1], "type": "ObjectEvent", "action": "OBSERVE",
                   "bizStep": "inspecting", "eventTime": "2025-09-10T00:00:00.250+05:00",
                   "eventTimeZoneOffset": "+05:00", "epcList": ["urn:oretrace:lot:sb-1"],
                   "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}}),
            "fwo",
            token(&fwo),
            "2025-09-10T00:05:00Z",
        ),
        (
            json!({"@context": [GS1, {"ex": "https://example.org/field/"}], "type": "AggregationEvent",
                   "action": "ADD", "bizStep": "packing", "eventTime": "2025-09-11T08:00:00Z",
                   "eventTimeZoneOffset": "+00:00", "parentID": sscc(1),
                   "childEPCs": [sscc(2), sscc(3)],
                   "ex:note": {"text": "کراچی 北京 \u{7f} \"quoted\"", "n": [1e21, 0.1, 1.0, -0.0, 9007199254740993u64]}}),
            "ussm",
            token(&ussm),
            "2025-09-11T09:00:00Z",
        ),
        (
            json!({"@context": [GS1], "type": "TransactionEvent", "action": "ADD",
                   "bizStep": "shipping", "eventTime": "2025-09-12T00:00:00Z",
                   "eventTimeZoneOffset": "+00:00", "epcList": [sscc(4)],
                   "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epc:id:gdti:0614141.00001.1618034"}]}),
            "fwo",
            by_document(&fwo, "fwo"),
            "2025-09-12T00:00:01Z",
        ),
        (
            json!({"@context": [GS1], "type": "AssociationEvent", "action": "ADD",
                   "eventTime": "2025-09-13T00:00:00Z", "eventTimeZoneOffset": "+00:00",
                   "parentID": "urn:epc:id:grai:4012345.55555.987", "childEPCs": [sscc(5)]}),
            "ussm",
            token(&ussm),
            "2025-09-13T00:00:00Z",
        ),
        (
            json!({"@context": [GS1, {"example": "https://ns.example.com/epcis/"}],
                   "type": "example:SampleEvent", "eventTime": "2025-09-14T00:00:00Z",
                   "eventTimeZoneOffset": "+00:00", "example:assay": {"example:gradePercent": 1.8}}),
            "fwo",
            token(&fwo),
            "2025-09-14T00:00:00Z",
        ),
        (
            json!({"@context": [GS1], "type": "https://ns.example.com/epcis/SampleEvent",
                   "eventTime": "2025-09-15T00:00:00-03:00", "eventTimeZoneOffset": "-03:00",
                   "https://ns.example.com/epcis/grade": 2}),
            "ussm",
            token(&ussm),
            "2025-09-15T12:00:00Z",
        ),
    ];
    for (i, (event, captured_by, auth, time)) in events.into_iter().enumerate() {
        let id =
            oretrace_epcis::event_hash(&event, &oretrace_epcis::Context::from_document(&event))
                .unwrap();
        let record = Record::Event(
            CapturedEvent::new(
                EventId::parse(&id).unwrap(),
                event,
                PartyId::parse(captured_by).unwrap(),
                Token::parse(&format!("job-{i}")).unwrap(),
                auth,
                Timestamp::parse(time).unwrap(),
                Figures::Reported,
            )
            .unwrap(),
        );
        out.push(SignedRecord::sign(record, &[&log]).unwrap());
    }
    out
}

fn captured<S: Store>(store: S) -> Ledger<S> {
    let ledger = Ledger::start(
        store,
        key(LOG, 2),
        key("registry/operator", 1).verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    for (i, record) in records().into_iter().enumerate() {
        let index = ledger
            .submit_blocking(record)
            .unwrap_or_else(|r| panic!("record {i}: {r}"));
        assert_eq!(index, i as u64);
    }
    ledger
}

#[test]
fn captured_events_are_stored_as_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = captured(SqliteStore::open(dir.path()).unwrap());
    let memory = captured(MemoryStore::new());
    let all = EventSelect {
        limit: usize::MAX,
        ..EventSelect::default()
    };
    let events = memory.store().select_events(&all).unwrap();
    // Six captured, and the lot record's event (capture `record`).
    assert_eq!(events.len(), 7);
    assert_eq!(sqlite.store().select_events(&all).unwrap(), events);

    let mut lines = Vec::new();
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let mut rows = conn
        .prepare(
            "SELECT idx, event_id, event_type, event_time, record_time, captured_by, capture, \
             terms, event FROM events ORDER BY idx",
        )
        .unwrap();
    let rows = rows
        .query_map([], |r| {
            Ok(json!({
                "idx": r.get::<_, i64>(0)?,
                "event_id": r.get::<_, String>(1)?,
                "event_type": r.get::<_, String>(2)?,
                "event_time": r.get::<_, i64>(3)?,
                "record_time": r.get::<_, i64>(4)?,
                "captured_by": r.get::<_, String>(5)?,
                "capture": r.get::<_, String>(6)?,
                "terms": r.get::<_, String>(7)?,
                "event": r.get::<_, String>(8)?,
            }))
        })
        .unwrap();
    for row in rows {
        lines.push(format!("row {}", row.unwrap()));
    }
    let mut terms = conn
        .prepare("SELECT term, idx FROM event_terms ORDER BY idx, term")
        .unwrap();
    let terms = terms
        .query_map([], |r| {
            Ok(json!([r.get::<_, String>(0)?, r.get::<_, i64>(1)?]))
        })
        .unwrap();
    for term in terms {
        lines.push(format!("term {}", term.unwrap()));
    }
    for event in &events {
        lines.push(format!("state {}", serde_json::to_string(event).unwrap()));
    }
    let text: String = lines.into_iter().map(|l| l + "\n").collect();

    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/event-rows.jsonl");
    if std::env::var("ORETRACE_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
    }
    let pinned = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (generate with ORETRACE_UPDATE_GOLDEN=1)",
            path.display()
        )
    });
    for (i, (got, want)) in text.lines().zip(pinned.lines()).enumerate() {
        assert_eq!(got, want, "line {}", i + 1);
    }
    assert_eq!(text.lines().count(), pinned.lines().count());
}

#[test]
fn an_event_row_that_breaks_a_rule_is_a_store_error_when_read() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = captured(SqliteStore::open(dir.path()).unwrap());
    let store = ledger.store();
    let all = EventSelect {
        limit: usize::MAX,
        ..EventSelect::default()
    };
    let events = store.select_events(&all).unwrap();
    let first = &events[0];
    let id = first.event_id().as_str().to_owned();
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let bad_id = format!("ni:///sha-256;{}?ver=CBV2.0", "AB".repeat(32));
    for (column, value, needle) in [
        ("event_id", bad_id.as_str(), "event_id: an event id is"),
        (
            "event_type",
            "Object",
            "\"Object\" is not an EPCIS event type",
        ),
        (
            "event_type",
            "AggregationEvent",
            "the event's type is Some(\"ObjectEvent\"), the row's \"AggregationEvent\"",
        ),
        ("captured_by", "F W O", "captured_by"),
        ("capture", "", "capture"),
        ("event", "[1]", "the event is not a JSON object"),
        (
            "event",
            "{\"type\":\"ObjectEvent\"",
            "the event is not readable JSON",
        ),
        (
            "event",
            "{\"action\":\"OBSERVE\"}",
            "the event's type is None",
        ),
        ("terms", "{}", "decoding the terms of event"),
    ] {
        let original: String = conn
            .query_row(
                &format!("SELECT {column} FROM events WHERE idx = ?1"),
                [first.index() as i64],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute(
            &format!("UPDATE events SET {column} = ?1 WHERE idx = ?2"),
            rusqlite::params![value, first.index() as i64],
        )
        .unwrap();
        let lookup = if column == "event_id" { value } else { &id };
        let e = store.event(lookup).unwrap_err().to_string();
        assert!(e.contains(needle), "{column} = {value:?}: {e}");
        assert!(
            e.contains(&format!("entry {}", first.index())) || column == "terms",
            "{e}"
        );
        let e = store.select_events(&all).unwrap_err().to_string();
        assert!(e.contains(needle), "{column} = {value:?}: {e}");
        conn.execute(
            &format!("UPDATE events SET {column} = ?1 WHERE idx = ?2"),
            rusqlite::params![original, first.index() as i64],
        )
        .unwrap();
        assert_eq!(store.select_events(&all).unwrap(), events);
    }
}
