//! EPCIS capture: `POST /capture` (a document, asynchronous: 202 and a
//! job at `/capture/{id}`), `GET /capture`, `GET /capture/{id}`,
//! `OPTIONS /capture`, and `POST /events` (one event, synchronous).
//!
//! A document is read within the capture size limit, refused if an object
//! in it names a member twice (parsers differ in which value they keep),
//! counted against the event limit, validated against the official EPCIS 2.0 schema (every
//! violation reported with its JSON pointer), hashed (CBV 2.0 event hash;
//! a declared `ni:` eventID that differs is an error for that event), and
//! each event becomes one log entry that the ledger authorises like any
//! other record. `GS1-Capture-Error-Behaviour`:
//!
//! * `rollback` (default): all or nothing. Any event refused → none is
//!   written and the job lists every refusal.
//! * `proceed`: every acceptable event is written; the job lists the
//!   refusals.
//! * `all`: listed by the REST binding without a definition; oretrace
//!   treats it as `proceed` and reports it as given.
//!
//! An event already in the log (same event hash) is a duplicate, not an
//! error: the job reports the index it is at.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use oretrace_domain::Record;
use oretrace_domain::event::{
    CaptureAuth, CaptureBehaviour, CapturedEvent, EventId, document_note,
};
use oretrace_domain::values::{Digest, PartyId, Timestamp, Token};
use oretrace_ledger::Store;
use oretrace_ledger::ledger::RegistrySigned;
use oretrace_ledger::rules::Refusal;
use oretrace_tlog::note::{KeyRef, NoteVerifier, SignatureLine};
use serde::Serialize;
use serde_json::{Value, json};

use super::auth::{Capturer, capturer};
use super::{GS1_CONTEXT, check_versions, now_rfc3339, random_hex, with_versions};
use crate::error::Violation;
use crate::{ApiError, AppState, blocking};

mod members;

/// `GS1-Capture-Error-Behaviour` of a request (rollback when absent).
fn behaviour_of(headers: &HeaderMap) -> Result<CaptureBehaviour, ApiError> {
    match headers.get("GS1-Capture-Error-Behaviour") {
        None => Ok(CaptureBehaviour::default()),
        Some(v) => CaptureBehaviour::parse(v.to_str().unwrap_or("").trim())
            .map_err(|e| ApiError::BadRequest(format!("GS1-Capture-Error-Behaviour {e}"))),
    }
}

/// What happened to one event of a capture.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct EventOutcome {
    #[serde(rename = "eventID")]
    event_id: String,
    /// `captured`, `duplicate`, `refused` or `rolled-back`.
    status: &'static str,
    /// The log index it is at (captured or duplicate).
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u64>,
}

/// A capture job, as `GET /capture/{id}` shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Job {
    #[serde(rename = "captureID")]
    capture_id: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<String>,
    running: bool,
    success: bool,
    capture_error_behaviour: CaptureBehaviour,
    /// RFC 7807 problems, one per refused event (`instance` is the JSON
    /// pointer of the event in the document), the first [`MAX_JOB_ERRORS`].
    errors: Vec<Value>,
    /// How many more refusals there were than `errors` lists.
    #[serde(skip_serializing_if = "is_zero")]
    errors_omitted: usize,
    /// The party the events are recorded as captured by.
    captured_by: String,
    /// Declared `ni:` eventIDs that differ from the computed hash, and
    /// hashes that depend on the document, the first [`MAX_JOB_WARNINGS`].
    warnings: Vec<Value>,
    /// How many more warnings there were than `warnings` lists.
    #[serde(skip_serializing_if = "is_zero")]
    warnings_omitted: usize,
    /// Each event of the document, in document order.
    events: Vec<EventOutcome>,
    /// When it finished, for the job's expiry.
    #[serde(skip)]
    done: Option<std::time::Instant>,
}

impl super::Kept for Job {
    /// A finished job is kept for [`JOB_TTL`] at least.
    fn expired(&self, now: std::time::Instant) -> bool {
        self.done.is_some_and(|d| now.duration_since(d) > JOB_TTL)
    }
    /// Its own party's newer jobs may take the place of a finished one.
    fn spare(&self, _: std::time::Instant) -> bool {
        !self.running
    }
    fn bytes(&self) -> usize {
        super::json_bytes(self)
    }
}

/// Most refusals a job lists (the events list says which were refused).
pub(crate) const MAX_JOB_ERRORS: usize = 1000;
/// Most warnings a job lists.
pub(crate) const MAX_JOB_WARNINGS: usize = 1000;
/// How long a finished job is certainly kept.
const JOB_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The limits a capture is held to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_bytes: usize,
    pub(crate) max_events: usize,
}

