//! The ledger commands: serve, demo, record sign/submit, rebuild. The
//! binary chooses the storage backend here, once, at the top.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use oretrace_domain::envelope::{EnvelopeJson, SignedRecord};
use oretrace_domain::jose::CredentialKey;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::Store;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_store_sqlite::SqliteStore;
use oretrace_tlog::note::{NoteSigner, NoteVerifier};

use crate::cli::{DemoArgs, RebuildArgs, RecordCommand, ServeArgs};
use crate::commands::{generate_key, parse_vkey, read_key, write_secret};
use crate::scenario::{self, ScenarioKeys};

/// Logs to stderr, with colour only when stderr is a terminal (a log
/// file or a journal gets plain text).
pub(crate) fn init_tracing() {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Which origin the log of a new data directory gets.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Origin<'a> {
    /// This one (`serve --origin`); refused for a directory whose log has
    /// another.
    Given(&'a str),
    /// `<prefix><8 random hex digits>`.
    Unique(&'a str),
}

/// The log key of a data directory: created on first use.
pub(crate) fn log_key(data: &Path, origin: Origin<'_>) -> anyhow::Result<NoteSigner> {
    let path = data.join("log.key");
    if path.exists() {
        let key = read_key(&path)?;
        if let Origin::Given(asked) = origin
            && asked != key.name()
        {
            bail!(
                "--origin {asked}: the log in {} already has the origin {} (a log keeps its \
                 origin; for a new log, give a new --data directory)",
                data.display(),
                key.name()
            );
        }
        return Ok(key);
    }
    let origin = match origin {
        Origin::Given(origin) => origin.to_owned(),
        Origin::Unique(prefix) => unique_origin(prefix)?,
    };
    let key = generate_key(&origin)?;
    write_secret(&path, key.to_skey().as_bytes())?;
    Ok(key)
}

/// The credential key of a data directory, which signs lot passports:
/// `credential.jwk` (a private JWK), created on first use.
pub(crate) fn credential_key(data: &Path) -> anyhow::Result<CredentialKey> {
    let path = data.join(CREDENTIAL_KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return CredentialKey::from_private_jwk(text.trim())
            .with_context(|| format!("{} is not a credential key", path.display()));
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let key = CredentialKey::from_seed(seed);
    write_secret(&path, key.to_private_jwk().as_bytes())?;
    Ok(key)
}

/// The file a data directory keeps its credential key in.
pub(crate) const CREDENTIAL_KEY_FILE: &str = "credential.jwk";

fn open_ledger(
    data: &Path,
    origin: Origin<'_>,
    operator: NoteVerifier,
    config: LedgerConfig,
) -> anyhow::Result<Ledger<SqliteStore>> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let key = log_key(data, origin)?;
    let store = SqliteStore::open(data)
        .with_context(|| format!("opening the store in {}", data.display()))?;
    Ledger::start(store, key, operator, config)
        .with_context(|| format!("starting the ledger on {}", data.display()))
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub(crate) fn run_server<S: Store>(
    ledger: Arc<Ledger<S>>,
    listen: &str,
    config: oretrace_server::ServerConfig,
    credential: CredentialKey,
    banner: impl FnOnce(&str),
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| listen_error(listen, &e))?;
        let url = format!("http://{}", listener.local_addr()?);
        banner(&url);
        // Ctrl-C or SIGTERM (a service manager's stop) end the serving
        // cleanly: a node of a shared store then gives its lease up.
        let shutdown = async {
            let terminate = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = terminate => {}
            }
        };
        oretrace_server::serve(ledger, config, Some(credential), listener, shutdown).await?;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

/// Why `listen` could not be listened on; for an address in use, how to
/// choose another.
pub(crate) fn listen_error(listen: &str, error: &std::io::Error) -> anyhow::Error {
    if error.kind() == std::io::ErrorKind::AddrInUse {
        anyhow::anyhow!(
            "listening on {listen}: {error} (choose another with --listen 127.0.0.1:PORT)"
        )
    } else {
        anyhow::anyhow!("listening on {listen}: {error}")
    }
}

/// How to run this binary from a shell: its path (quoted if it needs
/// to be), so that the commands the demo prints work as printed whether
/// or not `oretrace` is on the PATH.
fn this_binary() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "oretrace".to_owned();
    };
    let text = exe.display().to_string();
    if text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

pub fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    init_tracing();
    let operator = parse_vkey("--operator-vkey", &args.operator_vkey)?;
    let origin = match &args.origin {
        Some(origin) => Origin::Given(origin),
        None => Origin::Unique(SERVE_ORIGIN_PREFIX),
    };
    let ledger_config = LedgerConfig {
        element_balance_tolerance_percent: args.element_balance_tolerance,
        ..LedgerConfig::default()
    };
    if let Some(url) = &args.store {
        std::fs::create_dir_all(&args.data)
            .with_context(|| format!("creating {}", args.data.display()))?;
        let key = log_key(&args.data, origin)?;
        return crate::cluster::serve_shared(args, url, key, operator, ledger_config);
    }
    let ledger = open_ledger(&args.data, origin, operator, ledger_config)?;
    serve_ledger(args, Arc::new(ledger), |url| {
        println!("oretrace serving {} at {url}", args.data.display());
    })
}

