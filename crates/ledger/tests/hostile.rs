//! What a registered but hostile party tried, each refused with its
//! reason and nothing written: one test per hole, named after what broke.
//! (The world: fwo holds lot `urn:oretrace:lot:sb-1` at its exploration
//! area; ussm runs the receiving plant `ussm-madison`.)

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_ledger::StateView;
use oretrace_ledger::rules::Refusal;
use oretrace_ledger::state::LotStatus;
use serde_json::json;

mod common;
use common::*;

/// A party `evil`, registered like any other, with a site of its own.
fn with_evil(w: &World) -> oretrace_tlog::note::NoteSigner {
    let evil = key("evil/k1", 66);
    w.ledger
        .submit_blocking(signed(party("evil", &evil, "PK"), &[&evil, &w.operator]))
        .unwrap();
    w.ledger
        .submit_blocking(signed(site("evil-yard", "evil", "warehouse"), &[&evil]))
        .unwrap();
    w.ledger
        .submit_blocking(signed(
            lot("urn:oretrace:lot:evil:crumb", "evil-yard"),
            &[&evil],
        ))
        .unwrap();
    evil
}

#[test]
fn a_lot_of_1e26_tonnes_is_refused_before_the_rules_see_it() {
    let mut huge = lot("urn:oretrace:lot:huge", "fwo-chitral");
    huge["wet_mass"] = json!({"value": "100000000000000000000000000", "unit": "t"});
    let error = oretrace_domain::wire::RecordJson::parse(huge.to_string().as_bytes()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("wet_mass.value: a mass may not exceed"),
        "{error}"
    );
    // The largest mass allowed goes through every rule without overflow.
    let w = world();
    let mut big = lot("urn:oretrace:lot:big", "fwo-chitral");
    big["wet_mass"] = json!({"value": "1000000000", "unit": "t"});
    w.ledger.submit_blocking(signed(big, &[&w.fwo])).unwrap();
    let t = json!({"kind": "transformation", "id": "t-big", "site": "fwo-chitral", "process": "crushing",
        "inputs": [{"lot": "urn:oretrace:lot:big", "mass": {"value": "1000000000", "unit": "t"}}],
        "outputs": [{"id": "urn:oretrace:lot:big-out", "commodity": "antimony", "form": "ore",
                     "wet_mass": {"value": "1000000000", "unit": "t"}, "moisture_percent": "4"}],
        "time": "2025-09-03T00:00:00Z", "figures": "illustrative"});
    w.ledger.submit_blocking(signed(t, &[&w.fwo])).unwrap();
}

#[test]
fn a_non_canonical_spelling_of_a_lot_id_is_refused_naming_the_canonical_one() {
    let w = world();
    let r = refused(
        &w,
        signed(
            lot("urn:epc:class:lgtin:4012345.012345.998877", "fwo-chitral"),
            &[&w.fwo],
        ),
    );
    assert!(
        matches!(&r, Refusal::Invalid(e) if e.to_string().contains("https://id.gs1.org/01/04012345123456/10/998877")),
        "{r:?}"
    );
    w.ledger
        .submit_blocking(signed(
            lot(
                "https://id.gs1.org/01/04012345123456/10/998877",
                "fwo-chitral",
            ),
            &[&w.fwo],
        ))
        .unwrap();
}

#[test]
fn receiving_at_another_party_s_site_needs_its_operator() {
    // evil ships its crumb to ussm's plant naming itself receiver, then
    // tries to receive it there.
    let w = world();
    let evil = with_evil(&w);
    let ship = json!({"kind": "shipment", "id": "evil-1", "lots": ["urn:oretrace:lot:evil:crumb"],
        "from": "evil-yard", "to": "ussm-madison", "receiver": "evil",
        "time": "2025-09-03T00:00:00Z", "figures": "illustrative"});
    w.ledger.submit_blocking(signed(ship, &[&evil])).unwrap();
    let receive = json!({"kind": "receipt", "shipment": "evil-1", "site": "ussm-madison",
        "lots": [{"lot": "urn:oretrace:lot:evil:crumb", "mass": {"value": "25", "unit": "kg"}}],
        "time": "2025-09-04T00:00:00Z", "figures": "illustrative"});
    let r = refused(&w, signed(receive.clone(), &[&evil]));
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("receiving at ussm-madison (its operator)")),
        "{r:?}"
    );
    // With the operator's signature too, it is a receipt.
    w.ledger
        .submit_blocking(signed(receive, &[&evil, &w.ussm]))
        .unwrap();
}