fn event_problem(pointer: &str, event_id: Option<&str>, status: u16, detail: String) -> Value {
    let (kind, title) = match status {
        401 | 403 => ("epcisException:SecurityException", "Not authorised"),
        500 => (
            "epcisException:ImplementationException",
            "Implementation exception",
        ),
        _ => ("epcisException:ValidationException", "Event refused"),
    };
    let mut p = json!({
        "type": kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": pointer,
    });
    if let Some(id) = event_id {
        p["eventID"] = json!(id);
    }
    p
}

fn refusal_problem(pointer: &str, event_id: &str, refusal: &Refusal) -> Value {
    let error = ApiError::Refused(refusal.clone());
    let problem = error.problem();
    event_problem(pointer, Some(event_id), problem.status, problem.detail)
}

/// The events of a document, prepared for the ledger.
struct Prepared {
    captured_by: String,
    /// Per event: its id (hash) and either the signed entry or why not.
    events: Vec<(String, Result<RegistrySigned, Value>)>,
    /// Declared `ni:` eventIDs that are not the event's CBV 2.0 hash: the
    /// event is captured (under its true hash, its declared eventID kept
    /// as given) and the mismatch reported.
    warnings: Vec<Value>,
}

/// Who is capturing, known before the body is read: a token's party, or
/// the party of the first detached signature's key (each line's key must
/// be registered).
struct Claimed {
    party: String,
    /// The signature lines and their keys, for a signed document.
    lines: Vec<(SignatureLine, NoteVerifier)>,
    token_key: Option<KeyRef>,
}

async fn claim<S: Store>(state: &AppState<S>, capturer: Capturer) -> Result<Claimed, ApiError> {
    match capturer {
        Capturer::Token { party, key } => Ok(Claimed {
            party,
            lines: Vec::new(),
            token_key: Some(key),
        }),
        Capturer::Signed { lines } => {
            let mut party = None;
            let mut keyed = Vec::with_capacity(lines.len());
            for line in lines {
                let bad = |why: String| {
                    ApiError::Unauthorized(format!("{}: {why}", super::auth::SIGNATURE_HEADER))
                };
                let signer = line.key();
                let (name, id) = (signer.name().to_owned(), signer.key_id());
                let key = blocking(&state.ledger, move |l| Ok(l.store().key(&name, id)?))
                    .await?
                    .ok_or_else(|| bad(format!("key {signer} is not registered to any party")))?;
                party.get_or_insert(key.party().to_string());
                keyed.push((line, key.verifier().clone()));
            }
            Ok(Claimed {
                party: party.ok_or_else(|| ApiError::Unauthorized("no signature".into()))?,
                lines: keyed,
                token_key: None,
            })
        }
    }
}

/// Checks the detached signatures over the body; the auth the entries
/// record.
fn authenticate(
    origin: &str,
    claimed: &Claimed,
    body: &[u8],
    behaviour: CaptureBehaviour,
) -> Result<CaptureAuth, ApiError> {
    if let Some(key) = &claimed.token_key {
        return Ok(CaptureAuth::Token { key: key.clone() });
    }
    let document = Digest::of(body);
    let text = document_note(origin, &document, &claimed.party, behaviour);
    for (line, verifier) in &claimed.lines {
        line.verify(&text, verifier).map_err(|e| {
            ApiError::Unauthorized(format!(
                "{}: the signature by {} does not verify over this capture \
                 (the note names the registry, the body's SHA-256, the capturing party \
                 and the error behaviour: {text:?}): {e}",
                super::auth::SIGNATURE_HEADER,
                verifier.name()
            ))
        })?;
    }
    Ok(CaptureAuth::Signed {
        document,
        behaviour,
        signatures: claimed.lines.iter().map(|(l, _)| l.clone()).collect(),
    })
}

/// What copying a `@context` into an event adds besides the context
/// itself: `"@context":` and a comma.
const CONTEXT_MEMBER_BYTES: usize = "\"@context\":,".len();

/// The bounds of a capture as parsed (see [`members::Bounds`]), checked
/// as the body is read. An event of the official GS1 examples or the demo
/// holds under 100 JSON values and nests under 10 levels; a document of
/// 10,000 events of 100 values each fits. A `Value` node takes up to ~650
/// bytes (a one-member object is a few bytes of JSON), so a document as
/// parsed is bounded by its node count, not only by its body's size.
const CAPTURE_BOUNDS: members::Bounds = members::Bounds {
    document_nodes: 1_000_000,
    depth: 32,
};

