//! The rules of agreements, countersignatures, reveals, progress
//! reports, reports and resource estimates (`docs/design/agreements.md`,
//! "Rules"): who may write each, what must already exist, and what each
//! accepted record changes.

use oretrace_domain::agreement::{
    Agreement, Countersignature, Progress, Report, ResourceEstimate, Reveal, Terms,
};
use oretrace_domain::canonical;
use oretrace_domain::envelope::SignedRecord;
use oretrace_domain::money::Date;
use oretrace_domain::record::{Figures, Record};
use oretrace_domain::values::{Country, Digest, PartyId, Timestamp};

use super::state::{
    AgreementState, ClauseState, Confirmation, PledgeState, ProgressState, ReportState,
    ResourceState, VersionState,
};
use crate::rules::{Refusal, Signers, existing_party, existing_site, unprocessable};
use crate::state::Change;
use crate::store::StateView;

/// The registry parties among `parties` that signed, in list order.
fn signing_parties<'a>(signers: &Signers, parties: &'a [PartyId]) -> Vec<&'a PartyId> {
    parties
        .iter()
        .filter(|p| signers.parties.contains(p.as_str()))
        .collect()
}

fn not_after_record(
    date: Date,
    time: oretrace_domain::values::Timestamp,
    field: &str,
) -> Result<(), Refusal> {
    // One day of slack: a date is the signer's local day.
    let latest = Date::from_unix(time.unix() + 86_400);
    if date > latest {
        return Err(unprocessable(
            field,
            format!("{date} is after the record's time ({time})"),
        ));
    }
    Ok(())
}

fn illustrative(a: Figures, b: Figures) -> Figures {
    if a == Figures::Illustrative || b == Figures::Illustrative {
        Figures::Illustrative
    } else {
        Figures::Reported
    }
}

fn existing_agreement(
    view: &impl StateView,
    id: &str,
    field: &str,
) -> Result<AgreementState, Refusal> {
    view.agreement(id)?
        .ok_or_else(|| unprocessable(field, format!("agreement {id} does not exist")))
}

fn existing_version(
    view: &impl StateView,
    id: &str,
    version: u32,
) -> Result<VersionState, Refusal> {
    view.agreement_version(id, version)?.ok_or_else(|| {
        unprocessable(
            "version",
            format!("agreement {id} has no version {version}"),
        )
    })
}

/// What an agreement-family record changes, or `None` for other kinds.
pub(crate) fn changes(
    view: &impl StateView,
    signers: &Signers,
    record: &Record,
    index: u64,
) -> Option<Result<Vec<Change>, Refusal>> {
    Some(match record {
        Record::Agreement(a) => register(view, signers, a, index, record),
        Record::Countersignature(c) => countersign(view, signers, c, index),
        Record::Disclosure(r) => reveal(view, signers, r, index),
        Record::Progress(p) => progress(view, signers, p, index),
        Record::Report(r) => report(view, signers, r, index),
        Record::Resource(r) => resource(view, signers, r, index),
        _ => return None,
    })
}

