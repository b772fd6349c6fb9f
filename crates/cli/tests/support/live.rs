//! Driving a live `oretrace serve`: signed writes, every page of a
//! listing, projections compared with a rebuild from the log, published
//! checkpoints checked against the log as served now.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use oretrace_tlog::tile::{TileFetcher, TileId, TiledHashReader};
use oretrace_verify::Source as _;
use serde_json::{Value, json};

use super::{oretrace, path};

pub fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

pub fn envelope(value: Value, signers: &[&NoteSigner]) -> String {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    serde_json::to_string(&SignedRecord::sign(record, signers).unwrap().to_envelope()).unwrap()
}

/// The record hash (hex) of an envelope, as the server computes it.
pub fn record_hash_of(envelope: &str) -> String {
    let envelope: oretrace_domain::envelope::EnvelopeJson = serde_json::from_str(envelope).unwrap();
    hex(&SignedRecord::from_envelope(&envelope)
        .unwrap()
        .record_hash())
}

/// A blocking client with a 10 s timeout per request (connections kept
/// alive between requests).
pub fn client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Waits (at most 30 s, else fails) until `/healthz` answers 200.
pub fn wait_ready(base: &str) {
    let http = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http
            .get(format!("{base}/healthz"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the server at {base} did not become ready");
}

/// One HTTP answer, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{e}: status {} body {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn answer(response: reqwest::blocking::Response) -> reqwest::Result<Answer> {
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let status = response.status().as_u16();
    let retry_after = header(reqwest::header::RETRY_AFTER);
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let body = response.bytes()?.to_vec();
    Ok(Answer {
        status,
        retry_after,
        content_type,
        body,
    })
}

/// `POST /records` with a JSON envelope.
pub fn post_record(
    http: &reqwest::blocking::Client,
    base: &str,
    body: String,
) -> reqwest::Result<Answer> {
    answer(
        http.post(format!("{base}/records"))
            .header("content-type", "application/json")
            .body(body)
            .send()?,
    )
}

/// `GET {base}{path}`.
pub fn get(http: &reqwest::blocking::Client, base: &str, path: &str) -> reqwest::Result<Answer> {
    answer(http.get(format!("{base}{path}")).send()?)
}

/// `GET {base}{path}`, which must answer 200 with JSON.
pub fn get_json(http: &reqwest::blocking::Client, base: &str, path: &str) -> Value {
    let answer = get(http, base, path).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.text());
    answer.json()
}

/// Every item of a listing (`GET /lots` answers `{"lots": [...]}`),
/// following the next page while there is one: a `Link: <…>; rel="next"`
/// header, or else a `nextPageToken` in the body.
pub fn list_all(
    http: &reqwest::blocking::Client,
    base: &str,
    path: &str,
    field: &str,
) -> Vec<Value> {
    let mut items = Vec::new();
    let mut url = format!("{base}{path}");
    for _ in 0..100_000 {
        let response = http
            .get(&url)
            .send()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let link = response
            .headers()
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find(|l| l.contains("rel=\"next\"") || l.contains("rel=next"))
            .and_then(|l| Some(l[l.find('<')? + 1..l.find('>')?].to_owned()));
        let page = answer(response).unwrap();
        assert_eq!(page.status, 200, "GET {url}: {}", page.text());
        let page = page.json();
        items.extend(
            page[field]
                .as_array()
                .unwrap_or_else(|| panic!("GET {url}: no {field:?} list in {page}"))
                .iter()
                .cloned(),
        );
        let next = match (link, page.get("nextPageToken").and_then(Value::as_str)) {
            (Some(link), _) if link.starts_with("http") => link,
            (Some(link), _) => format!("{base}{link}"),
            (None, Some(token)) => {
                let sep = if path.contains('?') { '&' } else { '?' };
                format!("{base}{path}{sep}nextPageToken={token}")
            }
            (None, None) => return items,
        };
        url = next;
    }
    panic!("GET {path}: more than 100,000 pages");
}

/// What the server shows of its projections: every party, site and lot
/// (all pages), and the full view (state and history) of the lots `pick`
/// chooses from the listing.
pub fn projections(
    http: &reqwest::blocking::Client,
    base: &str,
    pick: &dyn Fn(&[Value]) -> Vec<String>,
) -> Value {
    let parties = list_all(http, base, "/parties", "parties");
    let sites = list_all(http, base, "/sites", "sites");
    let lots = list_all(http, base, "/lots", "lots");
    let views: Vec<Value> = pick(&lots)
        .iter()
        .map(|id| get_json(http, base, &format!("/lots/{}", encode(id))))
        .collect();
    json!({"parties": parties, "sites": sites, "lots": lots, "lot_views": views})
}

