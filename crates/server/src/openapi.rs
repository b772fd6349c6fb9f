//! The OpenAPI 3.1 description of the API, served at `GET /openapi.json`.
//! Hand-written: the wire shapes are the domain crate's `wire` and
//! `envelope` types, and a test checks that every route is described.

use serde_json::{Value, json};

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn text_response(description: &str) -> Value {
    json!({"description": description, "content": {"text/plain; charset=utf-8": {"schema": {"type": "string"}}}})
}

fn path_parameter(name: &str, description: &str, pattern: Option<&str>) -> Value {
    let mut schema = json!({"type": "string"});
    if let Some(pattern) = pattern {
        schema["pattern"] = json!(pattern);
    }
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
}

/// A `GET` operation answering `ok` or one of the problems listed.
fn read(summary: &str, parameters: Vec<Value>, ok: Value, problems: &[(&str, &str)]) -> Value {
    let mut responses = json!({"200": ok});
    for (status, description) in problems {
        responses[*status] = problem_response(description);
    }
    json!({"get": {"summary": summary, "parameters": parameters, "responses": responses}})
}

/// A refusal with a `Retry-After` header.
fn retry_later(description: &str) -> Value {
    json!({"description": description,
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

/// `GET /queries`: paged by name, the next page in a `Link` header.
fn queries_list() -> Value {
    let mut get = list("The named queries", "Parties")["get"].clone();
    get["responses"]["200"] = json!({
        "description": "name, owner and query of each, in name order; a Link header with rel=\"next\" points to the next page",
        "headers": {"Link": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object",
            "required": ["name", "owner", "query"], "properties": {"name": {"type": "string"},
            "owner": {"type": "string"}, "query": {"type": "object"}}}}}}});
    get
}

fn next_page_token() -> Value {
    json!({"type": "string", "description": "Present while there is a next page: pass it as nextPageToken"})
}

/// A paged list in id order (`perPage`, `nextPageToken`, a `Link` header).
fn list(summary: &str, schema: &str) -> Value {
    let parameters = vec![
        json!({"name": "perPage", "in": "query", "description": "Items per page",
               "schema": {"type": "integer", "minimum": 1, "maximum": crate::registry::MAX_PER_PAGE,
                          "default": crate::registry::DEFAULT_PER_PAGE}}),
        json!({"name": "nextPageToken", "in": "query", "description": "From the previous page (opaque)",
               "schema": {"type": "string"}}),
    ];
    let ok = json!({
        "description": "One page, in id order; a Link header with rel=\"next\" points to the next while there is more",
        "headers": {"Link": {"schema": {"type": "string"}, "description": "<…>; rel=\"next\""}},
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    });
    read(
        &format!("{summary}, a page at a time in id order"),
        parameters,
        ok,
        &[(
            "400",
            "perPage out of range, a token another list gave, or an unknown parameter (field named)",
        )],
    )
}

fn number() -> Value {
    json!({"oneOf": [{"type": "string"}, {"type": "number"}], "description": "A decimal, as a JSON number or a string"})
}

/// The words a vocabulary of the domain accepts, as an `enum`, so that
/// the document lists exactly what the validator takes.
fn words(all: impl IntoIterator<Item = &'static str>, description: &str) -> Value {
    json!({"enum": all.into_iter().collect::<Vec<_>>(), "description": description})
}

fn mass_unit() -> Value {
    use oretrace_domain::values::MassUnit;
    words(
        [MassUnit::Kilogram, MassUnit::Tonne].map(|u| u.as_str()),
        "kg or t (tonnes)",
    )
}

fn mass() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["value", "unit"],
           "properties": {"value": number(), "unit": mass_unit()}})
}

fn lot_mass() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["lot", "mass"],
           "properties": {"lot": {"type": "string"}, "mass": mass()}})
}

/// One record kind: its `kind` tag, required and optional fields.
fn record_kind(kind: &str, required: &[&str], properties: Value) -> Value {
    let mut properties = properties;
    properties["kind"] = json!({"const": kind});
    properties["time"] = json!({"type": "string", "format": "date-time", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
        "description": "UTC to the second, ending in Z (2025-09-08T10:00:00Z); not before what the record depends on, at most an hour ahead",
        "examples": ["2025-09-08T10:00:00Z"]});
    properties["figures"] = json!({"enum": ["illustrative", "reported"],
        "description": "Required, no default: whether the figures are illustrative (demo data) or reported by the signer, always stated so that nothing illustrative passes for fact"});
    let mut all = vec!["kind", "time", "figures"];
    all.extend_from_slice(required);
    json!({"type": "object", "additionalProperties": false, "required": all, "properties": properties})
}

