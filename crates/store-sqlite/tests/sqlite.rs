//! What the SQLite store promises beyond the shared contract (the
//! conformance suite): it refuses databases it does not know, lets readers run while the
//! writer writes, and commits durably.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use oretrace_ledger::state::{Change, LotState};
use oretrace_ledger::store::{Batch, EntryRow, StateView as _, Store};
use oretrace_store_sqlite::{DB_FILE, MAX_READERS, SCHEMA_VERSION, SqliteStore};
use oretrace_tlog::hash::{Hash, leaf_hash, node_hash, sha256};
use oretrace_tlog::tree::NodeId;
use serde_json::json;

fn row(index: u64) -> EntryRow {
    EntryRow {
        index,
        entry: format!("entry {index}").into_bytes(),
        record_hash: sha256(format!("record {index}").as_bytes()),
        kind: "lot".into(),
    }
}

/// Entries `[start, start + count)` with their leaf hashes and the level-1
/// hashes they complete.
fn batch(start: u64, count: u64) -> Batch {
    let entries: Vec<EntryRow> = (start..start + count).map(row).collect();
    let mut hashes: Vec<(NodeId, Hash)> = entries
        .iter()
        .map(|r| (NodeId::new(0, r.index), leaf_hash(&r.entry)))
        .collect();
    for r in &entries {
        if r.index % 2 == 1 {
            let left = leaf_hash(&row(r.index - 1).entry);
            hashes.push((
                NodeId::new(1, r.index / 2),
                node_hash(&left, &leaf_hash(&r.entry)),
            ));
        }
    }
    Batch {
        entries,
        hashes,
        changes: vec![],
    }
}
fn lot(id: &str, index: u64) -> LotState {
    // Read from its stored JSON, as the store reads it.
    serde_json::from_value(json!({
        "id": id, "commodity": "antimony", "form": "ore", "origin_site": "site-a", "site": "site-a",
        "custodian": "fwo", "status": "held", "wet_mass": {"value": "12.5", "unit": "t"},
        "moisture_percent": "4", "inputs": ["urn:x:lot:0"],
        "element_percent": [["Cu", "0.2"], ["Sb", "55"]],
        "received_mass": {"value": 12, "unit": "t"}, "figures": "illustrative", "index": index,
        "created": "2025-09-10T06:00:00Z", "since": "2025-09-20T06:00:00Z"
    }))
    .unwrap()
}
fn raw(store_dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(store_dir.join(DB_FILE)).unwrap()
}

#[test]
fn the_store_is_send_sync_and_static() {
    fn is_store<S: Store>() {}
    is_store::<SqliteStore>();
}
#[test]
fn a_database_from_a_newer_build_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(dir.path()).unwrap());
    let newer = i64::from(SCHEMA_VERSION) + 1;
    raw(dir.path())
        .pragma_update(None, "user_version", newer)
        .unwrap();

    let err = SqliteStore::open(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains(&format!("version {newer}")) && err.contains("newer"),
        "{err}"
    );
    let version: i64 = raw(dir.path())
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, newer);
}

#[test]
fn another_applications_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    raw(dir.path())
        .execute_batch("CREATE TABLE notes (body TEXT);")
        .unwrap();
    let err = SqliteStore::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("not an oretrace database"), "{err}");
}

#[test]
fn the_database_is_durable_and_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    store.integrate(&batch(0, 2)).unwrap();

    let pragmas = store.pragmas().unwrap();
    assert_eq!(pragmas.journal_mode, "wal");
    assert_eq!(pragmas.synchronous, 2, "synchronous=FULL");
    assert!(pragmas.foreign_keys);
    assert!(pragmas.busy_timeout_ms >= 1000, "{pragmas:?}");
    assert!(
        pragmas.wal_autocheckpoint > 1000,
        "the writer leaves checkpoints to the thread: {pragmas:?}"
    );
    assert_eq!(pragmas.user_version, i64::from(SCHEMA_VERSION));

    let db = dir.path().join(DB_FILE);
    assert_eq!(store.path(), db);
    let wal = dir.path().join(format!("{DB_FILE}-wal"));
    assert!(
        wal.metadata().unwrap().len() > 0,
        "the commit went to the WAL"
    );
    // WAL mode is a property of the file: any connection sees it.
    let mode: String = raw(dir.path())
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}
/// Polls `condition` every millisecond until it holds; fails the test
/// naming `what` if it does not within 30 s (a deadline for a hung test,
/// not a timing claim).
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn readers_run_while_the_writer_integrates() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let done = Arc::new(AtomicBool::new(false));
    // Readers that have completed a read of a non-empty log, and the
    // largest size any reader has seen.
    let reading = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(AtomicU64::new(0));
    const BATCHES: u64 = 40;
    const PER_BATCH: u64 = 16;
    const READERS: u64 = 2 * MAX_READERS as u64;

    // More readers than pooled connections: some wait for a lease.
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (store, done) = (Arc::clone(&store), Arc::clone(&done));
            let (reading, seen) = (Arc::clone(&reading), Arc::clone(&seen));
            thread::spawn(move || {
                let (mut last, mut reads) = (0, 0u64);
                while !done.load(Ordering::Acquire) {
                    let size = store.size().unwrap();
                    assert!(size >= last, "the log shrank from {last} to {size}");
                    last = size;
                    if size == 0 {
                        continue;
                    }
                    let from = size.saturating_sub(4);
                    let entries = store.read_entries(from, size - from).unwrap();
                    assert_eq!(
                        entries,
                        (from..size).map(|i| row(i).entry).collect::<Vec<_>>()
                    );
                    let hashes = store
                        .read_hashes(&[NodeId::new(0, size - 1), NodeId::new(0, 0)])
                        .unwrap();
                    assert_eq!(hashes[0], leaf_hash(&row(size - 1).entry));
                    assert_eq!(
                        store.find_record(&row(size - 1).record_hash).unwrap(),
                        Some(size - 1)
                    );
                    assert!(store.lot("urn:x:lot:1").unwrap().is_some());
                    if reads == 0 {
                        reading.fetch_add(1, Ordering::AcqRel);
                    }
                    reads += 1;
                    seen.fetch_max(size, Ordering::AcqRel);
                }
                reads
            })
        })
        .collect();

    for i in 0..BATCHES {
        let mut b = batch(i * PER_BATCH, PER_BATCH);
        b.changes = vec![
            Change::PutLot(lot("urn:x:lot:1", i * PER_BATCH)),
            Change::LotEvent {
                lot: "urn:x:lot:1".into(),
                index: i * PER_BATCH,
            },
        ];
        store.integrate(&b).unwrap();
        // The readers read while the writer is still writing: some reader
        // sees each batch before the next is written, and every reader has
        // read the log before the second batch.
        let size = (i + 1) * PER_BATCH;
        wait_until(&format!("a reader to see size {size}"), || {
            seen.load(Ordering::Acquire) >= size
        });
        if i == 0 {
            wait_until("every reader to read", || {
                reading.load(Ordering::Acquire) == READERS
            });
        }
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        reader.join().unwrap();
    }
    assert_eq!(seen.load(Ordering::Acquire), BATCHES * PER_BATCH);
    assert_eq!(store.size().unwrap(), BATCHES * PER_BATCH);
    assert_eq!(
        store.lot_events("urn:x:lot:1").unwrap().len() as u64,
        BATCHES
    );
}

