//! Projections: the registry's current state, derived from the log alone.
//! Stored by every backend as JSON documents keyed by id, so that one
//! contract fits SQLite and PostgreSQL alike.
//!
//! Each projection holds the domain's validated types (ids, times,
//! masses, percentages, the records themselves), with private fields: it
//! is built from an accepted record and changed only by the methods the
//! rules use, so the rules compare typed values and never parse a stored
//! string. A stored document is checked as it is read: one that breaks a
//! rule is a store error, not a value without its invariant. The JSON is
//! the same, byte for byte, as the API's shapes (`RecordJson`, masses as
//! `{"value": "…", "unit": "…"}`, decimals as canonical text).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use oretrace_domain::chemistry::Element;
use oretrace_domain::event::{CapturedEvent, EventId, EventType};
use oretrace_domain::record::{
    Figures, Lot, LotForm, OutputLot, Party, Record, Shipment, Site, Transformation,
};
use oretrace_domain::values::{Country, LotId, Mass, PartyId, Percent, SiteId, Timestamp, Token};
use oretrace_domain::wire::RecordJson;
use oretrace_tlog::note::NoteVerifier;

use crate::agreements::{
    AgreementState, ClauseState, ProgressState, ReportState, ResourceState, VersionState,
};

/// Reads a stored record back, naming the document it is in.
fn stored_record(what: &str, json: &RecordJson) -> Result<Record, String> {
    json.to_record()
        .map_err(|e| format!("the record of {what} is unreadable: {e}"))
}

/// A stored document whose summary fields disagree with its record.
fn disagrees(what: &str, field: &str, stored: &str, record: &str) -> String {
    format!("{what}: {field} {stored:?} is not its record's {record:?}")
}

/// A registered party and where its current registration is in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PartyDoc", into = "PartyDoc")]
pub struct PartyState {
    record: Party,
    index: u64,
    unconfirmed_owners: Vec<PartyId>,
    owners_changed: Option<Timestamp>,
}

#[derive(Serialize, Deserialize)]
struct PartyDoc {
    id: PartyId,
    record: RecordJson,
    index: u64,
    #[serde(default)]
    unconfirmed_owners: Vec<PartyId>,
    /// When a version last changed the owners (absent: never since the
    /// party was registered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owners_changed: Option<String>,
}

impl PartyState {
    /// The party as `record` (accepted at log index `index`) registers it.
    pub fn new(record: Party, index: u64, unconfirmed_owners: Vec<PartyId>) -> Self {
        PartyState {
            record,
            index,
            unconfirmed_owners,
            owners_changed: None,
        }
    }

    /// The same state, its owners last changed by the version dated `at`.
    pub fn with_owners_changed(mut self, at: Option<Timestamp>) -> Self {
        self.owners_changed = at;
        self
    }

    /// When a version of the party's record last changed its owners;
    /// `None` when they are as first registered. A verdict that rests on
    /// the owners cannot speak for a time before this.
    pub fn owners_changed(&self) -> Option<Timestamp> {
        self.owners_changed
    }

    pub fn id(&self) -> &PartyId {
        &self.record.id
    }

    /// The party record that made this state.
    pub fn record(&self) -> &Party {
        &self.record
    }

    /// Log index of the record that made this state.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Owners the record names that have not confirmed the claim (by
    /// signing a version of the record that names them with the same
    /// share and control): shown as unconfirmed, never relied on.
    pub fn unconfirmed_owners(&self) -> &[PartyId] {
        &self.unconfirmed_owners
    }
}

impl TryFrom<PartyDoc> for PartyState {
    type Error = String;

    fn try_from(doc: PartyDoc) -> Result<Self, String> {
        let what = format!("party {}", doc.id);
        let Record::Party(record) = stored_record(&what, &doc.record)? else {
            return Err(format!("{what}: its record is not a party record"));
        };
        if record.id != doc.id {
            return Err(disagrees(&what, "id", doc.id.as_str(), record.id.as_str()));
        }
        let owners_changed = doc
            .owners_changed
            .as_deref()
            .map(Timestamp::parse)
            .transpose()
            .map_err(|e| format!("{what}: owners_changed: {e}"))?;
        Ok(PartyState::new(record, doc.index, doc.unconfirmed_owners)
            .with_owners_changed(owners_changed))
    }
}

impl From<PartyState> for PartyDoc {
    fn from(state: PartyState) -> Self {
        let id = state.record.id.clone();
        PartyDoc {
            id,
            record: RecordJson::of(&Record::Party(state.record)),
            index: state.index,
            unconfirmed_owners: state.unconfirmed_owners,
            owners_changed: state.owners_changed.map(|t| t.to_string()),
        }
    }
}

