//! The SQLite store passes the storage conformance suite.

use std::sync::Mutex;

use oretrace_store_sqlite::SqliteStore;

#[test]
fn sqlite_store_conforms() {
    // Each store gets a fresh directory, kept until the suite is done (every
    // store is dropped by then) and removed when `dirs` drops.
    let dirs = Mutex::new(Vec::new());
    oretrace_ledger::conformance::run_all(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        dirs.lock().unwrap().push(dir);
        store
    });
    drop(dirs);
}
