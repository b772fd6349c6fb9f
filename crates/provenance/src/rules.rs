//! Compliance rule packs as data, and their evaluation over the facts of
//! one lot's provenance (`docs/design/provenance.md`, "Compliance rule
//! packs"). A pack is a JSON file a user reads and edits; each rule picks
//! one of six generic tests and gives it its data, so no rule is a code
//! branch. The evaluator is pure: the caller builds the [`Facts`] (shares,
//! origins, sites passed, custodians, the parties' ownership links) from
//! the ledger and turns the log indices in each verdict into receipts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rust_decimal::Decimal;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use oretrace_domain::chemistry::Element;
use oretrace_domain::record::{PartyKind, SiteKind};
use oretrace_domain::values::{Country, PartyId, SiteId, Timestamp};

use crate::attribute::Role;

/// Most packs one registry loads.
pub const MAX_PACKS: usize = 64;
/// Most rules in one pack.
pub const MAX_RULES: usize = 256;
/// Most countries, elements, roles, kinds or areas one rule lists.
pub const MAX_LIST: usize = 1_000;
/// Largest pack file, bytes.
pub const MAX_PACK_BYTES: usize = 1 << 20;
/// Most parties one ownership walk visits.
pub const MAX_PARTIES: usize = 1_000;
/// Most ownership links on one chain.
pub const MAX_DEPTH: usize = 16;

/// A pack that could not be read: the file, the line and column, the rule
/// when known, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {why}", at(*.line, *.column))]
pub struct PackError {
    pub file: String,
    /// 1-based; 0 when the error concerns the whole file.
    pub line: usize,
    pub column: usize,
    pub why: String,
}

fn at(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{column}")
    }
}

/// What breaking a rule means, in the words of its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// The material may not be used (DFARS).
    Prohibited,
    /// A red flag that calls for enhanced due diligence (OECD).
    RedFlag,
    /// A benchmark that is exceeded (EU CRMA).
    Benchmark,
}

impl Effect {
    pub fn as_str(&self) -> &'static str {
        match self {
            Effect::Prohibited => "prohibited",
            Effect::RedFlag => "red-flag",
            Effect::Benchmark => "benchmark",
        }
    }
}

/// Which parties a `controlled-parties` rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Whom {
    /// Every party that held an upstream lot.
    Custodians,
    /// The operators of the sites passed in the rule's roles.
    SiteOperators,
}

/// A named area: countries, latitude–longitude boxes, or both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Area {
    pub name: String,
    pub countries: Vec<Country>,
    pub boxes: Vec<GeoBox>,
}

/// South ≤ north; west ≤ east (a box does not cross the antimeridian:
/// give two).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeoBox {
    pub south: Decimal,
    pub west: Decimal,
    pub north: Decimal,
    pub east: Decimal,
}

impl GeoBox {
    fn holds(&self, lat: Decimal, lon: Decimal) -> bool {
        self.south <= lat && lat <= self.north && self.west <= lon && lon <= self.east
    }
}

/// The six generic tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    /// The share of each element from the listed countries is at most
    /// `max_share`.
    OriginCountries {
        countries: Vec<Country>,
        max_share: Decimal,
    },
    /// No site with one of the roles lies in a listed country.
    SiteCountries {
        roles: Vec<Role>,
        countries: Vec<Country>,
    },
    /// No party looked at is owned at `threshold_percent` or more, or
    /// controlled, by the government of a listed country.
    ControlledParties {
        whom: Vec<Whom>,
        roles: Vec<Role>,
        governments_of: Vec<Country>,
        threshold_percent: Decimal,
    },
    /// No party looked at (custodians, operators of the sites in the
    /// roles) is of a listed country (organised or based there: subject
    /// to its jurisdiction).
    PartyCountries {
        whom: Vec<Whom>,
        roles: Vec<Role>,
        countries: Vec<Country>,
    },
    /// No site with one of the roles lies inside a listed area.
    Areas { roles: Vec<Role>, areas: Vec<Area> },
    /// Every origin site is of one of the kinds.
    OriginSiteKinds { kinds: Vec<SiteKind> },
    /// No one country outside `exempt` supplies more than `max_share` of
    /// an element.
    SingleCountryShare {
        exempt: Vec<Country>,
        max_share: Decimal,
    },
}

impl Test {
    pub fn name(&self) -> &'static str {
        match self {
            Test::OriginCountries { .. } => "origin-countries",
            Test::SiteCountries { .. } => "site-countries",
            Test::ControlledParties { .. } => "controlled-parties",
            Test::PartyCountries { .. } => "party-countries",
            Test::Areas { .. } => "areas",
            Test::OriginSiteKinds { .. } => "origin-site-kinds",
            Test::SingleCountryShare { .. } => "single-country-share",
        }
    }
}

/// One rule of a pack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    /// The rule in one sentence, as the pack states it.
    pub says: String,
    pub effect: Effect,
    /// The elements the rule concerns; empty: every element.
    pub elements: Vec<Element>,
    /// The day the rule takes effect, when the source gives one (shown
    /// with the verdict; the verdict is computed either way).
    pub in_force_from: Option<String>,
    pub test: Test,
}

/// A rule pack as loaded: what its file says, and the SHA-256 of the
/// file's bytes (which names the exact version a verdict used).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulePack {
    pub id: String,
    pub title: String,
    pub version: String,
    pub source: String,
    pub note: String,
    pub rules: Vec<Rule>,
    pub sha256: [u8; 32],
    /// The file's bytes, served as they are.
    pub text: String,
}

