//! The crate's one error type: what is wrong with the graph or a figure,
//! named so that a caller can say it to a person.

/// Why provenance, a balance or a reconciliation could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The upstream graph has more lots than the caller's bound allows.
    #[error(
        "the upstream graph of lot {lot} has more than {limit} lots (the bound); ask for a lot nearer its origins"
    )]
    TooManyLots { lot: String, limit: usize },
    /// The upstream lots were shipped more times than the bound allows.
    #[error("the upstream lots of lot {lot} were shipped more than {limit} times (the bound)")]
    TooManyMovements { lot: String, limit: usize },
    /// A lot is, through transformations, its own input.
    #[error("lot {lot} is upstream of itself: the graph has a cycle")]
    Cycle { lot: String },
    /// A transformation lists no inputs or more than the bound.
    #[error("transformation {transformation} lists {inputs} inputs; 1 to 256 are allowed")]
    FanIn {
        transformation: String,
        inputs: usize,
    },
    /// A transformation lists no outputs or more than the bound.
    #[error("transformation {transformation} lists {outputs} outputs; 1 to 256 are allowed")]
    FanOut {
        transformation: String,
        outputs: usize,
    },
    #[error("lot {lot}, named by {referenced_by}, is not in the graph")]
    MissingLot { lot: String, referenced_by: String },
    #[error("site {site}, named by {referenced_by}, is not in the graph")]
    MissingSite { site: String, referenced_by: String },
    #[error("transformation {transformation}, named by {referenced_by}, is not in the graph")]
    MissingTransformation {
        transformation: String,
        referenced_by: String,
    },
    /// A lot and the transformation it names disagree.
    #[error("{0}")]
    Inconsistent(String),
    /// The same item twice.
    #[error("{0} is given twice")]
    Duplicate(String),
    /// A grade that is not a grade.
    #[error("grade of {element}: {why}")]
    Grade { element: &'static str, why: String },
    /// A tolerance that is not one.
    #[error("tolerance {name}: {why}")]
    Tolerance { name: &'static str, why: String },
    /// A sum or product left the decimal range (cannot happen with
    /// figures from domain types; reported rather than panicking).
    #[error("a figure is out of the decimal range")]
    Arithmetic,
}
