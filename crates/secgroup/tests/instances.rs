//! ECS instances and their security-group membership end to end (docs/ecs.md §7,
//! §3.2). Here the shared helpers; by topic: launching and the
//! response shape (`instances/launch.rs`), filters, paging and isolation
//! (`instances/describe.rs`), the status machine (`instances/lifecycle.rs`), membership
//! (`instances/membership.rs`), elastic network interfaces (`instances/network_interfaces.rs`),
//! the table-driven error rows (`instances/errors.rs`) and the parallel-request properties
//! (`instances/concurrency.rs`).

mod common;
#[path = "instances/concurrency.rs"]
mod concurrency;
#[path = "instances/describe.rs"]
mod describe;
#[path = "instances/errors.rs"]
mod errors;
#[path = "instances/launch.rs"]
mod launch;
#[path = "instances/lifecycle.rs"]
mod lifecycle;
#[path = "instances/membership.rs"]
mod membership;
#[path = "instances/network_interfaces.rs"]
mod network_interfaces;

use common::{create_group, TestClient};
use serde_json::Value;

/// A VPC with one vSwitch (`cn-hangzhou-b`) and one basic group in it.
pub struct Net {
    pub vpc: String,
    pub vsw: String,
    pub sg: String,
}

pub async fn create_vpc(c: &TestClient, cidr: &str) -> String {
    common::create_vpc(c, &[("CidrBlock", cidr)]).await
}

pub async fn create_vswitch(c: &TestClient, vpc: &str, zone: &str, cidr: &str) -> String {
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[("VpcId", vpc), ("ZoneId", zone), ("CidrBlock", cidr)],
        )
        .await;
    assert_eq!(r.status, 200, "CreateVSwitch: {}", r.body);
    r.json()["VSwitchId"]
        .as_str()
        .expect("VSwitchId")
        .to_string()
}

/// VPC `10.0.0.0/8`, vSwitch `cidr` in `cn-hangzhou-b`, one basic group.
pub async fn net(c: &TestClient, cidr: &str) -> Net {
    let vpc = create_vpc(c, "10.0.0.0/8").await;
    let vsw = create_vswitch(c, &vpc, "cn-hangzhou-b", cidr).await;
    let sg = create_group(c, &[("VpcId", &vpc)]).await;
    Net { vpc, vsw, sg }
}

/// Sends one error-table row (`params` already filled in) and says what is wrong with the
/// answer: another status or code than expected, or an empty Message or RequestId.
pub async fn error_row_failure(
    c: &TestClient,
    action: &str,
    params: &[(String, String)],
    (status, code): (u16, &str),
) -> Option<String> {
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = c.call(action, &pairs).await;
    if (r.status, r.code()) != (status, code.to_string()) {
        return Some(format!(
            "{action} {params:?}: expected {status} {code}, got {} {}",
            r.status, r.body
        ));
    }
    let empty = |field: &str| r.json()[field].as_str().is_none_or(str::is_empty);
    (empty("Message") || empty("RequestId"))
        .then(|| format!("{action} {params:?}: empty Message or RequestId"))
}

/// A call's (status, Code); `""` on success.
pub async fn outcome(c: &TestClient, action: &str, params: &[(&str, &str)]) -> (u16, String) {
    let r = c.call(action, params).await;
    (r.status, r.code())
}

/// A successful call's JSON body.
pub async fn ok(c: &TestClient, action: &str, params: &[(&str, &str)]) -> Value {
    let r = c.call(action, params).await;
    assert_eq!(r.status, 200, "{action} {params:?}: {}", r.body);
    r.json()
}

/// `RunInstances` into `vsw` with `sg` (unless `extra` names other groups); the new ids.
pub async fn run(c: &TestClient, vsw: &str, sg: &str, extra: &[(&str, &str)]) -> Vec<String> {
    let mut params = vec![
        ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
        ("InstanceType", "ecs.g5.large"),
        ("VSwitchId", vsw),
    ];
    if !extra.iter().any(|(k, _)| k.starts_with("SecurityGroupId")) {
        params.push(("SecurityGroupId", sg));
    }
    params.extend_from_slice(extra);
    let body = ok(c, "RunInstances", &params).await;
    body["InstanceIdSets"]["InstanceIdSet"]
        .as_array()
        .expect("InstanceIdSet")
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect()
}

/// The instances `DescribeInstances` lists for these filters (one page of 100).
pub async fn listed(c: &TestClient, filters: &[(&str, &str)]) -> Vec<Value> {
    let mut params = filters.to_vec();
    params.push(("PageSize", "100"));
    let body = ok(c, "DescribeInstances", &params).await;
    body["Instances"]["Instance"]
        .as_array()
        .expect("Instances.Instance")
        .clone()
}

pub fn ids_of(instances: &[Value]) -> Vec<String> {
    instances
        .iter()
        .map(|i| i["InstanceId"].as_str().expect("id").to_string())
        .collect()
}

/// The instance as `DescribeInstances` shows it.
pub async fn describe_one(c: &TestClient, id: &str) -> Value {
    let filter = format!("[\"{id}\"]");
    let found = listed(c, &[("InstanceIds", &filter)]).await;
    assert_eq!(found.len(), 1, "{id}: {found:?}");
    found[0].clone()
}

pub fn groups_of(instance: &Value) -> Vec<String> {
    instance["SecurityGroupIds"]["SecurityGroupId"]
        .as_array()
        .expect("SecurityGroupIds.SecurityGroupId")
        .iter()
        .map(|g| g.as_str().expect("sg").to_string())
        .collect()
}

pub fn ip_of(instance: &Value) -> String {
    instance["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
        .as_str()
        .expect("ip")
        .to_string()
}

pub fn is_minute_time(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 17 && b[4] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b'Z'
}

/// The parameters of a `RunInstances` call (for `outcome`).
pub fn run_params<'a>(
    vsw: &'a str,
    sg: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("ImageId", "img"),
        ("InstanceType", "ecs.g5.large"),
        ("VSwitchId", vsw),
        ("SecurityGroupId", sg),
    ];
    p.extend_from_slice(extra);
    p
}
