//! Tree heads and proof generation over stored subtree hashes, and the
//! streaming [`CompactRange`] that builds a tree one leaf at a time.
//!
//! Storage keeps the hash of every *full* aligned subtree, named by a
//! [`NodeId`]: level `l`, index `i` is `MTH(D[i·2^l .. (i+1)·2^l])`. Level 0
//! holds leaf hashes; tiles are the levels that are multiples of 8. Any
//! range hash, and so any root or proof, is a fold of such nodes.

use crate::Error;
use crate::hash::{EMPTY_ROOT, Hash, node_hash};

/// The hash of the full subtree of `2^level` leaves starting at leaf
/// `index << level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    pub fn new(level: u8, index: u64) -> Self {
        NodeId { level, index }
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "level {} index {}", self.level, self.index)
    }
}

/// Reads stored subtree hashes. Implemented by every store (memory, tiles
/// on disk, databases); the proofs below read through it in one batch.
pub trait HashReader {
    /// Returns the hashes of `ids`, in the same order.
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Error>;
}

/// The maximal aligned full subtrees that make up `[lo, hi)`, left to right.
pub fn range_nodes(lo: u64, hi: u64) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    let mut lo = lo;
    while lo < hi {
        let align = if lo == 0 { 63 } else { lo.trailing_zeros() };
        let fit = 63 - (hi - lo).leading_zeros();
        let level = align.min(fit);
        nodes.push(NodeId::new(level as u8, lo >> level));
        lo += 1u64 << level;
    }
    nodes
}

/// Folds the hashes of a range's nodes (as from [`range_nodes`]) into the
/// range's Merkle tree hash: `node(h0, node(h1, ... node(hk-1, hk)))`.
pub fn fold_range(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    let Some(last) = iter.next() else {
        return EMPTY_ROOT;
    };
    iter.fold(*last, |acc, h| node_hash(h, &acc))
}

/// The largest power of two strictly less than `n` (for `n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The ranges whose hashes form the RFC 6962 audit path of leaf `index`
/// in a tree of `size` leaves, leaf's sibling first.
pub fn inclusion_ranges(index: u64, size: u64) -> Result<Vec<(u64, u64)>, Error> {
    if index >= size {
        return Err(Error::OutOfRange {
            what: "inclusion proof",
            detail: format!("leaf index {index} is not below tree size {size}"),
        });
    }
    let mut ranges = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            lo += k;
        }
    }
    ranges.reverse();
    Ok(ranges)
}

