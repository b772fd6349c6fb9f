//! The embedded SQLite backend of the ledger's storage contract
//! ([`oretrace_ledger::store::Store`]).
//!
//! One database file, `<data dir>/oretrace.db`, in WAL mode with
//! `synchronous=FULL`: [`Store::integrate`] returns once its transaction
//! is durable. One writer connection behind a mutex (the ledger has one
//! sequencer thread) and a small pool of read-only connections, so reads
//! never wait for a write in progress. A background thread checkpoints the
//! WAL into the database file, off the commit path. The schema is
//! versioned with `user_version` and migrated on open; a database from a
//! newer build (or another application) is refused, untouched.

mod checkpointer;
mod error;
mod pool;
mod schema;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{
    CachedStatement, Connection, OptionalExtension as _, Transaction, TransactionBehavior, params,
};
use serde_json::{from_str, to_string};

use oretrace_ledger::agreements::{
    AgreementState, ClauseState, ProgressState, ReportState, ResourceState, Select, VersionState,
};
use oretrace_ledger::state::{
    Change, EventState, KeyState, LotState, PartyState, ShipmentState, SiteState, StoredEvent,
};
use oretrace_ledger::store::{
    Batch, EVENT_TERM_VALUES_MAX, ErrorKind, EventOrder, EventSelect, Inserted, NamedQueryRow,
    Quota, Removed, StateView, Store, StoreResult, SubscriptionRow, term_prefix_end,
};
use oretrace_tlog::hash::Hash;
use oretrace_tlog::tree::NodeId;

use crate::checkpointer::Checkpointer;
use crate::error::{Context as _, Error, Result, from_sql_int, is_unique_violation, to_sql_int};
use crate::pool::Readers;

pub use crate::pool::MAX_READERS;

/// The database's file name inside the data directory.
pub const DB_FILE: &str = "oretrace.db";

/// The schema version this build writes (and the newest it opens).
pub const SCHEMA_VERSION: u32 = schema::MIGRATIONS.len() as u32;

/// The ledger's store in one SQLite database.
pub struct SqliteStore {
    path: PathBuf,
    // Dropped in this order: the writer closes last, and (as the last
    // connection) checkpoints the whole WAL and removes it.
    checkpointer: Checkpointer,
    readers: Readers,
    writer: Mutex<Connection>,
    /// An exclusive lock on `<data>/.lock` for the store's lifetime: one
    /// process at a time writes a data directory (a second `serve`, or a
    /// `rebuild` beside a running server, is refused).
    _lock: std::fs::File,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("readers", &self.readers)
            .field("checkpointer", &self.checkpointer)
            .finish()
    }
}

/// The settings of the writer connection, as SQLite reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pragmas {
    /// `wal`.
    pub journal_mode: String,
    /// 2 (`FULL`).
    pub synchronous: i64,
    pub foreign_keys: bool,
    pub busy_timeout_ms: i64,
    /// Pages of WAL past which the writer checkpoints by itself (a
    /// backstop: a background thread checkpoints after every append).
    pub wal_autocheckpoint: i64,
    /// [`SCHEMA_VERSION`] once open.
    pub user_version: i64,
}

impl SqliteStore {
    /// Opens the store in `data_dir` (created if absent), creating and
    /// migrating the database as needed.
    pub fn open(data_dir: &Path) -> StoreResult<Self> {
        Ok(Self::open_inner(data_dir)?)
    }

