//! The storage seam. A backend implements [`Tx`] (primitive reads and writes inside one
//! transaction: the topic traits, [`AccountsTx`] to [`RevisionTx`], one module of the
//! backend each) and [`Store`] (runs a closure in a transaction, retrying it on
//! conflict). The operations in [`crate::ops`] are written against `&mut dyn Tx`, so
//! every backend shares them.

pub mod backoff;
pub mod codec;
mod tx;

use std::future::Future;

use chrono::{DateTime, Utc};

pub use tx::{
    AccountsTx, AuditTx, ClientTokensTx, DataplaneTx, DisksTx, InstancesTx, KeyPairsTx,
    NetworkInterfacesTx, NisTx, PlacementsTx, PrefixListsTx, RevisionTx, RulesTx, SecurityGroupsTx,
    TagsTx, Tx, VpcsTx,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached; the request may be retried later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A concurrent transaction conflicted; [`Store`] retries the closure.
    #[error("transaction conflict: {0}")]
    Conflict(String),
    /// A uniqueness rule of the schema was violated.
    #[error("duplicate: {0}")]
    Duplicate(String),
    #[error("storage failure: {0}")]
    Other(String),
}

/// An error a transaction closure may return: it wraps store errors, so the store can tell
/// a conflict (retry) from a real failure.
pub trait TxError: From<StoreError> {
    fn store_error(&self) -> Option<&StoreError>;
    fn is_conflict(&self) -> bool {
        matches!(self.store_error(), Some(StoreError::Conflict(_)))
    }
}

impl TxError for StoreError {
    fn store_error(&self) -> Option<&StoreError> {
        Some(self)
    }
}

/// A transactional store. `write` runs the closure in a read-write transaction that commits
/// only if the closure returns `Ok`; on [`StoreError::Conflict`] the closure runs again.
/// `read` runs it in a read-only snapshot. Neither makes the async executor wait on the
/// disk or a lock: a backend may run a read on the caller's thread when it cannot block.
///
/// Every write that commits also increases the global change revision by one, in the
/// same transaction (see [`Store::revision`]).
pub trait Store: Send + Sync + 'static {
    fn write<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static;

    fn read<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static;

    /// A write that is no change of the network's state, such as the audit record of a
    /// refused call: like [`Store::write`], except that it does not increase the change
    /// revision, which tells whatever derives from the state (a data plane) to rebuild.
    /// The closure must only append records (audit events); it must not change what
    /// [`Store::revision`] stands for. The default is [`Store::write`] (which bumps),
    /// for stores that have no cheaper way.
    fn write_unrevised<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.write(f)
    }

    /// Records that `nonce` was used with `access_key_id` until `expires_at`; `false` when
    /// the same (key, nonce) was claimed before and has not expired at `now` (a replay).
    ///
    /// A backend may answer from memory as long as a nonce, once claimed, is refused until
    /// it expires — across restarts too. A claim is not a change of state: it does not
    /// increase the revision. (So there is no default through [`Store::write`], which
    /// would.)
    fn claim_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a data-plane agent's report ([`DataplaneTx::put_agent_status`], or
    /// [`DataplaneTx::delete_agent_status`] for one that stopped), in a transaction of its
    /// own that is not a change of state: it does not increase the revision, since the
    /// agent that reports waits on the revision (and would otherwise wake itself). No
    /// default through [`Store::write`], which would.
    fn record_agent_status(
        &self,
        report: crate::model::AgentReport,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// How many claimed nonces are still live at `now` (expire after it), of every key:
    /// the size of the replay guard, for metrics. The default counts what
    /// [`AccountsTx::count_live_nonces`] sees; a backend that answers claims from memory
    /// counts there.
    fn count_nonces(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.read(move |tx| tx.count_live_nonces(now))
    }

    /// The latest committed change revision: one global counter (not per account, since a
    /// rule may name another account's group) that every committed [`Store::write`]
    /// increases by one in the same transaction as its change. A write that fails or
    /// panics rolls its increase back with the rest; a nonce claim does not increase it.
    /// Read after a write's future has resolved, it includes that write; it never goes
    /// backwards, across restarts too. Equal revisions mean equal state, so whatever is
    /// derived from the state (a data plane's rule set) can be keyed by it.
    ///
    /// The default reads [`RevisionTx::revision`] in a read transaction.
    fn revision(&self) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.read(|tx| tx.revision())
    }
}
