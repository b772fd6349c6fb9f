//! The PostgreSQL store beside the embedded SQLite store, each against a
//! raw bound on its own backend measured in the same run (the machines we
//! run on are shared and noisy, so absolute figures alone mean little).
//!
//! Three measurements:
//!
//! 1. **Append.** `Store::integrate` of batches of 1,000 entries (300-byte
//!    entries, their record hashes, every subtree hash they complete, and
//!    per entry a `PutEvent` with five terms and a `LotEvent`: a captured
//!    EPCIS event) into a fresh `SqliteStore` and a fresh `PgStore`
//!    (`ORETRACE_BENCH_BATCHES`, 50 by default). The bounds, interleaved
//!    batch by batch with the stores: the same entry rows
//!    `(idx, entry, record_hash, kind)` inserted raw into a plain table
//!    (primary key on `idx`, no other index), one transaction per batch:
//!    rusqlite (WAL, `synchronous=FULL`, one prepared `INSERT` per row) and
//!    tokio-postgres on the same server (`INSERT … SELECT * FROM
//!    unnest($1::bigint[], …)`, the statement form the store itself uses,
//!    with the server's `synchronous_commit=on`).
//! 2. **EPCIS-style queries** on the events just appended (50,000 by
//!    default): `Store::select_events` for one rare term in index order,
//!    two common terms by event time, a record-time range, and a next page
//!    (`after` cursor) of the two-term query; medians of interleaved
//!    repetitions. The bound: a raw select by primary key of the same rows
//!    (the same columns of the store's own `events` table) on the same
//!    backend. Both stores must answer each query with the same events.
//! 3. **Reads from three nodes against one.** A fresh database on the same
//!    server (the CLI's `--store` URL has no schema of its own), loaded
//!    with `oretrace demo --no-serve` and `oretrace migrate --from DIR --to
//!    postgres://…`; three `oretrace serve --store` nodes on ports
//!    18501–18503; `wrk` (3 threads, 24 connections) against node 1 alone,
//!    then with one thread per node (round robin by connection), for
//!    `GET /records/{random i}` and `GET /lots?perPage=100`. The bound: the
//!    same rows selected straight from PostgreSQL by tokio-postgres (8
//!    connections, the pool size of one node), for the same duration. It
//!    needs `target/release/oretrace` (`cargo build --release -p
//!    oretrace`, or `ORETRACE_BIN`) and `wrk`; without them it is skipped,
//!    saying so, except in the quick form (a test, on the debug build
//!    when there is no release one), which fails.
//!
//! PostgreSQL: `ORETRACE_TEST_PG`, by default
//! `postgres://postgres@127.0.0.1:5432/postgres`. The stores live in a
//! fresh schema `oretrace_bench_<random>`, the nodes in a fresh database of
//! that name; both are dropped at the end (also when a step fails).
//!
//! Quick mode (`-- --test`, `cargo test --benches`, or
//! `ORETRACE_BENCH_QUICK=1`): 3 batches, 1-second HTTP runs; its checks
//! (every row stored, both stores answering alike, no failed HTTP answer)
//! are the test. Its figures are not to be quoted.
//!
//! Run: `cargo bench -p oretrace-store-postgres --bench stores`.

#![expect(
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use oretrace_benchkit::{interleaved, median};
use oretrace_ledger::state::{Change, EventState, StoredEvent};
use oretrace_ledger::store::{EventOrder, EventSelect};
use oretrace_ledger::{Batch, EntryRow, Store};
use oretrace_store_postgres::{PgConfig, PgStore};
use oretrace_store_sqlite::SqliteStore;
use oretrace_tlog::hash::{leaf_hash, sha256};
use oretrace_tlog::tree::CompactRange;

const BATCH: usize = 1_000;
const ENTRY_BYTES: usize = 300;
/// Record times: one per 10 ms of capture, from this instant (ms).
const T0: i64 = 1_756_684_800_000;
const BIZ_STEPS: [&str; 8] = [
    "shipping",
    "receiving",
    "commissioning",
    "loading",
    "unloading",
    "inspecting",
    "storing",
    "transforming",
];
const READ_POINTS: u64 = 200;
const EPC_CLASSES: u64 = 97;
/// One event in `RARE_EVERY` carries the rare term.
const RARE_EVERY: u64 = 400;
const RARE_TERM: &str = "disposition=recalled";
const HTTP_PORTS: [u16; 3] = [18501, 18502, 18503];
const WRK_THREADS: usize = 3;
const WRK_CONNECTIONS: usize = 24;
const RAW_CONNECTIONS: usize = 8;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A well-mixed function of `i` (splitmix64), for spreading values.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn event_time(i: u64) -> i64 {
    // Thirty days, in no relation to the index.
    T0 - 30 * 86_400_000 + (mix(i) % (30 * 86_400_000)) as i64
}

