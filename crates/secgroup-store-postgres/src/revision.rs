//! The change revision (migration 3). The store bumps it (see `store.rs`); this only
//! reads it.

use secgroup_domain::{RevisionTx, StoreError};

use crate::sql::{get, one, to_count};
use crate::tx::PgTx;

impl RevisionTx for PgTx<'_> {
    /// The revision as this transaction's snapshot sees it.
    fn revision(&mut self) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        let row = one(c, "SELECT revision FROM revision WHERE id = 1", &[])?;
        to_count(get(&row, 0)?)
    }
}
