//! Identifier patterns (EPCIS 2.0 §8.2.7.1.1, Tag Data Standard §8)

use super::normalise::{canonical_id, expand_curie};
use super::{QueryError, invalid};
use crate::{Context, canonical_digital_link};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum IdPattern {
    /// Equality with this normalised identifier.
    Exact(String),
    /// An EPC pure-identity pattern with at least one `*`.
    Epc(EpcPattern),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EpcPattern {
    scheme: String,
    /// Dot-separated components; `*` matches any one (the last, any rest).
    components: Vec<String>,
    /// How canonical Digital Link values are matched, if they can be.
    digital_link: Option<DigitalLinkPattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DigitalLinkPattern {
    /// Canonical DL of the pattern's class (`C.I.*`); values extend it, after
    /// a `/` unless `fixed_width` (GRAI, GDTI, SGCN append the serial).
    Within { prefix: String, fixed_width: bool },
    /// The GS1 key `key` whose digits, from `offset`, start with the company
    /// prefix (`C.*.*`).
    CompanyPrefix {
        key: &'static str,
        offset: usize,
        company_prefix: String,
    },
    /// Any value with this GS1 key (`*.*.*`).
    Key(&'static str),
}

const CANONICAL_DOMAIN: &str = "https://id.gs1.org/";

/// EPC scheme → GS1 Digital Link key and the position of the company prefix
/// within the key's digits.
const SCHEME_KEYS: &[(&str, &str, usize)] = &[
    ("sgtin", "01", 1),
    ("sscc", "00", 1),
    ("sgln", "414", 0),
    ("pgln", "417", 0),
    ("grai", "8003", 1),
    ("giai", "8004", 0),
    ("gsrn", "8018", 0),
    ("gsrnp", "8017", 0),
    ("gdti", "253", 0),
    ("sgcn", "255", 0),
    ("cpi", "8010", 0),
    ("itip", "8006", 1),
];

impl EpcPattern {
    /// `value` is the event's identifier (CURIE-expanded), `canonical` its
    /// normalised form.
    pub(super) fn matches(&self, value: &str, canonical: &str) -> bool {
        let body = ["urn:epc:id:", "urn:epc:idpat:"]
            .iter()
            .find_map(|head| {
                value
                    .strip_prefix(head)?
                    .strip_prefix(self.scheme.as_str())?
                    .strip_prefix(':')
            })
            .or_else(|| {
                if self.scheme == "sgtin" {
                    value.strip_prefix("urn:epc:class:lgtin:")
                } else {
                    None
                }
            });
        if let Some(body) = body {
            let parts: Vec<&str> = body.splitn(self.components.len(), '.').collect();
            return parts.len() == self.components.len()
                && self
                    .components
                    .iter()
                    .zip(&parts)
                    .all(|(pattern, part)| pattern == "*" || pattern == part);
        }
        if value.starts_with("urn:") {
            return false;
        }
        let Some(key_path) = canonical.strip_prefix(CANONICAL_DOMAIN) else {
            return false;
        };
        match &self.digital_link {
            None => false,
            Some(DigitalLinkPattern::Within {
                prefix,
                fixed_width,
            }) => canonical
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| *fixed_width || rest.is_empty() || rest.starts_with('/')),
            Some(DigitalLinkPattern::CompanyPrefix {
                key,
                offset,
                company_prefix,
            }) => key_path
                .strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|digits| digits.get(*offset..offset + company_prefix.len()))
                .is_some_and(|found| found == company_prefix),
            Some(DigitalLinkPattern::Key(key)) => key_path
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with('/')),
        }
    }
}

pub(super) fn parse_id_pattern(
    parameter: &str,
    value: &str,
    context: &Context,
) -> Result<IdPattern, QueryError> {
    let value = expand_curie(value, context);
    let Some(rest) = value.strip_prefix("urn:epc:idpat:") else {
        return Ok(IdPattern::Exact(canonical_id(&value)));
    };
    let malformed = || invalid(parameter, format!("malformed EPC pattern {value:?}"));
    let (scheme, body) = rest
        .split_once(':')
        .filter(|(scheme, body)| !scheme.is_empty() && !body.is_empty())
        .ok_or_else(malformed)?;
    let components: Vec<String> = body.split('.').map(str::to_owned).collect();
    if components.iter().any(String::is_empty) {
        return Err(malformed());
    }
    let Some(first_star) = components.iter().position(|part| part == "*") else {
        // No wildcard: the pattern denotes exactly one EPC.
        return Ok(IdPattern::Exact(canonical_id(&format!(
            "urn:epc:id:{scheme}:{body}"
        ))));
    };
    if components[first_star..].iter().any(|part| part != "*") {
        return Err(invalid(
            parameter,
            format!("in EPC pattern {value:?} only trailing components may be `*`"),
        ));
    }
    let digital_link = if let Some(prefix) = canonical_digital_link(&value) {
        let fixed_width = ["8003/", "253/", "255/"].iter().any(|key| {
            prefix
                .strip_prefix(CANONICAL_DOMAIN)
                .is_some_and(|path| path.starts_with(key))
        });
        Some(DigitalLinkPattern::Within {
            prefix,
            fixed_width,
        })
    } else {
        SCHEME_KEYS
            .iter()
            .find(|(name, _, _)| *name == scheme)
            .and_then(|(_, key, offset)| match first_star {
                0 => Some(DigitalLinkPattern::Key(key)),
                1 => Some(DigitalLinkPattern::CompanyPrefix {
                    key,
                    offset: *offset,
                    company_prefix: components[0].clone(),
                }),
                _ => None,
            })
    };
    Ok(IdPattern::Epc(EpcPattern {
        scheme: scheme.to_owned(),
        components,
        digital_link,
    }))
}
