//! Local value addition: the worked example of `docs/design/provenance.md`
//! ("Local value addition") computed by hand, the stage rules one by one,
//! the bound, and a property: the totals are the sums of the lines.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::collections::HashMap;

use oretrace_domain::record::LotForm;
use oretrace_domain::values::{Country, LotId};
use oretrace_provenance::Error;
use oretrace_provenance::graph::Grade;
use oretrace_provenance::value_added::{
    ExportLine, ExportStage, LotNode, Stage, Total, export_stage, is_export, totals,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use support::*;

type Nodes = HashMap<LotId, LotNode>;

fn node(nodes: &mut Nodes, name: &str, form: LotForm, made_in: &str, inputs: &[&str]) {
    nodes.insert(
        lot(name),
        LotNode {
            form,
            made_in: country(made_in),
            inputs: inputs.iter().map(|i| lot(i)).collect(),
        },
    );
}

fn stage_of(nodes: &Nodes, name: &str, exporter: &str) -> ExportStage {
    export_stage(&lot(name), country(exporter), 1000, |id: &LotId| {
        nodes.get(id).cloned().ok_or(Error::MissingLot {
            lot: id.to_string(),
            referenced_by: "the test".into(),
        })
    })
    .unwrap()
}

/// The worked example's registry: PK mines ore and makes oxide and a
/// packed consignment; CN refines a PK concentrate into metal and
/// re-exports another PK concentrate as it came.
fn world() -> Nodes {
    let mut n = Nodes::new();
    // PK: ore → concentrate → oxide.
    node(&mut n, "ore-1", LotForm::Ore, "PK", &[]);
    node(&mut n, "conc-1", LotForm::Concentrate, "PK", &["ore-1"]);
    node(&mut n, "oxide-1", LotForm::Oxide, "PK", &["conc-1"]);
    // PK: a consignment packing a concentrate and a sample.
    node(&mut n, "ore-2", LotForm::Ore, "PK", &[]);
    node(&mut n, "conc-4", LotForm::Concentrate, "PK", &["ore-2"]);
    node(&mut n, "sample-1", LotForm::Sample, "PK", &[]);
    node(
        &mut n,
        "pack-1",
        LotForm::Consignment,
        "PK",
        &["conc-4", "sample-1"],
    );
    // CN: a PK concentrate (made in PK, imported) refined to cathode,
    // then cast to metal.
    node(&mut n, "conc-2", LotForm::Concentrate, "PK", &[]);
    node(&mut n, "cathode-1", LotForm::Cathode, "CN", &["conc-2"]);
    node(&mut n, "metal-1", LotForm::Metal, "CN", &["cathode-1"]);
    // A PK concentrate that CN re-exports as it came.
    node(&mut n, "conc-3", LotForm::Concentrate, "PK", &[]);
    n
}

fn grade(symbol: &str, percent: &str, index: u64) -> Grade {
    Grade::dry(el(symbol), pct(percent), None, index)
}

fn line(
    nodes: &Nodes,
    name: &str,
    from: &str,
    to: &str,
    dry: &str,
    grades: Vec<Grade>,
) -> ExportLine {
    let exporter = is_export(country(from), country(to)).unwrap();
    ExportLine {
        lot: lot(name),
        shipment: token(&format!("ship-{name}")),
        shipment_index: 1,
        time: day(1),
        exporter,
        destination: country(to),
        stage: stage_of(nodes, name, from),
        dry_kg: d(dry),
        grades,
    }
}

fn find<'a>(totals: &'a [Total], c: &str, e: &str, stage: Stage) -> &'a Total {
    totals
        .iter()
        .find(|t| t.exporter == country(c) && t.element == el(e) && t.stage == Some(stage))
        .unwrap_or_else(|| panic!("no total {c} {e} {stage:?} in {totals:#?}"))
}

#[test]
fn stages_follow_the_chain_and_forms_map_onto_them() {
    for w in Stage::ALL.windows(2) {
        assert!(w[0] < w[1]);
    }
    assert_eq!(Stage::of_form(LotForm::Cathode), Some(Stage::Metal));
    assert_eq!(Stage::of_form(LotForm::Magnet), Some(Stage::Product));
    assert_eq!(
        Stage::of_form(LotForm::Compound),
        Some(Stage::MixedCompound)
    );
    assert_eq!(Stage::of_form(LotForm::Oxide), Some(Stage::SeparatedOxide));
    assert_eq!(Stage::of_form(LotForm::Consignment), None);
    assert_eq!(is_export(country("PK"), country("PK")), None);
    assert_eq!(is_export(country("PK"), country("US")), Some(country("PK")));
}

