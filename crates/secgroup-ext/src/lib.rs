//! secgroup's own API, clearly apart from Alibaba's: version [`VERSION`]
//! (`x-secgroup-2026-11-01`) on the same endpoint, signed like any other call, over the
//! same accounts. It answers questions the reachability engine can answer and no Alibaba
//! action asks:
//! - `CheckReachability`: can this source reach that destination, and why;
//! - `DescribeReachabilityMatrix`: who reaches whom among a VPC's instances, or a set of
//!   groups' members;
//! - `DescribeDataplaneStatus`: the change revision, and which revision each data-plane
//!   agent enforces (wait on it instead of sleeping).
//!
//! Both are typed actions over the shared product base ([`secgroup_api`]) and thin: decode
//! ([`decode`]), ask the reachability service ([`secgroup_reach_service`], which also
//! decides matrices), render ([`render`]); [`reachability`] and [`explain`] put a flow's
//! decision in words, and know nothing of HTTP.
#![forbid(unsafe_code)]

mod actions;
mod decode;
pub mod errors;
pub mod explain;
pub mod reachability;
mod render;

use std::sync::Arc;

use secgroup_api::{Base, ProductConfig};
use secgroup_domain::Store;
use secgroup_reach_service::Reachability;

pub use actions::{CheckReachability, DescribeDataplaneStatus, DescribeReachabilityMatrix};

pub const VERSION: &str = "x-secgroup-2026-11-01";

/// The extension product over a store.
pub struct Ext<S> {
    base: Base<S>,
    reachability: Arc<Reachability<S>>,
}

impl<S: Store> Ext<S> {
    /// The extension over `store`, asking `reachability` (shared with NIS, so that both
    /// share its compiled networks).
    pub fn new(
        store: Arc<S>,
        config: Arc<ProductConfig>,
        reachability: Arc<Reachability<S>>,
    ) -> Self {
        Ext {
            base: Base::new(store, config),
            reachability,
        }
    }
}

/// Domain errors read as ECS and VPC word them (the base map): an unknown instance, VPC or
/// group answers the same not-found code here as there.
impl<S: Store> secgroup_api::Product for Ext<S> {
    type Store = S;
    const VERSION: &'static str = VERSION;
    const CODE: &'static str = "SecgroupExt";
    fn base(&self) -> &Base<S> {
        &self.base
    }
}

secgroup_api::actions! {
    Ext<S: Store> {
        CheckReachability,
        DescribeReachabilityMatrix,
        DescribeDataplaneStatus,
    }
}
