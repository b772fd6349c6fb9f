//! Deliveries of subscriptions (`docs/design/epcis-binding.md` §4): one
//! task per process, beside the witnessing task, working only while its
//! ledger sequences. Each round reads the due subscriptions and works on
//! at most [`AT_ONCE`] of them, one per destination host:
//!
//! 1. A batch (the matching events after the subscription's cursor, in
//!    log order, at most [`MAX_BATCH_EVENTS`] or [`MAX_BATCH_BYTES`],
//!    within a scan budget) is stored with a fresh `jti` before it is
//!    first sent (a compare-and-swap on the subscription's version).
//! 2. It is sent as one `EPCISQueryDocument`, signed: `GS1-Signature` a
//!    compact JWS with a detached, unencoded payload over the body bytes
//!    (RFC 7515 Appendix F, RFC 7797) under the registry's credential key,
//!    and `GS1-Signature-HMAC` when the subscriber gave a token.
//! 3. Only a 2xx moves the cursor past it. A failure is retried after 30 s
//!    × 2ⁿ (±20 %, at most an hour) with the same events and `jti`, so a
//!    receiver can drop a repeat; after [`PAUSE_AFTER`] failures in a row
//!    the subscription is paused until its owner resumes it. A 413 halves
//!    the batch (a new batch, a new `jti`).
//!
//! A restart, or a new sequencer, finds the stored batch and sends it
//! again under the same `jti`: a delivery may repeat, detectably, and is
//! never lost. In a shared database every write here is fenced by the
//! sequencer lease, so a demoted node stops at its next write.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use oretrace_domain::jose::{CredentialKey, delivery_hmac};
use oretrace_epcis::query::EventQuery;
use oretrace_ledger::Store;
use oretrace_ledger::ledger::{Ledger, Role};
use oretrace_ledger::state::EventState;
use oretrace_ledger::store::{EventOrder, EventSelect, SubscriptionRow};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

use super::subscribe::{
    MAX_BATCH_EVENTS, Pending, Progress, Spec, address_literal, callable, check_dest, parse_row,
};
use super::{now_millis, random_hex};
use crate::{ApiError, blocking};

/// Subscriptions worked on at once.
pub const AT_ONCE: usize = 8;
/// The largest delivery body aimed at (a batch stops growing past it).
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// Candidate events one delivery examines at most.
pub const SCAN_BUDGET: usize = 50_000;
/// How long a receiver may take to answer.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Failures in a row after which a subscription is paused.
pub const PAUSE_AFTER: u32 = 10;
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 3600 * 1000;
/// How often due subscriptions are looked for when nothing wakes the task.
const POLL: Duration = Duration::from_millis(500);
/// The JWS `typ` of a delivery.
pub const DELIVERY_TYP: &str = "epcis-delivery+jws";

/// What the delivery task needs beside the ledger.
#[derive(Debug)]
pub(crate) struct Deliverer {
    pub(crate) credential: Arc<CredentialKey>,
    /// Loopback destinations are called (tests and the demo).
    pub(crate) loopback: bool,
    /// The first wait after a failure (30 s unless configured).
    pub(crate) retry: Duration,
    pub(crate) wake: Arc<Notify>,
    pub(crate) busy: Arc<Busy>,
}

pub(crate) fn spawn<S: Store>(ledger: &Arc<Ledger<S>>, deliverer: Deliverer) {
    tokio::spawn(run(Arc::downgrade(ledger), Arc::new(deliverer)));
}