#[test]
fn each_export_gets_its_stage_and_the_stage_it_came_in_at() {
    let n = world();
    let oxide = stage_of(&n, "oxide-1", "PK");
    assert_eq!(
        (oxide.stage, oxide.entered, oxide.lots_read),
        (Some(Stage::SeparatedOxide), None, 3)
    );
    assert!(oxide.added_locally());
    // A consignment takes the furthest stage of what it holds.
    let pack = stage_of(&n, "pack-1", "PK");
    assert_eq!((pack.stage, pack.entered), (Some(Stage::Concentrate), None));
    // Imported concentrate refined: metal, came in as concentrate.
    let metal = stage_of(&n, "metal-1", "CN");
    assert_eq!(
        (metal.stage, metal.entered),
        (Some(Stage::Metal), Some(Stage::Concentrate))
    );
    assert!(metal.added_locally());
    // Re-exported as it came: no value added in CN.
    let again = stage_of(&n, "conc-3", "CN");
    assert_eq!(
        (again.stage, again.entered),
        (Some(Stage::Concentrate), Some(Stage::Concentrate))
    );
    assert!(!again.added_locally());
}

#[test]
fn worked_example_totals_by_hand() {
    let n = world();
    let lines = vec![
        // 100 kg dry oxide at Nd 60 % → 60 kg Nd, separated oxide.
        line(
            &n,
            "oxide-1",
            "PK",
            "CN",
            "100",
            vec![grade("Nd", "60", 10)],
        ),
        // 50 kg dry consignment at Nd 30 %, Cu 20 % → 15 kg Nd, 10 kg Cu,
        // concentrate.
        line(
            &n,
            "pack-1",
            "PK",
            "US",
            "50",
            vec![grade("Nd", "30", 11), grade("Cu", "20", 12)],
        ),
        // CN: 15 kg dry metal at Cu 100 % → 15 kg Cu, metal (added).
        line(
            &n,
            "metal-1",
            "CN",
            "US",
            "15",
            vec![grade("Cu", "100", 13)],
        ),
        // CN: 20 kg dry concentrate at Cu 25 % → 5 kg Cu, re-exported.
        line(&n, "conc-3", "CN", "US", "20", vec![grade("Cu", "25", 14)]),
    ];
    let t = totals(&lines).unwrap();
    assert_eq!(t.len(), 5, "{t:#?}");
    let pk_oxide = find(&t, "PK", "Nd", Stage::SeparatedOxide);
    assert_eq!(
        (pk_oxide.kg, pk_oxide.share_percent, pk_oxide.lots),
        (d("60"), d("80"), 1)
    );
    let pk_nd_conc = find(&t, "PK", "Nd", Stage::Concentrate);
    assert_eq!(
        (pk_nd_conc.kg, pk_nd_conc.share_percent),
        (d("15"), d("20"))
    );
    let pk_cu = find(&t, "PK", "Cu", Stage::Concentrate);
    assert_eq!((pk_cu.kg, pk_cu.share_percent), (d("10"), d("100")));
    let cn_metal = find(&t, "CN", "Cu", Stage::Metal);
    assert_eq!(
        (cn_metal.kg, cn_metal.reexported_kg, cn_metal.share_percent),
        (d("15"), d("0"), d("75"))
    );
    let cn_conc = find(&t, "CN", "Cu", Stage::Concentrate);
    assert_eq!(
        (cn_conc.kg, cn_conc.reexported_kg, cn_conc.share_percent),
        (d("5"), d("5"), d("25"))
    );
    // Ordered by country, element symbol, stage.
    let order: Vec<(String, &str)> = t
        .iter()
        .map(|t| (t.exporter.to_string(), t.element.symbol()))
        .collect();
    assert_eq!(
        order,
        [
            ("CN".to_owned(), "Cu"),
            ("CN".to_owned(), "Cu"),
            ("PK".to_owned(), "Cu"),
            ("PK".to_owned(), "Nd"),
            ("PK".to_owned(), "Nd"),
        ]
    );
}

