//! Golden vectors for the canonical encoding `oretrace.record/v1`, the JSON
//! wire shape and the signed-note log entry.
//!
//! `tests/golden/<name>.record` holds the exact canonical bytes of one
//! example record, `<name>.json` its JSON (`serde_json::to_string_pretty`
//! of `RecordJson::of`), and `party.entry` the signed note of the party
//! record. The tests compare byte for byte. To regenerate the files
//! deliberately (after an intended change of the encoding), run
//!
//! ```text
//! ORETRACE_UPDATE_GOLDEN=1 cargo test -p oretrace-domain --test golden
//! ```
//!
//! and review the diff: a change of a `.record` or `.entry` file is a change
//! of the signed and logged format.
//!
//! The examples follow the reference scenario (the first FWO → USSM sample
//! shipment). Masses, grades, keys, document references and the lab are
//! invented and every such record is marked `figures illustrative`; only
//! the Karachi Port site (gazetteer coordinates) is marked `reported`.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rust_decimal::Decimal;

use oretrace_domain::agreement::{
    Agreement, AgreementKind, AgreementStatus, Countersignature, Pledge, Progress, Quantity,
    Report, ReportStatus, ReportingCode, ResourceClass, ResourceEstimate, ResourceGrade, Reveal,
    RevealedClause, ScopedId, Source, SourceDocument, Terms,
};
use oretrace_domain::canonical::{decode, encode};
use oretrace_domain::chemistry::Element;
use oretrace_domain::chemistry::{Analyte, GradeUnit};
use oretrace_domain::custody::{AttributeClaim, CustodyModel, CustodyModelKind};
use oretrace_domain::disclosure::{Salt, Sealed};
use oretrace_domain::envelope::{EnvelopeJson, SignedRecord};
use oretrace_domain::event::{
    CaptureAuth, CaptureBehaviour, CapturedEvent, EventEncoding, EventId, KeyRef, SignatureLine,
    document_note,
};
use oretrace_domain::money::{Date, Money};
use oretrace_domain::record::*;
use oretrace_domain::values::*;
use oretrace_domain::wire::RecordJson;
use oretrace_domain::{Error, Record};
use oretrace_tlog::note::{NoteSigner, NoteVerifier};

// ---------------------------------------------------------------- fixtures

fn d(text: &str) -> Decimal {
    parse_decimal(text).unwrap()
}

fn kg(text: &str) -> Mass {
    Mass::new(d(text), MassUnit::Kilogram).unwrap()
}

fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn lot(id: &str) -> LotId {
    LotId::parse(id).unwrap()
}

fn site(id: &str) -> SiteId {
    SiteId::parse(id).unwrap()
}

fn party(id: &str) -> PartyId {
    PartyId::parse(id).unwrap()
}

fn text(s: &str) -> Text {
    Text::parse(s).unwrap()
}

fn token(s: &str) -> Token {
    Token::parse(s).unwrap()
}

/// FWO's record-signing key (fixed seed, illustrative).
fn fwo_records_key() -> NoteSigner {
    NoteSigner::from_seed("fwo/records", [0x11; 32]).unwrap()
}

/// FWO's field-laboratory key (fixed seed, illustrative).
fn fwo_field_key() -> NoteSigner {
    NoteSigner::from_seed("fwo/field-lab", [0x12; 32]).unwrap()
}

/// The registry operator's key (fixed seed, illustrative).
fn operator_key() -> NoteSigner {
    NoteSigner::from_seed("oretrace/operator", [0x0f; 32]).unwrap()
}

/// A key that signs nothing here.
fn unrelated_key() -> NoteSigner {
    NoteSigner::from_seed("ussm/records", [0x22; 32]).unwrap()
}

fn party_record() -> Record {
    Record::Party(Party {
        id: party("fwo"),
        name: text("Frontier Works Organisation (FWO)"),
        kind: PartyKind::StateBody,
        country: Country::parse("PK").unwrap(),
        keys: vec![fwo_records_key().verifier(), fwo_field_key().verifier()],
        // FWO is the Pakistan Army's engineering arm; the 100 % share is
        // how the demo models that, not a reported figure.
        owners: vec![Ownership {
            owner: party("gov-pk"),
            share: d("100"),
            controls: true,
        }],
        time: t("2025-09-08T09:00:00Z"),
        figures: Figures::Illustrative,
    })
}

fn site_record() -> Record {
    Record::Site(Site {
        id: site("karachi-port"),
        name: text("Karachi Port"),
        kind: SiteKind::Port,
        operator: party("kpt"),
        country: Country::parse("PK").unwrap(),
        location: Coordinates::new(d("24.835"), d("66.982")).unwrap(),
        approximate: false,
        time: t("2025-09-01T00:00:00Z"),
        figures: Figures::Reported,
    })
}

fn lot_record() -> Record {
    Record::Lot(Lot {
        id: lot("urn:oretrace:lot:fwo:sb-001"),
        commodity: token("antimony"),
        form: LotForm::Sample,
        site: site("fwo-qila-abdullah"),
        wet_mass: kg("12.5"),
        moisture: d("3.2"),
        time: t("2025-08-20T06:30:00Z"),
        figures: Figures::Illustrative,
    })
}

fn assay_nd2o3_record() -> Record {
    Record::Assay(Assay {
        lot: lot("urn:oretrace:lot:fwo:ree-001"),
        analyte: Analyte::parse("Nd2O3").unwrap(),
        value: d("4250"),
        unit: GradeUnit::Ppm,
        basis: Basis::Dry,
        uncertainty: None,
        method: text("Sodium peroxide fusion, ICP-MS"),
        laboratory: party("pk-geolab"),
        certificate: Digest::of(b"illustrative assay certificate PKGL-2025-0412 (Nd2O3)"),
        time: t("2025-08-28T11:15:00Z"),
        figures: Figures::Illustrative,
    })
}

