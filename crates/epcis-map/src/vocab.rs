//! Standard vocabulary as the mapping reads and writes it: CBV terms in
//! their bare, URN and Web URI forms, UN/ECE Rec. 20 unit codes, and the
//! registry's own terms under [`crate::NAMESPACE`].

use oretrace_domain::chemistry::GradeUnit;
use oretrace_domain::record::DocumentKind;
use oretrace_domain::values::MassUnit;
use oretrace_epcis::CBV_URNS;

use crate::NAMESPACE;

/// A CBV vocabulary, by its Web URI class name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cbv {
    BizStep,
    BizTransactionType,
    SourceDestinationType,
}

impl Cbv {
    fn web(self) -> &'static str {
        match self {
            Cbv::BizStep => "BizStep-",
            Cbv::BizTransactionType => "BTT-",
            Cbv::SourceDestinationType => "SDT-",
        }
    }
}

/// Web URI namespaces under which CBV terms appear (`cbv:` is the GS1
/// context's prefix for the first).
const CBV_NAMESPACES: &[&str] = &[
    "https://ref.gs1.org/cbv/",
    "http://ref.gs1.org/cbv/",
    "https://gs1.org/voc/",
    "http://gs1.org/voc/",
    "https://ref.gs1.org/voc/",
];

/// The bare CBV term of `value` (`shipping` for `shipping`,
/// `urn:epcglobal:cbv:bizstep:shipping`, `cbv:BizStep-shipping` or
/// `https://ref.gs1.org/cbv/BizStep-shipping`); `None` for any other URI.
/// `value` has had inline-declared prefixes expanded already.
pub(crate) fn cbv_term(value: &str, vocabulary: Cbv) -> Option<&str> {
    if !value.contains(':') {
        return Some(value);
    }
    if let Some((web, term)) = CBV_URNS
        .iter()
        .find_map(|(urn, web)| Some((web, value.strip_prefix(urn)?)))
    {
        let class = web.rsplit_once('/').map(|(_, class)| class);
        return (class == Some(vocabulary.web())).then_some(term);
    }
    let tail = value.strip_prefix("cbv:").or_else(|| {
        CBV_NAMESPACES
            .iter()
            .find_map(|namespace| value.strip_prefix(namespace))
    })?;
    tail.strip_prefix(vocabulary.web())
}

/// Whether a sensor report `type` is the GS1 measurement type
/// `Dimensionless` (a grade is a mass fraction).
pub(crate) fn is_dimensionless(value: &str) -> bool {
    const TERM: &str = "Dimensionless";
    value == TERM
        || value
            .strip_prefix("gs1:")
            .or_else(|| {
                CBV_NAMESPACES
                    .iter()
                    .find_map(|namespace| value.strip_prefix(namespace))
            })
            .and_then(|tail| tail.strip_prefix("MT-"))
            == Some(TERM)
}

/// The bare measurement type written for a grade.
pub(crate) const GRADE_MEASUREMENT: &str = "Dimensionless";

pub(crate) fn mass_uom(unit: MassUnit) -> &'static str {
    match unit {
        MassUnit::Kilogram => "KGM",
        MassUnit::Tonne => "TNE",
    }
}

pub(crate) fn mass_unit(uom: &str) -> Option<MassUnit> {
    match uom {
        "KGM" => Some(MassUnit::Kilogram),
        "TNE" => Some(MassUnit::Tonne),
        _ => None,
    }
}

/// The Rec. 20 code for a mass unit written as a symbol or word (`kg`,
/// `t`, `tonnes`…), to suggest it.
pub fn suggested_mass_uom(symbol: &str) -> Option<&'static str> {
    match symbol.trim().to_ascii_lowercase().as_str() {
        "kg" | "kgs" | "kilogram" | "kilograms" | "kgm" => Some("KGM"),
        "t" | "mt" | "tonne" | "tonnes" | "metric ton" | "tne" => Some("TNE"),
        _ => None,
    }
}

/// What to add to a schema violation at `pointer` in `document` where the
/// fix is known: a `uom` of `kg` or `t` (a symbol, not the UN/ECE Rec. 20
/// code the schema asks for) names `KGM` or `TNE`. The one wording for the
/// server's problems and `oretrace epcis validate`.
pub fn violation_hint(document: &serde_json::Value, pointer: &str) -> Option<String> {
    if !pointer.ends_with("/uom") {
        return None;
    }
    let code = document
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .and_then(suggested_mass_uom)?;
    Some(format!(
        " (for a mass write {code}, its UN/ECE Rec. 20 code)"
    ))
}

/// UN/ECE Rec. 20: `P1` percent, `59` part per million, `NA` milligram per
/// kilogram (the same ratio as grams per tonne, kept apart so the record's
/// unit survives).
pub(crate) fn grade_uom(unit: GradeUnit) -> &'static str {
    match unit {
        GradeUnit::Percent => "P1",
        GradeUnit::Ppm => "59",
        GradeUnit::GramsPerTonne => "NA",
    }
}

