//! Provenance of a lot, read from the store (`docs/design/provenance.md`):
//! the lot's upstream graph (lots and their inputs, transformations,
//! grades from the latest assay per element, sites, custodians, shipments
//! and receipts as movements, each with the log index of its record) is
//! read breadth first within [`ProvenanceLimits`] and handed to
//! `oretrace_provenance::attribute`. The answer ([`ProvenanceAnswer`])
//! is what `GET /lots/{id}/provenance` serves: every figure with the
//! records it rests on and whose word each record is (its signers).
//!
//! Bounded: the walk counts lots as it finds them and entries as it reads
//! them, and refuses the moment a bound is passed; it never truncates.
//! A cycle in a damaged store is refused by the pure crate; the walk
//! itself never visits a lot twice, never recurses, never panics.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::rc::Rc;

use rust_decimal::Decimal;
use serde::Serialize;

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::event::CaptureAuth;
use oretrace_domain::record::{Figures, Record};
use oretrace_domain::values::{LotId, PartyId, SiteId, Token, format_decimal};
use oretrace_provenance::attribute::{Role, SpellEnd};
use oretrace_provenance::graph::{Arrival, Grade, Lot, Movement, Site, Transformation};
pub use oretrace_provenance::{Limits, LotGraph};

use crate::state::SiteState;
use crate::store::{StateView, Store, StoreError};

/// How much of the registry one provenance answer may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvenanceLimits {
    /// Lots and shipments of the upstream graph.
    pub graph: Limits,
    /// Log entries read (every entry concerning an upstream lot: its
    /// making, assays, shipments, receipts, consumption).
    pub max_records: usize,
}

impl ProvenanceLimits {
    /// 50,000 upstream lots, 200,000 shipments, 500,000 entries.
    pub const DEFAULT: ProvenanceLimits = ProvenanceLimits {
        graph: Limits::DEFAULT,
        max_records: 500_000,
    };
}

impl Default for ProvenanceLimits {
    fn default() -> Self {
        ProvenanceLimits::DEFAULT
    }
}

/// Why a provenance answer could not be given.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bound of [`ProvenanceLimits`] was passed: nothing is answered.
    #[error("{detail}")]
    TooLarge { detail: String, limit: usize },
    /// The graph could not be attributed (a cycle, a missing item, a
    /// grade that is not one): the store is damaged or hostile.
    #[error("the provenance of lot {lot} cannot be computed: {why}")]
    Graph { lot: String, why: String },
}

impl ProvenanceError {
    pub(crate) fn from_graph(lot: &str, e: oretrace_provenance::Error) -> Self {
        match e {
            oretrace_provenance::Error::TooManyLots { limit, .. }
            | oretrace_provenance::Error::TooManyMovements { limit, .. } => {
                ProvenanceError::TooLarge {
                    detail: e.to_string(),
                    limit,
                }
            }
            other => ProvenanceError::Graph {
                lot: lot.to_owned(),
                why: other.to_string(),
            },
        }
    }
}

/// A record an answer rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Log index of the record: `GET /records/{index}/receipt` proves it.
    pub index: u64,
    /// The record's kind (`lot`, `assay`, `shipment`, …).
    pub kind: &'static str,
    /// Whose word it is: the parties that signed it (a key registered to
    /// no party is named as `key <name>+<id>`).
    pub signed_by: Vec<String>,
    /// `reported` or `illustrative`, as the record says.
    pub figures: &'static str,
}

/// One origin site's or country's share of an element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShareJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub country: String,
    /// A fraction, 0 to 1, as decimal text.
    pub share: String,
    /// Kilograms of the element, when the lot is assayed for it.
    pub contained_kg: Option<String>,
}