fn assay_sb_record() -> Record {
    Record::Assay(Assay {
        lot: lot("urn:oretrace:lot:fwo:sb-con-001"),
        analyte: Analyte::parse("Sb").unwrap(),
        value: d("58.4"),
        unit: GradeUnit::Percent,
        basis: Basis::Dry,
        uncertainty: None,
        method: text("HCl digestion, potassium bromate titration"),
        laboratory: party("pk-geolab"),
        certificate: Digest::of(b"illustrative assay certificate PKGL-2025-0415 (Sb)"),
        time: t("2025-09-03T08:45:00Z"),
        figures: Figures::Illustrative,
    })
}

/// A copper assay stating its uncertainty (± 0.2 percentage points).
fn assay_cu_uncertainty_record() -> Record {
    Record::Assay(Assay {
        lot: lot("urn:oretrace:lot:fwo:cu-con-001"),
        analyte: Analyte::parse("Cu").unwrap(),
        value: d("22.4"),
        unit: GradeUnit::Percent,
        basis: Basis::Dry,
        uncertainty: Some(d("0.2")),
        method: text("Short iodometric titration"),
        laboratory: party("pk-geolab"),
        certificate: Digest::of(b"illustrative assay certificate PKGL-2025-0416 (Cu)"),
        time: t("2025-09-03T09:00:00Z"),
        figures: Figures::Illustrative,
    })
}

fn shipment_record() -> Record {
    Record::Shipment(Shipment {
        id: token("fwo-ussm-2025-001"),
        lots: vec![
            lot("urn:oretrace:lot:fwo:sb-con-001"),
            lot("urn:oretrace:lot:fwo:cu-con-001"),
            lot("urn:oretrace:lot:fwo:ree-001"),
        ],
        from: site("fwo-sample-prep"),
        to: site("ussm-fredericktown"),
        via: vec![site("karachi-port")],
        receiver: party("ussm"),
        documents: vec![
            Document {
                kind: DocumentKind::ExportPermit,
                reference: text("EP-2025-0917"),
            },
            Document {
                kind: DocumentKind::BillOfLading,
                reference: text("KHI-2025-0917-001"),
            },
        ],
        time: t("2025-09-17T04:00:00Z"),
        figures: Figures::Illustrative,
    })
}

fn receipt_record() -> Record {
    Record::Receipt(Receipt {
        shipment: token("fwo-ussm-2025-001"),
        site: site("ussm-fredericktown"),
        lots: vec![
            (lot("urn:oretrace:lot:fwo:sb-con-001"), kg("6.18")),
            (lot("urn:oretrace:lot:fwo:cu-con-001"), kg("4.95")),
            (lot("urn:oretrace:lot:fwo:ree-001"), kg("2.4")),
        ],
        time: t("2025-10-02T15:30:00Z"),
        figures: Figures::Illustrative,
    })
}

fn transformation_record() -> Record {
    Record::Transformation(Transformation {
        id: token("fwo-prep-sb-001"),
        site: site("fwo-sample-prep"),
        process: text("Crushing, hand sorting and flotation"),
        inputs: vec![
            (lot("urn:oretrace:lot:fwo:sb-001"), kg("12.5")),
            (lot("urn:oretrace:lot:fwo:sb-002"), kg("8.75")),
        ],
        outputs: vec![
            OutputLot {
                id: lot("urn:oretrace:lot:fwo:sb-con-001"),
                commodity: token("antimony"),
                form: LotForm::Concentrate,
                wet_mass: kg("6.2"),
                moisture: d("1.5"),
            },
            OutputLot {
                id: lot("urn:oretrace:lot:fwo:sb-mid-001"),
                commodity: token("antimony"),
                form: LotForm::Ore,
                wet_mass: kg("13.9"),
                moisture: d("2.1"),
            },
        ],
        time: t("2025-09-01T13:00:00Z"),
        figures: Figures::Illustrative,
    })
}

/// The event of the two captured-event examples: an inspection at Karachi
/// Port whose extension carries awkward numbers (1e21, 0.1, -0, 1.0,
/// 2^53 + 1, 2^64 - 1, 1e-7, 0.000001), place names in Urdu and Chinese,
/// control characters, and keys whose UTF-16 order differs from their
/// UTF-8 order (an emoji and U+FB33).
fn captured_event_json() -> &'static str {
    r#"{
      "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                   {"oretrace": "https://oretrace.org/epcis/", "ex": "https://example.org/field/"}],
      "type": "ObjectEvent",
      "eventTime": "2025-09-17T04:00:00Z",
      "eventTimeZoneOffset": "+05:00",
      "action": "OBSERVE",
      "bizStep": "inspecting",
      "epcList": ["urn:oretrace:lot:fwo:sb-con-001"],
      "readPoint": {"id": "urn:oretrace:site:karachi-port"},
      "oretrace:figures": "illustrative",
      "ex:readings": [1e21, 0.1, -0, -0.0, 1.0, 9007199254740993, 18446744073709551615,
                      1e-7, 0.000001, 333333333.33333329, 4.50, -1.5E+300],
      "ex:place": {"ur": "کراچی بندرگاہ", "zh": "卡拉奇港", "\ud83d\ude00": "grinning",
                   "\ufb33": "dalet", "\u20ac": "euro", "ctl": "tab\there\u0001\n"}
    }"#
}

fn captured_event_value() -> serde_json::Value {
    serde_json::from_str(captured_event_json()).unwrap()
}

/// The CBV 2.0 hash of the example event (on its own, with its context).
fn captured_event_id() -> EventId {
    let value = captured_event_value();
    let hash = oretrace_epcis::event_hash(&value, &oretrace_epcis::Context::from_document(&value))
        .unwrap();
    EventId::parse(&hash).unwrap()
}

/// The document the signed example came in (its digest is what the
/// detached signatures sign, through the document note).
const CAPTURED_DOCUMENT: &[u8] = b"illustrative EPCIS document of the Karachi Port inspection";
const LOG_ORIGIN: &str = "oretrace.example/log";

