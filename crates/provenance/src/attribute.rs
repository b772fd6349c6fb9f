//! Provenance of one lot: its upstream graph back to the lots commissioned
//! at sites, each element's origin shares per site and per country (a
//! transformation passes an element on in proportion to the amount of it
//! each input contained), the custodians with dates, and every site the
//! material passed through. `docs/design/provenance.md` is the rule.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use oretrace_domain::chemistry::Element;
use oretrace_domain::record::SiteKind;
use oretrace_domain::values::{Country, LotId, PartyId, SiteId, Timestamp, Token};

use crate::Error;
use crate::graph::{
    Limits, Lot, LotGraph, LotLinks, PER_CENT, Site, Slot, SlotMap, Transformation,
    TransformationLinks, dry,
};

/// A lot with no producing transformation: where an element's trail
/// begins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginLot<'g> {
    pub lot: &'g LotId,
    pub site: &'g SiteId,
    pub kind: SiteKind,
    pub country: Country,
    pub created: Timestamp,
    /// Log index of its `lot` record.
    pub index: u64,
}

/// One origin site's share of an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteShare<'g> {
    pub site: &'g SiteId,
    pub kind: SiteKind,
    pub country: Country,
    /// A fraction, 0 to 1.
    pub share: Decimal,
    /// The share of the lot's contained mass, when the lot is assayed.
    pub contained_kg: Option<Decimal>,
}

/// One country's share of an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountryShare {
    pub country: Country,
    pub share: Decimal,
    pub contained_kg: Option<Decimal>,
}

/// Where one element of the lot came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementShares<'g> {
    pub element: Element,
    /// Dry mass × grade, when the lot is assayed for the element.
    pub contained_kg: Option<Decimal>,
    /// Per origin site, largest share first (then by site id).
    pub by_site: Vec<SiteShare<'g>>,
    /// Per country of the origin sites, largest share first.
    pub by_country: Vec<CountryShare>,
    /// The share that stops at a transformation none of whose inputs hold
    /// the element by their assays: its origin is unknown. The site
    /// shares and this sum to 1.
    pub unknown: Decimal,
    /// Lots met on the way with no grade for the element, counted as
    /// holding none of it.
    pub unassayed: Vec<&'g LotId>,
}

impl ElementShares<'_> {
    /// The share of `site` (0 when it is not an origin of the element).
    pub fn site_share(&self, site: &SiteId) -> Decimal {
        self.by_site
            .iter()
            .find(|s| s.site == site)
            .map_or(Decimal::ZERO, |s| s.share)
    }

    /// The share of `country`.
    pub fn country_share(&self, country: Country) -> Decimal {
        self.by_country
            .iter()
            .find(|s| s.country == country)
            .map_or(Decimal::ZERO, |s| s.share)
    }
}

/// How a custody spell ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpellEnd<'g> {
    /// Shipped: custody passes to the receiver on receipt.
    Shipped(&'g Token),
    /// Consumed by a transformation.
    Consumed(&'g Token),
    /// Still held (or, for a shipped lot never received, see the
    /// previous spell).
    Open,
}

/// A party holding a lot at a site over a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustodySpell<'g> {
    pub lot: &'g LotId,
    pub custodian: &'g PartyId,
    pub site: &'g SiteId,
    pub from: Timestamp,
    pub until: Option<Timestamp>,
    pub ended_by: SpellEnd<'g>,
    /// Log index of the record that began it (lot, transformation or
    /// receipt).
    pub index: u64,
}

/// What happened to the material at a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A lot was commissioned there.
    Origin,
    /// A transformation ran there.
    Processing,
    /// A shipment left from there.
    Departure,
    /// A shipment passed through (a port on the way).
    Transit,
    /// A shipment was received there.
    Arrival,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 5] = [
        Role::Origin,
        Role::Processing,
        Role::Departure,
        Role::Transit,
        Role::Arrival,
    ];

    /// The role's name, as answers and rule packs spell it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Origin => "origin",
            Role::Processing => "processing",
            Role::Departure => "departure",
            Role::Transit => "transit",
            Role::Arrival => "arrival",
        }
    }

    /// The role named `text`, if any.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl Role {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A site the material passed through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SitePassed<'g> {
    pub site: &'g SiteId,
    pub kind: SiteKind,
    pub country: Country,
    pub roles: Vec<Role>,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// A transformation upstream of the lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step<'g> {
    pub transformation: &'g Token,
    pub site: &'g SiteId,
    pub time: Timestamp,
    pub index: u64,
}