/// Serves `ledger` as `args` say, printing `banner` and the keys once
/// listening.
pub(crate) fn serve_ledger<S: Store>(
    args: &ServeArgs,
    ledger: Arc<Ledger<S>>,
    banner: impl FnOnce(&str),
) -> anyhow::Result<ExitCode> {
    let vkey = ledger.vkey();
    let credential = credential_key(&args.data)?;
    let kid = credential.public().kid().to_owned();
    if args.capture_max_events == 0
        || args.capture_max_bytes == 0
        || args.capture_body_timeout == 0
        || args.query_scan_budget == 0
    {
        bail!(
            "--capture-max-events, --capture-max-bytes, --capture-body-timeout and \
             --query-scan-budget must be at least 1"
        );
    }
    if args.capture_body_timeout >= oretrace_server::REQUEST_TIMEOUT.as_secs() {
        bail!(
            "--capture-body-timeout must be under the request timeout of {} s",
            oretrace_server::REQUEST_TIMEOUT.as_secs()
        );
    }
    let config = oretrace_server::ServerConfig {
        capture_max_events: args.capture_max_events,
        capture_max_bytes: args.capture_max_bytes,
        capture_body_timeout: std::time::Duration::from_secs(args.capture_body_timeout),
        client_scan_budget: args.query_scan_budget,
        client_scan_refill: std::time::Duration::from_secs(60),
        rule_packs: rule_packs(args.rules.as_deref())?,
        witnesses: witness_policy(args.witness_policy.as_deref(), ledger.origin())?,
        subscription_loopback: args.epcis_allow_loopback_dest,
        subscription_retry: std::time::Duration::from_secs(args.epcis_retry_seconds),
        ..oretrace_server::ServerConfig::default()
    };
    run_server(ledger, &args.listen, config, credential, |url| {
        banner(url);
        let packs: Vec<&str> = config.rule_packs.iter().map(|p| p.id.as_str()).collect();
        println!("rule packs: {}", packs.join(", "));
        println!("log vkey: {vkey}");
        println!("credential key: {url}/.well-known/jwks.json (kid {kid})");
    })
}

