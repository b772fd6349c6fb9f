//! `GET /shipments/{id}/reconciliation`: for each lot of a shipment, what
//! was shipped against what was received, with
//! [`oretrace_provenance::reconcile`].
//!
//! The shipped side of a lot is its wet mass before the shipment (as
//! commissioned, produced, or weighed by the last receipt before it), its
//! recorded moisture and the latest assay per element before the
//! shipment. The received side is the mass the shipment's receipt weighed
//! and the latest assay per element after the receipt (and before any
//! later shipment of the lot): the receiver's re-assays. A receipt states
//! no moisture, so the received dry mass is taken at the shipped moisture
//! and dry masses are not compared.
//!
//! Tolerances: the design note's defaults (0.5 % of the shipped wet and
//! dry mass, 2 % of the shipped grade, 2 % of the shipped contained
//! mass), `massTolerancePercent` (0 to [`MAX_MASS_PERCENT`]) for the two
//! masses and `gradeTolerancePoints` (0 to [`MAX_GRADE_POINTS`]
//! percentage points) for every grade.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::Json;
use oretrace_domain::chemistry::Element;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::event::CaptureAuth;
use oretrace_domain::record::{Assay, Figures, Record};
use oretrace_domain::values::{LotId, Mass, Percent};
use oretrace_ledger::Store;
use oretrace_provenance::graph::Grade;
use oretrace_provenance::reconcile::{Difference, Quantity, Side};
use oretrace_provenance::{ReconcileTolerance, reconcile};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{ApiError, AppState, blocking};

/// The largest `massTolerancePercent` taken.
pub(crate) const MAX_MASS_PERCENT: u32 = 100;
/// The largest `gradeTolerancePoints` taken.
pub(crate) const MAX_GRADE_POINTS: u32 = 100;

/// Decimal places of the figures shown (the comparison is exact).
const SHOWN_DP: u32 = 6;

fn shown(d: Decimal) -> String {
    d.round_dp(SHOWN_DP).normalize().to_string()
}

/// One record a side rests on.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Evidence {
    pub(crate) index: u64,
    pub(crate) kind: &'static str,
    /// The parties whose keys signed it (a key no party holds by its name).
    pub(crate) signers: Vec<String>,
    pub(crate) figures: &'static str,
}

/// One assay a side uses.
#[derive(Debug, Serialize)]
pub(crate) struct AssayUsed {
    index: u64,
    analyte: String,
    value: String,
    unit: String,
    basis: String,
    /// ± as the assay states it (its unit and basis), when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    uncertainty: Option<String>,
    laboratory: String,
    /// The dry-basis element grade it states, in percent.
    element: &'static str,
    element_percent: String,
}

#[derive(Debug, Serialize)]
struct SideView {
    wet_mass_kg: String,
    /// Index of the record stating the wet mass.
    wet_mass_index: u64,
    /// Moisture measured on this side (none on a received side).
    moisture_percent: Option<String>,
    /// Wet mass × (1 − moisture); on the received side at the shipped
    /// moisture.
    dry_mass_kg: String,
    assays: Vec<AssayUsed>,
    records: Vec<Evidence>,
}

#[derive(Debug, Serialize)]
struct DifferenceView {
    /// `wet_mass`, `dry_mass`, `grade` or `contained`.
    quantity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    element: Option<&'static str>,
    /// `kg` or `percentage points`.
    unit: &'static str,
    shipped: String,
    received: String,
    /// Received − shipped.
    difference: String,
    relative_percent: Option<String>,
    /// The largest |difference| allowed, in `unit`.
    tolerance: String,
    within: bool,
}

#[derive(Debug, Serialize)]
struct LotReconciliation {
    lot: LotId,
    shipped: SideView,
    received: Option<SideView>,
    differences: Vec<DifferenceView>,
    /// Elements assayed on one side only.
    not_compared: Vec<&'static str>,
    flagged: usize,
}

