//! Reads of agreements, reports and resource estimates
//! (`docs/design/agreements.md`, "Interfaces"):
//!
//! - `GET /agreements` — filters `party`, `country`, `status`, `kind`,
//!   `disclosure`, `commodity`, `overdue=true`; paged like every list;
//! - `GET /agreements/{id}` — every version with who registered and who
//!   confirmed it, its disclosure state (overdue computed for `asOf`,
//!   default today), pledges with their computed status;
//! - `GET /agreements/{id}/pledges` — pledged vs delivered per pledge,
//!   with every progress report in date order;
//! - `GET /agreements/{id}/versions/{version}/clauses` — the revealed
//!   clauses of a version (paged by clause index);
//! - `GET /reports`, `/reports/{id}`, `/resources`, `/resources/{id}`.
//!
//! Every figure computed here (disclosure state, overdue, status,
//! delivered) is derived from the log; nothing is typed in.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use oretrace_domain::agreement::{ScopedId, Terms};
use oretrace_domain::money::Date;
use oretrace_domain::record::Figures;
use oretrace_domain::values::{Country, PartyId, Token};
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::Store;
use oretrace_ledger::agreements::{
    AgreementState, ClauseState, PledgeState, PledgeStatus, ProgressState, ReportState,
    ResourceState, Select, VersionState,
};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::registry::{page_token, paging};
use crate::{ApiError, AppState, blocking};

/// Most progress reports `GET /agreements/{id}` and `/pledges` list
/// inline; the rest are paged at `/agreements/{id}/progress`. A progress
/// report is at most one 64 KiB entry, so one answer reads at most
/// 6.4 MiB of them.
pub const MAX_INLINE_PROGRESS: usize = 100;

/// Most versions `GET /agreements/{id}` lists inline, the latest ones;
/// every version is at `/agreements/{id}/versions/{version}`. An
/// agreement may have up to `MAX_VERSION` versions of up to 64 KiB each:
/// one answer reads at most this many.
pub const MAX_INLINE_VERSIONS: u32 = 20;

/// Today's date (UTC), for what is computed "as of" a day.
pub(crate) fn today() -> Date {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Date::from_unix(now)
}

fn invalid(field: &str, rule: impl Into<String>) -> ApiError {
    ApiError::InvalidRequest {
        field: field.to_owned(),
        rule: rule.into(),
    }
}

/// A list's filters, as `Select` terms, and the query's remaining pairs
/// (paging) for [`paging`].
struct Filters {
    terms: Vec<String>,
    overdue: bool,
    as_of: Date,
    /// The filters as given (each checked), for the next page's link.
    given: Vec<(String, String)>,
    rest: Vec<(String, String)>,
}

/// A filter's reader: its value as a `Select` term, or the rule it breaks.
type Term = fn(&str) -> Result<String, String>;

/// Reads filters `allowed` (each `name` once) and `asOf`; every other
/// pair is left for paging, which refuses unknown names.
fn filters(
    list: &str,
    pairs: &[(String, String)],
    allowed: &[(&str, Term)],
    overdue_allowed: bool,
) -> Result<Filters, ApiError> {
    let mut out = Filters {
        terms: Vec::new(),
        overdue: false,
        as_of: today(),
        given: Vec::new(),
        rest: Vec::new(),
    };
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in pairs {
        let known = allowed.iter().find(|(n, _)| n == name);
        let special = matches!(name.as_str(), "asOf") || (overdue_allowed && name == "overdue");
        if known.is_none() && !special {
            if !matches!(name.as_str(), "perPage" | "nextPageToken") {
                let names: Vec<&str> = allowed
                    .iter()
                    .map(|(n, _)| *n)
                    .chain(overdue_allowed.then_some("overdue"))
                    .chain(["asOf", "perPage", "nextPageToken"])
                    .collect();
                let other = crate::error::echo(name);
                return Err(ApiError::InvalidRequest {
                    rule: format!(
                        "unknown query parameter `{other}`: /{list} takes {}",
                        names.join(", ")
                    ),
                    field: other,
                });
            }
            out.rest.push((name.clone(), value.clone()));
            continue;
        }
        if seen.contains(name) {
            return Err(invalid(
                name,
                "given more than once: give each parameter once",
            ));
        }
        seen.push(name.clone());
        match (name.as_str(), known) {
            ("asOf", _) => {
                out.as_of = Date::parse(value).map_err(|e| invalid("asOf", rule_of(e)))?;
            }
            ("overdue", _) => match value.as_str() {
                "true" => out.overdue = true,
                _ => return Err(invalid("overdue", "overdue=true lists what is overdue")),
            },
            (_, Some((n, term))) => {
                out.terms
                    .push(term(value).map_err(|rule| invalid(n, rule))?);
            }
            _ => {}
        }
        // Checked above: a party id, a country, a date, a vocabulary
        // word; nothing in them needs percent-encoding.
        out.given.push((name.clone(), value.clone()));
    }
    Ok(out)
}

