//! The one conformance story every [`Store`] backend must pass. A backend
//! crate calls [`run_all`] from a test with a factory for fresh stores.
//! Failures panic with what the contract expected.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "the conformance suite is a test: a backend that breaks the contract fails it by panicking"
)]

use oretrace_domain::chemistry::Element;
use oretrace_domain::record::{Figures, Lot, LotForm, Party, PartyKind};
use oretrace_domain::values::{
    Country, LotId, Mass, MassUnit, PartyId, Percent, SiteId, Text, Timestamp, Token,
};
use oretrace_tlog::hash::{Hash, leaf_hash};
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use oretrace_tlog::tree::NodeId;
use rust_decimal::Decimal;

use oretrace_domain::agreement::{
    Agreement, AgreementKind, AgreementStatus, Pledge, Progress, Quantity, Report, ReportStatus,
    ReportingCode, ResourceClass, ResourceEstimate, ResourceGrade, ScopedId, Source, Terms,
};
use oretrace_domain::chemistry::{Analyte, GradeUnit};
use oretrace_domain::money::{Currency, Date, Money};
use oretrace_domain::values::Digest;

use crate::agreements::{
    AgreementState, ClauseState, Confirmation, DisclosureState, PledgeState, ProgressState,
    ReportState, ResourceState, Select, VersionState,
};
use crate::state::{Change, EventState, KeyState, LotState, PartyState, StoredEvent};
use crate::store::{
    Batch, EntryRow, ErrorKind, EventOrder, EventSelect, Inserted, NamedQueryRow, Quota, Removed,
    StateView as _, Store, StoreResult, SubscriptionRow,
};

fn row(index: u64) -> EntryRow {
    EntryRow {
        index,
        entry: format!("entry {index}").into_bytes(),
        record_hash: oretrace_tlog::hash::sha256(format!("record {index}").as_bytes()),
        kind: "lot".into(),
    }
}

/// A party key from a fixed seed.
fn key_of(name: &str) -> NoteVerifier {
    NoteSigner::from_seed(name, [7; 32])
        .expect("a valid key name")
        .verifier()
}

fn time(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("a valid time")
}

fn party(id: &str, index: u64) -> PartyState {
    let record = Party {
        id: PartyId::parse(id).expect("a valid party id"),
        name: Text::parse(&format!("Party {id}")).expect("a valid name"),
        kind: PartyKind::Company,
        country: Country::parse("PK").expect("a valid country"),
        keys: vec![key_of(&format!("{id}/k1"))],
        owners: vec![],
        time: time("2025-09-08T10:00:00Z"),
        figures: Figures::Illustrative,
    };
    PartyState::new(record, index, vec![])
}

fn lot(id: &str, index: u64) -> LotState {
    let record = Lot {
        id: LotId::parse(id).expect("a valid lot id"),
        commodity: Token::parse("antimony").expect("a valid commodity"),
        form: LotForm::Sample,
        site: SiteId::parse("site-a").expect("a valid site id"),
        wet_mass: Mass::new(Decimal::new(125, 1), MassUnit::Kilogram).expect("a valid mass"),
        moisture: Decimal::from(4),
        time: time("2025-09-10T06:00:00Z"),
        figures: Figures::Illustrative,
    };
    let mut lot = LotState::commissioned(
        &record,
        PartyId::parse("fwo").expect("a valid party id"),
        index,
    )
    .expect("a valid lot");
    lot.set_grade(
        Element::parse("Sb").expect("an element"),
        Percent::new(Decimal::from(55)).expect("a percentage"),
    );
    lot
}

fn batch(start: u64, count: u64) -> Batch {
    let entries: Vec<EntryRow> = (start..start + count).map(row).collect();
    let hashes = entries
        .iter()
        .map(|r| (NodeId::new(0, r.index), leaf_hash(&r.entry)))
        .collect();
    Batch {
        entries,
        hashes,
        changes: vec![],
    }
}

/// How the suite makes the stores of one backend.
pub trait Harness {
    type Store: Store;
    /// Where a store's data lives between opens: a data directory, a
    /// database schema.
    type Place;
    /// A new, empty place, of its own.
    fn place(&self) -> Self::Place;
    /// Opens the store at `place` as its one writer (claiming whatever the
    /// backend's single-writer rule needs: a directory lock, a lease).
    /// While a store opened this way is alive, opening the same place
    /// again must fail with [`ErrorKind::Conflict`]; once it is dropped,
    /// the place can be opened again.
    fn open(&self, place: &Self::Place) -> StoreResult<Self::Store>;
}

/// Runs every conformance check, each on a fresh store of `harness`.
pub fn run_all<H: Harness>(harness: &H) {
    let fresh = || {
        harness
            .open(&harness.place())
            .expect("opening a store at a fresh place")
    };
    a_failed_batch_writes_nothing(&fresh());
    listings_are_in_byte_order_of_their_ids(&fresh());
    a_reopened_store_has_the_same_data(harness);
    a_second_writer_is_refused(harness);
    an_unfinished_rebuild_survives_a_reopen(harness);
    empty_store(&fresh());
    integrate_then_read(&fresh());
    a_snapshot_reads_one_state(&fresh());
    gaps_and_replays_write_nothing(&fresh());
    checkpoint_swaps_only_from_the_expected_one(&fresh());
    projections_clear_and_reapply(&fresh());
    events_select_by_terms_ranges_order_and_cursor(&fresh());
    event_term_values_page_distinct_terms_under_a_prefix(&fresh());
    listings_page_by_id_after_a_cursor(&fresh());
    agreements_select_by_terms_overdue_and_cursor(&fresh());
    clauses_page_in_clause_order(&fresh());
    versions_and_progress_in_order(&fresh());
    reports_and_resources_select_by_terms(&fresh());
    named_queries_and_subscriptions_are_kept(&fresh());
    kept_rows_survive_a_rebuild_and_a_reopen(harness);
}

fn event(index: u64, event_time: i64, record_time: i64, terms: &[&str]) -> EventState {
    EventState::try_from(StoredEvent {
        index,
        event_id: format!("ni:///sha-256;{index:064x}?ver=CBV2.0"),
        event_type: "ObjectEvent".into(),
        event_time,
        record_time,
        terms: terms.iter().map(|t| (*t).to_owned()).collect(),
        captured_by: "fwo".into(),
        capture: "c1".into(),
        event: format!("{{\"n\":{index},\"type\":\"ObjectEvent\"}}"),
    })
    .unwrap()
}

/// Captured events: stored with their entries, found by id, selected by
/// any of a set of terms, by time ranges, in each order and direction,
/// after a cursor, up to a limit; cleared with the projections.
pub fn events_select_by_terms_ranges_order_and_cursor<S: Store>(store: &S) {
    // Event times run backwards to the index, record times forwards, so
    // that each order is distinguishable.
    let events: Vec<EventState> = (0..10)
        .map(|i| {
            let terms: Vec<&str> = match i % 3 {
                0 => vec!["bizStep=shipping", "type=ObjectEvent"],
                1 => vec!["bizStep=receiving", "type=ObjectEvent"],
                _ => vec!["type=ObjectEvent"],
            };
            event(i, 1000 - i as i64 * 10, 5000 + i as i64, &terms)
        })
        .collect();
    let mut b = batch(0, 10);
    b.changes = events.iter().cloned().map(Change::PutEvent).collect();
    store.integrate(&b).unwrap();
    assert_eq!(
        store.event(events[4].event_id().as_str()).unwrap().as_ref(),
        Some(&events[4])
    );
    assert_eq!(store.event("ni:///nothing").unwrap(), None);
    let indexes = |select: &EventSelect| -> Vec<u64> {
        store
            .select_events(select)
            .unwrap()
            .into_iter()
            .map(|e| e.index())
            .collect()
    };
    let all = EventSelect {
        limit: 100,
        ..EventSelect::default()
    };
    assert_eq!(indexes(&all), (0..10).collect::<Vec<_>>());
    let shipping_or_receiving = EventSelect {
        any_terms: Some(vec!["bizStep=shipping".into(), "bizStep=receiving".into()]),
        ..all.clone()
    };
    assert_eq!(indexes(&shipping_or_receiving), vec![0, 1, 3, 4, 6, 7, 9]);
    let none = EventSelect {
        any_terms: Some(vec![]),
        ..all.clone()
    };
    assert!(indexes(&none).is_empty());
    // [from, to) on event time: 1000, 990, … 910 — [950, 980) is 4, 3, 2 by index.
    let window = EventSelect {
        event_time: (Some(950), Some(980)),
        ..all.clone()
    };
    assert_eq!(indexes(&window), vec![3, 4, 5]);
    let recorded = EventSelect {
        record_time: (Some(5007), None),
        ..all.clone()
    };
    assert_eq!(indexes(&recorded), vec![7, 8, 9]);
    // Orders, directions, cursors and limits.
    let by_event_time = EventSelect {
        order: EventOrder::EventTime,
        limit: 3,
        ..all.clone()
    };
    assert_eq!(indexes(&by_event_time), vec![9, 8, 7]);
    let next = EventSelect {
        after: Some((930, 7)),
        ..by_event_time.clone()
    };
    assert_eq!(indexes(&next), vec![6, 5, 4]);
    let descending = EventSelect {
        order: EventOrder::RecordTime,
        descending: true,
        after: Some((5005, 5)),
        limit: 2,
        ..all.clone()
    };
    assert_eq!(indexes(&descending), vec![4, 3]);
    let by_index_after = EventSelect {
        after: Some((6, 6)),
        any_terms: Some(vec!["type=ObjectEvent".into()]),
        ..all.clone()
    };
    assert_eq!(indexes(&by_index_after), vec![7, 8, 9]);
    let one_term_back = EventSelect {
        any_terms: Some(vec!["bizStep=shipping".into()]),
        descending: true,
        after: Some((6, 6)),
        ..all.clone()
    };
    assert_eq!(indexes(&one_term_back), vec![3, 0]);
    let one_term_window = EventSelect {
        any_terms: Some(vec!["bizStep=shipping".into()]),
        event_time: (Some(920), None),
        limit: 1,
        ..all.clone()
    };
    assert_eq!(indexes(&one_term_window), vec![0]);
    let by_time_cursor = EventSelect {
        order: EventOrder::EventTime,
        event_time: (Some(950), Some(1001)),
        after: Some((960, 4)),
        ..all.clone()
    };
    assert_eq!(indexes(&by_time_cursor), vec![3, 2, 1, 0]);
    store.clear_projections().unwrap();
    assert!(indexes(&all).is_empty());
    assert_eq!(store.event(events[4].event_id().as_str()).unwrap(), None);
    store
        .apply_changes(
            &events
                .iter()
                .cloned()
                .map(Change::PutEvent)
                .collect::<Vec<_>>(),
            0,
        )
        .unwrap();
    assert_eq!(indexes(&shipping_or_receiving).len(), 7);
}

