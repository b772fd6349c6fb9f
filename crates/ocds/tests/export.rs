//! The OCDS and CSV exports of a sealed, then partly revealed MoU with
//! two versions, a countersignature and progress reports: every package
//! is valid against the official OCDS 1.1.5 schemas and our compiled
//! release equals what PyPI `ocdsmerge` compiles (both pinned in
//! `tests/interop/requirements.txt`, installed into `.venv/interop` by
//! `bash .ci/interop-env`; the test fails without them), and no sealed
//! text appears before its reveal.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

#[path = "support/python_check.rs"]
mod python_check;
use python_check::python_check;

use std::path::PathBuf;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use oretrace_domain::agreement::{
    Agreement, AgreementKind, AgreementStatus, Pledge, Progress, Quantity, ScopedId,
    SourceDocument, Terms,
};
use oretrace_domain::money::{Date, Money};
use oretrace_domain::record::{Figures, Party, PartyKind};
use oretrace_domain::values::{Country, Digest, PartyId, Text, Timestamp, Token};
use oretrace_ledger::agreements::state::{
    AgreementState, ClauseState, Confirmation, DisclosureState, PledgeState, ProgressState,
    VersionState,
};
use oretrace_ledger::state::PartyState;
use oretrace_ocds::{History, Publisher, RevealTime};

const CLAUSE_0: &str = "Clause zero: the parties cooperate on antimony, \"as agreed\".";
const CLAUSE_2: &str = "Clause two: CLAUSE-MARKER-7f3a refinery site, Sindh.";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn id() -> ScopedId {
    ScopedId::parse("fwo:mou-ussm-2025").unwrap()
}

fn party_id(p: &str) -> PartyId {
    PartyId::parse(p).unwrap()
}

fn time(t: &str) -> Timestamp {
    Timestamp::parse(t).unwrap()
}

fn date(d: &str) -> Date {
    Date::parse(d).unwrap()
}

fn text(t: &str) -> Text {
    Text::parse(t).unwrap()
}

fn digest(byte: u8) -> Digest {
    Digest::from_bytes([byte; 32])
}

fn pledges() -> Vec<Pledge> {
    vec![
        Pledge {
            id: Token::parse("invest").unwrap(),
            description: text("Investment in processing"),
            quantity: Some(Quantity::Money(Money::parse("500000000 USD").unwrap())),
            due: date("2026-06-30"),
        },
        Pledge {
            id: Token::parse("refinery").unwrap(),
            description: text("Refinery feasibility study"),
            quantity: None,
            due: date("2025-12-31"),
        },
    ]
}

fn version(n: u32, index: u64, at: &str, count: u32) -> VersionState {
    let record = Agreement {
        id: id(),
        version: n,
        amends: (n > 1).then(|| n - 1),
        title: text("MoU on critical minerals"),
        kind: AgreementKind::Mou,
        parties: vec![party_id("fwo"), party_id("ussm")],
        signed: date("2025-09-08"),
        place: text("Washington"),
        status: if n == 1 {
            AgreementStatus::Signed
        } else {
            AgreementStatus::InForce
        },
        commodities: vec![Token::parse("antimony").unwrap()],
        sites: vec![],
        lots: vec![],
        value: Some(Money::parse("500000000 USD").unwrap()),
        pledges: pledges(),
        documents: vec![SourceDocument {
            digest: digest(0xd0),
            title: text("Signing ceremony press release"),
        }],
        terms: Terms::Sealed {
            root: digest(0x10 + n as u8),
            count,
            reason: text("Commercially sensitive until financing closes"),
            disclose_by: date("2026-03-01"),
        },
        time: time(at),
        figures: Figures::Reported,
    };
    VersionState::new(record, index, party_id("fwo"), digest(0x20 + n as u8))
}

fn clause(n: u32, text: &str) -> ClauseState {
    ClauseState {
        agreement: id(),
        version: 2,
        clause: n,
        salt: [7; 32],
        text: text.to_owned(),
        index: 30,
        by: party_id("ussm"),
    }
}

