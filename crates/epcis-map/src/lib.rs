//! Converts between EPCIS 2.0 JSON events and the registry's domain
//! records, both ways, as `docs/design/epcis-mapping.md` describes.
//!
//! * [`interpret`] reads one captured event: the records it states (a lot
//!   commissioned, assays, a shipment, a receipt, a transformation), every
//!   lot it names, whether it moves what it names, and whether its figures
//!   are illustrative. Any GS1 event that does not use the registry's
//!   namespace for one of the mineral-chain shapes maps to no records.
//! * [`event_of_record`] writes the event for a record, such that
//!   `interpret` gives the record back exactly and the event validates
//!   against GS1's EPCIS JSON Schema; [`document`] wraps events in an
//!   `EPCISDocument`.
//!
//! ```
//! use oretrace_domain::wire::RecordJson;
//! use oretrace_epcis_map::{event_of_record, interpret};
//!
//! let lot = RecordJson::parse(br#"{"kind": "lot", "id": "urn:oretrace:lot:fwo:sb-sample-0001",
//!     "commodity": "antimony", "form": "sample", "site": "fwo-qila-abdullah",
//!     "wet_mass": {"value": "60", "unit": "kg"}, "moisture_percent": "3",
//!     "time": "2025-09-10T06:00:00Z", "figures": "illustrative"}"#).unwrap();
//! let event = event_of_record(&lot).unwrap();
//! assert_eq!(event["bizStep"], "commissioning");
//! assert_eq!(event["quantityList"][0]["uom"], "KGM");
//! assert_eq!(interpret(&event).unwrap().records, vec![lot]);
//! ```
//!
//! Pure: no I/O, no HTTP, no storage, no signatures, no authorisation (the
//! ledger decides who may state what; [`Mapped::moves`] tells it which
//! events need the custodian).

mod error;
mod number;
mod read;
mod time;
mod uri;
mod vocab;
mod write;

use oretrace_domain::Record;
use oretrace_domain::record::Figures;
use serde_json::{Value, json};

pub use error::MapError;
pub use number::{MAX_DECIMAL_PLACES, MAX_SIGNIFICANT_DIGITS};
pub use uri::{parse_party_uri, parse_site_uri, party_uri, percent_encode, site_uri};
pub use vocab::{suggested_mass_uom, violation_hint};

/// The registry's EPCIS extension namespace.
pub const NAMESPACE: &str = "https://oretrace.org/epcis/";
/// The usual prefix for [`NAMESPACE`]; events without a declaration of it
/// are read as if `{"oretrace": NAMESPACE}` were declared.
pub const PREFIX: &str = "oretrace";
/// The GS1 EPCIS 2.0 JSON-LD context [`context`] names.
pub const GS1_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// The JSON-LD `@context` oretrace writes:
/// `[GS1_CONTEXT, {"oretrace": NAMESPACE}]`.
pub fn context() -> Value {
    json!([GS1_CONTEXT, { PREFIX: NAMESPACE }])
}

/// What one event states, as the registry reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// Domain records the event states, in the order to apply (an
    /// inspecting event with 3 analyte reports gives 3 Assay records).
    /// Empty when the event is not one of the mineral-chain shapes.
    pub records: Vec<Record>,
    /// Every lot id (EPC, EPC class) the event names in any list
    /// (`parentID`, `epcList`, `childEPCs`, `quantityList`,
    /// `childQuantityList`, input and output lists), once each, in that
    /// order of fields.
    pub lots: Vec<String>,
    /// Whether the event moves or consumes what it names (bizStep
    /// shipping, receiving, transforming, packing, unpacking, departing or
    /// arriving; action DELETE; a TransformationEvent with inputs): the
    /// ledger then requires the capturing party to be the custodian of
    /// every registered lot named.
    pub moves: bool,
    /// From the event's `oretrace:figures` extension (`reported` when
    /// absent, or `illustrative`).
    pub figures: Figures,
}

/// Interprets one event object.
///
/// The event may carry `@context` (the capturing document's, copied in):
/// extension keys are expanded with it, so `oretrace:commodity` is found
/// whatever prefix the document declared for [`NAMESPACE`]. An event that
/// uses the namespace for a mineral-chain shape but is incomplete or
/// contradictory is an error naming the field; any other GS1 event maps to
/// no records.
///
/// # Errors
///
/// [`MapError::NotAnEvent`] for a value that is not an object with a string
/// `type`; [`MapError::Invalid`] for a broken mineral-chain event.
pub fn interpret(event: &Value) -> Result<Mapped, MapError> {
    read::interpret(event)
}

