//! `oretrace provenance LOT`: the answer of `GET /lots/{id}/provenance`
//! as a readable tree (origins with shares per element, steps, custody,
//! sites) or as the API's JSON, and optionally the `tlog-proof` receipt
//! of every record the answer rests on.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::Value;

use crate::cli::ProvenanceArgs;
use crate::epcis_cmds::{answer_json, base, check_server, client, fetch_receipt};

pub fn provenance(args: &ProvenanceArgs) -> anyhow::Result<ExitCode> {
    check_server(&args.server)?;
    let http = client()?;
    let url = format!(
        "{}/lots/{}/provenance",
        base(&args.server),
        oretrace_epcis_map::percent_encode(&args.lot)
    );
    let answer = answer_json(
        http.get(&url)
            .send()
            .with_context(|| format!("GET {url}"))?,
        &format!("the provenance of {}", args.lot),
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print!("{}", tree(&answer));
    }
    if let Some(dir) = &args.receipts {
        save_receipts(&http, &args.server, &answer["evidence"], dir)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Saves DIR/<index>.tlog-proof for every record of an answer's
/// `evidence` (objects with an `index`).
pub(crate) fn save_receipts(
    http: &reqwest::blocking::Client,
    server: &str,
    evidence: &Value,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = 0;
    for index in evidence
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["index"].as_u64())
    {
        let bytes = fetch_receipt(http, server, index)?;
        let path = dir.join(format!("{index}.tlog-proof"));
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        written += 1;
    }
    let noun = if written == 1 { "receipt" } else { "receipts" };
    eprintln!(
        "{written} {noun} written to {} (<index>.tlog-proof; check one with oretrace verify --inclusion FILE --vkey VKEY)",
        dir.display()
    );
    Ok(())
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("?")
}

fn items(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

/// A share (a fraction as decimal text) in percent, to three places.
fn percent(v: &Value) -> String {
    v.as_str()
        .and_then(|t| t.parse::<rust_decimal::Decimal>().ok())
        .map_or_else(
            || "?".into(),
            |d| {
                format!(
                    "{:.3} %",
                    (d * rust_decimal::Decimal::ONE_HUNDRED).round_dp(3)
                )
            },
        )
}

fn signers(v: &Value) -> String {
    let names: Vec<&str> = items(&v["signed_by"]).map(s).collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" [signed by {}]", names.join(", "))
    }
}

/// The answer as text, one section per part.
fn tree(a: &Value) -> String {
    let mut out = String::new();
    let illustrative = if a["figures"] == "illustrative" {
        " (ILLUSTRATIVE figures: a record it rests on says so)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "lot {}: {} upstream lots{illustrative}",
        s(&a["lot"]),
        a["upstream_lots"]
    );
    let _ = writeln!(
        out,
        "origins by element (share of the element's contained mass):"
    );
    for e in items(&a["elements"]) {
        // Shown to the gram; the JSON keeps every digit.
        let contained = e["contained_kg"].as_str().map_or_else(
            || "not assayed in this lot".to_owned(),
            |kg| match kg.parse::<rust_decimal::Decimal>() {
                Ok(d) => format!("{} kg", d.round_dp(3).normalize()),
                Err(_) => format!("{kg} kg"),
            },
        );
        let _ = writeln!(out, "  {} ({contained})", s(&e["element"]));
        for site in items(&e["by_site"]) {
            let _ = writeln!(
                out,
                "    {:>9}  {} ({}, {})",
                percent(&site["share"]),
                s(&site["site"]),
                s(&site["kind"]),
                s(&site["country"])
            );
        }
        let countries: Vec<String> = items(&e["by_country"])
            .map(|c| format!("{} {}", s(&c["country"]), percent(&c["share"])))
            .collect();
        let _ = writeln!(out, "    by country: {}", countries.join(", "));
        if e["unknown"] != "0" {
            let _ = writeln!(out, "    unknown origin: {}", percent(&e["unknown"]));
        }
    }
    let _ = writeln!(out, "origin lots:");
    for o in items(&a["origins"]) {
        let _ = writeln!(
            out,
            "  {} at {} ({}, {}), {} — record {}{}",
            s(&o["lot"]),
            s(&o["site"]),
            s(&o["kind"]),
            s(&o["country"]),
            s(&o["created"]),
            o["index"],
            signers(o)
        );
    }
    let _ = writeln!(out, "steps:");
    for t in items(&a["steps"]) {
        let inputs: Vec<&str> = items(&t["inputs"]).map(s).collect();
        let outputs: Vec<&str> = items(&t["outputs"]).map(s).collect();
        let _ = writeln!(
            out,
            "  {} {} at {}, {} — record {}{}\n    {} → {}",
            s(&t["transformation"]),
            s(&t["process"]),
            s(&t["site"]),
            s(&t["time"]),
            t["index"],
            signers(t),
            inputs.join(" + "),
            outputs.join(" + ")
        );
    }
    let _ = writeln!(out, "custody:");
    for c in items(&a["custody"]) {
        let until = c["until"].as_str().unwrap_or("now");
        let end = match c["ended_in"].as_str() {
            Some(what) => format!(" ({} in {what})", s(&c["ended_by"])),
            None => " (held)".into(),
        };
        let _ = writeln!(
            out,
            "  {} held by {} at {}, {} → {until}{end} — record {}",
            s(&c["lot"]),
            s(&c["custodian"]),
            s(&c["site"]),
            s(&c["from"]),
            c["index"]
        );
    }
    let _ = writeln!(out, "sites passed:");
    for site in items(&a["sites"]) {
        let roles: Vec<&str> = items(&site["roles"]).map(s).collect();
        let _ = writeln!(
            out,
            "  {} — {} ({}, {}), {}: {} .. {}\n    {}",
            s(&site["site"]),
            s(&site["name"]),
            s(&site["kind"]),
            s(&site["country"]),
            roles.join(", "),
            s(&site["first"]),
            s(&site["last"]),
            s(&site["claim"])
        );
    }
    let count = items(&a["evidence"]).count();
    let _ = writeln!(
        out,
        "{count} records rest under this answer (--receipts DIR saves their inclusion proofs)"
    );
    out
}
