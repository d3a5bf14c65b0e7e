//! The backend's transaction type, and helpers every topic module uses. Each topic module
//! (`accounts.rs`, `security_groups.rs`, … one per topic trait of
//! [`Tx`](secgroup_domain::Tx)) implements its trait on [`SqliteTx`]; this one also holds
//! the query helpers (the timestamp encoding is the domain's,
//! [`secgroup_domain::store::codec`], shared with the PostgreSQL backend).

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
