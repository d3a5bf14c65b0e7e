//! VPCs and vSwitches as response nodes (docs/vpc.md §1.4, §3). VPC tags are `Key`/`Value`,
//! and a few lists carry the odd self-named wrappers (`RouterTableIds.RouterTableIds`).

use secgroup_domain::ops::vpcs::vswitches::VSwitchView;
use secgroup_domain::ops::vpcs::{VpcView, AVAILABLE};
use secgroup_domain::Tag;
use secgroup_rpc::render::ObjectBuilder;
use secgroup_rpc::Node;

use secgroup_api::render::time;

/// `Tags.Tag[]{Key, Value}` (VPC's own spelling; ECS says `TagKey`/`TagValue`).
pub fn tags(tags: &[Tag]) -> Node {
    Node::list(
        "Tag",
        tags.iter().map(|t| {
            Node::object()
                .str("Key", &t.key)
                .str("Value", &t.value)
                .build()
        }),
    )
}

fn strings(item: &'static str, values: &[String]) -> Node {
    Node::list(item, values.iter().map(Node::str))
}

fn empty(item: &'static str) -> Node {
    Node::list(item, [])
}

/// Account ids are numeric (`OwnerId` is a long); any other id reads as 0.
fn owner_id(account_id: &str) -> i64 {
    account_id.parse().unwrap_or(0)
}

fn dns_hostname_status(enabled: bool) -> &'static str {
    if enabled {
        "ENABLED"
    } else {
        "DISABLED"
    }
}

/// The fields `DescribeVpcs` and `DescribeVpcAttribute` share, in the documented order.
fn vpc_common(view: &VpcView) -> ObjectBuilder {
    let v = &view.vpc;
    let ipv6_blocks: Vec<Node> = if v.enable_ipv6 {
        vec![Node::object()
            .str("Ipv6CidrBlock", &v.ipv6_cidr_block)
            .str("Ipv6Isp", "BGP")
            .build()]
    } else {
        Vec::new()
    };
    Node::object()
        .str("VpcId", &v.id)
        .str("VpcName", &v.name)
        .str("Description", &v.description)
        .str("RegionId", &v.region_id)
        .str("Status", AVAILABLE)
        .bool("IsDefault", false)
        .str("CidrBlock", &v.cidr_block)
        .str("Ipv6CidrBlock", &v.ipv6_cidr_block)
        .field("Ipv6CidrBlocks", Node::list("Ipv6CidrBlock", ipv6_blocks))
        .bool("EnabledIpv6", v.enable_ipv6)
        .str("CreationTime", time(&v.creation_time))
        .str("VRouterId", &v.vrouter_id)
        .str("ResourceGroupId", &v.resource_group_id)
        .int("OwnerId", owner_id(&v.account_id))
        .field("VSwitchIds", strings("VSwitchId", &view.vswitch_ids))
        .field("UserCidrs", strings("UserCidr", &v.user_cidrs))
        .field("SecondaryCidrBlocks", empty("SecondaryCidrBlock"))
}

/// One entry of `DescribeVpcs`.
pub fn vpc_summary(view: &VpcView) -> Node {
    let v = &view.vpc;
    vpc_common(view)
        .field("NatGatewayIds", empty("NatGatewayIds"))
        .field(
            "RouterTableIds",
            strings("RouterTableIds", std::slice::from_ref(&v.route_table_id)),
        )
        .field("Tags", tags(&view.tags))
        .str("CenStatus", "")
        .str("DhcpOptionsSetId", "")
        .str("DhcpOptionsSetStatus", "")
        .str(
            "DnsHostnameStatus",
            dns_hostname_status(v.enable_dns_hostname),
        )
        .build()
}

/// The flat body of `DescribeVpcAttribute`.
pub fn vpc_attribute(view: &VpcView) -> Node {
    let v = &view.vpc;
    let resource = |kind: &str, count: usize| {
        Node::object()
            .str("ResourceType", kind)
            .int("ResourceCount", count as i64)
            .build()
    };
    let cloud_resources = [
        resource("VSwitch", view.vswitch_ids.len()),
        resource("VRouter", 1),
        resource("RouteTable", 1),
    ];
    vpc_common(view)
        .bool("ClassicLinkEnabled", false)
        .field("AssociatedCens", empty("AssociatedCen"))
        .field(
            "AssociatedPropagationSources",
            empty("AssociatedPropagationSources"),
        )
        .field(
            "CloudResources",
            Node::list("CloudResourceSetType", cloud_resources),
        )
        .str("DhcpOptionsSetId", "")
        .str("DhcpOptionsSetStatus", "")
        .str(
            "DnsHostnameStatus",
            dns_hostname_status(v.enable_dns_hostname),
        )
        .str("Ipv4GatewayId", "")
        .bool("SupportIpv4Gateway", false)
        .field("Tags", tags(&view.tags))
        .build()
}

/// A vSwitch: one entry of `DescribeVSwitches`, or the flat body of
/// `DescribeVSwitchAttributes`.
pub fn vswitch(view: &VSwitchView) -> Node {
    let s = &view.vswitch;
    Node::object()
        .str("VSwitchId", &s.id)
        .str("VSwitchName", &s.name)
        .str("Description", &s.description)
        .str("VpcId", &s.vpc_id)
        .str("ZoneId", &s.zone_id)
        .str("CidrBlock", &s.cidr_block)
        .str("Status", AVAILABLE)
        .bool("IsDefault", false)
        .int(
            "AvailableIpAddressCount",
            i64::try_from(view.available_ips).unwrap_or(i64::MAX),
        )
        .str("CreationTime", time(&s.creation_time))
        .str("Ipv6CidrBlock", "")
        .bool("EnabledIpv6", false)
        .str("ResourceGroupId", &view.vpc.resource_group_id)
        .str("NetworkAclId", "")
        .int("OwnerId", owner_id(&s.account_id))
        .str("ShareType", "")
        .field(
            "RouteTable",
            Node::object()
                .str("RouteTableId", &view.vpc.route_table_id)
                .str("RouteTableType", "System")
                .build(),
        )
        .field("Tags", tags(&view.tags))
        .build()
}
