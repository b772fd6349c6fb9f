//! The demo's buyer inbox: USSM subscribes to the events of the lots
//! shipped to it (an EPCIS named query and a stream subscription, as any
//! buyer's platform would), and a receiver on loopback takes the pushed
//! deliveries, checks each one's `GS1-Signature` against the registry's
//! published key set before it believes it, and writes what arrived to
//! `buyer-inbox.jsonl` in the data directory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use oretrace_domain::jose::{PublicJwk, verify_detached_with};
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};

use crate::epcis_cmds::{answer_json, base, client, token};

/// The named query the buyer subscribes to.
pub const QUERY: &str = "ussm-inbound-lots";
/// The lots shipped to USSM in the scenario.
const LOTS: [&str; 2] = [
    "urn:oretrace:lot:fwo:sb-concentrate-0001",
    "urn:oretrace:lot:fwo:ree-concentrate-0001",
];

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
        data: &Path,
        keys: Vec<PublicJwk>,
    ) -> anyhow::Result<Inbox> {
        let file = data.join("buyer-inbox.jsonl");
        let arrivals: Arc<Mutex<Vec<Arrival>>> = Arc::default();
        let state = (Arc::new(keys), arrivals.clone(), file.clone());
        let app = axum::Router::new().route(
            "/inbox",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (keys, arrivals, file) = state.clone();
                async move { receive(&keys, &arrivals, &file, &headers, &body) }
            }),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .context("a loopback port for the demo's buyer inbox")?;
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

/// USSM's named query and subscription (made once: a data directory
/// already loaded keeps both). Returns the subscription's id.
pub fn subscribe(server: &str, ussm: &NoteSigner, inbox: &str) -> anyhow::Result<String> {
    let (bearer, _) = token(server, ussm)?;
    let http = client()?;
    let auth = format!("Bearer {bearer}");
    let existing = http
        .get(format!("{}/queries/{QUERY}", base(server)))
        .send()
        .context("reading the buyer's named query")?;
    if existing.status() == reqwest::StatusCode::NOT_FOUND {
        let defined = http
            .post(format!("{}/queries", base(server)))
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(json!({"name": QUERY, "query": {"MATCH_anyEPCClass": LOTS}}).to_string())
            .send()
            .context("defining the buyer's named query")?;
        if !defined.status().is_success() {
            anyhow::bail!(
                "defining the buyer's named query: {} {}",
                defined.status(),
                defined.text().unwrap_or_default()
            );
        }
    }
    let path = format!("{}/queries/{QUERY}/subscriptions", base(server));
    let mine = answer_json(
        http.get(&path)
            .header("authorization", &auth)
            .send()
            .context("listing the buyer's subscriptions")?,
        "listing the buyer's subscriptions",
    )?;
    // A subscription from an earlier run points at that run's inbox:
    // ended, and made again for this one.
    for old in mine.as_array().into_iter().flatten() {
        if let Some(id) = old["subscriptionID"].as_str() {
            http.delete(format!("{path}/{id}"))
                .header("authorization", &auth)
                .send()
                .context("ending an earlier run's subscription")?;
        }
    }
    // From a day back: every event of the scenario captured in this run
    // (the log is minutes old), as it is pushed, not polled.
    let since = oretrace_epcis::format_timestamp_millis(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
        )
        .unwrap_or(0)
            - 24 * 3600 * 1000,
    )
    .context("formatting a time")?;
    let created = answer_json(
        http.post(&path)
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(json!({"dest": inbox, "stream": true, "initialRecordTime": since}).to_string())
            .send()
            .context("subscribing the buyer")?,
        "subscribing the buyer",
    )?;
    created["subscriptionID"]
        .as_str()
        .map(str::to_owned)
        .context("the subscription answer has no subscriptionID")
}
