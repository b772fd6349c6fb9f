//! `GET /lots/{id}/passport`: the lot passport (`docs/design/passport.md`),
//! a W3C Verifiable Credential secured as VC-JOSE (a compact JWS signed by
//! the registry's credential key), its subject shaped after the UN
//! Transparency Protocol's Digital Product Passport and built from the
//! provenance answer and the lot's reconciled shipments, embedding the
//! checkpoint and one `tlog-proof` receipt per record it rests on.
//! `GET /.well-known/jwks.json` publishes the credential key.
//!
//! Bounded: the provenance bounds apply, at most
//! [`MAX_PASSPORT_SHIPMENTS`] shipments of the lot are reconciled, at most
//! [`MAX_PASSPORT_RECEIPTS`] receipts and [`MAX_PASSPORT_RECEIPT_BYTES`]
//! of them are embedded; past any, 413 naming the bound.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::jose::{CredentialKey, jwk_set};
use oretrace_domain::passport::{
    self, MAX_PASSPORT_RECEIPT_BYTES, MAX_PASSPORT_RECEIPTS, MEDIA_TYPE, VC_CONTEXT,
};
use oretrace_domain::record::{Assay, Record};
use oretrace_ledger::Store;
use oretrace_ledger::compliance::{ComplianceAnswer, ComplianceError};
use oretrace_ledger::ledger::{Ledger, StoreHashes};
use oretrace_ledger::provenance::{ProvenanceAnswer, ProvenanceError};
use oretrace_ledger::rules::Refusal;
use oretrace_provenance::ReconcileTolerance;
use oretrace_tlog::receipt::Receipt;
use oretrace_tlog::tree::prove_inclusion;
use serde::Serialize;
use serde_json::{Value, json};

use crate::reconciliation::{AssayUsed, grades, shipment_reconciliation, stated};
use crate::{ApiError, AppState, blocking};

/// Most shipments of the lot a passport reconciles.
pub const MAX_PASSPORT_SHIPMENTS: usize = 100;

/// The lot as the registry holds it now.
#[derive(Debug, Serialize)]
pub(crate) struct LotFacts {
    id: String,
    commodity: String,
    form: &'static str,
    wet_mass_kg: String,
    dry_mass_kg: String,
    moisture_percent: String,
    custodian: String,
    /// Index of the record that made the lot.
    lot_record_index: u64,
}

fn text(d: rust_decimal::Decimal) -> String {
    oretrace_domain::values::format_decimal(&d.normalize())
}

/// `snake_case` member names as `camelCase`, everywhere in `value`.
fn camel(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let mut out = String::with_capacity(k.len());
                    let mut upper = false;
                    for c in k.chars() {
                        if c == '_' {
                            upper = true;
                        } else if upper {
                            out.extend(c.to_uppercase());
                            upper = false;
                        } else {
                            out.push(c);
                        }
                    }
                    (out, camel(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel).collect()),
        other => other,
    }
}

fn to_value(value: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(value)
        .map(camel)
        .map_err(|e| ApiError::internal(format!("a passport member: {e}")))
}

/// The credential subject: the lot, shaped after a UNTP Digital Product
/// Passport's `Product`, with the provenance answer, the reconciliation
/// of each received shipment of the lot and the verdicts of the loaded
/// rule packs (`compliance`: each pack's verdict and rules, each naming the
/// log indices it rests on, and `verdictRecords`, every record they cite,
/// each with its receipt among the passport's evidence).
pub(crate) fn credential_subject(
    lot: &LotFacts,
    answer: &ProvenanceAnswer,
    assays: &[AssayUsed],
    reconciliation: &[Value],
    compliance: &ComplianceAnswer,
) -> Result<Value, ApiError> {
    let illustrative = answer.figures == "illustrative"
        || compliance.figures == "illustrative"
        || reconciliation
            .iter()
            .any(|r| r.get("illustrative") == Some(&Value::Bool(true)));
    Ok(json!({
        "type": ["Product"],
        "id": lot.id,
        "registeredId": lot.id,
        "name": format!("{} {}", lot.commodity, lot.form),
        "productCategory": lot.commodity,
        "form": lot.form,
        "dimensions": {"weight": {"value": lot.wet_mass_kg, "unit": "KGM"}},
        "dryMassKg": lot.dry_mass_kg,
        "moisturePercent": lot.moisture_percent,
        "custodian": lot.custodian,
        "lotRecordIndex": lot.lot_record_index,
        "figures": if illustrative { "illustrative" } else { "reported" },
        "assays": to_value(&assays)?,
        "upstreamLots": answer.upstream_lots,
        "materialsProvenance": to_value(&answer.elements)?,
        "origins": to_value(&answer.origins)?,
        "traceabilityInformation": to_value(&answer.steps)?,
        "custodyChain": to_value(&answer.custody)?,
        "sitesPassed": to_value(&answer.sites)?,
        "reconciliation": reconciliation,
        "compliance": to_value(&compliance.packs)?,
        "verdictRecords": to_value(&compliance.evidence)?,
        "records": to_value(&answer.evidence)?,
    }))
}

