//! NIS reachability analysis through the API (docs/nis.md): every worked example of
//! docs/semantics.md §6 built with the ECS/VPC API and answered by CreateNetworkPath →
//! CreateNetworkReachableAnalysis → GetNetworkReachableAnalysis; the one-off
//! CreateAndAnalyzeNetworkPath; records that keep the state of their time; the error rows.

mod common;
#[path = "nis/errors.rs"]
mod errors;
#[path = "nis/records.rs"]
mod records;

use common::{create_vpc, Reply, TestClient, TestServer};
use serde_json::Value;

pub const NIS: &str = "2021-12-16";

pub async fn nis(c: &TestClient, action: &str, params: &[(&str, &str)]) -> Reply {
    c.call_version(NIS, action, params).await
}

pub async fn ok(reply: Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

pub async fn ecs_ok(c: &TestClient, action: &str, params: &[(&str, &str)]) -> Value {
    ok(c.call(action, params).await).await
}

/// One VPC (`10.0.0.0/8`) with one vSwitch (`10.0.0.0/24`) for a test's instances.
pub struct Lab {
    pub c: TestClient,
    pub vpc: String,
    pub vsw: String,
}

impl Lab {
    pub async fn new(server: &TestServer) -> Lab {
        let c = server.new_account().await;
        Lab::for_client(c).await
    }

    pub async fn for_client(c: TestClient) -> Lab {
        let vpc = create_vpc(&c, &[("CidrBlock", "10.0.0.0/8")]).await;
        let vsw = vswitch(&c, &vpc, "10.0.0.0/24").await;
        Lab { c, vpc, vsw }
    }

    /// A group in the lab's VPC: `normal` with this inner policy, or `enterprise`.
    pub async fn group(&self, kind: &str, policy: &str) -> String {
        self.group_in(&self.vpc, kind, policy).await
    }

    pub async fn group_in(&self, vpc: &str, kind: &str, policy: &str) -> String {
        let body = ecs_ok(
            &self.c,
            "CreateSecurityGroup",
            &[("VpcId", vpc), ("SecurityGroupType", kind)],
        )
        .await;
        let id = body["SecurityGroupId"].as_str().expect("id").to_string();
        if kind == "normal" && policy == "Drop" {
            ecs_ok(
                &self.c,
                "ModifySecurityGroupPolicy",
                &[("SecurityGroupId", &id), ("InnerAccessPolicy", "Drop")],
            )
            .await;
        }
        id
    }

    /// Authorizes one rule (`Permissions.1.*`) and returns its id.
    pub async fn rule(&self, group: &str, direction: &str, fields: &[(&str, &str)]) -> String {
        let action = match direction {
            "ingress" => "AuthorizeSecurityGroup",
            _ => "AuthorizeSecurityGroupEgress",
        };
        let keys: Vec<(String, &str)> = fields
            .iter()
            .map(|(k, v)| (format!("Permissions.1.{k}"), *v))
            .collect();
        let mut params: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        params.push(("SecurityGroupId", group));
        ecs_ok(&self.c, action, &params).await;
        let body = ecs_ok(
            &self.c,
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", group), ("Direction", direction)],
        )
        .await;
        let rules = body["Permissions"]["Permission"].as_array().expect("rules");
        rules.last().expect("a rule")["SecurityGroupRuleId"]
            .as_str()
            .expect("rule id")
            .to_string()
    }

    /// A running instance in `groups` (comma-separated), at `ip` when given.
    pub async fn instance(&self, groups: &[&str], ip: Option<&str>) -> String {
        self.instance_in(&self.vsw, groups, ip).await
    }

    pub async fn instance_in(&self, vsw: &str, groups: &[&str], ip: Option<&str>) -> String {
        let names: Vec<String> = (1..=groups.len())
            .map(|n| format!("SecurityGroupIds.{n}"))
            .collect();
        let mut params: Vec<(&str, &str)> = vec![
            ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
            ("InstanceType", "ecs.g5.large"),
            ("VSwitchId", vsw),
        ];
        params.extend(names.iter().map(String::as_str).zip(groups.iter().copied()));
        if let Some(ip) = ip {
            params.push(("PrivateIpAddress", ip));
        }
        let body = ecs_ok(&self.c, "RunInstances", &params).await;
        body["InstanceIdSets"]["InstanceIdSet"][0]
            .as_str()
            .expect("instance id")
            .to_string()
    }

    /// Stores the path (or finds it stored), analyses it, reads the analysis back.
    pub async fn analyse(&self, path: &[(&str, &str)]) -> Analysis {
        let mut params = vec![("NetworkPathName", "test path")];
        params.extend_from_slice(path);
        let created = nis(&self.c, "CreateNetworkPath", &params).await;
        // Asked again, the path exists already: its id is in the message.
        let path_id = if created.code() == "ResourceAlreadyExist.NetworkPath" {
            let message = created.json()["Message"]
                .as_str()
                .expect("message")
                .to_string();
            message
                .split_whitespace()
                .find(|w| w.starts_with("np-"))
                .expect("the existing path's id")
                .to_string()
        } else {
            let created = ok(created).await;
            created["NetworkPathId"]
                .as_str()
                .expect("path id")
                .to_string()
        };
        let analysis = ok(nis(
            &self.c,
            "CreateNetworkReachableAnalysis",
            &[("NetworkPathId", &path_id)],
        )
        .await)
        .await;
        let id = analysis["NetworkReachableAnalysisId"]
            .as_str()
            .expect("analysis id")
            .to_string();
        self.read(&id).await
    }

    pub async fn read(&self, id: &str) -> Analysis {
        let got = ok(nis(
            &self.c,
            "GetNetworkReachableAnalysis",
            &[("NetworkReachableAnalysisId", id)],
        )
        .await)
        .await;
        Analysis::from(got)
    }

    /// `ecs` → `ecs` over tcp to `port`.
    pub async fn tcp(&self, from: &str, to: &str, port: &str) -> Analysis {
        self.analyse(&[
            ("SourceId", from),
            ("SourceType", "ecs"),
            ("TargetId", to),
            ("TargetType", "ecs"),
            ("Protocol", "tcp"),
            ("TargetPort", port),
        ])
        .await
    }
}

pub async fn vswitch(c: &TestClient, vpc: &str, cidr: &str) -> String {
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", vpc),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrBlock", cidr),
            ],
        )
        .await;
    ok(r).await["VSwitchId"]
        .as_str()
        .expect("VSwitchId")
        .to_string()
}