/// The JSON values (nodes) one event may hold: every stage after the
/// schema (hash, mapping, log entry) works per node of each event. Wide of
/// any real event (under 100 in the GS1 examples), and of an `epcList` of
/// some hundreds of EPCs.
const MAX_EVENT_NODES: usize = 5_000;

/// The JSON values in `value`, counting at most to `limit + 1`.
fn nodes_up_to(value: &Value, limit: usize) -> usize {
    let mut count = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        count += 1;
        if count > limit {
            break;
        }
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(members) => stack.extend(members.values()),
            _ => {}
        }
    }
    count
}

/// Parses, checks against the limits and the schema, hashes and signs.
/// Errors that concern the whole document are returned; errors of one
/// event are kept with it.
fn prepare<S: Store>(
    ledger: &oretrace_ledger::ledger::Ledger<S>,
    mut document: Value,
    limits: Limits,
    capture: &Token,
    captured_by: &str,
    auth: &CaptureAuth,
    abandoned: &std::sync::atomic::AtomicBool,
) -> Result<Prepared, ApiError> {
    let kind = document.get("type").and_then(Value::as_str).unwrap_or("");
    let (events, list_pointer) = match kind {
        "EPCISDocument" => (
            document.pointer("/epcisBody/eventList"),
            "/epcisBody/eventList",
        ),
        "EPCISQueryDocument" => (
            document.pointer("/epcisBody/queryResults/resultsBody/eventList"),
            "/epcisBody/queryResults/resultsBody/eventList",
        ),
        _ => {
            return Err(ApiError::SchemaViolations(vec![Violation {
                pointer: "/type".into(),
                message: "a capture takes an EPCISDocument or an EPCISQueryDocument".into(),
            }]));
        }
    };
    let count = events.and_then(Value::as_array).map_or(0, Vec::len);
    if count > limits.max_events {
        return Err(ApiError::TooManyEvents {
            count,
            limit: limits.max_events,
        });
    }
    // Each event becomes one log entry of bounded size, the document's
    // `@context` copied in: an event over it is refused before any work is
    // spent on any event (the context is measured once, as it is copied).
    let max = oretrace_domain::event::MAX_EVENT_BYTES;
    let context_bytes = document
        .get("@context")
        .map(|c| serde_json::to_vec(c).map_or(usize::MAX, |b| b.len()));
    if let Some(len) = context_bytes
        && len.saturating_add(CONTEXT_MEMBER_BYTES) > max
    {
        return Err(ApiError::SchemaViolations(vec![Violation {
            pointer: "/@context".into(),
            message: format!(
                "the @context is {len} bytes as JSON; it is copied into each event, which may \
                 be at most {max} bytes (each event is one log entry)"
            ),
        }]));
    }
    let oversized: Vec<Violation> = events
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, event)| {
            let own = serde_json::to_vec(event).map_or(usize::MAX, |b| b.len());
            let copied = match (context_bytes, event.get("@context")) {
                (Some(ctx), None) => ctx.saturating_add(CONTEXT_MEMBER_BYTES),
                _ => 0,
            };
            let len = own.saturating_add(copied);
            (len > max).then(|| Violation {
                pointer: format!("{list_pointer}/{i}"),
                message: if copied == 0 {
                    format!("the event is {len} bytes as JSON, at most {max} (each event is one log entry)")
                } else {
                    format!(
                        "the event is {len} bytes as JSON with the document's @context ({copied} \
                         bytes) copied in, at most {max} (each event is one log entry)"
                    )
                },
            })
        })
        .take(100)
        .collect();
    if !oversized.is_empty() {
        return Err(ApiError::SchemaViolations(oversized));
    }
    // And of bounded work: over the node bound, refused before any event
    // is worked on.
    let overgrown: Vec<Violation> = events
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, event)| nodes_up_to(event, MAX_EVENT_NODES) > MAX_EVENT_NODES)
        .map(|(i, _)| Violation {
            pointer: format!("{list_pointer}/{i}"),
            message: format!(
                "the event holds more than {MAX_EVENT_NODES} JSON values (objects, arrays, \
                 strings, numbers, booleans, nulls), at most {MAX_EVENT_NODES} (capture event \
                 node bound)"
            ),
        })
        .take(100)
        .collect();
    if !overgrown.is_empty() {
        return Err(ApiError::SchemaViolations(overgrown));
    }
    let validator = oretrace_epcis_schema::EpcisValidator::shared()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let checked = if kind == "EPCISDocument" {
        validator.validate_document(&document)
    } else {
        validator.validate_query_document(&document)
    };
    checked.map_err(|v| schema_violations(&document, v))?;
    oretrace_epcis::document_events(&document)
        .map_err(|e| ApiError::BadRequest(format!("the document's events: {e}")))?;
    let hashes = oretrace_epcis::document_event_hashes(&document)
        .map_err(|e| ApiError::BadRequest(format!("the CBV 2.0 event hash: {e}")))?;
    let party = PartyId::parse(captured_by).map_err(|e| ApiError::internal(e.to_string()))?;
    let now = Timestamp::from_unix(super::now_millis().div_euclid(1000));
    let context = document.get("@context").cloned();
    // Each event is moved out of the document into its log entry, not
    // copied: a copy of every event (all alive at once, in the entries
    // awaiting the ledger) doubled the document in memory.
    let events = take_events(&mut document);
    drop(document);
    let mut out = Vec::with_capacity(events.len());
    let mut warnings = Vec::new();
    for (i, (event, in_document)) in events.into_iter().zip(hashes).enumerate() {
        if abandoned.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(ApiError::Timeout);
        }
        let pointer = format!("{list_pointer}/{i}");
        // The event as logged: the document's @context copied in. Its id is
        // the CBV 2.0 hash of that, on its own, so that anyone can recompute
        // it from the log entry (the hash within the document can differ:
        // the reference expands bare words against sibling events).
        let mut event = event;
        if let (Some(ctx), Value::Object(map)) = (&context, &mut event)
            && !map.contains_key("@context")
        {
            map.insert("@context".into(), ctx.clone());
        }
        let hash = match oretrace_epcis::event_hash(
            &event,
            &oretrace_epcis::Context::from_document(&event),
        ) {
            Ok(h) => h,
            Err(e) => {
                out.push((
                    in_document.clone(),
                    Err(event_problem(
                        &pointer,
                        Some(&in_document),
                        400,
                        e.to_string(),
                    )),
                ));
                continue;
            }
        };
        if hash != in_document {
            warnings.push(json!({
                "type": crate::error::problem_type("event-hash-context"),
                "title": "The event's hash depends on its document",
                "detail": format!(
                    "within its document the event hashes to {in_document} (bare words are \
                     expanded against the other events); on its own, as logged, to {hash}, \
                     the id oretrace records"
                ),
                "instance": pointer,
                "eventID": hash,
            }));
        }
        if let Some(declared) = event.get("eventID").and_then(Value::as_str)
            && is_ni(declared)
            && declared != hash
        {
            warnings.push(json!({
                "type": crate::error::problem_type("event-id-mismatch"),
                "title": "Declared eventID is not the CBV 2.0 event hash",
                "detail": format!(
                    "eventID {declared} is not the event's CBV 2.0 hash; the event hashes to \
                     {hash}, which replaces it (an ni: id names one event only)"
                ),
                "instance": pointer,
                "eventID": hash,
            }));
            event["eventID"] = Value::String(hash.clone());
        }
        // EPCIS 2.0 REST binding: a server populates a missing eventID
        // (here with the hash, which the eventID does not enter).
        if event.get("eventID").is_none()
            && let Value::Object(map) = &mut event
        {
            map.insert("eventID".into(), Value::String(hash.clone()));
        }
        let result = (|| {
            let mapped = oretrace_epcis_map::interpret(&event)
                .map_err(|e| event_problem(&pointer, Some(&hash), 400, e.to_string()))?;
            let id = EventId::parse(&hash)
                .map_err(|e| event_problem(&pointer, Some(&hash), 500, e.to_string()))?;
            let record = Record::Event(
                CapturedEvent::new(
                    id,
                    event,
                    party.clone(),
                    capture.clone(),
                    auth.clone(),
                    now,
                    mapped.figures,
                )
                .map_err(|e| event_problem(&pointer, Some(&hash), 400, e.to_string()))?,
            );
            ledger
                .sign_as_registry(record)
                .map_err(|r| refusal_problem(&pointer, &hash, &r))
        })();
        out.push((hash, result));
    }
    Ok(Prepared {
        captured_by: captured_by.to_owned(),
        events: out,
        warnings,
    })
}