// ---- the file format ------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: String,
    title: String,
    version: String,
    source: String,
    #[serde(default)]
    note: String,
    rules: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaFile {
    name: String,
    #[serde(default)]
    countries: Vec<String>,
    #[serde(default)]
    boxes: Vec<BoxFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BoxFile {
    south: String,
    west: String,
    north: String,
    east: String,
}

/// A rule as written; checked into a [`Rule`] as it is read, so an error
/// carries the line and column where the rule ends.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, try_from = "RuleFields")]
struct RuleFile(Rule);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFields {
    id: String,
    says: String,
    effect: Effect,
    test: String,
    #[serde(default)]
    elements: Vec<String>,
    #[serde(default)]
    countries: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    whom: Vec<Whom>,
    #[serde(default)]
    governments_of: Vec<String>,
    threshold_percent: Option<String>,
    max_share: Option<String>,
    #[serde(default)]
    exempt: Vec<String>,
    #[serde(default)]
    areas: Vec<AreaFile>,
    #[serde(default)]
    kinds: Vec<String>,
    in_force_from: Option<String>,
}

fn role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| {
        format!("{text:?} is not a role (origin, processing, departure, transit, arrival)")
    })
}

fn list<T>(
    field: &str,
    items: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    if items.len() > MAX_LIST {
        return Err(format!("{field} lists more than {MAX_LIST} items"));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(parse(item).map_err(|e| format!("{field}[{i}]: {e}"))?);
    }
    Ok(out)
}

fn country(text: &str) -> Result<Country, String> {
    Country::parse(text).map_err(|e| format!("{text:?}: {e}"))
}

/// A decimal written as JSON text, as records write them (`"0.25"`).
fn decimal(field: &str, text: &str) -> Result<Decimal, String> {
    let ok = !text.is_empty()
        && text.len() <= 40
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    ok.then(|| std::str::FromStr::from_str(text).ok())
        .flatten()
        .ok_or_else(|| {
            format!("{field} is a decimal written as text, such as \"0.25\", not {text:?}")
        })
}

fn share(field: &str, value: Option<&String>) -> Result<Decimal, String> {
    match value.map(|t| decimal(field, t)).transpose()? {
        Some(v) if v >= Decimal::ZERO && v <= Decimal::ONE => Ok(v),
        Some(v) => Err(format!("{field} is a fraction from 0 to 1, not {v}")),
        None => Err(format!("{field} is required by this test")),
    }
}

fn nonempty<T>(field: &str, items: Vec<T>) -> Result<Vec<T>, String> {
    if items.is_empty() {
        Err(format!("{field} must list at least one item"))
    } else {
        Ok(items)
    }
}

impl TryFrom<RuleFields> for RuleFile {
    type Error = String;

    fn try_from(f: RuleFields) -> Result<Self, String> {
        let id = f.id.clone();
        check(f)
            .map(RuleFile)
            .map_err(|e| format!("rule {id:?}: {e}"))
    }
}

/// Text a pack shows to people: no control characters, nothing invisible
/// or direction-changing (a rule must read as what it is), bounded.
fn shown_text(field: &str, text: &str, max: usize) -> Result<(), String> {
    if text.is_empty() || text.len() > max {
        return Err(format!("{field} is 1 to {max} bytes"));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() || oretrace_domain::values::is_deceptive_format(*c))
    {
        return Err(format!(
            "{field} may not contain U+{:04X} (control, invisible or direction-changing characters)",
            u32::from(c)
        ));
    }
    Ok(())
}

