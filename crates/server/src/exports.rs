//! Exports of agreements (`docs/design/agreements.md`, "Interfaces" and
//! "OCDS mapping"), made by `oretrace-ocds` from the store's projections:
//!
//! - `GET /agreements/{id}/ocds` — the OCDS 1.1 record package of one
//!   agreement (every release and the compiled release);
//! - `GET /agreements/{id}/ocds/releases` — its release package;
//! - `GET /exports/agreements.csv`, `/exports/pledges.csv`,
//!   `/exports/reports.csv` — the whole registry as CSV, computed columns
//!   as of `asOf` (default today).
//!
//! **Cut at a checkpoint.** Every answer states the published checkpoint
//! it was cut at: headers `Oretrace-Checkpoint-Size`,
//! `Oretrace-Checkpoint-Root` (base64, as in the checkpoint note) and
//! `Oretrace-Checkpoint-Origin`. The checkpoint is read first, then the
//! projections; if they hold a record the checkpoint does not cover yet
//! (it was integrated after that checkpoint was published), both are read
//! again, so what the export states is exactly what the log prefix of that
//! size says. An OCDS package's `publishedDate` is the time of the last
//! record that checkpoint covers, so the same checkpoint always gives the
//! same package; `publisher` is the configured [`OcdsPublisher`].
//!
//! **Bounded.** A hostile party can register many agreements, progress
//! reports and reveals. An OCDS export reads at most
//! [`MAX_EXPORT_CLAUSES`] revealed clauses and [`MAX_EXPORT_PROGRESS`]
//! progress reports of its agreement, and a CSV export at most
//! [`MAX_EXPORT_ROWS`] agreements or reports, a page of
//! [`EXPORT_PAGE`] at a time; beyond that the answer is a 413 problem
//! (`export-too-large`) naming the limit and the paged endpoints that
//! serve the same data, never a partial export that looks whole.
//!
//! No export holds a sealed clause text: the registry never received one.
//! A revealed clause's text appears in the OCDS release of its reveal
//! (the CSV columns hold no clause text at all).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use oretrace_domain::agreement::{ScopedId, Terms};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::money::Date;
use oretrace_domain::values::Timestamp;
use oretrace_ledger::Store;
use oretrace_ledger::agreements::{
    AgreementState, ClauseState, ProgressState, ReportState, Select, VersionState,
};
use oretrace_ledger::rules::Refusal;
use oretrace_ledger::state::PartyState;
use oretrace_ocds::{History, Publisher, RevealTime};
use oretrace_tlog::checkpoint::Checkpoint;

use crate::agreements::{as_of, scoped};
use crate::{ApiError, AppState, OcdsPublisher, blocking};

/// Most revealed clauses (over all versions) one OCDS export of an
/// agreement holds; each may be up to 32 KiB of text.
pub const MAX_EXPORT_CLAUSES: usize = 10_000;

/// Most progress reports one OCDS export of an agreement holds.
pub const MAX_EXPORT_PROGRESS: usize = 10_000;

/// Most agreements (or reports) one CSV export holds.
pub const MAX_EXPORT_ROWS: usize = 10_000;

/// Items read from the store at a time while gathering an export.
pub const EXPORT_PAGE: usize = 500;

/// How often an export is cut again when records keep arriving between
/// reading the checkpoint and reading the projections.
const CUT_ATTEMPTS: usize = 5;

/// The size of the checkpoint an answer was cut at.
pub const CHECKPOINT_SIZE: HeaderName = HeaderName::from_static("oretrace-checkpoint-size");
/// The root hash (base64) of that checkpoint.
pub const CHECKPOINT_ROOT: HeaderName = HeaderName::from_static("oretrace-checkpoint-root");
/// The origin (log name) of that checkpoint.
pub const CHECKPOINT_ORIGIN: HeaderName = HeaderName::from_static("oretrace-checkpoint-origin");

const CSV: HeaderValue = HeaderValue::from_static("text/csv; charset=utf-8");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// What an export needs besides its data: the checkpoint it was cut at
/// and the time of that checkpoint's last record.
struct Cut<T> {
    data: T,
    checkpoint: Checkpoint,
    published: Option<Timestamp>,
}

