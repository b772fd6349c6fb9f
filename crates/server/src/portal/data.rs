//! The JSON resources the portal adds: `/flows` (element mass moving
//! from origin sites through processing sites and ports to destination
//! countries), `/map` (sites with coordinates and the routes shipments
//! took), `/search` (ids and names) and `/downloads` (the bulk exports).
//! Each reads a bounded part of the registry and refuses past it.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use oretrace_domain::chemistry::Element;
use oretrace_domain::money::Date;
use oretrace_domain::record::{Figures, SiteKind};
use oretrace_ledger::Store;
use oretrace_ledger::agreements::state::Select;
use oretrace_ledger::state::SiteState;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use crate::{ApiError, AppState, blocking};

/// The elements `/flows` takes (each one the registry's chemistry knows).
pub const FLOW_ELEMENTS: &[&str] = &[
    "Ag", "Au", "Co", "Cu", "Dy", "Fe", "Li", "Nd", "Ni", "Pb", "Pr", "Sb", "Tb", "W", "Zn",
];
/// The period `/flows` covers unless `from`/`to` say otherwise.
pub const DEFAULT_FROM: &str = "2000-01-01";
pub const DEFAULT_TO: &str = "2099-12-31";
/// Most shipments `/flows` and `/map` read; past it, 413. Every registered
/// party can add shipments, so the bound is set well above what one party
/// can add cheaply (each is a signed record in the public log), and each
/// answer is computed once per checkpoint (the heavy-read cache); the
/// threat model says what is left.
pub const MAX_SHIPMENTS: usize = 50_000;
/// Most sites `/map` reads; past it, 413 (as for shipments).
pub const MAX_SITES: usize = 20_000;
/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most items of each kind a search examines, and most it returns.
pub const SEARCH_EXAMINED: usize = 1000;
pub const SEARCH_SHOWN: usize = 20;

/// What `/flows` was asked.
#[derive(Debug, Clone)]
pub(crate) struct FlowQuery {
    pub(crate) element: Element,
    pub(crate) from: String,
    pub(crate) to: String,
}

fn once<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut found = pairs.iter().filter(|(k, _)| k == name);
    let first = found.next().map(|(_, v)| v.as_str());
    if found.next().is_some() {
        return Err(ApiError::InvalidRequest {
            field: name.into(),
            rule: "given more than once: give each parameter once".into(),
        });
    }
    Ok(first)
}

/// Refuses parameters other than `allowed` and `lang` (the page's
/// language: `en` or `ur`, once).
pub(crate) fn only(
    pairs: &[(String, String)],
    allowed: &[&str],
    what: &str,
) -> Result<(), ApiError> {
    if let Some(lang) = once(pairs, "lang")?
        && oretrace_portal::Lang::parse(lang).is_none_or(|l| l.code() != lang)
    {
        return Err(ApiError::InvalidRequest {
            field: "lang".into(),
            rule: "en or ur".into(),
        });
    }
    for (name, _) in pairs {
        if !allowed.contains(&name.as_str()) && name != "lang" {
            let name = crate::error::echo(name);
            return Err(ApiError::InvalidRequest {
                rule: format!(
                    "unknown query parameter `{name}`: {what} takes {}",
                    allowed.join(", ")
                ),
                field: name,
            });
        }
    }
    Ok(())
}

pub(crate) fn flow_query(pairs: &[(String, String)]) -> Result<FlowQuery, ApiError> {
    only(pairs, &["element", "from", "to"], "/flows")?;
    let element = once(pairs, "element")?.unwrap_or("Cu");
    let element = FLOW_ELEMENTS
        .iter()
        .find(|e| **e == element)
        .and_then(|e| Element::parse(e).ok())
        .ok_or_else(|| ApiError::InvalidRequest {
            field: "element".into(),
            rule: format!("one of {}", FLOW_ELEMENTS.join(", ")),
        })?;
    let day = |name: &str, default: &str| -> Result<String, ApiError> {
        let value = once(pairs, name)?.unwrap_or(default);
        Date::parse(value).map_err(|_| ApiError::InvalidRequest {
            field: name.into(),
            rule: "a date, YYYY-MM-DD".into(),
        })?;
        Ok(value.to_owned())
    };
    Ok(FlowQuery {
        element,
        from: day("from", DEFAULT_FROM)?,
        to: day("to", DEFAULT_TO)?,
    })
}

