//! The `GS1-EPC-Format` rewrite against the official EPCIS 2.0 example
//! documents (`shared/conformance/epcis/examples/`) and the header's
//! enumeration in the REST binding (`schema/epcis-rest-openapi.yaml`).

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::fs;
use std::path::{Path, PathBuf};

use oretrace_epcis::epc_format::{EpcFormat, rewrite_event, rewrite_id};
use oretrace_epcis::{canonical_digital_link, document_events};
use serde_json::{Value, json};

fn conformance() -> PathBuf {
    oretrace_benchkit::conformance("")
}

const ALL_FORMATS: [EpcFormat; 4] = [
    EpcFormat::NoPreference,
    EpcFormat::AlwaysDigitalLink,
    EpcFormat::AlwaysEpcUrn,
    EpcFormat::NeverTranslates,
];

/// The members that hold EPC lists, and those that hold quantity elements.
const EPC_LISTS: [&str; 4] = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];
const QUANTITY_LISTS: [&str; 4] = [
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
];

/// Every event of every example document (walked recursively), labelled
/// `file#index`.
fn example_events() -> Vec<(String, Value)> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|ext| ext == "jsonld") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&conformance().join("epcis/examples"), &mut files);
    files.sort();
    let mut events = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        let document: Value = serde_json::from_str(&text).expect("JSON");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (index, event) in document_events(&document)
            .expect("an EPCIS document")
            .into_iter()
            .enumerate()
        {
            events.push((format!("{name}#{index}"), event.clone()));
        }
    }
    assert_eq!(events.len(), 20, "example events");
    events
}

/// Pointers (`/epcList/0`, `/parentID`, `/quantityList/1/epcClass`) to the
/// string identifiers of `event`.
fn identifier_pointers(event: &Value) -> Vec<String> {
    let mut pointers = Vec::new();
    if event.get("parentID").is_some_and(Value::is_string) {
        pointers.push("/parentID".to_owned());
    }
    for key in EPC_LISTS {
        if let Some(Value::Array(ids)) = event.get(key) {
            for (index, id) in ids.iter().enumerate() {
                if id.is_string() {
                    pointers.push(format!("/{key}/{index}"));
                }
            }
        }
    }
    for key in QUANTITY_LISTS {
        if let Some(Value::Array(elements)) = event.get(key) {
            for (index, element) in elements.iter().enumerate() {
                if element.get("epcClass").is_some_and(Value::is_string) {
                    pointers.push(format!("/{key}/{index}/epcClass"));
                }
            }
        }
    }
    pointers
}

/// `event` with every identifier replaced by a placeholder: what must not
/// change under any format.
fn without_identifiers(event: &Value) -> Value {
    let mut event = event.clone();
    for pointer in identifier_pointers(&event) {
        *event.pointer_mut(&pointer).unwrap() = json!("<identifier>");
    }
    event
}

fn rewritten(event: &Value, format: EpcFormat) -> (Value, bool) {
    let mut event = event.clone();
    let complete = rewrite_event(&mut event, format);
    (event, complete)
}

#[test]
fn header_values_are_the_openapi_enumeration() {
    let openapi =
        fs::read_to_string(conformance().join("epcis/schema/epcis-rest-openapi.yaml")).unwrap();
    // The schema: `    GS1-EPC-Format:` then `enum:` and `- value` lines.
    let schema = openapi
        .find("    GS1-EPC-Format:\n      example:")
        .expect("the GS1-EPC-Format schema");
    let enumeration = &openapi[schema..];
    let enumeration = &enumeration[enumeration.find("enum:\n").unwrap() + 6..];
    let values: Vec<&str> = enumeration
        .lines()
        .map_while(|line| line.trim().strip_prefix("- "))
        .collect();
    assert_eq!(
        values,
        [
            "No_Preference",
            "Always_GS1_Digital_Link",
            "Always_EPC_URN",
            "Never_Translates"
        ]
    );
    for (value, format) in values.iter().zip(ALL_FORMATS) {
        assert_eq!(EpcFormat::parse(value), Some(format), "{value}");
        assert_eq!(format.as_str(), *value);
    }
    for format in ALL_FORMATS {
        assert_eq!(EpcFormat::parse(format.as_str()), Some(format));
    }
}

