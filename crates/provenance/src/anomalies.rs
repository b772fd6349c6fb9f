//! The anomaly scan over a whole ledger (`docs/design/provenance.md`,
//! "Anomalies"): one pass over the items the caller reads from the log,
//! in log order, finding lots with no origin, exports above a site's
//! production, custody gaps, events out of time order, mass claimed twice
//! and lots used after they were consumed.
//!
//! Every [`Finding`] is a value: its [`Kind`], a sentence saying what is
//! wrong, the lots, shipments, transformations and sites it concerns, and
//! the log indices of the records it rests on.
//!
//! The scan is linear in the items and keeps one small state per lot,
//! shipment and site; it never panics (sums are checked and saturate at
//! the decimal range, which masses bounded at 10^12 kg cannot reach
//! before 10^16 records). Times are Unix seconds; the custody-gap age is
//! measured from the newest time in the ledger, not the wall clock, so
//! the same log always gives the same answer.

use crate::intern::{Interned, Slot};
use std::collections::HashMap;

/// Maps keyed by ids the parties choose: a hasher keyed at random per
/// process (no flooding from chosen ids), several times cheaper than
/// SipHash on 30-byte ids.
type Map<K, V> = HashMap<K, V, ahash::RandomState>;

use oretrace_domain::values::{Timestamp, format_decimal};
use rust_decimal::Decimal;

/// One fact read from the log, with the log index of the record (or
/// captured event) that states it. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A site registered (or a new version of it).
    Site { id: String, index: u64 },
    /// A lot commissioned at a site.
    Lot {
        id: String,
        site: String,
        wet_kg: Decimal,
        time: i64,
        index: u64,
        illustrative: bool,
    },
    /// An assay of a lot.
    Assay {
        lot: String,
        time: i64,
        index: u64,
        illustrative: bool,
    },
    /// Lots leave `from` for `to`.
    Shipment {
        id: String,
        lots: Vec<String>,
        from: String,
        to: String,
        time: i64,
        index: u64,
        illustrative: bool,
    },
    /// A shipment's lots received at `site`, as weighed.
    Receipt {
        shipment: String,
        site: String,
        lots: Vec<(String, Decimal)>,
        time: i64,
        index: u64,
        illustrative: bool,
    },
    /// Input lots (wet kg consumed) become output lots (wet kg) at a site.
    Transformation {
        id: String,
        site: String,
        inputs: Vec<(String, Decimal)>,
        outputs: Vec<(String, Decimal)>,
        time: i64,
        index: u64,
        illustrative: bool,
    },
}

/// What is wrong, as a stable kebab-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A lot named by a record that the registry does not hold, or a lot
    /// commissioned at a site the registry does not hold: where it came
    /// from cannot be known.
    NoOrigin,
    /// A site shipped out more wet mass than was commissioned, produced
    /// and received there.
    ExportAboveProduction,
    /// A shipment whose lots were never received (older than the
    /// configured age), or a receipt of a shipment never recorded.
    CustodyGap,
    /// A record dated before a record it depends on.
    OutOfTimeOrder,
    /// The same lot or mass claimed twice: a lot made twice, shipped while
    /// in another open shipment, consumed beyond its mass, a shipment
    /// recorded or received twice.
    ClaimedTwice,
    /// A lot shipped, assayed, received or transformed after a
    /// transformation consumed it.
    UsedAfterConsumed,
}

