//! Agreements, countersignatures, reveals, progress, reports and
//! resource estimates through the ledger: every state transition, every
//! refusal with its reason, and nothing written by a refused record.
//! (The world of `common`: fwo (PK), ussm (US) and a laboratory, fwo's
//! sites fwo-chitral and karachi-port, ussm's plant, lot sb-1 at
//! fwo-chitral.)

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_domain::canonical;
use oretrace_domain::disclosure::Sealed;
use oretrace_domain::money::Date;
use oretrace_domain::values::Digest;
use oretrace_ledger::agreements::{DisclosureState, PledgeStatus, Select};
use oretrace_ledger::rules::Refusal;
use oretrace_ledger::{StateView, Store};
use serde_json::{Value, json};

mod common;
use common::*;

const MOU: &str = "fwo:mou-ussm-2025";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

/// Version 1 of the MoU, public, with a money pledge and a milestone.
fn mou() -> Value {
    json!({"kind": "agreement", "id": MOU, "version": 1,
        "title": "MoU on critical minerals (illustrative text)", "agreement_kind": "mou",
        "parties": ["fwo", "ussm"], "signed": "2025-09-08", "place": "Islamabad", "status": "signed",
        "commodities": ["antimony", "copper"], "sites": ["fwo-chitral"], "lots": ["urn:oretrace:lot:sb-1"],
        "value": {"amount": "500000000", "currency": "USD"},
        "pledges": [
            {"id": "investment", "description": "Investment in processing (illustrative schedule)",
             "quantity": {"money": {"amount": "500000000", "currency": "USD"}}, "due": "2030-12-31"},
            {"id": "samples", "description": "First samples delivered", "due": "2025-10-31"}
        ],
        "documents": [],
        "terms": {"public": {"clauses": ["Article 1. Cooperation from exploration to refining."]}},
        "time": "2025-09-08T12:00:00Z", "figures": "illustrative"})
}

fn salts(n: usize) -> Vec<[u8; 32]> {
    (0..n).map(|i| [i as u8 + 1; 32]).collect()
}

const CLAUSES: [&str; 3] = [
    "Article 1. Scope: from exploration to refining.",
    "Article 2. Investment: about USD 500 million \"in phases\".\nSee annex.",
    "Article 3. Term: five years.",
];

fn sealed() -> Sealed {
    let s = salts(3);
    let pairs: Vec<([u8; 32], &str)> = s.iter().copied().zip(CLAUSES).collect();
    Sealed::new(&pairs).unwrap()
}

/// The MoU sealed (version 1).
fn sealed_mou() -> Value {
    let mut m = mou();
    m["terms"] = json!({"sealed": {"root": hex(sealed().root().as_bytes()), "count": 3,
        "reason": "Commercial confidentiality until the first phase", "disclose_by": "2026-09-08"}});
    m
}

fn reveal(indices: &[u32]) -> Value {
    let s = sealed();
    let salts = salts(3);
    let clauses: Vec<Value> = indices
        .iter()
        .map(|i| {
            let proof: Vec<String> = s
                .proof(u64::from(*i))
                .unwrap()
                .iter()
                .map(|h| hex(h.as_bytes()))
                .collect();
            json!({"index": i, "salt": hex(&salts[*i as usize]), "text": CLAUSES[*i as usize], "proof": proof})
        })
        .collect();
    json!({"kind": "disclosure", "agreement": MOU, "version": 1, "clauses": clauses,
        "time": "2025-12-01T00:00:00Z", "figures": "illustrative"})
}

fn digest_of(value: &Value) -> String {
    Digest::of(&canonical::encode(&record(value.clone()))).to_string()
}

fn countersign(version: u32, digest: &str, time: &str) -> Value {
    json!({"kind": "countersignature", "agreement": MOU, "version": version, "digest": digest,
        "time": time, "figures": "illustrative"})
}

fn evil(w: &World) -> oretrace_tlog::note::NoteSigner {
    let evil = key("evil/k1", 66);
    w.ledger
        .submit_blocking(signed(party("evil", &evil, "PK"), &[&evil, &w.operator]))
        .unwrap();
    evil
}