async fn run<S: Store>(ledger: Weak<Ledger<S>>, d: Arc<Deliverer>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    loop {
        let Some(l) = ledger.upgrade() else {
            return;
        };
        if l.role() == Role::Sequencer
            && let Err(e) = round(&l, &d).await
        {
            tracing::warn!(error = %e, "subscription deliveries: a round failed");
        }
        drop(l);
        tokio::select! {
            () = d.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// One look at the due subscriptions.
async fn round<S: Store>(ledger: &Arc<Ledger<S>>, d: &Arc<Deliverer>) -> Result<(), ApiError> {
    let now = now_millis();
    let (size, due) = blocking(ledger, move |l| {
        let size = l.store().size()?;
        let due = l
            .store()
            .due_subscriptions(now, super::subscribe::SUBSCRIPTION_QUOTA.total as usize)?;
        Ok((size, due))
    })
    .await?;
    for row in due {
        let Ok((spec, progress)) = parse_row(&row) else {
            continue;
        };
        // A stream with nothing stored to resend and nothing new costs no
        // more than this.
        if spec.stream && progress.pending.is_none() && progress.cursor >= size {
            continue;
        }
        let host = reqwest::Url::parse(&spec.dest)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        // Deliveries run on across rounds: a round starts only what no
        // running delivery holds back (the same subscription, the same
        // host, the owner's share, the slots), and never waits for a slow
        // receiver, so one party's receivers cannot hold up another's.
        // A host is busy per owner: one party's slow receivers on a shared
        // host do not hold up another party's deliveries there.
        let host = format!("{} {host}", row.owner);
        let Some(claim) = d.busy.claim(&row.id, &host, &row.owner) else {
            continue;
        };
        let (ledger, d) = (ledger.clone(), d.clone());
        tokio::spawn(async move {
            let _claim = claim;
            let id = row.id.clone();
            let fallback = row.clone();
            if let Err(e) = work(&ledger, &d, row, spec, progress).await {
                tracing::warn!(subscription = %id, error = %e, "a delivery failed to be worked on");
                set_aside(&ledger, &fallback, &e).await;
            }
        });
    }
    Ok(())
}

/// A subscription that cannot be worked on (its stored state unreadable,
/// its query gone) is paused with the reason, rather than tried each
/// round; its owner sees why and may delete it.
async fn set_aside<S: Store>(ledger: &Arc<Ledger<S>>, row: &SubscriptionRow, e: &ApiError) {
    // Only for what will not mend by itself: a store that is briefly
    // unavailable (or a lost lease) is not a reason to pause.
    let name = row.query.clone();
    let query = blocking(ledger, move |l| Ok(l.store().named_query(&name)?)).await;
    let broken = match query {
        Ok(None) => true,
        Ok(Some(q)) => {
            parse_row(row).is_err()
                || serde_json::from_str::<Value>(&q.query)
                    .ok()
                    .and_then(|v| EventQuery::from_json(&v).ok())
                    .is_none()
        }
        Err(_) => false,
    };
    if !broken {
        return;
    }
    let mut progress = parse_row(row).map(|(_, p)| p).unwrap_or_default();
    progress.paused = true;
    progress.last_error = Some(format!("the subscription cannot be worked on: {e}"));
    let _ = store_progress(ledger, &row.id, row.version, &progress, None).await;
}

/// Deliveries under way: by subscription, by host, by owner.
#[derive(Debug, Default)]
pub(crate) struct Busy {
    inner: std::sync::Mutex<BusyInner>,
}

#[derive(Debug, Default)]
struct BusyInner {
    ids: HashSet<String>,
    hosts: HashSet<String>,
    owners: std::collections::HashMap<String, usize>,
}

/// Deliveries one owner may have under way at once.
pub const PER_OWNER: usize = 2;

impl Busy {
    fn lock(&self) -> std::sync::MutexGuard<'_, BusyInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for a delivery, if the subscription, its host and its
    /// owner's share are free and fewer than [`AT_ONCE`] run; released
    /// when the claim drops.
    fn claim(self: &Arc<Self>, id: &str, host: &str, owner: &str) -> Option<Claim> {
        let mut b = self.lock();
        let mine = b.owners.get(owner).copied().unwrap_or(0);
        if b.ids.len() >= AT_ONCE
            || b.ids.contains(id)
            || b.hosts.contains(host)
            || mine >= PER_OWNER
        {
            return None;
        }
        b.ids.insert(id.to_owned());
        b.hosts.insert(host.to_owned());
        *b.owners.entry(owner.to_owned()).or_default() += 1;
        Some(Claim {
            busy: self.clone(),
            id: id.to_owned(),
            host: host.to_owned(),
            owner: owner.to_owned(),
        })
    }
}

struct Claim {
    busy: Arc<Busy>,
    id: String,
    host: String,
    owner: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut b = self.busy.lock();
        b.ids.remove(&self.id);
        b.hosts.remove(&self.host);
        if let Some(n) = b.owners.get_mut(&self.owner) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                b.owners.remove(&self.owner);
            }
        }
    }
}

