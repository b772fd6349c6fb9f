//! The anomaly scan of a whole log, each kind positive and negative.
//!
//! The ledger's rules refuse every kind but one at write time (a lot it
//! does not hold, a record dated before what it depends on, a lot shipped
//! or transformed unless held at the site, a second receipt, a lot or
//! shipment id made twice), so those logs are written straight into a
//! store, as a damaged or hostile store would hold them: the scan is
//! also a check of the ledger. A custody gap (shipped, never received)
//! is the one the ledger lets through, and is recorded through it.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_domain::envelope::SignedRecord;
use oretrace_ledger::anomalies::{AnomalyError, AnomalyLimits, Kind, Report, ScanConfig, scan};
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::{Batch, EntryRow, Store};
use oretrace_tlog::hash::leaf_hash;
use oretrace_tlog::note::NoteSigner;
use oretrace_tlog::tree::CompactRange;
use serde_json::{Value, json};

mod provenance_world;
use provenance_world::{assay, key, lot, receive, ship, signed, site, worked_example};

const L: &str = "urn:oretrace:lot:fwo:l";
const K: &str = "urn:oretrace:lot:fwo:k";
const OUT: &str = "urn:oretrace:lot:fwo:out";
const OUT2: &str = "urn:oretrace:lot:fwo:out2";

fn party(id: &str, k: &NoteSigner) -> Value {
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company",
           "country": "PK", "keys": [k.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z",
           "figures": "illustrative"})
}

fn transform(
    id: &str,
    site: &str,
    inputs: &[(&str, &str)],
    outputs: &[(&str, &str)],
    time: &str,
) -> Value {
    let inputs: Vec<Value> = inputs
        .iter()
        .map(|(l, kg)| json!({"lot": l, "mass": {"value": kg, "unit": "kg"}}))
        .collect();
    let outputs: Vec<Value> = outputs
        .iter()
        .map(|(l, kg)| {
            json!({"id": l, "commodity": "copper", "form": "concentrate",
                   "wet_mass": {"value": kg, "unit": "kg"}, "moisture_percent": "0"})
        })
        .collect();
    json!({"kind": "transformation", "id": id, "site": site, "process": "flotation",
           "inputs": inputs, "outputs": outputs, "time": time, "figures": "illustrative"})
}

/// A store holding exactly these records as its log, in this order, as
/// no ledger rule checked them (signed by one key: the scan reads what
/// records say, not who may say it).
fn raw(records: &[Value]) -> MemoryStore {
    let k = key("fwo/k1", 3);
    let mut batch = Batch::default();
    let mut range = CompactRange::new();
    for (index, v) in (0u64..).zip(records) {
        let record: SignedRecord = signed(v, &[&k]);
        let entry = record.entry_bytes();
        range.append(leaf_hash(&entry), |id, hash| batch.hashes.push((id, *hash)));
        batch.entries.push(EntryRow {
            index,
            record_hash: record.record_hash(),
            kind: record.record().kind().to_owned(),
            entry,
        });
    }
    let store = MemoryStore::new();
    store.integrate(&batch).unwrap();
    store
}

fn scan_all(store: &MemoryStore) -> Report {
    scan(store, store.size().unwrap(), AnomalyLimits::DEFAULT).unwrap()
}

fn kinds(report: &Report) -> Vec<Kind> {
    report.findings.iter().map(|f| f.kind).collect()
}

/// Two sites of fwo's, a lot of 100 kg at the mine.
fn base() -> Vec<Value> {
    let fwo = key("fwo/k1", 3);
    vec![
        party("fwo", &fwo),
        site("mine", "mine", "fwo", "PK"),
        site("plant", "concentrator", "fwo", "PK"),
        lot(L, "mine", "100", "0", "2025-09-02T00:00:00Z"),
    ]
}

fn with(more: &[Value]) -> Vec<Value> {
    let mut all = base();
    all.extend_from_slice(more);
    all
}

#[test]
fn the_worked_example_recorded_through_the_ledger_is_clean() {
    let world = worked_example();
    let store = world.ledger.store();
    let report = scan(store, store.size().unwrap(), AnomalyLimits::DEFAULT).unwrap();
    assert_eq!(report.items, store.size().unwrap() - 3);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert!(report.counts().iter().all(|(_, n)| *n == 0));
}

