//! Per-element mass balance, judged when an assay arrives
//! (`docs/design/provenance.md`, "When the check runs"): an assay of a
//! lot that a transformation produced may not make the transformation's
//! assayed outputs contain more of the element than its inputs contained,
//! beyond the tolerance. The figures are read from the log (the
//! transformation's record and the latest assay of the element of every
//! input and output), so a rebuild with the same tolerance decides alike.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;

use oretrace_domain::chemistry::Element;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::record::{Assay, Record};
use oretrace_domain::values::{LotId, format_decimal};
use oretrace_provenance::graph::{Grade, Lot, Transformation as Step};
use oretrace_provenance::{Balance, LotGraph, Tolerance, Verdict, mass_balance};

use crate::rules::{Refusal, unprocessable};
use crate::state::LotState;
use crate::store::StateView;

/// The records an entry states: itself, or for a captured EPCIS event
/// the records the ledger read in it.
fn stated(view: &impl StateView, index: u64) -> Result<Vec<Record>, Refusal> {
    let bytes = view
        .entry(index)?
        .ok_or_else(|| Refusal::Internal(format!("entry {index} is not stored")))?;
    let signed = SignedRecord::from_entry(&bytes)
        .map_err(|e| Refusal::Internal(format!("entry {index} does not parse: {e}")))?;
    Ok(match signed.record() {
        Record::Event(event) => {
            oretrace_epcis_map::interpret(event.event())
                .map_err(|e| Refusal::Internal(format!("the event at index {index}: {e}")))?
                .records
        }
        other => vec![other.clone()],
    })
}

/// The latest grade of each element (or of `only`) in `lot`, from its
/// assays in the log; `read` counts the entries read.
fn latest_grades(
    view: &impl StateView,
    lot: &LotState,
    only: Option<Element>,
    read: &mut usize,
) -> Result<Vec<Grade>, Refusal> {
    // Newest first, each element's first grade met is its latest: for one
    // element the reading stops there, however long the lot's history.
    let mut grades: BTreeMap<&'static str, Grade> = BTreeMap::new();
    for index in view.lot_entries(lot.id().as_str())?.into_iter().rev() {
        *read += 1;
        for record in stated(view, index)?.into_iter().rev() {
            if let Record::Assay(a) = record
                && a.lot == *lot.id()
                && only.is_none_or(|e| a.analyte.element() == e)
                && !grades.contains_key(a.analyte.element().symbol())
            {
                grades.insert(a.analyte.element().symbol(), grade_of(&a, lot, index)?);
            }
        }
        if only.is_some() && !grades.is_empty() {
            break;
        }
    }
    Ok(grades.into_values().collect())
}

fn grade_of(a: &Assay, lot: &LotState, index: u64) -> Result<Grade, Refusal> {
    Grade::from_assay(
        a.analyte,
        a.value,
        a.unit,
        a.basis,
        lot.moisture(),
        a.uncertainty,
        index,
    )
    .map_err(|e| unprocessable("value", e.to_string()))
}

fn graph_lot(state: &LotState, t: &Step, grades: Vec<Grade>) -> Lot {
    Lot {
        id: state.id().clone(),
        site: state.origin_site().clone(),
        custodian: state.custodian().clone(),
        created: state.created().unwrap_or(t.time),
        produced_by: None,
        wet_mass: state.wet_mass(),
        moisture: state.moisture(),
        grades,
        movements: Vec::new(),
        index: state.index(),
    }
}

