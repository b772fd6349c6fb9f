//! The rows agreements, their versions, revealed clauses and progress
//! reports, reports and resource estimates leave in their tables, pinned
//! byte for byte
//! (`tests/golden/agreement-rows.jsonl`), so a database written by an
//! earlier build reads the same; a stored document that breaks a rule is
//! a store error; and the filtered listing of 100,000 agreements is
//! answered from the indexes. `ORETRACE_UPDATE_GOLDEN=1` rewrites the
//! file.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use oretrace_domain::agreement::{
    Agreement, AgreementKind, AgreementStatus, Pledge, Progress, Quantity, Report, ReportStatus,
    ReportingCode, ResourceClass, ResourceEstimate, ResourceGrade, ScopedId, Source, Terms,
};
use oretrace_domain::chemistry::{Analyte, GradeUnit};
use oretrace_domain::money::{Currency, Date, Money};
use oretrace_domain::record::Figures;
use oretrace_domain::values::{
    Country, Digest, Mass, MassUnit, PartyId, SiteId, Text, Timestamp, Token,
};
use oretrace_ledger::agreements::{
    AgreementState, ClauseState, Confirmation, DisclosureState, PledgeState, ProgressState,
    ReportState, ResourceState, Select, VersionState,
};
use oretrace_ledger::state::Change;
use oretrace_ledger::store::{StateView as _, Store};
use oretrace_store_sqlite::{DB_FILE, SqliteStore};
use rust_decimal::Decimal;
use serde_json::json;

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

/// Agreement `n` of a registry: parties, countries, status, disclosure
/// and pledges vary with `n`, so that filters pick different subsets.
fn agreement(n: u32) -> AgreementState {
    let parties: Vec<PartyId> = [
        "fwo".to_owned(),
        format!("p{}", n % 50),
        if n.is_multiple_of(7) {
            "ussm".into()
        } else {
            "nmc".into()
        },
    ]
    .iter()
    .map(|p| PartyId::parse(p).unwrap())
    .collect();
    let countries: Vec<Country> = if n.is_multiple_of(7) {
        vec!["PK", "US"]
    } else {
        vec!["PK"]
    }
    .into_iter()
    .map(|c| Country::parse(c).unwrap())
    .collect();
    let sealed = n.is_multiple_of(3);
    let status = match n % 4 {
        0 => AgreementStatus::Signed,
        1 | 2 => AgreementStatus::InForce,
        _ => AgreementStatus::Terminated,
    };
    AgreementState {
        id: ScopedId::parse(&format!("fwo:agreement-{n:06}")).unwrap(),
        title: Text::parse(&format!("Agreement «{n}»")).unwrap(),
        kind: if n.is_multiple_of(2) {
            AgreementKind::Offtake
        } else {
            AgreementKind::Mou
        },
        status,
        latest: 1 + n % 3,
        parties,
        countries,
        commodities: vec![Token::parse("antimony").unwrap()],
        signed: date("2025-09-08"),
        disclosure: if sealed {
            DisclosureState::Sealed
        } else {
            DisclosureState::Public
        },
        clauses: sealed.then_some(12),
        revealed: 0,
        disclose_by: sealed.then(|| date(&format!("2026-{:02}-01", 1 + n % 12))),
        pledges: vec![PledgeState {
            id: Token::parse("p1").unwrap(),
            description: Text::parse("first payment, 12.5 % of the total").unwrap(),
            due: date(&format!("2027-{:02}-15", 1 + n % 12)),
            pledged: Some(Decimal::new(1_250_000_005, 2)),
            unit: Some("USD".into()),
            delivered: Decimal::from(n % 5),
            complete: false,
            reports: n % 5,
            last_report: (!n.is_multiple_of(5)).then(|| date("2025-10-01")),
        }],
        figures: Figures::Illustrative,
        index: u64::from(n) * 2 + 1,
        registered: u64::from(n) * 2,
    }
}

fn clause(n: u32, clause: u32) -> ClauseState {
    ClauseState {
        agreement: ScopedId::parse(&format!("fwo:agreement-{n:06}")).unwrap(),
        version: 1,
        clause,
        salt: [clause as u8 ^ 0xa5; 32],
        text: format!("Clause {clause}:\n\tthe parties agree — «{n}»."),
        index: 40 + u64::from(clause),
        by: PartyId::parse("fwo").unwrap(),
    }
}

