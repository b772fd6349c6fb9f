//! Provenance and a full mass-balance audit on a synthetic national
//! registry of at least 10 million events, generated reproducibly from a
//! seed, each figure against a bound measured in the same run.
//!
//! The ledger: thousands of mine and exploration sites in 40 countries,
//! each of one of four commodity families (copper: Cu Co Ni Ag; rare
//! earths: Nd Pr Dy Tb; antimony: Sb Zn Pb Au; lithium: Li Sn Ta Nb), lots
//! commissioned at them and assayed for the family's four elements,
//! shipped to concentrators; then ten stages of transformations, each
//! taking the previous stage's outputs (concentrate, pack consignments,
//! blend at a hub with up to 256 inputs, smelt, refine, separate, make
//! metal, alloy, make components, pack), every input shipped to the
//! transformation's site (through two ports when it crosses a border) and
//! received there, every output assayed. So the lots of the last stage sit
//! at the end of chains ten transformations deep.
//!
//! Events are counted as the registry logs them: each lot commissioned,
//! each assay (one per element per lot), each shipment (one lot each),
//! each receipt and each transformation is one event with its own log
//! index.
//!
//! Benchmarks, interleaved with their bounds:
//!
//! * `attribute` of the last-stage lot whose upstream graph is nearest
//!   10,000 lots, p50 and p99; bound: a breadth-first walk over the same
//!   edges (`HashMap` from lot id to input ids, visited set);
//! * `mass_balance` of every transformation (`Tolerance::relative(2 %)`),
//!   as events of the whole ledger per second; bound: one pass over the
//!   same transformations summing f64 dry mass × grade of inputs and
//!   outputs per element, lots found by id in a `HashMap`.
//!
//! Full form: `cargo bench -p oretrace-provenance --bench ledger`
//! (`ORETRACE_LEDGER_SEED` sets the seed, `ORETRACE_LEDGER_ORIGINS` the
//! number of commissioned lots). Quick form (`-- --test`,
//! `cargo test -p oretrace-provenance --benches`): 3,000 commissioned lots,
//! with the checks (the event count from the generator equals the count of
//! the graph's items; shares of every element of the chosen lot sum to 1;
//! the audit visits every transformation and every balance holds).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::hint::black_box;
use std::time::Instant;

use oretrace_benchkit::{interleaved, plain_bench, quick_mode, time};
use oretrace_domain::chemistry::Element;
use oretrace_domain::record::SiteKind;
use oretrace_domain::values::{
    Country, LotId, Mass, MassUnit, PartyId, Percent, SiteId, Timestamp, Token,
};
use oretrace_provenance::graph::{
    Arrival, Grade, Limits, Lot, LotGraph, MAX_INPUTS, Movement, Site, Transformation,
};
use oretrace_provenance::{Tolerance, Verdict, attribute, mass_balance};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

const DEFAULT_SEED: u64 = 20_261_204;
const COUNTRIES: [&str; 40] = [
    "PK", "US", "CN", "CL", "CD", "AU", "ZA", "PE", "ID", "BR", "CA", "MX", "AR", "BO", "ZM", "ZW",
    "NA", "BW", "MG", "MZ", "TZ", "RW", "UG", "NG", "GH", "ML", "GN", "KZ", "UZ", "MN", "RU", "IN",
    "MM", "LA", "VN", "PH", "PG", "TR", "FI", "SE",
];
/// Per family: the four elements assayed and their grade ranges (%) in
/// commissioned ore.
const FAMILIES: [[(&str, f64, f64); 4]; 4] = [
    [
        ("Cu", 0.4, 2.5),
        ("Co", 0.01, 0.2),
        ("Ni", 0.01, 0.3),
        ("Ag", 0.0005, 0.003),
    ],
    [
        ("Nd", 0.5, 3.0),
        ("Pr", 0.15, 0.9),
        ("Dy", 0.01, 0.1),
        ("Tb", 0.002, 0.02),
    ],
    [
        ("Sb", 1.0, 8.0),
        ("Zn", 0.1, 1.0),
        ("Pb", 0.1, 2.0),
        ("Au", 0.0001, 0.001),
    ],
    [
        ("Li", 0.5, 2.0),
        ("Sn", 0.01, 0.1),
        ("Ta", 0.005, 0.02),
        ("Nb", 0.005, 0.03),
    ],
];
const MINES: usize = 4_000;
const DAY: i64 = 86_400;

