//! The in-memory store passes the storage conformance suite.

#[test]
fn memory_store_conforms() {
    oretrace_ledger::conformance::run_all(oretrace_ledger::memory::MemoryStore::new);
}
