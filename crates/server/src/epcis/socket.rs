//! The WebSocket form of a subscription (`docs/design/epcis-binding.md`
//! §4): `GET /queries/{name}/events` with `Upgrade: websocket` and
//! `stream=true` or the schedule parameters (`second` … `dayOfWeek`,
//! `reportIfEmpty`, `initialRecordTime`), a bearer token in the
//! handshake. 101, then one text frame per batch, each an
//! `EPCISQueryDocument` with the socket's `subscriptionID`. Not durable:
//! the cursor lives with the socket. Any node serves it (it only reads).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use oretrace_epcis::query::EventQuery;
use oretrace_epcis::schedule::Schedule;
use oretrace_ledger::Store;
use oretrace_ledger::ledger::Ledger;
use serde_json::{Map, Value};

use super::deliver::{document, select_batch};
use super::subscribe::MAX_BATCH_EVENTS;
use super::subscribe::{Spec, first_index_from, parse_members, subscriber};
use super::{millis_rfc3339, now_millis, random_hex, with_versions};
use crate::{ApiError, AppState, blocking};

/// Sockets one party may hold open.
pub const PER_PARTY: usize = 4;
/// Sockets open in all.
pub const TOTAL: usize = 256;
/// The largest frame or message a client may send (it is never read for
/// content).
const MAX_INCOMING: usize = 4 * 1024;
/// How often a stream looks for new events.
const POLL: Duration = Duration::from_secs(1);
/// How long one frame may take to be taken by the reader; a slower reader
/// is closed (1008).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `name` is a subscription parameter of `GET
/// /queries/{name}/events`: `stream`, a schedule field, `reportIfEmpty`
/// or `initialRecordTime`.
pub(crate) fn is_parameter(name: &str) -> bool {
    matches!(name, "stream" | "reportIfEmpty" | "initialRecordTime")
        || oretrace_epcis::schedule::FIELDS.contains(&name)
}

/// Open sockets, by party.
#[derive(Debug, Default)]
pub(crate) struct Sockets {
    open: Mutex<HashMap<String, usize>>,
}

pub(crate) struct Held {
    sockets: Arc<Sockets>,
    party: String,
}

impl Sockets {
    fn hold(self: &Arc<Self>, party: &str) -> Result<Held, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let all: usize = open.values().sum();
        let mine = open.get(party).copied().unwrap_or(0);
        if mine >= PER_PARTY {
            return Err(ApiError::SubscriptionControls(format!(
                "at most {PER_PARTY} open subscription sockets per party; close one first"
            )));
        }
        if all >= TOTAL {
            return Err(ApiError::SubscriptionControls(format!(
                "the registry holds {TOTAL} subscription sockets open, as many as it takes"
            )));
        }
        *open.entry(party.to_owned()).or_default() += 1;
        Ok(Held {
            sockets: self.clone(),
            party: party.to_owned(),
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self
            .sockets
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.party) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.party);
            }
        }
    }
}

/// The subscription's members from the query parameters (each at most
/// once).
fn members(pairs: &[(String, String)]) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    let mut schedule = Map::new();
    for (k, v) in pairs {
        let value = match k.as_str() {
            "stream" | "reportIfEmpty" => match v.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => {
                    return Err(ApiError::SubscriptionControls(format!(
                        "{k}: true or false"
                    )));
                }
            },
            _ => Value::String(v.clone()),
        };
        let target = if oretrace_epcis::schedule::FIELDS.contains(&k.as_str()) {
            &mut schedule
        } else {
            &mut out
        };
        if target.insert(k.clone(), value).is_some() {
            return Err(ApiError::SubscriptionControls(format!("{k}: given twice")));
        }
    }
    if !schedule.is_empty() {
        out.insert("schedule".into(), Value::Object(schedule));
    }
    Ok(out)
}

