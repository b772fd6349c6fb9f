//! The PostgreSQL backend of the ledger's storage contract
//! ([`oretrace_ledger::store::Store`]), for several `oretrace serve`
//! processes sharing one database (PostgreSQL 15 or newer).
//!
//! **Schema.** Everything lives in one PostgreSQL schema (`public`, or the
//! one [`PgConfig::schema`] names, created if absent): every session of
//! the store runs with `search_path` set to it. The schema is versioned
//! (the `oretrace_schema` table) and migrated by [`PgStore::connect`], one
//! transaction per migration under an advisory lock; a schema from a
//! newer build, or one holding another application's tables, is refused
//! untouched. Ids and terms are `COLLATE "C"`: listings are in the byte
//! order of their UTF-8 ids, as SQLite's. Projections are JSON documents
//! of the ledger's state structs, as in the SQLite backend.
//!
//! **One writer: the sequencer lease.** The one row of `sequencer_lease`
//! names the node that may write, with an epoch that grows at every
//! takeover and an expiry kept by the database's clock. A node takes it
//! with [`PgStore::try_lead`] (only if it is free or expired), keeps it
//! with [`PgStore::renew`] and gives it up with [`PgStore::resign`] (or by
//! dropping the store). Every write runs in a transaction whose first
//! statement reads the lease row `FOR SHARE`: unless the holder and epoch
//! are this handle's, the transaction is rolled back and the write fails
//! as [`ErrorKind::Fenced`]. A takeover must wait for that lock, so a write
//! that passed the fence commits before the takeover, and every write of
//! the former holder after it fails. Sessions end a transaction left idle
//! for [`IDLE_IN_TRANSACTION_TIMEOUT`] (a process stopped mid-transaction
//! cannot hold the lease row for ever) and a statement running longer
//! than [`STATEMENT_TIMEOUT`].
//!
//! **A synchronous contract over an asynchronous client.** The contract
//! is called from ordinary threads, from tokio's blocking threads and
//! from tokio's async worker threads, where `block_on` panics. So a
//! [`PgStore`] owns its own tokio runtime (two workers, named
//! `oretrace-pg`) and a `deadpool-postgres` pool of `tokio-postgres`
//! connections: each contract call spawns its work onto that runtime and
//! waits for the answer on a `std::sync::mpsc` channel, which works from
//! any thread. The pool verifies a connection before reusing it, so after
//! a restart of PostgreSQL calls fail as [`ErrorKind::Unavailable`] while
//! it is down and work again once it is up.
//!
//! **Durability.** [`Store::integrate`] is one transaction: the entries
//! and hashes of a batch go in with one statement each (`UNNEST` of
//! arrays), the projection changes with one statement per table (the
//! last state of each row: see `Plan`); it
//! returns once PostgreSQL has committed (durable with the default
//! `synchronous_commit = on`).

mod error;
mod schema;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::Hash as StdHash;
use std::pin::Pin;
use std::str::FromStr as _;
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use serde_json::{from_str, to_string};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use oretrace_ledger::agreements::{
    AgreementState, ClauseState, ProgressState, ReportState, ResourceState, Select, VersionState,
};
use oretrace_ledger::state::{
    Change, EventState, KeyState, LotState, PartyState, ShipmentState, SiteState, StoredEvent,
};
use oretrace_ledger::store::{
    Batch, EVENT_TERM_VALUES_MAX, ErrorKind, EventOrder, EventSelect, Inserted, NamedQueryRow,
    Quota, Removed, StateView, Store, StoreResult, SubscriptionRow, term_prefix_end,
};
use oretrace_tlog::hash::Hash;
use oretrace_tlog::tree::NodeId;

use crate::error::{Context as _, Error, Result, decode, from_sql_int, to_sql_int, violated};

/// The schema version this build writes (and the newest it opens).
pub const SCHEMA_VERSION: u32 = schema::MIGRATIONS.len() as u32;

/// How long a session may sit idle inside a transaction before
/// PostgreSQL ends it (and so releases the locks it holds, the lease
/// row's among them).
pub const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(2);

/// How long one statement may run before PostgreSQL cancels it.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a takeover or renewal of the lease waits for the lease row's
/// lock (held by a write in flight) before giving up.
pub const LEASE_LOCK_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a snapshot's read transaction may sit idle between reads.
const SNAPSHOT_IDLE_TIMEOUT: &str = "30s";

/// How long a whole contract call may take before it fails as
/// unavailable (a bound above the statement timeout, for a connection
/// that hangs).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How long dropping a store waits for its resignation.
const RESIGN_ON_DROP: Duration = Duration::from_secs(2);

/// How to reach the database.
#[derive(Clone)]
pub struct PgConfig {
    /// A libpq-style URL (`postgres://user:password@host:port/db`) or
    /// key-value string.
    pub url: String,
    /// The schema the store lives in (ASCII letters, digits and `_`;
    /// created if absent); `None`: `public`.
    pub schema: Option<String>,
    /// Connections in the pool at most.
    pub pool_size: usize,
    /// How long connecting (and waiting for a free pooled connection)
    /// may take.
    pub connect_timeout: Duration,
}

impl PgConfig {
    /// The database at `url`, schema `public`, 8 connections, a 10 s
    /// connect timeout.
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig {
            url: url.into(),
            schema: None,
            pool_size: 8,
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// The same, in schema `schema`.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &redact(&self.url))
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// The settings of the store's sessions, as PostgreSQL reports them
/// (`current_setting`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The schema, quoted.
    pub search_path: String,
    /// The schema new tables go to: the store's.
    pub current_schema: String,
    /// `2s`.
    pub idle_in_transaction_session_timeout: String,
    /// `30s`.
    pub statement_timeout: String,
    /// `on`: a commit is durable when it returns.
    pub synchronous_commit: String,
    /// `30` (seconds): the server's TCP keepalives probe an idle client
    /// after 30 s (the client's probe the server likewise).
    pub tcp_keepalives_idle: String,
}

/// The holder of the sequencer lease, as the database records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leader {
    /// The node that took it.
    pub node: String,
    /// Where that node said it can be reached.
    pub advertise: String,
    /// Its epoch: one more at every takeover.
    pub epoch: u64,
    /// Whether it has expired (by the database's clock): another node may
    /// take it.
    pub expired: bool,
}

/// The lease this handle holds.
#[derive(Clone, Debug)]
struct Held {
    node: String,
    epoch: i64,
    ttl_ms: i64,
}

/// `url` with any password replaced by `***`, for messages: the password
/// of a URL's user info, and the value of any `password=` parameter (of a
/// URL's query or a key-value string).
pub fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    // user:password@ in a URL's authority.
    if let Some(scheme_end) = out.find("://") {
        let start = scheme_end + 3;
        // The authority ends at the first `/`, `?` or `#` after its last
        // `@` (a password may hold those characters unencoded, and the
        // client still takes it): redact up to the last `@` of the URL
        // that comes before the host.
        let rest = &out[start..];
        let at_end = rest.rfind('@').map_or(0, |i| i + 1);
        let end = rest[at_end..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| start + at_end + i);
        let authority = &out[start..end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if let Some(colon) = userinfo.find(':') {
                let from = start + colon + 1;
                let to = start + at;
                out.replace_range(from..to, "***");
            }
        }
    }
    // password=... in a query string or a key-value string.
    let mut searched = 0;
    while let Some(found) = out[searched..].to_ascii_lowercase().find("password=") {
        let from = searched + found + "password=".len();
        let rest = &out[from..];
        let len = if rest.starts_with('\'') {
            // A quoted key-value value, with \' escapes.
            let mut escaped = false;
            let mut end = rest.len();
            for (i, c) in rest.char_indices().skip(1) {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '\'' {
                    end = i + 1;
                    break;
                }
            }
            end
        } else {
            rest.find(|c: char| c == '&' || c == '#' || c.is_whitespace())
                .unwrap_or(rest.len())
        };
        out.replace_range(from..from + len, "***");
        searched = from + 3;
    }
    out
}

/// A statement parameter, owned so that it can travel to the runtime.
type Param = Box<dyn ToSql + Sync + Send>;

macro_rules! args {
    ($($e:expr),* $(,)?) => {
        vec![$(Box::new($e) as Param),*]
    };
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect()
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;
type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// Runs `fut` on the store's runtime and waits for its answer on a
/// channel: callable from any thread, inside a tokio runtime or not.
fn run_on<T: Send + 'static>(
    handle: &tokio::runtime::Handle,
    what: &str,
    fut: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = mpsc::sync_channel(1);
    let owned = what.to_owned();
    handle.spawn(async move {
        let answer = match tokio::time::timeout(CALL_TIMEOUT, fut).await {
            Ok(answer) => answer,
            Err(_) => Err(Error::Invalid(
                ErrorKind::Unavailable,
                format!(
                    "{owned}: no answer from the database in {} s",
                    CALL_TIMEOUT.as_secs()
                ),
            )),
        };
        let _ = tx.send(answer);
    });
    rx.recv().map_err(|_| {
        Error::Invalid(
            ErrorKind::Unavailable,
            format!(
                "{what}: the database task ended without an answer (is the store shutting down?)"
            ),
        )
    })?
}

/// The ledger's store in one PostgreSQL schema. See the crate docs.
pub struct PgStore {
    pool: Pool,
    handle: tokio::runtime::Handle,
    /// Taken (and shut down) on drop.
    runtime: Option<tokio::runtime::Runtime>,
    /// The URL, redacted, for messages.
    url: String,
    schema: String,
    lease: Mutex<Option<Held>>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.url)
            .field("schema", &self.schema)
            .field("epoch", &self.epoch())
            .finish()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        let held = self.held().take();
        if let Some(held) = held {
            let (tx, rx) = mpsc::sync_channel(1);
            let pool = self.pool.clone();
            self.handle.spawn(async move {
                let _ = tx.send(resign_lease(pool, held).await);
            });
            let _ = rx.recv_timeout(RESIGN_ON_DROP);
        }
        self.pool.close();
        if let Some(runtime) = self.runtime.take() {
            // Never blocks, so never panics inside another runtime.
            runtime.shutdown_background();
        }
    }
}

impl PgStore {
    /// Connects, creates the schema if absent, applies versioned
    /// migrations.
    ///
    /// Fails as [`ErrorKind::Unavailable`] (naming the URL without its
    /// password) if the database cannot be reached within
    /// [`PgConfig::connect_timeout`]; as [`ErrorKind::Incompatible`] if
    /// the schema is at a newer version than [`SCHEMA_VERSION`], holds
    /// another application's tables, or its name is not plain ASCII
    /// letters, digits and `_`. The handle holds no lease: it reads, and
    /// every write fails as [`ErrorKind::Fenced`] until
    /// [`PgStore::try_lead`] succeeds.
    pub fn connect(config: &PgConfig) -> StoreResult<PgStore> {
        Ok(Self::connect_inner(config)?)
    }

