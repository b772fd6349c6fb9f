//! EPCIS 2.0 JSON Schema validation, and nothing else: no HTTP, no storage, no I/O.
//!
//! The schemas are GS1's normative `EPCIS-JSON-Schema.json` (draft-07, one inlined file) and the
//! EPCIS query-language schema `EPCIS-Query-JSON-Schema.json`, embedded at compile time. Each
//! [`EpcisValidator`] compiles them once, offline (no `$ref` is ever fetched), with format
//! assertions on: a `date-time` without an offset or a `uri` without a scheme is a violation.
//!
//! | method | instance | schema |
//! |---|---|---|
//! | [`EpcisValidator::validate_document`] | an `EPCISDocument` (capture body) | `#/definitions/epcisDocument` |
//! | [`EpcisValidator::validate_event`] | one standalone event (`POST /events` body) | the schema's own dispatch for a standalone event: `EPCIS-Document-Event` + `required-ld-context` |
//! | [`EpcisValidator::validate_list_event`] | one event as it sits in an `eventList` | `#/definitions/EPCIS-Document-Event` (no `@context` required) |
//! | [`EpcisValidator::validate_query_document`] | an `EPCISQueryDocument` (query results) | `#/definitions/epcisQueryDocument` |
//! | [`EpcisValidator::validate_query`] | an EPCIS query-language object (the `query` of `POST /queries`) | `EPCIS-Query-JSON-Schema.json` |
//!
//! Schema rules a caller sees:
//! - Extension (user) fields are accepted wherever the schema lists its own field names, if the
//!   name is a URI: a namespace prefix such as `example:myField` parses as a URI with scheme
//!   `example`. A bare unknown name (`myField`) is rejected, and so is a prefix that is no URI
//!   scheme (`my_ns:field`: `_` is not allowed in a scheme).
//! - An event `type` other than the five EPCIS event types is an extension event if it is a URI
//!   (`ex:SampleEvent`); otherwise (`FooEvent`, `objectEvent`) it is a violation at `/type`.
//! - An event without `type` falls under every type's rules (the schema's `if`s do not require
//!   `type`), so `"type" is a required property` comes with the other types' violations.
//! - Some rules of the standard are left to the application: the schema does not require
//!   `parentID` on an `AggregationEvent` that adds or deletes, for instance.
//!
//! ```
//! use oretrace_epcis_schema::EpcisValidator;
//! use serde_json::json;
//!
//! let validator = EpcisValidator::new()?;
//! let event = json!({
//!     "@context": "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
//!     "type": "ObjectEvent",
//!     "action": "OBSERVE",
//!     "eventTime": "2024-01-01T00:00:00",
//!     "eventTimeZoneOffset": "+00:00",
//!     "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"]
//! });
//! let violations = validator.validate_event(&event).unwrap_err();
//! assert_eq!(violations[0].pointer, "/eventTime");
//! # Ok::<(), oretrace_epcis_schema::Error>(())
//! ```

use std::fmt;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{Value, json};

/// `$id` of the embedded EPCIS JSON Schema.
pub const EPCIS_SCHEMA_ID: &str = "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json";
/// `$id` of the embedded EPCIS query-language schema.
pub const QUERY_SCHEMA_ID: &str =
    "https://gs1.github.io/EPCIS/JSON-Schema/EPCIS-Query-JSON-Schema-root.json";

/// GS1 `EPCIS-JSON-Schema.json`, as published (a copy of `shared/conformance/epcis/schema/`).
pub const EPCIS_SCHEMA_JSON: &str = include_str!("../schema/EPCIS-JSON-Schema.json");
/// GS1 `EPCIS-Query-JSON-Schema.json`, as published.
pub const QUERY_SCHEMA_JSON: &str = include_str!("../schema/EPCIS-Query-JSON-Schema.json");

/// The query schema points into GS1's modular schema files (`../JSON-Schema/schemas/*.json`),
/// which hold the same definitions as the inlined EPCIS schema. They are served from memory.
/// Each of these URIs resolves to one stand-in document (see `query_schema_modules`).
const QUERY_SCHEMA_MODULES: [&str; 6] = [
    "https://gs1.github.io/EPCIS/JSON-Schema/schemas/definitions-JSON-Schema.json",
    "https://gs1.github.io/EPCIS/JSON-Schema/schemas/event-definitions-JSON-Schema.json",
    "https://gs1.github.io/EPCIS/JSON-Schema/schemas/bizStep-JSON-Schema.json",
    "https://gs1.github.io/EPCIS/JSON-Schema/schemas/disposition-JSON-Schema.json",
    "https://gs1.github.io/EPCIS/JSON-Schema/schemas/error-reason-JSON-Schema.json",
    "https://gs1.github.io/EPCIS/JSON-Schema/schemas/measurement-type-JSON-Schema.json",
];