/// Reads the checkpoint, then `gather`s (which answers its data and the
/// highest log index it holds); again while the data holds a record the
/// checkpoint does not cover. See the module documentation.
fn cut<S: Store, T>(
    ledger: &oretrace_ledger::ledger::Ledger<S>,
    gather: impl Fn(&S) -> Result<(T, Option<u64>), ApiError>,
) -> Result<Cut<T>, ApiError> {
    for attempt in 0..CUT_ATTEMPTS {
        let (checkpoint, _) = ledger.checkpoint()?;
        let (data, highest) = gather(ledger.store())?;
        if highest.is_none_or(|h| h < checkpoint.size()) {
            let published = match checkpoint.size().checked_sub(1) {
                Some(last) => Some(record_time(ledger.store(), last)?),
                None => None,
            };
            return Ok(Cut {
                data,
                checkpoint,
                published,
            });
        }
        // The batch holding the newer record is being published.
        std::thread::sleep(Duration::from_millis(10 << attempt));
    }
    Err(ApiError::Refused(Refusal::Overloaded))
}

/// The record time of log entry `index`.
fn record_time(store: &impl Store, index: u64) -> Result<Timestamp, ApiError> {
    let entry = store
        .entry(index)?
        .ok_or_else(|| ApiError::internal(format!("entry {index} is not stored")))?;
    let signed = SignedRecord::from_entry(&entry)
        .map_err(|e| ApiError::internal(format!("stored entry {index} does not parse: {e}")))?;
    Ok(signed.record().time())
}

fn too_large(what: String, limit: usize, hint: &'static str) -> ApiError {
    ApiError::ExportTooLarge { what, limit, hint }
}

/// Everything the store holds about one agreement, owned.
struct Gathered {
    agreement: AgreementState,
    versions: Vec<VersionState>,
    clauses: Vec<ClauseState>,
    reveals: Vec<RevealTime>,
    progress: Vec<ProgressState>,
    parties: Vec<PartyState>,
}

impl Gathered {
    fn history(&self) -> History<'_> {
        History {
            agreement: &self.agreement,
            versions: &self.versions,
            clauses: &self.clauses,
            reveals: &self.reveals,
            progress: &self.progress,
            parties: &self.parties,
        }
    }

    /// The highest log index of any record this holds.
    fn highest(&self) -> u64 {
        let versions = self.versions.iter().flat_map(|v| {
            std::iter::once(v.index()).chain(v.confirmations().iter().map(|c| c.index))
        });
        versions
            .chain(self.clauses.iter().map(|c| c.index))
            .chain(self.progress.iter().map(ProgressState::index))
            .chain([self.agreement.index])
            .max()
            .unwrap_or(self.agreement.index)
    }
}