#[test]
fn a_shipment_never_received_is_a_custody_gap_once_older_than_thirty_days() {
    let operator = key("registry/operator", 1);
    let ledger = Ledger::start(
        MemoryStore::new(),
        key("oretrace.test/ledger", 2),
        operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    let fwo = key("fwo/k1", 3);
    let submit =
        |v: Value, signers: &[&NoteSigner]| ledger.submit_blocking(signed(&v, signers)).unwrap();
    submit(party("fwo", &fwo), &[&fwo, &operator]);
    submit(site("mine", "mine", "fwo", "PK"), &[&fwo]);
    submit(site("plant", "concentrator", "fwo", "PK"), &[&fwo]);
    submit(lot(L, "mine", "100", "0", "2025-09-02T00:00:00Z"), &[&fwo]);
    let shipped = submit(
        ship(
            "s-1",
            &[L],
            "mine",
            "plant",
            &[],
            "fwo",
            "2025-09-03T00:00:00Z",
        ),
        &[&fwo],
    );
    // 29 days later: not yet a gap.
    submit(lot(K, "mine", "5", "0", "2025-10-02T00:00:00Z"), &[&fwo]);
    let store = ledger.store();
    assert!(scan_all(store).findings.is_empty());
    // 31 days later: a gap, naming the shipment, its site and lot.
    submit(
        lot(
            "urn:oretrace:lot:fwo:j",
            "mine",
            "5",
            "0",
            "2025-10-04T00:00:00Z",
        ),
        &[&fwo],
    );
    let report = scan_all(store);
    assert_eq!(kinds(&report), vec![Kind::CustodyGap]);
    let gap = &report.findings[0];
    assert_eq!(gap.shipments, vec!["s-1"]);
    assert_eq!(gap.lots, vec![L]);
    assert_eq!(gap.sites, vec!["mine"]);
    assert_eq!(gap.evidence, vec![shipped]);
    assert!(gap.illustrative);
    assert!(gap.what.contains("31 days"), "{}", gap.what);
    // A configured age of 40 days: no gap.
    let limits = AnomalyLimits {
        config: ScanConfig {
            custody_gap_seconds: 40 * 86_400,
            ..ScanConfig::DEFAULT
        },
        ..AnomalyLimits::DEFAULT
    };
    assert!(
        scan(store, store.size().unwrap(), limits)
            .unwrap()
            .findings
            .is_empty()
    );
    // Received: no gap, whatever its age.
    submit(
        receive("s-1", "plant", &[(L, "100")], "2025-10-05T00:00:00Z"),
        &[&fwo],
    );
    assert!(scan_all(store).findings.is_empty());
}

#[test]
fn a_receipt_of_a_shipment_never_recorded_is_a_custody_gap() {
    let store = raw(&with(&[receive(
        "ghost",
        "plant",
        &[(L, "100")],
        "2025-09-04T00:00:00Z",
    )]));
    let report = scan_all(&store);
    assert_eq!(kinds(&report), vec![Kind::CustodyGap]);
    assert_eq!(report.findings[0].evidence, vec![4]);
    assert!(report.findings[0].what.contains("never shipped"));
}

#[test]
fn a_lot_the_registry_does_not_hold_has_no_origin() {
    let ghost = "urn:oretrace:lot:fwo:ghost";
    let store = raw(&with(&[transform(
        "t-1",
        "plant",
        &[(ghost, "50"), (L, "100")],
        &[(OUT, "90")],
        "2025-09-05T00:00:00Z",
    )]));
    let report = scan_all(&store);
    assert_eq!(kinds(&report), vec![Kind::NoOrigin]);
    assert_eq!(report.findings[0].lots, vec![ghost]);
    assert_eq!(report.findings[0].evidence, vec![4]);
    // A lot commissioned at a site the registry does not hold.
    let store = raw(&with(&[lot(
        K,
        "nowhere",
        "5",
        "0",
        "2025-09-02T00:00:00Z",
    )]));
    let report = scan_all(&store);
    assert_eq!(kinds(&report), vec![Kind::NoOrigin]);
    assert_eq!(report.findings[0].sites, vec!["nowhere"]);
    // Negative: the same transformation of held lots only.
    let store = raw(&with(&[transform(
        "t-1",
        "mine",
        &[(L, "100")],
        &[(OUT, "90")],
        "2025-09-05T00:00:00Z",
    )]));
    assert!(scan_all(&store).findings.is_empty());
}

#[test]
fn a_site_shipping_more_than_it_made_and_received_exports_above_production() {
    // L (100 kg, made at the mine) goes to the plant, then leaves the
    // mine again: the mine shipped 200 kg of the 100 kg made there.
    let store = raw(&with(&[
        ship(
            "s-1",
            &[L],
            "mine",
            "plant",
            &[],
            "fwo",
            "2025-09-03T00:00:00Z",
        ),
        receive("s-1", "plant", &[(L, "100")], "2025-09-04T00:00:00Z"),
        ship(
            "s-2",
            &[L],
            "mine",
            "plant",
            &[],
            "fwo",
            "2025-09-05T00:00:00Z",
        ),
        receive("s-2", "plant", &[(L, "100")], "2025-09-06T00:00:00Z"),
    ]));
    let report = scan_all(&store);
    assert_eq!(kinds(&report), vec![Kind::ExportAboveProduction]);
    let f = &report.findings[0];
    assert_eq!(f.sites, vec!["mine"]);
    assert_eq!(
        f.evidence,
        vec![6],
        "the shipment after which more had left than was there"
    );
    assert!(
        f.what.contains("shipped out 200 kg")
            && f.what.contains("only 100 kg")
            && f.what.contains("100 kg more"),
        "{}",
        f.what
    );
    // Negative: the second shipment leaves from the plant, where L was.
    let store = raw(&with(&[
        ship(
            "s-1",
            &[L],
            "mine",
            "plant",
            &[],
            "fwo",
            "2025-09-03T00:00:00Z",
        ),
        receive("s-1", "plant", &[(L, "100")], "2025-09-04T00:00:00Z"),
        ship(
            "s-2",
            &[L],
            "plant",
            "mine",
            &[],
            "fwo",
            "2025-09-05T00:00:00Z",
        ),
        receive("s-2", "mine", &[(L, "100")], "2025-09-06T00:00:00Z"),
    ]));
    assert!(scan_all(&store).findings.is_empty());
}

#[test]
fn records_dated_before_what_they_depend_on_are_out_of_time_order() {
    let store = raw(&with(&[
        assay(L, "Cu", "1", "2025-09-01T00:00:00Z"),
        ship(
            "s-1",
            &[L],
            "mine",
            "plant",
            &[],
            "fwo",
            "2025-09-03T00:00:00Z",
        ),
        receive("s-1", "plant", &[(L, "100")], "2025-09-02T12:00:00Z"),
        transform(
            "t-1",
            "plant",
            &[(L, "100")],
            &[(OUT, "90")],
            "2025-09-02T06:00:00Z",
        ),
    ]));
    let report = scan_all(&store);
    assert_eq!(
        kinds(&report),
        vec![
            Kind::OutOfTimeOrder,
            Kind::OutOfTimeOrder,
            Kind::OutOfTimeOrder
        ]
    );
    assert_eq!(
        report.findings[0].evidence,
        vec![3, 4],
        "assay before the lot was made"
    );
    assert_eq!(
        report.findings[1].evidence,
        vec![5, 6],
        "receipt before the shipment"
    );
    assert_eq!(
        report.findings[2].evidence,
        vec![6, 7],
        "transformation before the lot arrived"
    );
    // A shipment before the lot was made.
    let store = raw(&with(&[ship(
        "s-1",
        &[L],
        "mine",
        "plant",
        &[],
        "fwo",
        "2025-09-01T00:00:00Z",
    )]));
    assert_eq!(kinds(&scan_all(&store)), vec![Kind::OutOfTimeOrder]);
    // Negative: in time order.
    let store = raw(&with(&[
        assay(L, "Cu", "1", "2025-09-02T00:00:00Z"),
        ship(
            "s-1",
            &[L],
            "mine",
            "plant",
            &[],
            "fwo",
            "2025-09-03T00:00:00Z",
        ),
        receive("s-1", "plant", &[(L, "100")], "2025-09-03T00:00:00Z"),
        transform(
            "t-1",
            "plant",
            &[(L, "100")],
            &[(OUT, "90")],
            "2025-09-03T00:00:00Z",
        ),
    ]));
    assert!(scan_all(&store).findings.is_empty());
}

#[test]
fn the_same_lot_or_shipment_claimed_twice() {
    // Shipped while still in transit in an open shipment.
    let store = raw(&with(&[
        ship(
            "s-1",
            &[L],
            "mine",
            "plant",
            &[],
            "fwo",
            "2025-09-03T00:00:00Z",
        ),
        ship(
            "s-2",
            &[L],
            "mine",
            "plant",
            &[],
            "fwo",
            "2025-09-03T00:00:00Z",
        ),
        receive("s-2", "plant", &[(L, "100")], "2025-09-04T00:00:00Z"),
        receive("s-1", "plant", &[(L, "100")], "2025-09-04T00:00:00Z"),
    ]));
    let report = scan_all(&store);
    // The mine also shipped 200 kg of 100 (revealed by the same record).
    assert_eq!(
        kinds(&report),
        vec![Kind::ExportAboveProduction, Kind::ClaimedTwice]
    );
    assert_eq!(report.findings[1].shipments, vec!["s-1", "s-2"]);
    assert_eq!(report.findings[1].evidence, vec![4, 5]);
    // A lot made twice; a shipment received twice.
    let store = raw(&with(&[
        lot(L, "mine", "100", "0", "2025-09-02T01:00:00Z"),
        ship(
            "s-1",
            &[L],
            "mine",
            "plant",
            &[],
            "fwo",
            "2025-09-03T00:00:00Z",
        ),
        receive("s-1", "plant", &[(L, "100")], "2025-09-04T00:00:00Z"),
        receive("s-1", "plant", &[(L, "100")], "2025-09-05T00:00:00Z"),
    ]));
    let report = scan_all(&store);
    assert_eq!(kinds(&report), vec![Kind::ClaimedTwice, Kind::ClaimedTwice]);
    assert!(report.findings[0].what.contains("made twice"));
    assert_eq!(report.findings[0].evidence, vec![3, 4]);
    assert!(report.findings[1].what.contains("received twice"));
    assert_eq!(report.findings[1].evidence, vec![6, 7]);
}

#[test]
fn a_lot_used_after_a_transformation_consumed_it() {
    // 60 kg then 50 kg of a 100 kg lot: used after consumed, and its mass
    // claimed twice (110 kg of 100).
    let store = raw(&with(&[
        transform(
            "t-1",
            "mine",
            &[(L, "60")],
            &[(OUT, "50")],
            "2025-09-03T00:00:00Z",
        ),
        transform(
            "t-2",
            "mine",
            &[(L, "50")],
            &[(OUT2, "40")],
            "2025-09-04T00:00:00Z",
        ),
        assay(L, "Cu", "1", "2025-09-05T00:00:00Z"),
        ship(
            "s-1",
            &[L],
            "mine",
            "plant",
            &[],
            "fwo",
            "2025-09-05T00:00:00Z",
        ),
    ]));
    let report = scan_all(&store);
    assert_eq!(
        kinds(&report),
        vec![
            Kind::ClaimedTwice,
            Kind::UsedAfterConsumed,
            Kind::UsedAfterConsumed,
            Kind::UsedAfterConsumed
        ]
    );
    assert_eq!(report.findings[0].evidence, vec![3, 4, 5]);
    assert!(
        report.findings[0].what.contains("110 kg in all"),
        "{}",
        report.findings[0].what
    );
    assert_eq!(report.findings[1].transformations, vec!["t-1", "t-2"]);
    assert_eq!(report.findings[2].evidence, vec![4, 6]);
    assert_eq!(report.findings[3].evidence, vec![4, 7]);
    // 60 kg then 40 kg: used after consumed, but not beyond its mass.
    let store = raw(&with(&[
        transform(
            "t-1",
            "mine",
            &[(L, "60")],
            &[(OUT, "50")],
            "2025-09-03T00:00:00Z",
        ),
        transform(
            "t-2",
            "mine",
            &[(L, "40")],
            &[(OUT2, "30")],
            "2025-09-04T00:00:00Z",
        ),
    ]));
    assert_eq!(kinds(&scan_all(&store)), vec![Kind::UsedAfterConsumed]);
    // Negative: the output is used, not the consumed lot.
    let store = raw(&with(&[
        transform(
            "t-1",
            "mine",
            &[(L, "60")],
            &[(OUT, "50")],
            "2025-09-03T00:00:00Z",
        ),
        transform(
            "t-2",
            "mine",
            &[(OUT, "50")],
            &[(OUT2, "40")],
            "2025-09-04T00:00:00Z",
        ),
    ]));
    assert!(scan_all(&store).findings.is_empty());
}

#[test]
fn a_log_over_the_bound_is_refused_not_cut_short() {
    let store = raw(&base());
    let limits = AnomalyLimits {
        max_entries: 3,
        ..AnomalyLimits::DEFAULT
    };
    match scan(&store, 4, limits) {
        Err(AnomalyError::TooLarge { limit, detail }) => {
            assert_eq!(limit, 3);
            assert!(detail.contains("4 entries"), "{detail}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(scan(&store, 3, limits).unwrap().items, 2);
    // More findings, or more lots and shipments, than the bound.
    let store = raw(&with(&[
        lot(K, "nowhere", "5", "0", "2025-09-02T00:00:00Z"),
        assay(
            "urn:oretrace:lot:fwo:ghost",
            "Cu",
            "1",
            "2025-09-03T00:00:00Z",
        ),
    ]));
    assert_eq!(scan_all(&store).findings.len(), 2);
    for (config, what) in [
        (
            ScanConfig {
                max_findings: 1,
                ..ScanConfig::DEFAULT
            },
            "more than 1 findings",
        ),
        (
            ScanConfig {
                max_tracked: 1,
                ..ScanConfig::DEFAULT
            },
            "more than 1 lots and shipments",
        ),
    ] {
        let limits = AnomalyLimits {
            config,
            ..AnomalyLimits::DEFAULT
        };
        match scan(&store, store.size().unwrap(), limits) {
            Err(AnomalyError::TooLarge { limit, detail }) => {
                assert_eq!(limit, 1);
                assert!(detail.contains(what), "{detail}");
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }
}
