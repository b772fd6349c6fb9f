//! Property tests for Merkle proof generation and verification.
//!
//! Two kinds of tree are used:
//!
//! * a [`MemoryTree`] of up to ~2000 distinct leaves, where every claim other
//!   than the true one must be refused outright;
//! * a [`SparseTree`] of up to 2^40 leaves, in which a few leaves are
//!   distinct and all others share one "filler" value, so that any subtree
//!   hash is cheap to compute. It is a genuine Merkle tree (every stored node
//!   is the node hash of its two children), so proofs generated from it must
//!   verify against `tree_hash` read from it.
//!
//! For tampered claims the exact property is "a proof verifies a claim if and
//! only if it is the genuine proof of that claim" (RFC 6962 verification
//! feeds every proof hash into the recomputed root, so without a SHA-256
//! collision nothing else can verify). With distinct leaves, the genuine
//! proof of another index or size is never the same as the one tampered
//! with, so those claims must simply fail; in the sparse tree, repeated
//! filler subtrees can make two genuine proofs equal byte for byte, and then
//! accepting the tampered claim is correct.

#![expect(
    clippy::expect_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use oretrace_tlog::hash::EMPTY_ROOT;
use oretrace_tlog::proof::{verify_consistency, verify_inclusion};
use oretrace_tlog::tree::{MemoryTree, prove_consistency, prove_inclusion, range_nodes, tree_hash};
use oretrace_tlog::{CompactRange, Error, Hash, HashReader, NodeId, leaf_hash, node_hash};
use proptest::prelude::*;

// ---------------------------------------------------------------- trees

/// The leaf hash of leaf `i` wherever it is distinct.
fn distinct_leaf(i: u64) -> Hash {
    leaf_hash(&i.to_be_bytes())
}

/// MTH(D[n]) exactly as RFC 6962 §2.1 defines it, recursively: the
/// reference that shares no code with the crate's trees.
fn reference_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
        }
    }
}

fn distinct_leaves(size: u64) -> Vec<Hash> {
    (0..size).map(distinct_leaf).collect()
}

fn memory_tree(size: u64) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.append(distinct_leaf(i));
    }
    tree
}

/// A tree of `size` leaves in which leaf `i` is `distinct_leaf(i)` for `i` in
/// `distinct` and one shared filler leaf everywhere else.
#[derive(Debug)]
struct SparseTree {
    size: u64,
    distinct: BTreeSet<u64>,
    /// `filler[l]`: the hash of a full subtree of 2^l filler leaves.
    filler: Vec<Hash>,
    cache: RefCell<HashMap<NodeId, Hash>>,
}

impl SparseTree {
    fn new(size: u64, distinct: impl IntoIterator<Item = u64>) -> Self {
        let mut filler = vec![leaf_hash(b"filler")];
        for l in 1..64 {
            let below = filler[l - 1];
            filler.push(node_hash(&below, &below));
        }
        SparseTree {
            size,
            distinct: distinct.into_iter().filter(|&i| i < size).collect(),
            filler,
            cache: RefCell::default(),
        }
    }

    fn leaf(&self, i: u64) -> Hash {
        if self.distinct.contains(&i) {
            distinct_leaf(i)
        } else {
            self.filler[0]
        }
    }

    /// The hash of node `id`, computed only down the subtrees that hold a
    /// distinct leaf.
    fn node(&self, id: NodeId) -> Hash {
        let lo = id.index << id.level;
        let hi = lo + (1u64 << id.level);
        if self.distinct.range(lo..hi).next().is_none() {
            return self.filler[id.level as usize];
        }
        if id.level == 0 {
            return distinct_leaf(id.index);
        }
        if let Some(hash) = self.cache.borrow().get(&id) {
            return *hash;
        }
        let left = self.node(NodeId::new(id.level - 1, 2 * id.index));
        let right = self.node(NodeId::new(id.level - 1, 2 * id.index + 1));
        let hash = node_hash(&left, &right);
        self.cache.borrow_mut().insert(id, hash);
        hash
    }
}

impl HashReader for SparseTree {
    /// Like a real store, refuses nodes that are not full subtrees of the
    /// tree as it stands, so generation cannot read past the tree's edge.
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Error> {
        ids.iter()
            .map(|&id| {
                let end = (u128::from(id.index) + 1) << id.level.min(64);
                if id.level >= 63 || end > u128::from(self.size) {
                    return Err(Error::Reader {
                        id,
                        source: "beyond the tree".into(),
                    });
                }
                Ok(self.node(id))
            })
            .collect()
    }
}