#[test]
fn unknown_header_values_are_refused() {
    for value in [
        "",
        " ",
        "always_gs1_digital_link",
        "ALWAYS_EPC_URN",
        "Always_Digital_Link",
        "Always_Web_URI",
        "Always_URN",
        "No Preference",
        "Never_Translates, Always_EPC_URN",
        "Never_Translates;q=1",
    ] {
        assert_eq!(EpcFormat::parse(value), None, "{value:?}");
    }
    assert_eq!(
        EpcFormat::parse(" Always_EPC_URN\t"),
        Some(EpcFormat::AlwaysEpcUrn)
    );
}

#[test]
fn every_example_urn_becomes_its_canonical_digital_link() {
    let mut converted = 0;
    for (label, event) in example_events() {
        let (after, complete) = rewritten(&event, EpcFormat::AlwaysDigitalLink);
        assert!(complete, "{label}");
        let pointers = identifier_pointers(&event);
        assert!(!pointers.is_empty(), "{label} has no identifiers");
        for pointer in pointers {
            let before = event.pointer(&pointer).unwrap().as_str().unwrap();
            assert!(before.starts_with("urn:epc:"), "{label}{pointer}: {before}");
            let expected = canonical_digital_link(before)
                .unwrap_or_else(|| panic!("{label}{pointer}: {before} has a Digital Link"));
            assert!(expected.starts_with("https://id.gs1.org/"));
            assert_eq!(
                after.pointer(&pointer),
                Some(&json!(expected)),
                "{label}{pointer}"
            );
            assert_eq!(
                rewrite_id(before, EpcFormat::AlwaysDigitalLink),
                Some(expected)
            );
            converted += 1;
        }
        // eventID, readPoint, bizLocation, sources, destinations and
        // everything else stay exactly as captured.
        assert_eq!(
            without_identifiers(&after),
            without_identifiers(&event),
            "{label}"
        );
        for member in [
            "eventID",
            "readPoint",
            "bizLocation",
            "sourceList",
            "destinationList",
            "bizTransactionList",
            "errorDeclaration",
        ] {
            assert_eq!(after.get(member), event.get(member), "{label} {member}");
        }
        // Idempotent: Digital Links are left as they are.
        assert_eq!(
            rewritten(&after, EpcFormat::AlwaysDigitalLink),
            (after.clone(), true)
        );
    }
    // The 20 example events hold 64 EPCs and EPC classes.
    assert_eq!(converted, 64);
}

#[test]
fn examples_spot_checks() {
    let events = example_events();
    let event = |label: &str| {
        events
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("{label}"))
            .1
            .clone()
    };
    let (after, complete) = rewritten(
        &event("Example_9.6.3-AggregationEvent.jsonld#0"),
        EpcFormat::AlwaysDigitalLink,
    );
    assert!(complete);
    assert_eq!(
        after["parentID"],
        "https://id.gs1.org/00/106141412345678908"
    );
    assert_eq!(
        after["childEPCs"],
        json!([
            "https://id.gs1.org/01/10614141073464/21/2017",
            "https://id.gs1.org/01/10614141073464/21/2018"
        ])
    );
    assert_eq!(
        after["childQuantityList"][0]["epcClass"],
        "https://id.gs1.org/01/04012345987652"
    );
    assert_eq!(
        after["childQuantityList"][1]["epcClass"],
        "https://id.gs1.org/01/04012345123456/10/998877"
    );
    assert_eq!(after["readPoint"]["id"], "urn:epc:id:sgln:0614141.00777.0");
    assert_eq!(
        after["bizLocation"]["id"],
        "urn:epc:id:sgln:0614141.00888.0"
    );

    let (after, complete) = rewritten(
        &event("Example-TransactionEvents-2020_07_03y.jsonld#0"),
        EpcFormat::AlwaysDigitalLink,
    );
    assert!(complete);
    assert_eq!(
        after["epcList"],
        json!(["https://id.gs1.org/8018/952520840000000010"])
    );
}

