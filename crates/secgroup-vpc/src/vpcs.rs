//! `CreateVpc`, `DescribeVpcs`, `DescribeVpcAttribute`, `ModifyVpcAttribute`, `DeleteVpc`
//! (docs/vpc.md §3.1–§3.5), each a typed action.

use secgroup_api::paging::Paging;
use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ids::VpcId;
use secgroup_domain::ops::vpcs::{self as ops, ModifyVpc, NewVpc, VpcFilter};
use secgroup_domain::{validate, DomainError, Store};
use secgroup_rpc::{Node, RpcError};

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

pub struct CreateVpc(NewVpc);

impl<S: Store> Action<Vpc<S>> for CreateVpc {
    const NAME: &'static str = "CreateVpc";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let new = NewVpc {
            region_id: p.region()?,
            cidr_block: p.non_empty("CidrBlock").map(str::to_string),
            name: p.optional("VpcName").unwrap_or("").to_string(),
            description: p.optional("Description").unwrap_or("").to_string(),
            resource_group_id: p.optional("ResourceGroupId").unwrap_or("").to_string(),
            user_cidrs: p.non_empty("UserCidr").map(str::to_string),
            enable_ipv6: p.bool("EnableIpv6")?.unwrap_or(false),
            ipv6_cidr_block: p.non_empty("Ipv6CidrBlock").map(str::to_string),
            enable_dns_hostname: p.bool("EnableDnsHostname")?.unwrap_or(false),
            tags: p.tags()?,
        };
        p.dry_run()?;
        for name in ACCEPTED_UNUSED {
            p.optional(name);
        }
        p.client_token_if_given()?;
        Ok(CreateVpc(new))
    }

    async fn run(self, cx: &Cx<'_, Vpc<S>>) -> Result<Node, RpcError> {
        let created = cx
            .write(move |tx, scope| {
                ops::create(
                    tx,
                    scope.account(),
                    &self.0,
                    &scope.config().limits,
                    scope.now(),
                )
            })
            .await?;
        Ok(Node::object()
            .str("VpcId", created.vpc_id)
            .str("VRouterId", created.vrouter_id)
            .str("RouteTableId", created.route_table_id)
            .str("ResourceGroupId", created.resource_group_id)
            .build())
    }
}

pub struct DescribeVpcs {
    region_id: String,
    filter: VpcFilter,
    paging: Paging,
}

impl<S: Store> Action<Vpc<S>> for DescribeVpcs {
    const NAME: &'static str = "DescribeVpcs";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
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
        filter.is_default = p.bool("IsDefault")?;
        filter.resource_group_id = p.non_empty("ResourceGroupId").map(str::to_string);
        filter.enable_ipv6 = p.bool("EnableIpv6")?;
        filter.dhcp_options_set_id = p.non_empty("DhcpOptionsSetId").map(str::to_string);
        filter.owner_id = p.int("VpcOwnerId")?.map(|id| id.to_string());
        filter.tags = crate::tag_filters(p)?;
        let paging = p.pages(1..=50, 10)?;
        p.dry_run()?;
        Ok(DescribeVpcs {
            region_id,
            filter,
            paging,
        })
    }

    async fn run(self, cx: &Cx<'_, Vpc<S>>) -> Result<Node, RpcError> {
        let paging = self.paging;
        let (total, views) = cx
            .read(move |tx, scope| {
                ops::list(
                    tx,
                    scope.account(),
                    &self.region_id,
                    &self.filter,
                    paging.window(),
                )
            })
            .await?;
        Ok(crate::page_header(total, paging)
            .field(
                "Vpcs",
                Node::list("Vpc", views.iter().map(render::vpc_summary)),
            )
            .build())
    }
}

pub struct DescribeVpcAttribute {
    region_id: String,
    id: VpcId,
}

impl<S: Store> Action<Vpc<S>> for DescribeVpcAttribute {
    const NAME: &'static str = "DescribeVpcAttribute";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let id = VpcId::new(p.required("VpcId")?);
        // Every VPC here is a non-default one; the flag narrows nothing.
        p.bool("IsDefault")?;
        p.dry_run()?;
        Ok(DescribeVpcAttribute { region_id, id })
    }

    async fn run(self, cx: &Cx<'_, Vpc<S>>) -> Result<Node, RpcError> {
        let view = cx
            .read(move |tx, scope| ops::view(tx, scope.account(), Some(&self.region_id), &self.id))
            .await?;
        Ok(render::vpc_attribute(&view))
    }
}

pub struct ModifyVpcAttribute(ModifyVpc);

impl<S: Store> Action<Vpc<S>> for ModifyVpcAttribute {
    const NAME: &'static str = "ModifyVpcAttribute";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.optional_region()?;
        let change = ModifyVpc {
            id: VpcId::new(p.required("VpcId")?),
            region_id,
            name: p.optional("VpcName").map(str::to_string),
            description: p.optional("Description").map(str::to_string),
            cidr_block: p.non_empty("CidrBlock").map(str::to_string),
            enable_ipv6: p.bool("EnableIPv6")?,
            ipv6_cidr_block: p.non_empty("Ipv6CidrBlock").map(str::to_string),
            enable_dns_hostname: p.bool("EnableDnsHostname")?,
        };
        p.optional("Ipv6Isp");
        Ok(ModifyVpcAttribute(change))
    }

    async fn run(self, cx: &Cx<'_, Vpc<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| ops::modify(tx, scope.account(), &self.0))
            .await?;
        Ok(Node::object().build())
    }
}

pub struct DeleteVpc {
    region_id: Option<String>,
    id: VpcId,
}

impl<S: Store> Action<Vpc<S>> for DeleteVpc {
    const NAME: &'static str = "DeleteVpc";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.optional_region()?;
        let id = VpcId::new(p.required("VpcId")?);
        // Only gateways and their routes would be force-deleted, and there are none here.
        p.bool("ForceDelete")?;
        p.dry_run()?;
        p.client_token_if_given()?;
        Ok(DeleteVpc { region_id, id })
    }

    async fn run(self, cx: &Cx<'_, Vpc<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            ops::delete(tx, scope.account(), self.region_id.as_deref(), &self.id)
        })
        .await?;
        Ok(Node::object().build())
    }
}

/// The refusal of a tag filter count past the per-request maximum.
pub(crate) fn too_many_tags() -> DomainError {
    DomainError::TooManyTags(validate::MAX_TAGS_PER_REQUEST)
}
