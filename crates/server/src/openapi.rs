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
    get["parameters"][0]["schema"]["maximum"] = json!(u32::MAX);
    get["parameters"][0]["description"] =
        json!("Items per page; a page holds at most 1000, larger values are served as 1000");
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
            "uncertainty": number(),
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

/// A scoped id (`<party id>:<name>`): agreements, reports, estimates.
const SCOPED_ID: &str = "^[a-z0-9][a-z0-9.-]{0,63}:[a-z0-9][a-z0-9.-]{0,63}$";
const DATE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
const HEX64: &str = "^[0-9a-f]{64}$";

fn pattern(pattern: &str, description: &str) -> Value {
    json!({"type": "string", "pattern": pattern, "description": description})
}

fn scoped_id() -> Value {
    pattern(
        SCOPED_ID,
        "<party id>:<name>, the id in its registrant's namespace (fwo:mou-ussm-2025)",
    )
}

fn date() -> Value {
    let mut date = pattern(DATE, "A day, YYYY-MM-DD (years 1 to 9999)");
    date["format"] = json!("date");
    date
}

/// The element symbols the registry knows (what `Element::parse` takes).
fn element_symbols() -> Vec<String> {
    let capitals = b'A'..=b'Z';
    capitals
        .flat_map(|first| {
            std::iter::once(String::from(char::from(first))).chain(
                (b'a'..=b'z')
                    .map(move |second| [char::from(first), char::from(second)].iter().collect()),
            )
        })
        .filter(|s: &String| oretrace_domain::chemistry::Element::parse(s).is_ok())
        .collect()
}

fn hex64(description: &str) -> Value {
    pattern(HEX64, description)
}

/// A field that may be left out or given as null.
fn optional(schema: Value) -> Value {
    json!({"oneOf": [schema, {"type": "null"}]})
}

fn money() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["amount", "currency"],
        "properties": {"amount": number(),
            "currency": words(oretrace_domain::money::CURRENCIES.iter().copied(), "ISO 4217 (the OCDS codelist)")}})
}

fn quantity() -> Value {
    let count = json!({"type": "object", "additionalProperties": false, "required": ["value", "unit"],
        "properties": {"value": number(), "unit": {"type": "string", "description": "A lower-case word (facility, tonnes-per-year)"}}});
    let one = |name: &str, schema: Value| json!({"type": "object", "additionalProperties": false, "required": [name], "properties": {name: schema}});
    json!({"oneOf": [one("money", money()), one("mass", mass()), one("count", count)],
        "description": "Money, a mass or a count of a unit"})
}

fn source_documents() -> Value {
    json!({"type": "array", "default": [], "items": {"type": "object", "additionalProperties": false,
        "required": ["digest", "title"], "properties": {"digest": hex64("SHA-256 of the document's bytes"),
            "title": {"type": "string"}}}})
}

fn source() -> Value {
    let s = json!({"type": "string"});
    json!({"type": "object", "additionalProperties": false, "required": ["title", "publisher", "date", "url"],
        "properties": {"title": s, "publisher": s, "date": date(), "url": s,
            "archive": optional(hex64("SHA-256 of an archived copy"))}})
}

/// The record kinds of agreements (`docs/design/agreements.md`).
fn agreement_schemas() -> Value {
    use oretrace_domain::agreement::{
        AgreementKind, AgreementStatus, MAX_VERSION, ReportStatus, ReportingCode, ResourceClass,
    };
    use oretrace_domain::chemistry::GradeUnit;
    let s = json!({"type": "string"});
    let strings = |description: &str| json!({"type": "array", "items": {"type": "string"}, "default": [], "description": description});
    let version = json!({"type": "integer", "minimum": 1, "maximum": MAX_VERSION, "description": "Versions count from 1"});
    json!({
        "Agreement": record_kind("agreement", &["id", "version", "title", "agreement_kind", "parties", "signed", "place", "status", "terms"], json!({
            "id": scoped_id(), "version": version,
            "amends": optional(json!({"type": "integer", "minimum": 1, "description": "The version this one amends (version - 1)"})),
            "title": s,
            "agreement_kind": words(AgreementKind::ALL.iter().map(AgreementKind::as_str), "What kind of agreement"),
            "parties": {"type": "array", "items": {"type": "string"}, "description": "Party ids, the registrant among them"},
            "signed": date(), "place": s,
            "status": words(AgreementStatus::ALL.iter().map(AgreementStatus::as_str), "The legal status the version states"),
            "commodities": strings("Commodities covered"), "sites": strings("Sites covered"), "lots": strings("Lots covered"),
            "value": optional(money()),
            "pledges": {"type": "array", "default": [], "items": {"type": "object", "additionalProperties": false,
                "required": ["id", "description", "due"], "properties": {"id": s, "description": s,
                    "quantity": optional(quantity()), "due": date()}}},
            "documents": source_documents(),
            "terms": {"oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["public"], "properties": {"public": {
                    "type": "object", "additionalProperties": false, "required": ["clauses"],
                    "properties": {"clauses": {"type": "array", "items": {"type": "string"}}}}}},
                {"type": "object", "additionalProperties": false, "required": ["sealed"], "properties": {"sealed": {
                    "type": "object", "additionalProperties": false, "required": ["root", "count", "reason", "disclose_by"],
                    "properties": {"root": hex64("RFC 6962 Merkle root over the clause commitments (oretrace.clause/v1)"),
                        "count": {"type": "integer", "minimum": 0, "maximum": u32::MAX}, "reason": s, "disclose_by": date()}}}}],
                "description": "The version's text, public, or sealed (a commitment only: the registry never holds a sealed text)"}
        })),
        "Countersignature": record_kind("countersignature", &["agreement", "version", "digest"], json!({
            "agreement": scoped_id(), "version": version,
            "digest": hex64("SHA-256 of the version's canonical bytes: exactly what is confirmed")
        })),
        "Disclosure": record_kind("disclosure", &["agreement", "version", "clauses"], json!({
            "agreement": scoped_id(), "version": version,
            "clauses": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                "required": ["index", "salt", "text"], "properties": {
                    "index": {"type": "integer", "minimum": 0, "maximum": u32::MAX},
                    "salt": hex64("The clause's 32-byte salt"), "text": s,
                    "proof": {"type": "array", "default": [], "items": hex64("An RFC 9162 inclusion proof hash")}}}}
        })),
        "Progress": record_kind("progress", &["agreement", "pledge", "date", "note"], json!({
            "agreement": scoped_id(), "pledge": s, "delivered": optional(quantity()),
            "complete": {"type": "boolean", "default": false, "description": "For a milestone: it is complete"},
            "date": date(), "note": s, "documents": source_documents(),
            "records": {"type": "array", "default": [], "items": {"type": "integer", "minimum": 0, "maximum": u64::MAX},
                "description": "Log indices of evidence records under the agreement"}
        })),
        "Report": record_kind("report", &["id", "version", "claim", "topic", "sources", "status"], json!({
            "id": scoped_id(), "version": version, "claim": s, "topic": s,
            "countries": strings("ISO 3166-1 alpha-2 codes"), "commodities": strings("Commodities the claim concerns"),
            "value": optional(money()),
            "sources": {"type": "array", "items": source()},
            "status": words(ReportStatus::ALL.iter().map(ReportStatus::as_str), "What the author says of the claim now"),
            "confirmed_by": optional(scoped_id()), "refuted_by": optional(source())
        })),
        "Resource": record_kind("resource", &["id", "version", "site", "code", "class", "effective", "tonnes", "grades", "competent"], json!({
            "id": scoped_id(), "version": version, "site": s,
            "code": words(ReportingCode::ALL.iter().map(ReportingCode::as_str), "The reporting code followed"),
            "class": words(ResourceClass::ALL.iter().map(ResourceClass::as_str), "The estimate's confidence class"),
            "effective": date(), "tonnes": number(),
            "grades": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                "required": ["analyte", "value", "unit"], "properties": {"analyte": s, "value": number(),
                    "unit": words([GradeUnit::Percent, GradeUnit::Ppm, GradeUnit::GramsPerTonne].map(|u| u.as_str()), "The grade's unit")}}},
            "contained": {"type": "array", "default": [], "items": {"type": "object", "additionalProperties": false,
                "required": ["element", "tonnes"], "properties": {"element": s, "tonnes": number()}}},
            "competent": s, "documents": source_documents()
        })),
    })
}