#[test]
fn processing_at_another_party_s_site_needs_its_operator() {
    let w = world();
    let evil = with_evil(&w);
    let t = json!({"kind": "transformation", "id": "t-evil", "site": "evil-yard", "process": "sorting",
        "inputs": [{"lot": "urn:oretrace:lot:evil:crumb", "mass": {"value": "25", "unit": "kg"}}],
        "outputs": [{"id": "urn:oretrace:lot:evil:sorted", "commodity": "antimony", "form": "ore",
                     "wet_mass": {"value": "20", "unit": "kg"}, "moisture_percent": "4"}],
        "time": "2025-09-03T00:00:00Z", "figures": "illustrative"});
    // At its own yard, by itself: fine. At fwo's site it would need fwo.
    let mut at_fwo = t.clone();
    at_fwo["site"] = json!("fwo-chitral");
    let r = refused(&w, signed(at_fwo, &[&evil]));
    assert!(matches!(&r, Refusal::Forbidden(_)), "{r:?}");
    w.ledger.submit_blocking(signed(t, &[&evil])).unwrap();
}

#[test]
fn a_lot_id_in_another_party_s_namespace_is_refused() {
    let w = world();
    let evil = with_evil(&w);
    // Commissioned at its own site, in ussm's namespace.
    let r = refused(
        &w,
        signed(
            lot("urn:oretrace:lot:ussm:ndpr-metal-0001", "evil-yard"),
            &[&evil],
        ),
    );
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("committed only by ussm")),
        "{r:?}"
    );
    // Produced by a transformation, in ussm's namespace.
    let t = json!({"kind": "transformation", "id": "t-launder", "site": "evil-yard", "process": "refining",
        "inputs": [{"lot": "urn:oretrace:lot:evil:crumb", "mass": {"value": "25", "unit": "kg"}}],
        "outputs": [{"id": "urn:oretrace:lot:ussm:ndpr-metal-0001", "commodity": "rare-earths", "form": "metal",
                     "wet_mass": {"value": "1", "unit": "kg"}, "moisture_percent": "0"}],
        "time": "2025-09-03T00:00:00Z", "figures": "illustrative"});
    let r = refused(&w, signed(t, &[&evil]));
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("committed only by ussm")),
        "{r:?}"
    );
}

#[test]
fn a_transformation_cannot_turn_1_kg_into_50_t() {
    let w = world();
    let evil = with_evil(&w);
    let t = |tonnes: &str| {
        json!({"kind": "transformation", "id": "t-grow", "site": "evil-yard", "process": "refining",
        "inputs": [{"lot": "urn:oretrace:lot:evil:crumb", "mass": {"value": "25", "unit": "kg"}}],
        "outputs": [{"id": "urn:oretrace:lot:evil:metal", "commodity": "antimony", "form": "metal",
                     "wet_mass": {"value": tonnes, "unit": "t"}, "moisture_percent": "0"}],
        "time": "2025-09-03T00:00:00Z", "figures": "illustrative"})
    };
    let r = refused(&w, signed(t("50"), &[&evil]));
    assert!(
        matches!(&r, Refusal::Unprocessable { field, rule } if field == "outputs" && rule.contains("cannot create mass")),
        "{r:?}"
    );
    // 25 kg at 4 % moisture is 24 kg dry: 0.024 t of metal is the most.
    let r = refused(&w, signed(t("0.024001"), &[&evil]));
    assert!(matches!(&r, Refusal::Unprocessable { .. }), "{r:?}");
    w.ledger
        .submit_blocking(signed(t("0.024"), &[&evil]))
        .unwrap();
}

#[test]
fn a_party_cannot_rename_itself_or_change_its_kind_without_the_operator() {
    let w = world();
    let evil = with_evil(&w);
    let mut update = party("evil", &evil, "PK");
    update["time"] = json!("2025-09-05T00:00:00Z");
    for (day, (field, value)) in [
        ("name", json!("Government of Pakistan")),
        ("party_kind", json!("registry-operator")),
        ("country", json!("US")),
    ]
    .into_iter()
    .enumerate()
    {
        let mut changed = update.clone();
        changed[field] = value;
        changed["time"] = json!(format!("2025-09-1{day}T00:00:00Z"));
        let r = refused(&w, signed(changed.clone(), &[&evil]));
        assert!(
            matches!(&r, Refusal::Forbidden(m) if m.contains("operator's endorsement")),
            "{field}: {r:?}"
        );
        // The operator may endorse it.
        changed["time"] = json!(format!("2025-09-1{day}T01:00:00Z"));
        w.ledger
            .submit_blocking(signed(changed, &[&evil, &w.operator]))
            .unwrap();
    }
}