/// The events of `query` in log order from `cursor` (a subscription
/// follows the log: its start, `initialRecordTime`, chose the first
/// cursor): at most `max` (and
/// [`MAX_BATCH_BYTES`]), examining at most [`SCAN_BUDGET`] candidates
/// and nothing at or past `size`. Returns them, the cursor after what was
/// examined, and whether more may match right after.
pub(crate) fn select_batch<S: Store>(
    ledger: &Ledger<S>,
    query: &EventQuery,
    cursor: u64,
    until: u64,
    max: usize,
) -> Result<(Vec<EventState>, u64, bool), ApiError> {
    let mut select = EventSelect {
        any_terms: query.candidate_terms().filter(|t| t.len() <= 256),
        order: EventOrder::Index,
        after: cursor.checked_sub(1).map(|c| (c as i64, c)),
        limit: super::query::CHUNK,
        ..EventSelect::default()
    };
    let mut found = Vec::new();
    let mut bytes = 0usize;
    let mut scanned = 0usize;
    loop {
        let rows = ledger.store().select_events(&select)?;
        let n = rows.len();
        let mut last = None;
        for row in rows {
            if row.index() >= until {
                return Ok((found, until, false));
            }
            scanned += 1;
            last = Some(row.index());
            let value: Value = serde_json::from_str(row.event_text()).unwrap_or(Value::Null);
            if query.matches(&value, row.record_time()) {
                bytes += row.event_text().len();
                let index = row.index();
                found.push(row);
                if found.len() >= max || bytes >= MAX_BATCH_BYTES {
                    return Ok((found, index + 1, true));
                }
            }
        }
        match last {
            Some(last) if n == select.limit => {
                if scanned >= SCAN_BUDGET {
                    return Ok((found, last + 1, true));
                }
                select.after = Some((last as i64, last));
            }
            _ => return Ok((found, until, false)),
        }
    }
}

/// The wait before attempt `failures + 1`: `retry` × 2^(failures − 1),
/// ±20 %, at most an hour.
fn backoff_ms(retry: Duration, failures: u32) -> i64 {
    let base = i64::try_from(retry.as_millis()).unwrap_or(MAX_BACKOFF_MS);
    let wait = base
        .saturating_mul(1i64 << failures.saturating_sub(1).min(20))
        .min(MAX_BACKOFF_MS);
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    // 80 % to 120 %.
    wait * (80 + i64::from(byte[0]) * 40 / 255) / 100
}

/// When a subscription is next due after a batch: now if more may follow
/// or it streams, else its schedule's next firing.
fn next_due(spec: &Spec, now: i64, more: bool) -> Option<i64> {
    if more || spec.stream {
        return Some(now);
    }
    spec.schedule()
        .and_then(|s| s.next_after(now))
        .or(Some(now + 3600 * 1000))
}

async fn store_progress<S: Store>(
    ledger: &Arc<Ledger<S>>,
    id: &str,
    version: u64,
    progress: &Progress,
    due: Option<i64>,
) -> Result<bool, ApiError> {
    let text = serde_json::to_string(progress).map_err(|e| ApiError::internal(e.to_string()))?;
    let id = id.to_owned();
    blocking(ledger, move |l| {
        Ok(l.store().advance_subscription(&id, version, &text, due)?)
    })
    .await
}

