//! `oretrace audit` on the reference scenario as `oretrace demo` loads it:
//! every lot has an origin, every shipment was received, nothing is out
//! of time order, claimed twice or used after consumption, so the audit
//! is clean and exits 0; a kind it does not know is refused (exit 2).

mod support;

use serde_json::Value;
use support::oretrace;

#[test]
fn the_demo_audits_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let server = support::served_demo(&data);
    let base = server.base();

    let run = oretrace(&["audit", "--server", &base, "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let body: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(body["total"], 0, "{body:#}");
    assert!(body["findings"].as_array().unwrap().is_empty());
    let counts = body["counts"].as_array().unwrap();
    assert_eq!(counts.len(), 6);
    assert!(counts.iter().all(|c| c["findings"] == 0), "{body:#}");
    let log_size = body["log_size"].as_u64().unwrap();
    assert!(log_size > 0);
    // Lots, assays, shipments, receipts, transformations and sites of the
    // scenario were read.
    assert!(body["records"].as_u64().unwrap() > 10, "{body:#}");

    let run = oretrace(&["audit", "--server", &base]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("Anomaly scan of {log_size} log entries")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("custody-gap"), "{}", run.stdout);
    assert!(run.stdout.contains("No anomaly found."), "{}", run.stdout);

    let run = oretrace(&["audit", "--server", &base, "--kind", "ghosts"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("kind"), "{}", run.stderr);
}
