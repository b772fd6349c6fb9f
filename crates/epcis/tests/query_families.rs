//! The EPCIS 2.0 query families beyond the core ones: sensor parameters,
//! quantities, extension fields (top level, `ILMD_`, `INNER_`,
//! `ERROR_DECLARATION_`, `SENSOR…_`, `readPoint_`, `bizLocation_`) and the
//! refused master-data parameters. Every family is checked through
//! `from_pairs` and `from_json` on an event that matches and one that does
//! not, and against the official example events
//! (`shared/conformance/epcis/examples/`) with values taken from them.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use oretrace_epcis::Context;
use oretrace_epcis::document_events;
use oretrace_epcis::query::{EventQuery, QueryError};
use serde_json::{Map, Value, json};

const EX: &str = "http://ns.example.com/epcis/";

/// An ObjectEvent with `extra` members added (replacing any of the same name).
fn event(extra: &Value) -> Value {
    let mut base = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                     {"example": EX}],
        "type": "ObjectEvent",
        "eventTime": "2024-05-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
    });
    let map = base.as_object_mut().unwrap();
    for (key, value) in extra.as_object().unwrap() {
        map.insert(key.clone(), value.clone());
    }
    base
}

fn pairs(name: &str, value: &str) -> Vec<(String, String)> {
    vec![(name.to_owned(), value.to_owned())]
}

fn json_query(name: &str, value: &Value, context: Option<&Value>) -> Value {
    let mut map = Map::new();
    if let Some(context) = context {
        map.insert("@context".to_owned(), context.clone());
    }
    map.insert(name.to_owned(), value.clone());
    Value::Object(map)
}

/// `name` as URL text `text` and as JSON `value` (with `context`, if any)
/// matches `yes` and not `no`.
fn case_in(
    name: &str,
    text: &str,
    value: &Value,
    context: Option<&Value>,
    yes: &Value,
    no: &Value,
) {
    let by_pairs =
        EventQuery::from_pairs(&pairs(name, text)).unwrap_or_else(|e| panic!("{name}={text}: {e}"));
    let by_json = EventQuery::from_json(&json_query(name, value, context))
        .unwrap_or_else(|e| panic!("{name}: {value}: {e}"));
    for (how, query) in [("pairs", &by_pairs), ("json", &by_json)] {
        assert!(
            query.matches(yes, 0),
            "{how} {name}={text} should match {yes}"
        );
        assert!(
            !query.matches(no, 0),
            "{how} {name}={text} should not match {no}"
        );
        assert_eq!(query.candidate_terms(), None, "{name}: no index terms");
    }
}

fn case(name: &str, text: &str, value: &Value, yes: &Value, no: &Value) {
    case_in(name, text, value, None, yes, no);
}

fn sensor(metadata: &Value, reports: &Value) -> Value {
    event(&json!({
        "sensorElementList": [{"sensorMetadata": metadata, "sensorReport": reports}]
    }))
}

#[test]
fn sensor_times() {
    let early = sensor(
        &json!({"time": "2024-05-01T08:00:00Z", "startTime": "2024-05-01T07:00:00Z",
                "endTime": "2024-05-01T07:30:00Z"}),
        &json!([{"type": "Temperature", "value": 4.0, "uom": "CEL"}]),
    );
    let late = sensor(
        &json!({"startTime": "2024-05-01T10:00:00+01:00", "endTime": "2024-05-01T11:00:00Z"}),
        &json!([{"type": "Temperature", "value": 4.0, "uom": "CEL", "time": "2024-05-01T09:30:00Z"}]),
    );
    let t = "2024-05-01T08:30:00Z";
    case("GE_startTime", t, &json!(t), &late, &early);
    case("LT_startTime", t, &json!(t), &early, &late);
    case("GE_endTime", t, &json!(t), &late, &early);
    case("LT_endTime", t, &json!(t), &early, &late);
    // `time`: sensor metadata time (early) or sensor report time (late).
    case("GE_time", t, &json!(t), &late, &early);
    case("LT_time", t, &json!(t), &early, &late);
    // Offsets are honoured: 10:00+01:00 is 09:00Z.
    let boundary = "2024-05-01T09:00:00Z";
    case("GE_startTime", boundary, &json!(boundary), &late, &early);
    // No sensor data: no time restriction holds.
    let plain = event(&json!({}));
    case("LT_time", t, &json!(t), &early, &plain);
}

