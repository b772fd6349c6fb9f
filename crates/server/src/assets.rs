//! The portal's static files, served by the server itself (no CDN, no
//! external font: the pages work offline): `GET /assets/{name}` from a
//! table of files built into the binary.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// (name, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[(
    "portal.css",
    "text/css; charset=utf-8",
    include_bytes!("../assets/portal.css"),
)];

/// `GET /assets/{name}`.
pub(crate) async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (_, media, bytes) = ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| ApiError::NotFound(format!("no asset {:?}", crate::error::echo(&name))))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
