//! The projections of agreements, reports and resource estimates
//! (`docs/design/agreements.md`). Like every projection they hold the
//! domain's validated types, are changed only by the rules, and are
//! checked when read back from a store.
//!
//! Stored per agreement: one summary ([`AgreementState`]: what lists and
//! filters need), one document per version ([`VersionState`]), one per
//! revealed clause ([`ClauseState`]) and one per progress report
//! ([`ProgressState`]), so no document grows with the agreement's
//! history and no write rewrites more than one version.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use oretrace_domain::agreement::{
    Agreement, AgreementKind, AgreementStatus, Pledge, Progress, Quantity, Report,
    ResourceEstimate, ScopedId, Terms,
};
use oretrace_domain::disclosure::Salt;
use oretrace_domain::money::Date;
use oretrace_domain::record::{Figures, Record};
use oretrace_domain::values::{Country, Digest, PartyId, SiteId, Text, Timestamp};
use oretrace_domain::wire::RecordJson;

fn read_record(what: &str, json: &RecordJson) -> Result<Record, String> {
    json.to_record()
        .map_err(|e| format!("the record of {what} is unreadable: {e}"))
}

/// Where a version's text stands, computed from the version and the
/// clauses revealed so far; never typed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DisclosureState {
    /// The version states its text.
    Public,
    /// Sealed, no clause revealed.
    Sealed,
    /// Sealed, some clauses revealed.
    PartlyDisclosed,
    /// Sealed, every clause revealed.
    Revealed,
}

impl DisclosureState {
    pub fn as_str(&self) -> &'static str {
        match self {
            DisclosureState::Public => "public",
            DisclosureState::Sealed => "sealed",
            DisclosureState::PartlyDisclosed => "partly-disclosed",
            DisclosureState::Revealed => "revealed",
        }
    }
}

/// A party's confirmation of a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    pub party: PartyId,
    /// Log index of the countersignature.
    pub index: u64,
    pub time: Timestamp,
}

/// One version of an agreement, as registered, with who has confirmed it
/// and which of its clauses have been revealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VersionDoc", into = "VersionDoc")]
pub struct VersionState {
    record: Agreement,
    index: u64,
    registrant: PartyId,
    digest: Digest,
    confirmations: Vec<Confirmation>,
    /// Indices of revealed clauses, ascending.
    revealed: Vec<u32>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionDoc {
    id: ScopedId,
    version: u32,
    record: RecordJson,
    index: u64,
    registrant: PartyId,
    digest: Digest,
    confirmations: Vec<Confirmation>,
    revealed: Vec<u32>,
}

impl VersionState {
    /// Version `record`, accepted at log index `index`, signed by
    /// `registrant`; `digest` is the SHA-256 of its canonical bytes.
    pub fn new(record: Agreement, index: u64, registrant: PartyId, digest: Digest) -> Self {
        VersionState {
            record,
            index,
            registrant,
            digest,
            confirmations: Vec::new(),
            revealed: Vec::new(),
        }
    }

    pub fn id(&self) -> &ScopedId {
        &self.record.id
    }

    pub fn version(&self) -> u32 {
        self.record.version
    }

    pub fn record(&self) -> &Agreement {
        &self.record
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn registrant(&self) -> &PartyId {
        &self.registrant
    }

    /// SHA-256 of the version's canonical record bytes.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    pub fn confirmations(&self) -> &[Confirmation] {
        &self.confirmations
    }

    /// Parties of the version that have neither registered nor
    /// countersigned it.
    pub fn unconfirmed(&self) -> Vec<&PartyId> {
        self.record
            .parties
            .iter()
            .filter(|p| {
                **p != self.registrant && !self.confirmations.iter().any(|c| &c.party == *p)
            })
            .collect()
    }

    pub fn revealed(&self) -> &[u32] {
        &self.revealed
    }

    pub fn disclosure(&self) -> DisclosureState {
        match &self.record.terms {
            Terms::Public { .. } => DisclosureState::Public,
            Terms::Sealed { .. } if self.revealed.is_empty() => DisclosureState::Sealed,
            Terms::Sealed { count, .. } if self.revealed.len() as u64 >= u64::from(*count) => {
                DisclosureState::Revealed
            }
            Terms::Sealed { .. } => DisclosureState::PartlyDisclosed,
        }
    }

