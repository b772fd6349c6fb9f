//! The structure-aware target's own check: a hand-written story of the
//! whole chain is accepted record by record (so the fuzzer's invariants
//! are not vacuous), and its replays and forgeries are refused.

use oretrace_fuzz_targets::ledger::{Amount, Step, Story, Unit, Who, play};

fn kg(n: u16) -> (Amount, Unit) {
    (Amount::Small(n), Unit::Kilogram)
}

#[test]
fn the_whole_chain_is_accepted_and_replays_are_refused() {
    let steps = vec![
        Step::Lot {
            who: Who::Fwo,
            lot: 0,
            site: 0,
            form: 0,
            mass: Amount::Small(25),
            unit: Unit::Kilogram,
            moisture: Amount::Small(4),
            day: 40,
        },
        Step::Assay {
            who: Who::Fwo,
            lab: Who::Lab,
            lab_signs: true,
            lot: 0,
            analyte: 0,
            value: Amount::Fraction(552, 1),
            grade_unit: 0,
            dry: true,
            day: 41,
        },
        Step::Shipment {
            who: Who::Fwo,
            id: 0,
            lots: vec![0],
            from: 0,
            to: 2,
            via: vec![1],
            receiver: Who::Ussm,
            day: 50,
        },
        Step::Receipt {
            who: Who::Ussm,
            shipment: 0,
            site: 2,
            lots: vec![(0, Amount::Fraction(248, 1), Unit::Kilogram)],
            day: 60,
        },
        Step::Transformation {
            who: Who::Ussm,
            id: 0,
            site: 2,
            inputs: vec![(0, kg(24).0, kg(24).1)],
            outputs: vec![(1, 3, Amount::Small(20), Unit::Kilogram, Amount::Small(0))],
            day: 70,
        },
        Step::Replay(10),
        Step::Forge(
            Box::new(Step::Lot {
                who: Who::Fwo,
                lot: 2,
                site: 1,
                form: 2,
                mass: Amount::Big(1, 0),
                unit: Unit::Tonne,
                moisture: Amount::Small(0),
                day: 80,
            }),
            5,
        ),
    ];
    let played = play(&Story { cast: true, steps });
    // 4 parties, 4 sites, lot, assay, shipment, receipt, transformation.
    assert_eq!(played.accepted, 13, "{played:?}");
    assert_eq!(played.refused, 2, "{played:?}");
    assert_eq!(played.invalid, 0, "{played:?}");
}
