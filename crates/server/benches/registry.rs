//! Writes a synthetic registry into a data directory exactly as
//! `oretrace serve --data DIR` opens it (the SQLite store and `log.key`),
//! every record signed by the parties whose word it is and appended
//! through `oretrace_ledger::Ledger`'s batched append: the write path of
//! the product, rules and all (signatures, custody, time order, the
//! per-element mass balance of every assayed output).
//!
//! The registry is the one of `crates/provenance/benches/ledger.rs`, from
//! the same seed: its generator (`crates/provenance/benches/shape`) is
//! compiled into this bench too, and every item of its `LotGraph` becomes
//! one record, in the order of its log index: 4,000 mines and 400
//! exploration areas in 40 countries (four commodity families), ports,
//! concentrators, 24 blending hubs (up to 256 inputs), refineries and
//! plants; lots commissioned at the mines and assayed; ten stages of
//! transformations, every input shipped (through two ports across a
//! border) and received, every output assayed. Before the events: one
//! operator party per site and one laboratory per country (signed by
//! their own keys and the registry operator's), then the sites.
//!
//! Why a bench and not an `oretrace` subcommand: it is a benchmark's
//! fixture, not a product feature, and it shares the generator of a
//! provenance bench; the product binary stays free of it.
//!
//! Run (the size is in ledger events, as the pure bench counts them;
//! 100,000 unless told):
//!
//! ```text
//! ORETRACE_REGISTRY_DIR="$PWD/target/registry-2m" ORETRACE_REGISTRY_EVENTS=2000000 \
//!   cargo bench -p oretrace-server --bench registry
//! ```
//!
//! `ORETRACE_REGISTRY_SEED` sets the seed (default the pure bench's).
//! Keys are derived from the seed, so the same seed and size give the same
//! records, byte for byte. The directory must be absent or empty; a
//! directory this generator started with the same seed and size (its
//! `registry.txt` says so) is resumed after the last stored record, once
//! that record is checked to be the one planned. It writes
//! `operator.vkey` (the `--operator-vkey` of `oretrace serve`) and
//! `registry.txt` (seed, size, and the serve command) next to the store.
//! A refusal stops it with the record, its planned index and the
//! ledger's reason.
//!
//! Quick form (`-- --test`, nextest): a few thousand records into a
//! temporary directory, with its checks: every record is accepted at its
//! planned index, the log holds them all, and the provenance the ledger
//! reads from the store for a last-stage lot counts the same upstream
//! lots and origins as the pure `attribute` on the generated graph.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::record::SiteKind;
use oretrace_domain::values::{LotId, Mass};
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::Store as _;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_provenance::graph::{Grade, Lot, LotGraph, Movement};
use oretrace_store_sqlite::SqliteStore;
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};

#[path = "../../provenance/benches/shape/mod.rs"]
#[allow(
    dead_code,
    reason = "the shape is shared with the pure ledger bench, which uses parts this one does not"
)]
mod shape;

use shape::{COMMODITIES, COUNTRIES, DEFAULT_SEED, FAMILIES, STAGES};

/// Ledger events per commissioned lot in the shape (10,347,026 events
/// from 1,120,000 lots at the default seed).
const EVENTS_PER_ORIGIN: f64 = 10_347_026.0 / 1_120_000.0;

/// When parties and sites are registered: before the first lot.
const REGISTERED: &str = "2024-12-01T00:00:00Z";

/// Records signed and appended per batch: the ledger's group commit.
const BATCH: usize = 1000;

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim().replace('_', "");
    Some(
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
    )
}

/// splitmix64 of `x`: the seeds of keys and the digits of certificates.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn key_seed(seed: u64, what: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &mix(seed ^ mix(what.wrapping_mul(4).wrapping_add(i as u64))).to_le_bytes(),
        );
    }
    out
}

/// One record of the plan, in log order.
#[derive(Clone, Copy)]
enum Planned<'g> {
    /// A party: an operator of sites (`Some(site)`) or a laboratory.
    Party(usize),
    Site(usize),
    Commission(&'g Lot),
    Assay(&'g Lot, &'g Grade),
    Ship(&'g Lot, &'g Movement),
    Receive(&'g Lot, &'g Movement),
    Transform(usize),
}

/// A party of the registry: its id, country and key.
struct Party {
    id: String,
    name: String,
    kind: &'static str,
    country: &'static str,
    key: NoteSigner,
}

struct Registry<'g> {
    ledger: &'g shape::Ledger,
    parties: Vec<Party>,
    by_party: HashMap<String, usize>,
    /// Site id → (country index, operator party).
    site_country: HashMap<&'g str, usize>,
    operator: NoteSigner,
    seed: u64,
}

fn mass(m: Mass) -> Value {
    json!({"value": m.kilograms().normalize().to_string(), "unit": "kg"})
}

fn family_of(lot: &Lot) -> usize {
    let symbol = lot.grades[0].element().symbol();
    FAMILIES
        .iter()
        .position(|f| f.iter().any(|(e, _, _)| *e == symbol))
        .expect("every lot's first grade is of a family")
}