#[test]
fn sensor_members() {
    let metadata = json!({
        "deviceID": "urn:epc:id:giai:4000001.111",
        "deviceMetadata": "https://id.gs1.org/8004/4000001111",
        "rawData": "https://example.org/raw/1",
        "dataProcessingMethod": "https://example.com/gdti/4012345000054987",
        "bizRules": "https://example.org/rules/7",
    });
    let reports = json!([{
        "type": "Temperature", "value": 3.5, "uom": "CEL",
        "microorganism": "https://www.ncbi.nlm.nih.gov/taxonomy/1126011",
        "chemicalSubstance": "https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N",
        "stringValue": "SmartBox-7",
        "booleanValue": true,
        "hexBinaryValue": "f0f0f0",
        "uriValue": "https://id.gs1.org/254/5012345678901",
        "percRank": 50.0,
    }]);
    let yes = sensor(&metadata, &reports);
    let other_metadata = json!({
        "deviceID": "urn:epc:id:giai:4000001.222",
        "deviceMetadata": "https://example.org/other",
        "rawData": "https://example.org/raw/2",
        "dataProcessingMethod": "https://example.com/other",
        "bizRules": "https://example.org/rules/8",
    });
    let other_reports = json!([{
        "type": "Temperature", "value": 3.5, "uom": "CEL",
        "microorganism": "https://www.ncbi.nlm.nih.gov/taxonomy/1",
        "chemicalSubstance": "https://identifiers.org/inchikey:OTHER",
        "stringValue": "smartbox-7",
        "booleanValue": false,
        "hexBinaryValue": "0F0F",
        "uriValue": "https://example.org/other",
        "percRank": 90.0,
    }]);
    let no = sensor(&other_metadata, &other_reports);
    for (name, value) in [
        ("EQ_deviceID", "urn:epc:id:giai:4000001.111"),
        ("EQ_deviceMetadata", "https://id.gs1.org/8004/4000001111"),
        ("EQ_rawData", "https://example.org/raw/1"),
        (
            "EQ_dataProcessingMethod",
            "https://example.com/gdti/4012345000054987",
        ),
        ("EQ_bizRules", "https://example.org/rules/7"),
        (
            "EQ_microorganism",
            "https://www.ncbi.nlm.nih.gov/taxonomy/1126011",
        ),
        (
            "EQ_chemicalSubstance",
            "https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N",
        ),
        ("EQ_stringValue", "SmartBox-7"),
        ("EQ_uriValue", "https://id.gs1.org/254/5012345678901"),
    ] {
        case(name, value, &json!([value]), &yes, &no);
        // A list: any alternative.
        let listed = format!("urn:example:none|{value}");
        case(
            name,
            &listed,
            &json!(["urn:example:none", value]),
            &yes,
            &no,
        );
    }
    // Identifiers compare in canonical form: an EPC URN and its Digital Link.
    case(
        "EQ_deviceID",
        "https://id.gs1.org/8004/4000001111",
        &json!(["https://id.gs1.org/8004/4000001111"]),
        &yes,
        &no,
    );
    // hexBinary case-insensitively; booleans as true/false.
    case("EQ_hexBinaryValue", "F0F0F0", &json!(["F0F0F0"]), &yes, &no);
    case("EQ_booleanValue", "true", &json!(true), &yes, &no);
    case("EQ_booleanValue", "false", &json!(false), &no, &yes);
    // percRank: no uom.
    case(
        "GE_percRank",
        "50",
        &json!(50),
        &no,
        &sensor(&json!({}), &json!([{"percRank": 49.9}])),
    );
    case("GT_percRank", "50", &json!(50), &no, &yes);
    case("LE_percRank", "50", &json!(50), &yes, &no);
    case("LT_percRank", "90", &json!(90), &yes, &no);
    // percValue keeps its uom.
    let perc = sensor(
        &json!({}),
        &json!([{"percValue": 12.0, "uom": "P1", "percRank": 50}]),
    );
    let perc_other_uom = sensor(
        &json!({}),
        &json!([{"percValue": 12.0, "uom": "CEL", "percRank": 50}]),
    );
    case("GE_percValue_P1", "12", &json!(12), &perc, &perc_other_uom);
    // EXISTS_sensorElementList.
    let plain = event(&json!({}));
    case("EXISTS_sensorElementList", "", &Value::Null, &yes, &plain);
    case("EXISTS_sensorElementList", "1", &json!(1), &yes, &plain);
    let unrestricted = EventQuery::from_pairs(&pairs("EXISTS_sensorElementList", "false")).unwrap();
    assert!(unrestricted.matches(&plain, 0));
}

#[test]
fn quantities() {
    let bare = event(&json!({
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 4}]
    }));
    let kilograms = event(&json!({
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877",
                          "quantity": 4, "uom": "KGM"}]
    }));
    let transformed = event(&json!({
        "type": "TransformationEvent",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.011111.4444",
                               "quantity": 10.5, "uom": "KGM"}],
        "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.011111.5555",
                                "quantity": 7}],
    }));
    // The bare form compares only elements without a uom.
    case("EQ_quantity", "4", &json!([4]), &bare, &kilograms);
    case("EQ_quantity", "3|4.0", &json!([3, 4.0]), &bare, &kilograms);
    case("GT_quantity", "3", &json!(3), &bare, &kilograms);
    case("GE_quantity", "7", &json!(7), &transformed, &bare);
    case("LT_quantity", "5", &json!(5), &bare, &transformed);
    case("LE_quantity", "4", &json!(4), &bare, &transformed);
    // The uom form compares only elements with exactly that uom.
    case("EQ_quantity_KGM", "4", &json!([4]), &kilograms, &bare);
    case(
        "GT_quantity_KGM",
        "10",
        &json!(10),
        &transformed,
        &kilograms,
    );
    case("GE_quantity_KGM", "4", &json!(4), &kilograms, &bare);
    case("LT_quantity_KGM", "5", &json!(5), &kilograms, &transformed);
    case("LE_quantity_KGM", "10.5", &json!(10.5), &transformed, &bare);
    // No unit conversion: 4 KGM is not 4000 GRM.
    let grams = EventQuery::from_pairs(&pairs("EQ_quantity_GRM", "4000")).unwrap();
    assert!(!grams.matches(&kilograms, 0));
}

