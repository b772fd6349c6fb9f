//! Stages 4–7 of the lifecycle: the sequencer. One thread owns the right
//! edge of the tree; it takes queued records in batches (group commit),
//! authorises each against the store plus the batch so far, integrates the
//! batch in one durable transaction, checks the new tree against the last
//! checkpoint, signs and swaps in the new checkpoint, and only then answers
//! each caller with its index.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use oretrace_domain::envelope::SignedRecord;
use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::hash::{EMPTY_ROOT, Hash, leaf_hash};
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use oretrace_tlog::proof::verify_consistency;
use oretrace_tlog::receipt::Receipt;
use oretrace_tlog::tile::{TILE_HEIGHT, TILE_WIDTH, TileId, TileKind, push_bundle_entry};
use oretrace_tlog::tree::{
    CompactRange, HashReader, NodeId, prove_consistency, prove_inclusion, range_nodes,
};

use crate::rules::{
    Authorities, DocumentChecks, Overlay, Preverified, Refusal, authorise, preverify,
};
use crate::state::{Change, KeyState, LotState, PartyState, ShipmentState, SiteState};
use crate::store::{Batch, EntryRow, StateView, Store, StoreResult};

/// Tuning of the sequencer.
#[derive(Clone, Copy, Debug)]
pub struct LedgerConfig {
    /// Most records integrated in one transaction.
    pub max_batch: usize,
    /// Most records waiting; beyond it submissions are refused as
    /// overloaded (HTTP 503 with Retry-After).
    pub queue: usize,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            max_batch: 1000,
            queue: 20_000,
        }
    }
}

/// Reads a store's hashes as a [`HashReader`].
#[derive(Debug)]
pub struct StoreHashes<'a, S: Store>(pub &'a S);

impl<S: Store> HashReader for StoreHashes<'_, S> {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, oretrace_tlog::Error> {
        self.0
            .read_hashes(ids)
            .map_err(|e| oretrace_tlog::Error::Reader {
                id: ids.first().copied().unwrap_or(NodeId::new(0, 0)),
                source: Box::new(e),
            })
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<u64, Refusal>>;

type GroupReply = tokio::sync::oneshot::Sender<Vec<Result<u64, Refusal>>>;

