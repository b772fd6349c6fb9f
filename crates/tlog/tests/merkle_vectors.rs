//! Runs the transparency-dev/merkle conformance vectors (shared with the
//! other oretrace implementations under `shared/conformance/merkle`) through
//! `oretrace_tlog::proof`, and checks that `oretrace_tlog::tree` generates
//! exactly the happy-path proofs from the RFC 6962 reference leaves.
//!
//! Only `testdata/inclusion/**` and `testdata/consistency/**` are run. The
//! `subtreeinclusion` and `subtreeconsistency` folders hold vectors for a
//! different specification (proofs about arbitrary subtrees, as in the C2SP
//! draft that transparency-dev/merkle also implements), which this crate
//! does not implement, so they are deliberately not read here.

#![expect(
    clippy::expect_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use oretrace_tlog::proof::{verify_consistency, verify_inclusion};
use oretrace_tlog::tree::{MemoryTree, prove_consistency, prove_inclusion, tree_hash};
use oretrace_tlog::{Error, Hash, leaf_hash};
use serde_json::Value;

/// There are 98 inclusion and 98 consistency vectors today; far fewer means
/// the directory moved or the walk broke, and the test must not pass on
/// nothing.
const MIN_INCLUSION_VECTORS: usize = 90;
const MIN_CONSISTENCY_VECTORS: usize = 90;

/// Vectors whose expected outcome oretrace deliberately does not share, by
/// path below `testdata/`, with the reason. Each must fail in exactly the
/// way explained, with `Error::HashLength`, so that this list cannot hide
/// any other failure; and each must exist, so it cannot go stale unnoticed.
const DEVIATIONS: &[(&str, &str)] = &[(
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
    "expects success for two equal 12-byte placeholder roots (\"don't care 2\"); \
     oretrace refuses any hash that is not 32 bytes when it is parsed, before \
     verification, so a non-32-byte root can never verify",
)];

/// The eight entries of the RFC 6962 reference tree, as used by
/// transparency-dev/merkle (and certificate-transparency before it).
const REFERENCE_ENTRIES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

/// The published roots of the first 1..=8 reference entries, in hex.
const REFERENCE_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// The root of all eight reference entries, as the vector files write it.
const REFERENCE_ROOT_8_BASE64: &str = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";

// ------------------------------------------------------------- loading

fn testdata_dir() -> PathBuf {
    oretrace_benchkit::conformance("merkle/testdata")
}

/// One vector file: its path below `testdata/` (with `/` separators) and
/// its parsed JSON.
#[derive(Debug)]
struct Vector {
    name: String,
    json: Value,
}

/// Every `*.json` file below `testdata/<kind>`, in a stable order.
fn load_vectors(kind: &str) -> Vec<Vector> {
    let root = testdata_dir();
    let mut files = Vec::new();
    let mut dirs = vec![root.join(kind)];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read vector directory {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(&root)
                .expect("vector below testdata")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name} is not valid JSON: {e}"));
            Vector { name, json }
        })
        .collect()
}

// ------------------------------------------------------------- fields
//
// A vector whose *fields* are malformed (missing, wrong JSON type) is a
// broken test file, reported as such; a hash whose *value* does not parse
// (bad base64, not 32 bytes) is an error outcome, as the vectors intend.

fn field_u64(v: &Vector, key: &str) -> Result<u64, String> {
    v.json
        .get(key)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("field {key:?} is missing or not a u64"))
}

fn field_bool(v: &Vector, key: &str) -> Result<bool, String> {
    v.json
        .get(key)
        .and_then(Value::as_bool)
        .ok_or_else(|| format!("field {key:?} is missing or not a bool"))
}

fn field_str<'a>(v: &'a Vector, key: &str) -> Result<&'a str, String> {
    v.json
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("field {key:?} is missing or not a string"))
}

/// A base64 proof list; `null` is the empty proof.
fn field_proof<'a>(v: &'a Vector, key: &str) -> Result<Vec<&'a str>, String> {
    match v.json.get(key) {
        Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| format!("field {key:?} holds a non-string item"))
            })
            .collect(),
        _ => Err(format!("field {key:?} is missing or not a list or null")),
    }
}

fn desc(v: &Vector) -> &str {
    v.json.get("desc").and_then(Value::as_str).unwrap_or("")
}

fn parse_proof(items: &[&str]) -> Result<Vec<Hash>, Error> {
    items.iter().map(|s| Hash::from_base64(s)).collect()
}

// ------------------------------------------------------------- running

/// What oretrace made of a vector, and whether the vector wants an error;
/// or why the vector file itself is malformed.
type Run = Result<(Result<(), Error>, bool), String>;

