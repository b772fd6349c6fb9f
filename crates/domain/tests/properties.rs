//! Property tests: valid records round-trip through the canonical encoding
//! and the JSON wire shape; arbitrary or mangled bytes never panic the
//! decoders, and whatever they accept is exactly canonical.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::FileFailurePersistence;
use rust_decimal::Decimal;

use oretrace_domain::Record;
use oretrace_domain::agreement::{
    Agreement, AgreementKind, AgreementStatus, Pledge, Quantity, Reveal, RevealedClause, ScopedId,
    Terms, check_clause_text,
};
use oretrace_domain::canonical::{decode, encode};
use oretrace_domain::chemistry::{Analyte, GradeUnit};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::money::{Currency, Date, Money};
use oretrace_domain::record::*;
use oretrace_domain::values::*;
use oretrace_domain::wire::RecordJson;
use oretrace_tlog::note::NoteSigner;

// ------------------------------------------------------------- strategies

/// A decimal `0 <= d <= max` (or `< max` if `below`) with 0 to 6 decimals,
/// with the bounds themselves now and then.
fn decimal(max: i64, below: bool) -> impl Strategy<Value = Decimal> {
    let random = (0u32..=6).prop_flat_map(move |scale| {
        let top = max * 10i64.pow(scale);
        let range = if below { 0..top } else { 0..top + 1 };
        range.prop_map(move |m| Decimal::new(m, scale))
    });
    let edge = if below {
        Decimal::new(max * 1_000_000 - 1, 6)
    } else {
        Decimal::from(max)
    };
    prop_oneof![8 => random, 1 => Just(Decimal::ZERO), 1 => Just(edge)]
}

fn mass() -> impl Strategy<Value = Mass> {
    (
        decimal(1_000_000_000, false),
        select(vec![MassUnit::Kilogram, MassUnit::Tonne]),
    )
        .prop_map(|(v, u)| Mass::new(v, u).unwrap())
}

fn lot_id() -> impl Strategy<Value = LotId> {
    prop_oneof![
        select(vec![
            "urn:oretrace:lot:fwo:sb-001",
            "urn:oretrace:lot:fwo:ree-001",
            "urn:epc:id:sgtin:0614141.107346.2017",
            "https://id.gs1.org/01/09506000134352/10/SB-2025-001",
        ])
        .prop_map(str::to_owned),
        "urn:oretrace:lot:[a-z]{2,5}:[a-z0-9-]{1,12}",
        "[a-z][a-z0-9+.-]{0,5}:[!-~]{1,30}",
    ]
    .prop_map(|s| LotId::parse(&s).unwrap())
}

fn site_id() -> impl Strategy<Value = SiteId> {
    prop_oneof![
        select(vec![
            "karachi-port",
            "gwadar-port",
            "fwo-qila-abdullah",
            "fwo-sample-prep",
            "ussm-fredericktown"
        ])
        .prop_map(str::to_owned),
        "[a-z0-9][a-z0-9.-]{0,20}",
    ]
    .prop_map(|s| SiteId::parse(&s).unwrap())
}

fn party_id() -> impl Strategy<Value = PartyId> {
    prop_oneof![
        select(vec!["fwo", "ussm", "gov-pk", "nlc", "pk-geolab"]).prop_map(str::to_owned),
        "[a-z0-9][a-z0-9.-]{0,20}",
    ]
    .prop_map(|s| PartyId::parse(&s).unwrap())
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        select(vec![
            "antimony",
            "copper",
            "rare-earths",
            "neodymium",
            "praseodymium",
            "fwo-ussm-2025-001"
        ])
        .prop_map(str::to_owned),
        "[a-z0-9][a-z0-9-]{0,20}",
    ]
    .prop_map(|s| Token::parse(&s).unwrap())
}

fn text() -> impl Strategy<Value = Text> {
    prop_oneof![
        select(vec![
            "Sodium peroxide fusion, ICP-MS",
            "HCl digestion, potassium bromate titration",
            "KHI-2025-0917-001",
            "Fire assay (Au)  double  spaced",
        ])
        .prop_map(str::to_owned),
        // Any printable text, Unicode included; invalid texts are dropped.
        "\\PC{1,40}",
    ]
    .prop_filter_map("not a valid text", |s| Text::parse(&s).ok())
}

fn time() -> impl Strategy<Value = Timestamp> {
    // 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z: what the text form holds.
    (-2_208_988_800i64..=253_402_300_799).prop_map(Timestamp::from_unix)
}

