//! Event hashing throughput of `oretrace-epcis` (events/s on one core),
//! reported against two bounds measured in the same run (the machines we
//! run on are shared and noisy, so absolute figures alone mean little):
//!
//! * the **reference implementation**, PyPI `epcis-event-hash-generator`
//!   1.9.3 (installed into `.venv/interop` by `bash .ci/interop-env`;
//!   `ORETRACE_INTEROP_PYTHON` overrides the interpreter), hashing the same
//!   documents;
//! * **raw SHA-256** (`sha2::Sha256::digest`) over the bytes of the events'
//!   pre-hash strings: the irreducible cost of the hash, without building
//!   the strings.
//!
//! Document sets:
//!
//! * `conformance`: every `*.jsonld` of `shared/conformance/event-hash/`
//!   and `shared/conformance/epcis/examples/` (next to this workspace, or
//!   `ORETRACE_CONFORMANCE_DIR`; the bench fails without them; not
//!   the `WithErrorDeclaration` subfolder) that the reference can process:
//!   `EPCISQueryDocument.jsonld` and
//!   `Example-TransactionEvents-2020_07_03y.jsonld` are left out (see
//!   `crates/cli/tests/epcis_cli.rs`).
//! * `generated`: one document of 10,000 mineral-chain-like ObjectEvents
//!   built in code (quantityList, readPoint, bizLocation, bizTransactionList,
//!   sourceList/destinationList, a sensorElementList with assay
//!   sensorReports, a user extension).
//!
//! For each set, in each mode:
//!
//! * `oretrace, parsed`: [`document_event_hashes`] of the parsed documents
//!   (`serde_json::Value`), so the document's [`oretrace_epcis::Context`],
//!   the pre-hash strings, SHA-256 and the `ni:` ids.
//! * `oretrace, parse+hash`: `serde_json::from_str` of the text, then the
//!   same.
//! * `reference, parsed` / `reference, parse+hash`: the reference's Python
//!   API, `json_to_py.event_list_from_epcis_document_json` (its JSON-LD
//!   expansion and tree conversion), `derive_prehashes_from_events` and
//!   `calculate_hashes_from_pre_hashes`, with `json.loads` of the text timed
//!   separately (the parse). One Python process per set, spawned once: an
//!   inline script reads the documents, hashes a one-event document untimed
//!   (warm-up), then times only the hashing passes over the set until they
//!   take at least 1 s (at least one pass), so interpreter start-up and
//!   imports are not counted. The ids of its first pass must equal
//!   oretrace's, or the bench fails. The reference keeps the documents'
//!   namespace prefixes in a module global; the script clears it before
//!   each document, as one process per document would.
//!
//! oretrace is measured in repetitions interleaved with the SHA-256 bound,
//! half of them before and half after the reference's run, and the medians
//! are reported. Ratios are `bound time / time`: against SHA-256 1.00 means
//! "as fast as hashing the pre-hash strings alone"; against the reference it
//! is how many times faster than the reference oretrace is. Without the
//! interpreter the bench says so and reports no reference figure.
//!
//! Plain `Instant` timing with a printed table, not criterion: the reference
//! cannot run inside criterion, and its figure and ours must come from the
//! same run.
//!
//! Quick mode (`-- --test`, `cargo test --benches`, nextest, or
//! `ORETRACE_BENCH_QUICK=1`): a 200-event generated document, one
//! repetition, the reference timed for 0.1 s; it checks that everything
//! works (including agreement with the reference, which it needs: without
//! `bash .ci/interop-env` it fails) in a few seconds. Its figures are not
//! meant to be quoted. To a test runner (nextest) it is one test,
//! `quick_form_with_its_checks`, so CI runs those checks.
//!
//! Run: `cargo bench -p oretrace-epcis --bench hash`.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use oretrace_benchkit::{median, time};
use oretrace_epcis::{Context, document_event_hashes, document_events, event_prehash};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Documents of the conformance folders that PyPI 1.9.3 cannot process
/// (the same list as `crates/cli/tests/epcis_cli.rs`), with the reason.
const REFERENCE_CANNOT: &[(&str, &str)] = &[
    (
        "EPCISQueryDocument.jsonld",
        "release 1.9.3 fails with KeyError 'event' on query documents",
    ),
    (
        "Example-TransactionEvents-2020_07_03y.jsonld",
        "release 1.9.3 fails on object-valued @context terms and a bizTransaction without type",
    ),
];

