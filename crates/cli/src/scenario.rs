//! The reference scenario (`../shared/scenario/first-shipment.md`): the
//! first critical-mineral shipment from Pakistan to the United States, as
//! signed records. Parties, places and dates marked `reported` come from
//! the press reports the scenario cites; every quantity, grade, laboratory
//! and document reference is invented and marked `illustrative`.

use oretrace_domain::Record;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};

/// The parties of the scenario: (id, name, kind, country, figures).
pub const PARTIES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "gov-pk",
        "Government of Pakistan",
        "government",
        "PK",
        "reported",
    ),
    (
        "fwo",
        "Frontier Works Organisation",
        "state-body",
        "PK",
        "reported",
    ),
    ("ussm", "US Strategic Metals", "company", "US", "reported"),
    (
        "nlc",
        "National Logistics Corporation",
        "state-body",
        "PK",
        "reported",
    ),
    ("mota-engil", "Mota-Engil", "company", "PT", "reported"),
    (
        "gov-cn",
        "Government of the People's Republic of China",
        "government",
        "CN",
        "reported",
    ),
    (
        "cophc",
        "China Overseas Ports Holding Company",
        "state-controlled-company",
        "CN",
        "reported",
    ),
    (
        "pk-assay-lab",
        "Demonstration assay laboratory (illustrative)",
        "laboratory",
        "PK",
        "illustrative",
    ),
];

/// Who owns or controls whom: (party, owner, share %, controls).
const OWNERS: &[(&str, &str, &str, bool)] = &[
    ("fwo", "gov-pk", "100", true),
    ("nlc", "gov-pk", "100", true),
    ("cophc", "gov-cn", "100", true),
];

/// Keys for the scenario: the registry operator and one key per party.
pub struct ScenarioKeys {
    pub operator: NoteSigner,
    pub parties: Vec<(String, NoteSigner)>,
}

impl std::fmt::Debug for ScenarioKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScenarioKeys({} parties)", self.parties.len())
    }
}

impl ScenarioKeys {
    /// The keys, each from `key(name)` (which loads or creates it).
    pub fn generate(
        mut key: impl FnMut(&str) -> anyhow::Result<NoteSigner>,
    ) -> anyhow::Result<Self> {
        let operator = key("registry/operator")?;
        let mut parties = Vec::new();
        for (id, ..) in PARTIES {
            parties.push(((*id).to_owned(), key(&format!("{id}/key-1"))?));
        }
        Ok(ScenarioKeys { operator, parties })
    }

    pub fn party(&self, id: &str) -> anyhow::Result<&NoteSigner> {
        self.parties
            .iter()
            .find(|(p, _)| p == id)
            .map(|(_, k)| k)
            .ok_or_else(|| anyhow::anyhow!("no key for {id}"))
    }
}

fn record(value: Value) -> anyhow::Result<Record> {
    Ok(RecordJson::parse(value.to_string().as_bytes())?)
}

const CERT: &str = "certificate (illustrative)";

#[allow(clippy::too_many_arguments)] // one row of the places table
fn site(
    id: &str,
    name: &str,
    kind: &str,
    operator: &str,
    country: &str,
    lat: &str,
    lon: &str,
    approximate: bool,
    figures: &str,
) -> Value {
    json!({"kind": "site", "id": id, "name": name, "site_kind": kind, "operator": operator, "country": country,
           "location": {"lat": lat, "lon": lon}, "approximate": approximate,
           "time": "2025-09-01T00:00:00Z", "figures": figures})
}

fn lot(id: &str, commodity: &str, site: &str, kg: &str, moisture: &str, time: &str) -> Value {
    json!({"kind": "lot", "id": id, "commodity": commodity, "form": "sample", "site": site,
           "wet_mass": {"value": kg, "unit": "kg"}, "moisture_percent": moisture, "time": time, "figures": "illustrative"})
}

fn assay(lot: &str, analyte: &str, value: &str, lab: &str, method: &str, time: &str) -> Value {
    let certificate =
        oretrace_domain::values::Digest::of(format!("{CERT} {lot} {analyte} {time}").as_bytes());
    json!({"kind": "assay", "lot": lot, "analyte": analyte, "value": value, "unit": "%", "basis": "dry",
           "method": method, "laboratory": lab, "certificate_sha256": certificate.to_string(),
           "time": time, "figures": "illustrative"})
}

fn lm(lot: &str, kg: &str) -> Value {
    json!({"lot": lot, "mass": {"value": kg, "unit": "kg"}})
}

