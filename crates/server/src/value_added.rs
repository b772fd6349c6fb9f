//! `GET /value-addition?country=PK&from=2025-01-01&to=2026-01-01`: local
//! value addition, with [`oretrace_provenance::value_added`].
//!
//! Every shipment from a site in one country to a site in another is an
//! export by the departure country (the ports it passes are not asked).
//! For each lot of it: the stage it left at (a consignment's is the
//! furthest of what it holds), the furthest stage at which any of its
//! material had come into the exporting country, and per element the
//! contained kg (dry mass × grade) as the lot stood before the shipment:
//! its wet mass then (as made, or as weighed by its last receipt before
//! it), its moisture, and its latest assay per element before it, as the
//! reconciliation reads them. The totals sum the lines per exporting
//! country, element and stage, with each stage's share.
//!
//! `country` keeps the exports of one country, `from` and `to` the
//! shipments of days in `[from, to)` (UTC). The lines come a page at a
//! time (`perPage`, `nextPageToken`), ordered by shipment and lot id; the
//! totals are always over every line. One request reads at most
//! [`MAX_SHIPMENTS`] shipments, [`MAX_LOTS_READ`] lots for the stages and
//! [`MAX_RECORDS`] log entries for masses and assays: past any of them
//! it is answered 413 naming the bound, never a partial sum. Computed one
//! at a time and kept for the log size it was computed at
//! ([`crate::heavy`]).

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Json, Response};
use oretrace_domain::money::Date;
use oretrace_domain::record::{Assay, Figures, Record};
use oretrace_domain::values::{Country, LotId, Mass, SiteId};
use oretrace_ledger::Store;
use oretrace_provenance::graph::Grade;
use oretrace_provenance::value_added::{self, ExportLine, LotNode, Stage, export_stage, is_export};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::reconciliation::{Evidence, stated};
use crate::registry::{page_token, paging};
use crate::{ApiError, AppState, blocking};

/// Most shipments one request reads.
pub const MAX_SHIPMENTS: usize = 100_000;
/// Most lot reads of one request for the stages (every exported lot and
/// what it was made of in its country).
pub const MAX_LOTS_READ: usize = 200_000;
/// Most log entries one request decodes for masses and assays.
pub const MAX_RECORDS: usize = 500_000;
/// Shipments read per store call.
const PAGE: usize = 1000;
/// The list's name in page tokens.
const LIST: &str = "value-addition";

/// Decimal places of the figures shown (the sums are exact).
const SHOWN_DP: u32 = 6;

fn shown(d: Decimal) -> String {
    d.round_dp(SHOWN_DP).normalize().to_string()
}

fn stage_name(stage: Option<Stage>) -> &'static str {
    stage.map_or("unknown", Stage::as_str)
}

#[derive(Debug, Serialize)]
struct ElementLine {
    element: &'static str,
    /// Dry mass × grade.
    kg: String,
    /// The assay the grade is from.
    assay_index: u64,
}

#[derive(Debug, Serialize)]
struct Line {
    shipment: String,
    shipment_index: u64,
    lot: LotId,
    time: String,
    /// The exporting (departure) country.
    country: String,
    destination: String,
    stage: &'static str,
    /// The furthest stage at which any of its material came into the
    /// exporting country; null when all of it was mined or made there.
    entered_at: Option<&'static str>,
    added_locally: bool,
    dry_mass_kg: String,
    elements: Vec<ElementLine>,
    /// The records the figures rest on: the mass record, the assays, the
    /// shipment.
    evidence: Vec<Evidence>,
    figures: &'static str,
}

#[derive(Debug, Serialize)]
struct TotalView {
    country: String,
    element: &'static str,
    stage: &'static str,
    kg: String,
    /// Of which left at the stage it came into the country at.
    reexported_kg: String,
    lots: usize,
    /// Percent of the country's exports of the element at every stage.
    share_percent: String,
}

#[derive(Debug, Serialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValueAddition {
    country: Option<String>,
    period: Period,
    shipments_read: usize,
    /// Exported lots in the period (every line, over every page).
    exports: usize,
    totals: Vec<TotalView>,
    lines: Vec<Line>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
    /// `illustrative` when any record used is.
    figures: &'static str,
    stages: Vec<&'static str>,
    note: &'static str,
}

