//! Provenance read from the store: the worked example of
//! `docs/design/provenance.md` (two ores concentrated in Pakistan, the
//! concentrate shipped through Karachi and blended in the United States
//! with a Madison concentrate), recorded through the ledger and traced
//! back; and the bounds, refused rather than truncated.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::str::FromStr;

use oretrace_ledger::provenance::{
    Limits, ProvenanceAnswer, ProvenanceError, ProvenanceLimits, provenance,
};
use rust_decimal::Decimal;
use serde_json::json;

mod provenance_world;
use provenance_world::*;

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// `text` is `num / den` to 20 decimal places.
fn is_fraction(text: &str, num: i64, den: i64) -> bool {
    let exact = Decimal::from(num) / Decimal::from(den);
    (dec(text) - exact).abs() < dec("0.00000000000000000001")
}

fn element<'a>(
    answer: &'a ProvenanceAnswer,
    symbol: &str,
) -> &'a oretrace_ledger::provenance::ElementJson {
    answer
        .elements
        .iter()
        .find(|e| e.element == symbol)
        .unwrap()
}

fn site_share(e: &oretrace_ledger::provenance::ElementJson, site: &str) -> String {
    e.by_site
        .iter()
        .find(|s| s.site.as_deref() == Some(site))
        .map(|s| s.share.clone())
        .unwrap()
}

fn country_share(e: &oretrace_ledger::provenance::ElementJson, country: &str) -> String {
    e.by_country
        .iter()
        .find(|s| s.country == country)
        .map(|s| s.share.clone())
        .unwrap()
}

