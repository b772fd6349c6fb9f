//! `oretrace compliance LOT` against the demo: the rare-earth concentrate
//! under each shipped rule pack, the route through Karachi as recorded
//! and through Gwadar as a what-if (FEOC fails on Gwadar's operator,
//! controlled by the government of China), the receipts of every record
//! the verdicts rest on verified offline, the packs served byte for byte,
//! bad requests refused, and `--rules DIR` loading packs a user edits.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use serde_json::Value;
use support::{oretrace, path};

const REE: &str = "urn:oretrace:lot:fwo:ree-concentrate-0001";
const SB: &str = "urn:oretrace:lot:fwo:sb-concentrate-0001";

fn verdict<'a>(answer: &'a Value, pack: &str) -> &'a Value {
    answer["packs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pack"] == pack)
        .unwrap_or_else(|| panic!("{pack} in {answer:#}"))
}

fn rule<'a>(answer: &'a Value, pack: &str, rule: &str) -> &'a Value {
    verdict(answer, pack)["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("{pack}/{rule} in {answer:#}"))
}

fn json_of(args: &[&str]) -> (i32, Value) {
    let run = oretrace(args);
    let answer = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout, run.stderr));
    (run.code, answer)
}

#[test]
fn the_demo_concentrate_is_judged_on_both_routes_with_verifiable_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let server = support::served_demo(&data);
    let base = server.base();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::blocking::Client::new();
    let vkey = http
        .get(format!("{base}/vkey"))
        .send()
        .unwrap()
        .text()
        .unwrap()
        .trim()
        .to_owned();

    // As recorded: through Karachi.
    let (code, recorded) = json_of(&["compliance", REE, "--server", &base, "--json"]);
    // EU CRMA's benchmark fails (a benchmark, not a prohibition: exit 0).
    assert_eq!(code, 0, "{recorded:#}");
    assert_eq!(recorded["figures"], "illustrative");
    assert!(recorded["hypothetical"].is_null());
    assert_eq!(verdict(&recorded, "dfars-252.225-7052")["verdict"], "pass");
    assert_eq!(verdict(&recorded, "feoc-control")["verdict"], "pass");
    // The OECD pack ships with no area listed: nothing to judge against.
    assert_eq!(verdict(&recorded, "oecd-annex-ii")["verdict"], "unproven");
    assert_eq!(verdict(&recorded, "eu-crma")["verdict"], "fail");
    let crma = rule(&recorded, "eu-crma", "single-third-country-share");
    assert!(
        crma["detail"]
            .as_str()
            .unwrap()
            .contains("100 % of the Nd comes from one country, PK"),
        "{crma:#}"
    );

    // What if it had gone through Gwadar?
    let receipts = tmp.path().join("receipts");
    let (code, gwadar) = json_of(&[
        "compliance",
        REE,
        "--server",
        &base,
        "--via",
        "gwadar-port",
        "--json",
        "--receipts",
        path(&receipts),
    ]);
    assert_eq!(code, 1);
    assert_eq!(gwadar["hypothetical"]["via"][0], "gwadar-port");
    assert_eq!(gwadar["hypothetical"]["replaced"][0], "karachi-port");
    assert_eq!(verdict(&gwadar, "dfars-252.225-7052")["verdict"], "pass");
    assert_eq!(verdict(&gwadar, "feoc-control")["verdict"], "fail");
    // COPHC is a Chinese party, and the Government of China holds it.
    let jurisdiction = rule(
        &gwadar,
        "feoc-control",
        "no-party-subject-to-a-covered-jurisdiction",
    );
    assert_eq!(jurisdiction["verdict"], "fail", "{jurisdiction:#}");
    let operators = rule(
        &gwadar,
        "feoc-control",
        "no-site-operated-by-a-covered-government",
    );
    assert_eq!(operators["verdict"], "fail");
    let finding = &operators["findings"][0];
    let what = finding["what"].as_str().unwrap();
    assert!(
        what.contains("cophc (operator of gwadar-port (transit)) is 100 % held by gov-cn"),
        "{what}"
    );
    // The finding rests on the port's, COPHC's and the government's
    // records; each is in the answer's evidence and has a receipt that
    // verifies offline against the log key.
    let evidence: Vec<u64> = gwadar["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    let kinds: Vec<&str> = gwadar["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            finding["evidence"]
                .as_array()
                .unwrap()
                .contains(&e["index"])
        })
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "party").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "site").count(),
        1,
        "{kinds:?}"
    );
    for index in finding["evidence"].as_array().unwrap() {
        let index = index.as_u64().unwrap();
        assert!(evidence.contains(&index), "{index} in {evidence:?}");
        let file = receipts.join(format!("{index}.tlog-proof"));
        let check = oretrace(&["verify", "--inclusion", path(&file), "--vkey", &vkey]);
        assert_eq!(check.code, 0, "{}: {}", file.display(), check.stderr);
    }
    assert_eq!(
        std::fs::read_dir(&receipts).unwrap().count(),
        evidence.len()
    );

    // Through Karachi as a what-if is the record again.
    let (_, karachi) = json_of(&[
        "compliance",
        REE,
        "--server",
        &base,
        "--via",
        "karachi-port",
        "--pack",
        "feoc-control",
        "--json",
    ]);
    assert_eq!(karachi["packs"].as_array().unwrap().len(), 1);
    assert_eq!(verdict(&karachi, "feoc-control")["verdict"], "pass");

    // Antimony is not a DFARS covered element; the text names verdicts.
    let (_, sb) = json_of(&["compliance", SB, "--server", &base, "--json"]);
    assert_eq!(
        verdict(&sb, "dfars-252.225-7052")["verdict"],
        "not-applicable"
    );
    let run = oretrace(&["compliance", REE, "--server", &base, "--via", "gwadar-port"]);
    assert_eq!(run.code, 1);
    for needle in [
        "HYPOTHETICAL route via gwadar-port instead of karachi-port",
        "feoc-control [FAIL: prohibited]",
        "dfars-252.225-7052 [PASS]",
        "rests on records",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }

    // The packs, byte for byte: their SHA-256 is the one verdicts name.
    let packs: Value = serde_json::from_str(
        &http
            .get(format!("{base}/rule-packs"))
            .send()
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(packs["packs"].as_array().unwrap().len(), 4);
    for p in packs["packs"].as_array().unwrap() {
        let id = p["pack"].as_str().unwrap();
        let body = http
            .get(format!("{base}/rule-packs/{id}"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let parsed = oretrace_provenance::rules::RulePack::parse(id, &body).unwrap();
        assert_eq!(p["sha256"], parsed.sha256_hex());
        assert_eq!(verdict(&recorded, id)["sha256"], parsed.sha256_hex());
    }

    // Bad requests.
    for (query, status) in [
        ("pack=no-such-pack", 404),
        ("via=no-such-port", 404),
        ("via=gwadar-port&via=gwadar-port", 400),
        ("pack=eu-crma&pack=eu-crma", 400),
        ("colour=blue", 400),
        ("via=", 400),
    ] {
        let answer = http
            .get(format!(
                "{base}/lots/{}/compliance?{query}",
                support::live::encode(REE)
            ))
            .send()
            .unwrap();
        assert_eq!(answer.status().as_u16(), status, "{query}");
    }
    for path in ["/rule-packs?x=1", "/rule-packs/eu-crma?x=1"] {
        let answer = http.get(format!("{base}{path}")).send().unwrap();
        assert_eq!(answer.status().as_u16(), 400, "{path}");
    }
    let answer = http
        .get(format!("{base}/lots/urn:oretrace:lot:fwo:nope/compliance"))
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 404);
    drop(server);

    // Packs a user edits: an area listed around the Loe Shilman site
    // (illustrative), loaded with --rules; a pack that does not parse
    // stops the server, naming the file, line and rule.
    let rules = tmp.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let oecd = std::fs::read_to_string(support::project_root().join("rules/oecd-annex-ii.json"))
        .unwrap()
        .replace(
            "\"areas\": []",
            "\"areas\": [{\"name\": \"Example area (illustrative)\", \"boxes\": [{\"south\": \"34\", \"west\": \"71\", \"north\": \"35\", \"east\": \"72\"}]}]",
        );
    std::fs::write(rules.join("oecd.json"), &oecd).unwrap();
    let operator = support::vkey_of(&data.join("keys/registry_operator.key"));
    let port = support::free_port();
    let server = support::Server::start_with(&data, port, &operator, &["--rules", path(&rules)]);
    let (code, mine) = json_of(&["compliance", REE, "--server", &server.base(), "--json"]);
    assert_eq!(code, 0, "a red flag is printed, not an exit code");
    assert_eq!(mine["packs"].as_array().unwrap().len(), 1);
    let area = rule(&mine, "oecd-annex-ii", "origin-or-transit-in-a-listed-area");
    assert_eq!(area["verdict"], "fail", "{area:#}");
    drop(server);

    std::fs::write(
        rules.join("zz-broken.json"),
        oecd.replace("\"threshold_percent\"", "x").replace(
            "\"kinds\": [\"mine\", \"exploration-area\"]",
            "\"kinds\": [\"quarry\"]",
        ),
    )
    .unwrap();
    let run = oretrace(&[
        "serve",
        "--data",
        path(&data),
        "--listen",
        &format!("127.0.0.1:{}", support::free_port()),
        "--operator-vkey",
        &operator,
        "--rules",
        path(&rules),
    ]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("zz-broken.json:"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("rule \"origin-at-a-mine-or-exploration-area\": kinds[0]"),
        "{}",
        run.stderr
    );
}