fn time(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// Version 2 of agreement 3, sealed, confirmed by ussm, two clauses
/// revealed.
fn version() -> VersionState {
    let record = Agreement {
        id: ScopedId::parse("fwo:agreement-000003").unwrap(),
        version: 2,
        amends: Some(1),
        title: Text::parse("Agreement «3», amended").unwrap(),
        kind: AgreementKind::Offtake,
        parties: vec![
            PartyId::parse("fwo").unwrap(),
            PartyId::parse("ussm").unwrap(),
        ],
        signed: date("2025-09-08"),
        place: Text::parse("Islamabad").unwrap(),
        status: AgreementStatus::Amended,
        commodities: vec![Token::parse("antimony").unwrap()],
        sites: vec![],
        lots: vec![],
        value: Some(
            Money::new(
                Decimal::new(50_000_000_005, 1),
                Currency::parse("USD").unwrap(),
            )
            .unwrap(),
        ),
        pledges: vec![Pledge {
            id: Token::parse("p1").unwrap(),
            description: Text::parse("20 t of concentrate").unwrap(),
            quantity: Some(Quantity::Mass(
                Mass::new(Decimal::from(20), MassUnit::Tonne).unwrap(),
            )),
            due: date("2026-03-01"),
        }],
        documents: vec![],
        terms: Terms::Sealed {
            root: Digest::from_bytes([0x5a; 32]),
            count: 12,
            reason: Text::parse("commercial confidence").unwrap(),
            disclose_by: date("2027-01-01"),
        },
        time: time("2025-09-08T10:00:00Z"),
        figures: Figures::Illustrative,
    };
    let mut state = VersionState::new(
        record,
        9,
        PartyId::parse("fwo").unwrap(),
        Digest::from_bytes([9; 32]),
    );
    state.confirm(Confirmation {
        party: PartyId::parse("ussm").unwrap(),
        index: 10,
        time: time("2025-09-09T10:00:00Z"),
    });
    state.reveal([7, 0]);
    state
}

fn progress() -> ProgressState {
    ProgressState::new(
        Progress {
            agreement: ScopedId::parse("fwo:agreement-000003").unwrap(),
            pledge: Token::parse("p1").unwrap(),
            delivered: Some(Quantity::Mass(
                Mass::new(Decimal::new(125, 1), MassUnit::Tonne).unwrap(),
            )),
            complete: false,
            date: date("2025-10-01"),
            note: Text::parse("first delivery").unwrap(),
            documents: vec![],
            records: vec![4],
            time: time("2025-10-01T10:00:00Z"),
            figures: Figures::Illustrative,
        },
        11,
        PartyId::parse("ussm").unwrap(),
    )
}

fn report() -> ReportState {
    let source = |n: u8| Source {
        title: Text::parse(&format!("Source {n}")).unwrap(),
        publisher: Text::parse("Dawn").unwrap(),
        date: date("2025-09-20"),
        url: Text::parse(&format!("https://example.org/{n}")).unwrap(),
        archive: Some(Digest::from_bytes([n; 32])),
    };
    ReportState::new(
        Report {
            id: ScopedId::parse("fwo:pasni").unwrap(),
            version: 2,
            claim: Text::parse("A port at Pasni was offered").unwrap(),
            topic: Token::parse("port-offer").unwrap(),
            countries: vec![Country::parse("PK").unwrap(), Country::parse("US").unwrap()],
            commodities: vec![],
            value: None,
            sources: vec![source(1)],
            status: ReportStatus::Refuted,
            confirmed_by: None,
            refuted_by: Some(source(2)),
            time: time("2025-09-21T10:00:00Z"),
            figures: Figures::Illustrative,
        },
        PartyId::parse("fwo").unwrap(),
        vec![12, 13],
    )
}

fn resource() -> ResourceState {
    ResourceState::new(
        ResourceEstimate {
            id: ScopedId::parse("fwo:chitral-2025").unwrap(),
            version: 1,
            site: SiteId::parse("fwo-chitral").unwrap(),
            code: ReportingCode::Jorc,
            class: ResourceClass::Inferred,
            effective: date("2025-06-30"),
            tonnes: Decimal::from(1_000_000),
            grades: vec![ResourceGrade {
                analyte: Analyte::parse("Sb").unwrap(),
                value: Decimal::new(25, 1),
                unit: GradeUnit::Percent,
            }],
            contained: vec![],
            competent: Text::parse("A. Geologist").unwrap(),
            documents: vec![],
            time: time("2025-09-21T10:00:00Z"),
            figures: Figures::Illustrative,
        },
        PartyId::parse("fwo").unwrap(),
        Country::parse("PK").unwrap(),
        vec![14],
    )
}

fn changes() -> Vec<Change> {
    (0..4)
        .map(|n| Change::PutAgreement(agreement(n)))
        .chain([clause(3, 7), clause(3, 0)].map(Change::PutClause))
        .chain([
            Change::PutAgreementVersion(version()),
            Change::PutProgress(progress()),
            Change::PutReport(report()),
            Change::PutResource(resource()),
        ])
        .collect()
}

/// `(kind, query of the row as JSON ordered by key, insert from that JSON)`
/// of every table but `agreements` and `agreement_terms`.
const TABLES: [(&str, &str, &str); 6] = [
    (
        "version",
        "SELECT json_object('id', id, 'version', version, 'doc', doc) FROM agreement_versions ORDER BY id, version",
        "INSERT INTO agreement_versions (id, version, doc) SELECT j->>'id', j->>'version', j->>'doc' FROM (SELECT ?1 AS j)",
    ),
    (
        "progress",
        "SELECT json_object('id', id, 'idx', idx, 'doc', doc) FROM agreement_progress ORDER BY id, idx",
        "INSERT INTO agreement_progress (id, idx, doc) SELECT j->>'id', j->>'idx', j->>'doc' FROM (SELECT ?1 AS j)",
    ),
    (
        "report",
        "SELECT json_object('id', id, 'doc', doc) FROM reports ORDER BY id",
        "INSERT INTO reports (id, doc) SELECT j->>'id', j->>'doc' FROM (SELECT ?1 AS j)",
    ),
    (
        "report-term",
        "SELECT json_array(term, id) FROM report_terms ORDER BY id, term",
        "INSERT INTO report_terms (term, id) SELECT j->>0, j->>1 FROM (SELECT ?1 AS j)",
    ),
    (
        "resource",
        "SELECT json_object('id', id, 'doc', doc) FROM resources ORDER BY id",
        "INSERT INTO resources (id, doc) SELECT j->>'id', j->>'doc' FROM (SELECT ?1 AS j)",
    ),
    (
        "resource-term",
        "SELECT json_array(term, id) FROM resource_terms ORDER BY id, term",
        "INSERT INTO resource_terms (term, id) SELECT j->>0, j->>1 FROM (SELECT ?1 AS j)",
    ),
];

fn rows(conn: &rusqlite::Connection) -> Vec<String> {
    let mut lines = Vec::new();
    let mut stmt = conn
        .prepare("SELECT id, doc, overdue_from FROM agreements ORDER BY id")
        .unwrap();
    let agreements = stmt
        .query_map([], |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "doc": r.get::<_, String>(1)?,
                "overdue_from": r.get::<_, Option<String>>(2)?,
            }))
        })
        .unwrap();
    for row in agreements {
        lines.push(format!("agreement {}", row.unwrap()));
    }
    let mut stmt = conn
        .prepare("SELECT term, id FROM agreement_terms ORDER BY id, term")
        .unwrap();
    let terms = stmt
        .query_map([], |r| {
            Ok(json!([r.get::<_, String>(0)?, r.get::<_, String>(1)?]))
        })
        .unwrap();
    for term in terms {
        lines.push(format!("term {}", term.unwrap()));
    }
    let mut stmt = conn
        .prepare(
            "SELECT id, version, clause, doc FROM agreement_clauses ORDER BY id, version, clause",
        )
        .unwrap();
    let clauses = stmt
        .query_map([], |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "version": r.get::<_, i64>(1)?,
                "clause": r.get::<_, i64>(2)?,
                "doc": r.get::<_, String>(3)?,
            }))
        })
        .unwrap();
    for row in clauses {
        lines.push(format!("clause {}", row.unwrap()));
    }
    for (kind, query, _) in TABLES {
        let mut stmt = conn.prepare(query).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        for row in rows {
            lines.push(format!("{kind} {}", row.unwrap()));
        }
    }
    lines
}

