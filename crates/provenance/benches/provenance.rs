//! Provenance of a lot with 10,000 upstream lots (`attribute`: origin
//! shares of three elements per site and country, custody spells, sites
//! passed), against a plain in-memory graph walk over the same edges
//! measured in the same run: a `HashMap` from each lot to its inputs and a
//! breadth-first walk with a visited set, which is the least any
//! provenance answer must do.
//!
//! The graph: 5,000 origin lots at 100 mine sites in 10 countries, each
//! shipped once through a port; transformations blend 4 lots into 2
//! outputs, and the next level takes its 4 inputs from different
//! transformations' outputs, so the graph is a DAG full of diamonds, not
//! a tree; the last blend makes the lot asked about.
//!
//! Full form (`cargo bench -p oretrace-provenance --bench provenance`):
//! criterion groups, then p50/p99 of 200 interleaved runs of each and the
//! ratio. Quick form (`-- --test`, `cargo test --benches`): 500 origins,
//! 20 runs, with the checks (shares sum to 1, the walk and the answer
//! count the same lots).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::hint::black_box;
use std::str::FromStr as _;
use std::time::Instant;

use criterion::Criterion;
use oretrace_domain::chemistry::Element;
use oretrace_domain::record::SiteKind;
use oretrace_domain::values::{
    Country, LotId, Mass, MassUnit, PartyId, Percent, SiteId, Timestamp, Token,
};
use oretrace_provenance::attribute;
use oretrace_provenance::graph::{
    Arrival, Grade, Limits, Lot, LotGraph, Movement, Site, Transformation,
};
use rust_decimal::Decimal;

const COUNTRIES: [&str; 10] = ["PK", "US", "CN", "CL", "CD", "AU", "ZA", "PE", "ID", "BR"];
const ELEMENTS: [&str; 3] = ["Cu", "Co", "Ni"];

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn lot_id(name: &str) -> LotId {
    LotId::parse(&format!("urn:oretrace:lot:{name}")).unwrap()
}

fn grades(seed: usize) -> Vec<Grade> {
    ELEMENTS
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let bp = 10 + (seed * 7919 + k * 104_729) % 2_000;
            Grade::dry(
                Element::parse(e).unwrap(),
                Percent::new(Decimal::new(bp as i64, 2)).unwrap(),
                None,
                0,
            )
        })
        .collect()
}

/// The graph and the lot asked about.
fn build(origins: usize) -> (LotGraph, LotId) {
    let mut g = LotGraph::new();
    let t0 = Timestamp::from_unix(1_756_684_800);
    let fwo = PartyId::parse("fwo").unwrap();
    let ussm = PartyId::parse("ussm").unwrap();
    for s in 0..100 {
        g.add_site(Site {
            id: SiteId::parse(&format!("mine-{s}")).unwrap(),
            kind: SiteKind::Mine,
            country: Country::parse(COUNTRIES[s % COUNTRIES.len()]).unwrap(),
            index: s as u64,
        })
        .unwrap();
    }
    for (id, kind) in [("plant", SiteKind::Concentrator), ("port", SiteKind::Port)] {
        g.add_site(Site {
            id: SiteId::parse(id).unwrap(),
            kind,
            country: Country::parse("PK").unwrap(),
            index: 0,
        })
        .unwrap();
    }
    let mass = Mass::new(d("1000"), MassUnit::Kilogram).unwrap();
    let moisture = Percent::new(d("5")).unwrap();
    let mut level: Vec<LotId> = Vec::new();
    for i in 0..origins {
        let id = lot_id(&format!("o{i}"));
        let site = SiteId::parse(&format!("mine-{}", i % 100)).unwrap();
        g.add_lot(Lot {
            id: id.clone(),
            site: site.clone(),
            custodian: fwo.clone(),
            created: t0,
            produced_by: None,
            wet_mass: mass,
            moisture,
            grades: grades(i),
            movements: vec![Movement {
                shipment: Token::parse(&format!("s{i}")).unwrap(),
                from: site,
                via: vec![SiteId::parse("port").unwrap()],
                to: SiteId::parse("plant").unwrap(),
                shipper: fwo.clone(),
                receiver: ussm.clone(),
                shipped: Timestamp::from_unix(t0.unix() + 86_400),
                arrival: Some(Arrival {
                    time: Timestamp::from_unix(t0.unix() + 10 * 86_400),
                    wet_mass: mass,
                    index: 0,
                }),
                index: 0,
            }],
            index: i as u64,
        })
        .unwrap();
        level.push(id);
    }
    let mut t = 0usize;
    let mut depth = 0i64;
    loop {
        depth += 1;
        let last = level.len() <= 4;
        let mut next: Vec<LotId> = Vec::new();
        for group in level.chunks(4) {
            let id = Token::parse(&format!("t{t}")).unwrap();
            let time = Timestamp::from_unix(t0.unix() + (10 + depth) * 86_400);
            let outs: Vec<LotId> = (0..if last { 1 } else { 2 })
                .map(|j| lot_id(&format!("t{t}-{j}")))
                .collect();
            for (j, out) in outs.iter().enumerate() {
                g.add_lot(Lot {
                    id: out.clone(),
                    site: SiteId::parse("plant").unwrap(),
                    custodian: ussm.clone(),
                    created: time,
                    produced_by: Some(id.clone()),
                    wet_mass: mass,
                    moisture,
                    grades: grades(t * 2 + j),
                    movements: Vec::new(),
                    index: t as u64,
                })
                .unwrap();
            }
            g.add_transformation(Transformation {
                id,
                site: SiteId::parse("plant").unwrap(),
                time,
                inputs: group
                    .iter()
                    .map(|l| (l.clone(), Mass::new(d("500"), MassUnit::Kilogram).unwrap()))
                    .collect(),
                outputs: outs.clone(),
                index: t as u64,
            })
            .unwrap();
            next.extend(outs);
            t += 1;
        }
        if last {
            return (g, next.pop().unwrap());
        }
        // Siblings go to different consumers: first outputs, then seconds.
        let (firsts, seconds): (Vec<_>, Vec<_>) = next
            .chunks(2)
            .map(|c| (c[0].clone(), c.get(1).cloned()))
            .unzip();
        level = firsts
            .into_iter()
            .chain(seconds.into_iter().flatten())
            .collect();
    }
}