fn record_schemas() -> Value {
    use oretrace_domain::chemistry::GradeUnit;
    use oretrace_domain::record::{Basis, DocumentKind, LotForm, PartyKind, SiteKind};
    let s = json!({"type": "string"});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    // Lists and flags that may be left out: the validator applies these
    // defaults (every other field is required).
    let optional_list = |description: &str| json!({"type": "array", "items": {"type": "string"}, "default": [], "description": description});
    let flag = |description: &str| json!({"type": "boolean", "default": false, "description": description});
    json!({
        "Party": record_kind("party", &["id", "name", "party_kind", "country", "keys"], json!({
            "id": s, "name": s,
            "party_kind": words(PartyKind::ALL.iter().map(PartyKind::as_str), "What kind of organisation the party is"),
            "country": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2"},
            "keys": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": oretrace_domain::record::MAX_KEYS,
                "description": "C2SP vkeys of the party's signing keys; each key listed signs the record"},
            "owners": {"type": "array", "default": [], "items": {"type": "object", "additionalProperties": false,
                "required": ["owner", "share_percent"],
                "properties": {"owner": s, "share_percent": number(),
                    "controls": flag("Whether the owner controls the party")}}}
        })),
        "Site": record_kind("site", &["id", "name", "site_kind", "operator", "country", "location"], json!({
            "id": s, "name": s,
            "site_kind": words(SiteKind::ALL.iter().map(SiteKind::as_str), "What kind of place the site is"),
            "operator": s, "country": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2"},
            "location": {"type": "object", "additionalProperties": false, "required": ["lat", "lon"],
                "properties": {"lat": number(), "lon": number()}},
            "approximate": flag("Whether the location is approximate")
        })),
        "Lot": record_kind("lot", &["id", "commodity", "form", "site", "wet_mass", "moisture_percent"], json!({
            "id": s, "commodity": s,
            "form": words(LotForm::ALL.iter().map(LotForm::as_str), "The lot's physical form"),
            "site": s, "wet_mass": mass(), "moisture_percent": number()
        })),
        "Assay": record_kind("assay", &["lot", "analyte", "value", "unit", "basis", "method", "laboratory", "certificate_sha256"], json!({
            "lot": s, "analyte": {"type": "string", "description": "An element symbol (Sb) or an oxide formula (Nd2O3)", "examples": ["Sb", "Nd2O3"]},
            "value": number(),
            "unit": words([GradeUnit::Percent, GradeUnit::Ppm, GradeUnit::GramsPerTonne].map(|u| u.as_str()), "The grade's unit"),
            "basis": words(Basis::ALL.iter().map(Basis::as_str), "Whether the grade is on the dry or the wet mass"),
            "method": s, "laboratory": s,
            "certificate_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}
        })),
        "Shipment": record_kind("shipment", &["id", "lots", "from", "to", "receiver"], json!({
            "id": s, "lots": strings, "from": s, "to": s,
            "via": optional_list("Sites the material passes through (ports), in order"), "receiver": s,
            "documents": {"type": "array", "default": [], "items": {"type": "object", "additionalProperties": false,
                "required": ["kind", "reference"], "properties": {
                    "kind": words(DocumentKind::ALL.iter().map(DocumentKind::as_str),
                        "The trade document's kind (CBV bizTransaction types: bol bill of lading, inv invoice, po purchase order…)"),
                    "reference": s}}}
        })),
        "Receipt": record_kind("receipt", &["shipment", "site", "lots"], json!({
            "shipment": s, "site": s, "lots": {"type": "array", "items": lot_mass()}
        })),
        "Transformation": record_kind("transformation", &["id", "site", "process", "inputs", "outputs"], json!({
            "id": s, "site": s, "process": s, "inputs": {"type": "array", "items": lot_mass()},
            "outputs": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                "required": ["id", "commodity", "form", "wet_mass", "moisture_percent"],
                "properties": {"id": s, "commodity": s, "form": s, "wet_mass": mass(), "moisture_percent": number()}}}
        })),
    })
}

