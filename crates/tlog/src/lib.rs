//! Pure transparency-log building blocks for oretrace.
//!
//! This crate holds everything the public specifications make ours to get
//! byte-for-byte right, and nothing else:
//!
//! * [`hash`]: RFC 6962 / RFC 9162 §2.1 leaf and node hashing.
//! * [`tree`]: tree heads, inclusion and consistency proof generation over a
//!   [`tree::HashReader`], and the streaming [`tree::CompactRange`].
//! * [`proof`]: inclusion and consistency proof verification.
//! * [`note`]: C2SP `signed-note` (Ed25519 keys, key ids, vkeys).
//! * [`checkpoint`]: C2SP `tlog-checkpoint`.
//! * [`tile`]: C2SP `tlog-tiles` tile maths, paths and entry bundles.
//! * [`cosignature`]: C2SP `tlog-cosignature` (Ed25519, type 0x04).
//! * [`receipt`]: C2SP `tlog-proof` offline receipts.
//! * [`policy`]: C2SP `tlog-policy` (logs, witnesses, the quorum).
//! * [`witness`]: C2SP `tlog-witness` `add-checkpoint`: encodings and the
//!   witness's decision.
//!
//! It does no I/O, no async and no HTTP; it knows nothing of storage. Every
//! parser returns an [`Error`], never panics.

pub mod checkpoint;
pub mod cosignature;
mod error;
pub mod hash;
pub mod note;
pub mod policy;
pub mod proof;
pub mod receipt;
pub mod tile;
pub mod tree;
pub mod witness;

pub use checkpoint::Checkpoint;
pub use error::Error;
pub use hash::{Hash, leaf_hash, node_hash};
pub use tree::{CompactRange, HashReader, NodeId};