/// The scenario as signed records, in the order they are appended.
pub fn records(keys: &ScenarioKeys) -> anyhow::Result<Vec<SignedRecord>> {
    let mut out = Vec::new();
    let mut push = |value: Value, signers: &[&NoteSigner]| -> anyhow::Result<()> {
        out.push(SignedRecord::sign(record(value)?, signers)?);
        Ok(())
    };
    // Parties, owners first so that ownership links name registered parties.
    let order = [
        "gov-pk",
        "gov-cn",
        "fwo",
        "ussm",
        "nlc",
        "mota-engil",
        "cophc",
        "pk-assay-lab",
    ];
    for id in order {
        let (_, name, kind, country, figures) = PARTIES
            .iter()
            .find(|p| p.0 == id)
            .ok_or_else(|| anyhow::anyhow!("unknown party {id}"))?;
        let key = keys.party(id)?;
        let owners: Vec<Value> = OWNERS
            .iter()
            .filter(|o| o.0 == id)
            .map(|(_, owner, share, controls)| json!({"owner": owner, "share_percent": share, "controls": controls}))
            .collect();
        push(
            json!({"kind": "party", "id": id, "name": name, "party_kind": kind, "country": country,
                   "keys": [key.verifier().to_vkey()], "owners": owners,
                   "time": "2025-09-01T00:00:00Z", "figures": figures}),
            &[key, &keys.operator],
        )?;
    }
    let (fwo, ussm, lab, gov, cophc) = (
        keys.party("fwo")?,
        keys.party("ussm")?,
        keys.party("pk-assay-lab")?,
        keys.party("gov-pk")?,
        keys.party("cophc")?,
    );

    // Places: ports and the receiving facility from public gazetteers
    // (reported); sampling sites and the preparation plant approximate.
    push(
        site(
            "karachi-port",
            "Karachi Port",
            "port",
            "gov-pk",
            "PK",
            "24.835",
            "66.982",
            false,
            "reported",
        ),
        &[gov],
    )?;
    push(
        site(
            "port-qasim",
            "Port Qasim",
            "port",
            "gov-pk",
            "PK",
            "24.767",
            "67.333",
            false,
            "reported",
        ),
        &[gov],
    )?;
    push(
        site(
            "gwadar-port",
            "Gwadar Port",
            "port",
            "cophc",
            "PK",
            "25.12639",
            "62.3225",
            false,
            "reported",
        ),
        &[cophc],
    )?;
    push(
        site(
            "ussm-madison",
            "USSM Madison Mine, Fredericktown, Missouri",
            "receiving-plant",
            "ussm",
            "US",
            "37.56",
            "-90.29",
            true,
            "reported",
        ),
        &[ussm],
    )?;
    push(
        site(
            "fwo-qila-abdullah",
            "Antimony occurrence near Qila Abdullah (approximate)",
            "exploration-area",
            "fwo",
            "PK",
            "30.73",
            "66.66",
            true,
            "illustrative",
        ),
        &[fwo],
    )?;
    push(
        site(
            "fwo-chagai-copper",
            "Copper sampling area, Chagai (approximate)",
            "exploration-area",
            "fwo",
            "PK",
            "29.2",
            "61.7",
            true,
            "illustrative",
        ),
        &[fwo],
    )?;
    push(
        site(
            "fwo-loe-shilman",
            "Loe Shilman carbonatite (approximate)",
            "exploration-area",
            "fwo",
            "PK",
            "34.17",
            "71.1",
            true,
            "illustrative",
        ),
        &[fwo],
    )?;
    push(
        site(
            "fwo-prep-plant",
            "FWO sample preparation facility (illustrative)",
            "concentrator",
            "fwo",
            "PK",
            "24.9",
            "67.1",
            true,
            "illustrative",
        ),
        &[fwo],
    )?;
    push(
        site(
            "pk-assay-lab",
            "Demonstration assay laboratory (illustrative)",
            "laboratory",
            "pk-assay-lab",
            "PK",
            "24.92",
            "67.08",
            true,
            "illustrative",
        ),
        &[lab],
    )?;

    // 1. Exploration samples, each with an assay certificate.
    let sb = "urn:oretrace:lot:fwo:sb-sample-0001";
    let cu = "urn:oretrace:lot:fwo:cu-sample-0001";
    let ree = "urn:oretrace:lot:fwo:ree-sample-0001";
    push(
        lot(
            sb,
            "antimony",
            "fwo-qila-abdullah",
            "60",
            "3",
            "2025-09-10T06:00:00Z",
        ),
        &[fwo],
    )?;
    push(
        lot(
            cu,
            "copper",
            "fwo-chagai-copper",
            "90",
            "6",
            "2025-09-11T06:00:00Z",
        ),
        &[fwo],
    )?;
    push(
        lot(
            ree,
            "rare-earths",
            "fwo-loe-shilman",
            "45",
            "2",
            "2025-09-12T06:00:00Z",
        ),
        &[fwo],
    )?;
    push(
        assay(
            sb,
            "Sb",
            "38.5",
            "pk-assay-lab",
            "ICP-OES after digestion",
            "2025-09-14T10:00:00Z",
        ),
        &[fwo, lab],
    )?;
    push(
        assay(
            cu,
            "Cu",
            "4.2",
            "pk-assay-lab",
            "ICP-OES after digestion",
            "2025-09-14T10:00:00Z",
        ),
        &[fwo, lab],
    )?;
    push(
        assay(
            ree,
            "Nd2O3",
            "1.9",
            "pk-assay-lab",
            "ICP-MS after fusion",
            "2025-09-14T10:00:00Z",
        ),
        &[fwo, lab],
    )?;
    push(
        assay(
            ree,
            "Pr6O11",
            "0.55",
            "pk-assay-lab",
            "ICP-MS after fusion",
            "2025-09-14T10:00:00Z",
        ),
        &[fwo, lab],
    )?;

    // 2. To the preparation plant, and concentrated there.
    push(
        json!({"kind": "shipment", "id": "fwo-transfer-0001", "lots": [sb], "from": "fwo-qila-abdullah", "to": "fwo-prep-plant",
               "receiver": "fwo", "time": "2025-09-15T06:00:00Z", "figures": "illustrative"}),
        &[fwo],
    )?;
    push(
        json!({"kind": "shipment", "id": "fwo-transfer-0002", "lots": [cu], "from": "fwo-chagai-copper", "to": "fwo-prep-plant",
               "receiver": "fwo", "time": "2025-09-15T06:00:00Z", "figures": "illustrative"}),
        &[fwo],
    )?;
    push(
        json!({"kind": "shipment", "id": "fwo-transfer-0003", "lots": [ree], "from": "fwo-loe-shilman", "to": "fwo-prep-plant",
               "receiver": "fwo", "time": "2025-09-15T06:00:00Z", "figures": "illustrative"}),
        &[fwo],
    )?;
    for (id, lot, kg) in [
        ("fwo-transfer-0001", sb, "59.8"),
        ("fwo-transfer-0002", cu, "89.6"),
        ("fwo-transfer-0003", ree, "44.9"),
    ] {
        push(
            json!({"kind": "receipt", "shipment": id, "site": "fwo-prep-plant", "lots": [lm(lot, kg)],
                   "time": "2025-09-17T06:00:00Z", "figures": "illustrative"}),
            &[fwo],
        )?;
    }
    let sb_c = "urn:oretrace:lot:fwo:sb-concentrate-0001";
    let cu_c = "urn:oretrace:lot:fwo:cu-concentrate-0001";
    let ree_c = "urn:oretrace:lot:fwo:ree-concentrate-0001";
    for (id, input, kg_in, output, commodity, kg_out, moisture, process) in [
        (
            "fwo-prep-sb-0001",
            sb,
            "59.8",
            sb_c,
            "antimony",
            "32",
            "1",
            "sorting and gravity concentration of stibnite",
        ),
        (
            "fwo-prep-cu-0001",
            cu,
            "89.6",
            cu_c,
            "copper",
            "12",
            "8",
            "froth flotation (bench scale)",
        ),
        (
            "fwo-prep-ree-0001",
            ree,
            "44.9",
            ree_c,
            "rare-earths",
            "4.5",
            "1",
            "magnetic and gravity separation",
        ),
    ] {
        push(
            json!({"kind": "transformation", "id": id, "site": "fwo-prep-plant", "process": process,
                   "inputs": [lm(input, kg_in)],
                   "outputs": [{"id": output, "commodity": commodity, "form": "concentrate",
                                "wet_mass": {"value": kg_out, "unit": "kg"}, "moisture_percent": moisture}],
                   "time": "2025-09-22T06:00:00Z", "figures": "illustrative"}),
            &[fwo],
        )?;
    }
    push(
        assay(
            sb_c,
            "Sb",
            "62.3",
            "pk-assay-lab",
            "ICP-OES after digestion",
            "2025-09-24T10:00:00Z",
        ),
        &[fwo, lab],
    )?;
    push(
        assay(
            cu_c,
            "Cu",
            "27.4",
            "pk-assay-lab",
            "ICP-OES after digestion",
            "2025-09-24T10:00:00Z",
        ),
        &[fwo, lab],
    )?;
    push(
        assay(
            ree_c,
            "Nd2O3",
            "16.8",
            "pk-assay-lab",
            "ICP-MS after fusion",
            "2025-09-24T10:00:00Z",
        ),
        &[fwo, lab],
    )?;
    push(
        assay(
            ree_c,
            "Pr6O11",
            "4.7",
            "pk-assay-lab",
            "ICP-MS after fusion",
            "2025-09-24T10:00:00Z",
        ),
        &[fwo, lab],
    )?;

    // 3. Exported under the MoU, via Karachi (not Gwadar, whose operator
    // is controlled by a covered government under US rules).
    push(
        json!({"kind": "shipment", "id": "fwo-export-2025-0001", "lots": [sb_c, cu_c, ree_c],
               "from": "fwo-prep-plant", "to": "ussm-madison", "via": ["karachi-port"], "receiver": "ussm",
               "documents": [{"kind": "export-permit", "reference": "EXP-2025-0001 (illustrative)"},
                             {"kind": "bol", "reference": "BL-KHI-2025-0001 (illustrative)"},
                             {"kind": "inv", "reference": "INV-FWO-2025-0001 (illustrative)"}],
               "time": "2025-10-01T06:00:00Z", "figures": "illustrative"}),
        &[fwo],
    )?;
    // 4. Received in Missouri, weighed and re-assayed.
    push(
        json!({"kind": "receipt", "shipment": "fwo-export-2025-0001", "site": "ussm-madison",
               "lots": [lm(sb_c, "31.7"), lm(cu_c, "11.6"), lm(ree_c, "4.49")],
               "time": "2025-10-20T15:00:00Z", "figures": "illustrative"}),
        &[ussm],
    )?;
    push(
        assay(
            sb_c,
            "Sb",
            "61.8",
            "ussm",
            "XRF, confirmed by fire assay",
            "2025-10-24T15:00:00Z",
        ),
        &[ussm],
    )?;
    push(
        assay(cu_c, "Cu", "26.1", "ussm", "XRF", "2025-10-24T15:00:00Z"),
        &[ussm],
    )?;
    push(
        assay(
            ree_c,
            "Nd2O3",
            "16.5",
            "ussm",
            "ICP-MS after fusion",
            "2025-10-24T15:00:00Z",
        ),
        &[ussm],
    )?;
    Ok(out)
}