fn captured_event(auth: CaptureAuth) -> CapturedEvent {
    CapturedEvent::new(
        captured_event_id(),
        captured_event_value(),
        party("fwo"),
        token("5f1c0ffee"),
        auth,
        t("2025-09-17T04:05:00Z"),
        Figures::Illustrative,
    )
    .unwrap()
}

fn event_token_record() -> Record {
    let key = fwo_records_key();
    Record::Event(captured_event(CaptureAuth::Token {
        key: KeyRef::new(key.name(), key.key_id()).unwrap(),
    }))
}

/// The detached signature line `signer` makes over the example's document.
fn document_signature(signer: &NoteSigner) -> SignatureLine {
    let note = document_note(
        LOG_ORIGIN,
        &Digest::of(CAPTURED_DOCUMENT),
        "fwo",
        CaptureBehaviour::Rollback,
    );
    SignatureLine::from(signer.sign(&note).unwrap().signatures()[0].clone())
}

fn event_signed_record() -> Record {
    Record::Event(captured_event(CaptureAuth::Signed {
        document: Digest::of(CAPTURED_DOCUMENT),
        behaviour: CaptureBehaviour::Rollback,
        signatures: vec![
            document_signature(&fwo_records_key()),
            document_signature(&fwo_field_key()),
        ],
    }))
}

/// The token example as an entry written before the `event-encoding`
/// line: its event in the first encoding.
fn event_legacy_record() -> Record {
    let key = fwo_records_key();
    let encoding = EventEncoding::Legacy;
    Record::Event(
        CapturedEvent::from_logged(
            captured_event_id(),
            encoding,
            &encoding.encode(&captured_event_value()),
            party("fwo"),
            token("5f1c0ffee"),
            CaptureAuth::Token {
                key: KeyRef::new(key.name(), key.key_id()).unwrap(),
            },
            t("2025-09-17T04:05:00Z"),
            Figures::Illustrative,
        )
        .unwrap(),
    )
}

// ------------------------------------------------------------ agreements

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn scoped(s: &str) -> ScopedId {
    ScopedId::parse(s).unwrap()
}