fn check(f: RuleFields) -> Result<Rule, String> {
    if f.id.is_empty() || f.id.len() > 100 {
        return Err("id is 1 to 100 characters".into());
    }
    shown_text("id", &f.id, 100)?;
    shown_text("says", &f.says, 2_000)?;
    for (i, a) in f.areas.iter().enumerate() {
        shown_text(&format!("areas[{i}].name"), &a.name, 200)?;
    }
    let elements = list("elements", &f.elements, |e| {
        Element::parse(e).map_err(|e| e.to_string())
    })?;
    // Fields a test does not read are refused, so a typo in the test's
    // name or a field meant for another test is never silently ignored.
    let used: &[&str] = match f.test.as_str() {
        "origin-countries" => &["countries", "max_share"],
        "site-countries" => &["roles", "countries"],
        "controlled-parties" => &["whom", "roles", "governments_of", "threshold_percent"],
        "party-countries" => &["whom", "roles", "countries"],
        "areas" => &["roles", "areas"],
        "origin-site-kinds" => &["kinds"],
        "single-country-share" => &["exempt", "max_share"],
        other => {
            return Err(format!(
                "{other:?} is not a test (origin-countries, site-countries, controlled-parties, party-countries, areas, origin-site-kinds, single-country-share)"
            ));
        }
    };
    let given = [
        ("countries", !f.countries.is_empty()),
        ("roles", !f.roles.is_empty()),
        ("whom", !f.whom.is_empty()),
        ("governments_of", !f.governments_of.is_empty()),
        ("threshold_percent", f.threshold_percent.is_some()),
        ("max_share", f.max_share.is_some()),
        ("exempt", !f.exempt.is_empty()),
        ("areas", !f.areas.is_empty()),
        ("kinds", !f.kinds.is_empty()),
    ];
    if let Some((name, _)) = given.iter().find(|(n, g)| *g && !used.contains(n)) {
        return Err(format!("the test {} does not read {name}", f.test));
    }
    let roles = || nonempty("roles", list("roles", &f.roles, role)?);
    let test = match f.test.as_str() {
        "origin-countries" => Test::OriginCountries {
            countries: nonempty("countries", list("countries", &f.countries, country)?)?,
            max_share: share("max_share", f.max_share.as_ref())?,
        },
        "site-countries" => Test::SiteCountries {
            roles: roles()?,
            countries: nonempty("countries", list("countries", &f.countries, country)?)?,
        },
        "controlled-parties" => {
            let whom = nonempty("whom", f.whom.clone())?;
            let roles = list("roles", &f.roles, role)?;
            if whom.contains(&Whom::SiteOperators) && roles.is_empty() {
                return Err("whom names site-operators: roles says of which sites".into());
            }
            let threshold = decimal(
                "threshold_percent",
                f.threshold_percent
                    .as_deref()
                    .ok_or("threshold_percent is required by this test")?,
            )?;
            if threshold <= Decimal::ZERO || threshold > Decimal::ONE_HUNDRED {
                return Err(format!(
                    "threshold_percent is more than 0 and at most 100, not {threshold}"
                ));
            }
            Test::ControlledParties {
                whom,
                roles,
                governments_of: nonempty(
                    "governments_of",
                    list("governments_of", &f.governments_of, country)?,
                )?,
                threshold_percent: threshold,
            }
        }
        "party-countries" => {
            let whom = nonempty("whom", f.whom.clone())?;
            let roles = list("roles", &f.roles, role)?;
            if whom.contains(&Whom::SiteOperators) && roles.is_empty() {
                return Err("whom names site-operators: roles says of which sites".into());
            }
            Test::PartyCountries {
                whom,
                roles,
                countries: nonempty("countries", list("countries", &f.countries, country)?)?,
            }
        }
        "areas" => {
            if f.areas.len() > MAX_LIST {
                return Err(format!("areas lists more than {MAX_LIST} items"));
            }
            let mut areas = Vec::with_capacity(f.areas.len());
            for (i, a) in f.areas.iter().enumerate() {
                let countries = list(&format!("areas[{i}].countries"), &a.countries, country)?;
                if a.boxes.len() > MAX_LIST {
                    return Err(format!("areas[{i}].boxes lists more than {MAX_LIST} items"));
                }
                let mut boxes = Vec::new();
                for (j, b) in a.boxes.iter().enumerate() {
                    let at = format!("areas[{i}].boxes[{j}]");
                    let b = GeoBox {
                        south: decimal(&format!("{at}.south"), &b.south)?,
                        west: decimal(&format!("{at}.west"), &b.west)?,
                        north: decimal(&format!("{at}.north"), &b.north)?,
                        east: decimal(&format!("{at}.east"), &b.east)?,
                    };
                    let lat = |v: Decimal| v >= Decimal::from(-90) && v <= Decimal::from(90);
                    let lon = |v: Decimal| v >= Decimal::from(-180) && v <= Decimal::from(180);
                    if !(lat(b.south) && lat(b.north) && lon(b.west) && lon(b.east)) {
                        return Err(format!(
                            "{at}: latitudes are -90 to 90, longitudes -180 to 180"
                        ));
                    }
                    if b.south > b.north || b.west > b.east {
                        return Err(format!(
                            "{at}: south must not be north of north, nor west east of east"
                        ));
                    }
                    boxes.push(b);
                }
                if a.name.is_empty() {
                    return Err(format!("areas[{i}].name is empty"));
                }
                if countries.is_empty() && boxes.is_empty() {
                    return Err(format!(
                        "areas[{i}] ({}) lists neither countries nor boxes",
                        a.name
                    ));
                }
                areas.push(Area {
                    name: a.name.clone(),
                    countries,
                    boxes,
                });
            }
            // An empty list is allowed: a pack may ship a placeholder the
            // user fills (the verdict then says no area is listed).
            Test::Areas {
                roles: roles()?,
                areas,
            }
        }
        "origin-site-kinds" => Test::OriginSiteKinds {
            kinds: nonempty(
                "kinds",
                list("kinds", &f.kinds, |k| {
                    SiteKind::parse(k).map_err(|e| e.to_string())
                })?,
            )?,
        },
        "single-country-share" => Test::SingleCountryShare {
            exempt: list("exempt", &f.exempt, country)?,
            max_share: share("max_share", f.max_share.as_ref())?,
        },
        _ => return Err(format!("{:?} is not a test", f.test)),
    };
    let in_force_from = match f.in_force_from {
        Some(day) => {
            let b = day.as_bytes();
            let shaped = b.len() == 10
                && b[4] == b'-'
                && b[7] == b'-'
                && b.iter()
                    .enumerate()
                    .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
            if !shaped {
                return Err(format!(
                    "in_force_from is a calendar day YYYY-MM-DD, not {day:?}"
                ));
            }
            Some(day)
        }
        None => None,
    };
    Ok(Rule {
        id: f.id,
        says: f.says,
        effect: f.effect,
        elements,
        in_force_from,
        test,
    })
}

/// Where the rule an error names begins: serde reports the end of the
/// rule's object, a reader wants the line of its id. The id is the last
/// `"id": "<id>"` before the line the error was reported at.
fn rule_start(text: &str, why: &str, before_line: usize) -> Option<(usize, usize)> {
    let rest = why.strip_prefix("rule ")?;
    let id: String = serde_json::Deserializer::from_str(rest)
        .into_iter::<String>()
        .next()?
        .ok()?;
    let needle = serde_json::to_string(&id).ok()?;
    let mut found = None;
    for (n, line) in text.lines().enumerate().take(before_line) {
        if let Some(at) = line.find(&needle)
            && line[..at].contains("\"id\"")
        {
            found = Some((n + 1, at + 1));
        }
    }
    found
}

