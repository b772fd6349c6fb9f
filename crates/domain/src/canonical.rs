//! The canonical text encoding of records, version 1.
//!
//! ```text
//! oretrace.record/v1
//! kind lot
//! id urn:oretrace:lot:fwo:sb-001
//! commodity antimony
//! ...
//! ```
//!
//! One `key value` line per field, each ending in a newline, in a fixed
//! order per kind; repeated keys for lists, in list order. Values are in
//! their one canonical form (decimals without trailing zeros or exponent,
//! times in UTC to the second, formulas without `1` counts). Decoding
//! re-encodes and refuses any input that does not come back byte for byte,
//! so one record has exactly one encoding. Golden vectors pin it.
//!
//! Lines holding several values put free text last, so they split
//! unambiguously on the first spaces: `pledge <id> <due> <quantity>
//! <description>` with the quantity `money 500000000 USD`, `mass 1000 t`,
//! `count 2 facility` or `milestone` (no quantity); `document <digest>
//! <title>`; `terms sealed <root> <count> <disclose-by> <reason>`. A
//! source takes three lines (`source <date> <archive digest or -> <url>`,
//! `source-title`, `source-publisher`). Clause texts, which may hold line
//! breaks, are written as a JSON string literal as serde_json escapes it
//! (`clause "Article 1\nText"`; in a disclosure `clause <index> <salt>
//! "<text>"`), each followed by its inclusion proof, one `proof <hash>`
//! line per hash, in proof order.

use std::fmt::Display;

use crate::Error;
use crate::agreement::{
    Agreement, AgreementKind, AgreementStatus, Countersignature, Pledge, Progress, Quantity,
    Report, ReportStatus, ReportingCode, ResourceClass, ResourceEstimate, ResourceGrade, Reveal,
    RevealedClause, ScopedId, Source, SourceDocument, Terms,
};
use crate::chemistry::{Analyte, Element, GradeUnit};
use crate::custody::{AttributeClaim, CustodyModel, CustodyModelKind};
use crate::event::{CaptureAuth, CaptureBehaviour, CapturedEvent, EventEncoding, EventId};
use crate::money::{Date, Money};
use crate::record::*;
use crate::values::*;
use oretrace_tlog::note::{KeyRef, SignatureLine};

/// First line of every canonical record.
pub const HEADER: &str = "oretrace.record/v1";

struct Writer(String);

impl Writer {
    fn field(&mut self, key: &str, value: impl Display) {
        self.0.push_str(key);
        self.0.push(' ');
        self.0.push_str(&value.to_string());
        self.0.push('\n');
    }

    fn end(mut self, figures: Figures, time: Timestamp) -> String {
        self.field("time", time);
        self.field("figures", figures.as_str());
        self.0
    }
}

fn mass(m: &Mass) -> String {
    m.to_string()
}

/// A quantity on a line: `money 500000000 USD`, `mass 1000 t`, `count 2
/// facility`.
fn quantity(q: &Quantity) -> String {
    match q {
        Quantity::Money(m) => format!("money {m}"),
        Quantity::Mass(m) => format!("mass {m}"),
        Quantity::Count { value, unit } => format!("count {} {unit}", format_decimal(value)),
    }
}

