//! Agreements, their disclosure, pledges and progress; reports of
//! unconfirmed claims; resource estimates (`docs/design/agreements.md`).
//!
//! The rules here are the ones a record checks on its own. Who may
//! register, amend, countersign, reveal or report, and what the registry
//! must already hold, belong to the ledger.

use std::fmt;

use oretrace_tlog::hash::Hash;
use rust_decimal::Decimal;

use crate::Error;
use crate::chemistry::{Analyte, Element, GradeUnit};
use crate::disclosure::{self, MAX_CLAUSE_BYTES, MAX_CLAUSES, Salt};
use crate::money::{Date, Money};
use crate::record::{Figures, vocabulary};
use crate::values::{Country, Digest, LotId, Mass, PartyId, SiteId, Text, Timestamp, Token};

/// Most parties an agreement names.
pub const MAX_PARTIES: usize = 16;
/// Most pledges and milestones one version states.
pub const MAX_PLEDGES: usize = 64;
/// Most commodities, sites, lots, documents or sources one record lists.
pub const MAX_LISTED: usize = 64;
/// Most clauses one reveal (`disclosure` record) carries; a larger reveal
/// is several records.
pub const MAX_REVEALED: usize = 64;
/// Most clauses a public version states.
pub const MAX_PUBLIC_CLAUSES: usize = 256;
/// Most log records one progress report names as evidence.
pub const MAX_EVIDENCE: usize = 64;
/// Highest version number.
pub const MAX_VERSION: u32 = 10_000;
/// Largest resource tonnage, in tonnes (10^13 t: above any deposit).
pub const MAX_RESOURCE_TONNES: i64 = 10_000_000_000_000;

/// An id chosen by the party that registers it, in that party's
/// namespace: `<party id>:<name>` (`fwo:mou-ussm-2025`). Nobody can take
/// an id another party will need.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopedId(String);

impl ScopedId {
    pub fn parse(value: &str) -> Result<Self, Error> {
        let bad = |rule: String| Error::invalid("", rule);
        let Some((party, name)) = value.split_once(':') else {
            return Err(bad(format!(
                "{:?} is not <party id>:<name> (e.g. fwo:mou-ussm-2025)",
                value.chars().take(80).collect::<String>()
            )));
        };
        PartyId::parse(party).map_err(|e| e.within("party"))?;
        if name.is_empty() || name.len() > 64 {
            return Err(bad(
                "the name after the party id is 1 to 64 characters".into()
            ));
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
            return Err(bad(
                "the name after the party id starts with a lower-case letter or digit".into(),
            ));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(*c)))
        {
            return Err(bad(format!(
                "the name after the party id may not contain {c:?} (a-z, 0-9, '-', '.')"
            )));
        }
        Ok(ScopedId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The party whose namespace the id is in.
    pub fn namespace(&self) -> PartyId {
        let party = self.0.split_once(':').map_or("", |(p, _)| p);
        // Checked at construction.
        PartyId::parse(party).unwrap_or_else(|_| unreachable!("a scoped id names a party"))
    }
}

impl fmt::Display for ScopedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

vocabulary!(
    /// What kind of agreement.
    AgreementKind {
        Mou => "mou",
        Concession => "concession",
        JointVenture => "joint-venture",
        Offtake => "offtake",
        PortAccess => "port-access",
        Loan => "loan",
        Other => "other",
    }
);

vocabulary!(
    /// The legal status a version states.
    AgreementStatus {
        Signed => "signed",
        InForce => "in-force",
        Amended => "amended",
        Terminated => "terminated",
        Lapsed => "lapsed",
    }
);

vocabulary!(
    /// Which estimate-reporting code a resource estimate follows.
    ReportingCode {
        Jorc => "jorc",
        Ni43101 => "ni-43-101",
        OtherCrirsco => "other-crirsco",
        None => "none",
    }
);

vocabulary!(
    /// The confidence class of a resource or reserve estimate.
    ResourceClass {
        Inferred => "inferred",
        Indicated => "indicated",
        Measured => "measured",
        Probable => "probable",
        Proved => "proved",
        Unclassified => "unclassified",
    }
);

vocabulary!(
    /// What its author says of a reported claim now.
    ReportStatus {
        Unconfirmed => "unconfirmed",
        Confirmed => "confirmed",
        Refuted => "refuted",
    }
);

/// A quantity pledged or delivered: money, a mass, or a count of a unit
/// (`2 facility`, `20000 tonnes-per-year`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Quantity {
    Money(Money),
    Mass(Mass),
    Count { value: Decimal, unit: Token },
}