impl RulePack {
    /// Reads one pack file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<RulePack, PackError> {
        let whole = |why: String| PackError {
            file: file.to_owned(),
            line: 0,
            column: 0,
            why,
        };
        if text.len() > MAX_PACK_BYTES {
            return Err(whole(format!(
                "a rule pack is at most {MAX_PACK_BYTES} bytes"
            )));
        }
        let f: PackFile = serde_json::from_str(text).map_err(|e| {
            let why = e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or("")
                .to_owned();
            let (line, column) = rule_start(text, &why, e.line()).unwrap_or((e.line(), e.column()));
            PackError {
                file: file.to_owned(),
                line,
                column,
                why,
            }
        })?;
        if f.pack.is_empty()
            || f.pack.len() > 100
            || !f
                .pack
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(whole(format!(
                "pack {:?}: the id is 1 to 100 characters of a-z, 0-9, '-' and '.'",
                f.pack
            )));
        }
        for (field, text, max) in [
            ("title", &f.title, 500),
            ("version", &f.version, 100),
            ("source", &f.source, 4_000),
        ] {
            shown_text(field, text, max).map_err(|e| whole(format!("pack {}: {e}", f.pack)))?;
        }
        if !f.note.is_empty() {
            shown_text("note", &f.note, 4_000)
                .map_err(|e| whole(format!("pack {}: {e}", f.pack)))?;
        }
        if f.rules.is_empty() || f.rules.len() > MAX_RULES {
            return Err(whole(format!(
                "pack {}: a pack holds 1 to {MAX_RULES} rules",
                f.pack
            )));
        }
        let rules: Vec<Rule> = f.rules.into_iter().map(|r| r.0).collect();
        let mut ids = BTreeSet::new();
        for r in &rules {
            if !ids.insert(r.id.as_str()) {
                return Err(whole(format!(
                    "pack {}: rule {:?} is given twice",
                    f.pack, r.id
                )));
            }
        }
        Ok(RulePack {
            id: f.pack,
            title: f.title,
            version: f.version,
            source: f.source,
            note: f.note,
            rules,
            sha256: Sha256::digest(text.as_bytes()).into(),
            text: text.to_owned(),
        })
    }

    /// The SHA-256 of the file, as lowercase hex.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The packs shipped in the repository's `rules/` directory, built into
/// the binary: (file name, text).
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "rules/dfars-252.225-7052.json",
        include_str!("../../../rules/dfars-252.225-7052.json"),
    ),
    (
        "rules/feoc-control.json",
        include_str!("../../../rules/feoc-control.json"),
    ),
    (
        "rules/oecd-annex-ii.json",
        include_str!("../../../rules/oecd-annex-ii.json"),
    ),
    (
        "rules/eu-crma.json",
        include_str!("../../../rules/eu-crma.json"),
    ),
];

/// The built-in packs, parsed.
pub fn built_in() -> Result<Vec<RulePack>, PackError> {
    BUILT_IN
        .iter()
        .map(|(file, text)| RulePack::parse(file, text))
        .collect()
}

/// Checks a set of packs: at most [`MAX_PACKS`], no id twice.
pub fn check_set(packs: &[RulePack]) -> Result<(), String> {
    if packs.len() > MAX_PACKS {
        return Err(format!("at most {MAX_PACKS} rule packs are loaded"));
    }
    let mut ids = BTreeSet::new();
    for p in packs {
        if !ids.insert(p.id.as_str()) {
            return Err(format!("two rule packs have the id {}", p.id));
        }
    }
    Ok(())
}

// ---- the facts -------------------------------------------------------

/// One element's origin shares in the lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementFacts {
    pub element: Element,
    /// Per origin country, fractions 0 to 1.
    pub by_country: Vec<(Country, Decimal)>,
    /// The share the assays cannot place.
    pub unknown: Decimal,
}

/// A lot commissioned at a site: an origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginFacts {
    pub lot: String,
    pub site: SiteId,
    /// Log index of the lot's record.
    pub index: u64,
}

/// A site the material passed through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteFacts {
    pub id: SiteId,
    pub kind: SiteKind,
    pub country: Country,
    pub operator: PartyId,
    pub lat: Decimal,
    pub lon: Decimal,
    pub roles: Vec<Role>,
    /// Log index of the site's record.
    pub index: u64,
    /// When the material was first there, if known.
    pub first: Option<Timestamp>,
    /// When the site record now in force was written (its location may
    /// change without the registry operator; its country and kind not).
    pub recorded: Option<Timestamp>,
}

/// A party that held an upstream lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustodyFacts {
    pub party: PartyId,
    pub lot: String,
    /// Log index of the record that began the custody.
    pub index: u64,
    /// When the custody began.
    pub from: Timestamp,
}

/// A stake, as the owned party's record states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerLink {
    pub owner: PartyId,
    /// Percent, 0 to 100.
    pub share: Decimal,
    pub controls: bool,
    /// The owner has not signed a version of the record naming it.
    pub unconfirmed: bool,
}

/// A registered party, as its latest record states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyFacts {
    pub kind: PartyKind,
    pub country: Country,
    pub owners: Vec<OwnerLink>,
    /// Log index of the party's record.
    pub index: u64,
    /// When a version of its record last changed its owners (`None`: as
    /// first registered).
    pub owners_changed: Option<Timestamp>,
}

/// Everything a verdict may rest on, for one lot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub elements: Vec<ElementFacts>,
    pub origins: Vec<OriginFacts>,
    pub sites: Vec<SiteFacts>,
    pub custody: Vec<CustodyFacts>,
    /// The parties looked at and every owner reachable from them, as far
    /// as the caller read (a party missing here is unknown).
    pub parties: BTreeMap<PartyId, PartyFacts>,
    /// Log indices of the records the shares rest on: the upstream lots,
    /// their assays and the transformations.
    pub share_evidence: Vec<u64>,
    /// Log indices of the shipments and receipts that moved the material.
    pub route_evidence: Vec<u64>,
}

// ---- verdicts --------------------------------------------------------

