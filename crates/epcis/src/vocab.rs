//! Standard vocabulary terms of the GS1 EPCIS 2.0 JSON-LD context
//! (`https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld`).
//!
//! JSON-LD expansion turns these bare strings into Web URIs when they are the
//! value of the corresponding property (`"bizStep": "shipping"` becomes
//! `https://ref.gs1.org/cbv/BizStep-shipping`). Only the term lists matter for
//! the event hash, so they are kept here as data instead of shipping the whole
//! context document.

/// Namespace of the CBV Web vocabulary.
pub(crate) const CBV: &str = "https://ref.gs1.org/cbv/";
/// Namespace of the GS1 Web vocabulary.
pub(crate) const GS1_VOC: &str = "https://gs1.org/voc/";

/// The `urn:epcglobal:cbv:` vocabulary URN prefixes and the CBV Web URI
/// prefixes that stand for them (`urn:epcglobal:cbv:bizstep:shipping` is
/// `https://ref.gs1.org/cbv/BizStep-shipping`).
pub const CBV_URNS: [(&str, &str); 5] = [
    (
        "urn:epcglobal:cbv:bizstep:",
        "https://ref.gs1.org/cbv/BizStep-",
    ),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
];

/// Prefixes defined by the GS1 EPCIS 2.0 context itself. They take part in
/// JSON-LD expansion but (as in the reference implementation) not in the
/// renaming of keys and values, which only uses prefixes declared inline.
pub(crate) const CONTEXT_PREFIXES: &[(&str, &str)] = &[
    ("epcis", "https://ref.gs1.org/epcis/"),
    ("cbv", CBV),
    ("cbvmda", "urn:epcglobal:cbv:mda:"),
    ("gs1", GS1_VOC),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("dcterms", "http://purl.org/dc/terms/"),
];

/// A closed list of bare-string terms and the IRI prefix they expand to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TermSet {
    /// Expanded IRI = `prefix` + term.
    pub(crate) prefix: &'static str,
    pub(crate) terms: &'static [&'static str],
}

impl TermSet {
    /// The expanded IRI of `term`, if it belongs to this set.
    pub(crate) fn expand(&self, term: &str) -> Option<String> {
        self.terms
            .contains(&term)
            .then(|| format!("{}{term}", self.prefix))
    }
}

pub(crate) const BIZ_STEP: TermSet = TermSet {
    prefix: "https://ref.gs1.org/cbv/BizStep-",
    terms: &[
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    ],
};

pub(crate) const DISPOSITION: TermSet = TermSet {
    prefix: "https://ref.gs1.org/cbv/Disp-",
    terms: &[
        "active",
        "available",
        "completeness_verified",
        "completeness_inferred",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_instance",
        "mismatch_class",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    ],
};

pub(crate) const BIZ_TRANSACTION_TYPE: TermSet = TermSet {
    prefix: "https://ref.gs1.org/cbv/BTT-",
    terms: &[
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    ],
};

pub(crate) const SOURCE_DESTINATION_TYPE: TermSet = TermSet {
    prefix: "https://ref.gs1.org/cbv/SDT-",
    terms: &["owning_party", "possessing_party", "location"],
};

pub(crate) const ERROR_REASON: TermSet = TermSet {
    prefix: "https://ref.gs1.org/cbv/ER-",
    terms: &["did_not_occur", "incorrect_data"],
};

pub(crate) const COMPONENT: TermSet = TermSet {
    prefix: "https://ref.gs1.org/cbv/Comp-",
    terms: &[
        "x",
        "y",
        "z",
        "axial_distance",
        "azimuth",
        "height",
        "spherical_radius",
        "polar_angle",
        "elevation_angle",
        "easting",
        "northing",
        "latitude",
        "longitude",
        "altitude",
    ],
};

pub(crate) const SENSOR_ALERT: TermSet = TermSet {
    prefix: GS1_VOC,
    terms: &["ALARM_CONDITION", "ERROR_CONDITION"],
};

