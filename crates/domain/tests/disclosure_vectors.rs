//! Test vectors of the sealed-clause format (`oretrace.clause/v1`,
//! `docs/design/agreements.md`), pinned in
//! `docs/design/agreement-vectors.json`, and checked by an independent
//! implementation written from the design note alone
//! (`tests/disclosure/check_vectors.py`, Python with `hashlib` only).
//! `ORETRACE_UPDATE_GOLDEN=1` rewrites the vectors after an intended
//! change of the format.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use oretrace_domain::disclosure::{Salt, Sealed, clause_commitment, verify_clause};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A salt that anyone can re-derive: SHA-256 of "salt <case> <index>".
fn salt(case: &str, index: usize) -> Salt {
    oretrace_tlog::hash::sha256(format!("salt {case} {index}").as_bytes())
}

fn case(name: &str, texts: &[&str]) -> Value {
    let clauses: Vec<(Salt, &str)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (salt(name, i), *t))
        .collect();
    let sealed = Sealed::new(&clauses).unwrap();
    let listed: Vec<Value> = clauses
        .iter()
        .enumerate()
        .map(|(i, (s, t))| {
            let proof = sealed.proof(i as u64).unwrap();
            verify_clause(&sealed.root(), sealed.count(), i as u64, s, t, &proof).unwrap();
            json!({
                "index": i,
                "salt": hex(s),
                "text": t,
                "commitment": hex(clause_commitment(i as u32, s, t).as_bytes()),
                "proof": proof.iter().map(|h| hex(h.as_bytes())).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "name": name,
        "count": sealed.count(),
        "root": hex(sealed.root().as_bytes()),
        "clauses": listed,
    })
}

fn vectors() -> Value {
    json!({
        "format": "oretrace.clause/v1",
        "about": "Sealed agreement texts: c_i = SHA-256(\"oretrace.clause/v1\" 0x00 u32be(i) salt_i text_i); root = RFC 6962 tree hash over the leaves c_i; proof = RFC 9162 inclusion proof of leaf i. Clause texts are illustrative; salts are SHA-256(\"salt <case> <index>\") so that anyone can re-derive them (real salts are random).",
        "cases": [
            case("one-clause", &["The parties agree to cooperate (illustrative)."]),
            case("three-clauses", &[
                "Article 1. Scope: exploration to refining (illustrative).",
                "Article 2. Investment: USD 500,000,000 over five years (illustrative).",
                "Article 3. Term: five years from signature (illustrative).",
            ]),
            case("seven-clauses-non-ascii-and-empty", &[
                "",
                "معاہدہ: دفعہ ۱ (illustrative)",
                "第二条 (illustrative)",
                "Line one\nline two",
                "Tab\tand \"quotes\" and \\ backslash",
                "Emoji 🪨⛏️",
                "The last clause.",
            ]),
        ]
    })
}

fn vectors_path() -> PathBuf {
    root().join("docs/design/agreement-vectors.json")
}

#[test]
fn the_vectors_are_what_the_code_computes() {
    let text = serde_json::to_string_pretty(&vectors()).unwrap() + "\n";
    if std::env::var_os("ORETRACE_UPDATE_GOLDEN").is_some() {
        std::fs::write(vectors_path(), &text).unwrap();
    }
    let pinned = std::fs::read_to_string(vectors_path())
        .expect("docs/design/agreement-vectors.json (ORETRACE_UPDATE_GOLDEN=1 writes it)");
    assert_eq!(pinned, text, "the sealed-clause vectors changed");
}

fn python_check(path: &Path) -> (bool, String) {
    let out = Command::new("python3")
        .arg(root().join("tests/disclosure/check_vectors.py"))
        .arg(path)
        .output()
        .expect("running python3 (the independent checker needs only its standard library)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn an_independent_checker_recomputes_the_vectors_from_the_design_note_alone() {
    let (ok, output) = python_check(&vectors_path());
    assert!(ok, "the Python checker disagrees:\n{output}");
    // And it is a real check: a changed text, salt or proof fails it.
    let dir = tempfile::tempdir().unwrap();
    for (what, change) in [
        (
            "text",
            ("text", json!("Article 2. Investment: USD 5,000,000,000")),
        ),
        ("salt", ("salt", json!("00".repeat(32)))),
        ("proof", ("proof", json!([]))),
    ] {
        let mut v = vectors();
        v["cases"][1]["clauses"][1][change.0] = change.1;
        let path = dir.path().join(format!("{what}.json"));
        std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
        let (ok, output) = python_check(&path);
        assert!(!ok, "a changed {what} passed the Python checker: {output}");
    }
}
