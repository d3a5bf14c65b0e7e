//! `CreateVSwitch`, `DescribeVSwitches`, `DescribeVSwitchAttributes`,
//! `ModifyVSwitchAttribute`, `DeleteVSwitch` (docs/vpc.md §3.6–§3.10), each a typed action.

use secgroup_api::paging::Paging;
use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ids::{VSwitchId, VpcId};
use secgroup_domain::ops::vpcs::vswitches::{self as ops, BlockRequest, NewVSwitch, VSwitchFilter};
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::{Node, RpcError};

use crate::errors::{invalid, miss_mandatory};
use crate::{render, Vpc};

/// IPv6 parameters of vSwitches: accepted, not simulated.
const IPV6_UNUSED: &[&str] = &[
    "Ipv6CidrBlock",
    "Ipv6CidrMask",
    "VpcIpv6CidrBlock",
    "EnableIPv6",
];

fn accept_ipv6_unused(p: &mut Input<'_>) {
    for name in IPV6_UNUSED {
        p.optional(name);
    }
}

pub struct CreateVSwitch(NewVSwitch);

impl<S: Store> Action<Vpc<S>> for CreateVSwitch {
    const NAME: &'static str = "CreateVSwitch";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.optional_region()?;
        let vpc_id = VpcId::new(p.required("VpcId")?);
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
            tags: p.tags()?,
        };
        accept_ipv6_unused(p);
        p.client_token_if_given()?;
        Ok(CreateVSwitch(new))
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
        Ok(Node::object().str("VSwitchId", created.vswitch_id).build())
    }
}

pub struct DescribeVSwitches {
    region_id: Option<String>,
    filter: VSwitchFilter,
    paging: Paging,
}

impl<S: Store> Action<Vpc<S>> for DescribeVSwitches {
    const NAME: &'static str = "DescribeVSwitches";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.optional_region()?;
        let mut text = |name: &str| p.non_empty(name).map(str::to_string);
        let mut filter = VSwitchFilter {
            vpc_id: text("VpcId"),
            id: text("VSwitchId"),
            name: text("VSwitchName"),
            zone_id: text("ZoneId"),
            ..VSwitchFilter::default()
        };
        filter.is_default = p.bool("IsDefault")?;
        filter.enable_ipv6 = p.bool("EnableIpv6")?;
        filter.resource_group_id = p.non_empty("ResourceGroupId").map(str::to_string);
        filter.route_table_id = p.non_empty("RouteTableId").map(str::to_string);
        filter.owner_id = p.int("VSwitchOwnerId")?.map(|id| id.to_string());
        filter.tags = crate::tag_filters(p)?;
        if region_id.is_none() && filter.vpc_id.is_none() {
            return Err(miss_mandatory());
        }
        let paging = p.pages(1..=50, 10)?;
        p.dry_run()?;
        Ok(DescribeVSwitches {
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
                    self.region_id.as_deref(),
                    &self.filter,
                    paging.window(),
                )
            })
            .await?;
        Ok(crate::page_header(total, paging)
            .field(
                "VSwitches",
                Node::list("VSwitch", views.iter().map(render::vswitch)),
            )
            .build())
    }
}

pub struct DescribeVSwitchAttributes {
    region_id: Option<String>,
    id: VSwitchId,
}

impl<S: Store> Action<Vpc<S>> for DescribeVSwitchAttributes {
    const NAME: &'static str = "DescribeVSwitchAttributes";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.optional_region()?;
        let id = VSwitchId::new(p.required("VSwitchId")?);
        p.dry_run()?;
        Ok(DescribeVSwitchAttributes { region_id, id })
    }

    async fn run(self, cx: &Cx<'_, Vpc<S>>) -> Result<Node, RpcError> {
        let view = cx
            .read(move |tx, scope| {
                ops::view(tx, scope.account(), self.region_id.as_deref(), &self.id)
            })
            .await?;
        Ok(render::vswitch(&view))
    }
}

pub struct ModifyVSwitchAttribute {
    region_id: Option<String>,
    id: VSwitchId,
    name: Option<String>,
    description: Option<String>,
}

impl<S: Store> Action<Vpc<S>> for ModifyVSwitchAttribute {
    const NAME: &'static str = "ModifyVSwitchAttribute";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.optional_region()?;
        let id = VSwitchId::new(p.required("VSwitchId")?);
        let name = p.optional("VSwitchName").map(str::to_string);
        let description = p.optional("Description").map(str::to_string);
        accept_ipv6_unused(p);
        Ok(ModifyVSwitchAttribute {
            region_id,
            id,
            name,
            description,
        })
    }

    async fn run(self, cx: &Cx<'_, Vpc<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            ops::modify(
                tx,
                scope.account(),
                self.region_id.as_deref(),
                &self.id,
                self.name.as_deref(),
                self.description.as_deref(),
            )
        })
        .await?;
        Ok(Node::object().build())
    }

    fn wording(err: &DomainError) -> Option<RpcError> {
        match err {
            DomainError::VSwitchNotFound(_) => Some(RpcError::new(
                404,
                "InvalidVSwitchId.NotFound",
                "The specified virtual switch does not exists.",
            )),
            _ => None,
        }
    }
}

pub struct DeleteVSwitch {
    region_id: Option<String>,
    id: VSwitchId,
}

impl<S: Store> Action<Vpc<S>> for DeleteVSwitch {
    const NAME: &'static str = "DeleteVSwitch";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.optional_region()?;
        let id = VSwitchId::new(p.required("VSwitchId")?);
        p.dry_run()?;
        Ok(DeleteVSwitch { region_id, id })
    }

    async fn run(self, cx: &Cx<'_, Vpc<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            ops::delete(tx, scope.account(), self.region_id.as_deref(), &self.id)
        })
        .await?;
        Ok(Node::object().build())
    }
}
