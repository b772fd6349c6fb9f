//! EPCIS client commands: `auth token` (a bearer token from a signed
//! challenge), `import` (capture a document, signed by party keys or with
//! a token, and wait for the job) and `export --lot` (a lot's events as one
//! EPCISDocument that `import` takes back).

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use oretrace_domain::event::{CaptureBehaviour, document_note};
use oretrace_domain::values::Digest;
use oretrace_domain::wire::RecordJson;
use oretrace_tlog::note::{KeyRef, NoteSigner, NoteVerifier, SignatureLine};
use serde_json::{Value, json};

use crate::commands::read_key;

/// How long `import` waits for a capture job.
const JOB_TIMEOUT: Duration = Duration::from_secs(600);

pub(crate) fn client() -> anyhow::Result<reqwest::blocking::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .context("building the HTTP client")
}

pub(crate) fn base(server: &str) -> &str {
    server.trim_end_matches('/')
}

/// The `tlog-proof` receipt of log entry `index`, as the server serves it.
pub(crate) fn fetch_receipt(
    http: &reqwest::blocking::Client,
    server: &str,
    index: u64,
) -> anyhow::Result<Vec<u8>> {
    let url = format!("{}/records/{index}/receipt", base(server));
    let response = http
        .get(&url)
        .send()
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let bytes = response.bytes().with_context(|| format!("GET {url}"))?;
    if !status.is_success() {
        bail!(
            "GET {url}: {}",
            refusal(status, &String::from_utf8_lossy(&bytes))
        );
    }
    Ok(bytes.to_vec())
}

/// Refuses a `--server` that is not an http(s) URL (a bare `host:port`
/// would otherwise fail deep in the HTTP client).
pub(crate) fn check_server(server: &str) -> anyhow::Result<()> {
    if server.starts_with("http://") || server.starts_with("https://") {
        return Ok(());
    }
    bail!(
        "--server {server}: give a URL starting with http:// or https:// (such as http://127.0.0.1:8080)"
    )
}

/// A refusal in words: the problem body's `detail` (with its `field` and
/// `rule`, its `limit`, and any schema violations), or the body as sent
/// when it is not a problem.
pub(crate) fn refusal(status: reqwest::StatusCode, text: &str) -> String {
    let Ok(problem) = serde_json::from_str::<Value>(text) else {
        return format!("{status}: {}", text.trim());
    };
    let Some(detail) = problem["detail"].as_str() else {
        return format!("{status}: {}", text.trim());
    };
    let mut message = format!("{status}: {detail}");
    let mut about = Vec::new();
    if let Some(field) = problem["field"].as_str() {
        about.push(format!("field {field}"));
    }
    if let Some(rule) = problem["rule"].as_str() {
        about.push(format!("rule {rule}"));
    }
    if let Some(limit) = problem["limit"].as_u64() {
        about.push(format!("limit {limit}"));
    }
    if !about.is_empty() {
        message.push_str(&format!(" ({})", about.join(", ")));
    }
    for violation in problem["violations"].as_array().into_iter().flatten() {
        let pointer = violation["pointer"].as_str().unwrap_or("");
        let text = violation["message"].as_str().unwrap_or("");
        message.push_str(&format!(
            "\n  {}: {text}",
            if pointer.is_empty() { "/" } else { pointer }
        ));
    }
    message
}

/// The signature line a signed note over `text` by `signer` carries,
/// without the leading em dash: `<key name> <base64>`.
pub(crate) fn signature_line(signer: &NoteSigner, text: &str) -> anyhow::Result<SignatureLine> {
    let note = signer.sign(text).context("signing")?;
    let signature = note
        .signatures()
        .first()
        .context("a signed note has a signature line")?;
    Ok(SignatureLine::from(signature.clone()))
}

pub(crate) fn answer_json(
    response: reqwest::blocking::Response,
    what: &str,
) -> anyhow::Result<Value> {
    let status = response.status();
    let text = response.text().unwrap_or_default();
    if !status.is_success() {
        bail!("{what}: {}", refusal(status, &text));
    }
    serde_json::from_str(&text).with_context(|| format!("{what}: the answer is not JSON: {text}"))
}

