//! The crate's one error type: which field of the event broke which rule.

/// Why an event cannot be read as the mineral-chain records it claims to
/// state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// The value is not a JSON object with a string `type`.
    #[error("an EPCIS event is a JSON object with a string \"type\"")]
    NotAnEvent,
    /// A field of an event that uses the oretrace namespace for a
    /// mineral-chain shape is missing, malformed or contradicts another.
    /// `field` is the JSON path as written in the event, such as
    /// `quantityList[0].uom` or `ilmd.oretrace:moisturePercent`.
    #[error("{field}: {rule}")]
    Invalid { field: String, rule: String },
}

impl MapError {
    pub(crate) fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        MapError::Invalid {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// The JSON path of the field at fault, if the error names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            MapError::Invalid { field, .. } => Some(field),
            MapError::NotAnEvent => None,
        }
    }

    /// A domain rule broken at `field` of the event.
    pub(crate) fn domain(field: &str, error: oretrace_domain::Error) -> Self {
        match error {
            oretrace_domain::Error::Invalid { field: inner, rule } => MapError::Invalid {
                field: if inner.is_empty() {
                    field.to_owned()
                } else {
                    format!("{field}.{inner}")
                },
                rule,
            },
            other => MapError::invalid(field, other.to_string()),
        }
    }
}
