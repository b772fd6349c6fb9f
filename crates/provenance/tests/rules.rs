//! Rule packs: the shipped packs parse; a pack that does not is refused
//! with its file, line and rule; each shipped pack's positive and
//! negative cases on facts written by hand (the demo's rare-earth
//! concentrate, routed through Karachi and through Gwadar).

#![expect(
    clippy::unwrap_used,
    clippy::too_many_arguments,
    reason = "test code: the fact builders outside #[test] functions fail by panicking too, and name every field"
)]

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;

use oretrace_domain::chemistry::Element;
use oretrace_domain::record::{PartyKind, SiteKind};
use oretrace_domain::values::{Country, PartyId, SiteId};
use oretrace_provenance::attribute::Role;
use oretrace_provenance::rules::{
    CustodyFacts, ElementFacts, Facts, OriginFacts, Outcome, OwnerLink, PartyFacts, RulePack,
    SiteFacts, built_in, evaluate,
};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn c(s: &str) -> Country {
    Country::parse(s).unwrap()
}

fn pack(id: &str) -> RulePack {
    built_in()
        .unwrap()
        .into_iter()
        .find(|p| p.id == id)
        .unwrap()
}

fn party(kind: PartyKind, country: &str, owners: &[(&str, &str, bool)], index: u64) -> PartyFacts {
    PartyFacts {
        kind,
        country: c(country),
        owners: owners
            .iter()
            .map(|(o, share, controls)| OwnerLink {
                owner: PartyId::parse(o).unwrap(),
                share: d(share),
                controls: *controls,
                unconfirmed: false,
            })
            .collect(),
        index,
    }
}

fn site(
    id: &str,
    kind: SiteKind,
    country: &str,
    operator: &str,
    lat: &str,
    lon: &str,
    roles: &[Role],
    index: u64,
) -> SiteFacts {
    SiteFacts {
        id: SiteId::parse(id).unwrap(),
        kind,
        country: c(country),
        operator: PartyId::parse(operator).unwrap(),
        lat: d(lat),
        lon: d(lon),
        roles: roles.to_vec(),
        index,
    }
}

/// The demo's rare-earth concentrate: Nd and Pr all from Loe Shilman
/// (PK), prepared at FWO's plant, exported via `port` to USSM.
fn ree_concentrate(port: &str, operator: &str) -> Facts {
    let mut parties = BTreeMap::new();
    parties.insert(
        PartyId::parse("gov-pk").unwrap(),
        party(PartyKind::Government, "PK", &[], 1),
    );
    parties.insert(
        PartyId::parse("gov-cn").unwrap(),
        party(PartyKind::Government, "CN", &[], 2),
    );
    parties.insert(
        PartyId::parse("fwo").unwrap(),
        party(PartyKind::StateBody, "PK", &[("gov-pk", "100", true)], 3),
    );
    parties.insert(
        PartyId::parse("ussm").unwrap(),
        party(PartyKind::Company, "US", &[], 4),
    );
    parties.insert(
        PartyId::parse("cophc").unwrap(),
        party(
            PartyKind::StateControlledCompany,
            "CN",
            &[("gov-cn", "100", true)],
            7,
        ),
    );
    Facts {
        elements: ["Nd", "Pr"]
            .iter()
            .map(|e| ElementFacts {
                element: Element::parse(e).unwrap(),
                by_country: vec![(c("PK"), Decimal::ONE)],
                unknown: Decimal::ZERO,
            })
            .collect(),
        origins: vec![OriginFacts {
            lot: "urn:oretrace:lot:fwo:ree-sample-0001".into(),
            site: SiteId::parse("fwo-loe-shilman").unwrap(),
            index: 20,
        }],
        sites: vec![
            site(
                "fwo-loe-shilman",
                SiteKind::ExplorationArea,
                "PK",
                "fwo",
                "34.17",
                "71.1",
                &[Role::Origin, Role::Departure],
                14,
            ),
            site(
                "fwo-prep-plant",
                SiteKind::Concentrator,
                "PK",
                "fwo",
                "24.9",
                "67.1",
                &[Role::Arrival, Role::Processing, Role::Departure],
                16,
            ),
            site(
                port,
                SiteKind::Port,
                "PK",
                operator,
                "25.12639",
                "62.3225",
                &[Role::Transit],
                12,
            ),
            site(
                "ussm-madison",
                SiteKind::ReceivingPlant,
                "US",
                "ussm",
                "37.56",
                "-90.29",
                &[Role::Arrival],
                13,
            ),
        ],
        custody: vec![
            CustodyFacts {
                party: PartyId::parse("fwo").unwrap(),
                lot: "urn:oretrace:lot:fwo:ree-sample-0001".into(),
                index: 20,
            },
            CustodyFacts {
                party: PartyId::parse("fwo").unwrap(),
                lot: "urn:oretrace:lot:fwo:ree-concentrate-0001".into(),
                index: 33,
            },
            CustodyFacts {
                party: PartyId::parse("ussm").unwrap(),
                lot: "urn:oretrace:lot:fwo:ree-concentrate-0001".into(),
                index: 40,
            },
        ],
        parties,
    }
}

