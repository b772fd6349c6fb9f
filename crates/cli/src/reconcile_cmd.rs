//! `oretrace reconcile SHIPMENT`: the server's reconciliation of a
//! shipment (`GET /shipments/{id}/reconciliation`) as a table, one row per
//! compared quantity of each lot. Exit 0 when everything is within
//! tolerance, 1 when something is flagged or the shipment is still in
//! transit (nothing received to reconcile); errors exit 2.

use std::process::ExitCode;

use serde_json::Value;

use crate::agreement_show::{encode, get};
use crate::cli::ReconcileArgs;
use crate::epcis_cmds::{check_server, client};

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn indices(records: &[u64]) -> String {
    records
        .iter()
        .map(|i| format!("#{i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The log indices a side's figure for `quantity` rests on: the mass
/// record, the assay of the element, or both.
fn evidence(side: &Value, quantity: &str, element: Option<&str>) -> Vec<u64> {
    let mass = side["wet_mass_index"].as_u64();
    let assay = element.and_then(|e| {
        side["assays"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["element"] == e)
            .and_then(|a| a["index"].as_u64())
    });
    match quantity {
        "grade" => assay.into_iter().collect(),
        "contained" => mass.into_iter().chain(assay).collect(),
        _ => mass.into_iter().collect(),
    }
}

/// A relative difference, to two places.
fn relative(v: &Value) -> String {
    v.as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .map(|r| format!(" ({r:+.2} %)"))
        .unwrap_or_default()
}

fn print_table(rows: &[[String; 7]]) {
    let header = [
        "lot",
        "quantity",
        "shipped",
        "received",
        "difference",
        "tolerance",
        "evidence (shipped / received)",
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
            if i + 1 == cells.len() {
                out.push_str(cell);
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

pub fn reconcile(args: &ReconcileArgs) -> anyhow::Result<ExitCode> {
    check_server(&args.server)?;
    let http = client()?;
    let mut query = Vec::new();
    if let Some(p) = &args.mass_tolerance {
        query.push(format!("massTolerancePercent={}", encode(p)));
    }
    if let Some(p) = &args.grade_tolerance {
        query.push(format!("gradeTolerancePoints={}", encode(p)));
    }
    let url = format!(
        "{}/shipments/{}/reconciliation{}",
        args.server.trim_end_matches('/'),
        encode(&args.shipment),
        if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        }
    );
    let body = get(&http, &url)?;
    let flagged = body["flagged"].as_u64().unwrap_or(0);
    let in_transit = body["status"] == "in transit";
    let code = if flagged == 0 && !in_transit {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(code);
    }
    println!(
        "Shipment {} ({} → {}): {}, shipped at #{}{}",
        text(&body["shipment"]),
        text(&body["shipper"]),
        text(&body["receiver"]),
        text(&body["status"]),
        body["shipment_record"]["index"],
        match body["receipt_record"]["index"].as_u64() {
            Some(i) => format!(", received at #{i}"),
            None => String::new(),
        }
    );
    let t = &body["tolerance"];
    println!(
        "Tolerances: wet and dry mass ±{} %, grade {}, contained element ±{} %",
        text(&t["wet_mass_percent"]),
        match t["grade_points"].as_str() {
            Some(p) => format!("±{p} percentage points"),
            None => format!(
                "±{} % of the shipped grade",
                text(&t["grade_relative_percent"])
            ),
        },
        text(&t["contained_percent"]),
    );
    if body["illustrative"] == true {
        println!("Figures are illustrative: some records used are marked so.");
    }
    println!();
    let mut rows = Vec::new();
    for lot in body["lots"].as_array().into_iter().flatten() {
        let name = text(&lot["lot"]).to_owned();
        let shipped = &lot["shipped"];
        let received = &lot["received"];
        if received.is_null() {
            rows.push([
                name.clone(),
                "wet mass".into(),
                format!("{} kg", text(&shipped["wet_mass_kg"])),
                "in transit".into(),
                String::new(),
                String::new(),
                indices(&evidence(shipped, "wet_mass", None)),
            ]);
            continue;
        }
        for d in lot["differences"].as_array().into_iter().flatten() {
            let quantity = text(&d["quantity"]);
            let element = d["element"].as_str();
            // Grades are shown in %, their differences in percentage points.
            let (unit, value_unit) = if d["unit"] == "kg" {
                (" kg", " kg")
            } else {
                (" pt", " %")
            };
            let label = match (quantity, element) {
                ("wet_mass", _) => "wet mass".to_owned(),
                ("dry_mass", _) => "dry mass".to_owned(),
                ("grade", Some(e)) => format!("{e} grade"),
                ("contained", Some(e)) => format!("{e} contained"),
                (q, _) => q.to_owned(),
            };
            rows.push([
                name.clone(),
                label,
                format!("{}{value_unit}", text(&d["shipped"])),
                format!("{}{value_unit}", text(&d["received"])),
                format!(
                    "{}{unit}{}",
                    text(&d["difference"]),
                    relative(&d["relative_percent"])
                ),
                format!(
                    "±{}{unit} {}",
                    text(&d["tolerance"]),
                    if d["within"] == true {
                        "within"
                    } else {
                        "OUTSIDE"
                    }
                ),
                format!(
                    "{} / {}",
                    indices(&evidence(shipped, quantity, element)),
                    indices(&evidence(received, quantity, element))
                ),
            ]);
        }
        for e in lot["not_compared"].as_array().into_iter().flatten() {
            rows.push([
                name.clone(),
                format!("{} grade", text(e)),
                String::new(),
                String::new(),
                "not compared: assayed on one side only".into(),
                String::new(),
                String::new(),
            ]);
        }
    }
    print_table(&rows);
    println!();
    println!(
        "{}",
        if in_transit {
            "In transit: nothing has been received to reconcile yet.".to_owned()
        } else if flagged == 0 {
            "Everything compared is within tolerance.".to_owned()
        } else {
            format!("{flagged} difference(s) OUTSIDE tolerance.")
        }
    );
    Ok(code)
}