#[test]
fn agreement_rows_are_stored_as_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    store.apply_changes(&changes(), 0).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let text: String = rows(&conn).into_iter().map(|l| l + "\n").collect();

    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/agreement-rows.jsonl");
    if std::env::var("ORETRACE_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
    }
    let pinned = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (generate with ORETRACE_UPDATE_GOLDEN=1)",
            path.display()
        )
    });
    for (i, (got, want)) in text.lines().zip(pinned.lines()).enumerate() {
        assert_eq!(got, want, "line {}", i + 1);
    }
    assert_eq!(text.lines().count(), pinned.lines().count());
    drop(conn);
    drop(store);

    // The pinned rows, written into a fresh database as an earlier build
    // wrote them, read back as the same states.
    let fresh = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(fresh.path()).unwrap());
    let conn = rusqlite::Connection::open(fresh.path().join(DB_FILE)).unwrap();
    for line in pinned.lines() {
        let (kind, value) = line.split_once(' ').unwrap();
        let v: serde_json::Value = serde_json::from_str(value).unwrap();
        match kind {
            "agreement" => conn.execute(
                "INSERT INTO agreements (id, doc, overdue_from) VALUES (?1, ?2, ?3)",
                rusqlite::params![
                    v["id"].as_str(),
                    v["doc"].as_str(),
                    v["overdue_from"].as_str()
                ],
            ),
            "term" => conn.execute(
                "INSERT INTO agreement_terms (term, id) VALUES (?1, ?2)",
                rusqlite::params![v[0].as_str(), v[1].as_str()],
            ),
            "clause" => conn.execute(
                "INSERT INTO agreement_clauses (id, version, clause, doc) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![
                    v["id"].as_str(),
                    v["version"].as_i64(),
                    v["clause"].as_i64(),
                    v["doc"].as_str()
                ],
            ),
            other => {
                let (_, _, insert) = TABLES
                    .iter()
                    .find(|(kind, _, _)| *kind == other)
                    .unwrap_or_else(|| panic!("unknown row kind {other}"));
                conn.execute(insert, [value])
            }
        }
        .unwrap();
    }
    drop(conn);
    let store = SqliteStore::open(fresh.path()).unwrap();
    for n in 0..4 {
        let a = agreement(n);
        assert_eq!(store.agreement(a.id.as_str()).unwrap(), Some(a));
    }
    assert_eq!(
        store.clauses("fwo:agreement-000003", 1, None, 10).unwrap(),
        vec![clause(3, 0), clause(3, 7)]
    );
    assert_eq!(
        store.agreement_versions("fwo:agreement-000003").unwrap(),
        vec![version()]
    );
    assert_eq!(
        store.progress("fwo:agreement-000003", None, 10).unwrap(),
        vec![progress()]
    );
    assert_eq!(store.report("fwo:pasni").unwrap(), Some(report()));
    assert_eq!(
        store.resource("fwo:chitral-2025").unwrap(),
        Some(resource())
    );
    let refuted = Select {
        terms: vec!["status:refuted".into(), "country:US".into()],
        limit: 10,
        ..Select::default()
    };
    assert_eq!(store.reports(&refuted).unwrap(), vec![report()]);
    let antimony = Select {
        terms: vec!["element:Sb".into(), "code:jorc".into()],
        limit: 10,
        ..Select::default()
    };
    assert_eq!(store.resources(&antimony).unwrap(), vec![resource()]);
    let overdue = Select {
        terms: vec!["disclosure:sealed".into()],
        overdue_on: Some(date("2026-04-02")),
        limit: 10,
        ..Select::default()
    };
    let found: Vec<String> = store
        .agreements(&overdue)
        .unwrap()
        .into_iter()
        .map(|a| a.id.to_string())
        .collect();
    assert_eq!(found, vec!["fwo:agreement-000000", "fwo:agreement-000003"]);
}

