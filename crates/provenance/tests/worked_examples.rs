//! The worked examples of `docs/design/provenance.md`, computed by hand
//! there and checked here to the last digit the decimals carry.

#![expect(
    clippy::unwrap_used,
    reason = "test code: the graph builders outside #[test] functions fail by panicking too"
)]

mod support;

use oretrace_domain::chemistry::{Analyte, GradeUnit};
use oretrace_domain::record::{Basis, SiteKind};
use oretrace_provenance::attribute::{Role, SpellEnd};
use oretrace_provenance::graph::{Grade, Limits, LotGraph};
use oretrace_provenance::models::{Claim, Model, judge_site};
use oretrace_provenance::reconcile::{Quantity, ReconcileTolerance, Side};
use oretrace_provenance::{Error, Tolerance, Verdict, attribute, mass_balance, reconcile};
use rust_decimal::Decimal;
use support::*;

/// Two ores concentrated in Pakistan (`conc-1`), the concentrate shipped
/// through Karachi to Missouri and blended with a Madison mine
/// concentrate (`blend-1`). `blend_cu` is the blend's Cu grade; `pm`, when
/// given, the ± points every Cu assay states.
fn scenario(blend_cu: &str, pm: Option<&str>) -> LotGraph {
    let mut g = LotGraph::new();
    add_site(&mut g, "saindak", SiteKind::Mine, "PK");
    add_site(&mut g, "reko-diq", SiteKind::Mine, "PK");
    add_site(&mut g, "fwo-conc", SiteKind::Concentrator, "PK");
    add_site(&mut g, "karachi-port", SiteKind::Port, "PK");
    add_site(&mut g, "ussm-plant", SiteKind::ReceivingPlant, "US");
    add_site(&mut g, "madison", SiteKind::Mine, "US");
    let cu = |p: &str| grade("Cu", p, pm);
    let mut o1 = origin(
        "o1",
        "saindak",
        "fwo",
        day(1),
        "100000",
        "5",
        vec![cu("1.6"), grade("Co", "0.01", None)],
    );
    o1.movements.push(moved(
        "truck-1",
        "saindak",
        &[],
        "fwo-conc",
        ("fwo", "fwo"),
        (day(2), day(3)),
        "100000",
    ));
    let mut o2 = origin(
        "o2",
        "reko-diq",
        "fwo",
        day(1),
        "50000",
        "5",
        vec![cu("1.2"), grade("Co", "0.02", None)],
    );
    o2.movements.push(moved(
        "truck-2",
        "reko-diq",
        &[],
        "fwo-conc",
        ("fwo", "fwo"),
        (day(2), day(4)),
        "50000",
    ));
    let mut a = output(
        "a",
        "conc-1",
        "fwo-conc",
        "fwo",
        day(5),
        "10000",
        "8",
        vec![cu("22"), grade("Co", "0.1", None)],
    );
    a.movements.push(moved(
        "ship-1",
        "fwo-conc",
        &["karachi-port"],
        "ussm-plant",
        ("fwo", "ussm"),
        (day(6), day(20)),
        "10000",
    ));
    let m = origin(
        "m",
        "madison",
        "ussm",
        day(10),
        "5000",
        "10",
        vec![cu("8"), grade("Co", "2", None)],
    );
    let b = output(
        "b",
        "blend-1",
        "ussm-plant",
        "ussm",
        day(21),
        "14000",
        "2.5",
        vec![cu(blend_cu), grade("Co", "0.72", None)],
    );
    for l in [o1, o2, a, m, b] {
        g.add_lot(l).unwrap();
    }
    g.add_transformation(transformation(
        "conc-1",
        "fwo-conc",
        day(5),
        &[("o1", "100000"), ("o2", "50000")],
        &["a"],
    ))
    .unwrap();
    g.add_transformation(transformation(
        "blend-1",
        "ussm-plant",
        day(21),
        &[("a", "10000"), ("m", "5000")],
        &["b"],
    ))
    .unwrap();
    g
}