fn unprocessable(r: &Refusal, field: &str, needle: &str) {
    assert!(
        matches!(r, Refusal::Unprocessable { field: f, rule } if f == field && rule.contains(needle)),
        "{r:?}"
    );
}

fn forbidden(r: &Refusal, needle: &str) {
    assert!(
        matches!(r, Refusal::Forbidden(m) if m.contains(needle)),
        "{r:?}"
    );
}

#[test]
fn a_registered_version_is_unconfirmed_until_the_other_party_countersigns() {
    let w = world();
    let m = mou();
    w.ledger
        .submit_blocking(signed(m.clone(), &[&w.fwo]))
        .unwrap();
    let store = w.ledger.store();
    let v1 = store.agreement_version(MOU, 1).unwrap().unwrap();
    assert_eq!(v1.registrant().as_str(), "fwo");
    assert_eq!(
        v1.unconfirmed()
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>(),
        ["ussm"]
    );
    assert_eq!(v1.digest().to_string(), digest_of(&m));
    let a = store.agreement(MOU).unwrap().unwrap();
    assert_eq!(a.latest, 1);
    assert_eq!(a.disclosure, DisclosureState::Public);
    assert_eq!(
        a.countries.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        ["PK", "US"]
    );

    // The registrant cannot confirm for the other party, nor a stranger.
    let digest = digest_of(&m);
    let r = refused(
        &w,
        signed(countersign(1, &digest, "2025-09-09T00:00:00Z"), &[&w.fwo]),
    );
    unprocessable(
        &r,
        "agreement",
        "registered agreement fwo:mou-ussm-2025 version 1",
    );
    let evil = evil(&w);
    let r = refused(
        &w,
        signed(countersign(1, &digest, "2025-09-09T00:00:00Z"), &[&evil]),
    );
    forbidden(&r, "must be signed by one of its parties");
    // A countersignature names exactly what it confirms.
    let other = Digest::of(b"another text").to_string();
    let r = refused(
        &w,
        signed(countersign(1, &other, "2025-09-09T00:00:00Z"), &[&w.ussm]),
    );
    unprocessable(&r, "digest", "is not the digest of agreement");

    w.ledger
        .submit_blocking(signed(
            countersign(1, &digest, "2025-09-09T00:00:00Z"),
            &[&w.ussm],
        ))
        .unwrap();
    let v1 = w.ledger.store().agreement_version(MOU, 1).unwrap().unwrap();
    assert!(v1.unconfirmed().is_empty());
    assert_eq!(v1.confirmations()[0].party.as_str(), "ussm");
    // Once is enough: a second confirmation by the same party is refused.
    let r = refused(
        &w,
        signed(countersign(1, &digest, "2025-09-10T00:00:00Z"), &[&w.ussm]),
    );
    unprocessable(
        &r,
        "agreement",
        "ussm confirmed agreement fwo:mou-ussm-2025 version 1 at index",
    );
    // The very same record again is a replay.
    let r = refused(
        &w,
        signed(countersign(1, &digest, "2025-09-09T00:00:00Z"), &[&w.ussm]),
    );
    assert!(matches!(r, Refusal::Replay { .. }), "{r:?}");
}

#[test]
fn a_version_signed_by_both_parties_is_confirmed_by_both() {
    let w = world();
    w.ledger
        .submit_blocking(signed(mou(), &[&w.fwo, &w.ussm]))
        .unwrap();
    let v1 = w.ledger.store().agreement_version(MOU, 1).unwrap().unwrap();
    assert!(v1.unconfirmed().is_empty(), "{v1:?}");
}

