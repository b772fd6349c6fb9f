//! What the PostgreSQL store promises beyond the shared contract (the
//! conformance suite): the sequencer lease fences every write of a
//! former (or never) leader, a takeover waits for a write in flight;
//! databases of a newer build, another application or another log origin
//! are refused; an unreachable database fails as unavailable without
//! showing its password; snapshots read one state; the store recovers
//! from lost connections and works from inside a tokio runtime.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod common;

use std::thread;
use std::time::{Duration, Instant};

use oretrace_ledger::state::{Change, PartyState};
use oretrace_ledger::store::{ErrorKind, StateView as _, Store};
use oretrace_store_postgres::{PgConfig, PgStore, SCHEMA_VERSION, redact};

use common::{Admin, Schemas, batch, row};

fn lead(store: &PgStore, node: &str, ttl: Duration) -> u64 {
    store
        .try_lead(node, &format!("http://{node}:8080"), ttl)
        .unwrap()
        .unwrap_or_else(|| panic!("{node} could not take the lease"))
}

#[test]
fn a_former_leader_is_fenced_and_writes_nothing() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let a = PgStore::connect(&schemas.config(&schema)).unwrap();
    let b = PgStore::connect(&schemas.config(&schema)).unwrap();
    assert_eq!(a.leader().unwrap(), None);
    let ea = lead(&a, "a", Duration::from_millis(1500));
    assert_eq!(a.epoch(), Some(ea));
    // While A's lease lives, B cannot take it.
    assert_eq!(
        b.try_lead("b", "http://b", Duration::from_secs(30))
            .unwrap(),
        None
    );
    a.integrate(&batch(0, 2)).unwrap();
    assert!(a.swap_checkpoint(None, b"checkpoint 2").unwrap());
    let leader = b.leader().unwrap().unwrap();
    assert_eq!((leader.node.as_str(), leader.epoch), ("a", ea));
    assert_eq!(leader.advertise, "http://a:8080");

    // A's lease expires (it stops renewing); B takes over.
    thread::sleep(Duration::from_millis(1800));
    assert!(b.leader().unwrap().unwrap().expired);
    let eb = lead(&b, "b", Duration::from_secs(30));
    assert_eq!(eb, ea + 1);

    let err = a.integrate(&batch(2, 1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fenced, "{err}");
    assert!(
        err.to_string().contains(&format!("node b at epoch {eb}")),
        "{err}"
    );
    let err = a
        .swap_checkpoint(Some(b"checkpoint 2"), b"checkpoint 3")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fenced, "{err}");
    for err in [
        a.clear_projections().unwrap_err(),
        a.apply_changes(&[], 2).unwrap_err(),
        a.finish_rebuild().unwrap_err(),
        // A demoted node delivers no more: a subscription's batch cannot
        // be recorded, nor a named query or subscription made.
        a.advance_subscription("s", 0, "{}", None).unwrap_err(),
        a.insert_named_query(
            &oretrace_ledger::store::NamedQueryRow {
                name: "q".into(),
                owner: "fwo".into(),
                query: "{}".into(),
            },
            oretrace_ledger::store::Quota {
                per_owner: 9,
                total: 9,
            },
        )
        .unwrap_err(),
        a.delete_subscription("s", "fwo").unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Fenced, "{err}");
    }
    // Nothing of them is stored.
    assert_eq!(b.size().unwrap(), 2);
    assert_eq!(b.entry(2).unwrap(), None);
    assert_eq!(b.find_record(&row(2).record_hash).unwrap(), None);
    assert_eq!(
        b.checkpoint().unwrap().as_deref(),
        Some(&b"checkpoint 2"[..])
    );
    assert_eq!(b.rebuild_progress().unwrap(), None);
    // A learns it lost the lease, and cannot take it back while B lives.
    assert!(!a.renew().unwrap());
    assert_eq!(a.epoch(), None);
    assert_eq!(
        a.try_lead("a", "http://a", Duration::from_secs(30))
            .unwrap(),
        None
    );
    // B writes on.
    b.integrate(&batch(2, 1)).unwrap();
    assert!(b.renew().unwrap());
    assert_eq!(b.size().unwrap(), 3);
    // B resigns: A may lead again, at the next epoch, and B is fenced.
    b.resign().unwrap();
    assert_eq!(b.epoch(), None);
    assert_eq!(lead(&a, "a", Duration::from_secs(30)), eb + 1);
    let err = b.integrate(&batch(3, 1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fenced, "{err}");
    a.integrate(&batch(3, 1)).unwrap();
    assert_eq!(a.size().unwrap(), 4);
}

