//! The NIS product (Network Intelligence Service, API version 2021-12-16): reachability
//! analysis of network paths (docs/nis.md). Paths and analysis records are stored by
//! the domain; the answer comes from the `secgroup-reach` engine ([`report`]).
#![forbid(unsafe_code)]

mod analyses;
mod decode;
pub mod errors;
mod paths;
pub mod report;

use std::sync::Arc;

use secgroup_api::ProductConfig;
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::RpcError;

pub const VERSION: &str = "2021-12-16";

/// The NIS product over a store.
pub struct Nis<S> {
    store: Arc<S>,
    config: Arc<ProductConfig>,
}

impl<S: Store> Nis<S> {
    pub fn new(store: Arc<S>, config: Arc<ProductConfig>) -> Self {
        Nis { store, config }
    }

    /// Runs a domain operation in one read-write transaction.
    async fn write<T, F>(&self, f: F) -> Result<T, RpcError>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn secgroup_domain::Tx) -> Result<T, DomainError> + Send + 'static,
    {
        self.store.write(f).await.map_err(errors::from_domain)
    }

    /// Runs a domain read in one snapshot.
    async fn read<T, F>(&self, f: F) -> Result<T, RpcError>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn secgroup_domain::Tx) -> Result<T, DomainError> + Send + 'static,
    {
        self.store.read(f).await.map_err(errors::from_domain)
    }
}

secgroup_rpc::product! {
    Nis<S: Store>, version: VERSION, code: "nis",
    actions: {
        CreateNetworkPath => paths::create,
        DeleteNetworkPath => paths::delete,
        CreateNetworkReachableAnalysis => analyses::create,
        CreateAndAnalyzeNetworkPath => analyses::create_and_analyze,
        GetNetworkReachableAnalysis => analyses::get,
        DeleteNetworkReachableAnalysis => analyses::delete,
    }
}
