//! Property tests on random lot DAGs built as the ledger would let them
//! grow (each lot consumed at most once, every transformation conserving
//! each element by its assays): attribution shares sum to 1 per element;
//! no transformation is refused; the element attributed to an origin
//! never exceeds what the origin held, and the lots left hold no more of
//! an element than the origins did; splitting a lot and merging the parts
//! changes no share.

#![expect(
    clippy::unwrap_used,
    reason = "test code: the graph builders outside #[test] functions fail by panicking too"
)]

mod support;

use std::collections::BTreeMap;

use oretrace_domain::record::SiteKind;
use oretrace_provenance::graph::{Grade, Lot, LotGraph};
use oretrace_provenance::{Limits, Tolerance, Verdict, attribute, mass_balance};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use support::*;

const SITES: [(&str, &str); 4] = [
    ("mine-a", "PK"),
    ("mine-b", "PK"),
    ("mine-c", "US"),
    ("mine-d", "CN"),
];
const ELEMENTS: [&str; 2] = ["Cu", "Co"];

#[derive(Debug, Clone)]
struct OriginPlan {
    site: usize,
    wet_kg: u32,
    moisture: u8,
    /// Grades in hundredths of a percent.
    grades: [u16; 2],
}

#[derive(Debug, Clone)]
struct StepPlan {
    /// Indices into the lots still available (taken modulo their number).
    inputs: Vec<(usize, u8)>,
    yield_percent: u8,
    recovery_percent: [u8; 2],
    /// Weights of the outputs and their moistures.
    outputs: Vec<(u8, u8)>,
}

fn origin_plan() -> impl Strategy<Value = OriginPlan> {
    (
        0..SITES.len(),
        100u32..1_000_000,
        0u8..20,
        0u16..3000,
        0u16..500,
    )
        .prop_map(|(site, wet_kg, moisture, cu, co)| OriginPlan {
            site,
            wet_kg,
            moisture,
            grades: [cu, co],
        })
}

fn step_plan() -> impl Strategy<Value = StepPlan> {
    (
        prop::collection::vec((0usize..64, 1u8..=100), 1..4),
        30u8..=100,
        [0u8..=100, 0u8..=100],
        prop::collection::vec((1u8..10, 0u8..15), 1..4),
    )
        .prop_map(
            |(inputs, yield_percent, recovery_percent, outputs)| StepPlan {
                inputs,
                yield_percent,
                recovery_percent,
                outputs,
            },
        )
}

fn floor(x: Decimal, dp: u32) -> Decimal {
    x.round_dp_with_strategy(dp, RoundingStrategy::ToZero)
}

