//! The one error type of the crate: every variant names what was wrong.

use crate::tree::NodeId;

/// Everything that can go wrong while parsing, proving or verifying.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hash was not exactly 32 bytes long.
    #[error("hash is {got} bytes long, expected 32")]
    HashLength { got: usize },
    /// Text that should be standard base64 was not.
    #[error("invalid base64 in {what}")]
    Base64 { what: &'static str },
    /// An index or size is out of range for the operation.
    #[error("{what}: {detail}")]
    OutOfRange { what: &'static str, detail: String },
    /// A proof did not have the number of hashes its sizes require.
    #[error("{kind} proof has {got} hashes, expected {expected}")]
    ProofLength {
        kind: &'static str,
        got: usize,
        expected: usize,
    },
    /// A proof has the right shape but does not lead to the expected root.
    #[error("{kind} proof does not verify: {detail}")]
    ProofMismatch { kind: &'static str, detail: String },
    /// A [`crate::tree::HashReader`] could not supply a stored hash.
    #[error("hash {id} could not be read: {source}")]
    Reader {
        id: NodeId,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A signed note, checkpoint, receipt, vkey or key is malformed.
    #[error("malformed {what}: {detail}")]
    Malformed { what: &'static str, detail: String },
    /// No signature on a note is by a key the verifier knows.
    #[error("note has no signature by a known key (expected {name}+{key_id:08x})")]
    UnknownKey { name: String, key_id: u32 },
    /// A signature by a known key failed to verify.
    #[error("signature by {name}+{key_id:08x} is invalid")]
    BadSignature { name: String, key_id: u32 },
    /// A tile or entry bundle does not have the shape its path says.
    #[error("tile {path}: {detail}")]
    Tile { path: String, detail: String },
    /// A tile or entry bundle could not be fetched from its source.
    #[error("could not fetch {path}: {source}")]
    Fetch {
        path: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An entry is larger than an entry bundle can hold (65,535 bytes).
    #[error("entry is {len} bytes long, at most 65535 fit in an entry bundle")]
    EntryTooLarge { len: usize },
}

impl Error {
    pub(crate) fn malformed(what: &'static str, detail: impl Into<String>) -> Self {
        Error::Malformed {
            what,
            detail: detail.into(),
        }
    }
}
