//! The SQLite store passes the storage conformance suite: each place is
//! a data directory of its own, removed when the suite is done.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::path::PathBuf;
use std::sync::Mutex;

use oretrace_ledger::StoreResult;
use oretrace_ledger::conformance::{Harness, run_all};
use oretrace_store_sqlite::SqliteStore;

#[derive(Default)]
struct Sqlite {
    dirs: Mutex<Vec<tempfile::TempDir>>,
}

impl Harness for Sqlite {
    type Store = SqliteStore;
    type Place = PathBuf;

    fn place(&self) -> PathBuf {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        self.dirs.lock().unwrap().push(dir);
        path
    }

    fn open(&self, place: &PathBuf) -> StoreResult<SqliteStore> {
        SqliteStore::open(place)
    }
}

#[test]
fn sqlite_store_conforms() {
    run_all(&Sqlite::default());
}