#[test]
fn a_handle_that_never_led_writes_nothing() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let store = PgStore::connect(&schemas.config(&schema)).unwrap();
    assert_eq!(store.epoch(), None);
    assert!(!store.renew().unwrap());
    for err in [
        store.integrate(&batch(0, 1)).unwrap_err(),
        store
            .swap_checkpoint(None, b"checkpoint")
            .map(|_| ())
            .unwrap_err(),
        store.clear_projections().unwrap_err(),
        store.apply_changes(&[], 0).unwrap_err(),
        store.finish_rebuild().unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Fenced, "{err}");
    }
    // Also while another handle leads.
    let leader = PgStore::connect(&schemas.config(&schema)).unwrap();
    lead(&leader, "leader", Duration::from_secs(30));
    let err = store.integrate(&batch(0, 1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fenced, "{err}");
    assert!(err.to_string().contains("leader"), "{err}");
    assert_eq!(store.size().unwrap(), 0);
    assert_eq!(store.checkpoint().unwrap(), None);
    leader.integrate(&batch(0, 1)).unwrap();
    assert_eq!(store.size().unwrap(), 1);
}

/// A takeover waits for the lease row's lock held by a write in flight
/// (here held up by a lock on the checkpoint table): it gives up rather
/// than interleave, the write commits, and only then does the takeover
/// pass; the former leader's next write is fenced.
#[test]
fn a_takeover_waits_for_a_write_in_flight() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    // A's sessions are named, so that the test can see them wait.
    let app = common::random_schema("oretrace_a");
    let mut config = schemas.config(&schema);
    config.url = format!("{}?application_name={app}", common::url());
    let a = PgStore::connect(&config).unwrap();
    let b = PgStore::connect(&schemas.config(&schema)).unwrap();
    let ea = lead(&a, "a", Duration::from_millis(300));
    a.integrate(&batch(0, 1)).unwrap();
    thread::sleep(Duration::from_millis(500)); // A's lease has expired.

    let admin = Admin::connect();
    admin.exec(&format!(
        "BEGIN; LOCK TABLE \"{schema}\".checkpoint IN ACCESS EXCLUSIVE MODE"
    ));
    thread::scope(|s| {
        let write = s.spawn(|| a.swap_checkpoint(None, b"checkpoint 1"));
        // A's write has passed the fence and waits on the checkpoint (in
        // the statement reading it, or in preparing that statement, which
        // pg_stat_activity does not report as running).
        let waiting = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' \
             AND wait_event_type = 'Lock'"
        );
        let since = Instant::now();
        while admin.text(&waiting).as_deref() != Some("1") {
            assert!(
                since.elapsed() < Duration::from_secs(20),
                "A's write never reached the lock: {:?}",
                admin.text(&format!(
                    "SELECT string_agg(concat_ws(' | ', state, wait_event_type, wait_event, query), E'\\n') \
                     FROM pg_stat_activity WHERE application_name = '{app}'"
                ))
            );
            thread::sleep(Duration::from_millis(20));
        }
        assert!(!write.is_finished());
        let started = Instant::now();
        assert_eq!(
            b.try_lead("b", "http://b", Duration::from_secs(30))
                .unwrap(),
            None
        );
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(b.leader().unwrap().unwrap().epoch, ea);
        // The takeover queues behind the write; the write commits first.
        let takeover = s.spawn(|| {
            loop {
                if let Some(epoch) = b
                    .try_lead("b", "http://b", Duration::from_secs(30))
                    .unwrap()
                {
                    return epoch;
                }
            }
        });
        thread::sleep(Duration::from_millis(200));
        admin.exec("COMMIT");
        assert!(
            write.join().unwrap().unwrap(),
            "the write in flight commits"
        );
        assert_eq!(takeover.join().unwrap(), ea + 1);
    });
    assert_eq!(
        b.checkpoint().unwrap().as_deref(),
        Some(&b"checkpoint 1"[..])
    );
    let err = a
        .swap_checkpoint(Some(b"checkpoint 1"), b"checkpoint 2")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fenced, "{err}");
    assert_eq!(
        b.checkpoint().unwrap().as_deref(),
        Some(&b"checkpoint 1"[..])
    );
}

#[test]
fn a_newer_schema_version_is_refused_untouched() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let store = PgStore::connect(&schemas.config(&schema)).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    let admin = Admin::connect();
    admin.exec(&format!(
        "UPDATE \"{schema}\".oretrace_schema SET version = 7"
    ));
    let err = PgStore::connect(&schemas.config(&schema)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Incompatible, "{err}");
    let text = err.to_string();
    assert!(text.contains("version 7"), "{text}");
    assert!(
        text.contains(&format!("version {SCHEMA_VERSION}")),
        "{text}"
    );
    assert!(text.contains("run a newer oretrace"), "{text}");
    assert_eq!(
        admin
            .text(&format!("SELECT version FROM \"{schema}\".oretrace_schema"))
            .as_deref(),
        Some("7")
    );
}