/// The scenario as the demo loads it: parties and sites as signed records
/// (master data, no EPCIS event states them), then the material's story as
/// EPCIS 2.0 documents captured through the EPCIS interface like any
/// client's, each signed (detached signatures) by the parties its events
/// need: consecutive events with the same signers share a document.
#[derive(Debug)]
pub struct Load {
    pub master: Vec<SignedRecord>,
    /// (key names of the signers, the EPCISDocument)
    pub documents: Vec<(Vec<String>, Value)>,
}

pub fn load(keys: &ScenarioKeys) -> anyhow::Result<Load> {
    let mut master = Vec::new();
    let mut groups: Vec<(Vec<String>, Vec<Value>)> = Vec::new();
    for signed in records(keys)? {
        match signed.record() {
            Record::Party(_) | Record::Site(_) => master.push(signed),
            record => {
                let names: Vec<String> =
                    signed.signatures().iter().map(|s| s.name.clone()).collect();
                let event = oretrace_epcis_map::event_of_record(record).ok_or_else(|| {
                    anyhow::anyhow!("a {} record has no EPCIS event", record.kind())
                })?;
                match groups.last_mut() {
                    Some((n, events)) if *n == names => events.push(event),
                    _ => groups.push((names, vec![event])),
                }
            }
        }
    }
    let documents = groups
        .into_iter()
        .map(|(names, events)| {
            let created = events
                .last()
                .and_then(|e| e["eventTime"].as_str())
                .unwrap_or("2025-09-01T00:00:00Z")
                .to_owned();
            (names, oretrace_epcis_map::document(events, &created))
        })
        .collect();
    Ok(Load { master, documents })
}

