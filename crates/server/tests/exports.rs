//! The exports served over HTTP: the OCDS packages of an agreement built
//! through the ledger (a sealed version, a countersignature, a partial
//! reveal, progress reports) validate against the official OCDS 1.1.5
//! schemas and compile as PyPI `ocdsmerge` compiles them (the checker in
//! `tests/ocds`, run from `.venv/interop`, installed by
//! `bash .ci/interop-env`; the test fails without it); the CSV exports
//! have their columns; every answer names the checkpoint it was cut at;
//! and the clause left sealed appears in no export.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

#[path = "../../ocds/tests/support/python_check.rs"]
mod python_check;
use python_check::python_check;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use oretrace_domain::canonical;
use oretrace_domain::disclosure::Sealed;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::values::Digest;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_server::{OcdsPublisher, ServerConfig, router};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const MOU: &str = "fwo:mou-ussm-2025";
const CLAUSES: [&str; 3] = [
    "Article 1. Scope: antimony \"from exploration to refining\", Chitral.",
    "Article 2. Price formula SEALED-MARKER-91c4 stays confidential.",
    "Article 3. Term: five years.",
];
const SEALED_MARKER: &str = "SEALED-MARKER-91c4";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn record(value: &Value) -> oretrace_domain::Record {
    RecordJson::parse(value.to_string().as_bytes()).unwrap()
}

fn signed(value: &Value, signers: &[&NoteSigner]) -> SignedRecord {
    SignedRecord::sign(record(value), signers).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn party(id: &str, key: &NoteSigner, country: &str) -> Value {
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company",
           "country": country, "keys": [key.verifier().to_vkey()],
           "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

fn salts() -> Vec<[u8; 32]> {
    (0..3).map(|i| [i as u8 + 1; 32]).collect()
}

fn sealed() -> Sealed {
    let pairs: Vec<([u8; 32], &str)> = salts().into_iter().zip(CLAUSES).collect();
    Sealed::new(&pairs).unwrap()
}

fn mou() -> Value {
    json!({"kind": "agreement", "id": MOU, "version": 1,
        "title": "MoU on critical minerals, \"phase one\"", "agreement_kind": "mou",
        "parties": ["fwo", "ussm"], "signed": "2025-09-08", "place": "Islamabad", "status": "in-force",
        "commodities": ["antimony"], "sites": [], "lots": [],
        "value": {"amount": "500000000", "currency": "USD"},
        "pledges": [
            {"id": "investment", "description": "Investment in processing",
             "quantity": {"money": {"amount": "500000000", "currency": "USD"}}, "due": "2030-12-31"},
            {"id": "samples", "description": "First samples delivered", "due": "2025-10-31"}
        ],
        "documents": [],
        "terms": {"sealed": {"root": hex(sealed().root().as_bytes()), "count": 3,
            "reason": "Commercial confidentiality until the first phase", "disclose_by": "2026-09-08"}},
        "time": "2025-09-08T12:00:00Z", "figures": "illustrative"})
}

fn reveal(indices: &[u32]) -> Value {
    let s = sealed();
    let clauses: Vec<Value> = indices
        .iter()
        .map(|i| {
            let proof: Vec<String> = s
                .proof(u64::from(*i))
                .unwrap()
                .iter()
                .map(|h| hex(h.as_bytes()))
                .collect();
            json!({"index": i, "salt": hex(&salts()[*i as usize]), "text": CLAUSES[*i as usize], "proof": proof})
        })
        .collect();
    json!({"kind": "disclosure", "agreement": MOU, "version": 1, "clauses": clauses,
        "time": "2025-12-01T00:00:00Z", "figures": "illustrative"})
}

fn progress(pledge: &str, amount: Option<&str>, time: &str) -> Value {
    let mut p = json!({"kind": "progress", "agreement": MOU, "pledge": pledge,
        "complete": amount.is_none(), "date": "2025-12-05", "note": "First tranche",
        "documents": [], "records": [], "time": time, "figures": "illustrative"});
    if let Some(a) = amount {
        p["delivered"] = json!({"money": {"amount": a, "currency": "USD"}});
    }
    p
}

fn report() -> Value {
    json!({"kind": "report", "id": "ussm:pasni-port-offer", "version": 1,
        "claim": "The United States may be offered access to Pasni port", "topic": "port-offer",
        "countries": ["PK", "US"], "commodities": [],
        "sources": [{"title": "Report on Pasni port", "publisher": "Dawn", "date": "2025-10-06",
                     "url": "https://www.dawn.com/news/example"}],
        "status": "unconfirmed", "time": "2025-10-06T12:00:00Z", "figures": "reported"})
}

struct World {
    ledger: Arc<Ledger<MemoryStore>>,
    app: Router,
}

/// fwo and ussm; the MoU sealed, countersigned by ussm, clause 0
/// revealed (clauses 1 and 2 stay sealed), two progress reports, and a
/// report of a claim.
async fn world(config: ServerConfig) -> World {
    let operator = key("registry/operator", 1);
    let ledger = Arc::new(
        Ledger::start(
            MemoryStore::new(),
            key("oretrace.test/ledger", 2),
            operator.verifier(),
            LedgerConfig::default(),
        )
        .unwrap(),
    );
    let (fwo, ussm) = (key("fwo/k1", 3), key("ussm/k1", 4));
    let digest = Digest::of(&canonical::encode(&record(&mou()))).to_string();
    let records = [
        signed(&party("fwo", &fwo, "PK"), &[&fwo, &operator]),
        signed(&party("ussm", &ussm, "US"), &[&ussm, &operator]),
        signed(&mou(), &[&fwo]),
        signed(
            &json!({"kind": "countersignature", "agreement": MOU, "version": 1, "digest": digest,
                "time": "2025-09-09T00:00:00Z", "figures": "illustrative"}),
            &[&ussm],
        ),
        signed(&reveal(&[0]), &[&fwo]),
        signed(
            &progress("investment", Some("12500000.5"), "2025-12-06T00:00:00Z"),
            &[&fwo],
        ),
        signed(&progress("samples", None, "2025-12-07T00:00:00Z"), &[&ussm]),
        signed(&report(), &[&ussm]),
    ];
    for r in records {
        ledger.submit(r).await.unwrap();
    }
    let app = router(ledger.clone(), config).unwrap();
    World { ledger, app }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header"))
    }
}

async fn get(app: &Router, uri: &str) -> Answer {
    let request = Request::get(uri)
        .header(header::HOST, "registry.example:8080")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: axum::body::to_bytes(body, usize::MAX).await.unwrap(),
    }
}

