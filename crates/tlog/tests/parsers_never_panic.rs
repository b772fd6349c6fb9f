//! Every parser of untrusted bytes returns an error instead of panicking:
//! signed notes, checkpoints, receipts, vkeys, signing keys, tile paths,
//! hash tiles and entry bundles, fed arbitrary and mangled input.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::hash::EMPTY_ROOT;
use oretrace_tlog::note::{NoteSigner, NoteVerifier, SignedNote};
use oretrace_tlog::receipt::Receipt;
use oretrace_tlog::tile::{TileId, TileKind, decode_entry_bundle, decode_hash_tile};
use proptest::prelude::*;

fn signer() -> NoteSigner {
    NoteSigner::from_seed("log.example", [3; 32]).unwrap()
}

fn valid_checkpoint() -> Vec<u8> {
    Checkpoint::new("log.example", 7, EMPTY_ROOT)
        .unwrap()
        .sign(&signer())
        .unwrap()
        .to_bytes()
}

fn valid_receipt() -> Vec<u8> {
    Receipt {
        extra: Some(b"entry".to_vec()),
        index: 3,
        proof: vec![EMPTY_ROOT; 3],
        checkpoint: valid_checkpoint(),
    }
    .to_bytes()
}

/// A valid input with some bytes replaced, inserted or cut.
fn mangled(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    (prop::collection::vec((0..len, any::<u8>(), 0u8..3), 1..6)).prop_map(move |edits| {
        let mut bytes = base.clone();
        for (at, byte, op) in edits {
            let at = at.min(bytes.len().saturating_sub(1));
            match op {
                0 if !bytes.is_empty() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => bytes.truncate(at),
            }
        }
        bytes
    })
}

fn exercise(bytes: &[u8]) {
    let key = signer().verifier();
    let _ = SignedNote::parse(bytes);
    let _ = Checkpoint::open(bytes, &key);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = Checkpoint::from_text(text);
        let _ = NoteVerifier::from_vkey(text);
        let _ = NoteSigner::from_skey(text);
        let _ = TileId::parse_path(text);
    }
    if let Ok(receipt) = Receipt::parse(bytes) {
        let _ = receipt.verify_embedded_entry(&key);
    }
    for width in [1u16, 2, 255, 256] {
        let tile = TileId {
            kind: TileKind::Entries,
            index: 0,
            width,
        };
        let _ = decode_entry_bundle(&tile, bytes);
        let tile = TileId {
            kind: TileKind::Hashes(0),
            index: 0,
            width,
        };
        let _ = decode_hash_tile(&tile, bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        exercise(&bytes);
    }

    #[test]
    fn arbitrary_text(text in "[a-z0-9+/=\\n \u{2014}.:x-]{0,200}") {
        exercise(text.as_bytes());
    }

    #[test]
    fn mangled_checkpoints(bytes in mangled(valid_checkpoint())) {
        exercise(&bytes);
    }

    #[test]
    fn mangled_receipts(bytes in mangled(valid_receipt())) {
        exercise(&bytes);
    }
}

#[test]
fn the_bases_are_valid() {
    Checkpoint::open(&valid_checkpoint(), &signer().verifier()).unwrap();
    Receipt::parse(&valid_receipt()).unwrap();
}
