//! Validating scalar types. Each has a private field and a constructor
//! that checks its invariant, and prints in its one canonical form.

use std::fmt;
use std::str::FromStr as _;

use rust_decimal::Decimal;

use crate::Error;

fn check_token(value: &str, max: usize, extra: &[char], what: &str) -> Result<(), Error> {
    if value.is_empty() || value.len() > max {
        return Err(Error::invalid(
            "",
            format!("{what} must be 1 to {max} characters"),
        ));
    }
    let first = value.chars().next().unwrap_or(' ');
    if !first.is_ascii_lowercase() && !first.is_ascii_digit() {
        return Err(Error::invalid(
            "",
            format!("{what} must start with a lower-case letter or digit"),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(c)))
    {
        return Err(Error::invalid("", format!("{what} may not contain {c:?}")));
    }
    Ok(())
}

macro_rules! token_type {
    ($(#[$doc:meta])* $name:ident, $max:expr, $extra:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, Error> {
                check_token(value, $max, $extra, $what)?;
                Ok($name(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

token_type!(
    /// A party's identifier in this registry: `fwo`, `ussm`, `gov-pk`.
    PartyId, 64, &['-', '.'], "a party id"
);
token_type!(
    /// A site's identifier: `fwo-karachi-port`.
    SiteId, 64, &['-', '.'], "a site id"
);
token_type!(
    /// A lower-case word from a small vocabulary (`antimony`, `concentrate`).
    Token, 40, &['-'], "a term"
);

/// A lot identifier: an EPC URN, a GS1 Digital Link or the project's own
/// URI. A URI with a scheme, no spaces, at most 256 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LotId(String);

impl LotId {
    pub fn parse(value: &str) -> Result<Self, Error> {
        if value.is_empty() || value.len() > 256 {
            return Err(Error::invalid("", "a lot id must be 1 to 256 characters"));
        }
        let Some((scheme, rest)) = value.split_once(':') else {
            return Err(Error::invalid(
                "",
                "a lot id must be a URI (urn:…, https://…)",
            ));
        };
        let scheme_ok = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !scheme_ok || rest.is_empty() {
            return Err(Error::invalid(
                "",
                "a lot id must be a URI (urn:…, https://…)",
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
        {
            return Err(Error::invalid(
                "",
                format!("a lot id may not contain {c:?}"),
            ));
        }
        Ok(LotId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters that change how the text around them displays without
/// showing themselves: bidirectional embeddings, overrides and isolates
/// (which make "moc.lanoitan" read as "national.com"), zero-width spaces
/// and joiners, directional marks, line and paragraph separators, the
/// byte-order mark, and interlinear annotation marks.
pub fn is_deceptive_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// Free text on one line: a name, a method, a note. No control
/// characters, no leading or trailing spaces, at most 512 bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Text(String);

impl Text {
    pub fn parse(value: &str) -> Result<Self, Error> {
        if value.is_empty() || value.len() > 512 {
            return Err(Error::invalid("", "text must be 1 to 512 bytes"));
        }
        if value.trim() != value {
            return Err(Error::invalid("", "text may not start or end with spaces"));
        }
        if value.chars().any(char::is_control) {
            return Err(Error::invalid(
                "",
                "text may not contain control characters or line breaks",
            ));
        }
        if let Some(c) = value.chars().find(|c| is_deceptive_format(*c)) {
            return Err(Error::invalid(
                "",
                format!(
                    "text may not contain U+{:04X} (invisible or direction-changing characters let a name display as another)",
                    u32::from(c)
                ),
            ));
        }
        Ok(Text(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case: `PK`, `US`, `CN`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(value: &str) -> Result<Self, Error> {
        match value.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Country([*a, *b])),
            _ => Err(Error::invalid(
                "",
                "a country is an ISO 3166-1 alpha-2 code such as PK or US",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A UTC instant to the second, written `2025-09-08T10:00:00Z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    seconds: i64,
}

impl Timestamp {
    pub fn parse(value: &str) -> Result<Self, Error> {
        let bad = || Error::invalid("", "a time is UTC to the second, as 2025-09-08T10:00:00Z");
        let b = value.as_bytes();
        // A time with an offset (`+05:00`): say what to write instead.
        if b.len() == 25
            && matches!(b[19], b'+' | b'-')
            && b[22] == b':'
            && let (Ok(local), Ok(h), Ok(m)) = (
                Timestamp::parse(&format!("{}Z", &value[..19])),
                value[20..22].parse::<i64>(),
                value[23..25].parse::<i64>(),
            )
            && h <= 23
            && m <= 59
        {
            let offset = (h * 3600 + m * 60) * if b[19] == b'+' { 1 } else { -1 };
            return Err(Error::invalid(
                "",
                format!(
                    "a time is UTC to the second, ending in Z: write {value} as {}",
                    Timestamp::from_unix(local.seconds - offset)
                ),
            ));
        }
        if b.len() != 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'Z'
        {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, Error> {
            let s = &value[r];
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        let (y, mo, d, h, mi, s) = (
            num(0..4)?,
            num(5..7)?,
            num(8..10)?,
            num(11..13)?,
            num(14..16)?,
            num(17..19)?,
        );
        if !(1900..=9999).contains(&y) || !(1..=12).contains(&mo) || h > 23 || mi > 59 || s > 59 {
            return Err(bad());
        }
        // The casts are exact: year and month are in range, the day is two digits.
        let date = time::Month::try_from(mo as u8)
            .and_then(|month| time::Date::from_calendar_date(y as i32, month, d as u8))
            .map_err(|_| bad())?;
        Ok(Timestamp {
            seconds: date.midnight().assume_utc().unix_timestamp() + h * 3600 + mi * 60 + s,
        })
    }

    pub fn from_unix(seconds: i64) -> Self {
        Timestamp { seconds }
    }

    pub fn unix(&self) -> i64 {
        self.seconds
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC (`2025-09-08T10:00:00Z`); an instant outside years
    /// 0–9999, which no parsed time is, as its seconds from the epoch.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = time::OffsetDateTime::from_unix_timestamp(self.seconds)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            });
        match text {
            Some(text) => f.write_str(&text),
            None => write!(f, "{} s from 1970-01-01T00:00:00Z", self.seconds),
        }
    }
}

/// Parses a decimal in canonical form: optional `-`, digits, optional
/// fraction without trailing zeros; no `+`, no exponent, no leading zeros.
pub fn parse_decimal(value: &str) -> Result<Decimal, Error> {
    let bad = |why: &str| Error::invalid("", format!("{value:?} is not a decimal number: {why}"));
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad("use digits with an optional decimal point"));
    }
    if digits.contains('.') && frac.is_empty() {
        return Err(bad("nothing after the decimal point"));
    }
    if frac.len() > 12 {
        return Err(bad("at most 12 decimal places"));
    }
    let d = Decimal::from_str(value).map_err(|_| bad("out of range"))?;
    Ok(d.normalize())
}

/// The canonical text of a decimal: no exponent, no trailing zeros, `0`
/// for zero.
pub fn format_decimal(value: &Decimal) -> String {
    let n = value.normalize();
    if n.is_zero() {
        "0".to_owned()
    } else {
        n.to_string()
    }
}

/// A mass unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MassUnit {
    Kilogram,
    Tonne,
}

impl MassUnit {
    pub fn parse(value: &str) -> Result<Self, Error> {
        match value {
            "kg" => Ok(MassUnit::Kilogram),
            "t" => Ok(MassUnit::Tonne),
            _ => Err(Error::invalid(
                "",
                format!("unit {value:?} is not a mass unit (kg or t)"),
            )),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            MassUnit::Kilogram => "kg",
            MassUnit::Tonne => "t",
        }
    }
}

/// The largest mass any record may state: 10^12 kg (a billion tonnes,
/// some fifty years of the world's copper mine output). The bound keeps
/// every sum and product the rules compute (256 items, grades up to 100 %)
/// far inside `Decimal`'s range, so none of them can overflow.
pub const MAX_MASS_KG: i64 = 1_000_000_000_000;

/// A non-negative mass with its unit as recorded, at most [`MAX_MASS_KG`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mass {
    value: Decimal,
    unit: MassUnit,
}

impl Mass {
    pub fn new(value: Decimal, unit: MassUnit) -> Result<Self, Error> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(Error::invalid("value", "a mass may not be negative"));
        }
        let per_unit = match unit {
            MassUnit::Kilogram => Decimal::ONE,
            MassUnit::Tonne => Decimal::from(1000),
        };
        let max = Decimal::from(MAX_MASS_KG) / per_unit;
        if value > max {
            return Err(Error::invalid(
                "value",
                format!(
                    "a mass may not exceed {} {} (10^12 kg)",
                    format_decimal(&max),
                    unit.as_str()
                ),
            ));
        }
        Ok(Mass {
            value: value.normalize(),
            unit,
        })
    }

    pub fn value(&self) -> Decimal {
        self.value
    }

    pub fn unit(&self) -> MassUnit {
        self.unit
    }

    /// The mass in kilograms. Cannot overflow: [`Mass::new`] bounds the
    /// value to [`MAX_MASS_KG`].
    pub fn kilograms(&self) -> Decimal {
        match self.unit {
            MassUnit::Kilogram => self.value,
            MassUnit::Tonne => self
                .value
                .checked_mul(Decimal::from(1000))
                .unwrap_or(Decimal::MAX),
        }
    }
}

impl fmt::Display for Mass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", format_decimal(&self.value), self.unit.as_str())
    }
}

/// A share in percent, `0 <= p <= 100`; `below_hundred` excludes 100.
pub fn percent(value: Decimal, below_hundred: bool) -> Result<Decimal, Error> {
    let hundred = Decimal::from(100);
    if value.is_sign_negative() && !value.is_zero() {
        return Err(Error::invalid("", "a percentage may not be negative"));
    }
    if value > hundred || (below_hundred && value == hundred) {
        let bound = if below_hundred {
            "below 100"
        } else {
            "at most 100"
        };
        return Err(Error::invalid("", format!("a percentage must be {bound}")));
    }
    Ok(value.normalize())
}

/// A share in percent, `0 <= p <= 100`, kept in canonical form (written
/// as [`format_decimal`] writes it: `12.5`, `0`, `100`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Percent(Decimal);

impl Percent {
    /// A percentage at most 100 (see [`percent`]).
    pub fn new(value: Decimal) -> Result<Self, Error> {
        percent(value, false).map(Percent)
    }

    /// A percentage below 100, as a moisture is (see [`percent`]).
    pub fn below_hundred(value: Decimal) -> Result<Self, Error> {
        percent(value, true).map(Percent)
    }

    /// Parses a canonical decimal (see [`parse_decimal`]) at most 100.
    pub fn parse(value: &str) -> Result<Self, Error> {
        Percent::new(parse_decimal(value)?)
    }

    pub fn value(&self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_decimal(&self.0))
    }
}

/// A point on the globe: latitude in [-90, 90], longitude in [-180, 180].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Coordinates {
    lat: Decimal,
    lon: Decimal,
}

impl Coordinates {
    pub fn new(lat: Decimal, lon: Decimal) -> Result<Self, Error> {
        if lat.abs() > Decimal::from(90) {
            return Err(Error::invalid("lat", "latitude must be between -90 and 90"));
        }
        if lon.abs() > Decimal::from(180) {
            return Err(Error::invalid(
                "lon",
                "longitude must be between -180 and 180",
            ));
        }
        Ok(Coordinates {
            lat: lat.normalize(),
            lon: lon.normalize(),
        })
    }

    pub fn lat(&self) -> Decimal {
        self.lat
    }

    pub fn lon(&self) -> Decimal {
        self.lon
    }
}

impl fmt::Display for Coordinates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            format_decimal(&self.lat),
            format_decimal(&self.lon)
        )
    }
}

/// A SHA-256 digest of a document, written as 64 lower-case hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    pub fn parse(value: &str) -> Result<Self, Error> {
        let bad = || Error::invalid("", "a digest is 64 lower-case hex digits (SHA-256)");
        if value.len() != 64
            || !value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, chunk) in value.as_bytes().chunks(2).enumerate() {
            let s = std::str::from_utf8(chunk).map_err(|_| bad())?;
            out[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
        }
        Ok(Digest(out))
    }

    pub fn of(bytes: &[u8]) -> Self {
        Digest(oretrace_tlog::hash::sha256(bytes))
    }

    /// 32 bytes already computed (a record hash, a Merkle root, a salt).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Digest(bytes)
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_and_refuse_nonsense() {
        for t in [
            "2025-09-08T10:00:00Z",
            "2024-02-29T23:59:59Z",
            "1970-01-01T00:00:00Z",
            "2000-03-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(t).unwrap().to_string(), t);
        }
        assert_eq!(
            Timestamp::parse("1970-01-02T00:00:01Z").unwrap().unix(),
            86_401
        );
        for bad in [
            "2025-02-29T00:00:00Z",
            "2025-09-08 10:00:00Z",
            "2025-09-08T10:00:00+05:00",
            "2025-13-01T00:00:00Z",
            "2025-09-08T24:00:00Z",
            "2025-04-31T00:00:00Z",
            "2025-09-00T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "1899-12-31T23:59:59Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
        for t in [
            "1900-01-01T00:00:00Z",
            "2000-02-29T12:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(Timestamp::parse(t).unwrap().to_string(), t);
        }
    }

    #[test]
    fn instants_outside_the_written_years_say_so_and_do_not_parse() {
        assert_eq!(
            Timestamp::from_unix(-62_167_219_200).to_string(),
            "0000-01-01T00:00:00Z"
        );
        for seconds in [-62_167_219_201, 253_402_300_800, i64::MIN, i64::MAX] {
            let text = Timestamp::from_unix(seconds).to_string();
            assert_eq!(text, format!("{seconds} s from 1970-01-01T00:00:00Z"));
            assert!(Timestamp::parse(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn decimals_are_canonical() {
        assert_eq!(format_decimal(&parse_decimal("12.50").unwrap()), "12.5");
        assert_eq!(format_decimal(&parse_decimal("100").unwrap()), "100");
        assert_eq!(format_decimal(&parse_decimal("-0.0").unwrap()), "0");
        assert_eq!(
            format_decimal(&parse_decimal("0.000001").unwrap()),
            "0.000001"
        );
        for bad in [
            "1e3",
            "+1",
            ".5",
            "5.",
            "1,5",
            "",
            "-",
            "0x10",
            "1.0000000000001",
        ] {
            assert!(parse_decimal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_check_their_rules() {
        assert!(Mass::new(parse_decimal("-1").unwrap(), MassUnit::Kilogram).is_err());
        assert!(Mass::new(parse_decimal("1000000000000").unwrap(), MassUnit::Kilogram).is_ok());
        assert!(
            Mass::new(
                parse_decimal("1000000000000.1").unwrap(),
                MassUnit::Kilogram
            )
            .is_err()
        );
        assert!(Mass::new(parse_decimal("1000000000").unwrap(), MassUnit::Tonne).is_ok());
        assert!(
            Mass::new(
                parse_decimal("100000000000000000000000000").unwrap(),
                MassUnit::Tonne
            )
            .is_err()
        );
        assert_eq!(
            Mass::new(parse_decimal("1.25").unwrap(), MassUnit::Tonne)
                .unwrap()
                .kilograms(),
            parse_decimal("1250").unwrap()
        );
        assert!(percent(parse_decimal("100").unwrap(), true).is_err());
        assert!(percent(parse_decimal("100").unwrap(), false).is_ok());
        assert_eq!(Percent::parse("12.50").unwrap().to_string(), "12.5");
        assert_eq!(Percent::parse("100").unwrap().to_string(), "100");
        assert!(Percent::parse("100.1").is_err());
        assert!(Percent::parse("-1").is_err());
        assert!(Percent::parse("1e2").is_err());
        assert!(Percent::below_hundred(parse_decimal("100").unwrap()).is_err());
        assert!(Coordinates::new(parse_decimal("91").unwrap(), Decimal::ZERO).is_err());
        assert!(Coordinates::new(Decimal::ZERO, parse_decimal("-180.5").unwrap()).is_err());
        assert!(Country::parse("pk").is_err());
        assert!(LotId::parse("urn:epc:class:lgtin:4012345.012345.998877").is_ok());
        assert!(LotId::parse("lot 1").is_err());
        assert!(PartyId::parse("FWO").is_err());
        assert!(Text::parse("two\nlines").is_err());
        for deceptive in [
            "FWO\u{202E}moc",
            "US\u{200B}SM",
            "a\u{2028}b",
            "\u{FEFF}x",
            "x\u{2066}y",
        ] {
            assert!(Text::parse(deceptive).is_err(), "{deceptive:?}");
        }
        assert!(Text::parse("فرنٹیئر ورکس آرگنائزیشن").is_ok());
        assert_eq!(
            Digest::of(b"").to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