fn figures() -> impl Strategy<Value = Figures> {
    select(vec![Figures::Reported, Figures::Illustrative])
}

fn analyte() -> impl Strategy<Value = Analyte> {
    select(vec![
        "Sb", "Cu", "Nd", "Pr", "Au", "W", "Nd2O3", "Pr6O11", "La2O3", "CeO2", "Dy2O3", "Tb4O7",
        "Y2O3", "Sb2O3", "CuO", "Cu2O",
    ])
    .prop_map(|f| Analyte::parse(f).unwrap())
}

/// A value and unit that make a grade of at most 100 %.
fn grade() -> impl Strategy<Value = (Decimal, GradeUnit)> {
    prop_oneof![
        decimal(100, false).prop_map(|v| (v, GradeUnit::Percent)),
        decimal(1_000_000, false).prop_map(|v| (v, GradeUnit::Ppm)),
        decimal(1_000_000, false).prop_map(|v| (v, GradeUnit::GramsPerTonne)),
    ]
}

fn lot() -> impl Strategy<Value = Record> {
    (
        lot_id(),
        token(),
        select(LotForm::ALL.to_vec()),
        site_id(),
        mass(),
        decimal(100, true),
        time(),
        figures(),
    )
        .prop_map(
            |(id, commodity, form, site, wet_mass, moisture, time, figures)| {
                Record::Lot(Lot {
                    id,
                    commodity,
                    form,
                    site,
                    wet_mass,
                    moisture,
                    time,
                    figures,
                })
            },
        )
}

fn assay() -> impl Strategy<Value = Record> {
    (
        lot_id(),
        analyte(),
        grade(),
        select(Basis::ALL.to_vec()),
        text(),
        party_id(),
        any::<[u8; 16]>(),
        time(),
        figures(),
        prop::option::of(0u32..500).prop_map(|u| u.map(|u| Decimal::new(i64::from(u), 2))),
    )
        .prop_map(
            |(
                lot,
                analyte,
                (value, unit),
                basis,
                method,
                laboratory,
                cert,
                time,
                figures,
                uncertainty,
            )| {
                Record::Assay(Assay {
                    lot,
                    analyte,
                    value,
                    unit,
                    basis,
                    uncertainty,
                    method,
                    laboratory,
                    certificate: Digest::of(&cert),
                    time,
                    figures,
                })
            },
        )
}

/// Keeps the first of each id.
fn unique_by<T, K: PartialEq>(items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        if !out.iter().any(|o| key(o) == key(&item)) {
            out.push(item);
        }
    }
    out
}

fn receipt() -> impl Strategy<Value = Record> {
    (
        token(),
        site_id(),
        prop::collection::vec((lot_id(), mass()), 1..6),
        time(),
        figures(),
    )
        .prop_map(|(shipment, site, lots, time, figures)| {
            let lots = unique_by(lots, |(id, _)| id.clone());
            Record::Receipt(Receipt {
                shipment,
                site,
                lots,
                time,
                figures,
            })
        })
}

fn shipment() -> impl Strategy<Value = Record> {
    let document = (select(DocumentKind::ALL.to_vec()), text())
        .prop_map(|(kind, reference)| Document { kind, reference });
    (
        token(),
        prop::collection::vec(lot_id(), 1..5),
        site_id(),
        site_id(),
        prop::collection::vec(site_id(), 0..3),
        party_id(),
        prop::collection::vec(document, 0..3),
        time(),
        figures(),
    )
        .prop_filter("a shipment goes to another site", |t| t.2 != t.3)
        .prop_map(
            |(id, lots, from, to, via, receiver, documents, time, figures)| {
                Record::Shipment(Shipment {
                    id,
                    lots: unique_by(lots, Clone::clone),
                    from,
                    to,
                    via,
                    receiver,
                    documents,
                    time,
                    figures,
                })
            },
        )
}

/// `0 <= d < 100` with up to 12 decimals and at most 15 significant digits.
fn json_number() -> impl Strategy<Value = Decimal> {
    (0u32..=12).prop_flat_map(|scale| {
        let top = (100 * 10i64.pow(scale)).min(1_000_000_000_000_000);
        (0..top).prop_map(move |m| Decimal::new(m, scale).normalize())
    })
}

// ------------------------------------------------------------- agreements