/// splitmix64: small, fast, and the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// lo..=hi, uniform.
    fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + ((u128::from(self.next()) * (hi - lo + 1) as u128) >> 64) as usize
    }
    /// lo..=hi, skewed towards lo: a few large draws.
    fn skewed(&mut self, lo: usize, hi: usize, power: i32) -> usize {
        (lo + ((hi - lo + 1) as f64 * self.unit().powi(power)) as usize).min(hi)
    }
}

/// What one stage of transformations does.
struct Stage {
    name: &'static str,
    kind: SiteKind,
    /// Inputs per transformation: lo, hi, skew (1 = uniform).
    fan_in: (usize, usize, i32),
    /// Outputs per transformation.
    outputs: (usize, usize),
    /// Grade factor (out grade ÷ mean in grade) range and element
    /// recovery; `None` for a split that passes its input's grades on
    /// unchanged.
    enrich: Option<((f64, f64), (f64, f64))>,
    /// Output moisture, %.
    moisture: (f64, f64),
    /// At a site in the first input's country (else anywhere).
    local: bool,
}

const STAGES: [Stage; 10] = [
    Stage {
        name: "concentrate",
        kind: SiteKind::Concentrator,
        fan_in: (4, 24, 1),
        outputs: (1, 2),
        enrich: Some(((5.0, 12.0), (0.85, 0.95))),
        moisture: (6.0, 10.0),
        local: true,
    },
    Stage {
        name: "pack consignments",
        kind: SiteKind::Warehouse,
        fan_in: (1, 1, 1),
        outputs: (1, 3),
        enrich: None,
        moisture: (0.0, 0.0),
        local: true,
    },
    Stage {
        name: "blend at a hub",
        kind: SiteKind::Warehouse,
        fan_in: (8, MAX_INPUTS, 3),
        outputs: (1, 4),
        enrich: Some(((1.0, 1.0), (0.995, 0.995))),
        moisture: (5.0, 9.0),
        local: false,
    },
    Stage {
        name: "smelt",
        kind: SiteKind::Refinery,
        fan_in: (2, 8, 1),
        outputs: (1, 2),
        enrich: Some(((1.5, 3.0), (0.9, 0.97))),
        moisture: (0.5, 2.0),
        local: false,
    },
    Stage {
        name: "refine",
        kind: SiteKind::Refinery,
        fan_in: (1, 2, 1),
        outputs: (1, 2),
        enrich: Some(((1.2, 2.0), (0.95, 0.99))),
        moisture: (0.1, 1.0),
        local: true,
    },
    Stage {
        name: "separate",
        kind: SiteKind::Refinery,
        fan_in: (1, 1, 1),
        outputs: (1, 3),
        enrich: None,
        moisture: (0.0, 0.0),
        local: true,
    },
    Stage {
        name: "make metal",
        kind: SiteKind::ReceivingPlant,
        fan_in: (2, 6, 1),
        outputs: (1, 1),
        enrich: Some(((1.0, 1.5), (0.97, 0.99))),
        moisture: (0.0, 0.2),
        local: false,
    },
    Stage {
        name: "alloy",
        kind: SiteKind::ReceivingPlant,
        fan_in: (2, 6, 1),
        outputs: (1, 2),
        enrich: Some(((1.0, 1.0), (0.99, 0.99))),
        moisture: (0.0, 0.2),
        local: true,
    },
    Stage {
        name: "make components",
        kind: SiteKind::ReceivingPlant,
        fan_in: (1, 1, 1),
        outputs: (1, 4),
        enrich: None,
        moisture: (0.0, 0.0),
        local: true,
    },
    Stage {
        name: "pack for export",
        kind: SiteKind::Warehouse,
        fan_in: (2, 8, 1),
        outputs: (1, 1),
        enrich: Some(((1.0, 1.0), (1.0, 1.0))),
        moisture: (0.0, 0.2),
        local: true,
    },
];

#[derive(Clone)]
struct SiteRef {
    id: SiteId,
    country: usize,
    operator: PartyId,
}

/// The sites of one kind, `per_country` of them in each of `countries`.
struct Sites {
    list: Vec<SiteRef>,
    per_country: usize,
}