/// The distinct index terms under a prefix: each once however many events
/// carry it, in byte order, after a cursor, at most a limit; a prefix
/// matched byte for byte (`epc=` is not a prefix of `epcClass=…`, nor
/// `bizStep=` of `bizStepper=…`); nothing in an empty store, nothing for a
/// limit of 0; cleared with the projections.
pub fn event_term_values_page_distinct_terms_under_a_prefix<S: Store>(store: &S) {
    let values = |prefix: &str, after: Option<&str>, limit: usize| -> Vec<String> {
        store.event_term_values(prefix, after, limit).unwrap()
    };
    assert!(values("bizStep=", None, 100).is_empty(), "an empty store");
    assert!(values("", None, 100).is_empty(), "an empty store");
    assert!(values("bizStep=", Some("bizStep=a"), 100).is_empty());

    const SHIPPING: &str = "bizStep=https://ref.gs1.org/cbv/BizStep-shipping";
    const RECEIVING: &str = "bizStep=https://ref.gs1.org/cbv/BizStep-receiving";
    let terms: [&[&str]; 6] = [
        &[
            SHIPPING,
            "epc=https://id.gs1.org/01/09521234543213/21/1",
            "epcClass=https://id.gs1.org/01/09521234543213",
            "bizLocation=https://id.gs1.org/414/9521234543213",
            "type=ObjectEvent",
        ],
        &[
            SHIPPING,
            "epc=https://id.gs1.org/01/09521234543213/21/1",
            "epc=https://id.gs1.org/01/09521234543213/21/10",
            "epcClass=https://id.gs1.org/01/09521234543213",
            "readPoint=https://id.gs1.org/414/9521234543213",
            "type=ObjectEvent",
        ],
        &[
            RECEIVING,
            "epc=https://id.gs1.org/01/09521234543213/21/2",
            "epc=urn:epc:id:sgtin:0614141.107346.Z",
            "epc=urn:epc:id:sgtin:0614141.107346.a",
            "type=ObjectEvent",
        ],
        // Beyond ASCII, in byte order (not a collation's): "é" (C3 A9)
        // after "z", U+10FFFF (F4 8F BF BF) after everything.
        &[
            "epc=urn:x:é",
            "epc=urn:x:z",
            "epc=\u{10FFFF}\u{10FFFF}",
            "bizStepper=https://example.com/not-a-bizStep",
            "bizStep>", // The first string past every `bizStep=…`.
            "disposition=https://ref.gs1.org/cbv/Disp-in_transit",
            "type=ObjectEvent",
        ],
        &[
            SHIPPING,
            "type=TransformationEvent",
            "epc=https://id.gs1.org/01/09521234543213/21/1",
        ],
        &[RECEIVING, "bizStep=", "type=ObjectEvent"],
    ];
    let events: Vec<EventState> = terms
        .iter()
        .enumerate()
        .map(|(i, t)| event(i as u64, 1000, 2000, t))
        .collect();
    let mut b = batch(0, events.len() as u64);
    b.changes = events.iter().cloned().map(Change::PutEvent).collect();
    store.integrate(&b).unwrap();

    // The model: every distinct term under the prefix, in byte order.
    let expected = |prefix: &str| -> Vec<String> {
        let mut all: Vec<String> = terms
            .iter()
            .flat_map(|t| t.iter())
            .filter(|t| t.starts_with(prefix))
            .map(|t| (*t).to_owned())
            .collect();
        all.sort(); // Byte order.
        all.dedup();
        all
    };
    assert_eq!(
        values("bizStep=", None, 100),
        vec![
            "bizStep=".to_owned(),
            RECEIVING.to_owned(),
            SHIPPING.to_owned()
        ],
        "distinct, in byte order, the prefix itself a term"
    );
    assert_eq!(
        values("epc=", None, 100),
        vec![
            "epc=https://id.gs1.org/01/09521234543213/21/1",
            "epc=https://id.gs1.org/01/09521234543213/21/10",
            "epc=https://id.gs1.org/01/09521234543213/21/2",
            "epc=urn:epc:id:sgtin:0614141.107346.Z",
            "epc=urn:epc:id:sgtin:0614141.107346.a",
            "epc=urn:x:z",
            "epc=urn:x:é",
            "epc=\u{10FFFF}\u{10FFFF}",
        ],
        "`epcClass=` terms are not under `epc=`"
    );
    assert_eq!(
        values("epcClass=", None, 100),
        vec!["epcClass=https://id.gs1.org/01/09521234543213"]
    );
    assert_eq!(
        values("bizLocation=", None, 100),
        vec!["bizLocation=https://id.gs1.org/414/9521234543213"]
    );
    assert_eq!(values("sensor=", None, 100), Vec::<String>::new());
    assert_eq!(
        values("epc=urn:x:\u{10FFFF}", None, 100),
        Vec::<String>::new()
    );
    for prefix in [
        "",
        "b",
        "bizStep",
        "bizStep=",
        "bizStep>",
        "bizStepper=",
        "epc",
        "epc=",
        "epc=urn:",
        "epc=urn:x:",
        "epc=\u{10FFFF}",
        "epcClass=",
        "readPoint=",
        "disposition=",
        "type=",
        "zzz",
        "\u{10FFFF}",
    ] {
        let all = expected(prefix);
        assert_eq!(values(prefix, None, 1000), all, "{prefix:?}");
        assert_eq!(values(prefix, None, usize::MAX), all, "{prefix:?}");
        assert!(values(prefix, None, 0).is_empty(), "limit 0: {prefix:?}");
        // Paging by the `after` cursor reaches every value exactly once.
        for limit in [1, 2, 3] {
            let mut paged = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = values(prefix, after.as_deref(), limit);
                assert!(page.len() <= limit, "{prefix:?} limit {limit}");
                paged.extend(page.iter().cloned());
                if page.len() < limit {
                    break;
                }
                after = page.last().cloned();
            }
            assert_eq!(paged, all, "{prefix:?} in pages of {limit}");
        }
        // From each value (and from strings between values), the rest.
        for (i, value) in all.iter().enumerate() {
            assert_eq!(
                values(prefix, Some(value), 1000),
                all[i + 1..],
                "{prefix:?}"
            );
            let between = format!("{value}\u{1}");
            assert_eq!(
                values(prefix, Some(&between), 1000),
                all[i + 1..],
                "{prefix:?}"
            );
        }
    }
    // A cursor before the prefix starts at the prefix; one past it ends.
    assert_eq!(values("epc=", Some("a"), 100), expected("epc="));
    assert_eq!(values("epc=", Some("epc"), 2), expected("epc=")[..2]);
    assert!(values("epc=", Some("epc>"), 100).is_empty());
    assert!(values("epc=", Some("\u{10FFFF}"), 100).is_empty());
    assert!(values("bizStep=", Some(SHIPPING), 100).is_empty());

    store.clear_projections().unwrap();
    assert!(
        values("", None, 100).is_empty(),
        "cleared with the projections"
    );
    store
        .apply_changes(
            &events
                .iter()
                .cloned()
                .map(Change::PutEvent)
                .collect::<Vec<_>>(),
            0,
        )
        .unwrap();
    assert_eq!(values("", None, 1000), expected(""));
}

pub fn empty_store<S: Store>(store: &S) {
    assert_eq!(store.size().unwrap(), 0);
    assert_eq!(store.checkpoint().unwrap(), None);
    assert_eq!(store.find_record(&[0; 32]).unwrap(), None);
    assert!(store.party("fwo").unwrap().is_none());
    assert!(
        store.read_hashes(&[NodeId::new(0, 0)]).is_err(),
        "a missing hash is an error"
    );
    assert!(
        store.read_entries(0, 1).is_err(),
        "reading past the end is an error"
    );
    assert_eq!(store.read_entries(0, 0).unwrap(), Vec::<Vec<u8>>::new());
}

