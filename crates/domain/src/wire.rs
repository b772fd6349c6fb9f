//! The JSON shapes of records on the HTTP API. Unknown fields are errors;
//! decimals may be JSON numbers or strings; every conversion error names
//! the field (`wet_mass.value`) and the rule.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::agreement::{
    Agreement, AgreementKind, AgreementStatus, Countersignature, Pledge, Progress, Quantity,
    Report, ReportStatus, ReportingCode, ResourceClass, ResourceEstimate, ResourceGrade, Reveal,
    RevealedClause, ScopedId, Source, SourceDocument, Terms,
};
use crate::chemistry::Element;
use crate::chemistry::{Analyte, GradeUnit};
use crate::custody::{AttributeClaim, CustodyModel, CustodyModelKind};
use crate::disclosure::Salt;
use crate::event::{CaptureAuth, CaptureBehaviour, CapturedEvent, EventId};
use crate::money::{Currency, Date, Money};
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

/// An amount of money: `{"amount": "500000000", "currency": "USD"}`.
/// The currency is required; it is read as optional only so that its
/// absence is refused naming the field (`value.currency`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyJson {
    pub amount: Number,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

impl MoneyJson {
    fn parse(&self, field: &str) -> Result<Money, Error> {
        let amount = self.amount.parse(&format!("{field}.amount"))?;
        let Some(currency) = &self.currency else {
            return Err(Error::invalid(
                format!("{field}.currency"),
                "an amount carries an ISO 4217 currency code (e.g. USD)",
            ));
        };
        let currency =
            Currency::parse(currency).map_err(|e| e.within(&format!("{field}.currency")))?;
        Money::new(amount, currency).map_err(|e| e.within(field))
    }

    fn of(m: &Money) -> Self {
        MoneyJson {
            amount: Number::of(&m.amount()),
            currency: Some(m.currency().as_str().to_owned()),
        }
    }
}

/// A count of a unit: `{"value": "2", "unit": "facility"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountJson {
    pub value: Number,
    pub unit: String,
}

/// A quantity, tagged by what it counts: `{"money": {…}}`, `{"mass":
/// {…}}` or `{"count": {…}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QuantityJson {
    Money(MoneyJson),
    Mass(MassJson),
    Count(CountJson),
}

impl QuantityJson {
    fn parse(&self, field: &str) -> Result<Quantity, Error> {
        let q = match self {
            QuantityJson::Money(m) => Quantity::Money(m.parse(&format!("{field}.money"))?),
            QuantityJson::Mass(m) => Quantity::Mass(m.parse(&format!("{field}.mass"))?),
            QuantityJson::Count(c) => Quantity::Count {
                value: c.value.parse(&format!("{field}.count.value"))?,
                unit: at(&format!("{field}.count.unit"), Token::parse(&c.unit))?,
            },
        };
        Ok(q)
    }