/// The provenance of one lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance<'g> {
    pub lot: &'g LotId,
    /// Lots in the upstream graph, the lot included.
    pub upstream_lots: usize,
    /// Origin lots, by creation time, then from the lot asked about upstream.
    pub origins: Vec<OriginLot<'g>>,
    /// Per element assayed anywhere upstream, by symbol.
    pub elements: Vec<ElementShares<'g>>,
    /// Upstream transformations, each after those that made its inputs.
    pub steps: Vec<Step<'g>>,
    /// Custody of every upstream lot, by start time, then from the lot
    /// asked about upstream.
    pub custody: Vec<CustodySpell<'g>>,
    /// Sites passed, by first time then id.
    pub sites: Vec<SitePassed<'g>>,
}

impl<'g> Provenance<'g> {
    pub fn element(&self, element: Element) -> Option<&ElementShares<'g>> {
        self.elements.iter().find(|e| e.element == element)
    }
}

/// One lot of the upstream graph: its slot and links, its maker, and its
/// inputs as a range of [`Upstream::edges`].
struct Node<'g> {
    lot: &'g Lot,
    links: &'g LotLinks,
    producer: Option<(Slot, &'g Transformation, &'g TransformationLinks)>,
    /// Where its inputs start in `edges` (one edge per input, in order).
    first_edge: usize,
}

impl<'g> Node<'g> {
    fn fan_in(&self) -> usize {
        self.producer.map_or(0, |(_, t, _)| t.inputs.len())
    }
}

/// An input edge: the input's node number and the dry kg consumed of it.
#[derive(Clone, Copy)]
struct Edge {
    input: usize,
    consumed_dry: Decimal,
}

/// The upstream graph of a lot, nodes in post order (every lot after all
/// its inputs; the lot itself last).
pub(crate) struct Upstream<'g> {
    nodes: Vec<Node<'g>>,
    edges: Vec<Edge>,
    post: Vec<usize>,
}

