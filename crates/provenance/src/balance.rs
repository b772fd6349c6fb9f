//! Mass balance of one transformation, per element: contained element out
//! against contained element in, within the assays' stated uncertainty or
//! the operator's default tolerance; recovery per element and mass yield.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use oretrace_domain::chemistry::Element;
use oretrace_domain::values::{LotId, Percent, Token};

use crate::Error;
use crate::graph::{Grade, Lot, LotGraph, dry};

/// The operator's default tolerance, applied to a grade whose assay states
/// no uncertainty: a percentage of the grade (2 % of a 22 % grade is ±0.44
/// percentage points).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tolerance {
    relative_percent: Decimal,
}

impl Tolerance {
    /// `percent` of each grade that states no uncertainty.
    pub fn relative(percent: Percent) -> Self {
        Tolerance {
            relative_percent: percent.value(),
        }
    }

    /// No allowance beyond the uncertainties the assays state.
    pub fn stated_only() -> Self {
        Tolerance {
            relative_percent: Decimal::ZERO,
        }
    }

    pub fn relative_percent(&self) -> Decimal {
        self.relative_percent
    }

    /// ± kg of the element in `dry_kg` at `grade`.
    fn allowance_kg(&self, grade: &Grade, dry_kg: Decimal) -> Decimal {
        let points = grade
            .uncertainty()
            .unwrap_or(grade.percent() * self.relative_percent / Decimal::ONE_HUNDRED);
        dry_kg * points / Decimal::ONE_HUNDRED
    }
}

/// The verdict on one element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Out ≤ in + allowance.
    Holds,
    /// Out > in + allowance, every input assayed: the assays prove the
    /// transformation made metal. Refused.
    Exceeds { excess_kg: Decimal },
    /// Out > in + allowance, but an input has no grade for the element
    /// and may hold the difference: flagged, not refused.
    Unverified { excess_kg: Decimal },
}

/// One element's balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementBalance {
    pub element: Element,
    /// Contained in the consumed inputs (assayed ones).
    pub in_kg: Decimal,
    /// Contained in the outputs (assayed ones).
    pub out_kg: Decimal,
    /// What the assays' uncertainty allows out beyond in.
    pub allowance_kg: Decimal,
    /// Out / in, when in > 0 and every output is assayed.
    pub recovery: Option<Decimal>,
    pub verdict: Verdict,
    pub unassayed_inputs: Vec<LotId>,
    pub unassayed_outputs: Vec<LotId>,
    /// Log indices of the assays the figures rest on.
    pub assays: Vec<u64>,
}

/// The balance of one transformation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    pub transformation: Token,
    /// Log index of the transformation.
    pub index: u64,
    pub dry_in_kg: Decimal,
    pub dry_out_kg: Decimal,
    /// Dry out / dry in, when anything went in.
    pub mass_yield: Option<Decimal>,
    /// Per element graded in any input or output, by symbol.
    pub elements: Vec<ElementBalance>,
}

impl Balance {
    /// The first element whose balance the assays prove broken, if any:
    /// the reason to refuse.
    pub fn refused(&self) -> Option<&ElementBalance> {
        self.elements
            .iter()
            .find(|e| matches!(e.verdict, Verdict::Exceeds { .. }))
    }

    pub fn element(&self, element: Element) -> Option<&ElementBalance> {
        self.elements.iter().find(|e| e.element == element)
    }
}

/// The mass balance of transformation `id` in `graph`.
pub fn mass_balance(graph: &LotGraph, id: &Token, tolerance: &Tolerance) -> Result<Balance, Error> {
    let t = graph.need_transformation(id, &"the request")?;
    let by = format!("transformation {id}");
    let inputs: Vec<(&Lot, Decimal)> = t
        .inputs
        .iter()
        .map(|(lot, consumed)| {
            let lot = graph.need_lot(lot, &by)?;
            Ok((lot, dry(consumed.kilograms(), lot.moisture)))
        })
        .collect::<Result<_, Error>>()?;
    let outputs: Vec<(&Lot, Decimal)> = t
        .outputs
        .iter()
        .map(|lot| {
            let lot = graph.need_lot(lot, &by)?;
            Ok((lot, lot.dry_kg()))
        })
        .collect::<Result<_, Error>>()?;
    let dry_in_kg: Decimal = inputs.iter().map(|(_, d)| *d).sum();
    let dry_out_kg: Decimal = outputs.iter().map(|(_, d)| *d).sum();
    let mut elements: BTreeMap<&'static str, Element> = BTreeMap::new();
    for (lot, _) in inputs.iter().chain(&outputs) {
        for g in &lot.grades {
            elements.insert(g.element().symbol(), g.element());
        }
    }
    let side = |lots: &[(&Lot, Decimal)], element: Element| {
        let mut kg = Decimal::ZERO;
        let mut allowance = Decimal::ZERO;
        let mut unassayed = Vec::new();
        let mut assays = Vec::new();
        for (lot, dry_kg) in lots {
            match lot.grade(element) {
                Some(g) => {
                    kg += *dry_kg * g.percent() / Decimal::ONE_HUNDRED;
                    allowance += tolerance.allowance_kg(g, *dry_kg);
                    assays.push(g.index());
                }
                None => unassayed.push(lot.id.clone()),
            }
        }
        (kg, allowance, unassayed, assays)
    };
    let elements = elements
        .into_values()
        .map(|element| {
            let (in_kg, allow_in, unassayed_inputs, mut assays) = side(&inputs, element);
            let (out_kg, allow_out, unassayed_outputs, more) = side(&outputs, element);
            assays.extend(more);
            let allowance_kg = allow_in + allow_out;
            let excess_kg = out_kg - in_kg - allowance_kg;
            let verdict = if excess_kg <= Decimal::ZERO {
                Verdict::Holds
            } else if unassayed_inputs.is_empty() {
                Verdict::Exceeds { excess_kg }
            } else {
                Verdict::Unverified { excess_kg }
            };
            let recovery =
                (in_kg > Decimal::ZERO && unassayed_outputs.is_empty()).then(|| out_kg / in_kg);
            ElementBalance {
                element,
                in_kg,
                out_kg,
                allowance_kg,
                recovery,
                verdict,
                unassayed_inputs,
                unassayed_outputs,
                assays,
            }
        })
        .collect();
    Ok(Balance {
        transformation: t.id.clone(),
        index: t.index,
        dry_in_kg,
        dry_out_kg,
        mass_yield: (dry_in_kg > Decimal::ZERO).then(|| dry_out_kg / dry_in_kg),
        elements,
    })
}