/// The one record hash: what `POST /records` answers, `/records/{index}`
/// shows, `/records/by-hash/{hash}` finds and the CLI prints.
const RECORD_HASH: &str = "The record hash: SHA-256 of the record's canonical bytes (oretrace.record/v1), the same \
    whoever signed it; for a captured EPCIS event, SHA-256 of `epcis-event <event id>`. Answered by POST /records, shown by \
    /records/{index}, found by /records/by-hash/{hash}, printed by `oretrace record submit` and `oretrace verify --inclusion`";

fn record_hash() -> Value {
    json!({"type": "string", "pattern": "^[0-9a-f]{64}$", "description": RECORD_HASH})
}

fn schemas() -> Value {
    let mut schemas = record_schemas();
    let kinds = [
        "Party",
        "Site",
        "Lot",
        "Assay",
        "Shipment",
        "Receipt",
        "Transformation",
    ];
    let one_of: Vec<Value> = kinds
        .iter()
        .map(|k| json!({"$ref": format!("#/components/schemas/{k}")}))
        .collect();
    let mapping: serde_json::Map<String, Value> = kinds
        .iter()
        .map(|k| (k.to_lowercase(), json!(format!("#/components/schemas/{k}"))))
        .collect();
    let mut logged_one_of = one_of.clone();
    logged_one_of.push(json!({"$ref": "#/components/schemas/EpcisEvent"}));
    let mut logged_mapping = mapping.clone();
    logged_mapping.insert(
        "epcis_event".into(),
        json!("#/components/schemas/EpcisEvent"),
    );
    let extra = json!({
        "Record": {"oneOf": one_of, "discriminator": {"propertyName": "kind", "mapping": mapping},
            "description": "A record as JSON. Clients sign its canonical bytes (oretrace.record/v1), never the JSON."},
        "EpcisEvent": record_kind("epcis_event", &["event_id", "captured_by", "capture", "auth", "event"], json!({
            "event_id": {"type": "string", "description": "The event's CBV 2.0 hash (ni:///sha-256;…?ver=CBV2.0)"},
            "captured_by": {"type": "string", "description": "The capturing party"},
            "capture": {"type": "string", "description": "The capture job"},
            "auth": {"oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["method", "key"],
                    "properties": {"method": {"const": "token"}, "key": {"type": "string"}}},
                {"type": "object", "additionalProperties": false, "required": ["method", "document_sha256", "behaviour", "signatures"],
                    "properties": {"method": {"const": "signed"}, "document_sha256": {"type": "string"},
                        "behaviour": {"type": "string"}, "signatures": {"type": "array", "items": {"type": "string"}}}}]},
            "event": {"type": "object", "description": "The EPCIS event as captured"}
        })),
        "LoggedRecord": {"oneOf": logged_one_of, "discriminator": {"propertyName": "kind", "mapping": logged_mapping},
            "description": "A record as the log holds it: a posted record, or an EPCIS event captured through /capture or POST /events \
                (written by the registry, never posted to /records)."},
        "Signature": {"type": "object", "additionalProperties": false, "required": ["key", "signature"], "properties": {
            "key": {"type": "string", "pattern": "^[^+\\s\\x00-\\x1f\\x7f-\\x9f]+\\+[0-9a-f]{8}(?![\\s\\S])", "description": "<key name>+<8 lower-case hex digits of the key id>: the name holds no white space, control character or +"},
            "signature": {"type": "string", "contentEncoding": "base64", "description": "The 64-byte Ed25519 signature"}}},
        "Envelope": {"type": "object", "additionalProperties": false, "required": ["record", "signatures"], "properties": {
            "record": {"$ref": "#/components/schemas/Record"},
            "signatures": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Signature"}}}},
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail"],
            "description": "RFC 7807 problem details", "properties": {
            "type": {"type": "string", "format": "uri", "examples": [crate::error::problem_type("invalid-record")]},
            "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
            "field": {"type": "string", "description": "The JSON path of the field at fault", "examples": ["wet_mass.unit"]},
            "rule": {"type": "string", "description": "The rule the field breaks"},
            "index": {"type": "integer", "description": "For a replay: the index of the original entry"},
            "limit": {"type": "integer", "description": "The limit a refusal refers to (bytes, events, entries, milliseconds)"}}},
        "Submitted": {"type": "object", "required": ["index", "record_hash", "receipt"], "properties": {
            "index": {"type": "integer", "minimum": 0},
            "record_hash": record_hash(),
            "receipt": {"type": "string", "description": "A c2sp.org/tlog-proof@v1 receipt whose extra line carries the entry"}}},
        "RecordView": {"type": "object", "required": ["index", "kind", "record", "signatures", "entry", "record_hash"], "properties": {
            "index": {"type": "integer"}, "kind": {"type": "string"},
            "record": {"$ref": "#/components/schemas/LoggedRecord"},
            "signatures": {"type": "array", "items": {"$ref": "#/components/schemas/Signature"}},
            "entry": {"type": "string", "description": "The log entry: a C2SP signed note"},
            "record_hash": record_hash()}},
        "PartyState": {"type": "object", "required": ["id", "record", "index"], "properties": {
            "id": {"type": "string"}, "record": {"$ref": "#/components/schemas/Party"}, "index": {"type": "integer"},
            "unconfirmed_owners": {"type": "array", "items": {"type": "string"},
                "description": "Owners the record names that have not signed a version naming them with this share and control: the claim is unconfirmed"}}},
        "SiteState": {"type": "object", "required": ["id", "operator", "country", "record", "index"], "properties": {
            "id": {"type": "string"}, "operator": {"type": "string"}, "country": {"type": "string"},
            "record": {"$ref": "#/components/schemas/Site"}, "index": {"type": "integer"}}},
        "LotState": {"type": "object", "required": ["id", "commodity", "form", "origin_site", "site", "custodian", "status",
            "wet_mass", "moisture_percent", "inputs", "element_percent", "figures", "index"], "properties": {
            "id": {"type": "string"}, "commodity": {"type": "string"}, "form": {"type": "string"},
            "origin_site": {"type": "string"}, "site": {"type": "string"}, "custodian": {"type": "string"},
            "status": {"enum": ["held", "in-transit", "consumed"]},
            "shipment": {"type": "string", "description": "While in transit"},
            "transformation": {"type": "string", "description": "Once consumed"},
            "wet_mass": mass(), "moisture_percent": {"type": "string"},
            "inputs": {"type": "array", "items": {"type": "string"}},
            "element_percent": {"type": "array", "items": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}]}},
            "received_mass": {"oneOf": [mass(), {"type": "null"}]},
            "figures": {"enum": ["illustrative", "reported"]}, "index": {"type": "integer"},
            "created": {"type": "string", "description": "When it was commissioned or produced"},
            "since": {"type": "string", "description": "When it reached its present site and custodian; nothing may be dated before"}}},
        "LotView": {"allOf": [{"$ref": "#/components/schemas/LotState"}, {"type": "object", "required": ["events"], "properties": {
            "events": {"type": "array", "items": {"type": "object", "required": ["index", "record"], "properties": {
                "index": {"type": "integer"}, "record": {"$ref": "#/components/schemas/LoggedRecord"}}}}}}]},
        "Parties": {"type": "object", "required": ["parties"], "properties": {
            "parties": {"type": "array", "items": {"$ref": "#/components/schemas/PartyState"}},
            "nextPageToken": next_page_token()}},
        "Sites": {"type": "object", "required": ["sites"], "properties": {
            "sites": {"type": "array", "items": {"$ref": "#/components/schemas/SiteState"}},
            "nextPageToken": next_page_token()}},
        "Lots": {"type": "object", "required": ["lots"], "properties": {
            "lots": {"type": "array", "items": {"$ref": "#/components/schemas/LotState"}},
            "nextPageToken": next_page_token()}},
        "Challenge": {"type": "object", "required": ["challenge", "expires"], "properties": {
            "challenge": {"type": "string"}, "expires": {"type": "string", "format": "date-time"}}},
        "Token": {"type": "object", "required": ["access_token", "token_type", "expires_in", "party", "key"], "properties": {
            "access_token": {"type": "string"}, "token_type": {"const": "Bearer"}, "expires_in": {"type": "integer"},
            "party": {"type": "string"}, "key": {"type": "string"}}},
        "CaptureJob": {"type": "object", "required": ["captureID", "createdAt", "running", "success", "captureErrorBehaviour", "errors", "capturedBy", "events"],
            "properties": {"captureID": {"type": "string"}, "createdAt": {"type": "string"}, "finishedAt": {"type": "string"},
                "running": {"type": "boolean"}, "success": {"type": "boolean"}, "captureErrorBehaviour": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object"}}, "capturedBy": {"type": "string"},
                "events": {"type": "array", "items": {"type": "object", "properties": {"eventID": {"type": "string"},
                    "status": {"enum": ["captured", "duplicate", "refused", "rolled-back"]}, "index": {"type": "integer"}}}}}},
        "CaptureJobs": {"type": "array", "items": {"$ref": "#/components/schemas/CaptureJob"}},
        "EPCISQueryDocument": {"type": "object", "description": "An EPCIS 2.0 EPCISQueryDocument (GS1 EPCIS-JSON-Schema.json)"},
        "Health": {"type": "object", "required": ["status", "size"], "properties": {
            "status": {"const": "ok"}, "size": {"type": "integer", "description": "Entries the published checkpoint covers"}}},
    });
    for (name, schema) in extra.as_object().into_iter().flatten() {
        schemas[name] = schema.clone();
    }
    let job = &mut schemas["CaptureJob"]["properties"];
    job["errorsOmitted"] =
        json!({"type": "integer", "description": "Refusals beyond the first 1000 listed"});
    job["warnings"] = json!({"type": "array", "items": {"type": "object"}});
    job["warningsOmitted"] =
        json!({"type": "integer", "description": "Warnings beyond the first 1000 listed"});
    schemas
}