/// A signing key and the party it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "KeyDoc", into = "KeyDoc")]
pub struct KeyState {
    verifier: NoteVerifier,
    party: PartyId,
}

#[derive(Serialize, Deserialize)]
struct KeyDoc {
    name: String,
    key_id: u32,
    vkey: String,
    party: PartyId,
}

impl KeyState {
    pub fn new(verifier: NoteVerifier, party: PartyId) -> Self {
        KeyState { verifier, party }
    }

    pub fn name(&self) -> &str {
        self.verifier.name()
    }

    pub fn key_id(&self) -> u32 {
        self.verifier.key_id()
    }

    /// The key, ready to verify signatures with.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The key as a C2SP vkey.
    pub fn vkey(&self) -> String {
        self.verifier.to_vkey()
    }

    pub fn party(&self) -> &PartyId {
        &self.party
    }
}

impl TryFrom<KeyDoc> for KeyState {
    type Error = String;

    fn try_from(doc: KeyDoc) -> Result<Self, String> {
        let what = format!("key {}+{:08x}", doc.name, doc.key_id);
        let verifier = NoteVerifier::from_vkey(&doc.vkey)
            .map_err(|e| format!("{what}: the vkey is unreadable: {e}"))?;
        if verifier.name() != doc.name || verifier.key_id() != doc.key_id {
            return Err(format!("{what}: the vkey is {}", verifier.to_vkey()));
        }
        Ok(KeyState::new(verifier, doc.party))
    }
}

impl From<KeyState> for KeyDoc {
    fn from(state: KeyState) -> Self {
        KeyDoc {
            name: state.verifier.name().to_owned(),
            key_id: state.verifier.key_id(),
            vkey: state.verifier.to_vkey(),
            party: state.party,
        }
    }
}

/// A registered site, as its current record describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SiteDoc", into = "SiteDoc")]
pub struct SiteState {
    record: Site,
    index: u64,
    custody_models: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
struct SiteDoc {
    id: SiteId,
    operator: PartyId,
    country: Country,
    record: RecordJson,
    index: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    custody_models: Vec<u64>,
}

/// Most chain-of-custody declarations one site keeps.
pub const MAX_CUSTODY_MODELS: usize = 64;

impl SiteState {
    /// The site as `record` (accepted at log index `index`) registers it.
    pub fn new(record: Site, index: u64) -> Self {
        SiteState {
            record,
            index,
            custody_models: Vec::new(),
        }
    }

    /// The site as a new version of its record registers it, keeping its
    /// chain-of-custody declarations.
    pub fn replaced_by(&self, record: Site, index: u64) -> Self {
        SiteState {
            record,
            index,
            custody_models: self.custody_models.clone(),
        }
    }

    /// The site with one more chain-of-custody declaration, at log index
    /// `index`.
    pub fn with_custody_model(&self, index: u64) -> Self {
        let mut next = self.clone();
        next.custody_models.push(index);
        next
    }

    /// Log indices of the site's chain-of-custody declarations, oldest
    /// first.
    pub fn custody_models(&self) -> &[u64] {
        &self.custody_models
    }

    pub fn id(&self) -> &SiteId {
        &self.record.id
    }

    pub fn operator(&self) -> &PartyId {
        &self.record.operator
    }

    pub fn country(&self) -> Country {
        self.record.country
    }

    /// The site record that made this state.
    pub fn record(&self) -> &Site {
        &self.record
    }

    pub fn index(&self) -> u64 {
        self.index
    }
}

impl TryFrom<SiteDoc> for SiteState {
    type Error = String;

    fn try_from(doc: SiteDoc) -> Result<Self, String> {
        let what = format!("site {}", doc.id);
        let Record::Site(record) = stored_record(&what, &doc.record)? else {
            return Err(format!("{what}: its record is not a site record"));
        };
        if record.id != doc.id {
            return Err(disagrees(&what, "id", doc.id.as_str(), record.id.as_str()));
        }
        if record.operator != doc.operator {
            return Err(disagrees(
                &what,
                "operator",
                doc.operator.as_str(),
                record.operator.as_str(),
            ));
        }
        if record.country != doc.country {
            return Err(disagrees(
                &what,
                "country",
                doc.country.as_str(),
                record.country.as_str(),
            ));
        }
        if doc.custody_models.len() > MAX_CUSTODY_MODELS {
            return Err(format!(
                "{what}: {} chain-of-custody declarations, more than the {MAX_CUSTODY_MODELS} a site keeps",
                doc.custody_models.len()
            ));
        }
        Ok(SiteState {
            record,
            index: doc.index,
            custody_models: doc.custody_models,
        })
    }
}

impl From<SiteState> for SiteDoc {
    fn from(state: SiteState) -> Self {
        SiteDoc {
            id: state.record.id.clone(),
            operator: state.record.operator.clone(),
            country: state.record.country,
            record: RecordJson::of(&Record::Site(state.record)),
            index: state.index,
            custody_models: state.custody_models,
        }
    }
}

/// Where a lot stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum LotStatus {
    /// At a site, in someone's custody.
    Held,
    /// Shipped and not yet received.
    InTransit { shipment: Token },
    /// Consumed by a transformation.
    Consumed { transformation: Token },
}

