//! Rebuilding the projections from the log alone: the log is the source
//! of truth, every table a projection that can be dropped and replayed.

use oretrace_domain::envelope::SignedRecord;
use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::hash::leaf_hash;
use oretrace_tlog::note::NoteVerifier;
use oretrace_tlog::tree::CompactRange;

use crate::error::LedgerError;
use crate::ledger::LedgerConfig;
use crate::rules::{Authorities, Overlay, Preverified, changes_of};
use crate::store::{Batch, EntryRow, Store};

/// What a rebuild found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RebuildReport {
    pub entries: u64,
    /// Named queries and subscriptions copied with the log ([`copy_log`]
    /// only).
    pub kept: u64,
    /// The root recomputed from the entries, equal to the checkpoint's.
    pub root: oretrace_tlog::hash::Hash,
}

/// Drops every projection and replays every entry of the log through the
/// same rules that accepted it; checks that the entries give the
/// checkpoint's root. Any entry the rules now refuse is an error. The
/// checkpoint is checked before anything is dropped. A rebuild that
/// stopped part way (a crash, a lost connection) is resumed where its
/// last chunk was committed, not begun again.
pub fn rebuild<S: Store>(
    store: &S,
    log_key: &NoteVerifier,
    operator: &NoteVerifier,
) -> Result<RebuildReport, LedgerError> {
    rebuild_with(store, log_key, operator, &LedgerConfig::default())
}

/// Entries replayed and committed together: a crash loses at most one
/// chunk's work.
const CHUNK: u64 = 1024;

/// The published checkpoint of `store` (`whose` names it in errors),
/// checked against the log key.
fn published<S: Store>(
    store: &S,
    log_key: &NoteVerifier,
    whose: &'static str,
) -> Result<(Checkpoint, Vec<u8>), LedgerError> {
    let note = store
        .checkpoint()
        .map_err(LedgerError::store(whose))?
        .ok_or(LedgerError::NoCheckpoint)?;
    let (checkpoint, _) =
        Checkpoint::open(&note, log_key).map_err(|source| LedgerError::CheckpointKey {
            origin: log_key.name().to_owned(),
            source,
        })?;
    Ok((checkpoint, note))
}

/// The keys and rules a replay applies.
fn authorities(
    log_key: &NoteVerifier,
    operator: &NoteVerifier,
    config: &LedgerConfig,
) -> Authorities {
    Authorities {
        operator: operator.clone(),
        log: log_key.clone(),
        balance: config.element_balance(),
    }
}

/// Replays entry `index` through the rules over `overlay` and adds what
/// it changes to it; returns the changes.
fn replay<V: crate::store::StateView>(
    overlay: &mut Overlay<V>,
    keys: &Authorities,
    index: u64,
    entry: &[u8],
) -> Result<Vec<crate::state::Change>, LedgerError> {
    let signed = SignedRecord::from_entry(entry)
        .map_err(|source| LedgerError::NotARecord { index, source })?;
    let changes = changes_of(&*overlay, keys, &signed, index, &Preverified::default())
        .map_err(|source| LedgerError::ReplayRefused { index, source })?;
    overlay.accept(signed.record_hash(), index, &changes);
    Ok(changes)
}

/// [`rebuild`] under the rules `config` sets (the element balance
/// tolerance): the one the log was written with, or a replayed record may
/// be refused.
pub fn rebuild_with<S: Store>(
    store: &S,
    log_key: &NoteVerifier,
    operator: &NoteVerifier,
    config: &LedgerConfig,
) -> Result<RebuildReport, LedgerError> {
    let size = store
        .size()
        .map_err(LedgerError::store("reading the log size"))?;
    let (checkpoint, _) = published(store, log_key, "reading the published checkpoint")?;
    if checkpoint.size() > size {
        return Err(LedgerError::CheckpointAhead {
            checkpoint: checkpoint.size(),
            stored: size,
        });
    }
    let keys = authorities(log_key, operator, config);
    // Where to resume: the projections hold the changes of the entries
    // before it. A rebuild under way past the log size is not this log's.
    let resume = match store
        .rebuild_progress()
        .map_err(LedgerError::store("reading the rebuild's progress"))?
    {
        Some(done) if done <= size => done,
        _ => {
            store
                .clear_projections()
                .map_err(LedgerError::store("clearing the projections"))?;
            0
        }
    };
    let mut range = CompactRange::new();
    let mut index = 0u64;
    while index < size {
        let entries = store
            .read_entries(index, CHUNK.min(size - index))
            .map_err(LedgerError::store("reading the log's entries"))?;
        let mut changes = Vec::new();
        {
            let mut overlay = Overlay::new(store);
            for entry in &entries {
                // Entries already replayed count only towards the root.
                if index >= resume {
                    changes.extend(replay(&mut overlay, &keys, index, entry)?);
                }
                range.append(leaf_hash(entry), |_, _| {});
                if range.size() == checkpoint.size() && range.root() != *checkpoint.root() {
                    return Err(LedgerError::RootMismatch {
                        size: checkpoint.size(),
                        computed: range.root(),
                        expected: *checkpoint.root(),
                    });
                }
                index += 1;
            }
        }
        if index > resume {
            store
                .apply_changes(&changes, index)
                .map_err(LedgerError::store("writing the rebuilt projections"))?;
        }
    }
    store
        .finish_rebuild()
        .map_err(LedgerError::store("recording the finished rebuild"))?;
    Ok(RebuildReport {
        entries: size,
        kept: 0,
        root: range.root(),
    })
}

