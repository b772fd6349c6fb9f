//! A tlog-tiles log stored in a directory, laid out exactly as C2SP
//! `tlog-tiles` names its resources, so that any static web server can host
//! it: `checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`.
//!
//! Writes are crash-safe: every file is written to a temporary name,
//! fsynced and renamed into place, directories are fsynced, and the
//! checkpoint is written last. A checkpoint is signed only after the tiles
//! on disk are read back and shown consistent with the previous checkpoint.
//! Partial tiles of every published size are kept.

mod fs;

use std::path::{Path, PathBuf};

use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::hash::{Hash, leaf_hash};
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use oretrace_tlog::proof::verify_consistency;
use oretrace_tlog::receipt::Receipt;
use oretrace_tlog::tile::{
    TILE_HEIGHT, TILE_WIDTH, TileFetcher, TileId, TileKind, TiledHashReader, decode_entry_bundle,
    decode_hash_tile, partial_tiles, push_bundle_entry,
};
use oretrace_tlog::tree::{
    CompactRange, HashReader as _, prove_consistency, prove_inclusion, range_nodes, tree_hash,
};

pub use fs::DirFetcher;

/// What can go wrong with a log directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Log(#[from] oretrace_tlog::Error),
    #[error("{path} already holds a log")]
    AlreadyExists { path: PathBuf },
    #[error("the tiles on disk do not match the log being written: {detail}")]
    Inconsistent { detail: String },
    #[error("{path} is locked by another writer: {detail}")]
    Locked { path: PathBuf, detail: String },
    #[error("entry {index} of the batch: {source}")]
    Entry {
        index: usize,
        source: oretrace_tlog::Error,
    },
}

/// The right edge of the tree as tiles: what is needed to keep appending.
#[derive(Clone, Debug)]
struct Edge {
    range: CompactRange,
    /// Hashes of the rightmost, not yet full, tile at each tile level.
    partial_hashes: Vec<Vec<Hash>>,
    /// The rightmost, not yet full, entry bundle.
    partial_entries: Vec<u8>,
}

/// A log directory open for appending. One writer at a time.
#[derive(Debug)]
pub struct TileLog {
    dir: PathBuf,
    signer: NoteSigner,
    fetcher: DirFetcher,
    edge: Edge,
    checkpoint: Checkpoint,
    checkpoint_note: Vec<u8>,
    _lock: std::fs::File,
}

impl TileLog {
    /// Creates an empty log in `dir` and publishes its size-0 checkpoint.
    /// The log's origin is the signer's key name.
    pub fn create(dir: &Path, signer: NoteSigner) -> Result<Self, Error> {
        fs::create_dir_all(dir)?;
        // Lock first, then look: two racing creates cannot both see no log.
        let lock = fs::lock_writer(dir)?;
        let checkpoint_path = dir.join("checkpoint");
        if checkpoint_path.exists() {
            return Err(Error::AlreadyExists {
                path: dir.to_owned(),
            });
        }
        let checkpoint = Checkpoint::new(signer.name(), 0, oretrace_tlog::hash::EMPTY_ROOT)?;
        let note = checkpoint.sign(&signer)?.to_bytes();
        fs::write_atomic(&checkpoint_path, &note)?;
        Ok(TileLog {
            fetcher: DirFetcher::new(dir),
            dir: dir.to_owned(),
            signer,
            edge: Edge {
                range: CompactRange::new(),
                partial_hashes: Vec::new(),
                partial_entries: Vec::new(),
            },
            checkpoint,
            checkpoint_note: note,
            _lock: lock,
        })
    }

