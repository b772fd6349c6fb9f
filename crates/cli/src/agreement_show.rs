//! `oretrace agreement list | show`: a registry's agreements as people
//! read them — who registered each version and who has not confirmed it,
//! what is still sealed and since when, whether anything is overdue, and
//! pledged against delivered. Read from the server's JSON
//! (`GET /agreements`, `/agreements/{id}`, `/agreements/{id}/pledges`).

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::epcis_cmds::{check_server, client, refusal};

/// Percent-encodes a path segment or query value (ids hold `:`).
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn get(http: &reqwest::blocking::Client, url: &str) -> anyhow::Result<Value> {
    let response = http.get(url).send().with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let text = response.text().with_context(|| format!("GET {url}"))?;
    if !status.is_success() {
        bail!("GET {url}: {}", refusal(status, &text));
    }
    serde_json::from_str(&text).with_context(|| format!("GET {url}: not JSON"))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn words(v: &Value) -> String {
    v.as_array()
        .map(|a| a.iter().map(text).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

pub fn list(
    server: &str,
    party: Option<String>,
    country: Option<String>,
    overdue: bool,
    as_of: Option<String>,
) -> anyhow::Result<ExitCode> {
    check_server(server)?;
    let http = client()?;
    let mut query: Vec<String> = Vec::new();
    if let Some(p) = party {
        query.push(format!("party={}", encode(&p)));
    }
    if let Some(c) = country {
        query.push(format!("country={}", encode(&c)));
    }
    if overdue {
        query.push("overdue=true".into());
    }
    if let Some(d) = as_of {
        query.push(format!("asOf={}", encode(&d)));
    }
    let base = server.trim_end_matches('/');
    let mut token: Option<String> = None;
    let mut shown = 0usize;
    loop {
        let mut q = query.clone();
        if let Some(t) = &token {
            q.push(format!("nextPageToken={}", encode(t)));
        }
        let url = format!("{base}/agreements?{}", q.join("&"));
        let page = get(&http, &url)?;
        for a in page["agreements"].as_array().into_iter().flatten() {
            shown += 1;
            let mut flags = Vec::new();
            if a["overdue"] == true {
                flags.push("OVERDUE");
            }
            if a["figures"] == "illustrative" {
                flags.push("illustrative figures");
            }
            println!(
                "{}  {} ({}, {}, version {}) — {}; parties {}; {}{}",
                text(&a["id"]),
                text(&a["title"]),
                text(&a["kind"]),
                text(&a["status"]),
                a["latest"],
                text(&a["signed"]),
                words(&a["parties"]),
                text(&a["disclosure"]),
                if flags.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", flags.join(", "))
                },
            );
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    if shown == 0 {
        println!("no agreement matches");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(server: &str, id: &str, as_of: Option<String>, json: bool) -> anyhow::Result<ExitCode> {
    check_server(server)?;
    let http = client()?;
    let base = server.trim_end_matches('/');
    let query = as_of
        .map(|d| format!("?asOf={}", encode(&d)))
        .unwrap_or_default();
    let a = get(&http, &format!("{base}/agreements/{}{query}", encode(id)))?;
    let pledges = get(
        &http,
        &format!("{base}/agreements/{}/pledges{query}", encode(id)),
    )?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"agreement": a, "pledges": pledges}))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} — {}", text(&a["id"]), text(&a["title"]));
    println!(
        "  {}, status {}, signed on {}; parties {} (countries {})",
        text(&a["kind"]),
        text(&a["status"]),
        text(&a["signed"]),
        words(&a["parties"]),
        words(&a["countries"]),
    );
    if let Some(note) = a["note"].as_str() {
        println!("  NOTE: {note}");
    }
    println!("  as of {}:", text(&a["as_of"]));
    for v in a["versions"].as_array().into_iter().flatten() {
        println!(
            "  version {} (log entry {}): {}",
            v["version"],
            v["index"],
            text(&v["confirmation"])
        );
        match text(&v["disclosure"]) {
            "public" => println!("    text public, in the record"),
            state => {
                let mut line = format!(
                    "    {state}: {} of {} clauses revealed",
                    v["revealed"].as_array().map_or(0, Vec::len),
                    v["clauses"]
                );
                if let Some(due) = v["disclose_by"].as_str() {
                    line.push_str(&format!(
                        "; sealed {} days; planned disclosure {due}",
                        v["sealed_days"]
                    ));
                    if v["disclosure_overdue"] == true {
                        line.push_str(" — OVERDUE");
                    }
                }
                println!("{line}");
            }
        }
    }
    for p in pledges["pledges"].as_array().into_iter().flatten() {
        let quantity = match (p["pledged"].as_str(), p["unit"].as_str()) {
            (Some(amount), Some(unit)) => {
                format!("{} of {amount} {unit} delivered", text(&p["delivered"]))
            }
            _ => {
                if p["complete"] == true {
                    "milestone complete".to_owned()
                } else {
                    "milestone".to_owned()
                }
            }
        };
        println!(
            "  pledge {}: {} — {quantity}; due {}; {}{}",
            text(&p["id"]),
            text(&p["description"]),
            text(&p["due"]),
            text(&p["status"]),
            if p["overdue"] == true {
                " (OVERDUE)"
            } else {
                ""
            },
        );
        for d in p["deliveries"].as_array().into_iter().flatten() {
            println!(
                "    {} by {} (entry {}): {}{}",
                text(&d["date"]),
                text(&d["author"]),
                d["index"],
                d["amount"].as_str().unwrap_or("reported"),
                if d["figures"] == "illustrative" {
                    " [illustrative]"
                } else {
                    ""
                },
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
