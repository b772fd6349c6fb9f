//! Data-driven tables of refused input.
//!
//! * JSON records (`RecordJson::parse`): each case names the exact field
//!   path the error must carry and a substring of the rule.
//! * Canonical bytes (`canonical::decode`): each case edits a valid
//!   canonical record and names the error it must produce (a line of a
//!   `NotCanonical` error, or the field of an `Invalid` one).

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use serde_json::{Value, json};

use oretrace_domain::canonical::{decode, encode};
use oretrace_domain::wire::RecordJson;
use oretrace_domain::{Error, Record};
use oretrace_tlog::note::NoteSigner;

// ------------------------------------------------------------ valid bases

fn vkey(name: &str, seed: u8) -> String {
    NoteSigner::from_seed(name, [seed; 32])
        .unwrap()
        .verifier()
        .to_vkey()
}

fn party() -> Value {
    json!({
        "kind": "party",
        "id": "fwo",
        "name": "Frontier Works Organisation (FWO)",
        "party_kind": "state-body",
        "country": "PK",
        "keys": [vkey("fwo/records", 0x11), vkey("fwo/field-lab", 0x12)],
        "owners": [{"owner": "gov-pk", "share_percent": "100", "controls": true}],
        "time": "2025-09-08T09:00:00Z",
        "figures": "illustrative"
    })
}

fn site() -> Value {
    json!({
        "kind": "site",
        "id": "karachi-port",
        "name": "Karachi Port",
        "site_kind": "port",
        "operator": "kpt",
        "country": "PK",
        "location": {"lat": 24.835, "lon": 66.982},
        "time": "2025-09-01T00:00:00Z",
        "figures": "reported"
    })
}

fn lot() -> Value {
    json!({
        "kind": "lot",
        "id": "urn:oretrace:lot:fwo:sb-001",
        "commodity": "antimony",
        "form": "sample",
        "site": "fwo-qila-abdullah",
        "wet_mass": {"value": "12.5", "unit": "kg"},
        "moisture_percent": 3.2,
        "time": "2025-08-20T06:30:00Z",
        "figures": "illustrative"
    })
}

fn assay() -> Value {
    json!({
        "kind": "assay",
        "lot": "urn:oretrace:lot:fwo:sb-con-001",
        "analyte": "Sb",
        "value": "58.4",
        "unit": "%",
        "basis": "dry",
        "method": "HCl digestion, potassium bromate titration",
        "laboratory": "pk-geolab",
        "certificate_sha256": "f3c767ab138915a3de61155de2b7c0c9820e9d5a780095348e8a7d0d59b87b29",
        "time": "2025-09-03T08:45:00Z",
        "figures": "illustrative"
    })
}

fn shipment() -> Value {
    json!({
        "kind": "shipment",
        "id": "fwo-ussm-2025-001",
        "lots": ["urn:oretrace:lot:fwo:sb-con-001", "urn:oretrace:lot:fwo:cu-con-001", "urn:oretrace:lot:fwo:ree-001"],
        "from": "fwo-sample-prep",
        "to": "ussm-fredericktown",
        "via": ["karachi-port"],
        "receiver": "ussm",
        "documents": [{"kind": "bol", "reference": "KHI-2025-0917-001"}],
        "time": "2025-09-17T04:00:00Z",
        "figures": "illustrative"
    })
}

fn receipt() -> Value {
    json!({
        "kind": "receipt",
        "shipment": "fwo-ussm-2025-001",
        "site": "ussm-fredericktown",
        "lots": [
            {"lot": "urn:oretrace:lot:fwo:sb-con-001", "mass": {"value": "6.18", "unit": "kg"}},
            {"lot": "urn:oretrace:lot:fwo:cu-con-001", "mass": {"value": "4.95", "unit": "kg"}}
        ],
        "time": "2025-10-02T15:30:00Z",
        "figures": "illustrative"
    })
}

