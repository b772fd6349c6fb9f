//! The shape of the synthetic registry, from a seed: the generator of
//! `benches/ledger.rs` (see its documentation for the shape), shared with
//! the served registry generator (`crates/server/benches/registry.rs`),
//! which appends the same items as signed records through the ledger, so
//! that the pure and the served figures are about the same registry.

use std::collections::{HashMap, HashSet, VecDeque};

use oretrace_domain::chemistry::Element;
use oretrace_domain::record::SiteKind;
use oretrace_domain::values::{
    Country, LotId, Mass, MassUnit, PartyId, Percent, SiteId, Timestamp, Token,
};
use oretrace_provenance::graph::{
    Arrival, Grade, Lot, LotGraph, MAX_INPUTS, Movement, Site, Transformation,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

pub const DEFAULT_SEED: u64 = 20_261_204;
pub const COUNTRIES: [&str; 40] = [
    "PK", "US", "CN", "CL", "CD", "AU", "ZA", "PE", "ID", "BR", "CA", "MX", "AR", "BO", "ZM", "ZW",
    "NA", "BW", "MG", "MZ", "TZ", "RW", "UG", "NG", "GH", "ML", "GN", "KZ", "UZ", "MN", "RU", "IN",
    "MM", "LA", "VN", "PH", "PG", "TR", "FI", "SE",
];
/// Per family: the four elements assayed and their grade ranges (%) in
/// commissioned ore.
pub const FAMILIES: [[(&str, f64, f64); 4]; 4] = [
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
/// The commodity of each family's lots.
pub const COMMODITIES: [&str; 4] = ["copper", "rare-earths", "antimony", "lithium"];
pub const MINES: usize = 4_000;
pub const DAY: i64 = 86_400;

/// splitmix64: small, fast, and the same sequence everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// lo..=hi, uniform.
    pub fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + ((u128::from(self.next()) * (hi - lo + 1) as u128) >> 64) as usize
    }
    /// lo..=hi, skewed towards lo: a few large draws.
    pub fn skewed(&mut self, lo: usize, hi: usize, power: i32) -> usize {
        (lo + ((hi - lo + 1) as f64 * self.unit().powi(power)) as usize).min(hi)
    }
}

/// What one stage of transformations does.
pub struct Stage {
    pub name: &'static str,
    /// The form of the lots it makes.
    pub form: &'static str,
    pub kind: SiteKind,
    /// Inputs per transformation: lo, hi, skew (1 = uniform).
    pub fan_in: (usize, usize, i32),
    /// Outputs per transformation.
    pub outputs: (usize, usize),
    /// Grade factor (out grade ÷ mean in grade) range and element
    /// recovery; `None` for a split that passes its input's grades on
    /// unchanged.
    pub enrich: Option<((f64, f64), (f64, f64))>,
    /// Output moisture, %.
    pub moisture: (f64, f64),
    /// At a site in the first input's country (else anywhere).
    pub local: bool,
}

pub const STAGES: [Stage; 10] = [
    Stage {
        name: "concentrate",
        form: "concentrate",
        kind: SiteKind::Concentrator,
        fan_in: (4, 24, 1),
        outputs: (1, 2),
        enrich: Some(((5.0, 12.0), (0.85, 0.95))),
        moisture: (6.0, 10.0),
        local: true,
    },
    Stage {
        name: "pack consignments",
        form: "consignment",
        kind: SiteKind::Warehouse,
        fan_in: (1, 1, 1),
        outputs: (1, 3),
        enrich: None,
        moisture: (0.0, 0.0),
        local: true,
    },
    Stage {
        name: "blend at a hub",
        form: "concentrate",
        kind: SiteKind::Warehouse,
        fan_in: (8, MAX_INPUTS, 3),
        outputs: (1, 4),
        enrich: Some(((1.0, 1.0), (0.995, 0.995))),
        moisture: (5.0, 9.0),
        local: false,
    },
    Stage {
        name: "smelt",
        form: "compound",
        kind: SiteKind::Refinery,
        fan_in: (2, 8, 1),
        outputs: (1, 2),
        enrich: Some(((1.5, 3.0), (0.9, 0.97))),
        moisture: (0.5, 2.0),
        local: false,
    },
    Stage {
        name: "refine",
        form: "oxide",
        kind: SiteKind::Refinery,
        fan_in: (1, 2, 1),
        outputs: (1, 2),
        enrich: Some(((1.2, 2.0), (0.95, 0.99))),
        moisture: (0.1, 1.0),
        local: true,
    },
    Stage {
        name: "separate",
        form: "oxide",
        kind: SiteKind::Refinery,
        fan_in: (1, 1, 1),
        outputs: (1, 3),
        enrich: None,
        moisture: (0.0, 0.0),
        local: true,
    },
    Stage {
        name: "make metal",
        form: "metal",
        kind: SiteKind::ReceivingPlant,
        fan_in: (2, 6, 1),
        outputs: (1, 1),
        enrich: Some(((1.0, 1.5), (0.97, 0.99))),
        moisture: (0.0, 0.2),
        local: false,
    },
    Stage {
        name: "alloy",
        form: "alloy",
        kind: SiteKind::ReceivingPlant,
        fan_in: (2, 6, 1),
        outputs: (1, 2),
        enrich: Some(((1.0, 1.0), (0.99, 0.99))),
        moisture: (0.0, 0.2),
        local: true,
    },
    Stage {
        name: "make components",
        form: "cathode",
        kind: SiteKind::ReceivingPlant,
        fan_in: (1, 1, 1),
        outputs: (1, 4),
        enrich: None,
        moisture: (0.0, 0.0),
        local: true,
    },
    Stage {
        name: "pack for export",
        form: "consignment",
        kind: SiteKind::Warehouse,
        fan_in: (2, 8, 1),
        outputs: (1, 1),
        enrich: Some(((1.0, 1.0), (1.0, 1.0))),
        moisture: (0.0, 0.2),
        local: true,
    },
];