impl Quantity {
    /// Whether two quantities can be added: the same currency, both
    /// masses, or the same unit.
    pub fn same_kind(&self, other: &Quantity) -> bool {
        match (self, other) {
            (Quantity::Money(a), Quantity::Money(b)) => a.currency() == b.currency(),
            (Quantity::Mass(_), Quantity::Mass(_)) => true,
            (Quantity::Count { unit: a, .. }, Quantity::Count { unit: b, .. }) => a == b,
            _ => false,
        }
    }

    /// The amount in the quantity's own unit (kilograms for a mass).
    pub fn amount(&self) -> Decimal {
        match self {
            Quantity::Money(m) => m.amount(),
            Quantity::Mass(m) => m.kilograms(),
            Quantity::Count { value, .. } => *value,
        }
    }

    /// What is counted: a currency code, `kg`, or the count's unit.
    pub fn unit(&self) -> &str {
        match self {
            Quantity::Money(m) => m.currency().as_str(),
            Quantity::Mass(_) => "kg",
            Quantity::Count { unit, .. } => unit.as_str(),
        }
    }

    pub fn check(&self) -> Result<(), Error> {
        if let Quantity::Count { value, .. } = self
            && ((value.is_sign_negative() && !value.is_zero())
                || *value > Decimal::from(crate::money::MAX_AMOUNT))
        {
            return Err(Error::invalid(
                "count.value",
                format!("a count is 0 to {}", crate::money::MAX_AMOUNT),
            ));
        }
        Ok(())
    }
}

/// One pledge (a quantity due by a date) or milestone (no quantity: met
/// when a progress report says it is complete).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pledge {
    /// Unique within the agreement: `p1`, `refinery`.
    pub id: Token,
    pub description: Text,
    pub quantity: Option<Quantity>,
    pub due: Date,
}

/// A document an agreement, report or progress report rests on, by the
/// SHA-256 of its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceDocument {
    pub digest: Digest,
    pub title: Text,
}

/// The text of a version: stated in the record, or sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Terms {
    /// The clauses, as stated (UTF-8, line breaks allowed).
    Public { clauses: Vec<String> },
    /// Only the commitment (`oretrace.clause/v1`): the RFC 6962 root over
    /// the clause commitments, the clause count, why it is sealed and when
    /// it is to be disclosed. The text never reaches the registry.
    Sealed {
        root: Digest,
        count: u32,
        reason: Text,
        disclose_by: Date,
    },
}

/// One version of an agreement, registered by one of its parties.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    pub id: ScopedId,
    /// Counts from 1.
    pub version: u32,
    /// The version this one amends: `version - 1`, absent for version 1.
    pub amends: Option<u32>,
    pub title: Text,
    pub kind: AgreementKind,
    /// Registered parties, the registrant among them.
    pub parties: Vec<PartyId>,
    pub signed: Date,
    pub place: Text,
    pub status: AgreementStatus,
    pub commodities: Vec<Token>,
    pub sites: Vec<SiteId>,
    pub lots: Vec<LotId>,
    /// The headline value (the pledged total), if stated.
    pub value: Option<Money>,
    pub pledges: Vec<Pledge>,
    pub documents: Vec<SourceDocument>,
    pub terms: Terms,
    pub time: Timestamp,
    pub figures: Figures,
}