impl<'g> Upstream<'g> {
    /// Walks up from `root` with explicit stacks (no recursion), counting
    /// lots as they are found, refusing cycles. Follows slots: after the
    /// root's id, no id is hashed.
    pub(crate) fn walk(graph: &'g LotGraph, root: &LotId, limits: Limits) -> Result<Self, Error> {
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let mut index: SlotMap<usize> = SlotMap::default();
        let mut nodes: Vec<Node<'g>> = Vec::new();
        let mut edges: Vec<Edge> = Vec::new();
        let mut state: Vec<u8> = Vec::new();
        let mut post = Vec::new();
        let mut movements = 0usize;
        let discover = |slot: Slot,
                        referenced_by: &dyn std::fmt::Display,
                        nodes: &mut Vec<Node<'g>>,
                        edges: &mut Vec<Edge>,
                        state: &mut Vec<u8>,
                        movements: &mut usize|
         -> Result<usize, Error> {
            let (lot, links) = graph.lot_at(slot, referenced_by)?;
            if nodes.len() >= limits.max_upstream_lots {
                return Err(Error::TooManyLots {
                    lot: root.to_string(),
                    limit: limits.max_upstream_lots,
                });
            }
            *movements = movements.saturating_add(lot.movements.len());
            if *movements > limits.max_movements {
                return Err(Error::TooManyMovements {
                    lot: root.to_string(),
                    limit: limits.max_movements,
                });
            }
            let producer = match links.producer {
                None => None,
                Some(t) => {
                    let (t_item, t_links) =
                        graph.transformation_at(t, &format_args!("lot {}", lot.id))?;
                    if !t_links.outputs.contains(&slot) {
                        return Err(Error::Inconsistent(format!(
                            "lot {} names transformation {} as its maker, which does not list it as an output",
                            lot.id, t_item.id
                        )));
                    }
                    Some((t, t_item, t_links))
                }
            };
            let n = nodes.len();
            let first_edge = edges.len();
            let fan_in = producer.map_or(0, |(_, t, _)| t.inputs.len());
            edges.resize(
                first_edge + fan_in,
                Edge {
                    input: usize::MAX,
                    consumed_dry: Decimal::ZERO,
                },
            );
            nodes.push(Node {
                lot,
                links,
                producer,
                first_edge,
            });
            state.push(OPEN);
            Ok(n)
        };
        let first = graph.lot_slot(root).ok_or_else(|| Error::MissingLot {
            lot: root.to_string(),
            referenced_by: "the request".into(),
        })?;
        let start = discover(
            first,
            &"the request",
            &mut nodes,
            &mut edges,
            &mut state,
            &mut movements,
        )?;
        index.insert(first, start);
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some(top) = stack.last_mut() {
            let (n, next) = *top;
            let Some((_, t, t_links)) = nodes[n].producer else {
                state[n] = DONE;
                post.push(n);
                stack.pop();
                continue;
            };
            let (Some(&slot), Some((_, consumed))) = (t_links.inputs.get(next), t.inputs.get(next))
            else {
                state[n] = DONE;
                post.push(n);
                stack.pop();
                continue;
            };
            top.1 += 1;
            let child = match index.entry(slot) {
                Entry::Occupied(o) if state[*o.get()] == OPEN => {
                    return Err(Error::Cycle {
                        lot: nodes[*o.get()].lot.id.to_string(),
                    });
                }
                Entry::Occupied(o) => *o.get(),
                Entry::Vacant(v) => {
                    let c = discover(
                        slot,
                        &format_args!("transformation {}", t.id),
                        &mut nodes,
                        &mut edges,
                        &mut state,
                        &mut movements,
                    )?;
                    v.insert(c);
                    stack.push((c, 0));
                    c
                }
            };
            let consumed_dry = dry(consumed.kilograms(), nodes[child].lot.moisture);
            edges[nodes[n].first_edge + next] = Edge {
                input: child,
                consumed_dry,
            };
        }
        Ok(Upstream { nodes, edges, post })
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The input edges of node `n`.
    fn inputs(&self, n: usize) -> &[Edge] {
        let node = &self.nodes[n];
        &self.edges[node.first_edge..node.first_edge + node.fan_in()]
    }
}

/// Whether two elements are the same: the domain hands out each symbol
/// from one table, so the pointers match first; the text decides
/// otherwise.
fn same(a: Element, b: Element) -> bool {
    std::ptr::eq(a.symbol(), b.symbol()) || a == b
}

/// Elements graded in any of the nodes, by symbol, and each node's grade
/// percent of each (`table[node * elements + k]`), looked up once.
fn grade_table(nodes: &[Node<'_>]) -> (Vec<Element>, Vec<Option<Decimal>>) {
    let mut elements: Vec<Element> = Vec::new();
    for node in nodes {
        for g in &node.lot.grades {
            if !elements.iter().any(|e| same(*e, g.element())) {
                elements.push(g.element());
            }
        }
    }
    elements.sort_by_key(|e| e.symbol());
    let k = elements.len();
    let mut table = vec![None; nodes.len() * k];
    for (n, node) in nodes.iter().enumerate() {
        for g in &node.lot.grades {
            if let Some(i) = elements.iter().position(|e| same(*e, g.element())) {
                table[n * k + i] = Some(g.percent());
            }
        }
    }
    (elements, table)
}

/// Kilograms of `element` in `dry_kg` of `lot`, or `None` unassayed.
fn contained(lot: &Lot, element: Element, dry_kg: Decimal) -> Result<Option<Decimal>, Error> {
    lot.grade(element)
        .map(|g| {
            dry_kg
                .checked_mul(g.percent())
                .map(|x| x * PER_CENT)
                .ok_or(Error::Arithmetic)
        })
        .transpose()
}

/// The provenance of `lot` in `graph`, visiting at most
/// `limits.max_upstream_lots` lots.
pub fn attribute<'g>(
    graph: &'g LotGraph,
    lot: &LotId,
    limits: Limits,
) -> Result<Provenance<'g>, Error> {
    let up = Upstream::walk(graph, lot, limits)?;
    let root = up.post.last().copied().unwrap_or(0);
    let (elements, table) = grade_table(&up.nodes);
    let shares = element_shares(graph, &up, root, &elements, &table)?;

