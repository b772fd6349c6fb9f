//! The portal's pages (`docs/design/portal.md`) over the worked example
//! of `docs/design/provenance.md`: HTML to a request that prefers it and
//! the JSON API unchanged otherwise, 404 pages, Urdu right to left, the
//! message catalogues complete, every hostile string escaped, and the
//! flows and map computed from the ledger.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use oretrace_portal::{Lang, Messages, i18n};
use oretrace_server::{ServerConfig, router};
use serde_json::{Value, json};
use tower::ServiceExt as _;

#[path = "../../ledger/tests/provenance_world/mod.rs"]
mod provenance_world;
use provenance_world::*;

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const SCRIPT: &str = "<script>alert(1)</script>";
const ATTRIBUTE: &str = "\"><img src=x onerror=alert(2)>";

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn page(app: &Router, uri: &str) -> Answer {
    get(app, uri, &[("accept", BROWSER)]).await
}

/// The worked example, with a party and a site whose names hold markup.
fn app() -> Router {
    let w = worked_example();
    let operator = key("registry/operator", 1);
    let evil = key("evil/k1", 9);
    w.ledger
        .submit_blocking(signed(
            &json!({"kind": "party", "id": "evil", "name": format!("Evil {SCRIPT} {ATTRIBUTE}"),
                    "party_kind": "company", "country": "PK", "keys": [evil.verifier().to_vkey()],
                    "time": "2025-09-01T00:00:00Z", "figures": "reported"}),
            &[&evil, &operator],
        ))
        .unwrap();
    let mut site = site("evil-site", "mine", "evil", "PK");
    site["name"] = json!(format!("Mine {ATTRIBUTE} {SCRIPT}"));
    w.ledger.submit_blocking(signed(&site, &[&evil])).unwrap();
    let ussm = key("ussm/k1", 4);
    w.ledger
        .submit_blocking(signed(
            &json!({"kind": "agreement", "id": "fwo:offtake-ussm", "version": 1,
                "title": "Offtake of copper concentrate (illustrative)", "agreement_kind": "offtake",
                "parties": ["fwo", "ussm"], "signed": "2025-09-05", "place": "Islamabad", "status": "in-force",
                "commodities": ["copper"], "lots": [A],
                "pledges": [{"id": "investment", "description": "Investment (illustrative)",
                    "quantity": {"money": {"amount": "1000000", "currency": "USD"}}, "due": "2030-12-31"}],
                "terms": {"sealed": {"root": "ab".repeat(32), "count": 3,
                    "reason": "Commercial confidentiality", "disclose_by": "2026-09-05"}},
                "time": "2025-09-05T12:00:00Z", "figures": "illustrative"}),
            &[&w.fwo],
        ))
        .unwrap();
    w.ledger
        .submit_blocking(signed(
            &json!({"kind": "report", "id": "ussm:port-offer", "version": 1,
                "claim": format!("A port may be offered {SCRIPT}"), "topic": "port-offer", "countries": ["PK", "US"],
                "sources": [{"title": "Report", "publisher": "A newspaper", "date": "2025-09-04",
                    "url": "https://news.example/port"}],
                "status": "unconfirmed", "time": "2025-09-05T00:00:00Z", "figures": "reported"}),
            &[&ussm],
        ))
        .unwrap();
    // The blend shipped and never received, then a later record: a
    // custody gap the dashboard lists.
    for (value, signer) in [
        (
            ship(
                "s-b",
                &[B],
                "ussm-plant",
                "madison",
                &[],
                "ussm",
                "2025-11-01T00:00:00Z",
            ),
            &ussm,
        ),
        (
            lot(
                "urn:oretrace:lot:ussm:later",
                "madison",
                "100",
                "1",
                "2026-02-01T00:00:00Z",
            ),
            &ussm,
        ),
    ] {
        w.ledger.submit_blocking(signed(&value, &[signer])).unwrap();
    }
    router(Arc::new(w.ledger), ServerConfig::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agreements_show_their_commitment_never_a_sealed_text_and_reports_are_marked_unconfirmed() {
    let app = tokio::task::block_in_place(app);
    let agreement = page(&app, "/agreements/fwo:offtake-ussm").await;
    assert_eq!(agreement.status, StatusCode::OK, "{}", agreement.body);
    let body = &agreement.body;
    assert!(body.contains(&"ab".repeat(32)), "the commitment root");
    assert!(body.contains("Commercial confidentiality"));
    assert!(body.contains("5 Sep 2026"), "the planned disclosure date");
    assert!(body.contains("No clause has been revealed."));
    assert!(!body.contains("class=\"clause-check\""));
    assert!(body.contains("1,000,000 USD"));
    assert!(body.contains("data-verify-index=\""));
    assert!(!body.contains("Unconfirmed report"));
    assert!(body.contains(&format!("href=\"/lots/{A}\"")));
    let report = page(&app, "/reports/ussm:port-offer").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert!(report.body.contains("class=\"banner report\""));
    assert!(
        report
            .body
            .contains("Unconfirmed report — not an agreement.")
    );
    assert!(!report.body.contains(SCRIPT));
}

fn lot_path(id: &str) -> String {
    format!("/lots/{}", id.replace(':', "%3A"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_gets_the_lot_page_and_an_api_client_the_same_json_as_before() {
    let app = tokio::task::block_in_place(app);
    let html = page(&app, &lot_path(A)).await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.header(header::CONTENT_TYPE).starts_with("text/html"));
    assert!(html.header(header::VARY).contains("Accept"));
    // A page may not be framed, sniffed or leak its address to others.
    assert!(
        html.header(header::CONTENT_SECURITY_POLICY)
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(html.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(html.header(header::REFERRER_POLICY), "same-origin");
    let body = &html.body;
    assert!(body.contains("<html lang=\"en\" dir=\"ltr\">"), "{body}");
    assert!(body.contains(A));
    // Facts, the origin shares (O1 at Saindak, O2 at Reko Diq), the
    // passport link, the Verify hook and the illustrative label.
    assert!(body.contains("saindak") && body.contains("reko-diq"));
    assert!(body.contains(&format!("{}/passport", lot_path(A))) || body.contains("/passport\""));
    assert!(body.contains("class=\"verify\" data-verify-index=\""));
    assert!(body.contains("data-verify hidden"));
    assert!(body.contains("<span class=\"illustrative\">illustrative</span>"));
    // Each shipment's reconciliation says whether it is within tolerance.
    assert!(
        body.contains("within tolerance") || body.contains("outside tolerance: "),
        "{body}"
    );
    assert!(body.contains("<svg role=\"img\""));
    assert!(body.contains("href=\"/assets/portal.css\""));
    assert!(body.contains("<script type=\"module\" src=\"/assets/portal.js\"></script>"));
    assert!(body.contains("id=\"portal-messages\""));
    assert!(
        !body.contains("http://") && !body.contains("https://"),
        "nothing loaded from outside"
    );

    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("text/html, application/json"),
    ] {
        let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("accept", *a)).collect();
        let json = get(&app, &lot_path(A), &headers).await;
        assert_eq!(json.status, StatusCode::OK, "{accept:?}");
        assert!(
            json.header(header::CONTENT_TYPE)
                .starts_with("application/json")
        );
        assert_eq!(json.header(header::VARY), "Accept");
        assert_eq!(json.json()["id"], A, "{accept:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_get_a_404_page_in_html_and_a_problem_in_json() {
    let app = tokio::task::block_in_place(app);
    for uri in [
        "/lots/urn:oretrace:lot:fwo:nope",
        "/parties/nobody",
        "/sites/nowhere",
        "/no/such/page",
    ] {
        let html = page(&app, uri).await;
        assert_eq!(html.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(
            html.header(header::CONTENT_TYPE).starts_with("text/html"),
            "{uri}"
        );
        assert!(html.body.contains("<h1>Not found</h1>"), "{uri}");
        let json = get(&app, uri, &[("accept", "application/json")]).await;
        assert_eq!(json.status, StatusCode::NOT_FOUND);
        assert!(
            json.header(header::CONTENT_TYPE)
                .starts_with("application/problem+json")
        );
    }
    // A path of the form `//host/…` does not make the language switch
    // leave the site.
    let odd = page(&app, "//evil.example/x").await;
    assert_eq!(odd.status, StatusCode::NOT_FOUND);
    assert!(!odd.body.contains("href=\"//evil"), "{}", odd.body);
    assert!(
        odd.body.contains("href=\"/evil.example/x?lang=ur\""),
        "{}",
        odd.body
    );
    // `/` is the dashboard for a browser; a JSON client gets the EPCIS
    // binding's top-level resources.
    let json = get(&app, "/", &[]).await;
    assert_eq!(json.status, StatusCode::OK);
    assert!(
        json.header(header::CONTENT_TYPE)
            .starts_with("application/json")
    );
    assert!(
        json.body.contains(r#""type":"Collection""#),
        "{}",
        json.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_every_page_render() {
    let app = tokio::task::block_in_place(app);
    let dashboard = page(&app, "/").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("Latest checkpoint"));
    assert!(dashboard.body.contains("Newest records"));
    assert!(
        dashboard.body.contains(">custody-gap<"),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains(B), "the custody gap of the blend");
    for uri in [
        "/flows",
        "/map",
        "/search?q=saindak",
        "/downloads",
        "/parties/fwo",
        "/sites/saindak",
        &lot_path(B),
    ] {
        let answer = page(&app, uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.body);
        assert!(answer.body.contains("<main id=\"main\""), "{uri}");
        assert!(
            answer.body.contains("class=\"skip\" href=\"#main\""),
            "{uri}"
        );
    }
    let search = page(&app, "/search?q=saindak").await;
    assert!(search.body.contains("href=\"/sites/saindak\""));
    let downloads = page(&app, "/downloads").await;
    assert!(downloads.body.contains("/exports/agreements.csv"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urdu_is_right_to_left_by_switch_cookie_or_accept_language() {
    let app = tokio::task::block_in_place(app);
    let switched = page(&app, "/parties/fwo?lang=ur").await;
    assert!(switched.body.contains("<html lang=\"ur\" dir=\"rtl\">"));
    assert!(switched.header(header::SET_COOKIE).starts_with("lang=ur"));
    assert!(
        switched
            .body
            .contains(Messages::of(Lang::Ur).t("kind.party"))
    );
    // The switch back to English keeps the page.
    assert!(switched.body.contains("href=\"/parties/fwo?lang=en\""));
    let by_cookie = get(
        &app,
        "/parties/fwo",
        &[("accept", BROWSER), ("cookie", "lang=ur")],
    )
    .await;
    assert!(by_cookie.body.contains("dir=\"rtl\""));
    let by_header = get(
        &app,
        "/map",
        &[("accept", BROWSER), ("accept-language", "ur-PK,en;q=0.5")],
    )
    .await;
    assert!(by_header.body.contains("dir=\"rtl\""));
    let english = get(
        &app,
        "/map",
        &[("accept", BROWSER), ("accept-language", "en-GB")],
    )
    .await;
    assert!(english.body.contains("dir=\"ltr\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_names_is_shown_as_text() {
    let app = tokio::task::block_in_place(app);
    let escaped_script = "&#60;script&#62;alert(1)&#60;/script&#62;";
    for uri in [
        "/parties/evil",
        "/sites/evil-site",
        "/map",
        "/search?q=evil",
        "/search?q=%3Cscript",
    ] {
        let answer = page(&app, uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        let body = &answer.body;
        assert!(!body.contains(SCRIPT), "{uri}: raw script");
        assert!(!body.contains("<img src=x"), "{uri}: raw attribute break");
        assert!(
            body.contains(escaped_script) || body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{uri}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_input_of_any_length_or_character_is_safe() {
    let app = tokio::task::block_in_place(app);
    // Over the request-target limit (32 KiB; the HTTP parser itself stops
    // at 64 KiB, and so does `http::Uri`): refused before any handler.
    let huge = format!("/search?q={}", "a".repeat(60 * 1024));
    let answer = page(&app, &huge).await;
    assert_eq!(answer.status, StatusCode::URI_TOO_LONG);
    assert!(!answer.body.contains("aaaaaaaaaa"));
    // Over the query bound: 400 for JSON, a page saying so for HTML.
    let long = format!("/search?q={}", "b".repeat(201));
    assert_eq!(get(&app, &long, &[]).await.status, StatusCode::BAD_REQUEST);
    let long_page = page(&app, &long).await;
    assert_eq!(long_page.status, StatusCode::OK);
    assert!(long_page.body.contains("at most 200 characters"));
    // NUL, right-to-left marks, SQL wildcards: plain text, no match.
    for q in [
        "%00",
        "%E2%80%8F%E2%80%AE",
        "%25",
        "_",
        "%25_%25",
        "%27%20OR%201%3D1--",
    ] {
        let json = get(&app, &format!("/search?q={q}"), &[]).await;
        assert_eq!(json.status, StatusCode::OK, "{q}");
        assert_eq!(json.json()["results"], json!([]), "{q}");
        let html = page(&app, &format!("/search?q={q}")).await;
        assert_eq!(html.status, StatusCode::OK, "{q}");
    }
    // Case-folded substring.
    let hits = get(&app, "/search?q=SAINDAK", &[]).await.json();
    assert_eq!(hits["results"][0]["id"], "saindak");
    assert_eq!(
        get(&app, "/search", &[]).await.status,
        StatusCode::BAD_REQUEST
    );
}

fn link(flows: &Value, source: &str, target: &str) -> String {
    flows["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["source"] == source && l["target"] == target)
        .map(|l| l["kg"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no link {source} → {target}: {flows}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_are_the_contained_element_moved_by_each_shipment() {
    let app = tokio::task::block_in_place(app);
    let flows = get(&app, "/flows?element=Cu&from=2025-01-01&to=2025-12-31", &[]).await;
    assert_eq!(flows.status, StatusCode::OK, "{}", flows.body);
    assert_eq!(flows.header(header::VARY), "Accept");
    let flows = flows.json();
    assert_eq!(flows["element"], "Cu");
    // O1: 100,000 kg wet, 5 % moisture, 1.6 % Cu: 1,520 kg.
    assert_eq!(link(&flows, "site:saindak", "site:fwo-conc"), "1520");
    // O2: 50,000 kg, 5 %, 1.2 %: 570 kg.
    assert_eq!(link(&flows, "site:reko-diq", "site:fwo-conc"), "570");
    // A: 10,000 kg, 8 %, 22 %: 2,024 kg, via Karachi to the United States.
    assert_eq!(link(&flows, "site:fwo-conc", "site:karachi-port"), "2024");
    assert_eq!(link(&flows, "site:karachi-port", "country:US"), "2024");
    // M stays in the United States: a site, not the country.
    assert_eq!(link(&flows, "site:madison", "site:ussm-plant"), "360");
    let port = flows["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "site:karachi-port")
        .unwrap();
    assert_eq!(port["stage"], "port");
    assert_eq!(flows["links"][0]["illustrative"], true);
    // A period without shipments has no links; bad input is named.
    let none = get(&app, "/flows?element=Cu&from=2030-01-01&to=2030-12-31", &[])
        .await
        .json();
    assert_eq!(none["links"], json!([]));
    for bad in [
        "/flows?element=Xx",
        "/flows?from=2025-13-01",
        "/flows?to=yesterday",
        "/flows?colour=red",
    ] {
        let answer = get(&app, bad, &[]).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // The page: the form, the Sankey hook and the same figures in a table.
    let html = page(&app, "/flows?element=Cu&from=2025-01-01&to=2025-12-31").await;
    assert!(html.body.contains("<figure class=\"sankey\" data-flows=\"/flows?element=Cu&#38;from=2025-01-01&#38;to=2025-12-31\">")
        || html.body.contains("<figure class=\"sankey\" data-flows=\"/flows?element=Cu&amp;from=2025-01-01&amp;to=2025-12-31\">"),
        "{}", html.body);
    assert!(html.body.contains("<label for=\"flows-element\">"));
    assert!(html.body.contains("2,024 kg"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_lists_sites_with_coordinates_and_routes() {
    let app = tokio::task::block_in_place(app);
    let map = get(&app, "/map", &[]).await.json();
    let saindak = map["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "saindak")
        .unwrap();
    assert_eq!(saindak["lat"], 29.0);
    assert_eq!(saindak["approximate"], true);
    let routes = map["routes"].as_array().unwrap();
    assert!(routes.iter().any(|r| r["from"] == "fwo-conc"
        && r["to"] == "ussm-plant"
        && r["via"] == json!(["karachi-port"])
        && r["shipments"] == 1));
    let html = page(&app, "/map").await;
    assert!(
        html.body
            .contains("<figure class=\"map\" data-map=\"/map\">")
    );
    assert!(html.body.contains("<th scope=\"col\">"));
}

/// Every catalogue has the same keys, and every key the templates and the
/// page builders name exists.
#[test]
fn the_catalogues_are_complete_and_every_label_used_exists() {
    let en: BTreeSet<&str> = i18n::parse(i18n::source(Lang::En))
        .unwrap()
        .into_keys()
        .collect();
    let ur: BTreeSet<&str> = i18n::parse(i18n::source(Lang::Ur))
        .unwrap()
        .into_keys()
        .collect();
    assert_eq!(
        en.symmetric_difference(&ur).collect::<Vec<_>>(),
        Vec::<&&str>::new()
    );
    let namespaces: BTreeSet<&str> = en.iter().filter_map(|k| k.split('.').next()).collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut used = BTreeSet::new();
    for dir in ["portal/templates", "server/src/portal"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            // Every string literal that looks like a catalogue key.
            for literal in text.split('"').skip(1).step_by(2) {
                let namespace = literal.split('.').next().unwrap();
                if literal.contains('.')
                    && namespaces.contains(namespace)
                    && literal.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_'
                    })
                {
                    used.insert(literal.to_owned());
                }
            }
        }
    }
    assert!(used.len() > 150, "{used:?}");
    let missing: Vec<&String> = used.iter().filter(|k| !en.contains(k.as_str())).collect();
    assert!(
        missing.is_empty(),
        "labels missing from the catalogues: {missing:?}"
    );
    // Every label the page scripts read (portal.js's English table) is
    // in the catalogues, so no chart legend or verify step stays English
    // on an Urdu page.
    let script = std::fs::read_to_string(root.join("server/assets/portal.js")).unwrap();
    let start = script.find("const ENGLISH = {").unwrap();
    let table = &script[start..start + script[start..].find("};").unwrap()];
    let mut script_keys = 0;
    for line in table.lines() {
        let Some(key) = line
            .trim()
            .strip_prefix('"')
            .and_then(|l| l.split_once("\":"))
        else {
            continue;
        };
        script_keys += 1;
        let key = format!("js.{}", key.0);
        assert!(en.contains(key.as_str()), "{key} is not in the catalogues");
    }
    assert!(script_keys > 30, "{script_keys} labels read from portal.js");
}
