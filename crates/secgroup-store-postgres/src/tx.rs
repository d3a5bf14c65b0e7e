//! The backend's transaction type. Each topic module (`accounts.rs`, `security_groups.rs`,
//! … one per topic trait of [`Tx`](secgroup_domain::Tx)) implements its trait on it.

use crate::sql::Conn;

/// Borrows a client inside `BEGIN … `; the store commits or rolls it back.
pub(crate) struct PgTx<'c> {
    pub(crate) c: &'c mut Conn,
}
