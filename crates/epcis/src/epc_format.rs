//! The EPCIS 2.0 REST binding's `GS1-EPC-Format` header: writing the
//! identifiers of query answers as GS1 Digital Link URIs or as EPC URIs.
//! Pure: no I/O.
//!
//! The header takes one of four values ([`EpcFormat`]). [`rewrite_event`]
//! rewrites one EPCIS 2.0 JSON event as asked, [`rewrite_id`] one
//! identifier (for listings such as `/epcs`).
//!
//! ```
//! use oretrace_epcis::epc_format::{EpcFormat, rewrite_event};
//! use serde_json::json;
//!
//! let mut event = json!({
//!     "type": "ObjectEvent",
//!     "eventID": "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
//!     "epcList": ["urn:epc:id:sgtin:4012345.011111.9876", "urn:oretrace:lot:x"],
//!     "readPoint": {"id": "urn:epc:id:sgln:4012345.00005.0"}
//! });
//! let format = EpcFormat::parse("Always_GS1_Digital_Link").unwrap();
//! assert!(rewrite_event(&mut event, format));
//! assert_eq!(
//!     event["epcList"],
//!     json!(["https://id.gs1.org/01/04012345111118/21/9876", "urn:oretrace:lot:x"])
//! );
//! // Locations are not EPCs: they stay as captured.
//! assert_eq!(event["readPoint"]["id"], "urn:epc:id:sgln:4012345.00005.0");
//! ```
//!
//! # What is rewritten
//!
//! The EPCs and EPC classes of the event: `epcList`, `childEPCs`,
//! `inputEPCList`, `outputEPCList`, `parentID`, and `epcClass` in
//! `quantityList`, `childQuantityList`, `inputQuantityList` and
//! `outputQuantityList`, at the top level of the event. Nothing else: not
//! `eventID`, not `readPoint`, `bizLocation`, `sourceList` or
//! `destinationList` (location and party identifiers), not
//! `bizTransactionList`, `ilmd`, sensor data, `errorDeclaration` or
//! extensions. Values that are not strings, and members of the wrong shape
//! (an `epcList` that is not an array), are left alone. Lists keep their
//! length and order: a list that held a URN and the Digital Link of the same
//! object holds that Digital Link twice afterwards.
//!
//! # `Always_GS1_Digital_Link`
//!
//! An EPC URI (`urn:epc:id:…`), EPC class URI (`urn:epc:class:lgtin:…`) or
//! EPC pattern URI (`urn:epc:idpat:…`) becomes the Digital Link that
//! [`canonical_digital_link`] gives for it (the constrained canonical form on
//! `https://id.gs1.org/`, the form the CBV 2.0 event hash uses). A value that
//! already is a Digital Link is left *as captured* — it is not canonicalised,
//! so a Digital Link on a brand's own domain keeps that domain.
//!
//! Anything else is left as captured too. It makes the answer incomplete
//! (`false`) only when it is an EPC URI — any value starting `urn:epc:`,
//! ASCII case ignored — that has no Digital Link form here: a malformed GS1
//! key (`urn:epc:id:sgtin:4012345.0111111.9876`, an item reference one digit
//! too long), or an EPC scheme that is not a GS1 key and so has no Digital
//! Link at all (`urn:epc:id:gid:…`, `usdod`, `adi`, `bic`, `imovn`, tag and
//! raw URIs). Such a value is an EPC the client asked to see as a Digital
//! Link and does not get as one. A value that is not a GS1 identifier in any
//! form (a private URI such as `urn:oretrace:lot:fwo:sb-1`, an `http` URI
//! that is not a Digital Link) is outside what the header governs: it stays,
//! and the answer is still complete.
//!
//! # `Always_EPC_URN`: no Digital Link is converted
//!
//! EPC URIs stay as they are. A Digital Link would have to become an EPC URI,
//! and that needs something a Digital Link does not say: where the GS1
//! Company Prefix ends. An EPC URI writes the company prefix and the rest of
//! the key as separate fields, a Digital Link writes the key as one digit
//! string, and the prefix length (6 to 12 digits) is allocated by GS1 Member
//! Organisations, not encoded in the number. So
//! `https://id.gs1.org/01/04012345111118/21/9876` is
//! `urn:epc:id:sgtin:4012345.011111.9876` if the company prefix has seven
//! digits and `urn:epc:id:sgtin:401234.0511111.9876` if it has six — two
//! well-formed URIs, and [`canonical_digital_link`] maps both to that one
//! Digital Link. The same holds for every key with a company prefix (SSCC,
//! GLN, GRAI, GIAI, GSRN, GDTI, CPI, GCN, GINC, GSIN, ITIP, UPUI, PGLN,
//! LGTIN). The GS1 Tag Data Standard's Digital Link → EPC translation takes
//! the company prefix length as an input; GS1 publishes a table of prefix
//! lengths by leading digits, and without that table (or the owner's word)
//! no rule gives the length. This module has no such table and does not
//! guess: a Digital Link of a GS1 key stays as captured and makes the
//! answer incomplete (`false`). A value that is neither an EPC URI nor a
//! Digital Link [`canonical_digital_link`] recognises stays and does not.
//!
//! # `No_Preference` and `Never_Translates`
//!
//! Nothing changes; the answer is complete. The identifiers are returned as
//! they were captured, which is what `Never_Translates` asks for and one of
//! the answers `No_Preference` allows.
//!
//! # The header's default
//!
//! What to do when the header is absent is the caller's choice; this module
//! has no default. Note that the official OpenAPI document
//! (`epcis-rest-openapi.yaml`, parameter `GS1-EPC-Format`) says "If absent
//! the default value is `Always_GS1_Digital_Link`".

