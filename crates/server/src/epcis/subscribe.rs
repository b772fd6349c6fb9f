//! Subscriptions to named queries (EPCIS 2.0 REST binding, webhook form;
//! `docs/design/epcis-binding.md` §4): `POST /queries/{name}/subscriptions`
//! creates one, `GET` lists the caller's own, `GET`/`DELETE
//! …/subscriptions/{id}` read and end one, `POST …/{id}/resume` resumes
//! a paused one. Each is kept in the store ([`SubscriptionRow`]) with the
//! request as accepted ([`Spec`]) and its delivery state ([`Progress`]);
//! [`super::deliver`] sends the deliveries.

use std::collections::BTreeMap;
use std::net::IpAddr;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use oretrace_epcis::epc_format::EpcFormat;
use oretrace_epcis::schedule::Schedule;
use oretrace_ledger::Store;
use oretrace_ledger::store::{EventOrder, EventSelect, Inserted, Quota, SubscriptionRow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{millis_rfc3339, now_millis, random_hex, with_versions};
use crate::error::echo;
use crate::{ApiError, AppState, blocking};

/// Subscriptions one party, and the registry, may hold.
pub(crate) const SUBSCRIPTION_QUOTA: Quota = Quota {
    per_owner: 16,
    total: 1024,
};
/// The longest destination URL.
pub(crate) const MAX_DEST_BYTES: usize = 2048;
/// The longest `signatureToken`.
pub(crate) const MAX_TOKEN_BYTES: usize = 256;
/// How far back `initialRecordTime` may reach.
pub(crate) const MAX_HISTORY_MS: i64 = 30 * 24 * 3600 * 1000;
/// Events in one delivery at most (a receiver's 413 halves it).
pub(crate) const MAX_BATCH_EVENTS: usize = 100;

/// A subscription as accepted: never changes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Spec {
    pub(crate) dest: String,
    /// Kept for the `GS1-Signature-HMAC` of each delivery; never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) signature_token: Option<String>,
    pub(crate) stream: bool,
    /// The schedule's fields as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) schedule: Option<BTreeMap<String, String>>,
    pub(crate) report_if_empty: bool,
    /// Events recorded from then on are delivered (Unix ms).
    pub(crate) initial_record_time: i64,
    /// The `GS1-EPC-Format` of the deliveries.
    pub(crate) epc_format: String,
    pub(crate) created_at: String,
}

impl Spec {
    pub(crate) fn schedule(&self) -> Option<Schedule> {
        let fields: Vec<(&str, &str)> = self
            .schedule
            .as_ref()?
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Schedule::parse(&fields).ok()
    }

    pub(crate) fn format(&self) -> EpcFormat {
        EpcFormat::parse(&self.epc_format).unwrap_or(EpcFormat::AlwaysDigitalLink)
    }
}

/// A batch stored before it is first sent: re-sent, after a failure or a
/// restart, with the same events and the same `jti`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Pending {
    /// The events are those the query matches with log index in
    /// `[from, to]`, at most `count`.
    pub(crate) from: u64,
    pub(crate) to: u64,
    pub(crate) count: usize,
    /// The cursor once it is delivered.
    pub(crate) next: u64,
    /// The delivery id (`jti`, `Idempotency-Key`).
    pub(crate) jti: String,
    /// Whether more matching events may follow right away (the batch was
    /// cut by its size or the scan budget).
    pub(crate) more: bool,
}

/// A subscription's delivery state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Progress {
    /// The next log index to examine.
    pub(crate) cursor: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pending: Option<Pending>,
    /// Events per batch at most (halved by a receiver's 413).
    pub(crate) batch_max: usize,
    /// Consecutive failed attempts.
    pub(crate) failures: u32,
    pub(crate) paused: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_notified_at: Option<String>,
    /// When a delivery was last tried (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_attempt_ms: Option<i64>,
    /// Deliveries and events delivered (acknowledged with a 2xx).
    pub(crate) deliveries: u64,
    pub(crate) events: u64,
}