const NOTE: &str = "An export is a shipment from a site in one country to a site in another, counted under the departure country; ports passed are not asked. \
A lot counts at its stage (a consignment at the furthest stage of what it holds); entered_at is the furthest stage at which any of its material came into the country, \
and a lot that leaves at that stage is a re-export (reexported_kg). Contained kg = dry mass × the latest grade before the shipment; unassayed elements count nowhere. \
Figures are rounded to 6 decimal places; sums are exact.";

/// What the request asks.
#[derive(Clone, Debug)]
struct Ask {
    country: Option<Country>,
    from: Option<Date>,
    to: Option<Date>,
    after: Option<(String, String)>,
    per_page: usize,
    /// The filters as given, for the cache key.
    key: String,
}

fn ask(pairs: &[(String, String)]) -> Result<Ask, ApiError> {
    let invalid = |field: &str, rule: String| ApiError::InvalidRequest {
        field: field.to_owned(),
        rule,
    };
    let mut country = None;
    let mut from = None;
    let mut to = None;
    let mut rest = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "country" | "from" | "to" => {
                if seen.contains(&name.as_str()) {
                    return Err(invalid(
                        name,
                        "given more than once: give each parameter once".into(),
                    ));
                }
                seen.push(name);
            }
            "perPage" | "nextPageToken" => {
                rest.push((name.clone(), value.clone()));
                continue;
            }
            other => {
                let other = crate::error::echo(other);
                return Err(ApiError::InvalidRequest {
                    rule: format!(
                        "unknown query parameter `{other}`: /value-addition takes country, from, to, perPage and nextPageToken"
                    ),
                    field: other,
                });
            }
        }
        match name.as_str() {
            "country" => {
                country = Some(Country::parse(value).map_err(|_| {
                    invalid(
                        "country",
                        "an ISO 3166-1 alpha-2 code in capitals, such as PK or US".into(),
                    )
                })?);
            }
            "from" => {
                from = Some(
                    Date::parse(value).map_err(|_| invalid("from", "a day, YYYY-MM-DD".into()))?,
                );
            }
            _ => {
                to = Some(
                    Date::parse(value).map_err(|_| invalid("to", "a day, YYYY-MM-DD".into()))?,
                );
            }
        }
    }
    let paging = paging(LIST, &rest)?;
    let after = match paging.after {
        None => None,
        Some(last) => {
            let (shipment, lot) = last.split_once('\n').ok_or_else(|| {
                invalid(
                    "nextPageToken",
                    "not a token a value-addition page gave".into(),
                )
            })?;
            Some((shipment.to_owned(), lot.to_owned()))
        }
    };
    let key = format!(
        "value-addition {country:?} {from:?} {to:?} {after:?} {}",
        paging.per_page
    );
    Ok(Ask {
        country,
        from,
        to,
        after,
        per_page: paging.per_page,
        key,
    })
}

/// `GET /value-addition`.
pub(crate) async fn value_addition<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let ask = ask(&pairs)?;
    let size = blocking(&state.ledger, |ledger| Ok(ledger.store().size()?)).await?;
    let ledger = state.ledger.clone();
    state
        .heavy
        .answer(ask.key.clone(), size, move || async move {
            blocking(&ledger, move |ledger| compute(ledger.store(), &ask))
                .await
                .map(|answer| Json(answer).into_response())
        })
        .await
}

fn too_large(what: &str, limit: usize) -> ApiError {
    ApiError::AnswerTooLarge {
        detail: format!(
            "value addition reads at most {limit} {what} per request; narrow it with country, from and to"
        ),
        limit,
    }
}

/// An error of the stage walk: the store's, or the walk's own.
enum WalkError {
    Api(ApiError),
    Walk(oretrace_provenance::Error),
}

impl From<oretrace_provenance::Error> for WalkError {
    fn from(e: oretrace_provenance::Error) -> Self {
        WalkError::Walk(e)
    }
}

impl From<ApiError> for WalkError {
    fn from(e: ApiError) -> Self {
        WalkError::Api(e)
    }
}

/// What one scan reads, and how much of each bound it has used.
struct Scan<'s, S> {
    store: &'s S,
    sites: HashMap<SiteId, Country>,
    lots: HashMap<LotId, (LotNode, Figures)>,
    lots_read: usize,
    records: usize,
}

