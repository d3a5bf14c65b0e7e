//! Rule operations end to end: every validation row, identity and idempotence, revoke and
//! modify in both modes, references, quotas and the DescribeSecurityGroupAttribute view.

mod common;

use common::{create_group, create_vpc, TestClient, TestServer};
use serde_json::Value;

/// Action, parameters (`{sg}` basic group, `{esg}` advanced, `{other}` basic group in another VPC,
/// `{peer}` basic group in the same VPC, `{epeer}` advanced group in the same VPC), status, code.
type Row = (
    &'static str,
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
);

const A: &str = "AuthorizeSecurityGroup";
const E: &str = "AuthorizeSecurityGroupEgress";

const ROWS: &[Row] = &[
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "icmpx"),
            ("Permissions.1.PortRange", "-1/-1"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidIpProtocol.ValueNotSupported",
    ),
    (
        A,
        &[
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidIpProtocol.ValueNotSupported",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidPortRange.Malformed",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidParam.PortRange",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "0/10"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidParam.PortRange",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "30/20"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidParam.PortRange",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "udp"),
            ("Permissions.1.PortRange", "1/65536"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidParam.PortRange",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "-1/-1"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "OperationDenied",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "icmp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "OperationDenied",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRangeListId", "prl-x"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidPortRangeListId.NotFound",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourcePortRange", "x/y"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidSourcePortRange.Malformed",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.Policy", "allow"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidPolicy.Malformed",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.Priority", "high"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidPriority.Malformed",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.Priority", "0"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidPriority.ValueNotSupported",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.Priority", "101"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidPriority.ValueNotSupported",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.NicType", "wan"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidNicType.ValueNotSupported",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/33"),
        ],
        400,
        "InvalidSourceCidrIp.Malformed",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
            ("Permissions.1.DestCidrIp", "nope"),
        ],
        400,
        "InvalidDestCidrIp.Malformed",
    ),
    (
        E,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.DestCidrIp", "300.0.0.0/8"),
        ],
        400,
        "InvalidDestCidrIp.Malformed",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.Ipv6SourceCidrIp", "2001:zz::/32"),
        ],
        400,
        "InvalidParam.Ipv6SourceCidrIp",
    ),
    (
        E,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.Ipv6DestCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidParam.Ipv6DestCidrIp",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
            ("Permissions.1.Ipv6SourceCidrIp", "2001:db8::/32"),
        ],
        400,
        "InvalidParam.SourceIp",
    ),
    (
        E,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.DestCidrIp", "10.0.0.0/8"),
            ("Permissions.1.Ipv6DestCidrIp", "2001:db8::/32"),
        ],
        400,
        "InvalidParam.DestIp",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
        ],
        400,
        "MissingParameter.Source",
    ),
    (
        E,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "MissingParameter.Dest",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "icmp"),
            ("Permissions.1.PortRange", "-1/-1"),
            ("Permissions.1.Ipv6SourceCidrIp", "2001:db8::/32"),
        ],
        400,
        "InvalidParam.Ipv4ProtocolConflictWithIpv6Address",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "icmpv6"),
            ("Permissions.1.PortRange", "-1/-1"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidParam.Ipv6ProtocolConflictWithIpv4Address",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
            ("Permissions.1.Ipv6DestCidrIp", "2001:db8::/32"),
        ],
        400,
        "InvalidParameter.Conflict",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
            ("Permissions.1.DestCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidParamter.Conflict",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
            ("Permissions.1.Description", "https://x"),
        ],
        400,
        "InvalidSecurityGroupDiscription.Malformed",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
            ("IpProtocol", "tcp"),
        ],
        400,
        "InvalidParam.Permissions",
    ),
    (
        A,
        &[
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
            ("Permissions.2.IpProtocol", "TCP"),
            ("Permissions.2.PortRange", "22/22"),
            ("Permissions.2.SourceCidrIp", "10.0.0.0/8"),
            ("Permissions.2.Description", "same rule"),
        ],
        400,
        "InvalidParam.DuplicatePermissions",
    ),
    (
        A,
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceGroupId", "sg-doesnotexist000000"),
        ],
        404,
        "InvalidSourceGroupId.NotFound",
    ),
    (
        E,
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("DestGroupId", "sg-doesnotexist000000"),
        ],
        404,
        "InvalidDestGroupId.NotFound",
    ),
    (
        A,
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceGroupId", "{other}"),
        ],
        400,
        "InvalidSourceGroupId.Mismatch",
    ),
    (
        E,
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("DestGroupId", "{other}"),
        ],
        400,
        "InvalidDestGroupId.Mismatch",
    ),
    (
        A,
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceGroupId", "{epeer}"),
        ],
        400,
        "InvalidGroupAuthParameter.OperationDenied",
    ),
    (
        A,
        &[
            ("SecurityGroupId", "{esg}"),
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceGroupId", "{epeer}"),
        ],
        400,
        "InvalidGroupParameter.OperationDenied",
    ),
    (
        A,
        &[
            ("SecurityGroupId", "{esg}"),
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("Policy", "drop"),
            ("SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidGroupParameter.OperationDenied",
    ),
    (
        A,
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourcePrefixListId", "pl-doesnotexist0000000"),
        ],
        404,
        "InvalidPrefixListId.NotFound",
    ),
    (
        A,
        &[
            ("SecurityGroupId", "sg-doesnotexist000000"),
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceCidrIp", "10.0.0.0/8"),
        ],
        404,
        "InvalidSecurityGroupId.NotFound",
    ),
    (
        A,
        &[
            ("SecurityGroupId", "sg-bad!"),
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidSecurityGroupId.Malformed",
    ),
    (
        A,
        &[
            ("ClientToken", "ü"),
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidClientToken.ValueNotSupported",
    ),
    // ---- revoke ----
    (
        "RevokeSecurityGroup",
        &[("SecurityGroupRuleId.1", "sgr-doesnotexist00000000")],
        404,
        "InvalidSecurityGroupRuleId.NotFound",
    ),
    (
        "RevokeSecurityGroupEgress",
        &[("SecurityGroupRuleId.1", "sgr-doesnotexist00000000")],
        400,
        "InvalidSecurityGroupRule.RuleNotExist",
    ),
    (
        "RevokeSecurityGroup",
        &[
            ("SecurityGroupRuleId.1", "sgr-a"),
            ("SecurityGroupRuleId.2", "sgr-a"),
        ],
        400,
        "InvalidParam.SecurityGroupRuleIdRepeated",
    ),
    (
        "RevokeSecurityGroup",
        &[
            ("SecurityGroupRuleId.1", "sgr-a"),
            ("Permissions.1.IpProtocol", "tcp"),
        ],
        400,
        "InvalidParam.Permissions",
    ),
    (
        "RevokeSecurityGroup",
        &[("IpProtocol", "tcp"), ("PortRange", "22/22")],
        400,
        "MissingParameter.Source",
    ),
    (
        "RevokeSecurityGroupEgress",
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "80/70"),
            ("DestCidrIp", "10.0.0.0/8"),
        ],
        400,
        "InvalidParam.PortRange",
    ),
    // ---- modify ----
    (
        "ModifySecurityGroupRule",
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "9/9"),
            ("SourceCidrIp", "10.0.0.0/8"),
            ("Description", "x"),
        ],
        404,
        "SecurityGroupRule.NotFound",
    ),
    (
        "ModifySecurityGroupEgressRule",
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "9/9"),
            ("DestCidrIp", "10.0.0.0/8"),
            ("Description", "x"),
        ],
        404,
        "SecurityGroupRule.NotFound",
    ),
    (
        "ModifySecurityGroupRule",
        &[
            ("SecurityGroupRuleId", "sgr-doesnotexist00000000"),
            ("Description", "x"),
        ],
        404,
        "InvalidSecurityGroupRuleId.NotFound",
    ),
    // ---- references ----
    (
        "DescribeSecurityGroupReferences",
        &[],
        400,
        "InvalidSecurityGroupId.Malformed",
    ),
    (
        "DescribeSecurityGroupReferences",
        &[("SecurityGroupId.1", "sg-doesnotexist000000")],
        404,
        "InvalidSecurityGroupId.NotFound",
    ),
];