/// A rule's, or a pack's, verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    NotApplicable,
    Pass,
    Unproven,
    Fail,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::NotApplicable => "not-applicable",
            Outcome::Pass => "pass",
            Outcome::Unproven => "unproven",
            Outcome::Fail => "fail",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a rule found, with the records it rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// `fail` or `unproven`.
    pub outcome: Outcome,
    pub what: String,
    pub evidence: Vec<u64>,
}

/// One rule's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleVerdict<'p> {
    pub rule: &'p Rule,
    pub outcome: Outcome,
    /// Why, in one sentence.
    pub detail: String,
    pub findings: Vec<Finding>,
    /// The records the verdict rests on (a pass rests on records too:
    /// the origins, sites and parties it looked at).
    pub evidence: Vec<u64>,
}

/// One pack's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackVerdict<'p> {
    pub pack: &'p RulePack,
    pub outcome: Outcome,
    pub rules: Vec<RuleVerdict<'p>>,
}

/// Evaluates every rule of `pack` on `facts`.
pub fn evaluate<'p>(pack: &'p RulePack, facts: &Facts) -> PackVerdict<'p> {
    let rules: Vec<RuleVerdict<'p>> = pack.rules.iter().map(|r| judge(r, facts)).collect();
    let outcome = rules
        .iter()
        .map(|r| r.outcome)
        .max()
        .unwrap_or(Outcome::NotApplicable);
    PackVerdict {
        pack,
        outcome,
        rules,
    }
}

fn pct(share: Decimal) -> String {
    format!(
        "{} %",
        (share * Decimal::ONE_HUNDRED).round_dp(3).normalize()
    )
}

fn names(countries: &[Country]) -> String {
    countries
        .iter()
        .map(Country::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

struct Judgement {
    findings: Vec<Finding>,
    evidence: BTreeSet<u64>,
    /// Something was looked at (else: not applicable).
    applies: bool,
    /// What a pass means, in one sentence.
    pass: String,
}

fn judge<'p>(rule: &'p Rule, facts: &Facts) -> RuleVerdict<'p> {
    // Elements the rule concerns that the lot holds.
    let elements: Vec<&ElementFacts> = facts
        .elements
        .iter()
        .filter(|e| rule.elements.is_empty() || rule.elements.contains(&e.element))
        .collect();
    if !rule.elements.is_empty() && elements.is_empty() {
        let listed: Vec<&str> = rule.elements.iter().map(Element::symbol).collect();
        return RuleVerdict {
            rule,
            outcome: Outcome::NotApplicable,
            detail: format!(
                "the lot's provenance holds none of the elements the rule concerns ({})",
                listed.join(", ")
            ),
            findings: Vec::new(),
            evidence: Vec::new(),
        };
    }
    let j = match &rule.test {
        Test::OriginCountries {
            countries,
            max_share,
        } => origin_countries(facts, &elements, countries, *max_share),
        Test::SiteCountries { roles, countries } => {
            site_test(facts, roles, &format!("is in {}", names(countries)), |s| {
                countries.contains(&s.country).then(|| {
                    format!(
                        "{} ({}) is in {}, a country the rule lists",
                        s.id,
                        roles_of(s, roles),
                        s.country
                    )
                })
            })
        }
        Test::Areas { roles, areas } => {
            let mut j = site_test(facts, roles, "lies in a listed area", |s| {
                areas
                    .iter()
                    .find(|a| {
                        a.countries.contains(&s.country)
                            || a.boxes.iter().any(|b| b.holds(s.lat, s.lon))
                    })
                    .map(|a| {
                        format!(
                            "{} ({}) lies in the area {:?}",
                            s.id,
                            roles_of(s, roles),
                            a.name
                        )
                    })
            });
            if areas.is_empty() {
                // Nothing to judge against: not a pass.
                j.findings.push(Finding {
                    outcome: Outcome::Unproven,
                    what: "the pack lists no area yet: fill its list from the one your due diligence uses".into(),
                    evidence: Vec::new(),
                });
            }
            j
        }
        Test::OriginSiteKinds { kinds } => origin_site_kinds(facts, kinds),
        Test::SingleCountryShare { exempt, max_share } => {
            single_country_share(&elements, exempt, *max_share, facts)
        }
        Test::ControlledParties {
            whom,
            roles,
            governments_of,
            threshold_percent,
        } => controlled_parties(facts, whom, roles, governments_of, *threshold_percent),
        Test::PartyCountries {
            whom,
            roles,
            countries,
        } => party_countries(facts, whom, roles, countries),
    };
    // A site whose record now in force was written after the material
    // first passed it cannot settle a verdict that rests on where it is.
    let mut j = j;
    // (Only the location can change without the registry operator.)
    let site_roles: Option<Vec<Role>> = match &rule.test {
        Test::Areas { roles, .. } => Some(roles.clone()),
        _ => None,
    };
    if let Some(roles) = site_roles
        && !j.findings.iter().any(|f| f.outcome == Outcome::Fail)
    {
        for s in facts
            .sites
            .iter()
            .filter(|s| s.roles.iter().any(|r| roles.contains(r)))
        {
            if let Some(f) = stale(
                &format!("the record of site {}", s.id),
                s.index,
                s.recorded,
                s.first,
            ) {
                j.findings.push(f);
            }
        }
    }
    let outcome = j
        .findings
        .iter()
        .map(|f| f.outcome)
        .max()
        .unwrap_or(if j.applies {
            Outcome::Pass
        } else {
            Outcome::NotApplicable
        });
    let detail = match outcome {
        Outcome::Pass | Outcome::NotApplicable => j.pass,
        _ => j
            .findings
            .iter()
            .map(|f| f.what.as_str())
            .collect::<Vec<_>>()
            .join("; "),
    };
    let mut evidence = j.evidence;
    for f in &j.findings {
        evidence.extend(f.evidence.iter().copied());
    }
    // Shares rest on every lot, assay and transformation upstream; where
    // a site's role is transit, departure or arrival, on the shipments
    // and receipts that give it.
    match &rule.test {
        Test::OriginCountries { .. } | Test::SingleCountryShare { .. } => {
            evidence.extend(facts.share_evidence.iter().copied());
        }
        Test::SiteCountries { roles, .. }
        | Test::Areas { roles, .. }
        | Test::ControlledParties { roles, .. }
        | Test::PartyCountries { roles, .. }
            if roles
                .iter()
                .any(|r| matches!(r, Role::Transit | Role::Departure | Role::Arrival)) =>
        {
            evidence.extend(facts.route_evidence.iter().copied());
        }
        _ => {}
    }
    // Elements the rule concerns that nothing upstream was assayed for.
    let detail = if rule.elements.is_empty() || outcome == Outcome::NotApplicable {
        detail
    } else {
        let unassayed: Vec<&str> = rule
            .elements
            .iter()
            .filter(|e| !facts.elements.iter().any(|f| f.element == **e))
            .map(Element::symbol)
            .collect();
        if unassayed.is_empty() {
            detail
        } else {
            format!(
                "{detail} (not assayed anywhere upstream, so not judged: {})",
                unassayed.join(", ")
            )
        }
    };
    let detail = match &rule.in_force_from {
        Some(from) => format!("{detail} [the rule is in force from {from}]"),
        None => detail,
    };
    RuleVerdict {
        rule,
        outcome,
        detail,
        findings: j.findings,
        evidence: evidence.into_iter().collect(),
    }
}

