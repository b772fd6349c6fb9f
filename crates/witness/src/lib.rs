//! A transparency-log witness (C2SP `tlog-witness` v1,
//! `docs/design/witness.md`): `POST /add-checkpoint` cosigns a checkpoint
//! of a configured log only if it is consistent with the latest one the
//! witness cosigned for that origin, and `GET /<sha256(origin)>/checkpoint`
//! serves that latest one with the log's signature and the cosignature.
//!
//! The decision is `oretrace_tlog::witness::decide` (pure); this crate
//! adds the key, the list of logs (a `tlog-policy` file), the durable
//! state ([`State`], one SQLite database) and HTTP. The state advances
//! only by a compare-and-swap committed before the cosignature is
//! returned: two requests racing from one size can never both be
//! cosigned, and a crash never leaves a cosignature for a state that was
//! not stored.

mod state;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use oretrace_tlog::cosignature::Cosigner;
use oretrace_tlog::note::NoteVerifier;
use oretrace_tlog::policy::Policy;
use oretrace_tlog::witness::{self, Refusal, decide};

pub use crate::state::{State, StateError, Swap};

/// A witness: its key, the logs it witnesses and its state.
pub struct Witness {
    cosigner: Cosigner,
    /// Per origin, the log keys trusted for it.
    logs: Vec<(String, Vec<NoteVerifier>)>,
    state: State,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("key", self.cosigner.verifier())
            .field(
                "logs",
                &self.logs.iter().map(|(o, _)| o).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Why an `add-checkpoint` request got no cosignature.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// One of the spec's answers (400, 403, 404, 409, 422).
    #[error("{0}")]
    Refused(Refusal),
    /// The state could not be read or written: 500, nothing cosigned.
    #[error("the witness's state: {0}")]
    State(#[from] StateError),
    #[error("cosigning: {0}")]
    Cosign(oretrace_tlog::Error),
}

impl Witness {
    /// A witness of the logs of `policy` (its `log` lines), keeping its
    /// state in `state`.
    pub fn new(cosigner: Cosigner, policy: &Policy, state: State) -> Self {
        let mut logs: Vec<(String, Vec<NoteVerifier>)> = Vec::new();
        for log in policy.logs() {
            let origin = log.key.name().to_owned();
            match logs.iter_mut().find(|(o, _)| *o == origin) {
                Some((_, keys)) => keys.push(log.key.clone()),
                None => logs.push((origin, vec![log.key.clone()])),
            }
        }
        Witness {
            cosigner,
            logs,
            state,
        }
    }

    pub fn verifier(&self) -> &NoteVerifier {
        self.cosigner.verifier()
    }

    /// The origins witnessed, in the policy's order.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.logs.iter().map(|(o, _)| o.as_str())
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Decides an `add-checkpoint` body at time `now` (POSIX seconds) and,
    /// if it is cosigned, stores the new state first: the 200 answer's
    /// body.
    pub fn add_checkpoint(&self, body: &[u8], now: u64) -> Result<String, AddError> {
        let mut read_error = None;
        let accepted = decide(
            body,
            |origin| {
                self.logs
                    .iter()
                    .find(|(o, _)| o == origin)
                    .map(|(_, keys)| keys.as_slice())
            },
            |origin| match self.state.get(origin) {
                Ok(held) => held.map(|h| h.witnessed),
                Err(e) => {
                    read_error = Some(e);
                    None
                }
            },
        );
        if let Some(e) = read_error {
            return Err(AddError::State(e));
        }
        let accepted = accepted.map_err(AddError::Refused)?;
        // The state keeps sizes as SQLite integers: larger trees (2^63
        // leaves and more) are not witnessed here.
        if i64::try_from(accepted.next.size).is_err() {
            return Err(AddError::Refused(Refusal::Inconsistent(format!(
                "a tree of {} leaves is beyond what this witness can hold (2^63 - 1)",
                accepted.next.size
            ))));
        }
        // The spec: the timestamp is never zero.
        let cosignature = self
            .cosigner
            .cosign(&accepted.note, now.max(1))
            .map_err(AddError::Cosign)?;
        let mut cosigned = accepted.note.clone();
        cosigned.push_signature(cosignature.clone());
        match self.state.swap(
            accepted.checkpoint.origin(),
            accepted.previous,
            accepted.next,
            &cosigned.to_bytes(),
        )? {
            Swap::Done => Ok(witness::cosignature_body(&[cosignature])),
            // Another request advanced the state meanwhile: answered as if
            // this one had come second.
            Swap::Lost { size } => Err(AddError::Refused(Refusal::Conflict { size })),
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs())
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn add_checkpoint(AxState(w): AxState<Arc<Witness>>, body: Bytes) -> Response {
    let outcome = tokio::task::spawn_blocking(move || w.add_checkpoint(&body, now())).await;
    match outcome {
        Ok(Ok(lines)) => text(StatusCode::OK, "text/plain; charset=utf-8", lines),
        Ok(Err(AddError::Refused(r))) => {
            let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let content_type = if matches!(r, Refusal::Conflict { .. }) {
                witness::SIZE_CONTENT_TYPE
            } else {
                "text/plain; charset=utf-8"
            };
            text(status, content_type, r.body())
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "add-checkpoint failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                "the witness could not answer; nothing was cosigned\n".into(),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "add-checkpoint task failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                "the witness could not answer; nothing was cosigned\n".into(),
            )
        }
    }
}

async fn checkpoint(AxState(w): AxState<Arc<Witness>>, Path(hash): Path<String>) -> Response {
    let Some(origin) = w
        .origins()
        .find(|o| origin_hash(o) == hash)
        .map(str::to_owned)
    else {
        return text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no log with that origin hash is witnessed here\n".into(),
        );
    };
    let read = tokio::task::spawn_blocking(move || w.state.get(&origin)).await;
    match read {
        Ok(Ok(Some(held))) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            Body::from(held.checkpoint),
        )
            .into_response(),
        Ok(Ok(None)) => text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no checkpoint of this log has been cosigned yet\n".into(),
        ),
        _ => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            "the witness's state could not be read\n".into(),
        ),
    }
}