/// A clause text on one line: a JSON string literal as serde_json writes
/// it (line breaks, quotes, backslashes and control characters escaped,
/// everything else as is).
fn clause_literal(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// `document <digest> <title>` per source document.
fn documents(w: &mut Writer, items: &[SourceDocument]) {
    for d in items {
        w.field("document", format!("{} {}", d.digest, d.title));
    }
}

/// A source on three lines: `<key> <date> <archive digest or -> <url>`,
/// `<key>-title <title>`, `<key>-publisher <publisher>`.
fn source(w: &mut Writer, key: &str, s: &Source) {
    let archive = s.archive.map_or("-".into(), |a| a.to_string());
    w.field(key, format!("{} {archive} {}", s.date, s.url));
    w.field(&format!("{key}-title"), &s.title);
    w.field(&format!("{key}-publisher"), &s.publisher);
}

/// The canonical bytes of a record.
pub fn encode(record: &Record) -> Vec<u8> {
    let mut w = Writer(format!("{HEADER}\n"));
    w.field("kind", record.kind());
    let text = match record {
        Record::Agreement(a) => {
            w.field("id", &a.id);
            w.field("version", a.version);
            if let Some(v) = a.amends {
                w.field("amends", v);
            }
            w.field("title", &a.title);
            w.field("agreement-kind", a.kind);
            for p in &a.parties {
                w.field("party", p);
            }
            w.field("signed", a.signed);
            w.field("place", &a.place);
            w.field("status", a.status);
            for c in &a.commodities {
                w.field("commodity", c);
            }
            for s in &a.sites {
                w.field("site", s);
            }
            for l in &a.lots {
                w.field("lot", l);
            }
            if let Some(v) = &a.value {
                w.field("value", v);
            }
            for p in &a.pledges {
                let quantity = p.quantity.as_ref().map_or("milestone".into(), quantity);
                w.field(
                    "pledge",
                    format!("{} {} {quantity} {}", p.id, p.due, p.description),
                );
            }
            documents(&mut w, &a.documents);
            match &a.terms {
                Terms::Public { clauses } => {
                    w.field("terms", "public");
                    for c in clauses {
                        w.field("clause", clause_literal(c));
                    }
                }
                Terms::Sealed {
                    root,
                    count,
                    reason,
                    disclose_by,
                } => w.field(
                    "terms",
                    format!("sealed {root} {count} {disclose_by} {reason}"),
                ),
            }
            w.end(a.figures, a.time)
        }
        Record::Countersignature(c) => {
            w.field("agreement", &c.agreement);
            w.field("version", c.version);
            w.field("digest", c.digest);
            w.end(c.figures, c.time)
        }
        Record::Disclosure(d) => {
            w.field("agreement", &d.agreement);
            w.field("version", d.version);
            for c in &d.clauses {
                w.field(
                    "clause",
                    format!(
                        "{} {} {}",
                        c.index,
                        Digest::from_bytes(c.salt),
                        clause_literal(&c.text)
                    ),
                );
                for h in &c.proof {
                    w.field("proof", h);
                }
            }
            w.end(d.figures, d.time)
        }
        Record::Progress(p) => {
            w.field("agreement", &p.agreement);
            w.field("pledge", &p.pledge);
            if let Some(q) = &p.delivered {
                w.field("delivered", quantity(q));
            }
            w.field("complete", p.complete);
            w.field("date", p.date);
            w.field("note", &p.note);
            documents(&mut w, &p.documents);
            for r in &p.records {
                w.field("record", r);
            }
            w.end(p.figures, p.time)
        }
        Record::Report(r) => {
            w.field("id", &r.id);
            w.field("version", r.version);
            w.field("claim", &r.claim);
            w.field("topic", &r.topic);
            for c in &r.countries {
                w.field("country", c);
            }
            for c in &r.commodities {
                w.field("commodity", c);
            }
            if let Some(v) = &r.value {
                w.field("value", v);
            }
            for s in &r.sources {
                source(&mut w, "source", s);
            }
            w.field("status", r.status);
            if let Some(c) = &r.confirmed_by {
                w.field("confirmed-by", c);
            }
            if let Some(s) = &r.refuted_by {
                source(&mut w, "refuted-by", s);
            }
            w.end(r.figures, r.time)
        }
        Record::Resource(e) => {
            w.field("id", &e.id);
            w.field("version", e.version);
            w.field("site", &e.site);
            w.field("code", e.code);
            w.field("class", e.class);
            w.field("effective", e.effective);
            w.field("tonnes", format_decimal(&e.tonnes));
            for g in &e.grades {
                w.field(
                    "grade",
                    format!(
                        "{} {} {}",
                        g.analyte,
                        format_decimal(&g.value),
                        g.unit.as_str()
                    ),
                );
            }
            for (element, tonnes) in &e.contained {
                w.field(
                    "contained",
                    format!("{} {}", element.symbol(), format_decimal(tonnes)),
                );
            }
            w.field("competent", &e.competent);
            documents(&mut w, &e.documents);
            w.end(e.figures, e.time)
        }
        Record::CustodyModel(m) => {
            w.field("site", &m.site);
            w.field("attribute", &m.attribute);
            w.field("model", m.model);
            for s in &m.specified {
                w.field("specified", s);
            }
            w.field("from", m.from);
            if let Some(u) = m.until {
                w.field("until", u);
            }
            w.end(m.figures, m.time)
        }
        Record::AttributeClaim(c) => {
            w.field("lot", &c.lot);
            w.field("attribute", &c.attribute);
            w.field("element", c.element.symbol());
            w.field("share", format_decimal(&c.share));
            w.end(c.figures, c.time)
        }
        Record::Party(p) => {
            w.field("id", &p.id);
            w.field("name", &p.name);
            w.field("party-kind", p.kind);
            w.field("country", p.country);
            for k in &p.keys {
                w.field("key", k.to_vkey());
            }
            for o in &p.owners {
                let how = if o.controls { "controls" } else { "holds" };
                w.field(
                    "owner",
                    format!("{} {} {how}", o.owner, format_decimal(&o.share)),
                );
            }
            w.end(p.figures, p.time)
        }
        Record::Site(s) => {
            w.field("id", &s.id);
            w.field("name", &s.name);
            w.field("site-kind", s.kind);
            w.field("operator", &s.operator);
            w.field("country", s.country);
            w.field("location", s.location);
            w.field("approximate", s.approximate);
            w.end(s.figures, s.time)
        }
        Record::Lot(l) => {
            w.field("id", &l.id);
            w.field("commodity", &l.commodity);
            w.field("form", l.form);
            w.field("site", &l.site);
            w.field("wet-mass", mass(&l.wet_mass));
            w.field("moisture", format_decimal(&l.moisture));
            w.end(l.figures, l.time)
        }
        Record::Assay(a) => {
            w.field("lot", &a.lot);
            w.field("analyte", a.analyte);
            w.field("value", format_decimal(&a.value));
            w.field("unit", a.unit.as_str());
            w.field("basis", a.basis);
            if let Some(u) = &a.uncertainty {
                w.field("uncertainty", format_decimal(u));
            }
            w.field("method", &a.method);
            w.field("laboratory", &a.laboratory);
            w.field("certificate", a.certificate);
            w.end(a.figures, a.time)
        }
        Record::Shipment(s) => {
            w.field("id", &s.id);
            for lot in &s.lots {
                w.field("lot", lot);
            }
            w.field("from", &s.from);
            w.field("to", &s.to);
            for v in &s.via {
                w.field("via", v);
            }
            w.field("receiver", &s.receiver);
            for d in &s.documents {
                w.field("document", format!("{} {}", d.kind, d.reference));
            }
            w.end(s.figures, s.time)
        }
        Record::Receipt(r) => {
            w.field("shipment", &r.shipment);
            w.field("site", &r.site);
            for (lot, m) in &r.lots {
                w.field("lot", format!("{lot} {}", mass(m)));
            }
            w.end(r.figures, r.time)
        }
        Record::Transformation(t) => {
            w.field("id", &t.id);
            w.field("site", &t.site);
            w.field("process", &t.process);
            for (lot, m) in &t.inputs {
                w.field("input", format!("{lot} {}", mass(m)));
            }
            for o in &t.outputs {
                w.field(
                    "output",
                    format!(
                        "{} {} {} {} {}",
                        o.id,
                        o.commodity,
                        o.form,
                        mass(&o.wet_mass),
                        format_decimal(&o.moisture)
                    ),
                );
            }
            w.end(t.figures, t.time)
        }
        Record::Event(e) => {
            w.field("event-id", e.event_id());
            w.field("captured-by", e.captured_by());
            w.field("capture", e.capture());
            match e.auth() {
                CaptureAuth::Token { key } => w.field("auth", format!("token {key}")),
                CaptureAuth::Signed {
                    document,
                    behaviour,
                    signatures,
                } => {
                    w.field("auth", format!("signed {document} {behaviour}"));
                    for s in signatures {
                        w.field("document-signature", s);
                    }
                }
            }
            if let Some(marker) = e.encoding().marker() {
                w.field("event-encoding", marker);
            }
            w.field("event", e.event_text());
            w.end(e.figures(), e.time())
        }
    };
    text.into_bytes()
}

struct Reader<'a> {
    lines: Vec<&'a str>,
    /// Index into `lines` of the next unread line.
    at: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, line: usize, detail: impl Into<String>) -> Error {
        Error::NotCanonical {
            line: line + 2,
            detail: detail.into(),
        }
    }

    fn peek_key(&self) -> Option<&'a str> {
        self.lines
            .get(self.at)
            .map(|l| l.split_once(' ').map_or(*l, |(k, _)| k))
    }

    fn one(&mut self, key: &str) -> Result<(usize, &'a str), Error> {
        let line = self.at;
        let Some(text) = self.lines.get(line) else {
            return Err(self.err(line, format!("expected {key:?}, found the end")));
        };
        match text.split_once(' ') {
            Some((k, v)) if k == key => {
                self.at += 1;
                Ok((line, v))
            }
            _ => Err(self.err(line, format!("expected {key:?}, found {text:?}"))),
        }
    }

    fn many(&mut self, key: &str) -> Result<Vec<(usize, &'a str)>, Error> {
        let mut out = Vec::new();
        while self.peek_key() == Some(key) {
            out.push(self.one(key)?);
        }
        Ok(out)
    }

    fn value<T>(
        &mut self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let (line, v) = self.one(key)?;
        parse(v).map_err(|e| self.err(line, e.within(key).to_string()))
    }

    fn values<T>(
        &mut self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        self.many(key)?
            .into_iter()
            .map(|(line, v)| parse(v).map_err(|e| self.err(line, e.within(key).to_string())))
            .collect()
    }
}

