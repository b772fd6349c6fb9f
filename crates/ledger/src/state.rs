//! Projections: the registry's current state, derived from the log alone.
//! Stored by every backend as JSON documents keyed by id, so that one
//! contract fits SQLite and PostgreSQL alike.

use serde::{Deserialize, Serialize};

use oretrace_domain::wire::{MassJson, RecordJson};

/// A registered party and where its current registration is in the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartyState {
    pub id: String,
    /// The party record, as JSON.
    pub record: RecordJson,
    /// Log index of the record that made this state.
    pub index: u64,
    /// Owners the record names that have not confirmed the claim (by
    /// signing a version of the record that names them with the same
    /// share and control): shown as unconfirmed, never relied on.
    #[serde(default)]
    pub unconfirmed_owners: Vec<String>,
}

/// A signing key and the party it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyState {
    pub name: String,
    pub key_id: u32,
    pub vkey: String,
    pub party: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteState {
    pub id: String,
    pub operator: String,
    pub country: String,
    pub record: RecordJson,
    pub index: u64,
}

/// Where a lot stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum LotStatus {
    /// At a site, in someone's custody.
    Held,
    /// Shipped and not yet received.
    InTransit { shipment: String },
    /// Consumed by a transformation.
    Consumed { transformation: String },
}

/// A lot: what it is, where it is, who holds it, where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LotState {
    pub id: String,
    pub commodity: String,
    pub form: String,
    /// The site where it was commissioned or produced.
    pub origin_site: String,
    /// The site where it is now (the destination while in transit).
    pub site: String,
    pub custodian: String,
    #[serde(flatten)]
    pub status: LotStatus,
    pub wet_mass: MassJson,
    pub moisture_percent: String,
    /// Lots it was made from (transformations), for provenance.
    pub inputs: Vec<String>,
    /// Latest element grades (percent, dry or wet as assayed) by element.
    pub element_percent: Vec<(String, String)>,
    /// Mass as weighed on receipt, when received.
    pub received_mass: Option<MassJson>,
    pub figures: String,
    /// Log index of the record that created it.
    pub index: u64,
    /// When it was commissioned or produced (the creating record's time).
    #[serde(default)]
    pub created: String,
    /// When it reached its present site and custodian: `created`, or the
    /// time of its last receipt. Nothing may happen to it before then.
    #[serde(default)]
    pub since: String,
}

impl LotState {
    /// The mass it holds now: as last weighed on receipt, or as recorded.
    pub fn current_mass(&self) -> &MassJson {
        self.received_mass.as_ref().unwrap_or(&self.wet_mass)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShipmentState {
    pub id: String,
    pub shipper: String,
    pub receiver: String,
    pub lots: Vec<String>,
    pub from: String,
    pub to: String,
    pub record: RecordJson,
    pub index: u64,
    /// Log index of the receipt, once received.
    pub received: Option<u64>,
}

/// A captured EPCIS event, as the query interface needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventState {
    /// Log index of the entry that holds it.
    pub index: u64,
    /// Its CBV 2.0 event hash.
    pub event_id: String,
    pub event_type: String,
    /// `eventTime`, in milliseconds since the Unix epoch.
    pub event_time: i64,
    /// When the registry recorded it, in milliseconds since the Unix epoch.
    pub record_time: i64,
    /// The index terms queries select candidates by
    /// (`oretrace_epcis::query::event_terms`).
    pub terms: Vec<String>,
    pub captured_by: String,
    /// The capture job that brought it.
    pub capture: String,
    /// The event as captured (canonical JSON, the document's `@context`
    /// copied in).
    pub event: String,
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
    /// A captured EPCIS event, for queries.
    PutEvent(EventState),
    /// Entry `index` concerns `lot` (for the lot's event history).
    LotEvent {
        lot: String,
        index: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_state_serialises_as_pinned() {
        let event = EventState {
            index: 7,
            event_id: "ni:///sha-256;0a1b?ver=CBV2.0".into(),
            event_type: "ObjectEvent".into(),
            event_time: 1_757_325_600_000,
            record_time: 1_757_325_601_234,
            terms: vec![
                "epc:urn:oretrace:lot:fwo:x".into(),
                "type:ObjectEvent".into(),
            ],
            captured_by: "fwo".into(),
            capture: "c-1".into(),
            event: r#"{"type":"ObjectEvent"}"#.into(),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"index":7,"event_id":"ni:///sha-256;0a1b?ver=CBV2.0","event_type":"ObjectEvent","event_time":1757325600000,"record_time":1757325601234,"terms":["epc:urn:oretrace:lot:fwo:x","type:ObjectEvent"],"captured_by":"fwo","capture":"c-1","event":"{\"type\":\"ObjectEvent\"}"}"#
        );
        assert_eq!(serde_json::from_str::<EventState>(&json).unwrap(), event);
    }
}
