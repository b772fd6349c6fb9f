//! One view of the data: a record of a kind that states an EPCIS event
//! (a lot, an assay, a shipment, a receipt, a transformation) is stored
//! as that event, for queries, with the event `oretrace_epcis_map::
//! record_event` builds; event ids stay unique (the first event of an id
//! is kept, the entry that repeats it is accepted without it); a record
//! with no JSON form gets no event; a rebuild from the log gives the same
//! events.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod common;

use common::{World, captured, log_only, lot, receipt, record, shipment, signed, world};
use oretrace_domain::envelope::SignedRecord;
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::rebuild::rebuild;
use oretrace_ledger::state::{EventState, RECORD_CAPTURE};
use oretrace_ledger::store::EventSelect;
use oretrace_ledger::{StateView, Store};
use oretrace_tlog::note::NoteVerifier;
use serde_json::{Value, json};

fn capture(w: &World, event: Value, at: &str) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut outcomes = runtime
        .block_on(w.ledger.submit_group(vec![captured(w, event, at)], true))
        .unwrap();
    outcomes.remove(0).unwrap()
}

fn all_events(store: &MemoryStore) -> Vec<EventState> {
    store
        .select_events(&EventSelect {
            limit: usize::MAX,
            ..EventSelect::default()
        })
        .unwrap()
}