fn transformation() -> Value {
    json!({
        "kind": "transformation",
        "id": "fwo-prep-sb-001",
        "site": "fwo-sample-prep",
        "process": "Crushing, hand sorting and flotation",
        "inputs": [
            {"lot": "urn:oretrace:lot:fwo:sb-001", "mass": {"value": "12.5", "unit": "kg"}},
            {"lot": "urn:oretrace:lot:fwo:sb-002", "mass": {"value": "8.75", "unit": "kg"}}
        ],
        "outputs": [
            {"id": "urn:oretrace:lot:fwo:sb-con-001", "commodity": "antimony", "form": "concentrate",
             "wet_mass": {"value": "6.2", "unit": "kg"}, "moisture_percent": "1.5"},
            {"id": "urn:oretrace:lot:fwo:sb-mid-001", "commodity": "antimony", "form": "ore",
             "wet_mass": {"value": "13.9", "unit": "kg"}, "moisture_percent": "2.1"}
        ],
        "time": "2025-09-01T13:00:00Z",
        "figures": "illustrative"
    })
}

fn bases() -> Vec<Value> {
    vec![
        party(),
        site(),
        lot(),
        assay(),
        shipment(),
        receipt(),
        transformation(),
    ]
}

// ----------------------------------------------------------------- edits

/// `base` with the value at a JSON pointer set (an object member is added
/// if missing).
fn set(mut base: Value, pointer: &str, value: Value) -> String {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let shown = base.to_string();
    let target = base
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent} in {shown}"));
    match target {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        _ => panic!("{parent} is not a container"),
    }
    base.to_string()
}

fn remove(mut base: Value, pointer: &str) -> String {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let removed = base
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove(key));
    assert!(removed.is_some(), "nothing at {pointer}");
    base.to_string()
}

// ------------------------------------------------------------ JSON table

struct Case {
    name: &'static str,
    json: String,
    field: &'static str,
    rule: &'static str,
}

fn case(
    name: &'static str,
    json: impl Into<String>,
    field: &'static str,
    rule: &'static str,
) -> Case {
    Case {
        name,
        json: json.into(),
        field,
        rule,
    }
}