#[test]
fn no_preference_and_never_translates_change_nothing() {
    for (label, event) in example_events() {
        for format in [EpcFormat::NoPreference, EpcFormat::NeverTranslates] {
            assert_eq!(rewritten(&event, format), (event.clone(), true), "{label}");
            let (digital_links, _) = rewritten(&event, EpcFormat::AlwaysDigitalLink);
            assert_eq!(
                rewritten(&digital_links, format),
                (digital_links.clone(), true),
                "{label}"
            );
            for pointer in identifier_pointers(&event) {
                let id = event.pointer(&pointer).unwrap().as_str().unwrap();
                assert_eq!(rewrite_id(id, format), None);
            }
        }
    }
}

#[test]
fn always_epc_urn_keeps_urns_and_does_not_guess_a_company_prefix() {
    for (label, event) in example_events() {
        // Captured as URNs: already in the asked form.
        assert_eq!(
            rewritten(&event, EpcFormat::AlwaysEpcUrn),
            (event.clone(), true),
            "{label}"
        );
        // As Digital Links: left as they are, and the answer says so.
        let (digital_links, _) = rewritten(&event, EpcFormat::AlwaysDigitalLink);
        assert_eq!(
            rewritten(&digital_links, EpcFormat::AlwaysEpcUrn),
            (digital_links.clone(), false),
            "{label}"
        );
        for pointer in identifier_pointers(&digital_links) {
            let id = digital_links.pointer(&pointer).unwrap().as_str().unwrap();
            assert_eq!(rewrite_id(id, EpcFormat::AlwaysEpcUrn), None, "{id}");
        }
    }
}

#[test]
fn a_digital_link_does_not_say_where_the_company_prefix_ends() {
    // The same GTIN and serial with a 7- and a 6-digit company prefix: two
    // well-formed EPC URIs, one Digital Link. Which URN is right depends on
    // the prefix length GS1 allocated, which the Digital Link does not carry.
    let seven = "urn:epc:id:sgtin:4012345.011111.9876";
    let six = "urn:epc:id:sgtin:401234.0511111.9876";
    let digital_link = "https://id.gs1.org/01/04012345111118/21/9876";
    assert_eq!(canonical_digital_link(seven).as_deref(), Some(digital_link));
    assert_eq!(canonical_digital_link(six).as_deref(), Some(digital_link));
    assert_eq!(rewrite_id(digital_link, EpcFormat::AlwaysEpcUrn), None);
    // Likewise an SSCC (7- and 8-digit company prefix).
    let sscc = "https://id.gs1.org/00/106141412345678908";
    for urn in [
        "urn:epc:id:sscc:0614141.1234567890",
        "urn:epc:id:sscc:06141412.134567890",
    ] {
        assert_eq!(canonical_digital_link(urn).as_deref(), Some(sscc), "{urn}");
    }
    assert_eq!(rewrite_id(sscc, EpcFormat::AlwaysEpcUrn), None);
}

#[test]
fn digital_links_are_left_as_captured() {
    let captured = json!({
        "type": "ObjectEvent",
        "epcList": [
            "https://example.com/gtin/9506000134352/ser/7?linkType=all",
            "https://id.gs1.org/01/09506000134352/21/8",
            "urn:epc:id:sgtin:4012345.011111.9876"
        ],
        "quantityList": [{"epcClass": "https://id.gs1.de/01/9506000134352/10/A1", "quantity": 2}]
    });
    let (after, complete) = rewritten(&captured, EpcFormat::AlwaysDigitalLink);
    assert!(complete);
    assert_eq!(
        after["epcList"],
        json!([
            "https://example.com/gtin/9506000134352/ser/7?linkType=all",
            "https://id.gs1.org/01/09506000134352/21/8",
            "https://id.gs1.org/01/04012345111118/21/9876"
        ])
    );
    assert_eq!(after["quantityList"], captured["quantityList"]);
    assert_eq!(
        rewrite_id(
            "https://example.com/gtin/9506000134352/ser/7",
            EpcFormat::AlwaysDigitalLink
        ),
        None
    );
}