impl Sites {
    fn new(g: &mut LotGraph, prefix: &str, kind: SiteKind, countries: usize, per: usize) -> Self {
        let mut list = Vec::new();
        for (c, code) in COUNTRIES.iter().enumerate().take(countries) {
            let cc = code.to_ascii_lowercase();
            for i in 0..per {
                let id = SiteId::parse(&format!("{prefix}-{cc}-{i}")).unwrap();
                g.add_site(Site {
                    id: id.clone(),
                    kind,
                    country: Country::parse(code).unwrap(),
                    index: 0,
                })
                .unwrap();
                list.push(SiteRef {
                    operator: PartyId::parse(&format!("op-{prefix}-{cc}-{i}")).unwrap(),
                    id,
                    country: c,
                });
            }
        }
        Sites {
            list,
            per_country: per,
        }
    }

    fn pick(&self, rng: &mut Rng, country: Option<usize>) -> &SiteRef {
        let countries = self.list.len() / self.per_country;
        let c = country.map_or_else(|| rng.int(0, countries - 1), |c| c % countries);
        &self.list[c * self.per_country + rng.int(0, self.per_country - 1)]
    }
}

/// A lot made but not yet consumed, with what the generator needs of it
/// in f64.
struct Pending {
    lot: Lot,
    dry: f64,
    grades: [f64; 4],
    country: usize,
}

/// Events of each kind, counted as they are generated.
#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Events {
    commissioned: u64,
    assays: u64,
    shipments: u64,
    receipts: u64,
    transformations: u64,
}

impl Events {
    fn total(&self) -> u64 {
        self.commissioned + self.assays + self.shipments + self.receipts + self.transformations
    }
}

struct Ledger {
    g: LotGraph,
    events: Events,
    origins: usize,
    /// Every transformation, in the order made (stage by stage).
    tokens: Vec<Token>,
    /// Lots made by each stage.
    per_stage: Vec<usize>,
    /// The last stage's outputs: ten transformations deep.
    last: Vec<LotId>,
    largest_fan_in: usize,
}

/// `x` rounded down to `scale` decimals.
fn dec(x: f64, scale: u32) -> Decimal {
    Decimal::new((x * 10f64.powi(scale as i32)).floor() as i64, scale)
}

fn kg(x: f64) -> Mass {
    Mass::new(dec(x, 3), MassUnit::Kilogram).unwrap()
}