/// The latest assay (and its index) per element.
type LatestAssays = BTreeMap<&'static str, (u64, Assay)>;

/// The latest assay of each element of the lot, and the lot's shipments,
/// read from its own records.
fn own_records<S: Store>(store: &S, id: &str) -> Result<(LatestAssays, Vec<String>), ApiError> {
    let mut assays = BTreeMap::new();
    let mut shipments = Vec::new();
    for index in store.lot_events(id)? {
        for record in stated(store, index)?.records {
            match record {
                Record::Assay(a) if a.lot.as_str() == id => {
                    assays.insert(a.analyte.element().symbol(), (index, a));
                }
                Record::Shipment(s)
                    if s.lots.iter().any(|l| l.as_str() == id)
                        && !shipments.contains(&s.id.to_string()) =>
                {
                    shipments.push(s.id.to_string());
                }
                _ => {}
            }
        }
    }
    Ok((assays, shipments))
}

/// Everything the passport states, built at the store's present state.
fn subject_of<S: Store>(
    store: &S,
    id: &str,
    limits: oretrace_ledger::provenance::ProvenanceLimits,
    packs: &[oretrace_provenance::rules::RulePack],
) -> Result<Option<Value>, ApiError> {
    let Some(state) = store.lot(id)? else {
        return Ok(None);
    };
    let Some(answer) = crate::registry::provenance_answer(store, id, limits)? else {
        return Ok(None);
    };
    let (assays, shipments) = own_records(store, id)?;
    if shipments.len() > MAX_PASSPORT_SHIPMENTS {
        return Err(ApiError::AnswerTooLarge {
            detail: format!(
                "lot {id} was shipped {} times; a passport reconciles at most \
                 {MAX_PASSPORT_SHIPMENTS} shipments (ask GET /shipments/{{id}}/reconciliation \
                 for each)",
                shipments.len()
            ),
            limit: MAX_PASSPORT_SHIPMENTS,
        });
    }
    let (_, assays) = grades(&assays, state.moisture())?;
    let mut reconciliation = Vec::new();
    for shipment in &shipments {
        // Only this lot's comparison: the other lots of the shipment have
        // passports of their own, and reconciling them here would let a
        // shipment of many lots make this passport costly.
        let Some(r) =
            shipment_reconciliation(store, shipment, &ReconcileTolerance::default(), Some(id))?
        else {
            continue;
        };
        let r = to_value(&r)?;
        if r.get("status").and_then(Value::as_str) != Some("received") {
            continue;
        }
        reconciliation.push(r);
    }
    let moisture = state.moisture().value();
    let wet = state.current_mass().kilograms();
    let facts = LotFacts {
        id: id.to_owned(),
        commodity: state.commodity().to_string(),
        form: state.form().as_str(),
        wet_mass_kg: text(wet),
        dry_mass_kg: text(
            wet * (rust_decimal::Decimal::ONE - moisture / rust_decimal::Decimal::ONE_HUNDRED),
        ),
        moisture_percent: text(moisture),
        custodian: state.custodian().to_string(),
        lot_record_index: state.index(),
    };
    // The verdicts on the provenance answer already read: no second walk.
    let chosen: Vec<&oretrace_provenance::rules::RulePack> = packs.iter().collect();
    let compliance =
        oretrace_ledger::compliance::judge(store, &answer, &chosen, &[]).map_err(|e| match e {
            ComplianceError::Provenance(ProvenanceError::Store(e)) | ComplianceError::Store(e) => {
                ApiError::from(e)
            }
            other => ApiError::internal(format!("the verdicts on lot {id}: {other}")),
        })?;
    credential_subject(&facts, &answer, &assays, &reconciliation, &compliance).map(Some)
}

