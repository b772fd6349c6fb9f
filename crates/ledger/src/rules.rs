//! Stage 2 and 3 of the lifecycle: who may write what, and what each
//! accepted record changes in the projections. Pure logic over a
//! [`StateView`]; the sequencer supplies a view that includes the effects
//! of earlier records in the same batch.

use std::collections::{BTreeSet, HashMap};

use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::record::{Record, Shipment, Transformation};
use oretrace_domain::values::{LotId, PartyId, Percent, Timestamp, format_decimal};
use oretrace_tlog::note::{NoteVerifier, SignatureLine};
use rust_decimal::Decimal;

use crate::agreements::{AgreementState, ClauseState, ReportState, ResourceState, VersionState};
use crate::state::{Change, KeyState, LotState, LotStatus, PartyState, ShipmentState, SiteState};
use crate::store::{StateView, StoreError, StoreResult};

/// Why a record was not accepted. Each variant maps to one HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The record itself is malformed or breaks a rule of its own (400).
    #[error("{0}")]
    Invalid(oretrace_domain::Error),
    /// A signature is missing, unknown or does not verify (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// The signers may not make this claim (403).
    #[error("{0}")]
    Forbidden(String),
    /// The record names a lot, site, party or shipment that does not exist,
    /// or contradicts the registry's state (422).
    #[error("{field}: {rule}")]
    Unprocessable { field: String, rule: String },
    /// The same record is already in the log (409).
    #[error("the record is already in the log at index {index}")]
    Replay { index: u64 },
    /// The queue is full; try again later (503).
    #[error("the ledger is busy; retry later")]
    Overloaded,
    /// The ledger cannot write now: storing the batch failed (a full
    /// disk, an I/O error) or the sequencer has stopped; retry later
    /// (503). Usually nothing of the record was written, but a batch
    /// stored before its checkpoint could be swapped in is published
    /// later: a retry of the same record then answers 409 with its index.
    /// Details are logged.
    #[error(
        "the ledger cannot write or read its store now; retry later (a record that was stored after all is answered 409 with its index)"
    )]
    Unavailable(String),
    /// This node serves reads only: another node sequences writes (503
    /// with Retry-After; `sequencer` is its address, when known).
    #[error(
        "this node serves reads only; send writes to the sequencer{}, or retry: a node takes over within seconds when the sequencer fails",
        sequencer.as_deref().map(|s| format!(" at {s}")).unwrap_or_default()
    )]
    NotSequencer { sequencer: Option<String> },
    /// Something failed inside the ledger (500). Details are logged.
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        let detail = crate::error::detail(&e);
        if e.is_retryable() {
            Refusal::Unavailable(detail)
        } else {
            Refusal::Internal(detail)
        }
    }
}

pub(crate) fn unprocessable(field: impl Into<String>, rule: impl Into<String>) -> Refusal {
    Refusal::Unprocessable {
        field: field.into(),
        rule: rule.into(),
    }
}

/// A [`StateView`] that sees the store plus the changes of the records
/// accepted earlier in the same batch.
#[expect(
    missing_debug_implementations,
    reason = "it borrows a store for one batch; nothing prints it"
)]
pub struct Overlay<'a, V: StateView + ?Sized> {
    base: &'a V,
    parties: HashMap<String, PartyState>,
    keys: HashMap<(String, u32), Option<KeyState>>,
    sites: HashMap<String, SiteState>,
    lots: HashMap<String, LotState>,
    shipments: HashMap<String, ShipmentState>,
    records: HashMap<[u8; 32], u64>,
    agreements: HashMap<String, AgreementState>,
    versions: HashMap<(String, u32), VersionState>,
    clauses: HashMap<(String, u32, u32), ClauseState>,
    reports: HashMap<String, ReportState>,
    resources: HashMap<String, ResourceState>,
    /// Entries of the batch, not yet in the store.
    entries: HashMap<u64, Vec<u8>>,
    lot_events: HashMap<String, Vec<u64>>,
    /// Event ids of the batch's events, with their entries.
    events: HashMap<String, u64>,
}

impl<'a, V: StateView + ?Sized> Overlay<'a, V> {
    pub fn new(base: &'a V) -> Self {
        Overlay {
            base,
            parties: HashMap::new(),
            keys: HashMap::new(),
            sites: HashMap::new(),
            lots: HashMap::new(),
            shipments: HashMap::new(),
            records: HashMap::new(),
            agreements: HashMap::new(),
            versions: HashMap::new(),
            clauses: HashMap::new(),
            reports: HashMap::new(),
            resources: HashMap::new(),
            entries: HashMap::new(),
            lot_events: HashMap::new(),
            events: HashMap::new(),
        }
    }

    /// Makes an entry of the batch readable by the next records' rules.
    pub fn remember_entry(&mut self, index: u64, entry: Vec<u8>) {
        self.entries.insert(index, entry);
    }

