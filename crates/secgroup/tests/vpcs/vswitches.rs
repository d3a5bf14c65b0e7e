//! vSwitches end to end (docs/vpc.md §2, §3.6–§3.10): shapes, free addresses, the
//! CIDR rules and `CidrMask` allocation, filters, paging, modify, delete, quota, ClientToken.

use chrono::Utc;
use secgroup::Settings;
use secgroup_domain::network::{Instance, InstanceStatus};
use secgroup_domain::{Store, StoreError};
use serde_json::{json, Value};

use super::{body, create_vpc, create_vsw, is_id, is_utc_seconds, outcome};
use crate::common::{TestClient, TestServer};

/// The ids `DescribeVSwitches` lists with these parameters.
async fn listed(c: &TestClient, params: &[(&str, &str)]) -> Vec<String> {
    let b = body(c, "DescribeVSwitches", params).await;
    b["VSwitches"]["VSwitch"]
        .as_array()
        .expect("VSwitches.VSwitch")
        .iter()
        .map(|v| v["VSwitchId"].as_str().expect("id").to_string())
        .collect()
}

async fn attributes(c: &TestClient, id: &str) -> Value {
    body(c, "DescribeVSwitchAttributes", &[("VSwitchId", id)]).await
}

/// Puts an instance with one address into a vSwitch, straight through the store.
async fn place_instance(server: &TestServer, c: &TestClient, vpc: &str, vsw: &str, ip: &str) {
    let (key, vpc, vsw, ip) = (
        c.key_id.clone(),
        vpc.to_string(),
        vsw.to_string(),
        ip.to_string(),
    );
    server
        .store
        .write(move |tx| {
            let account = tx
                .access_key(&key)?
                .map(|k| k.account_id)
                .unwrap_or_default();
            let now = Utc::now();
            tx.insert_instance(&Instance {
                id: "i-vpctest0000000000001".into(),
                account_id: account,
                region_id: "cn-hangzhou".into(),
                zone_id: "cn-hangzhou-b".into(),
                vpc_id: vpc.clone(),
                vswitch_id: vsw.clone(),
                name: String::new(),
                description: String::new(),
                host_name: "host".into(),
                instance_type: "ecs.g7.large".into(),
                image_id: "img".into(),
                status: InstanceStatus::Running,
                status_since: now,
                creation_time: now,
                network_interface_id: "eni-vpctest00000000001".into(),
                mac_address: "00:16:3e:00:00:01".into(),
                private_ip: ip.clone(),
                security_group_ids: Vec::new(),
                attributes: "{}".into(),
            })
        })
        .await
        .map_err(|e: StoreError| e)
        .expect("instance");
}

#[tokio::test]
async fn shapes_free_addresses_and_dependencies() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let vpc = create_vpc(&c, &[("ResourceGroupId", "rg-9")]).await;
    let route_table = body(&c, "DescribeVpcs", &[]).await["Vpcs"]["Vpc"][0]["RouterTableIds"]
        ["RouterTableIds"][0]
        .clone();
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("RegionId", ""),
                ("VpcId", &vpc),
                ("ZoneId", "cn-hangzhou-k"),
                ("CidrBlock", "10.0.1.0/24"),
                ("VSwitchName", "web"),
                ("Description", "web tier"),
                ("Tag.1.Key", "tier"),
                ("Tag.1.Value", "web"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let created = r.json();
    assert!(is_id(&created["VSwitchId"], "vsw-"), "{created}");
    let id = created["VSwitchId"].as_str().expect("id");

    let mut attr = attributes(&c, id).await;
    assert!(is_utc_seconds(&attr["CreationTime"]), "{attr}");
    assert!(attr["OwnerId"].as_i64().is_some_and(|o| o > 0), "{attr}");
    for volatile in ["CreationTime", "OwnerId"] {
        attr.as_object_mut().map(|o| o.remove(volatile));
    }
    assert_eq!(
        attr,
        json!({
            "VSwitchId": id, "VSwitchName": "web", "Description": "web tier", "VpcId": vpc,
            "ZoneId": "cn-hangzhou-k", "CidrBlock": "10.0.1.0/24", "Status": "Available",
            "IsDefault": false, "AvailableIpAddressCount": 252, "Ipv6CidrBlock": "",
            "EnabledIpv6": false, "ResourceGroupId": "rg-9", "NetworkAclId": "", "ShareType": "",
            "RouteTable": {"RouteTableId": route_table, "RouteTableType": "System"},
            "Tags": {"Tag": [{"Key": "tier", "Value": "web"}]},
        })
    );
    let listed_one =
        &body(&c, "DescribeVSwitches", &[("VpcId", &vpc)]).await["VSwitches"]["VSwitch"][0];
    assert_eq!(listed_one["VSwitchId"], id);
    assert_eq!(listed_one["RouteTable"]["RouteTableType"], "System");
    let vpc_attr = body(&c, "DescribeVpcAttribute", &[("VpcId", &vpc)]).await;
    assert_eq!(vpc_attr["VSwitchIds"], json!({"VSwitchId": [id]}));
    assert_eq!(
        vpc_attr["CloudResources"]["CloudResourceSetType"][0]["ResourceCount"],
        1
    );
    let small = create_vsw(&c, &vpc, "10.0.2.0/29").await;
    assert_eq!(attributes(&c, &small).await["AvailableIpAddressCount"], 4);

    // An instance takes an address, and keeps its vSwitch (and so the VPC) alive.
    place_instance(&server, &c, &vpc, id, "10.0.1.10").await;
    assert_eq!(attributes(&c, id).await["AvailableIpAddressCount"], 251);
    let r = c.call_vpc("DeleteVSwitch", &[("VSwitchId", id)]).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "DependencyViolation".into()),
        "{}",
        r.body
    );
    assert_eq!(
        r.json()["Message"],
        "Specified object has dependent resources."
    );
    assert_eq!(
        outcome(&c, "DeleteVpc", &[("VpcId", &vpc)]).await,
        (400, "DependencyViolation.VSwitch".into())
    );

    body(&c, "DeleteVSwitch", &[("VSwitchId", &small)]).await;
    let r = c
        .call_vpc("DescribeVSwitchAttributes", &[("VSwitchId", &small)])
        .await;
    assert_eq!(
        (r.status, r.code()),
        (404, "InvalidVSwitchId.NotFound".into())
    );
    assert_eq!(r.json()["Message"], "VSwitch not exist.");
}

