//! `oretrace reconcile` on the reference scenario as `oretrace demo`
//! loads it: the export consignment `fwo-export-2025-0001` (FWO's
//! concentrates, weighed and re-assayed by USSM in Missouri) reconciles
//! with the differences the scenario's figures imply; bad tolerances are
//! refused by name.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use serde_json::Value;
use support::oretrace;

const EXPORT: &str = "fwo-export-2025-0001";
const SB: &str = "urn:oretrace:lot:fwo:sb-concentrate-0001";
const CU: &str = "urn:oretrace:lot:fwo:cu-concentrate-0001";
const REE: &str = "urn:oretrace:lot:fwo:ree-concentrate-0001";

/// shipped, received, difference, relative %, tolerance, within.
type Figures = (String, String, String, String, String, bool);

fn figures(body: &Value, lot: &str, quantity: &str, element: Option<&str>) -> Figures {
    let lot = body["lots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lot"] == lot)
        .unwrap_or_else(|| panic!("no lot {lot} in {body:#}"));
    let d = lot["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["quantity"] == quantity && element.is_none_or(|e| d["element"] == e))
        .unwrap_or_else(|| panic!("no {quantity} {element:?} in {lot:#}"));
    let s = |k: &str| d[k].as_str().unwrap().to_owned();
    (
        s("shipped"),
        s("received"),
        s("difference"),
        s("relative_percent"),
        s("tolerance"),
        d["within"].as_bool().unwrap(),
    )
}

fn f(s: &str, r: &str, d: &str, rel: &str, tol: &str, within: bool) -> Figures {
    (s.into(), r.into(), d.into(), rel.into(), tol.into(), within)
}

#[test]
fn the_demo_export_reconciles_with_the_scenarios_differences() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let server = support::served_demo(&data);
    let base = server.base();

    let run = oretrace(&["reconcile", EXPORT, "--server", &base, "--json"]);
    assert_eq!(run.code, 1, "something is flagged: {}", run.stderr);
    let body: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(body["status"], "received");
    assert_eq!(
        (body["shipper"].as_str(), body["receiver"].as_str()),
        (Some("fwo"), Some("ussm"))
    );
    assert_eq!(body["illustrative"], true);
    assert_eq!(
        body["receipt_record"]["signers"],
        serde_json::json!(["ussm"])
    );

    // Antimony concentrate: 32 kg at 1 % moisture (31.68 kg dry), Sb 62.3 %;
    // received 31.7 kg, re-assayed Sb 61.8 %.
    assert_eq!(
        figures(&body, SB, "wet_mass", None),
        f("32", "31.7", "-0.3", "-0.9375", "0.16", false)
    );
    assert_eq!(
        figures(&body, SB, "grade", Some("Sb")),
        f("62.3", "61.8", "-0.5", "-0.802568", "1.246", true)
    );
    assert_eq!(
        figures(&body, SB, "contained", Some("Sb")),
        f(
            "19.73664",
            "19.394694",
            "-0.341946",
            "-1.732544",
            "0.394733",
            true
        )
    );
    // Copper concentrate: 12 kg at 8 % (11.04 kg dry), Cu 27.4 %; received
    // 11.6 kg, Cu 26.1 %: all three outside.
    assert_eq!(
        figures(&body, CU, "wet_mass", None),
        f("12", "11.6", "-0.4", "-3.333333", "0.06", false)
    );
    assert_eq!(
        figures(&body, CU, "grade", Some("Cu")),
        f("27.4", "26.1", "-1.3", "-4.744526", "0.548", false)
    );
    assert_eq!(
        figures(&body, CU, "contained", Some("Cu")),
        f(
            "3.02496",
            "2.785392",
            "-0.239568",
            "-7.919708",
            "0.060499",
            false
        )
    );
    // Rare-earth concentrate: 4.5 kg at 1 % (4.455 kg dry), Nd2O3 16.8 %
    // (Nd 14.403581 %: the oxide factor of Nd2O3 from atomic masses);
    // received 4.49 kg, Nd2O3 16.5 %. The grade is 1.785714 % lower
    // (0.3 / 16.8), within 2 %; the contained neodymium 2.003968 % lower
    // (4.49 × 16.5 / (4.5 × 16.8) − 1), just outside 2 %.
    // Pr6O11 was not re-assayed: Pr is not compared.
    assert_eq!(
        figures(&body, REE, "wet_mass", None),
        f("4.5", "4.49", "-0.01", "-0.222222", "0.0225", true)
    );
    assert_eq!(
        figures(&body, REE, "grade", Some("Nd")),
        f(
            "14.403581",
            "14.146374",
            "-0.257207",
            "-1.785714",
            "0.288072",
            true
        )
    );
    assert_eq!(
        figures(&body, REE, "contained", Some("Nd")),
        f(
            "0.64168",
            "0.62882",
            "-0.012859",
            "-2.003968",
            "0.012834",
            false
        )
    );
    let ree = &body["lots"][2];
    assert_eq!(ree["not_compared"], serde_json::json!(["Pr"]));
    assert_eq!(body["flagged"], 5);

    // The table: every quantity with its verdict and evidence.
    let run = oretrace(&["reconcile", EXPORT, "--server", &base]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for expected in [
        "Shipment fwo-export-2025-0001 (fwo → ussm): received",
        "Figures are illustrative",
        "OUTSIDE",
        "within",
        "Pr grade",
        "5 difference(s) OUTSIDE tolerance.",
    ] {
        assert!(
            run.stdout.contains(expected),
            "no {expected:?} in\n{}",
            run.stdout
        );
    }
    let sb_wet = run
        .stdout
        .lines()
        .find(|l| l.starts_with(SB) && l.contains("wet mass"))
        .unwrap();
    assert!(
        sb_wet.contains("-0.3 kg (-0.94 %)") && sb_wet.contains("OUTSIDE"),
        "{sb_wet}"
    );

    // Wider tolerances: 5 % on masses, 2 points on grades; the contained
    // masses are still judged at 2 %.
    let run = oretrace(&[
        "reconcile",
        EXPORT,
        "--server",
        &base,
        "--json",
        "--mass-tolerance",
        "5",
        "--grade-tolerance",
        "2",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let body: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(figures(&body, CU, "wet_mass", None).4, "0.6");
    assert!(figures(&body, CU, "grade", Some("Cu")).5);
    assert_eq!(body["flagged"], 2, "copper and neodymium contained");

    // A transfer whose receiver never re-assayed: only the mass is
    // compared (60 → 59.8 kg, −0.33 %), within; exit 0.
    let run = oretrace(&["reconcile", "fwo-transfer-0001", "--server", &base]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Everything compared is within tolerance."),
        "{}",
        run.stdout
    );

    // Bad tolerances and an unknown shipment: exit 2, the parameter named.
    for (args, says) in [
        (&["--mass-tolerance=-1"][..], "massTolerancePercent"),
        (&["--mass-tolerance", "101"][..], "massTolerancePercent"),
        (&["--grade-tolerance", "lots"][..], "gradeTolerancePoints"),
    ] {
        let mut all = vec!["reconcile", EXPORT, "--server", &base];
        all.extend_from_slice(args);
        let run = oretrace(&all);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("400") && run.stderr.contains(says),
            "{args:?}: {}",
            run.stderr
        );
    }
    let run = oretrace(&["reconcile", "no-such-shipment", "--server", &base]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("404"), "{}", run.stderr);
}
