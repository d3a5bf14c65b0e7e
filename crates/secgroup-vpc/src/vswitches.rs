//! `CreateVSwitch`, `DescribeVSwitches`, `DescribeVSwitchAttributes`,
//! `ModifyVSwitchAttribute`, `DeleteVSwitch` (docs/vpc.md §3.6–§3.10).

use chrono::Utc;
use secgroup_domain::ops::idempotency;
use secgroup_domain::ops::vpcs::vswitches::{self as ops, BlockRequest, NewVSwitch, VSwitchFilter};
use secgroup_domain::Store;
use secgroup_ecs::errors::dry_run_passed;
use secgroup_rpc::{CallContext, Node, Params, RpcError};

use crate::decode;
use crate::errors::{invalid, miss_mandatory};
use crate::{render, Vpc};

/// IPv6 parameters of vSwitches: accepted, not simulated.
const IPV6_UNUSED: &[&str] = &[
    "Ipv6CidrBlock",
    "Ipv6CidrMask",
    "VpcIpv6CidrBlock",
    "EnableIPv6",
];

pub async fn create<S: Store>(
    vpc: &Vpc<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::optional_region(&mut p, &vpc.config.regions)?;
    let vpc_id = p.required("VpcId")?.to_string();
    let zone_id = p.required("ZoneId")?.to_string();
    let block = match (p.non_empty("CidrBlock"), p.non_empty("CidrMask")) {
        (Some(cidr), _) => BlockRequest::Cidr(cidr.to_string()),
        (None, Some(mask)) => {
            BlockRequest::Mask(mask.trim().parse().map_err(|_| invalid("CidrMask"))?)
        }
        (None, None) => return Err(miss_mandatory()),
    };
    let new = NewVSwitch {
        region_id,
        vpc_id,
        zone_id,
        block,
        name: p.optional("VSwitchName").unwrap_or("").to_string(),
        description: p.optional("Description").unwrap_or("").to_string(),
        tags: decode::tags(&mut p)?,
    };
    for name in IPV6_UNUSED {
        p.optional(name);
    }
    let token = decode::client_token(ctx, params, &mut p)?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let limits = vpc.config.limits.clone();
    let created = vpc
        .write(&ctx.action, move |tx| {
            let now = Utc::now();
            idempotency::once(tx, &account, token.as_ref(), now, |tx| {
                ops::create(tx, &account, &new, &limits, now)
            })
        })
        .await?;
    Ok(Node::object().str("VSwitchId", created.vswitch_id).build())
}

pub async fn describe<S: Store>(
    vpc: &Vpc<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::optional_region(&mut p, &vpc.config.regions)?;
    let text =
        |p: &mut secgroup_rpc::ParamCursor<'_>, name: &str| p.non_empty(name).map(str::to_string);
    let filter = VSwitchFilter {
        vpc_id: text(&mut p, "VpcId"),
        id: text(&mut p, "VSwitchId"),
        name: text(&mut p, "VSwitchName"),
        zone_id: text(&mut p, "ZoneId"),
        is_default: decode::bool(&mut p, "IsDefault")?,
        enable_ipv6: decode::bool(&mut p, "EnableIpv6")?,
        resource_group_id: text(&mut p, "ResourceGroupId"),
        route_table_id: text(&mut p, "RouteTableId"),
        owner_id: decode::int(&mut p, "VSwitchOwnerId")?.map(|id| id.to_string()),
        tags: decode::tag_filters(&mut p)?,
    };
    if region_id.is_none() && filter.vpc_id.is_none() {
        return Err(miss_mandatory());
    }
    let page = decode::page(&mut p)?;
    let dry_run = decode::dry_run(&mut p)?;
    ctx.note_unread(&p);
    if dry_run {
        return Err(dry_run_passed());
    }
    let account = ctx.account_id.clone();
    let (total, views) = vpc
        .read(&ctx.action, move |tx| {
            ops::list(tx, &account, region_id.as_deref(), &filter, page)
        })
        .await?;
    Ok(Node::object()
        .int("TotalCount", total as i64)
        .int("PageNumber", page.number as i64)
        .int("PageSize", page.size as i64)
        .field(
            "VSwitches",
            Node::list("VSwitch", views.iter().map(render::vswitch)),
        )
        .build())
}

pub async fn describe_attributes<S: Store>(
    vpc: &Vpc<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::optional_region(&mut p, &vpc.config.regions)?;
    let id = p.required("VSwitchId")?.to_string();
    let dry_run = decode::dry_run(&mut p)?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let view = vpc
        .read(&ctx.action, move |tx| {
            ops::view(tx, &account, region_id.as_deref(), &id)
        })
        .await?;
    if dry_run {
        return Err(dry_run_passed());
    }
    Ok(render::vswitch(&view))
}

pub async fn modify_attribute<S: Store>(
    vpc: &Vpc<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::optional_region(&mut p, &vpc.config.regions)?;
    let id = p.required("VSwitchId")?.to_string();
    let name = p.optional("VSwitchName").map(str::to_string);
    let description = p.optional("Description").map(str::to_string);
    for name in IPV6_UNUSED {
        p.optional(name);
    }
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    vpc.write(&ctx.action, move |tx| {
        ops::modify(
            tx,
            &account,
            region_id.as_deref(),
            &id,
            name.as_deref(),
            description.as_deref(),
        )
    })
    .await?;
    Ok(Node::object().build())
}

pub async fn delete<S: Store>(
    vpc: &Vpc<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::optional_region(&mut p, &vpc.config.regions)?;
    let id = p.required("VSwitchId")?.to_string();
    let dry_run = decode::dry_run(&mut p)?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    vpc.write(&ctx.action, move |tx| {
        ops::delete(tx, &account, region_id.as_deref(), &id, dry_run)
    })
    .await?;
    Ok(Node::object().build())
}