/// A site's country and kind decide origin and compliance for every lot
/// that passed it: its operator cannot move a mine to another country
/// (or turn a port into a warehouse) after the fact alone.
#[test]
fn a_site_operator_cannot_change_its_country_or_kind_without_the_operator() {
    let w = world();
    let evil = with_evil(&w);
    for (day, (field, value)) in [("country", json!("CN")), ("site_kind", json!("mine"))]
        .into_iter()
        .enumerate()
    {
        let mut changed = site("evil-yard", "evil", "warehouse");
        changed[field] = value;
        changed["time"] = json!(format!("2025-09-1{day}T00:00:00Z"));
        let r = refused(&w, signed(changed.clone(), &[&evil]));
        assert!(
            matches!(&r, Refusal::Forbidden(m) if m.contains("country or kind of site evil-yard") && m.contains("operator's endorsement")),
            "{field}: {r:?}"
        );
        changed["time"] = json!(format!("2025-09-1{day}T01:00:00Z"));
        w.ledger
            .submit_blocking(signed(changed, &[&evil, &w.operator]))
            .unwrap();
    }
    // Its name and location it may still correct alone.
    let mut renamed = site("evil-yard", "evil", "mine");
    renamed["name"] = json!("Evil yard, surveyed");
    renamed["time"] = json!("2025-09-15T00:00:00Z");
    w.ledger.submit_blocking(signed(renamed, &[&evil])).unwrap();
}

#[test]
fn a_control_claim_not_signed_by_the_owner_is_shown_unconfirmed() {
    let w = world();
    let evil = with_evil(&w);
    let mut claim = party("evil", &evil, "PK");
    claim["time"] = json!("2025-09-05T00:00:00Z");
    claim["owners"] = json!([{"owner": "ussm", "share_percent": "51", "controls": true}]);
    w.ledger
        .submit_blocking(signed(claim.clone(), &[&evil]))
        .unwrap();
    let state = w.ledger.store().party("evil").unwrap().unwrap();
    assert_eq!(
        state.unconfirmed_owners(),
        [oretrace_domain::values::PartyId::parse("ussm").unwrap()]
    );
    // ussm confirms it by signing the same claim; an unchanged claim in a
    // later version keeps its confirmation.
    claim["time"] = json!("2025-09-06T00:00:00Z");
    w.ledger
        .submit_blocking(signed(claim.clone(), &[&evil, &w.ussm]))
        .unwrap();
    let state = w.ledger.store().party("evil").unwrap().unwrap();
    assert!(state.unconfirmed_owners().is_empty());
    claim["time"] = json!("2025-09-07T00:00:00Z");
    w.ledger
        .submit_blocking(signed(claim.clone(), &[&evil]))
        .unwrap();
    assert!(
        w.ledger
            .store()
            .party("evil")
            .unwrap()
            .unwrap()
            .unconfirmed_owners()
            .is_empty()
    );
    // A changed share is a new claim: unconfirmed again.
    claim["time"] = json!("2025-09-08T00:00:00Z");
    claim["owners"][0]["share_percent"] = json!("75");
    w.ledger.submit_blocking(signed(claim, &[&evil])).unwrap();
    let state = w.ledger.store().party("evil").unwrap().unwrap();
    assert_eq!(
        state.unconfirmed_owners(),
        [oretrace_domain::values::PartyId::parse("ussm").unwrap()]
    );
}

fn shipment_at(time: &str) -> serde_json::Value {
    json!({"kind": "shipment", "id": "s-t", "lots": ["urn:oretrace:lot:sb-1"], "from": "fwo-chitral",
           "to": "ussm-madison", "receiver": "ussm", "time": time, "figures": "illustrative"})
}

fn receipt_of(kg: &str, time: &str) -> serde_json::Value {
    json!({"kind": "receipt", "shipment": "s-t", "site": "ussm-madison",
           "lots": [{"lot": "urn:oretrace:lot:sb-1", "mass": {"value": kg, "unit": "kg"}}],
           "time": time, "figures": "illustrative"})
}

#[test]
fn a_shipment_dated_before_its_lot_was_commissioned_is_refused() {
    // The lot was commissioned on 2025-09-02.
    let w = world();
    let r = refused(&w, signed(shipment_at("2025-09-01T23:59:59Z"), &[&w.fwo]));
    assert!(
        matches!(&r, Refusal::Unprocessable { field, rule } if field == "time" && rule.contains("before")),
        "{r:?}"
    );
    w.ledger
        .submit_blocking(signed(shipment_at("2025-09-02T00:00:00Z"), &[&w.fwo]))
        .unwrap();
}

