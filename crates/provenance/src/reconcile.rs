//! Shipment reconciliation, per lot: what was shipped against what was
//! received (wet mass, dry mass, grade and contained mass per element),
//! each difference judged against a tolerance and kept with both sides'
//! evidence.

use rust_decimal::Decimal;

use oretrace_domain::chemistry::Element;
use oretrace_domain::values::{LotId, Mass, Percent};

use crate::graph::Grade;

/// One side of a reconciliation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    pub wet_mass: Mass,
    /// Moisture, when measured on this side. A received side without one
    /// is taken at the shipped moisture, and its dry mass is then not
    /// compared (it would be the wet mass again).
    pub moisture: Option<Percent>,
    /// One per element at most.
    pub grades: Vec<Grade>,
    /// Log indices of the records this side states (lot, assays,
    /// shipment or receipt).
    pub evidence: Vec<u64>,
}

/// How far the two sides may differ, each in percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReconcileTolerance {
    wet_mass_percent: Decimal,
    dry_mass_percent: Decimal,
    grade_relative_percent: Decimal,
    /// When set, the grade tolerance in percentage points, whatever the
    /// assays state.
    grade_points: Option<Decimal>,
    contained_percent: Decimal,
}

impl ReconcileTolerance {
    /// Percent of the shipped wet mass, of the shipped dry mass, of the
    /// shipped grade (used when the two assays do not both state an
    /// uncertainty; when they do, their sum is the tolerance) and of the
    /// shipped contained mass of an element.
    pub fn new(
        wet_mass: Percent,
        dry_mass: Percent,
        grade_relative: Percent,
        contained: Percent,
    ) -> Self {
        ReconcileTolerance {
            wet_mass_percent: wet_mass.value(),
            dry_mass_percent: dry_mass.value(),
            grade_relative_percent: grade_relative.value(),
            grade_points: None,
            contained_percent: contained.value(),
        }
    }

    /// The same, with both mass tolerances (wet and dry) set to `percent`
    /// of the shipped mass.
    pub fn with_mass_percent(self, percent: Percent) -> Self {
        ReconcileTolerance {
            wet_mass_percent: percent.value(),
            dry_mass_percent: percent.value(),
            ..self
        }
    }

    /// The same, with the grade tolerance set to `points` percentage
    /// points of the dry-basis element grade, in place of the assays'
    /// uncertainties and of the relative tolerance.
    pub fn with_grade_points(self, points: Percent) -> Self {
        ReconcileTolerance {
            grade_points: Some(points.value()),
            ..self
        }
    }

    /// Percent of the shipped wet mass.
    pub fn wet_mass_percent(&self) -> Decimal {
        self.wet_mass_percent
    }

    /// Percent of the shipped dry mass.
    pub fn dry_mass_percent(&self) -> Decimal {
        self.dry_mass_percent
    }

    /// Percent of the shipped grade, used when neither
    /// [`Self::grade_points`] is set nor both assays state an uncertainty.
    pub fn grade_relative_percent(&self) -> Decimal {
        self.grade_relative_percent
    }

    /// Percentage points of grade, when set.
    pub fn grade_points(&self) -> Option<Decimal> {
        self.grade_points
    }

    /// Percent of the shipped contained mass of an element.
    pub fn contained_percent(&self) -> Decimal {
        self.contained_percent
    }
}

impl Default for ReconcileTolerance {
    /// 0.5 % on masses, 2 % on grades and contained masses.
    fn default() -> Self {
        ReconcileTolerance {
            wet_mass_percent: Decimal::new(5, 1),
            dry_mass_percent: Decimal::new(5, 1),
            grade_relative_percent: Decimal::TWO,
            grade_points: None,
            contained_percent: Decimal::TWO,
        }
    }
}

/// What a difference is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// kg.
    WetMass,
    /// kg.
    DryMass,
    /// Percentage points of the dry-basis element grade.
    Grade(Element),
    /// kg of the element.
    Contained(Element),
}