/// The views of agreements, reports and estimates the reads answer
/// (`crate::agreements`).
fn agreement_views() -> Value {
    let s = json!({"type": "string"});
    let int = json!({"type": "integer", "minimum": 0});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let decimal = json!({"type": "string", "description": "A decimal"});
    let figures = json!({"enum": ["illustrative", "reported"]});
    let disclosure = json!({"enum": ["public", "sealed", "partly-disclosed", "revealed"]});
    let pledge = json!({"type": "object",
        "required": ["id", "description", "due", "pledged", "unit", "delivered", "complete", "reports", "last_report", "status", "overdue"],
        "properties": {"id": s, "description": s, "due": date(),
            "pledged": {"type": ["string", "null"], "description": "Absent (null) for a milestone"},
            "unit": {"type": ["string", "null"], "description": "Currency code, kg, or a count's unit"},
            "delivered": decimal, "complete": {"type": "boolean"}, "reports": int,
            "last_report": {"oneOf": [date(), {"type": "null"}]},
            "status": {"enum": ["open", "met", "partly-met", "not-met"]}, "overdue": {"type": "boolean"},
            "delivered_percent": decimal}});
    let state_pledge = json!({"type": "object",
        "required": ["id", "description", "due", "pledged", "unit", "delivered", "complete", "reports", "last_report"],
        "properties": {"id": s, "description": s, "due": date(), "pledged": {"type": ["string", "null"]},
            "unit": {"type": ["string", "null"]}, "delivered": decimal, "complete": {"type": "boolean"},
            "reports": int, "last_report": {"oneOf": [date(), {"type": "null"}]}}});
    let mut delivery_pledge = pledge.clone();
    delivery_pledge["required"]
        .as_array_mut()
        .into_iter()
        .for_each(|r| r.push(json!("deliveries")));
    delivery_pledge["properties"]["deliveries"] = json!({"type": "array", "items": {"type": "object",
        "required": ["date", "index", "author", "cumulative", "complete", "figures"],
        "properties": {"date": date(), "index": int, "author": s, "amount": decimal,
            "cumulative": {"type": "string", "description": "Delivered up to and including this report"},
            "complete": {"type": "boolean"}, "figures": figures}}});
    let page = |name: &str, item: &str| {
        json!({"type": "object", "required": [name], "properties": {
            name: {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}},
            "nextPageToken": next_page_token()}})
    };
    let progress = json!({"type": "object", "required": ["index", "author", "record"], "properties": {
        "index": int, "author": s, "record": {"$ref": "#/components/schemas/Progress"}}});
    let version = json!({"type": "object", "required": ["version", "index", "registrant", "digest", "confirmed_by",
        "not_yet_confirmed_by", "confirmation", "disclosure", "revealed", "disclosure_overdue", "record"], "properties": {
        "version": {"type": "integer", "minimum": 1}, "index": int, "registrant": s,
        "digest": hex64("SHA-256 of the version's canonical bytes, what a countersignature names"),
        "confirmed_by": {"type": "array", "items": {"type": "object", "required": ["party", "index", "time"],
            "properties": {"party": s, "index": int, "time": {"type": "string"}}}},
        "not_yet_confirmed_by": strings,
        "confirmation": {"type": "string", "examples": ["registered by fwo, not yet confirmed by ussm"]},
        "disclosure": disclosure, "clauses": int, "revealed": {"type": "array", "items": int},
        "disclose_by": date(), "sealed_days": int, "disclosure_overdue": {"type": "boolean"},
        "record": {"$ref": "#/components/schemas/Agreement"}}});
    json!({
        "PledgeView": pledge,
        "AgreementSummary": {"type": "object", "required": ["id", "title", "kind", "status", "latest", "parties", "countries",
            "commodities", "signed", "disclosure", "clauses", "revealed", "disclose_by", "pledges", "figures", "index", "registered",
            "as_of", "overdue", "disclosure_overdue", "pledge_status"], "properties": {
            "id": scoped_id(), "title": s,
            "kind": words(oretrace_domain::agreement::AgreementKind::ALL.iter().map(|k| k.as_str()), "What kind of agreement"),
            "status": words(oretrace_domain::agreement::AgreementStatus::ALL.iter().map(|k| k.as_str()), "The latest version's status"),
            "latest": {"type": "integer", "minimum": 1}, "parties": strings, "countries": strings, "commodities": strings,
            "signed": date(), "disclosure": disclosure, "clauses": {"type": ["integer", "null"]}, "revealed": int,
            "disclose_by": {"oneOf": [date(), {"type": "null"}]},
            "pledges": {"type": "array", "items": state_pledge}, "figures": figures, "index": int, "registered": int,
            "as_of": date(), "overdue": {"type": "boolean"}, "disclosure_overdue": {"type": "boolean"},
            "pledge_status": {"type": "array", "items": {"$ref": "#/components/schemas/PledgeView"}},
            "note": s}},
        "Agreements": page("agreements", "AgreementSummary"),
        "AgreementVersion": version,
        "ProgressView": progress,
        "AgreementView": {"allOf": [{"$ref": "#/components/schemas/AgreementSummary"}, {"type": "object",
            "required": ["versions", "versions_truncated", "progress", "progress_truncated"], "properties": {
                "versions": {"type": "array", "items": {"$ref": "#/components/schemas/AgreementVersion"}},
                "versions_truncated": {"type": "boolean"},
                "progress": {"type": "array", "items": {"$ref": "#/components/schemas/ProgressView"}},
                "progress_truncated": {"type": "boolean"}}}]},
        "Pledges": {"type": "object", "required": ["agreement", "as_of", "pledges", "totals", "progress_truncated"], "properties": {
            "agreement": scoped_id(), "as_of": date(), "pledges": {"type": "array", "items": delivery_pledge},
            "totals": {"type": "array", "items": {"type": "object", "required": ["unit", "pledged", "delivered"],
                "properties": {"unit": s, "pledged": decimal, "delivered": decimal}}},
            "progress_truncated": {"type": "boolean"}, "note": s}},
        "ProgressPage": page("progress", "ProgressView"),
        "Clauses": {"type": "object", "required": ["agreement", "version", "root", "count", "clauses"], "properties": {
            "agreement": scoped_id(), "version": {"type": "integer", "minimum": 1}, "root": hex64("The sealed root"),
            "count": int, "clauses": {"type": "array", "items": {"type": "object",
                "required": ["clause", "salt", "text", "index", "by"], "properties": {
                    "clause": int, "salt": hex64("The clause's salt"), "text": s, "index": int, "by": s}}},
            "nextPageToken": next_page_token()}},
        "ReportView": {"type": "object", "required": ["kind", "id", "author", "status", "versions", "record", "notice"], "properties": {
            "kind": {"const": "report"}, "id": scoped_id(), "author": s,
            "status": words(oretrace_domain::agreement::ReportStatus::ALL.iter().map(|k| k.as_str()), "What the author says of the claim"),
            "versions": {"type": "array", "items": int}, "record": {"$ref": "#/components/schemas/Report"}, "notice": s,
            "estimates": {"type": "object", "description": "For a headline valuation (topic valuation), on /reports/{id}: what the resource estimates registered in its countries support",
                "required": ["countries", "code_compliant", "under_no_code", "contained", "truncated", "note"], "properties": {
                "countries": {"type": "array", "items": s}, "code_compliant": int, "under_no_code": int,
                "contained": {"type": "array", "items": {"type": "object", "required": ["element", "class", "tonnes"], "properties": {
                    "element": s, "class": s, "tonnes": decimal}}},
                "truncated": {"type": "boolean"}, "note": s}}}},
        "Reports": page("reports", "ReportView"),
        "ResourceView": {"type": "object", "required": ["id", "author", "country", "code_compliant", "contained", "versions", "record"], "properties": {
            "id": scoped_id(), "author": s, "country": s, "code_compliant": {"type": "boolean"},
            "contained": {"type": "array", "items": {"type": "object", "required": ["element", "computed_tonnes"], "properties": {
                "element": s, "computed_tonnes": decimal, "stated_tonnes": decimal}}},
            "versions": {"type": "array", "items": int}, "record": {"$ref": "#/components/schemas/Resource"}, "note": s}},
        "Resources": page("resources", "ResourceView"),
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
    for (name, schema) in agreement_schemas().as_object().into_iter().flatten() {
        schemas[name] = schema.clone();
    }
    let kinds = [
        "Party",
        "Site",
        "Lot",
        "Assay",
        "Shipment",
        "Receipt",
        "Transformation",
        "Agreement",
        "Countersignature",
        "Disclosure",
        "Progress",
        "Report",
        "Resource",
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
            "limit": {"type": "integer", "description": "The limit a refusal refers to (bytes, events, entries, milliseconds)"},
            "oretraceType": {"type": "string", "format": "uri", "description": "On the EPCIS binding's paths, whose type is the standard's exception (epcisException:…): oretrace's own problem type"}}},
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
        "EPCISDocument": {"type": "object", "description": "An EPCIS 2.0 EPCISDocument (GS1 EPCIS-JSON-Schema.json)"},
        "Health": {"type": "object", "required": ["status", "size"], "properties": {
            "status": {"const": "ok"}, "size": {"type": "integer", "description": "Entries the published checkpoint covers"},
            "role": {"enum": ["sequencer", "follower"], "description": "Whether this node sequences writes, or serves reads only while another node over the same PostgreSQL store sequences them"},
            "node": {"type": "string", "description": "This node's name, among nodes sharing a PostgreSQL store"},
            "epoch": {"type": "integer", "description": "The sequencer lease epoch this node writes under, while it sequences"},
            "sequencer": {"type": "string", "description": "The advertised URL of the node that sequences writes, when known"},
            "witnessing": {"$ref": "#/components/schemas/Witnessing"}}},
    });
    for (name, schema) in extra.as_object().into_iter().flatten() {
        schemas[name] = schema.clone();
    }
    for (name, schema) in agreement_views().as_object().into_iter().flatten() {
        schemas[name] = schema.clone();
    }
    schemas["Provenance"] = provenance_schema();
    schemas["EpcisCollection"] = json!({"type": "object", "required": ["@context", "type", "member"],
        "description": "A JSON-LD Collection of the EPCIS 2.0 REST binding", "properties": {
        "@context": {}, "type": {"const": "Collection"},
        "member": {"type": "array", "items": {"type": "string"}, "uniqueItems": true}}});
    schemas["Witnessing"] = json!({"type": "object", "description": "With a witness policy: the size of the latest checkpoint its quorum cosigned (served at /checkpoint), and each witness with the size it last cosigned and, if its last request failed, why", "properties": {
        "cosigned_size": {"type": ["integer", "null"]},
        "witnesses": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"}, "url": {"type": "string"},
            "cosigned_size": {"type": "integer"}, "error": {"type": "string"}}}}}});
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
                "503": {"description": "The ledger is busy, cannot write now, or this node serves reads only (problem type not-sequencer, naming the sequencer's URL when known); retry after the Retry-After header",
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
        "/lots/{id}/provenance": read("Where each element of the lot came from: shares per origin site and country \
            (each transformation passes an element on in proportion to the amount of it each input contained), \
            the origin lots, the transformations, the custody chain, every site passed, and every record the \
            answer rests on with its signers (GET /records/{index}/receipt proves each)",
            vec![id("lot")], json_response("The lot's provenance", "Provenance"),
            &[("400", "A query parameter (it takes none; named)"), ("404", "No such lot"), ("413", "The upstream graph is over a bound (lots, shipments or log entries read; the bound named); nothing partial is answered")]),
        "/lots/{id}/provenance/events": read("The EPCIS 2.0 document of exactly the events the lot's provenance rests on: \
            every record of the provenance answer's evidence but the sites (the making of every upstream lot, its assays, \
            shipments and receipts, the transformations), in log order, each with its CBV 2.0 eventID (a captured event \
            as captured; a record as the event of the EPCIS mapping). No event of another lot's upstream, none downstream",
            vec![id("lot")],
            json!({"description": "An EPCISDocument (GS1 EPCIS-JSON-Schema.json)",
                "content": {"application/ld+json": {"schema": {"$ref": "#/components/schemas/EPCISDocument"}}}}),
            &[("400", "A query parameter (it takes none; named)"), ("404", "No such lot"), ("413", "The upstream graph is over a bound (lots, shipments or log entries read; the bound named); nothing partial is answered")]),
        "/lots/{id}/passport": read("The lot passport: a W3C Verifiable Credential (VC Data Model 2.0) secured as VC-JOSE, \
            a compact JWS (EdDSA, typ vc+jwt) signed by the registry's credential key (/.well-known/jwks.json, named by kid). \
            Its subject, shaped after the UNTP Digital Product Passport: the lot, its latest assays, origin shares per element, \
            the steps, custody chain, sites passed and the reconciliation of its received shipments; its evidence: the \
            checkpoint and a tlog-proof receipt of every record the subject cites (oretrace passport verify checks them offline)",
            vec![id("lot")],
            json!({"description": "The compact JWS", "content": {"application/vc+jwt": {"schema": {"type": "string"}}}}),
            &[("400", "A query parameter (it takes none; named)"), ("404", "No such lot, or the registry has no credential key"),
              ("413", "Over a bound (the provenance bounds, 100 shipments, 2,000 receipts or 8 MiB of them; the bound named); nothing partial is answered"),
              ("503", "A record is not yet covered by a published checkpoint; retry")]),
        "/.well-known/jwks.json": read("The registry's credential key, which signs lot passports, as a JWK set (RFC 7517; Ed25519, kid = RFC 7638 thumbprint)",
            vec![], json!({"description": "A JWK set", "content": {"application/json": {"schema": {"type": "object",
                "required": ["keys"], "properties": {"keys": {"type": "array", "items": {"type": "object"}}}}}}}),
            &[("404", "The registry has no credential key")]),
        "/checkpoint": read("The signed checkpoint (C2SP tlog-checkpoint)", vec![], text_response("The checkpoint note"), &[]),
        "/tile/{path}": read("A hash tile or entry bundle (C2SP tlog-tiles)",
            vec![path_parameter("path", "The tile path after tile/, such as 0/x001/234 or entries/000.p/5 (contains slashes)", None)],
            json!({"description": "The tile's bytes", "content": {"application/octet-stream": {"schema": {"type": "string", "contentEncoding": "binary"}}}}),
            &[("404", "No such tile, or not covered by the published checkpoint")]),
        "/vkey": read("The log's verifier key (C2SP vkey)", vec![], text_response("One line"), &[]),
        "/assets/{name}": assets(),
        "/healthz": read("Liveness and the published log size", vec![], json_response("Serving", "Health"), &[]),
        "/metrics": read("The log's size and, with a witness policy, each witness's cosigned size and whether its last request succeeded (Prometheus text format)", vec![], json!({"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}), &[]),
        "/openapi.json": read("This document", vec![], json!({"description": "OpenAPI 3.1", "content": {"application/json": {}}}), &[]),
    })
}

/// `GET /assets/{name}`: the names are the server's fixed table.
fn assets() -> Value {
    let names: Vec<&str> = crate::assets::ASSETS.iter().map(|a| a.name).collect();
    let mut types: Vec<&str> = crate::assets::ASSETS
        .iter()
        .map(|a| a.content_type)
        .collect();
    types.sort_unstable();
    types.dedup();
    let content: serde_json::Map<String, Value> = types
        .into_iter()
        .map(|t| (t.to_owned(), json!({"schema": {"type": "string"}})))
        .collect();
    json!({"get": {"summary": "A static file of the portal (its scripts and map data), compiled into the server",
        "parameters": [{"name": "name", "in": "path", "required": true, "description": "The file's name",
            "schema": {"type": "string", "enum": names}}],
        "responses": {
            "200": {"description": "The file, cacheable for an hour",
                "headers": {"Cache-Control": {"schema": {"type": "string"}},
                    "X-Content-Type-Options": {"schema": {"const": "nosniff"}}},
                "content": content},
            "404": problem_response("No asset of that name")}}})
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
    parameters.push(epc_format_parameter());
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
            "406": problem_response("A GS1-EPC-Format or an EPCIS/CBV version this repository does not answer in"),
            "429": retry_later("The client has used its budget of candidate events examined (queries no index serves); \
                retry after the Retry-After header")}}})
}

