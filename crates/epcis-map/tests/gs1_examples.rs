//! GS1's own example documents (`shared/conformance/epcis/examples/`): no
//! event of them uses the registry's namespace, so each reads as no
//! records; the lots they name and whether they move them still come out.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::path::{Path, PathBuf};

use oretrace_domain::record::Figures;
use oretrace_epcis_map::{Mapped, interpret};
use serde_json::Value;

fn examples_dir() -> PathBuf {
    oretrace_benchkit::conformance("epcis/examples")
}

fn example_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| {
        panic!(
            "read {}: {e} (shared/ must sit beside the checkout)",
            dir.display()
        )
    });
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            example_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "jsonld") {
            out.push(path);
        }
    }
}

/// Every event of one example file, read with the document's `@context`
/// copied in (as the ledger captures them).
fn read(file: &Path) -> Vec<Mapped> {
    let text = std::fs::read_to_string(file).unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();
    oretrace_epcis::document_events(&document)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let mut event = event.clone();
            if let Some(context) = document.get("@context") {
                event["@context"] = context.clone();
            }
            interpret(&event).unwrap_or_else(|e| panic!("{} event {i}: {e}", file.display()))
        })
        .collect()
}

fn name(path: &Path) -> String {
    path.strip_prefix(examples_dir())
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Whether each event moves what it names, per file.
const MOVES: &[(&str, &[bool])] = &[
    ("EPCISQueryDocument.jsonld", &[true, true]),
    (
        "Example-TransactionEvents-2020_07_03y.jsonld",
        &[false, false],
    ),
    (
        "Example-Type-sourceOrDestination,measurement,bizTransaction.jsonld",
        &[false],
    ),
    (
        "Example_9.6.1-ObjectEvent-with-pseudo-SBDH-headers.jsonld",
        &[true, true],
    ),
    ("Example_9.6.1-ObjectEvent.jsonld", &[true, true]),
    ("Example_9.6.1-with-comment.jsonld", &[true, true]),
    ("Example_9.6.2-ObjectEvent.jsonld", &[true]),
    ("Example_9.6.3-AggregationEvent.jsonld", &[true]),
    ("Example_9.6.4-TransformationEvent.jsonld", &[true]),
    ("PersistentDisposition-example.jsonld", &[true, false]),
    (
        "WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld",
        &[true, true],
    ),
    (
        "WithErrorDeclaration/Example_9.6.1-ObjectEvent-with-error-declaration.jsonld",
        &[true, true],
    ),
];

#[test]
fn every_gs1_example_event_reads_as_no_records() {
    let mut files = Vec::new();
    example_files(&examples_dir(), &mut files);
    files.sort();
    let names: Vec<String> = files.iter().map(|f| name(f)).collect();
    let expected: Vec<&str> = MOVES.iter().map(|(file, _)| *file).collect();
    assert_eq!(names, expected, "the example files changed");
    for (file, (_, moves)) in files.iter().zip(MOVES) {
        let mapped = read(file);
        let got: Vec<bool> = mapped.iter().map(|m| m.moves).collect();
        assert_eq!(&got, moves, "{}", name(file));
        for m in &mapped {
            assert_eq!(m.records, vec![], "{}", name(file));
            assert_eq!(m.figures, Figures::Reported, "{}", name(file));
            assert!(
                !m.lots.is_empty(),
                "{}: every example names something",
                name(file)
            );
        }
    }
}

#[test]
fn the_lots_an_example_names_come_from_every_list() {
    let lots = |file: &str| -> Vec<Vec<String>> {
        read(&examples_dir().join(file))
            .into_iter()
            .map(|m| m.lots)
            .collect()
    };
    // Named as the query index keeps them: EPC URNs as canonical GS1
    // Digital Links.
    let canonical =
        |urn: &str| oretrace_epcis::canonical_digital_link(urn).unwrap_or_else(|| urn.to_owned());
    assert_eq!(
        canonical("urn:epc:id:sgtin:0614141.107346.2017"),
        "https://id.gs1.org/01/10614141073464/21/2017"
    );
    assert_eq!(
        lots("Example_9.6.1-ObjectEvent.jsonld"),
        vec![
            vec![
                canonical("urn:epc:id:sgtin:0614141.107346.2017"),
                canonical("urn:epc:id:sgtin:0614141.107346.2018")
            ],
            vec![canonical("urn:epc:id:sgtin:0614141.107346.2018")],
        ]
    );
    assert_eq!(
        lots("Example_9.6.3-AggregationEvent.jsonld"),
        vec![vec![
            canonical("urn:epc:id:sscc:0614141.1234567890"),
            canonical("urn:epc:id:sgtin:0614141.107346.2017"),
            canonical("urn:epc:id:sgtin:0614141.107346.2018"),
            canonical("urn:epc:idpat:sgtin:4012345.098765.*"),
            canonical("urn:epc:class:lgtin:4012345.012345.998877"),
        ]]
    );
    let transformation = &lots("Example_9.6.4-TransformationEvent.jsonld")[0];
    assert_eq!(transformation.len(), 2 + 3 + 4);
    assert_eq!(
        transformation[0],
        canonical("urn:epc:id:sgtin:4012345.011122.25")
    );
    assert_eq!(
        transformation[8],
        canonical("urn:epc:id:sgtin:4012345.077889.28")
    );
}