    /// Makes an accepted record's effects visible to the next records.
    pub fn accept(&mut self, record_hash: [u8; 32], index: u64, changes: &[Change]) {
        self.records.insert(record_hash, index);
        for change in changes {
            if let Change::LotEvent { lot, index } = change {
                let seen = self.lot_events.entry(lot.clone()).or_default();
                if seen.last() != Some(index) {
                    seen.push(*index);
                }
                continue;
            }
            if let Change::PutEvent(e) = change {
                self.events
                    .entry(e.event_id().as_str().to_owned())
                    .or_insert(e.index());
                continue;
            }
            if matches!(change, Change::PutProgress(_)) {
                continue;
            }
            match change.clone() {
                Change::PutParty(p) => {
                    self.parties.insert(p.id().to_string(), p);
                }
                Change::PutKey(k) => {
                    self.keys.insert((k.name().to_owned(), k.key_id()), Some(k));
                }
                Change::RemoveKey { name, key_id } => {
                    self.keys.insert((name, key_id), None);
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
                Change::PutReport(r) => {
                    self.reports.insert(r.id().to_string(), r);
                }
                Change::PutResource(r) => {
                    self.resources.insert(r.id().to_string(), r);
                }
                Change::LotEvent { .. } | Change::PutEvent(_) | Change::PutProgress(_) => {}
            }
        }
    }
}

impl<V: StateView + ?Sized> StateView for Overlay<'_, V> {
    fn party(&self, id: &str) -> StoreResult<Option<PartyState>> {
        match self.parties.get(id) {
            Some(p) => Ok(Some(p.clone())),
            None => self.base.party(id),
        }
    }
    fn key(&self, name: &str, key_id: u32) -> StoreResult<Option<KeyState>> {
        match self.keys.get(&(name.to_owned(), key_id)) {
            Some(k) => Ok(k.clone()),
            None => self.base.key(name, key_id),
        }
    }
    fn site(&self, id: &str) -> StoreResult<Option<SiteState>> {
        match self.sites.get(id) {
            Some(s) => Ok(Some(s.clone())),
            None => self.base.site(id),
        }
    }
    fn lot(&self, id: &str) -> StoreResult<Option<LotState>> {
        match self.lots.get(id) {
            Some(l) => Ok(Some(l.clone())),
            None => self.base.lot(id),
        }
    }
    fn shipment(&self, id: &str) -> StoreResult<Option<ShipmentState>> {
        match self.shipments.get(id) {
            Some(s) => Ok(Some(s.clone())),
            None => self.base.shipment(id),
        }
    }
    fn find_record(&self, record_hash: &[u8; 32]) -> StoreResult<Option<u64>> {
        match self.records.get(record_hash) {
            Some(i) => Ok(Some(*i)),
            None => self.base.find_record(record_hash),
        }
    }
    fn agreement(&self, id: &str) -> StoreResult<Option<AgreementState>> {
        match self.agreements.get(id) {
            Some(a) => Ok(Some(a.clone())),
            None => self.base.agreement(id),
        }
    }
    fn agreement_version(&self, id: &str, version: u32) -> StoreResult<Option<VersionState>> {
        match self.versions.get(&(id.to_owned(), version)) {
            Some(v) => Ok(Some(v.clone())),
            None => self.base.agreement_version(id, version),
        }
    }
    fn clause(&self, id: &str, version: u32, clause: u32) -> StoreResult<Option<ClauseState>> {
        match self.clauses.get(&(id.to_owned(), version, clause)) {
            Some(c) => Ok(Some(c.clone())),
            None => self.base.clause(id, version, clause),
        }
    }
    fn report(&self, id: &str) -> StoreResult<Option<ReportState>> {
        match self.reports.get(id) {
            Some(r) => Ok(Some(r.clone())),
            None => self.base.report(id),
        }
    }
    fn resource(&self, id: &str) -> StoreResult<Option<ResourceState>> {
        match self.resources.get(id) {
            Some(r) => Ok(Some(r.clone())),
            None => self.base.resource(id),
        }
    }
    fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>> {
        match self.entries.get(&index) {
            Some(e) => Ok(Some(e.clone())),
            None => self.base.entry(index),
        }
    }
    fn lot_entries(&self, lot: &str) -> StoreResult<Vec<u64>> {
        let mut all = self.base.lot_entries(lot)?;
        if let Some(more) = self.lot_events.get(lot) {
            for i in more {
                if all.last().is_none_or(|last| last < i) {
                    all.push(*i);
                }
            }
        }
        Ok(all)
    }
    fn event_index(&self, event_id: &str) -> StoreResult<Option<u64>> {
        match self.events.get(event_id) {
            Some(i) => Ok(Some(*i)),
            None => self.base.event_index(event_id),
        }
    }
}

/// Who validly signed a record.
#[derive(Debug, Default)]
pub(crate) struct Signers {
    pub(crate) parties: BTreeSet<String>,
    pub(crate) operator: bool,
    /// Keys listed in a party record, not yet registered, that signed it
    /// (proof of possession): `(name, key id)`.
    pub(crate) own_keys: BTreeSet<(String, u32)>,
}

/// The keys the rules trust besides the parties': the registry
/// operator's (it endorses new parties) and the log's (it signs the
/// entries of EPCIS events captured through the registry's interface).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorities {
    pub operator: NoteVerifier,
    pub log: NoteVerifier,
    /// The per-element mass balance's allowance for grades whose assays
    /// state no uncertainty ([`crate::ledger::LedgerConfig`]).
    pub balance: oretrace_provenance::Tolerance,
}

/// Detached document signature lines that verified, each with the key
/// that verified it.
pub(crate) type DocumentChecks = Vec<(SignatureLine, NoteVerifier)>;

/// Signature lines already checked, off the sequencer thread, against the
/// key the registry held for them at the time: `(key name, key id, vkey)`.
/// The sequencer skips the cryptography for a line only if the key it
/// finds now is the very same vkey; otherwise it verifies again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preverified {
    /// Keys whose signature lines on the record verified.
    pub(crate) lines: Vec<NoteVerifier>,
    /// Detached document signature lines of a captured event, with the
    /// key that verified them.
    pub(crate) documents: DocumentChecks,
    /// A captured event's id, checked to be its CBV 2.0 hash.
    pub(crate) event_hash: Option<String>,
}

