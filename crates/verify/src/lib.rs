//! Audits a tlog-tiles log without trusting whoever serves it.
//!
//! [`audit`] fetches the checkpoint and every tile and entry bundle from a
//! [`Source`] (a folder or a URL), checks the checkpoint signature against
//! the vkey the user gave, recomputes the root from the entries, checks
//! every stored hash at every tile level on the way, and checks the new
//! checkpoint against the last one this verifier accepted for the origin
//! (kept by a [`StateStore`]): a smaller tree is a rollback, a different
//! root for a prefix is a fork. It uses public artefacts only.

mod source;
mod state;

use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::hash::{Hash, leaf_hash};
use oretrace_tlog::note::NoteVerifier;
use oretrace_tlog::receipt::Receipt;
use oretrace_tlog::tile::{
    TILE_HEIGHT, TILE_WIDTH, TileId, TileKind, decode_entry_bundle, decode_hash_tile, tile_at,
    tile_count, tile_levels,
};
use oretrace_tlog::tree::{CompactRange, NodeId};

pub use source::{FolderSource, HttpSource, Source, open_source};
pub use state::StateStore;

/// Why verification did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The log (or receipt) is wrong: bad signature, tampered tile, fork,
    /// rollback. `location` names the file or resource.
    #[error("verification failed at {location}: {detail}")]
    Failed { location: String, detail: String },
    /// The check could not be carried out: network, disk, bad arguments.
    #[error("{0}")]
    Operational(String),
    /// Two checkpoints signed by the log's key that cannot both be true:
    /// the evidence of a split view or a rollback.
    #[error("{}", .0.detail)]
    Fork(Box<Fork>),
}

/// Two signed checkpoints of one log that are inconsistent, each with
/// where it was seen: anyone holding the log's vkey can check both
/// signatures and see that no append-only log has both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fork {
    pub detail: String,
    pub earlier: Seen,
    pub now: Seen,
}

/// A checkpoint of the log seen somewhere (the log itself, a witness's
/// monitoring URL, a file a user saved, this verifier's own state): its
/// signed note, verified with the log key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Where it was seen, in words.
    pub source: String,
    pub note: Vec<u8>,
    pub checkpoint: Checkpoint,
    /// Whether the log itself served it (to this verifier, or to the user
    /// who saved it), so that a smaller log now is a rollback; a witness's
    /// checkpoint may be newer than the one the log serves while its
    /// quorum is not met, which is no rollback.
    pub served_by_log: bool,
}

impl Seen {
    /// A checkpoint note from `source`, refused unless the log key signed
    /// it.
    pub fn open(
        source: impl Into<String>,
        note: Vec<u8>,
        log_key: &NoteVerifier,
    ) -> Result<Self, VerifyError> {
        let source = source.into();
        let (checkpoint, _) =
            Checkpoint::open(&note, log_key).map_err(|e| VerifyError::failed(source.clone(), e))?;
        Ok(Seen {
            source,
            note,
            checkpoint,
            served_by_log: true,
        })
    }

    /// A checkpoint a witness cosigned (from its monitoring URL): compared
    /// with the log's prefix when the log serves at least its size; a
    /// larger one is no rollback (the log serves the latest its quorum
    /// cosigned, which may lag one witness).
    pub fn from_witness(
        source: impl Into<String>,
        note: Vec<u8>,
        log_key: &NoteVerifier,
    ) -> Result<Self, VerifyError> {
        Ok(Seen {
            served_by_log: false,
            ..Seen::open(source, note, log_key)?
        })
    }
}

/// What else an audit checks the log against.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checks<'a> {
    /// Checkpoints seen elsewhere: the log must be consistent with each.
    pub seen: &'a [Seen],
    /// If given, the served checkpoint's cosignatures must meet its
    /// quorum.
    pub policy: Option<&'a oretrace_tlog::policy::Policy>,
}

impl VerifyError {
    fn failed(location: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        VerifyError::Failed {
            location: location.into(),
            detail: detail.to_string(),
        }
    }
}

