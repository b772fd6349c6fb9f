//! Hand-built captured-event entries, each breaking one guard of the
//! ledger's capture rules (`src/capture.rs`): each is refused with its
//! reason and nothing is written. The first test shows the entry they
//! start from is accepted. (The world: fwo holds lot
//! `urn:oretrace:lot:sb-1`, created 2025-09-02, at `fwo-chitral`; ussm
//! runs `ussm-madison`; the log key is `oretrace.test/ledger`.)

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_domain::Record;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::event::{
    CaptureAuth, CaptureBehaviour, CapturedEvent, EventId, KeyRef, SignatureLine, document_note,
};
use oretrace_domain::record::Figures;
use oretrace_domain::values::{Digest, PartyId, Timestamp, Token};
use oretrace_ledger::Store as _;
use oretrace_ledger::rules::Refusal;
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};

mod common;
use common::*;

const GS1: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
const LOT: &str = "urn:oretrace:lot:sb-1";
/// When the registry records the entries (after the lot, the sites).
const RECORDED: &str = "2025-09-10T00:05:00Z";

fn log_key() -> NoteSigner {
    key("oretrace.test/ledger", 2)
}

/// An inspection of the lot, which the registry reads as no record.
fn inspection() -> Value {
    json!({"@context": [GS1], "type": "ObjectEvent", "action": "OBSERVE",
           "bizStep": "inspecting", "eventTime": "2025-09-10T00:00:00Z",
           "eventTimeZoneOffset": "+00:00", "epcList": [LOT]})
}

fn hash(event: &Value) -> EventId {
    let h =
        oretrace_epcis::event_hash(event, &oretrace_epcis::Context::from_document(event)).unwrap();
    EventId::parse(&h).unwrap()
}

fn token(signer: &NoteSigner) -> CaptureAuth {
    CaptureAuth::Token {
        key: KeyRef::new(signer.name(), signer.key_id()).unwrap(),
    }
}

const DOCUMENT: &[u8] = b"the capturing document";

/// Detached signatures by `signers` over the document note naming
/// `captured_by` and `behaviour`.
fn signed_by(
    signers: &[&NoteSigner],
    captured_by: &str,
    behaviour: CaptureBehaviour,
) -> CaptureAuth {
    let note = document_note(
        "oretrace.test/ledger",
        &Digest::of(DOCUMENT),
        captured_by,
        behaviour,
    );
    CaptureAuth::Signed {
        document: Digest::of(DOCUMENT),
        behaviour: CaptureBehaviour::Rollback,
        signatures: signers
            .iter()
            .map(|s| SignatureLine::from(s.sign(&note).unwrap().signatures()[0].clone()))
            .collect(),
    }
}

struct Entry {
    id: Option<EventId>,
    event: Value,
    captured_by: &'static str,
    auth: CaptureAuth,
    figures: Figures,
    time: &'static str,
}

impl Entry {
    fn of(event: Value, auth: CaptureAuth) -> Self {
        Entry {
            id: None,
            event,
            captured_by: "fwo",
            auth,
            figures: Figures::Reported,
            time: RECORDED,
        }
    }

    fn record(self) -> Record {
        Record::Event(
            CapturedEvent::new(
                self.id.unwrap_or_else(|| hash(&self.event)),
                self.event,
                PartyId::parse(self.captured_by).unwrap(),
                Token::parse("job-1").unwrap(),
                self.auth,
                Timestamp::parse(self.time).unwrap(),
                self.figures,
            )
            .unwrap(),
        )
    }

    fn signed(self, signers: &[&NoteSigner]) -> SignedRecord {
        SignedRecord::sign(self.record(), signers).unwrap()
    }
}

/// Submits the entry signed by the log key; expects a refusal whose text
/// holds `want`.
fn refuses(w: &World, entry: Entry, want: &str) -> Refusal {
    let refusal = refused(w, entry.signed(&[&log_key()]));
    assert!(
        refusal.to_string().contains(want),
        "{refusal:?} should say {want:?}"
    );
    refusal
}

