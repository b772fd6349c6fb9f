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

/// The golden example of a kind, as JSON (the agreement kinds' bases).
fn golden(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

fn agreement() -> Value {
    golden(include_str!("golden/agreement-sealed.json"))
}

fn amendment() -> Value {
    golden(include_str!("golden/agreement-public.json"))
}

fn countersignature() -> Value {
    golden(include_str!("golden/countersignature.json"))
}

fn disclosure() -> Value {
    golden(include_str!("golden/disclosure.json"))
}

fn progress() -> Value {
    golden(include_str!("golden/progress.json"))
}

fn report() -> Value {
    golden(include_str!("golden/report.json"))
}

fn resource() -> Value {
    golden(include_str!("golden/resource.json"))
}

fn custody_model() -> Value {
    golden(include_str!("golden/custody-model.json"))
}

fn attribute_claim() -> Value {
    golden(include_str!("golden/attribute-claim.json"))
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
        agreement(),
        amendment(),
        countersignature(),
        disclosure(),
        progress(),
        report(),
        resource(),
        custody_model(),
        attribute_claim(),
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
        // Agreements.
        case("agreement id outside a namespace", set(agreement(), "/id", json!("mou-ussm-2025")), "id", "is not <party id>:<name>"),
        case("agreement id with a capital", set(agreement(), "/id", json!("fwo:MoU")), "id", "starts with a lower-case letter or digit"),
        case("agreement version 0", set(agreement(), "/version", json!(0)), "version", "versions count from 1"),
        case("agreement version as text", set(agreement(), "/version", json!("1")), "record", "invalid type"),
        case("version 1 amending", set(agreement(), "/amends", json!(1)), "amends", "version 1 amends nothing"),
        case("amends the wrong version", set(amendment(), "/amends", json!(3)), "amends", "version 2 amends version 1"),
        case("amendment amending nothing", remove(amendment(), "/amends"), "amends", "version 2 amends version 1"),
        case("unknown agreement kind", set(agreement(), "/agreement_kind", json!("treaty")), "agreement_kind", "is not one of: mou"),
        case("unknown agreement status", set(agreement(), "/status", json!("draft")), "status", "is not one of: signed"),
        case("agreement of one party", set(agreement(), "/parties", json!(["fwo"])), "parties", "lists 2 to 16 items"),
        case("agreement party listed twice", set(agreement(), "/parties/1", json!("fwo")), "parties[1]", "is listed twice"),
        case("signing date with a time", set(agreement(), "/signed", json!("2025-09-08T00:00:00Z")), "signed", "write YYYY-MM-DD"),
        case("signed on 31 September", set(agreement(), "/signed", json!("2025-09-31")), "signed", "is not a date"),
        case("amount without currency", remove(agreement(), "/value/currency"), "value.currency", "an amount carries an ISO 4217 currency code"),
        case("amount in a withdrawn currency", set(agreement(), "/value/currency", json!("DEM")), "value.currency", "not an ISO 4217 currency code in use"),
        case("currency in lower case", set(agreement(), "/value/currency", json!("usd")), "value.currency", "capitals: USD"),
        case("negative amount", set(agreement(), "/value/amount", json!(-1)), "value.amount", "an amount is not negative"),
        case("amount with an exponent", set(agreement(), "/value/amount", json!("5e8")), "value.amount", "is not a decimal number"),
        case("pledge due before signing", set(agreement(), "/pledges/0/due", json!("2025-09-01")), "pledges[0].due", "due on or after the signing date (2025-09-08)"),
        case("pledge id listed twice", set(agreement(), "/pledges/1/id", json!("p1")), "pledges[1].id", "pledge p1 is listed twice"),
        case("pledge amount without currency", remove(agreement(), "/pledges/0/quantity/money/currency"), "pledges[0].quantity.money.currency", "ISO 4217"),
        case("pledge amount negative", set(agreement(), "/pledges/0/quantity/money/amount", json!("-5")), "pledges[0].quantity.money.amount", "not negative"),
        case("pledge mass in pounds", set(agreement(), "/pledges/1/quantity/mass/unit", json!("lb")), "pledges[1].quantity.mass.unit", "not a mass unit"),
        case("pledge count negative", set(agreement(), "/pledges/2/quantity/count/value", json!(-2)), "pledges[2].quantity.count.value", "a count is 0 to"),
        case("pledge count unit in capitals", set(agreement(), "/pledges/2/quantity/count/unit", json!("Facility")), "pledges[2].quantity.count.unit", "a term must start"),
        case("pledge quantity of no known kind", set(agreement(), "/pledges/0/quantity", json!({"volume": {"value": 1, "unit": "m3"}})), "record", "unknown variant `volume`"),
        case("pledge quantity of two kinds", set(agreement(), "/pledges/0/quantity", json!({"money": {"amount": 1, "currency": "USD"}, "mass": {"value": 1, "unit": "t"}})), "record", ""),
        case("pledge description with a line break", set(agreement(), "/pledges/0/description", json!("First\nphase")), "pledges[0].description", "line breaks"),
        case("source document digest in capitals", set(agreement(), "/documents/0/digest", json!("493D3108F4E508D9263816EEFBD045CCEE32DECF5380315E3483EE62A7704F0C")), "documents[0].digest", "64 lower-case hex digits"),
        case("sealed root too short", set(agreement(), "/terms/sealed/root", json!("afbc")), "terms.sealed.root", "64 lower-case hex digits"),
        case("sealed text of no clauses", set(agreement(), "/terms/sealed/count", json!(0)), "terms.sealed.count", "a sealed text has 1 to 100000 clauses"),
        case("disclosure planned before signing", set(agreement(), "/terms/sealed/disclose_by", json!("2025-01-01")), "terms.sealed.disclose_by", "is before the signing date"),
        case("sealed and public at once", set(agreement(), "/terms/public", json!({"clauses": ["x"]})), "record", ""),
        case("sealed terms with a text field", set(agreement(), "/terms/sealed/text", json!("the secret")), "record", "unknown field `text`"),
        case("public text of no clauses", set(amendment(), "/terms/public/clauses", json!([])), "terms.public.clauses", "a public version states 1 to 256 clauses"),
        case("public clause with a NUL", set(amendment(), "/terms/public/clauses/1", json!("Article\u{0}2")), "terms.public.clauses[1]", "may not contain U+0000"),
        case("empty public clause", set(amendment(), "/terms/public/clauses/0", json!("")), "terms.public.clauses[0]", "a clause is 1 to 32768 bytes"),
        // Countersignatures.
        case("countersignature digest too short", set(countersignature(), "/digest", json!("abc")), "digest", "64 lower-case hex digits"),
        case("countersignature of version 0", set(countersignature(), "/version", json!(0)), "version", "versions count from 1"),
        case("countersignature of a bare name", set(countersignature(), "/agreement", json!("mou-ussm-2025")), "agreement", "<party id>:<name>"),
        // Disclosures.
        case("salt not hex", set(disclosure(), "/clauses/0/salt", json!("zz".repeat(32))), "clauses[0].salt", "a salt is 64 lower-case hex digits"),
        case("salt in capitals", set(disclosure(), "/clauses/1/salt", json!("AB".repeat(32))), "clauses[1].salt", "a salt is 64 lower-case hex digits"),
        case("salt too short", set(disclosure(), "/clauses/0/salt", json!("11")), "clauses[0].salt", "64 lower-case hex"),
        case("proof hash too short", set(disclosure(), "/clauses/0/proof/1", json!("405d")), "clauses[0].proof[1]", "64 lower-case hex digits"),
        case("clause revealed twice", set(disclosure(), "/clauses/1/index", json!(1)), "clauses[1].index", "clause 1 is revealed twice"),
        case("clause index past the limit", set(disclosure(), "/clauses/1/index", json!(100_000)), "clauses[1].index", "a clause index is below 100000"),
        case("negative clause index", set(disclosure(), "/clauses/0/index", json!(-1)), "record", "invalid value"),
        case("revealed clause with a bell", set(disclosure(), "/clauses/0/text", json!("Article\u{7}2")), "clauses[0].text", "may not contain U+0007"),
        case("reveal of no clauses", set(disclosure(), "/clauses", json!([])), "clauses", "a reveal carries 1 to 64 clauses"),
        case("revealed clause without a salt", remove(disclosure(), "/clauses/0/salt"), "record", "missing field `salt`"),
        // Progress.
        case("progress on a pledge named in capitals", set(progress(), "/pledge", json!("P2")), "pledge", "a term must start"),
        case("delivered count negative", set(progress(), "/delivered", json!({"count": {"value": "-1", "unit": "facility"}})), "delivered.count.value", "a count is 0 to"),
        case("delivered amount without currency", set(progress(), "/delivered", json!({"money": {"amount": "5"}})), "delivered.money.currency", "ISO 4217"),
        case("delivered on no date", set(progress(), "/date", json!("soon")), "date", "is not a date"),
        case("evidence record listed twice", set(progress(), "/records/1", json!(6)), "records[1]", "is listed twice"),
        case("evidence record negative", set(progress(), "/records/0", json!(-6)), "record", "invalid value"),
        case("progress note empty", set(progress(), "/note", json!("")), "note", "1 to 512 bytes"),
        // Reports.
        case("report confirmed without confirmed_by", set(report(), "/status", json!("confirmed")), "confirmed_by", "a confirmed report names the agreement that confirms it"),
        case("report refuted without a source", set(report(), "/status", json!("refuted")), "refuted_by", "a refuted report names the source that refutes it"),
        case("unconfirmed report naming an agreement", set(report(), "/confirmed_by", json!("fwo:mou-ussm-2025")), "confirmed_by", "only a confirmed report names a confirming agreement"),
        case("confirming agreement outside a namespace", set(set_value(report(), "/status", json!("confirmed")), "/confirmed_by", json!("mou")), "confirmed_by", "<party id>:<name>"),
        case("report without sources", set(report(), "/sources", json!([])), "sources", "lists 1 to 64 items"),
        case("source URL not http", set(report(), "/sources/0/url", json!("ftp://example.org/a")), "sources[0].url", "http:// or https://"),
        case("source URL with a space", set(report(), "/sources/0/url", json!("https://example.org/a b")), "sources[0].url", "no spaces"),
        case("source archive not hex", set(report(), "/sources/0/archive", json!("archived")), "sources[0].archive", "64 lower-case hex digits"),
        case("source dated 2025-13-01", set(report(), "/sources/0/date", json!("2025-13-01")), "sources[0].date", "is not a date"),
        case("refuting source URL not http", set(set_value(report(), "/status", json!("refuted")), "/refuted_by", json!({"title": "Denial", "publisher": "Ministry", "date": "2025-10-07", "url": "denial"})), "refuted_by.url", "http:// or https://"),
        case("report country in lower case", set(report(), "/countries/0", json!("pk")), "countries[0]", "ISO 3166-1 alpha-2"),
        // Resource estimates.
        case("contained metal not tonnage × grade", set(resource(), "/contained/0/tonnes", json!("4000")), "contained[0].tonnes", "4000 t of Sb is not tonnage × grade (120000 t × 2.5 % Sb = 3000 t, within 1 %)"),
        case("contained metal of an ungraded element", set(resource(), "/contained/0/element", json!("Cu")), "contained[0].element", "Cu has no grade to compute it from"),
        case("contained metal of no element", set(resource(), "/contained/0/element", json!("Xx")), "contained[0].element", "not an element symbol"),
        case("zero tonnage", set(resource(), "/tonnes", json!(0)), "tonnes", "a tonnage is above 0"),
        case("resource grade over 100 %", set(resource(), "/grades/0/value", json!(101)), "grades[0].value", "a grade may not exceed 100 %"),
        case("resource without grades", set(resource(), "/grades", json!([])), "grades", "lists 1 to 64 items"),
        case("element graded twice", set(resource(), "/grades", json!([{"analyte": "Sb", "value": "2.5", "unit": "%"}, {"analyte": "Sb2O3", "value": "3", "unit": "%"}])), "grades[1].analyte", "Sb is graded twice"),
        case("unknown reporting code", set(resource(), "/code", json!("samrec")), "code", "is not one of: jorc"),
        case("unknown resource class", set(resource(), "/class", json!("possible")), "class", "is not one of: inferred"),
        case("resource effective date with a time", set(resource(), "/effective", json!("2025-06-30T00:00:00Z")), "effective", "YYYY-MM-DD"),
        // Chain-of-custody declarations and claims.
        case("unknown custody model", set(custody_model(), "/model", json!("book-and-claim")), "model", "is not one of: identity-preserved, segregated, controlled-blending, mass-balance"),
        case("declaration with no specified site", set(custody_model(), "/specified", json!([])), "specified", "lists 1 to 256 origin sites"),
        case("specified site listed twice", set(custody_model(), "/specified", json!(["fwo-saindak", "fwo-saindak"])), "specified[1]", "is listed twice"),
        case("specified site not an id", set(custody_model(), "/specified/1", json!("Reko Diq")), "specified[1]", "a site id"),
        case("period ending before it starts", set(custody_model(), "/until", json!("2024-12-31T00:00:00Z")), "until", "the period ends after it starts"),
        case("period of no length", set(custody_model(), "/until", json!("2025-01-01T00:00:00Z")), "until", "the period ends after it starts"),
        case("declaration without an attribute", remove(custody_model(), "/attribute"), "record", "missing field `attribute`"),
        case("claimed share above 1", set(attribute_claim(), "/share", json!("1.01")), "share", "a share is a fraction from 0 to 1"),
        case("claimed share below 0", set(attribute_claim(), "/share", json!(-0.1)), "share", "a share is a fraction from 0 to 1"),
        case("claimed element unknown", set(attribute_claim(), "/element", json!("Xx")), "element", "not an element symbol"),
        case("claimed attribute empty", set(attribute_claim(), "/attribute", json!("")), "attribute", "text must be 1 to 512 bytes"),
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

/// The 1-based line number of the first line of `text` starting with
/// `start` (the header is line 1).
fn line_of(text: &str, start: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in\n{text}"))
        + 1
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
    let sealed = canonical_of(agreement());
    let public = canonical_of(amendment());
    let reveal = canonical_of(disclosure());
    let counter = canonical_of(countersignature());
    let progress = canonical_of(progress());
    let report = canonical_of(report());
    let resource = canonical_of(resource());
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
        // Agreements: line forms.
        b("version with a plus", edit(&sealed, "version 1\n", "version +1\n"), Line(line_of(&sealed, "version"))),
        b("version with a leading zero", edit(&sealed, "version 1\n", "version 01\n"), Line(0)),
        b("amends before the version", moved(&public, "amends 1\n", "version 2\n"), Line(line_of(&public, "version"))),
        b("parties after the signing date", moved(&sealed, "signed 2025-09-08\n", "party fwo\n"), Line(line_of(&sealed, "party ussm"))),
        b("amount with a trailing zero", edit(&sealed, "value 500000000 USD", "value 500000000.0 USD"), Line(line_of(&sealed, "value"))),
        b("amount in lower-case currency", edit(&sealed, "value 500000000 USD", "value 500000000 usd"), Line(line_of(&sealed, "value"))),
        b("pledge without its quantity word", edit(&sealed, "milestone Feasibility", "Feasibility"), Line(line_of(&sealed, "pledge m1"))),
        b("pledge quantity of no known kind", edit(&sealed, "mass 1000 t", "volume 1000 t"), Line(line_of(&sealed, "pledge p2"))),
        b("pledge mass without a unit", edit(&sealed, "pledge p3 2027-12-31 count 2 facility Processing facilities built in Pakistan", "pledge p3 2027-12-31 count 2"), Line(line_of(&sealed, "pledge p3"))),
        b("pledge with two spaces", edit(&sealed, "pledge p1 2026-09-30 money", "pledge p1 2026-09-30  money"), Line(line_of(&sealed, "pledge p1"))),
        b("sealed count with a leading zero", edit(&sealed, " 4 2026-09-08 ", " 04 2026-09-08 "), Line(0)),
        b("sealed root in capitals", edit(&sealed, "terms sealed afbcb68e", "terms sealed AFBCB68E"), Line(line_of(&sealed, "terms"))),
        b("terms of neither form", edit(&sealed, "terms sealed", "terms secret"), Line(line_of(&sealed, "terms"))),
        b("terms missing", edit(&public, "terms public\n", ""), Line(line_of(&public, "terms"))),
        b("clauses under sealed terms", edit(&sealed, "time ", "clause \"x\"\ntime "), Line(line_of(&sealed, "time"))),
        b("clause not a JSON string", edit(&public, "clause \"Article 1. Purpose\\nAs in version 1.\"", "clause Article 1. Purpose"), Line(line_of(&public, "clause"))),
        b("clause with an unclosed string", edit(&public, "As in version 1.\"\n", "As in version 1.\n"), Line(line_of(&public, "clause"))),
        b("clause with a needless escape", edit(&public, "Article 1. Purpose", "\\u0041rticle 1. Purpose"), Line(0)),
        b("clause with an escaped slash", edit(&public, "Article 1. Purpose", "Article 1\\/2. Purpose"), Line(0)),
        b("clause with a raw tab", edit(&public, "Article 1. Purpose", "Article 1.\tPurpose"), Line(line_of(&public, "clause"))),
        b("clause with text after the string", edit(&public, "As in version 1.\"\n", "As in version 1.\" x\n"), Line(line_of(&public, "clause"))),
        b("clause with a space after the string", edit(&public, "As in version 1.\"\n", "As in version 1.\" \n"), Line(0)),
        b("clause with a NUL", edit(&public, "Article 1. Purpose", "Article 1.\\u0000Purpose"), Field("terms.public.clauses[0]")),
        b("version 1 amending", edit(&sealed, "version 1\n", "version 1\namends 1\n"), Field("amends")),
        b("pledge due before signing", edit(&sealed, "pledge p1 2026-09-30", "pledge p1 2025-09-01"), Field("pledges[0].due")),
        // Countersignatures, disclosures, progress, reports, resources.
        b("countersignature without a digest", edit(&counter, &format!("{}\n", counter.lines().nth(4).unwrap()), ""), Line(5)),
        b("salt in capitals", edit(&reveal, "1111111111111111111111111111111111111111111111111111111111111111", &"1".repeat(62).replace('1', "A")), Line(line_of(&reveal, "clause 1"))),
        b("salt too short", edit(&reveal, "clause 1 1111111111111111111111111111111111111111111111111111111111111111", "clause 1 1111"), Line(line_of(&reveal, "clause 1"))),
        b("proof before its clause", moved(&reveal, "proof 3696edb659d8d580c53fe2438c4e2e8534ed694fc4e83d34c5b9b563552305d9\n", "clause 1 "), Line(line_of(&reveal, "clause 1"))),
        b("clause index with a leading zero", edit(&reveal, "clause 1 ", "clause 01 "), Line(0)),
        b("clause index negative", edit(&reveal, "clause 1 ", "clause -1 "), Line(line_of(&reveal, "clause 1"))),
        b("clause revealed twice", edit(&reveal, "clause 3 ", "clause 1 "), Field("clauses[1].index")),
        b("delivered quantity with free text", edit(&progress, "delivered mass 6.2 kg", "delivered mass 6.2 kg net"), Line(line_of(&progress, "delivered"))),
        b("evidence record negative", edit(&progress, "record 6\n", "record -6\n"), Line(line_of(&progress, "record 6"))),
        b("evidence record listed twice", edit(&progress, "record 7\n", "record 6\n"), Field("records[1]")),
        b("complete as yes", edit(&progress, "complete false", "complete yes"), Line(line_of(&progress, "complete"))),
        b("source title before the source", moved(&report, "source-title Pakistan pitches Pasni port to the US\n", "source 2025"), Line(line_of(&report, "source "))),
        b("source without a publisher", edit(&report, "source-publisher Example News\n", ""), Line(line_of(&report, "source-publisher"))),
        b("source archive as none", edit(&report, "source 2025-10-05 370fd67c5a54fd5b65ce90f6e1fb137cd7e7a536443d0d397de8a2b7a139ee88", "source 2025-10-05 none"), Line(line_of(&report, "source "))),
        b("report confirmed by nothing", edit(&report, "status unconfirmed", "status confirmed"), Field("confirmed_by")),
        b("grade without a unit", edit(&resource, "grade Sb 2.5 %", "grade Sb 2.5"), Line(line_of(&resource, "grade"))),
        b("contained metal not tonnage × grade", edit(&resource, "contained Sb 3000", "contained Sb 4000"), Field("contained[0].tonnes")),
        b("tonnage with a trailing zero", edit(&resource, "tonnes 120000\n", "tonnes 120000.0\n"), Line(0)),
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