pub(crate) const MEASUREMENT_TYPE: TermSet = TermSet {
    prefix: GS1_VOC,
    terms: &[
        "AbsoluteHumidity",
        "AbsorbedDose",
        "AbsorbedDoseRate",
        "Acceleration",
        "Radioactivity",
        "Altitude",
        "AmountOfSubstance",
        "AmountOfSubstancePerUnitVolume",
        "Angle",
        "AngularAcceleration",
        "AngularMomentum",
        "AngularVelocity",
        "Area",
        "Capacitance",
        "Conductance",
        "Conductivity",
        "Count",
        "Density",
        "Dimensionless",
        "DoseEquivalent",
        "DoseEquivalentRate",
        "DynamicViscosity",
        "ElectricCharge",
        "ElectricCurrent",
        "ElectricCurrentDensity",
        "ElectricFieldStrength",
        "Energy",
        "Exposure",
        "Force",
        "Frequency",
        "Illuminance",
        "Inductance",
        "Irradiance",
        "KinematicViscosity",
        "Length",
        "LinearMomentum",
        "Luminance",
        "LuminousFlux",
        "LuminousIntensity",
        "MagneticFlux",
        "MagneticFluxDensity",
        "MagneticVectorPotential",
        "Mass",
        "MassConcentration",
        "MassFlowRate",
        "MassPerAreaTime",
        "MemoryCapacity",
        "MolalityOfSolute",
        "MolarEnergy",
        "MolarMass",
        "MolarVolume",
        "Power",
        "Pressure",
        "RadiantFlux",
        "RadiantIntensity",
        "RelativeHumidity",
        "Resistance",
        "Resistivity",
        "SolidAngle",
        "SpecificVolume",
        "Speed",
        "SurfaceDensity",
        "SurfaceTension",
        "Temperature",
        "Time",
        "Torque",
        "Voltage",
        "Volume",
        "VolumeFlowRate",
        "VolumeFraction",
        "VolumetricFlux",
        "Wavenumber",
    ],
};

/// Top-level terms of the GS1 context that JSON-LD expansion keeps (as
/// properties or keywords). Keys without a colon that are neither here nor in
/// a scoped context are dropped by expansion, together with their values.
pub(crate) const TOP_LEVEL_TERMS: &[&str] = &[
    "id",
    "type",
    "baseURL",
    "ObjectEvent",
    "AggregationEvent",
    "TransformationEvent",
    "AssociationEvent",
    "TransactionEvent",
    "Collection",
    "member",
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "action",
    "certificationInfo",
    "bizStep",
    "disposition",
    "bizLocation",
    "readPoint",
    "transformationID",
    "epcList",
    "sourceList",
    "destinationList",
    "persistentDisposition",
    "quantity",
    "epcClass",
    "uom",
    "quantityList",
    "bizTransactionList",
    "parentID",
    "childEPCs",
    "childQuantityList",
    "inputEPCList",
    "outputEPCList",
    "inputQuantityList",
    "outputQuantityList",
    "sensorElementList",
    "errorDeclaration",
    "eventID",
    "creationDate",
    "sender",
    "receiver",
    "instanceIdentifier",
    "schemaVersion",
    "ilmd",
    "EPCISDocument",
    "EPCISQueryDocument",
    "epcisHeader",
    "masterData",
    "vocabularyList",
    "epcisBody",
    "queryResults",
    "subscriptionID",
    "queryName",
    "resultsBody",
    "eventList",
    "children",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_expansion() {
        assert_eq!(
            BIZ_STEP.expand("shipping").as_deref(),
            Some("https://ref.gs1.org/cbv/BizStep-shipping")
        );
        assert_eq!(
            MEASUREMENT_TYPE.expand("Temperature").as_deref(),
            Some("https://gs1.org/voc/Temperature")
        );
        assert_eq!(BIZ_STEP.expand("Shipping"), None);
        assert_eq!(DISPOSITION.terms.len(), 33);
        assert_eq!(BIZ_STEP.terms.len(), 41);
        assert_eq!(MEASUREMENT_TYPE.terms.len(), 72);
    }
}
