//! EPCIS queries: `GET /events` with the EPCIS 2.0 query parameters, the
//! resource paths (`/events/{eventID}`, `/eventTypes/{type}/events`,
//! `/epcs/{epc}/events`, `/bizSteps/…`, `/bizLocations/…`,
//! `/readPoints/…`, `/dispositions/…`), named queries (`/queries`), and
//! paging (`perPage`, `nextPageToken`, a `Link: <…>; rel="next"` header).
//!
//! The store selects candidates by one index term and the time ranges, in
//! order, after the page cursor; the exact predicate
//! ([`oretrace_epcis::query::EventQuery::matches`]) decides. Each request
//! scans a bounded number of candidates: a page may hold fewer than
//! `perPage` events and still have a next page.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Json, Response};
use oretrace_epcis::epc_format::EpcFormat;
use oretrace_epcis::query::{EventQuery, OrderBy, QueryError};
use oretrace_epcis_map::percent_encode;
use oretrace_ledger::Store;
use oretrace_ledger::state::EventState;
use oretrace_ledger::store::{EventOrder, EventSelect, Inserted, NamedQueryRow, Quota, Removed};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{millis_rfc3339, now_rfc3339, with_versions};
use crate::error::echo;
use crate::{ApiError, AppState, blocking};

/// Events per page unless `perPage` says otherwise, and the most it may say.
pub const DEFAULT_PER_PAGE: u32 = 30;
pub const MAX_PER_PAGE: u32 = 1000;
/// Candidates read from the store per round trip, and per request at most.
pub(crate) const CHUNK: usize = 512;
const SCAN_BUDGET: usize = 50_000;
/// Most index terms one selection names.
const MAX_TERMS: usize = 256;

type Pairs = Vec<(String, String)>;

/// A refused query as a problem: the parameter's name as the client spelt
/// it, bounded ([`echo`]).
pub(crate) fn query_error(e: QueryError) -> ApiError {
    ApiError::QueryParameter(match e {
        QueryError::UnknownParameter(name) => {
            format!("query: unknown query parameter `{}`", echo(&name))
        }
        QueryError::InvalidValue { parameter, message } => format!(
            "query: invalid value for query parameter `{}`: {message}",
            echo(&parameter)
        ),
    })
}

/// A fingerprint of what a query asks (not its paging), so that a page
/// token is only good for the query that made it.
fn fingerprint(pairs: &[(String, String)], extra: &str) -> String {
    let mut text = String::from(extra);
    let mut sorted: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| !is_paging(k)).collect();
    sorted.sort();
    for (k, v) in sorted {
        text.push('\n');
        text.push_str(k);
        text.push('=');
        text.push_str(v);
    }
    let hash = oretrace_tlog::hash::sha256(text.as_bytes());
    hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn is_paging(name: &str) -> bool {
    matches!(
        name,
        "perPage" | "PerPage" | "nextPageToken" | "NextPageToken"
    )
}

/// Where a page ends: `<key>_<index>_<returned so far>_<fingerprint>`.
#[derive(Debug)]
struct Cursor {
    after: (i64, u64),
    returned: u64,
}

fn parse_token(token: &str, fp: &str) -> Result<Cursor, ApiError> {
    let bad = || ApiError::QueryParameter("nextPageToken: not a token this query issued".into());
    let parts: Vec<&str> = token.split('_').collect();
    let [key, index, returned, got_fp] = parts[..] else {
        return Err(bad());
    };
    if got_fp != fp {
        return Err(bad());
    }
    let index: u64 = index.parse().map_err(|_| bad())?;
    if i64::try_from(index).is_err() {
        return Err(bad());
    }
    Ok(Cursor {
        after: (key.parse().map_err(|_| bad())?, index),
        returned: returned.parse().map_err(|_| bad())?,
    })
}

