//! Instance handlers (docs/ecs.md §7): decode, call the domain,
//! render. Launching is in [`launch`], listings in [`describe`] (the instance object in
//! [`view`]), the status machine and `ModifyInstanceAttribute` in [`lifecycle`], group
//! membership in [`membership`].

mod describe;
mod launch;
mod lifecycle;
mod membership;
mod view;

pub(crate) use describe::{describe, describe_attribute};
pub(crate) use launch::{create, run};
pub(crate) use lifecycle::{delete, delete_many, modify_attribute, reboot, start, stop};
pub(crate) use membership::{join, leave};

use secgroup_domain::DomainError;
use secgroup_rpc::{ParamCursor, RpcError};

use crate::decode;
use crate::errors::{from_domain, invalid};

/// The required `InstanceId` of the single-instance operations (which carry no `RegionId`;
/// a legacy SDK's `RegionId` is accepted and ignored).
fn instance_id(p: &mut ParamCursor<'_>) -> Result<String, RpcError> {
    p.optional("RegionId");
    Ok(p.required("InstanceId")?.to_string())
}

/// An optional non-negative integer parameter.
fn int(p: &mut ParamCursor<'_>, name: &str) -> Result<Option<i64>, RpcError> {
    decode::int_in(p, name, 0..=i64::from(u32::MAX), || invalid(name))
}

/// A count (`Amount`, `MinAmount`): a non-number is `err` too.
fn count(p: &mut ParamCursor<'_>, name: &str, err: DomainError) -> Result<Option<u32>, RpcError> {
    p.non_empty(name)
        .map(|v| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| from_domain(err.clone()))
        })
        .transpose()
}

/// `DryRun`, as a flag.
fn dry_run(p: &mut ParamCursor<'_>) -> Result<bool, RpcError> {
    Ok(decode::bool(p, "DryRun")?.unwrap_or(false))
}