/// The subscription's own rows, parsed.
pub(crate) fn parse_row(row: &SubscriptionRow) -> Result<(Spec, Progress), ApiError> {
    let spec: Spec = serde_json::from_str(&row.spec)
        .map_err(|e| ApiError::internal(format!("subscription {}: {e}", row.id)))?;
    let progress: Progress = serde_json::from_str(&row.progress)
        .map_err(|e| ApiError::internal(format!("subscription {}: {e}", row.id)))?;
    Ok((spec, progress))
}

fn controls(m: impl Into<String>) -> ApiError {
    ApiError::SubscriptionControls(m.into())
}

/// Whether an address is one the registry calls: public unicast, or a
/// loopback address when `loopback` allows it. Private, link-local,
/// unspecified, multicast, documentation and shared ranges are refused,
/// so that a subscriber cannot point the registry at its own network.
pub(crate) fn callable(ip: IpAddr, loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            if v4.is_loopback() {
                return loopback;
            }
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return callable(IpAddr::V4(v4), loopback);
            }
            if v6.is_loopback() {
                return loopback;
            }
            let s = v6.segments();
            !(v6.is_unspecified()
                || s[0] == 0x2002 // 6to4: an IPv4 address inside
                || (s[0] == 0x2001 && s[1] == 0) // Teredo
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[0] == 0x0064 // NAT64, IPv4-translated
                || s[0] == 0)
        }
    }
}

/// The address a URL's host names literally (`[…]` for IPv6), if it does.
pub(crate) fn address_literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok()
}

/// Checks a destination URL: absolute `https` (or `http` to a loopback
/// address when allowed), a host, no user info, no fragment, at most
/// [`MAX_DEST_BYTES`]; an address literal must be [`callable`]. Host
/// names are resolved, and checked, at each delivery.
pub(crate) fn check_dest(dest: &str, loopback: bool) -> Result<reqwest::Url, ApiError> {
    if dest.len() > MAX_DEST_BYTES {
        return Err(controls(format!("dest: at most {MAX_DEST_BYTES} bytes")));
    }
    let url = reqwest::Url::parse(dest)
        .map_err(|e| controls(format!("dest: not an absolute URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(controls("dest: a URL with user information is refused"));
    }
    if url.fragment().is_some() {
        return Err(controls("dest: a URL with a fragment is refused"));
    }
    let Some(host) = url.host_str() else {
        return Err(controls("dest: a URL with a host"));
    };
    let literal: Option<IpAddr> = if host.eq_ignore_ascii_case("localhost") {
        Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
    } else {
        address_literal(host)
    };
    match url.scheme() {
        "https" => {}
        "http" if literal.is_some_and(|ip| ip.is_loopback()) && loopback => {}
        "http" => {
            return Err(controls(
                "dest: an https URL (http only to a loopback address, where the registry allows it)",
            ));
        }
        other => {
            return Err(controls(format!("dest: an https URL, not {}", echo(other))));
        }
    }
    if let Some(ip) = literal
        && !callable(ip, loopback)
    {
        return Err(controls(format!(
            "dest: {ip} is not a public address; the registry calls public addresses only"
        )));
    }
    Ok(url)
}

/// The body of `POST /queries/{name}/subscriptions`, checked member by
/// member.
fn parse_request(
    body: &[u8],
    loopback: bool,
    now_ms: i64,
) -> Result<(Spec, Option<Schedule>), ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| controls(format!("the body is not JSON: {e}")))?;
    let Value::Object(members) = value else {
        return Err(controls("the body is a JSON object"));
    };
    parse_members(&members, Some(loopback), now_ms)
}