#[tokio::test]
async fn cidr_rules_and_mask_allocation() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let vpc = create_vpc(&c, &[]).await;
    let add = |params: Vec<(&'static str, String)>| {
        let (c, vpc) = (c.clone(), vpc.clone());
        async move {
            let mut all = vec![
                ("VpcId", vpc.clone()),
                ("ZoneId", "cn-hangzhou-b".to_string()),
            ];
            all.extend(params);
            let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = c.call_vpc("CreateVSwitch", &pairs).await;
            let id = r.json()["VSwitchId"].as_str().map(str::to_string);
            (r.status, r.code(), id)
        }
    };
    let cidr = |s: &str| vec![("CidrBlock", s.to_string())];
    let mask = |m: &str| vec![("CidrMask", m.to_string())];

    let (status, _, first) = add(cidr("10.0.1.0/24")).await;
    assert_eq!(status, 200);
    assert_eq!(
        add(cidr("10.0.1.128/25")).await.1,
        "InvalidCidrBlock.Overlapped"
    );
    assert_eq!(
        add(cidr("10.0.0.0/23")).await.1,
        "InvalidCidrBlock.Overlapped"
    );
    assert_eq!(add(cidr("10.1.0.0/24")).await.1, "InvalidParameter");
    assert_eq!(
        add(cidr("10.0.2.0/30")).await.1,
        "InvalidCirdrBlock.MaskLength"
    );
    assert_eq!(
        add(cidr("10.0.2.1/24")).await.1,
        "InvalidCidrBlock.Malformed"
    );
    assert_eq!(
        add(cidr("10.0.0.0/16")).await.1,
        "OperationDenied",
        "whole VPC beside a sibling"
    );

    // CidrMask takes the lowest free aligned block.
    let block_of = |id: Option<String>| {
        let c = c.clone();
        async move { attributes(&c, &id.expect("created")).await["CidrBlock"].clone() }
    };
    assert_eq!(block_of(add(mask("24")).await.2).await, "10.0.0.0/24");
    assert_eq!(block_of(add(mask("24")).await.2).await, "10.0.2.0/24");
    assert_eq!(block_of(add(mask("29")).await.2).await, "10.0.3.0/29");
    assert_eq!(add(mask("30")).await.1, "InvalidCirdrBlock.MaskLength");
    assert_eq!(add(mask("abc")).await.1, "InvalidParameter");
    assert_eq!(
        add(cidr("")).await.1,
        "MissingParameter",
        "neither CidrBlock nor CidrMask"
    );
    body(
        &c,
        "DeleteVSwitch",
        &[("VSwitchId", &first.expect("first"))],
    )
    .await;

    // A vSwitch spanning its whole VPC leaves room for no other.
    let whole = create_vpc(&c, &[("CidrBlock", "192.168.0.0/24")]).await;
    create_vsw(&c, &whole, "192.168.0.0/24").await;
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", &whole),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrMask", "26"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (403, "OperationDenied".into()),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn describe_vswitches_filters_and_pages() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let v1 = create_vpc(&c, &[]).await;
    let v2 = create_vpc(
        &c,
        &[("CidrBlock", "192.168.0.0/16"), ("ResourceGroupId", "rg-2")],
    )
    .await;
    let a = create_vsw(&c, &v1, "10.0.1.0/24").await;
    let b = create_vsw(&c, &v1, "10.0.2.0/24").await;
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", &v2),
                ("ZoneId", "cn-hangzhou-c"),
                ("CidrBlock", "192.168.1.0/24"),
                ("VSwitchName", "db"),
                ("Tag.1.Key", "tier"),
                ("Tag.1.Value", "db"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json()["VSwitchId"].as_str().expect("id").to_string();

    assert_eq!(listed(&c, &[]).await, [a.as_str(), b.as_str(), d.as_str()]);
    assert_eq!(
        listed(&c, &[("RegionId", ""), ("VpcId", &v1)]).await,
        [a.as_str(), b.as_str()],
        "region from the VPC"
    );
    assert_eq!(
        listed(&c, &[("ZoneId", "cn-hangzhou-c")]).await,
        [d.as_str()]
    );
    assert_eq!(listed(&c, &[("VSwitchName", "db")]).await, [d.as_str()]);
    assert_eq!(listed(&c, &[("VSwitchId", &b)]).await, [b.as_str()]);
    assert_eq!(
        listed(&c, &[("Tag.1.Key", "tier"), ("Tag.1.Value", "db")]).await,
        [d.as_str()]
    );
    assert_eq!(
        listed(&c, &[("ResourceGroupId", "rg-2")]).await,
        [d.as_str()]
    );
    assert!(listed(&c, &[("IsDefault", "true")]).await.is_empty());
    assert!(listed(&c, &[("VpcId", "vpc-unknown")]).await.is_empty());
    assert!(listed(&c, &[("RegionId", ""), ("VpcId", "vpc-unknown")])
        .await
        .is_empty());
    assert!(listed(&c, &[("RegionId", "cn-beijing")]).await.is_empty());
    let route_table = attributes(&c, &a).await["RouteTable"]["RouteTableId"].clone();
    let rt = route_table.as_str().expect("route table");
    assert_eq!(
        listed(&c, &[("RouteTableId", rt)]).await,
        [a.as_str(), b.as_str()]
    );

    let page = body(
        &c,
        "DescribeVSwitches",
        &[("PageSize", "2"), ("PageNumber", "2")],
    )
    .await;
    assert_eq!(
        (
            page["TotalCount"].clone(),
            page["PageNumber"].clone(),
            page["PageSize"].clone()
        ),
        (json!(3), json!(2), json!(2))
    );
    assert_eq!(page["VSwitches"]["VSwitch"][0]["VSwitchId"], d.as_str());
    assert!(
        listed(&server.new_account().await, &[]).await.is_empty(),
        "other account"
    );
}