impl Registry<'_> {
    fn key(&self, party: &str) -> &NoteSigner {
        &self.parties[self.by_party[party]].key
    }

    fn lab(&self, lot: &Lot) -> &str {
        let c = self.site_country[lot.site.as_str()];
        &self.parties[c].id
    }

    fn record(&self, planned: Planned<'_>) -> SignedRecord {
        let g = &self.ledger.g;
        let (value, signers): (Value, Vec<&NoteSigner>) = match planned {
            Planned::Party(i) => {
                let p = &self.parties[i];
                (
                    json!({"kind": "party", "id": p.id, "name": p.name, "party_kind": p.kind,
                           "country": p.country, "keys": [p.key.verifier().to_vkey()],
                           "time": REGISTERED, "figures": "illustrative"}),
                    vec![&p.key, &self.operator],
                )
            }
            Planned::Site(i) => {
                let (site, kind) = &self.ledger.sites[i];
                let r = mix(self.seed ^ mix(1_000_000 + i as u64));
                let lat = (r % 120_000) as f64 / 1000.0 - 55.0;
                let lon = ((r >> 20) % 360_000) as f64 / 1000.0 - 180.0;
                (
                    json!({"kind": "site", "id": site.id.as_str(), "name": format!("Site {}", site.id.as_str()),
                           "site_kind": kind.as_str(), "operator": site.operator.as_str(),
                           "country": COUNTRIES[site.country],
                           "location": {"lat": format!("{lat:.3}"), "lon": format!("{lon:.3}")},
                           "approximate": true, "time": REGISTERED, "figures": "illustrative"}),
                    vec![self.key(site.operator.as_str())],
                )
            }
            Planned::Commission(lot) => (
                json!({"kind": "lot", "id": lot.id.as_str(), "commodity": COMMODITIES[family_of(lot)],
                       "form": if matches!(g.site(&lot.site).map(|s| s.kind), Some(SiteKind::ExplorationArea)) { "sample" } else { "ore" },
                       "site": lot.site.as_str(), "wet_mass": mass(lot.wet_mass),
                       "moisture_percent": lot.moisture.value().normalize().to_string(),
                       "time": lot.created.to_string(), "figures": "illustrative"}),
                vec![self.key(lot.custodian.as_str())],
            ),
            Planned::Assay(lot, grade) => {
                let lab = self.lab(lot);
                let mut v = json!({"kind": "assay", "lot": lot.id.as_str(),
                    "analyte": grade.element().symbol(), "value": grade.percent().normalize().to_string(),
                    "unit": "%", "basis": "dry", "method": "ICP-OES after digestion",
                    "laboratory": lab,
                    "certificate_sha256": format!("{:016x}{:016x}{:016x}{:016x}",
                        mix(grade.index()), mix(grade.index() ^ 1), mix(grade.index() ^ 2), mix(grade.index() ^ 3)),
                    "time": lot.created.to_string(), "figures": "illustrative"});
                if let Some(u) = grade.uncertainty() {
                    v["uncertainty"] = json!(u.normalize().to_string());
                }
                (v, vec![self.key(lot.custodian.as_str()), self.key(lab)])
            }
            Planned::Ship(lot, m) => (
                json!({"kind": "shipment", "id": m.shipment.as_str(), "lots": [lot.id.as_str()],
                       "from": m.from.as_str(), "to": m.to.as_str(),
                       "via": m.via.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
                       "receiver": m.receiver.as_str(), "time": m.shipped.to_string(),
                       "figures": "illustrative"}),
                vec![self.key(m.shipper.as_str())],
            ),
            Planned::Receive(lot, m) => {
                let arrival = m.arrival.as_ref().expect("a received movement");
                (
                    json!({"kind": "receipt", "shipment": m.shipment.as_str(), "site": m.to.as_str(),
                           "lots": [{"lot": lot.id.as_str(), "mass": mass(arrival.wet_mass)}],
                           "time": arrival.time.to_string(), "figures": "illustrative"}),
                    vec![self.key(m.receiver.as_str())],
                )
            }
            Planned::Transform(i) => {
                let t = g
                    .transformation(&self.ledger.tokens[i])
                    .expect("every transformation");
                let stage = &STAGES[usize::from(self.ledger.stage_of[i])];
                let first = g.lot(&t.outputs[0]).expect("every output");
                let outputs: Vec<Value> = t
                    .outputs
                    .iter()
                    .map(|o| {
                        let o = g.lot(o).expect("every output");
                        json!({"id": o.id.as_str(), "commodity": COMMODITIES[family_of(o)],
                               "form": stage.form, "wet_mass": mass(o.wet_mass),
                               "moisture_percent": o.moisture.value().normalize().to_string()})
                    })
                    .collect();
                let inputs: Vec<Value> = t
                    .inputs
                    .iter()
                    .map(|(l, m)| json!({"lot": l.as_str(), "mass": mass(*m)}))
                    .collect();
                (
                    json!({"kind": "transformation", "id": t.id.as_str(), "site": t.site.as_str(),
                           "process": stage.name, "inputs": inputs, "outputs": outputs,
                           "time": t.time.to_string(), "figures": "illustrative"}),
                    vec![self.key(first.custodian.as_str())],
                )
            }
        };
        let record = RecordJson::parse(value.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("a generated record does not parse ({e}): {value}"));
        SignedRecord::sign(record, &signers).expect("signing")
    }
}