/// The `Link` header of a page: the same path and filters, the next
/// page's token.
fn link(path: &str, given: &[(String, String)], per_page: usize, token: &str) -> HeaderValue {
    let mut query: String = given.iter().map(|(n, v)| format!("{n}={v}&")).collect();
    query.push_str(&format!("perPage={per_page}&nextPageToken={token}"));
    HeaderValue::from_str(&format!("<{path}?{query}>; rel=\"next\""))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn rule_of(e: oretrace_domain::Error) -> String {
    match e {
        oretrace_domain::Error::Invalid { rule, .. } => rule,
        other => other.to_string(),
    }
}

fn party_term(v: &str) -> Result<String, String> {
    PartyId::parse(v)
        .map(|p| format!("party:{p}"))
        .map_err(rule_of)
}
fn author_term(v: &str) -> Result<String, String> {
    PartyId::parse(v)
        .map(|p| format!("author:{p}"))
        .map_err(rule_of)
}
fn country_term(v: &str) -> Result<String, String> {
    Country::parse(v)
        .map(|c| format!("country:{c}"))
        .map_err(rule_of)
}
fn commodity_term(v: &str) -> Result<String, String> {
    Token::parse(v)
        .map(|c| format!("commodity:{c}"))
        .map_err(rule_of)
}
fn agreement_status_term(v: &str) -> Result<String, String> {
    oretrace_domain::agreement::AgreementStatus::parse(v)
        .map(|s| format!("status:{s}"))
        .map_err(rule_of)
}
fn kind_term(v: &str) -> Result<String, String> {
    oretrace_domain::agreement::AgreementKind::parse(v)
        .map(|s| format!("kind:{s}"))
        .map_err(rule_of)
}
fn disclosure_term(v: &str) -> Result<String, String> {
    match v {
        "public" | "sealed" | "partly-disclosed" | "revealed" => Ok(format!("disclosure:{v}")),
        _ => Err(format!(
            "{:?} is not one of: public, sealed, partly-disclosed, revealed",
            crate::error::echo(v)
        )),
    }
}
fn report_status_term(v: &str) -> Result<String, String> {
    oretrace_domain::agreement::ReportStatus::parse(v)
        .map(|s| format!("status:{s}"))
        .map_err(rule_of)
}
fn topic_term(v: &str) -> Result<String, String> {
    Token::parse(v)
        .map(|c| format!("topic:{c}"))
        .map_err(rule_of)
}
fn site_term(v: &str) -> Result<String, String> {
    oretrace_domain::values::SiteId::parse(v)
        .map(|s| format!("site:{s}"))
        .map_err(rule_of)
}
fn code_term(v: &str) -> Result<String, String> {
    oretrace_domain::agreement::ReportingCode::parse(v)
        .map(|s| format!("code:{s}"))
        .map_err(rule_of)
}
fn class_term(v: &str) -> Result<String, String> {
    oretrace_domain::agreement::ResourceClass::parse(v)
        .map(|s| format!("class:{s}"))
        .map_err(rule_of)
}
fn element_term(v: &str) -> Result<String, String> {
    oretrace_domain::chemistry::Element::parse(v)
        .map(|e| format!("element:{}", e.symbol()))
        .map_err(rule_of)
}

/// A pledge with its status on the answer's day.
#[derive(Debug, Serialize)]
pub(crate) struct PledgeView {
    #[serde(flatten)]
    pledge: PledgeState,
    status: PledgeStatus,
    overdue: bool,
    /// Delivered as a share of the pledge, in percent (quantity pledges).
    #[serde(skip_serializing_if = "Option::is_none")]
    delivered_percent: Option<String>,
}

fn pledge_view(p: &PledgeState, as_of: Date) -> PledgeView {
    let delivered_percent = p.pledged.filter(|v| !v.is_zero()).map(|v| {
        oretrace_domain::values::format_decimal(
            &(p.delivered * Decimal::ONE_HUNDRED / v).round_dp(2),
        )
    });
    PledgeView {
        pledge: p.clone(),
        status: p.status(as_of),
        overdue: p.overdue(as_of),
        delivered_percent,
    }
}

/// An agreement as lists show it: its summary and what is computed for
/// the answer's day.
#[derive(Debug, Serialize)]
pub(crate) struct AgreementSummary {
    #[serde(flatten)]
    state: AgreementState,
    as_of: Date,
    overdue: bool,
    disclosure_overdue: bool,
    pledge_status: Vec<PledgeView>,
    /// `figures: illustrative` is repeated here as a sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
}

const ILLUSTRATIVE: &str = "Some figures of this agreement are illustrative (invented for a demonstration), not reported facts.";

fn summary(state: AgreementState, as_of: Date) -> AgreementSummary {
    AgreementSummary {
        overdue: state.overdue(as_of),
        disclosure_overdue: state.disclosure_overdue(as_of),
        pledge_status: state
            .pledges
            .iter()
            .map(|p| pledge_view(p, as_of))
            .collect(),
        note: (state.figures == Figures::Illustrative).then_some(ILLUSTRATIVE),
        as_of,
        state,
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<T: Serialize> {
    #[serde(flatten)]
    items: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// Reads one filtered page; answers it with the token and `Link` header.
async fn select_page<S: Store, T: Send + 'static, B: Serialize>(
    state: &AppState<S>,
    list: &'static str,
    filters: Filters,
    read: fn(&S, &Select) -> oretrace_ledger::StoreResult<Vec<T>>,
    id: fn(&T) -> String,
    body: impl FnOnce(Vec<T>) -> B,
) -> Result<Response, ApiError> {
    let paging = paging(list, &filters.rest)?;
    let per_page = paging.per_page;
    let select = Select {
        terms: filters.terms,
        overdue_on: filters.overdue.then_some(filters.as_of),
        after: paging.after,
        limit: per_page + 1,
    };
    let mut items = blocking(&state.ledger, move |ledger| {
        Ok(read(ledger.store(), &select)?)
    })
    .await?;
    let next = if items.len() > per_page {
        items.truncate(per_page);
        items.last().map(|last| page_token(list, &id(last)))
    } else {
        None
    };
    let link = next
        .as_deref()
        .map(|token| link(&format!("/{list}"), &filters.given, per_page, token));
    let mut response = Json(Page {
        items: body(items),
        next_page_token: next,
    })
    .into_response();
    if let Some(link) = link {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

#[derive(Debug, Serialize)]
struct AgreementList {
    agreements: Vec<AgreementSummary>,
}

pub(crate) async fn agreements<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let filters = filters(
        "agreements",
        &pairs,
        &[
            ("party", party_term),
            ("country", country_term),
            ("status", agreement_status_term),
            ("kind", kind_term),
            ("disclosure", disclosure_term),
            ("commodity", commodity_term),
        ],
        true,
    )?;
    let as_of = filters.as_of;
    select_page(
        &state,
        "agreements",
        filters,
        |s: &S, select| s.agreements(select),
        |a: &AgreementState| a.id.to_string(),
        move |items| AgreementList {
            agreements: items.into_iter().map(|a| summary(a, as_of)).collect(),
        },
    )
    .await
}

/// One version as `GET /agreements/{id}` shows it.
#[derive(Debug, Serialize)]
pub(crate) struct VersionView {
    version: u32,
    index: u64,
    registrant: PartyId,
    digest: String,
    confirmed_by: Vec<oretrace_ledger::agreements::Confirmation>,
    not_yet_confirmed_by: Vec<PartyId>,
    /// "registered by fwo, not yet confirmed by ussm".
    confirmation: String,
    disclosure: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    clauses: Option<u32>,
    revealed: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disclose_by: Option<Date>,
    /// Days sealed as of the answer's day, while a clause is sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    sealed_days: Option<i64>,
    disclosure_overdue: bool,
    record: RecordJson,
}

fn confirmation_sentence(v: &VersionState) -> String {
    let confirmed: Vec<&str> = v.confirmations().iter().map(|c| c.party.as_str()).collect();
    let pending: Vec<&str> = v.unconfirmed().iter().map(|p| p.as_str()).collect();
    let mut s = format!("registered by {}", v.registrant());
    if !confirmed.is_empty() {
        s.push_str(&format!(", confirmed by {}", confirmed.join(", ")));
    }
    if pending.is_empty() && !confirmed.is_empty() {
        s.push_str(" (every party)");
    } else if pending.is_empty() {
        s.push_str(", its only party");
    } else {
        s.push_str(&format!(", not yet confirmed by {}", pending.join(", ")));
    }
    s
}

fn version_view(v: VersionState, as_of: Date) -> VersionView {
    let due = v.disclosure_due();
    let signed = v.record().signed;
    let (clauses, sealed_days) = match &v.record().terms {
        Terms::Sealed { count, .. } => (Some(*count), due.map(|_| as_of.days_since(signed).max(0))),
        Terms::Public { .. } => (None, None),
    };
    VersionView {
        version: v.version(),
        index: v.index(),
        registrant: v.registrant().clone(),
        digest: v.digest().to_string(),
        confirmed_by: v.confirmations().to_vec(),
        not_yet_confirmed_by: v.unconfirmed().into_iter().cloned().collect(),
        confirmation: confirmation_sentence(&v),
        disclosure: v.disclosure().as_str(),
        clauses,
        revealed: v.revealed().to_vec(),
        disclose_by: due,
        sealed_days,
        disclosure_overdue: due.is_some_and(|d| as_of > d),
        record: RecordJson::of(&oretrace_domain::Record::Agreement(v.record().clone())),
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ProgressView {
    index: u64,
    author: PartyId,
    record: RecordJson,
}

fn progress_view(p: ProgressState) -> ProgressView {
    ProgressView {
        index: p.index(),
        author: p.author().clone(),
        record: RecordJson::of(&oretrace_domain::Record::Progress(p.record().clone())),
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct AgreementView {
    #[serde(flatten)]
    summary: AgreementSummary,
    /// The latest versions, at most [`MAX_INLINE_VERSIONS`], oldest
    /// first.
    versions: Vec<VersionView>,
    /// Whether earlier versions exist than are listed here (each at
    /// `/agreements/{id}/versions/{version}`).
    versions_truncated: bool,
    progress: Vec<ProgressView>,
    /// Whether more progress reports exist than are listed here (see
    /// `/agreements/{id}/progress`).
    progress_truncated: bool,
}

pub(crate) fn scoped(id: &str) -> Result<ScopedId, ApiError> {
    ScopedId::parse(id).map_err(|e| {
        ApiError::NotFound(format!(
            "{:?} is not an agreement, report or estimate id: {}",
            crate::error::echo(id),
            rule_of(e)
        ))
    })
}

/// A version number in a path: a decimal from 1 without sign or leading
/// zeros, so that one version has one address.
fn version_number(text: &str) -> Result<u32, ApiError> {
    text.parse::<u32>()
        .ok()
        .filter(|v| *v >= 1 && v.to_string() == text)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no version {:?}: versions count from 1, written without sign or leading zeros",
                crate::error::echo(text)
            ))
        })
}

/// `GET /agreements/{id}/versions/{version}`: one version, as
/// `/agreements/{id}` lists it.
pub(crate) async fn version<S: Store>(
    State(state): State<AppState<S>>,
    Path((id, version)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<VersionView>, ApiError> {
    let day = as_of(&pairs, &[])?;
    let id = scoped(&id)?;
    let version = version_number(&version)?;
    let found = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| Ok(ledger.store().agreement_version(id.as_str(), version)?)
    })
    .await?;
    found
        .map(|v| Json(version_view(v, day)))
        .ok_or_else(|| ApiError::NotFound(format!("agreement {id} has no version {version}")))
}

pub(crate) fn as_of(pairs: &[(String, String)], allowed: &[&str]) -> Result<Date, ApiError> {
    let mut as_of = None;
    for (name, value) in pairs {
        match name.as_str() {
            "asOf" if as_of.is_none() => {
                as_of = Some(Date::parse(value).map_err(|e| invalid("asOf", rule_of(e)))?);
            }
            "asOf" => {
                return Err(invalid(
                    "asOf",
                    "given more than once: give each parameter once",
                ));
            }
            n if allowed.contains(&n) => {}
            other => {
                let other = crate::error::echo(other);
                return Err(ApiError::InvalidRequest {
                    rule: format!("unknown query parameter `{other}`: this resource takes asOf"),
                    field: other,
                });
            }
        }
    }
    Ok(as_of.unwrap_or_else(today))
}

pub(crate) async fn agreement<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<AgreementView>, ApiError> {
    let day = as_of(&pairs, &[])?;
    let id = scoped(&id)?;
    let found = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| {
            let store = ledger.store();
            let Some(a) = store.agreement(id.as_str())? else {
                return Ok(None);
            };
            // The latest versions only, one read each: never the whole
            // history at once.
            let first = a.latest.saturating_sub(MAX_INLINE_VERSIONS - 1).max(1);
            let mut versions = Vec::new();
            for v in first..=a.latest {
                versions.extend(store.agreement_version(id.as_str(), v)?);
            }
            let mut progress = store.progress(id.as_str(), None, MAX_INLINE_PROGRESS + 1)?;
            let truncated = progress.len() > MAX_INLINE_PROGRESS;
            progress.truncate(MAX_INLINE_PROGRESS);
            Ok(Some((a, versions, progress, truncated)))
        }
    })
    .await?;
    let (a, versions, progress, truncated) =
        found.ok_or_else(|| ApiError::NotFound(format!("no agreement {id} is registered")))?;
    Ok(Json(AgreementView {
        summary: summary(a, day),
        versions_truncated: versions.first().is_some_and(|v| v.version() > 1),
        versions: versions.into_iter().map(|v| version_view(v, day)).collect(),
        progress: progress.into_iter().map(progress_view).collect(),
        progress_truncated: truncated,
    }))
}

/// One point of a pledge's delivery over time.
#[derive(Debug, Serialize)]
struct Delivery {
    date: Date,
    index: u64,
    author: PartyId,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<String>,
    /// Delivered up to and including this report.
    cumulative: String,
    complete: bool,
    figures: Figures,
}

#[derive(Debug, Serialize)]
struct PledgeTimeline {
    #[serde(flatten)]
    pledge: PledgeView,
    deliveries: Vec<Delivery>,
}

/// Pledged vs delivered totals by unit (currency code, `kg`, a count's
/// unit), over the agreement's pledges.
#[derive(Debug, Serialize)]
struct Total {
    unit: String,
    pledged: String,
    delivered: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Pledges {
    agreement: ScopedId,
    as_of: Date,
    pledges: Vec<PledgeTimeline>,
    totals: Vec<Total>,
    progress_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
}

pub(crate) async fn pledges<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Pledges>, ApiError> {
    let day = as_of(&pairs, &[])?;
    let id = scoped(&id)?;
    let found = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| {
            let store = ledger.store();
            let Some(a) = store.agreement(id.as_str())? else {
                return Ok(None);
            };
            let mut progress = store.progress(id.as_str(), None, MAX_INLINE_PROGRESS + 1)?;
            let truncated = progress.len() > MAX_INLINE_PROGRESS;
            progress.truncate(MAX_INLINE_PROGRESS);
            Ok(Some((a, progress, truncated)))
        }
    })
    .await?;
    let (a, mut progress, truncated) =
        found.ok_or_else(|| ApiError::NotFound(format!("no agreement {id} is registered")))?;
    progress.sort_by_key(|p| (p.record().date, p.index()));
    let mut totals: Vec<Total> = Vec::new();
    let mut add = |unit: &str, pledged: Decimal, delivered: Decimal| {
        let fmt = oretrace_domain::values::format_decimal;
        match totals.iter_mut().find(|t| t.unit == unit) {
            Some(t) => {
                let p = oretrace_domain::values::parse_decimal(&t.pledged).unwrap_or_default();
                let d = oretrace_domain::values::parse_decimal(&t.delivered).unwrap_or_default();
                t.pledged = fmt(&(p + pledged));
                t.delivered = fmt(&(d + delivered));
            }
            None => totals.push(Total {
                unit: unit.to_owned(),
                pledged: fmt(&pledged),
                delivered: fmt(&delivered),
            }),
        }
    };
    let mut timelines = Vec::new();
    for p in &a.pledges {
        if let (Some(v), Some(u)) = (p.pledged, &p.unit) {
            add(u, v, p.delivered);
        }
        let mut cumulative = Decimal::ZERO;
        let deliveries = progress
            .iter()
            .filter(|r| r.record().pledge == p.id)
            .map(|r| {
                let amount = r.record().delivered.as_ref().map(|q| q.amount());
                cumulative += amount.unwrap_or_default();
                Delivery {
                    date: r.record().date,
                    index: r.index(),
                    author: r.author().clone(),
                    amount: amount.map(|a| oretrace_domain::values::format_decimal(&a)),
                    cumulative: oretrace_domain::values::format_decimal(&cumulative),
                    complete: r.record().complete,
                    figures: r.record().figures,
                }
            })
            .collect();
        timelines.push(PledgeTimeline {
            pledge: pledge_view(p, day),
            deliveries,
        });
    }
    Ok(Json(Pledges {
        agreement: a.id.clone(),
        as_of: day,
        pledges: timelines,
        totals,
        progress_truncated: truncated,
        note: (a.figures == Figures::Illustrative).then_some(ILLUSTRATIVE),
    }))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressPage {
    progress: Vec<ProgressView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// `GET /agreements/{id}/progress`: every progress report, in log order,
/// paged by log index.
pub(crate) async fn progress<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let id = scoped(&id)?;
    let list = "progress";
    let paging = paging(list, &pairs)?;
    let after = match paging.after.as_deref() {
        None => None,
        Some(a) => Some(
            a.parse::<u64>()
                .map_err(|_| invalid("nextPageToken", "not a token a progress page gave"))?,
        ),
    };
    let per_page = paging.per_page;
    let found = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| {
            let store = ledger.store();
            if store.agreement(id.as_str())?.is_none() {
                return Ok(None);
            }
            Ok(Some(store.progress(id.as_str(), after, per_page + 1)?))
        }
    })
    .await?;
    let mut items =
        found.ok_or_else(|| ApiError::NotFound(format!("no agreement {id} is registered")))?;
    let next = if items.len() > per_page {
        items.truncate(per_page);
        items
            .last()
            .map(|last| page_token(list, &last.index().to_string()))
    } else {
        None
    };
    let header = next
        .as_deref()
        .map(|token| link(&format!("/agreements/{id}/progress"), &[], per_page, token));
    let mut response = Json(ProgressPage {
        progress: items.into_iter().map(progress_view).collect(),
        next_page_token: next,
    })
    .into_response();
    if let Some(link) = header {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

#[derive(Debug, Serialize)]
struct ClauseView {
    clause: u32,
    /// The salt, 64 hex digits: with the text and the clause index it
    /// recomputes the clause commitment (`oretrace.clause/v1`).
    salt: String,
    text: String,
    /// Log index of the reveal.
    index: u64,
    by: PartyId,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Clauses {
    agreement: ScopedId,
    version: u32,
    root: String,
    count: u32,
    clauses: Vec<ClauseView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// `GET /agreements/{id}/versions/{version}/clauses`: the clauses of a
/// sealed version revealed so far, by clause index, paged.
pub(crate) async fn clauses<S: Store>(
    State(state): State<AppState<S>>,
    Path((id, version)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let id = scoped(&id)?;
    let version = version_number(&version)?;
    let list = "clauses";
    let paging = paging(list, &pairs)?;
    let after = match paging.after.as_deref() {
        None => None,
        Some(a) => Some(
            a.parse::<u32>()
                .map_err(|_| invalid("nextPageToken", "not a token a clauses page gave"))?,
        ),
    };
    let per_page = paging.per_page;
    let found = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| {
            let store = ledger.store();
            let Some(v) = store.agreement_version(id.as_str(), version)? else {
                return Ok(None);
            };
            let clauses = store.clauses(id.as_str(), version, after, per_page + 1)?;
            Ok(Some((v, clauses)))
        }
    })
    .await?;
    let (v, mut items) = found
        .ok_or_else(|| ApiError::NotFound(format!("agreement {id} has no version {version}")))?;
    let Terms::Sealed { root, count, .. } = &v.record().terms else {
        return Err(ApiError::NotFound(format!(
            "agreement {id} version {version} is public: its clauses are in the version's record"
        )));
    };
    let next = if items.len() > per_page {
        items.truncate(per_page);
        items
            .last()
            .map(|last| page_token(list, &last.clause.to_string()))
    } else {
        None
    };
    let header = next.as_deref().map(|token| {
        link(
            &format!("/agreements/{id}/versions/{version}/clauses"),
            &[],
            per_page,
            token,
        )
    });
    let mut response = Json(Clauses {
        agreement: id,
        version,
        root: root.to_string(),
        count: *count,
        clauses: items
            .into_iter()
            .map(|c: ClauseState| ClauseView {
                clause: c.clause,
                salt: oretrace_domain::values::Digest::from_bytes(c.salt).to_string(),
                text: c.text,
                index: c.index,
                by: c.by,
            })
            .collect(),
        next_page_token: next,
    })
    .into_response();
    if let Some(link) = header {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

/// A report as the API shows it: always marked as an unconfirmed claim
/// unless confirmed, never mistaken for an agreement.
#[derive(Debug, Serialize)]
pub(crate) struct ReportView {
    /// Always `report`: a claim that someone reported, not an agreement.
    kind: &'static str,
    id: ScopedId,
    author: PartyId,
    status: &'static str,
    /// Log index of every version, oldest first.
    versions: Vec<u64>,
    record: RecordJson,
    notice: String,
    /// For a headline valuation (topic `valuation`), on `/reports/{id}`:
    /// what the estimates registered in its countries support.
    #[serde(skip_serializing_if = "Option::is_none")]
    estimates: Option<EstimatesBeside>,
}

/// Contained metal of one element and class, summed over the
/// code-compliant estimates of a country.
#[derive(Debug, Serialize)]
struct ContainedTotal {
    element: &'static str,
    class: &'static str,
    tonnes: String,
}

/// What registered resource estimates support, shown beside a headline
/// valuation: a valuation is a report, not an estimate.
#[derive(Debug, Serialize)]
struct EstimatesBeside {
    countries: Vec<Country>,
    /// Estimates under a CRIRSCO-aligned reporting code (JORC, NI 43-101,
    /// another), counted in `contained`.
    code_compliant: usize,
    /// Estimates under no reporting code: listed, not counted.
    under_no_code: usize,
    contained: Vec<ContainedTotal>,
    /// More estimates than [`MAX_ESTIMATES_BESIDE`] per country: the
    /// totals are of the first ones in id order.
    truncated: bool,
    note: String,
}

/// How many estimates per country a valuation report is compared with.
const MAX_ESTIMATES_BESIDE: usize = 10_000;

/// The estimates registered in `countries`, summed as [`EstimatesBeside`].
fn estimates_beside<S: Store>(
    store: &S,
    countries: &[Country],
) -> Result<EstimatesBeside, ApiError> {
    use oretrace_domain::agreement::ReportingCode;
    use std::collections::BTreeMap;
    let mut code_compliant = 0;
    let mut under_no_code = 0;
    let mut truncated = false;
    let mut sums: BTreeMap<(&'static str, &'static str), Decimal> = BTreeMap::new();
    for country in countries {
        let mut after = None;
        let mut seen = 0;
        loop {
            let page = store.resources(&Select {
                terms: vec![format!("country:{country}")],
                overdue_on: None,
                after: after.take(),
                limit: 1_000,
            })?;
            let full = page.len() == 1_000;
            for r in &page {
                seen += 1;
                let e = r.record();
                if e.code == ReportingCode::None {
                    under_no_code += 1;
                    continue;
                }
                code_compliant += 1;
                for g in &e.grades {
                    let element = g.analyte.element();
                    let tonnes = e.contained_tonnes(element).unwrap_or_default();
                    let sum = sums
                        .entry((element.symbol(), e.class.as_str()))
                        .or_default();
                    *sum = sum.checked_add(tonnes).unwrap_or(Decimal::MAX);
                }
            }
            after = page.last().map(|r| r.id().to_string());
            if !full {
                break;
            }
            if seen >= MAX_ESTIMATES_BESIDE {
                truncated = true;
                break;
            }
        }
    }
    let names: Vec<&str> = countries.iter().map(Country::as_str).collect();
    let note = if code_compliant == 0 {
        format!(
            "A headline valuation is a report, not a resource estimate. No estimate under a \
             CRIRSCO-aligned reporting code is registered for {}: nothing registered here \
             supports the figure.",
            names.join(", ")
        )
    } else {
        format!(
            "A headline valuation is a report, not a resource estimate. The {code_compliant} \
             estimate(s) under a CRIRSCO-aligned reporting code registered for {} support the \
             contained metal listed here; estimates under no code are not counted.",
            names.join(", ")
        )
    };
    Ok(EstimatesBeside {
        countries: countries.to_vec(),
        code_compliant,
        under_no_code,
        contained: sums
            .into_iter()
            .map(|((element, class), t)| ContainedTotal {
                element,
                class,
                tonnes: oretrace_domain::values::format_decimal(&t.round_dp(3)),
            })
            .collect(),
        truncated,
        note,
    })
}

fn report_view(r: ReportState) -> ReportView {
    use oretrace_domain::agreement::ReportStatus;
    let notice = match (r.record().status, &r.record().confirmed_by) {
        (ReportStatus::Confirmed, Some(a)) => format!(
            "A reported claim that its author, {}, says registered agreement {a} confirms: the link is the author's word, not a statement by that agreement's parties.",
            r.author()
        ),
        (ReportStatus::Confirmed, None) => format!(
            "A reported claim that its author, {}, says is confirmed.",
            r.author()
        ),
        (ReportStatus::Refuted, _) => format!(
            "A reported claim that its author, {}, says a source refutes.",
            r.author()
        ),
        (ReportStatus::Unconfirmed, _) => {
            "An unconfirmed public claim, as reported by its sources; not an agreement.".to_owned()
        }
    };
    ReportView {
        kind: "report",
        id: r.id().clone(),
        author: r.author().clone(),
        status: r.record().status.as_str(),
        versions: r.versions().to_vec(),
        record: RecordJson::of(&oretrace_domain::Record::Report(r.record().clone())),
        notice,
        estimates: None,
    }
}

#[derive(Debug, Serialize)]
struct ReportList {
    reports: Vec<ReportView>,
}

pub(crate) async fn reports<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let filters = filters(
        "reports",
        &pairs,
        &[
            ("author", author_term),
            ("country", country_term),
            ("status", report_status_term),
            ("topic", topic_term),
            ("commodity", commodity_term),
        ],
        false,
    )?;
    select_page(
        &state,
        "reports",
        filters,
        |s: &S, select| s.reports(select),
        |r: &ReportState| r.id().to_string(),
        |items| ReportList {
            reports: items.into_iter().map(report_view).collect(),
        },
    )
    .await
}

pub(crate) async fn report<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Json<ReportView>, ApiError> {
    let id = scoped(&id)?;
    let found = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| {
            let Some(r) = ledger.store().report(id.as_str())? else {
                return Ok(None);
            };
            let beside = if r.record().topic.as_str() == "valuation" {
                Some(estimates_beside(ledger.store(), &r.record().countries)?)
            } else {
                None
            };
            let mut view = report_view(r);
            view.estimates = beside;
            Ok(Some(view))
        }
    })
    .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no report {id} is registered")))
}

/// Contained metal of one element: as stated (if stated) and as computed
/// from tonnage × grade.
#[derive(Debug, Serialize)]
struct Contained {
    element: &'static str,
    computed_tonnes: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    stated_tonnes: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ResourceView {
    id: ScopedId,
    author: PartyId,
    country: Country,
    /// Whether the estimate follows a CRIRSCO-aligned reporting code.
    code_compliant: bool,
    contained: Vec<Contained>,
    versions: Vec<u64>,
    record: RecordJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
}

fn resource_view(r: ResourceState) -> ResourceView {
    use oretrace_domain::agreement::ReportingCode;
    let e = r.record();
    let contained = e
        .grades
        .iter()
        .map(|g| {
            let element = g.analyte.element();
            Contained {
                element: element.symbol(),
                computed_tonnes: oretrace_domain::values::format_decimal(
                    &e.contained_tonnes(element).unwrap_or_default().round_dp(3),
                ),
                stated_tonnes: e
                    .contained
                    .iter()
                    .find(|(el, _)| *el == element)
                    .map(|(_, t)| oretrace_domain::values::format_decimal(t)),
            }
        })
        .collect();
    ResourceView {
        id: r.id().clone(),
        author: r.author().clone(),
        country: r.country(),
        code_compliant: e.code != ReportingCode::None,
        contained,
        versions: r.versions().to_vec(),
        note: (e.figures == Figures::Illustrative).then_some(
            "This estimate's figures are illustrative (invented for a demonstration), not a reported estimate.",
        ),
        record: RecordJson::of(&oretrace_domain::Record::Resource(e.clone())),
    }
}

#[derive(Debug, Serialize)]
struct ResourceList {
    resources: Vec<ResourceView>,
}

pub(crate) async fn resources<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let filters = filters(
        "resources",
        &pairs,
        &[
            ("author", author_term),
            ("site", site_term),
            ("country", country_term),
            ("code", code_term),
            ("class", class_term),
            ("element", element_term),
        ],
        false,
    )?;
    select_page(
        &state,
        "resources",
        filters,
        |s: &S, select| s.resources(select),
        |r: &ResourceState| r.id().to_string(),
        |items| ResourceList {
            resources: items.into_iter().map(resource_view).collect(),
        },
    )
    .await
}

pub(crate) async fn resource<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Json<ResourceView>, ApiError> {
    let id = scoped(&id)?;
    let found = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| Ok(ledger.store().resource(id.as_str())?)
    })
    .await?;
    found
        .map(|r| Json(resource_view(r)))
        .ok_or_else(|| ApiError::NotFound(format!("no resource estimate {id} is registered")))
}
