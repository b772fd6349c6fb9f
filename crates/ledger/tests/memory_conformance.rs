//! The memory store passes the storage conformance suite.

use oretrace_ledger::StoreResult;
use oretrace_ledger::conformance::{Harness, run_all};
use oretrace_ledger::memory::{MemoryPlace, MemoryStore};

struct Memory;

impl Harness for Memory {
    type Store = MemoryStore;
    type Place = MemoryPlace;

    fn place(&self) -> MemoryPlace {
        MemoryPlace::default()
    }

    fn open(&self, place: &MemoryPlace) -> StoreResult<MemoryStore> {
        MemoryStore::open_at(place)
    }
}

#[test]
fn memory_store_conforms() {
    run_all(&Memory);
}
