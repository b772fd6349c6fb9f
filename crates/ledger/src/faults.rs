//! A [`Store`] that forwards every call to another store after asking a
//! [`Hooks`] object what to do: proceed, fail with a [`StoreError`], lose
//! a checkpoint swap to "another writer", or panic. The hooks may also
//! block before a call (to hold the ledger still) and are told, after
//! each forwarded call, how long the wrapped store took (to time phases).
//!
//! Test support: tests drive the ledger's failure paths with it, and the
//! append benchmark times the sequencer's phases with it.

use std::sync::Arc;
use std::time::Instant;

use oretrace_tlog::hash::Hash;
use oretrace_tlog::tree::NodeId;

use crate::agreements::{
    AgreementState, ClauseState, ProgressState, ReportState, ResourceState, Select, VersionState,
};
use crate::state::{Change, EventState, KeyState, LotState, PartyState, ShipmentState, SiteState};
use crate::store::{
    Batch, EventSelect, Inserted, NamedQueryRow, Quota, Removed, StateView, Store, StoreError,
    StoreResult, SubscriptionRow,
};

/// One call to the storage contract: which method, with its arguments.
#[derive(Clone, Copy, Debug)]
pub enum Call<'a> {
    /// [`StateView::party`].
    Party { id: &'a str },
    /// [`StateView::key`].
    Key { name: &'a str, key_id: u32 },
    /// [`StateView::site`].
    Site { id: &'a str },
    /// [`StateView::lot`].
    Lot { id: &'a str },
    /// [`StateView::shipment`].
    Shipment { id: &'a str },
    /// [`StateView::find_record`].
    FindRecord { record_hash: &'a [u8; 32] },
    /// [`Store::size`].
    Size,
    /// [`Store::integrate`].
    Integrate { batch: &'a Batch },
    /// [`Store::read_hashes`].
    ReadHashes { ids: &'a [NodeId] },
    /// [`Store::read_entries`].
    ReadEntries { start: u64, count: u64 },
    /// [`Store::checkpoint`].
    Checkpoint,
    /// [`Store::swap_checkpoint`].
    SwapCheckpoint {
        prev: Option<&'a [u8]>,
        next: &'a [u8],
    },
    /// A method on named queries or subscriptions (kept beside the log),
    /// by name.
    Kept { method: &'static str },
    /// [`Store::lot_events`].
    LotEvents { lot: &'a str },
    /// [`Store::event`].
    Event { event_id: &'a str },
    /// [`Store::select_events`].
    SelectEvents { select: &'a EventSelect },
    /// [`Store::event_term_values`].
    EventTermValues {
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    },
    /// [`Store::parties`].
    Parties {
        after: Option<&'a str>,
        limit: usize,
    },
    /// [`Store::sites`].
    Sites {
        after: Option<&'a str>,
        limit: usize,
    },
    /// [`Store::lots`].
    Lots {
        after: Option<&'a str>,
        limit: usize,
    },
    /// [`Store::shipments`].
    Shipments {
        after: Option<&'a str>,
        limit: usize,
    },
    /// A read of the agreement, report and resource projections (or of
    /// one entry): [`StateView::agreement`], [`StateView::entry`],
    /// [`Store::agreements`] and their kind, named by `method`.
    Agreements { method: &'static str },
    /// [`Store::clear_projections`].
    ClearProjections,
    /// [`Store::apply_changes`].
    ApplyChanges { changes: &'a [Change] },
}

impl Call<'_> {
    /// The method's name, as the contract spells it (`"find_record"`).
    pub fn method(&self) -> &'static str {
        match self {
            Call::Party { .. } => "party",
            Call::Key { .. } => "key",
            Call::Site { .. } => "site",
            Call::Lot { .. } => "lot",
            Call::Shipment { .. } => "shipment",
            Call::FindRecord { .. } => "find_record",
            Call::Size => "size",
            Call::Integrate { .. } => "integrate",
            Call::ReadHashes { .. } => "read_hashes",
            Call::ReadEntries { .. } => "read_entries",
            Call::Checkpoint => "checkpoint",
            Call::SwapCheckpoint { .. } => "swap_checkpoint",
            Call::LotEvents { .. } => "lot_events",
            Call::Event { .. } => "event",
            Call::SelectEvents { .. } => "select_events",
            Call::EventTermValues { .. } => "event_term_values",
            Call::Parties { .. } => "parties",
            Call::Sites { .. } => "sites",
            Call::Lots { .. } => "lots",
            Call::Shipments { .. } => "shipments",
            Call::Agreements { method } => method,
            Call::Kept { method } => method,
            Call::ClearProjections => "clear_projections",
            Call::ApplyChanges { .. } => "apply_changes",
        }
    }

    /// Whether the call only reads the projections ([`StateView`]).
    pub fn is_state_read(&self) -> bool {
        matches!(
            self,
            Call::Party { .. }
                | Call::Key { .. }
                | Call::Site { .. }
                | Call::Lot { .. }
                | Call::Shipment { .. }
                | Call::FindRecord { .. }
        ) || matches!(
            self,
            Call::Agreements {
                method: "agreement"
                    | "agreement_version"
                    | "clause"
                    | "report"
                    | "resource"
                    | "entry"
            }
        )
    }
}

/// What a [`Faulty`] store does with a call, as its [`Hooks`] decide.
#[derive(Debug, Default)]
pub enum Interfere {
    /// Forward the call to the wrapped store.
    #[default]
    Proceed,
    /// Answer with this error; the wrapped store is not called.
    Fail(StoreError),
    /// Only for [`Call::SwapCheckpoint`]: answer `Ok(false)`, as if
    /// another writer had moved the checkpoint; nothing changes.
    LoseSwap,
    /// Panic with this message (a bug in the store, simulated).
    Panic(&'static str),
}

/// When the wrapped store was called and when it answered.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    /// Just before the wrapped store was called.
    pub start: Instant,
    /// Just after it answered.
    pub end: Instant,
}

/// What a [`Faulty`] store asks before and tells after each call. Both
/// default to doing nothing.
pub trait Hooks: Send + Sync + 'static {
    /// Decides what happens to `call`; may block first.
    fn before(&self, call: Call<'_>) -> Interfere {
        let _ = call;
        Interfere::Proceed
    }

    /// Called after `call` was forwarded (whatever it answered) with the
    /// span the wrapped store took. Not called for a call the hooks
    /// answered themselves.
    fn after(&self, call: Call<'_>, span: Span) {
        let _ = (call, span);
    }
}

/// A store forwarding every call to `S` as `H` decides. Clones share the
/// store and the hooks.
#[derive(Debug, Default)]
pub struct Faulty<S, H> {
    inner: Arc<S>,
    hooks: Arc<H>,
}

impl<S, H> Clone for Faulty<S, H> {
    fn clone(&self) -> Self {
        Faulty {
            inner: self.inner.clone(),
            hooks: self.hooks.clone(),
        }
    }
}

impl<S: Store, H: Hooks> Faulty<S, H> {
    /// `inner` behind `hooks`.
    pub fn new(inner: S, hooks: H) -> Self {
        Faulty {
            inner: Arc::new(inner),
            hooks: Arc::new(hooks),
        }
    }

    /// The wrapped store, to read or write past the hooks.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The hooks, to change what they decide.
    pub fn hooks(&self) -> &H {
        &self.hooks
    }

    /// Asks the hooks, then forwards `call` as `forward` says and reports
    /// its span. `lost` answers a lost swap, for the one call that can
    /// lose one.
    fn call<T>(
        &self,
        call: Call<'_>,
        lost: Option<T>,
        forward: impl FnOnce(&S) -> StoreResult<T>,
    ) -> StoreResult<T> {
        match self.hooks.before(call) {
            Interfere::Proceed => {}
            Interfere::Fail(error) => return Err(error),
            Interfere::Panic(message) => panic!("{message}"),
            Interfere::LoseSwap => match lost {
                Some(answer) => return Ok(answer),
                None => panic!(
                    "only swap_checkpoint can lose a swap, not {}",
                    call.method()
                ),
            },
        }
        let start = Instant::now();
        let result = forward(&self.inner);
        let end = Instant::now();
        self.hooks.after(call, Span { start, end });
        result
    }
}

impl<S: Store, H: Hooks> StateView for Faulty<S, H> {
    fn lot_entries(&self, lot: &str) -> StoreResult<Vec<u64>> {
        self.call(Call::LotEvents { lot }, None, |s| s.lot_events(lot))
    }
    fn event_index(&self, event_id: &str) -> StoreResult<Option<u64>> {
        self.call(Call::Event { event_id }, None, |s| s.event_index(event_id))
    }
    fn party(&self, id: &str) -> StoreResult<Option<PartyState>> {
        self.call(Call::Party { id }, None, |s| s.party(id))
    }
    fn key(&self, name: &str, key_id: u32) -> StoreResult<Option<KeyState>> {
        self.call(Call::Key { name, key_id }, None, |s| s.key(name, key_id))
    }
    fn site(&self, id: &str) -> StoreResult<Option<SiteState>> {
        self.call(Call::Site { id }, None, |s| s.site(id))
    }
    fn lot(&self, id: &str) -> StoreResult<Option<LotState>> {
        self.call(Call::Lot { id }, None, |s| s.lot(id))
    }
    fn shipment(&self, id: &str) -> StoreResult<Option<ShipmentState>> {
        self.call(Call::Shipment { id }, None, |s| s.shipment(id))
    }
    fn find_record(&self, record_hash: &[u8; 32]) -> StoreResult<Option<u64>> {
        self.call(Call::FindRecord { record_hash }, None, |s| {
            s.find_record(record_hash)
        })
    }
    fn agreement(&self, id: &str) -> StoreResult<Option<AgreementState>> {
        self.call(
            Call::Agreements {
                method: "agreement",
            },
            None,
            |s| s.agreement(id),
        )
    }
    fn agreement_version(&self, id: &str, version: u32) -> StoreResult<Option<VersionState>> {
        self.call(
            Call::Agreements {
                method: "agreement_version",
            },
            None,
            |s| s.agreement_version(id, version),
        )
    }
    fn clause(&self, id: &str, version: u32, clause: u32) -> StoreResult<Option<ClauseState>> {
        self.call(Call::Agreements { method: "clause" }, None, |s| {
            s.clause(id, version, clause)
        })
    }
    fn report(&self, id: &str) -> StoreResult<Option<ReportState>> {
        self.call(Call::Agreements { method: "report" }, None, |s| {
            s.report(id)
        })
    }
    fn resource(&self, id: &str) -> StoreResult<Option<ResourceState>> {
        self.call(Call::Agreements { method: "resource" }, None, |s| {
            s.resource(id)
        })
    }
    fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>> {
        self.call(Call::Agreements { method: "entry" }, None, |s| {
            s.entry(index)
        })
    }
}

impl<S: Store, H: Hooks> Store for Faulty<S, H> {
    fn size(&self) -> StoreResult<u64> {
        self.call(Call::Size, None, |s| s.size())
    }
    fn integrate(&self, batch: &Batch) -> StoreResult<()> {
        self.call(Call::Integrate { batch }, None, |s| s.integrate(batch))
    }
    fn read_hashes(&self, ids: &[NodeId]) -> StoreResult<Vec<Hash>> {
        self.call(Call::ReadHashes { ids }, None, |s| s.read_hashes(ids))
    }
    fn read_entries(&self, start: u64, count: u64) -> StoreResult<Vec<Vec<u8>>> {
        self.call(Call::ReadEntries { start, count }, None, |s| {
            s.read_entries(start, count)
        })
    }
    fn checkpoint(&self) -> StoreResult<Option<Vec<u8>>> {
        self.call(Call::Checkpoint, None, |s| s.checkpoint())
    }
    fn swap_checkpoint(&self, prev: Option<&[u8]>, next: &[u8]) -> StoreResult<bool> {
        self.call(Call::SwapCheckpoint { prev, next }, Some(false), |s| {
            s.swap_checkpoint(prev, next)
        })
    }
    fn lot_events(&self, lot: &str) -> StoreResult<Vec<u64>> {
        self.call(Call::LotEvents { lot }, None, |s| s.lot_events(lot))
    }
    fn event(&self, event_id: &str) -> StoreResult<Option<EventState>> {
        self.call(Call::Event { event_id }, None, |s| s.event(event_id))
    }
    fn select_events(&self, select: &EventSelect) -> StoreResult<Vec<EventState>> {
        self.call(Call::SelectEvents { select }, None, |s| {
            s.select_events(select)
        })
    }
    fn event_term_values(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        self.call(
            Call::EventTermValues {
                prefix,
                after,
                limit,
            },
            None,
            |s| s.event_term_values(prefix, after, limit),
        )
    }
    fn parties(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<PartyState>> {
        self.call(Call::Parties { after, limit }, None, |s| {
            s.parties(after, limit)
        })
    }
    fn sites(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<SiteState>> {
        self.call(Call::Sites { after, limit }, None, |s| {
            s.sites(after, limit)
        })
    }
    fn lots(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<LotState>> {
        self.call(Call::Lots { after, limit }, None, |s| s.lots(after, limit))
    }
    fn shipments(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<ShipmentState>> {
        self.call(Call::Shipments { after, limit }, None, |s| {
            s.shipments(after, limit)
        })
    }
    fn agreements(&self, select: &Select) -> StoreResult<Vec<AgreementState>> {
        self.call(
            Call::Agreements {
                method: "agreements",
            },
            None,
            |s| s.agreements(select),
        )
    }
    fn agreement_versions(&self, id: &str) -> StoreResult<Vec<VersionState>> {
        self.call(
            Call::Agreements {
                method: "agreement_versions",
            },
            None,
            |s| s.agreement_versions(id),
        )
    }
    fn clauses(
        &self,
        id: &str,
        version: u32,
        after: Option<u32>,
        limit: usize,
    ) -> StoreResult<Vec<ClauseState>> {
        self.call(Call::Agreements { method: "clauses" }, None, |s| {
            s.clauses(id, version, after, limit)
        })
    }
    fn progress(
        &self,
        id: &str,
        after: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<ProgressState>> {
        self.call(Call::Agreements { method: "progress" }, None, |s| {
            s.progress(id, after, limit)
        })
    }
    fn reports(&self, select: &Select) -> StoreResult<Vec<ReportState>> {
        self.call(Call::Agreements { method: "reports" }, None, |s| {
            s.reports(select)
        })
    }
    fn resources(&self, select: &Select) -> StoreResult<Vec<ResourceState>> {
        self.call(
            Call::Agreements {
                method: "resources",
            },
            None,
            |s| s.resources(select),
        )
    }
    fn clear_projections(&self) -> StoreResult<()> {
        self.call(Call::ClearProjections, None, |s| s.clear_projections())
    }
    fn rebuild_progress(&self) -> StoreResult<Option<u64>> {
        self.inner.rebuild_progress()
    }
    fn finish_rebuild(&self) -> StoreResult<()> {
        self.inner.finish_rebuild()
    }
    fn named_query(&self, name: &str) -> StoreResult<Option<NamedQueryRow>> {
        let call = Call::Kept {
            method: "named_query",
        };
        self.call(call, None, |s| s.named_query(name))
    }
    fn named_queries(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<NamedQueryRow>> {
        let call = Call::Kept {
            method: "named_queries",
        };
        self.call(call, None, |s| s.named_queries(after, limit))
    }
    fn insert_named_query(&self, row: &NamedQueryRow, quota: Quota) -> StoreResult<Inserted> {
        let call = Call::Kept {
            method: "insert_named_query",
        };
        self.call(call, None, |s| s.insert_named_query(row, quota))
    }
    fn delete_named_query(&self, name: &str, owner: &str) -> StoreResult<Removed> {
        let call = Call::Kept {
            method: "delete_named_query",
        };
        self.call(call, None, |s| s.delete_named_query(name, owner))
    }
    fn subscription(&self, id: &str) -> StoreResult<Option<SubscriptionRow>> {
        let call = Call::Kept {
            method: "subscription",
        };
        self.call(call, None, |s| s.subscription(id))
    }
    fn subscriptions(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<SubscriptionRow>> {
        let call = Call::Kept {
            method: "subscriptions",
        };
        self.call(call, None, |s| s.subscriptions(owner, after, limit))
    }
    fn insert_subscription(&self, row: &SubscriptionRow, quota: Quota) -> StoreResult<Inserted> {
        let call = Call::Kept {
            method: "insert_subscription",
        };
        self.call(call, None, |s| s.insert_subscription(row, quota))
    }
    fn delete_subscription(&self, id: &str, owner: &str) -> StoreResult<bool> {
        let call = Call::Kept {
            method: "delete_subscription",
        };
        self.call(call, None, |s| s.delete_subscription(id, owner))
    }
    fn due_subscriptions(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<SubscriptionRow>> {
        let call = Call::Kept {
            method: "due_subscriptions",
        };
        self.call(call, None, |s| s.due_subscriptions(now_ms, limit))
    }
    fn advance_subscription(
        &self,
        id: &str,
        expected: u64,
        progress: &str,
        due_ms: Option<i64>,
    ) -> StoreResult<bool> {
        let call = Call::Kept {
            method: "advance_subscription",
        };
        self.call(call, Some(false), |s| {
            s.advance_subscription(id, expected, progress, due_ms)
        })
    }
    fn apply_changes(&self, changes: &[Change], through: u64) -> StoreResult<()> {
        self.call(Call::ApplyChanges { changes }, None, |s| {
            s.apply_changes(changes, through)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use std::sync::Mutex;

    /// Records what it is told and answers from a script.
    #[derive(Default)]
    struct Script {
        fail: Mutex<Option<&'static str>>,
        lose_swap: std::sync::atomic::AtomicBool,
        seen: Mutex<Vec<(&'static str, bool)>>,
    }

    impl Hooks for Script {
        fn before(&self, call: Call<'_>) -> Interfere {
            self.seen.lock().unwrap().push((call.method(), false));
            if let Some(method) = *self.fail.lock().unwrap()
                && method == call.method()
            {
                return Interfere::Fail(StoreError::new(
                    crate::store::ErrorKind::Unavailable,
                    format!("{method} failed (simulated)"),
                ));
            }
            if self.lose_swap.load(std::sync::atomic::Ordering::SeqCst) {
                return Interfere::LoseSwap;
            }
            Interfere::Proceed
        }
        fn after(&self, call: Call<'_>, span: Span) {
            assert!(span.end >= span.start);
            self.seen.lock().unwrap().push((call.method(), true));
        }
    }

    #[test]
    fn proceeding_forwards_and_reports_each_call() {
        let store = Faulty::new(MemoryStore::new(), Script::default());
        assert_eq!(store.size().unwrap(), 0);
        assert!(store.swap_checkpoint(None, b"one").unwrap());
        assert_eq!(store.checkpoint().unwrap().as_deref(), Some(&b"one"[..]));
        assert_eq!(store.party("p").unwrap(), None);
        assert_eq!(
            *store.hooks().seen.lock().unwrap(),
            [
                ("size", false),
                ("size", true),
                ("swap_checkpoint", false),
                ("swap_checkpoint", true),
                ("checkpoint", false),
                ("checkpoint", true),
                ("party", false),
                ("party", true),
            ]
        );
    }

    #[test]
    fn a_failure_answers_without_calling_the_store() {
        let store = Faulty::new(MemoryStore::new(), Script::default());
        *store.hooks().fail.lock().unwrap() = Some("swap_checkpoint");
        let error = store.swap_checkpoint(None, b"one").unwrap_err();
        assert_eq!(error.message(), "swap_checkpoint failed (simulated)");
        assert!(error.is_retryable());
        assert_eq!(store.inner().checkpoint().unwrap(), None);
        assert_eq!(
            *store.hooks().seen.lock().unwrap(),
            [("swap_checkpoint", false)]
        );
    }

    #[test]
    fn a_lost_swap_changes_nothing() {
        let store = Faulty::new(MemoryStore::new(), Script::default());
        store
            .hooks()
            .lose_swap
            .store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(!store.swap_checkpoint(None, b"one").unwrap());
        assert_eq!(store.inner().checkpoint().unwrap(), None);
    }

    #[test]
    #[should_panic(expected = "only swap_checkpoint can lose a swap, not size")]
    fn only_a_swap_can_be_lost() {
        let store = Faulty::new(MemoryStore::new(), Script::default());
        store
            .hooks()
            .lose_swap
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = store.size();
    }

    struct Bug;
    impl Hooks for Bug {
        fn before(&self, _: Call<'_>) -> Interfere {
            Interfere::Panic("a bug in the store (simulated)")
        }
    }

    #[test]
    #[should_panic(expected = "a bug in the store (simulated)")]
    fn a_panic_is_raised_with_its_message() {
        let _ = Faulty::new(MemoryStore::new(), Bug).size();
    }
}