#[rustfmt::skip]
fn json_cases() -> Vec<Case> {
    let fwo = |id: &str| format!("urn:oretrace:lot:fwo:{id}");
    vec![
        // The JSON itself: these name the whole record.
        case("malformed JSON", r#"{"kind": "lot", "id": "#, "record", "EOF while parsing"),
        case("empty input", "", "record", "EOF while parsing"),
        case("trailing garbage", format!("{} x", lot()), "record", "trailing characters"),
        case("an array", "[]", "record", "missing field `kind`"),
        case("unknown top-level field", set(lot(), "/colour", json!("grey")), "record", "unknown field `colour`"),
        case("unknown field in wet_mass", set(lot(), "/wet_mass/colour", json!("grey")), "record", "unknown field `colour`, expected `value` or `unit`"),
        case("unknown field in location", set(site(), "/location/alt", json!(3)), "record", "unknown field `alt`"),
        case("unknown field in an owner", set(party(), "/owners/0/golden_share", json!(true)), "record", "unknown field `golden_share`"),
        case("unknown field in an output", set(transformation(), "/outputs/1/grade", json!(1)), "record", "unknown field `grade`"),
        case("unknown kind", set(lot(), "/kind", json!("mine")), "record", "unknown variant `mine`"),
        case("kind in capitals", set(lot(), "/kind", json!("Lot")), "record", "unknown variant `Lot`"),
        case("no kind", remove(lot(), "/kind"), "record", "missing field `kind`"),
        case("another kind's fields", set(lot(), "/kind", json!("assay")), "record", "unknown field `commodity`"),
        case("missing field", remove(lot(), "/wet_mass"), "record", "missing field `wet_mass`"),
        case("mass value of the wrong type", set(lot(), "/wet_mass/value", json!(true)), "record", "did not match any variant"),
        case("id of the wrong type", set(lot(), "/id", json!(7)), "record", "invalid type"),
        // Units.
        case("mass in pounds", set(lot(), "/wet_mass/unit", json!("lb")), "wet_mass.unit", "not a mass unit (kg or t)"),
        case("mass unit in capitals", set(lot(), "/wet_mass/unit", json!("KG")), "wet_mass.unit", "not a mass unit"),
        case("grade in mg", set(assay(), "/unit", json!("mg")), "unit", "not a grade unit (%, ppm or g/t)"),
        case("input mass in pounds", set(transformation(), "/inputs/1/mass/unit", json!("lb")), "inputs[1].mass.unit", "not a mass unit"),
        // Masses.
        case("negative mass", set(lot(), "/wet_mass/value", json!(-5)), "wet_mass.value", "a mass may not be negative"),
        case("negative mass as text", set(lot(), "/wet_mass/value", json!("-0.5")), "wet_mass.value", "a mass may not be negative"),
        case("negative receipt mass", set(receipt(), "/lots/1/mass/value", json!("-4.95")), "lots[1].mass.value", "may not be negative"),
        case("negative output mass", set(transformation(), "/outputs/1/wet_mass/value", json!(-13.9)), "outputs[1].wet_mass.value", "may not be negative"),
        case("mass with exponent text", set(lot(), "/wet_mass/value", json!("1.25e1")), "wet_mass.value", "is not a decimal number"),
        case("mass with a comma", set(lot(), "/wet_mass/value", json!("12,5")), "wet_mass.value", "is not a decimal number"),
        case("mass with 13 decimals", set(lot(), "/wet_mass/value", json!("0.0000000000001")), "wet_mass.value", "at most 12 decimal places"),
        case("tiny mass as a JSON number", set(lot(), "/wet_mass/value", json!(1e-13)), "wet_mass.value", "at most 12 decimal places"),
        // Moisture.
        case("moisture 100", set(lot(), "/moisture_percent", json!(100)), "moisture_percent", "a percentage must be below 100"),
        case("moisture -1", set(lot(), "/moisture_percent", json!(-1)), "moisture_percent", "a percentage may not be negative"),
        case("moisture as words", set(lot(), "/moisture_percent", json!("dry")), "moisture_percent", "is not a decimal number"),
        case("output moisture 100", set(transformation(), "/outputs/0/moisture_percent", json!("100")), "outputs[0].moisture_percent", "below 100"),
        // Grades.
        case("grade 101 %", set(assay(), "/value", json!(101)), "value", "a grade may not exceed 100 %"),
        case("grade 1,000,001 ppm", set(set_value(assay(), "/unit", json!("ppm")), "/value", json!(1_000_001)), "value", "a grade may not exceed 100 %"),
        case("grade 1,000,001 g/t", set(set_value(assay(), "/unit", json!("g/t")), "/value", json!("1000001")), "value", "may not exceed 100 %"),
        case("negative grade", set(assay(), "/value", json!("-0.5")), "value", "a grade may not be negative"),
        case("formula with a 1", set(assay(), "/analyte", json!("Sb1")), "analyte", "is not an element (Nd) or oxide (Nd2O3) formula"),
        case("oxide with a 1", set(assay(), "/analyte", json!("Nd1O3")), "analyte", "formula"),
        case("unknown element", set(assay(), "/analyte", json!("Xx")), "analyte", "not an element symbol this registry knows"),
        case("lower-case formula", set(assay(), "/analyte", json!("nd2o3")), "analyte", "formula"),
        case("unknown basis", set(assay(), "/basis", json!("moist")), "basis", "is not one of: dry, wet"),
        case("certificate in capitals", set(assay(), "/certificate_sha256", json!("F3C767AB138915A3DE61155DE2B7C0C9820E9D5A780095348E8A7D0D59B87B29")), "certificate_sha256", "64 lower-case hex digits"),
        case("short certificate", set(assay(), "/certificate_sha256", json!("f3c767ab")), "certificate_sha256", "64 lower-case hex digits"),
        // Places.
        case("latitude 91", set(site(), "/location/lat", json!(91)), "location.lat", "latitude must be between -90 and 90"),
        case("latitude -90.0001", set(site(), "/location/lat", json!("-90.0001")), "location.lat", "latitude must be between -90 and 90"),
        case("longitude 181", set(site(), "/location/lon", json!(181)), "location.lon", "longitude must be between -180 and 180"),
        case("latitude as words", set(site(), "/location/lat", json!("north")), "location.lat", "is not a decimal number"),
        case("lower-case country", set(site(), "/country", json!("pk")), "country", "ISO 3166-1 alpha-2"),
        case("three-letter country", set(party(), "/country", json!("PAK")), "country", "ISO 3166-1 alpha-2"),
        case("unknown site kind", set(site(), "/site_kind", json!("harbour")), "site_kind", "is not one of: exploration-area"),
        case("site id with spaces", set(site(), "/id", json!("Karachi Port")), "id", "a site id must start with a lower-case letter or digit"),
        // Times.
        case("a date without time", set(lot(), "/time", json!("2025-09-08")), "time", "a time is UTC to the second"),
        case("a local time", set(lot(), "/time", json!("2025-09-08T15:00:00+05:00")), "time", "a time is UTC to the second"),
        case("fractional seconds", set(lot(), "/time", json!("2025-09-08T10:00:00.5Z")), "time", "UTC to the second"),
        case("30 February", set(lot(), "/time", json!("2025-02-30T10:00:00Z")), "time", "UTC to the second"),
        // Identifiers and text.
        case("lot id with a space", set(lot(), "/id", json!("urn:oretrace:lot:fwo:sb 001")), "id", "a lot id may not contain ' '"),
        case("lot id without scheme", set(lot(), "/id", json!("sb-001")), "id", "a lot id must be a URI"),
        case("assay of a lot id with a space", set(assay(), "/lot", json!("urn:oretrace:lot:fwo:sb con")), "lot", "may not contain ' '"),
        case("shipped lot id with a space", set(shipment(), "/lots/1", json!("urn:oretrace:lot:fwo:cu con")), "lots[1]", "may not contain ' '"),
        case("received lot id with a tab", set(receipt(), "/lots/0/lot", json!("urn:oretrace:lot:fwo:sb\tcon")), "lots[0].lot", "may not contain '\\t'"),
        case("unknown commodity form", set(lot(), "/form", json!("powder")), "form", "is not one of: sample"),
        case("commodity in capitals", set(lot(), "/commodity", json!("Antimony")), "commodity", "a term must start with a lower-case letter or digit"),
        case("party id in capitals", set(party(), "/id", json!("FWO")), "id", "a party id must start with a lower-case letter or digit"),
        case("name with a line break", set(party(), "/name", json!("Frontier Works\nOrganisation")), "name", "may not contain control characters or line breaks"),
        case("name with a trailing space", set(party(), "/name", json!("FWO ")), "name", "may not start or end with spaces"),
        case("empty name", set(party(), "/name", json!("")), "name", "text must be 1 to 512 bytes"),
        case("unknown party kind", set(party(), "/party_kind", json!("army")), "party_kind", "is not one of: company"),
        case("unknown figures", set(lot(), "/figures", json!("estimated")), "figures", "\"reported\" or \"illustrative\""),
        // Party keys and owners.
        case("party key of another party", set(party(), "/keys/0", json!(vkey("ussm/records", 0x22))), "keys[0]", "the key name must start with fwo/"),
        case("party key with a bare name", set(party(), "/keys/1", json!(vkey("fwo", 0x13))), "keys[1]", "the key name must start with fwo/"),
        case("party key of a prefix-sharing party", set(party(), "/keys/0", json!(vkey("fwo-x/records", 0x13))), "keys[0]", "must start with fwo/"),
        case("party key that is not a vkey", set(party(), "/keys/1", json!("fwo/field-lab+zz")), "keys[1]", "verifier key"),
        case("party key with a wrong key id", set(party(), "/keys/0", json!(vkey("fwo/records", 0x11).replacen("+ccdaacfa+", "+00000000+", 1))), "keys[0]", "does not match the key"),
        case("party key listed twice", set(party(), "/keys/1", json!(vkey("fwo/records", 0x11))), "keys[1]", "the same key is listed twice"),
        case("party without keys", set(party(), "/keys", json!([])), "keys", "a party lists 1 to 8 keys"),
        case("party owning itself", set(party(), "/owners/0/owner", json!("fwo")), "owners[0].owner", "a party cannot own itself"),
        case("owner share 101", set(party(), "/owners/0/share_percent", json!(101)), "owners[0].share_percent", "a percentage must be at most 100"),
        case("negative owner share", set(party(), "/owners/0/share_percent", json!("-1")), "owners[0].share_percent", "may not be negative"),
        case("owners summing over 100 %", set(party(), "/owners", json!([{"owner": "gov-pk", "share_percent": "60", "controls": true}, {"owner": "nlc", "share_percent": "40.5"}])), "owners", "ownership shares add up to more than 100 %"),
        // Shipments, receipts, transformations.
        case("duplicated lots in a shipment", set(shipment(), "/lots/2", json!(fwo("sb-con-001"))), "lots[2]", "is listed twice"),
        case("shipment without lots", set(shipment(), "/lots", json!([])), "lots", "lists 1 to 256 items"),
        case("shipment to the same site", set(shipment(), "/to", json!("fwo-sample-prep")), "to", "a shipment goes to another site"),
        case("unknown document kind", set(shipment(), "/documents/0/kind", json!("memo")), "documents[0].kind", "is not one of: bol, inv"),
        case("empty document reference", set(shipment(), "/documents/0/reference", json!("")), "documents[0].reference", "1 to 512 bytes"),
        case("port name instead of site id", set(shipment(), "/via/0", json!("Karachi Port")), "via[0]", "a site id must start with"),
        case("duplicated lots in a receipt", set(receipt(), "/lots/1/lot", json!(fwo("sb-con-001"))), "lots[1]", "is listed twice"),
        case("receipt without lots", set(receipt(), "/lots", json!([])), "lots", "lists 1 to 256 items"),
        case("transformation output equal to an input", set(transformation(), "/outputs/1/id", json!(fwo("sb-002"))), "outputs[1].id", "an output cannot be one of the inputs"),
        case("transformation input listed twice", set(transformation(), "/inputs/1/lot", json!(fwo("sb-001"))), "inputs[1]", "is listed twice"),
        case("transformation output listed twice", set(transformation(), "/outputs/1/id", json!(fwo("sb-con-001"))), "outputs[1]", "is listed twice"),
        case("transformation without outputs", set(transformation(), "/outputs", json!([])), "outputs", "lists 1 to 256 items"),
        case("transformation without inputs", set(transformation(), "/inputs", json!([])), "inputs", "lists 1 to 256 items"),
    ]
}

fn set_value(base: Value, pointer: &str, value: Value) -> Value {
    serde_json::from_str(&set(base, pointer, value)).unwrap()
}

#[test]
fn the_bases_are_valid() {
    for base in bases() {
        let record = RecordJson::parse(base.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{base}: {e}"));
        assert_eq!(record.kind(), base["kind"]);
        assert_eq!(decode(&encode(&record)).unwrap(), record);
    }
}

#[test]
fn bad_json_records_name_the_field_and_the_rule() {
    let cases = json_cases();
    let mut failures = Vec::new();
    for c in &cases {
        match RecordJson::parse(c.json.as_bytes()) {
            Ok(record) => failures.push(format!("{}: accepted as {record:?}", c.name)),
            Err(Error::Invalid { field, rule }) => {
                if field != c.field || !rule.contains(c.rule) {
                    failures.push(format!(
                        "{}: got {field:?}: {rule:?}, expected {:?} with {:?}",
                        c.name, c.field, c.rule
                    ));
                }
            }
            Err(other) => failures.push(format!("{}: not an Invalid error: {other:?}", c.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn case_names_are_unique() {
    let cases = json_cases();
    for (i, c) in cases.iter().enumerate() {
        assert!(
            !cases[..i].iter().any(|d| d.name == c.name),
            "{} twice",
            c.name
        );
    }
}

#[test]
fn error_messages_read_field_colon_rule() {
    let err = RecordJson::parse(set(lot(), "/wet_mass/unit", json!("lb")).as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "wet_mass.unit: unit \"lb\" is not a mass unit (kg or t)"
    );
    assert_eq!(err.field(), Some("wet_mass.unit"));
    // Canonical errors name the line and the key (and the sub-field, if any).
    let site = canonical_of(site());
    let err = decode(&edit(&site, "location 24.835", "location 91")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "canonical record, line 8: location.lat: latitude must be between -90 and 90"
    );
    let err = decode(&edit(&site, "country PK", "country pk")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "canonical record, line 7: country: a country is an ISO 3166-1 alpha-2 code such as PK or US"
    );
}

/// What the JSON side accepts and normalises (so the table above is about
/// rules, not about spelling).
#[test]
fn lenient_but_exact_json_numbers() {
    let parse = |v: Value| {
        RecordJson::parse(set(lot(), "/moisture_percent", v).as_bytes()).map(|r| encode(&r))
    };
    let moisture_line = |bytes: Vec<u8>| {
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .find(|l| l.starts_with("moisture "))
            .unwrap()
            .to_owned()
    };
    for (value, line) in [
        (json!("3.20"), "moisture 3.2"),
        (json!(3.2), "moisture 3.2"),
        (json!(3), "moisture 3"),
        (json!(0), "moisture 0"),
        (json!("-0"), "moisture 0"),
        (json!(0.000001), "moisture 0.000001"),
        (json!(1e-7), "moisture 0.0000001"),
        (json!(99.999999999999), "moisture 99.999999999999"),
    ] {
        assert_eq!(
            moisture_line(parse(value.clone()).unwrap_or_else(|e| panic!("{value}: {e}"))),
            line,
            "{value}"
        );
    }
    // Large masses given as JSON numbers with an exponent.
    let record =
        RecordJson::parse(set(lot(), "/wet_mass/value", json!(2.5e11)).as_bytes()).unwrap();
    let Record::Lot(large) = record else {
        unreachable!()
    };
    assert_eq!(large.wet_mass.to_string(), "250000000000 kg");
    // Beyond 10^12 kg a mass is refused, naming the field: no sum or
    // product of masses the rules compute can then overflow.
    for (value, unit) in [
        (json!(2.5e16), "kg"),
        (json!("100000000000000000000000000"), "t"),
        (json!("1000000000.001"), "t"),
    ] {
        let huge = set_value(lot(), "/wet_mass/value", value.clone());
        let huge = set(huge, "/wet_mass/unit", json!(unit));
        let error = RecordJson::parse(huge.as_bytes()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("wet_mass.value: a mass may not exceed"),
            "{value} {unit}: {error}"
        );
    }
    // A site stating its figures as reported.
    let record = RecordJson::parse(site().to_string().as_bytes()).unwrap();
    assert_eq!(record.figures(), oretrace_domain::record::Figures::Reported);
}

/// Element and oxide formulas in their canonical spelling decode.
#[test]
fn canonical_formulas_decode() {
    let assay = canonical_of(assay());
    for formula in ["Sb", "Nd2O3", "Pr6O11", "CeO2", "CuO", "Sb2O3"] {
        let bytes = edit(&assay, "analyte Sb\n", &format!("analyte {formula}\n"));
        let record = decode(&bytes).unwrap_or_else(|e| panic!("{formula}: {e}"));
        assert_eq!(encode(&record), bytes, "{formula}");
    }
}

// ------------------------------------------------------- canonical table

#[derive(Debug)]
enum Expect {
    /// `NotCanonical` at this line (0: the whole text; 1: the header).
    Line(usize),
    /// `Invalid` naming this field.
    Field(&'static str),
}

struct Bytes {
    name: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
}

fn canonical_of(json: Value) -> String {
    String::from_utf8(encode(
        &RecordJson::parse(json.to_string().as_bytes()).unwrap(),
    ))
    .unwrap()
}

/// `text` with the first `from` replaced by `to`; panics if absent.
fn edit(text: &str, from: &str, to: &str) -> Vec<u8> {
    assert!(text.contains(from), "{from:?} not in\n{text}");
    text.replacen(from, to, 1).into_bytes()
}

/// `text` with the line `line` moved to just before `before`.
fn moved(text: &str, line: &str, before: &str) -> Vec<u8> {
    let without = String::from_utf8(edit(text, line, "")).unwrap();
    edit(&without, before, &format!("{line}{before}"))
}

#[rustfmt::skip]
fn canonical_cases() -> Vec<Bytes> {
    let lot = canonical_of(lot());
    let assay = canonical_of(assay());
    let party = canonical_of(party());
    let site = canonical_of(site());
    let receipt = canonical_of(receipt());
    let b = |name: &'static str, bytes: Vec<u8>, expect: Expect| Bytes { name, bytes, expect };
    use Expect::*;
    vec![
        // Numbers in non-canonical form: parsed, then refused on re-encoding.
        b("trailing zeros", edit(&lot, "wet-mass 12.5 kg", "wet-mass 12.50 kg"), Line(0)),
        b("trailing zero point", edit(&lot, "moisture 3.2\n", "moisture 3.2000\n"), Line(0)),
        b("integer with a point", edit(&party, "owner gov-pk 100 controls", "owner gov-pk 100.0 controls"), Line(0)),
        b("leading zero", edit(&lot, "moisture 3.2\n", "moisture 03.2\n"), Line(0)),
        b("negative zero", edit(&lot, "moisture 3.2\n", "moisture -0\n"), Line(0)),
        b("plus sign", edit(&lot, "moisture 3.2\n", "moisture +3.2\n"), Line(8)),
        b("exponent", edit(&lot, "moisture 3.2\n", "moisture 32e-1\n"), Line(8)),
        b("no digit before the point", edit(&site, "location 24.835 66.982", "location .835 66.982"), Line(8)),
        b("coordinates with a comma", edit(&site, "location 24.835 66.982", "location 24.835,66.982"), Line(8)),
        // Fields out of order, extra, missing, repeated.
        b("reordered fields", edit(&lot, "commodity antimony\nform sample\n", "form sample\ncommodity antimony\n"), Line(4)),
        b("time after figures", edit(&lot, "time 2025-08-20T06:30:00Z\nfigures illustrative\n", "figures illustrative\ntime 2025-08-20T06:30:00Z\n"), Line(9)),
        b("extra field in the middle", edit(&lot, "moisture 3.2\n", "moisture 3.2\ncolour grey\n"), Line(9)),
        b("extra field at the end", [lot.as_bytes(), b"colour grey\n"].concat(), Line(11)),
        b("repeated field", edit(&lot, "form sample\n", "form sample\nform sample\n"), Line(6)),
        b("missing field", edit(&lot, "moisture 3.2\n", ""), Line(8)),
        b("key without a value", edit(&lot, "moisture 3.2\n", "moisture\n"), Line(8)),
        b("empty value", edit(&lot, "moisture 3.2\n", "moisture \n"), Line(8)),
        b("owner before the keys", moved(&party, "owner gov-pk 100 controls\n", "key fwo/records"), Line(8)),
        // Whole-text shape.
        b("missing final newline", lot.strip_suffix('\n').unwrap().as_bytes().to_vec(), Line(0)),
        b("blank line at the end", [lot.as_bytes(), b"\n"].concat(), Line(11)),
        b("blank line in the middle", edit(&lot, "form sample\n", "form sample\n\n"), Line(6)),
        b("CRLF line endings", lot.replace('\n', "\r\n").into_bytes(), Line(1)),
        b("CR before the final newline", edit(&lot, "figures illustrative\n", "figures illustrative\r\n"), Line(10)),
        b("byte order mark", [b"\xEF\xBB\xBF".as_slice(), lot.as_bytes()].concat(), Line(1)),
        b("other version", edit(&lot, "oretrace.record/v1\n", "oretrace.record/v2\n"), Line(1)),
        b("no header", edit(&lot, "oretrace.record/v1\n", ""), Line(1)),
        b("empty input", Vec::new(), Line(0)),
        b("just a newline", b"\n".to_vec(), Line(1)),
        b("not UTF-8", edit(&lot, "form sample", "form sample\u{ff}") .into_iter() .filter(|&c| c != 0xc3) .collect(), Line(0)),
        // Kinds.
        b("unknown kind", edit(&lot, "kind lot\n", "kind mine\n"), Line(2)),
        b("kind in capitals", edit(&lot, "kind lot\n", "kind Lot\n"), Line(2)),
        b("kind of another record", edit(&lot, "kind lot\n", "kind assay\n"), Line(3)),
        // Spacing.
        b("trailing space", edit(&lot, "figures illustrative\n", "figures illustrative \n"), Line(10)),
        b("trailing space in text", edit(&party, "(FWO)\n", "(FWO) \n"), Line(4)),
        b("trailing space after a lot id", edit(&lot, "sb-001\n", "sb-001 \n"), Line(3)),
        b("leading space", edit(&lot, "kind lot\n", " kind lot\n"), Line(2)),
        b("two spaces", edit(&lot, "wet-mass 12.5 kg", "wet-mass 12.5  kg"), Line(7)),
        b("two spaces after the key", edit(&lot, "form sample", "form  sample"), Line(5)),
        b("tab for space", edit(&lot, "form sample", "form\tsample"), Line(5)),
        // Formulas, units, words.
        b("formula Sb written Sb1", edit(&assay, "analyte Sb\n", "analyte Sb1\n"), Line(4)),
        b("oxide CuO written CuO1", edit(&assay, "analyte Sb\n", "analyte CuO1\n"), Line(4)),
        b("oxide CuO written Cu1O", edit(&assay, "analyte Sb\n", "analyte Cu1O\n"), Line(4)),
        b("oxide Nd2O3 written Nd02O3", edit(&assay, "analyte Sb\n", "analyte Nd02O3\n"), Line(4)),
        b("oxide NdO written Nd1O1", edit(&assay, "analyte Sb\n", "analyte Nd1O1\n"), Line(4)),
        b("formula in lower case", edit(&assay, "analyte Sb\n", "analyte sb\n"), Line(4)),
        b("unit in capitals", edit(&lot, "12.5 kg", "12.5 KG"), Line(7)),
        b("unit spelt out", edit(&receipt, "6.18 kg", "6.18 kilograms"), Line(5)),
        b("mass without a space", edit(&receipt, "6.18 kg", "6.18kg"), Line(5)),
        b("percent spelt out", edit(&assay, "unit %\n", "unit percent\n"), Line(6)),
        b("bool in capitals", edit(&site, "approximate false", "approximate False"), Line(9)),
        b("bool as a digit", edit(&site, "approximate false", "approximate 0"), Line(9)),
        b("owner neither controls nor holds", edit(&party, "100 controls", "100 owns"), Line(9)),
        b("time with milliseconds", edit(&lot, "06:30:00Z", "06:30:00.000Z"), Line(9)),
        b("time with an offset", edit(&lot, "06:30:00Z", "06:30:00+00:00"), Line(9)),
        b("lower-case country", edit(&site, "country PK", "country pk"), Line(7)),
        b("certificate in capitals", edit(&assay, "f3c767ab", "F3C767AB"), Line(10)),
        // Canonical in form, but breaking a record's own rule.
        b("moisture 100", edit(&lot, "moisture 3.2\n", "moisture 100\n"), Field("moisture_percent")),
        b("grade 101 %", edit(&assay, "value 58.4\n", "value 101\n"), Field("value")),
        b("key of another party", edit(&party, &vkey("fwo/records", 0x11), &vkey("ussm/records", 0x22)), Field("keys[0]")),
        b("owners over 100 %", edit(&party, "owner gov-pk 100 controls\n", "owner gov-pk 100 controls\nowner nlc 1 holds\n"), Field("owners")),
        b("shipment to the same site", edit(&canonical_of(shipment()), "to ussm-fredericktown", "to fwo-sample-prep"), Field("to")),
        b("transformation output equal to an input", edit(&canonical_of(transformation()), "output urn:oretrace:lot:fwo:sb-con-001", "output urn:oretrace:lot:fwo:sb-001"), Field("outputs[0].id")),
    ]
}

#[test]
fn non_canonical_bytes_are_refused() {
    let cases = canonical_cases();
    let mut failures = Vec::new();
    for c in &cases {
        let result = decode(&c.bytes);
        let ok = match (&result, &c.expect) {
            (Err(Error::NotCanonical { line, .. }), Expect::Line(expected)) => line == expected,
            (Err(Error::Invalid { field, .. }), Expect::Field(expected)) => field == expected,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: got {result:?}, expected {:?}",
                c.name, c.expect
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn canonical_case_names_are_unique() {
    let cases = canonical_cases();
    for (i, c) in cases.iter().enumerate() {
        assert!(
            !cases[..i].iter().any(|d| d.name == c.name),
            "{} twice",
            c.name
        );
    }
}