use serde_json::Value;

use crate::dl::canonical_digital_link;

/// A value of the `GS1-EPC-Format` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EpcFormat {
    /// `No_Preference`: the client accepts any form; identifiers are left as
    /// captured.
    NoPreference,
    /// `Always_GS1_Digital_Link`: EPC URIs become GS1 Digital Link URIs.
    AlwaysDigitalLink,
    /// `Always_EPC_URN`: identifiers as EPC URIs (Digital Links stay: see the
    /// [module documentation](self)).
    AlwaysEpcUrn,
    /// `Never_Translates`: identifiers exactly as captured.
    NeverTranslates,
}

impl EpcFormat {
    /// The format a header value names: exactly one of `No_Preference`,
    /// `Always_GS1_Digital_Link`, `Always_EPC_URN`, `Never_Translates`
    /// (case-sensitive, as the OpenAPI enumeration is), with surrounding
    /// spaces and tabs ignored. `None` for anything else.
    #[must_use]
    pub fn parse(header: &str) -> Option<Self> {
        match header.trim_matches([' ', '\t']) {
            "No_Preference" => Some(Self::NoPreference),
            "Always_GS1_Digital_Link" => Some(Self::AlwaysDigitalLink),
            "Always_EPC_URN" => Some(Self::AlwaysEpcUrn),
            "Never_Translates" => Some(Self::NeverTranslates),
            _ => None,
        }
    }

    /// The header value, as the OpenAPI enumeration spells it.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NoPreference => "No_Preference",
            Self::AlwaysDigitalLink => "Always_GS1_Digital_Link",
            Self::AlwaysEpcUrn => "Always_EPC_URN",
            Self::NeverTranslates => "Never_Translates",
        }
    }
}

/// The event members that hold a list of EPCs.
const EPC_LISTS: [&str; 4] = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];

/// The event members that hold a list of quantity elements (`epcClass`,
/// `quantity`, `uom`).
const QUANTITY_LISTS: [&str; 4] = [
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
];

/// What becomes of one identifier.
enum Outcome {
    /// Written in the asked form as this new value.
    Rewritten(String),
    /// Left as it is, which is what was asked (already in the form, not
    /// governed by the header, or no translation asked for).
    AsAsked,
    /// Left as it is although another form was asked: no conversion exists.
    Untranslatable,
}

/// Whether `id` is an EPC URI of any kind (`urn:epc:id:`, `urn:epc:class:`,
/// `urn:epc:idpat:`, `urn:epc:tag:`, `urn:epc:raw:` …), ASCII case ignored.
fn is_epc_uri(id: &str) -> bool {
    id.get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("urn:epc:"))
}