/// Every record, in log order: parties, sites, then the events by the
/// generator's log index.
fn plan(ledger: &shape::Ledger, parties: usize) -> Vec<Planned<'_>> {
    let g: &LotGraph = &ledger.g;
    let mut events: Vec<(u64, Planned<'_>)> = Vec::with_capacity(ledger.events.total() as usize);
    fn lot<'g>(lot: &'g Lot, events: &mut Vec<(u64, Planned<'g>)>, commissioned: bool) {
        if commissioned {
            events.push((lot.index, Planned::Commission(lot)));
        }
        for grade in &lot.grades {
            events.push((grade.index(), Planned::Assay(lot, grade)));
        }
        for m in &lot.movements {
            events.push((m.index, Planned::Ship(lot, m)));
            if let Some(a) = &m.arrival {
                events.push((a.index, Planned::Receive(lot, m)));
            }
        }
    }
    for i in 0..ledger.origins {
        let id = LotId::parse(&format!("urn:oretrace:lot:o{i}")).expect("an origin id");
        let o = g.lot(&id).expect("every commissioned lot");
        lot(o, &mut events, true);
    }
    for (i, token) in ledger.tokens.iter().enumerate() {
        let t = g.transformation(token).expect("every transformation");
        events.push((t.index, Planned::Transform(i)));
        for out in &t.outputs {
            lot(g.lot(out).expect("every output"), &mut events, false);
        }
    }
    events.sort_unstable_by_key(|(i, _)| *i);
    for (k, (i, _)) in events.iter().enumerate() {
        assert_eq!(*i, k as u64, "one event per log index, none missing");
    }
    (0..parties)
        .map(Planned::Party)
        .chain((0..ledger.sites.len()).map(Planned::Site))
        .chain(events.into_iter().map(|(_, e)| e))
        .collect()
}

