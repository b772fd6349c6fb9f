//! `oretrace witness`: run a C2SP tlog-witness v1 witness, or make its key.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use oretrace_tlog::cosignature::Cosigner;
use oretrace_tlog::policy::Policy;
use oretrace_witness::{State, Witness};

use crate::cli::{WitnessArgs, WitnessCommand};
use crate::commands::write_secret;
use crate::ledger_cmds::{init_tracing, listen_error, runtime};

pub fn run(args: &WitnessArgs) -> anyhow::Result<ExitCode> {
    if let Some(WitnessCommand::Keygen { name, out }) = &args.command {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let key = Cosigner::from_seed(name, seed)?;
        write_secret(out, key.to_skey().as_bytes())?;
        println!("{}", key.verifier().to_vkey());
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(data), Some(key), Some(logs)) = (&args.data, &args.key, &args.logs) else {
        bail!(
            "oretrace witness needs --data DIR, --key FILE and --logs FILE \
             (make a key with `oretrace witness keygen --name NAME --out FILE`)"
        );
    };
    init_tracing();
    let cosigner = read_cosigner(key)?;
    let text = std::fs::read(logs).with_context(|| format!("reading {}", logs.display()))?;
    let policy = Policy::parse_logs(&text).with_context(|| format!("{}", logs.display()))?;
    if policy.logs().is_empty() {
        bail!(
            "{}: no `log <vkey> [<url>]` line: there is no log to witness",
            logs.display()
        );
    }
    let runtime = runtime()?;
    // The port first: a witness that cannot listen leaves nothing behind.
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&args.listen))
        .map_err(|e| listen_error(&args.listen, &e))?;
    let state = State::open(data).with_context(|| format!("opening {}", data.display()))?;
    let witness = Arc::new(Witness::new(cosigner, &policy, state));
    runtime.block_on(async move {
        let url = format!("http://{}", listener.local_addr()?);
        println!("oretrace witness at {url} (state in {})", data.display());
        println!("witness vkey: {}", witness.verifier().to_vkey());
        for origin in witness.origins() {
            println!(
                "witnessing {origin}: {url}/{}/checkpoint",
                oretrace_witness::origin_hash(origin)
            );
        }
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        oretrace_witness::serve(witness, listener, shutdown).await?;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

/// The witness key, refused if others may read it.
fn read_cosigner(path: &Path) -> anyhow::Result<Cosigner> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "{} is readable by others (mode {:o}): a witness key must be private (chmod 600)",
                path.display(),
                mode & 0o777
            );
        }
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Cosigner::from_skey(text.trim()).with_context(|| format!("{}", path.display()))
}
