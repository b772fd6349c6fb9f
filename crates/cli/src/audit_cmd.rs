//! `oretrace audit`: the server's anomaly scan of the whole registry
//! (`GET /anomalies`, every page), one finding a paragraph with the log
//! indices it rests on. Exit 0 when nothing is found, 1 when anything
//! is; errors exit 2.

use std::process::ExitCode;

use anyhow::bail;
use serde_json::Value;

use crate::agreement_show::{encode, get};
use crate::cli::AuditArgs;
use crate::epcis_cmds::{check_server, client};

/// Findings per request (the server's most).
const PER_PAGE: usize = 1000;

/// Pages read at most: a million findings.
const MAX_PAGES: usize = 1000;

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn words(v: &Value) -> String {
    v.as_array()
        .map(|a| a.iter().map(text).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

pub fn audit(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    check_server(&args.server)?;
    let http = client()?;
    let base = format!(
        "{}/anomalies?{}perPage={PER_PAGE}",
        args.server.trim_end_matches('/'),
        args.kind
            .as_deref()
            .map(|k| format!("kind={}&", encode(k)))
            .unwrap_or_default()
    );
    let mut body = get(&http, &base)?;
    let mut findings: Vec<Value> = body["findings"].as_array().cloned().unwrap_or_default();
    let mut pages = 1;
    while let Some(token) = body["nextPageToken"].as_str().map(str::to_owned) {
        pages += 1;
        if pages > MAX_PAGES {
            bail!(
                "more than {} findings: ask for one kind at a time (--kind)",
                MAX_PAGES * PER_PAGE
            );
        }
        body = get(&http, &format!("{base}&nextPageToken={}", encode(&token)))?;
        findings.extend(body["findings"].as_array().cloned().unwrap_or_default());
    }
    let code = if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if let Some(object) = body.as_object_mut() {
        object.remove("nextPageToken");
    }
    body["findings"] = Value::Array(findings.clone());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(code);
    }
    println!(
        "Anomaly scan of {} log entries ({} records){}; a shipment not received {} days before the newest record is a custody gap.",
        body["log_size"],
        body["records"],
        body["newest"]
            .as_str()
            .map(|t| format!(", newest record {t}"))
            .unwrap_or_default(),
        body["custody_gap_days"],
    );
    println!();
    for c in body["counts"].as_array().into_iter().flatten() {
        println!("  {:<25} {}", text(&c["kind"]), c["findings"]);
    }
    println!();
    for (n, f) in findings.iter().enumerate() {
        println!("{}. [{}] {}", n + 1, text(&f["kind"]), text(&f["what"]));
        for (label, key) in [
            ("lots", "lots"),
            ("shipments", "shipments"),
            ("transformations", "transformations"),
            ("sites", "sites"),
        ] {
            let list = words(&f[key]);
            if !list.is_empty() {
                println!("   {label}: {list}");
            }
        }
        let evidence: Vec<String> = f["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| format!("#{i}"))
            .collect();
        println!(
            "   evidence: {}{}",
            evidence.join(", "),
            if f["figures"] == "illustrative" {
                " (figures illustrative)"
            } else {
                ""
            }
        );
    }
    if findings.is_empty() {
        println!(
            "No anomaly found{}.",
            args.kind
                .as_deref()
                .map(|k| format!(" of kind {k}"))
                .unwrap_or_default()
        );
    } else {
        println!(
            "{} finding(s). Each record is proven by GET /records/{{index}}/receipt.",
            findings.len()
        );
    }
    Ok(code)
}