#[test]
fn top_level_extensions() {
    let context = json!({"example": EX});
    let yes = event(&json!({"example:myField": "hello", "example:count": 12,
                            "example:when": "2024-05-01T12:00:00+02:00"}));
    let no = event(&json!({"example:myField": "bye", "example:count": 3,
                           "example:when": "2024-05-02T12:00:00Z"}));
    for ctx in [None, Some(&context)] {
        case_in(
            "EQ_example:myField",
            "hello",
            &json!(["hello"]),
            ctx,
            &yes,
            &no,
        );
        case_in(
            "EQ_example:myField",
            "x|hello",
            &json!(["x", "hello"]),
            ctx,
            &yes,
            &no,
        );
        case_in("EQ_example:count", "12", &json!(12), ctx, &yes, &no);
        case_in("GT_example:count", "11", &json!(11), ctx, &yes, &no);
        case_in("GE_example:count", "12", &json!(12), ctx, &yes, &no);
        case_in("LT_example:count", "12", &json!(12), ctx, &no, &yes);
        case_in("LE_example:count", "3", &json!(3), ctx, &no, &yes);
        case_in(
            "LT_example:when",
            "2024-05-02T00:00:00Z",
            &json!("2024-05-02T00:00:00Z"),
            ctx,
            &yes,
            &no,
        );
        case_in(
            "EQ_example:when",
            "2024-05-01T10:00:00Z",
            &json!("2024-05-01T10:00:00Z"),
            ctx,
            &yes,
            &no,
        );
        case_in(
            "EXISTS_example:count",
            "",
            &Value::Null,
            ctx,
            &yes,
            &event(&json!({})),
        );
    }
    // Numbers compare with numbers, date-times with date-times: a string
    // member never passes GT_ with a number, nor a number with a date.
    let text = event(&json!({"example:count": "twelve", "example:when": 5}));
    for (name, value) in [
        ("GT_example:count", "1"),
        ("GE_example:when", "2000-01-01T00:00:00Z"),
    ] {
        let query = EventQuery::from_pairs(&pairs(name, value)).unwrap();
        assert!(!query.matches(&text, 0), "{name}");
    }
    // A full IRI as the name.
    case(
        "EQ_http://ns.example.com/epcis/myField",
        "hello",
        &json!(["hello"]),
        &yes,
        &no,
    );
}

#[test]
fn extension_names_compare_as_expanded_iris() {
    // The event writes `oretrace:commodity`, mapping `oretrace` to the
    // registry namespace; another event uses the prefix `o` for the same
    // namespace; a third maps `oretrace` elsewhere.
    let ns = "https://oretrace.example/ns/";
    let written = |prefix: &str, namespace: &str| {
        json!({
            "@context": [{ prefix: namespace }],
            "type": "ObjectEvent",
            "eventTime": "2024-05-01T10:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
            format!("{prefix}:commodity"): "antimony",
        })
    };
    let same = written("oretrace", ns);
    let aliased = written("o", ns);
    let elsewhere = written("oretrace", "https://elsewhere.example/");
    // With the prefix declared by the query: expanded IRIs compare.
    let declared = EventQuery::from_json(&json!({
        "@context": {"oretrace": ns},
        "EQ_oretrace:commodity": ["antimony"],
    }))
    .unwrap();
    assert!(declared.matches(&same, 0));
    assert!(declared.matches(&aliased, 0));
    assert!(!declared.matches(&elsewhere, 0));
    let with_context = EventQuery::from_pairs_with_context(
        &pairs("EQ_oretrace:commodity", "antimony"),
        &Context::new().with_prefix("oretrace", ns),
    )
    .unwrap();
    assert!(with_context.matches(&aliased, 0));
    assert!(!with_context.matches(&elsewhere, 0));
    // The full IRI needs no context.
    let full = EventQuery::from_pairs(&pairs(
        "EQ_https://oretrace.example/ns/commodity",
        "antimony",
    ))
    .unwrap();
    assert!(full.matches(&same, 0) && full.matches(&aliased, 0));
    assert!(!full.matches(&elsewhere, 0));
    // Undeclared on the query side: the name as the event spells it.
    let spelled = EventQuery::from_pairs(&pairs("EQ_oretrace:commodity", "antimony")).unwrap();
    assert!(spelled.matches(&same, 0));
    assert!(!spelled.matches(&aliased, 0));
    // The GS1 context's prefixes are known without declaration.
    let gs1 = event(&json!({"gs1:netWeight": 12}));
    let by_gs1 = EventQuery::from_pairs(&pairs("EQ_gs1:netWeight", "12")).unwrap();
    assert!(by_gs1.matches(&gs1, 0));
    let by_iri = EventQuery::from_pairs(&pairs("EQ_https://gs1.org/voc/netWeight", "12")).unwrap();
    assert!(by_iri.matches(&gs1, 0));
    // CURIE values compare expanded too.
    let valued = event(&json!({"example:kind": "example:ore"}));
    let by_value =
        EventQuery::from_pairs(&pairs("EQ_example:kind", "http://ns.example.com/epcis/ore"))
            .unwrap();
    assert!(by_value.matches(&valued, 0));
}