fn generate(seed: u64, origins: usize) -> Ledger {
    let mut rng = Rng(seed);
    let mut g = LotGraph::new();
    let elements: Vec<[Element; 4]> = FAMILIES
        .iter()
        .map(|f| f.map(|(e, _, _)| Element::parse(e).unwrap()))
        .collect();
    let n = COUNTRIES.len();
    let mines = Sites::new(&mut g, "mine", SiteKind::Mine, n, MINES / n);
    // A tenth of the origin sites are exploration areas.
    let exploration = Sites::new(&mut g, "expl", SiteKind::ExplorationArea, n, MINES / n / 10);
    let ports = Sites::new(&mut g, "port", SiteKind::Port, n, 2);
    let concentrators = Sites::new(&mut g, "conc", SiteKind::Concentrator, n, 10);
    let warehouses = Sites::new(&mut g, "store", SiteKind::Warehouse, n, 2);
    let hubs = Sites::new(&mut g, "hub", SiteKind::Warehouse, 12, 2);
    let refineries = Sites::new(&mut g, "refinery", SiteKind::Refinery, 20, 3);
    let plants = Sites::new(&mut g, "plant", SiteKind::ReceivingPlant, 25, 4);
    let site_family = |s: usize| (s * 7 + s / 13) % FAMILIES.len();

    let mut log = 0u64;
    let mut events = Events::default();
    let t0 = 1_735_689_600i64; // 2025-01-01
    let mut pools: Vec<Vec<Pending>> = (0..FAMILIES.len()).map(|_| Vec::new()).collect();
    let origin_sites: Vec<&SiteRef> = mines.list.iter().chain(&exploration.list).collect();

    // Commissioned lots, site by site (sites in country order).
    let per_site = origins as f64 / origin_sites.len() as f64;
    let mut made = 0usize;
    let mut carry = 0.0;
    for (s, site) in origin_sites.iter().enumerate() {
        carry += per_site * rng.between(0.5, 1.5);
        let mut count = carry as usize;
        if s + 1 == origin_sites.len() {
            count = origins - made;
        }
        count = count.min(origins - made);
        carry -= count as f64;
        let family = site_family(s);
        for _ in 0..count {
            let i = made;
            made += 1;
            let created = t0 + rng.int(0, 180) as i64 * DAY;
            let moisture = dec(rng.between(3.0, 10.0), 2);
            let wet = rng.between(20_000.0, 200_000.0);
            let wet_mass = kg(wet);
            let solids = 1.0 - moisture.to_f64().unwrap() / 100.0;
            let dry = wet_mass.kilograms().to_f64().unwrap() * solids;
            let index = log;
            log += 1;
            events.commissioned += 1;
            let mut fs = [0.0; 4];
            let mut grades = Vec::with_capacity(4);
            for (k, &(_, lo, hi)) in FAMILIES[family].iter().enumerate() {
                let p = dec(rng.between(lo, hi), 6);
                fs[k] = p.to_f64().unwrap();
                grades.push(assay(elements[family][k], p, &mut rng, &mut log));
                events.assays += 1;
            }
            pools[family].push(Pending {
                lot: Lot {
                    id: LotId::parse(&format!("urn:oretrace:lot:o{i}")).unwrap(),
                    site: site.id.clone(),
                    custodian: site.operator.clone(),
                    created: Timestamp::from_unix(created),
                    produced_by: None,
                    wet_mass,
                    moisture: Percent::new(moisture).unwrap(),
                    grades,
                    movements: Vec::new(),
                    index,
                },
                dry,
                grades: fs,
                country: site.country,
            });
        }
    }

    let mut tokens = Vec::new();
    let mut per_stage = Vec::new();
    let mut shipment = 0u64;
    let mut largest_fan_in = 0;
    for (depth, stage) in STAGES.iter().enumerate() {
        let sites = match stage.kind {
            SiteKind::Concentrator => &concentrators,
            SiteKind::Refinery => &refineries,
            SiteKind::ReceivingPlant => &plants,
            _ if depth == 2 => &hubs,
            _ => &warehouses,
        };
        let mut produced = 0;
        for family in 0..FAMILIES.len() {
            let mut pool = std::mem::take(&mut pools[family]);
            // Neighbours mostly stay neighbours: split siblings often meet
            // again downstream (diamonds), as lots of one plant do.
            for i in 0..pool.len() {
                let j = i + rng.int(0, 3.min(pool.len() - 1 - i));
                pool.swap(i, j);
            }
            let mut next = Vec::new();
            let mut rest = pool.into_iter().peekable();
            while rest.peek().is_some() {
                let fan_in = rng.skewed(stage.fan_in.0, stage.fan_in.1, stage.fan_in.2);
                let inputs: Vec<Pending> = rest.by_ref().take(fan_in).collect();
                largest_fan_in = largest_fan_in.max(inputs.len());
                let site = sites
                    .pick(&mut rng, stage.local.then_some(inputs[0].country))
                    .clone();
                let token = Token::parse(&format!("t{}", tokens.len())).unwrap();
                // Ship every input to the site and receive it there.
                let mut time = 0i64;
                let mut consumed = Vec::with_capacity(inputs.len());
                let mut lots = Vec::with_capacity(inputs.len());
                let (mut dry_in, mut contained) = (0.0, [0.0; 4]);
                for mut p in inputs {
                    let ready = p
                        .lot
                        .movements
                        .last()
                        .and_then(|m| m.arrival.as_ref())
                        .map_or(p.lot.created, |a| a.time)
                        .unix();
                    let shipped = ready + rng.int(1, 5) as i64 * DAY;
                    let abroad = p.country != site.country;
                    let via = if abroad {
                        vec![
                            ports.pick(&mut rng, Some(p.country)).id.clone(),
                            ports.pick(&mut rng, Some(site.country)).id.clone(),
                        ]
                    } else {
                        Vec::new()
                    };
                    let arrived = shipped
                        + rng.int(if abroad { 15 } else { 1 }, if abroad { 40 } else { 6 }) as i64
                            * DAY;
                    let receiver = site.operator.clone();
                    let index = log;
                    log += 2;
                    events.shipments += 1;
                    events.receipts += 1;
                    p.lot.movements.push(Movement {
                        shipment: Token::parse(&format!("s{shipment}")).unwrap(),
                        from: p.lot.site.clone(),
                        via,
                        to: site.id.clone(),
                        shipper: p.lot.custodian.clone(),
                        receiver,
                        shipped: Timestamp::from_unix(shipped),
                        arrival: Some(Arrival {
                            time: Timestamp::from_unix(arrived),
                            wet_mass: p.lot.wet_mass,
                            index: index + 1,
                        }),
                        index,
                    });
                    shipment += 1;
                    time = time.max(arrived + DAY);
                    consumed.push((p.lot.id.clone(), p.lot.wet_mass));
                    dry_in += p.dry;
                    for (c, grade) in contained.iter_mut().zip(p.grades) {
                        *c += p.dry * grade;
                    }
                    lots.push(p);
                }
                let t_index = log;
                log += 1;
                events.transformations += 1;
                let outputs = rng.int(stage.outputs.0, stage.outputs.1);
                let mut parts: Vec<f64> = (0..outputs).map(|_| rng.between(0.5, 1.5)).collect();
                let sum: f64 = parts.iter().sum();
                parts.iter_mut().for_each(|p| *p /= sum);
                let mut out_ids = Vec::with_capacity(outputs);
                for (j, part) in parts.iter().enumerate() {
                    let id =
                        LotId::parse(&format!("urn:oretrace:lot:t{}-{j}", tokens.len())).unwrap();
                    // A split passes its input on as it is; anything else
                    // makes new material whose balance holds by
                    // construction (rounded down).
                    let (wet_mass, moisture, dry, fs, grades) = match stage.enrich {
                        None => {
                            let input = &lots[0];
                            let wet_mass =
                                kg(input.lot.wet_mass.kilograms().to_f64().unwrap() * part);
                            let solids = 1.0 - input.lot.moisture.value().to_f64().unwrap() / 100.0;
                            let grades = input
                                .lot
                                .grades
                                .iter()
                                .map(|gr| {
                                    events.assays += 1;
                                    let p = Percent::new(gr.percent()).unwrap();
                                    assay(gr.element(), p.value(), &mut rng, &mut log)
                                })
                                .collect();
                            (
                                wet_mass,
                                input.lot.moisture,
                                wet_mass.kilograms().to_f64().unwrap() * solids,
                                input.grades,
                                grades,
                            )
                        }
                        Some(((flo, fhi), (rlo, rhi))) => {
                            let mean: [f64; 4] = contained.map(|c| c / dry_in);
                            let total: f64 = mean.iter().sum();
                            let factor = rng
                                .between(flo, fhi)
                                .min(90.0 / total)
                                .max(f64::MIN_POSITIVE);
                            let recovery = rng.between(rlo, rhi);
                            let dry_out = dry_in * recovery / factor * part;
                            let m = dec(rng.between(stage.moisture.0, stage.moisture.1), 2);
                            let solids = 1.0 - m.to_f64().unwrap() / 100.0;
                            let wet_mass = kg(dry_out / solids);
                            let mut fs = [0.0; 4];
                            let mut grades = Vec::with_capacity(4);
                            for k in 0..4 {
                                let p = dec(mean[k] * factor, 6);
                                fs[k] = p.to_f64().unwrap();
                                grades.push(assay(elements[family][k], p, &mut rng, &mut log));
                                events.assays += 1;
                            }
                            (
                                wet_mass,
                                Percent::new(m).unwrap(),
                                wet_mass.kilograms().to_f64().unwrap() * solids,
                                fs,
                                grades,
                            )
                        }
                    };
                    next.push(Pending {
                        lot: Lot {
                            id: id.clone(),
                            site: site.id.clone(),
                            custodian: site.operator.clone(),
                            created: Timestamp::from_unix(time),
                            produced_by: Some(token.clone()),
                            wet_mass,
                            moisture,
                            grades,
                            movements: Vec::new(),
                            index: t_index,
                        },
                        dry,
                        grades: fs,
                        country: site.country,
                    });
                    out_ids.push(id);
                }
                for p in lots {
                    g.add_lot(p.lot).unwrap();
                }
                produced += out_ids.len();
                g.add_transformation(Transformation {
                    id: token.clone(),
                    site: site.id.clone(),
                    time: Timestamp::from_unix(time),
                    inputs: consumed,
                    outputs: out_ids,
                    index: t_index,
                })
                .unwrap();
                tokens.push(token);
            }
            pools[family] = next;
        }
        per_stage.push(produced);
    }
    let mut last = Vec::new();
    for pool in pools {
        for p in pool {
            last.push(p.lot.id.clone());
            g.add_lot(p.lot).unwrap();
        }
    }
    assert_eq!(log, events.total(), "one log index per event");
    Ledger {
        g,
        events,
        origins,
        tokens,
        per_stage,
        last,
        largest_fan_in,
    }
}

