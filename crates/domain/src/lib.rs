//! The registry's domain model.
//!
//! * [`values`]: validating scalar types (identifiers, countries, times,
//!   decimals, masses, grades, coordinates). A value that exists is valid.
//! * [`chemistry`]: elements, oxides and the exact element↔oxide factors.
//! * [`record`]: the record kinds (party, site, lot, assay, shipment,
//!   receipt, transformation) and their rules.
//! * [`canonical`]: the hand-written, versioned canonical text encoding
//!   (`oretrace.record/v1`) that is signed and logged.
//! * [`event`]: EPCIS events captured into the registry, with who
//!   captured them and how that party was authenticated.
//! * [`jcs`]: RFC 8785 JSON canonicalization, the bytes of a captured
//!   event.
//! * [`envelope`]: signed records as C2SP signed notes, and the JSON
//!   envelope clients post.
//! * [`jose`]: base64url, Ed25519 JWKs and compact JWS (`EdDSA`).
//! * [`passport`]: the lot passport's shape and its offline check.
//!
//! No I/O, no storage, no HTTP.

pub mod agreement;
pub mod canonical;
pub mod chemistry;
pub mod custody;
pub mod disclosure;
pub mod envelope;
mod error;
pub mod event;
pub mod jcs;
pub mod jose;
pub mod money;
pub mod passport;
pub mod record;
mod text_serde;
pub mod values;
pub mod wire;

pub use error::Error;
pub use record::Record;
