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
//!   ([`canonical_digital_link`]), so `urn:epc:id:sgtin:…` and
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
//! `sDev`, `percValue` + `_{uom}`, `orderBy` (`eventTime`, `recordTime`),
//! `orderDirection`, `eventCountLimit`, `maxEventCount`, `perPage` and
//! `nextPageToken` (also `PerPage`, `NextPageToken`). Every other name,
//! including standard ones not listed here (`EQ_quantity`, `GE_startTime`,
//! `EQ_INNER_…`, extension-field parameters), is refused as
//! [`QueryError::UnknownParameter`] rather than ignored, so a query never
//! returns more than was asked for. A parameter given twice is refused.
//!
//! # Choices where the standard leaves room
//!
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
//! * `EXISTS_errorDeclaration`: empty, `true` or `1` (JSON: `null`, `true`,
//!   `1`) restricts; `false` or `0` does not.
//! * `orderDirection` defaults to `DESC` when `orderBy` is given (as the
//!   standard says) and otherwise applies to capture order, which is
//!   ascending by default. `eventCountLimit` requires `orderBy` and excludes
//!   `maxEventCount`, as the standard requires.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::vocab::{self, TermSet};
use crate::{Context, canonical_digital_link, normalise_timestamp};

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
        let mut parser = Parser {
            context: Context::new(),
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
    /// with any pattern value gives none).
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
/// milliseconds as in the event hash. Accepts what [`normalise_timestamp`]
/// accepts (a value without zone is taken as UTC); `None` otherwise.
#[must_use]
pub fn timestamp_millis(text: &str) -> Option<i64> {
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`
    let utc = normalise_timestamp(text)?;
    let field = |from: usize, to: usize| utc.get(from..to)?.parse::<i64>().ok();
    let days = days_from_civil(field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let seconds = ((days * 24 + field(11, 13)?) * 60 + field(14, 16)?) * 60 + field(17, 19)?;
    Some(seconds * 1000 + field(20, 23)?)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

// ---------------------------------------------------------------------------
// Restrictions

#[derive(Debug, Clone, PartialEq)]
enum Restriction {
    /// Some value of `field` equals one of `values` (both normalised).
    AnyOf { field: Field, values: Vec<String> },
    /// Some identifier in `lists` matches one of `patterns`.
    Match {
        lists: IdLists,
        patterns: Vec<IdPattern>,
    },
    Time {
        field: TimeField,
        bound: Bound,
        millis: i64,
    },
    /// Some sensor report with this `uom` passes `test` on `measure`.
    Sensor {
        measure: Measure,
        uom: String,
        test: NumberTest,
    },
    /// `EXISTS_errorDeclaration` (restricts only when `true`).
    ErrorDeclaration(bool),
}

impl Restriction {
    fn holds(&self, view: &EventView<'_>, record_time_ms: i64) -> bool {
        match self {
            Restriction::AnyOf { field, values } => view
                .values(field)
                .iter()
                .any(|value| values.contains(value)),
            Restriction::Match { lists, patterns } => view.ids(*lists).iter().any(|id| {
                let canonical = canonical_id(id);
                patterns.iter().any(|pattern| match pattern {
                    IdPattern::Exact(value) => *value == canonical,
                    IdPattern::Epc(pattern) => pattern.matches(id, &canonical),
                })
            }),
            Restriction::Time {
                field,
                bound,
                millis,
            } => {
                let time = match field {
                    TimeField::Event => view.text("eventTime").and_then(timestamp_millis),
                    TimeField::Record => Some(record_time_ms),
                    TimeField::ErrorDeclaration => view
                        .error_declaration()
                        .and_then(|declaration| declaration.get("declarationTime"))
                        .and_then(Value::as_str)
                        .and_then(timestamp_millis),
                };
                time.is_some_and(|time| match bound {
                    Bound::AtLeast => time >= *millis,
                    Bound::Before => time < *millis,
                })
            }
            Restriction::Sensor { measure, uom, test } => view.sensor_reports().any(|report| {
                report.get("uom").and_then(Value::as_str) == Some(uom.as_str())
                    && report
                        .get(measure.key())
                        .and_then(json_number)
                        .is_some_and(|value| test.holds(value))
            }),
            Restriction::ErrorDeclaration(required) => {
                !required || view.error_declaration().is_some()
            }
        }
    }

    /// (priority, terms): the index terms one of which a matching event has.
    fn index_terms(&self) -> Option<(u8, Vec<String>)> {
        let terms: Vec<String> = match self {
            Restriction::AnyOf { field, values } => values
                .iter()
                .filter_map(|value| field.term(value))
                .collect(),
            Restriction::Match { lists, patterns } => patterns
                .iter()
                .map(|pattern| match pattern {
                    IdPattern::Exact(value) => Some(format!("{}={value}", lists.term_name())),
                    IdPattern::Epc(_) => None,
                })
                .collect::<Option<_>>()?,
            _ => return None,
        };
        let priority = match self {
            Restriction::AnyOf { field, .. } => field.priority()?,
            _ => 1,
        };
        let unique: BTreeSet<String> = terms.into_iter().collect();
        Some((priority, unique.into_iter().collect()))
    }
}

/// An event field compared by equality of normalised values.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Type,
    EventId,
    Action,
    BizStep,
    Disposition,
    ReadPoint,
    BizLocation,
    TransformationId,
    /// Identifiers of the entries of `list` whose (normalised) type is `kind`.
    Entry {
        list: Entries,
        kind: String,
    },
    PersistentSet,
    PersistentUnset,
    SensorType,
    ErrorReason,
    CorrectiveEventId,
}

impl Field {
    /// The index term of one value, for indexed fields.
    fn term(&self, value: &str) -> Option<String> {
        let name = match self {
            Field::Type => "type",
            Field::EventId => "eventID",
            Field::Action => "action",
            Field::BizStep => "bizStep",
            Field::Disposition => "disposition",
            Field::ReadPoint => "readPoint",
            Field::BizLocation => "bizLocation",
            Field::TransformationId => "transformationID",
            Field::Entry { list, kind } => {
                return Some(format!("{}={kind}|{value}", list.spec().term));
            }
            Field::PersistentSet
            | Field::PersistentUnset
            | Field::SensorType
            | Field::ErrorReason
            | Field::CorrectiveEventId => return None,
        };
        Some(format!("{name}={value}"))
    }

    /// Selectivity rank of the field's index terms (lower is better).
    fn priority(&self) -> Option<u8> {
        Some(match self {
            Field::EventId => 0,
            // 1: exact EPC / EPC class matches.
            Field::Entry {
                list: Entries::BizTransaction,
                ..
            } => 2,
            Field::Entry { .. } => 3,
            Field::BizLocation => 4,
            Field::ReadPoint => 5,
            Field::TransformationId => 6,
            Field::BizStep => 7,
            Field::Disposition => 8,
            Field::Type => 9,
            Field::Action => 10,
            Field::PersistentSet
            | Field::PersistentUnset
            | Field::SensorType
            | Field::ErrorReason
            | Field::CorrectiveEventId => return None,
        })
    }
}

/// Typed lists of identifiers: business transactions, sources, destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entries {
    BizTransaction,
    Source,
    Destination,
}

struct EntriesSpec {
    list: &'static str,
    id: &'static str,
    types: TermSet,
    term: &'static str,
}

impl Entries {
    fn spec(self) -> EntriesSpec {
        match self {
            Entries::BizTransaction => EntriesSpec {
                list: "bizTransactionList",
                id: "bizTransaction",
                types: vocab::BIZ_TRANSACTION_TYPE,
                term: "bizTransaction",
            },
            Entries::Source => EntriesSpec {
                list: "sourceList",
                id: "source",
                types: vocab::SOURCE_DESTINATION_TYPE,
                term: "source",
            },
            Entries::Destination => EntriesSpec {
                list: "destinationList",
                id: "destination",
                types: vocab::SOURCE_DESTINATION_TYPE,
                term: "destination",
            },
        }
    }
}

/// The identifier lists a `MATCH_` parameter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdLists {
    Epc,
    ParentId,
    InputEpc,
    OutputEpc,
    AnyEpc,
    EpcClass,
    InputEpcClass,
    OutputEpcClass,
    AnyEpcClass,
}

impl IdLists {
    fn keys(self) -> &'static [&'static str] {
        match self {
            IdLists::Epc => &["epcList", "childEPCs"],
            IdLists::ParentId => &["parentID"],
            IdLists::InputEpc => &["inputEPCList"],
            IdLists::OutputEpc => &["outputEPCList"],
            IdLists::AnyEpc => &[
                "epcList",
                "childEPCs",
                "parentID",
                "inputEPCList",
                "outputEPCList",
            ],
            IdLists::EpcClass => &["quantityList", "childQuantityList"],
            IdLists::InputEpcClass => &["inputQuantityList"],
            IdLists::OutputEpcClass => &["outputQuantityList"],
            IdLists::AnyEpcClass => &[
                "quantityList",
                "childQuantityList",
                "inputQuantityList",
                "outputQuantityList",
            ],
        }
    }

    fn is_class(self) -> bool {
        matches!(
            self,
            IdLists::EpcClass
                | IdLists::InputEpcClass
                | IdLists::OutputEpcClass
                | IdLists::AnyEpcClass
        )
    }

    fn term_name(self) -> &'static str {
        if self.is_class() { "epcClass" } else { "epc" }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeField {
    Event,
    Record,
    ErrorDeclaration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// `GE_`: at or after.
    AtLeast,
    /// `LT_`: strictly before.
    Before,
}

/// A numeric member of a sensor report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Value,
    MinValue,
    MaxValue,
    MeanValue,
    SDev,
    PercValue,
}

impl Measure {
    const ALL: [Measure; 6] = [
        Measure::Value,
        Measure::MinValue,
        Measure::MaxValue,
        Measure::MeanValue,
        Measure::SDev,
        Measure::PercValue,
    ];

    fn key(self) -> &'static str {
        match self {
            Measure::Value => "value",
            Measure::MinValue => "minValue",
            Measure::MaxValue => "maxValue",
            Measure::MeanValue => "meanValue",
            Measure::SDev => "sDev",
            Measure::PercValue => "percValue",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum NumberTest {
    Ge(f64),
    Gt(f64),
    Le(f64),
    Lt(f64),
    Eq(Vec<f64>),
}

impl NumberTest {
    fn holds(&self, value: f64) -> bool {
        match self {
            NumberTest::Ge(bound) => value >= *bound,
            NumberTest::Gt(bound) => value > *bound,
            NumberTest::Le(bound) => value <= *bound,
            NumberTest::Lt(bound) => value < *bound,
            // Exact comparison of values parsed from decimal text is intended.
            NumberTest::Eq(values) => values.contains(&value),
        }
    }
}

// ---------------------------------------------------------------------------
// Identifier patterns (EPCIS 2.0 §8.2.7.1.1, Tag Data Standard §8)

#[derive(Debug, Clone, PartialEq, Eq)]
enum IdPattern {
    /// Equality with this normalised identifier.
    Exact(String),
    /// An EPC pure-identity pattern with at least one `*`.
    Epc(EpcPattern),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct EpcPattern {
    scheme: String,
    /// Dot-separated components; `*` matches any one (the last, any rest).
    components: Vec<String>,
    /// How canonical Digital Link values are matched, if they can be.
    digital_link: Option<DigitalLinkPattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DigitalLinkPattern {
    /// Canonical DL of the pattern's class (`C.I.*`); values extend it, after
    /// a `/` unless `fixed_width` (GRAI, GDTI, SGCN append the serial).
    Within { prefix: String, fixed_width: bool },
    /// The GS1 key `key` whose digits, from `offset`, start with the company
    /// prefix (`C.*.*`).
    CompanyPrefix {
        key: &'static str,
        offset: usize,
        company_prefix: String,
    },
    /// Any value with this GS1 key (`*.*.*`).
    Key(&'static str),
}

const CANONICAL_DOMAIN: &str = "https://id.gs1.org/";

/// EPC scheme → GS1 Digital Link key and the position of the company prefix
/// within the key's digits.
const SCHEME_KEYS: &[(&str, &str, usize)] = &[
    ("sgtin", "01", 1),
    ("sscc", "00", 1),
    ("sgln", "414", 0),
    ("pgln", "417", 0),
    ("grai", "8003", 1),
    ("giai", "8004", 0),
    ("gsrn", "8018", 0),
    ("gsrnp", "8017", 0),
    ("gdti", "253", 0),
    ("sgcn", "255", 0),
    ("cpi", "8010", 0),
    ("itip", "8006", 1),
];

impl EpcPattern {
    /// `value` is the event's identifier (CURIE-expanded), `canonical` its
    /// normalised form.
    fn matches(&self, value: &str, canonical: &str) -> bool {
        let body = ["urn:epc:id:", "urn:epc:idpat:"]
            .iter()
            .find_map(|head| {
                value
                    .strip_prefix(head)?
                    .strip_prefix(self.scheme.as_str())?
                    .strip_prefix(':')
            })
            .or_else(|| {
                if self.scheme == "sgtin" {
                    value.strip_prefix("urn:epc:class:lgtin:")
                } else {
                    None
                }
            });
        if let Some(body) = body {
            let parts: Vec<&str> = body.splitn(self.components.len(), '.').collect();
            return parts.len() == self.components.len()
                && self
                    .components
                    .iter()
                    .zip(&parts)
                    .all(|(pattern, part)| pattern == "*" || pattern == part);
        }
        if value.starts_with("urn:") {
            return false;
        }
        let Some(key_path) = canonical.strip_prefix(CANONICAL_DOMAIN) else {
            return false;
        };
        match &self.digital_link {
            None => false,
            Some(DigitalLinkPattern::Within {
                prefix,
                fixed_width,
            }) => canonical
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| *fixed_width || rest.is_empty() || rest.starts_with('/')),
            Some(DigitalLinkPattern::CompanyPrefix {
                key,
                offset,
                company_prefix,
            }) => key_path
                .strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|digits| digits.get(*offset..offset + company_prefix.len()))
                .is_some_and(|found| found == company_prefix),
            Some(DigitalLinkPattern::Key(key)) => key_path
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with('/')),
        }
    }
}

fn parse_id_pattern(
    parameter: &str,
    value: &str,
    context: &Context,
) -> Result<IdPattern, QueryError> {
    let value = expand_curie(value, context);
    let Some(rest) = value.strip_prefix("urn:epc:idpat:") else {
        return Ok(IdPattern::Exact(canonical_id(&value)));
    };
    let malformed = || invalid(parameter, format!("malformed EPC pattern {value:?}"));
    let (scheme, body) = rest
        .split_once(':')
        .filter(|(scheme, body)| !scheme.is_empty() && !body.is_empty())
        .ok_or_else(malformed)?;
    let components: Vec<String> = body.split('.').map(str::to_owned).collect();
    if components.iter().any(String::is_empty) {
        return Err(malformed());
    }
    let Some(first_star) = components.iter().position(|part| part == "*") else {
        // No wildcard: the pattern denotes exactly one EPC.
        return Ok(IdPattern::Exact(canonical_id(&format!(
            "urn:epc:id:{scheme}:{body}"
        ))));
    };
    if components[first_star..].iter().any(|part| part != "*") {
        return Err(invalid(
            parameter,
            format!("in EPC pattern {value:?} only trailing components may be `*`"),
        ));
    }
    let digital_link = if let Some(prefix) = canonical_digital_link(&value) {
        let fixed_width = ["8003/", "253/", "255/"].iter().any(|key| {
            prefix
                .strip_prefix(CANONICAL_DOMAIN)
                .is_some_and(|path| path.starts_with(key))
        });
        Some(DigitalLinkPattern::Within {
            prefix,
            fixed_width,
        })
    } else {
        SCHEME_KEYS
            .iter()
            .find(|(name, _, _)| *name == scheme)
            .and_then(|(_, key, offset)| match first_star {
                0 => Some(DigitalLinkPattern::Key(key)),
                1 => Some(DigitalLinkPattern::CompanyPrefix {
                    key,
                    offset: *offset,
                    company_prefix: components[0].clone(),
                }),
                _ => None,
            })
    };
    Ok(IdPattern::Epc(EpcPattern {
        scheme: scheme.to_owned(),
        components,
        digital_link,
    }))
}

// ---------------------------------------------------------------------------
// Normalisation

/// `urn:epcglobal:cbv:` vocabulary URNs and their CBV Web URI equivalents.
const CBV_URNS: [(&str, &str); 5] = [
    (
        "urn:epcglobal:cbv:bizstep:",
        "https://ref.gs1.org/cbv/BizStep-",
    ),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
];

/// Expands a CURIE whose prefix is declared inline or by the GS1 context.
fn expand_curie(value: &str, context: &Context) -> String {
    if let Some((prefix, local)) = value.split_once(':')
        && !local.starts_with("//")
    {
        let namespace = context.prefix(prefix).or_else(|| {
            vocab::CONTEXT_PREFIXES
                .iter()
                .find(|(name, _)| *name == prefix)
                .map(|(_, iri)| *iri)
        });
        if let Some(namespace) = namespace {
            return format!("{namespace}{local}");
        }
    }
    value.to_owned()
}

/// A vocabulary value as a Web URI (bare term, CBV URN or CURIE).
fn vocabulary_value(value: &str, terms: &TermSet, context: &Context) -> String {
    if let Some(iri) = terms.expand(value) {
        return iri;
    }
    let value = expand_curie(value, context);
    for (urn, web) in CBV_URNS {
        if let Some(term) = value.strip_prefix(urn) {
            return format!("{web}{term}");
        }
    }
    value
}

/// An identifier in canonical Digital Link form where it has one.
fn canonical_id(value: &str) -> String {
    canonical_digital_link(value).unwrap_or_else(|| value.to_owned())
}

fn identifier(value: &str, context: &Context) -> String {
    canonical_id(&expand_curie(value, context))
}

/// An identifier exactly as the query index keeps it: a CURIE expanded
/// with `context` (the event's own `@context`, as
/// `Context::from_document(event)` reads it, or the GS1 context's
/// prefixes), then an EPC URN or Digital Link in canonical Digital Link
/// form. Whatever decides who may name an identifier must see this form,
/// or one lot could be named under two spellings, one checked and one
/// indexed.
#[must_use]
pub fn canonical_identifier(value: &str, context: &Context) -> String {
    identifier(value, context)
}

/// An identifier with every spelling difference that does not change what
/// it names taken out, on top of [`canonical_identifier`]: the scheme, a
/// URN's namespace id and a URI's host in lower case (RFC 3986 §6.2.2.1,
/// RFC 8141 §3.1), percent-encoded unreserved characters decoded and the
/// remaining escapes in upper case (RFC 3986 §6.2.2.2), a URN's `?`/`#`
/// components and a URI's fragment and trailing `/` dropped; then EPCs in
/// canonical Digital Link form again. Two spellings with the same loose
/// form name the same thing; a registry that keeps one spelling per thing
/// refuses any other (`loose_identifier(id) != id`).
///
/// ```
/// use oretrace_epcis::query::loose_identifier as loose;
/// assert_eq!(loose("URN:oretrace:lot:fwo:sb-%31"), "urn:oretrace:lot:fwo:sb-1");
/// assert_eq!(
///     loose("HTTPS://ID.GS1.ORG/01/09506000134352/10/FWO1/#x"),
///     "https://id.gs1.org/01/09506000134352/10/FWO1"
/// );
/// assert_eq!(loose("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"), "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
/// ```
#[must_use]
pub fn loose_identifier(value: &str) -> String {
    let decoded = decode_unreserved(value);
    let Some((scheme, rest)) = decoded.split_once(':') else {
        return decoded;
    };
    let scheme = scheme.to_ascii_lowercase();
    let spelled = if scheme == "urn" {
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        match rest.split_once(':') {
            Some((nid, nss)) => format!("urn:{}:{nss}", nid.to_ascii_lowercase()),
            None => format!("urn:{}", rest.to_ascii_lowercase()),
        }
    } else if let Some(after) = rest.strip_prefix("//") {
        let after = after.split('#').next().unwrap_or_default();
        let (host, path) = after.split_at(after.find(['/', '?']).unwrap_or(after.len()));
        let mut path = path.to_owned();
        while path.len() > 1 && path.ends_with('/') && !path.contains('?') {
            path.pop();
        }
        if path == "/" {
            path.clear();
        }
        format!("{scheme}://{}{path}", host.to_ascii_lowercase())
    } else {
        format!("{scheme}:{rest}")
    };
    canonical_id(&spelled)
}

/// Percent-escapes of unreserved characters decoded; other escapes with
/// upper-case hex digits.
fn decode_unreserved(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(Some(hi)), Some(Some(lo))) = (
                bytes.get(i + 1).map(|b| hex(*b)),
                bytes.get(i + 2).map(|b| hex(*b)),
            )
        {
            let byte = u8::try_from(hi * 16 + lo).unwrap_or(0);
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
            i += 3;
            continue;
        }
        // Multi-byte characters are copied whole.
        let width = value[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&value[i..i + width]);
        i += width;
    }
    out
}

