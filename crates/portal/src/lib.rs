//! The public portal's pages (`docs/design/portal.md`): view models,
//! askama templates checked at compile time, the English and Urdu message
//! catalogues, number and date formatting per language, and the rule that
//! decides whether a request gets HTML.
//!
//! Pure: the server reads the ledger, builds the view models and calls
//! [`render`]; nothing here does I/O.

pub mod fmt;
pub mod i18n;
pub mod negotiate;
pub mod view;

pub use i18n::{Lang, Messages};
pub use view::*;

/// Why a page did not render.
pub use askama::Error as RenderError;

/// Renders a page; askama escapes every value it writes.
pub fn render<T: askama::Template>(page: &T) -> Result<String, askama::Error> {
    page.render()
}
