//! The reference scenario's deals (`../shared/scenario/first-shipment.md`,
//! steps 5–7): the FWO–USSM MoU registered with its text sealed, then
//! amended to cover the sample consignment, countersigned, partly
//! revealed and tracked against its pledges; the parallel NLC–Mota-Engil
//! MoU, still sealed; the reported Pasni port offer and the "USD 6
//! trillion" headline as reports; one resource estimate.
//!
//! Parties, the signing date and place, the USD 500 million figure and
//! the first-phase minerals are reported; every clause text, due date,
//! amount delivered and estimate is invented and the records say so
//! (`"figures": "illustrative"`). The texts are sealed here, on the
//! parties' side, with fresh salts: each opening is written beside the
//! party's keys and never reaches the registry.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use oretrace_domain::Record;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::values::Digest;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::Store;
use oretrace_ledger::ledger::Ledger;
use serde_json::{Value, json};

use crate::agreement_cmds::{RevealRecord, disclosure_record, open_clauses, seal_to};
use crate::scenario::ScenarioKeys;

/// The FWO–USSM MoU's illustrative text, one clause per paragraph.
const MOU_TEXT: &str = include_str!("../scenario/mou-fwo-ussm.txt");
/// The NLC–Mota-Engil MoU's illustrative text.
const NLC_TEXT: &str = include_str!("../scenario/mou-nlc-mota-engil.txt");

/// The FWO–USSM MoU's id.
pub const MOU: &str = "fwo:mou-ussm-2025";
/// The version whose clauses the demo reveals (the amendment that covers
/// the sample consignment; its text is the one sealed in version 1).
pub const REVEALED_VERSION: u32 = 2;
/// The clauses of the FWO–USSM MoU the demo reveals; the rest stay
/// sealed past their planned disclosure date.
pub const REVEALED: [u64; 3] = [0, 1, 2];
/// The NLC–Mota-Engil MoU's id.
pub const NLC_MOU: &str = "nlc:mou-mota-engil-2025";

/// Where the party keeps the opening (texts and salts) of `agreement`:
/// beside its keys, as the party itself would.
pub fn opening_path(keys_dir: &Path, agreement: &str) -> PathBuf {
    keys_dir.join(format!("{}.opening.json", agreement.replace(':', "_")))
}

/// Publishers' home pages, for reports the scenario cites by publisher
/// and date only (no article address is recorded).
const DAWN: &str = "https://www.dawn.com/";

fn submit<S: Store>(
    ledger: &Ledger<S>,
    keys: &ScenarioKeys,
    signers: &[&str],
    value: Value,
) -> anyhow::Result<(u64, Record)> {
    let what = format!(
        "the scenario's {} record {}",
        value["kind"].as_str().unwrap_or("?"),
        value["id"]
            .as_str()
            .or(value["agreement"].as_str())
            .unwrap_or_default()
    );
    let record = RecordJson::parse(value.to_string().as_bytes()).with_context(|| what.clone())?;
    let keys: Vec<_> = signers
        .iter()
        .map(|s| keys.party(s))
        .collect::<anyhow::Result<_>>()?;
    let signed = SignedRecord::sign(record.clone(), &keys)?;
    let index = ledger
        .submit_blocking(signed)
        .map_err(|e| anyhow::anyhow!("{what} was refused: {e}"))?;
    Ok((index, record))
}