async fn ok(app: &Router, uri: &str) -> Answer {
    let answer = get(app, uri).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&answer.body)
    );
    answer
}

/// The answer names the published checkpoint.
fn assert_cut_at_checkpoint(w: &World, answer: &Answer) {
    let (checkpoint, _) = w.ledger.checkpoint().unwrap();
    assert_eq!(
        answer.header("oretrace-checkpoint-size"),
        checkpoint.size().to_string()
    );
    assert_eq!(
        answer.header("oretrace-checkpoint-root"),
        checkpoint.root().to_base64()
    );
    assert_eq!(
        answer.header("oretrace-checkpoint-origin"),
        checkpoint.origin()
    );
}

#[tokio::test]
async fn the_packages_of_an_agreement_are_valid_ocds_and_compile_as_ocdsmerge_does() {
    let w = world(ServerConfig::default()).await;
    let path = format!("/agreements/{MOU}/ocds");
    let records = ok(&w.app, &path).await;
    let releases = ok(&w.app, &format!("{path}/releases")).await;
    for answer in [&records, &releases] {
        assert_eq!(answer.header("content-type"), "application/json");
        assert_cut_at_checkpoint(&w, answer);
    }
    let (records, releases) = (records.json(), releases.json());

    let answer = python_check(
        &root(),
        std::slice::from_ref(&releases),
        std::slice::from_ref(&records),
    );
    assert_eq!(answer["errors"], json!([]), "schema errors");
    assert_eq!(
        answer["compiled"][0],
        records["records"][0]["compiledRelease"]
    );

    // The package: where it is served, by whom, and published at the
    // time of the last record the checkpoint covers (the report).
    assert_eq!(
        records["uri"],
        format!("http://registry.example:8080/agreements/{MOU}/ocds")
    );
    assert_eq!(records["publisher"]["name"], "oretrace registry");
    assert_eq!(records["publishedDate"], "2025-10-06T12:00:00Z");
    assert_eq!(releases["publishedDate"], records["publishedDate"]);
    assert_eq!(
        records["records"][0]["ocid"],
        format!("ocds-oretrace-{MOU}")
    );

    // One release per record about the agreement, in log order.
    let tags: Vec<(&str, &str)> = releases["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["tag"][0].as_str().unwrap(), r["date"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tags,
        [
            ("contract", "2025-09-08T12:00:00Z"),
            ("contractUpdate", "2025-09-09T00:00:00Z"),
            ("contractUpdate", "2025-12-01T00:00:00Z"),
            ("implementation", "2025-12-06T00:00:00Z"),
            ("implementation", "2025-12-07T00:00:00Z"),
        ]
    );
    let compiled = &records["records"][0]["compiledRelease"]["contracts"][0];
    assert_eq!(compiled["status"], "active");
    assert_eq!(
        compiled["implementation"]["transactions"][0]["value"],
        json!({"amount": 12500000.5, "currency": "USD"})
    );
    assert_eq!(compiled["milestones"][1]["status"], "met");
    // The revealed clause is in the package; the sealed ones are not.
    let text = records.to_string();
    assert!(text.contains("from exploration to refining"), "{text}");
    assert!(!text.contains(SEALED_MARKER) && !text.contains("five years"));
}