fn money(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn document(content: &str, title: &str) -> SourceDocument {
    SourceDocument {
        digest: Digest::of(content.as_bytes()),
        title: text(title),
    }
}

/// The sealed text of the MoU's first version: invented clauses (the real
/// text is not public), with line breaks and quotes as real clauses have.
const MOU_CLAUSES: [&str; 4] = [
    "Article 1. Purpose\nThe Parties intend to cooperate in the exploration, extraction and processing of critical minerals in Pakistan.",
    "Article 2. Investment\nUSSM intends to invest up to USD 500 million in phases, subject to feasibility studies.",
    "Article 3. Offtake\nThe Parties will negotiate the offtake of antimony, copper and rare-earth concentrates.",
    "Article 4. Confidentiality\nNeither Party discloses the \"commercial terms\" without the other's written consent.",
];

/// Fixed salts, so that the golden files are reproducible (a real seal
/// draws them from the operating system).
fn mou_salt(index: usize) -> Salt {
    [0x10 + index as u8; 32]
}

fn mou_sealed() -> Sealed {
    let clauses: Vec<(Salt, &str)> = MOU_CLAUSES
        .iter()
        .enumerate()
        .map(|(i, t)| (mou_salt(i), *t))
        .collect();
    Sealed::new(&clauses).unwrap()
}

/// Version 1 of the FWO–US Strategic Metals MoU (signed 2025-09-08 at
/// Islamabad), its text sealed. The headline value is the reported USD
/// 500 million; the pledges and their dates are illustrative.
fn agreement_sealed_record() -> Record {
    let sealed = mou_sealed();
    Record::Agreement(Agreement {
        id: scoped("fwo:mou-ussm-2025"),
        version: 1,
        amends: None,
        title: text(
            "Memorandum of Understanding on critical minerals between FWO and US Strategic Metals",
        ),
        kind: AgreementKind::Mou,
        parties: vec![party("fwo"), party("ussm")],
        signed: date("2025-09-08"),
        place: text("Islamabad"),
        status: AgreementStatus::Signed,
        commodities: vec![token("antimony"), token("copper"), token("rare-earths")],
        sites: vec![site("fwo-qila-abdullah")],
        lots: vec![],
        value: Some(money("500000000 USD")),
        pledges: vec![
            Pledge {
                id: token("p1"),
                description: text("First-phase investment in exploration and processing"),
                quantity: Some(Quantity::Money(money("100000000 USD"))),
                due: date("2026-09-30"),
            },
            Pledge {
                id: token("p2"),
                description: text("Antimony concentrate shipped to the United States"),
                quantity: Some(Quantity::Mass(
                    Mass::new(d("1000"), MassUnit::Tonne).unwrap(),
                )),
                due: date("2026-12-31"),
            },
            Pledge {
                id: token("p3"),
                description: text("Processing facilities built in Pakistan"),
                quantity: Some(Quantity::Count {
                    value: d("2"),
                    unit: token("facility"),
                }),
                due: date("2027-12-31"),
            },
            Pledge {
                id: token("m1"),
                description: text("Feasibility study completed"),
                quantity: None,
                due: date("2026-06-30"),
            },
        ],
        documents: vec![document(
            "mou-ussm-2025 signed copy",
            "Signed MoU, scanned copy",
        )],
        terms: Terms::Sealed {
            root: Digest::from_bytes(sealed.root().0),
            count: u32::try_from(sealed.count()).unwrap(),
            reason: text("Commercial terms confidential until the feasibility study"),
            disclose_by: date("2026-09-08"),
        },
        time: t("2025-09-08T12:00:00Z"),
        figures: Figures::Illustrative,
    })
}

/// Version 2: an amendment that states its text.
fn agreement_public_record() -> Record {
    let Record::Agreement(v1) = agreement_sealed_record() else {
        unreachable!()
    };
    Record::Agreement(Agreement {
        version: 2,
        amends: Some(1),
        status: AgreementStatus::InForce,
        lots: vec![lot("urn:oretrace:lot:fwo:sb-con-001")],
        documents: vec![document("mou-ussm-2025 amendment 1", "Amendment No. 1, signed copy")],
        terms: Terms::Public {
            clauses: vec![
                "Article 1. Purpose\nAs in version 1.".to_owned(),
                "Article 2. Investment\nUSSM invests USD 500 million in three phases; the first of USD 100 million by 30 September 2026.".to_owned(),
                "Article 5. Disclosure\nThe Parties publish this text in the registry (\"oretrace\").".to_owned(),
            ],
        },
        time: t("2026-01-15T10:00:00Z"),
        ..v1
    })
}

/// USSM confirms version 1, naming the SHA-256 of its canonical bytes.
fn countersignature_record() -> Record {
    Record::Countersignature(Countersignature {
        agreement: scoped("fwo:mou-ussm-2025"),
        version: 1,
        digest: Digest::of(&encode(&agreement_sealed_record())),
        time: t("2025-09-09T08:00:00Z"),
        figures: Figures::Illustrative,
    })
}

/// FWO reveals clauses 1 and 3 of version 1; they verify against the
/// sealed golden file's root.
fn disclosure_record() -> Record {
    let sealed = mou_sealed();
    let clause = |i: usize| RevealedClause {
        index: u32::try_from(i).unwrap(),
        salt: mou_salt(i),
        text: MOU_CLAUSES[i].to_owned(),
        proof: sealed
            .proof(i as u64)
            .unwrap()
            .into_iter()
            .map(|h| Digest::from_bytes(h.0))
            .collect(),
    };
    Record::Disclosure(Reveal {
        agreement: scoped("fwo:mou-ussm-2025"),
        version: 1,
        clauses: vec![clause(1), clause(3)],
        time: t("2025-12-01T09:00:00Z"),
        figures: Figures::Illustrative,
    })
}

fn progress_record() -> Record {
    Record::Progress(Progress {
        agreement: scoped("fwo:mou-ussm-2025"),
        pledge: token("p2"),
        delivered: Some(Quantity::Mass(
            Mass::new(d("6.2"), MassUnit::Kilogram).unwrap(),
        )),
        complete: false,
        date: date("2025-09-03"),
        note: text("First sample consignment of antimony concentrate shipped from Karachi"),
        documents: vec![document(
            "bol KHI-2025-0001",
            "Bill of lading KHI-2025-0001",
        )],
        records: vec![6, 7],
        time: t("2025-09-10T09:00:00Z"),
        figures: Figures::Illustrative,
    })
}

/// A claim reported in the press and not confirmed by any agreement.
fn report_record() -> Record {
    Record::Report(Report {
        id: scoped("fwo:pasni-port-offer"),
        version: 1,
        claim: text("Pakistan offered the United States to build and run a terminal at Pasni port"),
        topic: token("port-offer"),
        countries: vec![Country::parse("PK").unwrap(), Country::parse("US").unwrap()],
        commodities: vec![],
        value: Some(money("1200000000 USD")),
        sources: vec![Source {
            title: text("Pakistan pitches Pasni port to the US"),
            publisher: text("Example News"),
            date: date("2025-10-05"),
            url: text("https://news.example.org/2025/10/05/pasni-port"),
            archive: Some(Digest::of(b"archived copy of the article")),
        }],
        status: ReportStatus::Unconfirmed,
        confirmed_by: None,
        refuted_by: None,
        time: t("2025-10-06T07:00:00Z"),
        figures: Figures::Illustrative,
    })
}

fn resource_record() -> Record {
    Record::Resource(ResourceEstimate {
        id: scoped("fwo:qila-abdullah-sb-2025"),
        version: 1,
        site: site("fwo-qila-abdullah"),
        code: ReportingCode::None,
        class: ResourceClass::Inferred,
        effective: date("2025-06-30"),
        tonnes: d("120000"),
        grades: vec![ResourceGrade {
            analyte: Analyte::parse("Sb").unwrap(),
            value: d("2.5"),
            unit: GradeUnit::Percent,
        }],
        contained: vec![(Element::parse("Sb").unwrap(), d("3000"))],
        competent: text("FWO Geological Survey Wing"),
        documents: vec![document(
            "qila abdullah estimate 2025",
            "Resource estimate report 2025",
        )],
        time: t("2025-08-01T00:00:00Z"),
        figures: Figures::Illustrative,
    })
}

fn custody_model_record() -> Record {
    Record::CustodyModel(CustodyModel {
        site: site("fwo-conc"),
        attribute: text("origin: Pakistan"),
        model: CustodyModelKind::ControlledBlending,
        specified: vec![site("fwo-saindak"), site("fwo-reko-diq")],
        from: t("2025-01-01T00:00:00Z"),
        until: Some(t("2026-01-01T00:00:00Z")),
        time: t("2025-01-02T08:00:00Z"),
        figures: Figures::Illustrative,
    })
}

fn attribute_claim_record() -> Record {
    Record::AttributeClaim(AttributeClaim {
        lot: lot("urn:oretrace:lot:fwo:cu-conc-1"),
        attribute: text("origin: Pakistan"),
        element: Element::parse("Cu").unwrap(),
        share: d("0.85"),
        time: t("2025-09-12T10:00:00Z"),
        figures: Figures::Illustrative,
    })
}

/// The golden file stem of a kind's examples start with.
fn stem_of(kind: &str) -> &str {
    match kind {
        "epcis-event" => "event",
        other => other,
    }
}

/// (file stem, record): one example per kind, two assays.
fn examples() -> Vec<(&'static str, Record)> {
    vec![
        ("party", party_record()),
        ("site", site_record()),
        ("lot", lot_record()),
        ("assay-nd2o3", assay_nd2o3_record()),
        ("assay-sb", assay_sb_record()),
        ("assay-cu-uncertainty", assay_cu_uncertainty_record()),
        ("shipment", shipment_record()),
        ("receipt", receipt_record()),
        ("transformation", transformation_record()),
        ("event-token", event_token_record()),
        ("event-signed", event_signed_record()),
        ("agreement-sealed", agreement_sealed_record()),
        ("agreement-public", agreement_public_record()),
        ("countersignature", countersignature_record()),
        ("disclosure", disclosure_record()),
        ("progress", progress_record()),
        ("report", report_record()),
        ("resource", resource_record()),
        ("custody-model", custody_model_record()),
        ("attribute-claim", attribute_claim_record()),
    ]
}

fn signed_party() -> SignedRecord {
    SignedRecord::sign(party_record(), &[&fwo_records_key(), &operator_key()]).unwrap()
}

// ------------------------------------------------------------ golden files

fn golden_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file)
}

