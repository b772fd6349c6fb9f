//! The lot graph the caller builds from the ledger's projections: sites,
//! lots (with their grades, custodian and movements) and transformations.
//! Every item keeps the log index of the record that states it, so every
//! answer can name its evidence.

use std::collections::HashMap;
use std::fmt;

use rust_decimal::Decimal;

use oretrace_domain::chemistry::{Analyte, Element, GradeUnit};
use oretrace_domain::record::{Basis, SiteKind};
use oretrace_domain::values::{Country, LotId, Mass, PartyId, Percent, SiteId, Timestamp, Token};

use crate::Error;

/// Most inputs one transformation may list: the domain's bound on the
/// items of a record, checked again here for graphs not built by the
/// ledger.
pub const MAX_INPUTS: usize = oretrace_domain::record::MAX_ITEMS;

/// How much of the graph one call may visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most lots in an upstream graph, the lot itself included.
    pub max_upstream_lots: usize,
    /// Most shipments of all those lots together: a lot shipped back and
    /// forth a million times must not make every downstream answer huge.
    pub max_movements: usize,
}

impl Limits {
    /// The default bounds: 50,000 upstream lots, 200,000 shipments.
    pub const DEFAULT: Limits = Limits {
        max_upstream_lots: 50_000,
        max_movements: 200_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A site as provenance needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub kind: SiteKind,
    pub country: Country,
    /// Log index of the site's record.
    pub index: u64,
}

/// An element grade on the dry basis, in percent of the dry mass, with
/// its stated uncertainty (± percentage points on the same basis), if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grade {
    element: Element,
    percent: Decimal,
    uncertainty: Option<Decimal>,
    index: u64,
}

impl Grade {
    /// A dry-basis element grade, as it stands. `index` is the log index
    /// of the assay that states it.
    pub fn dry(
        element: Element,
        percent: Percent,
        uncertainty: Option<Percent>,
        index: u64,
    ) -> Self {
        Grade {
            element,
            percent: percent.value(),
            uncertainty: uncertainty.map(|u| u.value()),
            index,
        }
    }

    /// The element grade an assay states, converted with the domain's
    /// chemistry: unit to percent, oxide to element (÷ the oxide factor),
    /// wet basis to dry (÷ (1 − moisture)). `uncertainty` is ± in the
    /// assay's own analyte, unit and basis, and is converted alike.
    /// Refuses a result above 100 % (a wet grade too high for the
    /// moisture).
    pub fn from_assay(
        analyte: Analyte,
        value: Decimal,
        unit: GradeUnit,
        basis: Basis,
        moisture: Percent,
        uncertainty: Option<Decimal>,
        index: u64,
    ) -> Result<Self, Error> {
        let convert = |v: Decimal| -> Result<Decimal, Error> {
            let element = analyte.to_element_grade(unit.to_percent(v));
            let dry = match basis {
                Basis::Dry => element,
                Basis::Wet => {
                    let solids = Decimal::ONE - moisture.value() / Decimal::ONE_HUNDRED;
                    element.checked_div(solids).ok_or(Error::Arithmetic)?
                }
            };
            Ok(dry)
        };
        let bad = |why: String| Error::Grade {
            element: analyte.element().symbol(),
            why,
        };
        if value.is_sign_negative() && !value.is_zero() {
            return Err(bad("a grade may not be negative".into()));
        }
        let percent = convert(value)?;
        let uncertainty = uncertainty
            .map(|u| {
                if u.is_sign_negative() && !u.is_zero() {
                    return Err(bad("an uncertainty may not be negative".into()));
                }
                convert(u)
            })
            .transpose()?;
        let percent = Percent::new(percent)
            .map_err(|_| bad(format!("{percent} % on the dry basis is over 100 %")))?;
        let uncertainty = uncertainty
            .map(|u| {
                Percent::new(u)
                    .map_err(|_| bad(format!("an uncertainty of {u} points is over 100")))
            })
            .transpose()?;
        Ok(Grade::dry(analyte.element(), percent, uncertainty, index))
    }

    pub fn element(&self) -> Element {
        self.element
    }

    /// Percent of the dry mass.
    pub fn percent(&self) -> Decimal {
        self.percent
    }

    /// ± percentage points, when the assay states it.
    pub fn uncertainty(&self) -> Option<Decimal> {
        self.uncertainty
    }

    /// Log index of the assay.
    pub fn index(&self) -> u64 {
        self.index
    }
}

/// A receipt of one lot: when, and what it weighed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub time: Timestamp,
    pub wet_mass: Mass,
    /// Log index of the receipt.
    pub index: u64,
}

/// A shipment of a lot, received or not yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    pub shipment: Token,
    pub from: SiteId,
    /// Sites passed on the way (ports), in order.
    pub via: Vec<SiteId>,
    pub to: SiteId,
    pub shipper: PartyId,
    pub receiver: PartyId,
    pub shipped: Timestamp,
    pub arrival: Option<Arrival>,
    /// Log index of the shipment.
    pub index: u64,
}

/// A lot: where and when it was made, by which transformation (none for
/// a lot commissioned at a site: an origin), its mass, its grades and its
/// movements in time order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    pub id: LotId,
    /// Where it was commissioned or produced.
    pub site: SiteId,
    /// Its custodian when it was made.
    pub custodian: PartyId,
    pub created: Timestamp,
    /// The transformation that produced it; `None` for a commissioned lot.
    pub produced_by: Option<Token>,
    /// Wet mass as recorded when it was made.
    pub wet_mass: Mass,
    /// Moisture in percent of the wet mass.
    pub moisture: Percent,
    /// One grade per element at most (the ledger: the latest).
    pub grades: Vec<Grade>,
    pub movements: Vec<Movement>,
    /// Log index of the record that made it (lot or transformation).
    pub index: u64,
}

