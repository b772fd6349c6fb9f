//! `oretrace value-added`: the server's local value addition
//! (`GET /value-addition`) as a table, one row per exporting country,
//! element and stage, with the kg exported and each stage's share of the
//! country's exports of the element. Errors exit 2.

use std::process::ExitCode;

use serde_json::Value;

use crate::agreement_show::{encode, get};
use crate::cli::ValueAddedArgs;
use crate::epcis_cmds::{check_server, client};

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn print_table(rows: &[[String; 7]]) {
    let header = [
        "country",
        "element",
        "stage",
        "kg",
        "share",
        "re-exported kg",
        "lots",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            // Figures right-aligned, names left-aligned.
            if i >= 3 {
                out.push_str(&format!("{cell:>w$}  "));
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(&header);
    for row in rows {
        line(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

/// A share to two places, from the server's exact text.
fn share(v: &Value) -> String {
    v.as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .map(|r| format!("{r:.2} %"))
        .unwrap_or_default()
}

pub fn value_added(args: &ValueAddedArgs) -> anyhow::Result<ExitCode> {
    check_server(&args.server)?;
    let http = client()?;
    let mut query = vec!["perPage=1000".to_owned()];
    for (name, value) in [
        ("country", &args.country),
        ("from", &args.from),
        ("to", &args.to),
    ] {
        if let Some(v) = value {
            query.push(format!("{name}={}", encode(v)));
        }
    }
    let url = format!(
        "{}/value-addition?{}",
        args.server.trim_end_matches('/'),
        query.join("&")
    );
    let body = get(&http, &url)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(ExitCode::SUCCESS);
    }
    let period = match (
        body["period"]["from"].as_str(),
        body["period"]["to"].as_str(),
    ) {
        (None, None) => "all time".to_owned(),
        (from, to) => format!(
            "{} to {} (exclusive)",
            from.unwrap_or("the start"),
            to.unwrap_or("now")
        ),
    };
    println!(
        "Local value addition: exports from {}, {period}: {} exported lot(s) in {} shipment(s) read",
        body["country"].as_str().unwrap_or("every country"),
        body["exports"],
        body["shipmentsRead"],
    );
    if body["figures"] == "illustrative" {
        println!("Figures are illustrative: some records used are marked so.");
    }
    println!();
    let rows: Vec<[String; 7]> = body["totals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            [
                text(&t["country"]).to_owned(),
                text(&t["element"]).to_owned(),
                text(&t["stage"]).to_owned(),
                text(&t["kg"]).to_owned(),
                share(&t["share_percent"]),
                text(&t["reexported_kg"]).to_owned(),
                t["lots"].to_string(),
            ]
        })
        .collect();
    if rows.is_empty() {
        println!("No exports of assayed material in this period.");
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&rows);
    println!();
    println!(
        "kg: contained element (dry mass × the latest grade before the shipment); share: of the country's exports of that element."
    );
    println!(
        "Re-exported: left at the stage it came into the country at. Per-lot lines and their records: --json."
    );
    Ok(ExitCode::SUCCESS)
}