// `One` is the hot path (every `POST /records`): it stays unboxed; the
// rarer `Group` is small because its records are in a Vec.
#[allow(clippy::large_enum_variant)]
enum Job {
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

/// What makes two captured events' document-signature checks the same:
/// the document, the behaviour, the capturer and the signature lines.
fn group_auth_key(event: &oretrace_domain::event::CapturedEvent) -> Vec<u8> {
    let mut key = event.captured_by().as_str().as_bytes().to_vec();
    key.push(b'\n');
    if let oretrace_domain::event::CaptureAuth::Signed {
        document,
        behaviour,
        signatures,
    } = event.auth()
    {
        key.extend_from_slice(document.bytes());
        key.extend_from_slice(behaviour.as_str().as_bytes());
        for s in signatures {
            key.push(b'\n');
            key.extend_from_slice(s.to_string().as_bytes());
        }
    }
    key
}

/// How long one batch may run before the sequencer counts as stalled.
pub const STALL_AFTER: Duration = Duration::from_secs(30);

/// The sequencer's pulse, read by [`Ledger::health`].
#[derive(Debug)]
struct Heartbeat {
    epoch: Instant,
    /// Whether the sequencer thread is looping.
    alive: AtomicBool,
    /// Whether the last batch left the tree unreadable from the store
    /// (writes are refused until a reload succeeds).
    degraded: AtomicBool,
    /// Whether the last batch could not be stored (a full disk, an I/O
    /// error): its writes were refused; the next stored batch clears it.
    failing: AtomicBool,
    /// Milliseconds since `epoch` + 1 when the running batch began; 0
    /// while the sequencer waits for work.
    busy_since: AtomicU64,
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
    fn now(&self) -> u64 {
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
}

/// A record signed by this ledger's log key alone
/// ([`Ledger::sign_as_registry`]); only the ledger makes one.
#[derive(Debug)]
pub struct RegistrySigned(SignedRecord);

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

struct Shared<S: Store> {
    store: S,
    log_key: NoteSigner,
    keys: Authorities,
    /// The last checkpoint note known to verify with the log key (signed
    /// by the sequencer, or verified once when read), so that reading the
    /// same note again (every receipt does) skips the signature check.
    /// Keyed by the note's exact bytes: any other note is verified.
    verified: Mutex<Option<(Vec<u8>, Checkpoint)>>,
    /// Whether the sequencer runs and how long its current batch has run.
    health: Arc<Heartbeat>,
}

impl<S: Store> Shared<S> {
    fn remember_verified(&self, note: &[u8], checkpoint: &Checkpoint) {
        *self.verified.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((note.to_vec(), checkpoint.clone()));
    }
}

/// The ledger: submit signed records, read receipts and tiles.
pub struct Ledger<S: Store> {
    shared: Arc<Shared<S>>,
    queue: Option<SyncSender<Job>>,
    sequencer: Option<JoinHandle<()>>,
}

impl<S: Store> std::fmt::Debug for Ledger<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ledger({})", self.shared.log_key.name())
    }
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    Refusal::Internal(e.to_string())
}

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
                    self.keys.remove(&(k.name.clone(), k.key_id));
                }
                Change::RemoveKey { name, key_id } => {
                    self.keys.remove(&(name.clone(), *key_id));
                }
                Change::PutSite(s) => {
                    self.sites.remove(&s.id);
                }
                Change::PutParty(p) => {
                    self.parties.remove(&p.id);
                }
                Change::PutLot(_)
                | Change::PutShipment(_)
                | Change::LotEvent { .. }
                | Change::PutEvent(_) => {}
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

    fn find_record(&self, record_hash: &[u8; 32]) -> StoreResult<Option<u64>> {
        self.store.find_record(record_hash)
    }
}