#[test]
fn the_entry_the_others_break_is_accepted() {
    let w = world();
    let entry = Entry::of(inspection(), token(&w.fwo));
    w.ledger
        .submit_blocking(entry.signed(&[&log_key()]))
        .unwrap();
    let signed = Entry::of(
        inspection(),
        signed_by(&[&w.fwo], "fwo", CaptureBehaviour::Rollback),
    );
    // The same event again is a replay, whatever the auth.
    assert!(matches!(
        refused(&w, signed.signed(&[&log_key()])),
        Refusal::Replay { .. }
    ));
}

#[test]
fn an_entry_signed_by_more_than_the_log_key_is_refused() {
    let w = world();
    let entry = Entry::of(inspection(), token(&w.fwo)).signed(&[&log_key(), &w.fwo]);
    let r = refused(&w, entry);
    assert!(matches!(r, Refusal::Unauthenticated(_)), "{r:?}");
    assert!(r.to_string().contains("log key alone"), "{r}");
}

#[test]
fn an_entry_signed_by_another_key_is_refused() {
    let w = world();
    let entry = Entry::of(inspection(), token(&w.fwo)).signed(&[&w.fwo]);
    let r = refused(&w, entry);
    assert!(r.to_string().contains("log key alone"), "{r}");
}

#[test]
fn an_entry_whose_log_signature_is_for_other_bytes_is_refused() {
    let w = world();
    let good = Entry::of(inspection(), token(&w.fwo)).signed(&[&log_key()]);
    let mut other = inspection();
    other["bizStep"] = json!("storing");
    let other = Entry::of(other, token(&w.fwo)).signed(&[&log_key()]);
    // The other entry's text under the first entry's signature line.
    let text = String::from_utf8(other.canonical().to_vec()).unwrap();
    let line = SignatureLine::from(good.signatures()[0].clone());
    let forged = format!("{text}\n\u{2014} {line}\n");
    let forged = SignedRecord::from_entry(forged.as_bytes()).unwrap();
    let r = refused(&w, forged);
    assert!(matches!(r, Refusal::Unauthenticated(_)), "{r:?}");
}

#[test]
fn a_token_key_nobody_registered_is_refused() {
    let w = world();
    let nobody = key("nobody/k1", 77);
    let r = refuses(
        &w,
        Entry::of(inspection(), token(&nobody)),
        "is not registered",
    );
    assert!(matches!(r, Refusal::Unauthenticated(_)), "{r:?}");
}

#[test]
fn a_token_key_of_another_party_is_refused() {
    let w = world();
    let r = refuses(
        &w,
        Entry::of(inspection(), token(&w.ussm)),
        "belongs to ussm",
    );
    assert!(matches!(r, Refusal::Forbidden(_)), "{r:?}");
}

#[test]
fn a_document_signature_by_an_unregistered_key_is_refused() {
    let w = world();
    let nobody = key("nobody/k1", 77);
    let auth = signed_by(&[&w.fwo, &nobody], "fwo", CaptureBehaviour::Rollback);
    let r = refuses(&w, Entry::of(inspection(), auth), "is not registered");
    assert!(matches!(r, Refusal::Unauthenticated(_)), "{r:?}");
}

#[test]
fn a_document_signature_over_another_behaviour_is_refused() {
    let w = world();
    // fwo signed for `proceed`; the entry records `rollback`.
    let auth = signed_by(&[&w.fwo], "fwo", CaptureBehaviour::Proceed);
    refuses(&w, Entry::of(inspection(), auth), "does not verify");
}

#[test]
fn a_document_the_capturer_did_not_sign_is_refused() {
    let w = world();
    // ussm signed (validly) a capture recorded as fwo's.
    let auth = signed_by(&[&w.ussm], "fwo", CaptureBehaviour::Rollback);
    let r = refuses(
        &w,
        Entry::of(inspection(), auth),
        "the capture by fwo must be signed by fwo",
    );
    assert!(matches!(r, Refusal::Forbidden(_)), "{r:?}");
}