#[test]
fn a_receipt_dated_before_its_shipment_is_refused() {
    let w = world();
    w.ledger
        .submit_blocking(signed(shipment_at("2025-09-20T00:00:00Z"), &[&w.fwo]))
        .unwrap();
    let r = refused(
        &w,
        signed(receipt_of("25", "2025-09-19T00:00:00Z"), &[&w.ussm]),
    );
    assert!(
        matches!(&r, Refusal::Unprocessable { field, .. } if field == "time"),
        "{r:?}"
    );
    w.ledger
        .submit_blocking(signed(receipt_of("25", "2025-09-21T00:00:00Z"), &[&w.ussm]))
        .unwrap();
    // Nothing may happen to the lot before it arrived: not even its new
    // custodian's shipment onwards.
    let mut onward = shipment_at("2025-09-20T12:00:00Z");
    onward["id"] = json!("s-onward");
    onward["from"] = json!("ussm-madison");
    onward["to"] = json!("fwo-chitral");
    onward["receiver"] = json!("fwo");
    let r = refused(&w, signed(onward, &[&w.ussm]));
    assert!(matches!(&r, Refusal::Unprocessable { .. }), "{r:?}");
}

#[test]
fn a_receipt_of_99_kg_of_a_25_kg_lot_is_refused() {
    let w = world();
    w.ledger
        .submit_blocking(signed(shipment_at("2025-09-20T00:00:00Z"), &[&w.fwo]))
        .unwrap();
    let r = refused(
        &w,
        signed(receipt_of("99", "2025-09-21T00:00:00Z"), &[&w.ussm]),
    );
    assert!(
        matches!(&r, Refusal::Unprocessable { field, rule } if field == "lots[0].mass" && rule.contains("2 %")),
        "{r:?}"
    );
    // Within the tolerance (25 kg + 2 % = 25.5 kg) it is a receipt.
    w.ledger
        .submit_blocking(signed(
            receipt_of("25.5", "2025-09-21T00:00:00Z"),
            &[&w.ussm],
        ))
        .unwrap();
    let lot = w
        .ledger
        .store()
        .lot("urn:oretrace:lot:sb-1")
        .unwrap()
        .unwrap();
    assert_eq!(*lot.status(), LotStatus::Held);
}

#[test]
fn a_record_dated_in_the_future_is_refused() {
    let w = world();
    let r = refused(&w, signed(shipment_at("2999-01-01T00:00:00Z"), &[&w.fwo]));
    assert!(
        matches!(&r, Refusal::Unprocessable { field, rule } if field == "time" && rule.contains("future")),
        "{r:?}"
    );
}

#[test]
fn receipt_tolerances_do_not_compound_into_mass() {
    // Round trips between its own two sites, each receipt 2 % heavier
    // than the last, then a transformation of the "grown" lot.
    let w = world();
    let evil = with_evil(&w);
    w.ledger
        .submit_blocking(signed(site("evil-yard-2", "evil", "warehouse"), &[&evil]))
        .unwrap();
    let crumb = "urn:oretrace:lot:evil:crumb";
    let yards = ["evil-yard", "evil-yard-2"];
    let mut kg = 25.0_f64;
    for round in 0..2 {
        let (from, to) = (yards[round % 2], yards[(round + 1) % 2]);
        let id = format!("r-{round}");
        let ship = json!({"kind": "shipment", "id": id, "lots": [crumb], "from": from, "to": to,
            "receiver": "evil", "time": format!("2025-09-0{}T00:00:00Z", 3 + 2 * round), "figures": "illustrative"});
        w.ledger.submit_blocking(signed(ship, &[&evil])).unwrap();
        kg *= 1.02;
        let receive = |kg: f64| {
            json!({"kind": "receipt", "shipment": id, "site": to,
                "lots": [{"lot": crumb, "mass": {"value": format!("{kg:.3}"), "unit": "kg"}}],
                "time": format!("2025-09-0{}T00:00:00Z", 4 + 2 * round), "figures": "illustrative"})
        };
        if round == 0 {
            w.ledger
                .submit_blocking(signed(receive(kg), &[&evil]))
                .unwrap();
        } else {
            // 2 % over the last receipt is over 2 % of what was created.
            let r = refused(&w, signed(receive(kg), &[&evil]));
            assert!(
                matches!(&r, Refusal::Unprocessable { rule, .. } if rule.contains("created with 25 kg")),
                "{r:?}"
            );
            w.ledger
                .submit_blocking(signed(receive(25.5), &[&evil]))
                .unwrap();
        }
    }
    // A transformation consumes no more than the lot was created with.
    let t = |consumed: &str| {
        json!({"kind": "transformation", "id": "t-more", "site": "evil-yard", "process": "sorting",
        "inputs": [{"lot": crumb, "mass": {"value": consumed, "unit": "kg"}}],
        "outputs": [{"id": "urn:oretrace:lot:evil:out", "commodity": "antimony", "form": "ore",
                     "wet_mass": {"value": "1", "unit": "kg"}, "moisture_percent": "0"}],
        "time": "2025-09-09T00:00:00Z", "figures": "illustrative"})
    };
    let r = refused(&w, signed(t("25.5"), &[&evil]));
    assert!(
        matches!(&r, Refusal::Unprocessable { field, .. } if field == "inputs[0].mass"),
        "{r:?}"
    );
    w.ledger.submit_blocking(signed(t("25"), &[&evil])).unwrap();
}

