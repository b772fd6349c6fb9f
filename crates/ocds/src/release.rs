//! Releases, release packages and record packages.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Map, Number, Value, json};

use oretrace_domain::agreement::{Agreement, AgreementStatus, Quantity, SourceDocument, Terms};
use oretrace_domain::money::{Date, Money};
use oretrace_domain::record::Figures;
use oretrace_domain::values::{PartyId, Timestamp, Token, format_decimal};
use oretrace_ledger::agreements::state::{
    AgreementState, ClauseState, Confirmation, PledgeState, PledgeStatus, ProgressState,
    VersionState,
};
use oretrace_ledger::state::PartyState;

use crate::{Error, OCDS_VERSION, compile};

/// Who publishes the export: the registry's OCDS prefix (configured
/// once, e.g. `a1b2c3`), its name, and the base URL its records are
/// served under (`https://registry.example/v1`, no trailing slash).
#[derive(Clone, Copy, Debug)]
pub struct Publisher<'a> {
    pub prefix: &'a str,
    pub name: &'a str,
    pub base_url: &'a str,
}

/// The time of a reveal (`disclosure` record), which the clause
/// projections do not keep: the log index of the reveal and its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevealTime {
    pub index: u64,
    pub time: Timestamp,
}

/// Everything the registry holds about one agreement, as its
/// projections state it.
#[derive(Clone, Copy, Debug)]
pub struct History<'a> {
    pub agreement: &'a AgreementState,
    /// Every version, any order.
    pub versions: &'a [VersionState],
    /// Every revealed clause, any order.
    pub clauses: &'a [ClauseState],
    /// The time of each reveal the clauses name.
    pub reveals: &'a [RevealTime],
    /// Every accepted progress report, any order.
    pub progress: &'a [ProgressState],
    /// The parties the versions name (others are shown by id only).
    pub parties: &'a [PartyState],
}

/// The OCDS contracting-process id of an agreement:
/// `ocds-<prefix>-<agreement id>`. The schema sets no pattern on `ocid`,
/// so the `:` of the agreement id stays as it is.
pub fn ocid(prefix: &str, agreement: &str) -> String {
    format!("ocds-{prefix}-{agreement}")
}

/// One record about the agreement, in log order.
enum Event<'a> {
    Version(&'a VersionState),
    Countersign(&'a VersionState, &'a Confirmation),
    Reveal(u64, Timestamp, Vec<&'a ClauseState>),
    Progress(&'a ProgressState),
}

impl Event<'_> {
    fn index(&self) -> u64 {
        match self {
            Event::Version(v) => v.index(),
            Event::Countersign(_, c) => c.index,
            Event::Reveal(index, ..) => *index,
            Event::Progress(p) => p.index(),
        }
    }
}

/// A calendar day as an OCDS date-time: midnight UTC.
fn day(date: Date) -> String {
    format!("{date}T00:00:00Z")
}

/// An exact decimal as the JSON number OCDS requires. An integer that
/// fits 64 bits stays exact as a JSON integer (readers that hold numbers
/// as IEEE doubles, as most do, keep it exact up to 2^53; amounts reach
/// 10^18). A fraction becomes the nearest IEEE double, printed as its
/// shortest round-trip spelling: `12.5` and `0.1` print as written, a
/// fraction with more than about 15 significant digits is rounded. The
/// exact figure is always in the record the release links to.
pub(crate) fn number(amount: Decimal) -> Value {
    let normal = amount.normalize();
    if normal.scale() == 0
        && let Ok(n) = i64::try_from(normal)
    {
        return Value::Number(Number::from(n));
    }
    format_decimal(&normal)
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn value(money: &Money) -> Value {
    json!({"amount": number(money.amount()), "currency": money.currency().as_str()})
}

pub(crate) fn quantity_text(q: &Quantity) -> String {
    format!("{} {}", format_decimal(&q.amount()), q.unit())
}

const ILLUSTRATIVE: &str = "Illustrative figures, not reported facts. ";

fn label(figures: Figures) -> &'static str {
    match figures {
        Figures::Illustrative => ILLUSTRATIVE,
        Figures::Reported => "",
    }
}

/// OCDS contract status of a version's legal status.
fn contract_status(status: AgreementStatus) -> &'static str {
    match status {
        AgreementStatus::Signed => "pending",
        AgreementStatus::InForce | AgreementStatus::Amended => "active",
        AgreementStatus::Terminated | AgreementStatus::Lapsed => "terminated",
    }
}