/// A lot: what it is, where it is, who holds it, where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotState {
    id: LotId,
    commodity: Token,
    form: LotForm,
    origin_site: SiteId,
    site: SiteId,
    custodian: PartyId,
    #[serde(flatten)]
    status: LotStatus,
    wet_mass: Mass,
    moisture_percent: Percent,
    inputs: Vec<LotId>,
    element_percent: Vec<(Element, Percent)>,
    received_mass: Option<Mass>,
    figures: Figures,
    index: u64,
    #[serde(default, with = "unknown_time")]
    created: Option<Timestamp>,
    #[serde(default, with = "unknown_time")]
    since: Option<Timestamp>,
}

/// `created` and `since` of documents stored before they were kept are
/// unknown: written `""` (as they were read), and nothing is dated
/// against them.
mod unknown_time {
    use oretrace_domain::values::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(t),
            None => s.serialize_str(""),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            return Ok(None);
        }
        Timestamp::parse(&text)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("{text:?}: {e}")))
    }
}

impl LotState {
    /// A lot commissioned at its site by `record` (accepted at log index
    /// `index`), in the custody of the site's operator. Refuses a
    /// moisture of 100 % or more.
    pub fn commissioned(
        record: &Lot,
        custodian: PartyId,
        index: u64,
    ) -> Result<Self, oretrace_domain::Error> {
        Ok(LotState {
            id: record.id.clone(),
            commodity: record.commodity.clone(),
            form: record.form,
            origin_site: record.site.clone(),
            site: record.site.clone(),
            custodian,
            status: LotStatus::Held,
            wet_mass: record.wet_mass,
            moisture_percent: Percent::below_hundred(record.moisture)
                .map_err(|e| e.within("moisture_percent"))?,
            inputs: Vec::new(),
            element_percent: Vec::new(),
            received_mass: None,
            figures: record.figures,
            index,
            created: Some(record.time),
            since: Some(record.time),
        })
    }

    /// A lot produced as `output` of transformation `record` at `site`
    /// (accepted at log index `index`), in the custody of `custodian`.
    pub fn produced(
        output: &OutputLot,
        record: &Transformation,
        custodian: PartyId,
        index: u64,
    ) -> Result<Self, oretrace_domain::Error> {
        Ok(LotState {
            id: output.id.clone(),
            commodity: output.commodity.clone(),
            form: output.form,
            origin_site: record.site.clone(),
            site: record.site.clone(),
            custodian,
            status: LotStatus::Held,
            wet_mass: output.wet_mass,
            moisture_percent: Percent::below_hundred(output.moisture)
                .map_err(|e| e.within("moisture_percent"))?,
            inputs: record.inputs.iter().map(|(id, _)| id.clone()).collect(),
            element_percent: Vec::new(),
            received_mass: None,
            figures: record.figures,
            index,
            created: Some(record.time),
            since: Some(record.time),
        })
    }

    pub fn id(&self) -> &LotId {
        &self.id
    }

    pub fn commodity(&self) -> &Token {
        &self.commodity
    }

    pub fn form(&self) -> LotForm {
        self.form
    }

    /// The site where it was commissioned or produced.
    pub fn origin_site(&self) -> &SiteId {
        &self.origin_site
    }

    /// The site where it is now (the destination while in transit).
    pub fn site(&self) -> &SiteId {
        &self.site
    }

    pub fn custodian(&self) -> &PartyId {
        &self.custodian
    }

    pub fn status(&self) -> &LotStatus {
        &self.status
    }

    /// The mass it was created with.
    pub fn wet_mass(&self) -> Mass {
        self.wet_mass
    }

    /// Moisture in percent of the wet mass.
    pub fn moisture(&self) -> Percent {
        self.moisture_percent
    }

