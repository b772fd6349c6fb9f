//! What the PostgreSQL tests share: the database URL (which must answer:
//! a test never skips), fresh schemas with random names dropped when the
//! guard holding them is dropped (even when a check panics), and an
//! administrative session for what a test does behind the store's back.

#![allow(dead_code, reason = "each test binary uses part of this module")]
#![allow(
    clippy::unwrap_used,
    reason = "test support: a failure panics with the value's message (allow: not every binary reaches each use)"
)]

use std::hash::{BuildHasher as _, RandomState};
use std::sync::Mutex;
use std::time::Duration;

use oretrace_ledger::store::{Batch, EntryRow};
use oretrace_store_postgres::PgConfig;
use oretrace_tlog::hash::{leaf_hash, sha256};
use oretrace_tlog::tree::NodeId;

/// The database the tests use.
pub fn url() -> String {
    std::env::var("ORETRACE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh schema name, unlikely to collide with any other.
pub fn random_schema(prefix: &str) -> String {
    let n = RandomState::new().hash_one((std::process::id(), std::time::SystemTime::now()));
    format!("{prefix}_{n:016x}")
}

/// A session of its own on the test database, outside any store.
pub struct Admin {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Admin {
    /// Connects, or fails the test saying how to start PostgreSQL.
    pub fn connect() -> Admin {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let url = url();
        let connected = rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(10),
                tokio_postgres::connect(&url, tokio_postgres::NoTls),
            )
            .await
        });
        let (client, connection) = match connected {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => panic!("{}", needed(&format!("{e}"))),
            Err(_) => panic!("{}", needed("no answer in 10 s")),
        };
        rt.spawn(async move {
            let _ = connection.await;
        });
        Admin { rt, client }
    }

    pub fn exec(&self, sql: &str) {
        self.rt
            .block_on(self.client.batch_execute(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub fn try_exec(&self, sql: &str) -> Result<(), tokio_postgres::Error> {
        self.rt.block_on(self.client.batch_execute(sql))
    }

    /// The first column of the first row, as text.
    pub fn text(&self, sql: &str) -> Option<String> {
        let rows = self
            .rt
            .block_on(self.client.simple_query(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
    }
}

fn needed(why: &str) -> String {
    format!(
        "these tests need PostgreSQL at {} (set ORETRACE_TEST_PG to another URL): {why}. \
         Start it with `pg_ctlcluster --skip-systemctl-redirect 15 main start`",
        oretrace_store_postgres::redact(&url())
    )
}

/// Schemas made by a test, dropped when this is dropped.
pub struct Schemas {
    made: Mutex<Vec<String>>,
}

impl Schemas {
    pub fn new() -> Schemas {
        // Fail now, with the instructions, if PostgreSQL is not there.
        drop(Admin::connect());
        Schemas {
            made: Mutex::new(Vec::new()),
        }
    }

    /// A new schema name (the store creates the schema).
    pub fn fresh(&self) -> String {
        let name = random_schema("oretrace_test");
        self.made
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(name.clone());
        name
    }

    pub fn config(&self, schema: &str) -> PgConfig {
        PgConfig::new(url()).with_schema(schema)
    }
}

impl Drop for Schemas {
    fn drop(&mut self) {
        let made = std::mem::take(&mut *self.made.lock().unwrap_or_else(|p| p.into_inner()));
        if made.is_empty() {
            return;
        }
        let admin = Admin::connect();
        for schema in made {
            let _ = admin.try_exec(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
        }
    }
}

pub fn row(index: u64) -> EntryRow {
    EntryRow {
        index,
        entry: format!("entry {index}").into_bytes(),
        record_hash: sha256(format!("record {index}").as_bytes()),
        kind: "lot".into(),
    }
}

pub fn batch(start: u64, count: u64) -> Batch {
    let entries: Vec<EntryRow> = (start..start + count).map(row).collect();
    let hashes = entries
        .iter()
        .map(|r| (NodeId::new(0, r.index), leaf_hash(&r.entry)))
        .collect();
    Batch {
        entries,
        hashes,
        changes: vec![],
    }
}
