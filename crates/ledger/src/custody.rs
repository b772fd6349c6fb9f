//! Chain-of-custody declarations and claims (ISO 22095), as the ledger
//! rules them (`docs/design/provenance.md`, "Declarations and claims"):
//! a site's operator declares the model it keeps an attribute under for a
//! period; a lot's custodian claims the attribute for a share of an
//! element, and the claim is judged against the declaration when it
//! arrives (identity preserved, segregated and controlled blending refuse
//! a claim the inputs do not bear; mass balance books it in the period's
//! account, which the site's answer flags).

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::Serialize;

use oretrace_domain::custody::{AttributeClaim, CustodyModel, CustodyModelKind};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::record::{Figures, Record};
use oretrace_domain::values::{LotId, SiteId, Timestamp, format_decimal};
use oretrace_provenance::graph::Transformation;
use oretrace_provenance::models::{Claim, Model, judge_site};

use crate::provenance::{ProvenanceError, ProvenanceLimits, read_upstream};
use crate::rules::{Refusal, Signers, existing_site, not_before, require_signer, unprocessable};
use crate::state::{Change, MAX_CUSTODY_MODELS, SiteState};
use crate::store::StateView;

/// The key a site's entries (its transformations and the claims judged
/// under its declarations) are kept under in the entries-by-lot index:
/// `site:<id>`, which no lot id can be (lot ids are URNs or http(s) URIs).
pub fn site_key(site: &str) -> String {
    format!("site:{site}")
}

/// The pure crate's name for a model.
pub fn model_of(kind: CustodyModelKind) -> Model {
    match kind {
        CustodyModelKind::IdentityPreserved => Model::IdentityPreserved,
        CustodyModelKind::Segregated => Model::Segregated,
        CustodyModelKind::ControlledBlending => Model::ControlledBlending,
        CustodyModelKind::MassBalance => Model::MassBalance,
    }
}

/// A site's declarations, with the log index of each, oldest first.
pub(crate) fn declarations(
    view: &(impl StateView + ?Sized),
    site: &SiteState,
) -> Result<Vec<(u64, CustodyModel)>, Refusal> {
    let mut out = Vec::with_capacity(site.custody_models().len());
    for &index in site.custody_models() {
        let bytes = view
            .entry(index)?
            .ok_or_else(|| Refusal::Internal(format!("entry {index} is not stored")))?;
        let signed = SignedRecord::from_entry(&bytes)
            .map_err(|e| Refusal::Internal(format!("entry {index} does not parse: {e}")))?;
        match signed.record() {
            Record::CustodyModel(m) => out.push((index, m.clone())),
            other => {
                return Err(Refusal::Internal(format!(
                    "entry {index} of site {}'s declarations is a {} record",
                    site.id(),
                    other.kind()
                )));
            }
        }
    }
    Ok(out)
}

fn period(from: Timestamp, until: Option<Timestamp>) -> String {
    match until {
        Some(u) => format!("from {from} until {u}"),
        None => format!("from {from}"),
    }
}

/// A `custody-model` record: the site's operator declares it, for
/// existing specified sites, over a period no earlier declaration of the
/// attribute at the site overlaps.
pub(crate) fn declare(
    view: &impl StateView,
    signers: &Signers,
    m: &CustodyModel,
    index: u64,
    changes: &mut Vec<Change>,
) -> Result<(), Refusal> {
    let site = existing_site(view, m.site.as_str(), "site")?;
    require_signer(
        signers,
        site.operator().as_str(),
        &format!("the chain-of-custody model of site {}", m.site),
    )?;
    not_before(
        m.time,
        site.record().time,
        &format!("site {}", m.site),
        "time",
    )?;
    for (i, s) in m.specified.iter().enumerate() {
        existing_site(view, s.as_str(), &format!("specified[{i}]"))?;
    }
    if site.custody_models().len() >= MAX_CUSTODY_MODELS {
        return Err(unprocessable(
            "site",
            format!(
                "site {} already keeps {MAX_CUSTODY_MODELS} chain-of-custody declarations, the most a site keeps",
                m.site
            ),
        ));
    }
    for (at, earlier) in declarations(view, &site)? {
        if earlier.attribute == m.attribute && earlier.overlaps(m.from, m.until) {
            return Err(unprocessable(
                "from",
                format!(
                    "site {} already declares {} for \"{}\" {} (log index {at}); a declaration's period may not overlap an earlier one",
                    m.site,
                    earlier.model,
                    m.attribute,
                    period(earlier.from, earlier.until)
                ),
            ));
        }
    }
    changes.push(Change::PutSite(site.with_custody_model(index)));
    Ok(())
}