fn frac(n: i64, m: i64) -> Decimal {
    Decimal::from(n) / Decimal::from(m)
}

#[test]
fn worked_example_blend() {
    let g = scenario("17.45", None);
    let p = attribute(&g, &lot("b"), Limits::DEFAULT).unwrap();
    assert_eq!(p.upstream_lots, 5);

    let cu = p.element(el("Cu")).unwrap();
    assert_eq!(cu.contained_kg, Some(d("2381.925")));
    for (site, share) in [
        ("saindak", frac(92, 149)),
        ("reko-diq", frac(69, 298)),
        ("madison", frac(45, 298)),
    ] {
        assert!(
            close(cu.site_share(&site_id(site)), share),
            "Cu {site}: {}",
            cu.site_share(&site_id(site))
        );
    }
    assert!(close(cu.country_share(country("PK")), frac(253, 298)));
    assert!(close(cu.country_share(country("US")), frac(45, 298)));
    assert_eq!(
        *cu.by_site[0].site,
        site_id("saindak"),
        "largest share first"
    );
    assert!(cu.unknown.is_zero() && cu.unassayed.is_empty());
    // 61.745 %, 23.154 %, 15.101 % as the note rounds them.
    let rounded: Vec<String> = cu
        .by_site
        .iter()
        .map(|s| (s.share * Decimal::ONE_HUNDRED).round_dp(3).to_string())
        .collect();
    assert_eq!(rounded, ["61.745", "23.154", "15.101"]);

    let co = p.element(el("Co")).unwrap();
    assert!(close(co.site_share(&site_id("saindak")), frac(23, 496)));
    assert!(close(co.site_share(&site_id("reko-diq")), frac(23, 496)));
    assert!(close(co.site_share(&site_id("madison")), frac(225, 248)));
    assert!(close(co.country_share(country("PK")), frac(23, 248)));

    // By mass the blend would be 92/137 = 67.153 % Pakistani: not the rule.
    assert!(!close(cu.country_share(country("PK")), frac(92, 137)));

    // Origins, steps, custody, sites.
    let origins: Vec<&str> = p.origins.iter().map(|o| o.site.as_str()).collect();
    assert_eq!(origins, ["saindak", "reko-diq", "madison"]);
    let steps: Vec<&str> = p.steps.iter().map(|s| s.transformation.as_str()).collect();
    assert_eq!(steps, ["conc-1", "blend-1"]);
    let a_spells: Vec<(&str, &str, SpellEnd)> = p
        .custody
        .iter()
        .filter(|s| *s.lot == lot("a"))
        .map(|s| (s.custodian.as_str(), s.site.as_str(), s.ended_by.clone()))
        .collect();
    assert_eq!(
        a_spells,
        [
            ("fwo", "fwo-conc", SpellEnd::Shipped(&token("ship-1"))),
            ("ussm", "ussm-plant", SpellEnd::Consumed(&token("blend-1"))),
        ]
    );
    let b_spell = p.custody.iter().find(|s| *s.lot == lot("b")).unwrap();
    assert_eq!(
        (b_spell.from, b_spell.until, &b_spell.ended_by),
        (day(21), None, &SpellEnd::Open)
    );
    let sites: Vec<(&str, Vec<Role>)> = p
        .sites
        .iter()
        .map(|s| (s.site.as_str(), s.roles.clone()))
        .collect();
    assert_eq!(
        sites,
        [
            ("reko-diq", vec![Role::Origin, Role::Departure]),
            ("saindak", vec![Role::Origin, Role::Departure]),
            (
                "fwo-conc",
                vec![Role::Processing, Role::Departure, Role::Arrival]
            ),
            ("karachi-port", vec![Role::Transit]),
            ("madison", vec![Role::Origin]),
            ("ussm-plant", vec![Role::Processing, Role::Arrival]),
        ]
    );
}

