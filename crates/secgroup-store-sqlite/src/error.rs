//! Mapping SQLite errors onto the domain's [`StoreError`].

use rusqlite::ffi;
use rusqlite::ErrorCode;
use secgroup_domain::StoreError;

/// Unique and primary-key violations are duplicates; busy and locked are conflicts (the
/// store retries them); a database that cannot be opened is unavailable.
pub(crate) fn map_err(err: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(ref e, _) = err {
        match e.code {
            ErrorCode::ConstraintViolation
                if e.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                return StoreError::Duplicate(err.to_string());
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return StoreError::Conflict(err.to_string());
            }
            ErrorCode::CannotOpen => return StoreError::Unavailable(err.to_string()),
            _ => {}
        }
    }
    StoreError::Other(err.to_string())
}

/// A stored value this build cannot interpret: the domain's, so that both backends say
/// it alike.
pub(crate) use secgroup_domain::store::codec::corrupt;

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    #[test]
    fn codes_map_to_store_errors() {
        assert!(matches!(
            map_err(failure(ffi::SQLITE_CONSTRAINT_UNIQUE)),
            StoreError::Duplicate(_)
        ));
        assert!(matches!(
            map_err(failure(ffi::SQLITE_CONSTRAINT_PRIMARYKEY)),
            StoreError::Duplicate(_)
        ));
        assert!(matches!(
            map_err(failure(ffi::SQLITE_CONSTRAINT_FOREIGNKEY)),
            StoreError::Other(_)
        ));
        assert!(matches!(
            map_err(failure(ffi::SQLITE_BUSY)),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            map_err(failure(ffi::SQLITE_LOCKED_SHAREDCACHE)),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            map_err(failure(ffi::SQLITE_CANTOPEN)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            map_err(rusqlite::Error::QueryReturnedNoRows),
            StoreError::Other(_)
        ));
    }
}