/// Lot → its inputs, for the plain walk.
fn edges(g: &LotGraph, origins: usize) -> HashMap<LotId, Vec<LotId>> {
    let mut map = HashMap::new();
    for i in 0..origins {
        map.insert(lot_id(&format!("o{i}")), Vec::new());
    }
    let mut t = 0;
    while let Some(tr) = g.transformation(&Token::parse(&format!("t{t}")).unwrap()) {
        for out in &tr.outputs {
            map.insert(
                out.clone(),
                tr.inputs.iter().map(|(l, _)| l.clone()).collect(),
            );
        }
        t += 1;
    }
    map
}

fn plain_walk(edges: &HashMap<LotId, Vec<LotId>>, root: &LotId) -> usize {
    let mut seen: HashSet<&LotId> = HashSet::new();
    let mut queue = VecDeque::from([root]);
    seen.insert(root);
    while let Some(l) = queue.pop_front() {
        for i in &edges[l] {
            if seen.insert(i) {
                queue.push_back(i);
            }
        }
    }
    seen.len()
}

fn percentile(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs[i]
}

fn main() {
    let quick = oretrace_benchkit::quick_mode();
    let list = oretrace_benchkit::list_mode();
    let (origins, runs) = if quick { (500, 20) } else { (5_000, 200) };
    let (g, root) = build(origins);
    let edges = edges(&g, origins);
    let limits = Limits::DEFAULT;

    // The checks, before any timing.
    let answer = attribute(&g, &root, limits).expect("provenance of the benchmark lot");
    let walked = plain_walk(&edges, &root);
    assert_eq!(
        answer.upstream_lots, walked,
        "the walk and the answer count the same lots"
    );
    for e in &answer.elements {
        let sum: Decimal = e.by_site.iter().map(|s| s.share).sum::<Decimal>() + e.unknown;
        assert!(
            (sum - Decimal::ONE).abs() <= Decimal::new(1, 20),
            "{}: shares sum to {sum}",
            e.element.symbol()
        );
        assert_eq!(e.by_site.len(), 100.min(origins));
    }
    let n = answer.upstream_lots;

    let mut c = Criterion::default().configure_from_args();
    {
        let mut group = c.benchmark_group(format!("provenance-{n}-lots"));
        if !quick {
            group.sample_size(30);
        }
        group.bench_function("attribute", |b| {
            b.iter(|| black_box(attribute(&g, &root, limits).unwrap().elements.len()))
        });
        group.bench_function("bound: plain walk", |b| {
            b.iter(|| black_box(plain_walk(&edges, &root)))
        });
        group.finish();
    }
    c.final_summary();
    if list {
        return;
    }

    let (mut t_attr, mut t_walk) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let start = Instant::now();
        black_box(attribute(&g, &root, limits).unwrap());
        t_attr.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        black_box(plain_walk(&edges, &root));
        t_walk.push(start.elapsed().as_secs_f64());
    }
    let (a50, a99) = (percentile(&mut t_attr, 0.5), percentile(&mut t_attr, 0.99));
    let (w50, w99) = (percentile(&mut t_walk, 0.5), percentile(&mut t_walk, 0.99));
    println!(
        "== provenance of a lot with {n} upstream lots ({} origins, {} elements, {} custody spells, {} sites), {runs} interleaved runs{} ==",
        answer.origins.len(),
        answer.elements.len(),
        answer.custody.len(),
        answer.sites.len(),
        if quick {
            " (quick form: figures not to be quoted)"
        } else {
            ""
        }
    );
    println!(
        "{:<34} {:>10} {:>10} {:>14}",
        "", "p50 ms", "p99 ms", "ratio (p50)"
    );
    println!(
        "{:<34} {:>10.3} {:>10.3} {:>14}",
        "bound: plain walk (HashMap, BFS)",
        w50 * 1e3,
        w99 * 1e3,
        "1"
    );
    println!(
        "{:<34} {:>10.3} {:>10.3} {:>14.4}",
        "attribute (provenance)",
        a50 * 1e3,
        a99 * 1e3,
        w50 / a50
    );
    println!(
        "ratio = plain walk time / provenance time; target: provenance p99 under 20 ms: {}",
        if a99 < 0.020 { "met" } else { "NOT met" }
    );
}