fn leaf_of(reader: &impl HashReader, index: u64) -> Hash {
    reader
        .read_hashes(&[NodeId::new(0, index)])
        .expect("leaf is stored")[0]
}

fn root_of(reader: &impl HashReader, size: u64) -> Hash {
    tree_hash(size, reader).expect("root of a stored size")
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut out = *hash;
    out.0[bit / 8 % 32] ^= 1 << (bit % 8);
    out
}

// ---------------------------------------------------------- inclusion

/// The random choices one inclusion check needs, beyond the tree.
#[derive(Debug, Clone)]
struct Tamper {
    /// A bit to flip in each proof hash (cycled), and in the leaf and root.
    bits: Vec<usize>,
    /// Where to insert a hash into, or remove one from, the proof.
    at: usize,
    /// A second claim (index or size) to try the proof against.
    other: u64,
}

fn tamper() -> impl Strategy<Value = Tamper> {
    (
        prop::collection::vec(0usize..256, 1..8),
        any::<usize>(),
        any::<u64>(),
    )
        .prop_map(|(bits, at, other)| Tamper { bits, at, other })
}

/// Checks the inclusion proof of leaf `index` in the tree of `size` leaves
/// of `reader`, whose largest size is `max`. With `distinct_leaves`, every
/// leaf differs from every other.
fn check_inclusion(
    reader: &impl HashReader,
    max: u64,
    index: u64,
    size: u64,
    t: &Tamper,
    distinct_leaves: bool,
) -> Result<(), TestCaseError> {
    let leaf = leaf_of(reader, index);
    let root = root_of(reader, size);
    let proof = prove_inclusion(index, size, reader).expect("proof of a stored leaf");
    prop_assert!(
        verify_inclusion(index, size, &leaf, &proof, &root).is_ok(),
        "generated proof of {index} in {size} does not verify"
    );

    // Any single flipped bit, in any proof hash, the leaf or the root.
    for (k, _) in proof.iter().enumerate() {
        let mut bad = proof.clone();
        bad[k] = flip(&bad[k], t.bits[k % t.bits.len()]);
        let err = verify_inclusion(index, size, &leaf, &bad, &root);
        prop_assert!(
            matches!(err, Err(Error::ProofMismatch { .. })),
            "proof[{k}] flipped: {err:?}"
        );
    }
    let err = verify_inclusion(index, size, &flip(&leaf, t.bits[0]), &proof, &root);
    prop_assert!(
        matches!(err, Err(Error::ProofMismatch { .. })),
        "leaf flipped: {err:?}"
    );
    let err = verify_inclusion(index, size, &leaf, &proof, &flip(&root, t.bits[0]));
    prop_assert!(
        matches!(err, Err(Error::ProofMismatch { .. })),
        "root flipped: {err:?}"
    );

    // One hash too many, or one too few.
    let mut longer = proof.clone();
    longer.insert(t.at % (proof.len() + 1), flip(&leaf, t.bits[0]));
    let err = verify_inclusion(index, size, &leaf, &longer, &root);
    prop_assert!(
        matches!(err, Err(Error::ProofLength { got, expected, .. })
            if got == proof.len() + 1 && expected == proof.len()),
        "one hash added: {err:?}"
    );
    if !proof.is_empty() {
        let mut shorter = proof.clone();
        shorter.remove(t.at % proof.len());
        let err = verify_inclusion(index, size, &leaf, &shorter, &root);
        prop_assert!(
            matches!(err, Err(Error::ProofLength { got, expected, .. })
                if got + 1 == proof.len() && expected == proof.len()),
            "one hash removed: {err:?}"
        );
    }

    // Another index in the same tree, and the same index in another size,
    // each against that claim's true root.
    let other_index = t.other % size;
    let other_size = index + 1 + t.other % (max - index);
    for (i2, n2) in [(other_index, size), (index, other_size)] {
        if (i2, n2) == (index, size) {
            continue;
        }
        let verdict = verify_inclusion(i2, n2, &leaf, &proof, &root_of(reader, n2));
        let genuine = leaf_of(reader, i2) == leaf
            && prove_inclusion(i2, n2, reader).expect("proof of a stored leaf") == proof;
        if distinct_leaves {
            prop_assert!(!genuine);
        }
        prop_assert_eq!(
            verdict.is_ok(),
            genuine,
            "proof of {} in {} claimed as {} in {}: {:?}",
            index,
            size,
            i2,
            n2,
            verdict
        );
    }
    // Beyond the tree.
    prop_assert!(verify_inclusion(size, size, &leaf, &proof, &root).is_err());
    prop_assert!(verify_inclusion(index, 0, &leaf, &proof, &EMPTY_ROOT).is_err());
    Ok(())
}

