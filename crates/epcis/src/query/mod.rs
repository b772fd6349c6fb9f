//! EPCIS 2.0 event queries: the `SimpleEventQuery` parameters of the REST
//! binding (`GET /events?…`, resource paths such as `/bizSteps/{b}/events`,
//! and the `query` object of a named query, `POST /queries`) parsed into an
//! [`EventQuery`] that decides whether an event matches ([`EventQuery::matches`])
//! and names the index terms a store can scan to find candidates
//! ([`EventQuery::candidate_terms`], [`event_terms`]). Pure: no I/O, no
//! storage, no HTTP.
//!
//! # Parameters
//!
//! List values in a URL are separated by `|`: every list parameter of the
//! REST binding (`schema/epcis-rest-openapi.yaml`, `components/parameters`,
//! e.g. `eventType`) is declared `style: pipeDelimited, explode: false`, and
//! the binding's own example is `EQ_bizStep=shipping%7Cdecommissioning`. In a
//! named query (`EPCIS-Query-JSON-Schema.json`) lists are JSON arrays (a
//! single string is accepted as a one-element list); a `|` inside a JSON
//! string is not a separator. Values are compared after normalisation:
//!
//! * identifiers (EPCs, EPC classes, read points, business locations,
//!   transformation IDs, business transactions, sources and destinations):
//!   CURIEs with a declared prefix expanded, then EPC URIs and GS1 Digital
//!   Link URIs turned into constrained canonical Digital Link URIs
//!   ([`canonical_digital_link`](crate::canonical_digital_link)), so `urn:epc:id:sgtin:…` and
//!   `https://example.com/01/…/21/…` compare equal;
//! * vocabulary (`bizStep`, `disposition`, business-transaction and
//!   source/destination types, error reasons, sensor types): bare CBV words,
//!   `urn:epcglobal:cbv:…` URNs and `cbv:` CURIEs all become the CBV Web URI
//!   (`shipping`, `urn:epcglobal:cbv:bizstep:shipping` and
//!   `https://ref.gs1.org/cbv/BizStep-shipping` are one value). A query value
//!   that is a bare word but not a standard term is refused (custom values are
//!   URIs or CURIEs);
//! * times: instants, offsets honoured (see [`timestamp_millis`]). A URL
//!   value whose `+` was decoded as a space (`…T10:00:00 01:00`) is read with
//!   the `+`.
//!
//! Supported: `eventType`, `GE_`/`LT_eventTime`, `GE_`/`LT_recordTime`,
//! `EQ_action`, `EQ_bizStep`, `EQ_disposition`,
//! `EQ_persistentDisposition_set`/`_unset`, `EQ_readPoint`, `WD_readPoint`,
//! `EQ_bizLocation`, `WD_bizLocation`, `EQ_transformationID`, `MATCH_epc`,
//! `MATCH_parentID`, `MATCH_inputEPC`, `MATCH_outputEPC`, `MATCH_anyEPC`,
//! `MATCH_epcClass`, `MATCH_inputEPCClass`, `MATCH_outputEPCClass`,
//! `MATCH_anyEPCClass`, `EQ_eventID`, `EXISTS_errorDeclaration`,
//! `GE_`/`LT_errorDeclarationTime` (also spelt `…errorDeclaration_Time` as in
//! the JSON schema), `EQ_errorReason`, `EQ_correctiveEventID`,
//! `EQ_bizTransaction_{type}`, `EQ_source_{type}`, `EQ_destination_{type}`,
//! `EQ_type` (sensor report type), `EQ_value_{uom}` and
//! `GE_`/`GT_`/`LE_`/`LT_` + `value`, `minValue`, `maxValue`, `meanValue`,
//! `sDev`, `percValue` + `_{uom}`, `GE_`/`GT_`/`LE_`/`LT_percRank` (no uom),
//! `GE_`/`LT_` + `time`, `startTime`, `endTime` (sensor times),
//! `EQ_deviceID`, `EQ_deviceMetadata`, `EQ_rawData`,
//! `EQ_dataProcessingMethod`, `EQ_bizRules`, `EQ_microorganism`,
//! `EQ_chemicalSubstance`, `EQ_stringValue`, `EQ_booleanValue`,
//! `EQ_hexBinaryValue`, `EQ_uriValue`, `EXISTS_sensorElementList`,
//! `EQ_`/`GT_`/`GE_`/`LT_`/`LE_quantity` with or without `_{uom}`, the
//! extension-field families (`EQ_`/`GT_`/`GE_`/`LT_`/`LE_`/`EXISTS_` +
//! optional `INNER_` + optional `ILMD_`, `ERROR_DECLARATION_`,
//! `SENSORELEMENT_`, `SENSORMETADATA_`, `SENSORREPORT_`, `readPoint_`,
//! `bizLocation_` + `{prefix}:{field}` or a full IRI, in the combinations
//! `EPCIS-Query-JSON-Schema.json` defines), `orderBy` (`eventTime`,
//! `recordTime`), `orderDirection`, `eventCountLimit`, `maxEventCount`,
//! `perPage` and `nextPageToken` (also `PerPage`, `NextPageToken`).
//! `EQ_ATTR_…` and `HASATTR_…` (master-data attributes) are refused as
//! [`QueryError::InvalidValue`]: no master data is held. Every other name is
//! refused as [`QueryError::UnknownParameter`] rather than ignored, so a
//! query never returns more than was asked for. A parameter given twice is
//! refused. A parameter lists at most 256 alternatives, each value at most
//! 4 KiB.
//!
//! # Choices where the standard leaves room
//!
//! * Empty lists: a list parameter whose whole URL value is empty
//!   (`EQ_transformationID=`) or whose JSON value is `[]` is the empty list
//!   (the REST binding's pipe-delimited arrays have no `minItems`). A list
//!   parameter asks that the event's field equal (match) one of the values,
//!   a disjunction, so over no values it matches no event — for every list
//!   parameter alike: `eventType`, `EQ_action`, `MATCH_…`,
//!   `EQ_bizTransaction_{type}`, the sensor and quantity `EQ_…`, the
//!   extension `EQ_…`, and `EQ_persistentDisposition_set`/`_unset` too
//!   (`…_unset` asks that the event's `persistentDisposition.unset` include
//!   one of the values, and nothing includes one of no values; it is not
//!   read as "unsets none of them"). [`EventQuery::candidate_terms`] is then
//!   `Some(vec![])`. An empty alternative among others (`a||b`, `a|`, JSON
//!   `["a", ""]`) is refused, as is a JSON `""` or `null` (a one-element
//!   list of an empty value). `EXISTS_…` are not lists and are unchanged.
//! * `EQ_eventID` / `EQ_correctiveEventID`: an event ID is a URI, so each
//!   value must begin with an RFC 3986 scheme (`ALPHA *( ALPHA / DIGIT / "+"
//!   / "-" / "." ) ":"`, e.g. `urn:uuid:…`, `ni:///sha-256;…`) and contain no
//!   control character or whitespace; anything else is a
//!   [`QueryError::InvalidValue`] of that parameter.
//! * `WD_readPoint` / `WD_bizLocation`: descendants are defined by master
//!   data, which this repository does not hold, so every location is its own
//!   only descendant and `WD_` matches as `EQ_`.
//! * `MATCH_*`: a value that is an EPC pattern (`urn:epc:idpat:{scheme}:…`
//!   with `*` components, which must be trailing as in the Tag Data Standard)
//!   matches EPC URIs, EPC patterns and — for `sgtin` patterns in the
//!   `…EPCClass` parameters — LGTIN class URIs component by component; a
//!   trailing `*` also covers any remaining components
//!   (`urn:epc:idpat:sgtin:0614141.*`). Digital Link values match a pattern
//!   when their canonical form is within the pattern's GS1 key (`C.I.*`
//!   patterns) or starts with its company prefix (`C.*.*` patterns, for the
//!   schemes whose GS1 key embeds the company prefix at a fixed position). A
//!   pattern without `*` is the EPC it names. Any other value matches by
//!   equality after normalisation.
//! * The `GE_`/`LT_`… sensor parameters are independent: each holds when some
//!   sensor report with exactly that `uom` satisfies it (no unit conversion).
//! * `EXISTS_errorDeclaration`, `EXISTS_sensorElementList` and the
//!   extension `EXISTS_…`: empty, `true` or `1` (JSON: `null`, `true`, `1`)
//!   restricts; `false` or `0` does not.
//! * Sensor times: `GE_`/`LT_time` hold when some sensor metadata `time` or
//!   sensor report `time` is in range; `…startTime` / `…endTime` look at
//!   sensor metadata `startTime` / `endTime`.
//! * Sensor members: `EQ_deviceID`, `EQ_deviceMetadata`, `EQ_rawData`,
//!   `EQ_dataProcessingMethod`, `EQ_bizRules`, `EQ_microorganism`,
//!   `EQ_chemicalSubstance`, `EQ_uriValue` compare as identifiers (above);
//!   `EQ_stringValue` exactly; `EQ_hexBinaryValue` case-insensitively (an
//!   even number of hex digits); `EQ_booleanValue` takes one `true` /
//!   `false`. Each looks in sensor metadata and sensor reports alike.
//! * `…percRank` compares every report's `percRank` whatever its uom;
//!   `…percValue_{uom}` (as the JSON schema names it) only reports with that
//!   uom.
//! * Quantities: `…quantity` compares the `quantity` of quantity elements
//!   (all four quantity lists) that have no `uom`; `…quantity_{uom}` only
//!   elements whose `uom` is exactly `{uom}`. No unit conversion: `4 KGM` is
//!   not `4000 GRM`.
//! * Extension fields: names compare as expanded IRIs, the event's keys
//!   with the event's own `@context`, the query's name with the query's
//!   context (a named query's `@context`, the context passed to
//!   [`EventQuery::from_pairs_with_context`], and always the GS1 context's
//!   prefixes `epcis`, `cbv`, `cbvmda`, `gs1`, …). A full IRI works
//!   everywhere. A prefix the query does not declare (a plain
//!   [`EventQuery::from_pairs`] has no context) matches keys spelt exactly
//!   so (`EQ_oretrace:commodity` matches `oretrace:commodity` whatever IRI
//!   the event maps `oretrace` to). `EQ_` alternatives equal a value as
//!   text, as expanded CURIEs, as numbers or as instants; `GT_`/`GE_`/`LT_`/
//!   `LE_` take a number (compared with numeric values, numeric strings
//!   included) or a date-time (compared with date-time strings); anything
//!   else does not match. Array values match when an item does.
//!   `INNER_` looks at members nested in a container's extension members,
//!   down to 8 levels below them (not at the top level itself).
//! * No new index terms: these families are answered by the predicate
//!   ([`EventQuery::matches`]) over candidates other parameters select.
//! * `orderDirection` defaults to `DESC` when `orderBy` is given (as the
//!   standard says) and otherwise applies to capture order, which is
//!   ascending by default. `eventCountLimit` requires `orderBy` and excludes
//!   `maxEventCount`, as the standard requires.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::Context;