/// A party of a version confirms it. `digest` is the SHA-256 of that
/// version's canonical record bytes, so the confirmation names exactly
/// what was confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Countersignature {
    pub agreement: ScopedId,
    pub version: u32,
    pub digest: Digest,
    pub time: Timestamp,
    pub figures: Figures,
}

/// One revealed clause: its index, salt, text and the RFC 9162 inclusion
/// proof of its commitment under the sealed root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevealedClause {
    pub index: u32,
    pub salt: Salt,
    pub text: String,
    pub proof: Vec<Digest>,
}

/// Clauses of a sealed version revealed by one of its parties (the
/// `disclosure` record kind).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reveal {
    pub agreement: ScopedId,
    pub version: u32,
    pub clauses: Vec<RevealedClause>,
    pub time: Timestamp,
    pub figures: Figures,
}

impl Reveal {
    /// Checks every clause against a sealed root and count; the error
    /// names the first clause that fails and why.
    pub fn verify(&self, root: &Digest, count: u32) -> Result<(), Error> {
        for (i, c) in self.clauses.iter().enumerate() {
            let proof: Vec<Hash> = c.proof.iter().map(|d| Hash(*d.bytes())).collect();
            disclosure::verify_clause(
                &Hash(*root.bytes()),
                u64::from(count),
                u64::from(c.index),
                &c.salt,
                &c.text,
                &proof,
            )
            .map_err(|e| Error::invalid(format!("clauses[{i}]"), e.to_string()))?;
        }
        Ok(())
    }
}

/// A progress report on one pledge or milestone of an agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub agreement: ScopedId,
    pub pledge: Token,
    /// What was delivered, in the pledge's kind of quantity; absent for a
    /// milestone.
    pub delivered: Option<Quantity>,
    /// For a milestone: whether it is complete.
    pub complete: bool,
    /// When it was delivered.
    pub date: Date,
    pub note: Text,
    pub documents: Vec<SourceDocument>,
    /// Log indices of records under the agreement (shipments, receipts).
    pub records: Vec<u64>,
    pub time: Timestamp,
    pub figures: Figures,
}

/// Where a reported claim was published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub title: Text,
    pub publisher: Text,
    pub date: Date,
    /// `https://…` or `http://…`, at most 512 bytes, no spaces.
    pub url: Text,
    /// SHA-256 of an archived copy, if kept.
    pub archive: Option<Digest>,
}

/// An unconfirmed public claim, versioned by its author.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub id: ScopedId,
    pub version: u32,
    pub claim: Text,
    /// `port-offer`, `valuation`, `investment`…
    pub topic: Token,
    pub countries: Vec<Country>,
    pub commodities: Vec<Token>,
    /// The figure the claim states, if any.
    pub value: Option<Money>,
    pub sources: Vec<Source>,
    pub status: ReportStatus,
    /// The agreement that confirms it (status `confirmed`).
    pub confirmed_by: Option<ScopedId>,
    /// The source that refutes it (status `refuted`).
    pub refuted_by: Option<Source>,
    pub time: Timestamp,
    pub figures: Figures,
}

/// A grade in a resource estimate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceGrade {
    pub analyte: Analyte,
    pub value: Decimal,
    pub unit: GradeUnit,
}

/// A resource or reserve estimate for a deposit (a registered site).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceEstimate {
    pub id: ScopedId,
    pub version: u32,
    pub site: SiteId,
    pub code: ReportingCode,
    pub class: ResourceClass,
    pub effective: Date,
    /// Ore tonnage, in tonnes.
    pub tonnes: Decimal,
    pub grades: Vec<ResourceGrade>,
    /// Contained metal per element, in tonnes, as stated; checked against
    /// tonnage × grade when given.
    pub contained: Vec<(Element, Decimal)>,
    /// The competent or qualified person, or the issuing body.
    pub competent: Text,
    pub documents: Vec<SourceDocument>,
    pub time: Timestamp,
    pub figures: Figures,
}

