//! Chain-of-custody declarations and claims on the worked example of
//! `docs/design/provenance.md`: blend B at ussm's plant holds copper from
//! Saindak (92/149), Reko Diq (69/298) and Madison (45/298), so 253/298 =
//! 0.848993… of its copper is of Pakistani origin, and 23/248 = 0.092742…
//! of its cobalt. Each model: a claim that holds and a claim refused (or,
//! under mass balance, accepted and left to the period's account); who
//! may declare and claim; what does not exist; nothing of a refusal is
//! written.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_ledger::StateView;
use oretrace_ledger::Store;
use oretrace_ledger::rules::Refusal;
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};

mod provenance_world;
use provenance_world::{B, M, World, assay, key, lot, signed, worked_example};

const PK: [&str; 2] = ["saindak", "reko-diq"];

fn ussm() -> NoteSigner {
    key("ussm/k1", 4)
}

fn lab() -> NoteSigner {
    key("lab/k1", 5)
}

fn declaration(site: &str, attribute: &str, model: &str, specified: &[&str], from: &str) -> Value {
    json!({"kind": "custody-model", "site": site, "attribute": attribute, "model": model,
           "specified": specified, "from": from, "until": "2026-01-01T00:00:00Z",
           "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

fn claim(lot: &str, attribute: &str, element: &str, share: &str) -> Value {
    json!({"kind": "attribute-claim", "lot": lot, "attribute": attribute, "element": element,
           "share": share, "time": "2025-10-27T00:00:00Z", "figures": "illustrative"})
}

fn submit(w: &World, v: &Value, signers: &[&NoteSigner]) -> Result<u64, Refusal> {
    w.ledger.submit_blocking(signed(v, signers))
}

/// The worked example with ussm's plant declaring `model` for `attribute`.
fn declared(attribute: &str, model: &str, specified: &[&str]) -> World {
    let w = worked_example();
    submit(
        &w,
        &declaration(
            "ussm-plant",
            attribute,
            model,
            specified,
            "2025-01-01T00:00:00Z",
        ),
        &[&ussm()],
    )
    .unwrap();
    w
}

/// A refusal on `field` whose rule says every part; nothing written.
fn refused(w: &World, v: &Value, signers: &[&NoteSigner], field: &str, parts: &[&str]) {
    let size = w.ledger.store().size().unwrap();
    let refusal = submit(w, v, signers).unwrap_err();
    let Refusal::Unprocessable { field: f, rule } = &refusal else {
        panic!("{refusal:?}");
    };
    assert_eq!(f, field, "{rule}");
    for part in parts {
        assert!(rule.contains(part), "{part:?} not in {rule}");
    }
    assert_eq!(w.ledger.store().size().unwrap(), size);
}

#[test]
fn controlled_blending_holds_up_to_the_computed_share_and_refuses_beyond() {
    let w = declared("origin: Pakistan", "controlled-blending", &PK);
    let index = submit(&w, &claim(B, "origin: Pakistan", "Cu", "0.848"), &[&ussm()]).unwrap();
    // The claim is in the lot's history.
    assert!(w.ledger.store().lot_entries(B).unwrap().contains(&index));
    refused(
        &w,
        &claim(B, "origin: Pakistan", "Cu", "0.85"),
        &[&ussm()],
        "share",
        &[
            "chain of custody: site ussm-plant declares controlled-blending for \"origin: Pakistan\"",
            "lot urn:oretrace:lot:ussm:blend-b of transformation blend-1, Cu",
            "claimed 0.85 specified in Cu, computed 0.848993",
            "2024.63625 kg of the lot's 2381.925 kg of Cu",
        ],
    );
    // Per element: the blend's cobalt is 9 % Pakistani.
    refused(
        &w,
        &claim(B, "origin: Pakistan", "Co", "0.1"),
        &[&ussm()],
        "share",
        &["claimed 0.1 specified in Co, computed 0.092742"],
    );
}

#[test]
fn segregated_refuses_a_mix_with_unspecified_origins_and_holds_when_all_are_specified() {
    let w = declared("origin: Pakistan", "segregated", &PK);
    refused(
        &w,
        &claim(B, "origin: Pakistan", "Cu", "0.5"),
        &[&ussm()],
        "share",
        &[
            "declares segregated",
            "mixes Cu from origins that are not specified, so no share of it is eligible; claimed 0.5",
        ],
    );
    submit(
        &w,
        &declaration(
            "ussm-plant",
            "origin: PK or US",
            "segregated",
            &["saindak", "reko-diq", "madison"],
            "2025-01-01T00:00:00Z",
        ),
        &[&ussm()],
    )
    .unwrap();
    submit(&w, &claim(B, "origin: PK or US", "Cu", "1"), &[&ussm()]).unwrap();
}

#[test]
fn identity_preserved_refuses_a_blend_and_holds_for_one_origin() {
    let w = declared("one origin", "identity-preserved", &["ussm-plant"]);
    refused(
        &w,
        &claim(B, "one origin", "Cu", "1"),
        &[&ussm()],
        "share",
        &[
            "declares identity-preserved",
            "mixes Cu from 3 origin sites, so no share of it is eligible",
        ],
    );
    // A lot of the plant's own, split: one origin.
    let (own, part) = (
        "urn:oretrace:lot:ussm:own",
        "urn:oretrace:lot:ussm:own-part",
    );
    submit(
        &w,
        &lot(own, "ussm-plant", "100", "0", "2025-10-01T00:00:00Z"),
        &[&ussm()],
    )
    .unwrap();
    submit(
        &w,
        &assay(own, "Cu", "5", "2025-10-02T00:00:00Z"),
        &[&ussm(), &lab()],
    )
    .unwrap();
    submit(
        &w,
        &json!({"kind": "transformation", "id": "split-1", "site": "ussm-plant", "process": "splitting",
                "inputs": [{"lot": own, "mass": {"value": "100", "unit": "kg"}}],
                "outputs": [{"id": part, "commodity": "copper", "form": "ore",
                             "wet_mass": {"value": "100", "unit": "kg"}, "moisture_percent": "0"}],
                "time": "2025-10-03T00:00:00Z", "figures": "illustrative"}),
        &[&ussm()],
    )
    .unwrap();
    submit(&w, &claim(part, "one origin", "Cu", "1"), &[&ussm()]).unwrap();
}

#[test]
fn mass_balance_accepts_a_claim_on_arrival() {
    // The account over the period is the site's answer's to flag: a claim
    // beyond the blend's own specified share is not refused on arrival.
    let w = declared("origin: Pakistan", "mass-balance", &PK);
    submit(&w, &claim(B, "origin: Pakistan", "Cu", "1"), &[&ussm()]).unwrap();
}

#[test]
fn an_input_not_assayed_for_the_element_leaves_the_share_unknown() {
    let w = declared("origin: Pakistan", "controlled-blending", &PK);
    refused(
        &w,
        &claim(B, "origin: Pakistan", "Ni", "0.1"),
        &[&ussm()],
        "share",
        &["is not assayed for Ni, so the specified share of Ni cannot be computed"],
    );
}

#[test]
fn only_the_operator_declares_and_only_the_custodian_claims() {
    let w = declared("origin: Pakistan", "controlled-blending", &PK);
    let size = w.ledger.store().size().unwrap();
    let refusal = submit(
        &w,
        &declaration(
            "ussm-plant",
            "certified: IRMA",
            "segregated",
            &PK,
            "2025-01-01T00:00:00Z",
        ),
        &[&w.fwo],
    )
    .unwrap_err();
    assert_eq!(
        refusal,
        Refusal::Forbidden(
            "the chain-of-custody model of site ussm-plant must be signed by ussm".into()
        )
    );
    let refusal = submit(&w, &claim(B, "origin: Pakistan", "Cu", "0.5"), &[&w.fwo]).unwrap_err();
    assert_eq!(
        refusal,
        Refusal::Forbidden(format!("a claim on lot {B} must be signed by ussm"))
    );
    assert_eq!(w.ledger.store().size().unwrap(), size);
}

#[test]
fn what_does_not_exist_or_does_not_apply_is_refused_naming_the_field() {
    let w = declared("origin: Pakistan", "controlled-blending", &PK);
    refused(
        &w,
        &declaration("nowhere", "x", "segregated", &PK, "2025-01-01T00:00:00Z"),
        &[&ussm()],
        "site",
        &["site nowhere does not exist"],
    );
    refused(
        &w,
        &declaration(
            "ussm-plant",
            "x",
            "segregated",
            &["saindak", "atlantis"],
            "2025-01-01T00:00:00Z",
        ),
        &[&ussm()],
        "specified[1]",
        &["site atlantis does not exist"],
    );
    // A second model for the same attribute over an overlapping period.
    refused(
        &w,
        &declaration(
            "ussm-plant",
            "origin: Pakistan",
            "mass-balance",
            &PK,
            "2025-06-01T00:00:00Z",
        ),
        &[&ussm()],
        "from",
        &[
            "site ussm-plant already declares controlled-blending for \"origin: Pakistan\" from 2025-01-01T00:00:00Z until 2026-01-01T00:00:00Z",
        ],
    );
    refused(
        &w,
        &claim(
            "urn:oretrace:lot:ussm:none",
            "origin: Pakistan",
            "Cu",
            "0.5",
        ),
        &[&ussm()],
        "lot",
        &["lot urn:oretrace:lot:ussm:none does not exist"],
    );
    refused(
        &w,
        &claim(M, "origin: Pakistan", "Cu", "0.5"),
        &[&ussm()],
        "lot",
        &["was not produced by a transformation"],
    );
    let mut early = claim(B, "origin: Pakistan", "Cu", "0.5");
    early["time"] = json!("2025-10-24T00:00:00Z");
    refused(
        &w,
        &early,
        &[&ussm()],
        "time",
        &["2025-10-24T00:00:00Z is before transformation blend-1, which made lot"],
    );
    refused(
        &w,
        &claim(B, "certified: IRMA", "Cu", "0.5"),
        &[&ussm()],
        "attribute",
        &[
            "site ussm-plant declares no chain-of-custody model for \"certified: IRMA\" at 2025-10-25T00:00:00Z, when transformation blend-1 made lot",
        ],
    );
}

#[test]
fn a_declaration_holds_only_over_its_period() {
    let w = worked_example();
    submit(
        &w,
        &json!({"kind": "custody-model", "site": "ussm-plant", "attribute": "origin: Pakistan",
                "model": "controlled-blending", "specified": PK, "from": "2025-11-01T00:00:00Z",
                "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
        &[&ussm()],
    )
    .unwrap();
    // blend-1 was on 2025-10-25, before the period.
    refused(
        &w,
        &claim(B, "origin: Pakistan", "Cu", "0.5"),
        &[&ussm()],
        "attribute",
        &["declares no chain-of-custody model"],
    );
    // A new version of the site keeps its declarations.
    let site = w.ledger.store().site("ussm-plant").unwrap().unwrap();
    assert_eq!(site.custody_models().len(), 1);
    submit(
        &w,
        &json!({"kind": "site", "id": "ussm-plant", "name": "USSM plant", "site_kind": "receiving-plant",
                "operator": "ussm", "country": "US", "location": {"lat": "38", "lon": "-90"},
                "approximate": true, "time": "2025-09-02T00:00:00Z", "figures": "illustrative"}),
        &[&ussm()],
    )
    .unwrap();
    let site = w.ledger.store().site("ussm-plant").unwrap().unwrap();
    assert_eq!(site.custody_models().len(), 1);
}

/// Under controlled blending each claim is judged alone on arrival: two
/// claims of 0.8 on blend B's copper each hold, but together they claim
/// 1.6 × the lot's copper as Pakistani — more than came in. The site's
/// answer says so: a finding, and the declaration does not hold.
#[test]
fn claims_adding_up_beyond_what_came_in_are_a_finding_under_every_model() {
    let w = declared("origin: Pakistan", "controlled-blending", &PK);
    submit(&w, &claim(B, "origin: Pakistan", "Cu", "0.8"), &[&ussm()]).unwrap();
    let one = oretrace_ledger::custody::custody_answer(
        w.ledger.store(),
        "ussm-plant",
        None,
        None,
        oretrace_ledger::provenance::ProvenanceLimits::DEFAULT,
    )
    .unwrap()
    .unwrap();
    assert!(one.declarations[0].holds, "{:?}", one.declarations[0]);
    let mut again = claim(B, "origin: Pakistan", "Cu", "0.8");
    again["time"] = json!("2025-10-28T00:00:00Z");
    submit(&w, &again, &[&ussm()]).unwrap();
    let two = oretrace_ledger::custody::custody_answer(
        w.ledger.store(),
        "ussm-plant",
        None,
        None,
        oretrace_ledger::provenance::ProvenanceLimits::DEFAULT,
    )
    .unwrap()
    .unwrap();
    let d = &two.declarations[0];
    assert!(!d.holds, "{d:?}");
    assert!(
        d.findings
            .iter()
            .any(|f| f.what.contains("claimed as specified over the period")),
        "{:?}",
        d.findings
    );
}