/// Where one element of the lot came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ElementJson {
    pub element: &'static str,
    /// Dry mass × grade, kilograms, when the lot is assayed for it.
    pub contained_kg: Option<String>,
    pub by_site: Vec<ShareJson>,
    pub by_country: Vec<ShareJson>,
    /// The share whose origin the assays cannot tell.
    pub unknown: String,
    /// Upstream lots with no grade for the element (counted as none).
    pub unassayed: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OriginJson {
    pub lot: String,
    pub site: String,
    pub kind: &'static str,
    pub country: String,
    pub created: String,
    pub index: u64,
    pub signed_by: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepJson {
    pub transformation: String,
    pub site: String,
    pub process: String,
    pub time: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub index: u64,
    pub signed_by: Vec<String>,
    /// Dry mass out / dry mass in, as decimal text.
    pub mass_yield: Option<String>,
    /// Per element assayed in any input or output: contained kg in and
    /// out (the latest assays) and the recovery.
    pub balance: Vec<StepElementJson>,
}

/// One element's balance in one step, from the latest assays: what the
/// ledger judged, when each output's assay arrived, against the operator's
/// tolerance (out may exceed in only within it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepElementJson {
    pub element: &'static str,
    /// Consumed dry kg × grade over the assayed inputs.
    pub in_kg: String,
    /// Dry kg × grade over the assayed outputs.
    pub out_kg: String,
    /// Out / in, as decimal text, when in > 0 and every output is assayed.
    pub recovery: Option<String>,
    pub unassayed_inputs: Vec<String>,
    pub unassayed_outputs: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustodyJson {
    pub lot: String,
    pub custodian: String,
    pub site: String,
    pub from: String,
    pub until: Option<String>,
    /// `shipped`, `consumed` or `held`.
    pub ended_by: &'static str,
    /// The shipment or transformation that ended it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_in: Option<String>,
    /// The record that began it (lot, transformation or receipt).
    pub index: u64,
    pub signed_by: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteJson {
    pub site: String,
    pub name: String,
    pub kind: &'static str,
    pub country: String,
    pub operator: String,
    pub lat: String,
    pub lon: String,
    pub approximate: bool,
    /// `origin`, `processing`, `departure`, `transit`, `arrival`.
    pub roles: Vec<&'static str>,
    pub first: String,
    pub last: String,
    /// Log index of the site record.
    pub index: u64,
    /// Whose word the location and kind are.
    pub claim: String,
    /// Parties other than the operator that signed the site record (a
    /// mining cadastre, a ministry): the location and kind are then not
    /// the operator's word alone.
    pub confirmed_by: Vec<String>,
}

/// The provenance of one lot, as served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProvenanceAnswer {
    pub lot: String,
    /// `illustrative` when any record the answer rests on is, else
    /// `reported`.
    pub figures: &'static str,
    pub upstream_lots: usize,
    pub elements: Vec<ElementJson>,
    pub origins: Vec<OriginJson>,
    pub steps: Vec<StepJson>,
    pub custody: Vec<CustodyJson>,
    pub sites: Vec<SiteJson>,
    /// Every record the answer rests on, by index.
    pub evidence: Vec<Evidence>,
}

/// What the walk read: the graph, and for each record its evidence.
pub(crate) struct Upstream {
    pub(crate) graph: LotGraph,
    evidence: BTreeMap<u64, Evidence>,
    sites: BTreeMap<SiteId, SiteState>,
    processes: HashMap<u64, String>,
    /// Log entries read.
    pub(crate) records: usize,
}

fn text(d: Decimal) -> String {
    format_decimal(&d.normalize())
}

/// The provenance of lot `id`; `None` when no such lot is registered.
pub fn provenance<S: Store>(
    store: &S,
    id: &str,
    limits: ProvenanceLimits,
) -> Result<Option<ProvenanceAnswer>, ProvenanceError> {
    // Every read of the answer sees one state of the registry.
    let snapshot = store.snapshot()?;
    let view: &dyn StateView = &*snapshot;
    if view.lot(id)?.is_none() {
        return Ok(None);
    }
    let up = read_upstream(view, id, limits)?;
    let lot_id = LotId::parse(id).map_err(|e| ProvenanceError::Graph {
        lot: id.to_owned(),
        why: e.to_string(),
    })?;
    let p = oretrace_provenance::attribute(&up.graph, &lot_id, limits.graph)
        .map_err(|e| ProvenanceError::from_graph(id, e))?;
    let signed = |index: u64| {
        up.evidence
            .get(&index)
            .map(|e| e.signed_by.clone())
            .unwrap_or_default()
    };
    let elements = p
        .elements
        .iter()
        .map(|e| ElementJson {
            element: e.element.symbol(),
            contained_kg: e.contained_kg.map(text),
            by_site: e
                .by_site
                .iter()
                .map(|s| ShareJson {
                    site: Some(s.site.to_string()),
                    kind: Some(s.kind.as_str()),
                    country: s.country.to_string(),
                    share: text(s.share),
                    contained_kg: s.contained_kg.map(text),
                })
                .collect(),
            by_country: e
                .by_country
                .iter()
                .map(|c| ShareJson {
                    site: None,
                    kind: None,
                    country: c.country.to_string(),
                    share: text(c.share),
                    contained_kg: c.contained_kg.map(text),
                })
                .collect(),
            unknown: text(e.unknown),
            unassayed: e.unassayed.iter().map(ToString::to_string).collect(),
        })
        .collect();
    let origins = p
        .origins
        .iter()
        .map(|o| OriginJson {
            lot: o.lot.to_string(),
            site: o.site.to_string(),
            kind: o.kind.as_str(),
            country: o.country.to_string(),
            created: o.created.to_string(),
            index: o.index,
            signed_by: signed(o.index),
        })
        .collect();
    let mut read = up.records;
    let mut steps = Vec::with_capacity(p.steps.len());
    for s in &p.steps {
        let t = up.graph.transformation(s.transformation);
        let balance = match t {
            Some(t) => Some(
                crate::balance::transformation_balance(
                    &view,
                    t,
                    &oretrace_provenance::Tolerance::stated_only(),
                    Some(&up.graph),
                    &mut read,
                )
                .map_err(|e| damaged(id, e.to_string()))?,
            ),
            None => None,
        };
        if read > limits.max_records {
            return Err(too_many_records(id, limits));
        }
        steps.push(StepJson {
            transformation: s.transformation.to_string(),
            site: s.site.to_string(),
            process: up.processes.get(&s.index).cloned().unwrap_or_default(),
            time: s.time.to_string(),
            inputs: t
                .map(|t| t.inputs.iter().map(|(l, _)| l.to_string()).collect())
                .unwrap_or_default(),
            outputs: t
                .map(|t| t.outputs.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            index: s.index,
            signed_by: signed(s.index),
            mass_yield: balance.as_ref().and_then(|b| b.mass_yield).map(text),
            balance: balance
                .iter()
                .flat_map(|b| &b.elements)
                .map(|e| StepElementJson {
                    element: e.element.symbol(),
                    in_kg: text(e.in_kg),
                    out_kg: text(e.out_kg),
                    recovery: e.recovery.map(text),
                    unassayed_inputs: e.unassayed_inputs.iter().map(ToString::to_string).collect(),
                    unassayed_outputs: e
                        .unassayed_outputs
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                })
                .collect(),
        });
    }
    let custody = p
        .custody
        .iter()
        .map(|c| {
            let (ended_by, ended_in) = match &c.ended_by {
                SpellEnd::Shipped(t) => ("shipped", Some(t.to_string())),
                SpellEnd::Consumed(t) => ("consumed", Some(t.to_string())),
                SpellEnd::Open => ("held", None),
            };
            CustodyJson {
                lot: c.lot.to_string(),
                custodian: c.custodian.to_string(),
                site: c.site.to_string(),
                from: c.from.to_string(),
                until: c.until.map(|t| t.to_string()),
                ended_by,
                ended_in,
                index: c.index,
                signed_by: signed(c.index),
            }
        })
        .collect();
    let mut sites = Vec::new();
    for s in &p.sites {
        let Some(state) = up.sites.get(s.site) else {
            continue;
        };
        let r = state.record();
        let confirmed_by: Vec<String> = up
            .evidence
            .get(&state.index())
            .map(|e| {
                e.signed_by
                    .iter()
                    .filter(|p| p.as_str() != r.operator.as_str())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let confirmation = if confirmed_by.is_empty() {
            String::new()
        } else {
            format!(
                ", confirmed by {}, who signed it too",
                confirmed_by.join(", ")
            )
        };
        sites.push(SiteJson {
            site: s.site.to_string(),
            name: r.name.to_string(),
            kind: s.kind.as_str(),
            country: s.country.to_string(),
            operator: r.operator.to_string(),
            lat: text(r.location.lat()),
            lon: text(r.location.lon()),
            approximate: r.approximate,
            roles: s.roles.iter().map(Role::as_str).collect(),
            first: s.first.to_string(),
            last: s.last.to_string(),
            index: state.index(),
            claim: format!(
                "the location and kind of {} are the claim of its operator {}, who signed the site record at index {}{confirmation}",
                s.site,
                r.operator,
                state.index()
            ),
            confirmed_by,
        });
    }
    // Every record the figures rest on: the lots, transformations,
    // latest assays, shipments and receipts read, and the sites passed.
    let evidence: Vec<Evidence> = up.evidence.values().cloned().collect();
    let figures = if evidence.iter().any(|e| e.figures == "illustrative") {
        "illustrative"
    } else {
        "reported"
    };
    Ok(Some(ProvenanceAnswer {
        lot: p.lot.to_string(),
        figures,
        upstream_lots: p.upstream_lots,
        elements,
        origins,
        steps,
        custody,
        sites,
        evidence,
    }))
}

/// Whose keys signed an entry: parties, or the key itself.
pub(crate) struct Signers<'s, S: ?Sized> {
    store: &'s S,
    known: HashMap<(String, u32), String>,
}

impl<'s, S: StateView + ?Sized> Signers<'s, S> {
    pub(crate) fn new(store: &'s S) -> Self {
        Signers {
            store,
            known: HashMap::new(),
        }
    }

    fn party(&mut self, name: &str, key_id: u32) -> Result<String, StoreError> {
        let key = (name.to_owned(), key_id);
        if let Some(n) = self.known.get(&key) {
            return Ok(n.clone());
        }
        let n = match self.store.key(name, key_id)? {
            Some(k) => k.party().to_string(),
            None => format!("key {name}+{key_id:08x}"),
        };
        self.known.insert(key, n.clone());
        Ok(n)
    }

    /// The parties whose word an entry is: its signers, or for a captured
    /// EPCIS event (signed by the log key alone) the parties whose token or
    /// document signatures brought it.
    pub(crate) fn of(&mut self, signed: &SignedRecord) -> Result<Vec<String>, StoreError> {
        let keys: Vec<(String, u32)> = match signed.record() {
            Record::Event(event) => match event.auth() {
                CaptureAuth::Token { key } => vec![(key.name().to_owned(), key.key_id())],
                CaptureAuth::Signed { signatures, .. } => signatures
                    .iter()
                    .map(|l| {
                        let k = l.key();
                        (k.name().to_owned(), k.key_id())
                    })
                    .collect(),
            },
            _ => signed
                .signatures()
                .iter()
                .map(|s| (s.name.clone(), s.key_id))
                .collect(),
        };
        let mut out = Vec::new();
        for (name, key_id) in keys {
            let party = self.party(&name, key_id)?;
            if !out.contains(&party) {
                out.push(party);
            }
        }
        Ok(out)
    }
}

fn figures_of(record: &Record) -> Figures {
    match record {
        Record::Lot(r) => r.figures,
        Record::Assay(r) => r.figures,
        Record::Shipment(r) => r.figures,
        Record::Receipt(r) => r.figures,
        Record::Transformation(r) => r.figures,
        Record::Event(e) => e.figures(),
        _ => Figures::Reported,
    }
}

fn too_many_records(root: &str, limits: ProvenanceLimits) -> ProvenanceError {
    ProvenanceError::TooLarge {
        detail: format!(
            "the upstream lots of lot {root} are the subject of more than {} log entries (the bound); ask for a lot nearer its origins",
            limits.max_records
        ),
        limit: limits.max_records,
    }
}

fn damaged(lot: &str, why: String) -> ProvenanceError {
    ProvenanceError::Graph {
        lot: lot.to_owned(),
        why,
    }
}

/// Reads the upstream graph of `root` breadth first, within `limits`
/// (from any view: the rules read it through the batch's overlay).
/// A log entry as provenance reads it: the signed record and the records
/// it states (a captured EPCIS event states those the ledger read from
/// it).
struct Parsed {
    signed: SignedRecord,
    stated: Vec<Record>,
    figures: Figures,
}

fn parse_entry<S: StateView + ?Sized>(
    store: &S,
    root: &str,
    index: u64,
) -> Result<Parsed, ProvenanceError> {
    let bytes = store
        .entry(index)?
        .ok_or_else(|| damaged(root, format!("entry {index} is not stored")))?;
    let signed = SignedRecord::from_entry(&bytes)
        .map_err(|e| damaged(root, format!("entry {index} does not parse: {e}")))?;
    let (stated, figures) = match signed.record() {
        Record::Event(event) => (
            oretrace_epcis_map::interpret(event.event())
                .map_err(|e| damaged(root, format!("the event at index {index}: {e}")))?
                .records,
            event.figures(),
        ),
        other => (vec![other.clone()], figures_of(other)),
    };
    Ok(Parsed {
        signed,
        stated,
        figures,
    })
}

pub(crate) fn read_upstream<S: StateView + ?Sized>(
    store: &S,
    root: &str,
    limits: ProvenanceLimits,
) -> Result<Upstream, ProvenanceError> {
    let mut graph = LotGraph::new();
    let mut evidence: BTreeMap<u64, Evidence> = BTreeMap::new();
    let mut processes: HashMap<u64, String> = HashMap::new();
    let mut signers = Signers {
        store,
        known: HashMap::new(),
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut transformations: HashSet<Token> = HashSet::new();
    let mut site_ids: HashSet<SiteId> = HashSet::new();
    let mut records = 0usize;
    let mut movements_total = 0usize;
    let mut shared: HashMap<u64, Rc<Parsed>> = HashMap::new();
    seen.insert(root.to_owned());
    queue.push_back(root.to_owned());
    while let Some(id) = queue.pop_front() {
        let Some(state) = store.lot(&id)? else {
            // The pure crate names the missing lot and who named it.
            continue;
        };
        let events = store.lot_entries(&id)?;
        records = records.saturating_add(events.len());
        if records > limits.max_records {
            return Err(too_many_records(root, limits));
        }
        let mut created = None;
        let mut produced_by: Option<Token> = None;
        let mut grades: BTreeMap<&'static str, Grade> = BTreeMap::new();
        let mut movements: Vec<Movement> = Vec::new();
        for index in events {
            let parsed = match shared.get(&index) {
                Some(p) => p.clone(),
                None => {
                    let p = Rc::new(parse_entry(store, root, index)?);
                    // A transformation's entry is among the entries of
                    // each of its inputs and outputs: parsed once.
                    if p.stated
                        .iter()
                        .any(|r| matches!(r, Record::Transformation(_)))
                    {
                        shared.insert(index, p.clone());
                    }
                    p
                }
            };
            let (signed, stated, entry_figures) = (&parsed.signed, &parsed.stated, parsed.figures);
            let mut kept = false;
            for record in stated {
                let mut keep = true;
                match record {
                    Record::Lot(l) if l.id.as_str() == id => created = Some(l.time),
                    Record::Assay(a) if a.lot.as_str() == id => {
                        let grade = Grade::from_assay(
                            a.analyte,
                            a.value,
                            a.unit,
                            a.basis,
                            state.moisture(),
                            a.uncertainty,
                            index,
                        )
                        .map_err(|e| damaged(root, format!("the assay at index {index}: {e}")))?;
                        // The latest assay of an element is its grade (the
                        // earlier ones stay in the evidence: they were read).
                        grades.insert(a.analyte.element().symbol(), grade);
                    }
                    Record::Shipment(s) => {
                        movements_total += 1;
                        if movements_total > limits.graph.max_movements {
                            return Err(ProvenanceError::from_graph(
                                root,
                                oretrace_provenance::Error::TooManyMovements {
                                    lot: root.to_owned(),
                                    limit: limits.graph.max_movements,
                                },
                            ));
                        }
                        let shipper = store
                            .shipment(s.id.as_str())?
                            .map(|st| st.shipper().clone())
                            .ok_or_else(|| damaged(root, format!("shipment {} vanished", s.id)))?;
                        site_ids.insert(s.from.clone());
                        site_ids.insert(s.to.clone());
                        site_ids.extend(s.via.iter().cloned());
                        movements.push(Movement {
                            shipment: s.id.clone(),
                            from: s.from.clone(),
                            via: s.via.clone(),
                            to: s.to.clone(),
                            shipper,
                            receiver: s.receiver.clone(),
                            shipped: s.time,
                            arrival: None,
                            index,
                        });
                    }
                    Record::Receipt(r) => {
                        let mass = r
                            .lots
                            .iter()
                            .find(|(l, _)| l.as_str() == id)
                            .map(|(_, m)| *m);
                        if let (Some(m), Some(mass)) = (
                            movements.iter_mut().find(|m| m.shipment == r.shipment),
                            mass,
                        ) {
                            m.arrival = Some(Arrival {
                                time: r.time,
                                wet_mass: mass,
                                index,
                            });
                        }
                    }
                    Record::Transformation(t) if t.outputs.iter().any(|o| o.id.as_str() == id) => {
                        created = Some(t.time);
                        produced_by = Some(t.id.clone());
                        if transformations.insert(t.id.clone()) {
                            processes.insert(index, t.process.to_string());
                            site_ids.insert(t.site.clone());
                            for (input, _) in &t.inputs {
                                if seen.insert(input.to_string()) {
                                    if seen.len() > limits.graph.max_upstream_lots {
                                        return Err(ProvenanceError::from_graph(
                                            root,
                                            oretrace_provenance::Error::TooManyLots {
                                                lot: root.to_owned(),
                                                limit: limits.graph.max_upstream_lots,
                                            },
                                        ));
                                    }
                                    queue.push_back(input.to_string());
                                }
                            }
                            graph
                                .add_transformation(Transformation {
                                    id: t.id.clone(),
                                    site: t.site.clone(),
                                    time: t.time,
                                    inputs: t.inputs.clone(),
                                    outputs: t.outputs.iter().map(|o| o.id.clone()).collect(),
                                    index,
                                })
                                .map_err(|e| ProvenanceError::from_graph(root, e))?;
                        }
                    }
                    // The transformation that consumed the lot: the pure
                    // crate dates the end of custody from the graph.
                    _ => keep = false,
                }
                kept |= keep;
            }
            if kept && !evidence.contains_key(&index) {
                evidence.insert(
                    index,
                    Evidence {
                        index,
                        kind: signed.record().kind(),
                        signed_by: signers.of(signed)?,
                        figures: entry_figures.as_str(),
                    },
                );
            }
        }
        // Custody at making: the first shipper, else the custodian now.
        let custodian: PartyId = movements
            .first()
            .map_or_else(|| state.custodian().clone(), |m| m.shipper.clone());
        let created = created
            .or(state.created())
            .ok_or_else(|| damaged(root, format!("lot {id}: when it was made is unknown")))?;
        site_ids.insert(state.origin_site().clone());
        graph
            .add_lot(Lot {
                id: state.id().clone(),
                site: state.origin_site().clone(),
                custodian,
                created,
                produced_by,
                wet_mass: state.wet_mass(),
                moisture: state.moisture(),
                grades: grades.into_values().collect(),
                movements,
                index: state.index(),
            })
            .map_err(|e| ProvenanceError::from_graph(root, e))?;
    }
    let mut sites = BTreeMap::new();
    for id in site_ids {
        let Some(site) = store.site(id.as_str())? else {
            continue;
        };
        let r = site.record();
        graph
            .add_site(Site {
                id: id.clone(),
                kind: r.kind,
                country: r.country,
                index: site.index(),
            })
            .map_err(|e| ProvenanceError::from_graph(root, e))?;
        // Whose word the site is: every party that signed its record.
        let signed_by = match store.entry(site.index())? {
            Some(bytes) => {
                let signed = SignedRecord::from_entry(&bytes).map_err(|e| {
                    damaged(
                        root,
                        format!(
                            "the site record at index {} does not parse: {e}",
                            site.index()
                        ),
                    )
                })?;
                signers.of(&signed)?
            }
            None => vec![r.operator.to_string()],
        };
        evidence.insert(
            site.index(),
            Evidence {
                index: site.index(),
                kind: "site",
                signed_by,
                figures: r.figures.as_str(),
            },
        );
        sites.insert(id, site);
    }
    Ok(Upstream {
        graph,
        evidence,
        sites,
        processes,
        records,
    })
}