/// Copies the log of `from` (its entries up to the published checkpoint,
/// their subtree hashes and the checkpoint) into the empty store `to`,
/// then rebuilds `to`'s projections from the copied log through the rules
/// that accepted it ([`rebuild_with`]). The root recomputed from the
/// copied entries must be the checkpoint's, or nothing is published in
/// `to`.
///
/// A copy that stops part way (a crash, a lost connection) must never be
/// taken for a log: before the first entry is written, `to` is marked as
/// being rebuilt ([`Store::clear_projections`]), and a ledger refuses to
/// start on a marked store without a checkpoint
/// ([`LedgerError::UnfinishedCopy`]), so no node can extend a partial copy
/// whose later entries the source published. The first chunk is replayed
/// before anything is written, so a wrong operator key stops the copy
/// with nothing written. How a pilot's embedded store grows into a shared
/// database, and a shared database is taken offline for inspection.
pub fn copy_log<A: Store, B: Store>(
    from: &A,
    to: &B,
    log_key: &NoteVerifier,
    operator: &NoteVerifier,
    config: &LedgerConfig,
) -> Result<RebuildReport, LedgerError> {
    let (checkpoint, note) = published(from, log_key, "reading the source's published checkpoint")?;
    let there = to
        .size()
        .map_err(LedgerError::store("reading the target's log size"))?;
    let published = to
        .checkpoint()
        .map_err(LedgerError::store("reading the target's checkpoint"))?;
    if there != 0 || published.is_some() {
        return Err(LedgerError::TargetNotEmpty { size: there });
    }
    let size = checkpoint.size();
    // The first chunk through the rules, in memory: under a wrong operator
    // key the first registration is refused here, before any write.
    {
        let keys = authorities(log_key, operator, config);
        let entries = from
            .read_entries(0, CHUNK.min(size))
            .map_err(LedgerError::store("reading the source's entries"))?;
        let mut overlay = Overlay::new(to);
        for (index, entry) in (0u64..).zip(entries) {
            replay(&mut overlay, &keys, index, &entry)?;
            overlay.remember_entry(index, entry);
        }
    }
    to.clear_projections().map_err(LedgerError::store(
        "marking the target as being copied into",
    ))?;
    let mut range = CompactRange::new();
    let mut index = 0u64;
    while index < size {
        let entries = from
            .read_entries(index, CHUNK.min(size - index))
            .map_err(LedgerError::store("reading the source's entries"))?;
        let mut batch = Batch::default();
        for entry in entries {
            let signed = SignedRecord::from_entry(&entry)
                .map_err(|source| LedgerError::NotARecord { index, source })?;
            range.append(leaf_hash(&entry), |id, hash| batch.hashes.push((id, *hash)));
            batch.entries.push(EntryRow {
                index,
                record_hash: signed.record_hash(),
                kind: signed.record().kind().to_owned(),
                entry,
            });
            index += 1;
        }
        to.integrate(&batch)
            .map_err(LedgerError::store("writing the copied entries"))?;
    }
    if range.root() != *checkpoint.root() {
        return Err(LedgerError::RootMismatch {
            size,
            computed: range.root(),
            expected: *checkpoint.root(),
        });
    }
    if !to
        .swap_checkpoint(None, &note)
        .map_err(LedgerError::store("publishing the copied checkpoint"))?
    {
        return Err(LedgerError::CheckpointMoved);
    }
    let mut report = rebuild_with(to, log_key, operator, config)?;
    report.kept = copy_kept(from, to)?;
    Ok(report)
}

/// Copies the named queries and subscriptions (kept beside the log, not
/// projections) of `from` into `to`, subscriptions with their delivery
/// state: every owner of a subscription is a registered party, so the
/// copied parties name them all. Returns how many rows were copied.
fn copy_kept<A: Store, B: Store>(from: &A, to: &B) -> Result<u64, LedgerError> {
    let unbounded = crate::store::Quota {
        per_owner: u64::MAX,
        total: u64::MAX,
    };
    let read = || LedgerError::store("reading the source's named queries and subscriptions");
    let write = || LedgerError::store("writing the copied named queries and subscriptions");
    let mut copied = 0u64;
    let mut after: Option<String> = None;
    loop {
        let page = from
            .named_queries(after.as_deref(), CHUNK as usize)
            .map_err(read())?;
        let Some(last) = page.last() else { break };
        after = Some(last.name.clone());
        for row in &page {
            to.insert_named_query(row, unbounded).map_err(write())?;
            copied += 1;
        }
    }
    let mut party_after: Option<String> = None;
    loop {
        let parties = to
            .parties(party_after.as_deref(), CHUNK as usize)
            .map_err(read())?;
        let Some(last) = parties.last() else { break };
        party_after = Some(last.id().to_string());
        for party in &parties {
            let owner = party.id().to_string();
            let mut after: Option<String> = None;
            loop {
                let page = from
                    .subscriptions(&owner, after.as_deref(), CHUNK as usize)
                    .map_err(read())?;
                let Some(last) = page.last() else { break };
                after = Some(last.id.clone());
                for row in &page {
                    to.insert_subscription(row, unbounded).map_err(write())?;
                    copied += 1;
                }
            }
        }
    }
    Ok(copied)
}
