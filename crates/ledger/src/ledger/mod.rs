//! The ledger's public face: [`Ledger`] (submit signed records, read
//! checkpoints, receipts and tiles), its configuration and health. The
//! sequencer that does the writing is in `sequencer`.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::values::Percent;
use oretrace_provenance::Tolerance;
use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::hash::Hash;
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use oretrace_tlog::receipt::Receipt;
use oretrace_tlog::tile::{TILE_HEIGHT, TILE_WIDTH, TileId, TileKind, push_bundle_entry};
use oretrace_tlog::tree::{HashReader, NodeId, prove_inclusion};
use rust_decimal::Decimal;

use crate::error::LedgerError;
use crate::rules::{Authorities, DocumentChecks, Preverified, Refusal, preverify};
use crate::store::Store;

mod sequencer;

use sequencer::{Heartbeat, Job, Sequencer};
pub use sequencer::{ROLLED_BACK, STALL_AFTER, SequencerHealth};

/// Tuning of the sequencer.
#[derive(Clone, Copy, Debug)]
pub struct LedgerConfig {
    /// Most records integrated in one transaction.
    pub max_batch: usize,
    /// Most records waiting; beyond it submissions are refused as
    /// overloaded (HTTP 503 with Retry-After).
    pub queue: usize,
    /// The per-element mass balance's tolerance for a grade whose assay
    /// states no uncertainty, in percent of the grade (default 2: ±0.44
    /// points on a 22 % grade). A rule: a rebuild must use the same.
    pub element_balance_tolerance_percent: Percent,
}

impl LedgerConfig {
    /// The default element balance tolerance, 2 % of each grade.
    pub const DEFAULT_ELEMENT_BALANCE_TOLERANCE_PERCENT: Decimal =
        Decimal::from_parts(2, 0, 0, false, 0);

    /// The element balance tolerance as the rules apply it.
    pub fn element_balance(&self) -> Tolerance {
        Tolerance::relative(self.element_balance_tolerance_percent)
    }
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            max_batch: 1000,
            queue: 20_000,
            element_balance_tolerance_percent: Percent::new(
                Self::DEFAULT_ELEMENT_BALANCE_TOLERANCE_PERCENT,
            )
            .unwrap_or_else(|_| unreachable!("2 is a percentage")),
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

/// A record signed by this ledger's log key alone
/// ([`Ledger::sign_as_registry`]); only the ledger makes one.
#[derive(Debug)]
pub struct RegistrySigned(SignedRecord);

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

/// The sequencer thread of a ledger that sequences writes.
struct Running {
    queue: SyncSender<Job>,
    handle: JoinHandle<()>,
}

/// What a ledger does with writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// It sequences them: its sequencer thread integrates and publishes.
    Sequencer,
    /// It serves reads only (another node sequences over the same
    /// store); writes are refused with [`Refusal::NotSequencer`].
    Follower,
}

/// The ledger: submit signed records, read receipts and tiles.
///
/// A ledger either sequences writes ([`Ledger::start`]) or follows
/// ([`Ledger::follow`]): serves every read of a store another node
/// writes. [`Ledger::promote`] and [`Ledger::demote`] move between the
/// two, as a node gains and loses a shared store's sequencer lease.
pub struct Ledger<S: Store> {
    shared: Arc<Shared<S>>,
    config: LedgerConfig,
    running: Mutex<Option<Running>>,
    /// Held by a promotion or demotion for its whole length, so that the
    /// two never interleave, while `running` is held only for a moment
    /// (submissions and health read it).
    transition: Mutex<()>,
    /// This node among others sharing the store, for health and a
    /// follower's refusals.
    node: Mutex<NodeStatus>,
}

/// Where a node stands among the nodes sharing one store (set by what
/// holds the lease; empty for a store of one process).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStatus {
    /// This node's name.
    pub node: Option<String>,
    /// The lease epoch this node sequences under, while it does.
    pub epoch: Option<u64>,
    /// The address of the node that sequences writes, when known.
    pub sequencer: Option<String>,
}

