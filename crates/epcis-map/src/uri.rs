//! The registry's URIs: sites, parties, certificates, transformations, and
//! free text (a method, a document reference) carried where EPCIS wants a
//! URI.

use oretrace_domain::values::{PartyId, SiteId, Text};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::MapError;

pub(crate) const SITE: &str = "urn:oretrace:site:";
pub(crate) const PARTY: &str = "urn:oretrace:party:";
pub(crate) const CERTIFICATE: &str = "urn:oretrace:certificate:sha256:";
pub(crate) const TRANSFORMATION: &str = "urn:oretrace:transformation:";
pub(crate) const DOCUMENT: &str = "urn:oretrace:doc:";

/// `urn:oretrace:site:<id>`.
pub fn site_uri(id: &SiteId) -> String {
    format!("{SITE}{id}")
}

/// `urn:oretrace:party:<id>`.
pub fn party_uri(id: &PartyId) -> String {
    format!("{PARTY}{id}")
}

/// The site a `urn:oretrace:site:<id>` names.
pub fn parse_site_uri(uri: &str) -> Option<SiteId> {
    SiteId::parse(uri.strip_prefix(SITE)?).ok()
}

/// The party a `urn:oretrace:party:<id>` names.
pub fn parse_party_uri(uri: &str) -> Option<PartyId> {
    PartyId::parse(uri.strip_prefix(PARTY)?).ok()
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes every byte but RFC 3986's unreserved characters: an
/// identifier made fit for one URL path segment or query value.
pub fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, NOT_UNRESERVED).to_string()
}

/// Decodes `%HH` escapes; `None` for a broken escape or bytes that are not
/// UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let escapes_whole = bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'%')
        .all(|(i, _)| {
            bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
        });
    if !escapes_whole {
        return None;
    }
    let decoded = percent_decode_str(text).decode_utf8().ok()?;
    Some(decoded.into_owned())
}

/// Whether `text` is certainly an RFC 3986 URI without an authority:
/// `scheme ":" path-rootless [ "?" query ]`, ASCII, valid `%HH` escapes.
/// (Conservative: URIs with `//`, `[`, `]` or `#` are not recognised.)
pub(crate) fn is_plain_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || rest.is_empty() || rest.starts_with('/') {
        return false;
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if !bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
            continue;
        }
        if !(unreserved(b) || b"!$&'()*+,;=:@/?".contains(&b)) {
            return false;
        }
        i += 1;
    }
    true
}

/// Free text as a URI: the text itself when it is a plain URI (and does
/// not start with `prefix`), otherwise `prefix` + the percent-encoded text.
pub(crate) fn text_uri(prefix: &str, text: &Text) -> String {
    let text = text.as_str();
    if is_plain_uri(text) && !text.starts_with(prefix) {
        text.to_owned()
    } else {
        format!("{prefix}{}", percent_encode(text))
    }
}

/// The free text a URI from [`text_uri`] carries; any other URI is taken as
/// the text itself.
pub(crate) fn uri_text(prefix: &str, uri: &str, field: &str) -> Result<Text, MapError> {
    let text = match uri.strip_prefix(prefix) {
        Some(encoded) => percent_decode(encoded).ok_or_else(|| {
            MapError::invalid(
                field,
                format!("{uri:?} has a broken percent-escape or is not UTF-8"),
            )
        })?,
        None => uri.to_owned(),
    };
    Text::parse(&text).map_err(|e| MapError::domain(field, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_through_uris() {
        for text in [
            "ICP-OES after digestion",
            "EXP-2025-0001 (illustrative)",
            "urn:epcglobal:cbv:bt:0614141073467:1152",
            "urn:oretrace:doc:looks-encoded%20",
            "https://transaction.example.com/po/1",
            "Prüfbericht 7/2025 — 100 %",
            "a:b#c",
        ] {
            let text = Text::parse(text).unwrap();
            let uri = text_uri(DOCUMENT, &text);
            assert!(is_plain_uri(&uri), "{uri}");
            assert_eq!(uri_text(DOCUMENT, &uri, "x").unwrap(), text, "{uri}");
        }
        assert_eq!(
            text_uri(DOCUMENT, &Text::parse("urn:x:1").unwrap()),
            "urn:x:1"
        );
    }

    #[test]
    fn every_byte_but_the_unreserved_ones_is_escaped() {
        for byte in 0u8..=0x7f {
            let text = char::from(byte).to_string();
            let expected = if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                text.clone()
            } else {
                format!("%{byte:02X}")
            };
            assert_eq!(percent_encode(&text), expected, "{byte:#04x}");
            assert_eq!(percent_decode(&expected).as_deref(), Some(text.as_str()));
        }
        assert_eq!(percent_encode("Prüf 100 %"), "Pr%C3%BCf%20100%20%25");
        assert_eq!(
            percent_decode("Pr%c3%bcf%20100%20%25").as_deref(),
            Some("Prüf 100 %")
        );
        for broken in ["%", "%4", "x%4g", "%%41", "%41%"] {
            assert_eq!(percent_decode(broken), None, "{broken}");
        }
    }

    #[test]
    fn broken_escapes_are_refused() {
        for bad in [
            "urn:oretrace:doc:%zz",
            "urn:oretrace:doc:%C3",
            "urn:oretrace:doc:%0A",
        ] {
            assert_eq!(uri_text(DOCUMENT, bad, "f").unwrap_err().field(), Some("f"));
        }
        assert!(!is_plain_uri("no scheme"));
        assert!(!is_plain_uri("http://host/x"));
        assert!(!is_plain_uri("urn:a%2"));
    }

    #[test]
    fn registry_uris() {
        let site = SiteId::parse("karachi-port").unwrap();
        assert_eq!(site_uri(&site), "urn:oretrace:site:karachi-port");
        assert_eq!(parse_site_uri(&site_uri(&site)), Some(site));
        let party = PartyId::parse("fwo").unwrap();
        assert_eq!(parse_party_uri(&party_uri(&party)), Some(party));
        assert_eq!(parse_site_uri("urn:oretrace:party:fwo"), None);
        assert_eq!(parse_party_uri("urn:oretrace:party:FWO"), None);
    }
}