    /// The planned disclosure date while some clause is still sealed.
    pub fn disclosure_due(&self) -> Option<Date> {
        match (&self.record.terms, self.disclosure()) {
            (Terms::Sealed { disclose_by, .. }, DisclosureState::Sealed)
            | (Terms::Sealed { disclose_by, .. }, DisclosureState::PartlyDisclosed) => {
                Some(*disclose_by)
            }
            _ => None,
        }
    }

    pub fn confirm(&mut self, confirmation: Confirmation) {
        self.confirmations.push(confirmation);
    }

    /// Marks clauses revealed; returns how many were not revealed before.
    pub fn reveal(&mut self, clauses: impl IntoIterator<Item = u32>) -> usize {
        let before = self.revealed.len();
        self.revealed.extend(clauses);
        self.revealed.sort_unstable();
        self.revealed.dedup();
        self.revealed.len() - before
    }
}

impl TryFrom<VersionDoc> for VersionState {
    type Error = String;

    fn try_from(doc: VersionDoc) -> Result<Self, String> {
        let what = format!("agreement {} version {}", doc.id, doc.version);
        let Record::Agreement(record) = read_record(&what, &doc.record)? else {
            return Err(format!("{what}: its record is not an agreement"));
        };
        if record.id != doc.id || record.version != doc.version {
            return Err(format!(
                "{what}: the record is {} version {}",
                record.id, record.version
            ));
        }
        if !record.parties.contains(&doc.registrant) {
            return Err(format!(
                "{what}: registrant {} is not a party",
                doc.registrant
            ));
        }
        let count = match &record.terms {
            Terms::Sealed { count, .. } => *count,
            Terms::Public { .. } => 0,
        };
        if doc.revealed.windows(2).any(|w| w[0] >= w[1]) || doc.revealed.iter().any(|c| *c >= count)
        {
            return Err(format!("{what}: revealed clauses out of order or range"));
        }
        Ok(VersionState {
            record,
            index: doc.index,
            registrant: doc.registrant,
            digest: doc.digest,
            confirmations: doc.confirmations,
            revealed: doc.revealed,
        })
    }
}

impl From<VersionState> for VersionDoc {
    fn from(state: VersionState) -> Self {
        VersionDoc {
            id: state.record.id.clone(),
            version: state.record.version,
            record: RecordJson::of(&Record::Agreement(state.record)),
            index: state.index,
            registrant: state.registrant,
            digest: state.digest,
            confirmations: state.confirmations,
            revealed: state.revealed,
        }
    }
}

/// Computed status of a pledge or milestone on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PledgeStatus {
    /// Not yet due, not yet met.
    Open,
    Met,
    /// Due date passed with part delivered.
    PartlyMet,
    /// Due date passed with nothing delivered.
    NotMet,
}

impl PledgeStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PledgeStatus::Open => "open",
            PledgeStatus::Met => "met",
            PledgeStatus::PartlyMet => "partly-met",
            PledgeStatus::NotMet => "not-met",
        }
    }
}

/// A pledge of the latest version and what progress reports say was
/// delivered against it (in its own kind of quantity).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PledgeState {
    pub id: oretrace_domain::values::Token,
    pub description: Text,
    pub due: Date,
    /// Pledged amount and unit (currency code, `kg`, or a count's unit);
    /// absent for a milestone.
    #[serde(with = "decimal_text_opt")]
    pub pledged: Option<Decimal>,
    pub unit: Option<String>,
    #[serde(with = "decimal_text")]
    pub delivered: Decimal,
    /// For a milestone: a progress report said it is complete.
    pub complete: bool,
    pub reports: u32,
    pub last_report: Option<Date>,
}

mod decimal_text {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&oretrace_domain::values::format_decimal(d))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(d)?;
        oretrace_domain::values::parse_decimal(&text).map_err(|e| D::Error::custom(e.to_string()))
    }
}

mod decimal_text_opt {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&oretrace_domain::values::format_decimal(d)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                oretrace_domain::values::parse_decimal(&text)
                    .map_err(|e| D::Error::custom(e.to_string()))
            })
            .transpose()
    }
}