fn too_large(lot: &LotId, e: ProvenanceError) -> Refusal {
    match e {
        ProvenanceError::Store(e) => Refusal::from(e),
        ProvenanceError::TooLarge { detail, .. } => unprocessable(
            "lot",
            format!(
                "the claim cannot be judged: the provenance of lot {lot} is too large ({detail})"
            ),
        ),
        ProvenanceError::Graph { why, .. } => Refusal::Internal(why),
    }
}

fn share_text(d: Decimal) -> String {
    format_decimal(&d.round_dp(6).normalize())
}

/// An `attribute-claim` record: the lot's custodian claims it for a
/// transformation's output, under the declaration of the transformation's
/// site that holds at the transformation's time, and the model must bear
/// it.
pub(crate) fn claim(
    view: &impl StateView,
    signers: &Signers,
    c: &AttributeClaim,
    index: u64,
    changes: &mut Vec<Change>,
) -> Result<(), Refusal> {
    let lot = view
        .lot(c.lot.as_str())?
        .ok_or_else(|| unprocessable("lot", format!("lot {} does not exist", c.lot)))?;
    require_signer(
        signers,
        lot.custodian().as_str(),
        &format!("a claim on lot {}", c.lot),
    )?;
    let limits = ProvenanceLimits::default();
    let up = read_upstream(view, c.lot.as_str(), limits).map_err(|e| too_large(&c.lot, e))?;
    let produced_by = up
        .graph
        .lot(&c.lot)
        .and_then(|l| l.produced_by.clone())
        .ok_or_else(|| {
            unprocessable(
                "lot",
                format!(
                    "lot {} was not produced by a transformation: an origin lot's attribute is its site's own, and attributes are claimed for a transformation's outputs",
                    c.lot
                ),
            )
        })?;
    let t: Transformation = up
        .graph
        .transformation(&produced_by)
        .cloned()
        .ok_or_else(|| Refusal::Internal(format!("transformation {produced_by} vanished")))?;
    not_before(
        c.time,
        t.time,
        &format!("transformation {}, which made lot {}", t.id, c.lot),
        "time",
    )?;
    let site = existing_site(view, t.site.as_str(), "lot")?;
    let (declared_at, declaration) = declarations(view, &site)?
        .into_iter()
        .find(|(_, m)| m.attribute == c.attribute && m.holds_at(t.time))
        .ok_or_else(|| {
            unprocessable(
                "attribute",
                format!(
                    "site {} declares no chain-of-custody model for \"{}\" at {}, when transformation {} made lot {}",
                    t.site, c.attribute, t.time, t.id, c.lot
                ),
            )
        })?;
    let model = declaration.model;
    if model != CustodyModelKind::MassBalance {
        // The specified share is computed from every input's grade: an
        // input not assayed for the element leaves it unknown.
        for (input, _) in &t.inputs {
            let graded = up
                .graph
                .lot(input)
                .is_some_and(|l| l.grade(c.element).is_some());
            if !graded {
                return Err(refused(
                    &declaration,
                    declared_at,
                    c,
                    &t,
                    format!(
                        "input {input} is not assayed for {}, so the specified share of {} cannot be computed",
                        c.element.symbol(),
                        c.element.symbol()
                    ),
                ));
            }
        }
    }
    let specified: BTreeSet<SiteId> = declaration.specified.iter().cloned().collect();
    let report = judge_site(
        &up.graph,
        &t.site,
        t.time,
        Timestamp::from_unix(t.time.unix().saturating_add(1)),
        model_of(model),
        &specified,
        &[Claim {
            lot: c.lot.clone(),
            element: c.element,
            share: c.share,
        }],
        limits.graph,
    )
    .map_err(|e| too_large(&c.lot, ProvenanceError::from_graph(c.lot.as_str(), e)))?;
    if model != CustodyModelKind::MassBalance
        && let Some(f) = report
            .findings
            .iter()
            .find(|f| f.element == c.element && f.transformation.as_ref() == Some(&t.id))
    {
        // Under identity preserved and segregated a mixed output is
        // eligible for none; controlled blending names the computed share.
        let mut why = match model {
            CustodyModelKind::ControlledBlending => f.what.clone(),
            _ => format!(
                "{}, so no share of it is eligible; claimed {}",
                f.what,
                share_text(c.share)
            ),
        };
        if let Some(kg) = up.graph.lot(&c.lot).and_then(|l| l.contained_kg(c.element)) {
            why.push_str(&format!(
                " ({} kg of the lot's {} kg of {})",
                share_text(kg * c.share),
                share_text(kg),
                c.element.symbol()
            ));
        }
        return Err(refused(&declaration, declared_at, c, &t, why));
    }
    changes.push(Change::LotEvent {
        lot: c.lot.to_string(),
        index,
    });
    changes.push(Change::LotEvent {
        lot: site_key(t.site.as_str()),
        index,
    });
    Ok(())
}