mod extension;
mod normalise;
mod params;
mod pattern;
mod restriction;
mod view;

use normalise::{canonical_id, context_of};
pub use normalise::{canonical_identifier, loose_identifier};
use params::{Input, Parser};
use restriction::{Bound, Entries, Field, IdLists, Restriction, TimeField};
use view::EventView;

/// Why a query was refused. The `Display` text names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A parameter name this implementation does not know.
    #[error("unknown query parameter `{0}`")]
    UnknownParameter(String),
    /// A known parameter with a value it cannot take (or given twice).
    #[error("invalid value for query parameter `{parameter}`: {message}")]
    InvalidValue {
        /// The parameter, as the client spelt it.
        parameter: String,
        /// What is wrong with it.
        message: String,
    },
}

fn invalid(parameter: &str, message: impl Into<String>) -> QueryError {
    QueryError::InvalidValue {
        parameter: parameter.to_owned(),
        message: message.into(),
    }
}

/// The order of query results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderBy {
    /// Capture order (the repository's sequence); used when `orderBy` is absent.
    #[default]
    Index,
    /// `orderBy=eventTime`.
    EventTime,
    /// `orderBy=recordTime`.
    RecordTime,
}

/// A validated EPCIS event query: restrictions (all must hold) plus ordering
/// and paging controls. [`EventQuery::default`] matches every event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventQuery {
    /// Restrictions by (canonical) parameter name.
    restrictions: BTreeMap<String, Restriction>,
    per_page: Option<u32>,
    next_page_token: Option<String>,
    order_by: Option<OrderBy>,
    descending: Option<bool>,
    event_count_limit: Option<u64>,
    max_event_count: Option<u64>,
}