async fn index(AxState(w): AxState<Arc<Witness>>) -> Response {
    let mut body = format!(
        "oretrace witness (C2SP tlog-witness v1)\nkey {}\n",
        w.verifier().to_vkey()
    );
    for origin in w.origins() {
        body.push_str(&format!(
            "log {origin} /{}/checkpoint\n",
            origin_hash(origin)
        ));
    }
    text(StatusCode::OK, "text/plain; charset=utf-8", body)
}

/// How long one request may take, body included.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The lowercase hex SHA-256 of an origin: its path on the monitoring
/// prefix.
pub fn origin_hash(origin: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(origin.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Connections served at once; past it, new ones wait to be accepted.
pub const MAX_CONNECTIONS: usize = 1024;

/// How long a client may take to send a request's headers (from the
/// start of each request, keep-alive waits included).
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `witness` on `listener` until `shutdown` completes: HTTP/1.1,
/// at most [`MAX_CONNECTIONS`] connections at once, each request's
/// headers within [`HEADER_TIMEOUT`] and the whole request within
/// [`REQUEST_TIMEOUT`]. An accept error (no file descriptor left, say)
/// is logged and retried, never fatal.
pub async fn serve(
    witness: Arc<Witness>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(witness);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => return Ok(()),
            },
            () = &mut shutdown => return Ok(()),
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return Ok(()),
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a connection ended");
            }
        });
    }
}

/// The witness's HTTP interface: `POST /add-checkpoint` (bodies over
/// [`witness::MAX_BODY_BYTES`] answered 413), `GET /<origin hash>/checkpoint`
/// and `GET /` (the key and the logs witnessed).
pub fn router(witness: Arc<Witness>) -> Router {
    // A request (its body included) that takes longer is answered 408 and
    // its connection's slot freed: a client trickling a body cannot hold
    // it.
    let timeout = tower_http::timeout::TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        REQUEST_TIMEOUT,
    );
    Router::new()
        .route("/", get(index))
        .route(
            "/add-checkpoint",
            post(add_checkpoint).layer(DefaultBodyLimit::max(witness::MAX_BODY_BYTES)),
        )
        .route("/{origin_hash}/checkpoint", get(checkpoint))
        .layer(timeout)
        .with_state(witness)
}
