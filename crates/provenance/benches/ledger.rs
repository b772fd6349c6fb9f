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

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use oretrace_benchkit::{interleaved, plain_bench, quick_mode, time};
use oretrace_domain::values::{LotId, Percent};
use oretrace_provenance::graph::{Limits, Lot};
use oretrace_provenance::{Tolerance, Verdict, attribute, mass_balance};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

#[allow(
    dead_code,
    reason = "the shape is shared with the served registry generator, which uses parts this bench does not"
)]
mod shape;
use shape::{COUNTRIES, DEFAULT_SEED, MINES, STAGES, edges, generate, plain_walk, recount};

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