/// The event as a query returns it: `eventID` (the CBV hash unless the
/// capturer gave one) and `recordTime` added, its EPCs written as
/// `format` asks (`GS1-EPC-Format`). Whether every EPC could be is
/// returned beside it.
pub(crate) fn output_event(state: &EventState, format: EpcFormat) -> (Value, bool) {
    let mut event = match serde_json::from_str::<Value>(state.event_text()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    event
        .entry("eventID")
        .or_insert_with(|| Value::String(state.event_id().to_string()));
    event.insert(
        "recordTime".into(),
        Value::String(millis_rfc3339(state.record_time())),
    );
    let mut event = Value::Object(event);
    let honoured = oretrace_epcis::epc_format::rewrite_event(&mut event, format);
    (event, honoured)
}

/// The `GS1-EPC-Format` an answer states: the one asked for, or
/// `No_Preference` when some EPC has no form of that kind.
fn format_header(response: &mut Response, format: EpcFormat, honoured: bool) {
    let stated = if honoured {
        format
    } else {
        EpcFormat::NoPreference
    };
    response
        .headers_mut()
        .insert("GS1-EPC-Format", HeaderValue::from_static(stated.as_str()));
}

/// The `EPCISQueryDocument` of `events` (as [`output_event`] wrote them,
/// from `found`), their shared `@context` hoisted to the document, and
/// who captured each beside them.
pub(crate) fn query_document(
    query_name: &str,
    mut events: Vec<Value>,
    found: &[EventState],
) -> Value {
    let context = oretrace_epcis_map::hoist_context(&mut events);
    json!({
        "@context": context,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": now_rfc3339(),
        "epcisBody": {
            "queryResults": {
                "queryName": query_name,
                "resultsBody": {"eventList": events},
                CAPTURED_BY: captured_by(found),
            }
        }
    })
}

/// Runs `query` and answers one page as an `EPCISQueryDocument`.
async fn answer<S: Store>(
    state: &AppState<S>,
    query: EventQuery,
    query_name: &str,
    uri: &Uri,
    pairs: &Pairs,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let format = super::discovery::epc_format(headers)?;
    let fp = fingerprint(pairs, &format!("{} {query_name}", uri.path()));
    let cursor = query
        .next_page_token()
        .map(|t| parse_token(t, &fp))
        .transpose()?;
    let per_page = query
        .per_page()
        .unwrap_or(DEFAULT_PER_PAGE)
        .clamp(1, MAX_PER_PAGE) as u64;
    let returned = cursor.as_ref().map_or(0, |c| c.returned);
    // maxEventCount: the whole result in one answer, or QueryTooLarge if
    // more than that many events match.
    let max_count = query.max_event_count();
    if let Some(max) = max_count {
        if max > u64::from(MAX_PER_PAGE) {
            return Err(ApiError::QueryParameter(format!(
                "query: maxEventCount may be at most {MAX_PER_PAGE}"
            )));
        }
        if cursor.is_some() {
            return Err(ApiError::QueryParameter(
                "query: a maxEventCount query is answered in one page".into(),
            ));
        }
    }
    let want = match (query.event_count_limit(), max_count) {
        (_, Some(max)) => max + 1,
        (Some(limit), None) => per_page.min(limit.saturating_sub(returned)),
        (None, None) => per_page,
    } as usize;
    let mut select = EventSelect {
        // A long disjunction is no selection (and would exceed what a SQL
        // statement may bind): scan instead, within the budget.
        any_terms: query.candidate_terms().filter(|t| t.len() <= MAX_TERMS),
        event_time: query.event_time_range(),
        record_time: query.record_time_range(),
        // Without orderBy the order is the repository's to choose: capture
        // order, or event time when the query bounds it (so that the
        // time index serves the range and the page cursor alike).
        order: match query.order_by() {
            OrderBy::Index if query.candidate_terms().is_none() => match query.event_time_range() {
                (None, None) => EventOrder::Index,
                _ => EventOrder::EventTime,
            },
            OrderBy::Index => EventOrder::Index,
            OrderBy::EventTime => EventOrder::EventTime,
            OrderBy::RecordTime => EventOrder::RecordTime,
        },
        descending: query.descending(),
        after: cursor.as_ref().map(|c| c.after),
        limit: CHUNK,
    };
    let count_limit = query.event_count_limit();
    let (found, next, exhausted, scanned) = blocking(&state.ledger, move |ledger| {
        let mut found: Vec<EventState> = Vec::new();
        let mut next = None;
        let mut scanned = 0usize;
        if want == 0 {
            return Ok((found, next, false, scanned));
        }
        loop {
            let rows = ledger.store().select_events(&select)?;
            let n = rows.len();
            let mut last = None;
            for row in rows {
                scanned += 1;
                let key = select.key_of(&row);
                last = Some(key);
                let value: Value = serde_json::from_str(row.event_text()).unwrap_or(Value::Null);
                if query.matches(&value, row.record_time()) {
                    if found.len() == want {
                        next = found.last().map(|e| select.key_of(e));
                        return Ok((found, next, false, scanned));
                    }
                    found.push(row);
                }
            }
            if n < select.limit {
                return Ok((found, None, false, scanned));
            }
            if scanned >= SCAN_BUDGET {
                // Stop here; the next page starts after the last candidate
                // looked at (everything after the last event returned and
                // up to it did not match).
                next = last;
                return Ok((found, next, true, scanned));
            }
            select.after = last;
        }
    })
    .await?;
    // What the query examined, for the client's budget, on whatever
    // answer it gets.
    let examined = |mut response: Response| {
        response
            .extensions_mut()
            .insert(crate::budget::Examined(scanned));
        response
    };
    if let Some(max) = max_count {
        if found.len() as u64 > max {
            return Ok(examined(
                ApiError::QueryTooLarge { limit: max }.into_response(),
            ));
        }
        if exhausted {
            return Ok(examined(
                ApiError::QueryTooComplex {
                    budget: SCAN_BUDGET,
                }
                .into_response(),
            ));
        }
    }
    let total = returned.saturating_add(found.len() as u64);
    let mut honoured = true;
    let events: Vec<Value> = found
        .iter()
        .map(|e| {
            let (event, all) = output_event(e, format);
            honoured &= all;
            event
        })
        .collect();
    let document = query_document(query_name, events, &found);
    let mut response = epcis_json(&document);
    format_header(&mut response, format, honoured);
    let more = next.filter(|_| count_limit.is_none_or(|l| total < l));
    if let Some((key, index)) = more {
        let token = format!("{key}_{index}_{total}_{fp}");
        let mut link = format!("{}?", uri.path());
        for (k, v) in pairs
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "nextPageToken" | "NextPageToken"))
        {
            link.push_str(&format!("{}={}&", percent_encode(k), percent_encode(v)));
        }
        link.push_str(&format!("nextPageToken={token}"));
        if let Ok(v) = HeaderValue::from_str(&format!("<{link}>; rel=\"next\"")) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(examined(with_versions(response)))
}

