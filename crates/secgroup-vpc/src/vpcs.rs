//! `CreateVpc`, `DescribeVpcs`, `DescribeVpcAttribute`, `ModifyVpcAttribute`, `DeleteVpc`
//! (docs/vpc.md §3.1–§3.5): decode, call the domain, render.

use chrono::Utc;
use secgroup_domain::ops::idempotency;
use secgroup_domain::ops::vpcs::{self as ops, ModifyVpc, NewVpc, VpcFilter};
use secgroup_domain::Store;
use secgroup_ecs::errors::dry_run_passed;
use secgroup_rpc::{CallContext, Node, Params, RpcError};

use crate::decode;
use crate::errors::invalid;
use crate::{render, Vpc};

/// `DescribeVpcs.VpcId` holds at most this many comma-separated ids.
const MAX_VPC_IDS: usize = 20;

/// Parameters of IPv6 and IPAM that are accepted but not simulated.
const ACCEPTED_UNUSED: &[&str] = &[
    "Ipv6Isp",
    "Ipv6CidrMask",
    "Ipv6IpamPoolId",
    "Ipv4IpamPoolId",
    "Ipv4CidrMask",
];

pub async fn create<S: Store>(
    vpc: &Vpc<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let new = NewVpc {
        region_id: decode::region(&mut p, &vpc.config.regions)?,
        cidr_block: p.non_empty("CidrBlock").map(str::to_string),
        name: p.optional("VpcName").unwrap_or("").to_string(),
        description: p.optional("Description").unwrap_or("").to_string(),
        resource_group_id: p.optional("ResourceGroupId").unwrap_or("").to_string(),
        user_cidrs: p.non_empty("UserCidr").map(str::to_string),
        enable_ipv6: decode::bool(&mut p, "EnableIpv6")?.unwrap_or(false),
        ipv6_cidr_block: p.non_empty("Ipv6CidrBlock").map(str::to_string),
        enable_dns_hostname: decode::bool(&mut p, "EnableDnsHostname")?.unwrap_or(false),
        tags: decode::tags(&mut p)?,
        dry_run: decode::dry_run(&mut p)?,
    };
    for name in ACCEPTED_UNUSED {
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
    Ok(Node::object()
        .str("VpcId", created.vpc_id)
        .str("VRouterId", created.vrouter_id)
        .str("RouteTableId", created.route_table_id)
        .str("ResourceGroupId", created.resource_group_id)
        .build())
}

pub async fn describe<S: Store>(
    vpc: &Vpc<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &vpc.config.regions)?;
    let mut filter = VpcFilter::default();
    if let Some(ids) = p.non_empty("VpcId") {
        let ids: Vec<String> = ids
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .collect();
        if ids.len() > MAX_VPC_IDS {
            return Err(invalid("VpcId"));
        }
        filter.ids = Some(ids);
    }
    filter.name = p.non_empty("VpcName").map(str::to_string);
    filter.is_default = decode::bool(&mut p, "IsDefault")?;
    filter.resource_group_id = p.non_empty("ResourceGroupId").map(str::to_string);
    filter.enable_ipv6 = decode::bool(&mut p, "EnableIpv6")?;
    filter.dhcp_options_set_id = p.non_empty("DhcpOptionsSetId").map(str::to_string);
    filter.owner_id = decode::int(&mut p, "VpcOwnerId")?.map(|id| id.to_string());
    filter.tags = decode::tag_filters(&mut p)?;
    let page = decode::page(&mut p)?;
    let dry_run = decode::dry_run(&mut p)?;
    ctx.note_unread(&p);
    if dry_run {
        return Err(dry_run_passed());
    }
    let account = ctx.account_id.clone();
    let (total, views) = vpc
        .read(&ctx.action, move |tx| {
            ops::list(tx, &account, &region_id, &filter, page)
        })
        .await?;
    Ok(Node::object()
        .int("TotalCount", total as i64)
        .int("PageNumber", page.number as i64)
        .int("PageSize", page.size as i64)
        .field(
            "Vpcs",
            Node::list("Vpc", views.iter().map(render::vpc_summary)),
        )
        .build())
}

pub async fn describe_attribute<S: Store>(
    vpc: &Vpc<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &vpc.config.regions)?;
    let id = p.required("VpcId")?.to_string();
    // Every VPC here is a non-default one; the flag narrows nothing.
    decode::bool(&mut p, "IsDefault")?;
    let dry_run = decode::dry_run(&mut p)?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let view = vpc
        .read(&ctx.action, move |tx| {
            ops::view(tx, &account, Some(&region_id), &id)
        })
        .await?;
    if dry_run {
        return Err(dry_run_passed());
    }
    Ok(render::vpc_attribute(&view))
}

pub async fn modify_attribute<S: Store>(
    vpc: &Vpc<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::optional_region(&mut p, &vpc.config.regions)?;
    let change = ModifyVpc {
        id: p.required("VpcId")?.to_string(),
        region_id,
        name: p.optional("VpcName").map(str::to_string),
        description: p.optional("Description").map(str::to_string),
        cidr_block: p.non_empty("CidrBlock").map(str::to_string),
        enable_ipv6: decode::bool(&mut p, "EnableIPv6")?,
        ipv6_cidr_block: p.non_empty("Ipv6CidrBlock").map(str::to_string),
        enable_dns_hostname: decode::bool(&mut p, "EnableDnsHostname")?,
    };
    p.optional("Ipv6Isp");
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    vpc.write(&ctx.action, move |tx| ops::modify(tx, &account, &change))
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
    let id = p.required("VpcId")?.to_string();
    // Only gateways and their routes would be force-deleted, and there are none here.
    decode::bool(&mut p, "ForceDelete")?;
    let dry_run = decode::dry_run(&mut p)?;
    let token = decode::client_token(ctx, params, &mut p)?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    vpc.write(&ctx.action, move |tx| {
        idempotency::once(tx, &account, token.as_ref(), Utc::now(), |tx| {
            ops::delete(tx, &account, region_id.as_deref(), &id, dry_run)
        })
    })
    .await?;
    Ok(Node::object().build())
}
