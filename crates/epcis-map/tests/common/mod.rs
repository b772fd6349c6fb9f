//! Shared by the test suites: the reference scenario's records, read from
//! the data file the CLI's demo loads (`crates/cli/scenario/`), and the
//! schema check.

#![expect(
    clippy::expect_used,
    reason = "test code: a failure panics with the value's message"
)]
#![allow(dead_code, reason = "each suite uses part of this module")]

use oretrace_domain::Record;
use oretrace_domain::wire::RecordJson;
use oretrace_epcis_schema::EpcisValidator;
use serde_json::Value;

pub const SB: &str = "urn:oretrace:lot:fwo:sb-sample-0001";
pub const CU: &str = "urn:oretrace:lot:fwo:cu-sample-0001";
pub const REE: &str = "urn:oretrace:lot:fwo:ree-sample-0001";
pub const SB_C: &str = "urn:oretrace:lot:fwo:sb-concentrate-0001";
pub const CU_C: &str = "urn:oretrace:lot:fwo:cu-concentrate-0001";
pub const REE_C: &str = "urn:oretrace:lot:fwo:ree-concentrate-0001";

pub fn record(value: Value) -> Record {
    RecordJson::parse(value.to_string().as_bytes()).unwrap_or_else(|e| panic!("{value}: {e}"))
}

/// The reference scenario's data, as the CLI's demo loads it (one file
/// for both, so the mapping is tested on exactly what the demo writes).
const SCENARIO: &str = include_str!("../../../cli/scenario/first-shipment.json");

/// Every record of the scenario after its parties and sites, in order.
pub fn scenario() -> Vec<Record> {
    let data: Value = serde_json::from_str(SCENARIO).expect("the scenario data is JSON");
    data["steps"]
        .as_array()
        .expect("the scenario data has steps")
        .iter()
        .map(|step| &step["record"])
        .filter(|r| r["kind"] != "party" && r["kind"] != "site")
        .map(|r| record(r.clone()))
        .collect()
}

/// The scenario's record of this kind whose JSON has `key` = `value`
/// (the first, in log order).
fn find(kind: &str, key: &str, value: &str) -> Record {
    let data: Value = serde_json::from_str(SCENARIO).expect("the scenario data is JSON");
    let found = data["steps"]
        .as_array()
        .expect("the scenario data has steps")
        .iter()
        .map(|step| &step["record"])
        .find(|r| r["kind"] == kind && r[key] == value)
        .unwrap_or_else(|| panic!("the scenario has no {kind} with {key} {value}"));
    record(found.clone())
}

/// The scenario's first sample (antimony, 60 kg at Qila Abdullah).
pub fn first_sample() -> Record {
    find("lot", "id", SB)
}

/// The first sample's assay (Sb 38.5 % dry, ICP-OES, by pk-assay-lab).
pub fn first_assay() -> Record {
    find("assay", "lot", SB)
}

/// 59.8 kg of the sample become 32 kg of concentrate.
pub fn first_transformation() -> Record {
    find("transformation", "id", "fwo-prep-sb-0001")
}

/// The export shipment, via Karachi, with three documents.
pub fn export_shipment() -> Record {
    find("shipment", "id", "fwo-export-2025-0001")
}

/// The receipt in Missouri, weighed.
pub fn export_receipt() -> Record {
    find("receipt", "shipment", "fwo-export-2025-0001")
}

/// Schema violations of a document, as text (empty when it validates).
pub fn violations(document: &Value) -> Vec<String> {
    let validator = EpcisValidator::shared().expect("embedded schemas compile");
    match validator.validate_document(document) {
        Ok(()) => Vec::new(),
        Err(violations) => violations.iter().map(ToString::to_string).collect(),
    }
}