/// The demo's route choice: the rare-earth concentrate under every rule
/// pack, through Karachi as recorded and through Gwadar as a what-if.
fn print_routes<S: oretrace_ledger::Store>(
    store: &S,
    packs: &[oretrace_provenance::rules::RulePack],
) -> anyhow::Result<()> {
    use oretrace_ledger::compliance::compliance;
    use oretrace_ledger::provenance::ProvenanceLimits;
    const LOT: &str = "urn:oretrace:lot:fwo:ree-concentrate-0001";
    let judge = |via: &[String]| {
        compliance(store, LOT, ProvenanceLimits::DEFAULT, packs, None, via)
            .map_err(|e| anyhow::anyhow!("judging {LOT}: {e}"))?
            .ok_or_else(|| anyhow::anyhow!("the demo holds no lot {LOT}"))
    };
    let recorded = judge(&[])?;
    let gwadar = judge(&["gwadar-port".to_owned()])?;
    println!(
        "Routes:    {LOT} (figures {}) under each rule pack:",
        recorded.figures
    );
    println!(
        "             {:<20} {:<28} via gwadar-port (what-if: operated by COPHC)",
        "pack", "via karachi-port (recorded)"
    );
    // The first finding that is not a pass, for each route.
    let why = |p: &oretrace_ledger::compliance::PackJson| {
        p.rules
            .iter()
            .filter(|r| r.verdict != "pass" && r.verdict != "not-applicable")
            .filter_map(|r| r.findings.first())
            .map(|f| f.what.clone())
            .next()
    };
    for (a, b) in recorded.packs.iter().zip(&gwadar.packs) {
        println!(
            "             {:<20} {:<28} {}",
            a.pack, a.verdict, b.verdict
        );
        match (why(a), why(b)) {
            (Some(x), Some(y)) if x == y => println!("               both: {x}"),
            (x, y) => {
                if let Some(x) = x {
                    println!("               karachi: {x}");
                }
                if let Some(y) = y {
                    println!("               gwadar: {y}");
                }
            }
        }
    }
    Ok(())
}

/// The compliance rule packs: the built-in ones, or every `*.json` of
/// `dir` (by file name), each parsed (an error names the file, line and
/// rule) and the set checked. Loaded once per process.
/// The witness policy of `--witness-policy`, checked: a full policy
/// (with its quorum) whose witnesses all have a URL to be asked at.
fn witness_policy(
    path: Option<&std::path::Path>,
    origin: &str,
) -> anyhow::Result<Option<&'static oretrace_tlog::policy::Policy>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let policy = oretrace_tlog::policy::Policy::parse(&text)
        .with_context(|| format!("{}", path.display()))?;
    if let Some(w) = policy.witnesses().iter().find(|w| w.url.is_none()) {
        bail!(
            "{}: line {}: witness {} has no URL, so this log cannot ask it to cosign",
            path.display(),
            w.line,
            w.name
        );
    }
    if !policy.logs().is_empty() && policy.log(origin).is_none() {
        bail!(
            "{}: lists logs, but not this one ({origin})",
            path.display()
        );
    }
    Ok(Some(Box::leak(Box::new(policy))))
}

fn rule_packs(
    dir: Option<&std::path::Path>,
) -> anyhow::Result<&'static [oretrace_provenance::rules::RulePack]> {
    use oretrace_provenance::rules::{MAX_PACK_BYTES, MAX_PACKS, RulePack, check_set};
    let Some(dir) = dir else {
        return Ok(oretrace_server::compliance::built_in_packs());
    };
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the rule packs in {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading the rule packs in {}", dir.display()))?;
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    if files.is_empty() {
        bail!("{} holds no rule pack (*.json)", dir.display());
    }
    if files.len() > MAX_PACKS {
        bail!("{} holds more than {MAX_PACKS} rule packs", dir.display());
    }
    let mut packs = Vec::with_capacity(files.len());
    for path in &files {
        let size = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        if size > MAX_PACK_BYTES as u64 {
            bail!(
                "{}: a rule pack is at most {MAX_PACK_BYTES} bytes",
                path.display()
            );
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let pack = RulePack::parse(&path.display().to_string(), &text)?;
        if let Some(i) = packs.iter().position(|p: &RulePack| p.id == pack.id) {
            bail!(
                "{} and {} both hold the rule pack {}: give each pack one file",
                files[i].display(),
                path.display(),
                pack.id
            );
        }
        packs.push(pack);
    }
    check_set(&packs).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    Ok(Box::leak(packs.into_boxed_slice()))
}

/// Waits (at most 15 s) until the server at `url` serves a checkpoint of
/// `size` entries, that is, until the witnesses have cosigned the whole
/// scenario; says so if they have not.
fn wait_for_cosigned(url: &str, size: u64) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        let served = reqwest::blocking::get(format!("{url}/checkpoint"))
            .and_then(|r| r.text())
            .ok()
            .and_then(|t| t.lines().nth(1).and_then(|l| l.parse::<u64>().ok()));
        if served == Some(size) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    eprintln!(
        "the demo's witnesses have not cosigned the checkpoint of size {size} yet: /checkpoint serves the last one they did"
    );
}