/// Every golden file and its current content.
fn golden_files() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for (name, record) in examples() {
        files.push((format!("{name}.record"), encode(&record)));
        files.push((format!("{name}.json"), pretty_json(&record).into_bytes()));
    }
    files.push(("party.entry".to_owned(), signed_party().entry_bytes()));
    files.push((
        "event-legacy.record".to_owned(),
        encode(&event_legacy_record()),
    ));
    files
}

static UPDATE: std::sync::Once = std::sync::Once::new();

/// With `ORETRACE_UPDATE_GOLDEN=1`, (re)writes all golden files once,
/// before any test reads one.
fn update_if_asked() {
    if std::env::var("ORETRACE_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        UPDATE.call_once(|| {
            for (file, bytes) in golden_files() {
                let path = golden_path(&file);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, bytes).unwrap();
            }
        });
    }
}

fn read_golden(file: &str) -> Vec<u8> {
    update_if_asked();
    let path = golden_path(file);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (generate with ORETRACE_UPDATE_GOLDEN=1)",
            path.display()
        )
    })
}

/// Compares `actual` with the golden file byte for byte.
fn check_golden(file: &str, actual: &[u8]) {
    let expected = read_golden(file);
    assert!(
        expected == actual,
        "{file} differs from the golden file\n--- golden\n{}\n--- actual\n{}",
        String::from_utf8_lossy(&expected),
        String::from_utf8_lossy(actual),
    );
}

fn pretty_json(record: &Record) -> String {
    serde_json::to_string_pretty(&RecordJson::of(record)).unwrap()
}

// ------------------------------------------------------------------ tests

#[test]
fn examples_are_valid_and_cover_every_kind() {
    let examples = examples();
    for (name, record) in &examples {
        record.check().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            Record::KINDS.contains(&record.kind()),
            "{name}: {} is not in Record::KINDS",
            record.kind()
        );
        assert!(
            name.starts_with(stem_of(record.kind())),
            "{name} is a {}",
            record.kind()
        );
    }
    // Every kind the Record type has: a golden .record file (and .json)
    // of it, or this fails.
    for kind in Record::KINDS {
        let files: Vec<&str> = examples
            .iter()
            .filter(|(_, r)| r.kind() == kind)
            .map(|(name, _)| *name)
            .collect();
        assert!(!files.is_empty(), "no golden example of kind {kind}");
        for name in files {
            let golden = read_golden(&format!("{name}.record"));
            assert_eq!(decode(&golden).map(|r| r.kind()), Ok(kind), "{name}.record");
        }
    }
}

#[test]
fn canonical_bytes_match_the_golden_files() {
    for (name, record) in examples() {
        check_golden(&format!("{name}.record"), &encode(&record));
    }
}

#[test]
fn json_matches_the_golden_files() {
    for (name, record) in examples() {
        check_golden(&format!("{name}.json"), pretty_json(&record).as_bytes());
    }
}

#[test]
fn golden_canonical_bytes_decode_to_the_record() {
    for (name, record) in examples() {
        let golden = read_golden(&format!("{name}.record"));
        assert_eq!(
            decode(&golden).unwrap_or_else(|e| panic!("{name}: {e}")),
            record,
            "{name}"
        );
    }
}

#[test]
fn golden_json_converts_to_the_golden_canonical_bytes() {
    for (name, record) in examples() {
        let json = read_golden(&format!("{name}.json"));
        let from_json = RecordJson::parse(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(from_json, record, "{name}");
        assert_eq!(
            encode(&from_json),
            read_golden(&format!("{name}.record")),
            "{name}"
        );
        // And the other way: the wire shape of the decoded record is the golden JSON.
        assert_eq!(
            RecordJson::of(&from_json).to_record().unwrap(),
            record,
            "{name}"
        );
    }
}

#[test]
fn golden_files_are_canonical_text() {
    for (name, _) in examples() {
        let golden = String::from_utf8(read_golden(&format!("{name}.record"))).unwrap();
        assert!(golden.starts_with("oretrace.record/v1\nkind "), "{name}");
        assert!(
            golden.ends_with('\n') && !golden.ends_with("\n\n"),
            "{name}"
        );
        assert!(!golden.contains('\r') && !golden.contains('\t'), "{name}");
        for line in golden.lines().skip(1) {
            let (key, value) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("{name}: {line:?} has no value"));
            assert!(
                key.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{name}: key {key:?}"
            );
            assert!(
                !value.is_empty() && value.trim() == value,
                "{name}: value of {key}"
            );
        }
        let tail: Vec<&str> = golden.lines().rev().take(2).collect();
        assert!(
            tail[1].starts_with("time ") && tail[0].starts_with("figures "),
            "{name}: ends in time, figures"
        );
    }
}