impl Kind {
    /// Every kind, in the order answers list them.
    pub const ALL: [Kind; 6] = [
        Kind::NoOrigin,
        Kind::ExportAboveProduction,
        Kind::CustodyGap,
        Kind::OutOfTimeOrder,
        Kind::ClaimedTwice,
        Kind::UsedAfterConsumed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NoOrigin => "no-origin",
            Kind::ExportAboveProduction => "export-above-production",
            Kind::CustodyGap => "custody-gap",
            Kind::OutOfTimeOrder => "out-of-time-order",
            Kind::ClaimedTwice => "claimed-twice",
            Kind::UsedAfterConsumed => "used-after-consumed",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One anomaly, with the records it rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    /// What is wrong, in one sentence.
    pub what: String,
    pub lots: Vec<String>,
    pub shipments: Vec<String>,
    pub transformations: Vec<String>,
    pub sites: Vec<String>,
    /// Log indices of the records it rests on, ascending.
    pub evidence: Vec<u64>,
    /// Whether any figure it states comes from a record marked
    /// illustrative.
    pub illustrative: bool,
}

impl Finding {
    fn new(kind: Kind, what: String) -> Self {
        Finding {
            kind,
            what,
            lots: Vec::new(),
            shipments: Vec::new(),
            transformations: Vec::new(),
            sites: Vec::new(),
            evidence: Vec::new(),
            illustrative: false,
        }
    }
    fn lot(mut self, lot: &str) -> Self {
        self.lots.push(lot.to_owned());
        self
    }
    fn shipment(mut self, id: &str) -> Self {
        self.shipments.push(id.to_owned());
        self
    }
    fn transformation(mut self, id: &str) -> Self {
        self.transformations.push(id.to_owned());
        self
    }
    fn site(mut self, id: &str) -> Self {
        self.sites.push(id.to_owned());
        self
    }
    fn at(mut self, indices: &[u64]) -> Self {
        self.evidence.extend_from_slice(indices);
        self
    }
    fn figures(mut self, illustrative: bool) -> Self {
        self.illustrative |= illustrative;
        self
    }
}

/// The scan's settings and bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanConfig {
    /// A shipment not received this many seconds before the newest time
    /// in the ledger is a custody gap.
    pub custody_gap_seconds: i64,
    /// Findings kept at most; past it the scan stops with [`Bound`].
    pub max_findings: usize,
    /// Lots and shipments tracked at most (about 150 bytes each); past it
    /// the scan stops with [`Bound`].
    pub max_tracked: usize,
}

impl ScanConfig {
    /// 30 days; 1,000,000 findings; 10,000,000 lots and shipments.
    pub const DEFAULT: ScanConfig = ScanConfig {
        custody_gap_seconds: 30 * 24 * 3600,
        max_findings: 1_000_000,
        max_tracked: 10_000_000,
    };
}

/// A bound of [`ScanConfig`] passed: the scan answers nothing rather
/// than part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    /// `findings` or `lots and shipments`.
    pub what: &'static str,
    pub limit: usize,
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the ledger holds more than {} {} for one anomaly scan (the bound)",
            self.limit, self.what
        )
    }
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig::DEFAULT
    }
}