#[test]
fn container_extensions() {
    let context = json!({"example": EX});
    let yes = event(&json!({
        "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0", "example:dock": "D1",
                      "example:detail": {"example:bay": "B7"}},
        "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0", "example:zone": "Z1",
                        "example:detail": {"example:shelf": "S2"}},
        "ilmd": {"example:batch": "XYZ", "example:lot": "L1", "example:bestBefore": "2025-01-31T00:00:00Z",
                 "example:assay": {"example:grade": 61.5, "example:purity": 0.9}},
        "errorDeclaration": {"declarationTime": "2024-06-01T00:00:00Z",
                             "example:ticket": "T-1",
                             "example:detail": {"example:by": "auditor", "example:signed": true}},
        "example:wrapper": {"example:inner": {"example:deep": 7}},
        "sensorElementList": [{
            "example:mount": "roof",
            "example:mountDetail": {"example:height": 3},
            "sensorMetadata": {"time": "2024-05-01T09:00:00Z", "example:firmware": "1.2", "example:serviced": "yes",
                               "example:cal": {"example:due": "2025-01-01T00:00:00Z"}},
            "sensorReport": [{"type": "Temperature", "value": 4.0, "uom": "CEL",
                              "example:probe": "P9", "example:flag": "F", "example:probeDetail": {"example:depth": 2}}]
        }],
    }));
    let no = event(&json!({
        "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0", "example:dock": "D2",
                      "example:detail": {"example:bay": "B8"}},
        "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0",
                        "example:detail": {"example:shelf": "S3"}},
        "ilmd": {"example:batch": "ABC", "example:bestBefore": "2024-01-31T00:00:00Z",
                 "example:assay": {"example:grade": 40}},
        "errorDeclaration": {"declarationTime": "2024-06-01T00:00:00Z",
                             "example:detail": {"example:by": "operator"}},
        "example:inner": 7,
        "example:wrapper": {"example:other": 1},
        "sensorElementList": [{
            "example:mountDetail": {"example:height": 1},
            "sensorMetadata": {"time": "2024-05-01T09:00:00Z", "example:firmware": "1.1",
                               "example:cal": {"example:due": "2024-01-01T00:00:00Z"}},
            "sensorReport": [{"type": "Temperature", "value": 4.0, "uom": "CEL",
                              "example:probe": "P1", "example:probeDetail": {"example:depth": 9}}]
        }],
    }));
    let cases: &[(&str, &str, Value)] = &[
        ("EQ_ILMD_example:batch", "XYZ", json!(["XYZ"])),
        (
            "GE_ILMD_example:bestBefore",
            "2025-01-01T00:00:00Z",
            json!("2025-01-01T00:00:00Z"),
        ),
        ("EXISTS_ILMD_example:lot", "", Value::Null),
        ("EQ_INNER_ILMD_example:grade", "61.5", json!(61.5)),
        ("GT_INNER_ILMD_example:grade", "50", json!(50)),
        ("EXISTS_INNER_ILMD_example:purity", "", Value::Null),
        ("EQ_INNER_example:deep", "7", json!(7)),
        ("LE_INNER_example:deep", "7", json!(7)),
        ("EXISTS_INNER_example:inner", "1", json!(1)),
        ("EQ_ERROR_DECLARATION_example:ticket", "T-1", json!(["T-1"])),
        (
            "EXISTS_ERROR_DECLARATION_example:ticket",
            "true",
            json!(true),
        ),
        (
            "EQ_INNER_ERROR_DECLARATION_example:by",
            "auditor",
            json!(["auditor"]),
        ),
        (
            "EXISTS_INNER_ERROR_DECLARATION_example:signed",
            "",
            Value::Null,
        ),
        ("EQ_SENSORELEMENT_example:mount", "roof", json!(["roof"])),
        ("EXISTS_SENSORELEMENT_example:mount", "", Value::Null),
        ("GE_INNER_SENSORELEMENT_example:height", "2", json!(2)),
        ("EQ_SENSORMETADATA_example:firmware", "1.2", json!(["1.2"])),
        ("GT_SENSORMETADATA_example:firmware", "1.1", json!(1.1)),
        ("EXISTS_SENSORMETADATA_example:serviced", "", Value::Null),
        (
            "GE_INNER_SENSORMETADATA_example:due",
            "2025-01-01T00:00:00Z",
            json!("2025-01-01T00:00:00Z"),
        ),
        ("EQ_SENSORREPORT_example:probe", "P9", json!(["P9"])),
        ("EXISTS_SENSORREPORT_example:flag", "", Value::Null),
        ("LT_INNER_SENSORREPORT_example:depth", "5", json!(5)),
        ("EQ_readPoint_example:dock", "D1", json!(["D1"])),
        ("EQ_INNER_readPoint_example:bay", "B7", json!(["B7"])),
        ("EQ_bizLocation_example:zone", "Z1", json!(["Z1"])),
        ("EQ_INNER_bizLocation_example:shelf", "S2", json!(["S2"])),
    ];
    for (name, text, value) in cases {
        for ctx in [None, Some(&context)] {
            case_in(name, text, value, ctx, &yes, &no);
        }
    }
    // `EXISTS_` on a member that both have, at the top level, does not look
    // inside containers: the ILMD member is not a top-level member.
    let top = EventQuery::from_pairs(&pairs("EXISTS_example:batch", "")).unwrap();
    assert!(!top.matches(&yes, 0));
}

