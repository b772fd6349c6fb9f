//! The anomaly scan (`oretrace_provenance::anomalies`) over a synthetic
//! ledger of 1,000,000 items generated from a seed, against a plain pass
//! over the same items measured in the same run: every lot id an item
//! names hashed into a map from lot id to the last index that named it
//! (the least any per-lot check must do).
//!
//! The ledger: groups of four ore lots commissioned at 100 mines, each
//! assayed, shipped to one of 10 plants and received there; the four
//! blended into one concentrate, assayed, shipped to one of 5 ports and
//! received: 20 items a group. Masses and times come from the seed; one
//! group in 200 leaves its concentrate unreceived (a custody gap the
//! scan must find) and assays a consumed ore lot instead (used after
//! consumption), so the answer is checked, not only timed.
//!
//! Full form (`cargo bench -p oretrace-provenance --bench anomalies`):
//! criterion groups, then the median of 11 interleaved runs of each, in
//! items per second, and the ratio. Quick form (`-- --test`,
//! `cargo test --benches`): 20,000 items, 3 runs, with the checks.

#![expect(
    clippy::unwrap_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::collections::HashMap;
use std::hint::black_box;

use criterion::Criterion;
use oretrace_provenance::anomalies::{Item, Kind, ScanConfig, scan};
use rust_decimal::Decimal;

/// A small deterministic generator (SplitMix64).
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The ledger's items and the shipments left unreceived.
fn ledger(items: usize, seed: u64) -> (Vec<Item>, usize) {
    let mut rng = Seeded(seed);
    let mut out = Vec::with_capacity(items + 200);
    let mut index = 0u64;
    let mut next = || {
        index += 1;
        index - 1
    };
    for m in 0..100 {
        out.push(Item::Site {
            id: format!("mine-{m}"),
            index: next(),
        });
    }
    for p in 0..10 {
        out.push(Item::Site {
            id: format!("plant-{p}"),
            index: next(),
        });
    }
    for p in 0..5 {
        out.push(Item::Site {
            id: format!("port-{p}"),
            index: next(),
        });
    }
    let mut time = 1_756_684_800i64;
    let mut open = 0;
    let mut g = 0usize;
    // Every unreceived shipment but the last 200 groups' is over 30 days old.
    let groups = items.saturating_sub(115) / 20;
    while out.len() + 20 <= items {
        let plant = format!("plant-{}", g % 10);
        let mut inputs = Vec::with_capacity(4);
        for k in 0..4 {
            time += 3600;
            let id = format!("urn:oretrace:lot:fwo:ore-{g}-{k}");
            let mine = format!("mine-{}", rng.next() % 100);
            let kg = Decimal::new(10_000 + (rng.next() % 90_000) as i64, 0);
            out.push(Item::Lot {
                id: id.clone(),
                site: mine.clone(),
                wet_kg: kg,
                time,
                index: next(),
                illustrative: false,
            });
            out.push(Item::Assay {
                lot: id.clone(),
                time: time + 3600,
                index: next(),
                illustrative: false,
            });
            let s = format!("s-{g}-{k}");
            out.push(Item::Shipment {
                id: s.clone(),
                lots: vec![id.clone()],
                from: mine,
                to: plant.clone(),
                time: time + 7200,
                index: next(),
                illustrative: false,
            });
            out.push(Item::Receipt {
                shipment: s,
                site: plant.clone(),
                lots: vec![(id.clone(), kg)],
                time: time + 86_400,
                index: next(),
                illustrative: false,
            });
            inputs.push((id, kg));
        }
        let conc = format!("urn:oretrace:lot:fwo:conc-{g}");
        let conc_kg = Decimal::new(1_000 + (rng.next() % 9_000) as i64, 0);
        let t = time + 2 * 86_400;
        out.push(Item::Transformation {
            id: format!("t-{g}"),
            site: plant.clone(),
            inputs,
            outputs: vec![(conc.clone(), conc_kg)],
            time: t,
            index: next(),
            illustrative: false,
        });
        out.push(Item::Assay {
            lot: conc.clone(),
            time: t + 3600,
            index: next(),
            illustrative: false,
        });
        let s = format!("x-{g}");
        let port = format!("port-{}", g % 5);
        out.push(Item::Shipment {
            id: s.clone(),
            lots: vec![conc.clone()],
            from: plant,
            to: port.clone(),
            time: t + 7200,
            index: next(),
            illustrative: false,
        });
        if g % 200 == 199 && g + 200 <= groups {
            open += 1;
            out.push(Item::Assay {
                lot: format!("urn:oretrace:lot:fwo:ore-{g}-0"),
                time: t + 7200,
                index: next(),
                illustrative: false,
            });
        } else {
            out.push(Item::Receipt {
                shipment: s,
                site: port,
                lots: vec![(conc, conc_kg)],
                time: t + 3 * 86_400,
                index: next(),
                illustrative: false,
            });
        }
        g += 1;
    }
    (out, open)
}

