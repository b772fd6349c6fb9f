//! What the EPCIS 2.0 REST binding lets a client discover: `OPTIONS` on
//! every resource (the methods it takes and the binding's headers),
//! `GET /` (the top-level resources), `/eventTypes` and
//! `/eventTypes/{type}`, the five listings of values in use (`/epcs`,
//! `/bizSteps`, `/bizLocations`, `/readPoints`, `/dispositions`) and
//! their `/{x}/{value}` resources, and `DELETE /nextPageToken/{token}`.
//!
//! The listings are read from the query index (`event_terms`) by
//! [`Store::event_term_values`], a page costing about `perPage` index
//! seeks however many events carry each value.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use oretrace_epcis::epc_format::EpcFormat;
use oretrace_epcis::query::EventQuery;
use oretrace_ledger::Store;
use serde_json::{Value, json};

use super::{CBV_VERSION, EPCIS_VERSION, GS1_CONTEXT, with_versions};
use crate::{ApiError, AppState, blocking};

/// The extension namespace of oretrace's own event members, as
/// `GS1-Extensions` announces it.
pub(crate) const EXTENSIONS: &str = "oretrace=https://oretrace.org/epcis/";

/// The top-level resources, as `GET /` lists them.
pub(crate) const TOP_LEVEL: [&str; 9] = [
    "events",
    "eventTypes",
    "epcs",
    "bizSteps",
    "bizLocations",
    "readPoints",
    "dispositions",
    "capture",
    "queries",
];

/// The five standard event types.
pub(crate) const EVENT_TYPES: [&str; 5] = [
    "AggregationEvent",
    "AssociationEvent",
    "ObjectEvent",
    "TransactionEvent",
    "TransformationEvent",
];