#[test]
fn private_identifiers_stay_and_do_not_make_the_answer_incomplete() {
    let captured = json!({
        "type": "TransformationEvent",
        "inputEPCList": ["urn:oretrace:lot:fwo:sb-1", "https://lots.example.org/abc"],
        "outputQuantityList": [{"epcClass": "urn:oretrace:lot:fwo:conc-7", "quantity": 1.5, "uom": "TNE"}],
        "parentID": "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
    });
    for format in ALL_FORMATS {
        assert_eq!(
            rewritten(&captured, format),
            (captured.clone(), true),
            "{format:?}"
        );
    }
    assert_eq!(
        rewrite_id("urn:oretrace:lot:fwo:sb-1", EpcFormat::AlwaysDigitalLink),
        None
    );
}

#[test]
fn epcs_without_a_digital_link_stay_and_make_the_answer_incomplete() {
    for untranslatable in [
        "urn:epc:id:gid:95100000.12345.400",
        "urn:epc:id:usdod:2S194.12345678901",
        "urn:epc:id:sgtin:4012345.0111111.9876",
        "URN:EPC:ID:SGTIN:4012345.011111.9876",
    ] {
        let captured = json!({
            "type": "ObjectEvent",
            "epcList": ["urn:epc:id:sgtin:4012345.011111.9876", untranslatable, "urn:oretrace:lot:x"]
        });
        let (after, complete) = rewritten(&captured, EpcFormat::AlwaysDigitalLink);
        assert!(!complete, "{untranslatable}");
        assert_eq!(
            after["epcList"],
            json!([
                "https://id.gs1.org/01/04012345111118/21/9876",
                untranslatable,
                "urn:oretrace:lot:x"
            ])
        );
        assert_eq!(
            rewrite_id(untranslatable, EpcFormat::AlwaysDigitalLink),
            None
        );
        // As EPC URIs they are what Always_EPC_URN asks for.
        assert_eq!(
            rewritten(&captured, EpcFormat::AlwaysEpcUrn),
            (captured.clone(), true)
        );
    }
}

#[test]
fn only_the_identifier_members_are_rewritten() {
    let urn = "urn:epc:id:sgtin:4012345.011111.9876";
    let captured = json!({
        "type": "ObjectEvent",
        "eventID": urn,
        "epcList": [urn],
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00005.0"},
        "bizLocation": {"id": "urn:epc:id:sgln:4012345.00005.0"},
        "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
        "destinationList": [{"type": "location", "destination": "urn:epc:id:sgln:4012345.00005.0"}],
        "bizTransactionList": [{"type": "po", "bizTransaction": urn}],
        "ilmd": {"example:parent": urn},
        "example:epcList": [urn],
        "extension": {"epcList": [urn]}
    });
    let (after, complete) = rewritten(&captured, EpcFormat::AlwaysDigitalLink);
    assert!(complete);
    let mut expected = captured.clone();
    expected["epcList"] = json!(["https://id.gs1.org/01/04012345111118/21/9876"]);
    assert_eq!(after, expected);
}

#[test]
fn odd_shapes_are_left_alone() {
    for captured in [
        json!("urn:epc:id:sgtin:4012345.011111.9876"),
        json!(null),
        json!([]),
        json!({"epcList": "urn:epc:id:sgtin:4012345.011111.9876"}),
        json!({"epcList": [1, null, {"id": "urn:epc:id:sgtin:4012345.011111.9876"}]}),
        json!({"parentID": 7, "quantityList": ["urn:epc:class:lgtin:4012345.012345.1", {"epcClass": 3}]}),
        json!({"childQuantityList": {"epcClass": "urn:epc:class:lgtin:4012345.012345.1"}}),
    ] {
        for format in ALL_FORMATS {
            assert_eq!(
                rewritten(&captured, format),
                (captured.clone(), true),
                "{captured}"
            );
        }
    }
}