#[test]
fn a_schema_of_another_application_is_refused() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let admin = Admin::connect();
    admin.exec(&format!(
        "CREATE SCHEMA \"{schema}\"; CREATE TABLE \"{schema}\".invoices (id integer)"
    ));
    let err = PgStore::connect(&schemas.config(&schema)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Incompatible, "{err}");
    assert!(err.to_string().contains("another application"), "{err}");
    // Nothing was created.
    assert_eq!(
        admin
            .text(&format!(
                "SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}'"
            ))
            .as_deref(),
        Some("1")
    );
}

#[test]
fn a_bad_schema_name_is_refused() {
    let err = PgStore::connect(&PgConfig::new(common::url()).with_schema("x\"; DROP TABLE y; --"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Incompatible, "{err}");
}

#[test]
fn the_log_origin_is_bound_once() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let store = PgStore::connect(&schemas.config(&schema)).unwrap();
    store.bind_origin("example.org/log-a").unwrap();
    store.bind_origin("example.org/log-a").unwrap();
    let other = PgStore::connect(&schemas.config(&schema)).unwrap();
    let err = other.bind_origin("example.org/log-b").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Incompatible, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("example.org/log-a") && text.contains("example.org/log-b"),
        "{text}"
    );
}

#[test]
fn an_unreachable_database_is_unavailable_and_its_password_hidden() {
    let mut config = PgConfig::new("postgres://u:secret@127.0.0.1:1/db");
    config.connect_timeout = Duration::from_secs(3);
    assert!(!format!("{config:?}").contains("secret"));
    let started = Instant::now();
    let err = PgStore::connect(&config).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.is_retryable());
    let text = err.to_string();
    assert!(!text.contains("secret"), "{text}");
    assert!(!format!("{err:?}").contains("secret"), "{err:?}");
    assert!(text.contains("postgres://u:***@127.0.0.1:1/db"), "{text}");
}

#[test]
fn redact_hides_passwords() {
    assert_eq!(
        redact("postgres://u:secret@h:5432/db?sslmode=disable"),
        "postgres://u:***@h:5432/db?sslmode=disable"
    );
    assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    // Characters that end an authority, unencoded in a password.
    for password in ["ab/cdSECRET", "ab?cd", "ab#cd", "a@b/c"] {
        assert_eq!(
            redact(&format!("postgres://u:{password}@127.0.0.1:1/x")),
            "postgres://u:***@127.0.0.1:1/x",
            "{password}"
        );
    }
    assert_eq!(
        redact("postgresql://h/db?user=u&password=secret&x=1"),
        "postgresql://h/db?user=u&password=***&x=1"
    );
    assert_eq!(
        redact("host=h user=u password=secret dbname=d"),
        "host=h user=u password=*** dbname=d"
    );
    assert_eq!(
        redact("host=h password='se cret' dbname=d"),
        "host=h password=*** dbname=d"
    );
}

fn party(id: &str, index: u64) -> PartyState {
    use oretrace_domain::record::{Figures, Party, PartyKind};
    use oretrace_domain::values::{Country, PartyId, Text, Timestamp};
    let record = Party {
        id: PartyId::parse(id).unwrap(),
        name: Text::parse(&format!("Party {id}")).unwrap(),
        kind: PartyKind::Company,
        country: Country::parse("PK").unwrap(),
        keys: vec![
            oretrace_tlog::note::NoteSigner::from_seed(&format!("{id}/k1"), [7; 32])
                .unwrap()
                .verifier(),
        ],
        owners: vec![],
        time: Timestamp::parse("2025-09-08T10:00:00Z").unwrap(),
        figures: Figures::Illustrative,
    };
    PartyState::new(record, index, vec![])
}

#[test]
fn a_snapshot_reads_one_state_while_another_handle_integrates() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let writer = PgStore::connect(&schemas.config(&schema)).unwrap();
    lead(&writer, "writer", Duration::from_secs(30));
    let reader = PgStore::connect(&schemas.config(&schema)).unwrap();
    let mut b = batch(0, 1);
    b.changes = vec![Change::PutParty(party("one", 0))];
    writer.integrate(&b).unwrap();

    let snapshot = reader.snapshot().unwrap();
    assert!(snapshot.party("one").unwrap().is_some());
    let mut b = batch(1, 1);
    b.changes = vec![Change::PutParty(party("two", 1))];
    writer.integrate(&b).unwrap();
    // The snapshot still sees the state it began with.
    assert!(snapshot.party("two").unwrap().is_none());
    assert_eq!(snapshot.entry(1).unwrap(), None);
    assert_eq!(snapshot.find_record(&row(1).record_hash).unwrap(), None);
    // The store itself sees the new one.
    assert!(reader.party("two").unwrap().is_some());
    assert_eq!(reader.entry(1).unwrap(), Some(row(1).entry));
    // A snapshot may sit idle between reads longer than a write may.
    thread::sleep(Duration::from_millis(2500));
    assert!(snapshot.party("two").unwrap().is_none());
    drop(snapshot);
    // Its connection went back to the pool without its transaction.
    let again = reader.snapshot().unwrap();
    assert!(again.party("two").unwrap().is_some());
}

