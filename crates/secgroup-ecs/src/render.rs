//! Domain values as response nodes.

use secgroup_domain::ops::security_groups::{EcsCount, GroupView};
use secgroup_domain::{SecurityGroup, Tag};
use secgroup_rpc::Node;

/// `yyyy-MM-ddTHH:mm:ssZ`, UTC. Written field by field: large rule lists call it per rule,
/// and chrono's `format` re-parses its pattern every time.
pub fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn tags(tags: &[Tag]) -> Node {
    Node::list(
        "Tag",
        tags.iter().map(|t| {
            Node::object()
                .str("TagKey", &t.key)
                .str("TagValue", &t.value)
                .build()
        }),
    )
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn time_is_whole_seconds_utc() {
        let t = chrono::DateTime::parse_from_rfc3339("2021-08-31T03:12:29.987+00:00")
            .expect("time")
            .to_utc();
        assert_eq!(super::time(&t), "2021-08-31T03:12:29Z");
    }
}
