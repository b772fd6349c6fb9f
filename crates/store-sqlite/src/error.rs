//! The crate's failures, each with the context it happened in. They leave
//! the crate as [`StoreError`] (a message: logged, never shown to clients).

use oretrace_ledger::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("{context}: {source}")]
    Sqlite {
        context: String,
        source: rusqlite::Error,
    },
    #[error("{context}: {source}")]
    Json {
        context: String,
        source: serde_json::Error,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// A broken expectation: of the contract (an index gap), of the schema
    /// (a too-new version) or of the stored data (a 31-byte hash).
    #[error("{0}")]
    Invalid(String),
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        StoreError(e.to_string())
    }
}

/// Adds context to a foreign error. The closure runs only on failure, so
/// hot loops pay nothing for their messages.
pub(crate) trait Context<T> {
    fn ctx<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, rusqlite::Error> {
    fn ctx<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|source| Error::Sqlite {
            context: context().into(),
            source,
        })
    }
}

impl<T> Context<T> for std::result::Result<T, serde_json::Error> {
    fn ctx<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|source| Error::Json {
            context: context().into(),
            source,
        })
    }
}

impl<T> Context<T> for std::result::Result<T, std::io::Error> {
    fn ctx<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: context().into(),
            source,
        })
    }
}

/// Whether `e` is a UNIQUE or PRIMARY KEY violation.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    e.sqlite_error().is_some_and(|f| {
        f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    })
}

/// A log index or count as SQLite's signed 64-bit integer.
pub(crate) fn to_sql_int(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value)
        .map_err(|_| Error::Invalid(format!("{what} {value} is beyond what the database stores")))
}

/// A stored integer back as a log index.
pub(crate) fn from_sql_int(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| Error::Invalid(format!("stored {what} {value} is negative")))
}