#[derive(Debug, Serialize)]
struct ToleranceView {
    wet_mass_percent: String,
    dry_mass_percent: String,
    /// Percentage points, when `gradeTolerancePoints` set them.
    grade_points: Option<String>,
    /// Percent of the shipped grade otherwise (assays here state no
    /// uncertainty).
    grade_relative_percent: String,
    contained_percent: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ShipmentReconciliation {
    shipment: String,
    /// `received` or `in transit`.
    status: &'static str,
    shipper: String,
    receiver: String,
    shipment_record: Evidence,
    receipt_record: Option<Evidence>,
    tolerance: ToleranceView,
    lots: Vec<LotReconciliation>,
    /// Differences outside tolerance, over every lot.
    flagged: usize,
    /// True when any record used is marked illustrative.
    illustrative: bool,
    note: &'static str,
}

const NOTE: &str = "Received against shipped per lot: differences outside tolerance are flagged, not refused. \
A receipt states no moisture: received dry mass is taken at the shipped moisture and dry masses are not compared. \
Figures are rounded to 6 decimal places; comparisons are exact.";

fn bounded(name: &str, value: &str, max: u32) -> Result<Percent, ApiError> {
    let bad = || ApiError::InvalidRequest {
        field: name.to_owned(),
        rule: format!("a decimal number from 0 to {max}"),
    };
    if value.len() > 32 {
        return Err(bad());
    }
    let d: Decimal = value.trim().parse().map_err(|_| bad())?;
    if d.is_sign_negative() && !d.is_zero() || d > Decimal::from(max) {
        return Err(bad());
    }
    Percent::new(d).map_err(|_| bad())
}

fn tolerance(pairs: &[(String, String)]) -> Result<ReconcileTolerance, ApiError> {
    let mut tolerance = ReconcileTolerance::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        if seen.contains(&name.as_str()) {
            return Err(ApiError::InvalidRequest {
                field: name.clone(),
                rule: "given more than once: give each parameter once".into(),
            });
        }
        seen.push(name);
        match name.as_str() {
            "massTolerancePercent" => {
                tolerance = tolerance.with_mass_percent(bounded(name, value, MAX_MASS_PERCENT)?);
            }
            "gradeTolerancePoints" => {
                tolerance = tolerance.with_grade_points(bounded(name, value, MAX_GRADE_POINTS)?);
            }
            other => {
                let other = crate::error::echo(other);
                return Err(ApiError::InvalidRequest {
                    rule: format!(
                        "unknown query parameter `{other}`: a reconciliation takes massTolerancePercent and gradeTolerancePoints"
                    ),
                    field: other,
                });
            }
        }
    }
    Ok(tolerance)
}

/// A stored entry: the records it states (a captured EPCIS event states
/// those it maps to) and who signed them.
pub(crate) struct Stated {
    pub(crate) records: Vec<Record>,
    pub(crate) evidence: Evidence,
}

fn party_of(store: &impl Store, name: &str, key_id: u32) -> Result<String, ApiError> {
    Ok(match store.key(name, key_id)? {
        Some(key) => key.party().as_str().to_owned(),
        None => name.to_owned(),
    })
}

/// Reads and decodes entry `index`.
pub(crate) fn stated(store: &impl Store, index: u64) -> Result<Stated, ApiError> {
    let bytes = store
        .read_entries(index, 1)?
        .pop()
        .ok_or_else(|| ApiError::internal(format!("entry {index} vanished")))?;
    let signed = SignedRecord::from_entry(&bytes)
        .map_err(|e| ApiError::internal(format!("stored entry {index} does not parse: {e}")))?;
    let mut signers = Vec::new();
    let records = match signed.record() {
        Record::Event(event) => {
            // The log key signs the entry; the capturing parties signed
            // the document or held the token.
            match event.auth() {
                CaptureAuth::Token { key } => {
                    signers.push(party_of(store, key.name(), key.key_id())?);
                }
                CaptureAuth::Signed { signatures, .. } => {
                    for line in signatures {
                        let key = line.key();
                        signers.push(party_of(store, key.name(), key.key_id())?);
                    }
                }
            }
            oretrace_epcis_map::interpret(event.event())
                .map_err(|e| ApiError::internal(format!("stored event {index}: {e}")))?
                .records
        }
        record => {
            for signature in signed.signatures() {
                signers.push(party_of(store, &signature.name, signature.key_id)?);
            }
            vec![record.clone()]
        }
    };
    let mut seen = Vec::new();
    signers.retain(|s| {
        let new = !seen.contains(s);
        seen.push(s.clone());
        new
    });
    Ok(Stated {
        records,
        evidence: Evidence {
            index,
            kind: signed.record().kind(),
            signers,
            figures: match signed.record().figures() {
                Figures::Reported => "reported",
                Figures::Illustrative => "illustrative",
            },
        },
    })
}