#[test]
fn worked_example_blend_traced_from_the_store() {
    let w = worked_example();
    let answer = provenance(w.ledger.store(), B, ProvenanceLimits::DEFAULT)
        .unwrap()
        .unwrap();
    assert_eq!(answer.upstream_lots, 5);
    assert_eq!(answer.figures, "illustrative");

    // Copper: by contained copper, not by mass (hand-computed in the note).
    let cu = element(&answer, "Cu");
    assert!(is_fraction(&site_share(cu, "saindak"), 92, 149));
    assert!(is_fraction(&site_share(cu, "reko-diq"), 69, 298));
    assert!(is_fraction(&site_share(cu, "madison"), 45, 298));
    assert!(is_fraction(&country_share(cu, "PK"), 253, 298));
    assert!(is_fraction(&country_share(cu, "US"), 45, 298));
    assert_eq!(cu.unknown, "0");
    // B: 13,650 kg dry at 17.45 % Cu.
    assert_eq!(cu.contained_kg.as_deref(), Some("2381.925"));
    let sum: Decimal = cu.by_site.iter().map(|s| dec(&s.share)).sum();
    assert!((sum - Decimal::ONE).abs() < dec("0.00000000000000000001"));

    // Cobalt: B is not assayed for it, so no contained mass; the shares
    // still follow the inputs' cobalt.
    let co = element(&answer, "Co");
    assert!(is_fraction(&site_share(co, "saindak"), 23, 496));
    assert!(is_fraction(&site_share(co, "reko-diq"), 23, 496));
    assert!(is_fraction(&site_share(co, "madison"), 225, 248));
    assert!(is_fraction(&country_share(co, "PK"), 23, 248));
    assert_eq!(co.contained_kg, None);

    // Origins with their sites; steps with their log indices and signers.
    let origins: Vec<(&str, &str)> = answer
        .origins
        .iter()
        .map(|o| (o.lot.as_str(), o.site.as_str()))
        .collect();
    assert_eq!(origins, [(O1, "saindak"), (O2, "reko-diq"), (M, "madison")]);
    let steps: Vec<&str> = answer
        .steps
        .iter()
        .map(|s| s.transformation.as_str())
        .collect();
    assert_eq!(steps, ["conc-1", "blend-1"]);
    assert_eq!(answer.steps[1].signed_by, ["ussm"]);
    assert_eq!(answer.steps[1].process, "blending");
    for s in &answer.steps {
        let e = answer.evidence.iter().find(|e| e.index == s.index).unwrap();
        assert_eq!(e.kind, "transformation");
    }
    // Each step's balance per element, as the note works it out: conc-1
    // Cu 2,090 → 2,024 kg (96.84 %), Co 19 → 9.2 kg (48.42 %), mass
    // yield 9,200 / 142,500; blend-1 Cu 2,384 → 2,381.925 kg, Co not
    // assayed in B (no recovery).
    let balance = |step: usize, symbol: &str| {
        let b = answer.steps[step]
            .balance
            .iter()
            .find(|e| e.element == symbol)
            .unwrap();
        (b.in_kg.as_str(), b.out_kg.as_str(), b.recovery.clone())
    };
    let (cu_in, cu_out, cu_recovery) = balance(0, "Cu");
    assert_eq!((cu_in, cu_out), ("2090", "2024"));
    assert!(is_fraction(&cu_recovery.unwrap(), 2024, 2090));
    let (co_in, co_out, co_recovery) = balance(0, "Co");
    assert_eq!((co_in, co_out), ("19", "9.2"));
    assert!(is_fraction(&co_recovery.unwrap(), 92, 190));
    assert!(is_fraction(
        answer.steps[0].mass_yield.as_deref().unwrap(),
        9200,
        142_500
    ));
    let (cu_in, cu_out, _) = balance(1, "Cu");
    assert_eq!((cu_in, cu_out), ("2384", "2381.925"));
    let co = answer.steps[1]
        .balance
        .iter()
        .find(|e| e.element == "Co")
        .unwrap();
    assert_eq!((co.in_kg.as_str(), co.recovery.as_deref()), ("99.2", None));
    assert_eq!(co.unassayed_outputs, [B]);
    // Custody: A held by fwo until shipped, then by ussm until blended.
    let a: Vec<(&str, &str, &str)> = answer
        .custody
        .iter()
        .filter(|c| c.lot == A)
        .map(|c| (c.custodian.as_str(), c.ended_by, c.from.as_str()))
        .collect();
    assert_eq!(
        a,
        [
            ("fwo", "shipped", "2025-09-15T00:00:00Z"),
            ("ussm", "consumed", "2025-10-20T00:00:00Z")
        ]
    );
    // Every site passed, the port included, each the operator's claim.
    let port = answer
        .sites
        .iter()
        .find(|s| s.site == "karachi-port")
        .unwrap();
    assert_eq!(port.roles, ["transit"]);
    assert!(
        port.claim.contains("claim of its operator fwo"),
        "{}",
        port.claim
    );
    assert_eq!(answer.sites.len(), 6);
    // Assays are signed by the custodian and the laboratory.
    let assays: Vec<&Vec<String>> = answer
        .evidence
        .iter()
        .filter(|e| e.kind == "assay")
        .map(|e| &e.signed_by)
        .collect();
    assert_eq!(assays.len(), 9);
    assert!(assays.iter().all(|s| s.contains(&"lab".to_owned())));

    // An origin is its own origin.
    let o1 = provenance(w.ledger.store(), O1, ProvenanceLimits::DEFAULT)
        .unwrap()
        .unwrap();
    assert_eq!(site_share(element(&o1, "Cu"), "saindak"), "1");
    // An unknown lot is none.
    assert!(
        provenance(
            w.ledger.store(),
            "urn:oretrace:lot:fwo:nope",
            ProvenanceLimits::DEFAULT
        )
        .unwrap()
        .is_none()
    );
    let _ = &w.fwo;
}

