//! The ledger: how a signed record becomes a durable, provable log entry
//! (see `docs/design/append-lifecycle.md`), the projections derived from
//! the log, and the storage contract every backend implements.
//!
//! No HTTP and no SQL: the server crate speaks HTTP, backend crates speak
//! SQL, and the binary chooses the backend.

pub(crate) mod capture;
pub mod conformance;
pub mod error;
pub mod ledger;
pub mod memory;
pub mod rebuild;
pub mod rules;
pub mod state;
pub mod store;

pub use error::LedgerError;
pub use store::{Batch, EntryRow, StateView, Store, StoreError, StoreResult};
