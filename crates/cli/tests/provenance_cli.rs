//! `oretrace provenance LOT` against the demo: each concentrate of the
//! first shipment traces back to the exploration site its sample came
//! from (Qila Abdullah antimony, Chagai copper, Loe Shilman rare earths),
//! with shares summing to 1; the tree names its origins, steps, custody
//! and sites; and every receipt `--receipts` saves verifies offline.

mod support;

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use support::{oretrace, path};

const CONCENTRATES: [(&str, &str, &[&str]); 3] = [
    (
        "urn:oretrace:lot:fwo:sb-concentrate-0001",
        "fwo-qila-abdullah",
        &["Sb"],
    ),
    (
        "urn:oretrace:lot:fwo:cu-concentrate-0001",
        "fwo-chagai-copper",
        &["Cu"],
    ),
    (
        "urn:oretrace:lot:fwo:ree-concentrate-0001",
        "fwo-loe-shilman",
        &["Nd", "Pr"],
    ),
];

#[test]
fn the_demo_concentrates_trace_back_to_their_sites_with_verifiable_receipts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let server = support::served_demo(&data);
    let base = server.base();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let vkey = reqwest::blocking::get(format!("{base}/vkey"))
        .unwrap()
        .text()
        .unwrap()
        .trim()
        .to_owned();

    for (lot, site, elements) in CONCENTRATES {
        let run = oretrace(&["provenance", lot, "--server", &base, "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let answer: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(answer["lot"], lot);
        assert_eq!(answer["figures"], "illustrative", "{answer:#}");
        let origins: Vec<&str> = answer["origins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["site"].as_str().unwrap())
            .collect();
        assert_eq!(origins, [site], "{answer:#}");
        for symbol in elements {
            let element = answer["elements"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["element"] == *symbol)
                .unwrap_or_else(|| panic!("{symbol} in {answer:#}"));
            let by_site = element["by_site"].as_array().unwrap();
            assert_eq!(by_site.len(), 1, "{element:#}");
            assert_eq!(by_site[0]["site"], site);
            assert_eq!(by_site[0]["country"], "PK");
            let sum: Decimal = by_site
                .iter()
                .map(|s| Decimal::from_str(s["share"].as_str().unwrap()).unwrap())
                .chain([Decimal::from_str(element["unknown"].as_str().unwrap()).unwrap()])
                .sum();
            assert_eq!(sum, Decimal::ONE, "{element:#}");
        }
        // The shipment's ports are among the sites passed.
        assert!(
            answer["sites"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["kind"] == "port" && s["roles"][0] == "transit"),
            "{answer:#}"
        );
    }

    // The tree, and every receipt it rests on, verified offline.
    let (lot, site, _) = CONCENTRATES[1];
    let receipts = tmp.path().join("receipts");
    let run = oretrace(&[
        "provenance",
        lot,
        "--server",
        &base,
        "--receipts",
        path(&receipts),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for needle in [
        "origins by element",
        "100.000 %  fwo-chagai-copper",
        "steps:",
        "fwo-prep-cu-0001",
        "custody:",
        "sites passed:",
        "operator",
        site,
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }
    let mut verified = 0;
    for file in std::fs::read_dir(&receipts).unwrap() {
        let file = file.unwrap().path();
        assert!(file.to_string_lossy().ends_with(".tlog-proof"));
        let check = oretrace(&["verify", "--inclusion", path(&file), "--vkey", &vkey]);
        assert_eq!(check.code, 0, "{}: {}", file.display(), check.stderr);
        verified += 1;
    }
    assert!(verified >= 5, "{verified} receipts");

    // An unknown lot is refused, by name.
    let run = oretrace(&["provenance", "urn:oretrace:lot:fwo:nope", "--server", &base]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("404") || run.stderr.contains("no lot"),
        "{}",
        run.stderr
    );
}
