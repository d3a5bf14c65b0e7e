//! The VPC product (API version 2016-04-28): VPCs and vSwitches. Same shape as the ECS
//! crate: an action table, thin handlers (decode → domain → render), and one error map —
//! ECS's [`secgroup_ecs::errors::from_domain`], overridden where VPC words it differently.
#![forbid(unsafe_code)]

mod decode;
pub mod errors;
mod render;
mod vpcs;
mod vswitches;

use std::sync::Arc;

use secgroup_domain::ops::Limits;
use secgroup_domain::regions::RegionCatalog;
use secgroup_domain::{DomainError, Store};
use secgroup_ecs::EcsConfig;
use secgroup_rpc::RpcError;

pub const VERSION: &str = "2016-04-28";

/// Operator settings of the VPC product.
#[derive(Debug, Clone)]
pub struct VpcConfig {
    pub regions: RegionCatalog,
    /// `vpcs_per_region` and `vswitches_per_vpc` apply here.
    pub limits: Limits,
}

impl Default for VpcConfig {
    fn default() -> Self {
        VpcConfig::from(&EcsConfig::default())
    }
}

/// VPC serves the same regions, under the same limits, as ECS.
impl From<&EcsConfig> for VpcConfig {
    fn from(ecs: &EcsConfig) -> Self {
        VpcConfig {
            regions: ecs.regions.clone(),
            limits: ecs.limits.clone(),
        }
    }
}

/// The VPC product over a store.
pub struct Vpc<S> {
    store: Arc<S>,
    config: VpcConfig,
}

impl<S: Store> Vpc<S> {
    pub fn new(store: Arc<S>, config: VpcConfig) -> Self {
        Vpc { store, config }
    }

    /// Runs a domain operation of `action` in one read-write transaction.
    async fn write<T, F>(&self, action: &str, f: F) -> Result<T, RpcError>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn secgroup_domain::Tx) -> Result<T, DomainError> + Send + 'static,
    {
        let result = self.store.write(f).await;
        result.map_err(|e| errors::from_domain(action, e))
    }

    /// Runs a domain read of `action` in one snapshot.
    async fn read<T, F>(&self, action: &str, f: F) -> Result<T, RpcError>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn secgroup_domain::Tx) -> Result<T, DomainError> + Send + 'static,
    {
        let result = self.store.read(f).await;
        result.map_err(|e| errors::from_domain(action, e))
    }
}

secgroup_rpc::product! {
    Vpc<S: Store>, version: VERSION, code: "Vpc",
    actions: {
        CreateVpc => vpcs::create,
        DescribeVpcs => vpcs::describe,
        DescribeVpcAttribute => vpcs::describe_attribute,
        ModifyVpcAttribute => vpcs::modify_attribute,
        DeleteVpc => vpcs::delete,
        CreateVSwitch => vswitches::create,
        DescribeVSwitches => vswitches::describe,
        DescribeVSwitchAttributes => vswitches::describe_attributes,
        ModifyVSwitchAttribute => vswitches::modify_attribute,
        DeleteVSwitch => vswitches::delete,
    }
}
