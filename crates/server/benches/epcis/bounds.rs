//! The bounds: the same work done the cheapest way (a bare insert, SQL by the needed index).

#![expect(
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::time::Instant;

use oretrace_tlog::note::{NoteSigner, NoteVerifier, SignedNote};

/// The raw bound: `entries` into a bare WAL table in one durable
/// transaction, in a fresh database; seconds.
pub(crate) fn raw_insert(entries: &[Vec<u8>]) -> f64 {
    let dir = oretrace_benchkit::fresh_dir("epcis-raw");
    let mut conn = rusqlite::Connection::open(dir.path().join("raw.db")).expect("opening raw.db");
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .expect("WAL mode");
    assert!(mode.eq_ignore_ascii_case("wal"), "journal_mode is {mode}");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous=FULL");
    conn.execute_batch("CREATE TABLE entries (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
        .expect("creating the table");
    let start = Instant::now();
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("begin");
    {
        let mut insert = tx
            .prepare_cached("INSERT INTO entries (idx, entry) VALUES (?1, ?2)")
            .expect("prepare");
        for (i, entry) in entries.iter().enumerate() {
            insert
                .execute(rusqlite::params![i as i64, entry])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    let secs = start.elapsed().as_secs_f64();
    let count: i64 = conn
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count as usize, entries.len());
    secs
}

/// One Ed25519 note signature and one verification per entry, over each
/// entry's text (what capture does once each with the log key); seconds.
pub(crate) fn sign_verify(texts: &[String], signer: &NoteSigner, verifier: &NoteVerifier) -> f64 {
    let start = Instant::now();
    for text in texts {
        let note = signer.sign(text).expect("signing").to_bytes();
        let note = SignedNote::parse(&note).expect("parsing");
        note.verify(verifier).expect("verifying");
    }
    start.elapsed().as_secs_f64()
}

/// A row as the bound reads it: what a response needs of each event.
pub(crate) struct Row {
    event_id: String,
    pub(crate) idx: i64,
    _event_time: i64,
    _record_time: i64,
    _event: String,
}

pub(crate) fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        idx: r.get(0)?,
        event_id: r.get(1)?,
        _event_time: r.get(2)?,
        _record_time: r.get(3)?,
        _event: r.get(4)?,
    })
}

pub(crate) const BY_TERM: &str = "SELECT e.idx, e.event_id, e.event_time, e.record_time, e.event \
     FROM event_terms t JOIN events e ON e.idx = t.idx \
     WHERE t.term = ?1 AND t.idx > ?2 ORDER BY t.idx LIMIT ?3";

pub(crate) const BY_TIME: &str = "SELECT idx, event_id, event_time, record_time, event FROM events \
     WHERE event_time >= ?1 AND event_time < ?2 ORDER BY event_time, idx LIMIT ?3";

/// Up to `limit` events carrying `term`, after index `after`.
pub(crate) fn sql_by_term(
    conn: &rusqlite::Connection,
    term: &str,
    after: i64,
    limit: usize,
) -> Vec<Row> {
    let mut stmt = conn.prepare_cached(BY_TERM).expect("prepare");
    stmt.query_map(rusqlite::params![term, after, limit as i64], row)
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

pub(crate) fn sql_by_time(
    conn: &rusqlite::Connection,
    from: i64,
    to: i64,
    limit: usize,
) -> Vec<Row> {
    let mut stmt = conn.prepare_cached(BY_TIME).expect("prepare");
    stmt.query_map(rusqlite::params![from, to, limit as i64], row)
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

pub(crate) fn assert_same(what: &str, server: &[String], bound: &[Row]) {
    let bound: Vec<&str> = bound.iter().map(|r| r.event_id.as_str()).collect();
    assert_eq!(
        server.len(),
        bound.len(),
        "{what}: the server returned {} events, the bound {}",
        server.len(),
        bound.len()
    );
    assert!(
        server.iter().zip(&bound).all(|(a, b)| a == b),
        "{what}: the server and the bound returned different events"
    );
}