/// The events of a document whose events [`oretrace_epcis::document_events`]
/// found, moved out of it (in the same order).
fn take_events(document: &mut Value) -> Vec<Value> {
    let Some(body) = document.get_mut("epcisBody") else {
        return vec![std::mem::take(document)];
    };
    let list = if body.get("eventList").is_some() {
        body.get_mut("eventList")
    } else if body.get("queryResults").is_some() {
        body.pointer_mut("/queryResults/resultsBody/eventList")
    } else {
        return body
            .get_mut("event")
            .map(std::mem::take)
            .into_iter()
            .collect();
    };
    match list.map(std::mem::take) {
        Some(Value::Array(events)) => events,
        _ => Vec::new(),
    }
}

/// Whether an id is an `ni:` URI: a scheme is case-insensitive (RFC 3986
/// section 3.1), so `NI:` and `Ni:` are `ni:` too.
fn is_ni(id: &str) -> bool {
    id.get(..3).is_some_and(|s| s.eq_ignore_ascii_case("ni:"))
}

fn content_type_ok(headers: &HeaderMap) -> Result<(), ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        // text/plain: what fetch-based clients send when they set their
        // own headers without a content type (the epcis2.js SDK does).
        None | Some("application/json" | "application/ld+json" | "text/plain") => Ok(()),
        Some(other) => Err(ApiError::UnsupportedMediaType(format!(
            "capture takes application/json or application/ld+json, not {other}"
        ))),
    }
}