#[test]
fn an_event_id_that_is_not_the_events_hash_is_refused() {
    let w = world();
    let mut entry = Entry::of(inspection(), token(&w.fwo));
    let mut other = inspection();
    other["bizStep"] = json!("storing");
    entry.id = Some(hash(&other));
    refuses(&w, entry, "is not the CBV 2.0 hash");
}

#[test]
fn an_event_the_mapping_refuses_is_refused() {
    let w = world();
    let mut event = inspection();
    event["https://oretrace.org/epcis/figures"] = json!("perhaps");
    refuses(
        &w,
        Entry::of(event, token(&w.fwo)),
        "\"reported\" or \"illustrative\"",
    );
}

#[test]
fn figures_that_disagree_with_the_event_are_refused() {
    let w = world();
    let mut entry = Entry::of(inspection(), token(&w.fwo));
    entry.figures = Figures::Illustrative;
    refuses(&w, entry, "the event's figures are reported");
}

/// The event of a lot registered at `site` at `time`, as the mapping
/// writes it.
fn commissioning(site: &str, time: &str) -> Value {
    let mut lot_json = lot("urn:oretrace:lot:fwo:new-1", site);
    lot_json["time"] = json!(time);
    let mut event = oretrace_epcis_map::event_of_record(&record(lot_json)).unwrap();
    event["@context"] = oretrace_epcis_map::context();
    event
}

#[test]
fn a_stated_record_its_rules_refuse_is_refused() {
    let w = world();
    // A lot commissioned by fwo at ussm's plant.
    let event = commissioning("ussm-madison", "2025-09-09T00:00:00Z");
    let mut entry = Entry::of(event, token(&w.fwo));
    entry.figures = Figures::Illustrative;
    let r = refused(&w, entry.signed(&[&log_key()]));
    assert!(r.to_string().contains("must be signed by ussm"), "{r}");
}

#[test]
fn a_stated_record_dated_after_the_capture_is_refused() {
    let w = world();
    let event = commissioning("fwo-chitral", "2025-12-01T00:00:00Z");
    let mut entry = Entry::of(event, token(&w.fwo));
    entry.figures = Figures::Illustrative;
    refuses(&w, entry, "event.eventTime");
}

fn naming(lot: &str) -> Value {
    let mut event = inspection();
    event["epcList"] = json!([lot]);
    event
}

#[test]
fn a_resolver_digital_link_not_in_canonical_form_is_refused() {
    let w = world();
    // A lot of a trade item with a qualifier (22) no lot carries: it has
    // no canonical form the index could keep.
    let mut event = inspection();
    event.as_object_mut().unwrap().remove("epcList");
    event["quantityList"] = json!([{"epcClass": "https://id.gs1.org/01/09506000134352/10/LOTA/22/x",
                                    "quantity": 1, "uom": "KGM"}]);
    refuses(
        &w,
        Entry::of(event, token(&w.fwo)),
        "not a GS1 Digital Link in its canonical form",
    );
}

#[test]
fn another_spelling_of_a_registered_lot_is_refused() {
    let w = world();
    let event = naming("URN:oretrace:lot:sb-%31");
    refuses(
        &w,
        Entry::of(event, token(&w.fwo)),
        "write it as urn:oretrace:lot:sb-1",
    );
}

#[test]
fn an_unread_event_consuming_a_registered_lot_is_refused() {
    let w = world();
    let event = json!({"@context": [GS1], "type": "TransformationEvent",
        "eventTime": "2025-09-10T00:00:00Z", "eventTimeZoneOffset": "+00:00",
        "inputEPCList": [LOT], "outputEPCList": ["urn:oretrace:lot:fwo:out-1"]});
    refuses(
        &w,
        Entry::of(event, token(&w.fwo)),
        "consumes registered lot",
    );
}