fn paths() -> Value {
    let index = || {
        json!({"name": "index", "in": "path", "required": true,
            "description": "The entry's index in the log, in decimal without leading zeros",
            "schema": {"type": "integer", "minimum": 0, "maximum": u64::MAX}})
    };
    let id = |what: &str| path_parameter("id", &format!("The {what}'s identifier"), None);
    let bad_index = ("400", "The index is not a canonical decimal");
    let unpublished = ("404", "No such entry in the published log");
    json!({
        "/records": {"post": {
            "summary": "Submit a signed record; answers once it is durable and covered by a checkpoint",
            "requestBody": {"required": true, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}},
                "text/plain": {"schema": {"type": "string"}, "description": "A log entry: a C2SP signed note over the record's canonical bytes"}}},
            "responses": {
                "201": {"description": "Accepted and durable",
                    "headers": {"Location": {"schema": {"type": "string"}, "description": "/records/{index}"}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submitted"}}}},
                "400": problem_response("Malformed JSON, or a field breaks a rule (field and rule named)"),
                "401": problem_response("A signature is missing, unknown or does not verify"),
                "403": problem_response("The signers may not make this claim"),
                "409": problem_response("The record is already in the log (index given)"),
                "413": problem_response("The body is over the server's limit"),
                "415": problem_response("Neither application/json nor text/plain"),
                "422": problem_response("The record names something that does not exist or contradicts the registry"),
                "500": problem_response("Internal error (details are logged, not sent)"),
                "503": {"description": "The ledger is busy; retry after the Retry-After header",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}}},
        "/records/{index}": read("A log entry, decoded", vec![index()], json_response("The entry", "RecordView"), &[bad_index, unpublished]),
        "/records/{index}/receipt": read("A tlog-proof receipt for the entry against the published checkpoint", vec![index()],
            text_response("A c2sp.org/tlog-proof@v1 receipt carrying the entry"), &[bad_index, unpublished]),
        "/records/by-hash/{hash}": {"get": {"summary": "Find the entry holding a record by its hash",
            "parameters": [path_parameter("hash", RECORD_HASH, Some("^[0-9a-f]{64}$"))],
            "responses": {"303": {"description": "See /records/{index}", "headers": {"Location": {"schema": {"type": "string"}}}},
                "400": problem_response("Not 64 lower-case hex digits"), "404": problem_response("No such record")}}},
        "/parties": list("The registered parties", "Parties"),
        "/parties/{id}": read("A party", vec![id("party")], json_response("The party", "PartyState"), &[("404", "No such party")]),
        "/sites": list("The registered sites", "Sites"),
        "/sites/{id}": read("A site", vec![id("site")], json_response("The site", "SiteState"), &[("404", "No such site")]),
        "/lots": list("The lots", "Lots"),
        "/lots/{id}": read("A lot and every entry concerning it, oldest first", vec![id("lot")],
            json_response("The lot", "LotView"), &[("404", "No such lot")]),
        "/checkpoint": read("The signed checkpoint (C2SP tlog-checkpoint)", vec![], text_response("The checkpoint note"), &[]),
        "/tile/{path}": read("A hash tile or entry bundle (C2SP tlog-tiles)",
            vec![path_parameter("path", "The tile path after tile/, such as 0/x001/234 or entries/000.p/5 (contains slashes)", None)],
            json!({"description": "The tile's bytes", "content": {"application/octet-stream": {"schema": {"type": "string", "contentEncoding": "binary"}}}}),
            &[("404", "No such tile, or not covered by the published checkpoint")]),
        "/vkey": read("The log's verifier key (C2SP vkey)", vec![], text_response("One line"), &[]),
        "/healthz": read("Liveness and the published log size", vec![], json_response("Serving", "Health"), &[]),
        "/openapi.json": read("This document", vec![], json!({"description": "OpenAPI 3.1", "content": {"application/json": {}}}), &[]),
    })
}