#[test]
fn bounds_are_refused_not_truncated() {
    let w = worked_example();
    let small = |lots: usize, movements: usize, records: usize| ProvenanceLimits {
        graph: Limits {
            max_upstream_lots: lots,
            max_movements: movements,
        },
        max_records: records,
    };
    let store = w.ledger.store();
    for (limits, bound, needle) in [
        (small(4, 100, 100), 4, "more than 4 lots"),
        (small(100, 3, 100), 3, "shipped more than 3 times"),
        (small(100, 100, 10), 10, "more than 10 log entries"),
    ] {
        match provenance(store, B, limits) {
            Err(ProvenanceError::TooLarge { detail, limit }) => {
                assert_eq!(limit, bound);
                assert!(detail.contains(needle), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }
    // At the bound exactly, the answer is given.
    assert!(provenance(store, B, small(5, 4, 100)).unwrap().is_some());
}

/// A long chain: each lot split from the one before. The walk stops at
/// the bound, at once.
#[test]
fn a_long_chain_hits_the_bound() {
    let w = worked_example();
    let start = "urn:oretrace:lot:fwo:start";
    w.ledger
        .submit_blocking(signed(
            &lot(start, "saindak", "100000", "5", "2025-09-02T00:00:00Z"),
            &[&w.fwo],
        ))
        .unwrap();
    let mut previous = start.to_owned();
    let mut kg = 100_000u64;
    for i in 0..40 {
        let next = format!("urn:oretrace:lot:fwo:chain-{i}");
        kg -= 1;
        w.ledger
            .submit_blocking(signed(
                &json!({"kind": "transformation", "id": format!("split-{i}"), "site": "saindak",
                    "process": "splitting",
                    "inputs": [{"lot": previous, "mass": {"value": (kg + 1).to_string(), "unit": "kg"}}],
                    "outputs": [{"id": next, "commodity": "copper", "form": "ore",
                                 "wet_mass": {"value": kg.to_string(), "unit": "kg"}, "moisture_percent": "5"}],
                    "time": "2025-09-04T00:00:00Z", "figures": "illustrative"}),
                &[&w.fwo],
            ))
            .unwrap_or_else(|e| panic!("{i}: {e:?}"));
        previous = next;
    }
    let limits = ProvenanceLimits {
        graph: Limits {
            max_upstream_lots: 30,
            max_movements: 100,
        },
        max_records: 1000,
    };
    match provenance(w.ledger.store(), &previous, limits) {
        Err(ProvenanceError::TooLarge { limit: 30, .. }) => {}
        other => panic!("{other:?}"),
    }
    let whole = provenance(w.ledger.store(), &previous, ProvenanceLimits::DEFAULT)
        .unwrap()
        .unwrap();
    assert_eq!(whole.upstream_lots, 41);
    assert_eq!(whole.origins.len(), 1);
    assert_eq!(whole.steps.len(), 40);
}

/// A mine's location and kind are its operator's claim unless another
/// party signed the site record too: a cadastre co-signs a new version of
/// Saindak's record, and the answer says who confirmed it.
#[test]
fn a_site_record_co_signed_by_a_cadastre_is_shown_confirmed() {
    let w = worked_example();
    let operator = key("registry/operator", 1);
    let cadastre = key("pk-cadastre/k1", 9);
    w.ledger
        .submit_blocking(signed(
            &json!({"kind": "party", "id": "pk-cadastre", "name": "Mining cadastre (illustrative)",
                    "party_kind": "state-body", "country": "PK", "keys": [cadastre.verifier().to_vkey()],
                    "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
            &[&cadastre, &operator],
        ))
        .unwrap();
    let mut saindak = site("saindak", "mine", "fwo", "PK");
    saindak["time"] = json!("2025-09-01T12:00:00Z");
    w.ledger
        .submit_blocking(signed(&saindak, &[&w.fwo, &cadastre]))
        .unwrap();
    let answer = provenance(w.ledger.store(), A, ProvenanceLimits::DEFAULT)
        .unwrap()
        .unwrap();
    let site_of = |id: &str| answer.sites.iter().find(|s| s.site == id).unwrap();
    let mine = site_of("saindak");
    assert_eq!(mine.confirmed_by, ["pk-cadastre"]);
    assert!(
        mine.claim
            .ends_with("confirmed by pk-cadastre, who signed it too"),
        "{}",
        mine.claim
    );
    let evidence = answer
        .evidence
        .iter()
        .find(|e| e.index == mine.index)
        .unwrap();
    assert_eq!(evidence.signed_by, ["fwo", "pk-cadastre"]);
    let other = site_of("reko-diq");
    assert!(other.confirmed_by.is_empty());
    assert!(
        other.claim.ends_with(&format!("index {}", other.index)),
        "{}",
        other.claim
    );
}