fn record_time(i: u64) -> i64 {
    T0 + i as i64 * 10
}

fn biz_step(i: u64) -> &'static str {
    BIZ_STEPS[(mix(i ^ 0x55) % BIZ_STEPS.len() as u64) as usize]
}

fn terms(i: u64) -> Vec<String> {
    let mut terms = vec![
        "type=ObjectEvent".to_owned(),
        format!("bizStep={}", biz_step(i)),
        format!(
            "readPoint=urn:epc:id:sgln:0614141.bench.{}",
            mix(i ^ 0xAA) % READ_POINTS
        ),
        format!("epcClass=urn:epc:idpat:sgtin:0614141.{}.*", i % EPC_CLASSES),
    ];
    if i % RARE_EVERY == 7 {
        terms.push(RARE_TERM.to_owned());
    } else {
        terms.push("disposition=in_progress".to_owned());
    }
    terms
}

fn event(i: u64) -> EventState {
    let event = format!(
        "{{\"type\":\"ObjectEvent\",\"eventTime\":{},\"action\":\"OBSERVE\",\
         \"bizStep\":\"{}\",\"readPoint\":{{\"id\":\"urn:epc:id:sgln:0614141.bench.{}\"}},\
         \"epcList\":[\"urn:epc:id:sgtin:0614141.{}.{i}\"],\"disposition\":\"{}\",\"n\":{i}}}",
        event_time(i),
        biz_step(i),
        mix(i ^ 0xAA) % READ_POINTS,
        i % EPC_CLASSES,
        if i % RARE_EVERY == 7 {
            "recalled"
        } else {
            "in_progress"
        },
    );
    EventState::try_from(StoredEvent {
        index: i,
        event_id: format!("ni:///sha-256;{:064x}?ver=CBV2.0", u128::from(mix(i))),
        event_type: "ObjectEvent".into(),
        event_time: event_time(i),
        record_time: record_time(i),
        terms: terms(i),
        captured_by: "fwo".into(),
        capture: "c1".into(),
        event,
    })
    .expect("a valid event")
}

fn entry(i: u64) -> Vec<u8> {
    let mut text = format!(
        "oretrace.bench/log epcis capture c1 by fwo, event {i:08} \
         ni:///sha-256;{:064x}?ver=CBV2.0 lot=urn:oretrace:lot:bench-{:04} ",
        u128::from(mix(i)),
        i % 500
    )
    .into_bytes();
    text.resize(ENTRY_BYTES, b'.');
    text
}

/// Batch `b` of the run, with the subtree hashes `range` completes.
fn make_batch(b: u64, range: &mut CompactRange) -> Batch {
    let mut batch = Batch::default();
    for i in b * BATCH as u64..(b + 1) * BATCH as u64 {
        let e = entry(i);
        range.append(leaf_hash(&e), |id, hash| batch.hashes.push((id, *hash)));
        batch.entries.push(EntryRow {
            index: i,
            record_hash: sha256(&e),
            kind: "epcis".into(),
            entry: e,
        });
        batch.changes.push(Change::PutEvent(event(i)));
        batch.changes.push(Change::LotEvent {
            lot: format!("urn:oretrace:lot:bench-{:04}", i % 500),
            index: i,
        });
    }
    batch
}

// ---------------------------------------------------------------------------
// PostgreSQL: the raw connection, the schema and database to drop.

