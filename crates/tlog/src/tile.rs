//! C2SP `tlog-tiles`: which tiles a tree of a given size has, their paths
//! (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`), and the encodings
//! of hash tiles and entry bundles.

use crate::Error;
use crate::checkpoint::parse_canonical_u64;
use crate::hash::Hash;
use crate::tree::NodeId;

/// Tree levels per tile.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Largest entry an entry bundle can hold.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// Hash tiles at a level, or entry bundles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// Tile level `L`, holding tree level `8·L` hashes.
    Hashes(u8),
    Entries,
}

/// One tile or entry bundle: kind, index within its level, width 1..=256.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub kind: TileKind,
    pub index: u64,
    pub width: u16,
}

impl TileId {
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// The tile level whose leaf hashes this tile holds (entries: 0).
    pub fn hash_level(&self) -> u8 {
        match self.kind {
            TileKind::Hashes(l) => l,
            TileKind::Entries => 0,
        }
    }

    /// The stored nodes this tile holds, left to right. Empty for a tile
    /// no tree can have (tree levels above 63, indexes past 2^64).
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        let level = u32::from(self.hash_level()) * u32::from(TILE_HEIGHT);
        let first = self.index.checked_mul(TILE_WIDTH);
        let width = u64::from(self.width);
        let valid = level < 64 && first.is_some_and(|f| f.checked_add(width).is_some());
        let (level, first, width) = if valid {
            (level as u8, first.unwrap_or(0), width)
        } else {
            (0, 0, 0)
        };
        (0..width).map(move |i| NodeId::new(level, first + i))
    }

    /// The path of this tile relative to the log prefix.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes(l) => l.to_string(),
            TileKind::Entries => "entries".to_owned(),
        };
        let mut path = format!("tile/{level}/{}", encode_index(self.index));
        if !self.is_full() {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// Parses a tile path, refusing anything not in canonical form.
    pub fn parse_path(path: &str) -> Result<Self, Error> {
        let bad = |detail: &str| Error::Tile {
            path: path.to_owned(),
            detail: detail.to_owned(),
        };
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| bad("does not start with tile/"))?;
        let (level, rest) = rest.split_once('/').ok_or_else(|| bad("has no index"))?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let l = parse_canonical_u64(level, "tile level")
                .map_err(|_| bad("level is not a canonical decimal"))?;
            if l > 63 {
                return Err(bad("level is above 63"));
            }
            TileKind::Hashes(l as u8)
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index_part, w)) => {
                let w = parse_canonical_u64(w, "tile width")
                    .map_err(|_| bad("width is not a canonical decimal"))?;
                if !(1..TILE_WIDTH).contains(&w) {
                    return Err(bad("partial width is not between 1 and 255"));
                }
                (index_part, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let index =
            decode_index(index_part).ok_or_else(|| bad("index is not in x001/x234/067 form"))?;
        Ok(TileId { kind, index, width })
    }
}

/// `1234067` → `x001/x234/067`.
pub fn encode_index(mut n: u64) -> String {
    let mut out = format!("{:03}", n % 1000);
    while n >= 1000 {
        n /= 1000;
        out = format!("x{:03}/{out}", n % 1000);
    }
    out
}

fn decode_index(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.split('/').collect();
    let mut n: u64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let digits = if last { *part } else { part.strip_prefix('x')? };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if i == 0 && !last && digits == "000" {
            return None;
        }
        n = n
            .checked_mul(1000)?
            .checked_add(digits.parse::<u64>().ok()?)?;
    }
    Some(n)
}

/// Every hash tile of a tree of `size` leaves at tile level `level`, full
/// tiles first and the partial one (if any) last.
pub fn hash_tiles_at_level(size: u64, level: u8) -> Vec<TileId> {
    tiles_covering(size, TileKind::Hashes(level))
}

/// Every entry bundle of a tree of `size` leaves.
pub fn entry_bundles(size: u64) -> Vec<TileId> {
    tiles_covering(size, TileKind::Entries)
}

