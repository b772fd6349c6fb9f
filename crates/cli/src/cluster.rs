//! Serving from a shared PostgreSQL store as one node of several, and
//! moving a log between backends (`docs/design/postgres.md`). The binary
//! chooses the backend here and in `ledger_cmds`, once, at start.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use oretrace_ledger::Store as _;
use oretrace_ledger::ledger::{Ledger, LedgerConfig, NodeStatus, Role, SequencerHealth};
use oretrace_store_postgres::{PgConfig, PgStore, redact};
use oretrace_store_sqlite::SqliteStore;
use oretrace_tlog::note::{NoteSigner, NoteVerifier};

use crate::cli::{MigrateArgs, ServeArgs};
use crate::commands::{parse_vkey, read_key};

/// Whether `location` names a PostgreSQL database rather than a directory.
pub(crate) fn is_postgres(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// Connects to the PostgreSQL store at `url` (migrating its schema),
/// naming the URL without its password on failure.
pub(crate) fn connect(url: &str) -> anyhow::Result<PgStore> {
    if !is_postgres(url) {
        bail!(
            "{}: not a postgres:// URL (give postgres://USER@HOST:PORT/DATABASE)",
            redact(url)
        );
    }
    PgStore::connect(&PgConfig::new(url))
        .with_context(|| format!("opening the PostgreSQL store at {}", redact(url)))
}

/// `oretrace serve --store postgres://…`: a node of the cluster. It starts
/// as a follower (every read served, writes refused with 503 naming the
/// sequencer), takes the sequencer lease when it is free or expired, and
/// sequences while it renews it.
pub(crate) fn serve_shared(
    args: &ServeArgs,
    url: &str,
    key: NoteSigner,
    operator: NoteVerifier,
    config: LedgerConfig,
) -> anyhow::Result<ExitCode> {
    let store = connect(url)?;
    store.bind_origin(key.name()).with_context(|| {
        format!(
            "the PostgreSQL store at {} and the log key in {}",
            redact(url),
            args.data.display()
        )
    })?;
    let ledger = Arc::new(
        Ledger::follow(store, key, operator, config)
            .with_context(|| format!("opening the ledger on {}", redact(url)))?,
    );
    let node = args
        .node
        .clone()
        .unwrap_or_else(|| format!("{}#{}", args.listen, std::process::id()));
    let ttl = Duration::from_secs(args.lease_seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let lease: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);
    let outcome = crate::ledger_cmds::serve_ledger(args, ledger.clone(), |listening| {
        let advertise = args
            .advertise
            .clone()
            .unwrap_or_else(|| listening.to_owned());
        if args.advertise.is_none()
            && (listening.contains("//0.0.0.0:") || listening.contains("//[::]:"))
        {
            eprintln!(
                "warning: listening on every address without --advertise: followers will send clients to {advertise}, which they cannot reach; give --advertise http://HOST:PORT"
            );
        }
        println!(
            "oretrace node {node} serving the PostgreSQL store at {} at {listening}",
            redact(url)
        );
        println!(
            "lease: {} s; sequencer when it holds the lease, follower otherwise",
            ttl.as_secs()
        );
        let (ledger, stop, node) = (ledger.clone(), stop.clone(), node.clone());
        let handle = std::thread::Builder::new()
            .name("oretrace-lease".into())
            .spawn(move || hold_lease(&ledger, &node, &advertise, ttl, &stop));
        match handle {
            Ok(h) => *lease.lock().unwrap_or_else(PoisonError::into_inner) = Some(h),
            Err(e) => {
                tracing::error!(error = %e, "the lease thread could not start; this node only follows")
            }
        }
    });
    stop.store(true, Ordering::SeqCst);
    if let Some(h) = lease.lock().unwrap_or_else(PoisonError::into_inner).take() {
        let _ = h.join();
    }
    ledger.demote();
    if let Err(e) = ledger.store().resign() {
        tracing::warn!(error = %e, "could not give the lease up; it expires by itself");
    }
    outcome
}

/// The lease loop of one node, every third of the lease: a follower tries
/// to take the lease and, once it holds it, promotes its ledger; a
/// sequencer renews it, and demotes when it is lost, when it could not be
/// renewed within its term, or when its sequencer can no longer write
/// (then it gives the lease up, so another node takes over).
fn hold_lease(
    ledger: &Ledger<PgStore>,
    node: &str,
    advertise: &str,
    ttl: Duration,
    stop: &AtomicBool,
) {
    let tick = ttl / 3;
    let mut renewed: Option<Instant> = None;
    while !stop.load(Ordering::SeqCst) {
        let store = ledger.store();
        match ledger.role() {
            Role::Sequencer => {
                let unhealthy = matches!(
                    ledger.health(),
                    SequencerHealth::Stopped | SequencerHealth::Degraded
                );
                match store.renew() {
                    Ok(true) if !unhealthy => renewed = Some(Instant::now()),
                    Ok(true) => {
                        tracing::error!("the sequencer cannot write; giving the lease up");
                        ledger.demote();
                        let _ = store.resign();
                        renewed = None;
                    }
                    Ok(false) => {
                        tracing::warn!("the sequencer lease passed to another node; following");
                        ledger.demote();
                        renewed = None;
                    }
                    Err(e) => {
                        if renewed.is_none_or(|t| t.elapsed() >= ttl) {
                            tracing::warn!(error = %e, "the lease could not be renewed within its term; following");
                            ledger.demote();
                            renewed = None;
                        } else {
                            tracing::warn!(error = %e, "renewing the lease failed; retrying");
                        }
                    }
                }
            }
            Role::Follower => match store.try_lead(node, advertise, ttl) {
                Ok(Some(epoch)) => match ledger.promote() {
                    Ok(()) => {
                        tracing::info!(epoch, "took the sequencer lease; sequencing");
                        renewed = Some(Instant::now());
                    }
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "took the lease but could not start sequencing; giving it up");
                        let _ = store.resign();
                    }
                },
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not ask for the lease"),
            },
        }
        let sequencer = match store.leader() {
            Ok(Some(leader)) if !leader.expired => Some(leader.advertise),
            _ => None,
        };
        ledger.set_node_status(NodeStatus {
            node: Some(node.to_owned()),
            epoch: (ledger.role() == Role::Sequencer)
                .then(|| store.epoch())
                .flatten(),
            sequencer,
        });
        // Sleep a tick, waking early to stop.
        let until = Instant::now() + tick;
        while !stop.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50).min(tick));
        }
    }
}