    /// Opens an existing log: verifies its checkpoint with the signer's own
    /// key and rebuilds the right edge from the partial tiles on disk.
    pub fn open(dir: &Path, signer: NoteSigner) -> Result<Self, Error> {
        let lock = fs::lock_writer(dir)?;
        let fetcher = DirFetcher::new(dir);
        let note = fs::read(&dir.join("checkpoint"))?;
        let (checkpoint, _) = Checkpoint::open(&note, &signer.verifier())?;
        let size = checkpoint.size();
        let reader = TiledHashReader::new(&fetcher, size);
        let nodes = reader.read_hashes(&range_nodes(0, size))?;
        let range = CompactRange::from_parts(size, nodes)?;
        if range.root() != *checkpoint.root() {
            return Err(Error::Inconsistent {
                detail: format!(
                    "tiles give root {} but the checkpoint says {}",
                    range.root(),
                    checkpoint.root()
                ),
            });
        }
        let mut partial_hashes = Vec::new();
        let mut partial_entries = Vec::new();
        for tile in partial_tiles(size) {
            let bytes = fetcher.fetch_tile(&tile)?;
            match tile.kind {
                TileKind::Hashes(level) => {
                    decode_hash_tile(&tile, &bytes)?;
                    let level = usize::from(level);
                    partial_hashes.resize(partial_hashes.len().max(level + 1), Vec::new());
                    partial_hashes[level] = decode_hash_tile(&tile, &bytes)?;
                }
                TileKind::Entries => {
                    // The partial bundle is carried into the next full one:
                    // check each entry against its level-0 hash first.
                    let entries = decode_entry_bundle(&tile, &bytes)?;
                    let level0 = TiledHashReader::new(&fetcher, size)
                        .read_hashes(&tile.nodes().collect::<Vec<_>>())?;
                    if let Some(i) = entries
                        .iter()
                        .zip(&level0)
                        .position(|(e, h)| leaf_hash(e) != *h)
                    {
                        return Err(Error::Inconsistent {
                            detail: format!(
                                "entry {i} of {} does not match its hash in the level-0 tile",
                                tile.path()
                            ),
                        });
                    }
                    partial_entries = bytes;
                }
            }
        }
        Ok(TileLog {
            dir: dir.to_owned(),
            signer,
            fetcher,
            edge: Edge {
                range,
                partial_hashes,
                partial_entries,
            },
            checkpoint,
            checkpoint_note: note,
            _lock: lock,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last published checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The last published checkpoint note, signed.
    pub fn checkpoint_note(&self) -> &[u8] {
        &self.checkpoint_note
    }

    pub fn size(&self) -> u64 {
        self.checkpoint.size()
    }

    /// Appends a batch of entries and publishes one checkpoint covering
    /// them. Returns the index of the first entry. On error nothing is
    /// published and the log stays at its previous checkpoint.
    pub fn append<E: AsRef<[u8]>>(&mut self, entries: &[E]) -> Result<u64, Error> {
        for (index, entry) in entries.iter().enumerate() {
            let len = entry.as_ref().len();
            if len > oretrace_tlog::tile::MAX_ENTRY_BYTES {
                return Err(Error::Entry {
                    index,
                    source: oretrace_tlog::Error::EntryTooLarge { len },
                });
            }
        }
        let first = self.size();
        if entries.is_empty() {
            return Ok(first);
        }
        let mut edge = self.edge.clone();
        let mut completed: Vec<(oretrace_tlog::NodeId, Hash)> = Vec::new();
        for entry in entries {
            let entry = entry.as_ref();
            let index = edge.range.size();
            push_bundle_entry(&mut edge.partial_entries, entry)?;
            if (index + 1).is_multiple_of(TILE_WIDTH) {
                let tile = TileId {
                    kind: TileKind::Entries,
                    index: index / TILE_WIDTH,
                    width: TILE_WIDTH as u16,
                };
                fs::write_atomic(&self.dir.join(tile.path()), &edge.partial_entries)?;
                edge.partial_entries.clear();
            }
            completed.clear();
            edge.range.append(leaf_hash(entry), |id, hash| {
                if id.level % TILE_HEIGHT == 0 {
                    completed.push((id, *hash));
                }
            });
            for (id, hash) in &completed {
                let level = usize::from(id.level / TILE_HEIGHT);
                edge.partial_hashes
                    .resize(edge.partial_hashes.len().max(level + 1), Vec::new());
                let tile_hashes = &mut edge.partial_hashes[level];
                tile_hashes.push(*hash);
                if tile_hashes.len() as u64 == TILE_WIDTH {
                    let tile = TileId {
                        kind: TileKind::Hashes(level as u8),
                        index: id.index / TILE_WIDTH,
                        width: TILE_WIDTH as u16,
                    };
                    fs::write_atomic(&self.dir.join(tile.path()), &concat(tile_hashes))?;
                    tile_hashes.clear();
                }
            }
        }
        let size = edge.range.size();
        for tile in partial_tiles(size) {
            let bytes = match tile.kind {
                TileKind::Hashes(level) => concat(&edge.partial_hashes[usize::from(level)]),
                TileKind::Entries => edge.partial_entries.clone(),
            };
            fs::write_atomic(&self.dir.join(tile.path()), &bytes)?;
        }

        let root = edge.range.root();
        self.check_disk_consistency(size, &root)?;
        let checkpoint = Checkpoint::new(self.signer.name(), size, root)?;
        let note = checkpoint.sign(&self.signer)?.to_bytes();
        fs::write_atomic(&self.dir.join("checkpoint"), &note)?;
        self.edge = edge;
        self.checkpoint = checkpoint;
        self.checkpoint_note = note;
        Ok(first)
    }

    /// Reads the new tiles back from disk and checks that they extend the
    /// previous checkpoint and give `root` at `size`.
    fn check_disk_consistency(&self, size: u64, root: &Hash) -> Result<(), Error> {
        let reader = TiledHashReader::new(&self.fetcher, size);
        let old = &self.checkpoint;
        if old.size() == 0 {
            let on_disk = tree_hash(size, &reader)?;
            if on_disk != *root {
                return Err(Error::Inconsistent {
                    detail: format!("root on disk {on_disk}, in memory {root}"),
                });
            }
            return Ok(());
        }
        let proof = prove_consistency(old.size(), size, &reader)?;
        verify_consistency(old.size(), size, &proof, old.root(), root).map_err(|e| {
            Error::Inconsistent {
                detail: format!("size {} to {size}: {e}", old.size()),
            }
        })
    }

    /// A `tlog-proof` receipt for entry `index` against the current
    /// checkpoint, with the entry itself in the `extra` line.
    pub fn receipt(&self, index: u64) -> Result<Receipt, Error> {
        self.reader().receipt(index)
    }

    /// The entry at `index`, read from its bundle.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, Error> {
        self.reader().entry(index)
    }

    fn reader(&self) -> LogReader {
        LogReader {
            fetcher: self.fetcher.clone(),
            checkpoint: self.checkpoint.clone(),
            checkpoint_note: self.checkpoint_note.clone(),
        }
    }
}

/// Read-only access to a log directory at its current checkpoint, opened
/// with the log's public key alone.
#[derive(Debug, Clone)]
pub struct LogReader {
    fetcher: DirFetcher,
    checkpoint: Checkpoint,
    checkpoint_note: Vec<u8>,
}

impl LogReader {
    /// Opens `dir` and verifies its checkpoint with `log_key`.
    pub fn open(dir: &Path, log_key: &NoteVerifier) -> Result<Self, Error> {
        let note = fs::read(&dir.join("checkpoint"))?;
        let (checkpoint, _) = Checkpoint::open(&note, log_key)?;
        Ok(LogReader {
            fetcher: DirFetcher::new(dir),
            checkpoint,
            checkpoint_note: note,
        })
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    pub fn size(&self) -> u64 {
        self.checkpoint.size()
    }

    /// A `tlog-proof` receipt for entry `index` against the current
    /// checkpoint, with the entry itself in the `extra` line.
    pub fn receipt(&self, index: u64) -> Result<Receipt, Error> {
        let size = self.size();
        let reader = TiledHashReader::new(&self.fetcher, size);
        let proof = prove_inclusion(index, size, &reader)?;
        let entry = self.entry(index)?;
        Ok(Receipt {
            extra: Some(entry),
            index,
            proof,
            checkpoint: self.checkpoint_note.clone(),
        })
    }

    /// The entry at `index`, read from its bundle.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, Error> {
        let size = self.size();
        if index >= size {
            return Err(oretrace_tlog::Error::OutOfRange {
                what: "entry",
                detail: format!("index {index} is not below the log size {size}"),
            }
            .into());
        }
        let bundle = index / TILE_WIDTH;
        let full = size / TILE_WIDTH;
        let width = if bundle < full {
            TILE_WIDTH
        } else {
            size % TILE_WIDTH
        };
        let tile = TileId {
            kind: TileKind::Entries,
            index: bundle,
            width: width as u16,
        };
        let bytes = self.fetcher.fetch_tile(&tile)?;
        let entries = decode_entry_bundle(&tile, &bytes)?;
        Ok(entries[(index % TILE_WIDTH) as usize].to_vec())
    }
}

fn concat(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}
