//! The lot graph the caller builds from the ledger's projections: sites,
//! lots (with their grades, custodian and movements) and transformations.
//! Every item keeps the log index of the record that states it, so every
//! answer can name its evidence.

use std::collections::HashMap;
use std::fmt;

use rust_decimal::Decimal;

use oretrace_domain::chemistry::{Analyte, Element, GradeUnit};
use oretrace_domain::record::{Basis, SiteKind};
use oretrace_domain::values::{Country, LotId, Mass, PartyId, Percent, SiteId, Timestamp, Token};

use crate::Error;

/// Most inputs one transformation may list: the domain's bound on the
/// items of a record, checked again here for graphs not built by the
/// ledger.
pub const MAX_INPUTS: usize = oretrace_domain::record::MAX_ITEMS;

/// How much of the graph one call may visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most lots in an upstream graph, the lot itself included.
    pub max_upstream_lots: usize,
    /// Most shipments of all those lots together: a lot shipped back and
    /// forth a million times must not make every downstream answer huge.
    pub max_movements: usize,
}

impl Limits {
    /// The default bounds: 50,000 upstream lots, 200,000 shipments.
    pub const DEFAULT: Limits = Limits {
        max_upstream_lots: 50_000,
        max_movements: 200_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A site as provenance needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub kind: SiteKind,
    pub country: Country,
    /// Log index of the site's record.
    pub index: u64,
}

/// An element grade on the dry basis, in percent of the dry mass, with
/// its stated uncertainty (± percentage points on the same basis), if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grade {
    element: Element,
    percent: Decimal,
    uncertainty: Option<Decimal>,
    index: u64,
}

impl Grade {
    /// A dry-basis element grade, as it stands. `index` is the log index
    /// of the assay that states it.
    pub fn dry(
        element: Element,
        percent: Percent,
        uncertainty: Option<Percent>,
        index: u64,
    ) -> Self {
        Grade {
            element,
            percent: percent.value(),
            uncertainty: uncertainty.map(|u| u.value()),
            index,
        }
    }

    /// The element grade an assay states, converted with the domain's
    /// chemistry: unit to percent, oxide to element (÷ the oxide factor),
    /// wet basis to dry (÷ (1 − moisture)). `uncertainty` is ± in the
    /// assay's own analyte, unit and basis, and is converted alike.
    /// Refuses a result above 100 % (a wet grade too high for the
    /// moisture).
    pub fn from_assay(
        analyte: Analyte,
        value: Decimal,
        unit: GradeUnit,
        basis: Basis,
        moisture: Percent,
        uncertainty: Option<Decimal>,
        index: u64,
    ) -> Result<Self, Error> {
        let convert = |v: Decimal| -> Result<Decimal, Error> {
            let element = analyte.to_element_grade(unit.to_percent(v));
            let dry = match basis {
                Basis::Dry => element,
                Basis::Wet => {
                    let solids = Decimal::ONE - moisture.value() / Decimal::ONE_HUNDRED;
                    element.checked_div(solids).ok_or(Error::Arithmetic)?
                }
            };
            Ok(dry)
        };
        let bad = |why: String| Error::Grade {
            element: analyte.element().symbol(),
            why,
        };
        if value.is_sign_negative() && !value.is_zero() {
            return Err(bad("a grade may not be negative".into()));
        }
        let percent = convert(value)?;
        let uncertainty = uncertainty
            .map(|u| {
                if u.is_sign_negative() && !u.is_zero() {
                    return Err(bad("an uncertainty may not be negative".into()));
                }
                convert(u)
            })
            .transpose()?;
        let percent = Percent::new(percent)
            .map_err(|_| bad(format!("{percent} % on the dry basis is over 100 %")))?;
        let uncertainty = uncertainty
            .map(|u| {
                Percent::new(u)
                    .map_err(|_| bad(format!("an uncertainty of {u} points is over 100")))
            })
            .transpose()?;
        Ok(Grade::dry(analyte.element(), percent, uncertainty, index))
    }

    pub fn element(&self) -> Element {
        self.element
    }

    /// Percent of the dry mass.
    pub fn percent(&self) -> Decimal {
        self.percent
    }

    /// ± percentage points, when the assay states it.
    pub fn uncertainty(&self) -> Option<Decimal> {
        self.uncertainty
    }

    /// Log index of the assay.
    pub fn index(&self) -> u64 {
        self.index
    }
}

