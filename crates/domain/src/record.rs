//! The record kinds and the rules each record checks on its own. Rules
//! that need the registry's state (custody, existence, keys) belong to the
//! ledger's authorisation stage.

use rust_decimal::Decimal;

use oretrace_tlog::note::{NoteVerifier, SIG_TYPE_ED25519};

use crate::Error;
use crate::agreement::{Agreement, Countersignature, Progress, Report, ResourceEstimate, Reveal};
use crate::chemistry::{Analyte, GradeUnit};
use crate::custody::{AttributeClaim, CustodyModel};
use crate::event::CapturedEvent;
use crate::values::{
    Coordinates, Country, Digest, LotId, Mass, PartyId, SiteId, Text, Timestamp, Token, percent,
};

/// Most keys a party may list; most lots one shipment, receipt or
/// transformation may name.
pub const MAX_KEYS: usize = 8;
pub const MAX_ITEMS: usize = 256;

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:expr),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn parse(text: &str) -> Result<Self, Error> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::invalid("", format!(
                        "{text:?} is not one of: {}",
                        [$($text),+].join(", ")
                    ))),
                }
            }

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use vocabulary;

vocabulary!(
    /// What kind of organisation a party is.
    PartyKind {
        Company => "company",
        StateBody => "state-body",
        Government => "government",
        StateControlledCompany => "state-controlled-company",
        Laboratory => "laboratory",
        RegistryOperator => "registry-operator",
        Other => "other",
    }
);

vocabulary!(
    /// What kind of place a site is.
    SiteKind {
        ExplorationArea => "exploration-area",
        Mine => "mine",
        Laboratory => "laboratory",
        Concentrator => "concentrator",
        Refinery => "refinery",
        Port => "port",
        Warehouse => "warehouse",
        ReceivingPlant => "receiving-plant",
    }
);

vocabulary!(
    /// The physical form of a lot.
    LotForm {
        Sample => "sample",
        Ore => "ore",
        Concentrate => "concentrate",
        Compound => "compound",
        Oxide => "oxide",
        Metal => "metal",
        Alloy => "alloy",
        Cathode => "cathode",
        Magnet => "magnet",
        Consignment => "consignment",
    }
);

vocabulary!(
    /// Whether a grade is on the dry or the wet mass.
    Basis {
        Dry => "dry",
        Wet => "wet",
    }
);

vocabulary!(
    /// Kinds of trade document a shipment refers to (CBV `bizTransaction`
    /// types: bill of lading, invoice, purchase order, export permit…).
    DocumentKind {
        BillOfLading => "bol",
        Invoice => "inv",
        PurchaseOrder => "po",
        ExportPermit => "export-permit",
        CustomsDeclaration => "customs-declaration",
        Other => "other",
    }
);

/// Whether the figures of a record are reported facts or illustrative
/// (invented for a demonstration). Every view shows illustrative figures
/// as such.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Figures {
    #[default]
    Reported,
    Illustrative,
}

impl Figures {
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "reported" => Ok(Figures::Reported),
            "illustrative" => Ok(Figures::Illustrative),
            _ => Err(Error::invalid(
                "",
                "figures are \"reported\" or \"illustrative\"",
            )),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Figures::Reported => "reported",
            Figures::Illustrative => "illustrative",
        }
    }
}

/// A stake one party holds in another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ownership {
    pub owner: PartyId,
    /// Percent of the equity, 0–100.
    pub share: Decimal,
    /// Whether the owner controls the party (by share, golden share, law).
    pub controls: bool,
}

/// A party registers itself, its keys and who owns or controls it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub id: PartyId,
    pub name: Text,
    pub kind: PartyKind,
    pub country: Country,
    /// Ed25519 signed-note keys; each key name is `<party id>/<label>`.
    pub keys: Vec<NoteVerifier>,
    pub owners: Vec<Ownership>,
    pub time: Timestamp,
    pub figures: Figures,
}

