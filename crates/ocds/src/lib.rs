//! Exports of agreements in the Open Contracting Data Standard 1.1
//! (schema 1.1.5) and as CSV (`docs/design/agreements.md`, "OCDS
//! mapping"). Pure: the caller reads the projections from a store and
//! writes the output wherever it likes.
//!
//! One contracting process per agreement, `ocid` = `ocds-<prefix>-<agreement
//! id>`. Every record about the agreement (each version, countersignature,
//! reveal and progress report) is one immutable release with `id` =
//! `<agreement id>-<log index>` and `date` = the record's time, so an
//! export made later states the same releases byte for byte. A record
//! package adds the compiled release, merged here by the OCDS merge rules
//! ([`compile`]).
//!
//! A sealed version's releases state no clause text: only the root, the
//! clause count, the reason for sealing and the planned disclosure date
//! (in `contracts[0].description`). A clause's text appears from the
//! release of the reveal that made it public, never before.

mod csv;
mod merge;
mod release;

pub use csv::{agreements_csv, pledges_csv, reports_csv};
pub use merge::compile;
pub use release::{
    History, Publisher, RevealTime, ocid, record, record_package, release_package, releases,
};

/// The OCDS version every package states.
pub const OCDS_VERSION: &str = "1.1";

/// Why an export could not be made: the projections handed in disagree
/// with each other. The message names the record and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);