/// A receipt of one lot: when, and what it weighed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub time: Timestamp,
    pub wet_mass: Mass,
    /// Log index of the receipt.
    pub index: u64,
}

/// A shipment of a lot, received or not yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    pub shipment: Token,
    pub from: SiteId,
    /// Sites passed on the way (ports), in order.
    pub via: Vec<SiteId>,
    pub to: SiteId,
    pub shipper: PartyId,
    pub receiver: PartyId,
    pub shipped: Timestamp,
    pub arrival: Option<Arrival>,
    /// Log index of the shipment.
    pub index: u64,
}

/// A lot: where and when it was made, by which transformation (none for
/// a lot commissioned at a site: an origin), its mass, its grades and its
/// movements in time order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    pub id: LotId,
    /// Where it was commissioned or produced.
    pub site: SiteId,
    /// Its custodian when it was made.
    pub custodian: PartyId,
    pub created: Timestamp,
    /// The transformation that produced it; `None` for a commissioned lot.
    pub produced_by: Option<Token>,
    /// Wet mass as recorded when it was made.
    pub wet_mass: Mass,
    /// Moisture in percent of the wet mass.
    pub moisture: Percent,
    /// One grade per element at most (the ledger: the latest).
    pub grades: Vec<Grade>,
    pub movements: Vec<Movement>,
    /// Log index of the record that made it (lot or transformation).
    pub index: u64,
}

impl Lot {
    /// Dry mass in kg: wet × (1 − moisture).
    pub fn dry_kg(&self) -> Decimal {
        dry(self.wet_mass.kilograms(), self.moisture)
    }

    /// Its grade of `element`, if assayed.
    pub fn grade(&self, element: Element) -> Option<&Grade> {
        self.grades.iter().find(|g| g.element == element)
    }

    /// Contained mass of `element` in kg (dry mass × grade), if assayed.
    pub fn contained_kg(&self, element: Element) -> Option<Decimal> {
        self.grade(element)
            .map(|g| self.dry_kg() * g.percent * PER_CENT)
    }
}

/// `wet` kg at `moisture` percent, dry.
pub(crate) fn dry(wet: Decimal, moisture: Percent) -> Decimal {
    wet * (Decimal::ONE - moisture.value() * PER_CENT)
}

/// 0.01, exactly: multiplying by it only moves the decimal point, and is
/// much cheaper than dividing by 100.
pub(crate) const PER_CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// A transformation: input lots with the wet mass consumed of each become
/// output lots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transformation {
    pub id: Token,
    pub site: SiteId,
    pub time: Timestamp,
    pub inputs: Vec<(LotId, Mass)>,
    pub outputs: Vec<LotId>,
    /// Log index of the transformation.
    pub index: u64,
}

/// A slot: the dense number an id gets the first time it is named, by its
/// own item or by a reference to it. Walks follow slots, not ids, so a
/// walk hashes nothing but its own small integers.
pub(crate) type Slot = u32;

/// Items of one kind by id, each id with its slot. A slot named by a
/// reference before its item arrives stays empty (and remembers the id,
/// for the error that names it) until the item is added.
#[derive(Clone, Debug)]
struct Slots<K, V> {
    /// Ids are chosen by parties: a hasher keyed at random per process.
    index: HashMap<K, Slot, ahash::RandomState>,
    items: Vec<Option<V>>,
    /// Ids of the slots still empty.
    pending: HashMap<Slot, K>,
}