fn progress(
    index: u64,
    pledge: &str,
    delivered: Option<&str>,
    complete: bool,
    figures: Figures,
) -> ProgressState {
    ProgressState::new(
        Progress {
            agreement: id(),
            pledge: Token::parse(pledge).unwrap(),
            delivered: delivered.map(|d| Quantity::Money(Money::parse(d).unwrap())),
            complete,
            date: date("2025-11-20"),
            note: text("Tranche paid"),
            documents: vec![SourceDocument {
                digest: digest(0xe0),
                title: text("Bank confirmation"),
            }],
            records: vec![12],
            time: time(&format!("2025-11-2{}T09:00:00Z", index - 40)),
            figures,
        },
        index,
        party_id("fwo"),
    )
}

fn party(p: &str, name: &str, country: &str, index: u64) -> PartyState {
    PartyState::new(
        Party {
            id: party_id(p),
            name: text(name),
            kind: PartyKind::StateControlledCompany,
            country: Country::parse(country).unwrap(),
            keys: vec![],
            owners: vec![],
            time: time("2025-01-01T00:00:00Z"),
            figures: Figures::Reported,
        },
        index,
        vec![],
    )
}

struct Fixture {
    agreement: AgreementState,
    versions: Vec<VersionState>,
    clauses: Vec<ClauseState>,
    reveals: Vec<RevealTime>,
    progress: Vec<ProgressState>,
    parties: Vec<PartyState>,
}

/// Version 1 sealed (3 clauses), version 2 sealed (4 clauses),
/// countersigned by ussm, clauses 0 and 2 of version 2 revealed, then
/// two progress reports (one illustrative).
fn fixture(revealed: bool) -> Fixture {
    let v1 = version(1, 10, "2025-09-08T10:00:00Z", 3);
    let mut v2 = version(2, 20, "2025-10-01T10:00:00Z", 4);
    v2.confirm(Confirmation {
        party: party_id("ussm"),
        index: 21,
        time: time("2025-10-02T08:00:00Z"),
    });
    let clauses = if revealed {
        v2.reveal([0, 2]);
        vec![clause(2, CLAUSE_2), clause(0, CLAUSE_0)]
    } else {
        vec![]
    };
    let progress = vec![
        progress(
            40,
            "invest",
            Some("120000000.5 USD"),
            false,
            Figures::Reported,
        ),
        progress(41, "refinery", None, true, Figures::Illustrative),
    ];
    let mut states: Vec<PledgeState> = pledges().iter().map(PledgeState::new).collect();
    states[0].delivered = Decimal::new(1_200_000_005, 1);
    states[0].reports = 1;
    states[0].last_report = Some(date("2025-11-20"));
    states[1].complete = true;
    states[1].reports = 1;
    states[1].last_report = Some(date("2025-11-20"));
    let agreement = AgreementState {
        id: id(),
        title: text("MoU on critical minerals"),
        kind: AgreementKind::Mou,
        status: AgreementStatus::InForce,
        latest: 2,
        parties: vec![party_id("fwo"), party_id("ussm")],
        countries: vec![Country::parse("PK").unwrap(), Country::parse("US").unwrap()],
        commodities: vec![Token::parse("antimony").unwrap()],
        signed: date("2025-09-08"),
        disclosure: v2.disclosure(),
        clauses: Some(4),
        revealed: v2.revealed().len() as u32,
        disclose_by: Some(date("2026-03-01")),
        pledges: states,
        figures: Figures::Illustrative,
        index: 41,
        registered: 10,
    };
    Fixture {
        agreement,
        versions: vec![v2, v1],
        clauses,
        reveals: vec![RevealTime {
            index: 30,
            time: time("2025-10-15T12:00:00Z"),
        }],
        progress,
        parties: vec![
            party("fwo", "Frontier Works Organization", "PK", 2),
            party("ussm", "US Strategic Metals", "US", 3),
        ],
    }
}

impl Fixture {
    fn history(&self) -> History<'_> {
        History {
            agreement: &self.agreement,
            versions: &self.versions,
            clauses: &self.clauses,
            reveals: &self.reveals,
            progress: &self.progress,
            parties: &self.parties,
        }
    }
}

