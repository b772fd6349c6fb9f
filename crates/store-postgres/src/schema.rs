//! The schema, its migrations and the checks made before anything is
//! written.
//!
//! The schema version is the one row of `oretrace_schema`: the number of
//! entries of [`MIGRATIONS`] applied. Each migration runs in its own
//! transaction together with the bump of that row, under a transaction
//! advisory lock on the schema's name, so a crash leaves the database at
//! one version or the next, and nodes starting at once migrate one after
//! the other (the later ones find the work done). A database at a version
//! this build does not know, or a schema holding another application's
//! tables, is refused untouched.

use deadpool_postgres::Object;

use oretrace_ledger::store::ErrorKind;

use crate::error::{Context as _, Error, Result, decode};

/// The first key of the advisory lock migrations take ("ORET"); the
/// second is a hash of the schema's name.
const LOCK_CLASS: i32 = 0x4F52_4554;

/// The migrations, oldest first. Never edit one that has shipped: append.
///
/// Ids and terms are `COLLATE "C"`: they compare and order by their UTF-8
/// bytes, as the contract (and SQLite's BINARY collation) does.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the log, its stored subtree hashes, the checkpoint, projections,
    // captured events, agreements, reports and resource estimates with
    // their terms and term counts, the rebuild marker.
    r#"
    CREATE TABLE oretrace_schema (
        id      integer PRIMARY KEY CHECK (id = 1),
        version integer NOT NULL CHECK (version >= 0)
    );

    CREATE TABLE entries (
        idx         bigint PRIMARY KEY CHECK (idx >= 0),
        entry       bytea  NOT NULL,
        record_hash bytea  NOT NULL UNIQUE CHECK (length(record_hash) = 32),
        kind        text   NOT NULL
    );

    CREATE TABLE hashes (
        level integer NOT NULL CHECK (level BETWEEN 0 AND 63),
        idx   bigint  NOT NULL CHECK (idx >= 0),
        hash  bytea   NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
    );

    CREATE TABLE checkpoint (
        id   integer PRIMARY KEY CHECK (id = 1),
        note bytea   NOT NULL
    );

    CREATE TABLE parties   (id text COLLATE "C" NOT NULL PRIMARY KEY, doc text NOT NULL);
    CREATE TABLE sites     (id text COLLATE "C" NOT NULL PRIMARY KEY, doc text NOT NULL);
    CREATE TABLE lots      (id text COLLATE "C" NOT NULL PRIMARY KEY, doc text NOT NULL);
    CREATE TABLE shipments (id text COLLATE "C" NOT NULL PRIMARY KEY, doc text NOT NULL);
    CREATE TABLE keys (
        name   text COLLATE "C" NOT NULL,
        key_id bigint NOT NULL CHECK (key_id BETWEEN 0 AND 4294967295),
        doc    text   NOT NULL,
        PRIMARY KEY (name, key_id)
    );
    CREATE TABLE lot_events (
        lot text COLLATE "C" NOT NULL,
        idx bigint NOT NULL REFERENCES entries (idx),
        PRIMARY KEY (lot, idx)
    );

    CREATE TABLE events (
        idx         bigint PRIMARY KEY REFERENCES entries (idx),
        event_id    text COLLATE "C" NOT NULL UNIQUE,
        event_type  text   NOT NULL,
        event_time  bigint NOT NULL,
        record_time bigint NOT NULL,
        captured_by text   NOT NULL,
        capture     text   NOT NULL,
        terms       text   NOT NULL, -- JSON array of the terms below
        event       text   NOT NULL
    );
    CREATE INDEX events_by_event_time  ON events (event_time, idx);
    CREATE INDEX events_by_record_time ON events (record_time, idx);
    CREATE TABLE event_terms (
        term text COLLATE "C" NOT NULL,
        idx  bigint NOT NULL REFERENCES events (idx),
        PRIMARY KEY (term, idx)
    );

    -- overdue_from is YYYY-MM-DD (years 1 to 9999): text order is date order.
    CREATE TABLE agreements (
        id           text COLLATE "C" NOT NULL PRIMARY KEY,
        doc          text NOT NULL,
        overdue_from text COLLATE "C" CHECK (overdue_from IS NULL OR length(overdue_from) = 10)
    );
    CREATE INDEX agreements_overdue ON agreements (id, overdue_from)
        WHERE overdue_from IS NOT NULL;
    CREATE TABLE agreement_terms (
        term text COLLATE "C" NOT NULL,
        id   text COLLATE "C" NOT NULL REFERENCES agreements (id),
        PRIMARY KEY (term, id)
    );
    CREATE INDEX agreement_terms_by_id ON agreement_terms (id);
    CREATE TABLE agreement_versions (
        id      text COLLATE "C" NOT NULL,
        version bigint NOT NULL CHECK (version BETWEEN 0 AND 4294967295),
        doc     text   NOT NULL,
        PRIMARY KEY (id, version)
    );
    CREATE TABLE agreement_clauses (
        id      text COLLATE "C" NOT NULL,
        version bigint NOT NULL CHECK (version BETWEEN 0 AND 4294967295),
        clause  bigint NOT NULL CHECK (clause BETWEEN 0 AND 4294967295),
        doc     text   NOT NULL,
        PRIMARY KEY (id, version, clause)
    );
    CREATE TABLE agreement_progress (
        id  text COLLATE "C" NOT NULL,
        idx bigint NOT NULL CHECK (idx >= 0),
        doc text   NOT NULL,
        PRIMARY KEY (id, idx)
    );
    CREATE TABLE reports (id text COLLATE "C" NOT NULL PRIMARY KEY, doc text NOT NULL);
    CREATE TABLE report_terms (
        term text COLLATE "C" NOT NULL,
        id   text COLLATE "C" NOT NULL REFERENCES reports (id),
        PRIMARY KEY (term, id)
    );
    CREATE INDEX report_terms_by_id ON report_terms (id);
    CREATE TABLE resources (id text COLLATE "C" NOT NULL PRIMARY KEY, doc text NOT NULL);
    CREATE TABLE resource_terms (
        term text COLLATE "C" NOT NULL,
        id   text COLLATE "C" NOT NULL REFERENCES resources (id),
        PRIMARY KEY (term, id)
    );
    CREATE INDEX resource_terms_by_id ON resource_terms (id);

    -- How many items carry each term, kept by triggers in the transaction
    -- that changes the terms (so exact in every snapshot): a listing walks
    -- the index of the rarest of its terms.
    CREATE TABLE agreement_term_counts (
        term text COLLATE "C" NOT NULL PRIMARY KEY,
        n    bigint NOT NULL CHECK (n >= 0)
    );
    CREATE TABLE report_term_counts (
        term text COLLATE "C" NOT NULL PRIMARY KEY,
        n    bigint NOT NULL CHECK (n >= 0)
    );
    CREATE TABLE resource_term_counts (
        term text COLLATE "C" NOT NULL PRIMARY KEY,
        n    bigint NOT NULL CHECK (n >= 0)
    );
    CREATE FUNCTION agreement_terms_count() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO agreement_term_counts AS c (term, n) VALUES (NEW.term, 1)
                ON CONFLICT (term) DO UPDATE SET n = c.n + 1;
        ELSE
            UPDATE agreement_term_counts SET n = n - 1 WHERE term = OLD.term;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER agreement_terms_counted AFTER INSERT OR DELETE ON agreement_terms
        FOR EACH ROW EXECUTE FUNCTION agreement_terms_count();
    CREATE FUNCTION report_terms_count() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO report_term_counts AS c (term, n) VALUES (NEW.term, 1)
                ON CONFLICT (term) DO UPDATE SET n = c.n + 1;
        ELSE
            UPDATE report_term_counts SET n = n - 1 WHERE term = OLD.term;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER report_terms_counted AFTER INSERT OR DELETE ON report_terms
        FOR EACH ROW EXECUTE FUNCTION report_terms_count();
    CREATE FUNCTION resource_terms_count() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO resource_term_counts AS c (term, n) VALUES (NEW.term, 1)
                ON CONFLICT (term) DO UPDATE SET n = c.n + 1;
        ELSE
            UPDATE resource_term_counts SET n = n - 1 WHERE term = OLD.term;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER resource_terms_counted AFTER INSERT OR DELETE ON resource_terms
        FOR EACH ROW EXECUTE FUNCTION resource_terms_count();

    -- A rebuild of the projections under way: the projections hold the
    -- changes of the entries before `next` only.
    CREATE TABLE rebuild (
        id   integer PRIMARY KEY CHECK (id = 1),
        next bigint  NOT NULL CHECK (next >= 0)
    );
    "#,
    // 2: the log origin the database belongs to, and the sequencer lease:
    // the one row whose holder (at its epoch) alone may write.
    r#"
    CREATE TABLE log_origin (
        id     integer PRIMARY KEY CHECK (id = 1),
        origin text    NOT NULL
    );
    CREATE TABLE sequencer_lease (
        id         integer PRIMARY KEY CHECK (id = 1),
        holder     text,
        advertise  text,
        epoch      bigint NOT NULL CHECK (epoch >= 0),
        expires_at timestamptz
    );
    INSERT INTO sequencer_lease (id, holder, advertise, epoch, expires_at)
        VALUES (1, NULL, NULL, 0, NULL);
    "#,
    // 3: records' events. The rules now store the EPCIS event of each
    // record that states one (a lot, an assay, a shipment, a receipt, a
    // transformation), not only captured events: projections built before
    // lack them. A database with a published log drops its projections
    // and records a rebuild from entry 0 (what `clear_projections` does),
    // which the ledger finishes before it sequences (`Ledger::promote`,
    // by the lease holder): the rules replayed give the records their
    // events, and the log is not touched. A database with no checkpoint
    // has nothing to rebuild.
    r#"
    DELETE FROM parties; DELETE FROM keys; DELETE FROM sites;
    DELETE FROM lots; DELETE FROM shipments; DELETE FROM lot_events;
    DELETE FROM event_terms; DELETE FROM events;
    DELETE FROM agreement_terms; DELETE FROM agreements;
    DELETE FROM agreement_versions; DELETE FROM agreement_clauses;
    DELETE FROM agreement_progress; DELETE FROM report_terms; DELETE FROM reports;
    DELETE FROM resource_terms; DELETE FROM resources;
    INSERT INTO rebuild (id, next) SELECT 1, 0 WHERE EXISTS (SELECT 1 FROM checkpoint)
        ON CONFLICT (id) DO UPDATE SET next = 0;
    "#,
    // 4: named queries and subscriptions: parties' preferences kept beside
    // the log, not projections (a rebuild, `clear_projections`, leaves
    // them). Names, owners and ids compare in byte order.
    r#"
    CREATE TABLE named_queries (
        name  text COLLATE "C" NOT NULL PRIMARY KEY,
        owner text COLLATE "C" NOT NULL,
        query text NOT NULL
    );
    CREATE INDEX named_queries_owner ON named_queries (owner);
    CREATE TABLE subscriptions (
        id       text COLLATE "C" NOT NULL PRIMARY KEY,
        owner    text COLLATE "C" NOT NULL,
        query    text COLLATE "C" NOT NULL REFERENCES named_queries (name),
        spec     text   NOT NULL,
        progress text   NOT NULL,
        due_ms   bigint,
        version  bigint NOT NULL CHECK (version >= 0)
    );
    CREATE INDEX subscriptions_owner ON subscriptions (owner, id);
    CREATE INDEX subscriptions_query ON subscriptions (query);
    CREATE INDEX subscriptions_due ON subscriptions (due_ms, id) WHERE due_ms IS NOT NULL;
    "#,
];