impl Preverified {
    /// Whether `line` verified with `key` (the same key: name, id and
    /// public key).
    pub(crate) fn covers_document(&self, line: &SignatureLine, key: &NoteVerifier) -> bool {
        self.documents.iter().any(|(l, k)| l == line && k == key)
    }

    /// Whether the record's line by `key` verified (the same key: name,
    /// id and public key).
    pub(crate) fn covers(&self, key: &NoteVerifier) -> bool {
        self.lines.iter().any(|k| k == key)
    }
}

/// Verifies what signature lines it can against the keys `view` knows
/// (and the operator's, and a new party's own listed keys). Never fails:
/// lines it cannot check are left for the sequencer.
pub fn preverify(view: &impl StateView, keys: &Authorities, signed: &SignedRecord) -> Preverified {
    if let Record::Event(event) = signed.record() {
        return crate::capture::preverify_event(view, keys, signed, event);
    }
    let operator = &keys.operator;
    let mut lines = Vec::new();
    let listed: &[NoteVerifier] = match signed.record() {
        Record::Party(p) => &p.keys,
        _ => &[],
    };
    for sig in signed.signatures() {
        let candidate = if sig.name == operator.name() && sig.key_id == operator.key_id() {
            Some(operator.clone())
        } else if let Ok(Some(key)) = view.key(&sig.name, sig.key_id) {
            Some(key.verifier().clone())
        } else {
            listed
                .iter()
                .find(|k| k.name() == sig.name && k.key_id() == sig.key_id)
                .cloned()
        };
        if let Some(key) = candidate
            && signed.signed_by(&key) == Ok(true)
        {
            lines.push(key);
        }
    }
    Preverified {
        lines,
        ..Preverified::default()
    }
}

fn check_signatures(
    view: &impl StateView,
    operator: &NoteVerifier,
    signed: &SignedRecord,
    pre: &Preverified,
) -> Result<Signers, Refusal> {
    let listed: Vec<NoteVerifier> = match signed.record() {
        Record::Party(p) => p.keys.clone(),
        _ => Vec::new(),
    };
    let mut signers = Signers::default();
    if signed.signatures().is_empty() {
        return Err(Refusal::Unauthenticated("the record is not signed".into()));
    }
    for sig in signed.signatures() {
        let bad = |e: oretrace_domain::Error| Refusal::Unauthenticated(e.to_string());
        if sig.name == operator.name() && sig.key_id == operator.key_id() {
            if !pre.covers(operator) {
                signed.signed_by(operator).map_err(bad)?;
            }
            signers.operator = true;
            continue;
        }
        if let Some(key) = view.key(&sig.name, sig.key_id)? {
            if !pre.covers(key.verifier()) {
                signed.signed_by(key.verifier()).map_err(bad)?;
            }
            signers.parties.insert(key.party().to_string());
            continue;
        }
        if let Some(own) = listed
            .iter()
            .find(|k| k.name() == sig.name && k.key_id() == sig.key_id)
        {
            if !pre.covers(own) {
                signed.signed_by(own).map_err(bad)?;
            }
            signers.own_keys.insert((sig.name.clone(), sig.key_id));
            continue;
        }
        return Err(Refusal::Unauthenticated(format!(
            "key {}+{:08x} is not registered to any party",
            sig.name, sig.key_id
        )));
    }
    Ok(signers)
}

pub(crate) fn require_signer(signers: &Signers, party: &str, what: &str) -> Result<(), Refusal> {
    if signers.parties.contains(party) {
        return Ok(());
    }
    Err(Refusal::Forbidden(format!(
        "{what} must be signed by {party}"
    )))
}

pub(crate) fn held_lot(view: &impl StateView, id: &str, field: &str) -> Result<LotState, Refusal> {
    let lot = view
        .lot(id)?
        .ok_or_else(|| unprocessable(field, format!("lot {id} does not exist")))?;
    match lot.status() {
        LotStatus::Held => Ok(lot),
        LotStatus::InTransit { shipment } => Err(unprocessable(
            field,
            format!("lot {id} is in transit in shipment {shipment}"),
        )),
        LotStatus::Consumed { transformation } => Err(unprocessable(
            field,
            format!("lot {id} was consumed by transformation {transformation}"),
        )),
    }
}

pub(crate) fn existing_site(
    view: &impl StateView,
    id: &str,
    field: &str,
) -> Result<SiteState, Refusal> {
    view.site(id)?
        .ok_or_else(|| unprocessable(field, format!("site {id} does not exist")))
}

pub(crate) fn existing_party(
    view: &impl StateView,
    id: &str,
    field: &str,
) -> Result<PartyState, Refusal> {
    view.party(id)?
        .ok_or_else(|| unprocessable(field, format!("party {id} does not exist")))
}

/// Authorises a signed record against the registry's state and returns
/// the projection changes it makes if appended at `index`.
pub fn authorise(
    view: &impl StateView,
    keys: &Authorities,
    signed: &SignedRecord,
    index: u64,
    pre: &Preverified,
    now: Timestamp,
) -> Result<Vec<Change>, Refusal> {
    if let Some(original) = view.find_record(&signed.record_hash())? {
        return Err(Refusal::Replay { index: original });
    }
    not_in_future(signed.record().time(), now, "time")?;
    changes_of(view, keys, signed, index, pre)
}

/// How far ahead of the registry's clock a record's time may be: clocks
/// drift, time zones get confused; a day-later date is a mistake.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 3600;