fn milestone_status(status: PledgeStatus) -> &'static str {
    match status {
        PledgeStatus::Open => "scheduled",
        PledgeStatus::Met => "met",
        PledgeStatus::PartlyMet => "partiallyMet",
        PledgeStatus::NotMet => "notMet",
    }
}

/// What a release says of the contract, beyond the fields it sets: the
/// version's legal status where OCDS has no code for it, its disclosure,
/// and who has confirmed it so far.
fn contract_description(
    version: &VersionState,
    confirmed: &[&Confirmation],
    revealed: usize,
) -> String {
    let a = version.record();
    let mut text = String::from(label(a.figures));
    text.push_str(&format!(
        "{} version {}, registered by {}; status {}",
        a.kind,
        a.version,
        version.registrant(),
        a.status
    ));
    match a.status {
        AgreementStatus::Lapsed => text.push_str(" (lapsed: ended without being terminated)"),
        AgreementStatus::Amended => text.push_str(" (amended: in force as amended)"),
        _ => {}
    }
    text.push_str(". ");
    match &a.terms {
        Terms::Public { clauses } => {
            text.push_str(&format!("Text public: {} clauses. ", clauses.len()));
        }
        Terms::Sealed {
            root,
            count,
            reason,
            disclose_by,
        } => text.push_str(&format!(
            "Text sealed (oretrace.clause/v1): root {root}, {count} clauses, reason: {reason}; \
             disclosure planned by {disclose_by}; {revealed} of {count} clauses revealed. "
        )),
    }
    if confirmed.is_empty() {
        text.push_str("No party has countersigned it.");
    } else {
        let who: Vec<String> = confirmed
            .iter()
            .map(|c| format!("{} on {} (log index {})", c.party, c.time, c.index))
            .collect();
        text.push_str(&format!("Confirmed by {}.", who.join(", ")));
    }
    let unconfirmed: Vec<&PartyId> = a
        .parties
        .iter()
        .filter(|p| **p != *version.registrant() && !confirmed.iter().any(|c| &c.party == *p))
        .collect();
    if !unconfirmed.is_empty() {
        let who: Vec<&str> = unconfirmed.iter().map(|p| p.as_str()).collect();
        text.push_str(&format!(" Not yet confirmed by {}.", who.join(", ")));
    }
    text
}

fn source_document(doc: &SourceDocument, url: &str, published: &Timestamp) -> Value {
    json!({
        "id": format!("sha256-{}", doc.digest),
        "title": doc.title.as_str(),
        "description": format!("SHA-256 {} (the document itself is not held by the registry)", doc.digest),
        "url": url,
        "datePublished": published.to_string(),
    })
}

fn milestone(pledge: &PledgeState, quantity: Option<&Quantity>, on: Date) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(pledge.id.as_str()));
    m.insert("title".into(), json!(pledge.description.as_str()));
    m.insert("type".into(), json!("delivery"));
    let description = match quantity {
        Some(q) => format!("Pledged {} by {}", quantity_text(q), pledge.due),
        None => format!("Milestone due by {}", pledge.due),
    };
    m.insert("description".into(), json!(description));
    m.insert("dueDate".into(), json!(day(pledge.due)));
    m.insert("status".into(), json!(milestone_status(pledge.status(on))));
    Value::Object(m)
}

/// Pledge states carried from the version amended, as the ledger carries
/// them: same id and unit keep what was delivered.
fn pledges_of(
    a: &Agreement,
    before: &BTreeMap<Token, PledgeState>,
) -> BTreeMap<Token, PledgeState> {
    a.pledges
        .iter()
        .map(|p| {
            let mut state = PledgeState::new(p);
            if let Some(old) = before.get(&p.id).filter(|o| o.unit == state.unit) {
                state.delivered = old.delivered;
                state.complete = old.complete;
                state.reports = old.reports;
                state.last_report = old.last_report;
            }
            (p.id.clone(), state)
        })
        .collect()
}