#[test]
fn a_party_cannot_list_another_party_s_public_key_as_its_own() {
    // fwo's public key, under a name of evil's (so with another key id):
    // evil cannot sign with it, so it cannot list it.
    let w = world();
    let evil = with_evil(&w);
    let stolen = oretrace_tlog::note::NoteSigner::from_seed("evil/k9", [3; 32]).unwrap();
    assert_eq!(
        stolen.verifier().to_vkey().rsplit('+').next(),
        w.fwo.verifier().to_vkey().rsplit('+').next(),
        "the same public key as fwo's"
    );
    let mut update = party("evil", &evil, "PK");
    update["time"] = json!("2025-09-05T00:00:00Z");
    update["keys"] = json!([evil.verifier().to_vkey(), stolen.verifier().to_vkey()]);
    let r = refused(&w, signed(update.clone(), &[&evil]));
    assert!(
        matches!(&r, Refusal::Forbidden(m) if m.contains("proof of possession")),
        "{r:?}"
    );
    // A key of its own that signs is welcome.
    let own = key("evil/k2", 67);
    update["keys"] = json!([evil.verifier().to_vkey(), own.verifier().to_vkey()]);
    w.ledger
        .submit_blocking(signed(update, &[&evil, &own]))
        .unwrap();
}

#[test]
fn a_lot_dated_before_its_site_or_a_version_before_the_one_it_replaces_is_refused() {
    let w = world();
    let evil = with_evil(&w);
    let mut old = lot("urn:oretrace:lot:evil:old", "evil-yard");
    old["time"] = json!("2020-01-01T00:00:00Z");
    let r = refused(&w, signed(old, &[&evil]));
    assert!(
        matches!(&r, Refusal::Unprocessable { rule, .. } if rule.contains("site evil-yard was registered")),
        "{r:?}"
    );
    let mut backdated = party("evil", &evil, "PK");
    backdated["time"] = json!("2000-01-01T00:00:00Z");
    let r = refused(&w, signed(backdated, &[&evil]));
    assert!(
        matches!(&r, Refusal::Unprocessable { rule, .. } if rule.contains("the version of party evil it replaces")),
        "{r:?}"
    );
}

#[test]
fn case_escape_and_fragment_spellings_of_a_lot_id_are_refused() {
    let w = world();
    let evil = with_evil(&w);
    for (spelling, canonical) in [
        ("URN:oretrace:lot:fwo:evil-2", "urn:oretrace:lot:fwo:evil-2"),
        ("urn:ORETRACE:lot:evil:x", "urn:oretrace:lot:evil:x"),
        ("urn:oretrace:lot:evil:a-%31", "urn:oretrace:lot:evil:a-1"),
        ("urn:oretrace:lot:evil:a-1?+x", "urn:oretrace:lot:evil:a-1"),
        ("urn:oretrace:lot:evil:a-1#f", "urn:oretrace:lot:evil:a-1"),
        (
            "HTTPS://ID.GS1.ORG/01/04012345123456/10/LOT1",
            "https://id.gs1.org/01/04012345123456/10/LOT1",
        ),
        (
            "https://id.gs1.org/01/04012345123456/10/LOT1/",
            "https://id.gs1.org/01/04012345123456/10/LOT1",
        ),
        (
            "https://id.gs1.org/01/04012345123456/10/LOT%31",
            "https://id.gs1.org/01/04012345123456/10/LOT1",
        ),
    ] {
        let r = refused(&w, signed(lot(spelling, "evil-yard"), &[&evil]));
        assert!(
            matches!(&r, Refusal::Invalid(e) if e.to_string().contains(&format!("write the lot id as {canonical}"))),
            "{spelling}: {r:?}"
        );
    }
    for (odd, why) in [
        ("x:fwo:evil", "a URN"),
        ("urn:oretrace:site:evil-yard", "urn:oretrace:lot:<name>"),
        (
            "https://id.gs1.org/01/04012345123457/10/LOT1",
            "check digit",
        ),
    ] {
        let r = refused(&w, signed(lot(odd, "evil-yard"), &[&evil]));
        assert!(
            matches!(&r, Refusal::Invalid(e) if e.to_string().contains(why)),
            "{odd}: {r:?}"
        );
    }
}