/// One assay: a dry-basis grade, a quarter of them stating an uncertainty
/// (2 % of the grade).
fn assay(element: Element, percent: Decimal, rng: &mut Rng, log: &mut u64) -> Grade {
    let index = *log;
    *log += 1;
    let uncertainty = (rng.int(0, 3) == 0)
        .then(|| Percent::new((percent * Decimal::new(2, 2)).round_dp(6)).unwrap());
    Grade::dry(element, Percent::new(percent).unwrap(), uncertainty, index)
}

/// The events of the graph's items, counted again from the graph.
fn recount(l: &Ledger) -> Events {
    let mut e = Events::default();
    let lot = |e: &mut Events, lot: &Lot| {
        e.assays += lot.grades.len() as u64;
        e.shipments += lot.movements.len() as u64;
        e.receipts += lot.movements.iter().filter(|m| m.arrival.is_some()).count() as u64;
    };
    for i in 0..l.origins {
        let o =
            l.g.lot(&LotId::parse(&format!("urn:oretrace:lot:o{i}")).unwrap())
                .expect("every commissioned lot is in the graph");
        assert!(o.produced_by.is_none());
        e.commissioned += 1;
        lot(&mut e, o);
    }
    for t in &l.tokens {
        let t = l.g.transformation(t).expect("every transformation");
        e.transformations += 1;
        for out in &t.outputs {
            lot(&mut e, l.g.lot(out).expect("every output"));
        }
    }
    e
}