    let mut origins = Vec::new();
    for node in &up.nodes {
        if node.producer.is_none() {
            let site = graph.site_at(node.links.site, &format_args!("lot {}", node.lot.id))?;
            origins.push(OriginLot {
                lot: &node.lot.id,
                site: &site.id,
                kind: site.kind,
                country: site.country,
                created: node.lot.created,
                index: node.lot.index,
            });
        }
    }
    // Stable: equal times keep the walk's order (no string comparisons).
    origins.sort_by_key(|o| o.created);

    // Each transformation once, in post order (inputs' makers first).
    let mut seen: SlotMap<()> = SlotMap::default();
    let mut steps = Vec::new();
    for &n in &up.post {
        if let Some((slot, t, _)) = up.nodes[n].producer
            && seen.insert(slot, ()).is_none()
        {
            steps.push(Step {
                transformation: &t.id,
                site: &t.site,
                time: t.time,
                index: t.index,
            });
        }
    }

    let custody = custody(&up);
    let sites = sites_passed(graph, &up)?;
    Ok(Provenance {
        lot: &up.nodes[root].lot.id,
        upstream_lots: up.len(),
        origins,
        elements: shares,
        steps,
        custody,
        sites,
    })
}

/// `x` with its decimal point moved `places` to the left, exactly (only
/// the scale changes), or `None` when the scale would pass 28.
fn shifted(x: Decimal, places: u32) -> Option<Decimal> {
    let scale = x.scale().checked_add(places)?;
    if scale > 28 {
        return None;
    }
    let mut y = x;
    y.set_scale(scale).ok()?;
    Some(y)
}

/// Digits before the decimal point of a positive `x` (0 below 1).
fn integer_digits(x: Decimal) -> u32 {
    let whole = x.mantissa().unsigned_abs() / 10u128.pow(x.scale());
    whole.checked_ilog10().map_or(0, |d| d + 1)
}

