//! The log is the source of truth: a store holding only the log of a
//! ledger (its entries, their hashes and the checkpoint), rebuilt, answers
//! every projection read and every EPCIS event selection exactly as the
//! ledger's own store does.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod common;

use common::{World, captured, log_only, lot, receipt, record, shipment, signed, world};
use oretrace_domain::envelope::SignedRecord;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::rebuild::rebuild;
use oretrace_ledger::store::{EventOrder, EventSelect};
use oretrace_ledger::{StateView, Store};
use oretrace_tlog::note::NoteVerifier;
use serde_json::{Value, json};

/// A ledger with every record kind and captured EPCIS events.
fn full_world() -> World {
    let w = world();
    let submit = |value: Value, signers: &[&oretrace_tlog::note::NoteSigner]| {
        w.ledger.submit_blocking(signed(value, signers)).unwrap();
    };
    submit(
        json!({"kind": "assay", "lot": "urn:oretrace:lot:sb-1", "analyte": "Sb", "value": "55.2",
            "unit": "%", "basis": "dry", "method": "XRF", "laboratory": "lab",
            "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "time": "2025-09-05T00:00:00Z", "figures": "illustrative"}),
        &[&w.fwo, &w.lab],
    );
    submit(lot("urn:oretrace:lot:sb-3", "fwo-chitral"), &[&w.fwo]);
    submit(
        json!({"kind": "transformation", "id": "t-1", "site": "fwo-chitral", "process": "crushing",
            "inputs": [{"lot": "urn:oretrace:lot:sb-3", "mass": {"value": "25", "unit": "kg"}}],
            "outputs": [{"id": "urn:oretrace:lot:sb-3-crushed", "commodity": "antimony", "form": "ore",
                         "wet_mass": {"value": "24", "unit": "kg"}, "moisture_percent": "4"}],
            "time": "2025-09-06T00:00:00Z", "figures": "illustrative"}),
        &[&w.fwo],
    );
    submit(shipment("s-1"), &[&w.fwo]);
    submit(receipt("s-1"), &[&w.ussm]);

    // A lot commissioned through EPCIS, and two GS1 events it does not
    // read as records, captured in one document.
    let commissioning =
        oretrace_epcis_map::event_of_record(&record(lot("urn:oretrace:lot:sb-2", "fwo-chitral")))
            .unwrap();
    let observed = |step: &str, time: &str, serial: &str| {
        json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": step,
            "eventTime": time, "eventTimeZoneOffset": "+00:00",
            "epcList": [format!("urn:epc:id:sscc:0614141.{serial}")]})
    };
    let events = vec![
        captured(&w, commissioning, "2025-09-03T00:00:00Z"),
        captured(
            &w,
            observed("shipping", "2025-09-21T06:00:00Z", "1234567890"),
            "2025-09-21T07:00:00Z",
        ),
        captured(
            &w,
            observed("inspecting", "2025-09-08T06:00:00Z", "1234567891"),
            "2025-09-22T07:00:00Z",
        ),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let outcomes = runtime
        .block_on(w.ledger.submit_group(events, true))
        .unwrap();
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    w
}

fn ids<T, I: ToString>(items: Vec<T>, id: impl Fn(&T) -> I) -> Vec<String> {
    items.iter().map(|t| id(t).to_string()).collect()
}

/// Every projection read: the listings (whole and a page at a time), each
/// party's keys, each lot's events, each shipment, each record's index.
fn projections(store: &MemoryStore, shipments: &[&str]) -> String {
    let parties = store.parties(None, usize::MAX).unwrap();
    let sites = store.sites(None, usize::MAX).unwrap();
    let lots = store.lots(None, usize::MAX).unwrap();
    // Each page of two after each id.
    let paged: Vec<Vec<String>> = parties
        .iter()
        .map(|p| {
            ids(store.parties(Some(p.id().as_str()), 2).unwrap(), |p| {
                p.id().to_string()
            })
        })
        .chain(sites.iter().map(|s| {
            ids(store.sites(Some(s.id().as_str()), 2).unwrap(), |s| {
                s.id().to_string()
            })
        }))
        .chain(lots.iter().map(|l| {
            ids(store.lots(Some(l.id().as_str()), 2).unwrap(), |l| {
                l.id().to_string()
            })
        }))
        .collect();
    let keys: Vec<_> = parties
        .iter()
        .flat_map(|p| {
            let keys = p.record().keys.clone();
            assert!(!keys.is_empty(), "party {} lists no keys", p.id());
            keys.into_iter()
                .map(|vkey| store.key(vkey.name(), vkey.key_id()).unwrap())
        })
        .collect();
    assert!(keys.iter().all(Option::is_some));
    let lot_events: Vec<_> = lots
        .iter()
        .map(|l| {
            (
                store.lot(l.id().as_str()).unwrap(),
                store.lot_events(l.id().as_str()).unwrap(),
            )
        })
        .collect();
    let shipments: Vec<_> = shipments
        .iter()
        .map(|id| store.shipment(id).unwrap())
        .collect();
    assert!(shipments.iter().all(Option::is_some));
    let size = store.size().unwrap();
    let records: Vec<_> = store
        .read_entries(0, size)
        .unwrap()
        .iter()
        .map(|e| {
            let hash = SignedRecord::from_entry(e).unwrap().record_hash();
            store.find_record(&hash).unwrap()
        })
        .collect();
    serde_json::to_string(&(
        parties, sites, lots, paged, keys, lot_events, shipments, records,
    ))
    .unwrap()
}

/// The answers to every event selection the `/events` queries make of a
/// store: all events and by each term, in each order and direction, whole,
/// one at a time and after each cursor, within time ranges; and each
/// event by its id.
fn event_answers(store: &MemoryStore) -> Vec<Vec<oretrace_ledger::state::EventState>> {
    let all = store
        .select_events(&EventSelect {
            limit: usize::MAX,
            ..EventSelect::default()
        })
        .unwrap();
    let mut terms: Vec<String> = all.iter().flat_map(|e| e.terms().to_vec()).collect();
    terms.sort();
    terms.dedup();
    let mut term_sets: Vec<Option<Vec<String>>> = vec![None, Some(vec!["no-such-term".into()])];
    term_sets.extend(terms.iter().map(|t| Some(vec![t.clone()])));
    term_sets.push(Some(terms.clone()));
    let times: Vec<i64> = all
        .iter()
        .flat_map(|e| [e.event_time(), e.record_time()])
        .collect();
    let mut answers = vec![all.clone()];
    for any_terms in &term_sets {
        for order in [
            EventOrder::Index,
            EventOrder::EventTime,
            EventOrder::RecordTime,
        ] {
            for descending in [false, true] {
                let select = EventSelect {
                    any_terms: any_terms.clone(),
                    order,
                    descending,
                    limit: usize::MAX,
                    ..EventSelect::default()
                };
                let whole = store.select_events(&select).unwrap();
                for event in &whole {
                    answers.push(
                        store
                            .select_events(&EventSelect {
                                after: Some(select.key_of(event)),
                                limit: 1,
                                ..select.clone()
                            })
                            .unwrap(),
                    );
                }
                for &t in &times {
                    answers.push(
                        store
                            .select_events(&EventSelect {
                                event_time: (Some(t), None),
                                record_time: (None, Some(t + 1)),
                                ..select.clone()
                            })
                            .unwrap(),
                    );
                }
                answers.push(whole);
            }
        }
    }
    answers.extend(all.iter().map(|e| {
        store
            .event(e.event_id().as_str())
            .unwrap()
            .into_iter()
            .collect()
    }));
    answers
}

#[test]
fn a_store_rebuilt_from_the_log_alone_answers_every_read_as_the_original() {
    let w = full_world();
    let original = w.ledger.store();
    let kinds: Vec<String> = original
        .read_entries(0, original.size().unwrap())
        .unwrap()
        .iter()
        .map(|e| {
            SignedRecord::from_entry(e)
                .unwrap()
                .record()
                .kind()
                .to_owned()
        })
        .collect();
    for kind in [
        "party",
        "site",
        "lot",
        "assay",
        "shipment",
        "receipt",
        "transformation",
        "epcis-event",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    let events = original
        .select_events(&EventSelect {
            limit: usize::MAX,
            ..EventSelect::default()
        })
        .unwrap();
    // The three captured events, and one event for each record of a kind
    // that states one (its capture job `record`).
    let stating = kinds
        .iter()
        .filter(|k| {
            matches!(
                k.as_str(),
                "lot" | "assay" | "shipment" | "receipt" | "transformation"
            )
        })
        .count();
    assert_eq!(events.iter().filter(|e| !e.is_record()).count(), 3);
    assert_eq!(events.iter().filter(|e| e.is_record()).count(), stating);
    assert!(events.iter().all(|e| !e.terms().is_empty()), "{events:?}");
    assert!(original.lot("urn:oretrace:lot:sb-2").unwrap().is_some());

    let fresh = log_only(original);
    let log_key = NoteVerifier::from_vkey(&w.ledger.vkey()).unwrap();
    let report = rebuild(&fresh, &log_key, &w.operator.verifier()).unwrap();
    let (checkpoint, note) = w.ledger.checkpoint().unwrap();
    assert_eq!(report.entries, checkpoint.size());
    assert_eq!(report.root, *checkpoint.root());

    assert_eq!(
        projections(&fresh, &["s-1"]),
        projections(original, &["s-1"])
    );
    let answers = event_answers(original);
    assert!(answers.len() > 100 && answers.iter().any(|a| a.len() == 1));
    assert_eq!(event_answers(&fresh), answers);

    // A ledger started on the rebuilt store has nothing to publish: the
    // checkpoint is the original's, and writes go on from the same tree.
    let ledger = Ledger::start(
        fresh,
        common::key("oretrace.test/ledger", 2),
        w.operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    assert_eq!(ledger.checkpoint().unwrap().1, note);
    let next = signed(lot("urn:oretrace:lot:sb-4", "fwo-chitral"), &[&w.fwo]);
    let index = checkpoint.size();
    assert_eq!(w.ledger.submit_blocking(next.clone()), Ok(index));
    assert_eq!(ledger.submit_blocking(next), Ok(index));
    assert_eq!(
        ledger.checkpoint().unwrap().1,
        w.ledger.checkpoint().unwrap().1
    );
}
