//! Compliance rule packs: the file parser and the evaluator.

use std::collections::{BTreeMap, BTreeSet};

use oretrace_domain::chemistry::Element;
use oretrace_domain::record::{PartyKind, SiteKind};
use oretrace_domain::values::{Country, PartyId, SiteId, Timestamp};
use oretrace_provenance::attribute::Role;
use oretrace_provenance::rules::{
    CustodyFacts, ElementFacts, Facts, OriginFacts, OwnerLink, PartyFacts, RulePack, SiteFacts,
    evaluate,
};
use rust_decimal::Decimal;

fn facts() -> Option<Facts> {
    let party = |kind, country: &str, owners: &[(&str, u32, bool)], index| {
        Some(PartyFacts {
            kind,
            country: Country::parse(country).ok()?,
            owners: owners
                .iter()
                .map(|(o, share, controls)| {
                    Some(OwnerLink {
                        owner: PartyId::parse(o).ok()?,
                        share: Decimal::from(*share),
                        controls: *controls,
                        unconfirmed: false,
                    })
                })
                .collect::<Option<_>>()?,
            index,
            owners_changed: None,
        })
    };
    let mut parties = BTreeMap::new();
    parties.insert(
        PartyId::parse("gov-cn").ok()?,
        party(PartyKind::Government, "CN", &[], 1)?,
    );
    parties.insert(
        PartyId::parse("port-co").ok()?,
        party(
            PartyKind::Company,
            "PK",
            &[("holding", 40, false), ("gov-cn", 5, false)],
            2,
        )?,
    );
    parties.insert(
        PartyId::parse("holding").ok()?,
        party(
            PartyKind::Company,
            "HK",
            &[("port-co", 10, true), ("gov-cn", 30, false)],
            3,
        )?,
    );
    parties.insert(
        PartyId::parse("miner").ok()?,
        party(PartyKind::StateControlledCompany, "RU", &[], 4)?,
    );
    let site = |id: &str, kind, country: &str, operator: &str, roles: Vec<Role>, index| {
        Some(SiteFacts {
            id: SiteId::parse(id).ok()?,
            kind,
            country: Country::parse(country).ok()?,
            operator: PartyId::parse(operator).ok()?,
            lat: Decimal::from(25),
            lon: Decimal::from(62),
            roles,
            index,
            first: Timestamp::parse("2025-09-10T00:00:00Z").ok(),
            recorded: Timestamp::parse("2025-09-01T00:00:00Z").ok(),
        })
    };
    Some(Facts {
        elements: ["Nd", "Cu", "Sb"]
            .iter()
            .map(|e| {
                Some(ElementFacts {
                    element: Element::parse(e).ok()?,
                    by_country: vec![
                        (Country::parse("PK").ok()?, Decimal::new(6, 1)),
                        (Country::parse("CN").ok()?, Decimal::new(3, 1)),
                    ],
                    unknown: Decimal::new(1, 1),
                })
            })
            .collect::<Option<_>>()?,
        origins: vec![OriginFacts {
            lot: "urn:oretrace:lot:miner:x".into(),
            site: SiteId::parse("mine").ok()?,
            index: 10,
        }],
        sites: vec![
            site(
                "mine",
                SiteKind::Mine,
                "RU",
                "miner",
                vec![Role::Origin, Role::Departure],
                11,
            )?,
            site(
                "port",
                SiteKind::Port,
                "PK",
                "port-co",
                vec![Role::Transit],
                12,
            )?,
        ],
        custody: vec![CustodyFacts {
            party: PartyId::parse("miner").ok()?,
            lot: "urn:oretrace:lot:miner:x".into(),
            index: 10,
            from: Timestamp::parse("2025-09-10T00:00:00Z").ok()?,
        }],
        parties,
        share_evidence: vec![10],
        route_evidence: vec![12],
    })
}

/// `RulePack::parse` on any text, then every rule it accepts evaluated on
/// a fixed lot (covered origins, an unknown share, an ownership cycle, a
/// state-controlled company naming no owner). Asserts: parsing is
/// deterministic and the digest is of the bytes; a verdict has one entry
/// per rule; every log index a verdict cites is a record of the facts.
pub fn pack(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(pack) = RulePack::parse("fuzz.json", text) else {
        return;
    };
    assert_eq!(
        RulePack::parse("again.json", text).ok().as_ref(),
        Some(&pack)
    );
    let Some(facts) = facts() else {
        return;
    };
    let known: BTreeSet<u64> = [1, 2, 3, 4, 10, 11, 12].into_iter().collect();
    let verdict = evaluate(&pack, &facts);
    assert_eq!(verdict.rules.len(), pack.rules.len());
    for rule in &verdict.rules {
        for index in rule
            .evidence
            .iter()
            .chain(rule.findings.iter().flat_map(|f| &f.evidence))
        {
            assert!(known.contains(index), "{} cites {index}", rule.rule.id);
        }
    }
}
