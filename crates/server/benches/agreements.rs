//! Listing agreements with filters (`GET /agreements`, the store's
//! `agreements` selection) over a SQLite store of many agreements, each
//! page's latency reported against a bound measured in the same run (the
//! machines we run on are shared and noisy, so absolute figures alone mean
//! little).
//!
//! # The store
//!
//! Twelve parties in four countries (PK, US, CN, AU; three each), each
//! registered by a record signed with its own key and the operator's. Then
//! N agreements (100,000 in the full run), each one `agreement` record
//! (version 1) signed by its registrant and submitted through the ledger in
//! chunks of 1,000 (`Ledger::submit_all_blocking`, two submitting threads,
//! so group commit fills batches): every record passes the ledger's rules
//! (namespace, parties registered, dates, currency) and is one log entry,
//! one summary row and its filter terms. Agreement `n`, drawn from a fixed
//! hash of `n`:
//!
//! * id `<registrant>:agr-<n>`, the registrant party `n mod 12`, with one
//!   or (a third of the time) two other parties;
//! * one of the 7 kinds and one of the 5 statuses, uniformly; one of five
//!   commodities;
//! * a fifth sealed: half of those with a planned disclosure date already
//!   past (2026-01-31; so about 10 % are **overdue** as of 2026-12-04),
//!   half in 2031; the rest public; a third carry one money pledge due in
//!   2032 (not overdue);
//! * signed and recorded on a day of 2025.
//!
//! # The queries
//!
//! Each run draws the filter's values afresh (fixed seed); even runs read
//! the first page, odd runs the page after a random agreement id (a
//! `nextPageToken`, as a client paging through would hold). Pages are of
//! 100 (the default `perPage`); `asOf=2026-12-04` is given on every query.
//!
//! * no filter;
//! * `party=<one of 12>` (about a fifth of the agreements each);
//! * `country=<one of 4>` (about 45 %);
//! * `kind=<k>&status=<s>` (about 3 %);
//! * `overdue=true` (about 10 %);
//! * `country=<c>&kind=<k>&overdue=true` (about 0.6 %).
//!
//! For each, interleaved in every run (HTTP and store taking turns at
//! going first, as whichever reads a page first warms SQLite's page cache
//! for the other):
//!
//! * `HTTP`: `GET /agreements?…` through `oretrace_server::router` (tower
//!   `oneshot`, on a two-worker tokio runtime as the server runs), from
//!   the request to the full response body;
//! * `store`: the `Store::agreements` call the handler makes (the same
//!   `Select`: terms, overdue day, cursor, 101 rows), on the ledger's store;
//! * `bound`: the same rows (id and stored document, the bytes the store
//!   decodes) read by one range scan of an ideal index: a separate SQLite
//!   file beside the store, with one `WITHOUT ROWID` table per filter
//!   holding exactly the agreements that filter admits, keyed by (the
//!   filter's values, id), built from the store's own rows before timing.
//!   That is the irreducible cost of reading the page in id order; no
//!   filtering, no joins, no decoding.
//!
//! Every answer is checked: the HTTP page's ids equal the store's first
//! 100, and the store's rows equal the bound's.
//!
//! Ratios are bound time / time, as everywhere in `BENCHMARKS.md`, at the
//! median (p50) and at p99 (each percentile of its own distribution).
//! Then the plans SQLite picks for the store's statements (mirrored here;
//! `crates/store-sqlite/src/lib.rs`, `select_docs`), with values bound.
//!
//! Why not criterion: the store takes a while to build and what matters is
//! the latency distribution over varied parameters and cursors; this is a
//! plain `Instant` measurement with a printed table.
//!
//! Quick mode (`cargo bench ... -- --test`, `cargo test --benches`,
//! nextest, or `ORETRACE_BENCH_QUICK=1`): 2,000 agreements and a few runs
//! of each query; seconds, with every check. To a test runner it is one
//! test, `quick_form_with_its_checks`. `ORETRACE_BENCH_AGREEMENTS=<n>`
//! sets the number of agreements of the full form.
//!
//! Run: `cargo bench -p oretrace-server --bench agreements`.

#![expect(
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::money::Date;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::Store;
use oretrace_ledger::agreements::Select;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_server::{ServerConfig, router};
use oretrace_store_sqlite::SqliteStore;
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use tower::ServiceExt as _;