/// One subscription: its stored batch, or a new one, sent and recorded.
async fn work<S: Store>(
    ledger: &Arc<Ledger<S>>,
    d: &Deliverer,
    row: SubscriptionRow,
    spec: Spec,
    mut progress: Progress,
) -> Result<(), ApiError> {
    let now = now_millis();
    let query_name = row.query.clone();
    let definition = blocking(ledger, move |l| Ok(l.store().named_query(&query_name)?))
        .await?
        .ok_or_else(|| ApiError::internal(format!("query {} is gone", row.query)))?;
    let definition: Value =
        serde_json::from_str(&definition.query).map_err(|e| ApiError::internal(e.to_string()))?;
    let query = EventQuery::from_json(&definition)
        .map_err(|e| ApiError::internal(format!("query {}: {e:?}", row.query)))?;
    let mut version = row.version;
    let (events, pending) = match progress.pending.clone() {
        // Sent before and not acknowledged: the same events again.
        Some(p) => {
            let q = query.clone();
            let (from, to, count) = (p.from, p.to, p.count);
            let (mut events, _, _) = blocking(ledger, move |l| {
                select_batch(l, &q, from, to.saturating_add(1), count.max(1))
            })
            .await?;
            events.truncate(count);
            (events, p)
        }
        None => {
            let (cursor, max) = (
                progress.cursor,
                progress.batch_max.clamp(1, MAX_BATCH_EVENTS),
            );
            let q = query.clone();
            let (events, next, more) = blocking(ledger, move |l| {
                let size = l.store().size()?;
                select_batch(l, &q, cursor, size, max)
            })
            .await?;
            let fired = !spec.stream;
            if events.is_empty() && !(fired && spec.report_if_empty) {
                let due = next_due(&spec, now, more);
                // A stream stays due; it is written only when its cursor
                // moves.
                let moved_due = !spec.stream && due != row.due_ms;
                if next != progress.cursor || moved_due {
                    progress.cursor = next;
                    store_progress(ledger, &row.id, version, &progress, due).await?;
                }
                return Ok(());
            }
            let pending = Pending {
                from: cursor,
                to: events
                    .last()
                    .map_or(next.saturating_sub(1), EventState::index),
                count: events.len(),
                next,
                jti: random_hex(16)?,
                more,
            };
            progress.pending = Some(pending.clone());
            if !store_progress(ledger, &row.id, version, &progress, row.due_ms).await? {
                return Ok(()); // Changed meanwhile: the next round sees it.
            }
            version += 1;
            (events, pending)
        }
    };
    let outcome = send(d, &row, &spec, &events, &pending, ledger.origin()).await;
    let now = now_millis();
    progress.last_attempt_ms = Some(now);
    let due = match outcome {
        Ok(()) => {
            progress.cursor = pending.next;
            progress.pending = None;
            progress.failures = 0;
            progress.last_error = None;
            progress.last_notified_at = Some(super::millis_rfc3339(now));
            progress.deliveries += 1;
            progress.events += events.len() as u64;
            next_due(&spec, now, pending.more)
        }
        Err(Failure::TooLarge) if pending.count > 1 => {
            // A new, smaller batch from the same cursor, with a new jti.
            progress.pending = None;
            progress.batch_max = (pending.count / 2).max(1);
            progress.last_error = Some(format!(
                "the receiver answered 413 to {} events; batches now hold at most {}",
                pending.count, progress.batch_max
            ));
            Some(now)
        }
        Err(failure) => {
            progress.failures += 1;
            progress.last_error = Some(failure.to_string());
            if progress.failures >= PAUSE_AFTER {
                progress.paused = true;
                None
            } else {
                Some(now + backoff_ms(d.retry, progress.failures))
            }
        }
    };
    store_progress(ledger, &row.id, version, &progress, due).await?;
    Ok(())
}

/// Why a delivery did not arrive.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("the receiver answered 413")]
    TooLarge,
    #[error("the receiver answered {0}")]
    Status(u16),
    #[error("{0}")]
    Refused(String),
    #[error("no answer: {0}")]
    Transport(String),
}