fn party(id: &PartyId, parties: &[PartyState]) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(id.as_str()));
    match parties.iter().find(|p| p.id() == id) {
        Some(p) => {
            o.insert("name".into(), json!(p.record().name.as_str()));
            o.insert(
                "address".into(),
                json!({"countryName": p.record().country.as_str()}),
            );
            o.insert(
                "details".into(),
                json!({"kind": p.record().kind.as_str(), "registeredAt": p.index()}),
            );
        }
        None => {
            o.insert("name".into(), json!(id.as_str()));
        }
    }
    // The agreement records do not say which party buys, supplies, funds
    // or is paid; every party is stated as an interested party of the
    // process rather than given a role the records do not support.
    o.insert("roles".into(), json!(["interestedParty"]));
    Value::Object(o)
}

struct Builder<'a> {
    publisher: Publisher<'a>,
    history: History<'a>,
    ocid: String,
    id: String,
}

impl Builder<'_> {
    fn record_url(&self, index: u64) -> String {
        format!("{}/records/{index}", self.publisher.base_url)
    }

    fn release_id(&self, index: u64) -> String {
        format!("{}-{index}", self.id)
    }

    fn release(
        &self,
        index: u64,
        time: &Timestamp,
        tag: &str,
        contract: Map<String, Value>,
    ) -> Map<String, Value> {
        let mut r = Map::new();
        r.insert("ocid".into(), json!(self.ocid));
        r.insert("id".into(), json!(self.release_id(index)));
        r.insert("date".into(), json!(time.to_string()));
        r.insert("tag".into(), json!([tag]));
        // The closed initiationType codelist has one code, which the schema
        // requires; an agreement registered here had no tender, which the
        // award's description states.
        r.insert("initiationType".into(), json!("tender"));
        r.insert("language".into(), json!("en"));
        r.insert("contracts".into(), json!([Value::Object(contract)]));
        r
    }

    fn contract(&self) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("id".into(), json!(self.id));
        c.insert("awardID".into(), json!(self.id));
        c
    }
}