/// Refuses a time more than [`MAX_CLOCK_SKEW_SECONDS`] after `now`.
pub(crate) fn not_in_future(time: Timestamp, now: Timestamp, field: &str) -> Result<(), Refusal> {
    if time.unix() > now.unix().saturating_add(MAX_CLOCK_SKEW_SECONDS) {
        return Err(unprocessable(
            field,
            format!(
                "{time} is in the future (the registry's clock says {now}; at most {MAX_CLOCK_SKEW_SECONDS} s of skew)"
            ),
        ));
    }
    Ok(())
}

/// Refuses a record dated before what it depends on (when that time is
/// known: lots stored before their times were kept have none).
pub(crate) fn not_before(
    time: Timestamp,
    earlier: impl Into<Option<Timestamp>>,
    what: &str,
    field: &str,
) -> Result<(), Refusal> {
    match earlier.into() {
        Some(earlier) if time < earlier => Err(unprocessable(
            field,
            format!("{time} is before {what} ({earlier})"),
        )),
        _ => Ok(()),
    }
}

/// How much more a lot may weigh on receipt than it was shipped with,
/// in percent (scales, moisture taken up in transit). More is refused.
pub const RECEIPT_TOLERANCE_PERCENT: i64 = 2;

/// Lot ids of the registry's own form, `urn:oretrace:lot:<party>:<local>`:
/// the party whose namespace the id is in.
fn lot_namespace(id: &str) -> Option<&str> {
    id.strip_prefix("urn:oretrace:lot:")?
        .split_once(':')
        .map(|(party, _)| party)
}

/// A new lot whose id is in a party's namespace is committed by that
/// party alone: nobody else may make a lot look like theirs.
fn lot_namespace_holds(id: &str, committer: &str, field: &str) -> Result<(), Refusal> {
    if let Some(owner) = lot_namespace(id)
        && oretrace_domain::values::PartyId::parse(owner).is_err()
    {
        return Err(Refusal::Invalid(oretrace_domain::Error::invalid(
            field,
            format!(
                "{owner:?} is not a party id (lower-case letters, digits, - and .): a registry lot id is urn:oretrace:lot:<party>:<name>"
            ),
        )));
    }
    match lot_namespace(id) {
        Some(owner) if owner != committer => Err(Refusal::Forbidden(format!(
            "{field}: lot ids urn:oretrace:lot:{owner}:… are committed only by {owner}; this lot would be committed by {committer}"
        ))),
        _ => Ok(()),
    }
}

/// Every lot id a record names must be written exactly as the EPCIS
/// query index keeps it (CURIE expanded, EPCs as canonical GS1 Digital
/// Links): one lot, one spelling, so that no rule checks one spelling
/// while the index files the event under another.
fn canonical_lot_ids(record: &Record) -> Result<(), Refusal> {
    let names: Vec<(String, &oretrace_domain::values::LotId)> = match record {
        Record::Lot(l) => vec![("id".into(), &l.id)],
        Record::Assay(a) => vec![("lot".into(), &a.lot)],
        Record::Shipment(s) => s
            .lots
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("lots[{i}]"), l))
            .collect(),
        Record::Receipt(r) => r
            .lots
            .iter()
            .enumerate()
            .map(|(i, (l, _))| (format!("lots[{i}].lot"), l))
            .collect(),
        Record::Transformation(t) => t
            .inputs
            .iter()
            .enumerate()
            .map(|(i, (l, _))| (format!("inputs[{i}].lot"), l))
            .chain(
                t.outputs
                    .iter()
                    .enumerate()
                    .map(|(i, o)| (format!("outputs[{i}].id"), &o.id)),
            )
            .collect(),
        Record::Agreement(a) => a
            .lots
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("lots[{i}]"), l))
            .collect(),
        Record::AttributeClaim(c) => vec![("lot".into(), &c.lot)],
        Record::Party(_)
        | Record::Site(_)
        | Record::CustodyModel(_)
        | Record::Event(_)
        | Record::Countersignature(_)
        | Record::Disclosure(_)
        | Record::Progress(_)
        | Record::Report(_)
        | Record::Resource(_) => vec![],
    };
    for (field, id) in names {
        if let Some(problem) = lot_spelling_problem(id.as_str()) {
            return Err(Refusal::Invalid(oretrace_domain::Error::invalid(
                field, problem,
            )));
        }
    }
    Ok(())
}

/// Why a lot id is not in the one spelling the registry keeps, if it is
/// not: not the query index's form, not its loosest equivalent, not a URN
/// or http(s) URI, a registry URN that is not a lot's, or a GS1 key with
/// a wrong check digit.
pub(crate) fn lot_spelling_problem(id: &str) -> Option<String> {
    let canonical =
        oretrace_epcis::query::canonical_identifier(id, &oretrace_epcis::Context::new());
    let loose = oretrace_epcis::query::loose_identifier(&canonical);
    if loose != id {
        return Some(format!(
            "write the lot id as {loose} (its canonical form: one lot, one spelling)"
        ));
    }
    let scheme = id.split_once(':').map_or("", |(s, _)| s);
    if !matches!(scheme, "urn" | "https" | "http") {
        return Some("a lot id is a URN (urn:…) or an http(s) URI".into());
    }
    if let Some(rest) = id.strip_prefix("urn:oretrace:")
        && rest.strip_prefix("lot:").is_none_or(str::is_empty)
    {
        return Some("the registry's own lot ids are urn:oretrace:lot:<name>".into());
    }
    if !oretrace_epcis::gs1_check_digit_holds(id) {
        return Some("the GS1 key's check digit is wrong".into());
    }
    None
}