    fn connect_inner(config: &PgConfig) -> Result<PgStore> {
        let url = redact(&config.url);
        let schema = config.schema.clone().unwrap_or_else(|| "public".to_owned());
        schema::check_schema_name(&schema)?;
        let mut pg = tokio_postgres::Config::from_str(&config.url).map_err(|e| {
            Error::Invalid(
                ErrorKind::Incompatible,
                format!("the database URL {url} does not parse: {e}"),
            )
        })?;
        let mut options = pg.get_options().map(str::to_owned).unwrap_or_default();
        for setting in [
            format!("search_path=\"{schema}\""),
            format!(
                "idle_in_transaction_session_timeout={}",
                IDLE_IN_TRANSACTION_TIMEOUT.as_millis()
            ),
            format!("statement_timeout={}", STATEMENT_TIMEOUT.as_millis()),
            // The server probes the client too: a node that vanished
            // (its machine gone) stops holding locks within about a minute.
            "tcp_keepalives_idle=30".to_owned(),
            "tcp_keepalives_interval=10".to_owned(),
            "tcp_keepalives_count=3".to_owned(),
        ] {
            if !options.is_empty() {
                options.push(' ');
            }
            options.push_str("-c ");
            options.push_str(&setting);
        }
        pg.options(options);
        if pg.get_application_name().is_none() {
            pg.application_name("oretrace");
        }
        pg.connect_timeout(config.connect_timeout)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .keepalives_interval(Duration::from_secs(10))
            .keepalives_retries(3)
            .tcp_user_timeout(Duration::from_secs(30));
        let manager = Manager::from_config(
            pg,
            tokio_postgres::NoTls,
            ManagerConfig {
                // Checks a connection with a round trip before reuse:
                // connections broken by a restart are discarded.
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("oretrace-pg")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::Invalid(
                    ErrorKind::Unavailable,
                    format!("starting the database runtime: {e}"),
                )
            })?;
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(config.connect_timeout))
            .create_timeout(Some(config.connect_timeout))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| {
                Error::Invalid(
                    ErrorKind::Unavailable,
                    format!("building the connection pool for {url}: {e}"),
                )
            })?;
        let handle = runtime.handle().clone();
        let store = PgStore {
            pool: pool.clone(),
            handle,
            runtime: Some(runtime),
            url: url.clone(),
            schema: schema.clone(),
            lease: Mutex::new(None),
        };
        let timeout = config.connect_timeout;
        store.run(&format!("connecting to {url}"), async move {
            let mut client = match tokio::time::timeout(timeout, pool.get()).await {
                Ok(client) => client.ctx(|| format!("connecting to {url}"))?,
                Err(_) => {
                    return Err(Error::Invalid(
                        ErrorKind::Unavailable,
                        format!(
                            "connecting to {url}: no connection in {} s",
                            timeout.as_secs()
                        ),
                    ));
                }
            };
            schema::migrate(&mut client, &schema).await?;
            Ok(())
        })?;
        Ok(store)
    }

    fn run<T: Send + 'static>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        run_on(&self.handle, what, fut)
    }

    fn held(&self) -> MutexGuard<'_, Option<Held>> {
        self.lease.lock().unwrap_or_else(|poisoned| {
            self.lease.clear_poison();
            poisoned.into_inner()
        })
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> StoreResult<u32> {
        let rows = self.rows(
            "reading the schema version".into(),
            "SELECT version FROM oretrace_schema WHERE id = 1",
            args![],
        )?;
        let version: i32 = match rows.first() {
            Some(row) => decode(row.try_get(0), || "reading the schema version".into())?,
            None => 0,
        };
        Ok(u32::try_from(version).map_err(|_| {
            Error::Invalid(
                ErrorKind::Corrupt,
                format!("stored schema version {version} is negative"),
            )
        })?)
    }

    /// The schema the store lives in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The settings of a pooled session, as PostgreSQL reports them.
    pub fn settings(&self) -> StoreResult<Settings> {
        let what = || "reading the session settings".to_owned();
        let rows = self.rows(
            what(),
            "SELECT current_setting('search_path'), current_schema()::text, \
             current_setting('idle_in_transaction_session_timeout'), \
             current_setting('statement_timeout'), current_setting('synchronous_commit'), \
             current_setting('tcp_keepalives_idle')",
            args![],
        )?;
        let Some(row) = rows.first() else {
            return Err(Error::Invalid(ErrorKind::Unavailable, what()).into());
        };
        Ok(Settings {
            search_path: decode(row.try_get(0), what)?,
            current_schema: decode::<Option<String>>(row.try_get(1), what)?.unwrap_or_default(),
            idle_in_transaction_session_timeout: decode(row.try_get(2), what)?,
            statement_timeout: decode(row.try_get(3), what)?,
            synchronous_commit: decode(row.try_get(4), what)?,
            tcp_keepalives_idle: decode(row.try_get(5), what)?,
        })
    }

    /// The log origin the database belongs to: set on first call, refused
    /// ([`ErrorKind::Incompatible`], naming both) if different.
    pub fn bind_origin(&self, origin: &str) -> StoreResult<()> {
        let mut rows = self.rows(
            format!("binding the database to log origin {origin}"),
            "WITH ins AS (INSERT INTO log_origin (id, origin) VALUES (1, $1) \
               ON CONFLICT (id) DO NOTHING RETURNING origin) \
             SELECT origin FROM ins UNION ALL SELECT origin FROM log_origin WHERE id = 1",
            args![origin.to_owned()],
        )?;
        if rows.is_empty() {
            // Another node inserted the origin after this statement's
            // snapshot was taken: read it in a statement of its own.
            rows = self.rows(
                format!("reading the log origin bound by another node (for {origin})"),
                "SELECT origin FROM log_origin WHERE id = 1",
                args![],
            )?;
        }
        let stored: String = match rows.first() {
            Some(row) => decode(row.try_get(0), || "reading the log origin".into())?,
            None => {
                return Err(Error::Invalid(
                    ErrorKind::Unavailable,
                    "binding the log origin: no origin stored or written".into(),
                )
                .into());
            }
        };
        if stored != origin {
            return Err(Error::Invalid(
                ErrorKind::Incompatible,
                format!(
                    "the database (schema {}) belongs to log origin {stored:?}, not {origin:?}: nothing was changed",
                    self.schema
                ),
            )
            .into());
        }
        Ok(())
    }

    /// Takes the sequencer lease for `node` (reachable at `advertise`) for
    /// `ttl`, if no node holds it or its holder let it expire (by the
    /// database's clock): `Some(epoch)` if this handle now leads (or
    /// already did: then the lease is renewed), `None` if another node
    /// holds it (or a write in flight kept the lease row locked longer
    /// than [`LEASE_LOCK_TIMEOUT`]).
    pub fn try_lead(&self, node: &str, advertise: &str, ttl: Duration) -> StoreResult<Option<u64>> {
        let current = self.held().as_ref().map(|h| h.epoch);
        if let Some(epoch) = current
            && self.renew()?
        {
            return Ok(Some(from_sql_int(epoch, "lease epoch")?));
        }
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let pool = self.pool.clone();
        let (n, a) = (node.to_owned(), advertise.to_owned());
        let epoch = self.run("taking the sequencer lease", async move {
            let mut client = pool
                .get()
                .await
                .ctx(|| "taking the sequencer lease: getting a connection")?;
            let tx = client
                .transaction()
                .await
                .ctx(|| "taking the sequencer lease")?;
            tx.batch_execute(&format!(
                "SET LOCAL lock_timeout = {}",
                LEASE_LOCK_TIMEOUT.as_millis()
            ))
            .await
            .ctx(|| "taking the sequencer lease")?;
            let stmt = tx
                .prepare_cached(
                    "UPDATE sequencer_lease SET holder = $1, advertise = $2, epoch = epoch + 1, \
                     expires_at = now() + $3::bigint * interval '1 millisecond' \
                     WHERE id = 1 AND (holder IS NULL OR expires_at IS NULL OR expires_at < now()) \
                     RETURNING epoch",
                )
                .await
                .ctx(|| "taking the sequencer lease")?;
            let row = match tx.query_opt(&stmt, &[&n, &a, &ttl_ms]).await {
                Ok(row) => row,
                Err(e) if e.code().is_some_and(|c| c.code() == "55P03") => return Ok(None),
                Err(e) => return Err(e).ctx(|| "taking the sequencer lease"),
            };
            let epoch: Option<i64> = row
                .map(|r| decode(r.try_get(0), || "reading the lease epoch".into()))
                .transpose()?;
            tx.commit().await.ctx(|| "committing the sequencer lease")?;
            Ok(epoch)
        })?;
        let Some(epoch) = epoch else {
            return Ok(None);
        };
        *self.held() = Some(Held {
            node: node.to_owned(),
            epoch,
            ttl_ms,
        });
        Ok(Some(from_sql_int(epoch, "lease epoch")?))
    }

    /// Extends the lease this handle holds by its time to live, from now
    /// (by the database's clock). `false`: the lease is lost (another node
    /// took it, or this handle never held it); this handle forgets it.
    pub fn renew(&self) -> StoreResult<bool> {
        let Some(held) = self.held().clone() else {
            return Ok(false);
        };
        let pool = self.pool.clone();
        let h = held.clone();
        let renewed = self.run("renewing the sequencer lease", async move {
            let mut client = pool
                .get()
                .await
                .ctx(|| "renewing the sequencer lease: getting a connection")?;
            let tx = client
                .transaction()
                .await
                .ctx(|| "renewing the sequencer lease")?;
            tx.batch_execute(&format!(
                "SET LOCAL lock_timeout = {}",
                LEASE_LOCK_TIMEOUT.as_millis()
            ))
            .await
            .ctx(|| "renewing the sequencer lease")?;
            let stmt = tx
                .prepare_cached(
                    "UPDATE sequencer_lease SET expires_at = now() + $3::bigint * interval '1 millisecond' \
                     WHERE id = 1 AND holder = $1 AND epoch = $2 RETURNING epoch",
                )
                .await
                .ctx(|| "renewing the sequencer lease")?;
            let row = tx
                .query_opt(&stmt, &[&h.node, &h.epoch, &h.ttl_ms])
                .await
                .ctx(|| "renewing the sequencer lease")?;
            tx.commit()
                .await
                .ctx(|| "committing the renewed sequencer lease")?;
            Ok(row.is_some())
        })?;
        if !renewed {
            let mut guard = self.held();
            if guard.as_ref().is_some_and(|g| g.epoch == held.epoch) {
                *guard = None;
            }
        }
        Ok(renewed)
    }

    /// Gives the lease up (expires it now), if this handle holds it:
    /// another node may take it at once. This handle's writes fail as
    /// fenced from now on.
    pub fn resign(&self) -> StoreResult<()> {
        let held = self.held().take();
        if let Some(held) = held {
            let pool = self.pool.clone();
            self.run("resigning the sequencer lease", resign_lease(pool, held))?;
        }
        Ok(())
    }

    /// The holder of the lease, if any node ever took it.
    pub fn leader(&self) -> StoreResult<Option<Leader>> {
        let rows = self.rows(
            "reading the sequencer lease".into(),
            "SELECT holder, advertise, epoch, expires_at IS NULL OR expires_at < now() \
             FROM sequencer_lease WHERE id = 1",
            args![],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let ctx = || "reading the sequencer lease".to_owned();
        let holder: Option<String> = decode(row.try_get(0), ctx)?;
        let advertise: Option<String> = decode(row.try_get(1), ctx)?;
        let epoch: i64 = decode(row.try_get(2), ctx)?;
        let expired: bool = decode(row.try_get(3), ctx)?;
        let epoch = from_sql_int(epoch, "lease epoch")?;
        Ok(holder.map(|node| Leader {
            node,
            advertise: advertise.unwrap_or_default(),
            epoch,
            expired,
        }))
    }

    /// The epoch of the lease this handle holds, if it holds it (as far
    /// as it knows: [`PgStore::renew`] finds out).
    pub fn epoch(&self) -> Option<u64> {
        self.held()
            .as_ref()
            .and_then(|h| u64::try_from(h.epoch).ok())
    }

    /// Runs one statement on a pooled connection and returns its rows.
    fn rows(&self, what: String, sql: &str, params: Vec<Param>) -> Result<Vec<Row>> {
        let pool = self.pool.clone();
        let sql = sql.to_owned();
        let w = what.clone();
        self.run(&what, async move {
            let client = pool
                .get()
                .await
                .ctx(|| format!("{w}: getting a connection"))?;
            let stmt = client.prepare_cached(&sql).await.ctx(|| w.clone())?;
            client.query(&stmt, &refs(&params)).await.ctx(|| w.clone())
        })
    }

    /// Runs `f` in one transaction behind the fence: its first statement
    /// locks the lease row (`FOR SHARE`) and checks that this handle holds
    /// the lease; committed only if `f` succeeds.
    fn write<T, F>(&self, what: &str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t Tx<'t>) -> BoxFut<'t, T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let fence = self.held().clone();
        let what_owned = what.to_owned();
        self.run(what, async move {
            let what = what_owned;
            let mut client = pool
                .get()
                .await
                .ctx(|| format!("{what}: getting a connection"))?;
            let tx = client
                .transaction()
                .await
                .ctx(|| format!("{what}: starting the transaction"))?;
            let stmt = tx
                .prepare_cached("SELECT holder, epoch FROM sequencer_lease WHERE id = 1 FOR SHARE")
                .await
                .ctx(|| format!("{what}: checking the sequencer lease"))?;
            let row = tx
                .query_opt(&stmt, &[])
                .await
                .ctx(|| format!("{what}: checking the sequencer lease"))?;
            let ctx = || format!("{what}: reading the sequencer lease");
            let (holder, epoch): (Option<String>, i64) = match &row {
                Some(r) => (decode(r.try_get(0), ctx)?, decode(r.try_get(1), ctx)?),
                None => (None, 0),
            };
            let passes = fence
                .as_ref()
                .is_some_and(|h| holder.as_deref() == Some(h.node.as_str()) && epoch == h.epoch);
            if !passes {
                let _ = tx.rollback().await;
                let message = match (&fence, holder) {
                    (Some(_), Some(holder)) => format!(
                        "{what}: the sequencer lease passed to node {holder} at epoch {epoch}: nothing written"
                    ),
                    (None, Some(holder)) => format!(
                        "{what}: this process does not hold the sequencer lease (node {holder} holds it at epoch {epoch}): nothing written"
                    ),
                    (_, None) => format!(
                        "{what}: no node holds the sequencer lease: nothing written"
                    ),
                };
                return Err(Error::Invalid(ErrorKind::Fenced, message));
            }
            let value = f(&tx).await?;
            tx.commit()
                .await
                .ctx(|| format!("{what}: committing"))?;
            Ok(value)
        })
    }

    /// A page of `table`'s documents in id order, after `after`.
    fn docs<T: Doc>(
        &self,
        what: &str,
        table: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<T>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (sql, params) = match after {
            Some(a) => (
                format!("SELECT doc FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"),
                args![a.to_owned(), limit],
            ),
            None => (
                format!("SELECT doc FROM {table} ORDER BY id LIMIT $1"),
                args![limit],
            ),
        };
        let rows = self.rows(format!("listing {what}s"), &sql, params)?;
        Ok(docs_of(&rows, what)?)
    }

    /// A page of listing `which` of [`TERMED`], as `select` says: with
    /// terms, the walk follows the `(term, id)` index of the term with the
    /// fewest items (the counts its triggers keep) from the cursor, in id
    /// order, and probes that index for the other terms.
    fn select_docs<T: Doc>(
        &self,
        which: usize,
        select: &Select,
        overdue: bool,
    ) -> StoreResult<Vec<T>> {
        let (what, table, terms_table, counts_table) = TERMED[which];
        let mut terms: Vec<String> = select.terms.clone();
        terms.sort_unstable();
        terms.dedup();
        let limit = i64::try_from(select.limit).unwrap_or(i64::MAX);
        let mut params: Vec<Param> = Vec::new();
        let id;
        let mut sql;
        if terms.is_empty() {
            id = "a.id";
            sql = format!("SELECT a.doc FROM {table} a WHERE true");
        } else {
            let rows = self.rows(
                format!("counting the {what}s under their terms"),
                &format!("SELECT term, n FROM {counts_table} WHERE term = ANY($1::text[])"),
                args![terms.clone()],
            )?;
            let mut counts: HashMap<String, i64> = HashMap::new();
            for row in &rows {
                let ctx = || format!("counting the {what}s under their terms");
                let term: String = decode(row.try_get(0), ctx)?;
                let n: i64 = decode(row.try_get(1), ctx)?;
                counts.insert(term, n);
            }
            let mut fewest: Option<(i64, usize)> = None;
            for (i, term) in terms.iter().enumerate() {
                let n = counts.get(term).copied().unwrap_or(0);
                if n == 0 {
                    return Ok(Vec::new());
                }
                if fewest.is_none_or(|(m, _)| n < m) {
                    fewest = Some((n, i));
                }
            }
            let drive = terms.remove(fewest.map_or(0, |(_, i)| i));
            id = "t.id";
            params.push(Box::new(drive));
            sql = format!(
                "SELECT a.doc FROM {terms_table} t JOIN {table} a ON a.id = t.id WHERE t.term = $1"
            );
            if !terms.is_empty() {
                params.push(Box::new(terms));
                sql.push_str(&format!(
                    " AND NOT EXISTS (SELECT 1 FROM unnest(${}::text[]) x(term) WHERE NOT EXISTS \
                     (SELECT 1 FROM {terms_table} u WHERE u.term = x.term AND u.id = t.id))",
                    params.len()
                ));
            }
        }
        if let Some(after) = &select.after {
            params.push(Box::new(after.clone()));
            sql.push_str(&format!(" AND {id} > ${}", params.len()));
        }
        if let (true, Some(today)) = (overdue, select.overdue_on) {
            // NULL (never overdue) compares as false.
            params.push(Box::new(today.to_string()));
            sql.push_str(&format!(" AND a.overdue_from < ${}", params.len()));
        }
        params.push(Box::new(limit));
        sql.push_str(&format!(" ORDER BY {id} LIMIT ${}", params.len()));
        let rows = self.rows(format!("listing {what}s"), &sql, params)?;
        Ok(docs_of(&rows, what)?)
    }
}