    /// Lots it was made from (transformations), for provenance.
    pub fn inputs(&self) -> &[LotId] {
        &self.inputs
    }

    /// Latest element grades (percent, dry or wet as assayed), one per
    /// element, in the order of the elements' symbols.
    pub fn element_percent(&self) -> &[(Element, Percent)] {
        &self.element_percent
    }

    /// Mass as weighed on receipt, when received.
    pub fn received_mass(&self) -> Option<Mass> {
        self.received_mass
    }

    /// The mass it holds now: as last weighed on receipt, or as recorded.
    pub fn current_mass(&self) -> Mass {
        self.received_mass.unwrap_or(self.wet_mass)
    }

    pub fn figures(&self) -> Figures {
        self.figures
    }

    /// Log index of the record that created it.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// When it was commissioned or produced (the creating record's time);
    /// unknown for documents stored before it was kept.
    pub fn created(&self) -> Option<Timestamp> {
        self.created
    }

    /// When it reached its present site and custodian: `created`, or the
    /// time of its last receipt. Nothing may happen to it before then.
    pub fn since(&self) -> Option<Timestamp> {
        self.since
    }

    /// Records `grade` as the element's latest, replacing an earlier one,
    /// and returns the sum of its element grades.
    pub fn set_grade(&mut self, element: Element, grade: Percent) -> Decimal {
        self.element_percent.retain(|(e, _)| *e != element);
        self.element_percent.push((element, grade));
        self.element_percent.sort_by_key(|(e, _)| e.symbol());
        self.element_percent.iter().map(|(_, g)| g.value()).sum()
    }

    /// Shipped in `shipment`: in transit until received.
    pub fn ship(&mut self, shipment: Token) {
        self.status = LotStatus::InTransit { shipment };
    }

    /// Received by `custodian` at `site` at `time`, weighing `mass`.
    pub fn receive(&mut self, custodian: PartyId, site: SiteId, mass: Mass, time: Timestamp) {
        self.status = LotStatus::Held;
        self.custodian = custodian;
        self.site = site;
        self.received_mass = Some(mass);
        self.since = Some(time);
    }

    /// Consumed by `transformation`.
    pub fn consume(&mut self, transformation: Token) {
        self.status = LotStatus::Consumed { transformation };
    }
}

/// A shipment, as its record states it, and whether it was received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ShipmentDoc", into = "ShipmentDoc")]
pub struct ShipmentState {
    record: Shipment,
    shipper: PartyId,
    index: u64,
    received: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct ShipmentDoc {
    id: Token,
    shipper: PartyId,
    receiver: PartyId,
    lots: Vec<LotId>,
    from: SiteId,
    to: SiteId,
    record: RecordJson,
    index: u64,
    received: Option<u64>,
}

impl ShipmentState {
    /// The shipment `record` (accepted at log index `index`) states, its
    /// lots shipped by their custodian `shipper`; not yet received.
    pub fn new(record: Shipment, shipper: PartyId, index: u64) -> Self {
        ShipmentState {
            record,
            shipper,
            index,
            received: None,
        }
    }

    pub fn id(&self) -> &Token {
        &self.record.id
    }

    pub fn shipper(&self) -> &PartyId {
        &self.shipper
    }

    pub fn receiver(&self) -> &PartyId {
        &self.record.receiver
    }

    pub fn lots(&self) -> &[LotId] {
        &self.record.lots
    }

    pub fn from(&self) -> &SiteId {
        &self.record.from
    }

    pub fn to(&self) -> &SiteId {
        &self.record.to
    }

    /// The shipment record.
    pub fn record(&self) -> &Shipment {
        &self.record
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    /// Log index of the receipt, once received.
    pub fn received(&self) -> Option<u64> {
        self.received
    }

    /// Received by the receipt at log index `index`.
    pub fn mark_received(&mut self, index: u64) {
        self.received = Some(index);
    }
}

impl TryFrom<ShipmentDoc> for ShipmentState {
    type Error = String;