/// The latest assay per element among `assays`, converted to dry-basis
/// element grades.
pub(crate) fn grades(
    assays: &BTreeMap<&'static str, (u64, Assay)>,
    moisture: Percent,
) -> Result<(Vec<Grade>, Vec<AssayUsed>), ApiError> {
    let mut grades = Vec::new();
    let mut used = Vec::new();
    for (index, a) in assays.values() {
        let grade = Grade::from_assay(
            a.analyte,
            a.value,
            a.unit,
            a.basis,
            moisture,
            a.uncertainty,
            *index,
        )
        .map_err(|e| ApiError::internal(format!("the assay at {index}: {e}")))?;
        used.push(AssayUsed {
            index: *index,
            analyte: a.analyte.to_string(),
            value: a.value.normalize().to_string(),
            unit: a.unit.as_str().to_owned(),
            basis: a.basis.to_string(),
            uncertainty: a.uncertainty.map(|u| u.normalize().to_string()),
            laboratory: a.laboratory.as_str().to_owned(),
            element: grade.element().symbol(),
            element_percent: shown(grade.percent()),
        });
        grades.push(grade);
    }
    Ok((grades, used))
}

fn difference_view(d: &Difference) -> DifferenceView {
    let (quantity, element, unit) = match d.quantity {
        Quantity::WetMass => ("wet_mass", None, "kg"),
        Quantity::DryMass => ("dry_mass", None, "kg"),
        Quantity::Grade(e) => ("grade", Some(e.symbol()), "percentage points"),
        Quantity::Contained(e) => ("contained", Some(e.symbol()), "kg"),
    };
    DifferenceView {
        quantity,
        element,
        unit,
        shipped: shown(d.shipped),
        received: shown(d.received),
        difference: shown(d.difference),
        relative_percent: d.relative_percent.map(shown),
        tolerance: shown(d.tolerance),
        within: d.within,
    }
}

fn dry(wet: Mass, moisture: Percent) -> Decimal {
    wet.kilograms() * (Decimal::ONE - moisture.value() / Decimal::ONE_HUNDRED)
}

/// Reconciles one lot of the shipment at `shipped_at`, received (if at
/// all) by the receipt entry at `received_at`.
fn reconcile_lot(
    store: &impl Store,
    lot: &LotId,
    shipped_at: &Stated,
    received_at: Option<&Stated>,
    tolerance: &ReconcileTolerance,
) -> Result<LotReconciliation, ApiError> {
    let state = store
        .lot(lot.as_str())?
        .ok_or_else(|| ApiError::internal(format!("shipped lot {lot} is not registered")))?;
    let moisture = state.moisture();
    let shipment_index = shipped_at.evidence.index;
    let receipt_index = received_at.map(|r| r.evidence.index);
    let mut mass: Option<(u64, Mass)> = None;
    let mut before: BTreeMap<&'static str, (u64, Assay)> = BTreeMap::new();
    let mut after: BTreeMap<&'static str, (u64, Assay)> = BTreeMap::new();
    let mut records: BTreeMap<u64, Evidence> = BTreeMap::new();
    let mut shipped_again = false;
    for index in store.lot_events(lot.as_str())? {
        let after_receipt = receipt_index.is_some_and(|r| index > r);
        if index == shipment_index
            || Some(index) == receipt_index
            || (index > shipment_index && !after_receipt)
            || shipped_again
        {
            continue;
        }
        let entry = stated(store, index)?;
        for record in &entry.records {
            match record {
                Record::Lot(l) if index < shipment_index && &l.id == lot => {
                    mass = Some((index, l.wet_mass));
                }
                Record::Transformation(t) if index < shipment_index => {
                    if let Some(o) = t.outputs.iter().find(|o| &o.id == lot) {
                        mass = Some((index, o.wet_mass));
                    }
                }
                Record::Receipt(r) if index < shipment_index => {
                    if let Some((_, m)) = r.lots.iter().find(|(l, _)| l == lot) {
                        mass = Some((index, *m));
                    }
                }
                Record::Assay(a) if &a.lot == lot && index < shipment_index => {
                    before.insert(a.analyte.element().symbol(), (index, a.clone()));
                }
                Record::Assay(a) if &a.lot == lot && after_receipt => {
                    after.insert(a.analyte.element().symbol(), (index, a.clone()));
                }
                Record::Shipment(s) if after_receipt && s.lots.contains(lot) => {
                    shipped_again = true;
                }
                _ => {}
            }
        }
        records.insert(index, entry.evidence);
    }
    let (mass_index, wet_mass) = mass.unwrap_or((state.index(), state.wet_mass()));
    let mut evidence_of = |index: u64| -> Result<Evidence, ApiError> {
        Ok(match records.get(&index) {
            Some(e) => e.clone(),
            None => {
                let e = stated(store, index)?.evidence;
                records.insert(index, e.clone());
                e
            }
        })
    };
    let (shipped_grades, shipped_assays) = grades(&before, moisture)?;
    let mut shipped_records = vec![evidence_of(mass_index)?];
    for (index, _) in before.values() {
        shipped_records.push(evidence_of(*index)?);
    }
    shipped_records.push(shipped_at.evidence.clone());
    let shipped = Side {
        wet_mass,
        moisture: Some(moisture),
        grades: shipped_grades,
        evidence: shipped_records.iter().map(|e| e.index).collect(),
    };
    let shipped_view = SideView {
        wet_mass_kg: shown(wet_mass.kilograms()),
        wet_mass_index: mass_index,
        moisture_percent: Some(shown(moisture.value())),
        dry_mass_kg: shown(dry(wet_mass, moisture)),
        assays: shipped_assays,
        records: shipped_records,
    };
    let Some(receipt) = received_at else {
        return Ok(LotReconciliation {
            lot: lot.clone(),
            shipped: shipped_view,
            received: None,
            differences: Vec::new(),
            not_compared: Vec::new(),
            flagged: 0,
        });
    };
    let received_mass = receipt
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Receipt(r) => r.lots.iter().find(|(l, _)| l == lot).map(|(_, m)| *m),
            _ => None,
        })
        .next()
        .ok_or_else(|| {
            ApiError::internal(format!(
                "the receipt at {} does not weigh {lot}",
                receipt.evidence.index
            ))
        })?;
    let (received_grades, received_assays) = grades(&after, moisture)?;
    let mut received_records = vec![receipt.evidence.clone()];
    for (index, _) in after.values() {
        received_records.push(evidence_of(*index)?);
    }
    let received = Side {
        wet_mass: received_mass,
        moisture: None,
        grades: received_grades,
        evidence: received_records.iter().map(|e| e.index).collect(),
    };
    let result = reconcile(lot, &shipped, &received, tolerance);
    Ok(LotReconciliation {
        lot: lot.clone(),
        shipped: shipped_view,
        received: Some(SideView {
            wet_mass_kg: shown(received_mass.kilograms()),
            wet_mass_index: receipt.evidence.index,
            moisture_percent: None,
            dry_mass_kg: shown(dry(received_mass, moisture)),
            assays: received_assays,
            records: received_records,
        }),
        flagged: result.flagged().count(),
        differences: result.differences.iter().map(difference_view).collect(),
        not_compared: result.not_compared.iter().map(Element::symbol).collect(),
    })
}

