//! `oretrace custody-model SITE`: the answer of
//! `GET /sites/{id}/custody-model` as a summary (each declaration with its
//! model, period, judged transformations, claims, findings and account per
//! element) or as the API's JSON. Exits 1 when a declaration has a finding.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::Value;

use crate::cli::CustodyModelArgs;
use crate::epcis_cmds::{answer_json, base, check_server, client};

pub fn custody_model(args: &CustodyModelArgs) -> anyhow::Result<ExitCode> {
    check_server(&args.server)?;
    let http = client()?;
    let mut url = format!(
        "{}/sites/{}/custody-model",
        base(&args.server),
        oretrace_epcis_map::percent_encode(&args.site)
    );
    let mut sep = '?';
    for (name, value) in [("from", &args.from), ("to", &args.to)] {
        if let Some(v) = value {
            url.push_str(&format!(
                "{sep}{name}={}",
                oretrace_epcis_map::percent_encode(v)
            ));
            sep = '&';
        }
    }
    let answer = answer_json(
        http.get(&url)
            .send()
            .with_context(|| format!("GET {url}"))?,
        &format!("the chain-of-custody models of site {}", args.site),
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print!("{}", summary(&answer));
    }
    let holds = items(&answer["declarations"]).all(|d| d["holds"] == true);
    Ok(if holds {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("?")
}

fn items(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

fn summary(a: &Value) -> String {
    let mut out = String::new();
    let illustrative = if a["figures"] == "illustrative" {
        " (figures illustrative)"
    } else {
        ""
    };
    let _ = writeln!(out, "site {}{illustrative}", s(&a["site"]));
    let declarations: Vec<&Value> = items(&a["declarations"]).collect();
    if declarations.is_empty() {
        let _ = writeln!(out, "  no chain-of-custody declaration in the period");
    }
    for d in declarations {
        let until = d["until"]
            .as_str()
            .map_or(String::new(), |u| format!(" until {u}"));
        let _ = writeln!(
            out,
            "  \"{}\": {} from {}{until} (log index {}), specified: {}",
            s(&d["attribute"]),
            s(&d["model"]),
            s(&d["from"]),
            d["index"],
            items(&d["specified"]).map(s).collect::<Vec<_>>().join(", ")
        );
        for t in items(&d["transformations"]) {
            let _ = writeln!(
                out,
                "    transformation {} at {} (log index {})",
                s(&t["id"]),
                s(&t["time"]),
                t["index"]
            );
        }
        for c in items(&d["claims"]) {
            let _ = writeln!(
                out,
                "    claim: {} of the {} of {} (log index {})",
                s(&c["share"]),
                s(&c["element"]),
                s(&c["lot"]),
                c["index"]
            );
        }
        for acc in items(&d["accounts"]) {
            let _ = writeln!(
                out,
                "    account {}: {} kg specified in, {} kg claimed out{}",
                s(&acc["element"]),
                s(&acc["specified_in_kg"]),
                s(&acc["claimed_out_kg"]),
                if acc["holds"] == true {
                    ""
                } else {
                    " (claimed beyond)"
                }
            );
        }
        for f in items(&d["findings"]) {
            let _ = writeln!(out, "    FINDING ({}): {}", s(&f["element"]), s(&f["what"]));
        }
        let _ = writeln!(
            out,
            "    {}",
            if d["holds"] == true {
                "holds"
            } else {
                "does not hold"
            }
        );
    }
    out
}
