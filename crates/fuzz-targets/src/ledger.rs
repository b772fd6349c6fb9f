//! The structure-aware target: a story of signed records (parties, sites,
//! lots, assays, shipments, receipts, transformations, replays and forged
//! signatures) over a few fixed keys, so that signatures can be valid,
//! with arbitrary masses, grades, dates and ids, fed one by one to a
//! ledger on the memory store.
//!
//! After each record it asserts: the ledger never fails inside (no
//! `Refusal::Internal`, no panic in the sequencer); an accepted record
//! gets the next index, adds exactly one entry and its changes are visible
//! (a new lot is held at its site, a shipped lot is in transit, a received
//! lot is held by the receiver at the receiving site, a transformation's
//! inputs are consumed and its outputs held); a refused record writes
//! nothing (the store's size and every projection are unchanged); a
//! replay is refused as a replay of the original index; every lot has
//! exactly one custodian, a registered party, at a registered site. At
//! the end it rebuilds the projections from the log and compares them.

#![expect(
    clippy::expect_used,
    reason = "a fuzz target reports a broken invariant by panicking"
)]

use arbitrary::{Arbitrary, Unstructured};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::record::{LotForm, SiteKind};
use oretrace_domain::values::Token;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::rebuild::rebuild;
use oretrace_ledger::rules::Refusal;
use oretrace_ledger::state::{LotState, LotStatus, PartyState, SiteState};
use oretrace_ledger::{StateView, Store};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};

/// Most steps one input plays: longer stories add little and slow the
/// fuzzer down.
pub const MAX_STEPS: usize = 32;

/// One of the fixed parties. `Other` is never endorsed by the seeds but
/// may register itself.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Fwo,
    Ussm,
    Lab,
    Other,
}

impl Who {
    fn id(self) -> &'static str {
        match self {
            Who::Fwo => "fwo",
            Who::Ussm => "ussm",
            Who::Lab => "lab",
            Who::Other => "other",
        }
    }

    fn seed(self) -> u8 {
        match self {
            Who::Fwo => 11,
            Who::Ussm => 12,
            Who::Lab => 13,
            Who::Other => 14,
        }
    }
}

/// A decimal as text: mostly well-formed numbers of any size (up to 39
/// digits, so past what `rust_decimal` holds), sometimes anything.
#[derive(Arbitrary, Debug, Clone)]
pub enum Amount {
    Small(u16),
    Fraction(u32, u8),
    Big(u128, u8),
    Text(String),
}

