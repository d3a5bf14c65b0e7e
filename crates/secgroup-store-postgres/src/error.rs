//! Mapping PostgreSQL errors onto the domain's [`StoreError`].

use postgres::error::SqlState;
use secgroup_domain::StoreError;

/// Serialization failures and deadlocks are conflicts (the store retries them); unique
/// violations are duplicates; a connection that cannot be made or was lost, and a server
/// shutting down or starting, are unavailable.
pub(crate) fn map_err(err: postgres::Error) -> StoreError {
    match err.code() {
        Some(code) => classify(code, err.to_string()),
        None if err.is_closed() || has_io_source(&err) => StoreError::Unavailable(err.to_string()),
        None => StoreError::Other(err.to_string()),
    }
}

fn classify(code: &SqlState, text: String) -> StoreError {
    if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED {
        StoreError::Conflict(text)
    } else if *code == SqlState::UNIQUE_VIOLATION {
        StoreError::Duplicate(text)
    } else if code.code().starts_with("08")
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::TOO_MANY_CONNECTIONS
    {
        StoreError::Unavailable(text)
    } else {
        StoreError::Other(text)
    }
}

fn has_io_source(err: &postgres::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// A stored value this build cannot interpret: the domain's, so that both backends say
/// it alike.
pub(crate) use secgroup_domain::store::codec::corrupt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_store_errors() {
        let t = String::new;
        assert!(matches!(
            classify(&SqlState::T_R_SERIALIZATION_FAILURE, t()),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            classify(&SqlState::T_R_DEADLOCK_DETECTED, t()),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            classify(&SqlState::UNIQUE_VIOLATION, t()),
            StoreError::Duplicate(_)
        ));
        assert!(matches!(
            classify(&SqlState::CONNECTION_FAILURE, t()),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            classify(&SqlState::ADMIN_SHUTDOWN, t()),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            classify(&SqlState::FOREIGN_KEY_VIOLATION, t()),
            StoreError::Other(_)
        ));
    }
}
