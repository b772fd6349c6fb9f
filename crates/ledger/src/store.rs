//! The storage contract, in domain words. One trait for every backend
//! (embedded SQLite, PostgreSQL), one conformance suite (the
//! `conformance` module, behind the `test-support` feature) that every
//! backend passes. Backends own their
//! schema and migrations; they share nothing but this contract.
//!
//! The contract is synchronous: the ledger calls writes from its one
//! sequencer thread and reads from blocking tasks.

use oretrace_tlog::hash::Hash;
use oretrace_tlog::tree::NodeId;

use crate::agreements::{
    AgreementState, ClauseState, ProgressState, ReportState, ResourceState, Select, VersionState,
};
use crate::state::{Change, EventState, KeyState, LotState, PartyState, ShipmentState, SiteState};

/// What kind of failure a [`StoreError`] is: what a caller can do
/// about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The write conflicts with what is stored (an index that is not the
    /// next, a record or hash already stored, a checkpoint another writer
    /// moved, a second writer): nothing was written; retrying the same
    /// write fails the same way.
    Conflict,
    /// This process no longer holds the right to write (the sequencer
    /// lease passed to another node): nothing was written; stop writing.
    Fenced,
    /// The backend could not be reached or was busy (a lost connection, a
    /// timeout, a lock held too long, a full disk): nothing was written
    /// (or the write is durable as a whole, if the failure came after the
    /// commit); the same call may succeed later.
    Unavailable,
    /// What was asked for is not stored (entries beyond the log size, a
    /// missing subtree hash).
    NotFound,
    /// The stored data breaks an invariant of the contract (a 31-byte
    /// hash, a gap in the log, a document that does not decode): restore
    /// from a backup.
    Corrupt,
    /// The store belongs to something else: a database of another
    /// application or log origin, or one migrated by a newer oretrace.
    /// Nothing was changed.
    Incompatible,
}

impl ErrorKind {
    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(self) -> bool {
        self == ErrorKind::Unavailable
    }
}

/// A backend failure: what kind it is, what the store was doing, and the
/// backend's own error as the [`source`](std::error::Error::source). The
/// message is logged, never shown to clients.
#[derive(Debug)]
pub struct StoreError {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl StoreError {
    /// A failure of `kind`, described by `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        StoreError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A failure of `kind` while doing `message`, caused by `source`.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        StoreError {
            kind,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The store's description, without the source.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "storage: {}", self.message)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One log entry to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRow {
    pub index: u64,
    /// The entry's bytes (a signed note).
    pub entry: Vec<u8>,
    /// SHA-256 of the record's canonical bytes, for replay detection.
    pub record_hash: [u8; 32],
    pub kind: String,
}

/// Everything one group commit writes, atomically and durably.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    pub entries: Vec<EntryRow>,
    /// Every full subtree hash the new entries complete, at every level.
    pub hashes: Vec<(NodeId, Hash)>,
    pub changes: Vec<Change>,
}

/// The order events are selected in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EventOrder {
    /// Capture order (log index).
    #[default]
    Index,
    EventTime,
    RecordTime,
}

/// A candidate selection of captured events: a store returns the events
/// that carry at least one of `any_terms` (all events if `None`), within
/// the time ranges, in `order` (ties broken by index, in the same
/// direction), strictly after the `after` cursor, at most `limit`. The
/// exact query predicate is applied by the caller to what is returned, so
/// every backend answers the same query the same way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventSelect {
    pub any_terms: Option<Vec<String>>,
    /// `[from, to)` on `event_time`, in milliseconds.
    pub event_time: (Option<i64>, Option<i64>),
    /// `[from, to)` on `record_time`, in milliseconds.
    pub record_time: (Option<i64>, Option<i64>),
    pub order: EventOrder,
    pub descending: bool,
    /// `(sort key, index)` of the last event already seen: the sort key is
    /// the index, event time or record time, as `order` says.
    pub after: Option<(i64, u64)>,
    pub limit: usize,
}

impl EventSelect {
    /// The sort key of an event under this selection's order.
    pub fn key_of(&self, event: &EventState) -> (i64, u64) {
        let key = match self.order {
            EventOrder::Index => event.index() as i64,
            EventOrder::EventTime => event.event_time(),
            EventOrder::RecordTime => event.record_time(),
        };
        (key, event.index())
    }

