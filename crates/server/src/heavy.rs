//! Answers that read the whole registry (pledge totals, the CSV
//! exports). One is computed at a time, and each is kept for the log size
//! it was computed at: a crowd of the same request costs one computation,
//! and requests that pile up behind it wait instead of each starting a
//! walk of their own.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use std::sync::Arc;

use oretrace_ledger::anomalies::Report;

use crate::ApiError;

/// Answers kept at once; past that the cache starts afresh.
const MAX_KEPT: usize = 32;

struct Kept {
    size: u64,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Kept {
    fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

#[derive(Default)]
pub(crate) struct HeavyReads {
    kept: tokio::sync::Mutex<HashMap<String, Kept>>,
    /// The anomaly scan of the whole log, kept as a value (its pages and
    /// filters are cut from it) for the log size it was made at.
    anomalies: tokio::sync::Mutex<Option<(u64, Arc<Report>)>>,
}

impl std::fmt::Debug for HeavyReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeavyReads")
    }
}

impl HeavyReads {
    /// The answer for `key` at log size `size`: the one kept, or
    /// `compute`d now (while no other heavy answer is computed) and kept.
    /// Refusals are not kept.
    pub(crate) async fn answer<F, Fut>(
        &self,
        key: String,
        size: u64,
        compute: F,
    ) -> Result<Response, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Response, ApiError>>,
    {
        let mut kept = self.kept.lock().await;
        if let Some(k) = kept.get(&key)
            && k.size == size
        {
            return Ok(k.response());
        }
        let (parts, body) = compute().await?.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| ApiError::internal(format!("an answer's body: {e}")))?;
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        let entry = Kept {
            size,
            status: parts.status,
            headers: parts.headers,
            body,
        };
        let response = entry.response();
        kept.insert(key, entry);
        Ok(response)
    }

    /// The anomaly scan at log size `size`: the one kept, or `compute`d
    /// now (while no other heavy answer is computed) and kept. Refusals
    /// are not kept.
    pub(crate) async fn anomalies<F, Fut>(
        &self,
        size: u64,
        compute: F,
    ) -> Result<Arc<Report>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Report, ApiError>>,
    {
        // The same lock as every heavy answer: one computed at a time.
        let _one_at_a_time = self.kept.lock().await;
        let mut kept = self.anomalies.lock().await;
        if let Some((at, report)) = kept.as_ref()
            && *at == size
        {
            return Ok(report.clone());
        }
        let report = Arc::new(compute().await?);
        *kept = Some((size, report.clone()));
        Ok(report)
    }
}
