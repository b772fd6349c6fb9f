//! The crate's failures, each with the context it happened in. They leave
//! the crate as [`StoreError`] (a kind, a message and the source: logged, never shown to clients).

use oretrace_ledger::store::{ErrorKind, StoreError};

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
    /// (a too-new version) or of the stored data (a 31-byte hash), of the
    /// kind it is.
    #[error("{1}")]
    Invalid(ErrorKind, String),
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::Sqlite { context, source } => {
                StoreError::with_source(kind_of(&source), context, source)
            }
            // A stored document that does not decode.
            Error::Json { context, source } => {
                StoreError::with_source(ErrorKind::Corrupt, context, source)
            }
            // The file system: a full disk, a permission, an I/O error.
            Error::Io { context, source } => {
                StoreError::with_source(ErrorKind::Unavailable, context, source)
            }
            Error::Invalid(kind, message) => StoreError::new(kind, message),
        }
    }
}

/// What kind of failure SQLite reports: busy or locked by another
/// connection, or an I/O error or full disk, may pass; a damaged file does
/// not; a constraint is a conflicting write.
fn kind_of(e: &rusqlite::Error) -> ErrorKind {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::DatabaseBusy | C::DatabaseLocked | C::DiskFull | C::SystemIoFailure) => {
            ErrorKind::Unavailable
        }
        Some(C::OutOfMemory | C::CannotOpen | C::FileLockingProtocolFailed) => {
            ErrorKind::Unavailable
        }
        Some(C::DatabaseCorrupt | C::NotADatabase) => ErrorKind::Corrupt,
        Some(C::ConstraintViolation) => ErrorKind::Conflict,
        Some(C::ReadOnly | C::PermissionDenied) => ErrorKind::Unavailable,
        _ => match e {
            // A column of another type than the schema's: damaged data.
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => ErrorKind::Corrupt,
            _ => ErrorKind::Unavailable,
        },
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
    i64::try_from(value).map_err(|_| {
        Error::Invalid(
            ErrorKind::NotFound,
            format!("{what} {value} is beyond what the database stores"),
        )
    })
}

/// A stored integer back as a log index.
pub(crate) fn from_sql_int(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| {
        Error::Invalid(
            ErrorKind::Corrupt,
            format!("stored {what} {value} is negative"),
        )
    })
}
