//! Stages 4–7 of the lifecycle: the sequencer. One thread owns the right
//! edge of the tree; it takes queued records in batches (group commit),
//! authorises each against the store plus the batch so far, integrates the
//! batch in one durable transaction, checks the new tree against the last
//! checkpoint, signs and swaps in the new checkpoint, and only then answers
//! each caller with its index.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use oretrace_domain::envelope::SignedRecord;
use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::hash::{EMPTY_ROOT, leaf_hash};
use oretrace_tlog::proof::verify_consistency;
use oretrace_tlog::tree::{CompactRange, prove_consistency, range_nodes};

use super::{Shared, StoreHashes};
use crate::agreements::{AgreementState, ClauseState, ReportState, ResourceState, VersionState};
use crate::error::{LedgerError, detail};
use crate::rules::{Authorities, Overlay, Preverified, Refusal, authorise};
use crate::state::{Change, KeyState, LotState, PartyState, ShipmentState, SiteState};
use crate::store::{Batch, EntryRow, StateView, Store, StoreResult};

type Reply = tokio::sync::oneshot::Sender<Result<u64, Refusal>>;

type GroupReply = tokio::sync::oneshot::Sender<Vec<Result<u64, Refusal>>>;

// `One` is the hot path (every `POST /records`): it stays unboxed; the
// rarer `Group` is small because its records are in a Vec.
#[expect(
    clippy::large_enum_variant,
    reason = "`One` is the hot path and stays unboxed"
)]
pub(super) enum Job {
    One {
        record: SignedRecord,
        /// Signature lines the caller's thread already verified.
        pre: Preverified,
        reply: Reply,
    },
    /// Records submitted together (the events of one capture document),
    /// integrated in one batch. `atomic`: all or nothing — if any record
    /// is refused (replays aside: a replay is a duplicate, not an error)
    /// none is written.
    Group {
        records: Vec<(SignedRecord, Preverified)>,
        atomic: bool,
        reply: GroupReply,
    },
}

/// How long one batch may run before the sequencer counts as stalled.
pub const STALL_AFTER: Duration = Duration::from_secs(30);

/// The sequencer's pulse, read by [`Ledger::health`].
#[derive(Debug)]
pub(super) struct Heartbeat {
    epoch: Instant,
    /// Whether the sequencer thread is looping.
    pub(super) alive: AtomicBool,
    /// Whether the last batch left the tree unreadable from the store
    /// (writes are refused until a reload succeeds).
    pub(super) degraded: AtomicBool,
    /// Whether the last batch could not be stored (a full disk, an I/O
    /// error): its writes were refused; the next stored batch clears it.
    pub(super) failing: AtomicBool,
    /// Milliseconds since `epoch` + 1 when the running batch began; 0
    /// while the sequencer waits for work.
    pub(super) busy_since: AtomicU64,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat {
            epoch: Instant::now(),
            alive: AtomicBool::new(true),
            degraded: AtomicBool::new(false),
            failing: AtomicBool::new(false),
            busy_since: AtomicU64::new(0),
        }
    }
}

impl Heartbeat {
    pub(super) fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }
    fn begin(&self) {
        self.busy_since.store(self.now(), Ordering::Release);
    }
    fn end(&self) {
        self.busy_since.store(0, Ordering::Release);
    }
    fn stop(&self) {
        self.alive.store(false, Ordering::Release);
        self.end();
    }
    /// As new, for a sequencer starting after another stopped (a node
    /// promoted again): what the last one went through is not this one's.
    pub(super) fn restart(&self) {
        self.alive.store(true, Ordering::Release);
        self.degraded.store(false, Ordering::Release);
        self.failing.store(false, Ordering::Release);
        self.end();
    }
}

/// Whether the sequencer can take writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SequencerHealth {
    /// Waiting for work, or working on a batch for less than [`STALL_AFTER`].
    Running,
    /// One batch has been running for longer than [`STALL_AFTER`].
    Stalled { busy_for: Duration },
    /// The last batch could not be stored (a full disk, an I/O error) and
    /// was refused (503); the tree was reloaded. Clears once a batch is
    /// stored again.
    Failing,
    /// The store failed and could not be read back: writes are refused
    /// (503) until a later batch reloads the tree.
    Degraded,
    /// The sequencer thread has stopped: no write can succeed.
    Stopped,
    /// This ledger follows another node's sequencer: it serves reads and
    /// refuses writes.
    Follower,
}