/// Expires `held` now, if it still names the lease.
async fn resign_lease(pool: Pool, held: Held) -> Result<()> {
    let client = pool
        .get()
        .await
        .ctx(|| "resigning the sequencer lease: getting a connection")?;
    client
        .batch_execute(&format!(
            "SET lock_timeout = {}",
            LEASE_LOCK_TIMEOUT.as_millis()
        ))
        .await
        .ctx(|| "resigning the sequencer lease")?;
    let result = client
        .execute(
            "UPDATE sequencer_lease SET expires_at = now() - interval '1 millisecond' \
             WHERE id = 1 AND holder = $1 AND epoch = $2",
            &[&held.node, &held.epoch],
        )
        .await
        .ctx(|| "resigning the sequencer lease");
    let reset = client
        .batch_execute("RESET lock_timeout")
        .await
        .ctx(|| "resigning the sequencer lease");
    result?;
    reset
}

/// A projection document: a state struct, stored as JSON.
trait Doc: serde::de::DeserializeOwned {}
impl<T: serde::de::DeserializeOwned> Doc for T {}

/// The documents of rows whose first column is `doc`.
fn docs_of<T: Doc>(rows: &[Row], what: &str) -> Result<Vec<T>> {
    rows.iter()
        .map(|row| {
            let doc: String = decode(row.try_get(0), || format!("listing {what}s"))?;
            from_str::<T>(&doc).ctx(|| format!("decoding a stored {what} document"))
        })
        .collect()
}

/// The listings filtered by terms: `(what, table, terms table, counts of
/// its terms)`.
const TERMED: [(&str, &str, &str, &str); 3] = [
    (
        "agreement",
        "agreements",
        "agreement_terms",
        "agreement_term_counts",
    ),
    ("report", "reports", "report_terms", "report_term_counts"),
    (
        "resource estimate",
        "resources",
        "resource_terms",
        "resource_term_counts",
    ),
];
const AGREEMENTS: usize = 0;
const REPORTS: usize = 1;
const RESOURCES: usize = 2;

const EVENT_COLUMNS: &str = "e.idx, e.event_id, e.event_type, e.event_time, e.record_time, \
     e.captured_by, e.capture, e.terms, e.event";

/// The event a row of [`EVENT_COLUMNS`] stores, checked: a row that breaks
/// a rule is an error naming it.
/// The columns of a named query, in the order [`named_query_of`] reads.
const NAMED_QUERY_COLUMNS: &str = "name, owner, query";

fn named_query_of(r: &Row) -> Result<NamedQueryRow> {
    let ctx = || "reading a named query".to_owned();
    Ok(NamedQueryRow {
        name: decode(r.try_get(0), ctx)?,
        owner: decode(r.try_get(1), ctx)?,
        query: decode(r.try_get(2), ctx)?,
    })
}

/// The columns of a subscription, in the order [`subscription_of`] reads.
const SUBSCRIPTION_COLUMNS: &str = "id, owner, query, spec, progress, due_ms, version";