// ---------------------------------------------------------------------------
// Run configuration.

#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    agreements: u64,
    /// Runs of each query (each: HTTP, store and bound once).
    runs: usize,
}

impl Config {
    fn get() -> Config {
        let quick = oretrace_benchkit::quick_mode();
        if quick {
            return Config {
                quick,
                agreements: 2_000,
                runs: 8,
            };
        }
        let agreements = std::env::var("ORETRACE_BENCH_AGREEMENTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        Config {
            quick,
            agreements,
            runs: 400,
        }
    }
}

/// Rows a page shows (the server's default `perPage`); the handler asks
/// the store for one more, to know whether a next page exists.
const PER_PAGE: usize = oretrace_server::DEFAULT_LIST_PER_PAGE;

/// The day overdue is computed for (the run's date).
const AS_OF: &str = "2026-12-04";

/// Chunk of records submitted at once by a submitting thread.
const CHUNK: usize = 1_000;

// ---------------------------------------------------------------------------
// The data.

const COUNTRIES: [&str; 4] = ["PK", "US", "CN", "AU"];
const PARTIES: usize = 12;
const KINDS: [&str; 7] = [
    "mou",
    "concession",
    "joint-venture",
    "offtake",
    "port-access",
    "loan",
    "other",
];
const STATUSES: [&str; 5] = ["signed", "in-force", "amended", "terminated", "lapsed"];
const COMMODITIES: [&str; 5] = ["antimony", "copper", "lithium", "cobalt", "graphite"];

fn party_id(p: usize) -> String {
    format!(
        "{}-minerals-{}",
        COUNTRIES[p % 4].to_ascii_lowercase(),
        p / 4
    )
}

fn party_country(p: usize) -> &'static str {
    COUNTRIES[p % 4]
}

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).expect("a valid key name")
}

fn party_key(p: usize) -> NoteSigner {
    key(&format!("{}/k1", party_id(p)), 10 + p as u8)
}

/// splitmix64: agreement `n`'s draws.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Agreement `n`: its registrant and record.
fn agreement(n: u64) -> (usize, Value) {
    let h = mix(n);
    let registrant = (n % PARTIES as u64) as usize;
    let mut parties = vec![registrant];
    let other = (registrant + 1 + (h % 11) as usize) % PARTIES;
    parties.push(other);
    if (h >> 8).is_multiple_of(3) {
        let third = (registrant + 1 + ((h >> 16) % 11) as usize) % PARTIES;
        if !parties.contains(&third) {
            parties.push(third);
        }
    }
    let day = Date::from_unix(1_735_689_600 + 86_400 * (n % 365) as i64); // 2025-01-01 + n mod 365
    let terms = match (h >> 48) % 10 {
        0 => json!({"sealed": {"root": format!("{:064x}", u128::from(h) * 3 + 1), "count": 12,
            "reason": "Commercial confidentiality", "disclose_by": "2026-01-31"}}),
        1 => json!({"sealed": {"root": format!("{:064x}", u128::from(h) * 3 + 2), "count": 12,
            "reason": "Commercial confidentiality", "disclose_by": "2031-06-30"}}),
        _ => {
            json!({"public": {"clauses": [format!("Article 1. Cooperation under agreement {n}.")]}})
        }
    };
    let pledges = if (h >> 56).is_multiple_of(3) {
        json!([{"id": "investment", "description": "Investment",
            "quantity": {"money": {"amount": format!("{}", 1_000_000 + h % 9_000_000), "currency": "USD"}},
            "due": "2032-12-31"}])
    } else {
        json!([])
    };
    let id = format!("{}:agr-{n:06}", party_id(registrant));
    let record = json!({"kind": "agreement", "id": id, "version": 1,
        "title": format!("Agreement {n}"),
        "agreement_kind": KINDS[((h >> 24) % 7) as usize],
        "parties": parties.iter().map(|p| party_id(*p)).collect::<Vec<_>>(),
        "signed": day.to_string(), "place": "Islamabad",
        "status": STATUSES[((h >> 32) % 5) as usize],
        "commodities": [COMMODITIES[((h >> 40) % 5) as usize]],
        "pledges": pledges, "terms": terms,
        "time": format!("{day}T12:00:00Z"), "figures": "illustrative"});
    (registrant, record)
}

