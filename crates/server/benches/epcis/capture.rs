//! Capture of one large document through the HTTP API, interleaved with its bounds.

#![expect(
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::time::Instant;

use oretrace_ledger::Store;
use oretrace_tlog::note::SignedNote;
use serde_json::Value;

use crate::Config;
use crate::bounds::{raw_insert, sign_verify};
use crate::support::{
    EVENTS_PER_LOT, Keys, Signed, document, finished, post_capture, sign_document, start,
};

/// One capture on a fresh store: (seconds to the finished job, seconds to
/// the 202, the entries' bytes).
pub(crate) fn capture_once(
    rt: &tokio::runtime::Runtime,
    keys: &Keys,
    doc: &Signed,
    events: usize,
) -> (f64, f64, Vec<Vec<u8>>) {
    let dir = oretrace_benchkit::fresh_dir("epcis-capture");
    let (ledger, app) = start(dir.path(), keys);
    let before = ledger.store().size().expect("the log size");
    let (secs, accepted) = rt.block_on(async {
        let start = Instant::now();
        let location = post_capture(&app, doc).await;
        let accepted = start.elapsed().as_secs_f64();
        finished(&app, &location, events).await;
        (start.elapsed().as_secs_f64(), accepted)
    });
    let entries = ledger
        .store()
        .read_entries(before, events as u64)
        .expect("reading the entries back");
    drop(app);
    drop(ledger);
    (secs, accepted, entries)
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CaptureFigures {
    pub(crate) events: usize,
    pub(crate) body_bytes: usize,
    pub(crate) mean_entry: f64,
    pub(crate) capture: f64,
    pub(crate) accepted: f64,
    pub(crate) raw: f64,
    pub(crate) parse: f64,
    pub(crate) validate: f64,
    pub(crate) hash: f64,
    pub(crate) sign_verify: f64,
}

pub(crate) fn capture_section(
    rt: &tokio::runtime::Runtime,
    cfg: &Config,
    keys: &Keys,
) -> CaptureFigures {
    let n = cfg.capture_events;
    // Its own range of events, apart from the query store's.
    let doc = sign_document(
        document(10_000_000, n, (n as u64 / EVENTS_PER_LOT).max(1)),
        &keys.party_key,
    );
    let parsed: Value = serde_json::from_slice(&doc.body).expect("the document parses");
    let validator = oretrace_epcis_schema::EpcisValidator::shared().expect("the validator");
    if let Err(v) = validator.validate_document(&parsed) {
        panic!("the bench document is not valid EPCIS: {v:?}");
    }
    // A first capture, untimed: the entries' bytes for the raw bound, and
    // warm-up (schema compilation, page cache).
    let (_, _, entries) = capture_once(rt, keys, &doc, n);
    let texts: Vec<String> = entries
        .iter()
        .map(|e| {
            let note = SignedNote::parse(e).expect("an entry is a signed note");
            note.text().to_owned()
        })
        .collect();
    let verifier = keys.log_key.verifier();
    let mut samples: Vec<[f64; 7]> = Vec::new();
    for _ in 0..cfg.capture_reps {
        let (capture, accepted, _) = capture_once(rt, keys, &doc, n);
        let raw = raw_insert(&entries);
        let parse =
            oretrace_benchkit::time(|| serde_json::from_slice::<Value>(&doc.body).expect("parses"));
        let validate = oretrace_benchkit::time(|| validator.validate_document(&parsed).is_ok());
        let hash = oretrace_benchkit::time(|| {
            oretrace_epcis::document_event_hashes(&parsed).expect("hashes")
        });
        let sv = sign_verify(&texts, &keys.log_key, &verifier);
        samples.push([capture, accepted, raw, parse, validate, hash, sv]);
    }
    let med = |k: usize| oretrace_benchkit::median(samples.iter().map(|s| s[k]).collect());
    CaptureFigures {
        events: n,
        body_bytes: doc.body.len(),
        mean_entry: entries.iter().map(Vec::len).sum::<usize>() as f64 / n as f64,
        capture: med(0),
        accepted: med(1),
        raw: med(2),
        parse: med(3),
        validate: med(4),
        hash: med(5),
        sign_verify: med(6),
    }
}