/// The receipts of `indices` against the published checkpoint, which must
/// cover every one of them (a record sequenced a moment ago may not be
/// covered yet: the checkpoint is read again for a while).
fn receipts<S: Store>(
    ledger: &Ledger<S>,
    indices: &BTreeSet<u64>,
    cosigned: Option<Vec<u8>>,
) -> Result<(oretrace_tlog::checkpoint::Checkpoint, String, Vec<Value>), ApiError> {
    let last = indices.last().copied().unwrap_or(0);
    // The checkpoint the witnesses' quorum cosigned, when it covers every
    // record: receipts against it carry the cosignatures.
    let witnessed = cosigned.and_then(|note| {
        let key = oretrace_tlog::note::NoteVerifier::from_vkey(&ledger.vkey()).ok()?;
        let (checkpoint, _) = oretrace_tlog::checkpoint::Checkpoint::open(&note, &key).ok()?;
        (last < checkpoint.size()).then_some((checkpoint, note))
    });
    let mut tries = 0;
    let (checkpoint, note) = if let Some(w) = witnessed {
        w
    } else {
        loop {
            let (checkpoint, note) = ledger.checkpoint()?;
            if last < checkpoint.size() {
                break (checkpoint, note);
            }
            tries += 1;
            if tries > 50 {
                return Err(ApiError::Refused(Refusal::Unavailable(format!(
                    "record {last} is not yet covered by a published checkpoint; retry in a moment"
                ))));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    let note = String::from_utf8(note)
        .map_err(|_| ApiError::internal("the checkpoint note is not UTF-8"))?;
    let store = ledger.store();
    let mut out = Vec::with_capacity(indices.len());
    let mut bytes = 0usize;
    for &index in indices {
        let entry = store
            .read_entries(index, 1)?
            .pop()
            .ok_or_else(|| ApiError::internal(format!("entry {index} vanished")))?;
        let kind = SignedRecord::from_entry(&entry)
            .map_err(|e| ApiError::internal(format!("stored entry {index} does not parse: {e}")))?
            .record()
            .kind();
        let proof = prove_inclusion(index, checkpoint.size(), &StoreHashes(store))
            .map_err(|e| ApiError::internal(format!("the proof of entry {index}: {e}")))?;
        let receipt = Receipt {
            extra: Some(entry),
            index,
            proof,
            checkpoint: note.clone().into_bytes(),
        };
        let receipt = String::from_utf8(receipt.to_bytes())
            .map_err(|_| ApiError::internal(format!("the receipt of entry {index}")))?;
        bytes = bytes.saturating_add(receipt.len());
        if bytes > MAX_PASSPORT_RECEIPT_BYTES {
            return Err(ApiError::AnswerTooLarge {
                detail: format!(
                    "the records this passport rests on make more than {MAX_PASSPORT_RECEIPT_BYTES} \
                     bytes of receipts (the bound); fetch them one by one from \
                     GET /records/{{index}}/receipt"
                ),
                limit: MAX_PASSPORT_RECEIPT_BYTES,
            });
        }
        out.push(passport::receipt_evidence(index, kind, &receipt));
    }
    Ok((checkpoint, note, out))
}

/// The signed passport of lot `id`, or `None` when no such lot is
/// registered.
fn issue<S: Store>(
    ledger: &Ledger<S>,
    key: &CredentialKey,
    id: &str,
    limits: oretrace_ledger::provenance::ProvenanceLimits,
    packs: &[oretrace_provenance::rules::RulePack],
    cosigned: Option<Vec<u8>>,
) -> Result<Option<String>, ApiError> {
    let Some(subject) = subject_of(ledger.store(), id, limits, packs)? else {
        return Ok(None);
    };
    let mut indices = passport::cited_indices(&subject);
    if let Some(records) = subject.get("records").and_then(Value::as_array) {
        indices.extend(records.iter().filter_map(|r| r.get("index")?.as_u64()));
    }
    if indices.len() > MAX_PASSPORT_RECEIPTS {
        return Err(ApiError::AnswerTooLarge {
            detail: format!(
                "the passport of lot {id} rests on {} records; a passport carries at most \
                 {MAX_PASSPORT_RECEIPTS} receipts (the bound); ask GET /lots/{{id}}/provenance \
                 and fetch the receipts one by one",
                indices.len()
            ),
            limit: MAX_PASSPORT_RECEIPTS,
        });
    }
    let (checkpoint, note, receipts) = receipts(ledger, &indices, cosigned)?;
    let mut evidence = vec![passport::checkpoint_evidence(&checkpoint, &note)];
    evidence.extend(receipts);
    let origin = ledger.origin();
    let credential = json!({
        "@context": [VC_CONTEXT],
        "type": ["VerifiableCredential", "DigitalProductPassport"],
        "id": format!("urn:oretrace:passport:{}:{}", checkpoint.size(), id),
        "name": format!("Lot passport of {id}"),
        "issuer": {"id": format!("https://{origin}"), "name": origin},
        "validFrom": crate::epcis::now_rfc3339(),
        "credentialSubject": subject,
        "evidence": evidence,
    });
    let payload = serde_json::to_vec(&credential)
        .map_err(|e| ApiError::internal(format!("the passport: {e}")))?;
    Ok(Some(key.sign_compact(&passport::header(key), &payload)))
}

fn no_key() -> ApiError {
    ApiError::NotFound(
        "this registry has no credential key, so it issues no passports (oretrace serve and \
         demo create one in the data directory)"
            .into(),
    )
}

/// `GET /lots/{id}/passport`: the compact JWS, `application/vc+jwt`.
pub(crate) async fn passport<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    crate::registry::no_parameters(&pairs, "a lot passport")?;
    let key = state.credential.clone().ok_or_else(no_key)?;
    let limits = state.config.provenance;
    let packs = state.config.rule_packs;
    let _turn = state.upstream_turn().await?;
    let cosigned = state
        .witnessing
        .as_ref()
        .and_then(|w| w.cosigned())
        .map(|(_, note)| note);
    let jws = blocking(&state.ledger, {
        let id = id.clone();
        move |ledger| issue(ledger, &key, &id, limits, packs, cosigned)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no lot {id:?} is registered")))?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE))],
        jws,
    )
        .into_response())
}

/// `GET /.well-known/jwks.json`: the registry's credential key as a JWK
/// set.
pub(crate) async fn jwks<S: Store>(
    State(state): State<AppState<S>>,
) -> Result<Json<Value>, ApiError> {
    let key = state.credential.clone().ok_or_else(no_key)?;
    Ok(Json(jwk_set(&[key.public().clone()])))
}
