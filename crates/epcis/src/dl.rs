//! Normalisation of GS1 identifiers to constrained canonical GS1 Digital Link
//! URIs (`https://id.gs1.org/…`).
//!
//! Every value of an event goes through this step, as in the reference
//! implementation: EPC URIs (`urn:epc:id:…`), EPC class URIs
//! (`urn:epc:class:lgtin:…`) and EPC pattern URIs (`urn:epc:idpat:…`) are
//! converted to the Digital Link equivalent; Digital Link URIs get the
//! canonical domain, lose their query string, key-qualifier short names and
//! CPV, keep only the finest identification level and must then be
//! syntactically valid. Anything else is left alone (`None`).
//!
//! The matching rules follow the reference's regular expressions exactly,
//! including their quirks (noted inline), restricted to ASCII digits.

use percent_encoding::{AsciiSet, utf8_percent_encode};

use crate::text::{slice, tail};

/// Converts an EPC URI / EPC class URI / EPC pattern URI, or a GS1 Digital
/// Link URI, into the constrained canonical GS1 Digital Link URI used in the
/// pre-hash string. Returns `None` when `uri` is neither.
///
/// ```
/// use oretrace_epcis::canonical_digital_link as dl;
/// assert_eq!(
///     dl("urn:epc:id:sgtin:4012345.011111.9876").as_deref(),
///     Some("https://id.gs1.org/01/04012345111118/21/9876")
/// );
/// assert_eq!(
///     dl("https://example.com/gtin/9506000134352/lot/A1/ser/7?x=1").as_deref(),
///     Some("https://id.gs1.org/01/09506000134352/21/7")
/// );
/// assert_eq!(dl("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"), None);
/// ```
#[must_use]
pub fn canonical_digital_link(uri: &str) -> Option<String> {
    // The reference bails out early for values without any '.'.
    let partition = uri.find('.')?;
    if let Some(converted) = epc_uri(uri, partition) {
        return Some(converted);
    }
    digital_link(uri)
}

const DL: &str = "https://id.gs1.org/";

/// Whether the GTIN (`/01/`) or SSCC (`/00/`) key of a canonical GS1
/// Digital Link carries the right check digit (`true` for any other URI).
///
/// ```
/// use oretrace_epcis::gs1_check_digit_holds as holds;
/// assert!(holds("https://id.gs1.org/01/09506000134352/10/A1"));
/// assert!(!holds("https://id.gs1.org/01/09506000134353/10/A1"));
/// assert!(holds("urn:oretrace:lot:fwo:sb-1"));
/// ```
#[must_use]
pub fn gs1_check_digit_holds(uri: &str) -> bool {
    for (key, len) in [("01/", 14), ("00/", 18)] {
        if let Some(rest) = uri.strip_prefix(DL).and_then(|r| r.strip_prefix(key)) {
            let digits = rest.get(..len).unwrap_or_default();
            if digits.len() != len || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            let (body, check) = digits.split_at(len - 1);
            return check.parse::<u32>().ok() == Some(check_digit(body));
        }
    }
    true
}

/// GS1 mod-10 check digit of a digit string.
fn check_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

/// The characters the reference percent-encodes in serials and other key
/// values taken from EPC URIs: `! ( ) * + , :`. Those values are ASCII by
/// then (`serial_unit` and `cpi_unit` admit nothing else).
const SERIAL_ESCAPES: &AsciiSet = &AsciiSet::EMPTY
    .add(b'!')
    .add(b'(')
    .add(b')')
    .add(b'*')
    .add(b'+')
    .add(b',')
    .add(b':');

/// Percent-encodes the characters the reference encodes in serials.
fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, SERIAL_ESCAPES).to_string()
}

// ---------------------------------------------------------------------------
// EPC URIs