fn signed(value: &Value, signers: &[&NoteSigner]) -> SignedRecord {
    let record = RecordJson::parse(value.to_string().as_bytes()).expect("a valid record");
    SignedRecord::sign(record, signers).expect("signing")
}

type BenchLedger = Arc<Ledger<SqliteStore>>;

/// A ledger on a fresh store in `dir` holding the parties and `n`
/// agreements, all submitted through the ledger; returns it, its router
/// and the build time in seconds.
fn build(dir: &Path, n: u64) -> (BenchLedger, Router, f64) {
    let operator = key("registry/operator", 1);
    let store = SqliteStore::open(dir).expect("opening the store");
    let ledger = Arc::new(
        Ledger::start(
            store,
            key("oretrace.bench/ledger", 2),
            operator.verifier(),
            LedgerConfig::default(),
        )
        .expect("starting the ledger"),
    );
    let start = Instant::now();
    for p in 0..PARTIES {
        let k = party_key(p);
        let party = json!({"kind": "party", "id": party_id(p), "name": format!("Party {p}"),
            "party_kind": "company", "country": party_country(p), "keys": [k.verifier().to_vkey()],
            "time": "2024-12-01T00:00:00Z", "figures": "illustrative"});
        ledger
            .submit_blocking(signed(&party, &[&k, &operator]))
            .expect("registering a party");
    }
    let keys: Vec<NoteSigner> = (0..PARTIES).map(party_key).collect();
    let chunks = n.div_ceil(CHUNK as u64);
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let (ledger, keys) = (&ledger, &keys);
            s.spawn(move || {
                for c in (t..chunks).step_by(2) {
                    let records: Vec<SignedRecord> = (c * CHUNK as u64
                        ..((c + 1) * CHUNK as u64).min(n))
                        .map(|i| {
                            let (registrant, value) = agreement(i);
                            signed(&value, &[&keys[registrant]])
                        })
                        .collect();
                    for (i, outcome) in ledger.submit_all_blocking(records).into_iter().enumerate()
                    {
                        if let Err(e) = outcome {
                            panic!("agreement {} refused: {e}", c * CHUNK as u64 + i as u64);
                        }
                    }
                    if !oretrace_benchkit::quick_mode() && (c + 1) % 20 == 0 {
                        eprintln!("  chunk {} of {chunks}", c + 1);
                    }
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let app = router(ledger.clone(), ServerConfig::default()).expect("the router");
    (ledger, app, secs)
}

// ---------------------------------------------------------------------------
// The filters and their bound.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    All,
    Party,
    Country,
    KindStatus,
    Overdue,
    Combo,
}

const CASES: [Case; 6] = [
    Case::All,
    Case::Party,
    Case::Country,
    Case::KindStatus,
    Case::Overdue,
    Case::Combo,
];

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::All => "no filter",
            Case::Party => "party=<1 of 12>",
            Case::Country => "country=<1 of 4>",
            Case::KindStatus => "kind=<k>&status=<s>",
            Case::Overdue => "overdue=true",
            Case::Combo => "country=<c>&kind=<k>&overdue=true",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Case::All => "b_all",
            Case::Party => "b_party",
            Case::Country => "b_country",
            Case::KindStatus => "b_kind_status",
            Case::Overdue => "b_overdue",
            Case::Combo => "b_combo",
        }
    }

    fn overdue(self) -> bool {
        matches!(self, Case::Overdue | Case::Combo)
    }

    /// Draws the filter's values: (query pairs, store terms, bound key).
    fn draw(self, rng: &mut Rng) -> (Vec<(&'static str, String)>, Vec<String>, String) {
        let pick = |rng: &mut Rng, xs: &[&'static str]| xs[rng.below(xs.len() as u64) as usize];
        match self {
            Case::All | Case::Overdue => (Vec::new(), Vec::new(), String::new()),
            Case::Party => {
                let p = party_id(rng.below(PARTIES as u64) as usize);
                (
                    vec![("party", p.clone())],
                    vec![format!("party:{p}")],
                    format!("party:{p}"),
                )
            }
            Case::Country => {
                let c = pick(rng, &COUNTRIES);
                (
                    vec![("country", c.to_owned())],
                    vec![format!("country:{c}")],
                    format!("country:{c}"),
                )
            }
            Case::KindStatus => {
                let (k, s) = (pick(rng, &KINDS), pick(rng, &STATUSES));
                (
                    vec![("kind", k.to_owned()), ("status", s.to_owned())],
                    vec![format!("kind:{k}"), format!("status:{s}")],
                    format!("kind:{k}|status:{s}"),
                )
            }
            Case::Combo => {
                let (c, k) = (pick(rng, &COUNTRIES), pick(rng, &KINDS));
                (
                    vec![("country", c.to_owned()), ("kind", k.to_owned())],
                    vec![format!("country:{c}"), format!("kind:{k}")],
                    format!("country:{c}|kind:{k}"),
                )
            }
        }
    }
}

/// Builds the bound's tables in `path` from the store's rows (read-only
/// connection `store`): per case, exactly the agreements it admits, keyed
/// by (values, id), with the stored document. Returns, per case, the mean
/// number of agreements its filters admit.
fn build_bound(store: &rusqlite::Connection, path: &Path) -> BTreeMap<&'static str, f64> {
    let mut terms: BTreeMap<String, Vec<String>> = BTreeMap::new();
    {
        let mut stmt = store
            .prepare("SELECT id, term FROM agreement_terms ORDER BY id")
            .expect("reading the terms");
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .expect("reading the terms");
        for row in rows {
            let (id, term) = row.expect("a term");
            terms.entry(id).or_default().push(term);
        }
    }
    let mut conn = rusqlite::Connection::open(path).expect("opening the bound's database");
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        .expect("pragmas");
    let tx = conn.transaction().expect("begin");
    for case in CASES {
        tx.execute_batch(&format!(
            "CREATE TABLE {} (k TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, \
             PRIMARY KEY (k, id)) STRICT, WITHOUT ROWID",
            case.table()
        ))
        .expect("creating a bound table");
    }
    let mut stmt = store
        .prepare("SELECT id, doc, overdue_from FROM agreements ORDER BY id")
        .expect("reading the agreements");
    let mut rows = stmt.query([]).expect("reading the agreements");
    while let Some(r) = rows.next().expect("an agreement") {
        let id: String = r.get(0).expect("id");
        let doc: String = r.get(1).expect("doc");
        let overdue_from: Option<String> = r.get(2).expect("overdue_from");
        let overdue = overdue_from.is_some_and(|d| d.as_str() < AS_OF);
        let ts = terms.get(&id).map(Vec::as_slice).unwrap_or_default();
        let with = |prefix: &str| -> Vec<&String> {
            ts.iter().filter(|t| t.starts_with(prefix)).collect()
        };
        let mut keys: Vec<(Case, String)> = vec![(Case::All, String::new())];
        keys.extend(with("party:").into_iter().map(|t| (Case::Party, t.clone())));
        keys.extend(
            with("country:")
                .into_iter()
                .map(|t| (Case::Country, t.clone())),
        );
        for k in with("kind:") {
            for s in with("status:") {
                keys.push((Case::KindStatus, format!("{k}|{s}")));
            }
        }
        if overdue {
            keys.push((Case::Overdue, String::new()));
            for c in with("country:") {
                for k in with("kind:") {
                    keys.push((Case::Combo, format!("{c}|{k}")));
                }
            }
        }
        for (case, k) in keys {
            tx.prepare_cached(&format!(
                "INSERT INTO {} (k, id, doc) VALUES (?1, ?2, ?3)",
                case.table()
            ))
            .expect("prepare")
            .execute(rusqlite::params![k, id, doc])
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
    let mut admitted = BTreeMap::new();
    for case in CASES {
        let (rows, keys): (i64, i64) = conn
            .query_row(
                &format!("SELECT count(*), count(DISTINCT k) FROM {}", case.table()),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("counting");
        // A filter's values that admit nothing have no key: count them in.
        let values = match case {
            Case::All | Case::Overdue => 1,
            Case::Party => PARTIES,
            Case::Country => COUNTRIES.len(),
            Case::KindStatus => KINDS.len() * STATUSES.len(),
            Case::Combo => COUNTRIES.len() * KINDS.len(),
        };
        assert!(keys as usize <= values);
        admitted.insert(case.table(), rows as f64 / values as f64);
    }
    admitted
}

/// The bound: up to `limit` (id, doc) of `case`'s table under `k`, after
/// `after`.
fn bound_page(
    conn: &rusqlite::Connection,
    case: Case,
    k: &str,
    after: &str,
    limit: usize,
) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT id, doc FROM {} WHERE k = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            case.table()
        ))
        .expect("prepare");
    stmt.query_map(rusqlite::params![k, after, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .expect("query")
    .collect::<rusqlite::Result<_>>()
    .expect("rows")
}

// ---------------------------------------------------------------------------
// Timing.

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// Nearest-rank percentile of seconds, in milliseconds.
fn pct_ms(xs: &[f64], p: f64) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
    xs[rank - 1] * 1e3
}

/// The page token the server gives after `last` (a mirror of
/// `page_token` in `crates/server/src/registry.rs`: the list's name and
/// the last id, as hex).
fn page_token(last: &str) -> String {
    format!("agreements:{last}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `GET uri`; the ids of the agreements listed.
async fn get_ids(app: &Router, uri: &str) -> Vec<String> {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).expect("a request"))
        .await
        .expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the response body");
    assert_eq!(
        status,
        StatusCode::OK,
        "GET {uri}: {}",
        String::from_utf8_lossy(&body)
    );
    let page: Value = serde_json::from_slice(&body).expect("a JSON page");
    page["agreements"]
        .as_array()
        .expect("a list of agreements")
        .iter()
        .map(|a| a["id"].as_str().expect("an id").to_owned())
        .collect()
}

#[derive(Debug, Default)]
struct Figures {
    http: Vec<f64>,
    store: Vec<f64>,
    bound: Vec<f64>,
    rows: Vec<usize>,
}

/// What the queries run against.
struct Target<'a> {
    rt: &'a tokio::runtime::Runtime,
    app: &'a Router,
    store: &'a SqliteStore,
    bound: &'a rusqlite::Connection,
    /// Every agreement id, in order (the cursors are drawn from them).
    ids: &'a [String],
}