/// Obtains a bearer token for `signer`'s key from `server`.
pub(crate) fn token(server: &str, signer: &NoteSigner) -> anyhow::Result<(String, String)> {
    let http = client()?;
    let key = KeyRef::new(signer.name(), signer.key_id()).context("the key's name")?;
    let challenge = answer_json(
        http.post(format!("{}/auth/challenge", base(server)))
            .header("content-type", "application/json")
            .body(json!({"key": key.to_string()}).to_string())
            .send()
            .context("asking for a challenge")?,
        "challenge",
    )?;
    let text = challenge["challenge"]
        .as_str()
        .context("the challenge answer has no challenge")?;
    let grant = answer_json(
        http.post(format!("{}/auth/token", base(server)))
            .header("content-type", "application/json")
            .body(
                json!({"challenge": text, "signature": signature_line(signer, text)?.to_string()})
                    .to_string(),
            )
            .send()
            .context("asking for a token")?,
        "token",
    )?;
    let token = grant["access_token"]
        .as_str()
        .context("the token answer has no access_token")?;
    let party = grant["party"].as_str().unwrap_or("").to_owned();
    Ok((token.to_owned(), party))
}

pub fn auth_token(server: &str, key: &Path) -> anyhow::Result<ExitCode> {
    check_server(server)?;
    let signer = read_key(key)?;
    let (token, party) = token(server, &signer)?;
    eprintln!("token for party {party}, valid for an hour");
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

/// How the importer proves who it is.
#[derive(Debug)]
pub(crate) enum Credentials<'a> {
    /// Detached signatures over the document by these keys.
    Keys(&'a [&'a NoteSigner]),
    Token(&'a str),
}

/// Captures `body` and waits for its job; returns the finished job.
pub(crate) fn capture(
    server: &str,
    body: &[u8],
    credentials: &Credentials<'_>,
    behaviour: CaptureBehaviour,
) -> anyhow::Result<Value> {
    let http = client()?;
    let mut request = http
        .post(format!("{}/capture", base(server)))
        .header("content-type", "application/ld+json")
        .header("GS1-EPCIS-Version", "2.0.0")
        .header("GS1-CBV-Version", "2.0.0")
        .header("GS1-Capture-Error-Behaviour", behaviour.as_str())
        .body(body.to_vec());
    match credentials {
        Credentials::Keys(keys) => {
            // The note names the registry (its log origin), the capturing
            // party (the first key's: party keys are named <party>/<label>)
            // and the behaviour: the signatures are good for this capture only.
            let vkey = http
                .get(format!("{}/vkey", base(server)))
                .send()
                .and_then(|r| r.error_for_status())
                .and_then(|r| r.text())
                .context("reading the server's log key (/vkey)")?;
            let origin = NoteVerifier::from_vkey(&vkey)
                .context("the server's /vkey is not a vkey")?
                .name()
                .to_owned();
            let party = keys
                .first()
                .and_then(|k| k.name().split_once('/'))
                .map(|(party, _)| party.to_owned())
                .context("a party key is named <party>/<label>")?;
            let note = document_note(&origin, &Digest::of(body), &party, behaviour);
            for key in *keys {
                request = request.header(
                    "Oretrace-Signature",
                    signature_line(key, &note)?.to_string(),
                );
            }
        }
        Credentials::Token(token) => {
            request = request.header("authorization", format!("Bearer {token}"));
        }
    }
    let response = request.send().context("posting the document to /capture")?;
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if status.as_u16() != 202 {
        let text = response.text().unwrap_or_default();
        bail!("capture refused: {}", refusal(status, &text));
    }
    let location = location.context("the capture answer has no Location")?;
    let started = Instant::now();
    let mut wait = Duration::from_millis(20);
    loop {
        let job = answer_json(
            http.get(format!("{}{location}", base(server)))
                .send()
                .context("reading the capture job")?,
            "capture job",
        )?;
        if job["running"] == false {
            return Ok(job);
        }
        if started.elapsed() > JOB_TIMEOUT {
            bail!("capture job {location} still running after {JOB_TIMEOUT:?}");
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_millis(500));
    }
}