/// The outcome oretrace gives for an inclusion vector, and its `wantErr`.
fn run_inclusion(v: &Vector) -> Run {
    let index = field_u64(v, "leafIdx")?;
    let size = field_u64(v, "treeSize")?;
    let root = field_str(v, "root")?;
    let leaf = field_str(v, "leafHash")?;
    let proof = field_proof(v, "proof")?;
    let want_err = field_bool(v, "wantErr")?;
    let outcome = (|| {
        let root = Hash::from_base64(root)?;
        let leaf = Hash::from_base64(leaf)?;
        let proof = parse_proof(&proof)?;
        verify_inclusion(index, size, &leaf, &proof, &root)
    })();
    Ok((outcome, want_err))
}

/// The outcome oretrace gives for a consistency vector, and its `wantErr`.
fn run_consistency(v: &Vector) -> Run {
    let size1 = field_u64(v, "size1")?;
    let size2 = field_u64(v, "size2")?;
    let root1 = field_str(v, "root1")?;
    let root2 = field_str(v, "root2")?;
    let proof = field_proof(v, "proof")?;
    let want_err = field_bool(v, "wantErr")?;
    let outcome = (|| {
        let root1 = Hash::from_base64(root1)?;
        let root2 = Hash::from_base64(root2)?;
        let proof = parse_proof(&proof)?;
        verify_consistency(size1, size2, &proof, &root1, &root2)
    })();
    // The vectors agree with transparency-dev/merkle (and oretrace) that a
    // consistency proof from the empty tree is an error; say so loudly if
    // a vector ever disagrees, rather than as an anonymous mismatch.
    if size1 == 0 && !want_err {
        return Err("expects success for a consistency proof from size 0".into());
    }
    Ok((outcome, want_err))
}

fn describe(outcome: &Result<(), Error>) -> String {
    match outcome {
        Ok(()) => "Ok".into(),
        Err(e) => format!("Err({e}) [{e:?}]"),
    }
}

/// Runs every vector of `kind`, adding to `failures` one line per vector
/// that did not behave as expected (or as its deviation explains).
fn check_all(kind: &str, vectors: &[Vector], run: fn(&Vector) -> Run, failures: &mut Vec<String>) {
    for v in vectors {
        let deviation = DEVIATIONS.iter().find(|(name, _)| *name == v.name);
        let (outcome, want_err) = match run(v) {
            Ok(pair) => pair,
            Err(problem) => {
                failures.push(format!("{}: malformed {kind} vector: {problem}", v.name));
                continue;
            }
        };
        let agrees = outcome.is_err() == want_err;
        match (deviation, agrees) {
            (None, true) => {}
            (None, false) => failures.push(format!(
                "{} ({:?}): wantErr {want_err}, got {}",
                v.name,
                desc(v),
                describe(&outcome)
            )),
            (Some(_), true) => failures.push(format!(
                "{}: listed in DEVIATIONS but now agrees with the vector; remove it from the list",
                v.name
            )),
            (Some((_, reason)), false) => {
                if !matches!(outcome, Err(Error::HashLength { .. })) {
                    failures.push(format!(
                        "{}: listed in DEVIATIONS ({reason}) so it must fail with \
                         Error::HashLength, but got {}",
                        v.name,
                        describe(&outcome)
                    ));
                }
            }
        }
    }
}

#[test]
fn conformance_vectors() {
    let inclusion = load_vectors("inclusion");
    let consistency = load_vectors("consistency");
    assert!(
        inclusion.len() >= MIN_INCLUSION_VECTORS,
        "found only {} inclusion vectors under {}",
        inclusion.len(),
        testdata_dir().display()
    );
    assert!(
        consistency.len() >= MIN_CONSISTENCY_VECTORS,
        "found only {} consistency vectors under {}",
        consistency.len(),
        testdata_dir().display()
    );

    let names: BTreeSet<&str> = inclusion
        .iter()
        .chain(&consistency)
        .map(|v| v.name.as_str())
        .collect();
    let missing: Vec<&str> = DEVIATIONS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !names.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "DEVIATIONS names vectors that do not exist: {missing:?}"
    );

    let mut failures = Vec::new();
    check_all("inclusion", &inclusion, run_inclusion, &mut failures);
    check_all("consistency", &consistency, run_consistency, &mut failures);
    println!(
        "checked {} inclusion and {} consistency vectors ({} known deviations)",
        inclusion.len(),
        consistency.len(),
        DEVIATIONS.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        inclusion.len() + consistency.len(),
        failures.join("\n")
    );
}

// ------------------------------------------------- generating the proofs

fn reference_tree() -> MemoryTree {
    let mut tree = MemoryTree::new();
    for entry in REFERENCE_ENTRIES {
        tree.append(leaf_hash(entry));
    }
    tree
}

fn b64(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_base64).collect()
}

