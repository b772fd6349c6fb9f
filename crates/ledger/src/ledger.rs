//! Stages 4–7 of the lifecycle: the sequencer. One thread owns the right
//! edge of the tree; it takes queued records in batches (group commit),
//! authorises each against the store plus the batch so far, integrates the
//! batch in one durable transaction, checks the new tree against the last
//! checkpoint, signs and swaps in the new checkpoint, and only then answers
//! each caller with its index.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

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

use crate::rules::{Overlay, Refusal, authorise};
use crate::store::{Batch, EntryRow, Store};

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

struct Job {
    record: SignedRecord,
    reply: Reply,
}

struct Shared<S: Store> {
    store: S,
    log_key: NoteSigner,
    operator: NoteVerifier,
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

/// The sequencer's own state: the right edge of the stored tree and the
/// published checkpoint.
struct Sequencer<S: Store> {
    shared: Arc<Shared<S>>,
    range: CompactRange,
    checkpoint: Checkpoint,
    checkpoint_note: Option<Vec<u8>>,
    max_batch: usize,
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
        self.checkpoint = checkpoint;
        self.checkpoint_note = Some(note);
        Ok(())
    }

    fn run(mut self, queue: Receiver<Job>) {
        while let Ok(first) = queue.recv() {
            let mut jobs = vec![first];
            while jobs.len() < self.max_batch {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            self.process(jobs);
        }
    }

    fn process(&mut self, jobs: Vec<Job>) {
        let start = self.range.size();
        let mut batch = Batch::default();
        let mut accepted: Vec<(Reply, u64)> = Vec::new();
        {
            let mut overlay = Overlay::new(&self.shared.store);
            for job in jobs {
                let index = start + batch.entries.len() as u64;
                match authorise(&overlay, &self.shared.operator, &job.record, index) {
                    Ok(changes) => {
                        let record_hash = job.record.record_hash();
                        overlay.accept(record_hash, index, &changes);
                        batch.entries.push(EntryRow {
                            index,
                            entry: job.record.entry_bytes(),
                            record_hash,
                            kind: job.record.record().kind().to_owned(),
                        });
                        batch.changes.extend(changes);
                        accepted.push((job.reply, index));
                    }
                    Err(refusal) => {
                        let _ = job.reply.send(Err(refusal));
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
                self.range = range;
                for (reply, index) in accepted {
                    let _ = reply.send(Ok(index));
                }
            }
            Err(refusal) => {
                tracing::error!(error = %refusal_detail(&refusal), "batch failed; reloading the tree from the store");
                for (reply, _) in accepted {
                    let _ = reply.send(Err(Refusal::Internal(
                        "the batch could not be stored".into(),
                    )));
                }
                match Sequencer::recover(self.shared.clone(), self.max_batch) {
                    Ok(fresh) => *self = fresh,
                    Err(e) => {
                        tracing::error!(error = %refusal_detail(&e), "could not reload the tree")
                    }
                }
            }
        }
    }
}

fn refusal_detail(r: &Refusal) -> String {
    match r {
        Refusal::Internal(detail) => detail.clone(),
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
        let shared = Arc::new(Shared {
            store,
            log_key,
            operator,
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

    fn enqueue(
        &self,
        record: SignedRecord,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<u64, Refusal>>, Refusal> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| internal("the ledger is shutting down"))?;
        match queue.try_send(Job { record, reply }) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_)) => Err(Refusal::Overloaded),
            Err(TrySendError::Disconnected(_)) => Err(internal("the sequencer has stopped")),
        }
    }

    /// Submits a signed record; resolves with its log index once the entry
    /// is durable and covered by a published checkpoint.
    pub async fn submit(&self, record: SignedRecord) -> Result<u64, Refusal> {
        let rx = self.enqueue(record)?;
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

    pub fn store(&self) -> &S {
        &self.shared.store
    }

    /// The log's verifier key (C2SP vkey).
    pub fn vkey(&self) -> String {
        self.shared.log_key.verifier().to_vkey()
    }

    pub fn origin(&self) -> &str {
        self.shared.log_key.name()
    }

    /// The published checkpoint note and its parsed form.
    pub fn checkpoint(&self) -> Result<(Checkpoint, Vec<u8>), Refusal> {
        let note = self
            .shared
            .store
            .checkpoint()?
            .ok_or_else(|| internal("no checkpoint is published"))?;
        let (checkpoint, _) =
            Checkpoint::open(&note, &self.shared.log_key.verifier()).map_err(internal)?;
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