    /// Whether `event` passes the terms, ranges and cursor (not the limit).
    pub fn admits(&self, event: &EventState) -> bool {
        let within = |v: i64, (from, to): (Option<i64>, Option<i64>)| {
            from.is_none_or(|f| v >= f) && to.is_none_or(|t| v < t)
        };
        if let Some(terms) = &self.any_terms
            && !terms.iter().any(|t| event.terms().contains(t))
        {
            return false;
        }
        if !within(event.event_time(), self.event_time)
            || !within(event.record_time(), self.record_time)
        {
            return false;
        }
        match self.after {
            None => true,
            Some(after) if self.descending => self.key_of(event) < after,
            Some(after) => self.key_of(event) > after,
        }
    }
}

/// The most values one [`Store::event_term_values`] call returns, whatever
/// `limit` it is given: each is an index seek.
pub const EVENT_TERM_VALUES_MAX: usize = 10_000;

/// The least string greater than every string that starts with `prefix`,
/// in byte order of UTF-8 (which is the order of the code points): the
/// prefix with its trailing `char::MAX`s dropped and its last character
/// replaced by the next one (skipping the surrogates, which no string
/// holds). `None` when there is no such string (an empty prefix, or one of
/// `char::MAX`s only): every string from `prefix` on starts with it.
///
/// So a term starts with `prefix` exactly when `prefix <= term` and
/// `term < term_prefix_end(prefix)`: the range a backend seeks in. The
/// bound is itself valid UTF-8 (unlike incrementing the last byte, which
/// breaks a multi-byte character), so it binds as text in every backend.
pub fn term_prefix_end(prefix: &str) -> Option<String> {
    let mut end = prefix.trim_end_matches(char::MAX).to_owned();
    let last = end.pop()?;
    let next = match last {
        '\u{D7FF}' => '\u{E000}',
        c => char::from_u32(u32::from(c) + 1)?,
    };
    end.push(next);
    Some(end)
}

/// Reads of the projections: what authorisation needs.
pub trait StateView {
    fn party(&self, id: &str) -> StoreResult<Option<PartyState>>;
    fn key(&self, name: &str, key_id: u32) -> StoreResult<Option<KeyState>>;
    fn site(&self, id: &str) -> StoreResult<Option<SiteState>>;
    fn lot(&self, id: &str) -> StoreResult<Option<LotState>>;
    fn shipment(&self, id: &str) -> StoreResult<Option<ShipmentState>>;
    /// The index of the entry whose record has this hash, if any.
    fn find_record(&self, record_hash: &[u8; 32]) -> StoreResult<Option<u64>>;
    /// An agreement's summary.
    fn agreement(&self, id: &str) -> StoreResult<Option<AgreementState>>;
    /// One version of an agreement.
    fn agreement_version(&self, id: &str, version: u32) -> StoreResult<Option<VersionState>>;
    /// A revealed clause of a version.
    fn clause(&self, id: &str, version: u32, clause: u32) -> StoreResult<Option<ClauseState>>;
    /// A report's latest state.
    fn report(&self, id: &str) -> StoreResult<Option<ReportState>>;
    /// A resource estimate's latest state.
    fn resource(&self, id: &str) -> StoreResult<Option<ResourceState>>;
    /// The stored entry at `index` (a signed note), if the store holds it.
    /// Records of the batch being sequenced are not visible here.
    fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>>;
    /// The log indices of the entries concerning a lot, ascending (what
    /// [`Store::lot_events`] reads; an [`crate::rules::Overlay`] adds the
    /// entries of its batch).
    fn lot_entries(&self, lot: &str) -> StoreResult<Vec<u64>>;
    /// The log index of the stored event with this `eventID`, if any
    /// (captured, or a record's): event ids are unique, and the rules
    /// keep the first event of an id (an [`crate::rules::Overlay`] adds
    /// the events of its batch).
    fn event_index(&self, event_id: &str) -> StoreResult<Option<u64>>;
}

