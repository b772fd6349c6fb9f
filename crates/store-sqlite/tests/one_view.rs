//! A database built before records had events (schema version 5: only
//! captured events in `events`) is migrated to drop its projections and
//! mark a rebuild from entry 0; the ledger finishes the rebuild when it
//! starts, and the records then have their events, the log untouched. A
//! fresh database has nothing to rebuild.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::state::EventState;
use oretrace_ledger::store::{EventSelect, Store};
use oretrace_store_sqlite::{DB_FILE, SCHEMA_VERSION, SqliteStore};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn signed(value: Value, signers: &[&NoteSigner]) -> SignedRecord {
    let record = RecordJson::parse(value.to_string().as_bytes()).unwrap();
    SignedRecord::sign(record, signers).unwrap()
}

fn start(store: SqliteStore) -> Ledger<SqliteStore> {
    Ledger::start(
        store,
        key("oretrace.test/one-view", 2),
        key("registry/operator", 1).verifier(),
        LedgerConfig::default(),
    )
    .unwrap()
}

fn events(store: &SqliteStore) -> Vec<EventState> {
    store
        .select_events(&EventSelect {
            limit: usize::MAX,
            ..EventSelect::default()
        })
        .unwrap()
}

#[test]
fn a_database_from_before_records_had_events_is_rebuilt_once_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.rebuild_progress().unwrap(), None, "a fresh database");
    let ledger = start(store);
    let operator = key("registry/operator", 1);
    let fwo = key("fwo/k1", 3);
    for (value, signers) in [
        (
            json!({"kind": "party", "id": "fwo", "name": "FWO", "party_kind": "company",
                   "country": "PK", "keys": [fwo.verifier().to_vkey()],
                   "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
            vec![&fwo, &operator],
        ),
        (
            json!({"kind": "site", "id": "fwo-chitral", "name": "Chitral", "site_kind": "exploration-area",
                   "operator": "fwo", "country": "PK", "location": {"lat": "35.85", "lon": "71.78"},
                   "approximate": true, "time": "2025-09-01T00:00:00Z", "figures": "illustrative"}),
            vec![&fwo],
        ),
        (
            json!({"kind": "lot", "id": "urn:oretrace:lot:sb-1", "commodity": "antimony", "form": "sample",
                   "site": "fwo-chitral", "wet_mass": {"value": "25", "unit": "kg"},
                   "moisture_percent": "4", "time": "2025-09-02T00:00:00Z", "figures": "illustrative"}),
            vec![&fwo],
        ),
    ] {
        ledger.submit_blocking(signed(value, &signers)).unwrap();
    }
    let with_events = events(ledger.store());
    assert_eq!(with_events.len(), 1);
    assert!(with_events[0].is_record());
    let lots = ledger.store().lots(None, usize::MAX).unwrap();
    let size = ledger.store().size().unwrap();
    drop(ledger);

    // As the build before wrote it: no event for the lot, version 5.
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute_batch(
        "DELETE FROM event_terms; DELETE FROM events; \
         DROP TABLE subscriptions; DROP TABLE named_queries; PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(conn);

    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(
        store.pragmas().unwrap().user_version,
        i64::from(SCHEMA_VERSION)
    );
    assert_eq!(store.rebuild_progress().unwrap(), Some(0));
    assert_eq!(store.lots(None, usize::MAX).unwrap(), vec![]);
    assert_eq!(store.size().unwrap(), size, "the log is untouched");

    let ledger = start(store);
    assert_eq!(ledger.store().rebuild_progress().unwrap(), None);
    assert_eq!(events(ledger.store()), with_events);
    assert_eq!(ledger.store().lots(None, usize::MAX).unwrap(), lots);
    drop(ledger);

    // Once: the next open has nothing to rebuild.
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.rebuild_progress().unwrap(), None);
    assert_eq!(events(&store), with_events);
}
