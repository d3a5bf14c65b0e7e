//! Security groups as response nodes (docs/ecs.md §3.3); times and tags are the shared
//! renderers of [`secgroup_api::render`].

use secgroup_api::render::{tags, time};
use secgroup_domain::ops::security_groups::{EcsCount, GroupView};
use secgroup_domain::SecurityGroup;
use secgroup_rpc::Node;

/// One entry of `DescribeSecurityGroups`.
pub fn group_summary(view: &GroupView, with_ecs_count: bool) -> Node {
    let g: &SecurityGroup = &view.group;
    let mut node = Node::object()
        .str("SecurityGroupId", &g.id)
        .str("SecurityGroupName", &g.name)
        .str("Description", &g.description)
        .str("SecurityGroupType", g.group_type.as_str())
        .str("VpcId", &g.vpc_id)
        .str("CreationTime", time(&g.creation_time))
        .str("ResourceGroupId", &g.resource_group_id)
        .bool("ServiceManaged", false)
        .int("RuleCount", view.rule_count as i64)
        .int("GroupToGroupRuleCount", view.group_rule_count as i64);
    if with_ecs_count {
        let count = view.ecs_count.unwrap_or(EcsCount {
            members: 0,
            available: 0,
        });
        node = node
            .int("EcsCount", i64::try_from(count.members).unwrap_or(i64::MAX))
            .int(
                "AvailableInstanceAmount",
                i64::try_from(count.available).unwrap_or(i64::MAX),
            );
    }
    node.field("Tags", tags(&view.tags)).build()
}