#[test]
fn inner_depth_is_bounded() {
    // A member nested 8 levels below an extension member is found; 9 not.
    let nest = |levels: usize| {
        let mut value = json!({"example:needle": "x"});
        for _ in 1..levels {
            value = json!({"example:level": value});
        }
        event(&json!({"example:root": value}))
    };
    let query = EventQuery::from_pairs(&pairs("EQ_INNER_example:needle", "x")).unwrap();
    assert!(query.matches(&nest(1), 0));
    assert!(query.matches(&nest(8), 0));
    assert!(!query.matches(&nest(9), 0));
}

fn refused(name: &str, value: &str) -> QueryError {
    EventQuery::from_pairs(&pairs(name, value)).expect_err(name)
}

#[test]
fn refusals_name_the_parameter() {
    for (name, value) in [
        (
            "EQ_ATTR_urn:epcglobal:epcis:vtype:BusinessLocation_name",
            "x",
        ),
        ("EQ_ATTR_readPoint_name", "x"),
        ("HASATTR_example:colour", "x"),
    ] {
        let error = refused(name, value);
        let QueryError::InvalidValue { parameter, message } = &error else {
            panic!("{name}: {error:?}");
        };
        assert_eq!(parameter, name);
        assert!(message.contains("master data"), "{message}");
    }
    for (name, value) in [
        ("EQ_percRank", "1"),
        ("GE_percRank_P1", "1"),
        ("EQ_value", "1"),
        ("EQ_quantity_kg", "1"),
        ("EQ_quantity_KILOS", "1"),
        ("EQ_minValue_KGM", "1"),
        ("GT_readPoint_example:dock", "1"),
        ("EXISTS_bizLocation_example:zone", ""),
        ("EXISTS_INNER_SENSORREPORT_example:probe", ""),
        ("EQ_example:", "1"),
        ("EQ_:field", "1"),
        ("NE_example:field", "1"),
        ("EQ_INNER_", "1"),
        ("GE_sensorTime", "2024-01-01T00:00:00Z"),
    ] {
        assert_eq!(
            refused(name, value),
            QueryError::UnknownParameter(name.to_owned()),
            "{name}"
        );
    }
    for (name, value) in [
        ("GE_startTime", "yesterday"),
        ("LT_endTime", "2024-13-01T00:00:00Z"),
        ("GE_time", ""),
        ("EQ_quantity", "four"),
        ("GT_quantity_KGM", "1|2"),
        ("GE_percRank", "NaN"),
        ("EQ_booleanValue", "yes"),
        ("EQ_hexBinaryValue", "XYZ"),
        ("EQ_hexBinaryValue", "ABC"),
        ("EQ_deviceID", "not-a-uri"),
        ("EQ_uriValue", "|"),
        ("EQ_stringValue", "a||b"),
        ("GT_example:count", "lots"),
        ("GE_ILMD_example:date", "soon"),
        ("EXISTS_example:count", "maybe"),
        ("EQ_example:field", "a|"),
        ("EXISTS_sensorElementList", "perhaps"),
    ] {
        let error = refused(name, value);
        assert!(
            matches!(&error, QueryError::InvalidValue { parameter, .. } if parameter == name),
            "{name}={value}: {error:?}"
        );
        assert!(error.to_string().contains(&format!("`{name}`")), "{error}");
    }
    // JSON: wrong shapes are refused too.
    for (name, value) in [
        ("EQ_booleanValue", json!([true, false])),
        ("GE_quantity", json!([1])),
        ("GT_example:count", json!({"a": 1})),
        ("EQ_example:field", json!([[1]])),
    ] {
        let error = EventQuery::from_json(&json!({ name: value })).expect_err(name);
        assert!(
            matches!(&error, QueryError::InvalidValue { parameter, .. } if parameter == name),
            "{name}: {error:?}"
        );
    }
}

#[test]
fn values_and_lists_are_bounded() {
    let many = vec!["x"; 257].join("|");
    let enough = vec!["x"; 256].join("|");
    let long = "x".repeat(4097);
    let fits = "x".repeat(4096);
    for name in [
        "EQ_example:field",
        "EQ_stringValue",
        "EQ_bizStep",
        "EQ_eventID",
    ] {
        assert!(
            matches!(refused(name, &many), QueryError::InvalidValue { .. }),
            "{name}"
        );
        let array = Value::Array(vec![json!("x"); 257]);
        assert!(
            EventQuery::from_json(&json!({ name: array })).is_err(),
            "{name}"
        );
    }
    assert!(EventQuery::from_pairs(&pairs("EQ_example:field", &enough)).is_ok());
    assert!(matches!(
        refused("EQ_stringValue", &long),
        QueryError::InvalidValue { .. }
    ));
    assert!(matches!(
        refused("GT_example:field", &long),
        QueryError::InvalidValue { .. }
    ));
    assert!(EventQuery::from_pairs(&pairs("EQ_stringValue", &fits)).is_ok());
}

// ---- the official example events ----

#[derive(Debug)]
struct Example {
    label: String,
    event: Value,
}