fn subscription_of(r: &Row) -> Result<SubscriptionRow> {
    let ctx = || "reading a subscription".to_owned();
    let version: i64 = decode(r.try_get(6), ctx)?;
    Ok(SubscriptionRow {
        id: decode(r.try_get(0), ctx)?,
        owner: decode(r.try_get(1), ctx)?,
        query: decode(r.try_get(2), ctx)?,
        spec: decode(r.try_get(3), ctx)?,
        progress: decode(r.try_get(4), ctx)?,
        due_ms: decode(r.try_get(5), ctx)?,
        version: from_sql_int(version, "subscription version")?,
    })
}

/// A stored count as a number to hold against a [`Quota`].
fn count_of(r: &Row, column: usize, what: &str) -> Result<u64> {
    let n: i64 = decode(r.try_get(column), || format!("counting {what}"))?;
    from_sql_int(n, what)
}

fn event_of(r: &Row) -> Result<EventState> {
    let ctx = || "reading a stored event".to_owned();
    let idx: i64 = decode(r.try_get(0), ctx)?;
    let terms: String = decode(r.try_get(7), ctx)?;
    let event_id: String = decode(r.try_get(1), ctx)?;
    let row = StoredEvent {
        index: from_sql_int(idx, "log index")?,
        terms: from_str(&terms).ctx(|| format!("decoding the terms of event {event_id}"))?,
        event_id,
        event_type: decode(r.try_get(2), ctx)?,
        event_time: decode(r.try_get(3), ctx)?,
        record_time: decode(r.try_get(4), ctx)?,
        captured_by: decode(r.try_get(5), ctx)?,
        capture: decode(r.try_get(6), ctx)?,
        event: decode(r.try_get(8), ctx)?,
    };
    EventState::try_from(row)
        .map_err(|e| Error::Invalid(ErrorKind::Corrupt, format!("reading {e}")))
}

/// Rows by key, the last one given winning (the state a sequence of
/// upserts leaves).
struct Last<K, V> {
    at: HashMap<K, usize>,
    rows: Vec<(K, V)>,
}

impl<K, V> Default for Last<K, V> {
    fn default() -> Self {
        Last {
            at: HashMap::new(),
            rows: Vec::new(),
        }
    }
}

impl<K: StdHash + Eq + Clone, V> Last<K, V> {
    fn put(&mut self, key: K, value: V) {
        match self.at.get(&key) {
            Some(&i) => self.rows[i].1 = value,
            None => {
                self.at.insert(key.clone(), self.rows.len());
                self.rows.push((key, value));
            }
        }
    }
}

/// Projection changes as the final rows they leave, by table: applying
/// them (upserts of the last state of each key, deletions of removed keys,
/// inserts of events and index rows) leaves the state applying the changes
/// one by one in order would, with one statement per table.
#[derive(Default)]
struct Plan {
    parties: Last<String, String>,
    keys: Last<(String, i64), Option<String>>,
    sites: Last<String, String>,
    lots: Last<String, String>,
    shipments: Last<String, String>,
    events: Events,
    event_terms: (Vec<String>, Vec<i64>),
    lot_events: (Vec<String>, Vec<i64>),
    /// id → (doc, overdue_from, terms)
    agreements: Last<String, (String, Option<String>, Vec<String>)>,
    versions: Last<(String, i64), String>,
    clauses: Last<(String, i64, i64), String>,
    progress: Last<(String, i64), String>,
    reports: Last<String, (String, Vec<String>)>,
    resources: Last<String, (String, Vec<String>)>,
}

/// The captured events of a plan, by column.
#[derive(Default)]
struct Events {
    idx: Vec<i64>,
    event_id: Vec<String>,
    event_type: Vec<String>,
    event_time: Vec<i64>,
    record_time: Vec<i64>,
    captured_by: Vec<String>,
    capture: Vec<String>,
    terms: Vec<String>,
    event: Vec<String>,
}

/// One statement of a plan: SQL and its parameters.
type Stmt = (&'static str, Vec<Param>);

impl Plan {
    fn new(changes: &[Change]) -> Result<Self> {
        let mut plan = Plan::default();
        for change in changes {
            plan.add(change)?;
        }
        Ok(plan)
    }

    fn add(&mut self, change: &Change) -> Result<()> {
        match change {
            Change::PutParty(p) => {
                let doc = to_string(p).ctx(|| format!("encoding party {}", p.id()))?;
                self.parties.put(p.id().as_str().to_owned(), doc);
            }
            Change::PutKey(k) => {
                let doc =
                    to_string(k).ctx(|| format!("encoding key {}+{:08x}", k.name(), k.key_id()))?;
                self.keys
                    .put((k.name().to_owned(), i64::from(k.key_id())), Some(doc));
            }
            Change::RemoveKey { name, key_id } => {
                self.keys.put((name.clone(), i64::from(*key_id)), None);
            }
            Change::PutSite(s) => {
                let doc = to_string(s).ctx(|| format!("encoding site {}", s.id()))?;
                self.sites.put(s.id().as_str().to_owned(), doc);
            }
            Change::PutLot(l) => {
                let doc = to_string(l).ctx(|| format!("encoding lot {}", l.id()))?;
                self.lots.put(l.id().as_str().to_owned(), doc);
            }
            Change::PutShipment(s) => {
                let doc = to_string(s).ctx(|| format!("encoding shipment {}", s.id()))?;
                self.shipments.put(s.id().as_str().to_owned(), doc);
            }
            Change::PutEvent(e) => {
                let idx = to_sql_int(e.index(), "log index")?;
                let terms =
                    to_string(e.terms()).ctx(|| format!("encoding event {}", e.event_id()))?;
                for term in e.terms() {
                    self.event_terms.0.push(term.clone());
                    self.event_terms.1.push(idx);
                }
                let ev = &mut self.events;
                ev.idx.push(idx);
                ev.event_id.push(e.event_id().as_str().to_owned());
                ev.event_type.push(e.event_type().as_str().to_owned());
                ev.event_time.push(e.event_time());
                ev.record_time.push(e.record_time());
                ev.captured_by.push(e.captured_by().as_str().to_owned());
                ev.capture.push(e.capture().as_str().to_owned());
                ev.terms.push(terms);
                ev.event.push(e.event_text().to_owned());
            }
            Change::LotEvent { lot, index } => {
                self.lot_events.0.push(lot.clone());
                self.lot_events.1.push(to_sql_int(*index, "log index")?);
            }
            Change::PutAgreement(a) => {
                let doc = to_string(a).ctx(|| format!("encoding agreement {}", a.id))?;
                let overdue_from = a.overdue_from().map(|d| d.to_string());
                self.agreements
                    .put(a.id.as_str().to_owned(), (doc, overdue_from, a.terms()));
            }
            Change::PutAgreementVersion(v) => {
                let doc = to_string(v)
                    .ctx(|| format!("encoding agreement {} version {}", v.id(), v.version()))?;
                self.versions
                    .put((v.id().as_str().to_owned(), i64::from(v.version())), doc);
            }
            Change::PutClause(c) => {
                let doc = to_string(c).ctx(|| {
                    format!(
                        "encoding clause {} of agreement {} version {}",
                        c.clause, c.agreement, c.version
                    )
                })?;
                self.clauses.put(
                    (
                        c.agreement.as_str().to_owned(),
                        i64::from(c.version),
                        i64::from(c.clause),
                    ),
                    doc,
                );
            }
            Change::PutProgress(p) => {
                let agreement = &p.record().agreement;
                let idx = to_sql_int(p.index(), "log index")?;
                let doc = to_string(p).ctx(|| {
                    format!(
                        "encoding progress report {} on agreement {agreement}",
                        p.index()
                    )
                })?;
                self.progress.put((agreement.as_str().to_owned(), idx), doc);
            }
            Change::PutReport(r) => {
                let doc = to_string(r).ctx(|| format!("encoding report {}", r.id()))?;
                self.reports
                    .put(r.id().as_str().to_owned(), (doc, r.terms()));
            }
            Change::PutResource(r) => {
                let doc = to_string(r).ctx(|| format!("encoding resource estimate {}", r.id()))?;
                self.resources
                    .put(r.id().as_str().to_owned(), (doc, r.terms()));
            }
        }
        Ok(())
    }

    /// The statements that apply the plan, in an order the foreign keys
    /// allow.
    fn statements(self) -> Vec<Stmt> {
        let mut out: Vec<Stmt> = Vec::new();
        let simple = |out: &mut Vec<Stmt>, sql: &'static str, rows: Last<String, String>| {
            if !rows.rows.is_empty() {
                let (ids, docs): (Vec<String>, Vec<String>) = rows.rows.into_iter().unzip();
                out.push((sql, args![ids, docs]));
            }
        };
        simple(
            &mut out,
            "INSERT INTO parties (id, doc) SELECT * FROM unnest($1::text[], $2::text[]) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            self.parties,
        );
        let (mut put, mut removed) = ((vec![], vec![], vec![]), (vec![], vec![]));
        for ((name, key_id), doc) in self.keys.rows {
            match doc {
                Some(doc) => {
                    put.0.push(name);
                    put.1.push(key_id);
                    put.2.push(doc);
                }
                None => {
                    removed.0.push(name);
                    removed.1.push(key_id);
                }
            }
        }
        if !removed.0.is_empty() {
            out.push((
                "DELETE FROM keys k USING unnest($1::text[], $2::bigint[]) AS r(name, key_id) \
                 WHERE k.name = r.name AND k.key_id = r.key_id",
                args![removed.0, removed.1],
            ));
        }
        if !put.0.is_empty() {
            out.push((
                "INSERT INTO keys (name, key_id, doc) \
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) \
                 ON CONFLICT (name, key_id) DO UPDATE SET doc = excluded.doc",
                args![put.0, put.1, put.2],
            ));
        }
        simple(
            &mut out,
            "INSERT INTO sites (id, doc) SELECT * FROM unnest($1::text[], $2::text[]) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            self.sites,
        );
        simple(
            &mut out,
            "INSERT INTO lots (id, doc) SELECT * FROM unnest($1::text[], $2::text[]) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            self.lots,
        );
        simple(
            &mut out,
            "INSERT INTO shipments (id, doc) SELECT * FROM unnest($1::text[], $2::text[]) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            self.shipments,
        );
        if !self.events.idx.is_empty() {
            let ev = self.events;
            out.push((
                "INSERT INTO events (idx, event_id, event_type, event_time, record_time, \
                 captured_by, capture, terms, event) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], \
                 $6::text[], $7::text[], $8::text[], $9::text[])",
                args![
                    ev.idx,
                    ev.event_id,
                    ev.event_type,
                    ev.event_time,
                    ev.record_time,
                    ev.captured_by,
                    ev.capture,
                    ev.terms,
                    ev.event
                ],
            ));
        }
        if !self.event_terms.0.is_empty() {
            out.push((
                "INSERT INTO event_terms (term, idx) SELECT * FROM unnest($1::text[], $2::bigint[]) \
                 ON CONFLICT DO NOTHING",
                args![self.event_terms.0, self.event_terms.1],
            ));
        }
        if !self.lot_events.0.is_empty() {
            out.push((
                "INSERT INTO lot_events (lot, idx) SELECT * FROM unnest($1::text[], $2::bigint[]) \
                 ON CONFLICT DO NOTHING",
                args![self.lot_events.0, self.lot_events.1],
            ));
        }
        if !self.agreements.rows.is_empty() {
            let (mut ids, mut docs, mut overdue) = (vec![], vec![], vec![]);
            let (mut term_ids, mut terms) = (vec![], vec![]);
            for (id, (doc, overdue_from, item_terms)) in self.agreements.rows {
                for term in item_terms {
                    term_ids.push(id.clone());
                    terms.push(term);
                }
                ids.push(id);
                docs.push(doc);
                overdue.push(overdue_from);
            }
            out.push((
                "INSERT INTO agreements (id, doc, overdue_from) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) \
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, overdue_from = excluded.overdue_from",
                args![ids.clone(), docs, overdue],
            ));
            out.push((
                "DELETE FROM agreement_terms WHERE id = ANY($1::text[])",
                args![ids],
            ));
            if !terms.is_empty() {
                out.push((
                    "INSERT INTO agreement_terms (term, id) SELECT * FROM unnest($1::text[], $2::text[]) \
                     ON CONFLICT DO NOTHING",
                    args![terms, term_ids],
                ));
            }
        }
        if !self.versions.rows.is_empty() {
            let (mut ids, mut versions, mut docs) = (vec![], vec![], vec![]);
            for ((id, version), doc) in self.versions.rows {
                ids.push(id);
                versions.push(version);
                docs.push(doc);
            }
            out.push((
                "INSERT INTO agreement_versions (id, version, doc) \
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) \
                 ON CONFLICT (id, version) DO UPDATE SET doc = excluded.doc",
                args![ids, versions, docs],
            ));
        }
        if !self.clauses.rows.is_empty() {
            let (mut ids, mut versions, mut clauses, mut docs) = (vec![], vec![], vec![], vec![]);
            for ((id, version, clause), doc) in self.clauses.rows {
                ids.push(id);
                versions.push(version);
                clauses.push(clause);
                docs.push(doc);
            }
            out.push((
                "INSERT INTO agreement_clauses (id, version, clause, doc) \
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) \
                 ON CONFLICT (id, version, clause) DO UPDATE SET doc = excluded.doc",
                args![ids, versions, clauses, docs],
            ));
        }
        if !self.progress.rows.is_empty() {
            let (mut ids, mut idxs, mut docs) = (vec![], vec![], vec![]);
            for ((id, idx), doc) in self.progress.rows {
                ids.push(id);
                idxs.push(idx);
                docs.push(doc);
            }
            out.push((
                "INSERT INTO agreement_progress (id, idx, doc) \
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) \
                 ON CONFLICT (id, idx) DO UPDATE SET doc = excluded.doc",
                args![ids, idxs, docs],
            ));
        }
        for (rows, upsert, unterm, term) in [
            (
                self.reports,
                "INSERT INTO reports (id, doc) SELECT * FROM unnest($1::text[], $2::text[]) \
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                "DELETE FROM report_terms WHERE id = ANY($1::text[])",
                "INSERT INTO report_terms (term, id) SELECT * FROM unnest($1::text[], $2::text[]) \
                 ON CONFLICT DO NOTHING",
            ),
            (
                self.resources,
                "INSERT INTO resources (id, doc) SELECT * FROM unnest($1::text[], $2::text[]) \
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                "DELETE FROM resource_terms WHERE id = ANY($1::text[])",
                "INSERT INTO resource_terms (term, id) SELECT * FROM unnest($1::text[], $2::text[]) \
                 ON CONFLICT DO NOTHING",
            ),
        ] {
            if rows.rows.is_empty() {
                continue;
            }
            let (mut ids, mut docs) = (vec![], vec![]);
            let (mut term_ids, mut terms) = (vec![], vec![]);
            for (id, (doc, item_terms)) in rows.rows {
                for t in item_terms {
                    term_ids.push(id.clone());
                    terms.push(t);
                }
                ids.push(id);
                docs.push(doc);
            }
            out.push((upsert, args![ids.clone(), docs]));
            out.push((unterm, args![ids]));
            if !terms.is_empty() {
                out.push((term, args![terms, term_ids]));
            }
        }
        out
    }
}

