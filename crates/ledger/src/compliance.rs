//! Compliance verdicts for one lot (`docs/design/provenance.md`,
//! "Compliance rule packs"): the facts of its provenance answer (origin
//! shares per element and country, origins, sites passed, custodians)
//! and the ownership and control links of every party looked at, read
//! from the store and handed to the pure evaluator
//! (`oretrace_provenance::rules`). Every verdict names the log indices of
//! the records it rests on; the answer lists each of them with its kind
//! and signers, so a reader fetches their receipts and checks them
//! against a checkpoint without trusting the server.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::str::FromStr as _;

use rust_decimal::Decimal;
use serde::Serialize;

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::record::SiteKind;
use oretrace_domain::values::{Country, PartyId, SiteId, Timestamp};
use oretrace_provenance::attribute::Role;
use oretrace_provenance::rules::{
    self, CustodyFacts, ElementFacts, Facts, OriginFacts, OwnerLink, PackVerdict, PartyFacts,
    RulePack, SiteFacts,
};

use crate::provenance::{
    Evidence, ProvenanceAnswer, ProvenanceError, ProvenanceLimits, Signers, provenance,
};
use crate::store::{Store, StoreError};

/// Most sites one what-if route may name.
pub const MAX_VIA: usize = 16;

/// Why verdicts could not be given.
#[derive(Debug, thiserror::Error)]
pub enum ComplianceError {
    #[error(transparent)]
    Provenance(#[from] ProvenanceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A what-if site the registry does not hold.
    #[error("no site {0:?} is registered")]
    UnknownSite(String),
    /// A what-if route naming a site twice or more than [`MAX_VIA`] sites.
    #[error("a route names at most {MAX_VIA} sites, each once")]
    TooManyVia,
    /// A pack asked for that is not loaded.
    #[error("no rule pack {0:?} is loaded")]
    UnknownPack(String),
    /// The provenance answer holds a value the facts cannot take: the
    /// store is damaged.
    #[error("the provenance of lot {lot} holds {what}")]
    Damaged { lot: String, what: String },
}

/// What the verdicts are about: the record, or a route the material did
/// not take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hypothetical {
    /// The transit sites assumed instead of those passed.
    pub via: Vec<String>,
    /// The transit sites the material did pass, set aside.
    pub replaced: Vec<String>,
    pub note: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingJson {
    pub verdict: &'static str,
    pub what: String,
    pub evidence: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleJson {
    pub rule: String,
    pub says: String,
    pub effect: &'static str,
    pub test: &'static str,
    /// The elements the rule concerns; empty: every element.
    pub elements: Vec<&'static str>,
    /// The day the rule takes effect, when its source gives one.
    pub in_force_from: Option<String>,
    /// `pass`, `fail`, `unproven` or `not-applicable`.
    pub verdict: &'static str,
    pub detail: String,
    pub findings: Vec<FindingJson>,
    /// Log indices of the records the verdict rests on.
    pub evidence: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackJson {
    pub pack: String,
    pub title: String,
    pub version: String,
    pub source: String,
    pub note: String,
    /// SHA-256 of the pack file: `GET /rule-packs/{pack}` serves its bytes.
    pub sha256: String,
    /// The worst of its rules' verdicts.
    pub verdict: &'static str,
    pub rules: Vec<RuleJson>,
}

/// The verdicts of the loaded packs on one lot, as served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComplianceAnswer {
    pub lot: String,
    /// `illustrative` when any record the verdicts rest on is.
    pub figures: &'static str,
    /// Present when the verdicts are about a what-if route.
    pub hypothetical: Option<Hypothetical>,
    pub packs: Vec<PackJson>,
    /// Every record the verdicts rest on (the provenance answer's records
    /// and the party records read), by index.
    pub evidence: Vec<Evidence>,
}

fn damaged(lot: &str, what: String) -> ComplianceError {
    ComplianceError::Damaged {
        lot: lot.to_owned(),
        what,
    }
}

/// The verdicts of `packs` (or of the one named `only`) on lot `id`;
/// `None` when no such lot is registered. With `via`, the verdicts are
/// about the route the material would have taken through those sites
/// instead of every transit site it passed.
pub fn compliance<S: Store>(
    store: &S,
    id: &str,
    limits: ProvenanceLimits,
    packs: &[RulePack],
    only: Option<&str>,
    via: &[String],
) -> Result<Option<ComplianceAnswer>, ComplianceError> {
    let chosen: Vec<&RulePack> = match only {
        Some(name) => vec![
            packs
                .iter()
                .find(|p| p.id == name)
                .ok_or_else(|| ComplianceError::UnknownPack(name.to_owned()))?,
        ],
        None => packs.iter().collect(),
    };
    // A bad what-if costs nothing: checked before the provenance walk.
    if via.len() > MAX_VIA {
        return Err(ComplianceError::TooManyVia);
    }
    for (i, site) in via.iter().enumerate() {
        if via[..i].contains(site) {
            return Err(ComplianceError::TooManyVia);
        }
        if store.site(site)?.is_none() {
            return Err(ComplianceError::UnknownSite(site.clone()));
        }
    }
    let Some(answer) = provenance(store, id, limits)? else {
        return Ok(None);
    };
    judge(store, &answer, &chosen, via).map(Some)
}

/// The verdicts of `chosen` on the lot whose provenance `answer` is
/// (already computed: a caller holding one does not walk the graph
/// again). `via` must have been checked by [`compliance`]'s rules, or be
/// empty.
pub fn judge<S: Store>(
    store: &S,
    answer: &ProvenanceAnswer,
    chosen: &[&RulePack],
    via: &[String],
) -> Result<ComplianceAnswer, ComplianceError> {
    let mut evidence: BTreeMap<u64, Evidence> = answer
        .evidence
        .iter()
        .map(|e| (e.index, e.clone()))
        .collect();
    let mut facts = facts_of(answer)?;
    let hypothetical = if via.is_empty() {
        None
    } else {
        Some(assume_route(store, &mut facts, &mut evidence, via)?)
    };
    read_parties(store, &mut facts, &mut evidence)?;
    for s in &mut facts.sites {
        if s.recorded.is_none() {
            s.recorded = store.site(s.id.as_str())?.map(|st| st.record().time);
        }
    }
    let verdicts: Vec<PackVerdict<'_>> =
        chosen.iter().map(|p| rules::evaluate(p, &facts)).collect();
    let packs: Vec<PackJson> = verdicts.iter().map(pack_json).collect();
    // The answer lists exactly the records its verdicts cite.
    let cited: BTreeSet<u64> = packs
        .iter()
        .flat_map(|p| &p.rules)
        .flat_map(|r| r.evidence.iter().copied())
        .collect();
    let evidence: Vec<Evidence> = evidence
        .into_values()
        .filter(|e| cited.contains(&e.index))
        .collect();
    let figures = if evidence.iter().any(|e| e.figures == "illustrative") {
        "illustrative"
    } else {
        "reported"
    };
    Ok(ComplianceAnswer {
        lot: answer.lot.clone(),
        figures,
        hypothetical,
        packs,
        evidence,
    })
}

fn pack_json(v: &PackVerdict<'_>) -> PackJson {
    PackJson {
        pack: v.pack.id.clone(),
        title: v.pack.title.clone(),
        version: v.pack.version.clone(),
        source: v.pack.source.clone(),
        note: v.pack.note.clone(),
        sha256: v.pack.sha256_hex(),
        verdict: v.outcome.as_str(),
        rules: v
            .rules
            .iter()
            .map(|r| RuleJson {
                rule: r.rule.id.clone(),
                says: r.rule.says.clone(),
                effect: r.rule.effect.as_str(),
                test: r.rule.test.name(),
                elements: r.rule.elements.iter().map(|e| e.symbol()).collect(),
                in_force_from: r.rule.in_force_from.clone(),
                verdict: r.outcome.as_str(),
                detail: r.detail.clone(),
                findings: r
                    .findings
                    .iter()
                    .map(|f| FindingJson {
                        verdict: f.outcome.as_str(),
                        what: f.what.clone(),
                        evidence: f.evidence.clone(),
                    })
                    .collect(),
                evidence: r.evidence.clone(),
            })
            .collect(),
    }
}

/// The facts of a provenance answer, read back from its decimal text
/// (exact: the answer prints every decimal in full).
fn facts_of(answer: &ProvenanceAnswer) -> Result<Facts, ComplianceError> {
    let lot = answer.lot.as_str();
    let dec = |what: &str, text: &str| {
        Decimal::from_str(text).map_err(|_| damaged(lot, format!("{what} {text:?}, not a decimal")))
    };
    let country = |text: &str| {
        Country::parse(text).map_err(|_| damaged(lot, format!("the country {text:?}")))
    };
    let mut elements = Vec::with_capacity(answer.elements.len());
    for e in &answer.elements {
        let element = oretrace_domain::chemistry::Element::parse(e.element)
            .map_err(|_| damaged(lot, format!("the element {:?}", e.element)))?;
        let mut by_country = Vec::with_capacity(e.by_country.len());
        for c in &e.by_country {
            by_country.push((country(&c.country)?, dec("the share", &c.share)?));
        }
        elements.push(ElementFacts {
            element,
            by_country,
            unknown: dec("the unknown share", &e.unknown)?,
        });
    }
    let site_id =
        |text: &str| SiteId::parse(text).map_err(|_| damaged(lot, format!("the site {text:?}")));
    let time =
        |text: &str| Timestamp::parse(text).map_err(|_| damaged(lot, format!("the time {text:?}")));
    let party_id =
        |text: &str| PartyId::parse(text).map_err(|_| damaged(lot, format!("the party {text:?}")));
    let origins = answer
        .origins
        .iter()
        .map(|o| {
            Ok(OriginFacts {
                lot: o.lot.clone(),
                site: site_id(&o.site)?,
                index: o.index,
            })
        })
        .collect::<Result<_, ComplianceError>>()?;
    let mut sites = Vec::with_capacity(answer.sites.len());
    for s in &answer.sites {
        sites.push(SiteFacts {
            id: site_id(&s.site)?,
            kind: SiteKind::parse(s.kind)
                .map_err(|_| damaged(lot, format!("the site kind {:?}", s.kind)))?,
            country: country(&s.country)?,
            operator: party_id(&s.operator)?,
            lat: dec("the latitude", &s.lat)?,
            lon: dec("the longitude", &s.lon)?,
            roles: s.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            index: s.index,
            first: Some(time(&s.first)?),
            recorded: None,
        });
    }
    let custody = answer
        .custody
        .iter()
        .map(|c| {
            Ok(CustodyFacts {
                party: party_id(&c.custodian)?,
                lot: c.lot.clone(),
                index: c.index,
                from: time(&c.from)?,
            })
        })
        .collect::<Result<_, ComplianceError>>()?;
    // A captured event may state any kind of record: it counts for both.
    let of_kinds = |kinds: &[&str]| -> Vec<u64> {
        answer
            .evidence
            .iter()
            .filter(|e| kinds.contains(&e.kind))
            .map(|e| e.index)
            .collect()
    };
    Ok(Facts {
        elements,
        origins,
        sites,
        custody,
        parties: BTreeMap::new(),
        share_evidence: of_kinds(&["lot", "assay", "transformation", "event"]),
        route_evidence: of_kinds(&["shipment", "receipt", "event"]),
    })
}

/// Replaces every transit site with the sites of `via`, in the facts and
/// the evidence.
fn assume_route<S: Store>(
    store: &S,
    facts: &mut Facts,
    evidence: &mut BTreeMap<u64, Evidence>,
    via: &[String],
) -> Result<Hypothetical, ComplianceError> {
    let mut replaced = Vec::new();
    for s in &mut facts.sites {
        if s.roles.contains(&Role::Transit) {
            replaced.push(s.id.to_string());
            s.roles.retain(|r| *r != Role::Transit);
        }
    }
    let dropped: BTreeSet<u64> = facts
        .sites
        .iter()
        .filter(|s| s.roles.is_empty())
        .map(|s| s.index)
        .collect();
    facts.sites.retain(|s| !s.roles.is_empty());
    evidence.retain(|i, e| !(e.kind == "site" && dropped.contains(i)));
    for id in via {
        let state = store
            .site(id)?
            .ok_or_else(|| ComplianceError::UnknownSite(id.clone()))?;
        let r = state.record();
        match facts.sites.iter_mut().find(|s| s.id.as_str() == id) {
            Some(s) => s.roles.push(Role::Transit),
            None => facts.sites.push(SiteFacts {
                id: r.id.clone(),
                kind: r.kind,
                country: r.country,
                operator: r.operator.clone(),
                lat: r.location.lat(),
                lon: r.location.lon(),
                roles: vec![Role::Transit],
                index: state.index(),
                // A route not taken: no passage to date.
                first: None,
                recorded: Some(r.time),
            }),
        }
        let signed_by = match store.entry(state.index())? {
            Some(bytes) => {
                let signed = SignedRecord::from_entry(&bytes)
                    .map_err(|e| damaged(id, format!("a site record that does not parse: {e}")))?;
                Signers::new(store).of(&signed)?
            }
            None => vec![r.operator.to_string()],
        };
        evidence.insert(
            state.index(),
            Evidence {
                index: state.index(),
                kind: "site",
                signed_by,
                figures: r.figures.as_str(),
            },
        );
    }
    Ok(Hypothetical {
        via: via.to_vec(),
        replaced,
        note: "verdicts for a route the material did not take: every transit site it passed is replaced by these; the other records are as logged",
    })
}

/// Reads the custodians, the site operators and every owner reachable
/// from them through the recorded links, breadth first, at most
/// `rules::MAX_PARTIES` parties (the evaluator says a verdict is
/// unproven where a party it needs was not read).
fn read_parties<S: Store>(
    store: &S,
    facts: &mut Facts,
    evidence: &mut BTreeMap<u64, Evidence>,
) -> Result<(), ComplianceError> {
    let mut queue: VecDeque<PartyId> = facts
        .custody
        .iter()
        .map(|c| c.party.clone())
        .chain(facts.sites.iter().map(|s| s.operator.clone()))
        .collect();
    let mut seen: BTreeSet<PartyId> = queue.iter().cloned().collect();
    let mut signers = Signers::new(store);
    while let Some(id) = queue.pop_front() {
        if facts.parties.len() >= rules::MAX_PARTIES {
            break;
        }
        let Some(state) = store.party(id.as_str())? else {
            continue;
        };
        let r = state.record();
        let unconfirmed = state.unconfirmed_owners();
        let owners = r
            .owners
            .iter()
            .map(|o| OwnerLink {
                owner: o.owner.clone(),
                share: o.share,
                controls: o.controls,
                unconfirmed: unconfirmed.contains(&o.owner),
            })
            .collect();
        for o in &r.owners {
            if seen.insert(o.owner.clone()) {
                queue.push_back(o.owner.clone());
            }
        }
        if let Some(bytes) = store.entry(state.index())? {
            let signed = SignedRecord::from_entry(&bytes).map_err(|e| {
                damaged(
                    id.as_str(),
                    format!(
                        "a party record at index {} that does not parse: {e}",
                        state.index()
                    ),
                )
            })?;
            evidence.insert(
                state.index(),
                Evidence {
                    index: state.index(),
                    kind: "party",
                    signed_by: signers.of(&signed)?,
                    figures: r.figures.as_str(),
                },
            );
        }
        facts.parties.insert(
            id,
            PartyFacts {
                kind: r.kind,
                country: r.country,
                owners,
                index: state.index(),
                owners_changed: state.owners_changed(),
            },
        );
    }
    Ok(())
}