/// The releases of one agreement, oldest record first (log order).
///
/// Each milestone's `status` is computed as of the release's own day
/// (`PledgeState::status`), from the versions and progress reports up to
/// and including that record, so a release never changes once made; the
/// status on a later day is in the CSV export, which takes the day.
///
/// Fails when the projections disagree: a clause, confirmation or
/// progress report about a version or pledge the history does not hold,
/// or a reveal whose time is not given.
pub fn releases(publisher: Publisher<'_>, history: History<'_>) -> Result<Vec<Value>, Error> {
    let id = history.agreement.id.as_str().to_owned();
    let b = Builder {
        publisher,
        history,
        ocid: ocid(publisher.prefix, &id),
        id,
    };
    let mut events: Vec<Event<'_>> = Vec::new();
    for v in history.versions {
        if v.id() != &history.agreement.id {
            return Err(Error(format!(
                "version {} of {} is not about agreement {}",
                v.version(),
                v.id(),
                b.id
            )));
        }
        events.push(Event::Version(v));
        events.extend(v.confirmations().iter().map(|c| Event::Countersign(v, c)));
    }
    let mut by_reveal: BTreeMap<u64, Vec<&ClauseState>> = BTreeMap::new();
    for c in history.clauses {
        by_reveal.entry(c.index).or_default().push(c);
    }
    for (index, mut clauses) in by_reveal {
        let time = history
            .reveals
            .iter()
            .find(|r| r.index == index)
            .map(|r| r.time)
            .ok_or_else(|| {
                Error(format!(
                    "reveals: the time of the reveal at log index {index} is not given"
                ))
            })?;
        clauses.sort_by_key(|c| (c.version, c.clause));
        events.push(Event::Reveal(index, time, clauses));
    }
    events.extend(history.progress.iter().map(Event::Progress));
    events.sort_by_key(Event::index);

    let versions: BTreeMap<u32, &VersionState> =
        history.versions.iter().map(|v| (v.version(), v)).collect();
    let mut latest: Option<&VersionState> = None;
    let mut pledges: BTreeMap<Token, PledgeState> = BTreeMap::new();
    let mut confirmed: BTreeMap<u32, Vec<&Confirmation>> = BTreeMap::new();
    let mut revealed: BTreeMap<u32, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(events.len());
    for event in &events {
        let release = match event {
            Event::Version(v) => {
                pledges = pledges_of(v.record(), &pledges);
                latest = Some(v);
                b.version_release(v, &versions, &pledges)?
            }
            Event::Countersign(v, c) => {
                let so_far = confirmed.entry(v.version()).or_default();
                so_far.push(c);
                let mut contract = b.contract();
                contract.insert(
                    "description".into(),
                    json!(contract_description(
                        v,
                        so_far,
                        revealed.get(&v.version()).copied().unwrap_or(0)
                    )),
                );
                let party = v
                    .record()
                    .parties
                    .iter()
                    .find(|p| **p == c.party)
                    .ok_or_else(|| {
                        Error(format!(
                            "countersignature {}: {} is not a party of version {}",
                            c.index,
                            c.party,
                            v.version()
                        ))
                    })?;
                contract.insert(
                    "documents".into(),
                    json!([{
                        "id": format!("countersignature-{}", c.index),
                        "documentType": "contractSigned",
                        "title": format!("Countersignature of version {} by {party}", v.version()),
                        "description": format!(
                            "{party} confirms version {} of agreement {} (SHA-256 of the version's record {})",
                            v.version(), b.id, v.digest()
                        ),
                        "url": b.record_url(c.index),
                        "datePublished": c.time.to_string(),
                    }]),
                );
                b.release(c.index, &c.time, "contractUpdate", contract)
            }
            Event::Reveal(index, time, clauses) => {
                let mut documents = Vec::with_capacity(clauses.len());
                let mut described = None;
                for c in clauses {
                    let v = versions.get(&c.version).ok_or_else(|| {
                        Error(format!(
                            "clause {} revealed at log index {index}: {} has no version {}",
                            c.clause, b.id, c.version
                        ))
                    })?;
                    *revealed.entry(c.version).or_default() += 1;
                    described = Some(*v);
                    documents.push(json!({
                        "id": format!("v{}-clause-{}", c.version, c.clause),
                        "documentType": "contractText",
                        "title": format!("Clause {} of version {}", c.clause, c.version),
                        "description": c.text,
                        "url": b.record_url(*index),
                        "datePublished": time.to_string(),
                        "format": "text/plain",
                    }));
                }
                let mut contract = b.contract();
                if let Some(v) = described {
                    let so_far = confirmed.get(&v.version()).cloned().unwrap_or_default();
                    contract.insert(
                        "description".into(),
                        json!(contract_description(
                            v,
                            &so_far,
                            revealed.get(&v.version()).copied().unwrap_or(0)
                        )),
                    );
                }
                contract.insert("documents".into(), Value::Array(documents));
                b.release(*index, time, "contractUpdate", contract)
            }
            Event::Progress(p) => {
                let r = p.record();
                let Some(pledge) = pledges.get_mut(&r.pledge) else {
                    return Err(Error(format!(
                        "progress report {}: {} has no pledge or milestone {} in the version in force",
                        p.index(),
                        b.id,
                        r.pledge
                    )));
                };
                if let Some(q) = &r.delivered
                    && pledge.unit.as_deref() == Some(q.unit())
                {
                    pledge.delivered =
                        pledge.delivered.checked_add(q.amount()).ok_or_else(|| {
                            Error(format!(
                                "progress report {}: the total delivered is too large",
                                p.index()
                            ))
                        })?;
                }
                pledge.complete |= r.complete;
                pledge.reports = pledge.reports.saturating_add(1);
                pledge.last_report = pledge.last_report.max(Some(r.date));
                b.progress_release(p, pledge, latest)?
            }
        };
        out.push(Value::Object(release));
    }
    Ok(out)
}

