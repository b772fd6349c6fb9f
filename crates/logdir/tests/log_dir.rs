//! The directory log against the in-memory reference tree.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::path::Path;

use oretrace_logdir::{Error, TileLog};
use oretrace_tlog::hash::leaf_hash;
use oretrace_tlog::note::NoteSigner;
use oretrace_tlog::tile::{TileKind, entry_bundles, hash_tiles_at_level, tile_levels};
use oretrace_tlog::tree::{HashReader, MemoryTree};

fn signer() -> NoteSigner {
    NoteSigner::from_seed("oretrace.test/logdir", [42u8; 32]).unwrap()
}

fn entry(i: u64) -> Vec<u8> {
    format!("entry {i}").into_bytes()
}

/// Every tile a tree of `size` needs is on disk with the reference bytes.
fn assert_tiles_match(dir: &Path, tree: &MemoryTree, size: u64) {
    for level in 0..tile_levels(size) {
        for tile in hash_tiles_at_level(size, level) {
            let want: Vec<u8> = tree
                .read_hashes(&tile.nodes().collect::<Vec<_>>())
                .unwrap()
                .iter()
                .flat_map(|h| h.0)
                .collect();
            let got = std::fs::read(dir.join(tile.path()))
                .unwrap_or_else(|e| panic!("{}: {e}", tile.path()));
            assert_eq!(got, want, "{} at size {size}", tile.path());
        }
    }
    for bundle in entry_bundles(size) {
        assert!(dir.join(bundle.path()).exists(), "{}", bundle.path());
        assert_eq!(bundle.kind, TileKind::Entries);
    }
}

#[test]
fn batches_of_every_shape_build_the_reference_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let mut log = TileLog::create(&dir, signer()).unwrap();
    let mut tree = MemoryTree::new();
    let mut next = 0u64;
    for batch in [1u64, 1, 254, 1, 1, 255, 256, 257, 3000, 65_536, 1] {
        let entries: Vec<Vec<u8>> = (next..next + batch).map(entry).collect();
        for e in &entries {
            tree.append(leaf_hash(e));
        }
        assert_eq!(log.append(&entries).unwrap(), next);
        next += batch;
        assert_eq!(log.size(), next);
        assert_eq!(*log.checkpoint().root(), tree.root(), "size {next}");
        if batch > 200 {
            assert_tiles_match(&dir, &tree, next);
        }
    }
    drop(log);

    // Reopening rebuilds the edge from the partial tiles and goes on.
    let mut log = TileLog::open(&dir, signer()).unwrap();
    let more: Vec<Vec<u8>> = (next..next + 700).map(entry).collect();
    for e in &more {
        tree.append(leaf_hash(e));
    }
    log.append(&more).unwrap();
    assert_eq!(*log.checkpoint().root(), tree.root());
    assert_tiles_match(&dir, &tree, log.size());

    for index in [0, 255, 256, 69_999, log.size() - 1] {
        let receipt = log.receipt(index).unwrap();
        assert_eq!(receipt.extra.as_deref(), Some(&entry(index)[..]));
        let verified = receipt.verify_embedded_entry(&signer().verifier()).unwrap();
        assert_eq!(verified.checkpoint.size(), log.size());
        assert_eq!(log.entry(index).unwrap(), entry(index));
    }
}

#[test]
fn an_oversized_entry_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TileLog::create(tmp.path(), signer()).unwrap();
    log.append(&[b"a".to_vec()]).unwrap();
    let before = std::fs::read(tmp.path().join("checkpoint")).unwrap();
    let err = log.append(&[b"b".to_vec(), vec![0u8; 65_536]]).unwrap_err();
    assert!(matches!(err, Error::Entry { index: 1, .. }), "{err}");
    assert_eq!(
        std::fs::read(tmp.path().join("checkpoint")).unwrap(),
        before
    );
    assert_eq!(log.size(), 1);
    assert!(!tmp.path().join("tile/entries/000.p/2").exists());
}

#[test]
fn a_second_writer_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let _log = TileLog::create(tmp.path(), signer()).unwrap();
    let err = TileLog::open(tmp.path(), signer()).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
}

#[test]
fn a_tampered_partial_tile_is_found_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TileLog::create(tmp.path(), signer()).unwrap();
    log.append(&(0..300).map(entry).collect::<Vec<_>>())
        .unwrap();
    drop(log);
    let path = tmp.path().join("tile/0/001.p/44");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let err = TileLog::open(tmp.path(), signer()).unwrap_err();
    assert!(matches!(err, Error::Inconsistent { .. }), "{err}");
}

#[test]
fn tiles_left_by_a_crash_before_the_checkpoint_are_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TileLog::create(tmp.path(), signer()).unwrap();
    log.append(&(0..100).map(entry).collect::<Vec<_>>())
        .unwrap();
    drop(log);
    // A crash after writing a full tile but before the checkpoint.
    std::fs::write(tmp.path().join("tile/0/000"), vec![7u8; 8192]).unwrap();
    std::fs::write(tmp.path().join("tile/entries/000"), b"garbage").unwrap();
    let mut log = TileLog::open(tmp.path(), signer()).unwrap();
    log.append(&(100..300).map(entry).collect::<Vec<_>>())
        .unwrap();
    let mut tree = MemoryTree::new();
    (0..300).for_each(|i| tree.append(leaf_hash(&entry(i))));
    assert_eq!(*log.checkpoint().root(), tree.root());
    assert_tiles_match(tmp.path(), &tree, 300);
}

#[test]
fn a_checkpoint_signed_by_another_key_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    drop(TileLog::create(tmp.path(), signer()).unwrap());
    let other = NoteSigner::from_seed("oretrace.test/logdir", [1u8; 32]).unwrap();
    let err = TileLog::open(tmp.path(), other).unwrap_err();
    assert!(
        err.to_string().contains("no signature by a known key"),
        "{err}"
    );
}

#[test]
fn a_damaged_partial_bundle_is_found_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TileLog::create(tmp.path(), signer()).unwrap();
    log.append(&(0..300).map(entry).collect::<Vec<_>>())
        .unwrap();
    drop(log);
    let path = tmp.path().join("tile/entries/001.p/44");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let err = TileLog::open(tmp.path(), signer()).unwrap_err();
    assert!(matches!(err, Error::Inconsistent { .. }), "{err}");
}
