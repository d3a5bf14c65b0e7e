//! `JoinSecurityGroup` and `LeaveSecurityGroup` (docs/ecs.md §7.10, §7.11): by
//! `InstanceId`, or by the instance's primary `NetworkInterfaceId` (which needs `RegionId`).

use chrono::Utc;
use secgroup_domain::ops::instances::membership::{self as ops, Change, Member};
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::{CallContext, Node, Params, RpcError};

use crate::errors::{from_domain, missing};
use crate::Ecs;

fn decode_change(
    ecs_regions: &secgroup_domain::regions::RegionCatalog,
    params: &Params,
    ctx: &CallContext,
) -> Result<(Member, String), RpcError> {
    let mut p = params.cursor();
    let region = p.non_empty("RegionId").map(str::to_string);
    if let Some(region) = &region {
        if !ecs_regions.contains(region) {
            return Err(from_domain(DomainError::RegionNotFound(region.clone())));
        }
    }
    let group_id = p.required("SecurityGroupId")?.to_string();
    let member = match (p.non_empty("InstanceId"), p.non_empty("NetworkInterfaceId")) {
        (Some(_), Some(_)) => {
            return Err(RpcError::new(
                403,
                "InvalidParam.EniIdAndInstanceId.Conflict",
                "The parameters InstanceId and NetworkInterfaceId cannot be specified at the same time.",
            ))
        }
        (Some(id), None) => Member::Instance(id.to_string()),
        (None, Some(id)) => Member::NetworkInterface {
            id: id.to_string(),
            region_id: region.ok_or_else(|| {
                RpcError::new(
                    400,
                    "MissingParameter.RegionId",
                    "The specified RegionId should not be null.",
                )
            })?,
        },
        (None, None) => return Err(missing("InstanceId")),
    };
    ctx.note_unread(&p);
    Ok((member, group_id))
}

async fn change<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
    joining: bool,
) -> Result<Node, RpcError> {
    let (member, group_id) = decode_change(&ecs.config.regions, params, ctx)?;
    let account = ctx.account_id.clone();
    let limits = ecs.config.limits.clone();
    let timings = ecs.config.instance_timings;
    ecs.write(move |tx| {
        let c = Change {
            account_id: &account,
            member: &member,
            group_id: &group_id,
            limits: &limits,
            timings: &timings,
        };
        if joining {
            ops::join(tx, &c, Utc::now())
        } else {
            ops::leave(tx, &c, Utc::now())
        }
    })
    .await?;
    Ok(Node::object().build())
}

pub async fn join<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    change(ecs, ctx, params, true).await
}

pub async fn leave<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    change(ecs, ctx, params, false).await
}