/// A reply owed once the batch is durable.
enum Pending {
    One(Reply, u64),
    /// The reply, the group's first index, each record's outcome.
    Group(GroupReply, u64, Vec<Result<u64, Refusal>>),
}

/// What every record of a rolled-back group that was not itself refused
/// is told.
pub const ROLLED_BACK: &str =
    "not written: another record of the same atomic submission was refused";

/// Most entries of each kind the sequencer's [`Cache`] holds; past it that
/// kind is emptied (and refilled from the store on demand).
const CACHE_LIMIT: usize = 1 << 16;

/// The projections the rules read for nearly every record (the signers'
/// keys, the sites and parties records name), as stored after the last
/// committed batch. The sequencer is the only writer of the projections,
/// so an entry stays true until a batch of its own changes it: after each
/// commit the entries the batch changed are dropped, and after any failure
/// everything is. Lots, shipments and record hashes are read from the
/// store every time (most records name a new one).
#[derive(Default)]
struct Cache {
    keys: HashMap<(String, u32), KeyState>,
    sites: HashMap<String, SiteState>,
    parties: HashMap<String, PartyState>,
}

impl Cache {
    /// Drops what a committed batch changed.
    fn forget(&mut self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::PutKey(k) => {
                    self.keys.remove(&(k.name().to_owned(), k.key_id()));
                }
                Change::RemoveKey { name, key_id } => {
                    self.keys.remove(&(name.clone(), *key_id));
                }
                Change::PutSite(s) => {
                    self.sites.remove(s.id().as_str());
                }
                Change::PutParty(p) => {
                    self.parties.remove(p.id().as_str());
                }
                Change::PutLot(_)
                | Change::PutShipment(_)
                | Change::LotEvent { .. }
                | Change::PutEvent(_)
                | Change::PutAgreement(_)
                | Change::PutAgreementVersion(_)
                | Change::PutClause(_)
                | Change::PutProgress(_)
                | Change::PutReport(_)
                | Change::PutResource(_) => {}
            }
        }
    }
}

/// Keeps `value` in `map` under `key`, emptying the map first if it is full.
fn keep<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= CACHE_LIMIT {
        map.clear();
    }
    map.insert(key, value);
}

/// The store as the rules see it from the sequencer: keys, sites and
/// parties through the [`Cache`] (only what exists is cached), the rest
/// straight from the store.
struct CachedView<'a, S: Store> {
    store: &'a S,
    cache: &'a RefCell<Cache>,
}

impl<S: Store> StateView for CachedView<'_, S> {
    fn lot_entries(&self, lot: &str) -> StoreResult<Vec<u64>> {
        self.store.lot_events(lot)
    }

    fn event_index(&self, event_id: &str) -> StoreResult<Option<u64>> {
        self.store.event_index(event_id)
    }

    fn party(&self, id: &str) -> StoreResult<Option<PartyState>> {
        if let Some(p) = self.cache.borrow().parties.get(id) {
            return Ok(Some(p.clone()));
        }
        let found = self.store.party(id)?;
        if let Some(p) = &found {
            keep(
                &mut self.cache.borrow_mut().parties,
                id.to_owned(),
                p.clone(),
            );
        }
        Ok(found)
    }

    fn key(&self, name: &str, key_id: u32) -> StoreResult<Option<KeyState>> {
        let id = (name.to_owned(), key_id);
        if let Some(k) = self.cache.borrow().keys.get(&id) {
            return Ok(Some(k.clone()));
        }
        let found = self.store.key(name, key_id)?;
        if let Some(k) = &found {
            keep(&mut self.cache.borrow_mut().keys, id, k.clone());
        }
        Ok(found)
    }

    fn site(&self, id: &str) -> StoreResult<Option<SiteState>> {
        if let Some(s) = self.cache.borrow().sites.get(id) {
            return Ok(Some(s.clone()));
        }
        let found = self.store.site(id)?;
        if let Some(s) = &found {
            keep(&mut self.cache.borrow_mut().sites, id.to_owned(), s.clone());
        }
        Ok(found)
    }

    fn lot(&self, id: &str) -> StoreResult<Option<LotState>> {
        self.store.lot(id)
    }

    fn shipment(&self, id: &str) -> StoreResult<Option<ShipmentState>> {
        self.store.shipment(id)
    }

    fn agreement(&self, id: &str) -> StoreResult<Option<AgreementState>> {
        self.store.agreement(id)
    }

    fn agreement_version(&self, id: &str, version: u32) -> StoreResult<Option<VersionState>> {
        self.store.agreement_version(id, version)
    }

    fn clause(&self, id: &str, version: u32, clause: u32) -> StoreResult<Option<ClauseState>> {
        self.store.clause(id, version, clause)
    }

    fn report(&self, id: &str) -> StoreResult<Option<ReportState>> {
        self.store.report(id)
    }

    fn resource(&self, id: &str) -> StoreResult<Option<ResourceState>> {
        self.store.resource(id)
    }

    fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>> {
        self.store.entry(index)
    }

    fn find_record(&self, record_hash: &[u8; 32]) -> StoreResult<Option<u64>> {
        self.store.find_record(record_hash)
    }
}

