//! Domain values as response nodes.

use secgroup_domain::ops::security_groups::{EcsCount, GroupView};
use secgroup_domain::{SecurityGroup, Tag};
use secgroup_rpc::Node;

/// `yyyy-MM-ddTHH:mm:ssZ`, UTC. Written digit by digit: large rule lists call it per rule,
/// and going through `format!` cost about 3,000 instructions a call (a tenth of rendering
/// a 1,000-rule group).
pub fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    let Ok(year4 @ 0..=9999) = u32::try_from(year) else {
        // Outside what four digits hold: the general (and rare) path.
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            year,
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
    };
    let mut out = String::with_capacity(20);
    push_2(&mut out, year4 / 100);
    push_2(&mut out, year4 % 100);
    out.push('-');
    push_2(&mut out, t.month());
    out.push('-');
    push_2(&mut out, t.day());
    out.push('T');
    push_2(&mut out, t.hour());
    out.push(':');
    push_2(&mut out, t.minute());
    out.push(':');
    push_2(&mut out, t.second());
    out.push('Z');
    out
}

/// Two digits of `n` (< 100), zero-padded.
fn push_2(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
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
    fn time_matches_the_general_format() {
        for text in [
            "0001-01-01T00:00:00Z",
            "1999-12-31T23:59:59Z",
            "2024-02-29T09:05:07Z",
            "9999-12-31T23:59:59Z",
        ] {
            let t = chrono::DateTime::parse_from_rfc3339(text)
                .expect("time")
                .to_utc();
            assert_eq!(super::time(&t), text);
            assert_eq!(super::time(&t), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }

    #[test]
    fn time_is_whole_seconds_utc() {
        let t = chrono::DateTime::parse_from_rfc3339("2021-08-31T03:12:29.987+00:00")
            .expect("time")
            .to_utc();
        assert_eq!(super::time(&t), "2021-08-31T03:12:29Z");
    }
}
