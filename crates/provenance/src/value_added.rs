//! Local value addition: for each exported lot, the furthest value-chain
//! stage its material reached in the exporting country, and the element
//! mass exported at each stage, summed per country, element and stage
//! (`docs/design/provenance.md`, "Local value addition").
//!
//! * [`Stage`]: the value chain in order, and the stage of each lot form
//!   ([`Stage::of_form`]; a consignment has none of its own).
//! * [`is_export`]: a shipment from a site in one country to a site in
//!   another; the ports it passes do not matter.
//! * [`export_stage`]: the stage of an exported lot (a consignment's is
//!   the furthest of what it holds) and the furthest stage at which any
//!   of its material entered the exporting country from abroad, by a
//!   bounded walk the caller feeds one lot at a time.
//! * [`totals`]: the lines summed per exporting country, element and
//!   stage, with each stage's share of the country's exports of the
//!   element.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;

use oretrace_domain::chemistry::Element;
use oretrace_domain::record::LotForm;
use oretrace_domain::values::{Country, LotId, Timestamp, Token};

use crate::Error;
use crate::graph::{Grade, PER_CENT};

/// A value-chain stage, in chain order: a later stage is further along.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    ExplorationSample,
    Ore,
    Concentrate,
    MixedCompound,
    SeparatedOxide,
    Metal,
    Alloy,
    Product,
}

impl Stage {
    /// Every stage, in chain order.
    pub const ALL: [Stage; 8] = [
        Stage::ExplorationSample,
        Stage::Ore,
        Stage::Concentrate,
        Stage::MixedCompound,
        Stage::SeparatedOxide,
        Stage::Metal,
        Stage::Alloy,
        Stage::Product,
    ];

    /// The stage of a lot of `form`: a sample is an exploration sample, a
    /// compound a mixed compound, an oxide a separated oxide, a cathode a
    /// metal (refined metal in cathode form), a magnet a product. A
    /// consignment (a packing of lots) has no stage of its own: `None`,
    /// and [`export_stage`] takes the furthest of what it holds.
    pub fn of_form(form: LotForm) -> Option<Stage> {
        Some(match form {
            LotForm::Sample => Stage::ExplorationSample,
            LotForm::Ore => Stage::Ore,
            LotForm::Concentrate => Stage::Concentrate,
            LotForm::Compound => Stage::MixedCompound,
            LotForm::Oxide => Stage::SeparatedOxide,
            LotForm::Metal | LotForm::Cathode => Stage::Metal,
            LotForm::Alloy => Stage::Alloy,
            LotForm::Magnet => Stage::Product,
            LotForm::Consignment => return None,
        })
    }

    /// The stage's name in answers: `exploration sample`, `ore`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::ExplorationSample => "exploration sample",
            Stage::Ore => "ore",
            Stage::Concentrate => "concentrate",
            Stage::MixedCompound => "mixed compound",
            Stage::SeparatedOxide => "separated oxide",
            Stage::Metal => "metal",
            Stage::Alloy => "alloy",
            Stage::Product => "product",
        }
    }
}

/// Whether a shipment from a site in `from` to a site in `to` is an
/// export, and if so by which country: the departure country, when the
/// destination is in another. Ports passed on the way (`via`) are not
/// asked: material in transit through a port abroad is neither imported
/// there nor exported from there, and a shipment that leaves and comes
/// back to the same country is no export.
pub fn is_export(from: Country, to: Country) -> Option<Country> {
    (from != to).then_some(from)
}

/// What [`export_stage`] needs of one lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LotNode {
    pub form: LotForm,
    /// The country of the site where it was commissioned or produced.
    pub made_in: Country,
    /// The lots it was made from (none for a commissioned lot).
    pub inputs: Vec<LotId>,
}

