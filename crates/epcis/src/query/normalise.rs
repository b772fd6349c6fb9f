//! Normalisation: query and event values in the one form they are compared in.

use serde_json::{Map, Value};

use crate::vocab::{self, TermSet};
use crate::{Context, canonical_digital_link};

/// Expands a CURIE whose prefix is declared inline or by the GS1 context.
pub(super) fn expand_curie(value: &str, context: &Context) -> String {
    if let Some((prefix, local)) = value.split_once(':')
        && !local.starts_with("//")
    {
        let namespace = context.prefix(prefix).or_else(|| {
            vocab::CONTEXT_PREFIXES
                .iter()
                .find(|(name, _)| *name == prefix)
                .map(|(_, iri)| *iri)
        });
        if let Some(namespace) = namespace {
            return format!("{namespace}{local}");
        }
    }
    value.to_owned()
}

/// A vocabulary value as a Web URI (bare term, CBV URN or CURIE).
pub(super) fn vocabulary_value(value: &str, terms: &TermSet, context: &Context) -> String {
    if let Some(iri) = terms.expand(value) {
        return iri;
    }
    let value = expand_curie(value, context);
    for (urn, web) in vocab::CBV_URNS {
        if let Some(term) = value.strip_prefix(urn) {
            return format!("{web}{term}");
        }
    }
    value
}

/// An identifier in canonical Digital Link form where it has one.
pub(super) fn canonical_id(value: &str) -> String {
    canonical_digital_link(value).unwrap_or_else(|| value.to_owned())
}

pub(super) fn identifier(value: &str, context: &Context) -> String {
    canonical_id(&expand_curie(value, context))
}

/// An identifier exactly as the query index keeps it: a CURIE expanded
/// with `context` (the event's own `@context`, as
/// `Context::from_document(event)` reads it, or the GS1 context's
/// prefixes), then an EPC URN or Digital Link in canonical Digital Link
/// form. Whatever decides who may name an identifier must see this form,
/// or one lot could be named under two spellings, one checked and one
/// indexed.
#[must_use]
pub fn canonical_identifier(value: &str, context: &Context) -> String {
    identifier(value, context)
}

/// An identifier with every spelling difference that does not change what
/// it names taken out, on top of [`canonical_identifier`]: the scheme, a
/// URN's namespace id and a URI's host in lower case (RFC 3986 §6.2.2.1,
/// RFC 8141 §3.1), percent-encoded unreserved characters decoded and the
/// remaining escapes in upper case (RFC 3986 §6.2.2.2), a URN's `?`/`#`
/// components and a URI's fragment and trailing `/` dropped; then EPCs in
/// canonical Digital Link form again. Two spellings with the same loose
/// form name the same thing; a registry that keeps one spelling per thing
/// refuses any other (`loose_identifier(id) != id`).
///
/// ```
/// use oretrace_epcis::query::loose_identifier as loose;
/// assert_eq!(loose("URN:oretrace:lot:fwo:sb-%31"), "urn:oretrace:lot:fwo:sb-1");
/// assert_eq!(
///     loose("HTTPS://ID.GS1.ORG/01/09506000134352/10/FWO1/#x"),
///     "https://id.gs1.org/01/09506000134352/10/FWO1"
/// );
/// assert_eq!(loose("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"), "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
/// ```
#[must_use]
pub fn loose_identifier(value: &str) -> String {
    let decoded = decode_unreserved(value);
    let Some((scheme, rest)) = decoded.split_once(':') else {
        return decoded;
    };
    let scheme = scheme.to_ascii_lowercase();
    let spelled = if scheme == "urn" {
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        match rest.split_once(':') {
            Some((nid, nss)) => format!("urn:{}:{nss}", nid.to_ascii_lowercase()),
            None => format!("urn:{}", rest.to_ascii_lowercase()),
        }
    } else if let Some(after) = rest.strip_prefix("//") {
        let after = after.split('#').next().unwrap_or_default();
        let (host, path) = after.split_at(after.find(['/', '?']).unwrap_or(after.len()));
        let mut path = path.to_owned();
        while path.len() > 1 && path.ends_with('/') && !path.contains('?') {
            path.pop();
        }
        if path == "/" {
            path.clear();
        }
        format!("{scheme}://{}{path}", host.to_ascii_lowercase())
    } else {
        format!("{scheme}:{rest}")
    };
    canonical_id(&spelled)
}

/// Percent-escapes of unreserved characters decoded; other escapes with
/// upper-case hex digits.
fn decode_unreserved(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(Some(hi)), Some(Some(lo))) = (
                bytes.get(i + 1).map(|b| hex(*b)),
                bytes.get(i + 2).map(|b| hex(*b)),
            )
        {
            let byte = u8::try_from(hi * 16 + lo).unwrap_or(0);
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
            i += 3;
            continue;
        }
        // Multi-byte characters are copied whole.
        let width = value[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&value[i..i + width]);
        i += width;
    }
    out
}

pub(super) fn context_of(declared: &Value) -> Context {
    let mut document = Map::new();
    document.insert("@context".to_owned(), declared.clone());
    Context::from_document(&Value::Object(document))
}

pub(super) fn json_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    }
}

pub(super) fn items(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}