    fn try_from(doc: ShipmentDoc) -> Result<Self, String> {
        let what = format!("shipment {}", doc.id);
        let Record::Shipment(record) = stored_record(&what, &doc.record)? else {
            return Err(format!("{what}: its record is not a shipment record"));
        };
        if record.id != doc.id
            || record.receiver != doc.receiver
            || record.lots != doc.lots
            || record.from != doc.from
            || record.to != doc.to
        {
            return Err(format!(
                "{what}: its id, receiver, lots, from or to are not its record's"
            ));
        }
        Ok(ShipmentState {
            record,
            shipper: doc.shipper,
            index: doc.index,
            received: doc.received,
        })
    }
}

impl From<ShipmentState> for ShipmentDoc {
    fn from(state: ShipmentState) -> Self {
        let r = &state.record;
        ShipmentDoc {
            id: r.id.clone(),
            shipper: state.shipper,
            receiver: r.receiver.clone(),
            lots: r.lots.clone(),
            from: r.from.clone(),
            to: r.to.clone(),
            record: RecordJson::of(&Record::Shipment(state.record)),
            index: state.index,
            received: state.received,
        }
    }
}

/// An EPCIS event, as the query interface needs it: its id, type,
/// capturer and capture job as the domain's types, the event itself as
/// the log holds it (its logged text, a JSON object whose `type` is the
/// event type), the index terms as strings. Made from an accepted entry
/// (a captured event, [`EventState::captured`]; or a record that states
/// one, [`EventState::of_record`], whose capture job is
/// [`RECORD_CAPTURE`]) or read back from a store
/// ([`StoredEvent`], checked as it is read: a row that breaks a rule is a
/// store error, not a value without its invariant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredEvent", into = "StoredEvent")]
pub struct EventState {
    index: u64,
    event_id: EventId,
    event_type: EventType,
    event_time: i64,
    record_time: i64,
    terms: Vec<String>,
    captured_by: PartyId,
    capture: Token,
    event: String,
}

/// An event as a store keeps it, unchecked: every field as text or a
/// number, in the columns (or the JSON document) a backend writes. Read
/// into an [`EventState`] with `EventState::try_from`, which checks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub index: u64,
    pub event_id: String,
    pub event_type: String,
    pub event_time: i64,
    pub record_time: i64,
    pub terms: Vec<String>,
    pub captured_by: String,
    pub capture: String,
    pub event: String,
}

/// The `type` of the logged event `text`, which must be a JSON object
/// (read without building it).
fn logged_type(text: &str) -> Result<Option<std::borrow::Cow<'_, str>>, String> {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    if !text.starts_with('{') {
        return Err("the event is not a JSON object".into());
    }
    serde_json::from_str::<Head<'_>>(text)
        .map(|head| head.kind)
        .map_err(|e| format!("the event is not readable JSON: {e}"))
}

impl EventState {
    /// The event `event` states, accepted at log index `index`: its
    /// `eventTime` in milliseconds since the Unix epoch, its index terms
    /// (`oretrace_epcis::query::event_terms`, with its own `eventID=`).
    /// Refuses an event whose `type` is not an EPCIS event type.
    pub fn captured(
        index: u64,
        event: &CapturedEvent,
        event_time: i64,
        terms: Vec<String>,
    ) -> Result<Self, oretrace_domain::Error> {
        let event_type = event
            .event()
            .get("type")
            .and_then(|t| t.as_str())
            .ok_or_else(|| oretrace_domain::Error::invalid("event.type", "an event has a type"))
            .and_then(|t| EventType::parse(t).map_err(|e| e.within("event.type")))?;
        Ok(EventState {
            index,
            event_id: event.event_id().clone(),
            event_type,
            event_time,
            record_time: event.time().unix().saturating_mul(1000),
            terms,
            captured_by: event.captured_by().clone(),
            capture: event.capture().clone(),
            event: event.event_text().to_owned(),
        })
    }

    /// The event a record states, accepted at log index `index`: `event`
    /// is the event as `oretrace_epcis_map::record_event` builds it (with
    /// `@context`, and its CBV 2.0 hash as `eventID`), stored as its JSON
    /// text; `event_time` its `eventTime` and `record_time` the record's
    /// time, in milliseconds since the Unix epoch; `captured_by` the
    /// record's first signer; the capture job [`RECORD_CAPTURE`]. Refuses
    /// an event with no `eventID` or `type` of an EPCIS event type.
    pub fn of_record(
        index: u64,
        event: &serde_json::Value,
        event_time: i64,
        record_time: i64,
        captured_by: PartyId,
        terms: Vec<String>,
    ) -> Result<Self, oretrace_domain::Error> {
        let event_type = event
            .get("type")
            .and_then(|t| t.as_str())
            .ok_or_else(|| oretrace_domain::Error::invalid("event.type", "an event has a type"))
            .and_then(|t| EventType::parse(t).map_err(|e| e.within("event.type")))?;
        let event_id = event
            .get("eventID")
            .and_then(|t| t.as_str())
            .ok_or_else(|| {
                oretrace_domain::Error::invalid("event.eventID", "a record's event has an eventID")
            })
            .and_then(|t| EventId::parse(t).map_err(|e| e.within("event.eventID")))?;
        let capture = Token::parse(RECORD_CAPTURE).map_err(|e| e.within("capture"))?;
        Ok(EventState {
            index,
            event_id,
            event_type,
            event_time,
            record_time,
            terms,
            captured_by,
            capture,
            event: oretrace_epcis_map::to_json_text(event, false),
        })
    }

