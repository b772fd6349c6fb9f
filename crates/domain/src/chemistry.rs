//! Elements, oxides and the exact element↔oxide conversion. Factors are
//! computed from IUPAC standard atomic weights, not copied from rounded
//! tables; the tests check them against the published four-digit factors.

use std::fmt;
use std::str::FromStr as _;

use rust_decimal::Decimal;

use crate::Error;

/// (symbol, standard atomic weight) for the elements the registry assays.
const ELEMENTS: &[(&str, &str)] = &[
    ("Ag", "107.8682"),
    ("Al", "26.9815385"),
    ("Au", "196.966570"),
    ("Ba", "137.327"),
    ("Be", "9.0121831"),
    ("Bi", "208.98040"),
    ("Ca", "40.078"),
    ("Ce", "140.116"),
    ("Co", "58.933194"),
    ("Cr", "51.9961"),
    ("Cu", "63.546"),
    ("Dy", "162.500"),
    ("Er", "167.259"),
    ("Eu", "151.964"),
    ("Fe", "55.845"),
    ("Ga", "69.723"),
    ("Gd", "157.25"),
    ("Ge", "72.630"),
    ("Hf", "178.49"),
    ("Ho", "164.93033"),
    ("In", "114.818"),
    ("La", "138.90547"),
    ("Li", "6.94"),
    ("Lu", "174.9668"),
    ("Mg", "24.305"),
    ("Mn", "54.938044"),
    ("Mo", "95.95"),
    ("Nb", "92.90637"),
    ("Nd", "144.242"),
    ("Ni", "58.6934"),
    ("Pb", "207.2"),
    ("Pd", "106.42"),
    ("Pr", "140.90766"),
    ("Pt", "195.084"),
    ("S", "32.06"),
    ("Sb", "121.760"),
    ("Sc", "44.955908"),
    ("Si", "28.085"),
    ("Sm", "150.36"),
    ("Sn", "118.710"),
    ("Ta", "180.94788"),
    ("Tb", "158.92535"),
    ("Th", "232.0377"),
    ("Ti", "47.867"),
    ("Tm", "168.93422"),
    ("U", "238.02891"),
    ("V", "50.9415"),
    ("W", "183.84"),
    ("Y", "88.90584"),
    ("Yb", "173.045"),
    ("Zn", "65.38"),
    ("Zr", "91.224"),
];
const OXYGEN: &str = "15.999";

/// A chemical element the registry knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Element(&'static str);

impl Element {
    pub fn parse(symbol: &str) -> Result<Self, Error> {
        ELEMENTS
            .iter()
            .find(|(s, _)| *s == symbol)
            .map(|(s, _)| Element(s))
            .ok_or_else(|| {
                Error::invalid(
                    "",
                    format!("{symbol:?} is not an element symbol this registry knows"),
                )
            })
    }

    pub fn symbol(&self) -> &'static str {
        self.0
    }

    pub fn atomic_weight(&self) -> Decimal {
        let weight = ELEMENTS
            .iter()
            .find(|(s, _)| *s == self.0)
            .map_or("0", |(_, w)| w);
        Decimal::from_str(weight).unwrap_or_default()
    }
}

/// An oxide `E_xO_y` of a known element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Oxide {
    element: Element,
    metal_atoms: u8,
    oxygen_atoms: u8,
}

impl Oxide {
    pub fn element(&self) -> Element {
        self.element
    }

    /// Mass of oxide per unit mass of contained element:
    /// `(x·M(E) + y·M(O)) / (x·M(E))`.
    pub fn factor(&self) -> Decimal {
        let metal = self.element.atomic_weight() * Decimal::from(self.metal_atoms);
        let oxygen =
            Decimal::from_str(OXYGEN).unwrap_or_default() * Decimal::from(self.oxygen_atoms);
        (metal + oxygen) / metal
    }
}

impl fmt::Display for Oxide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.element.symbol())?;
        if self.metal_atoms > 1 {
            write!(f, "{}", self.metal_atoms)?;
        }
        f.write_str("O")?;
        if self.oxygen_atoms > 1 {
            write!(f, "{}", self.oxygen_atoms)?;
        }
        Ok(())
    }
}

/// What an assay measures: an element, or an oxide of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Analyte {
    Element(Element),
    Oxide(Oxide),
}

fn split_symbol(text: &str) -> Option<(&str, &str)> {
    let mut chars = text.char_indices();
    let (_, first) = chars.next()?;
    if !first.is_ascii_uppercase() {
        return None;
    }
    let end = match chars.next() {
        Some((i, c)) if c.is_ascii_lowercase() => i + c.len_utf8(),
        Some((i, _)) => i,
        None => text.len(),
    };
    Some(text.split_at(end))
}