fn parse_mass(value: &str, unit: &str) -> Result<Mass, Error> {
    Mass::new(parse_decimal(value)?, MassUnit::parse(unit)?)
}

fn words<const N: usize>(text: &str) -> Result<[&str; N], Error> {
    let parts: Vec<&str> = text.splitn(N, ' ').collect();
    parts
        .try_into()
        .map_err(|_| Error::invalid("", format!("expected {N} space-separated values")))
}

fn tlog_error(e: oretrace_tlog::Error) -> Error {
    Error::invalid("", e.to_string())
}

fn parse_bool(text: &str) -> Result<bool, Error> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::invalid("", "expected true or false")),
    }
}

/// An unsigned integer in decimal digits (a version, a clause index or
/// count, a log index). Leading zeros and signs are refused by the
/// re-encoding check.
fn parse_number<T: std::str::FromStr>(text: &str) -> Result<T, Error> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "",
            format!("{text:?} is not a whole number"),
        ));
    }
    text.parse()
        .map_err(|_| Error::invalid("", format!("{text:?} is out of range")))
}

fn parse_quantity(kind: &str, value: &str, unit: &str) -> Result<Quantity, Error> {
    match kind {
        "money" => Ok(Quantity::Money(Money::parse(&format!("{value} {unit}"))?)),
        "mass" => Ok(Quantity::Mass(parse_mass(value, unit)?)),
        "count" => Ok(Quantity::Count {
            value: parse_decimal(value)?,
            unit: Token::parse(unit)?,
        }),
        _ => Err(Error::invalid(
            "",
            format!("{kind:?} is not a quantity (money, mass or count)"),
        )),
    }
}