/// A GetNetworkReachableAnalysis reply, with its result document parsed.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub reply: Value,
    pub reachable: bool,
    pub result: Value,
}

impl From<Value> for Analysis {
    fn from(reply: Value) -> Self {
        let text = reply["NetworkReachableAnalysisResult"]
            .as_str()
            .expect("the result is a JSON string");
        let result: Value = serde_json::from_str(text).expect("the result string is JSON");
        Analysis {
            reachable: reply["Reachable"]
                .as_bool()
                .expect("Reachable is a boolean"),
            reply,
            result,
        }
    }
}

impl Analysis {
    pub fn items(&self) -> Vec<Value> {
        self.result["securityGroupData"]["securityGroupItems"]
            .as_array()
            .expect("items")
            .clone()
    }
    /// The item whose matched rule is `rule_id`.
    pub fn rule_item(&self, rule_id: &str) -> Option<Value> {
        self.items()
            .into_iter()
            .find(|i| i["matchedRule"]["ruleId"] == rule_id)
    }
    pub fn decided_by(&self) -> String {
        self.result["explanation"]["decidedBy"]
            .as_str()
            .expect("decidedBy")
            .to_string()
    }
    pub fn error_code(&self) -> &str {
        self.result["errorCode"].as_str().expect("errorCode")
    }
}

// ---- the worked examples of docs/semantics.md §6, one per row ----