impl EventQuery {
    /// Parses URL query pairs (already percent-decoded, in order).
    ///
    /// # Errors
    ///
    /// [`QueryError::UnknownParameter`] for a name that is not supported,
    /// [`QueryError::InvalidValue`] for a bad value or a repeated parameter.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<EventQuery, QueryError> {
        Self::from_pairs_with_context(pairs, &Context::new())
    }

    /// As [`EventQuery::from_pairs`], with the prefixes of `context` (for
    /// instance those a request declares in its `GS1-Extensions` header)
    /// used to expand CURIE values and extension-field names.
    ///
    /// # Errors
    ///
    /// As [`EventQuery::from_pairs`].
    pub fn from_pairs_with_context(
        pairs: &[(String, String)],
        context: &Context,
    ) -> Result<EventQuery, QueryError> {
        let mut parser = Parser {
            context: context.clone(),
            query: EventQuery::default(),
        };
        for (name, value) in pairs {
            parser.parameter(name, Input::Text(value))?;
        }
        parser.query.validate()?;
        Ok(parser.query)
    }

    /// Parses the `query` object of a named query (`EPCIS-Query-JSON-Schema`):
    /// the same names, with JSON arrays for lists. Prefixes declared in its
    /// `@context` are used to expand CURIE values.
    ///
    /// # Errors
    ///
    /// As [`EventQuery::from_pairs`]; a `query` that is not an object is an
    /// [`QueryError::InvalidValue`] of parameter `query`.
    pub fn from_json(query: &Value) -> Result<EventQuery, QueryError> {
        let Value::Object(map) = query else {
            return Err(invalid("query", "a query must be a JSON object"));
        };
        let mut parser = Parser {
            context: map.get("@context").map_or_else(Context::new, context_of),
            query: EventQuery::default(),
        };
        for (name, value) in map {
            if name != "@context" {
                parser.parameter(name, Input::Json(value))?;
            }
        }
        parser.query.validate()?;
        Ok(parser.query)
    }

    /// Adds the restrictions and controls of `extra` (a resource path's
    /// implied parameters) to this query.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidValue`] when both set the same parameter, or the
    /// combination is invalid (`eventCountLimit` with `maxEventCount`).
    pub fn and(mut self, extra: EventQuery) -> Result<EventQuery, QueryError> {
        for (name, restriction) in extra.restrictions {
            if self.restrictions.contains_key(&name) {
                return Err(invalid(&name, "restricted twice"));
            }
            self.restrictions.insert(name, restriction);
        }
        merge(&mut self.per_page, extra.per_page, "perPage")?;
        merge(
            &mut self.next_page_token,
            extra.next_page_token,
            "nextPageToken",
        )?;
        merge(&mut self.order_by, extra.order_by, "orderBy")?;
        merge(&mut self.descending, extra.descending, "orderDirection")?;
        merge(
            &mut self.event_count_limit,
            extra.event_count_limit,
            "eventCountLimit",
        )?;
        merge(
            &mut self.max_event_count,
            extra.max_event_count,
            "maxEventCount",
        )?;
        self.validate()?;
        Ok(self)
    }

    /// `perPage`, if given (always at least 1).
    #[must_use]
    pub fn per_page(&self) -> Option<u32> {
        self.per_page
    }

    /// `nextPageToken`, if given (never empty).
    #[must_use]
    pub fn next_page_token(&self) -> Option<&str> {
        self.next_page_token.as_deref()
    }

    /// `orderBy`, [`OrderBy::Index`] (capture order) when absent.
    #[must_use]
    pub fn order_by(&self) -> OrderBy {
        self.order_by.unwrap_or_default()
    }

    /// Whether results run in descending order: `orderDirection` if given,
    /// otherwise `DESC` when `orderBy` is given and ascending capture order
    /// when it is not.
    #[must_use]
    pub fn descending(&self) -> bool {
        self.descending.unwrap_or(self.order_by.is_some())
    }

    /// `eventCountLimit`: return only the first N matching events.
    #[must_use]
    pub fn event_count_limit(&self) -> Option<u64> {
        self.event_count_limit
    }

    /// `maxEventCount`: refuse the query (`QueryTooLargeException`) if more
    /// than N events match.
    #[must_use]
    pub fn max_event_count(&self) -> Option<u64> {
        self.max_event_count
    }

    /// `GE_eventTime` and `LT_eventTime` in milliseconds since the Unix epoch:
    /// matching events have `lower <= eventTime < upper`.
    #[must_use]
    pub fn event_time_range(&self) -> (Option<i64>, Option<i64>) {
        self.time_range(TimeField::Event)
    }

    /// `GE_recordTime` and `LT_recordTime` in milliseconds since the Unix
    /// epoch: matching events have `lower <= recordTime < upper`.
    #[must_use]
    pub fn record_time_range(&self) -> (Option<i64>, Option<i64>) {
        self.time_range(TimeField::Record)
    }

    fn time_range(&self, wanted: TimeField) -> (Option<i64>, Option<i64>) {
        let mut range = (None, None);
        for restriction in self.restrictions.values() {
            if let Restriction::Time {
                field,
                bound,
                millis,
            } = restriction
                && *field == wanted
            {
                match bound {
                    Bound::AtLeast => range.0 = Some(*millis),
                    Bound::Before => range.1 = Some(*millis),
                }
            }
        }
        range
    }

    /// Index terms (as [`event_terms`] writes them) at least one of which
    /// every matching event carries, from the most selective restriction that
    /// has them: `eventID`, then exact EPC / EPC class matches, business
    /// transactions, sources and destinations, business location, read point,
    /// transformation ID, business step, disposition, event type, action.
    /// `None` when no restriction is an exact match (a `MATCH_` parameter
    /// with any pattern value gives none). `Some(vec![])` when a list
    /// parameter was given the empty list: no event matches.
    #[must_use]
    pub fn candidate_terms(&self) -> Option<Vec<String>> {
        self.restrictions
            .values()
            .filter_map(Restriction::index_terms)
            .min_by_key(|(priority, terms)| (*priority, terms.len()))
            .map(|(_, terms)| terms)
    }

    /// Whether `event` (a JSON event object, possibly with its own
    /// `@context`), recorded at `record_time_ms`, satisfies every restriction.
    /// Paging and ordering controls play no part.
    #[must_use]
    pub fn matches(&self, event: &Value, record_time_ms: i64) -> bool {
        let Some(view) = EventView::new(event) else {
            return false;
        };
        self.restrictions
            .values()
            .all(|restriction| restriction.holds(&view, record_time_ms))
    }

    fn validate(&self) -> Result<(), QueryError> {
        if self.event_count_limit.is_some() && self.max_event_count.is_some() {
            return Err(invalid(
                "eventCountLimit",
                "eventCountLimit and maxEventCount are mutually exclusive",
            ));
        }
        if self.event_count_limit.is_some() && self.order_by.is_none() {
            return Err(invalid(
                "eventCountLimit",
                "eventCountLimit may only be used with orderBy",
            ));
        }
        Ok(())
    }
}

