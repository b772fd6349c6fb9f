//! The README's worked examples are real: every JSON record it shows,
//! signed by the signers it names, is accepted in the order shown by a
//! fresh server, and together they cover every record kind.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_server::{ServerConfig, router};
use oretrace_tlog::note::NoteSigner;
use serde_json::Value;
use tower::ServiceExt as _;

/// One example: the signers named in its `<!-- example: … -->` line and
/// the JSON block after it.
struct Example {
    signers: Vec<String>,
    json: String,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(signers) = line
            .strip_prefix("<!-- example: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        assert_eq!(lines.next(), Some("```json"), "after {line}");
        let json: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        examples.push(Example {
            signers: signers.split(',').map(|s| s.trim().to_owned()).collect(),
            json: json.join("\n"),
        });
    }
    examples
}

/// The key of a signer named in the README: `<party>/key-1`, or the
/// registry operator's.
fn signer(name: &str, seed: u8) -> NoteSigner {
    let key_name = if name == "operator" {
        "registry/operator".to_owned()
    } else {
        format!("{name}/key-1")
    };
    NoteSigner::from_seed(&key_name, [seed; 32]).unwrap()
}

#[tokio::test]
async fn every_readme_example_is_accepted_in_order() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let examples = examples(&readme);
    let names = ["operator", "fwo", "pk-lab", "ussm"];
    let keys: Vec<(&str, NoteSigner)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, signer(n, i as u8 + 1)))
        .collect();
    let key = |name: &str| {
        &keys
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("the README names an unknown signer {name}"))
            .1
    };
    let ledger = Ledger::start(
        MemoryStore::new(),
        NoteSigner::from_seed("oretrace.test/readme", [9; 32]).unwrap(),
        key("operator").verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    let app = router(Arc::new(ledger), ServerConfig::default()).unwrap();

    let mut kinds = std::collections::BTreeSet::new();
    for (i, example) in examples.iter().enumerate() {
        let mut json = example.json.clone();
        for (name, k) in &keys {
            json = json.replace(&format!("<{name} vkey>"), &k.verifier().to_vkey());
        }
        let record = RecordJson::parse(json.as_bytes())
            .unwrap_or_else(|e| panic!("example {i} does not parse: {e}\n{json}"));
        let signers: Vec<&NoteSigner> = example.signers.iter().map(|n| key(n)).collect();
        let signed = SignedRecord::sign(record, &signers).unwrap();
        kinds.insert(signed.record().kind());
        let body = serde_json::to_string(&signed.to_envelope()).unwrap();
        let response = app
            .clone()
            .oneshot(
                Request::post("/records")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "example {i} ({}): {}",
            signed.record().kind(),
            String::from_utf8_lossy(&body)
        );
        let answer: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(answer["index"], i as u64);
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "agreement",
            "assay",
            "countersignature",
            "disclosure",
            "lot",
            "party",
            "progress",
            "receipt",
            "report",
            "resource",
            "shipment",
            "site",
            "transformation"
        ],
        "the README shows one record of each kind"
    );
}