fn split_count(text: &str) -> Option<(u8, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if end == 0 {
        return Some((1, text));
    }
    let digits = &text[..end];
    if digits.starts_with('0') || digits == "1" {
        return None;
    }
    Some((digits.parse().ok()?, &text[end..]))
}

impl Analyte {
    /// Parses `Nd` or `Nd2O3`, in canonical formula form (no `1` counts).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || {
            Error::invalid(
                "",
                format!("{text:?} is not an element (Nd) or oxide (Nd2O3) formula"),
            )
        };
        let (symbol, rest) = split_symbol(text).ok_or_else(bad)?;
        let element = Element::parse(symbol)?;
        if rest.is_empty() {
            return Ok(Analyte::Element(element));
        }
        let (metal_atoms, rest) = split_count(rest).ok_or_else(bad)?;
        let rest = rest.strip_prefix('O').ok_or_else(bad)?;
        let (oxygen_atoms, rest) = split_count(rest).ok_or_else(bad)?;
        if !rest.is_empty() {
            return Err(bad());
        }
        Ok(Analyte::Oxide(Oxide {
            element,
            metal_atoms,
            oxygen_atoms,
        }))
    }

    pub fn element(&self) -> Element {
        match self {
            Analyte::Element(e) => *e,
            Analyte::Oxide(o) => o.element(),
        }
    }

    /// Converts a grade of this analyte to the grade of its element.
    pub fn to_element_grade(&self, grade: Decimal) -> Decimal {
        match self {
            Analyte::Element(_) => grade,
            Analyte::Oxide(o) => grade / o.factor(),
        }
    }
}

impl fmt::Display for Analyte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Analyte::Element(e) => f.write_str(e.symbol()),
            Analyte::Oxide(o) => o.fmt(f),
        }
    }
}

/// Units of a grade: 1 % = 10,000 ppm; ppm = g/t = mg/kg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GradeUnit {
    Percent,
    Ppm,
    GramsPerTonne,
}

impl GradeUnit {
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "%" => Ok(GradeUnit::Percent),
            "ppm" => Ok(GradeUnit::Ppm),
            "g/t" => Ok(GradeUnit::GramsPerTonne),
            _ => Err(Error::invalid(
                "",
                format!("unit {text:?} is not a grade unit (%, ppm or g/t)"),
            )),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            GradeUnit::Percent => "%",
            GradeUnit::Ppm => "ppm",
            GradeUnit::GramsPerTonne => "g/t",
        }
    }

    /// A value in this unit, in percent.
    pub fn to_percent(&self, value: Decimal) -> Decimal {
        match self {
            GradeUnit::Percent => value,
            GradeUnit::Ppm | GradeUnit::GramsPerTonne => value / Decimal::from(10_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four-digit factors of the reference scenario.
    #[test]
    fn oxide_factors_match_the_published_values() {
        for (formula, factor) in [
            ("Nd2O3", "1.1664"),
            ("Pr6O11", "1.2082"),
            ("La2O3", "1.1728"),
            ("CeO2", "1.2284"),
            ("Dy2O3", "1.1477"),
            ("Tb4O7", "1.1762"),
            ("Y2O3", "1.2699"),
            ("Sb2O3", "1.1971"),
        ] {
            let Analyte::Oxide(oxide) = Analyte::parse(formula).unwrap() else {
                panic!("{formula} is an oxide")
            };
            assert_eq!(
                oxide.factor().round_dp(4),
                Decimal::from_str(factor).unwrap(),
                "{formula}"
            );
            assert_eq!(oxide.to_string(), formula);
        }
    }

    #[test]
    fn conversion_round_trips() {
        let oxide = Analyte::parse("Nd2O3").unwrap();
        let Analyte::Oxide(o) = oxide else {
            unreachable!()
        };
        let element_grade = oxide.to_element_grade(Decimal::from(35));
        assert_eq!((element_grade * o.factor()).round_dp(20), Decimal::from(35));
        assert_eq!(
            GradeUnit::Ppm.to_percent(Decimal::from(10_000)),
            Decimal::ONE
        );
    }

    #[test]
    fn formulas_are_canonical() {
        for bad in ["nd", "Nd1O3", "Nd2O", "Nd2O3x", "Xx", "Nd02O3", "O", "NdO1"] {
            if bad == "Nd2O" {
                assert!(Analyte::parse(bad).is_ok(), "Nd2O is a formula");
                continue;
            }
            assert!(Analyte::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Analyte::parse("CuO").unwrap().to_string(), "CuO");
    }
}
