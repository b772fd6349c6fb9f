//! The fuzz targets of oretrace as plain functions of their input bytes.
//!
//! Each `pub fn` here is one target: `fuzz/fuzz_targets/<name>.rs` wraps it
//! for cargo-fuzz (libFuzzer), and `tests/replay.rs` runs every committed
//! corpus and regression file through it on the stable toolchain, so CI
//! checks the same properties without cargo-fuzz. A target returns
//! nothing: any panic (a parser that panics, or a broken invariant that it
//! asserts) is a finding. [`TARGETS`] names them all.
//!
//! See `docs/fuzzing.md`.

pub mod epcis;
pub mod jose;
pub mod ledger;
pub mod record;
pub mod rules;
pub mod tlog;

/// A target: a function of the input bytes that panics on a finding.
pub type Target = fn(&[u8]);

/// Every target, by the name of its directory under `fuzz/corpus-seed`,
/// `fuzz/corpus` and `fuzz/regressions` (and of its `fuzz/fuzz_targets`
/// file).
pub const TARGETS: &[(&str, Target)] = &[
    ("tlog_note", tlog::note),
    ("tlog_tile", tlog::tile),
    ("tlog_receipt", tlog::receipt),
    ("tlog_witness", tlog::witness),
    ("tlog_policy", tlog::policy),
    ("record_entry", record::entry),
    ("record_json", record::json),
    ("epcis_hash", epcis::hash),
    ("epcis_map", epcis::map),
    ("epcis_schema", epcis::schema),
    ("epcis_query", epcis::query),
    ("epcis_format", epcis::format),
    ("epcis_schedule", epcis::schedule),
    ("jose_detached", jose::detached),
    ("ledger_story", ledger::story),
    ("rule_pack", rules::pack),
];

/// Inputs above this size are skipped: every parser under test refuses
/// them by size before reading them, and large inputs only slow the
/// fuzzer down.
pub const MAX_INPUT: usize = 256 * 1024;
