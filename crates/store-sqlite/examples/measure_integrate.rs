// THROWAWAY: timing of integrate for 1000-entry batches. Deleted after use.
use std::time::Instant;

use oretrace_domain::wire::{MassJson, Number, RecordJson};
use oretrace_ledger::state::{Change, LotState, LotStatus, ShipmentState};
use oretrace_ledger::store::{Batch, EntryRow, Store};
use oretrace_store_sqlite::SqliteStore;
use oretrace_tlog::hash::{Hash, leaf_hash, sha256};
use oretrace_tlog::tree::NodeId;

fn lot(id: &str, index: u64) -> LotState {
    LotState {
        id: id.into(),
        commodity: "antimony".into(),
        form: "ore".into(),
        origin_site: "urn:oretrace:site:chitral-1".into(),
        site: "urn:oretrace:site:chitral-1".into(),
        custodian: "urn:oretrace:party:fwo".into(),
        status: LotStatus::InTransit {
            shipment: format!("urn:oretrace:shipment:{index}"),
        },
        wet_mass: MassJson {
            value: Number::Text("12.5".into()),
            unit: "t".into(),
        },
        moisture_percent: "4".into(),
        inputs: vec![],
        element_percent: vec![("Sb".into(), "55".into())],
        received_mass: None,
        figures: "illustrative".into(),
        index,
    }
}

fn shipment(index: u64) -> ShipmentState {
    let id = format!("urn:oretrace:shipment:{index}");
    let l = format!("urn:oretrace:lot:{index}");
    ShipmentState {
        id: id.clone(),
        shipper: "urn:oretrace:party:fwo".into(),
        receiver: "urn:oretrace:party:smelter".into(),
        lots: vec![l.clone()],
        from: "urn:oretrace:site:chitral-1".into(),
        to: "urn:oretrace:site:karachi-2".into(),
        record: RecordJson::Shipment {
            id,
            lots: vec![l],
            from: "urn:oretrace:site:chitral-1".into(),
            to: "urn:oretrace:site:karachi-2".into(),
            via: vec![],
            receiver: "urn:oretrace:party:smelter".into(),
            documents: vec![],
            time: "2025-09-09T10:00:00Z".into(),
            figures: "illustrative".into(),
        },
        index,
        received: None,
    }
}

fn batch(start: u64, n: u64) -> Batch {
    let mut entries = Vec::new();
    let mut hashes = Vec::new();
    let mut changes = Vec::new();
    for i in start..start + n {
        let mut entry =
            format!("oretrace.record/v1\nkind shipment\nid urn:oretrace:shipment:{i}\n")
                .into_bytes();
        entry.resize(600, b'x');
        hashes.push((NodeId::new(0, i), leaf_hash(&entry)));
        let mut l = 1u8;
        while (i + 1) % (1u64 << l) == 0 {
            hashes.push((NodeId::new(l, i >> l), Hash(sha256(&i.to_be_bytes()))));
            l += 1;
        }
        entries.push(EntryRow {
            index: i,
            entry,
            record_hash: sha256(format!("record {i}").as_bytes()),
            kind: "shipment".into(),
        });
        let lot_id = format!("urn:oretrace:lot:{}", i % 5000);
        changes.push(Change::PutLot(lot(&lot_id, i)));
        changes.push(Change::PutShipment(shipment(i)));
        changes.push(Change::LotEvent {
            lot: lot_id,
            index: i,
        });
    }
    let mode = std::env::var("XX_MODE").unwrap_or_default();
    if mode.contains("nochanges") {
        changes.clear();
    }
    if mode.contains("nolots") {
        changes.retain(|c| !matches!(c, Change::PutLot(_)));
    }
    if mode.contains("noship") {
        changes.retain(|c| !matches!(c, Change::PutShipment(_)));
    }
    if mode.contains("noevents") {
        changes.retain(|c| !matches!(c, Change::LotEvent { .. }));
    }
    Batch {
        entries,
        hashes,
        changes,
    }
}

fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) * 10.0
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tempfile::tempdir().unwrap().keep());
    let store = SqliteStore::open(&dir).unwrap();
    let n = 1000;
    let rounds = 200;
    let mut times = Vec::new();
    let b0 = batch(0, n);
    let t = Instant::now();
    let mut bytes = 0;
    for _ in 0..20 { for c in &b0.changes { bytes += serde_json::to_string(c).unwrap().len(); } }
    println!("json of {} changes: {:.2} ms ({} bytes avg)", b0.changes.len(), t.elapsed().as_secs_f64() * 1e3 / 20.0, bytes / 20 / b0.changes.len());
    println!(
        "batch: {} entries, {} hashes, {} changes",
        b0.entries.len(),
        b0.hashes.len(),
        b0.changes.len()
    );
    let all = Instant::now();
    let mut cpu = 0.0;
    for r in 0..rounds {
        let b = batch(r * n, n);
        let c = cpu_ms();
        let t = Instant::now();
        store.integrate(&b).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        cpu += cpu_ms() - c;
    }
    println!("main-thread cpu per batch {:.2} ms", cpu / rounds as f64);
    let size = store.size().unwrap();
    let mut tiny = Vec::new();
    for i in 0..50 {
        let b = batch(size + i, 1);
        let t = Instant::now();
        store.integrate(&b).unwrap();
        tiny.push(t.elapsed().as_secs_f64() * 1e3);
    }
    tiny.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("1-entry integrate (commit+fsync) median {:.2} ms", tiny[25]);
    let total = all.elapsed().as_secs_f64();
    println!("first batch {:.2} ms", times[0]);
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{} batches: median {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        rounds,
        sorted[sorted.len() / 2],
        sorted[sorted.len() * 9 / 10],
        sorted[sorted.len() - 1]
    );
    println!("last 20 median {:.2} ms", {
        let mut l = times[times.len() - 20..].to_vec();
        l.sort_by(|a, b| a.partial_cmp(b).unwrap());
        l[10]
    });
    println!(
        "overall incl. batch building {:.0} records/s",
        (rounds * n) as f64 / total
    );
    let t = Instant::now();
    let ids: Vec<NodeId> = (0..256).map(|i| NodeId::new(0, 150_000 + i)).collect();
    for _ in 0..100 {
        store.read_hashes(&ids).unwrap();
    }
    println!(
        "read_hashes(256 ids): {:.1} us",
        t.elapsed().as_secs_f64() * 1e6 / 100.0
    );
    let db = std::fs::metadata(dir.join("oretrace.db")).unwrap().len();
    println!("db size {:.1} MB", db as f64 / 1e6);
}
