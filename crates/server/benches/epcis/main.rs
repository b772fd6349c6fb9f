//! The EPCIS 2.0 interface on the embedded SQLite store: capture of one
//! large `EPCISDocument` end to end, and queries over a large store, each
//! reported against a bound measured in the same run (the machines we run
//! on are shared and noisy, so absolute figures alone mean little).
//!
//! Every store lives in a fresh temporary directory on a real disk (WAL
//! with `synchronous=FULL`: every commit waits for an fsync; the bench
//! refuses tmpfs, where an fsync is free). The parent directory is
//! `ORETRACE_BENCH_DIR` if set, else the system temp directory.
//!
//! The events are mineral-chain-like `ObjectEvent`s, each distinct:
//! action `OBSERVE`, a `bizStep` (a quarter each of `sensor_reporting`,
//! `storing`, `inspecting`, `loading`, less 0.1 % `sampling`), one of
//! 1,000 business locations (0.1 % of the events each) with a read point
//! inside it, a `quantityList` naming one lot as an LGTIN class (100
//! events per lot), a `sourceList` (the owning party, the same for all,
//! and a location), a `destinationList`, and a `sensorElementList` with a
//! temperature and a humidity report; no `eventID` (the server populates
//! it). Event times are one minute apart, increasing with the log index.
//! None names a registered lot and none uses the registry's namespace, so
//! no custody rule applies: each event is one log entry and one row of the
//! query index. The capturing party is registered first; documents carry
//! a detached signature (`Oretrace-Signature`, over the note naming the
//! registry, the body's SHA-256, the party and the `rollback` behaviour)
//! made before timing: signing is the client's cost.
//!
//! # Capture
//!
//! `capture (HTTP, in-process)`: `POST /capture` through
//! `oretrace_server::router` (tower `oneshot`, on a two-worker tokio
//! runtime as the server runs), then `GET /capture/{id}` every 2 ms until
//! the job has finished; the time is from the request to the finished job
//! (the 202 alone is printed too). That is: reading the body, checking the
//! signature, parsing, schema validation, CBV 2.0 hashing (the document,
//! then each event on its own as logged), mapping, signing every entry
//! with the log key, the ledger's checks (each entry's signature and event
//! hash again, the rules, the query terms), one durable SQLite transaction
//! with the entries, hashes, events and terms, and the checkpoint. Each
//! repetition starts from a fresh store holding only the party.
//!
//! Bounds, interleaved with it, on the same document:
//!
//! * `raw insert`: the same entries' bytes (read back from the store)
//!   into a bare table `(idx INTEGER PRIMARY KEY, entry BLOB)`, WAL,
//!   `synchronous=FULL`, in one transaction, in a fresh database;
//! * `validate`: `EpcisValidator::validate_document` on the parsed
//!   document;
//! * `hash`: `oretrace_epcis::document_event_hashes`;
//! * diagnostics: `parse` (`serde_json::from_slice` of the body) and
//!   `sign + verify` (one Ed25519 note signature and its verification per
//!   event over its entry's text, as capture does once each).
//!
//! # Query
//!
//! A store of N events (1,000,000 in the full run) is built once, by
//! capturing N / 10,000 documents of 10,000 events through the same HTTP
//! path (two documents in flight, so one is prepared while the other is
//! integrated); its build time is printed. Then, with parameters drawn
//! afresh each run (fixed seed), each query through `GET /events` (time
//! from the request to the full response body, one request at a time),
//! interleaved with:
//!
//! * `store`: the `select_events` calls the server makes for that request
//!   (512 candidates each, the cursor after the last event returned),
//!   replayed on the store: how much of the latency is the selection;
//! * `bound`: the same events (index, event id, times, event JSON) in SQL
//!   on the store's `events` / `event_terms` tables through a separate
//!   read-only rusqlite connection, by the index the selection needs: the
//!   irreducible index lookup.
//!
//! The kinds:
//!
//! * (a) `EQ_bizLocation=<one of 1,000 locations>&perPage=100`: a
//!   selective term (0.1 % of events); bound: `event_terms` by term, first
//!   100 by index, joined to `events`;
//! * (b) `MATCH_anyEPCClass=<one lot>&perPage=100`: one lot's 100 events;
//!   bound as (a);
//! * (c) `GE_eventTime=…&LT_eventTime=…&perPage=1000`: a window of 1,000
//!   events; bound: the `events_by_event_time` index range;
//! * (d) `EQ_bizStep=<a common step>&perPage=100`, following the `Link`
//!   header through 10 pages (25 % of events match); bound: 10 keyset
//!   pages of 100 on `event_terms`;
//! * (f) diagnostic: `GE_eventTime=<the last 1 % of the log>&perPage=100`
//!   ("recent events"); bound: the time index;
//! * (e) diagnostic, once and last: `EQ_bizStep=sampling` (0.1 %) with
//!   `EQ_source_owning_party=<the party every event names>`, first page;
//!   the server's candidate loop is first replayed on the store (it may
//!   take longer than the server's request timeout, after which the
//!   request is answered 503 and the handler runs on in the background).
//!
//! Each server answer is checked against its bound (the same event ids).
//! Then a table of single store selections (`select_events` as the server
//! asks, against SQL by the needed index) and the plans SQLite picks for
//! the server's statements, with representative values bound.
//!
//! Why not criterion: a capture is stateful (an event is captured once),
//! takes seconds, and the query store takes minutes to build; what matters
//! is the latency distribution of queries with varying parameters. So this
//! is a plain `Instant` measurement with printed tables, medians of
//! interleaved repetitions (`oretrace_benchkit`).
//!
//! Quick mode (`cargo bench ... -- --test`, `cargo test --benches`,
//! nextest, or `ORETRACE_BENCH_QUICK=1`): a 200-event capture, a
//! 1,500-event store, a few runs of each query; seconds, even unoptimised,
//! on any disk (tmpfs too: its figures are not to be quoted). To a test
//! runner (nextest) it is one test, `quick_form_with_its_checks`, so CI
//! runs its checks: each server answer against its SQL bound, every
//! captured event in the store.
//!
//! For iterating on the queries: `ORETRACE_BENCH_EPCIS_DOCS=<n>` builds a
//! store of n documents; `ORETRACE_BENCH_EPCIS_STORE=<dir>` builds it in
//! `<dir>` and keeps it, or reuses what an earlier run built there (full
//! form only).
//!
//! Run: `cargo bench -p oretrace-server --bench epcis`.
//!
//! Layout: `support` (the events, keys, ledger and server, timing helpers),
//! `capture` (the capture section), `query` (the query store and the query
//! section), `bounds` (the bare-insert and SQL bounds both compare with);
//! the run configuration and the printed tables are here.