// -------------------------------------------------------- consistency

/// Checks the consistency proof from `old` to `new` leaves of `reader`,
/// whose largest size is `max`.
fn check_consistency(
    reader: &impl HashReader,
    max: u64,
    old: u64,
    new: u64,
    t: &Tamper,
    distinct_leaves: bool,
) -> Result<(), TestCaseError> {
    let root1 = root_of(reader, old);
    let root2 = root_of(reader, new);
    let proof = prove_consistency(old, new, reader).expect("proof between stored sizes");
    prop_assert!(
        verify_consistency(old, new, &proof, &root1, &root2).is_ok(),
        "generated proof from {old} to {new} does not verify"
    );

    for (k, _) in proof.iter().enumerate() {
        let mut bad = proof.clone();
        bad[k] = flip(&bad[k], t.bits[k % t.bits.len()]);
        let err = verify_consistency(old, new, &bad, &root1, &root2);
        prop_assert!(
            matches!(err, Err(Error::ProofMismatch { .. })),
            "proof[{k}] flipped: {err:?}"
        );
    }
    let err = verify_consistency(old, new, &proof, &flip(&root1, t.bits[0]), &root2);
    prop_assert!(
        matches!(err, Err(Error::ProofMismatch { .. })),
        "root1 flipped: {err:?}"
    );
    let err = verify_consistency(old, new, &proof, &root1, &flip(&root2, t.bits[0]));
    prop_assert!(
        matches!(err, Err(Error::ProofMismatch { .. })),
        "root2 flipped: {err:?}"
    );

    let mut longer = proof.clone();
    longer.insert(t.at % (proof.len() + 1), flip(&root1, t.bits[0]));
    let err = verify_consistency(old, new, &longer, &root1, &root2);
    prop_assert!(
        matches!(err, Err(Error::ProofLength { got, expected, .. })
            if got == proof.len() + 1 && expected == proof.len()),
        "one hash added: {err:?}"
    );
    if !proof.is_empty() {
        let mut shorter = proof.clone();
        shorter.remove(t.at % proof.len());
        let err = verify_consistency(old, new, &shorter, &root1, &root2);
        prop_assert!(
            matches!(err, Err(Error::ProofLength { got, expected, .. })
                if got + 1 == proof.len() && expected == proof.len()),
            "one hash removed: {err:?}"
        );
    }

    // Another old size, and another new size, against their true roots.
    let other_old = 1 + t.other % new;
    let other_new = old + t.other % (max - old + 1);
    for (m2, n2) in [(other_old, new), (old, other_new)] {
        if (m2, n2) == (old, new) {
            continue;
        }
        let verdict =
            verify_consistency(m2, n2, &proof, &root_of(reader, m2), &root_of(reader, n2));
        let genuine =
            prove_consistency(m2, n2, reader).expect("proof between stored sizes") == proof;
        if distinct_leaves && old != new && m2 != n2 {
            prop_assert!(!genuine);
        }
        prop_assert_eq!(
            verdict.is_ok(),
            genuine,
            "proof from {} to {} claimed as from {} to {}: {:?}",
            old,
            new,
            m2,
            n2,
            verdict
        );
    }

    // From the empty tree is always refused, as by transparency-dev/merkle.
    prop_assert!(prove_consistency(0, new, reader).is_err());
    let err = verify_consistency(0, new, &proof, &EMPTY_ROOT, &root2);
    prop_assert!(
        matches!(err, Err(Error::OutOfRange { .. })),
        "from size 0: {err:?}"
    );
    let err = verify_consistency(0, new, &[], &EMPTY_ROOT, &root2);
    prop_assert!(
        matches!(err, Err(Error::OutOfRange { .. })),
        "from size 0, no proof: {err:?}"
    );
    // Backwards.
    if old < new {
        prop_assert!(verify_consistency(new, old, &proof, &root2, &root1).is_err());
    }
    Ok(())
}

// ------------------------------------------------------------- cases

