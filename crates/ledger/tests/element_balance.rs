//! Per-element mass balance, judged when an output's assay arrives: a
//! hand-computed transformation accepted at the very edge of the default
//! tolerance and refused just beyond it; a configured tolerance; and a
//! rebuild that replays the same decisions.
//!
//! The case, by hand: ore R, 980 kg wet at 0 % moisture, Cu 10 % = 98 kg
//! of copper in; concentrate C, 200 kg dry, out. With the default
//! tolerance (2 % of each grade, the assays stating no uncertainty) an
//! assay of Cu g % in C allows 980 × 10 % × 2 % + 200 × g % × 2 % kg.
//! At g = 51 %: out 102 kg, allowance 1.96 + 2.04 = 4 kg = out − in: holds,
//! exactly at the edge. At g = 51.01 %: out 102.02 kg, allowance
//! 1.96 + 2.0404 = 4.0004 kg, 0.0196 kg beyond: refused.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::str::FromStr;

use oretrace_domain::values::Percent;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_ledger::rebuild::{rebuild, rebuild_with};
use oretrace_ledger::rules::Refusal;
use oretrace_ledger::{Batch, EntryRow, LedgerError, StateView, Store};
use oretrace_tlog::hash::leaf_hash;
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use oretrace_tlog::tree::CompactRange;
use rust_decimal::Decimal;
use serde_json::{Value, json};

mod provenance_world;
use provenance_world::{assay, key, lot, signed, site};

const R: &str = "urn:oretrace:lot:fwo:r";
const C: &str = "urn:oretrace:lot:fwo:c";

struct Case {
    ledger: Ledger<MemoryStore>,
    fwo: NoteSigner,
    lab: NoteSigner,
    operator: NoteSigner,
    log: NoteVerifier,
}

fn config(percent: &str) -> LedgerConfig {
    LedgerConfig {
        element_balance_tolerance_percent: Percent::new(Decimal::from_str(percent).unwrap())
            .unwrap(),
        ..LedgerConfig::default()
    }
}

/// R assayed and made into C; C not yet assayed.
fn case(config: LedgerConfig) -> Case {
    case_with(config, None)
}

/// [`case`], R's latest assay stating `± r_uncertainty` points.
fn case_with(config: LedgerConfig, r_uncertainty: Option<&str>) -> Case {
    let operator = key("registry/operator", 1);
    let log = key("oretrace.test/ledger", 2).verifier();
    let ledger = Ledger::start(
        MemoryStore::new(),
        key("oretrace.test/ledger", 2),
        operator.verifier(),
        config,
    )
    .unwrap();
    let (fwo, lab) = (key("fwo/k1", 3), key("lab/k1", 5));
    let submit = |v: Value, signers: &[&NoteSigner]| {
        ledger.submit_blocking(signed(&v, signers)).unwrap();
    };
    for (id, k) in [("fwo", &fwo), ("lab", &lab)] {
        submit(
            json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company",
                   "country": "PK", "keys": [k.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z",
                   "figures": "illustrative"}),
            &[k, &operator],
        );
    }
    submit(site("conc", "concentrator", "fwo", "PK"), &[&fwo]);
    submit(lot(R, "conc", "980", "0", "2025-09-02T00:00:00Z"), &[&fwo]);
    // The latest assay is R's grade: the first, 50 %, would leave room
    // for 490 kg of copper out.
    submit(assay(R, "Cu", "50", "2025-09-02T12:00:00Z"), &[&fwo, &lab]);
    let mut latest = assay(R, "Cu", "10", "2025-09-03T00:00:00Z");
    if let Some(u) = r_uncertainty {
        latest["uncertainty"] = json!(u);
    }
    submit(latest, &[&fwo, &lab]);
    submit(
        json!({"kind": "transformation", "id": "flot-1", "site": "conc", "process": "flotation",
               "inputs": [{"lot": R, "mass": {"value": "980", "unit": "kg"}}],
               "outputs": [{"id": C, "commodity": "copper", "form": "concentrate",
                            "wet_mass": {"value": "200", "unit": "kg"}, "moisture_percent": "0"}],
               "time": "2025-09-15T00:00:00Z", "figures": "illustrative"}),
        &[&fwo],
    );
    Case {
        ledger,
        fwo,
        lab,
        operator,
        log,
    }
}

fn assay_c(c: &Case, cu: &str) -> Result<u64, Refusal> {
    c.ledger.submit_blocking(signed(
        &assay(C, "Cu", cu, "2025-09-16T00:00:00Z"),
        &[&c.fwo, &c.lab],
    ))
}

/// The transformation's log index: parties 0–1, site 2, lot 3, assays 4–5.
const FLOT: u64 = 6;

#[test]
fn an_output_assay_at_the_edge_of_the_tolerance_holds_and_just_beyond_is_refused() {
    let c = case(LedgerConfig::default());
    let size = c.ledger.store().size().unwrap();
    let refused = assay_c(&c, "51.01").unwrap_err();
    let Refusal::Unprocessable { field, rule } = &refused else {
        panic!("{refused:?}");
    };
    assert_eq!(field, "value");
    let made_at = format!("transformation flot-1 (log index {FLOT})");
    for part in [
        "mass balance of Cu",
        made_at.as_str(),
        "contain 102.02 kg of Cu",
        "the 98 kg its inputs contained",
        "4.0004 kg tolerance (2 % of each grade",
        "0.0196 kg beyond",
    ] {
        assert!(rule.contains(part), "{part:?} not in {rule}");
    }
    // Nothing written: no entry, no grade.
    assert_eq!(c.ledger.store().size().unwrap(), size);
    assert!(
        c.ledger
            .store()
            .lot(C)
            .unwrap()
            .unwrap()
            .element_percent()
            .is_empty()
    );
    // At the edge: out − in = 4 kg = the allowance.
    assert_eq!(assay_c(&c, "51").unwrap(), size);
    // A lower grade is always fine; the consumed ore can no longer be
    // assayed (only a held lot is).
    assay_c(&c, "40").unwrap();
    c.ledger
        .submit_blocking(signed(
            &assay(R, "Cu", "10", "2025-09-04T00:00:00Z"),
            &[&c.fwo, &c.lab],
        ))
        .unwrap_err(); // consumed: not held, refused for that reason
}