#[test]
fn reference_tree_has_the_published_roots() {
    let tree = reference_tree();
    assert_eq!(tree.size(), 8);
    for (i, want) in REFERENCE_ROOTS.iter().enumerate() {
        let size = i as u64 + 1;
        let got = tree_hash(size, &tree).expect("root of the reference tree");
        assert_eq!(
            got.to_hex(),
            *want,
            "root of the first {size} reference entries"
        );
    }
    assert_eq!(tree.root().to_base64(), REFERENCE_ROOT_8_BASE64);
    assert_eq!(
        Hash::from_base64(REFERENCE_ROOT_8_BASE64)
            .expect("32-byte root")
            .to_hex(),
        REFERENCE_ROOTS[7]
    );
}

fn is_happy_path(v: &Vector) -> bool {
    desc(v) == "happy path" && v.json.get("wantErr").and_then(Value::as_bool) == Some(false)
}

/// The happy-path vectors are proofs in the reference tree: generating them
/// from its leaves must give exactly their roots and proofs.
#[test]
fn happy_path_proofs_are_reproduced_from_the_reference_leaves() {
    let tree = reference_tree();
    let root_b64 = |size: u64| tree_hash(size, &tree).map(|h| h.to_base64());
    let mut failures = Vec::new();
    let (mut inclusion_checked, mut consistency_checked) = (0usize, 0usize);
    let mut skipped = Vec::new();

    for v in load_vectors("inclusion")
        .iter()
        .filter(|v| is_happy_path(v))
    {
        let result = (|| -> Result<bool, String> {
            let index = field_u64(v, "leafIdx")?;
            let size = field_u64(v, "treeSize")?;
            if size > tree.size() {
                return Ok(false);
            }
            let mut wrong = Vec::new();
            let entry = usize::try_from(index)
                .ok()
                .and_then(|i| REFERENCE_ENTRIES.get(i))
                .ok_or_else(|| format!("leafIdx {index} is not below treeSize {size}"))?;
            let want_leaf = leaf_hash(entry).to_base64();
            if field_str(v, "leafHash")? != want_leaf {
                wrong.push(format!(
                    "leafHash is not reference leaf {index} ({want_leaf})"
                ));
            }
            let root = root_b64(size).map_err(|e| e.to_string())?;
            if field_str(v, "root")? != root {
                wrong.push(format!("root differs from generated {root}"));
            }
            let proof = prove_inclusion(index, size, &tree).map_err(|e| e.to_string())?;
            if field_proof(v, "proof")? != b64(&proof) {
                wrong.push(format!("proof differs from generated {:?}", b64(&proof)));
            }
            if wrong.is_empty() {
                Ok(true)
            } else {
                Err(wrong.join("; "))
            }
        })();
        match result {
            Ok(true) => inclusion_checked += 1,
            Ok(false) => skipped.push(v.name.clone()),
            Err(problem) => failures.push(format!("{}: {problem}", v.name)),
        }
    }

    for v in load_vectors("consistency")
        .iter()
        .filter(|v| is_happy_path(v))
    {
        let result = (|| -> Result<bool, String> {
            let size1 = field_u64(v, "size1")?;
            let size2 = field_u64(v, "size2")?;
            if size2 > tree.size() {
                return Ok(false);
            }
            let mut wrong = Vec::new();
            for (key, size) in [("root1", size1), ("root2", size2)] {
                let root = root_b64(size).map_err(|e| e.to_string())?;
                if field_str(v, key)? != root {
                    wrong.push(format!("{key} differs from generated {root}"));
                }
            }
            let proof = prove_consistency(size1, size2, &tree).map_err(|e| e.to_string())?;
            if field_proof(v, "proof")? != b64(&proof) {
                wrong.push(format!("proof differs from generated {:?}", b64(&proof)));
            }
            if wrong.is_empty() {
                Ok(true)
            } else {
                Err(wrong.join("; "))
            }
        })();
        match result {
            Ok(true) => consistency_checked += 1,
            Ok(false) => skipped.push(v.name.clone()),
            Err(problem) => failures.push(format!("{}: {problem}", v.name)),
        }
    }

    println!(
        "reproduced {inclusion_checked} inclusion and {consistency_checked} consistency \
         happy paths; beyond the reference tree: {skipped:?}"
    );
    assert!(
        failures.is_empty(),
        "happy paths not reproduced:\n{}",
        failures.join("\n")
    );
    // testdata/{inclusion,consistency}/{0..4}/happy-path.json, all of which
    // lie within the eight reference leaves.
    assert!(
        inclusion_checked >= 5,
        "only {inclusion_checked} inclusion happy paths checked"
    );
    assert!(
        consistency_checked >= 5,
        "only {consistency_checked} consistency happy paths checked"
    );
}