fn examples() -> Vec<Example> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "jsonld") {
                out.push(path);
            }
        }
    }
    let folder = oretrace_benchkit::conformance("epcis/examples");
    let mut files = Vec::new();
    walk(&folder, &mut files);
    files.sort();
    let mut events = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        let document: Value = serde_json::from_str(&text).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        for (index, event) in document_events(&document).unwrap().into_iter().enumerate() {
            let mut event = event.clone();
            if let (Some(context), Value::Object(map)) = (document.get("@context"), &mut event) {
                map.insert("@context".to_owned(), context.clone());
            }
            events.push(Example {
                label: format!("{name}#{index}"),
                event,
            });
        }
    }
    assert!(events.len() >= 20, "example events");
    events
}

fn labels(query: &EventQuery, corpus: &[Example]) -> BTreeSet<String> {
    corpus
        .iter()
        .filter(|example| query.matches(&example.event, 0))
        .map(|example| example.label.clone())
        .collect()
}

/// Labels of the events for which `pick` finds something.
fn having(corpus: &[Example], pick: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    corpus
        .iter()
        .filter(|example| pick(&example.event))
        .map(|example| example.label.clone())
        .collect()
}

fn both(
    corpus: &[Example],
    name: &str,
    text: &str,
    value: &Value,
    context: Option<&Value>,
) -> BTreeSet<String> {
    let by_pairs = labels(&EventQuery::from_pairs(&pairs(name, text)).unwrap(), corpus);
    let by_json = labels(
        &EventQuery::from_json(&json_query(name, value, context)).unwrap(),
        corpus,
    );
    assert_eq!(by_pairs, by_json, "{name}");
    by_pairs
}

#[test]
fn official_examples_sensor_data() {
    let corpus = examples();
    let with_sensors = having(&corpus, |event| event.get("sensorElementList").is_some());
    assert_eq!(
        with_sensors.len(),
        1,
        "one example event carries sensor data"
    );
    let sensor = corpus
        .iter()
        .find(|example| with_sensors.contains(&example.label))
        .unwrap();
    let metadata = &sensor.event["sensorElementList"][0]["sensorMetadata"];
    let start = metadata["startTime"].as_str().unwrap();
    let end = metadata["endTime"].as_str().unwrap();
    assert_eq!(
        both(&corpus, "EXISTS_sensorElementList", "", &Value::Null, None),
        with_sensors
    );
    assert_eq!(
        both(&corpus, "GE_startTime", start, &json!(start), None),
        with_sensors
    );
    assert!(both(&corpus, "LT_startTime", start, &json!(start), None).is_empty());
    assert_eq!(
        both(
            &corpus,
            "LT_endTime",
            "2019-11-06T13:57:00.001+01:00",
            &json!("2019-11-06T13:57:00.001+01:00"),
            None
        ),
        with_sensors
    );
    assert!(
        both(
            &corpus,
            "GE_endTime",
            "2019-11-06T13:57:00.001+01:00",
            &json!("2019-11-06T13:57:00.001+01:00"),
            None
        )
        .is_empty()
    );
    assert_eq!(
        both(&corpus, "GE_endTime", end, &json!(end), None),
        with_sensors
    );
    // Neither metadata nor report has a `time` here.
    assert!(
        both(
            &corpus,
            "GE_time",
            "2000-01-01T00:00:00Z",
            &json!("2000-01-01T00:00:00Z"),
            None
        )
        .is_empty()
    );
}

#[test]
fn official_examples_quantities() {
    let corpus = examples();
    let lists = [
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ];
    // Every (quantity, uom) in the corpus finds exactly the events carrying it.
    let mut seen = BTreeSet::new();
    for example in &corpus {
        for list in lists {
            for element in example
                .event
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let quantity = element["quantity"].as_f64().unwrap();
                let uom = element
                    .get("uom")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                seen.insert((quantity.to_string(), uom));
            }
        }
    }
    assert!(seen.len() >= 5, "{seen:?}");
    for (quantity, uom) in &seen {
        let name = uom.as_ref().map_or_else(
            || "EQ_quantity".to_owned(),
            |uom| format!("EQ_quantity_{uom}"),
        );
        let expected = having(&corpus, |event| {
            lists.iter().any(|list| {
                event
                    .get(*list)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|element| {
                        element["quantity"].as_f64().map(|q| q.to_string()).as_ref()
                            == Some(quantity)
                            && element
                                .get("uom")
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                                == *uom
                    })
            })
        });
        assert!(!expected.is_empty());
        let number: f64 = quantity.parse().unwrap();
        assert_eq!(
            both(&corpus, &name, quantity, &json!([number]), None),
            expected,
            "{name}={quantity}"
        );
    }
    // Known values: 200 KGM (9.6.2), 200.5 KGM (9.6.3), 10 KGM (9.6.4 input);
    // the error-declaration examples' 452 and 500 KGM are above.
    let kgm = both(&corpus, "LT_quantity_KGM", "201", &json!(201), None);
    assert_eq!(
        kgm,
        [
            "Example_9.6.2-ObjectEvent.jsonld#0",
            "Example_9.6.3-AggregationEvent.jsonld#0",
            "Example_9.6.4-TransformationEvent.jsonld#0",
        ]
        .map(String::from)
        .into_iter()
        .collect()
    );
    assert!(
        both(&corpus, "EQ_quantity", "200", &json!([200]), None).is_empty(),
        "200 is KGM"
    );
}