/// Whether thread `tid` of this process is asleep (`S` in
/// `/proc/self/task/<tid>/stat`): waiting, not running.
fn thread_sleeping(tid: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap_or_default();
    // The state follows the command name, which is in parentheses.
    stat.rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with('S'))
}

#[test]
fn reads_do_not_wait_for_an_open_write_and_writes_wait_their_turn() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    store.integrate(&batch(0, 2)).unwrap();

    // Another process holds the write lock with an uncommitted append.
    let other = raw(dir.path());
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    other
        .execute(
            "INSERT INTO entries (idx, entry, record_hash, kind) VALUES (2, x'00', ?1, 'lot')",
            [&row(2).record_hash[..]],
        )
        .unwrap();

    // Reads answer from the committed log while the write is still open
    // (a read that needed the lock would fail with SQLITE_BUSY once its
    // busy timeout ran out, as the lock is never released meanwhile).
    assert_eq!(
        store.size().unwrap(),
        2,
        "the uncommitted entry is invisible"
    );
    assert_eq!(
        store.read_entries(0, 2).unwrap(),
        vec![row(0).entry, row(1).entry]
    );
    assert!(
        store.read_entries(2, 1).is_err(),
        "entry 2 is not committed"
    );
    assert!(!other.is_autocommit(), "the other write is still open");

    // Our writer waits (busy_timeout) instead of failing at once: it is
    // seen asleep, not finished, while the lock is held, and succeeds once
    // the lock is released.
    let (tx, rx) = std::sync::mpsc::channel();
    let writer = {
        let store = Arc::clone(&store);
        thread::spawn(move || {
            let tid = std::fs::read_link("/proc/thread-self").unwrap();
            tx.send(tid.file_name().unwrap().to_string_lossy().into_owned())
                .unwrap();
            store.integrate(&batch(2, 1))
        })
    };
    let tid = rx.recv().unwrap();
    wait_until("the writer to wait for the lock", || {
        assert!(
            !writer.is_finished(),
            "the append finished while another connection held the lock"
        );
        thread_sleeping(&tid)
    });
    assert!(!writer.is_finished(), "the append waits for the lock");
    assert_eq!(store.size().unwrap(), 2);
    other.execute_batch("ROLLBACK").unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(store.size().unwrap(), 3);
    assert_eq!(store.read_entries(2, 1).unwrap(), vec![row(2).entry]);
}
#[test]
fn the_wal_is_checkpointed_in_the_background_and_removed_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_FILE);
    let store = SqliteStore::open(dir.path()).unwrap();
    let before = db.metadata().unwrap().len();
    let mut b = batch(0, 500);
    b.entries
        .iter_mut()
        .for_each(|r| r.entry.resize(2000, b'x'));
    store.integrate(&b).unwrap();
    // Only a checkpoint writes pages into the database file, and the
    // writer itself would not checkpoint a WAL this small.
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.metadata().unwrap().len() < before + 1_000_000 {
        assert!(Instant::now() < deadline, "no checkpoint within 10 s");
        thread::sleep(Duration::from_millis(10));
    }
    drop(store);
    assert!(
        !dir.path().join(format!("{DB_FILE}-wal")).exists(),
        "a clean close leaves no WAL"
    );
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(
        store.read_entries(499, 1).unwrap(),
        vec![b.entries[499].entry.clone()]
    );
}