#[tokio::test]
async fn accept_policy_without_rules_allows_by_inner_access() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g1 = lab.group("normal", "Accept").await;
    let a = lab.instance(&[&g1], None).await;
    let b = lab.instance(&[&g1], None).await;
    let got = lab.tcp(&a, &b, "22").await;
    assert!(got.reachable, "{:?}", got.result);
    assert_eq!(got.error_code(), "");
    assert_eq!(got.reply["NetworkReachableAnalysisStatus"], "finish");
    assert_eq!(got.result["securityGroupData"]["policy"], "accept");
    assert!(got.decided_by().contains(&g1), "{}", got.decided_by());
    assert!(got
        .items()
        .iter()
        .all(|i| i["description"] == "inner_access_accept" && i["securityGroupId"] == *g1));
}

#[tokio::test]
async fn drop_policy_without_rules_denies_by_default_ingress_at_b() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g1 = lab.group("normal", "Drop").await;
    let a = lab.instance(&[&g1], None).await;
    let b = lab.instance(&[&g1], None).await;
    let got = lab.tcp(&a, &b, "22").await;
    assert!(!got.reachable);
    assert_eq!(got.error_code(), "SECURITY_GROUP_DENY");
    assert_eq!(got.result["status"], "security_group_checking_target");
    assert_eq!(got.result["securityGroupData"]["policy"], "drop");
    assert!(
        got.decided_by().contains("no ingress rule matches"),
        "{}",
        got.decided_by()
    );
    let blocking: Vec<Value> = got
        .items()
        .into_iter()
        .filter(|i| i["policy"] == "drop")
        .collect();
    assert_eq!(blocking.len(), 1, "{:?}", got.items());
    assert_eq!(blocking[0]["description"], "default_sg_access_rule");
    assert_eq!(blocking[0]["matchedRule"]["ruleId"], Value::Null);
}

#[tokio::test]
async fn drop_policy_with_self_referencing_ingress_rule_allows_then_an_egress_drop_denies() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g1 = lab.group("normal", "Drop").await;
    let accept = lab
        .rule(
            &g1,
            "ingress",
            &[
                ("IpProtocol", "tcp"),
                ("PortRange", "22/22"),
                ("SourceGroupId", &g1),
                ("Priority", "1"),
            ],
        )
        .await;
    let a = lab.instance(&[&g1], None).await;
    let b = lab.instance(&[&g1], None).await;
    let got = lab.tcp(&a, &b, "22").await;
    assert!(got.reachable, "{:?}", got.result);
    let item = got.rule_item(&accept).expect("the accept rule is reported");
    assert_eq!(item["description"], "user_acl_accept_rule");
    assert_eq!(item["matchedRule"]["direction"], "ingress");
    assert_eq!(item["matchedRule"]["sourceGroupId"], *g1);
    assert_eq!(item["matchedRule"]["priority"], "1");
    assert_eq!(item["matchedRule"]["portRange"], "22/22");
    assert_eq!(item["matchedRule"]["bizProtocol"], "TCP");

    // The next row: add an egress drop at A, priority 1.
    let drop = lab
        .rule(
            &g1,
            "egress",
            &[
                ("IpProtocol", "tcp"),
                ("PortRange", "22/22"),
                ("DestCidrIp", "0.0.0.0/0"),
                ("Policy", "drop"),
                ("Priority", "1"),
            ],
        )
        .await;
    let got = lab.tcp(&a, &b, "22").await;
    assert!(!got.reachable);
    assert_eq!(got.result["status"], "security_group_checking_source");
    let item = got.rule_item(&drop).expect("the drop rule is reported");
    assert_eq!(item["description"], "user_acl_drop_rule");
    assert_eq!(item["policy"], "drop");
    assert_eq!(item["matchedRule"]["destinationCidr"], "0.0.0.0/0");
    assert_eq!(item["matchedRule"]["policy"], "Drop");
    assert!(got.decided_by().contains(&drop), "{}", got.decided_by());
}

#[tokio::test]
async fn inner_access_accept_overrides_an_ingress_drop() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g1 = lab.group("normal", "Accept").await;
    lab.rule(
        &g1,
        "ingress",
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceCidrIp", "0.0.0.0/0"),
            ("Policy", "drop"),
        ],
    )
    .await;
    let a = lab.instance(&[&g1], None).await;
    let b = lab.instance(&[&g1], None).await;
    let got = lab.tcp(&a, &b, "22").await;
    assert!(got.reachable, "{:?}", got.result);
    assert!(
        got.decided_by().contains("InnerAccessPolicy Accept"),
        "{}",
        got.decided_by()
    );
}