/// Clause texts that an encoding could get wrong: quotes, backslashes,
/// line breaks and tabs, escapes written out, Urdu, Chinese, emoji,
/// separators JSON leaves unescaped; then any text a clause may hold.
fn clause_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "Article 1. \"Parties\" means FWO and USSM.",
            "C:\\path\\to\\annex \\n is not a line break",
            "\\u0041 and \\\" and \\\\",
            "line one\nline two\n\nline four\n",
            "\n",
            "\ttabbed\tcolumns\t",
            "دونوں فریق معدنیات کی تلاش میں تعاون کریں گے۔",
            "双方将在关键矿产领域开展合作。",
            "Pledge 🇵🇰🤝🇺🇸 ⛏️ 💎 — “quoted” ‘single’",
            "separators \u{2028} and \u{2029}, BOM \u{feff}, NBSP \u{a0}",
            " leading and trailing spaces ",
            "clause \"with\" key-like text\ntime 2025-01-01T00:00:00Z\nfigures reported",
        ])
        .prop_map(str::to_owned),
        "[\\PC\n\t\"\\\\]{1,80}",
    ]
    .prop_filter("not a valid clause", |t| check_clause_text(t).is_ok())
}

fn scoped_id() -> impl Strategy<Value = ScopedId> {
    (party_id(), "[a-z0-9][a-z0-9.-]{0,20}")
        .prop_map(|(p, name)| ScopedId::parse(&format!("{p}:{name}")).unwrap())
}

/// A date as Unix seconds (1970 to 2096) and the date itself.
fn day() -> impl Strategy<Value = i64> {
    0i64..4_000_000_000
}

fn money() -> impl Strategy<Value = Money> {
    (
        decimal(1_000_000_000_000, false),
        select(vec!["USD", "PKR", "CNY", "EUR", "JPY"]),
    )
        .prop_map(|(amount, code)| Money::new(amount, Currency::parse(code).unwrap()).unwrap())
}

fn quantity() -> impl Strategy<Value = Quantity> {
    prop_oneof![
        money().prop_map(Quantity::Money),
        mass().prop_map(Quantity::Mass),
        (decimal(1_000_000, false), token())
            .prop_map(|(value, unit)| Quantity::Count { value, unit }),
    ]
}

fn digest() -> impl Strategy<Value = Digest> {
    any::<[u8; 32]>().prop_map(Digest::from_bytes)
}

fn agreement() -> impl Strategy<Value = Record> {
    let terms = |signed: i64| {
        prop_oneof![
            prop::collection::vec(clause_text(), 1..5)
                .prop_map(|clauses| Terms::Public { clauses }),
            (digest(), 1u32..=100_000, text(), 0i64..3650).prop_map(
                move |(root, count, reason, days)| Terms::Sealed {
                    root,
                    count,
                    reason,
                    disclose_by: Date::from_unix(signed + days * 86_400),
                }
            ),
        ]
    };
    let pledge = |signed: i64| {
        (token(), text(), prop::option::of(quantity()), 0i64..3650).prop_map(
            move |(id, description, quantity, days)| Pledge {
                id,
                description,
                quantity,
                due: Date::from_unix(signed + days * 86_400),
            },
        )
    };
    (day(), 1u32..4).prop_flat_map(move |(signed, version)| {
        (
            (
                scoped_id(),
                text(),
                select(AgreementKind::ALL.to_vec()),
                prop::collection::vec(party_id(), 2..5),
                text(),
                select(AgreementStatus::ALL.to_vec()),
                prop::collection::vec(token(), 0..3),
                prop::collection::vec(site_id(), 0..3),
                prop::collection::vec(lot_id(), 0..3),
                prop::option::of(money()),
            ),
            prop::collection::vec(pledge(signed), 0..4),
            prop::collection::vec((digest(), text()), 0..3),
            terms(signed),
            time(),
            figures(),
        )
            .prop_filter_map(
                "fewer than two distinct parties",
                move |(
                    (id, title, kind, parties, place, status, commodities, sites, lots, value),
                    pledges,
                    documents,
                    terms,
                    time,
                    figures,
                )| {
                    let parties = unique_by(parties, Clone::clone);
                    (parties.len() >= 2).then(|| {
                        Record::Agreement(Agreement {
                            id,
                            version,
                            amends: (version > 1).then(|| version - 1),
                            title,
                            kind,
                            parties,
                            signed: Date::from_unix(signed),
                            place,
                            status,
                            commodities: unique_by(commodities, Clone::clone),
                            sites: unique_by(sites, Clone::clone),
                            lots: unique_by(lots, Clone::clone),
                            value,
                            pledges: unique_by(pledges, |p| p.id.clone()),
                            documents: unique_by(
                                documents
                                    .into_iter()
                                    .map(|(digest, title)| {
                                        oretrace_domain::agreement::SourceDocument { digest, title }
                                    })
                                    .collect(),
                                |d| d.digest,
                            ),
                            terms,
                            time,
                            figures,
                        })
                    })
                },
            )
    })
}

