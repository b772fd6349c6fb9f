//! The API's one error type. Every refusal of the ledger, every parse
//! error and every failure of the HTTP layer becomes an RFC 7807
//! `application/problem+json` body, mapped to its status in one `match`
//! ([`ApiError::problem`]). Internal details are logged, never sent.

use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oretrace_ledger::StoreError;
use oretrace_ledger::rules::Refusal;
use serde::Serialize;

/// Where problem types live; a problem's `type` is this plus its slug.
/// On the same domain as the EPCIS extension namespace
/// (`https://oretrace.org/epcis/`), which logged events carry.
pub const PROBLEM_BASE: &str = "https://oretrace.org/problems/";

/// A problem type: [`PROBLEM_BASE`] and the slug.
pub fn problem_type(slug: &str) -> String {
    format!("{PROBLEM_BASE}{slug}")
}

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before retrying an overloaded server.
const RETRY_AFTER_SECONDS: &str = "1";

/// Most characters of one client value a problem body repeats.
pub const ECHO_CHARS: usize = 100;

/// Most characters of a problem's `detail`, `field` or `rule`, whatever
/// they hold: the backstop for a value repeated without [`echo`].
pub const MAX_MEMBER_CHARS: usize = 2_000;

/// A client value as a problem body repeats it: at most [`ECHO_CHARS`]
/// characters, cut on a character boundary, with "…" when cut. Every place
/// that puts client input into a problem's `detail`, `field` or `rule`
/// goes through this, so that an answer is never many times its request.
pub fn echo(text: &str) -> String {
    bounded(text, ECHO_CHARS)
}

/// `text` cut to at most `max` characters, "…" appended when cut.
fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The ledger refused the record (or failed inside).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The body is not JSON at all.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A path parameter is not in the form the route expects.
    #[error("{0}")]
    BadRequest(String),
    /// An EPCIS query parameter that is unknown, or whose value is not
    /// one the standard allows (400, the binding's
    /// `QueryParameterException`).
    #[error("{0}")]
    QueryParameter(String),
    /// A named query's definition that does not validate against the
    /// EPCIS query schema (400, `QueryValidationException`).
    #[error("the query does not validate against the EPCIS 2.0 query schema ({} violations)", .0.len())]
    QueryViolations(Vec<Violation>),
    /// No such resource, or no such route.
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is over the configured limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// `POST /records` with a content type it does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The request did not complete within the server's time limit.
    #[error("the request timed out")]
    Timeout,
    /// Any other error status produced below the handlers.
    #[error("{0}")]
    Status(StatusCode),
    /// A requested EPCIS/CBV version this server does not speak (406).
    #[error("{0}")]
    NotAcceptable(String),
    /// An EPCIS document that fails the official schema: every violation
    /// with its JSON pointer (400).
    #[error("the document does not validate against the EPCIS 2.0 schema ({} violations)", .0.len())]
    SchemaViolations(Vec<Violation>),
    /// A capture with more events than the capture limit (413).
    #[error("the document holds {count} events, at most {limit} may be captured at once")]
    TooManyEvents { count: usize, limit: usize },
    /// More events match than the query's `maxEventCount` (413, the EPCIS
    /// QueryTooLargeException).
    #[error("more than {limit} events match the query (maxEventCount)")]
    QueryTooLarge { limit: u64 },
    /// A `maxEventCount` query whose answer needs more candidates scanned
    /// than one request may (413, the EPCIS QueryTooComplexException).
    #[error(
        "the query needs more than {budget} candidate events examined; narrow it (an EPC, a location, a time range)"
    )]
    QueryTooComplex { budget: usize },
    /// A subscription request this repository refuses: a bad or unknown
    /// member, a destination it will not call, a quota reached (400, the
    /// binding's `SubscriptionControlsException`); nothing is stored.
    #[error("{0}")]
    SubscriptionControls(String),
    /// No subscription of the caller's by that id (404,
    /// `NoSuchSubscriptionException`).
    #[error("{0}")]
    NoSuchSubscription(String),
    /// What the binding defines and this repository does not do (501).
    #[error("{0}")]
    NotImplemented(String),
    /// The named resource exists already (409).
    #[error("{0}")]
    Conflict(String),
    /// Missing or bad credentials for the EPCIS interface (401).
    #[error("{0}")]
    Unauthorized(String),
    /// A request body (not a record) whose JSON has the wrong shape: the
    /// field and the rule (400).
    #[error("{field}: {rule}")]
    InvalidRequest { field: String, rule: String },
    /// The party holds as many of something as it may (429); nothing of
    /// anyone else's is dropped to make room.
    #[error("{what}: at most {limit} per party; {hint}")]
    QuotaExceeded {
        what: &'static str,
        limit: usize,
        hint: &'static str,
    },
    /// An answer computed over more of the registry than one request
    /// reads (413, the limit named); nothing partial is answered.
    #[error("{detail}")]
    AnswerTooLarge { detail: String, limit: usize },
    /// The client has used its budget of expensive work (429, with
    /// `Retry-After`).
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    /// The request body did not arrive within its deadline (408).
    #[error(
        "the request body did not arrive within {millis} ms of the capture being admitted; send it \
         without pauses"
    )]
    BodyTimeout { millis: u64 },
    /// The request target is longer than the server reads (414).
    #[error("the request target is {length} bytes; at most {limit} are read")]
    UriTooLong { length: usize, limit: usize },
    /// An export would hold more than one answer may (413): `what` names
    /// what is counted and how to get the data another way.
    #[error("{what}: more than {limit}; {hint}")]
    ExportTooLarge {
        what: String,
        limit: usize,
        hint: &'static str,
    },
}