fn listed<T: PartialEq>(items: &[T], field: &str, min: usize, max: usize) -> Result<(), Error> {
    if items.len() < min || items.len() > max {
        return Err(Error::invalid(field, format!("lists {min} to {max} items")));
    }
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err(Error::invalid(format!("{field}[{i}]"), "is listed twice"));
        }
    }
    Ok(())
}

fn check_version(version: u32, field: &str) -> Result<(), Error> {
    if version == 0 || version > MAX_VERSION {
        return Err(Error::invalid(
            field,
            format!("versions count from 1 to {MAX_VERSION}"),
        ));
    }
    Ok(())
}

/// Checks a clause text: 1 byte to 32 KiB, no NUL and no control
/// characters other than line breaks and tabs.
pub fn check_clause_text(text: &str) -> Result<(), Error> {
    if text.is_empty() || text.len() > MAX_CLAUSE_BYTES {
        return Err(Error::invalid(
            "",
            format!("a clause is 1 to {MAX_CLAUSE_BYTES} bytes"),
        ));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(Error::invalid(
            "",
            format!(
                "a clause may not contain U+{:04X} (control characters other than line breaks and tabs)",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

fn check_url(url: &Text, field: &str) -> Result<(), Error> {
    let u = url.as_str();
    let ok = (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() > "https://".len()
        && !u.contains(char::is_whitespace);
    if !ok {
        return Err(Error::invalid(
            field,
            "a source URL is http:// or https:// with no spaces",
        ));
    }
    Ok(())
}

fn check_sources(sources: &[Source], field: &str, min: usize) -> Result<(), Error> {
    listed(sources, field, min, MAX_LISTED)?;
    for (i, s) in sources.iter().enumerate() {
        check_url(&s.url, &format!("{field}[{i}].url"))?;
    }
    Ok(())
}

impl Agreement {
    pub fn check(&self) -> Result<(), Error> {
        check_version(self.version, "version")?;
        match (self.version, self.amends) {
            (1, None) => {}
            (1, Some(_)) => {
                return Err(Error::invalid("amends", "version 1 amends nothing"));
            }
            (v, Some(a)) if a + 1 == v => {}
            (v, _) => {
                return Err(Error::invalid(
                    "amends",
                    format!("version {v} amends version {}", v - 1),
                ));
            }
        }
        listed(&self.parties, "parties", 2, MAX_PARTIES)?;
        listed(&self.commodities, "commodities", 0, MAX_LISTED)?;
        listed(&self.sites, "sites", 0, MAX_LISTED)?;
        listed(&self.lots, "lots", 0, MAX_LISTED)?;
        listed(&self.documents, "documents", 0, MAX_LISTED)?;
        if self.pledges.len() > MAX_PLEDGES {
            return Err(Error::invalid(
                "pledges",
                format!("lists 0 to {MAX_PLEDGES} items"),
            ));
        }
        for (i, p) in self.pledges.iter().enumerate() {
            let field = format!("pledges[{i}]");
            if self.pledges[..i].iter().any(|q| q.id == p.id) {
                return Err(Error::invalid(
                    format!("{field}.id"),
                    format!("pledge {} is listed twice", p.id),
                ));
            }
            if p.due < self.signed {
                return Err(Error::invalid(
                    format!("{field}.due"),
                    format!(
                        "a pledge is due on or after the signing date ({})",
                        self.signed
                    ),
                ));
            }
            if let Some(q) = &p.quantity {
                q.check()
                    .map_err(|e| e.within(&format!("{field}.quantity")))?;
            }
        }
        match &self.terms {
            Terms::Public { clauses } => {
                if clauses.is_empty() || clauses.len() > MAX_PUBLIC_CLAUSES {
                    return Err(Error::invalid(
                        "terms.public.clauses",
                        format!("a public version states 1 to {MAX_PUBLIC_CLAUSES} clauses"),
                    ));
                }
                for (i, c) in clauses.iter().enumerate() {
                    check_clause_text(c)
                        .map_err(|e| e.within(&format!("terms.public.clauses[{i}]")))?;
                }
            }
            Terms::Sealed {
                count, disclose_by, ..
            } => {
                if *count == 0 || *count as usize > MAX_CLAUSES {
                    return Err(Error::invalid(
                        "terms.sealed.count",
                        format!("a sealed text has 1 to {MAX_CLAUSES} clauses"),
                    ));
                }
                if *disclose_by < self.signed {
                    return Err(Error::invalid(
                        "terms.sealed.disclose_by",
                        format!(
                            "{disclose_by} is before the signing date ({}): the planned disclosure date is on or after it",
                            self.signed
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The pledge with this id.
    pub fn pledge(&self, id: &Token) -> Option<&Pledge> {
        self.pledges.iter().find(|p| &p.id == id)
    }
}

impl Countersignature {
    pub fn check(&self) -> Result<(), Error> {
        check_version(self.version, "version")
    }
}

impl Reveal {
    pub fn check(&self) -> Result<(), Error> {
        check_version(self.version, "version")?;
        if self.clauses.is_empty() || self.clauses.len() > MAX_REVEALED {
            return Err(Error::invalid(
                "clauses",
                format!("a reveal carries 1 to {MAX_REVEALED} clauses (reveal more in several)"),
            ));
        }
        for (i, c) in self.clauses.iter().enumerate() {
            let field = format!("clauses[{i}]");
            if self.clauses[..i].iter().any(|d| d.index == c.index) {
                return Err(Error::invalid(
                    format!("{field}.index"),
                    format!("clause {} is revealed twice", c.index),
                ));
            }
            if c.index as usize >= MAX_CLAUSES {
                return Err(Error::invalid(
                    format!("{field}.index"),
                    format!("a clause index is below {MAX_CLAUSES}"),
                ));
            }
            check_clause_text(&c.text).map_err(|e| e.within(&format!("{field}.text")))?;
            if c.proof.len() > 64 {
                return Err(Error::invalid(
                    format!("{field}.proof"),
                    "an inclusion proof has at most 64 hashes",
                ));
            }
        }
        Ok(())
    }
}

impl Progress {
    pub fn check(&self) -> Result<(), Error> {
        if let Some(q) = &self.delivered {
            q.check().map_err(|e| e.within("delivered"))?;
        }
        listed(&self.documents, "documents", 0, MAX_LISTED)?;
        listed(&self.records, "records", 0, MAX_EVIDENCE)?;
        Ok(())
    }
}

impl Report {
    pub fn check(&self) -> Result<(), Error> {
        check_version(self.version, "version")?;
        listed(&self.countries, "countries", 0, MAX_LISTED)?;
        listed(&self.commodities, "commodities", 0, MAX_LISTED)?;
        check_sources(&self.sources, "sources", 1)?;
        match (self.status, &self.confirmed_by, &self.refuted_by) {
            (ReportStatus::Unconfirmed, None, None) => Ok(()),
            (ReportStatus::Confirmed, Some(_), None) => Ok(()),
            (ReportStatus::Refuted, None, Some(s)) => {
                check_sources(std::slice::from_ref(s), "refuted_by", 1).map_err(|e| match e {
                    Error::Invalid { rule, .. } => Error::invalid("refuted_by.url", rule),
                    other => other,
                })
            }
            (ReportStatus::Confirmed, None, _) => Err(Error::invalid(
                "confirmed_by",
                "a confirmed report names the agreement that confirms it",
            )),
            (ReportStatus::Refuted, _, None) => Err(Error::invalid(
                "refuted_by",
                "a refuted report names the source that refutes it",
            )),
            (_, Some(_), _) => Err(Error::invalid(
                "confirmed_by",
                "only a confirmed report names a confirming agreement",
            )),
            (_, _, Some(_)) => Err(Error::invalid(
                "refuted_by",
                "only a refuted report names a refuting source",
            )),
        }
    }
}

impl ResourceEstimate {
    pub fn check(&self) -> Result<(), Error> {
        check_version(self.version, "version")?;
        if self.tonnes.is_sign_negative()
            || self.tonnes.is_zero()
            || self.tonnes > Decimal::from(MAX_RESOURCE_TONNES)
        {
            return Err(Error::invalid(
                "tonnes",
                format!("a tonnage is above 0 and at most {MAX_RESOURCE_TONNES} t"),
            ));
        }
        if self.grades.is_empty() || self.grades.len() > MAX_LISTED {
            return Err(Error::invalid(
                "grades",
                format!("lists 1 to {MAX_LISTED} items"),
            ));
        }
        for (i, g) in self.grades.iter().enumerate() {
            let field = format!("grades[{i}]");
            if self.grades[..i]
                .iter()
                .any(|h| h.analyte.element() == g.analyte.element())
            {
                return Err(Error::invalid(
                    format!("{field}.analyte"),
                    format!("{} is graded twice", g.analyte.element().symbol()),
                ));
            }
            if g.value.is_sign_negative() && !g.value.is_zero() {
                return Err(Error::invalid(
                    format!("{field}.value"),
                    "a grade may not be negative",
                ));
            }
            if g.unit.to_percent(g.value) > Decimal::from(100) {
                return Err(Error::invalid(
                    format!("{field}.value"),
                    "a grade may not exceed 100 %",
                ));
            }
        }
        if self.contained.len() > MAX_LISTED {
            return Err(Error::invalid(
                "contained",
                format!("lists 0 to {MAX_LISTED} items"),
            ));
        }
        for (i, (element, tonnes)) in self.contained.iter().enumerate() {
            let field = format!("contained[{i}]");
            let Some(computed) = self.contained_tonnes(*element) else {
                return Err(Error::invalid(
                    format!("{field}.element"),
                    format!("{} has no grade to compute it from", element.symbol()),
                ));
            };
            if self.contained[..i].iter().any(|(e, _)| e == element) {
                return Err(Error::invalid(
                    format!("{field}.element"),
                    format!("{} is listed twice", element.symbol()),
                ));
            }
            // Within 1 % of tonnage × grade (published figures are rounded).
            let tolerance = computed / Decimal::from(100);
            if (*tonnes - computed).abs() > tolerance {
                return Err(Error::invalid(
                    format!("{field}.tonnes"),
                    format!(
                        "{} t of {} is not tonnage × grade ({} t × {} = {} t, within 1 %)",
                        crate::values::format_decimal(tonnes),
                        element.symbol(),
                        crate::values::format_decimal(&self.tonnes),
                        self.grades
                            .iter()
                            .find(|g| g.analyte.element() == *element)
                            .map(|g| format!(
                                "{} {} {}",
                                crate::values::format_decimal(&g.value),
                                g.unit.as_str(),
                                g.analyte
                            ))
                            .unwrap_or_default(),
                        crate::values::format_decimal(&computed.round_dp(3)),
                    ),
                ));
            }
        }
        listed(&self.documents, "documents", 0, MAX_LISTED)?;
        Ok(())
    }

    /// Contained metal of an element in tonnes: tonnage × the element's
    /// grade (oxide grades converted with the chemistry's factors).
    pub fn contained_tonnes(&self, element: Element) -> Option<Decimal> {
        let g = self
            .grades
            .iter()
            .find(|g| g.analyte.element() == element)?;
        let percent = g.analyte.to_element_grade(g.unit.to_percent(g.value));
        self.tonnes
            .checked_mul(percent)?
            .checked_div(Decimal::from(100))
    }
}