impl PledgeState {
    /// A pledge as a version states it, with nothing delivered yet.
    pub fn new(pledge: &Pledge) -> Self {
        PledgeState {
            id: pledge.id.clone(),
            description: pledge.description.clone(),
            due: pledge.due,
            pledged: pledge.quantity.as_ref().map(Quantity::amount),
            unit: pledge.quantity.as_ref().map(|q| q.unit().to_owned()),
            delivered: Decimal::ZERO,
            complete: false,
            reports: 0,
            last_report: None,
        }
    }

    /// Whether the pledge is met (whatever the day).
    pub fn met(&self) -> bool {
        match self.pledged {
            Some(p) => self.delivered >= p,
            None => self.complete,
        }
    }

    /// The status on `today`.
    pub fn status(&self, today: Date) -> PledgeStatus {
        if self.met() {
            PledgeStatus::Met
        } else if today <= self.due {
            PledgeStatus::Open
        } else if self.delivered > Decimal::ZERO || self.reports > 0 {
            PledgeStatus::PartlyMet
        } else {
            PledgeStatus::NotMet
        }
    }

    /// Whether the due date has passed without the pledge being met.
    pub fn overdue(&self, today: Date) -> bool {
        !self.met() && today > self.due
    }
}

/// One agreement: a summary of its latest version, the parties and
/// countries it binds, its disclosure and its pledges, for lists,
/// filters and the rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementState {
    pub id: ScopedId,
    pub title: Text,
    pub kind: AgreementKind,
    pub status: AgreementStatus,
    /// The latest version's number.
    pub latest: u32,
    /// Parties of the latest version.
    pub parties: Vec<PartyId>,
    /// Countries of those parties, sorted, each once.
    pub countries: Vec<Country>,
    pub commodities: Vec<oretrace_domain::values::Token>,
    pub signed: Date,
    pub disclosure: DisclosureState,
    /// Clause count of the latest version if sealed.
    pub clauses: Option<u32>,
    pub revealed: u32,
    pub disclose_by: Option<Date>,
    pub pledges: Vec<PledgeState>,
    /// Whether any version or progress report is illustrative.
    pub figures: Figures,
    /// Log index of the latest record about the agreement.
    pub index: u64,
    /// Log index of its first version.
    pub registered: u64,
}

impl AgreementState {
    /// The earliest day from which the agreement is overdue: its planned
    /// disclosure date while sealed text remains, or the due date of a
    /// pledge not met. Overdue on `today` when this is before `today`.
    pub fn overdue_from(&self) -> Option<Date> {
        let disclosure = match self.disclosure {
            DisclosureState::Sealed | DisclosureState::PartlyDisclosed => self.disclose_by,
            _ => None,
        };
        self.pledges
            .iter()
            .filter(|p| !p.met())
            .map(|p| p.due)
            .chain(disclosure)
            .min()
    }

    /// Whether the disclosure is overdue on `today`.
    pub fn disclosure_overdue(&self, today: Date) -> bool {
        matches!(
            self.disclosure,
            DisclosureState::Sealed | DisclosureState::PartlyDisclosed
        ) && self.disclose_by.is_some_and(|d| today > d)
    }

    /// Whether anything about it is overdue on `today`.
    pub fn overdue(&self, today: Date) -> bool {
        self.overdue_from().is_some_and(|d| today > d)
    }

    /// The terms a store indexes for filters: `party:<id>`,
    /// `country:<CC>`, `status:<s>`, `kind:<k>`, `disclosure:<state>`,
    /// `commodity:<c>`.
    pub fn terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = self
            .parties
            .iter()
            .map(|p| format!("party:{p}"))
            .chain(self.countries.iter().map(|c| format!("country:{c}")))
            .chain(self.commodities.iter().map(|c| format!("commodity:{c}")))
            .collect();
        terms.push(format!("status:{}", self.status));
        terms.push(format!("kind:{}", self.kind));
        terms.push(format!("disclosure:{}", self.disclosure.as_str()));
        terms.sort();
        terms.dedup();
        terms
    }
}

/// A revealed clause of a sealed version: public from its reveal on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ClauseDoc", into = "ClauseDoc")]
pub struct ClauseState {
    pub agreement: ScopedId,
    pub version: u32,
    pub clause: u32,
    pub salt: Salt,
    pub text: String,
    /// Log index of the reveal.
    pub index: u64,
    pub by: PartyId,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClauseDoc {
    agreement: ScopedId,
    version: u32,
    clause: u32,
    salt: String,
    text: String,
    index: u64,
    by: PartyId,
}

impl TryFrom<ClauseDoc> for ClauseState {
    type Error = String;