/// The scan's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Items scanned.
    pub items: u64,
    /// The newest time in the ledger (Unix seconds), from which the
    /// custody-gap age is measured.
    pub newest: Option<i64>,
    /// In the log order of the record that revealed each (its last
    /// evidence), then by kind.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Findings of each kind, every kind listed.
    pub fn counts(&self) -> Vec<(Kind, usize)> {
        Kind::ALL
            .into_iter()
            .map(|k| (k, self.findings.iter().filter(|f| f.kind == k).count()))
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Status {
    Held,
    /// The shipment's id is shared by its lots: one copy per shipment.
    InTransit {
        /// Its slot in [`Scan::shipments`].
        shipment: Slot,
        index: u64,
    },
    Consumed {
        /// Its slot in [`Scan::transformations`].
        transformation: Slot,
        index: u64,
    },
}

#[derive(Clone, Debug)]
struct LotState {
    made_time: i64,
    made_index: u64,
    wet_kg: Decimal,
    /// As last weighed (made, or received).
    current_kg: Decimal,
    /// When and by which record it came to where it is.
    since_time: i64,
    since_index: u64,
    status: Status,
    consumed_kg: Decimal,
    illustrative: bool,
}

#[derive(Clone, Debug)]
struct ShipmentState {
    /// The site it left, its slot in [`Scan::flows`].
    from: Slot,
    time: i64,
    index: u64,
    received: Option<u64>,
    illustrative: bool,
}

#[derive(Clone, Debug, Default)]
struct SiteFlow {
    produced_kg: Decimal,
    received_kg: Decimal,
    shipped_kg: Decimal,
    /// The first shipment after which more had left than had been there.
    crossed_at: Option<u64>,
    illustrative: bool,
}

impl SiteFlow {
    fn available(&self) -> Decimal {
        self.produced_kg.saturating_add(self.received_kg)
    }
}

/// The scan, fed one item at a time in log order.
#[derive(Debug, Default)]
pub struct Scan {
    config: ScanConfig,
    items: u64,
    newest: Option<i64>,
    sites: Map<String, u64>,
    /// Every lot made, in the order it was first made.
    lots: Interned<LotState>,
    shipments: Interned<ShipmentState>,
    /// The ids of the transformations that consumed a lot.
    transformations: Interned<()>,
    flows: Interned<SiteFlow>,
    findings: Vec<Finding>,
    over: Option<Bound>,
}

/// Changes a site's flows, inserted on first use (the site's id is
/// kept once, not on every record); its slot, `None` when no slot is left.
fn flow_at(
    flows: &mut Interned<SiteFlow>,
    site: &str,
    change: impl FnOnce(&mut SiteFlow),
) -> Option<Slot> {
    let (slot, _) = flows.insert(site, SiteFlow::default)?;
    flows.value_mut(slot).map(change)?;
    Some(slot)
}

/// A lot taken by a shipment or a transformation dated `time`: the
/// finding when that is before the lot was made or arrived where it is.
fn dated_after(
    state: &LotState,
    lot: &str,
    (what, id): (&str, &str),
    time: i64,
    index: u64,
    illustrative: bool,
) -> Option<Finding> {
    let (earlier, at, since) = if time < state.made_time {
        (state.made_time, state.made_index, "was made")
    } else if time < state.since_time {
        (state.since_time, state.since_index, "arrived where it is")
    } else {
        return None;
    };
    Some(
        Finding::new(
            Kind::OutOfTimeOrder,
            format!(
                "{what} {id} (index {index}) is dated {}, before lot {lot} {since} ({})",
                self::time(time),
                self::time(earlier)
            ),
        )
        .lot(lot)
        .at(&[at, index])
        .figures(illustrative),
    )
}

fn kg(d: Decimal) -> String {
    format_decimal(&d.normalize())
}

fn time(t: i64) -> String {
    Timestamp::from_unix(t).to_string()
}

impl Scan {
    pub fn new(config: ScanConfig) -> Self {
        Scan {
            config,
            ..Scan::default()
        }
    }

    /// Items pushed so far.
    pub fn items(&self) -> u64 {
        self.items
    }

    /// Takes the next item of the log (ignored once a bound is passed).
    pub fn push(&mut self, item: &Item) {
        if self.over.is_some() {
            return;
        }
        self.items += 1;
        match item {
            Item::Site { id, index } => {
                if !self.sites.contains_key(id) {
                    self.sites.insert(id.clone(), *index);
                }
            }
            Item::Lot {
                id,
                site,
                wet_kg,
                time,
                index,
                illustrative,
            } => {
                let (wet_kg, time, index, illustrative) = (*wet_kg, *time, *index, *illustrative);
                self.seen(time);
                if !self.sites.contains_key(site.as_str()) {
                    self.found(
                        Finding::new(
                            Kind::NoOrigin,
                            format!(
                                "lot {id} is commissioned at site {site}, which the registry does not hold: where it came from cannot be known"
                            ),
                        )
                        .lot(id)
                        .site(site)
                        .at(&[index]),
                    );
                }
                self.make(id, site, wet_kg, time, index, illustrative, None);
            }
            Item::Assay {
                lot,
                time,
                index,
                illustrative,
            } => {
                let (time, index, illustrative) = (*time, *index, *illustrative);
                self.seen(time);
                let Some(state) = self.lots.get(lot.as_str()) else {
                    self.unknown_lot(lot, "an assay", index);
                    return;
                };
                let mut out = Vec::new();
                if let Status::Consumed {
                    transformation,
                    index: at,
                } = &state.status
                {
                    let transformation = self.transformations.name(*transformation);
                    let f = Finding::new(
                        Kind::UsedAfterConsumed,
                        format!(
                            "lot {lot} is assayed (index {index}) after transformation {transformation} consumed it (index {at})"
                        ),
                    )
                    .lot(lot)
                    .transformation(transformation)
                    .at(&[*at, index]);
                    out.push(f);
                }
                if time < state.made_time {
                    let f = Finding::new(
                        Kind::OutOfTimeOrder,
                        format!(
                            "the assay of lot {lot} is dated {}, before the lot was made ({})",
                            self::time(time),
                            self::time(state.made_time)
                        ),
                    )
                    .lot(lot)
                    .at(&[state.made_index, index])
                    .figures(illustrative);
                    out.push(f);
                }
                for f in out {
                    self.found(f);
                }
            }
            Item::Shipment {
                id,
                lots,
                from,
                to: _,
                time,
                index,
                illustrative,
            } => self.ship(id, lots, from, *time, *index, *illustrative),
            Item::Receipt {
                shipment,
                site,
                lots,
                time,
                index,
                illustrative,
            } => self.receive(shipment, site, lots, *time, *index, *illustrative),
            Item::Transformation {
                id,
                site,
                inputs,
                outputs,
                time,
                index,
                illustrative,
            } => self.transform(id, site, inputs, outputs, *time, *index, *illustrative),
        }
    }

    fn found(&mut self, finding: Finding) {
        if self.findings.len() >= self.config.max_findings {
            self.over = Some(Bound {
                what: "findings",
                limit: self.config.max_findings,
            });
        } else {
            self.findings.push(finding);
        }
    }

    /// Every slot number is taken: as a passed bound.
    fn full(&mut self) {
        self.over = Some(Bound {
            what: "lots and shipments",
            limit: Slot::MAX as usize,
        });
    }

    fn track(&mut self) {
        if self.lots.len().saturating_add(self.shipments.len()) > self.config.max_tracked {
            self.over = Some(Bound {
                what: "lots and shipments",
                limit: self.config.max_tracked,
            });
        }
    }

    fn seen(&mut self, time: i64) {
        self.newest = Some(self.newest.map_or(time, |n| n.max(time)));
    }

    fn unknown_lot(&mut self, lot: &str, what: &str, index: u64) {
        self.found(
            Finding::new(
                Kind::NoOrigin,
                format!(
                    "{what} (index {index}) names lot {lot}, which the registry does not hold: where it came from cannot be known"
                ),
            )
            .lot(lot)
            .at(&[index]),
        );
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the fields of a lot's making, from two record kinds"
    )]
    fn make(
        &mut self,
        id: &str,
        site: &str,
        wet_kg: Decimal,
        time: i64,
        index: u64,
        illustrative: bool,
        by: Option<&str>,
    ) {
        // One hash of the id for the check and the insertion.
        let made = self.lots.insert(id, || LotState {
            made_time: time,
            made_index: index,
            wet_kg,
            current_kg: wet_kg,
            since_time: time,
            since_index: index,
            status: Status::Held,
            consumed_kg: Decimal::ZERO,
            illustrative,
        });
        let made_before = match made {
            None => return self.full(),
            Some((_, true)) => None,
            Some((slot, false)) => self.lots.value(slot).map(|old| old.made_index),
        };
        if let Some(made_index) = made_before {
            let mut f = Finding::new(
                Kind::ClaimedTwice,
                format!(
                    "lot {id} is made twice: at index {made_index} and again at index {index}{}",
                    by.map(|t| format!(" (by transformation {t})"))
                        .unwrap_or_default()
                ),
            )
            .lot(id)
            .site(site)
            .at(&[made_index, index]);
            if let Some(t) = by {
                f = f.transformation(t);
            }
            self.found(f);
            return;
        }
        self.track();
        flow_at(&mut self.flows, site, |flow| {
            flow.produced_kg = flow.produced_kg.saturating_add(wet_kg);
            flow.illustrative |= illustrative;
        });
    }

    fn ship(
        &mut self,
        id: &str,
        lots: &[String],
        from: &str,
        time: i64,
        index: u64,
        illustrative: bool,
    ) {
        self.seen(time);
        if let Some(old) = self.shipments.get(id) {
            let f = Finding::new(
                Kind::ClaimedTwice,
                format!(
                    "shipment {id} is recorded twice: at index {} and again at index {index}",
                    old.index
                ),
            )
            .shipment(id)
            .site(from)
            .at(&[old.index, index]);
            self.found(f);
            return;
        }
        let what = ("shipment", id);
        let Some(from_slot) = flow_at(&mut self.flows, from, |_| ()) else {
            return self.full();
        };
        let Some((shipment, _)) = self.shipments.insert(id, || ShipmentState {
            from: from_slot,
            time,
            index,
            received: None,
            illustrative,
        }) else {
            return self.full();
        };
        let mut shipped = Decimal::ZERO;
        let mut any_illustrative = illustrative;
        for lot in lots {
            // One look-up per lot: the findings are made while the lot's
            // state is borrowed, and recorded after.
            let Some(state) = self.lots.get_mut(lot) else {
                self.unknown_lot(lot, &format!("{} {}", what.0, what.1), index);
                continue;
            };
            shipped = shipped.saturating_add(state.current_kg);
            any_illustrative |= state.illustrative;
            let status = match &state.status {
                Status::Held => {
                    state.status = Status::InTransit { shipment, index };
                    None
                }
                Status::InTransit {
                    shipment: other,
                    index: at,
                } => Some({
                    let other = self.shipments.name(*other);
                    Finding::new(
                        Kind::ClaimedTwice,
                        format!(
                            "lot {lot} is shipped in shipment {id} (index {index}) while still in transit in shipment {other} (index {at}), never received"
                        ),
                    )
                    .lot(lot)
                    .shipment(other)
                    .shipment(id)
                    .at(&[*at, index])
                }),
                Status::Consumed {
                    transformation,
                    index: at,
                } => Some({
                    let transformation = self.transformations.name(*transformation);
                    Finding::new(
                        Kind::UsedAfterConsumed,
                        format!(
                            "lot {lot} is shipped in shipment {id} (index {index}) after transformation {transformation} consumed it (index {at})"
                        ),
                    )
                    .lot(lot)
                    .shipment(id)
                    .transformation(transformation)
                    .at(&[*at, index])
                }),
            };
            let dated = dated_after(state, lot, what, time, index, illustrative);
            for f in status.into_iter().chain(dated) {
                self.found(f);
            }
        }
        if let Some(flow) = self.flows.value_mut(from_slot) {
            flow.shipped_kg = flow.shipped_kg.saturating_add(shipped);
            flow.illustrative |= any_illustrative;
            if flow.crossed_at.is_none() && flow.shipped_kg > flow.available() {
                flow.crossed_at = Some(index);
            }
        }
        self.track();
    }

    fn receive(
        &mut self,
        shipment: &str,
        site: &str,
        lots: &[(String, Decimal)],
        time: i64,
        index: u64,
        illustrative: bool,
    ) {
        self.seen(time);
        let Some(sent) = self.shipments.get_mut(shipment) else {
            self.found(
                Finding::new(
                    Kind::CustodyGap,
                    format!(
                        "a receipt (index {index}) of shipment {shipment}, which the registry does not hold: received, never shipped"
                    ),
                )
                .shipment(shipment)
                .site(site)
                .at(&[index]),
            );
            return;
        };
        if let Some(first) = sent.received {
            let f = Finding::new(
                Kind::ClaimedTwice,
                format!(
                    "shipment {shipment} is received twice: at index {first} and again at index {index}"
                ),
            )
            .shipment(shipment)
            .site(site)
            .at(&[first, index]);
            self.found(f);
            return;
        }
        sent.received = Some(index);
        let (sent_time, sent_index, sent_illustrative) = (sent.time, sent.index, sent.illustrative);
        if time < sent_time {
            let f = Finding::new(
                Kind::OutOfTimeOrder,
                format!(
                    "the receipt of shipment {shipment} is dated {}, before the shipment left ({})",
                    self::time(time),
                    self::time(sent_time)
                ),
            )
            .shipment(shipment)
            .at(&[sent_index, index])
            .figures(illustrative || sent_illustrative);
            self.found(f);
        }
        let mut received = Decimal::ZERO;
        for (lot, mass) in lots {
            let Some(state) = self.lots.get_mut(lot) else {
                self.unknown_lot(lot, &format!("the receipt of shipment {shipment}"), index);
                continue;
            };
            if let Status::Consumed {
                transformation,
                index: at,
            } = &state.status
            {
                let (transformation, at) = (self.transformations.name(*transformation), *at);
                let f = Finding::new(
                    Kind::UsedAfterConsumed,
                    format!(
                        "lot {lot} is received in shipment {shipment} (index {index}) after transformation {transformation} consumed it (index {at})"
                    ),
                )
                .lot(lot)
                .shipment(shipment)
                .transformation(transformation)
                .at(&[at, index]);
                self.found(f);
                continue;
            }
            state.status = Status::Held;
            state.current_kg = *mass;
            state.since_time = time;
            state.since_index = index;
            received = received.saturating_add(*mass);
        }
        flow_at(&mut self.flows, site, |flow| {
            flow.received_kg = flow.received_kg.saturating_add(received);
            flow.illustrative |= illustrative;
        });
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the fields of a transformation record"
    )]
    fn transform(
        &mut self,
        id: &str,
        site: &str,
        inputs: &[(String, Decimal)],
        outputs: &[(String, Decimal)],
        time: i64,
        index: u64,
        illustrative: bool,
    ) {
        self.seen(time);
        let what = ("transformation", id);
        let Some((transformation, _)) = self.transformations.insert(id, || ()) else {
            return self.full();
        };
        for (lot, consumed) in inputs {
            // One look-up per input, as in `ship`.
            let Some(state) = self.lots.get_mut(lot) else {
                self.unknown_lot(lot, &format!("{} {}", what.0, what.1), index);
                continue;
            };
            let total = state.consumed_kg.saturating_add(*consumed);
            let mut found: Vec<Finding> = Vec::new();
            match &state.status {
                Status::Held => {}
                Status::InTransit {
                    shipment,
                    index: at,
                } => found.push({
                    let shipment = self.shipments.name(*shipment);
                    Finding::new(
                        Kind::ClaimedTwice,
                        format!(
                            "lot {lot} is consumed by transformation {id} (index {index}) while in transit in shipment {shipment} (index {at}), never received"
                        ),
                    )
                    .lot(lot)
                    .shipment(shipment)
                    .transformation(id)
                    .at(&[*at, index])
                }),
                Status::Consumed {
                    transformation: before,
                    index: at,
                } => {
                    let before = self.transformations.name(*before);
                    found.push(
                        Finding::new(
                            Kind::UsedAfterConsumed,
                            format!(
                                "lot {lot} is consumed by transformation {id} (index {index}) after transformation {before} consumed it (index {at})"
                            ),
                        )
                        .lot(lot)
                        .transformation(before)
                        .transformation(id)
                        .at(&[*at, index]),
                    );
                    if total > state.wet_kg {
                        found.push(
                            Finding::new(
                                Kind::ClaimedTwice,
                                format!(
                                    "lot {lot} ({} kg as made) is consumed twice: {} kg by transformation {before} and after, {} kg by transformation {id}, {} kg in all",
                                    kg(state.wet_kg),
                                    kg(total.saturating_sub(*consumed)),
                                    kg(*consumed),
                                    kg(total)
                                ),
                            )
                            .lot(lot)
                            .transformation(before)
                            .transformation(id)
                            .at(&[state.made_index, *at, index])
                            .figures(illustrative || state.illustrative),
                        );
                    }
                }
            }
            found.extend(dated_after(state, lot, what, time, index, illustrative));
            state.consumed_kg = total;
            if !matches!(state.status, Status::Consumed { .. }) {
                state.status = Status::Consumed {
                    transformation,
                    index,
                };
            }
            for f in found {
                self.found(f);
            }
        }
        for (lot, wet_kg) in outputs {
            self.make(lot, site, *wet_kg, time, index, illustrative, Some(id));
        }
    }

    /// The findings that need the whole log (custody gaps, exports above
    /// production), then every finding in log order.
    pub fn finish(mut self) -> Result<Report, Bound> {
        if let Some(bound) = self.over {
            return Err(bound);
        }
        if let Some(newest) = self.newest {
            let cutoff = newest.saturating_sub(self.config.custody_gap_seconds);
            let mut open: Vec<(Slot, &ShipmentState)> = self
                .shipments
                .iter()
                .filter(|(_, _, s)| s.received.is_none() && s.time < cutoff)
                .map(|(slot, _, s)| (slot, s))
                .collect();
            open.sort_by_key(|(_, s)| s.index);
            // The lots still in transit in each: one pass over the lots,
            // which are kept in the order they were made.
            let mut in_transit: HashMap<Slot, Vec<&str>> =
                open.iter().map(|(slot, _)| (*slot, Vec::new())).collect();
            for (_, lot, state) in self.lots.iter() {
                if let Status::InTransit { shipment, .. } = &state.status
                    && let Some(list) = in_transit.get_mut(shipment)
                {
                    list.push(lot);
                }
            }
            let mut gaps = Vec::new();
            for (slot, s) in open {
                let id = self.shipments.name(slot);
                let from = self.flows.name(s.from);
                let days = newest.saturating_sub(s.time) / 86_400;
                let mut f = Finding::new(
                    Kind::CustodyGap,
                    format!(
                        "shipment {id} left {} on {} and was never received: {days} days before the newest record ({})",
                        from,
                        time(s.time),
                        time(newest)
                    ),
                )
                .shipment(id)
                .site(from)
                .at(&[s.index])
                .figures(s.illustrative);
                for lot in in_transit.get(&slot).into_iter().flatten() {
                    f = f.lot(lot);
                }
                gaps.push(f);
            }
            for f in gaps {
                self.found(f);
            }
        }
        let mut flows: Vec<(&str, &SiteFlow)> = self
            .flows
            .iter()
            .filter(|(_, _, f)| f.shipped_kg > f.available())
            .map(|(_, site, f)| (site, f))
            .collect();
        flows.sort_by(|a, b| a.0.cmp(b.0));
        let mut above = Vec::new();
        for (site, flow) in flows {
            let f = Finding::new(
                Kind::ExportAboveProduction,
                format!(
                    "site {site} shipped out {} kg (wet) but only {} kg was made there and {} kg received there: {} kg more than it had",
                    kg(flow.shipped_kg),
                    kg(flow.produced_kg),
                    kg(flow.received_kg),
                    kg(flow.shipped_kg.saturating_sub(flow.available()))
                ),
            )
            .site(site)
            .at(&flow.crossed_at.into_iter().collect::<Vec<_>>())
            .figures(flow.illustrative);
            above.push(f);
        }
        for f in above {
            self.found(f);
        }
        if let Some(bound) = self.over {
            return Err(bound);
        }
        for f in &mut self.findings {
            f.evidence.sort_unstable();
            f.evidence.dedup();
        }
        self.findings
            .sort_by_key(|f| (f.evidence.last().copied(), f.kind));
        Ok(Report {
            items: self.items,
            newest: self.newest,
            findings: self.findings,
        })
    }
}

/// Scans `items`, in log order.
pub fn scan(items: impl IntoIterator<Item = Item>, config: ScanConfig) -> Result<Report, Bound> {
    let mut s = Scan::new(config);
    for item in items {
        s.push(&item);
    }
    s.finish()
}