const MAX_MEMORY_SIZE: u64 = 2000;
const MAX_SPARSE_SIZE: u64 = 1 << 40;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn memory_tree_inclusion_proofs(
        size in 1..=MAX_MEMORY_SIZE,
        seed in any::<u64>(),
        t in tamper(),
    ) {
        let tree = memory_tree(size);
        // Several leaves per tree, to amortise building it.
        for k in 0..8u64 {
            let n = 1 + seed.rotate_left(8 * k as u32) % size;
            let index = seed.wrapping_mul(k + 1) % n;
            check_inclusion(&tree, size, index, n, &t, true)?;
        }
        // The edges.
        check_inclusion(&tree, size, 0, size, &t, true)?;
        check_inclusion(&tree, size, size - 1, size, &t, true)?;
    }

    #[test]
    fn memory_tree_consistency_proofs(
        size in 1..=MAX_MEMORY_SIZE,
        seed in any::<u64>(),
        t in tamper(),
    ) {
        let tree = memory_tree(size);
        for k in 0..8u64 {
            let new = 1 + seed.rotate_left(8 * k as u32) % size;
            let old = 1 + seed.wrapping_mul(k + 1) % new;
            check_consistency(&tree, size, old, new, &t, true)?;
        }
        check_consistency(&tree, size, 1, size, &t, true)?;
        check_consistency(&tree, size, size, size, &t, true)?;
    }

    #[test]
    fn sparse_tree_inclusion_proofs(
        size in 1..=MAX_SPARSE_SIZE,
        seed in any::<u64>(),
        extra in prop::collection::vec(any::<u64>(), 0..4),
        t in tamper(),
    ) {
        let n = 1 + seed % size;
        let index = seed.rotate_left(32) % n;
        let distinct = [index, n - 1, size - 1].into_iter().chain(extra.iter().map(|e| e % size));
        let tree = SparseTree::new(size, distinct);
        check_inclusion(&tree, size, index, n, &t, false)?;
    }

    #[test]
    fn sparse_tree_consistency_proofs(
        size in 1..=MAX_SPARSE_SIZE,
        seed in any::<u64>(),
        extra in prop::collection::vec(any::<u64>(), 0..4),
        t in tamper(),
    ) {
        let new = 1 + seed % size;
        let old = 1 + seed.rotate_left(32) % new;
        // The last old leaf, the first new one and the last one, so that the
        // old tree, the new tree and what was added all differ.
        let distinct = [old - 1, old, new - 1, size - 1]
            .into_iter()
            .chain(extra.iter().map(|e| e % size));
        let tree = SparseTree::new(size, distinct);
        check_consistency(&tree, size, old, new, &t, false)?;
    }

    /// The compact range's root, and its nodes, match what the stored
    /// hashes give at every size on the way. A `MemoryTree` is itself built
    /// by a `CompactRange`, so the hashes are also checked against a
    /// `SparseTree` in which every leaf is distinct: that computes each node
    /// from its children, sharing no code with `CompactRange`.
    #[test]
    fn compact_range_root_is_the_tree_hash_at_every_size(size in 0..=MAX_MEMORY_SIZE) {
        let tree = memory_tree(size);
        let independent = SparseTree::new(size, 0..size);
        let mut range = CompactRange::new();
        prop_assert_eq!(range.root(), EMPTY_ROOT);
        prop_assert_eq!(tree_hash(0, &tree).expect("empty root"), EMPTY_ROOT);
        for i in 0..size {
            let mut completed = Vec::new();
            range.append(distinct_leaf(i), |id, hash| completed.push((id, *hash)));
            let n = i + 1;
            prop_assert_eq!(range.size(), n);
            prop_assert_eq!(range.root(), root_of(&tree, n), "size {}", n);
            prop_assert_eq!(range.root(), root_of(&independent, n), "size {}", n);
            let nodes = tree.read_hashes(&range_nodes(0, n)).expect("stored nodes");
            prop_assert_eq!(range.nodes(), &nodes[..], "nodes at size {}", n);
            // Every completed subtree is reported, leaf first, and is what
            // the tree stores: exactly one per trailing one bit of `i`, plus
            // the leaf.
            prop_assert_eq!(completed.len(), i.trailing_ones() as usize + 1);
            prop_assert_eq!(completed[0].0, NodeId::new(0, i));
            for (id, hash) in &completed {
                prop_assert_eq!(tree.read_hashes(&[*id]).expect("stored node")[0], *hash);
                prop_assert_eq!(independent.read_hashes(&[*id]).expect("node")[0], *hash);
            }
        }
        prop_assert_eq!(range.root(), reference_root(&distinct_leaves(size)));
    }

    /// The root of the first `old` leaves of a bigger tree is the root of a
    /// tree that only ever had those leaves.
    #[test]
    fn old_tree_hash_is_the_root_of_the_smaller_tree(
        size in 0..=MAX_MEMORY_SIZE,
        seed in any::<u64>(),
    ) {
        let tree = memory_tree(size);
        let old = seed % (size + 1);
        let small = memory_tree(old);
        prop_assert_eq!(root_of(&tree, old), small.root());
        prop_assert_eq!(small.root(), reference_root(&distinct_leaves(old)));
        prop_assert_eq!(root_of(&small, old), small.root());
        prop_assert_eq!(root_of(&tree, size), tree.root());
    }

    /// In the synthetic tree, the compact range rebuilt from the stored
    /// nodes has the tree hash as its root.
    #[test]
    fn sparse_compact_range_root_is_the_tree_hash(
        size in 1..=MAX_SPARSE_SIZE,
        extra in prop::collection::vec(any::<u64>(), 0..4),
    ) {
        let tree = SparseTree::new(size, extra.iter().map(|e| e % size));
        let nodes = tree.read_hashes(&range_nodes(0, size)).expect("stored nodes");
        let range = CompactRange::from_parts(size, nodes).expect("one node per one bit");
        prop_assert_eq!(range.root(), root_of(&tree, size));
    }
}