#[test]
fn worked_example_concentration_balance() {
    let g = scenario("17.45", None);
    let b = mass_balance(&g, &token("conc-1"), &Tolerance::stated_only()).unwrap();
    assert_eq!(b.dry_in_kg, d("142500"));
    assert_eq!(b.dry_out_kg, d("9200"));
    assert_eq!(b.mass_yield.unwrap().round_dp(5), d("0.06456"));
    let cu = b.element(el("Cu")).unwrap();
    assert_eq!((cu.in_kg, cu.out_kg), (d("2090"), d("2024")));
    assert_eq!(cu.recovery.unwrap().round_dp(6), d("0.968421"));
    assert_eq!(cu.verdict, Verdict::Holds);
    let co = b.element(el("Co")).unwrap();
    assert_eq!((co.in_kg, co.out_kg), (d("19"), d("9.2")));
    assert_eq!(co.recovery.unwrap().round_dp(6), d("0.484211"));
    assert!(b.refused().is_none());
}

#[test]
fn worked_example_blend_balance_within_and_beyond_the_assays_uncertainty() {
    // 17.45 %: holds, recovery 99.913 %.
    let b = mass_balance(
        &scenario("17.45", None),
        &token("blend-1"),
        &Tolerance::stated_only(),
    )
    .unwrap();
    let cu = b.element(el("Cu")).unwrap();
    assert_eq!((cu.in_kg, cu.out_kg), (d("2384"), d("2381.925")));
    assert_eq!(cu.recovery.unwrap().round_dp(5), d("0.99913"));
    assert_eq!(cu.verdict, Verdict::Holds);

    // 17.60 % ± 0.2 everywhere: 18.4 kg more than went in, allowance 54.7.
    let b = mass_balance(
        &scenario("17.6", Some("0.2")),
        &token("blend-1"),
        &Tolerance::stated_only(),
    )
    .unwrap();
    let cu = b.element(el("Cu")).unwrap();
    assert_eq!(cu.out_kg, d("2402.4"));
    assert_eq!(cu.allowance_kg, d("54.7"));
    assert_eq!(cu.verdict, Verdict::Holds);
    assert_eq!(cu.recovery.unwrap().round_dp(4), d("1.0077"));

    // 18.20 %: 100.3 kg more, 45.6 kg beyond the allowance: refused.
    let b = mass_balance(
        &scenario("18.2", Some("0.2")),
        &token("blend-1"),
        &Tolerance::stated_only(),
    )
    .unwrap();
    let cu = b.element(el("Cu")).unwrap();
    assert_eq!(cu.out_kg, d("2484.3"));
    assert_eq!(
        cu.verdict,
        Verdict::Exceeds {
            excess_kg: d("45.6")
        }
    );
    assert_eq!(b.refused().map(|e| e.element), Some(el("Cu")));

    // Without stated uncertainties, the operator's 2 % of each grade:
    // 9,200 × 0.44 % + 4,500 × 0.16 % + 13,650 × 0.364 % = 40.48 + 7.2 + 49.686.
    let b = mass_balance(
        &scenario("18.2", None),
        &token("blend-1"),
        &Tolerance::relative(pct("2")),
    )
    .unwrap();
    let cu = b.element(el("Cu")).unwrap();
    assert_eq!(cu.allowance_kg, d("97.366"));
    assert_eq!(
        cu.verdict,
        Verdict::Exceeds {
            excess_kg: d("2.934")
        }
    );
}