    /// Whether the event is a record's ([`EventState::of_record`]), not
    /// one captured through the EPCIS interface.
    pub fn is_record(&self) -> bool {
        self.capture.as_str() == RECORD_CAPTURE
    }

    /// Log index of the entry that holds it.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Its CBV 2.0 event hash.
    pub fn event_id(&self) -> &EventId {
        &self.event_id
    }

    pub fn event_type(&self) -> &EventType {
        &self.event_type
    }

    /// `eventTime`, in milliseconds since the Unix epoch.
    pub fn event_time(&self) -> i64 {
        self.event_time
    }

    /// When the registry recorded it, in milliseconds since the Unix epoch.
    pub fn record_time(&self) -> i64 {
        self.record_time
    }

    /// The index terms queries select candidates by
    /// (`oretrace_epcis::query::event_terms`).
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The party whose credentials captured it.
    pub fn captured_by(&self) -> &PartyId {
        &self.captured_by
    }

    /// The capture job that brought it.
    pub fn capture(&self) -> &Token {
        &self.capture
    }

    /// The event as the log holds it (its logged text: canonical JSON,
    /// the document's `@context` copied in), a JSON object.
    pub fn event_text(&self) -> &str {
        &self.event
    }
}

/// The capture job of the event a record states: `record` (the
/// [`EventState::capture`] of [`EventState::of_record`]). No capture job
/// the EPCIS interface opens has this name: its jobs are random hex.
pub const RECORD_CAPTURE: &str = "record";

impl TryFrom<StoredEvent> for EventState {
    type Error = String;

    fn try_from(row: StoredEvent) -> Result<Self, String> {
        // Named only when a rule is broken: rows are read by the hundred.
        let what =
            |problem: String| format!("event {:?} (entry {}): {problem}", row.event_id, row.index);
        let field = |name: &str, e: oretrace_domain::Error| what(e.within(name).to_string());
        let event_id = EventId::parse(&row.event_id).map_err(|e| what(e.to_string()))?;
        let event_type = EventType::parse(&row.event_type).map_err(|e| field("event_type", e))?;
        let captured_by = PartyId::parse(&row.captured_by).map_err(|e| field("captured_by", e))?;
        let capture = Token::parse(&row.capture).map_err(|e| field("capture", e))?;
        match logged_type(&row.event).map_err(what)? {
            Some(kind) if kind == event_type.as_str() => {}
            kind => {
                return Err(what(format!(
                    "the event's type is {kind:?}, the row's {:?}",
                    event_type.as_str()
                )));
            }
        }
        Ok(EventState {
            index: row.index,
            event_id,
            event_type,
            event_time: row.event_time,
            record_time: row.record_time,
            terms: row.terms,
            captured_by,
            capture,
            event: row.event,
        })
    }
}

impl From<EventState> for StoredEvent {
    fn from(state: EventState) -> Self {
        StoredEvent {
            index: state.index,
            event_id: state.event_id.as_str().to_owned(),
            event_type: state.event_type.as_str().to_owned(),
            event_time: state.event_time,
            record_time: state.record_time,
            terms: state.terms,
            captured_by: state.captured_by.as_str().to_owned(),
            capture: state.capture.as_str().to_owned(),
            event: state.event,
        }
    }
}

/// One change to the projections, produced by the ledger's rules and
/// applied by a store inside the transaction that appends the entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Change {
    PutParty(PartyState),
    PutKey(KeyState),
    RemoveKey {
        name: String,
        key_id: u32,
    },
    PutSite(SiteState),
    PutLot(LotState),
    PutShipment(ShipmentState),
    /// An EPCIS event, for queries: captured, or the one a record states
    /// ([`EventState::of_record`]).
    PutEvent(EventState),
    /// Entry `index` concerns `lot` (for the lot's event history).
    LotEvent {
        lot: String,
        index: u64,
    },
    /// An agreement's summary (replaces the previous one).
    PutAgreement(AgreementState),
    /// One version of an agreement (new, or with a confirmation or
    /// revealed clauses added).
    PutAgreementVersion(VersionState),
    /// A revealed clause.
    PutClause(ClauseState),
    /// A progress report.
    PutProgress(ProgressState),
    /// A report (replaces the previous version's state).
    PutReport(ReportState),
    /// A resource estimate (replaces the previous version's state).
    PutResource(ResourceState),
}