/// A few exact lines, so that a reader of this file sees the format.
#[test]
fn golden_lot_reads_as_expected() {
    let expected = "oretrace.record/v1\n\
                    kind lot\n\
                    id urn:oretrace:lot:fwo:sb-001\n\
                    commodity antimony\n\
                    form sample\n\
                    site fwo-qila-abdullah\n\
                    wet-mass 12.5 kg\n\
                    moisture 3.2\n\
                    time 2025-08-20T06:30:00Z\n\
                    figures illustrative\n";
    assert_eq!(String::from_utf8(encode(&lot_record())).unwrap(), expected);
}

// ------------------------------------------------------------ signed entry

#[test]
fn signed_entry_matches_the_golden_file() {
    let signed = signed_party();
    check_golden("party.entry", &signed.entry_bytes());
    // The entry is the canonical text, a blank line and one line per signer.
    let entry = String::from_utf8(signed.entry_bytes()).unwrap();
    let canonical = String::from_utf8(encode(&party_record())).unwrap();
    let signatures = entry
        .strip_prefix(&canonical)
        .and_then(|s| s.strip_prefix('\n'))
        .unwrap();
    let names: Vec<&str> = signatures
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(names, ["fwo/records", "oretrace/operator"]);
    assert!(signatures.lines().all(|l| l.starts_with("\u{2014} ")));
}

#[test]
fn golden_entry_round_trips() {
    let golden = read_golden("party.entry");
    let signed = SignedRecord::from_entry(&golden).unwrap();
    assert_eq!(signed, signed_party());
    assert_eq!(signed.record(), &party_record());
    assert_eq!(signed.entry_bytes(), golden);
    assert_eq!(signed.canonical(), read_golden("party.record"));
    assert_eq!(
        signed.record_hash(),
        *Digest::of(&read_golden("party.record")).bytes()
    );
    assert_eq!(signed.signatures().len(), 2);
}

#[test]
fn golden_entry_is_signed_by_its_keys_only() {
    let signed = SignedRecord::from_entry(&read_golden("party.entry")).unwrap();
    assert_eq!(signed.signed_by(&fwo_records_key().verifier()), Ok(true));
    assert_eq!(signed.signed_by(&operator_key().verifier()), Ok(true));
    // Listed in the record but did not sign.
    assert_eq!(signed.signed_by(&fwo_field_key().verifier()), Ok(false));
    assert_eq!(signed.signed_by(&unrelated_key().verifier()), Ok(false));
    // Same name, other key: not a signer either.
    let impostor = NoteSigner::from_seed("fwo/records", [0x99; 32]).unwrap();
    assert_eq!(signed.signed_by(&impostor.verifier()), Ok(false));
}

/// Flips one bit of the `index`-th signature in an entry.
fn tamper_signature(entry: &[u8], index: usize) -> Vec<u8> {
    let entry = String::from_utf8(entry.to_vec()).unwrap();
    let (text, sigs) = entry.split_once("\n\n").unwrap();
    let lines: Vec<String> = sigs
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i != index {
                return line.to_owned();
            }
            let (head, b64) = line.rsplit_once(' ').unwrap();
            let mut raw = STANDARD.decode(b64).unwrap();
            raw[4 + 10] ^= 0x01; // past the 4-byte key id
            format!("{head} {}", STANDARD.encode(raw))
        })
        .collect();
    format!("{text}\n\n{}\n", lines.join("\n")).into_bytes()
}

#[test]
fn a_tampered_signature_is_an_error() {
    let golden = read_golden("party.entry");
    let tampered = tamper_signature(&golden, 0);
    assert_ne!(tampered, golden);
    // Parsing does not verify; verifying against the key does.
    let signed = SignedRecord::from_entry(&tampered).unwrap();
    assert!(matches!(
        signed.signed_by(&fwo_records_key().verifier()),
        Err(Error::Signature(_))
    ));
    assert_eq!(signed.signed_by(&operator_key().verifier()), Ok(true));

    let tampered = tamper_signature(&golden, 1);
    let signed = SignedRecord::from_entry(&tampered).unwrap();
    assert_eq!(signed.signed_by(&fwo_records_key().verifier()), Ok(true));
    assert!(matches!(
        signed.signed_by(&operator_key().verifier()),
        Err(Error::Signature(_))
    ));
}

#[test]
fn a_tampered_record_text_breaks_every_signature() {
    let golden = String::from_utf8(read_golden("party.entry")).unwrap();
    // Still a valid, canonical party record; only the signatures no longer match.
    let tampered = golden.replacen("owner gov-pk 100 controls", "owner gov-pk 49 holds", 1);
    assert_ne!(tampered, golden);
    let signed = SignedRecord::from_entry(tampered.as_bytes()).unwrap();
    for key in [fwo_records_key(), operator_key()] {
        assert!(
            matches!(signed.signed_by(&key.verifier()), Err(Error::Signature(_))),
            "{key:?}"
        );
    }
}

#[test]
fn entries_must_hold_canonical_records() {
    let golden = String::from_utf8(read_golden("party.entry")).unwrap();
    let not_canonical = golden.replacen(
        "owner gov-pk 100 controls",
        "owner gov-pk 100.0 controls",
        1,
    );
    assert!(matches!(
        SignedRecord::from_entry(not_canonical.as_bytes()),
        Err(Error::NotCanonical { .. })
    ));
    let unsigned = encode(&party_record());
    assert!(matches!(
        SignedRecord::from_entry(&unsigned),
        Err(Error::Signature(_))
    ));
}

#[test]
fn signing_needs_a_signer_and_a_valid_record() {
    assert!(matches!(
        SignedRecord::sign(party_record(), &[]),
        Err(Error::Signature(_))
    ));
    let Record::Lot(mut bad) = lot_record() else {
        unreachable!()
    };
    bad.moisture = d("100");
    let err = SignedRecord::sign(Record::Lot(bad), &[&fwo_records_key()]).unwrap_err();
    assert_eq!(err.field(), Some("moisture_percent"));
}