impl<S: Store> std::fmt::Debug for Ledger<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ledger({})", self.shared.log_key.name())
    }
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    Refusal::Internal(e.to_string())
}

/// A proof over the stored tree that could not be made: a store that
/// could not be reached for a moment (503, retry) or anything else (500).
fn tree_refusal(e: oretrace_tlog::Error) -> Refusal {
    if let oretrace_tlog::Error::Reader { source, .. } = &e
        && let Some(store) = source.downcast_ref::<crate::store::StoreError>()
        && store.is_retryable()
    {
        return Refusal::Unavailable(crate::error::detail(&e));
    }
    internal(e)
}

impl<S: Store> Ledger<S> {
    /// Opens the ledger on `store`: finishes a rebuild of the projections
    /// that stopped part way, recovers the tree, checks it against
    /// the published checkpoint, publishes a checkpoint for any entries a
    /// crash left uncovered, and starts the sequencer thread. A store that
    /// cannot be read, a checkpoint that does not verify or is not
    /// consistent with the stored tree, or a checkpoint swap lost to
    /// another writer is a [`LedgerError`], and nothing is written.
    pub fn start(
        store: S,
        log_key: NoteSigner,
        operator: NoteVerifier,
        config: LedgerConfig,
    ) -> Result<Self, LedgerError> {
        let keys = Authorities {
            operator,
            log: log_key.verifier(),
            balance: config.element_balance(),
        };
        let shared = Arc::new(Shared {
            store,
            log_key,
            keys,
            verified: Mutex::new(None),
            health: Arc::new(Heartbeat::default()),
        });
        let ledger = Ledger {
            shared,
            config,
            running: Mutex::new(None),
            transition: Mutex::new(()),
            node: Mutex::new(NodeStatus::default()),
        };
        ledger.promote()?;
        Ok(ledger)
    }