pub fn integrate_then_read<S: Store>(store: &S) {
    let mut first = batch(0, 3);
    first.hashes.push((NodeId::new(1, 0), Hash([7; 32])));
    first.changes = vec![
        Change::PutParty(party("fwo", 0)),
        Change::PutKey(KeyState::new(
            key_of("fwo/k1"),
            PartyId::parse("fwo").expect("a valid party id"),
        )),
        Change::PutLot(lot("urn:x:lot:1", 1)),
        Change::LotEvent {
            lot: "urn:x:lot:1".into(),
            index: 1,
        },
    ];
    store.integrate(&first).unwrap();
    store.integrate(&batch(3, 2)).unwrap();
    assert_eq!(store.size().unwrap(), 5);
    assert_eq!(
        store.read_entries(1, 3).unwrap(),
        vec![row(1).entry, row(2).entry, row(3).entry]
    );
    assert_eq!(store.find_record(&row(4).record_hash).unwrap(), Some(4));
    let hashes = store
        .read_hashes(&[NodeId::new(0, 4), NodeId::new(1, 0), NodeId::new(0, 0)])
        .unwrap();
    assert_eq!(
        hashes,
        vec![
            leaf_hash(&row(4).entry),
            Hash([7; 32]),
            leaf_hash(&row(0).entry)
        ]
    );
    assert_eq!(store.party("fwo").unwrap(), Some(party("fwo", 0)));
    let key_id = key_of("fwo/k1").key_id();
    assert_eq!(
        store.key("fwo/k1", key_id).unwrap(),
        Some(KeyState::new(
            key_of("fwo/k1"),
            PartyId::parse("fwo").expect("a valid party id")
        ))
    );
    assert_eq!(store.key("fwo/k1", key_id ^ 1).unwrap(), None);
    assert_eq!(
        store.lot("urn:x:lot:1").unwrap(),
        Some(lot("urn:x:lot:1", 1))
    );
    assert_eq!(store.lot_events("urn:x:lot:1").unwrap(), vec![1]);
    assert_eq!(store.lots(None, usize::MAX).unwrap().len(), 1);
    assert_eq!(store.parties(None, usize::MAX).unwrap().len(), 1);

    // A later change replaces the state; keys can be removed.
    let mut moved = lot("urn:x:lot:1", 1);
    moved.ship(Token::parse("s1").expect("a valid shipment id"));
    let mut b = batch(5, 1);
    b.changes = vec![
        Change::PutLot(moved.clone()),
        Change::RemoveKey {
            name: "fwo/k1".into(),
            key_id,
        },
        Change::LotEvent {
            lot: "urn:x:lot:1".into(),
            index: 5,
        },
    ];
    store.integrate(&b).unwrap();
    assert_eq!(store.lot("urn:x:lot:1").unwrap(), Some(moved));
    assert_eq!(store.key("fwo/k1", key_id).unwrap(), None);
    assert_eq!(
        store.lot_events("urn:x:lot:1").unwrap(),
        vec![1, 5],
        "sorted, without duplicates"
    );
}

/// A snapshot reads what the store held when it was taken (its first
/// read, for a backend that takes it then): a later integrate is not
/// visible through it, and is through a new one.
pub fn a_snapshot_reads_one_state<S: Store>(store: &S) {
    let mut first = batch(0, 2);
    first.changes = vec![
        Change::PutLot(lot("urn:x:lot:1", 1)),
        Change::LotEvent {
            lot: "urn:x:lot:1".into(),
            index: 1,
        },
    ];
    store.integrate(&first).unwrap();
    let before = store.snapshot().unwrap();
    assert_eq!(
        before.lot("urn:x:lot:1").unwrap(),
        Some(lot("urn:x:lot:1", 1))
    );
    assert_eq!(before.lot_entries("urn:x:lot:1").unwrap(), vec![1]);

    let mut moved = lot("urn:x:lot:1", 1);
    moved.ship(Token::parse("s1").expect("a valid shipment id"));
    let mut second = batch(2, 1);
    second.changes = vec![
        Change::PutLot(moved.clone()),
        Change::PutLot(lot("urn:x:lot:2", 2)),
        Change::LotEvent {
            lot: "urn:x:lot:1".into(),
            index: 2,
        },
    ];
    store.integrate(&second).unwrap();
    assert_eq!(
        before.lot("urn:x:lot:1").unwrap(),
        Some(lot("urn:x:lot:1", 1))
    );
    assert_eq!(before.lot("urn:x:lot:2").unwrap(), None);
    assert_eq!(before.lot_entries("urn:x:lot:1").unwrap(), vec![1]);
    assert_eq!(before.entry(2).unwrap(), None);
    assert_eq!(before.entry(1).unwrap(), Some(row(1).entry));
    drop(before);

    let after = store.snapshot().unwrap();
    assert_eq!(after.lot("urn:x:lot:1").unwrap(), Some(moved));
    assert_eq!(after.lot_entries("urn:x:lot:1").unwrap(), vec![1, 2]);
    assert_eq!(after.entry(2).unwrap(), Some(row(2).entry));
}

pub fn gaps_and_replays_write_nothing<S: Store>(store: &S) {
    store.integrate(&batch(0, 2)).unwrap();
    let mut gap = batch(3, 1);
    gap.changes = vec![Change::PutParty(party("gap", 3))];
    assert!(store.integrate(&gap).is_err(), "an index gap is refused");
    let mut replay = batch(2, 1);
    replay.entries[0].record_hash = row(1).record_hash;
    replay.changes = vec![Change::PutParty(party("replay", 2))];
    assert!(
        store.integrate(&replay).is_err(),
        "a stored record hash is refused"
    );
    assert_eq!(store.size().unwrap(), 2);
    assert!(store.party("gap").unwrap().is_none() && store.party("replay").unwrap().is_none());
    assert!(store.read_hashes(&[NodeId::new(0, 2)]).is_err());
    let mut rehash = batch(2, 1);
    rehash.hashes.push((NodeId::new(0, 0), Hash([9; 32])));
    assert!(
        store.integrate(&rehash).is_err(),
        "a stored hash is never overwritten"
    );
    let mut twice = batch(2, 2);
    twice.entries[1].record_hash = twice.entries[0].record_hash;
    assert!(
        store.integrate(&twice).is_err(),
        "a record twice in one batch is refused"
    );
    assert_eq!(store.size().unwrap(), 2);
    assert_eq!(
        store.read_hashes(&[NodeId::new(0, 0)]).unwrap(),
        vec![leaf_hash(&row(0).entry)]
    );
}

pub fn checkpoint_swaps_only_from_the_expected_one<S: Store>(store: &S) {
    assert!(store.swap_checkpoint(None, b"one").unwrap());
    assert!(
        !store.swap_checkpoint(None, b"two").unwrap(),
        "the checkpoint moved"
    );
    assert!(!store.swap_checkpoint(Some(b"zero"), b"two").unwrap());
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some(&b"one"[..]));
    assert!(store.swap_checkpoint(Some(b"one"), b"two").unwrap());
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some(&b"two"[..]));
}

pub fn projections_clear_and_reapply<S: Store>(store: &S) {
    let mut b = batch(0, 1);
    b.changes = vec![
        Change::PutParty(party("fwo", 0)),
        Change::LotEvent {
            lot: "l".into(),
            index: 0,
        },
    ];
    store.integrate(&b).unwrap();
    store.swap_checkpoint(None, b"cp").unwrap();
    store.clear_projections().unwrap();
    assert!(store.party("fwo").unwrap().is_none());
    assert!(store.lot_events("l").unwrap().is_empty());
    assert_eq!(store.size().unwrap(), 1, "the log survives");
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some(&b"cp"[..]));
    assert_eq!(store.find_record(&row(0).record_hash).unwrap(), Some(0));
    store.apply_changes(&b.changes, 0).unwrap();
    assert_eq!(store.party("fwo").unwrap(), Some(party("fwo", 0)));
}