fn rule_outcome(pack_id: &str, rule: &str, facts: &Facts) -> (Outcome, String, Vec<u64>) {
    let p = pack(pack_id);
    let v = evaluate(&p, facts);
    let r = v.rules.iter().find(|r| r.rule.id == rule).unwrap();
    (r.outcome, r.detail.clone(), r.evidence.clone())
}

#[test]
fn the_shipped_packs_parse_and_name_their_version_by_digest() {
    let packs = built_in().unwrap();
    let ids: Vec<&str> = packs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "dfars-252.225-7052",
            "feoc-control",
            "oecd-annex-ii",
            "eu-crma"
        ]
    );
    for p in &packs {
        assert_eq!(p.sha256_hex().len(), 64);
        assert!(!p.rules.is_empty());
        // One changed byte is another version.
        let other = RulePack::parse("x.json", &p.text.replacen("2026", "2027", 1)).unwrap();
        assert_ne!(other.sha256, p.sha256);
    }
}

#[test]
fn dfars_passes_a_pakistani_concentrate_and_fails_chinese_material() {
    let f = ree_concentrate("karachi-port", "gov-pk");
    let dfars = pack("dfars-252.225-7052");
    let v = evaluate(&dfars, &f);
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    // The pass rests on the origin lot and its site's record.
    let (_, _, ev) = rule_outcome("dfars-252.225-7052", "no-mining-in-covered-countries", &f);
    assert_eq!(ev, [14, 20]);

    let mut cn = f.clone();
    cn.elements[0].by_country = vec![(c("PK"), d("0.9")), (c("CN"), d("0.1"))];
    let (o, detail, _) = rule_outcome("dfars-252.225-7052", "no-mining-in-covered-countries", &cn);
    assert_eq!(o, Outcome::Fail);
    assert!(
        detail.contains("10 % of the Nd comes from KP, CN, RU, IR"),
        "{detail}"
    );

    let mut unknown = f.clone();
    unknown.elements[1].by_country = vec![(c("PK"), d("0.8"))];
    unknown.elements[1].unknown = d("0.2");
    let (o, detail, _) = rule_outcome(
        "dfars-252.225-7052",
        "no-mining-in-covered-countries",
        &unknown,
    );
    assert_eq!(o, Outcome::Unproven, "{detail}");

    let mut refined_in_cn = f.clone();
    refined_in_cn.sites[1].country = c("CN");
    let (o, detail, ev) = rule_outcome(
        "dfars-252.225-7052",
        "no-processing-in-covered-countries",
        &refined_in_cn,
    );
    assert_eq!(o, Outcome::Fail);
    assert!(
        detail.contains("fwo-prep-plant (processing) is in CN"),
        "{detail}"
    );
    assert!(ev.contains(&16));
}

#[test]
fn dfars_does_not_apply_to_antimony() {
    let mut f = ree_concentrate("karachi-port", "gov-pk");
    f.elements = vec![ElementFacts {
        element: Element::parse("Sb").unwrap(),
        by_country: vec![(c("CN"), Decimal::ONE)],
        unknown: Decimal::ZERO,
    }];
    let dfars = pack("dfars-252.225-7052");
    let v = evaluate(&dfars, &f);
    assert_eq!(v.outcome, Outcome::NotApplicable);
}