/// The members of a subscription, from a webhook's body or (with
/// `loopback` `None`: no `dest`) a WebSocket's query parameters.
pub(crate) fn parse_members(
    members: &Map<String, Value>,
    loopback: Option<bool>,
    now_ms: i64,
) -> Result<(Spec, Option<Schedule>), ApiError> {
    let mut dest = None;
    let mut token: Option<String> = None;
    let mut stream = None;
    let mut schedule_fields: Option<BTreeMap<String, String>> = None;
    let mut report_if_empty = None;
    let mut initial = None;
    for (name, value) in members {
        match name.as_str() {
            "dest" => {
                let Some(loopback) = loopback else {
                    return Err(controls(
                        "dest: a WebSocket delivers on itself; a webhook is POST …/subscriptions",
                    ));
                };
                let text = value
                    .as_str()
                    .ok_or_else(|| controls("dest: a string (a URL)"))?;
                check_dest(text, loopback)?;
                dest = Some(text.to_owned());
            }
            // The document requires a `secret` it never defines; its prose
            // and examples name it `signatureToken`: the same member.
            "signatureToken" | "secret" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| controls(format!("{name}: a string")))?;
                if text.is_empty() {
                    return Err(controls(format!(
                        "{name}: at least one byte (an empty key signs nothing)"
                    )));
                }
                if text.len() > MAX_TOKEN_BYTES {
                    return Err(controls(format!("{name}: at most {MAX_TOKEN_BYTES} bytes")));
                }
                if token.as_deref().is_some_and(|t| t != text) {
                    return Err(controls(
                        "signatureToken and secret: the same token, if both are given",
                    ));
                }
                token = Some(text.to_owned());
            }
            "stream" => {
                stream = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| controls("stream: true or false"))?,
                );
            }
            "reportIfEmpty" => {
                report_if_empty = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| controls("reportIfEmpty: true or false"))?,
                );
            }
            "initialRecordTime" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| controls("initialRecordTime: a date-time string"))?;
                let ms = oretrace_epcis::query::timestamp_millis(text).ok_or_else(|| {
                    controls("initialRecordTime: a date-time such as 2026-12-01T00:00:00Z")
                })?;
                if ms < now_ms - MAX_HISTORY_MS {
                    return Err(controls(
                        "initialRecordTime: at most 30 days ago (query /events for older events)",
                    ));
                }
                initial = Some(ms);
            }
            "schedule" => {
                let Value::Object(fields) = value else {
                    return Err(controls("schedule: an object of schedule fields"));
                };
                let mut map = BTreeMap::new();
                for (k, v) in fields {
                    let text = v
                        .as_str()
                        .ok_or_else(|| controls(format!("schedule.{}: a string", echo(k))))?;
                    map.insert(k.clone(), text.to_owned());
                }
                schedule_fields = Some(map);
            }
            other => {
                return Err(controls(format!(
                    "{}: not a member of a subscription (dest, signatureToken, stream, schedule, \
                     reportIfEmpty, initialRecordTime)",
                    echo(other)
                )));
            }
        }
    }
    let dest = match (dest, loopback) {
        (Some(d), _) => d,
        (None, Some(_)) => return Err(controls("dest: required")),
        (None, None) => "websocket".to_owned(),
    };
    let schedule = match &schedule_fields {
        None => None,
        Some(map) => {
            let fields: Vec<(&str, &str)> =
                map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            Some(Schedule::parse(&fields).map_err(|e| controls(e.to_string()))?)
        }
    };
    let stream = stream.unwrap_or(false);
    match (stream, &schedule) {
        (true, Some(_)) => {
            return Err(controls("stream and schedule: one or the other, not both"));
        }
        (false, None) => {
            return Err(controls(
                "stream: true, or a schedule: a subscription says when it is delivered",
            ));
        }
        _ => {}
    }
    if stream && report_if_empty == Some(true) {
        return Err(controls(
            "reportIfEmpty: for a schedule; a stream delivers only events",
        ));
    }
    Ok((
        Spec {
            dest,
            signature_token: token,
            stream,
            schedule: schedule_fields,
            report_if_empty: report_if_empty.unwrap_or(false),
            initial_record_time: initial.unwrap_or(now_ms),
            epc_format: String::new(),
            created_at: millis_rfc3339(now_ms),
        },
        schedule,
    ))
}

/// The party a subscription request comes from: a bearer token.
pub(crate) async fn subscriber<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    super::auth::bearer_party(state, headers, "subscriptions are made, read and ended").await
}

/// The first log index holding an event recorded at or after `ms`: where
/// a new subscription's cursor starts.
pub(crate) fn first_index_from<S: Store>(
    ledger: &oretrace_ledger::ledger::Ledger<S>,
    ms: i64,
) -> Result<u64, ApiError> {
    let store = ledger.store();
    let size = store.size()?;
    let select = EventSelect {
        record_time: (Some(ms), None),
        order: EventOrder::RecordTime,
        limit: 1,
        ..EventSelect::default()
    };
    Ok(store
        .select_events(&select)?
        .first()
        .map_or(size, |e| e.index().min(size)))
}