const PUBLISHER: Publisher<'static> = Publisher {
    prefix: "or7race",
    name: "oretrace demo registry",
    base_url: "https://registry.example/v1",
};

#[test]
fn packages_are_valid_and_compile_as_ocdsmerge_does() {
    let published = time("2026-01-10T00:00:00Z");
    let sealed = fixture(false);
    let revealed = fixture(true);
    let mut release_packages = Vec::new();
    let mut record_packages = Vec::new();
    for f in [&sealed, &revealed] {
        let releases = oretrace_ocds::releases(PUBLISHER, f.history()).unwrap();
        release_packages.push(oretrace_ocds::release_package(
            PUBLISHER,
            "https://registry.example/v1/exports/ocds/releases.json",
            &published,
            &releases,
        ));
        record_packages.push(
            oretrace_ocds::record_package(
                PUBLISHER,
                "https://registry.example/v1/exports/ocds/records.json",
                &published,
                &[f.history()],
            )
            .unwrap(),
        );
    }
    let answer = python_check(&root(), &release_packages, &record_packages);
    assert_eq!(answer["errors"], json!([]), "schema errors");
    let theirs = answer["compiled"].as_array().unwrap();
    let ours: Vec<&Value> = record_packages
        .iter()
        .flat_map(|p| p["records"].as_array().unwrap())
        .map(|r| &r["compiledRelease"])
        .collect();
    assert_eq!(theirs.len(), 2);
    for (ours, theirs) in ours.iter().zip(theirs) {
        assert_eq!(*ours, theirs);
    }
    // The compiled release is the current state: version 2 in force,
    // countersignature and both revealed clauses among the documents,
    // both milestones met or partly delivered.
    let compiled = ours[1];
    let contract = &compiled["contracts"][0];
    assert_eq!(compiled["tag"], json!(["compiled"]));
    assert_eq!(contract["status"], "active");
    assert_eq!(
        contract["amendments"][0]["amendsReleaseID"],
        "fwo:mou-ussm-2025-10"
    );
    let documents: Vec<&str> = contract["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(documents.contains(&"countersignature-21"), "{documents:?}");
    assert!(documents.contains(&"v2-clause-0") && documents.contains(&"v2-clause-2"));
    assert_eq!(contract["milestones"][1]["status"], "met");
    assert_eq!(contract["milestones"][0]["status"], "scheduled");
    assert_eq!(
        contract["implementation"]["transactions"][0]["value"],
        json!({"amount": 120000000.5, "currency": "USD"})
    );
}

#[test]
fn releases_follow_the_mapping() {
    let f = fixture(true);
    let releases = oretrace_ocds::releases(PUBLISHER, f.history()).unwrap();
    let summary: Vec<(&str, &str)> = releases
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["tag"][0].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("fwo:mou-ussm-2025-10", "contract"),
            ("fwo:mou-ussm-2025-20", "contractAmendment"),
            ("fwo:mou-ussm-2025-21", "contractUpdate"),
            ("fwo:mou-ussm-2025-30", "contractUpdate"),
            ("fwo:mou-ussm-2025-40", "implementation"),
            ("fwo:mou-ussm-2025-41", "implementation"),
        ]
    );
    assert!(
        releases
            .iter()
            .all(|r| r["ocid"] == "ocds-or7race-fwo:mou-ussm-2025")
    );
    assert_eq!(releases[0]["date"], "2025-09-08T10:00:00Z");
    assert_eq!(
        releases[0]["contracts"][0]["value"]["amount"],
        json!(500000000)
    );
    assert_eq!(releases[0]["contracts"][0]["status"], "pending");
    assert_eq!(
        releases[0]["parties"][0]["name"],
        "Frontier Works Organization"
    );
    let counter = &releases[2]["contracts"][0];
    assert_eq!(counter["documents"][0]["documentType"], "contractSigned");
    assert!(
        counter["description"]
            .as_str()
            .unwrap()
            .contains("Confirmed by ussm")
    );
    let reveal = &releases[3]["contracts"][0]["documents"];
    assert_eq!(reveal[0]["id"], "v2-clause-0");
    assert_eq!(reveal[1]["id"], "v2-clause-2");
    assert_eq!(reveal[0]["documentType"], "contractText");
    assert!(
        releases[5]["contracts"][0]["milestones"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("Illustrative figures")
    );
    assert!(
        !releases[4]["contracts"][0]["milestones"][0]["description"]
            .as_str()
            .unwrap()
            .contains("Illustrative")
    );
}