impl Amount {
    fn text(&self) -> String {
        fn with_scale(digits: String, scale: u8) -> String {
            let scale = usize::from(scale % 32);
            if scale == 0 {
                return digits;
            }
            let padded = format!("{digits:0>width$}", width = scale + 1);
            let (int, frac) = padded.split_at(padded.len() - scale);
            format!("{int}.{frac}")
        }
        match self {
            Amount::Small(n) => n.to_string(),
            Amount::Fraction(n, s) => with_scale(n.to_string(), *s % 8),
            Amount::Big(n, s) => with_scale(n.to_string(), *s),
            Amount::Text(t) => t.chars().take(48).collect(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Unit {
    Kilogram,
    Tonne,
    Pound,
}

impl Unit {
    fn text(self) -> &'static str {
        match self {
            Unit::Kilogram => "kg",
            Unit::Tonne => "t",
            Unit::Pound => "lb",
        }
    }
}

fn mass(amount: &Amount, unit: Unit) -> Value {
    json!({"value": amount.text(), "unit": unit.text()})
}

/// A time from 2024-01-01 on, in order of `day` within each year, at
/// most six years later.
fn time(day: u16) -> String {
    let day = u32::from(day);
    format!(
        "{}-{:02}-{:02}T{:02}:00:00Z",
        2024 + (day / 336) % 6,
        1 + (day / 28) % 12,
        1 + day % 28,
        day % 24
    )
}

fn lot_id(n: u8) -> String {
    format!("urn:oretrace:lot:fuzz-{}", n % 8)
}

fn site_id(n: u8) -> String {
    format!("site-{}", n % 4)
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Step {
    Party {
        who: Who,
        endorsed: bool,
        owner: Option<(Who, Amount)>,
        day: u16,
    },
    Site {
        who: Who,
        operator: Who,
        site: u8,
        kind: u8,
    },
    Lot {
        who: Who,
        lot: u8,
        site: u8,
        form: u8,
        mass: Amount,
        unit: Unit,
        moisture: Amount,
        day: u16,
    },
    Assay {
        who: Who,
        lab: Who,
        lab_signs: bool,
        lot: u8,
        analyte: u8,
        value: Amount,
        grade_unit: u8,
        dry: bool,
        day: u16,
    },
    Shipment {
        who: Who,
        id: u8,
        lots: Vec<u8>,
        from: u8,
        to: u8,
        via: Vec<u8>,
        receiver: Who,
        day: u16,
    },
    Receipt {
        who: Who,
        shipment: u8,
        site: u8,
        lots: Vec<(u8, Amount, Unit)>,
        day: u16,
    },
    Transformation {
        who: Who,
        id: u8,
        site: u8,
        inputs: Vec<(u8, Amount, Unit)>,
        outputs: Vec<(u8, u8, Amount, Unit, Amount)>,
        day: u16,
    },
    /// Submits an earlier record again.
    Replay(u8),
    /// Signs a step's record, then changes one byte of its last signature.
    Forge(Box<Step>, u8),
}

/// A story: the steps, played in order after an optional standard cast
/// (the four parties endorsed and four sites).
#[derive(Arbitrary, Debug, Clone)]
pub struct Story {
    pub cast: bool,
    pub steps: Vec<Step>,
}

struct Keys {
    operator: NoteSigner,
    log: NoteSigner,
    parties: [NoteSigner; 4],
}

fn key_of(keys: &Keys, who: Who) -> &NoteSigner {
    &keys.parties[match who {
        Who::Fwo => 0,
        Who::Ussm => 1,
        Who::Lab => 2,
        Who::Other => 3,
    }]
}

fn keys() -> Keys {
    let k = |who: Who| {
        NoteSigner::from_seed(&format!("{}/k1", who.id()), [who.seed(); 32]).expect("valid")
    };
    Keys {
        operator: NoteSigner::from_seed("registry/operator", [1; 32]).expect("valid"),
        log: NoteSigner::from_seed("fuzz.example/ledger", [2; 32]).expect("valid"),
        parties: [k(Who::Fwo), k(Who::Ussm), k(Who::Lab), k(Who::Other)],
    }
}

/// What a step asks to be written: the record's JSON and who signs it.
fn record_of(keys: &Keys, step: &Step) -> Option<(Value, Vec<Who>, bool)> {
    const ANALYTES: &[&str] = &["Sb", "Sb2O3", "Nd", "Nd2O3", "Li2O", "Co", "Cu"];
    const GRADE_UNITS: &[&str] = &["%", "ppm", "g/t"];
    let v = match step {
        Step::Party {
            who,
            endorsed,
            owner,
            day,
        } => {
            let mut p = json!({"kind": "party", "id": who.id(), "name": format!("Party {}", who.id()),
                "party_kind": "company", "country": "PK",
                "keys": [key_of(keys, *who).verifier().to_vkey()],
                "time": time(*day), "figures": "illustrative"});
            if let Some((o, share)) = owner {
                p["owners"] =
                    json!([{"owner": o.id(), "share_percent": share.text(), "controls": true}]);
            }
            return Some((p, vec![*who], *endorsed));
        }
        Step::Site {
            who,
            operator,
            site,
            kind,
        } => {
            let kind = SiteKind::ALL[usize::from(*kind) % SiteKind::ALL.len()];
            return Some((
                json!({"kind": "site", "id": site_id(*site), "name": "A site", "site_kind": kind.as_str(),
                    "operator": operator.id(), "country": "PK",
                    "location": {"lat": "24.835", "lon": "66.982"}, "approximate": true,
                    "time": "2024-01-01T00:00:00Z", "figures": "illustrative"}),
                vec![*who],
                false,
            ));
        }
        Step::Lot {
            who,
            lot,
            site,
            form,
            mass: m,
            unit,
            moisture,
            day,
        } => {
            let form = LotForm::ALL[usize::from(*form) % LotForm::ALL.len()];
            return Some((
                json!({"kind": "lot", "id": lot_id(*lot), "commodity": "antimony", "form": form.as_str(),
                    "site": site_id(*site), "wet_mass": mass(m, *unit),
                    "moisture_percent": moisture.text(), "time": time(*day), "figures": "illustrative"}),
                vec![*who],
                false,
            ));
        }
        Step::Assay {
            who,
            lab,
            lab_signs,
            lot,
            analyte,
            value,
            grade_unit,
            dry,
            day,
        } => {
            let mut signers = vec![*who];
            if *lab_signs && lab != who {
                signers.push(*lab);
            }
            (
                json!({"kind": "assay", "lot": lot_id(*lot),
                "analyte": ANALYTES[usize::from(*analyte) % ANALYTES.len()],
                "value": value.text(), "unit": GRADE_UNITS[usize::from(*grade_unit) % 3],
                "basis": if *dry { "dry" } else { "wet" }, "method": "XRF", "laboratory": lab.id(),
                "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "time": time(*day), "figures": "illustrative"}),
                signers,
            )
        }
        Step::Shipment {
            who,
            id,
            lots,
            from,
            to,
            via,
            receiver,
            day,
        } => (
            json!({"kind": "shipment", "id": format!("s-{}", id % 4),
                "lots": lots.iter().take(6).map(|l| lot_id(*l)).collect::<Vec<_>>(),
                "from": site_id(*from), "to": site_id(*to),
                "via": via.iter().take(3).map(|s| site_id(*s)).collect::<Vec<_>>(),
                "receiver": receiver.id(), "documents": [{"kind": "bol", "reference": "BL-1"}],
                "time": time(*day), "figures": "illustrative"}),
            vec![*who],
        ),
        Step::Receipt {
            who,
            shipment,
            site,
            lots,
            day,
        } => (
            json!({"kind": "receipt", "shipment": format!("s-{}", shipment % 4), "site": site_id(*site),
                "lots": lots.iter().take(6).map(|(l, a, u)| json!({"lot": lot_id(*l), "mass": mass(a, *u)})).collect::<Vec<_>>(),
                "time": time(*day), "figures": "illustrative"}),
            vec![*who],
        ),
        Step::Transformation {
            who,
            id,
            site,
            inputs,
            outputs,
            day,
        } => (
            json!({"kind": "transformation", "id": format!("t-{}", id % 4), "site": site_id(*site),
                "process": "flotation",
                "inputs": inputs.iter().take(6).map(|(l, a, u)| json!({"lot": lot_id(*l), "mass": mass(a, *u)})).collect::<Vec<_>>(),
                "outputs": outputs.iter().take(6).map(|(l, f, a, u, m)| json!({
                    "id": lot_id(*l), "commodity": "antimony",
                    "form": LotForm::ALL[usize::from(*f) % LotForm::ALL.len()].as_str(),
                    "wet_mass": mass(a, *u), "moisture_percent": m.text()})).collect::<Vec<_>>(),
                "time": time(*day), "figures": "illustrative"}),
            vec![*who],
        ),
        Step::Replay(_) | Step::Forge(..) => return None,
    };
    Some((v.0, v.1, false))
}

/// Everything the projections hold that a record can change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    size: u64,
    parties: Vec<PartyState>,
    sites: Vec<SiteState>,
    lots: Vec<LotState>,
    shipments: Vec<Option<oretrace_ledger::state::ShipmentState>>,
}

fn snapshot(store: &MemoryStore) -> Snapshot {
    let mut parties = store.parties(None, usize::MAX).expect("memory reads");
    parties.sort_by(|a, b| a.id().cmp(b.id()));
    let mut sites = store.sites(None, usize::MAX).expect("memory reads");
    sites.sort_by(|a, b| a.id().cmp(b.id()));
    let mut lots = store.lots(None, usize::MAX).expect("memory reads");
    lots.sort_by(|a, b| a.id().cmp(b.id()));
    let shipments = (0..4)
        .map(|n| store.shipment(&format!("s-{n}")).expect("memory reads"))
        .collect();
    Snapshot {
        size: store.size().expect("memory reads"),
        parties,
        sites,
        lots,
        shipments,
    }
}

fn check_lots(store: &MemoryStore) {
    let lots = store.lots(None, usize::MAX).expect("memory reads");
    for (i, lot) in lots.iter().enumerate() {
        let id = lot.id();
        assert!(
            !lots[..i].iter().any(|l| l.id() == id),
            "lot {id} is listed twice"
        );
        assert!(
            store
                .party(lot.custodian().as_str())
                .expect("reads")
                .is_some(),
            "lot {id} is held by {}, who is not registered",
            lot.custodian()
        );
        assert!(
            store.site(lot.site().as_str()).expect("reads").is_some(),
            "lot {id} is at site {}, which is not registered",
            lot.site()
        );
        if let LotStatus::InTransit { shipment } = lot.status() {
            let s = store
                .shipment(shipment.as_str())
                .expect("reads")
                .unwrap_or_else(|| panic!("lot {id} is in an unknown shipment {shipment}"));
            assert!(s.lots().contains(id), "{shipment} does not list {id}");
            assert_eq!(
                s.received(),
                None,
                "lot {id} in transit in a received shipment"
            );
        }
    }
}

/// What an accepted record must have changed.
fn check_accepted(store: &MemoryStore, record: &Value) {
    let lot = |id: &Value| {
        store
            .lot(id.as_str().expect("ids are strings"))
            .expect("reads")
            .unwrap_or_else(|| panic!("accepted record's lot {id} is not in the projection"))
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let token = |v: &Value| Token::parse(v.as_str().unwrap_or_default()).expect("an accepted id");
    match record["kind"].as_str() {
        Some("lot") => {
            let l = lot(&record["id"]);
            assert_eq!(*l.status(), LotStatus::Held);
            assert_eq!(l.site().as_str(), text(&record["site"]));
        }
        Some("shipment") => {
            for id in record["lots"].as_array().into_iter().flatten() {
                assert_eq!(
                    *lot(id).status(),
                    LotStatus::InTransit {
                        shipment: token(&record["id"])
                    }
                );
            }
        }
        Some("receipt") => {
            let shipment = store
                .shipment(record["shipment"].as_str().unwrap_or_default())
                .expect("reads")
                .expect("a received shipment exists");
            assert!(
                shipment.received().is_some(),
                "a received shipment is not marked"
            );
            for item in record["lots"].as_array().into_iter().flatten() {
                let l = lot(&item["lot"]);
                assert_eq!(*l.status(), LotStatus::Held);
                assert_eq!(l.custodian(), shipment.receiver());
                assert_eq!(l.site().as_str(), text(&record["site"]));
            }
        }
        Some("transformation") => {
            let t = token(&record["id"]);
            for item in record["inputs"].as_array().into_iter().flatten() {
                assert_eq!(
                    *lot(&item["lot"]).status(),
                    LotStatus::Consumed {
                        transformation: t.clone()
                    }
                );
            }
            for item in record["outputs"].as_array().into_iter().flatten() {
                let l = lot(&item["id"]);
                assert_eq!(*l.status(), LotStatus::Held);
                assert_eq!(l.site().as_str(), text(&record["site"]));
            }
        }
        _ => {}
    }
}

/// The standard cast: four parties endorsed by the operator and four
/// sites, two run by `fwo`, one by `ussm`, one by `lab`.
fn cast() -> Vec<Step> {
    let mut steps: Vec<Step> = [Who::Fwo, Who::Ussm, Who::Lab, Who::Other]
        .into_iter()
        .map(|who| Step::Party {
            who,
            endorsed: true,
            owner: None,
            day: 0,
        })
        .collect();
    for (site, who, kind) in [
        (0, Who::Fwo, 0),
        (1, Who::Fwo, 5),
        (2, Who::Ussm, 7),
        (3, Who::Lab, 2),
    ] {
        steps.push(Step::Site {
            who,
            operator: who,
            site,
            kind,
        });
    }
    steps
}

/// The signed record a step describes, and its JSON; `None` when the
/// record breaks a rule of its own (the domain refuses it before signing).
fn sign_step(keys: &Keys, step: &Step) -> Option<(SignedRecord, Value)> {
    let (json, signers, endorsed) = record_of(keys, step)?;
    let record = RecordJson::parse(json.to_string().as_bytes()).ok()?;
    let mut signing: Vec<&NoteSigner> = signers.iter().map(|w| key_of(keys, *w)).collect();
    if endorsed {
        signing.push(&keys.operator);
    }
    let signed = SignedRecord::sign(record, &signing).ok()?;
    Some((signed, json))
}

/// Plays the story an input describes (see the module's documentation).
pub fn story(data: &[u8]) {
    let Ok(story) = Story::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    play(&story);
}

/// How many of a story's records the ledger accepted and refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Played {
    pub accepted: usize,
    pub refused: usize,
    /// Steps whose record the domain refused before it was signed.
    pub invalid: usize,
}

/// Plays a story (public so tests can write stories by hand).
pub fn play(story: &Story) -> Played {
    let mut played = Played::default();
    let trace = std::env::var_os("ORETRACE_FUZZ_TRACE").is_some();
    let keys = keys();
    let ledger = Ledger::start(
        MemoryStore::new(),
        NoteSigner::from_seed("fuzz.example/ledger", [2; 32]).expect("valid"),
        keys.operator.verifier(),
        // One record at a time: a small queue (the default's 20,000 slots
        // are allocated at every start, which slowed the fuzzer).
        LedgerConfig {
            max_batch: 8,
            queue: 8,
            ..LedgerConfig::default()
        },
    )
    .expect("a ledger starts on an empty memory store");
    let mut steps = if story.cast { cast() } else { Vec::new() };
    steps.extend(story.steps.iter().take(MAX_STEPS).cloned());
    // Every record submitted so far, with the index it was accepted at.
    let mut submitted: Vec<(SignedRecord, Option<u64>)> = Vec::new();
    for step in &steps {
        let (signed, json) = match step {
            Step::Replay(_) if submitted.is_empty() => continue,
            Step::Replay(n) => (submitted[usize::from(*n) % submitted.len()].0.clone(), None),
            Step::Forge(step, at) => {
                let Some((original, _)) = sign_step(&keys, step) else {
                    played.invalid += 1;
                    continue;
                };
                let mut entry = original.entry_bytes();
                // Change one character of the last signature's base64, in
                // its full groups of four (the last group, before the
                // final newline, holds padding: changing it may make the
                // base64 invalid rather than the signature wrong).
                let at = entry.len() - 6 - usize::from(*at) % 16;
                entry[at] = if entry[at] == b'A' { b'B' } else { b'A' };
                match SignedRecord::from_entry(&entry) {
                    Ok(forged) => (forged, None),
                    Err(_) => continue,
                }
            }
            _ => match sign_step(&keys, step) {
                Some((signed, json)) => (signed, Some(json)),
                None => {
                    played.invalid += 1;
                    continue;
                }
            },
        };
        let before = snapshot(ledger.store());
        let original = submitted
            .iter()
            .find(|(s, i)| i.is_some() && s.record_hash() == signed.record_hash())
            .and_then(|(_, i)| *i);
        let outcome = ledger.submit_blocking(signed.clone());
        if trace {
            eprintln!("{step:?}\n  -> {outcome:?}");
        }
        match &outcome {
            Ok(index) => {
                played.accepted += 1;
                assert_eq!(*index, before.size, "an accepted record skipped an index");
                assert_eq!(ledger.store().size().expect("reads"), before.size + 1);
                assert_eq!(original, None, "a replay was accepted");
                if let Some(json) = &json {
                    check_accepted(ledger.store(), json);
                }
            }
            Err(Refusal::Internal(e)) => panic!("the ledger failed inside: {e}"),
            Err(Refusal::Overloaded) => panic!("one record at a time overloaded the ledger"),
            Err(refusal) => {
                played.refused += 1;
                assert_eq!(
                    snapshot(ledger.store()),
                    before,
                    "a refused record ({refusal}) changed the store"
                );
                if let Some(index) = original {
                    assert_eq!(refusal, &Refusal::Replay { index });
                }
            }
        }
        submitted.push((signed, outcome.ok()));
        check_lots(ledger.store());
    }
    let before = snapshot(ledger.store());
    let report = rebuild(
        ledger.store(),
        &keys.log.verifier(),
        &keys.operator.verifier(),
    )
    .unwrap_or_else(|e| panic!("the log does not rebuild: {e}"));
    assert_eq!(report.entries, before.size);
    assert_eq!(
        snapshot(ledger.store()),
        before,
        "rebuilding from the log gives other projections"
    );
    played
}
