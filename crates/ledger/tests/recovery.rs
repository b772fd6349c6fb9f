//! The recovery paths of a start, a reload after a failed batch and a
//! rebuild, each driven into one broken state built on the memory store:
//! a stored checkpoint that does not verify, one that covers more entries
//! than are stored, a stored tree that does not extend the checkpoint, a
//! checkpoint swap lost to another writer, a store that cannot be read.
//! Each gives its own [`LedgerError`], says so in one sentence, and
//! writes nothing.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use common::{key, party, signed};
use oretrace_ledger::faults::{Call, Faulty, Hooks, Interfere};
use oretrace_ledger::ledger::{Ledger, LedgerConfig, SequencerHealth};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::rebuild::rebuild;
use oretrace_ledger::rules::Refusal;
use oretrace_ledger::state::PartyState;
use oretrace_ledger::{LedgerError, Store, StoreError};
use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::note::NoteSigner;

const ORIGIN: &str = "oretrace.test/recovery";

/// The memory store behind switches that break it.
type Broken = Faulty<MemoryStore, Switches>;

#[derive(Default)]
struct Switches {
    /// `swap_checkpoint` finds another checkpoint than the one expected
    /// (another writer moved it) and changes nothing.
    lose_swap: AtomicBool,
    /// `size` fails with an I/O error.
    fail_size: AtomicBool,
    /// `integrate` fails (a full disk).
    fail_integrate: AtomicBool,
    /// `apply_changes` fails (a crash during a rebuild).
    fail_apply: AtomicBool,
}

impl Hooks for Switches {
    fn before(&self, call: Call<'_>) -> Interfere {
        match call {
            Call::Size if self.fail_size.load(Ordering::SeqCst) => {
                Interfere::Fail(StoreError::new(
                    oretrace_ledger::ErrorKind::Unavailable,
                    "I/O error (simulated)",
                ))
            }
            Call::Integrate { .. } if self.fail_integrate.load(Ordering::SeqCst) => {
                Interfere::Fail(StoreError::new(
                    oretrace_ledger::ErrorKind::Unavailable,
                    "disk full (simulated)",
                ))
            }
            Call::ApplyChanges { .. } if self.fail_apply.load(Ordering::SeqCst) => {
                Interfere::Fail(StoreError::new(
                    oretrace_ledger::ErrorKind::Unavailable,
                    "connection lost (simulated)",
                ))
            }
            Call::SwapCheckpoint { .. } if self.lose_swap.load(Ordering::SeqCst) => {
                Interfere::LoseSwap
            }
            _ => Interfere::Proceed,
        }
    }
}

fn operator() -> NoteSigner {
    key("registry/operator", 1)
}

fn log_key() -> NoteSigner {
    key(ORIGIN, 9)
}

fn start(store: &Broken) -> Result<Ledger<Broken>, LedgerError> {
    start_with(store, log_key())
}

fn start_with(store: &Broken, log_key: NoteSigner) -> Result<Ledger<Broken>, LedgerError> {
    Ledger::start(
        store.clone(),
        log_key,
        operator().verifier(),
        LedgerConfig::default(),
    )
}

/// A store holding the registrations of `ids` (in that order), each
/// party with its own key, and a checkpoint covering them.
fn log_of(ids: &[&str]) -> Broken {
    let store = Broken::default();
    let ledger = start(&store).unwrap();
    let operator = operator();
    for (seed, id) in (10u8..).zip(ids) {
        let k = key(&format!("{id}/k"), seed);
        ledger
            .submit_blocking(signed(party(id, &k, "PK"), &[&k, &operator]))
            .unwrap();
    }
    store
}

/// Everything a start or rebuild could write: the log, the published
/// checkpoint and the projections.
#[derive(Debug, PartialEq)]
struct Written {
    size: u64,
    entries: Vec<Vec<u8>>,
    checkpoint: Option<Vec<u8>>,
    parties: Vec<PartyState>,
}