struct Groups {
    sg: String,
    esg: String,
    other: String,
    peer: String,
    epeer: String,
}

async fn groups(c: &TestClient) -> Groups {
    Groups {
        sg: create_group(c, &[]).await,
        esg: create_group(c, &[("SecurityGroupType", "enterprise")]).await,
        other: create_group(c, &[("VpcId", &create_vpc(c, &[]).await)]).await,
        peer: create_group(c, &[]).await,
        epeer: create_group(c, &[("SecurityGroupType", "enterprise")]).await,
    }
}

fn fill(value: &str, g: &Groups) -> String {
    value
        .replace("{sg}", &g.sg)
        .replace("{esg}", &g.esg)
        .replace("{other}", &g.other)
        .replace("{peer}", &g.peer)
        .replace("{epeer}", &g.epeer)
}

/// Calls `action` on `{sg}` unless the row names its own SecurityGroupId.
async fn call(c: &TestClient, g: &Groups, action: &str, params: &[(&str, &str)]) -> common::Reply {
    let mut owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), fill(v, g)))
        .collect();
    if action != "DescribeSecurityGroupReferences"
        && !params.iter().any(|(k, _)| *k == "SecurityGroupId")
    {
        owned.push(("SecurityGroupId".into(), g.sg.clone()));
    }
    let borrowed: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.call(action, &borrowed).await
}