    fn try_from(doc: ClauseDoc) -> Result<Self, String> {
        let salt = Digest::parse(&doc.salt).map_err(|e| {
            format!(
                "clause {} of {} version {}: salt {e}",
                doc.clause, doc.agreement, doc.version
            )
        })?;
        oretrace_domain::agreement::check_clause_text(&doc.text).map_err(|e| e.to_string())?;
        Ok(ClauseState {
            agreement: doc.agreement,
            version: doc.version,
            clause: doc.clause,
            salt: *salt.bytes(),
            text: doc.text,
            index: doc.index,
            by: doc.by,
        })
    }
}

impl From<ClauseState> for ClauseDoc {
    fn from(state: ClauseState) -> Self {
        ClauseDoc {
            agreement: state.agreement,
            version: state.version,
            clause: state.clause,
            salt: Digest::from_bytes(state.salt).to_string(),
            text: state.text,
            index: state.index,
            by: state.by,
        }
    }
}

/// An accepted progress report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ProgressDoc", into = "ProgressDoc")]
pub struct ProgressState {
    record: Progress,
    index: u64,
    author: PartyId,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgressDoc {
    agreement: ScopedId,
    record: RecordJson,
    index: u64,
    author: PartyId,
}

impl ProgressState {
    pub fn new(record: Progress, index: u64, author: PartyId) -> Self {
        ProgressState {
            record,
            index,
            author,
        }
    }

    pub fn record(&self) -> &Progress {
        &self.record
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn author(&self) -> &PartyId {
        &self.author
    }
}

impl TryFrom<ProgressDoc> for ProgressState {
    type Error = String;

    fn try_from(doc: ProgressDoc) -> Result<Self, String> {
        let what = format!("progress report {} on {}", doc.index, doc.agreement);
        let Record::Progress(record) = read_record(&what, &doc.record)? else {
            return Err(format!("{what}: its record is not a progress report"));
        };
        if record.agreement != doc.agreement {
            return Err(format!("{what}: the record is about {}", record.agreement));
        }
        Ok(ProgressState::new(record, doc.index, doc.author))
    }
}

impl From<ProgressState> for ProgressDoc {
    fn from(state: ProgressState) -> Self {
        ProgressDoc {
            agreement: state.record.agreement.clone(),
            record: RecordJson::of(&Record::Progress(state.record)),
            index: state.index,
            author: state.author,
        }
    }
}

/// A report of an unconfirmed claim: its latest version, who states it,
/// and the log index of every version (each stays readable in the log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ReportDoc", into = "ReportDoc")]
pub struct ReportState {
    record: Report,
    author: PartyId,
    versions: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportDoc {
    id: ScopedId,
    record: RecordJson,
    author: PartyId,
    versions: Vec<u64>,
}

impl ReportState {
    pub fn new(record: Report, author: PartyId, versions: Vec<u64>) -> Self {
        ReportState {
            record,
            author,
            versions,
        }
    }

    pub fn id(&self) -> &ScopedId {
        &self.record.id
    }

    pub fn record(&self) -> &Report {
        &self.record
    }

    pub fn author(&self) -> &PartyId {
        &self.author
    }

    /// Log index of each version, oldest first.
    pub fn versions(&self) -> &[u64] {
        &self.versions
    }

    /// `author:`, `country:`, `commodity:`, `status:`, `topic:` terms.
    pub fn terms(&self) -> Vec<String> {
        let r = &self.record;
        let mut terms: Vec<String> = r
            .countries
            .iter()
            .map(|c| format!("country:{c}"))
            .chain(r.commodities.iter().map(|c| format!("commodity:{c}")))
            .collect();
        terms.push(format!("author:{}", self.author));
        terms.push(format!("status:{}", r.status));
        terms.push(format!("topic:{}", r.topic));
        terms.sort();
        terms.dedup();
        terms
    }
}

impl TryFrom<ReportDoc> for ReportState {
    type Error = String;