/// A clause text written as a JSON string literal.
fn parse_clause_literal(text: &str) -> Result<String, Error> {
    if !text.starts_with('"') {
        return Err(Error::invalid("", "a clause text is a JSON string literal"));
    }
    serde_json::from_str::<String>(text)
        .map_err(|e| Error::invalid("", format!("a clause text is a JSON string literal: {e}")))
}

fn parse_document(text: &str) -> Result<SourceDocument, Error> {
    let [digest, title] = words::<2>(text)?;
    Ok(SourceDocument {
        digest: Digest::parse(digest)?,
        title: Text::parse(title)?,
    })
}

/// The line `key value` if it is next.
fn optional<T>(
    r: &mut Reader<'_>,
    key: &str,
    parse: impl Fn(&str) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    if r.peek_key() == Some(key) {
        r.value(key, parse).map(Some)
    } else {
        Ok(None)
    }
}

/// A source's three lines (see [`source`]).
fn read_source(r: &mut Reader<'_>, key: &str) -> Result<Source, Error> {
    let (date, archive, url) = r.value(key, |v| {
        let [date, archive, url] = words::<3>(v)?;
        Ok((
            Date::parse(date)?,
            match archive {
                "-" => None,
                a => Some(Digest::parse(a)?),
            },
            Text::parse(url)?,
        ))
    })?;
    Ok(Source {
        title: r.value(&format!("{key}-title"), Text::parse)?,
        publisher: r.value(&format!("{key}-publisher"), Text::parse)?,
        date,
        url,
        archive,
    })
}

