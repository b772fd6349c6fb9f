//! `oretrace custody-model SITE` against the demo (a real server on the
//! SQLite store): a site with no declaration answers an empty list and
//! exits 0; the summary names the site and says the figures are
//! illustrative; an unknown site and a period that is not UTC to the
//! second exit 2 naming what is wrong.

mod support;

use serde_json::Value;
use support::oretrace;

#[test]
fn the_custody_model_command_reads_a_site_s_declarations() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let server = support::served_demo(&data);
    let base = server.base();

    let run = oretrace(&[
        "custody-model",
        "fwo-qila-abdullah",
        "--server",
        &base,
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answer["site"], "fwo-qila-abdullah");
    assert_eq!(answer["declarations"], serde_json::json!([]));
    assert_eq!(answer["figures"], "illustrative", "{answer:#}");

    let run = oretrace(&[
        "custody-model",
        "fwo-qila-abdullah",
        "--server",
        &base,
        "--from",
        "2025-01-01T00:00:00Z",
        "--to",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("site fwo-qila-abdullah (figures illustrative)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("no chain-of-custody declaration in the period"),
        "{}",
        run.stdout
    );

    let run = oretrace(&["custody-model", "atlantis", "--server", &base]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("atlantis"), "{}", run.stderr);

    let run = oretrace(&[
        "custody-model",
        "fwo-qila-abdullah",
        "--server",
        &base,
        "--from",
        "2025-01-01",
    ]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("from: a time is UTC to the second"),
        "{}",
        run.stderr
    );
}