/// The demo's witnesses: where each runs, and the policy the server
/// follows (also written to a file, for `verify --witness-policy`).
struct DemoWitnesses {
    running: Vec<(&'static str, String, String)>,
    policy: &'static oretrace_tlog::policy::Policy,
    policy_file: std::path::PathBuf,
}

/// Starts two witnesses (the Government of Pakistan's and the buyer's)
/// on loopback ports, each with its key in `keys_dir` (made on first use)
/// and its state under `data/witnesses/`.
fn demo_witnesses(
    runtime: &tokio::runtime::Runtime,
    data: &std::path::Path,
    keys_dir: &std::path::Path,
    log_vkey: &str,
) -> anyhow::Result<DemoWitnesses> {
    use oretrace_tlog::cosignature::Cosigner;
    use oretrace_tlog::policy::Policy;
    let logs = Policy::parse_logs(format!("log {log_vkey}\n").as_bytes())?;
    let mut running = Vec::new();
    let mut text = format!("# the demo's witnesses\nlog {log_vkey}\n");
    for party in ["gov-pk", "ussm"] {
        let path = keys_dir.join(format!("witness_{party}.key"));
        let key = if path.exists() {
            let skey = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            Cosigner::from_skey(skey.trim()).with_context(|| format!("{}", path.display()))?
        } else {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let key = Cosigner::from_seed(&format!("witness.{party}.example/w1"), seed)?;
            write_secret(&path, key.to_skey().as_bytes())?;
            key
        };
        let wkey = key.verifier().to_vkey();
        let state_dir = data.join("witnesses").join(party);
        let state = oretrace_witness::State::open(&state_dir)
            .with_context(|| format!("opening {}", state_dir.display()))?;
        let witness = Arc::new(oretrace_witness::Witness::new(key, &logs, state));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .context("a loopback port for a demo witness")?;
        let url = format!("http://{}", listener.local_addr()?);
        runtime.spawn(oretrace_witness::serve(
            witness,
            listener,
            std::future::pending::<()>(),
        ));
        text.push_str(&format!("witness {party} {wkey} {url}\n"));
        running.push((party, url, wkey));
    }
    text.push_str("group both all gov-pk ussm\nquorum both\n");
    let policy_file = data.join("witness-policy.txt");
    std::fs::write(&policy_file, &text)
        .with_context(|| format!("writing {}", policy_file.display()))?;
    let policy = Policy::parse(text.as_bytes())?;
    Ok(DemoWitnesses {
        running,
        policy: Box::leak(Box::new(policy)),
        policy_file,
    })
}

pub fn demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    init_tracing();
    let keys_dir = args.data.join("keys");
    std::fs::create_dir_all(&keys_dir)
        .with_context(|| format!("creating {}", keys_dir.display()))?;
    let keys = ScenarioKeys::generate(|name| {
        let path = keys_dir.join(format!("{}.key", name.replace('/', "_")));
        if path.exists() {
            return read_key(&path);
        }
        let key = generate_key(name)?;
        write_secret(&path, key.to_skey().as_bytes())?;
        Ok(key)
    })?;
    let ledger = Arc::new(open_ledger(
        &args.data,
        Origin::Unique(DEMO_ORIGIN_PREFIX),
        keys.operator.verifier(),
        LedgerConfig::default(),
    )?);
    let fresh = ledger.store().size()? == 0;
    let credential = credential_key(&args.data)?;
    // Without --no-serve the demo listens where asked; with it, on a
    // loopback port of its own just long enough to load the scenario.
    let listen = if args.no_serve {
        "127.0.0.1:0"
    } else {
        args.listen.as_str()
    };
    let runtime = runtime()?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(listen))
        .map_err(|e| listen_error(listen, &e))?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // Two witnesses run by parties of the scenario, on loopback: every
    // checkpoint is cosigned by both from the first minute.
    let witnesses = demo_witnesses(&runtime, &args.data, &keys_dir, &ledger.vkey())?;
    let config = oretrace_server::ServerConfig {
        rule_packs: rule_packs(args.rules.as_deref())?,
        witnesses: Some(witnesses.policy),
        // The buyer's inbox below listens on loopback.
        subscription_loopback: true,
        ..oretrace_server::ServerConfig::default()
    };
    let inbox = oretrace_server::inbox::Inbox::start(
        &runtime,
        args.data.join("buyer-inbox.jsonl"),
        vec![credential.public().clone()],
    )
    .context("a loopback port for the demo's buyer inbox")?;
    let server = runtime.spawn(oretrace_server::serve(
        ledger.clone(),
        config,
        Some(credential),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    let loaded = if fresh {
        let story = load_scenario(&ledger, &keys, &url)?;
        let deals = crate::scenario_deals::load(&ledger, &keys, &keys_dir)?;
        story + deals.records
    } else {
        0
    };
    // USSM subscribes to its inbound lots' events; the registry pushes
    // them, signed, to the buyer's inbox.
    let ussm = keys
        .parties
        .iter()
        .find(|(id, _)| id == "ussm")
        .map(|(_, k)| k)
        .context("the scenario has USSM")?;
    let subscription = crate::demo_inbox::subscribe(&url, ussm, &inbox.url)?;
    let arrived = inbox.wait(std::time::Duration::from_secs(20));
    let (checkpoint, _) = ledger.checkpoint().map_err(|e| anyhow::anyhow!("{e}"))?;
    if !args.no_serve {
        wait_for_cosigned(&url, checkpoint.size());
    }
    let vkey = ledger.vkey();
    let shown = if args.no_serve {
        "http://<address>"
    } else {
        url.as_str()
    };
    println!("oretrace demo: Pakistan's first critical-mineral shipment to the United States");
    println!("Parties, places and dates are as reported; every quantity, grade, laboratory and");
    println!("document reference is ILLUSTRATIVE and labelled so in every record (\"figures\").");
    println!();
    if loaded > 0 {
        println!(
            "loaded {loaded} signed records; log size {} root {}",
            checkpoint.size(),
            checkpoint.root()
        );
        println!(
            "(parties and sites as signed records; the material's story as EPCIS 2.0 documents \
             captured through {shown}/capture, signed by the parties)"
        );
    } else {
        println!(
            "data in {} already loaded; log size {}",
            args.data.display(),
            checkpoint.size()
        );
    }
    println!("log vkey:  {vkey}");
    println!(
        "keys:      {} (one per party, and the registry operator)",
        keys_dir.display()
    );
    let operator_vkey = keys.operator.verifier().to_vkey();
    let operator_file = args.data.join("operator.vkey");
    std::fs::write(&operator_file, format!("{operator_vkey}\n"))
        .with_context(|| format!("writing {}", operator_file.display()))?;
    println!(
        "operator:  {operator_vkey} (in {}, for `serve --operator-vkey`)",
        operator_file.display()
    );
    for (party, url, wkey) in &witnesses.running {
        println!("witness:   {party} at {url} (vkey {wkey})");
    }
    println!(
        "           /checkpoint is served once both have cosigned it; policy in {}",
        witnesses.policy_file.display()
    );
    println!(
        "Pushed:    USSM subscribed to its inbound lots' events (named query {}, subscription {subscription});",
        crate::demo_inbox::QUERY
    );
    println!(
        "           the registry pushed {} {} ({} events) to its inbox at {}, each signature",
        arrived.len(),
        if arrived.len() == 1 {
            "delivery"
        } else {
            "deliveries"
        },
        arrived.iter().map(|a| a.events).sum::<usize>(),
        inbox.url
    );
    println!(
        "           checked against /.well-known/jwks.json before it was written to {}",
        inbox.file.display()
    );
    let oretrace = this_binary();
    print_deals(ledger.store(), &keys_dir, shown, &oretrace, &vkey)?;
    println!();
    println!("Look:      {shown}/lots   {shown}/parties   {shown}/sites   {shown}/openapi.json");
    println!("           {shown}/lots/urn:oretrace:lot:fwo:sb-concentrate-0001");
    println!("EPCIS:     {shown}/events?EQ_bizStep=shipping   {shown}/bizSteps/receiving/events");
    println!(
        "Export:    {oretrace} export --server {shown} --lot urn:oretrace:lot:fwo:sb-concentrate-0001"
    );
    println!(
        "Trace:     {oretrace} provenance urn:oretrace:lot:fwo:ree-concentrate-0001 --server {shown}"
    );
    println!("Reconcile: {oretrace} reconcile fwo-export-2025-0001 --server {shown}");
    print_routes(ledger.store(), config.rule_packs)?;
    println!(
        "Judge:     {oretrace} compliance urn:oretrace:lot:fwo:ree-concentrate-0001 --server {shown} --via gwadar-port"
    );
    println!("Exports:   {oretrace} value-added --server {shown} --country PK");
    println!(
        "Passport:  {oretrace} passport urn:oretrace:lot:fwo:ree-concentrate-0001 --server {shown} --out ree.jwt"
    );
    println!(
        "           curl -s {shown}/.well-known/jwks.json > jwks.json && {oretrace} passport verify ree.jwt --issuer-jwks jwks.json --log-vkey '{vkey}'"
    );
    println!("Audit:     {oretrace} audit --server {shown}");
    println!("Verify:    {oretrace} verify {shown} --vkey '{vkey}'");
    println!(
        "Monitor:   {oretrace} verify {shown} --vkey '{vkey}' --witness-policy {} --follow",
        witnesses.policy_file.display()
    );
    println!(
        "Receipt:   curl -s {shown}/records/0/receipt > r.tlog-proof && {oretrace} verify --inclusion r.tlog-proof --vkey '{vkey}'"
    );
    if !args.no_serve {
        runtime.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
    }
    let _ = stop.send(());
    runtime
        .block_on(server)
        .context("the server task")?
        .context("serving")?;
    Ok(ExitCode::SUCCESS)
}

/// The demo's lines about the scenario's deals: where to see them, the
/// opening FWO keeps, and how anyone checks the reveal against the sealed
/// version's log entry.
fn print_deals<S: Store>(
    store: &S,
    keys_dir: &Path,
    shown: &str,
    oretrace: &str,
    vkey: &str,
) -> anyhow::Result<()> {
    use crate::scenario_deals::{MOU, NLC_MOU, REVEALED, REVEALED_VERSION, opening_path};
    let (Some(version), Some(clause)) = (
        store.agreement_version(MOU, REVEALED_VERSION)?,
        store.clause(MOU, REVEALED_VERSION, 0)?,
    ) else {
        return Ok(());
    };
    let count = match &version.record().terms {
        oretrace_domain::agreement::Terms::Sealed { count, .. } => *count,
        oretrace_domain::agreement::Terms::Public { .. } => 0,
    };
    println!();
    println!(
        "Deals:     the FWO-USSM MoU (USD 500 million, reported) was registered with its text SEALED;"
    );
    println!(
        "           FWO later revealed clauses {} of {count}, the rest are overdue; the clause texts,",
        REVEALED.map(|i| i.to_string()).join(", ")
    );
    println!(
        "           due dates and progress figures are ILLUSTRATIVE (the real text is not public)."
    );
    println!("           {shown}/agreements/{MOU}   {shown}/agreements/{NLC_MOU}");
    println!(
        "           {shown}/agreements?overdue=true   {shown}/pledges/totals?by=country   {shown}/reports   {shown}/resources"
    );
    println!(
        "Opening:   {} (FWO's private texts and salts; never sent to the registry)",
        opening_path(keys_dir, MOU).display()
    );
    println!(
        "Reveal:    curl -s {shown}/records/{} > reveal.json && curl -s {shown}/records/{}/receipt > mou.tlog-proof",
        clause.index,
        version.index()
    );
    println!(
        "           {oretrace} agreement verify reveal.json --receipt mou.tlog-proof --vkey '{vkey}'"
    );
    Ok(())
}

/// A new log's origin: `prefix` and 8 random hex digits, so that every
/// new log (every demo, every fresh `serve` directory) has an origin of
/// its own. An auditor remembers checkpoints by origin and refuses a new
/// key for an origin it knows; with one origin for all, verifying a
/// second registry would fail. (A data directory keeps its log key, and
/// with it its origin.)
fn unique_origin(prefix: &str) -> anyhow::Result<String> {
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut suffix).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{prefix}{hex}"))
}

