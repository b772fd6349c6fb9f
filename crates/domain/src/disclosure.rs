//! Sealed agreement texts: per-clause salted commitments under one RFC 6962
//! root, and the check of a revealed clause against it
//! (`docs/design/agreements.md`, "Sealing: the commitment format").
//!
//! * clause commitment `c_i = SHA-256("oretrace.clause/v1" ‖ 0x00 ‖
//!   u32be(i) ‖ salt_i ‖ text_i)`, the text as UTF-8 bytes exactly as
//!   given, the salt 32 random bytes drawn by the sealing party;
//! * root: the RFC 6962 Merkle tree hash over the leaves `c_0 … c_{n-1}`
//!   (leaf `SHA-256(0x00 ‖ c_i)`), so one clause is revealed with an
//!   ordinary RFC 9162 inclusion proof of leaf `i` in a tree of `n`.
//!
//! Pure: the salts come from the caller (the CLI draws them from the
//! operating system); nothing here ever sees the server.

use oretrace_tlog::hash::{Hash, leaf_hash, sha256};
use oretrace_tlog::proof::root_from_inclusion_proof;
use oretrace_tlog::tree::{MemoryTree, prove_inclusion};

/// What every clause commitment starts with.
pub const CLAUSE_PREFIX: &[u8] = b"oretrace.clause/v1";

/// Most clauses one sealed text may have.
pub const MAX_CLAUSES: usize = 100_000;

/// Largest clause, in bytes of UTF-8.
pub const MAX_CLAUSE_BYTES: usize = 32 * 1024;

/// A clause's salt: 32 bytes the sealing party keeps until it reveals.
pub type Salt = [u8; 32];

/// Why a text cannot be sealed or a clause does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureError {
    #[error("a sealed text has 1 to {MAX_CLAUSES} clauses, not {0}")]
    ClauseCount(usize),
    #[error("clause {index} is {bytes} bytes, at most {MAX_CLAUSE_BYTES}")]
    ClauseTooLarge { index: usize, bytes: usize },
    #[error("clause {index} is not a clause of a text of {count} clauses")]
    NoSuchClause { index: u64, count: u64 },
    #[error(
        "clause {index} does not open the sealed root: its text, salt, index or proof is not the sealed one; {detail}"
    )]
    Mismatch { index: u64, detail: String },
}

/// The commitment to clause `index` with `salt` and `text`.
pub fn clause_commitment(index: u32, salt: &Salt, text: &str) -> Hash {
    let mut bytes = Vec::with_capacity(CLAUSE_PREFIX.len() + 1 + 4 + 32 + text.len());
    bytes.extend_from_slice(CLAUSE_PREFIX);
    bytes.push(0);
    bytes.extend_from_slice(&index.to_be_bytes());
    bytes.extend_from_slice(salt);
    bytes.extend_from_slice(text.as_bytes());
    Hash(sha256(&bytes))
}

/// A text sealed clause by clause: the root and count a record publishes,
/// and the tree that gives each clause its proof (kept by the party).
#[derive(Debug)]
pub struct Sealed {
    tree: MemoryTree,
}

impl Sealed {
    /// Seals `clauses` (salt and text each, in order).
    pub fn new(clauses: &[(Salt, &str)]) -> Result<Sealed, DisclosureError> {
        if clauses.is_empty() || clauses.len() > MAX_CLAUSES {
            return Err(DisclosureError::ClauseCount(clauses.len()));
        }
        let mut tree = MemoryTree::new();
        for (index, (salt, text)) in clauses.iter().enumerate() {
            if text.len() > MAX_CLAUSE_BYTES {
                return Err(DisclosureError::ClauseTooLarge {
                    index,
                    bytes: text.len(),
                });
            }
            // `index` < MAX_CLAUSES, which fits in a u32.
            let i = u32::try_from(index).map_err(|_| DisclosureError::ClauseCount(index))?;
            tree.append(leaf_hash(clause_commitment(i, salt, text).as_bytes()));
        }
        Ok(Sealed { tree })
    }

    /// The root the sealed record publishes.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The number of clauses the sealed record publishes.
    pub fn count(&self) -> u64 {
        self.tree.size()
    }

    /// The inclusion proof that reveals clause `index`.
    pub fn proof(&self, index: u64) -> Result<Vec<Hash>, DisclosureError> {
        prove_inclusion(index, self.count(), &self.tree).map_err(|_| {
            DisclosureError::NoSuchClause {
                index,
                count: self.count(),
            }
        })
    }
}

