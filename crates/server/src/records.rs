//! `POST /records` (submit a signed record) and the reads of log entries:
//! `GET /records/{index}`, `/records/{index}/receipt`,
//! `/records/by-hash/{hash}`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use oretrace_domain::envelope::{EnvelopeJson, SignatureJson, SignedRecord};
use oretrace_domain::values::Digest;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::Store;
use oretrace_ledger::ledger::Ledger;
use oretrace_tlog::hash::Hash;
use serde::Serialize;

use crate::{ApiError, AppState, blocking};

/// The answer to an accepted submission.
#[derive(Debug, Serialize)]
struct Submitted {
    index: u64,
    record_hash: String,
    /// A `c2sp.org/tlog-proof@v1` receipt carrying the entry.
    receipt: String,
}

/// One log entry, decoded.
#[derive(Debug, Serialize)]
pub(crate) struct RecordView {
    index: u64,
    kind: &'static str,
    record: RecordJson,
    signatures: Vec<SignatureJson>,
    /// The entry as logged: the signed note's text.
    entry: String,
    record_hash: String,
}

impl RecordView {
    pub(crate) fn into_record(self) -> RecordJson {
        self.record
    }
}

/// How a submission is encoded, chosen by its `Content-Type`.
enum Submission {
    Envelope,
    Entry,
}

fn submission_kind(headers: &HeaderMap) -> Result<Submission, ApiError> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = given
        .as_deref()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/json") => Ok(Submission::Envelope),
        Some("text/plain") => Ok(Submission::Entry),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "POST /records takes application/json (an envelope) or text/plain (a signed-note entry), not {}",
            given.as_deref().unwrap_or("a body without Content-Type")
        ))),
    }
}

fn parse_submission(kind: Submission, body: &[u8]) -> Result<SignedRecord, ApiError> {
    match kind {
        Submission::Envelope => {
            let envelope: EnvelopeJson =
                serde_json::from_slice(body).map_err(|e| envelope_error(e, body))?;
            Ok(SignedRecord::from_envelope(&envelope)?)
        }
        Submission::Entry => Ok(SignedRecord::from_entry(body)?),
    }
}

/// What `POST /records` takes as JSON, for error messages.
const ENVELOPE_SHAPE: &str = "POST /records takes a signed envelope as application/json, \
    {\"record\": {…}, \"signatures\": [{\"key\": \"<name>+<key id>\", \"signature\": \"<base64>\"}]} \
    (`oretrace record sign record.json --key party.key` writes one), or a signed-note entry as text/plain";

/// An envelope that does not parse: a body that is not JSON, a record
/// posted without its signatures, or an envelope of the wrong shape (the
/// field named).
fn envelope_error(e: serde_json::Error, body: &[u8]) -> ApiError {
    if !e.is_data() {
        return ApiError::MalformedJson(format!("the body is not JSON ({e}); {ENVELOPE_SHAPE}"));
    }
    let bare_record = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|v| v.get("kind").is_some() && v.get("record").is_none());
    if bare_record {
        return oretrace_domain::Error::invalid(
            "record",
            format!(
                "the body is an unsigned record; sign it and post the envelope: {ENVELOPE_SHAPE}"
            ),
        )
        .into();
    }
    ApiError::from_json(e)
}

pub(crate) fn hex(bytes: [u8; 32]) -> String {
    Hash(bytes).to_hex()
}

/// `POST /records`: validate, submit, wait until durable, answer 201 with
/// the index and a receipt.
pub(crate) async fn submit<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let kind = submission_kind(&headers)?;
    let body = body.map_err(|r| ApiError::from_body_rejection(r, state.config.max_body_bytes))?;
    let record = parse_submission(kind, &body)?;
    let record_hash = hex(record.record_hash());
    let index = state.ledger.submit(record).await?;
    let receipt = blocking(&state.ledger, move |ledger| {
        let bytes = ledger.receipt(index)?.to_bytes();
        String::from_utf8(bytes)
            .map_err(|_| ApiError::internal(format!("the receipt of entry {index} is not UTF-8")))
    })
    .await?;
    tracing::info!(index, %record_hash, "record accepted");
    let location = HeaderValue::try_from(format!("/records/{index}"))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(Submitted {
            index,
            record_hash,
            receipt,
        }),
    )
        .into_response())
}

