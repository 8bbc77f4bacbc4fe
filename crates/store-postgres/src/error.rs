//! Turning PostgreSQL and pool errors into [`StoreError`]: transient conditions (serialization
//! failure, deadlock, lost or refused connections, shutdowns, timeouts) become
//! [`StoreError::Unavailable`], which callers may retry; everything else is
//! [`StoreError::Backend`]. Messages carry the server's text and SQLSTATE, never the
//! connection string.

use cartograph_sync::StoreError;
use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

/// Whether a SQLSTATE names a condition that may clear on its own.
pub(crate) fn is_transient(code: &SqlState) -> bool {
    let class = &code.code()[..2];
    // 08: connection exceptions; 40: transaction rollback (serialization failure, deadlock);
    // 53: insufficient resources (too many connections, out of memory or disk); 57: operator
    // intervention (shutdowns, cannot connect now, query canceled by a statement timeout);
    // 58: system errors (I/O).
    matches!(class, "08" | "40" | "53" | "57" | "58") || *code == SqlState::LOCK_NOT_AVAILABLE
}

/// Whether the statement was rolled back because of a concurrent transaction, so running
/// it again at once is safe and likely to succeed.
pub(crate) fn is_conflict(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// The store error for a PostgreSQL error.
pub(crate) fn pg(e: &tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let text = format!("{} ({})", db.message(), db.code().code());
        return if is_transient(db.code()) {
            StoreError::Unavailable(text)
        } else {
            StoreError::Backend(text)
        };
    }
    if e.is_closed() {
        return StoreError::Unavailable("connection to PostgreSQL lost".to_owned());
    }
    match e.code() {
        Some(code) if !is_transient(code) => StoreError::Backend(e.to_string()),
        // No server answer at all: I/O, connect or protocol trouble.
        _ => StoreError::Unavailable(e.to_string()),
    }
}

/// The store error for a failure to get a pooled connection.
pub(crate) fn pool(e: &PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => pg(e),
        PoolError::Timeout(_) => {
            StoreError::Unavailable("timed out waiting for a PostgreSQL connection".to_owned())
        }
        PoolError::Closed => StoreError::Closed,
        other => StoreError::Backend(format!("connection pool: {other}")),
    }
}

/// A copy of an error, to answer every caller of a failed group commit.
pub(crate) fn copy(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::NotFound(m) => StoreError::NotFound(m.clone()),
        StoreError::Corrupt { what, reason } => StoreError::Corrupt {
            what: what.clone(),
            reason: reason.clone(),
        },
        StoreError::Closed => StoreError::Closed,
        other => StoreError::Backend(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_states_are_retryable_and_others_fatal() {
        for code in [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::CONNECTION_FAILURE,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::QUERY_CANCELED,
            SqlState::LOCK_NOT_AVAILABLE,
        ] {
            assert!(is_transient(&code), "{code:?} is transient");
        }
        for code in [
            SqlState::UNIQUE_VIOLATION,
            SqlState::SYNTAX_ERROR,
            SqlState::UNDEFINED_TABLE,
            SqlState::CHARACTER_NOT_IN_REPERTOIRE,
            SqlState::INVALID_PASSWORD,
            SqlState::INSUFFICIENT_PRIVILEGE,
        ] {
            assert!(!is_transient(&code), "{code:?} is fatal");
        }
    }

    #[test]
    fn copies_keep_the_kind() {
        assert!(copy(&StoreError::Unavailable("x".into())).is_retryable());
        assert!(matches!(copy(&StoreError::Closed), StoreError::Closed));
        assert!(matches!(
            copy(&StoreError::Backend("b".into())),
            StoreError::Backend(m) if m.contains('b')
        ));
    }
}