/// A borrowed view reads as the view it borrows.
impl<T: StateView + ?Sized> StateView for &T {
    fn party(&self, id: &str) -> StoreResult<Option<PartyState>> {
        (**self).party(id)
    }
    fn key(&self, name: &str, key_id: u32) -> StoreResult<Option<KeyState>> {
        (**self).key(name, key_id)
    }
    fn site(&self, id: &str) -> StoreResult<Option<SiteState>> {
        (**self).site(id)
    }
    fn lot(&self, id: &str) -> StoreResult<Option<LotState>> {
        (**self).lot(id)
    }
    fn shipment(&self, id: &str) -> StoreResult<Option<ShipmentState>> {
        (**self).shipment(id)
    }
    fn find_record(&self, record_hash: &[u8; 32]) -> StoreResult<Option<u64>> {
        (**self).find_record(record_hash)
    }
    fn agreement(&self, id: &str) -> StoreResult<Option<AgreementState>> {
        (**self).agreement(id)
    }
    fn agreement_version(&self, id: &str, version: u32) -> StoreResult<Option<VersionState>> {
        (**self).agreement_version(id, version)
    }
    fn clause(&self, id: &str, version: u32, clause: u32) -> StoreResult<Option<ClauseState>> {
        (**self).clause(id, version, clause)
    }
    fn report(&self, id: &str) -> StoreResult<Option<ReportState>> {
        (**self).report(id)
    }
    fn resource(&self, id: &str) -> StoreResult<Option<ResourceState>> {
        (**self).resource(id)
    }
    fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>> {
        (**self).entry(index)
    }
    fn lot_entries(&self, lot: &str) -> StoreResult<Vec<u64>> {
        (**self).lot_entries(lot)
    }
    fn event_index(&self, event_id: &str) -> StoreResult<Option<u64>> {
        (**self).event_index(event_id)
    }
}

/// A named query (EPCIS `POST /queries`): a party's preference kept beside
/// the log, not a claim in it. Not a projection: a rebuild leaves it alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedQueryRow {
    /// Its name, unique in the registry.
    pub name: String,
    /// The party that defined it, the one that may delete it.
    pub owner: String,
    /// The query's JSON text, as accepted.
    pub query: String,
}

/// A subscription to a named query (EPCIS `POST /queries/{name}/
/// subscriptions`), kept beside the log like a [`NamedQueryRow`]. The store
/// keeps `spec` and `progress` as the server wrote them; it reads only
/// `due_ms` (which subscriptions to work on, and when) and `version` (the
/// compare-and-swap of [`Store::advance_subscription`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionRow {
    /// A random id, unique in the registry.
    pub id: String,
    /// The subscribing party, the only one that may see or delete it.
    pub owner: String,
    /// The named query it follows.
    pub query: String,
    /// The subscription as created (JSON text); never changes.
    pub spec: String,
    /// Its delivery state (JSON text): the cursor, the batch in flight,
    /// failures, the last error.
    pub progress: String,
    /// When it should next be worked on (Unix milliseconds); `None` while
    /// paused.
    pub due_ms: Option<i64>,
    /// Moved by one at every [`Store::advance_subscription`]; 0 when
    /// created.
    pub version: u64,
}

/// How many of a kind of kept row one party, and everyone, may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub per_owner: u64,
    pub total: u64,
}

/// What an insert of a kept row did: written, or why nothing was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    Done,
    /// The name or id is taken.
    Exists,
    /// The owner has `per_owner` already.
    OwnerFull,
    /// The registry has `total` already.
    AllFull,
    /// A subscription's named query does not exist.
    NoQuery,
}

/// What [`Store::delete_named_query`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removed {
    /// Deleted, with the owner's own subscriptions to it (their number).
    Done {
        subscriptions: u64,
    },
    Missing,
    /// Defined by another party (named).
    NotOwner(String),
    /// Other parties subscribe to it (their subscriptions' number):
    /// nothing deleted.
    Subscribed(u64),
}