/// The graph, the lots still available (unconsumed) and the origins.
fn build(origins: &[OriginPlan], steps: &[StepPlan]) -> (LotGraph, Vec<String>) {
    let mut g = LotGraph::new();
    for (id, c) in SITES {
        add_site(&mut g, id, SiteKind::Mine, c);
    }
    add_site(&mut g, "plant", SiteKind::Concentrator, "PK");
    let mut available: Vec<String> = Vec::new();
    for (i, o) in origins.iter().enumerate() {
        let name = format!("o{i}");
        let grades = ELEMENTS
            .iter()
            .zip(o.grades)
            .map(|(e, bp)| {
                Grade::dry(
                    el(e),
                    pct(&Decimal::new(i64::from(bp), 2).to_string()),
                    None,
                    0,
                )
            })
            .collect();
        g.add_lot(origin(
            &name,
            SITES[o.site].0,
            "fwo",
            day(1),
            &o.wet_kg.to_string(),
            &o.moisture.to_string(),
            grades,
        ))
        .unwrap();
        available.push(name);
    }
    for (s, step) in steps.iter().enumerate() {
        if available.is_empty() {
            break;
        }
        let mut picked: Vec<(String, u8)> = Vec::new();
        for (idx, frac) in &step.inputs {
            if available.is_empty() {
                break;
            }
            let name = available.remove(idx % available.len());
            picked.push((name, *frac));
        }
        let mut inputs = Vec::new();
        let mut dry_in = Decimal::ZERO;
        let mut contained_in = [Decimal::ZERO; 2];
        for (name, frac) in &picked {
            let lot: &Lot = g.lot(&lot(name)).unwrap();
            let consumed = floor(
                lot.wet_mass.kilograms() * Decimal::from(*frac) / Decimal::ONE_HUNDRED,
                6,
            );
            let dry = consumed * (Decimal::ONE - lot.moisture.value() / Decimal::ONE_HUNDRED);
            dry_in += dry;
            for (k, e) in ELEMENTS.iter().enumerate() {
                contained_in[k] += dry * lot.grade(el(e)).unwrap().percent() / Decimal::ONE_HUNDRED;
            }
            inputs.push((name.clone(), consumed.to_string()));
        }
        let t = format!("t{s}");
        let total_weight: u32 = step.outputs.iter().map(|(w, _)| u32::from(*w)).sum();
        let mut outputs = Vec::new();
        for (j, (w, moisture)) in step.outputs.iter().enumerate() {
            let name = format!("t{s}-out{j}");
            let dry = dry_in * Decimal::from(step.yield_percent) / Decimal::ONE_HUNDRED
                * Decimal::from(*w)
                / Decimal::from(total_weight);
            let wet = floor(
                dry / (Decimal::ONE - Decimal::from(*moisture) / Decimal::ONE_HUNDRED),
                6,
            );
            // Every output has the blend's make-up: grade = recovery × the
            // inputs' mean grade, rounded down.
            let grades = ELEMENTS
                .iter()
                .enumerate()
                .map(|(k, e)| {
                    let grade = if dry_in.is_zero() {
                        Decimal::ZERO
                    } else {
                        floor(
                            Decimal::from(step.recovery_percent[k]) * contained_in[k] / dry_in,
                            10,
                        )
                    };
                    Grade::dry(
                        el(e),
                        oretrace_domain::values::Percent::new(grade).unwrap(),
                        None,
                        0,
                    )
                })
                .collect();
            g.add_lot(output(
                &name,
                &t,
                "plant",
                "fwo",
                day(2),
                &wet.to_string(),
                &moisture.to_string(),
                grades,
            ))
            .unwrap();
            outputs.push(name);
        }
        let ins: Vec<(&str, &str)> = inputs
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let outs: Vec<&str> = outputs.iter().map(String::as_str).collect();
        g.add_transformation(transformation(&t, "plant", day(2), &ins, &outs))
            .unwrap();
        available.extend(outputs);
    }
    (g, available)
}

