//! Failover of a cluster of `oretrace serve --store postgres://…` nodes
//! under sustained signed writes (`docs/design/postgres.md`).
//!
//! A private PostgreSQL cluster (initdb into a temporary directory, trust
//! auth, a port in 18400–18499) holds the log; three nodes serve it with a
//! 2 s sequencer lease. Writer threads post signed lots to the node last
//! known to be sequencer (any other on 503 or a failed connection); a
//! watcher keeps every checkpoint any node publishes. Then:
//!
//! * `ORETRACE_FAILOVER_ROUNDS` rounds (3 by default; the long form runs
//!   20): the sequencer is SIGKILLed, another node must take over within
//!   10 s, and the killed node is restarted on its data directory and port;
//! * one round of SIGSTOP of the sequencer for three leases: another node
//!   takes over, and on SIGCONT the stopped node becomes a follower and no
//!   write it had in flight (one posted to it while stopped and, the same
//!   record, to the new sequencer) is acknowledged at a second index;
//! * one restart of the database under the writes: a sequencer again
//!   within 15 s, and writes resume.
//!
//! At the end every acknowledged record is at its index on every node
//! (`GET /records/{index}`), no index holds two acknowledged records and
//! no record is in the log twice; every checkpoint seen is consistent with
//! the final log (`oretrace verify --checkpoint …` on every node) and
//! tlog-scales verifies every node; every tile is byte-identical across
//! nodes.
//!
//! PostgreSQL 15's server binaries (`/usr/lib/postgresql/15/bin`, or
//! `ORETRACE_PG_BIN`) are needed: without them the test fails, naming
//! what to install. Run as root, they run as the `postgres` user.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::live::{Registry, env_number, get, post_record, record_hash_of, wait_ready};
use support::{Server, oretrace, path, vkey_of};

const NODES: usize = 3;
const LEASE_SECONDS: u64 = 2;
const LEASE: Duration = Duration::from_secs(LEASE_SECONDS);
const WRITERS: usize = 2;
/// The ports this test may use.
const PORTS: std::ops::Range<u16> = 18400..18500;

/// A blocking HTTP client with a short timeout, so that a stopped node
/// does not hold a poller up.
fn quick_client(timeout: Duration) -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

/// Ports in 18400–18499 that were free a moment ago, none handed out twice
/// by this process; the search starts at an offset of this process's id so
/// that test processes running together rarely race for one.
fn free_ports(n: usize) -> Vec<u16> {
    let span = PORTS.end - PORTS.start;
    let start = (std::process::id() % u32::from(span)) as u16;
    let mut ports = Vec::new();
    for i in 0..span {
        let port = PORTS.start + (start + i) % span;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            ports.push(port);
            if ports.len() == n {
                return ports;
            }
        }
    }
    panic!("fewer than {n} free ports in {PORTS:?}");
}

// ---------------------------------------------------------------------
// The private PostgreSQL cluster.