#[derive(Debug, Serialize)]
pub(crate) struct CheckpointView {
    pub(crate) origin: String,
    pub(crate) size: u64,
    pub(crate) root: String,
}

#[derive(Debug, Serialize)]
struct Node {
    id: String,
    label: String,
    stage: &'static str,
    country: String,
}

#[derive(Debug, Serialize)]
struct Link {
    source: String,
    target: String,
    kg: String,
    illustrative: bool,
}

#[derive(Debug, Serialize)]
struct Flows {
    element: &'static str,
    from: String,
    to: String,
    checkpoint: CheckpointView,
    nodes: Vec<Node>,
    links: Vec<Link>,
}

fn stage(kind: SiteKind) -> &'static str {
    match kind {
        SiteKind::Mine | SiteKind::ExplorationArea => "origin",
        SiteKind::Port => "port",
        _ => "processing",
    }
}

fn too_many(what: &str, limit: usize, hint: &str) -> ApiError {
    ApiError::AnswerTooLarge {
        detail: format!("more than {limit} {what} would be read; {hint}"),
        limit,
    }
}

/// The flows of one element over a period, read from the ledger.
fn compute_flows<S: Store>(
    ledger: &oretrace_ledger::ledger::Ledger<S>,
    q: &FlowQuery,
) -> Result<Flows, ApiError> {
    let (checkpoint, _) = ledger.checkpoint()?;
    let store = ledger.store();
    let shipments = store.shipments(None, MAX_SHIPMENTS + 1)?;
    if shipments.len() > MAX_SHIPMENTS {
        return Err(too_many(
            "shipments",
            MAX_SHIPMENTS,
            "the flows are computed over at most this many; use the CSV and EPCIS exports",
        ));
    }
    let mut sites: BTreeMap<String, Option<SiteState>> = BTreeMap::new();
    let mut site = |id: &str| -> Result<Option<SiteState>, ApiError> {
        if let Some(s) = sites.get(id) {
            return Ok(s.clone());
        }
        let s = store.site(id)?;
        sites.insert(id.to_owned(), s.clone());
        Ok(s)
    };
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    let mut links: BTreeMap<(String, String), (Decimal, bool)> = BTreeMap::new();
    for shipment in &shipments {
        let record = shipment.record();
        let day = record.time.to_string();
        let day = day.get(0..10).unwrap_or("");
        if day < q.from.as_str() || day > q.to.as_str() {
            continue;
        }
        let mut kg = Decimal::ZERO;
        let mut illustrative = record.figures == Figures::Illustrative;
        for lot in shipment.lots() {
            let Some(lot) = store.lot(lot.as_str())? else {
                continue;
            };
            let Some((_, grade)) = lot.element_percent().iter().find(|(e, _)| *e == q.element)
            else {
                continue;
            };
            let dry = lot.wet_mass().kilograms() * (Decimal::ONE_HUNDRED - lot.moisture().value())
                / Decimal::ONE_HUNDRED;
            kg += dry * grade.value() / Decimal::ONE_HUNDRED;
            illustrative |= lot.figures() == Figures::Illustrative;
        }
        if kg.is_zero() {
            continue;
        }
        let Some(from) = site(shipment.from().as_str())? else {
            continue;
        };
        let Some(to) = site(shipment.to().as_str())? else {
            continue;
        };
        let mut path = Vec::new();
        let site_node = |s: &SiteState, nodes: &mut BTreeMap<String, Node>| {
            let id = format!("site:{}", s.id().as_str());
            nodes.entry(id.clone()).or_insert_with(|| Node {
                id: id.clone(),
                label: s.record().name.as_str().to_owned(),
                stage: stage(s.record().kind),
                country: s.country().as_str().to_owned(),
            });
            id
        };
        path.push(site_node(&from, &mut nodes));
        for via in &record.via {
            if let Some(v) = site(via.as_str())? {
                path.push(site_node(&v, &mut nodes));
            }
        }
        if to.country() != from.country() {
            let country = to.country().as_str().to_owned();
            let id = format!("country:{country}");
            nodes.entry(id.clone()).or_insert_with(|| Node {
                id: id.clone(),
                label: country.clone(),
                stage: "destination",
                country,
            });
            path.push(id);
        } else {
            path.push(site_node(&to, &mut nodes));
        }
        for pair in path.windows(2) {
            if pair[0] == pair[1] {
                continue;
            }
            let entry = links
                .entry((pair[0].clone(), pair[1].clone()))
                .or_insert((Decimal::ZERO, false));
            entry.0 += kg;
            entry.1 |= illustrative;
        }
    }
    Ok(Flows {
        element: q.element.symbol(),
        from: q.from.clone(),
        to: q.to.clone(),
        checkpoint: CheckpointView {
            origin: checkpoint.origin().to_owned(),
            size: checkpoint.size(),
            root: checkpoint.root().to_base64(),
        },
        nodes: nodes.into_values().collect(),
        links: links
            .into_iter()
            .map(|((source, target), (kg, illustrative))| Link {
                source,
                target,
                kg: kg.round_dp(3).normalize().to_string(),
                illustrative,
            })
            .collect(),
    })
}