/// The ranges whose hashes form the RFC 6962 consistency proof between
/// sizes `old` and `new`, in proof order. Empty when `old == new`.
pub fn consistency_ranges(old: u64, new: u64) -> Result<Vec<(u64, u64)>, Error> {
    if old > new {
        return Err(Error::OutOfRange {
            what: "consistency proof",
            detail: format!("old size {old} is larger than new size {new}"),
        });
    }
    if old == 0 {
        return Err(Error::OutOfRange {
            what: "consistency proof",
            detail: "a proof from the empty tree is meaningless".into(),
        });
    }
    // SUBPROOF(m, D[lo:hi], b) from RFC 6962 §2.1.2, unrolled.
    let mut ranges = Vec::new();
    let (mut m, mut lo, mut hi, mut complete) = (old, 0u64, new, true);
    loop {
        let n = hi - lo;
        if m == n {
            if !complete {
                ranges.push((lo, hi));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            m -= k;
            lo += k;
            complete = false;
        }
    }
    ranges.reverse();
    Ok(ranges)
}

/// Reads every node of `ranges` in one batch and folds each range.
fn hash_ranges(ranges: &[(u64, u64)], reader: &impl HashReader) -> Result<Vec<Hash>, Error> {
    let per_range: Vec<Vec<NodeId>> = ranges.iter().map(|&(lo, hi)| range_nodes(lo, hi)).collect();
    let ids: Vec<NodeId> = per_range.iter().flatten().copied().collect();
    let hashes = reader.read_hashes(&ids)?;
    if hashes.len() != ids.len() {
        return Err(Error::OutOfRange {
            what: "hash reader",
            detail: format!("asked for {} hashes, got {}", ids.len(), hashes.len()),
        });
    }
    let mut out = Vec::with_capacity(ranges.len());
    let mut at = 0;
    for nodes in &per_range {
        out.push(fold_range(&hashes[at..at + nodes.len()]));
        at += nodes.len();
    }
    Ok(out)
}

/// The Merkle tree hash (root) of the first `size` leaves.
pub fn tree_hash(size: u64, reader: &impl HashReader) -> Result<Hash, Error> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    Ok(hash_ranges(&[(0, size)], reader)?[0])
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn prove_inclusion(
    index: u64,
    size: u64,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, Error> {
    hash_ranges(&inclusion_ranges(index, size)?, reader)
}

/// The consistency proof from the tree of `old` leaves to that of `new`.
pub fn prove_consistency(old: u64, new: u64, reader: &impl HashReader) -> Result<Vec<Hash>, Error> {
    hash_ranges(&consistency_ranges(old, new)?, reader)
}

/// The right edge of a growing tree: the hashes of the maximal full
/// subtrees of `[0, size)`. Appending a leaf reports every full subtree it
/// completes, which is how tiles and stored hashes are built in one pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    /// Hashes of the maximal full subtrees, largest (leftmost) first.
    nodes: Vec<Hash>,
}

impl CompactRange {
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a range from the hashes of `range_nodes(0, size)`.
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Result<Self, Error> {
        let expected = size.count_ones() as usize;
        if nodes.len() != expected {
            return Err(Error::OutOfRange {
                what: "compact range",
                detail: format!("size {size} needs {expected} hashes, got {}", nodes.len()),
            });
        }
        Ok(CompactRange { size, nodes })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The hashes of the maximal full subtrees, largest first.
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// Appends one leaf hash. `on_complete` sees every full subtree that
    /// this leaf completes, the leaf itself (level 0) first.
    pub fn append(&mut self, leaf: Hash, mut on_complete: impl FnMut(NodeId, &Hash)) {
        let index = self.size;
        let mut hash = leaf;
        on_complete(NodeId::new(0, index), &hash);
        let mut level = 0u8;
        // Each trailing one bit of the old size is a subtree of equal size
        // waiting on the left to be merged.
        while (index >> level) & 1 == 1 {
            let left = self.nodes.pop().unwrap_or(EMPTY_ROOT);
            hash = node_hash(&left, &hash);
            level += 1;
            on_complete(NodeId::new(level, index >> level), &hash);
        }
        self.nodes.push(hash);
        self.size += 1;
    }

    /// The Merkle tree hash of `[0, size)`.
    pub fn root(&self) -> Hash {
        fold_range(&self.nodes)
    }
}

/// Stores every full subtree hash in memory: the reference [`HashReader`]
/// for tests and benchmarks, and a building block for stores.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    range: CompactRange,
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn size(&self) -> u64 {
        self.range.size()
    }

    pub fn root(&self) -> Hash {
        self.range.root()
    }

    pub fn append(&mut self, leaf: Hash) {
        let levels = &mut self.levels;
        self.range.append(leaf, |id, hash| {
            let level = id.level as usize;
            if levels.len() <= level {
                levels.push(Vec::new());
            }
            levels[level].push(*hash);
        });
    }
}

impl HashReader for MemoryTree {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Error> {
        ids.iter()
            .map(|id| {
                self.levels
                    .get(id.level as usize)
                    .and_then(|level| usize::try_from(id.index).ok().and_then(|i| level.get(i)))
                    .copied()
                    .ok_or_else(|| Error::Reader {
                        id: *id,
                        source: "not stored".into(),
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    /// MTH straight from RFC 6962 §2.1, recursively.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn range_nodes_decomposes_into_aligned_subtrees() {
        assert_eq!(range_nodes(0, 0), vec![]);
        assert_eq!(
            range_nodes(0, 5),
            vec![NodeId::new(2, 0), NodeId::new(0, 4)]
        );
        assert_eq!(
            range_nodes(4, 7),
            vec![NodeId::new(1, 2), NodeId::new(0, 6)]
        );
        assert_eq!(range_nodes(8, 16), vec![NodeId::new(3, 1)]);
    }

    #[test]
    fn roots_match_the_recursive_definition() {
        let mut tree = MemoryTree::new();
        let mut leaves = Vec::new();
        for i in 0..300u32 {
            let leaf = leaf_hash(&i.to_be_bytes());
            leaves.push(leaf);
            tree.append(leaf);
            let n = leaves.len() as u64;
            assert_eq!(tree.root(), reference_root(&leaves), "size {n}");
            assert_eq!(tree_hash(n, &tree).unwrap(), tree.root());
            for old in [1, n / 2 + 1, n] {
                assert_eq!(
                    tree_hash(old, &tree).unwrap(),
                    reference_root(&leaves[..old as usize])
                );
            }
        }
    }

    #[test]
    fn compact_range_round_trips_through_parts() {
        let mut range = CompactRange::new();
        for i in 0..77u8 {
            range.append(leaf_hash(&[i]), |_, _| {});
        }
        let rebuilt = CompactRange::from_parts(77, range.nodes().to_vec()).unwrap();
        assert_eq!(rebuilt, range);
        assert!(CompactRange::from_parts(79, range.nodes().to_vec()).is_err());
    }
}