/// Reads one agreement's history from the store, paging through its
/// clauses and progress reports within the export limits.
fn gather(store: &impl Store, id: &ScopedId) -> Result<Option<Gathered>, ApiError> {
    let Some(agreement) = store.agreement(id.as_str())? else {
        return Ok(None);
    };
    let versions = store.agreement_versions(id.as_str())?;
    let mut clauses = Vec::new();
    for v in &versions {
        if !matches!(v.record().terms, Terms::Sealed { .. }) || v.revealed().is_empty() {
            continue;
        }
        let mut after = None;
        loop {
            let page = store.clauses(id.as_str(), v.version(), after, EXPORT_PAGE)?;
            let full = page.len() == EXPORT_PAGE;
            after = page.last().map(|c| c.clause);
            clauses.extend(page);
            if clauses.len() > MAX_EXPORT_CLAUSES {
                return Err(too_large(
                    format!("agreement {id} has revealed clauses"),
                    MAX_EXPORT_CLAUSES,
                    "read them a page at a time at /agreements/{id}/versions/{version}/clauses",
                ));
            }
            if !full {
                break;
            }
        }
    }
    let mut reveals: BTreeMap<u64, Timestamp> = BTreeMap::new();
    for c in &clauses {
        if let std::collections::btree_map::Entry::Vacant(e) = reveals.entry(c.index) {
            e.insert(record_time(store, c.index)?);
        }
    }
    let mut progress = Vec::new();
    let mut after = None;
    loop {
        let page = store.progress(id.as_str(), after, EXPORT_PAGE)?;
        let full = page.len() == EXPORT_PAGE;
        after = page.last().map(ProgressState::index);
        progress.extend(page);
        if progress.len() > MAX_EXPORT_PROGRESS {
            return Err(too_large(
                format!("agreement {id} has progress reports"),
                MAX_EXPORT_PROGRESS,
                "read them a page at a time at /agreements/{id}/progress",
            ));
        }
        if !full {
            break;
        }
    }
    let mut names: Vec<&str> = versions
        .iter()
        .flat_map(|v| v.record().parties.iter().map(|p| p.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut parties = Vec::new();
    for name in names {
        if let Some(p) = store.party(name)? {
            parties.push(p);
        }
    }
    Ok(Some(Gathered {
        agreement,
        versions,
        clauses,
        reveals: reveals
            .into_iter()
            .map(|(index, time)| RevealTime { index, time })
            .collect(),
        progress,
        parties,
    }))
}

/// The base URL exports link to: the configured one, else `http://` and
/// the request's `Host` (when it is a plain host and port).
fn base_url(config: &OcdsPublisher, headers: &HeaderMap) -> String {
    if let Some(base) = config.base_url {
        return base.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The headers naming the checkpoint an answer was cut at.
fn checkpoint_headers(checkpoint: &Checkpoint) -> Result<[(HeaderName, HeaderValue); 3], ApiError> {
    let value = |text: String| {
        HeaderValue::try_from(text).map_err(|e| ApiError::internal(format!("a header: {e}")))
    };
    Ok([
        (CHECKPOINT_SIZE, value(checkpoint.size().to_string())?),
        (CHECKPOINT_ROOT, value(checkpoint.root().to_base64())?),
        (CHECKPOINT_ORIGIN, value(checkpoint.origin().to_owned())?),
    ])
}

/// Which OCDS package of an agreement.
#[derive(Clone, Copy)]
enum Package {
    Record,
    Releases,
}

async fn package<S: Store>(
    state: AppState<S>,
    id: String,
    headers: HeaderMap,
    pairs: Vec<(String, String)>,
    kind: Package,
) -> Result<Response, ApiError> {
    if let Some((name, _)) = pairs.first() {
        let name = crate::error::echo(name);
        return Err(ApiError::InvalidRequest {
            rule: format!(
                "unknown query parameter `{name}`: an OCDS export takes none (each milestone's \
                 status is as of its release's day)"
            ),
            field: name,
        });
    }
    let id = scoped(&id)?;
    let config = state.config.ocds;
    let base = base_url(&config, &headers);
    let cut = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| {
            cut(ledger, |store| {
                let found = gather(store, &id)?;
                let highest = found.as_ref().map(Gathered::highest);
                Ok((found, highest))
            })
        }
    })
    .await?;
    let gathered = cut
        .data
        .ok_or_else(|| ApiError::NotFound(format!("no agreement {id} is registered")))?;
    let published = cut
        .published
        .ok_or_else(|| ApiError::internal("an agreement is stored but the log is empty"))?;
    let publisher = Publisher {
        prefix: config.prefix,
        name: config.name,
        base_url: &base,
    };
    let export = |e: oretrace_ocds::Error| {
        ApiError::internal(format!("the OCDS export of agreement {id} failed: {e}"))
    };
    let body = match kind {
        Package::Record => oretrace_ocds::record_package(
            publisher,
            &format!("{base}/agreements/{id}/ocds"),
            &published,
            &[gathered.history()],
        )
        .map_err(export)?,
        Package::Releases => {
            let releases =
                oretrace_ocds::releases(publisher, gathered.history()).map_err(export)?;
            oretrace_ocds::release_package(
                publisher,
                &format!("{base}/agreements/{id}/ocds/releases"),
                &published,
                &releases,
            )
        }
    };
    let bytes = serde_json::to_vec(&body)
        .map_err(|e| ApiError::internal(format!("serialising an OCDS package: {e}")))?;
    Ok((
        checkpoint_headers(&cut.checkpoint)?,
        [(header::CONTENT_TYPE, JSON)],
        bytes,
    )
        .into_response())
}

/// `GET /agreements/{id}/ocds`: the OCDS record package of one agreement.
pub(crate) async fn record_package<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    package(state, id, headers, pairs, Package::Record).await
}

/// `GET /agreements/{id}/ocds/releases`: the OCDS release package of one
/// agreement.
pub(crate) async fn release_package<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    package(state, id, headers, pairs, Package::Releases).await
}