/// Parties, sites and lots are listed in id order (bytes of the UTF-8
/// ids), a page at a time: strictly after the cursor, at most the limit,
/// every one exactly once across the pages.
pub fn listings_page_by_id_after_a_cursor<S: Store>(store: &S) {
    // Ids whose byte order differs from their insertion order, with an
    // upper-case letter, punctuation above the letters and a prefix of
    // another id (lot ids are ASCII; a cursor may not be).
    let ids = [
        "urn:x:lot:b",
        "urn:x:lot:a",
        "urn:x:lot:~",
        "urn:x:lot:a-2",
        "urn:x:lot:Z",
    ];
    let mut b = batch(0, ids.len() as u64);
    for (i, id) in ids.iter().enumerate() {
        b.changes.push(Change::PutLot(lot(id, i as u64)));
        b.changes
            .push(Change::PutParty(party(&format!("p{i}"), i as u64)));
    }
    store.integrate(&b).unwrap();
    let mut sorted: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    sorted.sort();
    let all: Vec<String> = store
        .lots(None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|l| l.id().to_string())
        .collect();
    assert_eq!(all, sorted, "lots in id byte order");
    for per_page in 1..=ids.len() + 1 {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store.lots(after.as_deref(), per_page).unwrap();
            assert!(page.len() <= per_page, "at most the limit");
            let Some(last) = page.last() else { break };
            after = Some(last.id().to_string());
            seen.extend(page.into_iter().map(|l| l.id().to_string()));
        }
        assert_eq!(seen, sorted, "pages of {per_page}: each lot once, in order");
    }
    assert!(store.lots(Some("urn:x:lot:\u{e9}"), 10).unwrap().is_empty());
    assert_eq!(
        store.lots(Some("urn:x:lot:a"), 1).unwrap()[0].id().as_str(),
        "urn:x:lot:a-2",
        "strictly after the cursor"
    );
    assert_eq!(
        store.lots(Some("urn:x:lot:0"), 2).unwrap().len(),
        2,
        "a cursor that names no lot"
    );
    let parties: Vec<String> = store
        .parties(Some("p1"), 2)
        .unwrap()
        .into_iter()
        .map(|p| p.id().to_string())
        .collect();
    assert_eq!(parties, vec!["p2", "p3"]);
    assert!(store.sites(None, 10).unwrap().is_empty());
    assert!(store.parties(None, 0).unwrap().is_empty(), "a limit of 0");

    // Shipments list the same way.
    let shipment = |id: &str, index: u64| {
        crate::state::ShipmentState::new(
            oretrace_domain::record::Shipment {
                id: Token::parse(id).unwrap(),
                lots: vec![LotId::parse("urn:x:lot:a").unwrap()],
                from: SiteId::parse("mine").unwrap(),
                to: SiteId::parse("plant").unwrap(),
                via: Vec::new(),
                receiver: pid("p1"),
                documents: Vec::new(),
                time: time("2025-01-01T00:00:00Z"),
                figures: Figures::Reported,
            },
            pid("p0"),
            index,
        )
    };
    let size = store.size().unwrap();
    let mut b = batch(size, 3);
    for (i, id) in ["s-b", "s-a", "s-c"].iter().enumerate() {
        b.changes
            .push(Change::PutShipment(shipment(id, size + i as u64)));
    }
    store.integrate(&b).unwrap();
    let ids = |page: Vec<crate::state::ShipmentState>| -> Vec<String> {
        page.into_iter().map(|s| s.id().to_string()).collect()
    };
    assert_eq!(
        ids(store.shipments(None, usize::MAX).unwrap()),
        vec!["s-a", "s-b", "s-c"],
        "shipments in id byte order"
    );
    assert_eq!(ids(store.shipments(Some("s-a"), 1).unwrap()), vec!["s-b"]);
    assert!(store.shipments(Some("s-c"), 10).unwrap().is_empty());
}

// ---- Agreements, reports and resource estimates ----

fn date(text: &str) -> Date {
    Date::parse(text).expect("a valid date")
}

fn pid(id: &str) -> PartyId {
    PartyId::parse(id).expect("a valid party id")
}

fn scoped(id: &str) -> ScopedId {
    ScopedId::parse(id).expect("a valid scoped id")
}

/// A pledge of 100 USD due on `due`, with `delivered` delivered.
fn pledge_state(due: &str, delivered: i64) -> PledgeState {
    PledgeState {
        id: Token::parse("p1").expect("a valid pledge id"),
        description: Text::parse("a payment").expect("a valid description"),
        due: date(due),
        pledged: Some(Decimal::from(100)),
        unit: Some("USD".into()),
        delivered: Decimal::from(delivered),
        complete: false,
        reports: u32::from(delivered > 0),
        last_report: None,
    }
}

/// An agreement summary: `sealed_until` seals its text until that day;
/// `pledge` is a pledge's due date and what was delivered of 100.
fn agreement_state(
    id: &str,
    parties: &[&str],
    status: AgreementStatus,
    sealed_until: Option<&str>,
    pledge: Option<(&str, i64)>,
    index: u64,
) -> AgreementState {
    let parties: Vec<PartyId> = parties.iter().map(|p| pid(p)).collect();
    let mut countries: Vec<Country> = parties
        .iter()
        .map(|p| {
            Country::parse(if p.as_str() == "ussm" { "US" } else { "PK" }).expect("a valid country")
        })
        .collect();
    countries.sort();
    countries.dedup();
    AgreementState {
        id: scoped(id),
        title: Text::parse(&format!("Agreement {id}")).expect("a valid title"),
        kind: AgreementKind::Mou,
        status,
        latest: 1,
        parties,
        countries,
        commodities: vec![Token::parse("antimony").expect("a valid commodity")],
        signed: date("2025-09-08"),
        disclosure: if sealed_until.is_some() {
            DisclosureState::Sealed
        } else {
            DisclosureState::Public
        },
        clauses: sealed_until.map(|_| 4),
        revealed: 0,
        disclose_by: sealed_until.map(date),
        pledges: pledge
            .map(|(due, delivered)| vec![pledge_state(due, delivered)])
            .unwrap_or_default(),
        figures: Figures::Illustrative,
        index,
        registered: index,
    }
}

/// Every agreement of `all` that `select` admits, in id order, at most
/// its limit: what every backend must answer.
fn expected_agreements(all: &[AgreementState], select: &Select) -> Vec<String> {
    let mut ids: Vec<&AgreementState> = all
        .iter()
        .filter(|a| select.admits(a.id.as_str(), &a.terms(), a.overdue_from()))
        .collect();
    ids.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    ids.into_iter()
        .take(select.limit)
        .map(|a| a.id.to_string())
        .collect()
}

fn agreement_ids<S: Store>(store: &S, select: &Select) -> Vec<String> {
    store
        .agreements(select)
        .unwrap()
        .into_iter()
        .map(|a| a.id.to_string())
        .collect()
}