/// The binding's headers that describe the repository, on every
/// `OPTIONS` answer.
pub(crate) fn discovery_headers(response: &mut Response) {
    let h = response.headers_mut();
    for (name, value) in [
        ("GS1-EPCIS-Version", EPCIS_VERSION),
        ("GS1-EPCIS-Min", EPCIS_VERSION),
        ("GS1-EPCIS-Max", EPCIS_VERSION),
        ("GS1-CBV-Version", CBV_VERSION),
        ("GS1-CBV-Min", CBV_VERSION),
        ("GS1-CBV-Max", CBV_VERSION),
        // Requests may name EPCs in any form; answers are written as the
        // request's GS1-EPC-Format asks.
        ("GS1-EPC-Format", "No_Preference"),
        ("GS1-CBV-XML-Format", "Never_Translates"),
        ("GS1-Extensions", EXTENSIONS),
        ("GS1-Vendor-Version", env!("CARGO_PKG_VERSION")),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// `OPTIONS` on a binding resource: 204, `Allow` (the methods the router
/// has for the path) and the discovery headers. No token is needed.
pub(crate) fn options(allow: HeaderValue) -> impl Fn() -> std::future::Ready<Response> + Clone {
    move || {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response.headers_mut().insert(header::ALLOW, allow.clone());
        discovery_headers(&mut response);
        std::future::ready(response)
    }
}

/// A JSON-LD `Collection` of `member`.
fn collection(member: Vec<Value>) -> Value {
    json!({"@context": [GS1_CONTEXT], "type": "Collection", "member": member})
}

/// `GET /` (JSON): the top-level resources. Takes `lang` only, as the
/// dashboard it shares the path with.
pub(crate) async fn top_level(
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    crate::portal::data::only(&pairs, &[], "/")?;
    Ok(with_versions(
        Json(collection(TOP_LEVEL.iter().map(|r| json!(r)).collect())).into_response(),
    ))
}

/// `GET /eventTypes`: the five fit one page, whatever `perPage` says
/// (which must still be a page size).
pub(crate) async fn event_types(
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    crate::registry::binding_paging("eventTypes", &pairs)?;
    Ok(with_versions(
        Json(collection(EVENT_TYPES.iter().map(|t| json!(t)).collect())).into_response(),
    ))
}

/// The sub-resources of a resource that exists: its events.
fn events_resource() -> Response {
    with_versions(Json(collection(vec![json!("events")])).into_response())
}

/// `GET /eventTypes/{type}`: one of the five standard types.
pub(crate) async fn event_type(
    Path(kind): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    crate::registry::binding_paging("eventTypes", &pairs)?;
    if EVENT_TYPES.contains(&kind.as_str()) {
        Ok(events_resource())
    } else {
        Err(ApiError::NotFound(format!(
            "no event type {}: this repository holds {}",
            crate::error::echo(&kind),
            EVENT_TYPES.join(", ")
        )))
    }
}

/// `DELETE /nextPageToken/{token}`: page tokens are stateless (a cursor
/// and a fingerprint of the query), so there is nothing to release.
pub(crate) async fn delete_next_page_token(Path(_token): Path<String>) -> ApiError {
    ApiError::NotImplemented(
        "page tokens are stateless here (a cursor and the query's fingerprint): there is \
         nothing to invalidate; a token is good until its query's events change"
            .into(),
    )
}

/// One of the five listings: the index term prefix its values sit under
/// and how a value is written in the listing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Listing {
    /// The resource, as in `/{name}`.
    name: &'static str,
    /// The index terms' prefix (`bizStep=`).
    prefix: &'static str,
    /// The query parameter whose value names one resource.
    parameter: &'static str,
    /// A CBV namespace the listing writes values of as bare terms
    /// (`https://ref.gs1.org/cbv/BizStep-shipping` as `shipping`).
    cbv: Option<&'static str>,
}

pub(crate) const EPCS: Listing = Listing {
    name: "epcs",
    // `epc=` then `epcClass=` (`=` sorts before `C`).
    prefix: "epc",
    parameter: "MATCH_anyEPC",
    cbv: None,
};
pub(crate) const BIZ_STEPS: Listing = Listing {
    name: "bizSteps",
    prefix: "bizStep=",
    parameter: "EQ_bizStep",
    cbv: Some("https://ref.gs1.org/cbv/BizStep-"),
};
pub(crate) const BIZ_LOCATIONS: Listing = Listing {
    name: "bizLocations",
    prefix: "bizLocation=",
    parameter: "EQ_bizLocation",
    cbv: None,
};
pub(crate) const READ_POINTS: Listing = Listing {
    name: "readPoints",
    prefix: "readPoint=",
    parameter: "EQ_readPoint",
    cbv: None,
};
pub(crate) const DISPOSITIONS: Listing = Listing {
    name: "dispositions",
    prefix: "disposition=",
    parameter: "EQ_disposition",
    cbv: Some("https://ref.gs1.org/cbv/Disp-"),
};

impl Listing {
    /// The value a term names, as the listing writes it (an EPC as the
    /// index keeps it: in canonical Digital Link form where it has one).
    fn value(&self, term: &str) -> Option<String> {
        let (_, value) = term.split_once('=')?;
        Some(
            self.cbv
                .and_then(|ns| value.strip_prefix(ns))
                .unwrap_or(value)
                .to_owned(),
        )
    }
}

/// The `GS1-EPC-Format` a request asks for: absent, the binding's
/// default (`Always_GS1_Digital_Link`); a value not among the four, 406.
pub(crate) fn epc_format(headers: &HeaderMap) -> Result<EpcFormat, ApiError> {
    match super::once(headers, "GS1-EPC-Format")? {
        None => Ok(EpcFormat::AlwaysDigitalLink),
        Some(v) => EpcFormat::parse(v).ok_or_else(|| {
            ApiError::NotAcceptable(
                "GS1-EPC-Format: one of No_Preference, Always_GS1_Digital_Link, \
                     Always_EPC_URN, Never_Translates"
                    .into(),
            )
        }),
    }
}

/// `GET /{listing}`: the values events carry, in the index's byte order,
/// a page at a time (`perPage`, `nextPageToken`, `Link`).
pub(crate) async fn list<S: Store>(
    state: AppState<S>,
    listing: Listing,
    headers: HeaderMap,
    pairs: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    // The header must still be one of the binding's values (406).
    epc_format(&headers)?;
    let paging = crate::registry::binding_paging(listing.name, &pairs)?;
    let per_page = paging.per_page;
    let after = paging.after.clone();
    let mut terms = blocking(&state.ledger, move |ledger| {
        Ok(ledger
            .store()
            .event_term_values(listing.prefix, after.as_deref(), per_page + 1)?)
    })
    .await?;
    let next = if terms.len() > per_page {
        terms.truncate(per_page);
        terms
            .last()
            .map(|last| crate::registry::page_token(listing.name, last))
    } else {
        None
    };
    let mut members: Vec<String> = Vec::with_capacity(terms.len());
    for term in &terms {
        if let Some(value) = listing.value(term)
            && !members.contains(&value)
        {
            members.push(value);
        }
    }
    let mut response =
        Json(collection(members.into_iter().map(Value::String).collect())).into_response();
    // The index keeps EPCs in canonical Digital Link form, so that is how
    // the listing writes them whatever was captured, unless a URN was asked
    // for (which it cannot write: no company-prefix length).
    if listing.name == EPCS.name {
        response.headers_mut().insert(
            "GS1-EPC-Format",
            HeaderValue::from_static(EpcFormat::AlwaysDigitalLink.as_str()),
        );
    }
    if let Some(token) = next {
        response.headers_mut().insert(
            header::LINK,
            crate::registry::next_link(listing.name, per_page, &token),
        );
    }
    Ok(with_versions(response))
}

/// `GET /{listing}/{value}`: the resource exists while an event carries
/// the value; a value that is no identifier or term of its kind is 400.
pub(crate) async fn resource<S: Store>(
    state: AppState<S>,
    listing: Listing,
    value: String,
) -> Result<Response, ApiError> {
    let parameters: &[&str] = if listing.name == EPCS.name {
        &["MATCH_anyEPC", "MATCH_anyEPCClass"]
    } else {
        &[listing.parameter]
    };
    let mut wanted = Vec::new();
    for parameter in parameters {
        let query = EventQuery::from_pairs(&[((*parameter).to_owned(), value.clone())])
            .map_err(super::query::query_error)?;
        wanted.extend(query.candidate_terms().unwrap_or_default());
    }
    let found = blocking(&state.ledger, move |ledger| {
        for term in wanted {
            let first = ledger.store().event_term_values(&term, None, 1)?;
            if first.first() == Some(&term) {
                return Ok(true);
            }
        }
        Ok(false)
    })
    .await?;
    if found {
        Ok(events_resource())
    } else {
        Err(ApiError::NotFound(format!(
            "no event carries {} {}",
            listing.name,
            crate::error::echo(&value)
        )))
    }
}

macro_rules! listing_handlers {
    ($list:ident, $one:ident, $listing:expr) => {
        pub(crate) async fn $list<S: Store>(
            State(state): State<AppState<S>>,
            headers: HeaderMap,
            Query(pairs): Query<Vec<(String, String)>>,
        ) -> Result<Response, ApiError> {
            list(state, $listing, headers, pairs).await
        }

        pub(crate) async fn $one<S: Store>(
            State(state): State<AppState<S>>,
            Path(value): Path<String>,
            Query(pairs): Query<Vec<(String, String)>>,
        ) -> Result<Response, ApiError> {
            // One page holds the one sub-resource; the paging
            // parameters must still be well formed.
            crate::registry::binding_paging($listing.name, &pairs)?;
            resource(state, $listing, value).await
        }
    };
}

listing_handlers!(epcs, epc, EPCS);
listing_handlers!(biz_steps, biz_step, BIZ_STEPS);
listing_handlers!(biz_locations, biz_location, BIZ_LOCATIONS);
listing_handlers!(read_points, read_point, READ_POINTS);
listing_handlers!(dispositions, disposition, DISPOSITIONS);