/// `GET /flows` (JSON).
pub(crate) async fn flows<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let q = flow_query(&pairs)?;
    let size = blocking(&state.ledger, |l| Ok(l.checkpoint()?.0.size())).await?;
    let key = format!("flows {} {} {}", q.element.symbol(), q.from, q.to);
    let ledger = state.ledger.clone();
    state
        .heavy
        .answer(key, size, move || async move {
            let flows = blocking(&ledger, move |l| compute_flows(l, &q)).await?;
            Ok(Json(flows).into_response())
        })
        .await
}

/// `GET /map` (JSON).
pub(crate) async fn map<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    only(&pairs, &[], "/map")?;
    let value = blocking(&state.ledger, |ledger| {
        let store = ledger.store();
        let sites = store.sites(None, MAX_SITES + 1)?;
        if sites.len() > MAX_SITES {
            return Err(too_many(
                "sites",
                MAX_SITES,
                "the map shows at most this many",
            ));
        }
        let shipments = store.shipments(None, MAX_SHIPMENTS + 1)?;
        if shipments.len() > MAX_SHIPMENTS {
            return Err(too_many(
                "shipments",
                MAX_SHIPMENTS,
                "the map's routes are counted over at most this many",
            ));
        }
        let sites: Vec<Value> = sites
            .iter()
            .map(|s| {
                let r = s.record();
                json!({
                    "id": s.id().as_str(),
                    "name": r.name.as_str(),
                    "kind": r.kind.as_str(),
                    "country": s.country().as_str(),
                    "lat": coordinate(&r.location.lat().to_string()),
                    "lon": coordinate(&r.location.lon().to_string()),
                    "approximate": r.approximate,
                    "illustrative": r.figures == Figures::Illustrative,
                })
            })
            .collect();
        let mut routes: BTreeMap<(String, String, Vec<String>), u64> = BTreeMap::new();
        for s in &shipments {
            let via = s
                .record()
                .via
                .iter()
                .map(|v| v.as_str().to_owned())
                .collect();
            *routes
                .entry((
                    s.from().as_str().to_owned(),
                    s.to().as_str().to_owned(),
                    via,
                ))
                .or_default() += 1;
        }
        let routes: Vec<Value> = routes
            .into_iter()
            .map(|((from, to, via), n)| json!({"from": from, "to": to, "via": via, "shipments": n}))
            .collect();
        Ok(json!({"sites": sites, "routes": routes}))
    })
    .await?;
    Ok(Json(value))
}