fn pg_url() -> String {
    std::env::var("ORETRACE_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database replaced by `db`.
fn url_with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |s| s + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A raw tokio-postgres connection driven by its own runtime.
struct Raw {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Raw {
    fn connect(url: &str) -> Raw {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let client = rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("connecting to PostgreSQL");
            tokio::spawn(conn);
            client
        });
        Raw { rt, client }
    }

    fn batch(&self, sql: &str) {
        self.rt
            .block_on(self.client.batch_execute(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn one_text(&self, sql: &str) -> String {
        let row = self
            .rt
            .block_on(self.client.query_one(sql, &[]))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.get(0)
    }
}

/// Drops the bench's schema and database and stops its nodes, whatever
/// happens.
struct Cleanup {
    url: String,
    schema: String,
    database: Option<String>,
    nodes: Vec<Child>,
}

impl Cleanup {
    fn stop_nodes(&mut self) {
        for child in &mut self.nodes {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.nodes.clear();
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.stop_nodes();
        let raw = Raw::connect(&self.url);
        raw.batch(&format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.schema
        ));
        if let Some(db) = &self.database {
            raw.batch(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"));
        }
        eprintln!(
            "dropped schema {}{}",
            self.schema,
            self.database
                .as_ref()
                .map(|d| format!(" and database {d}"))
                .unwrap_or_default()
        );
    }
}

// ---------------------------------------------------------------------------
// 1. Append.

struct Appended {
    sqlite_store: Vec<f64>,
    sqlite_raw: Vec<f64>,
    pg_store: Vec<f64>,
    pg_raw: Vec<f64>,
    hashes: usize,
    changes: usize,
}

fn raw_sqlite_open(dir: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join("raw.db")).expect("opening raw.db");
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .expect("WAL");
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous=FULL");
    conn.execute_batch(
        "CREATE TABLE raw_entries (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL, \
         record_hash BLOB NOT NULL, kind TEXT NOT NULL) STRICT",
    )
    .expect("creating raw_entries");
    conn
}

fn raw_sqlite_insert(conn: &mut rusqlite::Connection, rows: &[EntryRow]) -> f64 {
    let start = Instant::now();
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("a transaction");
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO raw_entries (idx, entry, record_hash, kind) VALUES (?1, ?2, ?3, ?4)",
            )
            .expect("preparing the insert");
        for r in rows {
            stmt.execute(rusqlite::params![
                r.index as i64,
                r.entry,
                &r.record_hash[..],
                r.kind
            ])
            .expect("inserting a row");
        }
    }
    tx.commit().expect("committing");
    start.elapsed().as_secs_f64()
}

fn raw_pg_insert(raw: &Raw, stmt: &tokio_postgres::Statement, rows: &[EntryRow]) -> f64 {
    let idxs: Vec<i64> = rows.iter().map(|r| r.index as i64).collect();
    let entries: Vec<Vec<u8>> = rows.iter().map(|r| r.entry.clone()).collect();
    let hashes: Vec<Vec<u8>> = rows.iter().map(|r| r.record_hash.to_vec()).collect();
    let kinds: Vec<String> = rows.iter().map(|r| r.kind.clone()).collect();
    let start = Instant::now();
    raw.rt.block_on(async {
        let client = &raw.client;
        client.batch_execute("BEGIN").await.expect("BEGIN");
        let n = client
            .execute(stmt, &[&idxs, &entries, &hashes, &kinds])
            .await
            .expect("inserting rows");
        assert_eq!(n as usize, rows.len());
        client.batch_execute("COMMIT").await.expect("COMMIT");
    });
    start.elapsed().as_secs_f64()
}

fn append(
    batches: u64,
    sqlite: &SqliteStore,
    pg: &PgStore,
    raw_dir: &Path,
    raw: &Raw,
    schema: &str,
) -> Appended {
    let mut conn = raw_sqlite_open(raw_dir);
    raw.batch(&format!(
        "CREATE TABLE \"{schema}\".raw_entries (idx bigint PRIMARY KEY, entry bytea NOT NULL, \
         record_hash bytea NOT NULL, kind text NOT NULL)"
    ));
    let insert = raw
        .rt
        .block_on(raw.client.prepare(&format!(
            "INSERT INTO \"{schema}\".raw_entries (idx, entry, record_hash, kind) \
             SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[])"
        )))
        .expect("preparing the raw insert");
    let mut range = CompactRange::new();
    let mut out = Appended {
        sqlite_store: Vec::new(),
        sqlite_raw: Vec::new(),
        pg_store: Vec::new(),
        pg_raw: Vec::new(),
        hashes: 0,
        changes: 0,
    };
    for b in 0..batches {
        let batch = make_batch(b, &mut range);
        out.hashes += batch.hashes.len();
        out.changes += batch.changes.len();
        out.sqlite_raw
            .push(raw_sqlite_insert(&mut conn, &batch.entries));
        let start = Instant::now();
        sqlite.integrate(&batch).expect("SqliteStore::integrate");
        out.sqlite_store.push(start.elapsed().as_secs_f64());
        out.pg_raw.push(raw_pg_insert(raw, &insert, &batch.entries));
        let start = Instant::now();
        pg.integrate(&batch).expect("PgStore::integrate");
        out.pg_store.push(start.elapsed().as_secs_f64());
        if (b + 1) % 10 == 0 {
            eprintln!("  {} batches appended", b + 1);
        }
    }
    let n = batches * BATCH as u64;
    assert_eq!(sqlite.size().expect("size"), n);
    assert_eq!(pg.size().expect("size"), n);
    let raw_sqlite: i64 = conn
        .query_row("SELECT count(*) FROM raw_entries", [], |r| r.get(0))
        .expect("counting raw rows");
    assert_eq!(raw_sqlite as u64, n);
    let raw_pg = raw.one_text(&format!(
        "SELECT count(*)::text FROM \"{schema}\".raw_entries"
    ));
    assert_eq!(raw_pg, n.to_string());
    out
}

// ---------------------------------------------------------------------------
// 2. Queries.

struct Query {
    name: &'static str,
    select: EventSelect,
}

fn queries(n: u64) -> Vec<Query> {
    let two = vec![
        "bizStep=shipping".to_owned(),
        "bizStep=receiving".to_owned(),
    ];
    // The cursor of a page in the middle of the two-term query: the
    // matching event with the median event time.
    let mut matching: Vec<(i64, u64)> = (0..n)
        .filter(|&i| matches!(biz_step(i), "shipping" | "receiving"))
        .map(|i| (event_time(i), i))
        .collect();
    matching.sort_unstable();
    let middle = matching[matching.len() / 2];
    vec![
        Query {
            name: "(i) rare term, index order",
            select: EventSelect {
                any_terms: Some(vec![RARE_TERM.to_owned()]),
                limit: 100,
                ..EventSelect::default()
            },
        },
        Query {
            name: "(ii) 2 common terms, event time",
            select: EventSelect {
                any_terms: Some(two.clone()),
                order: EventOrder::EventTime,
                limit: 100,
                ..EventSelect::default()
            },
        },
        Query {
            name: "(iii) record-time range",
            select: EventSelect {
                record_time: (Some(record_time(n * 2 / 5)), Some(record_time(n * 3 / 5))),
                order: EventOrder::RecordTime,
                limit: 100,
                ..EventSelect::default()
            },
        },
        Query {
            name: "(iv) (ii) after a cursor",
            select: EventSelect {
                any_terms: Some(two),
                order: EventOrder::EventTime,
                after: Some(middle),
                limit: 100,
                ..EventSelect::default()
            },
        },
    ]
}

type EventRow = (
    i64,
    String,
    String,
    i64,
    i64,
    String,
    String,
    String,
    String,
);

const EVENT_COLUMNS: &str =
    "idx, event_id, event_type, event_time, record_time, captured_by, capture, terms, event";

fn raw_sqlite_select(conn: &rusqlite::Connection, idxs: &[i64]) -> usize {
    let marks = vec!["?"; idxs.len()].join(",");
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE idx IN ({marks})"
        ))
        .expect("preparing the raw select");
    let rows: Vec<EventRow> = stmt
        .query_map(
            rusqlite::params_from_iter(idxs.iter()),
            |r| -> rusqlite::Result<EventRow> {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            },
        )
        .expect("the raw select")
        .collect::<Result<_, _>>()
        .expect("raw rows");
    rows.len()
}