/// `POST /queries/{name}/subscriptions`.
pub(crate) async fn create<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let owner = subscriber(&state, &headers).await?;
    if state.credential.is_none() {
        return Err(ApiError::NotImplemented(
            "this registry has no credential key to sign deliveries with, so it takes no \
             subscriptions (nothing unsigned is sent)"
                .into(),
        ));
    }
    let format = super::discovery::epc_format(&headers)?;
    let now = now_millis();
    let (mut spec, schedule) = parse_request(&body, state.config.subscription_loopback, now)?;
    // A stream is due at once; a schedule at its first firing.
    let first_due = match &schedule {
        None => Some(now),
        Some(s) => Some(s.next_after(now).ok_or_else(|| {
            controls("schedule: it never fires (no such date in the next eight years)")
        })?),
    };
    spec.epc_format = format.as_str().to_owned();
    let id = random_hex(16)?;
    let query = name.clone();
    let initial = spec.initial_record_time;
    let spec_text = serde_json::to_string(&spec).map_err(|e| ApiError::internal(e.to_string()))?;
    let (inserted, row) = blocking(&state.ledger, move |ledger| {
        let cursor = first_index_from(ledger, initial)?;
        let progress = Progress {
            cursor,
            batch_max: MAX_BATCH_EVENTS,
            ..Progress::default()
        };
        let row = SubscriptionRow {
            id,
            owner,
            query,
            spec: spec_text,
            progress: serde_json::to_string(&progress)
                .map_err(|e| ApiError::internal(e.to_string()))?,
            due_ms: first_due,
            version: 0,
        };
        let inserted = ledger
            .store()
            .insert_subscription(&row, SUBSCRIPTION_QUOTA)?;
        Ok((inserted, row))
    })
    .await?;
    match inserted {
        Inserted::Done => {}
        Inserted::NoQuery => {
            return Err(ApiError::NotFound(format!(
                "no query named {}",
                echo(&name)
            )));
        }
        Inserted::Exists => return Err(ApiError::internal("a random subscription id repeated")),
        Inserted::OwnerFull => {
            return Err(controls(format!(
                "at most {} subscriptions per party; delete one first",
                SUBSCRIPTION_QUOTA.per_owner
            )));
        }
        Inserted::AllFull => {
            return Err(controls(format!(
                "the registry holds {} subscriptions, as many as it takes",
                SUBSCRIPTION_QUOTA.total
            )));
        }
    }
    state.epcis.wake_deliveries();
    let location = format!(
        "/queries/{}/subscriptions/{}",
        oretrace_epcis_map::percent_encode(&name),
        row.id
    );
    let mut response = (StatusCode::CREATED, Json(describe(&row)?)).into_response();
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).map_err(|e| ApiError::internal(e.to_string()))?,
    );
    Ok(with_versions(response))
}

/// A subscription as its owner reads it: the binding's members (never
/// the token) and its delivery state.
pub(crate) fn describe(row: &SubscriptionRow) -> Result<Value, ApiError> {
    let (spec, progress) = parse_row(row)?;
    let mut out = Map::new();
    out.insert("subscriptionID".into(), json!(row.id));
    out.insert("queryName".into(), json!(row.query));
    out.insert("dest".into(), json!(spec.dest));
    out.insert("createdAt".into(), json!(spec.created_at));
    out.insert(
        "initialRecordTime".into(),
        json!(millis_rfc3339(spec.initial_record_time)),
    );
    out.insert("epcFormat".into(), json!(spec.epc_format));
    if spec.stream {
        out.insert("stream".into(), json!(true));
    } else {
        out.insert("schedule".into(), json!(spec.schedule));
        out.insert("reportIfEmpty".into(), json!(spec.report_if_empty));
    }
    if let Some(at) = &progress.last_notified_at {
        out.insert("lastNotifiedAt".into(), json!(at));
    }
    out.insert(
        "state".into(),
        json!(if progress.paused { "paused" } else { "active" }),
    );
    out.insert("failures".into(), json!(progress.failures));
    if let Some(e) = &progress.last_error {
        out.insert("lastError".into(), json!(e));
    }
    if let Some(due) = row.due_ms {
        out.insert("nextAttemptAt".into(), json!(millis_rfc3339(due)));
    }
    out.insert("deliveries".into(), json!(progress.deliveries));
    out.insert("eventsDelivered".into(), json!(progress.events));
    out.insert(
        "signed".into(),
        json!({"hmac": spec.signature_token.is_some(), "jws": "/.well-known/jwks.json"}),
    );
    Ok(Value::Object(out))
}

