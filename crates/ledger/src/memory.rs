//! An in-memory [`Store`]: the reference backend for tests and the model
//! the conformance suite holds others to. Not durable.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use oretrace_tlog::hash::Hash;
use oretrace_tlog::tree::NodeId;

use crate::agreements::{
    AgreementState, ClauseState, ProgressState, ReportState, ResourceState, Select, VersionState,
};
use crate::state::{Change, EventState, KeyState, LotState, PartyState, ShipmentState, SiteState};
use crate::store::{
    Batch, EVENT_TERM_VALUES_MAX, ErrorKind, EventSelect, Inserted, NamedQueryRow, Quota, Removed,
    StateView, Store, StoreError, StoreResult, SubscriptionRow, term_prefix_end,
};

#[derive(Clone, Debug, Default)]
struct Inner {
    entries: Vec<Vec<u8>>,
    record_hashes: HashMap<[u8; 32], u64>,
    hashes: HashMap<NodeId, Hash>,
    checkpoint: Option<Vec<u8>>,
    parties: BTreeMap<String, PartyState>,
    keys: BTreeMap<(String, u32), KeyState>,
    sites: BTreeMap<String, SiteState>,
    lots: BTreeMap<String, LotState>,
    shipments: BTreeMap<String, ShipmentState>,
    lot_events: BTreeMap<String, Vec<u64>>,
    /// Captured events by log index, and their ids.
    events: BTreeMap<u64, EventState>,
    event_ids: HashMap<String, u64>,
    /// The events' index terms and the events that carry each: what
    /// `event_terms` is to the SQL backends, keyed by (term, index).
    event_terms: BTreeSet<(String, u64)>,
    agreements: BTreeMap<String, AgreementState>,
    versions: BTreeMap<(String, u32), VersionState>,
    clauses: BTreeMap<(String, u32, u32), ClauseState>,
    progress: BTreeMap<(String, u64), ProgressState>,
    reports: BTreeMap<String, ReportState>,
    resources: BTreeMap<String, ResourceState>,
    /// How far an unfinished rebuild got.
    rebuild: Option<u64>,
    /// Kept beside the log: not projections.
    named_queries: BTreeMap<String, NamedQueryRow>,
    subscriptions: BTreeMap<String, SubscriptionRow>,
}

impl Inner {
    fn apply(&mut self, change: &Change) {
        match change.clone() {
            Change::PutParty(p) => {
                self.parties.insert(p.id().to_string(), p);
            }
            Change::PutKey(k) => {
                self.keys.insert((k.name().to_owned(), k.key_id()), k);
            }
            Change::RemoveKey { name, key_id } => {
                self.keys.remove(&(name, key_id));
            }
            Change::PutSite(s) => {
                self.sites.insert(s.id().to_string(), s);
            }
            Change::PutLot(l) => {
                self.lots.insert(l.id().to_string(), l);
            }
            Change::PutShipment(s) => {
                self.shipments.insert(s.id().to_string(), s);
            }
            Change::PutEvent(e) => {
                self.event_ids.insert(e.event_id().to_string(), e.index());
                for term in e.terms() {
                    self.event_terms.insert((term.clone(), e.index()));
                }
                self.events.insert(e.index(), e);
            }
            Change::LotEvent { lot, index } => {
                let events = self.lot_events.entry(lot).or_default();
                if let Err(at) = events.binary_search(&index) {
                    events.insert(at, index);
                }
            }
            Change::PutAgreement(a) => {
                self.agreements.insert(a.id.to_string(), a);
            }
            Change::PutAgreementVersion(v) => {
                self.versions.insert((v.id().to_string(), v.version()), v);
            }
            Change::PutClause(c) => {
                self.clauses
                    .insert((c.agreement.to_string(), c.version, c.clause), c);
            }
            Change::PutProgress(p) => {
                self.progress
                    .insert((p.record().agreement.to_string(), p.index()), p);
            }
            Change::PutReport(r) => {
                self.reports.insert(r.id().to_string(), r);
            }
            Change::PutResource(r) => {
                self.resources.insert(r.id().to_string(), r);
            }
        }
    }
}

/// The in-memory store: one handle writes its data at a time, as the
/// contract's single-writer rule says.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Arc<RwLock<Inner>>,
    /// Set while a handle on this data is open; cleared when it drops.
    open: Arc<AtomicBool>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            inner: Arc::default(),
            open: Arc::new(AtomicBool::new(true)),
        }
    }
}

