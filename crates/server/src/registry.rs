//! Reads of the projections: parties, sites and lots (with the log
//! entries that concern each lot).

use axum::extract::{Path, State};
use axum::response::Json;
use oretrace_ledger::Store;
use oretrace_ledger::state::{LotState, PartyState, SiteState};
use serde::Serialize;

use crate::records::{RecordView, read_record};
use crate::{ApiError, AppState, blocking};

#[derive(Debug, Serialize)]
pub(crate) struct Parties {
    parties: Vec<PartyState>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Sites {
    sites: Vec<SiteState>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Lots {
    lots: Vec<LotState>,
}

/// One entry concerning a lot.
#[derive(Debug, Serialize)]
pub(crate) struct LotEvent {
    index: u64,
    record: oretrace_domain::wire::RecordJson,
}

/// A lot's state and its history.
#[derive(Debug, Serialize)]
pub(crate) struct LotView {
    #[serde(flatten)]
    lot: LotState,
    events: Vec<LotEvent>,
}

fn missing(what: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("no {what} {id:?} is registered"))
}

pub(crate) async fn parties<S: Store>(
    State(state): State<AppState<S>>,
) -> Result<Json<Parties>, ApiError> {
    let mut parties = blocking(&state.ledger, |ledger| Ok(ledger.store().parties()?)).await?;
    parties.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(Parties { parties }))
}

pub(crate) async fn party<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Json<PartyState>, ApiError> {
    let party = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| Ok(ledger.store().party(&id)?)
    })
    .await?;
    party.map(Json).ok_or_else(|| missing("party", &id))
}

pub(crate) async fn sites<S: Store>(
    State(state): State<AppState<S>>,
) -> Result<Json<Sites>, ApiError> {
    let mut sites = blocking(&state.ledger, |ledger| Ok(ledger.store().sites()?)).await?;
    sites.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(Sites { sites }))
}

pub(crate) async fn site<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Json<SiteState>, ApiError> {
    let site = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| Ok(ledger.store().site(&id)?)
    })
    .await?;
    site.map(Json).ok_or_else(|| missing("site", &id))
}

pub(crate) async fn lots<S: Store>(
    State(state): State<AppState<S>>,
) -> Result<Json<Lots>, ApiError> {
    let mut lots = blocking(&state.ledger, |ledger| Ok(ledger.store().lots()?)).await?;
    lots.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(Lots { lots }))
}

/// `GET /lots/{id}`: the lot and every entry concerning it, oldest first.
pub(crate) async fn lot<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Json<LotView>, ApiError> {
    let view = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| {
            let store = ledger.store();
            let Some(lot) = store.lot(&id)? else {
                return Ok(None);
            };
            let events = store
                .lot_events(&id)?
                .into_iter()
                .map(|index| {
                    read_record(store, index).map(|view: RecordView| LotEvent {
                        index,
                        record: view.into_record(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(LotView { lot, events }))
        }
    })
    .await?;
    view.map(Json).ok_or_else(|| missing("lot", &id))
}