#[test]
fn moisture_near_100_percent_cannot_make_a_heavier_lot() {
    // 25 kg in; out 10^6 kg at 99.99999 % moisture holds only 0.1 kg dry.
    let w = world();
    let evil = with_evil(&w);
    let t = |kg: &str, moisture: &str| {
        json!({"kind": "transformation", "id": "t-wet", "site": "evil-yard", "process": "soaking",
        "inputs": [{"lot": "urn:oretrace:lot:evil:crumb", "mass": {"value": "25", "unit": "kg"}}],
        "outputs": [{"id": "urn:oretrace:lot:evil:slurry", "commodity": "antimony", "form": "concentrate",
                     "wet_mass": {"value": kg, "unit": "kg"}, "moisture_percent": moisture}],
        "time": "2025-09-03T00:00:00Z", "figures": "illustrative"})
    };
    let r = refused(&w, signed(t("1000000", "99.99999"), &[&evil]));
    assert!(
        matches!(&r, Refusal::Unprocessable { field, rule } if field == "outputs" && rule.contains("weigh")),
        "{r:?}"
    );
    w.ledger
        .submit_blocking(signed(t("25", "10"), &[&evil]))
        .unwrap();
}

/// Grades are kept on the dry basis: two wet-basis assays that each fit
/// the wet lot but together hold more than its dry matter are refused,
/// and a lot's grade reads on the dry basis (what provenance and
/// reconciliation compute with).
#[test]
fn wet_basis_grades_cannot_put_more_than_the_dry_matter_in_a_lot() {
    let w = world();
    let mut wet = lot("urn:oretrace:lot:wet-1", "fwo-chitral");
    wet["moisture_percent"] = json!("50");
    w.ledger.submit_blocking(signed(wet, &[&w.fwo])).unwrap();
    let assay = |analyte: &str, value: &str, time: &str| {
        json!({"kind": "assay", "lot": "urn:oretrace:lot:wet-1", "analyte": analyte, "value": value,
            "unit": "%", "basis": "wet", "method": "XRF", "laboratory": "lab",
            "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "time": time, "figures": "illustrative"})
    };
    // 60 % wet at 50 % moisture would be 120 % of the dry matter.
    let r = refused(
        &w,
        signed(assay("Cu", "60", "2025-09-03T00:00:00Z"), &[&w.fwo, &w.lab]),
    );
    assert!(
        matches!(&r, Refusal::Unprocessable { field, rule } if field == "value" && rule.contains("on the wet basis") && rule.contains("moisture 50 %")),
        "{r:?}"
    );
    // 45 % wet is 90 % dry: accepted, and read on the dry basis.
    w.ledger
        .submit_blocking(signed(
            assay("Cu", "45", "2025-09-03T00:00:00Z"),
            &[&w.fwo, &w.lab],
        ))
        .unwrap();
    let lot = w
        .ledger
        .store()
        .lot("urn:oretrace:lot:wet-1")
        .unwrap()
        .unwrap();
    let cu: Vec<String> = lot
        .element_percent()
        .iter()
        .map(|(e, g)| format!("{} {}", e.symbol(), g.value()))
        .collect();
    assert_eq!(cu, ["Cu 90"]);
    // Another 45 % wet of zinc would make 180 % of the dry matter.
    let r = refused(
        &w,
        signed(assay("Zn", "45", "2025-09-04T00:00:00Z"), &[&w.fwo, &w.lab]),
    );
    assert!(
        matches!(&r, Refusal::Unprocessable { field, rule } if field == "value" && rule.contains("180")),
        "{r:?}"
    );
}
