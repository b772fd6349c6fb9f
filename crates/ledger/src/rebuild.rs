//! Rebuilding the projections from the log alone: the log is the source
//! of truth, every table a projection that can be dropped and replayed.

use oretrace_domain::envelope::SignedRecord;
use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::hash::leaf_hash;
use oretrace_tlog::note::NoteVerifier;
use oretrace_tlog::tree::CompactRange;

use crate::rules::{Authorities, Overlay, Preverified, Refusal, changes_of};
use crate::store::Store;

/// What a rebuild found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RebuildReport {
    pub entries: u64,
    /// The root recomputed from the entries, equal to the checkpoint's.
    pub root: oretrace_tlog::hash::Hash,
}

/// Drops every projection and replays every entry of the log through the
/// same rules that accepted it; checks that the entries give the
/// checkpoint's root. Any entry the rules now refuse is an error.
pub fn rebuild<S: Store>(
    store: &S,
    log_key: &NoteVerifier,
    operator: &NoteVerifier,
) -> Result<RebuildReport, Refusal> {
    let size = store.size()?;
    let note = store
        .checkpoint()?
        .ok_or_else(|| Refusal::Internal("no checkpoint is published".into()))?;
    let (checkpoint, _) = Checkpoint::open(&note, log_key)
        .map_err(|e| Refusal::Internal(format!("the checkpoint does not verify: {e}")))?;
    if checkpoint.size() > size {
        return Err(Refusal::Internal(format!(
            "the checkpoint covers {} entries but the store holds only {size}",
            checkpoint.size()
        )));
    }
    let keys = Authorities {
        operator: operator.clone(),
        log: log_key.clone(),
    };
    store.clear_projections()?;
    let mut range = CompactRange::new();
    let mut index = 0u64;
    const CHUNK: u64 = 1024;
    while index < size {
        let entries = store.read_entries(index, CHUNK.min(size - index))?;
        let mut changes = Vec::new();
        {
            let mut overlay = Overlay::new(store);
            for entry in &entries {
                let signed = SignedRecord::from_entry(entry).map_err(|e| {
                    Refusal::Internal(format!("entry {index} is not a record: {e}"))
                })?;
                let c = changes_of(&overlay, &keys, &signed, index, &Preverified::default())
                    .map_err(|e| {
                        Refusal::Internal(format!("entry {index} is refused on replay: {e}"))
                    })?;
                overlay.accept(signed.record_hash(), index, &c);
                changes.extend(c);
                range.append(leaf_hash(entry), |_, _| {});
                if range.size() == checkpoint.size() && range.root() != *checkpoint.root() {
                    return Err(Refusal::Internal(format!(
                        "the entries give root {} at size {}, the checkpoint says {}",
                        range.root(),
                        checkpoint.size(),
                        checkpoint.root()
                    )));
                }
                index += 1;
            }
        }
        store.apply_changes(&changes)?;
    }
    Ok(RebuildReport {
        entries: size,
        root: range.root(),
    })
}