impl Drop for MemoryStore {
    fn drop(&mut self) {
        self.open.store(false, Ordering::SeqCst);
    }
}

/// Where a memory store's data lives between handles: what a data
/// directory is to a file-backed store. For the conformance suite's
/// reopen checks.
#[derive(Clone, Debug, Default)]
pub struct MemoryPlace {
    inner: Arc<RwLock<Inner>>,
    open: Arc<AtomicBool>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens the data at `place` as its one writer: refused as a
    /// [`ErrorKind::Conflict`] while another handle on it is open.
    pub fn open_at(place: &MemoryPlace) -> StoreResult<Self> {
        if place.open.swap(true, Ordering::SeqCst) {
            return Err(StoreError::new(
                ErrorKind::Conflict,
                "the memory store is in use by another handle",
            ));
        }
        Ok(MemoryStore {
            inner: place.inner.clone(),
            open: place.open.clone(),
        })
    }

    fn read(&self) -> StoreResult<std::sync::RwLockReadGuard<'_, Inner>> {
        self.inner
            .read()
            .map_err(|_| StoreError::new(ErrorKind::Corrupt, "lock poisoned"))
    }

    fn write(&self) -> StoreResult<std::sync::RwLockWriteGuard<'_, Inner>> {
        self.inner
            .write()
            .map_err(|_| StoreError::new(ErrorKind::Corrupt, "lock poisoned"))
    }
}

/// At most `limit` values of `map` whose keys come strictly after `after`.
fn page<V: Clone>(map: &BTreeMap<String, V>, after: Option<&str>, limit: usize) -> Vec<V> {
    use std::ops::Bound;
    let from = after.map_or(Bound::Unbounded, |a| Bound::Excluded(a.to_owned()));
    map.range((from, Bound::Unbounded))
        .take(limit)
        .map(|(_, v)| v.clone())
        .collect()
}

impl StateView for MemoryStore {
    fn lot_entries(&self, lot: &str) -> StoreResult<Vec<u64>> {
        Store::lot_events(self, lot)
    }
    fn event_index(&self, event_id: &str) -> StoreResult<Option<u64>> {
        Ok(self.read()?.event_ids.get(event_id).copied())
    }
    fn party(&self, id: &str) -> StoreResult<Option<PartyState>> {
        Ok(self.read()?.parties.get(id).cloned())
    }
    fn key(&self, name: &str, key_id: u32) -> StoreResult<Option<KeyState>> {
        Ok(self.read()?.keys.get(&(name.to_owned(), key_id)).cloned())
    }
    fn site(&self, id: &str) -> StoreResult<Option<SiteState>> {
        Ok(self.read()?.sites.get(id).cloned())
    }
    fn lot(&self, id: &str) -> StoreResult<Option<LotState>> {
        Ok(self.read()?.lots.get(id).cloned())
    }
    fn shipment(&self, id: &str) -> StoreResult<Option<ShipmentState>> {
        Ok(self.read()?.shipments.get(id).cloned())
    }
    fn find_record(&self, record_hash: &[u8; 32]) -> StoreResult<Option<u64>> {
        Ok(self.read()?.record_hashes.get(record_hash).copied())
    }
    fn agreement(&self, id: &str) -> StoreResult<Option<AgreementState>> {
        Ok(self.read()?.agreements.get(id).cloned())
    }
    fn agreement_version(&self, id: &str, version: u32) -> StoreResult<Option<VersionState>> {
        Ok(self
            .read()?
            .versions
            .get(&(id.to_owned(), version))
            .cloned())
    }
    fn clause(&self, id: &str, version: u32, clause: u32) -> StoreResult<Option<ClauseState>> {
        Ok(self
            .read()?
            .clauses
            .get(&(id.to_owned(), version, clause))
            .cloned())
    }
    fn report(&self, id: &str) -> StoreResult<Option<ReportState>> {
        Ok(self.read()?.reports.get(id).cloned())
    }
    fn resource(&self, id: &str) -> StoreResult<Option<ResourceState>> {
        Ok(self.read()?.resources.get(id).cloned())
    }
    fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>> {
        let inner = self.read()?;
        Ok(usize::try_from(index)
            .ok()
            .and_then(|i| inner.entries.get(i))
            .cloned())
    }
}