#[tokio::test]
async fn the_prefix_and_publisher_are_configured() {
    let config = ServerConfig {
        ocds: OcdsPublisher {
            prefix: "a1b2c3",
            name: "Minerals registry of record",
            base_url: Some("https://registry.example/v1/"),
        },
        ..ServerConfig::default()
    };
    let w = world(config).await;
    let package = ok(&w.app, &format!("/agreements/{MOU}/ocds/releases"))
        .await
        .json();
    assert_eq!(
        package["uri"],
        format!("https://registry.example/v1/agreements/{MOU}/ocds/releases")
    );
    assert_eq!(
        package["publisher"],
        json!({"name": "Minerals registry of record", "uri": "https://registry.example/v1"})
    );
    assert!(
        package["releases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ocid"] == format!("ocds-a1b2c3-{MOU}"))
    );
}

#[tokio::test]
async fn csv_exports_have_their_columns_and_compute_for_the_day() {
    let w = world(ServerConfig::default()).await;
    let early = ok(&w.app, "/exports/agreements.csv?asOf=2026-01-01").await;
    assert_eq!(early.header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        early.header("content-disposition"),
        "attachment; filename=\"agreements.csv\""
    );
    assert_cut_at_checkpoint(&w, &early);
    let rows: Vec<&str> = early.text().split("\r\n").collect();
    assert_eq!(rows.len(), 3, "header, one agreement, the final CRLF");
    assert!(rows[0].starts_with("id,title,kind,status,version,parties,countries,"));
    assert!(
        rows[1].starts_with(
            "fwo:mou-ussm-2025,\"MoU on critical minerals, \"\"phase one\"\"\",mou,in-force,1,fwo;ussm,PK;US,antimony,2025-09-08,partly-disclosed,3,1,2026-09-08,no,"
        ),
        "{}",
        rows[1]
    );
    // After the planned disclosure date, the same rows say overdue.
    let late = ok(&w.app, "/exports/agreements.csv?asOf=2026-09-09").await;
    assert!(
        late.text().contains(",2026-09-08,yes,yes,"),
        "{}",
        late.text()
    );

    let pledges = ok(&w.app, "/exports/pledges.csv?asOf=2031-01-01").await;
    assert_cut_at_checkpoint(&w, &pledges);
    let rows: Vec<&str> = pledges.text().split("\r\n").collect();
    assert_eq!(rows.len(), 4, "header, two pledges, the final CRLF");
    assert!(rows[0].starts_with("agreement,pledge,description,due,pledged,unit,delivered,"));
    assert!(
        rows[1].starts_with(
            "fwo:mou-ussm-2025,investment,Investment in processing,2030-12-31,500000000,USD,12500000.5,no,partly-met,yes,1,"
        ),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].contains(",samples,") && rows[2].contains(",met,no,"),
        "{}",
        rows[2]
    );

    let reports = ok(&w.app, "/exports/reports.csv").await;
    assert_cut_at_checkpoint(&w, &reports);
    let rows: Vec<&str> = reports.text().split("\r\n").collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].starts_with("id,version,author,claim,"));
    assert!(
        rows[1].starts_with("ussm:pasni-port-offer,1,ussm,The United States may be offered"),
        "{}",
        rows[1]
    );
}

#[tokio::test]
async fn no_export_holds_a_sealed_clause() {
    let w = world(ServerConfig::default()).await;
    for uri in [
        format!("/agreements/{MOU}/ocds"),
        format!("/agreements/{MOU}/ocds/releases"),
        "/exports/agreements.csv".to_owned(),
        "/exports/pledges.csv".to_owned(),
        "/exports/reports.csv".to_owned(),
    ] {
        let answer = ok(&w.app, &uri).await;
        for sealed in [SEALED_MARKER, CLAUSES[1], CLAUSES[2]] {
            assert!(!answer.text().contains(sealed), "{uri} holds {sealed:?}");
        }
    }
    // CSV holds no clause text at all, not even a revealed one.
    for uri in ["/exports/agreements.csv", "/exports/pledges.csv"] {
        assert!(!ok(&w.app, uri).await.text().contains("Article"));
    }
}

#[tokio::test]
async fn refusals_name_what_is_wrong() {
    let w = world(ServerConfig::default()).await;
    for (uri, status, slug) in [
        ("/agreements/fwo:nothing/ocds", 404, "not-found"),
        ("/agreements/fwo:nothing/ocds/releases", 404, "not-found"),
        ("/agreements/not-scoped/ocds", 404, "not-found"),
        (
            "/agreements/fwo:mou-ussm-2025/ocds?asOf=2026-01-01",
            400,
            "invalid-request",
        ),
        (
            "/exports/agreements.csv?asOf=2026-13-01",
            400,
            "invalid-request",
        ),
        ("/exports/pledges.csv?perPage=5", 400, "invalid-request"),
        (
            "/exports/reports.csv?asOf=2026-01-01",
            400,
            "invalid-request",
        ),
    ] {
        let answer = get(&w.app, uri).await;
        assert_eq!(answer.status.as_u16(), status, "{uri}: {}", answer.text());
        assert_eq!(
            answer.json()["type"],
            format!("https://oretrace.org/problems/{slug}"),
            "{uri}"
        );
    }
}