/// The five event types of EPCIS 2.0; any other `type` must be a URI (an extension event).
pub const EVENT_TYPES: [&str; 5] = [
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
];

/// Why the validator could not be built. The schemas are embedded, so this is a bug in this
/// crate (a test builds it), never a property of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An embedded schema is not JSON.
    #[error("embedded schema {name} is not valid JSON: {message}")]
    SchemaJson {
        /// File name of the schema.
        name: &'static str,
        /// Parser message.
        message: String,
    },
    /// The schema registry (the in-memory `$ref` targets) could not be prepared.
    #[error("cannot prepare the EPCIS schema registry: {0}")]
    Registry(String),
    /// A schema failed to compile.
    #[error("cannot compile the {which} schema: {message}")]
    Compile {
        /// Which validator.
        which: &'static str,
        /// Compiler message.
        message: String,
    },
}

/// One way an instance breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Violation {
    /// RFC 6901 JSON pointer into the instance, e.g. `/epcisBody/eventList/0/eventTime`;
    /// `""` is the instance itself. For a forbidden property name it points at that member.
    pub pointer: String,
    /// What is wrong, in the validator's words. Quotes the offending value only when it is a
    /// short scalar; objects and arrays are called `value`.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.pointer, self.message)
        }
    }
}

/// Compiled EPCIS 2.0 validators. Build once ([`EpcisValidator::new`]: about 12 ms in a release
/// build, 0.3 s in a debug one) and share it (`Send + Sync`), or use [`EpcisValidator::shared`].
/// Validating a two-event document takes about 10 µs in a release build.
pub struct EpcisValidator {
    document: Validator,
    event: Validator,
    list_event: Validator,
    query_document: Validator,
    query: Validator,
}

impl fmt::Debug for EpcisValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpcisValidator")
            .field("schema", &EPCIS_SCHEMA_ID)
            .field("query_schema", &QUERY_SCHEMA_ID)
            .finish_non_exhaustive()
    }
}

impl EpcisValidator {
    /// Compile the embedded schemas.
    ///
    /// # Errors
    /// Only if an embedded schema does not compile, which the crate's tests rule out.
    pub fn new() -> Result<Self, Error> {
        let epcis = parse_schema("EPCIS-JSON-Schema.json", EPCIS_SCHEMA_JSON)?;
        let query = parse_schema("EPCIS-Query-JSON-Schema.json", QUERY_SCHEMA_JSON)?;
        let modules = query_schema_modules(&epcis);

        let mut resources = vec![(EPCIS_SCHEMA_ID, epcis)];
        for uri in QUERY_SCHEMA_MODULES {
            resources.push((uri, modules.clone()));
        }
        let registry = Registry::new()
            .extend(resources)
            .and_then(|builder| builder.prepare())
            .map_err(|e| Error::Registry(e.to_string()))?;

        let definition =
            |name: &str| json!({ "$ref": format!("{EPCIS_SCHEMA_ID}#/definitions/{name}") });
        let build = |which: &'static str, schema: &Value| {
            jsonschema::options()
                .with_draft(Draft::Draft7)
                .should_validate_formats(true)
                .offline()
                .with_registry(&registry)
                .build(schema)
                .map_err(|e| Error::Compile {
                    which,
                    message: e.to_string(),
                })
        };

