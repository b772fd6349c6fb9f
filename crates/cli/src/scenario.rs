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

/// The scenario's records, in order, with the parties that sign each:
/// `crates/cli/scenario/first-shipment.json`, built into the binary.
pub const DATA: &str = include_str!("../scenario/first-shipment.json");

/// Who signs as the registry operator in [`DATA`].
const OPERATOR: &str = "operator";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Data {
    /// Read by people, not by the code.
    #[serde(rename = "about")]
    _about: Vec<String>,
    steps: Vec<Step>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// Party ids, or [`OPERATOR`].
    signers: Vec<String>,
    /// The record's JSON (`RecordJson`); a party record without its keys.
    record: Value,
}

fn data() -> anyhow::Result<Data> {
    serde_json::from_str(DATA).map_err(|e| anyhow::anyhow!("the built-in scenario data: {e}"))
}

/// The ids of the scenario's parties, in the order they are registered.
pub fn party_ids() -> anyhow::Result<Vec<String>> {
    Ok(data()?
        .steps
        .iter()
        .filter(|s| s.record["kind"] == "party")
        .filter_map(|s| s.record["id"].as_str().map(str::to_owned))
        .collect())
}

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
        for id in party_ids()? {
            let signer = key(&format!("{id}/key-1"))?;
            parties.push((id, signer));
        }
        Ok(ScenarioKeys { operator, parties })
    }

    pub fn party(&self, id: &str) -> anyhow::Result<&NoteSigner> {
        if id == OPERATOR {
            return Ok(&self.operator);
        }
        self.parties
            .iter()
            .find(|(p, _)| p == id)
            .map(|(_, k)| k)
            .ok_or_else(|| anyhow::anyhow!("no key for {id}"))
    }
}

/// The scenario as signed records, in the order they are appended: each
/// step of [`DATA`] signed by its signers' keys; a party record gets the
/// party's own key.
pub fn records(keys: &ScenarioKeys) -> anyhow::Result<Vec<SignedRecord>> {
    let mut out = Vec::new();
    for (i, step) in data()?.steps.into_iter().enumerate() {
        let mut value = step.record;
        if value["kind"] == "party" {
            let id = value["id"].as_str().unwrap_or_default().to_owned();
            value["keys"] = json!([keys.party(&id)?.verifier().to_vkey()]);
        }
        let record = RecordJson::parse(value.to_string().as_bytes())
            .map_err(|e| anyhow::anyhow!("scenario step {i}: {e}"))?;
        let signers = step
            .signers
            .iter()
            .map(|s| keys.party(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        out.push(SignedRecord::sign(record, &signers)?);
    }
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

    /// Fixed keys, one seed per key name (the pinned projections name them).
    fn demo_keys() -> ScenarioKeys {
        const SEEDS: [&str; 10] = [
            "registry/operator",
            "gov-pk/key-1",
            "fwo/key-1",
            "ussm/key-1",
            "nlc/key-1",
            "mota-engil/key-1",
            "gov-cn/key-1",
            "cophc/key-1",
            "pk-assay-lab/key-1",
            "minerals-watch/key-1",
        ];
        ScenarioKeys::generate(|name| {
            let seed = SEEDS
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| anyhow::anyhow!("no seed for {name}"))?;
            Ok(NoteSigner::from_seed(name, [seed as u8 + 1; 32])?)
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