/// Checks that `text` with `salt` is clause `index` of the text sealed
/// under `root` with `count` clauses, by `proof`.
pub fn verify_clause(
    root: &Hash,
    count: u64,
    index: u64,
    salt: &Salt,
    text: &str,
    proof: &[Hash],
) -> Result<(), DisclosureError> {
    let i = u32::try_from(index)
        .ok()
        .filter(|_| index < count)
        .ok_or(DisclosureError::NoSuchClause { index, count })?;
    if text.len() > MAX_CLAUSE_BYTES {
        return Err(DisclosureError::ClauseTooLarge {
            index: i as usize,
            bytes: text.len(),
        });
    }
    let leaf = leaf_hash(clause_commitment(i, salt, text).as_bytes());
    // Roots in hex, as records and reveals write them.
    let hex = |h: &Hash| -> String { h.as_bytes().iter().map(|b| format!("{b:02x}")).collect() };
    let computed = root_from_inclusion_proof(index, count, &leaf, proof).map_err(|e| {
        DisclosureError::Mismatch {
            index,
            detail: e.to_string(),
        }
    })?;
    if computed != *root {
        return Err(DisclosureError::Mismatch {
            index,
            detail: format!(
                "its text, salt and proof lead to root {} but the sealed root is {}",
                hex(&computed),
                hex(root)
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn salt(n: u8) -> Salt {
        [n; 32]
    }

    #[test]
    fn the_commitment_is_the_documented_bytes() {
        // SHA-256 of "oretrace.clause/v1" 0x00 u32be(2) salt text, by hand.
        let mut bytes = b"oretrace.clause/v1\x00\x00\x00\x00\x02".to_vec();
        bytes.extend_from_slice(&[7u8; 32]);
        bytes.extend_from_slice("Article 1".as_bytes());
        assert_eq!(
            clause_commitment(2, &salt(7), "Article 1"),
            Hash(sha256(&bytes))
        );
    }

    #[test]
    fn a_clause_opens_only_with_its_text_salt_index_and_proof() {
        let texts = ["Article 1: scope", "Article 2: price", "Article 3: term"];
        let clauses: Vec<(Salt, &str)> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| (salt(i as u8 + 1), *t))
            .collect();
        let sealed = Sealed::new(&clauses).unwrap();
        let (root, count) = (sealed.root(), sealed.count());
        let proof = sealed.proof(1).unwrap();
        verify_clause(&root, count, 1, &salt(2), texts[1], &proof).unwrap();
        // Tampered text, wrong salt, wrong index, a proof for another
        // clause, another root, another count: each refused. (The count is
        // the sealed record's, not the revealer's: the proof of clause 1 in a
        // tree of 3 also gives that tree's root when read as a tree of 4.)
        for (index, s, text, proof, root, count) in [
            (1, salt(2), "Article 2: prices", proof.clone(), root, count),
            (1, salt(9), texts[1], proof.clone(), root, count),
            (2, salt(2), texts[1], proof.clone(), root, count),
            (1, salt(2), texts[1], sealed.proof(0).unwrap(), root, count),
            (1, salt(2), texts[1], proof.clone(), Hash([0; 32]), count),
            (1, salt(2), texts[1], proof.clone(), root, 2),
        ] {
            assert!(
                verify_clause(&root, count, index, &s, text, &proof).is_err(),
                "{index} {text}"
            );
        }
        assert_eq!(
            verify_clause(&root, count, 3, &salt(2), texts[1], &proof),
            Err(DisclosureError::NoSuchClause { index: 3, count: 3 })
        );
    }

    #[test]
    fn bounds_are_refused() {
        assert_eq!(
            Sealed::new(&[]).unwrap_err(),
            DisclosureError::ClauseCount(0)
        );
        let big = "x".repeat(MAX_CLAUSE_BYTES + 1);
        assert!(matches!(
            Sealed::new(&[(salt(1), big.as_str())]),
            Err(DisclosureError::ClauseTooLarge { index: 0, .. })
        ));
    }

    proptest! {
        /// Any split into clauses seals; every clause revealed verifies,
        /// and changing any revealed byte fails.
        #[test]
        fn any_split_and_any_subset_verifies(
            texts in proptest::collection::vec(".{0,40}", 1..40),
            seed in any::<u8>(),
            flip in any::<usize>(),
        ) {
            let clauses: Vec<(Salt, &str)> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| ([seed.wrapping_add(i as u8); 32], t.as_str()))
                .collect();
            let sealed = Sealed::new(&clauses).unwrap();
            for (i, (s, t)) in clauses.iter().enumerate() {
                let proof = sealed.proof(i as u64).unwrap();
                prop_assert!(verify_clause(&sealed.root(), sealed.count(), i as u64, s, t, &proof).is_ok());
                let changed = format!("{t}!");
                prop_assert!(verify_clause(&sealed.root(), sealed.count(), i as u64, s, &changed, &proof).is_err());
                let mut other = *s;
                other[flip % 32] ^= 1;
                prop_assert!(verify_clause(&sealed.root(), sealed.count(), i as u64, &other, t, &proof).is_err());
            }
        }
    }
}