#[test]
fn feoc_passes_the_karachi_route_and_fails_the_gwadar_route() {
    let karachi = ree_concentrate("karachi-port", "gov-pk");
    assert_eq!(
        evaluate(&pack("feoc-control"), &karachi).outcome,
        Outcome::Pass
    );

    let gwadar = ree_concentrate("gwadar-port", "cophc");
    let (o, detail, ev) = rule_outcome(
        "feoc-control",
        "no-site-operated-by-a-covered-government",
        &gwadar,
    );
    assert_eq!(o, Outcome::Fail);
    assert!(
        detail.contains("cophc (operator of gwadar-port (transit)) is 100 % held by gov-cn, the government of CN"),
        "{detail}"
    );
    // The site record, COPHC's record and the government's record.
    for i in [12, 7, 2] {
        assert!(ev.contains(&i), "{ev:?}");
    }
    // Custodians are FWO and USSM either way.
    let (o, _, _) = rule_outcome(
        "feoc-control",
        "no-custodian-controlled-by-a-covered-government",
        &gwadar,
    );
    assert_eq!(o, Outcome::Pass);
}

#[test]
fn feoc_follows_ownership_through_chains() {
    let mut f = ree_concentrate("karachi-port", "holding-b");
    let gov = PartyId::parse("gov-cn").unwrap();
    let _ = gov;
    // A port operator 40 % held by a company that the government holds
    // 50 % of (so controls): the company's 40 % counts whole.
    f.parties.insert(
        PartyId::parse("holding-a").unwrap(),
        party(PartyKind::Company, "SG", &[("gov-cn", "50", false)], 50),
    );
    f.parties.insert(
        PartyId::parse("holding-b").unwrap(),
        party(PartyKind::Company, "PK", &[("holding-a", "40", false)], 51),
    );
    let (o, detail, ev) = rule_outcome(
        "feoc-control",
        "no-site-operated-by-a-covered-government",
        &f,
    );
    assert_eq!(o, Outcome::Fail, "{detail}");
    assert!(detail.contains("holding-b"), "{detail}");
    assert!(ev.contains(&50) && ev.contains(&51), "{ev:?}");

    // 20 % of the holding: 40 % × 20 % = 8 %, under 25 %.
    f.parties.insert(
        PartyId::parse("holding-a").unwrap(),
        party(PartyKind::Company, "SG", &[("gov-cn", "20", false)], 50),
    );
    let (o, detail, _) = rule_outcome(
        "feoc-control",
        "no-site-operated-by-a-covered-government",
        &f,
    );
    assert_eq!(o, Outcome::Pass, "{detail}");

    // 15 % directly and 50 % × 20 % through a holding add up to 25 %.
    f.parties.insert(
        PartyId::parse("holding-a").unwrap(),
        party(PartyKind::Company, "SG", &[], 50),
    );
    f.parties.insert(
        PartyId::parse("holding-b").unwrap(),
        party(
            PartyKind::Company,
            "PK",
            &[("gov-cn", "15", false), ("holding-c", "50", false)],
            51,
        ),
    );
    f.parties.insert(
        PartyId::parse("holding-c").unwrap(),
        party(PartyKind::Company, "HK", &[("gov-cn", "20", false)], 52),
    );
    let (o, detail, _) = rule_outcome(
        "feoc-control",
        "no-site-operated-by-a-covered-government",
        &f,
    );
    assert_eq!(o, Outcome::Fail, "{detail}");
    assert!(detail.contains("25 % held by gov-cn"), "{detail}");

    // A control link passes control whatever the share.
    f.parties.insert(
        PartyId::parse("holding-b").unwrap(),
        party(PartyKind::Company, "PK", &[("gov-cn", "1", true)], 51),
    );
    let (o, detail, _) = rule_outcome(
        "feoc-control",
        "no-site-operated-by-a-covered-government",
        &f,
    );
    assert_eq!(o, Outcome::Fail, "{detail}");
    assert!(detail.contains("controlled by gov-cn"), "{detail}");
}

