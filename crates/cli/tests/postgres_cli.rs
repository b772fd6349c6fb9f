//! `oretrace serve --store postgres://…` and `oretrace migrate` from the
//! command line: the demo's log moves from its SQLite data directory into
//! PostgreSQL and back, the same log byte for byte with the same
//! projections; and what is refused at start (an unreachable database, a
//! database of another log, a copy into a store that holds a log). Each
//! test has a database of its own on the machine's PostgreSQL
//! (`ORETRACE_TEST_PG`, default `postgres://postgres@127.0.0.1:5432/postgres`;
//! `.ci/postgres-env` makes sure it runs).

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::path::Path;
use std::process::Command;

use support::live::{assert_same_projections, client, projections};
use support::{Server, free_port, oretrace, path, vkey_of};

/// The server every test database is made on.
fn admin_url() -> String {
    std::env::var("ORETRACE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own, dropped (with any connection to it) on drop.
struct Database {
    name: String,
}

fn psql(sql: &str) {
    let out = Command::new("psql")
        .args([admin_url().as_str(), "-qAtc", sql])
        .output()
        .unwrap_or_else(|e| panic!("running psql (the PostgreSQL client is needed): {e}"));
    assert!(
        out.status.success(),
        "psql {sql:?}: {} (the PostgreSQL tests need a server: bash .ci/postgres-env)",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Database {
    fn new(tag: &str) -> Database {
        let name = format!("oretrace_cli_{tag}_{}", std::process::id());
        psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        psql(&format!("CREATE DATABASE {name}"));
        Database { name }
    }

    fn url(&self) -> String {
        let admin = admin_url();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        format!("{base}/{}", self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                admin_url().as_str(),
                "-qAtc",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

/// `oretrace migrate --from FROM --to TO --operator-vkey OPERATOR`.
fn migrate(from: &str, to: &str, operator: &str) -> support::Run {
    oretrace(&[
        "migrate",
        "--from",
        from,
        "--to",
        to,
        "--operator-vkey",
        operator,
    ])
}

fn copy_log_key(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::copy(from.join("log.key"), to.join("log.key")).unwrap();
}

fn get(base: &str, path: &str) -> String {
    client()
        .get(format!("{base}{path}"))
        .send()
        .unwrap()
        .text()
        .unwrap()
}

/// Waits until the node at `base` holds the sequencer lease (a node
/// starts as a follower and takes a free lease within a third of its term).
fn wait_until_sequencer(base: &str) {
    support::live::wait_ready(base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let health: serde_json::Value = serde_json::from_str(&get(base, "/healthz")).unwrap();
        if health["role"] == "sequencer" {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{base} did not take the lease: {health}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Every lot's full view, so that lot histories are compared too.
fn all_lots(lots: &[serde_json::Value]) -> Vec<String> {
    lots.iter()
        .filter_map(|l| l["id"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn the_demo_log_moves_into_postgres_and_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("sqlite");
    let run = oretrace(&["demo", "--data", path(&sqlite), "--no-serve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let operator = vkey_of(&sqlite.join("keys/registry_operator.key"));
    let db = Database::new("move");
    let url = db.url();

    // The schema alone first.
    let run = oretrace(&["migrate", "--store", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("schema version"), "{}", run.stdout);

    let run = migrate(path(&sqlite), &url, &operator);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("is the checkpoint's"), "{}", run.stdout);

    // The same log, served from either store.
    let (checkpoint, served) = {
        let server = Server::start(&sqlite, free_port(), &operator);
        (
            get(&server.base(), "/checkpoint"),
            projections(&client(), &server.base(), &all_lots),
        )
    };
    let node = dir.path().join("node");
    copy_log_key(&sqlite, &node);
    {
        let server = Server::start_with(&node, free_port(), &operator, &["--store", &url]);
        wait_until_sequencer(&server.base());
        assert_eq!(get(&server.base(), "/checkpoint"), checkpoint);
        assert_same_projections(&projections(&client(), &server.base(), &all_lots), &served);
        for tile in ["/tile/0/000.p/8", "/tile/entries/000.p/8"] {
            let from_pg = client()
                .get(format!("{}{tile}", server.base()))
                .send()
                .unwrap();
            assert_eq!(from_pg.status(), 200, "{tile}");
        }
    }

    // A second copy into the same database is refused: it holds a log.
    let run = migrate(path(&sqlite), &url, &operator);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("already holds a log"), "{}", run.stderr);

    // And back into a new data directory, for inspection offline.
    let back = dir.path().join("back");
    let run = migrate(&url, path(&back), &operator);
    assert_eq!(run.code, 2, "a directory without the log key is refused");
    assert!(run.stderr.contains("log.key"), "{}", run.stderr);
    copy_log_key(&sqlite, &back);
    let run = migrate(&url, path(&back), &operator);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let server = Server::start(&back, free_port(), &operator);
    assert_eq!(get(&server.base(), "/checkpoint"), checkpoint);
    assert_same_projections(&projections(&client(), &server.base(), &all_lots), &served);
}

#[test]
fn an_unreachable_database_or_another_logs_database_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let operator = support::live::Registry::new().operator_vkey();

    // Nothing listens on port 1: exit 2, the URL named without its password.
    let data = dir.path().join("a");
    let run = oretrace(&[
        "serve",
        "--data",
        path(&data),
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--operator-vkey",
        &operator,
        "--store",
        "postgres://writer:hunter2@127.0.0.1:1/registry",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("127.0.0.1:1/registry") && !run.stderr.contains("hunter2"),
        "{}",
        run.stderr
    );

    // A database holding one log refuses a node of another.
    let db = Database::new("origin");
    let url = db.url();
    let first = dir.path().join("first");
    {
        let server = Server::start_with(
            &first,
            free_port(),
            &operator,
            &["--store", &url, "--origin", "oretrace.test/one"],
        );
        wait_until_sequencer(&server.base());
    }
    let other = dir.path().join("other");
    let run = oretrace(&[
        "serve",
        "--data",
        path(&other),
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--operator-vkey",
        &operator,
        "--origin",
        "oretrace.test/two",
        "--store",
        &url,
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("oretrace.test/one") && run.stderr.contains("oretrace.test/two"),
        "{}",
        run.stderr
    );

    // Not a PostgreSQL URL at all.
    let run = oretrace(&["migrate", "--store", "mysql://x@127.0.0.1/db"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a postgres:// URL"),
        "{}",
        run.stderr
    );
}