/// The whole contract.
///
/// **One writer.** At most one handle writes a store at a time (the
/// sequencer of one process): a backend refuses a second writer rather
/// than let two interleave. The embedded store locks its data directory
/// for as long as it is open; a shared database lets only the holder of
/// its sequencer lease write, and every write of a former holder fails as
/// [`ErrorKind::Fenced`] with nothing written. Any number of handles may
/// read.
///
/// **Atomic writes.** [`Store::integrate`], [`Store::swap_checkpoint`],
/// [`Store::clear_projections`] and [`Store::apply_changes`] each write
/// everything they are given or nothing.
pub trait Store: StateView + Send + Sync + 'static {
    /// A view in which every read sees the same state (one read
    /// transaction): an answer made of many reads (a provenance graph)
    /// reads through it, so that it is consistent and pays for one
    /// transaction, not one per read. Records integrated after it was
    /// taken are not visible through it. Held briefly: it may keep the
    /// backend from reclaiming old versions while it lives. The default
    /// reads the store itself, for a backend whose every read is already
    /// of one state.
    fn snapshot(&self) -> StoreResult<Box<dyn StateView + '_>> {
        Ok(Box::new(self))
    }

    /// Number of entries stored (integrated, whether or not a checkpoint
    /// covers them yet).
    fn size(&self) -> StoreResult<u64>;

    /// Appends a batch: entries at consecutive indexes starting at
    /// `size()`, their hashes and projection changes, in one transaction
    /// that is durable when this returns.
    fn integrate(&self, batch: &Batch) -> StoreResult<()>;

    /// Stored subtree hashes, in the order asked. Missing ones are errors.
    fn read_hashes(&self, ids: &[NodeId]) -> StoreResult<Vec<Hash>>;

    /// Entries `[start, start + count)`.
    fn read_entries(&self, start: u64, count: u64) -> StoreResult<Vec<Vec<u8>>>;

    /// The published checkpoint note, if any.
    fn checkpoint(&self) -> StoreResult<Option<Vec<u8>>>;

    /// Replaces the published checkpoint with `next` only if it is still
    /// `prev`. Returns false (and changes nothing) if another writer moved
    /// it.
    fn swap_checkpoint(&self, prev: Option<&[u8]>, next: &[u8]) -> StoreResult<bool>;

    /// The entries concerning a lot, by index, oldest first.
    fn lot_events(&self, lot: &str) -> StoreResult<Vec<u64>>;

    /// A captured event by its event hash.
    fn event(&self, event_id: &str) -> StoreResult<Option<EventState>>;

    /// Captured events, as [`EventSelect`] says.
    fn select_events(&self, select: &EventSelect) -> StoreResult<Vec<EventState>>;

    /// Distinct index terms that start with `prefix`, in byte order, each
    /// greater than `after` (a whole term, as returned earlier) when given;
    /// at most `limit` (clamped to [`EVENT_TERM_VALUES_MAX`]). Answered by
    /// seeks on the `event_terms` key, so a page costs about `limit` index
    /// seeks however many events carry each term (never a scan of all rows
    /// under the prefix). The values are whole terms, prefix included; a
    /// prefix is matched byte for byte (`epc=` does not match `epcClass=…`).
    /// A backend bounds the terms under the prefix with
    /// [`term_prefix_end`].
    fn event_term_values(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<String>>;

    /// Parties in id order (byte order of the UTF-8 ids), strictly after
    /// the id `after` if given, at most `limit`.
    fn parties(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<PartyState>>;
    /// Sites, as [`Store::parties`].
    fn sites(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<SiteState>>;
    /// Lots, as [`Store::parties`].
    fn lots(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<LotState>>;
    /// Shipments, as [`Store::parties`].
    fn shipments(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<ShipmentState>>;

    /// Agreements in id order, as [`Select`] says (their
    /// [`AgreementState::terms`] and [`AgreementState::overdue_from`]).
    fn agreements(&self, select: &Select) -> StoreResult<Vec<AgreementState>>;
    /// Every version of an agreement, oldest first.
    fn agreement_versions(&self, id: &str) -> StoreResult<Vec<VersionState>>;
    /// Revealed clauses of a version in clause order, strictly after
    /// clause `after` if given, at most `limit`.
    fn clauses(
        &self,
        id: &str,
        version: u32,
        after: Option<u32>,
        limit: usize,
    ) -> StoreResult<Vec<ClauseState>>;
    /// Progress reports on an agreement in log order, strictly after log
    /// index `after` if given, at most `limit`.
    fn progress(
        &self,
        id: &str,
        after: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<ProgressState>>;
    /// Reports in id order, as [`Select`] says (`overdue_on` does not
    /// apply).
    fn reports(&self, select: &Select) -> StoreResult<Vec<ReportState>>;
    /// Resource estimates in id order, as [`Select`] says (`overdue_on`
    /// does not apply).
    fn resources(&self, select: &Select) -> StoreResult<Vec<ResourceState>>;

    /// Drops every projection (not the log, hashes or checkpoint) and, in
    /// the same transaction, records that a rebuild has begun:
    /// [`Store::rebuild_progress`] is `Some(0)` until
    /// [`Store::finish_rebuild`].
    fn clear_projections(&self) -> StoreResult<()>;

    /// Applies the projection changes of the log's entries before
    /// `through` (outside an append: a rebuild) and records `through` as
    /// the rebuild's progress, in one transaction.
    fn apply_changes(&self, changes: &[Change], through: u64) -> StoreResult<()>;

    /// How far an unfinished rebuild got: `Some(n)` while the projections
    /// hold the changes of entries `[0, n)` only (a rebuild stopped part
    /// way, to be finished before the store is used); `None` when no
    /// rebuild is under way.
    fn rebuild_progress(&self) -> StoreResult<Option<u64>>;

    /// Records that the rebuild is finished: the projections are whole.
    fn finish_rebuild(&self) -> StoreResult<()>;

    /// A named query by name.
    fn named_query(&self, name: &str) -> StoreResult<Option<NamedQueryRow>>;
    /// Named queries in name order (bytes), strictly after `after` if
    /// given, at most `limit`.
    fn named_queries(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<NamedQueryRow>>;
    /// Stores a new named query unless its name is taken or a quota is
    /// reached, decided and written in one transaction (two concurrent
    /// inserts cannot both pass a quota that has room for one).
    fn insert_named_query(&self, row: &NamedQueryRow, quota: Quota) -> StoreResult<Inserted>;
    /// Deletes a named query defined by `owner`, with `owner`'s own
    /// subscriptions to it, in one transaction; nothing when another party
    /// defined it or subscribes to it.
    fn delete_named_query(&self, name: &str, owner: &str) -> StoreResult<Removed>;

    /// A subscription by id.
    fn subscription(&self, id: &str) -> StoreResult<Option<SubscriptionRow>>;
    /// A party's subscriptions in id order, strictly after `after` if
    /// given, at most `limit`.
    fn subscriptions(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<SubscriptionRow>>;
    /// Stores a new subscription (its `version` as given, 0) unless its id
    /// is taken, its named query is missing or a quota is reached, in one
    /// transaction.
    fn insert_subscription(&self, row: &SubscriptionRow, quota: Quota) -> StoreResult<Inserted>;
    /// Deletes `owner`'s subscription `id`; false if there is none of
    /// `owner`'s by that id.
    fn delete_subscription(&self, id: &str, owner: &str) -> StoreResult<bool>;
    /// Subscriptions due at `now_ms` (`due_ms <= now_ms`), soonest first,
    /// at most `limit`.
    fn due_subscriptions(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<SubscriptionRow>>;
    /// Replaces a subscription's `progress` and `due_ms` and moves its
    /// version to `expected + 1`, only if its version is still `expected`
    /// (a compare-and-swap): false, with nothing written, if it moved or
    /// the subscription is gone. A shared database refuses it
    /// ([`ErrorKind::Fenced`]) unless this handle holds the sequencer
    /// lease, so only the sequencer delivers.
    fn advance_subscription(
        &self,
        id: &str,
        expected: u64,
        progress: &str,
        due_ms: Option<i64>,
    ) -> StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::term_prefix_end;

    #[test]
    fn a_prefix_ends_before_the_next_character() {
        assert_eq!(term_prefix_end("bizStep=").as_deref(), Some("bizStep>"));
        assert_eq!(term_prefix_end("epc=").as_deref(), Some("epc>"));
        assert_eq!(term_prefix_end("a\u{7F}").as_deref(), Some("a\u{80}"));
        assert_eq!(term_prefix_end("é").as_deref(), Some("ê"));
        assert_eq!(term_prefix_end("x\u{D7FF}").as_deref(), Some("x\u{E000}"));
        assert_eq!(
            term_prefix_end("x\u{10FFFF}\u{10FFFF}").as_deref(),
            Some("y")
        );
        assert_eq!(term_prefix_end(""), None);
        assert_eq!(term_prefix_end("\u{10FFFF}"), None);
        // Every string under the prefix sorts before the bound, in bytes.
        let end = term_prefix_end("a\u{7F}").unwrap_or_default();
        for s in ["a\u{7F}", "a\u{7F}\u{10FFFF}\u{10FFFF}", "a\u{7F}zzz"] {
            assert!(s.as_bytes() < end.as_bytes(), "{s:?}");
        }
        assert!("a\u{80}".as_bytes() >= end.as_bytes());
    }
}