fn raw_pg_select(raw: &Raw, stmt: &tokio_postgres::Statement, idxs: &[i64]) -> usize {
    let idxs = idxs.to_vec();
    let rows = raw
        .rt
        .block_on(raw.client.query(stmt, &[&idxs]))
        .expect("the raw select");
    let rows: Vec<EventRow> = rows
        .iter()
        .map(|r| -> EventRow {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
                r.get(7),
                r.get(8),
            )
        })
        .collect();
    rows.len()
}

struct Queried {
    name: &'static str,
    rows: usize,
    /// Median seconds: SQLite store, SQLite raw, PG store, PG raw.
    times: [f64; 4],
}

fn query_all(
    n: u64,
    reps: usize,
    sqlite: &SqliteStore,
    sqlite_dir: &Path,
    pg: &PgStore,
    raw: &Raw,
    schema: &str,
) -> Vec<Queried> {
    let conn = rusqlite::Connection::open_with_flags(
        sqlite_dir.join(oretrace_store_sqlite::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("opening the store's database read-only");
    let stmt = raw
        .rt
        .block_on(raw.client.prepare(&format!(
            "SELECT {EVENT_COLUMNS} FROM \"{schema}\".events WHERE idx = ANY($1::bigint[])"
        )))
        .expect("preparing the raw select");
    let mut out = Vec::new();
    for q in queries(n) {
        let a = sqlite
            .select_events(&q.select)
            .expect("SqliteStore::select_events");
        let b = pg.select_events(&q.select).expect("PgStore::select_events");
        let ia: Vec<u64> = a.iter().map(EventState::index).collect();
        let ib: Vec<u64> = b.iter().map(EventState::index).collect();
        assert_eq!(ia, ib, "{}: the stores answer differently", q.name);
        assert!(
            a.iter().all(|e| q.select.admits(e)),
            "{}: an event the select does not admit",
            q.name
        );
        assert!(!ia.is_empty(), "{}: nothing selected", q.name);
        let idxs: Vec<i64> = ia.iter().map(|&i| i as i64).collect();
        let count = ia.len();
        let times = interleaved(
            reps,
            [
                &|| {
                    oretrace_benchkit::time(|| {
                        let got = sqlite.select_events(&q.select).expect("select");
                        assert_eq!(got.len(), count);
                    })
                },
                &|| {
                    oretrace_benchkit::time(|| {
                        assert_eq!(raw_sqlite_select(&conn, &idxs), count);
                    })
                },
                &|| {
                    oretrace_benchkit::time(|| {
                        let got = pg.select_events(&q.select).expect("select");
                        assert_eq!(got.len(), count);
                    })
                },
                &|| {
                    oretrace_benchkit::time(|| {
                        assert_eq!(raw_pg_select(raw, &stmt, &idxs), count);
                    })
                },
            ],
        );
        out.push(Queried {
            name: q.name,
            rows: count,
            times,
        });
    }
    out
}

// ---------------------------------------------------------------------------
// 3. Nodes over PostgreSQL.

fn oretrace_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("ORETRACE_BIN") {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let release = target.join("release/oretrace");
    // The quick form (the test run) checks the nodes' path on the build
    // it has; figures come from the release build.
    if !release.is_file() && oretrace_benchkit::quick_mode() {
        return target.join("debug/oretrace");
    }
    release
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A GET on 127.0.0.1:`port`, status and body (HTTP/1.0, for brevity).
fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

struct Wrk {
    rps: f64,
    requests: u64,
    non2xx: u64,
    socket: u64,
    latency: String,
}

fn wrk(ports: &[u16], script_body: &str, secs: u64, dir: &Path, name: &str) -> Wrk {
    let ports_lua = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let script = format!(
        "local ports = {{ {ports_lua} }}\n\
         local n = 0\n\
         function setup(thread)\n\
           local p = ports[(n % #ports) + 1]\n\
           n = n + 1\n\
           thread:set(\"id\", n)\n\
           thread.addr = wrk.lookup(\"127.0.0.1\", tostring(p))[1]\n\
         end\n\
         function init(args)\n\
           math.randomseed(os.time() + id * 7919)\n\
         end\n\
         {script_body}\n"
    );
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, script).expect("writing the wrk script");
    let out = run(
        Command::new("wrk")
            .arg(format!("-t{WRK_THREADS}"))
            .arg(format!("-c{WRK_CONNECTIONS}"))
            .arg(format!("-d{secs}s"))
            .arg("--timeout")
            .arg("10s")
            .arg("-s")
            .arg(&path)
            .arg(format!("http://127.0.0.1:{}", ports[0])),
        "wrk",
    );
    let field = |prefix: &str| -> Option<String> {
        out.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    };
    let rps = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{out}"));
    let requests = out
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let non2xx: u64 = field("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let socket: u64 = field("Socket errors:")
        .map(|v| {
            v.split(',')
                .filter_map(|p| p.split_whitespace().last())
                .filter_map(|x| x.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    let latency = field("Latency")
        .and_then(|v| v.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default();
    Wrk {
        rps,
        requests,
        non2xx,
        socket,
        latency,
    }
}

/// Rows per second of `sql` (one parameter: a random index below `size`,
/// or none) straight from PostgreSQL, on `RAW_CONNECTIONS` connections for
/// `secs` seconds.
fn raw_select_rate(url: &str, sql: &str, with_index: bool, size: u64, secs: u64) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..RAW_CONNECTIONS {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("connecting to PostgreSQL");
            tokio::spawn(conn);
            let stmt = client.prepare(sql).await.expect("preparing the select");
            let (done, count) = (done.clone(), count.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = c as u64;
                while !done.load(Ordering::Relaxed) {
                    i += 1;
                    let rows = if with_index {
                        let idx = (mix(i) % size) as i64;
                        client.query(&stmt, &[&idx]).await
                    } else {
                        client.query(&stmt, &[]).await
                    }
                    .expect("the select");
                    assert!(!rows.is_empty());
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let start = Instant::now();
        let before = count.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let after = count.load(Ordering::Relaxed);
        let elapsed = start.elapsed().as_secs_f64();
        done.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.expect("a select task");
        }
        (after - before) as f64 / elapsed
    })
}

struct Nodes {
    records: u64,
    lots: u64,
    rows: Vec<(String, Wrk, Wrk, f64, String)>,
}

fn nodes(cleanup: &mut Cleanup, secs: u64, quick: bool) -> Result<Nodes, String> {
    let bin = oretrace_bin();
    if !bin.is_file() {
        return Err(format!(
            "{} is missing: build it first (cargo build --release -p oretrace) or set ORETRACE_BIN",
            bin.display()
        ));
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        return Err("wrk is not installed (apt-get install -y wrk)".into());
    }
    let db = cleanup.schema.clone();
    Raw::connect(&cleanup.url).batch(&format!("CREATE DATABASE \"{db}\""));
    cleanup.database = Some(db.clone());
    let url = url_with_db(&cleanup.url, &db);
    let dir = oretrace_benchkit::fresh_dir("stores-nodes");
    let demo = dir.path().join("demo");
    let t = Instant::now();
    run(
        Command::new(&bin)
            .args(["demo", "--no-serve", "--data"])
            .arg(&demo),
        "oretrace demo",
    );
    let vkey = std::fs::read_to_string(demo.join("operator.vkey"))
        .expect("the demo's operator.vkey")
        .trim()
        .to_owned();
    run(
        Command::new(&bin)
            .args(["migrate", "--from"])
            .arg(&demo)
            .args(["--to", &url, "--operator-vkey", &vkey]),
        "oretrace migrate",
    );
    eprintln!("  demo and migrate took {:.1?}", t.elapsed());
    let raw = Raw::connect(&url);
    let records: u64 = raw
        .one_text("SELECT count(*)::text FROM entries")
        .parse()
        .expect("a count");
    let lots: u64 = raw
        .one_text("SELECT count(*)::text FROM lots")
        .parse()
        .expect("a count");
    drop(raw);
    for (k, port) in HTTP_PORTS.iter().enumerate() {
        let data = dir.path().join(format!("node{}", k + 1));
        std::fs::create_dir_all(&data).expect("a node directory");
        for file in ["log.key", "credential.jwk"] {
            if demo.join(file).is_file() {
                std::fs::copy(demo.join(file), data.join(file)).expect("copying a key");
            }
        }
        let log = std::fs::File::create(dir.path().join(format!("node{}.log", k + 1)))
            .expect("a log file");
        let child = Command::new(&bin)
            .args(["serve", "--data"])
            .arg(&data)
            .args(["--store", &url, "--listen", &format!("127.0.0.1:{port}")])
            .args(["--node", &format!("node{}", k + 1)])
            .args(["--operator-vkey", &vkey])
            .stdout(Stdio::from(log.try_clone().expect("a log file")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("starting a node");
        cleanup.nodes.push(child);
        let start = Instant::now();
        loop {
            if let Ok((200, body)) = http_get(*port, "/healthz") {
                eprintln!("  node{} up: {}", k + 1, body.trim());
                break;
            }
            if start.elapsed() > Duration::from_secs(60) {
                return Err(format!("node{} did not answer /healthz in 60 s", k + 1));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // Every node serves the same published log.
    for port in HTTP_PORTS {
        let (status, _) = http_get(port, &format!("/records/{}", records - 1))
            .map_err(|e| format!("GET /records on {port}: {e}"))?;
        if status != 200 {
            return Err(format!("GET /records/{} on {port}: {status}", records - 1));
        }
    }
    let records_lua = format!(
        "request = function()\n\
           return wrk.format(\"GET\", \"/records/\" .. math.random(0, {}))\n\
         end",
        records - 1
    );
    let lots_lua = "request = function()\n\
                      return wrk.format(\"GET\", \"/lots?perPage=100\")\n\
                    end";
    let mut rows = Vec::new();
    for (what, lua, sql, with_index) in [
        (
            "GET /records/{i}",
            records_lua.as_str(),
            "SELECT entry FROM entries WHERE idx = $1",
            true,
        ),
        (
            "GET /lots?perPage=100",
            lots_lua,
            "SELECT id, doc FROM lots ORDER BY id LIMIT 101",
            false,
        ),
    ] {
        // A short warm-up over all three nodes.
        let _ = wrk(&HTTP_PORTS, lua, 1, dir.path(), "warmup");
        let one = wrk(&HTTP_PORTS[..1], lua, secs, dir.path(), "one");
        let three = wrk(&HTTP_PORTS, lua, secs, dir.path(), "three");
        let bound = raw_select_rate(&url, sql, with_index, records, secs);
        for (n, w) in [(1, &one), (3, &three)] {
            assert!(w.requests > 0, "{what} on {n} node(s): no request answered");
            if quick {
                assert_eq!(
                    w.non2xx + w.socket,
                    0,
                    "{what} on {n} node(s): failed answers"
                );
            }
        }
        rows.push((what.to_owned(), one, three, bound, sql.to_owned()));
    }
    cleanup.stop_nodes();
    Ok(Nodes {
        records,
        lots,
        rows,
    })
}

// ---------------------------------------------------------------------------

fn per_s(entries: usize, secs: f64) -> f64 {
    entries as f64 / secs
}

fn main() {
    if !oretrace_benchkit::plain_bench("quick_form_with_its_checks") {
        return;
    }
    let quick = oretrace_benchkit::quick_mode();
    let wall = Instant::now();
    let batches = env_num("ORETRACE_BENCH_BATCHES", if quick { 3 } else { 50 });
    let reps = env_num("ORETRACE_BENCH_REPS", if quick { 5 } else { 60 }) as usize;
    let secs = env_num("ORETRACE_BENCH_HTTP_SECS", if quick { 1 } else { 8 });
    let (parent, fstype) = oretrace_benchkit::durable_parent("store append");
    let url = pg_url();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let schema = format!(
        "oretrace_bench_{:012x}",
        mix(nanos as u64 ^ u64::from(std::process::id())) & 0xFFFF_FFFF_FFFF
    );
    let mut cleanup = Cleanup {
        url: url.clone(),
        schema: schema.clone(),
        database: None,
        nodes: Vec::new(),
    };
    let raw = Raw::connect(&url);
    let server = raw.one_text("SELECT version()");
    let settings = raw.one_text(
        "SELECT 'fsync=' || current_setting('fsync') || ', synchronous_commit=' || \
         current_setting('synchronous_commit') || ', shared_buffers=' || \
         current_setting('shared_buffers')",
    );
    let step = |what: &str| eprintln!("[{:>6.1} s] {what}", wall.elapsed().as_secs_f64());
    eprintln!(
        "SQLite under {} ({fstype}); PostgreSQL schema {schema} ({settings})",
        parent.display()
    );

    let sqlite_dir = oretrace_benchkit::fresh_dir("stores-sqlite");
    let raw_dir = oretrace_benchkit::fresh_dir("stores-raw");
    let sqlite = SqliteStore::open(sqlite_dir.path()).expect("opening the SQLite store");
    let pg = PgStore::connect(&PgConfig::new(url.clone()).with_schema(schema.clone()))
        .expect("connecting the PostgreSQL store");
    let epoch = pg
        .try_lead("bench", "http://127.0.0.1:0", Duration::from_secs(3600))
        .expect("taking the lease");
    assert!(epoch.is_some(), "the fresh schema's lease is free");

    step(&format!("1. append: {batches} batches of {BATCH}"));
    let appended = append(batches, &sqlite, &pg, raw_dir.path(), &raw, &schema);
    let n = batches * BATCH as u64;
    step(&format!("2. queries over {n} events, {reps} repetitions"));
    let queried = query_all(n, reps, &sqlite, sqlite_dir.path(), &pg, &raw, &schema);
    drop(pg);
    drop(sqlite);
    step("3. nodes over PostgreSQL");
    let nodes = nodes(&mut cleanup, secs, quick);
    step("done");

    // -- The report.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!();
    println!(
        "== oretrace stores: SQLite (WAL, synchronous=FULL, {fstype}) beside PostgreSQL \
         ({}; {settings}) ==",
        server.split(" on ").next().unwrap_or(&server)
    );
    println!(
        "cores: {}; load average at the end: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let n_entries = BATCH * batches as usize;
    println!();
    println!(
        "1. Append: {batches} batches of {BATCH} entries ({ENTRY_BYTES} B), {:.0} subtree hashes \
         and {:.0} changes per batch (PutEvent with 5 terms + LotEvent per entry)",
        appended.hashes as f64 / batches as f64,
        appended.changes as f64 / batches as f64
    );
    println!(
        "{:<44} {:>10} {:>14} {:>12}",
        "", "entries/s", "median batch", "ratio"
    );
    let total = |v: &[f64]| v.iter().sum::<f64>();
    let rate = |v: &[f64]| per_s(n_entries, total(v));
    let lines = [
        (
            "SQLite raw insert (bound)",
            &appended.sqlite_raw,
            &appended.sqlite_raw,
        ),
        (
            "SqliteStore::integrate",
            &appended.sqlite_store,
            &appended.sqlite_raw,
        ),
        (
            "PostgreSQL raw unnest insert (bound)",
            &appended.pg_raw,
            &appended.pg_raw,
        ),
        ("PgStore::integrate", &appended.pg_store, &appended.pg_raw),
    ];
    for (name, v, bound) in lines {
        println!(
            "{name:<44} {:>10.0} {:>11.1} ms {:>12.2}",
            rate(v),
            median(v.clone()) * 1e3,
            rate(v) / rate(bound)
        );
    }
    println!(
        "PgStore / SqliteStore entries/s: {:.2}; PostgreSQL raw / SQLite raw: {:.2}",
        rate(&appended.pg_store) / rate(&appended.sqlite_store),
        rate(&appended.pg_raw) / rate(&appended.sqlite_raw)
    );
    println!("(ratio = entries/s / the same backend's raw bound entries/s)");

    println!();
    println!(
        "2. select_events over {n} events, limit 100; median of {reps} interleaved runs; \
         bound = raw select by primary key of the same rows (same backend)"
    );
    println!(
        "{:<34} {:>5} {:>10} {:>10} {:>7} {:>10} {:>10} {:>7} {:>8}",
        "query", "rows", "SQLite", "raw", "ratio", "PG", "raw", "ratio", "PG/SQL"
    );
    for q in &queried {
        let [s, sr, p, pr] = q.times;
        println!(
            "{:<34} {:>5} {:>7.0} µs {:>7.0} µs {:>7.3} {:>7.0} µs {:>7.0} µs {:>7.3} {:>8.2}",
            q.name,
            q.rows,
            s * 1e6,
            sr * 1e6,
            sr / s,
            p * 1e6,
            pr * 1e6,
            pr / p,
            p / s
        );
    }
    println!("(ratio = bound time / store time; PG/SQL = PG store time / SQLite store time)");

    println!();
    match &nodes {
        // The quick form is a test: what it cannot run fails it.
        Err(why) if quick => panic!("3. Nodes could not run: {why}"),
        Err(why) => println!("3. Nodes: skipped: {why}"),
        Ok(nodes) => {
            println!(
                "3. Reads over PostgreSQL: {} records, {} lots (oretrace demo, migrated); wrk -t{WRK_THREADS} \
                 -c{WRK_CONNECTIONS} -d{secs}s; 3 nodes = one wrk thread per node",
                nodes.records, nodes.lots
            );
            println!(
                "{:<24} {:>12} {:>12} {:>8} {:>14} {:>10} {:>10}",
                "request",
                "1 node r/s",
                "3 nodes r/s",
                "3 / 1",
                "raw SELECT r/s",
                "1 / raw",
                "3 / raw"
            );
            for (what, one, three, bound, _) in &nodes.rows {
                println!(
                    "{what:<24} {:>12.0} {:>12.0} {:>8.2} {:>14.0} {:>10.3} {:>10.3}",
                    one.rps,
                    three.rps,
                    three.rps / one.rps,
                    bound,
                    one.rps / bound,
                    three.rps / bound
                );
            }
            for (what, one, three, _, sql) in &nodes.rows {
                println!(
                    "  {what}: mean latency {} (1 node), {} (3 nodes); non-2xx {} / {}, socket errors {} / {}; bound: {sql} ({RAW_CONNECTIONS} connections)",
                    one.latency, three.latency, one.non2xx, three.non2xx, one.socket, three.socket
                );
            }
            println!(
                "(client, nodes and PostgreSQL share the machine's {} cores: three nodes cannot add cores)",
                std::thread::available_parallelism().map_or(0, |n| n.get())
            );
        }
    }
    println!("took {:.1} s", wall.elapsed().as_secs_f64());
    drop(cleanup);
    if quick && let Err(why) = nodes {
        eprintln!("quick mode: the node checks did not run: {why}");
    }
}