/// A PostgreSQL cluster of this test alone, stopped (immediately) on drop,
/// so also when the test panics.
struct PgCluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PgCluster {
    /// `initdb` into `dir` (trust auth), listening on 127.0.0.1:`port`
    /// only, then `pg_ctl -w start`.
    fn start(dir: &Path, port: u16) -> PgCluster {
        let bin = std::env::var_os("ORETRACE_PG_BIN").map_or_else(
            || PathBuf::from("/usr/lib/postgresql/15/bin"),
            PathBuf::from,
        );
        assert!(
            bin.join("initdb").exists() && bin.join("pg_ctl").exists(),
            "this test needs PostgreSQL's server binaries (initdb, pg_ctl) in {} \
             (apt-get install postgresql-15, or set ORETRACE_PG_BIN to their directory)",
            bin.display()
        );
        // initdb and postgres refuse to run as root: then they run as the
        // `postgres` user, which must own the directory.
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        std::fs::create_dir_all(dir).unwrap();
        if as_postgres {
            // The `postgres` user must reach `dir` through its parent (a
            // temporary directory of mode 0700).
            use std::os::unix::fs::PermissionsExt as _;
            if let Some(parent) = dir.parent() {
                std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o711)).unwrap();
            }
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres", path(dir)])
                .output()
                .unwrap();
            assert!(
                chown.status.success(),
                "running as root, this test runs PostgreSQL as the `postgres` user, \
                 which must exist: chown {}: {}",
                dir.display(),
                String::from_utf8_lossy(&chown.stderr)
            );
        }
        let cluster = PgCluster {
            bin,
            data: dir.join("pgdata"),
            port,
            as_postgres,
        };
        let init = cluster.run(
            "initdb",
            &[
                "-D",
                path(&cluster.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(
            init.status.success(),
            "initdb failed (this test needs a working PostgreSQL 15 initdb{}): {}{}",
            if as_postgres {
                " runnable as the `postgres` user via runuser"
            } else {
                ""
            },
            String::from_utf8_lossy(&init.stdout),
            String::from_utf8_lossy(&init.stderr)
        );
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             max_connections = 200\nfsync = off\nfull_page_writes = off\n",
            dir.display()
        );
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .append(true)
            .open(cluster.data.join("postgresql.conf"))
            .unwrap()
            .write_all(conf.as_bytes())
            .unwrap();
        cluster.pg_ctl(&["start"]);
        cluster
    }

    /// Runs one of the server binaries (as `postgres` when we are root).
    fn run(&self, tool: &str, args: &[&str]) -> Output {
        self.command(tool, args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e}"))
    }

    /// The command running one of the server binaries.
    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let exe = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        command.args(args);
        command
    }

    /// `pg_ctl -w -D DATA -l LOG ARGS…`, which must succeed. Its output
    /// goes to a file, not a pipe: a server it starts keeps its standard
    /// streams open, and reading a pipe to its end would never return.
    fn pg_ctl(&self, args: &[&str]) {
        let log = self.data.with_file_name("postgres.log");
        let mut all = vec!["-w", "-t", "60", "-D", path(&self.data), "-l", path(&log)];
        all.extend_from_slice(args);
        let out_file = self.data.with_file_name("pg_ctl.out");
        let status = self
            .command("pg_ctl", &all)
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out_file).unwrap())
            .stderr(std::fs::File::create(&out_file).unwrap())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "pg_ctl {args:?}: {}\n{}",
            std::fs::read_to_string(&out_file).unwrap_or_default(),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().into_owned();
        let _ = self
            .command(
                "pg_ctl",
                &["-w", "-t", "30", "-D", &data, "stop", "-m", "immediate"],
            )
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

// ---------------------------------------------------------------------
// The nodes.

struct Node {
    name: String,
    data: PathBuf,
    port: u16,
    server: Option<Server>,
}

impl Node {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn start(&mut self, store: &str, operator_vkey: &str) {
        assert!(self.server.is_none());
        let lease = LEASE_SECONDS.to_string();
        self.server = Some(Server::start_with(
            &self.data,
            self.port,
            operator_vkey,
            &[
                "--store",
                store,
                "--node",
                &self.name,
                "--lease-seconds",
                &lease,
            ],
        ));
    }

    /// SIGKILL, reaped.
    fn kill(&mut self) {
        drop(self.server.take());
    }

    fn signal(&self, signal: &str) {
        let pid = self.server.as_ref().unwrap().pid().to_string();
        let out = Command::new("kill").args([signal, &pid]).output().unwrap();
        assert!(out.status.success(), "kill {signal} {pid}");
    }
}

/// A node's `/healthz` answer, if it answers 200 within a second.
fn health(http: &reqwest::blocking::Client, base: &str) -> Option<Value> {
    let answer = get(http, base, "/healthz").ok()?;
    (answer.status == 200)
        .then(|| serde_json::from_slice(&answer.body).ok())
        .flatten()
}

