//! Reads of the projections: parties, sites and lots (with the log
//! entries that concern each lot).
//!
//! The lists are paged in id order: `perPage` (default
//! [`DEFAULT_PER_PAGE`], at most [`MAX_PER_PAGE`]) and an opaque
//! `nextPageToken`, given in the body and as a `Link: <…>; rel="next"`
//! header while there is more.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use oretrace_ledger::Store;
use oretrace_ledger::state::{LotState, PartyState, SiteState};
use oretrace_ledger::store::StoreResult;
use serde::Serialize;

use crate::records::{RecordView, read_record};
use crate::{ApiError, AppState, blocking};

/// Items per page of `/parties`, `/sites` and `/lots` unless `perPage`
/// says otherwise, and the most it may say.
pub const DEFAULT_PER_PAGE: usize = 100;
pub const MAX_PER_PAGE: usize = 1000;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Parties {
    parties: Vec<PartyState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Sites {
    sites: Vec<SiteState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Lots {
    lots: Vec<LotState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// What a list request asks: where to start and how many.
#[derive(Debug)]
pub(crate) struct Paging {
    pub(crate) after: Option<String>,
    pub(crate) per_page: usize,
}

/// A page token: the list's name and the last id returned, as hex (opaque
/// to clients, checked on the way back).
pub(crate) fn page_token(list: &str, last: &str) -> String {
    format!("{list}:{last}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// [`paging`] for the EPCIS binding's lists, where a `perPage` above
/// [`MAX_PER_PAGE`] is served as that many (as `GET /events` serves it),
/// not refused (up to `u32::MAX`): the binding gives the page size no
/// maximum.
pub(crate) fn binding_paging(list: &str, pairs: &[(String, String)]) -> Result<Paging, ApiError> {
    let capped: Vec<(String, String)> = pairs
        .iter()
        .map(|(name, value)| {
            // Up to u32::MAX, as GET /events takes it; beyond, refused.
            let over = name == "perPage"
                && value
                    .parse::<u32>()
                    .is_ok_and(|n| n as usize > MAX_PER_PAGE);
            let value = if over {
                MAX_PER_PAGE.to_string()
            } else {
                value.clone()
            };
            (name.clone(), value)
        })
        .collect();
    paging(list, &capped)
}

pub(crate) fn paging(list: &str, pairs: &[(String, String)]) -> Result<Paging, ApiError> {
    let mut paging = Paging {
        after: None,
        per_page: DEFAULT_PER_PAGE,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        if matches!(name.as_str(), "perPage" | "nextPageToken") {
            if seen.contains(&name.as_str()) {
                return Err(ApiError::InvalidRequest {
                    field: name.clone(),
                    rule: "given more than once: give each parameter once".into(),
                });
            }
            seen.push(name);
        }
        match name.as_str() {
            "perPage" => {
                paging.per_page = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                    .ok_or_else(|| ApiError::InvalidRequest {
                        field: "perPage".into(),
                        rule: format!("an integer from 1 to {MAX_PER_PAGE}"),
                    })?;
            }
            "nextPageToken" => {
                let bad = || ApiError::InvalidRequest {
                    field: "nextPageToken".into(),
                    rule: format!("not a token a {list} page gave"),
                };
                let bytes = (0..value.len())
                    .step_by(2)
                    .map(|i| {
                        value
                            .get(i..i + 2)
                            .and_then(|h| u8::from_str_radix(h, 16).ok())
                    })
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(bad)?;
                let text = String::from_utf8(bytes).map_err(|_| bad())?;
                let last = text
                    .strip_prefix(list)
                    .and_then(|t| t.strip_prefix(':'))
                    .ok_or_else(bad)?;
                paging.after = Some(last.to_owned());
            }
            other => {
                let other = crate::error::echo(other);
                return Err(ApiError::InvalidRequest {
                    rule: format!(
                        "unknown query parameter `{other}`: /{list} takes perPage and nextPageToken"
                    ),
                    field: other,
                });
            }
        }
    }
    Ok(paging)
}

/// Reads one page of a list (one more than asked, to know whether there
/// is a next page); answers it with the token and `Link` header.
async fn list_page<S: Store, T: Send + 'static, B: Serialize>(
    state: &AppState<S>,
    list: &'static str,
    pairs: &[(String, String)],
    read: fn(&S, Option<&str>, usize) -> StoreResult<Vec<T>>,
    id: fn(&T) -> &str,
    body: fn(Vec<T>, Option<String>) -> B,
) -> Result<Response, ApiError> {
    let paging = paging(list, pairs)?;
    let per_page = paging.per_page;
    let mut items = blocking(&state.ledger, move |ledger| {
        Ok(read(ledger.store(), paging.after.as_deref(), per_page + 1)?)
    })
    .await?;
    let next = if items.len() > per_page {
        items.truncate(per_page);
        items.last().map(|last| page_token(list, id(last)))
    } else {
        None
    };
    let link = next
        .as_deref()
        .map(|token| next_link(list, per_page, token));
    let mut response = Json(body(items, next)).into_response();
    if let Some(link) = link {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

/// The `Link: </{list}?perPage=…&nextPageToken=…>; rel="next"` header
/// (the token is hex, so the value is always valid).
pub(crate) fn next_link(list: &str, per_page: usize, token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "</{list}?perPage={per_page}&nextPageToken={token}>; rel=\"next\""
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
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

pub(crate) fn missing(what: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("no {what} {id:?} is registered"))
}

pub(crate) async fn parties<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    list_page(
        &state,
        "parties",
        &pairs,
        |s: &S, after, limit| s.parties(after, limit),
        |p: &PartyState| p.id().as_str(),
        |parties, next_page_token| Parties {
            parties,
            next_page_token,
        },
    )
    .await
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
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    list_page(
        &state,
        "sites",
        &pairs,
        |s: &S, after, limit| s.sites(after, limit),
        |p: &SiteState| p.id().as_str(),
        |sites, next_page_token| Sites {
            sites,
            next_page_token,
        },
    )
    .await
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
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    list_page(
        &state,
        "lots",
        &pairs,
        |s: &S, after, limit| s.lots(after, limit),
        |p: &LotState| p.id().as_str(),
        |lots, next_page_token| Lots {
            lots,
            next_page_token,
        },
    )
    .await
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

/// A read that takes no query parameter refuses any, by name, rather than
/// ignore what a client meant to ask.
pub(crate) fn no_parameters(pairs: &[(String, String)], what: &str) -> Result<(), ApiError> {
    match pairs.first() {
        None => Ok(()),
        Some((name, _)) => {
            let name = crate::error::echo(name);
            Err(ApiError::InvalidRequest {
                rule: format!("unknown query parameter `{name}`: {what} takes none"),
                field: name,
            })
        }
    }
}

/// The provenance answer of lot `id`, as the API refuses it: 413 past
/// `limits`, naming the bound.
pub(crate) fn provenance_answer<S: Store>(
    store: &S,
    id: &str,
    limits: oretrace_ledger::provenance::ProvenanceLimits,
) -> Result<Option<oretrace_ledger::provenance::ProvenanceAnswer>, ApiError> {
    use oretrace_ledger::provenance::ProvenanceError;
    oretrace_ledger::provenance::provenance(store, id, limits).map_err(|e| match e {
        ProvenanceError::Store(e) => ApiError::from(e),
        ProvenanceError::TooLarge { detail, limit } => ApiError::AnswerTooLarge { detail, limit },
        ProvenanceError::Graph { .. } => ApiError::internal(e.to_string()),
    })
}

/// `GET /lots/{id}/provenance`: where each element of the lot came from
/// (shares per origin site and country), the steps, custody and sites
/// upstream, and every record the answer rests on with its signers.
/// 413 past the configured bounds, naming the bound; nothing partial.
pub(crate) async fn provenance<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    no_parameters(&pairs, "a provenance answer")?;
    let limits = state.config.provenance;
    let turn = state.upstream_turn().await?;
    let answer = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| provenance_answer(ledger.store(), &id, limits)
    })
    .await?;
    // Serialised while the turn is held: what waits to be sent is bytes.
    let response = answer
        .map(|a| Json(a).into_response())
        .ok_or_else(|| missing("lot", &id))?;
    drop(turn);
    Ok(response)
}

/// `GET /lots/{id}/provenance/events`: the EPCIS 2.0 document of exactly
/// the events the lot's provenance answer rests on — every entry of its
/// `evidence` but the sites (master data, no event), in log order: a
/// captured event as captured (its `eventID` as logged, the CBV 2.0 hash
/// unless its capturer gave one), a record as the event
/// `oretrace-epcis-map` writes for it, with its CBV 2.0 hash as
/// `eventID`. The same bounds as the provenance answer (413 naming the
/// bound); nothing partial.
pub(crate) async fn provenance_events<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    no_parameters(&pairs, "the upstream events")?;
    let limits = state.config.provenance;
    let _turn = state.upstream_turn().await?;
    let document = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| {
            let store = ledger.store();
            let Some(answer) = provenance_answer(store, &id, limits)? else {
                return Ok(None);
            };
            let mut events = Vec::new();
            for evidence in answer.evidence.iter().filter(|e| e.kind != "site") {
                events.push(event_at(store, evidence.index)?);
            }
            let context = oretrace_epcis_map::hoist_context(&mut events);
            let mut document = oretrace_epcis_map::document(events, &crate::epcis::now_rfc3339());
            document["@context"] = context;
            Ok(Some(document))
        }
    })
    .await?;
    let document = document.ok_or_else(|| missing("lot", &id))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/ld+json"),
        )],
        oretrace_epcis_map::to_json_text(&document, false),
    )
        .into_response())
}

/// The EPCIS event of the entry at `index`, with its `@context` and its
/// `eventID`: what [`oretrace_epcis_map::record_event`] builds, the same
/// builder the ledger stores a record's event with.
fn event_at<S: Store>(store: &S, index: u64) -> Result<serde_json::Value, ApiError> {
    use oretrace_domain::envelope::SignedRecord;
    use oretrace_epcis_map::RecordEventError;
    let bytes = store
        .entry(index)?
        .ok_or_else(|| ApiError::internal(format!("entry {index} is not stored")))?;
    let signed = SignedRecord::from_entry(&bytes)
        .map_err(|e| ApiError::internal(format!("entry {index} does not parse: {e}")))?;
    let record = signed.record();
    oretrace_epcis_map::record_event(record).map_err(|e| match e {
        RecordEventError::NoEvent => ApiError::internal(format!(
            "the {} record at index {index} states a decimal no JSON number states \
             exactly, so it has no EPCIS event",
            record.kind()
        )),
        RecordEventError::Hash(e) => {
            ApiError::internal(format!("the event of the record at index {index}: {e}"))
        }
    })
}