/// One schema violation: where (a JSON pointer into the document) and what.
pub use oretrace_epcis_schema::Violation;

impl From<oretrace_domain::Error> for ApiError {
    fn from(e: oretrace_domain::Error) -> Self {
        ApiError::Refused(Refusal::Invalid(e))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Refused(Refusal::from(e))
    }
}

impl ApiError {
    /// A failure inside the server; `detail` is logged, not sent.
    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError::Refused(Refusal::Internal(detail.into()))
    }

    /// A request body that could not be read: too large (413) or broken (400).
    pub fn from_body_rejection(rejection: BytesRejection, limit: usize) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    }

    /// A request body (a challenge, a token request, a named query) that
    /// does not parse: syntax errors are malformed JSON, shape errors an
    /// invalid request naming the field.
    pub fn from_request_json(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => {
                let text = e.to_string();
                // serde names the field in backquotes: "unknown field `x`".
                let field = text
                    .split('`')
                    .nth(1)
                    .filter(|_| text.contains("field"))
                    .unwrap_or("body")
                    .to_owned();
                ApiError::InvalidRequest { field, rule: text }
            }
            _ => ApiError::MalformedJson(e.to_string()),
        }
    }

    /// A JSON body that does not parse: syntax errors are malformed JSON,
    /// shape errors (unknown or missing fields, wrong types) are an invalid
    /// record whose detail names the field.
    pub fn from_json(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => {
                oretrace_domain::Error::invalid("record", e.to_string()).into()
            }
            _ => ApiError::MalformedJson(e.to_string()),
        }
    }

    /// The problem document for this error: the one place where errors
    /// meet statuses. Its `detail`, `field` and `rule` hold at most
    /// [`MAX_MEMBER_CHARS`] characters each.
    pub fn problem(&self) -> Problem {
        let mut problem = self.unbounded_problem();
        problem.detail = bounded(&problem.detail, MAX_MEMBER_CHARS);
        for member in [&mut problem.field, &mut problem.rule]
            .into_iter()
            .flatten()
        {
            *member = bounded(member, MAX_MEMBER_CHARS);
        }
        problem
    }

    fn unbounded_problem(&self) -> Problem {
        let p = Problem::new;
        match self {
            ApiError::Refused(Refusal::Invalid(e)) => {
                let (field, rule) = domain_field_rule(e);
                Problem {
                    field,
                    rule,
                    ..p(
                        StatusCode::BAD_REQUEST,
                        "invalid-record",
                        "Invalid record",
                        e.to_string(),
                    )
                }
            }
            ApiError::MalformedJson(m) => p(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                m.clone(),
            ),
            ApiError::BadRequest(m) => p(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                m.clone(),
            ),
            ApiError::QueryParameter(m) => p(
                StatusCode::BAD_REQUEST,
                "query-parameter",
                "QueryParameterException",
                m.clone(),
            ),
            ApiError::Refused(Refusal::Unauthenticated(m)) => p(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Signature not accepted",
                m.clone(),
            ),
            ApiError::Refused(Refusal::Forbidden(m)) => p(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Signers may not make this claim",
                m.clone(),
            ),
            ApiError::NotFound(m) => p(StatusCode::NOT_FOUND, "not-found", "Not found", m.clone()),
            ApiError::MethodNotAllowed => p(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "the route does not take this method; see the Allow header".into(),
            ),
            ApiError::Refused(r @ Refusal::Replay { index }) => Problem {
                index: Some(*index),
                ..p(
                    StatusCode::CONFLICT,
                    "replay",
                    "Record already in the log",
                    r.to_string(),
                )
            },
            ApiError::PayloadTooLarge { limit } => Problem {
                limit: Some(*limit as u64),
                ..p(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload-too-large",
                    "Request body too large",
                    self.to_string(),
                )
            },
            ApiError::UnsupportedMediaType(m) => p(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                m.clone(),
            ),
            ApiError::Refused(r @ Refusal::Unprocessable { field, rule }) => Problem {
                field: Some(field.clone()),
                rule: Some(rule.clone()),
                ..p(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unprocessable",
                    "Record contradicts the registry",
                    r.to_string(),
                )
            },
            ApiError::Refused(r @ Refusal::Overloaded) => p(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "Ledger busy",
                r.to_string(),
            ),
            ApiError::Refused(r @ Refusal::NotSequencer { .. }) => p(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-sequencer",
                "This node does not take writes",
                r.to_string(),
            ),
            ApiError::Refused(r @ Refusal::Unavailable(_)) => p(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Ledger unavailable",
                r.to_string(),
            ),
            ApiError::Timeout => p(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "Request timed out",
                "the request did not complete in time; retry later".into(),
            ),
            ApiError::Refused(Refusal::Internal(_)) => p(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the server failed to complete the request; the cause was logged".into(),
            ),
            ApiError::NotAcceptable(m) => p(
                StatusCode::NOT_ACCEPTABLE,
                "not-acceptable",
                "Version not supported",
                m.clone(),
            ),
            ApiError::SchemaViolations(v) => Problem {
                violations: Some(v.clone()),
                ..p(
                    StatusCode::BAD_REQUEST,
                    "epcis-validation",
                    "EPCIS document does not validate",
                    violations_detail(self, v),
                )
            },
            ApiError::QueryViolations(v) => Problem {
                violations: Some(v.clone()),
                ..p(
                    StatusCode::BAD_REQUEST,
                    "epcis-query-validation",
                    "EPCIS query does not validate",
                    violations_detail(self, v),
                )
            },
            ApiError::TooManyEvents { limit, .. } => Problem {
                limit: Some(*limit as u64),
                ..p(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "capture-limit",
                    "Too many events",
                    self.to_string(),
                )
            },
            ApiError::QueryTooLarge { limit } => Problem {
                limit: Some(*limit),
                ..p(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "query-too-large",
                    "QueryTooLargeException",
                    self.to_string(),
                )
            },
            ApiError::ExportTooLarge { limit, .. } => Problem {
                limit: Some(*limit as u64),
                ..p(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "export-too-large",
                    "Export too large",
                    self.to_string(),
                )
            },
            ApiError::QueryTooComplex { .. } => p(
                StatusCode::PAYLOAD_TOO_LARGE,
                "query-too-complex",
                "QueryTooComplexException",
                self.to_string(),
            ),
            ApiError::SubscriptionControls(m) => p(
                StatusCode::BAD_REQUEST,
                "subscription-controls",
                "SubscriptionControlsException",
                m.clone(),
            ),
            ApiError::NoSuchSubscription(m) => p(
                StatusCode::NOT_FOUND,
                "no-such-subscription",
                "NoSuchSubscriptionException",
                m.clone(),
            ),
            ApiError::NotImplemented(m) => p(
                StatusCode::NOT_IMPLEMENTED,
                "not-implemented",
                "Not implemented",
                m.clone(),
            ),
            ApiError::Conflict(m) => p(
                StatusCode::CONFLICT,
                "conflict",
                "Already exists",
                m.clone(),
            ),
            ApiError::Unauthorized(m) => p(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Not authenticated",
                m.clone(),
            ),
            ApiError::InvalidRequest { field, rule } => Problem {
                field: Some(field.clone()),
                rule: Some(rule.clone()),
                ..p(
                    StatusCode::BAD_REQUEST,
                    "invalid-request",
                    "Invalid request",
                    self.to_string(),
                )
            },
            ApiError::QuotaExceeded { what, limit, .. } => Problem {
                limit: Some(*limit as u64),
                rule: Some(format!("at most {limit} {what} per party")),
                ..p(
                    StatusCode::TOO_MANY_REQUESTS,
                    "quota-exceeded",
                    "Quota exceeded",
                    self.to_string(),
                )
            },
            ApiError::AnswerTooLarge { limit, .. } => Problem {
                limit: Some(*limit as u64),
                ..p(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "answer-too-large",
                    "Answer too large",
                    self.to_string(),
                )
            },
            ApiError::TooManyRequests { detail, .. } => p(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many expensive requests",
                detail.clone(),
            ),
            ApiError::BodyTimeout { millis } => Problem {
                limit: Some(*millis),
                ..p(
                    StatusCode::REQUEST_TIMEOUT,
                    "body-timeout",
                    "Request body too slow",
                    self.to_string(),
                )
            },
            ApiError::UriTooLong { limit, .. } => Problem {
                limit: Some(*limit as u64),
                ..p(
                    StatusCode::URI_TOO_LONG,
                    "uri-too-long",
                    "Request target too long",
                    self.to_string(),
                )
            },
            ApiError::Status(status) => {
                let reason = status.canonical_reason().unwrap_or("Error");
                p(
                    *status,
                    "http-error",
                    reason,
                    format!("{} {reason}", status.as_u16()),
                )
            }
        }
    }
}

