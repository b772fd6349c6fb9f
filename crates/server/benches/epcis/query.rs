//! The query store and the queries through `GET /events`, each against its SQL bound.

#![expect(
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use oretrace_epcis::query::EventQuery;
use oretrace_epcis_map::percent_encode;
use oretrace_ledger::Store;
use oretrace_ledger::store::EventSelect;
use oretrace_store_sqlite::SqliteStore;
use serde_json::Value;

use crate::Config;
use crate::bounds::{Row, assert_same, sql_by_term, sql_by_time};
use crate::support::{
    BenchLedger, EVENTS_PER_LOT, Keys, LOCATIONS, OWNER, Rng, STEPS, call, document, event_millis,
    finished, iso_millis, location, lot_class, open, post_capture, sign_document, time_async,
    timed,
};

pub(crate) struct QueryStore {
    _dir: Option<tempfile::TempDir>,
    path: PathBuf,
    ledger: BenchLedger,
    app: Router,
    pub(crate) events: u64,
    lots: u64,
    /// None when an existing store was reused.
    pub(crate) build_secs: Option<f64>,
    pub(crate) db_bytes: u64,
}

/// Builds the query store in a fresh temporary directory; or, with
/// `ORETRACE_BENCH_EPCIS_STORE=<dir>` (full form only, for iterating on
/// the queries), builds it there and keeps it, or reuses what an earlier
/// run built there.
pub(crate) fn build_store(rt: &tokio::runtime::Runtime, cfg: &Config, keys: &Keys) -> QueryStore {
    let kept = std::env::var_os("ORETRACE_BENCH_EPCIS_STORE")
        .filter(|_| !cfg.quick)
        .map(PathBuf::from);
    let (temp, path) = match &kept {
        Some(path) => (None, path.clone()),
        None => {
            let dir = oretrace_benchkit::fresh_dir("epcis-query");
            let path = dir.path().to_owned();
            (Some(dir), path)
        }
    };
    let reuse = kept.is_some() && path.join("oretrace.db").exists();
    let (ledger, app) = open(&path, keys, !reuse);
    let events = cfg.store_events();
    let lots = (events / EVENTS_PER_LOT).max(1);
    let start = Instant::now();
    if !reuse {
        rt.block_on(async {
            // Two documents in flight: the next is made, posted and prepared
            // while the last is integrated.
            let mut in_flight: Option<String> = None;
            for d in 0..cfg.store_docs {
                let doc = sign_document(
                    document((d * cfg.doc_events) as u64, cfg.doc_events, lots),
                    &keys.party_key,
                );
                let location = post_capture(&app, &doc).await;
                drop(doc);
                if let Some(previous) = in_flight.replace(location) {
                    finished(&app, &previous, cfg.doc_events).await;
                }
                if (d + 1) % 10 == 0 {
                    eprintln!(
                        "  {} documents posted, {:.1} s",
                        d + 1,
                        start.elapsed().as_secs_f64()
                    );
                }
            }
            if let Some(last) = in_flight {
                finished(&app, &last, cfg.doc_events).await;
            }
        });
    }
    let build_secs = (!reuse).then(|| start.elapsed().as_secs_f64());
    let size = ledger.store().size().expect("the log size");
    assert_eq!(
        size,
        events + 1,
        "every event is one entry, after the party (a reused store must have the configured size)"
    );
    let db_bytes = ["oretrace.db", "oretrace.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(path.join(f)).ok())
        .map(|m| m.len())
        .sum();
    QueryStore {
        _dir: temp,
        path,
        ledger,
        app,
        events,
        lots,
        build_secs,
        db_bytes,
    }
}

/// A query string from pairs.
pub(crate) fn query_string(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The index term the server selects candidates by for `pairs`.
pub(crate) fn term_of(pairs: &[(&str, String)]) -> String {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let terms = EventQuery::from_pairs(&owned)
        .expect("a valid query")
        .candidate_terms()
        .expect("an indexed restriction");
    assert_eq!(terms.len(), 1, "{terms:?}");
    terms.into_iter().next().unwrap_or_default()
}

/// What one page of `GET /events` gave.
pub(crate) struct Page {
    ids: Vec<String>,
}

pub(crate) async fn get_events(app: &Router, uri: &str) -> (Bytes, Option<String>) {
    let (status, headers, body) = call(
        app,
        Request::get(uri).body(Body::empty()).expect("a request"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "GET {uri}: {}",
        String::from_utf8_lossy(&body)
    );
    let next = headers
        .get(header::LINK)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| Some(l.strip_prefix('<')?.split_once('>')?.0.to_owned()));
    (body, next)
}

pub(crate) fn page_of(body: &[u8]) -> Page {
    let doc: Value = serde_json::from_slice(body).expect("a query document");
    let ids = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .expect("an event list")
        .iter()
        .map(|e| e["eventID"].as_str().expect("an eventID").to_owned())
        .collect();
    Page { ids }
}

/// Candidates the server reads per store call, and per request at most:
/// private constants of `oretrace_server`'s query handler, mirrored here
/// to replay its store calls.
pub(crate) const CHUNK: usize = 512;

pub(crate) const SCAN_BUDGET: usize = 50_000;

/// Latencies of one query kind, in seconds: through HTTP, in the
/// `select_events` calls the server makes for it (replayed on the store),
/// and of its SQL bound.
#[derive(Debug, Default)]
pub(crate) struct QueryFigures {
    pub(crate) name: String,
    pub(crate) events: usize,
    pub(crate) server: Vec<f64>,
    pub(crate) store: Vec<f64>,
    pub(crate) bound: Vec<f64>,
    /// What the server answered, when not 200.
    pub(crate) note: Option<String>,
}

impl QueryFigures {
    fn new(name: &str) -> Self {
        QueryFigures {
            name: name.to_owned(),
            ..QueryFigures::default()
        }
    }

    fn push(&mut self, server: f64, store: f64, bound: f64) {
        self.server.push(server);
        self.store.push(store);
        self.bound.push(bound);
    }
}

/// The selection the server makes for one index term and/or an event time
/// range, in capture order, after index `after`.
pub(crate) fn selection(
    term: Option<&str>,
    event_time: (Option<i64>, Option<i64>),
    after: Option<i64>,
) -> EventSelect {
    EventSelect {
        any_terms: term.map(|t| vec![t.to_owned()]),
        event_time,
        after: after.map(|i| (i, i as u64)),
        limit: CHUNK,
        ..EventSelect::default()
    }
}

/// Seconds in `select_events` for `selects`, one after the other.
pub(crate) fn store_time(store: &SqliteStore, selects: &[EventSelect]) -> f64 {
    let start = Instant::now();
    for s in selects {
        std::hint::black_box(store.select_events(s).expect("select_events"));
    }
    start.elapsed().as_secs_f64()
}

/// What one replay of the server's candidate loop did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LoopFigures {
    pub(crate) secs: f64,
    pub(crate) select_secs: f64,
    pub(crate) calls: usize,
    pub(crate) scanned: usize,
    pub(crate) found: usize,
}

/// The server's candidate loop for a first page (a mirror of
/// `answer` in `crates/server/src/epcis/query.rs`): store calls of
/// `CHUNK` candidates, each event parsed and matched, until `want` events
/// match, the candidates run out, or `SCAN_BUDGET` have been scanned.
pub(crate) fn server_loop(store: &SqliteStore, query: &EventQuery, want: usize) -> LoopFigures {
    let start = Instant::now();
    let mut f = LoopFigures::default();
    let mut select = EventSelect {
        any_terms: query.candidate_terms(),
        event_time: query.event_time_range(),
        record_time: query.record_time_range(),
        descending: query.descending(),
        limit: CHUNK,
        ..EventSelect::default()
    };
    'chunks: loop {
        let (t, rows) = timed(|| store.select_events(&select).expect("select_events"));
        f.select_secs += t;
        f.calls += 1;
        let n = rows.len();
        let mut last = None;
        for row in rows {
            f.scanned += 1;
            last = Some(select.key_of(&row));
            let value: Value = serde_json::from_str(row.event_text()).unwrap_or(Value::Null);
            if query.matches(&value, row.record_time()) {
                if f.found == want {
                    break 'chunks;
                }
                f.found += 1;
            }
        }
        if n < select.limit || f.scanned >= SCAN_BUDGET {
            break;
        }
        select.after = last;
    }
    f.secs = start.elapsed().as_secs_f64();
    f
}