/// What an audit established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub checkpoint: Checkpoint,
    /// The checkpoint's signed note, as served.
    pub note: Vec<u8>,
    /// The checkpoint this verifier had accepted before, if any.
    pub previous: Option<Checkpoint>,
    pub entries_checked: u64,
    pub tiles_checked: u64,
    /// Witnesses' checkpoints larger than the served one: not compared
    /// yet.
    pub ahead: Vec<Seen>,
}

/// Progress of a long audit: entries checked so far out of the total.
pub trait Progress {
    fn start(&self, _total: u64) {}
    fn advance(&self, _done: u64) {}
    fn finish(&self) {}
}

/// A [`Progress`] that reports nothing.
#[derive(Debug, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

fn fetch_required(source: &dyn Source, path: &str) -> Result<Vec<u8>, VerifyError> {
    source.get(path)?.ok_or_else(|| {
        VerifyError::failed(
            source.locate(path),
            "missing, but the checkpoint requires it",
        )
    })
}

/// Audits the whole log at `source` against `log_key`, and records the
/// verified checkpoint in `state` on success.
pub fn audit(
    source: &dyn Source,
    log_key: &NoteVerifier,
    state: Option<&StateStore>,
    progress: &dyn Progress,
) -> Result<Report, VerifyError> {
    audit_with(source, log_key, state, Checks::default(), progress)
}