impl ScenarioKeys {
    /// The key with this name (the registry operator's or a party's).
    pub fn by_name(&self, name: &str) -> anyhow::Result<&NoteSigner> {
        std::iter::once(&self.operator)
            .chain(self.parties.iter().map(|(_, k)| k))
            .find(|k| k.name() == name)
            .ok_or_else(|| anyhow::anyhow!("no scenario key named {name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oretrace_domain::record::Figures;
    use oretrace_ledger::ledger::{Ledger, LedgerConfig};
    use oretrace_ledger::memory::MemoryStore;
    use oretrace_ledger::state::LotStatus;
    use oretrace_ledger::{StateView, Store};

    fn demo_keys() -> ScenarioKeys {
        let mut n = 0u8;
        ScenarioKeys::generate(|name| {
            n += 1;
            Ok(NoteSigner::from_seed(name, [n; 32])?)
        })
        .unwrap()
    }

    /// Every projection the demo's records make, at every step (lots
    /// held, in transit, consumed, received; shipments before and after
    /// receipt; keys), as the JSON the stores keep and the API serves:
    /// pinned byte for byte, and each reads back into the same JSON.
    /// `ORETRACE_UPDATE_GOLDEN=1` rewrites the pinned file.
    #[test]
    fn demo_projections_serialise_as_pinned() {
        use oretrace_ledger::state::{KeyState, LotState, PartyState, ShipmentState, SiteState};
        use std::collections::BTreeSet;

        macro_rules! doc_line {
            ($kind:expr, $t:ty, $state:expr) => {{
                let json = serde_json::to_string(&$state).unwrap();
                let again: $t = serde_json::from_str(&json).unwrap();
                assert_eq!(
                    serde_json::to_string(&again).unwrap(),
                    json,
                    "{} round trip",
                    $kind
                );
                format!("{} {json}", $kind)
            }};
        }

        let keys = demo_keys();
        let ledger = Ledger::start(
            MemoryStore::new(),
            NoteSigner::from_seed("oretrace.test/demo", [200; 32]).unwrap(),
            keys.operator.verifier(),
            LedgerConfig::default(),
        )
        .unwrap();
        let records = records(&keys).unwrap();
        let shipments: Vec<String> = records
            .iter()
            .filter_map(|s| match s.record() {
                Record::Shipment(s) => Some(s.id.to_string()),
                _ => None,
            })
            .collect();
        let mut seen = BTreeSet::new();
        for signed in records {
            ledger.submit_blocking(signed).unwrap();
            let store = ledger.store();
            for p in store.parties(None, usize::MAX).unwrap() {
                seen.insert(doc_line!("party", PartyState, p));
            }
            for s in store.sites(None, usize::MAX).unwrap() {
                seen.insert(doc_line!("site", SiteState, s));
            }
            for l in store.lots(None, usize::MAX).unwrap() {
                seen.insert(doc_line!("lot", LotState, l));
            }
            for id in &shipments {
                if let Some(s) = store.shipment(id).unwrap() {
                    seen.insert(doc_line!("shipment", ShipmentState, s));
                }
            }
            for (_, key) in &keys.parties {
                let verifier = key.verifier();
                if let Some(k) = store.key(verifier.name(), verifier.key_id()).unwrap() {
                    seen.insert(doc_line!("key", KeyState, k));
                }
            }
        }
        let text: String = seen.into_iter().map(|l| l + "\n").collect();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/demo-projections.jsonl");
        if std::env::var("ORETRACE_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let pinned = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (generate with ORETRACE_UPDATE_GOLDEN=1)",
                path.display()
            )
        });
        for (i, (got, want)) in text.lines().zip(pinned.lines()).enumerate() {
            assert_eq!(got, want, "line {}", i + 1);
        }
        assert_eq!(text.lines().count(), pinned.lines().count());
    }

    #[test]
    fn every_scenario_record_is_accepted_and_labelled() {
        let mut n = 0u8;
        let keys = ScenarioKeys::generate(|name| {
            n += 1;
            Ok(NoteSigner::from_seed(name, [n; 32])?)
        })
        .unwrap();
        let ledger = Ledger::start(
            MemoryStore::new(),
            NoteSigner::from_seed("oretrace.test/demo", [200; 32]).unwrap(),
            keys.operator.verifier(),
            LedgerConfig::default(),
        )
        .unwrap();
        let records = records(&keys).unwrap();
        let count = records.len() as u64;
        for (i, outcome) in ledger.submit_all_blocking(records).into_iter().enumerate() {
            assert!(outcome.is_ok(), "record {i}: {outcome:?}");
        }
        assert_eq!(ledger.store().size().unwrap(), count);
        let lot = ledger
            .store()
            .lot("urn:oretrace:lot:fwo:sb-concentrate-0001")
            .unwrap()
            .unwrap();
        assert_eq!(
            (lot.custodian().as_str(), lot.status()),
            ("ussm", &LotStatus::Held)
        );
        assert_eq!(lot.figures(), Figures::Illustrative);
        assert!(lot.received_mass().is_some());
        // Every record with a quantity is labelled illustrative.
        for lot in ledger.store().lots(None, usize::MAX).unwrap() {
            assert_eq!(lot.figures(), Figures::Illustrative, "{}", lot.id());
        }
    }
}