    fn try_from(doc: ReportDoc) -> Result<Self, String> {
        let what = format!("report {}", doc.id);
        let Record::Report(record) = read_record(&what, &doc.record)? else {
            return Err(format!("{what}: its record is not a report"));
        };
        if record.id != doc.id || doc.versions.len() != record.version as usize {
            return Err(format!(
                "{what}: id or version count disagrees with its record"
            ));
        }
        Ok(ReportState::new(record, doc.author, doc.versions))
    }
}

impl From<ReportState> for ReportDoc {
    fn from(state: ReportState) -> Self {
        ReportDoc {
            id: state.record.id.clone(),
            record: RecordJson::of(&Record::Report(state.record)),
            author: state.author,
            versions: state.versions,
        }
    }
}

/// A resource estimate: its latest version, who states it, the
/// deposit's country, and the log index of every version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ResourceDoc", into = "ResourceDoc")]
pub struct ResourceState {
    record: ResourceEstimate,
    author: PartyId,
    country: Country,
    versions: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceDoc {
    id: ScopedId,
    site: SiteId,
    country: Country,
    record: RecordJson,
    author: PartyId,
    versions: Vec<u64>,
}

impl ResourceState {
    pub fn new(
        record: ResourceEstimate,
        author: PartyId,
        country: Country,
        versions: Vec<u64>,
    ) -> Self {
        ResourceState {
            record,
            author,
            country,
            versions,
        }
    }

    pub fn id(&self) -> &ScopedId {
        &self.record.id
    }

    pub fn record(&self) -> &ResourceEstimate {
        &self.record
    }

    pub fn author(&self) -> &PartyId {
        &self.author
    }

    pub fn country(&self) -> Country {
        self.country
    }

    pub fn versions(&self) -> &[u64] {
        &self.versions
    }

    /// `author:`, `site:`, `country:`, `code:`, `class:`, `element:` terms.
    pub fn terms(&self) -> Vec<String> {
        let r = &self.record;
        let mut terms: Vec<String> = r
            .grades
            .iter()
            .map(|g| format!("element:{}", g.analyte.element().symbol()))
            .collect();
        terms.push(format!("author:{}", self.author));
        terms.push(format!("site:{}", r.site));
        terms.push(format!("country:{}", self.country));
        terms.push(format!("code:{}", r.code));
        terms.push(format!("class:{}", r.class));
        terms.sort();
        terms.dedup();
        terms
    }
}

impl TryFrom<ResourceDoc> for ResourceState {
    type Error = String;

    fn try_from(doc: ResourceDoc) -> Result<Self, String> {
        let what = format!("resource estimate {}", doc.id);
        let Record::Resource(record) = read_record(&what, &doc.record)? else {
            return Err(format!("{what}: its record is not a resource estimate"));
        };
        if record.id != doc.id
            || record.site != doc.site
            || doc.versions.len() != record.version as usize
        {
            return Err(format!(
                "{what}: id, site or version count disagrees with its record"
            ));
        }
        Ok(ResourceState::new(
            record,
            doc.author,
            doc.country,
            doc.versions,
        ))
    }
}

impl From<ResourceState> for ResourceDoc {
    fn from(state: ResourceState) -> Self {
        ResourceDoc {
            id: state.record.id.clone(),
            site: state.record.site.clone(),
            country: state.country,
            record: RecordJson::of(&Record::Resource(state.record)),
            author: state.author,
            versions: state.versions,
        }
    }
}

impl Select {
    /// Whether an item passes the cursor and terms (reports and resource
    /// estimates, which are never overdue).
    pub fn admits_ignoring_overdue(&self, id: &str, terms: &[String]) -> bool {
        self.after.as_deref().is_none_or(|a| id > a) && self.terms.iter().all(|t| terms.contains(t))
    }
}

/// A selection of agreements, reports or resource estimates: those
/// carrying every one of `terms`, overdue on `overdue_on` if given
/// (agreements only), in id order strictly after `after`, at most
/// `limit`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Select {
    pub terms: Vec<String>,
    pub overdue_on: Option<Date>,
    pub after: Option<String>,
    pub limit: usize,
}

impl Select {
    /// Whether an item with these terms and this overdue date (and id)
    /// passes (not the limit).
    pub fn admits(&self, id: &str, terms: &[String], overdue_from: Option<Date>) -> bool {
        self.admits_ignoring_overdue(id, terms)
            && self
                .overdue_on
                .is_none_or(|today| overdue_from.is_some_and(|d| today > d))
    }
}
