//! Builders for lot graphs in tests: short names for ids, decimals and
//! times, and a graph builder that fills in what a test does not care
//! about.

#![allow(dead_code, reason = "each suite uses part of the test support")]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a bad literal stops the test with its message"
)]

use std::str::FromStr as _;

use oretrace_domain::chemistry::Element;
use oretrace_domain::record::SiteKind;
use oretrace_domain::values::{
    Country, LotId, Mass, MassUnit, PartyId, Percent, SiteId, Timestamp, Token,
};
use oretrace_provenance::graph::{Arrival, Grade, Lot, LotGraph, Movement, Site, Transformation};
use rust_decimal::Decimal;

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn pct(s: &str) -> Percent {
    Percent::new(d(s)).unwrap()
}

pub fn kg(s: &str) -> Mass {
    Mass::new(d(s), MassUnit::Kilogram).unwrap()
}

pub fn lot(name: &str) -> LotId {
    LotId::parse(&format!("urn:oretrace:lot:{name}")).unwrap()
}

pub fn site_id(name: &str) -> SiteId {
    SiteId::parse(name).unwrap()
}

pub fn party(name: &str) -> PartyId {
    PartyId::parse(name).unwrap()
}

pub fn token(name: &str) -> Token {
    Token::parse(name).unwrap()
}

pub fn el(symbol: &str) -> Element {
    Element::parse(symbol).unwrap()
}

pub fn country(code: &str) -> Country {
    Country::parse(code).unwrap()
}

/// Day `n` of September 2025, at noon.
pub fn day(n: i64) -> Timestamp {
    Timestamp::from_unix(1_756_684_800 + (n - 1) * 86_400 + 43_200)
}

/// `element` at `percent` on the dry basis, ± `uncertainty` points if given.
pub fn grade(element: &str, percent: &str, uncertainty: Option<&str>) -> Grade {
    Grade::dry(el(element), pct(percent), uncertainty.map(pct), 0)
}

/// |a − b| ≤ 10^-20: equal up to the decimals' rounding.
pub fn close(a: Decimal, b: Decimal) -> bool {
    (a - b).abs() <= Decimal::new(1, 20)
}

pub fn add_site(g: &mut LotGraph, id: &str, kind: SiteKind, code: &str) {
    g.add_site(Site {
        id: site_id(id),
        kind,
        country: country(code),
        index: 0,
    })
    .unwrap();
}

/// A lot commissioned at `site` by `custodian` on `created`.
pub fn origin(
    name: &str,
    site: &str,
    custodian: &str,
    created: Timestamp,
    wet_kg: &str,
    moisture: &str,
    grades: Vec<Grade>,
) -> Lot {
    Lot {
        id: lot(name),
        site: site_id(site),
        custodian: party(custodian),
        created,
        produced_by: None,
        wet_mass: kg(wet_kg),
        moisture: pct(moisture),
        grades,
        movements: Vec::new(),
        index: 0,
    }
}

/// A lot made by transformation `by` at `site`.
#[expect(clippy::too_many_arguments, reason = "a lot's facts, in order")]
pub fn output(
    name: &str,
    by: &str,
    site: &str,
    custodian: &str,
    created: Timestamp,
    wet_kg: &str,
    moisture: &str,
    grades: Vec<Grade>,
) -> Lot {
    Lot {
        produced_by: Some(token(by)),
        ..origin(name, site, custodian, created, wet_kg, moisture, grades)
    }
}

/// A received shipment of one lot.
pub fn moved(
    shipment: &str,
    from: &str,
    via: &[&str],
    to: &str,
    (shipper, receiver): (&str, &str),
    (shipped, received): (Timestamp, Timestamp),
    received_kg: &str,
) -> Movement {
    Movement {
        shipment: token(shipment),
        from: site_id(from),
        via: via.iter().map(|v| site_id(v)).collect(),
        to: site_id(to),
        shipper: party(shipper),
        receiver: party(receiver),
        shipped,
        arrival: Some(Arrival {
            time: received,
            wet_mass: kg(received_kg),
            index: 0,
        }),
        index: 0,
    }
}

pub fn transformation(
    id: &str,
    site: &str,
    time: Timestamp,
    inputs: &[(&str, &str)],
    outputs: &[&str],
) -> Transformation {
    Transformation {
        id: token(id),
        site: site_id(site),
        time,
        inputs: inputs.iter().map(|(l, m)| (lot(l), kg(m))).collect(),
        outputs: outputs.iter().map(|o| lot(o)).collect(),
        index: 0,
    }
}