/// Reads a capture body within the size limit and the deadline.
async fn read_body(
    body: Body,
    limit: usize,
    deadline: std::time::Duration,
) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(read) => read.map_err(|_| ApiError::PayloadTooLarge { limit }),
        Err(_) => Err(ApiError::BodyTimeout {
            millis: u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
        }),
    }
}

/// Captures read and prepared at once: each holds a body of up to the
/// capture limit, so there are few, and no party can hold them all.
pub const CAPTURE_SLOTS: usize = 4;
/// Slots one party's bearer-token captures may hold at once.
pub const SLOTS_PER_PARTY: usize = 2;
/// Slots captures with detached signatures may hold at once: their
/// signatures can only be checked once the body is read, so anyone who
/// knows a registered key's name can claim one; they never hold every
/// slot, and one claimed party holds at most one.
pub const UNPROVEN_SLOTS: usize = 2;
pub const UNPROVEN_SLOTS_PER_PARTY: usize = 1;

/// The capture slots: all of them, those of unproven (signed) captures,
/// and what each party holds.
#[derive(Debug)]
pub(crate) struct Slots {
    all: std::sync::Arc<tokio::sync::Semaphore>,
    unproven: std::sync::Arc<tokio::sync::Semaphore>,
    /// (party, proven) → slots held.
    held: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(String, bool), usize>>>,
}

/// A slot held; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    held: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(String, bool), usize>>>,
    key: (String, bool),
    _all: tokio::sync::OwnedSemaphorePermit,
    _unproven: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

impl Slots {
    pub(crate) fn new() -> Self {
        Slots {
            all: std::sync::Arc::new(tokio::sync::Semaphore::new(CAPTURE_SLOTS)),
            unproven: std::sync::Arc::new(tokio::sync::Semaphore::new(UNPROVEN_SLOTS)),
            held: Default::default(),
        }
    }

    /// A slot for `party`'s capture (`proven`: by a bearer token; else
    /// claimed by a detached signature not yet checked): 429 past the
    /// party's share, 503 when the slots are taken.
    fn take(&self, party: &str, proven: bool) -> Result<Slot, ApiError> {
        let key = (party.to_owned(), proven);
        let share = if proven {
            SLOTS_PER_PARTY
        } else {
            UNPROVEN_SLOTS_PER_PARTY
        };
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mine = held.get(&key).copied().unwrap_or(0);
        if mine >= share {
            return Err(ApiError::QuotaExceeded {
                what: if proven {
                    "captures being read at once"
                } else {
                    "signed captures being read at once"
                },
                limit: share,
                hint: "send the next capture when one is answered",
            });
        }
        let unproven = if proven {
            None
        } else {
            Some(
                self.unproven
                    .clone()
                    .try_acquire_owned()
                    .map_err(|_| ApiError::Refused(Refusal::Overloaded))?,
            )
        };
        let all = self
            .all
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Refused(Refusal::Overloaded))?;
        held.insert(key.clone(), mine + 1);
        Ok(Slot {
            held: self.held.clone(),
            key,
            _all: all,
            _unproven: unproven,
        })
    }
}

fn limit_headers(response: &mut Response, limits: Limits) {
    let h = response.headers_mut();
    h.insert(
        "GS1-EPCIS-Capture-Limit",
        HeaderValue::from(limits.max_events as u64),
    );
    h.insert(
        "GS1-EPCIS-Capture-File-Size-Limit",
        HeaderValue::from(limits.max_bytes as u64),
    );
}

