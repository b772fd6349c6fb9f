//! `GET /sites/{id}/custody-model`: a site's chain-of-custody declarations
//! (ISO 22095), each judged over the period asked: the transformations,
//! the claims on their outputs, the findings and the account per element
//! with the log indices it rests on (`oretrace_ledger::custody`).

use axum::extract::{Path, Query, State};
use axum::response::Json;
use oretrace_domain::values::Timestamp;
use oretrace_ledger::Store;
use oretrace_ledger::custody::CustodyAnswer;
use oretrace_ledger::provenance::ProvenanceError;

use crate::{ApiError, AppState, blocking};

/// `from` and `to` (each optional, UTC to the second), refusing anything
/// else.
fn period(pairs: &[(String, String)]) -> Result<(Option<Timestamp>, Option<Timestamp>), ApiError> {
    let (mut from, mut to) = (None, None);
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        if seen.contains(&name.as_str()) {
            return Err(ApiError::InvalidRequest {
                field: name.clone(),
                rule: "given more than once: give each parameter once".into(),
            });
        }
        seen.push(name);
        let time = || {
            Timestamp::parse(value).map_err(|e| ApiError::InvalidRequest {
                field: name.clone(),
                rule: e.to_string().trim_start_matches(": ").to_owned(),
            })
        };
        match name.as_str() {
            "from" => from = Some(time()?),
            "to" => to = Some(time()?),
            other => {
                let other = crate::error::echo(other);
                return Err(ApiError::InvalidRequest {
                    rule: format!(
                        "unknown query parameter `{other}`: a site's chain-of-custody answer takes from and to"
                    ),
                    field: other,
                });
            }
        }
    }
    // A period whose end is not after its start is empty: no declaration
    // overlaps it (the answer says so), as a listing filter would.
    Ok((from, to))
}

/// `GET /sites/{id}/custody-model`. 413 past the bounds, naming the
/// bound; nothing partial.
pub(crate) async fn custody_model<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<CustodyAnswer>, ApiError> {
    let (from, to) = period(&pairs)?;
    let limits = state.config.provenance;
    let answer = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| {
            oretrace_ledger::custody::custody_answer(ledger.store(), &id, from, to, limits).map_err(
                |e| match e {
                    ProvenanceError::Store(e) => ApiError::from(e),
                    ProvenanceError::TooLarge { detail, limit } => {
                        ApiError::AnswerTooLarge { detail, limit }
                    }
                    ProvenanceError::Graph { .. } => ApiError::internal(e.to_string()),
                },
            )
        }
    })
    .await?;
    answer
        .map(Json)
        .ok_or_else(|| crate::registry::missing("site", &id))
}
