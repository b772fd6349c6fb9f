//! The reads of agreements, reports and resource estimates over the
//! router (`docs/design/agreements.md`, "Interfaces"): filters, paging,
//! refusals naming the parameter, what is computed for `asOf`, and the
//! bounds a hostile party meets (versions, ids, echoed input).

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use oretrace_domain::canonical;
use oretrace_domain::disclosure::Sealed;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::values::Digest;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_server::{ServerConfig, router};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const MOU: &str = "fwo:mou-ussm";
const SEALED: &str = "fwo:offtake-ussm";
const DEAL: &str = "evil:loan-fwo";
const CLAUSES: [&str; 3] = [
    "Article 1. Scope.",
    "Article 2. Price: secret.",
    "Article 3. Term: five years.",
];

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn record(value: &Value) -> oretrace_domain::Record {
    RecordJson::parse(value.to_string().as_bytes()).unwrap()
}

struct World {
    app: Router,
    operator: NoteSigner,
    fwo: NoteSigner,
    ussm: NoteSigner,
    evil: NoteSigner,
}

struct Answer {
    status: StatusCode,
    link: Option<String>,
    body: Value,
    text: String,
}

impl World {
    async fn get(&self, uri: &str) -> Answer {
        let response = self
            .app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Answer {
            status: parts.status,
            link: parts
                .headers
                .get(header::LINK)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn post(&self, value: &Value, signers: &[&NoteSigner]) {
        let envelope = SignedRecord::sign(record(value), signers)
            .unwrap()
            .to_envelope();
        let response = self
            .app
            .clone()
            .oneshot(
                Request::post("/records")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(serde_json::to_string(&envelope).unwrap()))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{value}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

fn party(id: &str, key: &NoteSigner, country: &str) -> Value {
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company", "country": country,
           "keys": [key.verifier().to_vkey()], "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

fn agreement(id: &str, version: u32, parties: &[&str]) -> Value {
    let mut a = json!({"kind": "agreement", "id": id, "version": version,
        "title": "MoU on critical minerals (illustrative)", "agreement_kind": "mou",
        "parties": parties, "signed": "2025-09-05", "place": "Islamabad", "status": "signed",
        "commodities": ["antimony"],
        "pledges": [
            {"id": "investment", "description": "Investment (illustrative)",
             "quantity": {"money": {"amount": "1000000", "currency": "USD"}}, "due": "2030-12-31"},
            {"id": "samples", "description": "First samples", "due": "2025-10-31"}],
        "terms": {"public": {"clauses": ["Article 1. Cooperation."]}},
        "time": "2025-09-05T12:00:00Z", "figures": "illustrative"});
    if version > 1 {
        a["amends"] = json!(version - 1);
        a["time"] = json!(format!("2025-09-06T{:02}:00:00Z", version));
    }
    a
}

fn sealing() -> Sealed {
    let pairs: Vec<([u8; 32], &str)> = CLAUSES
        .iter()
        .enumerate()
        .map(|(i, c)| ([u8::try_from(i).unwrap() + 1; 32], *c))
        .collect();
    Sealed::new(&pairs).unwrap()
}

fn sealed_agreement() -> Value {
    let mut a = agreement(SEALED, 1, &["fwo", "ussm"]);
    a["agreement_kind"] = json!("offtake");
    a["status"] = json!("in-force");
    a["commodities"] = json!(["copper"]);
    a["pledges"] = json!([]);
    a["terms"] = json!({"sealed": {"root": hex(sealing().root().as_bytes()), "count": 3,
        "reason": "Commercial confidentiality", "disclose_by": "2026-09-05"}});
    a
}

fn reveal(clause: u32) -> Value {
    let proof: Vec<String> = sealing()
        .proof(u64::from(clause))
        .unwrap()
        .iter()
        .map(|h| hex(h.as_bytes()))
        .collect();
    let i = clause as usize;
    json!({"kind": "disclosure", "agreement": SEALED, "version": 1,
        "clauses": [{"index": clause, "salt": hex(&[u8::try_from(i).unwrap() + 1; 32]), "text": CLAUSES[i], "proof": proof}],
        "time": format!("2025-09-0{}T00:00:00Z", 7 + clause), "figures": "illustrative"})
}

fn progress(amount: &str, date: &str) -> Value {
    json!({"kind": "progress", "agreement": MOU, "pledge": "investment",
        "delivered": {"money": {"amount": amount, "currency": "USD"}},
        "date": date, "note": "A tranche (illustrative)",
        "time": format!("{date}T12:00:00Z"), "figures": "illustrative"})
}

async fn world() -> World {
    let operator = key("operator/1", 1);
    let ledger = Arc::new(
        Ledger::start(
            MemoryStore::new(),
            key("registry.example/log", 9),
            operator.verifier(),
            LedgerConfig::default(),
        )
        .unwrap(),
    );
    let w = World {
        app: router(ledger, ServerConfig::default()).unwrap(),
        operator,
        fwo: key("fwo/1", 2),
        ussm: key("ussm/1", 3),
        evil: key("evil/1", 4),
    };
    w.post(&party("fwo", &w.fwo, "PK"), &[&w.fwo, &w.operator])
        .await;
    w.post(&party("ussm", &w.ussm, "US"), &[&w.ussm, &w.operator])
        .await;
    w.post(&party("evil", &w.evil, "PK"), &[&w.evil, &w.operator])
        .await;
    w.post(
        &json!({"kind": "site", "id": "fwo-mine", "name": "Mine", "site_kind": "mine", "operator": "fwo",
            "country": "PK", "location": {"lat": "30", "lon": "66"}, "time": "2025-09-01T00:00:00Z",
            "figures": "illustrative"}),
        &[&w.fwo],
    )
    .await;
    w.post(&agreement(MOU, 1, &["fwo", "ussm"]), &[&w.fwo])
        .await;
    w.post(&sealed_agreement(), &[&w.fwo]).await;
    let mut deal = agreement(DEAL, 1, &["evil", "fwo"]);
    deal["agreement_kind"] = json!("loan");
    deal["pledges"] = json!([]);
    w.post(&deal, &[&w.evil]).await;
    w
}

fn ids(answer: &Answer, list: &str) -> Vec<String> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.body[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn agreements_are_filtered_by_each_term() {
    let w = world().await;
    let list = |q: &str| format!("/agreements?{q}");
    let cases: [(&str, &[&str]); 11] = [
        ("", &[DEAL, MOU, SEALED]),
        ("party=ussm", &[MOU, SEALED]),
        ("party=evil", &[DEAL]),
        ("country=US", &[MOU, SEALED]),
        ("status=in-force", &[SEALED]),
        ("kind=loan", &[DEAL]),
        ("disclosure=sealed", &[SEALED]),
        ("disclosure=public", &[DEAL, MOU]),
        ("commodity=copper", &[SEALED]),
        ("overdue=true&asOf=2025-09-20", &[]),
        // The milestone was due 2025-10-31; the sealed text on 2026-09-05.
        ("overdue=true&asOf=2026-09-06", &[MOU, SEALED]),
    ];
    for (query, expected) in cases {
        let answer = w.get(&list(query)).await;
        assert_eq!(ids(&answer, "agreements"), expected, "{query}");
    }
    let answer = w.get("/agreements?asOf=2026-09-06&party=ussm").await;
    let sealed = &answer.body["agreements"][1];
    assert_eq!(sealed["as_of"], "2026-09-06");
    assert_eq!(sealed["disclosure_overdue"], true);
    assert!(sealed["note"].as_str().unwrap().contains("illustrative"));
}

#[tokio::test]
async fn agreements_are_paged_and_the_link_keeps_the_filters() {
    let w = world().await;
    let first = w.get("/agreements?party=ussm&perPage=1").await;
    assert_eq!(ids(&first, "agreements"), [MOU]);
    let token = first.body["nextPageToken"].as_str().unwrap();
    let link = first.link.clone().unwrap();
    assert_eq!(
        link,
        format!("</agreements?party=ussm&perPage=1&nextPageToken={token}>; rel=\"next\"")
    );
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let second = w.get(next).await;
    assert_eq!(ids(&second, "agreements"), [SEALED]);
    assert!(second.body.get("nextPageToken").is_none());
    assert!(second.link.is_none());
    // Without the filter the same token pages the whole list.
    let all = w.get("/agreements?perPage=2").await;
    assert_eq!(ids(&all, "agreements"), [DEAL, MOU]);
    let token = all.body["nextPageToken"].as_str().unwrap();
    let rest = w
        .get(&format!("/agreements?perPage=2&nextPageToken={token}"))
        .await;
    assert_eq!(ids(&rest, "agreements"), [SEALED]);
}

#[tokio::test]
async fn a_bad_parameter_is_refused_naming_it() {
    let w = world().await;
    let cases = [
        (
            "/agreements?party=fwo&party=ussm",
            "party",
            "more than once",
        ),
        (
            "/agreements?colour=red",
            "colour",
            "unknown query parameter",
        ),
        ("/agreements?status=nonsense", "status", ""),
        ("/agreements?country=pk", "country", "ISO 3166-1"),
        ("/agreements?asOf=2025-13-01", "asOf", ""),
        ("/agreements?overdue=false", "overdue", "overdue=true"),
        (
            "/agreements?disclosure=hidden",
            "disclosure",
            "public, sealed",
        ),
        ("/agreements?perPage=0", "perPage", ""),
        (
            "/agreements?perPage=1&perPage=2",
            "perPage",
            "more than once",
        ),
        ("/agreements?nextPageToken=zz", "nextPageToken", ""),
        ("/agreements/fwo:mou-ussm?asOf=2025-13-01", "asOf", ""),
        (
            "/agreements/fwo:mou-ussm?asOf=2025-09-01&asOf=2025-09-02",
            "asOf",
            "more than once",
        ),
        (
            "/agreements/fwo:mou-ussm?party=fwo",
            "party",
            "unknown query parameter",
        ),
        ("/agreements/fwo:mou-ussm/pledges?asOf=x", "asOf", ""),
        (
            "/agreements/fwo:mou-ussm/progress?asOf=2025-09-01",
            "asOf",
            "",
        ),
        (
            "/agreements/fwo:mou-ussm/progress?nextPageToken=00",
            "nextPageToken",
            "",
        ),
        ("/reports?status=maybe", "status", ""),
        (
            "/reports?overdue=true",
            "overdue",
            "unknown query parameter",
        ),
        ("/resources?element=Xx", "element", ""),
        ("/resources?code=jorc&code=none", "code", "more than once"),
    ];
    for (uri, field, rule) in cases {
        let answer = w.get(uri).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            answer.text
        );
        assert_eq!(answer.body["field"], field, "{uri}: {}", answer.text);
        assert!(
            answer.body["rule"].as_str().unwrap().contains(rule),
            "{uri}: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn an_unknown_or_malformed_id_is_not_found() {
    let w = world().await;
    for uri in [
        "/agreements/fwo:nothing",
        "/agreements/not-an-id",
        "/agreements/FWO:MOU-USSM",
        "/agreements/fwo:nothing/pledges",
        "/agreements/fwo:nothing/progress",
        "/agreements/fwo:mou-ussm/versions/2",
        "/agreements/fwo:mou-ussm/versions/0",
        "/agreements/fwo:mou-ussm/versions/01",
        "/agreements/fwo:mou-ussm/versions/+1",
        "/agreements/fwo:mou-ussm/versions/1/clauses",
        "/agreements/fwo:offtake-ussm/versions/01/clauses",
        "/agreements/fwo:offtake-ussm/versions/99999999999/clauses",
        "/reports/fwo:nothing",
        "/reports/nothing",
        "/resources/fwo:nothing",
        "/resources/Nothing",
    ] {
        let answer = w.get(uri).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{uri}: {}",
            answer.text
        );
        assert_eq!(answer.body["status"], 404, "{uri}");
    }
    let one = w.get("/agreements/fwo:mou-ussm/versions/1").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["version"], 1);
}

#[tokio::test]
async fn a_version_is_unconfirmed_until_the_other_party_countersigns() {
    let w = world().await;
    let before = w.get("/agreements/fwo:mou-ussm").await;
    let v1 = &before.body["versions"][0];
    assert_eq!(
        v1["confirmation"],
        "registered by fwo, not yet confirmed by ussm"
    );
    assert_eq!(v1["registrant"], "fwo");
    assert_eq!(v1["not_yet_confirmed_by"], json!(["ussm"]));
    let digest = Digest::of(&canonical::encode(&record(&agreement(
        MOU,
        1,
        &["fwo", "ussm"],
    ))));
    assert_eq!(v1["digest"], digest.to_string());
    w.post(
        &json!({"kind": "countersignature", "agreement": MOU, "version": 1, "digest": digest.to_string(),
            "time": "2025-09-07T00:00:00Z", "figures": "illustrative"}),
        &[&w.ussm],
    )
    .await;
    let after = w.get("/agreements/fwo:mou-ussm").await;
    let v1 = &after.body["versions"][0];
    assert_eq!(
        v1["confirmation"],
        "registered by fwo, confirmed by ussm (every party)"
    );
    assert_eq!(v1["confirmed_by"][0]["party"], "ussm");
    assert_eq!(v1["not_yet_confirmed_by"], json!([]));
}

#[tokio::test]
async fn a_sealed_version_shows_days_sealed_and_when_disclosure_is_overdue() {
    let w = world().await;
    let early = w.get("/agreements/fwo:offtake-ussm?asOf=2025-09-15").await;
    assert_eq!(early.status, StatusCode::OK, "{}", early.text);
    let v = &early.body["versions"][0];
    assert_eq!(v["disclosure"], "sealed");
    assert_eq!(v["sealed_days"], 10);
    assert_eq!(v["disclosure_overdue"], false);
    assert_eq!(v["disclose_by"], "2026-09-05");
    assert_eq!(early.body["disclosure_overdue"], false);
    let late = w.get("/agreements/fwo:offtake-ussm?asOf=2026-09-06").await;
    let v = &late.body["versions"][0];
    assert_eq!(v["sealed_days"], 366);
    assert_eq!(v["disclosure_overdue"], true);
    assert_eq!(late.body["disclosure_overdue"], true);
    assert_eq!(late.body["overdue"], true);
    // A public version is never sealed.
    let public = w.get("/agreements/fwo:mou-ussm?asOf=2026-09-06").await;
    assert!(public.body["versions"][0].get("sealed_days").is_none());
    assert_eq!(public.body["disclosure_overdue"], false);
}

#[tokio::test]
async fn pledges_add_up_deliveries_over_time() {
    let w = world().await;
    w.post(&progress("1000", "2025-09-10"), &[&w.fwo]).await;
    w.post(&progress("500", "2025-09-12"), &[&w.ussm]).await;
    let answer = w
        .get("/agreements/fwo:mou-ussm/pledges?asOf=2025-11-01")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.body["totals"],
        json!([{"unit": "USD", "pledged": "1000000", "delivered": "1500"}])
    );
    let investment = &answer.body["pledges"][0];
    assert_eq!(investment["status"], "open");
    assert_eq!(investment["delivered_percent"], "0.15");
    let deliveries = investment["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[0]["cumulative"], "1000");
    assert_eq!(deliveries[1]["cumulative"], "1500");
    assert_eq!(deliveries[1]["author"], "ussm");
    let samples = &answer.body["pledges"][1];
    assert_eq!(samples["status"], "not-met");
    assert_eq!(samples["overdue"], true);
    assert_eq!(samples["deliveries"], json!([]));
    // Progress reports, paged with a Link header.
    let page = w.get("/agreements/fwo:mou-ussm/progress?perPage=1").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.body["progress"][0]["author"], "fwo");
    let link = page.link.unwrap();
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    assert!(
        next.starts_with("/agreements/fwo:mou-ussm/progress?perPage=1&nextPageToken="),
        "{link}"
    );
    let second = w.get(next).await;
    assert_eq!(second.body["progress"][0]["author"], "ussm");
    assert!(second.link.is_none());
}

#[tokio::test]
async fn revealed_clauses_are_paged_with_their_salts() {
    let w = world().await;
    w.post(&reveal(0), &[&w.fwo]).await;
    w.post(&reveal(2), &[&w.ussm]).await;
    let first = w
        .get("/agreements/fwo:offtake-ussm/versions/1/clauses?perPage=1")
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["count"], 3);
    assert_eq!(first.body["root"], hex(sealing().root().as_bytes()));
    assert_eq!(first.body["clauses"][0]["clause"], 0);
    assert_eq!(first.body["clauses"][0]["text"], CLAUSES[0]);
    assert_eq!(first.body["clauses"][0]["salt"], hex(&[1; 32]));
    let link = first.link.unwrap();
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let second = w.get(next).await;
    assert_eq!(second.body["clauses"][0]["clause"], 2);
    assert_eq!(second.body["clauses"][0]["by"], "ussm");
    assert!(second.body.get("nextPageToken").is_none());
    let agreement = w.get("/agreements/fwo:offtake-ussm").await;
    assert_eq!(
        agreement.body["versions"][0]["disclosure"],
        "partly-disclosed"
    );
    assert_eq!(agreement.body["versions"][0]["revealed"], json!([0, 2]));
    let listed = w.get("/agreements?disclosure=partly-disclosed").await;
    assert_eq!(ids(&listed, "agreements"), [SEALED]);
}

#[tokio::test]
async fn reports_are_shown_as_reports_with_their_notice() {
    let w = world().await;
    w.post(
        &json!({"kind": "report", "id": "ussm:port-offer", "version": 1,
            "claim": "A port may be offered (illustrative)", "topic": "port-offer", "countries": ["PK", "US"],
            "sources": [{"title": "Report", "publisher": "A newspaper", "date": "2025-09-04", "url": "https://news.example/port"}],
            "status": "unconfirmed", "time": "2025-09-05T00:00:00Z", "figures": "reported"}),
        &[&w.ussm],
    )
    .await;
    let one = w.get("/reports/ussm:port-offer").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["kind"], "report");
    assert_eq!(one.body["status"], "unconfirmed");
    assert!(
        one.body["notice"]
            .as_str()
            .unwrap()
            .contains("unconfirmed public claim")
    );
    assert_eq!(one.body["record"]["kind"], "report");
    let listed = w
        .get("/reports?author=ussm&country=PK&topic=port-offer")
        .await;
    assert_eq!(ids(&listed, "reports"), ["ussm:port-offer"]);
    assert_eq!(listed.body["reports"][0]["kind"], "report");
    let none = w.get("/reports?status=refuted").await;
    assert_eq!(ids(&none, "reports"), Vec::<String>::new());
    // A report is never listed as an agreement.
    let agreements = w.get("/agreements?party=ussm").await;
    assert_eq!(ids(&agreements, "agreements"), [MOU, SEALED]);
}

#[tokio::test]
async fn resources_show_contained_metal_computed_from_tonnage_and_grade() {
    let w = world().await;
    w.post(
        &json!({"kind": "resource", "id": "fwo:mine-sb", "version": 1, "site": "fwo-mine",
            "code": "none", "class": "inferred", "effective": "2025-09-01",
            "tonnes": "1000", "grades": [{"analyte": "Sb", "value": "2.5", "unit": "%"}],
            "competent": "Geology (illustrative)", "time": "2025-09-05T00:00:00Z", "figures": "illustrative"}),
        &[&w.fwo],
    )
    .await;
    let one = w.get("/resources/fwo:mine-sb").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(
        one.body["contained"],
        json!([{"element": "Sb", "computed_tonnes": "25"}])
    );
    assert_eq!(one.body["code_compliant"], false);
    assert_eq!(one.body["country"], "PK");
    assert!(one.body["note"].as_str().unwrap().contains("illustrative"));
    let listed = w
        .get("/resources?site=fwo-mine&element=Sb&class=inferred&country=PK")
        .await;
    assert_eq!(ids(&listed, "resources"), ["fwo:mine-sb"]);
    let none = w.get("/resources?code=jorc").await;
    assert_eq!(ids(&none, "resources"), Vec::<String>::new());
}

/// A headline valuation is shown beside what code-compliant estimates in
/// its countries support: estimates under no code are not counted.
#[tokio::test]
async fn a_valuation_is_shown_beside_what_code_compliant_estimates_support() {
    let w = world().await;
    let valuation = json!({"kind": "report", "id": "evil:usd-6-trillion", "version": 1,
        "claim": "Mineral wealth of about USD 6 trillion", "topic": "valuation", "countries": ["PK"],
        "value": {"amount": "6000000000000", "currency": "USD"},
        "sources": [{"title": "Report", "publisher": "A newspaper", "date": "2025-09-04", "url": "https://news.example/6t"}],
        "status": "unconfirmed", "time": "2025-09-05T00:00:00Z", "figures": "reported"});
    w.post(&valuation, &[&w.evil]).await;
    let before = w.get("/reports/evil:usd-6-trillion").await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(before.body["estimates"]["code_compliant"], 0);
    assert!(
        before.body["estimates"]["note"]
            .as_str()
            .unwrap()
            .contains("nothing registered here supports the figure"),
        "{}",
        before.text
    );
    for (id, code, class, tonnes) in [
        ("fwo:mine-sb-jorc", "jorc", "indicated", "1000"),
        ("fwo:mine-sb-jorc-2", "jorc", "indicated", "3000"),
        ("fwo:mine-sb-none", "none", "inferred", "900000"),
    ] {
        w.post(
            &json!({"kind": "resource", "id": id, "version": 1, "site": "fwo-mine",
                "code": code, "class": class, "effective": "2025-09-01",
                "tonnes": tonnes, "grades": [{"analyte": "Sb", "value": "2.5", "unit": "%"}],
                "competent": "Geology (illustrative)", "time": "2025-09-05T00:00:00Z", "figures": "illustrative"}),
            &[&w.fwo],
        )
        .await;
    }
    let after = w.get("/reports/evil:usd-6-trillion").await;
    let beside = &after.body["estimates"];
    assert_eq!(beside["countries"], json!(["PK"]));
    assert_eq!(beside["code_compliant"], 2);
    assert_eq!(beside["under_no_code"], 1);
    assert_eq!(
        beside["contained"],
        json!([{"element": "Sb", "class": "indicated", "tonnes": "100"}])
    );
    assert_eq!(beside["truncated"], false);
    // Lists and other topics carry no comparison.
    let listed = w.get("/reports").await;
    assert!(listed.body["reports"][0].get("estimates").is_none());
}

/// An agreement amended many times is answered with its latest versions
/// only; every version stays readable on its own.
#[tokio::test]
async fn an_agreement_with_many_versions_lists_only_the_latest() {
    let w = world().await;
    for v in 2..=23 {
        w.post(&agreement(MOU, v, &["fwo", "ussm"]), &[&w.fwo])
            .await;
    }
    let answer = w.get("/agreements/fwo:mou-ussm").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let versions: Vec<u64> = answer.body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, (4..=23).collect::<Vec<u64>>());
    assert_eq!(answer.body["versions_truncated"], true);
    assert_eq!(answer.body["latest"], 23);
    let first = w.get("/agreements/fwo:mou-ussm/versions/1").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["record"]["version"], 1);
    let few = w.get("/agreements/fwo:offtake-ussm").await;
    assert_eq!(few.body["versions_truncated"], false);
}

/// Huge names and values are not echoed back whole.
#[tokio::test]
async fn huge_input_is_not_echoed() {
    let w = world().await;
    let huge = "a".repeat(20_000);
    for uri in [
        format!("/agreements?{huge}=1"),
        format!("/agreements?commodity={huge}"),
        format!("/agreements?disclosure={huge}"),
        format!("/agreements/fwo:{huge}"),
        format!("/agreements/{huge}"),
        format!("/agreements/fwo:mou-ussm/versions/{huge}"),
        format!("/agreements/fwo:mou-ussm?{huge}=1"),
        format!("/reports/{huge}:x"),
    ] {
        let answer = w.get(&uri).await;
        assert!(answer.status.is_client_error(), "{}", answer.status);
        assert!(answer.text.len() < 2_000, "{} bytes", answer.text.len());
    }
}