#[test]
fn an_unassayed_input_makes_an_excess_unverified_not_refused() {
    let mut g = scenario("18.2", None);
    let mut m = g.lot(&lot("m")).unwrap().clone();
    m.grades.retain(|g| g.element() != el("Cu"));
    let mut g2 = LotGraph::new();
    for s in [
        "saindak",
        "reko-diq",
        "fwo-conc",
        "karachi-port",
        "ussm-plant",
        "madison",
    ] {
        g2.add_site(g.site(&site_id(s)).unwrap().clone()).unwrap();
    }
    for l in ["o1", "o2", "a", "b"] {
        g2.add_lot(g.lot(&lot(l)).unwrap().clone()).unwrap();
    }
    g2.add_lot(m).unwrap();
    for t in ["conc-1", "blend-1"] {
        g2.add_transformation(g.transformation(&token(t)).unwrap().clone())
            .unwrap();
    }
    g = g2;
    let b = mass_balance(&g, &token("blend-1"), &Tolerance::stated_only()).unwrap();
    let cu = b.element(el("Cu")).unwrap();
    assert!(
        matches!(cu.verdict, Verdict::Unverified { .. }),
        "{:?}",
        cu.verdict
    );
    assert_eq!(cu.unassayed_inputs, [lot("m")]);
    assert!(b.refused().is_none());
    // Provenance counts m as holding no Cu: all of it from Pakistan.
    let p = attribute(&g, &lot("b"), Limits::DEFAULT).unwrap();
    let cu = p.element(el("Cu")).unwrap();
    assert!(close(cu.country_share(country("PK")), Decimal::ONE));
    assert_eq!(cu.unassayed, [&lot("m")]);
}

#[test]
fn worked_example_reconciliation() {
    let shipped = Side {
        wet_mass: kg("10000"),
        moisture: Some(pct("8")),
        grades: vec![grade("Cu", "22", Some("0.2"))],
        evidence: vec![10, 11, 12],
    };
    let received = Side {
        wet_mass: kg("9950"),
        moisture: Some(pct("7.5")),
        grades: vec![grade("Cu", "21.5", Some("0.2"))],
        evidence: vec![20, 21],
    };
    let r = reconcile(
        &lot("a"),
        &shipped,
        &received,
        &ReconcileTolerance::default(),
    );
    let wet = r.difference(Quantity::WetMass).unwrap();
    assert_eq!(
        (wet.difference, wet.relative_percent, wet.within),
        (d("-50"), Some(d("-0.5")), true)
    );
    let dry = r.difference(Quantity::DryMass).unwrap();
    assert_eq!(
        (dry.shipped, dry.received, dry.within),
        (d("9200"), d("9203.75"), true)
    );
    let grade = r.difference(Quantity::Grade(el("Cu"))).unwrap();
    assert_eq!(
        (grade.difference, grade.tolerance, grade.within),
        (d("-0.5"), d("0.4"), false)
    );
    let contained = r.difference(Quantity::Contained(el("Cu"))).unwrap();
    assert_eq!(
        (contained.shipped, contained.received),
        (d("2024"), d("1978.80625"))
    );
    assert_eq!(contained.difference, d("-45.19375"));
    assert_eq!(contained.relative_percent.unwrap().round_dp(3), d("-2.233"));
    assert!(!contained.within);
    assert_eq!(r.flagged().count(), 2);
    assert_eq!(
        (
            r.shipped_evidence.as_slice(),
            r.received_evidence.as_slice()
        ),
        (&[10, 11, 12][..], &[20, 21][..])
    );

    // Without a received moisture the dry mass is not compared, and the
    // contained mass is taken at the shipped moisture.
    let received = Side {
        moisture: None,
        ..received
    };
    let r = reconcile(
        &lot("a"),
        &shipped,
        &received,
        &ReconcileTolerance::default(),
    );
    assert!(r.difference(Quantity::DryMass).is_none());
    assert_eq!(
        r.difference(Quantity::Contained(el("Cu")))
            .unwrap()
            .received,
        d("1968.11")
    );
}