/// Version `version` of the FWO–USSM MoU, its text sealed under `root`.
fn mou(version: u32, root: &str, count: u64, lots: &[&str]) -> Value {
    let mut value = json!({
        "kind": "agreement",
        "id": MOU,
        "version": version,
        "title": "Memorandum of Understanding between Frontier Works Organisation and US Strategic Metals on critical minerals (parties, date, place, USD 500 million and first-phase minerals reported; text, due dates and milestones illustrative)",
        "agreement_kind": "mou",
        "parties": ["fwo", "ussm"],
        "signed": if version == 1 { "2025-09-08" } else { "2025-10-01" },
        "place": "Prime Minister's House, Islamabad",
        "status": if version == 1 { "signed" } else { "in-force" },
        "commodities": ["antimony", "copper", "gold", "tungsten", "rare-earths"],
        "sites": ["fwo-qila-abdullah", "fwo-chagai-copper", "fwo-loe-shilman"],
        "lots": lots,
        "value": {"amount": "500000000", "currency": "USD"},
        "pledges": [
            {
                "id": "p1",
                "description": "USSM invests around USD 500 million in mineral processing and development facilities in Pakistan (reported figure; due date illustrative)",
                "quantity": {"money": {"amount": "500000000", "currency": "USD"}},
                "due": "2030-12-31"
            },
            {
                "id": "m1",
                "description": "First sample consignment delivered to the United States (illustrative milestone)",
                "due": "2025-10-31"
            },
            {
                "id": "m2",
                "description": "Feasibility study of a processing facility in Pakistan completed (illustrative milestone)",
                "due": "2026-06-30"
            }
        ],
        "documents": [],
        "terms": {"sealed": {
            "root": root,
            "count": count,
            "reason": "The parties keep the text confidential until the feasibility study (illustrative reason)",
            "disclose_by": "2026-03-08"
        }},
        "time": if version == 1 { "2025-09-08T12:00:00Z" } else { "2025-10-01T07:00:00Z" },
        "figures": "illustrative"
    });
    if version > 1 {
        value["amends"] = json!(version - 1);
    }
    value
}

/// What [`load`] wrote: the indices a user needs to check the reveal.
#[derive(Debug)]
pub struct Loaded {
    pub records: usize,
}