/// Runs a plan's statements in `tx`.
async fn apply_plan(tx: &Tx<'_>, statements: Vec<Stmt>) -> Result<()> {
    for (sql, params) in statements {
        let stmt = tx
            .prepare_cached(sql)
            .await
            .ctx(|| "preparing the projection statements")?;
        tx.execute(&stmt, &refs(&params)).await.map_err(|e| {
            let context = match violated(&e) {
                Some(c) => format!("applying projection changes (constraint {c} refused one)"),
                None => "applying projection changes".to_owned(),
            };
            Error::Pg { context, source: e }
        })?;
    }
    Ok(())
}

/// Where the reads of [`StateView`] run: a pooled connection per read
/// ([`PgStore`]), or the one connection and read transaction of a
/// [`Snapshot`].
trait Reads {
    fn query(&self, what: String, sql: &str, params: Vec<Param>) -> Result<Vec<Row>>;

    /// Reads one JSON document by key and decodes it.
    fn doc<T: Doc>(
        &self,
        what: &str,
        sql: &str,
        key: Vec<Param>,
        id: String,
    ) -> StoreResult<Option<T>> {
        let rows = self.query(format!("reading {what} {id}"), sql, key)?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let doc: String = decode(row.try_get(0), || format!("reading {what} {id}"))?;
        Ok(Some(
            from_str::<T>(&doc).ctx(|| format!("decoding stored {what} {id}"))?,
        ))
    }
}

impl Reads for PgStore {
    fn query(&self, what: String, sql: &str, params: Vec<Param>) -> Result<Vec<Row>> {
        self.rows(what, sql, params)
    }
}

/// One `REPEATABLE READ, READ ONLY` transaction on one pooled connection:
/// every read through it sees the same state, the last commit made before
/// it began ([`Store::snapshot`]). Ended (rolled back) on drop, and the
/// connection returned to the pool.
pub struct Snapshot<'a> {
    store: &'a PgStore,
    conn: Arc<tokio::sync::Mutex<Option<Object>>>,
}

impl fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Snapshot")
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        let conn = self.conn.clone();
        self.store.handle.spawn(async move {
            let taken = conn.lock().await.take();
            if let Some(client) = taken
                && client.batch_execute("ROLLBACK").await.is_err()
            {
                // Not back to the pool with a transaction open.
                drop(Object::take(client));
            }
        });
    }
}

impl Reads for Snapshot<'_> {
    fn query(&self, what: String, sql: &str, params: Vec<Param>) -> Result<Vec<Row>> {
        let conn = self.conn.clone();
        let sql = sql.to_owned();
        let w = what.clone();
        self.store.run(&what, async move {
            let guard = conn.lock().await;
            let Some(client) = guard.as_ref() else {
                return Err(Error::Invalid(
                    ErrorKind::Unavailable,
                    format!("{w}: the snapshot has ended"),
                ));
            };
            let stmt = client.prepare_cached(&sql).await.ctx(|| w.clone())?;
            client.query(&stmt, &refs(&params)).await.ctx(|| w.clone())
        })
    }
}

/// The log indices of a lot's entries, ascending.
fn lot_events_in(r: &impl Reads, lot: &str) -> Result<Vec<u64>> {
    let what = || format!("reading the events of lot {lot}");
    let rows = r.query(
        what(),
        "SELECT idx FROM lot_events WHERE lot = $1 ORDER BY idx",
        args![lot.to_owned()],
    )?;
    rows.iter()
        .map(|row| from_sql_int(decode(row.try_get(0), what)?, "log index"))
        .collect()
}

/// The [`StateView`] of the store and of a [`Snapshot`]: the same
/// statements, run through [`Reads::query`].
macro_rules! state_view {
    ($t:ty) => {
        impl StateView for $t {
            fn lot_entries(&self, lot: &str) -> StoreResult<Vec<u64>> {
                Ok(lot_events_in(self, lot)?)
            }

            fn party(&self, id: &str) -> StoreResult<Option<PartyState>> {
                self.doc(
                    "party",
                    "SELECT doc FROM parties WHERE id = $1",
                    args![id.to_owned()],
                    id.to_owned(),
                )
            }

            fn key(&self, name: &str, key_id: u32) -> StoreResult<Option<KeyState>> {
                self.doc(
                    "key",
                    "SELECT doc FROM keys WHERE name = $1 AND key_id = $2",
                    args![name.to_owned(), i64::from(key_id)],
                    format!("{name}+{key_id:08x}"),
                )
            }

            fn site(&self, id: &str) -> StoreResult<Option<SiteState>> {
                self.doc(
                    "site",
                    "SELECT doc FROM sites WHERE id = $1",
                    args![id.to_owned()],
                    id.to_owned(),
                )
            }

            fn lot(&self, id: &str) -> StoreResult<Option<LotState>> {
                self.doc(
                    "lot",
                    "SELECT doc FROM lots WHERE id = $1",
                    args![id.to_owned()],
                    id.to_owned(),
                )
            }

            fn shipment(&self, id: &str) -> StoreResult<Option<ShipmentState>> {
                self.doc(
                    "shipment",
                    "SELECT doc FROM shipments WHERE id = $1",
                    args![id.to_owned()],
                    id.to_owned(),
                )
            }

            fn find_record(&self, record_hash: &[u8; 32]) -> StoreResult<Option<u64>> {
                let what = || "looking up a record hash".to_owned();
                let rows = self.query(
                    what(),
                    "SELECT idx FROM entries WHERE record_hash = $1",
                    args![record_hash.to_vec()],
                )?;
                let Some(row) = rows.first() else {
                    return Ok(None);
                };
                Ok(Some(from_sql_int(decode(row.try_get(0), what)?, "log index")?))
            }

            fn event_index(&self, event_id: &str) -> StoreResult<Option<u64>> {
                let what = || format!("looking up event {event_id}");
                let rows = self.query(
                    what(),
                    "SELECT idx FROM events WHERE event_id = $1",
                    args![event_id.to_owned()],
                )?;
                let Some(row) = rows.first() else {
                    return Ok(None);
                };
                Ok(Some(from_sql_int(decode(row.try_get(0), what)?, "log index")?))
            }

            fn agreement(&self, id: &str) -> StoreResult<Option<AgreementState>> {
                self.doc(
                    "agreement",
                    "SELECT doc FROM agreements WHERE id = $1",
                    args![id.to_owned()],
                    id.to_owned(),
                )
            }

            fn agreement_version(
                &self,
                id: &str,
                version: u32,
            ) -> StoreResult<Option<VersionState>> {
                self.doc(
                    "agreement version",
                    "SELECT doc FROM agreement_versions WHERE id = $1 AND version = $2",
                    args![id.to_owned(), i64::from(version)],
                    format!("{id} version {version}"),
                )
            }

            fn clause(
                &self,
                id: &str,
                version: u32,
                clause: u32,
            ) -> StoreResult<Option<ClauseState>> {
                self.doc(
                    "clause",
                    "SELECT doc FROM agreement_clauses WHERE id = $1 AND version = $2 AND clause = $3",
                    args![id.to_owned(), i64::from(version), i64::from(clause)],
                    format!("{clause} of agreement {id} version {version}"),
                )
            }

            fn report(&self, id: &str) -> StoreResult<Option<ReportState>> {
                self.doc(
                    "report",
                    "SELECT doc FROM reports WHERE id = $1",
                    args![id.to_owned()],
                    id.to_owned(),
                )
            }

            fn resource(&self, id: &str) -> StoreResult<Option<ResourceState>> {
                self.doc(
                    "resource estimate",
                    "SELECT doc FROM resources WHERE id = $1",
                    args![id.to_owned()],
                    id.to_owned(),
                )
            }

            fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>> {
                // An index beyond what PostgreSQL stores names no entry.
                let Ok(idx) = i64::try_from(index) else {
                    return Ok(None);
                };
                let what = || format!("reading entry {index}");
                let rows = self.query(
                    what(),
                    "SELECT entry FROM entries WHERE idx = $1",
                    args![idx],
                )?;
                let Some(row) = rows.first() else {
                    return Ok(None);
                };
                Ok(Some(decode(row.try_get(0), what)?))
            }
        }
    };
}