/// `GET /queries/{name}/subscriptions`: the caller's own subscriptions to
/// the query, a page at a time.
pub(crate) async fn list<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let owner = subscriber(&state, &headers).await?;
    super::query::stored_query(&state, &name).await?;
    let paging = crate::registry::binding_paging("subscriptions", &pairs)?;
    let (after, per_page) = (paging.after.clone(), paging.per_page);
    // A party has at most SUBSCRIPTION_QUOTA.per_owner subscriptions:
    // read them all and keep those on this query.
    let all = blocking(&state.ledger, move |ledger| {
        Ok(ledger.store().subscriptions(
            &owner,
            after.as_deref(),
            SUBSCRIPTION_QUOTA.per_owner as usize + 1,
        )?)
    })
    .await?;
    let mine: Vec<&SubscriptionRow> = all.iter().filter(|s| s.query == name).collect();
    let page: Vec<&SubscriptionRow> = mine.iter().take(per_page).copied().collect();
    let more = mine.len() > per_page;
    let body: Vec<Value> = page.iter().map(|r| describe(r)).collect::<Result<_, _>>()?;
    let mut response = Json(body).into_response();
    if more && let Some(last) = page.last() {
        let token = crate::registry::page_token("subscriptions", &last.id);
        response.headers_mut().insert(
            header::LINK,
            crate::registry::next_link(
                &format!(
                    "queries/{}/subscriptions",
                    oretrace_epcis_map::percent_encode(&name)
                ),
                per_page,
                &token,
            ),
        );
    }
    Ok(with_versions(response))
}

/// The caller's subscription `id` on query `name`, or 404.
async fn own<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    name: &str,
    id: &str,
) -> Result<(String, SubscriptionRow), ApiError> {
    let owner = subscriber(state, headers).await?;
    let key = id.to_owned();
    let row = blocking(&state.ledger, move |ledger| {
        Ok(ledger.store().subscription(&key)?)
    })
    .await?
    .filter(|r| r.owner == owner && r.query == name)
    .ok_or_else(|| {
        ApiError::NoSuchSubscription(format!(
            "no subscription {} of yours on query {}",
            echo(id),
            echo(name)
        ))
    })?;
    Ok((owner, row))
}

/// `GET /queries/{name}/subscriptions/{id}`: by its owner only.
pub(crate) async fn get<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, row) = own(&state, &headers, &name, &id).await?;
    Ok(with_versions(Json(describe(&row)?).into_response()))
}

/// `DELETE /queries/{name}/subscriptions/{id}`: by its owner only. A
/// delivery already under way may still arrive.
pub(crate) async fn delete<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (owner, row) = own(&state, &headers, &name, &id).await?;
    let deleted = blocking(&state.ledger, move |ledger| {
        Ok(ledger.store().delete_subscription(&row.id, &owner)?)
    })
    .await?;
    if !deleted {
        return Err(ApiError::NoSuchSubscription(format!(
            "no subscription {} of yours on query {}",
            echo(&id),
            echo(&name)
        )));
    }
    Ok(with_versions(StatusCode::NO_CONTENT.into_response()))
}