/// What every demo log's origin starts with.
const DEMO_ORIGIN_PREFIX: &str = "oretrace.example/demo/";

/// What the origin of a new `serve` log starts with, unless `--origin`
/// names one.
const SERVE_ORIGIN_PREFIX: &str = "oretrace.example/log/";

/// Loads the scenario: master data as signed records, then every EPCIS
/// document through `POST /capture` at `url`, as `oretrace import` does.
fn load_scenario<S: Store>(
    ledger: &Ledger<S>,
    keys: &ScenarioKeys,
    url: &str,
) -> anyhow::Result<usize> {
    let plan = scenario::load(keys)?;
    let mut count = plan.master.len();
    for (i, outcome) in ledger
        .submit_all_blocking(plan.master)
        .into_iter()
        .enumerate()
    {
        outcome.map_err(|e| anyhow::anyhow!("scenario record {i} was refused: {e}"))?;
    }
    for (names, document) in &plan.documents {
        let signers: Vec<&NoteSigner> = names
            .iter()
            .map(|n| keys.by_name(n))
            .collect::<anyhow::Result<_>>()?;
        let body = oretrace_epcis_map::to_json_text(document, true).into_bytes();
        let job = crate::epcis_cmds::capture(
            url,
            &body,
            &crate::epcis_cmds::Credentials::Keys(&signers),
            oretrace_domain::event::CaptureBehaviour::Rollback,
        )?;
        if job["success"] != true {
            bail!("the scenario document signed by {names:?} was refused: {job:#}");
        }
        count += job["events"].as_array().map_or(0, Vec::len);
    }
    Ok(count)
}