state_view!(PgStore);
state_view!(Snapshot<'_>);

impl Store for PgStore {
    fn snapshot(&self) -> StoreResult<Box<dyn StateView + '_>> {
        let pool = self.pool.clone();
        let conn = self.run("starting a read snapshot", async move {
            let client = pool
                .get()
                .await
                .ctx(|| "starting a read snapshot: getting a connection")?;
            // A snapshot may sit idle between reads longer than a write
            // may: it holds no lock on the lease row.
            client
                .batch_execute(&format!(
                    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; \
                     SET LOCAL idle_in_transaction_session_timeout = '{SNAPSHOT_IDLE_TIMEOUT}'"
                ))
                .await
                .ctx(|| "starting a read snapshot")?;
            Ok(client)
        })?;
        let snapshot = Snapshot {
            store: self,
            conn: Arc::new(tokio::sync::Mutex::new(Some(conn))),
        };
        // REPEATABLE READ takes its snapshot at the first statement: take
        // it now, so that the view is of the state when it was asked for.
        snapshot.query("starting a read snapshot".into(), "SELECT 1", args![])?;
        Ok(Box::new(snapshot))
    }

    fn size(&self) -> StoreResult<u64> {
        let what = || "reading the log size".to_owned();
        let rows = self.rows(
            what(),
            "SELECT coalesce(max(idx) + 1, 0)::bigint FROM entries",
            args![],
        )?;
        let next: i64 = match rows.first() {
            Some(row) => decode(row.try_get(0), what)?,
            None => 0,
        };
        Ok(from_sql_int(next, "log size")?)
    }

    fn integrate(&self, batch: &Batch) -> StoreResult<()> {
        // The shape of the batch first, before any round trip.
        for pair in batch.entries.windows(2) {
            if pair[0].index.checked_add(1) != Some(pair[1].index) {
                return Err(Error::Invalid(
                    ErrorKind::Conflict,
                    format!(
                        "entry index {} does not follow entry index {} in the batch",
                        pair[1].index, pair[0].index
                    ),
                )
                .into());
            }
        }
        let first = batch.entries.first().map(|e| e.index);
        let n = batch.entries.len();
        let (mut idxs, mut entries, mut record_hashes, mut kinds) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for row in &batch.entries {
            idxs.push(to_sql_int(row.index, "log index")?);
            entries.push(row.entry.clone());
            record_hashes.push(row.record_hash.to_vec());
            kinds.push(row.kind.clone());
        }
        let m = batch.hashes.len();
        let (mut levels, mut nodes, mut hashes) = (
            Vec::with_capacity(m),
            Vec::with_capacity(m),
            Vec::with_capacity(m),
        );
        for (id, hash) in &batch.hashes {
            levels.push(i32::from(id.level));
            nodes.push(to_sql_int(id.index, "node index")?);
            hashes.push(hash.0.to_vec());
        }
        let statements = Plan::new(&batch.changes)?.statements();
        Ok(self.write("appending a batch", move |tx| {
            Box::pin(async move {
                let stmt = tx
                    .prepare_cached("SELECT coalesce(max(idx) + 1, 0)::bigint FROM entries")
                    .await
                    .ctx(|| "reading the log size")?;
                let size: i64 = decode(
                    tx.query_one(&stmt, &[]).await.ctx(|| "reading the log size")?.try_get(0),
                    || "reading the log size".into(),
                )?;
                let size = from_sql_int(size, "log size")?;
                if let Some(first) = first
                    && first != size
                {
                    return Err(Error::Invalid(
                        ErrorKind::Conflict,
                        format!("entry index {first} is not the next index {size}: nothing written"),
                    ));
                }
                if !idxs.is_empty() {
                    let stmt = tx
                        .prepare_cached(
                            "INSERT INTO entries (idx, entry, record_hash, kind) \
                             SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[])",
                        )
                        .await
                        .ctx(|| "preparing the entry insert")?;
                    tx.execute(&stmt, &[&idxs, &entries, &record_hashes, &kinds])
                        .await
                        .map_err(|e| match violated(&e) {
                            Some("entries_pkey") => Error::Invalid(
                                ErrorKind::Conflict,
                                format!(
                                    "entries {}..{} are already stored (another writer?): nothing written",
                                    size,
                                    size + idxs.len() as u64
                                ),
                            ),
                            Some(_) => Error::Invalid(
                                ErrorKind::Conflict,
                                format!(
                                    "a record of entries {}..{} is already stored (or twice in the batch): nothing written",
                                    size,
                                    size + idxs.len() as u64
                                ),
                            ),
                            None => Error::Pg {
                                context: "storing entries".into(),
                                source: e,
                            },
                        })?;
                }
                if !levels.is_empty() {
                    let stmt = tx
                        .prepare_cached(
                            "INSERT INTO hashes (level, idx, hash) \
                             SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bytea[])",
                        )
                        .await
                        .ctx(|| "preparing the hash insert")?;
                    tx.execute(&stmt, &[&levels, &nodes, &hashes])
                        .await
                        .map_err(|e| match violated(&e) {
                            Some(_) => Error::Invalid(
                                ErrorKind::Conflict,
                                "a hash of the batch is already stored (or twice in the batch): nothing written"
                                    .into(),
                            ),
                            None => Error::Pg {
                                context: "storing hashes".into(),
                                source: e,
                            },
                        })?;
                }
                apply_plan(tx, statements).await
            })
        })?)
    }

    fn read_hashes(&self, ids: &[NodeId]) -> StoreResult<Vec<Hash>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut levels = Vec::with_capacity(ids.len());
        let mut idxs = Vec::with_capacity(ids.len());
        for id in ids {
            levels.push(i32::from(id.level));
            idxs.push(to_sql_int(id.index, "node index")?);
        }
        let what = || "reading hashes".to_owned();
        let rows = self.rows(
            what(),
            "SELECT h.hash FROM unnest($1::integer[], $2::bigint[]) WITH ORDINALITY AS x(level, idx, ord) \
             LEFT JOIN hashes h ON h.level = x.level AND h.idx = x.idx ORDER BY x.ord",
            args![levels, idxs],
        )?;
        if rows.len() != ids.len() {
            return Err(Error::Invalid(
                ErrorKind::Unavailable,
                format!(
                    "reading {} hashes: {} rows came back",
                    ids.len(),
                    rows.len()
                ),
            )
            .into());
        }
        ids.iter()
            .zip(&rows)
            .map(|(id, row)| {
                let hash: Option<Vec<u8>> = decode(row.try_get(0), what)?;
                match hash {
                    None => Err(Error::Invalid(
                        ErrorKind::NotFound,
                        format!("no stored hash at {id}"),
                    )
                    .into()),
                    Some(bytes) => match <[u8; 32]>::try_from(bytes.as_slice()) {
                        Ok(h) => Ok(Hash(h)),
                        Err(_) => Err(Error::Invalid(
                            ErrorKind::Corrupt,
                            format!("the stored hash at {id} is {} bytes, not 32", bytes.len()),
                        )
                        .into()),
                    },
                }
            })
            .collect()
    }

    fn read_entries(&self, start: u64, count: u64) -> StoreResult<Vec<Vec<u8>>> {
        let end = start
            .checked_add(count)
            .ok_or_else(|| Error::Invalid(ErrorKind::NotFound, "entry range overflows".into()))?;
        let (lo, hi) = (
            to_sql_int(start, "log index")?,
            to_sql_int(end, "log index")?,
        );
        let what = || format!("reading entries {start}..{end}");
        // One statement: the size and the entries of one snapshot.
        let rows = self.rows(
            what(),
            "WITH s AS (SELECT coalesce(max(idx) + 1, 0)::bigint AS size FROM entries) \
             SELECT s.size, e.entry FROM s LEFT JOIN LATERAL \
             (SELECT idx, entry FROM entries WHERE idx >= $1 AND idx < $2) e ON true ORDER BY e.idx",
            args![lo, hi],
        )?;
        let size: i64 = match rows.first() {
            Some(row) => decode(row.try_get(0), what)?,
            None => 0,
        };
        let size = from_sql_int(size, "log size")?;
        if end > size {
            return Err(Error::Invalid(
                ErrorKind::NotFound,
                format!("entries {start}..{end} are beyond the log size {size}"),
            )
            .into());
        }
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let entry: Option<Vec<u8>> = decode(row.try_get(1), what)?;
            if let Some(entry) = entry {
                entries.push(entry);
            }
        }
        if entries.len() as u64 != count {
            return Err(Error::Invalid(
                ErrorKind::Corrupt,
                format!(
                    "entries {start}..{end}: {} stored, the log has a gap",
                    entries.len()
                ),
            )
            .into());
        }
        Ok(entries)
    }

    fn checkpoint(&self) -> StoreResult<Option<Vec<u8>>> {
        let what = || "reading the checkpoint".to_owned();
        let rows = self.rows(what(), "SELECT note FROM checkpoint WHERE id = 1", args![])?;
        Ok(rows
            .first()
            .map(|row| decode(row.try_get(0), what))
            .transpose()?)
    }

    fn swap_checkpoint(&self, prev: Option<&[u8]>, next: &[u8]) -> StoreResult<bool> {
        let prev = prev.map(<[u8]>::to_vec);
        let next = next.to_vec();
        Ok(self.write("swapping the checkpoint", move |tx| {
            Box::pin(async move {
                let stmt = tx
                    .prepare_cached("SELECT note FROM checkpoint WHERE id = 1 FOR UPDATE")
                    .await
                    .ctx(|| "reading the checkpoint")?;
                let current: Option<Vec<u8>> = tx
                    .query_opt(&stmt, &[])
                    .await
                    .ctx(|| "reading the checkpoint")?
                    .map(|r| decode(r.try_get(0), || "reading the checkpoint".into()))
                    .transpose()?;
                if current != prev {
                    return Ok(false);
                }
                let stmt = tx
                    .prepare_cached(
                        "INSERT INTO checkpoint (id, note) VALUES (1, $1) \
                         ON CONFLICT (id) DO UPDATE SET note = excluded.note",
                    )
                    .await
                    .ctx(|| "storing the checkpoint")?;
                tx.execute(&stmt, &[&next])
                    .await
                    .ctx(|| "storing the checkpoint")?;
                Ok(true)
            })
        })?)
    }

    fn lot_events(&self, lot: &str) -> StoreResult<Vec<u64>> {
        Ok(lot_events_in(self, lot)?)
    }

    fn event(&self, event_id: &str) -> StoreResult<Option<EventState>> {
        let rows = self.rows(
            format!("reading event {event_id}"),
            &format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.event_id = $1"),
            args![event_id.to_owned()],
        )?;
        Ok(rows.first().map(event_of).transpose()?)
    }

    fn select_events(&self, select: &EventSelect) -> StoreResult<Vec<EventState>> {
        let one_term =
            matches!(select.any_terms.as_deref(), Some([_])) && select.order == EventOrder::Index;
        let sort = match select.order {
            EventOrder::Index if one_term => "t.idx",
            EventOrder::Index => "e.idx",
            EventOrder::EventTime => "e.event_time",
            EventOrder::RecordTime => "e.record_time",
        };
        let (cmp, dir) = if select.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        let mut params: Vec<Param> = Vec::new();
        let cursor_index = select
            .after
            .map(|(_, index)| to_sql_int(index, "log index"))
            .transpose()?;
        let mut sql = match select.any_terms.as_deref() {
            Some([]) => return Ok(Vec::new()),
            // One term in capture order: walk that term's rows of
            // `event_terms` from the cursor.
            Some([term]) if one_term => {
                params.push(Box::new(term.clone()));
                let mut sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM event_terms t JOIN events e ON e.idx = t.idx \
                     WHERE t.term = $1"
                );
                if let Some(index) = cursor_index {
                    params.push(Box::new(index));
                    sql.push_str(&format!(" AND t.idx {cmp} ${}", params.len()));
                }
                sql
            }
            Some(terms) => {
                params.push(Box::new(terms.to_vec()));
                let mut sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM events e WHERE e.idx IN \
                     (SELECT idx FROM event_terms WHERE term = ANY($1::text[])"
                );
                if let (EventOrder::Index, Some(index)) = (select.order, cursor_index) {
                    params.push(Box::new(index));
                    sql.push_str(&format!(" AND idx {cmp} ${}", params.len()));
                }
                sql.push(')');
                sql
            }
            None => format!("SELECT {EVENT_COLUMNS} FROM events e WHERE true"),
        };
        for (column, (from, to)) in [
            ("e.event_time", select.event_time),
            ("e.record_time", select.record_time),
        ] {
            if let Some(from) = from {
                params.push(Box::new(from));
                sql.push_str(&format!(" AND {column} >= ${}", params.len()));
            }
            if let Some(to) = to {
                params.push(Box::new(to));
                sql.push_str(&format!(" AND {column} < ${}", params.len()));
            }
        }
        if let (Some((key, _)), Some(index)) = (select.after, cursor_index) {
            let bound = if select.descending { "<=" } else { ">=" };
            if select.order == EventOrder::Index {
                if !one_term {
                    params.push(Box::new(index));
                    sql.push_str(&format!(" AND e.idx {cmp} ${}", params.len()));
                }
            } else {
                params.push(Box::new(key));
                let k = params.len();
                params.push(Box::new(index));
                let i = params.len();
                sql.push_str(&format!(
                    " AND {sort} {bound} ${k} AND ({sort}, e.idx) {cmp} (${k}, ${i})"
                ));
            }
        }
        params.push(Box::new(i64::try_from(select.limit).unwrap_or(i64::MAX)));
        if select.order == EventOrder::Index {
            sql.push_str(&format!(" ORDER BY {sort} {dir} LIMIT ${}", params.len()));
        } else {
            sql.push_str(&format!(
                " ORDER BY {sort} {dir}, e.idx {dir} LIMIT ${}",
                params.len()
            ));
        }
        let rows = self.rows("selecting events".into(), &sql, params)?;
        Ok(rows.iter().map(event_of).collect::<Result<Vec<_>>>()?)
    }

    fn event_term_values(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        let limit = limit.min(EVENT_TERM_VALUES_MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        // A loose index scan: a recursive query whose every step is one
        // seek on the (term, idx) key for the least term past the last,
        // whichever events carry it; at most `limit` steps, in one
        // statement (one snapshot). The terms are `COLLATE "C"` (byte
        // order), so the terms under the prefix are `[prefix, end)`, `end`
        // a valid string (see `term_prefix_end`); without one, `[prefix, …)`.
        // (EXPLAIN: each step an Index Only Scan of `event_terms_pkey` on
        // `term > … AND term < …`, stopping at its first row.)
        let (start, from): (&str, &str) = match after {
            Some(after) if after >= prefix => (">", after),
            _ => (">=", prefix),
        };
        let mut params: Vec<Param> =
            args![from.to_owned(), i64::try_from(limit).unwrap_or(i64::MAX)];
        let below = match term_prefix_end(prefix) {
            Some(end) => {
                params.push(Box::new(end));
                " AND term < $3"
            }
            None => "",
        };
        let sql = format!(
            "WITH RECURSIVE t (term, n) AS ( \
                 (SELECT term, 1::bigint FROM event_terms \
                  WHERE term {start} $1{below} ORDER BY term LIMIT 1) \
               UNION ALL \
                 SELECT (SELECT term FROM event_terms \
                         WHERE term > t.term{below} ORDER BY term LIMIT 1), t.n + 1 \
                 FROM t WHERE t.term IS NOT NULL AND t.n < $2::bigint \
             ) \
             SELECT term FROM t WHERE term IS NOT NULL ORDER BY term"
        );
        let what = || format!("listing the index terms under {prefix:?}");
        let rows = self.rows(what(), &sql, params)?;
        Ok(rows
            .iter()
            .map(|row| decode(row.try_get(0), what))
            .collect::<Result<Vec<String>>>()?)
    }

    fn parties(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<PartyState>> {
        self.docs("party", "parties", after, limit)
    }

    fn sites(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<SiteState>> {
        self.docs("site", "sites", after, limit)
    }

    fn lots(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<LotState>> {
        self.docs("lot", "lots", after, limit)
    }

    fn shipments(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<ShipmentState>> {
        self.docs("shipment", "shipments", after, limit)
    }

    fn agreements(&self, select: &Select) -> StoreResult<Vec<AgreementState>> {
        self.select_docs(AGREEMENTS, select, true)
    }

    fn agreement_versions(&self, id: &str) -> StoreResult<Vec<VersionState>> {
        let rows = self.rows(
            format!("listing the versions of agreement {id}"),
            "SELECT doc FROM agreement_versions WHERE id = $1 ORDER BY version",
            args![id.to_owned()],
        )?;
        Ok(docs_of(&rows, "agreement version")?)
    }

    fn clauses(
        &self,
        id: &str,
        version: u32,
        after: Option<u32>,
        limit: usize,
    ) -> StoreResult<Vec<ClauseState>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // -1 comes before every clause.
        let after = after.map_or(-1, i64::from);
        let rows = self.rows(
            format!("listing the revealed clauses of agreement {id} version {version}"),
            "SELECT doc FROM agreement_clauses WHERE id = $1 AND version = $2 AND clause > $3 \
             ORDER BY clause LIMIT $4",
            args![id.to_owned(), i64::from(version), after, limit],
        )?;
        Ok(docs_of(&rows, "clause")?)
    }

    fn progress(
        &self,
        id: &str,
        after: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<ProgressState>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let after = match after {
            None => -1,
            Some(a) => match i64::try_from(a) {
                Ok(a) => a,
                // Beyond every index PostgreSQL stores: nothing comes after.
                Err(_) => return Ok(Vec::new()),
            },
        };
        let rows = self.rows(
            format!("listing the progress reports on agreement {id}"),
            "SELECT doc FROM agreement_progress WHERE id = $1 AND idx > $2 ORDER BY idx LIMIT $3",
            args![id.to_owned(), after, limit],
        )?;
        Ok(docs_of(&rows, "progress report")?)
    }

    fn reports(&self, select: &Select) -> StoreResult<Vec<ReportState>> {
        self.select_docs(REPORTS, select, false)
    }

    fn resources(&self, select: &Select) -> StoreResult<Vec<ResourceState>> {
        self.select_docs(RESOURCES, select, false)
    }

    fn clear_projections(&self) -> StoreResult<()> {
        Ok(self.write("clearing the projections", |tx| {
            Box::pin(async move {
                tx.batch_execute(
                    "DELETE FROM parties; DELETE FROM keys; DELETE FROM sites; \
                     DELETE FROM lots; DELETE FROM shipments; DELETE FROM lot_events; \
                     DELETE FROM event_terms; DELETE FROM events; \
                     DELETE FROM agreement_terms; DELETE FROM agreements; \
                     DELETE FROM agreement_versions; DELETE FROM agreement_clauses; \
                     DELETE FROM agreement_progress; DELETE FROM report_terms; DELETE FROM reports; \
                     DELETE FROM resource_terms; DELETE FROM resources; \
                     INSERT INTO rebuild (id, next) VALUES (1, 0) \
                     ON CONFLICT (id) DO UPDATE SET next = 0;",
                )
                .await
                .ctx(|| "clearing the projections")
            })
        })?)
    }

    fn apply_changes(&self, changes: &[Change], through: u64) -> StoreResult<()> {
        let next = to_sql_int(through, "log index")?;
        let statements = Plan::new(changes)?.statements();
        Ok(self.write("applying projection changes", move |tx| {
            Box::pin(async move {
                apply_plan(tx, statements).await?;
                let stmt = tx
                    .prepare_cached(
                        "INSERT INTO rebuild (id, next) VALUES (1, $1) \
                         ON CONFLICT (id) DO UPDATE SET next = excluded.next",
                    )
                    .await
                    .ctx(|| "recording the rebuild's progress")?;
                tx.execute(&stmt, &[&next])
                    .await
                    .ctx(|| "recording the rebuild's progress")?;
                Ok(())
            })
        })?)
    }

    fn rebuild_progress(&self) -> StoreResult<Option<u64>> {
        let what = || "reading the rebuild's progress".to_owned();
        let rows = self.rows(what(), "SELECT next FROM rebuild WHERE id = 1", args![])?;
        let next: Option<i64> = rows
            .first()
            .map(|row| decode(row.try_get(0), what))
            .transpose()?;
        Ok(next
            .map(|n| from_sql_int(n, "rebuild progress"))
            .transpose()?)
    }

    fn finish_rebuild(&self) -> StoreResult<()> {
        Ok(self.write("finishing the rebuild", |tx| {
            Box::pin(async move {
                tx.batch_execute("DELETE FROM rebuild")
                    .await
                    .ctx(|| "recording the finished rebuild")
            })
        })?)
    }

    fn named_query(&self, name: &str) -> StoreResult<Option<NamedQueryRow>> {
        let rows = self.rows(
            format!("reading named query {name}"),
            &format!("SELECT {NAMED_QUERY_COLUMNS} FROM named_queries WHERE name = $1"),
            args![name.to_owned()],
        )?;
        Ok(rows.first().map(named_query_of).transpose()?)
    }

    fn named_queries(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<NamedQueryRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (sql, params) = match after {
            Some(a) => (
                format!(
                    "SELECT {NAMED_QUERY_COLUMNS} FROM named_queries WHERE name > $1 \
                     ORDER BY name LIMIT $2"
                ),
                args![a.to_owned(), limit],
            ),
            None => (
                format!("SELECT {NAMED_QUERY_COLUMNS} FROM named_queries ORDER BY name LIMIT $1"),
                args![limit],
            ),
        };
        let rows = self.rows("listing named queries".to_owned(), &sql, params)?;
        Ok(rows.iter().map(named_query_of).collect::<Result<_>>()?)
    }

    fn insert_named_query(&self, row: &NamedQueryRow, quota: Quota) -> StoreResult<Inserted> {
        let row = row.clone();
        Ok(self.write("storing a named query", move |tx| {
            Box::pin(async move {
                let what = || format!("storing named query {}", row.name);
                // Taken by every insert (and delete) before it counts, so
                // two cannot both pass a quota with room for one.
                tx.batch_execute("LOCK TABLE named_queries IN SHARE ROW EXCLUSIVE MODE")
                    .await
                    .ctx(what)?;
                let stmt = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM named_queries WHERE name = $1), \
                         (SELECT count(*) FROM named_queries WHERE owner = $2), \
                         (SELECT count(*) FROM named_queries)",
                    )
                    .await
                    .ctx(what)?;
                let counts = tx
                    .query_one(&stmt, &[&row.name, &row.owner])
                    .await
                    .ctx(what)?;
                let exists: bool = decode(counts.try_get(0), what)?;
                if exists {
                    return Ok(Inserted::Exists);
                }
                if count_of(&counts, 1, "an owner's named queries")? >= quota.per_owner {
                    return Ok(Inserted::OwnerFull);
                }
                if count_of(&counts, 2, "named queries")? >= quota.total {
                    return Ok(Inserted::AllFull);
                }
                let stmt = tx
                    .prepare_cached(
                        "INSERT INTO named_queries (name, owner, query) VALUES ($1, $2, $3)",
                    )
                    .await
                    .ctx(what)?;
                tx.execute(&stmt, &[&row.name, &row.owner, &row.query])
                    .await
                    .ctx(what)?;
                Ok(Inserted::Done)
            })
        })?)
    }

    fn delete_named_query(&self, name: &str, owner: &str) -> StoreResult<Removed> {
        let name = name.to_owned();
        let owner = owner.to_owned();
        Ok(self.write("deleting a named query", move |tx| {
            Box::pin(async move {
                let what = || format!("deleting named query {name}");
                // The order of `insert_named_query` then
                // `insert_subscription`: no subscription comes or goes
                // while this one decides.
                tx.batch_execute(
                    "LOCK TABLE named_queries IN SHARE ROW EXCLUSIVE MODE; \
                     LOCK TABLE subscriptions IN SHARE ROW EXCLUSIVE MODE",
                )
                .await
                .ctx(what)?;
                let stmt = tx
                    .prepare_cached("SELECT owner FROM named_queries WHERE name = $1")
                    .await
                    .ctx(what)?;
                let Some(found) = tx.query_opt(&stmt, &[&name]).await.ctx(what)? else {
                    return Ok(Removed::Missing);
                };
                let defined_by: String = decode(found.try_get(0), what)?;
                if defined_by != owner {
                    return Ok(Removed::NotOwner(defined_by));
                }
                let stmt = tx
                    .prepare_cached(
                        "SELECT count(*) FROM subscriptions WHERE query = $1 AND owner <> $2",
                    )
                    .await
                    .ctx(what)?;
                let others = tx.query_one(&stmt, &[&name, &owner]).await.ctx(what)?;
                let others = count_of(&others, 0, "other parties' subscriptions")?;
                if others > 0 {
                    return Ok(Removed::Subscribed(others));
                }
                let stmt = tx
                    .prepare_cached("DELETE FROM subscriptions WHERE query = $1")
                    .await
                    .ctx(what)?;
                let subscriptions = tx.execute(&stmt, &[&name]).await.ctx(what)?;
                let stmt = tx
                    .prepare_cached("DELETE FROM named_queries WHERE name = $1")
                    .await
                    .ctx(what)?;
                tx.execute(&stmt, &[&name]).await.ctx(what)?;
                Ok(Removed::Done { subscriptions })
            })
        })?)
    }

    fn subscription(&self, id: &str) -> StoreResult<Option<SubscriptionRow>> {
        let rows = self.rows(
            format!("reading subscription {id}"),
            &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1"),
            args![id.to_owned()],
        )?;
        Ok(rows.first().map(subscription_of).transpose()?)
    }

    fn subscriptions(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<SubscriptionRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (sql, params) = match after {
            Some(a) => (
                format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE owner = $1 AND id > $2 \
                     ORDER BY id LIMIT $3"
                ),
                args![owner.to_owned(), a.to_owned(), limit],
            ),
            None => (
                format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE owner = $1 \
                     ORDER BY id LIMIT $2"
                ),
                args![owner.to_owned(), limit],
            ),
        };
        let rows = self.rows(
            format!("listing the subscriptions of {owner}"),
            &sql,
            params,
        )?;
        Ok(rows.iter().map(subscription_of).collect::<Result<_>>()?)
    }

    fn insert_subscription(&self, row: &SubscriptionRow, quota: Quota) -> StoreResult<Inserted> {
        let row = row.clone();
        let version = to_sql_int(row.version, "subscription version")?;
        Ok(self.write("storing a subscription", move |tx| {
            Box::pin(async move {
                let what = || format!("storing subscription {}", row.id);
                // As `insert_named_query`: the quota is decided under the
                // lock every insert takes.
                tx.batch_execute("LOCK TABLE subscriptions IN SHARE ROW EXCLUSIVE MODE")
                    .await
                    .ctx(what)?;
                let stmt = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE id = $1), \
                         EXISTS (SELECT 1 FROM named_queries WHERE name = $2), \
                         (SELECT count(*) FROM subscriptions WHERE owner = $3), \
                         (SELECT count(*) FROM subscriptions)",
                    )
                    .await
                    .ctx(what)?;
                let counts = tx
                    .query_one(&stmt, &[&row.id, &row.query, &row.owner])
                    .await
                    .ctx(what)?;
                let exists: bool = decode(counts.try_get(0), what)?;
                if exists {
                    return Ok(Inserted::Exists);
                }
                let query_exists: bool = decode(counts.try_get(1), what)?;
                if !query_exists {
                    return Ok(Inserted::NoQuery);
                }
                if count_of(&counts, 2, "an owner's subscriptions")? >= quota.per_owner {
                    return Ok(Inserted::OwnerFull);
                }
                if count_of(&counts, 3, "subscriptions")? >= quota.total {
                    return Ok(Inserted::AllFull);
                }
                let stmt = tx
                    .prepare_cached(
                        "INSERT INTO subscriptions \
                         (id, owner, query, spec, progress, due_ms, version) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .await
                    .ctx(what)?;
                tx.execute(
                    &stmt,
                    &[
                        &row.id,
                        &row.owner,
                        &row.query,
                        &row.spec,
                        &row.progress,
                        &row.due_ms,
                        &version,
                    ],
                )
                .await
                .ctx(what)?;
                Ok(Inserted::Done)
            })
        })?)
    }

    fn delete_subscription(&self, id: &str, owner: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        let owner = owner.to_owned();
        Ok(self.write("deleting a subscription", move |tx| {
            Box::pin(async move {
                let what = || format!("deleting subscription {id}");
                let stmt = tx
                    .prepare_cached("DELETE FROM subscriptions WHERE id = $1 AND owner = $2")
                    .await
                    .ctx(what)?;
                Ok(tx.execute(&stmt, &[&id, &owner]).await.ctx(what)? == 1)
            })
        })?)
    }

    fn due_subscriptions(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<SubscriptionRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.rows(
            format!("listing the subscriptions due at {now_ms}"),
            &format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
                 WHERE due_ms IS NOT NULL AND due_ms <= $1 ORDER BY due_ms, id LIMIT $2"
            ),
            args![now_ms, limit],
        )?;
        Ok(rows.iter().map(subscription_of).collect::<Result<_>>()?)
    }

    fn advance_subscription(
        &self,
        id: &str,
        expected: u64,
        progress: &str,
        due_ms: Option<i64>,
    ) -> StoreResult<bool> {
        // A version beyond what is stored was never stored: nothing moves
        // (after the fence, which refuses every write of a non-holder).
        let expected = i64::try_from(expected).ok();
        let id = id.to_owned();
        let progress = progress.to_owned();
        Ok(self.write("advancing a subscription", move |tx| {
            Box::pin(async move {
                let what = || format!("advancing subscription {id}");
                let Some(expected) = expected else {
                    return Ok(false);
                };
                let stmt = tx
                    .prepare_cached(
                        "UPDATE subscriptions SET progress = $1, due_ms = $2, version = version + 1 \
                         WHERE id = $3 AND version = $4",
                    )
                    .await
                    .ctx(what)?;
                let moved = tx
                    .execute(&stmt, &[&progress, &due_ms, &id, &expected])
                    .await
                    .ctx(what)?;
                Ok(moved == 1)
            })
        })?)
    }
}