/// Every lot id an item names, hashed into a map to the last index, with
/// the scan's own hasher (`ahash`, keyed at random).
fn plain_pass(items: &[Item]) -> usize {
    let mut last: HashMap<&str, u64, ahash::RandomState> = HashMap::default();
    for item in items {
        match item {
            Item::Site { id, index } => {
                last.insert(id, *index);
            }
            Item::Lot { id, index, .. } => {
                last.insert(id, *index);
            }
            Item::Assay { lot, index, .. } => {
                last.insert(lot, *index);
            }
            Item::Shipment { lots, index, .. } => {
                for l in lots {
                    last.insert(l, *index);
                }
            }
            Item::Receipt { lots, index, .. } => {
                for (l, _) in lots {
                    last.insert(l, *index);
                }
            }
            Item::Transformation {
                inputs,
                outputs,
                index,
                ..
            } => {
                for (l, _) in inputs.iter().chain(outputs) {
                    last.insert(l, *index);
                }
            }
        }
    }
    last.len()
}

fn main() {
    let quick = oretrace_benchkit::quick_mode();
    let list = oretrace_benchkit::list_mode();
    let (n, runs) = if quick { (20_000, 3) } else { (1_000_000, 11) };
    let (items, open) = ledger(n, 0x5EED);
    // The checks, before any timing: the used-after-consumed assays and
    // the unreceived shipments are exactly what is found.
    let report = scan(items.iter().cloned(), ScanConfig::DEFAULT).unwrap();
    let counts: HashMap<Kind, usize> = report.counts().into_iter().collect();
    assert_eq!(
        counts[&Kind::CustodyGap],
        open,
        "{:?}",
        report.findings.first()
    );
    assert_eq!(counts[&Kind::UsedAfterConsumed], open);
    assert_eq!(
        report.findings.len(),
        2 * open,
        "{:?}",
        report.findings.first()
    );
    assert!(plain_pass(&items) > items.len() / 5);
    let mut c = Criterion::default().configure_from_args();
    {
        let mut group = c.benchmark_group(format!("anomalies-{}-items", items.len()));
        group.sample_size(10);
        group.bench_function("scan", |b| {
            b.iter(|| {
                let mut s = oretrace_provenance::anomalies::Scan::new(ScanConfig::DEFAULT);
                for item in &items {
                    s.push(item);
                }
                black_box(s.finish().unwrap().findings.len())
            })
        });
        group.bench_function("bound: plain pass", |b| {
            b.iter(|| black_box(plain_pass(&items)))
        });
        group.finish();
    }
    c.final_summary();
    if list {
        return;
    }
    let scan_once = || {
        oretrace_benchkit::time(|| {
            let mut s = oretrace_provenance::anomalies::Scan::new(ScanConfig::DEFAULT);
            for item in &items {
                s.push(item);
            }
            black_box(s.finish().unwrap().findings.len())
        })
    };
    let pass_once = || oretrace_benchkit::time(|| black_box(plain_pass(&items)));
    let [t_scan, t_pass] = oretrace_benchkit::interleaved(runs, [&scan_once, &pass_once]);
    let len = items.len() as f64;
    println!(
        "== anomaly scan of {} items ({} findings), median of {runs} interleaved runs{} ==",
        items.len(),
        report.findings.len(),
        if quick {
            " (quick form: figures not to be quoted)"
        } else {
            ""
        }
    );
    println!("{:<34} {:>10} {:>16} {:>12}", "", "ms", "items/s", "ratio");
    println!(
        "{:<34} {:>10.1} {:>16.0} {:>12}",
        "bound: plain pass (HashMap, ahash)",
        t_pass * 1e3,
        len / t_pass,
        "1"
    );
    println!(
        "{:<34} {:>10.1} {:>16.0} {:>12.3}",
        "anomaly scan",
        t_scan * 1e3,
        len / t_scan,
        t_pass / t_scan
    );
    println!(
        "ratio = plain pass time / scan time; target: at least 1,000,000 items/s: {}",
        if len / t_scan >= 1e6 {
            "met"
        } else {
            "NOT met"
        }
    );
}