/// Reads, authenticates and prepares a capture body: who claims to
/// capture is settled before the body is read, the signatures after.
async fn intake<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    body: Body,
    capture: &Token,
    behaviour: CaptureBehaviour,
    single_event: bool,
) -> Result<Prepared, ApiError> {
    check_versions(headers)?;
    content_type_ok(headers)?;
    let claimed = claim(state, capturer(state, headers).await?).await?;
    let limits = state.limits();
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limits.max_bytes as u64
    {
        return Err(ApiError::PayloadTooLarge {
            limit: limits.max_bytes,
        });
    }
    // A document becomes a job that holds its signed events until the
    // ledger has them: a few running per party.
    if !single_event
        && state.epcis.jobs.count_of(&claimed.party, |j| j.running) >= super::RUNNING_JOBS_PER_PARTY
    {
        return Err(ApiError::QuotaExceeded {
            what: "capture jobs running at once",
            limit: super::RUNNING_JOBS_PER_PARTY,
            hint: "wait for one of its captures to finish",
        });
    }
    // A few captures at a time, each party within its share: each may
    // hold a body of up to the limit, which must arrive in time.
    let slot = state
        .epcis
        .capture_slots
        .take(&claimed.party, claimed.token_key.is_some())?;
    let bytes = read_body(body, limits.max_bytes, state.config.capture_body_timeout).await?;
    let auth = authenticate(state.ledger.origin(), &claimed, &bytes, behaviour)?;
    // The keys, each with the party it must still be registered to: the
    // token's key, or the first signer's (the capturing party), co-signers
    // to any party.
    let keys: Vec<(KeyRef, bool)> = match &claimed.token_key {
        Some(key) => vec![(key.clone(), true)],
        None => claimed
            .lines
            .iter()
            .enumerate()
            .map(|(i, (l, _))| (l.key(), i == 0))
            .collect(),
    };
    let party = claimed.party;
    let ledger = state.ledger.clone();
    let capture = capture.clone();
    // The work on a document cannot be stopped from outside: it holds the
    // slot until it ends, not until the request does, so a request that
    // timed out or was dropped still counts against the party's slots; it
    // stops at the next event once nobody waits for it.
    let waiting = Waiting::default();
    let abandoned = waiting.0.clone();
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        // The body took time to arrive: a key rotated away meanwhile
        // costs no work (the ledger would refuse each event anyway).
        for (key, capturing) in &keys {
            let registered = ledger.store().key(key.name(), key.key_id())?;
            match registered {
                None => {
                    return Err(ApiError::Unauthorized(format!(
                        "key {key} is no longer registered"
                    )));
                }
                Some(k) if *capturing && k.party().as_str() != party => {
                    return Err(ApiError::Unauthorized(format!(
                        "key {key} is no longer registered to party {party}"
                    )));
                }
                Some(_) => {}
            }
        }
        // One meaning for every parser: a member name given twice in one
        // object is refused as the document is read (one parse).
        // The document's size as parsed is bounded as it is read: the walk
        // stops at the first bound exceeded, before any other work.
        let value = members::parse_unique_names(&bytes, CAPTURE_BOUNDS).map_err(|p| match p {
            members::Problem::Malformed(e) => ApiError::MalformedJson(e.to_string()),
            members::Problem::Duplicate(d) => ApiError::MalformedJson(d.to_string()),
            members::Problem::Bound(b) => ApiError::SchemaViolations(vec![Violation {
                pointer: b.pointer,
                message: b.message,
            }]),
        })?;
        let document = if single_event {
            single_event_document(value)?
        } else {
            value
        };
        prepare(
            &ledger, document, limits, &capture, &party, &auth, &abandoned,
        )
    })
    .await
    .map_err(|e| ApiError::internal(format!("capture task failed: {e}")))?
}

