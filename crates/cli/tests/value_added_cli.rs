//! `oretrace value-added` on the reference scenario as `oretrace demo`
//! loads it: FWO's export consignment `fwo-export-2025-0001` carries three
//! concentrates from Pakistan to USSM in the US (via Karachi port, in
//! Pakistan), so Pakistan's exports are all at the concentrate stage,
//! with the Sb, Cu, Nd and Pr the concentrates' assays state before the
//! shipment; figures illustrative. Worked by hand from the scenario:
//!
//! * Sb: 32 kg at 1 % moisture = 31.68 kg dry × 62.3 % = 19.73664 kg;
//! * Cu: 12 kg at 8 % = 11.04 kg dry × 27.4 % = 3.02496 kg;
//! * Nd, Pr: 4.5 kg at 1 % = 4.455 kg dry × 14.403581 % (from the
//!   Nd2O3 assay) = 0.64168 kg and × the Pr6O11 assay's Pr = 0.173309 kg.

mod support;

use serde_json::Value;
use support::oretrace;

const SB: &str = "urn:oretrace:lot:fwo:sb-concentrate-0001";
const CU: &str = "urn:oretrace:lot:fwo:cu-concentrate-0001";
const REE: &str = "urn:oretrace:lot:fwo:ree-concentrate-0001";

#[test]
fn the_demo_exports_concentrates_from_pakistan() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let server = support::served_demo(&data);
    let base = server.base();

    let run = oretrace(&["value-added", "--server", &base, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(body["figures"], "illustrative");
    assert_eq!(body["exports"], 3, "one export consignment of three lots");
    let totals: Vec<(&str, &str, &str, &str, &str)> = body["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["country"].as_str().unwrap(),
                t["element"].as_str().unwrap(),
                t["stage"].as_str().unwrap(),
                t["kg"].as_str().unwrap(),
                t["share_percent"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        totals,
        [
            ("PK", "Cu", "concentrate", "3.02496", "100"),
            ("PK", "Nd", "concentrate", "0.64168", "100"),
            ("PK", "Pr", "concentrate", "0.173309", "100"),
            ("PK", "Sb", "concentrate", "19.73664", "100"),
        ]
    );
    let lines = body["lines"].as_array().unwrap();
    let lots: Vec<&str> = lines.iter().map(|l| l["lot"].as_str().unwrap()).collect();
    assert_eq!(lots, [CU, REE, SB]);
    for line in lines {
        assert_eq!(line["shipment"], "fwo-export-2025-0001");
        assert_eq!(
            (
                line["country"].as_str(),
                line["destination"].as_str(),
                line["stage"].as_str()
            ),
            (Some("PK"), Some("US"), Some("concentrate"))
        );
        assert_eq!(line["entered_at"], Value::Null, "mined in Pakistan");
        assert_eq!(line["figures"], "illustrative");
        // The last record is the shipment; every record is in the log.
        let evidence = line["evidence"].as_array().unwrap();
        assert_eq!(evidence.last().unwrap()["index"], line["shipment_index"]);
        // Each element's assay is among the records the line rests on.
        let indices: Vec<u64> = evidence
            .iter()
            .map(|e| e["index"].as_u64().unwrap())
            .collect();
        for element in line["elements"].as_array().unwrap() {
            assert!(
                indices.contains(&element["assay_index"].as_u64().unwrap()),
                "{line:#}"
            );
        }
    }
    assert_eq!(lines[2]["dry_mass_kg"], "31.68");

    // The table: country × element × stage, kg and share.
    let run = oretrace(&["value-added", "--server", &base]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Figures are illustrative"),
        "{}",
        run.stdout
    );
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("PK") && l.contains("Sb"))
        .unwrap_or_else(|| panic!("no Sb row in {}", run.stdout));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "PK",
            "Sb",
            "concentrate",
            "19.73664",
            "100.00",
            "%",
            "0",
            "1"
        ]
    );

    // Nothing left the US, nor anything in 2026; a bad country is named.
    let run = oretrace(&["value-added", "--server", &base, "--country", "US"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("No exports"), "{}", run.stdout);
    let run = oretrace(&[
        "value-added",
        "--server",
        &base,
        "--from",
        "2026-01-01",
        "--json",
    ]);
    let body: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(body["exports"], 0);
    let run = oretrace(&["value-added", "--server", &base, "--country", "Pakistan"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("country"), "{}", run.stderr);
}