/// Every item of a list the store pages by id, at most
/// [`MAX_EXPORT_ROWS`].
fn all<T>(
    what: &str,
    hint: &'static str,
    read: impl Fn(&Select) -> oretrace_ledger::StoreResult<Vec<T>>,
    id: impl Fn(&T) -> String,
) -> Result<Vec<T>, ApiError> {
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = read(&Select {
            terms: Vec::new(),
            overdue_on: None,
            after,
            limit: EXPORT_PAGE,
        })?;
        let full = page.len() == EXPORT_PAGE;
        after = page.last().map(&id);
        items.extend(page);
        if items.len() > MAX_EXPORT_ROWS {
            return Err(too_large(
                format!("the registry holds {what}"),
                MAX_EXPORT_ROWS,
                hint,
            ));
        }
        if !full {
            return Ok(items);
        }
    }
}

const AGREEMENTS_HINT: &str = "read them a page at a time at /agreements (filters narrow the list)";

fn all_agreements<S: Store>(store: &S) -> Result<(Vec<AgreementState>, Option<u64>), ApiError> {
    let items = all(
        "agreements",
        AGREEMENTS_HINT,
        |select| store.agreements(select),
        |a| a.id.to_string(),
    )?;
    let highest = items.iter().map(|a| a.index).max();
    Ok((items, highest))
}

/// Reads what a CSV export holds, with the highest log index in it.
type Gather<S, T> = fn(&S) -> Result<(T, Option<u64>), ApiError>;

/// Answers a CSV export cut at a checkpoint: one export is computed at
/// a time, and kept for the log size it was cut at ([`crate::heavy`]);
/// `day` is the day it is computed for.
async fn csv<S: Store, T: Send + 'static>(
    state: AppState<S>,
    name: &'static str,
    day: Option<Date>,
    gather: Gather<S, T>,
    render: impl FnOnce(T) -> String + Send + 'static,
) -> Result<Response, ApiError> {
    let size = blocking(&state.ledger, |ledger| Ok(ledger.store().size()?)).await?;
    let key = format!("{name} {day:?}");
    let ledger = state.ledger.clone();
    state
        .heavy
        .answer(key, size, move || async move {
            let cut = blocking(&ledger, move |ledger| cut(ledger, gather)).await?;
            let disposition = HeaderValue::try_from(format!("attachment; filename=\"{name}\""))
                .map_err(|e| ApiError::internal(format!("a header: {e}")))?;
            Ok((
                checkpoint_headers(&cut.checkpoint)?,
                [
                    (header::CONTENT_TYPE, CSV),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                render(cut.data),
            )
                .into_response())
        })
        .await
}

/// `GET /exports/agreements.csv?asOf=`: one row per agreement
/// ([`oretrace_ocds::agreements_csv`]).
pub(crate) async fn agreements_csv<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let day: Date = as_of(&pairs, &[])?;
    csv(
        state,
        "agreements.csv",
        Some(day),
        all_agreements::<S>,
        move |a| oretrace_ocds::agreements_csv(&a, day),
    )
    .await
}

/// `GET /exports/pledges.csv?asOf=`: one row per pledge of every
/// agreement's latest version ([`oretrace_ocds::pledges_csv`]).
pub(crate) async fn pledges_csv<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let day: Date = as_of(&pairs, &[])?;
    csv(
        state,
        "pledges.csv",
        Some(day),
        all_agreements::<S>,
        move |a| oretrace_ocds::pledges_csv(&a, day),
    )
    .await
}

/// `GET /exports/reports.csv`: one row per report of an unconfirmed
/// claim ([`oretrace_ocds::reports_csv`]). Nothing in it is computed for
/// a day, so it takes no `asOf`.
pub(crate) async fn reports_csv<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    if let Some((name, _)) = pairs.first() {
        let name = crate::error::echo(name);
        return Err(ApiError::InvalidRequest {
            rule: format!("unknown query parameter `{name}`: /exports/reports.csv takes none"),
            field: name,
        });
    }
    fn gather<S: Store>(store: &S) -> Result<(Vec<ReportState>, Option<u64>), ApiError> {
        let items = all(
            "reports",
            "read them a page at a time at /reports (filters narrow the list)",
            |select| store.reports(select),
            |r| r.id().to_string(),
        )?;
        let highest = items
            .iter()
            .flat_map(|r| r.versions().iter().copied())
            .max();
        Ok((items, highest))
    }
    csv(state, "reports.csv", None, gather::<S>, |r| {
        oretrace_ocds::reports_csv(&r)
    })
    .await
}
