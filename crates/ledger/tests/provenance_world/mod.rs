//! The worked example of `docs/design/provenance.md`, recorded through a
//! ledger: shared by the ledger's and the server's provenance tests.
#![allow(dead_code, reason = "each suite uses part of this module")]
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};

pub fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

pub fn signed(value: &Value, signers: &[&NoteSigner]) -> SignedRecord {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    SignedRecord::sign(record, signers).unwrap()
}

pub const CERT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub fn site(id: &str, kind: &str, operator: &str, country: &str) -> Value {
    json!({"kind": "site", "id": id, "name": format!("Site {id}"), "site_kind": kind, "operator": operator,
           "country": country, "location": {"lat": "29", "lon": "62"}, "approximate": true,
           "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

pub fn lot(id: &str, site: &str, wet_kg: &str, moisture: &str, time: &str) -> Value {
    json!({"kind": "lot", "id": id, "commodity": "copper", "form": "ore", "site": site,
           "wet_mass": {"value": wet_kg, "unit": "kg"}, "moisture_percent": moisture,
           "time": time, "figures": "illustrative"})
}

pub fn assay(lot: &str, analyte: &str, value: &str, time: &str) -> Value {
    json!({"kind": "assay", "lot": lot, "analyte": analyte, "value": value, "unit": "%", "basis": "dry",
           "method": "ICP-OES", "laboratory": "lab", "certificate_sha256": CERT,
           "time": time, "figures": "illustrative"})
}

pub fn ship(
    id: &str,
    lots: &[&str],
    from: &str,
    to: &str,
    via: &[&str],
    receiver: &str,
    time: &str,
) -> Value {
    json!({"kind": "shipment", "id": id, "lots": lots, "from": from, "to": to, "via": via,
           "receiver": receiver, "time": time, "figures": "illustrative"})
}

pub fn receive(shipment: &str, site: &str, lots: &[(&str, &str)], time: &str) -> Value {
    let lots: Vec<Value> = lots
        .iter()
        .map(|(l, kg)| json!({"lot": l, "mass": {"value": kg, "unit": "kg"}}))
        .collect();
    json!({"kind": "receipt", "shipment": shipment, "site": site, "lots": lots,
           "time": time, "figures": "illustrative"})
}

pub const O1: &str = "urn:oretrace:lot:fwo:o1";
pub const O2: &str = "urn:oretrace:lot:fwo:o2";
pub const A: &str = "urn:oretrace:lot:fwo:conc-a";
pub const M: &str = "urn:oretrace:lot:ussm:m";
pub const B: &str = "urn:oretrace:lot:ussm:blend-b";

pub struct World {
    pub ledger: Ledger<MemoryStore>,
    pub fwo: NoteSigner,
}

/// The worked example, recorded: fwo's ores O1 (Saindak) and O2 (Reko
/// Diq) shipped to fwo's concentrator and made into concentrate A; A
/// shipped via Karachi to ussm's plant; ussm's concentrate M from Madison
/// shipped there too; A and M blended into B.
pub fn worked_example() -> World {
    let operator = key("registry/operator", 1);
    let ledger = Ledger::start(
        MemoryStore::new(),
        key("oretrace.test/ledger", 2),
        operator.verifier(),
        LedgerConfig::default(),
    )
    .unwrap();
    let (fwo, ussm, lab) = (key("fwo/k1", 3), key("ussm/k1", 4), key("lab/k1", 5));
    let submit = |v: Value, signers: &[&NoteSigner]| {
        ledger.submit_blocking(signed(&v, signers)).unwrap();
    };
    for (id, k, c) in [
        ("fwo", &fwo, "PK"),
        ("ussm", &ussm, "US"),
        ("lab", &lab, "PK"),
    ] {
        submit(
            json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company",
                   "country": c, "keys": [k.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z",
                   "figures": "illustrative"}),
            &[k, &operator],
        );
    }
    submit(site("saindak", "mine", "fwo", "PK"), &[&fwo]);
    submit(site("reko-diq", "mine", "fwo", "PK"), &[&fwo]);
    submit(site("fwo-conc", "concentrator", "fwo", "PK"), &[&fwo]);
    submit(site("karachi-port", "port", "fwo", "PK"), &[&fwo]);
    submit(site("madison", "mine", "ussm", "US"), &[&ussm]);
    submit(
        site("ussm-plant", "receiving-plant", "ussm", "US"),
        &[&ussm],
    );

    submit(
        lot(O1, "saindak", "100000", "5", "2025-09-02T00:00:00Z"),
        &[&fwo],
    );
    submit(
        lot(O2, "reko-diq", "50000", "5", "2025-09-02T00:00:00Z"),
        &[&fwo],
    );
    for (l, cu, co) in [(O1, "1.6", "0.01"), (O2, "1.2", "0.02")] {
        submit(assay(l, "Cu", cu, "2025-09-03T00:00:00Z"), &[&fwo, &lab]);
        submit(assay(l, "Co", co, "2025-09-03T00:00:00Z"), &[&fwo, &lab]);
    }
    submit(
        ship(
            "s-o1",
            &[O1],
            "saindak",
            "fwo-conc",
            &[],
            "fwo",
            "2025-09-05T00:00:00Z",
        ),
        &[&fwo],
    );
    submit(
        receive(
            "s-o1",
            "fwo-conc",
            &[(O1, "100000")],
            "2025-09-06T00:00:00Z",
        ),
        &[&fwo],
    );
    submit(
        ship(
            "s-o2",
            &[O2],
            "reko-diq",
            "fwo-conc",
            &[],
            "fwo",
            "2025-09-05T00:00:00Z",
        ),
        &[&fwo],
    );
    submit(
        receive("s-o2", "fwo-conc", &[(O2, "50000")], "2025-09-07T00:00:00Z"),
        &[&fwo],
    );
    submit(
        json!({"kind": "transformation", "id": "conc-1", "site": "fwo-conc", "process": "flotation",
               "inputs": [{"lot": O1, "mass": {"value": "100000", "unit": "kg"}},
                          {"lot": O2, "mass": {"value": "50000", "unit": "kg"}}],
               "outputs": [{"id": A, "commodity": "copper", "form": "concentrate",
                            "wet_mass": {"value": "10000", "unit": "kg"}, "moisture_percent": "8"}],
               "time": "2025-09-15T00:00:00Z", "figures": "illustrative"}),
        &[&fwo],
    );
    submit(assay(A, "Cu", "22", "2025-09-16T00:00:00Z"), &[&fwo, &lab]);
    submit(assay(A, "Co", "0.1", "2025-09-16T00:00:00Z"), &[&fwo, &lab]);
    submit(
        ship(
            "s-a",
            &[A],
            "fwo-conc",
            "ussm-plant",
            &["karachi-port"],
            "ussm",
            "2025-09-20T00:00:00Z",
        ),
        &[&fwo],
    );
    submit(
        receive("s-a", "ussm-plant", &[(A, "10000")], "2025-10-20T00:00:00Z"),
        &[&ussm],
    );
    submit(
        lot(M, "madison", "5000", "10", "2025-10-01T00:00:00Z"),
        &[&ussm],
    );
    submit(assay(M, "Cu", "8", "2025-10-02T00:00:00Z"), &[&ussm, &lab]);
    submit(assay(M, "Co", "2", "2025-10-02T00:00:00Z"), &[&ussm, &lab]);
    submit(
        ship(
            "s-m",
            &[M],
            "madison",
            "ussm-plant",
            &[],
            "ussm",
            "2025-10-05T00:00:00Z",
        ),
        &[&ussm],
    );
    submit(
        receive("s-m", "ussm-plant", &[(M, "5000")], "2025-10-06T00:00:00Z"),
        &[&ussm],
    );
    submit(
        json!({"kind": "transformation", "id": "blend-1", "site": "ussm-plant", "process": "blending",
               "inputs": [{"lot": A, "mass": {"value": "10000", "unit": "kg"}},
                          {"lot": M, "mass": {"value": "5000", "unit": "kg"}}],
               "outputs": [{"id": B, "commodity": "copper", "form": "concentrate",
                            "wet_mass": {"value": "14000", "unit": "kg"}, "moisture_percent": "2.5"}],
               "time": "2025-10-25T00:00:00Z", "figures": "illustrative"}),
        &[&ussm],
    );
    submit(
        assay(B, "Cu", "17.45", "2025-10-26T00:00:00Z"),
        &[&ussm, &lab],
    );
    World { ledger, fwo }
}