impl Party {
    pub fn check(&self) -> Result<(), Error> {
        if self.keys.is_empty() || self.keys.len() > MAX_KEYS {
            return Err(Error::invalid(
                "keys",
                format!("a party lists 1 to {MAX_KEYS} keys"),
            ));
        }
        let prefix = format!("{}/", self.id);
        for (i, key) in self.keys.iter().enumerate() {
            if key.sig_type() != SIG_TYPE_ED25519 {
                return Err(Error::invalid(
                    format!("keys[{i}]"),
                    "party keys are Ed25519 note keys (type 0x01)",
                ));
            }
            if !key.name().starts_with(&prefix) {
                return Err(Error::invalid(
                    format!("keys[{i}]"),
                    format!("the key name must start with {prefix}"),
                ));
            }
            if self.keys[..i]
                .iter()
                .any(|k| k.name() == key.name() && k.key_id() == key.key_id())
            {
                return Err(Error::invalid(
                    format!("keys[{i}]"),
                    "the same key is listed twice",
                ));
            }
        }
        let mut total = Decimal::ZERO;
        for (i, o) in self.owners.iter().enumerate() {
            let field = format!("owners[{i}]");
            percent(o.share, false).map_err(|e| e.within(&format!("{field}.share_percent")))?;
            if o.owner == self.id {
                return Err(Error::invalid(
                    format!("{field}.owner"),
                    "a party cannot own itself",
                ));
            }
            total += o.share;
        }
        if total > Decimal::from(100) {
            return Err(Error::invalid(
                "owners",
                "ownership shares add up to more than 100 %",
            ));
        }
        Ok(())
    }
}

/// A place where material is found, processed, stored or handed over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub name: Text,
    pub kind: SiteKind,
    pub operator: PartyId,
    pub country: Country,
    pub location: Coordinates,
    /// True when the coordinates are an approximation.
    pub approximate: bool,
    pub time: Timestamp,
    pub figures: Figures,
}

/// A lot commissioned at a site: a sample, a stockpile, a bag, a consignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    pub id: LotId,
    pub commodity: Token,
    pub form: LotForm,
    pub site: SiteId,
    pub wet_mass: Mass,
    /// Moisture in percent of the wet mass, 0 ≤ m < 100.
    pub moisture: Decimal,
    pub time: Timestamp,
    pub figures: Figures,
}

impl Lot {
    pub fn check(&self) -> Result<(), Error> {
        percent(self.moisture, true).map_err(|e| e.within("moisture_percent"))?;
        Ok(())
    }

    /// Dry mass in kg: wet × (1 − moisture).
    pub fn dry_kilograms(&self) -> Decimal {
        self.wet_mass.kilograms() * (Decimal::ONE - self.moisture / Decimal::from(100))
    }
}

/// A laboratory's measurement of one analyte in a lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assay {
    pub lot: LotId,
    pub analyte: Analyte,
    pub value: Decimal,
    pub unit: GradeUnit,
    pub basis: Basis,
    /// The stated uncertainty of the value (±, in the same unit and on the
    /// same basis as the value), when the laboratory gives one: mass
    /// balance allows out to exceed in by no more than the stated
    /// uncertainties, and reconciliation compares grades within them.
    pub uncertainty: Option<Decimal>,
    pub method: Text,
    pub laboratory: PartyId,
    /// SHA-256 of the assay certificate.
    pub certificate: Digest,
    pub time: Timestamp,
    pub figures: Figures,
}

impl Assay {
    pub fn check(&self) -> Result<(), Error> {
        if self.value.is_sign_negative() && !self.value.is_zero() {
            return Err(Error::invalid("value", "a grade may not be negative"));
        }
        if self.unit.to_percent(self.value) > Decimal::from(100) {
            return Err(Error::invalid("value", "a grade may not exceed 100 %"));
        }
        if let Some(u) = self.uncertainty {
            if u.is_sign_negative() && !u.is_zero() {
                return Err(Error::invalid(
                    "uncertainty",
                    "an uncertainty is a non-negative ± value",
                ));
            }
            if self.unit.to_percent(u) > Decimal::from(100) {
                return Err(Error::invalid(
                    "uncertainty",
                    "an uncertainty may not exceed 100 %",
                ));
            }
        }
        Ok(())
    }

