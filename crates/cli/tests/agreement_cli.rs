//! `oretrace agreement seal | reveal | verify`: a party seals a text
//! clause by clause, reveals some clauses later, and anyone checks the
//! reveal against the sealed root and count, offline.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use serde_json::Value;
use support::{oretrace, path};

const TEXT: &str = "Article 1. Scope: exploration to refining (illustrative).\n\n\
Article 2. Investment: USD 500,000,000 (illustrative).\n\n\
Article 3. Term: five years (illustrative).\n";

fn field(stdout: &str, label: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn a_sealed_text_is_revealed_clause_by_clause_and_checked_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("mou.txt");
    std::fs::write(&text, TEXT).unwrap();
    let opening = tmp.path().join("mou.opening.json");

    let sealed = oretrace(&["agreement", "seal", path(&text), "--out", path(&opening)]);
    assert_eq!(sealed.code, 0, "{}", sealed.stderr);
    let root = field(&sealed.stdout, "root:");
    assert_eq!(field(&sealed.stdout, "clauses:"), "3");
    assert!(
        !sealed.stdout.contains("Investment"),
        "the text is not printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&opening).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the opening is private: {mode:o}");
    }
    // Sealing again never overwrites an opening.
    let again = oretrace(&["agreement", "seal", path(&text), "--out", path(&opening)]);
    assert_ne!(again.code, 0);

    // Reveal clause 1 only; anyone checks it against root and count.
    let revealed = oretrace(&["agreement", "reveal", path(&opening), "--clauses", "1"]);
    assert_eq!(revealed.code, 0, "{}", revealed.stderr);
    let reveal: Value = serde_json::from_str(&revealed.stdout).unwrap();
    assert_eq!(reveal["clauses"].as_array().unwrap().len(), 1);
    assert_eq!(
        reveal["clauses"][0]["text"],
        "Article 2. Investment: USD 500,000,000 (illustrative)."
    );
    assert!(
        !revealed.stdout.contains("Article 1"),
        "only clause 1 is revealed"
    );
    let file = tmp.path().join("reveal.json");
    std::fs::write(&file, &revealed.stdout).unwrap();
    let ok = oretrace(&[
        "agreement",
        "verify",
        path(&file),
        "--root",
        &root,
        "--count",
        "3",
    ]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout.starts_with("verified: 1 clause(s)"),
        "{}",
        ok.stdout
    );

    // A changed text, another root, another count: refused, naming the clause.
    let tampered = tmp.path().join("tampered.json");
    std::fs::write(
        &tampered,
        revealed.stdout.replace("500,000,000", "5,000,000,000"),
    )
    .unwrap();
    for (file, root, count) in [
        (&tampered, root.as_str(), "3"),
        (&file, &"ab".repeat(32)[..], "3"),
        (&file, root.as_str(), "2"),
    ] {
        let run = oretrace(&[
            "agreement",
            "verify",
            path(file),
            "--root",
            root,
            "--count",
            count,
        ]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.starts_with("FAILED: clause 1 "),
            "{}",
            run.stdout
        );
    }
    // Revealing a clause the text does not have is refused.
    let beyond = oretrace(&["agreement", "reveal", path(&opening), "--clauses", "3"]);
    assert_ne!(beyond.code, 0);
    assert!(beyond.stderr.contains("no 3"), "{}", beyond.stderr);
}
