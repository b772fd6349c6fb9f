//! The portal's pages (`docs/design/portal.md`): each page of the worked
//! example of `docs/design/provenance.md` (plus its flows, map, search and
//! downloads), rendered through `oretrace_server::router` (tower
//! `oneshot` on a two-worker runtime, as the server runs), from the
//! request to the full body, against a bound measured in the same run:
//! the JSON answer of the same URL (what the page is built from; `/`
//! has none, so the JSON of `/anomalies`, the dashboard's heaviest read).
//! The ratio `bound / page` says what the HTML costs on top of the data;
//! the budget is 200 ms per page on the server.
//!
//! Quick mode (`cargo test --benches`, `-- --test`) renders each page a
//! few times and checks it answers 200 with HTML and the JSON 200.

#![expect(
    clippy::expect_used,
    reason = "bench code: a failure panics with its message"
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use oretrace_benchkit::{interleaved, plain_bench, quick_mode};
use oretrace_server::{ServerConfig, router};
use tower::ServiceExt as _;

#[path = "../../ledger/tests/provenance_world/mod.rs"]
mod provenance_world;

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn fetch(
    rt: &tokio::runtime::Runtime,
    app: &Router,
    uri: &str,
    accept: &str,
) -> (StatusCode, String, usize) {
    rt.block_on(async {
        let request = Request::get(uri)
            .header("accept", accept)
            .body(Body::empty())
            .expect("a request");
        let response = app.clone().oneshot(request).await.expect("an answer");
        let status = response.status();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a body");
        (status, kind, body.len())
    })
}

fn main() {
    if !plain_bench("portal_pages") {
        return;
    }
    let quick = quick_mode();
    let reps = if quick { 3 } else { 200 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let w = provenance_world::worked_example();
    let app = router(Arc::new(w.ledger), ServerConfig::default()).expect("a router");
    let lot = |id: &str| format!("/lots/{}", id.replace(':', "%3A"));
    let pages: Vec<(String, String)> = vec![
        ("/".into(), "/anomalies".into()),
        ("/flows?element=Cu".into(), "/flows?element=Cu".into()),
        ("/map".into(), "/map".into()),
        ("/search?q=fwo".into(), "/search?q=fwo".into()),
        ("/downloads".into(), "/downloads".into()),
        (lot(provenance_world::B), lot(provenance_world::B)),
        (lot(provenance_world::O1), lot(provenance_world::O1)),
        ("/parties/fwo".into(), "/parties/fwo".into()),
        ("/sites/karachi-port".into(), "/sites/karachi-port".into()),
    ];
    println!(
        "{:<40} {:>10} {:>10} {:>8} {:>10} {:>8}",
        "page", "page ms", "JSON ms", "ratio", "bytes", "budget"
    );
    let mut worst: f64 = 0.0;
    for (html, json) in &pages {
        let (status, kind, bytes) = fetch(&rt, &app, html, BROWSER);
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(kind.starts_with("text/html"), "{html}: {kind}");
        let (status, _, _) = fetch(&rt, &app, json, "application/json");
        assert_eq!(status, StatusCode::OK, "{json}");
        let [page, bound] = interleaved(
            reps,
            [
                &|| oretrace_benchkit::time(|| fetch(&rt, &app, html, BROWSER)),
                &|| oretrace_benchkit::time(|| fetch(&rt, &app, json, "application/json")),
            ],
        );
        worst = worst.max(page);
        println!(
            "{:<40} {:>10.3} {:>10.3} {:>8.2} {:>10} {:>7.0}x",
            html.chars().take(40).collect::<String>(),
            page * 1e3,
            bound * 1e3,
            bound / page,
            bytes,
            0.2 / page
        );
    }
    println!(
        "slowest page: {:.3} ms (budget 200 ms: {:.0}x under)",
        worst * 1e3,
        0.2 / worst
    );
}