fn register(
    view: &impl StateView,
    signers: &Signers,
    a: &Agreement,
    index: u64,
    record: &Record,
) -> Result<Vec<Change>, Refusal> {
    let id = a.id.as_str();
    let existing = view.agreement(id)?;
    let previous = match (&existing, a.version) {
        (Some(e), 1) => {
            return Err(unprocessable(
                "version",
                format!(
                    "agreement {id} exists (version {}): an amendment is version {}",
                    e.latest,
                    e.latest + 1
                ),
            ));
        }
        (None, 1) => None,
        (None, _) => {
            return Err(unprocessable(
                "amends",
                format!("agreement {id} does not exist: register version 1 first"),
            ));
        }
        (Some(e), v) if e.latest + 1 != v => {
            return Err(unprocessable(
                "amends",
                format!(
                    "version {v} must amend the latest version, {} (next is version {})",
                    e.latest,
                    e.latest + 1
                ),
            ));
        }
        (Some(e), _) => Some(existing_version(view, id, e.latest)?),
    };
    // Who may write this version: a party of it that signed; for an
    // amendment, also a party of the version it amends; for version 1, the
    // party whose namespace the id is in.
    let signing = signing_parties(signers, &a.parties);
    let registrant = match &previous {
        None => {
            let owner = a.id.namespace();
            if !signers.parties.contains(owner.as_str()) {
                return Err(Refusal::Forbidden(format!(
                    "agreement {id} is in the namespace of {owner}: {owner} registers it"
                )));
            }
            if !a.parties.contains(&owner) {
                return Err(unprocessable(
                    "parties",
                    format!("{owner} registers agreement {id} and must be one of its parties"),
                ));
            }
            owner
        }
        Some(prev) => signing
            .iter()
            .find(|p| prev.record().parties.contains(p))
            .map(|p| (*p).clone())
            .ok_or_else(|| {
                Refusal::Forbidden(format!(
                    "an amendment of agreement {id} must be signed by a party of version {} and of the new version ({})",
                    prev.version(),
                    prev.record()
                        .parties
                        .iter()
                        .map(PartyId::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
    };
    if let Some(prev) = &previous
        && a.signed < prev.record().signed
    {
        return Err(unprocessable(
            "signed",
            format!(
                "version {} is dated {}, before version {} it amends ({})",
                a.version,
                a.signed,
                prev.version(),
                prev.record().signed
            ),
        ));
    }
    if let Some(prev) = &previous
        && a.time < prev.record().time
    {
        return Err(unprocessable(
            "time",
            format!(
                "{} is before version {} it amends was recorded ({})",
                a.time,
                prev.version(),
                prev.record().time
            ),
        ));
    }
    not_after_record(a.signed, a.time, "signed")?;
    let mut countries: Vec<Country> = Vec::new();
    for (i, p) in a.parties.iter().enumerate() {
        let party = existing_party(view, p.as_str(), &format!("parties[{i}]"))?;
        countries.push(party.record().country);
    }
    countries.sort();
    countries.dedup();
    for (i, s) in a.sites.iter().enumerate() {
        existing_site(view, s.as_str(), &format!("sites[{i}]"))?;
    }
    for (i, l) in a.lots.iter().enumerate() {
        if view.lot(l.as_str())?.is_none() {
            return Err(unprocessable(
                format!("lots[{i}]"),
                format!("lot {l} does not exist"),
            ));
        }
    }
    let digest = Digest::of(&canonical::encode(record));
    let mut version = VersionState::new(a.clone(), index, registrant.clone(), digest);
    for p in signing {
        if *p != registrant {
            version.confirm(Confirmation {
                party: p.clone(),
                index,
                time: a.time,
            });
        }
    }
    // Pledges keep what was delivered against the same pledge (same id,
    // same unit) in the version amended.
    let pledges = a
        .pledges
        .iter()
        .map(|p| {
            let mut state = PledgeState::new(p);
            if let Some(old) = existing.as_ref().and_then(|e| {
                e.pledges
                    .iter()
                    .find(|o| o.id == p.id && o.unit == state.unit)
            }) {
                state.delivered = old.delivered;
                state.complete = old.complete;
                state.reports = old.reports;
                state.last_report = old.last_report;
            }
            state
        })
        .collect();
    let (clauses, disclose_by) = match &a.terms {
        Terms::Public { .. } => (None, None),
        Terms::Sealed {
            count, disclose_by, ..
        } => (Some(*count), Some(*disclose_by)),
    };
    let summary = AgreementState {
        id: a.id.clone(),
        title: a.title.clone(),
        kind: a.kind,
        status: a.status,
        latest: a.version,
        parties: a.parties.clone(),
        countries,
        commodities: a.commodities.clone(),
        signed: existing.as_ref().map_or(a.signed, |e| e.signed),
        disclosure: version.disclosure(),
        clauses,
        revealed: 0,
        disclose_by,
        pledges,
        figures: illustrative(
            a.figures,
            existing.as_ref().map_or(Figures::Reported, |e| e.figures),
        ),
        index,
        registered: existing.as_ref().map_or(index, |e| e.registered),
    };
    Ok(vec![
        Change::PutAgreementVersion(version),
        Change::PutAgreement(summary),
    ])
}

fn countersign(
    view: &impl StateView,
    signers: &Signers,
    c: &Countersignature,
    index: u64,
) -> Result<Vec<Change>, Refusal> {
    let id = c.agreement.as_str();
    let mut summary = existing_agreement(view, id, "agreement")?;
    let mut version = existing_version(view, id, c.version)?;
    let parties = version.record().parties.clone();
    let signing = signing_parties(signers, &parties);
    if signing.is_empty() {
        return Err(Refusal::Forbidden(format!(
            "a countersignature of agreement {id} version {} must be signed by one of its parties ({})",
            c.version,
            parties
                .iter()
                .map(PartyId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if c.version != summary.latest {
        return Err(unprocessable(
            "version",
            format!(
                "version {} of agreement {id} is superseded: countersign version {}",
                c.version, summary.latest
            ),
        ));
    }
    if &c.digest != version.digest() {
        return Err(unprocessable(
            "digest",
            format!(
                "{} is not the digest of agreement {id} version {} ({})",
                c.digest,
                c.version,
                version.digest()
            ),
        ));
    }
    let mut added = false;
    for party in signing {
        if party == version.registrant() {
            continue;
        }
        if let Some(done) = version.confirmations().iter().find(|k| &k.party == party) {
            return Err(unprocessable(
                "agreement",
                format!(
                    "{party} confirmed agreement {id} version {} at index {}",
                    c.version, done.index
                ),
            ));
        }
        version.confirm(Confirmation {
            party: party.clone(),
            index,
            time: c.time,
        });
        added = true;
    }
    if !added {
        return Err(unprocessable(
            "agreement",
            format!(
                "{} registered agreement {id} version {}: the other parties countersign it",
                version.registrant(),
                c.version
            ),
        ));
    }
    summary.index = index;
    summary.figures = illustrative(summary.figures, c.figures);
    Ok(vec![
        Change::PutAgreementVersion(version),
        Change::PutAgreement(summary),
    ])
}

fn reveal(
    view: &impl StateView,
    signers: &Signers,
    r: &Reveal,
    index: u64,
) -> Result<Vec<Change>, Refusal> {
    let id = r.agreement.as_str();
    let mut summary = existing_agreement(view, id, "agreement")?;
    let mut version = existing_version(view, id, r.version)?;
    let parties = &version.record().parties;
    let Some(by) = signing_parties(signers, parties)
        .first()
        .map(|p| (*p).clone())
    else {
        return Err(Refusal::Forbidden(format!(
            "a reveal of agreement {id} version {} must be signed by one of its parties",
            r.version
        )));
    };
    let Terms::Sealed { root, count, .. } = &version.record().terms else {
        return Err(unprocessable(
            "version",
            format!(
                "agreement {id} version {} is public: nothing is sealed",
                r.version
            ),
        ));
    };
    r.verify(root, *count).map_err(|e| match e {
        oretrace_domain::Error::Invalid { field, rule } => unprocessable(field, rule),
        other => Refusal::Invalid(other),
    })?;
    let mut changes = Vec::new();
    let mut new = Vec::new();
    for c in &r.clauses {
        if version.revealed().contains(&c.index) {
            continue;
        }
        new.push(c.index);
        changes.push(Change::PutClause(ClauseState {
            agreement: r.agreement.clone(),
            version: r.version,
            clause: c.index,
            salt: c.salt,
            text: c.text.clone(),
            index,
            by: by.clone(),
        }));
    }
    if new.is_empty() {
        return Err(unprocessable(
            "clauses",
            format!(
                "every clause this record reveals was revealed before (agreement {id} version {})",
                r.version
            ),
        ));
    }
    version.reveal(new);
    if version.version() == summary.latest {
        summary.disclosure = version.disclosure();
        summary.revealed = u32::try_from(version.revealed().len()).unwrap_or(u32::MAX);
    }
    summary.index = index;
    summary.figures = illustrative(summary.figures, r.figures);
    changes.push(Change::PutAgreementVersion(version));
    changes.push(Change::PutAgreement(summary));
    Ok(changes)
}

/// Whether a logged record is evidence about agreement `summary`: a
/// record of the agreement itself, or one naming a lot its latest version
/// covers (directly, or as a captured EPCIS event that states it).
fn concerns(
    record: &Record,
    summary: &AgreementState,
    lots: &[oretrace_domain::values::LotId],
) -> bool {
    let id = &summary.id;
    match record {
        Record::Agreement(a) => &a.id == id,
        Record::Countersignature(c) => &c.agreement == id,
        Record::Disclosure(d) => &d.agreement == id,
        Record::Progress(p) => &p.agreement == id,
        Record::Lot(l) => lots.contains(&l.id),
        Record::Assay(a) => lots.contains(&a.lot),
        Record::Shipment(s) => s.lots.iter().any(|l| lots.contains(l)),
        Record::Receipt(r) => r.lots.iter().any(|(l, _)| lots.contains(l)),
        Record::Transformation(t) => t
            .inputs
            .iter()
            .map(|(l, _)| l)
            .chain(t.outputs.iter().map(|o| &o.id))
            .any(|l| lots.contains(l)),
        // A captured EPCIS event is evidence through the records it states
        // (a shipping event states a shipment, a receiving event a receipt).
        Record::Event(e) => oretrace_epcis_map::interpret(e.event()).is_ok_and(|mapped| {
            mapped
                .records
                .iter()
                .any(|r| !matches!(r, Record::Event(_)) && concerns(r, summary, lots))
        }),
        Record::AttributeClaim(c) => lots.contains(&c.lot),
        Record::Party(_)
        | Record::Site(_)
        | Record::Report(_)
        | Record::Resource(_)
        | Record::CustodyModel(_) => false,
    }
}

fn progress(
    view: &impl StateView,
    signers: &Signers,
    p: &Progress,
    index: u64,
) -> Result<Vec<Change>, Refusal> {
    let id = p.agreement.as_str();
    let mut summary = existing_agreement(view, id, "agreement")?;
    let latest = existing_version(view, id, summary.latest)?;
    let Some(author) = signing_parties(signers, &latest.record().parties)
        .first()
        .map(|a| (*a).clone())
    else {
        return Err(Refusal::Forbidden(format!(
            "a progress report on agreement {id} must be signed by one of its parties"
        )));
    };
    let Some(pledge) = summary.pledges.iter_mut().find(|q| q.id == p.pledge) else {
        return Err(unprocessable(
            "pledge",
            format!(
                "agreement {id} (version {}) has no pledge or milestone {}",
                summary.latest, p.pledge
            ),
        ));
    };
    if p.date < summary.signed {
        return Err(unprocessable(
            "date",
            format!(
                "{} is before the agreement was signed ({})",
                p.date, summary.signed
            ),
        ));
    }
    not_after_record(p.date, p.time, "date")?;
    match (&pledge.unit, &p.delivered) {
        (Some(unit), Some(q)) if q.unit() == unit => {
            pledge.delivered = pledge
                .delivered
                .checked_add(q.amount())
                .ok_or_else(|| unprocessable("delivered", "the total delivered is too large"))?;
        }
        (Some(unit), Some(q)) => {
            return Err(unprocessable(
                "delivered",
                format!(
                    "pledge {} is counted in {unit}, not {}",
                    pledge.id,
                    q.unit()
                ),
            ));
        }
        (Some(unit), None) => {
            return Err(unprocessable(
                "delivered",
                format!("pledge {} needs the amount delivered, in {unit}", pledge.id),
            ));
        }
        (None, Some(_)) => {
            return Err(unprocessable(
                "delivered",
                format!(
                    "{} is a milestone: report it complete or not, with no amount",
                    pledge.id
                ),
            ));
        }
        (None, None) => {}
    }
    if p.complete {
        pledge.complete = true;
    }
    pledge.reports = pledge.reports.saturating_add(1);
    pledge.last_report = pledge.last_report.max(Some(p.date));
    for (i, at) in p.records.iter().enumerate() {
        let field = format!("records[{i}]");
        let entry = view
            .entry(*at)?
            .ok_or_else(|| unprocessable(&field, format!("the log holds no entry {at} yet")))?;
        let logged = SignedRecord::from_entry(&entry)
            .map_err(|e| Refusal::Internal(format!("entry {at} is unreadable: {e}")))?;
        if !concerns(logged.record(), &summary, &latest.record().lots) {
            return Err(unprocessable(
                field,
                format!(
                    "entry {at} (a {} record) is not about agreement {id} or a lot it covers",
                    logged.record().kind()
                ),
            ));
        }
    }
    summary.index = index;
    summary.figures = illustrative(summary.figures, p.figures);
    Ok(vec![
        Change::PutProgress(ProgressState::new(p.clone(), index, author)),
        Change::PutAgreement(summary),
    ])
}

/// The author of a versioned report or estimate: version 1 by the party
/// whose namespace the id is in; later versions by the same author, each
/// amending the latest.
fn versioned_author(
    signers: &Signers,
    id: &oretrace_domain::agreement::ScopedId,
    version: u32,
    time: Timestamp,
    existing: Option<(&PartyId, usize, Timestamp)>,
    what: &str,
) -> Result<PartyId, Refusal> {
    let owner = id.namespace();
    if !signers.parties.contains(owner.as_str()) {
        return Err(Refusal::Forbidden(format!(
            "{what} {id} is in the namespace of {owner}: only {owner} writes it"
        )));
    }
    if let Some((_, _, latest)) = existing
        && time < latest
    {
        return Err(unprocessable(
            "time",
            format!("{time} is before the version it amends was recorded ({latest})"),
        ));
    }
    match existing {
        None if version == 1 => Ok(owner),
        None => Err(unprocessable(
            "version",
            format!("{what} {id} does not exist: write version 1 first"),
        )),
        Some((_, latest, _)) if version as usize != latest + 1 => Err(unprocessable(
            "version",
            format!(
                "{what} {id} is at version {latest}: the next is version {}",
                latest + 1
            ),
        )),
        Some((author, _, _)) if *author != owner => Err(Refusal::Forbidden(format!(
            "{what} {id} is written by {author}"
        ))),
        Some(_) => Ok(owner),
    }
}

fn report(
    view: &impl StateView,
    signers: &Signers,
    r: &Report,
    index: u64,
) -> Result<Vec<Change>, Refusal> {
    let existing = view.report(r.id.as_str())?;
    let author = versioned_author(
        signers,
        &r.id,
        r.version,
        r.time,
        existing
            .as_ref()
            .map(|e| (e.author(), e.versions().len(), e.record().time)),
        "report",
    )?;
    if let Some(a) = &r.confirmed_by
        && view.agreement(a.as_str())?.is_none()
    {
        return Err(unprocessable(
            "confirmed_by",
            format!("agreement {a} does not exist"),
        ));
    }
    let mut versions = existing.map(|e| e.versions().to_vec()).unwrap_or_default();
    versions.push(index);
    Ok(vec![Change::PutReport(ReportState::new(
        r.clone(),
        author,
        versions,
    ))])
}

fn resource(
    view: &impl StateView,
    signers: &Signers,
    r: &ResourceEstimate,
    index: u64,
) -> Result<Vec<Change>, Refusal> {
    let existing = view.resource(r.id.as_str())?;
    let author = versioned_author(
        signers,
        &r.id,
        r.version,
        r.time,
        existing
            .as_ref()
            .map(|e| (e.author(), e.versions().len(), e.record().time)),
        "resource estimate",
    )?;
    let site = existing_site(view, r.site.as_str(), "site")?;
    not_after_record(r.effective, r.time, "effective")?;
    let mut versions = existing.map(|e| e.versions().to_vec()).unwrap_or_default();
    versions.push(index);
    Ok(vec![Change::PutResource(ResourceState::new(
        r.clone(),
        author,
        site.country(),
        versions,
    ))])
}