#[test]
fn reconciliation_tolerances_can_be_overridden() {
    let shipped = Side {
        wet_mass: kg("10000"),
        moisture: Some(pct("8")),
        grades: vec![grade("Cu", "22", Some("0.2"))],
        evidence: vec![],
    };
    let received = Side {
        wet_mass: kg("9900"),
        moisture: Some(pct("8")),
        grades: vec![grade("Cu", "21.5", Some("0.2"))],
        evidence: vec![],
    };
    let tolerance = ReconcileTolerance::default()
        .with_mass_percent(pct("1"))
        .with_grade_points(pct("0.5"));
    assert_eq!(
        (tolerance.wet_mass_percent(), tolerance.grade_points()),
        (d("1"), Some(d("0.5")))
    );
    let r = reconcile(&lot("a"), &shipped, &received, &tolerance);
    let wet = r.difference(Quantity::WetMass).unwrap();
    assert_eq!((wet.tolerance, wet.within), (d("100"), true));
    let dry = r.difference(Quantity::DryMass).unwrap();
    assert_eq!(
        (dry.difference, dry.tolerance, dry.within),
        (d("-92"), d("92"), true)
    );
    // The points replace the assays' stated uncertainties (0.4 points).
    let grade = r.difference(Quantity::Grade(el("Cu"))).unwrap();
    assert_eq!((grade.tolerance, grade.within), (d("0.5"), true));
}

#[test]
fn splitting_then_merging_the_concentrate_changes_no_share() {
    let mut g = scenario("17.45", None);
    // a is split 40/60 before the blend (with slightly different assays),
    // and the parts merged again.
    let unsplit = g.clone();
    let cu_before = attribute(&unsplit, &lot("b"), Limits::DEFAULT).unwrap();
    g.add_lot(output(
        "a1",
        "split-1",
        "ussm-plant",
        "ussm",
        day(22),
        "4000",
        "8",
        vec![grade("Cu", "17.9", None), grade("Co", "0.7", None)],
    ))
    .unwrap();
    g.add_lot(output(
        "a2",
        "split-1",
        "ussm-plant",
        "ussm",
        day(22),
        "6000",
        "8",
        vec![grade("Cu", "17.1", None), grade("Co", "0.75", None)],
    ))
    .unwrap();
    g.add_lot(output(
        "c",
        "merge-1",
        "ussm-plant",
        "ussm",
        day(23),
        "10000",
        "8",
        vec![grade("Cu", "17.4", None)],
    ))
    .unwrap();
    g.add_transformation(transformation(
        "split-1",
        "ussm-plant",
        day(22),
        &[("b", "14000")],
        &["a1", "a2"],
    ))
    .unwrap();
    g.add_transformation(transformation(
        "merge-1",
        "ussm-plant",
        day(23),
        &[("a1", "4000"), ("a2", "6000")],
        &["c"],
    ))
    .unwrap();
    let after = attribute(&g, &lot("c"), Limits::DEFAULT).unwrap();
    for e in ["Cu", "Co"] {
        let (x, y) = (
            cu_before.element(el(e)).unwrap(),
            after.element(el(e)).unwrap(),
        );
        for s in &x.by_site {
            assert!(close(s.share, y.site_share(s.site)), "{e} {}", s.site);
        }
        assert_eq!(x.by_site.len(), y.by_site.len());
    }
}

