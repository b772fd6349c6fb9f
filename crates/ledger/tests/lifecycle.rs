//! The append lifecycle end to end, in-process, on the memory store:
//! accepted records get durable indexes and verifiable receipts; each kind
//! of refusal is refused for the right reason and writes nothing.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_domain::chemistry::Element;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::values::{Percent, Token};
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::rules::Refusal;
use oretrace_ledger::state::LotStatus;
use oretrace_ledger::{StateView, Store};
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use serde_json::json;

mod common;
use common::*;

#[test]
fn custody_moves_by_signed_shipment_and_receipt() {
    let w = world();
    let assay = json!({"kind": "assay", "lot": "urn:oretrace:lot:sb-1", "analyte": "Sb", "value": "55.2",
        "unit": "%", "basis": "dry", "method": "XRF", "laboratory": "lab",
        "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "time": "2025-09-05T00:00:00Z", "figures": "illustrative"});
    w.ledger
        .submit_blocking(signed(assay.clone(), &[&w.fwo, &w.lab]))
        .unwrap();
    let ship_index = w
        .ledger
        .submit_blocking(signed(shipment("s-1"), &[&w.fwo]))
        .unwrap();
    let lot = w
        .ledger
        .store()
        .lot("urn:oretrace:lot:sb-1")
        .unwrap()
        .unwrap();
    assert_eq!(
        *lot.status(),
        LotStatus::InTransit {
            shipment: Token::parse("s-1").unwrap()
        }
    );
    let receipt_index = w
        .ledger
        .submit_blocking(signed(receipt("s-1"), &[&w.ussm]))
        .unwrap();
    assert_eq!(receipt_index, ship_index + 1);
    let lot = w
        .ledger
        .store()
        .lot("urn:oretrace:lot:sb-1")
        .unwrap()
        .unwrap();
    assert_eq!(
        (lot.custodian().as_str(), lot.site().as_str(), lot.status()),
        ("ussm", "ussm-madison", &LotStatus::Held)
    );
    assert_eq!(
        lot.element_percent(),
        [(
            Element::parse("Sb").unwrap(),
            Percent::parse("55.2").unwrap()
        )]
    );
    assert_eq!(
        w.ledger
            .store()
            .lot_events("urn:oretrace:lot:sb-1")
            .unwrap()
            .len(),
        4
    );

    // Every index is durable, covered by the checkpoint and provable.
    let (checkpoint, _) = w.ledger.checkpoint().unwrap();
    assert_eq!(checkpoint.size(), w.ledger.store().size().unwrap());
    let log_key = NoteVerifier::from_vkey(&w.ledger.vkey()).unwrap();
    for index in 0..checkpoint.size() {
        let receipt = w.ledger.receipt(index).unwrap();
        receipt.verify_embedded_entry(&log_key).unwrap();
        let entry = SignedRecord::from_entry(receipt.extra.as_ref().unwrap()).unwrap();
        assert!(!entry.signatures().is_empty());
    }
}

#[test]
fn every_refusal_has_its_reason() {
    let w = world();
    // A key no party registered.
    let stranger = key("fwo/stolen", 9);
    let r = refused(&w, signed(shipment("s-1"), &[&stranger]));
    assert!(
        matches!(&r, Refusal::Unauthenticated(m) if m.contains("fwo/stolen")),
        "{r:?}"
    );

    // A registered key name with a different key behind it (wrong key).
    let impostor = key("fwo/k1", 10);
    let r = refused(&w, signed(shipment("s-1"), &[&impostor]));
    assert!(matches!(&r, Refusal::Unauthenticated(_)), "{r:?}");

    // A signature line that does not verify (the record was altered).
    let good = signed(shipment("s-1"), &[&w.fwo]);
    let mut envelope = good.to_envelope();
    if let RecordJson::Shipment { to, .. } = &mut envelope.record {
        *to = "karachi-port".into();
    }
    let tampered = SignedRecord::from_envelope(&envelope).unwrap();
    let r = refused(&w, tampered);
    assert!(
        matches!(&r, Refusal::Unauthenticated(m) if m.contains("invalid")),
        "{r:?}"
    );

    // An envelope with no signature at all is not even a record.
    envelope.signatures.clear();
    assert!(SignedRecord::from_envelope(&envelope).is_err());

    // An assay needs the custodian and the laboratory: a stranger naming
    // itself laboratory cannot rewrite a lot's grades.
    let assay = |lab: &str, value: &str| {
        json!({"kind": "assay", "lot": "urn:oretrace:lot:sb-1", "analyte": "Sb", "value": value,
            "unit": "%", "basis": "dry", "method": "XRF", "laboratory": lab,
            "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "time": "2025-09-05T00:00:00Z", "figures": "illustrative"})
    };
    let r = refused(&w, signed(assay("ussm", "99.9"), &[&w.ussm]));
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("custodian")),
        "{r:?}"
    );
    let r = refused(&w, signed(assay("lab", "55"), &[&w.lab]));
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("custodian")),
        "{r:?}"
    );
    let r = refused(&w, signed(assay("lab", "55"), &[&w.fwo]));
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("laboratory")),
        "{r:?}"
    );

    // Only the custodian ships.
    let r = refused(&w, signed(shipment("s-1"), &[&w.ussm]));
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("custodian")),
        "{r:?}"
    );

    // A receipt by a third party.
    w.ledger
        .submit_blocking(signed(shipment("s-1"), &[&w.fwo]))
        .unwrap();
    let r = refused(&w, signed(receipt("s-1"), &[&w.lab]));
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("ussm")),
        "{r:?}"
    );

    // A replay of an accepted record, even re-signed by another key.
    let index = w
        .ledger
        .submit_blocking(signed(receipt("s-1"), &[&w.ussm]))
        .unwrap();
    let r = refused(&w, signed(receipt("s-1"), &[&w.ussm, &w.operator]));
    assert_eq!(r, Refusal::Replay { index });

    // An unknown lot.
    let r = refused(
        &w,
        signed(lot("urn:oretrace:lot:sb-2", "nowhere"), &[&w.fwo]),
    );
    assert!(
        matches!(&r, Refusal::Unprocessable { field, .. } if field == "site"),
        "{r:?}"
    );
    let mut ship = shipment("s-2");
    ship["lots"] = json!(["urn:oretrace:lot:ghost"]);
    let r = refused(&w, signed(ship, &[&w.fwo]));
    assert!(
        matches!(&r, Refusal::Unprocessable { field, rule } if field == "lots[0]" && rule.contains("does not exist")),
        "{r:?}"
    );

    // A new party without the operator's endorsement, or without proof of possession.
    let eve = key("eve/k1", 11);
    let r = refused(&w, signed(party("eve", &eve, "US"), &[&eve]));
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("operator")),
        "{r:?}"
    );
    let r = refused(&w, signed(party("eve", &eve, "US"), &[&w.operator]));
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("possession")),
        "{r:?}"
    );
}

