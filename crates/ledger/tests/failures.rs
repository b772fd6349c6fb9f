//! The sequencer's failure paths, driven by a store that fails on demand:
//! a failed integrate acknowledges nothing and writes nothing; a failed
//! checkpoint swap acknowledges nothing, and the next start publishes a
//! checkpoint covering what was stored, consistent with the earlier one;
//! a panic in the rules or in the store refuses what it touched and the
//! sequencer lives; a store that cannot be read back refuses writes as
//! unavailable until it recovers.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::atomic::{AtomicBool, Ordering};

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::faults::{Call, Faulty, Hooks, Interfere};
use oretrace_ledger::ledger::{Ledger, LedgerConfig, SequencerHealth};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::rules::Refusal;
use oretrace_ledger::{Store, StoreError};
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use serde_json::json;

/// The memory store behind switches that make it fail or panic.
type Flaky = Faulty<MemoryStore, Switches>;

#[derive(Default)]
struct Switches {
    fail_integrate: AtomicBool,
    fail_swap: AtomicBool,
    fail_size: AtomicBool,
    panic_on_party: AtomicBool,
    panic_on_integrate: AtomicBool,
}

impl Hooks for Switches {
    fn before(&self, call: Call<'_>) -> Interfere {
        let on = |switch: &AtomicBool| switch.load(Ordering::SeqCst);
        match call {
            Call::Party { .. } if on(&self.panic_on_party) => {
                Interfere::Panic("a bug in a rule (simulated)")
            }
            Call::Size if on(&self.fail_size) => Interfere::Fail(StoreError::new(
                oretrace_ledger::ErrorKind::Unavailable,
                "I/O error (simulated)",
            )),
            Call::Integrate { .. } if on(&self.panic_on_integrate) => {
                Interfere::Panic("a bug in the store (simulated)")
            }
            Call::Integrate { .. } if on(&self.fail_integrate) => Interfere::Fail(StoreError::new(
                oretrace_ledger::ErrorKind::Unavailable,
                "disk full (simulated)",
            )),
            Call::SwapCheckpoint { .. } if on(&self.fail_swap) => Interfere::Fail(StoreError::new(
                oretrace_ledger::ErrorKind::Unavailable,
                "connection lost (simulated)",
            )),
            _ => Interfere::Proceed,
        }
    }
}

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn party(id: &str, k: &NoteSigner, operator: &NoteSigner) -> SignedRecord {
    let value = json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company",
        "country": "PK", "keys": [k.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "illustrative"});
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    SignedRecord::sign(record, &[k, operator]).unwrap()
}

