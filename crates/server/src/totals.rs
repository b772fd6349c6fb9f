//! `GET /pledges/totals?by=party|country|agreement`: pledged against
//! delivered over every agreement, per party, per country or per
//! agreement, and in each unit (a currency, `kg`, a count's unit: never
//! converted), with what was delivered year by year.
//!
//! A pledge counts under every party of its agreement (and every country
//! of those parties): an agreement binds all of them, and the records do
//! not say which party pledged what. Computed from the projections on each
//! request, reading at most [`MAX_AGREEMENTS`] agreements (a registry
//! with more is answered 413 naming the limit, never a partial sum).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::response::Json;
use oretrace_domain::values::format_decimal;
use oretrace_ledger::Store;
use oretrace_ledger::agreements::Select;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{ApiError, AppState, blocking};

/// Most agreements one totals request reads.
pub const MAX_AGREEMENTS: usize = 20_000;
/// Agreements read per store call.
const PAGE: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum By {
    Party,
    Country,
    Agreement,
}

#[derive(Debug, Default)]
struct Sum {
    pledged: Decimal,
    delivered: Decimal,
    agreements: u32,
    by_year: BTreeMap<i32, Decimal>,
}

#[derive(Debug, Serialize)]
struct Year {
    year: i32,
    delivered: String,
    /// Delivered up to the end of that year.
    cumulative: String,
}

#[derive(Debug, Serialize)]
struct Total {
    /// The party id, country code or agreement id.
    key: String,
    /// Currency code, `kg`, or a count's unit.
    unit: String,
    pledged: String,
    delivered: String,
    agreements: u32,
    by_year: Vec<Year>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Totals {
    by: &'static str,
    agreements: usize,
    totals: Vec<Total>,
    /// Whether an illustrative figure is in any of the sums.
    illustrative: bool,
    note: &'static str,
}

fn checked(a: Decimal, b: Decimal) -> Result<Decimal, ApiError> {
    a.checked_add(b).ok_or_else(|| {
        ApiError::Refused(oretrace_ledger::rules::Refusal::Internal(
            "a total overflows".into(),
        ))
    })
}

pub(crate) async fn totals<S: Store>(
    State(state): State<AppState<S>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Totals>, ApiError> {
    let mut by = None;
    for (name, value) in &pairs {
        match name.as_str() {
            "by" if by.is_none() => {
                by = Some(match value.as_str() {
                    "party" => By::Party,
                    "country" => By::Country,
                    "agreement" => By::Agreement,
                    _ => {
                        return Err(ApiError::InvalidRequest {
                            field: "by".into(),
                            rule: "by=party, by=country or by=agreement".into(),
                        });
                    }
                });
            }
            "by" => {
                return Err(ApiError::InvalidRequest {
                    field: "by".into(),
                    rule: "given more than once: give each parameter once".into(),
                });
            }
            other => {
                let other = crate::error::echo(other);
                return Err(ApiError::InvalidRequest {
                    rule: format!("unknown query parameter `{other}`: /pledges/totals takes by"),
                    field: other,
                });
            }
        }
    }
    let by = by.unwrap_or(By::Party);
    let (sums, count, illustrative) = blocking(&state.ledger, move |ledger| {
        let store = ledger.store();
        let mut sums: BTreeMap<(String, String), Sum> = BTreeMap::new();
        let mut after: Option<String> = None;
        let mut count = 0usize;
        let mut illustrative = false;
        loop {
            let page = store.agreements(&Select {
                after: after.clone(),
                limit: PAGE,
                ..Select::default()
            })?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.to_string());
            count += page.len();
            if count > MAX_AGREEMENTS {
                return Ok(Err(count));
            }
            for a in &page {
                illustrative |= a.figures == oretrace_domain::record::Figures::Illustrative;
                let keys: Vec<String> = match by {
                    By::Party => a.parties.iter().map(ToString::to_string).collect(),
                    By::Country => a.countries.iter().map(ToString::to_string).collect(),
                    By::Agreement => vec![a.id.to_string()],
                };
                // Delivered per pledge per year, from the progress reports.
                let mut years: BTreeMap<(String, i32), Decimal> = BTreeMap::new();
                let mut progress_after = None;
                loop {
                    let reports = store.progress(a.id.as_str(), progress_after, PAGE)?;
                    let Some(last) = reports.last() else { break };
                    progress_after = Some(last.index());
                    for r in &reports {
                        let record = r.record();
                        if let Some(q) = &record.delivered {
                            let year = record.date.year();
                            *years.entry((record.pledge.to_string(), year)).or_default() += q.amount();
                        }
                    }
                    if reports.len() < PAGE {
                        break;
                    }
                }
                for p in &a.pledges {
                    let (Some(pledged), Some(unit)) = (p.pledged, &p.unit) else {
                        continue;
                    };
                    for key in &keys {
                        let sum = sums.entry((key.clone(), unit.clone())).or_default();
                        sum.pledged = sum.pledged.checked_add(pledged).unwrap_or(Decimal::MAX);
                        sum.delivered = sum.delivered.checked_add(p.delivered).unwrap_or(Decimal::MAX);
                        sum.agreements += 1;
                        for ((pledge, year), amount) in &years {
                            if *pledge == p.id.as_str() {
                                let y = sum.by_year.entry(*year).or_default();
                                *y = y.checked_add(*amount).unwrap_or(Decimal::MAX);
                            }
                        }
                    }
                }
            }
            if page.len() < PAGE {
                break;
            }
        }
        Ok(Ok((sums, count, illustrative)))
    })
    .await?
    .map_err(|count| ApiError::AnswerTooLarge {
        detail: format!(
            "more than {MAX_AGREEMENTS} agreements ({count} read): totals over the whole registry are not computed on request; use /agreements/{{id}}/pledges or the CSV exports"
        ),
        limit: MAX_AGREEMENTS,
    })?;
    let mut totals = Vec::new();
    for ((key, unit), sum) in sums {
        let mut cumulative = Decimal::ZERO;
        let mut by_year = Vec::new();
        for (year, delivered) in sum.by_year {
            cumulative = checked(cumulative, delivered)?;
            by_year.push(Year {
                year,
                delivered: format_decimal(&delivered),
                cumulative: format_decimal(&cumulative),
            });
        }
        totals.push(Total {
            key,
            unit,
            pledged: format_decimal(&sum.pledged),
            delivered: format_decimal(&sum.delivered),
            agreements: sum.agreements,
            by_year,
        });
    }
    Ok(Json(Totals {
        by: match by {
            By::Party => "party",
            By::Country => "country",
            By::Agreement => "agreement",
        },
        agreements: count,
        totals,
        illustrative,
        note: "A pledge counts under every party of its agreement and every country of those parties; amounts are never converted between units.",
    }))
}
