//! The JSON shapes of records on the HTTP API. Unknown fields are errors;
//! decimals may be JSON numbers or strings; every conversion error names
//! the field (`wet_mass.value`) and the rule.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::chemistry::{Analyte, GradeUnit};
use crate::event::{CaptureAuth, CaptureBehaviour, CapturedEvent, EventId};
use oretrace_tlog::note::{KeyRef, SignatureLine};

fn tlog_error(e: oretrace_tlog::Error) -> Error {
    Error::invalid("", e.to_string())
}
use crate::record::*;
use crate::values::*;

/// A decimal as JSON: a number or a string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Number {
    Number(serde_json::Number),
    Text(String),
}

impl Number {
    fn parse(&self, field: &str) -> Result<Decimal, Error> {
        let text = match self {
            // serde_json prints some floats with an exponent (0.000001 as
            // `1e-6`); write those out in positional form first.
            Number::Number(n) => {
                let text = n.to_string();
                match text
                    .contains(['e', 'E'])
                    .then(|| Decimal::from_scientific(&text))
                {
                    Some(Ok(d)) => format_decimal(&d),
                    _ => text,
                }
            }
            Number::Text(t) => t.clone(),
        };
        parse_decimal(&text).map_err(|e| e.within(field))
    }

    fn of(d: &Decimal) -> Self {
        Number::Text(format_decimal(d))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MassJson {
    pub value: Number,
    pub unit: String,
}

impl MassJson {
    /// The mass this JSON describes.
    pub fn to_mass(&self) -> Result<Mass, Error> {
        self.parse("mass")
    }

    fn parse(&self, field: &str) -> Result<Mass, Error> {
        let unit = MassUnit::parse(&self.unit).map_err(|e| e.within(&format!("{field}.unit")))?;
        Mass::new(self.value.parse(&format!("{field}.value"))?, unit).map_err(|e| e.within(field))
    }

    /// The JSON shape of a mass.
    pub fn of(m: &Mass) -> Self {
        MassJson {
            value: Number::of(&m.value()),
            unit: m.unit().as_str().to_owned(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerJson {
    pub owner: String,
    pub share_percent: Number,
    #[serde(default)]
    pub controls: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationJson {
    pub lat: Number,
    pub lon: Number,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentJson {
    pub kind: String,
    pub reference: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotMassJson {
    pub lot: String,
    pub mass: MassJson,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputJson {
    pub id: String,
    pub commodity: String,
    pub form: String,
    pub wet_mass: MassJson,
    pub moisture_percent: Number,
}

/// A record as JSON, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RecordJson {
    Party {
        id: String,
        name: String,
        party_kind: String,
        country: String,
        keys: Vec<String>,
        #[serde(default)]
        owners: Vec<OwnerJson>,
        time: String,
        figures: String,
    },
    Site {
        id: String,
        name: String,
        site_kind: String,
        operator: String,
        country: String,
        location: LocationJson,
        #[serde(default)]
        approximate: bool,
        time: String,
        figures: String,
    },
    Lot {
        id: String,
        commodity: String,
        form: String,
        site: String,
        wet_mass: MassJson,
        moisture_percent: Number,
        time: String,
        figures: String,
    },
    Assay {
        lot: String,
        analyte: String,
        value: Number,
        unit: String,
        basis: String,
        method: String,
        laboratory: String,
        certificate_sha256: String,
        time: String,
        figures: String,
    },
    Shipment {
        id: String,
        lots: Vec<String>,
        from: String,
        to: String,
        #[serde(default)]
        via: Vec<String>,
        receiver: String,
        #[serde(default)]
        documents: Vec<DocumentJson>,
        time: String,
        figures: String,
    },
    Receipt {
        shipment: String,
        site: String,
        lots: Vec<LotMassJson>,
        time: String,
        figures: String,
    },
    Transformation {
        id: String,
        site: String,
        process: String,
        inputs: Vec<LotMassJson>,
        outputs: Vec<OutputJson>,
        time: String,
        figures: String,
    },
    /// A captured EPCIS event (written by the registry's capture
    /// interface, never posted to `/records`).
    EpcisEvent {
        event_id: String,
        captured_by: String,
        capture: String,
        auth: AuthJson,
        event: serde_json::Value,
        time: String,
        figures: String,
    },
}

/// How a captured event's party was authenticated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthJson {
    /// A bearer token issued for this key (`<name>+<hex id>`).
    Token { key: String },
    /// Detached signatures over the document with this SHA-256.
    Signed {
        document_sha256: String,
        behaviour: String,
        signatures: Vec<String>,
    },
}

fn at<T>(field: &str, r: Result<T, Error>) -> Result<T, Error> {
    r.map_err(|e| e.within(field))
}

fn list<T, U>(
    field: &str,
    items: &[T],
    f: impl Fn(&T) -> Result<U, Error>,
) -> Result<Vec<U>, Error> {
    items
        .iter()
        .enumerate()
        .map(|(i, t)| f(t).map_err(|e| e.within(&format!("{field}[{i}]"))))
        .collect()
}

fn lot_masses(field: &str, items: &[LotMassJson]) -> Result<Vec<(LotId, Mass)>, Error> {
    list(field, items, |lm| {
        Ok((at("lot", LotId::parse(&lm.lot))?, lm.mass.parse("mass")?))
    })
}

impl RecordJson {
    /// Parses JSON text into a record, naming the field of any error.
    pub fn parse(json: &[u8]) -> Result<Record, Error> {
        let wire: RecordJson =
            serde_json::from_slice(json).map_err(|e| Error::invalid("record", e.to_string()))?;
        wire.to_record()
    }

    /// Validates and converts into a record.
    pub fn to_record(&self) -> Result<Record, Error> {
        let record = match self {
            RecordJson::Party {
                id,
                name,
                party_kind,
                country,
                keys,
                owners,
                time,
                figures,
            } => Record::Party(Party {
                id: at("id", PartyId::parse(id))?,
                name: at("name", Text::parse(name))?,
                kind: at("party_kind", PartyKind::parse(party_kind))?,
                country: at("country", Country::parse(country))?,
                keys: list("keys", keys, |k| {
                    oretrace_tlog::note::NoteVerifier::from_vkey(k)
                        .map_err(|e| Error::invalid("", e.to_string()))
                })?,
                owners: list("owners", owners, |o| {
                    Ok(Ownership {
                        owner: at("owner", PartyId::parse(&o.owner))?,
                        share: o.share_percent.parse("share_percent")?,
                        controls: o.controls,
                    })
                })?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Site {
                id,
                name,
                site_kind,
                operator,
                country,
                location,
                approximate,
                time,
                figures,
            } => Record::Site(Site {
                id: at("id", SiteId::parse(id))?,
                name: at("name", Text::parse(name))?,
                kind: at("site_kind", SiteKind::parse(site_kind))?,
                operator: at("operator", PartyId::parse(operator))?,
                country: at("country", Country::parse(country))?,
                location: at(
                    "location",
                    location
                        .lat
                        .parse("lat")
                        .and_then(|lat| Coordinates::new(lat, location.lon.parse("lon")?)),
                )?,
                approximate: *approximate,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Lot {
                id,
                commodity,
                form,
                site,
                wet_mass,
                moisture_percent,
                time,
                figures,
            } => Record::Lot(Lot {
                id: at("id", LotId::parse(id))?,
                commodity: at("commodity", Token::parse(commodity))?,
                form: at("form", LotForm::parse(form))?,
                site: at("site", SiteId::parse(site))?,
                wet_mass: wet_mass.parse("wet_mass")?,
                moisture: moisture_percent.parse("moisture_percent")?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Assay {
                lot,
                analyte,
                value,
                unit,
                basis,
                method,
                laboratory,
                certificate_sha256,
                time,
                figures,
            } => Record::Assay(Assay {
                lot: at("lot", LotId::parse(lot))?,
                analyte: at("analyte", Analyte::parse(analyte))?,
                value: value.parse("value")?,
                unit: at("unit", GradeUnit::parse(unit))?,
                basis: at("basis", Basis::parse(basis))?,
                method: at("method", Text::parse(method))?,
                laboratory: at("laboratory", PartyId::parse(laboratory))?,
                certificate: at("certificate_sha256", Digest::parse(certificate_sha256))?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Shipment {
                id,
                lots,
                from,
                to,
                via,
                receiver,
                documents,
                time,
                figures,
            } => Record::Shipment(Shipment {
                id: at("id", Token::parse(id))?,
                lots: list("lots", lots, |l| LotId::parse(l))?,
                from: at("from", SiteId::parse(from))?,
                to: at("to", SiteId::parse(to))?,
                via: list("via", via, |v| SiteId::parse(v))?,
                receiver: at("receiver", PartyId::parse(receiver))?,
                documents: list("documents", documents, |d| {
                    Ok(Document {
                        kind: at("kind", DocumentKind::parse(&d.kind))?,
                        reference: at("reference", Text::parse(&d.reference))?,
                    })
                })?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Receipt {
                shipment,
                site,
                lots,
                time,
                figures,
            } => Record::Receipt(Receipt {
                shipment: at("shipment", Token::parse(shipment))?,
                site: at("site", SiteId::parse(site))?,
                lots: lot_masses("lots", lots)?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Transformation {
                id,
                site,
                process,
                inputs,
                outputs,
                time,
                figures,
            } => Record::Transformation(Transformation {
                id: at("id", Token::parse(id))?,
                site: at("site", SiteId::parse(site))?,
                process: at("process", Text::parse(process))?,
                inputs: lot_masses("inputs", inputs)?,
                outputs: list("outputs", outputs, |o| {
                    Ok(OutputLot {
                        id: at("id", LotId::parse(&o.id))?,
                        commodity: at("commodity", Token::parse(&o.commodity))?,
                        form: at("form", LotForm::parse(&o.form))?,
                        wet_mass: o.wet_mass.parse("wet_mass")?,
                        moisture: o.moisture_percent.parse("moisture_percent")?,
                    })
                })?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::EpcisEvent {
                event_id,
                captured_by,
                capture,
                auth,
                event,
                time,
                figures,
            } => Record::Event(CapturedEvent::new(
                at("event_id", EventId::parse(event_id))?,
                event.clone(),
                at("captured_by", PartyId::parse(captured_by))?,
                at("capture", Token::parse(capture))?,
                match auth {
                    AuthJson::Token { key } => CaptureAuth::Token {
                        key: at("auth.key", KeyRef::parse(key).map_err(tlog_error))?,
                    },
                    AuthJson::Signed {
                        document_sha256,
                        behaviour,
                        signatures,
                    } => CaptureAuth::Signed {
                        document: at("auth.document_sha256", Digest::parse(document_sha256))?,
                        behaviour: at("auth.behaviour", CaptureBehaviour::parse(behaviour))?,
                        signatures: list("auth.signatures", signatures, |s| {
                            SignatureLine::parse(s).map_err(tlog_error)
                        })?,
                    },
                },
                at("time", Timestamp::parse(time))?,
                at("figures", Figures::parse(figures))?,
            )?),
        };
        record.check()?;
        Ok(record)
    }

    /// The JSON shape of a record.
    pub fn of(record: &Record) -> Self {
        let lm = |items: &[(LotId, Mass)]| -> Vec<LotMassJson> {
            items
                .iter()
                .map(|(l, m)| LotMassJson {
                    lot: l.to_string(),
                    mass: MassJson::of(m),
                })
                .collect()
        };
        match record {
            Record::Party(p) => RecordJson::Party {
                id: p.id.to_string(),
                name: p.name.to_string(),
                party_kind: p.kind.to_string(),
                country: p.country.to_string(),
                keys: p.keys.iter().map(|k| k.to_vkey()).collect(),
                owners: p
                    .owners
                    .iter()
                    .map(|o| OwnerJson {
                        owner: o.owner.to_string(),
                        share_percent: Number::of(&o.share),
                        controls: o.controls,
                    })
                    .collect(),
                time: p.time.to_string(),
                figures: p.figures.as_str().into(),
            },
            Record::Site(s) => RecordJson::Site {
                id: s.id.to_string(),
                name: s.name.to_string(),
                site_kind: s.kind.to_string(),
                operator: s.operator.to_string(),
                country: s.country.to_string(),
                location: LocationJson {
                    lat: Number::of(&s.location.lat()),
                    lon: Number::of(&s.location.lon()),
                },
                approximate: s.approximate,
                time: s.time.to_string(),
                figures: s.figures.as_str().into(),
            },
            Record::Lot(l) => RecordJson::Lot {
                id: l.id.to_string(),
                commodity: l.commodity.to_string(),
                form: l.form.to_string(),
                site: l.site.to_string(),
                wet_mass: MassJson::of(&l.wet_mass),
                moisture_percent: Number::of(&l.moisture),
                time: l.time.to_string(),
                figures: l.figures.as_str().into(),
            },
            Record::Assay(a) => RecordJson::Assay {
                lot: a.lot.to_string(),
                analyte: a.analyte.to_string(),
                value: Number::of(&a.value),
                unit: a.unit.as_str().into(),
                basis: a.basis.to_string(),
                method: a.method.to_string(),
                laboratory: a.laboratory.to_string(),
                certificate_sha256: a.certificate.to_string(),
                time: a.time.to_string(),
                figures: a.figures.as_str().into(),
            },
            Record::Shipment(s) => RecordJson::Shipment {
                id: s.id.to_string(),
                lots: s.lots.iter().map(ToString::to_string).collect(),
                from: s.from.to_string(),
                to: s.to.to_string(),
                via: s.via.iter().map(ToString::to_string).collect(),
                receiver: s.receiver.to_string(),
                documents: s
                    .documents
                    .iter()
                    .map(|d| DocumentJson {
                        kind: d.kind.to_string(),
                        reference: d.reference.to_string(),
                    })
                    .collect(),
                time: s.time.to_string(),
                figures: s.figures.as_str().into(),
            },
            Record::Receipt(r) => RecordJson::Receipt {
                shipment: r.shipment.to_string(),
                site: r.site.to_string(),
                lots: lm(&r.lots),
                time: r.time.to_string(),
                figures: r.figures.as_str().into(),
            },
            Record::Transformation(t) => RecordJson::Transformation {
                id: t.id.to_string(),
                site: t.site.to_string(),
                process: t.process.to_string(),
                inputs: lm(&t.inputs),
                outputs: t
                    .outputs
                    .iter()
                    .map(|o| OutputJson {
                        id: o.id.to_string(),
                        commodity: o.commodity.to_string(),
                        form: o.form.to_string(),
                        wet_mass: MassJson::of(&o.wet_mass),
                        moisture_percent: Number::of(&o.moisture),
                    })
                    .collect(),
                time: t.time.to_string(),
                figures: t.figures.as_str().into(),
            },
            Record::Event(e) => RecordJson::EpcisEvent {
                event_id: e.event_id().to_string(),
                captured_by: e.captured_by().to_string(),
                capture: e.capture().to_string(),
                auth: match e.auth() {
                    CaptureAuth::Token { key } => AuthJson::Token {
                        key: key.to_string(),
                    },
                    CaptureAuth::Signed {
                        document,
                        behaviour,
                        signatures,
                    } => AuthJson::Signed {
                        document_sha256: document.to_string(),
                        behaviour: behaviour.to_string(),
                        signatures: signatures.iter().map(ToString::to_string).collect(),
                    },
                },
                event: e.event().clone(),
                time: e.time().to_string(),
                figures: e.figures().as_str().into(),
            },
        }
    }
}
