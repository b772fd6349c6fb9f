//! `oretrace verify LOCATION` with what else the log is checked against:
//! saved checkpoints (`--checkpoint FILE`), the witnesses of a policy
//! (`--witness-policy`: the served checkpoint's quorum, and each witness's
//! latest cosigned checkpoint), and, with `--follow`, every checkpoint the
//! log publishes from now on. Two inconsistent checkpoints from any of
//! these sources are printed as evidence, exit 1.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use oretrace_tlog::note::NoteVerifier;
use oretrace_tlog::policy::Policy;
use oretrace_verify::{Checks, Seen, StateStore, VerifyError};

use crate::cli::VerifyArgs;
use crate::commands::{progress_bar, report_failure};

/// The longest wait between polls after errors.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

pub fn audit_or_follow(args: &VerifyArgs, log_key: &NoteVerifier) -> anyhow::Result<ExitCode> {
    let location = args.location.as_deref().unwrap_or_default();
    let state = if args.no_state {
        None
    } else {
        let dir = args
            .state
            .clone()
            .or_else(StateStore::default_dir)
            .context("no --state folder and no $HOME")?;
        Some(StateStore::new(&dir))
    };
    let mut saved = Vec::new();
    for path in &args.checkpoints {
        let note = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        match Seen::open(format!("{}", path.display()), note, log_key) {
            Ok(seen) => saved.push(seen),
            // Not a checkpoint this log signed: no evidence of anything,
            // and no check can be made with it.
            Err(e) => {
                return Ok(report_failure(&VerifyError::Operational(format!(
                    "{}: not a checkpoint signed by this log's key: {e}",
                    path.display()
                ))));
            }
        }
    }
    let policy = match &args.witness_policy {
        None => None,
        Some(path) => {
            let text =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Some(Policy::parse(&text).with_context(|| format!("{}", path.display()))?)
        }
    };
    let source = match oretrace_verify::open_source(location) {
        Ok(s) => s,
        Err(e) => return Ok(report_failure(&e)),
    };
    let base = Duration::from_secs(args.interval.max(1));
    let mut wait = base;
    let mut last_size: Option<u64> = None;
    // The latest checkpoint this run verified: every later one must be
    // consistent with it, with or without --state.
    let mut followed: Option<Seen> = None;
    // Polls in a row in which a witness held a checkpoint the log does not
    // serve: a log that never catches up may be hiding a fork it cannot be
    // caught in without serving that size.
    let mut ahead_for = 0u32;
    loop {
        // The witnesses' latest cosigned checkpoints, fetched each time.
        let mut seen = saved.clone();
        seen.extend(followed.clone());
        if let Some(p) = &policy {
            seen.extend(witness_checkpoints(p, log_key));
        }
        let checks = Checks {
            seen: &seen,
            policy: policy.as_ref(),
        };
        let outcome = oretrace_verify::audit_with(
            source.as_ref(),
            log_key,
            state.as_ref(),
            checks,
            &progress_bar(),
        );
        match outcome {
            Ok(report) => {
                wait = base;
                ahead_for = if report.ahead.is_empty() {
                    0
                } else {
                    ahead_for + 1
                };
                if ahead_for > 0 && ahead_for.is_multiple_of(10) {
                    eprintln!(
                        "warning: for {ahead_for} polls a witness has held a checkpoint larger than the one the log serves ({}); \
                         an honest log catches up once its quorum cosigns, so this log may be withholding a history its witness saw",
                        report
                            .ahead
                            .iter()
                            .map(|s| format!("size {} at {}", s.checkpoint.size(), s.source))
                            .collect::<Vec<_>>()
                            .join("; ")
                    );
                }
                let cp = &report.checkpoint;
                if last_size != Some(cp.size()) {
                    println!(
                        "verified: {} size {} root {} ({} entries, {} tiles checked)",
                        cp.origin(),
                        cp.size(),
                        cp.root(),
                        report.entries_checked,
                        report.tiles_checked
                    );
                    match &report.previous {
                        Some(prev) => println!(
                            "consistent with the checkpoint verified before: size {} root {}",
                            prev.size(),
                            prev.root()
                        ),
                        None if state.is_some() => {
                            println!(
                                "first checkpoint seen for this origin; remembered for next time"
                            )
                        }
                        None => {}
                    }
                    for s in &report.ahead {
                        println!(
                            "not compared yet: size {} seen at {} is newer than the served checkpoint (the log serves the latest its quorum cosigned)",
                            s.checkpoint.size(),
                            s.source
                        );
                    }
                    for s in seen.iter().filter(|s| {
                        !s.source.ends_with("earlier in this run")
                            && !report.ahead.iter().any(|a| a.source == s.source)
                    }) {
                        println!(
                            "consistent with size {} seen at {}",
                            s.checkpoint.size(),
                            s.source
                        );
                    }
                    if let Some(p) = &policy
                        && let Ok(note) = oretrace_tlog::note::SignedNote::parse(
                            &source.get("checkpoint").ok().flatten().unwrap_or_default(),
                        )
                    {
                        let by = p.cosigned_by(&note);
                        if by.is_empty() {
                            println!("cosigned by: no witness of the policy");
                        } else {
                            println!("cosigned by: {}", by.join(", "));
                        }
                    }
                    last_size = Some(cp.size());
                }
                followed = Some(Seen {
                    source: format!("{location}, earlier in this run"),
                    note: report.note.clone(),
                    checkpoint: report.checkpoint.clone(),
                    served_by_log: true,
                });
                if !args.follow {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            Err(e @ (VerifyError::Failed { .. } | VerifyError::Fork(_))) => {
                // A quorum not met yet is waited for when following; the
                // rest is the log's fault.
                let quorum = matches!(&e, VerifyError::Failed { detail, .. } if detail.contains("quorum is not met"));
                if !(args.follow && quorum) {
                    return Ok(report_failure(&e));
                }
                eprintln!("waiting: {e}");
            }
            Err(e @ VerifyError::Operational(_)) => {
                if !args.follow {
                    return Ok(report_failure(&e));
                }
                eprintln!("error (retrying in {} s): {e}", wait.as_secs());
                std::thread::sleep(wait);
                wait = (wait * 2).min(MAX_BACKOFF);
                continue;
            }
        }
        std::thread::sleep(wait);
    }
}

/// The latest checkpoint each witness of `policy` with a URL cosigned for
/// this log (`GET <url>/<sha256(origin)>/checkpoint`), as far as they
/// answer; a witness that does not answer is skipped (and said so).
fn witness_checkpoints(policy: &Policy, log_key: &NoteVerifier) -> Vec<Seen> {
    let origin_hash = oretrace_witness::origin_hash(log_key.name());
    let mut out = Vec::new();
    for w in policy.witnesses() {
        let Some(url) = &w.url else {
            continue;
        };
        let fetched = oretrace_verify::open_source(url.trim_end_matches('/'))
            .and_then(|s| s.get(&format!("{origin_hash}/checkpoint")));
        match fetched {
            Ok(Some(note)) => {
                // The witness's own cosignature must be on it: else it is
                // not what this witness cosigned.
                let cosigned = oretrace_tlog::note::SignedNote::parse(&note)
                    .map_err(|e| e.to_string())
                    .and_then(|n| n.verify(&w.key).map_err(|e| e.to_string()));
                if let Err(e) = cosigned {
                    eprintln!(
                        "witness {}: the checkpoint at its URL does not carry its cosignature: {e}",
                        w.name
                    );
                    continue;
                }
                match Seen::from_witness(format!("witness {} ({url})", w.name), note, log_key) {
                    Ok(seen) => out.push(seen),
                    Err(e) => {
                        eprintln!("witness {}: its checkpoint is not this log's: {e}", w.name)
                    }
                }
            }
            Ok(None) => {}
            Err(e) => eprintln!("witness {}: {e}", w.name),
        }
    }
    out
}