/// The event for a record: an ObjectEvent for a lot, an assay, a shipment
/// or a receipt, a TransformationEvent for a transformation, and a captured
/// event's own JSON for [`Record::Event`]. `None` for parties and sites
/// (master data), and for a record whose decimals no JSON number states
/// exactly (more than [`MAX_SIGNIFICANT_DIGITS`] significant digits or
/// [`MAX_DECIMAL_PLACES`] places).
///
/// For the five mineral-chain kinds, `interpret(&event_of_record(r))`
/// gives back exactly `[r]`. The event carries no `@context` (use
/// [`document`]) and no `eventID` (the capture or export computes the
/// CBV 2.0 hash).
pub fn event_of_record(record: &Record) -> Option<Value> {
    write::event_of_record(record)
}

/// The EPCIS event of a logged record, as the registry serves and
/// indexes it: for a captured event ([`Record::Event`]) the event as
/// logged (its document's `@context` copied in), with its `eventID` added
/// when its capturer gave none; for any other record the event
/// [`event_of_record`] writes, with `@context` = [`context`] and the CBV
/// 2.0 event hash as `eventID`.
///
/// The one builder of a record's event: the ledger stores what it gives
/// (`Change::PutEvent` for a record, so queries find it) and the server's
/// provenance events and exports read the same.
///
/// # Errors
///
/// [`RecordEventError::NoEvent`] for a record [`event_of_record`] gives no
/// event for (master data, agreements, a decimal no JSON number states
/// exactly); [`RecordEventError::Hash`] if the event does not hash.
pub fn record_event(record: &Record) -> Result<Value, RecordEventError> {
    if let Record::Event(captured) = record {
        let mut event = captured.event().clone();
        if let Value::Object(map) = &mut event {
            map.entry("eventID")
                .or_insert_with(|| Value::String(captured.event_id().to_string()));
        }
        return Ok(event);
    }
    let mut event = event_of_record(record).ok_or(RecordEventError::NoEvent)?;
    event["@context"] = context();
    let hash = oretrace_epcis::event_hash(&event, &oretrace_epcis::Context::from_document(&event))
        .map_err(|e| RecordEventError::Hash(e.to_string()))?;
    event["eventID"] = Value::String(hash);
    Ok(event)
}

/// Why a record has no event ([`record_event`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordEventError {
    /// The record states no EPCIS event: master data or an agreement,
    /// or a decimal no JSON number states exactly.
    NoEvent,
    /// The event does not hash (the CBV 2.0 event hash's error).
    Hash(String),
}

impl std::fmt::Display for RecordEventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordEventError::NoEvent => f.write_str(
                "the record states no EPCIS event (master data, an agreement, or a decimal no JSON number states exactly)",
            ),
            RecordEventError::Hash(e) => write!(f, "its event does not hash: {e}"),
        }
    }
}

impl std::error::Error for RecordEventError {}

/// An `EPCISDocument` (`schemaVersion` 2.0, `@context` = [`context`])
/// around `events`.
pub fn document(events: Vec<Value>, creation_date: &str) -> Value {
    json!({
        "@context": context(),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": creation_date,
        "epcisBody": {"eventList": events},
    })
}

/// JSON text for an EPCIS document or event with its members in the
/// conventional order: `@context`, then `type`, then the others by name.
/// Member order means nothing to JSON-LD, but the reference event-hash
/// implementation (PyPI `epcis-event-hash-generator` 1.9.3) renders a
/// business transaction, source or destination by its first two members
/// in document order: with `type` first, every reader hashes what oretrace
/// writes the same way. Two-space indentation when `pretty`.
pub fn to_json_text(value: &Value, pretty: bool) -> String {
    let mut out = String::new();
    write_ordered(value, pretty, 0, &mut out);
    out
}

fn write_ordered(value: &Value, pretty: bool, depth: usize, out: &mut String) {
    let newline = |out: &mut String, depth: usize| {
        if pretty {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        }
    };
    match value {
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let rank = |k: &str| match k {
                "@context" => 0,
                "type" => 1,
                _ => 2,
            };
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write_ordered(&map[k], pretty, depth + 1, out);
            }
            newline(out, depth);
            out.push('}');
        }
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_ordered(item, pretty, depth + 1, out);
            }
            newline(out, depth);
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The `@context` for a document holding `events` (each carrying its own,
/// as captured): when every event carries the same one it moves to the
/// document, and the events lose theirs; otherwise each event keeps its
/// own and the document has the GS1 context alone. Never merges contexts:
/// a prefix one event declares must not give meaning to another event's
/// keys.
pub fn hoist_context(events: &mut [Value]) -> Value {
    let first = events.first().and_then(|e| e.get("@context")).cloned();
    let shared = match &first {
        Some(c) => events.iter().all(|e| e.get("@context") == Some(c)),
        None => false,
    };
    match (shared, first) {
        (true, Some(context)) => {
            for event in events.iter_mut() {
                if let Value::Object(map) = event {
                    map.remove("@context");
                }
            }
            context
        }
        _ => json!([GS1_CONTEXT]),
    }
}