impl<K, V> Default for Slots<K, V> {
    fn default() -> Self {
        Slots {
            index: HashMap::default(),
            items: Vec::new(),
            pending: HashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone + fmt::Display, V> Slots<K, V> {
    /// The slot of `id`, given a new empty one if it has none yet.
    fn slot(&mut self, id: &K) -> Result<Slot, Error> {
        if let Some(&s) = self.index.get(id) {
            return Ok(s);
        }
        let s = Slot::try_from(self.items.len())
            .map_err(|_| Error::Inconsistent("more than 2^32 items of one kind".into()))?;
        self.index.insert(id.clone(), s);
        self.items.push(None);
        self.pending.insert(s, id.clone());
        Ok(s)
    }

    /// Puts `item` in the slot of `id`; refuses a second item for an id.
    fn fill(&mut self, id: &K, item: V, what: &str) -> Result<Slot, Error> {
        let s = self.slot(id)?;
        let place = &mut self.items[s as usize];
        if place.is_some() {
            return Err(Error::Duplicate(format!("{what} {id}")));
        }
        *place = Some(item);
        self.pending.remove(&s);
        Ok(s)
    }

    fn get(&self, id: &K) -> Option<&V> {
        self.index
            .get(id)
            .and_then(|&s| self.items[s as usize].as_ref())
    }

    fn at(&self, s: Slot) -> Option<&V> {
        self.items.get(s as usize).and_then(Option::as_ref)
    }

    fn contains(&self, id: &K) -> bool {
        self.get(id).is_some()
    }

    /// The id of an empty slot (the one a reference named).
    fn pending_name(&self, s: Slot) -> String {
        self.pending
            .get(&s)
            .map_or_else(|| "?".into(), K::to_string)
    }

    fn values(&self) -> impl Iterator<Item = &V> {
        self.items.iter().flatten()
    }
}

/// A lot's references as slots: its maker, its site and, per movement in
/// order, its `from` and `to` sites then its `via` sites.
#[derive(Clone, Debug)]
pub(crate) struct LotLinks {
    pub(crate) producer: Option<Slot>,
    pub(crate) site: Slot,
    pub(crate) moves: Box<[Slot]>,
}

/// A transformation's references as slots.
#[derive(Clone, Debug)]
pub(crate) struct TransformationLinks {
    pub(crate) site: Slot,
    pub(crate) inputs: Box<[Slot]>,
    pub(crate) outputs: Box<[Slot]>,
}

/// Sites, lots and transformations, by id. Adding checks each item on its
/// own (no duplicates, bounded fan-in); references between items are
/// checked when a walk meets them, so a graph may be built in any order.
/// Every id is interned as it is added (or first named): the references
/// of every item are kept as slots, so walks never hash an id.
#[derive(Clone, Debug, Default)]
pub struct LotGraph {
    sites: Slots<SiteId, Site>,
    lots: Slots<LotId, (Lot, LotLinks)>,
    transformations: Slots<Token, (Transformation, TransformationLinks)>,
}

impl LotGraph {
    pub fn new() -> Self {
        LotGraph::default()
    }

    pub fn add_site(&mut self, site: Site) -> Result<(), Error> {
        if self.sites.contains(&site.id) {
            return Err(Error::Duplicate(format!("site {}", site.id)));
        }
        let id = site.id.clone();
        self.sites.fill(&id, site, "site")?;
        Ok(())
    }

    pub fn add_lot(&mut self, lot: Lot) -> Result<(), Error> {
        if self.lots.contains(&lot.id) {
            return Err(Error::Duplicate(format!("lot {}", lot.id)));
        }
        for (i, g) in lot.grades.iter().enumerate() {
            if lot.grades[..i].iter().any(|h| h.element == g.element) {
                return Err(Error::Duplicate(format!(
                    "grade of {} in lot {}",
                    g.element.symbol(),
                    lot.id
                )));
            }
        }
        let total: Decimal = lot.grades.iter().map(|g| g.percent).sum();
        if total > Decimal::ONE_HUNDRED {
            return Err(Error::Grade {
                element: lot.grades.first().map_or("", |g| g.element.symbol()),
                why: format!(
                    "the grades of lot {} add up to {total} %, more than the lot",
                    lot.id
                ),
            });
        }
        let producer = lot
            .produced_by
            .as_ref()
            .map(|t| self.transformations.slot(t))
            .transpose()?;
        let site = self.sites.slot(&lot.site)?;
        let mut moves = Vec::new();
        for m in &lot.movements {
            moves.push(self.sites.slot(&m.from)?);
            moves.push(self.sites.slot(&m.to)?);
            for via in &m.via {
                moves.push(self.sites.slot(via)?);
            }
        }
        let links = LotLinks {
            producer,
            site,
            moves: moves.into_boxed_slice(),
        };
        let id = lot.id.clone();
        self.lots.fill(&id, (lot, links), "lot")?;
        Ok(())
    }

    pub fn add_transformation(&mut self, t: Transformation) -> Result<(), Error> {
        if self.transformations.contains(&t.id) {
            return Err(Error::Duplicate(format!("transformation {}", t.id)));
        }
        if t.inputs.is_empty() || t.inputs.len() > MAX_INPUTS {
            return Err(Error::FanIn {
                transformation: t.id.to_string(),
                inputs: t.inputs.len(),
            });
        }
        if t.outputs.is_empty() || t.outputs.len() > MAX_INPUTS {
            return Err(Error::FanOut {
                transformation: t.id.to_string(),
                outputs: t.outputs.len(),
            });
        }
        for (i, (id, _)) in t.inputs.iter().enumerate() {
            if t.inputs[..i].iter().any(|(other, _)| other == id) {
                return Err(Error::Duplicate(format!(
                    "input {id} of transformation {}",
                    t.id
                )));
            }
        }
        let site = self.sites.slot(&t.site)?;
        let inputs = t
            .inputs
            .iter()
            .map(|(id, _)| self.lots.slot(id))
            .collect::<Result<Box<[Slot]>, Error>>()?;
        let outputs = t
            .outputs
            .iter()
            .map(|id| self.lots.slot(id))
            .collect::<Result<Box<[Slot]>, Error>>()?;
        let links = TransformationLinks {
            site,
            inputs,
            outputs,
        };
        let id = t.id.clone();
        self.transformations
            .fill(&id, (t, links), "transformation")?;
        Ok(())
    }

    pub fn lot(&self, id: &LotId) -> Option<&Lot> {
        self.lots.get(id).map(|(lot, _)| lot)
    }

    pub fn site(&self, id: &SiteId) -> Option<&Site> {
        self.sites.get(id)
    }

    pub fn transformation(&self, id: &Token) -> Option<&Transformation> {
        self.transformations.get(id).map(|(t, _)| t)
    }

    /// Every transformation, in no particular order.
    pub fn transformations(&self) -> impl Iterator<Item = &Transformation> {
        self.transformations.values().map(|(t, _)| t)
    }

    pub(crate) fn need_lot(
        &self,
        id: &LotId,
        referenced_by: &dyn fmt::Display,
    ) -> Result<&Lot, Error> {
        self.lot(id).ok_or_else(|| Error::MissingLot {
            lot: id.to_string(),
            referenced_by: referenced_by.to_string(),
        })
    }

    pub(crate) fn need_transformation(
        &self,
        id: &Token,
        referenced_by: &dyn fmt::Display,
    ) -> Result<&Transformation, Error> {
        self.transformation(id)
            .ok_or_else(|| Error::MissingTransformation {
                transformation: id.to_string(),
                referenced_by: referenced_by.to_string(),
            })
    }

    /// The slot of lot `id`, when the lot is in the graph.
    pub(crate) fn lot_slot(&self, id: &LotId) -> Option<Slot> {
        self.lots
            .index
            .get(id)
            .copied()
            .filter(|&s| self.lots.at(s).is_some())
    }

    /// The lot in slot `s`, or the error naming the id a reference gave.
    pub(crate) fn lot_at(
        &self,
        s: Slot,
        referenced_by: &dyn fmt::Display,
    ) -> Result<(&Lot, &LotLinks), Error> {
        self.lots
            .at(s)
            .map(|(lot, links)| (lot, links))
            .ok_or_else(|| Error::MissingLot {
                lot: self.lots.pending_name(s),
                referenced_by: referenced_by.to_string(),
            })
    }

    pub(crate) fn site_at(
        &self,
        s: Slot,
        referenced_by: &dyn fmt::Display,
    ) -> Result<&Site, Error> {
        self.sites.at(s).ok_or_else(|| Error::MissingSite {
            site: self.sites.pending_name(s),
            referenced_by: referenced_by.to_string(),
        })
    }

    pub(crate) fn transformation_at(
        &self,
        s: Slot,
        referenced_by: &dyn fmt::Display,
    ) -> Result<(&Transformation, &TransformationLinks), Error> {
        self.transformations
            .at(s)
            .map(|(t, links)| (t, links))
            .ok_or_else(|| Error::MissingTransformation {
                transformation: self.transformations.pending_name(s),
                referenced_by: referenced_by.to_string(),
            })
    }
}

/// A hasher for slots: they are dense integers this crate hands out, not
/// ids a party chooses, so a multiplicative hash (no flooding to fear) is
/// enough, and far cheaper than SipHash.
#[derive(Clone, Copy, Default)]
pub(crate) struct SlotHasher(u64);

impl std::hash::Hasher for SlotHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(n)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

/// A map keyed by slots.
pub(crate) type SlotMap<V> = HashMap<Slot, V, std::hash::BuildHasherDefault<SlotHasher>>;
