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
use secgroup_rpc::server::BoxFuture;
use secgroup_rpc::{CallContext, Node, Params, Product, RpcError};

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

/// The action table: each action and its handler, in one place.
macro_rules! vpc_actions {
    ($($action:ident => $handler:path),* $(,)?) => {
        /// Every action this product answers.
        pub const ACTIONS: &[&str] = &[$(stringify!($action)),*];

        impl<S: Store> Vpc<S> {
            async fn dispatch(&self, ctx: CallContext, params: Params) -> Result<Node, RpcError> {
                match ctx.action.as_str() {
                    $(stringify!($action) => $handler(self, &ctx, &params).await,)*
                    _ => Err(RpcError::action_not_found()),
                }
            }
        }
    };
}

vpc_actions! {
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

impl<S: Store> Product for Vpc<S> {
    fn version(&self) -> &'static str {
        VERSION
    }
    fn code(&self) -> &'static str {
        "Vpc"
    }
    fn has_action(&self, action: &str) -> bool {
        ACTIONS.contains(&action)
    }
    fn call(&self, ctx: CallContext, params: Params) -> BoxFuture<'_, Result<Node, RpcError>> {
        Box::pin(self.dispatch(ctx, params))
    }
}

/// Logs parameters a handler never read: accepted, but worth knowing about.
fn note_unread(ctx: &CallContext, cursor: &secgroup_rpc::ParamCursor<'_>) {
    let unread = cursor.unread();
    if !unread.is_empty() {
        tracing::debug!(action = %ctx.action, ?unread, "parameters not used by this action");
    }
}