impl Lot {
    /// Dry mass in kg: wet × (1 − moisture).
    pub fn dry_kg(&self) -> Decimal {
        dry(self.wet_mass.kilograms(), self.moisture)
    }

    /// Its grade of `element`, if assayed.
    pub fn grade(&self, element: Element) -> Option<&Grade> {
        self.grades.iter().find(|g| g.element == element)
    }

    /// Contained mass of `element` in kg (dry mass × grade), if assayed.
    pub fn contained_kg(&self, element: Element) -> Option<Decimal> {
        self.grade(element)
            .map(|g| self.dry_kg() * g.percent * PER_CENT)
    }
}

/// `wet` kg at `moisture` percent, dry.
pub(crate) fn dry(wet: Decimal, moisture: Percent) -> Decimal {
    wet * (Decimal::ONE - moisture.value() * PER_CENT)
}

/// 0.01, exactly: multiplying by it only moves the decimal point, and is
/// much cheaper than dividing by 100.
pub(crate) const PER_CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// A transformation: input lots with the wet mass consumed of each become
/// output lots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transformation {
    pub id: Token,
    pub site: SiteId,
    pub time: Timestamp,
    pub inputs: Vec<(LotId, Mass)>,
    pub outputs: Vec<LotId>,
    /// Log index of the transformation.
    pub index: u64,
}

/// Sites, lots and transformations, by id. Adding checks each item on its
/// own (no duplicates, bounded fan-in); references between items are
/// checked when a walk meets them, so a graph may be built in any order.
#[derive(Clone, Debug, Default)]
pub struct LotGraph {
    pub(crate) sites: HashMap<SiteId, Site>,
    pub(crate) lots: HashMap<LotId, Lot>,
    pub(crate) transformations: HashMap<Token, Transformation>,
}

impl LotGraph {
    pub fn new() -> Self {
        LotGraph::default()
    }

    pub fn add_site(&mut self, site: Site) -> Result<(), Error> {
        if self.sites.contains_key(&site.id) {
            return Err(Error::Duplicate(format!("site {}", site.id)));
        }
        self.sites.insert(site.id.clone(), site);
        Ok(())
    }

    pub fn add_lot(&mut self, lot: Lot) -> Result<(), Error> {
        if self.lots.contains_key(&lot.id) {
            return Err(Error::Duplicate(format!("lot {}", lot.id)));
        }
        for (i, g) in lot.grades.iter().enumerate() {
            if lot.grades[..i].iter().any(|h| h.element == g.element) {
                return Err(Error::Duplicate(format!(
                    "grade of {} in lot {}",
                    g.element.symbol(),
                    lot.id
                )));
            }
        }
        let total: Decimal = lot.grades.iter().map(|g| g.percent).sum();
        if total > Decimal::ONE_HUNDRED {
            return Err(Error::Grade {
                element: lot.grades.first().map_or("", |g| g.element.symbol()),
                why: format!(
                    "the grades of lot {} add up to {total} %, more than the lot",
                    lot.id
                ),
            });
        }
        self.lots.insert(lot.id.clone(), lot);
        Ok(())
    }

    pub fn add_transformation(&mut self, t: Transformation) -> Result<(), Error> {
        if self.transformations.contains_key(&t.id) {
            return Err(Error::Duplicate(format!("transformation {}", t.id)));
        }
        if t.inputs.is_empty() || t.inputs.len() > MAX_INPUTS {
            return Err(Error::FanIn {
                transformation: t.id.to_string(),
                inputs: t.inputs.len(),
            });
        }
        if t.outputs.is_empty() || t.outputs.len() > MAX_INPUTS {
            return Err(Error::FanOut {
                transformation: t.id.to_string(),
                outputs: t.outputs.len(),
            });
        }
        for (i, (id, _)) in t.inputs.iter().enumerate() {
            if t.inputs[..i].iter().any(|(other, _)| other == id) {
                return Err(Error::Duplicate(format!(
                    "input {id} of transformation {}",
                    t.id
                )));
            }
        }
        self.transformations.insert(t.id.clone(), t);
        Ok(())
    }

    pub fn lot(&self, id: &LotId) -> Option<&Lot> {
        self.lots.get(id)
    }

    pub fn site(&self, id: &SiteId) -> Option<&Site> {
        self.sites.get(id)
    }

    pub fn transformation(&self, id: &Token) -> Option<&Transformation> {
        self.transformations.get(id)
    }

    pub(crate) fn need_lot(
        &self,
        id: &LotId,
        referenced_by: &dyn fmt::Display,
    ) -> Result<&Lot, Error> {
        self.lots.get(id).ok_or_else(|| Error::MissingLot {
            lot: id.to_string(),
            referenced_by: referenced_by.to_string(),
        })
    }

    pub(crate) fn need_site(
        &self,
        id: &SiteId,
        referenced_by: &dyn fmt::Display,
    ) -> Result<&Site, Error> {
        self.sites.get(id).ok_or_else(|| Error::MissingSite {
            site: id.to_string(),
            referenced_by: referenced_by.to_string(),
        })
    }

    pub(crate) fn need_transformation(
        &self,
        id: &Token,
        referenced_by: &dyn fmt::Display,
    ) -> Result<&Transformation, Error> {
        self.transformations
            .get(id)
            .ok_or_else(|| Error::MissingTransformation {
                transformation: id.to_string(),
                referenced_by: referenced_by.to_string(),
            })
    }
}