/// [`audit`], and the log checked against every checkpoint of `checks`
/// (and the quorum of its policy): an inconsistency is a
/// [`VerifyError::Fork`] carrying both signed checkpoints.
pub fn audit_with(
    source: &dyn Source,
    log_key: &NoteVerifier,
    state: Option<&StateStore>,
    checks: Checks<'_>,
    progress: &dyn Progress,
) -> Result<Report, VerifyError> {
    let checkpoint_bytes = fetch_required(source, "checkpoint")?;
    let served = Seen::open(
        source.locate("checkpoint"),
        checkpoint_bytes.clone(),
        log_key,
    )?;
    let checkpoint = served.checkpoint.clone();
    if let Some(policy) = checks.policy {
        let note = oretrace_tlog::note::SignedNote::parse(&checkpoint_bytes)
            .map_err(|e| VerifyError::failed(source.locate("checkpoint"), e))?;
        let by = policy.cosigned_by(&note);
        if !policy.quorum_met(&by) {
            return Err(VerifyError::failed(
                source.locate("checkpoint"),
                format!(
                    "the checkpoint at size {} is cosigned by {} of the policy's witnesses ({}): its quorum is not met",
                    checkpoint.size(),
                    by.len(),
                    if by.is_empty() {
                        "none".to_owned()
                    } else {
                        by.join(", ")
                    }
                ),
            ));
        }
    }
    let remembered = match state {
        Some(state) => state.load_seen(log_key)?,
        None => None,
    };
    let previous = remembered.as_ref().map(|s| s.checkpoint.clone());
    let size = checkpoint.size();
    let mut earlier: Vec<&Seen> = remembered.iter().chain(checks.seen).collect();
    earlier.sort_by_key(|s| s.checkpoint.size());
    // Checkpoints of witnesses ahead of the served one are compared once
    // the log serves their size.
    let ahead: Vec<Seen> = earlier
        .iter()
        .filter(|e| !e.served_by_log && e.checkpoint.size() > size)
        .map(|e| (*e).clone())
        .collect();
    earlier.retain(|e| e.served_by_log || e.checkpoint.size() <= size);
    for e in &earlier {
        if e.checkpoint.size() > size {
            return Err(VerifyError::Fork(Box::new(Fork {
                detail: format!(
                    "rollback: the log now claims size {size}, but size {} with root {} was signed and seen before ({})",
                    e.checkpoint.size(),
                    e.checkpoint.root(),
                    e.source
                ),
                earlier: (*e).clone(),
                now: served,
            })));
        }
    }

    // Upper-level tiles are fetched as their first hash is needed.
    let levels = tile_levels(size);
    let mut upper: Vec<Option<(TileId, Vec<Hash>)>> = vec![None; usize::from(levels)];
    let mut tiles_checked = 0u64;
    let mut range = CompactRange::new();
    let mut failure: Option<VerifyError> = None;
    // The root of every prefix a checkpoint seen elsewhere claims.
    let mut prefix_roots: std::collections::BTreeMap<u64, Option<Hash>> = earlier
        .iter()
        .map(|e| e.checkpoint.size())
        .filter(|s| *s > 0)
        .map(|s| (s, None))
        .collect();

    progress.start(size);
    let plan = Level0 { size };
    // The level-0 tiles and bundles may be fetched ahead on background
    // threads (`Source::fetch_threads`), so that fetching overlaps hashing;
    // they are checked here in order, exactly as if fetched one by one.
    std::thread::scope(|scope| -> Result<(), VerifyError> {
        let mut prefetch = Prefetch::start(scope, source, plan);
        for i in 0..plan.len() {
            let (level0, bundle) = (&plan.tile(i), &plan.bundle(i));
            let fetched = prefetch.next()?;
            let (tile_bytes, bundle_bytes) = fetched.bytes?;
            let hashes = decode_hash_tile(level0, &tile_bytes)
                .map_err(|e| VerifyError::failed(source.locate(&fetched.tile_path), e))?;
            let bundle_bytes = bundle_bytes?;
            let entries = decode_entry_bundle(bundle, &bundle_bytes)
                .map_err(|e| VerifyError::failed(source.locate(&fetched.bundle_path), e))?;
            tiles_checked += 2;
            for (i, (entry, hash)) in entries.iter().zip(&hashes).enumerate() {
                let leaf = leaf_hash(entry);
                if leaf != *hash {
                    return Err(VerifyError::failed(
                        source.locate(&fetched.bundle_path),
                        format!(
                            "entry {i} hashes to {leaf}, but {} holds {hash}",
                            fetched.tile_path
                        ),
                    ));
                }
                range.append(leaf, |id, node| {
                    if failure.is_some() || id.level == 0 || id.level % TILE_HEIGHT != 0 {
                        return;
                    }
                    if let Err(e) =
                        check_upper(source, size, &mut upper, &mut tiles_checked, id, node)
                    {
                        failure = Some(e);
                    }
                });
                if let Some(e) = failure.take() {
                    return Err(e);
                }
                if let Some(slot) = prefix_roots.get_mut(&range.size()) {
                    *slot = Some(range.root());
                }
            }
            progress.advance(range.size());
        }
        Ok(())
    })?;
    progress.finish();

    let root = range.root();
    if root != *checkpoint.root() {
        return Err(VerifyError::failed(
            source.locate("checkpoint"),
            format!(
                "the tiles give root {root} for size {size}, but the checkpoint says {}",
                checkpoint.root()
            ),
        ));
    }
    for e in &earlier {
        let root = match e.checkpoint.size() {
            0 => oretrace_tlog::hash::EMPTY_ROOT,
            n => match prefix_roots.get(&n).copied().flatten() {
                Some(r) => r,
                None => continue,
            },
        };
        if root != *e.checkpoint.root() {
            return Err(VerifyError::Fork(Box::new(Fork {
                detail: format!(
                    "fork: the first {} entries now have root {root}, but root {} was signed and seen before ({})",
                    e.checkpoint.size(),
                    e.checkpoint.root(),
                    e.source
                ),
                earlier: (*e).clone(),
                now: served,
            })));
        }
    }
    if let Some(state) = state {
        state.save(&checkpoint_bytes, &checkpoint)?;
    }
    Ok(Report {
        checkpoint,
        note: checkpoint_bytes,
        previous,
        entries_checked: range.size(),
        tiles_checked,
        ahead,
    })
}

/// What fetching a resource gave.
type FetchResult = Result<Vec<u8>, VerifyError>;

/// A level-0 hash tile and the entry bundle it covers, as fetched.
struct Fetched {
    tile_path: String,
    bundle_path: String,
    /// The tile's bytes, and the bundle's (only asked for once the tile
    /// was fetched).
    bytes: Result<(Vec<u8>, FetchResult), VerifyError>,
}