/// Most `prefix=IRI` pairs read from a request's `GS1-Extensions`.
const MAX_EXTENSION_PREFIXES: usize = 64;

/// The prefixes a request's `GS1-Extensions` header declares
/// (`prefix=IRI`, comma-separated), for the `EQ_{prefix}:{field}` family:
/// the client's names for the extension namespaces it queries. Pairs that
/// do not read as `prefix=IRI` are passed over (the header is advisory).
pub(crate) fn request_context(headers: &HeaderMap) -> oretrace_epcis::Context {
    let mut context = oretrace_epcis::Context::new();
    let pairs = headers
        .get_all("GS1-Extensions")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(prefix, iri)| (prefix.trim(), iri.trim()))
        .filter(|(prefix, iri)| {
            !prefix.is_empty()
                && prefix.len() <= 64
                && prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                && iri.len() <= 1024
                && iri.contains(':')
        })
        .take(MAX_EXTENSION_PREFIXES);
    for (prefix, iri) in pairs {
        context = context.with_prefix(prefix, iri);
    }
    context
}

/// `GET /events`.
pub(crate) async fn events<S: Store>(
    State(state): State<AppState<S>>,
    uri: Uri,
    headers: HeaderMap,
    Query(pairs): Query<Pairs>,
) -> Result<Response, ApiError> {
    let query = EventQuery::from_pairs_with_context(&pairs, &request_context(&headers))
        .map_err(query_error)?;
    answer(&state, query, "SimpleEventQuery", &uri, &pairs, &headers).await
}