fn refused(
    declaration: &CustodyModel,
    declared_at: u64,
    c: &AttributeClaim,
    t: &Transformation,
    why: String,
) -> Refusal {
    unprocessable(
        "share",
        format!(
            "chain of custody: site {} declares {} for \"{}\" (log index {declared_at}); lot {} of transformation {}, {}: {why}",
            declaration.site,
            declaration.model,
            declaration.attribute,
            c.lot,
            t.id,
            c.element.symbol()
        ),
    )
}

/// Most transformations one site answer judges.
pub const MAX_JUDGED: usize = 1_000;

/// A claim in a site's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimJson {
    pub index: u64,
    pub lot: String,
    pub element: &'static str,
    pub share: String,
    pub transformation: String,
}

/// A transformation judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JudgedJson {
    pub id: String,
    pub index: u64,
    pub time: String,
}

/// Something the model refuses or flags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingJson {
    pub transformation: Option<String>,
    pub lot: Option<String>,
    pub element: &'static str,
    pub what: String,
}

/// Specified element booked in and claimed out, per element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountJson {
    pub element: &'static str,
    pub specified_in_kg: String,
    pub claimed_out_kg: String,
    /// Claimed out within specified in (mass balance judges it).
    pub holds: bool,
    /// Log indices of the transformations (credits) and claims (debits).
    pub evidence: Vec<u64>,
}

/// One declaration of the site, judged over the asked period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeclarationJson {
    pub index: u64,
    pub attribute: String,
    pub model: &'static str,
    pub specified: Vec<String>,
    pub from: String,
    pub until: Option<String>,
    pub transformations: Vec<JudgedJson>,
    pub claims: Vec<ClaimJson>,
    pub findings: Vec<FindingJson>,
    pub accounts: Vec<AccountJson>,
    pub holds: bool,
}

/// `GET /sites/{id}/custody-model`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustodyAnswer {
    pub site: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub declarations: Vec<DeclarationJson>,
    /// `illustrative` when any record read is.
    pub figures: &'static str,
}

fn refusal_error(e: Refusal) -> ProvenanceError {
    match e {
        Refusal::Internal(why) => ProvenanceError::Graph {
            lot: String::new(),
            why,
        },
        other => ProvenanceError::Graph {
            lot: String::new(),
            why: other.to_string(),
        },
    }
}