/// Prints a job's outcome; true if it succeeded.
pub(crate) fn report(job: &Value) -> bool {
    let (out, err) = report_lines(job);
    out.iter().for_each(|l| println!("{l}"));
    err.iter().for_each(|l| eprintln!("{l}"));
    job["success"] == true
}

/// What [`report`] prints: (stdout lines, stderr lines).
fn report_lines(job: &Value) -> (Vec<String>, Vec<String>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let events = job["events"].as_array().cloned().unwrap_or_default();
    let count = |status: &str| events.iter().filter(|e| e["status"] == status).count();
    out.push(format!(
        "capture {}: {} events: {} captured, {} duplicates, {} refused, {} rolled back",
        job["captureID"].as_str().unwrap_or("?"),
        events.len(),
        count("captured"),
        count("duplicate"),
        count("refused"),
        count("rolled-back")
    ));
    // A refusal names its event by JSON pointer: it goes on that event's
    // line, so the reason is read where the event is.
    let errors: Vec<&Value> = job["errors"].as_array().into_iter().flatten().collect();
    let reason_of = |i: usize| {
        let pointer = format!("/epcisBody/eventList/{i}");
        errors
            .iter()
            .filter(|e| e["instance"].as_str() == Some(pointer.as_str()))
            .filter_map(|e| e["detail"].as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    for (i, e) in events.iter().enumerate() {
        let id = e["eventID"].as_str().unwrap_or("?");
        match (e["status"].as_str().unwrap_or("?"), e["index"].as_u64()) {
            ("captured", Some(index)) => {
                out.push(format!("event {i}: {id} captured at index {index}"))
            }
            ("duplicate", Some(index)) => out.push(format!(
                "event {i}: {id} already in the log at index {index} (duplicate)"
            )),
            (status, _) => match reason_of(i) {
                reason if reason.is_empty() => out.push(format!("event {i}: {id} {status}")),
                reason => out.push(format!("event {i}: {id} {status}: {reason}")),
            },
        }
    }
    for w in job["warnings"].as_array().into_iter().flatten() {
        err.push(format!("warning: {}", w["detail"].as_str().unwrap_or("")));
    }
    // Refusals of no one event (the document as a whole).
    for e in errors.iter().filter(|e| {
        !e["instance"]
            .as_str()
            .is_some_and(|p| p.starts_with("/epcisBody/eventList/"))
    }) {
        err.push(format!(
            "refused: {} {}",
            e["instance"].as_str().unwrap_or(""),
            e["detail"].as_str().unwrap_or("")
        ));
    }
    (out, err)
}

pub fn import(
    file: &Path,
    server: &str,
    keys: &[std::path::PathBuf],
    token: Option<&str>,
    behaviour: CaptureBehaviour,
    receipts: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    check_server(server)?;
    let body = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let signers: Vec<NoteSigner> = keys
        .iter()
        .map(|k| read_key(k))
        .collect::<anyhow::Result<_>>()?;
    let refs: Vec<&NoteSigner> = signers.iter().collect();
    let credentials = match (token, signers.is_empty()) {
        (Some(t), true) => Credentials::Token(t),
        (None, false) => Credentials::Keys(&refs),
        _ => bail!("give either --key (one per signer) or --token"),
    };
    let job = capture(server, &body, &credentials, behaviour)?;
    let success = report(&job);
    if let Some(dir) = receipts {
        save_receipts(server, &job, dir)?;
    }
    Ok(if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Writes a `tlog-proof` receipt for each event of `job` that is in the
/// log (captured, or there before as a duplicate) to `dir/<index>.tlog-proof`.
fn save_receipts(server: &str, job: &Value, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let http = client()?;
    let mut written = 0;
    for index in job["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["index"].as_u64())
    {
        let bytes = fetch_receipt(&http, server, index)?;
        let path = dir.join(format!("{index}.tlog-proof"));
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        written += 1;
    }
    let noun = if written == 1 { "receipt" } else { "receipts" };
    println!(
        "{written} {noun} written to {} (<index>.tlog-proof; check one with oretrace verify --inclusion)",
        dir.display()
    );
    Ok(())
}

/// The events of a lot as an EPCISDocument: every entry concerning it,
/// by event time — captured events as captured, records as the events
/// `oretrace-epcis-map` gives them.
pub(crate) fn lot_document(server: &str, lot: &str) -> anyhow::Result<Value> {
    let http = client()?;
    let url = format!(
        "{}/lots/{}",
        base(server),
        oretrace_epcis_map::percent_encode(lot)
    );
    let view = answer_json(
        http.get(&url)
            .send()
            .with_context(|| format!("GET {url}"))?,
        "lot",
    )?;
    let mut events = Vec::new();
    for entry in view["events"].as_array().into_iter().flatten() {
        let record: RecordJson = serde_json::from_value(entry["record"].clone())
            .context("an entry of the lot is not a record")?;
        let event = match record {
            RecordJson::EpcisEvent { event, .. } => event,
            other => {
                let record = other.to_record().context("an entry of the lot")?;
                match oretrace_epcis_map::event_of_record(&record) {
                    Some(mut event) => {
                        event["@context"] = oretrace_epcis_map::context();
                        event
                    }
                    None => continue,
                }
            }
        };
        events.push(event);
    }
    // In the order things happened (then the order they were logged): the
    // same lot exported from two registries gives the same document.
    events.sort_by_key(|e| {
        e["eventTime"]
            .as_str()
            .and_then(oretrace_epcis::query::timestamp_millis)
    });
    let context = oretrace_epcis_map::hoist_context(&mut events);
    let mut document = oretrace_epcis_map::document(events, &now_utc());
    document["@context"] = context;
    Ok(document)
}

fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    oretrace_domain::values::Timestamp::from_unix(secs).to_string()
}

pub fn export(server: &str, lot: &str, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    check_server(server)?;
    let document = lot_document(server, lot)?;
    write_document(&document, lot, out)
}

/// `export --lot X --upstream`: the server's
/// `GET /lots/{id}/provenance/events`, the events of every record the
/// lot's provenance rests on, in log order.
pub fn export_upstream(server: &str, lot: &str, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    check_server(server)?;
    let http = client()?;
    let url = format!(
        "{}/lots/{}/provenance/events",
        base(server),
        oretrace_epcis_map::percent_encode(lot)
    );
    let document = answer_json(
        http.get(&url)
            .send()
            .with_context(|| format!("GET {url}"))?,
        "upstream events",
    )?;
    write_document(&document, &format!("the upstream of {lot}"), out)
}

fn write_document(document: &Value, what: &str, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let text = oretrace_epcis_map::to_json_text(document, true) + "\n";
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "{} events of {what} written to {}",
                document["epcisBody"]["eventList"]
                    .as_array()
                    .map_or(0, Vec::len),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod report_tests {
    use super::report_lines;
    use serde_json::json;

    #[test]
    fn a_refused_event_carries_its_reason_on_its_own_line() {
        let job = json!({
            "captureID": "c1",
            "success": false,
            "events": [
                {"eventID": "ni:a", "status": "captured", "index": 7},
                {"eventID": "ni:b", "status": "refused"},
                {"eventID": "ni:c", "status": "duplicate", "index": 3}
            ],
            "errors": [
                {"instance": "/epcisBody/eventList/1", "detail": "must be signed by pk-lab"},
                {"instance": "/epcisBody", "detail": "the document as a whole"}
            ]
        });
        let (out, err) = report_lines(&job);
        assert_eq!(
            out,
            [
                "capture c1: 3 events: 1 captured, 1 duplicates, 1 refused, 0 rolled back",
                "event 0: ni:a captured at index 7",
                "event 1: ni:b refused: must be signed by pk-lab",
                "event 2: ni:c already in the log at index 3 (duplicate)",
            ]
        );
        assert_eq!(err, ["refused: /epcisBody the document as a whole"]);
    }
}
