//! `oretrace epcis hash` reproduces the CBV 2.0 vectors; `oretrace epcis
//! validate` accepts the official examples and lists violations.

mod support;

use std::path::PathBuf;

use support::{oretrace, path, project_root};

fn shared() -> PathBuf {
    project_root().join("../shared/conformance")
}

#[test]
fn hash_prints_each_event_id_in_document_order() {
    let dir = shared().join("event-hash");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().path();
        if file.extension().and_then(|e| e.to_str()) != Some("jsonld") {
            continue;
        }
        let expected = std::fs::read_to_string(file.with_extension("hashes")).unwrap();
        let run = oretrace(&["epcis", "hash", path(&file)]);
        assert_eq!(run.code, 0, "{}: {}", file.display(), run.stderr);
        let want: Vec<&str> = expected
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        let got: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(got, want, "{}", file.display());
        checked += 1;
    }
    assert_eq!(checked, 9);
}

#[test]
fn validate_accepts_the_examples_and_lists_violations() {
    let example = shared().join("epcis/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&example).unwrap() {
        let file = entry.unwrap().path();
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        if !text.contains("\"EPCISDocument\"") {
            continue;
        }
        let run = oretrace(&["epcis", "validate", path(&file)]);
        assert_eq!(run.code, 0, "{}: {}", file.display(), run.stderr);
        checked += 1;
    }
    assert!(checked >= 9, "{checked}");

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.jsonld");
    std::fs::write(
        &bad,
        r#"{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2025-10-01T00:00:00Z",
            "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2025-10-01T00:00:00",
              "eventTimeZoneOffset": "+05:00", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
              "action": "OBSERVE"}]}}"#,
    )
    .unwrap();
    let run = oretrace(&["epcis", "validate", path(&bad)]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("/epcisBody/eventList/0/eventTime"),
        "{}",
        run.stderr
    );
}
