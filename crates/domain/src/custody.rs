//! Chain-of-custody declarations and claims (ISO 22095): a site declares
//! the model it keeps an attribute under for a period, and the custodian
//! of an output lot claims the attribute for a share of one element.
//! The ledger judges a claim against the declaration when it arrives
//! (`docs/design/provenance.md`, "Declarations and claims").

use rust_decimal::Decimal;

use crate::Error;
use crate::chemistry::Element;
use crate::record::{Figures, MAX_ITEMS, vocabulary};
use crate::values::{LotId, SiteId, Text, Timestamp};

vocabulary!(
    /// The four ISO 22095 chain-of-custody models.
    CustodyModelKind {
        IdentityPreserved => "identity-preserved",
        Segregated => "segregated",
        ControlledBlending => "controlled-blending",
        MassBalance => "mass-balance",
    }
);

/// A site declares the chain-of-custody model it keeps an attribute
/// under, from `from` (and until `until`, when given): material whose
/// element comes from the `specified` origin sites carries the attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustodyModel {
    pub site: SiteId,
    /// What is specified: `origin: Pakistan`, `certified: IRMA`.
    pub attribute: Text,
    pub model: CustodyModelKind,
    /// The origin sites whose material carries the attribute.
    pub specified: Vec<SiteId>,
    pub from: Timestamp,
    pub until: Option<Timestamp>,
    pub time: Timestamp,
    pub figures: Figures,
}

impl CustodyModel {
    pub fn check(&self) -> Result<(), Error> {
        if self.specified.is_empty() || self.specified.len() > MAX_ITEMS {
            return Err(Error::invalid(
                "specified",
                format!("lists 1 to {MAX_ITEMS} origin sites"),
            ));
        }
        for (i, s) in self.specified.iter().enumerate() {
            if self.specified[..i].contains(s) {
                return Err(Error::invalid(format!("specified[{i}]"), "is listed twice"));
            }
        }
        if let Some(until) = self.until
            && until <= self.from
        {
            return Err(Error::invalid("until", "the period ends after it starts"));
        }
        Ok(())
    }

    /// Whether the declared period holds `t` (`from <= t < until`).
    pub fn holds_at(&self, t: Timestamp) -> bool {
        t >= self.from && self.until.is_none_or(|u| t < u)
    }

    /// Whether the declared period and `[from, until)` share an instant.
    pub fn overlaps(&self, from: Timestamp, until: Option<Timestamp>) -> bool {
        self.until.is_none_or(|u| from < u) && until.is_none_or(|u| self.from < u)
    }
}

/// The custodian of an output lot claims the attribute for a share (0 to
/// 1) of the lot's element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeClaim {
    pub lot: LotId,
    pub attribute: Text,
    pub element: Element,
    /// A fraction, 0 to 1.
    pub share: Decimal,
    pub time: Timestamp,
    pub figures: Figures,
}

impl AttributeClaim {
    pub fn check(&self) -> Result<(), Error> {
        if self.share.is_sign_negative() && !self.share.is_zero() || self.share > Decimal::ONE {
            return Err(Error::invalid("share", "a share is a fraction from 0 to 1"));
        }
        Ok(())
    }
}