fn measure(target: &Target<'_>, case: Case, runs: usize, rng: &mut Rng) -> Figures {
    let Target {
        rt,
        app,
        store,
        bound,
        ids,
    } = *target;
    let as_of = Date::parse(AS_OF).expect("a date");
    let mut f = Figures::default();
    for run in 0..runs {
        let (pairs, terms, k) = case.draw(rng);
        let after = (run % 2 == 1).then(|| ids[rng.below(ids.len() as u64) as usize].clone());
        let mut query: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        if case.overdue() {
            query.push("overdue=true".into());
        }
        query.push(format!("asOf={AS_OF}"));
        if let Some(a) = &after {
            query.push(format!("nextPageToken={}", page_token(a)));
        }
        let uri = format!("/agreements?{}", query.join("&"));

        let select = Select {
            terms,
            overdue_on: case.overdue().then_some(as_of),
            after: after.clone(),
            limit: PER_PAGE + 1,
        };
        let via_http = || {
            let start = Instant::now();
            let listed = rt.block_on(get_ids(app, &uri));
            (start.elapsed().as_secs_f64(), listed)
        };
        let via_store = || {
            let start = Instant::now();
            let items = store.agreements(&select).expect("listing agreements");
            (start.elapsed().as_secs_f64(), items)
        };
        // Whichever reads the page first warms the pages SQLite caches for
        // the other: take turns.
        let ((t_http, listed), (t_store, items)) = if (run / 2) % 2 == 0 {
            let h = via_http();
            (h, via_store())
        } else {
            let s = via_store();
            (via_http(), s)
        };

        let start = Instant::now();
        let rows = bound_page(
            bound,
            case,
            &k,
            after.as_deref().unwrap_or(""),
            PER_PAGE + 1,
        );
        let t_bound = start.elapsed().as_secs_f64();

        let stored: Vec<String> = items.iter().map(|a| a.id.to_string()).collect();
        let bounded: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            stored,
            bounded,
            "{}: the store and the bound differ",
            case.name()
        );
        assert_eq!(
            listed.as_slice(),
            &stored[..stored.len().min(PER_PAGE)],
            "{}: the server and the store differ ({uri})",
            case.name()
        );
        f.http.push(t_http);
        f.store.push(t_store);
        f.bound.push(t_bound);
        f.rows.push(listed.len());
    }
    f
}