/// The reference's timing script: reads a JSON array of document texts on
/// stdin, prints one JSON object on stdout.
const REFERENCE_SCRIPT: &str = r#"
import json, sys, time
from epcis_event_hash_generator import hash_generator, json_to_py

min_seconds = float(sys.argv[1])
WARM_UP = """{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
  "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-26T10:00:00Z",
  "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2026-11-26T10:00:00Z",
    "eventTimeZoneOffset": "+00:00", "epcList": ["urn:epc:id:sgtin:4012345.011111.9876"],
    "action": "OBSERVE", "bizStep": "shipping"}]}}"""
texts = json.load(sys.stdin)

def one(text):
    json_to_py._namespaces.clear()  # as one process per document
    t0 = time.perf_counter()
    obj = json.loads(text)
    t1 = time.perf_counter()
    events = json_to_py.event_list_from_epcis_document_json(obj)
    prehashes = hash_generator.derive_prehashes_from_events(events)
    hashes = hash_generator.calculate_hashes_from_pre_hashes(prehashes)
    t2 = time.perf_counter()
    return hashes, t1 - t0, t2 - t1

# Untimed warm-up (imports done lazily, the GS1 context loaded and cached
# by pyld) on a one-event document; the ids come from the first timed pass.
one(WARM_UP)
ids, passes, parse, hashing = None, 0, 0.0, 0.0
while passes == 0 or parse + hashing < min_seconds:
    hashed = []
    for text in texts:
        h, a, b = one(text)
        hashed.append(h)
        parse += a
        hashing += b
    ids = ids or hashed
    passes += 1
events = sum(len(h) for h in ids)
print(json.dumps({
    "passes": passes,
    "events": events,
    "parse_seconds": parse,
    "hash_seconds": hashing,
    "events_per_second_parsed": events * passes / hashing,
    "events_per_second_with_parse": events * passes / (parse + hashing),
    "python": sys.version.split()[0],
    "ids": ids,
}))
"#;

// ---------------------------------------------------------------------------
// Run configuration.

#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    /// Events of the generated document.
    generated_events: usize,
    /// oretrace repetitions before and after the reference's run.
    reps_before: usize,
    reps_after: usize,
    /// Seconds per timed oretrace sample (passes are batched up to this).
    sample_seconds: f64,
    /// Minimum seconds of the reference's timed passes.
    reference_seconds: f64,
}