/// Lot → its inputs, for the plain walk.
fn edges(l: &Ledger) -> HashMap<&LotId, Vec<&LotId>> {
    let mut map = HashMap::new();
    for t in &l.tokens {
        let t = l.g.transformation(t).unwrap();
        for out in &t.outputs {
            map.insert(out, t.inputs.iter().map(|(i, _)| i).collect());
        }
    }
    map
}

/// Lots in the upstream graph of `root`, the root included; stops
/// counting past `cap`.
fn plain_walk(edges: &HashMap<&LotId, Vec<&LotId>>, root: &LotId, cap: usize) -> usize {
    let mut seen: HashSet<&LotId> = HashSet::new();
    let mut queue = VecDeque::from([root]);
    seen.insert(root);
    while let Some(l) = queue.pop_front() {
        if let Some(inputs) = edges.get(l) {
            for i in inputs {
                if seen.insert(i) {
                    queue.push_back(i);
                }
            }
        }
        if seen.len() > cap {
            break;
        }
    }
    seen.len()
}

/// A lot as the plain audit needs it.
struct PlainLot {
    solids: f64,
    dry: f64,
    grades: [f64; 4],
}

struct PlainT<'g> {
    inputs: Vec<(&'g LotId, f64)>,
    outputs: Vec<&'g LotId>,
}

fn add_plain<'g>(lot: &'g Lot, plain_lots: &mut HashMap<&'g LotId, PlainLot>) {
    let solids = 1.0 - lot.moisture.value().to_f64().unwrap() / 100.0;
    let mut grades = [0.0; 4];
    for (k, gr) in lot.grades.iter().enumerate() {
        grades[k] = gr.percent().to_f64().unwrap() / 100.0;
    }
    plain_lots.insert(
        &lot.id,
        PlainLot {
            solids,
            dry: lot.wet_mass.kilograms().to_f64().unwrap() * solids,
            grades,
        },
    );
}