/// An assay fwo makes of its own lot (one signature).
fn own_assay(value: &str) -> Value {
    json!({"kind": "assay", "lot": "urn:oretrace:lot:sb-1", "analyte": "Sb", "value": value,
        "unit": "%", "basis": "dry", "method": "XRF", "laboratory": "fwo",
        "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "time": "2025-09-05T00:00:00Z", "figures": "illustrative"})
}

fn rebuilt(w: &World) -> MemoryStore {
    let fresh = log_only(w.ledger.store());
    let log_key = NoteVerifier::from_vkey(&w.ledger.vkey()).unwrap();
    rebuild(&fresh, &log_key, &w.operator.verifier()).unwrap();
    fresh
}

#[test]
fn each_record_that_states_an_event_is_stored_as_the_event_record_event_builds() {
    let w = world();
    let submit = |value: Value, signers: &[&oretrace_tlog::note::NoteSigner]| {
        w.ledger.submit_blocking(signed(value, signers)).unwrap()
    };
    submit(own_assay("55.2"), &[&w.fwo]);
    submit(shipment("s-1"), &[&w.fwo]);
    submit(receipt("s-1"), &[&w.ussm]);
    let store = w.ledger.store();
    let events = all_events(store);
    // The lot of the world, the assay, the shipment and the receipt; no
    // event for the parties and sites.
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| {
            let entry = store.entry(e.index()).unwrap().unwrap();
            match SignedRecord::from_entry(&entry).unwrap().record().kind() {
                "lot" => "lot",
                "assay" => "assay",
                "shipment" => "shipment",
                "receipt" => "receipt",
                other => panic!("an event for a {other} record"),
            }
        })
        .collect();
    assert_eq!(kinds, ["lot", "assay", "shipment", "receipt"]);
    for e in &events {
        let entry = store.entry(e.index()).unwrap().unwrap();
        let signed = SignedRecord::from_entry(&entry).unwrap();
        let built = oretrace_epcis_map::record_event(signed.record()).unwrap();
        let stored: Value = serde_json::from_str(e.event_text()).unwrap();
        assert_eq!(stored, built);
        assert_eq!(stored["@context"], oretrace_epcis_map::context());
        assert_eq!(stored["eventID"], e.event_id().as_str());
        assert_eq!(e.capture().as_str(), RECORD_CAPTURE);
        assert!(e.is_record());
        assert_eq!(
            e.record_time(),
            signed.record().time().unix() * 1000,
            "the record's time"
        );
        assert_eq!(
            Some(e.event_time()),
            stored["eventTime"]
                .as_str()
                .and_then(oretrace_epcis::query::timestamp_millis)
        );
        assert!(
            e.terms()
                .contains(&format!("eventID={}", e.event_id().as_str())),
            "{:?}",
            e.terms()
        );
        for term in oretrace_epcis::query::event_terms(&stored) {
            assert!(e.terms().contains(&term), "{term}");
        }
        assert_eq!(
            store.event(e.event_id().as_str()).unwrap().as_ref(),
            Some(e)
        );
    }
    // The receipt is ussm's, the rest fwo's (the first signer).
    let by: Vec<&str> = events.iter().map(|e| e.captured_by().as_str()).collect();
    assert_eq!(by, ["fwo", "fwo", "fwo", "ussm"]);
    // Found by the query index's terms like a captured event.
    let shipped = store
        .select_events(&EventSelect {
            any_terms: Some(
                oretrace_epcis::query::event_terms(
                    &serde_json::from_str::<Value>(events[2].event_text()).unwrap(),
                )
                .into_iter()
                .filter(|t| t.contains("shipping"))
                .collect(),
            ),
            limit: usize::MAX,
            ..EventSelect::default()
        })
        .unwrap();
    assert_eq!(shipped, vec![events[2].clone()]);

    // The log alone, replayed, gives the same events.
    assert_eq!(all_events(&rebuilt(&w)), events);
}

#[test]
fn an_event_id_stored_before_is_kept_and_the_entry_repeating_it_is_accepted_without_it() {
    let w = world();
    // A record first, then the same event captured (the assay again):
    // accepted, the record's event kept.
    let assay = own_assay("55.2");
    let first = w
        .ledger
        .submit_blocking(signed(assay.clone(), &[&w.fwo]))
        .unwrap();
    let event = oretrace_epcis_map::event_of_record(&record(assay)).unwrap();
    let second = capture(&w, event, "2025-09-06T00:00:00Z");
    assert!(second > first);
    let store = w.ledger.store();
    let events = all_events(store);
    let assays: Vec<&EventState> = events
        .iter()
        .filter(|e| e.index() == first || e.index() == second)
        .collect();
    assert_eq!(assays.len(), 1, "{events:?}");
    assert_eq!(assays[0].index(), first);
    assert!(assays[0].is_record());
    // Both entries are the lot's.
    let history = store.lot_events("urn:oretrace:lot:sb-1").unwrap();
    assert!(history.contains(&first) && history.contains(&second));

    // A captured event first, then a record whose event hashes like it:
    // accepted, the captured event kept.
    let assay = own_assay("54.9");
    let event = oretrace_epcis_map::event_of_record(&record(assay.clone())).unwrap();
    let captured_at = capture(&w, event, "2025-09-06T00:00:00Z");
    let posted = w.ledger.submit_blocking(signed(assay, &[&w.fwo])).unwrap();
    let events = all_events(store);
    let kept: Vec<&EventState> = events
        .iter()
        .filter(|e| e.index() == captured_at || e.index() == posted)
        .collect();
    assert_eq!(kept.len(), 1, "{events:?}");
    assert_eq!(kept[0].index(), captured_at);
    assert!(!kept[0].is_record());
    let ids: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e.event_id().as_str()).collect();
    assert_eq!(ids.len(), events.len(), "event ids are unique");

    // A rebuild replays the log in one batch (the repeats within it): the
    // same events.
    assert_eq!(all_events(&rebuilt(&w)), events);
}

#[test]
fn a_record_with_no_json_form_is_accepted_without_an_event() {
    let w = world();
    let before = all_events(w.ledger.store());
    // Sixteen significant digits: no JSON number states the mass exactly.
    let mut heavy = lot("urn:oretrace:lot:sb-exact", "fwo-chitral");
    heavy["wet_mass"]["value"] = json!("1234567890.123456");
    assert!(oretrace_epcis_map::event_of_record(&record(heavy.clone())).is_none());
    let index = w.ledger.submit_blocking(signed(heavy, &[&w.fwo])).unwrap();
    assert!(
        w.ledger
            .store()
            .lot("urn:oretrace:lot:sb-exact")
            .unwrap()
            .is_some()
    );
    let after = all_events(w.ledger.store());
    assert_eq!(after, before);
    assert!(after.iter().all(|e| e.index() != index));
    assert_eq!(all_events(&rebuilt(&w)), after);
}