/// `POST /queries/{name}/subscriptions/{id}/resume`: a paused
/// subscription is tried again now, once: a failure pauses it again, a
/// success clears its failures (409 for one that is not paused).
pub(crate) async fn resume<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, row) = own(&state, &headers, &name, &id).await?;
    let (_, mut progress) = parse_row(&row)?;
    if !progress.paused {
        return Err(ApiError::Conflict(format!(
            "subscription {id} is not paused; it is tried again at {}",
            row.due_ms
                .map_or_else(|| "its next firing".into(), millis_rfc3339)
        )));
    }
    // At most one attempt per first-retry interval: resuming is not a
    // way around the backoff.
    let retry = i64::try_from(state.config.subscription_retry.as_millis()).unwrap_or(i64::MAX);
    let since = progress
        .last_attempt_ms
        .map_or(i64::MAX, |at| now_millis() - at);
    if since < retry {
        return Err(ApiError::TooManyRequests {
            detail: format!(
                "subscription {id} was tried {} s ago; it may be resumed {} s after its last attempt",
                since / 1000,
                retry / 1000
            ),
            retry_after: u64::try_from((retry - since) / 1000 + 1).unwrap_or(1),
        });
    }
    // One attempt: if it fails too, the subscription is paused again.
    progress.paused = false;
    progress.failures = super::deliver::PAUSE_AFTER - 1;
    let text = serde_json::to_string(&progress).map_err(|e| ApiError::internal(e.to_string()))?;
    let key = row.id.clone();
    let now = now_millis();
    let moved = blocking(&state.ledger, move |ledger| {
        Ok(ledger
            .store()
            .advance_subscription(&key, row.version, &text, Some(now))?)
    })
    .await?;
    if !moved {
        return Err(ApiError::Conflict(
            "the subscription changed meanwhile (a delivery, or another request); try again".into(),
        ));
    }
    state.epcis.wake_deliveries();
    let (_, row) = own(&state, &headers, &name, &id).await?;
    Ok(with_versions(Json(describe(&row)?).into_response()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: &str) -> String {
        match parse_request(body.as_bytes(), true, 1_800_000_000_000) {
            Err(ApiError::SubscriptionControls(m)) => m,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn a_subscription_request_is_checked_member_by_member() {
        let ok = parse_request(
            br#"{"dest":"https://buyer.example/hook","stream":true,"signatureToken":"t"}"#,
            false,
            0,
        )
        .unwrap();
        assert!(ok.0.stream && ok.0.signature_token.as_deref() == Some("t"));
        let (spec, schedule) = parse_request(
            br#"{"dest":"https://buyer.example/hook","schedule":{"minute":"5","hour":"1"},"reportIfEmpty":true}"#,
            false,
            0,
        )
        .unwrap();
        assert!(!spec.stream && spec.report_if_empty && schedule.is_some());
        assert!(refused(r#"{"stream":true}"#).contains("dest: required"));
        assert!(refused(r#"{"dest":"ftp://x.example/","stream":true}"#).contains("https"));
        assert!(refused(r#"{"dest":"https://u:p@x.example/","stream":true}"#).contains("user"));
        assert!(refused(r#"{"dest":"https://x.example/"}"#).contains("stream: true, or"));
        assert!(
            refused(r#"{"dest":"https://x.example/","stream":true,"schedule":{}}"#)
                .contains("not both")
        );
        assert!(
            refused(r#"{"dest":"https://x.example/","schedule":{"minute":"61"}}"#)
                .contains("schedule.minute")
        );
        assert!(
            refused(r#"{"dest":"https://x.example/","stream":true,"x":1}"#)
                .contains("x: not a member")
        );
        assert!(
            refused(r#"{"dest":"https://x.example/","stream":true,"initialRecordTime":"2020-01-01T00:00:00Z"}"#)
                .contains("30 days")
        );
        let long = format!(
            r#"{{"dest":"https://x.example/","stream":true,"signatureToken":"{}"}}"#,
            "a".repeat(257)
        );
        assert!(refused(&long).contains("256"));
    }

    #[test]
    fn destinations_are_public_unless_loopback_is_allowed() {
        for private in [
            "https://10.0.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest",
            "https://[fd00::1]/",
            "https://[2002:7f00:1::1]/",
            "https://[2001:0:7f00:1::1]/",
            "https://[fec0::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://0.0.0.0/",
            "https://100.64.0.1/",
        ] {
            assert!(check_dest(private, true).is_err(), "{private}");
        }
        assert!(check_dest("http://127.0.0.1:9/x", false).is_err());
        assert!(check_dest("https://127.0.0.1:9/x", false).is_err());
        assert!(check_dest("http://127.0.0.1:9/x", true).is_ok());
        assert!(check_dest("http://localhost:9/x", true).is_ok());
        assert!(check_dest("http://buyer.example/x", true).is_err());
        assert!(check_dest("https://buyer.example/x", false).is_ok());
        assert!(check_dest("https://8.8.8.8/x", false).is_ok());
    }
}