/// Parses an index path segment: a canonical decimal.
fn parse_index(text: &str) -> Result<u64, ApiError> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical
        .then(|| text.parse().ok())
        .flatten()
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{text:?} is not a log index (a decimal without leading zeros)"
            ))
        })
}

/// Checks that the published checkpoint covers `index`.
fn published(ledger: &Ledger<impl Store>, index: u64) -> Result<(), ApiError> {
    let size = ledger.checkpoint()?.0.size();
    if index >= size {
        return Err(ApiError::NotFound(format!(
            "no entry {index}: the published log has {size} entries"
        )));
    }
    Ok(())
}

/// Reads and decodes entry `index` (which must exist).
pub(crate) fn read_record(store: &impl Store, index: u64) -> Result<RecordView, ApiError> {
    let entry = store
        .read_entries(index, 1)?
        .pop()
        .ok_or_else(|| ApiError::internal(format!("entry {index} vanished")))?;
    let signed = SignedRecord::from_entry(&entry)
        .map_err(|e| ApiError::internal(format!("stored entry {index} does not parse: {e}")))?;
    let envelope = signed.to_envelope();
    let entry = String::from_utf8(entry)
        .map_err(|_| ApiError::internal(format!("stored entry {index} is not UTF-8")))?;
    Ok(RecordView {
        index,
        kind: signed.record().kind(),
        record: envelope.record,
        signatures: envelope.signatures,
        entry,
        record_hash: hex(signed.record_hash()),
    })
}

/// `GET /records/{index}`.
pub(crate) async fn record<S: Store>(
    State(state): State<AppState<S>>,
    Path(index): Path<String>,
) -> Result<Json<RecordView>, ApiError> {
    let index = parse_index(&index)?;
    let view = blocking(&state.ledger, move |ledger| {
        published(ledger, index)?;
        read_record(ledger.store(), index)
    })
    .await?;
    Ok(Json(view))
}

/// `GET /records/{index}/receipt`: a `tlog-proof` against the published
/// checkpoint.
pub(crate) async fn receipt<S: Store>(
    State(state): State<AppState<S>>,
    Path(index): Path<String>,
) -> Result<Response, ApiError> {
    let index = parse_index(&index)?;
    // Against the cosigned checkpoint when one covers the entry.
    let cosigned = state
        .witnessing
        .as_ref()
        .and_then(|w| w.cosigned())
        .filter(|(size, _)| index < *size);
    let receipt = blocking(&state.ledger, move |ledger| {
        published(ledger, index)?;
        Ok(match cosigned {
            Some((_, note)) => ledger.receipt_against(index, note)?,
            None => ledger.receipt(index)?,
        }
        .to_bytes())
    })
    .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        receipt,
    )
        .into_response())
}

/// `GET /records/by-hash/{hash}`: 303 to the entry holding the record
/// whose canonical bytes hash to `hash` (64 lower-case hex digits).
pub(crate) async fn by_hash<S: Store>(
    State(state): State<AppState<S>>,
    Path(hash): Path<String>,
) -> Result<Redirect, ApiError> {
    let digest = Digest::parse(&hash).map_err(|_| {
        ApiError::BadRequest(format!(
            "{hash:?} is not a record hash (64 lower-case hex digits)"
        ))
    })?;
    let bytes = *digest.bytes();
    let index = blocking(&state.ledger, move |ledger| {
        Ok(ledger.store().find_record(&bytes)?)
    })
    .await?;
    match index {
        Some(index) => Ok(Redirect::to(&format!("/records/{index}"))),
        None => Err(ApiError::NotFound(format!("no record with hash {hash}"))),
    }
}