impl<S: Store> Scan<'_, S> {
    fn country_of(&mut self, site: &SiteId) -> Result<Country, ApiError> {
        if let Some(c) = self.sites.get(site) {
            return Ok(*c);
        }
        let c = self
            .store
            .site(site.as_str())?
            .ok_or_else(|| ApiError::internal(format!("site {site} is not registered")))?
            .record()
            .country;
        self.sites.insert(site.clone(), c);
        Ok(c)
    }

    fn node(&mut self, lot: &LotId) -> Result<LotNode, ApiError> {
        if let Some((node, _)) = self.lots.get(lot) {
            return Ok(node.clone());
        }
        let state = self
            .store
            .lot(lot.as_str())?
            .ok_or_else(|| ApiError::internal(format!("lot {lot} is not registered")))?;
        let node = LotNode {
            form: state.form(),
            made_in: self.country_of(state.origin_site())?,
            inputs: state.inputs().to_vec(),
        };
        self.lots
            .insert(lot.clone(), (node.clone(), state.figures()));
        Ok(node)
    }

    /// The lot's wet mass, moisture, latest assays per element before
    /// the shipment at `shipment_index`, and the records they rest on.
    fn before(
        &mut self,
        lot: &LotId,
        shipment_index: u64,
    ) -> Result<(Decimal, Vec<Grade>, Vec<Evidence>), ApiError> {
        let state = self
            .store
            .lot(lot.as_str())?
            .ok_or_else(|| ApiError::internal(format!("shipped lot {lot} is not registered")))?;
        let moisture = state.moisture();
        let mut mass: Option<(Evidence, Mass)> = None;
        let mut assays: BTreeMap<&'static str, (Evidence, Assay)> = BTreeMap::new();
        for index in self.store.lot_events(lot.as_str())? {
            if index >= shipment_index {
                break;
            }
            self.records += 1;
            if self.records > MAX_RECORDS {
                return Err(too_large("log entries", MAX_RECORDS));
            }
            let entry = stated(self.store, index)?;
            for record in &entry.records {
                match record {
                    Record::Lot(l) if &l.id == lot => {
                        mass = Some((entry.evidence.clone(), l.wet_mass));
                    }
                    Record::Transformation(t) => {
                        if let Some(o) = t.outputs.iter().find(|o| &o.id == lot) {
                            mass = Some((entry.evidence.clone(), o.wet_mass));
                        }
                    }
                    Record::Receipt(r) => {
                        if let Some((_, m)) = r.lots.iter().find(|(l, _)| l == lot) {
                            mass = Some((entry.evidence.clone(), *m));
                        }
                    }
                    Record::Assay(a) if &a.lot == lot => {
                        assays.insert(
                            a.analyte.element().symbol(),
                            (entry.evidence.clone(), a.clone()),
                        );
                    }
                    _ => {}
                }
            }
        }
        let (mass_evidence, wet) = match mass {
            Some(m) => m,
            None => (
                stated(self.store, state.index())?.evidence,
                state.wet_mass(),
            ),
        };
        let dry = wet.kilograms() * (Decimal::ONE - moisture.value() / Decimal::ONE_HUNDRED);
        let mut grades = Vec::new();
        let mut evidence = vec![mass_evidence];
        for (e, a) in assays.into_values() {
            let grade =
                Grade::from_assay(a.analyte, a.value, a.unit, a.basis, moisture, None, e.index)
                    .map_err(|err| {
                        ApiError::internal(format!("the assay at {}: {err}", e.index))
                    })?;
            grades.push(grade);
            evidence.push(e);
        }
        Ok((dry, grades, evidence))
    }
}