fn tiles_covering(size: u64, kind: TileKind) -> Vec<TileId> {
    let level = match kind {
        TileKind::Hashes(l) => l,
        TileKind::Entries => 0,
    };
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    let hashes = if shift >= 64 { 0 } else { size >> shift };
    let full = hashes / TILE_WIDTH;
    let mut tiles: Vec<TileId> = (0..full)
        .map(|index| TileId {
            kind,
            index,
            width: TILE_WIDTH as u16,
        })
        .collect();
    let rest = hashes % TILE_WIDTH;
    if rest > 0 {
        tiles.push(TileId {
            kind,
            index: full,
            width: rest as u16,
        });
    }
    tiles
}

fn hashes_at(size: u64, kind: TileKind) -> u64 {
    let level = match kind {
        TileKind::Hashes(l) => l,
        TileKind::Entries => 0,
    };
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    if shift >= 64 { 0 } else { size >> shift }
}

/// How many tiles of `kind` (full and partial) a tree of `size` leaves has.
pub fn tile_count(size: u64, kind: TileKind) -> u64 {
    hashes_at(size, kind).div_ceil(TILE_WIDTH)
}

/// The `index`-th tile of `kind` in a tree of `size` leaves, computed
/// without listing the others; `None` past the last one.
pub fn tile_at(size: u64, kind: TileKind, index: u64) -> Option<TileId> {
    let hashes = hashes_at(size, kind);
    let full = hashes / TILE_WIDTH;
    let width = if index < full {
        TILE_WIDTH
    } else if index == full && !hashes.is_multiple_of(TILE_WIDTH) {
        hashes % TILE_WIDTH
    } else {
        return None;
    };
    Some(TileId {
        kind,
        index,
        width: width as u16,
    })
}

/// The number of tile levels a tree of `size` leaves has (0 for empty).
pub fn tile_levels(size: u64) -> u8 {
    let mut levels = 0u8;
    let mut n = size;
    while n > 0 {
        levels += 1;
        n >>= TILE_HEIGHT;
    }
    levels
}

/// The partial tiles (hash tiles at every level, and the entry bundle) of
/// a tree of `size` leaves: what must be written when a checkpoint of that
/// size is published.
pub fn partial_tiles(size: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    for level in 0..tile_levels(size) {
        if let Some(t) = hash_tiles_at_level(size, level)
            .pop()
            .filter(|t| !t.is_full())
        {
            out.push(t);
        }
    }
    if let Some(t) = entry_bundles(size).pop().filter(|t| !t.is_full()) {
        out.push(t);
    }
    out
}

/// Splits a hash tile's bytes into hashes, checking its length.
pub fn decode_hash_tile(tile: &TileId, bytes: &[u8]) -> Result<Vec<Hash>, Error> {
    let expected = usize::from(tile.width) * 32;
    if bytes.len() != expected {
        return Err(Error::Tile {
            path: tile.path(),
            detail: format!(
                "is {} bytes, expected {expected} ({} hashes); the tile is {}",
                bytes.len(),
                tile.width,
                if bytes.len() < expected {
                    "truncated"
                } else {
                    "oversized"
                }
            ),
        });
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| Hash(c.try_into().unwrap_or([0; 32])))
        .collect())
}

