//! `GET /lots/{id}/compliance`: the verdicts of the loaded rule packs on
//! one lot, each naming the records it rests on
//! (`oretrace_ledger::compliance`); `GET /rule-packs` lists the packs and
//! `GET /rule-packs/{id}` serves a pack file's exact bytes, so anyone can
//! check its SHA-256 and re-run a verdict with the same pack.

use std::sync::OnceLock;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Json, Response};
use oretrace_ledger::Store;
use oretrace_ledger::compliance::{ComplianceAnswer, ComplianceError, MAX_VIA};
use oretrace_ledger::provenance::ProvenanceError;
use oretrace_provenance::rules::RulePack;
use serde::Serialize;

use crate::{ApiError, AppState, blocking};

/// Most sites one what-if route names, as the OpenAPI document states it.
pub(crate) const MAX_VIA_SITES: usize = MAX_VIA;

/// The packs shipped in the repository's `rules/`, built in: what a
/// server loads unless told `--rules DIR`.
pub fn built_in_packs() -> &'static [RulePack] {
    static PACKS: OnceLock<Vec<RulePack>> = OnceLock::new();
    // The shipped packs parse: a test of the provenance crate checks it.
    PACKS.get_or_init(|| oretrace_provenance::rules::built_in().unwrap_or_default())
}

fn invalid(field: &str, rule: impl Into<String>) -> ApiError {
    ApiError::InvalidRequest {
        field: field.to_owned(),
        rule: rule.into(),
    }
}

/// `pack` (once) and `via` (up to 16 times, each site once).
fn parameters(pairs: &[(String, String)]) -> Result<(Option<String>, Vec<String>), ApiError> {
    let mut pack = None;
    let mut via: Vec<String> = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "pack" => {
                if pack.is_some() {
                    return Err(invalid(
                        "pack",
                        "given more than once: give one pack, or none for all",
                    ));
                }
                pack = Some(value.clone());
            }
            "via" => {
                if value.is_empty() {
                    return Err(invalid("via", "a site's id, not empty"));
                }
                if via.len() == MAX_VIA {
                    return Err(invalid(
                        "via",
                        format!("a route names at most {MAX_VIA} sites"),
                    ));
                }
                if via.contains(value) {
                    return Err(invalid(
                        "via",
                        format!("site {} is named twice", crate::error::echo(value)),
                    ));
                }
                via.push(value.clone());
            }
            other => {
                let other = crate::error::echo(other);
                return Err(ApiError::InvalidRequest {
                    rule: format!("unknown query parameter `{other}`: verdicts take pack and via"),
                    field: other,
                });
            }
        }
    }
    Ok((pack, via))
}

/// `GET /lots/{id}/compliance`: every loaded pack's verdict on the lot
/// (or `pack`'s), with `via` the verdicts for a route through those sites
/// instead of the transit sites passed. 404 for an unknown lot, pack or
/// site; 413 past the provenance bounds, naming the bound.
pub(crate) async fn compliance<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ComplianceAnswer>, ApiError> {
    let (pack, via) = parameters(&pairs)?;
    let limits = state.config.provenance;
    let packs = state.config.rule_packs;
    let answer = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| {
            oretrace_ledger::compliance::compliance(
                ledger.store(),
                &id,
                limits,
                packs,
                pack.as_deref(),
                &via,
            )
            .map_err(|e| match e {
                ComplianceError::Provenance(ProvenanceError::Store(e))
                | ComplianceError::Store(e) => ApiError::from(e),
                ComplianceError::Provenance(ProvenanceError::TooLarge { detail, limit }) => {
                    ApiError::AnswerTooLarge { detail, limit }
                }
                ComplianceError::UnknownSite(site) => ApiError::NotFound(format!(
                    "no site {:?} is registered",
                    crate::error::echo(&site)
                )),
                ComplianceError::UnknownPack(pack) => ApiError::NotFound(format!(
                    "no rule pack {:?} is loaded",
                    crate::error::echo(&pack)
                )),
                ComplianceError::TooManyVia => invalid("via", e.to_string()),
                ComplianceError::Provenance(ProvenanceError::Graph { .. })
                | ComplianceError::Damaged { .. } => ApiError::internal(e.to_string()),
            })
        }
    })
    .await?;
    answer.map(Json).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no lot {:?} is registered",
            crate::error::echo(&id)
        ))
    })
}

#[derive(Serialize)]
struct PackSummary {
    pack: String,
    title: String,
    version: String,
    source: String,
    sha256: String,
    rules: usize,
}

/// `GET /rule-packs`: the loaded packs, each with the SHA-256 of its file.
pub(crate) async fn rule_packs<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    crate::registry::no_parameters(&pairs, "the list of rule packs")?;
    let packs: Vec<PackSummary> = state
        .config
        .rule_packs
        .iter()
        .map(|p| PackSummary {
            pack: p.id.clone(),
            title: p.title.clone(),
            version: p.version.clone(),
            source: p.source.clone(),
            sha256: p.sha256_hex(),
            rules: p.rules.len(),
        })
        .collect();
    Ok(Json(serde_json::json!({ "packs": packs })).into_response())
}

/// `GET /rule-packs/{id}`: the pack file's bytes, as loaded.
pub(crate) async fn rule_pack<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    crate::registry::no_parameters(&pairs, "a rule pack")?;
    let pack = state
        .config
        .rule_packs
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no rule pack {:?} is loaded",
                crate::error::echo(&id)
            ))
        })?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        pack.text.clone(),
    )
        .into_response())
}