fn written(store: &Broken) -> Written {
    let size = store.inner().size().unwrap();
    Written {
        size,
        entries: store.inner().read_entries(0, size).unwrap(),
        checkpoint: store.inner().checkpoint().unwrap(),
        parties: store.inner().parties(None, usize::MAX).unwrap(),
    }
}

/// Replaces the published checkpoint with `note`, as a damaged or
/// tampered store would hold it.
fn put_checkpoint(store: &Broken, note: &[u8]) {
    let old = store.inner().checkpoint().unwrap();
    assert!(store.inner().swap_checkpoint(old.as_deref(), note).unwrap());
}

fn checkpoint_of(store: &Broken) -> Vec<u8> {
    store.inner().checkpoint().unwrap().unwrap()
}

/// `note` with one byte of its signature flipped.
fn bad_signature(note: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(note).unwrap();
    let (body, line) = text.trim_end_matches('\n').rsplit_once('\n').unwrap();
    let (name, sig) = line.rsplit_once(' ').unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut raw = b64.decode(sig).unwrap();
    raw[10] ^= 0x01;
    format!("{body}\n{name} {}\n", b64.encode(raw)).into_bytes()
}

/// The error, asserted to carry no `Debug` syntax in its sentence.
fn sentence(e: &LedgerError) -> String {
    let text = e.to_string();
    assert!(
        !text.contains('{') && !text.contains("Internal(") && !text.contains("StoreError"),
        "{text}"
    );
    text
}