/// The delivery document: the events as the named query answers them,
/// with the subscription's id.
pub(crate) fn document(
    query: &str,
    subscription: &str,
    format: oretrace_epcis::epc_format::EpcFormat,
    events: &[EventState],
) -> Vec<u8> {
    let list: Vec<Value> = events
        .iter()
        .map(|e| super::query::output_event(e, format).0)
        .collect();
    let mut doc = super::query::query_document(query, list, events);
    doc["epcisBody"]["queryResults"]["subscriptionID"] = json!(subscription);
    oretrace_epcis_map::to_json_text(&doc, false).into_bytes()
}

async fn send(
    d: &Deliverer,
    row: &SubscriptionRow,
    spec: &Spec,
    events: &[EventState],
    pending: &Pending,
    origin: &str,
) -> Result<(), Failure> {
    let url = check_dest(&spec.dest, d.loopback).map_err(|e| Failure::Refused(e.to_string()))?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    // Resolved here and pinned for the request, so that the address
    // checked is the address called.
    let address: SocketAddr = match address_literal(&host) {
        Some(ip) => SocketAddr::new(ip, port),
        None => {
            let lookup = tokio::net::lookup_host((host.as_str(), port));
            let addrs: Vec<SocketAddr> = tokio::time::timeout(DELIVERY_TIMEOUT, lookup)
                .await
                .map_err(|_| Failure::Transport(format!("{host} did not resolve in time")))?
                .map_err(|e| Failure::Transport(format!("{host} does not resolve: {e}")))?
                .collect();
            if let Some(bad) = addrs.iter().find(|a| !callable(a.ip(), d.loopback)) {
                return Err(Failure::Refused(format!(
                    "{host} resolves to {}, not a public address",
                    bad.ip()
                )));
            }
            *addrs
                .first()
                .ok_or_else(|| Failure::Transport(format!("{host} has no address")))?
        }
    };
    if !callable(address.ip(), d.loopback) {
        return Err(Failure::Refused(format!(
            "{} is not a public address",
            address.ip()
        )));
    }
    let body = document(&row.query, &row.id, spec.format(), events);
    let mut header = Map::new();
    header.insert("typ".into(), json!(DELIVERY_TYP));
    header.insert("iss".into(), json!(origin));
    header.insert("sub".into(), json!(row.id));
    header.insert("jti".into(), json!(pending.jti));
    header.insert("iat".into(), json!(now_millis() / 1000));
    let signature = d.credential.sign_detached(&header, &body);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DELIVERY_TIMEOUT)
        .resolve(&host, address)
        .build()
        .map_err(|e| Failure::Transport(e.to_string()))?;
    let mut request = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("GS1-EPCIS-Version", "2.0.0")
        .header("GS1-Signature", signature)
        .header("Idempotency-Key", &pending.jti)
        .header(
            "GS1-Query-Min-Record-Time",
            super::millis_rfc3339(spec.initial_record_time),
        );
    if let Some(token) = &spec.signature_token {
        request = request.header(
            "GS1-Signature-HMAC",
            delivery_hmac(token.as_bytes(), &pending.jti, &body),
        );
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::Transport(without_url(&e)))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else if status.as_u16() == 413 {
        Err(Failure::TooLarge)
    } else {
        Err(Failure::Status(status.as_u16()))
    }
}

/// A transport error without the URL (which its owner knows).
fn without_url(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", DELIVERY_TIMEOUT.as_secs())
    } else if e.is_connect() {
        "the connection was refused or failed".into()
    } else {
        "the request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_a_fifth_and_stops_at_an_hour() {
        let retry = Duration::from_secs(30);
        for (failures, base) in [(1u32, 30_000i64), (2, 60_000), (4, 240_000)] {
            let w = backoff_ms(retry, failures);
            assert!(
                w >= base * 80 / 100 && w <= base * 120 / 100,
                "{failures}: {w}"
            );
        }
        assert!(backoff_ms(retry, 9) <= MAX_BACKOFF_MS * 120 / 100);
        assert!(backoff_ms(retry, u32::MAX) <= MAX_BACKOFF_MS * 120 / 100);
    }
}