/// The sequencer's own state: the right edge of the stored tree, the
/// published checkpoint and the cached projections.
pub(super) struct Sequencer<S: Store> {
    shared: Arc<Shared<S>>,
    range: CompactRange,
    checkpoint: Checkpoint,
    checkpoint_note: Option<Vec<u8>>,
    max_batch: usize,
    cache: RefCell<Cache>,
    /// Set when a failure left the tree possibly out of step with the
    /// store and reloading it failed too: the next batch reloads first,
    /// and is refused as unavailable if it still cannot.
    stale: bool,
}

impl<S: Store> Sequencer<S> {
    /// Loads the tree from the store, checks it against the published
    /// checkpoint, and publishes a checkpoint covering every stored entry
    /// (entries integrated before a crash included). Writes nothing unless
    /// every check passes.
    pub(super) fn recover(shared: Arc<Shared<S>>, max_batch: usize) -> Result<Self, LedgerError> {
        let store = &shared.store;
        let size = store
            .size()
            .map_err(LedgerError::store("reading the log size"))?;
        let nodes = store
            .read_hashes(&range_nodes(0, size))
            .map_err(LedgerError::store("reading the stored tree"))?;
        let range =
            CompactRange::from_parts(size, nodes).map_err(|source| LedgerError::CorruptTree {
                stored: size,
                source,
            })?;
        let note = store
            .checkpoint()
            .map_err(LedgerError::store("reading the published checkpoint"))?;
        let checkpoint = match &note {
            Some(bytes) => {
                Checkpoint::open(bytes, &shared.log_key.verifier())
                    .map_err(|source| LedgerError::CheckpointKey {
                        origin: shared.log_key.name().to_owned(),
                        source,
                    })?
                    .0
            }
            None => Checkpoint::new(shared.log_key.name(), 0, EMPTY_ROOT).map_err(|source| {
                LedgerError::Signing {
                    origin: shared.log_key.name().to_owned(),
                    source,
                }
            })?,
        };
        if checkpoint.size() > size {
            return Err(LedgerError::CheckpointAhead {
                checkpoint: checkpoint.size(),
                stored: size,
            });
        }
        // A tree of the checkpoint's size must have its root; a larger one
        // is checked by the consistency proof before it is published.
        if checkpoint.size() == size && size > 0 {
            verify_consistency(size, size, &[], checkpoint.root(), &range.root()).map_err(
                |source| LedgerError::Inconsistent {
                    checkpoint: checkpoint.size(),
                    stored: size,
                    source,
                },
            )?;
        }
        let mut sequencer = Sequencer {
            shared,
            range,
            checkpoint,
            checkpoint_note: note,
            max_batch,
            cache: RefCell::default(),
            stale: false,
        };
        if sequencer.checkpoint_note.is_none() || sequencer.checkpoint.size() < size {
            sequencer.publish(&sequencer.range.clone())?;
        }
        Ok(sequencer)
    }