/// The authorisation and projection rules without the replay check: what
/// a rebuild replays for entries already in the log.
pub fn changes_of(
    view: &impl StateView,
    keys: &Authorities,
    signed: &SignedRecord,
    index: u64,
    pre: &Preverified,
) -> Result<Vec<Change>, Refusal> {
    let mut changes = if let Record::Event(event) = signed.record() {
        crate::capture::event_changes(view, keys, signed, event, index, pre)?
    } else {
        let signers = check_signatures(view, &keys.operator, signed, pre)?;
        let mut changes = record_changes(view, &signers, &keys.balance, signed.record(), index)?;
        changes.extend(crate::capture::record_event(view, signed, index)?);
        changes
    };
    // Event ids are unique: the first event of an id is kept, a later
    // entry's event of the same id (a record whose event hashes like one
    // captured or stated before) is not stored again, and the entry is
    // accepted all the same.
    let mut kept = Vec::with_capacity(changes.len());
    for change in changes.drain(..) {
        if let Change::PutEvent(e) = &change
            && view.event_index(e.event_id().as_str())?.is_some()
        {
            continue;
        }
        kept.push(change);
    }
    Ok(kept)
}

/// What a record changes, once its signers are known: the rules of each
/// kind. Captured EPCIS events reach it with the records they state.
pub(crate) fn record_changes(
    view: &impl StateView,
    signers: &Signers,
    balance: &oretrace_provenance::Tolerance,
    record: &Record,
    index: u64,
) -> Result<Vec<Change>, Refusal> {
    canonical_lot_ids(record)?;
    if let Some(changes) = crate::agreements::rules::changes(view, signers, record, index) {
        return changes;
    }
    let mut changes = Vec::new();
    match record {
        Record::Party(p) => {
            let id = p.id.as_str();
            let existing = view.party(id)?;
            match &existing {
                None => {
                    if signers.own_keys.is_empty() {
                        return Err(Refusal::Forbidden(
                            "a new party must be signed by the keys it lists (proof of possession)"
                                .into(),
                        ));
                    }
                    if !signers.operator {
                        return Err(Refusal::Forbidden(
                            "a new party must be endorsed by the registry operator's key".into(),
                        ));
                    }
                }
                Some(old) => {
                    require_signer(signers, id, &format!("an update of party {id}"))?;
                    let old = old.record();
                    not_before(
                        p.time,
                        old.time,
                        &format!("the version of party {id} it replaces"),
                        "time",
                    )?;
                    if (old.name != p.name || old.kind != p.kind || old.country != p.country)
                        && !signers.operator
                    {
                        return Err(Refusal::Forbidden(format!(
                            "changing the name, kind or country of party {id} needs the registry operator's endorsement"
                        )));
                    }
                }
            }
            // An owner confirms the claim by signing a version that names
            // it; an unchanged claim keeps its confirmation.
            let old_owners = existing.as_ref().map_or(&[][..], |e| &e.record().owners);
            let old_unconfirmed = existing
                .as_ref()
                .map_or(&[][..], |e| e.unconfirmed_owners());
            let mut unconfirmed_owners = Vec::new();
            for (i, o) in p.owners.iter().enumerate() {
                let owner = o.owner.as_str();
                existing_party(view, owner, &format!("owners[{i}].owner"))?;
                let kept = old_owners.contains(o) && !old_unconfirmed.contains(&o.owner);
                if !signers.parties.contains(owner) && !kept {
                    unconfirmed_owners.push(o.owner.clone());
                }
            }
            if let Some(old) = &existing {
                for old in &old.record().keys {
                    if !p.keys.contains(old) {
                        changes.push(Change::RemoveKey {
                            name: old.name().to_owned(),
                            key_id: old.key_id(),
                        });
                    }
                }
            }
            for (i, key) in p.keys.iter().enumerate() {
                match view.key(key.name(), key.key_id())? {
                    Some(other) if *other.party() != p.id => {
                        return Err(unprocessable(
                            format!("keys[{i}]"),
                            format!("the key belongs to party {}", other.party()),
                        ));
                    }
                    Some(_) => {}
                    // A key joins a party only by signing the record that
                    // lists it: nobody registers a public key whose private
                    // half they do not hold (another party's, say).
                    None if !signers
                        .own_keys
                        .contains(&(key.name().to_owned(), key.key_id())) =>
                    {
                        return Err(Refusal::Forbidden(format!(
                            "keys[{i}]: a new key {}+{:08x} must sign the record that lists it (proof of possession)",
                            key.name(),
                            key.key_id()
                        )));
                    }
                    None => {}
                }
                changes.push(Change::PutKey(KeyState::new(key.clone(), p.id.clone())));
            }
            // When the owners last changed: a verdict resting on them
            // cannot speak for earlier.
            let owners_changed = match &existing {
                Some(old) if old.record().owners != p.owners => Some(p.time),
                Some(old) => old.owners_changed(),
                None => None,
            };
            changes.push(Change::PutParty(
                PartyState::new(p.clone(), index, unconfirmed_owners)
                    .with_owners_changed(owners_changed),
            ));
        }
        Record::Site(s) => {
            existing_party(view, s.operator.as_str(), "operator")?;
            if let Some(old) = view.site(s.id.as_str())? {
                require_signer(
                    signers,
                    old.operator().as_str(),
                    &format!("an update of site {}", s.id),
                )?;
                not_before(
                    s.time,
                    old.record().time,
                    &format!("the version of site {} it replaces", s.id),
                    "time",
                )?;
                // Where a site is and what it is decide origin and
                // compliance for every lot that passed it: like a party's
                // identity, they change only with the operator's
                // endorsement.
                let was = old.record();
                if (was.country != s.country || was.kind != s.kind) && !signers.operator {
                    return Err(Refusal::Forbidden(format!(
                        "changing the country or kind of site {} needs the registry operator's endorsement",
                        s.id
                    )));
                }
            }
            require_signer(signers, s.operator.as_str(), &format!("site {}", s.id))?;
            // A new version keeps the site's chain-of-custody declarations.
            let state = match view.site(s.id.as_str())? {
                Some(old) => old.replaced_by(s.clone(), index),
                None => SiteState::new(s.clone(), index),
            };
            changes.push(Change::PutSite(state));
        }
        Record::Lot(l) => {
            if view.lot(l.id.as_str())?.is_some() {
                return Err(unprocessable("id", format!("lot {} already exists", l.id)));
            }
            let site = existing_site(view, l.site.as_str(), "site")?;
            require_signer(
                signers,
                site.operator().as_str(),
                &format!("a lot commissioned at {}", site.id()),
            )?;
            lot_namespace_holds(l.id.as_str(), site.operator().as_str(), "id")?;
            not_before(
                l.time,
                site.record().time,
                &format!("site {} was registered", site.id()),
                "time",
            )?;
            let lot = LotState::commissioned(l, site.operator().clone(), index)
                .map_err(Refusal::Invalid)?;
            changes.push(Change::PutLot(lot));
            changes.push(Change::LotEvent {
                lot: l.id.to_string(),
                index,
            });
        }
        Record::Assay(a) => {
            // The custodian holding the lot commissions the assay and the
            // laboratory attests its result: both sign (one signature when
            // the custodian assays its own lot).
            let mut lot = held_lot(view, a.lot.as_str(), "lot")?;
            existing_party(view, a.laboratory.as_str(), "laboratory")?;
            not_before(
                a.time,
                lot.created(),
                &format!("lot {} was commissioned", a.lot),
                "time",
            )?;
            require_signer(
                signers,
                lot.custodian().as_str(),
                &format!("an assay of {} (its custodian commissions it)", a.lot),
            )?;
            require_signer(
                signers,
                a.laboratory.as_str(),
                &format!(
                    "an assay of {} (custodian and laboratory both sign it: for an EPCIS capture, detached document signatures, oretrace import FILE --key custodian.key --key lab.key; a bearer token speaks for one party)",
                    a.lot
                ),
            )?;
            // Grades are kept on the dry basis: a wet-basis grade is
            // divided by the lot's dry fraction (and must still fit in it).
            let mut element = a.element_percent();
            if a.basis == oretrace_domain::record::Basis::Wet {
                let moisture = lot.moisture().value();
                let dry = Decimal::ONE_HUNDRED - moisture;
                let on_dry = element
                    .checked_mul(Decimal::ONE_HUNDRED)
                    .and_then(|x| x.checked_div(dry))
                    .filter(|g| dry > Decimal::ZERO && *g <= Decimal::ONE_HUNDRED)
                    .ok_or_else(|| {
                        unprocessable(
                            "value",
                            format!(
                                "{} % of {} on the wet basis is more than the dry matter of lot {} (moisture {} %) can hold",
                                format_decimal(&element),
                                a.analyte.element().symbol(),
                                a.lot,
                                format_decimal(&moisture)
                            ),
                        )
                    })?;
                element = on_dry;
            }
            let grade = Percent::new(element.round_dp(6))
                .map_err(|e| Refusal::Invalid(e.within("value")))?;
            let total = lot.set_grade(a.analyte.element(), grade);
            if total > Decimal::from(100) {
                return Err(unprocessable(
                    "value",
                    format!(
                        "the assays of lot {} would put {} % of elements in it, more than the lot",
                        a.lot,
                        format_decimal(&total)
                    ),
                ));
            }
            // Per element, a transformation's assayed outputs hold no more
            // than its inputs did, within the tolerance.
            crate::balance::check_assay(view, balance, &lot, a, index)?;
            changes.push(Change::PutLot(lot));
            changes.push(Change::LotEvent {
                lot: a.lot.to_string(),
                index,
            });
        }
        Record::Shipment(s) => ship(view, signers, s, index, &mut changes)?,
        Record::Receipt(r) => {
            let mut shipment = view.shipment(r.shipment.as_str())?.ok_or_else(|| {
                unprocessable(
                    "shipment",
                    format!("shipment {} does not exist", r.shipment),
                )
            })?;
            if let Some(at) = shipment.received() {
                return Err(unprocessable(
                    "shipment",
                    format!("shipment {} was received at index {at}", r.shipment),
                ));
            }
            require_signer(
                signers,
                shipment.receiver().as_str(),
                &format!("the receipt of shipment {}", r.shipment),
            )?;
            if r.site != *shipment.to() {
                return Err(unprocessable(
                    "site",
                    format!("shipment {} goes to {}", r.shipment, shipment.to()),
                ));
            }
            let site = existing_site(view, r.site.as_str(), "site")?;
            require_signer(
                signers,
                site.operator().as_str(),
                &format!("receiving at {} (its operator)", site.id()),
            )?;
            not_before(
                r.time,
                shipment.record().time,
                &format!("shipment {} left", r.shipment),
                "time",
            )?;
            let listed: BTreeSet<&LotId> = r.lots.iter().map(|(l, _)| l).collect();
            let shipped: BTreeSet<&LotId> = shipment.lots().iter().collect();
            if listed != shipped {
                let lots: Vec<&str> = shipment.lots().iter().map(LotId::as_str).collect();
                return Err(unprocessable(
                    "lots",
                    format!(
                        "the receipt must list exactly the shipped lots: {}",
                        lots.join(", ")
                    ),
                ));
            }
            for (i, (lot_id, mass)) in r.lots.iter().enumerate() {
                let mut lot = view
                    .lot(lot_id.as_str())?
                    .ok_or_else(|| Refusal::Internal(format!("shipped lot {lot_id} vanished")))?;
                if *lot.status()
                    != (LotStatus::InTransit {
                        shipment: shipment.id().clone(),
                    })
                {
                    return Err(unprocessable(
                        format!("lots[{i}]"),
                        format!("lot {lot_id} is not in transit in this shipment"),
                    ));
                }
                // Against the mass the lot was created with, not its last
                // receipt: tolerances must not compound from hand to hand.
                let shipped_kg = lot.wet_mass().kilograms();
                let most = shipped_kg
                    * (Decimal::ONE
                        + Decimal::from(RECEIPT_TOLERANCE_PERCENT) / Decimal::ONE_HUNDRED);
                if mass.kilograms() > most {
                    return Err(unprocessable(
                        format!("lots[{i}].mass"),
                        format!(
                            "{} kg received of lot {lot_id}, created with {} kg: more than {RECEIPT_TOLERANCE_PERCENT} % over its recorded mass",
                            format_decimal(&mass.kilograms()),
                            format_decimal(&shipped_kg)
                        ),
                    ));
                }
                lot.receive(
                    shipment.receiver().clone(),
                    shipment.to().clone(),
                    *mass,
                    r.time,
                );
                changes.push(Change::PutLot(lot));
                changes.push(Change::LotEvent {
                    lot: lot_id.to_string(),
                    index,
                });
            }
            shipment.mark_received(index);
            changes.push(Change::PutShipment(shipment));
        }
        Record::Transformation(t) => transform(view, signers, t, index, &mut changes)?,
        Record::CustodyModel(m) => crate::custody::declare(view, signers, m, index, &mut changes)?,
        Record::AttributeClaim(c) => crate::custody::claim(view, signers, c, index, &mut changes)?,
        Record::Event(_) => {
            return Err(unprocessable(
                "record",
                "an EPCIS event cannot state another EPCIS event",
            ));
        }
        Record::Agreement(_)
        | Record::Countersignature(_)
        | Record::Disclosure(_)
        | Record::Progress(_)
        | Record::Report(_)
        | Record::Resource(_) => {
            return Err(Refusal::Internal(format!(
                "{} records are ruled by the agreements module",
                record.kind()
            )));
        }
    }
    Ok(changes)
}