/// Percent-encodes a path segment.
pub fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Asserts two projections equal, naming the first part that differs.
pub fn assert_same_projections(served: &Value, rebuilt: &Value) {
    for part in ["parties", "sites", "lots", "lot_views"] {
        let (a, b) = (&served[part], &rebuilt[part]);
        if a == b {
            continue;
        }
        let (a, b) = (a.as_array().unwrap(), b.as_array().unwrap());
        let first = a
            .iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        panic!(
            "{part}: the served projection differs from a rebuild from the log \
             ({} served, {} rebuilt); first difference at {first}:\nserved  {}\nrebuilt {}",
            a.len(),
            b.len(),
            a.get(first).unwrap_or(&Value::Null),
            b.get(first).unwrap_or(&Value::Null),
        );
    }
}

/// Copies the data directory `data` of a stopped server to `copy` and
/// rebuilds the copy's projections from its log with `oretrace rebuild`.
pub fn rebuilt_copy(data: &Path, copy: &Path, operator_vkey: &str) {
    let _ = std::fs::remove_dir_all(copy);
    copy_dir(data, copy);
    let run = oretrace(&[
        "rebuild",
        "--data",
        path(copy),
        "--operator-vkey",
        operator_vkey,
    ]);
    assert_eq!(
        run.code, 0,
        "oretrace rebuild: {}{}",
        run.stdout, run.stderr
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Tiles read from a server through the auditor's HTTP source, each
/// fetched once.
pub struct ServedTiles {
    pub source: oretrace_verify::HttpSource,
    fetched: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl ServedTiles {
    pub fn new(base: &str) -> ServedTiles {
        ServedTiles {
            source: oretrace_verify::HttpSource::new(base).unwrap(),
            fetched: std::sync::Mutex::default(),
        }
    }
}

impl TileFetcher for ServedTiles {
    fn fetch_tile(&self, tile: &TileId) -> Result<Vec<u8>, oretrace_tlog::Error> {
        let path = tile.path();
        if let Some(bytes) = self.fetched.lock().unwrap().get(&path) {
            return Ok(bytes.clone());
        }
        match self.source.get(&path) {
            Ok(Some(bytes)) => {
                self.fetched.lock().unwrap().insert(path, bytes.clone());
                Ok(bytes)
            }
            other => panic!("tile {path}: {other:?}"),
        }
    }
}

/// The log key a server publishes at `/vkey`.
pub fn log_key(base: &str) -> NoteVerifier {
    let vkey = get(&client(), base, "/vkey").unwrap().text();
    NoteVerifier::from_vkey(vkey.trim()).unwrap()
}

/// Checks every checkpoint note in `notes` (published by the server at
/// `base` at some time) against the log it serves now: each verifies with
/// the log key, and a consistency proof computed from the served tiles
/// proves the served checkpoint extends it. Then the whole served log is
/// audited by `oretrace_verify::audit`, which also checks consistency with
/// the checkpoint `state` remembers from the previous audit and then
/// remembers this one. Returns the served checkpoint's size.
pub fn check_checkpoints(
    base: &str,
    notes: &[Vec<u8>],
    state: &oretrace_verify::StateStore,
) -> u64 {
    let log_key = log_key(base);
    let http = client();
    let latest = get(&http, base, "/checkpoint").unwrap();
    assert_eq!(latest.status, 200);
    let (latest, _) = Checkpoint::open(&latest.body, &log_key).unwrap();
    let tiles = ServedTiles::new(base);
    let reader = TiledHashReader::new(&tiles, latest.size());
    let mut seen = std::collections::BTreeSet::new();
    for note in notes {
        let (old, _) = Checkpoint::open(note, &log_key)
            .unwrap_or_else(|e| panic!("a published checkpoint does not verify: {e}"));
        if old.size() == 0 || !seen.insert((old.size(), old.root().0)) {
            continue;
        }
        assert!(
            old.size() <= latest.size(),
            "the log shrank from {} to {}",
            old.size(),
            latest.size()
        );
        let proof = oretrace_tlog::tree::prove_consistency(old.size(), latest.size(), &reader)
            .unwrap_or_else(|e| panic!("no consistency proof from {}: {e}", old.size()));
        oretrace_tlog::proof::verify_consistency(
            old.size(),
            latest.size(),
            &proof,
            old.root(),
            latest.root(),
        )
        .unwrap_or_else(|e| {
            panic!(
                "the checkpoint of size {} published earlier is not consistent with the log of size {}: {e}",
                old.size(),
                latest.size()
            )
        });
    }
    let report = oretrace_verify::audit(
        &tiles.source,
        &log_key,
        Some(state),
        &oretrace_verify::NoProgress,
    )
    .unwrap_or_else(|e| panic!("the served log does not verify: {e}"));
    assert!(report.checkpoint.size() >= latest.size());
    latest.size()
}

/// The record hash (hex) of every entry of the served log, read from the
/// entry bundles.
pub fn served_record_hashes(base: &str, size: u64) -> Vec<String> {
    let source = oretrace_verify::HttpSource::new(base).unwrap();
    let mut hashes = Vec::with_capacity(size as usize);
    for tile in oretrace_tlog::tile::entry_bundles(size) {
        let bytes = source
            .get(&tile.path())
            .unwrap()
            .unwrap_or_else(|| panic!("no entry bundle {}", tile.path()));
        for entry in oretrace_tlog::tile::decode_entry_bundle(&tile, &bytes).unwrap() {
            let record = SignedRecord::from_entry(entry).unwrap();
            hashes.push(hex(&record.record_hash()));
        }
    }
    hashes
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A small deterministic generator (xorshift64*), seeded from the
/// environment variable `var` when set, else from the clock; the seed is
/// printed so a failing run can be repeated.
pub struct Rng(u64);

impl Rng {
    pub fn from_env(var: &str) -> Rng {
        let seed = std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("{var}={seed}");
        Rng(seed | 1)
    }

    pub fn seeded(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// A number from the environment variable `var`, or `default`.
pub fn env_number(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{var}={value:?} is not a number")),
        Err(_) => default,
    }
}

/// The parties, sites and keys the tests write with: `fwo` operates a
/// mine, `acme` a smelter; lots are commissioned at the mine, shipped to
/// the smelter and received there.
pub struct Registry {
    pub operator: NoteSigner,
    pub fwo: NoteSigner,
    pub acme: NoteSigner,
}

impl Registry {
    pub fn new() -> Registry {
        Registry {
            operator: key("registry/operator", 1),
            fwo: key("fwo/k1", 2),
            acme: key("acme/k1", 3),
        }
    }

    pub fn operator_vkey(&self) -> String {
        self.operator.verifier().to_vkey()
    }

    /// Registers the two parties and their sites (each must answer 201).
    pub fn register(&self, base: &str) {
        let http = client();
        let records = [
            envelope(
                json!({"kind": "party", "id": "fwo", "name": "Frontier Works Organisation", "party_kind": "state-body",
                    "country": "PK", "keys": [self.fwo.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "reported"}),
                &[&self.fwo, &self.operator],
            ),
            envelope(
                json!({"kind": "party", "id": "acme", "name": "Acme Smelting", "party_kind": "company",
                    "country": "US", "keys": [self.acme.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
                &[&self.acme, &self.operator],
            ),
            envelope(
                json!({"kind": "site", "id": "fwo-site", "name": "Mine", "site_kind": "mine", "operator": "fwo",
                    "country": "PK", "location": {"lat": "30", "lon": "66"}, "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
                &[&self.fwo],
            ),
            envelope(
                json!({"kind": "site", "id": "acme-smelter", "name": "Refinery", "site_kind": "refinery", "operator": "acme",
                    "country": "US", "location": {"lat": "43", "lon": "-89"}, "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
                &[&self.acme],
            ),
        ];
        for record in records {
            let answer = post_record(&http, base, record).unwrap();
            assert_eq!(answer.status, 201, "{}", answer.text());
        }
    }

    pub fn lot(&self, id: &str) -> String {
        envelope(
            json!({"kind": "lot", "id": id, "commodity": "antimony", "form": "sample", "site": "fwo-site",
                "wet_mass": {"value": "1", "unit": "kg"}, "moisture_percent": "0",
                "time": "2025-09-02T00:00:00Z", "figures": "illustrative"}),
            &[&self.fwo],
        )
    }

    pub fn shipment(&self, id: &str, lot: &str) -> String {
        envelope(
            json!({"kind": "shipment", "id": id, "lots": [lot], "from": "fwo-site", "to": "acme-smelter",
                "receiver": "acme", "time": "2025-09-03T00:00:00Z", "figures": "illustrative"}),
            &[&self.fwo],
        )
    }

    pub fn receipt(&self, shipment: &str, lot: &str) -> String {
        envelope(
            json!({"kind": "receipt", "shipment": shipment, "site": "acme-smelter",
                "lots": [{"lot": lot, "mass": {"value": "1", "unit": "kg"}}],
                "time": "2025-09-04T00:00:00Z", "figures": "illustrative"}),
            &[&self.acme],
        )
    }
}
