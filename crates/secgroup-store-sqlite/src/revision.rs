//! The change revision (migration 7): one row that every committed write closure
//! increases by one, inside the closure's own savepoint.

use rusqlite::Connection;
use secgroup_domain::{RevisionTx, StoreError};

use crate::error::map_err;
use crate::tx::{to_count, SqliteTx};

impl RevisionTx for SqliteTx<'_> {
    /// The revision as this connection's transaction sees it.
    fn revision(&mut self) -> Result<u64, StoreError> {
        let conn = self.conn;
        let n: i64 = conn
            .prepare_cached("SELECT revision FROM revision WHERE id = 1")
            .and_then(|mut st| st.query_row([], |row| row.get(0)))
            .map_err(map_err)?;
        to_count(n)
    }
}

/// Increases the revision by one. Only inside a transaction: on a connection that SQLite
/// has put back in autocommit mode (it rolled the batch back after an error that a closure
/// ignored) the statement would commit on its own, a bump with no change behind it; the
/// batch reports that job as failed instead (see `batch.rs`).
pub(crate) fn bump(conn: &Connection) -> Result<(), StoreError> {
    if conn.is_autocommit() {
        return Ok(());
    }
    conn.prepare_cached("UPDATE revision SET revision = revision + 1 WHERE id = 1")
        .and_then(|mut st| st.execute([]))
        .map_err(map_err)?;
    Ok(())
}