impl Fetched {
    /// Fetches the tile, then (if that worked) the bundle.
    fn fetch(source: &dyn Source, tile: &TileId, bundle: &TileId) -> Self {
        let tile_path = tile.path();
        let bundle_path = bundle.path();
        let bytes = fetch_required(source, &tile_path)
            .map(|tile_bytes| (tile_bytes, fetch_required(source, &bundle_path)));
        Fetched {
            tile_path,
            bundle_path,
            bytes,
        }
    }

    fn failed(&self) -> bool {
        !matches!(self.bytes, Ok((_, Ok(_))))
    }
}

/// Hands the level-0 tiles and their bundles to the audit in order.
///
/// With `Source::fetch_threads` = 0 they are fetched on the auditing
/// thread when asked for. Otherwise pair `i` is fetched on worker
/// `i % workers`, each worker handing over one pair at a time (a rendezvous
/// channel), so at most `workers + 1` pairs are in memory (with 100-byte
/// entries a pair is about 34 KB; at most about 16.8 MB). A worker stops
/// after a failed fetch, or when the receiving side is gone (the audit
/// stopped early: the scope then waits for fetches already under way).
/// The level-0 hash tiles and entry bundles of a tree, computed one at a
/// time (a hostile checkpoint may claim any size up to 2^64).
#[derive(Clone, Copy, Debug)]
struct Level0 {
    size: u64,
}

impl Level0 {
    fn len(&self) -> u64 {
        tile_count(self.size, TileKind::Hashes(0))
    }

    fn tile(&self, i: u64) -> TileId {
        tile_at(self.size, TileKind::Hashes(0), i).unwrap_or(TileId {
            kind: TileKind::Hashes(0),
            index: i,
            width: 1,
        })
    }

    fn bundle(&self, i: u64) -> TileId {
        tile_at(self.size, TileKind::Entries, i).unwrap_or(TileId {
            kind: TileKind::Entries,
            index: i,
            width: 1,
        })
    }
}

struct Prefetch<'a> {
    source: &'a dyn Source,
    plan: Level0,
    receivers: Vec<std::sync::mpsc::Receiver<Fetched>>,
    next: u64,
}

impl<'a> Prefetch<'a> {
    fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        source: &'a dyn Source,
        plan: Level0,
    ) -> Self
    where
        'a: 'scope,
    {
        let pairs = plan.len();
        let workers = (source.fetch_threads() as u64).min(pairs);
        let receivers = (0..workers)
            .map(|worker| {
                let (tx, rx) = std::sync::mpsc::sync_channel(0);
                scope.spawn(move || {
                    let mut i = worker;
                    while i < pairs {
                        let fetched = Fetched::fetch(source, &plan.tile(i), &plan.bundle(i));
                        let failed = fetched.failed();
                        if tx.send(fetched).is_err() || failed {
                            return;
                        }
                        i += workers;
                    }
                });
                rx
            })
            .collect();
        Prefetch {
            source,
            plan,
            receivers,
            next: 0,
        }
    }

    /// The next pair, in order.
    fn next(&mut self) -> Result<Fetched, VerifyError> {
        let i = self.next;
        self.next += 1;
        if self.receivers.is_empty() {
            return Ok(Fetched::fetch(
                self.source,
                &self.plan.tile(i),
                &self.plan.bundle(i),
            ));
        }
        self.receivers[(i % self.receivers.len() as u64) as usize]
            .recv()
            .map_err(|_| {
                VerifyError::Operational("a tile fetching thread stopped unexpectedly".into())
            })
    }
}