/// The synthetic tree must be a genuine Merkle tree, or the sparse tests
/// above prove nothing: it stores exactly what a [`MemoryTree`] of the same
/// leaves stores.
#[test]
fn sparse_tree_is_a_real_merkle_tree() {
    for size in [1u64, 2, 3, 7, 8, 9, 100, 257, 1000] {
        let distinct = [0, size / 3, size / 2 + 1, size - 1];
        let sparse = SparseTree::new(size, distinct);
        let mut memory = MemoryTree::new();
        for i in 0..size {
            memory.append(sparse.leaf(i));
        }
        for level in 0..=(63 - size.leading_zeros()) as u8 {
            let ids: Vec<NodeId> = (0..size >> level).map(|i| NodeId::new(level, i)).collect();
            assert_eq!(
                sparse.read_hashes(&ids).expect("sparse nodes"),
                memory.read_hashes(&ids).expect("memory nodes"),
                "size {size} level {level}"
            );
        }
        assert_eq!(root_of(&sparse, size), memory.root(), "size {size}");
        let leaves: Vec<Hash> = (0..size).map(|i| sparse.leaf(i)).collect();
        assert_eq!(
            root_of(&sparse, size),
            reference_root(&leaves),
            "size {size}"
        );
        // And it refuses what is not there, as a store would.
        assert!(sparse.read_hashes(&[NodeId::new(0, size)]).is_err());
    }
}

/// Every bit of every hash, exhaustively, for all proofs in small trees.
#[test]
fn every_single_bit_flip_is_caught_in_small_trees() {
    for size in 1..=10u64 {
        let tree = memory_tree(size);
        let root = tree.root();
        for index in 0..size {
            let leaf = leaf_of(&tree, index);
            let proof = prove_inclusion(index, size, &tree).expect("inclusion proof");
            for bit in 0..256 {
                assert!(verify_inclusion(index, size, &flip(&leaf, bit), &proof, &root).is_err());
                assert!(verify_inclusion(index, size, &leaf, &proof, &flip(&root, bit)).is_err());
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k] = flip(&bad[k], bit);
                    assert!(
                        verify_inclusion(index, size, &leaf, &bad, &root).is_err(),
                        "inclusion {index} in {size}, bit {bit} of proof[{k}]"
                    );
                }
            }
        }
        for old in 1..=size {
            let root1 = root_of(&tree, old);
            let proof = prove_consistency(old, size, &tree).expect("consistency proof");
            for bit in 0..256 {
                assert!(verify_consistency(old, size, &proof, &flip(&root1, bit), &root).is_err());
                assert!(verify_consistency(old, size, &proof, &root1, &flip(&root, bit)).is_err());
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k] = flip(&bad[k], bit);
                    assert!(
                        verify_consistency(old, size, &bad, &root1, &root).is_err(),
                        "consistency {old} to {size}, bit {bit} of proof[{k}]"
                    );
                }
            }
        }
    }
}