/// The query of a resource path (`/bizSteps/{b}/events` is
/// `EQ_bizStep=b`) combined with the request's own parameters.
async fn by_resource<S: Store>(
    state: AppState<S>,
    uri: Uri,
    headers: HeaderMap,
    pairs: Pairs,
    parameter: &str,
    value: String,
) -> Result<Response, ApiError> {
    let own = EventQuery::from_pairs_with_context(&pairs, &request_context(&headers))
        .map_err(query_error)?;
    let path = EventQuery::from_pairs(&[(parameter.to_owned(), value)]).map_err(query_error)?;
    let query = own.and(path).map_err(query_error)?;
    answer(&state, query, "SimpleEventQuery", &uri, &pairs, &headers).await
}

/// An EPC or EPC class: classes (`urn:epc:class:…`, a Digital Link with a
/// lot, the registry's lot URIs) are matched as classes.
fn epc_parameter(epc: &str) -> &'static str {
    let class = epc.starts_with("urn:epc:class:")
        || epc.starts_with("urn:oretrace:lot:")
        || (epc.contains("/01/") && epc.contains("/10/") && !epc.contains("/21/"));
    if class {
        "MATCH_anyEPCClass"
    } else {
        "MATCH_anyEPC"
    }
}

pub(crate) async fn epc_events<S: Store>(
    State(state): State<AppState<S>>,
    uri: Uri,
    headers: HeaderMap,
    Path(epc): Path<String>,
    Query(pairs): Query<Pairs>,
) -> Result<Response, ApiError> {
    let parameter = epc_parameter(&epc);
    by_resource(state, uri, headers, pairs, parameter, epc).await
}

macro_rules! resource_handler {
    ($name:ident, $parameter:expr) => {
        pub(crate) async fn $name<S: Store>(
            State(state): State<AppState<S>>,
            uri: Uri,
            headers: HeaderMap,
            Path(value): Path<String>,
            Query(pairs): Query<Pairs>,
        ) -> Result<Response, ApiError> {
            by_resource(state, uri, headers, pairs, $parameter, value).await
        }
    };
}

resource_handler!(event_type_events, "eventType");
resource_handler!(biz_step_events, "EQ_bizStep");
resource_handler!(biz_location_events, "EQ_bizLocation");
resource_handler!(read_point_events, "EQ_readPoint");
resource_handler!(disposition_events, "EQ_disposition");

/// The query results' extension naming who captured each event (beside
/// the events, so that their hashes stay theirs): `{eventID: {"party",
/// "index"}}`, the party whose credentials captured it and the log entry
/// that records how.
const CAPTURED_BY: &str = "https://oretrace.org/epcis/capturedBy";

fn captured_by(events: &[EventState]) -> Value {
    Value::Object(
        events
            .iter()
            .map(|e| {
                (
                    e.event_id().to_string(),
                    json!({"party": e.captured_by().as_str(), "index": e.index()}),
                )
            })
            .collect(),
    )
}

/// `GET /events/{eventID}`: one event by its CBV 2.0 hash or by the
/// eventID its capturer gave it; who captured it in `Oretrace-Captured-By`
/// and the entry that records it in `Oretrace-Log-Index`.
pub(crate) async fn event<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let format = super::discovery::epc_format(&headers)?;
    let wanted = id.clone();
    let found = blocking(&state.ledger, move |ledger| {
        if let Some(e) = ledger.store().event(&wanted)? {
            return Ok(Some(e));
        }
        // An id that is no URI, or that would read as several (`a|b`),
        // names no event a capturer gave.
        if wanted.contains('|') {
            return Ok(None);
        }
        let Ok(query) = EventQuery::from_pairs(&[("EQ_eventID".to_owned(), wanted)]) else {
            return Ok(None);
        };
        let select = EventSelect {
            any_terms: query.candidate_terms(),
            limit: 2,
            ..EventSelect::default()
        };
        Ok(ledger
            .store()
            .select_events(&select)?
            .into_iter()
            .find(|e| {
                query.matches(
                    &serde_json::from_str(e.event_text()).unwrap_or(Value::Null),
                    e.record_time(),
                )
            }))
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no event {id}")))?;
    let (event, honoured) = output_event(&found, format);
    let document = query_document(
        "SimpleEventQuery",
        vec![event],
        std::slice::from_ref(&found),
    );
    let mut response = epcis_json(&document);
    format_header(&mut response, format, honoured);
    for (name, value) in [
        ("oretrace-captured-by", found.captured_by().to_string()),
        ("oretrace-log-index", found.index().to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static(name), value);
        }
    }
    Ok(with_versions(response))
}