    /// Opens the ledger on `store` as a follower: it serves every read
    /// and refuses writes until [`Ledger::promote`]d. A published
    /// checkpoint that does not verify with the log key (a store of
    /// another log) is an error; nothing is written.
    pub fn follow(
        store: S,
        log_key: NoteSigner,
        operator: NoteVerifier,
        config: LedgerConfig,
    ) -> Result<Self, LedgerError> {
        if let Some(note) = store
            .checkpoint()
            .map_err(LedgerError::store("reading the published checkpoint"))?
        {
            Checkpoint::open(&note, &log_key.verifier()).map_err(|source| {
                LedgerError::CheckpointKey {
                    origin: log_key.name().to_owned(),
                    source,
                }
            })?;
        }
        let keys = Authorities {
            operator,
            log: log_key.verifier(),
            balance: config.element_balance(),
        };
        Ok(Ledger {
            shared: Arc::new(Shared {
                store,
                log_key,
                keys,
                verified: Mutex::new(None),
                health: Arc::new(Heartbeat::default()),
            }),
            config,
            running: Mutex::new(None),
            transition: Mutex::new(()),
            node: Mutex::new(NodeStatus::default()),
        })
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts sequencing, if not already: finishes a rebuild that stopped
    /// part way, recovers the tree from the store, checks it against the
    /// published checkpoint, publishes a checkpoint for entries a crashed
    /// sequencer left uncovered, and starts the sequencer thread. Called
    /// once the node holds the right to write (a shared store's lease).
    pub fn promote(&self) -> Result<(), LedgerError> {
        let _transition = self
            .transition
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self
            .running()
            .as_ref()
            .is_some_and(|r| !r.handle.is_finished())
        {
            return Ok(());
        }
        let store = &self.shared.store;
        if store
            .rebuild_progress()
            .map_err(LedgerError::store("reading the rebuild's progress"))?
            .is_some()
        {
            if store
                .checkpoint()
                .map_err(LedgerError::store("reading the published checkpoint"))?
                .is_none()
            {
                let size = store
                    .size()
                    .map_err(LedgerError::store("reading the log size"))?;
                return Err(LedgerError::UnfinishedCopy { size });
            }
            let report = crate::rebuild::rebuild_with(
                store,
                &self.shared.log_key.verifier(),
                &self.shared.keys.operator,
                &self.config,
            )?;
            tracing::info!(
                entries = report.entries,
                "finished the rebuild of the projections that had stopped part way"
            );
        }
        // Nothing cached from before (another sequencer may have written).
        *self
            .shared
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        let sequencer = Sequencer::recover(self.shared.clone(), self.config.max_batch.max(1))?;
        self.shared.health.restart();
        let (tx, rx) = sync_channel(self.config.queue.max(1));
        let handle = std::thread::Builder::new()
            .name("oretrace-sequencer".into())
            .spawn(move || sequencer.run(rx))
            .map_err(LedgerError::Thread)?;
        *self.running() = Some(Running { queue: tx, handle });
        Ok(())
    }

    /// Stops sequencing: records queued and not yet integrated are
    /// refused as unavailable (a fenced store writes none of them), and
    /// returns once the sequencer thread has ended. The ledger then
    /// follows.
    pub fn demote(&self) {
        let _transition = self
            .transition
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let taken = self.running().take();
        if let Some(Running { queue, handle }) = taken {
            drop(queue);
            let _ = handle.join();
        }
    }

    /// Records where this node stands among the nodes sharing its store.
    pub fn set_node_status(&self, status: NodeStatus) {
        *self.node.lock().unwrap_or_else(PoisonError::into_inner) = status;
    }

    /// Where this node stands among the nodes sharing its store.
    pub fn node_status(&self) -> NodeStatus {
        self.node
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether this ledger sequences writes or follows.
    pub fn role(&self) -> Role {
        if self.running().is_some() {
            Role::Sequencer
        } else {
            Role::Follower
        }
    }

    /// The queue of the running sequencer, or the refusal of a follower.
    fn queue(&self) -> Result<SyncSender<Job>, Refusal> {
        match &*self.running() {
            Some(r) => Ok(r.queue.clone()),
            None => Err(Refusal::NotSequencer {
                sequencer: self.node_status().sequencer,
            }),
        }
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
        let queue = self.queue()?;
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
            let own = keys.log.clone();
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
        let queue = self.queue()?;
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
        let finished = match &*self.running() {
            None => return SequencerHealth::Follower,
            Some(r) => r.handle.is_finished(),
        };
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

    /// A consistency proof from the tree of size `old` to the published
    /// tree's prefix of size `new` (RFC 6962; `old` ≤ `new` ≤ the
    /// published size).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, Refusal> {
        let (checkpoint, _) = self.checkpoint()?;
        if old > new || new > checkpoint.size() {
            return Err(Refusal::Unprocessable {
                field: "size".into(),
                rule: format!(
                    "a consistency proof goes from a size to a larger one within the published size {} (asked {old} to {new})",
                    checkpoint.size()
                ),
            });
        }
        oretrace_tlog::tree::prove_consistency(old, new, &StoreHashes(&self.shared.store))
            .map_err(tree_refusal)
    }

    /// A `tlog-proof` receipt for entry `index` against the published
    /// checkpoint, carrying the entry in its `extra` line.
    pub fn receipt(&self, index: u64) -> Result<Receipt, Refusal> {
        let (_, note) = self.checkpoint()?;
        self.receipt_against(index, note)
    }

    /// A receipt for entry `index` against `note`, a checkpoint this log
    /// signed (with any cosignatures on it) no larger than the published
    /// one: a cosigned checkpoint, say.
    pub fn receipt_against(&self, index: u64, note: Vec<u8>) -> Result<Receipt, Refusal> {
        let (checkpoint, _) =
            Checkpoint::open(&note, &self.shared.log_key.verifier()).map_err(internal)?;
        let (published, _) = self.checkpoint()?;
        if checkpoint.size() > published.size() {
            return Err(internal("a checkpoint beyond the published one"));
        }
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
            .map_err(tree_refusal)?;
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
        self.demote();
    }
}