pub fn record(cmd: RecordCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RecordCommand::Sign { record, keys } => {
            let json =
                std::fs::read(&record).with_context(|| format!("reading {}", record.display()))?;
            let parsed = RecordJson::parse(&json)
                .with_context(|| format!("{} is not a valid record", record.display()))?;
            let signers: Vec<NoteSigner> = keys
                .iter()
                .map(|k| read_key(k))
                .collect::<anyhow::Result<_>>()?;
            let refs: Vec<&NoteSigner> = signers.iter().collect();
            let signed = SignedRecord::sign(parsed, &refs)?;
            println!("{}", serde_json::to_string_pretty(&signed.to_envelope())?);
            Ok(ExitCode::SUCCESS)
        }
        RecordCommand::Submit {
            envelope,
            server,
            receipt,
        } => submit(&envelope, &server, receipt.as_deref()),
    }
}

/// Reads and checks the envelope to submit: an empty file, a file that
/// is not JSON and an unsigned record are each refused in words (the
/// last with the command that signs it), before anything is sent.
fn read_envelope(path: &Path) -> anyhow::Result<(Vec<u8>, SignedRecord)> {
    let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        bail!(
            "{} is empty: give the envelope `oretrace record sign RECORD --key KEY` prints",
            path.display()
        );
    }
    let value: serde_json::Value =
        serde_json::from_slice(&body).with_context(|| format!("{} is not JSON", path.display()))?;
    if value.get("kind").is_some() && value.get("record").is_none() {
        bail!(
            "{} is an unsigned record; sign it and submit the envelope: \
             oretrace record sign {} --key party.key > envelope.json",
            path.display(),
            path.display()
        );
    }
    let envelope: EnvelopeJson = serde_json::from_value(value).with_context(|| {
        format!(
            "{} is not an envelope ({{\"record\": …, \"signatures\": […]}}, as \
             `oretrace record sign` prints)",
            path.display()
        )
    })?;
    let signed = SignedRecord::from_envelope(&envelope)
        .with_context(|| format!("{} is not a valid envelope", path.display()))?;
    Ok((body, signed))
}