/// Set when the request that started a capture's work is gone (answered,
/// timed out or dropped): the work stops at its next event.
#[derive(Debug, Default)]
struct Waiting(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Schema violations, with what to write instead where that is known
/// ([`oretrace_epcis_map::violation_hint`]).
fn schema_violations(document: &Value, mut violations: Vec<Violation>) -> ApiError {
    for v in &mut violations {
        if let Some(hint) = oretrace_epcis_map::violation_hint(document, &v.pointer) {
            v.message.push_str(&hint);
        }
    }
    ApiError::SchemaViolations(violations)
}

/// Wraps the body of `POST /events` (one event, with its `@context`) as a
/// one-event document, after checking it as a standalone event.
fn single_event_document(mut event: Value) -> Result<Value, ApiError> {
    let len = serde_json::to_vec(&event).map_or(usize::MAX, |b| b.len());
    if len > oretrace_domain::event::MAX_EVENT_BYTES {
        return Err(ApiError::SchemaViolations(vec![Violation {
            pointer: String::new(),
            message: format!(
                "the event is {len} bytes as JSON, at most {} (each event is one log entry)",
                oretrace_domain::event::MAX_EVENT_BYTES
            ),
        }]));
    }
    let validator = oretrace_epcis_schema::EpcisValidator::shared()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    validator
        .validate_event(&event)
        .map_err(|v| schema_violations(&event, v))?;
    let context = event
        .as_object_mut()
        .and_then(|m| m.remove("@context"))
        .unwrap_or_else(|| json!([GS1_CONTEXT]));
    Ok(json!({
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": now_rfc3339(),
        "epcisBody": {"eventList": [event]},
    }))
}

/// `POST /capture`.
pub(crate) async fn capture<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let behaviour = behaviour_of(&headers)?;
    let id = random_hex(12)?;
    let capture_token = Token::parse(&id).map_err(|e| ApiError::internal(e.to_string()))?;
    let prepared = intake(&state, &headers, body, &capture_token, behaviour, false).await?;
    let job = Job {
        capture_id: id.clone(),
        created_at: now_rfc3339(),
        finished_at: None,
        running: true,
        success: true,
        capture_error_behaviour: behaviour,
        errors: Vec::new(),
        errors_omitted: 0,
        captured_by: prepared.captured_by.clone(),
        warnings: prepared
            .warnings
            .iter()
            .take(MAX_JOB_WARNINGS)
            .cloned()
            .collect(),
        warnings_omitted: prepared.warnings.len().saturating_sub(MAX_JOB_WARNINGS),
        events: Vec::new(),
        done: None,
    };
    if !state
        .epcis
        .jobs
        .insert_new(&prepared.captured_by, id.clone(), job)?
    {
        return Err(ApiError::internal("a fresh random job id was taken"));
    }
    let worker = state.clone();
    let job_id = id.clone();
    tokio::spawn(async move {
        let capturer = prepared.captured_by.clone();
        let (mut errors, events) = run(&worker, prepared, behaviour).await;
        // One line per finished job: who, and how many events fared how
        // (never the events themselves).
        let count = |status: &str| events.iter().filter(|o| o.status == status).count();
        tracing::info!(
            job = %job_id,
            capturer = %capturer,
            captured = count("captured"),
            duplicate = count("duplicate"),
            refused = count("refused"),
            rolled_back = count("rolled-back"),
            "capture job finished"
        );
        worker.epcis.jobs.update(&job_id, |job| {
            job.success = errors.is_empty();
            job.errors_omitted = errors.len().saturating_sub(MAX_JOB_ERRORS);
            errors.truncate(MAX_JOB_ERRORS);
            job.errors = errors;
            job.events = events;
            job.running = false;
            job.finished_at = Some(now_rfc3339());
            job.done = Some(std::time::Instant::now());
        });
    });
    let mut response = (
        StatusCode::ACCEPTED,
        [(
            header::LOCATION,
            HeaderValue::from_str(&format!("/capture/{id}"))
                .map_err(|e| ApiError::internal(e.to_string()))?,
        )],
    )
        .into_response();
    limit_headers(&mut response, state.limits());
    Ok(with_versions(response))
}

/// Submits the prepared events; returns the job's errors and outcomes.
async fn run<S: Store>(
    state: &AppState<S>,
    prepared: Prepared,
    behaviour: CaptureBehaviour,
) -> (Vec<Value>, Vec<EventOutcome>) {
    let mut errors = Vec::new();
    let mut outcomes: Vec<EventOutcome> = Vec::with_capacity(prepared.events.len());
    let mut records = Vec::new();
    let mut positions = Vec::new();
    for (i, (event_id, prepared)) in prepared.events.into_iter().enumerate() {
        match prepared {
            Ok(record) => {
                positions.push(i);
                records.push(record);
                outcomes.push(EventOutcome {
                    event_id,
                    status: "captured",
                    index: None,
                });
            }
            Err(problem) => {
                errors.push(problem);
                outcomes.push(EventOutcome {
                    event_id,
                    status: "refused",
                    index: None,
                });
            }
        }
    }
    let atomic = behaviour.is_atomic();
    if atomic && !errors.is_empty() {
        for o in &mut outcomes {
            if o.status == "captured" {
                o.status = "rolled-back";
            }
        }
        return (errors, outcomes);
    }
    match state.ledger.submit_group(records, atomic).await {
        Ok(results) => {
            for (at, result) in positions.into_iter().zip(results) {
                let outcome = &mut outcomes[at];
                match result {
                    Ok(index) => outcome.index = Some(index),
                    Err(Refusal::Replay { index }) => {
                        outcome.status = "duplicate";
                        outcome.index = Some(index);
                    }
                    Err(Refusal::Unprocessable { rule, .. })
                        if rule == oretrace_ledger::ledger::ROLLED_BACK =>
                    {
                        outcome.status = "rolled-back";
                    }
                    Err(refusal) => {
                        outcome.status = "refused";
                        errors.push(refusal_problem(
                            &format!("/epcisBody/eventList/{at}"),
                            &outcome.event_id,
                            &refusal,
                        ));
                    }
                }
            }
        }
        Err(refusal) => {
            for o in &mut outcomes {
                if o.status == "captured" {
                    o.status = "refused";
                }
            }
            errors.push(event_problem(
                "",
                None,
                ApiError::Refused(refusal.clone()).problem().status,
                ApiError::Refused(refusal).problem().detail,
            ));
        }
    }
    (errors, outcomes)
}