/// An exception of the EPCIS 2.0 REST binding: the problem's `type` is
/// `epcisException:<name>`, as the official OpenAPI document writes it,
/// and `status` the code the binding answers with
/// (`docs/design/epcis-conformance.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    pub name: &'static str,
    pub status: StatusCode,
}

/// The prefix of every binding exception's problem `type`.
pub const EXCEPTION_PREFIX: &str = "epcisException:";

impl ApiError {
    /// The binding's exception for this error, on an EPCIS path
    /// ([`crate::epcis::binding_exceptions`]). `status` is the one
    /// [`ApiError::problem`] gave; it is kept except where the binding
    /// names another: a record or event the registry refuses is a
    /// `ValidationException` (400, not 422).
    pub fn exception(&self, status: StatusCode) -> Exception {
        let name = match self {
            ApiError::QueryParameter(_) => "QueryParameterException",
            ApiError::SubscriptionControls(_) => "SubscriptionControlsException",
            ApiError::NoSuchSubscription(_) => "NoSuchSubscriptionException",
            ApiError::QueryViolations(_) => "QueryValidationException",
            ApiError::Refused(Refusal::Invalid(_) | Refusal::Unprocessable { .. })
            | ApiError::MalformedJson(_)
            | ApiError::BadRequest(_)
            | ApiError::SchemaViolations(_)
            | ApiError::InvalidRequest { .. } => {
                return Exception {
                    name: "ValidationException",
                    status: StatusCode::BAD_REQUEST,
                };
            }
            ApiError::Refused(Refusal::Unauthenticated(_) | Refusal::Forbidden(_))
            | ApiError::Unauthorized(_) => "SecurityException",
            // The document's 404 admits this one type alone.
            ApiError::NotFound(_) => "NoSuchNameException",
            ApiError::Refused(Refusal::Replay { .. }) | ApiError::Conflict(_) => {
                "ResourceAlreadyExistsException"
            }
            ApiError::PayloadTooLarge { .. } | ApiError::TooManyEvents { .. } => {
                "CaptureLimitExceededException"
            }
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaTypeException",
            ApiError::NotAcceptable(_) => "NotAcceptableException",
            ApiError::QueryTooLarge { .. } => "QueryTooLargeException",
            ApiError::QueryTooComplex { .. }
            | ApiError::AnswerTooLarge { .. }
            | ApiError::ExportTooLarge { .. } => "QueryTooComplexException",
            ApiError::UriTooLong { .. } => "URITooLongException",
            ApiError::Status(s) if *s == StatusCode::NOT_FOUND => "NoSuchNameException",
            ApiError::Status(s) if *s == StatusCode::URI_TOO_LONG => "URITooLongException",
            ApiError::Status(s) if *s == StatusCode::PAYLOAD_TOO_LARGE => {
                "CaptureLimitExceededException"
            }
            // The binding names no exception for overload, budgets, a
            // slow body, a wrong method or a failure inside: the
            // implementation's, with the status kept.
            ApiError::Refused(
                Refusal::Internal(_)
                | Refusal::Overloaded
                | Refusal::NotSequencer { .. }
                | Refusal::Unavailable(_),
            )
            | ApiError::Timeout
            | ApiError::NotImplemented(_)
            | ApiError::MethodNotAllowed
            | ApiError::QuotaExceeded { .. }
            | ApiError::TooManyRequests { .. }
            | ApiError::BodyTimeout { .. }
            | ApiError::Status(_) => "ImplementationException",
        };
        Exception { name, status }
    }
}

