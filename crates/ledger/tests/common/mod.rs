//! The world the ledger's end-to-end tests start from: a ledger on the
//! memory store with three parties (fwo, ussm, a laboratory), their sites
//! and one lot, and helpers that sign records and expect refusals.
#![allow(dead_code, reason = "each suite uses part of this module")]
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_domain::Record;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::event::{CaptureAuth, CapturedEvent, EventId};
use oretrace_domain::values::{PartyId, Timestamp, Token};
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::Store;
use oretrace_ledger::ledger::RegistrySigned;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::rules::Refusal;
use oretrace_ledger::{Batch, EntryRow};
use oretrace_tlog::hash::leaf_hash;
use oretrace_tlog::note::NoteSigner;
use oretrace_tlog::tree::CompactRange;
use serde_json::{Value, json};

pub fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

pub struct World {
    pub ledger: Ledger<MemoryStore>,
    pub operator: NoteSigner,
    pub fwo: NoteSigner,
    pub ussm: NoteSigner,
    pub lab: NoteSigner,
}

pub fn record(value: serde_json::Value) -> oretrace_domain::Record {
    RecordJson::parse(value.to_string().as_bytes()).unwrap()
}

pub fn signed(value: serde_json::Value, signers: &[&NoteSigner]) -> SignedRecord {
    SignedRecord::sign(record(value), signers).unwrap()
}

pub fn party(id: &str, key: &NoteSigner, country: &str) -> serde_json::Value {
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company", "country": country,
           "keys": [key.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

pub fn site(id: &str, operator: &str, kind: &str) -> serde_json::Value {
    json!({"kind": "site", "id": id, "name": format!("Site {id}"), "site_kind": kind, "operator": operator,
           "country": "PK", "location": {"lat": "24.835", "lon": "66.982"}, "approximate": true,
           "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

pub fn lot(id: &str, site: &str) -> serde_json::Value {
    json!({"kind": "lot", "id": id, "commodity": "antimony", "form": "sample", "site": site,
           "wet_mass": {"value": "25", "unit": "kg"}, "moisture_percent": "4",
           "time": "2025-09-02T00:00:00Z", "figures": "illustrative"})
}

pub fn world() -> World {
    let operator = key("registry/operator", 1);
    let ledger = Ledger::start(
        MemoryStore::new(),
        key("oretrace.test/ledger", 2),
        operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    let (fwo, ussm, lab) = (key("fwo/k1", 3), key("ussm/k1", 4), key("lab/k1", 5));
    let w = World {
        ledger,
        operator,
        fwo,
        ussm,
        lab,
    };
    for (id, k, c) in [
        ("fwo", &w.fwo, "PK"),
        ("ussm", &w.ussm, "US"),
        ("lab", &w.lab, "PK"),
    ] {
        w.ledger
            .submit_blocking(signed(party(id, k, c), &[k, &w.operator]))
            .unwrap();
    }
    w.ledger
        .submit_blocking(signed(
            site("fwo-chitral", "fwo", "exploration-area"),
            &[&w.fwo],
        ))
        .unwrap();
    w.ledger
        .submit_blocking(signed(site("karachi-port", "fwo", "port"), &[&w.fwo]))
        .unwrap();
    w.ledger
        .submit_blocking(signed(
            site("ussm-madison", "ussm", "receiving-plant"),
            &[&w.ussm],
        ))
        .unwrap();
    w.ledger
        .submit_blocking(signed(
            lot("urn:oretrace:lot:sb-1", "fwo-chitral"),
            &[&w.fwo],
        ))
        .unwrap();
    w
}

pub fn shipment(id: &str) -> serde_json::Value {
    json!({"kind": "shipment", "id": id, "lots": ["urn:oretrace:lot:sb-1"], "from": "fwo-chitral",
           "to": "ussm-madison", "via": ["karachi-port"], "receiver": "ussm",
           "documents": [{"kind": "bol", "reference": "BL-0001"}],
           "time": "2025-09-20T00:00:00Z", "figures": "illustrative"})
}

pub fn receipt(shipment: &str) -> serde_json::Value {
    json!({"kind": "receipt", "shipment": shipment, "site": "ussm-madison",
           "lots": [{"lot": "urn:oretrace:lot:sb-1", "mass": {"value": "24.8", "unit": "kg"}}],
           "time": "2025-10-01T00:00:00Z", "figures": "illustrative"})
}

/// Submits and expects a refusal; checks that nothing was written.
pub fn refused(w: &World, record: SignedRecord) -> Refusal {
    let before = w.ledger.store().size().unwrap();
    let refusal = w.ledger.submit_blocking(record).unwrap_err();
    assert_eq!(
        w.ledger.store().size().unwrap(),
        before,
        "a refused record writes nothing"
    );
    refusal
}

/// `event` as captured from fwo with its bearer token, signed by the
/// registry.
pub fn captured(w: &World, mut event: Value, at: &str) -> RegistrySigned {
    event["@context"] = oretrace_epcis_map::context();
    let context = oretrace_epcis::Context::from_document(&event);
    let event_id = oretrace_epcis::event_hash(&event, &context).unwrap();
    let figures = oretrace_epcis_map::interpret(&event).unwrap().figures;
    let record = Record::Event(
        CapturedEvent::new(
            EventId::parse(&event_id).unwrap(),
            event,
            PartyId::parse("fwo").unwrap(),
            Token::parse("capture-1").unwrap(),
            CaptureAuth::Token {
                key: oretrace_tlog::note::KeyRef::new(w.fwo.name(), w.fwo.key_id()).unwrap(),
            },
            Timestamp::parse(at).unwrap(),
            figures,
        )
        .unwrap(),
    );
    w.ledger.sign_as_registry(record).unwrap()
}

/// A store holding `from`'s log alone: its entries, the subtree hashes
/// computed from them, and its checkpoint; no projection.
pub fn log_only(from: &MemoryStore) -> MemoryStore {
    let size = from.size().unwrap();
    let mut batch = Batch::default();
    let mut range = CompactRange::new();
    for (index, entry) in (0u64..).zip(from.read_entries(0, size).unwrap()) {
        let record = SignedRecord::from_entry(&entry).unwrap();
        range.append(leaf_hash(&entry), |id, hash| batch.hashes.push((id, *hash)));
        batch.entries.push(EntryRow {
            index,
            record_hash: record.record_hash(),
            kind: record.record().kind().to_owned(),
            entry,
        });
    }
    let fresh = MemoryStore::new();
    fresh.integrate(&batch).unwrap();
    assert!(
        fresh
            .swap_checkpoint(None, &from.checkpoint().unwrap().unwrap())
            .unwrap()
    );
    assert_eq!(fresh.lots(None, usize::MAX).unwrap(), vec![]);
    fresh
}