#[test]
fn a_stored_agreement_that_breaks_a_rule_is_a_store_error_when_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    store.apply_changes(&changes(), 0).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let all = Select {
        limit: 100,
        ..Select::default()
    };
    assert_eq!(store.agreements(&all).unwrap().len(), 4);
    // An unknown field, a bad date and a salt of the wrong length.
    let doc: String = conn
        .query_row(
            "SELECT doc FROM agreements WHERE id = 'fwo:agreement-000001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    for (bad, rule) in [
        (doc.replacen('{', "{\"extra\":1,", 1), "unknown field"),
        (doc.replace("2025-09-08", "2025-02-30"), "not a date"),
        ("not json".to_owned(), "expected"),
    ] {
        conn.execute(
            "UPDATE agreements SET doc = ?1 WHERE id = 'fwo:agreement-000001'",
            [&bad],
        )
        .unwrap();
        let err = store.agreement("fwo:agreement-000001").unwrap_err();
        assert_eq!(err.kind(), oretrace_ledger::ErrorKind::Corrupt, "{err}");
        let err = oretrace_ledger::error::detail(&err);
        assert!(
            err.contains("agreement fwo:agreement-000001") && err.contains(rule),
            "{err}"
        );
        assert!(store.agreements(&all).is_err(), "the listing reads it too");
    }
    conn.execute(
        "UPDATE agreements SET doc = ?1 WHERE id = 'fwo:agreement-000001'",
        [&doc],
    )
    .unwrap();
    assert_eq!(store.agreements(&all).unwrap().len(), 4);
    conn.execute(
        "UPDATE agreement_clauses SET doc = replace(doc, '\"salt\":\"', '\"salt\":\"00') WHERE clause = 7",
        [],
    )
    .unwrap();
    let err =
        oretrace_ledger::error::detail(&store.clause("fwo:agreement-000003", 1, 7).unwrap_err());
    assert!(err.contains("salt"), "{err}");
    assert!(store.clauses("fwo:agreement-000003", 1, None, 10).is_err());
}