/// Checks a completed subtree hash at a tile level against its tile.
fn check_upper(
    source: &dyn Source,
    size: u64,
    upper: &mut [Option<(TileId, Vec<Hash>)>],
    tiles_checked: &mut u64,
    id: NodeId,
    node: &Hash,
) -> Result<(), VerifyError> {
    let tile_level = id.level / TILE_HEIGHT;
    let tile_index = id.index / TILE_WIDTH;
    let slot = &mut upper[usize::from(tile_level)];
    if slot.as_ref().map(|(t, _)| t.index) != Some(tile_index) {
        let tile = tile_at(size, TileKind::Hashes(tile_level), tile_index).ok_or_else(|| {
            VerifyError::failed(
                format!("tile level {tile_level}"),
                "tree shape is inconsistent",
            )
        })?;
        let bytes = fetch_required(source, &tile.path())?;
        let hashes = decode_hash_tile(&tile, &bytes)
            .map_err(|e| VerifyError::failed(source.locate(&tile.path()), e))?;
        *tiles_checked += 1;
        *slot = Some((tile, hashes));
    }
    let Some((tile, hashes)) = slot.as_ref() else {
        return Ok(());
    };
    let stored = hashes[(id.index % TILE_WIDTH) as usize];
    if stored != *node {
        return Err(VerifyError::failed(
            source.locate(&tile.path()),
            format!(
                "hash {} is {stored}, but the tiles below give {node}",
                id.index % TILE_WIDTH
            ),
        ));
    }
    Ok(())
}

/// What a verified receipt showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptReport {
    pub checkpoint: Checkpoint,
    pub index: u64,
    pub entry_sha256: [u8; 32],
    /// The entry the receipt was verified for.
    pub entry: Vec<u8>,
}

/// Checks a `tlog-proof` receipt offline. The entry comes from `entry` if
/// given (the user's own copy), else from the receipt's `extra` line.
pub fn verify_receipt(
    receipt_bytes: &[u8],
    entry: Option<&[u8]>,
    log_key: &NoteVerifier,
) -> Result<ReceiptReport, VerifyError> {
    let receipt = Receipt::parse(receipt_bytes).map_err(|e| VerifyError::failed("receipt", e))?;
    let given = entry;
    let entry: Vec<u8> = match (entry, &receipt.extra) {
        (Some(entry), _) => entry.to_vec(),
        (None, Some(extra)) => extra.clone(),
        (None, None) => {
            return Err(VerifyError::Operational(
                "the receipt carries no entry: give the entry with --entry FILE".into(),
            ));
        }
    };
    let verified =
        receipt
            .verify(&leaf_hash(&entry), log_key)
            .map_err(|e| match (&receipt.extra, given) {
                // The user's copy is not the receipt's entry: say how they
                // differ (a trailing newline, most often) rather than only
                // that the root does not match.
                (Some(extra), Some(given)) if extra.as_slice() != given => {
                    VerifyError::failed("entry", format!("{e}; {}", entry_difference(given, extra)))
                }
                _ => VerifyError::failed("receipt", e),
            })?;
    Ok(ReceiptReport {
        checkpoint: verified.checkpoint,
        index: verified.index,
        entry_sha256: oretrace_tlog::hash::sha256(&entry),
        entry,
    })
}

/// How the user's copy of an entry differs from the receipt's: their
/// lengths, and a trailing newline or carriage return one of them has.
fn entry_difference(given: &[u8], receipt: &[u8]) -> String {
    let mut text = format!(
        "the entry given ({} bytes) is not the receipt's entry ({} bytes)",
        given.len(),
        receipt.len()
    );
    let trimmed = |b: &[u8]| -> usize {
        b.iter()
            .rev()
            .take_while(|c| **c == b'\n' || **c == b'\r')
            .count()
    };
    let (ends_given, ends_receipt) = (trimmed(given), trimmed(receipt));
    if given[..given.len() - ends_given] == receipt[..receipt.len() - ends_receipt] {
        text.push_str(&format!(
            ": they differ only in the line ending at the end ({} trailing newline byte(s) in the file, {} in the receipt's entry); write the file without it (printf '%s', not echo)",
            ends_given, ends_receipt
        ));
    } else if let Some(at) = given.iter().zip(receipt).position(|(a, b)| a != b) {
        text.push_str(&format!(": they first differ at byte {at}"));
    } else {
        text.push_str(": one is the other with bytes added at the end");
    }
    text
}
