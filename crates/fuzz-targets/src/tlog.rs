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

/// `add-checkpoint` bodies: parsed and decided by a witness of the seeds'
/// log that holds size 2 of the seeds' tree. An accepted checkpoint is
/// consistent with what was held (checked again independently), and every
/// refusal carries one of the spec's status codes.
pub fn witness(data: &[u8]) {
    use oretrace_tlog::proof::verify_consistency;
    use oretrace_tlog::witness::{AddCheckpoint, decide, parse_cosignatures, parse_size};
    if data.len() > MAX_INPUT {
        return;
    }
    let (held, _) = seed_tree();
    let keys = [log_key().verifier()];
    if let Ok(request) = AddCheckpoint::parse(data) {
        let again = oretrace_tlog::witness::request_body(
            request.old_size,
            &request.proof,
            &request.note.to_bytes(),
        );
        assert_eq!(
            AddCheckpoint::parse(&again).expect("a written request parses"),
            request,
            "a request does not survive writing"
        );
    }
    match decide(
        data,
        |o| (o == "fuzz.example/log").then_some(&keys[..]),
        |_| Some(held),
    ) {
        Ok(accepted) => {
            assert!(accepted.next.size >= held.size, "the witness went back");
            if accepted.next.size > held.size {
                let request = AddCheckpoint::parse(data).expect("an accepted body parses");
                verify_consistency(
                    held.size,
                    accepted.next.size,
                    &request.proof,
                    &held.root,
                    &accepted.next.root,
                )
                .expect("an accepted checkpoint is consistent with what was held");
            } else {
                assert_eq!(accepted.next, held, "the same size with another root");
            }
            accepted.note.verify(&keys[0]).expect("the log's signature");
        }
        Err(refusal) => assert!(
            [400, 403, 404, 409, 422].contains(&refusal.status()),
            "{refusal:?}"
        ),
    }
    let _ = parse_cosignatures(data);
    let _ = parse_size(data);
}

/// The seeds' tree (five entries) as a witness holding its size 2 sees it,
/// and the full tree.
pub fn seed_tree() -> (
    oretrace_tlog::witness::Witnessed,
    oretrace_tlog::tree::MemoryTree,
) {
    let mut tree = oretrace_tlog::tree::MemoryTree::new();
    let mut held = None;
    for i in 0..5 {
        tree.append(oretrace_tlog::hash::leaf_hash(
            format!("entry {i}\n").as_bytes(),
        ));
        if tree.size() == 2 {
            held = Some(oretrace_tlog::witness::Witnessed {
                size: 2,
                root: tree.root(),
            });
        }
    }
    (held.expect("two entries were appended"), tree)
}

/// Policy files: parsed both ways; a parsed policy evaluates any set of
/// its witnesses without panicking, and all of them meet any quorum that
/// some set meets.
pub fn policy(data: &[u8]) {
    use oretrace_tlog::policy::Policy;
    if data.len() > MAX_INPUT {
        return;
    }
    let full = Policy::parse(data);
    let logs = Policy::parse_logs(data);
    if full.is_ok() {
        assert!(logs.is_ok(), "a full policy is a log list too");
    }
    if let Ok(policy) = logs {
        let names: Vec<&str> = policy.witnesses().iter().map(|w| w.name.as_str()).collect();
        let none = policy.quorum_met(&[]);
        let all = policy.quorum_met(&names);
        assert!(!none || all, "more cosignatures cannot lose a quorum");
        for i in 0..names.len() {
            let _ = policy.quorum_met(&names[..i]);
        }
    }
}