    /// The grade of the analyte's element, in percent.
    pub fn element_percent(&self) -> Decimal {
        self.analyte
            .to_element_grade(self.unit.to_percent(self.value))
    }
}

/// A reference to a trade document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub kind: DocumentKind,
    pub reference: Text,
}

/// The custodian sends lots to a receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shipment {
    pub id: Token,
    pub lots: Vec<LotId>,
    pub from: SiteId,
    pub to: SiteId,
    /// Sites the material passes through (ports), in order.
    pub via: Vec<SiteId>,
    pub receiver: PartyId,
    pub documents: Vec<Document>,
    pub time: Timestamp,
    pub figures: Figures,
}

/// The receiver takes custody of a shipment's lots, with masses as weighed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub shipment: Token,
    pub site: SiteId,
    pub lots: Vec<(LotId, Mass)>,
    pub time: Timestamp,
    pub figures: Figures,
}

/// A lot produced by a transformation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputLot {
    pub id: LotId,
    pub commodity: Token,
    pub form: LotForm,
    pub wet_mass: Mass,
    pub moisture: Decimal,
}

/// Processing: input lots (with the mass consumed) become output lots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transformation {
    pub id: Token,
    pub site: SiteId,
    pub process: Text,
    pub inputs: Vec<(LotId, Mass)>,
    pub outputs: Vec<OutputLot>,
    pub time: Timestamp,
    pub figures: Figures,
}

/// One signed claim, of one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Party(Party),
    Site(Site),
    Lot(Lot),
    Assay(Assay),
    Shipment(Shipment),
    Receipt(Receipt),
    Transformation(Transformation),
    /// An EPCIS event captured through the EPCIS interface.
    Event(CapturedEvent),
    /// One version of an agreement.
    Agreement(Agreement),
    /// A party confirms a version of an agreement.
    Countersignature(Countersignature),
    /// Clauses of a sealed version revealed.
    Disclosure(Reveal),
    /// Progress on a pledge or milestone.
    Progress(Progress),
    /// An unconfirmed public claim.
    Report(Report),
    /// A resource or reserve estimate for a deposit.
    Resource(ResourceEstimate),
    /// A site's chain-of-custody model for an attribute and a period.
    CustodyModel(CustodyModel),
    /// An output lot claims an attribute for a share of an element.
    AttributeClaim(AttributeClaim),
}

fn check_items<T>(items: &[T], field: &str, min: usize) -> Result<(), Error> {
    if items.len() < min || items.len() > MAX_ITEMS {
        return Err(Error::invalid(
            field,
            format!("lists {min} to {MAX_ITEMS} items"),
        ));
    }
    Ok(())
}

fn check_unique<T: PartialEq>(items: &[T], field: &str) -> Result<(), Error> {
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err(Error::invalid(format!("{field}[{i}]"), "is listed twice"));
        }
    }
    Ok(())
}

impl Record {
    /// Every kind's name, as written in canonical bytes and JSON, in the
    /// order of the variants. [`Record::kind`] reads its name from here
    /// through an exhaustive match, so a new kind cannot be left out of
    /// the list (the golden test asks a golden file of each).
    pub const KINDS: [&'static str; 16] = [
        "party",
        "site",
        "lot",
        "assay",
        "shipment",
        "receipt",
        "transformation",
        "epcis-event",
        "agreement",
        "countersignature",
        "disclosure",
        "progress",
        "report",
        "resource",
        "custody-model",
        "attribute-claim",
    ];

