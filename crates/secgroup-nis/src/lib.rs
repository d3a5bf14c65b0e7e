//! The NIS product (Network Intelligence Service, API version 2021-12-16): reachability
//! analysis of network paths (docs/nis.md), as typed actions over the shared product base
//! ([`secgroup_api`]). Paths and analysis records are stored by the domain; the verdict comes
//! from the reachability service ([`secgroup_reach_service`]) and is written as NIS's result
//! document ([`report`]).
#![forbid(unsafe_code)]

mod analyses;
mod decode;
pub mod errors;
mod paths;
pub mod report;

use std::sync::Arc;

use secgroup_api::{Base, ProductConfig};
use secgroup_domain::{DomainError, Store};
use secgroup_reach_service::Reachability;
use secgroup_rpc::RpcError;

pub const VERSION: &str = "2021-12-16";

/// The NIS product over a store.
pub struct Nis<S> {
    base: Base<S>,
    reachability: Arc<Reachability<S>>,
}

impl<S: Store> Nis<S> {
    /// NIS over `store`, asking `reachability` (shared with the other products that ask
    /// about the same networks, so that they share its compiled networks too).
    pub fn new(
        store: Arc<S>,
        config: Arc<ProductConfig>,
        reachability: Arc<Reachability<S>>,
    ) -> Self {
        Nis {
            base: Base::new(store, config),
            reachability,
        }
    }

    pub(crate) fn reachability(&self) -> &Reachability<S> {
        &self.reachability
    }
}

impl<S: Store> secgroup_api::Product for Nis<S> {
    type Store = S;
    const VERSION: &'static str = VERSION;
    const CODE: &'static str = "nis";
    fn base(&self) -> &Base<S> {
        &self.base
    }
    fn wording(err: &DomainError) -> Option<RpcError> {
        errors::wording(err)
    }
}

secgroup_api::actions! {
    Nis<S: Store> {
        paths::CreateNetworkPath,
        paths::DeleteNetworkPath,
        analyses::CreateNetworkReachableAnalysis,
        analyses::CreateAndAnalyzeNetworkPath,
        analyses::GetNetworkReachableAnalysis,
        analyses::DeleteNetworkReachableAnalysis,
    }
}