fn roles_of(s: &SiteFacts, wanted: &[Role]) -> String {
    s.roles
        .iter()
        .filter(|r| wanted.contains(r))
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Origin lots and their sites' records, for the countries given (all
/// when `None`).
fn origin_evidence(facts: &Facts, countries: Option<&[Country]>) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for o in &facts.origins {
        let Some(site) = facts.sites.iter().find(|s| s.id == o.site) else {
            out.insert(o.index);
            continue;
        };
        if countries.is_none_or(|c| c.contains(&site.country)) {
            out.insert(o.index);
            out.insert(site.index);
        }
    }
    out
}

fn origin_countries(
    facts: &Facts,
    elements: &[&ElementFacts],
    countries: &[Country],
    max_share: Decimal,
) -> Judgement {
    let mut findings = Vec::new();
    for e in elements {
        let from: Decimal = e
            .by_country
            .iter()
            .filter(|(c, _)| countries.contains(c))
            .map(|(_, s)| *s)
            .sum();
        if from > max_share {
            findings.push(Finding {
                outcome: Outcome::Fail,
                what: format!(
                    "{} of the {} comes from {} (at most {} allowed)",
                    pct(from),
                    e.element.symbol(),
                    names(countries),
                    pct(max_share)
                ),
                evidence: origin_evidence(facts, Some(countries))
                    .into_iter()
                    .collect(),
            });
        } else if from + e.unknown > max_share {
            findings.push(Finding {
                outcome: Outcome::Unproven,
                what: format!(
                    "{} of the {} has no known origin (unassayed inputs), so it may come from {}",
                    pct(e.unknown),
                    e.element.symbol(),
                    names(countries)
                ),
                evidence: origin_evidence(facts, None).into_iter().collect(),
            });
        }
    }
    Judgement {
        findings,
        evidence: origin_evidence(facts, None),
        applies: !elements.is_empty(),
        pass: {
            let held: Vec<&str> = elements.iter().map(|e| e.element.symbol()).collect();
            if max_share.is_zero() {
                format!(
                    "none of the {} comes from {}",
                    held.join(", "),
                    names(countries)
                )
            } else {
                format!(
                    "no more than {} of the {} comes from {}",
                    pct(max_share),
                    held.join(", "),
                    names(countries)
                )
            }
        },
    }
}

fn site_test(
    facts: &Facts,
    roles: &[Role],
    where_: &str,
    hit: impl Fn(&SiteFacts) -> Option<String>,
) -> Judgement {
    let mut findings = Vec::new();
    let mut evidence = BTreeSet::new();
    for s in facts
        .sites
        .iter()
        .filter(|s| s.roles.iter().any(|r| roles.contains(r)))
    {
        evidence.insert(s.index);
        if let Some(what) = hit(s) {
            findings.push(Finding {
                outcome: Outcome::Fail,
                what,
                evidence: vec![s.index],
            });
        }
    }
    let wanted: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Judgement {
        findings,
        applies: true,
        pass: format!(
            "no site in the role(s) {} ({} looked at) {where_}",
            wanted.join(", "),
            evidence.len()
        ),
        evidence,
    }
}

fn origin_site_kinds(facts: &Facts, kinds: &[SiteKind]) -> Judgement {
    let mut findings = Vec::new();
    for o in &facts.origins {
        match facts.sites.iter().find(|s| s.id == o.site) {
            Some(s) if kinds.contains(&s.kind) => {}
            Some(s) => findings.push(Finding {
                outcome: Outcome::Fail,
                what: format!(
                    "lot {} was commissioned at {}, a {}, not at a site of the kinds the rule accepts",
                    o.lot, s.id, s.kind
                ),
                evidence: vec![o.index, s.index],
            }),
            None => findings.push(Finding {
                outcome: Outcome::Unproven,
                what: format!(
                    "lot {} was commissioned at {}, a site the registry does not hold",
                    o.lot, o.site
                ),
                evidence: vec![o.index],
            }),
        }
    }
    let names: Vec<&str> = kinds.iter().map(SiteKind::as_str).collect();
    Judgement {
        findings,
        evidence: origin_evidence(facts, None),
        applies: !facts.origins.is_empty(),
        pass: format!("every origin site is a {}", names.join(" or ")),
    }
}

