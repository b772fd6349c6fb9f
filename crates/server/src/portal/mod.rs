//! The public portal (`docs/design/portal.md`): the same URLs as the JSON
//! API answer server-rendered HTML to a request that prefers it
//! ([`oretrace_portal::negotiate::wants_html`]), in English or Urdu.
//!
//! A page is built from the public JSON answers of the handlers it shows
//! (called in process), so it shows nothing the JSON API does not.
//! New JSON resources for the portal's scripts: `/flows`, `/map`,
//! `/search`, `/downloads` ([`data`]).

pub(crate) mod data;
pub(crate) mod pages;

use std::future::Future;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oretrace_ledger::Store;
use oretrace_portal::{Head, Lang, Messages};
use serde_json::Value;

use crate::{ApiError, AppState};

/// A page's future.
pub(crate) type PageFuture = Pin<Box<dyn Future<Output = Response> + Send>>;
/// A page handler: given the state and the request, the HTML answer.
pub(crate) type PageFn<S> = fn(AppState<S>, Request) -> PageFuture;

/// The cookie that keeps the language chosen with `?lang=`.
const COOKIE: &str = "lang";

/// Answers `request` with the page when it prefers HTML, else with the
/// JSON handler exactly as before; both say `Vary`.
pub(crate) async fn negotiate<S: Store, H: Handler<T, AppState<S>>, T: 'static>(
    state: AppState<S>,
    request: Request,
    json: H,
    html: PageFn<S>,
) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    if oretrace_portal::negotiate::wants_html(accept) {
        html(state, request).await
    } else {
        let mut response = json.call(request, state).await;
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept"));
        response
    }
}

/// `GET /` for a JSON client: 404, as before the portal (nothing is
/// served as JSON at `/`), with a detail that says where the pages are.
/// What a page knows of its request: the language and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) lang: Lang,
    /// `?lang=` was given: the answer sets the cookie.
    pub(crate) set_cookie: bool,
    /// Path and query without `lang`.
    pub(crate) here: String,
    /// The query pairs without `lang`.
    pub(crate) pairs: Vec<(String, String)>,
}

impl Ctx {
    pub(crate) fn of(parts: &Parts) -> Ctx {
        let all = serde_urlencoded_pairs(&parts.uri);
        let asked = all
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(v));
        let pairs: Vec<(String, String)> = all.into_iter().filter(|(k, _)| k != "lang").collect();
        let cookie = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == COOKIE)
            .and_then(|(_, v)| Lang::parse(v));
        let accepted = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language);
        let lang = asked.or(cookie).or(accepted).unwrap_or(Lang::En);
        // One leading slash: `//host/…` would make the switch link leave
        // the site.
        let mut here = format!("/{}", parts.uri.path().trim_start_matches('/'));
        if !pairs.is_empty() {
            here.push('?');
            here.push_str(&encode_pairs(&pairs));
        }
        Ctx {
            lang,
            set_cookie: asked.is_some(),
            here,
            pairs,
        }
    }

    pub(crate) fn m(&self) -> &'static Messages {
        Messages::of(self.lang)
    }

    pub(crate) fn t(&self, key: &'static str) -> &'static str {
        self.m().t(key)
    }

    pub(crate) fn head(&self, title: impl Into<String>) -> Head {
        Head {
            lang: self.lang,
            title: title.into(),
            here: self.here.clone(),
        }
    }

    pub(crate) fn num(&self, text: &str) -> String {
        self.m().num(text)
    }

    pub(crate) fn int(&self, n: u64) -> String {
        oretrace_portal::fmt::integer(self.lang, n)
    }

    pub(crate) fn date(&self, text: &str) -> String {
        self.m().date(text)
    }

    /// The answer: the rendered page with its headers.
    pub(crate) fn html(
        &self,
        status: StatusCode,
        page: Result<String, oretrace_portal::RenderError>,
    ) -> Response {
        let body = match page {
            Ok(body) => body,
            Err(e) => {
                return ApiError::internal(format!("a page did not render: {e}")).into_response();
            }
        };
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Accept, Accept-Language, Cookie"),
        );
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
                 form-action 'self'; frame-ancestors 'none'",
            ),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(self.lang.code()),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if self.set_cookie {
            let cookie = format!(
                "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                self.lang.code()
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                headers.insert(header::SET_COOKIE, v);
            }
        }
        response
    }

    /// The error page for `error`: its status, and its problem detail as
    /// text (404 says the id is unknown).
    pub(crate) async fn error(&self, error: ApiError) -> Response {
        let problem = error.into_response();
        let status = problem.status();
        let body = axum::body::to_bytes(problem.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        let detail = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let not_found = status == StatusCode::NOT_FOUND;
        let title = if not_found {
            self.t("error.not_found").to_owned()
        } else {
            format!("{} {}", self.t("error.heading"), status.as_u16())
        };
        let page = oretrace_portal::ErrorPage {
            head: self.head(title),
            status: status.as_u16(),
            not_found,
            detail,
        };
        self.html(status, oretrace_portal::render(&page))
    }
}

/// Query pairs, percent-decoded (`+` as space); an undecodable query
/// reads as none.
fn serde_urlencoded_pairs(uri: &axum::http::Uri) -> Vec<(String, String)> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

/// Percent-encodes query pairs (everything but unreserved characters).
pub(crate) fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes a path segment or query value.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The JSON body of a handler's answer, or its error.
pub(crate) async fn json_of<R: IntoResponse>(
    answer: Result<R, ApiError>,
) -> Result<Value, ApiError> {
    let response = answer?.into_response();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|e| ApiError::internal(format!("an answer's body: {e}")))?;
    if !status.is_success() {
        let detail = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_owned))
            .unwrap_or_default();
        return Err(match status {
            StatusCode::NOT_FOUND => ApiError::NotFound(detail),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::AnswerTooLarge { detail, limit: 0 },
            other => ApiError::Status(other),
        });
    }
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::internal(format!("an answer is not JSON: {e}")))
}

/// `value[key]` as text: strings as they are, numbers and booleans
/// written, anything else empty.
pub(crate) fn text(value: &Value, key: &str) -> String {
    match &value[key] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Whether a record's JSON says its figures are illustrative.
pub(crate) fn illustrative(value: &Value) -> bool {
    value["figures"] == "illustrative" || value["record"]["figures"] == "illustrative"
}

/// Runs the page builder `build` with the request's context, answering
/// its error as an error page.
pub(crate) fn page<S, F, Fut>(state: AppState<S>, request: Request, build: F) -> PageFuture
where
    S: Store,
    F: FnOnce(AppState<S>, Ctx, Parts) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response, ApiError>> + Send + 'static,
{
    Box::pin(async move {
        let (parts, _) = request.into_parts();
        let ctx = Ctx::of(&parts);
        match build(state, ctx.clone(), parts).await {
            Ok(response) => response,
            Err(error) => ctx.error(error).await,
        }
    })
}

/// The `{id}` of a page's path.
pub(crate) async fn path_id<S: Store>(
    parts: &mut Parts,
    state: &AppState<S>,
) -> Result<String, ApiError> {
    use axum::extract::FromRequestParts as _;
    axum::extract::Path::<String>::from_request_parts(parts, state)
        .await
        .map(|p| p.0)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}