#[test]
fn the_operator_sets_the_tolerance_and_an_unassayed_input_is_not_refused() {
    // No tolerance: 51 % is 4 kg of copper out of nowhere.
    let c = case(config("0"));
    let refused = assay_c(&c, "51").unwrap_err();
    assert!(
        matches!(&refused, Refusal::Unprocessable { rule, .. }
            if rule.contains("contain 102 kg of Cu, more than the 98 kg") && rule.contains("0 kg tolerance")),
        "{refused:?}"
    );
    assay_c(&c, "49").unwrap();
    // An element no input was assayed for cannot be proven made: Co.
    c.ledger
        .submit_blocking(signed(
            &assay(C, "Co", "5", "2025-09-16T00:00:00Z"),
            &[&c.fwo, &c.lab],
        ))
        .unwrap();
}

/// With stated uncertainties the operator's tolerance is not used: R at
/// Cu 10 % ± 0.5 and C at Cu g % ± 1 allow 980 × 0.5 % + 200 × 1 % =
/// 6.9 kg. At g = 52 %, 104 kg out of 98 in (6 kg more) holds; at 52.5 %,
/// 105 kg (7 kg more) is refused. Without C's own uncertainty (and an
/// operator tolerance of 0), 52 % allows only R's 4.9 kg: refused.
#[test]
fn stated_assay_uncertainties_bound_the_balance() {
    let c = case_with(config("0"), Some("0.5"));
    let assay_c_pm = |cu: &str, pm: Option<&str>| {
        let mut a = assay(C, "Cu", cu, "2025-09-16T00:00:00Z");
        if let Some(u) = pm {
            a["uncertainty"] = json!(u);
        }
        c.ledger.submit_blocking(signed(&a, &[&c.fwo, &c.lab]))
    };
    let refused = assay_c_pm("52", None).unwrap_err();
    assert!(
        matches!(&refused, Refusal::Unprocessable { rule, .. } if rule.contains("104 kg") && rule.contains("4.9 kg")),
        "{refused:?}"
    );
    let refused = assay_c_pm("52.5", Some("1")).unwrap_err();
    assert!(
        matches!(&refused, Refusal::Unprocessable { rule, .. } if rule.contains("105 kg") && rule.contains("6.9 kg")),
        "{refused:?}"
    );
    assay_c_pm("52", Some("1")).unwrap();
    // The stated uncertainty is part of the record, and of its JSON.
    let lot = c.ledger.store().lot(C).unwrap().unwrap();
    assert_eq!(lot.element_percent().len(), 1);
    // A negative uncertainty does not parse, naming the field.
    let mut negative = assay(C, "Cu", "40", "2025-09-17T00:00:00Z");
    negative["uncertainty"] = json!("-1");
    let refused =
        oretrace_domain::wire::RecordJson::parse(negative.to_string().as_bytes()).unwrap_err();
    assert!(refused.to_string().contains("uncertainty"), "{refused}");
}

/// A store holding only `from`'s log.
fn log_only(from: &MemoryStore) -> MemoryStore {
    let size = from.size().unwrap();
    let mut batch = Batch::default();
    let mut range = CompactRange::new();
    for (index, entry) in (0u64..).zip(from.read_entries(0, size).unwrap()) {
        let record = oretrace_domain::envelope::SignedRecord::from_entry(&entry).unwrap();
        range.append(leaf_hash(&entry), |id, hash| batch.hashes.push((id, *hash)));
        batch.entries.push(EntryRow {
            index,
            record_hash: record.record_hash(),
            kind: record.record().kind().to_owned(),
            entry,
        });
    }
    let fresh = MemoryStore::new();
    fresh.integrate(&batch).unwrap();
    assert!(
        fresh
            .swap_checkpoint(None, &from.checkpoint().unwrap().unwrap())
            .unwrap()
    );
    fresh
}

#[test]
fn a_rebuild_replays_the_same_decisions_under_the_same_tolerance() {
    let c = case(LedgerConfig::default());
    assay_c(&c, "51").unwrap();
    let fresh = log_only(c.ledger.store());
    let log = c.log.clone();
    let operator = c.operator.verifier();
    rebuild(&fresh, &log, &operator).unwrap();
    assert_eq!(
        fresh.lot(C).unwrap().unwrap().element_percent(),
        c.ledger.store().lot(C).unwrap().unwrap().element_percent()
    );
    // Under a tighter tolerance than the log was written with, the edge
    // assay is refused on replay: the tolerance is part of the rules.
    let fresh = log_only(c.ledger.store());
    let err = rebuild_with(&fresh, &log, &operator, &config("1")).unwrap_err();
    assert!(
        matches!(&err, LedgerError::ReplayRefused { index: 7, .. }),
        "{err:?}"
    );
}
