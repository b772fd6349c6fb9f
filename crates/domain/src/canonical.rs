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

use std::fmt::Display;

use crate::Error;
use crate::chemistry::{Analyte, GradeUnit};
use crate::event::{CaptureAuth, CaptureBehaviour, CapturedEvent, EventEncoding, EventId};
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

/// The canonical bytes of a record.
pub fn encode(record: &Record) -> Vec<u8> {
    let mut w = Writer(format!("{HEADER}\n"));
    w.field("kind", record.kind());
    let text = match record {
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