/// Decodes canonical bytes into a record, checking its own rules, and
/// refuses bytes that are not exactly the canonical encoding.
pub fn decode(bytes: &[u8]) -> Result<Record, Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::NotCanonical {
        line: 0,
        detail: "not UTF-8".into(),
    })?;
    let body = text.strip_suffix('\n').ok_or_else(|| Error::NotCanonical {
        line: 0,
        detail: "does not end in a newline".into(),
    })?;
    let mut lines = body.split('\n');
    if lines.next() != Some(HEADER) {
        return Err(Error::NotCanonical {
            line: 1,
            detail: format!("first line is not {HEADER}"),
        });
    }
    let mut r = Reader {
        lines: lines.collect(),
        at: 0,
    };
    // Line numbers in errors count the header as line 1.
    let (_, kind) = r.one("kind")?;
    let record = match kind {
        "party" => Record::Party(Party {
            id: r.value("id", PartyId::parse)?,
            name: r.value("name", Text::parse)?,
            kind: r.value("party-kind", PartyKind::parse)?,
            country: r.value("country", Country::parse)?,
            keys: r.values("key", |v| {
                oretrace_tlog::note::NoteVerifier::from_vkey(v)
                    .map_err(|e| Error::invalid("", e.to_string()))
            })?,
            owners: r.values("owner", |v| {
                let [owner, share, how] = words::<3>(v)?;
                Ok(Ownership {
                    owner: PartyId::parse(owner)?,
                    share: parse_decimal(share)?,
                    controls: match how {
                        "controls" => true,
                        "holds" => false,
                        _ => return Err(Error::invalid("", "expected controls or holds")),
                    },
                })
            })?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "site" => Record::Site(Site {
            id: r.value("id", SiteId::parse)?,
            name: r.value("name", Text::parse)?,
            kind: r.value("site-kind", SiteKind::parse)?,
            operator: r.value("operator", PartyId::parse)?,
            country: r.value("country", Country::parse)?,
            location: r.value("location", |v| {
                let [lat, lon] = words::<2>(v)?;
                Coordinates::new(parse_decimal(lat)?, parse_decimal(lon)?)
            })?,
            approximate: r.value("approximate", parse_bool)?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "lot" => Record::Lot(Lot {
            id: r.value("id", LotId::parse)?,
            commodity: r.value("commodity", Token::parse)?,
            form: r.value("form", LotForm::parse)?,
            site: r.value("site", SiteId::parse)?,
            wet_mass: r.value("wet-mass", |v| {
                let [value, unit] = words::<2>(v)?;
                parse_mass(value, unit)
            })?,
            moisture: r.value("moisture", parse_decimal)?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "assay" => Record::Assay(Assay {
            lot: r.value("lot", LotId::parse)?,
            analyte: r.value("analyte", Analyte::parse)?,
            value: r.value("value", parse_decimal)?,
            unit: r.value("unit", GradeUnit::parse)?,
            basis: r.value("basis", Basis::parse)?,
            uncertainty: optional(&mut r, "uncertainty", parse_decimal)?,
            method: r.value("method", Text::parse)?,
            laboratory: r.value("laboratory", PartyId::parse)?,
            certificate: r.value("certificate", Digest::parse)?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "shipment" => Record::Shipment(Shipment {
            id: r.value("id", Token::parse)?,
            lots: r.values("lot", LotId::parse)?,
            from: r.value("from", SiteId::parse)?,
            to: r.value("to", SiteId::parse)?,
            via: r.values("via", SiteId::parse)?,
            receiver: r.value("receiver", PartyId::parse)?,
            documents: r.values("document", |v| {
                let [kind, reference] = words::<2>(v)?;
                Ok(Document {
                    kind: DocumentKind::parse(kind)?,
                    reference: Text::parse(reference)?,
                })
            })?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "receipt" => Record::Receipt(Receipt {
            shipment: r.value("shipment", Token::parse)?,
            site: r.value("site", SiteId::parse)?,
            lots: r.values("lot", |v| {
                let [lot, value, unit] = words::<3>(v)?;
                Ok((LotId::parse(lot)?, parse_mass(value, unit)?))
            })?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "transformation" => Record::Transformation(Transformation {
            id: r.value("id", Token::parse)?,
            site: r.value("site", SiteId::parse)?,
            process: r.value("process", Text::parse)?,
            inputs: r.values("input", |v| {
                let [lot, value, unit] = words::<3>(v)?;
                Ok((LotId::parse(lot)?, parse_mass(value, unit)?))
            })?,
            outputs: r.values("output", |v| {
                let [id, commodity, form, value, unit, moisture] = words::<6>(v)?;
                Ok(OutputLot {
                    id: LotId::parse(id)?,
                    commodity: Token::parse(commodity)?,
                    form: LotForm::parse(form)?,
                    wet_mass: parse_mass(value, unit)?,
                    moisture: parse_decimal(moisture)?,
                })
            })?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "epcis-event" => {
            let event_id = r.value("event-id", EventId::parse)?;
            let captured_by = r.value("captured-by", PartyId::parse)?;
            let capture = r.value("capture", Token::parse)?;
            let auth = r.value("auth", |v| match v.split_once(' ') {
                Some(("token", key)) => Ok(Ok(KeyRef::parse(key).map_err(tlog_error)?)),
                Some(("signed", rest)) => {
                    let [document, behaviour] = words::<2>(rest)?;
                    Ok(Err((
                        Digest::parse(document)?,
                        CaptureBehaviour::parse(behaviour)?,
                    )))
                }
                _ => Err(Error::invalid(
                    "",
                    "is \"token <key name>+<key id>\" or \"signed <digest> <behaviour>\"",
                )),
            })?;
            let auth = match auth {
                Ok(key) => CaptureAuth::Token { key },
                Err((document, behaviour)) => CaptureAuth::Signed {
                    document,
                    behaviour,
                    signatures: r.values("document-signature", |v| {
                        SignatureLine::parse(v).map_err(tlog_error)
                    })?,
                },
            };
            // Entries before the event-encoding line hold the first encoding.
            let encoding = if r.peek_key() == Some("event-encoding") {
                r.value("event-encoding", EventEncoding::parse_marker)?
            } else {
                EventEncoding::Legacy
            };
            let (line, text) = r.one("event")?;
            let time = r.value("time", Timestamp::parse)?;
            let figures = r.value("figures", Figures::parse)?;
            let event = CapturedEvent::from_logged(
                event_id,
                encoding,
                text,
                captured_by,
                capture,
                auth,
                time,
                figures,
            )
            .map_err(|e| r.err(line, e.to_string()))?;
            Record::Event(event)
        }
        "agreement" => Record::Agreement(Agreement {
            id: r.value("id", ScopedId::parse)?,
            version: r.value("version", parse_number)?,
            amends: if r.peek_key() == Some("amends") {
                Some(r.value("amends", parse_number)?)
            } else {
                None
            },
            title: r.value("title", Text::parse)?,
            kind: r.value("agreement-kind", AgreementKind::parse)?,
            parties: r.values("party", PartyId::parse)?,
            signed: r.value("signed", Date::parse)?,
            place: r.value("place", Text::parse)?,
            status: r.value("status", AgreementStatus::parse)?,
            commodities: r.values("commodity", Token::parse)?,
            sites: r.values("site", SiteId::parse)?,
            lots: r.values("lot", LotId::parse)?,
            value: optional(&mut r, "value", Money::parse)?,
            pledges: r.values("pledge", |v| {
                let [id, due, rest] = words::<3>(v)?;
                let (quantity, description) = match rest.split_once(' ') {
                    Some(("milestone", description)) => (None, description),
                    _ => {
                        let [kind, value, unit, description] = words::<4>(rest)?;
                        (Some(parse_quantity(kind, value, unit)?), description)
                    }
                };
                Ok(Pledge {
                    id: Token::parse(id)?,
                    description: Text::parse(description)?,
                    quantity,
                    due: Date::parse(due)?,
                })
            })?,
            documents: r.values("document", parse_document)?,
            terms: {
                let sealed = r.value("terms", |v| match v {
                    "public" => Ok(None),
                    _ => {
                        let Some(("sealed", rest)) = v.split_once(' ') else {
                            return Err(Error::invalid(
                                "",
                                "is \"public\" or \"sealed <root> <count> <disclose-by> <reason>\"",
                            ));
                        };
                        let [root, count, disclose_by, reason] = words::<4>(rest)?;
                        Ok(Some(Terms::Sealed {
                            root: Digest::parse(root)?,
                            count: parse_number(count)?,
                            reason: Text::parse(reason)?,
                            disclose_by: Date::parse(disclose_by)?,
                        }))
                    }
                })?;
                match sealed {
                    Some(terms) => terms,
                    None => Terms::Public {
                        clauses: r.values("clause", parse_clause_literal)?,
                    },
                }
            },
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "countersignature" => Record::Countersignature(Countersignature {
            agreement: r.value("agreement", ScopedId::parse)?,
            version: r.value("version", parse_number)?,
            digest: r.value("digest", Digest::parse)?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "disclosure" => Record::Disclosure(Reveal {
            agreement: r.value("agreement", ScopedId::parse)?,
            version: r.value("version", parse_number)?,
            clauses: {
                let mut clauses = Vec::new();
                while r.peek_key() == Some("clause") {
                    let (index, salt, text) = r.value("clause", |v| {
                        let [index, salt, text] = words::<3>(v)?;
                        Ok((
                            parse_number(index)?,
                            crate::wire::parse_salt(salt)?,
                            parse_clause_literal(text)?,
                        ))
                    })?;
                    clauses.push(RevealedClause {
                        index,
                        salt,
                        text,
                        proof: r.values("proof", Digest::parse)?,
                    });
                }
                clauses
            },
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "progress" => Record::Progress(Progress {
            agreement: r.value("agreement", ScopedId::parse)?,
            pledge: r.value("pledge", Token::parse)?,
            delivered: optional(&mut r, "delivered", |v| {
                let [kind, value, unit] = words::<3>(v)?;
                parse_quantity(kind, value, unit)
            })?,
            complete: r.value("complete", parse_bool)?,
            date: r.value("date", Date::parse)?,
            note: r.value("note", Text::parse)?,
            documents: r.values("document", parse_document)?,
            records: r.values("record", parse_number)?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "report" => Record::Report(Report {
            id: r.value("id", ScopedId::parse)?,
            version: r.value("version", parse_number)?,
            claim: r.value("claim", Text::parse)?,
            topic: r.value("topic", Token::parse)?,
            countries: r.values("country", Country::parse)?,
            commodities: r.values("commodity", Token::parse)?,
            value: optional(&mut r, "value", Money::parse)?,
            sources: {
                let mut sources = Vec::new();
                while r.peek_key() == Some("source") {
                    sources.push(read_source(&mut r, "source")?);
                }
                sources
            },
            status: r.value("status", ReportStatus::parse)?,
            confirmed_by: optional(&mut r, "confirmed-by", ScopedId::parse)?,
            refuted_by: if r.peek_key() == Some("refuted-by") {
                Some(read_source(&mut r, "refuted-by")?)
            } else {
                None
            },
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "resource" => Record::Resource(ResourceEstimate {
            id: r.value("id", ScopedId::parse)?,
            version: r.value("version", parse_number)?,
            site: r.value("site", SiteId::parse)?,
            code: r.value("code", ReportingCode::parse)?,
            class: r.value("class", ResourceClass::parse)?,
            effective: r.value("effective", Date::parse)?,
            tonnes: r.value("tonnes", parse_decimal)?,
            grades: r.values("grade", |v| {
                let [analyte, value, unit] = words::<3>(v)?;
                Ok(ResourceGrade {
                    analyte: Analyte::parse(analyte)?,
                    value: parse_decimal(value)?,
                    unit: GradeUnit::parse(unit)?,
                })
            })?,
            contained: r.values("contained", |v| {
                let [element, tonnes] = words::<2>(v)?;
                Ok((Element::parse(element)?, parse_decimal(tonnes)?))
            })?,
            competent: r.value("competent", Text::parse)?,
            documents: r.values("document", parse_document)?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "custody-model" => Record::CustodyModel(CustodyModel {
            site: r.value("site", SiteId::parse)?,
            attribute: r.value("attribute", Text::parse)?,
            model: r.value("model", CustodyModelKind::parse)?,
            specified: r.values("specified", SiteId::parse)?,
            from: r.value("from", Timestamp::parse)?,
            until: optional(&mut r, "until", Timestamp::parse)?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        "attribute-claim" => Record::AttributeClaim(AttributeClaim {
            lot: r.value("lot", LotId::parse)?,
            attribute: r.value("attribute", Text::parse)?,
            element: r.value("element", Element::parse)?,
            share: r.value("share", parse_decimal)?,
            time: r.value("time", Timestamp::parse)?,
            figures: r.value("figures", Figures::parse)?,
        }),
        other => {
            return Err(Error::NotCanonical {
                line: 2,
                detail: format!("unknown kind {other:?}"),
            });
        }
    };
    if r.at != r.lines.len() {
        let line = r.at;
        return Err(r.err(line, format!("unexpected line {:?}", r.lines[line])));
    }
    record.check()?;
    if encode(&record) != bytes {
        return Err(Error::NotCanonical {
            line: 0,
            detail: "not in canonical form (re-encoding differs)".into(),
        });
    }
    Ok(record)
}
