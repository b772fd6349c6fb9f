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

use crate::state::{Change, EventState, KeyState, LotState, PartyState, StoredEvent};
use crate::store::{Batch, EntryRow, EventOrder, EventSelect, Store};

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

/// Runs every conformance check, each on a fresh store from `fresh`.
pub fn run_all<S: Store>(fresh: impl Fn() -> S) {
    empty_store(&fresh());
    integrate_then_read(&fresh());
    gaps_and_replays_write_nothing(&fresh());
    checkpoint_swaps_only_from_the_expected_one(&fresh());
    projections_clear_and_reapply(&fresh());
    events_select_by_terms_ranges_order_and_cursor(&fresh());
    listings_page_by_id_after_a_cursor(&fresh());
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
        )
        .unwrap();
    assert_eq!(indexes(&shipping_or_receiving).len(), 7);
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
    store.apply_changes(&b.changes).unwrap();
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
}
