//! The ledger's operational failures: what went wrong while starting,
//! reloading or rebuilding, for the operator to act on. A client's record
//! is answered with a [`Refusal`] instead; a batch that fails for one of
//! these reasons is refused as [`Refusal::Unavailable`] and the error is
//! logged.

use oretrace_tlog::hash::Hash;

use crate::rules::Refusal;
use crate::store::StoreError;

/// A failure of the ledger itself (its store, its log key, the log it
/// holds), as opposed to a refusal of a client's record. `Display` is one
/// sentence saying what failed and what to do; the underlying error is
/// the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The store could not be read or written (an I/O error, a full disk,
    /// a lost connection).
    #[error(
        "the store failed while {action}; check the disk and the data directory, then try again"
    )]
    Store {
        /// What the ledger was doing, as a gerund phrase ("reading the
        /// stored tree").
        action: &'static str,
        #[source]
        source: StoreError,
    },
    /// The store refused a write because this node no longer holds the
    /// right to write (a shared store's sequencer lease passed to another
    /// node): nothing was written.
    #[error(
        "the sequencer lease passed to another node while {action}; nothing was written and this node stops sequencing"
    )]
    Fenced {
        action: &'static str,
        #[source]
        source: StoreError,
    },
    /// The published checkpoint is not signed by this ledger's log key
    /// (another log's store, another key, or a damaged note).
    #[error(
        "the stored checkpoint does not verify with the log key of {origin}; start with the log key this store was created with"
    )]
    CheckpointKey {
        origin: String,
        #[source]
        source: oretrace_tlog::Error,
    },
    /// The published checkpoint covers entries the store does not hold.
    #[error(
        "the stored checkpoint covers {checkpoint} entries but the store holds only {stored}: entries are missing; restore the store from a backup"
    )]
    CheckpointAhead { checkpoint: u64, stored: u64 },
    /// The stored tree does not extend the published checkpoint.
    #[error(
        "the {stored} stored entries are not consistent with the published checkpoint of {checkpoint}: the stored log was changed; restore the store from a backup"
    )]
    Inconsistent {
        checkpoint: u64,
        stored: u64,
        #[source]
        source: oretrace_tlog::Error,
    },
    /// The stored subtree hashes do not make a tree of the stored size.
    #[error(
        "the stored hashes do not make a tree of the {stored} stored entries: the store is damaged; restore it from a backup"
    )]
    CorruptTree {
        stored: u64,
        #[source]
        source: oretrace_tlog::Error,
    },
    /// The compare-and-swap of the checkpoint found another checkpoint
    /// than the one this ledger published last.
    #[error(
        "the published checkpoint was changed by another writer; make sure only one oretrace process writes to this store, then start again"
    )]
    CheckpointMoved,
    /// A checkpoint could not be made or signed with the log key.
    #[error("a checkpoint could not be signed with the log key of {origin}; check the log key")]
    Signing {
        origin: String,
        #[source]
        source: oretrace_tlog::Error,
    },
    /// The sequencer thread could not be started.
    #[error("the sequencer thread could not be started; the system is short of threads or memory")]
    Thread(#[source] std::io::Error),
    /// A rebuild found no published checkpoint to check the log against.
    #[error(
        "the store has no published checkpoint to rebuild from; start the ledger on it once to publish one"
    )]
    NoCheckpoint,
    /// A rebuild found an entry that is not a signed record.
    #[error(
        "entry {index} of the log is not a signed record: the store is damaged; restore it from a backup"
    )]
    NotARecord {
        index: u64,
        #[source]
        source: oretrace_domain::Error,
    },
    /// A rebuild found an entry the rules refuse.
    #[error(
        "entry {index} of the log is refused on replay; check that the operator key given is the one the log was written with"
    )]
    ReplayRefused {
        index: u64,
        #[source]
        source: Refusal,
    },
    /// The store holds entries of a copy that did not finish: no
    /// checkpoint was published over them, and the source's later entries
    /// are missing. Extending it would fork the copied log.
    #[error(
        "the store holds {size} entries of a copy that did not finish (no checkpoint was published over them): empty it and copy the log again; it is not started, so that no entry is written where the copied log has another"
    )]
    UnfinishedCopy { size: u64 },
    /// A copy of the log was asked into a store that already holds one.
    #[error(
        "the target store already holds a log of {size} entries; copy into an empty store (a new data directory or database)"
    )]
    TargetNotEmpty { size: u64 },
    /// A rebuild found entries whose root is not the checkpoint's.
    #[error(
        "the entries give root {computed} at size {size} but the checkpoint says {expected}: the stored log was changed; restore the store from a backup"
    )]
    RootMismatch {
        size: u64,
        computed: Hash,
        expected: Hash,
    },
}

impl LedgerError {
    /// Wraps a store failure met while doing `action`.
    pub(crate) fn store(action: &'static str) -> impl FnOnce(StoreError) -> LedgerError {
        move |source| {
            if source.kind() == crate::store::ErrorKind::Fenced {
                LedgerError::Fenced { action, source }
            } else {
                LedgerError::Store { action, source }
            }
        }
    }

    /// A failure to read the stored tree through a
    /// [`HashReader`](oretrace_tlog::tree::HashReader): the store's own
    /// error if it was one, else a damaged tree.
    pub(crate) fn tree_read(
        action: &'static str,
        stored: u64,
    ) -> impl FnOnce(oretrace_tlog::Error) -> LedgerError {
        move |e| match e {
            oretrace_tlog::Error::Reader { id, source } => match source.downcast::<StoreError>() {
                Ok(store) => LedgerError::store(action)(*store),
                Err(source) => LedgerError::CorruptTree {
                    stored,
                    source: oretrace_tlog::Error::Reader { id, source },
                },
            },
            source => LedgerError::CorruptTree { stored, source },
        }
    }
}

/// The error and its sources, joined by ": ", for logs and the detail of
/// a [`Refusal::Unavailable`].
pub fn detail(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(source) = next {
        out.push_str(": ");
        out.push_str(&source.to_string());
        next = source.source();
    }
    out
}