#[test]
fn feoc_cuts_ownership_cycles_and_says_what_it_cannot_follow() {
    let mut f = ree_concentrate("karachi-port", "holding-b");
    f.parties.insert(
        PartyId::parse("holding-a").unwrap(),
        party(PartyKind::Company, "SG", &[("holding-b", "50", false)], 50),
    );
    f.parties.insert(
        PartyId::parse("holding-b").unwrap(),
        party(PartyKind::Company, "PK", &[("holding-a", "50", false)], 51),
    );
    let (o, detail, _) = rule_outcome(
        "feoc-control",
        "no-site-operated-by-a-covered-government",
        &f,
    );
    assert_eq!(o, Outcome::Pass, "{detail}");

    // An owner the registry does not hold: unproven.
    f.parties.insert(
        PartyId::parse("holding-b").unwrap(),
        party(
            PartyKind::Company,
            "PK",
            &[("nobody-knows", "60", false)],
            51,
        ),
    );
    let (o, detail, _) = rule_outcome(
        "feoc-control",
        "no-site-operated-by-a-covered-government",
        &f,
    );
    assert_eq!(o, Outcome::Unproven, "{detail}");

    // A state-controlled company of a covered country naming no owner.
    f.parties.insert(
        PartyId::parse("holding-b").unwrap(),
        party(PartyKind::StateControlledCompany, "RU", &[], 51),
    );
    let (o, detail, _) = rule_outcome(
        "feoc-control",
        "no-site-operated-by-a-covered-government",
        &f,
    );
    assert_eq!(o, Outcome::Unproven, "{detail}");
    assert!(detail.contains("names no owner"), "{detail}");

    // A chain longer than the bound: unproven, never a stack overflow.
    let mut prev = "gov-cn".to_owned();
    for i in 0..40 {
        let id = format!("layer-{i}");
        f.parties.insert(
            PartyId::parse(&id).unwrap(),
            party(PartyKind::Company, "PK", &[(&prev, "100", true)], 100 + i),
        );
        prev = id;
    }
    f.parties.insert(
        PartyId::parse("holding-b").unwrap(),
        party(PartyKind::Company, "PK", &[(&prev, "100", true)], 51),
    );
    let (o, detail, _) = rule_outcome(
        "feoc-control",
        "no-site-operated-by-a-covered-government",
        &f,
    );
    assert_eq!(o, Outcome::Unproven, "{detail}");
}

#[test]
fn oecd_areas_are_data_and_origins_must_be_mines() {
    let f = ree_concentrate("karachi-port", "gov-pk");
    let shipped = pack("oecd-annex-ii");
    let v = evaluate(&shipped, &f);
    assert_eq!(v.outcome, Outcome::Pass);
    assert!(
        v.rules[0].detail.contains("lists no area yet"),
        "{}",
        v.rules[0].detail
    );

    // A user's list with a box around the Loe Shilman area (illustrative).
    let text = shipped.text.replace(
        "\"areas\": []",
        "\"areas\": [{\"name\": \"Example area (illustrative)\", \"boxes\": [{\"south\": \"34\", \"west\": \"71\", \"north\": \"35\", \"east\": \"72\"}]}]",
    );
    let mine = RulePack::parse("mine.json", &text).unwrap();
    let v = evaluate(&mine, &f);
    assert_eq!(v.rules[0].outcome, Outcome::Fail);
    assert!(
        v.rules[0].detail.contains(
            "fwo-loe-shilman (origin, departure) lies in the area \"Example area (illustrative)\""
        ),
        "{}",
        v.rules[0].detail
    );
    // By country too.
    let text = shipped.text.replace(
        "\"areas\": []",
        "\"areas\": [{\"name\": \"all of the US\", \"countries\": [\"US\"]}]",
    );
    let us = RulePack::parse("us.json", &text).unwrap();
    let v = evaluate(&us, &f);
    // The US site is only an arrival, a role the rule does not look at.
    assert_eq!(v.rules[0].outcome, Outcome::Pass);

    let mut at_port = f.clone();
    at_port.sites[0].kind = SiteKind::Port;
    let v = evaluate(&shipped, &at_port);
    assert_eq!(v.rules[1].outcome, Outcome::Fail);
    assert_eq!(v.rules[1].evidence, [14, 20]);
}

#[test]
fn eu_crma_flags_a_single_third_country_above_65_percent() {
    let f = ree_concentrate("karachi-port", "gov-pk");
    let (o, detail, _) = rule_outcome("eu-crma", "single-third-country-share", &f);
    assert_eq!(o, Outcome::Fail);
    assert!(
        detail.contains("100 % of the Nd comes from one country, PK"),
        "{detail}"
    );

    let mut mixed = f.clone();
    for e in &mut mixed.elements {
        e.by_country = vec![(c("PK"), d("0.6")), (c("US"), d("0.4"))];
    }
    assert_eq!(
        rule_outcome("eu-crma", "single-third-country-share", &mixed).0,
        Outcome::Pass
    );

    let mut eu = f.clone();
    for e in &mut eu.elements {
        e.by_country = vec![(c("DE"), Decimal::ONE)];
    }
    assert_eq!(
        rule_outcome("eu-crma", "single-third-country-share", &eu).0,
        Outcome::Pass
    );

    let mut unknown = mixed.clone();
    unknown.elements[0].by_country = vec![(c("PK"), d("0.5"))];
    unknown.elements[0].unknown = d("0.5");
    assert_eq!(
        rule_outcome("eu-crma", "single-third-country-share", &unknown).0,
        Outcome::Unproven
    );
}