pub(crate) async fn get_status(app: &Router, uri: &str) -> (StatusCode, Bytes) {
    let (status, _, body) = call(
        app,
        Request::get(uri).body(Body::empty()).expect("a request"),
    )
    .await;
    (status, body)
}

/// How many runs of each query kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reps {
    /// (a), (b).
    pub(crate) common: usize,
    /// (c).
    pub(crate) window: usize,
    /// (d): ten requests each.
    pub(crate) paging: usize,
    /// (f): a scan of most of the table each.
    pub(crate) recent: usize,
}

pub(crate) fn query_section(
    rt: &tokio::runtime::Runtime,
    reps: Reps,
    qs: &QueryStore,
) -> Vec<QueryFigures> {
    let conn = rusqlite::Connection::open_with_flags(
        qs.path.join(oretrace_store_sqlite::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("a read-only connection");
    conn.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    let store = qs.ledger.store();
    let app = &qs.app;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let n = qs.events;

    let mut a = QueryFigures::new("(a) EQ_bizLocation (0.1 %), perPage=100");
    let mut b = QueryFigures::new("(b) MATCH_anyEPCClass (one lot), perPage=100");
    let mut c = QueryFigures::new("(c) GE_/LT_eventTime window (1,000), perPage=1000");
    let mut d = QueryFigures::new("(d) EQ_bizStep (25 %), 10 pages of 100");
    let mut f = QueryFigures::new("(f) diag: GE_eventTime (last 1 %), perPage=100");
    for rep in 0..reps.common {
        // (a) One location.
        // (Quick stores use only the first n / 7 locations.)
        let pairs = [(
            "EQ_bizLocation",
            location(rng.below(LOCATIONS.min(n.div_ceil(7)))),
        )];
        let term = term_of(&pairs);
        let uri = format!("/events?{}&perPage=100", query_string(&pairs));
        let (t, (body, _)) = time_async(rt, get_events(app, &uri));
        let ts = store_time(store, &[selection(Some(&term), (None, None), None)]);
        let (tb, rows) = timed(|| sql_by_term(&conn, &term, -1, 100));
        assert_same(&a.name, &page_of(&body).ids, &rows);
        a.push(t, ts, tb);
        a.events = rows.len();

        // (b) One lot.
        let pairs = [("MATCH_anyEPCClass", lot_class(rng.below(qs.lots)))];
        let term = term_of(&pairs);
        let uri = format!("/events?{}&perPage=100", query_string(&pairs));
        let (t, (body, _)) = time_async(rt, get_events(app, &uri));
        let ts = store_time(store, &[selection(Some(&term), (None, None), None)]);
        let (tb, rows) = timed(|| sql_by_term(&conn, &term, -1, 100));
        assert_same(&b.name, &page_of(&body).ids, &rows);
        b.push(t, ts, tb);
        b.events = rows.len();

        if rep < reps.window {
            // (c) A window of 1,000 events (times increase with the index).
            let window = 1_000.min(n / 4).max(1);
            let first = rng.below(n - window + 1);
            let (from, to) = (event_millis(first), event_millis(first + window));
            let pairs = [
                ("GE_eventTime", iso_millis(from)),
                ("LT_eventTime", iso_millis(to)),
            ];
            let uri = format!("/events?{}&perPage=1000", query_string(&pairs));
            let (t, (body, _)) = time_async(rt, get_events(app, &uri));
            let (tb, rows) = timed(|| sql_by_time(&conn, from, to, 1000));
            assert_same(&c.name, &page_of(&body).ids, &rows);
            assert_eq!(rows.len() as u64, window);
            // The server reads CHUNK candidates per call: two calls here.
            let selects: Vec<EventSelect> = std::iter::once(None)
                .chain(rows.get(CHUNK - 1).map(|r| Some(r.idx)))
                .map(|after| selection(None, (Some(from), Some(to)), after))
                .collect();
            let ts = store_time(store, &selects);
            c.push(t, ts, tb);
            c.events = rows.len();
        }

        // (d) Ten pages of a broad query.
        if rep < reps.paging {
            let pairs = [("EQ_bizStep", STEPS[rep % STEPS.len()].to_owned())];
            let term = term_of(&pairs);
            let first_uri = format!("/events?{}&perPage=100", query_string(&pairs));
            let (t, bodies) = time_async(rt, async {
                let mut bodies = Vec::new();
                let mut uri = Some(first_uri);
                for _ in 0..10 {
                    let Some(u) = uri.take() else { break };
                    let (body, next) = get_events(app, &u).await;
                    bodies.push(body);
                    uri = next;
                }
                bodies
            });
            let ids: Vec<String> = bodies.iter().flat_map(|b| page_of(b).ids).collect();
            let (tb, rows) = timed(|| {
                let mut rows: Vec<Row> = Vec::new();
                for _ in 0..10 {
                    let after = rows.last().map_or(-1, |r| r.idx);
                    let page = sql_by_term(&conn, &term, after, 100);
                    if page.is_empty() {
                        break;
                    }
                    rows.extend(page);
                }
                rows
            });
            assert_same(&d.name, &ids, &rows);
            // One call per page, after the last event of the page before.
            let selects: Vec<EventSelect> = std::iter::once(None)
                .chain(rows.chunks(100).take(9).map(|p| p.last().map(|r| r.idx)))
                .map(|after| selection(Some(&term), (None, None), after))
                .collect();
            let ts = store_time(store, &selects);
            d.push(t, ts, tb);
            d.events = rows.len();
        }

        // (f) Recent events: a lower time bound only, near the end.
        if rep < reps.recent {
            let from = event_millis(n - (n / 100).max(1) - rng.below((n / 1000).max(1)));
            let pairs = [("GE_eventTime", iso_millis(from))];
            let uri = format!("/events?{}&perPage=100", query_string(&pairs));
            let (t, (body, _)) = time_async(rt, get_events(app, &uri));
            let ts = store_time(store, &[selection(None, (Some(from), None), None)]);
            let (tb, rows) = timed(|| sql_by_time(&conn, from, i64::MAX, 100));
            assert_same(&f.name, &page_of(&body).ids, &rows);
            f.push(t, ts, tb);
            f.events = rows.len();
        }
    }

    vec![a, b, c, d, f]
}

/// (e), once and last: a rare step, with a restriction the planner prefers
/// (sources rank above business steps) that every event carries. First the
/// server's loop replayed on the store, then over HTTP, which may time out:
/// the handler then runs on in the background to its scan budget, so
/// nothing is measured after it.
pub(crate) fn planner_trap(
    rt: &tokio::runtime::Runtime,
    qs: &QueryStore,
) -> (QueryFigures, LoopFigures) {
    let conn = rusqlite::Connection::open_with_flags(
        qs.path.join(oretrace_store_sqlite::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("a read-only connection");
    let mut e = QueryFigures::new("(e) diag: EQ_bizStep (0.1 %) + EQ_source (100 %)");
    let pairs = [
        ("EQ_bizStep", "sampling".to_owned()),
        ("EQ_source_owning_party", OWNER.to_owned()),
    ];
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let query = EventQuery::from_pairs(&owned).expect("a valid query");
    let replay = server_loop(qs.ledger.store(), &query, 100);
    let term = term_of(&[("EQ_bizStep", "sampling".to_owned())]);
    let (tb, rows) = timed(|| sql_by_term(&conn, &term, -1, 100));
    let uri = format!("/events?{}&perPage=100", query_string(&pairs));
    let (t, (status, body)) = time_async(rt, get_status(&qs.app, &uri));
    if status == StatusCode::OK {
        let ids = page_of(&body).ids;
        // At its scan budget the server returns what it found so far.
        assert_same(&e.name, &ids, &rows[..ids.len().min(rows.len())]);
        e.events = ids.len();
    } else {
        e.note = Some(format!("HTTP {}", status.as_u16()));
    }
    e.push(t, replay.select_secs, tb);
    (e, replay)
}

/// The server's store selections against SQL that uses the index the
/// selection needs, on the same connection type, interleaved (medians of
/// `reps`): (name, rows, select_events seconds, SQL seconds).
pub(crate) fn selection_diagnostics(
    qs: &QueryStore,
    reps: usize,
) -> Vec<(String, usize, f64, f64)> {
    let conn = rusqlite::Connection::open_with_flags(
        qs.path.join(oretrace_store_sqlite::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("a read-only connection");
    let store = qs.ledger.store();
    let n = qs.events as i64;
    let broad = term_of(&[("EQ_bizStep", STEPS[1].to_owned())]);
    let everyone = term_of(&[("EQ_source_owning_party", OWNER.to_owned())]);
    let recent = event_millis(qs.events - (qs.events / 100).max(1));
    let mut out = Vec::new();
    let mut case = |name: &str, select: EventSelect, sql: &dyn Fn() -> usize| {
        let rows = store.select_events(&select).expect("select_events").len();
        let [ts, tb] = oretrace_benchkit::interleaved(
            reps,
            [
                &|| store_time(store, std::slice::from_ref(&select)),
                &|| timed(sql).0,
            ],
        );
        out.push((name.to_owned(), rows, ts, tb));
    };
    case(
        "term on 25 % of events, first chunk",
        selection(Some(&broad), (None, None), None),
        &|| sql_by_term(&conn, &broad, -1, CHUNK).len(),
    );
    case(
        "term on 25 %, chunk after a cursor mid-log",
        selection(Some(&broad), (None, None), Some(n / 2)),
        &|| sql_by_term(&conn, &broad, n / 2, CHUNK).len(),
    );
    case(
        "term on every event, first chunk",
        selection(Some(&everyone), (None, None), None),
        &|| sql_by_term(&conn, &everyone, -1, CHUNK).len(),
    );
    let first = qs.events / 10;
    let window = 1_000.min(qs.events / 4).max(1);
    let (from, to) = (event_millis(first), event_millis(first + window));
    let cursor = (first + (CHUNK as u64).min(window / 2)) as i64;
    case(
        "event-time window (1,000), chunk after a cursor",
        selection(None, (Some(from), Some(to)), Some(cursor)),
        &|| sql_by_time(&conn, event_millis(cursor as u64), to, CHUNK).len(),
    );
    case(
        "GE_eventTime only (last 1 %), first chunk",
        selection(None, (Some(recent), None), None),
        &|| sql_by_time(&conn, recent, i64::MAX, CHUNK).len(),
    );
    out
}

/// How SQLite plans the server's selections (the statements
/// `SqliteStore::select_events` issues), for the report.
pub(crate) fn plans(qs: &QueryStore) -> Vec<(String, String)> {
    use rusqlite::types::Value as Sql;
    let conn = rusqlite::Connection::open_with_flags(
        qs.path.join(oretrace_store_sqlite::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("a read-only connection");
    let cols =
        "idx, event_id, event_type, event_time, record_time, captured_by, capture, terms, event";
    // Representative values: SQLite plans with the values bound (with
    // NULLs it may show another plan than the one it runs).
    let term = Sql::Text(term_of(&[("EQ_bizStep", STEPS[1].to_owned())]));
    let mid = Sql::Integer(qs.events as i64 / 2);
    let from = Sql::Integer(event_millis(qs.events / 2));
    let to = Sql::Integer(event_millis(qs.events / 2 + 1_000));
    let limit = Sql::Integer(CHUNK as i64);
    let statements = [
        (
            "by term",
            format!(
                "SELECT {cols} FROM events WHERE 1 AND idx IN (SELECT idx FROM event_terms WHERE term IN (?)) ORDER BY idx ASC, idx ASC LIMIT ?"
            ),
            vec![term.clone(), limit.clone()],
        ),
        (
            "by term, after a cursor",
            format!(
                "SELECT {cols} FROM events WHERE 1 AND idx IN (SELECT idx FROM event_terms WHERE term IN (?)) AND (idx, idx) > (?, ?) ORDER BY idx ASC, idx ASC LIMIT ?"
            ),
            vec![term, mid.clone(), mid.clone(), limit.clone()],
        ),
        (
            "by event time",
            format!(
                "SELECT {cols} FROM events WHERE 1 AND event_time >= ? AND event_time < ? ORDER BY idx ASC, idx ASC LIMIT ?"
            ),
            vec![from.clone(), to.clone(), limit.clone()],
        ),
        (
            "by event time, after a cursor",
            format!(
                "SELECT {cols} FROM events WHERE 1 AND event_time >= ? AND event_time < ? AND (idx, idx) > (?, ?) ORDER BY idx ASC, idx ASC LIMIT ?"
            ),
            vec![from.clone(), to, mid.clone(), mid, limit.clone()],
        ),
        (
            "by event time, lower bound only",
            format!(
                "SELECT {cols} FROM events WHERE 1 AND event_time >= ? ORDER BY idx ASC, idx ASC LIMIT ?"
            ),
            vec![from, limit],
        ),
    ];
    statements
        .into_iter()
        .map(|(name, sql, values)| {
            let mut stmt = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("explain");
            let mut rows = stmt
                .query(rusqlite::params_from_iter(values))
                .expect("explain");
            let mut detail = Vec::new();
            while let Some(r) = rows.next().expect("explain") {
                detail.push(r.get::<_, String>(3).expect("a plan row"));
            }
            (name.to_owned(), detail.join("; "))
        })
        .collect()
}