#[test]
fn grades_convert_oxides_wet_basis_and_units() {
    // 35 % Nd2O3 on the wet basis at 10 % moisture: 35 / 1.1664… / 0.9 % Nd dry.
    let Analyte::Oxide(oxide) = Analyte::parse("Nd2O3").unwrap() else {
        unreachable!()
    };
    let g = Grade::from_assay(
        Analyte::parse("Nd2O3").unwrap(),
        d("35"),
        GradeUnit::Percent,
        Basis::Wet,
        pct("10"),
        Some(d("0.5")),
        7,
    )
    .unwrap();
    assert_eq!(g.element(), el("Nd"));
    assert!(close(g.percent(), d("35") / oxide.factor() / d("0.9")));
    assert!(close(
        g.uncertainty().unwrap(),
        d("0.5") / oxide.factor() / d("0.9")
    ));
    assert_eq!(g.percent().round_dp(4), d("33.3416"));
    assert_eq!(g.index(), 7);
    // 2,500 g/t Sb on the dry basis is 0.25 %.
    let g = Grade::from_assay(
        Analyte::parse("Sb").unwrap(),
        d("2500"),
        GradeUnit::GramsPerTonne,
        Basis::Dry,
        pct("3"),
        None,
        0,
    )
    .unwrap();
    assert_eq!(g.percent(), d("0.25"));
    // 95 % wet at 10 % moisture would be 105.6 % dry.
    let err = Grade::from_assay(
        Analyte::parse("Cu").unwrap(),
        d("95"),
        GradeUnit::Percent,
        Basis::Wet,
        pct("10"),
        None,
        0,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Grade { element: "Cu", .. }), "{err}");
}

#[test]
fn iso_22095_models_at_the_receiving_plant() {
    let g = scenario("17.45", None);
    let specified = [site_id("madison")].into();
    let judge = |model, claims: &[Claim]| {
        judge_site(
            &g,
            &site_id("ussm-plant"),
            day(1),
            day(30),
            model,
            &specified,
            claims,
            Limits::DEFAULT,
        )
        .unwrap()
    };
    // Identity preserved: blend-1 mixes Cu from three origin sites.
    let r = judge(Model::IdentityPreserved, &[]);
    assert_eq!(r.transformations, [token("blend-1")]);
    assert!(!r.holds());
    assert!(
        r.findings
            .iter()
            .any(|f| f.element == el("Cu") && f.what.contains("3 origin sites")),
        "{:?}",
        r.findings
    );
    // Segregated: Pakistani (unspecified) material is mixed in.
    assert!(!judge(Model::Segregated, &[]).holds());
    // Controlled blending: 15 % of b's Cu may be claimed as Madison's
    // (45/298 = 15.1 %), 20 % may not.
    let claim = |share: &str| {
        [Claim {
            lot: lot("b"),
            element: el("Cu"),
            share: d(share),
        }]
    };
    assert!(judge(Model::ControlledBlending, &claim("0.15")).holds());
    assert!(!judge(Model::ControlledBlending, &claim("0.2")).holds());
    // Mass balance: 360 kg of specified Cu in; 20 % of 2,381.925 kg is
    // 476.385 kg claimed: overdrawn. 15 % is 357.28875 kg: booked.
    let r = judge(Model::MassBalance, &claim("0.2"));
    assert!(!r.holds());
    let cu = r.accounts.iter().find(|a| a.element == el("Cu")).unwrap();
    assert_eq!(
        (cu.specified_in_kg, cu.claimed_out_kg),
        (d("360"), d("476.385"))
    );
    assert!(judge(Model::MassBalance, &claim("0.15")).holds());
    // Outside the period there is nothing to judge.
    let r = judge_site(
        &g,
        &site_id("ussm-plant"),
        day(22),
        day(30),
        Model::IdentityPreserved,
        &specified,
        &[],
        Limits::DEFAULT,
    )
    .unwrap();
    assert!(r.transformations.is_empty() && r.holds());
}

#[test]
fn a_cycle_is_an_error_not_a_loop() {
    let mut g = LotGraph::new();
    add_site(&mut g, "plant", SiteKind::Concentrator, "PK");
    g.add_lot(output("x", "t1", "plant", "fwo", day(1), "10", "0", vec![]))
        .unwrap();
    g.add_lot(output("y", "t2", "plant", "fwo", day(2), "10", "0", vec![]))
        .unwrap();
    g.add_transformation(transformation(
        "t1",
        "plant",
        day(1),
        &[("y", "10")],
        &["x"],
    ))
    .unwrap();
    g.add_transformation(transformation(
        "t2",
        "plant",
        day(2),
        &[("x", "10")],
        &["y"],
    ))
    .unwrap();
    let err = attribute(&g, &lot("x"), Limits::DEFAULT).unwrap_err();
    assert!(matches!(err, Error::Cycle { .. }), "{err}");
}

