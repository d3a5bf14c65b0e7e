//! The ECS product (API version 2014-05-26): the action table, request decoding, thin
//! handlers (decode → domain → render) and the one map from domain errors to Alibaba codes.
#![forbid(unsafe_code)]

mod decode;
pub mod errors;
mod instances;
mod prefix_lists;
mod regions;
mod render;
mod rules;
mod security_groups;
mod tags;

use std::sync::Arc;

use secgroup_api::ProductConfig;
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::RpcError;

pub const VERSION: &str = "2014-05-26";

/// The ECS product over a store.
pub struct Ecs<S> {
    store: Arc<S>,
    config: Arc<ProductConfig>,
}

impl<S: Store> Ecs<S> {
    pub fn new(store: Arc<S>, config: Arc<ProductConfig>) -> Self {
        Ecs { store, config }
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
    Ecs<S: Store>, version: VERSION, code: "Ecs",
    actions: {
        DescribeRegions => regions::describe_regions,
        CreateSecurityGroup => security_groups::create,
        DeleteSecurityGroup => security_groups::delete,
        DescribeSecurityGroups => security_groups::describe,
        DescribeSecurityGroupAttribute => security_groups::describe_attribute,
        ModifySecurityGroupAttribute => security_groups::modify_attribute,
        ModifySecurityGroupPolicy => security_groups::modify_policy,
        AuthorizeSecurityGroup => rules::authorize,
        AuthorizeSecurityGroupEgress => rules::authorize,
        RevokeSecurityGroup => rules::revoke,
        RevokeSecurityGroupEgress => rules::revoke,
        ModifySecurityGroupRule => rules::modify,
        ModifySecurityGroupEgressRule => rules::modify,
        DescribeSecurityGroupReferences => rules::describe_references,
        CreatePrefixList => prefix_lists::create,
        DescribePrefixLists => prefix_lists::describe,
        DescribePrefixListAttributes => prefix_lists::describe_attributes,
        ModifyPrefixList => prefix_lists::modify,
        DeletePrefixList => prefix_lists::delete,
        DescribePrefixListAssociations => prefix_lists::describe_associations,
        RunInstances => instances::run,
        CreateInstance => instances::create,
        DescribeInstances => instances::describe,
        DescribeInstanceAttribute => instances::describe_attribute,
        StartInstance => instances::start,
        StopInstance => instances::stop,
        RebootInstance => instances::reboot,
        DeleteInstance => instances::delete,
        DeleteInstances => instances::delete_many,
        ModifyInstanceAttribute => instances::modify_attribute,
        JoinSecurityGroup => instances::join,
        LeaveSecurityGroup => instances::leave,
        TagResources => tags::tag_resources,
        UntagResources => tags::untag_resources,
        ListTagResources => tags::list_tag_resources,
    }
}
