//! Shared by the test suites: the reference scenario's records, built the
//! way `crates/cli/src/scenario.rs` builds them (same JSON, same values),
//! and the schema check.

#![allow(dead_code)] // each suite uses part of this module

use oretrace_domain::Record;
use oretrace_domain::values::Digest;
use oretrace_domain::wire::RecordJson;
use oretrace_epcis_schema::EpcisValidator;
use serde_json::{Value, json};

pub const SB: &str = "urn:oretrace:lot:fwo:sb-sample-0001";
pub const CU: &str = "urn:oretrace:lot:fwo:cu-sample-0001";
pub const REE: &str = "urn:oretrace:lot:fwo:ree-sample-0001";
pub const SB_C: &str = "urn:oretrace:lot:fwo:sb-concentrate-0001";
pub const CU_C: &str = "urn:oretrace:lot:fwo:cu-concentrate-0001";
pub const REE_C: &str = "urn:oretrace:lot:fwo:ree-concentrate-0001";

pub fn record(value: Value) -> Record {
    RecordJson::parse(value.to_string().as_bytes()).unwrap_or_else(|e| panic!("{value}: {e}"))
}

fn lot(id: &str, commodity: &str, site: &str, kg: &str, moisture: &str, time: &str) -> Record {
    record(
        json!({"kind": "lot", "id": id, "commodity": commodity, "form": "sample", "site": site,
        "wet_mass": {"value": kg, "unit": "kg"}, "moisture_percent": moisture, "time": time,
        "figures": "illustrative"}),
    )
}

pub fn assay(lot: &str, analyte: &str, value: &str, lab: &str, method: &str, time: &str) -> Record {
    let certificate =
        Digest::of(format!("certificate (illustrative) {lot} {analyte} {time}").as_bytes());
    record(
        json!({"kind": "assay", "lot": lot, "analyte": analyte, "value": value, "unit": "%",
        "basis": "dry", "method": method, "laboratory": lab,
        "certificate_sha256": certificate.to_string(), "time": time, "figures": "illustrative"}),
    )
}

fn lm(lot: &str, kg: &str) -> Value {
    json!({"lot": lot, "mass": {"value": kg, "unit": "kg"}})
}

/// The scenario's first sample (antimony, 60 kg at Qila Abdullah).
pub fn first_sample() -> Record {
    lot(
        SB,
        "antimony",
        "fwo-qila-abdullah",
        "60",
        "3",
        "2025-09-10T06:00:00Z",
    )
}

/// The first sample's assay (Sb 38.5 % dry, ICP-OES, by pk-assay-lab).
pub fn first_assay() -> Record {
    assay(
        SB,
        "Sb",
        "38.5",
        "pk-assay-lab",
        "ICP-OES after digestion",
        "2025-09-14T10:00:00Z",
    )
}

/// 59.8 kg of the sample become 32 kg of concentrate.
pub fn first_transformation() -> Record {
    transformation(
        "fwo-prep-sb-0001",
        SB,
        "59.8",
        SB_C,
        "antimony",
        "32",
        "1",
        "sorting and gravity concentration of stibnite",
    )
}

#[allow(clippy::too_many_arguments)]
fn transformation(
    id: &str,
    input: &str,
    kg_in: &str,
    output: &str,
    commodity: &str,
    kg_out: &str,
    moisture: &str,
    process: &str,
) -> Record {
    record(
        json!({"kind": "transformation", "id": id, "site": "fwo-prep-plant", "process": process,
        "inputs": [lm(input, kg_in)],
        "outputs": [{"id": output, "commodity": commodity, "form": "concentrate",
                     "wet_mass": {"value": kg_out, "unit": "kg"}, "moisture_percent": moisture}],
        "time": "2025-09-22T06:00:00Z", "figures": "illustrative"}),
    )
}

/// The export shipment, via Karachi, with three documents.
pub fn export_shipment() -> Record {
    record(
        json!({"kind": "shipment", "id": "fwo-export-2025-0001", "lots": [SB_C, CU_C, REE_C],
        "from": "fwo-prep-plant", "to": "ussm-madison", "via": ["karachi-port"], "receiver": "ussm",
        "documents": [{"kind": "export-permit", "reference": "EXP-2025-0001 (illustrative)"},
                      {"kind": "bol", "reference": "BL-KHI-2025-0001 (illustrative)"},
                      {"kind": "inv", "reference": "INV-FWO-2025-0001 (illustrative)"}],
        "time": "2025-10-01T06:00:00Z", "figures": "illustrative"}),
    )
}