/// One character of an EPC serial component (GS1 AI encodable character set
/// 82, `%`-escaped where needed): the length of the unit at the start of
/// `bytes`, if valid.
fn serial_unit(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [b'%', high, low, ..] => {
            let ok = match high {
                b'2' => matches!(low, b'1' | b'2' | b'5'..=b'9' | b'A'..=b'F' | b'a'..=b'f'),
                b'3' => low.is_ascii_hexdigit(),
                b'4' | b'6' => matches!(low, b'1'..=b'9' | b'A'..=b'F' | b'a'..=b'f'),
                b'5' => matches!(low, b'0'..=b'9' | b'A' | b'a' | b'F' | b'f'),
                b'7' => matches!(low, b'0'..=b'9' | b'A' | b'a'),
                _ => false,
            };
            ok.then_some(3)
        }
        [c, ..] => (c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'\''
                    | b')'
                    | b'('
                    | b'*'
                    | b'+'
                    | b','
                    | b'.'
                    | b':'
                    | b';'
                    | b'='
                    | b'_'
                    | b'-'
            ))
        .then_some(1),
        [] => None,
    }
}

/// One character of a CPI component (AI encodable character set 39).
fn cpi_unit(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [b'%', high, low, ..] => {
            let ok = match high {
                b'2' => matches!(low, b'3' | b'd' | b'f' | b'D' | b'F'),
                b'3' => low.is_ascii_digit(),
                b'4' => matches!(low, b'1'..=b'9' | b'A'..=b'F' | b'a'..=b'f'),
                b'5' => matches!(low, b'0'..=b'9' | b'A' | b'a'),
                _ => false,
            };
            ok.then_some(3)
        }
        [c, ..] => (c.is_ascii_digit() || c.is_ascii_uppercase() || *c == b'-').then_some(1),
        [] => None,
    }
}

/// Whether all of `text` consists of `min..=max` units.
fn units(text: &str, unit: fn(&[u8]) -> Option<usize>, min: usize, max: usize) -> bool {
    let bytes = text.as_bytes();
    let (mut at, mut count) = (0, 0);
    while at < bytes.len() {
        match unit(&bytes[at..]) {
            Some(length) => {
                at += length;
                count += 1;
            }
            None => return false,
        }
    }
    (min..=max).contains(&count)
}