/// `GET /capture/{id}`.
pub(crate) async fn job<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = state
        .epcis
        .jobs
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no capture job {id}")))?;
    Ok(with_versions(Json(job).into_response()))
}

/// `GET /capture`: the caller's capture jobs this server remembers, oldest
/// first, without their per-event lists (bearer token).
pub(crate) async fn jobs<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let paging = crate::registry::binding_paging("capture", &pairs)?;
    let party = match capturer(&state, &headers).await? {
        Capturer::Token { party, .. } => party,
        Capturer::Signed { .. } => {
            return Err(ApiError::Unauthorized(
                "listing capture jobs takes a bearer token".into(),
            ));
        }
    };
    // Oldest first, a page at a time after the token's job.
    let all = state.epcis.jobs.values_of(&party);
    let start = paging
        .after
        .as_deref()
        .and_then(|after| all.iter().position(|(id, _)| id == after))
        .map_or(0, |i| i + 1);
    let page: Vec<(String, Job)> = all
        .into_iter()
        .skip(start)
        .take(paging.per_page + 1)
        .collect();
    let more = page.len() > paging.per_page;
    let next = page
        .get(paging.per_page.saturating_sub(1))
        .filter(|_| more)
        .map(|(id, _)| crate::registry::page_token("capture", id));
    let jobs: Vec<Job> = page
        .into_iter()
        .take(paging.per_page)
        .map(|(_, mut j)| {
            j.events = Vec::new();
            j
        })
        .collect();
    let mut response = Json(jobs).into_response();
    if let Some(token) = next {
        response.headers_mut().insert(
            header::LINK,
            crate::registry::next_link("capture", paging.per_page, &token),
        );
    }
    Ok(with_versions(response))
}

/// `OPTIONS /capture`: what the capture interface takes.
pub(crate) async fn options<S: Store>(State(state): State<AppState<S>>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    limit_headers(&mut response, state.limits());
    super::discovery::discovery_headers(&mut response);
    // `all`: the binding's way to say both `rollback` and `proceed` are
    // taken.
    response.headers_mut().insert(
        "GS1-Capture-Error-Behaviour",
        HeaderValue::from_static("all"),
    );
    response.headers_mut().insert(
        header::ALLOW,
        HeaderValue::from_static("OPTIONS, GET, POST"),
    );
    with_versions(response)
}

/// `POST /events`: one event, captured synchronously: 201 with its
/// location, or the refusal as a problem.
pub(crate) async fn post_event<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = random_hex(12)?;
    let capture_token = Token::parse(&id).map_err(|e| ApiError::internal(e.to_string()))?;
    let prepared = intake(
        &state,
        &headers,
        body,
        &capture_token,
        CaptureBehaviour::Rollback,
        true,
    )
    .await?;
    let warnings = prepared.warnings;
    let Some((event_id, record)) = prepared.events.into_iter().next() else {
        return Err(ApiError::BadRequest("no event".into()));
    };
    // The event's problem may already name the event ("event: …"): one
    // prefix in the answer.
    let record = record.map_err(|problem| {
        let detail = problem["detail"].as_str().unwrap_or("refused");
        let rule = detail.strip_prefix("event: ").unwrap_or(detail);
        ApiError::Refused(Refusal::Invalid(oretrace_domain::Error::invalid(
            "event",
            rule.to_owned(),
        )))
    })?;
    let mut results = state.ledger.submit_group(vec![record], true).await?;
    let index = results
        .pop()
        .ok_or_else(|| ApiError::internal("no outcome"))??;
    let location = format!("/events/{}", oretrace_epcis_map::percent_encode(&event_id));
    let mut response = (
        StatusCode::CREATED,
        [(
            header::LOCATION,
            HeaderValue::from_str(&location).map_err(|e| ApiError::internal(e.to_string()))?,
        )],
        Json(json!({"eventID": event_id, "index": index, "warnings": warnings})),
    )
        .into_response();
    limit_headers(&mut response, state.limits());
    Ok(with_versions(response))
}
