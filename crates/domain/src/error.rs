//! The domain's one error type: which field broke which rule.

/// A value, record or envelope that is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field breaks a rule. `field` is a dotted path of the JSON shape
    /// ([`crate::wire`]) such as `wet_mass.value` or `outputs[1].moisture_percent`.
    #[error("{field}: {rule}")]
    Invalid { field: String, rule: String },
    /// Canonical bytes that are not in canonical form.
    #[error("canonical record, line {line}: {detail}")]
    NotCanonical { line: usize, detail: String },
    /// A signature problem.
    #[error("signature: {0}")]
    Signature(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// The same error with `prefix.` put before its field.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Error::Invalid { field, rule } if field.is_empty() => Error::Invalid {
                field: prefix.to_owned(),
                rule,
            },
            Error::Invalid { field, rule } => Error::Invalid {
                field: format!("{prefix}.{field}"),
                rule,
            },
            other => other,
        }
    }

    /// The field this error names, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}
