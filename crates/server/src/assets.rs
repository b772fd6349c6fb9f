//! `GET /assets/{name}`: the portal's static files (scripts, map data),
//! compiled into the binary from `crates/server/assets/`, so the portal
//! works offline and nothing is read from disk or another host at run
//! time. The names are a fixed table ([`ASSETS`]): a name is looked up,
//! never joined to a path, so no request can reach outside it.
//! `docs/design/portal-browser.md` lists the files and their licences.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// How long a browser may keep an asset without asking again. The names
/// carry no version, so this stays short enough for a new release to be
/// picked up within the hour.
const CACHE_CONTROL: HeaderValue = HeaderValue::from_static("public, max-age=3600");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const JSON: &str = "application/json";
const CSS: &str = "text/css; charset=utf-8";

/// One served file.
#[derive(Debug)]
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// Every asset the server serves, by name.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "portal.css",
        content_type: CSS,
        bytes: include_bytes!("../assets/portal.css"),
    },
    Asset {
        name: "portal.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../assets/portal.js"),
    },
    Asset {
        name: "verify.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../assets/verify.js"),
    },
    Asset {
        name: "world-110m.json",
        content_type: JSON,
        bytes: include_bytes!("../assets/world-110m.json"),
    },
];

/// The asset called `name`, if the table has it.
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// `GET /assets/{name}`.
pub(crate) async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let asset = find(&name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no asset {:?}; the assets are {}",
            crate::error::echo(&name),
            ASSETS.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
        ))
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::CACHE_CONTROL, CACHE_CONTROL),
            (header::X_CONTENT_TYPE_OPTIONS, NOSNIFF),
        ],
        asset.bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_plain_file_names() {
        let mut names: Vec<&str> = ASSETS.iter().map(|a| a.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ASSETS.len());
        for name in names {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                    && !name.starts_with('.'),
                "{name}"
            );
        }
    }

    #[test]
    fn only_names_in_the_table_are_found() {
        assert!(find("verify.js").is_some());
        for name in ["", "../Cargo.toml", "verify.js/", "VERIFY.JS", "assets.rs"] {
            assert!(find(name).is_none(), "{name}");
        }
    }

    #[test]
    fn the_map_data_is_json_with_countries() {
        let asset = find("world-110m.json").unwrap();
        let value: serde_json::Value = serde_json::from_slice(asset.bytes).unwrap();
        assert!(value["countries"].as_array().unwrap().len() > 150);
    }
}