#[test]
fn signing_refuses_records_the_text_form_cannot_hold() {
    let Record::Lot(mut lot) = lot_record() else {
        unreachable!()
    };
    lot.moisture = Decimal::new(1, 13); // 13 decimals: valid as a value, not as text
    let err = SignedRecord::sign(Record::Lot(lot), &[&fwo_records_key()]).unwrap_err();
    assert!(
        matches!(err, Error::NotCanonical { line: 8, .. }),
        "{err:?}"
    );
    let Record::Lot(mut lot) = lot_record() else {
        unreachable!()
    };
    lot.time = Timestamp::from_unix(-100_000_000_000); // the year -1199
    let err = SignedRecord::sign(Record::Lot(lot), &[&fwo_records_key()]).unwrap_err();
    assert!(
        matches!(err, Error::NotCanonical { line: 9, .. }),
        "{err:?}"
    );
}

#[test]
fn the_envelope_round_trips() {
    let signed = signed_party();
    let envelope = signed.to_envelope();
    assert_eq!(envelope.signatures.len(), 2);
    assert!(envelope.signatures[0].key.starts_with("fwo/records+"));
    let json = serde_json::to_string(&envelope).unwrap();
    let back: EnvelopeJson = serde_json::from_str(&json).unwrap();
    let from_envelope = SignedRecord::from_envelope(&back).unwrap();
    assert_eq!(from_envelope, signed);
    assert_eq!(from_envelope.entry_bytes(), read_golden("party.entry"));
}

#[test]
fn envelope_key_names_cannot_smuggle_lines_into_the_signed_text() {
    let mut envelope = signed_party().to_envelope();
    // A key name with a blank line and a forged signature line in it.
    let (name, id) = envelope.signatures[0].key.rsplit_once('+').unwrap();
    envelope.signatures[0].key = format!("x\n\n\u{2014} {name}+{id}");
    let err = SignedRecord::from_envelope(&envelope).unwrap_err();
    assert_eq!(err.field(), Some("signatures[0].key"), "{err}");
    // Spaces in a key name are refused as well.
    let mut envelope = signed_party().to_envelope();
    envelope.signatures[0].key = format!(
        "fwo records+{}",
        &envelope.signatures[0].key.rsplit_once('+').unwrap().1
    );
    let err = SignedRecord::from_envelope(&envelope).unwrap_err();
    assert_eq!(err.field(), Some("signatures[0].key"), "{err}");
}

#[test]
fn an_envelope_becomes_the_note_its_entry_bytes_parse_to() {
    let signed = signed_party();
    let mut envelope = signed.to_envelope();
    let from_envelope = SignedRecord::from_envelope(&envelope).unwrap();
    assert_eq!(
        SignedRecord::from_entry(&from_envelope.entry_bytes()).unwrap(),
        from_envelope
    );
    // As many signature lines as a note holds, and one more.
    let first = envelope.signatures[0].clone();
    envelope.signatures = vec![first; 64];
    let many = SignedRecord::from_envelope(&envelope).unwrap();
    assert_eq!(many.signatures().len(), 64);
    assert_eq!(SignedRecord::from_entry(&many.entry_bytes()).unwrap(), many);
    envelope.signatures.push(envelope.signatures[0].clone());
    let err = SignedRecord::from_envelope(&envelope).unwrap_err();
    assert_eq!(err.field(), Some("signatures"), "{err}");
    assert!(err.to_string().contains("more than 64 signatures"), "{err}");
}

#[test]
fn re_signing_keeps_the_record_hash() {
    let a = SignedRecord::sign(party_record(), &[&fwo_records_key()]).unwrap();
    let b = SignedRecord::sign(party_record(), &[&fwo_field_key(), &operator_key()]).unwrap();
    assert_ne!(a.entry_bytes(), b.entry_bytes());
    assert_eq!(a.record_hash(), b.record_hash());
    let c = SignedRecord::sign(lot_record(), &[&fwo_records_key()]).unwrap();
    assert_ne!(a.record_hash(), c.record_hash());
}

#[test]
fn verifier_keys_in_the_golden_party_parse_back() {
    let golden = String::from_utf8(read_golden("party.record")).unwrap();
    let keys: Vec<NoteVerifier> = golden
        .lines()
        .filter_map(|l| l.strip_prefix("key "))
        .map(|k| NoteVerifier::from_vkey(k).unwrap())
        .collect();
    assert_eq!(
        keys,
        [fwo_records_key().verifier(), fwo_field_key().verifier()]
    );
}