#[cfg(test)]
mod tests {
    use super::*;
    use oretrace_tlog::note::NoteSigner;

    fn refused<T: for<'de> Deserialize<'de> + std::fmt::Debug>(json: &str, needle: &str) {
        let e = serde_json::from_str::<T>(json).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }

    const LOT: &str = r#"{"id":"urn:oretrace:lot:fwo:sb-1","commodity":"antimony","form":"ore","origin_site":"fwo-mine","site":"fwo-mine","custodian":"fwo","status":"held","wet_mass":{"value":"12.5","unit":"kg"},"moisture_percent":"4","inputs":[],"element_percent":[["Sb","55"]],"received_mass":null,"figures":"illustrative","index":3,"created":"2025-09-10T06:00:00Z","since":"2025-09-10T06:00:00Z"}"#;

    #[test]
    fn a_stored_document_that_breaks_a_rule_is_an_error_when_read() {
        let lot: LotState = serde_json::from_str(LOT).unwrap();
        assert_eq!(serde_json::to_string(&lot).unwrap(), LOT);
        for (from, to, needle) in [
            (
                r#""moisture_percent":"4""#,
                r#""moisture_percent":"100.5""#,
                "at most 100",
            ),
            (
                r#""wet_mass":{"value":"12.5""#,
                r#""wet_mass":{"value":"-1""#,
                "may not be negative",
            ),
            (r#""custodian":"fwo""#, r#""custodian":"FWO""#, "a party id"),
            (r#"["Sb","55"]"#, r#"["Qq","55"]"#, "not an element symbol"),
            (
                r#""created":"2025-09-10T06:00:00Z""#,
                r#""created":"yesterday""#,
                "a time is UTC",
            ),
            (
                r#""status":"held""#,
                r#""status":"lost""#,
                "unknown variant",
            ),
        ] {
            assert!(LOT.contains(from), "{from}");
            refused::<LotState>(&LOT.replace(from, to), needle);
        }
        // Documents stored before `created` and `since` were kept.
        let old = LOT.replace(
            r#","created":"2025-09-10T06:00:00Z","since":"2025-09-10T06:00:00Z""#,
            "",
        );
        let lot: LotState = serde_json::from_str(&old).unwrap();
        assert_eq!((lot.created(), lot.since()), (None, None));

        let key = NoteSigner::from_seed("fwo/k1", [7; 32]).unwrap().verifier();
        let doc = format!(
            r#"{{"name":"fwo/k1","key_id":{},"vkey":"{}","party":"fwo"}}"#,
            key.key_id(),
            key.to_vkey()
        );
        let state: KeyState = serde_json::from_str(&doc).unwrap();
        assert_eq!(serde_json::to_string(&state).unwrap(), doc);
        refused::<KeyState>(
            &doc.replace(r#""name":"fwo/k1""#, r#""name":"fwo/k2""#),
            "the vkey is",
        );
        refused::<KeyState>(
            &doc.replace(&key.to_vkey(), "fwo/k1+00000000+AAAA"),
            "unreadable",
        );

        let party = format!(
            r#"{{"id":"fwo","record":{{"kind":"party","id":"fwo","name":"FWO","party_kind":"company","country":"PK","keys":["{}"],"owners":[],"time":"2025-09-08T10:00:00Z","figures":"reported"}},"index":0,"unconfirmed_owners":[]}}"#,
            NoteSigner::from_seed("fwo/main", [7; 32])
                .unwrap()
                .verifier()
                .to_vkey()
        );
        let state: PartyState = serde_json::from_str(&party).unwrap();
        assert_eq!(serde_json::to_string(&state).unwrap(), party);
        refused::<PartyState>(
            &party.replacen(r#""id":"fwo""#, r#""id":"ussm""#, 1),
            "is not its record's",
        );
        refused::<PartyState>(
            &party.replace(r#""country":"PK""#, r#""country":"pk""#),
            "country",
        );
    }

    #[test]
    fn grades_stay_one_per_element_in_symbol_order() {
        let mut lot: LotState = serde_json::from_str(LOT).unwrap();
        let grade = |text: &str| Percent::parse(text).unwrap();
        let element = |symbol: &str| Element::parse(symbol).unwrap();
        assert_eq!(
            lot.set_grade(element("Cu"), grade("1.5")),
            Decimal::new(565, 1)
        );
        assert_eq!(
            lot.set_grade(element("Sb"), grade("50")),
            Decimal::new(515, 1)
        );
        assert_eq!(
            lot.set_grade(element("Ag"), grade("0.5")),
            Decimal::from(52)
        );
        let symbols: Vec<&str> = lot
            .element_percent()
            .iter()
            .map(|(e, _)| e.symbol())
            .collect();
        assert_eq!(symbols, ["Ag", "Cu", "Sb"]);
        assert!(
            serde_json::to_string(&lot)
                .unwrap()
                .contains(r#""element_percent":[["Ag","0.5"],["Cu","1.5"],["Sb","50"]]"#)
        );
    }

    const EVENT: &str = r#"{"index":7,"event_id":"ni:///sha-256;0a1b0a1b0a1b0a1b0a1b0a1b0a1b0a1b0a1b0a1b0a1b0a1b0a1b0a1b0a1b0a1b?ver=CBV2.0","event_type":"ObjectEvent","event_time":1757325600000,"record_time":1757325601234,"terms":["epc:urn:oretrace:lot:fwo:x","type:ObjectEvent"],"captured_by":"fwo","capture":"c-1","event":"{\"action\":\"OBSERVE\",\"type\":\"ObjectEvent\"}"}"#;

    #[test]
    fn an_event_state_serialises_as_pinned() {
        let event: EventState = serde_json::from_str(EVENT).unwrap();
        assert_eq!(event.index(), 7);
        assert_eq!(event.event_type(), &EventType::Object);
        assert_eq!(event.captured_by().as_str(), "fwo");
        assert_eq!(event.capture().as_str(), "c-1");
        assert_eq!(
            (event.event_time(), event.record_time()),
            (1_757_325_600_000, 1_757_325_601_234)
        );
        assert_eq!(
            event.terms(),
            ["epc:urn:oretrace:lot:fwo:x", "type:ObjectEvent"]
        );
        assert_eq!(
            event.event_text(),
            r#"{"action":"OBSERVE","type":"ObjectEvent"}"#
        );
        assert_eq!(serde_json::to_string(&event).unwrap(), EVENT);
        let stored = StoredEvent::from(event.clone());
        assert_eq!(serde_json::to_string(&stored).unwrap(), EVENT);
        assert_eq!(EventState::try_from(stored).unwrap(), event);
        // An extension event type, kept as written.
        let extension = EVENT.replace("ObjectEvent", "https://ns.example.com/epcis/SampleEvent");
        let event: EventState = serde_json::from_str(&extension).unwrap();
        assert_eq!(
            event.event_type().as_str(),
            "https://ns.example.com/epcis/SampleEvent"
        );
        assert_eq!(serde_json::to_string(&event).unwrap(), extension);
    }

    #[test]
    fn a_stored_event_that_breaks_a_rule_is_an_error_when_read() {
        for (from, to, needle) in [
            ("sha-256;0a1b", "sha-256;0A1B", "event_id: an event id is"),
            (r#"?ver=CBV2.0""#, r#"""#, "event_id"),
            (
                r#""event_type":"ObjectEvent""#,
                r#""event_type":"Object""#,
                "event_type: \"Object\" is not an EPCIS event type",
            ),
            (
                r#""event_type":"ObjectEvent""#,
                r#""event_type":"AggregationEvent""#,
                "the event's type is Some(\"ObjectEvent\"), the row's \"AggregationEvent\"",
            ),
            (
                r#""captured_by":"fwo""#,
                r#""captured_by":"FWO""#,
                "captured_by",
            ),
            (r#""capture":"c-1""#, r#""capture":"c 1""#, "capture"),
            (r#""capture":"c-1""#, r#""capture":"""#, "capture"),
            (
                r#"\"type\":\"ObjectEvent\"}""#,
                r#"\"kind\":\"ObjectEvent\"}""#,
                "the event's type is None",
            ),
            (r#""event":"{"#, r#""event":"["#, "not a JSON object"),
            (r#""event":"{"#, r#""event":" {"#, "not a JSON object"),
            (
                r#"\"ObjectEvent\"}""#,
                r#"\"ObjectEvent\"""#,
                "not readable JSON",
            ),
            (
                r#"\"ObjectEvent\"}""#,
                r#"\"ObjectEvent\"}x""#,
                "not readable JSON",
            ),
            (
                r#"{\"action\""#,
                r#"{\"type\":\"ObjectEvent\",\"action\""#,
                "not readable JSON",
            ),
        ] {
            assert!(EVENT.contains(from), "{from}");
            refused::<EventState>(&EVENT.replace(from, to), needle);
        }
    }
}