impl Store for MemoryStore {
    /// A copy of the whole state: what is integrated later is not in it.
    fn snapshot(&self) -> StoreResult<Box<dyn StateView + '_>> {
        Ok(Box::new(MemoryStore {
            inner: Arc::new(RwLock::new(self.read()?.clone())),
            open: Arc::new(AtomicBool::new(true)),
        }))
    }

    fn size(&self) -> StoreResult<u64> {
        Ok(self.read()?.entries.len() as u64)
    }

    fn integrate(&self, batch: &Batch) -> StoreResult<()> {
        let mut inner = self.write()?;
        let size = inner.entries.len() as u64;
        for (i, row) in batch.entries.iter().enumerate() {
            if row.index != size + i as u64 {
                return Err(StoreError::new(
                    ErrorKind::Conflict,
                    format!(
                        "entry index {} is not the next index {}",
                        row.index,
                        size + i as u64
                    ),
                ));
            }
            if inner.record_hashes.contains_key(&row.record_hash)
                || batch.entries[..i]
                    .iter()
                    .any(|r| r.record_hash == row.record_hash)
            {
                return Err(StoreError::new(
                    ErrorKind::Conflict,
                    format!("record of entry {} is already stored", row.index),
                ));
            }
        }
        if let Some((id, _)) = batch
            .hashes
            .iter()
            .find(|(id, _)| inner.hashes.contains_key(id))
        {
            return Err(StoreError::new(
                ErrorKind::Conflict,
                format!("hash {id} is already stored"),
            ));
        }
        for row in &batch.entries {
            inner.entries.push(row.entry.clone());
            inner.record_hashes.insert(row.record_hash, row.index);
        }
        for (id, hash) in &batch.hashes {
            inner.hashes.insert(*id, *hash);
        }
        for change in &batch.changes {
            inner.apply(change);
        }
        Ok(())
    }

    fn read_hashes(&self, ids: &[NodeId]) -> StoreResult<Vec<Hash>> {
        let inner = self.read()?;
        ids.iter()
            .map(|id| {
                inner.hashes.get(id).copied().ok_or_else(|| {
                    StoreError::new(ErrorKind::NotFound, format!("no stored hash at {id}"))
                })
            })
            .collect()
    }

    fn read_entries(&self, start: u64, count: u64) -> StoreResult<Vec<Vec<u8>>> {
        let inner = self.read()?;
        let end = start
            .checked_add(count)
            .ok_or_else(|| StoreError::new(ErrorKind::NotFound, "range overflows"))?;
        if end > inner.entries.len() as u64 {
            return Err(StoreError::new(
                ErrorKind::NotFound,
                format!(
                    "entries {start}..{end} are beyond the log size {}",
                    inner.entries.len()
                ),
            ));
        }
        Ok(inner.entries[start as usize..end as usize].to_vec())
    }

    fn checkpoint(&self) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.read()?.checkpoint.clone())
    }

    fn swap_checkpoint(&self, prev: Option<&[u8]>, next: &[u8]) -> StoreResult<bool> {
        let mut inner = self.write()?;
        if inner.checkpoint.as_deref() != prev {
            return Ok(false);
        }
        inner.checkpoint = Some(next.to_vec());
        Ok(true)
    }

    fn lot_events(&self, lot: &str) -> StoreResult<Vec<u64>> {
        Ok(self
            .read()?
            .lot_events
            .get(lot)
            .cloned()
            .unwrap_or_default())
    }

    fn event(&self, event_id: &str) -> StoreResult<Option<EventState>> {
        let inner = self.read()?;
        Ok(inner
            .event_ids
            .get(event_id)
            .and_then(|i| inner.events.get(i))
            .cloned())
    }

    fn select_events(&self, select: &EventSelect) -> StoreResult<Vec<EventState>> {
        let inner = self.read()?;
        let mut found: Vec<&EventState> =
            inner.events.values().filter(|e| select.admits(e)).collect();
        found.sort_by_key(|e| select.key_of(e));
        if select.descending {
            found.reverse();
        }
        Ok(found.into_iter().take(select.limit).cloned().collect())
    }

    fn event_term_values(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        use std::ops::Bound;
        let inner = self.read()?;
        let end = term_prefix_end(prefix);
        let mut values = Vec::new();
        // The first (term, index) key from the cursor on: past every key of
        // `after` (index u64::MAX is the last), or at the prefix.
        let mut from = match after {
            Some(a) if a >= prefix => Bound::Excluded((a.to_owned(), u64::MAX)),
            _ => Bound::Included((prefix.to_owned(), 0)),
        };
        // One seek per value, as the SQL backends do.
        while values.len() < limit.min(EVENT_TERM_VALUES_MAX) {
            let Some((term, _)) = inner.event_terms.range((from, Bound::Unbounded)).next() else {
                break;
            };
            if end.as_deref().is_some_and(|end| term.as_str() >= end) {
                break;
            }
            from = Bound::Excluded((term.clone(), u64::MAX));
            values.push(term.clone());
        }
        Ok(values)
    }

    fn parties(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<PartyState>> {
        Ok(page(&self.read()?.parties, after, limit))
    }

    fn sites(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<SiteState>> {
        Ok(page(&self.read()?.sites, after, limit))
    }

    fn lots(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<LotState>> {
        Ok(page(&self.read()?.lots, after, limit))
    }

    fn shipments(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<ShipmentState>> {
        Ok(page(&self.read()?.shipments, after, limit))
    }

    fn agreements(&self, select: &Select) -> StoreResult<Vec<AgreementState>> {
        Ok(self
            .read()?
            .agreements
            .values()
            .filter(|a| select.admits(a.id.as_str(), &a.terms(), a.overdue_from()))
            .take(select.limit)
            .cloned()
            .collect())
    }

    fn agreement_versions(&self, id: &str) -> StoreResult<Vec<VersionState>> {
        use std::ops::Bound;
        Ok(self
            .read()?
            .versions
            .range((
                Bound::Included((id.to_owned(), 0)),
                Bound::Included((id.to_owned(), u32::MAX)),
            ))
            .map(|(_, v)| v.clone())
            .collect())
    }

    fn clauses(
        &self,
        id: &str,
        version: u32,
        after: Option<u32>,
        limit: usize,
    ) -> StoreResult<Vec<ClauseState>> {
        use std::ops::Bound;
        let from = match after {
            Some(a) => Bound::Excluded((id.to_owned(), version, a)),
            None => Bound::Included((id.to_owned(), version, 0)),
        };
        Ok(self
            .read()?
            .clauses
            .range((from, Bound::Included((id.to_owned(), version, u32::MAX))))
            .take(limit)
            .map(|(_, c)| c.clone())
            .collect())
    }

    fn progress(
        &self,
        id: &str,
        after: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<ProgressState>> {
        use std::ops::Bound;
        let from = match after {
            Some(a) => Bound::Excluded((id.to_owned(), a)),
            None => Bound::Included((id.to_owned(), 0)),
        };
        Ok(self
            .read()?
            .progress
            .range((from, Bound::Included((id.to_owned(), u64::MAX))))
            .take(limit)
            .map(|(_, p)| p.clone())
            .collect())
    }

    fn reports(&self, select: &Select) -> StoreResult<Vec<ReportState>> {
        Ok(self
            .read()?
            .reports
            .values()
            .filter(|r| select.admits_ignoring_overdue(r.id().as_str(), &r.terms()))
            .take(select.limit)
            .cloned()
            .collect())
    }

    fn resources(&self, select: &Select) -> StoreResult<Vec<ResourceState>> {
        Ok(self
            .read()?
            .resources
            .values()
            .filter(|r| select.admits_ignoring_overdue(r.id().as_str(), &r.terms()))
            .take(select.limit)
            .cloned()
            .collect())
    }

    fn clear_projections(&self) -> StoreResult<()> {
        let mut inner = self.write()?;
        inner.agreements.clear();
        inner.versions.clear();
        inner.clauses.clear();
        inner.progress.clear();
        inner.reports.clear();
        inner.resources.clear();
        inner.parties.clear();
        inner.keys.clear();
        inner.sites.clear();
        inner.lots.clear();
        inner.shipments.clear();
        inner.lot_events.clear();
        inner.events.clear();
        inner.event_ids.clear();
        inner.event_terms.clear();
        inner.rebuild = Some(0);
        Ok(())
    }

    fn apply_changes(&self, changes: &[Change], through: u64) -> StoreResult<()> {
        let mut inner = self.write()?;
        changes.iter().for_each(|c| inner.apply(c));
        inner.rebuild = Some(through);
        Ok(())
    }

    fn rebuild_progress(&self) -> StoreResult<Option<u64>> {
        Ok(self.read()?.rebuild)
    }

    fn finish_rebuild(&self) -> StoreResult<()> {
        self.write()?.rebuild = None;
        Ok(())
    }

    fn named_query(&self, name: &str) -> StoreResult<Option<NamedQueryRow>> {
        Ok(self.read()?.named_queries.get(name).cloned())
    }

    fn named_queries(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<NamedQueryRow>> {
        Ok(page(&self.read()?.named_queries, after, limit))
    }

    fn insert_named_query(&self, row: &NamedQueryRow, quota: Quota) -> StoreResult<Inserted> {
        let mut inner = self.write()?;
        let all = &inner.named_queries;
        if all.contains_key(&row.name) {
            return Ok(Inserted::Exists);
        }
        if all.values().filter(|q| q.owner == row.owner).count() as u64 >= quota.per_owner {
            return Ok(Inserted::OwnerFull);
        }
        if all.len() as u64 >= quota.total {
            return Ok(Inserted::AllFull);
        }
        inner.named_queries.insert(row.name.clone(), row.clone());
        Ok(Inserted::Done)
    }

    fn delete_named_query(&self, name: &str, owner: &str) -> StoreResult<Removed> {
        let mut inner = self.write()?;
        let Some(query) = inner.named_queries.get(name) else {
            return Ok(Removed::Missing);
        };
        if query.owner != owner {
            return Ok(Removed::NotOwner(query.owner.clone()));
        }
        let on_it = |s: &SubscriptionRow| s.query == name;
        let others = inner
            .subscriptions
            .values()
            .filter(|s| on_it(s) && s.owner != owner)
            .count() as u64;
        if others > 0 {
            return Ok(Removed::Subscribed(others));
        }
        let before = inner.subscriptions.len();
        inner.subscriptions.retain(|_, s| !on_it(s));
        let subscriptions = (before - inner.subscriptions.len()) as u64;
        inner.named_queries.remove(name);
        Ok(Removed::Done { subscriptions })
    }

    fn subscription(&self, id: &str) -> StoreResult<Option<SubscriptionRow>> {
        Ok(self.read()?.subscriptions.get(id).cloned())
    }

    fn subscriptions(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<SubscriptionRow>> {
        use std::ops::Bound;
        let from = after.map_or(Bound::Unbounded, |a| Bound::Excluded(a.to_owned()));
        Ok(self
            .read()?
            .subscriptions
            .range((from, Bound::Unbounded))
            .map(|(_, s)| s)
            .filter(|s| s.owner == owner)
            .take(limit)
            .cloned()
            .collect())
    }

    fn insert_subscription(&self, row: &SubscriptionRow, quota: Quota) -> StoreResult<Inserted> {
        let mut inner = self.write()?;
        if inner.subscriptions.contains_key(&row.id) {
            return Ok(Inserted::Exists);
        }
        if !inner.named_queries.contains_key(&row.query) {
            return Ok(Inserted::NoQuery);
        }
        let all = &inner.subscriptions;
        if all.values().filter(|s| s.owner == row.owner).count() as u64 >= quota.per_owner {
            return Ok(Inserted::OwnerFull);
        }
        if all.len() as u64 >= quota.total {
            return Ok(Inserted::AllFull);
        }
        inner.subscriptions.insert(row.id.clone(), row.clone());
        Ok(Inserted::Done)
    }

    fn delete_subscription(&self, id: &str, owner: &str) -> StoreResult<bool> {
        let mut inner = self.write()?;
        if inner
            .subscriptions
            .get(id)
            .is_some_and(|s| s.owner == owner)
        {
            inner.subscriptions.remove(id);
            return Ok(true);
        }
        Ok(false)
    }

    fn due_subscriptions(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<SubscriptionRow>> {
        let inner = self.read()?;
        let mut due: Vec<SubscriptionRow> = inner
            .subscriptions
            .values()
            .filter(|s| s.due_ms.is_some_and(|d| d <= now_ms))
            .cloned()
            .collect();
        due.sort_by(|a, b| (a.due_ms, &a.id).cmp(&(b.due_ms, &b.id)));
        due.truncate(limit);
        Ok(due)
    }

    fn advance_subscription(
        &self,
        id: &str,
        expected: u64,
        progress: &str,
        due_ms: Option<i64>,
    ) -> StoreResult<bool> {
        let mut inner = self.write()?;
        match inner.subscriptions.get_mut(id) {
            Some(s) if s.version == expected => {
                s.progress = progress.to_owned();
                s.due_ms = due_ms;
                s.version = expected + 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