fn context_of(declared: &Value) -> Context {
    let mut document = Map::new();
    document.insert("@context".to_owned(), declared.clone());
    Context::from_document(&Value::Object(document))
}

fn json_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    }
}

fn items(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

// ---------------------------------------------------------------------------
// Reading events

struct EventView<'a> {
    event: &'a Map<String, Value>,
    context: Context,
}

impl<'a> EventView<'a> {
    fn new(event: &'a Value) -> Option<Self> {
        let event = event.as_object()?;
        let context = event.get("@context").map_or_else(Context::new, context_of);
        Some(EventView { event, context })
    }

    fn text(&self, key: &str) -> Option<&'a str> {
        self.event.get(key).and_then(Value::as_str)
    }

    /// A location's `id` (also accepted as a bare string).
    fn location(&self, key: &str) -> Option<&'a str> {
        match self.event.get(key)? {
            Value::String(id) => Some(id),
            Value::Object(location) => location.get("id").and_then(Value::as_str),
            _ => None,
        }
    }

    fn error_declaration(&self) -> Option<&'a Map<String, Value>> {
        self.event
            .get("errorDeclaration")
            .and_then(Value::as_object)
    }

    fn sensor_reports(&self) -> impl Iterator<Item = &'a Map<String, Value>> {
        items(self.event.get("sensorElementList"))
            .iter()
            .flat_map(|element| items(element.get("sensorReport")))
            .filter_map(Value::as_object)
    }

    /// Identifiers in `lists` (CURIE-expanded, otherwise as written).
    fn ids(&self, lists: IdLists) -> Vec<String> {
        let mut ids = Vec::new();
        for key in lists.keys() {
            let values: &[Value] = match self.event.get(*key) {
                Some(Value::Array(values)) => values,
                Some(value) => std::slice::from_ref(value),
                None => &[],
            };
            for value in values {
                let id = match value {
                    Value::String(id) => Some(id.as_str()),
                    Value::Object(quantity) if lists.is_class() => {
                        quantity.get("epcClass").and_then(Value::as_str)
                    }
                    _ => None,
                };
                ids.extend(id.map(|id| expand_curie(id, &self.context)));
            }
        }
        ids
    }

    /// (normalised type or "", normalised identifier) of each entry.
    fn entries(&self, list: Entries) -> Vec<(String, String)> {
        let spec = list.spec();
        items(self.event.get(spec.list))
            .iter()
            .filter_map(|entry| {
                let id = entry.get(spec.id).and_then(Value::as_str)?;
                let kind = entry
                    .get("type")
                    .and_then(Value::as_str)
                    .map_or_else(String::new, |kind| {
                        vocabulary_value(kind, &spec.types, &self.context)
                    });
                Some((kind, identifier(id, &self.context)))
            })
            .collect()
    }

    /// Normalised values of `field`.
    fn values(&self, field: &Field) -> Vec<String> {
        let context = &self.context;
        let vocabulary = |value: Option<&str>, terms: &TermSet| -> Vec<String> {
            value
                .map(|value| vocabulary_value(value, terms, context))
                .into_iter()
                .collect()
        };
        let strings = |values: &[Value], terms: &TermSet| -> Vec<String> {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(|value| vocabulary_value(value, terms, context))
                .collect()
        };
        match field {
            Field::Type => self
                .text("type")
                .map(|kind| expand_curie(kind, context))
                .into_iter()
                .collect(),
            Field::EventId => self
                .text("eventID")
                .map(str::to_owned)
                .into_iter()
                .collect(),
            Field::Action => self.text("action").map(str::to_owned).into_iter().collect(),
            Field::BizStep => vocabulary(self.text("bizStep"), &vocab::BIZ_STEP),
            Field::Disposition => vocabulary(self.text("disposition"), &vocab::DISPOSITION),
            Field::ReadPoint | Field::BizLocation | Field::TransformationId => {
                let key = match field {
                    Field::ReadPoint => self.location("readPoint"),
                    Field::BizLocation => self.location("bizLocation"),
                    _ => self.text("transformationID"),
                };
                key.map(|id| identifier(id, context)).into_iter().collect()
            }
            Field::Entry { list, kind } => self
                .entries(*list)
                .into_iter()
                .filter(|(found, _)| found == kind)
                .map(|(_, id)| id)
                .collect(),
            Field::PersistentSet | Field::PersistentUnset => {
                let member = if *field == Field::PersistentSet {
                    "set"
                } else {
                    "unset"
                };
                let persistent = self.event.get("persistentDisposition");
                strings(
                    items(persistent.and_then(|p| p.get(member))),
                    &vocab::DISPOSITION,
                )
            }
            Field::SensorType => self
                .sensor_reports()
                .filter_map(|report| report.get("type").and_then(Value::as_str))
                .map(|kind| vocabulary_value(kind, &vocab::MEASUREMENT_TYPE, context))
                .collect(),
            Field::ErrorReason => vocabulary(
                self.error_declaration()
                    .and_then(|declaration| declaration.get("reason"))
                    .and_then(Value::as_str),
                &vocab::ERROR_REASON,
            ),
            Field::CorrectiveEventId => items(
                self.error_declaration()
                    .and_then(|declaration| declaration.get("correctiveEventIDs")),
            )
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing parameters

/// A parameter value: URL text (lists split on `|`) or a JSON value.
#[derive(Debug, Clone, Copy)]
enum Input<'a> {
    Text(&'a str),
    Json(&'a Value),
}

fn json_scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null => Some(String::new()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

impl Input<'_> {
    fn list(self, name: &str) -> Result<Vec<String>, QueryError> {
        let values: Vec<String> = match self {
            Input::Text(text) => text.split('|').map(str::to_owned).collect(),
            Input::Json(Value::Array(values)) => values
                .iter()
                .map(|value| {
                    json_scalar(value)
                        .ok_or_else(|| invalid(name, "list items must be strings or numbers"))
                })
                .collect::<Result<_, _>>()?,
            Input::Json(value) => {
                vec![json_scalar(value).ok_or_else(|| invalid(name, "expected a list of values"))?]
            }
        };
        if values.is_empty() {
            return Err(invalid(name, "at least one value is required"));
        }
        if values.iter().any(String::is_empty) {
            return Err(invalid(name, "empty value"));
        }
        Ok(values)
    }

    fn scalar(self, name: &str) -> Result<String, QueryError> {
        match self {
            Input::Text(text) => Ok(text.to_owned()),
            Input::Json(value) => {
                json_scalar(value).ok_or_else(|| invalid(name, "expected a single value"))
            }
        }
    }

    fn positive<T: std::str::FromStr + PartialEq + From<u8>>(
        self,
        name: &str,
    ) -> Result<T, QueryError> {
        let text = self.scalar(name)?;
        text.parse::<T>()
            .ok()
            .filter(|value| *value != T::from(0))
            .ok_or_else(|| invalid(name, format!("expected a positive integer, got {text:?}")))
    }

    fn time(self, name: &str) -> Result<i64, QueryError> {
        let text = self.scalar(name)?;
        timestamp_millis(&text)
            .or_else(|| {
                // A `+` of the offset decoded as a space by form decoding.
                let space = text.rfind(' ')?;
                timestamp_millis(&format!("{}+{}", &text[..space], &text[space + 1..]))
            })
            .ok_or_else(|| invalid(name, format!("not an ISO 8601 date-time: {text:?}")))
    }

    fn number(self, name: &str) -> Result<f64, QueryError> {
        let text = self.scalar(name)?;
        parse_number(name, &text)
    }
}

fn parse_number(name: &str, text: &str) -> Result<f64, QueryError> {
    text.parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
        .ok_or_else(|| invalid(name, format!("not a number: {text:?}")))
}

/// One parsed parameter.
enum Setting {
    Restrict(Restriction),
    PerPage(u32),
    NextPageToken(String),
    OrderBy(OrderBy),
    Descending(bool),
    EventCountLimit(u64),
    MaxEventCount(u64),
}

struct Parser {
    /// Prefixes for CURIE values (a named query's `@context`).
    context: Context,
    query: EventQuery,
}

impl Parser {
    fn parameter(&mut self, name: &str, input: Input<'_>) -> Result<(), QueryError> {
        let key = match name {
            "PerPage" => "perPage",
            "NextPageToken" => "nextPageToken",
            "GE_errorDeclaration_Time" => "GE_errorDeclarationTime",
            "LT_errorDeclaration_Time" => "LT_errorDeclarationTime",
            other => other,
        };
        let setting = self.parse(key, name, input)?;
        let query = &mut self.query;
        let repeated = match setting {
            Setting::Restrict(restriction) => query
                .restrictions
                .insert(key.to_owned(), restriction)
                .is_some(),
            Setting::PerPage(value) => query.per_page.replace(value).is_some(),
            Setting::NextPageToken(value) => query.next_page_token.replace(value).is_some(),
            Setting::OrderBy(value) => query.order_by.replace(value).is_some(),
            Setting::Descending(value) => query.descending.replace(value).is_some(),
            Setting::EventCountLimit(value) => query.event_count_limit.replace(value).is_some(),
            Setting::MaxEventCount(value) => query.max_event_count.replace(value).is_some(),
        };
        if repeated {
            return Err(invalid(name, "given more than once"));
        }
        Ok(())
    }

    fn parse(&self, key: &str, name: &str, input: Input<'_>) -> Result<Setting, QueryError> {
        let any_of = |field: Field, values: Vec<String>| -> Result<Setting, QueryError> {
            Ok(Setting::Restrict(Restriction::AnyOf { field, values }))
        };
        let time = |field: TimeField, bound: Bound| -> Result<Setting, QueryError> {
            Ok(Setting::Restrict(Restriction::Time {
                field,
                bound,
                millis: input.time(name)?,
            }))
        };
        let matching = |lists: IdLists| -> Result<Setting, QueryError> {
            let patterns = input
                .list(name)?
                .iter()
                .map(|value| parse_id_pattern(name, value, &self.context))
                .collect::<Result<_, _>>()?;
            Ok(Setting::Restrict(Restriction::Match { lists, patterns }))
        };
        match key {
            "perPage" => Ok(Setting::PerPage(input.positive(name)?)),
            "nextPageToken" => {
                let token = input.scalar(name)?;
                if token.is_empty() {
                    return Err(invalid(name, "empty token"));
                }
                Ok(Setting::NextPageToken(token))
            }
            "orderBy" => match input.scalar(name)?.as_str() {
                "eventTime" => Ok(Setting::OrderBy(OrderBy::EventTime)),
                "recordTime" => Ok(Setting::OrderBy(OrderBy::RecordTime)),
                other => Err(invalid(
                    name,
                    format!("{other:?} is not supported; use eventTime or recordTime"),
                )),
            },
            "orderDirection" => match input.scalar(name)?.as_str() {
                "ASC" => Ok(Setting::Descending(false)),
                "DESC" => Ok(Setting::Descending(true)),
                other => Err(invalid(name, format!("{other:?} is not ASC or DESC"))),
            },
            "eventCountLimit" => Ok(Setting::EventCountLimit(input.positive(name)?)),
            "maxEventCount" => Ok(Setting::MaxEventCount(input.positive(name)?)),
            "eventType" => {
                let mut types = Vec::new();
                for kind in input.list(name)? {
                    if !(EVENT_TYPES.contains(&kind.as_str()) || kind.contains(':')) {
                        return Err(invalid(
                            name,
                            format!("{kind:?} is not an EPCIS event type"),
                        ));
                    }
                    types.push(expand_curie(&kind, &self.context));
                }
                any_of(Field::Type, types)
            }
            "GE_eventTime" => time(TimeField::Event, Bound::AtLeast),
            "LT_eventTime" => time(TimeField::Event, Bound::Before),
            "GE_recordTime" => time(TimeField::Record, Bound::AtLeast),
            "LT_recordTime" => time(TimeField::Record, Bound::Before),
            "GE_errorDeclarationTime" => time(TimeField::ErrorDeclaration, Bound::AtLeast),
            "LT_errorDeclarationTime" => time(TimeField::ErrorDeclaration, Bound::Before),
            "EQ_action" => {
                let actions = input.list(name)?;
                if let Some(bad) = actions
                    .iter()
                    .find(|action| !["ADD", "OBSERVE", "DELETE"].contains(&action.as_str()))
                {
                    return Err(invalid(
                        name,
                        format!("{bad:?} is not ADD, OBSERVE or DELETE"),
                    ));
                }
                any_of(Field::Action, actions)
            }
            "EQ_bizStep" => any_of(
                Field::BizStep,
                self.vocabulary(name, input, &vocab::BIZ_STEP)?,
            ),
            "EQ_disposition" => any_of(
                Field::Disposition,
                self.vocabulary(name, input, &vocab::DISPOSITION)?,
            ),
            "EQ_persistentDisposition_set" => any_of(
                Field::PersistentSet,
                self.vocabulary(name, input, &vocab::DISPOSITION)?,
            ),
            "EQ_persistentDisposition_unset" => any_of(
                Field::PersistentUnset,
                self.vocabulary(name, input, &vocab::DISPOSITION)?,
            ),
            "EQ_errorReason" => any_of(
                Field::ErrorReason,
                self.vocabulary(name, input, &vocab::ERROR_REASON)?,
            ),
            "EQ_type" => any_of(
                Field::SensorType,
                self.vocabulary(name, input, &vocab::MEASUREMENT_TYPE)?,
            ),
            "EQ_readPoint" | "WD_readPoint" => {
                any_of(Field::ReadPoint, self.identifiers(name, input)?)
            }
            "EQ_bizLocation" | "WD_bizLocation" => {
                any_of(Field::BizLocation, self.identifiers(name, input)?)
            }
            "EQ_transformationID" => {
                any_of(Field::TransformationId, self.identifiers(name, input)?)
            }
            "EQ_eventID" => any_of(Field::EventId, input.list(name)?),
            "EQ_correctiveEventID" => any_of(Field::CorrectiveEventId, input.list(name)?),
            "EXISTS_errorDeclaration" => match input.scalar(name)?.as_str() {
                "" | "true" | "1" => Ok(Setting::Restrict(Restriction::ErrorDeclaration(true))),
                "false" | "0" => Ok(Setting::Restrict(Restriction::ErrorDeclaration(false))),
                other => Err(invalid(name, format!("{other:?} is not true or false"))),
            },
            "MATCH_epc" => matching(IdLists::Epc),
            "MATCH_parentID" => matching(IdLists::ParentId),
            "MATCH_inputEPC" => matching(IdLists::InputEpc),
            "MATCH_outputEPC" => matching(IdLists::OutputEpc),
            "MATCH_anyEPC" => matching(IdLists::AnyEpc),
            "MATCH_epcClass" => matching(IdLists::EpcClass),
            "MATCH_inputEPCClass" => matching(IdLists::InputEpcClass),
            "MATCH_outputEPCClass" => matching(IdLists::OutputEpcClass),
            "MATCH_anyEPCClass" => matching(IdLists::AnyEpcClass),
            _ => self.parse_family(key, name, input),
        }
    }

    /// Parameters whose name carries a type or a unit of measure.
    fn parse_family(&self, key: &str, name: &str, input: Input<'_>) -> Result<Setting, QueryError> {
        let unknown = || QueryError::UnknownParameter(name.to_owned());
        for (prefix, list) in [
            ("EQ_bizTransaction_", Entries::BizTransaction),
            ("EQ_source_", Entries::Source),
            ("EQ_destination_", Entries::Destination),
        ] {
            if let Some(kind) = key.strip_prefix(prefix) {
                let types = list.spec().types;
                let kind = if kind.contains(':') {
                    vocabulary_value(kind, &types, &self.context)
                } else {
                    types.expand(kind).ok_or_else(unknown)?
                };
                return Ok(Setting::Restrict(Restriction::AnyOf {
                    field: Field::Entry { list, kind },
                    values: self.identifiers(name, input)?,
                }));
            }
        }
        let (operator, rest) = key.split_once('_').ok_or_else(unknown)?;
        let (measure, uom) = rest.split_once('_').ok_or_else(unknown)?;
        let measure = Measure::ALL
            .into_iter()
            .find(|candidate| candidate.key() == measure)
            .ok_or_else(unknown)?;
        let uom_ok = (2..=4).contains(&uom.len())
            && uom
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !uom_ok {
            return Err(unknown());
        }
        let test = match operator {
            "GE" => NumberTest::Ge(input.number(name)?),
            "GT" => NumberTest::Gt(input.number(name)?),
            "LE" => NumberTest::Le(input.number(name)?),
            "LT" => NumberTest::Lt(input.number(name)?),
            "EQ" if measure == Measure::Value => NumberTest::Eq(
                input
                    .list(name)?
                    .iter()
                    .map(|text| parse_number(name, text))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(unknown()),
        };
        Ok(Setting::Restrict(Restriction::Sensor {
            measure,
            uom: uom.to_owned(),
            test,
        }))
    }

    /// Vocabulary values as Web URIs; bare words must be standard terms.
    fn vocabulary(
        &self,
        name: &str,
        input: Input<'_>,
        terms: &TermSet,
    ) -> Result<Vec<String>, QueryError> {
        input
            .list(name)?
            .iter()
            .map(|value| {
                if value.contains(':') || terms.expand(value).is_some() {
                    Ok(vocabulary_value(value, terms, &self.context))
                } else {
                    Err(invalid(
                        name,
                        format!(
                            "{value:?} is not a standard value; custom values must be URIs or CURIEs"
                        ),
                    ))
                }
            })
            .collect()
    }

    fn identifiers(&self, name: &str, input: Input<'_>) -> Result<Vec<String>, QueryError> {
        Ok(input
            .list(name)?
            .iter()
            .map(|value| identifier(value, &self.context))
            .collect())
    }
}

const EVENT_TYPES: [&str; 5] = [
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
];