#[test]
fn sealed_text_appears_only_from_its_reveal() {
    let f = fixture(true);
    let releases = oretrace_ocds::releases(PUBLISHER, f.history()).unwrap();
    for r in &releases {
        let text = r.to_string();
        let is_reveal = r["id"] == "fwo:mou-ussm-2025-30";
        for clause in [CLAUSE_2, "CLAUSE-MARKER-7f3a"] {
            assert_eq!(text.contains(clause), is_reveal, "release {}", r["id"]);
        }
    }
    // A sealed version states its commitment, never its text.
    let v2 = releases[1]["contracts"][0]["description"].as_str().unwrap();
    assert!(
        v2.contains("Text sealed") && v2.contains(&digest(0x12).to_string()),
        "{v2}"
    );
    assert!(
        v2.contains("4 clauses") && v2.contains("2026-03-01"),
        "{v2}"
    );
    let reveal = releases[3].to_string();
    assert!(reveal.contains("CLAUSE-MARKER-7f3a") && reveal.contains("as agreed"));

    // Sealed: no release at all carries clause text.
    let sealed = fixture(false);
    let before = oretrace_ocds::releases(PUBLISHER, sealed.history()).unwrap();
    assert!(
        before
            .iter()
            .all(|r| !r.to_string().contains("CLAUSE-MARKER"))
    );
    assert!(
        before
            .iter()
            .all(|r| !r.to_string().contains("contractText"))
    );

    let today = date("2026-04-01");
    for csv in [
        oretrace_ocds::agreements_csv(std::slice::from_ref(&f.agreement), today),
        oretrace_ocds::pledges_csv(std::slice::from_ref(&f.agreement), today),
    ] {
        assert!(
            !csv.contains("CLAUSE-MARKER") && !csv.contains("Clause"),
            "{csv}"
        );
    }
}

#[test]
fn csv_rows_are_computed_for_the_day_and_quoted() {
    let f = fixture(true);
    let early =
        oretrace_ocds::agreements_csv(std::slice::from_ref(&f.agreement), date("2026-01-01"));
    let late =
        oretrace_ocds::agreements_csv(std::slice::from_ref(&f.agreement), date("2026-04-01"));
    let lines: Vec<&str> = early.split("\r\n").collect();
    assert_eq!(lines.len(), 3, "header, one row, the final CRLF");
    assert!(lines[0].starts_with("id,title,kind,status,version,"));
    assert_eq!(
        lines[1],
        "fwo:mou-ussm-2025,MoU on critical minerals,mou,in-force,2,fwo;ussm,PK;US,antimony,\
         2025-09-08,partly-disclosed,4,2,2026-03-01,no,no,2,10,41,illustrative"
    );
    assert!(
        late.contains("2026-03-01,yes,yes,2,10,41,illustrative"),
        "{late}"
    );
    assert_eq!(f.agreement.disclosure, DisclosureState::PartlyDisclosed);

    let pledges =
        oretrace_ocds::pledges_csv(std::slice::from_ref(&f.agreement), date("2026-07-01"));
    let rows: Vec<&str> = pledges.split("\r\n").collect();
    assert_eq!(
        rows[1],
        "fwo:mou-ussm-2025,invest,Investment in processing,2026-06-30,500000000,USD,\
         120000000.5,no,partly-met,yes,1,2025-11-20,illustrative"
    );
    assert!(rows[2].contains(",met,no,"), "{}", rows[2]);

    let mut quoted = f.agreement.clone();
    quoted.title = text("MoU, \"phase one\"");
    let csv = oretrace_ocds::agreements_csv(&[quoted], date("2026-01-01"));
    assert!(csv.contains(",\"MoU, \"\"phase one\"\"\",mou,"), "{csv}");
}
