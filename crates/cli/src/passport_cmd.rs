//! `oretrace passport LOT`: saves the lot passport of
//! `GET /lots/{id}/passport` (a compact JWS); `oretrace passport verify
//! FILE` checks one offline with the issuer's JWK set and the log's vkey
//! (`docs/design/passport.md`); `oretrace passport key` prints a data
//! directory's credential key as a JWK set.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use oretrace_domain::jose::{MAX_JWS_BYTES, jwk_set, parse_jwk_set};
use serde_json::Value;

use crate::cli::{PassportArgs, PassportCommand};
use crate::commands::parse_vkey;
use crate::epcis_cmds::{base, check_server, client, refusal};

pub fn run(args: &PassportArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        Some(PassportCommand::Verify {
            file,
            issuer_jwks,
            log_vkey,
            json,
        }) => verify(file, issuer_jwks, log_vkey, *json),
        Some(PassportCommand::Key { data }) => {
            std::fs::create_dir_all(data)
                .with_context(|| format!("creating {}", data.display()))?;
            let key = crate::ledger_cmds::credential_key(data)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&jwk_set(&[key.public().clone()]))?
            );
            Ok(ExitCode::SUCCESS)
        }
        None => match &args.lot {
            Some(lot) => fetch(lot, &args.server, args.out.as_deref()),
            None => bail!("give a lot id, or verify FILE"),
        },
    }
}

fn fetch(lot: &str, server: &str, out: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    check_server(server)?;
    let http = client()?;
    let url = format!(
        "{}/lots/{}/passport",
        base(server),
        oretrace_epcis_map::percent_encode(lot)
    );
    let response = http
        .get(&url)
        .send()
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let text = response.text().unwrap_or_default();
    if !status.is_success() {
        bail!("the passport of {lot}: {}", refusal(status, &text));
    }
    match out {
        Some(path) => {
            std::fs::write(path, format!("{}\n", text.trim_end()))
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "the passport of {lot} saved to {} ({} bytes; check it with oretrace passport verify {} \
                 --issuer-jwks JWKS --log-vkey VKEY)",
                path.display(),
                text.len(),
                path.display()
            );
        }
        None => println!("{}", text.trim_end()),
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(
    file: &std::path::Path,
    issuer_jwks: &std::path::Path,
    log_vkey: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if size > MAX_JWS_BYTES as u64 {
        bail!(
            "{} is {size} bytes; a passport is at most {MAX_JWS_BYTES}",
            file.display()
        );
    }
    let jws =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let keys_text = std::fs::read_to_string(issuer_jwks)
        .with_context(|| format!("reading {}", issuer_jwks.display()))?;
    let keys = parse_jwk_set(&keys_text)
        .with_context(|| format!("--issuer-jwks {}", issuer_jwks.display()))?;
    let log_key = parse_vkey("--log-vkey", log_vkey)?;
    let verified = match oretrace_domain::passport::verify(&jws, &keys, &log_key) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("FAILED: {}: {e}", file.display());
            return Ok(ExitCode::from(1));
        }
    };
    let credential = &verified.credential;
    let cp = &verified.checkpoint;
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for kind in verified.records.values() {
        *kinds.entry(kind.as_str()).or_default() += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let text = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    println!("verified: the passport of {}", verified.lot);
    println!(
        "  signature: EdDSA by the issuer's key {} ({})",
        verified.kid,
        text(&credential["issuer"]["id"])
    );
    println!("  valid from: {}", text(&credential["validFrom"]));
    println!(
        "  checkpoint: {} size {} root {}, signed by the log key",
        cp.origin(),
        cp.size(),
        cp.root()
    );
    println!(
        "  receipts: {} records proved in the log at that checkpoint ({})",
        verified.records.len(),
        kinds.join(", ")
    );
    println!(
        "  the subject cites {} of them; every one is proved",
        verified.cited
    );
    println!("  figures: {}", verified.figures);
    println!(
        "  not checked: that the figures are computed correctly from those records \
         (oretrace provenance recomputes them) and that no later record changes them"
    );
    if json {
        println!("{}", serde_json::to_string_pretty(credential)?);
    }
    Ok(ExitCode::SUCCESS)
}
