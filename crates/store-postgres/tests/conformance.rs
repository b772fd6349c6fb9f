//! The PostgreSQL store passes the storage conformance suite: each place
//! is a schema of its own with a random name, dropped when the suite is
//! done (passed or not). Opening a place claims the sequencer lease; a
//! second open while the first store lives finds it held and is refused.

mod common;

use std::time::Duration;

use oretrace_ledger::conformance::{Harness, run_all};
use oretrace_ledger::store::{ErrorKind, StoreError, StoreResult};
use oretrace_store_postgres::PgStore;

use common::Schemas;

struct Pg {
    schemas: Schemas,
}

impl Harness for Pg {
    type Store = PgStore;
    type Place = String;

    fn place(&self) -> String {
        self.schemas.fresh()
    }

    fn open(&self, place: &String) -> StoreResult<PgStore> {
        let store = PgStore::connect(&self.schemas.config(place))?;
        match store.try_lead("conformance", "http://127.0.0.1:0", Duration::from_secs(30))? {
            Some(_) => Ok(store),
            None => Err(StoreError::new(
                ErrorKind::Conflict,
                format!("another handle holds the sequencer lease of schema {place}"),
            )),
        }
    }
}

#[test]
fn postgres_store_conforms() {
    run_all(&Pg {
        schemas: Schemas::new(),
    });
}