fn reveal() -> impl Strategy<Value = Record> {
    let clause = (
        0u32..100_000,
        any::<[u8; 32]>(),
        clause_text(),
        prop::collection::vec(digest(), 0..6),
    )
        .prop_map(|(index, salt, text, proof)| RevealedClause {
            index,
            salt,
            text,
            proof,
        });
    (
        scoped_id(),
        1u32..=10_000,
        prop::collection::vec(clause, 1..6),
        time(),
        figures(),
    )
        .prop_map(|(agreement, version, clauses, time, figures)| {
            Record::Disclosure(Reveal {
                agreement,
                version,
                clauses: unique_by(clauses, |c| c.index),
                time,
                figures,
            })
        })
}

fn record() -> impl Strategy<Value = Record> {
    prop_oneof![lot(), assay(), receipt(), shipment(), agreement(), reveal()]
}

// ------------------------------------------------------------ round trips

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Next to this file, as tests/properties.proptest-regressions.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn canonical_round_trip(r in record()) {
        prop_assert!(r.check().is_ok(), "{:?}", r.check());
        let bytes = encode(&r);
        prop_assert_eq!(decode(&bytes).unwrap(), r);
    }

    #[test]
    fn json_round_trip(r in record()) {
        prop_assert_eq!(RecordJson::of(&r).to_record().unwrap(), r.clone());
        let text = serde_json::to_string(&RecordJson::of(&r)).unwrap();
        let back = RecordJson::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(encode(&back), encode(&r));
    }

    /// Decimals sent as JSON numbers (at most 15 significant digits, so
    /// exact through f64) arrive exactly, small ones included.
    /// Agreements and reveals with awkward clause texts: one canonical
    /// encoding, and JSON that reads back to the same record and JSON.
    #[test]
    fn agreements_and_reveals_round_trip(r in prop_oneof![agreement(), reveal()]) {
        prop_assert!(r.check().is_ok(), "{:?}", r.check());
        let bytes = encode(&r);
        prop_assert_eq!(decode(&bytes).unwrap(), r.clone());
        // Every line is one line: clause texts never break the line structure.
        let text = String::from_utf8(bytes).unwrap();
        prop_assert!(text.lines().skip(1).all(|l| l.split_once(' ').is_some()));
        let json = serde_json::to_string(&RecordJson::of(&r)).unwrap();
        let back = RecordJson::parse(json.as_bytes()).unwrap();
        prop_assert_eq!(&back, &r);
        prop_assert_eq!(serde_json::to_string(&RecordJson::of(&back)).unwrap(), json);
    }

    #[test]
    fn json_numbers_are_exact(value in json_number()) {
        let json = format!(
            r#"{{"kind":"lot","id":"urn:oretrace:lot:fwo:sb-001","commodity":"antimony","form":"sample",
                "site":"fwo-qila-abdullah","wet_mass":{{"value":{value},"unit":"kg"}},
                "moisture_percent":{value},"time":"2025-08-20T06:30:00Z","figures":"illustrative"}}"#
        );
        let Record::Lot(lot) = RecordJson::parse(json.as_bytes()).unwrap() else { unreachable!() };
        prop_assert_eq!(lot.moisture, value);
        prop_assert_eq!(lot.wet_mass.value(), value);
    }
}

// ------------------------------------------------------------ robustness