fn merge<T>(into: &mut Option<T>, extra: Option<T>, name: &str) -> Result<(), QueryError> {
    if let Some(value) = extra {
        if into.is_some() {
            return Err(invalid(name, "given twice"));
        }
        *into = Some(value);
    }
    Ok(())
}

/// Every index term `event` carries, sorted and deduplicated:
/// `type=…`, `eventID=…`, `action=…`, `bizStep=…`, `disposition=…`,
/// `readPoint=…`, `bizLocation=…`, `transformationID=…`, `epc=…` (from
/// `epcList`, `childEPCs`, `parentID`, `inputEPCList`, `outputEPCList`),
/// `epcClass=…` (from the four quantity lists), `bizTransaction=<type>|<id>`,
/// `source=<type>|<id>`, `destination=<type>|<id>` (type empty when absent).
/// Values are normalised as in [`EventQuery::matches`].
#[must_use]
pub fn event_terms(event: &Value) -> Vec<String> {
    let Some(view) = EventView::new(event) else {
        return Vec::new();
    };
    let mut terms = BTreeSet::new();
    for field in [
        Field::Type,
        Field::EventId,
        Field::Action,
        Field::BizStep,
        Field::Disposition,
        Field::ReadPoint,
        Field::BizLocation,
        Field::TransformationId,
    ] {
        for value in view.values(&field) {
            terms.extend(field.term(&value));
        }
    }
    for list in [
        Entries::BizTransaction,
        Entries::Source,
        Entries::Destination,
    ] {
        for (kind, id) in view.entries(list) {
            terms.extend(Field::Entry { list, kind }.term(&id));
        }
    }
    for lists in [IdLists::AnyEpc, IdLists::AnyEpcClass] {
        for id in view.ids(lists) {
            terms.insert(format!("{}={}", lists.term_name(), canonical_id(&id)));
        }
    }
    terms.into_iter().collect()
}

/// Milliseconds since the Unix epoch (UTC) of an ISO 8601 date-time such as
/// `2005-04-03T20:33:31.116-06:00`, offset honoured, fraction rounded to
/// milliseconds as in the event hash. Accepts what
/// [`normalise_timestamp`](crate::normalise_timestamp)
/// accepts (a value without zone is taken as UTC); `None` otherwise.
#[must_use]
pub fn timestamp_millis(text: &str) -> Option<i64> {
    crate::time::timestamp_millis(text)
}
