//! Inclusion and consistency proof verification, as RFC 9162 §2.1.3.2 and
//! §2.1.4.2 spell it out. A proof of the wrong length is refused before any
//! hashing, with the length it should have had.

use crate::Error;
use crate::hash::{Hash, node_hash};
use crate::tree::{consistency_ranges, inclusion_ranges};

/// The root that an inclusion proof leads to, once its shape is checked.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, Error> {
    let expected = inclusion_ranges(index, size)?.len();
    if proof.len() != expected {
        return Err(Error::ProofLength {
            kind: "inclusion",
            got: proof.len(),
            expected,
        });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut root = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(Error::ProofMismatch {
                kind: "inclusion",
                detail: "proof is too long".into(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            root = node_hash(p, &root);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            root = node_hash(&root, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(Error::ProofMismatch {
            kind: "inclusion",
            detail: "proof is too short".into(),
        });
    }
    Ok(root)
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves with `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), Error> {
    let computed = root_from_inclusion_proof(index, size, leaf, proof)?;
    if computed != *root {
        return Err(Error::ProofMismatch {
            kind: "inclusion",
            detail: format!("computed root {computed} but expected {root}"),
        });
    }
    Ok(())
}

/// Checks that the tree of `size2` leaves with `root2` extends the tree of
/// `size1` leaves with `root1`.
///
/// A proof from the empty tree (`size1 == 0`) is refused as meaningless, as
/// transparency-dev/merkle does: every tree extends the empty one, so such
/// a proof proves nothing, and accepting one would hide a caller's bug.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), Error> {
    if size2 < size1 {
        return Err(Error::OutOfRange {
            what: "consistency proof",
            detail: format!("new size {size2} is smaller than old size {size1}"),
        });
    }
    if size1 == 0 {
        return Err(Error::OutOfRange {
            what: "consistency proof",
            detail: "a proof from the empty tree is meaningless".into(),
        });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(Error::ProofLength {
                kind: "consistency",
                got: proof.len(),
                expected: 0,
            });
        }
        if root1 != root2 {
            return Err(Error::ProofMismatch {
                kind: "consistency",
                detail: format!("equal sizes {size1} but roots {root1} and {root2} differ"),
            });
        }
        return Ok(());
    }
    let expected = consistency_ranges(size1, size2)?.len();
    if proof.len() != expected {
        return Err(Error::ProofLength {
            kind: "consistency",
            got: proof.len(),
            expected,
        });
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return Err(Error::ProofMismatch {
                kind: "consistency",
                detail: "proof is too long".into(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(Error::ProofMismatch {
            kind: "consistency",
            detail: "proof is too short".into(),
        });
    }
    if fr != *root1 {
        return Err(Error::ProofMismatch {
            kind: "consistency",
            detail: format!("proof leads to old root {fr}, expected {root1}"),
        });
    }
    if sr != *root2 {
        return Err(Error::ProofMismatch {
            kind: "consistency",
            detail: format!("proof leads to new root {sr}, expected {root2}"),
        });
    }
    Ok(())
}