/// Exit code of `record submit`: the record is in the log (accepted now,
/// or already there: the same record hash) is 0; refused is 1; anything
/// else (unreadable file, no server) is 2.
fn submit(envelope: &Path, server: &str, receipt_out: Option<&Path>) -> anyhow::Result<ExitCode> {
    crate::epcis_cmds::check_server(server)?;
    let (body, signed) = read_envelope(envelope)?;
    let record_hash = crate::commands::hex(&signed.record_hash());
    let client = crate::epcis_cmds::client()?;
    let base = server.trim_end_matches('/');
    let url = format!("{base}/records");
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .with_context(|| format!("posting to {url}"))?;
    let status = response.status();
    let text = response.text().unwrap_or_default();
    if status == reqwest::StatusCode::CONFLICT
        && let Some(index) = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|problem| problem["index"].as_u64())
    {
        println!("already in the log at index {index} (logged before); record hash {record_hash}");
        if let Some(path) = receipt_out {
            let receipt = crate::epcis_cmds::fetch_receipt(&client, base, index)?;
            write_receipt(path, &String::from_utf8_lossy(&receipt))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !status.is_success() {
        eprintln!("refused: {}", crate::epcis_cmds::refusal(status, &text));
        return Ok(ExitCode::from(1));
    }
    let value: serde_json::Value =
        serde_json::from_str(&text).context("the server's answer is not JSON")?;
    println!(
        "accepted at index {}; record hash {}",
        value["index"],
        value["record_hash"].as_str().unwrap_or("-")
    );
    if let (Some(path), Some(receipt)) = (receipt_out, value["receipt"].as_str()) {
        write_receipt(path, receipt)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write_receipt(path: &Path, receipt: &str) -> anyhow::Result<()> {
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(receipt.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))?;
    println!("receipt written to {}", path.display());
    Ok(())
}

pub fn rebuild(args: &RebuildArgs) -> anyhow::Result<ExitCode> {
    let operator = parse_vkey("--operator-vkey", &args.operator_vkey)?;
    let key_path: PathBuf = args.data.join("log.key");
    if !key_path.exists() {
        bail!(
            "{} has no log.key: not an oretrace data directory",
            args.data.display()
        );
    }
    let log_key = read_key(&key_path)?.verifier();
    let store = SqliteStore::open(&args.data)
        .with_context(|| format!("opening the store in {}", args.data.display()))?;
    let config = LedgerConfig {
        element_balance_tolerance_percent: args.element_balance_tolerance,
        ..LedgerConfig::default()
    };
    let report = oretrace_ledger::rebuild::rebuild_with(&store, &log_key, &operator, &config)
        .with_context(|| format!("rebuilding the projections in {}", args.data.display()))?;
    println!(
        "rebuilt the projections from {} entries; root {}",
        report.entries, report.root
    );
    Ok(ExitCode::SUCCESS)
}