fn all_digits(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// Matches the company-prefix block `C{g}.R{total-g}` (g = 6..=12, at least
/// one reference digit) at the start of `rest`, or, for `g = 12`,
/// `C{12}` followed by `twelve` (the reference's literal `\.` or `\.\.`).
/// Returns (company prefix length, block length).
fn prefix_block(rest: &str, total: usize, twelve: Option<&str>) -> Option<(usize, usize)> {
    let bytes = rest.as_bytes();
    let gcp = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(6..=12).contains(&gcp) || bytes.get(gcp) != Some(&b'.') {
        return None;
    }
    if gcp < total {
        let reference = total - gcp;
        let digits = bytes[gcp + 1..]
            .iter()
            .take(reference)
            .take_while(|b| b.is_ascii_digit())
            .count();
        (digits == reference).then_some((gcp, gcp + 1 + reference))
    } else {
        let twelve = twelve?;
        rest[gcp..]
            .starts_with(twelve)
            .then_some((gcp, gcp + twelve.len()))
    }
}

/// Company prefix followed by `.` and `1..=(30-g)` units to the end.
fn prefix_and_units(rest: &str, unit: fn(&[u8]) -> Option<usize>) -> bool {
    let gcp = rest.bytes().take_while(u8::is_ascii_digit).count();
    (6..=12).contains(&gcp)
        && rest.as_bytes().get(gcp) == Some(&b'.')
        && units(&rest[gcp + 1..], unit, 1, 30 - gcp)
}

/// GTIN-14 (without check digit) from company prefix and indicator+item ref.
fn gtin13(gcp: &str, item: &str) -> String {
    format!("{}{gcp}{}", slice(item, 0, 1), tail(item, 1))
}

fn epc_uri(uri: &str, p: usize) -> Option<String> {
    let ends_with_units = |rest: &str, max: usize| -> bool { units(rest, serial_unit, 1, max) };

    if let Some(rest) = uri.strip_prefix("urn:epc:id:sgtin:")
        && let Some((_, n)) = prefix_block(rest, 13, None)
        && let Some(serial) = rest[n..].strip_prefix('.')
        && ends_with_units(serial, 20)
    {
        let gcp = slice(uri, 17, p);
        let raw = gtin13(gcp, slice(uri, p + 1, p + 1 + (13 - gcp.len())));
        return Some(format!(
            "{DL}01/{raw}{}/21/{}",
            check_digit(&raw),
            percent_encode(tail(uri, 32))
        ));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:sscc:")
        && let Some((_, n)) = prefix_block(rest, 17, None)
        && n == rest.len()
    {
        let raw = format!(
            "{}{}{}",
            slice(uri, p + 1, p + 2),
            slice(uri, 16, p),
            tail(uri, p + 2)
        );
        return Some(format!("{DL}00/{raw}{}", check_digit(&raw)));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:sgln:")
        && let Some((_, n)) = prefix_block(rest, 12, Some("."))
        && let Some(extension) = rest[n..].strip_prefix('.')
        && ends_with_units(extension, 20)
    {
        let gcp = slice(uri, 16, p);
        let raw = format!("{gcp}{}", slice(uri, p + 1, p + 1 + (12 - gcp.len())));
        let extension = tail(uri, 30);
        let check = check_digit(&raw);
        return Some(if extension == "0" {
            format!("{DL}414/{raw}{check}")
        } else {
            format!("{DL}414/{raw}{check}/254/{}", percent_encode(extension))
        });
    }
    // Quirk: for a 12-digit company prefix the reference wants three dots.
    if let Some(rest) = uri.strip_prefix("urn:epc:id:grai:")
        && let Some((_, n)) = prefix_block(rest, 12, Some(".."))
        && let Some(serial) = rest[n..].strip_prefix('.')
        && ends_with_units(serial, 16)
    {
        let gcp = slice(uri, 16, p);
        let raw = format!("0{gcp}{}", slice(uri, p + 1, p + 1 + (12 - gcp.len())));
        return Some(format!(
            "{DL}8003/{raw}{}{}",
            check_digit(&raw),
            percent_encode(tail(uri, 30))
        ));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:giai:")
        && prefix_and_units(rest, serial_unit)
    {
        return Some(format!(
            "{DL}8004/{}{}",
            slice(uri, 16, p),
            percent_encode(tail(uri, p + 1))
        ));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:gsrn:")
        && let Some((_, n)) = prefix_block(rest, 17, None)
        && n == rest.len()
    {
        let raw = format!("{}{}", slice(uri, 16, p), tail(uri, p + 1));
        return Some(format!("{DL}8018/{raw}{}", check_digit(&raw)));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:gsrnp:")
        && let Some((_, n)) = prefix_block(rest, 17, None)
        && n == rest.len()
    {
        let raw = format!("{}{}", slice(uri, 17, p), tail(uri, p + 1));
        return Some(format!("{DL}8017/{raw}{}", check_digit(&raw)));
    }
    // Quirk: no '.' is required between document type and serial; the
    // reference takes the serial from a fixed offset.
    if let Some(rest) = uri.strip_prefix("urn:epc:id:gdti:")
        && let Some((_, n)) = prefix_block(rest, 12, Some(".."))
        && ends_with_units(&rest[n..], 20)
    {
        let gcp = slice(uri, 16, p);
        let raw = format!("{gcp}{}", slice(uri, p + 1, p + 1 + (12 - gcp.len())));
        return Some(format!(
            "{DL}253/{raw}{}{}",
            check_digit(&raw),
            percent_encode(tail(uri, 30))
        ));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:cpi:")
        && let Some(last) = rest.rfind('.')
        && prefix_and_units(&rest[..last], cpi_unit)
        && all_digits(&rest[last + 1..], 1, 12)
    {
        let separator = uri.rfind('.').unwrap_or(p);
        let raw = format!("{}{}", slice(uri, 15, p), slice(uri, p + 1, separator));
        return Some(format!(
            "{DL}8010/{}/8011/{}",
            percent_encode(&raw),
            tail(uri, separator + 1)
        ));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:sgcn:")
        && let Some((_, n)) = prefix_block(rest, 12, Some("."))
        && let Some(serial) = rest[n..].strip_prefix('.')
        && all_digits(serial, 1, 12)
    {
        let gcp = slice(uri, 16, p);
        let raw = format!("{gcp}{}", slice(uri, p + 1, p + 1 + (12 - gcp.len())));
        return Some(format!(
            "{DL}255/{raw}{}{}",
            check_digit(&raw),
            tail(uri, 30)
        ));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:ginc:")
        && prefix_and_units(rest, serial_unit)
    {
        return Some(format!(
            "{DL}401/{}{}",
            slice(uri, 16, p),
            percent_encode(tail(uri, p + 1))
        ));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:gsin:")
        && let Some((_, n)) = prefix_block(rest, 16, None)
        && n == rest.len()
    {
        let raw = format!("{}{}", slice(uri, 16, p), tail(uri, p + 1));
        return Some(format!("{DL}402/{raw}{}", check_digit(&raw)));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:itip:")
        && let Some((_, n)) = prefix_block(rest, 13, None)
        && let Some(serial) = piece_total(&rest[n..])
        && let Some(serial) = serial.strip_prefix('.')
        && ends_with_units(serial, 20)
    {
        let gcp = slice(uri, 16, p);
        let raw = gtin13(gcp, slice(uri, p + 1, p + 1 + (13 - gcp.len())));
        return Some(format!(
            "{DL}8006/{raw}{}{}{}/21/{}",
            check_digit(&raw),
            slice(uri, 31, 33),
            slice(uri, 34, 36),
            percent_encode(tail(uri, 37))
        ));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:upui:")
        && let Some((_, n)) = prefix_block(rest, 13, None)
        && let Some(serial) = rest[n..].strip_prefix('.')
        && ends_with_units(serial, 28)
    {
        let gcp = slice(uri, 16, p);
        let raw = gtin13(gcp, slice(uri, p + 1, p + 1 + (13 - gcp.len())));
        return Some(format!(
            "{DL}01/{raw}{}/235/{}",
            check_digit(&raw),
            percent_encode(tail(uri, 31))
        ));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:pgln:")
        && let Some((_, n)) = prefix_block(rest, 12, Some("."))
        && n == rest.len()
    {
        let gcp = slice(uri, 16, p);
        let raw = format!("{gcp}{}", slice(uri, p + 1, p + 1 + (12 - gcp.len())));
        return Some(format!("{DL}417/{raw}{}", check_digit(&raw)));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:class:lgtin:")
        && let Some((_, n)) = prefix_block(rest, 13, None)
        && let Some(lot) = rest[n..].strip_prefix('.')
        && ends_with_units(lot, 20)
    {
        let gcp = slice(uri, 20, p);
        let raw = gtin13(gcp, slice(uri, p + 1, p + 1 + (13 - gcp.len())));
        return Some(format!(
            "{DL}01/{raw}{}/10/{}",
            check_digit(&raw),
            percent_encode(tail(uri, 35))
        ));
    }
    epc_pattern(uri, p)
}

/// `.NN.NN` (piece and total of an ITIP); returns what follows.
fn piece_total(rest: &str) -> Option<&str> {
    let bytes = rest.as_bytes();
    let ok = bytes.len() >= 6
        && bytes[0] == b'.'
        && bytes[1..3].iter().all(u8::is_ascii_digit)
        && bytes[3] == b'.'
        && bytes[4..6].iter().all(u8::is_ascii_digit);
    ok.then(|| &rest[6..])
}

fn epc_pattern(uri: &str, p: usize) -> Option<String> {
    if let Some(rest) = uri.strip_prefix("urn:epc:idpat:sgtin:")
        && let Some((_, n)) = prefix_block(rest, 13, None)
        && &rest[n..] == ".*"
    {
        let gcp = slice(uri, 20, p);
        let raw = gtin13(gcp, slice(uri, p + 1, p + 1 + (13 - gcp.len())));
        return Some(format!("{DL}01/{raw}{}", check_digit(&raw)));
    }
    for (scheme, ai, leading_zero) in [
        ("grai", "8003", true),
        ("gdti", "253", false),
        ("sgcn", "255", false),
    ] {
        if let Some(rest) = uri
            .strip_prefix("urn:epc:idpat:")
            .and_then(|r| r.strip_prefix(scheme))
            .and_then(|r| r.strip_prefix(':'))
            && let Some((_, n)) = prefix_block(rest, 12, Some(".."))
            && &rest[n..] == ".*"
        {
            let gcp = slice(uri, 19, p);
            let raw = format!(
                "{}{gcp}{}",
                if leading_zero { "0" } else { "" },
                slice(uri, p + 1, p + 1 + (12 - gcp.len()))
            );
            return Some(format!("{DL}{ai}/{raw}{}", check_digit(&raw)));
        }
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:idpat:cpi:")
        && let Some(body) = rest.strip_suffix(".*")
        && prefix_and_units(body, cpi_unit)
    {
        let separator = uri.rfind('.').unwrap_or(p);
        let raw = format!("{}{}", slice(uri, 18, p), slice(uri, p + 1, separator));
        return Some(format!("{DL}8010/{}", percent_encode(&raw)));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:idpat:itip:")
        && let Some((_, n)) = prefix_block(rest, 13, None)
        && piece_total(&rest[n..]) == Some(".*")
    {
        let gcp = slice(uri, 19, p);
        let raw = gtin13(gcp, slice(uri, p + 1, p + 1 + (13 - gcp.len())));
        return Some(format!(
            "{DL}8006/{raw}{}{}{}",
            check_digit(&raw),
            slice(uri, 34, 36),
            slice(uri, 37, 39)
        ));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:idpat:upui:")
        && let Some((_, n)) = prefix_block(rest, 13, None)
        && &rest[n..] == ".*"
    {
        let gcp = slice(uri, 19, p);
        let raw = gtin13(gcp, slice(uri, p + 1, p + 1 + (13 - gcp.len())));
        return Some(format!("{DL}01/{raw}{}", check_digit(&raw)));
    }
    None
}

// ---------------------------------------------------------------------------
// GS1 Digital Link URIs

/// Primary keys and key qualifiers (numeric and short names) recognised in
/// a Digital Link path.
const DL_KEYS: &[&str] = &[
    "01", "gtin", "8006", "itip", "8010", "cpid", "414", "gln", "417", "party", "8017", "gsrnp",
    "8018", "gsrn", "255", "gcn", "00", "sscc", "253", "gdti", "401", "ginc", "402", "gsin",
    "8003", "grai", "8004", "giai",
];

/// Keys accepted after the canonical domain (the reference's list).
const CANONICAL_KEYS: &[&str] = &[
    "01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401", "402", "8003",
    "8004",
];

/// Keys searched, in this priority order, to re-root a URI on the canonical
/// domain.
const REROOT_KEYS: &[&str] = &[
    "00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8017",
    "8018",
];

const SHORT_NAMES: &[(&str, &str)] = &[
    ("/gtin/", "/01/"),
    ("/itip/", "/8006/"),
    ("/cpid/", "/8010/"),
    ("/gln/", "/414/"),
    ("/party/", "/417/"),
    ("/gsrnp/", "/8017/"),
    ("/gsrn/", "/8018/"),
    ("/gcn/", "/255/"),
    ("/sscc/", "/00/"),
    ("/gdti/", "/253/"),
    ("/ginc/", "/401/"),
    ("/gsin/", "/402/"),
    ("/grai/", "/8003/"),
    ("/giai/", "/8004/"),
    ("/cpv/", "/22/"),
    ("/lot/", "/10/"),
    ("/ser/", "/21/"),
];

/// `/KEY/` + four digits + one character other than `/`.
fn key_segment_at(text: &str, keys: &[&str]) -> bool {
    let Some(rest) = text.strip_prefix('/') else {
        return false;
    };
    keys.iter().any(|key| {
        rest.strip_prefix(key)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|r| {
                let bytes = r.as_bytes();
                bytes.len() > 4
                    && bytes[..4].iter().all(u8::is_ascii_digit)
                    && r[4..].chars().next().is_some_and(|c| c != '/')
            })
    })
}

/// The reference's first test: an http(s) URI whose path contains a GS1 key
/// segment before any `?`/`#`, or whose path is a single 10-letter segment.
fn looks_like_digital_link(uri: &str) -> bool {
    let Some(rest) = uri
        .strip_prefix("https:")
        .or_else(|| uri.strip_prefix("http:"))
    else {
        return false;
    };
    let searchable = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    if searchable
        .match_indices('/')
        .any(|(i, _)| key_segment_at(&rest[i..], DL_KEYS))
    {
        return true;
    }
    // `(//authority)?/[A-Za-z_-]{10}$`
    let path = match rest.strip_prefix("//") {
        Some(after) => after.find(['/', '?', '#']).map_or("", |i| &after[i..]),
        None => rest,
    };
    path.strip_prefix('/').is_some_and(|segment| {
        segment.len() == 10
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-')
    })
}

/// Strips `https://id.gs1.org/` where, as in the reference's regular
/// expressions, each '.' of the host stands for any character but '\n'.
fn strip_canonical_domain(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("https://id")?;
    let mut chars = rest.chars();
    chars.next().filter(|c| *c != '\n')?;
    let rest = chars.as_str().strip_prefix("gs1")?;
    let mut chars = rest.chars();
    chars.next().filter(|c| *c != '\n')?;
    chars.as_str().strip_prefix("org/")
}

/// Characters allowed in Digital Link path values by the final syntax check
/// (`"`, `'`, `-`, `.`, digits, `;` to `?`, letters, `_`).
fn is_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '"' | '\'' | '-' | '.' | ';'..='?' | '_')
}

fn value_chars(text: &str, max: usize) -> bool {
    text.len() <= max && text.chars().all(is_value_char)
}

fn exact_digits(text: &str, count: usize) -> bool {
    text.len() == count && text.bytes().all(|b| b.is_ascii_digit())
}

/// `KEY/` + `digits` digits, returning the rest.
fn key_and_digits<'a>(path: &'a str, key: &str, digits: usize) -> Option<&'a str> {
    let rest = path.strip_prefix(key)?.strip_prefix('/')?;
    let head = rest.get(..digits)?;
    exact_digits(head, digits).then(|| &rest[digits..])
}

fn digital_link(uri: &str) -> Option<String> {
    if !looks_like_digital_link(uri) {
        return None;
    }
    let mut uri = uri[..uri.find('?').unwrap_or(uri.len())].to_owned();
    for (short, ai) in SHORT_NAMES {
        uri = uri.replace(short, ai);
    }

    let canonical = strip_canonical_domain(&uri)
        .is_some_and(|path| key_segment_at(&format!("/{path}"), CANONICAL_KEYS));
    if !canonical
        && let Some(at) = REROOT_KEYS
            .iter()
            .find_map(|key| uri.find(&format!("/{key}/")))
    {
        uri = format!("https://id.gs1.org{}", &uri[at..]);
    }

    // Pad GTIN-13/-12/-8 to 14 digits (the reference's `\d{8}` accepts 8-11).
    if let Some(path) = strip_canonical_domain(&uri)
        && let Some(rest) = path.strip_prefix("01/")
    {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let padding = match digits {
            13 => "0",
            12 => "00",
            8..=11 => "000000",
            _ => "",
        };
        if !padding.is_empty() {
            uri = uri.replace("/01/", &format!("/01/{padding}"));
        }
    }

    // Drop the CPV (key qualifier 22) of a GTIN or ITIP.
    if let Some(at) = uri.find("/22/") {
        let cpv = uri[at + 4..].to_owned();
        if gtin_or_itip_then(&uri, "/22/", |value| value_chars(value, 20)) {
            uri.truncate(at);
        } else if gtin_or_itip_then(&uri, "/22/", |value| {
            value.len() <= 20 && value.chars().all(|c| c == '/' || is_value_char(c))
        }) {
            let kept = cpv.find('/').map_or("", |i| &cpv[i..]);
            uri = format!("{}{kept}", &uri[..at]);
        }
    }

    // Keep only the finest level: a serial wins over a lot.
    if gtin_or_itip_then(&uri, "/10/", |value| {
        value
            .split_once("/21/")
            .is_some_and(|(lot, serial)| value_chars(lot, 20) && value_chars(serial, 20))
    }) && let Some(at) = uri.find("/10/")
    {
        let after = &uri[at + 4..];
        let kept = after.find('/').map_or("", |i| &after[i..]).to_owned();
        uri = format!("{}{kept}", &uri[..at]);
    }

    valid_canonical(&uri).then_some(uri)
}

/// `https://id.gs1.org/01/\d{14}` or `…/8006/\d{18}`, then `separator` and a
/// remainder accepted by `rest`.
fn gtin_or_itip_then(uri: &str, separator: &str, rest: impl Fn(&str) -> bool) -> bool {
    let Some(path) = strip_canonical_domain(uri) else {
        return false;
    };
    [("01", 14), ("8006", 18)].iter().any(|(key, digits)| {
        key_and_digits(path, key, *digits)
            .and_then(|after| after.strip_prefix(separator))
            .is_some_and(&rest)
    })
}

/// The reference's final syntax check of the normalised URI.
fn valid_canonical(uri: &str) -> bool {
    let Some(path) = strip_canonical_domain(uri) else {
        return false;
    };
    let qualified = |after: &str, qualifier: &str, max: usize| {
        after
            .strip_prefix(qualifier)
            .is_some_and(|value| value_chars(value, max))
    };
    if let Some(after) = key_and_digits(path, "00", 18) {
        return after.is_empty();
    }
    if let Some(after) = key_and_digits(path, "01", 14) {
        return after.is_empty()
            || qualified(after, "/21/", 20)
            || qualified(after, "/10/", 20)
            || qualified(after, "/235/", 28);
    }
    if let Some(after) = key_and_digits(path, "253", 13) {
        return value_chars(after, 17);
    }
    if let Some(after) = key_and_digits(path, "255", 13) {
        return after.len() <= 12 && after.bytes().all(|b| b.is_ascii_digit());
    }
    if let Some(value) = path.strip_prefix("401/") {
        return value_chars(value, 30);
    }
    if let Some(after) = key_and_digits(path, "402", 17) {
        return after.is_empty();
    }
    if let Some(after) = key_and_digits(path, "414", 13) {
        return after.is_empty() || qualified(after, "/254/", 20);
    }
    if let Some(after) = key_and_digits(path, "417", 13) {
        return after.is_empty();
    }
    if let Some(after) = key_and_digits(path, "8003", 14) {
        return value_chars(after, 16);
    }
    if let Some(value) = path.strip_prefix("8004/") {
        return value_chars(value, 30);
    }
    if let Some(after) = key_and_digits(path, "8006", 18) {
        return after.is_empty() || qualified(after, "/21/", 20) || qualified(after, "/10/", 20);
    }
    if let Some(value) = path.strip_prefix("8010/") {
        let cpid = |text: &str| {
            text.len() <= 30
                && text
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b"#-/".contains(&b))
        };
        if cpid(value) {
            return true;
        }
        return value.match_indices("/8011/").any(|(i, _)| {
            let serial = &value[i + 6..];
            cpid(&value[..i]) && serial.len() <= 12 && serial.bytes().all(|b| b.is_ascii_digit())
        });
    }
    for key in ["8017", "8018"] {
        if let Some(after) = key_and_digits(path, key, 18) {
            return after.is_empty();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn dl(input: &str, expected: Option<&str>) {
        assert_eq!(
            canonical_digital_link(input).as_deref(),
            expected,
            "{input}"
        );
    }

    #[test]
    fn serials_escape_exactly_the_seven_characters_the_reference_escapes() {
        for byte in 0u8..=0x7f {
            let text = char::from(byte).to_string();
            let expected = if b"!()*+,:".contains(&byte) {
                format!("%{byte:02X}")
            } else {
                text.clone()
            };
            assert_eq!(percent_encode(&text), expected, "{byte:#04x}");
        }
        assert_eq!(
            percent_encode("A!B(C)D*E+F,G:H'I%2F"),
            "A%21B%28C%29D%2AE%2BF%2CG%3AH'I%2F"
        );
    }

    #[test]
    fn check_digits() {
        assert_eq!(check_digit("0401234511111"), 8);
        assert_eq!(check_digit("04012345000000333"), 8);
        assert_eq!(check_digit("401234500011"), 5);
        assert_eq!(check_digit("000000000000"), 0);
    }

    #[test]
    fn epc_uris_to_digital_link() {
        // Values from the conformance vectors.
        dl(
            "urn:epc:id:sgtin:4012345.011111.9876",
            Some("https://id.gs1.org/01/04012345111118/21/9876"),
        );
        dl(
            "urn:epc:id:sgtin:0614141.107346.2017",
            Some("https://id.gs1.org/01/10614141073464/21/2017"),
        );
        dl(
            "urn:epc:id:sscc:4012345.0000000333",
            Some("https://id.gs1.org/00/040123450000003338"),
        );
        dl(
            "urn:epc:id:sgln:4012345.00011.987",
            Some("https://id.gs1.org/414/4012345000115/254/987"),
        );
        dl(
            "urn:epc:id:sgln:4012345.00005.0",
            Some("https://id.gs1.org/414/4012345000054"),
        );
        dl(
            "urn:epc:id:pgln:4012345.00000",
            Some("https://id.gs1.org/417/4012345000009"),
        );
        dl(
            "urn:epc:id:giai:4000001.111",
            Some("https://id.gs1.org/8004/4000001111"),
        );
        dl(
            "urn:epc:id:gdti:4012345.55555.1234",
            Some("https://id.gs1.org/253/40123455555541234"),
        );
        dl(
            "urn:epc:class:lgtin:4012345.022222.87545GHGH",
            Some("https://id.gs1.org/01/04012345222227/10/87545GHGH"),
        );
        dl(
            "urn:epc:idpat:sgtin:4012345.066666.*",
            Some("https://id.gs1.org/01/04012345666663"),
        );
        // Serial characters that must be percent-encoded.
        dl(
            "urn:epc:id:sgtin:4012345.011111.A!B(C)",
            Some("https://id.gs1.org/01/04012345111118/21/A%21B%28C%29"),
        );
        // Other schemes.
        dl(
            "urn:epc:id:gsrn:4012345.0000000001",
            Some("https://id.gs1.org/8018/401234500000000012"),
        );
        dl(
            "urn:epc:id:gsrnp:4012345.0000000001",
            Some("https://id.gs1.org/8017/401234500000000012"),
        );
        dl(
            "urn:epc:id:grai:4012345.00001.X9",
            Some("https://id.gs1.org/8003/04012345000016X9"),
        );
        dl(
            "urn:epc:id:cpi:0614141.5PQ7-Z43.12345",
            Some("https://id.gs1.org/8010/06141415PQ7-Z43/8011/12345"),
        );
        dl(
            "urn:epc:id:sgcn:4012345.67890.04711",
            Some("https://id.gs1.org/255/401234567890104711"),
        );
        // Quirks kept from the reference for 12-digit company prefixes.
        dl(
            "urn:epc:id:grai:123456789012...5",
            Some("https://id.gs1.org/8003/01234567890128.5"),
        );
        dl(
            "urn:epc:id:gdti:123456789012..5",
            Some("https://id.gs1.org/253/12345678901285"),
        );
        dl(
            "urn:epc:id:ginc:0614141.xyz3311cba",
            Some("https://id.gs1.org/401/0614141xyz3311cba"),
        );
        dl(
            "urn:epc:id:gsin:0614141.123456789",
            Some("https://id.gs1.org/402/06141411234567890"),
        );
        dl(
            "urn:epc:id:itip:4012345.012345.01.02.987",
            Some("https://id.gs1.org/8006/040123451234560102/21/987"),
        );
        dl("urn:epc:id:upui:1234567.098765.51qIgY)<&Jp3*j7'SDB", None);
        dl(
            "urn:epc:id:upui:1234567.098765.51qIgY",
            Some("https://id.gs1.org/01/01234567987651/235/51qIgY"),
        );
        dl(
            "urn:epc:idpat:itip:4012345.012345.01.02.*",
            Some("https://id.gs1.org/8006/040123451234560102"),
        );
        // Not identifiers / not valid EPC URIs.
        dl("urn:epcglobal:cbv:bt:0614141073467:1152", None);
        dl("urn:epc:id:sgtin:4012345.0111111.9876", None);
        dl("geo:47.506694,11.104301", None);
        dl("2", None);
    }

    #[test]
    fn digital_links_normalised() {
        dl(
            "https://id.gs1.de/00/040123451111111110",
            Some("https://id.gs1.org/00/040123451111111110"),
        );
        dl(
            "https://id.example.org/8004/401234599999",
            Some("https://id.gs1.org/8004/401234599999"),
        );
        dl(
            "https://example.com/01/9506000134352?linkType=all",
            Some("https://id.gs1.org/01/09506000134352"),
        );
        dl(
            "https://id.gs1.org/01/09506000134352/22/2A/10/ABC/21/XYZ",
            Some("https://id.gs1.org/01/09506000134352/21/XYZ"),
        );
        dl(
            "https://id.gs1.org/01/09506000134352/22/2A",
            Some("https://id.gs1.org/01/09506000134352"),
        );
        dl(
            "https://example.com/gln/4012345000115",
            Some("https://id.gs1.org/414/4012345000115"),
        );
        // Percent-encoded values fail the final syntax check.
        dl("https://id.gs1.org/01/09506000134352/21/A%2FB", None);
        dl("https://example.com/path/abc", None);
        dl("http://transaction.acme.com/po/12345678", None);
        dl("https://ref.gs1.org/cbv/BizStep-shipping", None);
    }
}