/// Per element: the weight of the root is 1; in reverse post order (each
/// lot before its inputs, after every lot it feeds), a produced lot hands
/// its weight to its inputs in proportion to the element each contributed;
/// what reaches an origin is its share.
///
/// Each input's part is `w × c / total`. One division per lot, not per
/// input: `r = w / total'` with `total' = total / 10^d` (`d` = digits of
/// `total` before the point, so `r` keeps all 28 digits), then
/// `r × c / 10^d` per input, the shifts being exact changes of scale. An
/// input that holds all of the element gets `w` itself.
fn element_shares<'g>(
    graph: &'g LotGraph,
    up: &Upstream<'g>,
    root: usize,
    elements: &[Element],
    table: &[Option<Decimal>],
) -> Result<Vec<ElementShares<'g>>, Error> {
    let k = elements.len();
    // Origin sites once: each origin node's slot in `sites`.
    let mut slot_of: SlotMap<usize> = SlotMap::default();
    let mut sites: Vec<&'g Site> = Vec::new();
    let mut origin_slot: Vec<Option<usize>> = vec![None; up.nodes.len()];
    for (n, node) in up.nodes.iter().enumerate() {
        if node.producer.is_none() {
            let next = sites.len();
            let slot = *slot_of.entry(node.links.site).or_insert(next);
            if slot == next {
                sites.push(graph.site_at(node.links.site, &"an origin lot")?);
            }
            origin_slot[n] = Some(slot);
        }
    }
    let mut out = Vec::with_capacity(elements.len());
    let mut weight = vec![Decimal::ZERO; up.nodes.len()];
    let mut by_slot = vec![Decimal::ZERO; sites.len()];
    let mut parts: Vec<Decimal> = Vec::new();
    for (e, &element) in elements.iter().enumerate() {
        weight.iter_mut().for_each(|w| *w = Decimal::ZERO);
        by_slot.iter_mut().for_each(|w| *w = Decimal::ZERO);
        weight[root] = Decimal::ONE;
        let mut unknown = Decimal::ZERO;
        let mut unassayed: BTreeSet<&'g LotId> = BTreeSet::new();
        for &n in up.post.iter().rev() {
            let w = weight[n];
            let node = &up.nodes[n];
            if w.is_zero() || node.producer.is_none() {
                continue;
            }
            // Each input's part in kg × percent: the fractions below do
            // not need the division by 100.
            parts.clear();
            let mut total = Decimal::ZERO;
            let mut holders = 0usize;
            for edge in up.inputs(n) {
                let c = match table[edge.input * k + e] {
                    Some(percent) => edge
                        .consumed_dry
                        .checked_mul(percent)
                        .ok_or(Error::Arithmetic)?,
                    None => {
                        unassayed.insert(&up.nodes[edge.input].lot.id);
                        Decimal::ZERO
                    }
                };
                if !c.is_zero() {
                    holders += 1;
                }
                total = total.checked_add(c).ok_or(Error::Arithmetic)?;
                parts.push(c);
            }
            if total.is_zero() {
                unknown += w;
                continue;
            }
            if holders == 1 {
                // All of the element came from one input: it gets `w`.
                for (edge, c) in up.inputs(n).iter().zip(&parts) {
                    if !c.is_zero() {
                        weight[edge.input] += w;
                    }
                }
                continue;
            }
            let d = integer_digits(total);
            let scaled = shifted(total, d).and_then(|t| w.checked_div(t).map(|r| (r, t)));
            for (edge, c) in up.inputs(n).iter().zip(&parts) {
                if c.is_zero() {
                    continue;
                }
                let handed = match scaled.and_then(|(r, _)| shifted(*c, d).map(|c| (r, c))) {
                    Some((r, c)) => r.checked_mul(c),
                    // w × c first, then ÷ total: dividing first would
                    // leave a tiny quotient with few significant digits.
                    None => w.checked_mul(*c).and_then(|x| x.checked_div(total)),
                }
                .ok_or(Error::Arithmetic)?;
                weight[edge.input] += handed;
            }
        }
        for (n, slot) in origin_slot.iter().enumerate() {
            if let Some(slot) = slot {
                by_slot[*slot] += weight[n];
            }
        }
        let root_lot = up.nodes[root].lot;
        let contained_kg = contained(root_lot, element, root_lot.dry_kg())?;
        let of = |share: Decimal| contained_kg.map(|c| c * share);
        let mut site_shares = Vec::new();
        let mut by_country: BTreeMap<Country, Decimal> = BTreeMap::new();
        for (site, share) in sites.iter().zip(&by_slot) {
            if share.is_zero() {
                continue;
            }
            *by_country.entry(site.country).or_default() += *share;
            site_shares.push(SiteShare {
                site: &site.id,
                kind: site.kind,
                country: site.country,
                share: *share,
                contained_kg: of(*share),
            });
        }
        site_shares.sort_by(|a, b| b.share.cmp(&a.share).then_with(|| a.site.cmp(b.site)));
        let mut countries: Vec<CountryShare> = by_country
            .into_iter()
            .map(|(country, share)| CountryShare {
                country,
                share,
                contained_kg: of(share),
            })
            .collect();
        countries.sort_by(|a, b| {
            b.share
                .cmp(&a.share)
                .then_with(|| a.country.cmp(&b.country))
        });
        out.push(ElementShares {
            element,
            contained_kg,
            by_site: site_shares,
            by_country: countries,
            unknown,
            unassayed: unassayed.into_iter().collect(),
        });
    }
    Ok(out)
}