    /// Checks the stored tree against the last checkpoint, then signs and
    /// swaps in a checkpoint for `range`.
    fn publish(&mut self, range: &CompactRange) -> Result<(), LedgerError> {
        let store = &self.shared.store;
        let old = &self.checkpoint;
        let (size, root) = (range.size(), range.root());
        if old.size() > 0 {
            let proof = prove_consistency(old.size(), size, &StoreHashes(store))
                .map_err(LedgerError::tree_read("reading the stored tree", size))?;
            verify_consistency(old.size(), size, &proof, old.root(), &root).map_err(|source| {
                LedgerError::Inconsistent {
                    checkpoint: old.size(),
                    stored: size,
                    source,
                }
            })?;
        }
        let origin = self.shared.log_key.name();
        let signing = |source| LedgerError::Signing {
            origin: origin.to_owned(),
            source,
        };
        let checkpoint = Checkpoint::new(origin, size, root).map_err(signing)?;
        let note = checkpoint
            .sign(&self.shared.log_key)
            .map_err(signing)?
            .to_bytes();
        if !store
            .swap_checkpoint(self.checkpoint_note.as_deref(), &note)
            .map_err(LedgerError::store("swapping in the new checkpoint"))?
        {
            return Err(LedgerError::CheckpointMoved);
        }
        self.shared.remember_verified(&note, &checkpoint);
        self.checkpoint = checkpoint;
        self.checkpoint_note = Some(note);
        Ok(())
    }