/// B in G2: accept tcp 1/65535 from 10.0.0.0/8 at priority 10, drop tcp 22 from A's /32 at
/// `drop_priority`; A (10.0.0.5) in its own group.
async fn priority_lab(drop_priority: &str) -> (TestServer, Analysis, String, String) {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g2 = lab.group("normal", "Accept").await;
    let accept = lab
        .rule(
            &g2,
            "ingress",
            &[
                ("IpProtocol", "tcp"),
                ("PortRange", "1/65535"),
                ("SourceCidrIp", "10.0.0.0/8"),
                ("Priority", "10"),
            ],
        )
        .await;
    let drop = lab
        .rule(
            &g2,
            "ingress",
            &[
                ("IpProtocol", "tcp"),
                ("PortRange", "22/22"),
                ("SourceCidrIp", "10.0.0.5/32"),
                ("Policy", "drop"),
                ("Priority", drop_priority),
            ],
        )
        .await;
    let ga = lab.group("normal", "Accept").await;
    let a = lab.instance(&[&ga], Some("10.0.0.5")).await;
    let b = lab.instance(&[&g2], None).await;
    let got = lab.tcp(&a, &b, "22").await;
    (server, got, accept, drop)
}

#[tokio::test]
async fn at_equal_priority_drop_wins() {
    let (_server, got, _accept, drop) = priority_lab("10").await;
    assert!(!got.reachable);
    let item = got.rule_item(&drop).expect("drop reported");
    assert_eq!(item["matchedRule"]["priority"], "10");
    assert_eq!(item["matchedRule"]["sourceCidr"], "10.0.0.5/32");
}

#[tokio::test]
async fn a_smaller_priority_number_wins() {
    let (_server, got, accept, drop) = priority_lab("20").await;
    assert!(got.reachable, "{:?}", got.result);
    assert!(got.rule_item(&accept).is_some(), "{:?}", got.items());
    assert!(got.rule_item(&drop).is_none(), "{:?}", got.items());
}

#[tokio::test]
async fn enterprise_source_without_rules_is_denied_by_its_default_egress() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let e1 = lab.group("enterprise", "").await;
    let e2 = lab.group("enterprise", "").await;
    let a = lab.instance(&[&e1], Some("10.0.0.7")).await;
    lab.rule(
        &e2,
        "ingress",
        &[
            ("IpProtocol", "all"),
            ("PortRange", "-1/-1"),
            ("SourceCidrIp", "10.0.0.7/32"),
        ],
    )
    .await;
    let b = lab.instance(&[&e2], None).await;
    let got = lab.tcp(&a, &b, "80").await;
    assert!(!got.reachable);
    assert_eq!(got.result["status"], "security_group_checking_source");
    assert!(
        got.decided_by().contains("enterprise group default denies"),
        "{}",
        got.decided_by()
    );
}

#[tokio::test]
async fn different_vpcs_are_denied_whatever_the_rules() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let other_vpc = create_vpc(&lab.c, &[("CidrBlock", "172.16.0.0/12")]).await;
    let other_vsw = vswitch(&lab.c, &other_vpc, "172.16.0.0/24").await;
    let g1 = lab.group("normal", "Accept").await;
    let g2 = lab.group_in(&other_vpc, "normal", "Accept").await;
    lab.rule(
        &g2,
        "ingress",
        &[
            ("IpProtocol", "all"),
            ("PortRange", "-1/-1"),
            ("SourceCidrIp", "0.0.0.0/0"),
        ],
    )
    .await;
    let a = lab.instance(&[&g1], None).await;
    let b = lab.instance_in(&other_vsw, &[&g2], None).await;
    let got = lab.tcp(&a, &b, "22").await;
    assert!(!got.reachable);
    assert_eq!(got.error_code(), "ROUTE_NOT_FOUND");
    assert!(
        got.decided_by().contains("no route between VPCs"),
        "{}",
        got.decided_by()
    );
}