fn illustrative(side: Option<&SideView>) -> bool {
    side.is_some_and(|s| s.records.iter().any(|e| e.figures == "illustrative"))
}

/// The reconciliation of shipment `id` under `tolerance` (of its lot
/// `only`, when given, else of every lot it carried); `None` when no such
/// shipment is registered.
pub(crate) fn shipment_reconciliation<S: Store>(
    store: &S,
    id: &str,
    tolerance: &ReconcileTolerance,
    only: Option<&str>,
) -> Result<Option<ShipmentReconciliation>, ApiError> {
    let Some(shipment) = store.shipment(id)? else {
        return Ok(None);
    };
    let shipped_at = stated(store, shipment.index())?;
    let received_at = shipment
        .received()
        .map(|index| stated(store, index))
        .transpose()?;
    let mut lots = Vec::new();
    for lot in shipment
        .lots()
        .iter()
        .filter(|l| only.is_none_or(|o| l.as_str() == o))
    {
        lots.push(reconcile_lot(
            store,
            lot,
            &shipped_at,
            received_at.as_ref(),
            tolerance,
        )?);
    }
    let illustrative = lots
        .iter()
        .any(|l| illustrative(Some(&l.shipped)) || illustrative(l.received.as_ref()));
    Ok(Some(ShipmentReconciliation {
        shipment: id.to_owned(),
        status: if received_at.is_some() {
            "received"
        } else {
            "in transit"
        },
        shipper: shipment.shipper().as_str().to_owned(),
        receiver: shipment.receiver().as_str().to_owned(),
        shipment_record: shipped_at.evidence,
        receipt_record: received_at.map(|r| r.evidence),
        tolerance: ToleranceView {
            wet_mass_percent: shown(tolerance.wet_mass_percent()),
            dry_mass_percent: shown(tolerance.dry_mass_percent()),
            grade_points: tolerance.grade_points().map(shown),
            grade_relative_percent: shown(tolerance.grade_relative_percent()),
            contained_percent: shown(tolerance.contained_percent()),
        },
        flagged: lots.iter().map(|l| l.flagged).sum(),
        lots,
        illustrative,
        note: NOTE,
    }))
}

/// `GET /shipments/{id}/reconciliation`.
pub(crate) async fn reconciliation<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ShipmentReconciliation>, ApiError> {
    let tolerance = tolerance(&pairs)?;
    let answer = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| shipment_reconciliation(ledger.store(), &id, &tolerance, None)
    })
    .await?;
    answer
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no shipment {id:?} is registered")))
}