#![expect(
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

mod bounds;
mod capture;
mod query;
mod support;

use std::time::{Duration, Instant};

use crate::capture::capture_section;
use crate::query::{
    CHUNK, Reps, build_store, planner_trap, plans, query_section, selection_diagnostics,
};
use crate::support::{keys, pct_ms};

#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    /// Events in the capture document.
    capture_events: usize,
    /// Interleaved repetitions of the capture and its bounds.
    capture_reps: usize,
    /// Documents captured to build the query store, and events in each.
    store_docs: usize,
    doc_events: usize,
    /// Runs of each query kind.
    reps: Reps,
    /// Interleaved runs of each store-selection diagnostic.
    diag_reps: usize,
}

impl Config {
    fn get() -> Config {
        let quick = oretrace_benchkit::quick_mode();
        let mut cfg = if quick {
            Config {
                quick,
                capture_events: 200,
                capture_reps: 1,
                store_docs: 3,
                doc_events: 500,
                reps: Reps {
                    common: 4,
                    window: 4,
                    paging: 2,
                    recent: 1,
                },
                diag_reps: 1,
            }
        } else {
            Config {
                quick,
                capture_events: 10_000,
                capture_reps: 5,
                store_docs: 100,
                doc_events: 10_000,
                reps: Reps {
                    common: 200,
                    window: 60,
                    paging: 30,
                    recent: 5,
                },
                diag_reps: 5,
            }
        };
        // A smaller query store for trying things out (full form only).
        if let Some(docs) = std::env::var("ORETRACE_BENCH_EPCIS_DOCS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|_| !quick)
        {
            cfg.store_docs = docs;
        }
        cfg
    }

    fn store_events(&self) -> u64 {
        (self.store_docs * self.doc_events) as u64
    }
}

fn main() {
    if !oretrace_benchkit::plain_bench("quick_form_with_its_checks") {
        return;
    }
    let cfg = Config::get();
    let wall = Instant::now();
    let (parent, fstype) = oretrace_benchkit::durable_parent("durable capture");
    if cfg.quick {
        eprintln!("quick mode: small sizes");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let keys = keys();
    let step = |what: &str| eprintln!("[{:>6.1} s] {what}", wall.elapsed().as_secs_f64());

    step("capture");
    let cap = capture_section(&rt, &cfg, &keys);
    step("building the query store");
    let qs = build_store(&rt, &cfg, &keys);
    step("queries");
    let mut queries = query_section(&rt, cfg.reps, &qs);
    step("store selections");
    let diagnostics = selection_diagnostics(&qs, cfg.diag_reps);
    let plans = plans(&qs);
    step("the planner diagnostic (e)");
    let (e, replay) = planner_trap(&rt, &qs);
    queries.push(e);
    step("done");

    let n = cap.events as f64;
    let rate = |secs: f64| n / secs;
    println!();
    println!(
        "== oretrace EPCIS capture, SQLite (WAL, synchronous=FULL) on {fstype} under {}; one document of {} events, {:.1} MiB, mean entry {:.0} bytes; median of {} interleaved runs; ratio = bound time / time ==",
        parent.display(),
        cap.events,
        cap.body_bytes as f64 / (1024.0 * 1024.0),
        cap.mean_entry,
        cfg.capture_reps
    );
    println!(
        "{:<52} {:>10} {:>12} {:>14}",
        "benchmark", "time s", "events/s", "ratio"
    );
    let crow = |name: &str, secs: f64, ratio: Option<f64>| {
        println!(
            "{:<52} {:>10.3} {:>12.0} {:>14}",
            name,
            secs,
            rate(secs),
            ratio.map_or("-".to_owned(), |r| format!("{r:.3}"))
        );
    };
    crow(
        "capture, HTTP in-process, to the finished job",
        cap.capture,
        None,
    );
    crow(
        "  of which: POST /capture until 202 (prepare)",
        cap.accepted,
        None,
    );
    crow(
        "bound: raw insert of the entries, 1 txn",
        cap.raw,
        Some(cap.raw / cap.capture),
    );
    crow(
        "bound: schema validation + CBV hashing",
        cap.validate + cap.hash,
        Some((cap.validate + cap.hash) / cap.capture),
    );
    crow(
        "  schema validation (validate_document)",
        cap.validate,
        None,
    );
    crow("  CBV 2.0 hashing (document_event_hashes)", cap.hash, None);
    crow("diag: JSON parse of the body", cap.parse, None);
    crow(
        "diag: Ed25519 sign + verify, one each per entry",
        cap.sign_verify,
        None,
    );
    println!(
        "ratio: bound time / capture time (1.00 = capture as fast as the bound alone). capture/raw-insert {:.3}, capture/(validate+hash) {:.3}",
        cap.raw / cap.capture,
        (cap.validate + cap.hash) / cap.capture
    );

    println!();
    println!(
        "== oretrace EPCIS queries over {} events ({:.2} GiB database) {}; runs: (a), (b) {}, (c) {}, (d) {}, (f) {}, (e) 1; parameters drawn per run; ratio = bound p50 / query p50 ==",
        qs.events,
        qs.db_bytes as f64 / (1024.0 * 1024.0 * 1024.0),
        match qs.build_secs {
            Some(secs) => format!(
                "built in {secs:.1} s ({:.0} events/s: {} captures of {} events, 2 in flight)",
                qs.events as f64 / secs,
                cfg.store_docs,
                cfg.doc_events
            ),
            None => "reused from ORETRACE_BENCH_EPCIS_STORE".to_owned(),
        },
        cfg.reps.common,
        cfg.reps.window,
        cfg.reps.paging,
        cfg.reps.recent,
    );
    println!(
        "{:<52} {:>6} {:>9} {:>9} {:>10} {:>10} {:>10} {:>8}",
        "query (GET /events)",
        "events",
        "p50 ms",
        "p99 ms",
        "store p50",
        "bound p50",
        "bound p99",
        "ratio"
    );
    for q in &queries {
        let med = oretrace_benchkit::median(q.server.clone());
        let bmed = oretrace_benchkit::median(q.bound.clone());
        let smed = oretrace_benchkit::median(q.store.clone());
        println!(
            "{:<52} {:>6} {:>9.2} {:>9.2} {:>10.2} {:>10.3} {:>10.3} {:>8.4}{}",
            q.name,
            q.events,
            med * 1e3,
            pct_ms(&q.server, 0.99),
            smed * 1e3,
            bmed * 1e3,
            pct_ms(&q.bound, 0.99),
            bmed / med,
            q.note
                .as_ref()
                .map_or(String::new(), |n| format!("  ({n})"))
        );
    }
    println!(
        "events: returned per request ((d): over the 10 pages). Latency: request to the full response body, one request at a time, warm page cache. store: the select_events calls the server makes for the request, replayed on the store. bound: the same rows (index, eventID, times, event JSON) in SQL by the index the selection needs, separate read-only connection."
    );
    println!(
        "(e) the server's loop replayed on the store: {:.2} s ({:.2} s in {} select_events calls), {} candidates scanned, {} events found",
        replay.secs, replay.select_secs, replay.calls, replay.scanned, replay.found
    );
    println!();
    println!(
        "== store selections: SqliteStore::select_events ({CHUNK} candidates, as the server asks) vs SQL by the needed index; median of {} interleaved runs ==",
        cfg.diag_reps
    );
    println!(
        "{:<52} {:>6} {:>14} {:>10} {:>8}",
        "selection", "rows", "select_events", "SQL", "ratio"
    );
    for (name, rows, ts, tb) in &diagnostics {
        println!(
            "{:<52} {:>6} {:>11.2} ms {:>7.2} ms {:>8.4}",
            name,
            rows,
            ts * 1e3,
            tb * 1e3,
            tb / ts
        );
    }
    println!("SQLite plans of the server's selections (EXPLAIN QUERY PLAN):");
    for (name, plan) in plans {
        println!("  {name}: {plan}");
    }
    drop(qs);
    // A timed-out (e) request may still be running on a blocking thread.
    rt.shutdown_timeout(Duration::from_secs(120));
    eprintln!("total {:.1?}", wall.elapsed());
}