/// An EPCIS JSON body, `@context` and `type` first (see
/// [`oretrace_epcis_map::to_json_text`]).
fn epcis_json(value: &Value) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        oretrace_epcis_map::to_json_text(value, false),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NamedQuery {
    name: String,
    query: Value,
}

fn check_query_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "name: 1 to 64 characters of A-Z a-z 0-9 - _ .".into(),
        ))
    }
}

/// The party a request to change named queries comes from: a bearer
/// token is required (the same as for capture).
async fn query_owner<S: Store>(
    state: &AppState<S>,
    headers: &axum::http::HeaderMap,
) -> Result<String, ApiError> {
    super::auth::bearer_party(state, headers, "named queries are defined and deleted").await
}

/// `POST /queries`: defines a named query (bearer token; the party that
/// defines it is the one that may delete it).
pub(crate) async fn create_query<S: Store>(
    State(state): State<AppState<S>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let owner = query_owner(&state, &headers).await?;
    let named: NamedQuery = serde_json::from_slice(&body).map_err(ApiError::from_request_json)?;
    check_query_name(&named.name)?;
    let validator = oretrace_epcis_schema::EpcisValidator::shared()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    validator
        .validate_query(&named.query)
        .map_err(|mut violations| {
            // Pointers into the body, where the query sits under "query".
            for v in &mut violations {
                v.pointer.insert_str(0, "/query");
            }
            ApiError::QueryViolations(violations)
        })?;
    EventQuery::from_json(&named.query).map_err(query_error)?;
    let row = NamedQueryRow {
        name: named.name.clone(),
        owner,
        query: named.query.to_string(),
    };
    if row.query.len() > MAX_NAMED_QUERY_BYTES {
        return Err(ApiError::QueryTooLarge {
            limit: MAX_NAMED_QUERY_BYTES as u64,
        });
    }
    let inserted = blocking(&state.ledger, move |ledger| {
        Ok(ledger.store().insert_named_query(&row, NAMED_QUERY_QUOTA)?)
    })
    .await?;
    match inserted {
        Inserted::Done => {}
        Inserted::Exists => {
            return Err(ApiError::Conflict(format!(
                "a query named {} exists",
                named.name
            )));
        }
        Inserted::OwnerFull | Inserted::AllFull | Inserted::NoQuery => {
            return Err(ApiError::QuotaExceeded {
                what: "named queries",
                limit: if inserted == Inserted::AllFull {
                    NAMED_QUERY_QUOTA.total as usize
                } else {
                    super::QUERIES_PER_PARTY
                },
                hint: "delete one of its queries first",
            });
        }
    }
    let location = format!("/queries/{}", named.name);
    Ok(with_versions(
        (
            StatusCode::CREATED,
            [(
                header::LOCATION,
                HeaderValue::from_str(&location).map_err(|e| ApiError::internal(e.to_string()))?,
            )],
        )
            .into_response(),
    ))
}

/// Named queries one party, and the registry, may hold.
pub(crate) const NAMED_QUERY_QUOTA: Quota = Quota {
    per_owner: super::QUERIES_PER_PARTY as u64,
    total: 10_000,
};

/// The largest named query kept (its JSON text).
pub(crate) const MAX_NAMED_QUERY_BYTES: usize = 64 * 1024;

fn named_query_json(row: &NamedQueryRow) -> Value {
    let query: Value = serde_json::from_str(&row.query).unwrap_or(Value::Null);
    json!({"name": row.name, "query": query, "owner": row.owner})
}