fn rules_of(c: &Value) -> Vec<Value> {
    c["Permissions"]["Permission"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn attribute(c: &TestClient, sg: &str, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![("SecurityGroupId", sg)];
    params.extend_from_slice(extra);
    let r = c.call("DescribeSecurityGroupAttribute", &params).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[tokio::test]
async fn every_rule_error_row() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let g = groups(&c).await;
    let mut failures = Vec::new();
    for (action, params, status, code) in ROWS {
        let r = call(&c, &g, action, params).await;
        if r.status != *status || r.code() != *code {
            failures.push(format!(
                "{action} {params:?}: want {status} {code}, got {} {}",
                r.status, r.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for sg in [&g.sg, &g.esg] {
        assert!(
            rules_of(&attribute(&c, sg, &[]).await).is_empty(),
            "a refused request stored a rule"
        );
    }
}

#[tokio::test]
async fn authorize_is_idempotent_on_identity_and_renders_every_field() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let g = groups(&c).await;
    let ssh = [
        ("Permissions.1.IpProtocol", "tcp"),
        ("Permissions.1.PortRange", "22/22"),
        ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ("Permissions.1.Description", "ssh"),
    ];
    assert_eq!(call(&c, &g, A, &ssh).await.status, 200);
    // The same rule again (description aside) adds nothing; another priority is another rule.
    let again = [
        ("IpProtocol", "TCP"),
        ("PortRange", "22/22"),
        ("SourceCidrIp", "10.0.0.0/8"),
        ("Description", "other words"),
    ];
    assert_eq!(call(&c, &g, A, &again).await.status, 200);
    let prio = [
        ("IpProtocol", "tcp"),
        ("PortRange", "22/22"),
        ("SourceCidrIp", "10.0.0.0/8"),
        ("Priority", "5"),
    ];
    assert_eq!(call(&c, &g, A, &prio).await.status, 200);
    let egress_v6 = [
        ("IpProtocol", "icmpv6"),
        ("PortRange", "-1/-1"),
        ("Ipv6DestCidrIp", "2001:0DB8:0:0::/64"),
        ("Policy", "DROP"),
    ];
    assert_eq!(call(&c, &g, E, &egress_v6).await.status, 200);
    let group_rule = [
        ("IpProtocol", "all"),
        ("PortRange", "-1/-1"),
        ("SourceGroupId", g.peer.as_str()),
    ];
    assert_eq!(call(&c, &g, A, &group_rule).await.status, 200);
    // A group may name itself (docs/semantics.md §3.6).
    let own = [
        ("IpProtocol", "udp"),
        ("PortRange", "53/53"),
        ("SourceGroupId", g.sg.as_str()),
    ];
    assert_eq!(call(&c, &g, A, &own).await.status, 200, "self reference");

    let attr = attribute(&c, &g.sg, &[]).await;
    let rules = rules_of(&attr);
    assert_eq!(rules.len(), 5, "{attr}");
    let first = &rules[0];
    assert!(first["SecurityGroupRuleId"]
        .as_str()
        .is_some_and(|id| id.starts_with("sgr-") && id.len() == 24));
    for (k, v) in [
        ("Direction", "ingress"),
        ("Policy", "Accept"),
        ("Priority", "1"),
        ("IpProtocol", "TCP"),
        ("PortRange", "22/22"),
        ("SourceCidrIp", "10.0.0.0/8"),
        ("NicType", "intranet"),
        ("Description", "ssh"),
        ("DestCidrIp", ""),
        ("SourceGroupId", ""),
        ("SourcePortRange", ""),
        ("Ipv6SourceCidrIp", ""),
    ] {
        assert_eq!(first[k], v, "{k} in {first}");
    }
    assert!(first["CreateTime"]
        .as_str()
        .is_some_and(|t| t.len() == 20 && t.ends_with('Z')));
    assert_eq!(rules[1]["Priority"], "5");
    let v6 = &rules[2];
    assert_eq!(
        (
            v6["Direction"].as_str(),
            v6["IpProtocol"].as_str(),
            v6["Ipv6DestCidrIp"].as_str(),
            v6["Policy"].as_str()
        ),
        (
            Some("egress"),
            Some("ICMPv6"),
            Some("2001:db8::/64"),
            Some("Drop")
        )
    );
    assert_eq!(v6["PortRange"], "-1/-1");
    assert_eq!(rules[3]["SourceGroupId"], g.peer.as_str());
    assert_eq!(rules[3]["IpProtocol"], "ALL");

    // Filters and paging over rules.
    assert_eq!(
        rules_of(&attribute(&c, &g.sg, &[("Direction", "egress")]).await).len(),
        1
    );
    assert_eq!(
        rules_of(
            &attribute(
                &c,
                &g.sg,
                &[("Direction", "ingress"), ("NicType", "intranet")]
            )
            .await
        )
        .len(),
        4
    );
    let page1 = attribute(&c, &g.sg, &[("MaxResults", "10")]).await;
    assert_eq!(page1["NextToken"], "");
    let listed = c
        .call("DescribeSecurityGroups", &[("SecurityGroupId", &g.sg)])
        .await
        .json();
    let entry = &listed["SecurityGroups"]["SecurityGroup"][0];
    assert_eq!(
        (
            entry["RuleCount"].as_i64(),
            entry["GroupToGroupRuleCount"].as_i64()
        ),
        (Some(5), Some(2))
    );
}

#[tokio::test]
async fn revoke_and_modify_in_both_modes() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let g = groups(&c).await;
    let http = [
        ("IpProtocol", "tcp"),
        ("PortRange", "80/80"),
        ("SourceCidrIp", "0.0.0.0/0"),
        ("Description", "web"),
    ];
    let dns = [
        ("IpProtocol", "udp"),
        ("PortRange", "53/53"),
        ("DestCidrIp", "10.0.0.2"),
        ("Policy", "drop"),
    ];
    assert_eq!(call(&c, &g, A, &http).await.status, 200);
    assert_eq!(call(&c, &g, E, &dns).await.status, 200);

    // Terraform's modify: by parameters, description only, sent twice.
    let modify = [
        ("IpProtocol", "tcp"),
        ("PortRange", "80/80"),
        ("SourceCidrIp", "0.0.0.0/0"),
        ("Policy", "accept"),
        ("Priority", "1"),
        ("NicType", "intranet"),
        ("Description", "public web"),
    ];
    for _ in 0..2 {
        let r = call(&c, &g, "ModifySecurityGroupRule", &modify).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let rules = rules_of(&attribute(&c, &g.sg, &[]).await);
    assert_eq!(rules[0]["Description"], "public web");

    // By id: new values; the peer kind cannot change; a duplicate is refused.
    let id = rules[0]["SecurityGroupRuleId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let r = call(
        &c,
        &g,
        "ModifySecurityGroupRule",
        &[
            ("SecurityGroupRuleId", &id),
            ("PortRange", "8080/8080"),
            ("Priority", "3"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rules = rules_of(&attribute(&c, &g.sg, &[("Direction", "ingress")]).await);
    assert_eq!(
        (
            rules[0]["PortRange"].as_str(),
            rules[0]["Priority"].as_str(),
            rules[0]["SourceCidrIp"].as_str()
        ),
        (Some("8080/8080"), Some("3"), Some("0.0.0.0/0"))
    );
    let r = call(
        &c,
        &g,
        "ModifySecurityGroupRule",
        &[("SecurityGroupRuleId", &id), ("SourceGroupId", &g.peer)],
    )
    .await;
    assert_eq!(r.code(), "InvalidOperation.ModifySgRuleEntityType");
    let r = call(
        &c,
        &g,
        "ModifySecurityGroupRule",
        &[("SecurityGroupRuleId", &id), ("NicType", "internet")],
    )
    .await;
    assert_eq!(r.code(), "InvalidOperation.ModifyNicType");
    assert_eq!(
        call(
            &c,
            &g,
            A,
            &[
                ("IpProtocol", "tcp"),
                ("PortRange", "22/22"),
                ("SourceCidrIp", "0.0.0.0/0")
            ]
        )
        .await
        .status,
        200
    );
    let r = call(
        &c,
        &g,
        "ModifySecurityGroupRule",
        &[
            ("SecurityGroupRuleId", &id),
            ("PortRange", "22/22"),
            ("Priority", "1"),
        ],
    )
    .await;
    assert_eq!(r.code(), "InvalidOperation.RuleDuplicate");
    let r = call(
        &c,
        &g,
        "ModifySecurityGroupEgressRule",
        &[("SecurityGroupRuleId", &id), ("Description", "x")],
    )
    .await;
    assert_eq!(
        r.code(),
        "InvalidSecurityGroupRule.RuleNotExist",
        "an ingress id is not an egress rule"
    );

    // Terraform's revoke: flat parameters with an always-present Description; no match is fine.
    let revoke = [
        ("IpProtocol", "udp"),
        ("PortRange", "53/53"),
        ("DestCidrIp", "10.0.0.2"),
        ("Policy", "drop"),
        ("Priority", "1"),
        ("Description", ""),
    ];
    for _ in 0..2 {
        assert_eq!(
            call(&c, &g, "RevokeSecurityGroupEgress", &revoke)
                .await
                .status,
            200
        );
    }
    assert!(rules_of(&attribute(&c, &g.sg, &[("Direction", "egress")]).await).is_empty());
    // By id.
    let r = call(
        &c,
        &g,
        "RevokeSecurityGroup",
        &[("SecurityGroupRuleId.1", &id)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let left = rules_of(&attribute(&c, &g.sg, &[]).await);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["PortRange"], "22/22");
}

#[tokio::test]
async fn references_block_deletion_and_are_listed() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let g = groups(&c).await;
    // peer is named by sg's rule; sg names itself too.
    assert_eq!(
        call(
            &c,
            &g,
            A,
            &[
                ("IpProtocol", "tcp"),
                ("PortRange", "22/22"),
                ("SourceGroupId", &g.peer)
            ]
        )
        .await
        .status,
        200
    );
    assert_eq!(
        call(
            &c,
            &g,
            E,
            &[
                ("IpProtocol", "tcp"),
                ("PortRange", "22/22"),
                ("DestGroupId", &g.sg)
            ]
        )
        .await
        .status,
        200
    );
    let refs = c
        .call(
            "DescribeSecurityGroupReferences",
            &[("SecurityGroupId.1", &g.peer), ("SecurityGroupId.2", &g.sg)],
        )
        .await
        .json();
    assert_eq!(
        refs["SecurityGroupReferences"]["SecurityGroupReference"],
        serde_json::json!([
            {"SecurityGroupId": g.peer, "ReferencingSecurityGroups": {"ReferencingSecurityGroup": [{"SecurityGroupId": g.sg, "AliUid": c_account(&server, &c).await}]}},
            {"SecurityGroupId": g.sg, "ReferencingSecurityGroups": {"ReferencingSecurityGroup": []}},
        ])
    );
    let r = c
        .call("DeleteSecurityGroup", &[("SecurityGroupId", &g.peer)])
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "DependencyViolation"));
    // A self-reference does not block; deleting sg removes its rules and so frees peer.
    assert_eq!(
        c.call("DeleteSecurityGroup", &[("SecurityGroupId", &g.sg)])
            .await
            .status,
        200
    );
    assert_eq!(
        c.call("DeleteSecurityGroup", &[("SecurityGroupId", &g.peer)])
            .await
            .status,
        200
    );
}

async fn c_account(server: &TestServer, c: &TestClient) -> String {
    use secgroup_domain::Store;
    let id = c.key_id.clone();
    server
        .store
        .read(move |tx| tx.access_key(&id))
        .await
        .expect("read")
        .expect("key")
        .account_id
}

#[tokio::test]
async fn quotas_are_enforced() {
    let mut settings = secgroup::Settings::default();
    settings.products.limits.rules_per_group = 3;
    settings.products.limits.group_rules_per_group = 1;
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let g = groups(&c).await;
    let rule = |port: &'static str| {
        [
            ("IpProtocol", "tcp"),
            ("PortRange", port),
            ("SourceCidrIp", "10.0.0.0/8"),
        ]
    };
    assert_eq!(call(&c, &g, A, &rule("1/1")).await.status, 200);
    assert_eq!(
        call(
            &c,
            &g,
            A,
            &[
                ("IpProtocol", "tcp"),
                ("PortRange", "2/2"),
                ("SourceGroupId", &g.peer)
            ]
        )
        .await
        .status,
        200
    );
    let r = call(
        &c,
        &g,
        A,
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "3/3"),
            ("SourceGroupId", &g.peer),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "AuthorizedGroupRule.LimitExceed")
    );
    assert_eq!(
        call(
            &c,
            &g,
            E,
            &[
                ("IpProtocol", "tcp"),
                ("PortRange", "3/3"),
                ("DestCidrIp", "10.0.0.0/8")
            ]
        )
        .await
        .status,
        200
    );
    let r = call(&c, &g, A, &rule("4/4")).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "AuthorizationLimitExceed")
    );
    // An existing rule is still a success at the quota.
    assert_eq!(call(&c, &g, A, &rule("1/1")).await.status, 200);
    // A batch that would cross the quota adds nothing.
    assert_eq!(rules_of(&attribute(&c, &g.sg, &[]).await).len(), 3);
}

#[tokio::test]
async fn client_token_on_authorize() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let g = groups(&c).await;
    let p = [
        ("ClientToken", "tok-1"),
        ("IpProtocol", "tcp"),
        ("PortRange", "22/22"),
        ("SourceCidrIp", "10.0.0.0/8"),
    ];
    assert_eq!(call(&c, &g, A, &p).await.status, 200);
    assert_eq!(
        call(&c, &g, "RevokeSecurityGroup", &p[1..]).await.status,
        200
    );
    assert_eq!(call(&c, &g, A, &p).await.status, 200, "replay");
    assert!(
        rules_of(&attribute(&c, &g.sg, &[]).await).is_empty(),
        "the replay had no second effect"
    );
    let changed = [
        ("ClientToken", "tok-1"),
        ("IpProtocol", "tcp"),
        ("PortRange", "23/23"),
        ("SourceCidrIp", "10.0.0.0/8"),
    ];
    assert_eq!(
        call(&c, &g, A, &changed).await.code(),
        "IdempotentParameterMismatch"
    );
}