fn write_file(path: &Path, text: &str, secret: bool) {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(path)
        .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// What a directory this generator writes says about itself.
fn marker(seed: u64, origins: usize) -> String {
    format!("oretrace synthetic registry: seed {seed}, {origins} commissioned lots\n")
}

/// Whether `dir` is new (absent or empty) or one this generator started
/// with the same seed and size: then it is resumed.
fn prepare(dir: &Path, seed: u64, origins: usize) -> bool {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let empty = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .next()
        .is_none();
    if empty {
        return false;
    }
    let said = std::fs::read_to_string(dir.join("registry.txt")).unwrap_or_default();
    if said.starts_with(&marker(seed, origins)) {
        return true;
    }
    eprintln!(
        "{} is not empty and not a registry this generator started with seed {seed} and {origins} commissioned lots: refused (give an absent or empty directory)",
        dir.display()
    );
    std::process::exit(2);
}

/// Generates the registry into `dir`; returns the generated shape and the
/// number of records in the log.
fn run(dir: &Path, seed: u64, origins: usize) -> (shape::Ledger, u64) {
    let resume = prepare(dir, seed, origins);
    let started = Instant::now();
    let ledger = shape::generate(seed, origins);
    let e = ledger.events;
    println!(
        "== synthetic registry into {}: seed {seed} (ORETRACE_REGISTRY_SEED), {origins} commissioned lots, {} events ({} lots commissioned, {} assays, {} shipments, {} receipts, {} transformations); generated in {:.1} s ==",
        dir.display(),
        e.total(),
        e.commissioned,
        e.assays,
        e.shipments,
        e.receipts,
        e.transformations,
        started.elapsed().as_secs_f64()
    );

    // Parties: one laboratory per country (index = country), then the
    // operator of every site.
    let operator = NoteSigner::from_seed("registry/operator", key_seed(seed, 0)).unwrap();
    let mut parties: Vec<Party> = COUNTRIES
        .iter()
        .enumerate()
        .map(|(c, code)| {
            let id = format!("lab-{}", code.to_ascii_lowercase());
            Party {
                key: NoteSigner::from_seed(&format!("{id}/k1"), key_seed(seed, 1 + c as u64))
                    .unwrap(),
                name: format!("Laboratory {code} (synthetic)"),
                id,
                kind: "laboratory",
                country: code,
            }
        })
        .collect();
    for (i, (site, _)) in ledger.sites.iter().enumerate() {
        let id = site.operator.as_str().to_owned();
        parties.push(Party {
            key: NoteSigner::from_seed(&format!("{id}/k1"), key_seed(seed, 1000 + i as u64))
                .unwrap(),
            name: format!("Operator of {} (synthetic)", site.id.as_str()),
            id,
            kind: "company",
            country: COUNTRIES[site.country],
        });
    }
    let by_party = parties
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    let site_country = ledger
        .sites
        .iter()
        .map(|(s, _)| (s.id.as_str(), s.country))
        .collect();
    let plan = plan(&ledger, parties.len());
    let total = plan.len() as u64;
    let registry = Registry {
        ledger: &ledger,
        parties,
        by_party,
        site_country,
        operator,
        seed,
    };

    let origin = format!("oretrace.example/log/synthetic-{seed}-{origins}");
    let log_key = NoteSigner::from_seed(&origin, key_seed(seed, u64::MAX)).unwrap();
    let vkey = registry.operator.verifier().to_vkey();
    if !resume {
        write_file(&dir.join("log.key"), &log_key.to_skey(), true);
        write_file(&dir.join("operator.vkey"), &format!("{vkey}\n"), false);
        write_file(
            &dir.join("registry.txt"),
            &format!(
                "{}{} records ({} ledger events, parties and sites before them)\nserve: oretrace serve --data {} --operator-vkey \"$(cat {}/operator.vkey)\"\n",
                marker(seed, origins),
                total,
                e.total(),
                dir.display(),
                dir.display()
            ),
            false,
        );
    }
    let store = SqliteStore::open(dir).expect("opening the SQLite store");
    let ledger_handle = Ledger::start(
        store,
        log_key,
        registry.operator.verifier(),
        LedgerConfig::default(),
    )
    .expect("starting the ledger");
    let mut next = ledger_handle.store().size().expect("the log's size");
    if next > 0 {
        let stored = ledger_handle
            .store()
            .read_entries(next - 1, 1)
            .expect("reading the last entry");
        let planned = registry.record(plan[(next - 1) as usize]).record_hash();
        let stored = stored
            .first()
            .and_then(|bytes| SignedRecord::from_entry(bytes).ok())
            .map(|r| r.record_hash());
        assert!(
            stored == Some(planned),
            "the last stored record ({}) is not the one planned: not this generator's registry",
            next - 1
        );
        println!("resuming after {next} stored records");
    }
    println!(
        "{total} records to append (parties, sites, events); operator vkey {vkey}; batches of {BATCH}"
    );

    let t = Instant::now();
    let first = next;
    let mut last_report = Instant::now();
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<(u64, Vec<SignedRecord>)>(2);
        let registry = &registry;
        let plan = &plan;
        s.spawn(move || {
            let mut at = first as usize;
            while at < plan.len() {
                let end = (at + BATCH).min(plan.len());
                let batch = plan[at..end].iter().map(|p| registry.record(*p)).collect();
                if tx.send((at as u64, batch)).is_err() {
                    return;
                }
                at = end;
            }
        });
        for (at, batch) in rx {
            let n = batch.len();
            let outcomes = ledger_handle.submit_all_blocking(batch.clone());
            for (k, outcome) in outcomes.into_iter().enumerate() {
                let want = at + k as u64;
                match outcome {
                    Ok(index) if index == want => {}
                    other => {
                        eprintln!(
                            "record {want} ({}) was not appended at its index: {other:?}; the directory holds the {} records before it",
                            String::from_utf8_lossy(&batch[k].entry_bytes())
                                .chars()
                                .take(600)
                                .collect::<String>(),
                            ledger_handle.store().size().unwrap_or(0)
                        );
                        std::process::exit(1);
                    }
                }
            }
            next = at + n as u64;
            if last_report.elapsed().as_secs() >= 10 || next == total {
                last_report = Instant::now();
                let secs = t.elapsed().as_secs_f64();
                let rate = (next - first) as f64 / secs;
                println!(
                    "{next} of {total} records ({:.1} %), {rate:.0} records/s, {secs:.0} s, about {:.0} s to go",
                    100.0 * next as f64 / total as f64,
                    (total - next) as f64 / rate
                );
            }
        }
    });
    let secs = t.elapsed().as_secs_f64();
    let size = ledger_handle.store().size().expect("the log's size");
    assert_eq!(size, total, "every planned record is in the log");
    let (checkpoint, _) = ledger_handle.checkpoint().expect("a published checkpoint");
    assert_eq!(checkpoint.size(), total, "the checkpoint covers the log");
    println!(
        "appended {} records in {secs:.1} s ({:.0} records/s); the log holds {total}; serve it with: oretrace serve --data {} --operator-vkey \"$(cat {}/operator.vkey)\"",
        total - first,
        (total - first) as f64 / secs.max(1e-9),
        dir.display(),
        dir.display()
    );
    drop(ledger_handle);
    drop(registry);
    (ledger, total)
}

fn main() {
    if !oretrace_benchkit::plain_bench("quick_form_with_its_checks") {
        return;
    }
    let quick = oretrace_benchkit::quick_mode();
    let seed = env_number("ORETRACE_REGISTRY_SEED").unwrap_or(DEFAULT_SEED);
    let events =
        env_number("ORETRACE_REGISTRY_EVENTS").unwrap_or(if quick { 3_000 } else { 100_000 });
    let origins = ((events as f64 / EVENTS_PER_ORIGIN).round() as usize).max(1);
    if quick {
        let tmp = oretrace_benchkit::fresh_dir("registry");
        let dir = tmp.path().join("data");
        let (ledger, _) = run(&dir, seed, origins);
        check_provenance(&dir, &ledger);
        // A second start finds the registry complete and appends nothing.
        let (ledger, size) = run(&dir, seed, origins);
        measure(&dir, &ledger, size, true);
        println!("quick form: {size} records; figures not to be quoted");
        return;
    }
    let dir: PathBuf = std::env::var_os("ORETRACE_REGISTRY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            eprintln!("ORETRACE_REGISTRY_DIR: the data directory to write (absent or empty)");
            std::process::exit(2);
        });
    let (ledger, size) = run(&dir, seed, origins);
    if std::env::var("ORETRACE_REGISTRY_SERVE").is_ok_and(|v| v == "0") {
        return;
    }
    measure(&dir, &ledger, size, false);
}

