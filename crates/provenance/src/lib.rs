//! Provenance, mass balance and reconciliation over a lot graph, in exact
//! decimals (`docs/design/provenance.md`).
//!
//! * [`graph`]: the input the caller builds from the ledger's projections
//!   (sites, lots with grades and movements, transformations) and the
//!   [`Limits`] every walk obeys.
//! * [`attribute`](attribute()): a lot's origin shares per element, site
//!   and country (each element passed on in proportion to the amount of
//!   it each input contained), its custodians and the sites it passed.
//! * [`mass_balance`]: one transformation, per element, within the assays'
//!   uncertainty or the operator's tolerance; recovery and yield.
//! * [`reconcile`](reconcile()): shipped against received, per lot.
//! * [`models`]: the ISO 22095 chain-of-custody models per site and period.
//! * [`rules`]: compliance rule packs (JSON data, six generic tests) and
//!   their verdicts, with the log indices each rests on.
//! * [`value_added`]: local value addition: the stage each exported lot
//!   left its country at, and the element mass exported per country,
//!   element and stage.
//! * [`anomalies`]: the anomaly scan over a whole ledger, one pass in log
//!   order.
//!
//! No I/O, no storage, no HTTP; no recursion (explicit stacks), no panics:
//! a graph too large, cyclic or incomplete is an [`Error`].

pub mod anomalies;
pub mod attribute;
pub mod balance;
mod error;
pub mod graph;
mod intern;
pub mod models;
pub mod reconcile;
pub mod rules;
pub mod value_added;

pub use attribute::{Provenance, attribute};
pub use balance::{Balance, Tolerance, Verdict, mass_balance};
pub use error::Error;
pub use graph::{Limits, LotGraph};
pub use reconcile::{ReconcileTolerance, Reconciliation, reconcile};