/// One compared quantity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub quantity: Quantity,
    pub shipped: Decimal,
    pub received: Decimal,
    /// Received − shipped, in the quantity's unit.
    pub difference: Decimal,
    /// The difference in percent of the shipped value (none when that is 0).
    pub relative_percent: Option<Decimal>,
    /// The largest allowed |difference|, in the quantity's unit.
    pub tolerance: Decimal,
    pub within: bool,
}

/// The reconciliation of one lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reconciliation {
    pub lot: LotId,
    pub differences: Vec<Difference>,
    /// Elements assayed on one side only: not compared.
    pub not_compared: Vec<Element>,
    pub shipped_evidence: Vec<u64>,
    pub received_evidence: Vec<u64>,
}

impl Reconciliation {
    /// The differences outside tolerance.
    pub fn flagged(&self) -> impl Iterator<Item = &Difference> {
        self.differences.iter().filter(|d| !d.within)
    }

    pub fn difference(&self, quantity: Quantity) -> Option<&Difference> {
        self.differences.iter().find(|d| d.quantity == quantity)
    }
}

fn compare(
    quantity: Quantity,
    shipped: Decimal,
    received: Decimal,
    tolerance: Decimal,
) -> Difference {
    let difference = received - shipped;
    Difference {
        quantity,
        shipped,
        received,
        difference,
        relative_percent: (!shipped.is_zero()).then(|| difference * Decimal::ONE_HUNDRED / shipped),
        tolerance,
        within: difference.abs() <= tolerance,
    }
}

fn share_of(value: Decimal, percent: Decimal) -> Decimal {
    value * percent / Decimal::ONE_HUNDRED
}

/// Reconciles what was shipped of `lot` with what was received.
pub fn reconcile(
    lot: &LotId,
    shipped: &Side,
    received: &Side,
    tolerance: &ReconcileTolerance,
) -> Reconciliation {
    let mut differences = Vec::new();
    let wet_s = shipped.wet_mass.kilograms();
    let wet_r = received.wet_mass.kilograms();
    differences.push(compare(
        Quantity::WetMass,
        wet_s,
        wet_r,
        share_of(wet_s, tolerance.wet_mass_percent),
    ));
    let solids = |m: Option<Percent>| {
        Decimal::ONE - m.map_or(Decimal::ZERO, |m| m.value()) / Decimal::ONE_HUNDRED
    };
    let dry_s = wet_s * solids(shipped.moisture);
    let dry_r = wet_r * solids(received.moisture.or(shipped.moisture));
    if shipped.moisture.is_some() && received.moisture.is_some() {
        differences.push(compare(
            Quantity::DryMass,
            dry_s,
            dry_r,
            share_of(dry_s, tolerance.dry_mass_percent),
        ));
    }
    let mut not_compared = Vec::new();
    let mut elements: Vec<Element> = shipped
        .grades
        .iter()
        .chain(&received.grades)
        .map(Grade::element)
        .collect();
    elements.sort_by_key(|e| e.symbol());
    elements.dedup();
    for element in elements {
        let find = |side: &Side| side.grades.iter().find(|g| g.element() == element).copied();
        let (Some(gs), Some(gr)) = (find(shipped), find(received)) else {
            not_compared.push(element);
            continue;
        };
        let grade_tolerance = match (tolerance.grade_points, gs.uncertainty(), gr.uncertainty()) {
            (Some(points), _, _) => points,
            (None, Some(us), Some(ur)) => us + ur,
            _ => gs.percent() * tolerance.grade_relative_percent / Decimal::ONE_HUNDRED,
        };
        differences.push(compare(
            Quantity::Grade(element),
            gs.percent(),
            gr.percent(),
            grade_tolerance,
        ));
        let cs = dry_s * gs.percent() / Decimal::ONE_HUNDRED;
        let cr = dry_r * gr.percent() / Decimal::ONE_HUNDRED;
        differences.push(compare(
            Quantity::Contained(element),
            cs,
            cr,
            share_of(cs, tolerance.contained_percent),
        ));
    }
    Reconciliation {
        lot: lot.clone(),
        differences,
        not_compared,
        shipped_evidence: shipped.evidence.clone(),
        received_evidence: received.evidence.clone(),
    }
}