/// How SQLite plans the store's statement for `case` (a mirror of
/// `select_docs` in `crates/store-sqlite/src/lib.rs`: the walk follows
/// the index of the term with the fewest agreements, by the counts in
/// `agreement_term_counts`, and probes the others), with representative
/// values bound; and the term it walks.
fn plan(conn: &rusqlite::Connection, case: Case, after: &str) -> String {
    use rusqlite::types::Value as Sql;
    let mut rng = Rng(7);
    let (_, mut terms, _) = case.draw(&mut rng);
    terms.sort();
    let mut args: Vec<Sql> = Vec::new();
    let mut walks = String::new();
    let mut sql = if terms.is_empty() {
        "SELECT a.doc FROM agreements a WHERE 1".to_owned()
    } else {
        let count = |t: &String| -> i64 {
            conn.query_row(
                "SELECT n FROM agreement_term_counts WHERE term = ?1",
                [t],
                |r| r.get(0),
            )
            .expect("a term's count")
        };
        let fewest = (0..terms.len())
            .min_by_key(|&i| count(&terms[i]))
            .expect("a term");
        let drive = terms.remove(fewest);
        walks = format!(" [walks {drive}: {} agreements]", count(&drive));
        args.push(Sql::Text(drive));
        let by = if case.overdue() {
            " INDEXED BY agreements_overdue"
        } else {
            ""
        };
        let mut sql = format!(
            "SELECT a.doc FROM agreement_terms t CROSS JOIN agreements a{by} ON a.id = t.id WHERE t.term = ?"
        );
        for t in terms {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM agreement_terms u WHERE u.term = ? AND u.id = t.id)",
            );
            args.push(Sql::Text(t));
        }
        sql
    };
    let id = if args.is_empty() { "a.id" } else { "t.id" };
    sql.push_str(&format!(" AND {id} > ?"));
    args.push(Sql::Text(after.to_owned()));
    if case.overdue() {
        sql.push_str(" AND a.overdue_from < ?");
        args.push(Sql::Text(AS_OF.to_owned()));
    }
    sql.push_str(&format!(" ORDER BY {id} LIMIT ?"));
    args.push(Sql::Integer(PER_PAGE as i64 + 1));
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .expect("explain");
    let mut detail = Vec::new();
    while let Some(r) = rows.next().expect("explain") {
        detail.push(r.get::<_, String>(3).expect("a plan row"));
    }
    detail.join("; ") + &walks
}

