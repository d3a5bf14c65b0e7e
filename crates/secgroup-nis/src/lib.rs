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

use secgroup_domain::ops::instances::InstanceTimings;
use secgroup_domain::ops::Limits;
use secgroup_domain::regions::RegionCatalog;
use secgroup_domain::{DomainError, Store};
use secgroup_ecs::EcsConfig;
use secgroup_rpc::RpcError;

pub const VERSION: &str = "2021-12-16";

/// Operator settings of the NIS product: ECS's regions, limits and instance timings.
#[derive(Debug, Clone)]
pub struct NisConfig {
    pub regions: RegionCatalog,
    /// `network_paths_per_account` and `analyses_per_account` apply here.
    pub limits: Limits,
    /// To tell whether an instance is `Running` when an analysis runs.
    pub instance_timings: InstanceTimings,
}

impl From<&EcsConfig> for NisConfig {
    fn from(ecs: &EcsConfig) -> Self {
        NisConfig {
            regions: ecs.regions.clone(),
            limits: ecs.limits.clone(),
            instance_timings: ecs.instance_timings,
        }
    }
}

/// The NIS product over a store.
pub struct Nis<S> {
    store: Arc<S>,
    config: NisConfig,
}

impl<S: Store> Nis<S> {
    pub fn new(store: Arc<S>, config: NisConfig) -> Self {
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
