//! The ISO 22095 chain-of-custody models, judged per site and period:
//! identity preserved, segregated, controlled blending and mass balance.
//! "Specified" material is material whose element comes from origin sites
//! a claim names (certified under a scheme, outside a covered country…);
//! the caller says which sites those are and which outputs are claimed
//! as specified, and in what share.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use oretrace_domain::chemistry::Element;
use oretrace_domain::values::{LotId, SiteId, Timestamp, Token};

use crate::Error;
use crate::attribute::{ElementShares, attribute};
use crate::graph::{Limits, LotGraph, dry};

/// The four ISO 22095 models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// No mixing at all: every output comes from one origin site.
    IdentityPreserved,
    /// Mixing of specified material only.
    Segregated,
    /// Mixing, with the specified share of each output known and claimed
    /// no higher than it is.
    ControlledBlending,
    /// Mixing, with specified content booked per element over the period:
    /// claimed out never more than came in.
    MassBalance,
}

/// An output claimed as specified, in a share of one element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub lot: LotId,
    pub element: Element,
    /// A fraction, 0 to 1.
    pub share: Decimal,
}

/// Something a model refuses or flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub transformation: Option<Token>,
    pub lot: Option<LotId>,
    pub element: Element,
    pub what: String,
}

/// Specified element booked in and claimed out over the period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub element: Element,
    /// Specified element in the consumed inputs, kg.
    pub specified_in_kg: Decimal,
    /// Element claimed as specified in the outputs, kg.
    pub claimed_out_kg: Decimal,
}

/// A site's transformations in a period judged against one model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteReport {
    pub site: SiteId,
    pub model: Model,
    /// Transformations at the site in the period, by time.
    pub transformations: Vec<Token>,
    /// Empty when the model holds.
    pub findings: Vec<Finding>,
    /// Per element (every model books it; only mass balance judges it).
    pub accounts: Vec<Account>,
}

impl SiteReport {
    pub fn holds(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Shares are exact decimals of 28 digits: a sum of shares that should be
/// 1 may miss it by this much.
const ROUNDING: Decimal = Decimal::from_parts(1, 0, 0, false, 20);

/// The specified share of one element's shares.
fn specified_share(shares: &ElementShares, specified: &BTreeSet<SiteId>) -> Decimal {
    shares
        .by_site
        .iter()
        .filter(|s| specified.contains(s.site))
        .map(|s| s.share)
        .sum()
}

/// Judges the transformations at `site` with `from <= time < until`
/// against `model`. Each input's provenance is computed within `limits`.
#[expect(
    clippy::too_many_arguments,
    reason = "a site, a period, a model, the specified origins and the claims: each a separate fact the caller states"
)]
pub fn judge_site(
    graph: &LotGraph,
    site: &SiteId,
    from: Timestamp,
    until: Timestamp,
    model: Model,
    specified: &BTreeSet<SiteId>,
    claims: &[Claim],
    limits: Limits,
) -> Result<SiteReport, Error> {
    let mut steps: Vec<_> = graph
        .transformations()
        .filter(|t| t.site == *site && t.time >= from && t.time < until)
        .collect();
    steps.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    let mut findings = Vec::new();
    let mut accounts: BTreeMap<&'static str, Account> = BTreeMap::new();
    for t in &steps {
        let by = format!("transformation {}", t.id);
        // Per input: its lot's provenance and dry kg consumed.
        let mut inputs = Vec::with_capacity(t.inputs.len());
        for (id, consumed) in &t.inputs {
            let lot = graph.need_lot(id, &by)?;
            let provenance = attribute(graph, id, limits)?;
            inputs.push((lot, provenance, dry(consumed.kilograms(), lot.moisture)));
        }
        let mut elements: BTreeMap<&'static str, Element> = BTreeMap::new();
        for (lot, _, _) in &inputs {
            for g in &lot.grades {
                elements.insert(g.element().symbol(), g.element());
            }
        }
        for element in elements.into_values() {
            let mut total = Decimal::ZERO;
            let mut specified_kg = Decimal::ZERO;
            let mut origins: BTreeSet<&SiteId> = BTreeSet::new();
            let mut unknown = false;
            let mut unspecified = false;
            for (lot, provenance, consumed_dry) in &inputs {
                let Some(g) = lot.grade(element) else {
                    continue;
                };
                let c = *consumed_dry * g.percent() / Decimal::ONE_HUNDRED;
                if c.is_zero() {
                    continue;
                }
                let Some(shares) = provenance.element(element) else {
                    continue;
                };
                total += c;
                let spec = specified_share(shares, specified);
                specified_kg += c * spec;
                origins.extend(shares.by_site.iter().map(|s| s.site));
                unknown |= !shares.unknown.is_zero();
                unspecified |= Decimal::ONE - spec > ROUNDING;
            }
            let account = accounts.entry(element.symbol()).or_insert(Account {
                element,
                specified_in_kg: Decimal::ZERO,
                claimed_out_kg: Decimal::ZERO,
            });
            account.specified_in_kg += specified_kg;
            let finding = |what: String| Finding {
                transformation: Some(t.id.clone()),
                lot: None,
                element,
                what,
            };
            match model {
                Model::IdentityPreserved if origins.len() > 1 || unknown => {
                    findings.push(finding(format!(
                        "mixes {} from {} origin sites{}",
                        element.symbol(),
                        origins.len(),
                        if unknown {
                            " and an unknown origin"
                        } else {
                            ""
                        }
                    )));
                }
                Model::Segregated if unspecified => {
                    findings.push(finding(format!(
                        "mixes {} from origins that are not specified",
                        element.symbol()
                    )));
                }
                _ => {}
            }
            let specified_fraction = if total.is_zero() {
                Decimal::ZERO
            } else {
                specified_kg / total
            };
            for claim in claims
                .iter()
                .filter(|c| c.element == element && t.outputs.contains(&c.lot))
            {
                let out = graph.need_lot(&claim.lot, &by)?;
                let contained = out.contained_kg(element).unwrap_or(Decimal::ZERO);
                account.claimed_out_kg += contained * claim.share;
                if model == Model::ControlledBlending && claim.share > specified_fraction {
                    findings.push(Finding {
                        transformation: Some(t.id.clone()),
                        lot: Some(claim.lot.clone()),
                        element,
                        what: format!(
                            "claimed {} specified in {}, computed {}",
                            claim.share.round_dp(6),
                            element.symbol(),
                            specified_fraction.round_dp(6)
                        ),
                    });
                }
            }
        }
    }
    if model == Model::MassBalance {
        for account in accounts.values() {
            if account.claimed_out_kg > account.specified_in_kg {
                findings.push(Finding {
                    transformation: None,
                    lot: None,
                    element: account.element,
                    what: format!(
                        "{} kg of {} claimed as specified over the period, {} kg came in",
                        account.claimed_out_kg.round_dp(6),
                        account.element.symbol(),
                        account.specified_in_kg.round_dp(6)
                    ),
                });
            }
        }
    }
    Ok(SiteReport {
        site: site.clone(),
        model,
        transformations: steps.iter().map(|t| t.id.clone()).collect(),
        findings,
        accounts: accounts.into_values().collect(),
    })
}