pub(crate) fn grade_unit(uom: &str) -> Option<GradeUnit> {
    match uom {
        "P1" => Some(GradeUnit::Percent),
        "59" => Some(GradeUnit::Ppm),
        "NA" => Some(GradeUnit::GramsPerTonne),
        _ => None,
    }
}

/// Where the registry's own business-transaction types live:
/// `https://oretrace.org/epcis/btt/<kind>`.
pub(crate) fn registry_btt_prefix() -> String {
    format!("{NAMESPACE}btt/")
}

/// The `bizTransactionList` type of a document kind: the CBV term where
/// CBV has one, the registry's type URI otherwise.
pub(crate) fn document_type(kind: DocumentKind) -> String {
    match kind {
        DocumentKind::BillOfLading => "bol".to_owned(),
        DocumentKind::Invoice => "inv".to_owned(),
        DocumentKind::PurchaseOrder => "po".to_owned(),
        DocumentKind::ExportPermit | DocumentKind::CustomsDeclaration | DocumentKind::Other => {
            format!("{}{}", registry_btt_prefix(), kind.as_str())
        }
    }
}

/// The document kind of a `bizTransactionList` type. `Ok(None)` means no
/// kind of the registry's own (a CBV type such as `desadv`, another
/// organisation's URI, or no type): the document is `other`. `Err` carries
/// the unknown term of the registry's namespace.
pub(crate) fn document_kind(bt_type: Option<&str>) -> Result<Option<DocumentKind>, String> {
    let Some(bt_type) = bt_type else {
        return Ok(None);
    };
    if let Some(term) = bt_type.strip_prefix(&registry_btt_prefix()) {
        return match DocumentKind::parse(term) {
            Ok(
                kind @ (DocumentKind::ExportPermit
                | DocumentKind::CustomsDeclaration
                | DocumentKind::Other),
            ) => Ok(Some(kind)),
            _ => Err(term.to_owned()),
        };
    }
    Ok(match cbv_term(bt_type, Cbv::BizTransactionType) {
        Some("bol") => Some(DocumentKind::BillOfLading),
        Some("inv") => Some(DocumentKind::Invoice),
        Some("po") => Some(DocumentKind::PurchaseOrder),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mass_symbol_as_uom_gets_its_rec20_code_named() {
        let doc =
            serde_json::json!({"q": [{"uom": "kg"}, {"uom": "t"}, {"uom": "LTR"}], "uom": "kg"});
        assert_eq!(
            violation_hint(&doc, "/q/0/uom").as_deref(),
            Some(" (for a mass write KGM, its UN/ECE Rec. 20 code)")
        );
        assert_eq!(
            violation_hint(&doc, "/q/1/uom").as_deref(),
            Some(" (for a mass write TNE, its UN/ECE Rec. 20 code)")
        );
        assert_eq!(violation_hint(&doc, "/q/2/uom"), None);
        assert_eq!(violation_hint(&doc, "/q/3/uom"), None);
        assert_eq!(violation_hint(&doc, "/q/0"), None);
        assert!(violation_hint(&doc, "/uom").is_some());
    }

    #[test]
    fn cbv_terms_in_every_form() {
        for value in [
            "shipping",
            "urn:epcglobal:cbv:bizstep:shipping",
            "cbv:BizStep-shipping",
            "https://ref.gs1.org/cbv/BizStep-shipping",
            "https://gs1.org/voc/BizStep-shipping",
        ] {
            assert_eq!(cbv_term(value, Cbv::BizStep), Some("shipping"), "{value}");
        }
        assert_eq!(
            cbv_term("https://ref.gs1.org/cbv/Disp-in_transit", Cbv::BizStep),
            None
        );
        assert_eq!(
            cbv_term("urn:epcglobal:cbv:btt:po", Cbv::BizTransactionType),
            Some("po")
        );
        assert_eq!(
            cbv_term(
                "urn:epcglobal:cbv:sdt:owning_party",
                Cbv::SourceDestinationType
            ),
            Some("owning_party")
        );
        for (value, vocabulary) in [
            ("urn:epcglobal:cbv:disp:in_transit", Cbv::BizStep),
            (
                "urn:epcglobal:cbv:sdt:owning_party",
                Cbv::BizTransactionType,
            ),
            ("urn:epcglobal:cbv:btt:po", Cbv::SourceDestinationType),
        ] {
            assert_eq!(cbv_term(value, vocabulary), None, "{value}");
        }
        assert_eq!(
            cbv_term("http://epcis.example.org/hc/bizstep/x", Cbv::BizStep),
            None
        );
        assert!(is_dimensionless("gs1:MT-Dimensionless"));
        assert!(is_dimensionless("https://gs1.org/voc/MT-Dimensionless"));
        assert!(!is_dimensionless("MassConcentration"));
    }

    #[test]
    fn document_kinds_round_trip() {
        for kind in DocumentKind::ALL {
            assert_eq!(document_kind(Some(&document_type(*kind))), Ok(Some(*kind)));
        }
        assert_eq!(document_kind(Some("desadv")), Ok(None));
        assert_eq!(document_kind(None), Ok(None));
        assert_eq!(
            document_kind(Some("https://oretrace.org/epcis/btt/bol")),
            Err("bol".to_owned())
        );
    }
}