#[test]
fn a_batch_is_judged_in_order() {
    let w = world();
    // Ship and receive submitted together: the receipt sees the shipment.
    let results = w.ledger.submit_all_blocking(vec![
        signed(shipment("s-1"), &[&w.fwo]),
        signed(receipt("s-1"), &[&w.ussm]),
        signed(receipt("s-1"), &[&w.ussm]),
    ]);
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    assert_eq!(
        results[2],
        Err(Refusal::Replay {
            index: *results[1].as_ref().unwrap()
        })
    );
}

/// Every projection, as JSON, for byte-for-byte comparison.
fn snapshot(store: &MemoryStore) -> String {
    let lots = store.lots(None, usize::MAX).unwrap();
    let events: Vec<Vec<u64>> = lots
        .iter()
        .map(|l| store.lot_events(l.id().as_str()).unwrap())
        .collect();
    let shipments: Vec<_> = ["s-1"]
        .iter()
        .map(|id| store.shipment(id).unwrap())
        .collect();
    let keys: Vec<_> = [("fwo/k1", &3u8), ("ussm/k1", &4u8)]
        .iter()
        .map(|(name, seed)| store.key(name, key(name, **seed).key_id()).unwrap())
        .collect();
    serde_json::to_string(&(
        store.parties(None, usize::MAX).unwrap(),
        store.sites(None, usize::MAX).unwrap(),
        lots,
        events,
        shipments,
        keys,
    ))
    .unwrap()
}

