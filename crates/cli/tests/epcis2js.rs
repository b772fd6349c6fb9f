//! Cross-checks with the GS1 EPCIS 2.0 JS SDK (npm `epcis2.js`), an EPCIS
//! client nobody here wrote: it captures official example documents into a
//! real `oretrace serve` process with a bearer token, polls the capture job
//! to its end, and the server's own query API then shows every event of
//! each document in the log, captured by the token's party.
//!
//! The test runs `bash .ci/epcis2js-env` itself (idempotent: `npm ci` into
//! tests/epcis2js/node_modules only when it is missing or stale), so it
//! works on a fresh clone. Without `node` (or without `npm` when an install
//! is needed) it fails: it never passes by skipping.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use oretrace_epcis_map::percent_encode;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use support::{Server, free_port, oretrace, path, project_root, vkey_of};

const EXAMPLES: [&str; 3] = [
    "Example_9.6.1-ObjectEvent.jsonld",
    "Example_9.6.3-AggregationEvent.jsonld",
    "Example_9.6.4-TransformationEvent.jsonld",
];

fn example(name: &str) -> PathBuf {
    oretrace_benchkit::conformance("epcis/examples").join(name)
}

fn harness() -> PathBuf {
    project_root().join("tests/epcis2js")
}

fn version_of(tool: &str) -> Option<String> {
    let out = Command::new(tool).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Installs the SDK if needed (`.ci/epcis2js-env`) and checks for `node`.
fn ensure_sdk() {
    let node = version_of("node");
    assert!(
        node.is_some(),
        "`node` (>= 20) is not on PATH: the epcis2.js tests need Node.js and npm \
         (install them, then `bash .ci/epcis2js-env`)"
    );
    let out = Command::new("bash")
        .arg(project_root().join(".ci/epcis2js-env"))
        .current_dir(project_root())
        .output()
        .unwrap();
    if !out.status.success() {
        let npm = version_of("npm");
        panic!(
            "`bash .ci/epcis2js-env` failed (exit {:?}; node {}, npm {}):\n{}{}",
            out.status.code(),
            node.unwrap(),
            npm.as_deref()
                .unwrap_or("NOT FOUND on PATH: install npm to fetch epcis2.js"),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
    }
    assert!(
        harness()
            .join("node_modules/epcis2.js/package.json")
            .exists(),
        "`.ci/epcis2js-env` succeeded but tests/epcis2js/node_modules has no epcis2.js"
    );
}

struct Capture {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// `node tests/epcis2js/capture.mjs <base> <token> <document>`.
fn sdk_capture(base: &str, token: &str, document: &Path) -> Capture {
    let started = Instant::now();
    let out = Command::new("node")
        .arg(harness().join("capture.mjs"))
        .args([base, token, path(document)])
        .current_dir(harness())
        .env("EPCIS2JS_POLL_TRIES", "100")
        .env("EPCIS2JS_POLL_DELAY_MS", "200")
        .env_remove("EPCIS2JS_TRACE")
        .output()
        .unwrap();
    Capture {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

fn http() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn get_json(http: &reqwest::blocking::Client, url: &str) -> (u16, Value) {
    let r = http.get(url).send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn post_json(http: &reqwest::blocking::Client, url: &str, body: &Value) -> (u16, Value) {
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// A bearer token for `signer`'s party: POST /auth/challenge, sign the
/// challenge text as a signed note, POST /auth/token with its signature
/// line. Returns the token response.
fn token(http: &reqwest::blocking::Client, base: &str, signer: &NoteSigner) -> Value {
    let key = format!("{}+{:08x}", signer.name(), signer.verifier().key_id());
    let (status, challenge) = post_json(
        http,
        &format!("{base}/auth/challenge"),
        &json!({"key": key}),
    );
    assert_eq!(status, 200, "challenge: {challenge}");
    let text = challenge["challenge"].as_str().unwrap();
    let note = String::from_utf8(signer.sign(text).unwrap().to_bytes()).unwrap();
    let line = note
        .lines()
        .last()
        .unwrap()
        .trim_start_matches('\u{2014}')
        .trim();
    let (status, answer) = post_json(
        http,
        &format!("{base}/auth/token"),
        &json!({"challenge": text, "signature": line}),
    );
    assert_eq!(status, 200, "token: {answer}");
    assert_eq!(answer["key"], key.as_str(), "{answer}");
    answer
}

fn log_size(http: &reqwest::blocking::Client, base: &str) -> u64 {
    let r = http.get(format!("{base}/checkpoint")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().unwrap();
    text.lines().nth(1).unwrap().parse().unwrap()
}

/// The server under test and the token's party.
struct Target {
    http: reqwest::blocking::Client,
    base: String,
    /// The party the token stands for.
    party: String,
    /// The key that signed the challenge, `<name>+<hex id>`.
    key: String,
}

/// Checks that what the SDK reported matches the server's job, and that
/// every event of `document` is in the log, captured by the token's party
/// with its key. `fresh`: the events are new (else duplicates of an
/// earlier capture). Returns the log indices of the document's events.
fn check_captured(
    target: &Target,
    name: &str,
    run: &Capture,
    document: &Value,
    fresh: bool,
) -> Vec<u64> {
    let Target {
        http,
        base,
        party,
        key,
    } = target;
    let party = party.as_str();
    assert_eq!(
        run.code, 0,
        "{name}: capture.mjs failed\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{name}: {}", run.stdout);
    let reported: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(reported["running"], false, "{name}: {reported}");
    assert_eq!(reported["success"], true, "{name}: {reported}");
    assert_eq!(reported["errors"], json!([]), "{name}: {reported}");
    let capture_id = reported["captureID"].as_str().unwrap();
    assert!(!capture_id.is_empty(), "{name}: {reported}");
    assert_eq!(
        reported["location"],
        format!("/capture/{capture_id}").as_str(),
        "{name}: {reported}"
    );

    // The job, as the server keeps it.
    let (status, job) = get_json(
        http,
        &format!("{base}/capture/{}", percent_encode(capture_id)),
    );
    assert_eq!(status, 200, "{name}: {job}");
    assert_eq!(job["captureID"], capture_id, "{name}: {job}");
    assert_eq!(job["running"], false, "{name}: {job}");
    assert_eq!(job["success"], true, "{name}: {job}");
    assert_eq!(job["capturedBy"], party, "{name}: {job}");

    // The job's eventIDs are the document's events' CBV 2.0 hashes, in order.
    let hashes = oretrace_epcis::document_event_hashes(document).unwrap();
    assert!(!hashes.is_empty(), "{name}");
    let outcomes = job["events"].as_array().unwrap();
    let ids: Vec<&str> = outcomes
        .iter()
        .map(|o| o["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, hashes, "{name}: {job}");

    let mut indices = Vec::new();
    for (outcome, hash) in outcomes.iter().zip(&hashes) {
        let want = if fresh { "captured" } else { "duplicate" };
        assert_eq!(outcome["status"], want, "{name}: {outcome}");
        let index = outcome["index"].as_u64().unwrap();
        indices.push(index);

        // The event, found by its hash through the query interface.
        let (status, document) = get_json(http, &format!("{base}/events/{}", percent_encode(hash)));
        assert_eq!(status, 200, "{name}: {hash}: {document}");
        // A query document holding the one event, its context hoisted.
        let mut event =
            document["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0].clone();
        event["@context"] = document["@context"].clone();
        assert!(event["recordTime"].is_string(), "{name}: {event}");
        let again =
            oretrace_epcis::event_hash(&event, &oretrace_epcis::Context::from_document(&event))
                .unwrap();
        assert_eq!(&again, hash, "{name}: the event as served hashes the same");

        // The log entry: who captured it, how they authenticated, and in
        // which capture.
        let (status, entry) = get_json(http, &format!("{base}/records/{index}"));
        assert_eq!(status, 200, "{name}: entry {index}: {entry}");
        let record = &entry["record"];
        assert_eq!(record["kind"], "epcis_event", "{name}: {entry}");
        assert_eq!(record["event_id"], hash.as_str(), "{name}: {entry}");
        assert_eq!(record["captured_by"], party, "{name}: {entry}");
        assert_eq!(
            record["auth"],
            json!({"method": "token", "key": key}),
            "{name}: {entry}"
        );
        if fresh {
            assert_eq!(record["capture"], capture_id, "{name}: {entry}");
        }
    }
    indices
}

#[test]
fn epcis2js_captures_official_examples_with_a_bearer_token() {
    ensure_sdk();
    let started = Instant::now();

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let run = oretrace(&["demo", "--data", path(&data), "--no-serve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let operator_vkey = vkey_of(&data.join("keys/registry_operator.key"));
    let port = free_port();
    let _server = Server::start(&data, port, &operator_vkey);
    let base = format!("http://127.0.0.1:{port}");
    let http = http();

    // A bearer token for FWO, from its registered key in the demo data.
    let skey = std::fs::read_to_string(data.join("keys/fwo_key-1.key")).unwrap();
    let fwo = NoteSigner::from_skey(skey.trim()).unwrap();
    let grant = token(&http, &base, &fwo);
    assert_eq!(grant["party"], "fwo", "{grant}");
    let bearer = grant["access_token"].as_str().unwrap().to_owned();
    let target = Target {
        http,
        base,
        party: grant["party"].as_str().unwrap().to_owned(),
        key: grant["key"].as_str().unwrap().to_owned(),
    };
    let (http, base) = (&target.http, target.base.as_str());

    let mut seen = std::collections::BTreeSet::new();
    let mut sdk_time = Duration::ZERO;
    for name in EXAMPLES {
        let file = example(name);
        let document: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let run = sdk_capture(base, &bearer, &file);
        sdk_time += run.took;
        let indices = check_captured(&target, name, &run, &document, true);
        for index in indices {
            assert!(seen.insert(index), "{name}: index {index} used twice");
        }
    }

    // The same document again: the job succeeds, every event a duplicate
    // at the index it was logged at the first time.
    let size = log_size(http, base);
    let file = example(EXAMPLES[0]);
    let document: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let run = sdk_capture(base, &bearer, &file);
    sdk_time += run.took;
    let indices = check_captured(&target, EXAMPLES[0], &run, &document, false);
    assert!(indices.iter().all(|i| seen.contains(i)), "{indices:?}");
    assert_eq!(log_size(http, base), size, "a duplicate adds no entry");

    // A wrong token: the SDK's capture is refused (401) and the log is
    // unchanged.
    let last = bearer.chars().last().unwrap();
    let altered = format!(
        "{}{}",
        &bearer[..bearer.len() - last.len_utf8()],
        if last == '0' { '1' } else { '0' }
    );
    for wrong in ["not-a-token".to_owned(), altered] {
        let run = sdk_capture(base, &wrong, &example(EXAMPLES[1]));
        sdk_time += run.took;
        assert_ne!(
            run.code, 0,
            "capture.mjs with token {wrong:?} succeeded: {}",
            run.stdout
        );
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("answered 401"),
            "token {wrong:?}: {}",
            run.stderr
        );
    }
    assert_eq!(log_size(http, base), size, "refused captures add nothing");

    eprintln!(
        "epcis2js: {} SDK runs in {:.1?} (whole test {:.1?})",
        EXAMPLES.len() + 3,
        sdk_time,
        started.elapsed()
    );
}