fn compute<S: Store>(store: &S, ask: &Ask) -> Result<ValueAddition, ApiError> {
    let mut scan = Scan {
        store,
        sites: HashMap::new(),
        lots: HashMap::new(),
        lots_read: 0,
        records: 0,
    };
    let mut lines: Vec<(ExportLine, Vec<Evidence>)> = Vec::new();
    let mut shipments_read = 0usize;
    let mut after: Option<String> = None;
    let mut illustrative = false;
    loop {
        let page = store.shipments(after.as_deref(), PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id().to_string());
        shipments_read += page.len();
        if shipments_read > MAX_SHIPMENTS {
            return Err(too_large("shipments", MAX_SHIPMENTS));
        }
        for shipment in &page {
            let record = shipment.record();
            let day = Date::from_unix(record.time.unix());
            if ask.from.is_some_and(|f| day < f) || ask.to.is_some_and(|t| day >= t) {
                continue;
            }
            let from = scan.country_of(shipment.from())?;
            let to = scan.country_of(shipment.to())?;
            let Some(exporter) = is_export(from, to) else {
                continue;
            };
            if ask.country.is_some_and(|c| c != exporter) {
                continue;
            }
            let shipment_evidence = stated(store, shipment.index())?.evidence;
            for lot in shipment.lots() {
                let budget = MAX_LOTS_READ.saturating_sub(scan.lots_read);
                let stage = export_stage(lot, exporter, budget, |id: &LotId| {
                    scan.node(id).map_err(WalkError::Api)
                })
                .map_err(|e| match e {
                    WalkError::Api(e) => e,
                    WalkError::Walk(oretrace_provenance::Error::TooManyLots { .. }) => {
                        too_large("lot reads", MAX_LOTS_READ)
                    }
                    WalkError::Walk(e) => ApiError::internal(format!("lot {lot}: {e}")),
                })?;
                scan.lots_read += stage.lots_read;
                let (dry_kg, grades, mut evidence) = scan.before(lot, shipment.index())?;
                evidence.push(shipment_evidence.clone());
                lines.push((
                    ExportLine {
                        lot: lot.clone(),
                        shipment: shipment.id().clone(),
                        shipment_index: shipment.index(),
                        time: record.time,
                        exporter,
                        destination: to,
                        stage,
                        dry_kg,
                        grades,
                    },
                    evidence,
                ));
            }
        }
        if page.len() < PAGE {
            break;
        }
    }
    // The lots walked for the stages count too: their forms and inputs
    // are records.
    illustrative |= scan.lots.values().any(|(_, f)| *f == Figures::Illustrative);
    illustrative |= lines
        .iter()
        .flat_map(|(_, e)| e)
        .any(|e| e.figures == "illustrative");
    let just_lines: Vec<ExportLine> = lines.iter().map(|(l, _)| l.clone()).collect();
    let totals = value_added::totals(&just_lines)
        .map_err(|e| ApiError::internal(format!("the totals: {e}")))?;
    lines.sort_by(|(a, _), (b, _)| {
        (a.shipment.as_str(), a.lot.as_str()).cmp(&(b.shipment.as_str(), b.lot.as_str()))
    });
    let exports = lines.len();
    let start = match &ask.after {
        None => 0,
        Some((s, l)) => lines.partition_point(|(line, _)| {
            (line.shipment.as_str(), line.lot.as_str()) <= (s.as_str(), l.as_str())
        }),
    };
    let end = start.saturating_add(ask.per_page).min(lines.len());
    let next_page_token = (end < lines.len())
        .then(|| lines.get(end.saturating_sub(1)))
        .flatten()
        .map(|(l, _)| page_token(LIST, &format!("{}\n{}", l.shipment, l.lot)));
    let page: Vec<Line> = lines
        .drain(start.min(end)..end)
        .map(|(line, evidence)| {
            let figures = if evidence.iter().any(|e| e.figures == "illustrative") {
                "illustrative"
            } else {
                "reported"
            };
            Line {
                shipment: line.shipment.to_string(),
                shipment_index: line.shipment_index,
                time: line.time.to_string(),
                country: line.exporter.to_string(),
                destination: line.destination.to_string(),
                stage: stage_name(line.stage.stage),
                entered_at: line.stage.entered.map(Stage::as_str),
                added_locally: line.stage.added_locally(),
                dry_mass_kg: shown(line.dry_kg),
                elements: line
                    .contained()
                    .into_iter()
                    .map(|(element, kg, assay_index)| ElementLine {
                        element: element.symbol(),
                        kg: shown(kg),
                        assay_index,
                    })
                    .collect(),
                lot: line.lot,
                evidence,
                figures,
            }
        })
        .collect();
    Ok(ValueAddition {
        country: ask.country.map(|c| c.to_string()),
        period: Period {
            from: ask.from.map(|d| d.to_string()),
            to: ask.to.map(|d| d.to_string()),
        },
        shipments_read,
        exports,
        totals: totals
            .iter()
            .map(|t| TotalView {
                country: t.exporter.to_string(),
                element: t.element.symbol(),
                stage: stage_name(t.stage),
                kg: shown(t.kg),
                reexported_kg: shown(t.reexported_kg),
                lots: t.lots,
                share_percent: shown(t.share_percent),
            })
            .collect(),
        lines: page,
        next_page_token,
        figures: if illustrative {
            "illustrative"
        } else {
            "reported"
        },
        stages: Stage::ALL.iter().map(|s| s.as_str()).collect(),
        note: NOTE,
    })
}