#[tokio::test]
async fn modify_and_delete_vswitch() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let vpc = create_vpc(&c, &[]).await;
    let id = create_vsw(&c, &vpc, "10.0.1.0/24").await;
    body(
        &c,
        "ModifyVSwitchAttribute",
        &[("VSwitchId", &id), ("VSwitchName", "renamed")],
    )
    .await;
    body(
        &c,
        "ModifyVSwitchAttribute",
        &[
            ("RegionId", ""),
            ("VSwitchId", &id),
            ("Description", "words"),
        ],
    )
    .await;
    let a = attributes(&c, &id).await;
    assert_eq!(
        (a["VSwitchName"].clone(), a["Description"].clone()),
        (json!("renamed"), json!("words"))
    );
    let r = c
        .call_vpc(
            "ModifyVSwitchAttribute",
            &[("VSwitchId", "vsw-none"), ("VSwitchName", "x")],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (404, "InvalidVSwitchId.NotFound".into())
    );
    assert_eq!(
        r.json()["Message"],
        "The specified virtual switch does not exists."
    );
    let other = server.new_account().await;
    assert_eq!(
        outcome(&other, "DeleteVSwitch", &[("VSwitchId", &id)]).await,
        (404, "InvalidVSwitchId.NotFound".into())
    );
    body(&c, "DeleteVSwitch", &[("RegionId", ""), ("VSwitchId", &id)]).await;
    assert_eq!(
        outcome(&c, "DeleteVSwitch", &[("VSwitchId", &id)]).await,
        (404, "InvalidVSwitchId.NotFound".into())
    );
    body(&c, "DeleteVpc", &[("VpcId", &vpc)]).await;
}

#[tokio::test]
async fn vswitch_quota_and_client_token() {
    let mut settings = Settings::default();
    settings.products.limits.vswitches_per_vpc = 2;
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let vpc = create_vpc(&c, &[]).await;
    let params = [
        ("VpcId", vpc.as_str()),
        ("ZoneId", "cn-hangzhou-b"),
        ("CidrMask", "24"),
        ("ClientToken", "vsw-1"),
    ];
    let first = body(&c, "CreateVSwitch", &params).await;
    assert_eq!(body(&c, "CreateVSwitch", &params).await, first, "replayed");
    create_vsw(&c, &vpc, "10.0.9.0/24").await;
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", &vpc),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrMask", "24"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "QuotaExceeded.VSwitch".into()),
        "{}",
        r.body
    );
    assert_eq!(r.json()["Message"], "Virtual switch quota exceeded.");
    let other = create_vpc(&c, &[]).await;
    create_vsw(&c, &other, "10.0.0.0/24").await;
}