/// The stage an exported lot left at, and how far along its material was
/// when it came into the exporting country.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportStage {
    /// The lot's stage; a consignment's is the furthest stage of the lots
    /// it holds (through nested consignments). `None` for a consignment
    /// with nothing recorded in it (commissioned as a consignment).
    pub stage: Option<Stage>,
    /// The furthest stage at which any of its material entered the
    /// exporting country: a lot made abroad that it was made from
    /// (through any number of transformations in the country), or the
    /// lot itself when it was made abroad. `None` when all of it was
    /// mined or made in the country.
    pub entered: Option<Stage>,
    /// Lots read for the answer.
    pub lots_read: usize,
}

impl ExportStage {
    /// Whether the exporting country took the material further than it
    /// came in: always for material wholly mined or made there; for
    /// imported material, when the exported stage is past the stage it
    /// entered at (a re-export as it came is not local value addition).
    pub fn added_locally(&self) -> bool {
        match (self.stage, self.entered) {
            (_, None) => true,
            (Some(stage), Some(entered)) => stage > entered,
            (None, Some(_)) => false,
        }
    }
}

/// Reads lots for a walk, counting them against `limit`.
struct Reader<'a, E, F> {
    read: F,
    limit: usize,
    lots_read: usize,
    start: &'a LotId,
    _error: std::marker::PhantomData<E>,
}

impl<E: From<Error>, F: FnMut(&LotId) -> Result<LotNode, E>> Reader<'_, E, F> {
    fn read(&mut self, lot: &LotId) -> Result<LotNode, E> {
        self.lots_read += 1;
        if self.lots_read > self.limit {
            return Err(Error::TooManyLots {
                lot: self.start.to_string(),
                limit: self.limit,
            }
            .into());
        }
        (self.read)(lot)
    }

    /// The stage of `node` (the lot `id`): its form's, or for a
    /// consignment the furthest of the non-consignment lots reached
    /// through consignments.
    fn stage(&mut self, id: &LotId, node: &LotNode) -> Result<Option<Stage>, E> {
        if let Some(stage) = Stage::of_form(node.form) {
            return Ok(Some(stage));
        }
        let mut furthest = None;
        let mut seen: HashSet<LotId> = HashSet::from([id.clone()]);
        let mut stack: Vec<LotId> = node.inputs.clone();
        while let Some(lot) = stack.pop() {
            if !seen.insert(lot.clone()) {
                continue;
            }
            let held = self.read(&lot)?;
            match Stage::of_form(held.form) {
                Some(stage) => furthest = furthest.max(Some(stage)),
                None => stack.extend(held.inputs),
            }
        }
        Ok(furthest)
    }
}

/// The stage at which `lot` was exported from `exporter`, and the
/// furthest stage at which its material entered `exporter` from abroad.
///
/// `read` gives a lot's form, country of making and inputs. The walk goes
/// upstream through the lots made in `exporter` only, and stops at each
/// lot made abroad (its stage is the stage the material came in at) and
/// at each commissioned lot. It reads at most `limit` lots (counting
/// re-reads of a lot met on two paths once per path), and returns
/// [`Error::TooManyLots`] past that; it never recurses, and a cycle
/// (possible only in a damaged store) ends where it closes.
pub fn export_stage<E, F>(
    lot: &LotId,
    exporter: Country,
    limit: usize,
    read: F,
) -> Result<ExportStage, E>
where
    E: From<Error>,
    F: FnMut(&LotId) -> Result<LotNode, E>,
{
    let mut reader = Reader {
        read,
        limit,
        lots_read: 0,
        start: lot,
        _error: std::marker::PhantomData,
    };
    let node = reader.read(lot)?;
    let stage = reader.stage(lot, &node)?;
    if node.made_in != exporter {
        return Ok(ExportStage {
            stage,
            entered: stage,
            lots_read: reader.lots_read,
        });
    }
    let mut entered: Option<Stage> = None;
    let mut seen: HashSet<LotId> = HashSet::from([lot.clone()]);
    let mut stack: Vec<LotId> = node.inputs;
    while let Some(id) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let input = reader.read(&id)?;
        if input.made_in == exporter {
            stack.extend(input.inputs);
        } else {
            let came_in_at = reader.stage(&id, &input)?;
            entered = entered.max(came_in_at);
        }
    }
    Ok(ExportStage {
        stage,
        entered,
        lots_read: reader.lots_read,
    })
}