/// Agreement summaries: stored with a batch, read back equal, listed in
/// id order carrying every term asked for, overdue on a day if asked
/// (strictly after the day they are overdue from), after a cursor, up to
/// a limit; a later summary replaces the terms and overdue date of the
/// one before; entries read by index; all cleared with the projections
/// but the log.
pub fn agreements_select_by_terms_overdue_and_cursor<S: Store>(store: &S) {
    use AgreementStatus::{InForce, Signed, Terminated};
    let mut all = vec![
        agreement_state(
            "fwo:b",
            &["fwo", "ussm"],
            Signed,
            Some("2026-01-01"),
            None,
            0,
        ),
        agreement_state(
            "fwo:a",
            &["fwo", "ussm"],
            InForce,
            None,
            Some(("2025-12-01", 0)),
            1,
        ),
        agreement_state(
            "ussm:c",
            &["ussm", "nmc"],
            Signed,
            None,
            Some(("2025-11-01", 100)),
            2,
        ),
        agreement_state(
            "fwo:a-2",
            &["fwo", "nmc"],
            InForce,
            Some("2025-10-01"),
            Some(("2026-03-01", 40)),
            3,
        ),
        agreement_state("ussm:z", &["ussm", "fwo"], Terminated, None, None, 4),
        agreement_state(
            "fwo:m",
            &["fwo", "nmc"],
            Signed,
            Some("2025-12-15"),
            None,
            5,
        ),
    ];
    let mut b = batch(0, all.len() as u64);
    b.changes = all.iter().cloned().map(Change::PutAgreement).collect();
    store.integrate(&b).unwrap();
    for a in &all {
        assert_eq!(store.agreement(a.id.as_str()).unwrap().as_ref(), Some(a));
    }
    assert_eq!(store.agreement("fwo:nothing").unwrap(), None);

    let every = Select {
        limit: 100,
        ..Select::default()
    };
    assert_eq!(
        agreement_ids(store, &every),
        vec!["fwo:a", "fwo:a-2", "fwo:b", "fwo:m", "ussm:c", "ussm:z"],
        "every agreement, in id byte order"
    );
    let both = Select {
        terms: vec!["party:ussm".into(), "party:fwo".into()],
        ..every.clone()
    };
    assert_eq!(
        agreement_ids(store, &both),
        vec!["fwo:a", "fwo:b", "ussm:z"]
    );
    // fwo:a is due 2025-12-01 unpaid, fwo:a-2 to disclose by 2025-10-01,
    // fwo:b by 2026-01-01, fwo:m by 2025-12-15; ussm:c's pledge is met.
    let overdue = |day: &str| Select {
        overdue_on: Some(date(day)),
        ..every.clone()
    };
    assert_eq!(
        agreement_ids(store, &overdue("2025-10-01")),
        Vec::<String>::new()
    );
    assert_eq!(
        agreement_ids(store, &overdue("2025-10-02")),
        vec!["fwo:a-2"]
    );
    assert_eq!(
        agreement_ids(store, &overdue("2025-12-16")),
        vec!["fwo:a", "fwo:a-2", "fwo:m"]
    );
    let selects = {
        let term_sets: [&[&str]; 7] = [
            &[],
            &["party:fwo"],
            &["party:fwo", "status:in-force"],
            &["country:US", "party:fwo", "disclosure:sealed"],
            &["status:signed", "status:signed"],
            &["party:nobody"],
            &["kind:mou", "commodity:antimony", "party:nmc"],
        ];
        let mut selects = Vec::new();
        for terms in term_sets {
            for overdue_on in [
                None,
                Some("2025-11-02"),
                Some("2025-12-02"),
                Some("2026-06-01"),
            ] {
                for after in [
                    None,
                    Some("fwo:a"),
                    Some("fwo:a-1"),
                    Some("ussm:c"),
                    Some("zzz"),
                ] {
                    for limit in [0, 1, 2, 100] {
                        selects.push(Select {
                            terms: terms.iter().map(|t| (*t).to_owned()).collect(),
                            overdue_on: overdue_on.map(date),
                            after: after.map(str::to_owned),
                            limit,
                        });
                    }
                }
            }
        }
        selects
    };
    for select in &selects {
        assert_eq!(
            agreement_ids(store, select),
            expected_agreements(&all, select),
            "{select:?}"
        );
    }
    // Pages of one filter: each agreement once, in order.
    let fwo = Select {
        terms: vec!["party:fwo".into()],
        ..every.clone()
    };
    let whole = agreement_ids(store, &fwo);
    for per_page in 1..=whole.len() + 1 {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = agreement_ids(
                store,
                &Select {
                    after: after.clone(),
                    limit: per_page,
                    ..fwo.clone()
                },
            );
            assert!(page.len() <= per_page, "at most the limit");
            let Some(last) = page.last() else { break };
            after = Some(last.clone());
            seen.extend(page);
        }
        assert_eq!(seen, whole, "pages of {per_page}");
    }

    // A later summary replaces the earlier one's terms and overdue date.
    all[1] = agreement_state(
        "fwo:a",
        &["fwo", "nmc"],
        Terminated,
        None,
        Some(("2025-12-01", 100)),
        6,
    );
    let mut b = batch(all.len() as u64, 1);
    b.changes = vec![Change::PutAgreement(all[1].clone())];
    store.integrate(&b).unwrap();
    assert_eq!(store.agreement("fwo:a").unwrap().as_ref(), Some(&all[1]));
    assert_eq!(agreement_ids(store, &both), vec!["fwo:b", "ussm:z"]);
    assert_eq!(
        agreement_ids(store, &overdue("2025-12-16")),
        vec!["fwo:a-2", "fwo:m"]
    );
    for select in &selects {
        assert_eq!(
            agreement_ids(store, select),
            expected_agreements(&all, select),
            "after the update: {select:?}"
        );
    }

    // Entries by index.
    assert_eq!(store.entry(0).unwrap(), Some(row(0).entry));
    assert_eq!(store.entry(6).unwrap(), Some(row(6).entry));
    assert_eq!(store.entry(7).unwrap(), None, "past the end");
    assert_eq!(store.entry(u64::MAX).unwrap(), None);

    store.clear_projections().unwrap();
    assert_eq!(store.agreement("fwo:b").unwrap(), None);
    assert!(agreement_ids(store, &every).is_empty());
    assert!(agreement_ids(store, &fwo).is_empty());
    assert_eq!(
        store.entry(3).unwrap(),
        Some(row(3).entry),
        "the log survives"
    );
    store
        .apply_changes(
            &all.iter()
                .cloned()
                .map(Change::PutAgreement)
                .collect::<Vec<_>>(),
            0,
        )
        .unwrap();
    assert_eq!(agreement_ids(store, &both), vec!["fwo:b", "ussm:z"]);
}

fn clause_state(id: &str, version: u32, clause: u32, index: u64) -> ClauseState {
    ClauseState {
        agreement: scoped(id),
        version,
        clause,
        salt: [clause as u8; 32],
        text: format!("Clause {clause} of {id} v{version}:\n\tthe parties agree — «{index}»."),
        index,
        by: pid("fwo"),
    }
}

/// Revealed clauses: read one by one, listed per version in clause order
/// after a cursor up to a limit, never mixed with another version's or
/// another agreement's; cleared with the projections.
pub fn clauses_page_in_clause_order<S: Store>(store: &S) {
    let clauses = [
        clause_state("fwo:a", 1, 5, 1),
        clause_state("fwo:a", 1, 0, 1),
        clause_state("fwo:a", 1, 2, 2),
        clause_state("fwo:a", 1, 3, 2),
        clause_state("fwo:a", 2, 0, 3),
        clause_state("fwo:a-2", 1, 1, 3),
        clause_state("fwo:a", 1, 99_999, 4),
    ];
    let mut b = batch(0, 5);
    b.changes = clauses.iter().cloned().map(Change::PutClause).collect();
    store.integrate(&b).unwrap();
    assert_eq!(
        store.clause("fwo:a", 1, 2).unwrap().as_ref(),
        Some(&clauses[2])
    );
    assert_eq!(store.clause("fwo:a", 1, 1).unwrap(), None);
    assert_eq!(store.clause("fwo:a", 3, 0).unwrap(), None);
    let numbers = |id: &str, version: u32, after: Option<u32>, limit: usize| -> Vec<u32> {
        store
            .clauses(id, version, after, limit)
            .unwrap()
            .into_iter()
            .map(|c| c.clause)
            .collect()
    };
    assert_eq!(numbers("fwo:a", 1, None, 100), vec![0, 2, 3, 5, 99_999]);
    assert_eq!(
        store.clauses("fwo:a", 1, None, 100).unwrap(),
        vec![
            clauses[1].clone(),
            clauses[2].clone(),
            clauses[3].clone(),
            clauses[0].clone(),
            clauses[6].clone()
        ]
    );
    assert_eq!(
        numbers("fwo:a", 1, Some(0), 2),
        vec![2, 3],
        "strictly after"
    );
    assert_eq!(
        numbers("fwo:a", 1, Some(1), 1),
        vec![2],
        "a cursor that names no clause"
    );
    assert_eq!(numbers("fwo:a", 1, Some(99_999), 10), Vec::<u32>::new());
    assert_eq!(numbers("fwo:a", 1, Some(u32::MAX), 10), Vec::<u32>::new());
    assert_eq!(
        numbers("fwo:a", 1, None, 0),
        Vec::<u32>::new(),
        "a limit of 0"
    );
    assert_eq!(numbers("fwo:a", 2, None, 10), vec![0]);
    assert_eq!(numbers("fwo:a-2", 1, None, 10), vec![1]);
    assert_eq!(numbers("fwo", 1, None, 10), Vec::<u32>::new());
    // Revealed again (a replay with the same text): one clause still.
    let mut b = batch(5, 1);
    b.changes = vec![Change::PutClause(clauses[2].clone())];
    store.integrate(&b).unwrap();
    assert_eq!(numbers("fwo:a", 1, None, 100), vec![0, 2, 3, 5, 99_999]);
    store.clear_projections().unwrap();
    assert_eq!(store.clause("fwo:a", 1, 2).unwrap(), None);
    assert!(numbers("fwo:a", 1, None, 100).is_empty());
}

/// An agreement record: version `version` of `id` between fwo and ussm.
fn agreement_record(id: &str, version: u32, sealed: bool) -> Agreement {
    Agreement {
        id: scoped(id),
        version,
        amends: version.checked_sub(1).filter(|v| *v > 0),
        title: Text::parse(&format!("Agreement {id}")).expect("a valid title"),
        kind: AgreementKind::Offtake,
        parties: vec![pid("fwo"), pid("ussm")],
        signed: date("2025-09-08"),
        place: Text::parse("Islamabad").expect("a valid place"),
        status: if version == 1 {
            AgreementStatus::Signed
        } else {
            AgreementStatus::Amended
        },
        commodities: vec![Token::parse("antimony").expect("a valid commodity")],
        sites: vec![],
        lots: vec![],
        value: Some(
            Money::new(
                Decimal::new(5_000_000_000, 2),
                Currency::parse("USD").expect("a valid currency"),
            )
            .expect("a valid amount"),
        ),
        pledges: vec![Pledge {
            id: Token::parse("p1").expect("a valid pledge id"),
            description: Text::parse("a first payment").expect("a valid description"),
            quantity: Some(Quantity::Mass(
                Mass::new(Decimal::from(20_000), MassUnit::Kilogram).expect("a valid mass"),
            )),
            due: date("2026-03-01"),
        }],
        documents: vec![],
        terms: if sealed {
            Terms::Sealed {
                root: Digest::from_bytes([version as u8; 32]),
                count: 4,
                reason: Text::parse("commercial confidence").expect("a valid reason"),
                disclose_by: date("2027-01-01"),
            }
        } else {
            Terms::Public {
                clauses: vec![format!("Version {version}: the parties agree.")],
            }
        },
        time: time("2025-09-08T10:00:00Z"),
        figures: Figures::Illustrative,
    }
}

fn version_state(id: &str, version: u32, index: u64) -> VersionState {
    let mut state = VersionState::new(
        agreement_record(id, version, version % 2 == 1),
        index,
        pid("fwo"),
        Digest::from_bytes([index as u8; 32]),
    );
    state.confirm(Confirmation {
        party: pid("ussm"),
        index: index + 1,
        time: time("2025-09-09T10:00:00Z"),
    });
    if version % 2 == 1 {
        state.reveal([3, 0]);
    }
    state
}