#[test]
fn a_checkpoint_whose_signature_does_not_verify_stops_the_start_and_writes_nothing() {
    let store = log_of(&["a", "b"]);
    put_checkpoint(&store, &bad_signature(&checkpoint_of(&store)));
    let before = written(&store);
    let e = start(&store).unwrap_err();
    match &e {
        LedgerError::CheckpointKey { origin, source } => {
            assert_eq!(origin, ORIGIN);
            assert!(
                matches!(source, oretrace_tlog::Error::BadSignature { .. }),
                "{source:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sentence(&e),
        "the stored checkpoint does not verify with the log key of oretrace.test/recovery; \
         start with the log key this store was created with"
    );
    assert_eq!(written(&store), before);

    // A rebuild refuses it too, before dropping any projection.
    let e = rebuild(&store, &log_key().verifier(), &operator().verifier()).unwrap_err();
    assert!(matches!(e, LedgerError::CheckpointKey { .. }), "{e:?}");
    assert_eq!(written(&store), before);
}

#[test]
fn another_log_key_of_the_same_name_stops_the_start_and_writes_nothing() {
    let store = log_of(&["a"]);
    let before = written(&store);
    let e = start_with(&store, key(ORIGIN, 99)).unwrap_err();
    match &e {
        LedgerError::CheckpointKey { source, .. } => assert!(
            matches!(source, oretrace_tlog::Error::UnknownKey { .. }),
            "{source:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(written(&store), before);
}

#[test]
fn a_checkpoint_covering_more_than_is_stored_stops_the_start_and_writes_nothing() {
    // The same log's checkpoint at size 3 over a store that lost entry 2.
    let longer = log_of(&["a", "b", "c"]);
    let store = log_of(&["a", "b"]);
    put_checkpoint(&store, &checkpoint_of(&longer));
    let before = written(&store);
    let e = start(&store).unwrap_err();
    assert!(
        matches!(
            e,
            LedgerError::CheckpointAhead {
                checkpoint: 3,
                stored: 2
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        sentence(&e),
        "the stored checkpoint covers 3 entries but the store holds only 2: entries are \
         missing; restore the store from a backup"
    );
    assert_eq!(written(&store), before);

    let e = rebuild(&store, &log_key().verifier(), &operator().verifier()).unwrap_err();
    assert!(
        matches!(
            e,
            LedgerError::CheckpointAhead {
                checkpoint: 3,
                stored: 2
            }
        ),
        "{e:?}"
    );
    assert_eq!(written(&store), before);
}

#[test]
fn a_stored_tree_that_does_not_extend_the_checkpoint_stops_the_start_and_writes_nothing() {
    // The checkpoint of a log [a, b] over a store holding [a, c, d]: the
    // entries past it are uncovered, and the proof that the stored tree
    // extends the checkpoint fails before anything is signed.
    let published = log_of(&["a", "b"]);
    let store = log_of(&["a", "c", "d"]);
    put_checkpoint(&store, &checkpoint_of(&published));
    let before = written(&store);
    let e = start(&store).unwrap_err();
    match &e {
        LedgerError::Inconsistent {
            checkpoint: 2,
            stored: 3,
            source,
        } => assert!(
            matches!(source, oretrace_tlog::Error::ProofMismatch { .. }),
            "{source:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sentence(&e),
        "the 3 stored entries are not consistent with the published checkpoint of 2: the \
         stored log was changed; restore the store from a backup"
    );
    assert_eq!(written(&store), before);
}

#[test]
fn a_stored_tree_of_the_checkpoints_size_with_another_root_stops_the_start() {
    // [a, c] under the checkpoint of [a, b]: nothing is uncovered, yet the
    // stored tree is not the published one.
    let published = log_of(&["a", "b"]);
    let store = log_of(&["a", "c"]);
    put_checkpoint(&store, &checkpoint_of(&published));
    let before = written(&store);
    let e = start(&store).unwrap_err();
    assert!(
        matches!(
            e,
            LedgerError::Inconsistent {
                checkpoint: 2,
                stored: 2,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(written(&store), before);

    // A rebuild recomputes the root from the entries and says the same.
    let e = rebuild(&store, &log_key().verifier(), &operator().verifier()).unwrap_err();
    let (checkpoint, _) = Checkpoint::open(&checkpoint_of(&store), &log_key().verifier()).unwrap();
    match &e {
        LedgerError::RootMismatch {
            size: 2,
            computed,
            expected,
        } => {
            assert_eq!(expected, checkpoint.root());
            assert_ne!(computed, checkpoint.root());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        sentence(&e).ends_with(": the stored log was changed; restore the store from a backup")
    );
}

#[test]
fn a_lost_checkpoint_swap_refuses_the_batch_and_stops_a_start_that_would_publish() {
    let store = log_of(&["a"]);
    let ledger = start(&store).unwrap();
    let (published, note) = ledger.checkpoint().unwrap();
    store.hooks().lose_swap.store(true, Ordering::SeqCst);
    let (operator, k) = (operator(), key("b/k", 11));
    let refused = ledger.submit_blocking(signed(party("b", &k, "PK"), &[&k, &operator]));
    assert_eq!(
        refused,
        Err(Refusal::Unavailable(
            "the published checkpoint was changed by another writer; make sure only one \
             oretrace process writes to this store, then start again"
                .into()
        ))
    );
    // The batch was stored but not published: the reload would publish
    // it and loses the swap again, so writes wait for a reload that works.
    assert_eq!(store.inner().size().unwrap(), 2);
    assert_eq!(ledger.checkpoint().unwrap().1, note);
    assert_eq!(ledger.health(), SequencerHealth::Degraded);
    drop(ledger);

    let before = written(&store);
    let e = start(&store).unwrap_err();
    assert!(matches!(e, LedgerError::CheckpointMoved), "{e:?}");
    assert_eq!(written(&store), before);

    // Once the store is this ledger's alone again, the stored entry is
    // published.
    store.hooks().lose_swap.store(false, Ordering::SeqCst);
    let ledger = start(&store).unwrap();
    let (now, _) = ledger.checkpoint().unwrap();
    assert_eq!((published.size(), now.size()), (1, 2));
}

#[test]
fn a_store_that_cannot_be_read_stops_the_start_and_names_what_failed() {
    let store = log_of(&["a"]);
    store.hooks().fail_size.store(true, Ordering::SeqCst);
    let before = written(&store);
    let e = start(&store).unwrap_err();
    match &e {
        LedgerError::Store { action, source } => {
            assert_eq!(*action, "reading the log size");
            assert_eq!(source.to_string(), "storage: I/O error (simulated)");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sentence(&e),
        "the store failed while reading the log size; check the disk and the data directory, \
         then try again"
    );
    let source = std::error::Error::source(&e).unwrap();
    assert_eq!(source.to_string(), "storage: I/O error (simulated)");
    assert_eq!(written(&store), before);

    let e = rebuild(&store, &log_key().verifier(), &operator().verifier()).unwrap_err();
    assert!(
        matches!(
            e,
            LedgerError::Store {
                action: "reading the log size",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn a_reload_that_finds_a_bad_checkpoint_refuses_writes_until_it_is_restored() {
    let store = log_of(&["a"]);
    let ledger = start(&store).unwrap();
    let good = checkpoint_of(&store);
    // A batch fails to be stored, and the reload after it finds the
    // checkpoint damaged.
    store.hooks().fail_integrate.store(true, Ordering::SeqCst);
    put_checkpoint(&store, &bad_signature(&good));
    let (operator, k) = (operator(), key("b/k", 11));
    let record = || signed(party("b", &k, "PK"), &[&k, &operator]);
    assert_eq!(
        ledger.submit_blocking(record()),
        Err(Refusal::Unavailable(
            "the store failed while storing a batch; check the disk and the data directory, \
             then try again: storage: disk full (simulated)"
                .into()
        ))
    );
    assert_eq!(ledger.health(), SequencerHealth::Degraded);
    // The store takes writes again, but the tree cannot be reloaded: the
    // next write is refused before it is judged, and nothing is written.
    store.hooks().fail_integrate.store(false, Ordering::SeqCst);
    let before = written(&store);
    assert_eq!(
        ledger.submit_blocking(record()),
        Err(Refusal::Unavailable("the store cannot be read back".into()))
    );
    assert_eq!(written(&store), before);
    assert_eq!(ledger.health(), SequencerHealth::Degraded);
    // Restored: the tree reloads and writes go on where the log is.
    put_checkpoint(&store, &good);
    assert_eq!(ledger.submit_blocking(record()), Ok(1));
    assert_eq!(ledger.health(), SequencerHealth::Running);
}

#[test]
fn a_rebuild_without_a_checkpoint_or_with_another_operator_says_so() {
    let empty = Broken::default();
    let e = rebuild(&empty, &log_key().verifier(), &operator().verifier()).unwrap_err();
    assert!(matches!(e, LedgerError::NoCheckpoint), "{e:?}");
    assert_eq!(
        sentence(&e),
        "the store has no published checkpoint to rebuild from; start the ledger on it once \
         to publish one"
    );

    // The registrations need the operator's signature: under another
    // operator key the first entry is refused on replay.
    let store = log_of(&["a"]);
    let e = rebuild(
        &store,
        &log_key().verifier(),
        &key("other/operator", 7).verifier(),
    )
    .unwrap_err();
    match &e {
        LedgerError::ReplayRefused { index: 0, source } => {
            assert!(matches!(source, Refusal::Unauthenticated(_)), "{source:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sentence(&e),
        "entry 0 of the log is refused on replay; check that the operator key given is the one \
         the log was written with"
    );
}

/// A rebuild that stopped after clearing the projections (a crash, a lost
/// connection) leaves the store saying so, and the next start finishes
/// it: the projections come back as they were.
#[test]
fn a_rebuild_stopped_part_way_is_finished_by_the_next_start() {
    let store = log_of(&["a", "b", "c"]);
    let before = written(&store);
    store.hooks().fail_apply.store(true, Ordering::SeqCst);
    let e = rebuild(&store, &log_key().verifier(), &operator().verifier()).unwrap_err();
    assert!(matches!(e, LedgerError::Store { .. }), "{e:?}");
    assert_eq!(store.inner().rebuild_progress().unwrap(), Some(0));
    assert!(store.inner().parties(None, usize::MAX).unwrap().is_empty());
    store.hooks().fail_apply.store(false, Ordering::SeqCst);

    let ledger = start(&store).unwrap();
    drop(ledger);
    assert_eq!(store.inner().rebuild_progress().unwrap(), None);
    assert_eq!(written(&store), before);
}

/// A log copied into an empty store is the same log, byte for byte, with
/// the same projections; a store that already holds a log is refused.
#[test]
fn a_log_copies_into_an_empty_store_and_nowhere_else() {
    use oretrace_ledger::store::{NamedQueryRow, Quota, SubscriptionRow};
    let from = log_of(&["a", "b", "c"]);
    // Kept beside the log: copied with it, delivery state and all.
    let quota = Quota {
        per_owner: 9,
        total: 9,
    };
    let query = NamedQueryRow {
        name: "q".into(),
        owner: "a".into(),
        query: "{}".into(),
    };
    let subscription = SubscriptionRow {
        id: "s".into(),
        owner: "c".into(),
        query: "q".into(),
        spec: "{}".into(),
        progress: "{\"cursor\":2}".into(),
        due_ms: Some(7),
        version: 0,
    };
    from.insert_named_query(&query, quota).unwrap();
    from.insert_subscription(&subscription, quota).unwrap();
    assert!(
        from.advance_subscription("s", 0, "{\"cursor\":3}", Some(8))
            .unwrap()
    );
    let to = Broken::default();
    let report = oretrace_ledger::rebuild::copy_log(
        &from,
        &to,
        &log_key().verifier(),
        &operator().verifier(),
        &LedgerConfig::default(),
    )
    .unwrap();
    assert_eq!(report.entries, 3);
    assert_eq!(report.kept, 2);
    assert_eq!(to.named_query("q").unwrap(), Some(query));
    assert_eq!(
        to.subscription("s").unwrap(),
        from.subscription("s").unwrap()
    );
    assert_eq!(written(&to), written(&from));
    let (checkpoint, _) = Checkpoint::open(&checkpoint_of(&to), &log_key().verifier()).unwrap();
    assert_eq!(report.root, *checkpoint.root());
    // The copy serves as a ledger of its own.
    drop(start(&to).unwrap());

    let e = oretrace_ledger::rebuild::copy_log(
        &from,
        &to,
        &log_key().verifier(),
        &operator().verifier(),
        &LedgerConfig::default(),
    )
    .unwrap_err();
    assert!(
        matches!(e, LedgerError::TargetNotEmpty { size: 3 }),
        "{e:?}"
    );

    // Under another operator key the first registration is refused:
    // nothing is written, and the copy can be made again.
    let fresh = Broken::default();
    let e = oretrace_ledger::rebuild::copy_log(
        &from,
        &fresh,
        &log_key().verifier(),
        &key("other/operator", 7).verifier(),
        &LedgerConfig::default(),
    )
    .unwrap_err();
    assert!(
        matches!(e, LedgerError::ReplayRefused { index: 0, .. }),
        "{e:?}"
    );
    assert_eq!(fresh.inner().size().unwrap(), 0);
    assert_eq!(fresh.inner().checkpoint().unwrap(), None);

    // A copy that stops part way (a crash after its first chunk was
    // written) leaves a store no ledger starts on: nothing is published.
    let partial = Broken::default();
    partial.hooks().fail_integrate.store(true, Ordering::SeqCst);
    let e = oretrace_ledger::rebuild::copy_log(
        &from,
        &partial,
        &log_key().verifier(),
        &operator().verifier(),
        &LedgerConfig::default(),
    )
    .unwrap_err();
    assert!(matches!(e, LedgerError::Store { .. }), "{e:?}");
    partial
        .hooks()
        .fail_integrate
        .store(false, Ordering::SeqCst);
    // As if the first chunk had been written before the crash.
    let entries = from.inner().read_entries(0, 2).unwrap();
    let mut batch = oretrace_ledger::Batch::default();
    let mut range = oretrace_tlog::tree::CompactRange::new();
    for (index, entry) in (0u64..).zip(entries) {
        let signed = oretrace_domain::envelope::SignedRecord::from_entry(&entry).unwrap();
        range.append(oretrace_tlog::hash::leaf_hash(&entry), |id, hash| {
            batch.hashes.push((id, *hash));
        });
        batch.entries.push(oretrace_ledger::EntryRow {
            index,
            record_hash: signed.record_hash(),
            kind: signed.record().kind().to_owned(),
            entry,
        });
    }
    partial.inner().integrate(&batch).unwrap();
    let e = start(&partial).unwrap_err();
    assert!(
        matches!(e, LedgerError::UnfinishedCopy { size: 2 }),
        "{e:?}"
    );
    assert_eq!(
        partial.inner().checkpoint().unwrap(),
        None,
        "nothing published"
    );
}

/// A follower serves reads and refuses writes, naming where the
/// sequencer is; promoted, it recovers the stored tree and sequences from
/// where the log stopped; demoted, it refuses writes again.
#[test]
fn a_follower_refuses_writes_until_promoted_and_again_once_demoted() {
    let store = log_of(&["a", "b"]);
    let ledger = Ledger::follow(
        store.clone(),
        log_key(),
        operator().verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    assert_eq!(ledger.role(), oretrace_ledger::ledger::Role::Follower);
    assert_eq!(ledger.health(), SequencerHealth::Follower);
    assert_eq!(ledger.checkpoint().unwrap().0.size(), 2, "reads are served");
    ledger.set_node_status(oretrace_ledger::ledger::NodeStatus {
        node: Some("n2".into()),
        epoch: None,
        sequencer: Some("http://n1.example".into()),
    });
    let operator = operator();
    let k = key("c/k", 40);
    let record = || signed(party("c", &k, "PK"), &[&k, &operator]);
    match ledger.submit_blocking(record()) {
        Err(Refusal::NotSequencer { sequencer }) => {
            assert_eq!(sequencer.as_deref(), Some("http://n1.example"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.inner().size().unwrap(), 2, "nothing written");

    ledger.promote().unwrap();
    assert_eq!(ledger.role(), oretrace_ledger::ledger::Role::Sequencer);
    assert_eq!(ledger.submit_blocking(record()).unwrap(), 2);
    ledger.demote();
    assert!(matches!(
        ledger.submit_blocking(signed(
            party("d", &key("d/k", 41), "PK"),
            &[&key("d/k", 41), &operator]
        )),
        Err(Refusal::NotSequencer { .. })
    ));
    assert_eq!(ledger.checkpoint().unwrap().0.size(), 3);
    assert_eq!(ledger.health(), SequencerHealth::Follower);

    // Promoted again, it is healthy and writes (what its last sequencer
    // went through is not carried over).
    ledger.promote().unwrap();
    assert_eq!(ledger.health(), SequencerHealth::Running);
    let k = key("e/k", 42);
    assert_eq!(
        ledger
            .submit_blocking(signed(party("e", &k, "PK"), &[&k, &operator]))
            .unwrap(),
        3
    );
    drop(ledger);

    // A follower of another log's store is refused at once.
    let other = Ledger::follow(
        store.clone(),
        key(ORIGIN, 77),
        operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap_err();
    assert!(
        matches!(other, LedgerError::CheckpointKey { .. }),
        "{other:?}"
    );
}