/// `GS1-EPC-Format`: how the answer writes EPCs.
fn epc_format_parameter() -> Value {
    json!({"name": "GS1-EPC-Format", "in": "header",
        "description": "How EPCs are written in the answer (absent: Always_GS1_Digital_Link, as the binding says); \
            the answer's GS1-EPC-Format header says No_Preference when some EPC has no form of that kind",
        "schema": {"enum": ["No_Preference", "Always_GS1_Digital_Link", "Always_EPC_URN", "Never_Translates"]}})
}

/// `OPTIONS` on an EPCIS binding resource.
fn discovery_options() -> Value {
    json!({"summary": "The methods the resource takes (Allow) and the binding's GS1-* headers",
        "responses": {"204": {"description": "See the Allow and GS1-* headers",
            "headers": {"Allow": {"schema": {"type": "string"}}}}}})
}

/// A binding resource that exists while an event carries its value.
fn term_resource(summary: &str, parameter: Value) -> Value {
    json!({"get": {"summary": summary, "parameters": [parameter],
        "responses": {"200": {"description": "The resource's sub-resources (events)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EpcisCollection"}}}},
            "400": problem_response("A value that is no identifier or term of its kind"),
            "404": problem_response("No event carries the value")}},
        "options": discovery_options()})
}

/// One of the binding's listings of values in use, paged.
fn term_listing(summary: &str) -> Value {
    json!({"get": {"summary": summary,
        "parameters": [
            {"name": "perPage", "in": "query", "description": "Values per page; a page holds at most 1000, larger values are served as 1000",
                "schema": {"type": "integer", "minimum": 1, "maximum": u32::MAX, "default": crate::registry::DEFAULT_PER_PAGE}},
            {"name": "nextPageToken", "in": "query", "schema": {"type": "string", "minLength": 1}},
            epc_format_parameter()],
        "responses": {"200": {"description": "The values, in the index's byte order; a Link header with rel=\"next\" points to the next page",
            "headers": {"Link": {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EpcisCollection"}}}},
            "400": problem_response("A bad perPage or nextPageToken, or another parameter (named)"),
            "406": problem_response("A GS1-EPC-Format this repository does not answer in")}},
        "options": discovery_options()})
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
    let version = json!({"type": "string", "pattern": "^(2\\.0(\\.[0-9]+)*)?$", "examples": ["2.0.0"],
        "description": "2.0 or 2.0.x (or empty, as if absent): this repository speaks EPCIS and CBV 2.0.0 (406 otherwise)"});
    let versions = json!([
        {"name": "GS1-EPCIS-Version", "in": "header", "schema": version},
        {"name": "GS1-CBV-Version", "in": "header", "schema": version}]);
    let auth = "A bearer token (POST /auth/challenge, /auth/token) or detached document signatures: one \
        `Oretrace-Signature: <key name> <base64>` header per signer, each a C2SP signed-note signature over \
        `oretrace.epcis-document/v1\\nsha256 <hex SHA-256 of the body>\\n`";
    let capture_problems = |responses: &mut Value| {
        responses["400"] = problem_response(
            "Malformed JSON, schema violations (each with its JSON pointer), or an event the registry refuses (ValidationException)",
        );
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
        "409": problem_response("The event (same CBV 2.0 hash) is already in the log")});
    capture_problems(&mut single);
    let capture_security = json!([{"bearer": []}, {"documentSignature": []}]);
    let mut capture_parameters = versions.as_array().cloned().unwrap_or_default();
    capture_parameters.push(
        json!({"name": "GS1-Capture-Error-Behaviour", "in": "header",
        "schema": {"enum": ["rollback", "proceed", "all"], "default": "rollback"}}),
    );
    let query_name = json!({"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"});
    let mut paths = json!({
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
        "/events/{id}": read("One event, by its CBV 2.0 hash or the eventID it was captured with, as an EPCISQueryDocument; the capturing party in the Oretrace-Captured-By header and its log entry in Oretrace-Log-Index (query results name them under https://oretrace.org/epcis/capturedBy)",
            vec![path_parameter("id", "The event id, percent-encoded", None), epc_format_parameter()],
            json!({"description": "A query document holding the event", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EPCISQueryDocument"}}}}),
            &[("404", "No such event"), ("406", "A GS1-EPC-Format this repository does not answer in")]),
        "/eventTypes": read("The EPCIS event types", vec![], json!({"description": "The type names", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EpcisCollection"}}}}), &[]),
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
                    "403": problem_response("Another party defined the query, or other parties subscribe to it"),
                    "404": problem_response("No such query")}}},
        "/queries/{name}/events": epcis_query("The events of a named query", vec![path_parameter("name", "The query's name", None)]),
    });
    let discovery = json!({
        "/eventTypes/{value}": term_resource("One event type", path_parameter("value", "An EPCIS event type", None)),
        "/epcs": term_listing("The EPCs and EPC classes events name"),
        "/epcs/{epc}": term_resource("An EPC or EPC class events name", path_parameter("epc", "The EPC or class URI, percent-encoded", None)),
        "/bizSteps": term_listing("The business steps events carry (CBV steps as bare words)"),
        "/bizSteps/{value}": term_resource("A business step events carry",
            vocabulary_parameter("A CBV business step, or a URI or CURIE", oretrace_epcis::STANDARD_BIZ_STEPS)),
        "/bizLocations": term_listing("The business locations events carry"),
        "/bizLocations/{value}": term_resource("A business location events carry", value("A location URI, percent-encoded")),
        "/readPoints": term_listing("The read points events carry"),
        "/readPoints/{value}": term_resource("A read point events carry", value("A read point URI, percent-encoded")),
        "/dispositions": term_listing("The dispositions events carry (CBV dispositions as bare words)"),
        "/dispositions/{value}": term_resource("A disposition events carry",
            vocabulary_parameter("A CBV disposition, or a URI or CURIE", oretrace_epcis::STANDARD_DISPOSITIONS)),
        "/queries/{name}/subscriptions": {
            "post": {"summary": "Subscribe to a named query (bearer token): each delivery is an EPCISQueryDocument POSTed to dest, \
    signed with a detached EdDSA JWS in GS1-Signature (key at /.well-known/jwks.json) and, given a signatureToken, an HMAC in GS1-Signature-HMAC",
                "security": [{"bearer": []}],
                "parameters": [path_parameter("name", "The query's name", None)],
                "requestBody": {"required": true, "content": {"application/json": {"schema": subscription_request()}}},
                "responses": {"201": {"description": "Subscribed",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": subscription_schema()}}},
                    "400": problem_response("SubscriptionControlsException: a bad or unknown member, a destination not called, the quota reached"),
                    "401": problem_response("No bearer token, or a bad one"),
                    "404": problem_response("No such query"),
                    "501": problem_response("The registry has no credential key to sign deliveries with")}},
            "get": {"summary": "The caller's own subscriptions to the query",
                "security": [{"bearer": []}],
                "parameters": [path_parameter("name", "The query's name", None),
                    filter("perPage", "At most this many (default 100, at most 1000)", json!({"type": "integer", "minimum": 1})),
                    filter("nextPageToken", "The token from the previous page's Link", json!({"type": "string"}))],
                "responses": {"200": {"description": "The subscriptions",
                        "content": {"application/json": {"schema": {"type": "array", "items": subscription_schema()}}}},
                    "400": problem_response("A bad paging parameter"),
                    "401": problem_response("No bearer token, or a bad one"),
                    "404": problem_response("No such query")}}},
        "/queries/{name}/subscriptions/{id}": {
            "get": {"summary": "A subscription of the caller's, with its delivery state",
                "security": [{"bearer": []}],
                "parameters": [path_parameter("name", "The query's name", None), path_parameter("id", "The subscription's id", None)],
                "responses": {"200": {"description": "The subscription", "content": {"application/json": {"schema": subscription_schema()}}},
                    "401": problem_response("No bearer token, or a bad one"),
                    "404": problem_response("NoSuchSubscriptionException: none of the caller's by that id")}},
            "delete": {"summary": "End a subscription of the caller's",
                "security": [{"bearer": []}],
                "parameters": [path_parameter("name", "The query's name", None), path_parameter("id", "The subscription's id", None)],
                "responses": {"204": {"description": "Ended"},
                    "401": problem_response("No bearer token, or a bad one"),
                    "404": problem_response("NoSuchSubscriptionException: none of the caller's by that id")}}},
        "/queries/{name}/subscriptions/{id}/resume": {
            "post": {"summary": "Resume a paused (or backed-off) subscription of the caller's: tried again now, its failures forgotten",
                "security": [{"bearer": []}],
                "parameters": [path_parameter("name", "The query's name", None), path_parameter("id", "The subscription's id", None)],
                "responses": {"200": {"description": "The subscription", "content": {"application/json": {"schema": subscription_schema()}}},
                    "401": problem_response("No bearer token, or a bad one"),
                    "404": problem_response("NoSuchSubscriptionException: none of the caller's by that id"),
                    "409": problem_response("A delivery moved it meanwhile: try again")}}},
        "/nextPageToken/{token}": {"delete": {"summary": "Page tokens are stateless here: nothing to invalidate (501, as the binding allows)",
            "parameters": [path_parameter("token", "A page token", None)],
            "responses": {"501": problem_response("Not implemented: tokens are stateless")}}},
    });
    if let (Value::Object(paths), Value::Object(more)) = (&mut paths, discovery) {
        paths.extend(more);
    }
    paths
}

/// The body of `POST /queries/{name}/subscriptions`.
fn subscription_request() -> Value {
    let field = |d: &str| json!({"type": "string", "description": d});
    json!({"type": "object", "required": ["dest"], "additionalProperties": false,
        "properties": {
            "dest": {"type": "string", "format": "uri", "maxLength": 2048,
                "description": "An https URL at a public address (http to loopback only where the registry allows it)"},
            "signatureToken": {"type": "string", "maxLength": 256, "description": "Keys the GS1-Signature-HMAC of each delivery; never returned"},
            "secret": {"type": "string", "maxLength": 256, "description": "The same as signatureToken (the binding's document requires this name)"},
            "stream": {"type": "boolean", "description": "true: deliver as events arrive (or give a schedule)"},
            "schedule": {"type": "object", "additionalProperties": false, "properties": {
                "second": field("One number 0-59 (default 0): at most one firing a minute"),
                "minute": field("Numbers and [a-b] ranges, comma-separated"),
                "hour": field("Numbers and [a-b] ranges, comma-separated"),
                "dayOfMonth": field("Numbers and [a-b] ranges, comma-separated"),
                "month": field("Numbers and [a-b] ranges, comma-separated"),
                "dayOfWeek": field("1 (Monday) to 7, comma-separated or [a-b]")}},
            "reportIfEmpty": {"type": "boolean", "description": "With a schedule: deliver an empty document when nothing matched"},
            "initialRecordTime": {"type": "string", "format": "date-time", "description": "Deliver events from the first recorded then on (at most 30 days ago; default now)"}}})
}

/// A subscription as its owner reads it.
fn subscription_schema() -> Value {
    json!({"type": "object", "required": ["subscriptionID", "dest", "createdAt", "state", "failures"],
        "properties": {
            "subscriptionID": {"type": "string"}, "queryName": {"type": "string"},
            "dest": {"type": "string"}, "createdAt": {"type": "string", "format": "date-time"},
            "initialRecordTime": {"type": "string", "format": "date-time"},
            "lastNotifiedAt": {"type": "string", "format": "date-time"},
            "nextAttemptAt": {"type": "string", "format": "date-time"},
            "epcFormat": {"type": "string"}, "stream": {"type": "boolean"},
            "schedule": {"type": "object"}, "reportIfEmpty": {"type": "boolean"},
            "state": {"type": "string", "enum": ["active", "paused"]},
            "failures": {"type": "integer", "minimum": 0}, "lastError": {"type": "string"},
            "deliveries": {"type": "integer", "minimum": 0}, "eventsDelivered": {"type": "integer", "minimum": 0},
            "signed": {"type": "object"}}})
}

/// A filter of a list: a query parameter, given at most once.
fn filter(name: &str, description: &str, schema: Value) -> Value {
    let mut schema = schema;
    if schema.get("description").is_none_or(|d| d == "") {
        schema["description"] = json!(description);
    }
    json!({"name": name, "in": "query", "description": description, "schema": schema})
}

fn as_of_parameter() -> Value {
    filter(
        "asOf",
        "The day what is overdue is computed for, YYYY-MM-DD (today, UTC, by default)",
        date(),
    )
}

/// A filtered list of agreements, reports or estimates.
fn filtered_list(summary: &str, schema: &str, filters: Vec<Value>) -> Value {
    let mut op = list(summary, schema);
    let mut parameters = filters;
    parameters.extend(
        op["get"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    op["get"]["parameters"] = json!(parameters);
    op["get"]["responses"]["400"] = problem_response(
        "A filter's value breaks its rule, a parameter given twice or unknown, perPage out of range, or a token another list gave (field named)",
    );
    op
}

fn agreement_paths() -> Value {
    use oretrace_domain::agreement::{
        AgreementKind, AgreementStatus, ReportStatus, ReportingCode, ResourceClass,
    };
    let party = || pattern("^[a-z0-9][a-z0-9.-]{0,63}$", "A party id");
    let country = || pattern("^[A-Z]{2}$", "ISO 3166-1 alpha-2");
    let word = || pattern("^[a-z0-9][a-z0-9-]{0,39}$", "A lower-case word");
    let id = |what: &str| {
        path_parameter(
            "id",
            &format!("The {what}'s id, <party id>:<name>"),
            Some(SCOPED_ID),
        )
    };
    let version = json!({"name": "version", "in": "path", "required": true,
        "description": "The version number, from 1, without sign or leading zeros",
        "schema": {"type": "string", "pattern": "^[1-9][0-9]{0,9}$"}});
    let paging = list("", "Agreements")["get"]["parameters"].clone();
    let with_paging = |mut parameters: Vec<Value>| {
        parameters.extend(paging.as_array().cloned().unwrap_or_default());
        parameters
    };
    let paged = |description: &str, schema: &str| {
        json!({"description": description,
            "headers": {"Link": {"schema": {"type": "string"}, "description": "<…>; rel=\"next\""}},
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
    };
    let bad_as_of = (
        "400",
        "asOf is not a day (YYYY-MM-DD), given twice, or an unknown parameter (field named)",
    );
    let bad_page = (
        "400",
        "perPage out of range, a token another page gave, or an unknown parameter (field named)",
    );
    json!({
        "/agreements": filtered_list("The agreements", "Agreements", vec![
            filter("party", "Agreements this party is a party of", party()),
            filter("country", "Agreements binding a party of this country", country()),
            filter("status", "The latest version's status", words(AgreementStatus::ALL.iter().map(AgreementStatus::as_str), "")),
            filter("kind", "What kind of agreement", words(AgreementKind::ALL.iter().map(AgreementKind::as_str), "")),
            filter("disclosure", "The latest version's disclosure", json!({"enum": ["public", "sealed", "partly-disclosed", "revealed"]})),
            filter("commodity", "Agreements covering this commodity", word()),
            filter("overdue", "Only what is overdue on asOf (disclosure or a pledge)", json!({"enum": ["true"]})),
            as_of_parameter(),
        ]),
        "/agreements/{id}": read("An agreement: its latest versions (at most 20; each version at /agreements/{id}/versions/{version}) with who registered and confirmed each, disclosure and overdue computed for asOf, pledges and up to 100 progress reports",
            vec![id("agreement"), as_of_parameter()], json_response("The agreement", "AgreementView"),
            &[bad_as_of, ("404", "No such agreement, or not an agreement id")]),
        "/agreements/{id}/versions/{version}": read("One version of an agreement, as /agreements/{id} lists it",
            vec![id("agreement"), version.clone(), as_of_parameter()], json_response("The version", "AgreementVersion"),
            &[bad_as_of, ("404", "No such agreement or version")]),
        "/agreements/{id}/pledges": read("Pledged vs delivered per pledge, with the deliveries over time (up to 100 progress reports) and totals per unit",
            vec![id("agreement"), as_of_parameter()], json_response("The pledges", "Pledges"),
            &[bad_as_of, ("404", "No such agreement, or not an agreement id")]),
        "/agreements/{id}/progress": read("Every progress report on the agreement, in log order, a page at a time",
            with_paging(vec![id("agreement")]), paged("One page; a Link header with rel=\"next\" points to the next", "ProgressPage"),
            &[bad_page, ("404", "No such agreement, or not an agreement id")]),
        "/agreements/{id}/versions/{version}/clauses": read("The revealed clauses of a sealed version with their salts, by clause index, a page at a time",
            with_paging(vec![id("agreement"), version]), paged("One page; a Link header with rel=\"next\" points to the next", "Clauses"),
            &[bad_page, ("404", "No such agreement or version, or a public version")]),
        "/reports": filtered_list("Reported claims (unconfirmed unless an agreement confirms them)", "Reports", vec![
            filter("author", "Reports by this party", party()),
            filter("country", "Reports concerning this country", country()),
            filter("status", "What the author says of the claim", words(ReportStatus::ALL.iter().map(ReportStatus::as_str), "")),
            filter("topic", "The claim's topic", word()),
            filter("commodity", "Reports concerning this commodity", word()),
        ]),
        "/reports/{id}": read("A reported claim, its latest version", vec![id("report")],
            json_response("The report", "ReportView"), &[("404", "No such report, or not a report id")]),
        "/resources": filtered_list("Resource estimates", "Resources", vec![
            filter("author", "Estimates stated by this party", party()),
            filter("site", "Estimates of this deposit (site id)", party()),
            filter("country", "Estimates in this country", country()),
            filter("code", "The reporting code", words(ReportingCode::ALL.iter().map(ReportingCode::as_str), "")),
            filter("class", "The confidence class", words(ResourceClass::ALL.iter().map(ResourceClass::as_str), "")),
            filter("element", "Estimates with a grade of this element (symbol, Sb)", json!({"enum": element_symbols(), "description": "An element symbol"})),
        ]),
        "/resources/{id}": read("A resource estimate, its latest version, with contained metal computed from tonnage × grade",
            vec![id("resource estimate")], json_response("The estimate", "ResourceView"),
            &[("404", "No such estimate, or not an estimate id")]),
    })
}

/// `GET /pledges/totals`.
fn totals_paths() -> Value {
    let decimal = json!({"type": "string", "description": "An exact decimal"});
    let year = json!({"type": "object", "required": ["year", "delivered", "cumulative"],
        "properties": {"year": {"type": "integer"}, "delivered": decimal, "cumulative": decimal}});
    let total = json!({"type": "object",
        "required": ["key", "unit", "pledged", "delivered", "agreements", "by_year"], "properties": {
            "key": {"type": "string"}, "unit": {"type": "string"}, "pledged": decimal, "delivered": decimal,
            "agreements": {"type": "integer", "minimum": 0},
            "by_year": {"type": "array", "items": year}}});
    let totals = json!({"type": "object", "required": ["by", "agreements", "totals", "illustrative", "note"], "properties": {
        "by": {"enum": ["party", "country", "agreement"]},
        "agreements": {"type": "integer", "minimum": 0},
        "illustrative": {"type": "boolean"},
        "note": {"type": "string"},
        "totals": {"type": "array", "items": total}}});
    json!({
        "/pledges/totals": {"get": {
            "summary": "Pledged against delivered over every agreement, per party, country or agreement, in each unit, with deliveries by year",
            "description": "A pledge counts under every party of its agreement and every country of those parties; units (currencies, kg, counts) are never converted. Computed on request over at most 20,000 agreements (413 beyond).",
            "parameters": [{"name": "by", "in": "query", "schema": {"enum": ["party", "country", "agreement"], "default": "party"}}],
            "responses": {
                "200": {"description": "The totals", "content": {"application/json": {"schema": totals}}},
                "400": problem_response("An unknown parameter, a parameter given twice, or a bad `by`"),
                "413": problem_response("More agreements than one request reads (limit named)")}}}
    })
}

/// `GET /anomalies`.
fn anomaly_paths() -> Value {
    let kinds: Vec<&str> = oretrace_ledger::anomalies::Kind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let list = |item: Value| json!({"type": "array", "items": item});
    let finding = json!({"type": "object",
        "required": ["kind", "what", "lots", "shipments", "transformations", "sites", "evidence", "figures"],
        "properties": {
            "kind": {"enum": kinds},
            "what": {"type": "string", "description": "What is wrong, in one sentence"},
            "lots": list(json!({"type": "string"})),
            "shipments": list(json!({"type": "string"})),
            "transformations": list(json!({"type": "string"})),
            "sites": list(json!({"type": "string"})),
            "evidence": list(json!({"type": "integer", "minimum": 0, "description": "Log index: GET /records/{index}/receipt proves it"})),
            "figures": {"enum": ["reported", "illustrative"]}}});
    let answer = json!({"type": "object",
        "required": ["log_size", "records", "custody_gap_days", "counts", "total", "findings"],
        "properties": {
            "log_size": {"type": "integer", "minimum": 0, "description": "Log entries scanned"},
            "records": {"type": "integer", "minimum": 0, "description": "Lot, assay, shipment, receipt, transformation and site records read, captured events counted by the records they state"},
            "newest": {"type": "string", "format": "date-time", "description": "The newest record time: custody gaps are measured from it"},
            "custody_gap_days": {"type": "integer"},
            "counts": list(json!({"type": "object", "required": ["kind", "findings"], "properties": {
                "kind": {"enum": kinds}, "findings": {"type": "integer", "minimum": 0}}})),
            "kind": {"enum": kinds},
            "total": {"type": "integer", "minimum": 0, "description": "Findings matching kind, in all pages"},
            "findings": list(finding),
            "nextPageToken": next_page_token()}});
    json!({
        "/anomalies": {"get": {
            "summary": "The anomaly scan of the whole log: lots with no origin, exports above a site's production, custody gaps, records out of time order, mass claimed twice, lots used after consumption",
            "description": "Every log entry is read in index order, records and captured EPCIS events alike; each finding names what is wrong, what it concerns and the log indices it rests on. Kept per log size; at most the server's bound of entries is scanned (413 beyond, naming it).",
            "parameters": [
                {"name": "kind", "in": "query", "description": "Only findings of this kind", "schema": {"enum": kinds}},
                {"name": "perPage", "in": "query", "description": "Findings per page",
                 "schema": {"type": "integer", "minimum": 1, "maximum": crate::registry::MAX_PER_PAGE,
                            "default": crate::registry::DEFAULT_PER_PAGE}},
                {"name": "nextPageToken", "in": "query", "description": "From the previous page (opaque)",
                 "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "One page of the findings; a Link header with rel=\"next\" points to the next while there is more",
                    "headers": {"Link": {"schema": {"type": "string"}, "description": "<…>; rel=\"next\""}},
                    "content": {"application/json": {"schema": answer}}},
                "400": problem_response("An unknown kind, perPage out of range, a token another list gave, an unknown parameter or one given twice (field named)"),
                "413": problem_response("The log holds more entries than one scan reads (limit named)")}}}
    })
}

/// `GET /shipments/{id}/reconciliation`.
fn reconciliation_paths() -> Value {
    let decimal = json!({"type": "string", "description": "An exact decimal (shown to 6 places)"});
    let evidence = json!({"type": "object", "required": ["index", "kind", "signers", "figures"], "properties": {
        "index": {"type": "integer", "minimum": 0, "description": "Log index: GET /records/{index} and /records/{index}/receipt"},
        "kind": {"type": "string"},
        "signers": {"type": "array", "items": {"type": "string"}, "description": "The parties whose keys signed the record"},
        "figures": {"enum": ["reported", "illustrative"]}}});
    let assay = json!({"type": "object",
        "required": ["index", "analyte", "value", "unit", "basis", "laboratory", "element", "element_percent"], "properties": {
        "index": {"type": "integer"}, "analyte": {"type": "string"}, "value": decimal, "unit": {"type": "string"},
        "basis": {"type": "string"}, "laboratory": {"type": "string"}, "element": {"type": "string"},
        "uncertainty": {"type": "string", "description": "± as the assay states it, in its unit and on its basis"},
        "element_percent": {"type": "string", "description": "The dry-basis element grade the assay states, %"}}});
    let side = json!({"type": "object",
        "required": ["wet_mass_kg", "wet_mass_index", "moisture_percent", "dry_mass_kg", "assays", "records"], "properties": {
        "wet_mass_kg": decimal, "wet_mass_index": {"type": "integer"},
        "moisture_percent": {"type": ["string", "null"], "description": "Measured on this side; a receipt states none"},
        "dry_mass_kg": {"type": "string", "description": "On the received side at the shipped moisture"},
        "assays": {"type": "array", "items": assay,
            "description": "Shipped: the latest assay per element before the shipment; received: the latest after the receipt"},
        "records": {"type": "array", "items": evidence}}});
    let difference = json!({"type": "object",
        "required": ["quantity", "unit", "shipped", "received", "difference", "relative_percent", "tolerance", "within"], "properties": {
        "quantity": {"enum": ["wet_mass", "dry_mass", "grade", "contained"]},
        "element": {"type": "string"}, "unit": {"enum": ["kg", "percentage points"]},
        "shipped": decimal, "received": decimal,
        "difference": {"type": "string", "description": "Received − shipped"},
        "relative_percent": {"type": ["string", "null"]},
        "tolerance": {"type": "string", "description": "The largest |difference| allowed, in unit"},
        "within": {"type": "boolean", "description": "false: flagged"}}});
    let lot = json!({"type": "object", "required": ["lot", "shipped", "received", "differences", "not_compared", "flagged"], "properties": {
        "lot": {"type": "string"}, "shipped": side, "received": {"oneOf": [side, {"type": "null"}]},
        "differences": {"type": "array", "items": difference},
        "not_compared": {"type": "array", "items": {"type": "string"}, "description": "Elements assayed on one side only"},
        "flagged": {"type": "integer", "minimum": 0}}});
    let body = json!({"type": "object", "required": ["shipment", "status", "shipper", "receiver", "shipment_record",
        "receipt_record", "tolerance", "lots", "flagged", "illustrative", "note"], "properties": {
        "shipment": {"type": "string"}, "status": {"enum": ["received", "in transit"]},
        "shipper": {"type": "string"}, "receiver": {"type": "string"},
        "shipment_record": evidence, "receipt_record": {"oneOf": [evidence, {"type": "null"}]},
        "tolerance": {"type": "object", "properties": {"wet_mass_percent": decimal, "dry_mass_percent": decimal,
            "grade_points": {"type": ["string", "null"]}, "grade_relative_percent": decimal, "contained_percent": decimal}},
        "lots": {"type": "array", "items": lot},
        "flagged": {"type": "integer", "minimum": 0, "description": "Differences outside tolerance, over every lot"},
        "illustrative": {"type": "boolean", "description": "Some record used is marked illustrative"},
        "note": {"type": "string"}}});
    let bound = |name: &str, max: u32, description: &str| {
        json!({"name": name, "in": "query", "required": false, "description": description,
            "schema": {"type": "string", "maxLength": 32,
                "pattern": format!("^0*({max}(\\.0{{1,12}})?|[0-9]{{1,{}}}(\\.[0-9]{{1,12}})?)$", max.to_string().len() - 1),
                "description": format!("A decimal from 0 to {max}, at most 12 decimal places")}})
    };
    json!({
        "/shipments/{id}/reconciliation": {"get": {
            "summary": "Shipped against received, per lot of a shipment: wet and dry mass, grade and contained mass per element, flagged outside tolerance, with both sides' records",
            "description": "Shipped side: the lot's wet mass before the shipment, its moisture and the custodian's latest assay per element before it. \
                Received side: the receipt's weighed mass and the receiver's latest assay per element after the receipt. \
                Default tolerances: 0.5 % of the shipped wet and dry mass, 2 % of the shipped grade, 2 % of the shipped contained mass. \
                A shipment not yet received answers status \"in transit\" with each lot's received side null.",
            "parameters": [
                path_parameter("id", "The shipment's identifier", None),
                bound("massTolerancePercent", crate::reconciliation::MAX_MASS_PERCENT, "Wet and dry mass tolerance, % of the shipped mass (default 0.5)"),
                bound("gradeTolerancePoints", crate::reconciliation::MAX_GRADE_POINTS,
                    "Grade tolerance in percentage points of the dry-basis element grade (default: 2 % of the shipped grade)"),
            ],
            "responses": {
                "200": {"description": "The reconciliation", "content": {"application/json": {"schema": body}}},
                "400": problem_response("An unknown parameter, a parameter given twice, or a tolerance out of bounds (named)"),
                "404": problem_response("No such shipment")}}}
    })
}

/// `GET /value-addition`.
fn value_addition_paths() -> Value {
    use oretrace_provenance::value_added::Stage;
    let decimal = json!({"type": "string", "description": "An exact decimal (shown to 6 places)"});
    let mut stages: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
    stages.push("unknown");
    let stage = json!({"enum": stages, "description": "unknown: a consignment with nothing recorded in it"});
    let evidence = json!({"type": "object", "required": ["index", "kind", "signers", "figures"], "properties": {
        "index": {"type": "integer", "minimum": 0, "description": "Log index: GET /records/{index} and /records/{index}/receipt"},
        "kind": {"type": "string"},
        "signers": {"type": "array", "items": {"type": "string"}},
        "figures": {"enum": ["reported", "illustrative"]}}});
    let element = json!({"type": "object", "required": ["element", "kg", "assay_index"], "properties": {
        "element": {"type": "string"}, "kg": decimal, "assay_index": {"type": "integer", "minimum": 0}}});
    let line = json!({"type": "object", "required": ["shipment", "shipment_index", "lot", "time", "country", "destination",
        "stage", "entered_at", "added_locally", "dry_mass_kg", "elements", "evidence", "figures"], "properties": {
        "shipment": {"type": "string"}, "shipment_index": {"type": "integer", "minimum": 0},
        "lot": {"type": "string"}, "time": {"type": "string"},
        "country": {"type": "string", "description": "The exporting (departure) country"},
        "destination": {"type": "string"},
        "stage": stage,
        "entered_at": {"oneOf": [stage, {"type": "null"}],
            "description": "The furthest stage at which any of its material came into the country; null when all of it was mined or made there"},
        "added_locally": {"type": "boolean"},
        "dry_mass_kg": decimal,
        "elements": {"type": "array", "items": element},
        "evidence": {"type": "array", "items": evidence},
        "figures": {"enum": ["reported", "illustrative"]}}});
    let total = json!({"type": "object", "required": ["country", "element", "stage", "kg", "reexported_kg", "lots", "share_percent"], "properties": {
        "country": {"type": "string"}, "element": {"type": "string"}, "stage": stage,
        "kg": decimal, "reexported_kg": decimal, "lots": {"type": "integer", "minimum": 0},
        "share_percent": {"type": "string", "description": "Percent of the country's exports of the element at every stage"}}});
    let body = json!({"type": "object", "required": ["country", "period", "shipmentsRead", "exports", "totals", "lines", "figures", "stages", "note"], "properties": {
        "country": {"type": ["string", "null"]},
        "period": {"type": "object", "properties": {"from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]}}},
        "shipmentsRead": {"type": "integer", "minimum": 0},
        "exports": {"type": "integer", "minimum": 0, "description": "Exported lots counted, over every page"},
        "totals": {"type": "array", "items": total},
        "lines": {"type": "array", "items": line},
        "nextPageToken": next_page_token(),
        "figures": {"enum": ["reported", "illustrative"]},
        "stages": {"type": "array", "items": {"type": "string"}},
        "note": {"type": "string"}}});
    let mut country = pattern(
        "^[A-Z]{2}$",
        "The exporting country, ISO 3166-1 alpha-2 (PK)",
    );
    country["minLength"] = json!(2);
    country["maxLength"] = json!(2);
    json!({
        "/value-addition": {"get": {
            "summary": "Local value addition: the stage each exported lot left its country at, and the element mass exported per country, element and stage",
            "description": "An export is a shipment from a site in one country to a site in another, counted under the departure country (ports passed are not asked). \
                Each lot counts at its stage (a consignment at the furthest stage of what it holds), with the furthest stage at which its material came into the country; \
                contained kg is the dry mass times the latest grade before the shipment. Totals are over every line; lines come a page at a time. \
                Reads at most 100,000 shipments, 200,000 lots and 500,000 log entries (413 naming the bound beyond).",
            "parameters": [
                filter("country", "Only the exports of this country", country),
                filter("from", "Only shipments on or after this day (UTC), YYYY-MM-DD", date()),
                filter("to", "Only shipments before this day (UTC), YYYY-MM-DD", date()),
                json!({"name": "perPage", "in": "query", "description": "Lines per page",
                       "schema": {"type": "integer", "minimum": 1, "maximum": crate::registry::MAX_PER_PAGE,
                                  "default": crate::registry::DEFAULT_PER_PAGE}}),
                json!({"name": "nextPageToken", "in": "query", "description": "From the previous page (opaque)",
                       "schema": {"type": "string"}}),
            ],
            "responses": {
                "200": {"description": "The totals and a page of lines", "content": {"application/json": {"schema": body}}},
                "400": problem_response("country not a code, from or to not a day, perPage out of range, a token another list gave, a parameter given twice or unknown (field named)"),
                "413": problem_response("More shipments, lots or log entries than one request reads (limit named)")}}}
    })
}

/// `GET /lots/{id}/compliance`, `GET /rule-packs`, `GET /rule-packs/{id}`.
fn compliance_paths() -> Value {
    let indices = json!({"type": "array", "items": {"type": "integer", "minimum": 0},
        "description": "Log indices of the records it rests on: GET /records/{index}/receipt proves each"});
    let verdict = json!({"enum": ["pass", "fail", "unproven", "not-applicable"]});
    let finding = json!({"type": "object", "required": ["verdict", "what", "evidence"], "properties": {
        "verdict": {"enum": ["fail", "unproven"]}, "what": {"type": "string"}, "evidence": indices}});
    let rule = json!({"type": "object",
        "required": ["rule", "says", "effect", "test", "elements", "verdict", "detail", "findings", "evidence"], "properties": {
        "rule": {"type": "string"}, "says": {"type": "string"},
        "effect": {"enum": ["prohibited", "red-flag", "benchmark"]},
        "test": {"enum": ["origin-countries", "site-countries", "controlled-parties", "party-countries", "areas", "origin-site-kinds", "single-country-share"]},
        "elements": {"type": "array", "items": {"type": "string"}, "description": "The elements the rule concerns; empty: every element"},
        "in_force_from": {"type": ["string", "null"], "description": "The day the rule takes effect, when its source gives one (the verdict is computed either way)"},
        "verdict": verdict, "detail": {"type": "string"},
        "findings": {"type": "array", "items": finding}, "evidence": indices}});
    let pack = json!({"type": "object",
        "required": ["pack", "title", "version", "source", "note", "sha256", "verdict", "rules"], "properties": {
        "pack": {"type": "string"}, "title": {"type": "string"}, "version": {"type": "string"},
        "source": {"type": "string"}, "note": {"type": "string"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the pack file GET /rule-packs/{pack} serves"},
        "verdict": verdict, "rules": {"type": "array", "items": rule}}});
    let evidence = json!({"type": "object", "required": ["index", "kind", "signed_by", "figures"], "properties": {
        "index": {"type": "integer", "minimum": 0}, "kind": {"type": "string"},
        "signed_by": {"type": "array", "items": {"type": "string"}}, "figures": {"enum": ["reported", "illustrative"]}}});
    let body = json!({"type": "object", "required": ["lot", "figures", "hypothetical", "packs", "evidence"], "properties": {
        "lot": {"type": "string"}, "figures": {"enum": ["reported", "illustrative"]},
        "hypothetical": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["via", "replaced", "note"], "properties": {
            "via": {"type": "array", "items": {"type": "string"}},
            "replaced": {"type": "array", "items": {"type": "string"}}, "note": {"type": "string"}}}]},
        "packs": {"type": "array", "items": pack},
        "evidence": {"type": "array", "items": evidence}}});
    let summary = json!({"type": "object", "required": ["packs"], "properties": {"packs": {"type": "array", "items": {
        "type": "object", "required": ["pack", "title", "version", "source", "sha256", "rules"], "properties": {
            "pack": {"type": "string"}, "title": {"type": "string"}, "version": {"type": "string"},
            "source": {"type": "string"}, "sha256": {"type": "string"}, "rules": {"type": "integer", "minimum": 1}}}}}});
    json!({
        "/lots/{id}/compliance": {"get": {
            "summary": "The verdicts of the loaded compliance rule packs (DFARS 252.225-7052, FEOC control, OECD Annex II, EU CRMA) on a lot, each naming the records it rests on",
            "description": "Each rule is a generic test over the lot's provenance (origin shares per element and country, origins, \
                sites passed and their roles, custodians) and the parties' recorded ownership and control links. A verdict is \
                pass, fail, unproven (the records cannot settle it) or not-applicable (the lot holds no element the rule concerns). \
                With via, the verdicts are about a route through those sites instead of every transit site the material passed \
                (hypothetical, and the answer says so).",
            "parameters": [
                path_parameter("id", "The lot's identifier", None),
                {"name": "pack", "in": "query", "required": false, "schema": {"type": "string"},
                    "description": "One pack's id (GET /rule-packs); every loaded pack when absent"},
                {"name": "via", "in": "query", "required": false, "style": "form", "explode": true,
                    "schema": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": crate::compliance::MAX_VIA_SITES, "uniqueItems": true},
                    "description": "A registered site (typically a port) to route through instead of the transit sites passed; repeat for several"},
            ],
            "responses": {
                "200": {"description": "The verdicts", "content": {"application/json": {"schema": body}}},
                "400": problem_response("An unknown parameter, pack given twice, an empty site, a site named twice or more than 16 sites"),
                "404": problem_response("No such lot, pack or site"),
                "413": problem_response("The upstream graph is over a bound (the bound named); nothing partial is answered")}}},
        "/rule-packs": {"get": {
            "summary": "The compliance rule packs loaded, each with the SHA-256 of its file",
            "responses": {"200": {"description": "The packs", "content": {"application/json": {"schema": summary}}},
                "400": problem_response("A query parameter (it takes none; named)")}}},
        "/rule-packs/{id}": {"get": {
            "summary": "A rule pack file, byte for byte as loaded (its SHA-256 is the one verdicts name)",
            "parameters": [path_parameter("id", "The pack's id", None)],
            "responses": {
                "200": {"description": "The pack file", "content": {"application/json": {"schema": {"type": "object"}}}},
                "400": problem_response("A query parameter (it takes none; named)"),
                "404": problem_response("No such pack")}}}
    })
}

/// `GET /sites/{id}/custody-model`.
fn custody_paths() -> Value {
    let decimal = json!({"type": "string", "description": "An exact decimal (to 6 places)"});
    let time =
        json!({"type": "string", "description": "UTC to the second, as 2025-09-08T10:00:00Z"});
    let time_parameter = |name: &str, description: &str| {
        json!({"name": name, "in": "query", "required": false, "description": description,
            "schema": {"type": "string", "format": "date-time", "maxLength": 20,
                "pattern": "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$",
                "description": "UTC to the second, as 2025-09-08T10:00:00Z (years 1900 to 9999)"}})
    };
    let declaration = json!({"type": "object", "required": ["index", "attribute", "model", "specified", "from", "until",
        "transformations", "claims", "findings", "accounts", "holds"], "properties": {
        "index": {"type": "integer", "minimum": 0, "description": "Log index of the custody-model record"},
        "attribute": {"type": "string"},
        "model": {"enum": ["identity-preserved", "segregated", "controlled-blending", "mass-balance"]},
        "specified": {"type": "array", "items": {"type": "string"}, "description": "The origin sites whose material carries the attribute"},
        "from": time, "until": {"type": ["string", "null"]},
        "transformations": {"type": "array", "items": {"type": "object", "required": ["id", "index", "time"],
            "properties": {"id": {"type": "string"}, "index": {"type": "integer"}, "time": time}}},
        "claims": {"type": "array", "items": {"type": "object", "required": ["index", "lot", "element", "share", "transformation"],
            "properties": {"index": {"type": "integer"}, "lot": {"type": "string"}, "element": {"type": "string"},
                "share": decimal, "transformation": {"type": "string"}}}},
        "findings": {"type": "array", "items": {"type": "object", "required": ["transformation", "lot", "element", "what"],
            "properties": {"transformation": {"type": ["string", "null"]}, "lot": {"type": ["string", "null"]},
                "element": {"type": "string"}, "what": {"type": "string"}}}},
        "accounts": {"type": "array", "items": {"type": "object",
            "required": ["element", "specified_in_kg", "claimed_out_kg", "holds", "evidence"], "properties": {
            "element": {"type": "string"}, "specified_in_kg": decimal, "claimed_out_kg": decimal,
            "holds": {"type": "boolean", "description": "Claimed out within specified in (judged under mass balance)"},
            "evidence": {"type": "array", "items": {"type": "integer"}, "description": "Log indices of the transformations and claims booked"}}}},
        "holds": {"type": "boolean", "description": "No finding"}}});
    let body = json!({"type": "object", "required": ["site", "from", "to", "declarations", "figures"], "properties": {
        "site": {"type": "string"}, "from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
        "declarations": {"type": "array", "items": declaration},
        "figures": {"enum": ["reported", "illustrative"], "description": "illustrative when any record read is"}}});
    json!({
        "/sites/{id}/custody-model": {"get": {
            "summary": "The site's ISO 22095 chain-of-custody declarations, each judged over the period asked",
            "description": "Every declaration of the site overlapping [from, to): the site's transformations in it, the claims on \
                their outputs, what the model refuses or flags, and per element the specified element in and the element claimed \
                out, with the log indices booked. Claims under identity preserved, segregated and controlled blending were judged \
                when they arrived; the mass-balance account is judged here. At most 1,000 transformations per declaration \
                and the provenance bounds on entries read (413 naming the bound).",
            "parameters": [
                path_parameter("id", "The site's identifier", None),
                time_parameter("from", "Start of the period (inclusive); all time when absent"),
                time_parameter("to", "End of the period (exclusive); all time when absent"),
            ],
            "responses": {
                "200": {"description": "The site's declarations, judged", "content": {"application/json": {"schema": body}}},
                "400": problem_response("An unknown parameter, a parameter given twice or a time not UTC to the second (a period whose end is not after its start is empty)"),
                "404": problem_response("No such site"),
                "413": problem_response("The answer would pass a bound (named)")}}}
    })
}

/// The headers naming the checkpoint an export was cut at.
fn checkpoint_headers() -> Value {
    json!({
        "Oretrace-Checkpoint-Size": {"schema": {"type": "integer"},
            "description": "Size of the published checkpoint the export was cut at: it states exactly what the log prefix of this size says"},
        "Oretrace-Checkpoint-Root": {"schema": {"type": "string"},
            "description": "That checkpoint's root hash, base64 as in the checkpoint note"},
        "Oretrace-Checkpoint-Origin": {"schema": {"type": "string"}, "description": "That checkpoint's origin (the log's name)"}
    })
}

/// The exports of agreements: OCDS 1.1 packages and CSV.
fn export_paths() -> Value {
    let id = path_parameter("id", "The agreement's identifier (<party>:<name>)", None);
    let too_large = (
        "413",
        "The export would exceed its limit (the problem names it and the paged endpoint serving the same data)",
    );
    let busy = (
        "503",
        "Records kept arriving while the export was cut; retry",
    );
    let ocds = |description: &str| {
        json!({"description": description, "headers": checkpoint_headers(),
            "content": {"application/json": {"schema": {"type": "object",
                "description": "An OCDS 1.1 package (schema 1.1.5); publishedDate is the time of the last record the checkpoint covers, publisher the registry's configured OCDS publisher"}}}})
    };
    let csv = |description: &str| {
        json!({"description": format!("{description} (RFC 4180, CRLF line ends, a header row; lists joined with ;)"),
            "headers": checkpoint_headers(),
            "content": {"text/csv; charset=utf-8": {"schema": {"type": "string"}}}})
    };
    let as_of = json!({"name": "asOf", "in": "query", "required": false,
        "description": "The day computed columns (overdue, status) are computed for, YYYY-MM-DD; today (UTC) by default",
        "schema": {"type": "string", "format": "date"}});
    json!({
        "/agreements/{id}/ocds": read("The OCDS record package of an agreement: one release per record about it and the compiled release",
            vec![id.clone()], ocds("An OCDS record package"),
            &[("404", "No such agreement"), too_large, busy]),
        "/agreements/{id}/ocds/releases": read("The OCDS release package of an agreement: one immutable release per record about it",
            vec![id], ocds("An OCDS release package"),
            &[("404", "No such agreement"), too_large, busy]),
        "/exports/agreements.csv": read("Every agreement as CSV, one row per agreement (latest version)",
            vec![as_of.clone()], csv("agreements.csv"), &[("400", "asOf is not a date"), too_large, busy]),
        "/exports/pledges.csv": read("Every pledge of every agreement's latest version as CSV, pledged vs delivered",
            vec![as_of], csv("pledges.csv"), &[("400", "asOf is not a date"), too_large, busy]),
        "/exports/reports.csv": read("Every report of a public claim as CSV (latest version)",
            vec![], csv("reports.csv"), &[too_large, busy]),
    })
}

/// The portal's paths (`docs/design/portal.md`): `/` and the new JSON
/// resources. Every negotiated path also answers HTML to a request whose
/// `Accept` prefers `text/html`; the JSON it answers otherwise is
/// unchanged.
fn portal_paths() -> Value {
    use crate::portal::data;
    let lang = json!({"name": "lang", "in": "query",
        "description": "The language of the HTML page (ignored for JSON)",
        "schema": {"enum": ["en", "ur"]}});
    let html = json!({"description": "The portal page (HTML), to a request that prefers text/html",
        "content": {"text/html; charset=utf-8": {"schema": {"type": "string"}}}});
    let checkpoint = json!({"type": "object", "required": ["origin", "size", "root"], "properties": {
        "origin": {"type": "string"}, "size": {"type": "integer", "minimum": 0},
        "root": {"type": "string", "description": "base64, as in the checkpoint note"}}});
    let flows = json!({"type": "object", "required": ["element", "from", "to", "checkpoint", "nodes", "links"], "properties": {
        "element": {"type": "string"}, "from": date(), "to": date(), "checkpoint": checkpoint,
        "nodes": {"type": "array", "items": {"type": "object", "required": ["id", "label", "stage", "country"], "properties": {
            "id": {"type": "string", "description": "site:<site id> or country:<ISO 3166-1 alpha-2>"},
            "label": {"type": "string"},
            "stage": {"enum": ["origin", "processing", "port", "destination"]},
            "country": {"type": "string"}}}},
        "links": {"type": "array", "items": {"type": "object", "required": ["source", "target", "kg", "illustrative"], "properties": {
            "source": {"type": "string"}, "target": {"type": "string"},
            "kg": {"type": "string", "description": "Contained element mass, kg, decimal text"},
            "illustrative": {"type": "boolean"}}}}}});
    let map = json!({"type": "object", "required": ["sites", "routes"], "properties": {
        "sites": {"type": "array", "items": {"type": "object",
            "required": ["id", "name", "kind", "country", "lat", "lon", "approximate", "illustrative"], "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"}, "country": {"type": "string"},
            "lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]},
            "approximate": {"type": "boolean"}, "illustrative": {"type": "boolean"}}}},
        "routes": {"type": "array", "items": {"type": "object", "required": ["from", "to", "via", "shipments"], "properties": {
            "from": {"type": "string"}, "to": {"type": "string"},
            "via": {"type": "array", "items": {"type": "string"}},
            "shipments": {"type": "integer", "minimum": 1}}}}}});
    let search = json!({"type": "object", "required": ["q", "results", "truncated"], "properties": {
        "q": {"type": "string"}, "truncated": {"type": "boolean"},
        "results": {"type": "array", "items": {"type": "object", "required": ["kind", "id", "name", "href"], "properties": {
            "kind": {"enum": ["lot", "party", "site", "agreement", "report"]},
            "id": {"type": "string"}, "name": {"type": "string"}, "href": {"type": "string"}}}}}});
    let downloads = json!({"type": "object", "required": ["checkpoint", "exports"], "properties": {
        "checkpoint": checkpoint,
        "exports": {"type": "array", "items": {"type": "object", "required": ["href", "type"], "properties": {
            "href": {"type": "string"}, "type": {"type": "string"}}}}}});
    let ok = |description: &str, schema: Value| {
        let mut ok = json!({"description": description, "content": {"application/json": {"schema": schema}}});
        ok["content"]["text/html; charset=utf-8"] =
            html["content"]["text/html; charset=utf-8"].clone();
        ok
    };
    json!({
        "/": {"get": {"summary": "The portal's dashboard, or the EPCIS top-level resources",
            "description": "A request whose Accept prefers text/html gets the dashboard; any other the EPCIS 2.0 binding's TopLevelResourceCollection.",
            "parameters": [lang],
            "responses": {"200": {"description": "The dashboard (HTML) or the top-level resources (JSON)",
                "content": {"text/html; charset=utf-8": html["content"]["text/html; charset=utf-8"].clone(),
                    "application/json": {"schema": {"$ref": "#/components/schemas/EpcisCollection"}}}},
                "400": problem_response("A JSON request with a parameter other than lang, or lang not en or ur (named)")}}},
        "/flows": {"get": {"summary": "Flows of one element's contained mass from origin sites through processing sites and ports to destination countries",
            "description": format!("Contained mass is dry mass times the lot's element grade, summed over the shipments dated in [from, to] (UTC days). \
                A shipment to another country ends at the country; one within a country at its site. Reads at most {} shipments (413 beyond).",
                data::MAX_SHIPMENTS),
            "parameters": [
                filter("element", "Element symbol", json!({"enum": data::FLOW_ELEMENTS, "default": "Cu"})),
                filter("from", "First day, YYYY-MM-DD", date()),
                filter("to", "Last day, YYYY-MM-DD", date()),
                lang.clone(),
            ],
            "responses": {"200": ok("The flow's nodes and links", flows),
                "400": problem_response("element not one listed, from or to not a day, a parameter given twice or unknown (field named)"),
                "413": problem_response("More shipments than one request reads (limit named)")}}},
        "/map": {"get": {"summary": "Sites with their coordinates, and the routes shipments took",
            "description": format!("Reads at most {} sites and {} shipments (413 beyond).", data::MAX_SITES, data::MAX_SHIPMENTS),
            "parameters": [lang.clone()],
            "responses": {"200": ok("Sites and routes", map),
                "400": problem_response("An unknown parameter (named)"),
                "413": problem_response("More sites or shipments than one request reads (limit named)")}}},
        "/search": {"get": {"summary": "Search lots, parties, sites, agreements and reports by id or name",
            "description": format!("Plain text, case-folded substring; at most {} of each kind examined and {} of each returned.",
                data::SEARCH_EXAMINED, data::SEARCH_SHOWN),
            "parameters": [
                json!({"name": "q", "in": "query", "required": true, "description": "The text searched for",
                       "schema": {"type": "string", "minLength": 1, "maxLength": data::MAX_QUERY_CHARS}}),
                lang.clone(),
            ],
            "responses": {"200": ok("Results", search),
                "400": problem_response("q missing, empty or too long, given twice, or an unknown parameter (named)")}}},
        "/downloads": {"get": {"summary": "The bulk exports and the checkpoint they are cut at",
            "parameters": [lang],
            "responses": {"200": ok("Exports", downloads),
                "400": problem_response("An unknown parameter (named)")}}},
    })
}

fn all_paths() -> Value {
    let mut paths = paths();
    if let Some(all) = paths.as_object_mut() {
        for extra in [
            epcis_paths(),
            agreement_paths(),
            totals_paths(),
            export_paths(),
            reconciliation_paths(),
            custody_paths(),
            compliance_paths(),
            value_addition_paths(),
            anomaly_paths(),
            portal_paths(),
        ] {
            if let Value::Object(extra) = extra {
                all.extend(extra);
            }
        }
        // Every resource of the EPCIS binding answers OPTIONS.
        for (path, item) in all.iter_mut() {
            if crate::epcis::is_binding_path(path)
                && let Value::Object(item) = item
            {
                // Its path parameters, as the path's other operations
                // declare them.
                let parameters: Vec<Value> = item
                    .values()
                    .filter_map(|op| op.get("parameters").and_then(Value::as_array))
                    .flatten()
                    .filter(|p| p["in"] == "path")
                    .fold(Vec::new(), |mut all, p| {
                        if !all.iter().any(|q: &Value| q["name"] == p["name"]) {
                            // OPTIONS describes the kind of resource; it
                            // does not judge the value in its path.
                            all.push(json!({"name": p["name"], "in": "path", "required": true,
                                "schema": {"type": "string"}}));
                        }
                        all
                    });
                let options = item.entry("options").or_insert_with(discovery_options);
                if !parameters.is_empty() && options.get("parameters").is_none() {
                    options["parameters"] = Value::Array(parameters);
                }
            }
        }
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

/// The answer of `GET /lots/{id}/provenance`. Shares are fractions (0 to
/// 1) and masses kilograms, as decimal text.
fn provenance_schema() -> Value {
    let string = json!({"type": "string"});
    let decimal = json!({"type": "string", "description": "A decimal, as text"});
    let nullable_decimal = json!({"type": ["string", "null"], "description": "Kilograms as decimal text; null when the lot is not assayed for the element"});
    let signed_by = json!({"type": "array", "items": {"type": "string"},
        "description": "Whose word it is: the parties that signed the record"});
    let share = json!({"type": "object", "required": ["country", "share", "contained_kg"], "properties": {
        "site": string, "kind": string, "country": string, "share": decimal, "contained_kg": nullable_decimal}});
    json!({"type": "object",
        "required": ["lot", "figures", "upstream_lots", "elements", "origins", "steps", "custody", "sites", "evidence"],
        "properties": {
            "lot": string,
            "figures": {"enum": ["reported", "illustrative"],
                "description": "illustrative when any record the answer rests on is"},
            "upstream_lots": {"type": "integer"},
            "elements": {"type": "array", "items": {"type": "object",
                "required": ["element", "contained_kg", "by_site", "by_country", "unknown", "unassayed"], "properties": {
                "element": string, "contained_kg": nullable_decimal,
                "by_site": {"type": "array", "items": share}, "by_country": {"type": "array", "items": share},
                "unknown": {"type": "string", "description": "The share whose origin the assays cannot tell; site shares and this sum to 1"},
                "unassayed": {"type": "array", "items": string}}}},
            "origins": {"type": "array", "items": {"type": "object", "properties": {
                "lot": string, "site": string, "kind": string, "country": string, "created": string,
                "index": {"type": "integer"}, "signed_by": signed_by}}},
            "steps": {"type": "array", "items": {"type": "object", "properties": {
                "transformation": string, "site": string, "process": string, "time": string,
                "inputs": {"type": "array", "items": string}, "outputs": {"type": "array", "items": string},
                "index": {"type": "integer"}, "signed_by": signed_by,
                "mass_yield": {"type": ["string", "null"], "description": "Dry mass out / dry mass in, a decimal fraction"},
                "balance": {"type": "array", "description": "Per element assayed in any input or output, from the latest assays: \
                    contained kg in (consumed dry mass × grade) and out (dry mass × grade), and the recovery. The ledger refuses an \
                    output's assay that would put out above in beyond the operator's tolerance (--element-balance-tolerance, \
                    default 2 % of each grade).",
                    "items": {"type": "object", "required": ["element", "in_kg", "out_kg", "recovery", "unassayed_inputs", "unassayed_outputs"],
                    "properties": {"element": string, "in_kg": decimal, "out_kg": decimal,
                        "recovery": {"type": ["string", "null"], "description": "Out / in, a decimal fraction, when in > 0 and every output is assayed"},
                        "unassayed_inputs": {"type": "array", "items": string},
                        "unassayed_outputs": {"type": "array", "items": string}}}}}}},
            "custody": {"type": "array", "items": {"type": "object", "properties": {
                "lot": string, "custodian": string, "site": string, "from": string, "until": {"type": ["string", "null"]},
                "ended_by": {"enum": ["shipped", "consumed", "held"]}, "ended_in": string,
                "index": {"type": "integer"}, "signed_by": signed_by}}},
            "sites": {"type": "array", "items": {"type": "object", "properties": {
                "site": string, "name": string, "kind": string, "country": string, "operator": string,
                "lat": decimal, "lon": decimal, "approximate": {"type": "boolean"},
                "roles": {"type": "array", "items": {"enum": ["origin", "processing", "departure", "transit", "arrival"]}},
                "first": string, "last": string, "index": {"type": "integer"},
                "claim": {"type": "string", "description": "The location and kind are the operator's claim"},
                "confirmed_by": {"type": "array", "items": {"type": "string"},
                    "description": "Other parties that signed the site record (a cadastre, a ministry): the claim is not the operator's alone"}}}},
            "evidence": {"type": "array", "items": {"type": "object", "required": ["index", "kind", "signed_by", "figures"], "properties": {
                "index": {"type": "integer"}, "kind": string, "signed_by": signed_by,
                "figures": {"enum": ["reported", "illustrative"]}}}}}})
}
