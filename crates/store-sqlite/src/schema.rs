//! The schema, its migrations and the per-connection settings.
//!
//! The schema version is SQLite's `user_version`: the number of entries of
//! [`MIGRATIONS`] applied. Each migration runs in its own IMMEDIATE
//! transaction together with the bump of `user_version`, so a crash leaves
//! the database at one version or the next, never between. A database at a
//! version this build does not know is refused, untouched.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use oretrace_ledger::store::ErrorKind;

use crate::error::{Context as _, Error, Result};

/// `application_id` of an oretrace database: "ORET" in ASCII.
pub(crate) const APPLICATION_ID: i64 = 0x4F52_4554;

/// How long a connection waits for a lock held by another connection
/// (another process, or a WAL checkpoint) before failing.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The writer checkpoints the WAL itself past this many pages (256 MiB
/// at 4 KiB pages): only when the checkpoint thread falls far behind.
pub(crate) const WAL_BACKSTOP_PAGES: i64 = 65_536;

/// Page cache of the writer (negative: KiB), 64 MiB.
const WRITER_CACHE_KIB: i64 = -64 * 1024;

/// Page cache of each reader, 8 MiB.
const READER_CACHE_KIB: i64 = -8 * 1024;

/// The migrations, oldest first. Never edit one that has shipped: append.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the log, its stored subtree hashes, the checkpoint, projections.
    "
    -- The log. idx is the rowid: appends go to the right edge of the tree.
    CREATE TABLE entries (
        idx         INTEGER PRIMARY KEY CHECK (idx >= 0),
        entry       BLOB    NOT NULL,
        record_hash BLOB    NOT NULL UNIQUE CHECK (length(record_hash) = 32),
        kind        TEXT    NOT NULL
    ) STRICT;

    -- Every full subtree hash, by (level, index) as oretrace_tlog names it.
    CREATE TABLE hashes (
        level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),
        idx   INTEGER NOT NULL CHECK (idx >= 0),
        hash  BLOB    NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
    ) STRICT, WITHOUT ROWID;

    -- The published checkpoint note: one row at most.
    CREATE TABLE checkpoint (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        note BLOB    NOT NULL
    ) STRICT;

    -- Projections: JSON documents of the ledger's state structs, by id.
    CREATE TABLE parties   (id TEXT NOT NULL PRIMARY KEY, doc TEXT NOT NULL) STRICT;
    CREATE TABLE sites     (id TEXT NOT NULL PRIMARY KEY, doc TEXT NOT NULL) STRICT;
    CREATE TABLE lots      (id TEXT NOT NULL PRIMARY KEY, doc TEXT NOT NULL) STRICT;
    CREATE TABLE shipments (id TEXT NOT NULL PRIMARY KEY, doc TEXT NOT NULL) STRICT;
    CREATE TABLE keys (
        name   TEXT    NOT NULL,
        key_id INTEGER NOT NULL CHECK (key_id BETWEEN 0 AND 4294967295),
        doc    TEXT    NOT NULL,
        PRIMARY KEY (name, key_id)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE lot_events (
        lot TEXT    NOT NULL,
        idx INTEGER NOT NULL REFERENCES entries (idx),
        PRIMARY KEY (lot, idx)
    ) STRICT, WITHOUT ROWID;
    ",
    // 2: captured EPCIS events and their query index terms.
    "
    CREATE TABLE events (
        idx         INTEGER PRIMARY KEY REFERENCES entries (idx),
        event_id    TEXT    NOT NULL UNIQUE,
        event_type  TEXT    NOT NULL,
        event_time  INTEGER NOT NULL,
        record_time INTEGER NOT NULL,
        captured_by TEXT    NOT NULL,
        capture     TEXT    NOT NULL,
        terms       TEXT    NOT NULL, -- JSON array of the terms below
        event       TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX events_by_event_time  ON events (event_time, idx);
    CREATE INDEX events_by_record_time ON events (record_time, idx);
    CREATE TABLE event_terms (
        term TEXT    NOT NULL,
        idx  INTEGER NOT NULL REFERENCES events (idx),
        PRIMARY KEY (term, idx)
    ) STRICT, WITHOUT ROWID;
    ",
    // 3: agreements (a summary each, every version, revealed clauses,
    // progress reports), reports and resource estimates, with the terms
    // their listings filter on (and, by id, to replace an item's terms
    // and to check the foreign key when an item is deleted).
    "
    -- overdue_from is YYYY-MM-DD (years 1 to 9999): text order is date order.
    CREATE TABLE agreements (
        id           TEXT NOT NULL PRIMARY KEY,
        doc          TEXT NOT NULL,
        overdue_from TEXT CHECK (overdue_from IS NULL OR length(overdue_from) = 10)
    ) STRICT;
    CREATE TABLE agreement_terms (
        term TEXT NOT NULL,
        id   TEXT NOT NULL REFERENCES agreements (id),
        PRIMARY KEY (term, id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX agreement_terms_by_id ON agreement_terms (id);
    CREATE TABLE agreement_versions (
        id      TEXT    NOT NULL,
        version INTEGER NOT NULL CHECK (version BETWEEN 0 AND 4294967295),
        doc     TEXT    NOT NULL,
        PRIMARY KEY (id, version)
    ) STRICT;
    CREATE TABLE agreement_clauses (
        id      TEXT    NOT NULL,
        version INTEGER NOT NULL CHECK (version BETWEEN 0 AND 4294967295),
        clause  INTEGER NOT NULL CHECK (clause BETWEEN 0 AND 4294967295),
        doc     TEXT    NOT NULL,
        PRIMARY KEY (id, version, clause)
    ) STRICT;
    CREATE TABLE agreement_progress (
        id  TEXT    NOT NULL,
        idx INTEGER NOT NULL CHECK (idx >= 0),
        doc TEXT    NOT NULL,
        PRIMARY KEY (id, idx)
    ) STRICT;
    CREATE TABLE reports (id TEXT NOT NULL PRIMARY KEY, doc TEXT NOT NULL) STRICT;
    CREATE TABLE report_terms (
        term TEXT NOT NULL,
        id   TEXT NOT NULL REFERENCES reports (id),
        PRIMARY KEY (term, id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX report_terms_by_id ON report_terms (id);
    CREATE TABLE resources (id TEXT NOT NULL PRIMARY KEY, doc TEXT NOT NULL) STRICT;
    CREATE TABLE resource_terms (
        term TEXT NOT NULL,
        id   TEXT NOT NULL REFERENCES resources (id),
        PRIMARY KEY (term, id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX resource_terms_by_id ON resource_terms (id);
    ",
    // 4: what listings by term need to walk few rows. How many items
    // carry each term, kept by triggers in the transaction that changes
    // the terms (so exact in every snapshot): a listing walks the index of
    // the rarest of its terms. And the agreements that can fall overdue,
    // by id, with the day they do: a listing of overdue agreements walks
    // it, or probes it for each id a term yields, and compares the day in
    // the index, reading an agreement's row (its document) only once it
    // passes.
    "
    CREATE TABLE agreement_term_counts (
        term TEXT    NOT NULL PRIMARY KEY,
        n    INTEGER NOT NULL CHECK (n >= 0)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO agreement_term_counts (term, n)
        SELECT term, count(*) FROM agreement_terms GROUP BY term;
    CREATE TRIGGER agreement_terms_counted AFTER INSERT ON agreement_terms BEGIN
        INSERT INTO agreement_term_counts (term, n) VALUES (new.term, 1)
            ON CONFLICT (term) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER agreement_terms_uncounted AFTER DELETE ON agreement_terms BEGIN
        UPDATE agreement_term_counts SET n = n - 1 WHERE term = old.term;
    END;

    CREATE TABLE report_term_counts (
        term TEXT    NOT NULL PRIMARY KEY,
        n    INTEGER NOT NULL CHECK (n >= 0)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO report_term_counts (term, n)
        SELECT term, count(*) FROM report_terms GROUP BY term;
    CREATE TRIGGER report_terms_counted AFTER INSERT ON report_terms BEGIN
        INSERT INTO report_term_counts (term, n) VALUES (new.term, 1)
            ON CONFLICT (term) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER report_terms_uncounted AFTER DELETE ON report_terms BEGIN
        UPDATE report_term_counts SET n = n - 1 WHERE term = old.term;
    END;

    CREATE TABLE resource_term_counts (
        term TEXT    NOT NULL PRIMARY KEY,
        n    INTEGER NOT NULL CHECK (n >= 0)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO resource_term_counts (term, n)
        SELECT term, count(*) FROM resource_terms GROUP BY term;
    CREATE TRIGGER resource_terms_counted AFTER INSERT ON resource_terms BEGIN
        INSERT INTO resource_term_counts (term, n) VALUES (new.term, 1)
            ON CONFLICT (term) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER resource_terms_uncounted AFTER DELETE ON resource_terms BEGIN
        UPDATE resource_term_counts SET n = n - 1 WHERE term = old.term;
    END;

    CREATE INDEX agreements_overdue ON agreements (id, overdue_from)
        WHERE overdue_from IS NOT NULL;
    ",
    // 5: a rebuild of the projections under way: the projections hold the
    // changes of the entries before `next` only. Written in the
    // transactions that clear and refill them, so a crash part way leaves
    // a rebuild the next start resumes.
    "
    CREATE TABLE rebuild (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        next INTEGER NOT NULL CHECK (next >= 0)
    ) STRICT;
    ",
    // 6: records' events. The rules now store the EPCIS event of each
    // record that states one (a lot, an assay, a shipment, a receipt, a
    // transformation), not only captured events: projections built before
    // lack them. A database with a published log drops its projections
    // and records a rebuild from entry 0 (what `clear_projections` does),
    // which the ledger finishes before it sequences (`Ledger::promote`):
    // the rules replayed give the records their events, and the log is
    // not touched. A database with no checkpoint has nothing to rebuild.
    "
    DELETE FROM parties; DELETE FROM keys; DELETE FROM sites;
    DELETE FROM lots; DELETE FROM shipments; DELETE FROM lot_events;
    DELETE FROM event_terms; DELETE FROM events;
    DELETE FROM agreement_terms; DELETE FROM agreements;
    DELETE FROM agreement_versions; DELETE FROM agreement_clauses;
    DELETE FROM agreement_progress; DELETE FROM report_terms; DELETE FROM reports;
    DELETE FROM resource_terms; DELETE FROM resources;
    INSERT INTO rebuild (id, next) SELECT 1, 0 WHERE EXISTS (SELECT 1 FROM checkpoint)
        ON CONFLICT (id) DO UPDATE SET next = 0;
    ",
    // 7: named queries and subscriptions: parties' preferences kept beside
    // the log, not projections (a rebuild leaves them).
    "
    CREATE TABLE named_queries (
        name  TEXT NOT NULL PRIMARY KEY,
        owner TEXT NOT NULL,
        query TEXT NOT NULL
    ) STRICT;
    CREATE INDEX named_queries_owner ON named_queries (owner);
    CREATE TABLE subscriptions (
        id       TEXT NOT NULL PRIMARY KEY,
        owner    TEXT NOT NULL,
        query    TEXT NOT NULL REFERENCES named_queries (name),
        spec     TEXT NOT NULL,
        progress TEXT NOT NULL,
        due_ms   INTEGER,
        version  INTEGER NOT NULL CHECK (version >= 0)
    ) STRICT;
    CREATE INDEX subscriptions_owner ON subscriptions (owner, id);
    CREATE INDEX subscriptions_query ON subscriptions (query);
    CREATE INDEX subscriptions_due ON subscriptions (due_ms, id) WHERE due_ms IS NOT NULL;
    ",
];

/// Opens (creating it if absent) the database as the one writer: WAL,
/// `synchronous=FULL`, foreign keys, busy timeout; then migrates it.
pub(crate) fn open_writer(path: &Path) -> Result<Connection> {
    let ctx = || format!("opening {}", path.display());
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ctx(ctx)?;
    conn.busy_timeout(BUSY_TIMEOUT).ctx(ctx)?;
    // Before anything writes: is this ours?
    check_identity(&conn, path)?;

    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .ctx(ctx)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Invalid(
            ErrorKind::Incompatible,
            format!(
                "{}: the database refused WAL mode (journal_mode is {mode}); is it on a network filesystem?",
                path.display()
            ),
        ));
    }
    // FULL: in WAL mode the WAL is fsynced at every commit, so a commit is
    // durable when it returns.
    conn.pragma_update(None, "synchronous", "FULL").ctx(ctx)?;
    conn.pragma_update(None, "foreign_keys", true).ctx(ctx)?;
    let fk: bool = conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .ctx(ctx)?;
    if !fk {
        return Err(Error::Invalid(
            ErrorKind::Incompatible,
            format!("{}: foreign keys could not be enabled", path.display()),
        ));
    }
    // Checkpoints run on their own thread (see `checkpointer`); the
    // writer checkpoints only if that thread falls far behind.
    conn.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)
        .ctx(ctx)?;
    // After a checkpoint, truncate a WAL left bigger than this.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        .ctx(ctx)?;
    // A 1000-entry batch dirties ~1500 pages, mostly random index pages
    // (record hashes, lots, lot events): keep the hot part of the indexes
    // in memory and never spill mid-transaction.
    conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)
        .ctx(ctx)?;
    conn.set_prepared_statement_cache_capacity(64);

    migrate(&mut conn, path)?;
    Ok(conn)
}

/// Opens a read-only connection to a database the writer has opened (and
/// so created, put in WAL mode and migrated).
pub(crate) fn open_reader(path: &Path) -> Result<Connection> {
    let ctx = || format!("opening a reader of {}", path.display());
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ctx(ctx)?;
    conn.busy_timeout(BUSY_TIMEOUT).ctx(ctx)?;
    conn.pragma_update(None, "synchronous", "FULL").ctx(ctx)?;
    conn.pragma_update(None, "foreign_keys", true).ctx(ctx)?;
    conn.pragma_update(None, "cache_size", READER_CACHE_KIB)
        .ctx(ctx)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// Opens the connection that checkpoints the WAL into the database file,
/// fsyncing both (`synchronous=FULL`).
pub(crate) fn open_checkpointer(path: &Path) -> Result<Connection> {
    let ctx = || format!("opening the checkpointer of {}", path.display());
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ctx(ctx)?;
    conn.busy_timeout(BUSY_TIMEOUT).ctx(ctx)?;
    conn.pragma_update(None, "synchronous", "FULL").ctx(ctx)?;
    // It writes no pages of its own: no autocheckpoint.
    conn.pragma_update(None, "wal_autocheckpoint", 0).ctx(ctx)?;
    Ok(conn)
}

/// Refuses a database that belongs to another application.
fn check_identity(conn: &Connection, path: &Path) -> Result<()> {
    let ctx = || format!("reading the header of {}", path.display());
    let app: i64 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .ctx(ctx)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .ctx(ctx)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .ctx(ctx)?;
    let fresh = app == 0 && version == 0 && tables == 0;
    if app != APPLICATION_ID && !fresh {
        return Err(Error::Invalid(
            ErrorKind::Incompatible,
            format!(
                "{} is not an oretrace database (application_id {app:#x}, user_version {version})",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Applies the migrations the database lacks, one transaction each.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let known = MIGRATIONS.len();
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(|| format!("locking {} to migrate it", path.display()))?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .ctx(|| format!("reading the schema version of {}", path.display()))?;
        let version = usize::try_from(version).map_err(|_| {
            Error::Invalid(
                ErrorKind::Incompatible,
                format!(
                    "{}: schema version {version} is not one oretrace writes",
                    path.display()
                ),
            )
        })?;
        if version > known {
            return Err(Error::Invalid(
                ErrorKind::Incompatible,
                format!(
                    "{}: the database schema is version {version}, newer than version {known}, the newest this \
                 build of oretrace knows; run a newer oretrace (the database is left untouched)",
                    path.display()
                ),
            ));
        }
        let Some(sql) = MIGRATIONS.get(version) else {
            return Ok(()); // Up to date; the transaction rolls back, having written nothing.
        };
        let next = version + 1;
        if version == 0 {
            tx.pragma_update(None, "application_id", APPLICATION_ID)
                .ctx(|| format!("marking {} as an oretrace database", path.display()))?;
        }
        tx.execute_batch(sql)
            .ctx(|| format!("migrating {} to schema version {next}", path.display()))?;
        tx.pragma_update(None, "user_version", next as i64)
            .ctx(|| format!("recording schema version {next} in {}", path.display()))?;
        tx.commit()
            .ctx(|| format!("committing schema version {next} of {}", path.display()))?;
    }
}