fn progress_state(id: &str, index: u64) -> ProgressState {
    ProgressState::new(
        Progress {
            agreement: scoped(id),
            pledge: Token::parse("p1").expect("a valid pledge id"),
            delivered: Some(Quantity::Mass(
                Mass::new(Decimal::from(index * 10), MassUnit::Kilogram).expect("a valid mass"),
            )),
            complete: false,
            date: date("2025-10-01"),
            note: Text::parse(&format!("delivery {index}")).expect("a valid note"),
            documents: vec![],
            records: vec![index.saturating_sub(1)],
            time: time("2025-10-01T10:00:00Z"),
            figures: Figures::Illustrative,
        },
        index,
        pid("ussm"),
    )
}

/// Versions come back oldest first whatever order they were stored in;
/// progress reports in log order after a cursor up to a limit; both per
/// agreement, and cleared with the projections.
pub fn versions_and_progress_in_order<S: Store>(store: &S) {
    let versions = [
        version_state("fwo:a", 2, 4),
        version_state("fwo:a", 1, 0),
        version_state("fwo:a", 10, 9),
        version_state("fwo:a-2", 1, 2),
    ];
    let progress = [
        progress_state("fwo:a", 7),
        progress_state("fwo:a", 3),
        progress_state("fwo:a", 12),
        progress_state("fwo:a-2", 5),
    ];
    let mut b = batch(0, 13);
    b.changes = versions
        .iter()
        .cloned()
        .map(Change::PutAgreementVersion)
        .chain(progress.iter().cloned().map(Change::PutProgress))
        .collect();
    store.integrate(&b).unwrap();
    assert_eq!(
        store.agreement_version("fwo:a", 2).unwrap().as_ref(),
        Some(&versions[0])
    );
    assert_eq!(store.agreement_version("fwo:a", 3).unwrap(), None);
    assert_eq!(store.agreement_version("fwo:b", 1).unwrap(), None);
    assert_eq!(
        store.agreement_versions("fwo:a").unwrap(),
        vec![
            versions[1].clone(),
            versions[0].clone(),
            versions[2].clone()
        ],
        "oldest first (10 after 2)"
    );
    assert_eq!(
        store.agreement_versions("fwo:a-2").unwrap(),
        vec![versions[3].clone()]
    );
    assert!(store.agreement_versions("fwo").unwrap().is_empty());
    // A later state of a version (a countersignature) replaces it.
    let mut confirmed = versions[1].clone();
    confirmed.confirm(Confirmation {
        party: pid("fwo"),
        index: 13,
        time: time("2025-09-10T10:00:00Z"),
    });
    let mut b = batch(13, 1);
    b.changes = vec![Change::PutAgreementVersion(confirmed.clone())];
    store.integrate(&b).unwrap();
    assert_eq!(
        store.agreement_version("fwo:a", 1).unwrap(),
        Some(confirmed)
    );
    assert_eq!(store.agreement_versions("fwo:a").unwrap().len(), 3);

    let indexes = |id: &str, after: Option<u64>, limit: usize| -> Vec<u64> {
        store
            .progress(id, after, limit)
            .unwrap()
            .into_iter()
            .map(|p| p.index())
            .collect()
    };
    assert_eq!(
        store.progress("fwo:a", None, 100).unwrap(),
        vec![
            progress[1].clone(),
            progress[0].clone(),
            progress[2].clone()
        ]
    );
    assert_eq!(indexes("fwo:a", Some(3), 1), vec![7], "strictly after");
    assert_eq!(indexes("fwo:a", Some(4), 5), vec![7, 12]);
    assert_eq!(indexes("fwo:a", Some(12), 5), Vec::<u64>::new());
    assert_eq!(indexes("fwo:a", Some(u64::MAX), 5), Vec::<u64>::new());
    assert_eq!(indexes("fwo:a", None, 0), Vec::<u64>::new(), "a limit of 0");
    assert_eq!(indexes("fwo:a-2", None, 5), vec![5]);
    assert!(indexes("fwo:b", None, 5).is_empty());

    store.clear_projections().unwrap();
    assert_eq!(store.agreement_version("fwo:a", 2).unwrap(), None);
    assert!(store.agreement_versions("fwo:a").unwrap().is_empty());
    assert!(indexes("fwo:a", None, 100).is_empty());
    store
        .apply_changes(&[Change::PutProgress(progress[0].clone())], 0)
        .unwrap();
    assert_eq!(indexes("fwo:a", None, 100), vec![7]);
}

fn source(n: u32) -> Source {
    Source {
        title: Text::parse(&format!("Source {n}")).expect("a valid title"),
        publisher: Text::parse("Dawn").expect("a valid publisher"),
        date: date("2025-09-20"),
        url: Text::parse(&format!("https://example.org/{n}")).expect("a valid url"),
        archive: Some(Digest::from_bytes([n as u8; 32])),
    }
}

fn report_state(
    id: &str,
    author: &str,
    version: u32,
    topic: &str,
    countries: &[&str],
) -> ReportState {
    let record = Report {
        id: scoped(id),
        version,
        claim: Text::parse(&format!("Claim {id}")).expect("a valid claim"),
        topic: Token::parse(topic).expect("a valid topic"),
        countries: countries
            .iter()
            .map(|c| Country::parse(c).expect("a valid country"))
            .collect(),
        commodities: vec![Token::parse("antimony").expect("a valid commodity")],
        value: None,
        sources: vec![source(version)],
        status: if version > 1 {
            ReportStatus::Refuted
        } else {
            ReportStatus::Unconfirmed
        },
        confirmed_by: None,
        refuted_by: (version > 1).then(|| source(90)),
        time: time("2025-09-21T10:00:00Z"),
        figures: Figures::Illustrative,
    };
    ReportState::new(record, pid(author), (0..u64::from(version)).collect())
}

fn resource_state(
    id: &str,
    author: &str,
    site: &str,
    country: &str,
    elements: &[&str],
) -> ResourceState {
    let record = ResourceEstimate {
        id: scoped(id),
        version: 1,
        site: SiteId::parse(site).expect("a valid site id"),
        code: ReportingCode::Jorc,
        class: ResourceClass::Inferred,
        effective: date("2025-06-30"),
        tonnes: Decimal::from(1_000_000),
        grades: elements
            .iter()
            .map(|e| ResourceGrade {
                analyte: Analyte::parse(e).expect("a valid analyte"),
                value: Decimal::new(25, 1),
                unit: GradeUnit::Percent,
            })
            .collect(),
        contained: vec![],
        competent: Text::parse("A. Geologist").expect("a valid name"),
        documents: vec![],
        time: time("2025-09-21T10:00:00Z"),
        figures: Figures::Illustrative,
    };
    ResourceState::new(
        record,
        pid(author),
        Country::parse(country).expect("a valid country"),
        vec![7],
    )
}

