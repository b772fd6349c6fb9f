//! The crate's failures, each with the context it happened in. They leave
//! the crate as [`StoreError`] (a kind, a message and the source: logged,
//! never shown to clients).

use oretrace_ledger::store::{ErrorKind, StoreError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("{context}: {source}")]
    Pg {
        context: String,
        source: tokio_postgres::Error,
    },
    #[error("{context}: {source}")]
    Pool {
        context: String,
        source: deadpool_postgres::PoolError,
    },
    /// A stored value that does not decode (a column of another type, a
    /// document that is not the JSON of its struct).
    #[error("{context}: {source}")]
    Decode {
        context: String,
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A broken expectation: of the contract (an index gap), of the schema
    /// (a too-new version), of the lease (fenced) or of the stored data (a
    /// 31-byte hash), of the kind it is.
    #[error("{1}")]
    Invalid(ErrorKind, String),
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::Pg { context, source } => {
                StoreError::with_source(kind_of(&source), context, source)
            }
            Error::Pool { context, source } => {
                let kind = match &source {
                    deadpool_postgres::PoolError::Backend(e) => kind_of(e),
                    // A timeout waiting for or creating a connection, a
                    // closed pool, a failed session setup: may pass.
                    _ => ErrorKind::Unavailable,
                };
                StoreError::with_source(kind, context, source)
            }
            Error::Decode { context, source } => {
                StoreError::with_source(ErrorKind::Corrupt, context, source)
            }
            Error::Invalid(kind, message) => StoreError::new(kind, message),
        }
    }
}

/// What kind of failure PostgreSQL (or the connection to it) reports.
///
/// Without an SQLSTATE the connection failed (closed, I/O, a timeout):
/// it may pass. By SQLSTATE class: 08 connection, 40 serialization or
/// deadlock, 53 insufficient resources, 57 operator intervention (admin
/// shutdown, query canceled, statement timeout), 58 system error, 25P03
/// idle-in-transaction timeout and 55P03 lock not available may pass; 23
/// (integrity) is a conflicting write; 22 (data exception) and XX001/XX002
/// (data corrupted, index corrupted) are damaged data.
pub(crate) fn kind_of(e: &tokio_postgres::Error) -> ErrorKind {
    let Some(state) = e.code() else {
        return ErrorKind::Unavailable;
    };
    let code = state.code();
    match code.get(..2) {
        Some("23") => ErrorKind::Conflict,
        Some("22") => ErrorKind::Corrupt,
        Some("XX") if code == "XX001" || code == "XX002" => ErrorKind::Corrupt,
        // 08, 40, 53, 57, 58, 55P03, 25P03 and everything else: the
        // server could not do it now.
        _ => ErrorKind::Unavailable,
    }
}

/// Adds context to a foreign error. The closure runs only on failure, so
/// hot loops pay nothing for their messages.
pub(crate) trait Context<T> {
    fn ctx<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, tokio_postgres::Error> {
    fn ctx<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|source| Error::Pg {
            context: context().into(),
            source,
        })
    }
}

impl<T> Context<T> for std::result::Result<T, deadpool_postgres::PoolError> {
    fn ctx<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|source| Error::Pool {
            context: context().into(),
            source,
        })
    }
}

impl<T> Context<T> for std::result::Result<T, serde_json::Error> {
    fn ctx<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|source| Error::Decode {
            context: context().into(),
            source: Box::new(source),
        })
    }
}

/// A column read of a stored row: a value of another type than the
/// schema's is damaged data, not a lost connection.
pub(crate) fn decode<T>(
    r: std::result::Result<T, tokio_postgres::Error>,
    context: impl FnOnce() -> String,
) -> Result<T> {
    r.map_err(|source| Error::Decode {
        context: context(),
        source: Box::new(source),
    })
}

/// The name of the constraint a failed statement broke, if that is why
/// it failed.
pub(crate) fn violated(e: &tokio_postgres::Error) -> Option<&str> {
    let db = e.as_db_error()?;
    if db.code().code().starts_with("23") {
        db.constraint()
    } else {
        None
    }
}

/// A log index or count as PostgreSQL's signed 64-bit integer.
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