/// The name of a schema, checked: it goes into SQL (always quoted).
pub(crate) fn check_schema_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.starts_with("pg_");
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(
            ErrorKind::Incompatible,
            format!(
                "schema name {name:?} is not 1 to 63 ASCII letters, digits and underscores (not starting with pg_)"
            ),
        ))
    }
}

/// Creates the schema if absent and applies the migrations it lacks, one
/// transaction each. Returns the version the schema is at.
pub(crate) async fn migrate(client: &mut Object, schema: &str) -> Result<u32> {
    let known = MIGRATIONS.len();
    loop {
        let tx = client
            .transaction()
            .await
            .ctx(|| format!("starting to migrate schema {schema}"))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&LOCK_CLASS, &schema],
        )
        .await
        .ctx(|| format!("locking schema {schema} to migrate it"))?;
        let exists = tx
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
            .await
            .ctx(|| format!("looking for schema {schema}"))?
            .is_some();
        if !exists {
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .await
                .ctx(|| format!("creating schema {schema}"))?;
        }
        let version = current_version(&tx, schema).await?;
        let version = usize::try_from(version).map_err(|_| {
            Error::Invalid(
                ErrorKind::Incompatible,
                format!("schema {schema}: schema version {version} is not one oretrace writes"),
            )
        })?;
        if version > known {
            return Err(Error::Invalid(
                ErrorKind::Incompatible,
                format!(
                    "schema {schema}: the database schema is version {version}, newer than version {known}, \
                     the newest this build of oretrace knows; run a newer oretrace (the database is left untouched)"
                ),
            ));
        }
        let Some(sql) = MIGRATIONS.get(version) else {
            // Up to date: nothing was written but, perhaps, the schema.
            tx.commit()
                .await
                .ctx(|| format!("ending the migration of schema {schema}"))?;
            return Ok(version as u32);
        };
        let next = version + 1;
        tx.batch_execute(sql)
            .await
            .ctx(|| format!("migrating schema {schema} to version {next}"))?;
        let next_i32 = next as i32;
        tx.execute(
            "INSERT INTO oretrace_schema (id, version) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            &[&next_i32],
        )
        .await
        .ctx(|| format!("recording version {next} of schema {schema}"))?;
        tx.commit()
            .await
            .ctx(|| format!("committing version {next} of schema {schema}"))?;
    }
}

/// The version recorded in `schema` (0 if it is empty), refusing a schema
/// that holds another application's tables.
async fn current_version(tx: &tokio_postgres::Transaction<'_>, schema: &str) -> Result<i64> {
    let ctx = || format!("reading the schema version of {schema}");
    let row = tx
        .query_one(
            "SELECT \
               (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')), \
               (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = 'oretrace_schema' AND c.relkind = 'r')",
            &[&schema],
        )
        .await
        .ctx(ctx)?;
    let tables: i64 = decode(row.try_get(0), ctx)?;
    let ours: i64 = decode(row.try_get(1), ctx)?;
    if ours == 0 {
        if tables == 0 {
            return Ok(0);
        }
        return Err(Error::Invalid(
            ErrorKind::Incompatible,
            format!(
                "schema {schema} holds {tables} tables of another application and no oretrace_schema table: \
                 it is not an oretrace database (use another schema; nothing was changed)"
            ),
        ));
    }
    let version: Option<i32> = tx
        .query_opt("SELECT version FROM oretrace_schema WHERE id = 1", &[])
        .await
        .ctx(ctx)?
        .map(|r| decode(r.try_get(0), ctx))
        .transpose()?;
    Ok(version.map_or(0, i64::from))
}
