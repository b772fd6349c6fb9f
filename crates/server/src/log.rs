//! The log as C2SP `tlog-tiles`: `GET /checkpoint`, `GET /tile/{path}`
//! (hash tiles and entry bundles) and the log's verifier key, so that any
//! tlog-tiles auditor (`oretrace verify`, tlog-scales) can check the live
//! server with public artefacts only.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use oretrace_ledger::Store;
use oretrace_tlog::tile::{TILE_HEIGHT, TILE_WIDTH, TileId};

use crate::{ApiError, AppState, blocking};

const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
/// Tiles never change once published (a partial tile has its own path).
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// The checkpoint moves with every batch.
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// `GET /checkpoint`: the signed checkpoint note.
pub(crate) async fn checkpoint<S: Store>(
    State(state): State<AppState<S>>,
) -> Result<Response, ApiError> {
    // With witnesses, the latest checkpoint a quorum cosigned (the log's
    // own until one is).
    let cosigned = state.witnessing.as_ref().and_then(|w| w.cosigned());
    let note = match cosigned {
        Some((_, note)) => note,
        None => blocking(&state.ledger, |ledger| Ok(ledger.checkpoint()?.1)).await?,
    };
    Ok((
        [
            (header::CONTENT_TYPE, TEXT),
            (header::CACHE_CONTROL, NO_CACHE),
        ],
        note,
    )
        .into_response())
}

/// Whether every leaf index a tile covers fits in a u64. Larger ones
/// cannot exist; refusing them here keeps the ledger's arithmetic in range.
fn addressable(tile: &TileId) -> bool {
    let shift = u32::from(tile.hash_level()) * u32::from(TILE_HEIGHT);
    let end = tile
        .index
        .checked_mul(TILE_WIDTH)
        .and_then(|start| start.checked_add(u64::from(tile.width)));
    matches!(end, Some(end) if shift < u64::BITS && end <= u64::MAX >> shift)
}

/// `GET /tile/{path}`: a hash tile or entry bundle the published
/// checkpoint covers.
pub(crate) async fn tile<S: Store>(
    State(state): State<AppState<S>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let path = format!("tile/{path}");
    let tile =
        TileId::parse_path(&path).map_err(|e| ApiError::NotFound(format!("no such tile: {e}")))?;
    if !addressable(&tile) {
        return Err(ApiError::NotFound(format!(
            "no such tile: {path} lies beyond any possible log"
        )));
    }
    let bytes = blocking(&state.ledger, move |ledger| Ok(ledger.tile(&tile)?)).await?;
    let bytes = bytes.ok_or_else(|| {
        ApiError::NotFound(format!("{path} is not covered by the published checkpoint"))
    })?;
    let octets = HeaderValue::from_static("application/octet-stream");
    Ok((
        [
            (header::CONTENT_TYPE, octets),
            (header::CACHE_CONTROL, IMMUTABLE),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /vkey`: the log's verifier key, one line.
pub(crate) async fn vkey<S: Store>(State(state): State<AppState<S>>) -> Response {
    (
        [(header::CONTENT_TYPE, TEXT)],
        format!("{}\n", state.ledger.vkey()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use oretrace_tlog::tile::TileKind;

    #[test]
    fn tiles_beyond_u64_are_not_addressable() {
        let tile = |kind, index, width| TileId { kind, index, width };
        assert!(addressable(&tile(TileKind::Entries, 0, 256)));
        assert!(addressable(&tile(TileKind::Hashes(7), 0, 255)));
        assert!(!addressable(&tile(TileKind::Hashes(7), 0, 256)));
        assert!(!addressable(&tile(TileKind::Hashes(8), 0, 1)));
        assert!(!addressable(&tile(
            TileKind::Entries,
            u64::MAX / 256 + 1,
            1
        )));
        assert!(addressable(&tile(
            TileKind::Entries,
            u64::MAX / 256 - 1,
            256
        )));
    }
}