fn translate(id: &str, format: EpcFormat) -> Outcome {
    match format {
        EpcFormat::NoPreference | EpcFormat::NeverTranslates => Outcome::AsAsked,
        EpcFormat::AlwaysDigitalLink if is_epc_uri(id) => match canonical_digital_link(id) {
            Some(digital_link) => Outcome::Rewritten(digital_link),
            None => Outcome::Untranslatable,
        },
        EpcFormat::AlwaysDigitalLink => Outcome::AsAsked,
        EpcFormat::AlwaysEpcUrn if !is_epc_uri(id) && canonical_digital_link(id).is_some() => {
            Outcome::Untranslatable
        }
        EpcFormat::AlwaysEpcUrn => Outcome::AsAsked,
    }
}

/// One identifier in the form `format` asks for: `Some` with the new value
/// when it is rewritten, `None` when it is left as it is — because it already
/// is in that form, is not a GS1 identifier, has no such form, or `format`
/// asks for no translation. See the [module documentation](self).
///
/// ```
/// use oretrace_epcis::epc_format::{EpcFormat, rewrite_id};
/// assert_eq!(
///     rewrite_id("urn:epc:id:sscc:4012345.0000000333", EpcFormat::AlwaysDigitalLink).as_deref(),
///     Some("https://id.gs1.org/00/040123450000003338")
/// );
/// // The company prefix length is unknown: no EPC URI is guessed.
/// assert_eq!(
///     rewrite_id("https://id.gs1.org/00/040123450000003338", EpcFormat::AlwaysEpcUrn),
///     None
/// );
/// ```
#[must_use]
pub fn rewrite_id(id: &str, format: EpcFormat) -> Option<String> {
    match translate(id, format) {
        Outcome::Rewritten(rewritten) => Some(rewritten),
        Outcome::AsAsked | Outcome::Untranslatable => None,
    }
}

/// Rewrites, in place, the EPCs and EPC classes of one EPCIS 2.0 JSON event
/// as `format` asks (the members listed in the
/// [module documentation](self); never `eventID` or location and party
/// identifiers).
///
/// Returns whether every identifier is now in the asked form: `false` when
/// some stayed as they were because no conversion exists (an EPC URI with no
/// Digital Link form under `Always_GS1_Digital_Link`, a Digital Link of a GS1
/// key under `Always_EPC_URN`). Values that are not GS1 identifiers stay and
/// do not make the answer `false`; neither does an `event` that is not a
/// JSON object (it is left alone).
pub fn rewrite_event(event: &mut Value, format: EpcFormat) -> bool {
    if matches!(format, EpcFormat::NoPreference | EpcFormat::NeverTranslates) {
        return true;
    }
    let Value::Object(members) = event else {
        return true;
    };
    let mut complete = true;
    let mut rewrite = |slot: &mut Value| {
        if let Value::String(id) = slot {
            match translate(id, format) {
                Outcome::Rewritten(rewritten) => *id = rewritten,
                Outcome::AsAsked => {}
                Outcome::Untranslatable => complete = false,
            }
        }
    };
    if let Some(parent) = members.get_mut("parentID") {
        rewrite(parent);
    }
    for key in EPC_LISTS {
        if let Some(Value::Array(ids)) = members.get_mut(key) {
            ids.iter_mut().for_each(&mut rewrite);
        }
    }
    for key in QUANTITY_LISTS {
        if let Some(Value::Array(elements)) = members.get_mut(key) {
            for element in elements {
                if let Some(class) = element.get_mut("epcClass") {
                    rewrite(class);
                }
            }
        }
    }
    complete
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epc_uris_are_recognised_by_scheme_only() {
        assert!(is_epc_uri("urn:epc:id:sgtin:4012345.011111.9876"));
        assert!(is_epc_uri("URN:EPC:class:lgtin:4012345.011111.A"));
        assert!(is_epc_uri("urn:epc:id:gid:95100000.12345.400"));
        assert!(!is_epc_uri("urn:epcglobal:cbv:bt:0614141073467:1152"));
        assert!(!is_epc_uri("urn:epc"));
        assert!(!is_epc_uri("urn:ep€:x"));
    }
}