/// The receipt in Missouri, weighed.
pub fn export_receipt() -> Record {
    record(
        json!({"kind": "receipt", "shipment": "fwo-export-2025-0001", "site": "ussm-madison",
        "lots": [lm(SB_C, "31.7"), lm(CU_C, "11.6"), lm(REE_C, "4.49")],
        "time": "2025-10-20T15:00:00Z", "figures": "illustrative"}),
    )
}

/// Every record of the scenario after its parties and sites, in order.
pub fn scenario() -> Vec<Record> {
    let mut out = vec![
        first_sample(),
        lot(
            CU,
            "copper",
            "fwo-chagai-copper",
            "90",
            "6",
            "2025-09-11T06:00:00Z",
        ),
        lot(
            REE,
            "rare-earths",
            "fwo-loe-shilman",
            "45",
            "2",
            "2025-09-12T06:00:00Z",
        ),
        first_assay(),
        assay(
            CU,
            "Cu",
            "4.2",
            "pk-assay-lab",
            "ICP-OES after digestion",
            "2025-09-14T10:00:00Z",
        ),
        assay(
            REE,
            "Nd2O3",
            "1.9",
            "pk-assay-lab",
            "ICP-MS after fusion",
            "2025-09-14T10:00:00Z",
        ),
        assay(
            REE,
            "Pr6O11",
            "0.55",
            "pk-assay-lab",
            "ICP-MS after fusion",
            "2025-09-14T10:00:00Z",
        ),
    ];
    for (id, lot, from) in [
        ("fwo-transfer-0001", SB, "fwo-qila-abdullah"),
        ("fwo-transfer-0002", CU, "fwo-chagai-copper"),
        ("fwo-transfer-0003", REE, "fwo-loe-shilman"),
    ] {
        out.push(record(
            json!({"kind": "shipment", "id": id, "lots": [lot], "from": from,
            "to": "fwo-prep-plant", "receiver": "fwo", "time": "2025-09-15T06:00:00Z",
            "figures": "illustrative"}),
        ));
    }
    for (id, lot, kg) in [
        ("fwo-transfer-0001", SB, "59.8"),
        ("fwo-transfer-0002", CU, "89.6"),
        ("fwo-transfer-0003", REE, "44.9"),
    ] {
        out.push(record(
            json!({"kind": "receipt", "shipment": id, "site": "fwo-prep-plant",
            "lots": [lm(lot, kg)], "time": "2025-09-17T06:00:00Z", "figures": "illustrative"}),
        ));
    }
    out.push(first_transformation());
    out.push(transformation(
        "fwo-prep-cu-0001",
        CU,
        "89.6",
        CU_C,
        "copper",
        "12",
        "8",
        "froth flotation (bench scale)",
    ));
    out.push(transformation(
        "fwo-prep-ree-0001",
        REE,
        "44.9",
        REE_C,
        "rare-earths",
        "4.5",
        "1",
        "magnetic and gravity separation",
    ));
    for (lot, analyte, value, method) in [
        (SB_C, "Sb", "62.3", "ICP-OES after digestion"),
        (CU_C, "Cu", "27.4", "ICP-OES after digestion"),
        (REE_C, "Nd2O3", "16.8", "ICP-MS after fusion"),
        (REE_C, "Pr6O11", "4.7", "ICP-MS after fusion"),
    ] {
        out.push(assay(
            lot,
            analyte,
            value,
            "pk-assay-lab",
            method,
            "2025-09-24T10:00:00Z",
        ));
    }
    out.push(export_shipment());
    out.push(export_receipt());
    for (lot, analyte, value, method) in [
        (SB_C, "Sb", "61.8", "XRF, confirmed by fire assay"),
        (CU_C, "Cu", "26.1", "XRF"),
        (REE_C, "Nd2O3", "16.5", "ICP-MS after fusion"),
    ] {
        out.push(assay(
            lot,
            analyte,
            value,
            "ussm",
            method,
            "2025-10-24T15:00:00Z",
        ));
    }
    out
}

/// Schema violations of a document, as text (empty when it validates).
pub fn violations(document: &Value) -> Vec<String> {
    let validator = EpcisValidator::shared().expect("embedded schemas compile");
    match validator.validate_document(document) {
        Ok(()) => Vec::new(),
        Err(violations) => violations.iter().map(ToString::to_string).collect(),
    }
}
