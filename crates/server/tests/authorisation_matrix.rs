//! The authorisation matrix: every write path × every wrong identity,
//! generated from one table. Each cell starts from the same registry,
//! makes the write as the wrong identity over HTTP, and expects the 4xx
//! its refusal answers with ([`expected_status`]) in a problem body, with
//! nothing written; each row's right identity is then
//! accepted, so that a refusal proves the rule and not a broken request.
//!
//! Every row gets the refusals every record kind owes, generated rather
//! than listed ([`EVERY_KIND`]: unsigned, signed by a stranger, signed by a
//! party that is not the one the rules require, replayed), then the wrong
//! identities particular to its rules ([`Row::extra`]). A new record kind
//! does not compile until it has a row ([`row_of_kind`]'s match is
//! exhaustive), and the table test fails until that row is in [`ROWS`].

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use oretrace_domain::Record;
use oretrace_domain::canonical;
use oretrace_domain::disclosure::Sealed;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::event::document_note;
use oretrace_domain::values::Digest;
use oretrace_domain::wire::RecordJson;
use oretrace_ledger::Store;
use oretrace_ledger::ledger::{Ledger, LedgerConfig};
use oretrace_ledger::memory::MemoryStore;
use oretrace_server::ServerConfig;
use oretrace_tlog::note::NoteSigner;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const LOG: &str = "registry.example/log";
/// fwo's lot at its mine: what most rows act on.
const ORE: &str = "urn:oretrace:lot:fwo:ore-1";
/// fwo's lot at its plant, for transformations.
const FEED: &str = "urn:oretrace:lot:fwo:feed-1";
/// fwo's lot with a GS1 Digital Link id, for aliases.
const GS1_LOT: &str = "https://id.gs1.org/01/04012345123456/10/998877";
const GS1_LOT_URN: &str = "urn:epc:class:lgtin:4012345.012345.998877";
/// fwo's lot in transit to ussm's plant, receiver ussm (shipment `s-ussm`).
const SENT: &str = "urn:oretrace:lot:fwo:sent-1";
/// fwo's lot in transit to ussm's plant, receiver evil (shipment `s-evil`).
const SENT_EVIL: &str = "urn:oretrace:lot:fwo:sent-2";
/// evil's lot, received at fwo's plant with fwo's consent.
const EVIL_AT_FWO: &str = "urn:oretrace:lot:evil:guest-1";
/// fwo's public MoU with ussm, registered by fwo and not yet confirmed.
const MOU: &str = "fwo:mou-ussm";
/// fwo's sealed agreement with ussm, nothing revealed yet.
const SEALED: &str = "fwo:sealed-ussm";
/// fwo's report (version 1 registered).
const REPORT: &str = "fwo:pasni-offer";
/// fwo's resource estimate for its mine (version 1 registered).
const ESTIMATE: &str = "fwo:mine-sb";
/// fwo's second lot at its plant, consumed in the setup to make CLAIMED.
const FEED2: &str = "urn:oretrace:lot:fwo:feed-2";
/// fwo's output at its plant, which declares a model for "origin: Pakistan".
const CLAIMED: &str = "urn:oretrace:lot:fwo:claimed-1";
/// The clauses of the sealed agreement.
const CLAUSES: [&str; 2] = ["Article 1. Scope.", "Article 2. Term: five years."];

fn key(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [seed; 32]).unwrap()
}

fn record(value: &Value) -> Record {
    RecordJson::parse(value.to_string().as_bytes()).unwrap()
}

fn party(id: &str, keys: &[&NoteSigner], time: &str) -> Value {
    let keys: Vec<String> = keys.iter().map(|k| k.verifier().to_vkey()).collect();
    json!({"kind": "party", "id": id, "name": format!("Party {id}"), "party_kind": "company", "country": "PK",
           "keys": keys, "time": time, "figures": "illustrative"})
}

fn site(id: &str, operator: &str) -> Value {
    json!({"kind": "site", "id": id, "name": format!("Site {id}"), "site_kind": "mine", "operator": operator,
           "country": "PK", "location": {"lat": "30", "lon": "66"}, "time": "2025-09-01T00:00:00Z",
           "figures": "illustrative"})
}

fn lot(id: &str, site: &str) -> Value {
    json!({"kind": "lot", "id": id, "commodity": "antimony", "form": "ore", "site": site,
           "wet_mass": {"value": "25", "unit": "kg"}, "moisture_percent": "4",
           "time": "2025-09-02T00:00:00Z", "figures": "illustrative"})
}

fn shipment(id: &str, lot: &str, from: &str, to: &str, receiver: &str) -> Value {
    json!({"kind": "shipment", "id": id, "lots": [lot], "from": from, "to": to, "receiver": receiver,
           "time": "2025-09-03T00:00:00Z", "figures": "illustrative"})
}

fn receipt(shipment: &str, site: &str, lot: &str) -> Value {
    json!({"kind": "receipt", "shipment": shipment, "site": site,
           "lots": [{"lot": lot, "mass": {"value": "25", "unit": "kg"}}],
           "time": "2025-09-04T00:00:00Z", "figures": "illustrative"})
}