fn refused(text: &str) -> String {
    RulePack::parse("rules/bad.json", text)
        .unwrap_err()
        .to_string()
}

const GOOD: &str = r#"{
  "pack": "t",
  "title": "T",
  "version": "1",
  "source": "S",
  "rules": [
    {
      "id": "r1",
      "says": "S",
      "effect": "prohibited",
      "test": "origin-countries",
      "countries": ["CN"],
      "max_share": "0"
    }
  ]
}"#;

#[test]
fn a_pack_that_does_not_parse_is_refused_naming_file_line_and_rule() {
    assert!(RulePack::parse("rules/good.json", GOOD).is_ok());
    // Broken JSON: file, line and column.
    let e = refused(&GOOD.replace("\"max_share\": \"0\"", "\"max_share\": \"0\",,"));
    assert!(e.starts_with("rules/bad.json:13:"), "{e}");
    // A share over 1: the line of the rule's id, and the id.
    let e = refused(&GOOD.replace("\"max_share\": \"0\"", "\"max_share\": \"1.5\""));
    assert!(e.starts_with("rules/bad.json:8:"), "{e}");
    assert!(
        e.contains("rule \"r1\": max_share is a fraction from 0 to 1, not 1.5"),
        "{e}"
    );
    for (from, to, says) in [
        (
            "\"test\": \"origin-countries\"",
            "\"test\": \"origin-country\"",
            "is not a test",
        ),
        ("[\"CN\"]", "[\"China\"]", "countries[0]"),
        (
            "\"effect\": \"prohibited\"",
            "\"effect\": \"forbidden\"",
            "unknown variant",
        ),
        (
            "\"says\": \"S\"",
            "\"says\": \"S\", \"treshold\": 1",
            "unknown field `treshold`",
        ),
        (
            "\"max_share\": \"0\"",
            "\"max_share\": \"0\", \"roles\": [\"origin\"]",
            "does not read roles",
        ),
        ("\"max_share\": \"0\"", "\"max_share\": 0", "invalid type"),
        (
            "\"max_share\": \"0\"",
            "\"max_share\": \"1e3\"",
            "decimal written as text",
        ),
        (
            "\"countries\": [\"CN\"],",
            "\"countries\": [\"CN\"], \"elements\": [\"Xx\"],",
            "elements[0]",
        ),
        (
            "\"countries\": [\"CN\"],",
            "\"countries\": [],",
            "at least one",
        ),
    ] {
        let text = GOOD.replace(from, to);
        assert_ne!(text, GOOD, "{from}");
        let e = refused(&text);
        assert!(e.starts_with("rules/bad.json:"), "{e}");
        assert!(e.contains(says), "{from} → {e}");
    }
    // Duplicate rule ids, bad boxes, a file too large.
    let two = GOOD.replace("  ]\n}", "  ,{\"id\": \"r1\", \"says\": \"S\", \"effect\": \"red-flag\", \"test\": \"origin-site-kinds\", \"kinds\": [\"mine\"]}]\n}");
    assert!(
        refused(&two).contains("rule \"r1\" is given twice"),
        "{}",
        refused(&two)
    );
    let boxed = GOOD.replace(
        "\"test\": \"origin-countries\",\n      \"countries\": [\"CN\"],\n      \"max_share\": \"0\"",
        "\"test\": \"areas\", \"roles\": [\"transit\"], \"areas\": [{\"name\": \"A\", \"boxes\": [{\"south\": \"10\", \"west\": \"0\", \"north\": \"5\", \"east\": \"1\"}]}]",
    );
    assert!(
        refused(&boxed).contains("areas[0].boxes[0]: south must not be north"),
        "{}",
        refused(&boxed)
    );
    let big = format!("{}{}", GOOD, " ".repeat(1 << 20));
    assert!(refused(&big).contains("at most"));
}