#[test]
fn projections_rebuild_from_the_log_byte_for_byte() {
    let w = world();
    w.ledger
        .submit_blocking(signed(shipment("s-1"), &[&w.fwo]))
        .unwrap();
    w.ledger
        .submit_blocking(signed(receipt("s-1"), &[&w.ussm]))
        .unwrap();
    let before = snapshot(w.ledger.store());
    let (checkpoint, _) = w.ledger.checkpoint().unwrap();
    let log_key = NoteVerifier::from_vkey(&w.ledger.vkey()).unwrap();
    let report =
        oretrace_ledger::rebuild::rebuild(w.ledger.store(), &log_key, &w.operator.verifier())
            .unwrap();
    assert_eq!(report.entries, checkpoint.size());
    assert_eq!(report.root, *checkpoint.root());
    assert_eq!(snapshot(w.ledger.store()), before);
}

#[test]
fn a_dropped_key_or_a_moved_site_is_seen_by_the_next_batch() {
    // The sequencer keeps keys, sites and parties between batches: each
    // record here is its own batch, so what one changes must reach the next.
    let w = world();
    let lot_at = |id: &str, signer: &NoteSigner| {
        w.ledger
            .submit_blocking(signed(lot(id, "fwo-chitral"), &[signer]))
    };
    lot_at("urn:oretrace:lot:sb-2", &w.fwo).unwrap();

    // FWO rotates its key: the old one is refused from the next batch on.
    let fwo2 = key("fwo/k2", 12);
    w.ledger
        .submit_blocking(signed(party("fwo", &fwo2, "PK"), &[&w.fwo, &fwo2]))
        .unwrap();
    let r = lot_at("urn:oretrace:lot:sb-3", &w.fwo).unwrap_err();
    assert!(
        matches!(&r, Refusal::Unauthenticated(m) if m.contains("fwo/k1")),
        "{r:?}"
    );
    lot_at("urn:oretrace:lot:sb-3", &fwo2).unwrap();

    // The site changes operator: lots there are now USSM's to commission.
    let mut moved = site("fwo-chitral", "ussm", "exploration-area");
    moved["name"] = json!("Site fwo-chitral, now run by ussm");
    w.ledger
        .submit_blocking(signed(moved, &[&fwo2, &w.ussm]))
        .unwrap();
    let r = lot_at("urn:oretrace:lot:sb-4", &fwo2).unwrap_err();
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("ussm")),
        "{r:?}"
    );
    lot_at("urn:oretrace:lot:sb-4", &w.ussm).unwrap();
}

#[test]
fn a_signature_checked_before_a_key_is_revoked_in_the_same_batch_is_not_trusted() {
    let w = world();
    let k2 = key("fwo/k2", 12);
    let mut rotate = party("fwo", &k2, "PK");
    rotate["time"] = json!("2025-09-03T00:00:00Z");
    // The rotation (signed by the old key) and a shipment signed by the old
    // key reach the sequencer together; both were pre-verified while the
    // old key was still registered.
    let results = w.ledger.submit_all_blocking(vec![
        signed(rotate, &[&w.fwo, &k2]),
        signed(shipment("s-1"), &[&w.fwo]),
        signed(shipment("s-2"), &[&k2]),
    ]);
    assert!(results[0].is_ok(), "{results:?}");
    assert!(
        matches!(&results[1], Err(Refusal::Unauthenticated(m)) if m.contains("fwo/k1")),
        "{results:?}"
    );
    assert!(results[2].is_ok(), "the new key works: {results:?}");
}