fn single_country_share(
    elements: &[&ElementFacts],
    exempt: &[Country],
    max_share: Decimal,
    facts: &Facts,
) -> Judgement {
    let mut findings = Vec::new();
    for e in elements {
        let top = e
            .by_country
            .iter()
            .filter(|(c, _)| !exempt.contains(c))
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.as_str().cmp(a.0.as_str())));
        let top_share = top.map_or(Decimal::ZERO, |t| t.1);
        if let Some((c, s)) = top.filter(|t| t.1 > max_share) {
            findings.push(Finding {
                outcome: Outcome::Fail,
                what: format!(
                    "{} of the {} comes from one country, {} (benchmark: at most {})",
                    pct(*s),
                    e.element.symbol(),
                    c,
                    pct(max_share)
                ),
                evidence: origin_evidence(facts, Some(std::slice::from_ref(c)))
                    .into_iter()
                    .collect(),
            });
        } else if top_share + e.unknown > max_share {
            findings.push(Finding {
                outcome: Outcome::Unproven,
                what: format!(
                    "{} of the {} has no known origin, so one country may supply more than {}",
                    pct(e.unknown),
                    e.element.symbol(),
                    pct(max_share)
                ),
                evidence: origin_evidence(facts, None).into_iter().collect(),
            });
        }
    }
    Judgement {
        findings,
        evidence: origin_evidence(facts, None),
        applies: !elements.is_empty(),
        pass: format!(
            "no single country outside the exempt ones supplies more than {} of any element concerned",
            pct(max_share)
        ),
    }
}

/// How far a covered government reaches into one party.
#[derive(Clone, Debug, Default)]
struct Reach {
    /// Percent of the party's equity the government holds, directly or
    /// through the links.
    interest: Decimal,
    controlled: bool,
    /// The walk hit a bound or a party the registry does not hold.
    incomplete: bool,
    /// Party records on the chains that reach it.
    chain: BTreeSet<u64>,
}

/// The interest and control of `government` in a party, through the
/// recorded links: memoised depth-first, bounded, cycles cut.
struct Walk<'f> {
    facts: &'f Facts,
    government: &'f PartyId,
    threshold: Decimal,
    done: BTreeMap<&'f PartyId, Reach>,
    on_path: BTreeSet<&'f PartyId>,
    visited: usize,
}

impl<'f> Walk<'f> {
    fn reach(&mut self, party: &'f PartyId, depth: usize) -> Reach {
        if party == self.government {
            return Reach {
                interest: Decimal::ONE_HUNDRED,
                controlled: true,
                incomplete: false,
                chain: self
                    .facts
                    .parties
                    .get(party)
                    .map(|p| BTreeSet::from([p.index]))
                    .unwrap_or_default(),
            };
        }
        if let Some(done) = self.done.get(party) {
            return done.clone();
        }
        self.visited += 1;
        let Some(p) = self.facts.parties.get(party) else {
            return Reach {
                incomplete: true,
                ..Reach::default()
            };
        };
        let bounded = depth >= MAX_DEPTH || self.visited > MAX_PARTIES;
        if bounded || !self.on_path.insert(party) {
            // A bound, or a cycle (ownership that leads back to itself has
            // no ultimate owner there): the verdict cannot be complete.
            return Reach {
                incomplete: true,
                ..Reach::default()
            };
        }
        let mut out = Reach::default();
        for link in &p.owners {
            let up = self.reach(&link.owner, depth + 1);
            out.incomplete |= up.incomplete;
            let through = if up.controlled {
                Decimal::ONE_HUNDRED
            } else {
                up.interest
            };
            let part = link.share * through / Decimal::ONE_HUNDRED;
            if !part.is_zero() || up.controlled {
                out.interest += part;
                out.chain.extend(up.chain);
                out.chain.insert(p.index);
            }
            if up.controlled && link.controls {
                out.controlled = true;
            }
        }
        out.interest = out.interest.min(Decimal::ONE_HUNDRED);
        out.controlled |= out.interest >= self.threshold;
        self.on_path.remove(party);
        self.done.insert(party, out.clone());
        out
    }
}

/// A party a rule looks at: why, the records that bring it in, and when
/// its part began, if known.
struct Looked {
    why: String,
    brought: BTreeSet<u64>,
    began: Option<Timestamp>,
}

/// The custodians and/or the operators of the sites in `roles`.
fn looked_at<'f>(facts: &'f Facts, whom: &[Whom], roles: &[Role]) -> BTreeMap<&'f PartyId, Looked> {
    let mut looked: BTreeMap<&PartyId, Looked> = BTreeMap::new();
    let mut seen = |party: &'f PartyId, why: String, index: u64, began: Option<Timestamp>| {
        let e = looked.entry(party).or_insert_with(|| Looked {
            why,
            brought: BTreeSet::new(),
            began: None,
        });
        e.brought.insert(index);
        e.began = match (e.began, began) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    };
    if whom.contains(&Whom::Custodians) {
        for c in &facts.custody {
            seen(
                &c.party,
                format!("custodian of {}", c.lot),
                c.index,
                Some(c.from),
            );
        }
    }
    if whom.contains(&Whom::SiteOperators) {
        for s in facts
            .sites
            .iter()
            .filter(|s| s.roles.iter().any(|r| roles.contains(r)))
        {
            seen(
                &s.operator,
                format!("operator of {} ({})", s.id, roles_of(s, roles)),
                s.index,
                s.first,
            );
        }
    }
    looked
}