    fn open_inner(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir)
            .ctx(|| format!("creating the data directory {}", data_dir.display()))?;
        let lock_path = data_dir.join(".lock");
        let lock = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .ctx(|| format!("opening {}", lock_path.display()))?;
        lock.try_lock().map_err(|e| {
            Error::Invalid(
                ErrorKind::Conflict,
                format!(
                    "{} is in use by another oretrace process ({e})",
                    data_dir.display()
                ),
            )
        })?;
        let path = data_dir.join(DB_FILE);
        let writer = schema::open_writer(&path)?;
        let readers = Readers::new(path.clone());
        // Open one reader now, so that a database readers cannot open fails
        // here rather than at the first request.
        drop(readers.get()?);
        let checkpointer = Checkpointer::start(&path)?;
        Ok(SqliteStore {
            path,
            checkpointer,
            readers,
            writer: Mutex::new(writer),
            _lock: lock,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The durability settings in force on the writer connection.
    pub fn pragmas(&self) -> StoreResult<Pragmas> {
        let conn = self.writer();
        let get = |name: &str| -> Result<i64> {
            conn.pragma_query_value(None, name, |r| r.get(0))
                .ctx(|| format!("reading PRAGMA {name}"))
        };
        let journal_mode = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .ctx(|| "reading PRAGMA journal_mode")?;
        Ok(Pragmas {
            journal_mode,
            synchronous: get("synchronous")?,
            foreign_keys: get("foreign_keys")? != 0,
            busy_timeout_ms: get("busy_timeout")?,
            wal_autocheckpoint: get("wal_autocheckpoint")?,
            user_version: get("user_version")?,
        })
    }

    /// The writer connection. A panic while it was held unwound through
    /// the transaction guard, which rolled back; if anything is still
    /// open, roll it back here, so the connection is always usable.
    fn writer(&self) -> MutexGuard<'_, Connection> {
        let conn = self.writer.lock().unwrap_or_else(|poisoned| {
            self.writer.clear_poison();
            poisoned.into_inner()
        });
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        conn
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer, committing
    /// (durably) only if it succeeds.
    fn write<T>(&self, what: &str, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(|| format!("{what}: starting the transaction"))?;
        let value = f(&tx)?;
        tx.commit().ctx(|| format!("{what}: committing"))?;
        Ok(value)
    }

    /// Runs `f` on a reader connection.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> StoreResult<T> {
        let conn = self.readers.get()?;
        Ok(f(&conn)?)
    }

    /// Runs `f` in one read transaction: every statement sees one snapshot.
    fn read_snapshot<T>(
        &self,
        what: &str,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> StoreResult<T> {
        self.read(|conn| {
            let tx = conn
                .unchecked_transaction()
                .ctx(|| format!("{what}: starting a read transaction"))?;
            let value = f(&tx)?;
            tx.commit()
                .ctx(|| format!("{what}: ending the read transaction"))?;
            Ok(value)
        })
    }

    /// Reads every JSON document of a table, by id.
    /// A page of `table`'s documents in id order (the ids' bytes: the
    /// columns have the default BINARY collation), after `after`.
    fn docs<T: Doc>(
        &self,
        what: &str,
        table: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<T>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Without a cursor no WHERE clause, so that the primary key serves
        // the range either way.
        let (sql, args): (String, Vec<rusqlite::types::Value>) = match after {
            Some(a) => (
                format!("SELECT doc FROM {table} WHERE id > ? ORDER BY id LIMIT ?"),
                vec![a.to_owned().into(), limit.into()],
            ),
            None => (
                format!("SELECT doc FROM {table} ORDER BY id LIMIT ?"),
                vec![limit.into()],
            ),
        };
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(&sql)
                .ctx(|| format!("listing {what}"))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(0))
                .ctx(|| format!("listing {what}"))?;
            rows.map(|doc| {
                let doc = doc.ctx(|| format!("listing {what}"))?;
                T::decode(&doc).ctx(|| format!("decoding a stored {what} document"))
            })
            .collect()
        })
    }

    /// The documents of a query's rows (one `doc` column), in order.
    fn query_docs<T: Doc>(
        conn: &Connection,
        what: &str,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<T>> {
        let mut stmt = conn.prepare_cached(sql).ctx(|| format!("listing {what}"))?;
        let rows = stmt
            .query_map(args, |r| r.get::<_, String>(0))
            .ctx(|| format!("listing {what}"))?;
        rows.map(|doc| {
            let doc = doc.ctx(|| format!("listing {what}"))?;
            T::decode(&doc).ctx(|| format!("decoding a stored {what} document"))
        })
        .collect()
    }

    /// A page of listing `which` of [`TERMED`], as `select` says, computed
    /// in SQL: with terms, the walk follows the `(term, id)` index of the
    /// term with the fewest items (the counts its triggers keep) from the
    /// cursor, in id order, and probes that index for every other term, so
    /// a page costs about as many index steps as items of that term it
    /// passes over, never a read of every document. `overdue` applies
    /// `select.overdue_on` (the table has an `overdue_from` column).
    fn select_docs<T: Doc>(
        &self,
        which: usize,
        select: &Select,
        overdue: bool,
    ) -> StoreResult<Vec<T>> {
        let (what, table, terms_table, counts_table) = TERMED[which];
        let mut terms: Vec<&str> = select.terms.iter().map(String::as_str).collect();
        terms.sort_unstable();
        terms.dedup();
        let limit = i64::try_from(select.limit).unwrap_or(i64::MAX);
        self.read_snapshot(&format!("listing {what}s"), |conn| {
            let mut args: Vec<rusqlite::types::Value> = Vec::new();
            // The id the walk goes by: the terms index's, when it leads.
            let id = if terms.is_empty() { "a.id" } else { "t.id" };
            let mut sql = if terms.is_empty() {
                format!("SELECT a.doc FROM {table} a WHERE 1")
            } else {
                let mut probe = conn
                    .prepare_cached(&format!("SELECT n FROM {counts_table} WHERE term = ?1"))
                    .ctx(|| format!("counting {what} terms"))?;
                let mut fewest: Option<(i64, usize)> = None;
                for (i, term) in terms.iter().enumerate() {
                    let n: i64 = probe
                        .query_row(params![term], |r| r.get(0))
                        .optional()
                        .ctx(|| format!("counting the {what}s under {term}"))?
                        .unwrap_or(0);
                    if n == 0 {
                        return Ok(Vec::new());
                    }
                    if fewest.is_none_or(|(m, _)| n < m) {
                        fewest = Some((n, i));
                    }
                }
                let drive = terms.remove(fewest.map_or(0, |(_, i)| i));
                args.push(drive.to_owned().into());
                // Asked for what is overdue: compare each candidate's day in
                // the index of those that can be overdue, so that only the
                // rows that pass are read (SQLite otherwise looks the id up
                // by the table's unique index and reads the whole row).
                let by = if overdue && select.overdue_on.is_some() {
                    " INDEXED BY agreements_overdue"
                } else {
                    ""
                };
                // CROSS JOIN keeps the terms index the outer loop.
                let mut sql = format!(
                    "SELECT a.doc FROM {terms_table} t CROSS JOIN {table} a{by} ON a.id = t.id WHERE t.term = ?"
                );
                for term in &terms {
                    sql.push_str(&format!(
                        " AND EXISTS (SELECT 1 FROM {terms_table} u WHERE u.term = ? AND u.id = t.id)"
                    ));
                    args.push((*term).to_owned().into());
                }
                sql
            };
            if let Some(after) = &select.after {
                sql.push_str(&format!(" AND {id} > ?"));
                args.push(after.clone().into());
            }
            if let (true, Some(today)) = (overdue, select.overdue_on) {
                // NULL (never overdue) compares as false.
                sql.push_str(" AND a.overdue_from < ?");
                args.push(today.to_string().into());
            }
            sql.push_str(&format!(" ORDER BY {id} LIMIT ?"));
            args.push(limit.into());
            Self::query_docs(conn, &format!("{what}s"), &sql, rusqlite::params_from_iter(args))
        })
    }
}

/// A projection document: a state struct as JSON.
trait Doc: Sized {
    fn decode(json: &str) -> serde_json::Result<Self>;
}

macro_rules! doc {
    ($($t:ty),*) => {$(
        impl Doc for $t {
            fn decode(json: &str) -> serde_json::Result<Self> {
                from_str(json)
            }
        }
    )*};
}

doc!(
    PartyState,
    KeyState,
    SiteState,
    LotState,
    ShipmentState,
    AgreementState,
    VersionState,
    ClauseState,
    ProgressState,
    ReportState,
    ResourceState
);

const EVENT_COLUMNS: &str =
    "idx, event_id, event_type, event_time, record_time, captured_by, capture, terms, event";

/// One row of `events`, as read.
struct EventRow {
    idx: i64,
    terms: String,
    row: StoredEvent,
}

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        idx: r.get(0)?,
        terms: r.get(7)?,
        row: StoredEvent {
            index: 0,
            event_id: r.get(1)?,
            event_type: r.get(2)?,
            event_time: r.get(3)?,
            record_time: r.get(4)?,
            captured_by: r.get(5)?,
            capture: r.get(6)?,
            terms: Vec::new(),
            event: r.get(8)?,
        },
    })
}

impl EventRow {
    /// The event the row stores, checked: a row that breaks a rule is an
    /// error naming it.
    fn decode(self) -> Result<EventState> {
        let mut row = self.row;
        row.index = from_sql_int(self.idx, "log index")?;
        row.terms = from_str(&self.terms)
            .ctx(|| format!("decoding the terms of event {}", row.event_id))?;
        EventState::try_from(row)
            .map_err(|e| Error::Invalid(ErrorKind::Corrupt, format!("reading {e}")))
    }
}

/// The seeks of [`Store::event_term_values`]: `[first, next]` (the least
/// term from the prefix on, the least past a term), without and with an
/// upper bound. Each is a `SEARCH` of the `event_terms` primary key
/// stopping at its first row (a test pins the plans), never a scan.
const TERM_SEEKS: [[&str; 2]; 2] = [
    [
        "SELECT term FROM event_terms WHERE term >= ?1 ORDER BY term LIMIT 1",
        "SELECT term FROM event_terms WHERE term > ?1 ORDER BY term LIMIT 1",
    ],
    [
        "SELECT term FROM event_terms WHERE term >= ?1 AND term < ?2 ORDER BY term LIMIT 1",
        "SELECT term FROM event_terms WHERE term > ?1 AND term < ?2 ORDER BY term LIMIT 1",
    ],
];