fn main() {
    if !oretrace_benchkit::plain_bench("quick_form_with_its_checks") {
        return;
    }
    let cfg = Config::get();
    let wall = Instant::now();
    let step = |what: &str| eprintln!("[{:>6.1} s] {what}", wall.elapsed().as_secs_f64());
    if cfg.quick {
        eprintln!("quick mode: small sizes");
    }
    let dir = oretrace_benchkit::fresh_dir("agreements");
    let fstype = oretrace_benchkit::filesystem_type(dir.path()).unwrap_or_else(|| "unknown".into());

    step(&format!(
        "building the store: {} agreements",
        cfg.agreements
    ));
    let (ledger, app, build_secs) = build(dir.path(), cfg.agreements);
    let read = rusqlite::Connection::open_with_flags(
        dir.path().join(oretrace_store_sqlite::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("a read-only connection");
    let count: i64 = read
        .query_row("SELECT count(*) FROM agreements", [], |r| r.get(0))
        .expect("counting");
    assert_eq!(count as u64, cfg.agreements, "every agreement is stored");
    let size = ledger.store().size().expect("the log size");
    assert_eq!(
        size,
        cfg.agreements + PARTIES as u64,
        "one entry per record"
    );
    let db_bytes: u64 = ["oretrace.db", "oretrace.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum();
    let mean_doc: f64 = read
        .query_row("SELECT avg(length(doc)) FROM agreements", [], |r| r.get(0))
        .expect("doc size");

    step("building the bound");
    let bound_path = dir.path().join("bound.db");
    let admitted = build_bound(&read, &bound_path);
    let bound = rusqlite::Connection::open_with_flags(
        &bound_path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("opening the bound");
    let ids: Vec<String> = {
        let mut stmt = read
            .prepare("SELECT id FROM agreements ORDER BY id")
            .expect("ids");
        stmt.query_map([], |r| r.get(0))
            .expect("ids")
            .collect::<rusqlite::Result<_>>()
            .expect("ids")
    };
    let overdue: i64 = read
        .query_row(
            "SELECT count(*) FROM agreements WHERE overdue_from < ?1",
            [AS_OF],
            |r| r.get(0),
        )
        .expect("counting overdue");
    assert!(overdue > 0, "some agreements are overdue");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    // Warm the caches once over every case.
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    let target = Target {
        rt: &rt,
        app: &app,
        store: ledger.store(),
        bound: &bound,
        ids: &ids,
    };
    for case in CASES {
        measure(&target, case, 2, &mut rng);
    }
    step("queries");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let figures: Vec<(Case, Figures)> = CASES
        .iter()
        .map(|&case| (case, measure(&target, case, cfg.runs, &mut rng)))
        .collect();
    step("plans");
    let mid = &ids[ids.len() / 2];
    let plans: Vec<(Case, String)> = CASES.iter().map(|&c| (c, plan(&read, c, mid))).collect();
    step("done");

    println!();
    println!(
        "== oretrace agreement listing over {} agreements ({} parties in {} countries; {overdue} overdue on {AS_OF}) in SQLite on {fstype}: {:.0} MiB, mean stored document {mean_doc:.0} bytes; built through the ledger in {build_secs:.1} s ({:.0} records/s) ==",
        cfg.agreements,
        PARTIES,
        COUNTRIES.len(),
        db_bytes as f64 / (1024.0 * 1024.0),
        (cfg.agreements + PARTIES as u64) as f64 / build_secs,
    );
    println!(
        "{} runs per filter, values drawn per run; even runs the first page, odd runs the page after a random id; pages of {PER_PAGE}; ratio = bound time / time at the same percentile",
        cfg.runs
    );
    println!(
        "{:<36} {:>8} {:>5} | {:>8} {:>8} {:>6} {:>6} | {:>8} {:>8} {:>6} {:>6} | {:>7} {:>7}",
        "filter",
        "admits",
        "rows",
        "HTTP p50",
        "p99",
        "r50",
        "r99",
        "store50",
        "p99",
        "r50",
        "r99",
        "bound50",
        "p99"
    );
    for (case, f) in &figures {
        let (h50, h99) = (pct_ms(&f.http, 0.5), pct_ms(&f.http, 0.99));
        let (s50, s99) = (pct_ms(&f.store, 0.5), pct_ms(&f.store, 0.99));
        let (b50, b99) = (pct_ms(&f.bound, 0.5), pct_ms(&f.bound, 0.99));
        let rows = f.rows.iter().sum::<usize>() as f64 / f.rows.len().max(1) as f64;
        println!(
            "{:<36} {:>8.0} {:>5.0} | {:>8.2} {:>8.2} {:>6.3} {:>6.3} | {:>8.2} {:>8.2} {:>6.3} {:>6.3} | {:>7.3} {:>7.3}",
            case.name(),
            admitted[case.table()],
            rows,
            h50,
            h99,
            b50 / h50,
            b99 / h99,
            s50,
            s99,
            b50 / s50,
            b99 / s99,
            b50,
            b99,
        );
    }
    println!(
        "admits: mean agreements the filter's values admit; rows: mean listed per page. Times in ms. HTTP: GET /agreements through the router, request to full body. store: Store::agreements (101 rows, decoded). bound: the same rows (id, stored document) by one range scan of a table holding exactly what the filter admits, keyed (values, id), separate read-only connection."
    );
    println!(
        "SQLite plans of the store's statements (EXPLAIN QUERY PLAN, a page after a mid-list id):"
    );
    for (case, p) in plans {
        println!("  {}: {p}", case.name());
    }
    // The bound's file is in the store's directory, removed with it.
    drop(bound);
    drop(ledger);
    eprintln!("total {:.1?}", wall.elapsed());
}