/// One exported lot: what left which country at what stage, with its dry
/// mass and grades as they stood before the shipment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportLine {
    pub lot: LotId,
    pub shipment: Token,
    /// Log index of the shipment.
    pub shipment_index: u64,
    pub time: Timestamp,
    /// The exporting (departure) country.
    pub exporter: Country,
    /// The destination's country.
    pub destination: Country,
    pub stage: ExportStage,
    /// Dry mass in kg before the shipment.
    pub dry_kg: Decimal,
    /// The latest grade per element before the shipment (dry basis).
    pub grades: Vec<Grade>,
}

impl ExportLine {
    /// Contained kg per assayed element (dry mass × grade), with the log
    /// index of the assay, in the order of the element symbols.
    pub fn contained(&self) -> Vec<(Element, Decimal, u64)> {
        let mut out: Vec<(Element, Decimal, u64)> = self
            .grades
            .iter()
            .map(|g| (g.element(), self.dry_kg * g.percent() * PER_CENT, g.index()))
            .collect();
        out.sort_by_key(|(e, _, _)| e.symbol());
        out
    }
}

/// The exports of one element from one country at one stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Total {
    pub exporter: Country,
    pub element: Element,
    /// `None`: consignments with nothing recorded in them.
    pub stage: Option<Stage>,
    /// Contained kg of the element.
    pub kg: Decimal,
    /// Of which in lots that left at the stage their material came in at
    /// (re-exports, no local value added).
    pub reexported_kg: Decimal,
    /// Exported lots counted (a lot exported twice counts twice).
    pub lots: usize,
    /// `kg` in percent of the country's exports of the element at every
    /// stage (0 when those are 0 kg).
    pub share_percent: Decimal,
}

/// The lines summed per exporting country, element and stage, ordered by
/// country, element symbol and stage. Unassayed elements of a lot count
/// nowhere: a total is of assayed contained mass.
pub fn totals(lines: &[ExportLine]) -> Result<Vec<Total>, Error> {
    type Key = (Country, &'static str, Option<Stage>);
    let mut sums: BTreeMap<Key, (Element, Decimal, Decimal, usize)> = BTreeMap::new();
    let mut per_element: BTreeMap<(Country, &'static str), Decimal> = BTreeMap::new();
    for line in lines {
        let local = line.stage.added_locally();
        for (element, kg, _) in line.contained() {
            let sum = sums
                .entry((line.exporter, element.symbol(), line.stage.stage))
                .or_insert((element, Decimal::ZERO, Decimal::ZERO, 0));
            sum.1 = sum.1.checked_add(kg).ok_or(Error::Arithmetic)?;
            if !local {
                sum.2 = sum.2.checked_add(kg).ok_or(Error::Arithmetic)?;
            }
            sum.3 += 1;
            let all = per_element
                .entry((line.exporter, element.symbol()))
                .or_default();
            *all = all.checked_add(kg).ok_or(Error::Arithmetic)?;
        }
    }
    let mut out = Vec::with_capacity(sums.len());
    for ((exporter, symbol, stage), (element, kg, reexported_kg, lots)) in sums {
        let all = per_element
            .get(&(exporter, symbol))
            .copied()
            .unwrap_or_default();
        let share_percent = if all.is_zero() {
            Decimal::ZERO
        } else {
            kg.checked_mul(Decimal::ONE_HUNDRED)
                .and_then(|k| k.checked_div(all))
                .ok_or(Error::Arithmetic)?
        };
        out.push(Total {
            exporter,
            element,
            stage,
            kg,
            reexported_kg,
            lots,
            share_percent,
        });
    }
    Ok(out)
}