fn all_lots(origins: usize, g: &LotGraph, steps: usize) -> Vec<String> {
    let mut names: Vec<String> = (0..origins).map(|i| format!("o{i}")).collect();
    for s in 0..steps {
        for j in 0..4 {
            let name = format!("t{s}-out{j}");
            if g.lot(&lot(&name)).is_some() {
                names.push(name);
            }
        }
    }
    names
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn shares_sum_to_one_and_checked_chains_never_grow_an_element(
        origins in prop::collection::vec(origin_plan(), 1..7),
        steps in prop::collection::vec(step_plan(), 1..10),
    ) {
        let (g, available) = build(&origins, &steps);
        // Every transformation passes its balance with no tolerance at all.
        for s in 0..steps.len() {
            if let Some(t) = g.transformation(&token(&format!("t{s}"))) {
                let b = mass_balance(&g, &t.id, &Tolerance::stated_only()).unwrap();
                for e in &b.elements {
                    prop_assert_eq!(&e.verdict, &Verdict::Holds, "{} {}", t.id, e.element.symbol());
                }
            }
        }
        // What each origin site held, per element.
        let mut held: BTreeMap<(&str, &str), Decimal> = BTreeMap::new();
        let mut origin_total = [Decimal::ZERO; 2];
        for (i, o) in origins.iter().enumerate() {
            let l = g.lot(&lot(&format!("o{i}"))).unwrap();
            for (k, e) in ELEMENTS.iter().enumerate() {
                let c = l.contained_kg(el(e)).unwrap();
                *held.entry((SITES[o.site].0, *e)).or_default() += c;
                origin_total[k] += c;
            }
        }
        for name in all_lots(origins.len(), &g, steps.len()) {
            let p = attribute(&g, &lot(&name), Limits::DEFAULT).unwrap();
            for shares in &p.elements {
                let sum: Decimal = shares.by_site.iter().map(|s| s.share).sum::<Decimal>() + shares.unknown;
                prop_assert!(close(sum, Decimal::ONE), "{name} {}: shares sum to {sum}", shares.element.symbol());
                let country_sum: Decimal = shares.by_country.iter().map(|s| s.share).sum::<Decimal>() + shares.unknown;
                prop_assert!(close(country_sum, Decimal::ONE));
                for s in &shares.by_site {
                    let attributed = s.contained_kg.unwrap();
                    let most = held[&(s.site.as_str(), shares.element.symbol())];
                    prop_assert!(attributed <= most + Decimal::new(1, 15),
                        "{name}: {attributed} kg of {} from {}, which held {most}", shares.element.symbol(), s.site);
                }
            }
        }
        // The lots left hold no more of an element than the origins did.
        for (k, e) in ELEMENTS.iter().enumerate() {
            let left: Decimal = available.iter().map(|n| g.lot(&lot(n)).unwrap().contained_kg(el(e)).unwrap()).sum();
            prop_assert!(left <= origin_total[k], "{e}: {left} kg left, {} kg at the origins", origin_total[k]);
        }
    }

    #[test]
    fn splitting_then_merging_a_lot_changes_no_share(
        origins in prop::collection::vec(origin_plan(), 1..7),
        steps in prop::collection::vec(step_plan(), 0..8),
        parts in prop::collection::vec((1u8..100, 0u16..3000), 2..5),
        pick in 0usize..64,
    ) {
        let (mut g, available) = build(&origins, &steps);
        let x = available[pick % available.len()].clone();
        let wet = g.lot(&lot(&x)).unwrap().wet_mass.kilograms();
        let total: u32 = parts.iter().map(|(w, _)| u32::from(*w)).sum();
        let mut names = Vec::new();
        let mut merged = Vec::new();
        for (j, (w, cu)) in parts.iter().enumerate() {
            let name = format!("part{j}");
            let part_wet = floor(wet * Decimal::from(*w) / Decimal::from(total), 6).to_string();
            // Each part's own assays: any grades at all.
            let grades = vec![
                Grade::dry(el("Cu"), pct(&Decimal::new(i64::from(*cu), 2).to_string()), None, 0),
                Grade::dry(el("Co"), pct("0.5"), None, 0),
            ];
            g.add_lot(output(&name, "split", "plant", "fwo", day(3), &part_wet, "5", grades)).unwrap();
            merged.push((name.clone(), part_wet));
            names.push(name);
        }
        let outs: Vec<&str> = names.iter().map(String::as_str).collect();
        g.add_transformation(transformation("split", "plant", day(3), &[(&x, &wet.to_string())], &outs)).unwrap();
        g.add_lot(output("merged", "merge", "plant", "fwo", day(4), "1", "0", vec![])).unwrap();
        let ins: Vec<(&str, &str)> = merged.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        g.add_transformation(transformation("merge", "plant", day(4), &ins, &["merged"])).unwrap();

        let before = attribute(&g, &lot(&x), Limits::DEFAULT).unwrap();
        let after = attribute(&g, &lot("merged"), Limits::DEFAULT).unwrap();
        for e in ELEMENTS {
            let (b, a) = (before.element(el(e)).unwrap(), after.element(el(e)).unwrap());
            // Shares pass through the split when x holds the element, and
            // through the merge when some part does (by its assays).
            let x_holds = g.lot(&lot(&x)).unwrap().contained_kg(el(e)).unwrap() > Decimal::ZERO;
            let a_part_holds = e == "Co" || parts.iter().any(|(_, cu)| *cu > 0);
            if x_holds && a_part_holds {
                prop_assert!(close(a.unknown, b.unknown));
                for s in &b.by_site {
                    prop_assert!(close(s.share, a.site_share(s.site)), "{e} {}: {} then {}", s.site, s.share, a.site_share(s.site));
                }
                prop_assert_eq!(a.by_site.len(), b.by_site.len());
            }
        }
    }
}