        Ok(Self {
            document: build("EPCISDocument", &definition("epcisDocument"))?,
            event: build(
                "event",
                &json!({ "allOf": [definition("EPCIS-Document-Event"), definition("required-ld-context")] }),
            )?,
            list_event: build("eventList item", &definition("EPCIS-Document-Event"))?,
            query_document: build("EPCISQueryDocument", &definition("epcisQueryDocument"))?,
            query: build("query", &query)?,
        })
    }

    /// A process-wide validator, compiled on first use.
    ///
    /// # Errors
    /// As [`EpcisValidator::new`].
    pub fn shared() -> Result<&'static Self, Error> {
        static SHARED: OnceLock<Result<EpcisValidator, Error>> = OnceLock::new();
        SHARED.get_or_init(Self::new).as_ref().map_err(Clone::clone)
    }

    /// Validate an `EPCISDocument` (the body of `POST /capture`).
    ///
    /// # Errors
    /// Every violation found, in schema order, without duplicates.
    pub fn validate_document(&self, document: &Value) -> Result<(), Vec<Violation>> {
        check(&self.document, document)
    }

    /// Validate one standalone event (the body of `POST /events`): an event of one of the five
    /// types or an extension event whose `type` is a URI, with its own `@context`, as the
    /// schema requires of a standalone event.
    ///
    /// # Errors
    /// Every violation found; pointers are relative to the event.
    pub fn validate_event(&self, event: &Value) -> Result<(), Vec<Violation>> {
        check(&self.event, event)
    }

    /// Validate one event as it appears in a document's `eventList`, where `@context` is
    /// inherited from the document and so not required.
    ///
    /// # Errors
    /// Every violation found; pointers are relative to the event.
    pub fn validate_list_event(&self, event: &Value) -> Result<(), Vec<Violation>> {
        check(&self.list_event, event)
    }

    /// Validate an `EPCISQueryDocument` (query results, as `GET /events` returns them).
    ///
    /// # Errors
    /// Every violation found.
    pub fn validate_query_document(&self, document: &Value) -> Result<(), Vec<Violation>> {
        check(&self.query_document, document)
    }

    /// Validate an EPCIS query-language object (the `query` member of a `POST /queries` body),
    /// e.g. `{"eventType": ["ObjectEvent"], "GE_eventTime": "2024-01-01T00:00:00Z"}`.
    ///
    /// The published schema escapes its patterns for user-field parameters twice
    /// (`^EQ_[a-z][a-zA-Z0-9]*\\\\:\\\\w+$` in the JSON text: the regex asks for a backslash
    /// before the colon and a backslash and `w`s after it), and it forbids every parameter it
    /// does not list; so a query on a user extension field such as `EQ_example:batch` is rejected
    /// here. Callers that support those must split them off first.
    ///
    /// # Errors
    /// Every violation found.
    pub fn validate_query(&self, query: &Value) -> Result<(), Vec<Violation>> {
        check(&self.query, query)
    }
}

fn parse_schema(name: &'static str, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::SchemaJson {
        name,
        message: e.to_string(),
    })
}

/// The stand-in for GS1's modular schema files: the inlined schema's `definitions`, which
/// hold every definition those files define, plus `eventType`, which the query schema refers
/// to but the published files do not define (one of the five types, or an extension URI).
fn query_schema_modules(epcis: &Value) -> Value {
    let mut definitions = epcis
        .get("definitions")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(map) = definitions.as_object_mut() {
        map.insert(
            "eventType".to_owned(),
            json!({ "anyOf": [{ "enum": EVENT_TYPES }, { "$ref": "#/definitions/vocab-uri" }] }),
        );
    }
    json!({ "$schema": "http://json-schema.org/draft-07/schema#", "definitions": definitions })
}

fn check(validator: &Validator, instance: &Value) -> Result<(), Vec<Violation>> {
    let mut violations: Vec<Violation> = Vec::new();
    for error in validator.iter_errors(instance) {
        let violation = to_violation(&error);
        if !violations.contains(&violation) {
            violations.push(violation);
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// Longest quoted scalar in a message; longer values are called `value`.
const MAX_QUOTED_MESSAGE: usize = 200;

fn to_violation(error: &ValidationError<'_>) -> Violation {
    let pointer = error.instance_path().to_string();
    if let ValidationErrorKind::PropertyNames { error: inner } = error.kind() {
        // The schema lists its own field names and allows any other name that is a URI: an
        // extension field needs a namespace prefix. Point at the member with the bad name.
        let name = inner.instance().as_str().unwrap_or_default();
        return Violation {
            pointer: format!("{pointer}/{}", escape_pointer_token(name)),
            message: format!(
                "property name {} is not allowed here: it is no field of this EPCIS structure, \
                 and no extension field name (a URI, such as a namespace prefix and a name: \
                 \"example:myField\")",
                Value::from(name)
            ),
        };
    }
    let quoted = match error.instance().as_ref() {
        Value::Object(_) | Value::Array(_) => None,
        _ => Some(error.to_string()).filter(|m| m.len() <= MAX_QUOTED_MESSAGE),
    };
    Violation {
        pointer,
        message: quoted.unwrap_or_else(|| error.masked().to_string()),
    }
}

fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<EpcisValidator>();
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(escape_pointer_token("a/b~c"), "a~1b~0c");
    }
}
