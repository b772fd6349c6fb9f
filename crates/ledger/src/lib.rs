//! The ledger: how a signed record becomes a durable, provable log entry
//! (see `docs/design/append-lifecycle.md`), the projections derived from
//! the log, and the storage contract every backend implements.
//!
//! No HTTP and no SQL: the server crate speaks HTTP, backend crates speak
//! SQL, and the binary chooses the backend.
//!
//! The `test-support` feature adds what tests and benchmarks build on and
//! the product never does: `memory` (the in-memory reference backend),
//! `conformance` (the suite every backend passes) and `faults` (a store
//! wrapper that fails, loses swaps, panics, blocks or times calls on
//! demand). Only dev-dependencies and dev-only crates enable it.

pub mod agreements;
pub mod anomalies;
pub(crate) mod balance;
pub(crate) mod capture;
pub mod compliance;
#[cfg(feature = "test-support")]
pub mod conformance;
pub mod custody;
pub mod error;
#[cfg(feature = "test-support")]
pub mod faults;
pub mod ledger;
#[cfg(feature = "test-support")]
pub mod memory;
pub mod provenance;
pub mod rebuild;
pub mod rules;
pub mod state;
pub mod store;

pub use error::LedgerError;
pub use store::{Batch, EntryRow, ErrorKind, StateView, Store, StoreError, StoreResult};