/// A lot a shipment or transformation takes: held, at `site`, signed for
/// by its custodian, and with the same custodian as the lots taken before
/// it (`custodian` holds the first one's).
fn take_held_lot(
    view: &impl StateView,
    signers: &Signers,
    lot_id: &str,
    field: &str,
    site: &str,
    custodian: &mut Option<PartyId>,
    what: &str,
) -> Result<LotState, Refusal> {
    let lot = held_lot(view, lot_id, field)?;
    if lot.site().as_str() != site {
        return Err(unprocessable(
            field,
            format!("lot {lot_id} is at {}, not at {site}", lot.site()),
        ));
    }
    require_signer(
        signers,
        lot.custodian().as_str(),
        &format!("{what}: {lot_id}"),
    )?;
    match custodian {
        Some(c) if c != lot.custodian() => {
            return Err(unprocessable(
                field,
                format!("{what}: {lot_id} is held by {}, not {c}", lot.custodian()),
            ));
        }
        _ => *custodian = Some(lot.custodian().clone()),
    }
    Ok(lot)
}

fn ship(
    view: &impl StateView,
    signers: &Signers,
    s: &Shipment,
    index: u64,
    changes: &mut Vec<Change>,
) -> Result<(), Refusal> {
    if view.shipment(s.id.as_str())?.is_some() {
        return Err(unprocessable(
            "id",
            format!("shipment {} already exists", s.id),
        ));
    }
    existing_site(view, s.from.as_str(), "from")?;
    existing_site(view, s.to.as_str(), "to")?;
    for (i, via) in s.via.iter().enumerate() {
        existing_site(view, via.as_str(), &format!("via[{i}]"))?;
    }
    existing_party(view, s.receiver.as_str(), "receiver")?;
    let mut shipper: Option<PartyId> = None;
    for (i, lot_id) in s.lots.iter().enumerate() {
        let field = format!("lots[{i}]");
        let mut lot = take_held_lot(
            view,
            signers,
            lot_id.as_str(),
            &field,
            s.from.as_str(),
            &mut shipper,
            "a shipment (only the custodian ships a lot; all its lots have one custodian)",
        )?;
        not_before(
            s.time,
            lot.since(),
            &format!("lot {lot_id} was at {}", s.from),
            "time",
        )?;
        lot.ship(s.id.clone());
        changes.push(Change::PutLot(lot));
        changes.push(Change::LotEvent {
            lot: lot_id.to_string(),
            index,
        });
    }
    let shipper =
        shipper.ok_or_else(|| unprocessable("lots", "a shipment lists at least one lot"))?;
    changes.push(Change::PutShipment(ShipmentState::new(
        s.clone(),
        shipper,
        index,
    )));
    Ok(())
}