fn transformation(site: &str, input: &str, output: &str) -> Value {
    json!({"kind": "transformation", "id": "t-1", "site": site, "process": "sorting",
           "inputs": [{"lot": input, "mass": {"value": "25", "unit": "kg"}}],
           "outputs": [{"id": output, "commodity": "antimony", "form": "concentrate",
                        "wet_mass": {"value": "10", "unit": "kg"}, "moisture_percent": "1"}],
           "time": "2025-09-05T00:00:00Z", "figures": "illustrative"})
}

fn custody_model(site: &str, attribute: &str) -> Value {
    json!({"kind": "custody-model", "site": site, "attribute": attribute, "model": "mass-balance",
           "specified": ["fwo-mine"], "from": "2025-01-01T00:00:00Z",
           "time": "2025-09-01T00:00:00Z", "figures": "illustrative"})
}

fn attribute_claim(lot: &str) -> Value {
    json!({"kind": "attribute-claim", "lot": lot, "attribute": "origin: Pakistan", "element": "Sb",
           "share": "0.5", "time": "2025-09-06T00:00:00Z", "figures": "illustrative"})
}

fn assay(lot: &str, laboratory: &str) -> Value {
    json!({"kind": "assay", "lot": lot, "analyte": "Sb", "value": "40", "unit": "%", "basis": "dry",
           "method": "XRF", "laboratory": laboratory,
           "certificate_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "time": "2025-09-05T00:00:00Z", "figures": "illustrative"})
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Version `version` of agreement `id` between `parties`, public or sealed
/// (the clauses of [`CLAUSES`]).
fn agreement(id: &str, version: u32, parties: &[&str], sealed: bool) -> Value {
    let mut a = json!({"kind": "agreement", "id": id, "version": version,
        "title": "MoU on critical minerals (illustrative)", "agreement_kind": "mou",
        "parties": parties, "signed": "2025-09-05", "place": "Islamabad", "status": "signed",
        "commodities": ["antimony"], "sites": [], "lots": [],
        "pledges": [{"id": "investment", "description": "Investment (illustrative)",
                     "quantity": {"money": {"amount": "1000000", "currency": "USD"}}, "due": "2030-12-31"}],
        "documents": [],
        "terms": {"public": {"clauses": ["Article 1. Cooperation."]}},
        "time": "2025-09-05T12:00:00Z", "figures": "illustrative"});
    if version > 1 {
        a["amends"] = json!(version - 1);
        a["time"] = json!("2025-09-06T12:00:00Z");
    }
    if sealed {
        a["terms"] = json!({"sealed": {"root": hex(sealing().root().as_bytes()), "count": CLAUSES.len(),
            "reason": "Commercial confidentiality", "disclose_by": "2026-09-05"}});
    }
    a
}

fn sealing() -> Sealed {
    let pairs: Vec<([u8; 32], &str)> = CLAUSES
        .iter()
        .enumerate()
        .map(|(i, c)| ([u8::try_from(i).unwrap() + 1; 32], *c))
        .collect();
    Sealed::new(&pairs).unwrap()
}

/// Reveals clause 0 of [`SEALED`].
fn disclosure() -> Value {
    let proof: Vec<String> = sealing()
        .proof(0)
        .unwrap()
        .iter()
        .map(|h| hex(h.as_bytes()))
        .collect();
    json!({"kind": "disclosure", "agreement": SEALED, "version": 1,
        "clauses": [{"index": 0, "salt": hex(&[1; 32]), "text": CLAUSES[0], "proof": proof}],
        "time": "2025-09-07T00:00:00Z", "figures": "illustrative"})
}

/// `party`'s confirmation of version 1 of [`MOU`], naming its digest.
fn countersignature() -> Value {
    let digest = Digest::of(&canonical::encode(&record(&agreement(
        MOU,
        1,
        &["fwo", "ussm"],
        false,
    ))));
    json!({"kind": "countersignature", "agreement": MOU, "version": 1, "digest": digest.to_string(),
        "time": "2025-09-07T00:00:00Z", "figures": "illustrative"})
}

fn progress() -> Value {
    json!({"kind": "progress", "agreement": MOU, "pledge": "investment", "complete": false,
        "delivered": {"money": {"amount": "1000", "currency": "USD"}},
        "date": "2025-09-07", "note": "First tranche (illustrative)", "documents": [], "records": [],
        "time": "2025-09-07T00:00:00Z", "figures": "illustrative"})
}

fn report(id: &str, version: u32) -> Value {
    json!({"kind": "report", "id": id, "version": version,
        "claim": "A port may be offered (illustrative)", "topic": "port-offer",
        "countries": ["PK"], "commodities": [],
        "sources": [{"title": "Report", "publisher": "A newspaper", "date": "2025-09-04",
                     "url": "https://news.example/port"}],
        "status": "unconfirmed", "time": format!("2025-09-0{}T00:00:00Z", 4 + version), "figures": "illustrative"})
}

fn resource(id: &str, version: u32, site: &str) -> Value {
    json!({"kind": "resource", "id": id, "version": version, "site": site,
        "code": "none", "class": "inferred", "effective": "2025-09-01",
        "tonnes": "1000", "grades": [{"analyte": "Sb", "value": "2", "unit": "%"}],
        "contained": [{"element": "Sb", "tonnes": "20"}], "competent": "Geology (illustrative)",
        "documents": [], "time": format!("2025-09-0{}T00:00:00Z", 4 + version), "figures": "illustrative"})
}

/// An EPCIS event of a record, with the GS1 context.
fn event_of(value: &Value) -> Value {
    let mut event = oretrace_epcis_map::event_of_record(&record(value)).unwrap();
    event["@context"] = oretrace_epcis_map::context();
    event
}

/// Who is who. `fwo_old` was fwo's key until fwo dropped it; `stranger`
/// is a key no party registered, under the name of fwo's key.
struct Keys {
    operator: NoteSigner,
    fwo: NoteSigner,
    fwo_old: NoteSigner,
    ussm: NoteSigner,
    lab: NoteSigner,
    evil: NoteSigner,
    stranger: NoteSigner,
}

fn keys() -> Keys {
    Keys {
        operator: key("operator/1", 1),
        fwo: key("fwo/1", 2),
        fwo_old: key("fwo/old", 3),
        ussm: key("ussm/1", 4),
        lab: key("lab/1", 5),
        evil: key("evil/1", 6),
        stranger: key("fwo/1", 66),
    }
}

struct World {
    ledger: Arc<Ledger<MemoryStore>>,
    app: Router,
    k: Keys,
    /// Bearer tokens, by party; `fwo_old` was issued before the key was
    /// dropped.
    tokens: Vec<(&'static str, String)>,
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Value,
}

impl World {
    async fn call(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Answer {
            status: parts.status,
            content_type: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn post_record(&self, value: &Value, signers: &[&NoteSigner]) -> Answer {
        let body = if signers.is_empty() {
            // No signature at all: the envelope of a signed record with
            // its signature lines taken away.
            let mut envelope = serde_json::to_value(
                SignedRecord::sign(record(value), &[&self.k.fwo])
                    .unwrap()
                    .to_envelope(),
            )
            .unwrap();
            envelope["signatures"] = json!([]);
            envelope
        } else {
            serde_json::to_value(
                SignedRecord::sign(record(value), signers)
                    .unwrap()
                    .to_envelope(),
            )
            .unwrap()
        };
        self.call(
            Request::post("/records")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn token(&self, signer: &NoteSigner) -> String {
        let key = format!("{}+{:08x}", signer.name(), signer.verifier().key_id());
        let challenge = self
            .call(
                Request::post("/auth/challenge")
                    .body(Body::from(json!({"key": key}).to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(challenge.status, StatusCode::OK, "{:?}", challenge.body);
        let text = challenge.body["challenge"].as_str().unwrap().to_owned();
        let answer = self
            .call(
                Request::post("/auth/token")
                    .body(Body::from(
                        json!({"challenge": text, "signature": signature_line(signer, &text)})
                            .to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        answer.body["access_token"].as_str().unwrap().to_owned()
    }

    fn token_of(&self, party: &str) -> &str {
        &self.tokens.iter().find(|(p, _)| *p == party).unwrap().1
    }

    /// `POST /events` with a bearer token, or with detached signatures
    /// of `signers` for `capturer`, or with nothing.
    async fn post_event(&self, event: &Value, auth: &EventAuth<'_>) -> Answer {
        let body = event.to_string();
        let mut request = Request::post("/events").header(header::CONTENT_TYPE, "application/json");
        match auth {
            EventAuth::Nothing => {}
            EventAuth::Token(party) => {
                request = request.header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", self.token_of(party)),
                );
            }
            EventAuth::MadeUpToken(token) => {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            EventAuth::Signed(capturer, signers) => {
                let note = document_note(
                    LOG,
                    &Digest::of(body.as_bytes()),
                    capturer,
                    oretrace_domain::event::CaptureBehaviour::Rollback,
                );
                for s in signers {
                    request = request.header("Oretrace-Signature", signature_line(s, &note));
                }
            }
        }
        self.call(request.body(Body::from(body)).unwrap()).await
    }
}

enum EventAuth<'a> {
    Nothing,
    Token(&'static str),
    /// A bearer token the registry never issued.
    MadeUpToken(String),
    Signed(&'a str, Vec<&'a NoteSigner>),
}

fn signature_line(signer: &NoteSigner, text: &str) -> String {
    let note = String::from_utf8(signer.sign(text).unwrap().to_bytes()).unwrap();
    let line = note.lines().last().unwrap();
    line.trim_start_matches('\u{2014}').trim().to_owned()
}

/// The registry every cell starts from.
async fn world() -> World {
    let k = keys();
    let ledger = Arc::new(
        Ledger::start(
            MemoryStore::new(),
            key(LOG, 9),
            k.operator.verifier(),
            LedgerConfig::default(),
        )
        .unwrap(),
    );
    // With a credential key, so that subscriptions are taken.
    let app = oretrace_server::router_with_credential(
        ledger.clone(),
        ServerConfig::default(),
        Some(oretrace_domain::jose::CredentialKey::from_seed([5; 32])),
    )
    .unwrap();
    let mut w = World {
        ledger,
        app,
        k,
        tokens: Vec::new(),
    };
    let k = &w.k;
    let setup: Vec<(Value, Vec<&NoteSigner>)> = vec![
        (
            party("fwo", &[&k.fwo, &k.fwo_old], "2025-09-01T00:00:00Z"),
            vec![&k.fwo, &k.fwo_old, &k.operator],
        ),
        (
            party("ussm", &[&k.ussm], "2025-09-01T00:00:00Z"),
            vec![&k.ussm, &k.operator],
        ),
        (
            party("lab", &[&k.lab], "2025-09-01T00:00:00Z"),
            vec![&k.lab, &k.operator],
        ),
        (
            party("evil", &[&k.evil], "2025-09-01T00:00:00Z"),
            vec![&k.evil, &k.operator],
        ),
        (site("fwo-mine", "fwo"), vec![&k.fwo]),
        (site("fwo-plant", "fwo"), vec![&k.fwo]),
        (site("ussm-plant", "ussm"), vec![&k.ussm]),
        (site("evil-yard", "evil"), vec![&k.evil]),
        (lot(ORE, "fwo-mine"), vec![&k.fwo]),
        (lot(FEED, "fwo-plant"), vec![&k.fwo]),
        (lot(GS1_LOT, "fwo-mine"), vec![&k.fwo]),
        (lot(SENT, "fwo-mine"), vec![&k.fwo]),
        (lot(SENT_EVIL, "fwo-mine"), vec![&k.fwo]),
        (lot(EVIL_AT_FWO, "evil-yard"), vec![&k.evil]),
        (
            shipment("s-ussm", SENT, "fwo-mine", "ussm-plant", "ussm"),
            vec![&k.fwo],
        ),
        (
            shipment("s-evil", SENT_EVIL, "fwo-mine", "ussm-plant", "evil"),
            vec![&k.fwo],
        ),
        (
            shipment("s-guest", EVIL_AT_FWO, "evil-yard", "fwo-plant", "evil"),
            vec![&k.evil],
        ),
        (
            receipt("s-guest", "fwo-plant", EVIL_AT_FWO),
            vec![&k.evil, &k.fwo],
        ),
        (agreement(MOU, 1, &["fwo", "ussm"], false), vec![&k.fwo]),
        (agreement(SEALED, 1, &["fwo", "ussm"], true), vec![&k.fwo]),
        (report(REPORT, 1), vec![&k.fwo]),
        (resource(ESTIMATE, 1, "fwo-mine"), vec![&k.fwo]),
        (lot(FEED2, "fwo-plant"), vec![&k.fwo]),
        (custody_model("fwo-plant", "origin: Pakistan"), vec![&k.fwo]),
        (
            {
                let mut t = transformation("fwo-plant", FEED2, CLAIMED);
                t["id"] = json!("t-claimed");
                t
            },
            vec![&k.fwo],
        ),
    ];
    for (value, signers) in &setup {
        let answer = w.post_record(value, signers).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{value}: {:?}",
            answer.body
        );
    }
    let tokens = vec![
        ("fwo", w.token(&w.k.fwo).await),
        ("fwo_old", w.token(&w.k.fwo_old).await),
        ("ussm", w.token(&w.k.ussm).await),
        ("evil", w.token(&w.k.evil).await),
    ];
    w.tokens = tokens;
    // fwo drops its old key: from now on it is revoked.
    let k = &w.k;
    let answer = w
        .post_record(&party("fwo", &[&k.fwo], "2025-09-02T00:00:00Z"), &[&k.fwo])
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    w
}

/// The wrong identities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wrong {
    /// No signature or no credentials at all.
    NoSignature,
    /// Signed with a key no party registered (under the name of the right
    /// party's key), or a token the registry never issued.
    Stranger,
    /// Signed by a registered party that has no say (evil).
    AnotherPartysKey,
    /// Signed with a key its party dropped (fwo's old key, or a token
    /// issued for it before).
    RevokedKey,
    /// The very write again, after the right identity made it.
    Replay,
    /// A registered party that does not hold the lot.
    NonCustodian,
    /// A party acting at a site another party operates.
    NonOperatorOfSite,
    /// Another party's identifier written in another spelling.
    Alias,
    /// A registered party writing an id in another party's namespace (a
    /// party of the agreement registering it under the registrant's
    /// name; a new report or estimate under another author's name).
    OtherNamespace,
    /// A party of an amendment that is not a party of the version it
    /// amends.
    NonParty,
    /// The registrant of a version countersigning it.
    OwnVersion,
}

/// The refusals every write path of every record kind owes: unsigned,
/// signed by a stranger, signed by a registered party that is not the one
/// the rules require, and the very write again.
const EVERY_KIND: [Wrong; 4] = [NoSignature, Stranger, AnotherPartysKey, Replay];

/// One write path: the write as its right identity makes it, and the same
/// write as each wrong identity of [`EVERY_KIND`] and of `extra`.
struct Row {
    name: &'static str,
    /// The wrong identities particular to this path's rules.
    extra: &'static [Wrong],
}

impl Row {
    /// The cells of this row: [`EVERY_KIND`], then [`Row::extra`].
    fn cells(&self) -> Vec<Wrong> {
        let mut cells = EVERY_KIND.to_vec();
        cells.extend(self.extra.iter().filter(|w| !EVERY_KIND.contains(w)));
        cells
    }
}

/// Which row a record kind's writes are in.
fn row_of_kind(record: &Record) -> &'static str {
    match record {
        Record::Party(_) => "party: a key change",
        Record::Site(_) => "site",
        Record::Lot(_) => "lot",
        Record::Assay(_) => "assay",
        Record::Shipment(_) => "shipment",
        Record::Receipt(_) => "receipt",
        Record::Transformation(_) => "transformation",
        Record::Event(_) => "epcis event (POST /events, token)",
        Record::Agreement(_) => "agreement: a new registration",
        Record::Countersignature(_) => "countersignature",
        Record::Disclosure(_) => "disclosure",
        Record::Progress(_) => "progress",
        Record::Report(_) => "report",
        Record::Resource(_) => "resource",
        Record::CustodyModel(_) => "custody-model",
        Record::AttributeClaim(_) => "attribute-claim",
    }
}

use Wrong::*;

const ROWS: &[Row] = &[
    Row {
        name: "party: a new registration",
        extra: &[RevokedKey],
    },
    Row {
        name: "party: a key change",
        extra: &[RevokedKey],
    },
    Row {
        name: "site",
        extra: &[RevokedKey, NonOperatorOfSite],
    },
    Row {
        name: "lot",
        extra: &[RevokedKey, NonOperatorOfSite, Alias],
    },
    Row {
        name: "assay",
        extra: &[RevokedKey, NonCustodian, Alias],
    },
    Row {
        name: "shipment",
        extra: &[RevokedKey, NonCustodian, Alias],
    },
    Row {
        name: "receipt",
        extra: &[RevokedKey, NonOperatorOfSite],
    },
    Row {
        name: "transformation",
        extra: &[RevokedKey, NonCustodian, NonOperatorOfSite, Alias],
    },
    Row {
        name: "agreement: a new registration",
        extra: &[RevokedKey, OtherNamespace],
    },
    Row {
        name: "agreement: an amendment",
        extra: &[RevokedKey, NonParty],
    },
    Row {
        name: "countersignature",
        extra: &[OwnVersion],
    },
    Row {
        name: "disclosure",
        extra: &[RevokedKey],
    },
    Row {
        name: "progress",
        extra: &[RevokedKey],
    },
    Row {
        name: "report",
        extra: &[RevokedKey, OtherNamespace],
    },
    Row {
        name: "resource",
        extra: &[RevokedKey, OtherNamespace],
    },
    Row {
        name: "custody-model",
        extra: &[RevokedKey, NonOperatorOfSite],
    },
    Row {
        name: "attribute-claim",
        extra: &[RevokedKey, NonCustodian],
    },
    Row {
        name: "epcis event (POST /events, token)",
        extra: &[RevokedKey, NonCustodian, Alias],
    },
    Row {
        name: "epcis event (POST /events, detached signature)",
        extra: &[RevokedKey, NonCustodian],
    },
];

/// The request body of a record row, and who signs it, for the right
/// identity (`None`) or a wrong one. The wrong signers replace the row's
/// acting signer (the first, or the operator for a new party).
fn record_write(row: &str, wrong: Option<Wrong>) -> (Value, Vec<&'static str>) {
    let (value, right, actor): (Value, Vec<&'static str>, usize) = match row {
        "party: a new registration" => (json!("newco"), vec!["newco", "operator"], 1),
        "party: a key change" => (json!("fwo"), vec!["fwo"], 0),
        "site" => (site("fwo-port", "fwo"), vec!["fwo"], 0),
        "lot" => (lot("urn:oretrace:lot:fwo:new", "fwo-mine"), vec!["fwo"], 0),
        "assay" => (assay(ORE, "lab"), vec!["fwo", "lab"], 0),
        "shipment" => (
            shipment("s-new", ORE, "fwo-mine", "ussm-plant", "ussm"),
            vec!["fwo"],
            0,
        ),
        "receipt" => (receipt("s-ussm", "ussm-plant", SENT), vec!["ussm"], 0),
        "transformation" => (
            transformation("fwo-plant", FEED, "urn:oretrace:lot:fwo:conc"),
            vec!["fwo"],
            0,
        ),
        "agreement: a new registration" => (
            agreement("fwo:new", 1, &["fwo", "ussm"], false),
            vec!["fwo"],
            0,
        ),
        "agreement: an amendment" => (agreement(MOU, 2, &["fwo", "ussm"], false), vec!["fwo"], 0),
        "countersignature" => (countersignature(), vec!["ussm"], 0),
        "disclosure" => (disclosure(), vec!["fwo"], 0),
        "progress" => (progress(), vec!["fwo"], 0),
        "report" => (report(REPORT, 2), vec!["fwo"], 0),
        "resource" => (resource(ESTIMATE, 2, "fwo-mine"), vec!["fwo"], 0),
        "custody-model" => (
            custody_model("fwo-plant", "certified: IRMA"),
            vec!["fwo"],
            0,
        ),
        "attribute-claim" => (attribute_claim(CLAIMED), vec!["fwo"], 0),
        other => panic!("no record row {other}"),
    };
    let instead = |who: &'static str| {
        let mut signers = right.clone();
        signers[actor] = who;
        (value.clone(), signers)
    };
    let alias = |field: &str| {
        let mut value = value.clone();
        value[field] = match field {
            "lots" => json!([GS1_LOT_URN]),
            "inputs" => json!([{"lot": GS1_LOT_URN, "mass": {"value": "25", "unit": "kg"}}]),
            _ => json!(GS1_LOT_URN),
        };
        (value, right.clone())
    };
    match (row, wrong) {
        (_, None | Some(Replay | NoSignature)) => (value.clone(), right.clone()),
        (_, Some(AnotherPartysKey)) => instead("evil"),
        (_, Some(Stranger)) => instead("stranger"),
        (_, Some(RevokedKey)) => instead("fwo_old"),
        (_, Some(NonCustodian)) => instead("ussm"),
        ("site" | "custody-model", Some(NonOperatorOfSite)) => instead("evil"),
        ("lot", Some(NonOperatorOfSite)) => {
            (lot("urn:oretrace:lot:evil:new", "fwo-mine"), vec!["evil"])
        }
        // The named receiver, at a plant it does not operate.
        ("receipt", Some(NonOperatorOfSite)) => {
            (receipt("s-evil", "ussm-plant", SENT_EVIL), vec!["evil"])
        }
        // evil's own lot, at fwo's plant, without fwo.
        ("transformation", Some(NonOperatorOfSite)) => (
            transformation("fwo-plant", EVIL_AT_FWO, "urn:oretrace:lot:evil:conc"),
            vec!["evil"],
        ),
        // ussm, a party of the agreement, registers it in fwo's namespace.
        ("agreement: a new registration", Some(OtherNamespace)) => instead("ussm"),
        // lab, a party of version 2 only, amends version 1.
        ("agreement: an amendment", Some(NonParty)) => (
            agreement(MOU, 2, &["fwo", "ussm", "lab"], false),
            vec!["lab"],
        ),
        ("countersignature", Some(OwnVersion)) => instead("fwo"),
        // A new id, version 1, in fwo's namespace, by evil.
        ("report", Some(OtherNamespace)) => (report("fwo:made-up", 1), vec!["evil"]),
        ("resource", Some(OtherNamespace)) => {
            (resource("fwo:made-up", 1, "evil-yard"), vec!["evil"])
        }
        ("lot", Some(Alias)) => alias("id"),
        ("assay", Some(Alias)) => alias("lot"),
        ("shipment", Some(Alias)) => alias("lots"),
        ("transformation", Some(Alias)) => alias("inputs"),
        (row, wrong) => panic!("no write for {row} as {wrong:?}"),
    }
}

fn signer<'a>(w: &'a World, name: &str) -> &'a NoteSigner {
    match name {
        "operator" => &w.k.operator,
        "fwo" => &w.k.fwo,
        "fwo_old" => &w.k.fwo_old,
        "ussm" => &w.k.ussm,
        "lab" => &w.k.lab,
        "evil" => &w.k.evil,
        "stranger" => &w.k.stranger,
        other => panic!("no key {other}"),
    }
}

/// Makes `row`'s write as `wrong` (or as the right identity).
async fn write(w: &World, row: &str, wrong: Option<Wrong>) -> Answer {
    if row.starts_with("epcis event") {
        return event_write(w, row, wrong).await;
    }
    let (value, names) = record_write(row, wrong);
    let newco = key("newco/1", 7);
    // A key change lists a new key, which signs too (proof of possession).
    let fwo2 = key("fwo/2", 8);
    let value = match value.as_str() {
        Some("newco") => party("newco", &[&newco], "2025-09-03T00:00:00Z"),
        Some("fwo") => party("fwo", &[&w.k.fwo, &fwo2], "2025-09-03T00:00:00Z"),
        _ => value,
    };
    let mut signers: Vec<&NoteSigner> = names
        .iter()
        .filter(|n| **n != "newco")
        .map(|n| signer(w, n))
        .collect();
    if names.contains(&"newco") {
        signers.insert(0, &newco);
    }
    if row == "party: a key change" {
        signers.push(&fwo2);
    }
    if wrong == Some(NoSignature) {
        signers.clear();
    }
    w.post_record(&value, &signers).await
}

async fn event_write(w: &World, row: &str, wrong: Option<Wrong>) -> Answer {
    let commission = event_of(&lot("urn:oretrace:lot:fwo:captured", "fwo-mine"));
    let ship_ore = event_of(&shipment("s-ev", ORE, "fwo-mine", "ussm-plant", "ussm"));
    let by_token = row.contains("token");
    let auth = |party: &'static str| {
        if by_token {
            EventAuth::Token(party)
        } else {
            let name = if party == "fwo_old" { "fwo" } else { party };
            EventAuth::Signed(name, vec![signer(w, party)])
        }
    };
    match wrong {
        None | Some(Replay) => w.post_event(&ship_ore, &auth("fwo")).await,
        Some(NoSignature) => w.post_event(&commission, &EventAuth::Nothing).await,
        Some(AnotherPartysKey) => w.post_event(&commission, &auth("evil")).await,
        Some(Stranger) if by_token => {
            // A stranger's key gets no challenge, so no token; it makes
            // one up in the shape of a real one.
            let key = format!(
                "{}+{:08x}",
                w.k.stranger.name(),
                w.k.stranger.verifier().key_id()
            );
            let challenge = w
                .call(
                    Request::post("/auth/challenge")
                        .body(Body::from(json!({"key": key}).to_string()))
                        .unwrap(),
                )
                .await;
            assert_eq!(
                challenge.status,
                StatusCode::UNAUTHORIZED,
                "{:?}",
                challenge.body
            );
            let mut made_up = w.token_of("fwo").to_owned();
            let last = made_up.pop().unwrap();
            made_up.push(if last == '0' { '1' } else { '0' });
            w.post_event(&commission, &EventAuth::MadeUpToken(made_up))
                .await
        }
        Some(Stranger) => {
            w.post_event(&commission, &EventAuth::Signed("fwo", vec![&w.k.stranger]))
                .await
        }
        Some(RevokedKey) => w.post_event(&commission, &auth("fwo_old")).await,
        Some(NonCustodian) => w.post_event(&ship_ore, &auth("ussm")).await,
        Some(Alias) => {
            // evil destroys fwo's lot, named through a CURIE.
            let local = ORE.strip_prefix("urn:oretrace:lot:").unwrap();
            let event = json!({
                "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"x": "urn:oretrace:lot:"}],
                "type": "ObjectEvent", "eventTime": "2025-09-06T00:00:00Z", "eventTimeZoneOffset": "+00:00",
                "action": "DELETE", "bizStep": "destroying", "disposition": "destroyed",
                "quantityList": [{"epcClass": format!("x:{local}"), "quantity": 1, "uom": "KGM"}]});
            w.post_event(&event, &auth("evil")).await
        }
        Some(NonOperatorOfSite | OtherNamespace | NonParty | OwnVersion) => {
            panic!("no event row for {wrong:?}")
        }
    }
}

#[tokio::test]
async fn every_record_kind_has_a_row() {
    let samples = [
        party("x", &[&key("x/1", 1)], "2025-09-01T00:00:00Z"),
        site("x", "x"),
        lot(ORE, "x"),
        assay(ORE, "lab"),
        shipment("s", ORE, "a", "b", "c"),
        receipt("s", "b", ORE),
        transformation("a", FEED, ORE),
        agreement(MOU, 1, &["fwo", "ussm"], false),
        countersignature(),
        disclosure(),
        progress(),
        report(REPORT, 1),
        resource(ESTIMATE, 1, "x"),
        custody_model("x", "origin: Pakistan"),
        attribute_claim(ORE),
    ];
    let mut kinds: Vec<&str> = samples.iter().map(|v| row_of_kind(&record(v))).collect();
    // A captured event is a record too: read one back from the log.
    let w = world().await;
    let captured = w
        .post_event(
            &event_of(&lot("urn:oretrace:lot:fwo:kinds", "fwo-mine")),
            &EventAuth::Token("fwo"),
        )
        .await;
    assert_eq!(captured.status, StatusCode::CREATED, "{:?}", captured.body);
    let index = captured.body["index"].as_u64().unwrap();
    let entry = w.ledger.store().read_entries(index, 1).unwrap().remove(0);
    let event = SignedRecord::from_entry(&entry).unwrap();
    kinds.push(row_of_kind(event.record()));
    for kind in kinds {
        let row = ROWS.iter().find(|r| r.name == kind);
        let row = row.unwrap_or_else(|| panic!("the matrix has no row for {kind}"));
        let cells = row.cells();
        for wrong in EVERY_KIND {
            assert!(cells.contains(&wrong), "{kind} has no {wrong:?} cell");
        }
    }
    // Every row's name is unique, and extras do not repeat the generated
    // cells.
    for (i, row) in ROWS.iter().enumerate() {
        assert!(ROWS[..i].iter().all(|r| r.name != row.name), "{}", row.name);
        assert!(
            row.extra.iter().all(|w| !EVERY_KIND.contains(w)),
            "{} lists a generated cell",
            row.name
        );
    }
}

/// The status each refusal answers with, the same on every write path of
/// its kind: a record without signatures or naming a lot by another
/// spelling is malformed (400), an event without credentials
/// unauthenticated (401); a key nobody holds (a stranger's, a dropped one)
/// authenticates nobody (401); a registered party without the say the
/// rules require is forbidden (403); the same write again conflicts (409).
fn expected_status(row: &str, wrong: Wrong) -> StatusCode {
    let event = row.starts_with("epcis event");
    match wrong {
        NoSignature if event => StatusCode::UNAUTHORIZED,
        Alias if event => StatusCode::FORBIDDEN,
        NoSignature | Alias => StatusCode::BAD_REQUEST,
        Stranger | RevokedKey => StatusCode::UNAUTHORIZED,
        AnotherPartysKey | NonCustodian | NonOperatorOfSite | OtherNamespace | NonParty => {
            StatusCode::FORBIDDEN
        }
        // The registrant is a party of the version: what it cannot do is
        // confirm what it registered, a rule on the record.
        OwnVersion => StatusCode::UNPROCESSABLE_ENTITY,
        Replay => StatusCode::CONFLICT,
    }
}

#[tokio::test]
async fn every_wrong_identity_is_refused_on_every_write_path_and_writes_nothing() {
    let mut ran: Vec<(&str, Wrong)> = Vec::new();
    for row in ROWS {
        for wrong in &row.cells() {
            let w = world().await;
            let before = w.ledger.store().size().unwrap();
            if *wrong == Replay {
                let first = write(&w, row.name, None).await;
                assert!(
                    first.status.is_success(),
                    "{}: the right identity is refused: {:?}",
                    row.name,
                    first.body
                );
            }
            let size = w.ledger.store().size().unwrap();
            let answer = write(&w, row.name, Some(*wrong)).await;
            assert_eq!(
                answer.status,
                expected_status(row.name, *wrong),
                "{} as {wrong:?}: {:?}",
                row.name,
                answer.body
            );
            assert!(
                answer.content_type.starts_with("application/problem+json"),
                "{} as {wrong:?}: {} is not a problem body",
                row.name,
                answer.content_type
            );
            assert_eq!(
                w.ledger.store().size().unwrap(),
                size,
                "{} as {wrong:?} wrote something",
                row.name
            );
            if *wrong != Replay {
                assert_eq!(size, before);
                // The right identity is accepted in the same registry.
                let right = write(&w, row.name, None).await;
                assert!(
                    right.status.is_success(),
                    "{}: the right identity is refused: {:?}",
                    row.name,
                    right.body
                );
            }
            ran.push((row.name, *wrong));
        }
    }
    // Every row ran the refusals every kind owes, and its own.
    for row in ROWS {
        for wrong in EVERY_KIND.iter().chain(row.extra) {
            assert!(
                ran.contains(&(row.name, *wrong)),
                "{} as {wrong:?} never ran",
                row.name
            );
        }
    }
    assert!(ran.len() >= 60, "{} cells", ran.len());
}

/// Named queries belong to their definer: nobody else deletes one, a
/// revoked key's token defines none, and without a token nothing is
/// defined.
#[tokio::test]
async fn named_queries_refuse_every_wrong_identity() {
    let w = world().await;
    let define = |token: Option<&str>, name: &str| {
        let mut request =
            Request::post("/queries").header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        request
            .body(Body::from(
                json!({"name": name, "query": {"eventType": ["ObjectEvent"]}}).to_string(),
            ))
            .unwrap()
    };
    let anonymous = w.call(define(None, "mine")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let created = w.call(define(Some(w.token_of("fwo")), "mine")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let again = w.call(define(Some(w.token_of("evil")), "mine")).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);
    let delete = |token: &str| {
        Request::delete("/queries/mine")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let stolen = w.call(delete(w.token_of("evil"))).await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN, "{:?}", stolen.body);
    assert!(stolen.content_type.starts_with("application/problem+json"));
    let listed = w
        .call(Request::get("/queries/mine").body(Body::empty()).unwrap())
        .await;
    assert_eq!(listed.status, StatusCode::OK, "still there");
}

/// Subscriptions belong to their subscriber: without a token, with a
/// revoked key's token or with a signature instead of a token nothing is
/// subscribed; no other party reads, ends or resumes one, and each sees
/// only its own.
#[tokio::test]
async fn subscriptions_refuse_every_wrong_identity() {
    let w = world().await;
    let call = |method: &str, uri: &str, token: Option<&str>, body: Option<Value>| {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        request
            .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
            .unwrap()
    };
    let define = json!({"name": "lots", "query": {"eventType": ["ObjectEvent"]}});
    let created = w
        .call(call(
            "POST",
            "/queries",
            Some(w.token_of("fwo")),
            Some(define),
        ))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let body = || Some(json!({"dest": "https://buyer.example/hook", "stream": true}));
    let path = "/queries/lots/subscriptions";
    for (who, token) in [
        ("nobody", None),
        ("a revoked key", Some(w.token_of("fwo_old"))),
    ] {
        let answer = w.call(call("POST", path, token, body())).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{who}: {:?}",
            answer.body
        );
        assert!(answer.content_type.starts_with("application/problem+json"));
    }
    let signed = w
        .call(
            Request::post(path)
                .header("Oretrace-Signature", "fwo/1+00000000 AAAA")
                .body(Body::from(body().unwrap().to_string()))
                .unwrap(),
        )
        .await;
    assert!(signed.status.is_client_error(), "{:?}", signed.body);
    assert_ne!(signed.status, StatusCode::CREATED);
    let mine = w
        .call(call("POST", path, Some(w.token_of("ussm")), body()))
        .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{:?}", mine.body);
    let id = mine.body["subscriptionID"].as_str().unwrap().to_owned();
    let one = format!("{path}/{id}");
    for (method, uri) in [
        ("GET", one.clone()),
        ("DELETE", one.clone()),
        ("POST", format!("{one}/resume")),
    ] {
        let answer = w
            .call(call(method, &uri, Some(w.token_of("evil")), None))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {:?}",
            answer.body
        );
        let anonymous = w.call(call(method, &uri, None, None)).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
    let theirs = w
        .call(call("GET", path, Some(w.token_of("evil")), None))
        .await;
    assert_eq!(theirs.body, json!([]));
    // The query's definer cannot pull it from under ussm's subscription.
    let pulled = w
        .call(call(
            "DELETE",
            "/queries/lots",
            Some(w.token_of("fwo")),
            None,
        ))
        .await;
    assert_eq!(pulled.status, StatusCode::FORBIDDEN, "{:?}", pulled.body);
    let still = w
        .call(call("GET", &one, Some(w.token_of("ussm")), None))
        .await;
    assert_eq!(still.status, StatusCode::OK, "still there");
}
