//! The change revision (migration 3). The store bumps it (see `store.rs`); this only
//! reads it.

use secgroup_domain::StoreError;

use crate::sql::{get, one, to_count, Conn};

/// The revision as this transaction's snapshot sees it.
pub(crate) fn revision(c: &mut Conn) -> Result<u64, StoreError> {
    let row = one(c, "SELECT revision FROM revision WHERE id = 1", &[])?;
    to_count(get(&row, 0)?)
}