fn config() -> Config {
    if oretrace_benchkit::quick_mode() {
        Config {
            quick: true,
            generated_events: 200,
            reps_before: 1,
            reps_after: 0,
            sample_seconds: 0.01,
            reference_seconds: 0.1,
        }
    } else {
        Config {
            quick: false,
            generated_events: 10_000,
            reps_before: 5,
            reps_after: 6,
            sample_seconds: 0.25,
            reference_seconds: 1.0,
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn reference_python() -> PathBuf {
    std::env::var_os("ORETRACE_INTEROP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join(".venv/interop/bin/python"))
}

// ---------------------------------------------------------------------------
// Documents.

#[derive(Debug)]
struct Doc {
    name: String,
    text: String,
    value: Value,
    prehashes: Vec<String>,
    ids: Vec<String>,
}

impl Doc {
    fn new(name: String, text: String) -> Doc {
        let value: Value = serde_json::from_str(&text).expect("document parses");
        let context = Context::from_document(&value);
        let prehashes: Vec<String> = document_events(&value)
            .expect("an EPCIS document")
            .into_iter()
            .map(|event| event_prehash(event, &context).expect("pre-hash"))
            .collect();
        let ids = document_event_hashes(&value).expect("hashes");
        assert_eq!(ids.len(), prehashes.len());
        Doc {
            name,
            text,
            value,
            prehashes,
            ids,
        }
    }
}

#[derive(Debug)]
struct DocSet {
    name: String,
    note: String,
    docs: Vec<Doc>,
}

impl DocSet {
    fn events(&self) -> usize {
        self.docs.iter().map(|d| d.ids.len()).sum()
    }

    fn prehash_bytes(&self) -> usize {
        self.docs
            .iter()
            .flat_map(|d| &d.prehashes)
            .map(String::len)
            .sum()
    }

    fn text_bytes(&self) -> usize {
        self.docs.iter().map(|d| d.text.len()).sum()
    }
}

/// The conformance documents; panics (naming the folder) without them.
fn conformance_set() -> DocSet {
    let root = oretrace_benchkit::conformance("");
    let mut files = Vec::new();
    for dir in [root.join("event-hash"), root.join("epcis/examples")] {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let file = entry.expect("a directory entry").path();
            if file.extension().and_then(|e| e.to_str()) == Some("jsonld") {
                files.push(file);
            }
        }
    }
    files.sort();
    let mut docs = Vec::new();
    let mut left_out = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if REFERENCE_CANNOT.iter().any(|(n, _)| *n == name) {
            left_out.push(name);
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        docs.push(Doc::new(name, text));
    }
    DocSet {
        name: "conformance".into(),
        note: format!(
            "shared/conformance/{{event-hash,epcis/examples}}/*.jsonld; left out, as the reference cannot process them: {}",
            left_out.join(", ")
        ),
        docs,
    }
}

/// A mineral-chain-like EPCIS document of `n` ObjectEvents: lots of ore and
/// concentrate weighed, assayed and shipped between sites and parties.
fn generated_document(n: usize) -> String {
    const STEPS: [(&str, &str); 4] = [
        ("commissioning", "active"),
        ("inspecting", "in_progress"),
        ("shipping", "in_transit"),
        ("receiving", "in_progress"),
    ];
    // Analytes (InChIKeys of Sb, ZnO, As, Pb) with their grade units:
    // percent (P1) or ppm (59).
    const ANALYTES: [(&str, &str); 4] = [
        ("WATWJIUSRGPENY-UHFFFAOYSA-N", "P1"),
        ("XLOMVQKBTHCTTD-UHFFFAOYSA-N", "P1"),
        ("RQNWIZPPADIBDY-UHFFFAOYSA-N", "59"),
        ("WABPQHHGFIMREM-UHFFFAOYSA-N", "59"),
    ];
    let mut out = String::with_capacity(n * 2_600);
    out.push_str(
        r#"{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"ot":"https://ns.oretrace.example/epcis/"}],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-26T10:00:00.000Z","epcisBody":{"eventList":["#,
    );
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let (step, disposition) = STEPS[i % STEPS.len()];
        let (day, hour, minute, second, milli) =
            (1 + i % 28, i / 60 % 24, i % 60, i * 7 % 60, i * 37 % 1000);
        let time = format!("2026-10-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}+05:00");
        let site = i % 40;
        let lot = i / 4;
        // Masses and grades as written by scales and labs: a few decimals.
        // (Written from an f64 with 17 significant digits, a value such as
        // `10.700000000000001` is read one ULP off by serde_json's default
        // parser, and oretrace's id then differs from the reference's.)
        let grams = 20_000 + i * 7919 % 80_000;
        let mass = format!("{}.{:03}", grams / 1000, grams % 1000);
        let concentrate = grams * 535 / 1000;
        let concentrate = format!("{}.{:03}", concentrate / 1000, concentrate % 1000);
        let from_party = 100 + i % 13;
        let to_party = 200 + i % 7;
        write!(
            out,
            r#"{{"type":"ObjectEvent","eventTime":"{time}","eventTimeZoneOffset":"+05:00","eventID":"urn:uuid:00000000-0000-4000-8000-{i:012}","#
        )
        .unwrap();
        write!(
            out,
            r#""quantityList":[{{"epcClass":"urn:epc:class:lgtin:4012345.012345.SB{lot}","quantity":{mass},"uom":"KGM"}},{{"epcClass":"https://id.gs1.org/01/04012345123463/10/C{lot}","quantity":{concentrate},"uom":"KGM"}}],"#
        )
        .unwrap();
        write!(
            out,
            r#""action":"OBSERVE","bizStep":"{step}","disposition":"{disposition}","readPoint":{{"id":"urn:epc:id:sgln:4012345.00011.{site}"}},"bizLocation":{{"id":"https://id.gs1.org/414/4012345000122/254/{site}"}},"#
        )
        .unwrap();
        write!(
            out,
            r#""bizTransactionList":[{{"type":"inv","bizTransaction":"urn:epcglobal:cbv:bt:4012345000009:INV-{lot}"}},{{"type":"bol","bizTransaction":"urn:epcglobal:cbv:bt:4012345000009:BOL-{lot}"}}],"#
        )
        .unwrap();
        write!(
            out,
            r#""sourceList":[{{"type":"owning_party","source":"urn:epc:id:pgln:4012345.00{from_party}"}},{{"type":"location","source":"urn:epc:id:sgln:4012345.00011.{site}"}}],"destinationList":[{{"type":"owning_party","destination":"urn:epc:id:pgln:0614141.00{to_party}"}},{{"type":"location","destination":"urn:epc:id:sgln:0614141.00022.{}"}}],"#,
            site % 5
        )
        .unwrap();
        write!(
            out,
            r#""sensorElementList":[{{"sensorMetadata":{{"time":"{time}","deviceID":"urn:epc:id:giai:4000001.{}","dataProcessingMethod":"https://ns.oretrace.example/methods/icp-oes","bizRules":"https://ns.oretrace.example/rules/assay-v1"}},"sensorReport":["#,
            i % 9
        )
        .unwrap();
        for (k, (substance, uom)) in ANALYTES.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            let centi = (i * 31 + k * 977) % 5_000;
            let value = format!("{}.{:02}", centi / 100, centi % 100);
            write!(
                out,
                r#"{{"type":"MassConcentration","chemicalSubstance":"https://identifiers.org/inchikey:{substance}","value":{value},"uom":"{uom}"}}"#
            )
            .unwrap();
        }
        write!(
            out,
            r#"]}}],"ot:registryLot":"urn:oretrace:lot:fwo:sb-{lot:06}"}}"#
        )
        .unwrap();
    }
    out.push_str("]}}");
    out
}

fn generated_set(n: usize) -> DocSet {
    let doc = Doc::new(format!("generated-{n}"), generated_document(n));
    DocSet {
        name: format!("generated {n}"),
        note: format!(
            "mineral-chain ObjectEvents built in code, {:.1} MB",
            doc.text.len() as f64 / 1e6
        ),
        docs: vec![doc],
    }
}

// ---------------------------------------------------------------------------
// oretrace and the SHA-256 bound.

fn hash_parsed(set: &DocSet) -> usize {
    set.docs
        .iter()
        .map(|d| black_box(document_event_hashes(black_box(&d.value)).expect("hashes")).len())
        .sum()
}

fn parse_and_hash(set: &DocSet) -> usize {
    set.docs
        .iter()
        .map(|d| {
            let value: Value = serde_json::from_str(black_box(&d.text)).expect("parses");
            black_box(document_event_hashes(&value).expect("hashes")).len()
        })
        .sum()
}

fn sha256_prehashes(set: &DocSet) -> usize {
    let mut n = 0;
    for p in set.docs.iter().flat_map(|d| &d.prehashes) {
        black_box(Sha256::digest(black_box(p.as_bytes())));
        n += 1;
    }
    n
}

/// A timed sample: `passes` calls of `f`, in seconds per pass.
fn per_pass(passes: usize, f: &dyn Fn() -> usize) -> f64 {
    time(|| {
        for _ in 0..passes {
            black_box(f());
        }
    }) / passes as f64
}

/// Passes of `f` that take about `seconds`.
fn calibrate(seconds: f64, f: &dyn Fn() -> usize) -> usize {
    let one = per_pass(1, f).max(1e-7);
    ((seconds / one).ceil() as usize).clamp(1, 1_000_000)
}

/// Seconds per pass of [SHA-256 bound, oretrace parsed, oretrace parse+hash].
type Samples = [Vec<f64>; 3];

fn oretrace_samples(set: &DocSet, cfg: &Config, reps: usize, samples: &mut Samples) {
    let fs: [&dyn Fn() -> usize; 3] = [&|| sha256_prehashes(set), &|| hash_parsed(set), &|| {
        parse_and_hash(set)
    }];
    let passes: Vec<usize> = fs
        .iter()
        .map(|f| calibrate(cfg.sample_seconds, *f))
        .collect();
    for _ in 0..reps {
        for ((f, s), &k) in fs.iter().zip(samples.iter_mut()).zip(&passes) {
            s.push(per_pass(k, *f));
        }
    }
}

// ---------------------------------------------------------------------------
// The reference.

#[derive(Debug)]
struct Reference {
    /// Seconds per event: hashing parsed documents, and with `json.loads`.
    parsed: f64,
    with_parse: f64,
    passes: u64,
    python: String,
    stderr_lines: usize,
}

/// Runs the reference on `set`; `Err` says why there is no figure.
fn reference(set: &DocSet, cfg: &Config) -> Result<Reference, String> {
    let python = reference_python();
    if !python.exists() {
        return Err(format!(
            "no {} (run `bash .ci/interop-env`)",
            python.display()
        ));
    }
    let texts: Vec<&str> = set.docs.iter().map(|d| d.text.as_str()).collect();
    let input = serde_json::to_vec(&texts).expect("serialise texts");
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(REFERENCE_SCRIPT)
        .arg(cfg.reference_seconds.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(format!(
            "the reference script failed ({}): {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ));
    }
    let out: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("unreadable output of the reference script: {e}"))?;
    // The figures compare like with like only if the reference computed the
    // same ids for every event.
    let ids = out["ids"].as_array().ok_or("no ids in the output")?;
    assert_eq!(
        ids.len(),
        set.docs.len(),
        "documents hashed by the reference"
    );
    for (doc, theirs) in set.docs.iter().zip(ids) {
        let theirs: Vec<&str> = theirs
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert!(
            theirs == doc.ids,
            "{}: the reference computed {} ids, oretrace {}; first difference at {:?}",
            doc.name,
            theirs.len(),
            doc.ids.len(),
            theirs.iter().zip(&doc.ids).position(|(a, b)| a != b)
        );
    }
    let number = |key: &str| out[key].as_f64().ok_or(format!("no {key} in the output"));
    let events = number("events")?;
    let passes = number("passes")?;
    let (parse, hashing) = (number("parse_seconds")?, number("hash_seconds")?);
    let per_event = |s: f64| s / (events * passes);
    Ok(Reference {
        parsed: per_event(hashing),
        with_parse: per_event(parse + hashing),
        passes: passes as u64,
        python: out["python"].as_str().unwrap_or("?").to_owned(),
        stderr_lines: stderr.lines().count(),
    })
}

// ---------------------------------------------------------------------------
// The table.

/// `r` with three significant digits (at least two decimals).
fn ratio(r: f64) -> String {
    let decimals = if r > 0.0 && r < 1.0 {
        (2.0 - r.log10().floor()) as usize
    } else {
        2
    };
    format!("{r:.decimals$}")
}

fn row(out: &mut String, name: &str, per_event: f64, vs_reference: Option<f64>, vs_sha: f64) {
    let reference = vs_reference.map_or_else(|| "-".to_owned(), |r| format!("{r:.1}x"));
    writeln!(
        out,
        "  {name:<26} {:>12.0} {:>10.3} {reference:>11} {:>9}",
        1.0 / per_event,
        per_event * 1e6,
        ratio(vs_sha),
    )
    .unwrap();
}

fn run_set(set: &DocSet, cfg: &Config) -> String {
    let events = set.events();
    let mut samples: Samples = Default::default();
    oretrace_samples(set, cfg, cfg.reps_before, &mut samples);
    let t = Instant::now();
    let reference = reference(set, cfg);
    let reference_wall = t.elapsed().as_secs_f64();
    oretrace_samples(set, cfg, cfg.reps_after, &mut samples);
    let reps = samples[0].len();
    let [sha, parsed, with_parse] = samples.map(|s| median(s) / events as f64);

    let mut out = String::new();
    writeln!(
        out,
        "{}: {} document{}, {events} events, per event {:.0} B of JSON and {:.0} B of pre-hash string\n  ({})",
        set.name,
        set.docs.len(),
        if set.docs.len() == 1 { "" } else { "s" },
        set.text_bytes() as f64 / events as f64,
        set.prehash_bytes() as f64 / events as f64,
        set.note
    )
    .unwrap();
    let vs = |r: &Result<Reference, String>, pick: fn(&Reference) -> f64, ours: f64| {
        r.as_ref().ok().map(|r| pick(r) / ours)
    };
    row(&mut out, "raw SHA-256 of pre-hashes", sha, None, 1.0);
    row(
        &mut out,
        "oretrace, parsed",
        parsed,
        vs(&reference, |r| r.parsed, parsed),
        sha / parsed,
    );
    row(
        &mut out,
        "oretrace, parse+hash",
        with_parse,
        vs(&reference, |r| r.with_parse, with_parse),
        sha / with_parse,
    );
    match &reference {
        Ok(r) => {
            row(
                &mut out,
                "reference, parsed",
                r.parsed,
                Some(1.0),
                sha / r.parsed,
            );
            row(
                &mut out,
                "reference, parse+hash",
                r.with_parse,
                Some(1.0),
                sha / r.with_parse,
            );
            writeln!(
                out,
                "  (oretrace: median of {reps} samples; reference: Python {}, {} timed pass(es),\n   process {reference_wall:.1} s, same ids as oretrace for all {events} events{})",
                r.python,
                r.passes,
                if r.stderr_lines > 0 {
                    format!(", {} lines logged on stderr", r.stderr_lines)
                } else {
                    String::new()
                }
            )
            .unwrap();
        }
        Err(why) if cfg.quick => panic!(
            "{}: the agreement check with the reference cannot run: {why}",
            set.name
        ),
        Err(why) => writeln!(
            out,
            "  reference: skipped, no reference ratio: {why} (oretrace: median of {reps} samples)"
        )
        .unwrap(),
    }
    out
}

fn main() {
    if !oretrace_benchkit::plain_bench("quick_form_with_its_checks") {
        return;
    }
    let cfg = config();
    if cfg.quick {
        eprintln!(
            "quick mode: generated document of {} events, reference timed for {} s; figures not to be quoted",
            cfg.generated_events, cfg.reference_seconds
        );
    }
    let wall = Instant::now();
    let sets = [conformance_set(), generated_set(cfg.generated_events)];
    let mut report = String::new();
    for set in &sets {
        eprintln!("[{:>5.1} s] {}", wall.elapsed().as_secs_f64(), set.name);
        report.push_str(&run_set(set, &cfg));
    }
    println!();
    println!(
        "== oretrace-epcis event hash, one core (events/s; x reference = reference time / oretrace time, same mode; ratio = SHA-256 bound time / time) =="
    );
    println!(
        "  {:<26} {:>12} {:>10} {:>11} {:>9}",
        "benchmark", "events/s", "µs/event", "x reference", "ratio"
    );
    print!("{report}");
    println!(
        "parsed = from serde_json::Value (reference: from the json.loads result); parse+hash = from the document text."
    );
    eprintln!("took {:.1} s", wall.elapsed().as_secs_f64());
}