impl Builder<'_> {
    fn version_release(
        &self,
        v: &VersionState,
        versions: &BTreeMap<u32, &VersionState>,
        pledges: &BTreeMap<Token, PledgeState>,
    ) -> Result<Map<String, Value>, Error> {
        let a = v.record();
        let time = a.time;
        let on = Date::of(time);
        let url = self.record_url(v.index());
        let mut contract = self.contract();
        contract.insert("title".into(), json!(a.title.as_str()));
        contract.insert("description".into(), json!(contract_description(v, &[], 0)));
        contract.insert("status".into(), json!(contract_status(a.status)));
        // The agreement's signing date: an amendment's own date is in
        // its `amendments` entry.
        let first_signed = versions
            .values()
            .next()
            .map_or(a.signed, |f| f.record().signed);
        contract.insert("dateSigned".into(), json!(day(first_signed)));
        if let Some(money) = &a.value {
            contract.insert("value".into(), value(money));
        }
        let milestones: Vec<Value> = a
            .pledges
            .iter()
            .filter_map(|p| {
                pledges
                    .get(&p.id)
                    .map(|s| milestone(s, p.quantity.as_ref(), on))
            })
            .collect();
        if !milestones.is_empty() {
            contract.insert("milestones".into(), Value::Array(milestones));
        }
        let mut documents: Vec<Value> = a
            .documents
            .iter()
            .map(|d| source_document(d, &url, &time))
            .collect();
        documents.push(json!({
            "id": format!("v{}-record", a.version),
            "documentType": "contractSigned",
            "title": format!("Version {} as registered", a.version),
            "description": format!(
                "The signed record of version {}, SHA-256 {}, registered by {} at log index {}",
                a.version, v.digest(), v.registrant(), v.index()
            ),
            "url": url,
            "datePublished": time.to_string(),
        }));
        if let Terms::Public { clauses } = &a.terms {
            documents.extend(clauses.iter().enumerate().map(|(i, text)| {
                json!({
                    "id": format!("v{}-clause-{i}", a.version),
                    "documentType": "contractText",
                    "title": format!("Clause {i} of version {}", a.version),
                    "description": text,
                    "url": url,
                    "datePublished": time.to_string(),
                    "format": "text/plain",
                })
            }));
        }
        contract.insert("documents".into(), Value::Array(documents));
        let tag = match a.amends {
            None => "contract",
            Some(k) => {
                let amended = versions.get(&k).ok_or_else(|| {
                    Error(format!(
                        "version {} of {} amends version {k}, which the history does not hold",
                        a.version, self.id
                    ))
                })?;
                contract.insert(
                    "amendments".into(),
                    json!([{
                        "id": format!("v{}", a.version),
                        "date": day(a.signed),
                        "rationale": format!("Version {} amends version {k}", a.version),
                        "description": format!(
                            "Version {} (log index {}) amends version {k} (log index {}); version {k} stays readable",
                            a.version, v.index(), amended.index()
                        ),
                        "amendsReleaseID": self.release_id(amended.index()),
                        "releaseID": self.release_id(v.index()),
                    }]),
                );
                "contractAmendment"
            }
        };
        let mut release = self.release(v.index(), &time, tag, contract);
        let parties: Vec<Value> = a
            .parties
            .iter()
            .map(|p| party(p, self.history.parties))
            .collect();
        release.insert("parties".into(), Value::Array(parties));
        release.insert(
            "awards".into(),
            json!([{
                "id": self.id,
                "title": a.title.as_str(),
                "description": "The agreement as registered by its parties; no tender or award procedure is recorded.",
            }]),
        );
        Ok(release)
    }

    fn progress_release(
        &self,
        p: &ProgressState,
        pledge: &PledgeState,
        latest: Option<&VersionState>,
    ) -> Result<Map<String, Value>, Error> {
        let r = p.record();
        let Some(version) = latest else {
            return Err(Error(format!(
                "progress report {}: no version of {} precedes it",
                p.index(),
                self.id
            )));
        };
        let on = Date::of(r.time);
        let url = self.record_url(p.index());
        let quantity = version
            .record()
            .pledge(&r.pledge)
            .and_then(|q| q.quantity.as_ref());
        let mut m = milestone(pledge, quantity, on)
            .as_object()
            .cloned()
            .unwrap_or_default();
        let delivered = match &r.delivered {
            Some(q) => format!("{} delivered", quantity_text(q)),
            None if r.complete => "reported complete".to_owned(),
            None => "reported, not complete".to_owned(),
        };
        m.insert(
            "description".into(),
            json!(format!(
                "{}{} on {} per {} (log index {}): {}.{}",
                label(r.figures),
                delivered,
                r.date,
                p.author(),
                p.index(),
                r.note,
                pledge
                    .unit
                    .as_deref()
                    .map(|u| format!(
                        " Total delivered {} {u}.",
                        format_decimal(&pledge.delivered)
                    ))
                    .unwrap_or_default(),
            )),
        );
        m.insert("dateModified".into(), json!(r.time.to_string()));
        if pledge.met() {
            m.insert("dateMet".into(), json!(day(r.date)));
        }
        let mut documents: Vec<Value> = r
            .documents
            .iter()
            .map(|d| source_document(d, &url, &r.time))
            .collect();
        documents.extend(r.records.iter().map(|at| {
            json!({
                "id": format!("evidence-{}-{at}", p.index()),
                "title": format!("Log record {at}, evidence for progress report {}", p.index()),
                "url": self.record_url(*at),
            })
        }));
        if !documents.is_empty() {
            m.insert("documents".into(), Value::Array(documents));
        }
        let mut contract = self.contract();
        contract.insert("milestones".into(), json!([Value::Object(m)]));
        if let Some(Quantity::Money(money)) = &r.delivered {
            contract.insert(
                "implementation".into(),
                json!({"transactions": [{
                    "id": format!("progress-{}", p.index()),
                    "source": url,
                    "date": day(r.date),
                    "value": value(money),
                    "uri": url,
                }]}),
            );
        }
        Ok(self.release(p.index(), &r.time, "implementation", contract))
    }
}