/// An unproven finding when what a verdict reads (`what`, changed at
/// `changed` by the record at `index`) changed after the material's
/// passage began (`began`): what the record says now may not be what held
/// then.
fn stale(
    what: &str,
    index: u64,
    changed: Option<Timestamp>,
    began: Option<Timestamp>,
) -> Option<Finding> {
    match (changed, began) {
        (Some(c), Some(b)) if c > b => Some(Finding {
            outcome: Outcome::Unproven,
            what: format!(
                "{what} changed on {c} (the record at index {index}), after the material's passage began on {b}: what it says now may not be what held then (earlier versions are in the log)"
            ),
            evidence: vec![index],
        }),
        _ => None,
    }
}

fn party_countries(
    facts: &Facts,
    whom: &[Whom],
    roles: &[Role],
    countries: &[Country],
) -> Judgement {
    let looked = looked_at(facts, whom, roles);
    let mut findings = Vec::new();
    let mut evidence = BTreeSet::new();
    for (party, l) in &looked {
        evidence.extend(l.brought.iter().copied());
        let Some(p) = facts.parties.get(*party) else {
            findings.push(Finding {
                outcome: Outcome::Unproven,
                what: format!(
                    "{party} ({}) is not a registered party: its country is unknown",
                    l.why
                ),
                evidence: l.brought.iter().copied().collect(),
            });
            continue;
        };
        evidence.insert(p.index);
        if countries.contains(&p.country) {
            let mut ev = l.brought.clone();
            ev.insert(p.index);
            findings.push(Finding {
                outcome: Outcome::Fail,
                what: format!(
                    "{party} ({}) is a party of {}, a country the rule lists",
                    l.why, p.country
                ),
                evidence: ev.into_iter().collect(),
            });
        }
    }
    Judgement {
        findings,
        evidence,
        applies: !looked.is_empty(),
        pass: format!(
            "none of the {} parties looked at is of {}",
            looked.len(),
            names(countries)
        ),
    }
}

fn controlled_parties(
    facts: &Facts,
    whom: &[Whom],
    roles: &[Role],
    governments_of: &[Country],
    threshold: Decimal,
) -> Judgement {
    let looked_at = looked_at(facts, whom, roles);
    let looked: BTreeMap<&PartyId, (String, BTreeSet<u64>)> = looked_at
        .iter()
        .map(|(p, l)| (*p, (l.why.clone(), l.brought.clone())))
        .collect();
    let governments: Vec<&PartyId> = facts
        .parties
        .iter()
        .filter(|(_, p)| p.kind == PartyKind::Government && governments_of.contains(&p.country))
        .map(|(id, _)| id)
        .collect();
    let mut findings = Vec::new();
    let mut evidence = BTreeSet::new();
    for (party, (why, brought)) in &looked {
        evidence.extend(brought.iter().copied());
        let Some(p) = facts.parties.get(*party) else {
            findings.push(Finding {
                outcome: Outcome::Unproven,
                what: format!("{party} ({why}) is not a registered party: who owns it is unknown"),
                evidence: brought.iter().copied().collect(),
            });
            continue;
        };
        evidence.insert(p.index);
        let mut hit = None;
        let mut incomplete = false;
        for g in &governments {
            let mut walk = Walk {
                facts,
                government: g,
                threshold,
                done: BTreeMap::new(),
                on_path: BTreeSet::new(),
                visited: 0,
            };
            let r = walk.reach(party, 0);
            incomplete |= r.incomplete;
            if r.controlled {
                hit = Some((*g, r.interest, r.chain));
                break;
            }
        }
        if let Some((g, interest, chain)) = hit {
            let country = facts.parties.get(g).map_or("?", |p| p.country.as_str());
            let how = if *party == g {
                "is itself".to_owned()
            } else if interest < threshold {
                format!(
                    "is controlled by {g} (holding {})",
                    pct(interest / Decimal::ONE_HUNDRED)
                )
            } else {
                format!("is {} held by {g}", pct(interest / Decimal::ONE_HUNDRED))
            };
            let unconfirmed: Vec<String> = p
                .owners
                .iter()
                .filter(|l| l.unconfirmed)
                .map(|l| l.owner.to_string())
                .collect();
            let note = if unconfirmed.is_empty() {
                String::new()
            } else {
                format!(
                    " (as {party}'s record states; not confirmed by {})",
                    unconfirmed.join(", ")
                )
            };
            let mut ev: BTreeSet<u64> = brought.clone();
            ev.extend(chain);
            ev.insert(p.index);
            findings.push(Finding {
                outcome: Outcome::Fail,
                what: format!(
                    "{party} ({why}) {how}, the government of {country}, a country the rule lists{note}"
                ),
                evidence: ev.into_iter().collect(),
            });
        } else if let Some(f) = looked_at.get(*party).and_then(|l| {
            stale(
                &format!("the ownership of {party}"),
                p.index,
                p.owners_changed,
                l.began,
            )
        }) {
            findings.push(f);
        } else if incomplete {
            findings.push(Finding {
                outcome: Outcome::Unproven,
                what: format!(
                    "{party} ({why}): its ownership could not be followed to the end (an owner the registry does not hold, ownership that leads back to itself, or more than {MAX_DEPTH} links or {MAX_PARTIES} parties)"
                ),
                evidence: vec![p.index],
            });
        } else if p.kind == PartyKind::StateControlledCompany
            && governments_of.contains(&p.country)
            && p.owners.is_empty()
        {
            findings.push(Finding {
                outcome: Outcome::Unproven,
                what: format!(
                    "{party} ({why}) says it is a state-controlled company in {}, a country the rule lists, but names no owner",
                    p.country
                ),
                evidence: vec![p.index],
            });
        }
    }
    Judgement {
        findings,
        evidence,
        applies: !looked.is_empty(),
        pass: format!(
            "none of the {} parties looked at is held {} or more, or controlled, by the government of {}",
            looked.len(),
            pct(threshold / Decimal::ONE_HUNDRED),
            names(governments_of)
        ),
    }
}