/// The sequencer's own state: the right edge of the stored tree, the
/// published checkpoint and the cached projections.
struct Sequencer<S: Store> {
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
    /// Loads the tree from the store and publishes a checkpoint covering
    /// every stored entry (entries integrated before a crash included).
    fn recover(shared: Arc<Shared<S>>, max_batch: usize) -> Result<Self, Refusal> {
        let store = &shared.store;
        let size = store.size()?;
        let nodes = store.read_hashes(&range_nodes(0, size))?;
        let range = CompactRange::from_parts(size, nodes).map_err(internal)?;
        let note = store.checkpoint()?;
        let checkpoint = match &note {
            Some(bytes) => {
                Checkpoint::open(bytes, &shared.log_key.verifier())
                    .map_err(|e| {
                        internal(format!(
                            "the stored checkpoint does not verify with this log key: {e}"
                        ))
                    })?
                    .0
            }
            None => Checkpoint::new(shared.log_key.name(), 0, EMPTY_ROOT).map_err(internal)?,
        };
        if checkpoint.size() > size {
            return Err(internal(format!(
                "the checkpoint covers {} entries but only {size} are stored",
                checkpoint.size()
            )));
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
    fn publish(&mut self, range: &CompactRange) -> Result<(), Refusal> {
        let store = &self.shared.store;
        let old = &self.checkpoint;
        let (size, root) = (range.size(), range.root());
        if old.size() > 0 {
            let proof =
                prove_consistency(old.size(), size, &StoreHashes(store)).map_err(internal)?;
            verify_consistency(old.size(), size, &proof, old.root(), &root).map_err(|e| {
                internal(format!(
                    "stored tree is not consistent with the last checkpoint: {e}"
                ))
            })?;
        }
        let checkpoint =
            Checkpoint::new(self.shared.log_key.name(), size, root).map_err(internal)?;
        let note = checkpoint
            .sign(&self.shared.log_key)
            .map_err(internal)?
            .to_bytes();
        if !store.swap_checkpoint(self.checkpoint_note.as_deref(), &note)? {
            return Err(internal("the checkpoint was moved by another writer"));
        }
        self.shared.remember_verified(&note, &checkpoint);
        self.checkpoint = checkpoint;
        self.checkpoint_note = Some(note);
        Ok(())
    }

    fn run(mut self, queue: Receiver<Job>) {
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
                tracing::error!(error = %refusal_detail(&e), "could not reload the tree; writes are refused until it can");
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
                                batch.entries.push(entry_row(&record, index, record_hash));
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
                                        staged
                                            .push((entry_row(record, index, record_hash), changes));
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
            .map_err(Refusal::from)
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
            Err(refusal) => {
                // The batch may be stored even so (a failed checkpoint
                // swap): the reload drops the cache and re-reads the tree.
                tracing::error!(error = %refusal_detail(&refusal), "batch failed; reloading the tree from the store");
                self.shared.health.failing.store(true, Ordering::Release);
                self.reload();
                let failed = || Refusal::Unavailable(refusal_detail(&refusal));
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

fn refusal_detail(r: &Refusal) -> String {
    match r {
        Refusal::Internal(detail) | Refusal::Unavailable(detail) => detail.clone(),
        other => other.to_string(),
    }
}

impl<S: Store> Ledger<S> {
    /// Opens the ledger on `store`: recovers the tree, publishes a
    /// checkpoint for any entries a crash left uncovered, and starts the
    /// sequencer thread.
    pub fn start(
        store: S,
        log_key: NoteSigner,
        operator: NoteVerifier,
        config: LedgerConfig,
    ) -> Result<Self, Refusal> {
        let keys = Authorities {
            operator,
            log: log_key.verifier(),
        };
        let shared = Arc::new(Shared {
            store,
            log_key,
            keys,
            verified: Mutex::new(None),
            health: Arc::new(Heartbeat::default()),
        });
        let sequencer = Sequencer::recover(shared.clone(), config.max_batch.max(1))?;
        let (tx, rx) = sync_channel(config.queue.max(1));
        let handle = std::thread::Builder::new()
            .name("oretrace-sequencer".into())
            .spawn(move || sequencer.run(rx))
            .map_err(internal)?;
        Ok(Ledger {
            shared,
            queue: Some(tx),
            sequencer: Some(handle),
        })
    }

    /// Checks the signatures on the calling thread (so that the one
    /// sequencer thread only compares keys) and queues the record.
    fn enqueue(
        &self,
        record: SignedRecord,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<u64, Refusal>>, Refusal> {
        let pre = preverify(&self.shared.store, &self.shared.keys, &record);
        self.enqueue_checked(record, pre)
    }

    fn enqueue_checked(
        &self,
        record: SignedRecord,
        pre: Preverified,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<u64, Refusal>>, Refusal> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| internal("the ledger is shutting down"))?;
        match queue.try_send(Job::One { record, pre, reply }) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_)) => Err(Refusal::Overloaded),
            Err(TrySendError::Disconnected(_)) => {
                Err(Refusal::Unavailable("the sequencer has stopped".into()))
            }
        }
    }

    /// Submits a signed record; resolves with its log index once the entry
    /// is durable and covered by a published checkpoint.
    pub async fn submit(&self, record: SignedRecord) -> Result<u64, Refusal> {
        // Store reads and Ed25519 verification block: keep them off the
        // async workers.
        let shared = self.shared.clone();
        let (record, pre) = tokio::task::spawn_blocking(move || {
            let pre = preverify(&shared.store, &shared.keys, &record);
            (record, pre)
        })
        .await
        .map_err(internal)?;
        let rx = self.enqueue_checked(record, pre)?;
        rx.await
            .map_err(|_| internal("the sequencer dropped the record"))?
    }

    /// [`Ledger::submit`] for callers outside an async runtime.
    pub fn submit_blocking(&self, record: SignedRecord) -> Result<u64, Refusal> {
        let rx = self.enqueue(record)?;
        rx.blocking_recv()
            .map_err(|_| internal("the sequencer dropped the record"))?
    }

    /// Submits many records without waiting between them; returns each
    /// outcome in order once all are settled.
    pub fn submit_all_blocking(&self, records: Vec<SignedRecord>) -> Vec<Result<u64, Refusal>> {
        let pending: Vec<_> = records.into_iter().map(|r| self.enqueue(r)).collect();
        pending
            .into_iter()
            .map(|p| {
                p.and_then(|rx| {
                    rx.blocking_recv()
                        .map_err(|_| internal("the sequencer dropped the record"))?
                })
            })
            .collect()
    }

    /// Submits records the ledger signed with its log key (the events of
    /// one capture document) together, and resolves with each one's
    /// outcome once they are durable and covered by a checkpoint. With
    /// `atomic`, either every record that is not a replay is written or
    /// none is (the others are told [`ROLLED_BACK`]). Checks run off the
    /// sequencer: the event hashes, and the detached document signatures
    /// once for all the events that carry the same ones; the log key's
    /// signatures are this ledger's own, made a moment ago.
    pub async fn submit_group(
        &self,
        records: Vec<RegistrySigned>,
        atomic: bool,
    ) -> Result<Vec<Result<u64, Refusal>>, Refusal> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let shared = self.shared.clone();
        let records = tokio::task::spawn_blocking(move || {
            let keys = &shared.keys;
            let own = (
                keys.log.name().to_owned(),
                keys.log.key_id(),
                keys.log.to_vkey(),
            );
            let mut out: Vec<(SignedRecord, Preverified)> = Vec::with_capacity(records.len());
            let mut last: Option<(Vec<u8>, DocumentChecks)> = None;
            for RegistrySigned(record) in records {
                let mut pre = match record.record() {
                    oretrace_domain::Record::Event(event) => {
                        let key = group_auth_key(event);
                        let documents = match &last {
                            Some((k, documents)) if *k == key => documents.clone(),
                            _ => {
                                let documents =
                                    crate::capture::preverify_documents(&shared.store, keys, event);
                                last = Some((key, documents.clone()));
                                documents
                            }
                        };
                        Preverified {
                            documents,
                            event_hash: crate::capture::checked_hash(event),
                            ..Preverified::default()
                        }
                    }
                    _ => preverify(&shared.store, keys, &record),
                };
                pre.lines.push(own.clone());
                out.push((record, pre));
            }
            out
        })
        .await
        .map_err(internal)?;
        let (reply, rx) = tokio::sync::oneshot::channel();
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| internal("the ledger is shutting down"))?;
        match queue.try_send(Job::Group {
            records,
            atomic,
            reply,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(Refusal::Overloaded),
            Err(TrySendError::Disconnected(_)) => {
                return Err(Refusal::Unavailable("the sequencer has stopped".into()));
            }
        }
        rx.await
            .map_err(|_| internal("the sequencer dropped the records"))
    }

    /// Signs a record with the log key alone: how the registry states what
    /// it captured through its EPCIS interface. The ledger still authorises
    /// it like any other record when it is submitted ([`Ledger::submit_group`]).
    pub fn sign_as_registry(
        &self,
        record: oretrace_domain::Record,
    ) -> Result<RegistrySigned, Refusal> {
        SignedRecord::sign(record, &[&self.shared.log_key])
            .map(RegistrySigned)
            .map_err(Refusal::Invalid)
    }

    pub fn store(&self) -> &S {
        &self.shared.store
    }

    /// Whether the sequencer is running, stalled on one batch, or stopped.
    pub fn health(&self) -> SequencerHealth {
        let beat = &self.shared.health;
        let finished = self.sequencer.as_ref().is_none_or(JoinHandle::is_finished);
        if finished || !beat.alive.load(Ordering::Acquire) {
            return SequencerHealth::Stopped;
        }
        if beat.degraded.load(Ordering::Acquire) {
            return SequencerHealth::Degraded;
        }
        if beat.failing.load(Ordering::Acquire) {
            return SequencerHealth::Failing;
        }
        match beat.busy_since.load(Ordering::Acquire) {
            0 => SequencerHealth::Running,
            since => {
                let busy_for = Duration::from_millis(beat.now().saturating_sub(since));
                if busy_for > STALL_AFTER {
                    SequencerHealth::Stalled { busy_for }
                } else {
                    SequencerHealth::Running
                }
            }
        }
    }

    /// The log's verifier key (C2SP vkey).
    pub fn vkey(&self) -> String {
        self.shared.log_key.verifier().to_vkey()
    }

    pub fn origin(&self) -> &str {
        self.shared.log_key.name()
    }

    /// The published checkpoint note and its parsed form. The note is read
    /// from the store every time; its signature is checked unless it is
    /// byte for byte the note last signed or checked.
    pub fn checkpoint(&self) -> Result<(Checkpoint, Vec<u8>), Refusal> {
        let note = self
            .shared
            .store
            .checkpoint()?
            .ok_or_else(|| internal("no checkpoint is published"))?;
        if let Some((known, checkpoint)) = &*self
            .shared
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            && *known == note
        {
            return Ok((checkpoint.clone(), note));
        }
        let (checkpoint, _) =
            Checkpoint::open(&note, &self.shared.log_key.verifier()).map_err(internal)?;
        self.shared.remember_verified(&note, &checkpoint);
        Ok((checkpoint, note))
    }

    /// A `tlog-proof` receipt for entry `index` against the published
    /// checkpoint, carrying the entry in its `extra` line.
    pub fn receipt(&self, index: u64) -> Result<Receipt, Refusal> {
        let (checkpoint, note) = self.checkpoint()?;
        if index >= checkpoint.size() {
            return Err(Refusal::Unprocessable {
                field: "index".into(),
                rule: format!(
                    "no entry {index} in the published log of size {}",
                    checkpoint.size()
                ),
            });
        }
        let proof = prove_inclusion(index, checkpoint.size(), &StoreHashes(&self.shared.store))
            .map_err(internal)?;
        let entry = self
            .shared
            .store
            .read_entries(index, 1)?
            .pop()
            .ok_or_else(|| internal("entry vanished"))?;
        Ok(Receipt {
            extra: Some(entry),
            index,
            proof,
            checkpoint: note,
        })
    }

    /// The bytes of a tile or entry bundle, if the published checkpoint
    /// covers it.
    pub fn tile(&self, tile: &TileId) -> Result<Option<Vec<u8>>, Refusal> {
        let (checkpoint, _) = self.checkpoint()?;
        // The last leaf the tile covers must be in the published tree;
        // checked arithmetic so that absurd paths are simply absent.
        let level = u32::from(tile.hash_level()) * u32::from(TILE_HEIGHT);
        let end = tile
            .index
            .checked_mul(TILE_WIDTH)
            .and_then(|first| first.checked_add(u64::from(tile.width)))
            .and_then(|hashes| {
                if level >= 64 {
                    None
                } else {
                    hashes.checked_mul(1u64 << level)
                }
            });
        match end {
            Some(end) if end <= checkpoint.size() => {}
            _ => return Ok(None),
        }
        let store = &self.shared.store;
        match tile.kind {
            TileKind::Hashes(_) => {
                let ids: Vec<NodeId> = tile.nodes().collect();
                Ok(Some(
                    store.read_hashes(&ids)?.iter().flat_map(|h| h.0).collect(),
                ))
            }
            TileKind::Entries => {
                let entries = store.read_entries(tile.index * TILE_WIDTH, u64::from(tile.width))?;
                let mut bundle = Vec::new();
                for e in &entries {
                    push_bundle_entry(&mut bundle, e).map_err(internal)?;
                }
                Ok(Some(bundle))
            }
        }
    }
}

impl<S: Store> Drop for Ledger<S> {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(handle) = self.sequencer.take() {
            let _ = handle.join();
        }
    }
}