/// The lease `oretrace migrate` holds while it writes a PostgreSQL store,
/// renewed while the copy runs.
const MIGRATE_LEASE: Duration = Duration::from_secs(30);

/// `oretrace migrate`.
pub(crate) fn migrate(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    if let Some(url) = &args.store {
        let store = connect(url)?;
        let version = store
            .schema_version()
            .with_context(|| format!("reading the schema version of {}", redact(url)))?;
        println!(
            "the PostgreSQL store at {} is at schema version {version} (the newest this build knows: {})",
            redact(url),
            oretrace_store_postgres::SCHEMA_VERSION
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(from), Some(to)) = (args.from.as_deref(), args.to.as_deref()) else {
        bail!("give --store URL, or both --from and --to");
    };
    let operator = parse_vkey(
        "--operator-vkey",
        args.operator_vkey.as_deref().context(
            "--operator-vkey is needed: the copied log is replayed into the target's projections",
        )?,
    )?;
    let config = LedgerConfig {
        element_balance_tolerance_percent: args.element_balance_tolerance,
        ..LedgerConfig::default()
    };
    let report = match (is_postgres(from), is_postgres(to)) {
        (false, true) => {
            let dir = Path::new(from);
            let key = dir_log_key(dir, "--from")?;
            let source = SqliteStore::open(dir)
                .with_context(|| format!("opening the store in {}", dir.display()))?;
            let target = connect(to)?;
            target
                .bind_origin(key.name())
                .with_context(|| format!("the PostgreSQL store at {}", redact(to)))?;
            // Before the lease: a database that holds a log is refused as
            // such, whether or not a node serves it.
            let held = target
                .size()
                .with_context(|| format!("reading the log size of {}", redact(to)))?;
            if held != 0 || target.checkpoint()?.is_some() {
                bail!(
                    "the PostgreSQL store at {} already holds a log of {held} entries; copy into an empty database",
                    redact(to)
                );
            }
            match target.try_lead("oretrace-migrate", "", MIGRATE_LEASE) {
                Ok(Some(_)) => {}
                Ok(None) => bail!(
                    "a node is sequencing the PostgreSQL store at {}: stop every `oretrace serve` on it first",
                    redact(to)
                ),
                Err(e) => {
                    return Err(e).with_context(|| format!("taking the lease of {}", redact(to)));
                }
            }
            let done = AtomicBool::new(false);
            let report = std::thread::scope(|scope| {
                scope.spawn(|| {
                    while !done.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(200));
                        if let Ok(false) = target.renew() {
                            return;
                        }
                    }
                });
                let report =
                    oretrace_ledger::rebuild::copy_log(&source, &target, &key, &operator, &config);
                done.store(true, Ordering::SeqCst);
                report
            });
            let _ = target.resign();
            match report {
                Ok(report) => report,
                Err(e) => {
                    let partial = target.size().is_ok_and(|n| n > 0);
                    let e = anyhow::Error::new(e).context(format!(
                        "copying {} to {}",
                        dir.display(),
                        redact(to)
                    ));
                    if partial {
                        return Err(e.context(format!(
                            "the database at {} holds the entries copied before the failure: drop and recreate it before copying again",
                            redact(to)
                        )));
                    }
                    return Err(e);
                }
            }
        }
        (true, false) => {
            let dir = Path::new(to);
            let key = dir_log_key(dir, "--to").context(
                "copy the log's log.key into the --to directory first: the embedded store signs its checkpoints with it",
            )?;
            let source = connect(from)?;
            source
                .bind_origin(key.name())
                .with_context(|| format!("the PostgreSQL store at {}", redact(from)))?;
            let target = SqliteStore::open(dir)
                .with_context(|| format!("opening the store in {}", dir.display()))?;
            match oretrace_ledger::rebuild::copy_log(&source, &target, &key, &operator, &config) {
                Ok(report) => report,
                Err(e) => {
                    let partial = target.size().is_ok_and(|n| n > 0);
                    let e = anyhow::Error::new(e).context(format!(
                        "copying {} to {}",
                        redact(from),
                        dir.display()
                    ));
                    if partial {
                        return Err(e.context(format!(
                            "{} holds the entries copied before the failure: remove its oretrace.db* files before copying again",
                            dir.display()
                        )));
                    }
                    return Err(e);
                }
            }
        }
        _ => bail!(
            "--from and --to must be one SQLite data directory and one postgres:// URL, in either order"
        ),
    };
    println!(
        "copied {} entries and rebuilt the projections; root {} is the checkpoint's; \
         {} named queries and subscriptions copied",
        report.entries, report.root, report.kept
    );
    Ok(ExitCode::SUCCESS)
}

/// The log verifier of the data directory `dir` (its `log.key`).
fn dir_log_key(dir: &Path, flag: &str) -> anyhow::Result<NoteVerifier> {
    let path = dir.join("log.key");
    if !path.exists() {
        bail!(
            "{flag} {}: no log.key, not an oretrace data directory",
            dir.display()
        );
    }
    Ok(read_key(&path)?.verifier())
}