/// The contract is called from tokio's async worker threads: nothing
/// there may call `block_on`, and dropping the store there must not
/// panic.
#[test]
fn works_from_inside_a_tokio_runtime() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let config = schemas.config(&schema);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = PgStore::connect(&config).unwrap();
        lead(&store, "async", Duration::from_secs(30));
        store.integrate(&batch(0, 3)).unwrap();
        assert_eq!(store.size().unwrap(), 3);
        let store = tokio::task::spawn(async move {
            assert_eq!(store.read_entries(0, 3).unwrap().len(), 3);
            store
        })
        .await
        .unwrap();
        drop(store);
    });
}

/// Connections the server ends (as a restart does) are replaced: calls
/// may fail as unavailable while they are found broken, then work again.
#[test]
fn the_store_recovers_from_lost_connections() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let app = common::random_schema("oretrace_app");
    let mut config = schemas.config(&schema);
    config.url = format!("{}?application_name={app}", common::url());
    let store = PgStore::connect(&config).unwrap();
    lead(&store, "node", Duration::from_secs(30));
    store.integrate(&batch(0, 1)).unwrap();
    let admin = Admin::connect();
    let killed = admin
        .text(&format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{app}'"
        ))
        .unwrap();
    assert_ne!(killed, "0");
    let mut worked = false;
    for _ in 0..5 {
        match store.size() {
            Ok(size) => {
                assert_eq!(size, 1);
                worked = true;
                break;
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}"),
        }
    }
    assert!(worked, "the store did not recover");
    store.integrate(&batch(1, 1)).unwrap();
    assert_eq!(store.size().unwrap(), 2);
}

#[test]
fn integrate_refusals_write_nothing() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let store = PgStore::connect(&schemas.config(&schema)).unwrap();
    lead(&store, "node", Duration::from_secs(30));
    store.integrate(&batch(0, 2)).unwrap();
    // Not the next index; out of order; a record twice in a batch; a
    // record already stored; a hash already stored.
    let mut twice = batch(2, 2);
    twice.entries[1].record_hash = twice.entries[0].record_hash;
    let mut replay = batch(2, 1);
    replay.entries[0].record_hash = row(0).record_hash;
    let mut rehash = batch(2, 1);
    rehash.hashes.push((
        oretrace_tlog::tree::NodeId::new(0, 1),
        oretrace_tlog::hash::Hash([9; 32]),
    ));
    let mut swapped = batch(2, 2);
    swapped.entries.swap(0, 1);
    for bad in [batch(3, 1), swapped, twice, replay, rehash] {
        let err = store.integrate(&bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    }
    assert_eq!(store.size().unwrap(), 2);
    let err = store.read_entries(1, 2).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = store
        .read_hashes(&[oretrace_tlog::tree::NodeId::new(0, 5)])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = store
        .read_hashes(&[oretrace_tlog::tree::NodeId::new(0, u64::MAX)])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    // A 1000-entry batch goes in whole.
    store.integrate(&batch(2, 1000)).unwrap();
    assert_eq!(store.size().unwrap(), 1002);
    assert_eq!(store.read_entries(500, 3).unwrap()[0], row(500).entry);
}

#[test]
fn sessions_run_in_the_schema_with_timeouts_and_durable_commits() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let store = PgStore::connect(&schemas.config(&schema)).unwrap();
    let settings = store.settings().unwrap();
    assert_eq!(settings.current_schema, schema);
    assert_eq!(settings.search_path, format!("\"{schema}\""));
    assert_eq!(settings.idle_in_transaction_session_timeout, "2s");
    assert_eq!(settings.statement_timeout, "30s");
    assert_eq!(settings.synchronous_commit, "on");
    assert_eq!(settings.tcp_keepalives_idle, "30");
    assert_eq!(store.schema(), schema);
}

#[test]
fn nodes_starting_at_once_migrate_one_after_the_other() {
    let schemas = Schemas::new();
    let schema = schemas.fresh();
    let versions: Vec<u32> = thread::scope(|s| {
        let nodes: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    PgStore::connect(&schemas.config(&schema))
                        .unwrap()
                        .schema_version()
                        .unwrap()
                })
            })
            .collect();
        nodes.into_iter().map(|n| n.join().unwrap()).collect()
    });
    assert_eq!(versions, vec![SCHEMA_VERSION; 4]);
}