fn start(store: Flaky, operator: &NoteSigner) -> Ledger<Flaky> {
    Ledger::start(
        store,
        key("oretrace.test/flaky", 9),
        operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap()
}

#[test]
fn a_failed_integrate_acknowledges_and_writes_nothing() {
    let operator = key("registry/operator", 1);
    let store = Flaky::default();
    let ledger = start(store.clone(), &operator);
    ledger
        .submit_blocking(party("a", &key("a/k", 2), &operator))
        .unwrap();
    store.hooks().fail_integrate.store(true, Ordering::SeqCst);
    let refused = ledger.submit_blocking(party("b", &key("b/k", 3), &operator));
    assert!(
        matches!(refused, Err(Refusal::Unavailable(_))),
        "{refused:?}"
    );
    assert_eq!(store.size().unwrap(), 1);
    // Health says so until a batch is stored again.
    assert_eq!(ledger.health(), SequencerHealth::Failing);
    store.hooks().fail_integrate.store(false, Ordering::SeqCst);
    // The sequencer reloaded its state and goes on from the stored tree.
    assert_eq!(
        ledger.submit_blocking(party("b", &key("b/k", 3), &operator)),
        Ok(1)
    );
    assert_eq!(ledger.health(), SequencerHealth::Running);
}

#[test]
fn entries_stored_before_a_failed_swap_are_published_on_the_next_start() {
    let operator = key("registry/operator", 1);
    let store = Flaky::default();
    let ledger = start(store.clone(), &operator);
    ledger
        .submit_blocking(party("a", &key("a/k", 2), &operator))
        .unwrap();
    let (before, _) = ledger.checkpoint().unwrap();
    store.hooks().fail_swap.store(true, Ordering::SeqCst);
    let refused = ledger.submit_blocking(party("b", &key("b/k", 3), &operator));
    assert!(
        matches!(refused, Err(Refusal::Unavailable(_))),
        "not acknowledged: {refused:?}"
    );
    assert_eq!(
        store.size().unwrap(),
        2,
        "the entry is stored, though unacknowledged"
    );
    assert_eq!(
        ledger.checkpoint().unwrap().0.size(),
        1,
        "and not yet published"
    );
    drop(ledger);

    store.hooks().fail_swap.store(false, Ordering::SeqCst);
    let ledger = start(store.clone(), &operator);
    let (after, _) = ledger.checkpoint().unwrap();
    assert_eq!(after.size(), 2);
    let proof = oretrace_tlog::tree::prove_consistency(
        before.size(),
        after.size(),
        &oretrace_ledger::ledger::StoreHashes(&store),
    )
    .unwrap();
    oretrace_tlog::proof::verify_consistency(
        before.size(),
        after.size(),
        &proof,
        before.root(),
        after.root(),
    )
    .unwrap();
    // A retry learns the index of the stored record.
    let retry = ledger.submit_blocking(party("b", &key("b/k", 3), &operator));
    assert_eq!(retry, Err(Refusal::Replay { index: 1 }));
    let log_key = NoteVerifier::from_vkey(&ledger.vkey()).unwrap();
    ledger
        .receipt(1)
        .unwrap()
        .verify_embedded_entry(&log_key)
        .unwrap();
}

#[test]
fn a_record_that_panics_the_rules_is_refused_and_the_sequencer_lives() {
    let operator = key("registry/operator", 1);
    let store = Flaky::default();
    let ledger = start(store.clone(), &operator);
    store.hooks().panic_on_party.store(true, Ordering::SeqCst);
    let refused = ledger.submit_blocking(party("a", &key("a/k", 2), &operator));
    assert!(matches!(refused, Err(Refusal::Internal(_))), "{refused:?}");
    assert_eq!(store.size().unwrap(), 0, "nothing of it is written");
    assert_eq!(ledger.health(), SequencerHealth::Running);
    store.hooks().panic_on_party.store(false, Ordering::SeqCst);
    assert_eq!(
        ledger.submit_blocking(party("a", &key("a/k", 2), &operator)),
        Ok(0)
    );
}

#[test]
fn a_batch_that_panics_while_storing_is_refused_and_the_tree_reloads() {
    let operator = key("registry/operator", 1);
    let store = Flaky::default();
    let ledger = start(store.clone(), &operator);
    ledger
        .submit_blocking(party("a", &key("a/k", 2), &operator))
        .unwrap();
    store
        .hooks()
        .panic_on_integrate
        .store(true, Ordering::SeqCst);
    let refused = ledger.submit_blocking(party("b", &key("b/k", 3), &operator));
    assert!(matches!(refused, Err(Refusal::Internal(_))), "{refused:?}");
    assert_eq!(store.size().unwrap(), 1);
    assert_eq!(ledger.health(), SequencerHealth::Running);
    store
        .hooks()
        .panic_on_integrate
        .store(false, Ordering::SeqCst);
    assert_eq!(
        ledger.submit_blocking(party("b", &key("b/k", 3), &operator)),
        Ok(1)
    );
    assert_eq!(ledger.checkpoint().unwrap().0.size(), 2);
}

#[test]
fn a_failed_reload_refuses_writes_as_unavailable_until_the_store_recovers() {
    let operator = key("registry/operator", 1);
    let store = Flaky::default();
    let ledger = start(store.clone(), &operator);
    ledger
        .submit_blocking(party("a", &key("a/k", 2), &operator))
        .unwrap();
    // The batch cannot be stored, and the tree cannot be reloaded.
    store.hooks().fail_integrate.store(true, Ordering::SeqCst);
    store.hooks().fail_size.store(true, Ordering::SeqCst);
    let refused = ledger.submit_blocking(party("b", &key("b/k", 3), &operator));
    assert!(
        matches!(refused, Err(Refusal::Unavailable(_))),
        "{refused:?}"
    );
    assert_eq!(ledger.health(), SequencerHealth::Degraded);
    // Still failing: the next write is refused before anything is judged.
    store.hooks().fail_integrate.store(false, Ordering::SeqCst);
    let refused = ledger.submit_blocking(party("b", &key("b/k", 3), &operator));
    assert!(
        matches!(refused, Err(Refusal::Unavailable(_))),
        "{refused:?}"
    );
    assert_eq!(store.inner().size().unwrap(), 1);
    // Recovered: the tree reloads and writes go on where the log is.
    store.hooks().fail_size.store(false, Ordering::SeqCst);
    assert_eq!(
        ledger.submit_blocking(party("b", &key("b/k", 3), &operator)),
        Ok(1)
    );
    assert_eq!(ledger.health(), SequencerHealth::Running);
}