#[test]
fn a_graph_over_the_bound_is_refused_before_any_arithmetic() {
    let g = scenario("17.45", None);
    let bound = |lots, movements| Limits {
        max_upstream_lots: lots,
        max_movements: movements,
    };
    let err = attribute(&g, &lot("b"), bound(4, 10)).unwrap_err();
    assert_eq!(
        err,
        Error::TooManyLots {
            lot: lot("b").to_string(),
            limit: 4
        }
    );
    // Three shipments upstream: o1 and o2 by truck, a by sea.
    let err = attribute(&g, &lot("b"), bound(5, 2)).unwrap_err();
    assert_eq!(
        err,
        Error::TooManyMovements {
            lot: lot("b").to_string(),
            limit: 2
        }
    );
    assert!(attribute(&g, &lot("b"), bound(5, 3)).is_ok());
}

#[test]
fn missing_and_inconsistent_references_are_named() {
    let mut g = LotGraph::new();
    add_site(&mut g, "plant", SiteKind::Concentrator, "PK");
    g.add_lot(output("x", "t1", "plant", "fwo", day(1), "10", "0", vec![]))
        .unwrap();
    let err = attribute(&g, &lot("x"), Limits::DEFAULT).unwrap_err();
    assert!(matches!(err, Error::MissingTransformation { .. }), "{err}");
    g.add_transformation(transformation(
        "t1",
        "plant",
        day(1),
        &[("gone", "10")],
        &["x"],
    ))
    .unwrap();
    let err = attribute(&g, &lot("x"), Limits::DEFAULT).unwrap_err();
    assert_eq!(
        err.to_string(),
        "lot urn:oretrace:lot:gone, named by transformation t1, is not in the graph"
    );
    g.add_lot(output("z", "t1", "plant", "fwo", day(1), "10", "0", vec![]))
        .unwrap();
    let err = attribute(&g, &lot("z"), Limits::DEFAULT).unwrap_err();
    assert!(matches!(err, Error::Inconsistent(_)), "{err}");
    let err = g
        .add_transformation(transformation("t1", "plant", day(1), &[("a", "1")], &["q"]))
        .unwrap_err();
    assert!(matches!(err, Error::Duplicate(_)), "{err}");
    let err = g
        .add_transformation(transformation("t9", "plant", day(1), &[], &["q"]))
        .unwrap_err();
    assert!(matches!(err, Error::FanIn { inputs: 0, .. }), "{err}");
}

#[test]
fn a_long_chain_needs_no_recursion() {
    // 20,000 lots in a line: an explicit stack, not the thread's.
    let mut g = LotGraph::new();
    add_site(&mut g, "plant", SiteKind::Concentrator, "PK");
    g.add_lot(origin(
        "l0",
        "plant",
        "fwo",
        day(1),
        "100",
        "0",
        vec![grade("Cu", "10", None)],
    ))
    .unwrap();
    for i in 1..20_000 {
        g.add_lot(output(
            &format!("l{i}"),
            &format!("t{i}"),
            "plant",
            "fwo",
            day(1),
            "100",
            "0",
            vec![grade("Cu", "10", None)],
        ))
        .unwrap();
        g.add_transformation(transformation(
            &format!("t{i}"),
            "plant",
            day(1),
            &[(&format!("l{}", i - 1), "100")],
            &[&format!("l{i}")],
        ))
        .unwrap();
    }
    let p = attribute(&g, &lot("l19999"), Limits::DEFAULT).unwrap();
    assert_eq!(p.upstream_lots, 20_000);
    assert_eq!(p.element(el("Cu")).unwrap().by_site[0].share, Decimal::ONE);
}