static SIGNED: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let signer = NoteSigner::from_seed("fwo/records", [0x11; 32]).unwrap();
    let lot = Record::Lot(Lot {
        id: LotId::parse("urn:oretrace:lot:fwo:sb-001").unwrap(),
        commodity: Token::parse("antimony").unwrap(),
        form: LotForm::Sample,
        site: SiteId::parse("fwo-qila-abdullah").unwrap(),
        wet_mass: Mass::new(parse_decimal("12.5").unwrap(), MassUnit::Kilogram).unwrap(),
        moisture: parse_decimal("3.2").unwrap(),
        time: Timestamp::parse("2025-08-20T06:30:00Z").unwrap(),
        figures: Figures::Illustrative,
    });
    let party = Record::Party(Party {
        id: PartyId::parse("fwo").unwrap(),
        name: Text::parse("Frontier Works Organisation (FWO)").unwrap(),
        kind: PartyKind::StateBody,
        country: Country::parse("PK").unwrap(),
        keys: vec![signer.verifier()],
        owners: vec![Ownership {
            owner: PartyId::parse("gov-pk").unwrap(),
            share: Decimal::from(100),
            controls: true,
        }],
        time: Timestamp::parse("2025-09-08T09:00:00Z").unwrap(),
        figures: Figures::Illustrative,
    });
    [lot, party]
        .into_iter()
        .map(|r| SignedRecord::sign(r, &[&signer]).unwrap().entry_bytes())
        .collect()
});

#[derive(Clone, Debug)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    // Bytes from the text's own alphabet are likelier to get far.
    let byte = prop_oneof![select(b" \n.-:0123456789akvet%+/=".to_vec()), any::<u8>()];
    let edit = prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Replace(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Delete),
    ];
    prop::collection::vec(edit, 1..4)
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        match *e {
            Edit::Replace(at, b) if !bytes.is_empty() => {
                let at = at % bytes.len();
                bytes[at] = b;
            }
            Edit::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            Edit::Delete(at) if !bytes.is_empty() => {
                bytes.remove(at % bytes.len());
            }
            _ => {}
        }
    }
    bytes
}

/// Where the note text of an entry ends (after its final newline).
fn text_end(entry: &[u8]) -> usize {
    entry.windows(2).position(|w| w == b"\n\n").unwrap() + 1
}

/// Whatever `decode` accepts is the one canonical encoding of what it returns.
fn check_decode(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(record) = decode(bytes) {
        prop_assert_eq!(encode(&record), bytes);
    }
    Ok(())
}

/// Whatever `from_entry` accepts holds a canonical record and prints back
/// as the same entry.
fn check_entry(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(signed) = SignedRecord::from_entry(bytes) {
        prop_assert_eq!(encode(signed.record()), signed.canonical());
        prop_assert_eq!(signed.entry_bytes(), bytes);
    }
    Ok(())
}

/// Canonical-looking lines from a small vocabulary of keys and values.
fn lines() -> impl Strategy<Value = Vec<u8>> {
    let key = select(vec![
        "kind",
        "id",
        "lot",
        "site",
        "form",
        "commodity",
        "wet-mass",
        "moisture",
        "time",
        "figures",
        "analyte",
        "value",
        "unit",
        "owner",
        "key",
        "input",
        "output",
        "via",
        "document",
    ]);
    let value = select(vec![
        "lot",
        "assay",
        "party",
        "receipt",
        "urn:oretrace:lot:fwo:sb-001",
        "fwo",
        "sample",
        "antimony",
        "12.5 kg",
        "12.50 kg",
        "3.2",
        "100",
        "-0",
        "2025-08-20T06:30:00Z",
        "illustrative",
        "reported",
        "Sb",
        "Sb1",
        "%",
        "",
        "fwo 50 holds",
    ]);
    prop::collection::vec((key, value), 0..12).prop_map(|pairs| {
        let mut text = String::from("oretrace.record/v1\n");
        for (k, v) in pairs {
            text.push_str(&format!("{k} {v}\n"));
        }
        text.into_bytes()
    })
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check_decode(&bytes)?;
        check_entry(&bytes)?;
    }

    #[test]
    fn arbitrary_lines_never_panic(bytes in lines()) {
        check_decode(&bytes)?;
        // The same text with a real entry's blank line and signature lines.
        let entry = [bytes.as_slice(), &SIGNED[0][text_end(&SIGNED[0])..]].concat();
        check_entry(&entry)?;
    }

    #[test]
    fn mangled_records_never_panic(which in 0usize..2, edits in edits()) {
        let entry = &SIGNED[which];
        check_decode(&apply(entry[..text_end(entry)].to_vec(), &edits))?;
    }

    #[test]
    fn mangled_entries_never_panic(which in 0usize..2, edits in edits()) {
        check_entry(&apply(SIGNED[which].clone(), &edits))?;
    }
}

#[test]
fn the_robustness_bases_are_valid() {
    for entry in SIGNED.iter() {
        let signed = SignedRecord::from_entry(entry).unwrap();
        assert_eq!(signed.entry_bytes(), *entry);
        assert_eq!(decode(signed.canonical()).unwrap(), *signed.record());
    }
}
