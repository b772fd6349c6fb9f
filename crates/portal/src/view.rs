//! The view models and their templates. The server fills them from the
//! public JSON answers; every string is escaped when rendered.

use askama::Template;

use crate::i18n::{Lang, Messages};

/// What every page's `<head>` and frame need.
#[derive(Debug, Clone)]
pub struct Head {
    pub lang: Lang,
    /// The page's title (already in the page's language).
    pub title: String,
    /// The page's path and query without `lang`, for the language switch.
    pub here: String,
}

impl Head {
    pub fn m(&self) -> &'static Messages {
        Messages::of(self.lang)
    }

    /// The label `key` in the page's language.
    pub fn t(&self, key: &'static str) -> &'static str {
        self.m().t(key)
    }

    /// The link to this page in the other language.
    pub fn switch_href(&self) -> String {
        let sep = if self.here.contains('?') { '&' } else { '?' };
        format!("{}{sep}lang={}", self.here, self.lang.other().code())
    }

    pub fn switch_label(&self) -> &'static str {
        Messages::of(self.lang.other()).t("lang.self")
    }

    pub fn other_code(&self) -> &'static str {
        self.lang.other().code()
    }

    pub fn script_json(&self) -> String {
        self.m().script_json()
    }
}

/// One value shown: text, maybe a link, maybe illustrative.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub illustrative: bool,
    pub numeric: bool,
    /// Not in the page's language (an id, a hash, a record's own text):
    /// marked `dir="auto"` so mixed scripts read right.
    pub code: bool,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ..Cell::default()
        }
    }

    /// An identifier, hash or code, written as is.
    pub fn code(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            code: true,
            ..Cell::default()
        }
    }

    pub fn num(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            numeric: true,
            ..Cell::default()
        }
    }

    pub fn link(mut self, href: impl Into<String>) -> Cell {
        self.href = Some(href.into());
        self
    }

    pub fn illustrative(mut self, yes: bool) -> Cell {
        self.illustrative = yes;
        self
    }
}

/// A label and a value.
#[derive(Debug, Clone)]
pub struct Fact {
    pub label: String,
    pub value: Cell,
}

/// A data table with a caption and column headings (`th scope="col"`;
/// the first cell of each row is `th scope="row"`).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A horizontal bar chart drawn as inline SVG (readable without
/// JavaScript), with its figures also in a table beside it.
#[derive(Debug, Clone, Default)]
pub struct Bars {
    pub title: String,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: String,
    /// The bar's length in thousandths of the chart's width.
    pub permille: u32,
    /// A second, thinner bar under it (delivered against pledged).
    pub second: Option<(String, u32)>,
    pub illustrative: bool,
}

impl Bars {
    /// The SVG's height.
    pub fn height(&self) -> usize {
        self.bars.len() * 44 + 8
    }
}

impl Bar {
    /// The bar's width in SVG units (of 600).
    pub fn width(&self) -> u32 {
        self.permille.min(1000) * 6 / 10
    }

    pub fn second_width(&self) -> u32 {
        self.second
            .as_ref()
            .map_or(0, |(_, p)| (*p).min(1000) * 6 / 10)
    }

    pub fn second_value(&self) -> &str {
        self.second.as_ref().map_or("", |(v, _)| v.as_str())
    }
}

/// The Verify hook of one record.
#[derive(Debug, Clone)]
pub struct Verify {
    pub index: u64,
    /// The record's leaf hash, hex, when known.
    pub hash: String,
}

/// A revealed clause with its clause-check hook.
#[derive(Debug, Clone)]
pub struct Clause {
    pub agreement: String,
    pub version: u32,
    pub clause: u32,
    pub text: String,
    pub illustrative: bool,
}

/// A link.
#[derive(Debug, Clone)]
pub struct Link {
    pub text: String,
    pub href: String,
}

/// One section of a record page.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub heading: String,
    pub note: Option<String>,
    pub facts: Vec<Fact>,
    pub bars: Option<Bars>,
    pub table: Option<Table>,
    pub clauses: Vec<Clause>,
    pub verify: Vec<Verify>,
    pub links: Vec<Link>,
}

/// A record's page: a lot, party, site, event, agreement or report.
#[derive(Debug, Clone, Template)]
#[template(path = "record.html")]
pub struct RecordPage {
    pub head: Head,
    /// The kind of record, as a label (`Lot`, `Agreement`…).
    pub kind: String,
    pub heading: String,
    /// A report's banner: unconfirmed, not an agreement.
    pub report_banner: bool,
    /// Some figures of this record are illustrative.
    pub illustrative: bool,
    pub facts: Vec<Fact>,
    pub sections: Vec<Section>,
    pub verify: Vec<Verify>,
}

/// The dashboard at `/`.
#[derive(Debug, Clone, Template)]
#[template(path = "dashboard.html")]
pub struct Dashboard {
    pub head: Head,
    pub checkpoint: Vec<Fact>,
    /// Whether the served checkpoint carries witness cosignatures (the
    /// facts then name them).
    pub witnessed: bool,
    pub counts: Vec<Fact>,
    pub recent: Table,
    pub anomalies: Table,
    pub anomalies_note: Option<String>,
    pub overdue: Table,
}

/// The flows page.
#[derive(Debug, Clone, Template)]
#[template(path = "flows.html")]
pub struct FlowsPage {
    pub head: Head,
    pub element: String,
    pub from: String,
    pub to: String,
    pub elements: Vec<String>,
    /// `/flows?element=…&from=…&to=…`, for the Sankey script.
    pub data_href: String,
    pub checkpoint: Vec<Fact>,
    pub table: Table,
    pub error: Option<String>,
}

/// The map page.
#[derive(Debug, Clone, Template)]
#[template(path = "map.html")]
pub struct MapPage {
    pub head: Head,
    pub sites: Table,
    pub routes: Table,
}

/// The search page.
#[derive(Debug, Clone, Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub head: Head,
    pub q: String,
    pub max_len: usize,
    pub error: Option<String>,
    pub searched: bool,
    pub results: Table,
}

/// The downloads page.
#[derive(Debug, Clone, Template)]
#[template(path = "downloads.html")]
pub struct DownloadsPage {
    pub head: Head,
    pub checkpoint: Vec<Fact>,
    pub downloads: Table,
}

/// A page for an error: 404 for an unknown id or path, and any other
/// refusal the JSON API would give (its problem detail shown as text).
#[derive(Debug, Clone, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub head: Head,
    pub status: u16,
    pub not_found: bool,
    pub detail: String,
}