#[test]
fn official_examples_extensions() {
    let corpus = examples();
    let context = json!({"example": EX});
    let value = "Example of a vendor/user extension";
    let expected = having(&corpus, |event| {
        event.get("example:myField").and_then(Value::as_str) == Some(value)
    });
    assert!(expected.len() >= 4, "{expected:?}");
    for ctx in [None, Some(&context)] {
        assert_eq!(
            both(&corpus, "EQ_example:myField", value, &json!([value]), ctx),
            expected
        );
        assert_eq!(
            both(&corpus, "EXISTS_example:myField", "", &Value::Null, ctx),
            expected
        );
    }
    assert_eq!(
        both(
            &corpus,
            "EQ_http://ns.example.com/epcis/myField",
            value,
            &json!([value]),
            None
        ),
        expected
    );
    let ilmd = having(&corpus, |event| event.get("ilmd").is_some());
    assert_eq!(ilmd.len(), 1);
    assert_eq!(
        both(
            &corpus,
            "EQ_ILMD_example:batch",
            "XYZ",
            &json!(["XYZ"]),
            Some(&context)
        ),
        ilmd
    );
    assert_eq!(
        both(
            &corpus,
            "EXISTS_ILMD_example:bestBeforeDate",
            "",
            &Value::Null,
            None
        ),
        ilmd
    );
    // The ILMD's best-before date (2014-12-10) as a date-time.
    assert_eq!(
        both(
            &corpus,
            "LT_ILMD_example:bestBeforeDate",
            "2014-12-11T00:00:00Z",
            &json!("2014-12-11T00:00:00Z"),
            None
        ),
        ilmd
    );
    assert!(
        both(
            &corpus,
            "GT_ILMD_example:bestBeforeDate",
            "2014-12-11T00:00:00Z",
            &json!("2014-12-11T00:00:00Z"),
            None
        )
        .is_empty()
    );
    assert!(
        both(&corpus, "EQ_example:batch", "XYZ", &json!(["XYZ"]), None).is_empty(),
        "ILMD is not top level"
    );
}

// ---- empty lists and event IDs ----

/// (parameter, a URL value the event matches, members added to [`event`]).
fn list_parameters() -> Vec<(&'static str, &'static str, Value)> {
    let rich = json!({
        "eventID": "urn:uuid:11111111-1111-4111-8111-111111111111",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "persistentDisposition": {"set": ["completeness_verified"],
                                  "unset": ["completeness_inferred"]},
        "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
        "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"},
        "bizTransactionList": [{"type": "po",
                                "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:1152"}],
        "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:0614141.00001"}],
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877",
                          "quantity": 200, "uom": "KGM"}],
        "errorDeclaration": {"declarationTime": "2024-05-02T10:00:00Z",
                             "reason": "incorrect_data",
                             "correctiveEventIDs": ["urn:uuid:22222222-2222-4222-8222-222222222222"]},
        "sensorElementList": [{
            "sensorMetadata": {"deviceID": "urn:epc:id:giai:4000001.111"},
            "sensorReport": [{"type": "Temperature", "value": 26, "uom": "CEL",
                              "stringValue": "ok"}]
        }],
        "example:field": "x",
    });
    let transformation = json!({"type": "TransformationEvent", "transformationID": "urn:x:t1"});
    let mut cases = vec![
        ("eventType", "ObjectEvent", rich.clone()),
        ("EQ_action", "OBSERVE", rich.clone()),
        ("EQ_bizStep", "shipping", rich.clone()),
        ("EQ_disposition", "in_transit", rich.clone()),
        (
            "EQ_persistentDisposition_set",
            "completeness_verified",
            rich.clone(),
        ),
        (
            "EQ_persistentDisposition_unset",
            "completeness_inferred",
            rich.clone(),
        ),
        (
            "EQ_readPoint",
            "urn:epc:id:sgln:0614141.00777.0",
            rich.clone(),
        ),
        (
            "WD_bizLocation",
            "urn:epc:id:sgln:0614141.00888.0",
            rich.clone(),
        ),
        ("EQ_transformationID", "urn:x:t1", transformation),
        (
            "EQ_eventID",
            "urn:uuid:11111111-1111-4111-8111-111111111111",
            rich.clone(),
        ),
        (
            "EQ_correctiveEventID",
            "urn:uuid:22222222-2222-4222-8222-222222222222",
            rich.clone(),
        ),
        ("EQ_errorReason", "incorrect_data", rich.clone()),
        (
            "MATCH_epc",
            "urn:epc:id:sgtin:0614141.107346.2017",
            rich.clone(),
        ),
        (
            "MATCH_anyEPC",
            "urn:epc:idpat:sgtin:0614141.*",
            rich.clone(),
        ),
        (
            "MATCH_anyEPCClass",
            "urn:epc:class:lgtin:4012345.012345.998877",
            rich.clone(),
        ),
        (
            "EQ_bizTransaction_po",
            "urn:epcglobal:cbv:bt:0614141073467:1152",
            rich.clone(),
        ),
        (
            "EQ_source_owning_party",
            "urn:epc:id:pgln:0614141.00001",
            rich.clone(),
        ),
        ("EQ_type", "Temperature", rich.clone()),
        ("EQ_deviceID", "urn:epc:id:giai:4000001.111", rich.clone()),
        ("EQ_stringValue", "ok", rich.clone()),
        ("EQ_value_CEL", "26", rich.clone()),
        ("EQ_quantity_KGM", "200", rich.clone()),
    ];
    cases.push(("EQ_example:field", "x", rich));
    cases
}