/// Filtered listings over many agreements agree with the model
/// (`Select::admits`) for rare and common terms, the overdue day and a
/// cursor. (How fast they are is measured by the agreements benchmark,
/// `BENCHMARKS.md` section 7, not here.)
#[test]
fn filtered_listings_of_many_agreements_agree_with_the_model() {
    const N: u32 = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let all: Vec<AgreementState> = (0..N).map(agreement).collect();
    for chunk in all.chunks(10_000) {
        store
            .apply_changes(
                &chunk
                    .iter()
                    .cloned()
                    .map(Change::PutAgreement)
                    .collect::<Vec<_>>(),
                0,
            )
            .unwrap();
    }
    // The counts the listing chooses its walk by are those of the terms
    // table, after the items were written and after their terms were
    // replaced.
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let counts = |sql: &str| -> Vec<(String, i64)> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let kept = "SELECT term, n FROM agreement_term_counts WHERE n > 0 ORDER BY term";
    let actual = "SELECT term, count(*) FROM agreement_terms GROUP BY term ORDER BY term";
    assert_eq!(counts(kept), counts(actual));
    store
        .apply_changes(
            &all[..100]
                .iter()
                .map(|a| {
                    let mut a = a.clone();
                    a.parties.truncate(1);
                    Change::PutAgreement(a)
                })
                .collect::<Vec<_>>(),
            0,
        )
        .unwrap();
    assert_eq!(counts(kept), counts(actual));
    store
        .apply_changes(
            &all[..100]
                .iter()
                .cloned()
                .map(Change::PutAgreement)
                .collect::<Vec<_>>(),
            0,
        )
        .unwrap();
    assert_eq!(counts(kept), counts(actual));
    drop(conn);
    let selects = [
        // A rare term behind a common one.
        vec!["status:signed", "party:p7"],
        vec!["party:ussm", "disclosure:sealed", "kind:offtake"],
        vec!["country:US"],
        vec!["party:nobody", "status:signed"],
        vec![],
    ];
    for terms in selects {
        for overdue_on in [None, Some(date("2026-03-02"))] {
            for after in [None, Some("fwo:agreement-002500")] {
                let select = Select {
                    terms: terms.iter().map(|t| (*t).to_owned()).collect(),
                    overdue_on,
                    after: after.map(str::to_owned),
                    limit: 50,
                };
                let found = store.agreements(&select).unwrap();
                let expected: Vec<&AgreementState> = all
                    .iter()
                    .filter(|a| select.admits(a.id.as_str(), &a.terms(), a.overdue_from()))
                    .take(50)
                    .collect();
                assert_eq!(found.iter().collect::<Vec<_>>(), expected, "{select:?}");
            }
        }
    }
}

/// A database written before agreements existed (schema version 2)
/// gains their tables, as this build writes them, when opened.
#[test]
fn a_database_from_before_agreements_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.agreement("fwo:agreement-000000").unwrap(), None);
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute_batch(
        "DROP TABLE agreement_terms; DROP TABLE agreements; DROP TABLE agreement_versions; \
         DROP TABLE agreement_clauses; DROP TABLE agreement_progress; DROP TABLE report_terms; \
         DROP TABLE reports; DROP TABLE resource_terms; DROP TABLE resources; \
         DROP TABLE agreement_term_counts; DROP TABLE report_term_counts; \
         DROP TABLE resource_term_counts; DROP TABLE rebuild; \
         DROP TABLE subscriptions; DROP TABLE named_queries; PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(
        store.pragmas().unwrap().user_version,
        i64::from(oretrace_store_sqlite::SCHEMA_VERSION)
    );
    store.apply_changes(&changes(), 0).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let pinned = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/agreement-rows.jsonl"),
    )
    .unwrap();
    assert_eq!(rows(&conn), pinned.lines().collect::<Vec<_>>());
}
