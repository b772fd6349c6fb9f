//! Writes the generated part of the seed corpora into `fuzz/corpus-seed`:
//! notes, checkpoints, keys, tiles, entry bundles and receipts signed with
//! the targets' fixed keys (so that the fuzzer starts from inputs that
//! verify), the domain's golden records as signed entries and envelopes,
//! and pseudo-random byte strings for the structure-aware target. The other
//! seeds (golden JSON, EPCIS examples, query strings) are copied files.
//!
//! `cargo run -p oretrace-fuzz-targets --example seeds`; deterministic.

#![expect(
    clippy::unwrap_used,
    reason = "a fuzz target reports a broken invariant by panicking"
)]

use std::path::{Path, PathBuf};

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_fuzz_targets::tlog::log_key;
use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::cosignature::Cosigner;
use oretrace_tlog::hash::leaf_hash;
use oretrace_tlog::note::NoteSigner;
use oretrace_tlog::receipt::Receipt;
use oretrace_tlog::tile::{TileId, TileKind, push_bundle_entry};
use oretrace_tlog::tree::{MemoryTree, prove_inclusion};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = root().join("fuzz/corpus-seed").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    let log = log_key();
    // Notes, checkpoints and keys.
    let entries: Vec<Vec<u8>> = (0..5)
        .map(|i| format!("entry {i}\n").into_bytes())
        .collect();
    let mut tree = MemoryTree::new();
    for e in &entries {
        tree.append(leaf_hash(e));
    }
    let checkpoint = Checkpoint::new("fuzz.example/log", tree.size(), tree.root()).unwrap();
    let mut note = checkpoint.sign(&log).unwrap();
    write("tlog_note", "checkpoint", &note.to_bytes());
    write(
        "tlog_note",
        "checkpoint-body",
        checkpoint.to_text().as_bytes(),
    );
    let witness = Cosigner::from_seed("fuzz.example/witness", [4; 32]).unwrap();
    note.push_signature(witness.cosign(&note, 1_760_000_000).unwrap());
    write("tlog_note", "checkpoint-cosigned", &note.to_bytes());
    write(
        "tlog_note",
        "plain-note",
        &log.sign("hello\nworld\n").unwrap().to_bytes(),
    );
    write("tlog_note", "vkey", log.verifier().to_vkey().as_bytes());
    write("tlog_note", "skey", log.to_skey().as_bytes());
    write(
        "tlog_note",
        "cosigner-vkey",
        witness.verifier().to_vkey().as_bytes(),
    );
    // Receipts.
    for (i, e) in entries.iter().enumerate() {
        let receipt = Receipt {
            extra: Some(e.clone()),
            index: i as u64,
            proof: prove_inclusion(i as u64, tree.size(), &tree).unwrap(),
            checkpoint: checkpoint.sign(&log).unwrap().to_bytes(),
        };
        write("tlog_receipt", &format!("receipt-{i}"), &receipt.to_bytes());
    }
    // Tiles: paths, a partial entry bundle and a partial hash tile.
    let mut bundle = Vec::new();
    for e in &entries {
        push_bundle_entry(&mut bundle, e).unwrap();
    }
    write("tlog_tile", "bundle-5", &bundle);
    let hashes: Vec<u8> = entries.iter().flat_map(|e| leaf_hash(e).0).collect();
    write("tlog_tile", "hashes-5", &hashes);
    write("tlog_tile", "hashes-1", &hashes[..32]);
    for (i, tile) in [
        TileId {
            kind: TileKind::Hashes(0),
            index: 1_234_067,
            width: 256,
        },
        TileId {
            kind: TileKind::Entries,
            index: 3,
            width: 5,
        },
        TileId {
            kind: TileKind::Hashes(2),
            index: 0,
            width: 1,
        },
    ]
    .iter()
    .enumerate()
    {
        write("tlog_tile", &format!("path-{i}"), tile.path().as_bytes());
    }
    // Records: the golden JSON files, signed as entries and envelopes.
    let signer = NoteSigner::from_seed("fwo/k1", [11; 32]).unwrap();
    let golden = root().join("crates/domain/tests/golden");
    let mut names: Vec<_> = std::fs::read_dir(&golden)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        if name.ends_with(".record") || name.ends_with(".entry") {
            write("record_entry", &name, &bytes);
        }
        if let Some(stem) = name.strip_suffix(".json") {
            write("record_json", &name, &bytes);
            let record = RecordJson::parse(&bytes).unwrap();
            let signed = SignedRecord::sign(record, &[&signer]).unwrap();
            write(
                "record_entry",
                &format!("{stem}.signed-entry"),
                &signed.entry_bytes(),
            );
            let envelope = serde_json::to_vec_pretty(&signed.to_envelope()).unwrap();
            write("record_json", &format!("{stem}.envelope.json"), &envelope);
            // The record as an EPCIS document, for the EPCIS targets.
            let record = RecordJson::parse(&bytes).unwrap();
            if let Some(event) = oretrace_epcis_map::event_of_record(&record) {
                let doc = oretrace_epcis_map::document(vec![event], "2025-10-01T00:00:00Z");
                let text = oretrace_epcis_map::to_json_text(&doc, true);
                for target in ["epcis_map", "epcis_hash", "epcis_schema"] {
                    write(target, &format!("{stem}.jsonld"), text.as_bytes());
                }
            }
        }
    }
    // The structure-aware target: pseudo-random bytes (xorshift).
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in 0..8 {
        let len = 64 << (i % 4);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        write("ledger_story", &format!("random-{i}"), &bytes);
    }
    // add-checkpoint bodies against the witness holding size 2, and
    // policy files.
    {
        use oretrace_tlog::tree::prove_consistency;
        use oretrace_tlog::witness::request_body;
        let (_, full) = oretrace_fuzz_targets::tlog::seed_tree();
        let note = Checkpoint::new("fuzz.example/log", full.size(), full.root())
            .unwrap()
            .sign(&log)
            .unwrap()
            .to_bytes();
        let proof = prove_consistency(2, full.size(), &full).unwrap();
        write(
            "tlog_witness",
            "consistent",
            &request_body(2, &proof, &note),
        );
        write("tlog_witness", "conflict", &request_body(0, &[], &note));
        write(
            "tlog_witness",
            "wrong-proof",
            &request_body(2, &proof[1..], &note),
        );
        let w = Cosigner::from_seed("fuzz.example/witness", [4; 32]).unwrap();
        let cosigned = w
            .cosign(
                &oretrace_tlog::note::SignedNote::parse(&note).unwrap(),
                1_760_000_000,
            )
            .unwrap();
        write(
            "tlog_witness",
            "cosignature-answer",
            oretrace_tlog::witness::cosignature_body(&[cosigned]).as_bytes(),
        );
        let policy = format!(
            "# a policy\nlog {}\nwitness A {}\nwitness B {}\ngroup G 2 A B\nquorum G\n",
            log.verifier().to_vkey(),
            w.verifier().to_vkey(),
            Cosigner::from_seed("fuzz.example/w2", [5; 32])
                .unwrap()
                .verifier()
                .to_vkey()
        );
        write("tlog_policy", "group", policy.as_bytes());
        write(
            "tlog_policy",
            "logs-only",
            format!("log {}\n", log.verifier().to_vkey()).as_bytes(),
        );
    }
}
