//! `oretrace compliance LOT`: the verdicts of `GET /lots/{id}/compliance`,
//! pack by pack and rule by rule, with the log indices each rests on; or
//! the API's JSON; optionally the `tlog-proof` receipt of every record
//! the verdicts rest on. Exits 1 when a verdict fails.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::Value;

use crate::cli::ComplianceArgs;
use crate::epcis_cmds::{answer_json, base, check_server, client};
use crate::provenance_cmd::save_receipts;

pub fn compliance(args: &ComplianceArgs) -> anyhow::Result<ExitCode> {
    check_server(&args.server)?;
    let http = client()?;
    let mut url = format!(
        "{}/lots/{}/compliance",
        base(&args.server),
        oretrace_epcis_map::percent_encode(&args.lot)
    );
    let mut query: Vec<String> = Vec::new();
    if let Some(pack) = &args.pack {
        query.push(format!("pack={}", oretrace_epcis_map::percent_encode(pack)));
    }
    for site in &args.via {
        query.push(format!("via={}", oretrace_epcis_map::percent_encode(site)));
    }
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let answer = answer_json(
        http.get(&url)
            .send()
            .with_context(|| format!("GET {url}"))?,
        &format!("the compliance verdicts on {}", args.lot),
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print!("{}", verdicts(&answer));
    }
    if let Some(dir) = &args.receipts {
        save_receipts(&http, &args.server, &answer["evidence"], dir)?;
    }
    // Exit 1 only when a prohibition fails: a red flag or a benchmark
    // exceeded is printed, not a refusal of the material.
    let failed = items(&answer["packs"])
        .flat_map(|p| items(&p["rules"]))
        .any(|r| r["verdict"] == "fail" && r["effect"] == "prohibited");
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A string of the answer as it may be printed: a control character (an
/// escape sequence a hostile server could send to the terminal) or an
/// invisible or direction-changing one is shown as U+FFFD.
fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or("?")
        .chars()
        .map(|c| {
            if c.is_control() || oretrace_domain::values::is_deceptive_format(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

fn items(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

fn indices(v: &Value) -> String {
    let all: Vec<String> = items(v)
        .filter_map(Value::as_u64)
        .map(|i| i.to_string())
        .collect();
    if all.is_empty() {
        "none".into()
    } else {
        all.join(", ")
    }
}

/// The verdicts as text: a line per pack and rule, the findings under
/// their rule, the records each rests on.
fn verdicts(a: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "compliance of {} (figures: {})",
        s(&a["lot"]),
        s(&a["figures"])
    );
    if let Some(h) = a["hypothetical"].as_object() {
        let via: Vec<String> = items(&h["via"]).map(s).collect();
        let replaced: Vec<String> = items(&h["replaced"]).map(s).collect();
        let _ = writeln!(
            out,
            "HYPOTHETICAL route via {} instead of {}: {}",
            via.join(", "),
            if replaced.is_empty() {
                "no transit site".to_owned()
            } else {
                replaced.join(", ")
            },
            s(&h["note"])
        );
    }
    for p in items(&a["packs"]) {
        let sha = s(&p["sha256"]);
        // What failing means for this pack: its failing rules' effects.
        let effects: std::collections::BTreeSet<String> = items(&p["rules"])
            .filter(|r| r["verdict"] == "fail")
            .map(|r| s(&r["effect"]))
            .collect();
        let verdict = if effects.is_empty() {
            s(&p["verdict"]).to_uppercase()
        } else {
            format!(
                "{}: {}",
                s(&p["verdict"]).to_uppercase(),
                effects.into_iter().collect::<Vec<_>>().join(", ")
            )
        };
        let _ = writeln!(
            out,
            "\n{} [{}]  {} (version {}, sha256 {}…)",
            s(&p["pack"]),
            verdict,
            s(&p["title"]),
            s(&p["version"]),
            sha.get(..12).unwrap_or(&sha)
        );
        for r in items(&p["rules"]) {
            let _ = writeln!(
                out,
                "  {:<15} {} ({}): {}",
                s(&r["verdict"]),
                s(&r["rule"]),
                s(&r["effect"]),
                s(&r["detail"])
            );
            let findings: Vec<&Value> = items(&r["findings"]).collect();
            // One finding is the rule's detail already: not printed twice.
            let said = findings.len() == 1 && findings[0]["what"] == r["detail"];
            for f in findings.iter().filter(|_| !said) {
                let _ = writeln!(
                    out,
                    "      {}: {} [records {}]",
                    s(&f["verdict"]),
                    s(&f["what"]),
                    indices(&f["evidence"])
                );
            }
            let _ = writeln!(out, "      rests on records {}", indices(&r["evidence"]));
        }
    }
    let _ = writeln!(
        out,
        "\n{} records in all; --receipts DIR saves their proofs, `oretrace verify --inclusion` checks each",
        items(&a["evidence"]).count()
    );
    out
}