/// Reports and resource estimates: read back equal, listed by terms,
/// cursor and limit as agreements are (a day to be overdue on changes
/// nothing), a later version replacing the terms of the one before;
/// cleared with the projections.
pub fn reports_and_resources_select_by_terms<S: Store>(store: &S) {
    let mut reports = vec![
        report_state("fwo:pasni", "fwo", 1, "port-offer", &["PK", "US"]),
        report_state("ussm:valuation", "ussm", 1, "valuation", &["PK"]),
        report_state("fwo:b", "fwo", 1, "valuation", &["PK"]),
        report_state("nmc:x", "nmc", 1, "investment", &["US"]),
    ];
    let resources = vec![
        resource_state("fwo:chitral", "fwo", "fwo-chitral", "PK", &["Sb"]),
        resource_state("ussm:reko", "ussm", "reko-diq", "PK", &["Cu", "Au"]),
        resource_state("fwo:a", "fwo", "fwo-kalat", "PK", &["Cu"]),
        resource_state("nmc:z", "nmc", "nev-1", "US", &["Sb", "Cu"]),
    ];
    let mut b = batch(0, 8);
    b.changes = reports
        .iter()
        .cloned()
        .map(Change::PutReport)
        .chain(resources.iter().cloned().map(Change::PutResource))
        .collect();
    store.integrate(&b).unwrap();
    for r in &reports {
        assert_eq!(store.report(r.id().as_str()).unwrap().as_ref(), Some(r));
    }
    for r in &resources {
        assert_eq!(store.resource(r.id().as_str()).unwrap().as_ref(), Some(r));
    }
    assert_eq!(store.report("fwo:nothing").unwrap(), None);
    assert_eq!(store.resource("fwo:nothing").unwrap(), None);

    let report_ids = |select: &Select| -> Vec<String> {
        store
            .reports(select)
            .unwrap()
            .into_iter()
            .map(|r| r.id().to_string())
            .collect()
    };
    let resource_ids = |select: &Select| -> Vec<String> {
        store
            .resources(select)
            .unwrap()
            .into_iter()
            .map(|r| r.id().to_string())
            .collect()
    };
    let expect = |items: Vec<(String, Vec<String>)>, select: &Select| -> Vec<String> {
        let mut ids: Vec<String> = items
            .into_iter()
            .filter(|(id, terms)| select.admits_ignoring_overdue(id, terms))
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids.truncate(select.limit);
        ids
    };
    let every = Select {
        limit: 100,
        ..Select::default()
    };
    assert_eq!(
        report_ids(&every),
        vec!["fwo:b", "fwo:pasni", "nmc:x", "ussm:valuation"]
    );
    assert_eq!(
        report_ids(&Select {
            terms: vec!["topic:valuation".into(), "country:PK".into()],
            ..every.clone()
        }),
        vec!["fwo:b", "ussm:valuation"]
    );
    assert_eq!(
        resource_ids(&Select {
            terms: vec!["element:Cu".into()],
            overdue_on: Some(date("2030-01-01")),
            ..every.clone()
        }),
        vec!["fwo:a", "nmc:z", "ussm:reko"],
        "a day to be overdue on does not apply"
    );
    let term_sets: [&[&str]; 6] = [
        &[],
        &["author:fwo"],
        &["country:PK", "status:unconfirmed"],
        &["element:Sb", "code:jorc", "class:inferred"],
        &["country:US", "author:nmc"],
        &["site:nowhere"],
    ];
    let check = |reports: &[ReportState]| {
        for terms in term_sets {
            for overdue_on in [None, Some(date("2025-01-01"))] {
                for after in [None, Some("fwo:b"), Some("m"), Some("zzz")] {
                    for limit in [0, 1, 2, 100] {
                        let select = Select {
                            terms: terms.iter().map(|t| (*t).to_owned()).collect(),
                            overdue_on,
                            after: after.map(str::to_owned),
                            limit,
                        };
                        let r = reports
                            .iter()
                            .map(|r| (r.id().to_string(), r.terms()))
                            .collect();
                        assert_eq!(
                            report_ids(&select),
                            expect(r, &select),
                            "reports {select:?}"
                        );
                        let r = resources
                            .iter()
                            .map(|r| (r.id().to_string(), r.terms()))
                            .collect();
                        assert_eq!(
                            resource_ids(&select),
                            expect(r, &select),
                            "resources {select:?}"
                        );
                    }
                }
            }
        }
    };
    check(&reports);
    // A later version of a report replaces its terms.
    reports[0] = report_state("fwo:pasni", "fwo", 2, "port-offer", &["PK"]);
    let mut b = batch(8, 1);
    b.changes = vec![Change::PutReport(reports[0].clone())];
    store.integrate(&b).unwrap();
    assert_eq!(
        store.report("fwo:pasni").unwrap().as_ref(),
        Some(&reports[0])
    );
    assert_eq!(
        report_ids(&Select {
            terms: vec!["country:US".into()],
            ..every.clone()
        }),
        vec!["nmc:x"]
    );
    check(&reports);

    store.clear_projections().unwrap();
    assert_eq!(store.report("fwo:b").unwrap(), None);
    assert_eq!(store.resource("fwo:a").unwrap(), None);
    assert!(report_ids(&every).is_empty());
    assert!(resource_ids(&every).is_empty());
    assert!(
        resource_ids(&Select {
            terms: vec!["element:Cu".into()],
            ..every.clone()
        })
        .is_empty()
    );
}

/// Every way a batch can be refused writes nothing of it: not its
/// entries, hashes or projection changes; the refusals are conflicts;
/// and the store goes on working.
pub fn a_failed_batch_writes_nothing<S: Store>(store: &S) {
    store.integrate(&batch(0, 2)).unwrap();
    let with_party = |mut b: Batch| {
        b.changes
            .insert(0, Change::PutParty(party("ghost", b.entries[0].index)));
        b
    };
    let mut twice = batch(2, 2);
    twice.entries[1].record_hash = twice.entries[0].record_hash;
    let mut rehash = batch(2, 2);
    rehash.hashes.push((NodeId::new(0, 1), Hash([9; 32])));
    let mut shuffled = batch(2, 3);
    shuffled.entries.swap(1, 2);
    let mut gap = batch(3, 1);
    gap.entries[0].index = 3;
    let mut replayed = batch(2, 1);
    replayed.entries[0].record_hash = row(0).record_hash;
    for (what, b) in [
        ("the same record twice in one batch", twice),
        ("a hash already stored", rehash),
        ("indexes out of order", shuffled),
        ("an index gap", gap),
        ("a record already stored", replayed),
    ] {
        let err = store
            .integrate(&with_party(b))
            .expect_err(&format!("{what} is refused"));
        assert_eq!(err.kind(), ErrorKind::Conflict, "{what}: {err}");
    }
    assert_eq!(store.size().unwrap(), 2);
    assert!(store.party("ghost").unwrap().is_none());
    let missing = store.read_hashes(&[NodeId::new(0, 2)]).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    let beyond = store.read_entries(1, 2).unwrap_err();
    assert_eq!(beyond.kind(), ErrorKind::NotFound, "{beyond}");
    assert!(store.find_record(&row(2).record_hash).unwrap().is_none());
    assert_eq!(store.entry(2).unwrap(), None);
    // And the store still works.
    store.integrate(&with_party(batch(2, 2))).unwrap();
    assert_eq!(store.size().unwrap(), 4);
    assert_eq!(store.party("ghost").unwrap(), Some(party("ghost", 2)));
}

/// Listings order ids by their UTF-8 bytes, whatever the backend's
/// collation would do with punctuation, digits and case.
pub fn listings_are_in_byte_order_of_their_ids<S: Store>(store: &S) {
    let mut b = batch(0, 1);
    let ids = [
        "zeta", "alpha", "a.b", "a-b", "9lives", "a", "ab", "a0", "b.a", "b-9", "b",
    ];
    b.changes = ids
        .iter()
        .map(|id| Change::PutParty(party(id, 0)))
        .collect();
    store.integrate(&b).unwrap();
    let listed: Vec<String> = store
        .parties(None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|p| p.id().to_string())
        .collect();
    let mut sorted: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    sorted.sort(); // Byte order.
    assert_eq!(listed, sorted);
    let after_a: Vec<String> = store
        .parties(Some("a"), 3)
        .unwrap()
        .into_iter()
        .map(|p| p.id().to_string())
        .collect();
    assert_eq!(
        after_a,
        sorted[sorted.iter().position(|s| s == "a").unwrap() + 1..][..3]
    );
}

fn open_ok<H: Harness>(harness: &H, place: &H::Place) -> H::Store {
    harness.open(place).expect("opening the place again")
}

