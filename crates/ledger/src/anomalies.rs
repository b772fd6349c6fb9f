//! The anomaly scan of the whole ledger (`docs/design/provenance.md`,
//! "Anomalies"): every log entry is read in index order
//! ([`Store::read_entries`], in pages), each record, and each record a
//! captured EPCIS event states (`oretrace_epcis_map::interpret`, as the
//! ledger read it), becomes an [`Item`] of `oretrace_provenance::anomalies`,
//! which does the arithmetic. Records and captured events are checked
//! alike, so the scan is also a check of the ledger's own rules.
//!
//! Bounded: at most [`AnomalyLimits::max_entries`] entries are scanned;
//! a larger log is refused ([`AnomalyError::TooLarge`]), never cut short.
//! Memory is one small state per lot, shipment and site, plus the
//! findings.

use serde::Serialize;

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::record::{Figures, Record};
use oretrace_domain::values::Timestamp;
pub use oretrace_provenance::anomalies::{Finding, Kind, Report, ScanConfig};
use oretrace_provenance::anomalies::{Item, Scan};

use crate::store::{Store, StoreError};

/// How much one scan may read, and when a shipment is a custody gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnomalyLimits {
    /// Log entries scanned at most.
    pub max_entries: u64,
    pub config: ScanConfig,
}

impl AnomalyLimits {
    /// 12,000,000 entries (a registry of ten million events, with room;
    /// its scan state is about 350 MiB, ids interned once); a shipment
    /// not received 30 days before the newest record is a custody gap.
    pub const DEFAULT: AnomalyLimits = AnomalyLimits {
        max_entries: 12_000_000,
        config: ScanConfig::DEFAULT,
    };
}

impl Default for AnomalyLimits {
    fn default() -> Self {
        AnomalyLimits::DEFAULT
    }
}

/// Why the scan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AnomalyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log holds more entries than the bound: nothing is answered.
    #[error("{detail}")]
    TooLarge { detail: String, limit: u64 },
    /// An entry is missing or does not parse: the store is damaged.
    #[error("the log cannot be scanned: {0}")]
    Damaged(String),
}

/// Entries read per store call.
const PAGE: u64 = 1024;

/// Scans the first `size` entries of the log.
pub fn scan<S: Store>(store: &S, size: u64, limits: AnomalyLimits) -> Result<Report, AnomalyError> {
    if size > limits.max_entries {
        return Err(AnomalyError::TooLarge {
            detail: format!(
                "the log holds {size} entries, more than the {} one anomaly scan reads (the bound)",
                limits.max_entries
            ),
            limit: limits.max_entries,
        });
    }
    let mut scan = Scan::new(limits.config);
    let mut start = 0u64;
    while start < size {
        let count = PAGE.min(size - start);
        let entries = store.read_entries(start, count)?;
        if entries.len() as u64 != count {
            return Err(AnomalyError::Damaged(format!(
                "entries {start} to {} are not all stored",
                start + count - 1
            )));
        }
        for (offset, bytes) in entries.iter().enumerate() {
            let index = start + offset as u64;
            let signed = SignedRecord::from_entry(bytes)
                .map_err(|e| AnomalyError::Damaged(format!("entry {index} does not parse: {e}")))?;
            match signed.record() {
                Record::Event(event) => {
                    let stated = oretrace_epcis_map::interpret(event.event())
                        .map_err(|e| {
                            AnomalyError::Damaged(format!("the event at index {index}: {e}"))
                        })?
                        .records;
                    let illustrative = event.figures() == Figures::Illustrative;
                    for record in &stated {
                        push(&mut scan, record, index, illustrative);
                    }
                }
                other => {
                    let illustrative = figures_of(other) == Figures::Illustrative;
                    push(&mut scan, other, index, illustrative);
                }
            }
        }
        start += count;
    }
    scan.finish().map_err(|bound| AnomalyError::TooLarge {
        detail: bound.to_string(),
        limit: bound.limit as u64,
    })
}

fn figures_of(record: &Record) -> Figures {
    match record {
        Record::Lot(r) => r.figures,
        Record::Assay(r) => r.figures,
        Record::Shipment(r) => r.figures,
        Record::Receipt(r) => r.figures,
        Record::Transformation(r) => r.figures,
        Record::Site(r) => r.figures,
        _ => Figures::Reported,
    }
}

fn push(scan: &mut Scan, record: &Record, index: u64, illustrative: bool) {
    let item = match record {
        Record::Site(s) => Item::Site {
            id: s.id.to_string(),
            index,
        },
        Record::Lot(l) => Item::Lot {
            id: l.id.to_string(),
            site: l.site.to_string(),
            wet_kg: l.wet_mass.kilograms(),
            time: l.time.unix(),
            index,
            illustrative,
        },
        Record::Assay(a) => Item::Assay {
            lot: a.lot.to_string(),
            time: a.time.unix(),
            index,
            illustrative,
        },
        Record::Shipment(s) => Item::Shipment {
            id: s.id.to_string(),
            lots: s.lots.iter().map(ToString::to_string).collect(),
            from: s.from.to_string(),
            to: s.to.to_string(),
            time: s.time.unix(),
            index,
            illustrative,
        },
        Record::Receipt(r) => Item::Receipt {
            shipment: r.shipment.to_string(),
            site: r.site.to_string(),
            lots: r
                .lots
                .iter()
                .map(|(l, m)| (l.to_string(), m.kilograms()))
                .collect(),
            time: r.time.unix(),
            index,
            illustrative,
        },
        Record::Transformation(t) => Item::Transformation {
            id: t.id.to_string(),
            site: t.site.to_string(),
            inputs: t
                .inputs
                .iter()
                .map(|(l, m)| (l.to_string(), m.kilograms()))
                .collect(),
            outputs: t
                .outputs
                .iter()
                .map(|o| (o.id.to_string(), o.wet_mass.kilograms()))
                .collect(),
            time: t.time.unix(),
            index,
            illustrative,
        },
        _ => return,
    };
    scan.push(&item);
}

/// One finding, as `GET /anomalies` serves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingJson {
    /// A stable kebab-case name: `no-origin`, `export-above-production`,
    /// `custody-gap`, `out-of-time-order`, `claimed-twice`,
    /// `used-after-consumed`.
    pub kind: &'static str,
    /// What is wrong, in one sentence.
    pub what: String,
    pub lots: Vec<String>,
    pub shipments: Vec<String>,
    pub transformations: Vec<String>,
    pub sites: Vec<String>,
    /// Log indices of the records it rests on: `GET /records/{index}/receipt`
    /// proves each.
    pub evidence: Vec<u64>,
    /// `reported` or `illustrative` (when any record it rests on is).
    pub figures: &'static str,
}

impl From<&Finding> for FindingJson {
    fn from(f: &Finding) -> Self {
        FindingJson {
            kind: f.kind.as_str(),
            what: f.what.clone(),
            lots: f.lots.clone(),
            shipments: f.shipments.clone(),
            transformations: f.transformations.clone(),
            sites: f.sites.clone(),
            evidence: f.evidence.clone(),
            figures: if f.illustrative {
                "illustrative"
            } else {
                "reported"
            },
        }
    }
}

/// The newest time in a report, as RFC 3339 text.
pub fn newest_text(report: &Report) -> Option<String> {
    report.newest.map(|t| Timestamp::from_unix(t).to_string())
}
