//! The ECS product (API version 2014-05-26, docs/ecs.md §1.1): security groups, rules, prefix
//! lists, instances, network interfaces, tags and regions, as typed actions over the shared product base
//! ([`secgroup_api`]), with ECS's own wording of a few errors ([`errors`]).
#![forbid(unsafe_code)]

mod catalogue;
mod compute;
pub mod errors;
mod instances;
mod network_interfaces;
mod prefix_lists;
mod regions;
mod render;
mod rules;
mod security_groups;
mod tags;

use std::sync::Arc;

use secgroup_api::{Base, Input, ProductConfig};
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::RpcError;

pub const VERSION: &str = "2014-05-26";

/// The ECS product over a store.
pub struct Ecs<S> {
    base: Base<S>,
}

impl<S: Store> Ecs<S> {
    pub fn new(store: Arc<S>, config: Arc<ProductConfig>) -> Self {
        Ecs {
            base: Base::new(store, config),
        }
    }
}

impl<S: Store> secgroup_api::Product for Ecs<S> {
    type Store = S;
    const VERSION: &'static str = VERSION;
    const CODE: &'static str = "Ecs";
    fn base(&self) -> &Base<S> {
        &self.base
    }
    fn wording(err: &DomainError) -> Option<RpcError> {
        errors::wording(err)
    }
}

secgroup_api::actions! {
    Ecs<S: Store> {
        regions::DescribeRegions,
        security_groups::CreateSecurityGroup,
        security_groups::DeleteSecurityGroup,
        security_groups::DescribeSecurityGroups,
        security_groups::DescribeSecurityGroupAttribute,
        security_groups::ModifySecurityGroupAttribute,
        security_groups::ModifySecurityGroupPolicy,
        rules::AuthorizeSecurityGroup,
        rules::AuthorizeSecurityGroupEgress,
        rules::RevokeSecurityGroup,
        rules::RevokeSecurityGroupEgress,
        rules::ModifySecurityGroupRule,
        rules::ModifySecurityGroupEgressRule,
        rules::DescribeSecurityGroupReferences,
        prefix_lists::CreatePrefixList,
        prefix_lists::DescribePrefixLists,
        prefix_lists::DescribePrefixListAttributes,
        prefix_lists::ModifyPrefixList,
        prefix_lists::DeletePrefixList,
        prefix_lists::DescribePrefixListAssociations,
        instances::RunInstances,
        instances::CreateInstance,
        instances::DescribeInstances,
        instances::DescribeInstanceAttribute,
        instances::DescribeInstanceStatus,
        instances::StartInstance,
        instances::StopInstance,
        instances::RebootInstance,
        instances::DeleteInstance,
        instances::DeleteInstances,
        instances::ModifyInstanceAttribute,
        instances::JoinSecurityGroup,
        instances::LeaveSecurityGroup,
        network_interfaces::CreateNetworkInterface,
        network_interfaces::DeleteNetworkInterface,
        network_interfaces::DescribeNetworkInterfaces,
        network_interfaces::AttachNetworkInterface,
        network_interfaces::DetachNetworkInterface,
        network_interfaces::ModifyNetworkInterfaceAttribute,
        network_interfaces::AssignPrivateIpAddresses,
        network_interfaces::UnassignPrivateIpAddresses,
        tags::TagResources,
        tags::UntagResources,
        tags::ListTagResources,
        catalogue::DescribeZones,
        catalogue::DescribeInstanceTypeFamilies,
        catalogue::DescribeInstanceTypes,
        catalogue::DescribeImages,
        catalogue::DescribeAvailableResource,
        compute::CreateKeyPair,
        compute::ImportKeyPair,
        compute::DescribeKeyPairs,
        compute::DeleteKeyPairs,
        compute::DescribeDisks,
        compute::DescribeUserData,
    }
}

/// The non-empty values of a `Prefix.N` list, in N order: strings, or ids
/// (`Vec<SecurityGroupId>`, ...).
fn strings<T: for<'s> From<&'s str>>(p: &mut Input<'_>, prefix: &str) -> Vec<T> {
    p.string_list(prefix)
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(T::from)
        .collect()
}

/// `Tag.N.Key`/`Tag.N.Value` filters of a listing (a value without a key is a malformed
/// key), at most the per-request number of tags.
fn tag_filters(p: &mut Input<'_>) -> Result<Vec<(String, Option<String>)>, RpcError> {
    let malformed = p.error(DomainError::TagKeyMalformed);
    let filters = p.tag_filters_strict(|| malformed.clone())?;
    if filters.len() > secgroup_domain::validate::MAX_TAGS_PER_REQUEST {
        return Err(p.error(DomainError::TooManyTags(
            secgroup_domain::validate::MAX_TAGS_PER_REQUEST,
        )));
    }
    Ok(filters)
}

/// A count or size as a response integer.
fn i64_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A decoded, range-checked size as a length.
fn usize_of(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Decodes action `A` from `pairs` without HTTP, as the framework would.
#[cfg(test)]
fn decode<A: secgroup_api::Action<Ecs<secgroup_store_sqlite::SqliteStore>>>(
    pairs: &[(&str, &str)],
) -> Result<A, RpcError> {
    type P = Ecs<secgroup_store_sqlite::SqliteStore>;
    let params = secgroup_rpc::Params::from_pairs(pairs.iter().copied());
    let config = ProductConfig::default();
    let mut input = Input::new(
        &params,
        A::NAME,
        &config,
        secgroup_api::action::map_error::<P, A>,
    );
    A::decode(&mut input)
}