    fn of(q: &Quantity) -> Self {
        match q {
            Quantity::Money(m) => QuantityJson::Money(MoneyJson::of(m)),
            Quantity::Mass(m) => QuantityJson::Mass(MassJson::of(m)),
            Quantity::Count { value, unit } => QuantityJson::Count(CountJson {
                value: Number::of(value),
                unit: unit.to_string(),
            }),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PledgeJson {
    pub id: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<QuantityJson>,
    pub due: String,
}

/// A source document by the SHA-256 of its bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDocumentJson {
    pub digest: String,
    pub title: String,
}

/// The text of a version: `{"public": {"clauses": […]}}` or `{"sealed":
/// {"root": …, "count": …, "reason": …, "disclose_by": …}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TermsJson {
    Public {
        clauses: Vec<String>,
    },
    Sealed {
        root: String,
        count: u32,
        reason: String,
        disclose_by: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealedClauseJson {
    pub index: u32,
    pub salt: String,
    pub text: String,
    #[serde(default)]
    pub proof: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceJson {
    pub title: String,
    pub publisher: String,
    pub date: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeJson {
    pub analyte: String,
    pub value: Number,
    pub unit: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainedJson {
    pub element: String,
    pub tonnes: Number,
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
        /// ± in the unit of `value`, on its basis.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        uncertainty: Option<Number>,
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
    /// One version of an agreement. Optional fields may be omitted or
    /// null and are omitted when absent; lists may be omitted when empty
    /// and are always written.
    Agreement {
        id: String,
        version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amends: Option<u32>,
        title: String,
        agreement_kind: String,
        parties: Vec<String>,
        signed: String,
        place: String,
        status: String,
        #[serde(default)]
        commodities: Vec<String>,
        #[serde(default)]
        sites: Vec<String>,
        #[serde(default)]
        lots: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<MoneyJson>,
        #[serde(default)]
        pledges: Vec<PledgeJson>,
        #[serde(default)]
        documents: Vec<SourceDocumentJson>,
        terms: TermsJson,
        time: String,
        figures: String,
    },
    Countersignature {
        agreement: String,
        version: u32,
        digest: String,
        time: String,
        figures: String,
    },
    Disclosure {
        agreement: String,
        version: u32,
        clauses: Vec<RevealedClauseJson>,
        time: String,
        figures: String,
    },
    Progress {
        agreement: String,
        pledge: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivered: Option<QuantityJson>,
        #[serde(default)]
        complete: bool,
        date: String,
        note: String,
        #[serde(default)]
        documents: Vec<SourceDocumentJson>,
        #[serde(default)]
        records: Vec<u64>,
        time: String,
        figures: String,
    },
    Report {
        id: String,
        version: u32,
        claim: String,
        topic: String,
        #[serde(default)]
        countries: Vec<String>,
        #[serde(default)]
        commodities: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<MoneyJson>,
        sources: Vec<SourceJson>,
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confirmed_by: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refuted_by: Option<SourceJson>,
        time: String,
        figures: String,
    },
    Resource {
        id: String,
        version: u32,
        site: String,
        code: String,
        class: String,
        effective: String,
        tonnes: Number,
        grades: Vec<GradeJson>,
        #[serde(default)]
        contained: Vec<ContainedJson>,
        competent: String,
        #[serde(default)]
        documents: Vec<SourceDocumentJson>,
        time: String,
        figures: String,
    },
    /// The kind is spelt as in canonical bytes (`custody-model`).
    #[serde(rename = "custody-model")]
    CustodyModel {
        site: String,
        attribute: String,
        model: String,
        specified: Vec<String>,
        from: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<String>,
        time: String,
        figures: String,
    },
    #[serde(rename = "attribute-claim")]
    AttributeClaim {
        lot: String,
        attribute: String,
        element: String,
        share: Number,
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

/// A clause's salt: 64 lower-case hex digits.
pub fn parse_salt(text: &str) -> Result<Salt, Error> {
    Digest::parse(text)
        .map(|d| *d.bytes())
        .map_err(|_| Error::invalid("", "a salt is 64 lower-case hex digits (32 bytes)"))
}

fn documents(field: &str, items: &[SourceDocumentJson]) -> Result<Vec<SourceDocument>, Error> {
    list(field, items, |d| {
        Ok(SourceDocument {
            digest: at("digest", Digest::parse(&d.digest))?,
            title: at("title", Text::parse(&d.title))?,
        })
    })
}

fn documents_of(items: &[SourceDocument]) -> Vec<SourceDocumentJson> {
    items
        .iter()
        .map(|d| SourceDocumentJson {
            digest: d.digest.to_string(),
            title: d.title.to_string(),
        })
        .collect()
}

fn source(s: &SourceJson) -> Result<Source, Error> {
    Ok(Source {
        title: at("title", Text::parse(&s.title))?,
        publisher: at("publisher", Text::parse(&s.publisher))?,
        date: at("date", Date::parse(&s.date))?,
        url: at("url", Text::parse(&s.url))?,
        archive: s
            .archive
            .as_deref()
            .map(|a| at("archive", Digest::parse(a)))
            .transpose()?,
    })
}

fn source_of(s: &Source) -> SourceJson {
    SourceJson {
        title: s.title.to_string(),
        publisher: s.publisher.to_string(),
        date: s.date.to_string(),
        url: s.url.to_string(),
        archive: s.archive.map(|a| a.to_string()),
    }
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
                uncertainty,
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
                uncertainty: uncertainty
                    .as_ref()
                    .map(|u| u.parse("uncertainty"))
                    .transpose()?,
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
            RecordJson::Agreement {
                id,
                version,
                amends,
                title,
                agreement_kind,
                parties,
                signed,
                place,
                status,
                commodities,
                sites,
                lots,
                value,
                pledges,
                documents: docs,
                terms,
                time,
                figures,
            } => Record::Agreement(Agreement {
                id: at("id", ScopedId::parse(id))?,
                version: *version,
                amends: *amends,
                title: at("title", Text::parse(title))?,
                kind: at("agreement_kind", AgreementKind::parse(agreement_kind))?,
                parties: list("parties", parties, |p| PartyId::parse(p))?,
                signed: at("signed", Date::parse(signed))?,
                place: at("place", Text::parse(place))?,
                status: at("status", AgreementStatus::parse(status))?,
                commodities: list("commodities", commodities, |c| Token::parse(c))?,
                sites: list("sites", sites, |s| SiteId::parse(s))?,
                lots: list("lots", lots, |l| LotId::parse(l))?,
                value: value.as_ref().map(|m| m.parse("value")).transpose()?,
                pledges: list("pledges", pledges, |p| {
                    Ok(Pledge {
                        id: at("id", Token::parse(&p.id))?,
                        description: at("description", Text::parse(&p.description))?,
                        quantity: p
                            .quantity
                            .as_ref()
                            .map(|q| q.parse("quantity"))
                            .transpose()?,
                        due: at("due", Date::parse(&p.due))?,
                    })
                })?,
                documents: documents("documents", docs)?,
                terms: match terms {
                    TermsJson::Public { clauses } => Terms::Public {
                        clauses: clauses.clone(),
                    },
                    TermsJson::Sealed {
                        root,
                        count,
                        reason,
                        disclose_by,
                    } => Terms::Sealed {
                        root: at("terms.sealed.root", Digest::parse(root))?,
                        count: *count,
                        reason: at("terms.sealed.reason", Text::parse(reason))?,
                        disclose_by: at("terms.sealed.disclose_by", Date::parse(disclose_by))?,
                    },
                },
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Countersignature {
                agreement,
                version,
                digest,
                time,
                figures,
            } => Record::Countersignature(Countersignature {
                agreement: at("agreement", ScopedId::parse(agreement))?,
                version: *version,
                digest: at("digest", Digest::parse(digest))?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Disclosure {
                agreement,
                version,
                clauses,
                time,
                figures,
            } => Record::Disclosure(Reveal {
                agreement: at("agreement", ScopedId::parse(agreement))?,
                version: *version,
                clauses: list("clauses", clauses, |c| {
                    Ok(RevealedClause {
                        index: c.index,
                        salt: at("salt", parse_salt(&c.salt))?,
                        text: c.text.clone(),
                        proof: list("proof", &c.proof, |h| Digest::parse(h))?,
                    })
                })?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Progress {
                agreement,
                pledge,
                delivered,
                complete,
                date,
                note,
                documents: docs,
                records,
                time,
                figures,
            } => Record::Progress(Progress {
                agreement: at("agreement", ScopedId::parse(agreement))?,
                pledge: at("pledge", Token::parse(pledge))?,
                delivered: delivered
                    .as_ref()
                    .map(|q| q.parse("delivered"))
                    .transpose()?,
                complete: *complete,
                date: at("date", Date::parse(date))?,
                note: at("note", Text::parse(note))?,
                documents: documents("documents", docs)?,
                records: records.clone(),
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Report {
                id,
                version,
                claim,
                topic,
                countries,
                commodities,
                value,
                sources,
                status,
                confirmed_by,
                refuted_by,
                time,
                figures,
            } => Record::Report(Report {
                id: at("id", ScopedId::parse(id))?,
                version: *version,
                claim: at("claim", Text::parse(claim))?,
                topic: at("topic", Token::parse(topic))?,
                countries: list("countries", countries, |c| Country::parse(c))?,
                commodities: list("commodities", commodities, |c| Token::parse(c))?,
                value: value.as_ref().map(|m| m.parse("value")).transpose()?,
                sources: list("sources", sources, source)?,
                status: at("status", ReportStatus::parse(status))?,
                confirmed_by: confirmed_by
                    .as_deref()
                    .map(|c| at("confirmed_by", ScopedId::parse(c)))
                    .transpose()?,
                refuted_by: refuted_by
                    .as_ref()
                    .map(|s| source(s).map_err(|e| e.within("refuted_by")))
                    .transpose()?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::Resource {
                id,
                version,
                site,
                code,
                class,
                effective,
                tonnes,
                grades,
                contained,
                competent,
                documents: docs,
                time,
                figures,
            } => Record::Resource(ResourceEstimate {
                id: at("id", ScopedId::parse(id))?,
                version: *version,
                site: at("site", SiteId::parse(site))?,
                code: at("code", ReportingCode::parse(code))?,
                class: at("class", ResourceClass::parse(class))?,
                effective: at("effective", Date::parse(effective))?,
                tonnes: tonnes.parse("tonnes")?,
                grades: list("grades", grades, |g| {
                    Ok(ResourceGrade {
                        analyte: at("analyte", Analyte::parse(&g.analyte))?,
                        value: g.value.parse("value")?,
                        unit: at("unit", GradeUnit::parse(&g.unit))?,
                    })
                })?,
                contained: list("contained", contained, |c| {
                    Ok((
                        at("element", Element::parse(&c.element))?,
                        c.tonnes.parse("tonnes")?,
                    ))
                })?,
                competent: at("competent", Text::parse(competent))?,
                documents: documents("documents", docs)?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
            RecordJson::CustodyModel {
                site,
                attribute,
                model,
                specified,
                from,
                until,
                time,
                figures,
            } => {
                if specified.len() > MAX_ITEMS {
                    return Err(Error::invalid(
                        "specified",
                        format!("lists 1 to {MAX_ITEMS} origin sites"),
                    ));
                }
                Record::CustodyModel(CustodyModel {
                    site: at("site", SiteId::parse(site))?,
                    attribute: at("attribute", Text::parse(attribute))?,
                    model: at("model", CustodyModelKind::parse(model))?,
                    specified: list("specified", specified, |s| SiteId::parse(s))?,
                    from: at("from", Timestamp::parse(from))?,
                    until: until
                        .as_deref()
                        .map(|u| at("until", Timestamp::parse(u)))
                        .transpose()?,
                    time: at("time", Timestamp::parse(time))?,
                    figures: at("figures", Figures::parse(figures))?,
                })
            }
            RecordJson::AttributeClaim {
                lot,
                attribute,
                element,
                share,
                time,
                figures,
            } => Record::AttributeClaim(AttributeClaim {
                lot: at("lot", LotId::parse(lot))?,
                attribute: at("attribute", Text::parse(attribute))?,
                element: at("element", Element::parse(element))?,
                share: share.parse("share")?,
                time: at("time", Timestamp::parse(time))?,
                figures: at("figures", Figures::parse(figures))?,
            }),
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
            Record::Agreement(a) => RecordJson::Agreement {
                id: a.id.to_string(),
                version: a.version,
                amends: a.amends,
                title: a.title.to_string(),
                agreement_kind: a.kind.to_string(),
                parties: a.parties.iter().map(ToString::to_string).collect(),
                signed: a.signed.to_string(),
                place: a.place.to_string(),
                status: a.status.to_string(),
                commodities: a.commodities.iter().map(ToString::to_string).collect(),
                sites: a.sites.iter().map(ToString::to_string).collect(),
                lots: a.lots.iter().map(ToString::to_string).collect(),
                value: a.value.as_ref().map(MoneyJson::of),
                pledges: a
                    .pledges
                    .iter()
                    .map(|p| PledgeJson {
                        id: p.id.to_string(),
                        description: p.description.to_string(),
                        quantity: p.quantity.as_ref().map(QuantityJson::of),
                        due: p.due.to_string(),
                    })
                    .collect(),
                documents: documents_of(&a.documents),
                terms: match &a.terms {
                    Terms::Public { clauses } => TermsJson::Public {
                        clauses: clauses.clone(),
                    },
                    Terms::Sealed {
                        root,
                        count,
                        reason,
                        disclose_by,
                    } => TermsJson::Sealed {
                        root: root.to_string(),
                        count: *count,
                        reason: reason.to_string(),
                        disclose_by: disclose_by.to_string(),
                    },
                },
                time: a.time.to_string(),
                figures: a.figures.as_str().into(),
            },
            Record::Countersignature(c) => RecordJson::Countersignature {
                agreement: c.agreement.to_string(),
                version: c.version,
                digest: c.digest.to_string(),
                time: c.time.to_string(),
                figures: c.figures.as_str().into(),
            },
            Record::Disclosure(d) => RecordJson::Disclosure {
                agreement: d.agreement.to_string(),
                version: d.version,
                clauses: d
                    .clauses
                    .iter()
                    .map(|c| RevealedClauseJson {
                        index: c.index,
                        salt: Digest::from_bytes(c.salt).to_string(),
                        text: c.text.clone(),
                        proof: c.proof.iter().map(ToString::to_string).collect(),
                    })
                    .collect(),
                time: d.time.to_string(),
                figures: d.figures.as_str().into(),
            },
            Record::Progress(p) => RecordJson::Progress {
                agreement: p.agreement.to_string(),
                pledge: p.pledge.to_string(),
                delivered: p.delivered.as_ref().map(QuantityJson::of),
                complete: p.complete,
                date: p.date.to_string(),
                note: p.note.to_string(),
                documents: documents_of(&p.documents),
                records: p.records.clone(),
                time: p.time.to_string(),
                figures: p.figures.as_str().into(),
            },
            Record::Report(r) => RecordJson::Report {
                id: r.id.to_string(),
                version: r.version,
                claim: r.claim.to_string(),
                topic: r.topic.to_string(),
                countries: r.countries.iter().map(ToString::to_string).collect(),
                commodities: r.commodities.iter().map(ToString::to_string).collect(),
                value: r.value.as_ref().map(MoneyJson::of),
                sources: r.sources.iter().map(source_of).collect(),
                status: r.status.to_string(),
                confirmed_by: r.confirmed_by.as_ref().map(ToString::to_string),
                refuted_by: r.refuted_by.as_ref().map(source_of),
                time: r.time.to_string(),
                figures: r.figures.as_str().into(),
            },
            Record::Resource(e) => RecordJson::Resource {
                id: e.id.to_string(),
                version: e.version,
                site: e.site.to_string(),
                code: e.code.to_string(),
                class: e.class.to_string(),
                effective: e.effective.to_string(),
                tonnes: Number::of(&e.tonnes),
                grades: e
                    .grades
                    .iter()
                    .map(|g| GradeJson {
                        analyte: g.analyte.to_string(),
                        value: Number::of(&g.value),
                        unit: g.unit.as_str().to_owned(),
                    })
                    .collect(),
                contained: e
                    .contained
                    .iter()
                    .map(|(el, t)| ContainedJson {
                        element: el.symbol().to_owned(),
                        tonnes: Number::of(t),
                    })
                    .collect(),
                competent: e.competent.to_string(),
                documents: documents_of(&e.documents),
                time: e.time.to_string(),
                figures: e.figures.as_str().into(),
            },
            Record::CustodyModel(m) => RecordJson::CustodyModel {
                site: m.site.to_string(),
                attribute: m.attribute.to_string(),
                model: m.model.to_string(),
                specified: m.specified.iter().map(ToString::to_string).collect(),
                from: m.from.to_string(),
                until: m.until.map(|u| u.to_string()),
                time: m.time.to_string(),
                figures: m.figures.as_str().into(),
            },
            Record::AttributeClaim(c) => RecordJson::AttributeClaim {
                lot: c.lot.to_string(),
                attribute: c.attribute.to_string(),
                element: c.element.symbol().to_owned(),
                share: Number::of(&c.share),
                time: c.time.to_string(),
                figures: c.figures.as_str().into(),
            },
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
                uncertainty: a.uncertainty.as_ref().map(Number::of),
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
