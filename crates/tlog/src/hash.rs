//! RFC 6962 / RFC 9162 §2.1 Merkle tree hashing with SHA-256.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::Error;

/// A SHA-256 Merkle tree hash: always exactly 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

/// The root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

impl Hash {
    /// Takes a hash from a byte slice, refusing any length but 32.
    pub fn from_slice(bytes: &[u8]) -> Result<Hash, Error> {
        <[u8; 32]>::try_from(bytes)
            .map(Hash)
            .map_err(|_| Error::HashLength { got: bytes.len() })
    }

    /// Parses standard (RFC 4648 §4) padded base64.
    pub fn from_base64(text: &str) -> Result<Hash, Error> {
        let bytes = STANDARD
            .decode(text)
            .map_err(|_| Error::Base64 { what: "hash" })?;
        Hash::from_slice(&bytes)
    }

    /// Standard padded base64, as checkpoints and receipts write hashes.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Lower-case hexadecimal.
    pub fn to_hex(&self) -> String {
        use std::fmt::Write as _;
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// `SHA-256(0x00 || entry)`: the hash of a log entry.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(entry);
    Hash(hasher.finalize().into())
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(&left.0);
    buf[33..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}

/// SHA-256 of arbitrary bytes (documents that enter the log as a digest).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT.0, sha256(b""));
    }

    #[test]
    fn rfc6962_leaf_and_node_vectors() {
        // transparency-dev/merkle rfc6962 hasher tests.
        assert_eq!(
            leaf_hash(b"L123456").to_hex(),
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
        );
        assert_eq!(
            leaf_hash(b"").to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        let l = Hash::from_slice(b"N123").err();
        assert!(matches!(l, Some(Error::HashLength { got: 4 })));
    }

    #[test]
    fn thirty_one_byte_hash_is_refused() {
        let err = Hash::from_slice(&[0u8; 31]).unwrap_err();
        assert_eq!(err.to_string(), "hash is 31 bytes long, expected 32");
    }
}
