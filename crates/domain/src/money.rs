//! Money and calendar dates, as agreements state them
//! (`docs/design/agreements.md`): an exact amount in an ISO 4217 currency
//! (no currency conversion ever happens in the registry), and a day
//! without a time of day (a signing date, a due date).

use std::fmt;

use rust_decimal::Decimal;

use crate::Error;
use crate::values::{format_decimal, parse_decimal};

/// The ISO 4217 currency codes in use, as the OCDS 1.1.5 `currency`
/// codelist lists them without a "valid until" date
/// (`shared/conformance/ocds/codelists/currency.csv`; a test keeps the
/// two equal).
pub const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW",
    "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA",
    "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
    "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLL",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VES", "VND",
    "VUV", "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XDR", "XOF", "XPD",
    "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR", "ZMW", "ZWL",
];

/// Largest amount an agreement may state: 10^15 units of its currency
/// (a quadrillion: above any pledge, and far from where sums of many
/// amounts could overflow a decimal).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// An ISO 4217 currency code in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(&'static str);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, Error> {
        CURRENCIES
            .iter()
            .find(|c| **c == code)
            .map(|c| Currency(c))
            .ok_or_else(|| {
                let hint = if CURRENCIES.iter().any(|c| c.eq_ignore_ascii_case(code)) {
                    format!(" (write it in capitals: {})", code.to_ascii_uppercase())
                } else {
                    String::new()
                };
                Error::invalid(
                    "",
                    format!(
                        "{:?} is not an ISO 4217 currency code in use{hint}",
                        code.chars().take(16).collect::<String>()
                    ),
                )
            })
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// An exact, non-negative amount of one currency: canonical text
/// `<decimal> <code>` (`500000000 USD`, `12.5 PKR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, Error> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(Error::invalid("amount", "an amount is not negative"));
        }
        if amount > Decimal::from(MAX_AMOUNT) {
            return Err(Error::invalid(
                "amount",
                format!("at most {MAX_AMOUNT} units of a currency"),
            ));
        }
        Ok(Money {
            amount: amount.normalize(),
            currency,
        })
    }

    /// Parses the canonical text `<decimal> <code>`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let (amount, currency) = text.split_once(' ').ok_or_else(|| {
            Error::invalid(
                "",
                "an amount is <decimal> <ISO 4217 code>, e.g. 500000000 USD",
            )
        })?;
        let text_amount = amount;
        let amount = parse_decimal(amount).map_err(|e| e.within("amount"))?;
        if format_decimal(&amount) != text_amount {
            return Err(Error::invalid(
                "amount",
                format!(
                    "write {} (no trailing zeros, no leading zeros)",
                    format_decimal(&amount)
                ),
            ));
        }
        let currency = Currency::parse(currency).map_err(|e| e.within("currency"))?;
        Money::new(amount, currency)
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", format_decimal(&self.amount), self.currency)
    }
}

/// A calendar day (proleptic Gregorian, years 1 to 9999), written
/// `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(time::Date);

impl Date {
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || {
            Error::invalid(
                "",
                format!(
                    "{:?} is not a date: write YYYY-MM-DD (e.g. 2025-09-08)",
                    text.chars().take(32).collect::<String>()
                ),
            )
        };
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let number = |r: std::ops::Range<usize>| -> Result<u32, Error> {
            let part = &text[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
            .ok_or_else(bad)?;
        let year = i32::try_from(year).map_err(|_| bad())?;
        if year < 1 {
            return Err(bad());
        }
        let day = u8::try_from(day).map_err(|_| bad())?;
        time::Date::from_calendar_date(year, month, day)
            .map(Date)
            .map_err(|_| bad())
    }
}

impl Date {
    /// The UTC day of a Unix time in seconds (clamped to years 1–9999).
    pub fn from_unix(seconds: i64) -> Self {
        let t = time::OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(if seconds < 0 {
            time::OffsetDateTime::UNIX_EPOCH
        } else {
            time::PrimitiveDateTime::new(time::Date::MAX, time::Time::MIDNIGHT).assume_utc()
        });
        Date(t.date())
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.0.year()
    }

    /// Whole days from `earlier` to this day (negative if `earlier` is
    /// later).
    pub fn days_since(&self, earlier: Date) -> i64 {
        (self.0 - earlier.0).whole_days()
    }

    /// The UTC day of a record time.
    pub fn of(time: crate::values::Timestamp) -> Self {
        Date::from_unix(time.unix())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_one_canonical_text() {
        let m = Money::parse("500000000 USD").unwrap();
        assert_eq!(m.to_string(), "500000000 USD");
        assert_eq!(m.currency().as_str(), "USD");
        assert_eq!(Money::parse("12.5 PKR").unwrap().to_string(), "12.5 PKR");
        for bad in [
            "500000000",
            "500000000 usd",
            "500000000 DEM",
            "500000000 XYZ",
            "-1 USD",
            "1e9 USD",
            "1.50 USD",
            "01 USD",
            "500000000  USD",
            "1000000000000001 USD",
        ] {
            assert!(Money::parse(bad).is_err(), "{bad}");
        }
        let lower = Currency::parse("usd").unwrap_err().to_string();
        assert!(lower.contains("capitals: USD"), "{lower}");
    }

    #[test]
    fn dates_are_calendar_days() {
        for good in ["2025-09-08", "2024-02-29", "0001-01-01", "9999-12-31"] {
            assert_eq!(Date::parse(good).unwrap().to_string(), good);
        }
        for bad in [
            "2025-9-8",
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "0000-01-01",
            "2025-09-08T00:00:00Z",
            "+202-09-08",
            "２０２５-09-08",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
        assert!(Date::parse("2025-09-08").unwrap() < Date::parse("2025-10-01").unwrap());
    }
}