/// What an error response carries for the binding's layer to rewrite
/// it as the exception: the problem as sent and the exception.
#[derive(Clone, Debug)]
pub struct Raised {
    pub problem: Problem,
    pub exception: Exception,
}

impl Raised {
    /// The problem as the binding writes it: `type` the exception,
    /// `title` its name, `status` the binding's; every other member kept
    /// (oretrace's own type as `oretraceType`).
    pub fn binding_problem(&self) -> Problem {
        Problem {
            problem_type: format!("{EXCEPTION_PREFIX}{}", self.exception.name),
            title: self.exception.name.to_owned(),
            status: self.exception.status.as_u16(),
            oretrace_type: Some(self.problem.problem_type.clone()),
            ..self.problem.clone()
        }
    }
}

/// The first violations of a document, after what the error says.
fn violations_detail(error: &ApiError, violations: &[Violation]) -> String {
    format!(
        "{error}: {}",
        violations
            .iter()
            .take(5)
            .map(|v| format!(
                "{} {}",
                if v.pointer.is_empty() {
                    "/"
                } else {
                    &v.pointer
                },
                v.message
            ))
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// The field and rule a domain error names, for the problem body.
fn domain_field_rule(e: &oretrace_domain::Error) -> (Option<String>, Option<String>) {
    match e {
        oretrace_domain::Error::Invalid { field, rule } => {
            (Some(field.clone()), Some(rule.clone()))
        }
        oretrace_domain::Error::NotCanonical { .. } => (Some("record".into()), Some(e.to_string())),
        oretrace_domain::Error::Signature(detail) => {
            (Some("signatures".into()), Some(detail.clone()))
        }
        _ => (None, None),
    }
}

/// An RFC 7807 problem document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The limit a 413 refers to (bytes, or events for a capture).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Schema violations of an EPCIS document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<Violation>>,
    /// On a binding path, whose `type` is the standard's exception:
    /// oretrace's own problem type, which says more (a quota, a budget,
    /// a slow body are all the binding's `ImplementationException`).
    #[serde(rename = "oretraceType", skip_serializing_if = "Option::is_none")]
    pub oretrace_type: Option<String>,
}

impl Problem {
    fn new(status: StatusCode, slug: &str, title: &str, detail: String) -> Self {
        Problem {
            problem_type: problem_type(slug),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            field: None,
            rule: None,
            index: None,
            limit: None,
            violations: None,
            oretrace_type: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Refused(Refusal::Internal(detail)) => {
                tracing::error!(%detail, "internal error")
            }
            ApiError::Refused(Refusal::Unavailable(detail)) => {
                tracing::error!(%detail, "ledger unavailable")
            }
            other => tracing::debug!(error = %other, "request refused"),
        }
        let problem = self.problem();
        // Every refusal leaves a line at the default level: its status and
        // problem type (fixed texts), never the client's input.
        tracing::info!(
            status = problem.status,
            problem = %problem.problem_type,
            "request refused"
        );
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        if let ApiError::TooManyRequests { retry_after, .. } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        response.extensions_mut().insert(Raised {
            exception: self.exception(status),
            problem,
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every refusal and its status, slug and extra members.
    #[test]
    fn each_refusal_maps_to_its_status() {
        let invalid = oretrace_domain::Error::invalid("wet_mass.unit", "unknown unit");
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (Refusal::Invalid(invalid).into(), 400, "invalid-record"),
            (ApiError::MalformedJson("eof".into()), 400, "malformed-json"),
            (
                Refusal::Unauthenticated("unknown key".into()).into(),
                401,
                "unauthenticated",
            ),
            (
                Refusal::Forbidden("not custodian".into()).into(),
                403,
                "forbidden",
            ),
            (ApiError::NotFound("no party x".into()), 404, "not-found"),
            (ApiError::MethodNotAllowed, 405, "method-not-allowed"),
            (Refusal::Replay { index: 7 }.into(), 409, "replay"),
            (
                ApiError::PayloadTooLarge { limit: 10 },
                413,
                "payload-too-large",
            ),
            (
                ApiError::UnsupportedMediaType("xml".into()),
                415,
                "unsupported-media-type",
            ),
            (
                Refusal::Unprocessable {
                    field: "lot".into(),
                    rule: "no lot".into(),
                }
                .into(),
                422,
                "unprocessable",
            ),
            (
                Refusal::Internal("disk on fire".into()).into(),
                500,
                "internal",
            ),
            (Refusal::Overloaded.into(), 503, "overloaded"),
            (ApiError::Timeout, 503, "timeout"),
            (
                ApiError::Status(StatusCode::URI_TOO_LONG),
                414,
                "http-error",
            ),
            (
                ApiError::UriTooLong {
                    length: 70_000,
                    limit: 16_384,
                },
                414,
                "uri-too-long",
            ),
            (
                ApiError::InvalidRequest {
                    field: "key".into(),
                    rule: "missing field `key`".into(),
                },
                400,
                "invalid-request",
            ),
            (
                ApiError::QuotaExceeded {
                    what: "named queries",
                    limit: 100,
                    hint: "delete one first",
                },
                429,
                "quota-exceeded",
            ),
            (
                ApiError::AnswerTooLarge {
                    detail: "too many agreements".into(),
                    limit: 20_000,
                },
                413,
                "answer-too-large",
            ),
            (
                ApiError::TooManyRequests {
                    detail: "slow down".into(),
                    retry_after: 3,
                },
                429,
                "rate-limited",
            ),
            (
                ApiError::BodyTimeout { millis: 15_000 },
                408,
                "body-timeout",
            ),
        ];
        for (error, status, slug) in cases {
            let problem = error.problem();
            assert_eq!(
                (problem.status, problem.problem_type.as_str()),
                (status, format!("{PROBLEM_BASE}{slug}").as_str())
            );
        }
    }

    #[test]
    fn problem_members_carry_field_rule_and_index() {
        let p = ApiError::from(oretrace_domain::Error::invalid(
            "wet_mass.unit",
            "unknown unit",
        ))
        .problem();
        assert_eq!(
            (p.field.as_deref(), p.rule.as_deref()),
            (Some("wet_mass.unit"), Some("unknown unit"))
        );
        let p = ApiError::from(Refusal::Unprocessable {
            field: "lots[0]".into(),
            rule: "no such lot".into(),
        })
        .problem();
        assert_eq!(
            (p.field.as_deref(), p.rule.as_deref()),
            (Some("lots[0]"), Some("no such lot"))
        );
        assert_eq!(
            ApiError::from(Refusal::Replay { index: 7 }).problem().index,
            Some(7)
        );
    }

    #[test]
    fn overload_says_when_to_retry() {
        let response = ApiError::from(Refusal::Overloaded).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    /// Problem types and the EPCIS extension namespace written into
    /// logged events live on one domain.
    #[test]
    fn problem_types_share_the_epcis_namespace_domain() {
        let domain = |uri: &str| {
            uri.strip_prefix("https://")
                .and_then(|rest| rest.split('/').next())
                .map(str::to_owned)
        };
        assert_eq!(PROBLEM_BASE, "https://oretrace.org/problems/");
        assert_eq!(domain(PROBLEM_BASE), domain(oretrace_epcis_map::NAMESPACE));
        assert_eq!(
            ApiError::Timeout.problem().problem_type,
            "https://oretrace.org/problems/timeout"
        );
    }

    #[test]
    fn an_echo_is_cut_on_a_character_boundary_and_marked() {
        assert_eq!(echo("colour"), "colour");
        let exact = "é".repeat(ECHO_CHARS);
        assert_eq!(echo(&exact), exact);
        let long = "\u{378}".repeat(ECHO_CHARS + 1);
        let cut = echo(&long);
        assert_eq!(cut.chars().count(), ECHO_CHARS + 1, "{cut}");
        assert!(cut.ends_with('…'), "{cut}");
        assert!(long.starts_with(cut.trim_end_matches('…')));
    }

    #[test]
    fn detail_field_and_rule_are_bounded_whatever_they_hold() {
        let huge = "x".repeat(50_000);
        let p = ApiError::InvalidRequest {
            field: huge.clone(),
            rule: huge.clone(),
        }
        .problem();
        for member in [Some(&p.detail), p.field.as_ref(), p.rule.as_ref()] {
            let member = member.unwrap();
            assert_eq!(member.chars().count(), MAX_MEMBER_CHARS + 1, "{member}");
            assert!(member.ends_with('…'));
        }
        let p = ApiError::BadRequest(huge).problem();
        assert_eq!(p.detail.chars().count(), MAX_MEMBER_CHARS + 1);
        let p = ApiError::BadRequest("short".into()).problem();
        assert_eq!(p.detail, "short");
    }

    #[test]
    fn internal_details_are_not_sent() {
        let problem = ApiError::internal("password=hunter2 at /var/db").problem();
        assert!(!problem.detail.contains("hunter2"), "{problem:?}");
    }
}
