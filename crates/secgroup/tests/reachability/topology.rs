//! A small network built through the ECS and VPC APIs, shared by the extension API and CLI
//! tests, and the call helper for the extension's version.
#![allow(dead_code)] // each test file uses its own subset

use serde_json::Value;

use crate::common::{Reply, TestClient};

pub const VERSION: &str = "x-secgroup-2026-11-01";

/// A call to the extension API (JSON; `RegionId` is `cn-hangzhou` unless given).
pub async fn ext(c: &TestClient, action: &str, params: &[(&str, &str)]) -> Reply {
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !params.iter().any(|(k, _)| *k == "RegionId") {
        all.push(("RegionId".into(), "cn-hangzhou".into()));
    }
    c.signed(
        "POST",
        action,
        all,
        &[("Format", "JSON"), ("Version", VERSION)],
    )
    .await
}

async fn ok(c: &TestClient, action: &str, params: &[(&str, &str)]) -> Value {
    let r = c.call(action, params).await;
    assert_eq!(r.status, 200, "{action} {params:?}: {}", r.body);
    r.json()
}

/// VPC 10.0.0.0/8 with one vSwitch, two basic groups and four running instances, oldest
/// first: `web` and `app` in `sg_web` (InnerAccessPolicy Accept); `db` and `batch` in
/// `sg_db` (Drop), which accepts TCP 22 from `sg_web` (priority 1) and drops egress TCP 3306
/// to anywhere (priority 1).
pub struct Topology {
    pub vpc: String,
    pub sg_web: String,
    pub sg_db: String,
    pub web: String,
    pub app: String,
    pub db: String,
    pub batch: String,
    pub db_ip: String,
}

impl Topology {
    pub async fn build(c: &TestClient) -> Topology {
        let r = c
            .call_vpc(
                "CreateVpc",
                &[("CidrBlock", "10.0.0.0/8"), ("VpcName", "prod")],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let vpc = r.json()["VpcId"].as_str().expect("VpcId").to_string();
        let r = c
            .call_vpc(
                "CreateVSwitch",
                &[
                    ("VpcId", &vpc),
                    ("ZoneId", "cn-hangzhou-b"),
                    ("CidrBlock", "10.1.0.0/24"),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let vsw = r.json()["VSwitchId"]
            .as_str()
            .expect("VSwitchId")
            .to_string();
        let group = |name: &'static str, policy: &'static str| {
            let vpc = vpc.clone();
            async move {
                let sg = ok(
                    c,
                    "CreateSecurityGroup",
                    &[("VpcId", &vpc), ("SecurityGroupName", name)],
                )
                .await["SecurityGroupId"]
                    .as_str()
                    .expect("id")
                    .to_string();
                ok(
                    c,
                    "ModifySecurityGroupPolicy",
                    &[("SecurityGroupId", &sg), ("InnerAccessPolicy", policy)],
                )
                .await;
                sg
            }
        };
        let sg_web = group("web", "Accept").await;
        let sg_db = group("db", "Drop").await;
        ok(
            c,
            "AuthorizeSecurityGroup",
            &[
                ("SecurityGroupId", &sg_db),
                ("IpProtocol", "tcp"),
                ("PortRange", "22/22"),
                ("SourceGroupId", &sg_web),
                ("Policy", "accept"),
                ("Priority", "1"),
            ],
        )
        .await;
        ok(
            c,
            "AuthorizeSecurityGroupEgress",
            &[
                ("SecurityGroupId", &sg_db),
                ("IpProtocol", "tcp"),
                ("PortRange", "3306/3306"),
                ("DestCidrIp", "0.0.0.0/0"),
                ("Policy", "drop"),
                ("Priority", "1"),
            ],
        )
        .await;
        let run = |name: &'static str, sg: String| {
            let vsw = vsw.clone();
            async move {
                let body = ok(
                    c,
                    "RunInstances",
                    &[
                        ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
                        ("InstanceType", "ecs.g5.large"),
                        ("VSwitchId", &vsw),
                        ("SecurityGroupId", &sg),
                        ("InstanceName", name),
                    ],
                )
                .await;
                body["InstanceIdSets"]["InstanceIdSet"][0]
                    .as_str()
                    .expect("id")
                    .to_string()
            }
        };
        let web = run("web", sg_web.clone()).await;
        let app = run("app", sg_web.clone()).await;
        let db = run("db", sg_db.clone()).await;
        let batch = run("batch", sg_db.clone()).await;
        let filter = format!("[\"{db}\"]");
        let listed = ok(c, "DescribeInstances", &[("InstanceIds", &filter)]).await;
        let db_ip = listed["Instances"]["Instance"][0]["VpcAttributes"]["PrivateIpAddress"]
            ["IpAddress"][0]
            .as_str()
            .expect("ip")
            .to_string();
        Topology {
            vpc,
            sg_web,
            sg_db,
            web,
            app,
            db,
            batch,
            db_ip,
        }
    }

    /// Every instance, oldest first.
    pub fn all(&self) -> Vec<String> {
        vec![
            self.web.clone(),
            self.app.clone(),
            self.db.clone(),
            self.batch.clone(),
        ]
    }
}

/// The id of the rule of `sg` with this `PortRange` (either direction).
pub async fn rule_id(c: &TestClient, sg: &str, port_range: &str) -> String {
    let attr = ok(
        c,
        "DescribeSecurityGroupAttribute",
        &[("SecurityGroupId", sg), ("Direction", "all")],
    )
    .await;
    attr["Permissions"]["Permission"]
        .as_array()
        .expect("permissions")
        .iter()
        .find(|p| p["PortRange"] == port_range)
        .and_then(|p| p["SecurityGroupRuleId"].as_str())
        .unwrap_or_else(|| panic!("no rule {port_range} in {attr}"))
        .to_string()
}