/// Appends one entry to a bundle: big-endian u16 length, then the bytes.
pub fn push_bundle_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), Error> {
    let len = u16::try_from(entry.len()).map_err(|_| Error::EntryTooLarge { len: entry.len() })?;
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// Splits an entry bundle into its entries, checking it holds exactly
/// `tile.width` of them and nothing after.
pub fn decode_entry_bundle<'a>(tile: &TileId, bytes: &'a [u8]) -> Result<Vec<&'a [u8]>, Error> {
    let bad = |detail: String| Error::Tile {
        path: tile.path(),
        detail,
    };
    let mut entries = Vec::with_capacity(usize::from(tile.width));
    let mut at = 0usize;
    while at < bytes.len() {
        if entries.len() == usize::from(tile.width) {
            return Err(bad(format!(
                "has {} trailing bytes after {} entries",
                bytes.len() - at,
                tile.width
            )));
        }
        let Some(len_bytes) = bytes.get(at..at + 2) else {
            return Err(bad(format!(
                "entry {} has a truncated length prefix",
                entries.len()
            )));
        };
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let Some(entry) = bytes.get(at + 2..at + 2 + len) else {
            return Err(bad(format!(
                "entry {} is truncated: needs {len} bytes",
                entries.len()
            )));
        };
        entries.push(entry);
        at += 2 + len;
    }
    if entries.len() != usize::from(tile.width) {
        return Err(bad(format!(
            "holds {} entries, expected {}",
            entries.len(),
            tile.width
        )));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec() {
        let t = |kind, index, width| TileId { kind, index, width };
        for (tile, path) in [
            (t(TileKind::Hashes(0), 0, 256), "tile/0/000"),
            (t(TileKind::Hashes(0), 1234067, 256), "tile/0/x001/x234/067"),
            (t(TileKind::Hashes(1), 1000, 17), "tile/1/x001/000.p/17"),
            (t(TileKind::Entries, 3, 232), "tile/entries/003.p/232"),
            (t(TileKind::Entries, 999, 256), "tile/entries/999"),
        ] {
            assert_eq!(tile.path(), path);
            assert_eq!(TileId::parse_path(path).unwrap(), tile);
        }
        for bad in [
            "tile/0/1",
            "tile/00/000",
            "tile/0/x000/001",
            "tile/0/001.p/0",
            "tile/0/001.p/256",
            "tile/0/001.p/07",
            "tile/64/000",
            "tile/0/x1/000",
            "tile/0/001/002",
            "tiles/0/000",
            "tile/0/001.p/",
        ] {
            assert!(TileId::parse_path(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn tree_of_70000_has_the_tiles_the_spec_lists() {
        // "273 full level 0 tiles, one partial level 0 tile of width 112,
        // one full level 1 tile, one partial level 1 tile of width 17, and
        // one partial level 2 tile of width 1."
        let l0 = hash_tiles_at_level(70_000, 0);
        assert_eq!(l0.len(), 274);
        assert_eq!(l0.last().unwrap().width, 112);
        let l1 = hash_tiles_at_level(70_000, 1);
        assert_eq!(
            l1.iter().map(|t| t.width).collect::<Vec<_>>(),
            vec![256, 17]
        );
        assert_eq!(hash_tiles_at_level(70_000, 2)[0].width, 1);
        assert_eq!(tile_levels(70_000), 3);
        assert_eq!(partial_tiles(70_000).len(), 4);
        // "a tree of size 256 will be represented by a full level 0 tile
        // and a partial level 1 tile of width 1."
        assert_eq!(
            partial_tiles(256)
                .iter()
                .map(|t| t.path())
                .collect::<Vec<_>>(),
            vec!["tile/1/000.p/1"]
        );
    }

    #[test]
    fn tiles_are_found_without_listing_them() {
        for size in [0u64, 1, 255, 256, 257, 70_000, 1 << 20] {
            for kind in [
                TileKind::Entries,
                TileKind::Hashes(0),
                TileKind::Hashes(1),
                TileKind::Hashes(2),
            ] {
                let listed = tiles_covering(size, kind);
                assert_eq!(tile_count(size, kind), listed.len() as u64);
                for (i, t) in listed.iter().enumerate() {
                    assert_eq!(tile_at(size, kind, i as u64).as_ref(), Some(t));
                }
                assert_eq!(tile_at(size, kind, listed.len() as u64), None);
            }
        }
        assert_eq!(tile_count(u64::MAX, TileKind::Hashes(0)), 1 << 56);
        assert_eq!(
            tile_at(u64::MAX, TileKind::Hashes(7), 0).map(|t| t.width),
            Some(255)
        );
    }

    #[test]
    fn bundles_are_checked() {
        let tile = TileId {
            kind: TileKind::Entries,
            index: 0,
            width: 2,
        };
        let mut b = Vec::new();
        push_bundle_entry(&mut b, b"ab").unwrap();
        push_bundle_entry(&mut b, b"").unwrap();
        assert_eq!(
            decode_entry_bundle(&tile, &b).unwrap(),
            vec![&b"ab"[..], &b""[..]]
        );
        let mut long = b.clone();
        long.push(0);
        assert!(
            decode_entry_bundle(&tile, &long)
                .unwrap_err()
                .to_string()
                .contains("trailing")
        );
        assert!(
            decode_entry_bundle(&tile, &b[..3])
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        assert!(push_bundle_entry(&mut b, &vec![0; 65_536]).is_err());
        let hashes = TileId {
            kind: TileKind::Hashes(0),
            index: 0,
            width: 2,
        };
        assert!(
            decode_hash_tile(&hashes, &[0; 63])
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        assert!(
            decode_hash_tile(&hashes, &[0; 65])
                .unwrap_err()
                .to_string()
                .contains("oversized")
        );
    }
}

/// Where tiles come from: a directory, a web server, a database. The I/O
/// lives in the implementation; this crate only asks for bytes.
pub trait TileFetcher {
    /// The bytes of `tile`, exactly as published.
    fn fetch_tile(&self, tile: &TileId) -> Result<Vec<u8>, Error>;
}

/// A [`crate::tree::HashReader`] over the hash tiles of a tree of a given
/// size: stored hashes at levels between tile levels are recomputed from
/// the tile below, as tlog-tiles intends.
#[derive(Debug)]
pub struct TiledHashReader<'a, F: TileFetcher> {
    fetcher: &'a F,
    size: u64,
}

impl<'a, F: TileFetcher> TiledHashReader<'a, F> {
    /// Reads tiles as published for a checkpoint of `size` leaves.
    pub fn new(fetcher: &'a F, size: u64) -> Self {
        TiledHashReader { fetcher, size }
    }

    /// The tile (full, or partial at this size) that holds `hash_index`
    /// at tile level `level`.
    fn tile_for(&self, level: u8, hash_index: u64) -> Option<TileId> {
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        let hashes = if shift >= 64 { 0 } else { self.size >> shift };
        if hash_index >= hashes {
            return None;
        }
        let index = hash_index / TILE_WIDTH;
        let width = if index < hashes / TILE_WIDTH {
            TILE_WIDTH
        } else {
            hashes % TILE_WIDTH
        };
        Some(TileId {
            kind: TileKind::Hashes(level),
            index,
            width: width as u16,
        })
    }
}

impl<F: TileFetcher> crate::tree::HashReader for TiledHashReader<'_, F> {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Error> {
        let mut cache: Vec<(TileId, Vec<Hash>)> = Vec::new();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let tile_level = id.level / TILE_HEIGHT;
            let sublevel = u32::from(id.level % TILE_HEIGHT);
            let first = id.index << sublevel;
            let count = 1u64 << sublevel;
            let tile = self
                .tile_for(tile_level, first + count - 1)
                .ok_or_else(|| Error::Reader {
                    id: *id,
                    source: format!("not in a tree of size {}", self.size).into(),
                })?;
            let hashes = match cache.iter().position(|(t, _)| *t == tile) {
                Some(at) => &cache[at].1,
                None => {
                    let bytes = self.fetcher.fetch_tile(&tile)?;
                    cache.push((tile, decode_hash_tile(&tile, &bytes)?));
                    &cache[cache.len() - 1].1
                }
            };
            let start = (first % TILE_WIDTH) as usize;
            out.push(subtree_root(&hashes[start..start + count as usize]));
        }
        Ok(out)
    }
}

/// The root of a full, power-of-two-sized run of hashes.
fn subtree_root(hashes: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| crate::hash::node_hash(&p[0], &p[1]))
            .collect();
    }
    level[0]
}