/// What one handle wrote, the next handle on the same place reads, and
/// the log goes on where it stopped.
pub fn a_reopened_store_has_the_same_data<H: Harness>(harness: &H) {
    let place = harness.place();
    let mut b = batch(0, 4);
    b.changes = vec![
        Change::PutParty(party("fwo", 0)),
        Change::PutLot(lot("urn:x:lot:1", 2)),
        Change::LotEvent {
            lot: "urn:x:lot:1".into(),
            index: 2,
        },
        Change::LotEvent {
            lot: "urn:x:lot:1".into(),
            index: 3,
        },
    ];
    b.hashes.push((NodeId::new(1, 0), Hash([1; 32])));
    b.hashes.push((NodeId::new(1, 1), Hash([2; 32])));
    {
        let store = open_ok(harness, &place);
        store.integrate(&b).unwrap();
        assert!(store.swap_checkpoint(None, b"checkpoint 4").unwrap());
    }
    let store = open_ok(harness, &place);
    assert_eq!(store.size().unwrap(), 4);
    assert_eq!(
        store.read_entries(0, 4).unwrap(),
        (0..4).map(|i| row(i).entry).collect::<Vec<_>>()
    );
    assert_eq!(store.find_record(&row(3).record_hash).unwrap(), Some(3));
    let ids: Vec<NodeId> = b.hashes.iter().map(|(id, _)| *id).rev().collect();
    let want: Vec<Hash> = b.hashes.iter().map(|(_, h)| *h).rev().collect();
    assert_eq!(store.read_hashes(&ids).unwrap(), want);
    assert_eq!(
        store.checkpoint().unwrap().as_deref(),
        Some(&b"checkpoint 4"[..])
    );
    assert_eq!(store.party("fwo").unwrap(), Some(party("fwo", 0)));
    assert_eq!(
        store.lot("urn:x:lot:1").unwrap(),
        Some(lot("urn:x:lot:1", 2))
    );
    assert_eq!(store.lot_events("urn:x:lot:1").unwrap(), vec![2, 3]);
    let err = store.integrate(&batch(0, 1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    store.integrate(&batch(4, 2)).unwrap();
    assert_eq!(store.size().unwrap(), 6);
}

/// The single-writer rule: a second writer on the same place is refused
/// as a conflict while the first is open, and the first goes on writing;
/// once the first is gone, the place opens again.
pub fn a_second_writer_is_refused<H: Harness>(harness: &H) {
    let place = harness.place();
    let first = open_ok(harness, &place);
    first.integrate(&batch(0, 1)).unwrap();
    let second: StoreResult<H::Store> = harness.open(&place);
    match second {
        Ok(_) => panic!("a second writer was let in while the first was open"),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Conflict, "{e}"),
    }
    first.integrate(&batch(1, 1)).unwrap();
    drop(first);
    let again = open_ok(harness, &place);
    assert_eq!(again.size().unwrap(), 2);
    again.integrate(&batch(2, 1)).unwrap();
}

/// A rebuild's progress is written with the projections it refills, so
/// a rebuild interrupted part way is still under way when the store is
/// opened again, and ends only when finished.
pub fn an_unfinished_rebuild_survives_a_reopen<H: Harness>(harness: &H) {
    let place = harness.place();
    let mut b = batch(0, 2);
    b.changes = vec![
        Change::PutParty(party("one", 0)),
        Change::PutParty(party("two", 1)),
    ];
    {
        let store = open_ok(harness, &place);
        assert_eq!(store.rebuild_progress().unwrap(), None);
        store.integrate(&b).unwrap();
        store.clear_projections().unwrap();
        assert_eq!(store.rebuild_progress().unwrap(), Some(0));
        store.apply_changes(&b.changes[..1], 1).unwrap();
        assert_eq!(store.rebuild_progress().unwrap(), Some(1));
    }
    let store = open_ok(harness, &place);
    assert_eq!(store.rebuild_progress().unwrap(), Some(1));
    assert_eq!(store.party("one").unwrap(), Some(party("one", 0)));
    assert!(store.party("two").unwrap().is_none());
    store.apply_changes(&b.changes[1..], 2).unwrap();
    assert_eq!(store.rebuild_progress().unwrap(), Some(2));
    store.finish_rebuild().unwrap();
    assert_eq!(store.rebuild_progress().unwrap(), None);
    assert_eq!(store.party("two").unwrap(), Some(party("two", 1)));
}

fn named(name: &str, owner: &str) -> NamedQueryRow {
    NamedQueryRow {
        name: name.into(),
        owner: owner.into(),
        query: format!("{{\"EQ_bizStep\":[\"{name}\"]}}"),
    }
}

fn subscription(id: &str, owner: &str, query: &str, due_ms: Option<i64>) -> SubscriptionRow {
    SubscriptionRow {
        id: id.into(),
        owner: owner.into(),
        query: query.into(),
        spec: format!("{{\"dest\":\"https://{owner}.example/{id}\"}}"),
        progress: "{\"cursor\":0}".into(),
        due_ms,
        version: 0,
    }
}

/// Named queries and subscriptions: unique names and ids, quotas per
/// owner and in all decided with the insert, deletes by the owner only
/// (a query others subscribe to stays), listings in order, due rows
/// soonest first, and the compare-and-swap that moves a subscription.
pub fn named_queries_and_subscriptions_are_kept<S: Store>(store: &S) {
    let wide = Quota {
        per_owner: 100,
        total: 100,
    };
    assert_eq!(store.named_query("q").unwrap(), None);
    assert_eq!(
        store.insert_named_query(&named("q", "fwo"), wide).unwrap(),
        Inserted::Done
    );
    assert_eq!(
        store.insert_named_query(&named("q", "ussm"), wide).unwrap(),
        Inserted::Exists
    );
    assert_eq!(store.named_query("q").unwrap(), Some(named("q", "fwo")));
    let two = Quota {
        per_owner: 2,
        total: 3,
    };
    assert_eq!(
        store.insert_named_query(&named("b", "fwo"), two).unwrap(),
        Inserted::Done
    );
    assert_eq!(
        store.insert_named_query(&named("c", "fwo"), two).unwrap(),
        Inserted::OwnerFull
    );
    assert_eq!(
        store.insert_named_query(&named("c", "ussm"), two).unwrap(),
        Inserted::Done
    );
    assert_eq!(
        store.insert_named_query(&named("d", "nrl"), two).unwrap(),
        Inserted::AllFull
    );
    let names = |after: Option<&str>, limit| -> Vec<String> {
        store
            .named_queries(after, limit)
            .unwrap()
            .into_iter()
            .map(|q| q.name)
            .collect()
    };
    assert_eq!(names(None, 10), ["b", "c", "q"]);
    assert_eq!(names(Some("b"), 1), ["c"]);

    // Subscriptions.
    assert_eq!(
        store
            .insert_subscription(&subscription("s1", "ussm", "nope", Some(5)), wide)
            .unwrap(),
        Inserted::NoQuery
    );
    for (id, owner, due) in [
        ("s3", "ussm", Some(30)),
        ("s1", "ussm", Some(10)),
        ("s2", "fwo", Some(10)),
        ("s4", "ussm", None),
    ] {
        assert_eq!(
            store
                .insert_subscription(&subscription(id, owner, "q", due), wide)
                .unwrap(),
            Inserted::Done,
            "{id}"
        );
    }
    assert_eq!(
        store
            .insert_subscription(&subscription("s1", "fwo", "q", None), wide)
            .unwrap(),
        Inserted::Exists
    );
    assert_eq!(
        store
            .insert_subscription(&subscription("s5", "ussm", "q", None), two)
            .unwrap(),
        Inserted::OwnerFull
    );
    assert_eq!(
        store
            .insert_subscription(
                &subscription("s5", "nrl", "q", None),
                Quota {
                    per_owner: 9,
                    total: 4
                }
            )
            .unwrap(),
        Inserted::AllFull
    );
    let ids =
        |rows: Vec<SubscriptionRow>| -> Vec<String> { rows.into_iter().map(|s| s.id).collect() };
    assert_eq!(
        ids(store.subscriptions("ussm", None, 10).unwrap()),
        ["s1", "s3", "s4"]
    );
    assert_eq!(
        ids(store.subscriptions("ussm", Some("s1"), 1).unwrap()),
        ["s3"]
    );
    assert_eq!(
        ids(store.subscriptions("nrl", None, 10).unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        store.subscription("s2").unwrap(),
        Some(subscription("s2", "fwo", "q", Some(10)))
    );
    // Due: by time, then id; paused ones never.
    assert_eq!(
        ids(store.due_subscriptions(9, 10).unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(ids(store.due_subscriptions(10, 10).unwrap()), ["s1", "s2"]);
    assert_eq!(
        ids(store.due_subscriptions(i64::MAX, 10).unwrap()),
        ["s1", "s2", "s3"]
    );
    assert_eq!(ids(store.due_subscriptions(i64::MAX, 1).unwrap()), ["s1"]);

    // The compare-and-swap.
    assert!(
        store
            .advance_subscription("s1", 0, "{\"cursor\":7}", Some(50))
            .unwrap()
    );
    assert!(
        !store
            .advance_subscription("s1", 0, "{\"cursor\":9}", Some(1))
            .unwrap()
    );
    assert!(!store.advance_subscription("gone", 0, "{}", None).unwrap());
    let s1 = store.subscription("s1").unwrap().unwrap();
    assert_eq!(
        (s1.version, s1.progress.as_str(), s1.due_ms),
        (1, "{\"cursor\":7}", Some(50))
    );
    assert_eq!(
        s1.spec,
        subscription("s1", "ussm", "q", None).spec,
        "the spec never moves"
    );
    assert!(
        store
            .advance_subscription("s1", 1, "{\"cursor\":8}", None)
            .unwrap()
    );
    assert_eq!(
        ids(store.due_subscriptions(i64::MAX, 10).unwrap()),
        ["s2", "s3"]
    );

    // Deletes: a subscription by its owner only.
    assert!(!store.delete_subscription("s2", "ussm").unwrap());
    assert!(store.delete_subscription("s4", "ussm").unwrap());
    assert!(!store.delete_subscription("s4", "ussm").unwrap());
    // A query: by its owner only, and not while another party subscribes.
    assert_eq!(
        store.delete_named_query("zz", "fwo").unwrap(),
        Removed::Missing
    );
    assert_eq!(
        store.delete_named_query("q", "ussm").unwrap(),
        Removed::NotOwner("fwo".into())
    );
    assert_eq!(
        store.delete_named_query("q", "fwo").unwrap(),
        Removed::Subscribed(2)
    );
    assert!(store.named_query("q").unwrap().is_some());
    assert!(store.delete_subscription("s1", "ussm").unwrap());
    assert!(store.delete_subscription("s3", "ussm").unwrap());
    // The owner's own subscription goes with its query.
    assert_eq!(
        store.delete_named_query("q", "fwo").unwrap(),
        Removed::Done { subscriptions: 1 }
    );
    assert_eq!(store.named_query("q").unwrap(), None);
    assert_eq!(store.subscription("s2").unwrap(), None);
}

/// Named queries and subscriptions are not projections: a rebuild leaves
/// them, and they are there when the store is opened again.
pub fn kept_rows_survive_a_rebuild_and_a_reopen<H: Harness>(harness: &H) {
    let place = harness.place();
    let wide = Quota {
        per_owner: 10,
        total: 10,
    };
    {
        let store = open_ok(harness, &place);
        store.insert_named_query(&named("q", "fwo"), wide).unwrap();
        store
            .insert_subscription(&subscription("s1", "ussm", "q", Some(3)), wide)
            .unwrap();
        assert!(
            store
                .advance_subscription("s1", 0, "{\"cursor\":4}", Some(4))
                .unwrap()
        );
        store.clear_projections().unwrap();
        store.finish_rebuild().unwrap();
    }
    let store = open_ok(harness, &place);
    assert_eq!(store.named_query("q").unwrap(), Some(named("q", "fwo")));
    let s1 = store.subscription("s1").unwrap().unwrap();
    assert_eq!(
        (s1.version, s1.due_ms, s1.progress.as_str()),
        (1, Some(4), "{\"cursor\":4}")
    );
}
