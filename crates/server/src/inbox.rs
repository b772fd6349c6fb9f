//! A receiver of subscription deliveries, as a subscriber runs one: it
//! checks each delivery's `GS1-Signature` against the registry's
//! published key set before it believes it, drops a `jti` it has taken
//! already, and appends what arrived to a JSON-lines file. The demo's
//! buyer inbox; an example for integrators.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use oretrace_domain::jose::{PublicJwk, verify_detached_with};
use serde_json::{Value, json};

/// One delivery as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub jti: String,
    pub events: usize,
}

/// The running receiver: its URL and what arrived.
#[derive(Debug)]
pub struct Inbox {
    pub url: String,
    pub file: PathBuf,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
}

impl Inbox {
    /// Starts the receiver on a loopback port. `keys` is the registry's
    /// published key set: a delivery whose signature does not verify with
    /// it is answered 401 and not written.
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        file: PathBuf,
        keys: Vec<PublicJwk>,
    ) -> std::io::Result<Inbox> {
        let arrivals: Arc<Mutex<Vec<Arrival>>> = Arc::default();
        let state = (Arc::new(keys), arrivals.clone(), file.clone());
        let app = axum::Router::new().route(
            "/inbox",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (keys, arrivals, file) = state.clone();
                async move { receive(&keys, &arrivals, &file, &headers, &body) }
            }),
        );
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let url = format!("http://{}/inbox", listener.local_addr()?);
        runtime.spawn(async move { axum::serve(listener, app).await });
        Ok(Inbox {
            url,
            file,
            arrivals,
        })
    }

    pub fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Waits until a delivery arrived, at most `limit`.
    pub fn wait(&self, limit: Duration) -> Vec<Arrival> {
        let start = Instant::now();
        while start.elapsed() < limit {
            let got = self.arrivals();
            if !got.is_empty() {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.arrivals()
    }
}

fn receive(
    keys: &[PublicJwk],
    arrivals: &Mutex<Vec<Arrival>>,
    file: &Path,
    headers: &HeaderMap,
    body: &[u8],
) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(signature) = header("GS1-Signature") else {
        return StatusCode::UNAUTHORIZED;
    };
    let Ok(claims) = verify_detached_with(keys, signature, body) else {
        return StatusCode::UNAUTHORIZED;
    };
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let ids: Vec<Value> = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .map(|l| l.iter().map(|e| e["eventID"].clone()).collect())
        .unwrap_or_default();
    let mut arrivals = arrivals
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // The same jti again is a repeat of a delivery already taken.
    if arrivals.iter().any(|a| a.jti == jti) {
        return StatusCode::OK;
    }
    let line = json!({"jti": jti, "subscription": claims.get("sub"), "signedBy": claims.get("kid"),
        "signedAt": claims.get("iat"), "events": ids});
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{line}\n").as_bytes()));
    if written.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    arrivals.push(Arrival {
        jti,
        events: ids.len(),
    });
    StatusCode::OK
}
