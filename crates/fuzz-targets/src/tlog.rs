//! Signed notes, checkpoints, keys, tile paths, hash tiles, entry bundles
//! and `tlog-proof` receipts: each parser returns an error or a value that
//! writes back to what it read.

#![expect(
    clippy::expect_used,
    reason = "a fuzz target reports a broken invariant by panicking"
)]

use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::cosignature::Cosigner;
use oretrace_tlog::note::{NoteSigner, NoteVerifier, SignedNote};
use oretrace_tlog::receipt::Receipt;
use oretrace_tlog::tile::{
    TileId, TileKind, decode_entry_bundle, decode_hash_tile, push_bundle_entry,
};

use crate::MAX_INPUT;

/// The fixed log key the seeds are signed with (`fuzz.example/log`, seed
/// `[3; 32]`), so that valid notes stay reachable.
pub fn log_key() -> NoteSigner {
    NoteSigner::from_seed("fuzz.example/log", [3; 32]).expect("a valid key name")
}

/// Signed notes, checkpoints, vkeys and signing keys.
pub fn note(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let key = log_key().verifier();
    if let Ok(note) = SignedNote::parse(data) {
        // Writing a parsed note and parsing it again gives the same note.
        let again = SignedNote::parse(&note.to_bytes()).expect("a written note parses");
        assert_eq!(again, note, "a note does not survive writing");
        let _ = note.verify(&key);
        let cosigner = Cosigner::from_seed("fuzz.example/witness", [4; 32]).expect("valid");
        let _ = note.verify(cosigner.verifier());
    }
    if let Ok((checkpoint, _)) = Checkpoint::open(data, &key) {
        let text = checkpoint.to_text();
        let again = Checkpoint::from_text(&text).expect("a written checkpoint parses");
        assert_eq!(again, checkpoint, "a checkpoint does not survive writing");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(checkpoint) = Checkpoint::from_text(text) {
            assert_eq!(
                checkpoint.to_text(),
                text,
                "a checkpoint body parses but is not in its one written form"
            );
        }
        if let Ok(verifier) = NoteVerifier::from_vkey(text) {
            let again = NoteVerifier::from_vkey(&verifier.to_vkey()).expect("a written vkey");
            assert_eq!(again.to_vkey(), verifier.to_vkey());
        }
        if let Ok(signer) = NoteSigner::from_skey(text) {
            let note = signer.sign("fuzz\n").expect("signing a plain text");
            note.verify(&signer.verifier())
                .expect("a key verifies its own signature");
        }
    }
}

/// Tile paths, hash tiles and entry bundles of every width.
pub fn tile(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(tile) = TileId::parse_path(text)
    {
        assert_eq!(tile.path(), text, "a tile path parses but is not canonical");
    }
    for width in [1u16, 2, 3, 255, 256] {
        let tile = TileId {
            kind: TileKind::Entries,
            index: 0,
            width,
        };
        if let Ok(entries) = decode_entry_bundle(&tile, data) {
            assert_eq!(entries.len(), usize::from(width));
            let mut bundle = Vec::new();
            for entry in entries {
                push_bundle_entry(&mut bundle, entry).expect("a decoded entry re-encodes");
            }
            assert_eq!(bundle, data, "an entry bundle does not re-encode as read");
        }
        for level in [0u8, 1, 7] {
            let tile = TileId {
                kind: TileKind::Hashes(level),
                index: 0,
                width,
            };
            if let Ok(hashes) = decode_hash_tile(&tile, data) {
                assert_eq!(hashes.len(), usize::from(width));
                let bytes: Vec<u8> = hashes.iter().flat_map(|h| h.0).collect();
                assert_eq!(bytes, data, "a hash tile does not re-encode as read");
            }
        }
    }
}

/// `tlog-proof` receipts, verified with the embedded entry against the
/// fixed log key.
pub fn receipt(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(receipt) = Receipt::parse(data) else {
        return;
    };
    let again = Receipt::parse(&receipt.to_bytes()).expect("a written receipt parses");
    assert_eq!(again, receipt, "a receipt does not survive writing");
    let key = log_key().verifier();
    if let Ok(verified) = receipt.verify_embedded_entry(&key) {
        assert_eq!(verified.index, receipt.index);
    }
}
