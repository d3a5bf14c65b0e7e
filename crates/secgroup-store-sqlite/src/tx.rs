//! The backend's transaction type, and helpers every topic module uses. Each topic module
//! (`accounts.rs`, `security_groups.rs`, … one per topic trait of
//! [`Tx`](secgroup_domain::Tx)) implements its trait on [`SqliteTx`]; this one also holds
//! the timestamp encoding.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;
use secgroup_domain::StoreError;

use crate::error::corrupt;

/// Borrows a connection on which the store has begun a transaction (a
/// `rusqlite::Transaction` derefs to one); the store commits or rolls it back.
pub(crate) struct SqliteTx<'c> {
    pub(crate) conn: &'c Connection,
}

impl<'c> SqliteTx<'c> {
    pub(crate) fn new(conn: &'c Connection) -> SqliteTx<'c> {
        SqliteTx { conn }
    }
}

/// RFC 3339 in UTC with as many fractional digits as needed: whole seconds stay
/// `2024-01-02T03:04:05Z`, and any value reads back exactly.
pub(crate) fn encode_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn decode_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt("timestamp", s))
}

/// Every row of the cached statement `sql` with `params`, each mapped by `row`.
pub(crate) fn query_all<T, P: rusqlite::Params>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: P,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.query_map(params, row)?.collect())
        .map_err(crate::error::map_err)
}

/// A counter read from SQLite (always an i64 >= 0) as the trait's u64.
pub(crate) fn to_count(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt("count", &n.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_exactly() {
        for (secs, nanos, text) in [
            (1_700_000_000, 0, "2023-11-14T22:13:20Z"),
            (1_700_000_000, 5_000_000, "2023-11-14T22:13:20.005Z"),
            (1_700_000_000, 123_456_789, "2023-11-14T22:13:20.123456789Z"),
        ] {
            let t = DateTime::from_timestamp(secs, nanos).expect("valid");
            assert_eq!(encode_time(t), text);
            assert_eq!(decode_time(text).expect("decode"), t);
        }
        assert!(decode_time("yesterday").is_err());
    }
}
