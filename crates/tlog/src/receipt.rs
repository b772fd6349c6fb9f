//! C2SP `tlog-proof` receipts: an index, its inclusion proof and the signed
//! checkpoint it leads to, checkable offline with the log's vkey alone.
//!
//! oretrace puts the entry itself in the `extra` line, so a receipt is
//! self-contained: the inclusion proof authenticates it, and nothing in
//! `extra` is trusted before that proof verifies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Error;
use crate::checkpoint::{Checkpoint, parse_canonical_u64};
use crate::hash::{Hash, leaf_hash};
use crate::note::NoteVerifier;
use crate::proof::verify_inclusion;

const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Largest receipt accepted: an entry of 65,535 bytes in base64, a proof of
/// 64 hashes and a checkpoint note.
pub const MAX_RECEIPT_BYTES: usize = 256 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

/// What a verified receipt proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub checkpoint: Checkpoint,
    pub index: u64,
    pub leaf: Hash,
}

impl Receipt {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", STANDARD.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint);
        bytes
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_RECEIPT_BYTES {
            return Err(Error::malformed(
                "receipt",
                format!("is {} bytes, at most {MAX_RECEIPT_BYTES}", bytes.len()),
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::malformed("receipt", "is not valid UTF-8"))?;
        let (head, checkpoint) = text.split_once("\n\n").ok_or_else(|| {
            Error::malformed("receipt", "has no blank line before the checkpoint")
        })?;
        let mut lines = head.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(Error::malformed(
                "receipt",
                format!("first line is not {HEADER}"),
            ));
        }
        let mut line = lines
            .next()
            .ok_or_else(|| Error::malformed("receipt", "has no index line"))?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(STANDARD.decode(b64).map_err(|_| Error::Base64 {
                what: "receipt extra",
            })?);
            line = lines
                .next()
                .ok_or_else(|| Error::malformed("receipt", "has no index line"))?;
        }
        let index = line.strip_prefix("index ").ok_or_else(|| {
            Error::malformed("receipt", format!("expected an index line, found {line:?}"))
        })?;
        let index = parse_canonical_u64(index, "receipt index")?;
        let mut proof = Vec::new();
        for line in lines {
            if proof.len() == 64 {
                return Err(Error::malformed("receipt", "has more than 64 proof hashes"));
            }
            proof.push(Hash::from_base64(line)?);
        }
        Ok(Receipt {
            extra,
            index,
            proof,
            checkpoint: checkpoint.as_bytes().to_vec(),
        })
    }

    /// Verifies the checkpoint signature and that `leaf` is at `index`.
    pub fn verify(&self, leaf: &Hash, log_key: &NoteVerifier) -> Result<VerifiedReceipt, Error> {
        let (checkpoint, _) = Checkpoint::open(&self.checkpoint, log_key)?;
        verify_inclusion(
            self.index,
            checkpoint.size(),
            leaf,
            &self.proof,
            checkpoint.root(),
        )?;
        Ok(VerifiedReceipt {
            checkpoint,
            index: self.index,
            leaf: *leaf,
        })
    }

    /// Verifies a receipt whose `extra` carries the entry itself.
    pub fn verify_embedded_entry(&self, log_key: &NoteVerifier) -> Result<VerifiedReceipt, Error> {
        let entry = self
            .extra
            .as_ref()
            .ok_or_else(|| Error::malformed("receipt", "carries no entry in its extra line"))?;
        self.verify(&leaf_hash(entry), log_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::NoteSigner;
    use crate::tree::{HashReader as _, MemoryTree, prove_inclusion};

    #[test]
    fn receipt_round_trips_and_verifies() {
        let signer = NoteSigner::from_seed("log.example", [9u8; 32]).unwrap();
        let mut tree = MemoryTree::new();
        for i in 0..10u8 {
            tree.append(leaf_hash(&[i]));
        }
        let cp = Checkpoint::new("log.example", 10, tree.root()).unwrap();
        let receipt = Receipt {
            extra: Some(vec![6]),
            index: 6,
            proof: prove_inclusion(6, 10, &tree).unwrap(),
            checkpoint: cp.sign(&signer).unwrap().to_bytes(),
        };
        let parsed = Receipt::parse(&receipt.to_bytes()).unwrap();
        assert_eq!(parsed, receipt);
        let ok = parsed.verify_embedded_entry(&signer.verifier()).unwrap();
        assert_eq!(ok.checkpoint.size(), 10);
        let _ = tree.read_hashes(&[]).unwrap();

        let mut wrong = parsed.clone();
        wrong.extra = Some(vec![7]);
        assert!(matches!(
            wrong.verify_embedded_entry(&signer.verifier()),
            Err(Error::ProofMismatch { .. })
        ));
        let mut short = parsed;
        short.proof.pop();
        assert!(matches!(
            short.verify_embedded_entry(&signer.verifier()),
            Err(Error::ProofLength {
                got: 3,
                expected: 4,
                ..
            })
        ));
    }
}