#[derive(Clone)]
pub struct SiteRef {
    pub id: SiteId,
    pub country: usize,
    pub operator: PartyId,
}

/// The sites of one kind, `per_country` of them in each of `countries`.
pub struct Sites {
    list: Vec<SiteRef>,
    per_country: usize,
}

impl Sites {
    pub fn new(
        g: &mut LotGraph,
        prefix: &str,
        kind: SiteKind,
        countries: usize,
        per: usize,
    ) -> Self {
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

    pub fn pick(&self, rng: &mut Rng, country: Option<usize>) -> &SiteRef {
        let countries = self.list.len() / self.per_country;
        let c = country.map_or_else(|| rng.int(0, countries - 1), |c| c % countries);
        &self.list[c * self.per_country + rng.int(0, self.per_country - 1)]
    }
}

/// A lot made but not yet consumed, with what the generator needs of it
/// in f64.
pub struct Pending {
    lot: Lot,
    dry: f64,
    grades: [f64; 4],
    country: usize,
}

/// Events of each kind, counted as they are generated.
#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
pub struct Events {
    pub commissioned: u64,
    pub assays: u64,
    pub shipments: u64,
    pub receipts: u64,
    pub transformations: u64,
}

impl Events {
    pub fn total(&self) -> u64 {
        self.commissioned + self.assays + self.shipments + self.receipts + self.transformations
    }
}

pub struct Ledger {
    pub g: LotGraph,
    pub events: Events,
    pub origins: usize,
    /// Every transformation, in the order made (stage by stage).
    pub tokens: Vec<Token>,
    /// Lots made by each stage.
    pub per_stage: Vec<usize>,
    /// The last stage's outputs: ten transformations deep.
    pub last: Vec<LotId>,
    pub largest_fan_in: usize,
    /// Every site with its kind, in the order registered.
    pub sites: Vec<(SiteRef, SiteKind)>,
    /// The stage (index into [`STAGES`]) of each transformation, in the
    /// order of `tokens`.
    pub stage_of: Vec<u8>,
}

/// `x` rounded down to `scale` decimals.
pub fn dec(x: f64, scale: u32) -> Decimal {
    Decimal::new((x * 10f64.powi(scale as i32)).floor() as i64, scale)
}

pub fn kg(x: f64) -> Mass {
    Mass::new(dec(x, 3), MassUnit::Kilogram).unwrap()
}

pub fn generate(seed: u64, origins: usize) -> Ledger {
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
    let sites: Vec<(SiteRef, SiteKind)> = [
        (&mines, SiteKind::Mine),
        (&exploration, SiteKind::ExplorationArea),
        (&ports, SiteKind::Port),
        (&concentrators, SiteKind::Concentrator),
        (&warehouses, SiteKind::Warehouse),
        (&hubs, SiteKind::Warehouse),
        (&refineries, SiteKind::Refinery),
        (&plants, SiteKind::ReceivingPlant),
    ]
    .into_iter()
    .flat_map(|(s, kind)| s.list.iter().map(move |r| (r.clone(), kind)))
    .collect();
    let mut stage_of = Vec::new();
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
                let (mut dry_in, mut wet_in, mut contained) = (0.0, 0.0, [0.0; 4]);
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
                    // A lot already at the transformation's site is not
                    // shipped (a shipment goes to another site).
                    if p.lot.site == site.id {
                        time = time.max(ready + DAY);
                    } else {
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
                    }
                    consumed.push((p.lot.id.clone(), p.lot.wet_mass));
                    dry_in += p.dry;
                    wet_in += p.lot.wet_mass.kilograms().to_f64().unwrap();
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
                            // No more water than keeps the outputs' wet mass
                            // within the inputs' (a transformation does not
                            // create mass: the ledger refuses it).
                            let wettest =
                                100.0 * (1.0 - dry_in * recovery / factor / wet_in) - 0.01;
                            let m = dec(
                                rng.between(stage.moisture.0, stage.moisture.1)
                                    .min(wettest)
                                    .max(0.0),
                                2,
                            );
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
                stage_of.push(depth as u8);
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
        sites,
        stage_of,
    }
}

/// One assay: a dry-basis grade, a quarter of them stating an uncertainty
/// (2 % of the grade).
pub fn assay(element: Element, percent: Decimal, rng: &mut Rng, log: &mut u64) -> Grade {
    let index = *log;
    *log += 1;
    let uncertainty = (rng.int(0, 3) == 0)
        .then(|| Percent::new((percent * Decimal::new(2, 2)).round_dp(6)).unwrap());
    Grade::dry(element, Percent::new(percent).unwrap(), uncertainty, index)
}

/// The events of the graph's items, counted again from the graph.
pub fn recount(l: &Ledger) -> Events {
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
pub fn edges(l: &Ledger) -> HashMap<&LotId, Vec<&LotId>> {
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
pub fn plain_walk(edges: &HashMap<&LotId, Vec<&LotId>>, root: &LotId, cap: usize) -> usize {
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