#[test]
fn only_the_namespace_owner_registers_and_only_parties_amend() {
    let w = world();
    let evil = evil(&w);
    // An id in fwo's namespace, by evil: refused.
    let r = refused(&w, signed(mou(), &[&evil]));
    forbidden(&r, "is in the namespace of fwo");
    // In its own namespace, naming others but not itself: refused.
    let mut m = mou();
    m["id"] = json!("evil:mou");
    let r = refused(&w, signed(m.clone(), &[&evil]));
    unprocessable(&r, "parties", "must be one of its parties");
    // Naming a party that does not exist.
    m["parties"] = json!(["evil", "nobody"]);
    let r = refused(&w, signed(m.clone(), &[&evil]));
    unprocessable(&r, "parties[1]", "party nobody does not exist");
    // Naming itself and fwo: accepted, and shown unconfirmed by fwo.
    m["parties"] = json!(["evil", "fwo"]);
    w.ledger.submit_blocking(signed(m, &[&evil])).unwrap();
    let v = w
        .ledger
        .store()
        .agreement_version("evil:mou", 1)
        .unwrap()
        .unwrap();
    assert_eq!(v.unconfirmed()[0].as_str(), "fwo");

    w.ledger.submit_blocking(signed(mou(), &[&w.fwo])).unwrap();
    // Registering version 1 again: refused, naming the next version.
    let mut again = mou();
    again["time"] = json!("2025-09-08T13:00:00Z");
    let r = refused(&w, signed(again, &[&w.fwo]));
    unprocessable(&r, "version", "an amendment is version 2");

    let mut v2 = mou();
    v2["version"] = json!(2);
    v2["amends"] = json!(1);
    v2["status"] = json!("in-force");
    v2["signed"] = json!("2025-10-01");
    v2["time"] = json!("2025-10-01T00:00:00Z");
    // A non-party amends: refused.
    let r = refused(&w, signed(v2.clone(), &[&evil]));
    forbidden(&r, "must be signed by a party of version 1");
    // Dated before the version it amends: refused.
    let mut early = v2.clone();
    early["signed"] = json!("2025-09-01");
    let r = refused(&w, signed(early, &[&w.ussm]));
    unprocessable(&r, "signed", "before version 1 it amends");
    // Recorded before the version it amends was: refused.
    let mut back = v2.clone();
    back["signed"] = json!("2025-09-08");
    back["time"] = json!("2025-09-08T11:00:00Z");
    let r = refused(&w, signed(back, &[&w.ussm]));
    unprocessable(&r, "time", "before version 1 it amends was recorded");
    // Amending an agreement that does not exist.
    let mut ghost = v2.clone();
    ghost["id"] = json!("fwo:ghost");
    let r = refused(&w, signed(ghost, &[&w.fwo]));
    unprocessable(&r, "amends", "does not exist");
    // ussm, a party, amends: accepted; version 1 stays readable.
    w.ledger
        .submit_blocking(signed(v2.clone(), &[&w.ussm]))
        .unwrap();
    let store = w.ledger.store();
    let versions = store.agreement_versions(MOU).unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version()).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(versions[1].registrant().as_str(), "ussm");
    assert_eq!(store.agreement(MOU).unwrap().unwrap().latest, 2);
    // Skipping a version: refused.
    let mut v4 = v2.clone();
    v4["version"] = json!(4);
    v4["amends"] = json!(3);
    let r = refused(&w, signed(v4, &[&w.fwo]));
    unprocessable(&r, "amends", "must amend the latest version, 2");
    // Countersigning the superseded version: refused, naming the latest.
    let r = refused(
        &w,
        signed(
            countersign(1, &digest_of(&mou()), "2025-10-02T00:00:00Z"),
            &[&w.ussm],
        ),
    );
    unprocessable(&r, "version", "is superseded: countersign version 2");
    w.ledger
        .submit_blocking(signed(
            countersign(2, &digest_of(&v2), "2025-10-02T00:00:00Z"),
            &[&w.fwo],
        ))
        .unwrap();
}

#[test]
fn a_pledge_due_before_signing_and_an_amount_without_currency_are_bad_records() {
    let mut m = mou();
    m["pledges"][0]["due"] = json!("2025-01-01");
    let e = oretrace_domain::wire::RecordJson::parse(m.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.field(), Some("pledges[0].due"), "{e}");
    let mut m = mou();
    m["value"] = json!({"amount": "500000000"});
    assert!(oretrace_domain::wire::RecordJson::parse(m.to_string().as_bytes()).is_err());
    let mut m = mou();
    m["value"] = json!({"amount": "500000000", "currency": "usd"});
    let e = oretrace_domain::wire::RecordJson::parse(m.to_string().as_bytes()).unwrap_err();
    assert!(e.to_string().contains("write it in capitals: USD"), "{e}");
}