/// The graph of one transformation: its inputs and outputs with their
/// latest grades (of `only`, or of every element), `assayed` standing in
/// for the latest grade of its lot. `read` counts the entries read.
fn transformation_graph(
    view: &impl StateView,
    t: &Step,
    only: Option<Element>,
    assayed: Option<(&LotState, Grade)>,
    known: Option<&LotGraph>,
    read: &mut usize,
) -> Result<LotGraph, Refusal> {
    let mut graph = LotGraph::new();
    let mut added: HashSet<&LotId> = HashSet::new();
    for id in t.inputs.iter().map(|(id, _)| id).chain(&t.outputs) {
        if !added.insert(id) {
            continue;
        }
        let known_lot = known.and_then(|g| g.lot(id));
        let lot = match (&assayed, known_lot) {
            (Some((lot, grade)), _) if lot.id() == id => graph_lot(lot, t, vec![*grade]),
            // A lot already read with its latest grades (provenance's
            // upstream graph): the balance needs only its masses and
            // grades.
            (_, Some(lot)) => Lot {
                produced_by: None,
                movements: Vec::new(),
                ..lot.clone()
            },
            _ => {
                let state = view.lot(id.as_str())?.ok_or_else(|| {
                    Refusal::Internal(format!("lot {id} of transformation {} vanished", t.id))
                })?;
                let grades = latest_grades(view, &state, only, read)?;
                graph_lot(&state, t, grades)
            }
        };
        graph
            .add_lot(lot)
            .map_err(|e| Refusal::Internal(e.to_string()))?;
    }
    graph
        .add_transformation(t.clone())
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    Ok(graph)
}

/// The balance of transformation `t` as the log stands, every element
/// its inputs or outputs are assayed for; `read` counts the entries read.
/// Lots found in `known` (with every element's latest grade) are taken
/// from it instead of the store.
pub(crate) fn transformation_balance(
    view: &impl StateView,
    t: &Step,
    tolerance: &Tolerance,
    known: Option<&LotGraph>,
    read: &mut usize,
) -> Result<Balance, Refusal> {
    let graph = transformation_graph(view, t, None, None, known, read)?;
    mass_balance(&graph, &t.id, tolerance).map_err(|e| Refusal::Internal(e.to_string()))
}

fn kg(d: Decimal) -> String {
    format_decimal(&d.round_dp(6).normalize())
}

/// Refuses assay `a` (at log index `index`) of `lot` when it would make
/// the transformation that produced the lot exceed its balance of the
/// assayed element beyond `tolerance`.
pub(crate) fn check_assay(
    view: &impl StateView,
    tolerance: &Tolerance,
    lot: &LotState,
    a: &Assay,
    index: u64,
) -> Result<(), Refusal> {
    if lot.inputs().is_empty() {
        return Ok(());
    }
    let element = a.analyte.element();
    let made_at = lot.index();
    let t = stated(view, made_at)?
        .into_iter()
        .find_map(|r| match r {
            Record::Transformation(t) if t.outputs.iter().any(|o| o.id == *lot.id()) => Some(t),
            _ => None,
        })
        .ok_or_else(|| {
            Refusal::Internal(format!(
                "lot {}: the entry at index {made_at} states no transformation producing it",
                lot.id()
            ))
        })?;
    let step = Step {
        id: t.id.clone(),
        site: t.site.clone(),
        time: t.time,
        inputs: t.inputs.clone(),
        outputs: t.outputs.iter().map(|o| o.id.clone()).collect(),
        index: made_at,
    };
    let mut read = 0;
    let graph = transformation_graph(
        view,
        &step,
        Some(element),
        Some((lot, grade_of(a, lot, index)?)),
        None,
        &mut read,
    )?;
    let balance =
        mass_balance(&graph, &t.id, tolerance).map_err(|e| Refusal::Internal(e.to_string()))?;
    let Some(e) = balance.element(element) else {
        return Ok(());
    };
    if let Verdict::Exceeds { excess_kg } = e.verdict {
        return Err(unprocessable(
            "value",
            format!(
                "mass balance of {symbol}: with this assay the assayed outputs of transformation {tid} (log index {made_at}) contain {out} kg of {symbol}, more than the {inp} kg its inputs contained plus the {allow} kg tolerance ({pct} % of each grade: the assays state no uncertainty), {excess} kg beyond: a transformation cannot make metal",
                symbol = element.symbol(),
                tid = t.id,
                out = kg(e.out_kg),
                inp = kg(e.in_kg),
                allow = kg(e.allowance_kg),
                pct = format_decimal(&tolerance.relative_percent().normalize()),
                excess = kg(excess_kg),
            ),
        ));
    }
    Ok(())
}
