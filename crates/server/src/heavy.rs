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

/// What a scan's waiters get: the report, or the refusal (shared).
type Outcome = Result<Arc<Report>, Arc<ApiError>>;

/// The anomaly scan of one log size: under way (its waiters watch for the
/// outcome), or done.
enum Scan {
    Running(u64, tokio::sync::watch::Receiver<Option<Outcome>>),
    Done(u64, Arc<Report>),
}

#[derive(Default)]
pub(crate) struct HeavyReads {
    kept: tokio::sync::Mutex<HashMap<String, Kept>>,
    /// The anomaly scan of the whole log, kept as a value (its pages and
    /// filters are cut from it) for the log size it was made at.
    anomalies: tokio::sync::Mutex<Option<Scan>>,
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

    /// The anomaly scan at log size `size`: the one kept, the one under
    /// way, or `compute`d now (on a task of its own, while no other heavy
    /// answer is computed) and kept. The scan goes on when the request that
    /// started it is dropped (a timeout): a later request for the same
    /// size waits for it rather than starting another. Refusals are not
    /// kept.
    pub(crate) async fn anomalies<F, Fut>(
        self: &Arc<Self>,
        size: u64,
        compute: F,
    ) -> Result<Arc<Report>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Report, ApiError>> + Send + 'static,
    {
        let mut rx = {
            let mut slot = self.anomalies.lock().await;
            match &*slot {
                Some(Scan::Done(at, report)) if *at == size => return Ok(report.clone()),
                Some(Scan::Running(at, rx)) if *at == size => rx.clone(),
                _ => {
                    let (tx, rx) = tokio::sync::watch::channel(None);
                    *slot = Some(Scan::Running(size, rx.clone()));
                    let me = self.clone();
                    let work = compute();
                    tokio::spawn(async move {
                        // The same lock as every heavy answer: one computed
                        // at a time.
                        let outcome: Outcome = {
                            let _one_at_a_time = me.kept.lock().await;
                            work.await.map(Arc::new).map_err(Arc::new)
                        };
                        let mut slot = me.anomalies.lock().await;
                        if matches!(&*slot, Some(Scan::Running(at, _)) if *at == size) {
                            *slot = match &outcome {
                                Ok(report) => Some(Scan::Done(size, report.clone())),
                                Err(_) => None,
                            };
                        }
                        drop(slot);
                        let _ = tx.send(Some(outcome));
                    });
                    rx
                }
            }
        };
        let outcome = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ApiError::internal("the anomaly scan stopped without an answer"))?
            .clone();
        match outcome {
            Some(Ok(report)) => Ok(report),
            Some(Err(e)) => Err(again(&e)),
            None => Err(ApiError::internal("the anomaly scan gave no answer")),
        }
    }
}

/// A shared refusal, for one more waiter: a bound passed stays 413 naming
/// it; anything else is the server's failure, said as it was.
fn again(e: &ApiError) -> ApiError {
    match e {
        ApiError::AnswerTooLarge { detail, limit } => ApiError::AnswerTooLarge {
            detail: detail.clone(),
            limit: *limit,
        },
        other => ApiError::internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A request dropped while the scan runs (a timeout) leaves the scan
    /// going; the retry waits for it: one scan, however many retries.
    #[tokio::test]
    async fn a_retry_waits_for_the_scan_under_way() {
        let heavy = Arc::new(HeavyReads::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let scan = |runs: Arc<AtomicUsize>| {
            move || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                Ok(Report::default())
            }
        };
        for _ in 0..3 {
            // Given up on after 50 ms, as the request timeout does.
            let give_up = tokio::time::timeout(
                std::time::Duration::from_millis(50),
                heavy.anomalies(7, scan(runs.clone())),
            )
            .await;
            assert!(give_up.is_err(), "still running");
        }
        let report = heavy.anomalies(7, scan(runs.clone())).await;
        assert!(report.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 1, "one scan for every retry");
        // Kept for its size; a new size scans again.
        assert!(heavy.anomalies(7, scan(runs.clone())).await.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(heavy.anomalies(8, scan(runs.clone())).await.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }
}