    /// The kind's name, as written in canonical bytes and JSON.
    pub fn kind(&self) -> &'static str {
        Self::KINDS[self.kind_index()]
    }

    fn kind_index(&self) -> usize {
        match self {
            Record::Party(_) => 0,
            Record::Site(_) => 1,
            Record::Lot(_) => 2,
            Record::Assay(_) => 3,
            Record::Shipment(_) => 4,
            Record::Receipt(_) => 5,
            Record::Transformation(_) => 6,
            Record::Event(_) => 7,
            Record::Agreement(_) => 8,
            Record::Countersignature(_) => 9,
            Record::Disclosure(_) => 10,
            Record::Progress(_) => 11,
            Record::Report(_) => 12,
            Record::Resource(_) => 13,
            Record::CustodyModel(_) => 14,
            Record::AttributeClaim(_) => 15,
        }
    }

    pub fn time(&self) -> Timestamp {
        match self {
            Record::Party(r) => r.time,
            Record::Site(r) => r.time,
            Record::Lot(r) => r.time,
            Record::Assay(r) => r.time,
            Record::Shipment(r) => r.time,
            Record::Receipt(r) => r.time,
            Record::Transformation(r) => r.time,
            Record::Event(r) => r.time(),
            Record::Agreement(r) => r.time,
            Record::Countersignature(r) => r.time,
            Record::Disclosure(r) => r.time,
            Record::Progress(r) => r.time,
            Record::Report(r) => r.time,
            Record::Resource(r) => r.time,
            Record::CustodyModel(r) => r.time,
            Record::AttributeClaim(r) => r.time,
        }
    }

    pub fn figures(&self) -> Figures {
        match self {
            Record::Party(r) => r.figures,
            Record::Site(r) => r.figures,
            Record::Lot(r) => r.figures,
            Record::Assay(r) => r.figures,
            Record::Shipment(r) => r.figures,
            Record::Receipt(r) => r.figures,
            Record::Transformation(r) => r.figures,
            Record::Event(r) => r.figures(),
            Record::Agreement(r) => r.figures,
            Record::Countersignature(r) => r.figures,
            Record::Disclosure(r) => r.figures,
            Record::Progress(r) => r.figures,
            Record::Report(r) => r.figures,
            Record::Resource(r) => r.figures,
            Record::CustodyModel(r) => r.figures,
            Record::AttributeClaim(r) => r.figures,
        }
    }

    /// The rules a record checks on its own, whatever the registry holds.
    pub fn check(&self) -> Result<(), Error> {
        match self {
            Record::Party(p) => p.check(),
            Record::Site(_) => Ok(()),
            Record::Event(e) => e.check(),
            Record::Lot(l) => l.check(),
            Record::Assay(a) => a.check(),
            Record::Agreement(a) => a.check(),
            Record::Countersignature(c) => c.check(),
            Record::Disclosure(d) => d.check(),
            Record::Progress(p) => p.check(),
            Record::Report(r) => r.check(),
            Record::Resource(r) => r.check(),
            Record::CustodyModel(m) => m.check(),
            Record::AttributeClaim(c) => c.check(),
            Record::Shipment(s) => {
                check_items(&s.lots, "lots", 1)?;
                check_unique(&s.lots, "lots")?;
                check_items(&s.via, "via", 0)?;
                check_items(&s.documents, "documents", 0)?;
                if s.from == s.to {
                    return Err(Error::invalid("to", "a shipment goes to another site"));
                }
                Ok(())
            }
            Record::Receipt(r) => {
                check_items(&r.lots, "lots", 1)?;
                let ids: Vec<&LotId> = r.lots.iter().map(|(id, _)| id).collect();
                check_unique(&ids, "lots")
            }
            Record::Transformation(t) => {
                check_items(&t.inputs, "inputs", 1)?;
                check_items(&t.outputs, "outputs", 1)?;
                let inputs: Vec<&LotId> = t.inputs.iter().map(|(id, _)| id).collect();
                check_unique(&inputs, "inputs")?;
                let outputs: Vec<&LotId> = t.outputs.iter().map(|o| &o.id).collect();
                check_unique(&outputs, "outputs")?;
                for (i, o) in t.outputs.iter().enumerate() {
                    if inputs.contains(&&o.id) {
                        return Err(Error::invalid(
                            format!("outputs[{i}].id"),
                            "an output cannot be one of the inputs",
                        ));
                    }
                    percent(o.moisture, true)
                        .map_err(|e| e.within(&format!("outputs[{i}].moisture_percent")))?;
                }
                Ok(())
            }
        }
    }
}