/// The custody spells of every upstream lot.
fn custody<'g>(up: &Upstream<'g>) -> Vec<CustodySpell<'g>> {
    // Which transformation consumed each lot (within the graph).
    let mut consumer: Vec<Option<&Transformation>> = vec![None; up.nodes.len()];
    for (n, node) in up.nodes.iter().enumerate() {
        if let Some((_, t, _)) = node.producer {
            for edge in up.inputs(n) {
                consumer[edge.input].get_or_insert(t);
            }
        }
    }
    let mut spells = Vec::new();
    for (n, node) in up.nodes.iter().enumerate() {
        let lot = node.lot;
        let mut holder = Some((&lot.custodian, &lot.site, lot.created, lot.index));
        for m in &lot.movements {
            if let Some((custodian, site, from, index)) = holder.take() {
                spells.push(CustodySpell {
                    lot: &lot.id,
                    custodian,
                    site,
                    from,
                    until: Some(m.shipped),
                    ended_by: SpellEnd::Shipped(&m.shipment),
                    index,
                });
            }
            if let Some(a) = &m.arrival {
                holder = Some((&m.receiver, &m.to, a.time, a.index));
            }
        }
        if let Some((custodian, site, from, index)) = holder {
            let (until, ended_by) = match consumer[n] {
                Some(t) => (Some(t.time), SpellEnd::Consumed(&t.id)),
                None => (None, SpellEnd::Open),
            };
            spells.push(CustodySpell {
                lot: &lot.id,
                custodian,
                site,
                from,
                until,
                ended_by,
                index,
            });
        }
    }
    // By start time, then in the walk's order (stable): no string
    // comparisons, no moves of the spells while sorting.
    let mut order: Vec<(Timestamp, usize)> = spells.iter().map(|s| s.from).zip(0..).collect();
    order.sort_unstable();
    let mut slots: Vec<Option<CustodySpell<'g>>> = spells.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|(_, i)| slots.get_mut(i).and_then(Option::take))
        .collect()
}

/// Every site the upstream lots were made at, processed at, left from,
/// passed through or arrived at.
fn sites_passed<'g>(graph: &'g LotGraph, up: &Upstream<'g>) -> Result<Vec<SitePassed<'g>>, Error> {
    // Per site slot: its place in `seen`. Roles as a bit set (bit = the
    // role's place in `Role::ALL`): no allocation per site, and read back
    // in the roles' order.
    let mut place: SlotMap<usize> = SlotMap::default();
    let mut seen: Vec<(Slot, u8, Timestamp, Timestamp)> = Vec::new();
    let mut visit = |site: Slot, role: Role, time: Timestamp| {
        let next = seen.len();
        let at = *place.entry(site).or_insert(next);
        if at == next {
            seen.push((site, 0, time, time));
        }
        let entry = &mut seen[at];
        entry.1 |= role.bit();
        entry.2 = entry.2.min(time);
        entry.3 = entry.3.max(time);
    };
    for node in &up.nodes {
        let lot = node.lot;
        match node.producer {
            None => visit(node.links.site, Role::Origin, lot.created),
            Some((_, t, t_links)) => visit(t_links.site, Role::Processing, t.time),
        }
        // Per movement: `from`, `to`, then its `via` sites.
        let mut slots = node.links.moves.iter().copied();
        for m in &lot.movements {
            let (Some(from), Some(to)) = (slots.next(), slots.next()) else {
                break;
            };
            visit(from, Role::Departure, m.shipped);
            for via in slots.by_ref().take(m.via.len()) {
                visit(via, Role::Transit, m.shipped);
            }
            if let Some(a) = &m.arrival {
                visit(to, Role::Arrival, a.time);
            }
        }
    }
    let mut out = Vec::with_capacity(seen.len());
    for (slot, roles, first, last) in seen {
        let site = graph.site_at(slot, &"the lots' history")?;
        out.push(SitePassed {
            site: &site.id,
            kind: site.kind,
            country: site.country,
            roles: Role::ALL
                .into_iter()
                .filter(|r| roles & r.bit() != 0)
                .collect(),
            first,
            last,
        });
    }
    out.sort_by(|a, b| (a.first, &a.site).cmp(&(b.first, &b.site)));
    Ok(out)
}