fn transform(
    view: &impl StateView,
    signers: &Signers,
    t: &Transformation,
    index: u64,
    changes: &mut Vec<Change>,
) -> Result<(), Refusal> {
    let site = existing_site(view, t.site.as_str(), "site")?;
    require_signer(
        signers,
        site.operator().as_str(),
        &format!("processing at {} (its operator)", site.id()),
    )?;
    not_before(
        t.time,
        site.record().time,
        &format!("site {} was registered", site.id()),
        "time",
    )?;
    let mut custodian: Option<PartyId> = None;
    let mut dry_in = Decimal::ZERO;
    let mut wet_in = Decimal::ZERO;
    for (i, (lot_id, consumed)) in t.inputs.iter().enumerate() {
        let field = format!("inputs[{i}]");
        let mut lot = take_held_lot(
            view,
            signers,
            lot_id.as_str(),
            &field,
            site.id().as_str(),
            &mut custodian,
            "a transformation (only the custodian processes a lot; all inputs have one custodian, who receives the outputs)",
        )?;
        not_before(
            t.time,
            lot.since(),
            &format!("lot {lot_id} was at {}", site.id()),
            "time",
        )?;
        // What it holds now, but never more than it was created with: a
        // heavier weighing on receipt does not make matter.
        let available_kg = lot
            .current_mass()
            .kilograms()
            .min(lot.wet_mass().kilograms());
        let moisture = lot.moisture().value();
        dry_in += consumed.kilograms() * (Decimal::ONE - moisture / Decimal::ONE_HUNDRED);
        wet_in += consumed.kilograms();
        if consumed.kilograms() > available_kg {
            return Err(unprocessable(
                format!("{field}.mass"),
                format!(
                    "{lot_id} holds {} kg (as last weighed, at most as created: a heavier weighing on receipt does not count); {} kg cannot be consumed",
                    format_decimal(&available_kg),
                    format_decimal(&consumed.kilograms())
                ),
            ));
        }
        lot.consume(t.id.clone());
        changes.push(Change::PutLot(lot));
        changes.push(Change::LotEvent {
            lot: lot_id.to_string(),
            index,
        });
    }
    let custodian = custodian
        .ok_or_else(|| unprocessable("inputs", "a transformation lists at least one input"))?;
    // The site's entries (its transformations and the claims judged under
    // its declarations), for its chain-of-custody answer.
    changes.push(Change::LotEvent {
        lot: crate::custody::site_key(t.site.as_str()),
        index,
    });
    // No transformation creates matter: the outputs' dry mass is at most
    // the inputs' dry mass consumed (reagents are inputs too). Mass
    // balance per element comes with provenance.
    let dry_out: Decimal = t
        .outputs
        .iter()
        .map(|o| o.wet_mass.kilograms() * (Decimal::ONE - o.moisture / Decimal::ONE_HUNDRED))
        .sum();
    if dry_out > dry_in {
        return Err(unprocessable(
            "outputs",
            format!(
                "the outputs hold {} kg of dry matter, more than the {} kg consumed: a transformation cannot create mass (list every reagent as an input)",
                format_decimal(&dry_out.round_dp(6)),
                format_decimal(&dry_in.round_dp(6))
            ),
        ));
    }
    // Nor water: a near-100 % moisture would otherwise make any wet mass
    // of a little dry matter (water added is an input too).
    let wet_out: Decimal = t.outputs.iter().map(|o| o.wet_mass.kilograms()).sum();
    if wet_out > wet_in {
        return Err(unprocessable(
            "outputs",
            format!(
                "the outputs weigh {} kg, more than the {} kg consumed: a transformation cannot create mass (list the water and every reagent as inputs)",
                format_decimal(&wet_out.round_dp(6)),
                format_decimal(&wet_in.round_dp(6))
            ),
        ));
    }
    for (i, o) in t.outputs.iter().enumerate() {
        lot_namespace_holds(
            o.id.as_str(),
            custodian.as_str(),
            &format!("outputs[{i}].id"),
        )?;
        if view.lot(o.id.as_str())?.is_some() {
            return Err(unprocessable(
                format!("outputs[{i}].id"),
                format!("lot {} already exists", o.id),
            ));
        }
        let lot = LotState::produced(o, t, custodian.clone(), index)
            .map_err(|e| Refusal::Invalid(e.within(&format!("outputs[{i}]"))))?;
        changes.push(Change::PutLot(lot));
        changes.push(Change::LotEvent {
            lot: o.id.to_string(),
            index,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oretrace_tlog::note::NoteSigner;

    #[test]
    fn a_document_line_is_covered_only_with_the_very_key_that_verified_it() {
        let signer = NoteSigner::from_seed("fwo/k1", [3; 32]).unwrap();
        // Another key under the same name.
        let other = NoteSigner::from_seed("fwo/k1", [4; 32]).unwrap();
        let line = |s: &NoteSigner, text: &str| {
            SignatureLine::from(s.sign(text).unwrap().signatures()[0].clone())
        };
        let pre = Preverified {
            documents: vec![(line(&signer, "a\n"), signer.verifier())],
            ..Preverified::default()
        };
        assert!(pre.covers_document(&line(&signer, "a\n"), &signer.verifier()));
        assert!(!pre.covers_document(&line(&signer, "b\n"), &signer.verifier()));
        assert!(!pre.covers_document(&line(&signer, "a\n"), &other.verifier()));
        assert!(!Preverified::default().covers_document(&line(&signer, "a\n"), &signer.verifier()));
    }

    #[test]
    fn a_record_line_is_covered_only_by_the_very_key_that_verified_it() {
        let signer = NoteSigner::from_seed("fwo/k1", [3; 32]).unwrap();
        // Another key under the same name (and so, here, another id).
        let other = NoteSigner::from_seed("fwo/k1", [4; 32]).unwrap();
        let pre = Preverified {
            lines: vec![signer.verifier()],
            ..Preverified::default()
        };
        assert!(pre.covers(&signer.verifier()));
        assert!(!pre.covers(&other.verifier()));
        assert!(!Preverified::default().covers(&signer.verifier()));
    }
}
