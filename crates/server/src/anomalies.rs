//! `GET /anomalies`: the anomaly scan of the whole log
//! (`oretrace_ledger::anomalies`), kept per log size ([`crate::heavy`]:
//! one scan at a time, a crowd of requests costs one), filtered by
//! `kind` and paged (`perPage`, default 100, at most 1000, and an opaque
//! `nextPageToken`). A log over the scan's bound is refused with 413
//! naming it.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Json, Response};
use oretrace_ledger::Store;
use oretrace_ledger::anomalies::{AnomalyError, FindingJson, Kind, newest_text, scan};
use serde::Serialize;

use crate::registry::{next_link, page_token, paging};
use crate::{ApiError, AppState, blocking};

/// Findings of one kind.
#[derive(Debug, Serialize)]
pub(crate) struct Count {
    kind: &'static str,
    findings: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct Anomalies {
    /// Log entries scanned (the log's size when the scan was made).
    log_size: u64,
    /// Records read from them (a captured event counts by the records it
    /// states; parties, agreements and the like are not read).
    records: u64,
    /// The newest record time: custody gaps are measured from it, not
    /// from the clock, so one log gives one answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    newest: Option<String>,
    /// A shipment not received this many days before `newest` is a
    /// custody gap.
    custody_gap_days: i64,
    /// Findings of every kind in the whole log (whatever `kind` asks).
    counts: Vec<Count>,
    /// The kind asked for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    /// Findings matching `kind`, in all pages.
    total: usize,
    /// This page of them, in the log order of the record that revealed
    /// each.
    findings: Vec<FindingJson>,
    #[serde(rename = "nextPageToken", skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

pub(crate) async fn anomalies<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let mut kind: Option<Kind> = None;
    let mut rest = Vec::new();
    for (name, value) in pairs {
        if name == "kind" {
            if kind.is_some() {
                return Err(ApiError::InvalidRequest {
                    field: "kind".into(),
                    rule: "given more than once: give each parameter once".into(),
                });
            }
            kind = Some(Kind::parse(&value).ok_or_else(|| ApiError::InvalidRequest {
                field: "kind".into(),
                rule: format!("one of {}", Kind::ALL.map(Kind::as_str).join(", ")),
            })?);
        } else {
            rest.push((name, value));
        }
    }
    let paging = paging("anomalies", &rest).map_err(|e| match e {
        ApiError::InvalidRequest { field, rule } if rule.starts_with("unknown query parameter") => {
            ApiError::InvalidRequest {
                rule: format!(
                    "unknown query parameter `{field}`: /anomalies takes kind, perPage and nextPageToken"
                ),
                field,
            }
        }
        other => other,
    })?;
    let skip = match paging.after.as_deref() {
        None => 0,
        Some(after) => after
            .parse::<usize>()
            .map_err(|_| ApiError::InvalidRequest {
                field: "nextPageToken".into(),
                rule: "not a token an anomalies page gave".into(),
            })?,
    };
    let limits = state.config.anomalies;
    let size = blocking(&state.ledger, |ledger| Ok(ledger.store().size()?)).await?;
    let ledger = state.ledger.clone();
    let report = state
        .heavy
        .anomalies(size, move || async move {
            blocking(&ledger, move |ledger| {
                scan(ledger.store(), size, limits).map_err(|e| match e {
                    AnomalyError::Store(e) => ApiError::from(e),
                    AnomalyError::TooLarge { detail, limit } => ApiError::AnswerTooLarge {
                        detail,
                        limit: usize::try_from(limit).unwrap_or(usize::MAX),
                    },
                    AnomalyError::Damaged(_) => ApiError::internal(e.to_string()),
                })
            })
            .await
        })
        .await?;
    let matching: Vec<&oretrace_ledger::anomalies::Finding> = report
        .findings
        .iter()
        .filter(|f| kind.is_none_or(|k| f.kind == k))
        .collect();
    let total = matching.len();
    let end = skip.saturating_add(paging.per_page).min(total);
    let findings: Vec<FindingJson> = matching
        .get(skip.min(total)..end)
        .unwrap_or_default()
        .iter()
        .map(|f| FindingJson::from(*f))
        .collect();
    let next = (end < total).then(|| page_token("anomalies", &end.to_string()));
    let link = next.as_deref().map(|token| {
        let kind = kind.map(|k| format!("kind={k}&")).unwrap_or_default();
        let plain = next_link("anomalies", paging.per_page, token);
        // `/anomalies?perPage=…` with the kind asked kept first.
        plain
            .to_str()
            .ok()
            .and_then(|v| {
                axum::http::HeaderValue::from_str(&v.replacen(
                    "/anomalies?",
                    &format!("/anomalies?{kind}"),
                    1,
                ))
                .ok()
            })
            .unwrap_or(plain)
    });
    let body = Anomalies {
        log_size: size,
        records: report.items,
        newest: newest_text(&report),
        custody_gap_days: limits.config.custody_gap_seconds / 86_400,
        counts: report
            .counts()
            .into_iter()
            .map(|(k, findings)| Count {
                kind: k.as_str(),
                findings,
            })
            .collect(),
        kind: kind.map(Kind::as_str),
        total,
        findings,
        next_page_token: next,
    };
    let mut response = Json(body).into_response();
    if let Some(link) = link {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}