fn package_meta(publisher: Publisher<'_>, uri: &str, published: &Timestamp) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("uri".into(), json!(uri));
    p.insert("version".into(), json!(OCDS_VERSION));
    p.insert("publishedDate".into(), json!(published.to_string()));
    p.insert(
        "publisher".into(),
        json!({"name": publisher.name, "uri": publisher.base_url}),
    );
    p.insert(
        "license".into(),
        json!("https://www.apache.org/licenses/LICENSE-2.0"),
    );
    p
}

/// A release package of `releases`, published at `published` under
/// `uri` (where the package itself is served).
pub fn release_package(
    publisher: Publisher<'_>,
    uri: &str,
    published: &Timestamp,
    releases: &[Value],
) -> Value {
    let mut p = package_meta(publisher, uri, published);
    p.insert("releases".into(), Value::Array(releases.to_vec()));
    Value::Object(p)
}

/// The OCDS record of one agreement: every release, in date order (ties
/// in log order), and the release compiled from them ([`compile`]).
pub fn record(publisher: Publisher<'_>, history: History<'_>) -> Result<Value, Error> {
    let mut list = releases(publisher, history)?;
    sort_by_date(&mut list);
    Ok(json!({
        "ocid": ocid(publisher.prefix, history.agreement.id.as_str()),
        "releases": list,
        "compiledRelease": compile(&list)?,
    }))
}

/// Sorts releases by their `date` (RFC 3339 UTC strings sort as times),
/// keeping the order of equal dates.
pub(crate) fn sort_by_date(list: &mut [Value]) {
    list.sort_by(|a, b| {
        a["date"]
            .as_str()
            .unwrap_or("")
            .cmp(b["date"].as_str().unwrap_or(""))
    });
}

/// A record package with one record per agreement.
pub fn record_package(
    publisher: Publisher<'_>,
    uri: &str,
    published: &Timestamp,
    histories: &[History<'_>],
) -> Result<Value, Error> {
    let records = histories
        .iter()
        .map(|h| record(publisher, *h))
        .collect::<Result<Vec<_>, _>>()?;
    let mut p = package_meta(publisher, uri, published);
    p.insert("records".into(), Value::Array(records));
    Ok(Value::Object(p))
}
