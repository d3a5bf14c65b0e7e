//! The instance actions (docs/ecs.md §7): launching in [`launch`], listings in [`describe`]
//! (the instance object in [`view`]), the status machine and `ModifyInstanceAttribute` in
//! [`lifecycle`], group membership in [`membership`].

mod describe;
mod launch;
mod lifecycle;
mod membership;
mod view;

pub use describe::{DescribeInstanceAttribute, DescribeInstanceStatus, DescribeInstances};
pub use launch::{CreateInstance, RunInstances};
pub use lifecycle::{
    DeleteInstance, DeleteInstances, ModifyInstanceAttribute, RebootInstance, StartInstance,
    StopInstance,
};
pub use membership::{JoinSecurityGroup, LeaveSecurityGroup};

use secgroup_api::Input;
use secgroup_domain::ids::InstanceId;
use secgroup_domain::DomainError;
use secgroup_rpc::RpcError;

use crate::errors::invalid;

/// The required `InstanceId` of the single-instance operations (which carry no `RegionId`;
/// a legacy SDK's `RegionId` is accepted and ignored).
fn instance_id(p: &mut Input<'_>) -> Result<InstanceId, RpcError> {
    p.optional("RegionId");
    Ok(InstanceId::new(p.required("InstanceId")?))
}

/// An optional non-negative integer parameter.
fn int(p: &mut Input<'_>, name: &str) -> Result<Option<i64>, RpcError> {
    p.int_in(name, 0..=i64::from(u32::MAX), || invalid(name))
}

/// A count (`Amount`, `MinAmount`): a non-number is `err` too.
fn count(p: &mut Input<'_>, name: &str, err: DomainError) -> Result<Option<u32>, RpcError> {
    match p.non_empty(name) {
        None => Ok(None),
        Some(v) => v.trim().parse::<u32>().map(Some).map_err(|_| p.error(err)),
    }
}