#[test]
fn the_golden_directory_holds_exactly_the_golden_files() {
    update_if_asked();
    let mut expected: Vec<String> = golden_files().into_iter().map(|(f, _)| f).collect();
    let mut found: Vec<String> = std::fs::read_dir(golden_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    expected.sort();
    found.sort();
    assert_eq!(found, expected);
}

// ---------------------------------------------------------- captured events

/// The event line of an `epcis-event` golden file.
fn event_line(file: &str) -> String {
    let golden = String::from_utf8(read_golden(file)).unwrap();
    golden
        .lines()
        .find_map(|l| l.strip_prefix("event "))
        .unwrap()
        .to_owned()
}

/// A few exact bytes of the JCS form, so that a reader of this file sees
/// the rules: numbers as ECMAScript prints doubles, keys by UTF-16 code
/// units, non-ASCII as itself, control characters escaped.
#[test]
fn golden_events_are_in_rfc8785_form() {
    for file in ["event-token.record", "event-signed.record"] {
        let golden = String::from_utf8(read_golden(file)).unwrap();
        assert!(
            golden.contains("\nevent-encoding rfc8785\nevent {"),
            "{file}"
        );
        let line = event_line(file);
        assert!(
            line.contains(
                r#""ex:readings":[1e+21,0.1,0,0,1,9007199254740992,18446744073709552000,1e-7,0.000001,333333333.3333333,4.5,-1.5e+300]"#
            ),
            "{line}"
        );
        assert!(
            line.contains(
                "\"ex:place\":{\"ctl\":\"tab\\there\\u0001\\n\",\"ur\":\"کراچی بندرگاہ\",\
                 \"zh\":\"卡拉奇港\",\"\u{20ac}\":\"euro\",\"\u{1f600}\":\"grinning\",\
                 \"\u{fb33}\":\"dalet\"}"
            ),
            "{line}"
        );
        // Whatever else, the line is what the JCS module makes of its JSON.
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(oretrace_domain::jcs::to_string(&value), line, "{file}");
    }
}

/// The event id survives the encoding: the CBV 2.0 hash passes every
/// number through a double, as JCS does, so the event as logged hashes
/// as the event as sent.
#[test]
fn the_logged_event_hashes_as_the_event_sent() {
    let sent = captured_event_value();
    let logged: serde_json::Value =
        serde_json::from_str(&event_line("event-token.record")).unwrap();
    assert_ne!(sent, logged, "the large integers were rounded");
    let hash = |v: &serde_json::Value| {
        oretrace_epcis::event_hash(v, &oretrace_epcis::Context::from_document(v)).unwrap()
    };
    assert_eq!(hash(&logged), hash(&sent));
    assert_eq!(hash(&logged), captured_event_id().as_str());
    let legacy: serde_json::Value =
        serde_json::from_str(&event_line("event-legacy.record")).unwrap();
    assert_eq!(hash(&legacy), hash(&sent));
}

/// An entry of the first encoding (no `event-encoding` line) decodes and
/// re-encodes byte for byte; its event is the same JSON as the new
/// entry's, written the old way.
#[test]
fn the_golden_legacy_event_decodes_and_re_encodes() {
    let golden = read_golden("event-legacy.record");
    let text = String::from_utf8(golden.clone()).unwrap();
    assert!(!text.contains("event-encoding"), "{text}");
    assert!(
        text.contains(r#""ex:readings":[1e+21,0.1,-0.0,-0.0,1.0,9007199254740993,18446744073709551615,1e-7,1e-6,333333333.3333333,4.5,-1.5e+300]"#),
        "{text}"
    );
    let record = decode(&golden).unwrap();
    assert_eq!(record, event_legacy_record());
    assert_eq!(encode(&record), golden);
    let Record::Event(event) = &record else {
        panic!("not an event")
    };
    assert_eq!(event.encoding(), EventEncoding::Legacy);
    // The same text under the new marker is refused: it is not JCS.
    let marked = text.replacen("\nevent {", "\nevent-encoding rfc8785\nevent {", 1);
    assert!(decode(marked.as_bytes()).is_err());
}

/// The signed example's signature lines verify over the document note
/// with the keys that made them.
#[test]
fn the_golden_signed_event_carries_verifiable_document_signatures() {
    let Record::Event(event) = decode(&read_golden("event-signed.record")).unwrap() else {
        panic!("not an event")
    };
    let CaptureAuth::Signed {
        document,
        behaviour,
        signatures,
    } = event.auth()
    else {
        panic!("not signed")
    };
    let note = document_note(LOG_ORIGIN, document, "fwo", *behaviour);
    for (line, key) in signatures.iter().zip([fwo_records_key(), fwo_field_key()]) {
        line.verify(&note, &key.verifier()).unwrap();
        assert!(line.verify(&note, &unrelated_key().verifier()).is_err());
    }
}

/// The golden disclosure opens the golden sealed agreement: every revealed
/// clause verifies against the root and count read from its canonical
/// bytes, and the countersignature names the SHA-256 of those bytes.
#[test]
fn golden_disclosure_opens_the_golden_sealed_agreement() {
    let sealed_bytes = read_golden("agreement-sealed.record");
    let Record::Agreement(sealed) = decode(&sealed_bytes).unwrap() else {
        panic!("agreement-sealed.record is not an agreement")
    };
    let Terms::Sealed { root, count, .. } = sealed.terms else {
        panic!("agreement-sealed.record is not sealed")
    };
    let Record::Disclosure(reveal) = decode(&read_golden("disclosure.record")).unwrap() else {
        panic!("disclosure.record is not a disclosure")
    };
    assert_eq!(
        (reveal.agreement.clone(), reveal.version),
        (sealed.id.clone(), 1)
    );
    reveal.verify(&root, count).unwrap();
    let mut changed = reveal.clone();
    changed.clauses[1].text.push('.');
    let err = changed.verify(&root, count).unwrap_err();
    assert_eq!(err.field(), Some("clauses[1]"), "{err}");
    let Record::Countersignature(c) = decode(&read_golden("countersignature.record")).unwrap()
    else {
        panic!("countersignature.record is not a countersignature")
    };
    assert_eq!(c.digest, Digest::of(&sealed_bytes));
}

/// A few exact lines of the agreement encoding.
#[test]
fn golden_agreement_reads_as_expected() {
    let text = String::from_utf8(read_golden("agreement-sealed.record")).unwrap();
    for line in [
        "kind agreement\n",
        "id fwo:mou-ussm-2025\nversion 1\n",
        "signed 2025-09-08\nplace Islamabad\n",
        "value 500000000 USD\n",
        "pledge p1 2026-09-30 money 100000000 USD First-phase investment",
        "pledge p2 2026-12-31 mass 1000 t Antimony",
        "pledge p3 2027-12-31 count 2 facility Processing",
        "pledge m1 2026-06-30 milestone Feasibility study completed\n",
        "figures illustrative\n",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    let public = String::from_utf8(read_golden("agreement-public.record")).unwrap();
    assert!(
        public.contains("version 2\namends 1\n")
            && public.contains("terms public\nclause \"Article 1. Purpose\\nAs in version 1.\"\n"),
        "{public}"
    );
}