/// Waits (at most `within`) until exactly one of `among` is sequencer and
/// every other of them a follower naming it; returns it and the time taken.
fn wait_one_sequencer(
    http: &reqwest::blocking::Client,
    nodes: &[String],
    among: &[usize],
    within: Duration,
    what: &str,
) -> (usize, Duration) {
    let start = Instant::now();
    let mut last = Vec::new();
    while start.elapsed() < within {
        let healths: Vec<Option<Value>> = among.iter().map(|&i| health(http, &nodes[i])).collect();
        let seq: Vec<usize> = among
            .iter()
            .zip(&healths)
            .filter(|(_, h)| {
                h.as_ref()
                    .is_some_and(|h| h["role"].as_str() == Some("sequencer"))
            })
            .map(|(&i, _)| i)
            .collect();
        if let [one] = seq[..] {
            let all_agree = healths.iter().all(|h| {
                h.as_ref()
                    .is_some_and(|h| h["sequencer"].as_str() == Some(nodes[one].as_str()))
            });
            if all_agree {
                return (one, start.elapsed());
            }
        }
        last = healths;
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{what}: not exactly one sequencer among nodes {among:?} within {within:?}; last /healthz: {last:?}"
    );
}

// ---------------------------------------------------------------------
// Writers and the checkpoint watcher.

#[derive(Default)]
struct Seen {
    /// (index, record hash) of every record answered 201.
    acked: Vec<(u64, String)>,
    /// (index, record hash) of every record answered 409 (already in the
    /// log: an earlier attempt whose answer was lost was integrated).
    replayed: Vec<(u64, String)>,
    /// Answers that should never come (with what was asked).
    unexpected: Vec<String>,
    /// 503s and failed connections, retried elsewhere.
    retries: u64,
}

/// Posts `body` to the cluster until one node takes it (201) or says it is
/// in the log already (409), starting with the node last known to be
/// sequencer and going on to the one a 503 names, else the next; gives up
/// after `patience`. Returns the answer's status and index.
fn post_anywhere(
    http: &reqwest::blocking::Client,
    nodes: &[String],
    leader: &Mutex<usize>,
    body: &str,
    seen: &Mutex<Seen>,
    patience: Duration,
) -> Option<(u16, u64)> {
    let hash = record_hash_of(body);
    let start = Instant::now();
    let mut target = *leader.lock().unwrap();
    let mut misses = 0;
    while start.elapsed() < patience {
        match post_record(http, &nodes[target], body.to_owned()) {
            Ok(answer) if answer.status == 201 || answer.status == 409 => {
                let json = answer.json();
                let Some(index) = json["index"].as_u64() else {
                    seen.lock()
                        .unwrap()
                        .unexpected
                        .push(format!("{}: no index: {json}", answer.status));
                    return None;
                };
                let mut seen = seen.lock().unwrap();
                if answer.status == 201 {
                    if json["record_hash"].as_str() != Some(hash.as_str()) {
                        seen.unexpected
                            .push(format!("201 with another record hash than {hash}: {json}"));
                    }
                    seen.acked.push((index, hash));
                } else {
                    seen.replayed.push((index, hash));
                }
                *leader.lock().unwrap() = target;
                return Some((answer.status, index));
            }
            Ok(answer) if answer.status == 503 => {
                seen.lock().unwrap().retries += 1;
                let text = answer.text();
                // The node a follower names, unless it is this one.
                let named = (0..nodes.len()).find(|&i| i != target && text.contains(&nodes[i]));
                target = named.unwrap_or((target + 1) % nodes.len());
            }
            Ok(answer) => {
                seen.lock().unwrap().unexpected.push(format!(
                    "POST {}/records: {} {}",
                    nodes[target],
                    answer.status,
                    answer.text()
                ));
                return None;
            }
            Err(_) => {
                seen.lock().unwrap().retries += 1;
                target = (target + 1) % nodes.len();
            }
        }
        misses += 1;
        if misses % nodes.len() == 0 {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    seen.lock()
        .unwrap()
        .unexpected
        .push(format!("no node took record {hash} within {patience:?}"));
    None
}

/// Writer `writer` commissions lots until `stop`.
fn writer(
    writer: usize,
    nodes: Vec<String>,
    leader: Arc<Mutex<usize>>,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let registry = Registry::new();
        // A write's answer may wait out a database restart; a stopped node
        // does not answer at all.
        let http = quick_client(Duration::from_secs(5));
        let mut i = 0u64;
        while !stop.load(Ordering::SeqCst) {
            let body = registry.lot(&format!("urn:oretrace:lot:failover-{writer}-{i}"));
            post_anywhere(
                &http,
                &nodes,
                &leader,
                &body,
                &seen,
                Duration::from_secs(30),
            );
            i += 1;
        }
    })
}