/// Log size: entries are consecutive from 0, so the highest index + 1
/// (a lookup at the right edge of the rowid tree, not a count).
fn size_of(conn: &Connection) -> Result<u64> {
    let next: i64 = conn
        .prepare_cached("SELECT coalesce(max(idx) + 1, 0) FROM entries")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .ctx(|| "reading the log size")?;
    from_sql_int(next, "log size")
}

/// The statements that apply projection changes, prepared (from the cache)
/// once per transaction.
struct Appliers<'c> {
    party: CachedStatement<'c>,
    key: CachedStatement<'c>,
    remove_key: CachedStatement<'c>,
    site: CachedStatement<'c>,
    lot: CachedStatement<'c>,
    shipment: CachedStatement<'c>,
    lot_event: CachedStatement<'c>,
    event: CachedStatement<'c>,
    event_term: CachedStatement<'c>,
    agreement: CachedStatement<'c>,
    agreement_version: CachedStatement<'c>,
    clause: CachedStatement<'c>,
    progress: CachedStatement<'c>,
    report: CachedStatement<'c>,
    resource: CachedStatement<'c>,
    /// Per terms table (agreements, reports, resources): the statement
    /// that drops an item's terms and the one that adds one.
    unterm: [CachedStatement<'c>; 3],
    term: [CachedStatement<'c>; 3],
}

/// The listings filtered by terms: `(what, table, terms table, counts
/// of its terms)`, in the order of [`Appliers::term`].
const TERMED: [(&str, &str, &str, &str); 3] = [
    (
        "agreement",
        "agreements",
        "agreement_terms",
        "agreement_term_counts",
    ),
    ("report", "reports", "report_terms", "report_term_counts"),
    (
        "resource estimate",
        "resources",
        "resource_terms",
        "resource_term_counts",
    ),
];
const AGREEMENTS: usize = 0;
const REPORTS: usize = 1;
const RESOURCES: usize = 2;

impl<'c> Appliers<'c> {
    fn new(conn: &'c Connection) -> Result<Self> {
        let prep = |sql: &str| {
            conn.prepare_cached(sql)
                .ctx(|| "preparing the projection statements")
        };
        Ok(Appliers {
            party: prep(
                "INSERT INTO parties (id, doc) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            )?,
            key: prep(
                "INSERT INTO keys (name, key_id, doc) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name, key_id) DO UPDATE SET doc = excluded.doc",
            )?,
            remove_key: prep("DELETE FROM keys WHERE name = ?1 AND key_id = ?2")?,
            site: prep(
                "INSERT INTO sites (id, doc) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            )?,
            lot: prep(
                "INSERT INTO lots (id, doc) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            )?,
            shipment: prep(
                "INSERT INTO shipments (id, doc) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            )?,
            lot_event: prep(
                "INSERT INTO lot_events (lot, idx) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?,
            event: prep(
                "INSERT INTO events (idx, event_id, event_type, event_time, record_time, \
                 captured_by, capture, terms, event) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            event_term: prep(
                "INSERT INTO event_terms (term, idx) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?,
            agreement: prep(
                "INSERT INTO agreements (id, doc, overdue_from) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, overdue_from = excluded.overdue_from",
            )?,
            agreement_version: prep(
                "INSERT INTO agreement_versions (id, version, doc) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (id, version) DO UPDATE SET doc = excluded.doc",
            )?,
            clause: prep(
                "INSERT INTO agreement_clauses (id, version, clause, doc) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (id, version, clause) DO UPDATE SET doc = excluded.doc",
            )?,
            progress: prep(
                "INSERT INTO agreement_progress (id, idx, doc) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (id, idx) DO UPDATE SET doc = excluded.doc",
            )?,
            report: prep(
                "INSERT INTO reports (id, doc) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            )?,
            resource: prep(
                "INSERT INTO resources (id, doc) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            )?,
            unterm: [
                prep("DELETE FROM agreement_terms WHERE id = ?1")?,
                prep("DELETE FROM report_terms WHERE id = ?1")?,
                prep("DELETE FROM resource_terms WHERE id = ?1")?,
            ],
            term: [
                prep(
                    "INSERT INTO agreement_terms (term, id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )?,
                prep("INSERT INTO report_terms (term, id) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?,
                prep(
                    "INSERT INTO resource_terms (term, id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )?,
            ],
        })
    }

    /// Replaces the terms item `id` of listing `which` is found by.
    fn index_terms(&mut self, which: usize, id: &str, terms: &[String]) -> Result<()> {
        let what = TERMED[which].0;
        self.unterm[which]
            .execute([id])
            .ctx(|| format!("dropping the terms of {what} {id}"))?;
        for term in terms {
            self.term[which]
                .execute(params![term, id])
                .ctx(|| format!("indexing {what} {id} under {term}"))?;
        }
        Ok(())
    }

    fn apply(&mut self, change: &Change) -> Result<()> {
        match change {
            Change::PutParty(p) => {
                let doc = to_string(p).ctx(|| format!("encoding party {}", p.id()))?;
                self.party
                    .execute(params![p.id().as_str(), doc])
                    .ctx(|| format!("storing party {}", p.id()))?;
            }
            Change::PutKey(k) => {
                let doc =
                    to_string(k).ctx(|| format!("encoding key {}+{:08x}", k.name(), k.key_id()))?;
                self.key
                    .execute(params![k.name(), k.key_id(), doc])
                    .ctx(|| format!("storing key {}+{:08x}", k.name(), k.key_id()))?;
            }
            Change::RemoveKey { name, key_id } => {
                self.remove_key
                    .execute(params![name, key_id])
                    .ctx(|| format!("removing key {name}+{key_id:08x}"))?;
            }
            Change::PutSite(s) => {
                let doc = to_string(s).ctx(|| format!("encoding site {}", s.id()))?;
                self.site
                    .execute(params![s.id().as_str(), doc])
                    .ctx(|| format!("storing site {}", s.id()))?;
            }
            Change::PutLot(l) => {
                let doc = to_string(l).ctx(|| format!("encoding lot {}", l.id()))?;
                self.lot
                    .execute(params![l.id().as_str(), doc])
                    .ctx(|| format!("storing lot {}", l.id()))?;
            }
            Change::PutShipment(s) => {
                let doc = to_string(s).ctx(|| format!("encoding shipment {}", s.id()))?;
                self.shipment
                    .execute(params![s.id().as_str(), doc])
                    .ctx(|| format!("storing shipment {}", s.id()))?;
            }
            Change::PutEvent(e) => {
                let idx = to_sql_int(e.index(), "log index")?;
                let terms =
                    to_string(e.terms()).ctx(|| format!("encoding event {}", e.event_id()))?;
                self.event
                    .execute(params![
                        idx,
                        e.event_id().as_str(),
                        e.event_type().as_str(),
                        e.event_time(),
                        e.record_time(),
                        e.captured_by().as_str(),
                        e.capture().as_str(),
                        terms,
                        e.event_text()
                    ])
                    .ctx(|| format!("storing event {}", e.event_id()))?;
                for term in e.terms() {
                    self.event_term
                        .execute(params![term, idx])
                        .ctx(|| format!("indexing event {}", e.event_id()))?;
                }
            }
            Change::LotEvent { lot, index } => {
                let idx = to_sql_int(*index, "log index")?;
                self.lot_event.execute(params![lot, idx]).ctx(|| {
                    format!("recording entry {index} as an event of lot {lot} (is the entry in the log?)")
                })?;
            }
            Change::PutAgreement(a) => {
                let doc = to_string(a).ctx(|| format!("encoding agreement {}", a.id))?;
                let overdue_from = a.overdue_from().map(|d| d.to_string());
                self.agreement
                    .execute(params![a.id.as_str(), doc, overdue_from])
                    .ctx(|| format!("storing agreement {}", a.id))?;
                self.index_terms(AGREEMENTS, a.id.as_str(), &a.terms())?;
            }
            Change::PutAgreementVersion(v) => {
                let what = || format!("agreement {} version {}", v.id(), v.version());
                let doc = to_string(v).ctx(|| format!("encoding {}", what()))?;
                self.agreement_version
                    .execute(params![v.id().as_str(), v.version(), doc])
                    .ctx(|| format!("storing {}", what()))?;
            }
            Change::PutClause(c) => {
                let what = || {
                    format!(
                        "clause {} of agreement {} version {}",
                        c.clause, c.agreement, c.version
                    )
                };
                let doc = to_string(c).ctx(|| format!("encoding {}", what()))?;
                self.clause
                    .execute(params![c.agreement.as_str(), c.version, c.clause, doc])
                    .ctx(|| format!("storing {}", what()))?;
            }
            Change::PutProgress(p) => {
                let agreement = &p.record().agreement;
                let what = || format!("progress report {} on agreement {agreement}", p.index());
                let idx = to_sql_int(p.index(), "log index")?;
                let doc = to_string(p).ctx(|| format!("encoding {}", what()))?;
                self.progress
                    .execute(params![agreement.as_str(), idx, doc])
                    .ctx(|| format!("storing {}", what()))?;
            }
            Change::PutReport(r) => {
                let doc = to_string(r).ctx(|| format!("encoding report {}", r.id()))?;
                self.report
                    .execute(params![r.id().as_str(), doc])
                    .ctx(|| format!("storing report {}", r.id()))?;
                self.index_terms(REPORTS, r.id().as_str(), &r.terms())?;
            }
            Change::PutResource(r) => {
                let doc = to_string(r).ctx(|| format!("encoding resource estimate {}", r.id()))?;
                self.resource
                    .execute(params![r.id().as_str(), doc])
                    .ctx(|| format!("storing resource estimate {}", r.id()))?;
                self.index_terms(RESOURCES, r.id().as_str(), &r.terms())?;
            }
        }
        Ok(())
    }
}

/// Where the reads of [`StateView`] run: a leased reader connection per
/// read ([`SqliteStore`]), or the one connection and read transaction of a
/// [`Snapshot`].
trait Reads {
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> StoreResult<T>;

    /// Reads one JSON document by key and decodes it.
    fn doc<T: Doc>(
        &self,
        what: &str,
        sql: &str,
        key: impl rusqlite::Params,
        id: impl fmt::Display,
    ) -> StoreResult<Option<T>> {
        self.read(|conn| {
            let doc: Option<String> = conn
                .prepare_cached(sql)
                .and_then(|mut s| s.query_row(key, |r| r.get(0)).optional())
                .ctx(|| format!("reading {what} {id}"))?;
            doc.map(|d| T::decode(&d).ctx(|| format!("decoding stored {what} {id}")))
                .transpose()
        })
    }
}

impl Reads for SqliteStore {
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> StoreResult<T> {
        SqliteStore::read(self, f)
    }
}

/// One read transaction on one reader connection: every read through it
/// sees the same state, the last commit made before it began
/// ([`Store::snapshot`]). Ended (rolled back: it wrote nothing) on drop.
pub struct Snapshot<'a> {
    conn: pool::Lease<'a>,
}

impl Reads for Snapshot<'_> {
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> StoreResult<T> {
        Ok(f(&self.conn)?)
    }
}

impl fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Snapshot")
    }
}

fn apply_all(conn: &Connection, changes: &[Change]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut appliers = Appliers::new(conn)?;
    changes.iter().try_for_each(|c| appliers.apply(c))
}

/// The log indices of a lot's entries, ascending.
fn lot_events_in(conn: &Connection, lot: &str) -> Result<Vec<u64>> {
    let mut stmt = conn
        .prepare_cached("SELECT idx FROM lot_events WHERE lot = ?1 ORDER BY idx")
        .ctx(|| format!("reading the events of lot {lot}"))?;
    let rows = stmt
        .query_map([lot], |r| r.get::<_, i64>(0))
        .ctx(|| format!("reading the events of lot {lot}"))?;
    rows.map(|idx| {
        from_sql_int(
            idx.ctx(|| format!("reading the events of lot {lot}"))?,
            "log index",
        )
    })
    .collect()
}

/// The [`StateView`] of the store and of a [`Snapshot`]: the same
/// statements, run through [`Reads::read`].
macro_rules! state_view {
    ($t:ty) => {
impl StateView for $t {
    fn lot_entries(&self, lot: &str) -> StoreResult<Vec<u64>> {
        self.read(|conn| lot_events_in(conn, lot))
    }
    fn party(&self, id: &str) -> StoreResult<Option<PartyState>> {
        self.doc("party", "SELECT doc FROM parties WHERE id = ?1", [id], id)
    }

    fn key(&self, name: &str, key_id: u32) -> StoreResult<Option<KeyState>> {
        self.doc(
            "key",
            "SELECT doc FROM keys WHERE name = ?1 AND key_id = ?2",
            params![name, key_id],
            format_args!("{name}+{key_id:08x}"),
        )
    }

    fn site(&self, id: &str) -> StoreResult<Option<SiteState>> {
        self.doc("site", "SELECT doc FROM sites WHERE id = ?1", [id], id)
    }

    fn lot(&self, id: &str) -> StoreResult<Option<LotState>> {
        self.doc("lot", "SELECT doc FROM lots WHERE id = ?1", [id], id)
    }

    fn shipment(&self, id: &str) -> StoreResult<Option<ShipmentState>> {
        self.doc(
            "shipment",
            "SELECT doc FROM shipments WHERE id = ?1",
            [id],
            id,
        )
    }

    fn find_record(&self, record_hash: &[u8; 32]) -> StoreResult<Option<u64>> {
        self.read(|conn| {
            let idx: Option<i64> = conn
                .prepare_cached("SELECT idx FROM entries WHERE record_hash = ?1")
                .and_then(|mut s| s.query_row([&record_hash[..]], |r| r.get(0)).optional())
                .ctx(|| "looking up a record hash")?;
            idx.map(|i| from_sql_int(i, "log index")).transpose()
        })
    }

    fn event_index(&self, event_id: &str) -> StoreResult<Option<u64>> {
        self.read(|conn| {
            let idx: Option<i64> = conn
                .prepare_cached("SELECT idx FROM events WHERE event_id = ?1")
                .and_then(|mut s| s.query_row([event_id], |r| r.get(0)).optional())
                .ctx(|| format!("looking up event {event_id}"))?;
            idx.map(|i| from_sql_int(i, "log index")).transpose()
        })
    }

    fn agreement(&self, id: &str) -> StoreResult<Option<AgreementState>> {
        self.doc(
            "agreement",
            "SELECT doc FROM agreements WHERE id = ?1",
            [id],
            id,
        )
    }

    fn agreement_version(&self, id: &str, version: u32) -> StoreResult<Option<VersionState>> {
        self.doc(
            "agreement version",
            "SELECT doc FROM agreement_versions WHERE id = ?1 AND version = ?2",
            params![id, version],
            format_args!("{id} version {version}"),
        )
    }

    fn clause(&self, id: &str, version: u32, clause: u32) -> StoreResult<Option<ClauseState>> {
        self.doc(
            "clause",
            "SELECT doc FROM agreement_clauses WHERE id = ?1 AND version = ?2 AND clause = ?3",
            params![id, version, clause],
            format_args!("{clause} of agreement {id} version {version}"),
        )
    }

    fn report(&self, id: &str) -> StoreResult<Option<ReportState>> {
        self.doc("report", "SELECT doc FROM reports WHERE id = ?1", [id], id)
    }

    fn resource(&self, id: &str) -> StoreResult<Option<ResourceState>> {
        self.doc(
            "resource estimate",
            "SELECT doc FROM resources WHERE id = ?1",
            [id],
            id,
        )
    }

    fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>> {
        // An index beyond what SQLite stores names no entry.
        let Ok(idx) = i64::try_from(index) else {
            return Ok(None);
        };
        self.read(|conn| {
            conn.prepare_cached("SELECT entry FROM entries WHERE idx = ?1")
                .and_then(|mut s| s.query_row([idx], |r| r.get(0)).optional())
                .ctx(|| format!("reading entry {index}"))
        })
    }
}
    };
}

state_view!(SqliteStore);
state_view!(Snapshot<'_>);

impl Store for SqliteStore {
    fn snapshot(&self) -> StoreResult<Box<dyn StateView + '_>> {
        let conn = self.readers.get()?;
        // Deferred: the snapshot is taken at the first read, and kept
        // until the lease is dropped (which rolls the transaction back).
        conn.execute_batch("BEGIN DEFERRED")
            .ctx(|| "starting a read snapshot")?;
        Ok(Box::new(Snapshot { conn }))
    }

    fn size(&self) -> StoreResult<u64> {
        self.read(size_of)
    }

    fn integrate(&self, batch: &Batch) -> StoreResult<()> {
        // The shape of the batch first, before taking any lock.
        for pair in batch.entries.windows(2) {
            if pair[0].index.checked_add(1) != Some(pair[1].index) {
                return Err(Error::Invalid(
                    ErrorKind::Conflict,
                    format!(
                        "entry index {} does not follow entry index {} in the batch",
                        pair[1].index, pair[0].index
                    ),
                )
                .into());
            }
        }
        self.write("appending a batch", |tx| {
            let size = size_of(tx)?;
            if let Some(first) = batch.entries.first()
                && first.index != size
            {
                return Err(Error::Invalid(ErrorKind::Conflict, format!(
                    "entry index {} is not the next index {size}: nothing written",
                    first.index
                )));
            }
            {
                let mut insert = tx
                    .prepare_cached("INSERT INTO entries (idx, entry, record_hash, kind) VALUES (?1, ?2, ?3, ?4)")
                    .ctx(|| "preparing the entry insert")?;
                for row in &batch.entries {
                    let idx = to_sql_int(row.index, "log index")?;
                    insert.execute(params![idx, row.entry, &row.record_hash[..], row.kind]).map_err(|e| {
                        if is_unique_violation(&e) {
                            Error::Invalid(ErrorKind::Conflict, format!(
                                "record of entry {} is already stored (or twice in the batch): nothing written",
                                row.index
                            ))
                        } else {
                            Error::Sqlite { context: format!("storing entry {}", row.index), source: e }
                        }
                    })?;
                }
            }
            {
                let mut insert = tx
                    .prepare_cached("INSERT INTO hashes (level, idx, hash) VALUES (?1, ?2, ?3)")
                    .ctx(|| "preparing the hash insert")?;
                for (id, hash) in &batch.hashes {
                    let idx = to_sql_int(id.index, "node index")?;
                    insert.execute(params![id.level, idx, &hash.0[..]]).map_err(|e| {
                        if is_unique_violation(&e) {
                            Error::Invalid(ErrorKind::Conflict, format!("a hash is already stored at {id}: nothing written"))
                        } else {
                            Error::Sqlite { context: format!("storing the hash at {id}"), source: e }
                        }
                    })?;
                }
            }
            apply_all(tx, &batch.changes)
        })?;
        self.checkpointer.poke();
        Ok(())
    }

    fn read_hashes(&self, ids: &[NodeId]) -> StoreResult<Vec<Hash>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.read_snapshot("reading hashes", |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT hash FROM hashes WHERE level = ?1 AND idx = ?2")
                .ctx(|| "preparing the hash lookup")?;
            ids.iter()
                .map(|id| {
                    let idx = to_sql_int(id.index, "node index")?;
                    let hash = stmt
                        .query_row(params![id.level, idx], |r| {
                            let blob = r.get_ref(0)?.as_blob()?;
                            Ok(<[u8; 32]>::try_from(blob).map_err(|_| blob.len()))
                        })
                        .optional()
                        .ctx(|| format!("reading the hash at {id}"))?;
                    match hash {
                        Some(Ok(hash)) => Ok(Hash(hash)),
                        Some(Err(len)) => Err(Error::Invalid(
                            ErrorKind::Corrupt,
                            format!("the stored hash at {id} is {len} bytes, not 32"),
                        )),
                        None => Err(Error::Invalid(
                            ErrorKind::NotFound,
                            format!("no stored hash at {id}"),
                        )),
                    }
                })
                .collect()
        })
    }

    fn read_entries(&self, start: u64, count: u64) -> StoreResult<Vec<Vec<u8>>> {
        let end = start
            .checked_add(count)
            .ok_or_else(|| Error::Invalid(ErrorKind::NotFound, "entry range overflows".into()))?;
        let (lo, hi) = (
            to_sql_int(start, "log index")?,
            to_sql_int(end, "log index")?,
        );
        self.read_snapshot("reading entries", |conn| {
            let size = size_of(conn)?;
            if end > size {
                return Err(Error::Invalid(
                    ErrorKind::NotFound,
                    format!("entries {start}..{end} are beyond the log size {size}"),
                ));
            }
            let mut stmt = conn
                .prepare_cached(
                    "SELECT entry FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
                )
                .ctx(|| "preparing the entry read")?;
            let rows = stmt
                .query_map([lo, hi], |r| r.get(0))
                .ctx(|| format!("reading entries {start}..{end}"))?;
            let entries = rows
                .collect::<rusqlite::Result<Vec<Vec<u8>>>>()
                .ctx(|| format!("reading entries {start}..{end}"))?;
            if entries.len() as u64 != count {
                return Err(Error::Invalid(
                    ErrorKind::Corrupt,
                    format!(
                        "entries {start}..{end}: {} stored, the log has a gap",
                        entries.len()
                    ),
                ));
            }
            Ok(entries)
        })
    }

    fn checkpoint(&self) -> StoreResult<Option<Vec<u8>>> {
        self.read(|conn| {
            conn.prepare_cached("SELECT note FROM checkpoint WHERE id = 1")
                .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
                .ctx(|| "reading the checkpoint")
        })
    }

    fn swap_checkpoint(&self, prev: Option<&[u8]>, next: &[u8]) -> StoreResult<bool> {
        Ok(self.write("swapping the checkpoint", |tx| {
            let current: Option<Vec<u8>> = tx
                .prepare_cached("SELECT note FROM checkpoint WHERE id = 1")
                .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
                .ctx(|| "reading the checkpoint")?;
            if current.as_deref() != prev {
                return Ok(false); // Committing an unchanged transaction writes nothing.
            }
            tx.prepare_cached(
                "INSERT INTO checkpoint (id, note) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET note = excluded.note",
            )
            .and_then(|mut s| s.execute([next]))
            .ctx(|| "storing the checkpoint")?;
            Ok(true)
        })?)
    }

    fn lot_events(&self, lot: &str) -> StoreResult<Vec<u64>> {
        self.read(|conn| lot_events_in(conn, lot))
    }

    fn event(&self, event_id: &str) -> StoreResult<Option<EventState>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?1"
            ))
            .and_then(|mut s| s.query_row([event_id], event_row).optional())
            .ctx(|| format!("reading event {event_id}"))?
            .map(|row| row.decode())
            .transpose()
        })
    }

    fn select_events(&self, select: &EventSelect) -> StoreResult<Vec<EventState>> {
        let one_term =
            matches!(select.any_terms.as_deref(), Some([_])) && select.order == EventOrder::Index;
        let sort = match select.order {
            EventOrder::Index if one_term => "t.idx",
            EventOrder::Index => "e.idx",
            EventOrder::EventTime => "e.event_time",
            EventOrder::RecordTime => "e.record_time",
        };
        let (cmp, dir) = if select.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        let columns = EVENT_COLUMNS
            .split(", ")
            .map(|c| format!("e.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let cursor_index = select
            .after
            .map(|(_, index)| to_sql_int(index, "log index"))
            .transpose()?;
        let mut sql = match select.any_terms.as_deref() {
            Some([]) => return Ok(Vec::new()),
            // One term in capture order: walk that term's entries of
            // `event_terms` from the cursor (a keyset scan of its index).
            Some([term]) if one_term => {
                args.push(term.clone().into());
                let mut sql = format!(
                    "SELECT {columns} FROM event_terms t JOIN events e ON e.idx = t.idx \
                     WHERE t.term = ?"
                );
                if let Some(index) = cursor_index {
                    sql.push_str(&format!(" AND t.idx {cmp} ?"));
                    args.push(index.into());
                }
                sql
            }
            Some(terms) => {
                let mut sql = format!(
                    "SELECT {columns} FROM events e WHERE e.idx IN \
                     (SELECT idx FROM event_terms WHERE term IN ("
                );
                for (i, t) in terms.iter().enumerate() {
                    sql.push_str(if i == 0 { "?" } else { ", ?" });
                    args.push(t.clone().into());
                }
                sql.push(')');
                if let (EventOrder::Index, Some(index)) = (select.order, cursor_index) {
                    sql.push_str(&format!(" AND idx {cmp} ?"));
                    args.push(index.into());
                }
                sql.push(')');
                sql
            }
            None => format!("SELECT {columns} FROM events e WHERE 1"),
        };
        for (column, (from, to)) in [
            ("e.event_time", select.event_time),
            ("e.record_time", select.record_time),
        ] {
            if let Some(from) = from {
                sql.push_str(&format!(" AND {column} >= ?"));
                args.push(from.into());
            }
            if let Some(to) = to {
                sql.push_str(&format!(" AND {column} < ?"));
                args.push(to.into());
            }
        }
        if let (Some((key, _)), Some(index)) = (select.after, cursor_index) {
            // The plain bound on the sort column lets the planner use its
            // index; the row value breaks ties by index.
            let bound = if select.descending { "<=" } else { ">=" };
            if select.order == EventOrder::Index {
                if !one_term {
                    sql.push_str(&format!(" AND e.idx {cmp} ?"));
                    args.push(index.into());
                }
            } else {
                sql.push_str(&format!(
                    " AND {sort} {bound} ? AND ({sort}, e.idx) {cmp} (?, ?)"
                ));
                args.push(key.into());
                args.push(key.into());
                args.push(index.into());
            }
        }
        if select.order == EventOrder::Index {
            sql.push_str(&format!(" ORDER BY {sort} {dir} LIMIT ?"));
        } else {
            sql.push_str(&format!(" ORDER BY {sort} {dir}, e.idx {dir} LIMIT ?"));
        }
        args.push(i64::try_from(select.limit).unwrap_or(i64::MAX).into());
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&sql).ctx(|| "selecting events")?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), event_row)
                .ctx(|| "selecting events")?;
            rows.map(|row| row.ctx(|| "selecting events")?.decode())
                .collect()
        })
    }

    fn event_term_values(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        let limit = limit.min(EVENT_TERM_VALUES_MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        // The terms under the prefix are `[prefix, end)` in the BINARY
        // collation (the UTF-8 bytes): `end` is a valid string, so it binds
        // as text (see `term_prefix_end`); without one, `[prefix, …)`.
        // Each value is one seek (`TERM_SEEKS`) on the (term, idx) key:
        // the least term past the last one, whichever events carry it.
        let end = term_prefix_end(prefix);
        let [first, next] = TERM_SEEKS[usize::from(end.is_some())];
        let what = format!("listing the index terms under {prefix:?}");
        // Every seek in one read transaction: one state.
        self.read_snapshot(&what, |conn| {
            let seek = |sql: &str, from: &str| -> Result<Option<String>> {
                let mut stmt = conn.prepare_cached(sql).ctx(|| what.clone())?;
                match &end {
                    Some(end) => stmt.query_row(params![from, end], |r| r.get(0)),
                    None => stmt.query_row(params![from], |r| r.get(0)),
                }
                .optional()
                .ctx(|| what.clone())
            };
            let mut term = match after {
                Some(after) if after >= prefix => seek(next, after)?,
                _ => seek(first, prefix)?,
            };
            let mut values = Vec::new();
            while let Some(value) = term {
                values.push(value);
                if values.len() == limit {
                    break;
                }
                term = seek(next, &values[values.len() - 1])?;
            }
            Ok(values)
        })
    }

    fn parties(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<PartyState>> {
        self.docs("party", "parties", after, limit)
    }

    fn sites(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<SiteState>> {
        self.docs("site", "sites", after, limit)
    }

    fn lots(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<LotState>> {
        self.docs("lot", "lots", after, limit)
    }

    fn shipments(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<ShipmentState>> {
        self.docs("shipment", "shipments", after, limit)
    }

    fn agreements(&self, select: &Select) -> StoreResult<Vec<AgreementState>> {
        self.select_docs(AGREEMENTS, select, true)
    }

    fn agreement_versions(&self, id: &str) -> StoreResult<Vec<VersionState>> {
        self.read(|conn| {
            Self::query_docs(
                conn,
                &format!("versions of agreement {id}"),
                "SELECT doc FROM agreement_versions WHERE id = ?1 ORDER BY version",
                [id],
            )
        })
    }

    fn clauses(
        &self,
        id: &str,
        version: u32,
        after: Option<u32>,
        limit: usize,
    ) -> StoreResult<Vec<ClauseState>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // -1 comes before every clause.
        let after = after.map_or(-1, i64::from);
        self.read(|conn| {
            Self::query_docs(
                conn,
                &format!("revealed clauses of agreement {id} version {version}"),
                "SELECT doc FROM agreement_clauses WHERE id = ?1 AND version = ?2 AND clause > ?3 \
                 ORDER BY clause LIMIT ?4",
                params![id, version, after, limit],
            )
        })
    }

    fn progress(
        &self,
        id: &str,
        after: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<ProgressState>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let after = match after {
            None => -1,
            Some(a) => match i64::try_from(a) {
                Ok(a) => a,
                // Beyond every index SQLite stores: nothing comes after.
                Err(_) => return Ok(Vec::new()),
            },
        };
        self.read(|conn| {
            Self::query_docs(
                conn,
                &format!("progress reports on agreement {id}"),
                "SELECT doc FROM agreement_progress WHERE id = ?1 AND idx > ?2 ORDER BY idx LIMIT ?3",
                params![id, after, limit],
            )
        })
    }

    fn reports(&self, select: &Select) -> StoreResult<Vec<ReportState>> {
        self.select_docs(REPORTS, select, false)
    }

    fn resources(&self, select: &Select) -> StoreResult<Vec<ResourceState>> {
        self.select_docs(RESOURCES, select, false)
    }

    fn clear_projections(&self) -> StoreResult<()> {
        Ok(self.write("clearing the projections", |tx| {
            tx.execute_batch(
                "DELETE FROM parties; DELETE FROM keys; DELETE FROM sites; \
                 DELETE FROM lots; DELETE FROM shipments; DELETE FROM lot_events; \
                 DELETE FROM event_terms; DELETE FROM events; \
                 DELETE FROM agreement_terms; DELETE FROM agreements; \
                 DELETE FROM agreement_versions; DELETE FROM agreement_clauses; \
                 DELETE FROM agreement_progress; DELETE FROM report_terms; DELETE FROM reports; \
                 DELETE FROM resource_terms; DELETE FROM resources; \
                 INSERT INTO rebuild (id, next) VALUES (1, 0) \
                 ON CONFLICT (id) DO UPDATE SET next = 0;",
            )
            .ctx(|| "clearing the projections")
        })?)
    }

    fn apply_changes(&self, changes: &[Change], through: u64) -> StoreResult<()> {
        let next = to_sql_int(through, "log index")?;
        Ok(self.write("applying projection changes", |tx| {
            apply_all(tx, changes)?;
            tx.prepare_cached(
                "INSERT INTO rebuild (id, next) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET next = excluded.next",
            )
            .and_then(|mut s| s.execute([next]))
            .ctx(|| "recording the rebuild's progress")?;
            Ok(())
        })?)
    }

    fn rebuild_progress(&self) -> StoreResult<Option<u64>> {
        self.read(|conn| {
            let next: Option<i64> = conn
                .prepare_cached("SELECT next FROM rebuild WHERE id = 1")
                .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
                .ctx(|| "reading the rebuild's progress")?;
            next.map(|n| from_sql_int(n, "rebuild progress"))
                .transpose()
        })
    }

    fn finish_rebuild(&self) -> StoreResult<()> {
        Ok(self.write("finishing the rebuild", |tx| {
            tx.execute("DELETE FROM rebuild", [])
                .ctx(|| "recording the finished rebuild")?;
            Ok(())
        })?)
    }

    fn named_query(&self, name: &str) -> StoreResult<Option<NamedQueryRow>> {
        self.read(|conn| {
            conn.prepare_cached("SELECT name, owner, query FROM named_queries WHERE name = ?1")
                .and_then(|mut s| s.query_row([name], named_query_row).optional())
                .ctx(|| format!("reading named query {name}"))
        })
    }

    fn named_queries(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<NamedQueryRow>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT name, owner, query FROM named_queries
                 WHERE ?1 IS NULL OR name > ?1 ORDER BY name LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![after, limit_of(limit)], named_query_row)?
                    .collect()
            })
            .ctx(|| "listing named queries")
        })
    }

    fn insert_named_query(&self, row: &NamedQueryRow, quota: Quota) -> StoreResult<Inserted> {
        Ok(self.write("storing a named query", |tx| {
            let (exists, mine, all): (bool, i64, i64) = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM named_queries WHERE name = ?1),
                            (SELECT count(*) FROM named_queries WHERE owner = ?2),
                            (SELECT count(*) FROM named_queries)",
                )
                .and_then(|mut s| {
                    s.query_row(params![row.name, row.owner], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                })
                .ctx(|| "counting named queries")?;
            if let Some(refusal) = refusal(exists, mine, all, quota) {
                return Ok(refusal);
            }
            tx.prepare_cached("INSERT INTO named_queries (name, owner, query) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| s.execute(params![row.name, row.owner, row.query]))
                .ctx(|| format!("storing named query {}", row.name))?;
            Ok(Inserted::Done)
        })?)
    }

    fn delete_named_query(&self, name: &str, owner: &str) -> StoreResult<Removed> {
        Ok(self.write("deleting a named query", |tx| {
            let defined_by: Option<String> = tx
                .prepare_cached("SELECT owner FROM named_queries WHERE name = ?1")
                .and_then(|mut s| s.query_row([name], |r| r.get(0)).optional())
                .ctx(|| format!("reading named query {name}"))?;
            let Some(defined_by) = defined_by else {
                return Ok(Removed::Missing);
            };
            if defined_by != owner {
                return Ok(Removed::NotOwner(defined_by));
            }
            let others: i64 = tx
                .prepare_cached(
                    "SELECT count(*) FROM subscriptions WHERE query = ?1 AND owner <> ?2",
                )
                .and_then(|mut s| s.query_row([name, owner], |r| r.get(0)))
                .ctx(|| format!("counting subscriptions to {name}"))?;
            if others > 0 {
                return Ok(Removed::Subscribed(others as u64));
            }
            let subscriptions = tx
                .prepare_cached("DELETE FROM subscriptions WHERE query = ?1")
                .and_then(|mut s| s.execute([name]))
                .ctx(|| format!("deleting subscriptions to {name}"))?;
            tx.prepare_cached("DELETE FROM named_queries WHERE name = ?1")
                .and_then(|mut s| s.execute([name]))
                .ctx(|| format!("deleting named query {name}"))?;
            Ok(Removed::Done {
                subscriptions: subscriptions as u64,
            })
        })?)
    }

    fn subscription(&self, id: &str) -> StoreResult<Option<SubscriptionRow>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"
            ))
            .and_then(|mut s| s.query_row([id], subscription_row).optional())
            .ctx(|| format!("reading subscription {id}"))
        })
    }

    fn subscriptions(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<SubscriptionRow>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions
                 WHERE owner = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3"
            ))
            .and_then(|mut s| {
                s.query_map(params![owner, after, limit_of(limit)], subscription_row)?
                    .collect()
            })
            .ctx(|| format!("listing the subscriptions of {owner}"))
        })
    }

    fn insert_subscription(&self, row: &SubscriptionRow, quota: Quota) -> StoreResult<Inserted> {
        Ok(self.write("storing a subscription", |tx| {
            let (exists, query, mine, all): (bool, bool, i64, i64) = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE id = ?1),
                            EXISTS (SELECT 1 FROM named_queries WHERE name = ?2),
                            (SELECT count(*) FROM subscriptions WHERE owner = ?3),
                            (SELECT count(*) FROM subscriptions)",
                )
                .and_then(|mut s| {
                    s.query_row(params![row.id, row.query, row.owner], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                })
                .ctx(|| "counting subscriptions")?;
            if !exists && !query {
                return Ok(Inserted::NoQuery);
            }
            if let Some(refusal) = refusal(exists, mine, all, quota) {
                return Ok(refusal);
            }
            tx.prepare_cached(&format!(
                "INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    row.id,
                    row.owner,
                    row.query,
                    row.spec,
                    row.progress,
                    row.due_ms,
                    row.version as i64
                ])
            })
            .ctx(|| format!("storing subscription {}", row.id))?;
            Ok(Inserted::Done)
        })?)
    }

    fn delete_subscription(&self, id: &str, owner: &str) -> StoreResult<bool> {
        Ok(self.write("deleting a subscription", |tx| {
            let n = tx
                .prepare_cached("DELETE FROM subscriptions WHERE id = ?1 AND owner = ?2")
                .and_then(|mut s| s.execute([id, owner]))
                .ctx(|| format!("deleting subscription {id}"))?;
            Ok(n == 1)
        })?)
    }

    fn due_subscriptions(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<SubscriptionRow>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions
                 WHERE due_ms IS NOT NULL AND due_ms <= ?1 ORDER BY due_ms, id LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![now_ms, limit_of(limit)], subscription_row)?
                    .collect()
            })
            .ctx(|| "listing due subscriptions")
        })
    }

    fn advance_subscription(
        &self,
        id: &str,
        expected: u64,
        progress: &str,
        due_ms: Option<i64>,
    ) -> StoreResult<bool> {
        Ok(self.write("advancing a subscription", |tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE subscriptions SET progress = ?3, due_ms = ?4, version = version + 1
                     WHERE id = ?1 AND version = ?2",
                )
                .and_then(|mut s| s.execute(params![id, expected as i64, progress, due_ms]))
                .ctx(|| format!("advancing subscription {id}"))?;
            Ok(n == 1)
        })?)
    }
}

