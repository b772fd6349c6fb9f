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

use oretrace_domain::custody::{AttributeClaim, CustodyModel, CustodyModelKind};
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::record::Record;
use oretrace_domain::values::{LotId, SiteId, Timestamp, format_decimal};
use oretrace_provenance::graph::Transformation;
use oretrace_provenance::models::{Claim, Model, judge_site};

use crate::provenance::{ProvenanceError, ProvenanceLimits, read_upstream};
use crate::rules::{Refusal, Signers, existing_site, require_signer, unprocessable};
use crate::state::{Change, MAX_CUSTODY_MODELS, SiteState};
use crate::store::StateView;

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