/// Polls `/checkpoint` on every node every 100 ms until `stop`, keeping
/// every distinct note.
fn watcher(
    nodes: Vec<String>,
    notes: Arc<Mutex<BTreeSet<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let http = quick_client(Duration::from_secs(1));
        while !stop.load(Ordering::SeqCst) {
            for base in &nodes {
                if let Ok(answer) = get(&http, base, "/checkpoint")
                    && answer.status == 200
                {
                    notes.lock().unwrap().insert(answer.body);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}

/// Waits (at most `within`) until `seen` holds `more` acknowledgements
/// beyond `from`.
fn wait_acks(seen: &Mutex<Seen>, from: usize, more: usize, within: Duration, what: &str) {
    let start = Instant::now();
    while seen.lock().unwrap().acked.len() < from + more {
        let s = seen.lock().unwrap();
        assert!(
            start.elapsed() < within,
            "{what}: fewer than {more} writes acknowledged in {within:?} ({} retries; unexpected: {:?})",
            s.retries,
            s.unexpected
        );
        drop(s);
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn checkpoint_size(note: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(note);
    text.lines().nth(1).unwrap().parse().unwrap()
}

fn verify_script(base: &str, vkey: &str) -> (i32, String) {
    let out = Command::new(support::interop_python())
        .arg(support::project_root().join("tests/interop/tlog_scales_verify.py"))
        .args([base, vkey])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_cluster_survives_sigkill_sigstop_and_a_database_restart_without_losing_or_forking() {
    let rounds = env_number("ORETRACE_FAILOVER_ROUNDS", 3);
    let began = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let ports = free_ports(NODES + 1);
    let pg = PgCluster::start(&tmp.path().join("pg"), ports[0]);
    let store = pg.url();
    let registry = Registry::new();
    let operator = registry.operator_vkey();

    // One log key, shared by every node.
    let mut nodes: Vec<Node> = (0..NODES)
        .map(|i| Node {
            name: format!("node-{i}"),
            data: tmp.path().join(format!("node-{i}")),
            port: ports[i + 1],
            server: None,
        })
        .collect();
    for node in &nodes {
        std::fs::create_dir_all(&node.data).unwrap();
    }
    let key = nodes[0].data.join("log.key");
    let run = oretrace(&[
        "keygen",
        "--name",
        "oretrace.test/cluster",
        "--out",
        path(&key),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for node in &nodes[1..] {
        std::fs::copy(&key, node.data.join("log.key")).unwrap();
    }
    let log_vkey = vkey_of(&key);
    for node in &mut nodes {
        node.start(&store, &operator);
    }
    let bases: Vec<String> = nodes.iter().map(Node::base).collect();
    for base in &bases {
        wait_ready(base);
    }
    let all: Vec<usize> = (0..NODES).collect();
    let http = quick_client(Duration::from_secs(1));
    let (first, _) = wait_one_sequencer(&http, &bases, &all, Duration::from_secs(15), "start");
    registry.register(&bases[first]);

    let seen: Arc<Mutex<Seen>> = Arc::default();
    let notes: Arc<Mutex<BTreeSet<Vec<u8>>>> = Arc::default();
    let leader = Arc::new(Mutex::new(first));
    let stop_writers = Arc::new(AtomicBool::new(false));
    let stop_watcher = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            writer(
                w,
                bases.clone(),
                leader.clone(),
                seen.clone(),
                stop_writers.clone(),
            )
        })
        .collect();
    let watch = watcher(bases.clone(), notes.clone(), stop_watcher.clone());
    let mut takeovers: Vec<(String, Duration)> = Vec::new();

    // SIGKILL rounds.
    for round in 0..rounds {
        let what = format!("SIGKILL round {round}");
        let (seq, _) = wait_one_sequencer(&http, &bases, &all, Duration::from_secs(15), &what);
        let acked = seen.lock().unwrap().acked.len();
        wait_acks(&seen, acked, 20, Duration::from_secs(15), &what);
        let killed = Instant::now();
        nodes[seq].kill();
        let rest: Vec<usize> = all.iter().copied().filter(|&i| i != seq).collect();
        let (new, took) = wait_one_sequencer(&http, &bases, &rest, Duration::from_secs(10), &what);
        let took = took.max(killed.elapsed());
        eprintln!(
            "{what}: killed {} (sequencer); {} took over in {took:?}",
            nodes[seq].name, nodes[new].name
        );
        takeovers.push((what, took));
        nodes[seq].start(&store, &operator);
        wait_ready(&bases[seq]);
    }

    // SIGSTOP of the sequencer for three leases.
    {
        let what = "SIGSTOP round".to_owned();
        let (seq, _) = wait_one_sequencer(&http, &bases, &all, Duration::from_secs(15), &what);
        let acked = seen.lock().unwrap().acked.len();
        wait_acks(&seen, acked, 20, Duration::from_secs(15), &what);
        nodes[seq].signal("-STOP");
        let stopped = Instant::now();
        // Two records posted to the stopped node, which answers (if at
        // all) only once continued: one is posted to the new sequencer
        // too, the other only there.
        let both = registry.lot("urn:oretrace:lot:in-flight-both");
        let only = registry.lot("urn:oretrace:lot:in-flight-only");
        let in_flight: Vec<_> = [both.clone(), only.clone()]
            .into_iter()
            .map(|body| {
                let base = bases[seq].clone();
                std::thread::spawn(move || {
                    let http = quick_client(Duration::from_secs(60));
                    post_record(&http, &base, body).map_err(|e| e.to_string())
                })
            })
            .collect();
        let rest: Vec<usize> = all.iter().copied().filter(|&i| i != seq).collect();
        let (new, took) = wait_one_sequencer(&http, &bases, &rest, Duration::from_secs(10), &what);
        let took = took.max(stopped.elapsed());
        eprintln!(
            "{what}: stopped {} (sequencer); {} took over in {took:?}",
            nodes[seq].name, nodes[new].name
        );
        takeovers.push((what.clone(), took));
        let probe_http = quick_client(Duration::from_secs(10));
        let probe_leader = Mutex::new(new);
        let (status, both_index) = post_anywhere(
            &probe_http,
            &bases,
            &probe_leader,
            &both,
            &seen,
            Duration::from_secs(20),
        )
        .unwrap_or_else(|| panic!("{what}: the new sequencer did not take the in-flight record"));
        assert_eq!(
            status, 201,
            "{what}: the in-flight record was already in the log"
        );
        std::thread::sleep((LEASE * 3).saturating_sub(stopped.elapsed()));
        nodes[seq].signal("-CONT");
        let continued = Instant::now();
        let mut role = None;
        while continued.elapsed() < Duration::from_secs(5) {
            role = health(&http, &bases[seq]).map(|h| h["role"].clone());
            if role.as_ref().and_then(Value::as_str) == Some("follower") {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            role.as_ref().and_then(Value::as_str),
            Some("follower"),
            "{what}: {} did not become a follower within 5 s of SIGCONT",
            nodes[seq].name
        );
        eprintln!(
            "{what}: {} a follower {:?} after SIGCONT",
            nodes[seq].name,
            continued.elapsed()
        );
        for (thread, body) in in_flight.into_iter().zip([&both, &only]) {
            let answer = thread.join().unwrap();
            let hash = record_hash_of(body);
            match answer {
                Ok(answer) if answer.status == 201 || answer.status == 409 => {
                    let index = answer.json()["index"].as_u64().unwrap();
                    eprintln!(
                        "{what}: the stopped node answered {} (index {index}) for a write in flight",
                        answer.status
                    );
                    if body == &both {
                        assert_eq!(
                            index, both_index,
                            "{what}: record {hash} acknowledged at {both_index} by the new sequencer \
                             and at {index} by the node stopped with it in flight"
                        );
                    }
                    let mut s = seen.lock().unwrap();
                    if answer.status == 201 {
                        s.acked.push((index, hash));
                    } else {
                        s.replayed.push((index, hash));
                    }
                }
                Ok(answer) => eprintln!(
                    "{what}: the stopped node answered {} for a write in flight: {}",
                    answer.status,
                    answer.text()
                ),
                Err(e) => eprintln!("{what}: a write in flight to the stopped node failed: {e}"),
            }
        }
        let acked = seen.lock().unwrap().acked.len();
        wait_acks(&seen, acked, 20, Duration::from_secs(15), &what);
    }

    // A restart of the database under the writes.
    {
        let what = "database restart".to_owned();
        let acked = seen.lock().unwrap().acked.len();
        wait_acks(&seen, acked, 20, Duration::from_secs(15), &what);
        let restarted = Instant::now();
        pg.pg_ctl(&["restart", "-m", "fast"]);
        let pg_took = restarted.elapsed();
        let acked = seen.lock().unwrap().acked.len();
        let (seq, _) = wait_one_sequencer(&http, &bases, &all, Duration::from_secs(15), &what);
        wait_acks(&seen, acked, 20, Duration::from_secs(15), &what);
        eprintln!(
            "{what}: PostgreSQL restarted in {pg_took:?}; {} sequencing and writes acknowledged again {:?} after the restart began",
            nodes[seq].name,
            restarted.elapsed()
        );
    }

    // The end: writers stopped, a checkpoint covering every write.
    stop_writers.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let covered = seen
        .acked
        .iter()
        .chain(&seen.replayed)
        .map(|(i, _)| i + 1)
        .max()
        .unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(15);
    let final_note = loop {
        let notes: Vec<Vec<u8>> = bases
            .iter()
            .filter_map(|b| get(&http, b, "/checkpoint").ok())
            .filter(|a| a.status == 200)
            .map(|a| a.body)
            .collect();
        if notes.len() == NODES
            && notes.iter().all(|n| n == &notes[0])
            && checkpoint_size(&notes[0]) >= covered
        {
            break notes[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no common checkpoint covering index {} on every node within 15 s",
            covered - 1
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(300));
    stop_watcher.store(true, Ordering::SeqCst);
    watch.join().unwrap();
    let mut notes = std::mem::take(&mut *notes.lock().unwrap());
    notes.insert(final_note.clone());
    let size = checkpoint_size(&final_note);

    assert!(
        seen.unexpected.is_empty(),
        "unexpected answers to writes: {:#?}",
        seen.unexpected
    );
    // No index holds two records, no record two indexes.
    let mut by_index: BTreeMap<u64, &str> = BTreeMap::new();
    let mut by_hash: BTreeMap<&str, u64> = BTreeMap::new();
    for (index, hash) in seen.acked.iter().chain(&seen.replayed) {
        if let Some(other) = by_index.insert(*index, hash) {
            assert_eq!(other, hash, "index {index} acknowledged for two records");
        }
        if let Some(other) = by_hash.insert(hash, *index) {
            assert_eq!(other, *index, "record {hash} acknowledged at two indexes");
        }
    }
    // 4 registrations, then the lots.
    assert!(
        size >= seen.acked.len() as u64 + 4,
        "final size {size} < {} acknowledged + 4 registrations",
        seen.acked.len()
    );

    // Every acknowledged record at its index, on every node; the whole log
    // the same on every node, with no record twice.
    let reader = quick_client(Duration::from_secs(10));
    let mut logs = Vec::new();
    for base in &bases {
        for (index, hash) in seen.acked.iter().chain(&seen.replayed) {
            let answer = get(&reader, base, &format!("/records/{index}")).unwrap();
            assert_eq!(
                answer.status,
                200,
                "{base}/records/{index}: {}",
                answer.text()
            );
            assert_eq!(
                answer.json()["record_hash"].as_str(),
                Some(hash.as_str()),
                "{base}/records/{index}"
            );
        }
        let hashes = support::live::served_record_hashes(base, size);
        let distinct: BTreeSet<&String> = hashes.iter().collect();
        assert_eq!(
            distinct.len(),
            hashes.len(),
            "{base}: a record is in the log twice"
        );
        logs.push(hashes);
    }
    assert!(
        logs.iter().all(|l| l == &logs[0]),
        "the nodes serve different logs"
    );

    // Every checkpoint seen is consistent with the final log, on every
    // node (`oretrace verify`), and tlog-scales verifies every node.
    let saved = tmp.path().join("checkpoints");
    std::fs::create_dir_all(&saved).unwrap();
    let mut args: Vec<String> = vec!["--vkey".into(), log_vkey.clone(), "--no-state".into()];
    for (i, note) in notes.iter().enumerate() {
        let file = saved.join(format!("{i}.checkpoint"));
        std::fs::write(&file, note).unwrap();
        args.extend(["--checkpoint".into(), path(&file).to_owned()]);
    }
    for base in &bases {
        let mut all_args = vec!["verify", base.as_str()];
        all_args.extend(args.iter().map(String::as_str));
        let run = oretrace(&all_args);
        assert_eq!(
            run.code,
            0,
            "oretrace verify {base} with {} saved checkpoints: {}{}",
            notes.len(),
            run.stdout,
            run.stderr
        );
        let (code, text) = verify_script(base, &log_vkey);
        assert_eq!(code, 0, "tlog_scales_verify.py {base}: {text}");
    }

    // Every tile byte-identical across nodes.
    let mut tiles = oretrace_tlog::tile::entry_bundles(size);
    for level in 0..oretrace_tlog::tile::tile_levels(size) {
        tiles.extend(oretrace_tlog::tile::hash_tiles_at_level(size, level));
    }
    for tile in &tiles {
        let path = format!("/{}", tile.path());
        let first = get(&reader, &bases[0], &path).unwrap();
        assert_eq!(first.status, 200, "{}{path}", bases[0]);
        for base in &bases[1..] {
            let other = get(&reader, base, &path).unwrap();
            assert_eq!(other.status, 200, "{base}{path}");
            assert!(
                other.body == first.body,
                "{path} differs between {} and {base}",
                bases[0]
            );
        }
    }

    let (min, max) = takeovers
        .iter()
        .map(|(_, t)| *t)
        .fold((Duration::MAX, Duration::ZERO), |(lo, hi), t| {
            (lo.min(t), hi.max(t))
        });
    eprintln!(
        "failover summary: {rounds} SIGKILL rounds, 1 SIGSTOP round, 1 database restart; \
         {} writes acknowledged ({} answered 409 after a lost answer, {} retries on 503 or a failed connection); \
         final size {size}; takeover times min {min:?} max {max:?}; {} distinct checkpoints seen; \
         {} tiles compared on {NODES} nodes; {:?} in all",
        seen.acked.len(),
        seen.replayed.len(),
        seen.retries,
        notes.len(),
        tiles.len(),
        began.elapsed()
    );
    drop(nodes);
    drop(pg);
}