const SUBSCRIPTION_COLUMNS: &str = "id, owner, query, spec, progress, due_ms, version";

fn named_query_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NamedQueryRow> {
    Ok(NamedQueryRow {
        name: r.get(0)?,
        owner: r.get(1)?,
        query: r.get(2)?,
    })
}

fn subscription_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SubscriptionRow> {
    Ok(SubscriptionRow {
        id: r.get(0)?,
        owner: r.get(1)?,
        query: r.get(2)?,
        spec: r.get(3)?,
        progress: r.get(4)?,
        due_ms: r.get(5)?,
        version: r.get::<_, i64>(6)?.max(0) as u64,
    })
}

/// A listing's `LIMIT`.
fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Why an insert is refused, if it is: the key taken, or a quota reached.
fn refusal(exists: bool, mine: i64, all: i64, quota: Quota) -> Option<Inserted> {
    let at = |n: i64, limit: u64| u64::try_from(n).unwrap_or(0) >= limit;
    if exists {
        Some(Inserted::Exists)
    } else if at(mine, quota.per_owner) {
        Some(Inserted::OwnerFull)
    } else if at(all, quota.total) {
        Some(Inserted::AllFull)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each seek of `event_term_values` searches the `event_terms` key
    /// (no scan, no sort) however many rows it holds.
    #[test]
    fn term_seeks_search_the_event_terms_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let plans = store
            .read(|conn| {
                let mut plans = Vec::new();
                for sql in TERM_SEEKS.iter().flatten() {
                    let mut stmt = conn
                        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                        .ctx(|| "explaining")?;
                    let args: &[&str] = if sql.contains("?2") {
                        &["a=", "a>"]
                    } else {
                        &["a="]
                    };
                    let details = stmt
                        .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
                        .ctx(|| "explaining")?
                        .collect::<rusqlite::Result<Vec<String>>>()
                        .ctx(|| "explaining")?;
                    plans.push((*sql, details));
                }
                Ok(plans)
            })
            .unwrap();
        for (sql, details) in plans {
            assert_eq!(details.len(), 1, "{sql}: {details:?}");
            let plan = &details[0];
            assert!(
                plan.starts_with("SEARCH event_terms USING PRIMARY KEY (term>"),
                "{sql}: {plan}"
            );
            assert!(
                !plan.contains("SCAN") && !plan.contains("TEMP B-TREE"),
                "{sql}: {plan}"
            );
        }
    }
}