/// An EPCIS query operation: the EPCIS 2.0 query parameters in the query
/// string, an `EPCISQueryDocument` page back.
fn epcis_query(summary: &str, parameters: Vec<Value>) -> Value {
    let mut parameters = parameters;
    parameters.push(json!({"name": "perPage", "in": "query",
        "description": "Events per page; a page holds at most 1000, larger values are served as 1000",
        "schema": {"type": "integer", "minimum": 1, "maximum": u32::MAX, "default": 30}}));
    parameters.push(json!({"name": "nextPageToken", "in": "query",
        "description": "Opaque: only a token from this query's Link header is valid (400 otherwise)",
        "schema": {"type": "string", "minLength": 1}}));
    json!({"get": {"summary": summary, "parameters": parameters,
        "description": "EPCIS 2.0 query parameters (eventType, GE_/LT_eventTime, GE_/LT_recordTime, EQ_action, EQ_bizStep, EQ_disposition, \
            EQ_readPoint, EQ_bizLocation, EQ_transformationID, MATCH_epc/parentID/inputEPC/outputEPC/anyEPC, MATCH_epcClass/inputEPCClass/\
            outputEPCClass/anyEPCClass, EQ_eventID, EQ_bizTransaction_{type}, EQ_source_{type}, EQ_destination_{type}, \
            GE_/GT_/LE_/LT_value_{uom}, orderBy, orderDirection, eventCountLimit); unknown parameters are refused by name.",
        "responses": {
            "200": {"description": "One page of results; a Link header with rel=\"next\" points to the next",
                "headers": {"Link": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EPCISQueryDocument"}}}},
            "400": problem_response("An unknown parameter (named), a bad value, or a token from another query"),
            "404": problem_response("No such named query"),
            "429": retry_later("The client has used its budget of candidate events examined (queries no index serves); \
                retry after the Retry-After header")}}})
}

/// A pipe-delimited list (`a|b`) of standard bare words or of URIs and
/// CURIEs (anything with a colon), as the query parameters of CBV
/// vocabularies take them.
fn vocabulary_list(standard: &[&str]) -> String {
    let item = format!("({}|[^|:]*:[^|]*)", standard.join("|"));
    format!("^{item}(\\|{item})*$")
}

fn vocabulary_parameter(description: &str, standard: &[&str]) -> Value {
    path_parameter("value", description, Some(&vocabulary_list(standard)))
}

fn epcis_paths() -> Value {
    let value = |name: &str| path_parameter("value", name, None);
    let event_types = [
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    ];
    let version = json!({"type": "string", "pattern": "^(2\\.0(\\.[ -~]*)?)?$", "examples": ["2.0.0"],
        "description": "2.0 or 2.0.x (or empty, as if absent): this repository speaks EPCIS and CBV 2.0.0 (406 otherwise)"});
    let versions = json!([
        {"name": "GS1-EPCIS-Version", "in": "header", "schema": version},
        {"name": "GS1-CBV-Version", "in": "header", "schema": version}]);
    let auth = "A bearer token (POST /auth/challenge, /auth/token) or detached document signatures: one \
        `Oretrace-Signature: <key name> <base64>` header per signer, each a C2SP signed-note signature over \
        `oretrace.epcis-document/v1\\nsha256 <hex SHA-256 of the body>\\n`";
    let capture_problems = |responses: &mut Value| {
        responses["400"] =
            problem_response("Malformed JSON or schema violations (each with its JSON pointer)");
        responses["401"] = problem_response("No or bad credentials");
        responses["406"] = problem_response("An EPCIS/CBV version other than 2.0");
        responses["413"] =
            problem_response("Over the capture size or event limit (the limit is given)");
        responses["415"] = problem_response("Not JSON");
        responses["408"] = problem_response(
            "The body did not arrive within the capture body deadline (the limit is given, in ms)",
        );
        responses["429"] = problem_response(
            "The party holds its share of capture slots or capture jobs (the limit is given)",
        );
        responses["503"] =
            retry_later("Every capture slot is taken; retry after the Retry-After header");
    };
    let mut capture = json!({"202": {"description": "Accepted; the job is at the Location",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "/capture/{id}"},
            "GS1-EPCIS-Capture-Limit": {"schema": {"type": "integer"}},
            "GS1-EPCIS-Capture-File-Size-Limit": {"schema": {"type": "integer"}}}}});
    capture_problems(&mut capture);
    let mut single = json!({"201": {"description": "Captured; the event is at the Location",
        "headers": {"Location": {"schema": {"type": "string"}}}},
        "403": problem_response("The capturer may not state this (custody rules)"),
        "409": problem_response("The event (same CBV 2.0 hash) is already in the log"),
        "422": problem_response("The event contradicts the registry")});
    capture_problems(&mut single);
    let capture_security = json!([{"bearer": []}, {"documentSignature": []}]);
    let mut capture_parameters = versions.as_array().cloned().unwrap_or_default();
    capture_parameters.push(
        json!({"name": "GS1-Capture-Error-Behaviour", "in": "header",
        "schema": {"enum": ["rollback", "proceed", "all"], "default": "rollback"}}),
    );
    let query_name = json!({"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"});
    json!({
        "/auth/challenge": {"post": {"summary": "A one-time challenge for a registered key to sign",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["key"], "additionalProperties": false,
                "properties": {"key": {"type": "string", "pattern": "^[^\\s+\\x00-\\x1f\\x7f-\\x9f]+\\+[0-9a-f]{8}(?![\\s\\S])",
                    "description": "<key name>+<8 lower-case hex digits of the key id> (as the key's vkey starts)"}}}}}},
            "responses": {"200": json_response("The challenge text (a signed-note text) and its expiry", "Challenge"),
                "400": problem_response("Malformed JSON, or a key not of the form <key name>+<8 lower-case hex digits>"),
                "401": problem_response("The key is not registered")}}},
        "/auth/token": {"post": {"summary": "A bearer token for the party whose key signed the challenge",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["challenge", "signature"], "additionalProperties": false,
                "properties": {"challenge": {"type": "string"}, "signature": {"type": "string", "description": "<key name> <base64 signature line>"}}}}}},
            "responses": {"200": json_response("The token", "Token"),
                "400": problem_response("Malformed JSON or a malformed signature line"),
                "401": problem_response("Unknown, used or expired challenge, or a bad signature"),
                "429": problem_response("The party holds as many live tokens as it may (the limit is given)")}}},
        "/capture": {
            "post": {"summary": "Capture an EPCISDocument (asynchronous)", "description": auth, "parameters": capture_parameters,
                "security": capture_security,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}, "application/ld+json": {"schema": {"type": "object"}}}},
                "responses": capture},
            "get": {"summary": "The caller's capture jobs this server remembers, oldest first, without their event lists",
                "security": [{"bearer": []}],
                "responses": {"200": json_response("The jobs", "CaptureJobs"),
                    "401": problem_response("No bearer token, or a bad one")}},
            "options": {"summary": "The capture limits and error behaviours", "responses": {"204": {"description": "See the GS1-* headers"}}}},
        "/capture/{id}": read("A capture job", vec![path_parameter("id", "The capture job id", None)],
            json_response("The job", "CaptureJob"), &[("404", "No such job")]),
        "/events": {
            "post": {"summary": "Capture one event (synchronous)", "description": auth, "parameters": versions,
                "security": capture_security,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": single},
            "get": epcis_query("Events matching an EPCIS 2.0 query", vec![])["get"].clone()},
        "/events/{id}": read("One event, by its CBV 2.0 hash or the eventID it was captured with; the capturing party in the Oretrace-Captured-By header and its log entry in Oretrace-Log-Index (query results name them under https://oretrace.org/epcis/capturedBy)",
            vec![path_parameter("id", "The event id, percent-encoded", None)],
            json!({"description": "The event", "content": {"application/json": {"schema": {"type": "object"}}}}), &[("404", "No such event")]),
        "/eventTypes": read("The EPCIS event types", vec![], json!({"description": "The type names", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}}), &[]),
        "/eventTypes/{value}/events": epcis_query("Events of one type",
            vec![vocabulary_parameter("An EPCIS event type, or a URI (|-separated for several)", &event_types)]),
        "/epcs/{epc}/events": epcis_query("Events naming an EPC or EPC class", vec![path_parameter("epc", "The EPC or class URI, percent-encoded", None)]),
        "/bizSteps/{value}/events": epcis_query("Events with a business step",
            vec![vocabulary_parameter("A CBV business step, or a URI or CURIE (|-separated for several)", oretrace_epcis::STANDARD_BIZ_STEPS)]),
        "/bizLocations/{value}/events": epcis_query("Events at a business location", vec![value("A location URI, percent-encoded")]),
        "/readPoints/{value}/events": epcis_query("Events at a read point", vec![value("A read point URI, percent-encoded")]),
        "/dispositions/{value}/events": epcis_query("Events with a disposition",
            vec![vocabulary_parameter("A CBV disposition, or a URI or CURIE (|-separated for several)", oretrace_epcis::STANDARD_DISPOSITIONS)]),
        "/queries": {
            "post": {"summary": "Define a named query (bearer token; only the party that defines it may delete it)",
                "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                    "required": ["name", "query"], "additionalProperties": false, "properties": {"name": query_name.clone(),
                        "query": {"type": "object", "description": "EPCIS query language (query-schema.json)"}}}}}},
                "responses": {"201": {"description": "Defined", "headers": {"Location": {"schema": {"type": "string"}}}},
                    "400": problem_response("Malformed JSON, schema violations or an unknown parameter"),
                    "401": problem_response("No bearer token, or a bad one"),
                    "409": problem_response("The name is taken"),
                    "429": problem_response("The party has as many named queries as it may (the limit is given)")}},
            "get": queries_list()},
        "/queries/{name}": {
            "get": read("A named query", vec![path_parameter("name", "The query's name", None)],
                json!({"description": "name and query", "content": {"application/json": {}}}), &[("404", "No such query")])["get"].clone(),
            "delete": {"summary": "Delete a named query (by the party that defined it)",
                "security": [{"bearer": []}],
                "parameters": [path_parameter("name", "The query's name", None)],
                "responses": {"204": {"description": "Deleted"},
                    "401": problem_response("No bearer token, or a bad one"),
                    "403": problem_response("Another party defined the query"),
                    "404": problem_response("No such query")}}},
        "/queries/{name}/events": epcis_query("The events of a named query", vec![path_parameter("name", "The query's name", None)]),
    })
}

fn all_paths() -> Value {
    let mut paths = paths();
    if let (Some(all), Value::Object(epcis)) = (paths.as_object_mut(), epcis_paths()) {
        all.extend(epcis);
    }
    paths
}

/// The whole document.
pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "oretrace registry API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A verifiable registry of critical-mineral value chains on a public transparency log. \
                Every error is an RFC 7807 problem (application/problem+json).",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "paths": all_paths(),
        "components": {"schemas": schemas(), "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                "description": "A token from POST /auth/token, for a registered party's key"},
            "documentSignature": {"type": "apiKey", "in": "header", "name": "Oretrace-Signature",
                "description": "A detached signature over the document by a registered key (one header per signer)"}}},
    })
}

/// The OpenAPI path of an axum route (`{*path}` becomes `{path}`).
pub fn openapi_path(axum_path: &str) -> String {
    axum_path.replace("{*", "{")
}
