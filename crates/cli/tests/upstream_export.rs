//! `oretrace export --lot X --upstream` against the demo: the document
//! of the rare-earth concentrate's upstream holds exactly the events of
//! the records its provenance answer rests on (`GET /lots/{id}/provenance`,
//! sites aside), in log order, each with its CBV 2.0 hash as `eventID`;
//! it validates against the official EPCIS 2.0 schema; and no event in it
//! is of the antimony or copper lots alone. Imported into a registry
//! holding only the demo's parties and sites, it comes back with the same
//! events once the other lots its export shipment carries are there.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use oretrace_domain::wire::RecordJson;
use serde_json::Value;
use support::{Server, free_port, oretrace, path, vkey_of};

const REE: &str = "urn:oretrace:lot:fwo:ree-concentrate-0001";
const REE_LOTS: [&str; 2] = [
    "urn:oretrace:lot:fwo:ree-sample-0001",
    "urn:oretrace:lot:fwo:ree-concentrate-0001",
];

fn get_json(url: &str) -> Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r = reqwest::blocking::get(url).unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    serde_json::from_slice(&r.bytes().unwrap()).unwrap()
}

#[test]
fn the_upstream_export_holds_exactly_the_events_of_the_provenance() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let server = support::served_demo(&data);
    let operator = vkey_of(&data.join("keys/registry_operator.key"));
    let base = server.base();

    let file = tmp.path().join("ree-upstream.jsonld");
    let run = oretrace(&[
        "export",
        "--server",
        &base,
        "--lot",
        REE,
        "--upstream",
        "--out",
        path(&file),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(" events of the upstream of "),
        "{}",
        run.stderr
    );
    let run = oretrace(&["epcis", "validate", path(&file)]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let document: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let events = document["epcisBody"]["eventList"].as_array().unwrap();

    // The records the provenance answer rests on, sites aside, by index.
    let answer = get_json(&format!("{base}/lots/{REE}/provenance"));
    let indices: Vec<u64> = answer["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] != "site")
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert!(indices.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(events.len(), indices.len(), "{document:#}\n{answer:#}");

    // Each eventID is the event's CBV 2.0 hash, as `epcis hash` computes it.
    let run = oretrace(&["epcis", "hash", path(&file)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Vec<&str> = events
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, run.stdout.lines().collect::<Vec<_>>());

    // Event i is the record at the i-th index: a captured event as logged,
    // a record as the event that states exactly it.
    let context = document["@context"].clone();
    let mut kinds = Vec::new();
    for (event, index) in events.iter().zip(&indices) {
        let view = get_json(&format!("{base}/records/{index}"));
        let record: RecordJson = serde_json::from_value(view["record"].clone()).unwrap();
        let mut event = event.clone();
        if event.get("@context").is_none() {
            event["@context"] = context.clone();
        }
        let mapped = oretrace_epcis_map::interpret(&event).unwrap();
        match &record {
            RecordJson::EpcisEvent { event_id, .. } => {
                assert_eq!(
                    event["eventID"].as_str(),
                    Some(event_id.as_str()),
                    "{index}"
                )
            }
            other => assert_eq!(mapped.records, [other.to_record().unwrap()], "{index}"),
        }
        kinds.extend(mapped.records.iter().map(|r| r.kind()));
        // Nothing of the antimony or copper lots alone: an event naming
        // one (the shared export shipment, its receipt) names the
        // rare-earth concentrate too.
        assert!(
            mapped.lots.iter().any(|l| REE_LOTS.contains(&l.as_str())),
            "{index}: {event:#}"
        );
    }
    for kind in ["lot", "assay", "transformation", "shipment", "receipt"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }

    // Registry B: the demo's parties and sites (their signed entries,
    // copied), nothing else; the upstream document imported into it.
    let b = tmp.path().join("b");
    let server_b = Server::start(&b, free_port(), &operator);
    let base_b = server_b.base();
    let http = reqwest::blocking::Client::new();
    let mut index = 0;
    loop {
        let view = get_json(&format!("{base}/records/{index}"));
        if view["kind"] != "party" && view["kind"] != "site" {
            break;
        }
        let posted = http
            .post(format!("{base_b}/records"))
            .header("content-type", "text/plain")
            .body(view["entry"].as_str().unwrap().to_owned())
            .send()
            .unwrap();
        assert_eq!(posted.status().as_u16(), 201, "{}", posted.text().unwrap());
        index += 1;
    }
    let keys: Vec<String> = ["fwo", "pk-assay-lab", "nlc", "ussm"]
        .iter()
        .map(|p| {
            data.join(format!("keys/{p}_key-1.key"))
                .display()
                .to_string()
        })
        .collect();
    let import_as = |file: &std::path::Path, behaviour: &'static str| {
        let mut args = vec![
            "import",
            path(file),
            "--server",
            &base_b,
            "--error-behaviour",
            behaviour,
        ];
        for k in &keys {
            args.extend(["--key", k.as_str()]);
        }
        oretrace(&args)
    };
    let import = |file: &std::path::Path| import_as(file, "proceed");
    // The export shipment also carries the antimony and copper
    // concentrates, which B does not know: alone, it is refused there
    // (and, rolled back, leaves nothing behind).
    let run = import_as(&file, "rollback");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains(" 0 captured"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("lot urn:oretrace:lot:fwo:sb-concentrate-0001 does not exist"),
        "{}",
        run.stdout
    );
    // With their upstreams imported first (and once more after, for the
    // receivers' assays of them), the rare-earth upstream comes back whole.
    let others: Vec<std::path::PathBuf> = ["sb", "cu"]
        .iter()
        .map(|e| {
            let other = tmp.path().join(format!("{e}-upstream.jsonld"));
            let lot = format!("urn:oretrace:lot:fwo:{e}-concentrate-0001");
            let run = oretrace(&[
                "export",
                "--server",
                &base,
                "--lot",
                &lot,
                "--upstream",
                "--out",
                path(&other),
            ]);
            assert_eq!(run.code, 0, "{}", run.stderr);
            other
        })
        .collect();
    for other in &others {
        import(other);
    }
    let run = import(&file);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains(" 0 refused"), "{}", run.stdout);
    for other in &others {
        let run = import(other);
        assert_eq!(run.code, 0, "{}", run.stdout);
    }
    let file_b = tmp.path().join("ree-upstream-b.jsonld");
    let run = oretrace(&[
        "export",
        "--server",
        &base_b,
        "--lot",
        REE,
        "--upstream",
        "--out",
        path(&file_b),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hashes = |f: &std::path::Path| {
        let run = oretrace(&["epcis", "hash", path(f)]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    assert_eq!(hashes(&file), hashes(&file_b));

    // An unknown lot: exit 2, the server's 404 named.
    let run = oretrace(&[
        "export",
        "--server",
        &base,
        "--lot",
        "urn:oretrace:lot:fwo:nope",
        "--upstream",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("404"), "{}", run.stderr);
}