/// A coordinate as a JSON number (the record's decimal text).
fn coordinate(text: &str) -> Value {
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// What a search looks for: the query, case-folded.
pub(crate) fn search_query(pairs: &[(String, String)]) -> Result<String, ApiError> {
    only(pairs, &["q"], "/search")?;
    let q = once(pairs, "q")?.unwrap_or("");
    let chars = q.chars().count();
    if chars == 0 || chars > MAX_QUERY_CHARS {
        return Err(ApiError::InvalidRequest {
            field: "q".into(),
            rule: format!("1 to {MAX_QUERY_CHARS} characters"),
        });
    }
    Ok(q.to_owned())
}

/// Searches ids and names of lots, parties, sites, agreements and
/// reports for `q` (case-folded plain text: no pattern, no SQL).
pub(crate) fn search_in<S: Store>(
    ledger: &oretrace_ledger::ledger::Ledger<S>,
    q: &str,
) -> Result<Value, ApiError> {
    let needle = q.to_lowercase();
    let hit = |id: &str, name: &str| {
        id.to_lowercase().contains(&needle) || name.to_lowercase().contains(&needle)
    };
    let store = ledger.store();
    let mut results = Vec::new();
    let mut truncated = false;
    let mut add = |kind: &str, base: &str, found: Vec<(String, String)>, examined: usize| {
        truncated |= examined > SEARCH_EXAMINED;
        let n = found.len();
        truncated |= n > SEARCH_SHOWN;
        for (id, name) in found.into_iter().take(SEARCH_SHOWN) {
            results.push(json!({
                "kind": kind, "id": id, "name": name,
                "href": format!("/{base}/{}", super::encode(&id)),
            }));
        }
    };
    let lots = store.lots(None, SEARCH_EXAMINED + 1)?;
    let found = lots
        .iter()
        .take(SEARCH_EXAMINED)
        .filter(|l| hit(l.id().as_str(), l.commodity().as_str()))
        .map(|l| {
            (
                l.id().as_str().to_owned(),
                format!("{} {}", l.commodity().as_str(), l.form().as_str()),
            )
        })
        .collect();
    add("lot", "lots", found, lots.len());
    let parties = store.parties(None, SEARCH_EXAMINED + 1)?;
    let found = parties
        .iter()
        .take(SEARCH_EXAMINED)
        .filter(|p| hit(p.id().as_str(), p.record().name.as_str()))
        .map(|p| {
            (
                p.id().as_str().to_owned(),
                p.record().name.as_str().to_owned(),
            )
        })
        .collect();
    add("party", "parties", found, parties.len());
    let sites = store.sites(None, SEARCH_EXAMINED + 1)?;
    let found = sites
        .iter()
        .take(SEARCH_EXAMINED)
        .filter(|s| hit(s.id().as_str(), s.record().name.as_str()))
        .map(|s| {
            (
                s.id().as_str().to_owned(),
                s.record().name.as_str().to_owned(),
            )
        })
        .collect();
    add("site", "sites", found, sites.len());
    let select = Select {
        terms: Vec::new(),
        overdue_on: None,
        after: None,
        limit: SEARCH_EXAMINED + 1,
    };
    let agreements = store.agreements(&select)?;
    let found = agreements
        .iter()
        .take(SEARCH_EXAMINED)
        .filter_map(|a| {
            let v = serde_json::to_value(a).ok()?;
            let (id, title) = (super::text(&v, "id"), super::text(&v, "title"));
            hit(&id, &title).then_some((id, title))
        })
        .collect();
    add("agreement", "agreements", found, agreements.len());
    let reports = store.reports(&select)?;
    let found = reports
        .iter()
        .take(SEARCH_EXAMINED)
        .filter_map(|r| {
            let v = serde_json::to_value(r).ok()?;
            let id = super::text(&v, "id");
            let claim = super::text(&v["record"], "claim");
            hit(&id, &claim).then_some((id, claim.chars().take(120).collect()))
        })
        .collect();
    add("report", "reports", found, reports.len());
    Ok(json!({"q": q, "results": results, "truncated": truncated}))
}

/// `GET /search` (JSON).
pub(crate) async fn search<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let q = search_query(&pairs)?;
    let value = blocking(&state.ledger, move |l| search_in(l, &q)).await?;
    Ok(Json(value))
}

/// The bulk exports, each with the checkpoint it is cut at.
pub(crate) const DOWNLOADS: &[(&str, &str, &str)] = &[
    (
        "/exports/agreements.csv",
        "text/csv",
        "downloads.agreements_csv",
    ),
    ("/exports/pledges.csv", "text/csv", "downloads.pledges_csv"),
    ("/exports/reports.csv", "text/csv", "downloads.reports_csv"),
    ("/events", "application/json", "downloads.epcis"),
    ("/agreements", "application/json", "downloads.ocds"),
];

/// `GET /downloads` (JSON): the exports and the checkpoint they are cut
/// at (each export names the checkpoint it was cut at in its own body or
/// headers; a download now is cut at this one).
pub(crate) async fn downloads<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    only(&pairs, &[], "/downloads")?;
    let cp = blocking(&state.ledger, |l| Ok(l.checkpoint()?.0)).await?;
    let exports: Vec<Value> = DOWNLOADS
        .iter()
        .map(|(href, media, _)| json!({"href": href, "type": media}))
        .collect();
    let mut response = Json(json!({
        "checkpoint": {"origin": cp.origin(), "size": cp.size(), "root": cp.root().to_base64()},
        "exports": exports,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