#[test]
fn a_sealed_version_is_revealed_clause_by_clause_and_each_bad_opening_is_refused() {
    let w = world();
    w.ledger
        .submit_blocking(signed(sealed_mou(), &[&w.fwo]))
        .unwrap();
    let a = w.ledger.store().agreement(MOU).unwrap().unwrap();
    assert_eq!(a.disclosure, DisclosureState::Sealed);
    assert!(a.disclosure_overdue(date("2026-09-09")));
    assert!(!a.disclosure_overdue(date("2026-09-08")));

    let bad = |mutate: &dyn Fn(&mut Value), field: &str, needle: &str| {
        let mut r = reveal(&[1]);
        mutate(&mut r);
        let refusal = refused(&w, signed(r, &[&w.ussm]));
        unprocessable(&refusal, field, needle);
    };
    bad(
        &|r| r["clauses"][0]["text"] = json!("Article 2. Investment: about USD 5 billion."),
        "clauses[0]",
        "clause 1 does not open the sealed root",
    );
    bad(
        &|r| r["clauses"][0]["salt"] = json!(hex(&[9; 32])),
        "clauses[0]",
        "clause 1",
    );
    bad(
        &|r| r["clauses"][0]["index"] = json!(2),
        "clauses[0]",
        "clause 2",
    );
    // A proof for another root (another sealing of the same clauses).
    let other: Vec<([u8; 32], &str)> = vec![
        ([7; 32], CLAUSES[0]),
        ([8; 32], CLAUSES[1]),
        ([9; 32], CLAUSES[2]),
    ];
    let other = Sealed::new(&other).unwrap();
    let proof: Vec<String> = other
        .proof(1)
        .unwrap()
        .iter()
        .map(|h| hex(h.as_bytes()))
        .collect();
    bad(
        &|r| r["clauses"][0]["proof"] = json!(proof),
        "clauses[0]",
        "clause 1",
    );

    // Not a party: refused.
    let evil = evil(&w);
    let r = refused(&w, signed(reveal(&[1]), &[&evil]));
    forbidden(&r, "must be signed by one of its parties");

    // ussm, a party, reveals clause 1: partly disclosed.
    w.ledger
        .submit_blocking(signed(reveal(&[1]), &[&w.ussm]))
        .unwrap();
    let store = w.ledger.store();
    let a = store.agreement(MOU).unwrap().unwrap();
    assert_eq!(
        (a.disclosure, a.revealed),
        (DisclosureState::PartlyDisclosed, 1)
    );
    let c = store.clause(MOU, 1, 1).unwrap().unwrap();
    assert_eq!(c.text, CLAUSES[1]);
    assert_eq!(c.by.as_str(), "ussm");
    // Revealing it again adds nothing: refused.
    let mut again = reveal(&[1]);
    again["time"] = json!("2025-12-02T00:00:00Z");
    let r = refused(&w, signed(again, &[&w.fwo]));
    unprocessable(&r, "clauses", "was revealed before");
    // The rest: revealed.
    w.ledger
        .submit_blocking(signed(reveal(&[0, 2]), &[&w.fwo]))
        .unwrap();
    let a = store.agreement(MOU).unwrap().unwrap();
    assert_eq!((a.disclosure, a.revealed), (DisclosureState::Revealed, 3));
    assert!(!a.disclosure_overdue(date("2030-01-01")));
    let clauses = store.clauses(MOU, 1, Some(0), 10).unwrap();
    assert_eq!(clauses.iter().map(|c| c.clause).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn a_public_version_has_nothing_to_reveal() {
    let w = world();
    w.ledger.submit_blocking(signed(mou(), &[&w.fwo])).unwrap();
    let r = refused(&w, signed(reveal(&[0]), &[&w.fwo]));
    unprocessable(&r, "version", "is public: nothing is sealed");
}

fn progress(pledge: &str, delivered: Option<Value>, records: &[u64]) -> Value {
    let mut p = json!({"kind": "progress", "agreement": MOU, "pledge": pledge, "complete": false,
        "date": "2025-10-05", "note": "Progress (illustrative)", "documents": [], "records": records,
        "time": "2025-10-06T00:00:00Z", "figures": "illustrative"});
    if let Some(d) = delivered {
        p["delivered"] = d;
    }
    p
}

#[test]
fn progress_adds_up_per_pledge_and_the_status_is_computed() {
    let w = world();
    w.ledger.submit_blocking(signed(mou(), &[&w.fwo])).unwrap();
    let usd = |amount: &str| json!({"money": {"amount": amount, "currency": "USD"}});
    // Another currency, a mass, no amount, an amount on a milestone, an
    // unknown pledge: each refused naming the rule.
    let r = refused(
        &w,
        signed(
            progress(
                "investment",
                Some(json!({"money": {"amount": "1", "currency": "PKR"}})),
                &[],
            ),
            &[&w.fwo],
        ),
    );
    unprocessable(&r, "delivered", "is counted in USD, not PKR");
    let r = refused(&w, signed(progress("investment", None, &[]), &[&w.fwo]));
    unprocessable(&r, "delivered", "needs the amount delivered, in USD");
    let r = refused(
        &w,
        signed(progress("samples", Some(usd("1")), &[]), &[&w.fwo]),
    );
    unprocessable(&r, "delivered", "is a milestone");
    let r = refused(
        &w,
        signed(progress("refinery", Some(usd("1")), &[]), &[&w.fwo]),
    );
    unprocessable(&r, "pledge", "has no pledge or milestone refinery");
    let evil = evil(&w);
    let r = refused(
        &w,
        signed(progress("investment", Some(usd("1")), &[]), &[&evil]),
    );
    forbidden(&r, "must be signed by one of its parties");
    // Evidence: a record of a lot the agreement covers, not another.
    w.ledger
        .submit_blocking(signed(shipment("s-1"), &[&w.fwo]))
        .unwrap();
    let store = w.ledger.store();
    let shipment_index = store
        .lot_events("urn:oretrace:lot:sb-1")
        .unwrap()
        .last()
        .copied()
        .unwrap();
    let r = refused(
        &w,
        signed(
            progress("investment", Some(usd("10000000")), &[0]),
            &[&w.fwo],
        ),
    );
    unprocessable(
        &r,
        "records[0]",
        "entry 0 (a party record) is not about agreement",
    );
    let r = refused(
        &w,
        signed(
            progress("investment", Some(usd("10000000")), &[99_999]),
            &[&w.fwo],
        ),
    );
    unprocessable(&r, "records[0]", "the log holds no entry 99999");

    w.ledger
        .submit_blocking(signed(
            progress("investment", Some(usd("10000000")), &[shipment_index]),
            &[&w.ussm],
        ))
        .unwrap();
    let mut more = progress("investment", Some(usd("15000000")), &[]);
    more["date"] = json!("2025-11-01");
    more["time"] = json!("2025-11-02T00:00:00Z");
    w.ledger.submit_blocking(signed(more, &[&w.ussm])).unwrap();
    let mut done = progress("samples", None, &[shipment_index]);
    done["complete"] = json!(true);
    w.ledger.submit_blocking(signed(done, &[&w.fwo])).unwrap();

    let a = store.agreement(MOU).unwrap().unwrap();
    let investment = &a.pledges[0];
    assert_eq!(investment.delivered.to_string(), "25000000");
    assert_eq!(investment.status(date("2026-01-01")), PledgeStatus::Open);
    assert_eq!(
        investment.status(date("2031-01-01")),
        PledgeStatus::PartlyMet
    );
    assert!(investment.overdue(date("2031-01-01")));
    assert_eq!(a.pledges[1].status(date("2031-01-01")), PledgeStatus::Met);
    assert_eq!(store.progress(MOU, None, 10).unwrap().len(), 3);
    // Overdue from the investment's due date, and listed so.
    assert_eq!(a.overdue_from(), Some(date("2030-12-31")));
    let select = |on: &str| Select {
        overdue_on: Some(date(on)),
        limit: 10,
        ..Select::default()
    };
    assert!(store.agreements(&select("2030-12-31")).unwrap().is_empty());
    assert_eq!(store.agreements(&select("2031-01-01")).unwrap().len(), 1);
}

#[test]
fn a_pledge_with_nothing_delivered_after_its_due_date_is_not_met() {
    let w = world();
    w.ledger.submit_blocking(signed(mou(), &[&w.fwo])).unwrap();
    let a = w.ledger.store().agreement(MOU).unwrap().unwrap();
    assert_eq!(a.pledges[1].status(date("2025-10-31")), PledgeStatus::Open);
    assert_eq!(
        a.pledges[1].status(date("2025-11-01")),
        PledgeStatus::NotMet
    );
    assert!(a.overdue(date("2025-11-01")));
}

fn report() -> Value {
    json!({"kind": "report", "id": "ussm:pasni-port-offer", "version": 1,
        "claim": "The United States may be offered access to Pasni port", "topic": "port-offer",
        "countries": ["PK", "US"], "commodities": [],
        "sources": [{"title": "Report on Pasni port", "publisher": "Dawn", "date": "2025-10-06",
                     "url": "https://www.dawn.com/news/example"}],
        "status": "unconfirmed", "time": "2025-10-06T12:00:00Z", "figures": "reported"})
}

#[test]
fn reports_are_versioned_by_their_author_and_confirmed_only_by_an_agreement() {
    let w = world();
    w.ledger
        .submit_blocking(signed(report(), &[&w.ussm]))
        .unwrap();
    let evil = evil(&w);
    let mut v2 = report();
    v2["version"] = json!(2);
    v2["status"] = json!("confirmed");
    v2["confirmed_by"] = json!("fwo:port-access");
    v2["time"] = json!("2025-11-01T00:00:00Z");
    let r = refused(&w, signed(v2.clone(), &[&evil]));
    forbidden(&r, "only ussm writes it");
    let r = refused(&w, signed(v2.clone(), &[&w.ussm]));
    unprocessable(
        &r,
        "confirmed_by",
        "agreement fwo:port-access does not exist",
    );
    // A later version recorded before the one it amends: refused.
    let mut back = v2.clone();
    back["status"] = json!("unconfirmed");
    back.as_object_mut().unwrap().remove("confirmed_by");
    back["time"] = json!("2025-10-06T11:00:00Z");
    let r = refused(&w, signed(back, &[&w.ussm]));
    unprocessable(&r, "time", "before the version it amends was recorded");
    v2["status"] = json!("refuted");
    v2.as_object_mut().unwrap().remove("confirmed_by");
    v2["refuted_by"] = json!({"title": "Denial", "publisher": "Ministry", "date": "2025-10-30",
        "url": "https://example.gov.pk/denial"});
    w.ledger.submit_blocking(signed(v2, &[&w.ussm])).unwrap();
    let r = w
        .ledger
        .store()
        .report("ussm:pasni-port-offer")
        .unwrap()
        .unwrap();
    assert_eq!(r.versions().len(), 2);
    let listed = w
        .ledger
        .store()
        .reports(&Select {
            terms: vec!["status:refuted".into(), "country:US".into()],
            limit: 10,
            ..Select::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
}

#[test]
fn a_resource_estimate_names_a_registered_deposit_and_its_contained_metal_adds_up() {
    let w = world();
    let estimate = json!({"kind": "resource", "id": "fwo:chitral-sb", "version": 1, "site": "fwo-chitral",
        "code": "none", "class": "inferred", "effective": "2025-09-01",
        "tonnes": "100000", "grades": [{"analyte": "Sb", "value": "2.5", "unit": "%"}],
        "contained": [{"element": "Sb", "tonnes": "2500"}], "competent": "FWO geology (illustrative)",
        "documents": [], "time": "2025-09-05T00:00:00Z", "figures": "illustrative"});
    let mut wrong = estimate.clone();
    wrong["contained"][0]["tonnes"] = json!("25000");
    let e = oretrace_domain::wire::RecordJson::parse(wrong.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.field(), Some("contained[0].tonnes"), "{e}");
    let mut nowhere = estimate.clone();
    nowhere["site"] = json!("atlantis");
    let r = refused(&w, signed(nowhere, &[&w.fwo]));
    unprocessable(&r, "site", "site atlantis does not exist");
    w.ledger
        .submit_blocking(signed(estimate, &[&w.fwo]))
        .unwrap();
    let r = w
        .ledger
        .store()
        .resource("fwo:chitral-sb")
        .unwrap()
        .unwrap();
    assert_eq!(r.country().as_str(), "PK");
    assert!(r.terms().contains(&"element:Sb".to_owned()));
}
