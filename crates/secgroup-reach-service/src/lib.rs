//! The reachability application, once for every caller (NIS, the extension API, the data
//! plane): an account's network in a region read in one transaction, compiled for the
//! `secgroup-reach` engine, and questions about it answered — ends resolved, instance
//! statuses settled, the "only a running instance sends or receives" rule applied
//! (docs/semantics.md §4), flows and matrices decided.
//!
//! [`Reachability::ask`] is the one way in. It finds the compiled [`Network`] in the cache
//! ([`cache`]) or reads and compiles it, then runs the caller's question over it. Both the
//! compiling and the question run on tokio's blocking pool, never on an async worker: the
//! question closure only ever receives a `&Network` there.
//!
//! Freshness: every write bumps the store's change revision in the transaction of its
//! change. A question first reads the revision; a network compiled at that revision or a
//! later one answers it, otherwise the network and the revision are read again together in
//! one transaction and the compiled result is kept under the revision it was read at. So the
//! first question after a write that returned sees that write. Instance statuses also move
//! with time alone (transient states, docs/ecs.md §7.1); they are settled per question from
//! the stored status and its time ([`Network::status`]), which the engine's compiled part
//! does not depend on.
//!
//! Knows no HTTP: errors are [`ReachabilityError`]s, which each product words.
#![forbid(unsafe_code)]

pub mod cache;
mod flow;
mod matrix;
mod network;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use secgroup_domain::ids::AccountId;
use secgroup_domain::ops::instances::InstanceTimings;
use secgroup_domain::ops::network_state;
use secgroup_domain::{DomainError, Store};

pub use cache::CacheLimits;
pub use flow::{
    EndpointFacts, EndpointQuery, FlowCheck, FlowQuery, InstanceFacts, ReachabilityError,
};
pub use matrix::{MatrixAnswer, MatrixQuery, MatrixScope};
pub use network::{Holder, Network, Nic};

use cache::{Cache, Key};

/// The reachability service over a store.
pub struct Reachability<S> {
    store: Arc<S>,
    timings: InstanceTimings,
    cache: Cache,
    compiled: AtomicU64,
    answered: AtomicU64,
}

/// Counters of a service, since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Networks read and compiled (cache misses).
    pub compiled: u64,
    /// Questions answered (hits and misses).
    pub answered: u64,
}

impl<S: Store> Reachability<S> {
    /// A service whose instances stay in their transient states as `timings` say (the
    /// products' setting), with the default cache limits.
    pub fn new(store: Arc<S>, timings: InstanceTimings) -> Self {
        Self::with_limits(store, timings, CacheLimits::default())
    }

    pub fn with_limits(store: Arc<S>, timings: InstanceTimings, limits: CacheLimits) -> Self {
        Reachability {
            store,
            timings,
            cache: Cache::new(limits),
            compiled: AtomicU64::new(0),
            answered: AtomicU64::new(0),
        }
    }

    /// Answers `question` over the account's network in `region_id` as it is now (every
    /// write that returned before this call is in it), at the time the question runs.
    pub async fn ask<T, F>(
        &self,
        account_id: &AccountId,
        region_id: &str,
        question: F,
    ) -> Result<T, ReachabilityError>
    where
        T: Send + 'static,
        F: FnOnce(&Network, DateTime<Utc>) -> T + Send + 'static,
    {
        let seen = self.store.revision().await.map_err(DomainError::from)?;
        self.ask_since(account_id, region_id, seen, question).await
    }

    /// [`Reachability::ask`] for a caller that has read the revision itself
    /// ([`secgroup_domain::Tx::revision`], in the transaction where it read what it asks
    /// about): a network compiled at `seen` or later answers.
    pub async fn ask_since<T, F>(
        &self,
        account_id: &AccountId,
        region_id: &str,
        seen: u64,
        question: F,
    ) -> Result<T, ReachabilityError>
    where
        T: Send + 'static,
        F: FnOnce(&Network, DateTime<Utc>) -> T + Send + 'static,
    {
        let key = Key::new(account_id, region_id);
        let network = match self.cache.fresh(&key, seen) {
            Some(network) => network,
            None => self.compile(&key, seen).await?,
        };
        let answer = off_the_workers(move || question(&network, Utc::now())).await;
        self.answered.fetch_add(1, Ordering::Relaxed);
        answer
    }

    /// Tells the service that the write which took the store from revision `before` (read
    /// in that write's transaction) to `before + 1` changed nothing in the account's
    /// network in `region_id` (it stored an analysis record, say), so that a network
    /// compiled at `before` still answers. Every committed write bumps the revision by
    /// exactly one and writes are serialised, so nothing else happened in between.
    /// Without this call the next question would compile the unchanged network again.
    pub fn unchanged_by_write(&self, account_id: &AccountId, region_id: &str, before: u64) {
        self.cache
            .advance(&Key::new(account_id, region_id), before, before + 1);
    }

    /// What the cache has done so far.
    pub fn stats(&self) -> Stats {
        Stats {
            compiled: self.compiled.load(Ordering::Relaxed),
            answered: self.answered.load(Ordering::Relaxed),
        }
    }

    /// Reads and compiles the network of `key`, unless a build that held the gate first
    /// made one fresh enough for `seen`.
    async fn compile(&self, key: &Key, seen: u64) -> Result<Arc<Network>, ReachabilityError> {
        let gate = self.cache.gate(key);
        let _building = gate.lock().await;
        if let Some(network) = self.cache.fresh(key, seen) {
            return Ok(network);
        }
        self.cache.discard_older(key, seen);
        let (account, region) = (key.account_id.clone(), key.region_id.clone());
        let (read_at, state, vswitches) = self
            .store
            .read(move |tx| {
                // In the same snapshot as everything read with it: the network kept is
                // exactly the state at `read_at`, never older than the number it is
                // kept under.
                let read_at = tx.revision()?;
                let state = network_state::load(tx, &account, &region)?;
                let vswitches = tx.vswitches(&account, &region)?;
                Ok::<_, DomainError>((read_at, state, vswitches))
            })
            .await?;
        let timings = self.timings;
        let network =
            off_the_workers(move || Network::compile(state, vswitches, timings)).await??;
        let network = Arc::new(network);
        self.compiled.fetch_add(1, Ordering::Relaxed);
        self.cache.insert(key, read_at, network.clone());
        Ok(network)
    }
}

/// Runs `work` on the blocking pool: compiling a network and deciding flows are CPU work
/// that grows with the account's network, and would stall every request sharing an async
/// worker with it.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ReachabilityError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        tracing::error!(error = %e, "reachability worker stopped");
        ReachabilityError::Worker(e.to_string())
    })
}