#[test]
fn a_walk_past_the_bound_is_refused_and_a_cycle_ends() {
    let mut n = Nodes::new();
    let names: Vec<String> = (0..50).map(|i| format!("l-{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let inputs: Vec<&str> = names.get(i + 1).map(String::as_str).into_iter().collect();
        node(&mut n, name, LotForm::Concentrate, "PK", &inputs);
    }
    let read = |id: &LotId| {
        n.get(id).cloned().ok_or(Error::MissingLot {
            lot: id.to_string(),
            referenced_by: "the test".into(),
        })
    };
    let err = export_stage(&lot("l-0"), country("PK"), 10, read).unwrap_err();
    assert_eq!(
        err,
        Error::TooManyLots {
            lot: lot("l-0").to_string(),
            limit: 10
        }
    );
    assert_eq!(
        export_stage(&lot("l-0"), country("PK"), 50, read)
            .unwrap()
            .lots_read,
        50
    );
    // A cycle (a damaged store) ends where it closes.
    let mut c = Nodes::new();
    node(&mut c, "a", LotForm::Consignment, "PK", &["b"]);
    node(&mut c, "b", LotForm::Consignment, "PK", &["a"]);
    let s = stage_of(&c, "a", "PK");
    assert_eq!((s.stage, s.entered), (None, None));
}

fn arb_line() -> impl Strategy<Value = ExportLine> {
    (
        0usize..3,
        0usize..8,
        proptest::option::of(0usize..8),
        0u32..1_000_000,
        proptest::collection::vec((0usize..3, 0u32..=3000), 0..3),
    )
        .prop_map(|(c, stage, entered, dry, grades)| {
            let exporters = ["PK", "CN", "US"];
            let elements = ["Cu", "Nd", "Sb"];
            let mut seen = Vec::new();
            let grades: Vec<Grade> = grades
                .into_iter()
                .filter(|(e, _)| {
                    let new = !seen.contains(e);
                    seen.push(*e);
                    new
                })
                .map(|(e, g)| {
                    Grade::dry(
                        el(elements[e]),
                        oretrace_domain::values::Percent::new(Decimal::new(i64::from(g), 2))
                            .unwrap(),
                        None,
                        7,
                    )
                })
                .collect();
            ExportLine {
                lot: lot("x"),
                shipment: token("s"),
                shipment_index: 0,
                time: day(1),
                exporter: Country::parse(exporters[c]).unwrap(),
                destination: country("DE"),
                stage: ExportStage {
                    stage: Some(Stage::ALL[stage]),
                    entered: entered.map(|e| Stage::ALL[e]),
                    lots_read: 1,
                },
                dry_kg: Decimal::new(i64::from(dry), 1),
                grades,
            }
        })
}

proptest! {
    /// Every total is the sum of its lines' contained masses, shares per
    /// country and element sum to 100 %, and nothing is lost or counted
    /// twice.
    #[test]
    fn totals_are_the_sums_of_the_lines(lines in proptest::collection::vec(arb_line(), 0..40)) {
        let t = totals(&lines).unwrap();
        let mut grand_lines = Decimal::ZERO;
        for l in &lines {
            for (_, kg, _) in l.contained() {
                grand_lines += kg;
            }
        }
        let grand_totals: Decimal = t.iter().map(|t| t.kg).sum();
        prop_assert_eq!(grand_lines, grand_totals);
        for total in &t {
            let mut kg = Decimal::ZERO;
            let mut reexported = Decimal::ZERO;
            let mut count = 0;
            for l in &lines {
                if l.exporter != total.exporter || l.stage.stage != total.stage {
                    continue;
                }
                for (e, c, _) in l.contained() {
                    if e == total.element {
                        kg += c;
                        count += 1;
                        if !l.stage.added_locally() {
                            reexported += c;
                        }
                    }
                }
            }
            prop_assert_eq!(total.kg, kg);
            prop_assert_eq!(total.reexported_kg, reexported);
            prop_assert_eq!(total.lots, count);
            let shares: Decimal = t
                .iter()
                .filter(|o| o.exporter == total.exporter && o.element == total.element)
                .map(|o| o.share_percent)
                .sum();
            let all: Decimal = t
                .iter()
                .filter(|o| o.exporter == total.exporter && o.element == total.element)
                .map(|o| o.kg)
                .sum();
            if all.is_zero() {
                prop_assert_eq!(shares, Decimal::ZERO);
            } else {
                prop_assert!((shares - Decimal::ONE_HUNDRED).abs() < Decimal::new(1, 20), "shares {}", shares);
            }
        }
    }
}