/// An empty list (`name=` in a URL, `[]` in JSON) is accepted and, being a
/// disjunction over no values, matches no event — even one the parameter
/// with a value matches — and gives an empty candidate term list.
#[test]
fn empty_lists_match_nothing() {
    for (name, value, extra) in list_parameters() {
        let target = event(&extra);
        let given = EventQuery::from_pairs(&pairs(name, value))
            .unwrap_or_else(|e| panic!("{name}={value}: {e}"));
        assert!(given.matches(&target, 0), "{name}={value} should match");
        let by_pairs =
            EventQuery::from_pairs(&pairs(name, "")).unwrap_or_else(|e| panic!("{name}=: {e}"));
        let by_json = EventQuery::from_json(&json!({ name: [] }))
            .unwrap_or_else(|e| panic!("{name}: []: {e}"));
        assert_eq!(by_pairs, by_json, "{name}");
        for (how, query) in [("pairs", &by_pairs), ("json", &by_json)] {
            assert!(!query.matches(&target, 0), "{how} {name}= matched");
            assert!(
                !query.matches(&event(&json!({})), 0),
                "{how} {name}= matched"
            );
            assert_eq!(query.candidate_terms(), Some(Vec::new()), "{how} {name}=");
        }
        // With other restrictions, the empty list still wins the terms.
        let mut both = pairs(
            "EQ_eventID",
            "urn:uuid:11111111-1111-4111-8111-111111111111",
        );
        if name != "EQ_eventID" {
            both.extend(pairs(name, ""));
            let query = EventQuery::from_pairs(&both).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                query.candidate_terms(),
                Some(Vec::new()),
                "{name}= and eventID"
            );
            assert!(!query.matches(&target, 0), "{name}= and eventID");
        }
        // An empty alternative among others stays refused.
        for text in [
            format!("{value}|"),
            format!("|{value}"),
            format!("{value}||{value}"),
            "|".to_owned(),
        ] {
            let error = EventQuery::from_pairs(&pairs(name, &text)).expect_err(name);
            assert!(
                matches!(&error, QueryError::InvalidValue { parameter, message }
                    if parameter == name && message == "empty value"),
                "{name}={text}: {error:?}"
            );
        }
        for array in [json!([value, ""]), json!([""]), json!(""), Value::Null] {
            let error = EventQuery::from_json(&json!({ name: array })).expect_err(name);
            assert!(
                matches!(&error, QueryError::InvalidValue { parameter, .. } if parameter == name),
                "{name}: {array}: {error:?}"
            );
        }
    }
    // EXISTS_ parameters are not lists: empty still means "must exist".
    let exists = EventQuery::from_pairs(&pairs("EXISTS_errorDeclaration", "")).unwrap();
    assert!(!exists.matches(&event(&json!({})), 0));
    assert_eq!(exists.candidate_terms(), None);
    // `EQ_booleanValue` takes one value, not a list: empty is refused.
    assert!(EventQuery::from_pairs(&pairs("EQ_booleanValue", "")).is_err());
}

/// `EQ_eventID` / `EQ_correctiveEventID` take URIs only.
#[test]
fn event_ids_must_be_uris() {
    let good = [
        "ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0",
        "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
        "https://example.com/events/1",
        "x-y.z+1:abc",
        "tag:example.com,2024:event/1",
    ];
    let bad = [
        "no-scheme",
        "374d95fc-9457-4a51-bd6a-0bba133845a8",
        ":uuid:1",
        "1urn:uuid:1",
        "_x:y",
        "a/b:c",
        "ur n:uuid:1",
        " urn:uuid:1",
        "urn:uuid:1 ",
        "urn:uuid:1\t2",
        "urn:uuid:1\n",
        "urn:uuid:\u{7}",
        "urn:uuid:\u{7f}",
        "urn:uuid:\u{85}",
        "urn:uuid:1\u{a0}",
    ];
    for name in ["EQ_eventID", "EQ_correctiveEventID"] {
        for id in good {
            assert!(
                EventQuery::from_pairs(&pairs(name, id)).is_ok(),
                "{name}={id}"
            );
            assert!(
                EventQuery::from_json(&json!({ name: [id] })).is_ok(),
                "{name}: {id}"
            );
        }
        for id in bad {
            for text in [id.to_owned(), format!("urn:uuid:ok|{id}")] {
                let error = refused(name, &text);
                assert!(
                    matches!(&error, QueryError::InvalidValue { parameter, message }
                        if parameter == name && message.contains("not a URI")),
                    "{name}={text:?}: {error:?}"
                );
                assert!(error.to_string().contains(&format!("`{name}`")), "{error}");
            }
            let error =
                EventQuery::from_json(&json!({ name: ["urn:uuid:ok", id] })).expect_err(name);
            assert!(
                matches!(&error, QueryError::InvalidValue { parameter, .. } if parameter == name),
                "{name}: {id:?}: {error:?}"
            );
        }
    }
}
