//! Log entries (signed notes over canonical record bytes), the JSON
//! envelope and the JSON shapes of records: each is refused with an error
//! or read into a record that writes back to itself.

#![expect(
    clippy::expect_used,
    reason = "a fuzz target reports a broken invariant by panicking"
)]

use oretrace_domain::Record;
use oretrace_domain::canonical::{decode, encode};
use oretrace_domain::envelope::{EnvelopeJson, SignedRecord};
use oretrace_domain::wire::RecordJson;

use crate::MAX_INPUT;

/// A record's canonical bytes and its JSON shape both give it back.
fn round_trips(record: &Record) {
    let bytes = encode(record);
    let again = decode(&bytes).expect("a record's canonical bytes decode");
    assert_eq!(
        &again, record,
        "canonical bytes do not give the record back"
    );
    let json = RecordJson::of(record);
    let again = json.to_record().expect("a record's JSON shape is valid");
    assert_eq!(
        &again, record,
        "the JSON shape does not give the record back"
    );
}

/// A log entry (`SignedRecord::from_entry`), and the canonical text alone.
pub fn entry(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    if let Ok(record) = decode(data) {
        assert_eq!(encode(&record), data, "decode accepted non-canonical bytes");
        round_trips(&record);
    }
    if let Ok(signed) = SignedRecord::from_entry(data) {
        round_trips(signed.record());
        let again = SignedRecord::from_entry(&signed.entry_bytes()).expect("an entry re-parses");
        assert_eq!(again.record(), signed.record());
        assert_eq!(again.record_hash(), signed.record_hash());
        if !matches!(signed.record(), Record::Event(_)) {
            // The envelope carries the same record and signature lines.
            let envelope = signed.to_envelope();
            if let Ok(back) = SignedRecord::from_envelope(&envelope) {
                assert_eq!(back.record(), signed.record());
                assert_eq!(back.signatures(), signed.signatures());
            }
        }
    }
}

/// A record's JSON (`RecordJson::parse`) and a signed envelope's JSON
/// (`SignedRecord::from_envelope`), as `POST /records` reads them.
pub fn json(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    if let Ok(record) = RecordJson::parse(data) {
        round_trips(&record);
    }
    if let Ok(envelope) = serde_json::from_slice::<EnvelopeJson>(data)
        && let Ok(signed) = SignedRecord::from_envelope(&envelope)
    {
        round_trips(signed.record());
        let again = SignedRecord::from_entry(&signed.entry_bytes())
            .expect("an accepted envelope's entry parses");
        assert_eq!(again.record(), signed.record());
        assert_eq!(again.signatures(), signed.signatures());
    }
}