fn kg(d: Decimal) -> String {
    format_decimal(&d.round_dp(6).normalize())
}

/// The site's declarations overlapping `[from, to)`, each judged over
/// the part of its period inside it: the site's transformations there,
/// the claims made on their outputs, the findings and the account per
/// element. `None` when no such site is registered. Bounded: at most
/// `limits.max_records` entries read in all and [`MAX_JUDGED`]
/// transformations judged (413 naming the bound past either).
pub fn custody_answer<S: crate::store::Store>(
    store: &S,
    site_id: &str,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    limits: ProvenanceLimits,
) -> Result<Option<CustodyAnswer>, ProvenanceError> {
    let Some(site) = store.site(site_id)? else {
        return Ok(None);
    };
    let mut illustrative = site.record().figures == Figures::Illustrative;
    let declared = declarations(store, &site).map_err(refusal_error)?;
    let indices = store.lot_entries(&site_key(site_id))?;
    let too_many = |what: String, limit: usize| ProvenanceError::TooLarge {
        detail: what,
        limit,
    };
    if indices.len() > limits.max_records {
        return Err(too_many(
            format!(
                "site {site_id} has {} entries, more than the {} one answer reads",
                indices.len(),
                limits.max_records
            ),
            limits.max_records,
        ));
    }
    let mut records_read = indices.len();
    let in_asked = |t: Timestamp| from.is_none_or(|f| t >= f) && to.is_none_or(|u| t < u);
    let mut steps: Vec<(u64, oretrace_domain::record::Transformation)> = Vec::new();
    let mut claims: Vec<(u64, AttributeClaim)> = Vec::new();
    for index in indices {
        let bytes = store.entry(index)?.ok_or_else(|| {
            refusal_error(Refusal::Internal(format!("entry {index} is not stored")))
        })?;
        let signed = SignedRecord::from_entry(&bytes).map_err(|e| {
            refusal_error(Refusal::Internal(format!(
                "entry {index} does not parse: {e}"
            )))
        })?;
        let stated = match signed.record() {
            Record::Event(event) => oretrace_epcis_map::interpret(event.event())
                .map(|m| m.records)
                .unwrap_or_default(),
            other => vec![other.clone()],
        };
        for record in stated {
            match record {
                Record::Transformation(t) if t.site.as_str() == site_id && in_asked(t.time) => {
                    steps.push((index, t));
                }
                Record::AttributeClaim(c) => claims.push((index, c)),
                _ => {}
            }
        }
    }
    let mut answer = Vec::new();
    for (declared_at, d) in declared {
        if !d.overlaps(from.unwrap_or(d.from), to) {
            continue;
        }
        illustrative |= d.figures == Figures::Illustrative;
        let specified: BTreeSet<SiteId> = d.specified.iter().cloned().collect();
        let mut judged = Vec::new();
        let mut claims_json = Vec::new();
        let mut findings = Vec::new();
        let mut accounts: std::collections::BTreeMap<&'static str, AccountJson> =
            std::collections::BTreeMap::new();
        let mut totals: std::collections::BTreeMap<&'static str, (Decimal, Decimal)> =
            std::collections::BTreeMap::new();
        for (index, t) in steps.iter().filter(|(_, t)| d.holds_at(t.time)) {
            if judged.len() >= MAX_JUDGED {
                return Err(too_many(
                    format!(
                        "site {site_id} made more than {MAX_JUDGED} transformations under one declaration in the period asked; ask for a shorter period"
                    ),
                    MAX_JUDGED,
                ));
            }
            illustrative |= t.figures == Figures::Illustrative;
            let on_outputs: Vec<&(u64, AttributeClaim)> = claims
                .iter()
                .filter(|(_, c)| {
                    c.attribute == d.attribute && t.outputs.iter().any(|o| o.id == c.lot)
                })
                .collect();
            let Some(first) = t.outputs.first() else {
                continue;
            };
            let up = read_upstream(store, first.id.as_str(), limits)?;
            records_read = records_read.saturating_add(up.records);
            if records_read > limits.max_records {
                return Err(too_many(
                    format!(
                        "the chain-of-custody answer of site {site_id} reads more than {} entries",
                        limits.max_records
                    ),
                    limits.max_records,
                ));
            }
            let report = judge_site(
                &up.graph,
                &t.site,
                t.time,
                Timestamp::from_unix(t.time.unix().saturating_add(1)),
                model_of(d.model),
                &specified,
                &on_outputs
                    .iter()
                    .map(|(_, c)| Claim {
                        lot: c.lot.clone(),
                        element: c.element,
                        share: c.share,
                    })
                    .collect::<Vec<_>>(),
                limits.graph,
            )
            .map_err(|e| ProvenanceError::from_graph(first.id.as_str(), e))?;
            judged.push(JudgedJson {
                id: t.id.to_string(),
                index: *index,
                time: t.time.to_string(),
            });
            for f in report
                .findings
                .iter()
                .filter(|f| f.transformation.as_ref() == Some(&t.id))
            {
                findings.push(FindingJson {
                    transformation: f.transformation.as_ref().map(ToString::to_string),
                    lot: f.lot.as_ref().map(ToString::to_string),
                    element: f.element.symbol(),
                    what: f.what.clone(),
                });
            }
            for a in &report.accounts {
                let sym = a.element.symbol();
                let total = totals.entry(sym).or_insert((Decimal::ZERO, Decimal::ZERO));
                total.0 += a.specified_in_kg;
                total.1 += a.claimed_out_kg;
                accounts
                    .entry(sym)
                    .or_insert_with(|| AccountJson {
                        element: sym,
                        specified_in_kg: String::new(),
                        claimed_out_kg: String::new(),
                        holds: true,
                        evidence: Vec::new(),
                    })
                    .evidence
                    .push(*index);
            }
            for (ci, c) in on_outputs {
                illustrative |= c.figures == Figures::Illustrative;
                claims_json.push(ClaimJson {
                    index: *ci,
                    lot: c.lot.to_string(),
                    element: c.element.symbol(),
                    share: share_text(c.share),
                    transformation: t.id.to_string(),
                });
                if let Some(a) = accounts.get_mut(c.element.symbol()) {
                    a.evidence.push(*ci);
                }
            }
        }
        for (sym, a) in &mut accounts {
            let (specified_in, claimed_out) = totals.get(sym).copied().unwrap_or_default();
            a.specified_in_kg = kg(specified_in);
            a.claimed_out_kg = kg(claimed_out);
            a.holds = claimed_out <= specified_in;
            a.evidence.sort_unstable();
            // Under any model, more claimed out than came in is a finding
            // (under the per-lot models, several claims on one lot can
            // add up beyond it).
            if !a.holds {
                findings.push(FindingJson {
                    transformation: None,
                    lot: None,
                    element: a.element,
                    what: format!(
                        "{} kg of {} claimed as specified over the period, {} kg came in",
                        a.claimed_out_kg, a.element, a.specified_in_kg
                    ),
                });
            }
        }
        answer.push(DeclarationJson {
            index: declared_at,
            attribute: d.attribute.to_string(),
            model: d.model.as_str(),
            specified: d.specified.iter().map(ToString::to_string).collect(),
            from: d.from.to_string(),
            until: d.until.map(|u| u.to_string()),
            transformations: judged,
            claims: claims_json,
            holds: findings.is_empty(),
            findings,
            accounts: accounts.into_values().collect(),
        });
    }
    Ok(Some(CustodyAnswer {
        site: site_id.to_owned(),
        from: from.map(|f| f.to_string()),
        to: to.map(|t| t.to_string()),
        declarations: answer,
        figures: if illustrative {
            "illustrative"
        } else {
            "reported"
        },
    }))
}