/// The ledger's provenance of a last-stage lot, read from the store,
/// counts the lots and origins the pure `attribute` counts on the
/// generated graph.
fn check_provenance(dir: &Path, ledger: &shape::Ledger) {
    let store = SqliteStore::open(dir).expect("opening the store");
    for root in ledger.last.iter().take(3) {
        let pure =
            oretrace_provenance::attribute(&ledger.g, root, oretrace_provenance::Limits::DEFAULT)
                .expect("the pure answer");
        let served = oretrace_ledger::provenance::provenance(
            &store,
            root.as_str(),
            oretrace_ledger::provenance::ProvenanceLimits::DEFAULT,
        )
        .expect("the ledger's answer")
        .expect("the lot is registered");
        assert_eq!(served.upstream_lots, pure.upstream_lots, "{root}");
        assert_eq!(served.origins.len(), pure.origins.len(), "{root}");
        assert_eq!(served.elements.len(), pure.elements.len(), "{root}");
        println!(
            "provenance of {root}: {} upstream lots, {} origins, the same as the pure answer",
            served.upstream_lots,
            served.origins.len()
        );
    }
}

// ---------------------------------------------------------------------------
// Serving the registry: RSS and served figures, each against a bound
// measured in the same run.

/// The server being measured: the release `oretrace serve` as a child
/// process (the full form), or `oretrace_server::serve` in this process
/// (the quick form, whose RSS figures are this process's and not quoted).
enum Server {
    Child(std::process::Child),
    InProcess {
        shutdown: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

impl Server {
    fn pid(&self) -> u32 {
        match self {
            Server::Child(c) => c.id(),
            Server::InProcess { .. } => std::process::id(),
        }
    }

    fn stop(&mut self) {
        match self {
            Server::Child(c) => {
                let _ = c.kill();
                let _ = c.wait();
            }
            Server::InProcess { shutdown, thread } => {
                if let Some(tx) = shutdown.take() {
                    let _ = tx.send(());
                }
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `VmRSS` and `VmHWM` of a process, MiB.
fn rss(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The `oretrace` binary next to this bench's directory
/// (`target/release/deps/registry-…` → `target/release/oretrace`).
fn oretrace_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("ORETRACE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("this bench's path");
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("oretrace"))
        .expect("a target directory")
}

fn start_server(dir: &Path, quick: bool) -> (Server, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = if quick {
        let store = SqliteStore::open(dir).expect("opening the store");
        let skey = std::fs::read_to_string(dir.join("log.key")).expect("log.key");
        let log_key = NoteSigner::from_skey(skey.trim()).expect("a log key");
        let vkey = std::fs::read_to_string(dir.join("operator.vkey")).expect("operator.vkey");
        let operator =
            oretrace_tlog::note::NoteVerifier::from_vkey(vkey.trim()).expect("an operator vkey");
        let ledger = std::sync::Arc::new(
            Ledger::start(store, log_key, operator, LedgerConfig::default())
                .expect("starting the ledger"),
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .expect("listening");
                let credential = oretrace_domain::jose::CredentialKey::from_seed([7; 32]);
                oretrace_server::serve(
                    ledger,
                    oretrace_server::ServerConfig::default(),
                    Some(credential),
                    listener,
                    async {
                        let _ = rx.await;
                    },
                )
                .await
                .expect("serving");
            });
        });
        Server::InProcess {
            shutdown: Some(tx),
            thread: Some(thread),
        }
    } else {
        let bin = oretrace_binary();
        assert!(
            bin.exists(),
            "{} is absent: build it first (cargo build --release -p oretrace), or name it in ORETRACE_BIN",
            bin.display()
        );
        let vkey = std::fs::read_to_string(dir.join("operator.vkey")).expect("operator.vkey");
        let child = std::process::Command::new(&bin)
            .args(["serve", "--data"])
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--operator-vkey", vkey.trim()])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        Server::Child(child)
    };
    let client = http_client();
    let t = Instant::now();
    loop {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        assert!(
            t.elapsed().as_secs() < 600,
            "the server did not answer /healthz"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    println!(
        "server up in {:.2} s at {base} ({})",
        t.elapsed().as_secs_f64(),
        if quick {
            "in this process"
        } else {
            "release oretrace serve, its own process"
        }
    );
    (server, base)
}

fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .expect("an HTTP client")
}

/// GET `url`; the seconds to the full body, and the body. Anything but
/// 200 stops the bench.
fn get(client: &reqwest::blocking::Client, url: &str) -> (f64, Vec<u8>) {
    let t = Instant::now();
    let r = client
        .get(url)
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status();
    let body = r.bytes().expect("a response body").to_vec();
    let secs = t.elapsed().as_secs_f64();
    assert!(
        status.is_success(),
        "GET {url}: {status}: {}",
        String::from_utf8_lossy(&body)
            .chars()
            .take(400)
            .collect::<String>()
    );
    (secs, body)
}

/// GET `url`, asked again after each 503 (a scan longer than the
/// request timeout goes on, and a later request gets its answer); the
/// seconds from the first request to the answer.
fn get_retrying(client: &reqwest::blocking::Client, url: &str) -> (f64, Vec<u8>) {
    let t = Instant::now();
    loop {
        let r = client
            .get(url)
            .send()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        if r.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            assert!(t.elapsed().as_secs() < 3600, "GET {url}: 503 for an hour");
            std::thread::sleep(std::time::Duration::from_secs(1));
            continue;
        }
        let status = r.status();
        assert!(status.is_success(), "GET {url}: {status}");
        let body = r.bytes().expect("a response body").to_vec();
        return (t.elapsed().as_secs_f64(), body);
    }
}

fn percentile(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs[i]
}

/// Lot ids in a URL path: `:` stays, nothing else needs escaping in the
/// generated ids.
fn lot_url(base: &str, id: &LotId, tail: &str) -> String {
    format!("{base}/lots/{}{tail}", id.as_str())
}

fn measure(dir: &Path, ledger: &shape::Ledger, total: u64, quick: bool) {
    // Plain HTTP on loopback, but the client wants a TLS provider named.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (target, runs, clients, load_secs) = if quick {
        (300, 10, 8, 2.0)
    } else {
        (10_000, 200, 32, 30.0)
    };
    let g = &ledger.g;
    let edges = shape::edges(ledger);
    let sample = ledger.last.len().min(if quick { 50 } else { 400 });
    let step = ledger.last.len() / sample.max(1);
    let mut sizes: Vec<(usize, &LotId)> = (0..sample)
        .map(|i| {
            let id = &ledger.last[i * step];
            (shape::plain_walk(&edges, id, 4 * target), id)
        })
        .collect();
    sizes.sort();
    let root = sizes
        .iter()
        .min_by_key(|(n, _)| n.abs_diff(target))
        .map(|(_, id)| (*id).clone())
        .expect("a last-stage lot");
    let limits = oretrace_provenance::Limits::DEFAULT;
    let pure = oretrace_provenance::attribute(g, &root, limits).expect("the pure answer");

    let du = std::process::Command::new("du")
        .args(["-sm"])
        .arg(dir)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default();
    println!(
        "== serving {} ({total} records, {} ledger events; {du} MiB on disk) ==",
        dir.display(),
        ledger.events.total()
    );
    let (mut server, base) = start_server(dir, quick);
    let pid = server.pid();
    let mut rows: Vec<(String, f64, f64)> = Vec::new();
    let mut note = |what: &str| {
        let (now, peak) = rss(pid);
        println!("RSS {what}: VmRSS {now:.0} MiB, VmHWM {peak:.0} MiB");
        rows.push((what.to_owned(), now, peak));
    };
    note("at start");
    let client = http_client();

    // Provenance: served, against the pure answer on the same lot's graph
    // built in this process and a plain walk of its edges.
    let url = lot_url(&base, &root, "/provenance");
    let (first, body) = get(&client, &url);
    let served: Value = serde_json::from_slice(&body).expect("a provenance answer");
    assert_eq!(
        served["upstream_lots"].as_u64(),
        Some(pure.upstream_lots as u64),
        "the served answer counts the lots the pure one does"
    );
    assert_eq!(
        served["origins"].as_array().map(Vec::len),
        Some(pure.origins.len()),
        "the served answer names the origins the pure one does"
    );
    println!(
        "provenance of {root}: {} upstream lots, {} origins, {} transformations; first request {:.1} ms, {} KiB",
        pure.upstream_lots,
        pure.origins.len(),
        pure.steps.len(),
        first * 1e3,
        body.len() / 1024
    );
    // The served requests stop after SERVED_BUDGET seconds (at least 10
    // of them): at seconds a request, 200 would take most of an hour.
    const SERVED_BUDGET: f64 = 60.0;
    let (mut t_http, mut t_pure, mut t_walk) = (Vec::new(), Vec::new(), Vec::new());
    let mut served_secs = 0.0;
    for r in 0..runs {
        let h = || {
            if t_http.len() >= 10 && served_secs > SERVED_BUDGET {
                return None;
            }
            Some(get(&client, &url).0)
        };
        let p = || {
            oretrace_benchkit::time(|| {
                oretrace_provenance::attribute(g, &root, limits).map(|a| a.upstream_lots)
            })
        };
        let w = || oretrace_benchkit::time(|| shape::plain_walk(&edges, &root, usize::MAX));
        if r % 2 == 0 {
            let x = h();
            t_http.extend(x);
            t_pure.push(p());
            t_walk.push(w());
        } else {
            t_walk.push(w());
            t_pure.push(p());
            let x = h();
            t_http.extend(x);
        }
        served_secs = t_http.iter().sum();
    }
    let served_runs = t_http.len();
    note(&format!("after {served_runs} provenance requests"));
    println!(
        "{runs} interleaved runs of the bounds, {served_runs} served requests (stopped after {SERVED_BUDGET:.0} s of them)"
    );
    let p = |xs: &mut Vec<f64>| (percentile(xs, 0.5) * 1e3, percentile(xs, 0.99) * 1e3);
    let (w50, w99) = p(&mut t_walk);
    let (a50, a99) = p(&mut t_pure);
    let (h50, h99) = p(&mut t_http);
    println!(
        "{:<52} {:>10} {:>10} {:>14} {:>14}",
        "", "p50 ms", "p99 ms", "walk ratio", "attribute ratio"
    );
    println!(
        "{:<52} {w50:>10.3} {w99:>10.3} {:>14} {:>14}",
        "bound: plain walk (HashMap, BFS), in process", "1", ""
    );
    println!(
        "{:<52} {a50:>10.3} {a99:>10.3} {:>14.4} {:>14}",
        "bound: pure attribute on the in-process graph",
        w50 / a50,
        "1"
    );
    println!(
        "{:<52} {h50:>10.3} {h99:>10.3} {:>14.4} {:>14.4}",
        "served: GET /lots/{id}/provenance",
        w50 / h50,
        a50 / h50
    );
    println!(
        "(p99 ratios: walk {:.4}, attribute {:.4}); target provenance p99 under 20 ms: {}",
        w99 / h99,
        a99 / h99,
        if h99 < 20.0 { "met" } else { "NOT met" }
    );

    // Lots made by the first stage (a concentrator's few inputs): their
    // passports fit its bound, as a last-stage lot's do not.
    let small: Vec<LotId> = (0..ledger.tokens.len().min(1000))
        .filter(|&i| ledger.stage_of[i] == 0)
        .filter_map(|i| {
            g.transformation(&ledger.tokens[i])
                .map(|t| t.outputs[0].clone())
        })
        .collect();
    // The other reads, each once cold and once warm.
    let tile = format!("{base}/tile/0/000");
    let reads = [
        ("GET /checkpoint", format!("{base}/checkpoint")),
        ("GET /tile/0/000", tile),
        ("GET /lots (first page)", format!("{base}/lots?perPage=100")),
        (
            "GET /sites (first page)",
            format!("{base}/sites?perPage=100"),
        ),
        (
            "GET /lots/{id}/passport (a first-stage lot)",
            lot_url(&base, &small[0], "/passport"),
        ),
        ("GET /anomalies", format!("{base}/anomalies?perPage=10")),
    ];
    let mut anomalies_cold = f64::NAN;
    for (what, url) in &reads {
        let (cold, body) = if what.contains("anomalies") {
            get_retrying(&client, url)
        } else {
            get(&client, url)
        };
        let (warm, _) = get(&client, url);
        println!(
            "{what}: first {:.1} ms, again {:.1} ms, {} KiB",
            cold * 1e3,
            warm * 1e3,
            body.len() / 1024
        );
        if what.contains("anomalies") {
            anomalies_cold = cold;
            let v: Value = serde_json::from_slice(&body).expect("an anomalies answer");
            println!(
                "  log_size {}, records {}, findings {}",
                v["log_size"], v["records"], v["total"]
            );
        }
        note(&format!("after {what}"));
    }

    // The anomaly scan as the server does it, against the pure audit of
    // §9 and a plain read of every entry, in this process.
    let tokens = &ledger.tokens;
    let tolerance = oretrace_provenance::Tolerance::relative(
        oretrace_domain::values::Percent::new(rust_decimal::Decimal::TWO).expect("2 %"),
    );
    let audit = oretrace_benchkit::time(|| {
        tokens
            .iter()
            .map(|t| {
                oretrace_provenance::mass_balance(g, t, &tolerance)
                    .expect("a balance")
                    .elements
                    .len()
            })
            .sum::<usize>()
    });
    // The store is the server's (one process holds it): read its entries
    // table directly, read-only, as the scan's pages do.
    let conn = rusqlite::Connection::open_with_flags(
        dir.join("oretrace.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("opening the database read-only");
    let read = oretrace_benchkit::time(|| {
        let mut n = 0u64;
        let mut stmt = conn
            .prepare("SELECT entry FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")
            .expect("a statement");
        let mut start = 0;
        while start < total {
            let end = (start + 1024).min(total);
            let mut rows = stmt.query([start as i64, end as i64]).expect("entries");
            while let Some(row) = rows.next().expect("a row") {
                let bytes: Vec<u8> = row.get(0).expect("an entry");
                n += u64::from(SignedRecord::from_entry(&bytes).is_ok());
            }
            start = end;
        }
        assert_eq!(n, total, "every entry parses");
    });
    drop(conn);
    let events = ledger.events.total() as f64;
    println!(
        "{:<60} {:>10} {:>16} {:>10}",
        "", "s", "ledger events/s", "ratio"
    );
    println!(
        "{:<60} {read:>10.3} {:>16.0} {:>10}",
        "bound: read and parse every entry (store, in process)",
        events / read,
        "1"
    );
    println!(
        "{:<60} {audit:>10.3} {:>16.0} {:>10.4}",
        "pure mass_balance of every transformation (in process)",
        events / audit,
        read / audit
    );
    println!(
        "{:<60} {anomalies_cold:>10.3} {:>16.0} {:>10.4}",
        "served: GET /anomalies, first answer (the whole-log scan)",
        events / anomalies_cold,
        read / anomalies_cold
    );
    println!(
        "target: a full audit at least 1,000,000 events/s, served: {}",
        if events / anomalies_cold >= 1e6 {
            "met"
        } else {
            "NOT met"
        }
    );

    // Concurrent clients: a mix of reads, while RSS is sampled.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let peak = std::sync::Mutex::new((0f64, 0f64));
    let lat: std::sync::Mutex<HashMap<&'static str, Vec<f64>>> =
        std::sync::Mutex::new(HashMap::new());
    let t_load = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (now, hwm) = rss(pid);
                let mut p = peak.lock().expect("peak");
                p.0 = p.0.max(now);
                p.1 = p.1.max(hwm);
                drop(p);
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        let workers: Vec<_> = (0..clients)
            .map(|c| {
                let (base, small, lat) = (&base, &small, &lat);
                s.spawn(move || {
                    let client = http_client();
                    let mut mine: HashMap<&'static str, Vec<f64>> = HashMap::new();
                    let mut k = c as u64;
                    while t_load.elapsed().as_secs_f64() < load_secs {
                        k = mix(k);
                        let lot = &small[((k >> 8) % small.len() as u64) as usize];
                        let (what, url) = match k % 8 {
                            0..=2 => (
                                "provenance of a first-stage lot",
                                lot_url(base, lot, "/provenance"),
                            ),
                            3 => ("passport", lot_url(base, lot, "/passport")),
                            4 => ("lot", lot_url(base, lot, "")),
                            5 => ("lots page", format!("{base}/lots?perPage=100")),
                            6 => ("checkpoint", format!("{base}/checkpoint")),
                            _ => ("tile", format!("{base}/tile/0/000")),
                        };
                        mine.entry(what).or_default().push(get(&client, &url).0);
                    }
                    let mut all = lat.lock().expect("latencies");
                    for (k, v) in mine {
                        all.entry(k).or_default().extend(v);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("a client");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let secs = t_load.elapsed().as_secs_f64();
    let mut lat = lat.into_inner().expect("latencies");
    let n: usize = lat.values().map(Vec::len).sum();
    println!(
        "== {clients} concurrent clients for {secs:.0} s: {n} requests ({:.0}/s); of 8: 3 provenance and a passport of first-stage lots, a lot, a page of /lots, /checkpoint, a tile ==",
        n as f64 / secs,
    );
    let mut kinds: Vec<_> = lat.keys().copied().collect();
    kinds.sort_unstable();
    for k in kinds {
        let v = lat.get_mut(k).expect("a kind");
        let count = v.len();
        println!(
            "  {k:<12} {count:>7} requests, p50 {:.1} ms, p99 {:.1} ms",
            percentile(v, 0.5) * 1e3,
            percentile(v, 0.99) * 1e3
        );
    }
    let (load_rss, load_hwm) = peak.into_inner().expect("peak");
    println!(
        "RSS under load (sampled every 50 ms): VmRSS at most {load_rss:.0} MiB, VmHWM {load_hwm:.0} MiB"
    );

    // Large answers at once: a quarter as many clients each ask the
    // provenance of the lot with about 10,000 upstream lots.
    let heavy = clients / 4;
    let t_heavy = Instant::now();
    let heavy_lat: Vec<f64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..heavy)
            .map(|_| {
                let url = lot_url(&base, &root, "/provenance");
                s.spawn(move || get(&http_client(), &url).0)
            })
            .collect();
        let mut top = (0f64, 0f64);
        while workers.iter().any(|w| !w.is_finished()) {
            let (now, hwm) = rss(pid);
            top = (top.0.max(now), top.1.max(hwm));
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        println!(
            "== {heavy} concurrent provenance requests for {root}: done in {:.1} s; RSS meanwhile: VmRSS at most {:.0} MiB, VmHWM {:.0} MiB ==",
            t_heavy.elapsed().as_secs_f64(),
            top.0,
            top.1
        );
        workers
            .into_iter()
            .map(|w| w.join().expect("a client"))
            .collect()
    });
    println!(
        "  slowest of them {:.1} s",
        heavy_lat.iter().copied().fold(0.0, f64::max)
    );
    let (_, hwm) = rss(pid);
    println!(
        "target: server RSS under 512 MiB while serving: {} (peak VmHWM {hwm:.0} MiB){}",
        if hwm < 512.0 { "met" } else { "NOT met" },
        if quick {
            "; quick form: this process, not to be quoted"
        } else {
            ""
        }
    );
    server.stop();
}