#[test]
fn an_unread_event_dated_before_its_lot_is_refused() {
    let w = world();
    let mut event = inspection();
    event["eventTime"] = json!("2025-09-01T00:00:00Z");
    refuses(&w, Entry::of(event, token(&w.fwo)), "is before lot");
}

#[test]
fn an_unread_event_naming_another_partys_new_lot_is_refused() {
    let w = world();
    let event = naming("urn:oretrace:lot:ussm:x-1");
    refuses(&w, Entry::of(event, token(&w.fwo)), "in ussm's namespace");
}

#[test]
fn an_unread_event_naming_a_lot_without_its_custodian_is_refused() {
    let w = world();
    let mut entry = Entry::of(inspection(), token(&w.ussm));
    entry.captured_by = "ussm";
    refuses(&w, entry, "its custodian");
}

#[test]
fn an_unread_event_at_a_site_without_its_operator_is_refused() {
    let w = world();
    let mut event = naming("urn:oretrace:lot:fwo:loose-1");
    event["readPoint"] = json!({"id": "urn:oretrace:site:ussm-madison"});
    refuses(&w, Entry::of(event, token(&w.fwo)), "(its operator)");
}

#[test]
fn an_unread_event_at_an_unregistered_registry_site_is_refused() {
    let w = world();
    let mut event = naming("urn:oretrace:lot:fwo:loose-1");
    event["bizLocation"] = json!({"id": "urn:oretrace:site:nowhere"});
    refuses(&w, Entry::of(event, token(&w.fwo)), "is no registered site");
}

#[test]
fn an_event_without_an_event_time_is_refused() {
    let w = world();
    let mut event = naming("urn:oretrace:lot:fwo:loose-1");
    event.as_object_mut().unwrap().remove("eventTime");
    refuses(
        &w,
        Entry::of(event, token(&w.fwo)),
        "a date-time with offset is required",
    );
}

#[test]
fn an_event_after_its_capture_is_refused() {
    let w = world();
    let mut event = naming("urn:oretrace:lot:fwo:loose-1");
    event["eventTime"] = json!("2025-09-10T03:00:00Z");
    refuses(&w, Entry::of(event, token(&w.fwo)), "event.eventTime");
}

#[test]
fn an_event_without_a_type_is_refused() {
    let w = world();
    let mut event = naming("urn:oretrace:lot:fwo:loose-1");
    event.as_object_mut().unwrap().remove("type");
    refuses(&w, Entry::of(event, token(&w.fwo)), "type");
}

#[test]
fn an_event_whose_type_is_neither_an_epcis_type_nor_a_uri_is_refused() {
    let w = world();
    for kind in ["SampleEvent", "objectEvent", "Sample Event:x"] {
        let mut event = inspection();
        event["type"] = json!(kind);
        event.as_object_mut().unwrap().remove("epcList");
        let r = refuses(
            &w,
            Entry::of(event, token(&w.fwo)),
            "is not an EPCIS event type",
        );
        assert!(r.to_string().contains("event.type"), "{r}");
        assert!(matches!(r, Refusal::Invalid(_)), "{r:?}");
    }
    // An extension event type (a URI) is captured, its type kept as written.
    let mut event = inspection();
    event["type"] = json!("https://ns.example.com/epcis/SampleEvent");
    event.as_object_mut().unwrap().remove("epcList");
    let index = w
        .ledger
        .submit_blocking(Entry::of(event.clone(), token(&w.fwo)).signed(&[&log_key()]))
        .unwrap();
    let stored = w
        .ledger
        .store()
        .event(hash(&event).as_str())
        .unwrap()
        .unwrap();
    assert_eq!(stored.index(), index);
    assert_eq!(
        stored.event_type().as_str(),
        "https://ns.example.com/epcis/SampleEvent"
    );
}