/// Opens a subscription socket on `name` (the handler of `GET
/// /queries/{name}/events` hands over when the request asks to upgrade).
pub(crate) async fn open<S: Store>(
    state: AppState<S>,
    headers: HeaderMap,
    name: String,
    pairs: Vec<(String, String)>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let party = subscriber(&state, &headers).await?;
    let stored = super::query::stored_query(&state, &name).await?;
    let definition: Value = serde_json::from_str(&stored.query)
        .map_err(|e| ApiError::internal(format!("named query {name}: {e}")))?;
    let query = EventQuery::from_json(&definition).map_err(super::query::query_error)?;
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !is_parameter(k)) {
        return Err(ApiError::SubscriptionControls(format!(
            "{}: not a subscription parameter (stream, {}, reportIfEmpty, initialRecordTime)",
            crate::error::echo(k),
            oretrace_epcis::schedule::FIELDS.join(", ")
        )));
    }
    let now = now_millis();
    let (mut spec, schedule) = parse_members(&members(&pairs)?, None, now)?;
    spec.epc_format = super::discovery::epc_format(&headers)?.as_str().to_owned();
    let held = state.epcis.sockets.hold(&party)?;
    let initial = spec.initial_record_time;
    let cursor = blocking(&state.ledger, move |l| first_index_from(l, initial)).await?;
    let id = format!("ws-{}", random_hex(16)?);
    let ledger = state.ledger.clone();
    // What a client sends is never read for content: small frames only.
    let mut response = upgrade
        .max_message_size(MAX_INCOMING)
        .max_frame_size(MAX_INCOMING)
        .on_upgrade(move |socket| async move {
            let _held = held;
            run(
                socket,
                ledger,
                Stream {
                    query,
                    name,
                    id,
                    spec,
                    schedule,
                    cursor,
                },
            )
            .await;
        })
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&millis_rfc3339(initial)) {
        response
            .headers_mut()
            .insert("GS1-Query-Min-Record-Time", v);
    }
    Ok(with_versions(response))
}

struct Stream {
    query: EventQuery,
    name: String,
    id: String,
    spec: Spec,
    schedule: Option<Schedule>,
    cursor: u64,
}

/// Sends batches until the reader goes or falls behind.
async fn run<S: Store>(mut socket: WebSocket, ledger: Arc<Ledger<S>>, mut s: Stream) {
    let format = s.spec.format();
    let mut next_firing = s
        .schedule
        .as_ref()
        .and_then(|sc| sc.next_after(now_millis()));
    let mut ready = s.schedule.is_none();
    loop {
        if !ready {
            let wait = match (&s.schedule, next_firing) {
                (Some(_), Some(at)) => Duration::from_millis(
                    u64::try_from(at.saturating_sub(now_millis())).unwrap_or(0),
                ),
                (Some(_), None) => Duration::from_secs(3600),
                (None, _) => POLL,
            };
            // Frames from the client (pings, anything) neither end the
            // wait early nor start it again.
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                tokio::select! {
                    message = socket.recv() => match message {
                        Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                        Some(Ok(_)) => {}
                    },
                    () = tokio::time::sleep_until(deadline) => break,
                }
            }
            if let Some(sc) = &s.schedule {
                if next_firing.is_some_and(|at| at > now_millis()) {
                    continue;
                }
                next_firing = sc.next_after(now_millis());
            }
        }
        let (q, cursor) = (s.query.clone(), s.cursor);
        let batch = blocking(&ledger, move |l| {
            let size = l.store().size()?;
            select_batch(l, &q, cursor, size, MAX_BATCH_EVENTS)
        })
        .await;
        let Ok((events, next, more)) = batch else {
            return;
        };
        s.cursor = next;
        ready = more;
        if events.is_empty() && !(s.schedule.is_some() && s.spec.report_if_empty) {
            continue;
        }
        let body = document(&s.name, &s.id, format, &events);
        let text = String::from_utf8_lossy(&body).into_owned();
        match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                // The close frame may not fit either: at most a second for
                // it, then the connection is dropped.
                let close = socket.send(Message::Close(Some(CloseFrame {
                    code: 1008,
                    reason: "the reader fell behind".into(),
                })));
                let _ = tokio::time::timeout(Duration::from_secs(1), close).await;
                return;
            }
        }
    }
}
