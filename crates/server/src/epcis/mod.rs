//! The EPCIS 2.0 REST interface: capture (`/capture`, `POST /events`),
//! query (`GET /events`, the resource paths, named queries) and the
//! bearer-token authentication capture clients use (`/auth/…`).
//!
//! Every captured event becomes one log entry (a
//! [`oretrace_domain::event::CapturedEvent`] signed by the log key) and is
//! authorised by the ledger like any other record.

pub(crate) mod auth;
pub(crate) mod capture;
pub(crate) mod query;

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use crate::ApiError;

/// The EPCIS and CBV versions this repository speaks.
pub const EPCIS_VERSION: &str = "2.0.0";
pub const CBV_VERSION: &str = "2.0.0";

/// The GS1 JSON-LD context every document oretrace writes starts with.
pub const GS1_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// Adds the version headers every EPCIS response carries.
pub(crate) fn with_versions(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert("GS1-EPCIS-Version", HeaderValue::from_static(EPCIS_VERSION));
    h.insert("GS1-CBV-Version", HeaderValue::from_static(CBV_VERSION));
    response
}

/// Refuses a request that asks for EPCIS or CBV versions other than 2.0
/// (`GS1-EPCIS-Version`, `GS1-CBV-Version`, or a `-Min`/`-Max` range that
/// excludes 2.0.0).
pub(crate) fn check_versions(headers: &HeaderMap) -> Result<(), ApiError> {
    for (name, wanted) in [
        ("GS1-EPCIS-Version", EPCIS_VERSION),
        ("GS1-CBV-Version", CBV_VERSION),
    ] {
        if let Some(v) = headers.get(name) {
            let Ok(v) = v.to_str().map(str::trim) else {
                return Err(ApiError::NotAcceptable(format!(
                    "{name} is not visible ASCII: this repository speaks {wanted}"
                )));
            };
            // An empty header states no version, like an absent one.
            if !(v.is_empty() || v == "2.0" || v.starts_with("2.0.")) {
                return Err(ApiError::NotAcceptable(format!(
                    "{name} {v:?} is not supported: this repository speaks {wanted}"
                )));
            }
        }
    }
    for (min, max) in [
        ("GS1-EPCIS-Min", "GS1-EPCIS-Max"),
        ("GS1-CBV-Min", "GS1-CBV-Max"),
    ] {
        let parse = |name: &str| -> Option<Vec<u64>> {
            let v = headers.get(name)?.to_str().ok()?;
            Some(
                v.trim()
                    .split('.')
                    .map(|p| p.parse().unwrap_or(0))
                    .collect(),
            )
        };
        let two = vec![2u64, 0, 0];
        let pad = |mut v: Vec<u64>| {
            v.resize(3, 0);
            v
        };
        if let Some(lo) = parse(min)
            && pad(lo) > two
        {
            return Err(ApiError::NotAcceptable(format!(
                "{min} excludes version 2.0.0, the one this repository speaks"
            )));
        }
        if let Some(hi) = parse(max)
            && pad(hi) < two
        {
            return Err(ApiError::NotAcceptable(format!(
                "{max} excludes version 2.0.0, the one this repository speaks"
            )));
        }
    }
    Ok(())
}

/// A map with a bound: past `limit` entries the oldest are dropped.
#[derive(Debug)]
pub(crate) struct Bounded<V> {
    inner: Mutex<(HashMap<String, V>, VecDeque<String>)>,
    limit: usize,
}

impl<V: Clone> Bounded<V> {
    pub(crate) fn new(limit: usize) -> Self {
        Bounded {
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
            limit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<String, V>, VecDeque<String>)> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn insert(&self, key: String, value: V) {
        self.put(key, value, true);
    }

    /// Inserts only if absent; false if the key is taken.
    pub(crate) fn insert_new(&self, key: String, value: V) -> bool {
        self.put(key, value, false)
    }

    /// Puts `value` under `key` (replacing only if `replace`), then drops
    /// the oldest entries past the limit, under one lock.
    fn put(&self, key: String, value: V, replace: bool) -> bool {
        let mut g = self.lock();
        let (map, order) = &mut *g;
        match map.get_mut(&key) {
            Some(_) if !replace => return false,
            Some(slot) => *slot = value,
            None => {
                map.insert(key.clone(), value);
                order.push_back(key);
            }
        }
        while order.len() > self.limit {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
        true
    }

    pub(crate) fn get(&self, key: &str) -> Option<V> {
        self.lock().0.get(key).cloned()
    }

    pub(crate) fn update(&self, key: &str, f: impl FnOnce(&mut V)) {
        if let Some(v) = self.lock().0.get_mut(key) {
            f(v);
        }
    }

    pub(crate) fn remove(&self, key: &str) -> Option<V> {
        let mut g = self.lock();
        let (map, order) = &mut *g;
        let v = map.remove(key)?;
        order.retain(|k| k != key);
        Some(v)
    }

    /// The values, oldest first.
    pub(crate) fn values(&self) -> Vec<(String, V)> {
        let g = self.lock();
        g.1.iter()
            .filter_map(|k| g.0.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }
}

/// What the EPCIS interface keeps between requests (in memory: capture
/// jobs, challenges, tokens and named queries do not survive a restart;
/// the events themselves are in the log).
#[derive(Debug)]
pub(crate) struct EpcisState {
    /// Captures being read and prepared at once (each holds a body).
    pub(crate) capture_slots: std::sync::Arc<tokio::sync::Semaphore>,
    pub(crate) jobs: Bounded<capture::Job>,
    pub(crate) challenges: auth::Challenges,
    pub(crate) tokens: Bounded<auth::Grant>,
    pub(crate) queries: Bounded<serde_json::Value>,
}

impl EpcisState {
    pub(crate) fn new() -> Result<Self, ApiError> {
        Ok(EpcisState {
            capture_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(4)),
            jobs: Bounded::new(1_000),
            challenges: auth::Challenges::new()?,
            tokens: Bounded::new(100_000),
            queries: Bounded::new(1_000),
        })
    }
}

/// `n` random bytes as lower-case hex.
pub(crate) fn random_hex(n: usize) -> Result<String, ApiError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Now, as a UTC timestamp to the millisecond (`2026-11-26T21:00:00.000Z`).
pub(crate) fn now_rfc3339() -> String {
    millis_rfc3339(now_millis())
}

pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn millis_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let t = oretrace_domain::values::Timestamp::from_unix(secs).to_string();
    // `2026-11-26T21:00:00Z` → insert the milliseconds before the Z.
    format!("{}.{:03}Z", t.trim_end_matches('Z'), ms.rem_euclid(1000))
}