/// Seals, registers and reveals the scenario's deals through `ledger`,
/// writing each sealed text's opening beside its party's keys in
/// `keys_dir`.
pub fn load<S: Store>(
    ledger: &Ledger<S>,
    keys: &ScenarioKeys,
    keys_dir: &Path,
) -> anyhow::Result<Loaded> {
    let mut records = 0;
    let mut run = |signers: &[&str], value: Value| -> anyhow::Result<(u64, Record)> {
        records += 1;
        submit(ledger, keys, signers, value)
    };

    // The FWO–USSM MoU, sealed by FWO on its side.
    let opening = opening_path(keys_dir, MOU);
    let (root, count) = seal_to(MOU_TEXT, &opening).context("sealing the FWO–USSM MoU")?;
    let (_, v1) = run(&["fwo"], mou(1, &root, count, &[]))?;
    run(
        &["ussm"],
        json!({
            "kind": "countersignature",
            "agreement": MOU,
            "version": 1,
            "digest": Digest::of(&oretrace_domain::canonical::encode(&v1)).to_string(),
            "time": "2025-09-09T09:00:00Z",
            "figures": "illustrative"
        }),
    )?;

    // The parallel NLC–Mota-Engil MoU: registered by NLC, sealed, never
    // confirmed by Mota-Engil, never revealed.
    let nlc_opening = opening_path(keys_dir, NLC_MOU);
    let (nlc_root, nlc_count) =
        seal_to(NLC_TEXT, &nlc_opening).context("sealing the NLC–Mota-Engil MoU")?;
    run(
        &["nlc"],
        json!({
            "kind": "agreement",
            "id": NLC_MOU,
            "version": 1,
            "title": "Memorandum of Understanding between National Logistics Corporation and Mota-Engil (parties reported; date, text and milestone illustrative)",
            "agreement_kind": "mou",
            "parties": ["nlc", "mota-engil"],
            "signed": "2025-09-08",
            "place": "Islamabad",
            "status": "signed",
            "commodities": [],
            "sites": [],
            "lots": [],
            "pledges": [{
                "id": "m1",
                "description": "Joint feasibility study of rail and port links for mineral exports completed (illustrative milestone)",
                "due": "2026-09-30"
            }],
            "documents": [],
            "terms": {"sealed": {
                "root": nlc_root,
                "count": nlc_count,
                "reason": "Confidential until the feasibility study is published (illustrative reason)",
                "disclose_by": "2026-06-30"
            }},
            "time": "2025-09-08T13:00:00Z",
            "figures": "illustrative"
        }),
    )?;

    // Version 2 covers the sample consignment (the text is unchanged: the
    // same sealed root); USSM has not countersigned it.
    let lots = [
        "urn:oretrace:lot:fwo:sb-concentrate-0001",
        "urn:oretrace:lot:fwo:cu-concentrate-0001",
        "urn:oretrace:lot:fwo:ree-concentrate-0001",
    ];
    run(&["fwo"], mou(2, &root, count, &lots))?;

    // The sample consignment is the first delivery under the MoU: its
    // export shipment and USSM's receipt are the evidence.
    let export = ledger
        .store()
        .shipment("fwo-export-2025-0001")?
        .context("the scenario's export shipment is not in the log")?;
    let received = export
        .received()
        .context("the scenario's export shipment was not received")?;
    run(
        &["ussm"],
        json!({
            "kind": "progress",
            "agreement": MOU,
            "pledge": "m1",
            "complete": true,
            "date": "2025-10-20",
            "note": "The sample consignment (antimony, copper concentrate, Nd and Pr) arrived at USSM in Missouri; USSM called the delivery a significant milestone (reported); the date is illustrative",
            "documents": [],
            "records": [export.index(), received],
            "time": "2025-10-25T00:00:00Z",
            "figures": "illustrative"
        }),
    )?;
    for (amount, date, time) in [
        ("20000000", "2026-01-15", "2026-01-20T00:00:00Z"),
        ("35000000", "2026-06-30", "2026-07-05T00:00:00Z"),
    ] {
        run(
            &["fwo"],
            json!({
                "kind": "progress",
                "agreement": MOU,
                "pledge": "p1",
                "delivered": {"money": {"amount": amount, "currency": "USD"}},
                "complete": false,
                "date": date,
                "note": "Invested in processing and development facilities (ILLUSTRATIVE figure: no delivery against the pledge has been reported)",
                "documents": [],
                "records": [],
                "time": time,
                "figures": "illustrative"
            }),
        )?;
    }

    // FWO reveals the first three clauses; the rest stay sealed, past
    // their planned disclosure date.
    let (_, _, clauses) = open_clauses(&opening, Some(&REVEALED))?;
    let reveal = disclosure_record(
        RevealRecord {
            agreement: MOU.to_owned(),
            version: REVEALED_VERSION,
            time: Some("2026-03-10T09:00:00Z".to_owned()),
            illustrative: true,
        },
        clauses,
    )?;
    run(&["fwo"], reveal)?;

    // Reports: what was said in public, not agreements.
    run(
        &["minerals-watch"],
        json!({
            "kind": "report",
            "id": "minerals-watch:pasni-port-offer",
            "version": 1,
            "claim": "The United States may be offered access to Pasni port, near the Chinese-operated Gwadar port; sovereignty concerns were raised. No agreement has been registered.",
            "topic": "port-offer",
            "countries": ["PK", "US"],
            "commodities": [],
            "sources": [{
                "title": "Press report of October 2025 on the US-Pakistan minerals partnership (as cited by the reference scenario; article address not recorded)",
                "publisher": "Dawn",
                "date": "2025-10-06",
                "url": DAWN
            }],
            "status": "unconfirmed",
            "time": "2025-10-07T00:00:00Z",
            "figures": "reported"
        }),
    )?;
    run(
        &["minerals-watch"],
        json!({
            "kind": "report",
            "id": "minerals-watch:usd-6-trillion",
            "version": 1,
            "claim": "Pakistan's untapped mineral wealth is often estimated at around USD 6 trillion. The headline figure is not a resource estimate under any reporting code (JORC, NI 43-101, CRIRSCO).",
            "topic": "valuation",
            "countries": ["PK"],
            "commodities": [],
            "value": {"amount": "6000000000000", "currency": "USD"},
            "sources": [{
                "title": "Press report of October 2025 on Pakistan's first mineral shipment to the US (as cited by the reference scenario; article address not recorded)",
                "publisher": "Dawn",
                "date": "2025-10-06",
                "url": DAWN
            }],
            "status": "unconfirmed",
            "time": "2025-10-07T00:00:00Z",
            "figures": "reported"
        }),
    )?;

    // One resource estimate, invented, under no reporting code.
    run(
        &["fwo"],
        json!({
            "kind": "resource",
            "id": "fwo:qila-abdullah-sb-2025",
            "version": 1,
            "site": "fwo-qila-abdullah",
            "code": "none",
            "class": "inferred",
            "effective": "2025-08-31",
            "tonnes": "50000",
            "grades": [{"analyte": "Sb", "value": "2.1", "unit": "%"}],
            "contained": [{"element": "Sb", "tonnes": "1050"}],
            "competent": "FWO exploration team (ILLUSTRATIVE estimate, under no reporting code)",
            "documents": [],
            "time": "2025-09-05T00:00:00Z",
            "figures": "illustrative"
        }),
    )?;
    Ok(Loaded { records })
}
