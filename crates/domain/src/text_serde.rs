//! serde for the validating types, in the exact text each prints: a value
//! read from JSON is checked as its parser checks it, so a stored
//! document that breaks a rule is an error when it is read, never a
//! value that exists without its invariant. Masses are written in their
//! API shape (`{"value": "1.5", "unit": "t"}`, [`MassJson`]).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;
use crate::agreement::{
    AgreementKind, AgreementStatus, ReportStatus, ReportingCode, ResourceClass, ScopedId,
};
use crate::chemistry::Element;
use crate::money::{Date, Money};
use crate::record::{Figures, LotForm};
use crate::values::{
    Country, Digest, LotId, Mass, PartyId, Percent, SiteId, Text, Timestamp, Token,
};
use crate::wire::MassJson;

/// Why `text` was refused, without the empty field path a scalar's
/// parser reports.
fn refusal(text: &str, e: Error) -> String {
    match e {
        Error::Invalid { field, rule } if field.is_empty() => format!("{text:?}: {rule}"),
        other => format!("{text:?}: {other}"),
    }
}

macro_rules! as_text {
    ($($ty:ty: $parse:expr, $print:expr;)+) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let print: fn(&$ty) -> &str = $print;
                s.serialize_str(print(self))
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                let parse: fn(&str) -> Result<$ty, Error> = $parse;
                parse(&text).map_err(|e| D::Error::custom(refusal(&text, e)))
            }
        }
    )+};
}

as_text! {
    PartyId: PartyId::parse, PartyId::as_str;
    SiteId: SiteId::parse, SiteId::as_str;
    Token: Token::parse, Token::as_str;
    LotId: LotId::parse, LotId::as_str;
    Text: Text::parse, Text::as_str;
    Country: Country::parse, Country::as_str;
    Figures: Figures::parse, Figures::as_str;
    LotForm: LotForm::parse, LotForm::as_str;
    Element: Element::parse, Element::symbol;
    ScopedId: ScopedId::parse, ScopedId::as_str;
    AgreementKind: AgreementKind::parse, AgreementKind::as_str;
    AgreementStatus: AgreementStatus::parse, AgreementStatus::as_str;
    ReportStatus: ReportStatus::parse, ReportStatus::as_str;
    ReportingCode: ReportingCode::parse, ReportingCode::as_str;
    ResourceClass: ResourceClass::parse, ResourceClass::as_str;
}

macro_rules! as_display {
    ($($ty:ty: $parse:expr;)+) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                let parse: fn(&str) -> Result<$ty, Error> = $parse;
                parse(&text).map_err(|e| D::Error::custom(refusal(&text, e)))
            }
        }
    )+};
}

as_display! {
    Timestamp: Timestamp::parse;
    Percent: Percent::parse;
    Digest: Digest::parse;
    Date: Date::parse;
    Money: Money::parse;
}

impl Serialize for Mass {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MassJson::of(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Mass {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        MassJson::deserialize(d)?
            .to_mass()
            .map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{MassUnit, parse_decimal};

    fn round_trip<T>(json: &str)
    where
        T: Serialize + for<'de> Deserialize<'de>,
    {
        let value: T = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), json);
    }

    #[test]
    fn values_read_and_write_their_one_text() {
        round_trip::<PartyId>(r#""gov-pk""#);
        round_trip::<SiteId>(r#""fwo-karachi-port""#);
        round_trip::<Token>(r#""fwo-export-2025-0001""#);
        round_trip::<LotId>(r#""urn:oretrace:lot:fwo:sb-1""#);
        round_trip::<Text>(r#""Frontier Works Organization""#);
        round_trip::<Country>(r#""PK""#);
        round_trip::<Figures>(r#""illustrative""#);
        round_trip::<LotForm>(r#""concentrate""#);
        round_trip::<Element>(r#""Nd""#);
        round_trip::<Timestamp>(r#""2025-09-08T10:00:00Z""#);
        round_trip::<Percent>(r#""12.5""#);
        round_trip::<Mass>(r#"{"value":"1.25","unit":"t"}"#);
        let mass = Mass::new(parse_decimal("1.25").unwrap(), MassUnit::Tonne).unwrap();
        assert_eq!(
            serde_json::to_string(&mass).unwrap(),
            r#"{"value":"1.25","unit":"t"}"#
        );
    }

    #[test]
    fn a_value_that_breaks_its_rule_is_refused_when_read() {
        let refused = |result: Result<(), String>, needle: &str| {
            let e = result.unwrap_err();
            assert!(e.contains(needle), "{e}");
        };
        let read =
            |json: &str, f: fn(&str) -> serde_json::Result<()>| f(json).map_err(|e| e.to_string());
        refused(
            read(r#""FWO""#, |j| serde_json::from_str::<PartyId>(j).map(drop)),
            "\"FWO\": a party id must start with a lower-case letter or digit",
        );
        refused(
            read(r#""2025-02-30T00:00:00Z""#, |j| {
                serde_json::from_str::<Timestamp>(j).map(drop)
            }),
            "a time is UTC to the second",
        );
        refused(
            read(r#""100.5""#, |j| {
                serde_json::from_str::<Percent>(j).map(drop)
            }),
            "a percentage must be at most 100",
        );
        refused(
            read(r#"{"value":"-1","unit":"kg"}"#, |j| {
                serde_json::from_str::<Mass>(j).map(drop)
            }),
            "a mass may not be negative",
        );
        refused(
            read(r#"{"value":"1","unit":"lb"}"#, |j| {
                serde_json::from_str::<Mass>(j).map(drop)
            }),
            "mass.unit",
        );
        refused(
            read(r#""Xx""#, |j| serde_json::from_str::<Element>(j).map(drop)),
            "not an element symbol",
        );
        refused(
            read(r#"7"#, |j| serde_json::from_str::<LotId>(j).map(drop)),
            "invalid type",
        );
    }
}