/// `GET /queries`: the named queries in name order, a page at a time
/// (`perPage`, default 100, at most 1000; the next page in a `Link`
/// header).
pub(crate) async fn list_queries<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Pairs>,
) -> Result<Response, ApiError> {
    let paging = crate::registry::binding_paging("queries", &pairs)?;
    let (after, per_page) = (paging.after.clone(), paging.per_page);
    let mut page = blocking(&state.ledger, move |ledger| {
        Ok(ledger
            .store()
            .named_queries(after.as_deref(), per_page + 1)?)
    })
    .await?;
    let more = page.len() > paging.per_page;
    page.truncate(paging.per_page);
    let next = page
        .last()
        .filter(|_| more)
        .map(|row| crate::registry::page_token("queries", &row.name));
    let all: Vec<Value> = page.iter().map(named_query_json).collect();
    let mut response = Json(all).into_response();
    if let Some(token) = next {
        response.headers_mut().insert(
            header::LINK,
            crate::registry::next_link("queries", paging.per_page, &token),
        );
    }
    Ok(with_versions(response))
}

/// A named query by name, or `NoSuchNameException`.
pub(crate) async fn stored_query<S: Store>(
    state: &AppState<S>,
    name: &str,
) -> Result<NamedQueryRow, ApiError> {
    let key = name.to_owned();
    blocking(&state.ledger, move |ledger| {
        Ok(ledger.store().named_query(&key)?)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no query named {}", echo(name))))
}

/// `GET /queries/{name}`.
pub(crate) async fn get_query<S: Store>(
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let row = stored_query(&state, &name).await?;
    Ok(with_versions(Json(named_query_json(&row)).into_response()))
}

/// `DELETE /queries/{name}`: by the party that defined it, with its own
/// subscriptions to it; refused while another party subscribes to it.
pub(crate) async fn delete_query<S: Store>(
    State(state): State<AppState<S>>,
    headers: axum::http::HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let party = query_owner(&state, &headers).await?;
    let key = name.clone();
    let removed = blocking(&state.ledger, move |ledger| {
        Ok(ledger.store().delete_named_query(&key, &party)?)
    })
    .await?;
    match removed {
        Removed::Done { .. } => Ok(with_versions(StatusCode::NO_CONTENT.into_response())),
        Removed::Missing => Err(ApiError::NotFound(format!(
            "no query named {}",
            echo(&name)
        ))),
        Removed::NotOwner(owner) => Err(ApiError::Refused(
            oretrace_ledger::rules::Refusal::Forbidden(format!(
                "query {name} was defined by {owner}; only it may delete it"
            )),
        )),
        Removed::Subscribed(n) => Err(ApiError::Refused(
            oretrace_ledger::rules::Refusal::Forbidden(format!(
                "query {name} has {n} subscriptions of other parties; it stays until they unsubscribe"
            )),
        )),
    }
}

/// `GET /queries/{name}/events`: the named query, paged. Only `perPage`
/// and `nextPageToken` may be added. With `Upgrade: websocket` and the
/// subscription parameters, a subscription socket ([`super::socket`]).
pub(crate) async fn query_events<S: Store>(
    State(state): State<AppState<S>>,
    uri: Uri,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(pairs): Query<Pairs>,
    upgrade: Result<
        axum::extract::ws::WebSocketUpgrade,
        axum::extract::ws::rejection::WebSocketUpgradeRejection,
    >,
) -> Result<Response, ApiError> {
    if let Ok(upgrade) = upgrade {
        return super::socket::open(state, headers, name, pairs, upgrade).await;
    }
    if let Some((k, _)) = pairs.iter().find(|(k, _)| super::socket::is_parameter(k)) {
        return Err(ApiError::SubscriptionControls(format!(
            "{k}: a subscription parameter; it opens a WebSocket (Upgrade: websocket), \
             or subscribe a webhook with POST /queries/{{name}}/subscriptions"
        )));
    }
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !is_paging(k)) {
        return Err(ApiError::QueryParameter(format!(
            "query: {} cannot be added to a named query; only perPage and nextPageToken",
            echo(k)
        )));
    }
    let stored = stored_query(&state, &name).await?;
    let definition: Value = serde_json::from_str(&stored.query)
        .map_err(|e| ApiError::internal(format!("named query {name}: {e}")))?;
    let query = EventQuery::from_json(&definition)
        .and_then(|q| q.and(EventQuery::from_pairs(&pairs)?))
        .map_err(query_error)?;
    answer(&state, query, &name, &uri, &pairs, &headers).await
}