    pub(super) fn run(mut self, queue: Receiver<Job>) {
        let health = self.shared.health.clone();
        while let Ok(first) = queue.recv() {
            let mut jobs = vec![first];
            while jobs.len() < self.max_batch {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            health.begin();
            // A panic anywhere in a batch (a bug: the rules refuse bad
            // input with a `Refusal`) must not stop the sequencer. The
            // batch's callers see their replies dropped (an internal
            // error); the tree is reloaded from the store, which holds
            // either the whole batch or none of it.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.process(jobs);
            }));
            if outcome.is_err() {
                tracing::error!("a batch panicked; reloading the tree from the store");
                self.reload();
            }
            health.end();
        }
        health.stop();
    }

    /// Reloads the tree from the store after a failure; on failure marks
    /// the sequencer stale (the next batch tries again first).
    fn reload(&mut self) {
        // Nothing cached can be trusted after a failure.
        *self.cache.get_mut() = Cache::default();
        match Sequencer::recover(self.shared.clone(), self.max_batch) {
            Ok(fresh) => *self = fresh,
            Err(e) => {
                tracing::error!(error = %detail(&e), "could not reload the tree; writes are refused until it can");
                self.stale = true;
            }
        }
        // Before any caller hears of this batch, so that health agrees
        // with the answers already given.
        self.shared
            .health
            .degraded
            .store(self.stale, Ordering::Release);
    }

    fn process(&mut self, jobs: Vec<Job>) {
        if self.stale {
            self.reload();
            if self.stale {
                let refusal = || Refusal::Unavailable("the store cannot be read back".into());
                for job in jobs {
                    match job {
                        Job::One { reply, .. } => {
                            let _ = reply.send(Err(refusal()));
                        }
                        Job::Group { records, reply, .. } => {
                            let _ = reply.send(records.iter().map(|_| Err(refusal())).collect());
                        }
                    }
                }
                return;
            }
        }
        let start = self.range.size();
        let mut batch = Batch::default();
        let mut accepted: Vec<Pending> = Vec::new();
        // One reading of the clock judges the whole batch.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let now = oretrace_domain::values::Timestamp::from_unix(now);
        {
            let view = CachedView {
                store: &self.shared.store,
                cache: &self.cache,
            };
            let mut overlay = Overlay::new(&view);
            for job in jobs {
                match job {
                    Job::One { record, pre, reply } => {
                        let index = start + batch.entries.len() as u64;
                        match guarded_authorise(
                            &overlay,
                            &self.shared.keys,
                            &record,
                            index,
                            &pre,
                            now,
                        ) {
                            Ok(changes) => {
                                let record_hash = record.record_hash();
                                overlay.accept(record_hash, index, &changes);
                                let row = entry_row(&record, index, record_hash);
                                overlay.remember_entry(index, row.entry.clone());
                                batch.entries.push(row);
                                batch.changes.extend(changes);
                                accepted.push(Pending::One(reply, index));
                            }
                            Err(refusal) => {
                                let _ = reply.send(Err(refusal));
                            }
                        }
                    }
                    Job::Group {
                        records,
                        atomic,
                        reply,
                    } => {
                        let first = start + batch.entries.len() as u64;
                        let mut outcomes = Vec::with_capacity(records.len());
                        let mut staged = Vec::new();
                        {
                            let mut group = Overlay::new(&overlay);
                            for (record, pre) in &records {
                                let index = first + staged.len() as u64;
                                match guarded_authorise(
                                    &group,
                                    &self.shared.keys,
                                    record,
                                    index,
                                    pre,
                                    now,
                                ) {
                                    Ok(changes) => {
                                        let record_hash = record.record_hash();
                                        group.accept(record_hash, index, &changes);
                                        let row = entry_row(record, index, record_hash);
                                        group.remember_entry(index, row.entry.clone());
                                        staged.push((row, changes));
                                        outcomes.push(Ok(index));
                                    }
                                    Err(refusal) => outcomes.push(Err(refusal)),
                                }
                            }
                        }
                        let failed = outcomes
                            .iter()
                            .any(|o| matches!(o, Err(r) if !matches!(r, Refusal::Replay { .. })));
                        if atomic && failed {
                            // A replay of a record staged in this group
                            // points at an index that will not be written.
                            let outcomes = outcomes
                                .into_iter()
                                .map(|o| match o {
                                    Ok(_) => Err(Refusal::Unprocessable {
                                        field: "record".into(),
                                        rule: ROLLED_BACK.into(),
                                    }),
                                    Err(Refusal::Replay { index }) if index >= first => {
                                        Err(Refusal::Unprocessable {
                                            field: "record".into(),
                                            rule: ROLLED_BACK.into(),
                                        })
                                    }
                                    refused => refused,
                                })
                                .collect();
                            let _ = reply.send(outcomes);
                            continue;
                        }
                        if staged.is_empty() {
                            let _ = reply.send(outcomes);
                            continue;
                        }
                        for (row, changes) in staged {
                            overlay.accept(row.record_hash, row.index, &changes);
                            overlay.remember_entry(row.index, row.entry.clone());
                            batch.entries.push(row);
                            batch.changes.extend(changes);
                        }
                        accepted.push(Pending::Group(reply, first, outcomes));
                    }
                }
            }
        }
        if accepted.is_empty() {
            return;
        }
        let mut range = self.range.clone();
        for row in &batch.entries {
            range.append(leaf_hash(&row.entry), |id, hash| {
                batch.hashes.push((id, *hash))
            });
        }
        let outcome = self
            .shared
            .store
            .integrate(&batch)
            .map_err(LedgerError::store("storing a batch"))
            .and_then(|()| self.publish(&range));
        match outcome {
            Ok(()) => {
                self.cache.get_mut().forget(&batch.changes);
                self.range = range;
                self.shared.health.failing.store(false, Ordering::Release);
                for pending in accepted {
                    match pending {
                        Pending::One(reply, index) => {
                            let _ = reply.send(Ok(index));
                        }
                        Pending::Group(reply, _, outcomes) => {
                            let _ = reply.send(outcomes);
                        }
                    }
                }
            }
            Err(error) => {
                // The batch may be stored even so (a failed checkpoint
                // swap): the reload drops the cache and re-reads the tree.
                tracing::error!(error = %detail(&error), "batch failed; reloading the tree from the store");
                self.shared.health.failing.store(true, Ordering::Release);
                self.reload();
                let failed = || Refusal::Unavailable(detail(&error));
                for pending in accepted {
                    match pending {
                        Pending::One(reply, _) => {
                            let _ = reply.send(Err(failed()));
                        }
                        Pending::Group(reply, first, outcomes) => {
                            let _ = reply.send(
                                outcomes
                                    .into_iter()
                                    .map(|o| match o {
                                        Ok(_) => Err(failed()),
                                        Err(Refusal::Replay { index }) if index >= first => {
                                            Err(failed())
                                        }
                                        refused => refused,
                                    })
                                    .collect(),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// [`authorise`], with a panic in the rules turned into the refusal of
/// that one record: the sequencer and the other records of the batch go
/// on. The rules only read the view, so nothing is left half-changed.
fn guarded_authorise(
    view: &impl StateView,
    keys: &Authorities,
    record: &SignedRecord,
    index: u64,
    pre: &Preverified,
    now: oretrace_domain::values::Timestamp,
) -> Result<Vec<Change>, Refusal> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        authorise(view, keys, record, index, pre, now)
    }))
    .unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(panic = %why, "the rules panicked on a record; it is refused");
        Err(Refusal::Internal(format!(
            "the rules failed on this record ({why}); it was not written"
        )))
    })
}

fn entry_row(record: &SignedRecord, index: u64, record_hash: [u8; 32]) -> EntryRow {
    EntryRow {
        index,
        entry: record.entry_bytes(),
        record_hash,
        kind: record.record().kind().to_owned(),
    }
}