fn plain_audit(ts: &[PlainT<'_>], lots: &HashMap<&LotId, PlainLot>) -> f64 {
    let mut excess = 0.0;
    for t in ts {
        let (mut inside, mut out) = ([0.0; 4], [0.0; 4]);
        for (id, wet) in &t.inputs {
            let l = &lots[id];
            let dry = wet * l.solids;
            for (c, grade) in inside.iter_mut().zip(l.grades) {
                *c += dry * grade;
            }
        }
        for id in &t.outputs {
            let l = &lots[id];
            for (c, grade) in out.iter_mut().zip(l.grades) {
                *c += l.dry * grade;
            }
        }
        for k in 0..4 {
            excess += (out[k] - inside[k]).max(0.0);
        }
    }
    excess
}

fn percentile(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs[i]
}

/// `VmHWM` and `VmRSS` of this process, MiB.
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

fn main() {
    if !plain_bench("quick_form_with_its_checks") {
        return;
    }
    let quick = quick_mode();
    let started = Instant::now();
    let seed = env_number("ORETRACE_LEDGER_SEED").unwrap_or(DEFAULT_SEED);
    let (default_origins, target, runs, audit_reps) = if quick {
        (3_000, 300, 10, 1)
    } else {
        (1_120_000, 10_000, 200, 5)
    };
    let origins = env_number("ORETRACE_LEDGER_ORIGINS").map_or(default_origins, |n| n as usize);

    let t = Instant::now();
    let ledger = generate(seed, origins);
    let built = t.elapsed().as_secs_f64();
    let (peak_build, rss_build) = rss();
    let e = ledger.events;
    let g = &ledger.g;
    println!(
        "== synthetic registry: seed {seed} (ORETRACE_LEDGER_SEED), {origins} commissioned lots (ORETRACE_LEDGER_ORIGINS){} ==",
        if quick {
            "; quick form: figures not to be quoted"
        } else {
            ""
        }
    );
    println!(
        "{} events: {} lots commissioned, {} assays, {} shipments, {} receipts, {} transformations; at least 10,000,000: {}",
        e.total(),
        e.commissioned,
        e.assays,
        e.shipments,
        e.receipts,
        e.transformations,
        if e.total() >= 10_000_000 { "yes" } else { "no" }
    );
    println!(
        "{} sites ({MINES} mines and {} exploration areas in {} countries, ports, concentrators, hubs, refineries, plants); {} lots; largest blend {} inputs; lots made per stage: {}",
        MINES + MINES / 10 + COUNTRIES.len() * 14 + 24 + 60 + 100,
        MINES / 10,
        COUNTRIES.len(),
        e.commissioned + ledger.per_stage.iter().sum::<usize>() as u64,
        ledger.largest_fan_in,
        STAGES
            .iter()
            .zip(&ledger.per_stage)
            .map(|(s, n)| format!("{} {n}", s.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "generated in {built:.1} s; process peak RSS (VmHWM) after building {peak_build:.0} MiB, RSS {rss_build:.0} MiB"
    );

    // The checks, before any timing.
    assert_eq!(
        recount(&ledger),
        e,
        "the event count formula matches the generated items"
    );
    let edges = edges(&ledger);
    let sample = ledger.last.len().min(if quick { 50 } else { 400 });
    let step = ledger.last.len() / sample.max(1);
    let mut sizes: Vec<(usize, &LotId)> = (0..sample)
        .map(|i| {
            let id = &ledger.last[i * step];
            (plain_walk(&edges, id, 4 * target), id)
        })
        .collect();
    sizes.sort();
    let &(_, root) = sizes
        .iter()
        .min_by_key(|(n, _)| n.abs_diff(target))
        .expect("a lot of the last stage");
    let root = root.clone();
    println!(
        "upstream lots of {sample} lots of the last stage (ten transformations deep): min {}, median {}, max {}{}",
        sizes[0].0,
        sizes[sizes.len() / 2].0,
        sizes[sizes.len() - 1].0,
        if sizes[sizes.len() - 1].0 > 4 * target {
            " (counting stopped)"
        } else {
            ""
        }
    );
    let limits = Limits::DEFAULT;
    let answer = attribute(g, &root, limits).expect("provenance of the chosen lot");
    let walked = plain_walk(&edges, &root, usize::MAX);
    assert_eq!(
        answer.upstream_lots, walked,
        "the walk and the answer count the same lots"
    );
    assert!(
        answer.steps.len() >= STAGES.len(),
        "a chain ten transformations deep"
    );
    for el in &answer.elements {
        let sum: Decimal = el.by_site.iter().map(|s| s.share).sum::<Decimal>() + el.unknown;
        assert!(
            (sum - Decimal::ONE).abs() <= Decimal::new(1, 20),
            "{}: shares sum to {sum}",
            el.element.symbol()
        );
    }
    let n = answer.upstream_lots;

    let tolerance = Tolerance::relative(Percent::new(Decimal::TWO).unwrap());
    let (mut balances, mut checked) = (0usize, 0usize);
    for t in &ledger.tokens {
        let b = mass_balance(g, t, &tolerance).expect("a balance of every transformation");
        balances += 1;
        for el in &b.elements {
            assert_eq!(
                el.verdict,
                Verdict::Holds,
                "{} {} in {} out {} (allowance {})",
                b.transformation,
                el.element.symbol(),
                el.in_kg,
                el.out_kg,
                el.allowance_kg
            );
            checked += 1;
        }
    }
    assert_eq!(
        balances,
        ledger.tokens.len(),
        "the audit visits every transformation"
    );
    let mut plain_lots: HashMap<&LotId, PlainLot> = HashMap::new();
    let mut plain_ts = Vec::with_capacity(ledger.tokens.len());
    for t in &ledger.tokens {
        let t = g.transformation(t).unwrap();
        for (i, _) in &t.inputs {
            let lot = g.lot(i).unwrap();
            if lot.produced_by.is_none() {
                add_plain(lot, &mut plain_lots);
            }
        }
        for o in &t.outputs {
            add_plain(g.lot(o).unwrap(), &mut plain_lots);
        }
        plain_ts.push(PlainT {
            inputs: t
                .inputs
                .iter()
                .map(|(i, m)| (i, m.kilograms().to_f64().unwrap()))
                .collect(),
            outputs: t.outputs.iter().collect(),
        });
    }
    let excess = plain_audit(&plain_ts, &plain_lots);
    assert!(
        excess <= 1e-6 * plain_ts.len() as f64,
        "the plain pass finds the balances hold too ({excess} kg over)"
    );

    // Provenance: interleaved, each going first every other run.
    let (mut t_attr, mut t_walk) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for r in 0..runs {
        let a = || time(|| attribute(g, &root, limits).unwrap().upstream_lots);
        let w = || time(|| plain_walk(&edges, &root, usize::MAX));
        if r % 2 == 0 {
            t_attr.push(a());
            t_walk.push(w());
        } else {
            t_walk.push(w());
            t_attr.push(a());
        }
    }
    let (a50, a99) = (percentile(&mut t_attr, 0.5), percentile(&mut t_attr, 0.99));
    let (w50, w99) = (percentile(&mut t_walk, 0.5), percentile(&mut t_walk, 0.99));

    // The audit: every transformation's balance, against the plain pass.
    let tokens = &ledger.tokens;
    let [audit, bound] = interleaved(
        audit_reps,
        [
            &|| {
                time(|| {
                    tokens
                        .iter()
                        .map(|t| mass_balance(g, t, &tolerance).unwrap().elements.len())
                        .sum::<usize>()
                })
            },
            &|| time(|| plain_audit(&plain_ts, &plain_lots)),
        ],
    );
    let (peak, now) = rss();

    println!(
        "== provenance of {root}: {n} upstream lots, {} transformations, {} origins, {} elements, {} custody spells, {} sites; {runs} interleaved runs ==",
        answer.steps.len(),
        answer.origins.len(),
        answer.elements.len(),
        answer.custody.len(),
        answer.sites.len()
    );
    println!(
        "{:<40} {:>10} {:>10} {:>12} {:>12}",
        "", "p50 ms", "p99 ms", "ratio p50", "ratio p99"
    );
    println!(
        "{:<40} {:>10.3} {:>10.3} {:>12} {:>12}",
        "bound: plain walk (HashMap, BFS)",
        w50 * 1e3,
        w99 * 1e3,
        "1",
        "1"
    );
    println!(
        "{:<40} {:>10.3} {:>10.3} {:>12.4} {:>12.4}",
        "attribute (provenance)",
        a50 * 1e3,
        a99 * 1e3,
        w50 / a50,
        w99 / a99
    );
    println!(
        "target: provenance p99 under 20 ms: {}",
        if a99 < 0.020 { "met" } else { "NOT met" }
    );
    let total = e.total() as f64;
    println!(
        "== audit: mass balance of all {} transformations ({} input edges, {checked} element balances, every one holds), Tolerance::relative(2 %); median of {audit_reps} interleaved runs ==",
        tokens.len(),
        plain_ts.iter().map(|t| t.inputs.len()).sum::<usize>()
    );
    println!(
        "{:<40} {:>10} {:>16} {:>12}",
        "", "s", "ledger events/s", "ratio"
    );
    println!(
        "{:<40} {:>10.3} {:>16.0} {:>12}",
        "bound: plain f64 pass (HashMap by id)",
        bound,
        total / bound,
        "1"
    );
    println!(
        "{:<40} {:>10.3} {:>16.0} {:>12.4}",
        "mass_balance of every transformation",
        audit,
        total / audit,
        bound / audit
    );
    println!(
        "target: audit at least 1,000,000 events/s: {}",
        if total / audit >= 1e6 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "process peak RSS (VmHWM) {peak:.0} MiB, RSS now {now:.0} MiB (the bench process holding the graph and the bounds' maps; not a server's); total {:.1} s",
        started.elapsed().as_secs_f64()
    );
    black_box(&answer);
}
